//! Saving a request's session after the handler answered, and telling the client: one
//! decision per [`SessionStatus`], one store call, then the token on the transport's channels
//! (`Set-Cookie`, the token header) and `Vary`.

use actix_web::{HttpMessage as _, cookie::time::Duration, dev::ServiceResponse};

use super::{
    Engine,
    devices::{IndexUpdate, NextMeta},
    failure::{opaque_500, store_failure},
    lazy::LoadFailed,
    load::LoadedSession,
};
use crate::{
    absolute_timeout,
    config::{Configuration, TtlExtensionPolicy},
    cookie::response::{self, Unsendable},
    session::{Session, SessionStatus},
    session_meta::{META_KEY, Meta, MetaEdits},
    storage::{OwnerLink, SessionChanges, SessionKey, SessionStore, SharedOwnerIndex, UpdateError},
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
    /// Nothing to send; the session was written and lives on under this key.
    Keep(SessionKey),
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
        let (mut loaded, handed) = match self.take_outcome(res, eager)? {
            Outcome::Nothing => return Ok(()),
            Outcome::Loaded(loaded, handed) => (loaded, handed),
            Outcome::NotLoaded(mut handed) => {
                // Changed without being loaded (synchronous code): load now, replay on top.
                // Rare, so boxed: the common path's future stays small.
                let mut loaded = Box::pin(self.load(res.request())).await?;
                handed.changes = handed.changes.rebase(loaded.take_state());
                (loaded, handed)
            }
        };
        let presented = loaded.presented;
        let stored_meta = handed.meta.or_else(|| loaded.meta.take());
        let meta = NextMeta::after(
            stored_meta,
            handed.edits,
            res.request(),
            &self.configuration,
        );
        let plan = persist(
            &self.configuration,
            loaded,
            handed.status,
            handed.changes,
            meta,
        );
        let outcome = write(self.store.as_ref(), self.owner_index.as_ref(), plan).await?;
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
        let (meta, edits) = session.take_meta();
        let handed = Handed {
            status,
            changes,
            meta,
            edits,
        };
        Ok(match eager.or(lazy) {
            Some(loaded) => Outcome::Loaded(loaded, handed),
            None if pending => {
                let refresh =
                    self.configuration.ttl_extension_policy == TtlExtensionPolicy::OnEveryRequest;
                if status == SessionStatus::Unchanged && !refresh {
                    Outcome::Nothing
                } else {
                    Outcome::NotLoaded(handed)
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
            TokenOutcome::Nothing | TokenOutcome::Keep(_) | TokenOutcome::Remove => {
                (None, Duration::ZERO)
            }
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

/// What the store must do with the session, as its status asks, the TTL to write with, and
/// what the owner index must learn afterwards.
///
/// Deciding is synchronous, one function per status; only [`write`] awaits the store. Keeping
/// the awaiting in one place keeps the request's future small (every nested `async fn` would
/// hold its own copy of the key and the changes).
fn persist(
    configuration: &Configuration,
    loaded: LoadedSession,
    status: SessionStatus,
    changes: SessionChanges,
    meta: NextMeta,
) -> Plan {
    let ttl = store_ttl(configuration, loaded.created_at);
    let holds_state = !changes.state().is_empty() || meta.is_worth_storing();
    let write = match loaded.key {
        None => plan_fresh(status, changes, holds_state, loaded.presented.any()),
        Some(key) => match status {
            SessionStatus::Changed => StoreWrite::Update(key, changes),
            SessionStatus::Purged => StoreWrite::Delete(key),
            SessionStatus::Renewed => plan_renewed(key, changes, holds_state),
            SessionStatus::Unchanged => plan_unchanged(
                configuration,
                key,
                changes,
                loaded.needs_reissue,
                meta.changed,
            ),
        },
    };
    with_internal_entries(configuration, write, ttl, loaded.created_at, meta)
}

/// Puts the middleware's own entries (creation time, metadata) into the state `write` is
/// about to store, and decides what the owner index must learn.
fn with_internal_entries(
    configuration: &Configuration,
    mut write: StoreWrite,
    ttl: Duration,
    created_at: Option<i64>,
    mut meta: NextMeta,
) -> Plan {
    let (changes, writes_meta) = match &mut write {
        // Nothing written: nothing for the index either (and no copies of the binding).
        StoreWrite::Skip(_) => {
            return Plan {
                write,
                ttl,
                index: IndexUpdate::Nothing,
            };
        }
        StoreWrite::Delete(_) | StoreWrite::Renew(_, None) => {
            let index = match meta.binding() {
                Some((owner, public_id)) => IndexUpdate::Unlink(owner, public_id),
                None => IndexUpdate::Nothing,
            };
            return Plan { write, ttl, index };
        }
        StoreWrite::Save(changes)
        | StoreWrite::Renew(_, Some(changes))
        | StoreWrite::Update(_, changes)
        | StoreWrite::Touch { changes, .. } => (changes, true),
        // A refresh does not write the state, except in stores that keep it in the token
        // (the cookie store): those get the metadata as it is.
        StoreWrite::Refresh { changes, .. } => (changes, false),
    };
    let now = configuration.clock.now().unix_timestamp();
    absolute_timeout::put_created_at(changes, created_at.unwrap_or(now), created_at.is_none());
    if writes_meta {
        meta.ensure_exists();
    }
    let index = match meta.binding() {
        Some((owner, public_id)) => IndexUpdate::Link(owner, public_id),
        None => IndexUpdate::Nothing,
    };
    if let Some(stored) = meta.meta {
        changes.insert_internal(META_KEY, stored.into_value(), meta.changed);
    }
    Plan { write, ttl, index }
}

/// What persisting decided: the store call, its TTL, and the owner index update after it.
struct Plan {
    write: StoreWrite,
    ttl: Duration,
    index: IndexUpdate,
}

/// What the handler left in the request's session.
struct Handed {
    status: SessionStatus,
    changes: SessionChanges,
    /// The stored metadata, as the session held it (`None` if it was never loaded).
    meta: Option<Meta>,
    edits: MetaEdits,
}

/// What the handler did to the session, as the middleware takes it out of the request.
enum Outcome {
    /// Nothing to save.
    Nothing,
    /// The session was loaded: its record, and what the handler left.
    Loaded(LoadedSession, Handed),
    /// Lazy loading: changed by synchronous code without ever being loaded.
    NotLoaded(Handed),
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
    /// An unchanged session bound to an owner, last seen longer than the interval ago: its
    /// metadata is written (and its TTL extended); the token is sent as for a refresh.
    Touch {
        key: SessionKey,
        changes: SessionChanges,
        reissue: bool,
        extend: bool,
    },
}

/// The TTL to store the session with: the state TTL, cut short by the absolute timeout
/// (counted from `created_at`, or from now for a session without one).
fn store_ttl(configuration: &Configuration, created_at: Option<i64>) -> Duration {
    let Some(absolute_ttl) = configuration.absolute_ttl else {
        return configuration.state_ttl;
    };
    let clock = &configuration.clock;
    let created_at = created_at.unwrap_or_else(|| clock.now().unix_timestamp());
    let remaining =
        absolute_timeout::remaining(created_at, absolute_ttl, clock).unwrap_or(Duration::ZERO);
    configuration.state_ttl.min(remaining)
}

/// A session without a stored record: store it only if it holds something (data, a binding,
/// a label); a purge still removes the (invalid or unknown) cookie the client sent.
fn plan_fresh(
    status: SessionStatus,
    changes: SessionChanges,
    holds_state: bool,
    token_present: bool,
) -> StoreWrite {
    match status {
        SessionStatus::Purged if token_present => StoreWrite::Skip(TokenOutcome::Remove),
        SessionStatus::Changed | SessionStatus::Renewed if holds_state => StoreWrite::Save(changes),
        _ => StoreWrite::Skip(TokenOutcome::Nothing),
    }
}

/// A renewed session moves its state, if it holds any (data, a binding, a label), to a new
/// key.
fn plan_renewed(key: SessionKey, changes: SessionChanges, holds_state: bool) -> StoreWrite {
    StoreWrite::Renew(key, holds_state.then_some(changes))
}

/// An unchanged session: nothing to do, unless its TTL is extended on every request, its
/// cookie verified under a fallback key and must be re-issued under the current one, or it
/// is bound and its "last seen" time is due (`touch`).
fn plan_unchanged(
    configuration: &Configuration,
    key: SessionKey,
    changes: SessionChanges,
    needs_reissue: bool,
    touch: bool,
) -> StoreWrite {
    let extend = configuration.cookie.max_age.is_some();
    if touch {
        return StoreWrite::Touch {
            key,
            changes,
            reissue: needs_reissue,
            extend,
        };
    }
    let refresh = configuration.ttl_extension_policy == TtlExtensionPolicy::OnEveryRequest;
    if !refresh && !needs_reissue {
        return StoreWrite::Skip(TokenOutcome::Nothing);
    }
    StoreWrite::Refresh {
        key,
        changes,
        reissue: needs_reissue,
        extend,
    }
}

/// Makes the store call `plan` asks for, then tells the owner index. A changed or refreshed
/// session that ended meanwhile (a logout or a revocation in another request) is not brought
/// back: its cookie is removed and it is not linked. A renewal saves before it deletes, so
/// that a failure leaves the old session intact.
///
/// A session bound to an owner is stored only if its owner index knows it: when linking
/// fails after the write, the session just written is deleted and the client gets the opaque
/// `500`. Unlinking a deleted session is best effort (a listing prunes what it finds
/// deleted), so its failure is logged only.
async fn write<Store: SessionStore>(
    store: &Store,
    index: Option<&SharedOwnerIndex>,
    plan: Plan,
) -> Result<TokenOutcome, actix_web::Error> {
    let Plan {
        write,
        ttl,
        index: update,
    } = plan;
    let outcome = match write {
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
            // A session ended while the request ran (a logout elsewhere, a revocation) is not
            // brought back under a new key: the old one must still exist to be renewed.
            if changes.is_some() {
                match store.update_ttl(&key, &ttl).await {
                    Ok(()) => {}
                    Err(UpdateError::NotFound) => {
                        tracing::info!("the session ended while the request ran; not renewed");
                        return Ok(TokenOutcome::Remove);
                    }
                    Err(err) => return Err(store_failure("renew", &err)),
                }
            }
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
            let refreshed = store.refresh(key, changes.state(), &ttl).await;
            quiet_outcome(refreshed, &original, reissue, extend, ttl, "refresh")?
        }
        StoreWrite::Touch {
            key,
            changes,
            reissue,
            extend,
        } => {
            let original = key.clone();
            let touched = store.update_changes(key, changes, &ttl).await;
            quiet_outcome(touched, &original, reissue, extend, ttl, "update")?
        }
    };
    let Some(index) = index else {
        return Ok(outcome);
    };
    match (update, &outcome) {
        (
            IndexUpdate::Link(owner, public_id),
            TokenOutcome::Set(key, _) | TokenOutcome::Extend(key, _) | TokenOutcome::Keep(key),
        ) => {
            let link = OwnerLink::new(&owner, &public_id, key, ttl);
            if let Err(err) = index.link_owner(link).await {
                let failure = store_failure("link owner", &err);
                if let Err(err) = store.delete(key).await {
                    tracing::warn!(error = %err, "could not delete a session its owner index lost");
                }
                return Err(failure);
            }
        }
        (IndexUpdate::Unlink(owner, public_id), TokenOutcome::Remove) => {
            if let Err(err) = index.unlink_owner(&owner, &public_id).await {
                tracing::warn!(error = %err, "could not unlink a deleted session from its owner");
            }
        }
        _ => {}
    }
    Ok(outcome)
}

/// The token outcome of a write the client did not ask for (a TTL refresh, a "last seen"
/// update): a new token only if the key changed or must be re-issued, a persistent cookie's
/// `Max-Age` moved on if `extend`, else nothing; a session that ended meanwhile loses its
/// token.
fn quiet_outcome(
    written: Result<SessionKey, UpdateError>,
    original: &SessionKey,
    reissue: bool,
    extend: bool,
    ttl: Duration,
    operation: &'static str,
) -> Result<TokenOutcome, actix_web::Error> {
    Ok(match written {
        Ok(key) if reissue || key != *original => TokenOutcome::Set(key, ttl),
        Ok(key) if extend => TokenOutcome::Extend(key, ttl),
        Ok(key) => TokenOutcome::Keep(key),
        Err(UpdateError::NotFound) => TokenOutcome::Remove,
        Err(err) => return Err(store_failure(operation, &err)),
    })
}
