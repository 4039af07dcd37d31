//! What the scenarios share: the handlers of the test apps, one-line requests through the
//! middleware, the cookies a response sets, and [`OrFail`] for steps that must not fail.

use std::fmt::Display;

use actix_web::{
    App, HttpResponse,
    body::MessageBody,
    cookie::Cookie,
    dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse},
    http::{Method, header::SET_COOKIE},
    test::{self, TestRequest},
    web::{self, Bytes},
};
use serde::{Deserialize, Serialize};

use crate::{Session, SessionMiddleware, storage::SessionStore};

/// Turns the error of a step that must succeed into a panic that says which step failed and
/// why, instead of a `unwrap_or_else(|e| panic!(..))` at every step.
pub(super) trait OrFail<T> {
    /// The value, or a panic with `what` was being done and the error.
    fn or_fail(self, what: impl Display) -> T;
}

impl<T, E: Display> OrFail<T> for Result<T, E> {
    #[track_caller]
    fn or_fail(self, what: impl Display) -> T {
        match self {
            Ok(value) => value,
            Err(err) => panic!("{what}: {err}"),
        }
    }
}

/// An app under test: requests in one line, each failing the scenario if the middleware
/// fails.
pub(super) trait TestApp {
    /// The body of the app's responses.
    type Body: MessageBody;

    /// Sends `method uri`, with `cookie` if given.
    async fn send(
        &self,
        method: Method,
        uri: &str,
        cookie: Option<&Cookie<'static>>,
    ) -> ServiceResponse<Self::Body>;

    /// Sends `GET uri`, with `cookie` if given.
    async fn get(
        &self,
        uri: &str,
        cookie: Option<&Cookie<'static>>,
    ) -> ServiceResponse<Self::Body> {
        self.send(Method::GET, uri, cookie).await
    }

    /// Sends `POST uri`, with `cookie` if given.
    async fn post(
        &self,
        uri: &str,
        cookie: Option<&Cookie<'static>>,
    ) -> ServiceResponse<Self::Body> {
        self.send(Method::POST, uri, cookie).await
    }
}

/// Initializes `app` as a service, the way `actix_web::test::init_service` does.
pub(super) async fn init_app<T, B>(app: App<T>) -> impl TestApp
where
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: MessageBody,
{
    Initialized {
        service: test::init_service(app).await,
        to_request: TestRequest::to_request,
    }
}

/// The counter app behind `middleware`: `POST /write` adds one to the counter, `GET /read`
/// answers it, `GET /untouched` leaves the session alone.
pub(super) async fn counter_app<Store>(middleware: SessionMiddleware<Store>) -> impl TestApp
where
    Store: SessionStore + 'static,
{
    init_app(
        App::new()
            .wrap(middleware)
            .route("/write", web::post().to(insert_counter))
            .route("/read", web::get().to(read_counter))
            .route("/untouched", web::get().to(|| async { "untouched" })),
    )
    .await
}

/// An initialized app. `to_request` names the request type the service takes, which this
/// crate cannot name itself (it is `actix-http`'s).
struct Initialized<S, R> {
    service: S,
    to_request: fn(TestRequest) -> R,
}

impl<S, R, B> TestApp for Initialized<S, R>
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    type Body = B;

    async fn send(
        &self,
        method: Method,
        uri: &str,
        cookie: Option<&Cookie<'static>>,
    ) -> ServiceResponse<B> {
        let mut request = TestRequest::default().method(method.clone()).uri(uri);
        if let Some(cookie) = cookie {
            request = request.cookie(cookie.clone());
        }
        self.service
            .call((self.to_request)(request))
            .await
            .or_fail(format_args!("{method} {uri}"))
    }
}

/// The cookie `name` that `res` sets, if any.
pub(super) fn session_cookie<B>(res: &ServiceResponse<B>, name: &str) -> Option<Cookie<'static>> {
    res.response()
        .cookies()
        .find(|cookie| cookie.name() == name)
        .map(Cookie::into_owned)
}

/// The cookie `name` that a response from a real HTTP server sets, if any.
pub(super) fn client_cookie<S>(
    res: &actix_test::ClientResponse<S>,
    name: &str,
) -> Option<Cookie<'static>> {
    res.cookies()
        .ok()?
        .iter()
        .find(|cookie| cookie.name() == name)
        .cloned()
}

/// How many `Set-Cookie` headers `res` carries.
pub(super) fn set_cookie_count<B>(res: &ServiceResponse<B>) -> usize {
    res.headers().get_all(SET_COOKIE).count()
}

/// The body of `res`, as text.
pub(super) async fn body_of<B: MessageBody>(res: ServiceResponse<B>) -> String {
    let bytes: Bytes = test::read_body(res).await;
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The [`Snapshot`] that `res` answers.
pub(super) async fn snapshot_of<B: MessageBody>(res: ServiceResponse<B>) -> Snapshot {
    test::read_body_json(res).await
}

/// Adds one to the session's `counter` and answers the new value.
pub(super) async fn insert_counter(session: Session) -> HttpResponse {
    let counter = session.get::<u32>("counter").ok().flatten().unwrap_or(0) + 1;
    match session.insert("counter", counter) {
        Ok(()) => HttpResponse::Ok().body(counter.to_string()),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// Answers the session's `counter`, or `none`.
pub(super) async fn read_counter(session: Session) -> HttpResponse {
    match session.get::<u32>("counter") {
        Ok(value) => {
            HttpResponse::Ok().body(value.map_or_else(|| "none".to_owned(), |v| v.to_string()))
        }
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// What `/show` answers: the logged-in user and the counter.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub(super) struct Snapshot {
    pub(super) user: Option<String>,
    pub(super) counter: u32,
}

impl Snapshot {
    /// A session that holds nothing (or one the store forgot).
    pub(super) const EMPTY: Self = Self {
        user: None,
        counter: 0,
    };

    /// `user` logged in, with `counter`.
    pub(super) fn of(user: &str, counter: u32) -> Self {
        Self {
            user: Some(user.to_owned()),
            counter,
        }
    }

    fn read(session: &Session) -> Self {
        Self {
            user: session.get("user").ok().flatten(),
            counter: session.get("counter").ok().flatten().unwrap_or(0),
        }
    }
}

/// Renews the session and logs `user` in; answers the [`Snapshot`].
pub(super) async fn login(session: Session, user: web::Path<String>) -> HttpResponse {
    session.renew();
    match session.insert("user", user.into_inner()) {
        Ok(()) => HttpResponse::Ok().json(Snapshot::read(&session)),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// Purges the session.
pub(super) async fn logout(session: Session) -> HttpResponse {
    session.purge();
    HttpResponse::Ok().finish()
}

/// Answers the [`Snapshot`].
pub(super) async fn show(session: Session) -> HttpResponse {
    HttpResponse::Ok().json(Snapshot::read(&session))
}

/// Marks the session `started`, which creates it.
pub(super) async fn start(session: Session) -> HttpResponse {
    match session.insert("started", true) {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// Reads the session, waits, then writes: the window in which other requests save.
pub(super) async fn slow_set(session: Session, path: web::Path<(String, String)>) -> HttpResponse {
    let (name, value) = path.into_inner();
    let seen = session.entries().len();
    actix_web::rt::time::sleep(std::time::Duration::from_millis(150)).await;
    match session.insert(name, value) {
        Ok(()) => HttpResponse::Ok().body(seen.to_string()),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// Answers every entry of the session, as a JSON object.
pub(super) async fn keys(session: Session) -> HttpResponse {
    HttpResponse::Ok().json(&*session.entries())
}

/// Renews the session.
pub(super) async fn renew(session: Session) -> HttpResponse {
    session.renew();
    HttpResponse::Ok().finish()
}
