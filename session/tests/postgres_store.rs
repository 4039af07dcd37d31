//! `PostgresSessionStore` on a private Postgres cluster started by the tests: the
//! conformance suites, the shared SQL scenarios, the sweeper, the schema, a restart under
//! load over real HTTP, and the promise that no session key is stored.
#![cfg(feature = "postgres-session")]

mod support;

use std::{
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    time::Duration as StdDuration,
};

use actix_web::{
    App, HttpResponse,
    cookie::{Key, time::Duration},
    http::StatusCode,
    web,
};
use serde_json::json;
use session::{
    Session, SessionMiddleware,
    config::Clock,
    storage::{PostgresSessionStore, SessionStore, SqlStoreError},
    test_helpers::{acceptance_test_suite, concurrency_test_suite, owner_test_suite},
};
use sqlx::{Row as _, postgres::PgPoolOptions};
use support::{manual_clock, postgres_server::PostgresServer, sql_scenarios};

async fn store(server: &PostgresServer) -> PostgresSessionStore {
    PostgresSessionStore::new(server.url())
        .await
        .expect("connect to the test Postgres")
}

async fn store_on(server: &PostgresServer, clock: &Clock) -> PostgresSessionStore {
    PostgresSessionStore::builder(server.url())
        .clock(clock.clone())
        .build()
        .await
        .expect("connect to the test Postgres")
}

async fn rows(store: &PostgresSessionStore) -> i64 {
    sqlx::query("SELECT count(*) FROM sessions")
        .fetch_one(store.pool())
        .await
        .expect("count")
        .get(0)
}

#[actix_web::test]
async fn the_acceptance_suite_passes() {
    let server = PostgresServer::start();
    let store = store(&server).await;
    acceptance_test_suite(move || store.clone(), true).await;
}

#[actix_web::test]
async fn the_concurrency_suite_passes() {
    let server = PostgresServer::start();
    let store = store(&server).await;
    concurrency_test_suite(move || store.clone()).await;
}

#[actix_web::test]
async fn partial_updates_write_only_the_changes() {
    let server = PostgresServer::start();
    sql_scenarios::partial_updates_write_only_the_changes(store(&server).await).await;
}

#[actix_web::test]
async fn writes_never_recreate_a_session() {
    let server = PostgresServer::start();
    let clock = manual_clock();
    sql_scenarios::writes_never_recreate_a_session(store_on(&server, &clock).await, &clock).await;
}

#[actix_web::test]
async fn refresh_extends_the_lifetime() {
    let server = PostgresServer::start();
    let clock = manual_clock();
    sql_scenarios::refresh_extends_the_lifetime(store_on(&server, &clock).await, &clock).await;
}

#[actix_web::test]
async fn the_owner_index_lists_and_revokes() {
    let server = PostgresServer::start();
    let clock = manual_clock();
    let store = store_on(&server, &clock).await;
    sql_scenarios::owner_index_lists_and_revokes(store.clone(), &clock).await;
    let indexed: Vec<String> = sqlx::query(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'sessions' ORDER BY indexname",
    )
    .fetch_all(store.pool())
    .await
    .expect("indexes")
    .iter()
    .map(|row| row.get(0))
    .collect();
    assert!(
        indexed.iter().any(|def| def.contains("(owner, public_id)")),
        "{indexed:?}"
    );
    assert!(
        indexed.iter().any(|def| def.contains("(expires_at)")),
        "{indexed:?}"
    );
}

#[actix_web::test]
async fn expired_rows_are_deleted_on_demand_and_by_the_sweeper_which_survives_an_outage() {
    let server = PostgresServer::start();
    let clock = manual_clock();
    let store = store_on(&server, &clock).await;
    for ttl in [1, 1, 1, 60] {
        store
            .save(
                sql_scenarios::state(json!({"n": ttl})),
                &Duration::minutes(ttl),
            )
            .await
            .expect("save");
    }
    assert_eq!(store.delete_expired().await.expect("sweep"), 0);
    clock.advance(Duration::minutes(2));
    assert_eq!(store.delete_expired().await.expect("sweep"), 3);
    assert_eq!(rows(&store).await, 1);

    let swept = PostgresSessionStore::builder(server.url())
        .clock(clock.clone())
        .sweep_interval(Some(StdDuration::from_millis(100)))
        .build()
        .await
        .expect("connect");
    server.kill();
    // Several sweeps fail while the database is down.
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    server.start_again();
    clock.advance(Duration::minutes(60));
    for _ in 0..100 {
        if rows(&swept).await == 0 {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    panic!("the sweeper did not delete the expired row after the outage");
}

#[actix_web::test]
async fn the_session_key_is_stored_nowhere() {
    let server = PostgresServer::start();
    let store = store(&server).await;
    let mut keys = Vec::new();
    for n in 0..5 {
        keys.push(
            store
                .save(sql_scenarios::state(json!({"n": n})), &Duration::minutes(5))
                .await
                .expect("save"),
        );
    }
    let key = keys[0].clone();
    let key = store
        .update(
            key,
            sql_scenarios::state(json!({"n": 9})),
            &Duration::minutes(5),
        )
        .await
        .expect("update");
    let dump = server.dump();
    assert!(
        dump.contains("\"n\": 9"),
        "the dump holds the data:\n{dump}"
    );
    for key in &keys {
        assert!(
            !dump.contains(key.as_ref()),
            "a session key is in the database"
        );
    }
    let ids: Vec<String> = sqlx::query("SELECT id FROM sessions")
        .fetch_all(store.pool())
        .await
        .expect("ids")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(ids.len(), 5);
    assert!(
        ids.iter().all(|id| id.len() == 66 && id.starts_with("1:")),
        "{ids:?}"
    );
    assert!(store.load(&key).await.expect("load").is_some());
}

#[actix_web::test]
async fn schema_table_existing_pool_and_migrations_on_their_own() {
    let server = PostgresServer::start();
    let pool = PgPoolOptions::new()
        .max_connections(3)
        .connect(&server.url())
        .await
        .expect("the application's pool");
    let unmigrated = PostgresSessionStore::builder_with_pool(pool.clone())
        .schema("auth")
        .table("web_sessions")
        .migrate(false)
        .build()
        .await
        .expect("build without migrating");
    let before = unmigrated
        .save(sql_scenarios::state(json!({"a": 1})), &Duration::minutes(5))
        .await;
    assert!(before.is_err(), "no table yet");
    unmigrated.migrate().await.expect("migrate");
    unmigrated
        .migrate()
        .await
        .expect("migrating twice is a no-op");
    let key = unmigrated
        .save(sql_scenarios::state(json!({"a": 1})), &Duration::minutes(5))
        .await
        .expect("save");
    let versions: Vec<i64> = sqlx::query("SELECT version FROM auth.web_sessions_migrations")
        .fetch_all(&pool)
        .await
        .expect("versions")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, [1]);
    let in_schema: i64 = sqlx::query("SELECT count(*) FROM auth.web_sessions")
        .fetch_one(&pool)
        .await
        .expect("count")
        .get(0);
    assert_eq!(in_schema, 1);
    // Two stores on one database, in parallel, migrate once between them.
    let (a, b) = futures_util::future::join(
        PostgresSessionStore::builder_with_pool(pool.clone())
            .table("parallel")
            .build(),
        PostgresSessionStore::builder_with_pool(pool.clone())
            .table("parallel")
            .build(),
    )
    .await;
    a.expect("first");
    b.expect("second");
    assert!(unmigrated.load(&key).await.expect("load").is_some());

    let bad = PostgresSessionStore::builder_with_pool(pool)
        .table("sessions; DROP TABLE x")
        .build()
        .await;
    assert!(matches!(
        bad,
        Err(SqlStoreError::InvalidName { what: "table", .. })
    ));
}

#[actix_web::test]
async fn bad_urls_and_unreachable_databases_are_typed_errors() {
    let err = PostgresSessionStore::new("postgres://user:hunter2@[::1")
        .await
        .expect_err("not a URL");
    assert!(matches!(err, SqlStoreError::Url { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");

    let port = support::free_port();
    let started = std::time::Instant::now();
    let err = PostgresSessionStore::builder(format!("postgres://user:hunter2@127.0.0.1:{port}/db"))
        .connect_timeout(StdDuration::from_secs(1))
        .build()
        .await
        .expect_err("nothing listens there");
    assert!(matches!(err, SqlStoreError::Connect { .. }), "{err:?}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(err.to_string().contains(&port.to_string()), "{err}");
    assert!(started.elapsed() < StdDuration::from_secs(5));
}

async fn add(session: Session, who: web::Path<String>) -> actix_web::Result<HttpResponse> {
    let key = format!("n-{who}");
    let n = session.get::<u32>(&key)?.unwrap_or(0) + 1;
    session.insert(key, n)?;
    Ok(HttpResponse::Ok().body(n.to_string()))
}

async fn read(session: Session, who: web::Path<String>) -> actix_web::Result<HttpResponse> {
    let n = session.get::<u32>(&format!("n-{who}"))?.unwrap_or(0);
    Ok(HttpResponse::Ok().body(n.to_string()))
}

/// Writers hammer one session each over real HTTP while Postgres is killed and started
/// again: requests during the outage get an opaque 500, requests after it succeed without
/// rebuilding anything, and every write that was answered with 200 is in the database.
#[actix_web::test]
async fn a_restarted_postgres_under_load_loses_no_acknowledged_write() {
    let server = PostgresServer::start();
    let store = PostgresSessionStore::builder(server.url())
        .connect_timeout(StdDuration::from_millis(500))
        .build()
        .await
        .expect("connect");
    let key = Key::generate();
    let http = actix_test::start(move || {
        App::new()
            .wrap(
                SessionMiddleware::builder(store.clone(), key.clone())
                    .cookie_secure(false)
                    .build(),
            )
            .route("/add/{who}", web::post().to(add))
            .route("/read/{who}", web::get().to(read))
    });
    const WRITERS: usize = 8;
    let mut cookies = Vec::new();
    for w in 0..WRITERS {
        let res = http
            .post(format!("/add/{w}"))
            .send()
            .await
            .expect("first write");
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = res
            .cookies()
            .expect("cookies")
            .iter()
            .find(|c| c.name() == "id")
            .expect("a session cookie")
            .clone()
            .into_owned();
        cookies.push(cookie);
    }
    let acknowledged: Vec<AtomicUsize> = (0..WRITERS).map(|_| AtomicUsize::new(1)).collect();
    let attempted: Vec<AtomicUsize> = (0..WRITERS).map(|_| AtomicUsize::new(1)).collect();
    let failures = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let acked_total = || {
        acknowledged
            .iter()
            .map(|n| n.load(Ordering::SeqCst))
            .sum::<usize>()
    };
    let writers = cookies.iter().enumerate().map(|(w, cookie)| {
        let (http, acknowledged, attempted, failures, stop) =
            (&http, &acknowledged, &attempted, &failures, &stop);
        async move {
            while !stop.load(Ordering::SeqCst) {
                attempted[w].fetch_add(1, Ordering::SeqCst);
                let mut res = http
                    .post(format!("/add/{w}"))
                    .cookie(cookie.clone())
                    .send()
                    .await
                    .expect("an answer");
                let body = res.body().await.expect("a body");
                if res.status() == StatusCode::OK {
                    acknowledged[w].fetch_add(1, Ordering::SeqCst);
                } else {
                    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
                    assert!(body.is_empty(), "opaque 500: {body:?}");
                    failures.fetch_add(1, Ordering::SeqCst);
                }
                tokio::time::sleep(StdDuration::from_millis(5)).await;
            }
        }
    });
    let outage = async {
        tokio::time::sleep(StdDuration::from_millis(500)).await;
        server.kill();
        tokio::time::sleep(StdDuration::from_millis(1500)).await;
        server.start_again();
        // Recovery: writes succeed again without restarting the app or rebuilding the store.
        let before = acked_total();
        let mut recovered = false;
        for _ in 0..100 {
            tokio::time::sleep(StdDuration::from_millis(100)).await;
            if acked_total() >= before + 3 * WRITERS {
                recovered = true;
                break;
            }
        }
        stop.store(true, Ordering::SeqCst);
        recovered
    };
    let (recovered, _) =
        futures_util::future::join(outage, futures_util::future::join_all(writers)).await;
    assert!(recovered, "writes did not succeed again after the restart");
    assert!(
        failures.load(Ordering::SeqCst) > 0,
        "the outage was seen by some requests"
    );
    for (w, cookie) in cookies.iter().enumerate() {
        let mut res = http
            .get(format!("/read/{w}"))
            .cookie(cookie.clone())
            .send()
            .await
            .expect("read");
        assert_eq!(res.status(), StatusCode::OK);
        let stored: usize = String::from_utf8_lossy(&res.body().await.expect("body"))
            .parse()
            .expect("a number");
        let acked = acknowledged[w].load(Ordering::SeqCst);
        let tried = attempted[w].load(Ordering::SeqCst);
        eprintln!("writer {w}: {acked} acknowledged, {tried} attempted, {stored} stored");
        assert!(
            stored >= acked,
            "writer {w}: an acknowledged write was lost"
        );
        assert!(stored <= tried, "writer {w}: more writes than attempted");
    }
}

/// The conformance suite's owner scenarios over real HTTP, each on a table of its own (they
/// reuse owner names). The store keeps real time: the suite's clock moves the middleware's
/// view only, and its expiry scenario waits in real time.
#[actix_web::test]
async fn the_owner_suite_passes() {
    let server = PostgresServer::start();
    let url = server.url();
    let mut stores = Vec::new();
    for scenario in 0..OWNER_SCENARIOS {
        let store = PostgresSessionStore::builder(url.clone())
            .table(format!("owners_{scenario}"))
            .build()
            .await
            .expect("a store on a table of its own");
        stores.push(store);
    }
    let stores = std::sync::Mutex::new(stores);
    owner_test_suite(move |_clock| {
        stores
            .lock()
            .expect("the stores")
            .pop()
            .expect("a store for each scenario of the owner suite")
    })
    .await;
}

/// More than the owner suite has scenarios; a missing store fails the test loudly.
const OWNER_SCENARIOS: usize = 16;
