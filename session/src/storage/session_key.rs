use std::fmt;

/// The largest session key we accept: the upper limit on a cookie's content.
pub(crate) const MAX_SESSION_KEY_LEN: usize = 4064;

/// The identifier of a session's state in a [`SessionStore`](super::SessionStore).
///
/// For server-side stores it is a random token (see [`generate_session_key`](super::generate_session_key));
/// for the cookie store it is the encoded state itself. A key is at most 4064 bytes long.
///
/// Its `Debug` output never shows the key: raw session keys must not reach logs.
///
/// ```
/// use session::storage::SessionKey;
///
/// let key = SessionKey::try_from("abc".to_owned()).unwrap();
/// assert_eq!(key.as_ref(), "abc");
/// assert_eq!(format!("{key:?}"), "SessionKey(..)");
/// assert!(SessionKey::try_from("x".repeat(5000)).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionKey(String);

impl TryFrom<String> for SessionKey {
    type Error = InvalidSessionKeyError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.len() > MAX_SESSION_KEY_LEN {
            return Err(InvalidSessionKeyError { len: value.len() });
        }
        Ok(Self(value))
    }
}

impl AsRef<str> for SessionKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<SessionKey> for String {
    fn from(key: SessionKey) -> Self {
        key.0
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

/// A string was refused as a [`SessionKey`] because it is longer than 4064 bytes.
#[derive(Debug, thiserror::Error)]
#[error("a session key must be at most {MAX_SESSION_KEY_LEN} bytes long, got {len} bytes")]
pub struct InvalidSessionKeyError {
    len: usize,
}
