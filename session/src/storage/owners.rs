//! A user's sessions: the [`OwnerIndex`] a store keeps from owner ids to the sessions bound to
//! them, what it lists ([`SessionInfo`]) and how it fails ([`OwnerError`]).
//!
//! The middleware keeps a session's public id, owner and device inside the stored state; a
//! store that can list and revoke sessions by owner also keeps an index from each owner to
//! its sessions, updated through [`OwnerIndex::link_owner`] and
//! [`OwnerIndex::unlink_owner`] after the middleware wrote the session.

use std::{future::Future, net::IpAddr, pin::Pin, sync::Arc};

use actix_web::cookie::time::{Duration, OffsetDateTime};

use super::{BoxError, SessionKey, SessionState};
use crate::{absolute_timeout::CREATED_AT_KEY, session_meta::SessionMeta};

/// One session of an owner, as [`Session::owner_sessions`](crate::Session::owner_sessions)
/// and [`OwnerIndex::owner_sessions`] list it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The session's public id: stable across renewals, safe to show, log and put in a URL.
    pub public_id: String,
    /// When the session was created.
    pub created_at: OffsetDateTime,
    /// When the session was last seen (refreshed at most once per
    /// [`last_seen_interval`](crate::SessionMiddlewareBuilder::last_seen_interval)).
    pub last_seen: OffsetDateTime,
    /// Whether this is the session of the request that asked (always `false` outside a
    /// request).
    pub current: bool,
    /// The client's user agent, truncated, if the middleware records it.
    pub user_agent: Option<String>,
    /// The client's address, if the middleware records it.
    pub ip: Option<IpAddr>,
    /// The label the application gave the session.
    pub label: Option<String>,
}

impl SessionInfo {
    /// What a stored state says about its session, for stores that list sessions from their
    /// records; `None` for a state without the middleware's metadata. The owner it names is
    /// returned beside it, so that a store can check a record still belongs to the owner its
    /// index says.
    ///
    /// ```
    /// use session::storage::{SessionInfo, SessionState};
    ///
    /// assert!(SessionInfo::from_stored(&SessionState::new()).is_none());
    /// ```
    pub fn from_stored(state: &SessionState) -> Option<(Self, Option<String>)> {
        let meta = SessionMeta::read(state)?;
        let created = state
            .get(CREATED_AT_KEY)
            .and_then(serde_json::Value::as_i64);
        let seen = meta.last_seen.or(created).unwrap_or(0);
        let info = Self {
            public_id: meta.public_id,
            created_at: from_unix_seconds(created.unwrap_or(seen)),
            last_seen: from_unix_seconds(seen),
            current: false,
            user_agent: meta.user_agent,
            ip: meta.ip.and_then(|ip| ip.parse().ok()),
            label: meta.label,
        };
        Some((info, meta.owner))
    }
}

fn from_unix_seconds(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Why an operation on a user's sessions failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OwnerError {
    /// The store cannot list or revoke sessions by owner: the cookie store, whose sessions
    /// live in the clients' cookies, or a third-party store without an [`OwnerIndex`].
    #[error("this session store cannot list or revoke sessions by owner")]
    Unsupported,
    /// The request's session is not bound to an owner
    /// ([`Session::set_owner`](crate::Session::set_owner)).
    #[error("the session is not bound to an owner")]
    NoOwner,
    /// The store could not be reached or answered with an error.
    #[error("something went wrong with the session owner index")]
    Store(#[source] BoxError),
}

/// What [`OwnerIndex::link_owner`] records: the session `public_id` of `owner` now lives
/// under `key` for `ttl`.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct OwnerLink<'a> {
    /// The owner id the application bound the session to.
    pub owner: &'a str,
    /// The session's public id.
    pub public_id: &'a str,
    /// The key the session is stored under (a new one after a renewal).
    pub key: &'a SessionKey,
    /// How long the session lives from now.
    pub ttl: Duration,
}

impl<'a> OwnerLink<'a> {
    /// A link of session `public_id`, stored under `key` for `ttl`, to `owner`.
    pub fn new(owner: &'a str, public_id: &'a str, key: &'a SessionKey, ttl: Duration) -> Self {
        Self {
            owner,
            public_id,
            key,
            ttl,
        }
    }
}

/// A store's index from owner ids to their sessions: what makes "where am I signed in" and
/// "sign out everywhere" possible.
///
/// A store implements it beside [`SessionStore`](super::SessionStore) and hands it to the
/// middleware from [`SessionStore::owner_index`](super::SessionStore::owner_index). Called
/// outside a request (a password reset, an admin tool), its methods act on every session of
/// an owner, on every instance of the application.
///
/// Contract (the owner scenarios of the acceptance suite check it):
/// - Listing returns only live sessions whose record still names `owner`, newest
///   `last_seen` first; entries whose session expired, was deleted or now belongs to another
///   owner are pruned on the way.
/// - A public id that belongs to another owner is treated exactly like an unknown one.
/// - Revoking deletes the session's record through the store, so that no later request
///   (nor one in flight, whose update finds no record) can use or bring it back.
pub trait OwnerIndex {
    /// Records that session `link.public_id` of `link.owner` lives under `link.key`, for at
    /// least `link.ttl`. Called after the session was written under that key.
    fn link_owner(&self, link: OwnerLink<'_>) -> impl Future<Output = Result<(), OwnerError>>;

    /// Forgets session `public_id` of `owner` (its record was deleted).
    fn unlink_owner(
        &self,
        owner: &str,
        public_id: &str,
    ) -> impl Future<Output = Result<(), OwnerError>>;

    /// The live sessions of `owner`, newest activity first.
    fn owner_sessions(
        &self,
        owner: &str,
    ) -> impl Future<Output = Result<Vec<SessionInfo>, OwnerError>>;

    /// Ends session `public_id` of `owner`; `false` if `owner` has no such live session.
    fn revoke_owner_session(
        &self,
        owner: &str,
        public_id: &str,
    ) -> impl Future<Output = Result<bool, OwnerError>>;

    /// Ends every session of `owner` and returns how many were ended.
    fn revoke_owner_sessions(&self, owner: &str)
    -> impl Future<Output = Result<usize, OwnerError>>;

    /// Ends every session of `owner` but `keep` (a public id) and returns how many were
    /// ended.
    fn revoke_other_owner_sessions(
        &self,
        owner: &str,
        keep: &str,
    ) -> impl Future<Output = Result<usize, OwnerError>>;
}

/// A boxed future borrowing its index.
type IndexFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, OwnerError>> + 'a>>;

/// [`OwnerIndex`] as an object, so that [`Session`](crate::Session) can reach its store's
/// index without a type parameter.
trait DynOwnerIndex: Send + Sync {
    fn link_owner<'a>(&'a self, link: OwnerLink<'a>) -> IndexFuture<'a, ()>;
    fn unlink_owner<'a>(&'a self, owner: &'a str, public_id: &'a str) -> IndexFuture<'a, ()>;
    fn owner_sessions<'a>(&'a self, owner: &'a str) -> IndexFuture<'a, Vec<SessionInfo>>;
    fn revoke_owner_session<'a>(
        &'a self,
        owner: &'a str,
        public_id: &'a str,
    ) -> IndexFuture<'a, bool>;
    fn revoke_owner_sessions<'a>(&'a self, owner: &'a str) -> IndexFuture<'a, usize>;
    fn revoke_other_owner_sessions<'a>(
        &'a self,
        owner: &'a str,
        keep: &'a str,
    ) -> IndexFuture<'a, usize>;
}

impl<T: OwnerIndex + Send + Sync> DynOwnerIndex for T {
    fn link_owner<'a>(&'a self, link: OwnerLink<'a>) -> IndexFuture<'a, ()> {
        Box::pin(OwnerIndex::link_owner(self, link))
    }

    fn unlink_owner<'a>(&'a self, owner: &'a str, public_id: &'a str) -> IndexFuture<'a, ()> {
        Box::pin(OwnerIndex::unlink_owner(self, owner, public_id))
    }

    fn owner_sessions<'a>(&'a self, owner: &'a str) -> IndexFuture<'a, Vec<SessionInfo>> {
        Box::pin(OwnerIndex::owner_sessions(self, owner))
    }

    fn revoke_owner_session<'a>(
        &'a self,
        owner: &'a str,
        public_id: &'a str,
    ) -> IndexFuture<'a, bool> {
        Box::pin(OwnerIndex::revoke_owner_session(self, owner, public_id))
    }

    fn revoke_owner_sessions<'a>(&'a self, owner: &'a str) -> IndexFuture<'a, usize> {
        Box::pin(OwnerIndex::revoke_owner_sessions(self, owner))
    }

    fn revoke_other_owner_sessions<'a>(
        &'a self,
        owner: &'a str,
        keep: &'a str,
    ) -> IndexFuture<'a, usize> {
        Box::pin(OwnerIndex::revoke_other_owner_sessions(self, owner, keep))
    }
}

/// A store's [`OwnerIndex`], shareable with every request: what
/// [`SessionStore::owner_index`](super::SessionStore::owner_index) returns.
///
/// ```
/// use session::storage::{MemorySessionStore, SessionStore as _};
///
/// let store = MemorySessionStore::new();
/// assert!(store.owner_index().is_some());
/// ```
#[derive(Clone)]
pub struct SharedOwnerIndex(Arc<dyn DynOwnerIndex>);

impl SharedOwnerIndex {
    /// Shares `index` (usually a clone of the store itself).
    pub fn new<T: OwnerIndex + Send + Sync + 'static>(index: T) -> Self {
        Self(Arc::new(index))
    }

    pub(crate) async fn link_owner(&self, link: OwnerLink<'_>) -> Result<(), OwnerError> {
        self.0.link_owner(link).await
    }

    pub(crate) async fn unlink_owner(
        &self,
        owner: &str,
        public_id: &str,
    ) -> Result<(), OwnerError> {
        self.0.unlink_owner(owner, public_id).await
    }

    pub(crate) async fn owner_sessions(&self, owner: &str) -> Result<Vec<SessionInfo>, OwnerError> {
        self.0.owner_sessions(owner).await
    }

    pub(crate) async fn revoke_owner_session(
        &self,
        owner: &str,
        public_id: &str,
    ) -> Result<bool, OwnerError> {
        self.0.revoke_owner_session(owner, public_id).await
    }

    pub(crate) async fn revoke_owner_sessions(&self, owner: &str) -> Result<usize, OwnerError> {
        self.0.revoke_owner_sessions(owner).await
    }

    pub(crate) async fn revoke_other_owner_sessions(
        &self,
        owner: &str,
        keep: &str,
    ) -> Result<usize, OwnerError> {
        self.0.revoke_other_owner_sessions(owner, keep).await
    }
}

impl std::fmt::Debug for SharedOwnerIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedOwnerIndex")
    }
}
