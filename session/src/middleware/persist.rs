//! Saving a request's session after the handler answered, and telling the client: one
//! function per [`SessionStatus`], then the `Set-Cookie` and `Vary` headers.

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
        let cookie_present = loaded.cookie_present;
        let outcome = persist(self.store.as_ref(), configuration, loaded, status, changes).await?;
        self.apply_outcome(res, outcome, cookie_present)
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

/// Writes the session to the store as its status asks, and says what the cookie must do.
async fn persist<Store: SessionStore>(
    store: &Store,
    configuration: &Configuration,
    loaded: LoadedSession,
    status: SessionStatus,
    mut changes: SessionChanges,
) -> Result<CookieOutcome, actix_web::Error> {
    let holds_state = !changes.state().is_empty();
    let ttl = store_ttl(configuration, loaded.created_at, &mut changes);
    let Some(key) = loaded.key else {
        return persist_fresh(
            store,
            status,
            changes,
            holds_state,
            loaded.cookie_present,
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
    cookie_present: bool,
    ttl: Duration,
) -> Result<CookieOutcome, actix_web::Error> {
    Ok(match status {
        SessionStatus::Purged if cookie_present => CookieOutcome::Remove,
        SessionStatus::Changed | SessionStatus::Renewed if holds_state => {
            let key = store
                .save(changes.into_state(), &ttl)
                .await
                .map_err(|err| store_failure("save", &err))?;
            CookieOutcome::Set(key, ttl)
        }
        _ => CookieOutcome::Nothing,
    })
}

/// A changed session: write what changed. If the session ended meanwhile (a logout in
/// another request), its changes are dropped rather than bringing it back.
async fn persist_changed<Store: SessionStore>(
    store: &Store,
    key: SessionKey,
    changes: SessionChanges,
    ttl: Duration,
) -> Result<CookieOutcome, actix_web::Error> {
    match store.update_changes(key, changes, &ttl).await {
        Ok(key) => Ok(CookieOutcome::Set(key, ttl)),
        Err(UpdateError::NotFound) => {
            tracing::info!("the session ended while the request ran; its changes are dropped");
            Ok(CookieOutcome::Remove)
        }
        Err(err) => Err(store_failure("update", &err)),
    }
}

/// A purged session: delete it and remove the cookie.
async fn persist_purged<Store: SessionStore>(
    store: &Store,
    key: SessionKey,
) -> Result<CookieOutcome, actix_web::Error> {
    store
        .delete(&key)
        .await
        .map_err(|err| store_failure("delete", &err))?;
    Ok(CookieOutcome::Remove)
}

/// A renewed session: save the state under a new key, then delete the old one, so that a
/// failure leaves the old session intact.
async fn persist_renewed<Store: SessionStore>(
    store: &Store,
    key: SessionKey,
    changes: SessionChanges,
    holds_state: bool,
    ttl: Duration,
) -> Result<CookieOutcome, actix_web::Error> {
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
    Ok(new_key.map_or(CookieOutcome::Remove, |key| CookieOutcome::Set(key, ttl)))
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
) -> Result<CookieOutcome, actix_web::Error> {
    let refresh = configuration.ttl_extension_policy == TtlExtensionPolicy::OnEveryRequest;
    if !refresh && !needs_reissue {
        return Ok(CookieOutcome::Nothing);
    }
    let original = key.clone();
    match store.refresh(key, changes.state(), &ttl).await {
        Ok(key) if needs_reissue || key != original || configuration.cookie.max_age.is_some() => {
            Ok(CookieOutcome::Set(key, ttl))
        }
        Ok(_) => Ok(CookieOutcome::Nothing),
        Err(UpdateError::NotFound) => Ok(CookieOutcome::Remove),
        Err(err) => Err(store_failure("refresh", &err)),
    }
}
