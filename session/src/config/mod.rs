//! Configuration of the session middleware: lifecycles, TTL policies, cookie settings.
//!
//! Defaults are those of actix-session: cookie `id`, `Secure`, `HttpOnly`, `SameSite=Lax`,
//! path `/`, no domain, `Private` (encrypted) content, a browser session whose state lives for
//! one day and whose TTL is extended when the state changes.
//!
//! - [`SessionMiddlewareBuilder`]: every setting, from
//!   [`SessionMiddleware::builder`](crate::SessionMiddleware::builder).
//! - [`SessionLifecycle`]: [`BrowserSession`] or [`PersistentSession`], each with its
//!   [`TtlExtensionPolicy`] and an optional absolute timeout.
//! - [`CookieSettings`]: the cookie's attributes and the [`CookieRule`]s they must follow,
//!   checked when the middleware is built ([`BuildError`]).
//! - [`SessionTransport`]: whether the token travels in the cookie, in a request header
//!   (`Authorization: Bearer <token>` or a header of your own), or either.
//! - [`ClientIp`]: which client address a session bound to an owner records.

mod builder;
mod compat;
mod devices;
mod error;
mod lifecycle;

use actix_web::cookie::time::Duration;

#[allow(deprecated)]
pub use self::compat::SessionLength;
pub(crate) use self::devices::DeviceSettings;
pub use self::{
    builder::SessionMiddlewareBuilder,
    devices::{ClientIp, DEFAULT_LAST_SEEN_INTERVAL},
    error::BuildError,
    lifecycle::{BrowserSession, PersistentSession, SessionLifecycle, TtlExtensionPolicy},
};
pub use crate::clock::Clock;
use crate::cookie::CookieConfiguration;
pub use crate::cookie::{
    CookieContentSecurity,
    rules::{CookieRule, CookieSetting, CookieSettings},
};
use crate::transport::TransportConfiguration;
pub use crate::transport::{MAX_HEADER_TOKEN_LEN, SESSION_TOKEN_HEADER, SessionTransport};

/// How many fallback keys a middleware accepts: each one costs a verification attempt on
/// every cookie that fails under the current key.
pub const MAX_FALLBACK_KEYS: usize = 4;

/// How many verified cookie values each worker remembers by default.
pub const DEFAULT_VERIFIED_COOKIE_CACHE: usize = 1024;

/// Everything the middleware needs to know, fixed when it is built (by
/// [`SessionMiddlewareBuilder`]).
#[derive(Debug)]
pub(crate) struct Configuration {
    pub(crate) cookie: CookieConfiguration,
    /// Where the token is read from and sent to.
    pub(crate) transport: TransportConfiguration,
    /// The TTL handed to the store (the idle timeout).
    pub(crate) state_ttl: Duration,
    pub(crate) ttl_extension_policy: TtlExtensionPolicy,
    /// The absolute timeout, counted from the session's creation.
    pub(crate) absolute_ttl: Option<Duration>,
    pub(crate) clock: Clock,
    /// Load the state when an extractor first asks for it, not before every request.
    pub(crate) lazy_loading: bool,
    /// What is recorded about sessions bound to an owner.
    pub(crate) devices: DeviceSettings,
}
