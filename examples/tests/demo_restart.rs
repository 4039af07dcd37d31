//! The demo on SQLite (`SESSION_STORE=sqlite`, as the README shows) keeps its visitors
//! signed in across a restart: the same app and configuration, built twice on one file.
#![forbid(unsafe_code)]

use actix_web::{App, cookie::Cookie, http::StatusCode, test};
use base64::Engine as _;
use examples::demo;
use figment::providers::Serialized;
use session_config::SessionConfig;

/// The demo's configuration with the README's `SESSION_STORE=sqlite`, a database file and a
/// fixed key (a restart must open the cookies it sealed before).
fn config(path: &std::path::Path) -> SessionConfig {
    let key = base64::engine::general_purpose::STANDARD.encode([42_u8; 64]);
    let figment = demo::figment()
        .merge(Serialized::default("store", "sqlite"))
        .merge(Serialized::default(
            "sqlite.path",
            path.to_str().expect("a UTF-8 path"),
        ))
        .merge(Serialized::default("secret_key", key));
    SessionConfig::from_figment(&figment).expect("a valid configuration")
}

/// One run of the demo: builds the store from `config`, sends `request`s, and shuts down
/// (the app, its middleware and its store are dropped) when the closure returns.
macro_rules! run_demo {
    ($config:expr, |$app:ident| $body:block) => {{
        let middleware = $config.build().await.expect("the demo's middleware");
        let $app = test::init_service(App::new().wrap(middleware).configure(demo::configure)).await;
        $body
    }};
}

async fn page_with(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    cookie: &Cookie<'static>,
) -> String {
    let req = test::TestRequest::get()
        .uri("/")
        .cookie(cookie.clone())
        .to_request();
    let body = test::call_and_read_body(app, req).await;
    String::from_utf8_lossy(&body).into_owned()
}

#[actix_web::test]
async fn a_signed_in_visitor_is_still_signed_in_after_a_restart() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("demo-sessions.db");
    let config = config(&path);

    let cookie = run_demo!(config, |app| {
        let req = test::TestRequest::post()
            .uri("/login")
            .set_form([("name", "Ada Lovelace")])
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let cookie = res
            .response()
            .cookies()
            .find(|cookie| cookie.name() == "id")
            .expect("signing in sets the session cookie")
            .into_owned();
        let page = page_with(&app, &cookie).await;
        assert!(page.contains("Ada Lovelace"), "signed in: {page}");
        cookie
    });
    assert!(path.exists(), "the sessions live in the file");

    run_demo!(config, |app| {
        let page = page_with(&app, &cookie).await;
        assert!(
            page.contains("Ada Lovelace"),
            "still signed in after the restart: {page}"
        );
    });
}
