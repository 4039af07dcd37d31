//! [`RedisActorSessionStore`]: the seed-era name, kept for source compatibility.

use std::{fmt, sync::Arc};

use actix_web::cookie::time::Duration;
use tokio::sync::OnceCell;

use super::{RedisSessionStore, RedisStoreError};
use crate::storage::{
    DeleteError, LoadError, SaveError, SessionChanges, SessionKey, SessionState, SessionStore,
    UpdateError, redact_url,
};

type KeyGen = Arc<dyn Fn(&str) -> String + Send + Sync + 'static>;

/// The seed-era Redis store: built synchronously, it connects on first use.
///
/// It accepts `"host:port"` or a `redis://` / `rediss://` URL and behaves exactly like a
/// [`RedisSessionStore`] with the default settings, to which it delegates. If connecting fails,
/// that request fails (an opaque `500`) and the next one tries again. New code should build a
/// [`RedisSessionStore`] at start-up instead, so that a wrong address fails fast.
///
/// ```no_run
/// use actix_web::{cookie::Key, App};
/// use session::{storage::RedisActorSessionStore, SessionMiddleware};
///
/// let store = RedisActorSessionStore::new("127.0.0.1:6379");
/// let app = App::new().wrap(SessionMiddleware::new(store, Key::generate()));
/// ```
#[derive(Clone)]
pub struct RedisActorSessionStore {
    url: Arc<str>,
    cache_keygen: Option<KeyGen>,
    store: Arc<OnceCell<RedisSessionStore>>,
}

/// Configures a [`RedisActorSessionStore`].
#[derive(Clone)]
#[must_use]
pub struct RedisActorSessionStoreBuilder {
    url: String,
    cache_keygen: Option<KeyGen>,
}

impl RedisActorSessionStore {
    /// A store on the Redis server at `addr` (`"host:port"` or a URL); it connects on first use.
    pub fn new(addr: impl Into<String>) -> Self {
        Self::builder(addr).build()
    }

    /// Configures a store on the Redis server at `addr` (`"host:port"` or a URL).
    pub fn builder(addr: impl Into<String>) -> RedisActorSessionStoreBuilder {
        RedisActorSessionStoreBuilder {
            url: to_url(addr.into()),
            cache_keygen: None,
        }
    }

    async fn store(&self) -> Result<&RedisSessionStore, RedisStoreError> {
        self.store
            .get_or_try_init(|| async {
                let mut builder = RedisSessionStore::builder(self.url.as_ref());
                if let Some(keygen) = &self.cache_keygen {
                    let keygen = Arc::clone(keygen);
                    builder = builder.cache_keygen(move |key: &str| keygen(key));
                }
                builder.build().await
            })
            .await
    }
}

impl RedisActorSessionStoreBuilder {
    /// Computes the Redis key of a session from its session key (default: `session:<key>`).
    pub fn cache_keygen<F>(mut self, keygen: F) -> Self
    where
        F: Fn(&str) -> String + Send + Sync + 'static,
    {
        self.cache_keygen = Some(Arc::new(keygen));
        self
    }

    /// Builds the store; nothing connects until the first request.
    pub fn build(self) -> RedisActorSessionStore {
        RedisActorSessionStore {
            url: self.url.into(),
            cache_keygen: self.cache_keygen,
            store: Arc::new(OnceCell::new()),
        }
    }
}

/// `host:port` becomes `redis://host:port`; URLs are kept.
fn to_url(addr: String) -> String {
    if addr.contains("://") {
        addr
    } else {
        format!("redis://{addr}")
    }
}

impl fmt::Debug for RedisActorSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisActorSessionStore")
            .field("url", &redact_url(&self.url))
            .field(
                "cache_keygen",
                &self.cache_keygen.as_ref().map(|_| "custom"),
            )
            .field("connected", &self.store.initialized())
            .finish()
    }
}

impl fmt::Debug for RedisActorSessionStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisActorSessionStoreBuilder")
            .field("url", &redact_url(&self.url))
            .field(
                "cache_keygen",
                &self.cache_keygen.as_ref().map(|_| "custom"),
            )
            .finish()
    }
}

impl SessionStore for RedisActorSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let store = self
            .store()
            .await
            .map_err(|err| LoadError::Other(err.into()))?;
        store.load(session_key).await
    }

    async fn save(&self, state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let store = self
            .store()
            .await
            .map_err(|err| SaveError::Other(err.into()))?;
        store.save(state, ttl).await
    }

    async fn update(
        &self,
        session_key: SessionKey,
        state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let store = self
            .store()
            .await
            .map_err(|err| UpdateError::Other(err.into()))?;
        store.update(session_key, state, ttl).await
    }

    async fn update_changes(
        &self,
        session_key: SessionKey,
        changes: SessionChanges,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let store = self
            .store()
            .await
            .map_err(|err| UpdateError::Other(err.into()))?;
        store.update_changes(session_key, changes, ttl).await
    }

    async fn update_ttl(
        &self,
        session_key: &SessionKey,
        ttl: &Duration,
    ) -> Result<(), UpdateError> {
        let store = self
            .store()
            .await
            .map_err(|err| UpdateError::Other(err.into()))?;
        store.update_ttl(session_key, ttl).await
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), DeleteError> {
        let store = self.store().await.map_err(|err| DeleteError(err.into()))?;
        store.delete(session_key).await
    }

    async fn refresh(
        &self,
        session_key: SessionKey,
        session_state: &SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let store = self
            .store()
            .await
            .map_err(|err| UpdateError::Other(err.into()))?;
        store.refresh(session_key, session_state, ttl).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_become_urls() {
        assert_eq!(
            to_url("127.0.0.1:6379".to_owned()),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(to_url("rediss://h:1".to_owned()), "rediss://h:1");
    }

    #[test]
    fn debug_hides_the_password() {
        let store = RedisActorSessionStore::new("redis://u:s3cret@127.0.0.1:1");
        let debug = format!("{store:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("u:***@127.0.0.1:1"), "{debug}");
    }
}
