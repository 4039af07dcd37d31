//! Lazy loading: the state is loaded when a handler first extracts the session.

mod support;

use actix_web::{
    App, HttpRequest, HttpResponse, cookie::Key, dev::Service as _, guard, test as http, web,
};
use session::{
    Session, SessionExt as _, SessionMiddleware,
    storage::{CookieSessionStore, MemorySessionStore, SessionStore},
};
use support::{
    hooked_store::HookedStore,
    http_helpers::{call, cookie_of, get, post, send},
};

async fn login(session: Session) -> actix_web::Result<HttpResponse> {
    session.insert("user", "ferris")?;
    session.insert("cart", vec!["apple"])?;
    Ok(HttpResponse::Ok().finish())
}

async fn whoami(session: Session) -> actix_web::Result<HttpResponse> {
    let user = session
        .get::<String>("user")?
        .unwrap_or_else(|| "anonymous".into());
    let cart = session.get::<Vec<String>>("cart")?.unwrap_or_default();
    Ok(HttpResponse::Ok().body(format!("{user} {}", cart.join(","))))
}

/// Changes the session from synchronous code, without extracting it.
async fn sync_add(req: HttpRequest) -> HttpResponse {
    let session = req.get_session();
    assert!(!session.is_loaded(), "nothing extracted the session yet");
    match session.insert("theme", "dark") {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

macro_rules! lazy_app {
    ($store:expr, $key:expr) => {
        http::init_service(
            App::new()
                .wrap(
                    SessionMiddleware::builder($store, $key)
                        .lazy_loading(true)
                        .build(),
                )
                .route("/login", web::post().to(login))
                .route("/whoami", web::get().to(whoami))
                .route("/static", web::get().to(|| async { "static" }))
                .route("/sync-add", web::post().to(sync_add))
                .route(
                    "/theme",
                    web::get().to(|s: Session| async move {
                        s.get::<String>("theme").ok().flatten().unwrap_or_default()
                    }),
                )
                .service(
                    web::scope("/guarded")
                        .guard(guard::fn_guard(|ctx| {
                            let session = ctx.get_session();
                            // Documented: guards see the lazily loaded session as not loaded.
                            !session.is_loaded() && !session.contains_key("user")
                        }))
                        .route(
                            "",
                            web::get().to(|| async { "guard saw an unloaded session" }),
                        ),
                ),
        )
        .await
    };
}

#[actix_web::test]
async fn routes_that_never_extract_the_session_never_load_it() {
    let store = HookedStore::new(MemorySessionStore::new());
    let app = lazy_app!(store.clone(), Key::generate());
    let res = send(&app, post("/login", None)).await;
    let cookie = cookie_of(&res).expect("cookie");
    assert_eq!(store.hooks.loads.get(), 0, "a new session loads nothing");

    for _ in 0..5 {
        let res = send(&app, get("/static", Some(&cookie))).await;
        assert!(cookie_of(&res).is_none());
        assert!(
            res.headers().get("vary").is_none(),
            "the response did not depend on the session"
        );
    }
    assert_eq!(
        store.hooks.loads.get(),
        0,
        "no load for routes that never extract the session"
    );

    let res = send(&app, get("/whoami", Some(&cookie))).await;
    assert_eq!(
        res.headers().get("vary").and_then(|v| v.to_str().ok()),
        Some("Cookie")
    );
    assert_eq!(
        http::read_body(res).await,
        "ferris apple",
        "extraction loads the state"
    );
    assert_eq!(store.hooks.loads.get(), 1);
}

#[actix_web::test]
async fn guards_see_a_session_that_is_not_loaded_yet() {
    let store = MemorySessionStore::new();
    let app = lazy_app!(store, Key::generate());
    let res = send(&app, post("/login", None)).await;
    let cookie = cookie_of(&res).expect("cookie");
    let res = send(&app, get("/guarded", Some(&cookie))).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(http::read_body(res).await, "guard saw an unloaded session");
}

async fn blind_changes_are_replayed_on_the_stored_state<S: SessionStore + Clone + 'static>(
    store: S,
) {
    let app = lazy_app!(store, Key::generate());
    let res = send(&app, post("/login", None)).await;
    let cookie = cookie_of(&res).expect("cookie");
    let res = send(&app, post("/sync-add", Some(&cookie))).await;
    assert_eq!(res.status().as_u16(), 200);
    let cookie = cookie_of(&res).expect("the change was saved");
    let (_, body) = call(&app, get("/whoami", Some(&cookie))).await;
    assert_eq!(body, "ferris apple", "the stored keys were kept");
    let (_, body) = call(&app, get("/theme", Some(&cookie))).await;
    assert_eq!(body, "dark", "the blind change was saved");
}

#[actix_web::test]
async fn blind_changes_keep_the_stored_state_on_the_memory_store() {
    blind_changes_are_replayed_on_the_stored_state(MemorySessionStore::new()).await;
}

#[actix_web::test]
async fn blind_changes_keep_the_stored_state_on_the_cookie_store() {
    blind_changes_are_replayed_on_the_stored_state(CookieSessionStore::default()).await;
}

#[actix_web::test]
async fn a_failed_lazy_load_is_an_opaque_500() {
    let store = HookedStore::new(MemorySessionStore::new());
    let app = lazy_app!(store.clone(), Key::generate());
    let res = send(&app, post("/login", None)).await;
    let cookie = cookie_of(&res).expect("cookie");
    store.hooks.fail_load.set(true);

    let res = send(&app, get("/static", Some(&cookie))).await;
    assert_eq!(
        res.status().as_u16(),
        200,
        "routes that do not load are unaffected"
    );

    let err = app
        .call(get("/whoami", Some(&cookie)))
        .await
        .expect_err("the load failure fails the request");
    let res = err.error_response();
    assert_eq!(res.status().as_u16(), 500);
    let body = actix_web::body::to_bytes(res.into_body())
        .await
        .expect("body");
    assert!(body.is_empty());
}
