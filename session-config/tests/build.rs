//! Building the middleware from configuration and driving real requests through it.
// `figment::Jail` closures return `figment::Result`, whose error is large; fine in tests.
#![allow(clippy::result_large_err)]

use std::collections::BTreeSet;

use actix_web::{
    App, HttpResponse,
    cookie::{Cookie, SameSite, time::Duration as CookieDuration},
    dev::ServiceResponse,
    http::header,
    test as actix_test, web,
};
use base64::Engine as _;
use figment::Jail;
use session::{
    Session,
    storage::{MemorySessionStore, SessionChanges, SessionState, SessionStore},
};
use session_config::{AnyStore, SessionConfig, StoreKind};

fn key_b64(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 64])
}

async fn login(session: Session) -> HttpResponse {
    match session.insert("user", "alice") {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

async fn whoami(session: Session) -> HttpResponse {
    let user = session
        .get::<String>("user")
        .ok()
        .flatten()
        .unwrap_or_default();
    HttpResponse::Ok().body(user)
}

/// The session cookie set by `response`, decoded, and the raw `name=value` pair to send back.
fn session_cookie(response: &ServiceResponse, name: &str) -> Option<(Cookie<'static>, String)> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| {
            let cookie = Cookie::parse_encoded(value.to_owned()).ok()?;
            let pair = value.split(';').next()?.to_owned();
            (cookie.name() == name).then_some((cookie, pair))
        })
        .next()
}

fn drive(config: &SessionConfig, name: &str) -> Result<Cookie<'static>, String> {
    actix_rt::System::new().block_on(async {
        let middleware = config.build().await.map_err(|e| e.to_string())?;
        let app = actix_test::init_service(
            App::new()
                .wrap(middleware)
                .route("/login", web::post().to(login))
                .route("/whoami", web::get().to(whoami)),
        )
        .await;

        let response = actix_test::call_service(
            &app,
            actix_test::TestRequest::post().uri("/login").to_request(),
        )
        .await;
        if !response.status().is_success() {
            return Err(format!("login: {}", response.status()));
        }
        let (cookie, pair) = session_cookie(&response, name)
            .ok_or_else(|| format!("no `{name}` cookie in {:?}", response.headers()))?;

        let response = actix_test::call_service(
            &app,
            actix_test::TestRequest::get()
                .uri("/whoami")
                .insert_header((header::COOKIE, pair))
                .to_request(),
        )
        .await;
        let body = actix_test::read_body(response).await;
        if body != "alice" {
            return Err(format!("the session was not read back: {body:?}"));
        }
        Ok(cookie)
    })
}

fn load_in_jail(jail: &mut Jail, toml: &str) -> figment::Result<SessionConfig> {
    jail.clear_env();
    jail.create_file("session.toml", toml)?;
    SessionConfig::load().map_err(|e| e.to_string().into())
}

#[test]
fn cookie_store_signed_persistent() {
    Jail::expect_with(|jail| {
        let config = load_in_jail(
            jail,
            &format!(
                r#"
                store = "cookie"
                secret_key = "{}"
                [cookie]
                name = "__Host-sid"
                same_site = "strict"
                content_security = "signed"
                [lifecycle]
                kind = "persistent"
                ttl = "2h"
                "#,
                key_b64(1)
            ),
        )?;
        let cookie = drive(&config, "__Host-sid")?;
        assert_eq!(cookie.max_age(), Some(CookieDuration::hours(2)));
        assert_eq!(cookie.same_site(), Some(SameSite::Strict));
        assert_eq!(cookie.secure(), Some(true));
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.path(), Some("/"));
        // Signed: the cookie store's payload (the session key) is readable after the signature.
        let value = cookie.value();
        let payload = value
            .find('{')
            .map(|start| &value[start..])
            .ok_or_else(|| format!("no readable payload in {value:?}"))?;
        let payload: serde_json::Value =
            serde_json::from_str(payload).map_err(|e| e.to_string())?;
        assert_eq!(payload["d"]["user"], "alice");
        // The payload expires one state TTL after it was written, a moment ago.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let now = i64::try_from(now).map_err(|e| e.to_string())?;
        let ttl = payload["e"].as_i64().unwrap_or_default() - now;
        assert!(
            (7190..=7200).contains(&ttl),
            "the state TTL is the configured one, got {ttl}"
        );
        Ok(())
    });
}

#[test]
fn cookie_store_private_browser_session() {
    Jail::expect_with(|jail| {
        let config = load_in_jail(
            jail,
            &format!(
                "store = \"cookie\"\nsecret_key = \"{}\"\n[cookie]\nname = \"sid\"\n",
                key_b64(2)
            ),
        )?;
        let cookie = drive(&config, "sid")?;
        assert_eq!(cookie.max_age(), None, "a browser session cookie");
        assert!(
            !cookie.value().contains("alice"),
            "private content is encrypted"
        );
        Ok(())
    });
}

#[test]
fn memory_store_from_env() {
    Jail::expect_with(|jail| {
        let config = load_in_jail(jail, "[cookie]\nname = \"file-name\"\n")?;
        assert_eq!(config.store, StoreKind::Memory);
        jail.set_env("SESSION_SECRET_KEY", key_b64(3));
        jail.set_env("SESSION_COOKIE__NAME", "envsid");
        jail.set_env("SESSION_COOKIE__HTTP_ONLY", "false");
        jail.set_env("SESSION_COOKIE__PATH", "/");
        jail.set_env("SESSION_COOKIE__DOMAIN", "example.com");
        jail.set_env("SESSION_COOKIE__SAME_SITE", "none");
        jail.set_env("SESSION_LIFECYCLE__KIND", "persistent");
        jail.set_env("SESSION_LIFECYCLE__TTL", "90m");
        let config = SessionConfig::load().map_err(|e| e.to_string())?;
        let cookie = drive(&config, "envsid")?;
        assert_eq!(cookie.max_age(), Some(CookieDuration::minutes(90)));
        assert_eq!(cookie.http_only(), None);
        assert_eq!(cookie.domain(), Some("example.com"));
        assert_eq!(cookie.same_site(), Some(SameSite::None));
        assert!(!cookie.value().contains("alice"));
        Ok(())
    });
}

#[test]
fn build_with_a_custom_store() {
    let config = SessionConfig {
        secret_key: session_config::SecretKey::from_base64(&key_b64(4)).ok(),
        ..SessionConfig::default()
    };
    let store = MemorySessionStore::new();
    assert!(config.build_with(store).is_ok());
}

#[test]
fn a_missing_key_fails_unless_ephemeral_keys_are_allowed() {
    let config = SessionConfig {
        allow_ephemeral_key: false,
        ..SessionConfig::default()
    };
    let error = config
        .build_with(MemorySessionStore::new())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.starts_with("secret_key: "), "{error}");
    assert!(error.contains("`secret_key`"), "{error}");
    assert!(error.contains("SESSION_SECRET_KEY"), "{error}");
    let error = actix_rt::System::new()
        .block_on(config.build())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("SESSION_SECRET_KEY"), "{error}");

    let config = SessionConfig {
        allow_ephemeral_key: true,
        ..config
    };
    assert!(config.build_with(MemorySessionStore::new()).is_ok());
    assert!(actix_rt::System::new().block_on(config.build()).is_ok());
}

#[test]
fn absolute_ttl_reaches_the_runtime() {
    Jail::expect_with(|jail| {
        let toml = format!(
            "secret_key = \"{}\"\n[lifecycle]\nkind = \"persistent\"\nttl = \"1d\"\nabsolute_ttl = \"1h\"\n",
            key_b64(7)
        );
        let config = load_in_jail(jail, &toml)?;
        let cookie = drive(&config, "id")?;
        // The cookie may not outlive the absolute limit, even with a one-day TTL.
        assert_eq!(cookie.max_age(), Some(CookieDuration::hours(1)));
        Ok(())
    });
}

#[test]
fn fallback_keys_accept_old_cookies_and_reissue_them() {
    actix_rt::System::new().block_on(async {
        let store = MemorySessionStore::new();
        let old: SessionConfig = figment::Figment::from(SessionConfig::default())
            .merge(("secret_key", key_b64(1)))
            .extract()
            .expect("old config");
        let new: SessionConfig = figment::Figment::from(SessionConfig::default())
            .merge(("secret_key", key_b64(2)))
            .merge(("fallback_keys", vec![key_b64(1)]))
            .extract()
            .expect("new config");
        let app = |config: SessionConfig, store: MemorySessionStore| async move {
            actix_test::init_service(
                App::new()
                    .wrap(config.build_with(store).expect("builds"))
                    .route("/login", web::post().to(login))
                    .route("/whoami", web::get().to(whoami)),
            )
            .await
        };
        let before = app(old, store.clone()).await;
        let response = actix_test::call_service(
            &before,
            actix_test::TestRequest::post().uri("/login").to_request(),
        )
        .await;
        let (_, old_pair) = session_cookie(&response, "id").expect("cookie");

        let after = app(new, store).await;
        let response = actix_test::call_service(
            &after,
            actix_test::TestRequest::get()
                .uri("/whoami")
                .insert_header((header::COOKIE, old_pair.clone()))
                .to_request(),
        )
        .await;
        let (_, new_pair) = session_cookie(&response, "id").expect("re-issued under the new key");
        assert_ne!(new_pair, old_pair);
        assert_eq!(actix_test::read_body(response).await, "alice");
    });
}

#[test]
fn partitioned_and_lazy_loading_reach_the_runtime() {
    Jail::expect_with(|jail| {
        let toml = format!(
            "secret_key = \"{}\"\nlazy_loading = true\n[cookie]\npartitioned = true\n",
            key_b64(9)
        );
        let config = load_in_jail(jail, &toml)?;
        assert!(config.lazy_loading);
        actix_rt::System::new().block_on(async {
            let app = actix_test::init_service(
                App::new()
                    .wrap(config.build().await.expect("builds"))
                    .route("/login", web::post().to(login))
                    .route(
                        "/guard-view",
                        web::get().to(|req: actix_web::HttpRequest| async move {
                            use session::SessionExt as _;
                            req.get_session().is_loaded().to_string()
                        }),
                    ),
            )
            .await;
            let response = actix_test::call_service(
                &app,
                actix_test::TestRequest::post().uri("/login").to_request(),
            )
            .await;
            let header = response
                .headers()
                .get(header::SET_COOKIE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            assert!(header.ends_with("; Partitioned"), "{header}");
            let response = actix_test::call_service(
                &app,
                actix_test::TestRequest::get()
                    .uri("/guard-view")
                    .to_request(),
            )
            .await;
            assert_eq!(
                actix_test::read_body(response).await,
                "false",
                "loaded lazily"
            );
        });
        Ok(())
    });
}

#[cfg(not(feature = "redis"))]
#[test]
fn redis_without_the_feature_is_a_build_error() {
    let config = SessionConfig {
        store: StoreKind::Redis,
        allow_ephemeral_key: true,
        redis: session_config::RedisConfig {
            url: Some("redis://127.0.0.1:6379".to_owned()),
            ..Default::default()
        },
        ..SessionConfig::default()
    };
    let error = actix_rt::System::new()
        .block_on(config.build())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("`redis` feature"), "{error}");
}

#[test]
fn build_revalidates_a_config_built_in_code() {
    let config = SessionConfig {
        allow_ephemeral_key: true,
        cookie: session_config::CookieConfig {
            name: "__Host-x".to_owned(),
            domain: Some("example.com".to_owned()),
            ..Default::default()
        },
        ..SessionConfig::default()
    };
    let error = config
        .build_with(MemorySessionStore::new())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.starts_with("cookie.domain"), "{error}");
}

/// `AnyStore` must delegate `update_changes`, or the memory store's partial updates (which
/// keep concurrent requests' writes) are replaced by whole-state overwrites.
#[test]
fn any_store_keeps_partial_updates() {
    actix_rt::System::new().block_on(async {
        let store = AnyStore::from(MemorySessionStore::new());
        let ttl = CookieDuration::hours(1);
        let key = store.save(SessionState::new(), &ttl).await.expect("save");
        // Two requests loaded the empty state; each sets a different key.
        for (name, value) in [("a", 1), ("b", 2)] {
            let mut state = SessionState::new();
            state.insert(name.to_owned(), value.into());
            let touched = BTreeSet::from([name.to_owned()]);
            let changes = SessionChanges::new(state, touched, false);
            let new_key = store
                .update_changes(key.clone(), changes, &ttl)
                .await
                .expect("update");
            assert_eq!(new_key.as_ref(), key.as_ref());
        }
        let state = store.load(&key).await.expect("load").expect("exists");
        assert_eq!(state.get("a"), Some(&1.into()));
        assert_eq!(
            state.get("b"),
            Some(&2.into()),
            "the second update kept the first"
        );

        let refreshed = store
            .refresh(key.clone(), &state, &ttl)
            .await
            .expect("refresh");
        assert_eq!(refreshed.as_ref(), key.as_ref());
        store.delete(&key).await.expect("delete");
        assert_eq!(store.load(&key).await.expect("load"), None);
        assert!(format!("{store:?}").contains("Memory"));
    });
}

/// Captures what `f` logs.
fn logs_of(f: impl FnOnce()) -> String {
    use std::{
        io,
        sync::{Arc, Mutex},
    };

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            if let Ok(mut buffer) = self.0.lock() {
                buffer.extend_from_slice(bytes);
            }
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = buffer.0.lock().map(|b| b.clone()).unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn an_ephemeral_key_is_logged_as_a_warning() {
    let config = SessionConfig {
        allow_ephemeral_key: true,
        ..SessionConfig::default()
    };
    let logs = logs_of(|| {
        assert!(config.build_with(MemorySessionStore::new()).is_ok());
    });
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("no secret key configured"), "{logs}");
}

#[test]
fn keys_never_reach_the_logs() {
    let (current, fallback) = (key_b64(5), key_b64(6));
    let config = SessionConfig {
        secret_key: session_config::SecretKey::from_base64(&current).ok(),
        fallback_keys: session_config::SecretKey::from_base64(&fallback)
            .into_iter()
            .collect(),
        ..SessionConfig::default()
    };
    let logs = logs_of(|| {
        assert!(config.build_with(MemorySessionStore::new()).is_ok());
        tracing::info!(?config, "loaded");
    });
    assert!(
        logs.contains("fallback_keys"),
        "the Debug output names the field: {logs}"
    );
    assert!(logs.contains("<redacted>"), "{logs}");
    assert!(
        !logs.contains(&current[..16]) && !logs.contains(&fallback[..16]),
        "{logs}"
    );
}

/// The default configuration produces exactly the cookie the runtime's own defaults produce.
#[test]
fn default_config_behaves_like_the_runtime_defaults() {
    let secret = key_b64(7);
    let config = SessionConfig {
        secret_key: session_config::SecretKey::from_base64(&secret).ok(),
        ..SessionConfig::default()
    };
    let key = actix_web::cookie::Key::from(&[7u8; 64]);
    let attributes = |cookie: &Cookie<'_>| {
        (
            cookie.name().to_owned(),
            cookie.secure(),
            cookie.http_only(),
            cookie.same_site(),
            cookie.path().map(str::to_owned),
            cookie.domain().map(str::to_owned),
            cookie.max_age(),
            cookie.value().contains("alice"),
        )
    };
    actix_rt::System::new().block_on(async {
        let configured = config.build().await.expect("builds");
        let runtime = session::SessionMiddleware::new(MemorySessionStore::new(), key);
        let mut seen = Vec::new();
        macro_rules! login_cookie {
            ($middleware:expr) => {{
                let app = actix_test::init_service(
                    App::new()
                        .wrap($middleware)
                        .route("/login", web::post().to(login)),
                )
                .await;
                let response = actix_test::call_service(
                    &app,
                    actix_test::TestRequest::post().uri("/login").to_request(),
                )
                .await;
                let (cookie, _) = session_cookie(&response, "id").expect("a session cookie");
                seen.push(attributes(&cookie));
            }};
        }
        login_cookie!(configured);
        login_cookie!(runtime);
        assert_eq!(seen[0], seen[1]);
    });
}

#[test]
fn the_transport_reaches_the_runtime() {
    Jail::expect_with(|jail| {
        let toml = format!(
            "secret_key = \"{}\"\n[transport]\nkind = \"header\"\nheader = \"x-session\"\nresponse_header = \"x-new-session\"\n",
            key_b64(7)
        );
        let config = load_in_jail(jail, &toml)?;
        actix_rt::System::new().block_on(async {
            let app = actix_test::init_service(
                App::new()
                    .wrap(config.build().await.expect("builds"))
                    .route("/login", web::post().to(login))
                    .route("/whoami", web::get().to(whoami)),
            )
            .await;
            let response = actix_test::call_service(
                &app,
                actix_test::TestRequest::post().uri("/login").to_request(),
            )
            .await;
            assert!(
                !response.headers().contains_key(header::SET_COOKIE),
                "no cookie"
            );
            let token = response
                .headers()
                .get("x-new-session")
                .expect("the token in the configured response header")
                .to_str()
                .expect("text")
                .to_owned();
            let response = actix_test::call_service(
                &app,
                actix_test::TestRequest::get()
                    .uri("/whoami")
                    .insert_header(("x-session", token))
                    .to_request(),
            )
            .await;
            let body = actix_test::read_body(response).await;
            assert_eq!(body, "alice", "the configured header is read");
        });
        Ok(())
    });
}

/// `[devices]` reaches the runtime: a bound session records the user agent.
#[test]
fn devices_settings_reach_the_runtime() {
    Jail::expect_with(|jail| {
        let toml = format!(
            "secret_key = \"{}\"\n[devices]\nrecord_user_agent = true\nclient_ip = \"peer\"\n",
            key_b64(5)
        );
        let config = load_in_jail(jail, &toml)?;
        actix_rt::System::new().block_on(async {
            let app = actix_test::init_service(
                App::new()
                    .wrap(
                        config
                            .build_with(MemorySessionStore::new())
                            .expect("builds"),
                    )
                    .route(
                        "/bind",
                        web::post().to(|session: Session| async move {
                            session.set_owner("alice");
                            HttpResponse::Ok().finish()
                        }),
                    )
                    .route(
                        "/agent",
                        web::get().to(|session: Session| async move {
                            let listed = session.owner_sessions().await.unwrap_or_default();
                            let agent = listed.first().and_then(|info| info.user_agent.clone());
                            HttpResponse::Ok().body(agent.unwrap_or_default())
                        }),
                    ),
            )
            .await;
            let response = actix_test::call_service(
                &app,
                actix_test::TestRequest::post()
                    .uri("/bind")
                    .insert_header((header::USER_AGENT, "config-test/2"))
                    .to_request(),
            )
            .await;
            let (_, pair) = session_cookie(&response, "id").expect("cookie");
            let response = actix_test::call_service(
                &app,
                actix_test::TestRequest::get()
                    .uri("/agent")
                    .insert_header((header::COOKIE, pair))
                    .to_request(),
            )
            .await;
            assert_eq!(actix_test::read_body(response).await, "config-test/2");
        });
        Ok(())
    });
}
