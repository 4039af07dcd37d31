//! The conformance suite against the stores that need no server.

use session::{
    storage::{CookieSessionStore, MemorySessionStore},
    test_helpers::acceptance_test_suite,
};

#[actix_web::test]
async fn cookie_store_passes_the_acceptance_suite() {
    acceptance_test_suite(CookieSessionStore::default, false).await;
}

#[actix_web::test]
async fn memory_store_passes_the_acceptance_suite() {
    let store = MemorySessionStore::new();
    acceptance_test_suite(move || store.clone(), true).await;
}
