//! The one place where session cookies are sealed and opened.
//!
//! Every cookie value the middleware reads goes through [`CookieCodec::open`], which knows the
//! current key and the fallback keys, so key rotation is a list, not a rewrite.

use actix_web::cookie::{Cookie, CookieJar, Key};

use crate::config::CookieContentSecurity;

/// The largest cookie value we try to open; anything longer is not ours.
const MAX_COOKIE_VALUE_LEN: usize = 4096;

/// Seals and opens session cookie values under a current key and fallback keys.
pub(crate) struct CookieCodec {
    /// The current key first, then the fallback keys.
    keys: Vec<Key>,
    security: CookieContentSecurity,
}

/// A cookie value that passed verification.
pub(crate) struct OpenedValue {
    pub(crate) value: String,
    /// Whether it verified under a fallback key only, and so should be re-issued.
    pub(crate) needs_reissue: bool,
}

impl CookieCodec {
    pub(crate) fn new(current: Key, fallbacks: Vec<Key>, security: CookieContentSecurity) -> Self {
        let mut keys = Vec::with_capacity(1 + fallbacks.len());
        keys.push(current);
        keys.extend(fallbacks);
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
            let candidate = Cookie::new(name.to_owned(), decoded.clone());
            let jar = CookieJar::new();
            let opened = match self.security {
                CookieContentSecurity::Private => jar.private(key).decrypt(candidate),
                CookieContentSecurity::Signed => jar.signed(key).verify(candidate),
            }?;
            Some(OpenedValue {
                value: opened.value().to_owned(),
                needs_reissue: index > 0,
            })
        })
    }

    /// Encrypts or signs `cookie`'s value under the current key.
    pub(crate) fn seal(&self, cookie: Cookie<'static>) -> Cookie<'static> {
        let name = cookie.name().to_owned();
        let mut jar = CookieJar::new();
        match self.security {
            CookieContentSecurity::Private => jar.private_mut(&self.keys[0]).add(cookie),
            CookieContentSecurity::Signed => jar.signed_mut(&self.keys[0]).add(cookie),
        }
        jar.get(&name)
            .cloned()
            .unwrap_or_else(|| unreachable!("the jar holds the cookie just added"))
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

/// Decodes `%XX` escapes; `None` if an escape is malformed or the result is not UTF-8.
fn percent_decode(raw: &str) -> Option<String> {
    if !raw.contains('%') {
        return Some(raw.to_owned());
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec(security: CookieContentSecurity) -> (Key, CookieCodec) {
        let key = Key::generate();
        (key.clone(), CookieCodec::new(key, Vec::new(), security))
    }

    #[test]
    fn sealed_values_open_under_the_same_name_only_when_private() {
        let (_, codec) = codec(CookieContentSecurity::Private);
        let sealed = codec.seal(Cookie::new("id", "secret"));
        let opened = codec.open("id", sealed.value()).unwrap();
        assert_eq!(opened.value, "secret");
        assert!(!opened.needs_reissue);
        assert!(codec.open("other", sealed.value()).is_none());
    }

    #[test]
    fn fallback_keys_open_and_ask_for_reissue() {
        for security in [
            CookieContentSecurity::Private,
            CookieContentSecurity::Signed,
        ] {
            let (old_key, old) = codec(security);
            let sealed = old.seal(Cookie::new("id", "v"));
            let rotated = CookieCodec::new(Key::generate(), vec![old_key], security);
            let opened = rotated.open("id", sealed.value()).unwrap();
            assert!(opened.needs_reissue);
            let (_, stranger) = codec(security);
            assert!(stranger.open("id", sealed.value()).is_none());
        }
    }

    #[test]
    fn percent_decoding_rejects_malformed_escapes() {
        assert_eq!(percent_decode("a%20b").as_deref(), Some("a b"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%ff"), None);
    }
}
