//! Requests through the middleware in one line, and the cookies a response sets.

use actix_http::Request;
use actix_web::{
    body::MessageBody,
    cookie::Cookie,
    dev::{Service, ServiceResponse},
    test::{self, TestRequest},
};

/// `GET uri`, with `cookie` if given.
pub(crate) fn get(uri: &str, cookie: Option<&Cookie<'static>>) -> Request {
    with_cookie(TestRequest::get().uri(uri), cookie)
}

/// `POST uri`, with `cookie` if given.
pub(crate) fn post(uri: &str, cookie: Option<&Cookie<'static>>) -> Request {
    with_cookie(TestRequest::post().uri(uri), cookie)
}

fn with_cookie(request: TestRequest, cookie: Option<&Cookie<'static>>) -> Request {
    match cookie {
        Some(cookie) => request.cookie(cookie.clone()),
        None => request,
    }
    .to_request()
}

/// The cookie `name` that `res` sets, if any.
pub(crate) fn cookie_named<B>(res: &ServiceResponse<B>, name: &str) -> Option<Cookie<'static>> {
    res.response()
        .cookies()
        .find(|cookie| cookie.name() == name)
        .map(Cookie::into_owned)
}

/// The session cookie (the default name, `id`) that `res` sets, if any.
pub(crate) fn cookie_of<B>(res: &ServiceResponse<B>) -> Option<Cookie<'static>> {
    cookie_named(res, "id")
}

/// Sends `req` through `app` and returns the response; the middleware must answer.
pub(crate) async fn send<S, B>(app: &S, req: Request) -> ServiceResponse<B>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    app.call(req).await.expect("the middleware answers")
}

/// Sends `req` through `app`; returns the session cookie the response sets and its body.
pub(crate) async fn call<S, B>(app: &S, req: Request) -> (Option<Cookie<'static>>, String)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = send(app, req).await;
    let cookie = cookie_of(&res);
    let body = test::read_body(res).await;
    (cookie, String::from_utf8_lossy(&body).into_owned())
}
