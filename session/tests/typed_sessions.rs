//! `#[session]` typed sessions: the generated API on its own, and round trips through the real
//! middleware on the memory and cookie stores.
//!
//! The lints denied here are the ones a strict user crate would deny: the expansion must be
//! clean under them (clippy's run in CI with `--all-targets` checks this file).
#![deny(missing_docs, unused_qualifications, clippy::pedantic)]
#![allow(clippy::unwrap_used, reason = "tests")]

use actix_web::{
    App, FromRequest as _, HttpResponse,
    body::MessageBody,
    cookie::{Cookie, Key},
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    test::{TestRequest, call_service, init_service, read_body},
    web,
};
use serde::{Deserialize, Serialize};
use session::{
    Session, SessionGetError, SessionMiddleware, session,
    storage::{CookieSessionStore, MemorySessionStore, SessionStore},
};

/// Who is logged in.
#[session(prefix = "auth")]
pub struct Auth {
    /// The logged-in user's id.
    #[session(key = "uid")]
    pub user_id: Option<u64>,
    /// The user's roles; none until granted.
    #[session(default)]
    pub roles: Vec<String>,
    /// The access level, 1 until raised.
    #[session(default = "first_level")]
    pub level: u32,
    /// A value that is only read and written by this module.
    note: Note,
}

/// A structured session value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    text: String,
    pinned: bool,
}

fn first_level() -> u32 {
    1
}

/// A struct without a prefix, with a raw identifier.
#[session]
pub struct Flash {
    /// The message shown on the next page.
    pub message: String,
    /// A field named with a keyword.
    pub r#type: Option<String>,
}

#[test]
fn key_constants_hold_the_full_keys() {
    assert_eq!(Auth::USER_ID_KEY, "auth.uid");
    assert_eq!(Auth::ROLES_KEY, "auth.roles");
    assert_eq!(Auth::LEVEL_KEY, "auth.level");
    assert_eq!(Auth::NOTE_KEY, "auth.note");
    assert_eq!(Flash::MESSAGE_KEY, "message");
    assert_eq!(Flash::TYPE_KEY, "type");
}

#[test]
fn handles_are_clone_debug_send_sync() {
    fn assert_traits<T: Clone + std::fmt::Debug + Send + Sync + 'static>() {}
    assert_traits::<Auth>();
    assert_traits::<Flash>();

    let auth = Auth::from(Session::new());
    auth.set_level(3).unwrap();
    let copy = auth.clone();
    assert_eq!(copy.level().unwrap(), 3);
    let debug = format!("{auth:?}");
    assert!(debug.starts_with("Auth { session: Session"), "{debug}");
    assert!(debug.contains("auth.level"), "{debug}");
}

#[test]
fn getters_setters_and_removers() {
    let session = Session::new();
    let auth = Auth::from_session(&session);

    assert_eq!(auth.user_id().unwrap(), None);
    assert_eq!(auth.roles().unwrap(), Vec::<String>::new());
    assert_eq!(auth.level().unwrap(), 1);
    assert_eq!(auth.note().unwrap(), None);

    auth.set_user_id(42).unwrap();
    auth.set_roles(vec!["admin".to_owned()]).unwrap();
    auth.set_level(7).unwrap();
    let note = Note {
        text: "hi".to_owned(),
        pinned: true,
    };
    auth.set_note(note.clone()).unwrap();

    assert_eq!(auth.user_id().unwrap(), Some(42));
    assert_eq!(auth.roles().unwrap(), vec!["admin".to_owned()]);
    assert_eq!(auth.level().unwrap(), 7);
    assert_eq!(auth.note().unwrap(), Some(note.clone()));

    assert_eq!(auth.remove_user_id().unwrap(), Some(42));
    assert_eq!(auth.remove_user_id().unwrap(), None);
    assert_eq!(auth.remove_level().unwrap(), Some(7));
    assert_eq!(auth.level().unwrap(), 1);
    assert_eq!(auth.remove_note().unwrap(), Some(note));
    assert!(std::ptr::eq(auth.session(), auth.session()));
    assert_eq!(session.entries().len(), 1, "only the roles are left");
}

#[test]
fn typed_and_untyped_access_agree() {
    let session = Session::new();
    let auth = Auth::from_session(&session);
    auth.set_user_id(7).unwrap();
    assert_eq!(session.get::<u64>("auth.uid").unwrap(), Some(7));

    session.insert(Auth::LEVEL_KEY, 9_u32).unwrap();
    assert_eq!(auth.level().unwrap(), 9);

    let flash = Flash::from(session.clone());
    flash.set_type("warning".to_owned()).unwrap();
    assert_eq!(
        session.get::<String>("type").unwrap().as_deref(),
        Some("warning")
    );
    assert_eq!(flash.r#type().unwrap().as_deref(), Some("warning"));
    assert_eq!(flash.remove_type().unwrap().as_deref(), Some("warning"));
    assert!(!session.contains_key("type"));
}

#[test]
fn wrong_stored_types_are_errors_naming_the_key() {
    let session = Session::new();
    session.insert("auth.uid", "not a number").unwrap();
    session.insert("auth.level", -1).unwrap();
    let auth = Auth::from_session(&session);

    let err: SessionGetError = auth.user_id().unwrap_err();
    assert_eq!(err.key(), "auth.uid");
    assert_eq!(auth.level().unwrap_err().key(), "auth.level");

    // Removing a bad value reports it and still removes it.
    assert_eq!(auth.remove_user_id().unwrap_err().key(), "auth.uid");
    assert!(!session.contains_key("auth.uid"));
    assert_eq!(auth.user_id().unwrap(), None);
}

#[actix_web::test]
async fn extracts_the_request_session() {
    let req = TestRequest::default().to_http_request();
    let auth = Auth::extract(&req).await.unwrap();
    auth.set_user_id(5).unwrap();
    let session = Session::extract(&req).await.unwrap();
    assert_eq!(session.get::<u64>(Auth::USER_ID_KEY).unwrap(), Some(5));
    assert_eq!(
        Auth::extract(&req).await.unwrap().user_id().unwrap(),
        Some(5)
    );
}

async fn login(auth: Auth) -> actix_web::Result<HttpResponse> {
    auth.set_user_id(42)?;
    auth.set_roles(vec!["reader".to_owned()])?;
    auth.session().renew();
    Ok(HttpResponse::Ok().finish())
}

async fn whoami(auth: Auth, session: Session) -> actix_web::Result<HttpResponse> {
    // Both views of the same state.
    assert_eq!(auth.user_id()?, session.get::<u64>(Auth::USER_ID_KEY)?);
    Ok(HttpResponse::Ok().body(format!(
        "{:?} {:?} {}",
        auth.user_id()?,
        auth.roles()?,
        auth.level()?
    )))
}

async fn promote(session: Session) -> actix_web::Result<HttpResponse> {
    // Written untyped, read typed on the next request.
    session.insert("auth.level", 5_u32)?;
    session.update_or("auth.roles", Vec::<String>::new(), |mut roles| {
        roles.push("admin".to_owned());
        roles
    })?;
    Ok(HttpResponse::Ok().finish())
}

async fn forget(auth: Auth) -> actix_web::Result<HttpResponse> {
    let removed = auth.remove_user_id()?;
    Ok(HttpResponse::Ok().body(format!("{removed:?}")))
}

async fn logout(auth: Auth) -> HttpResponse {
    auth.session().purge();
    HttpResponse::Ok().finish()
}

fn app<S: SessionStore + 'static>(
    store: S,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .wrap(SessionMiddleware::new(store, Key::from(&[7; 64])))
        .route("/login", web::post().to(login))
        .route("/whoami", web::get().to(whoami))
        .route("/promote", web::post().to(promote))
        .route("/forget", web::post().to(forget))
        .route("/logout", web::post().to(logout))
}

/// Runs login, read, change, remove, renew and purge; `revocable` stores also forget the
/// cookies that a renewal or a purge replaced.
async fn round_trip<S: SessionStore + 'static>(store: S, revocable: bool) {
    let app = init_service(app(store)).await;

    let call = |path: &'static str, post: bool, cookie: Option<Cookie<'static>>| {
        let mut req = if post {
            TestRequest::post()
        } else {
            TestRequest::get()
        }
        .uri(path);
        if let Some(cookie) = cookie {
            req = req.cookie(cookie);
        }
        req.to_request()
    };
    let session_cookie = |res: &ServiceResponse<_>| {
        res.response()
            .cookies()
            .find(|cookie| cookie.name() == "id")
            .map(Cookie::into_owned)
    };

    // Nothing stored yet: defaults.
    let res = call_service(&app, call("/whoami", false, None)).await;
    assert!(
        session_cookie(&res).is_none(),
        "an empty session sends no cookie"
    );
    assert_eq!(read_body(res).await, "None [] 1");

    // Login: typed writes, then a renewal.
    let pre_login = {
        let res = call_service(&app, call("/promote", true, None)).await;
        session_cookie(&res).expect("a session was started")
    };
    let res = call_service(&app, call("/login", true, Some(pre_login.clone()))).await;
    assert!(res.status().is_success());
    let cookie = session_cookie(&res).expect("login sets the cookie");
    assert_ne!(cookie.value(), pre_login.value(), "renewed");
    if revocable {
        let res = call_service(&app, call("/whoami", false, Some(pre_login))).await;
        assert_eq!(read_body(res).await, "None [] 1", "the old key is gone");
    }

    // Read: the typed and untyped values written before the renewal survived it.
    let res = call_service(&app, call("/whoami", false, Some(cookie.clone()))).await;
    assert_eq!(read_body(res).await, r#"Some(42) ["reader"] 5"#);

    // Change through the untyped API, read through the typed one.
    let res = call_service(&app, call("/promote", true, Some(cookie.clone()))).await;
    let cookie = session_cookie(&res).unwrap_or(cookie);
    let res = call_service(&app, call("/whoami", false, Some(cookie.clone()))).await;
    assert_eq!(read_body(res).await, r#"Some(42) ["reader", "admin"] 5"#);

    // Remove.
    let res = call_service(&app, call("/forget", true, Some(cookie.clone()))).await;
    let cookie_after = session_cookie(&res).unwrap_or_else(|| cookie.clone());
    assert_eq!(read_body(res).await, "Some(42)");
    let res = call_service(&app, call("/whoami", false, Some(cookie_after.clone()))).await;
    assert_eq!(read_body(res).await, r#"None ["reader", "admin"] 5"#);

    // Purge: a removal cookie, and (where the store can) the old cookie is dead.
    let res = call_service(&app, call("/logout", true, Some(cookie_after.clone()))).await;
    let removal = session_cookie(&res).expect("purge sends a removal cookie");
    assert_eq!(removal.value(), "");
    assert_eq!(
        removal.max_age(),
        Some(actix_web::cookie::time::Duration::ZERO)
    );
    if revocable {
        let res = call_service(&app, call("/whoami", false, Some(cookie_after))).await;
        assert_eq!(read_body(res).await, "None [] 1");
    }
}

#[actix_web::test]
async fn round_trip_through_the_memory_store() {
    round_trip(MemorySessionStore::new(), true).await;
}

#[actix_web::test]
async fn round_trip_through_the_cookie_store() {
    round_trip(CookieSessionStore::default(), false).await;
}

/// A typed session whose `user_id` names the session's owner.
#[session]
pub struct SignedIn {
    /// The signed-in user; setting it binds the session to them.
    #[session(owner)]
    pub user_id: Option<u64>,
}

/// Setting a `#[session(owner)]` field binds the stored session: the next request sees the
/// owner and a public id, and the owner's list holds the session.
#[actix_web::test]
async fn an_owner_field_binds_the_session_through_the_middleware() {
    let app = init_service(
        App::new()
            .wrap(SessionMiddleware::new(
                MemorySessionStore::new(),
                Key::generate(),
            ))
            .route(
                "/login",
                web::post().to(|signed_in: SignedIn| async move {
                    signed_in.set_user_id(42).unwrap();
                    HttpResponse::Ok().finish()
                }),
            )
            .route(
                "/whoami",
                web::get().to(|session: Session| async move {
                    let listed = session.owner_sessions().await.unwrap_or_default();
                    let listed_current = listed
                        .first()
                        .is_some_and(|info| Some(&info.public_id) == session.public_id().as_ref());
                    HttpResponse::Ok().body(format!(
                        "{:?} {} {listed_current}",
                        session.owner(),
                        listed.len(),
                    ))
                }),
            ),
    )
    .await;
    let res = call_service(&app, TestRequest::post().uri("/login").to_request()).await;
    let cookie = res
        .response()
        .cookies()
        .next()
        .map(Cookie::into_owned)
        .unwrap();
    let req = TestRequest::get()
        .uri("/whoami")
        .cookie(cookie)
        .to_request();
    let body = read_body(call_service(&app, req).await).await;
    assert_eq!(body, "Some(\"42\") 1 true");
}
