//! The middleware remembers cookie values that verified (`cookie_verified_cache`), so that a
//! repeated cookie skips the MAC check and the decryption. These tests pin that the memo never
//! changes an outcome: tampered values are still refused, expired cookie-store payloads still
//! expire, a logged-out server-side session stays logged out, a value under a fallback key is
//! still re-issued, and everything works the same with the memo off.

mod support;

use actix_web::{
    cookie::{Cookie, Key, time::Duration},
    web,
};
use session::{
    SessionMiddleware,
    config::{BrowserSession, CookieContentSecurity},
    storage::{CookieSessionStore, MemorySessionStore},
};
use support::{
    counter::counter_app,
    handlers::purge,
    http_helpers::{call, get, post},
    manual_clock,
};

const BOTH: [CookieContentSecurity; 2] = [
    CookieContentSecurity::Private,
    CookieContentSecurity::Signed,
];

macro_rules! app {
    ($middleware:expr) => {
        counter_app!($middleware, "/logout" => web::post().to(purge))
    };
}

/// `cookie` with one character of its value changed.
fn tampered(cookie: &Cookie<'static>, at: usize) -> Cookie<'static> {
    let mut value = cookie.value().as_bytes().to_vec();
    value[at] = if value[at] == b'A' { b'B' } else { b'A' };
    Cookie::new(
        cookie.name().to_owned(),
        String::from_utf8(value).expect("ASCII"),
    )
}

#[actix_web::test]
async fn a_remembered_value_does_not_let_a_tampered_one_in() {
    for security in BOTH {
        for capacity in [0, 1, 1024] {
            let app = app!(
                SessionMiddleware::builder(CookieSessionStore::default(), Key::generate())
                    .cookie_content_security(security)
                    .cookie_verified_cache(capacity)
                    .build()
            );
            let (cookie, _) = call(&app, post("/write", None)).await;
            let cookie = cookie.expect("cookie");
            for _ in 0..2 {
                let (_, body) = call(&app, get("/read", Some(&cookie))).await;
                assert_eq!(body, "1", "{security:?}, capacity {capacity}");
            }
            let len = cookie.value().len();
            for at in [0, len / 2, len - 1] {
                let (_, body) = call(&app, get("/read", Some(&tampered(&cookie, at)))).await;
                assert_eq!(body, "0", "{security:?}, capacity {capacity}, byte {at}");
            }
            // Each write's new cookie works at once, and the first cookie still does.
            let (second, body) = call(&app, post("/write", Some(&cookie))).await;
            assert_eq!(body, "2");
            let (_, body) = call(&app, get("/read", Some(&second.expect("cookie")))).await;
            assert_eq!(body, "2", "{security:?}, capacity {capacity}");
            let (_, body) = call(&app, get("/read", Some(&cookie))).await;
            assert_eq!(body, "1", "{security:?}, capacity {capacity}");
        }
    }
}

#[actix_web::test]
async fn a_remembered_cookie_store_payload_still_expires() {
    let clock = manual_clock();
    let app = app!(
        SessionMiddleware::builder(
            CookieSessionStore::with_clock(clock.clone()),
            Key::generate()
        )
        .clock(clock.clone())
        .session_lifecycle(BrowserSession::default().state_ttl(Duration::minutes(10)))
        .build()
    );
    let (cookie, _) = call(&app, post("/write", None)).await;
    let cookie = cookie.expect("cookie");
    clock.advance(Duration::minutes(9));
    let (_, body) = call(&app, get("/read", Some(&cookie))).await;
    assert_eq!(body, "1", "remembered and still valid");
    clock.advance(Duration::minutes(2));
    let (_, body) = call(&app, get("/read", Some(&cookie))).await;
    assert_eq!(body, "0", "remembered, but expired: a fresh session");
}

#[actix_web::test]
async fn a_remembered_cookie_of_a_purged_server_side_session_stays_logged_out() {
    let app = app!(SessionMiddleware::new(
        MemorySessionStore::new(),
        Key::generate()
    ));
    let (cookie, _) = call(&app, post("/write", None)).await;
    let cookie = cookie.expect("cookie");
    let (_, body) = call(&app, get("/read", Some(&cookie))).await;
    assert_eq!(body, "1");
    let logout = post("/logout", Some(&cookie));
    call(&app, logout).await;
    let (_, body) = call(&app, get("/read", Some(&cookie))).await;
    assert_eq!(
        body, "0",
        "the store, not the memo, decides whether a session exists"
    );
}

#[actix_web::test]
async fn a_remembered_value_under_a_fallback_key_is_reissued_every_time() {
    for security in BOTH {
        let (old_key, new_key) = (Key::generate(), Key::generate());
        let store = MemorySessionStore::new();
        let before = app!(
            SessionMiddleware::builder(store.clone(), old_key.clone())
                .cookie_content_security(security)
                .build()
        );
        let (old_cookie, _) = call(&before, post("/write", None)).await;
        let old_cookie = old_cookie.expect("cookie");

        let rotated = app!(
            SessionMiddleware::builder(store, new_key)
                .cookie_content_security(security)
                .fallback_keys([old_key])
                .build()
        );
        for round in 0..2 {
            let (reissued, body) = call(&rotated, get("/read", Some(&old_cookie))).await;
            assert_eq!(body, "1", "{security:?}, round {round}");
            let reissued = reissued.expect("re-issued under the current key");
            assert_ne!(reissued.value(), old_cookie.value());
        }
    }
}

#[actix_web::test]
async fn a_value_remembered_by_one_middleware_means_nothing_to_another() {
    let store = MemorySessionStore::new();
    let first = app!(SessionMiddleware::new(store.clone(), Key::generate()));
    let second = app!(SessionMiddleware::new(store, Key::generate()));
    let (cookie, _) = call(&first, post("/write", None)).await;
    let cookie = cookie.expect("cookie");
    let (_, body) = call(&first, get("/read", Some(&cookie))).await;
    assert_eq!(body, "1");
    let (_, body) = call(&second, get("/read", Some(&cookie))).await;
    assert_eq!(body, "0", "another key: the cookie does not verify");
}
