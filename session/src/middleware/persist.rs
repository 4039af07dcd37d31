//! Saving a request's session after the handler answered, and telling the client: one
//! decision per [`SessionStatus`], one store call, then the token on the transport's channels
//! (`Set-Cookie`, the token header) and `Vary`.

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
        let (loaded, status, changes) = match self.take_outcome(res, eager)? {
            Outcome::Nothing => return Ok(()),
            Outcome::Loaded(loaded, status, changes) => (loaded, status, changes),
            Outcome::NotLoaded(status, changes) => {
                // Changed without being loaded (synchronous code): load now, replay on top.
                // Rare, so boxed: the common path's future stays small.
                let mut loaded = Box::pin(self.load(res.request())).await?;
                let changes = changes.rebase(loaded.take_state());
                (loaded, status, changes)
            }
        };
        let presented = loaded.presented;
        let (plan, ttl) = persist(&self.configuration, loaded, status, changes);
        let outcome = write(self.store.as_ref(), plan, ttl).await?;
        self.apply_outcome(res, outcome, presented)
    }

    /// Takes what the handler did to the session out of the request.
    fn take_outcome<B>(
        &self,
        res: &ServiceResponse<B>,
        eager: Option<LoadedSession>,
    ) -> Result<Outcome, actix_web::Error> {
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
            return Ok(Outcome::Nothing);
        }
        let Some(session) = session else {
            // Lazy loading and nobody asked for the session: nothing to do.
            return Ok(Outcome::Nothing);
        };
        let (status, changes, pending) = session.take_changes();
        Ok(match eager.or(lazy) {
            Some(loaded) => Outcome::Loaded(loaded, status, changes),
            None if pending => {
                let refresh =
                    self.configuration.ttl_extension_policy == TtlExtensionPolicy::OnEveryRequest;
                if status == SessionStatus::Unchanged && !refresh {
                    Outcome::Nothing
                } else {
                    Outcome::NotLoaded(status, changes)
                }
            }
            None => Outcome::Nothing,
        })
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

/// What the store must do with the session, as its status asks, and the TTL to write with.
///
/// Deciding is synchronous, one function per status; only [`write`] awaits the store. Keeping
/// the awaiting in one place keeps the request's future small (every nested `async fn` would
/// hold its own copy of the key and the changes).
fn persist(
    configuration: &Configuration,
    loaded: LoadedSession,
    status: SessionStatus,
    mut changes: SessionChanges,
) -> (StoreWrite, Duration) {
    let ttl = store_ttl(configuration, loaded.created_at, &mut changes);
    let plan = match loaded.key {
        None => plan_fresh(status, changes, loaded.presented.any()),
        Some(key) => match status {
            SessionStatus::Changed => StoreWrite::Update(key, changes),
            SessionStatus::Purged => StoreWrite::Delete(key),
            SessionStatus::Renewed => plan_renewed(key, changes),
            SessionStatus::Unchanged => {
                plan_unchanged(configuration, key, changes, loaded.needs_reissue)
            }
        },
    };
    (plan, ttl)
}

/// What the handler did to the session, as the middleware takes it out of the request.
enum Outcome {
    /// Nothing to save.
    Nothing,
    /// The session was loaded: its record, status and changes.
    Loaded(LoadedSession, SessionStatus, SessionChanges),
    /// Lazy loading: changed by synchronous code without ever being loaded.
    NotLoaded(SessionStatus, SessionChanges),
}

/// The one store call a request needs, decided before any I/O.
enum StoreWrite {
    /// No store call: the token outcome is known already.
    Skip(TokenOutcome),
    /// A new session: store the state under a fresh key.
    Save(SessionChanges),
    /// A changed session: write what changed.
    Update(SessionKey, SessionChanges),
    /// A purged session: delete it.
    Delete(SessionKey),
    /// A renewed session: save the state (if any) under a new key, then delete the old one.
    Renew(SessionKey, Option<SessionChanges>),
    /// An unchanged session whose TTL is extended; `reissue` when the token must be sent
    /// again even if the key stays the same (it verified under a fallback key), `extend` when
    /// a persistent cookie's `Max-Age` moves on.
    Refresh {
        key: SessionKey,
        changes: SessionChanges,
        reissue: bool,
        extend: bool,
    },
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

/// A session without a stored record: store it only if it holds something; a purge still
/// removes the (invalid or unknown) cookie the client sent.
fn plan_fresh(status: SessionStatus, changes: SessionChanges, token_present: bool) -> StoreWrite {
    let holds_state = !changes.state().is_empty();
    match status {
        SessionStatus::Purged if token_present => StoreWrite::Skip(TokenOutcome::Remove),
        SessionStatus::Changed | SessionStatus::Renewed if holds_state => StoreWrite::Save(changes),
        _ => StoreWrite::Skip(TokenOutcome::Nothing),
    }
}

/// A renewed session moves its state, if it holds any, to a new key.
fn plan_renewed(key: SessionKey, changes: SessionChanges) -> StoreWrite {
    let holds_state = !changes.state().is_empty();
    StoreWrite::Renew(key, holds_state.then_some(changes))
}

/// An unchanged session: nothing to do, unless its TTL is extended on every request or its
/// cookie verified under a fallback key and must be re-issued under the current one.
fn plan_unchanged(
    configuration: &Configuration,
    key: SessionKey,
    changes: SessionChanges,
    needs_reissue: bool,
) -> StoreWrite {
    let refresh = configuration.ttl_extension_policy == TtlExtensionPolicy::OnEveryRequest;
    if !refresh && !needs_reissue {
        return StoreWrite::Skip(TokenOutcome::Nothing);
    }
    StoreWrite::Refresh {
        key,
        changes,
        reissue: needs_reissue,
        extend: configuration.cookie.max_age.is_some(),
    }
}

/// Makes the store call `plan` asks for. A changed or refreshed session that ended
/// meanwhile (a logout in another request) is not brought back: its cookie is removed. A
/// renewal saves before it deletes, so that a failure leaves the old session intact.
async fn write<Store: SessionStore>(
    store: &Store,
    plan: StoreWrite,
    ttl: Duration,
) -> Result<TokenOutcome, actix_web::Error> {
    let outcome = match plan {
        StoreWrite::Skip(outcome) => outcome,
        StoreWrite::Save(changes) => {
            let key = store.save(changes.into_state(), &ttl).await;
            TokenOutcome::Set(key.map_err(|err| store_failure("save", &err))?, ttl)
        }
        StoreWrite::Update(key, changes) => match store.update_changes(key, changes, &ttl).await {
            Ok(key) => TokenOutcome::Set(key, ttl),
            Err(UpdateError::NotFound) => {
                tracing::info!("the session ended while the request ran; its changes are dropped");
                TokenOutcome::Remove
            }
            Err(err) => return Err(store_failure("update", &err)),
        },
        StoreWrite::Delete(key) => {
            let deleted = store.delete(&key).await;
            deleted.map_err(|err| store_failure("delete", &err))?;
            TokenOutcome::Remove
        }
        StoreWrite::Renew(key, changes) => {
            let new_key = match changes {
                Some(changes) => Some(
                    store
                        .save(changes.into_state(), &ttl)
                        .await
                        .map_err(|err| store_failure("save", &err))?,
                ),
                None => None,
            };
            let deleted = store.delete(&key).await;
            deleted.map_err(|err| store_failure("delete", &err))?;
            new_key.map_or(TokenOutcome::Remove, |key| TokenOutcome::Set(key, ttl))
        }
        StoreWrite::Refresh {
            key,
            changes,
            reissue,
            extend,
        } => {
            let original = key.clone();
            match store.refresh(key, changes.state(), &ttl).await {
                Ok(key) if reissue || key != original => TokenOutcome::Set(key, ttl),
                Ok(key) if extend => TokenOutcome::Extend(key, ttl),
                Ok(_) => TokenOutcome::Nothing,
                Err(UpdateError::NotFound) => TokenOutcome::Remove,
                Err(err) => return Err(store_failure("refresh", &err)),
            }
        }
    };
    Ok(outcome)
}
