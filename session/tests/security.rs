//! Promises of SECURITY.md that go beyond actix-session: key rotation, absolute and idle
//! timeouts on every store, cookies bound to their name, cookie-prefix rules, `Partitioned`.

mod support;

use actix_web::{
    cookie::{Cookie, Key, time::Duration},
    dev::Service as _,
    web,
};
use session::{
    SessionMiddleware,
    config::{
        BrowserSession, BuildError, Clock, CookieContentSecurity, CookieRule, PersistentSession,
        TtlExtensionPolicy,
    },
    storage::{CookieSessionStore, MemorySessionStore, SessionStore},
};
use support::{
    counter::counter_app as app,
    handlers::{purge, renew},
    hooked_store::HookedStore,
    http_helpers::{call, cookie_named, get, post, send},
    logs::logs_of,
    manual_clock,
};

#[actix_web::test]
async fn rotated_keys_accept_old_cookies_and_reissue_them_under_the_current_key() {
    for security in [
        CookieContentSecurity::Private,
        CookieContentSecurity::Signed,
    ] {
        let store = MemorySessionStore::new();
        let (old_key, new_key) = (Key::generate(), Key::generate());
        let before = app!(
            SessionMiddleware::builder(store.clone(), old_key.clone())
                .cookie_content_security(security)
                .build()
        );
        let (cookie, _) = call(&before, post("/write", None)).await;
        let old_cookie = cookie.expect("cookie");

        let after = app!(
            SessionMiddleware::builder(store.clone(), new_key.clone())
                .cookie_content_security(security)
                .fallback_keys([Key::generate(), old_key])
                .build()
        );
        // A read-only request: the session is accepted and the cookie re-issued at once.
        let (reissued, body) = call(&after, get("/read", Some(&old_cookie))).await;
        assert_eq!(body, "1", "{security:?}: accepted under the fallback key");
        let reissued = reissued.expect("re-issued under the current key");
        assert_ne!(reissued.value(), old_cookie.value());

        // The re-issued cookie works without any fallback key.
        let only_new = app!(
            SessionMiddleware::builder(store.clone(), new_key)
                .cookie_content_security(security)
                .build()
        );
        let (_, body) = call(&only_new, get("/read", Some(&reissued))).await;
        assert_eq!(
            body, "1",
            "{security:?}: the new cookie is under the current key"
        );
        let (_, body) = call(&only_new, get("/read", Some(&old_cookie))).await;
        assert_eq!(
            body, "0",
            "{security:?}: an unknown key gives a fresh session"
        );
    }
}

#[test]
fn fallback_keys_are_bounded() {
    let result = SessionMiddleware::builder(MemorySessionStore::new(), Key::generate())
        .fallback_keys((0..5).map(|_| Key::generate()))
        .try_build();
    assert_eq!(result.err(), Some(BuildError::TooManyFallbackKeys(5)));
}

#[test]
fn short_keys_are_an_error_not_a_panic() {
    assert!(
        Key::try_from(&[0_u8; 32][..]).is_err(),
        "Key::try_from refuses short keys"
    );
}

#[actix_web::test]
async fn signed_values_are_bound_to_the_cookie_name() {
    let key = Key::generate();
    let store = MemorySessionStore::new();
    let other = app!(
        SessionMiddleware::builder(store.clone(), key.clone())
            .cookie_name("other".into())
            .cookie_content_security(CookieContentSecurity::Signed)
            .build()
    );
    let res = send(&other, post("/write", None)).await;
    let foreign = cookie_named(&res, "other").expect("cookie");

    let app = app!(
        SessionMiddleware::builder(store, key)
            .cookie_content_security(CookieContentSecurity::Signed)
            .build()
    );
    let replayed = Cookie::new("id", foreign.value().to_owned());
    let (_, body) = call(&app, get("/read", Some(&replayed))).await;
    assert_eq!(body, "0", "a value signed for `other` does not open `id`");
}

async fn absolute_timeout_is_enforced<S: SessionStore + 'static>(store: S, clock: Clock) {
    let app = app!(
        SessionMiddleware::builder(store, Key::generate())
            .clock(clock.clone())
            .session_lifecycle(
                PersistentSession::default()
                    .session_ttl(Duration::minutes(30))
                    .session_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest)
                    .absolute_ttl(Duration::hours(2)),
            )
            .build()
    );
    let (cookie, body) = call(&app, post("/write", None)).await;
    assert_eq!(body, "1");
    let mut cookie = cookie.expect("cookie");
    assert_eq!(cookie.max_age(), Some(Duration::minutes(30)));

    // Active every 20 minutes: the idle timeout never fires.
    for step in 1..6 {
        clock.advance(Duration::minutes(20));
        let (next, body) = call(&app, post("/write", Some(&cookie))).await;
        assert_eq!(
            body,
            (step + 1).to_string(),
            "step {step}: the session lives on"
        );
        cookie = next.expect("cookie refreshed");
    }
    // 1h40m in: the cookie may not outlive the absolute limit.
    assert_eq!(
        cookie.max_age(),
        Some(Duration::minutes(20)),
        "Max-Age capped at the absolute limit"
    );

    // Active a second ago, but two hours old: a fresh session.
    clock.advance(Duration::minutes(19) + Duration::seconds(59));
    let (_, body) = call(&app, get("/read", Some(&cookie))).await;
    assert_eq!(body, "6", "just before the absolute limit");
    clock.advance(Duration::seconds(1));
    let (_, body) = call(&app, get("/read", Some(&cookie))).await;
    assert_eq!(body, "0", "past the absolute limit the session is gone");
}

#[actix_web::test]
async fn absolute_timeout_on_the_memory_store() {
    let clock = manual_clock();
    absolute_timeout_is_enforced(
        MemorySessionStore::builder().clock(clock.clone()).build(),
        clock,
    )
    .await;
}

#[actix_web::test]
async fn absolute_timeout_on_the_cookie_store() {
    let clock = manual_clock();
    absolute_timeout_is_enforced(CookieSessionStore::with_clock(clock.clone()), clock).await;
}

async fn idle_timeout_is_enforced<S: SessionStore + 'static>(store: S, clock: Clock) {
    let app = app!(
        SessionMiddleware::builder(store, Key::generate())
            .clock(clock.clone())
            .session_lifecycle(BrowserSession::default().state_ttl(Duration::minutes(30)))
            .build()
    );
    let (cookie, _) = call(&app, post("/write", None)).await;
    let cookie = cookie.expect("cookie");
    clock.advance(Duration::minutes(29));
    let (_, body) = call(&app, get("/read", Some(&cookie))).await;
    assert_eq!(body, "1");
    clock.advance(Duration::minutes(1));
    let (_, body) = call(&app, get("/read", Some(&cookie))).await;
    assert_eq!(
        body, "0",
        "idle for the whole TTL: the session is gone, whatever the browser kept"
    );
}

#[actix_web::test]
async fn idle_timeout_on_the_memory_store() {
    let clock = manual_clock();
    idle_timeout_is_enforced(
        MemorySessionStore::builder().clock(clock.clone()).build(),
        clock,
    )
    .await;
}

#[actix_web::test]
async fn idle_timeout_on_the_cookie_store() {
    let clock = manual_clock();
    idle_timeout_is_enforced(CookieSessionStore::with_clock(clock.clone()), clock).await;
}

#[actix_web::test]
async fn renew_keeps_the_creation_time() {
    let clock = manual_clock();
    let store = MemorySessionStore::builder().clock(clock.clone()).build();
    let app = app!(
        SessionMiddleware::builder(store, Key::generate())
            .clock(clock.clone())
            .session_lifecycle(BrowserSession::default().absolute_ttl(Duration::hours(1)))
            .build(),
        "/renew" => web::post().to(renew),
    );
    let (cookie, _) = call(&app, post("/write", None)).await;
    clock.advance(Duration::minutes(50));
    let (renewed, _) = call(&app, post("/renew", Some(&cookie.expect("cookie")))).await;
    let renewed = renewed.expect("renew sets a cookie");
    clock.advance(Duration::minutes(10));
    let (_, body) = call(&app, get("/read", Some(&renewed))).await;
    assert_eq!(body, "0", "renewing does not extend the absolute lifetime");
}

#[test]
fn cookie_prefix_rules_are_checked_at_build_time() {
    let builder = || SessionMiddleware::builder(MemorySessionStore::new(), Key::generate());
    let err = |b: session::SessionMiddlewareBuilder<MemorySessionStore>| b.try_build().err();
    assert!(matches!(
        err(builder()
            .cookie_name("__Host-id".into())
            .cookie_domain(Some("example.com".into()))),
        Some(BuildError::Cookie(rules)) if matches!(rules.as_slice(), [CookieRule::HostPrefixWithDomain { .. }])
    ));
    assert!(matches!(
        err(builder()
            .cookie_name("__Host-id".into())
            .cookie_secure(false)),
        Some(BuildError::Cookie(rules)) if matches!(rules.as_slice(), [CookieRule::HostPrefixNotSecure { .. }])
    ));
    assert!(matches!(
        err(builder()
            .cookie_name("__Host-id".into())
            .cookie_path("/app".into())),
        Some(BuildError::Cookie(rules)) if matches!(rules.as_slice(), [CookieRule::HostPrefixPathNotRoot { .. }])
    ));
    assert!(matches!(
        err(builder()
            .cookie_name("__Secure-id".into())
            .cookie_secure(false)),
        Some(BuildError::Cookie(rules)) if matches!(rules.as_slice(), [CookieRule::SecurePrefixNotSecure { .. }])
    ));
    assert!(matches!(
        err(builder().cookie_partitioned(true).cookie_secure(false)),
        Some(BuildError::Cookie(rules)) if matches!(rules.as_slice(), [CookieRule::PartitionedNotSecure])
    ));
    assert!(matches!(
        err(builder().cookie_name("bad name;".into())),
        Some(BuildError::Cookie(rules)) if matches!(rules.as_slice(), [CookieRule::InvalidName { .. }])
    ));
    assert!(matches!(
        err(builder().cookie_name(String::new())),
        Some(BuildError::Cookie(rules)) if matches!(rules.as_slice(), [CookieRule::InvalidName { .. }])
    ));
    assert!(
        builder()
            .cookie_name("__Host-id".into())
            .try_build()
            .is_ok()
    );
    assert!(
        builder()
            .cookie_name("__Secure-id".into())
            .cookie_domain(Some("example.com".into()))
            .try_build()
            .is_ok()
    );
}

#[test]
#[should_panic(
    expected = "must not have a Domain: remove `cookie_domain(..)` or rename the cookie"
)]
fn build_panics_with_a_message_saying_what_to_change() {
    let _ = SessionMiddleware::builder(MemorySessionStore::new(), Key::generate())
        .cookie_name("__Host-id".into())
        .cookie_domain(Some("example.com".into()))
        .build();
}

#[actix_web::test]
async fn partitioned_cookies_carry_the_attribute() {
    let app = app!(
        SessionMiddleware::builder(MemorySessionStore::new(), Key::generate())
            .cookie_partitioned(true)
            .build(),
        "/logout" => web::post().to(purge),
    );
    let res = send(&app, post("/write", None)).await;
    let header = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("set-cookie")
        .to_owned();
    assert!(
        header.ends_with("; Partitioned") && header.contains("Secure"),
        "{header}"
    );
    let cookie = cookie_named(&res, "id").expect("cookie");
    let res = send(&app, post("/logout", Some(&cookie))).await;
    let removal = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("removal")
        .to_owned();
    assert!(
        removal.contains("Max-Age=0") && removal.ends_with("; Partitioned"),
        "{removal}"
    );
}

#[test]
fn raw_session_keys_never_reach_the_logs() {
    let key = Key::generate();
    let mut session_key = String::new();
    let mut cookie_value = String::new();
    let logs = logs_of(|| {
        actix_web::rt::System::new().block_on(async {
            let store = MemorySessionStore::new();
            let app = app!(SessionMiddleware::new(store.clone(), key.clone()));
            let res = send(&app, post("/write", None)).await;
            let cookie = cookie_named(&res, "id").expect("cookie");
            cookie_value = cookie.value().to_owned();
            session_key = session::fuzzing::open_cookie_value(&key, "id", cookie.value(), false)
                .expect("opens");
            // Log-worthy events: an unknown key after a delete, a tampered cookie, a renewal.
            store
                .delete(&session::storage::SessionKey::try_from(session_key.clone()).expect("key"))
                .await
                .expect("delete");
            let _ = app.call(get("/read", Some(&cookie))).await;
            let tampered = Cookie::new("id", format!("{}x", cookie.value()));
            let _ = app.call(get("/read", Some(&tampered))).await;
        });
    });
    assert!(
        logs.contains("starting a fresh session"),
        "the events were logged: {logs}"
    );
    assert_eq!(session_key.len(), 64);
    assert!(
        !logs.contains(&session_key),
        "a raw session key reached the logs"
    );
    assert!(
        !logs.contains(&cookie_value),
        "a cookie value reached the logs"
    );
}

#[actix_web::test]
async fn cookie_defaults_are_secure() {
    let app = app!(SessionMiddleware::new(
        MemorySessionStore::new(),
        Key::generate()
    ));
    let res = send(&app, post("/write", None)).await;
    let header = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("set-cookie")
        .to_owned();
    let cookie = cookie_named(&res, "id").expect("cookie named `id`");
    assert_eq!(cookie.secure(), Some(true), "{header}");
    assert_eq!(cookie.http_only(), Some(true), "{header}");
    assert_eq!(
        cookie.same_site(),
        Some(actix_web::cookie::SameSite::Lax),
        "{header}"
    );
    assert_eq!(cookie.path(), Some("/"), "{header}");
    assert_eq!(cookie.domain(), None, "{header}");
    assert_eq!(cookie.max_age(), None, "a browser-session cookie: {header}");
    assert_eq!(cookie.expires(), None, "a browser-session cookie: {header}");
    // Private (encrypted): the value is not the 64-character key in clear.
    assert_ne!(cookie.value().len(), 64);
    assert!(
        session::fuzzing::open_cookie_value(&Key::generate(), "id", cookie.value(), false)
            .is_none()
    );
}

#[actix_web::test]
async fn a_failure_while_renewing_never_loses_the_session() {
    let store = HookedStore::new(MemorySessionStore::new());
    let app = app!(
        SessionMiddleware::new(store.clone(), Key::generate()),
        "/renew" => web::post().to(renew),
    );
    let (cookie, _) = call(&app, post("/write", None)).await;
    let cookie = cookie.expect("cookie");
    for failing in [&store.hooks.fail_save, &store.hooks.fail_delete] {
        failing.set(true);
        let result = app.call(post("/renew", Some(&cookie))).await;
        let status = result.map_or_else(|err| err.error_response().status(), |res| res.status());
        assert_eq!(status.as_u16(), 500, "a failed renewal is an opaque 500");
        failing.set(false);
        let (_, body) = call(&app, get("/read", Some(&cookie))).await;
        assert_eq!(body, "1", "the session survived the failed renewal");
    }
}
