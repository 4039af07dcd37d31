use actix_web::cookie::time::Duration;
use serde::{Deserialize, Serialize};

use super::{
    LoadError, SaveError, SessionKey, SessionState, SessionStore, UpdateError,
    interface::DeleteError,
};
use crate::clock::Clock;

/// The version of the cookie payload format written by this crate.
const FORMAT_VERSION: u8 = 2;
/// The older payload format still read: it also carried the creation time, as `c`.
const FORMAT_VERSION_1: u8 = 1;

/// A store that keeps the whole session state in the session cookie.
///
/// The middleware encrypts (`Private`, the default) or signs (`Signed`) the cookie, so the
/// client can neither read nor forge it. The payload carries the session's expiry, checked on
/// every load: a cookie replayed after its TTL is a fresh session even if the browser kept it.
/// (With an absolute timeout, the session's creation time is an entry of the state, so it is
/// inside the protected payload too.)
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

    fn encode(&self, state: &SessionState, ttl: &Duration) -> Result<SessionKey, super::BoxError> {
        let expires_at = (self.clock.now() + *ttl).unix_timestamp();
        let payload = serde_json::to_string(&Envelope {
            version: FORMAT_VERSION,
            expires_at,
            state,
        })?;
        Ok(SessionKey::try_from(payload)?)
    }

    fn decode(&self, session_key: &SessionKey) -> Result<Option<DecodedEnvelope>, LoadError> {
        let envelope: DecodedEnvelope = serde_json::from_str(session_key.as_ref())
            .map_err(|err| LoadError::Deserialization(err.into()))?;
        envelope
            .check_layout()
            .map_err(LoadError::Deserialization)?;
        if envelope.expires_at <= self.clock.now().unix_timestamp() {
            return Ok(None);
        }
        Ok(Some(envelope))
    }

    fn reencode(&self, state: &SessionState, ttl: &Duration) -> Result<SessionKey, UpdateError> {
        self.encode(state, ttl).map_err(UpdateError::Serialization)
    }
}

/// What the cookie carries: `{"v":2,"e":<expires>,"d":{...state...}}`, the expiry in Unix
/// seconds.
#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "v")]
    version: u8,
    #[serde(rename = "e")]
    expires_at: i64,
    #[serde(rename = "d")]
    state: &'a SessionState,
}

/// A payload as read: format version 2, or version 1, which had the creation time in
/// between (`{"v":1,"c":<created>,"e":<expires>,"d":{...}}`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecodedEnvelope {
    #[serde(rename = "v")]
    version: u8,
    /// The creation time of a version 1 payload: required there, refused in version 2, and
    /// not read (the absolute timeout reads its entry in the state).
    #[serde(rename = "c", default)]
    created_at: Option<i64>,
    #[serde(rename = "e")]
    expires_at: i64,
    #[serde(rename = "d")]
    state: SessionState,
}

impl DecodedEnvelope {
    /// Checks that the fields are those of the payload's format version.
    fn check_layout(&self) -> Result<(), super::BoxError> {
        match (self.version, self.created_at.is_some()) {
            (FORMAT_VERSION, false) | (FORMAT_VERSION_1, true) => Ok(()),
            (FORMAT_VERSION, true) => Err("a version 2 cookie payload has no `c` field".into()),
            (FORMAT_VERSION_1, false) => {
                Err("a version 1 cookie payload lacks its `c` field".into())
            }
            (version, _) => Err(format!("unsupported cookie payload version {version}").into()),
        }
    }
}

impl SessionStore for CookieSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        Ok(self.decode(session_key)?.map(|envelope| envelope.state))
    }

    async fn save(&self, state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
        self.encode(&state, ttl).map_err(SaveError::Serialization)
    }

    async fn update(
        &self,
        _session_key: SessionKey,
        state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        self.reencode(&state, ttl)
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
        _session_key: SessionKey,
        state: &SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        self.reencode(state, ttl)
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
    async fn refresh_moves_the_expiry_and_keeps_the_state() {
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
        assert_eq!(store.load(&refreshed).await.unwrap(), Some(state()));
    }

    #[actix_rt::test]
    async fn foreign_payloads_are_deserialization_errors() {
        let store = CookieSessionStore::default();
        for payload in [
            "",
            "not json",
            "{\"user\":\"\\\"ferris\\\"\"}",
            "{\"v\":9,\"c\":0,\"e\":0,\"d\":{}}",
            "{\"v\":9,\"e\":0,\"d\":{}}",
            "{\"v\":2,\"c\":0,\"e\":99999999999,\"d\":{}}",
            "{\"v\":1,\"e\":99999999999,\"d\":{}}",
            "{\"v\":2,\"e\":99999999999,\"d\":{},\"x\":1}",
        ] {
            let key = SessionKey::try_from(payload.to_owned()).unwrap();
            assert!(
                matches!(store.load(&key).await, Err(LoadError::Deserialization(_))),
                "{payload}"
            );
        }
    }

    #[actix_rt::test]
    async fn payloads_are_written_in_version_2_and_version_1_still_loads() {
        let clock = Clock::manual(OffsetDateTime::UNIX_EPOCH + Duration::days(20_000));
        let store = CookieSessionStore::with_clock(clock.clone());
        let now = clock.now().unix_timestamp();
        let key = store.save(state(), &Duration::minutes(10)).await.unwrap();
        let expires = now + 600;
        assert_eq!(
            key.as_ref(),
            format!("{{\"v\":2,\"e\":{expires},\"d\":{{\"user\":\"ferris\"}}}}")
        );

        let v1 = format!("{{\"v\":1,\"c\":{now},\"e\":{expires},\"d\":{{\"user\":\"ferris\"}}}}");
        let v1 = SessionKey::try_from(v1).unwrap();
        assert_eq!(store.load(&v1).await.unwrap(), Some(state()));
        let rewritten = store
            .update(v1, state(), &Duration::minutes(10))
            .await
            .unwrap();
        assert_eq!(rewritten, key, "an update writes version 2");
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
