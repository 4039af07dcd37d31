//! The SQL session stores on sqlx: [`PostgresSessionStore`] (feature `postgres-session`) and
//! [`SqliteSessionStore`] (feature `sqlite-session`).
//!
//! Both keep one row per session and share everything but their statements: the row id
//! ([`row_id`]), the store semantics ([`Core`], over a [`Backend`] per database), the
//! background sweeper ([`sweeper`]) and the error type ([`SqlStoreError`]).

mod error;
#[cfg(feature = "postgres-session")]
mod postgres;
#[cfg(feature = "sqlite-session")]
mod sqlite;
mod sweeper;

use std::{future::Future, sync::Arc, time::Duration as StdDuration};

use actix_web::cookie::time::Duration;
use sha2::{Digest as _, Sha256};

pub use self::error::SqlStoreError;
#[cfg(feature = "postgres-session")]
pub use self::postgres::{PostgresSessionStore, PostgresSessionStoreBuilder};
#[cfg(feature = "sqlite-session")]
pub use self::sqlite::{SqliteSessionStore, SqliteSessionStoreBuilder};
use super::{
    BoxError, DeleteError, LoadError, OwnerError, OwnerLink, SaveError, SessionChanges,
    SessionInfo, SessionKey, SessionState, UpdateError,
    collision::{self, KEY_ATTEMPTS},
    generate_session_key,
};
use crate::clock::Clock;

/// The default table name.
pub(crate) const DEFAULT_TABLE: &str = "sessions";
/// The default pause between two sweeps of expired rows.
pub(crate) const DEFAULT_SWEEP_INTERVAL: StdDuration = StdDuration::from_secs(60);
/// How many expired rows one sweep statement deletes.
pub(crate) const SWEEP_BATCH: i64 = 1000;
/// The default bound on waiting for a connection (connecting included).
pub(crate) const DEFAULT_CONNECT_TIMEOUT: StdDuration = StdDuration::from_secs(5);
/// The longest TTL written: 100 years, far from any overflow of the millisecond columns.
const MAX_TTL_MS: i64 = 100 * 365 * 24 * 60 * 60 * 1000;

/// The row id of a session: `1:` and the hex SHA-256 of the key. The key itself is never
/// stored, so a copy of the table (a backup, a read replica, a leaked dump) opens no session.
pub(crate) fn row_id(key: &SessionKey) -> String {
    use std::fmt::Write as _;

    let digest = Sha256::digest(key.as_ref().as_bytes());
    let mut id = String::with_capacity(2 + 2 * digest.len());
    id.push_str("1:");
    for byte in digest {
        let _ = write!(id, "{byte:02x}");
    }
    id
}

/// Checks a table or schema name: ASCII letters, digits and underscores, not starting with a
/// digit, at most 48 characters (so that index names derived from it stay within
/// Postgres's 63).
pub(crate) fn check_name(what: &'static str, name: &str) -> Result<(), SqlStoreError> {
    let valid = (1..=48).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if valid {
        Ok(())
    } else {
        Err(SqlStoreError::InvalidName {
            what,
            name: name.to_owned(),
        })
    }
}

/// A TTL in whole milliseconds: a positive TTL shorter than a millisecond counts as one.
fn ttl_millis(ttl: &Duration) -> i64 {
    let millis = ttl.whole_milliseconds();
    if millis <= 0 {
        i64::from(ttl.is_positive())
    } else {
        i64::try_from(millis).unwrap_or(MAX_TTL_MS).min(MAX_TTL_MS)
    }
}

/// The times a write stamps: now and the new expiry, in Unix milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamp {
    pub(crate) now: i64,
    pub(crate) expires_at: i64,
}

/// What a partial update writes: the entries set (key, value as JSON) and the keys removed.
#[derive(Debug, Default)]
pub(crate) struct Patch {
    pub(crate) set: Vec<(String, String)>,
    pub(crate) removed: Vec<String>,
}

/// The statements of one database. Every write is one statement; expiry is compared with the
/// `now` passed in (from the store's [`Clock`]), never with the database's clock.
pub(crate) trait Backend: Send + Sync + 'static {
    /// The state of the live row `id`, as JSON text.
    fn load(
        &self,
        id: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<String>, sqlx::Error>> + Send;
    /// Inserts row `id` unless a live row holds it (an expired one is replaced); whether it did.
    fn insert(
        &self,
        id: &str,
        data: &str,
        stamp: Stamp,
    ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;
    /// Replaces the state of the live row `id`; whether there was one.
    fn replace(
        &self,
        id: &str,
        data: &str,
        stamp: Stamp,
    ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;
    /// Sets and removes entries of the live row `id` in one statement; whether there was one.
    fn patch(
        &self,
        id: &str,
        patch: &Patch,
        stamp: Stamp,
    ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;
    /// Moves the expiry of the live row `id`; whether there was one.
    fn touch(
        &self,
        id: &str,
        stamp: Stamp,
    ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;
    /// Deletes row `id`.
    fn delete(&self, id: &str) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// Deletes up to `limit` expired rows; how many it deleted.
    fn delete_expired_batch(
        &self,
        now: i64,
        limit: i64,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;
    /// Sets the owner columns of the live row `id`.
    fn link(
        &self,
        id: &str,
        owner: &str,
        public_id: &str,
        now: i64,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// Clears the owner columns of session `public_id` of `owner`.
    fn unlink(
        &self,
        owner: &str,
        public_id: &str,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// The states of the live rows of `owner`.
    fn owner_states(
        &self,
        owner: &str,
        now: i64,
    ) -> impl Future<Output = Result<Vec<String>, sqlx::Error>> + Send;
    /// Deletes the rows linked to `owner` whose state names it too (only `only`, if given;
    /// all but `except`, if given) and returns how many of them were live.
    fn revoke(
        &self,
        owner: &str,
        only: Option<&str>,
        except: Option<&str>,
        now: i64,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;
}

/// What a SQL store's clones share: the backend, the runtime its connections live on, the
/// clock, and (through its drop) the sweeper's stop signal.
pub(crate) struct Core<B> {
    pub(crate) backend: Arc<B>,
    /// The runtime the store was built on. Every statement runs there: a connection's socket
    /// belongs to the runtime that opened it, and actix-web runs each worker on a runtime of
    /// its own (a worker that stops would take the pool's connections with it).
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) clock: Clock,
    /// Dropped with the store: that stops the sweeper.
    pub(crate) _stop_sweeper: Option<tokio::sync::oneshot::Sender<()>>,
}

/// One versioned schema change. Its statements name the table `{table}` (qualified and
/// quoted) and derive index names from `{name}` (the bare table name).
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) description: &'static str,
    pub(crate) statements: &'static [&'static str],
}

/// `template` with `{table}` and `{name}` filled in.
pub(crate) fn render(template: &str, table: &str, name: &str) -> String {
    template.replace("{table}", table).replace("{name}", name)
}

fn boxed(err: SqlStoreError) -> BoxError {
    Box::new(err)
}

impl<B: Backend> Core<B> {
    /// The store's parts for `backend`, on the current runtime, with the sweeper's stop
    /// signal.
    pub(crate) fn new(backend: B, clock: Clock, stop: tokio::sync::oneshot::Sender<()>) -> Self {
        Self {
            backend: Arc::new(backend),
            runtime: tokio::runtime::Handle::current(),
            clock,
            _stop_sweeper: Some(stop),
        }
    }

    /// Runs `call` on the store's runtime (see [`Core::runtime`]). A statement that started
    /// completes even if the request that asked for it goes away.
    async fn run<T, Fut>(&self, call: impl FnOnce(Arc<B>) -> Fut) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        Fut: Future<Output = Result<T, sqlx::Error>> + Send + 'static,
    {
        self.runtime
            .spawn(call(Arc::clone(&self.backend)))
            .await
            .map_err(|_| sqlx::Error::WorkerCrashed)?
    }

    fn stamp(&self, ttl: &Duration) -> Stamp {
        let now = self.clock.now_ms();
        Stamp {
            now,
            expires_at: now.saturating_add(ttl_millis(ttl)),
        }
    }

    pub(crate) async fn load(&self, key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let (id, now) = (row_id(key), self.clock.now_ms());
        let data = self
            .run(|b| async move { b.load(&id, now).await })
            .await
            .map_err(|err| LoadError::Other(boxed(SqlStoreError::database("load")(err))))?;
        data.map(|data| {
            serde_json::from_str::<SessionState>(&data).map_err(|err| {
                LoadError::Deserialization(boxed(SqlStoreError::InvalidRecord(err.to_string())))
            })
        })
        .transpose()
    }

    pub(crate) async fn save(
        &self,
        state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        if ttl_millis(ttl) <= 0 {
            tracing::debug!("a session with a TTL of zero or less is not stored");
            return Ok(generate_session_key());
        }
        let data: Arc<str> = serde_json::to_string(&state)
            .map_err(|err| SaveError::Serialization(Box::new(err)))?
            .into();
        let stamp = self.stamp(ttl);
        let stored =
            collision::insert_under_new_key("sql", KEY_ATTEMPTS, generate_session_key, |key| {
                let (id, data) = (row_id(key), Arc::clone(&data));
                self.run(move |b| async move { b.insert(&id, &data, stamp).await })
            })
            .await
            .map_err(|err| SaveError::Other(boxed(SqlStoreError::database("save")(err))))?;
        stored.ok_or_else(|| {
            SaveError::Other(boxed(SqlStoreError::KeyCollision {
                attempts: KEY_ATTEMPTS,
            }))
        })
    }

    pub(crate) async fn update(
        &self,
        key: SessionKey,
        state: &SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let data = serde_json::to_string(state)
            .map_err(|err| UpdateError::Serialization(Box::new(err)))?;
        let (id, stamp) = (row_id(&key), self.stamp(ttl));
        let written = self
            .run(|b| async move { b.replace(&id, &data, stamp).await })
            .await;
        found(written, "update").map(|()| key)
    }

    pub(crate) async fn update_changes(
        &self,
        key: SessionKey,
        changes: SessionChanges,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        if changes.is_cleared() {
            return self.update(key, changes.state(), ttl).await;
        }
        let mut patch = Patch::default();
        for (entry, value) in changes.changed() {
            match value {
                Some(value) => {
                    let json = serde_json::to_string(value)
                        .map_err(|err| UpdateError::Serialization(Box::new(err)))?;
                    patch.set.push((entry.to_owned(), json));
                }
                None => patch.removed.push(entry.to_owned()),
            }
        }
        let (id, stamp) = (row_id(&key), self.stamp(ttl));
        let written = self
            .run(|b| async move { b.patch(&id, &patch, stamp).await })
            .await;
        found(written, "update").map(|()| key)
    }

    pub(crate) async fn update_ttl(
        &self,
        key: &SessionKey,
        ttl: &Duration,
    ) -> Result<(), UpdateError> {
        let (id, stamp) = (row_id(key), self.stamp(ttl));
        let touched = self.run(|b| async move { b.touch(&id, stamp).await }).await;
        found(touched, "update_ttl")
    }

    pub(crate) async fn delete(&self, key: &SessionKey) -> Result<(), DeleteError> {
        let id = row_id(key);
        self.run(|b| async move { b.delete(&id).await })
            .await
            .map_err(|err| DeleteError(boxed(SqlStoreError::database("delete")(err))))
    }

    /// Deletes every expired row, a batch per statement; how many it deleted.
    pub(crate) async fn delete_expired(&self) -> Result<u64, SqlStoreError> {
        let now = self.clock.now_ms();
        let mut total = 0;
        loop {
            let deleted = self
                .run(|b| async move { b.delete_expired_batch(now, SWEEP_BATCH).await })
                .await
                .map_err(SqlStoreError::database("delete_expired"))?;
            total += deleted;
            if deleted < SWEEP_BATCH.unsigned_abs() {
                return Ok(total);
            }
            // Let the requests waiting for the table go first.
            tokio::task::yield_now().await;
        }
    }

    pub(crate) async fn link_owner(&self, link: OwnerLink<'_>) -> Result<(), OwnerError> {
        let (id, now) = (row_id(link.key), self.clock.now_ms());
        let (owner, public_id) = (link.owner.to_owned(), link.public_id.to_owned());
        self.run(|b| async move { b.link(&id, &owner, &public_id, now).await })
            .await
            .map_err(owner_error("link_owner"))
    }

    pub(crate) async fn unlink_owner(
        &self,
        owner: &str,
        public_id: &str,
    ) -> Result<(), OwnerError> {
        let (owner, public_id) = (owner.to_owned(), public_id.to_owned());
        self.run(|b| async move { b.unlink(&owner, &public_id).await })
            .await
            .map_err(owner_error("unlink_owner"))
    }

    /// The live sessions of `owner` whose state still names it, newest activity first.
    pub(crate) async fn owner_sessions(&self, owner: &str) -> Result<Vec<SessionInfo>, OwnerError> {
        let (name, now) = (owner.to_owned(), self.clock.now_ms());
        let states = self
            .run(|b| async move { b.owner_states(&name, now).await })
            .await
            .map_err(owner_error("owner_sessions"))?;
        let mut sessions: Vec<SessionInfo> = states
            .iter()
            .filter_map(|data| serde_json::from_str::<SessionState>(data).ok())
            .filter_map(|state| SessionInfo::from_stored(&state))
            .filter(|(_, named)| named.as_deref() == Some(owner))
            .map(|(info, _)| info)
            .collect();
        sessions.sort_by_key(|info| std::cmp::Reverse(info.last_seen));
        Ok(sessions)
    }

    pub(crate) async fn revoke(
        &self,
        owner: &str,
        only: Option<&str>,
        except: Option<&str>,
    ) -> Result<usize, OwnerError> {
        let (owner, now) = (owner.to_owned(), self.clock.now_ms());
        let (only, except) = (only.map(str::to_owned), except.map(str::to_owned));
        let revoked = self
            .run(|b| async move {
                b.revoke(&owner, only.as_deref(), except.as_deref(), now)
                    .await
            })
            .await
            .map_err(owner_error("revoke"))?;
        Ok(usize::try_from(revoked).unwrap_or(usize::MAX))
    }

    /// Runs the backend's migrations on the store's runtime.
    pub(crate) async fn migrate<Fut>(
        &self,
        migrate: impl FnOnce(Arc<B>) -> Fut,
    ) -> Result<(), SqlStoreError>
    where
        Fut: Future<Output = Result<(), SqlStoreError>> + Send + 'static,
    {
        self.runtime
            .spawn(migrate(Arc::clone(&self.backend)))
            .await
            .map_err(|_| SqlStoreError::Migrate {
                version: 0,
                source: sqlx::Error::WorkerCrashed,
            })?
    }
}

/// A write that needed a live row: `NotFound` when there was none.
fn found(written: Result<bool, sqlx::Error>, operation: &'static str) -> Result<(), UpdateError> {
    match written {
        Ok(true) => Ok(()),
        Ok(false) => Err(UpdateError::NotFound),
        Err(err) => Err(UpdateError::Other(boxed(SqlStoreError::database(
            operation,
        )(err)))),
    }
}

fn owner_error(operation: &'static str) -> impl FnOnce(sqlx::Error) -> OwnerError {
    move |err| OwnerError::Store(boxed(SqlStoreError::database(operation)(err)))
}

/// Implements [`SessionStore`](super::SessionStore) and [`OwnerIndex`](super::OwnerIndex)
/// for a store type whose `core` field is an `Arc<Core<_>>`.
macro_rules! sql_store_impls {
    ($store:ty) => {
        impl $crate::storage::SessionStore for $store {
            async fn load(
                &self,
                session_key: &$crate::storage::SessionKey,
            ) -> Result<Option<$crate::storage::SessionState>, $crate::storage::LoadError> {
                self.core.load(session_key).await
            }

            async fn save(
                &self,
                state: $crate::storage::SessionState,
                ttl: &actix_web::cookie::time::Duration,
            ) -> Result<$crate::storage::SessionKey, $crate::storage::SaveError> {
                self.core.save(state, ttl).await
            }

            async fn update(
                &self,
                session_key: $crate::storage::SessionKey,
                state: $crate::storage::SessionState,
                ttl: &actix_web::cookie::time::Duration,
            ) -> Result<$crate::storage::SessionKey, $crate::storage::UpdateError> {
                self.core.update(session_key, &state, ttl).await
            }

            async fn update_changes(
                &self,
                session_key: $crate::storage::SessionKey,
                changes: $crate::storage::SessionChanges,
                ttl: &actix_web::cookie::time::Duration,
            ) -> Result<$crate::storage::SessionKey, $crate::storage::UpdateError> {
                self.core.update_changes(session_key, changes, ttl).await
            }

            async fn update_ttl(
                &self,
                session_key: &$crate::storage::SessionKey,
                ttl: &actix_web::cookie::time::Duration,
            ) -> Result<(), $crate::storage::UpdateError> {
                self.core.update_ttl(session_key, ttl).await
            }

            async fn delete(
                &self,
                session_key: &$crate::storage::SessionKey,
            ) -> Result<(), $crate::storage::DeleteError> {
                self.core.delete(session_key).await
            }

            fn owner_index(&self) -> Option<$crate::storage::SharedOwnerIndex> {
                Some($crate::storage::SharedOwnerIndex::new(self.clone()))
            }
        }

        impl $crate::storage::OwnerIndex for $store {
            async fn link_owner(
                &self,
                link: $crate::storage::OwnerLink<'_>,
            ) -> Result<(), $crate::storage::OwnerError> {
                self.core.link_owner(link).await
            }

            async fn unlink_owner(
                &self,
                owner: &str,
                public_id: &str,
            ) -> Result<(), $crate::storage::OwnerError> {
                self.core.unlink_owner(owner, public_id).await
            }

            async fn owner_sessions(
                &self,
                owner: &str,
            ) -> Result<Vec<$crate::storage::SessionInfo>, $crate::storage::OwnerError> {
                self.core.owner_sessions(owner).await
            }

            async fn revoke_owner_session(
                &self,
                owner: &str,
                public_id: &str,
            ) -> Result<bool, $crate::storage::OwnerError> {
                Ok(self.core.revoke(owner, Some(public_id), None).await? > 0)
            }

            async fn revoke_owner_sessions(
                &self,
                owner: &str,
            ) -> Result<usize, $crate::storage::OwnerError> {
                self.core.revoke(owner, None, None).await
            }

            async fn revoke_other_owner_sessions(
                &self,
                owner: &str,
                keep: &str,
            ) -> Result<usize, $crate::storage::OwnerError> {
                self.core.revoke(owner, None, Some(keep)).await
            }
        }
    };
}
pub(crate) use sql_store_impls;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_ids_are_a_versioned_hash_of_the_key() {
        let key = SessionKey::try_from("a".repeat(64)).unwrap();
        let id = row_id(&key);
        assert_eq!(id.len(), 2 + 64);
        assert!(id.starts_with("1:"));
        assert!(!id.contains(key.as_ref()));
        // SHA-256 of 64 "a"s.
        assert_eq!(
            &id[2..],
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"
        );
    }

    #[test]
    fn names_are_plain_identifiers() {
        for good in ["sessions", "app_sessions", "_s1", &"s".repeat(48)] {
            assert!(check_name("table", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1s",
            "s-s",
            "s;drop",
            "\"s\"",
            "s s",
            &"s".repeat(49),
            "sé",
        ] {
            assert!(check_name("table", bad).is_err(), "{bad}");
        }
    }
}
