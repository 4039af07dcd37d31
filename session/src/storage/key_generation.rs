use rand::distr::{Alphanumeric, SampleString as _};

use super::SessionKey;

/// Characters in a generated session key: 64 alphanumerics carry about 381 bits of entropy.
const GENERATED_KEY_LEN: usize = 64;

/// Generates a fresh session key from the operating system-seeded CSPRNG (`rand::rng()`),
/// following the OWASP recommendations on session identifier entropy.
///
/// ```
/// let a = session::storage::generate_session_key();
/// let b = session::storage::generate_session_key();
/// assert_eq!(a.as_ref().len(), 64);
/// assert_ne!(a, b);
/// ```
pub fn generate_session_key() -> SessionKey {
    let key = Alphanumeric.sample_string(&mut rand::rng(), GENERATED_KEY_LEN);
    SessionKey::try_from(key).unwrap_or_else(|_| unreachable!("64 characters fit in a session key"))
}
