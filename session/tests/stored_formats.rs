//! Sessions stored in an older format keep working after a format change.
//!
//! The fixtures in `fixtures/` were written by the format version 1 code (how: see
//! `fixtures/README.md`): a Redis session hash and a cookie-store payload, each with the cookie
//! the middleware sent for it. The stores must still load them, and the Redis store must still
//! update, refresh and delete them, rewriting them in the current format when it writes.
#![cfg(any(feature = "cookie-session", feature = "redis-session"))]

#[cfg(feature = "redis-session")]
mod support;

use actix_web::{
    App, HttpResponse,
    cookie::{
        Cookie, Key,
        time::{Duration, OffsetDateTime},
    },
    dev::{Service, ServiceResponse},
    test, web,
};
use serde_json::{Value, json};
use session::{
    Session, SessionMiddleware,
    config::{BrowserSession, Clock},
    storage::{SessionKey, SessionState, SessionStore},
};

/// When the fixtures' session was created (Unix seconds); the second request that wrote
/// them ran 60 seconds later.
const CREATED_AT: i64 = 1_767_225_600;
/// The absolute timeout the fixtures' middleware had.
const ABSOLUTE_TTL: Duration = Duration::hours(12);

/// The key the fixtures' cookies were sealed with.
fn cookie_key() -> Key {
    Key::from(&(0_u8..64).collect::<Vec<u8>>())
}

/// A manual clock `after` the fixtures' session was created.
fn clock_at(after: Duration) -> Clock {
    let created = OffsetDateTime::from_unix_timestamp(CREATED_AT).expect("a valid time");
    Clock::manual(created + after)
}

fn state(value: Value) -> SessionState {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// The state both fixtures hold, as the store returns it: the handler's entries plus the
/// absolute-timeout entry the middleware keeps beside them.
fn stored_state() -> SessionState {
    state(json!({
        "__session_created_at": CREATED_AT,
        "_flag": true,
        "cart": {"items": [1, 2]},
        "user": "alice",
        "visits": 2,
    }))
}

/// The entries a handler sees in the fixtures' session.
fn handler_entries() -> Value {
    json!({"_flag": true, "cart": {"items": [1, 2]}, "user": "alice", "visits": 2})
}

fn fixture(text: &str) -> &str {
    text.trim_end_matches('\n')
}

/// An app with the fixtures' middleware settings: `GET /entries` answers the session's
/// entries, `GET /public-id` its public id, `POST /visit` sets `visits` to 3.
async fn app<S: SessionStore + 'static>(
    store: S,
    clock: Clock,
) -> impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error> {
    test::init_service(
        App::new()
            .wrap(
                SessionMiddleware::builder(store, cookie_key())
                    .clock(clock)
                    .session_lifecycle(BrowserSession::default().absolute_ttl(ABSOLUTE_TTL))
                    .build(),
            )
            .route(
                "/entries",
                web::get().to(|session: Session| async move {
                    let entries = session.entries().clone();
                    HttpResponse::Ok().json(entries)
                }),
            )
            .route(
                "/public-id",
                web::get().to(|session: Session| async move {
                    HttpResponse::Ok().json(session.public_id())
                }),
            )
            .route(
                "/visit",
                web::post().to(|session: Session| async move {
                    match session.insert("visits", 3) {
                        Ok(()) => HttpResponse::Ok().finish(),
                        Err(err) => HttpResponse::BadRequest().body(err.to_string()),
                    }
                }),
            ),
    )
    .await
}

/// Sends `request` with the session cookie `value`; returns the entries the handler saw (for
/// `GET /entries`) and the new session cookie value, if one was set.
async fn send(
    app: &impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
    request: test::TestRequest,
    value: &str,
) -> (Value, Option<String>) {
    let response = test::call_service(
        app,
        request
            .cookie(Cookie::new("id", value.to_owned()))
            .to_request(),
    )
    .await;
    assert!(response.status().is_success(), "{}", response.status());
    let cookie = response
        .response()
        .cookies()
        .find(|cookie| cookie.name() == "id")
        .map(|cookie| cookie.value().to_owned());
    let body = test::read_body(response).await;
    let entries = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).expect("the handler answers JSON")
    };
    (entries, cookie)
}

#[cfg(feature = "redis-session")]
mod redis {
    use std::collections::BTreeSet;

    use session::storage::{RedisSessionStore, SessionChanges};

    use super::{support::redis_server::RedisServer, *};

    const HASH: &str = include_str!("fixtures/redis-v1-hash.txt");
    const SESSION_KEY: &str = include_str!("fixtures/redis-v1-session-key.txt");
    const COOKIE: &str = include_str!("fixtures/redis-v1-cookie.txt");

    fn session_key() -> SessionKey {
        SessionKey::try_from(fixture(SESSION_KEY).to_owned()).expect("a session key")
    }

    fn redis_key() -> String {
        format!("session:{}", fixture(SESSION_KEY))
    }

    /// Writes the fixture hash into `server` as the version 1 store left it, with an hour
    /// to live; returns the hash's fields and values.
    fn restore(server: &RedisServer) -> Vec<(String, String)> {
        let lines: Vec<&str> = fixture(HASH).lines().collect();
        assert!(lines.len().is_multiple_of(2), "fields and values alternate");
        let pairs: Vec<(String, String)> = lines
            .chunks_exact(2)
            .map(|pair| (pair[0].to_owned(), pair[1].to_owned()))
            .collect();
        assert!(
            pairs
                .iter()
                .any(|(field, value)| field == "__v" && value.starts_with("1:")),
            "the fixture is a version 1 record: {pairs:?}"
        );
        let key = redis_key();
        let mut args = vec!["HSET", key.as_str()];
        for (field, value) in &pairs {
            args.extend([field.as_str(), value.as_str()]);
        }
        server.cli(&args);
        server.cli(&["PEXPIRE", &key, "3600000"]);
        pairs
    }

    fn field(server: &RedisServer, name: &str) -> String {
        server.cli(&["HGET", &redis_key(), name])
    }

    fn pttl(server: &RedisServer) -> i64 {
        server
            .cli(&["PTTL", &redis_key()])
            .parse()
            .expect("PTTL answers a number")
    }

    async fn store(server: &RedisServer, clock: &Clock) -> RedisSessionStore {
        RedisSessionStore::builder(server.url())
            .clock(clock.clone())
            .build()
            .await
            .expect("connect to the test redis-server")
    }

    /// `now` in the envelope's unit, Unix milliseconds.
    fn millis(clock: &Clock) -> i128 {
        clock.now().unix_timestamp_nanos() / 1_000_000
    }

    #[actix_web::test]
    async fn a_version_1_record_loads() {
        let server = RedisServer::start();
        restore(&server);
        let clock = clock_at(Duration::minutes(2));
        let store = store(&server, &clock).await;
        assert_eq!(
            store.load(&session_key()).await.expect("load"),
            Some(stored_state())
        );
    }

    #[actix_web::test]
    async fn a_version_1_record_is_patched_and_rewritten_in_version_3() {
        let server = RedisServer::start();
        restore(&server);
        let clock = clock_at(Duration::minutes(2));
        let store = store(&server, &clock).await;
        let mut after = stored_state();
        after.insert("visits".to_owned(), json!(3));
        let changes =
            SessionChanges::new(after.clone(), BTreeSet::from(["visits".to_owned()]), false);
        store
            .update_changes(session_key(), changes, &Duration::minutes(30))
            .await
            .expect("update_changes");
        assert_eq!(field(&server, "__v"), format!("3:{}:1", millis(&clock)));
        assert_eq!(field(&server, "_~__session_created_at"), "1767225600");
        assert_eq!(store.load(&session_key()).await.expect("load"), Some(after));
        let pttl = pttl(&server);
        assert!(pttl > 29 * 60_000 && pttl <= 30 * 60_000, "{pttl}");
    }

    #[actix_web::test]
    async fn a_version_1_record_is_replaced_and_rewritten_in_version_3() {
        let server = RedisServer::start();
        restore(&server);
        let clock = clock_at(Duration::minutes(2));
        let store = store(&server, &clock).await;
        let replacement = state(json!({"__session_created_at": CREATED_AT, "user": "bob"}));
        store
            .update(session_key(), replacement.clone(), &Duration::minutes(30))
            .await
            .expect("update");
        assert_eq!(field(&server, "__v"), format!("3:{}:1", millis(&clock)));
        assert_eq!(
            store.load(&session_key()).await.expect("load"),
            Some(replacement)
        );
    }

    #[actix_web::test]
    async fn a_version_1_record_is_refreshed_and_rewritten_in_version_3() {
        let server = RedisServer::start();
        let before = restore(&server);
        let clock = clock_at(Duration::minutes(2));
        let store = store(&server, &clock).await;
        store
            .update_ttl(&session_key(), &Duration::hours(2))
            .await
            .expect("update_ttl");
        assert_eq!(field(&server, "__v"), format!("3:{}:1", millis(&clock)));
        let pttl = pttl(&server);
        assert!(pttl > 3_600_000 && pttl <= 7_200_000, "{pttl}");
        for (name, value) in before.iter().filter(|(name, _)| name != "__v") {
            assert_eq!(&field(&server, name), value, "entry {name} is untouched");
        }
        assert_eq!(
            store.load(&session_key()).await.expect("load"),
            Some(stored_state())
        );
    }

    #[actix_web::test]
    async fn a_version_1_record_is_deleted() {
        let server = RedisServer::start();
        restore(&server);
        let clock = clock_at(Duration::minutes(2));
        let store = store(&server, &clock).await;
        store.delete(&session_key()).await.expect("delete");
        assert_eq!(server.cli(&["EXISTS", &redis_key()]), "0");
        assert_eq!(store.load(&session_key()).await.expect("load"), None);
    }

    /// Through the middleware: the version 1 session's cookie still opens it, a change is
    /// saved in version 3 keeping the creation time, and the absolute timeout still counts
    /// from that creation time (the state entry).
    #[actix_web::test]
    async fn a_version_1_session_keeps_working_through_the_middleware() {
        let server = RedisServer::start();
        restore(&server);
        let clock = clock_at(Duration::minutes(2));
        let app = app(store(&server, &clock).await, clock.clone()).await;
        let cookie = fixture(COOKIE);

        let (entries, _) = send(&app, test::TestRequest::get().uri("/entries"), cookie).await;
        assert_eq!(entries, handler_entries());

        send(&app, test::TestRequest::post().uri("/visit"), cookie).await;
        assert_eq!(field(&server, "__v"), format!("3:{}:1", millis(&clock)));
        assert_eq!(field(&server, "_~__session_created_at"), "1767225600");
        let (entries, _) = send(&app, test::TestRequest::get().uri("/entries"), cookie).await;
        assert_eq!(entries["visits"], json!(3));

        clock.set(
            OffsetDateTime::from_unix_timestamp(CREATED_AT).expect("a valid time") + ABSOLUTE_TTL,
        );
        let (entries, _) = send(&app, test::TestRequest::get().uri("/entries"), cookie).await;
        assert_eq!(
            entries,
            json!({}),
            "past the absolute timeout: a fresh session"
        );
        assert_eq!(server.cli(&["EXISTS", &redis_key()]), "0");
    }
}

#[cfg(feature = "cookie-session")]
mod cookie {
    use session::storage::CookieSessionStore;

    use super::*;

    const PAYLOAD: &str = include_str!("fixtures/cookie-v1-payload.json");
    const COOKIE: &str = include_str!("fixtures/cookie-v1-cookie.txt");

    fn payload() -> SessionKey {
        let payload = fixture(PAYLOAD);
        assert!(
            payload.starts_with("{\"v\":1,\"c\":"),
            "a version 1 payload"
        );
        SessionKey::try_from(payload.to_owned()).expect("a session key")
    }

    #[actix_web::test]
    async fn a_version_1_payload_loads_until_its_expiry() {
        let clock = clock_at(Duration::minutes(2));
        let store = CookieSessionStore::with_clock(clock.clone());
        assert_eq!(
            store.load(&payload()).await.expect("load"),
            Some(stored_state())
        );

        // It was written with the absolute timeout's 12 hours left.
        clock.set(
            OffsetDateTime::from_unix_timestamp(CREATED_AT).expect("a valid time") + ABSOLUTE_TTL,
        );
        assert_eq!(store.load(&payload()).await.expect("load"), None);
    }

    #[actix_web::test]
    async fn a_version_1_payload_is_rewritten_in_version_3() {
        let clock = clock_at(Duration::minutes(2));
        let store = CookieSessionStore::with_clock(clock.clone());
        let mut after = stored_state();
        after.insert("visits".to_owned(), json!(3));
        let updated = store
            .update(payload(), after.clone(), &Duration::minutes(30))
            .await
            .expect("update");
        let expires = clock.now().unix_timestamp() + 30 * 60;
        assert!(
            updated
                .as_ref()
                .starts_with(&format!("{{\"v\":2,\"e\":{expires},\"d\":{{")),
            "{}",
            updated.as_ref()
        );
        assert_eq!(store.load(&updated).await.expect("load"), Some(after));

        let refreshed = store
            .refresh(payload(), &stored_state(), &Duration::minutes(30))
            .await
            .expect("refresh");
        assert!(refreshed.as_ref().starts_with("{\"v\":2,"));
        assert_eq!(
            store.load(&refreshed).await.expect("load"),
            Some(stored_state())
        );
    }

    /// A session stored before public ids existed has none until its next write, then keeps
    /// the one it got.
    #[actix_web::test]
    async fn a_version_1_cookie_gets_a_public_id_on_its_next_write() {
        let clock = clock_at(Duration::minutes(2));
        let app = app(CookieSessionStore::with_clock(clock.clone()), clock.clone()).await;
        let public_id = test::TestRequest::get().uri("/public-id");
        let (before, _) = send(&app, public_id, fixture(COOKIE)).await;
        assert_eq!(before, Value::Null);
        let visit = test::TestRequest::post().uri("/visit");
        let (_, cookie) = send(&app, visit, fixture(COOKIE)).await;
        let cookie = cookie.expect("a changed cookie session gets a new cookie");
        let (after, _) = send(&app, test::TestRequest::get().uri("/public-id"), &cookie).await;
        let id = after
            .as_str()
            .expect("a public id after the write")
            .to_owned();
        assert_eq!(id.len(), 22, "{id}");
        let (_, again) = send(&app, test::TestRequest::post().uri("/visit"), &cookie).await;
        let again = again.expect("a new cookie");
        let (kept, _) = send(&app, test::TestRequest::get().uri("/public-id"), &again).await;
        assert_eq!(kept, json!(id), "the public id changed on a later write");
    }

    /// Through the middleware: the version 1 cookie still opens, and a change is sent back
    /// in a new cookie that keeps the state and the creation time.
    #[actix_web::test]
    async fn a_version_1_cookie_keeps_working_through_the_middleware() {
        let clock = clock_at(Duration::minutes(2));
        let app = app(CookieSessionStore::with_clock(clock.clone()), clock.clone()).await;

        let (entries, _) = send(
            &app,
            test::TestRequest::get().uri("/entries"),
            fixture(COOKIE),
        )
        .await;
        assert_eq!(entries, handler_entries());

        let (_, cookie) = send(
            &app,
            test::TestRequest::post().uri("/visit"),
            fixture(COOKIE),
        )
        .await;
        let cookie = cookie.expect("a changed cookie session gets a new cookie");
        let (entries, _) = send(&app, test::TestRequest::get().uri("/entries"), &cookie).await;
        let mut expected = handler_entries();
        expected["visits"] = json!(3);
        assert_eq!(entries, expected);

        // The creation time came along: the session still ends 12 hours after it was
        // created, not 12 hours after this change.
        clock.set(
            OffsetDateTime::from_unix_timestamp(CREATED_AT).expect("a valid time") + ABSOLUTE_TTL,
        );
        let (entries, _) = send(&app, test::TestRequest::get().uri("/entries"), &cookie).await;
        assert_eq!(
            entries,
            json!({}),
            "past the absolute timeout: a fresh session"
        );
    }
}
