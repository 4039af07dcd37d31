//! A store wrapper for tests: delegates every method to an inner store, counts loads, and can
//! be switched into failing any kind of operation.

use std::{cell::Cell, rc::Rc};

use actix_web::cookie::time::Duration;
use session::storage::{
    BoxError, DeleteError, LoadError, SaveError, SessionChanges, SessionKey, SessionState,
    SessionStore, UpdateError,
};

/// Switches shared by every clone of a [`HookedStore`].
#[derive(Default)]
pub(crate) struct Hooks {
    pub(crate) loads: Cell<usize>,
    pub(crate) fail_load: Cell<bool>,
    pub(crate) fail_save: Cell<bool>,
    pub(crate) fail_update: Cell<bool>,
    pub(crate) fail_delete: Cell<bool>,
}

impl Hooks {
    /// Fails every operation (`true`) or none (`false`).
    pub(crate) fn set_down(&self, down: bool) {
        self.fail_load.set(down);
        self.fail_save.set(down);
        self.fail_update.set(down);
        self.fail_delete.set(down);
    }
}

#[derive(Clone)]
pub(crate) struct HookedStore<S> {
    pub(crate) inner: S,
    pub(crate) hooks: Rc<Hooks>,
}

impl<S> HookedStore<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            hooks: Rc::default(),
        }
    }
}

/// The error a switched-off store reports; it carries details the client must never see.
pub(crate) fn outage() -> BoxError {
    "connection refused by 10.0.0.1:6379 (secret detail)".into()
}

impl<S: SessionStore> SessionStore for HookedStore<S> {
    async fn load(&self, key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        self.hooks.loads.set(self.hooks.loads.get() + 1);
        if self.hooks.fail_load.get() {
            return Err(LoadError::Other(outage()));
        }
        self.inner.load(key).await
    }

    async fn save(&self, state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
        if self.hooks.fail_save.get() {
            return Err(SaveError::Other(outage()));
        }
        self.inner.save(state, ttl).await
    }

    async fn update(
        &self,
        key: SessionKey,
        state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        if self.hooks.fail_update.get() {
            return Err(UpdateError::Other(outage()));
        }
        self.inner.update(key, state, ttl).await
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), UpdateError> {
        if self.hooks.fail_update.get() {
            return Err(UpdateError::Other(outage()));
        }
        self.inner.update_ttl(key, ttl).await
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), DeleteError> {
        if self.hooks.fail_delete.get() {
            return Err(DeleteError(outage()));
        }
        self.inner.delete(key).await
    }

    async fn update_changes(
        &self,
        key: SessionKey,
        changes: SessionChanges,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        if self.hooks.fail_update.get() {
            return Err(UpdateError::Other(outage()));
        }
        self.inner.update_changes(key, changes, ttl).await
    }

    async fn refresh(
        &self,
        key: SessionKey,
        state: &SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        if self.hooks.fail_update.get() {
            return Err(UpdateError::Other(outage()));
        }
        self.inner.refresh(key, state, ttl).await
    }
}
