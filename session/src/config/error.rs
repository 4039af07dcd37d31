//! [`BuildError`]: why a middleware configuration is refused.

use super::MAX_FALLBACK_KEYS;
use crate::cookie::rules::CookieRule;

/// A configuration the middleware refuses to build with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The cookie settings break these rules: every one of them, in the order of
    /// [`CookieSettings::check`](super::CookieSettings::check).
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
