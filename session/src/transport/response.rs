//! What a response says about a header token: the new token, or an empty value meaning the
//! token is void, in the response header; and the request header in `Vary`.

use actix_web::http::header::{HeaderMap, HeaderValue};

use super::{MAX_HEADER_TOKEN_LEN, TokenHeader};
use crate::cookie::response::{Unsendable, add_vary};

/// Sets the response header to `token` (`Some("")`: the token is void) and, when the
/// response depends on the token (`vary`), names the request header in `Vary`.
pub(crate) fn write_headers(
    headers: &mut HeaderMap,
    header: &TokenHeader,
    token: Option<&str>,
    vary: bool,
) -> Result<(), Unsendable> {
    if let Some(token) = token {
        headers.insert(header.response.clone(), token_value(token)?);
    }
    if vary {
        add_vary(headers, header.request.as_str());
    }
    Ok(())
}

/// The header value carrying `token`, refused (with the reason logged, never the token) when
/// it is longer than [`MAX_HEADER_TOKEN_LEN`].
fn token_value(token: &str) -> Result<HeaderValue, Unsendable> {
    if token.len() > MAX_HEADER_TOKEN_LEN {
        tracing::error!(
            bytes = token.len(),
            limit = MAX_HEADER_TOKEN_LEN,
            "the session token would exceed the header limit; store less in the session or \
             use a server-side store"
        );
        return Err(Unsendable);
    }
    HeaderValue::from_str(token).map_err(|err| {
        tracing::error!(error = %err, "the session token is not a valid header value");
        Unsendable
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_longer_than_the_limit_are_refused() {
        assert!(token_value(&"a".repeat(MAX_HEADER_TOKEN_LEN)).is_ok());
        assert!(token_value(&"a".repeat(MAX_HEADER_TOKEN_LEN + 1)).is_err());
        assert!(token_value("").is_ok(), "the empty value voids a token");
    }
}
