//! Load and fault tests over a real HTTP server on loopback.
//!
//! - Sustained load against the memory store and Redis: zero errors, zero lost writes.
//! - Redis killed mid-load (persistence on: AOF, `appendfsync always`) and restarted on the
//!   same port: requests during the outage fail fast with an opaque 500, every write
//!   acknowledged before the outage is still there after it, and the service recovers without
//!   a restart.
//!
//! CI runs a short version. For a longer run:
//! `LOAD_SECONDS=60 LOAD_CLIENTS=32 cargo test -p session --all-features --release --test load_fault -- --nocapture`
#![cfg(feature = "redis-session")]

mod support;

use std::{
    cell::RefCell,
    collections::BTreeMap,
    time::{Duration, Instant},
};

use actix_web::{
    App, HttpResponse,
    cookie::{Cookie, Key},
    web,
};
use session::{
    Session, SessionMiddleware,
    storage::{MemorySessionStore, NearCache, RedisSessionStore, SessionStore},
};
use support::redis_server::RedisServer;

const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn load_duration() -> Duration {
    Duration::from_secs(env_number("LOAD_SECONDS", 3))
}

fn clients() -> usize {
    usize::try_from(env_number("LOAD_CLIENTS", 8)).unwrap_or(8)
}

async fn write(session: Session, n: web::Path<u64>) -> actix_web::Result<HttpResponse> {
    let n = n.into_inner();
    session.insert(format!("w{n}"), n)?;
    Ok(HttpResponse::Ok().finish())
}

async fn keys(session: Session) -> HttpResponse {
    HttpResponse::Ok().json(&*session.entries())
}

fn server<S, F>(make_store: F) -> actix_test::TestServer
where
    S: SessionStore + 'static,
    F: Fn() -> S + Clone + Send + 'static,
{
    let key = Key::generate();
    actix_test::start_with(actix_test::config().workers(2), move || {
        App::new()
            .wrap(
                SessionMiddleware::builder(make_store(), key.clone())
                    .cookie_secure(false)
                    .build(),
            )
            .route("/write/{n}", web::post().to(write))
            .route("/keys", web::get().to(keys))
    })
}

/// What the clients saw.
#[derive(Default, Debug)]
struct Tally {
    /// Per client: the writes the server acknowledged.
    acknowledged: BTreeMap<usize, Vec<u64>>,
    ok: usize,
    errors: usize,
    /// Failed requests that were not an opaque 500 with an empty body, or took too long.
    bad_failures: usize,
    slowest_failure: Duration,
}

/// Each client writes `w0, w1, ...` to its own session (its first write creates it), one
/// after the other, until `until`. Returns each client's session cookie.
async fn run_clients(
    srv: &actix_test::TestServer,
    until: Instant,
    tally: &RefCell<Tally>,
) -> Vec<Option<Cookie<'static>>> {
    let clients = (0..clients()).map(|client| async move {
        let mut cookie: Option<Cookie<'static>> = None;
        let mut n = 0_u64;
        while Instant::now() < until {
            let mut request = srv.post(format!("/write/{n}"));
            if let Some(cookie) = &cookie {
                request = request.cookie(cookie.clone());
            }
            let started = Instant::now();
            let result = request.send().await;
            let elapsed = started.elapsed();
            match result {
                Ok(mut res) => {
                    let status = res.status();
                    let new_cookie = res
                        .cookies()
                        .ok()
                        .and_then(|cs| cs.iter().find(|c| c.name() == "id").cloned());
                    let body = res.body().await.unwrap_or_default();
                    let mut tally = tally.borrow_mut();
                    if status.is_success() {
                        if new_cookie.is_some() {
                            cookie = new_cookie;
                        }
                        tally.ok += 1;
                        tally.acknowledged.entry(client).or_default().push(n);
                    } else {
                        tally.errors += 1;
                        tally.slowest_failure = tally.slowest_failure.max(elapsed);
                        let opaque = status.as_u16() == 500 && body.is_empty();
                        if !opaque || elapsed > RESPONSE_TIMEOUT * 4 {
                            tally.bad_failures += 1;
                        }
                    }
                }
                Err(_) => {
                    let mut tally = tally.borrow_mut();
                    tally.errors += 1;
                    tally.bad_failures += 1;
                }
            }
            n += 1;
        }
        cookie
    });
    futures_util::future::join_all(clients).await
}

/// Reads every client's session back and returns the acknowledged writes that are missing.
async fn lost_writes(
    srv: &actix_test::TestServer,
    cookies: &[Option<Cookie<'static>>],
    tally: &Tally,
) -> Vec<String> {
    let mut lost = Vec::new();
    for (client, acknowledged) in &tally.acknowledged {
        let Some(cookie) = cookies.get(*client).cloned().flatten() else {
            lost.push(format!("client {client}: no session cookie"));
            continue;
        };
        let mut res = srv
            .get("/keys")
            .cookie(cookie)
            .send()
            .await
            .expect("read back");
        let state: serde_json::Map<String, serde_json::Value> =
            res.json().limit(16 << 20).await.expect("json");
        for n in acknowledged {
            if state.get(&format!("w{n}")) != Some(&serde_json::json!(n)) {
                lost.push(format!("client {client}: w{n}"));
            }
        }
    }
    lost
}

async fn sustained_load<S, F>(make_store: F) -> Tally
where
    S: SessionStore + 'static,
    F: Fn() -> S + Clone + Send + 'static,
{
    let srv = server(make_store);
    let tally = RefCell::new(Tally::default());
    let cookies = run_clients(&srv, Instant::now() + load_duration(), &tally).await;
    let tally = tally.into_inner();
    let lost = lost_writes(&srv, &cookies, &tally).await;
    assert!(lost.is_empty(), "lost writes: {lost:?}");
    println!(
        "sustained load: {} writes acknowledged, {} errors",
        tally.ok, tally.errors
    );
    tally
}

#[actix_web::test]
async fn sustained_load_on_the_memory_store_loses_nothing() {
    let store = MemorySessionStore::new();
    let tally = sustained_load(move || store.clone()).await;
    assert_eq!(tally.errors, 0);
    assert!(tally.ok > 100, "too little load: {}", tally.ok);
}

#[actix_web::test]
async fn sustained_load_on_redis_loses_nothing() {
    let redis = RedisServer::start();
    let store = RedisSessionStore::new(redis.url()).await.expect("connect");
    let tally = sustained_load(move || store.clone()).await;
    assert_eq!(tally.errors, 0);
    assert!(tally.ok > 100, "too little load: {}", tally.ok);
}

/// The same with the near cache on: every acknowledged write is read back through the
/// cache (writes fill it, so the read-back is served from it).
#[actix_web::test]
async fn sustained_load_on_redis_with_the_near_cache_loses_nothing() {
    let redis = RedisServer::start();
    let store = RedisSessionStore::builder(redis.url())
        .near_cache(NearCache::new())
        .build()
        .await
        .expect("connect");
    assert!(store.has_near_cache());
    let tally = sustained_load(move || store.clone()).await;
    assert_eq!(tally.errors, 0);
    assert!(tally.ok > 100, "too little load: {}", tally.ok);
}

#[actix_web::test]
async fn redis_killed_and_restarted_mid_load() {
    killed_and_restarted_mid_load(NearCache::off()).await;
}

#[actix_web::test]
async fn redis_killed_and_restarted_mid_load_with_the_near_cache() {
    killed_and_restarted_mid_load(NearCache::new()).await;
}

async fn killed_and_restarted_mid_load(cache: NearCache) {
    let mut redis = RedisServer::start_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let store = RedisSessionStore::builder(redis.url())
        .connect_timeout(Some(Duration::from_millis(500)))
        .response_timeout(Some(RESPONSE_TIMEOUT))
        .near_cache(cache)
        .build()
        .await
        .expect("connect");
    let srv = server(move || store.clone());
    let phase = load_duration();
    let tally = RefCell::new(Tally::default());

    // Load runs through three phases: up, down (killed), up again (restarted on the port).
    let load = run_clients(&srv, Instant::now() + phase * 3, &tally);
    let chaos = async {
        actix_web::rt::time::sleep(phase).await;
        let before_outage = tally.borrow().ok;
        redis.kill();
        actix_web::rt::time::sleep(phase).await;
        let errors_during_outage = tally.borrow().errors;
        redis.restart();
        (before_outage, errors_during_outage)
    };
    let (cookies, (before_outage, errors_during_outage)) =
        futures_util::future::join(load, chaos).await;
    let tally = tally.into_inner();
    println!(
        "fault test: {} writes acknowledged ({before_outage} before the outage), {} failed          (slowest failure {:?})",
        tally.ok, tally.errors, tally.slowest_failure
    );

    assert!(before_outage > 0, "no load before the outage");
    assert!(errors_during_outage > 0, "the outage was not noticed");
    assert_eq!(tally.bad_failures, 0, "failures must be fast, opaque 500s");
    assert!(
        tally.ok > before_outage + clients(),
        "the service did not recover after Redis came back"
    );
    let lost = lost_writes(&srv, &cookies, &tally).await;
    assert!(
        lost.is_empty(),
        "acknowledged writes lost across the outage: {lost:?}"
    );
}
