//! [`AnyStore`]: the store chosen by `store = "..."` at run time.

use std::fmt;

use actix_web::cookie::time::Duration;
#[cfg(feature = "postgres")]
use session::storage::PostgresSessionStore;
#[cfg(feature = "redis")]
use session::storage::RedisSessionStore;
#[cfg(feature = "sqlite")]
use session::storage::SqliteSessionStore;
use session::storage::{
    CookieSessionStore, DeleteError, LoadError, MemorySessionStore, SaveError, SessionChanges,
    SessionKey, SessionState, SessionStore, UpdateError,
};

/// One of the stores this crate can configure, chosen at run time by `store`.
///
/// Every [`SessionStore`] method, including [`update_changes`](SessionStore::update_changes)
/// and [`refresh`](SessionStore::refresh), is delegated to the wrapped store, so each store
/// keeps its own behaviour (the memory store's partial updates, the cookie store's re-issued
/// keys). Clones share the underlying store.
#[derive(Clone)]
#[non_exhaustive]
pub enum AnyStore {
    /// `store = "memory"`.
    Memory(MemorySessionStore),
    /// `store = "cookie"`.
    Cookie(CookieSessionStore),
    /// `store = "redis"` (feature `redis`).
    #[cfg(feature = "redis")]
    Redis(RedisSessionStore),
    /// `store = "postgres"` (feature `postgres`).
    #[cfg(feature = "postgres")]
    Postgres(PostgresSessionStore),
    /// `store = "sqlite"` (feature `sqlite`).
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteSessionStore),
}

impl AnyStore {
    /// Which store this is, as spelled in the configuration.
    pub fn kind(&self) -> crate::config::StoreKind {
        match self {
            Self::Memory(_) => crate::config::StoreKind::Memory,
            Self::Cookie(_) => crate::config::StoreKind::Cookie,
            #[cfg(feature = "redis")]
            Self::Redis(_) => crate::config::StoreKind::Redis,
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => crate::config::StoreKind::Postgres,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => crate::config::StoreKind::Sqlite,
        }
    }
}

impl fmt::Debug for AnyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AnyStore").field(&self.kind()).finish()
    }
}

impl From<MemorySessionStore> for AnyStore {
    fn from(store: MemorySessionStore) -> Self {
        Self::Memory(store)
    }
}

impl From<CookieSessionStore> for AnyStore {
    fn from(store: CookieSessionStore) -> Self {
        Self::Cookie(store)
    }
}

#[cfg(feature = "redis")]
impl From<RedisSessionStore> for AnyStore {
    fn from(store: RedisSessionStore) -> Self {
        Self::Redis(store)
    }
}

#[cfg(feature = "postgres")]
impl From<PostgresSessionStore> for AnyStore {
    fn from(store: PostgresSessionStore) -> Self {
        Self::Postgres(store)
    }
}

#[cfg(feature = "sqlite")]
impl From<SqliteSessionStore> for AnyStore {
    fn from(store: SqliteSessionStore) -> Self {
        Self::Sqlite(store)
    }
}

/// Calls the same method on whichever store is inside.
macro_rules! delegate {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            AnyStore::Memory($store) => $call.await,
            AnyStore::Cookie($store) => $call.await,
            #[cfg(feature = "redis")]
            AnyStore::Redis($store) => $call.await,
            #[cfg(feature = "postgres")]
            AnyStore::Postgres($store) => $call.await,
            #[cfg(feature = "sqlite")]
            AnyStore::Sqlite($store) => $call.await,
        }
    };
}

impl SessionStore for AnyStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        delegate!(self, store => store.load(session_key))
    }

    async fn save(
        &self,
        session_state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        delegate!(self, store => store.save(session_state, ttl))
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        delegate!(self, store => store.update(session_key, session_state, ttl))
    }

    async fn update_ttl(
        &self,
        session_key: &SessionKey,
        ttl: &Duration,
    ) -> Result<(), UpdateError> {
        delegate!(self, store => store.update_ttl(session_key, ttl))
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), DeleteError> {
        delegate!(self, store => store.delete(session_key))
    }

    async fn update_changes(
        &self,
        session_key: SessionKey,
        changes: SessionChanges,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        delegate!(self, store => store.update_changes(session_key, changes, ttl))
    }

    fn owner_index(&self) -> Option<session::storage::SharedOwnerIndex> {
        match self {
            Self::Memory(store) => store.owner_index(),
            Self::Cookie(store) => store.owner_index(),
            #[cfg(feature = "redis")]
            Self::Redis(store) => store.owner_index(),
            #[cfg(feature = "postgres")]
            Self::Postgres(store) => store.owner_index(),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(store) => store.owner_index(),
        }
    }

    async fn refresh(
        &self,
        session_key: SessionKey,
        session_state: &SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        delegate!(self, store => store.refresh(session_key, session_state, ttl))
    }
}
