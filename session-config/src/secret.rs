//! [`SecretKey`]: the cookie key, parsed from base64 and never printed.

use std::fmt;

use actix_web::cookie::Key;
use base64::{
    Engine as _, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use figment::value::Value;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// The smallest key we accept, in bytes (what `actix_web::cookie::Key` needs).
pub const MIN_KEY_BYTES: usize = 64;

/// The text that stands for a key wherever one would be shown.
pub(crate) const REDACTED: &str = "<redacted>";

const PADDING_INDIFFERENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, PADDING_INDIFFERENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, PADDING_INDIFFERENT);

/// A secret key for the session cookies: at least 64 bytes, given in base64.
///
/// It signs or encrypts the session cookie, so whoever knows it can forge sessions. It is
/// therefore never shown: its `Debug` prints `<redacted>`, it has no `Display`, errors about
/// it never quote it, and it serializes as `<redacted>` (so a config dumped with serde does
/// not leak it either).
///
/// Generate one with `openssl rand -base64 64` (or `head -c 64 /dev/urandom | base64 -w0`).
///
/// ```
/// use session_config::SecretKey;
///
/// let key = SecretKey::from_base64(&"QUJD".repeat(22)).expect("66 bytes");
/// assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
/// assert!(SecretKey::from_base64("c2hvcnQ=").is_err()); // "short": 5 bytes
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Vec<u8>);

/// Why a string is not a usable [`SecretKey`]. Its message never contains the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretKeyError {
    /// The text is not base64 (standard or URL-safe alphabet).
    #[error("not valid base64 (generate a key with `openssl rand -base64 64`)")]
    NotBase64,
    /// The key is shorter than 64 bytes.
    #[error(
        "too short: it decodes to {0} bytes, at least 64 are required (generate one with `openssl rand -base64 64`)"
    )]
    TooShort(usize),
}

impl SecretKey {
    /// Parses a base64 key (standard or URL-safe alphabet, padding optional) of at least 64
    /// bytes. Surrounding whitespace is ignored.
    pub fn from_base64(text: &str) -> Result<Self, SecretKeyError> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE.decode(text))
            .map_err(|_| SecretKeyError::NotBase64)?;
        Self::from_bytes(bytes)
    }

    /// Takes raw key bytes (at least 64).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, SecretKeyError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(SecretKeyError::TooShort(bytes.len()));
        }
        Ok(Self(bytes))
    }

    /// The key in standard base64, for handing it to figment only: never log it.
    pub(crate) fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.0)
    }

    /// The cookie [`Key`] derived from this secret (its first 64 bytes).
    pub fn to_key(&self) -> Key {
        // `from_bytes`/`from_base64` guarantee at least 64 bytes, which is all `Key::from` needs.
        Key::from(&self.0)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({REDACTED})")
    }
}

impl Serialize for SecretKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for SecretKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Go through a `Value` so that no serde error message can quote the key.
        match <Value as Deserialize>::deserialize(deserializer)? {
            Value::String(_, text) => Self::from_base64(&text).map_err(de::Error::custom),
            _ => Err(de::Error::custom(
                "expected a base64 string of at least 64 bytes",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_standard_and_url_safe_without_padding() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(65).collect();
        let standard = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(
            SecretKey::from_base64(&standard),
            SecretKey::from_bytes(bytes.clone())
        );
        assert_eq!(SecretKey::from_base64(&url), SecretKey::from_bytes(bytes));
    }

    #[test]
    fn rejects_short_and_garbage() {
        assert_eq!(
            SecretKey::from_base64("AAAA"),
            Err(SecretKeyError::TooShort(3))
        );
        assert_eq!(
            SecretKey::from_base64("not base64 at all!"),
            Err(SecretKeyError::NotBase64)
        );
    }
}
