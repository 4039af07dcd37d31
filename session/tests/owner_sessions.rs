//! A user's sessions: the owner scenarios against the memory store, the cookie store's
//! typed refusal, and what a failing owner index does to the request.

use session::{
    storage::{CookieSessionStore, MemorySessionStore},
    test_helpers::{owner_test_suite, owners},
};

#[actix_web::test]
async fn memory_store_passes_the_owner_suite() {
    owner_test_suite(|clock| MemorySessionStore::builder().clock(clock.clone()).build()).await;
}

#[actix_web::test]
async fn the_cookie_store_binds_but_cannot_list_or_revoke() {
    owners::stores_without_an_index_answer_unsupported(|_| CookieSessionStore::default()).await;
}
