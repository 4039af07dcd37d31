//! The absolute lifetime of a session: its creation time, kept inside the stored state.
//!
//! When an absolute timeout is configured the middleware stores the session's creation time
//! under a reserved entry, [`CREATED_AT_KEY`], next to the user's data. Keeping it in the state
//! (rather than in each store's own record) means every store enforces the timeout, including
//! third-party stores and the cookie store, where it sits inside the protected payload. The
//! entry is taken out before handlers see the state and put back before it is saved.

use actix_web::cookie::time::Duration;
use serde_json::Value;

use crate::{
    clock::Clock,
    storage::{SessionChanges, SessionState},
};

/// The reserved state entry holding the creation time (Unix seconds). Handlers never see it.
pub(crate) const CREATED_AT_KEY: &str = "__session_created_at";

/// Removes the creation time from a loaded state.
pub(crate) fn take_created_at(state: &mut SessionState) -> Option<i64> {
    state
        .remove(CREATED_AT_KEY)
        .and_then(|value| value.as_i64())
}

/// Puts the creation time into the changes about to be saved; `is_new` when the stored
/// state does not have it yet (a new session, or one from before the timeout was configured).
pub(crate) fn put_created_at(changes: &mut SessionChanges, created_at: i64, is_new: bool) {
    changes.insert_internal(CREATED_AT_KEY, Value::from(created_at), is_new);
}

/// How long a session created at `created_at` has left to live, or `None` if it is over.
pub(crate) fn remaining(
    created_at: i64,
    absolute_ttl: Duration,
    clock: &Clock,
) -> Option<Duration> {
    let now = clock.now().unix_timestamp();
    let left = Duration::seconds(created_at.saturating_sub(now)) + absolute_ttl;
    left.is_positive().then_some(left)
}
