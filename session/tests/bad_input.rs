//! Hostile or broken cookies through the real middleware: each gives a fresh empty session,
//! never a panic, never a 500, never a client-chosen key.

#[path = "support/http_helpers.rs"]
mod http_helpers;
use http_helpers::cookie_of;

use actix_web::{
    App, HttpResponse,
    cookie::{Cookie, Key},
    dev::Service,
    http::header::{self, HeaderValue},
    test, web,
};
use session::{
    CookieContentSecurity, Session, SessionMiddleware,
    storage::{CookieSessionStore, MemorySessionStore, SessionStore},
};

async fn write(session: Session) -> HttpResponse {
    session.insert("user", "ferris").map_or_else(
        |_| HttpResponse::InternalServerError().finish(),
        |()| HttpResponse::Ok().finish(),
    )
}

async fn read(session: Session) -> HttpResponse {
    let user: Option<String> = session.get("user").ok().flatten();
    HttpResponse::Ok().body(user.unwrap_or_else(|| "anonymous".to_owned()))
}

async fn logout(session: Session) -> HttpResponse {
    session.purge();
    HttpResponse::Ok().finish()
}

/// Different broken variants of a valid cookie value.
fn broken_variants(value: &str) -> Vec<(&'static str, Vec<u8>)> {
    let mut tampered = value.as_bytes().to_vec();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    vec![
        ("tampered", tampered),
        ("truncated", value.as_bytes()[..value.len() - 5].to_vec()),
        ("empty", Vec::new()),
        ("garbage", b"not-a-session-cookie".to_vec()),
        ("oversize", vec![b'A'; 8 * 1024]),
        ("bad percent escape", format!("{value}%zz").into_bytes()),
        ("non-UTF-8", [value.as_bytes(), &[0xff, 0xfe]].concat()),
    ]
}

async fn check_store<S, F>(make_store: F, security: CookieContentSecurity)
where
    S: SessionStore + 'static,
    F: Fn() -> S,
{
    let key = Key::generate();
    let app = test::init_service(
        App::new()
            .wrap(
                SessionMiddleware::builder(make_store(), key.clone())
                    .cookie_content_security(security)
                    .build(),
            )
            .route("/write", web::post().to(write))
            .route("/read", web::get().to(read))
            .route("/logout", web::post().to(logout)),
    )
    .await;
    let send = |cookie_header: Vec<u8>, uri: &'static str, post: bool| {
        let builder = if post {
            test::TestRequest::post()
        } else {
            test::TestRequest::get()
        };
        let value =
            HeaderValue::from_bytes(&cookie_header).expect("opaque header bytes are allowed");
        builder
            .uri(uri)
            .insert_header((header::COOKIE, value))
            .to_request()
    };

    let res = app
        .call(test::TestRequest::post().uri("/write").to_request())
        .await
        .expect("write succeeds");
    let valid: Cookie<'static> = cookie_of(&res).expect("a cookie is set");
    let valid_pair = format!("id={}", valid.value());

    let res = app
        .call(send(valid_pair.clone().into_bytes(), "/read", false))
        .await
        .expect("ok");
    assert_eq!(
        test::read_body(res).await,
        "ferris",
        "the valid cookie works"
    );

    for (label, bad) in broken_variants(valid.value()) {
        let header = [b"id=".as_slice(), &bad].concat();
        let res = app
            .call(send(header.clone(), "/read", false))
            .await
            .unwrap_or_else(|err| panic!("{label}: the middleware failed: {err}"));
        assert_eq!(res.status().as_u16(), 200, "{label}: never a 500");
        assert_eq!(
            test::read_body(res).await,
            "anonymous",
            "{label}: a fresh session"
        );

        // Writing on top of a broken cookie issues a brand-new key, never the client's.
        let res = app
            .call(send(header.clone(), "/write", true))
            .await
            .expect("ok");
        let issued = cookie_of(&res).expect("new cookie");
        assert_ne!(
            issued.value().as_bytes(),
            bad.as_slice(),
            "{label}: no client-chosen key"
        );

        // Logging out with a broken cookie still removes it from the browser.
        let res = app.call(send(header, "/logout", true)).await.expect("ok");
        let removal = cookie_of(&res).expect("removal cookie");
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
            let res = app.call(send(header, "/read", false)).await.expect("ok");
            assert_eq!(
                test::read_body(res).await,
                "ferris",
                "{label}: the valid duplicate is used"
            );
        }
    }

    // A cookie sealed under another key is not accepted.
    let other_key = Key::generate();
    let foreign = test::init_service(
        App::new()
            .wrap(
                SessionMiddleware::builder(make_store(), other_key)
                    .cookie_content_security(security)
                    .build(),
            )
            .route("/write", web::post().to(write)),
    )
    .await;
    let res = foreign
        .call(test::TestRequest::post().uri("/write").to_request())
        .await
        .expect("ok");
    let foreign_cookie = cookie_of(&res).expect("cookie");
    let res = app
        .call(send(
            format!("id={}", foreign_cookie.value()).into_bytes(),
            "/read",
            false,
        ))
        .await
        .expect("ok");
    assert_eq!(
        test::read_body(res).await,
        "anonymous",
        "wrong key: a fresh session"
    );

    // Names are matched as sent: a percent-encoded name is another cookie.
    let res = app
        .call(send(
            format!("%69d={}", valid.value()).into_bytes(),
            "/read",
            false,
        ))
        .await
        .expect("ok");
    assert_eq!(
        test::read_body(res).await,
        "anonymous",
        "encoded names do not match"
    );
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
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(store.clone(), key.clone()))
            .route("/write", web::post().to(write))
            .route("/read", web::get().to(read)),
    )
    .await;
    let mut jar = actix_web::cookie::CookieJar::new();
    jar.private_mut(&key)
        .add(Cookie::new("id", "chosen-by-the-client"));
    let forged = jar.get("id").expect("cookie").clone();

    let res = app
        .call(
            test::TestRequest::post()
                .uri("/write")
                .cookie(forged)
                .to_request(),
        )
        .await
        .expect("ok");
    let issued = cookie_of(&res).expect("cookie");
    let issued_key =
        session::fuzzing::open_cookie_value(&key, "id", issued.value(), false).expect("decrypts");
    assert_ne!(issued_key, "chosen-by-the-client");
    assert_eq!(issued_key.len(), 64);
}
