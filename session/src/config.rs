//! Configuration of the session middleware: lifecycles, TTL policies, cookie settings.
//!
//! Defaults are those of actix-session: cookie `id`, `Secure`, `HttpOnly`, `SameSite=Lax`,
//! path `/`, no domain, `Private` (encrypted) content, a browser session whose state lives for
//! one day and whose TTL is extended when the state changes.

use actix_web::cookie::{Key, SameSite, time::Duration};

pub use crate::cookie::rules::{CookieRule, CookieSetting, CookieSettings};
use crate::{Clock, SessionMiddleware, cookie_codec::CookieCodec, storage::SessionStore};

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
    /// [`Clock`]: a session past its absolute lifetime is a fresh session even
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

/// How the session cookie's value is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CookieContentSecurity {
    /// Encrypted and authenticated (AES-256-GCM): the client can neither read nor change it.
    #[default]
    Private,
    /// Signed (HMAC-SHA256): the client can read it but not change it.
    Signed,
}

/// The seed-era way to choose a lifecycle, kept for old code; use [`SessionLifecycle`].
#[deprecated(
    note = "use `SessionMiddlewareBuilder::session_lifecycle` with `BrowserSession` or `PersistentSession`"
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

#[allow(deprecated)]
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

/// How many fallback keys a middleware accepts: each one costs a verification attempt on
/// every cookie that fails under the current key.
pub const MAX_FALLBACK_KEYS: usize = 4;

pub(crate) const fn default_ttl() -> Duration {
    Duration::days(1)
}

/// Everything the middleware needs to know, fixed when it is built.
#[derive(Debug)]
pub(crate) struct Configuration {
    pub(crate) cookie: CookieConfiguration,
    /// The TTL handed to the store (the idle timeout).
    pub(crate) state_ttl: Duration,
    pub(crate) ttl_extension_policy: TtlExtensionPolicy,
    /// The absolute timeout, counted from the session's creation.
    pub(crate) absolute_ttl: Option<Duration>,
    pub(crate) clock: Clock,
    /// Load the state when an extractor first asks for it, not before every request.
    pub(crate) lazy_loading: bool,
}

#[derive(Debug)]
pub(crate) struct CookieConfiguration {
    pub(crate) name: String,
    /// `Max-Age` for persistent sessions; `None` for browser sessions.
    pub(crate) max_age: Option<Duration>,
    pub(crate) codec: CookieCodec,
    /// The `Set-Cookie` attributes that never change (`; HttpOnly; SameSite=Lax; Secure;
    /// Path=/ ...`), rendered once from the builder's settings; the session cookie and its
    /// removal both carry them.
    pub(crate) attributes: String,
    /// How many verified cookie values each worker remembers (`0`: none).
    pub(crate) verified_cache: usize,
}

/// Renders the fixed attributes of the session cookie.
pub(crate) fn render_attributes(
    secure: bool,
    http_only: bool,
    same_site: SameSite,
    path: &str,
    domain: Option<&str>,
    partitioned: bool,
) -> String {
    let mut attributes = String::new();
    if http_only {
        attributes.push_str("; HttpOnly");
    }
    attributes.push_str(match same_site {
        SameSite::Strict => "; SameSite=Strict",
        SameSite::Lax => "; SameSite=Lax",
        SameSite::None => "; SameSite=None",
    });
    if secure {
        attributes.push_str("; Secure");
    }
    attributes.push_str("; Path=");
    attributes.push_str(path);
    if let Some(domain) = domain {
        attributes.push_str("; Domain=");
        attributes.push_str(domain);
    }
    if partitioned {
        attributes.push_str("; Partitioned");
    }
    attributes
}

/// A configuration the middleware refuses to build with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The cookie settings break these rules (every one of them, in the order of
    /// [`CookieSettings::check`]).
    #[error("invalid session cookie settings: {}", join_rules(.0))]
    Cookie(Vec<CookieRule>),
    /// More fallback keys than [`MAX_FALLBACK_KEYS`].
    #[error(
        "{0} fallback keys were given; at most {MAX_FALLBACK_KEYS} are accepted: drop the oldest"
    )]
    TooManyFallbackKeys(usize),
    /// An absolute timeout that is not positive.
    #[error("the absolute session lifetime must be positive")]
    NonPositiveAbsoluteTtl,
}

/// The rules' messages, one after the other.
fn join_rules(rules: &[CookieRule]) -> String {
    rules
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Configures a [`SessionMiddleware`]; from [`SessionMiddleware::builder`].
///
/// ```
/// use actix_web::cookie::{Key, SameSite};
/// use session::{storage::MemorySessionStore, SessionMiddleware};
///
/// let middleware = SessionMiddleware::builder(MemorySessionStore::new(), Key::generate())
///     .cookie_name("__Host-sid".to_owned())
///     .cookie_same_site(SameSite::Strict)
///     .build();
/// # let _ = middleware;
/// ```
#[must_use]
pub struct SessionMiddlewareBuilder<Store: SessionStore> {
    store: Store,
    key: Key,
    fallback_keys: Vec<Key>,
    cookie: CookieSettings,
    content_security: CookieContentSecurity,
    cookie_verified_cache: usize,
    lifecycle: SessionLifecycle,
    clock: Clock,
    lazy_loading: bool,
}

/// How many verified cookie values each worker remembers by default.
pub const DEFAULT_VERIFIED_COOKIE_CACHE: usize = 1024;

impl<Store: SessionStore> SessionMiddlewareBuilder<Store> {
    pub(crate) fn new(store: Store, key: Key) -> Self {
        Self {
            store,
            key,
            fallback_keys: Vec::new(),
            cookie: CookieSettings::default(),
            content_security: CookieContentSecurity::Private,
            cookie_verified_cache: DEFAULT_VERIFIED_COOKIE_CACHE,
            lifecycle: SessionLifecycle::BrowserSession(BrowserSession::default()),
            clock: Clock::system(),
            lazy_loading: false,
        }
    }

    /// The cookie's name (default: `id`). Names starting with `__Host-` or `__Secure-` are
    /// checked against the rules browsers apply to them when the middleware is built.
    pub fn cookie_name(mut self, name: String) -> Self {
        self.cookie.name = name;
        self
    }

    /// Whether the cookie is only sent over HTTPS (default: `true`).
    pub fn cookie_secure(mut self, secure: bool) -> Self {
        self.cookie.secure = secure;
        self
    }

    /// Whether scripts are denied access to the cookie (default: `true`).
    pub fn cookie_http_only(mut self, http_only: bool) -> Self {
        self.cookie.http_only = http_only;
        self
    }

    /// The cookie's `SameSite` attribute (default: `Lax`). `SameSite::None` requires `Secure`.
    pub fn cookie_same_site(mut self, same_site: SameSite) -> Self {
        self.cookie.same_site = same_site;
        self
    }

    /// The cookie's path (default: `/`); it must start with `/`.
    pub fn cookie_path(mut self, path: String) -> Self {
        self.cookie.path = path;
        self
    }

    /// The cookie's domain (default: none, so only the host that set it receives it).
    pub fn cookie_domain(mut self, domain: Option<String>) -> Self {
        self.cookie.domain = domain;
        self
    }

    /// Whether the cookie carries the `Partitioned` attribute (CHIPS: a third-party context
    /// gets a cookie jar per top-level site). Default: `false`. Requires `Secure`.
    pub fn cookie_partitioned(mut self, partitioned: bool) -> Self {
        self.cookie.partitioned = partitioned;
        self
    }

    /// How the cookie's value is protected (default: [`CookieContentSecurity::Private`]).
    pub fn cookie_content_security(mut self, content_security: CookieContentSecurity) -> Self {
        self.content_security = content_security;
        self
    }

    /// How many cookie values each worker remembers after they verified, so that a client
    /// sending the same cookie again skips the MAC check and the decryption (default:
    /// [`DEFAULT_VERIFIED_COOKIE_CACHE`], 1024; `0` turns it off).
    ///
    /// Only a value that verified, or that the middleware sealed itself, is remembered, and
    /// only the exact same value is accepted from memory: found by a randomly seeded hash,
    /// compared in constant time. The store still loads the state (and checks its expiry) on
    /// every request. Each entry costs the size of the cookie value plus the session key (for the
    /// cookie store, the state): up to about 8 KiB, typically a few hundred bytes, so the
    /// default costs each worker at most about 8 MiB and usually well under 1 MiB.
    pub fn cookie_verified_cache(mut self, capacity: usize) -> Self {
        self.cookie_verified_cache = capacity;
        self
    }

    /// How long sessions live (default: a browser session with a one-day state TTL).
    pub fn session_lifecycle<S: Into<SessionLifecycle>>(mut self, lifecycle: S) -> Self {
        self.lifecycle = lifecycle.into();
        self
    }

    /// The seed-era form of [`session_lifecycle`](Self::session_lifecycle).
    #[deprecated(note = "use `session_lifecycle` with `BrowserSession` or `PersistentSession`")]
    #[allow(deprecated)]
    pub fn session_length(self, length: SessionLength) -> Self {
        self.session_lifecycle(length)
    }

    /// Older keys whose cookies are still accepted during a key rotation (default: none).
    ///
    /// A cookie that verifies only under a fallback key is accepted and re-issued under the
    /// current key in the same response; cookies under any other key give a fresh session.
    /// At most [`MAX_FALLBACK_KEYS`].
    ///
    /// ```
    /// use actix_web::cookie::Key;
    /// use session::{storage::MemorySessionStore, SessionMiddleware};
    ///
    /// # let (new_key, old_key) = (Key::generate(), Key::generate());
    /// let middleware = SessionMiddleware::builder(MemorySessionStore::new(), new_key)
    ///     .fallback_keys([old_key])
    ///     .build();
    /// # let _ = middleware;
    /// ```
    pub fn fallback_keys(mut self, keys: impl IntoIterator<Item = Key>) -> Self {
        self.fallback_keys = keys.into_iter().collect();
        self
    }

    /// The clock the middleware reads for absolute timeouts (default: the system clock). Give
    /// the store the same clock when tests move time.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Loads the session state only when a handler first extracts the [`Session`](crate::Session) (or a
    /// `#[session]` struct), instead of before every request (default: `false`).
    ///
    /// Routes that never extract the session then cost no store round trip, even when the
    /// request carries a session cookie — for Redis, the difference between a network call
    /// and none on every static page or health check.
    ///
    /// What it means for synchronous code: guards and other code that call
    /// [`SessionExt::get_session`](crate::SessionExt::get_session) before a handler extracts
    /// the session see it *not yet loaded* ([`Session::is_loaded`](crate::Session::is_loaded)
    /// is `false`): it reads as empty. Changes made to a session that was never loaded are
    /// not lost: the middleware loads the stored state after the handler and replays them on
    /// top. Keep eager loading (the default) if guards decide on session contents, or load
    /// explicitly in async code with `Session::extract(&req).await`. A store failure during a
    /// lazy load turns the response into an opaque `500`.
    pub fn lazy_loading(mut self, lazy: bool) -> Self {
        self.lazy_loading = lazy;
        self
    }

    /// Builds the middleware.
    ///
    /// # Panics
    /// If the configuration is invalid (see [`try_build`](Self::try_build)); the message says
    /// what to change.
    pub fn build(self) -> SessionMiddleware<Store> {
        match self.try_build() {
            Ok(middleware) => middleware,
            Err(err) => panic!("invalid session middleware configuration: {err}"),
        }
    }

    /// Builds the middleware, or says why the configuration is invalid: cookie settings that
    /// break a [`CookieRule`], too many fallback keys, a non-positive absolute TTL.
    ///
    /// # Errors
    /// [`BuildError::Cookie`] with every broken cookie rule at once; otherwise the first other
    /// problem found.
    pub fn try_build(self) -> Result<SessionMiddleware<Store>, BuildError> {
        let broken = self.cookie.check();
        if !broken.is_empty() {
            return Err(BuildError::Cookie(broken));
        }
        if self.fallback_keys.len() > MAX_FALLBACK_KEYS {
            return Err(BuildError::TooManyFallbackKeys(self.fallback_keys.len()));
        }
        let (state_ttl, max_age, ttl_extension_policy, absolute_ttl) = match self.lifecycle {
            SessionLifecycle::BrowserSession(browser) => (
                browser.state_ttl,
                None,
                browser.state_ttl_extension_policy,
                browser.absolute_ttl,
            ),
            SessionLifecycle::PersistentSession(persistent) => (
                persistent.session_ttl,
                Some(persistent.session_ttl),
                persistent.ttl_extension_policy,
                persistent.absolute_ttl,
            ),
        };
        if absolute_ttl.is_some_and(|ttl| !ttl.is_positive()) {
            return Err(BuildError::NonPositiveAbsoluteTtl);
        }
        let attributes = render_attributes(
            self.cookie.secure,
            self.cookie.http_only,
            self.cookie.same_site,
            &self.cookie.path,
            self.cookie.domain.as_deref(),
            self.cookie.partitioned,
        );
        let configuration = Configuration {
            cookie: CookieConfiguration {
                attributes,
                codec: CookieCodec::new(&self.key, &self.fallback_keys, self.content_security),
                name: self.cookie.name,
                max_age,
                verified_cache: self.cookie_verified_cache,
            },
            state_ttl,
            ttl_extension_policy,
            absolute_ttl,
            clock: self.clock,
            lazy_loading: self.lazy_loading,
        };
        Ok(SessionMiddleware::from_parts(self.store, configuration))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemorySessionStore;

    fn builder() -> SessionMiddlewareBuilder<MemorySessionStore> {
        SessionMiddleware::builder(MemorySessionStore::new(), Key::generate())
    }

    #[test]
    fn try_build_reports_every_broken_cookie_rule_at_once() {
        let err = builder()
            .cookie_name("__Host-id".to_owned())
            .cookie_secure(false)
            .cookie_same_site(SameSite::None)
            .cookie_path("app".to_owned())
            .cookie_domain(Some("a.com,b.com".to_owned()))
            .fallback_keys((0..5).map(|_| Key::generate()))
            .try_build()
            .err();
        let name = "__Host-id".to_owned();
        assert_eq!(
            err,
            Some(BuildError::Cookie(vec![
                CookieRule::HostPrefixNotSecure { name: name.clone() },
                CookieRule::HostPrefixWithDomain {
                    name: name.clone(),
                    domain: "a.com,b.com".to_owned()
                },
                CookieRule::HostPrefixPathNotRoot {
                    name,
                    path: "app".to_owned()
                },
                CookieRule::SameSiteNoneNotSecure,
                CookieRule::PathNotAbsolute {
                    path: "app".to_owned()
                },
                CookieRule::InvalidDomain {
                    domain: "a.com,b.com".to_owned()
                },
            ]))
        );
    }

    #[test]
    fn the_builder_checks_what_it_was_given() {
        let err = builder()
            .cookie_secure(false)
            .cookie_partitioned(true)
            .try_build()
            .err();
        assert_eq!(
            err,
            Some(BuildError::Cookie(vec![CookieRule::PartitionedNotSecure]))
        );
        assert!(builder().try_build().is_ok(), "the defaults are fine");
        let message = BuildError::Cookie(vec![
            CookieRule::PartitionedNotSecure,
            CookieRule::SameSiteNoneNotSecure,
        ])
        .to_string();
        assert!(
            message.contains("Partitioned") && message.contains("SameSite=None"),
            "{message}"
        );
    }

    #[test]
    fn non_cookie_problems_keep_their_variants() {
        let too_many = builder()
            .fallback_keys((0..=MAX_FALLBACK_KEYS).map(|_| Key::generate()))
            .try_build()
            .err();
        assert_eq!(
            too_many,
            Some(BuildError::TooManyFallbackKeys(MAX_FALLBACK_KEYS + 1))
        );
        let non_positive = builder()
            .session_lifecycle(BrowserSession::default().absolute_ttl(Duration::ZERO))
            .try_build()
            .err();
        assert_eq!(non_positive, Some(BuildError::NonPositiveAbsoluteTtl));
    }
}
