//! [`Session`]: the request's handle on its session state, and what happened to it.
//!
//! How a `Session` gets into a request (the extractor, lazy loading) is in `extract.rs`.

use std::{
    collections::BTreeSet,
    ops::Deref,
    sync::{Arc, Mutex, MutexGuard},
};

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use crate::{
    error::{SessionGetError, SessionInsertError, SessionUpdateError},
    session_meta::{Meta, MetaEdits},
    storage::{SessionChanges, SessionState, SharedOwnerIndex},
};

/// The session of the current request.
///
/// Get it as a handler argument (it is an extractor that never fails), or from a request,
/// response or guard with [`SessionExt::get_session`](crate::SessionExt::get_session). All
/// handles of one request share one state. Values are stored as JSON: anything `Serialize`
/// goes in, anything `DeserializeOwned` comes out.
///
/// Changes are saved by the middleware after the handler has answered: nothing is written for
/// a session that stays empty, only the keys that changed are written for a loaded one, and
/// nothing at all if the handler answered with a 5xx status.
///
/// `Session` is `Send + Sync`, so it can be moved into spawned tasks or GraphQL contexts.
///
/// ```
/// use actix_web::{web, Responder};
/// use session::Session;
///
/// async fn index(session: Session) -> actix_web::Result<impl Responder> {
///     let visits = session.get::<u32>("visits")?.unwrap_or(0) + 1;
///     session.insert("visits", visits)?;
///     Ok(format!("visit number {visits}"))
/// }
/// # let _ = web::get().to(index);
/// ```
#[derive(Clone, Default)]
pub struct Session(Arc<Mutex<SessionInner>>);

/// What happened to a session during the request, as seen by the middleware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionStatus {
    /// The state was changed: it is saved and the cookie is (re)sent.
    Changed,
    /// [`Session::purge`] was called: the state is deleted and a removal cookie is sent.
    Purged,
    /// [`Session::renew`] was called: the state moves to a new key and the old key stops working.
    Renewed,
    /// Nothing changed.
    #[default]
    Unchanged,
}

#[derive(Default)]
struct SessionInner {
    state: SessionState,
    status: SessionStatus,
    /// Keys set or removed since the state was loaded (since the last clear, if `cleared`).
    touched: BTreeSet<String>,
    cleared: bool,
    /// Lazy loading only: the stored state has not been loaded yet.
    pending: bool,
    /// The stored metadata (public id, owner, device), taken out of the state by the
    /// middleware; `None` for a session not stored yet or stored by an older release.
    meta: Option<Meta>,
    /// What the handler changed in the metadata.
    edits: MetaEdits,
    /// The store's owner index, if it keeps one (attached by the middleware).
    owner_index: Option<SharedOwnerIndex>,
}

impl SessionInner {
    /// Marks a change, unless the session was purged; returns whether changes are allowed.
    fn mark_changed(&mut self) -> bool {
        match self.status {
            SessionStatus::Purged => false,
            SessionStatus::Renewed => true,
            SessionStatus::Changed | SessionStatus::Unchanged => {
                self.status = SessionStatus::Changed;
                true
            }
        }
    }

    fn set(&mut self, key: String, value: Value) {
        if self.mark_changed() {
            self.touched.insert(key.clone());
            self.state.insert(key, value);
        }
    }
}

impl Session {
    /// A session attached to no request: empty and unchanged.
    pub fn new() -> Self {
        Self::default()
    }

    fn inner(&self) -> MutexGuard<'_, SessionInner> {
        // Every method leaves the state consistent before it can panic (serialization happens
        // outside the lock), so the data behind a poisoned lock is still good.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The value under `key`, deserialized as `T`; `Ok(None)` if there is none.
    ///
    /// # Errors
    /// If the stored value does not deserialize as `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionGetError> {
        let inner = self.inner();
        let Some(value) = inner.state.get(key) else {
            return Ok(None);
        };
        T::deserialize(value)
            .map(Some)
            .map_err(|source| SessionGetError::new::<T>(key, source))
    }

    /// Whether the session has a value under `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.inner().state.contains_key(key)
    }

    /// A read-only view of the whole state. The session is locked while the view lives: drop
    /// it before changing the session.
    pub fn entries(&self) -> SessionEntries<'_> {
        SessionEntries(self.inner())
    }

    /// What happened to the session so far in this request.
    pub fn status(&self) -> SessionStatus {
        self.inner().status
    }

    /// Stores `value` under `key`. Ignored after [`purge`](Self::purge).
    ///
    /// # Errors
    /// If `value` cannot be serialized as JSON; the session is then left unchanged.
    pub fn insert<T: Serialize>(
        &self,
        key: impl Into<String>,
        value: T,
    ) -> Result<(), SessionInsertError> {
        let key = key.into();
        let value = serde_json::to_value(&value)
            .map_err(|source| SessionInsertError::new::<T>(&key, source))?;
        self.inner().set(key, value);
        Ok(())
    }

    /// Replaces the value under `key` with `updater(current)`; does nothing if there is none.
    /// The change is saved (actix-session 0.11 loses it on a loaded session).
    ///
    /// # Errors
    /// If the current value does not deserialize as `T` or the new one does not serialize.
    pub fn update<T: Serialize + DeserializeOwned, F>(
        &self,
        key: impl Into<String>,
        updater: F,
    ) -> Result<(), SessionUpdateError>
    where
        F: FnOnce(T) -> T,
    {
        let key = key.into();
        let Some(current) = self.get::<T>(&key).map_err(SessionUpdateError::from)? else {
            return Ok(());
        };
        self.insert(key, updater(current))
            .map_err(SessionUpdateError::from)
    }

    /// Like [`update`](Self::update), but stores `default_value` if there is no value yet.
    ///
    /// # Errors
    /// As [`update`](Self::update).
    pub fn update_or<T: Serialize + DeserializeOwned, F>(
        &self,
        key: &str,
        default_value: T,
        updater: F,
    ) -> Result<(), SessionUpdateError>
    where
        F: FnOnce(T) -> T,
    {
        match self.get::<T>(key)? {
            Some(current) => self.insert(key, updater(current))?,
            None => self.insert(key, default_value)?,
        }
        Ok(())
    }

    /// Removes the value under `key` and returns it as JSON. Ignored after
    /// [`purge`](Self::purge).
    pub fn remove(&self, key: &str) -> Option<Value> {
        let mut inner = self.inner();
        if !inner.state.contains_key(key) || !inner.mark_changed() {
            return None;
        }
        inner.touched.insert(key.to_owned());
        inner.state.remove(key)
    }

    /// Removes the value under `key` and deserializes it as `T`; a value that does not
    /// deserialize is returned as `Err` with the raw JSON.
    pub fn remove_as<T: DeserializeOwned>(&self, key: &str) -> Option<Result<T, Value>> {
        self.remove(key)
            .map(|value| T::deserialize(&value).map_err(|_| value))
    }

    /// Removes every value. The session cookie stays (use [`purge`](Self::purge) to end it).
    pub fn clear(&self) {
        let mut inner = self.inner();
        if inner.mark_changed() {
            inner.state.clear();
            inner.touched.clear();
            inner.cleared = true;
        }
    }

    /// Ends the session: its state is deleted from the store and the cookie removed from the
    /// client; a session bound to an owner leaves its owner's list. Later changes in the
    /// same request are ignored.
    pub fn purge(&self) {
        let mut inner = self.inner();
        inner.status = SessionStatus::Purged;
        inner.state.clear();
        inner.touched.clear();
        inner.edits = MetaEdits::default();
    }

    /// Binds the session to `owner`, an id your application chose (a user id; never a value
    /// taken from the client), so that it appears in [`owner_sessions`](Self::owner_sessions)
    /// and can be signed out from another device. Call it after sign-in, usually with
    /// [`renew`](Self::renew). Ignored after [`purge`](Self::purge).
    ///
    /// The binding, the time the session was last seen and, if the middleware records them
    /// ([`record_user_agent`](crate::SessionMiddlewareBuilder::record_user_agent),
    /// [`record_client_ip`](crate::SessionMiddlewareBuilder::record_client_ip)), the device's
    /// user agent and address are saved with the session. It survives `renew`. Binding a
    /// session to a different owner gives it a new [`public_id`](Self::public_id).
    ///
    /// ```
    /// use session::Session;
    ///
    /// let session = Session::new();
    /// session.set_owner("user-42");
    /// assert_eq!(session.owner().as_deref(), Some("user-42"));
    /// ```
    pub fn set_owner(&self, owner: impl Into<String>) {
        let mut inner = self.inner();
        if inner.mark_changed() {
            inner.edits.owner = Some(owner.into());
        }
    }

    /// The owner the session is bound to ([`set_owner`](Self::set_owner)), if any; `None`
    /// after [`purge`](Self::purge).
    pub fn owner(&self) -> Option<String> {
        let inner = self.inner();
        if inner.status == SessionStatus::Purged {
            return None;
        }
        inner
            .edits
            .owner
            .clone()
            .or_else(|| Some(inner.meta.as_ref()?.owner()?.to_owned()))
    }

    /// The session's public id: random, stable across [`renew`](Self::renew), and unrelated
    /// to the session key, so it can be shown, logged and put in a URL (it signs nobody in).
    /// `None` until the session is stored: a session created in this request gets it when
    /// the middleware saves it.
    ///
    /// ```
    /// use session::Session;
    ///
    /// assert_eq!(Session::new().public_id(), None);
    /// ```
    pub fn public_id(&self) -> Option<String> {
        Some(self.inner().meta.as_ref()?.public_id().to_owned())
    }

    /// Gives the session a label of your application's, shown in its owner's list of
    /// sessions (e.g. "work laptop"). Ignored after [`purge`](Self::purge).
    ///
    /// ```
    /// use session::Session;
    ///
    /// let session = Session::new();
    /// session.set_label("work laptop");
    /// # assert_eq!(session.status(), session::SessionStatus::Changed);
    /// ```
    pub fn set_label(&self, label: impl Into<String>) {
        let mut inner = self.inner();
        if inner.mark_changed() {
            inner.edits.label = Some(label.into());
        }
    }

    /// Moves the state to a new session key and invalidates the old one. Call it when the
    /// privilege level changes (login, logout of an elevated role) against session fixation.
    pub fn renew(&self) {
        let mut inner = self.inner();
        if inner.status != SessionStatus::Purged {
            inner.status = SessionStatus::Renewed;
        }
    }

    /// Whether the stored state has been loaded. Always `true` unless the middleware loads
    /// lazily and no extractor has asked for the session yet; see
    /// [`SessionMiddlewareBuilder::lazy_loading`](crate::SessionMiddlewareBuilder::lazy_loading).
    pub fn is_loaded(&self) -> bool {
        !self.inner().pending
    }

    /// A session whose stored state is not loaded yet (lazy loading): it reads as empty.
    pub(crate) fn not_loaded() -> Self {
        let session = Self::new();
        session.inner().pending = true;
        session
    }

    /// Puts the stored state, if there is one, into the session and marks it loaded (called
    /// by the middleware), with its metadata and the store's owner index.
    pub(crate) fn set_loaded(
        &self,
        state: Option<SessionState>,
        meta: Option<Meta>,
        owner_index: Option<SharedOwnerIndex>,
    ) {
        let mut inner = self.inner();
        inner.meta = meta;
        inner.owner_index = owner_index;
        if inner.pending {
            inner.pending = false;
            if let Some(state) = state {
                inner.state = state;
            }
        } else if let Some(state) = state {
            inner.state = state;
        }
    }

    /// Takes the session's outcome out of the request (called by the middleware), with
    /// whether the state was never loaded.
    pub(crate) fn take_changes(&self) -> (SessionStatus, SessionChanges, bool) {
        let mut inner = self.inner();
        let state = std::mem::take(&mut inner.state);
        let touched = std::mem::take(&mut inner.touched);
        (
            inner.status,
            SessionChanges::new(state, touched, inner.cleared),
            inner.pending,
        )
    }

    /// Takes the stored metadata and the handler's edits out of the request (called by the
    /// middleware).
    pub(crate) fn take_meta(&self) -> (Option<Meta>, MetaEdits) {
        let mut inner = self.inner();
        (inner.meta.take(), std::mem::take(&mut inner.edits))
    }

    /// What the owner operations need: the store's index, the owner and the stored public
    /// id (called by `owner_sessions.rs`).
    pub(crate) fn owner_context(
        &self,
    ) -> Result<(SharedOwnerIndex, String, Option<String>), crate::storage::OwnerError> {
        use crate::storage::OwnerError;
        let index = self.inner().owner_index.clone();
        let index = index.ok_or(OwnerError::Unsupported)?;
        let owner = self.owner().ok_or(OwnerError::NoOwner)?;
        Ok((index, owner, self.public_id()))
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.inner();
        f.debug_struct("Session")
            .field("status", &inner.status)
            .field("keys", &inner.state.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A read-only view of a session's state, from [`Session::entries`].
pub struct SessionEntries<'a>(MutexGuard<'a, SessionInner>);

impl Deref for SessionEntries<'_> {
    type Target = SessionState;

    fn deref(&self) -> &SessionState {
        &self.0.state
    }
}

impl std::fmt::Debug for SessionEntries<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.state.keys().map(|k| (k, "..")))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn session_is_send_and_sync() {
        assert_send_sync::<Session>();
    }

    #[test]
    fn changes_track_touched_keys() {
        let session = Session::new();
        session.inner().state.insert("kept".into(), json!(1));
        session.insert("a", 1).unwrap();
        session.insert("b", 2).unwrap();
        assert_eq!(session.remove("b"), Some(json!(2)));
        assert_eq!(session.remove("missing"), None);
        let (status, changes, pending) = session.take_changes();
        assert!(!pending);
        assert_eq!(status, SessionStatus::Changed);
        assert!(!changes.is_cleared());
        let changed: Vec<_> = changes.changed().collect();
        assert_eq!(changed, vec![("a", Some(&json!(1))), ("b", None)]);
    }

    #[test]
    fn update_marks_the_session_changed() {
        let session = Session::new();
        session.inner().state.insert("n".into(), json!(1));
        session.update("n", |n: u32| n + 1).unwrap();
        assert_eq!(session.status(), SessionStatus::Changed);
        assert_eq!(session.get::<u32>("n").unwrap(), Some(2));
        session.update_or("m", 10_u32, |n| n + 1).unwrap();
        session.update_or("m", 10_u32, |n| n + 1).unwrap();
        assert_eq!(session.get::<u32>("m").unwrap(), Some(11));
    }

    #[test]
    fn purge_wins_over_later_changes() {
        let session = Session::new();
        session.insert("a", 1).unwrap();
        session.purge();
        session.insert("b", 2).unwrap();
        session.renew();
        assert_eq!(session.status(), SessionStatus::Purged);
        assert!(session.entries().is_empty());
    }

    #[test]
    fn renew_stays_renewed_through_changes() {
        let session = Session::new();
        session.renew();
        session.insert("a", 1).unwrap();
        assert_eq!(session.status(), SessionStatus::Renewed);
    }

    #[test]
    fn errors_name_the_key_and_type() {
        let session = Session::new();
        session.insert("n", "text").unwrap();
        let err = session.get::<u32>("n").unwrap_err();
        assert_eq!(err.key(), "n");
        assert!(err.to_string().contains("`u32`"), "{err}");
        assert_eq!(session.remove_as::<u32>("n"), Some(Err(json!("text"))));
    }
}
