//! No lost updates: parallel requests on one session over a real HTTP server.

use session::{storage::MemorySessionStore, test_helpers::concurrency_test_suite};

#[actix_web::test]
async fn memory_store_loses_no_update() {
    let store = MemorySessionStore::new();
    concurrency_test_suite(move || store.clone()).await;
}

/// A store that writes the whole state on every change, as actix-session's stores do: it
/// implements only the five classic methods, so `update_changes` falls back to `update`.
#[derive(Clone)]
struct WholeStateStore(MemorySessionStore);

impl session::storage::SessionStore for WholeStateStore {
    async fn load(
        &self,
        key: &session::storage::SessionKey,
    ) -> Result<Option<session::storage::SessionState>, session::storage::LoadError> {
        self.0.load(key).await
    }

    async fn save(
        &self,
        state: session::storage::SessionState,
        ttl: &actix_web::cookie::time::Duration,
    ) -> Result<session::storage::SessionKey, session::storage::SaveError> {
        self.0.save(state, ttl).await
    }

    async fn update(
        &self,
        key: session::storage::SessionKey,
        state: session::storage::SessionState,
        ttl: &actix_web::cookie::time::Duration,
    ) -> Result<session::storage::SessionKey, session::storage::UpdateError> {
        self.0.update(key, state, ttl).await
    }

    async fn update_ttl(
        &self,
        key: &session::storage::SessionKey,
        ttl: &actix_web::cookie::time::Duration,
    ) -> Result<(), session::storage::UpdateError> {
        self.0.update_ttl(key, ttl).await
    }

    async fn delete(
        &self,
        key: &session::storage::SessionKey,
    ) -> Result<(), session::storage::DeleteError> {
        self.0.delete(key).await
    }
}

/// The suite can fail: a whole-state store loses the parallel writes.
#[actix_web::test]
#[should_panic(expected = "lost updates for keys")]
async fn a_whole_state_store_fails_the_suite() {
    let store = WholeStateStore(MemorySessionStore::new());
    concurrency_test_suite(move || store.clone()).await;
}
