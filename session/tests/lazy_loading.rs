//! Lazy loading: the state is loaded when a handler first extracts the session.

use std::{cell::Cell, rc::Rc};

use actix_web::{
    App, HttpRequest, HttpResponse,
    cookie::{Cookie, Key, time::Duration},
    dev::Service,
    guard, test as http, web,
};
use session::{
    Session, SessionExt as _, SessionMiddleware,
    storage::{
        CookieSessionStore, DeleteError, LoadError, MemorySessionStore, SaveError, SessionChanges,
        SessionKey, SessionState, SessionStore, UpdateError,
    },
};

/// Counts loads and can fail them; everything else goes to the inner store.
#[derive(Clone)]
struct Counting<S> {
    inner: S,
    loads: Rc<Cell<usize>>,
    fail_loads: Rc<Cell<bool>>,
}

impl<S> Counting<S> {
    fn new(inner: S) -> Self {
        Self {
            inner,
            loads: Rc::default(),
            fail_loads: Rc::default(),
        }
    }
}

impl<S: SessionStore> SessionStore for Counting<S> {
    async fn load(&self, key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        self.loads.set(self.loads.get() + 1);
        if self.fail_loads.get() {
            return Err(LoadError::Other("store down".into()));
        }
        self.inner.load(key).await
    }
    async fn save(&self, state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
        self.inner.save(state, ttl).await
    }
    async fn update(
        &self,
        key: SessionKey,
        state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        self.inner.update(key, state, ttl).await
    }
    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), UpdateError> {
        self.inner.update_ttl(key, ttl).await
    }
    async fn delete(&self, key: &SessionKey) -> Result<(), DeleteError> {
        self.inner.delete(key).await
    }
    async fn update_changes(
        &self,
        key: SessionKey,
        changes: SessionChanges,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        self.inner.update_changes(key, changes, ttl).await
    }
    async fn refresh(
        &self,
        key: SessionKey,
        state: &SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        self.inner.refresh(key, state, ttl).await
    }
}

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

fn cookie_of<B>(res: &actix_web::dev::ServiceResponse<B>) -> Option<Cookie<'static>> {
    res.response()
        .cookies()
        .find(|c| c.name() == "id")
        .map(Cookie::into_owned)
}

#[actix_web::test]
async fn routes_that_never_extract_the_session_never_load_it() {
    let store = Counting::new(MemorySessionStore::new());
    let app = lazy_app!(store.clone(), Key::generate());
    let res = app
        .call(http::TestRequest::post().uri("/login").to_request())
        .await
        .expect("ok");
    let cookie = cookie_of(&res).expect("cookie");
    assert_eq!(store.loads.get(), 0, "a new session loads nothing");

    for _ in 0..5 {
        let res = app
            .call(
                http::TestRequest::get()
                    .uri("/static")
                    .cookie(cookie.clone())
                    .to_request(),
            )
            .await
            .expect("ok");
        assert!(cookie_of(&res).is_none());
        assert!(
            res.headers().get("vary").is_none(),
            "the response did not depend on the session"
        );
    }
    assert_eq!(
        store.loads.get(),
        0,
        "no load for routes that never extract the session"
    );

    let res = app
        .call(
            http::TestRequest::get()
                .uri("/whoami")
                .cookie(cookie)
                .to_request(),
        )
        .await
        .expect("ok");
    assert_eq!(
        res.headers().get("vary").and_then(|v| v.to_str().ok()),
        Some("Cookie")
    );
    assert_eq!(
        http::read_body(res).await,
        "ferris apple",
        "extraction loads the state"
    );
    assert_eq!(store.loads.get(), 1);
}

#[actix_web::test]
async fn guards_see_a_session_that_is_not_loaded_yet() {
    let store = MemorySessionStore::new();
    let app = lazy_app!(store, Key::generate());
    let res = app
        .call(http::TestRequest::post().uri("/login").to_request())
        .await
        .expect("ok");
    let cookie = cookie_of(&res).expect("cookie");
    let res = app
        .call(
            http::TestRequest::get()
                .uri("/guarded")
                .cookie(cookie)
                .to_request(),
        )
        .await
        .expect("ok");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(http::read_body(res).await, "guard saw an unloaded session");
}

async fn blind_changes_are_replayed_on_the_stored_state<S: SessionStore + Clone + 'static>(
    store: S,
) {
    let app = lazy_app!(store, Key::generate());
    let res = app
        .call(http::TestRequest::post().uri("/login").to_request())
        .await
        .expect("ok");
    let cookie = cookie_of(&res).expect("cookie");
    let res = app
        .call(
            http::TestRequest::post()
                .uri("/sync-add")
                .cookie(cookie)
                .to_request(),
        )
        .await
        .expect("ok");
    assert_eq!(res.status().as_u16(), 200);
    let cookie = cookie_of(&res).expect("the change was saved");
    let res = app
        .call(
            http::TestRequest::get()
                .uri("/whoami")
                .cookie(cookie.clone())
                .to_request(),
        )
        .await
        .expect("ok");
    assert_eq!(
        http::read_body(res).await,
        "ferris apple",
        "the stored keys were kept"
    );
    let res = app
        .call(
            http::TestRequest::get()
                .uri("/theme")
                .cookie(cookie)
                .to_request(),
        )
        .await
        .expect("ok");
    assert_eq!(
        http::read_body(res).await,
        "dark",
        "the blind change was saved"
    );
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
    let store = Counting::new(MemorySessionStore::new());
    let app = lazy_app!(store.clone(), Key::generate());
    let res = app
        .call(http::TestRequest::post().uri("/login").to_request())
        .await
        .expect("ok");
    let cookie = cookie_of(&res).expect("cookie");
    store.fail_loads.set(true);

    let res = app
        .call(
            http::TestRequest::get()
                .uri("/static")
                .cookie(cookie.clone())
                .to_request(),
        )
        .await
        .expect("ok");
    assert_eq!(
        res.status().as_u16(),
        200,
        "routes that do not load are unaffected"
    );

    let err = app
        .call(
            http::TestRequest::get()
                .uri("/whoami")
                .cookie(cookie)
                .to_request(),
        )
        .await
        .expect_err("the load failure fails the request");
    let res = err.error_response();
    assert_eq!(res.status().as_u16(), 500);
    let body = actix_web::body::to_bytes(res.into_body())
        .await
        .expect("body");
    assert!(body.is_empty());
}
