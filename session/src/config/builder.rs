//! [`SessionMiddlewareBuilder`]: the settings a middleware is built with.

use actix_web::{
    cookie::{Key, SameSite, time::Duration},
    http::header::HeaderName,
};

use super::{
    ClientIp, Configuration, DEFAULT_VERIFIED_COOKIE_CACHE, DeviceSettings, MAX_FALLBACK_KEYS,
    error::BuildError,
    lifecycle::{BrowserSession, SessionLifecycle},
};
use crate::{
    clock::Clock,
    cookie::{CookieConfiguration, CookieContentSecurity, rules::CookieSettings},
    storage::SessionStore,
    transport::{SessionTransport, TransportConfiguration},
};

/// Configures a [`SessionMiddleware`](crate::SessionMiddleware); from
/// [`SessionMiddleware::builder`](crate::SessionMiddleware::builder).
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
    transport: SessionTransport,
    token_response_header: Option<HeaderName>,
    devices: DeviceSettings,
}

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
            transport: SessionTransport::Cookie,
            token_response_header: None,
            devices: DeviceSettings::default(),
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
}

impl<Store: SessionStore> SessionMiddlewareBuilder<Store> {
    /// Where the session token travels (default: [`SessionTransport::Cookie`]): in the
    /// cookie, in a request header, or either. See [`SessionTransport`] for what requests
    /// send and responses answer.
    ///
    /// ```
    /// use actix_web::{cookie::Key, http::header};
    /// use session::{config::SessionTransport, storage::MemorySessionStore, SessionMiddleware};
    ///
    /// // Requests send `Authorization: Bearer <token>`; new tokens come back in `Session-Token`.
    /// let middleware = SessionMiddleware::builder(MemorySessionStore::new(), Key::generate())
    ///     .session_transport(SessionTransport::Header(header::AUTHORIZATION))
    ///     .build();
    /// # let _ = middleware;
    /// ```
    pub fn session_transport(mut self, transport: SessionTransport) -> Self {
        self.transport = transport;
        self
    }

    /// The response header that carries new session tokens, and the empty value that voids
    /// one, with a header transport (default: [`SESSION_TOKEN_HEADER`](super::SESSION_TOKEN_HEADER)
    /// when requests send `Authorization`, else the request header itself). Unused with
    /// [`SessionTransport::Cookie`].
    pub fn session_token_response_header(mut self, header: HeaderName) -> Self {
        self.token_response_header = Some(header);
        self
    }
}

impl<Store: SessionStore> SessionMiddlewareBuilder<Store> {
    /// The least time between two writes of a bound session's "last seen" time (default:
    /// [`DEFAULT_LAST_SEEN_INTERVAL`](super::DEFAULT_LAST_SEEN_INTERVAL), one minute), so that
    /// reading a session bound with [`Session::set_owner`](crate::Session::set_owner) does not
    /// turn every request into a write. Sessions without an owner never write it.
    pub fn last_seen_interval(mut self, interval: Duration) -> Self {
        self.devices.last_seen_interval = interval;
        self
    }

    /// Whether a bound session records the client's `User-Agent`, truncated to 256
    /// characters, for its owner's list of sessions (default: `false`).
    pub fn record_user_agent(mut self, record: bool) -> Self {
        self.devices.record_user_agent = record;
        self
    }

    /// Which client address a bound session records for its owner's list of sessions
    /// (default: [`ClientIp::Off`]). Proxy headers are read only with
    /// [`ClientIp::TrustForwarded`].
    pub fn record_client_ip(mut self, client_ip: ClientIp) -> Self {
        self.devices.client_ip = client_ip;
        self
    }
}

impl<Store: SessionStore> SessionMiddlewareBuilder<Store> {
    /// Checks the configuration and turns it into what the middleware runs with: the store
    /// and the fixed [`Configuration`]. Cookie problems come first, all at once.
    pub(crate) fn into_parts(self) -> Result<(Store, Configuration), BuildError> {
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
        let cookie = CookieConfiguration::new(
            self.cookie,
            (&self.key, &self.fallback_keys),
            self.content_security,
            max_age,
            self.cookie_verified_cache,
        )
        .map_err(BuildError::Cookie)?;
        if self.fallback_keys.len() > MAX_FALLBACK_KEYS {
            return Err(BuildError::TooManyFallbackKeys(self.fallback_keys.len()));
        }
        if absolute_ttl.is_some_and(|ttl| !ttl.is_positive()) {
            return Err(BuildError::NonPositiveAbsoluteTtl);
        }
        let configuration = Configuration {
            cookie,
            transport: TransportConfiguration::new(self.transport, self.token_response_header),
            state_ttl,
            ttl_extension_policy,
            absolute_ttl,
            clock: self.clock,
            lazy_loading: self.lazy_loading,
            devices: self.devices,
        };
        Ok((self.store, configuration))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::cookie::time::Duration;

    use super::*;
    use crate::{SessionMiddleware, config::CookieRule, storage::MemorySessionStore};

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
