//! How the session token travels: in the session cookie (the default), in a request header,
//! or either.
//!
//! The token is the sealed value the cookie carries, whatever the channel: the same codec,
//! bound to the cookie's name, the same fallback keys and the same per-worker memo of verified
//! values. Only where it is read from and written to differs.
//!
//! - [`request`]: the token a request header carries, and the rule for a request carrying
//!   both a cookie and a header token.
//! - [`response`]: the token (or its voiding) in a response header, and `Vary`.

pub(crate) mod request;
pub(crate) mod response;

use actix_web::http::header::{self, HeaderName};

/// Where the middleware looks for the session token, and where it sends a new one; set with
/// [`SessionMiddlewareBuilder::session_transport`](crate::config::SessionMiddlewareBuilder::session_transport).
///
/// The token is the value the session cookie would carry (sealed with the middleware's key,
/// signed or encrypted as [`CookieContentSecurity`](crate::config::CookieContentSecurity)
/// says), so every store works unchanged whichever transport carries it.
///
/// With a header transport:
/// - a request sends the token in the header: for [`AUTHORIZATION`](header::AUTHORIZATION)
///   as `Authorization: Bearer <token>` (the scheme in any case, one space, then the token),
///   for any other header the whole value is the token. Anything else, or the header sent
///   more than once, counts as a token that does not verify: a fresh session;
/// - a response that creates the session, renews it or otherwise changes its token carries
///   the new token, as is (no `Bearer`), in the *response header*: `Session-Token` when the
///   request header is `Authorization`, else the request header itself (change it with
///   [`session_token_response_header`](crate::config::SessionMiddlewareBuilder::session_token_response_header)).
///   A response that ends the session (`purge()`, or a session that ended meanwhile) carries
///   the response header with an **empty value: the token is void**, forget it. Responses
///   that leave the session as it was carry no token header;
/// - responses that depend on the token name the request header in `Vary`;
/// - a token is at most [`MAX_HEADER_TOKEN_LEN`] bytes: a longer one in a request is a fresh
///   session, and state that would need a longer one (the cookie store) is refused with a
///   logged error and an opaque `500`, as for an oversized cookie.
///
/// Nothing is sent automatically by a browser with a header token, so a header transport
/// is not exposed to cross-site request forgery through ambient credentials; the client must
/// store the token itself, safely (see the crate's security notes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SessionTransport {
    /// The session cookie only (the default): nothing changes from a cookie-only middleware.
    #[default]
    Cookie,
    /// The named request header only; the session cookie is neither read nor sent.
    Header(HeaderName),
    /// The session cookie or the named header, for apps serving browsers and other clients
    /// at once. A request carrying both is a fresh session unless both open to the same
    /// session (a token from one client never mixes with a cookie from another). Responses
    /// answer on the channels the request used; a response to a request that carried neither
    /// (a new session) answers on both: `Set-Cookie` and the token header.
    CookieOrHeader(HeaderName),
}

/// The longest session token accepted in, or sent in, a header: the same bound as the
/// session cookie's `name=value`, which proxies and servers pass everywhere.
pub const MAX_HEADER_TOKEN_LEN: usize = 4096;

/// The response header that carries new tokens when requests send them in `Authorization`.
pub const SESSION_TOKEN_HEADER: &str = "session-token";

/// The transport as the middleware runs it, fixed when it is built.
#[derive(Debug)]
pub(crate) struct TransportConfiguration {
    /// Whether the session cookie is read and sent.
    pub(crate) cookie: bool,
    /// The header the token travels in, if any.
    pub(crate) header: Option<TokenHeader>,
}

/// The header a token travels in.
#[derive(Debug)]
pub(crate) struct TokenHeader {
    /// The request header the token is read from.
    pub(crate) request: HeaderName,
    /// Whether requests send `Bearer <token>` (the request header is `Authorization`).
    pub(crate) bearer: bool,
    /// The response header new tokens (and the void signal) are sent in.
    pub(crate) response: HeaderName,
}

impl TransportConfiguration {
    /// The transport for `transport`, answering in `response_header` if given.
    pub(crate) fn new(transport: SessionTransport, response_header: Option<HeaderName>) -> Self {
        let (cookie, request) = match transport {
            SessionTransport::Cookie => (true, None),
            SessionTransport::Header(name) => (false, Some(name)),
            SessionTransport::CookieOrHeader(name) => (true, Some(name)),
        };
        Self {
            cookie,
            header: request.map(|request| {
                let bearer = request == header::AUTHORIZATION;
                let response = response_header.unwrap_or_else(|| {
                    if bearer {
                        HeaderName::from_static(SESSION_TOKEN_HEADER)
                    } else {
                        request.clone()
                    }
                });
                TokenHeader {
                    request,
                    bearer,
                    response,
                }
            }),
        }
    }
}

/// The channels a request presented a session token on (valid or not), and so the channels
/// its response answers on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Channels {
    /// A cookie with the session's name.
    pub(crate) cookie: bool,
    /// The token header.
    pub(crate) header: bool,
}

impl Channels {
    /// Whether the request presented a token at all.
    pub(crate) fn any(self) -> bool {
        self.cookie || self.header
    }

    /// The channels a response answers on: those the request used, or, when it used none,
    /// every channel the transport has.
    pub(crate) fn answer(self, transport: &TransportConfiguration) -> Self {
        if self.any() {
            self
        } else {
            Self {
                cookie: transport.cookie,
                header: transport.header.is_some(),
            }
        }
    }
}
