//! How long a session lives: browser or persistent sessions, and when their TTL is extended.

use actix_web::cookie::time::Duration;

/// How long a session lives, on the client and in the store.
///
/// ```
/// use actix_web::cookie::time::Duration;
/// use session::config::{PersistentSession, SessionLifecycle};
///
/// let lifecycle: SessionLifecycle = PersistentSession::default()
///     .session_ttl(Duration::days(30))
///     .into();
/// # let _ = lifecycle;
/// ```
#[derive(Debug, Clone)]
pub enum SessionLifecycle {
    /// The cookie lives until the browser closes; the state expires after an idle TTL.
    BrowserSession(BrowserSession),
    /// The cookie and the state live for a fixed TTL, extended by activity per the policy.
    PersistentSession(PersistentSession),
}

impl From<BrowserSession> for SessionLifecycle {
    fn from(session: BrowserSession) -> Self {
        Self::BrowserSession(session)
    }
}

impl From<PersistentSession> for SessionLifecycle {
    fn from(session: PersistentSession) -> Self {
        Self::PersistentSession(session)
    }
}

/// A session cookie without `Max-Age`: it ends when the browser closes.
///
/// The browser decides when that is (many restore sessions on restart), so the server-side
/// state has its own idle TTL, [`state_ttl`](Self::state_ttl), one day by default.
#[derive(Debug, Clone)]
pub struct BrowserSession {
    pub(crate) state_ttl: Duration,
    pub(crate) state_ttl_extension_policy: TtlExtensionPolicy,
    pub(crate) absolute_ttl: Option<Duration>,
}

impl BrowserSession {
    /// How long the state lives without being extended (default: one day).
    #[must_use]
    pub fn state_ttl(mut self, ttl: Duration) -> Self {
        self.state_ttl = ttl;
        self
    }

    /// When the state TTL is extended (default: on state changes).
    #[must_use]
    pub fn state_ttl_extension_policy(mut self, policy: TtlExtensionPolicy) -> Self {
        self.state_ttl_extension_policy = policy;
        self
    }

    /// The longest a session may live from its creation, however active it is (default: no
    /// limit). Enforced server-side for every store; see [`PersistentSession::absolute_ttl`].
    #[must_use]
    pub fn absolute_ttl(mut self, ttl: Duration) -> Self {
        self.absolute_ttl = Some(ttl);
        self
    }
}

impl Default for BrowserSession {
    fn default() -> Self {
        Self {
            state_ttl: default_ttl(),
            state_ttl_extension_policy: TtlExtensionPolicy::OnStateChanges,
            absolute_ttl: None,
        }
    }
}

/// A cookie with `Max-Age`: the session survives browser restarts until its TTL runs out.
#[derive(Debug, Clone)]
pub struct PersistentSession {
    pub(crate) session_ttl: Duration,
    pub(crate) ttl_extension_policy: TtlExtensionPolicy,
    pub(crate) absolute_ttl: Option<Duration>,
}

impl PersistentSession {
    /// How long the cookie and the state live (default: one day).
    #[must_use]
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl;
        self
    }

    /// When the TTL is extended (default: on state changes).
    #[must_use]
    pub fn session_ttl_extension_policy(mut self, policy: TtlExtensionPolicy) -> Self {
        self.ttl_extension_policy = policy;
        self
    }

    /// The longest a session may live from its creation, however active it is (default: no
    /// limit). The idle timeout is the TTL; this is the absolute timeout on top of it.
    ///
    /// The creation time is kept inside the stored state (inside the protected payload for
    /// the cookie store) and checked on every request with the middleware's
    /// [`Clock`](crate::config::Clock): a session past its absolute lifetime is a fresh session even
    /// if it was active a second ago. The store TTL and the cookie's `Max-Age` never reach
    /// past it. [`Session::renew`](crate::Session::renew) keeps the creation time.
    ///
    /// ```
    /// use actix_web::cookie::time::Duration;
    /// use session::config::PersistentSession;
    ///
    /// // Idle for 30 minutes at most, and never longer than 12 hours in all.
    /// let lifecycle = PersistentSession::default()
    ///     .session_ttl(Duration::minutes(30))
    ///     .absolute_ttl(Duration::hours(12));
    /// # let _ = lifecycle;
    /// ```
    #[must_use]
    pub fn absolute_ttl(mut self, ttl: Duration) -> Self {
        self.absolute_ttl = Some(ttl);
        self
    }
}

impl Default for PersistentSession {
    fn default() -> Self {
        Self {
            session_ttl: default_ttl(),
            ttl_extension_policy: TtlExtensionPolicy::OnStateChanges,
            absolute_ttl: None,
        }
    }
}

/// When a session's TTL is extended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TtlExtensionPolicy {
    /// On every request that carries the session, changed or not: an idle timeout. Costs a
    /// store write (and a `Set-Cookie` for persistent or cookie-store sessions) per request.
    OnEveryRequest,
    /// Only when the state changes.
    OnStateChanges,
}

/// The TTL a lifecycle uses unless told otherwise: one day.
pub(crate) const fn default_ttl() -> Duration {
    Duration::days(1)
}
