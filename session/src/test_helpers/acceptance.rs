//! The session lifecycle through the real middleware, one function per promise.
//!
//! [`acceptance_test_suite`](super::acceptance_test_suite) runs every function here, once with
//! `Signed` and once with `Private` cookies. Each also runs on its own, to chase one failure:
//!
//! ```no_run
//! use session::{
//!     config::CookieContentSecurity, storage::MemorySessionStore, test_helpers::acceptance,
//! };
//!
//! #[actix_web::test]
//! async fn my_store_keeps_the_state_across_a_renewal() {
//!     let store = MemorySessionStore::new();
//!     let security = CookieContentSecurity::Private;
//!     acceptance::renew_keeps_the_state_under_a_new_key(store, true, security).await;
//! }
//! ```
//!
//! Each function takes a fresh store (or, over real HTTP, a builder of stores that share one
//! backend) and the [`CookieContentSecurity`] to seal cookies with. Those that take
//! `is_invalidation_supported` check that a replaced or purged key is dead only when it is
//! `true` (server-side stores); the cookie store passes `false`, since a copied cookie stays
//! valid until it expires.
//!
//! Every function panics, saying which promise broke, when the store does not keep it.

use actix_web::{
    App,
    cookie::{Cookie, SameSite, time::Duration},
    guard, web,
};

use super::{
    app::{
        OrFail as _, Snapshot, TestApp, body_of, client_cookie, counter_app, init_app,
        insert_counter, login, logout, read_counter, session_cookie, set_cookie_count, show,
        snapshot_of,
    },
    key,
};
use crate::{
    SessionExt as _, SessionMiddleware,
    config::{BrowserSession, CookieContentSecurity, PersistentSession, TtlExtensionPolicy},
    storage::SessionStore,
};

/// A new session sets exactly one cookie, with the configured name, `Path`, `Domain` and
/// `Max-Age` and the secure defaults (`Secure`, `HttpOnly`, `SameSite=Lax`); a `Private`
/// cookie does not show the state; the cookie opens the session on the next request.
pub async fn a_new_session_sets_one_cookie_with_the_configured_attributes<Store>(
    store: Store,
    security: CookieContentSecurity,
) where
    Store: SessionStore + 'static,
{
    let app = init_app(
        App::new()
            .wrap(
                SessionMiddleware::builder(store, key())
                    .cookie_name("test-session".into())
                    .cookie_path("/test/".into())
                    .cookie_domain(Some("localhost".into()))
                    .cookie_content_security(security)
                    .session_lifecycle(
                        PersistentSession::default().session_ttl(Duration::seconds(100)),
                    )
                    .build(),
            )
            .route("/test/write", web::post().to(insert_counter))
            .route("/test/read", web::get().to(read_counter)),
    )
    .await;

    let res = app.post("/test/write", None).await;
    assert_eq!(
        set_cookie_count(&res),
        1,
        "exactly one Set-Cookie for a new session"
    );
    let cookie = session_cookie(&res, "test-session").expect("a new session sets its cookie");
    assert_eq!(cookie.path(), Some("/test/"));
    assert_eq!(cookie.domain(), Some("localhost"));
    assert_eq!(cookie.max_age(), Some(Duration::seconds(100)));
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(SameSite::Lax));
    if security == CookieContentSecurity::Private {
        assert!(
            !cookie.value().contains("counter"),
            "private cookies are encrypted"
        );
    }

    let res = app.get("/test/read", Some(&cookie)).await;
    assert_eq!(body_of(res).await, "1");
}

/// A session that stays empty sends no cookie; reading an unchanged session sends no cookie;
/// a change re-sends the cookie and is saved.
pub async fn reading_sends_no_cookie<Store>(store: Store, security: CookieContentSecurity)
where
    Store: SessionStore + 'static,
{
    let app = counter_app(
        SessionMiddleware::builder(store, key())
            .cookie_content_security(security)
            .build(),
    )
    .await;

    // An empty session that is only read stores nothing and sends no cookie.
    let res = app.get("/read", None).await;
    assert_eq!(
        set_cookie_count(&res),
        0,
        "no cookie for a session that stays empty"
    );
    assert_eq!(body_of(res).await, "none");

    let res = app.post("/write", None).await;
    let cookie = session_cookie(&res, "id").expect("cookie set on first write");
    assert_eq!(cookie.max_age(), None);

    let res = app.get("/read", Some(&cookie)).await;
    assert_eq!(
        set_cookie_count(&res),
        0,
        "reading an unchanged session sends no cookie"
    );
    assert_eq!(body_of(res).await, "1");

    let res = app.post("/write", Some(&cookie)).await;
    let changed = session_cookie(&res, "id").expect("a change re-sends the cookie");
    let res = app.get("/read", Some(&changed)).await;
    assert_eq!(body_of(res).await, "2", "the change was saved");
}

/// With [`BrowserSession`], the cookie has neither `Max-Age` nor `Expires`: the browser drops
/// it when it closes.
pub async fn browser_session_cookie_has_no_max_age<Store>(
    store: Store,
    security: CookieContentSecurity,
) where
    Store: SessionStore + 'static,
{
    let app = counter_app(
        SessionMiddleware::builder(store, key())
            .cookie_content_security(security)
            .session_lifecycle(BrowserSession::default().state_ttl(Duration::hours(2)))
            .build(),
    )
    .await;
    let res = app.post("/write", None).await;
    let cookie = session_cookie(&res, "id").expect("cookie set");
    assert_eq!(
        cookie.max_age(),
        None,
        "browser-session cookies have no Max-Age"
    );
    assert_eq!(
        cookie.expires(),
        None,
        "browser-session cookies have no Expires"
    );
}

/// With [`TtlExtensionPolicy::OnStateChanges`] (the default), a request that leaves the
/// session alone refreshes nothing, and a change re-sends the cookie with the full TTL.
pub async fn ttl_is_extended_on_changes_only<Store>(store: Store, security: CookieContentSecurity)
where
    Store: SessionStore + 'static,
{
    let ttl = Duration::seconds(60);
    let app = counter_app(
        SessionMiddleware::builder(store, key())
            .cookie_content_security(security)
            .session_lifecycle(PersistentSession::default().session_ttl(ttl))
            .build(),
    )
    .await;
    let res = app.post("/write", None).await;
    let cookie = session_cookie(&res, "id").expect("cookie set");
    assert_eq!(cookie.max_age(), Some(ttl));

    let res = app.get("/untouched", Some(&cookie)).await;
    assert_eq!(set_cookie_count(&res), 0, "no refresh without a change");

    let res = app.post("/write", Some(&cookie)).await;
    let refreshed = session_cookie(&res, "id").expect("a change refreshes the cookie");
    assert_eq!(refreshed.max_age(), Some(ttl));
}

/// With [`TtlExtensionPolicy::OnEveryRequest`], a request that only reads re-sends the cookie
/// with the full TTL, and the refreshed cookie still opens the session.
pub async fn ttl_is_extended_on_every_request<Store>(store: Store, security: CookieContentSecurity)
where
    Store: SessionStore + 'static,
{
    let ttl = Duration::seconds(60);
    let app = counter_app(
        SessionMiddleware::builder(store, key())
            .cookie_content_security(security)
            .session_lifecycle(
                PersistentSession::default()
                    .session_ttl(ttl)
                    .session_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
            )
            .build(),
    )
    .await;
    let res = app.post("/write", None).await;
    let cookie = session_cookie(&res, "id").expect("cookie set");

    let res = app.get("/read", Some(&cookie)).await;
    assert_eq!(set_cookie_count(&res), 1);
    let refreshed = session_cookie(&res, "id").expect("every request refreshes the cookie");
    assert_eq!(refreshed.max_age(), Some(ttl));

    let res = app.get("/read", Some(&refreshed)).await;
    assert_eq!(
        body_of(res).await,
        "1",
        "the refreshed cookie still opens the session"
    );
}

/// The app of the renew and purge scenarios: cookie `sid` on `example.test`, `SameSite=Strict`.
async fn login_app<Store>(store: Store, security: CookieContentSecurity) -> impl TestApp
where
    Store: SessionStore + 'static,
{
    init_app(
        App::new()
            .wrap(
                SessionMiddleware::builder(store, key())
                    .cookie_name("sid".into())
                    .cookie_path("/".into())
                    .cookie_domain(Some("example.test".into()))
                    .cookie_same_site(SameSite::Strict)
                    .cookie_content_security(security)
                    .build(),
            )
            .route("/count", web::post().to(insert_counter))
            .route("/login/{user}", web::post().to(login))
            .route("/logout", web::post().to(logout))
            .route("/show", web::get().to(show)),
    )
    .await
}

/// Starts an anonymous session (counter 1), then logs `ferris` in, which renews it. Returns
/// the cookie before and the one after the login.
async fn log_in(app: &impl TestApp) -> (Cookie<'static>, Cookie<'static>) {
    let res = app.post("/count", None).await;
    let anonymous = session_cookie(&res, "sid").expect("cookie set");

    let res = app.post("/login/ferris", Some(&anonymous)).await;
    assert_eq!(set_cookie_count(&res), 1);
    let logged_in = session_cookie(&res, "sid").expect("renew sets a new cookie");
    (anonymous, logged_in)
}

/// `renew()` sends one new cookie with another value; the state is kept under the new key;
/// the key before the renewal is dead (when `is_invalidation_supported`).
pub async fn renew_keeps_the_state_under_a_new_key<Store>(
    store: Store,
    is_invalidation_supported: bool,
    security: CookieContentSecurity,
) where
    Store: SessionStore + 'static,
{
    let app = login_app(store, security).await;
    let (anonymous, logged_in) = log_in(&app).await;
    assert_ne!(
        logged_in.value(),
        anonymous.value(),
        "renew changes the cookie"
    );

    let state = snapshot_of(app.get("/show", Some(&logged_in)).await).await;
    assert_eq!(state, Snapshot::of("ferris", 1), "renew keeps the state");

    let old = snapshot_of(app.get("/show", Some(&anonymous)).await).await;
    if is_invalidation_supported {
        assert_eq!(old, Snapshot::EMPTY, "the pre-renew key is dead");
    }
}

/// `purge()` sends one removal cookie (empty, `Max-Age=0`) that repeats the cookie's `Path`,
/// `Domain`, `Secure`, `HttpOnly` and `SameSite`, and the purged session is gone (when
/// `is_invalidation_supported`).
pub async fn purge_sends_a_removal_cookie_and_forgets_the_session<Store>(
    store: Store,
    is_invalidation_supported: bool,
    security: CookieContentSecurity,
) where
    Store: SessionStore + 'static,
{
    let app = login_app(store, security).await;
    let (_, logged_in) = log_in(&app).await;

    let res = app.post("/logout", Some(&logged_in)).await;
    assert_eq!(set_cookie_count(&res), 1, "one removal cookie");
    let removal = session_cookie(&res, "sid").expect("purge sends a removal cookie");
    assert_eq!(removal.value(), "");
    assert_eq!(removal.max_age(), Some(Duration::ZERO));
    assert_eq!(removal.path(), Some("/"));
    assert_eq!(removal.domain(), Some("example.test"));
    assert_eq!(removal.secure(), Some(true));
    assert_eq!(removal.http_only(), Some(true));
    assert_eq!(removal.same_site(), Some(SameSite::Strict));

    if is_invalidation_supported {
        let after = snapshot_of(app.get("/show", Some(&logged_in)).await).await;
        assert_eq!(after, Snapshot::EMPTY, "a purged session is gone");
    }
}

/// Guards read the session: a guard that wants a logged-in user turns away an anonymous
/// request and lets the logged-in one through.
pub async fn guards_read_the_session<Store>(store: Store, security: CookieContentSecurity)
where
    Store: SessionStore + 'static,
{
    let app = init_app(
        App::new()
            .wrap(
                SessionMiddleware::builder(store, key())
                    .cookie_content_security(security)
                    .build(),
            )
            .route("/login/{user}", web::post().to(login))
            .service(
                web::scope("/protected")
                    .guard(guard::fn_guard(|ctx| {
                        ctx.get_session().contains_key("user")
                    }))
                    .route("/show", web::get().to(show)),
            ),
    )
    .await;
    let res = app.get("/protected/show", None).await;
    assert_eq!(
        res.status().as_u16(),
        404,
        "the guard turns away anonymous requests"
    );

    let res = app.post("/login/ferris", None).await;
    let cookie = session_cookie(&res, "id").expect("login sets the cookie");
    let res = app.get("/protected/show", Some(&cookie)).await;
    assert!(
        res.status().is_success(),
        "the guard lets the logged-in user through"
    );
}

/// The whole flow over a real HTTP server, with stores from `store_builder`: an empty session
/// sets no cookie; changes set and re-send it (with its `Max-Age`); login renews it and keeps
/// the state; logout removes it; the keys before login and after logout are dead (when
/// `is_invalidation_supported`).
pub async fn the_lifecycle_works_over_real_http<F, Store>(
    store_builder: F,
    is_invalidation_supported: bool,
    security: CookieContentSecurity,
) where
    Store: SessionStore + 'static,
    F: Fn() -> Store + Clone + Send + 'static,
{
    let key = key();
    let srv = actix_test::start(move || {
        App::new()
            .wrap(
                SessionMiddleware::builder(store_builder(), key.clone())
                    .cookie_name("test-session".into())
                    .cookie_secure(false)
                    .cookie_content_security(security)
                    .session_lifecycle(PersistentSession::default().session_ttl(Duration::days(7)))
                    .build(),
            )
            .route("/count", web::post().to(insert_counter))
            .route("/login/{user}", web::post().to(login))
            .route("/logout", web::post().to(logout))
            .route("/show", web::get().to(show))
    });
    let cookie_of = |res: &actix_test::ClientResponse<_>| client_cookie(res, "test-session");

    let mut res = srv.get("/show").send().await.or_fail("GET /show");
    assert!(cookie_of(&res).is_none(), "an empty session sets no cookie");
    assert_eq!(
        res.json::<Snapshot>()
            .await
            .or_fail("the JSON of GET /show"),
        Snapshot::EMPTY
    );

    let res = srv.post("/count").send().await.or_fail("POST /count");
    let first = cookie_of(&res).expect("the first change sets the cookie");
    assert_eq!(first.max_age(), Some(Duration::days(7)));

    let res = srv
        .post("/count")
        .cookie(first.clone())
        .send()
        .await
        .or_fail("POST /count with the cookie");
    let second = cookie_of(&res).expect("a change re-sends the cookie");

    let mut res = srv
        .post("/login/ferris")
        .cookie(second.clone())
        .send()
        .await
        .or_fail("POST /login/ferris");
    let logged_in = cookie_of(&res).expect("login sets a new cookie");
    assert_eq!(
        res.json::<Snapshot>()
            .await
            .or_fail("the JSON of POST /login/ferris"),
        Snapshot::of("ferris", 2)
    );

    let stale = shown_over_http(&srv, second.clone(), "GET /show with the key before login").await;
    if is_invalidation_supported {
        assert_eq!(stale, Snapshot::EMPTY, "the key before login is dead");
    }

    let res = srv
        .post("/logout")
        .cookie(logged_in.clone())
        .send()
        .await
        .or_fail("POST /logout");
    let removal = cookie_of(&res).expect("logout sends a removal cookie");
    assert_eq!(removal.max_age(), Some(Duration::ZERO));

    let after = shown_over_http(&srv, logged_in, "GET /show with the logged-out key").await;
    if is_invalidation_supported {
        assert_eq!(after, Snapshot::EMPTY, "the logged-out key is dead");
    }
}

/// `GET /show` over real HTTP with `cookie`, and the snapshot it answers.
async fn shown_over_http(
    srv: &actix_test::TestServer,
    cookie: Cookie<'static>,
    what: &str,
) -> Snapshot {
    let mut res = srv.get("/show").cookie(cookie).send().await.or_fail(what);
    res.json::<Snapshot>()
        .await
        .or_fail("the JSON of GET /show")
}
