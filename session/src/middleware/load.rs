//! Loading a request's session: read and verify the token (cookie or header, as the
//! transport says), load the state it points to, take the middleware's own entries (creation
//! time, metadata) out of it, and enforce the absolute timeout.

use actix_web::{HttpRequest, dev::Extensions, http::header::HeaderMap};

use super::{Engine, failure::store_failure};
use crate::{
    absolute_timeout,
    config::Configuration,
    cookie::{
        CookieConfiguration,
        request::session_cookie_values,
        verified_cache::{VerifiedCookie, VerifiedCookies},
    },
    session::Session,
    session_meta::Meta,
    storage::{LoadError, SessionKey, SessionState, SessionStore},
    transport::{
        Channels, TokenHeader,
        request::{HeaderToken, Presented, agree, header_token},
    },
};

/// A request's session as loading found it: what its cookie said and what the store holds.
/// Kept until the response, where it decides what to save and which cookie to send.
pub(crate) struct LoadedSession {
    /// The session's key: its cookie verified and the store knows it. `None` for a fresh
    /// session.
    pub(crate) key: Option<SessionKey>,
    /// The stored state, until it is handed to the request's `Session`.
    state: Option<SessionState>,
    /// When the session was created (Unix seconds), if its record says (records written
    /// before creation times were kept for every session may not).
    pub(crate) created_at: Option<i64>,
    /// The stored metadata (public id, owner, device), until it is handed to the request's
    /// `Session`; `None` for a fresh session or a record from an older release.
    pub(crate) meta: Option<Meta>,
    /// The channels the request carried a token on (a cookie with the session's name, the
    /// token header), valid or not.
    pub(crate) presented: Channels,
    /// Whether the token verified only under a fallback key, and so must be re-issued.
    pub(crate) needs_reissue: bool,
}

impl LoadedSession {
    /// A request without a session cookie.
    const FRESH: Self = Self {
        key: None,
        state: None,
        created_at: None,
        meta: None,
        presented: Channels {
            cookie: false,
            header: false,
        },
        needs_reissue: false,
    };

    /// Hands the stored state over (to the request's `Session`).
    pub(super) fn take_state(&mut self) -> Option<SessionState> {
        self.state.take()
    }
}

impl<Store> Engine<Store> {
    /// Hands the loaded state and metadata, with the store's owner index, to the request's
    /// `Session`.
    pub(super) fn attach(&self, extensions: &mut Extensions, loaded: &mut LoadedSession) {
        Session::attach(
            extensions,
            loaded.state.take(),
            loaded.meta.take(),
            self.owner_index.clone(),
        );
    }
}

impl<Store: SessionStore + 'static> Engine<Store> {
    /// Reads the token and loads the state it points to.
    pub(super) async fn load(&self, req: &HttpRequest) -> Result<LoadedSession, actix_web::Error> {
        let token = read_session_token(
            req.headers(),
            &self.configuration,
            &mut self.verified_cookies.borrow_mut(),
        );
        let mut session = token;
        load_state(self.store.as_ref(), &self.configuration, &mut session).await?;
        Ok(session)
    }
}

/// Finds the session token where the transport says: the cookie, the token header, or
/// both (which must then name the same session, [`agree`]).
pub(crate) fn read_session_token(
    headers: &HeaderMap,
    configuration: &Configuration,
    verified_cookies: &mut VerifiedCookies,
) -> LoadedSession {
    let transport = &configuration.transport;
    let cookie = if transport.cookie {
        read_session_cookie(headers, &configuration.cookie, verified_cookies)
    } else {
        LoadedSession::FRESH
    };
    let Some(header) = &transport.header else {
        return cookie;
    };
    let from_header = read_header_token(headers, header, &configuration.cookie, verified_cookies);
    let presented = Channels {
        cookie: cookie.presented.cookie,
        header: !matches!(from_header, Presented::Nothing),
    };
    let from_cookie = match cookie.key {
        _ if !presented.cookie => Presented::Nothing,
        None => Presented::Rejected,
        Some(key) => Presented::Verified(VerifiedCookie {
            key,
            needs_reissue: cookie.needs_reissue,
        }),
    };
    let mut found = LoadedSession {
        presented,
        ..LoadedSession::FRESH
    };
    if let Presented::Verified(VerifiedCookie { key, needs_reissue }) =
        agree(from_cookie, from_header)
    {
        found.key = Some(key);
        found.needs_reissue = needs_reissue;
    }
    found
}

/// Verifies the token of the token header, as the cookie's value would be (same codec, same
/// name, same memo).
fn read_header_token(
    headers: &HeaderMap,
    header: &TokenHeader,
    config: &CookieConfiguration,
    verified_cookies: &mut VerifiedCookies,
) -> Presented {
    let opened = match header_token(headers, header) {
        HeaderToken::Absent => return Presented::Nothing,
        HeaderToken::Unusable => None,
        HeaderToken::Token(token) => verified_cookies.open(&config.codec, &config.name, token),
    };
    match opened {
        Some(verified) => Presented::Verified(verified),
        None => {
            tracing::warn!(
                "the session token header failed verification; starting a fresh session"
            );
            Presented::Rejected
        }
    }
}

/// Finds the session cookie. Every cookie carrying the session's name is verified, in any
/// order; the first that verifies wins.
pub(crate) fn read_session_cookie(
    headers: &HeaderMap,
    config: &CookieConfiguration,
    verified_cookies: &mut VerifiedCookies,
) -> LoadedSession {
    let mut found = LoadedSession::FRESH;
    for value in session_cookie_values(headers, &config.name) {
        found.presented.cookie = true;
        let Some(value) = value else {
            continue;
        };
        let opened = verified_cookies.open(&config.codec, &config.name, value);
        if let Some(VerifiedCookie { key, needs_reissue }) = opened {
            found.key = Some(key);
            found.needs_reissue = needs_reissue;
            break;
        }
    }
    if found.presented.cookie && found.key.is_none() {
        tracing::warn!("the session cookie failed verification; starting a fresh session");
    }
    found
}

/// Loads the state of the session whose cookie verified; a key the store does not know, an
/// undecodable record or a session past its absolute lifetime give a fresh session.
async fn load_state<Store: SessionStore>(
    store: &Store,
    configuration: &Configuration,
    session: &mut LoadedSession,
) -> Result<(), actix_web::Error> {
    let Some(key) = session.key.take() else {
        return Ok(());
    };
    let mut state = match store.load(&key).await {
        Ok(Some(state)) => state,
        Ok(None) => {
            tracing::debug!("unknown or expired session key; starting a fresh session");
            return Ok(());
        }
        Err(LoadError::Deserialization(err)) => {
            tracing::warn!(error = %err, "undecodable session record; starting a fresh session");
            return Ok(());
        }
        Err(err) => return Err(store_failure("load", &err)),
    };
    let created_at = absolute_timeout::take_created_at(&mut state);
    let meta = Meta::take(&mut state);
    if let (Some(absolute_ttl), Some(created_at)) = (configuration.absolute_ttl, created_at)
        && absolute_timeout::remaining(created_at, absolute_ttl, &configuration.clock).is_none()
    {
        tracing::debug!("the session passed its absolute lifetime; starting a fresh session");
        if let Err(err) = store.delete(&key).await {
            tracing::warn!(error = %err, "could not delete a session past its lifetime");
        }
        return Ok(());
    }
    session.key = Some(key);
    session.state = Some(state);
    session.created_at = created_at;
    session.meta = meta;
    Ok(())
}
