//! Rotating the cookie key without signing everybody out.
//!
//! ```text
//! cargo run --example key_rotation
//! ```
//! 1. Make the new key the secret key and keep the old one as a *fallback key*.
//! 2. Cookies under a fallback key are still accepted, and re-issued under the new key in
//!    the same response; cookies under any other key give a fresh session.
//! 3. Once every session has seen a request or expired (the session TTL), drop the old key.
//!
//! In code: `SessionMiddleware::builder(store, new_key).fallback_keys([old_key])`. In
//! configuration: `secret_key` and `fallback_keys` (at most 4), for example
//! `SESSION_SECRET_KEY="$NEW" SESSION_FALLBACK_KEYS='["'"$OLD"'"]'`.
//! This example signs in under an old key, then shows the new set-up accepting that cookie,
//! and serves the new set-up on port 8086.
#![forbid(unsafe_code)]

use actix_web::{
    App, HttpResponse, HttpServer, Responder,
    cookie::Key,
    http::header::{COOKIE, SET_COOKIE},
    test, web,
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use figment::{
    Figment,
    providers::{Format as _, Toml},
};
use session::{Session, SessionMiddleware, storage::MemorySessionStore};
use session_config::SessionConfig;

async fn login(session: Session) -> actix_web::Result<impl Responder> {
    session.insert("user", "ada")?;
    Ok(HttpResponse::NoContent())
}

async fn whoami(session: Session) -> actix_web::Result<impl Responder> {
    Ok(match session.get::<String>("user")? {
        Some(user) => format!("signed in as {user}\n"),
        None => "not signed in\n".to_owned(),
    })
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(whoami))
        .route("/login", web::post().to(login));
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Stand-ins for the keys of your secret store (64 random bytes each).
    let (old_key, new_key) = (Key::generate(), Key::generate());
    let store = MemorySessionStore::new(); // both set-ups share the sessions

    // Before the rotation: the old key only (built in code).
    let before = test::init_service(
        App::new()
            .wrap(
                SessionMiddleware::builder(store.clone(), old_key.clone())
                    .cookie_secure(false) // plain HTTP on localhost only
                    .build(),
            )
            .configure(routes),
    )
    .await;
    let response = test::call_service(
        &before,
        test::TestRequest::post().uri("/login").to_request(),
    )
    .await;
    let old_cookie = response
        .response()
        .cookies()
        .next()
        .ok_or("no session cookie")?
        .into_owned();

    // After the rotation, through configuration: the new key, the old one as a fallback.
    let toml = format!(
        "secret_key = \"{}\"\nfallback_keys = [\"{}\"]\n[cookie]\nsecure = false\n",
        STANDARD.encode(new_key.master()),
        STANDARD.encode(old_key.master()),
    );
    let config = SessionConfig::from_figment(
        &Figment::from(SessionConfig::default()).merge(Toml::string(&toml)),
    )?;
    let middleware = config.build_with(store)?;
    let after = test::init_service(App::new().wrap(middleware.clone()).configure(routes)).await;
    let response = test::call_service(
        &after,
        test::TestRequest::get()
            .uri("/")
            .insert_header((COOKIE, format!("id={}", old_cookie.value())))
            .to_request(),
    )
    .await;
    let reissued = response.headers().contains_key(SET_COOKIE);
    let body = test::read_body(response).await;
    println!(
        "old cookie after the rotation: {} (re-issued under the new key: {reissued})",
        String::from_utf8_lossy(&body).trim(),
    );

    println!("key rotation example on http://127.0.0.1:8086");
    HttpServer::new(move || App::new().wrap(middleware.clone()).configure(routes))
        .bind(("127.0.0.1", 8086))?
        .run()
        .await?;
    Ok(())
}
