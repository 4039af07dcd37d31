//! Store scenarios run through the real middleware, shared by the standalone and the cluster
//! tests.

use std::{sync::Arc, time::Instant};

use actix_http::Request;
use actix_web::{
    App, HttpResponse,
    body::MessageBody,
    cookie::{Cookie, Key, time::Duration},
    dev::{Service, ServiceResponse},
    http::{Method, StatusCode, header},
    test, web,
};
use serde_json::{Value, json};
use session::{
    Session, SessionMiddleware,
    config::BrowserSession,
    storage::{NearCacheStats, RedisSessionStore, SessionStore},
};
use tokio::sync::{Barrier, Notify};

use super::{
    handlers::{purge, renew},
    redis_server::{RedisCluster, RedisServer},
};

/// Read access to the Redis behind a store, for assertions.
pub(crate) trait Inspect {
    /// Runs a `redis-cli --raw` command (following cluster redirects).
    fn cli(&self, args: &[&str]) -> String;
    /// Every key matching `pattern`, on every node.
    fn keys(&self, pattern: &str) -> Vec<String>;
}

impl Inspect for RedisServer {
    fn cli(&self, args: &[&str]) -> String {
        RedisServer::cli(self, args)
    }

    fn keys(&self, pattern: &str) -> Vec<String> {
        lines(&RedisServer::cli(self, &["--scan", "--pattern", pattern]))
    }
}

impl Inspect for RedisCluster {
    fn cli(&self, args: &[&str]) -> String {
        RedisCluster::cli(self, args)
    }

    fn keys(&self, pattern: &str) -> Vec<String> {
        self.nodes()
            .iter()
            .flat_map(|node| lines(&node.cli(&["--scan", "--pattern", pattern])))
            .collect()
    }
}

fn lines(output: &str) -> Vec<String> {
    output
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The hash at `key` as field → value.
pub(crate) fn hash(redis: &dyn Inspect, key: &str) -> serde_json::Map<String, Value> {
    let output = redis.cli(&["HGETALL", key]);
    let lines: Vec<&str> = output.lines().collect();
    lines
        .chunks(2)
        .filter(|pair| pair.len() == 2)
        .map(|pair| (pair[0].to_owned(), Value::String(pair[1].to_owned())))
        .collect()
}

/// Lets tests hold handlers at chosen points.
#[derive(Default)]
pub(crate) struct Gate {
    /// Notified by `/wait-set` once its session is loaded and changed.
    pub(crate) loaded: Notify,
    /// Awaited by `/wait-set` before it answers.
    pub(crate) go: Notify,
    /// Awaited by `/barrier-set` (two parties).
    pub(crate) barrier: Option<Barrier>,
}

/// The test application over `store`: a JSON view of the session and routes that change it.
pub(crate) async fn app<S>(
    store: S,
    ttl: Option<Duration>,
    gate: Arc<Gate>,
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>
where
    S: SessionStore + 'static,
{
    let mut lifecycle = BrowserSession::default();
    if let Some(ttl) = ttl {
        lifecycle = lifecycle.state_ttl(ttl);
    }
    let middleware = SessionMiddleware::builder(store, Key::generate())
        .cookie_secure(false)
        .session_lifecycle(lifecycle)
        .build();
    test::init_service(
        App::new()
            .wrap(middleware)
            .app_data(web::Data::from(gate))
            .route("/get", web::get().to(get))
            .route("/set/{key}/{value}", web::post().to(set))
            .route("/remove/{key}", web::post().to(remove))
            .route("/clear", web::post().to(clear))
            .route("/purge", web::post().to(purge))
            .route("/renew", web::post().to(renew))
            .route("/wait-set/{key}/{value}", web::post().to(wait_set))
            .route("/barrier-set/{key}/{value}", web::post().to(barrier_set)),
    )
    .await
}

async fn get(session: Session) -> HttpResponse {
    let entries = (*session.entries()).clone();
    HttpResponse::Ok().json(entries)
}

async fn set(
    session: Session,
    path: web::Path<(String, String)>,
) -> actix_web::Result<HttpResponse> {
    let (key, value) = path.into_inner();
    session.insert(key, value)?;
    Ok(HttpResponse::Ok().finish())
}

async fn remove(session: Session, key: web::Path<String>) -> HttpResponse {
    session.remove(&key);
    HttpResponse::Ok().finish()
}

async fn clear(session: Session) -> HttpResponse {
    session.clear();
    HttpResponse::Ok().finish()
}

/// [`set`], then holds the answer until the test says `go`.
async fn wait_set(
    session: Session,
    path: web::Path<(String, String)>,
    gate: web::Data<Gate>,
) -> actix_web::Result<HttpResponse> {
    let response = set(session, path).await?;
    gate.loaded.notify_one();
    gate.go.notified().await;
    Ok(response)
}

/// [`set`], then waits at the barrier for the other request.
async fn barrier_set(
    session: Session,
    path: web::Path<(String, String)>,
    gate: web::Data<Gate>,
) -> actix_web::Result<HttpResponse> {
    let response = set(session, path).await?;
    if let Some(barrier) = &gate.barrier {
        barrier.wait().await;
    }
    Ok(response)
}

/// What a test request got back.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
    /// The `id` cookie the response set, if any.
    pub(crate) cookie: Option<Cookie<'static>>,
}

impl Reply {
    /// The session cookie the response set; fails if it set none or removed it.
    pub(crate) fn session_cookie(&self) -> Cookie<'static> {
        let cookie = self
            .cookie
            .clone()
            .expect("the response sets a session cookie");
        assert!(
            !self.removes_cookie(),
            "expected a session cookie, got a removal"
        );
        cookie
    }

    /// Whether the response removes the session cookie.
    pub(crate) fn removes_cookie(&self) -> bool {
        self.cookie
            .as_ref()
            .is_some_and(|cookie| cookie.max_age() == Some(Duration::ZERO))
    }

    /// The body as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// Sends one request, with the session cookie if given.
pub(crate) async fn send<A, B>(
    app: &A,
    method: Method,
    path: &str,
    cookie: Option<&Cookie<'static>>,
) -> Reply
where
    A: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut request = test::TestRequest::default().method(method).uri(path);
    if let Some(cookie) = cookie {
        request = request.cookie(cookie.clone());
    }
    let response = match app.call(request.to_request()).await {
        Ok(response) => response,
        Err(err) => {
            let response = err.error_response();
            let status = response.status();
            let body = actix_web::body::to_bytes(response.into_body())
                .await
                .map(|bytes| bytes.to_vec())
                .unwrap_or_default();
            return Reply {
                status,
                body,
                cookie: None,
            };
        }
    };
    let status = response.status();
    let cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| Cookie::parse_encoded(value.to_owned()).ok())
        .find(|cookie| cookie.name() == "id");
    let body = test::read_body(response).await.to_vec();
    Reply {
        status,
        body,
        cookie,
    }
}

/// Create, read, change, escape `_` keys, renew (old key dead), purge; checks the layout.
pub(crate) async fn lifecycle<S: SessionStore + 'static>(
    store: S,
    redis: &dyn Inspect,
    prefix: &str,
) {
    let pattern = format!("{prefix}*");
    let app = app(store, None, Arc::default()).await;

    let reply = send(&app, Method::GET, "/get", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.cookie.is_none(), "no cookie for an empty session");
    assert!(
        redis.keys(&pattern).is_empty(),
        "no write for an empty session"
    );

    let reply = send(&app, Method::POST, "/set/user/alice", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let cookie = reply.session_cookie();
    let keys = redis.keys(&pattern);
    assert_eq!(keys.len(), 1, "one hash per session: {keys:?}");
    let key = &keys[0];
    assert_eq!(redis.cli(&["TYPE", key]), "hash");
    let fields = hash(redis, key);
    assert_eq!(fields["user"], "\"alice\"");
    let envelope = fields["__v"].as_str().expect("an envelope");
    let parts: Vec<&str> = envelope.split(':').collect();
    assert_eq!(parts.len(), 3, "version:seen:revision, got {envelope}");
    assert_eq!(parts[0], "3");
    assert_eq!(parts[2], "1", "a new session's revision");
    assert!(
        parts[1..].iter().all(|ms| ms.parse::<i64>().is_ok()),
        "{envelope}"
    );
    let pttl: i64 = redis.cli(&["PTTL", key]).parse().expect("PTTL");
    assert!(
        pttl > 86_000_000 && pttl <= 86_400_000,
        "one day TTL, got {pttl}"
    );

    let reply = send(&app, Method::GET, "/get", Some(&cookie)).await;
    assert_eq!(reply.json(), json!({"user": "alice"}));

    let reply = send(&app, Method::POST, "/set/user/bob", Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = send(&app, Method::POST, "/set/_hidden/x", Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        redis.keys(&pattern),
        vec![key.clone()],
        "updates keep the key"
    );
    let fields = hash(redis, key);
    assert_eq!(fields["user"], "\"bob\"");
    assert_eq!(fields["_~_hidden"], "\"x\"");
    let reply = send(&app, Method::GET, "/get", Some(&cookie)).await;
    assert_eq!(reply.json(), json!({"user": "bob", "_hidden": "x"}));

    let reply = send(&app, Method::POST, "/remove/_hidden", Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!hash(redis, key).contains_key("_~_hidden"));

    let reply = send(&app, Method::POST, "/renew", Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let renewed = reply.session_cookie();
    let keys = redis.keys(&pattern);
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_ne!(&keys[0], key, "renew moves the state to a new key");
    let reply = send(&app, Method::GET, "/get", Some(&cookie)).await;
    assert_eq!(reply.json(), json!({}), "the old key is dead");
    let reply = send(&app, Method::GET, "/get", Some(&renewed)).await;
    assert_eq!(reply.json(), json!({"user": "bob"}));

    let reply = send(&app, Method::POST, "/clear", Some(&renewed)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = send(&app, Method::POST, "/set/after/clear", Some(&renewed)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = send(&app, Method::GET, "/get", Some(&renewed)).await;
    assert_eq!(reply.json(), json!({"after": "clear"}));

    let reply = send(&app, Method::POST, "/purge", Some(&renewed)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.removes_cookie());
    assert!(redis.keys(&pattern).is_empty(), "purge deletes the hash");
    let reply = send(&app, Method::GET, "/get", Some(&renewed)).await;
    assert_eq!(reply.json(), json!({}));
}

/// Two requests load the same session and change different keys: both changes survive.
pub(crate) async fn concurrent_partial_updates<S: SessionStore + 'static>(store: S) {
    let gate = Arc::new(Gate {
        barrier: Some(Barrier::new(2)),
        ..Gate::default()
    });
    let app = app(store, None, gate).await;
    let cookie = send(&app, Method::POST, "/set/base/0", None)
        .await
        .session_cookie();
    let (a, b) = tokio::join!(
        send(&app, Method::POST, "/barrier-set/a/1", Some(&cookie)),
        send(&app, Method::POST, "/barrier-set/b/2", Some(&cookie)),
    );
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(b.status, StatusCode::OK);
    let reply = send(&app, Method::GET, "/get", Some(&cookie)).await;
    assert_eq!(reply.json(), json!({"base": "0", "a": "1", "b": "2"}));
}

/// A logout between another request's load and save: that request does not resurrect the
/// session.
pub(crate) async fn logout_during_request<S: SessionStore + 'static>(
    store: S,
    redis: &dyn Inspect,
    prefix: &str,
) {
    let gate = Arc::new(Gate::default());
    let app = app(store, None, Arc::clone(&gate)).await;
    let cookie = send(&app, Method::POST, "/set/user/alice", None)
        .await
        .session_cookie();
    let (slow, logout) = tokio::join!(
        send(&app, Method::POST, "/wait-set/cart/full", Some(&cookie)),
        async {
            gate.loaded.notified().await;
            let reply = send(&app, Method::POST, "/purge", Some(&cookie)).await;
            gate.go.notify_one();
            reply
        },
    );
    assert!(logout.removes_cookie());
    assert_eq!(slow.status, StatusCode::OK);
    assert!(
        slow.removes_cookie(),
        "the in-flight request learns the session is gone"
    );
    assert!(
        redis.keys(&format!("{prefix}*")).is_empty(),
        "the session was not resurrected"
    );
    let reply = send(&app, Method::GET, "/get", Some(&cookie)).await;
    assert_eq!(reply.json(), json!({}));
}

/// Every session maps to `fixed_key`: the second new session must not overwrite the first.
pub(crate) async fn key_collision_is_detected<S: SessionStore + 'static>(
    store: S,
    redis: &dyn Inspect,
    fixed_key: &str,
) {
    let app = app(store, None, Arc::default()).await;
    let first = send(&app, Method::POST, "/set/user/first", None)
        .await
        .session_cookie();
    assert_eq!(hash(redis, fixed_key)["user"], "\"first\"");

    let reply = send(&app, Method::POST, "/set/user/second", None).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.body.is_empty(), "opaque 500");
    assert_eq!(
        hash(redis, fixed_key)["user"],
        "\"first\"",
        "not overwritten"
    );
    let reply = send(&app, Method::GET, "/get", Some(&first)).await;
    assert_eq!(reply.json(), json!({"user": "first"}));
}

/// A 1500 ms state TTL is stored with millisecond precision.
pub(crate) async fn millisecond_ttl<S: SessionStore + 'static>(
    store: S,
    redis: &dyn Inspect,
    prefix: &str,
) {
    let app = app(store, Some(Duration::milliseconds(1500)), Arc::default()).await;
    let written = Instant::now();
    let cookie = send(&app, Method::POST, "/set/user/alice", None)
        .await
        .session_cookie();
    let keys = redis.keys(&format!("{prefix}*"));
    assert_eq!(keys.len(), 1);
    let pttl: i64 = redis.cli(&["PTTL", &keys[0]]).parse().expect("PTTL");
    if written.elapsed() < std::time::Duration::from_millis(400) {
        assert!(
            pttl > 1000 && pttl <= 1500,
            "PTTL {pttl} not in (1000, 1500]"
        );
    } else {
        assert!(pttl > 0 && pttl <= 1500, "PTTL {pttl} not in (0, 1500]");
    }
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    assert!(redis.keys(&format!("{prefix}*")).is_empty(), "expired");
    let reply = send(&app, Method::GET, "/get", Some(&cookie)).await;
    assert_eq!(reply.json(), json!({}));
}

/// Waits (at most 3 s) until `done` holds for the near cache's statistics of `store`.
pub(crate) async fn wait_for_cache(
    store: &RedisSessionStore,
    what: &str,
    done: impl Fn(NearCacheStats) -> bool,
) {
    let deadline = Instant::now() + std::time::Duration::from_secs(3);
    while !done(store.near_cache_stats()) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {:?}",
            store.near_cache_stats()
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Waits until `store` has received an invalidation (or flushed) since `before`.
pub(crate) async fn invalidated(store: &RedisSessionStore, before: NearCacheStats) {
    wait_for_cache(store, "an invalidation", |now| {
        now.invalidations > before.invalidations || now.flushes > before.flushes
    })
    .await;
}
