//! Pluggable storage backends for session state.
//!
//! The middleware talks to a backend through the [`SessionStore`] trait. This crate ships:
//!
//! | store | where the state lives | survives restarts | shared by machines | invalidation on logout |
//! |---|---|---|---|---|
//! | [`CookieSessionStore`] | in the cookie itself (encrypted or signed) | yes | yes | no (a copied cookie stays valid until it expires) |
//! | [`MemorySessionStore`] | in this process | no | no | yes |
//! | `RedisSessionStore` (feature `redis-session`) | Redis / Redis Cluster | yes | yes | yes |
//! | `PostgresSessionStore` (feature `postgres-session`) | a Postgres table | yes | yes | yes |
//! | `SqliteSessionStore` (feature `sqlite-session`) | a SQLite file | yes | no (one machine) | yes |
//!
//! What the cookie and Redis stores write carries a format version: they read the formats
//! earlier releases wrote, and write the current one (see each store's documentation).
//!
//! [`redact_url`] turns a store URL into one fit for logs and error messages.

#[cfg(any(
    feature = "memory-session",
    feature = "redis-session",
    feature = "postgres-session",
    feature = "sqlite-session"
))]
mod collision;
mod interface;
mod key_generation;
mod owners;
mod redact;
mod session_key;

#[cfg(feature = "cookie-session")]
mod cookie;
#[cfg(feature = "memory-session")]
mod memory;
#[cfg(feature = "redis-session")]
pub(crate) mod redis;
#[cfg(any(feature = "postgres-session", feature = "sqlite-session"))]
mod sql;

pub use self::{
    interface::{
        BoxError, DeleteError, LoadError, SaveError, SessionChanges, SessionState, SessionStore,
        UpdateError,
    },
    key_generation::generate_session_key,
    owners::{OwnerError, OwnerIndex, OwnerLink, SessionInfo, SharedOwnerIndex},
    redact::redact_url,
    session_key::{InvalidSessionKeyError, SessionKey},
};

#[cfg(feature = "cookie-session")]
pub use self::cookie::CookieSessionStore;
#[cfg(feature = "memory-session")]
pub use self::memory::{MemorySessionStore, MemorySessionStoreBuilder};
#[cfg(feature = "redis-session")]
pub use self::redis::{
    NearCache, NearCacheStats, RedisActorSessionStore, RedisActorSessionStoreBuilder,
    RedisSessionStore, RedisSessionStoreBuilder, RedisStoreError,
};
#[cfg(any(feature = "postgres-session", feature = "sqlite-session"))]
pub use self::sql::SqlStoreError;
#[cfg(feature = "postgres-session")]
pub use self::sql::{PostgresSessionStore, PostgresSessionStoreBuilder};
#[cfg(feature = "sqlite-session")]
pub use self::sql::{SqliteSessionStore, SqliteSessionStoreBuilder};
