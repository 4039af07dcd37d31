//! Hostile or broken cookies through the real middleware: each gives a fresh empty session,
//! never a panic, never a 500, never a client-chosen key.

mod support;

use actix_http::Request;
use actix_web::{
    body::MessageBody,
    cookie::{Cookie, Key},
    dev::{Service, ServiceResponse},
    http::header::{self, HeaderValue},
    test,
};
use session::{
    CookieContentSecurity,
    config::SessionTransport,
    storage::{CookieSessionStore, MemorySessionStore, SessionStore},
};
use support::{
    http_helpers::{call, cookie_of, post, send},
    user_app::{broken_variants, user_app},
};

/// The user app with the session in the cookie.
async fn user_app_on_cookies<S: SessionStore + 'static>(
    store: S,
    key: Key,
    security: CookieContentSecurity,
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
    user_app(store, key, security, SessionTransport::Cookie).await
}

/// `uri` (a `POST` if `post`, else a `GET`) with `cookie_header` as its `Cookie` header, byte
/// for byte.
fn with_cookie_header(cookie_header: &[u8], uri: &str, post: bool) -> Request {
    let builder = if post {
        test::TestRequest::post()
    } else {
        test::TestRequest::get()
    };
    let value = HeaderValue::from_bytes(cookie_header).expect("opaque header bytes are allowed");
    builder
        .uri(uri)
        .insert_header((header::COOKIE, value))
        .to_request()
}

async fn check_store<S, F>(make_store: F, security: CookieContentSecurity)
where
    S: SessionStore + 'static,
    F: Fn() -> S,
{
    let app = user_app_on_cookies(make_store(), Key::generate(), security).await;

    let res = app
        .call(post("/write", None))
        .await
        .expect("write succeeds");
    let valid: Cookie<'static> = cookie_of(&res).expect("a cookie is set");
    let valid_pair = format!("id={}", valid.value());

    let (_, body) = call(
        &app,
        with_cookie_header(valid_pair.as_bytes(), "/read", false),
    )
    .await;
    assert_eq!(body, "ferris", "the valid cookie works");

    for (label, bad) in broken_variants(valid.value()) {
        let header = [b"id=".as_slice(), &bad].concat();
        let res = app
            .call(with_cookie_header(&header, "/read", false))
            .await
            .unwrap_or_else(|err| panic!("{label}: the middleware failed: {err}"));
        assert_eq!(res.status().as_u16(), 200, "{label}: never a 500");
        assert_eq!(
            test::read_body(res).await,
            "anonymous",
            "{label}: a fresh session"
        );

        // Writing on top of a broken cookie issues a brand-new key, never the client's.
        let (issued, _) = call(&app, with_cookie_header(&header, "/write", true)).await;
        let issued = issued.expect("new cookie");
        assert_ne!(
            issued.value().as_bytes(),
            bad.as_slice(),
            "{label}: no client-chosen key"
        );

        // Logging out with a broken cookie still removes it from the browser.
        let (removal, _) = call(&app, with_cookie_header(&header, "/logout", true)).await;
        let removal = removal.expect("removal cookie");
        assert_eq!(
            removal.max_age(),
            Some(actix_web::cookie::time::Duration::ZERO),
            "{label}"
        );

        // Several cookies with the session's name: the valid one wins, whatever the order.
        for header in [
            [
                format!("id={}; ", String::from_utf8_lossy(&bad)).as_bytes(),
                valid_pair.as_bytes(),
            ]
            .concat(),
            [
                valid_pair.as_bytes(),
                format!("; id={}", String::from_utf8_lossy(&bad)).as_bytes(),
            ]
            .concat(),
        ] {
            let (_, body) = call(&app, with_cookie_header(&header, "/read", false)).await;
            assert_eq!(body, "ferris", "{label}: the valid duplicate is used");
        }
    }

    // A cookie sealed under another key is not accepted.
    let foreign = user_app_on_cookies(make_store(), Key::generate(), security).await;
    let (foreign_cookie, _) = call(&foreign, post("/write", None)).await;
    let foreign_pair = format!("id={}", foreign_cookie.expect("cookie").value());
    let (_, body) = call(
        &app,
        with_cookie_header(foreign_pair.as_bytes(), "/read", false),
    )
    .await;
    assert_eq!(body, "anonymous", "wrong key: a fresh session");

    // Names are matched as sent: a percent-encoded name is another cookie.
    let encoded_pair = format!("%69d={}", valid.value());
    let (_, body) = call(
        &app,
        with_cookie_header(encoded_pair.as_bytes(), "/read", false),
    )
    .await;
    assert_eq!(body, "anonymous", "encoded names do not match");
}

#[actix_web::test]
async fn broken_cookies_give_a_fresh_session_on_the_memory_store() {
    let store = MemorySessionStore::new();
    for security in [
        CookieContentSecurity::Private,
        CookieContentSecurity::Signed,
    ] {
        check_store(|| store.clone(), security).await;
    }
}

#[actix_web::test]
async fn broken_cookies_give_a_fresh_session_on_the_cookie_store() {
    for security in [
        CookieContentSecurity::Private,
        CookieContentSecurity::Signed,
    ] {
        check_store(CookieSessionStore::default, security).await;
    }
}

#[actix_web::test]
async fn a_valid_key_the_store_does_not_know_is_not_adopted() {
    // Seal a random key under the server's own key: it verifies, but the store never issued it.
    let key = Key::generate();
    let store = MemorySessionStore::new();
    let app = user_app_on_cookies(store.clone(), key.clone(), CookieContentSecurity::Private).await;
    let mut jar = actix_web::cookie::CookieJar::new();
    jar.private_mut(&key)
        .add(Cookie::new("id", "chosen-by-the-client"));
    let forged = jar.get("id").expect("cookie").clone();

    let res = send(&app, post("/write", Some(&forged))).await;
    let issued = cookie_of(&res).expect("cookie");
    let issued_key =
        session::fuzzing::open_cookie_value(&key, "id", issued.value(), false).expect("decrypts");
    assert_ne!(issued_key, "chosen-by-the-client");
    assert_eq!(issued_key.len(), 64);
}
