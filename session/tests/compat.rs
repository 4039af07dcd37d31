//! Application code written for actix-session 0.11 compiles and behaves the same with
//! `actix_session::` replaced by `session::` — plus the deliberate fixes.
#![allow(deprecated)]

mod support;

use actix_web::test as http;
use actix_web::{
    App, HttpRequest, HttpResponse, Responder,
    cookie::{Key, SameSite, time::Duration},
    dev::{ServiceRequest, ServiceResponse},
    guard::GuardContext,
    web,
};
use session::{
    CookieContentSecurity, Session, SessionExt, SessionGetError, SessionInsertError, SessionLength,
    SessionMiddleware, SessionMiddlewareBuilder, SessionStatus, SessionUpdateError,
    config::{BrowserSession, PersistentSession, SessionLifecycle, TtlExtensionPolicy},
    storage::{
        CookieSessionStore, InvalidSessionKeyError, LoadError, MemorySessionStore, SaveError,
        SessionKey, SessionStore, UpdateError, generate_session_key,
    },
};
use support::http_helpers::{call, get, post, send};

// Every name an actix-session 0.11 application uses resolves.
#[allow(dead_code)]
fn names_resolve(
    _: Option<(
        SessionGetError,
        SessionInsertError,
        SessionUpdateError,
        InvalidSessionKeyError,
    )>,
    _: Option<(LoadError, SaveError, UpdateError)>,
    _: Option<SessionMiddlewareBuilder<CookieSessionStore>>,
    _: Option<session::config::SessionMiddlewareBuilder<CookieSessionStore>>,
    _: Option<session::config::CookieContentSecurity>,
    _: Option<SessionLifecycle>,
) {
}

fn session_ext_works_everywhere(
    req: &HttpRequest,
    sreq: &ServiceRequest,
    sres: &ServiceResponse,
    ctx: &GuardContext<'_>,
) {
    let _: Session = req.get_session();
    let _: Session = sreq.get_session();
    let _: Session = sres.get_session();
    let _: Session = ctx.get_session();
}

#[test]
fn session_ext_is_implemented_for_all_request_types() {
    let _ = session_ext_works_everywhere;
}

#[test]
fn session_is_send_and_sync_and_usable_from_other_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Session>();
    let session = Session::new();
    let clone = session.clone();
    std::thread::spawn(move || clone.insert("from", "thread").expect("insert"))
        .join()
        .expect("thread");
    assert_eq!(
        session.get::<String>("from").expect("get").as_deref(),
        Some("thread")
    );
    assert_eq!(session.status(), SessionStatus::Changed);
}

#[test]
fn builder_methods_and_actix_session_0_6_names_compile() {
    let key = Key::generate();
    let _ = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
        .cookie_name("sid".to_owned())
        .cookie_secure(false)
        .cookie_http_only(false)
        .cookie_same_site(SameSite::Strict)
        .cookie_path("/app".to_owned())
        .cookie_domain(Some("example.com".to_owned()))
        .cookie_content_security(CookieContentSecurity::Signed)
        .session_lifecycle(
            BrowserSession::default()
                .state_ttl(Duration::hours(2))
                .state_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
        )
        .session_lifecycle(
            PersistentSession::default()
                .session_ttl(Duration::days(3))
                .session_ttl_extension_policy(TtlExtensionPolicy::OnStateChanges),
        )
        .session_length(SessionLength::Predetermined {
            max_session_length: Some(Duration::days(1)),
        })
        .session_length(SessionLength::BrowserSession { state_ttl: None })
        .build();
    let _ = SessionMiddleware::new(MemorySessionStore::new(), key);
    let generated: SessionKey = generate_session_key();
    assert_eq!(generated.as_ref().len(), 64);
}

async fn counter(session: Session) -> actix_web::Result<impl Responder> {
    if let Some(count) = session.get::<i32>("counter")? {
        session.insert("counter", count + 1)?;
    } else {
        session.insert("counter", 1)?;
    }
    Ok(session
        .get::<i32>("counter")?
        .unwrap_or_default()
        .to_string())
}

async fn bump(session: Session) -> actix_web::Result<impl Responder> {
    session.update("counter", |n: i32| n + 10)?;
    session.update_or("other", 0, |n: i32| n + 1)?;
    Ok(HttpResponse::Ok().finish())
}

async fn show(session: Session) -> actix_web::Result<impl Responder> {
    let counter = session.get::<i32>("counter")?.unwrap_or_default();
    let other = session.get::<i32>("other")?.unwrap_or_default();
    let entries = session.entries().len();
    Ok(format!("{counter} {other} {entries}"))
}

#[actix_web::test]
async fn update_and_update_or_are_persisted_on_a_loaded_session() {
    for store_is_memory in [true, false] {
        let key = Key::generate();
        let store = if store_is_memory {
            StoreChoice::Memory(MemorySessionStore::new())
        } else {
            StoreChoice::Cookie(CookieSessionStore::default())
        };
        let app = http::init_service(
            App::new()
                .wrap(SessionMiddleware::new(store, key))
                .route("/counter", web::post().to(counter))
                .route("/bump", web::post().to(bump))
                .route("/show", web::get().to(show)),
        )
        .await;
        let (cookie, _) = call(&app, post("/counter", None)).await;
        let cookie = cookie.expect("cookie");
        let (cookie, _) = call(&app, post("/bump", Some(&cookie))).await;
        let cookie = cookie.expect("update() re-sends the cookie: the change is saved");
        let (_, body) = call(&app, get("/show", Some(&cookie))).await;
        assert_eq!(body, "11 0 2", "memory={store_is_memory}");
    }
}

/// A store chosen at run time, as an application might write it (and as `session-config`
/// does): every trait method delegates.
enum StoreChoice {
    Memory(MemorySessionStore),
    Cookie(CookieSessionStore),
}

impl SessionStore for StoreChoice {
    async fn load(
        &self,
        key: &SessionKey,
    ) -> Result<Option<session::storage::SessionState>, LoadError> {
        match self {
            Self::Memory(s) => s.load(key).await,
            Self::Cookie(s) => s.load(key).await,
        }
    }
    async fn save(
        &self,
        state: session::storage::SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        match self {
            Self::Memory(s) => s.save(state, ttl).await,
            Self::Cookie(s) => s.save(state, ttl).await,
        }
    }
    async fn update(
        &self,
        key: SessionKey,
        state: session::storage::SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        match self {
            Self::Memory(s) => s.update(key, state, ttl).await,
            Self::Cookie(s) => s.update(key, state, ttl).await,
        }
    }
    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), UpdateError> {
        match self {
            Self::Memory(s) => s.update_ttl(key, ttl).await,
            Self::Cookie(s) => s.update_ttl(key, ttl).await,
        }
    }
    async fn delete(&self, key: &SessionKey) -> Result<(), session::storage::DeleteError> {
        match self {
            Self::Memory(s) => s.delete(key).await,
            Self::Cookie(s) => s.delete(key).await,
        }
    }
}

#[actix_web::test]
async fn responses_that_touch_the_session_vary_on_cookie() {
    let app = http::init_service(
        App::new()
            .wrap(SessionMiddleware::new(
                MemorySessionStore::new(),
                Key::generate(),
            ))
            .route("/counter", web::post().to(counter))
            .route("/plain", web::get().to(|| async { "plain" })),
    )
    .await;
    let res = send(&app, get("/plain", None)).await;
    assert!(res.headers().get("vary").is_none(), "no session, no Vary");
    let res = send(&app, post("/counter", None)).await;
    assert_eq!(
        res.headers().get("vary").and_then(|v| v.to_str().ok()),
        Some("Cookie")
    );
    assert_eq!(
        res.headers().get_all("set-cookie").count(),
        1,
        "one session Set-Cookie"
    );
}
