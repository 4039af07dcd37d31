//! The session cookie: how its value is protected, the settings it is sent with, and the
//! rules those settings follow.
//!
//! - [`rules`]: the rules a cookie's settings must follow, checked when a middleware is built.
//! - [`codec`]: the one place where cookie values are sealed and opened.
//! - [`verified_cache`]: a per-worker memo of values that verified.
//! - [`request`]: finding the session cookie in a request's `Cookie` headers.
//! - [`response`]: rendering `Set-Cookie`, the removal cookie, and `Vary: Cookie`.

pub(crate) mod codec;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod rules;
pub(crate) mod verified_cache;

use actix_web::cookie::{Key, SameSite, time::Duration};

use self::{
    codec::CookieCodec,
    rules::{CookieRule, CookieSettings},
};

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

/// The session cookie as the middleware uses it, fixed when the middleware is built.
#[derive(Debug)]
pub(crate) struct CookieConfiguration {
    pub(crate) name: String,
    /// `Max-Age` for persistent sessions; `None` for browser sessions.
    pub(crate) max_age: Option<Duration>,
    pub(crate) codec: CookieCodec,
    /// The `Set-Cookie` attributes that never change (`; HttpOnly; SameSite=Lax; Secure;
    /// Path=/ ...`), rendered once from the settings; the session cookie and its removal both
    /// carry them.
    pub(crate) attributes: String,
    /// How many verified cookie values each worker remembers (`0`: none).
    pub(crate) verified_cache: usize,
}

impl CookieConfiguration {
    /// The cookie configuration for `settings`, sealing new values under `key` and opening
    /// them under `key` or a `fallback_keys` one; or every [`CookieRule`] the settings break.
    pub(crate) fn new(
        settings: CookieSettings,
        (key, fallback_keys): (&Key, &[Key]),
        security: CookieContentSecurity,
        max_age: Option<Duration>,
        verified_cache: usize,
    ) -> Result<Self, Vec<CookieRule>> {
        let broken = settings.check();
        if !broken.is_empty() {
            return Err(broken);
        }
        Ok(Self {
            attributes: render_attributes(&settings),
            codec: CookieCodec::new(key, fallback_keys, security),
            name: settings.name,
            max_age,
            verified_cache,
        })
    }
}

/// Renders the fixed attributes of the session cookie.
fn render_attributes(settings: &CookieSettings) -> String {
    let mut attributes = String::new();
    if settings.http_only {
        attributes.push_str("; HttpOnly");
    }
    attributes.push_str(match settings.same_site {
        SameSite::Strict => "; SameSite=Strict",
        SameSite::Lax => "; SameSite=Lax",
        SameSite::None => "; SameSite=None",
    });
    if settings.secure {
        attributes.push_str("; Secure");
    }
    attributes.push_str("; Path=");
    attributes.push_str(&settings.path);
    if let Some(domain) = &settings.domain {
        attributes.push_str("; Domain=");
        attributes.push_str(domain);
    }
    if settings.partitioned {
        attributes.push_str("; Partitioned");
    }
    attributes
}
