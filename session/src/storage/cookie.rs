use actix_web::cookie::time::Duration;
use serde::{Deserialize, Serialize};

use super::{
    LoadError, SaveError, SessionKey, SessionState, SessionStore, UpdateError,
    interface::DeleteError,
};
use crate::Clock;

/// The version of the cookie payload format written by this crate.
const FORMAT_VERSION: u8 = 1;

/// A store that keeps the whole session state in the session cookie.
///
/// The middleware encrypts (`Private`, the default) or signs (`Signed`) the cookie, so the
/// client can neither read nor forge it. The payload carries the session's creation time and
/// its expiry, and the expiry is checked on every load: a cookie replayed after its TTL is a
/// fresh session even if the browser kept it.
///
/// Limits: a browser keeps at most 4096 bytes per cookie, so state is refused (a logged error
/// and an opaque 500, nothing silently dropped) when the encoded cookie would pass that. And a
/// stolen cookie cannot be revoked before it expires: logout only removes it from the browser
/// that logs out. Choose a server-side store when either matters.
///
/// ```no_run
/// use actix_web::{cookie::Key, App, HttpServer};
/// use session::{storage::CookieSessionStore, SessionMiddleware};
///
/// # async fn run(key: Key) -> std::io::Result<()> {
/// HttpServer::new(move || {
///     App::new().wrap(SessionMiddleware::new(CookieSessionStore::default(), key.clone()))
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await
/// # }
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CookieSessionStore {
    clock: Clock,
}

impl CookieSessionStore {
    /// A cookie store that reads time from `clock` (see [`Clock::manual`] for tests).
    pub fn with_clock(clock: Clock) -> Self {
        Self { clock }
    }

    fn encode(
        &self,
        state: &SessionState,
        created_at: i64,
        ttl: &Duration,
    ) -> Result<SessionKey, super::BoxError> {
        let expires_at = (self.clock.now() + *ttl).unix_timestamp();
        let payload = serde_json::to_string(&Envelope {
            version: FORMAT_VERSION,
            created_at,
            expires_at,
            state,
        })?;
        Ok(SessionKey::try_from(payload)?)
    }

    fn decode(&self, session_key: &SessionKey) -> Result<Option<DecodedEnvelope>, LoadError> {
        let envelope: DecodedEnvelope = serde_json::from_str(session_key.as_ref())
            .map_err(|err| LoadError::Deserialization(err.into()))?;
        if envelope.version != FORMAT_VERSION {
            return Err(LoadError::Deserialization(
                format!("unsupported cookie payload version {}", envelope.version).into(),
            ));
        }
        if envelope.expires_at <= self.clock.now().unix_timestamp() {
            return Ok(None);
        }
        Ok(Some(envelope))
    }

    fn reencode(
        &self,
        session_key: &SessionKey,
        state: &SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let created_at = created_at_of(session_key.as_ref())
            .unwrap_or_else(|| self.clock.now().unix_timestamp());
        self.encode(state, created_at, ttl)
            .map_err(UpdateError::Serialization)
    }
}

/// The creation time of a payload this store wrote, read from its fixed prefix
/// (`{"v":1,"c":<created>,`) without decoding the state behind it.
fn created_at_of(payload: &str) -> Option<i64> {
    let rest = payload.strip_prefix("{\"v\":1,\"c\":")?;
    let end = rest.find(',')?;
    rest[..end].parse().ok()
}

/// What the cookie carries: `{"v":1,"c":<created>,"e":<expires>,"d":{...state...}}`, with
/// times in Unix seconds.
#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "v")]
    version: u8,
    #[serde(rename = "c")]
    created_at: i64,
    #[serde(rename = "e")]
    expires_at: i64,
    #[serde(rename = "d")]
    state: &'a SessionState,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecodedEnvelope {
    #[serde(rename = "v")]
    version: u8,
    /// Required and type-checked on every load; read through `created_at_of` on writes.
    #[serde(rename = "c")]
    #[cfg_attr(not(test), allow(dead_code))]
    created_at: i64,
    #[serde(rename = "e")]
    expires_at: i64,
    #[serde(rename = "d")]
    state: SessionState,
}

impl SessionStore for CookieSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        Ok(self.decode(session_key)?.map(|envelope| envelope.state))
    }

    async fn save(&self, state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let created_at = self.clock.now().unix_timestamp();
        self.encode(&state, created_at, ttl)
            .map_err(SaveError::Serialization)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        self.reencode(&session_key, &state, ttl)
    }

    async fn update_ttl(
        &self,
        _session_key: &SessionKey,
        _ttl: &Duration,
    ) -> Result<(), UpdateError> {
        // The expiry is part of the key: it changes through `refresh`, which returns a new key.
        Ok(())
    }

    async fn delete(&self, _session_key: &SessionKey) -> Result<(), DeleteError> {
        // Nothing is kept server-side: the middleware sends a removal cookie.
        Ok(())
    }

    async fn refresh(
        &self,
        session_key: SessionKey,
        state: &SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        self.reencode(&session_key, state, ttl)
    }
}

impl CookieSessionStore {
    /// The moment a cookie payload expires, if `session_key` is one this store wrote.
    #[cfg(test)]
    fn expiry_of(
        &self,
        session_key: &SessionKey,
    ) -> Option<actix_web::cookie::time::OffsetDateTime> {
        let envelope: DecodedEnvelope = serde_json::from_str(session_key.as_ref()).ok()?;
        actix_web::cookie::time::OffsetDateTime::from_unix_timestamp(envelope.expires_at).ok()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use actix_web::cookie::time::OffsetDateTime;

    use super::*;

    fn state() -> SessionState {
        let mut state = SessionState::new();
        state.insert("user".into(), json!("ferris"));
        state
    }

    #[actix_rt::test]
    async fn round_trip_keeps_the_state() {
        let store = CookieSessionStore::default();
        let key = store.save(state(), &Duration::hours(1)).await.unwrap();
        assert_eq!(store.load(&key).await.unwrap(), Some(state()));
    }

    #[actix_rt::test]
    async fn expired_payload_loads_as_missing() {
        let clock = Clock::manual(OffsetDateTime::UNIX_EPOCH + Duration::days(10_000));
        let store = CookieSessionStore::with_clock(clock.clone());
        let key = store.save(state(), &Duration::minutes(10)).await.unwrap();
        clock.advance(Duration::minutes(9));
        assert!(store.load(&key).await.unwrap().is_some());
        clock.advance(Duration::minutes(1));
        assert_eq!(store.load(&key).await.unwrap(), None);
    }

    #[actix_rt::test]
    async fn refresh_moves_the_expiry_and_keeps_creation_time() {
        let clock = Clock::manual(OffsetDateTime::UNIX_EPOCH + Duration::days(10_000));
        let store = CookieSessionStore::with_clock(clock.clone());
        let key = store.save(state(), &Duration::minutes(10)).await.unwrap();
        clock.advance(Duration::minutes(5));
        let refreshed = store
            .refresh(key.clone(), &state(), &Duration::minutes(10))
            .await
            .unwrap();
        assert_eq!(
            store.expiry_of(&refreshed).unwrap() - store.expiry_of(&key).unwrap(),
            Duration::minutes(5)
        );
        let created = |k: &SessionKey| store.decode(k).unwrap().unwrap().created_at;
        assert_eq!(created(&refreshed), created(&key));
        assert_eq!(created_at_of(refreshed.as_ref()), Some(created(&key)));
    }

    #[actix_rt::test]
    async fn foreign_payloads_are_deserialization_errors() {
        let store = CookieSessionStore::default();
        for payload in [
            "",
            "not json",
            "{\"user\":\"\\\"ferris\\\"\"}",
            "{\"v\":9,\"c\":0,\"e\":0,\"d\":{}}",
        ] {
            let key = SessionKey::try_from(payload.to_owned()).unwrap();
            assert!(
                matches!(store.load(&key).await, Err(LoadError::Deserialization(_))),
                "{payload}"
            );
        }
    }

    #[actix_rt::test]
    async fn state_too_large_for_a_cookie_is_refused() {
        let store = CookieSessionStore::default();
        let mut big = SessionState::new();
        big.insert("blob".into(), json!("x".repeat(5000)));
        assert!(matches!(
            store.save(big, &Duration::hours(1)).await,
            Err(SaveError::Serialization(_))
        ));
    }
}
