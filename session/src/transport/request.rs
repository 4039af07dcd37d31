//! Finding the session token in a request: the token header, and the rule for a request that
//! carries both a cookie and a header token.

use actix_web::http::header::HeaderMap;

use super::{MAX_HEADER_TOKEN_LEN, TokenHeader};
use crate::cookie::verified_cache::VerifiedCookie;

/// What one channel (the cookie or the header) presented.
#[derive(Clone)]
pub(crate) enum Presented {
    /// No token.
    Nothing,
    /// A token that did not verify.
    Rejected,
    /// A token that verified.
    Verified(VerifiedCookie),
}

/// The session a request presents when it may carry a token in a cookie and in a header.
///
/// Why: a cookie is sent by the browser on its own, a header token by whatever client holds
/// it. A request carrying both whose tokens name different sessions (or one that does not
/// verify) mixes two clients' credentials, and neither can be trusted to be the one meant:
/// it gets a fresh session. Both naming the same session is one client using both channels.
pub(crate) fn agree(cookie: Presented, header: Presented) -> Presented {
    match (cookie, header) {
        (Presented::Nothing, other) | (other, Presented::Nothing) => other,
        (Presented::Verified(cookie), Presented::Verified(header)) if cookie.key == header.key => {
            Presented::Verified(VerifiedCookie {
                key: cookie.key,
                needs_reissue: cookie.needs_reissue || header.needs_reissue,
            })
        }
        _ => {
            tracing::warn!(
                "the session cookie and the session token header do not name the same \
                 session; starting a fresh session"
            );
            Presented::Rejected
        }
    }
}

/// What the token header of a request holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeaderToken<'a> {
    /// The request does not send the header.
    Absent,
    /// The header is there but holds no usable token: sent more than once, not UTF-8, not
    /// `Bearer <token>` for `Authorization`, empty, or longer than [`MAX_HEADER_TOKEN_LEN`].
    /// It counts as a token that does not verify.
    Unusable,
    /// The token as sent, still to be verified.
    Token(&'a str),
}

/// The token the request's `header` carries.
///
/// A header sent several times is refused rather than tried value by value: unlike cookies,
/// which browsers may legitimately send twice (for two paths), no client sends two tokens.
pub(crate) fn header_token<'a>(headers: &'a HeaderMap, header: &TokenHeader) -> HeaderToken<'a> {
    let mut values = headers.get_all(&header.request);
    let Some(value) = values.next() else {
        return HeaderToken::Absent;
    };
    if values.next().is_some() {
        return HeaderToken::Unusable;
    }
    let Ok(value) = value.to_str() else {
        return HeaderToken::Unusable;
    };
    let token = if header.bearer {
        bearer_token(value)
    } else {
        Some(value)
    };
    match token {
        Some(token) if !token.is_empty() && token.len() <= MAX_HEADER_TOKEN_LEN => {
            HeaderToken::Token(token)
        }
        _ => HeaderToken::Unusable,
    }
}

/// The token of an `Authorization: Bearer <token>` value: the scheme in any case, exactly one
/// space, then the token (RFC 6750's `b64token` never holds a space).
fn bearer_token(value: &str) -> Option<&str> {
    const SCHEME: &str = "Bearer ";
    let scheme = value.get(..SCHEME.len())?;
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return None;
    }
    let token = &value[SCHEME.len()..];
    (!token.contains(' ')).then_some(token)
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{self, HeaderName, HeaderValue};

    use super::*;

    fn header(bearer: bool) -> TokenHeader {
        let request = if bearer {
            header::AUTHORIZATION
        } else {
            HeaderName::from_static("x-session")
        };
        TokenHeader {
            response: request.clone(),
            request,
            bearer,
        }
    }

    fn token_of(bearer: bool, values: &[&[u8]]) -> Option<String> {
        let header = header(bearer);
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                header.request.clone(),
                HeaderValue::from_bytes(value).expect("a header value"),
            );
        }
        match header_token(&headers, &header) {
            HeaderToken::Absent => None,
            HeaderToken::Unusable => Some("<unusable>".to_owned()),
            HeaderToken::Token(token) => Some(token.to_owned()),
        }
    }

    #[test]
    fn bearer_tokens_follow_the_scheme_exactly() {
        let unusable = Some("<unusable>".to_owned());
        assert_eq!(token_of(true, &[]), None);
        assert_eq!(token_of(true, &[b"Bearer abc"]), Some("abc".to_owned()));
        assert_eq!(token_of(true, &[b"bEARER abc"]), Some("abc".to_owned()));
        for bad in [
            b"Bearer  abc".as_slice(),
            b"Bearer",
            b"Bearer ",
            b"Basic abc",
            b"Bearerabc",
            b"abc",
            b"Bearer a b",
            b"Bearer \xff",
        ] {
            assert_eq!(token_of(true, &[bad]), unusable, "{bad:?}");
        }
        assert_eq!(token_of(true, &[b"Bearer a", b"Bearer a"]), unusable);
    }

    #[test]
    fn other_headers_carry_the_token_as_is() {
        let unusable = Some("<unusable>".to_owned());
        assert_eq!(token_of(false, &[b"abc"]), Some("abc".to_owned()));
        assert_eq!(
            token_of(false, &[b"Bearer abc"]),
            Some("Bearer abc".to_owned())
        );
        assert_eq!(token_of(false, &[b""]), unusable);
        let long = vec![b'a'; MAX_HEADER_TOKEN_LEN + 1];
        assert_eq!(token_of(false, &[&long]), unusable);
        let longest = vec![b'a'; MAX_HEADER_TOKEN_LEN];
        assert!(token_of(false, &[&longest]).is_some_and(|t| t.len() == MAX_HEADER_TOKEN_LEN));
    }
}
