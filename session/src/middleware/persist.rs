//! Saving a request's session after the handler answered, and telling the client: one
//! function per [`SessionStatus`], then the token on the transport's channels (`Set-Cookie`,
//! the token header) and `Vary`.

use actix_web::{HttpMessage as _, cookie::time::Duration, dev::ServiceResponse};

use super::{
    Engine,
    failure::{opaque_500, store_failure},
    lazy::LoadFailed,
    load::LoadedSession,
};
use crate::{
    absolute_timeout,
    config::{Configuration, TtlExtensionPolicy},
    cookie::response::{self, Unsendable},
    session::{Session, SessionStatus},
    storage::{SessionChanges, SessionKey, SessionStore, UpdateError},
    transport::{Channels, response as transport_response},
};

/// What the response must say about the session token, whichever channel carries it.
enum TokenOutcome {
    Nothing,
    /// Send the key (a new token); the duration caps a persistent cookie's `Max-Age`.
    Set(SessionKey, Duration),
    /// The token is unchanged and only a persistent cookie's `Max-Age` moves on: the cookie
    /// is re-sent, a header token is not (the client holds it already).
    Extend(SessionKey, Duration),
    /// The token is void: the removal cookie, an empty token header.
    Remove,
}

impl<Store: SessionStore + 'static> Engine<Store> {
    /// Saves what the handler did to the session and sets the cookie on the response.
    /// `eager` is the session loaded before the handler; with lazy loading it is in the
    /// request's extensions, if an extractor loaded it.
    pub(super) async fn save<B>(
        &self,
        res: &mut ServiceResponse<B>,
        eager: Option<LoadedSession>,
    ) -> Result<(), actix_web::Error> {
        let configuration = &self.configuration;
        let (session, lazy) = {
            let mut extensions = res.request().extensions_mut();
            if extensions.contains::<LoadFailed>() {
                return Err(opaque_500());
            }
            (
                extensions.get::<Session>().cloned(),
                extensions.remove::<LoadedSession>(),
            )
        };
        if res.status().is_server_error() {
            tracing::debug!("the handler answered 5xx: session changes are not saved");
            return Ok(());
        }
        let Some(session) = session else {
            // Lazy loading and nobody asked for the session: nothing to do.
            return Ok(());
        };
        let (status, mut changes, pending) = session.take_changes();
        let loaded = match eager.or(lazy) {
            Some(loaded) => loaded,
            None if pending => {
                let refresh =
                    configuration.ttl_extension_policy == TtlExtensionPolicy::OnEveryRequest;
                if status == SessionStatus::Unchanged && !refresh {
                    return Ok(());
                }
                // Changed without being loaded (synchronous code): load now, replay on top.
                let mut loaded = self.load(res.request()).await?;
                changes = changes.rebase(loaded.take_state());
                loaded
            }
            None => return Ok(()),
        };
        let presented = loaded.presented;
        let outcome = persist(self.store.as_ref(), configuration, loaded, status, changes).await?;
        self.apply_outcome(res, outcome, presented)
    }

    /// Tells the client on the channels the request used (all the transport's channels for
    /// a request that used none): the session cookie or its removal, the token header or its
    /// voiding; and `Vary` when the response depends on the token.
    fn apply_outcome<B>(
        &self,
        res: &mut ServiceResponse<B>,
        outcome: TokenOutcome,
        presented: Channels,
    ) -> Result<(), actix_web::Error> {
        let transport = &self.configuration.transport;
        let config = &self.configuration.cookie;
        let answer = presented.answer(transport);
        let (key, ttl) = match &outcome {
            TokenOutcome::Set(key, ttl) | TokenOutcome::Extend(key, ttl) => (Some(key), *ttl),
            TokenOutcome::Nothing | TokenOutcome::Remove => (None, Duration::ZERO),
        };
        let cookie_sent = transport.cookie && answer.cookie && key.is_some();
        let header_sent = answer.header && matches!(outcome, TokenOutcome::Set(..));
        let sealed = key
            .filter(|_| cookie_sent || header_sent)
            .map(|key| config.codec.seal(&config.name, key.as_ref()));
        let set_cookie = match (&outcome, &sealed) {
            _ if !(transport.cookie && answer.cookie) => None,
            (TokenOutcome::Remove, _) => {
                Some(response::removal_cookie(config).map_err(|Unsendable| opaque_500())?)
            }
            (_, Some(sealed)) => Some(
                response::session_cookie(config, sealed, ttl).map_err(|Unsendable| opaque_500())?,
            ),
            _ => None,
        };
        let token = match (&outcome, &sealed) {
            (TokenOutcome::Remove, _) => Some(""),
            (TokenOutcome::Set(..), Some(sealed)) => Some(sealed.as_str()),
            _ => None,
        }
        .filter(|_| answer.header);
        let sends = set_cookie.is_some() || token.is_some();
        let headers = res.headers_mut();
        if transport.cookie {
            // With a header too, the response depends on the cookie whenever it depends on
            // the token at all.
            let vary =
                presented.cookie || (transport.header.is_some() && (presented.any() || sends));
            response::write_headers(headers, set_cookie, vary);
        }
        if let Some(header) = &transport.header {
            transport_response::write_headers(headers, header, token, presented.any() || sends)
                .map_err(|Unsendable| opaque_500())?;
        }
        if let (Some(sealed), Some(key)) = (sealed, key) {
            self.verified_cookies
                .borrow_mut()
                .remember_sealed(sealed, key.clone());
        }
        Ok(())
    }
}

/// Writes the session to the store as its status asks, and says what the client must be told.
async fn persist<Store: SessionStore>(
    store: &Store,
    configuration: &Configuration,
    loaded: LoadedSession,
    status: SessionStatus,
    mut changes: SessionChanges,
) -> Result<TokenOutcome, actix_web::Error> {
    let holds_state = !changes.state().is_empty();
    let ttl = store_ttl(configuration, loaded.created_at, &mut changes);
    let Some(key) = loaded.key else {
        return persist_fresh(
            store,
            status,
            changes,
            holds_state,
            loaded.presented.any(),
            ttl,
        )
        .await;
    };
    match status {
        SessionStatus::Changed => persist_changed(store, key, changes, ttl).await,
        SessionStatus::Purged => persist_purged(store, key).await,
        SessionStatus::Renewed => persist_renewed(store, key, changes, holds_state, ttl).await,
        SessionStatus::Unchanged => {
            persist_unchanged(
                store,
                configuration,
                key,
                &changes,
                loaded.needs_reissue,
                ttl,
            )
            .await
        }
    }
}

/// The TTL to store the session with: the state TTL, cut short by the absolute timeout.
/// With an absolute timeout the creation time rides along inside the state.
fn store_ttl(
    configuration: &Configuration,
    created_at: Option<i64>,
    changes: &mut SessionChanges,
) -> Duration {
    let Some(absolute_ttl) = configuration.absolute_ttl else {
        return configuration.state_ttl;
    };
    let clock = &configuration.clock;
    let is_new = created_at.is_none();
    let created_at = created_at.unwrap_or_else(|| clock.now().unix_timestamp());
    absolute_timeout::put_created_at(changes, created_at, is_new);
    let remaining =
        absolute_timeout::remaining(created_at, absolute_ttl, clock).unwrap_or(Duration::ZERO);
    configuration.state_ttl.min(remaining)
}

/// A session without a stored record: store it only if it holds something.
async fn persist_fresh<Store: SessionStore>(
    store: &Store,
    status: SessionStatus,
    changes: SessionChanges,
    holds_state: bool,
    token_present: bool,
    ttl: Duration,
) -> Result<TokenOutcome, actix_web::Error> {
    Ok(match status {
        SessionStatus::Purged if token_present => TokenOutcome::Remove,
        SessionStatus::Changed | SessionStatus::Renewed if holds_state => {
            let key = store
                .save(changes.into_state(), &ttl)
                .await
                .map_err(|err| store_failure("save", &err))?;
            TokenOutcome::Set(key, ttl)
        }
        _ => TokenOutcome::Nothing,
    })
}

/// A changed session: write what changed. If the session ended meanwhile (a logout in
/// another request), its changes are dropped rather than bringing it back.
async fn persist_changed<Store: SessionStore>(
    store: &Store,
    key: SessionKey,
    changes: SessionChanges,
    ttl: Duration,
) -> Result<TokenOutcome, actix_web::Error> {
    match store.update_changes(key, changes, &ttl).await {
        Ok(key) => Ok(TokenOutcome::Set(key, ttl)),
        Err(UpdateError::NotFound) => {
            tracing::info!("the session ended while the request ran; its changes are dropped");
            Ok(TokenOutcome::Remove)
        }
        Err(err) => Err(store_failure("update", &err)),
    }
}

/// A purged session: delete it and remove the cookie.
async fn persist_purged<Store: SessionStore>(
    store: &Store,
    key: SessionKey,
) -> Result<TokenOutcome, actix_web::Error> {
    store
        .delete(&key)
        .await
        .map_err(|err| store_failure("delete", &err))?;
    Ok(TokenOutcome::Remove)
}

/// A renewed session: save the state under a new key, then delete the old one, so that a
/// failure leaves the old session intact.
async fn persist_renewed<Store: SessionStore>(
    store: &Store,
    key: SessionKey,
    changes: SessionChanges,
    holds_state: bool,
    ttl: Duration,
) -> Result<TokenOutcome, actix_web::Error> {
    let new_key = if holds_state {
        Some(
            store
                .save(changes.into_state(), &ttl)
                .await
                .map_err(|err| store_failure("save", &err))?,
        )
    } else {
        None
    };
    store
        .delete(&key)
        .await
        .map_err(|err| store_failure("delete", &err))?;
    Ok(new_key.map_or(TokenOutcome::Remove, |key| TokenOutcome::Set(key, ttl)))
}

/// An unchanged session: nothing to do, unless its TTL is extended on every request or its
/// cookie verified under a fallback key and must be re-issued under the current one.
async fn persist_unchanged<Store: SessionStore>(
    store: &Store,
    configuration: &Configuration,
    key: SessionKey,
    changes: &SessionChanges,
    needs_reissue: bool,
    ttl: Duration,
) -> Result<TokenOutcome, actix_web::Error> {
    let refresh = configuration.ttl_extension_policy == TtlExtensionPolicy::OnEveryRequest;
    if !refresh && !needs_reissue {
        return Ok(TokenOutcome::Nothing);
    }
    let original = key.clone();
    match store.refresh(key, changes.state(), &ttl).await {
        Ok(key) if needs_reissue || key != original => Ok(TokenOutcome::Set(key, ttl)),
        Ok(key) if configuration.cookie.max_age.is_some() => Ok(TokenOutcome::Extend(key, ttl)),
        Ok(_) => Ok(TokenOutcome::Nothing),
        Err(UpdateError::NotFound) => Ok(TokenOutcome::Remove),
        Err(err) => Err(store_failure("refresh", &err)),
    }
}
