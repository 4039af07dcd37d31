//! Saving a request's session after the handler answered, and telling the client: one
//! decision per [`SessionStatus`], one store call, then the `Set-Cookie` and `Vary` headers.

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
};

/// What the response must say about the session cookie.
enum CookieOutcome {
    Nothing,
    /// Send the key; the duration caps a persistent cookie's `Max-Age`.
    Set(SessionKey, Duration),
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
        let cookie_present = loaded.cookie_present;
        let (plan, ttl) = persist(&self.configuration, loaded, status, changes);
        let outcome = write(self.store.as_ref(), plan, ttl).await?;
        self.apply_outcome(res, outcome, cookie_present)
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

    /// Sets the session cookie, or its removal, on the response, and `Vary: Cookie` when the
    /// response depends on the cookie.
    fn apply_outcome<B>(
        &self,
        res: &mut ServiceResponse<B>,
        outcome: CookieOutcome,
        cookie_present: bool,
    ) -> Result<(), actix_web::Error> {
        let config = &self.configuration.cookie;
        let set_cookie = match outcome {
            CookieOutcome::Nothing => None,
            CookieOutcome::Set(key, ttl) => {
                let sealed = config.codec.seal(&config.name, key.as_ref());
                let header = response::session_cookie(config, &sealed, ttl)
                    .map_err(|Unsendable| opaque_500())?;
                self.verified_cookies
                    .borrow_mut()
                    .remember_sealed(sealed, key);
                Some(header)
            }
            CookieOutcome::Remove => {
                Some(response::removal_cookie(config).map_err(|Unsendable| opaque_500())?)
            }
        };
        response::write_headers(res.headers_mut(), set_cookie, cookie_present);
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
        None => plan_fresh(status, changes, loaded.cookie_present),
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
    /// No store call: the cookie outcome is known already.
    Skip(CookieOutcome),
    /// A new session: store the state under a fresh key.
    Save(SessionChanges),
    /// A changed session: write what changed.
    Update(SessionKey, SessionChanges),
    /// A purged session: delete it.
    Delete(SessionKey),
    /// A renewed session: save the state (if any) under a new key, then delete the old one.
    Renew(SessionKey, Option<SessionChanges>),
    /// An unchanged session whose TTL is extended; `always_send` when the cookie must be sent
    /// even if the key stays the same.
    Refresh {
        key: SessionKey,
        changes: SessionChanges,
        always_send: bool,
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
fn plan_fresh(status: SessionStatus, changes: SessionChanges, cookie_present: bool) -> StoreWrite {
    let holds_state = !changes.state().is_empty();
    match status {
        SessionStatus::Purged if cookie_present => StoreWrite::Skip(CookieOutcome::Remove),
        SessionStatus::Changed | SessionStatus::Renewed if holds_state => StoreWrite::Save(changes),
        _ => StoreWrite::Skip(CookieOutcome::Nothing),
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
        return StoreWrite::Skip(CookieOutcome::Nothing);
    }
    StoreWrite::Refresh {
        key,
        changes,
        always_send: needs_reissue || configuration.cookie.max_age.is_some(),
    }
}

/// Makes the store call `plan` asks for. A changed or refreshed session that ended
/// meanwhile (a logout in another request) is not brought back: its cookie is removed. A
/// renewal saves before it deletes, so that a failure leaves the old session intact.
async fn write<Store: SessionStore>(
    store: &Store,
    plan: StoreWrite,
    ttl: Duration,
) -> Result<CookieOutcome, actix_web::Error> {
    let outcome = match plan {
        StoreWrite::Skip(outcome) => outcome,
        StoreWrite::Save(changes) => {
            let key = store.save(changes.into_state(), &ttl).await;
            CookieOutcome::Set(key.map_err(|err| store_failure("save", &err))?, ttl)
        }
        StoreWrite::Update(key, changes) => match store.update_changes(key, changes, &ttl).await {
            Ok(key) => CookieOutcome::Set(key, ttl),
            Err(UpdateError::NotFound) => {
                tracing::info!("the session ended while the request ran; its changes are dropped");
                CookieOutcome::Remove
            }
            Err(err) => return Err(store_failure("update", &err)),
        },
        StoreWrite::Delete(key) => {
            let deleted = store.delete(&key).await;
            deleted.map_err(|err| store_failure("delete", &err))?;
            CookieOutcome::Remove
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
            new_key.map_or(CookieOutcome::Remove, |key| CookieOutcome::Set(key, ttl))
        }
        StoreWrite::Refresh {
            key,
            changes,
            always_send,
        } => {
            let original = key.clone();
            match store.refresh(key, changes.state(), &ttl).await {
                Ok(key) if always_send || key != original => CookieOutcome::Set(key, ttl),
                Ok(_) => CookieOutcome::Nothing,
                Err(UpdateError::NotFound) => CookieOutcome::Remove,
                Err(err) => return Err(store_failure("refresh", &err)),
            }
        }
    };
    Ok(outcome)
}
