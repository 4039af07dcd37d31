//! `SqliteSessionStore` on temporary database files: the conformance suites, the shared SQL
//! scenarios, WAL mode, the sweeper, restarts, and the promise that no session key is
//! stored.
#![cfg(feature = "sqlite-session")]

mod support;

use std::{
    path::PathBuf,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration as StdDuration,
};

use actix_web::cookie::time::Duration;
use serde_json::json;
use session::{
    config::Clock,
    storage::{SessionStore, SqlStoreError, SqliteSessionStore},
    test_helpers::{acceptance_test_suite, concurrency_test_suite, owner_test_suite},
};
use sqlx::{Row as _, sqlite::SqlitePoolOptions};
use support::{manual_clock, sql_scenarios};

/// A database file in a temporary directory of its own, removed on drop.
struct TempDb {
    dir: PathBuf,
}

impl TempDb {
    fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "session-sqlite-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        Self { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.join("sessions.db")
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.path().display())
    }

    /// The bytes of the database and its WAL.
    fn bytes(&self) -> Vec<u8> {
        let mut bytes = std::fs::read(self.path()).expect("the database file");
        bytes.extend(std::fs::read(self.dir.join("sessions.db-wal")).unwrap_or_default());
        bytes
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn store(db: &TempDb) -> SqliteSessionStore {
    SqliteSessionStore::new(db.url()).await.expect("open")
}

async fn store_on(db: &TempDb, clock: &Clock) -> SqliteSessionStore {
    SqliteSessionStore::builder(db.url())
        .clock(clock.clone())
        .build()
        .await
        .expect("open")
}

async fn rows(store: &SqliteSessionStore) -> i64 {
    sqlx::query("SELECT count(*) FROM sessions")
        .fetch_one(store.pool())
        .await
        .expect("count")
        .get(0)
}

#[actix_web::test]
async fn the_acceptance_suite_passes() {
    let db = TempDb::new();
    let store = store(&db).await;
    acceptance_test_suite(move || store.clone(), true).await;
}

#[actix_web::test]
async fn the_concurrency_suite_passes() {
    let db = TempDb::new();
    let store = store(&db).await;
    concurrency_test_suite(move || store.clone()).await;
}

#[actix_web::test]
async fn partial_updates_write_only_the_changes() {
    let db = TempDb::new();
    sql_scenarios::partial_updates_write_only_the_changes(store(&db).await).await;
}

#[actix_web::test]
async fn writes_never_recreate_a_session() {
    let db = TempDb::new();
    let clock = manual_clock();
    sql_scenarios::writes_never_recreate_a_session(store_on(&db, &clock).await, &clock).await;
}

#[actix_web::test]
async fn refresh_extends_the_lifetime() {
    let db = TempDb::new();
    let clock = manual_clock();
    sql_scenarios::refresh_extends_the_lifetime(store_on(&db, &clock).await, &clock).await;
}

#[actix_web::test]
async fn the_owner_index_lists_and_revokes() {
    let db = TempDb::new();
    let clock = manual_clock();
    sql_scenarios::owner_index_lists_and_revokes(store_on(&db, &clock).await, &clock).await;
}

#[actix_web::test]
async fn the_database_is_created_in_wal_mode_and_sessions_survive_a_restart() {
    let db = TempDb::new();
    let key = {
        let store = SqliteSessionStore::builder(db.path().to_str().expect("UTF-8 path"))
            .build()
            .await
            .expect("open a plain path");
        store
            .save(
                sql_scenarios::state(json!({"user": "alice"})),
                &Duration::hours(1),
            )
            .await
            .expect("save")
    };
    // A connection that asks for nothing finds the mode the store set when it created the
    // file.
    let plain = SqlitePoolOptions::new()
        .connect(&db.url())
        .await
        .expect("open the file");
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&plain)
        .await
        .expect("journal mode")
        .get(0);
    assert_eq!(mode, "wal");
    let indexes: Vec<String> = sqlx::query(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions' \
         AND sql IS NOT NULL ORDER BY name",
    )
    .fetch_all(&plain)
    .await
    .expect("indexes")
    .iter()
    .map(|row| row.get(0))
    .collect();
    assert!(
        indexes.iter().any(|sql| sql.contains("(expires_at)")),
        "{indexes:?}"
    );
    assert!(
        indexes.iter().any(|sql| sql.contains("(owner, public_id)")),
        "{indexes:?}"
    );

    let reopened = store(&db).await;
    assert_eq!(
        reopened.load(&key).await.expect("load"),
        Some(sql_scenarios::state(json!({"user": "alice"})))
    );
}

#[actix_web::test]
async fn expired_rows_are_deleted_on_demand_and_by_the_sweeper() {
    let db = TempDb::new();
    let clock = manual_clock();
    let store = store_on(&db, &clock).await;
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

    let swept = SqliteSessionStore::builder(db.url())
        .clock(clock.clone())
        .sweep_interval(Some(StdDuration::from_millis(50)))
        .build()
        .await
        .expect("open");
    clock.advance(Duration::minutes(60));
    for _ in 0..100 {
        if rows(&swept).await == 0 {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!("the sweeper did not delete the expired row");
}

#[actix_web::test]
async fn the_sweeper_stops_with_the_store() {
    let db = TempDb::new();
    let wal = db.dir.join("sessions.db-wal");
    {
        let store = SqliteSessionStore::builder(db.url())
            .sweep_interval(Some(StdDuration::from_millis(20)))
            .build()
            .await
            .expect("open");
        store
            .save(sql_scenarios::state(json!({"n": 1})), &Duration::minutes(1))
            .await
            .expect("save");
        tokio::time::sleep(StdDuration::from_millis(100)).await;
        assert!(wal.exists(), "the WAL exists while connections are open");
    }
    // SQLite removes the WAL when the last connection closes: only once the sweeper let go
    // of the store and its pool.
    for _ in 0..100 {
        if !wal.exists() {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!("the store's connections stayed open after it was dropped");
}

#[actix_web::test]
async fn the_session_key_is_stored_nowhere() {
    let db = TempDb::new();
    let store = store(&db).await;
    let mut keys = Vec::new();
    for n in 0..5 {
        let key = store
            .save(
                sql_scenarios::state(json!({"marker": format!("value-{n}")})),
                &Duration::minutes(5),
            )
            .await
            .expect("save");
        keys.push(key);
    }
    let bytes = db.bytes();
    let holds = |needle: &[u8]| bytes.windows(needle.len()).any(|window| window == needle);
    assert!(holds(b"value-3"), "the file holds the data");
    for key in &keys {
        assert!(
            !holds(key.as_ref().as_bytes()),
            "a session key is in the file"
        );
    }
    let ids: Vec<String> = sqlx::query("SELECT id FROM sessions")
        .fetch_all(store.pool())
        .await
        .expect("ids")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(
        ids.iter().all(|id| id.len() == 66 && id.starts_with("1:")),
        "{ids:?}"
    );
}

#[actix_web::test]
async fn table_existing_pool_and_migrations_on_their_own() {
    let db = TempDb::new();
    let pool = SqlitePoolOptions::new()
        .connect(&format!("{}?mode=rwc", db.url()))
        .await
        .expect("the application's pool");
    let store = SqliteSessionStore::builder_with_pool(pool.clone())
        .table("web_sessions")
        .migrate(false)
        .build()
        .await
        .expect("build without migrating");
    assert!(
        store
            .save(sql_scenarios::state(json!({"a": 1})), &Duration::minutes(5))
            .await
            .is_err(),
        "no table yet"
    );
    store.migrate().await.expect("migrate");
    store.migrate().await.expect("migrating twice is a no-op");
    store
        .save(sql_scenarios::state(json!({"a": 1})), &Duration::minutes(5))
        .await
        .expect("save");
    let versions: Vec<i64> = sqlx::query("SELECT version FROM web_sessions_migrations")
        .fetch_all(&pool)
        .await
        .expect("versions")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, [1]);

    let bad = SqliteSessionStore::builder_with_pool(pool)
        .table("x\"; DROP TABLE y")
        .build()
        .await;
    assert!(matches!(
        bad,
        Err(SqlStoreError::InvalidName { what: "table", .. })
    ));
}

#[actix_web::test]
async fn bad_urls_and_unopenable_files_are_typed_errors() {
    let err = SqliteSessionStore::new("sqlite:///tmp/x.db?mode=bogus")
        .await
        .expect_err("not a valid URL");
    assert!(matches!(err, SqlStoreError::Url { .. }), "{err:?}");

    let err = SqliteSessionStore::new("/nonexistent-directory/for/sure/sessions.db")
        .await
        .expect_err("the directory does not exist");
    assert!(matches!(err, SqlStoreError::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent-directory"), "{err}");
}

/// The conformance suite's owner scenarios over real HTTP, each on a table of its own (they
/// reuse owner names). The store keeps real time: the suite's clock moves the middleware's
/// view only, and its expiry scenario waits in real time.
#[actix_web::test]
async fn the_owner_suite_passes() {
    let db = TempDb::new();
    let url = db.url();
    let mut stores = Vec::new();
    for scenario in 0..OWNER_SCENARIOS {
        let store = SqliteSessionStore::builder(url.clone())
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
