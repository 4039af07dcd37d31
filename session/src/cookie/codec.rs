//! The one place where session cookies are sealed and opened.
//!
//! Every cookie value the middleware reads goes through [`CookieCodec::open`], which knows the
//! current key and the fallback keys, so key rotation is a list, not a rewrite.
//!
//! Formats (both bind the value to the cookie's name, so a value sealed for another cookie is
//! rejected):
//! - `Private`: `base64url(nonce[12] | AES-256-GCM ciphertext | tag[16])` with the cookie name
//!   as associated data — the layout of the `cookie` crate's private jar. New cookies use the
//!   URL-safe alphabet without padding, which needs no percent-encoding in a cookie; values in
//!   the standard alphabet (written by actix-session's `Private` mode) are still accepted.
//! - `Signed`: `base64url(HMAC-SHA256(len(name) | name | value)) | value`. Unlike the `cookie`
//!   crate's signed jar, the name is part of the MAC.

use actix_web::cookie::Key;
use aes_gcm::{
    Aes256Gcm, KeyInit as _, Nonce, Tag,
    aead::{AeadInPlace as _, generic_array::GenericArray},
};
use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use hmac::{Hmac, Mac as _};
use rand::RngCore as _;
use sha2::Sha256;

use super::CookieContentSecurity;

/// The largest cookie value we try to open; anything longer is not ours.
const MAX_COOKIE_VALUE_LEN: usize = 4096;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Length of an HMAC-SHA256 digest in URL-safe base64 without padding.
const DIGEST_LEN: usize = 43;

/// Seals and opens session cookie values under a current key and fallback keys.
pub(crate) struct CookieCodec {
    /// The current key first, then the fallback keys.
    keys: Vec<KeyMaterial>,
    security: CookieContentSecurity,
}

/// The derived keys of one [`Key`], set up once instead of on every request.
struct KeyMaterial {
    cipher: Aes256Gcm,
    signing: Hmac<Sha256>,
}

impl KeyMaterial {
    fn new(key: &Key) -> Self {
        Self {
            cipher: Aes256Gcm::new(GenericArray::from_slice(key.encryption())),
            signing: <Hmac<Sha256> as hmac::Mac>::new_from_slice(key.signing())
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length")),
        }
    }

    fn mac(&self, name: &str, value: &str) -> Hmac<Sha256> {
        let mut mac = self.signing.clone();
        // The name's length first, so that ("ab", "c") and ("a", "bc") never collide.
        let name_len = u32::try_from(name.len()).unwrap_or(u32::MAX);
        mac.update(&name_len.to_be_bytes());
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
        mac
    }

    fn sign(&self, name: &str, value: &str) -> String {
        let digest = self.mac(name, value).finalize().into_bytes();
        let mut sealed = String::with_capacity(DIGEST_LEN + value.len());
        URL_SAFE_NO_PAD.encode_string(digest, &mut sealed);
        // The value stays readable; what a cookie cannot hold is percent-encoded (`open`
        // decodes it before verifying).
        percent_encode_into(value, &mut sealed);
        sealed
    }

    fn verify(&self, name: &str, sealed: &str) -> Option<String> {
        let digest = sealed.get(..DIGEST_LEN)?;
        let value = &sealed[DIGEST_LEN..];
        let digest = URL_SAFE_NO_PAD.decode(digest).ok()?;
        // `verify_slice` compares in constant time.
        self.mac(name, value).verify_slice(&digest).ok()?;
        Some(value.to_owned())
    }

    fn encrypt(&self, name: &str, value: &str) -> String {
        let mut data = vec![0; NONCE_LEN + value.len() + TAG_LEN];
        let (nonce, rest) = data.split_at_mut(NONCE_LEN);
        let (body, tag) = rest.split_at_mut(value.len());
        rand::rng().fill_bytes(nonce);
        body.copy_from_slice(value.as_bytes());
        let sealed_tag = self
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(nonce), name.as_bytes(), body)
            .unwrap_or_else(|_| unreachable!("AES-GCM encrypts any cookie-sized buffer"));
        tag.copy_from_slice(&sealed_tag);
        URL_SAFE_NO_PAD.encode(&data)
    }

    fn decrypt(&self, name: &str, sealed: &str) -> Option<String> {
        // New cookies are URL-safe; actix-session's are in the standard alphabet.
        let mut data = URL_SAFE_NO_PAD
            .decode(sealed)
            .or_else(|_| STANDARD.decode(sealed))
            .ok()?;
        if data.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let body_len = data.len() - NONCE_LEN - TAG_LEN;
        let (nonce, rest) = data.split_at_mut(NONCE_LEN);
        let (body, tag) = rest.split_at_mut(body_len);
        self.cipher
            .decrypt_in_place_detached(
                Nonce::from_slice(nonce),
                name.as_bytes(),
                body,
                Tag::from_slice(tag),
            )
            .ok()?;
        // Keep the plaintext in place: drop the tag, then the nonce.
        data.truncate(NONCE_LEN + body_len);
        data.drain(..NONCE_LEN);
        String::from_utf8(data).ok()
    }
}

/// A cookie value that passed verification.
pub(crate) struct OpenedValue {
    pub(crate) value: String,
    /// Whether it verified under a fallback key only, and so should be re-issued.
    pub(crate) needs_reissue: bool,
}

impl CookieCodec {
    pub(crate) fn new(current: &Key, fallbacks: &[Key], security: CookieContentSecurity) -> Self {
        let keys = std::iter::once(current)
            .chain(fallbacks)
            .map(KeyMaterial::new)
            .collect();
        Self { keys, security }
    }

    /// Verifies (and decrypts) the value of a cookie named `name`, as sent by the client
    /// (still percent-encoded). Returns `None` for anything that does not verify.
    pub(crate) fn open(&self, name: &str, raw_value: &str) -> Option<OpenedValue> {
        if raw_value.len() > MAX_COOKIE_VALUE_LEN {
            return None;
        }
        let decoded = percent_decode(raw_value)?;
        self.keys.iter().enumerate().find_map(|(index, key)| {
            let value = match self.security {
                CookieContentSecurity::Private => key.decrypt(name, &decoded),
                CookieContentSecurity::Signed => key.verify(name, &decoded),
            }?;
            Some(OpenedValue {
                value,
                needs_reissue: index > 0,
            })
        })
    }

    /// Encrypts or signs `value` for the cookie `name` under the current key, and returns the
    /// cookie value as it goes on the wire: only cookie-octets (RFC 6265), ready for
    /// `Set-Cookie` as it is.
    pub(crate) fn seal(&self, name: &str, value: &str) -> String {
        let key = &self.keys[0];
        match self.security {
            CookieContentSecurity::Private => key.encrypt(name, value),
            CookieContentSecurity::Signed => key.sign(name, value),
        }
    }
}

impl std::fmt::Debug for CookieCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("CookieCodec")
            .field("keys", &self.keys.len())
            .field("security", &self.security)
            .finish()
    }
}

/// Appends `value`, percent-encoding every byte that is not a cookie-octet (RFC 6265), and
/// `%` itself; the inverse of [`percent_decode`].
fn percent_encode_into(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let is_plain = |byte: u8| matches!(byte, 0x21 | 0x23..=0x24 | 0x26..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E);
    if value.bytes().all(is_plain) {
        out.push_str(value);
        return;
    }
    for byte in value.bytes() {
        if is_plain(byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
    }
}

/// Decodes `%XX` escapes; `None` if an escape is malformed or the result is not UTF-8.
fn percent_decode(raw: &str) -> Option<std::borrow::Cow<'_, str>> {
    let mut rest = raw.as_bytes();
    let Some(mut escape) = memchr::memchr(b'%', rest) else {
        return Some(raw.into());
    };
    let mut out = Vec::with_capacity(rest.len());
    loop {
        out.extend_from_slice(&rest[..escape]);
        let high = hex_digit(*rest.get(escape + 1)?)?;
        let low = hex_digit(*rest.get(escape + 2)?)?;
        out.push(high << 4 | low);
        rest = &rest[escape + 3..];
        match memchr::memchr(b'%', rest) {
            Some(next) => escape = next,
            None => break,
        }
    }
    out.extend_from_slice(rest);
    String::from_utf8(out).ok().map(Into::into)
}

/// The value of one hexadecimal digit (either case).
fn hex_digit(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::cookie::{Cookie, CookieJar};

    use super::*;

    const BOTH: [CookieContentSecurity; 2] = [
        CookieContentSecurity::Private,
        CookieContentSecurity::Signed,
    ];

    fn codec(security: CookieContentSecurity) -> (Key, CookieCodec) {
        let key = Key::generate();
        let codec = CookieCodec::new(&key, &[], security);
        (key, codec)
    }

    #[test]
    fn sealed_values_open_under_the_same_name_only() {
        for security in BOTH {
            let (_, codec) = codec(security);
            let sealed = codec.seal("id", "secret");
            let opened = codec.open("id", &sealed).unwrap();
            assert_eq!(opened.value, "secret");
            assert!(!opened.needs_reissue);
            assert!(codec.open("other", &sealed).is_none(), "{security:?}");
        }
    }

    #[test]
    fn private_values_from_actix_session_stay_readable() {
        let (key, codec) = codec(CookieContentSecurity::Private);
        let mut jar = CookieJar::new();
        jar.private_mut(&key)
            .add(Cookie::new("id", "from-actix-session"));
        let sealed = jar.get("id").unwrap().value().to_owned();
        assert_eq!(
            codec.open("id", &sealed).unwrap().value,
            "from-actix-session"
        );
    }

    #[test]
    fn fallback_keys_open_and_ask_for_reissue() {
        for security in BOTH {
            let (old_key, old) = codec(security);
            let sealed = old.seal("id", "v");
            let rotated = CookieCodec::new(&Key::generate(), &[old_key], security);
            let opened = rotated.open("id", &sealed).unwrap();
            assert!(opened.needs_reissue);
            let (_, stranger) = codec(security);
            assert!(stranger.open("id", &sealed).is_none());
        }
    }

    #[test]
    fn short_or_malformed_values_do_not_open() {
        for security in BOTH {
            let (_, codec) = codec(security);
            for bad in ["", "a", "%", "é", &"A".repeat(42), &"A".repeat(5000)] {
                assert!(codec.open("id", bad).is_none(), "{security:?} {bad:?}");
            }
        }
    }

    #[test]
    fn sealed_values_are_cookie_octets_and_open_again() {
        let is_cookie_octet =
            |b: u8| matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E);
        for security in BOTH {
            let (_, codec) = codec(security);
            for value in ["a session key", r#"{"d":{"u":"a;b, c\\"}}"#, "50% é"] {
                let sealed = codec.seal("id", value);
                assert!(sealed.bytes().all(is_cookie_octet), "{security:?} {sealed}");
                assert_eq!(codec.open("id", &sealed).unwrap().value, value);
            }
        }
        let (_, private) = codec(CookieContentSecurity::Private);
        let sealed = private.seal("id", "a session key");
        assert!(
            sealed
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "Private values are URL-safe base64"
        );
    }

    #[test]
    fn percent_decoding_rejects_malformed_escapes() {
        assert_eq!(percent_decode("a%20b").as_deref(), Some("a b"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%ff"), None);
        assert_eq!(percent_decode("%+1"), None, "a sign is not a hex digit");
        assert_eq!(percent_decode("%C3%A9%2522").as_deref(), Some("é%22"));
        assert_eq!(percent_decode("x%3b").as_deref(), Some("x;"));
    }
}
