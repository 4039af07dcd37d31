//! What a response says about the session cookie: `Set-Cookie` with the sealed value, the
//! removal cookie, and `Vary: Cookie`.

use actix_web::{
    cookie::time::Duration,
    http::header::{self, HeaderMap, HeaderValue},
};

use super::CookieConfiguration;

/// The largest `name=value` we send: browsers drop bigger cookies silently.
const MAX_COOKIE_PAIR_LEN: usize = 4096;

/// A cookie that cannot be sent; the reason has been logged. The middleware answers an
/// opaque `500`.
#[derive(Debug)]
pub(crate) struct Unsendable;

/// Renders the session cookie: `name=value` (`sealed` is the codec's wire-ready output), the
/// attributes fixed at build time, and `Max-Age` for persistent sessions.
pub(crate) fn session_cookie(
    config: &CookieConfiguration,
    sealed: &str,
    ttl: Duration,
) -> Result<HeaderValue, Unsendable> {
    let mut rendered =
        String::with_capacity(config.name.len() + sealed.len() + config.attributes.len() + 24);
    rendered.push_str(&config.name);
    rendered.push('=');
    rendered.push_str(sealed);
    let pair_len = rendered.len();
    if pair_len > MAX_COOKIE_PAIR_LEN {
        tracing::error!(
            bytes = pair_len,
            limit = MAX_COOKIE_PAIR_LEN,
            "the session cookie would exceed what browsers keep; store less in the session or \
             use a server-side store"
        );
        return Err(Unsendable);
    }
    rendered.push_str(&config.attributes);
    if let Some(max_age) = config.max_age {
        rendered.push_str("; Max-Age=");
        rendered.push_str(&max_age.min(ttl).whole_seconds().max(0).to_string());
    }
    header_value(&rendered)
}

/// Renders the cookie that removes the session cookie: an empty value with the same
/// attributes (a browser matches the cookie to remove by name, path and domain), already
/// expired.
pub(crate) fn removal_cookie(config: &CookieConfiguration) -> Result<HeaderValue, Unsendable> {
    header_value(&format!(
        "{}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT{}",
        config.name, config.attributes
    ))
}

fn header_value(cookie: &str) -> Result<HeaderValue, Unsendable> {
    HeaderValue::from_str(cookie).map_err(|err| {
        tracing::error!(error = %err, "the session cookie is not a valid header value");
        Unsendable
    })
}

/// Appends `set_cookie`, if any, and adds `Cookie` to `Vary` when the response depends on the
/// cookie: the request carried one (`cookie_present`, or whatever else makes the response
/// depend on it) or the response sets one.
pub(crate) fn write_headers(
    headers: &mut HeaderMap,
    set_cookie: Option<HeaderValue>,
    cookie_present: bool,
) {
    if let Some(value) = set_cookie {
        headers.append(header::SET_COOKIE, value);
    }
    if cookie_present || headers.contains_key(header::SET_COOKIE) {
        add_vary(headers, "Cookie");
    }
}

/// Adds the header `name` to `Vary` unless it is there already (or `Vary` is `*`).
pub(crate) fn add_vary(headers: &mut HeaderMap, name: &str) {
    let already = headers
        .get_all(header::VARY)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| item.trim().eq_ignore_ascii_case(name) || item.trim() == "*");
    if already {
        return;
    }
    let value = if name == "Cookie" {
        Ok(HeaderValue::from_static("Cookie"))
    } else {
        // Header names are always valid header values.
        HeaderValue::from_str(name)
    };
    if let Ok(value) = value {
        headers.append(header::VARY, value);
    }
}
