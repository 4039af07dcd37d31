//! The conformance suite every [`SessionStore`] must pass (feature `test-helpers`).
//!
//! ```no_run
//! use session::{storage::MemorySessionStore, test_helpers::acceptance_test_suite};
//!
//! #[actix_web::test]
//! async fn my_store_conforms() {
//!     let store = MemorySessionStore::new();
//!     acceptance_test_suite(move || store.clone(), true).await;
//! }
//! ```

use actix_web::{
    App, HttpResponse,
    body::MessageBody,
    cookie::{Cookie, Key, SameSite, time::Duration},
    dev::{Service, ServiceResponse},
    guard, test,
    web::{self, Bytes},
};
use serde::{Deserialize, Serialize};

use crate::{
    Session, SessionExt as _, SessionMiddleware,
    config::{BrowserSession, CookieContentSecurity, PersistentSession, TtlExtensionPolicy},
    storage::SessionStore,
};

/// A fresh random key for signing or encrypting cookies.
pub fn key() -> Key {
    Key::generate()
}

/// Runs the whole session lifecycle through the real middleware against stores made by
/// `store_builder`, once with `Signed` and once with `Private` cookies.
///
/// Covered: create; read without a `Set-Cookie`; change; renew (the old key is dead when
/// `is_invalidation_supported`); purge with a removal cookie that repeats the cookie's
/// attributes; persistent vs browser cookies; both TTL extension policies; guards reading the
/// session; the whole flow over real HTTP.
///
/// `is_invalidation_supported` is `true` for stores that forget a session when it is
/// deleted (server-side stores) and `false` for the cookie store, where a copied cookie stays
/// valid until it expires.
///
/// # Panics
/// When the store does not behave as a session store must.
pub async fn acceptance_test_suite<F, Store>(store_builder: F, is_invalidation_supported: bool)
where
    Store: SessionStore + 'static,
    F: Fn() -> Store + Clone + Send + 'static,
{
    for security in [
        CookieContentSecurity::Signed,
        CookieContentSecurity::Private,
    ] {
        cookie_attributes_and_read_back(store_builder(), security).await;
        reading_sends_no_cookie(store_builder(), security).await;
        browser_session_cookie_has_no_max_age(store_builder(), security).await;
        ttl_is_extended_on_changes_only(store_builder(), security).await;
        ttl_is_extended_on_every_request(store_builder(), security).await;
        renew_and_purge(store_builder(), is_invalidation_supported, security).await;
        guards_read_the_session(store_builder(), security).await;
        workflow_over_http(store_builder.clone(), is_invalidation_supported, security).await;
    }
}

fn session_cookie<B>(res: &ServiceResponse<B>, name: &str) -> Option<Cookie<'static>> {
    res.response()
        .cookies()
        .find(|cookie| cookie.name() == name)
        .map(Cookie::into_owned)
}

fn set_cookie_count<B>(res: &ServiceResponse<B>) -> usize {
    res.headers()
        .get_all(actix_web::http::header::SET_COOKIE)
        .count()
}

async fn body_of<B: MessageBody>(res: ServiceResponse<B>) -> String {
    let bytes: Bytes = test::read_body(res).await;
    String::from_utf8_lossy(&bytes).into_owned()
}

async fn insert_counter(session: Session) -> HttpResponse {
    let counter = session.get::<u32>("counter").ok().flatten().unwrap_or(0) + 1;
    match session.insert("counter", counter) {
        Ok(()) => HttpResponse::Ok().body(counter.to_string()),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

async fn read_counter(session: Session) -> HttpResponse {
    match session.get::<u32>("counter") {
        Ok(value) => {
            HttpResponse::Ok().body(value.map_or_else(|| "none".to_owned(), |v| v.to_string()))
        }
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

async fn cookie_attributes_and_read_back<Store>(store: Store, security: CookieContentSecurity)
where
    Store: SessionStore + 'static,
{
    let app = test::init_service(
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

    let res = app
        .call(test::TestRequest::post().uri("/test/write").to_request())
        .await
        .unwrap_or_else(|err| panic!("write failed: {err}"));
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

    let res = app
        .call(
            test::TestRequest::get()
                .uri("/test/read")
                .cookie(cookie)
                .to_request(),
        )
        .await
        .unwrap_or_else(|err| panic!("read failed: {err}"));
    assert_eq!(body_of(res).await, "1");
}

async fn reading_sends_no_cookie<Store>(store: Store, security: CookieContentSecurity)
where
    Store: SessionStore + 'static,
{
    let app = test::init_service(
        App::new()
            .wrap(
                SessionMiddleware::builder(store, key())
                    .cookie_content_security(security)
                    .build(),
            )
            .route("/write", web::post().to(insert_counter))
            .route("/read", web::get().to(read_counter)),
    )
    .await;

    // An empty session that is only read stores nothing and sends no cookie.
    let res = app
        .call(test::TestRequest::get().uri("/read").to_request())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        set_cookie_count(&res),
        0,
        "no cookie for a session that stays empty"
    );
    assert_eq!(body_of(res).await, "none");

    let res = app
        .call(test::TestRequest::post().uri("/write").to_request())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let cookie = session_cookie(&res, "id").expect("cookie set on first write");
    assert_eq!(cookie.max_age(), None);

    let res = app
        .call(
            test::TestRequest::get()
                .uri("/read")
                .cookie(cookie.clone())
                .to_request(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        set_cookie_count(&res),
        0,
        "reading an unchanged session sends no cookie"
    );
    assert_eq!(body_of(res).await, "1");

    let res = app
        .call(
            test::TestRequest::post()
                .uri("/write")
                .cookie(cookie)
                .to_request(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let changed = session_cookie(&res, "id").expect("a change re-sends the cookie");
    let res = app
        .call(
            test::TestRequest::get()
                .uri("/read")
                .cookie(changed)
                .to_request(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(body_of(res).await, "2", "the change was saved");
}

async fn browser_session_cookie_has_no_max_age<Store>(store: Store, security: CookieContentSecurity)
where
    Store: SessionStore + 'static,
{
    let app = test::init_service(
        App::new()
            .wrap(
                SessionMiddleware::builder(store, key())
                    .cookie_content_security(security)
                    .session_lifecycle(BrowserSession::default().state_ttl(Duration::hours(2)))
                    .build(),
            )
            .route("/write", web::post().to(insert_counter)),
    )
    .await;
    let res = app
        .call(test::TestRequest::post().uri("/write").to_request())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
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

async fn ttl_is_extended_on_changes_only<Store>(store: Store, security: CookieContentSecurity)
where
    Store: SessionStore + 'static,
{
    let ttl = Duration::seconds(60);
    let app = test::init_service(
        App::new()
            .wrap(
                SessionMiddleware::builder(store, key())
                    .cookie_content_security(security)
                    .session_lifecycle(PersistentSession::default().session_ttl(ttl))
                    .build(),
            )
            .route("/write", web::post().to(insert_counter))
            .route("/untouched", web::get().to(|| async { "untouched" })),
    )
    .await;
    let res = app
        .call(test::TestRequest::post().uri("/write").to_request())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let cookie = session_cookie(&res, "id").expect("cookie set");
    assert_eq!(cookie.max_age(), Some(ttl));

    let res = app
        .call(
            test::TestRequest::get()
                .uri("/untouched")
                .cookie(cookie.clone())
                .to_request(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set_cookie_count(&res), 0, "no refresh without a change");

    let res = app
        .call(
            test::TestRequest::post()
                .uri("/write")
                .cookie(cookie)
                .to_request(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let refreshed = session_cookie(&res, "id").expect("a change refreshes the cookie");
    assert_eq!(refreshed.max_age(), Some(ttl));
}

async fn ttl_is_extended_on_every_request<Store>(store: Store, security: CookieContentSecurity)
where
    Store: SessionStore + 'static,
{
    let ttl = Duration::seconds(60);
    let app = test::init_service(
        App::new()
            .wrap(
                SessionMiddleware::builder(store, key())
                    .cookie_content_security(security)
                    .session_lifecycle(
                        PersistentSession::default()
                            .session_ttl(ttl)
                            .session_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
                    )
                    .build(),
            )
            .route("/write", web::post().to(insert_counter))
            .route("/read", web::get().to(read_counter)),
    )
    .await;
    let res = app
        .call(test::TestRequest::post().uri("/write").to_request())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let cookie = session_cookie(&res, "id").expect("cookie set");

    let res = app
        .call(
            test::TestRequest::get()
                .uri("/read")
                .cookie(cookie)
                .to_request(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set_cookie_count(&res), 1);
    let refreshed = session_cookie(&res, "id").expect("every request refreshes the cookie");
    assert_eq!(refreshed.max_age(), Some(ttl));

    let res = app
        .call(
            test::TestRequest::get()
                .uri("/read")
                .cookie(refreshed)
                .to_request(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        body_of(res).await,
        "1",
        "the refreshed cookie still opens the session"
    );
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Snapshot {
    user: Option<String>,
    counter: u32,
}

fn snapshot(session: &Session) -> Snapshot {
    Snapshot {
        user: session.get("user").ok().flatten(),
        counter: session.get("counter").ok().flatten().unwrap_or(0),
    }
}

async fn login(session: Session, user: web::Path<String>) -> HttpResponse {
    session.renew();
    match session.insert("user", user.into_inner()) {
        Ok(()) => HttpResponse::Ok().json(snapshot(&session)),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

async fn logout(session: Session) -> HttpResponse {
    session.purge();
    HttpResponse::Ok().finish()
}

async fn show(session: Session) -> HttpResponse {
    HttpResponse::Ok().json(snapshot(&session))
}

async fn renew_and_purge<Store>(
    store: Store,
    is_invalidation_supported: bool,
    security: CookieContentSecurity,
) where
    Store: SessionStore + 'static,
{
    let app = test::init_service(
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
    .await;
    let call = |req| async { app.call(req).await.unwrap_or_else(|e| panic!("{e}")) };
    let show_with = |cookie: Cookie<'static>| {
        test::TestRequest::get()
            .uri("/show")
            .cookie(cookie)
            .to_request()
    };

    let res = call(test::TestRequest::post().uri("/count").to_request()).await;
    let anonymous = session_cookie(&res, "sid").expect("cookie set");

    let res = call(
        test::TestRequest::post()
            .uri("/login/ferris")
            .cookie(anonymous.clone())
            .to_request(),
    )
    .await;
    assert_eq!(set_cookie_count(&res), 1);
    let logged_in = session_cookie(&res, "sid").expect("renew sets a new cookie");
    assert_ne!(
        logged_in.value(),
        anonymous.value(),
        "renew changes the cookie"
    );

    let state: Snapshot = test::read_body_json(call(show_with(logged_in.clone())).await).await;
    assert_eq!(
        state,
        Snapshot {
            user: Some("ferris".into()),
            counter: 1
        },
        "renew keeps the state"
    );

    let old: Snapshot = test::read_body_json(call(show_with(anonymous.clone())).await).await;
    if is_invalidation_supported {
        assert_eq!(
            old,
            Snapshot {
                user: None,
                counter: 0
            },
            "the pre-renew key is dead"
        );
    }

    let res = call(
        test::TestRequest::post()
            .uri("/logout")
            .cookie(logged_in.clone())
            .to_request(),
    )
    .await;
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
        let after: Snapshot = test::read_body_json(call(show_with(logged_in)).await).await;
        assert_eq!(
            after,
            Snapshot {
                user: None,
                counter: 0
            },
            "a purged session is gone"
        );
    }
}

async fn guards_read_the_session<Store>(store: Store, security: CookieContentSecurity)
where
    Store: SessionStore + 'static,
{
    let app = test::init_service(
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
    let res = app
        .call(test::TestRequest::get().uri("/protected/show").to_request())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        res.status().as_u16(),
        404,
        "the guard turns away anonymous requests"
    );

    let res = app
        .call(test::TestRequest::post().uri("/login/ferris").to_request())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let cookie = session_cookie(&res, "id").expect("login sets the cookie");
    let res = app
        .call(
            test::TestRequest::get()
                .uri("/protected/show")
                .cookie(cookie)
                .to_request(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        res.status().is_success(),
        "the guard lets the logged-in user through"
    );
}

async fn workflow_over_http<F, Store>(
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
    let cookie_of = |res: &actix_test::ClientResponse<_>| -> Option<Cookie<'static>> {
        res.cookies()
            .ok()?
            .iter()
            .find(|c| c.name() == "test-session")
            .cloned()
    };

    let mut res = srv
        .get("/show")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(cookie_of(&res).is_none(), "an empty session sets no cookie");
    assert_eq!(
        res.json::<Snapshot>()
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        Snapshot {
            user: None,
            counter: 0
        }
    );

    let res = srv
        .post("/count")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let first = cookie_of(&res).expect("the first change sets the cookie");
    assert_eq!(first.max_age(), Some(Duration::days(7)));

    let res = srv
        .post("/count")
        .cookie(first.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second = cookie_of(&res).expect("a change re-sends the cookie");

    let mut res = srv
        .post("/login/ferris")
        .cookie(second.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let logged_in = cookie_of(&res).expect("login sets a new cookie");
    assert_eq!(
        res.json::<Snapshot>()
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        Snapshot {
            user: Some("ferris".into()),
            counter: 2
        }
    );

    let mut res = srv
        .get("/show")
        .cookie(second.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let stale = res
        .json::<Snapshot>()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    if is_invalidation_supported {
        assert_eq!(
            stale,
            Snapshot {
                user: None,
                counter: 0
            },
            "the key before login is dead"
        );
    }

    let res = srv
        .post("/logout")
        .cookie(logged_in.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let removal = cookie_of(&res).expect("logout sends a removal cookie");
    assert_eq!(removal.max_age(), Some(Duration::ZERO));

    let mut res = srv
        .get("/show")
        .cookie(logged_in)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let after = res
        .json::<Snapshot>()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    if is_invalidation_supported {
        assert_eq!(
            after,
            Snapshot {
                user: None,
                counter: 0
            },
            "the logged-out key is dead"
        );
    }
}

/// How many parallel requests [`concurrency_test_suite`] fires at one session.
pub const PARALLEL_REQUESTS: usize = 50;

/// Checks that a store loses no update under concurrency, over a real HTTP server with two
/// workers whose stores come from `store_builder` (clones must share one backend):
///
/// - [`PARALLEL_REQUESTS`] parallel requests on one session, each reading the session,
///   awaiting briefly, then setting its own key: every key survives;
/// - parallel writes of one key end with one of the written values, never a mix;
/// - a request that loaded the session before a concurrent logout does not bring it back;
/// - a request still carrying the old cookie after a concurrent `renew` does not revive the
///   old key.
///
/// Stores that write the whole state on every change (the default
/// [`SessionStore::update_changes`]) fail the first check; the cookie store cannot pass it by
/// design (each response carries its own copy of the state).
///
/// # Panics
/// When an update is lost or a session comes back.
pub async fn concurrency_test_suite<F, Store>(store_builder: F)
where
    Store: SessionStore + 'static,
    F: Fn() -> Store + Clone + Send + 'static,
{
    let key = key();
    let srv = actix_test::start_with(actix_test::config().workers(2), move || {
        App::new()
            .wrap(
                SessionMiddleware::builder(store_builder(), key.clone())
                    .cookie_secure(false)
                    .build(),
            )
            .route("/start", web::post().to(concurrency::start))
            .route(
                "/slow-set/{name}/{value}",
                web::post().to(concurrency::slow_set),
            )
            .route("/keys", web::get().to(concurrency::keys))
            .route("/logout", web::post().to(logout))
            .route("/renew", web::post().to(concurrency::renew))
    });
    let cookie_of = |res: &actix_test::ClientResponse<_>| -> Option<Cookie<'static>> {
        res.cookies()
            .ok()?
            .iter()
            .find(|c| c.name() == "id")
            .cloned()
    };
    let new_session = || async {
        let res = srv
            .post("/start")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        cookie_of(&res).expect("a new session sets its cookie")
    };
    let keys_of = |cookie: Cookie<'static>| {
        let req = srv.get("/keys").cookie(cookie);
        async move {
            let mut res = req.send().await.unwrap_or_else(|e| panic!("{e}"));
            res.json::<serde_json::Map<String, serde_json::Value>>()
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        }
    };

    // Every parallel write to its own key survives.
    let cookie = new_session().await;
    let requests = (0..PARALLEL_REQUESTS).map(|i| {
        srv.post(format!("/slow-set/key{i}/{i}"))
            .cookie(cookie.clone())
            .send()
    });
    for res in futures_util::future::join_all(requests).await {
        assert!(res.unwrap_or_else(|e| panic!("{e}")).status().is_success());
    }
    let state = keys_of(cookie.clone()).await;
    let missing: Vec<usize> = (0..PARALLEL_REQUESTS)
        .filter(|i| state.get(&format!("key{i}")) != Some(&serde_json::json!(i.to_string())))
        .collect();
    assert!(missing.is_empty(), "lost updates for keys {missing:?}");
    assert_eq!(state.get("started"), Some(&serde_json::json!(true)));

    // Parallel writes of one key: one of the values wins, whole.
    let requests = (0..10).map(|i| {
        srv.post(format!("/slow-set/shared/value-{i}"))
            .cookie(cookie.clone())
            .send()
    });
    futures_util::future::join_all(requests).await;
    let state = keys_of(cookie.clone()).await;
    let shared = state
        .get("shared")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    assert!(
        (0..10).any(|i| shared == format!("value-{i}")),
        "unexpected value {shared:?}"
    );

    // Logout while a slow request is in flight: the session stays logged out.
    let cookie = new_session().await;
    let slow = srv.post("/slow-set/late/1").cookie(cookie.clone()).send();
    let logout = async {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        srv.post("/logout").cookie(cookie.clone()).send().await
    };
    let (slow, logout) = futures_util::future::join(slow, logout).await;
    assert!(
        logout
            .unwrap_or_else(|e| panic!("{e}"))
            .status()
            .is_success()
    );
    let slow = slow.unwrap_or_else(|e| panic!("{e}"));
    // The in-flight request either loaded the session before the logout (its write is then
    // dropped and it sends a removal cookie) or, on a slow machine, after it (it then starts
    // a fresh session). Either way it must not carry the logged-out state on.
    if let Some(issued) = cookie_of(&slow).filter(|c| !c.value().is_empty()) {
        let state = keys_of(issued).await;
        assert!(
            !state.contains_key("started"),
            "the in-flight request re-issued the logged-out session: {state:?}"
        );
    }
    assert!(
        keys_of(cookie).await.is_empty(),
        "the logged-out session came back"
    );

    // Renew while a request with the old cookie is in flight: the old key stays dead.
    let cookie = new_session().await;
    let slow = srv.post("/slow-set/late/1").cookie(cookie.clone()).send();
    let renew = async {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        srv.post("/renew").cookie(cookie.clone()).send().await
    };
    let (_, renewed) = futures_util::future::join(slow, renew).await;
    let renewed =
        cookie_of(&renewed.unwrap_or_else(|e| panic!("{e}"))).expect("renew sets a cookie");
    assert!(
        keys_of(cookie).await.is_empty(),
        "the pre-renew key came back"
    );
    assert_eq!(
        keys_of(renewed).await.get("started"),
        Some(&serde_json::json!(true))
    );
}

mod concurrency {
    use actix_web::{HttpResponse, web};

    use crate::Session;

    pub(super) async fn start(session: Session) -> HttpResponse {
        match session.insert("started", true) {
            Ok(()) => HttpResponse::Ok().finish(),
            Err(_) => HttpResponse::InternalServerError().finish(),
        }
    }

    /// Reads the session, waits, then writes: the window in which other requests save.
    pub(super) async fn slow_set(
        session: Session,
        path: web::Path<(String, String)>,
    ) -> HttpResponse {
        let (name, value) = path.into_inner();
        let seen = session.entries().len();
        actix_web::rt::time::sleep(std::time::Duration::from_millis(150)).await;
        match session.insert(name, value) {
            Ok(()) => HttpResponse::Ok().body(seen.to_string()),
            Err(_) => HttpResponse::InternalServerError().finish(),
        }
    }

    pub(super) async fn keys(session: Session) -> HttpResponse {
        HttpResponse::Ok().json(&*session.entries())
    }

    pub(super) async fn renew(session: Session) -> HttpResponse {
        session.renew();
        HttpResponse::Ok().finish()
    }
}
