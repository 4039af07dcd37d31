//! HTTP helpers shared by the middleware tests: the cookies a response sets, and one request
//! sent with the body read back.
#![allow(dead_code)]

use actix_web::{
    body::MessageBody,
    cookie::Cookie,
    dev::{Service, ServiceResponse},
    test,
};

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

/// Sends `req` through `app`; returns the session cookie the response sets and its body.
pub(crate) async fn call<S, B>(
    app: &S,
    req: actix_http::Request,
) -> (Option<Cookie<'static>>, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = app.call(req).await.expect("the middleware answers");
    let cookie = cookie_of(&res);
    let body = test::read_body(res).await;
    (cookie, String::from_utf8_lossy(&body).into_owned())
}
