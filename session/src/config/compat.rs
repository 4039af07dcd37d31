//! The actix-session 0.6 names, kept so that code written against them still compiles: the
//! [`SessionLength`] enum and [`SessionMiddlewareBuilder::session_length`].
#![allow(deprecated)]

use actix_web::cookie::time::Duration;

use super::{
    builder::SessionMiddlewareBuilder,
    lifecycle::{BrowserSession, PersistentSession, SessionLifecycle, default_ttl},
};
use crate::storage::SessionStore;

/// How long a session lives, as actix-session 0.6 said it; use [`SessionLifecycle`].
#[deprecated(
    since = "0.1.0",
    note = "the actix-session 0.6 name: use `SessionMiddlewareBuilder::session_lifecycle` with \
            `BrowserSession` or `PersistentSession`"
)]
#[derive(Debug, Clone)]
pub enum SessionLength {
    /// A browser session; `state_ttl` defaults to one day.
    BrowserSession {
        /// The idle TTL of the server-side state.
        state_ttl: Option<Duration>,
    },
    /// A persistent session; `max_session_length` defaults to one day.
    Predetermined {
        /// The TTL of the cookie and the state.
        max_session_length: Option<Duration>,
    },
}

impl From<SessionLength> for SessionLifecycle {
    fn from(length: SessionLength) -> Self {
        match length {
            SessionLength::BrowserSession { state_ttl } => BrowserSession::default()
                .state_ttl(state_ttl.unwrap_or_else(default_ttl))
                .into(),
            SessionLength::Predetermined { max_session_length } => PersistentSession::default()
                .session_ttl(max_session_length.unwrap_or_else(default_ttl))
                .into(),
        }
    }
}

impl<Store: SessionStore> SessionMiddlewareBuilder<Store> {
    /// The actix-session 0.6 form of
    /// [`session_lifecycle`](SessionMiddlewareBuilder::session_lifecycle).
    #[deprecated(
        since = "0.1.0",
        note = "the actix-session 0.6 name: use `session_lifecycle` with `BrowserSession` or \
                `PersistentSession`"
    )]
    pub fn session_length(self, length: SessionLength) -> Self {
        self.session_lifecycle(length)
    }
}
