//! `store = "postgres"` and `store = "sqlite"`: from `SESSION_*` variables to a working
//! store, and every mistake (a missing database, a bad URL, an unreachable server, a bad
//! table name) reported against its key, without a password.
#![cfg(all(feature = "postgres", feature = "sqlite"))]
// `figment::Jail` closures return `figment::Result`, whose error is large; fine in tests.
#![allow(clippy::result_large_err)]

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::{App, HttpResponse, test as web_test, web};
use base64::Engine as _;
use figment::Jail;
use session::Session;
use session_config::{ConfigError, SessionConfig, StoreKind};

/// The configuration `SESSION_*` variables `vars` make (with a fixed key).
fn from_env(vars: &[(&str, &str)]) -> SessionConfig {
    let mut config = None;
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env(
            "SESSION_SECRET_KEY",
            base64::engine::general_purpose::STANDARD.encode([7_u8; 64]),
        );
        for (name, value) in vars {
            jail.set_env(name, value);
        }
        config = Some(SessionConfig::load().map_err(|e| e.to_string())?);
        Ok(())
    });
    config.expect("loaded")
}

/// The error loading `vars` gives.
fn load_error(vars: &[(&str, &str)]) -> ConfigError {
    let mut error = None;
    Jail::expect_with(|jail| {
        jail.clear_env();
        for (name, value) in vars {
            jail.set_env(name, value);
        }
        error = SessionConfig::load().err();
        Ok(())
    });
    error.expect("the configuration is refused")
}

fn temp_db() -> std::path::PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "session-config-sqlite-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir.join("sessions.db")
}

async fn set(session: Session) -> actix_web::Result<HttpResponse> {
    session.insert("user", "alice")?;
    Ok(HttpResponse::Ok().finish())
}

async fn get(session: Session) -> actix_web::Result<HttpResponse> {
    Ok(HttpResponse::Ok().body(session.get::<String>("user")?.unwrap_or_default()))
}

#[actix_web::test]
async fn sqlite_from_the_environment_keeps_sessions_in_its_file() {
    let path = temp_db();
    let config = from_env(&[
        ("SESSION_STORE", "sqlite"),
        ("SESSION_SQLITE__PATH", path.to_str().expect("UTF-8")),
        ("SESSION_SQLITE__TABLE", "web_sessions"),
        ("SESSION_SQLITE__SWEEP_INTERVAL", "off"),
        ("SESSION_COOKIE__SECURE", "false"),
    ]);
    assert_eq!(config.store, StoreKind::Sqlite);
    let middleware = config.build().await.expect("a SQLite store");
    let app = web_test::init_service(
        App::new()
            .wrap(middleware)
            .route("/set", web::post().to(set))
            .route("/get", web::get().to(get)),
    )
    .await;
    let res =
        web_test::call_service(&app, web_test::TestRequest::post().uri("/set").to_request()).await;
    let cookie = res
        .response()
        .cookies()
        .next()
        .expect("a session cookie")
        .into_owned();
    let body = web_test::call_and_read_body(
        &app,
        web_test::TestRequest::get()
            .uri("/get")
            .cookie(cookie)
            .to_request(),
    )
    .await;
    assert_eq!(body, "alice");
    let mut file = std::fs::read(&path).expect("the database file");
    file.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
    assert!(
        file.windows(12).any(|w| w == b"web_sessions"),
        "the table is in the file"
    );
    let _ = std::fs::remove_dir_all(path.parent().expect("a directory"));
}

#[test]
fn postgres_and_sqlite_need_a_database() {
    let error = load_error(&[("SESSION_STORE", "postgres")]);
    let text = error.to_string();
    assert_eq!(error.problems().len(), 1, "{text}");
    assert!(
        text.starts_with("store = \"postgres\" (environment variable SESSION_STORE): "),
        "{text}"
    );
    assert!(
        text.contains("postgres.url (SESSION_POSTGRES__URL)"),
        "{text}"
    );

    let error = load_error(&[("SESSION_STORE", "sqlite")]);
    assert!(
        error
            .to_string()
            .contains("sqlite.path (SESSION_SQLITE__PATH)"),
        "{error}"
    );
    let error = load_error(&[
        ("SESSION_STORE", "sqlite"),
        ("SESSION_SQLITE__PATH", "/tmp/a.db"),
        ("SESSION_SQLITE__URL", "sqlite:///tmp/b.db"),
    ]);
    let keys: Vec<&str> = error.problems().iter().map(|p| p.key()).collect();
    assert_eq!(keys, ["sqlite.url"], "{error}");
}

#[test]
fn malformed_values_name_their_key_and_hide_passwords() {
    let error = load_error(&[
        ("SESSION_STORE", "postgres"),
        ("SESSION_POSTGRES__URL", "mysql://app:hunter2@db/app"),
        ("SESSION_POSTGRES__POOL_SIZE", "0"),
        ("SESSION_POSTGRES__SWEEP_INTERVAL", "0s"),
        ("SESSION_SQLITE__URL", "file.db"),
    ]);
    let text = error.to_string();
    let mut keys: Vec<&str> = error.problems().iter().map(|p| p.key()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "postgres.pool_size",
            "postgres.sweep_interval",
            "postgres.url",
            "sqlite.url"
        ],
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("SESSION_POSTGRES__URL"), "{text}");
    assert!(text.contains("postgres://, postgresql://"), "{text}");
}

#[actix_web::test]
async fn an_unreachable_postgres_is_a_problem_about_its_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let url = format!("postgres://app:hunter2@127.0.0.1:{port}/app");
    let config = from_env(&[
        ("SESSION_STORE", "postgres"),
        ("SESSION_POSTGRES__URL", &url),
        ("SESSION_POSTGRES__CONNECT_TIMEOUT", "1s"),
    ]);
    let error = config.build().await.expect_err("nothing listens there");
    let text = error.to_string();
    let keys: Vec<&str> = error.problems().iter().map(|p| p.key()).collect();
    assert_eq!(keys, ["postgres.url"], "{text}");
    assert!(
        text.contains("could not set up the Postgres store"),
        "{text}"
    );
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[actix_web::test]
async fn bad_table_names_and_unopenable_files_are_problems_about_their_keys() {
    let config = from_env(&[
        ("SESSION_STORE", "sqlite"),
        ("SESSION_SQLITE__PATH", "/nonexistent-directory/sessions.db"),
    ]);
    let error = config.build().await.expect_err("no such directory");
    let keys: Vec<&str> = error.problems().iter().map(|p| p.key()).collect();
    assert_eq!(keys, ["sqlite.path"], "{error}");
    assert!(
        error
            .to_string()
            .contains("could not set up the SQLite store"),
        "{error}"
    );

    let path = temp_db();
    let config = from_env(&[
        ("SESSION_STORE", "sqlite"),
        ("SESSION_SQLITE__PATH", path.to_str().expect("UTF-8")),
        ("SESSION_SQLITE__TABLE", "web-sessions"),
    ]);
    let error = config.build().await.expect_err("not an identifier");
    let keys: Vec<&str> = error.problems().iter().map(|p| p.key()).collect();
    assert_eq!(keys, ["sqlite.table"], "{error}");
    assert!(error.to_string().contains("\"web-sessions\""), "{error}");
    let _ = std::fs::remove_dir_all(path.parent().expect("a directory"));
}
