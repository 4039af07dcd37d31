//! Finding the session cookie in a request: the `Cookie` header scan.
//!
//! Headers are scanned as bytes: a header that is not UTF-8 still counts as carrying a
//! (broken) session cookie, so that `purge` can remove it.

use actix_web::http::header::{self, HeaderMap};

/// The value of every cookie named `name` in the request's `Cookie` headers, in order: the
/// value as sent (matched by name as sent, not percent-decoded, surrounding quotes removed),
/// or `None` when it is not UTF-8.
pub(crate) fn session_cookie_values<'a>(
    headers: &'a HeaderMap,
    name: &'a str,
) -> impl Iterator<Item = Option<&'a str>> {
    let name = name.as_bytes();
    headers
        .get_all(header::COOKIE)
        .flat_map(|value| cookie_pairs(value.as_bytes()))
        .filter_map(move |pair| cookie_value(pair, name))
        .map(|value| {
            std::str::from_utf8(value)
                .ok()
                .map(|value| value.trim_matches('"'))
        })
}

/// The `;`-separated pairs of one `Cookie` header, found with a SIMD scan (the values are
/// long and the separators few).
fn cookie_pairs(header: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(header);
    std::iter::from_fn(move || {
        let current = rest?;
        match memchr::memchr(b';', current) {
            Some(end) => {
                rest = Some(&current[end + 1..]);
                Some(&current[..end])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// The value of `pair` if it is `name=value` (surrounding whitespace ignored).
fn cookie_value<'a>(pair: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    pair.trim_ascii().strip_prefix(name)?.strip_prefix(b"=")
}
