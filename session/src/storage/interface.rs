use std::{collections::BTreeSet, error::Error as StdError, future::Future};

use actix_web::cookie::time::Duration;
use serde_json::Value;

use super::{SessionKey, SharedOwnerIndex};

/// The state of one session: string keys mapped to JSON values.
pub type SessionState = serde_json::Map<String, Value>;

/// The boxed cause carried by the store error types.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What a request changed in a loaded session, handed to
/// [`SessionStore::update_changes`].
///
/// It holds the complete new state plus the set of keys that were inserted, updated or removed
/// (and whether the state was cleared first), so that a store can write only the difference
/// and leave alone the keys that other, concurrent requests changed.
#[derive(Debug, Clone, Default)]
pub struct SessionChanges {
    cleared: bool,
    touched: BTreeSet<String>,
    state: SessionState,
}

impl SessionChanges {
    /// Builds a change set. `touched` names every key whose value was set or removed since the
    /// state was loaded (after the clear, when `cleared` is true).
    pub fn new(state: SessionState, touched: BTreeSet<String>, cleared: bool) -> Self {
        Self {
            cleared,
            touched,
            state,
        }
    }

    /// Whether the whole state was cleared: the stored state must then be replaced, not patched.
    pub fn is_cleared(&self) -> bool {
        self.cleared
    }

    /// The changed keys with their new value; `None` means the key was removed.
    pub fn changed(&self) -> impl Iterator<Item = (&str, Option<&Value>)> {
        self.touched
            .iter()
            .map(|key| (key.as_str(), self.state.get(key)))
    }

    /// The complete state after the request's changes.
    pub fn state(&self) -> &SessionState {
        &self.state
    }

    /// Applies the changed keys to `state`, a copy of the stored state: sets what was set,
    /// removes what was removed (a cleared change set is the caller's to handle: it replaces
    /// the whole state).
    pub(crate) fn apply_to(&self, state: &mut SessionState) {
        for (key, value) in self.changed() {
            match value {
                Some(value) => {
                    state.insert(key.to_owned(), value.clone());
                }
                None => {
                    state.remove(key);
                }
            }
        }
    }

    /// Replays the changes on top of `base`, the stored state (for a session whose state was
    /// never loaded: the changes were made blind).
    pub(crate) fn rebase(mut self, base: Option<SessionState>) -> Self {
        if self.cleared {
            return self;
        }
        let mut state = base.unwrap_or_default();
        for key in &self.touched {
            match self.state.remove(key) {
                Some(value) => state.insert(key.clone(), value),
                None => state.remove(key),
            };
        }
        self.state = state;
        self
    }

    /// Sets an entry the middleware keeps beside the user's data; `tracked` makes it part of
    /// the changed keys, so that stores writing only the difference write it too.
    pub(crate) fn insert_internal(&mut self, key: &str, value: Value, tracked: bool) {
        if tracked {
            self.touched.insert(key.to_owned());
        }
        self.state.insert(key.to_owned(), value);
    }

    /// Gives up the change set for the complete state.
    pub fn into_state(self) -> SessionState {
        self.state
    }
}

/// The interface between the middleware and a storage backend.
///
/// The first five methods are the ones actix-session's `SessionStore` has (with our error
/// types, see the migration guide in the crate docs). The others have default implementations
/// built on those five; stores override them to do better:
///
/// - [`update_changes`](Self::update_changes) writes only what a request changed, which is how
///   concurrent requests on one session stop overwriting each other.
/// - [`refresh`](Self::refresh) extends a session's lifetime without a state change; stores
///   whose key encodes the expiry (the cookie store) return a new key.
///
/// Contract every store must keep (the [acceptance suite](crate#testing-your-own-store) checks it):
/// - `load` returns `Ok(None)` for an unknown, expired or deleted key, and
///   `Err(LoadError::Deserialization(_))` for a record it cannot decode.
/// - `save` creates a new record under a fresh key and never overwrites an existing one.
/// - `update` and `update_changes` never create a record: if the key no longer exists (it was
///   deleted by a logout or it expired while the request ran) they return
///   [`UpdateError::NotFound`].
pub trait SessionStore {
    /// Loads the state stored under `session_key`.
    fn load(
        &self,
        session_key: &SessionKey,
    ) -> impl Future<Output = Result<Option<SessionState>, LoadError>>;

    /// Stores the state of a new session for `ttl` and returns its key.
    fn save(
        &self,
        session_state: SessionState,
        ttl: &Duration,
    ) -> impl Future<Output = Result<SessionKey, SaveError>>;

    /// Replaces the state of an existing session and resets its lifetime to `ttl`. Returns the
    /// key under which the state now lives (the same key for server-side stores).
    fn update(
        &self,
        session_key: SessionKey,
        session_state: SessionState,
        ttl: &Duration,
    ) -> impl Future<Output = Result<SessionKey, UpdateError>>;

    /// Resets the lifetime of an existing session to `ttl`.
    fn update_ttl(
        &self,
        session_key: &SessionKey,
        ttl: &Duration,
    ) -> impl Future<Output = Result<(), UpdateError>>;

    /// Deletes a session. Deleting an unknown key is not an error.
    fn delete(&self, session_key: &SessionKey) -> impl Future<Output = Result<(), DeleteError>>;

    /// Applies what a request changed to an existing session and resets its lifetime.
    ///
    /// The default replaces the whole state with [`update`](Self::update); stores that can
    /// patch single keys should override it.
    fn update_changes(
        &self,
        session_key: SessionKey,
        changes: SessionChanges,
        ttl: &Duration,
    ) -> impl Future<Output = Result<SessionKey, UpdateError>> {
        self.update(session_key, changes.into_state(), ttl)
    }

    /// Extends the lifetime of an unchanged session whose current state is `session_state`,
    /// returning the key it lives under afterwards.
    ///
    /// The default calls [`update_ttl`](Self::update_ttl) and keeps the key.
    fn refresh(
        &self,
        session_key: SessionKey,
        session_state: &SessionState,
        ttl: &Duration,
    ) -> impl Future<Output = Result<SessionKey, UpdateError>> {
        let _ = session_state;
        async move {
            self.update_ttl(&session_key, ttl).await?;
            Ok(session_key)
        }
    }

    /// The store's index of sessions by owner, if it keeps one: what lists and revokes a
    /// user's sessions ([`OwnerIndex`](super::OwnerIndex)).
    ///
    /// The default is `None`: the middleware still binds sessions to owners (the binding
    /// lives in the state), but listing and revoking answer
    /// [`OwnerError::Unsupported`](super::OwnerError::Unsupported).
    fn owner_index(&self) -> Option<SharedOwnerIndex> {
        None
    }
}

/// Why a session could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The stored record could not be decoded; the middleware starts a fresh session.
    #[error("failed to deserialize the session state")]
    Deserialization(#[source] BoxError),
    /// The store could not be reached or answered with an error.
    #[error("something went wrong when loading the session state")]
    Other(#[source] BoxError),
}

/// Why a new session could not be stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SaveError {
    /// The state could not be encoded (for the cookie store: it does not fit in a cookie).
    #[error("failed to serialize the session state")]
    Serialization(#[source] BoxError),
    /// The store could not be reached or answered with an error.
    #[error("something went wrong when saving the session state")]
    Other(#[source] BoxError),
}

/// Why an existing session could not be updated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// The state could not be encoded (for the cookie store: it does not fit in a cookie).
    #[error("failed to serialize the session state")]
    Serialization(#[source] BoxError),
    /// The session no longer exists (deleted or expired while the request ran); nothing was
    /// written.
    #[error("the session no longer exists in the store")]
    NotFound,
    /// The store could not be reached or answered with an error.
    #[error("something went wrong when updating the session state")]
    Other(#[source] BoxError),
}

/// Why a session could not be deleted.
#[derive(Debug, thiserror::Error)]
#[error("something went wrong when deleting the session state")]
pub struct DeleteError(#[source] pub BoxError);
