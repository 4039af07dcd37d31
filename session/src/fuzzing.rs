//! Entry points for the fuzz targets in `fuzz/` and the property tests: thin wrappers that
//! reach the decoders a client controls. Behind the hidden `__fuzz` feature; not part of the
//! public API.

use actix_web::{
    cookie::Key,
    http::header::{self, HeaderMap, HeaderValue},
};

use crate::{
    cookie::{
        CookieConfiguration, CookieContentSecurity, codec::CookieCodec, rules::CookieSettings,
        verified_cache::VerifiedCookies,
    },
    middleware::load::read_session_cookie,
};

fn security(signed: bool) -> CookieContentSecurity {
    if signed {
        CookieContentSecurity::Signed
    } else {
        CookieContentSecurity::Private
    }
}

/// Seals `value` for the cookie `name` as the middleware does, as it goes on the wire.
pub fn seal_cookie_value(key: &Key, name: &str, value: &str, signed: bool) -> String {
    CookieCodec::new(key, &[], security(signed)).seal(name, value)
}

/// Opens a cookie value as the middleware does; `None` if it does not verify.
pub fn open_cookie_value(key: &Key, name: &str, value: &str, signed: bool) -> Option<String> {
    CookieCodec::new(key, &[], security(signed))
        .open(name, value)
        .map(|opened| opened.value)
}

/// Runs the middleware's `Cookie` header parsing and verification on raw header bytes and
/// returns the session key it accepts, if any.
///
/// The cookie is configured as [`SessionMiddleware`](crate::SessionMiddleware) configures it
/// with the default settings.
///
/// # Panics
/// If reading the same header again, through the memo of verified values, gives another key.
pub fn session_key_from_cookie_header(
    key: &Key,
    header_bytes: &[u8],
    signed: bool,
) -> Option<String> {
    let value = HeaderValue::from_bytes(header_bytes).ok()?;
    let mut headers = HeaderMap::new();
    headers.insert(header::COOKIE, value);
    let config = CookieConfiguration::new(
        CookieSettings::default(),
        (key, &[]),
        security(signed),
        None,
        4,
    )
    .unwrap_or_else(|broken| unreachable!("the default cookie settings break {broken:?}"));
    let mut verified = VerifiedCookies::new(config.verified_cache);
    let first = read_session_cookie(&headers, &config, &mut verified).key;
    // A second read goes through the memo of verified values, and must agree.
    let again = read_session_cookie(&headers, &config, &mut verified).key;
    assert_eq!(again, first, "the verified-cookie memo changed the outcome");
    first.map(String::from)
}

/// Decodes a Redis session hash given as raw field/value pairs, as `RedisSessionStore::load`
/// does, and checks that a decodable one re-encodes to the same state. Returns whether it
/// decoded.
///
/// # Panics
/// If a decodable record does not survive an encode/decode round trip.
#[cfg(feature = "redis-session")]
pub fn redis_record_round_trip(fields: Vec<(Vec<u8>, Vec<u8>)>) -> bool {
    use crate::storage::redis::{decode_record_fields, encode_record_fields};

    let Ok(Some(state)) = decode_record_fields(fields) else {
        return false;
    };
    let encoded = encode_record_fields(&state).expect("decoded JSON encodes");
    let decoded = decode_record_fields(encoded).expect("our own encoding decodes");
    assert_eq!(decoded, Some(state), "a record changed across a round trip");
    true
}
