//! The session token in a request header: the conformance suite on the stores that need no
//! server, hostile tokens, the rules of `CookieOrHeader`, limits and logs.

mod support;

use session::{
    storage::{CookieSessionStore, MemorySessionStore},
    test_helpers::header_transport_test_suite,
};

#[actix_web::test]
async fn memory_store_passes_the_header_transport_suite() {
    let store = MemorySessionStore::new();
    header_transport_test_suite(move || store.clone(), true).await;
}

#[actix_web::test]
async fn cookie_store_passes_the_header_transport_suite() {
    header_transport_test_suite(CookieSessionStore::default, false).await;
}

use actix_http::Request;
use actix_web::{
    App, HttpResponse,
    body::MessageBody,
    cookie::{Cookie, Key},
    dev::{Service, ServiceResponse},
    http::header::{self, HeaderName, HeaderValue},
    test, web,
};
use session::{
    CookieContentSecurity, Session, SessionMiddleware,
    config::{SESSION_TOKEN_HEADER, SessionTransport},
    storage::SessionStore,
};
use support::{
    logs::logs_of,
    user_app::{broken_variants, user_app},
};

/// What a response said: status, the token header (`Some("")`: void), `Set-Cookie`, `Vary`,
/// the body.
struct Reply {
    status: u16,
    token: Option<String>,
    cookie: Option<Cookie<'static>>,
    vary: String,
    body: String,
}

async fn call<S, B>(app: &S, req: Request, response_header: &str) -> Reply
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = app
        .call(req)
        .await
        .expect("the middleware answers, never fails");
    let token = res
        .headers()
        .get(response_header)
        .map(|v| v.to_str().expect("a token is text").to_owned());
    let cookie = res
        .response()
        .cookies()
        .find(|c| c.name() == "id")
        .map(Cookie::into_owned);
    let vary = res
        .headers()
        .get_all(header::VARY)
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ")
        .to_ascii_lowercase();
    let status = res.status().as_u16();
    let body = String::from_utf8_lossy(&test::read_body(res).await).into_owned();
    Reply {
        status,
        token,
        cookie,
        vary,
        body,
    }
}

/// `uri` with `name: value` (bytes as sent) and, if given, the `Cookie` header `cookie`.
fn request(
    post: bool,
    uri: &str,
    header: Option<(&HeaderName, &[u8])>,
    cookie: Option<&str>,
) -> Request {
    let mut builder = if post {
        test::TestRequest::post()
    } else {
        test::TestRequest::get()
    }
    .uri(uri);
    if let Some((name, value)) = header {
        let value = HeaderValue::from_bytes(value).expect("opaque header bytes are allowed");
        builder = builder.insert_header((name.clone(), value));
    }
    if let Some(cookie) = cookie {
        builder = builder.insert_header((header::COOKIE, format!("id={cookie}")));
    }
    builder.to_request()
}

/// The request header's value for `token`: `Bearer <token>` for `Authorization`.
fn sent(name: &HeaderName, token: &[u8]) -> Vec<u8> {
    if *name == header::AUTHORIZATION {
        [b"Bearer ".as_slice(), token].concat()
    } else {
        token.to_vec()
    }
}

fn response_header_for(name: &HeaderName) -> &str {
    if *name == header::AUTHORIZATION {
        SESSION_TOKEN_HEADER
    } else {
        name.as_str()
    }
}

async fn hostile_tokens_give_a_fresh_session<S, F>(make_store: F, security: CookieContentSecurity)
where
    S: SessionStore + 'static,
    F: Fn() -> S,
{
    for name in [
        header::AUTHORIZATION,
        HeaderName::from_static("x-session-token"),
    ] {
        let reply_header = response_header_for(&name);
        let transport = SessionTransport::Header(name.clone());
        let app = user_app(make_store(), Key::generate(), security, transport.clone()).await;
        let valid = call(&app, request(true, "/write", None, None), reply_header)
            .await
            .token
            .expect("a token");
        let reply = call(
            &app,
            request(
                false,
                "/read",
                Some((&name, &sent(&name, valid.as_bytes()))),
                None,
            ),
            reply_header,
        )
        .await;
        assert_eq!(reply.body, "ferris", "the valid token works");

        let mut variants = broken_variants(&valid);
        if name == header::AUTHORIZATION {
            variants.push(("basic scheme", format!("Basic {valid}").into_bytes()));
            variants.push(("two spaces", format!(" {valid}").into_bytes()));
        }
        for (label, bad) in variants {
            let value = sent(&name, &bad);
            let value = match label {
                "basic scheme" => bad.clone(),
                _ => value,
            };
            let header = Some((&name, value.as_slice()));
            let reply = call(&app, request(false, "/read", header, None), reply_header).await;
            assert_eq!(reply.status, 200, "{label}: never a 500");
            assert_eq!(reply.body, "anonymous", "{label}: a fresh session");
            assert_eq!(reply.token, None, "{label}: reading sends no token");

            let reply = call(&app, request(true, "/write", header, None), reply_header).await;
            let issued = reply.token.expect("a new token");
            assert!(
                !issued.is_empty() && issued.as_bytes() != bad.as_slice(),
                "{label}: no client-chosen token"
            );

            let reply = call(&app, request(true, "/logout", header, None), reply_header).await;
            assert_eq!(
                reply.token.as_deref(),
                Some(""),
                "{label}: logout voids the token"
            );
        }

        // A token sealed under another key is not accepted.
        let foreign = user_app(make_store(), Key::generate(), security, transport).await;
        let foreign = call(&foreign, request(true, "/write", None, None), reply_header)
            .await
            .token
            .expect("a token");
        let reply = call(
            &app,
            request(
                false,
                "/read",
                Some((&name, &sent(&name, foreign.as_bytes()))),
                None,
            ),
            reply_header,
        )
        .await;
        assert_eq!(reply.body, "anonymous", "wrong key: a fresh session");
    }
}

#[actix_web::test]
async fn hostile_tokens_give_a_fresh_session_on_the_memory_store() {
    let store = MemorySessionStore::new();
    for security in [
        CookieContentSecurity::Private,
        CookieContentSecurity::Signed,
    ] {
        hostile_tokens_give_a_fresh_session(|| store.clone(), security).await;
    }
}

#[actix_web::test]
async fn hostile_tokens_give_a_fresh_session_on_the_cookie_store() {
    for security in [
        CookieContentSecurity::Private,
        CookieContentSecurity::Signed,
    ] {
        hostile_tokens_give_a_fresh_session(CookieSessionStore::default, security).await;
    }
}

#[actix_web::test]
async fn cookie_or_header_never_mixes_two_sessions() {
    let name = header::AUTHORIZATION;
    let app = user_app(
        MemorySessionStore::new(),
        Key::generate(),
        CookieContentSecurity::Private,
        SessionTransport::CookieOrHeader(name.clone()),
    )
    .await;

    // A request with neither gets both: the cookie and the token header.
    let first = call(
        &app,
        request(true, "/write", None, None),
        SESSION_TOKEN_HEADER,
    )
    .await;
    let token = first
        .token
        .expect("a token header for a request with neither");
    let cookie = first.cookie.expect("a cookie for a request with neither");
    assert!(
        first.vary.contains("cookie") && first.vary.contains("authorization"),
        "{}",
        first.vary
    );
    let other = call(
        &app,
        request(true, "/write", None, None),
        SESSION_TOKEN_HEADER,
    )
    .await
    .token
    .expect("another session");

    let bearer = |token: &str| format!("Bearer {token}").into_bytes();
    // Each channel alone opens its session, and is answered on that channel only.
    let reply = call(
        &app,
        request(true, "/write", Some((&name, &bearer(&token))), None),
        SESSION_TOKEN_HEADER,
    )
    .await;
    assert_eq!(
        (reply.token.is_some(), reply.cookie.is_some()),
        (true, false),
        "header in, header out"
    );
    assert!(
        reply.vary.contains("cookie") && reply.vary.contains("authorization"),
        "{}",
        reply.vary
    );
    let reply = call(
        &app,
        request(true, "/write", None, Some(cookie.value())),
        SESSION_TOKEN_HEADER,
    )
    .await;
    assert_eq!(
        (reply.token.is_some(), reply.cookie.is_some()),
        (false, true),
        "cookie in, cookie out"
    );

    // Both naming the same session: that session.
    let same = call(
        &app,
        request(
            false,
            "/read",
            Some((&name, &bearer(&token))),
            Some(cookie.value()),
        ),
        SESSION_TOKEN_HEADER,
    )
    .await;
    assert_eq!(same.body, "ferris");
    assert_eq!(
        (same.token, same.cookie),
        (None, None),
        "nothing changed, nothing sent"
    );

    // Both present and different, or one broken: a fresh session, answered on both.
    for header_token in [other.as_str(), "garbage"] {
        let reply = call(
            &app,
            request(
                false,
                "/read",
                Some((&name, &bearer(header_token))),
                Some(cookie.value()),
            ),
            SESSION_TOKEN_HEADER,
        )
        .await;
        assert_eq!(reply.body, "anonymous", "{header_token}: never mixed");
        let reply = call(
            &app,
            request(
                true,
                "/write",
                Some((&name, &bearer(header_token))),
                Some(cookie.value()),
            ),
            SESSION_TOKEN_HEADER,
        )
        .await;
        let (issued, set) = (reply.token.expect("token"), reply.cookie.expect("cookie"));
        assert!(issued != token && issued != other, "a brand-new session");
        assert!(set.value() != cookie.value());
    }
}

#[core::prelude::v1::test]
fn tokens_never_reach_the_logs() {
    let name = header::AUTHORIZATION;
    let mut token = String::new();
    let logs = logs_of(|| {
        actix_web::rt::System::new().block_on(async {
            let transport = SessionTransport::CookieOrHeader(name.clone());
            let app = user_app(
                MemorySessionStore::new(),
                Key::generate(),
                CookieContentSecurity::Signed,
                transport,
            )
            .await;
            let first = call(
                &app,
                request(true, "/write", None, None),
                SESSION_TOKEN_HEADER,
            )
            .await;
            token = first.token.expect("a token");
            let cookie = first.cookie.expect("a cookie");
            // Log-worthy events: a tampered token, a cookie and a token that disagree.
            let tampered = format!("Bearer {token}x").into_bytes();
            let _ = call(
                &app,
                request(false, "/read", Some((&name, &tampered)), None),
                SESSION_TOKEN_HEADER,
            )
            .await;
            let _ = call(
                &app,
                request(
                    false,
                    "/read",
                    Some((&name, &tampered)),
                    Some(cookie.value()),
                ),
                SESSION_TOKEN_HEADER,
            )
            .await;
        });
    });
    assert!(
        logs.contains("session token header failed verification"),
        "{logs}"
    );
    assert!(logs.contains("do not name the same session"), "{logs}");
    assert!(!logs.contains(&token), "a token reached the logs: {logs}");
}

#[actix_web::test]
async fn state_too_large_for_a_header_is_refused_loudly() {
    use session::config::MAX_HEADER_TOKEN_LEN;

    let name = HeaderName::from_static("x-session-token");
    let app = test::init_service(
        App::new()
            .wrap(
                SessionMiddleware::builder(CookieSessionStore::default(), Key::generate())
                    .session_transport(SessionTransport::Header(name.clone()))
                    .build(),
            )
            .route(
                "/big/{n}",
                web::post().to(|session: Session, n: web::Path<usize>| async move {
                    let _ = session.insert("blob", "x".repeat(n.into_inner()));
                    HttpResponse::Ok().finish()
                }),
            ),
    )
    .await;
    let small = call(
        &app,
        test::TestRequest::post().uri("/big/100").to_request(),
        name.as_str(),
    )
    .await;
    assert!(small.token.is_some_and(|t| t.len() <= MAX_HEADER_TOKEN_LEN));
    let big = app
        .call(
            test::TestRequest::post()
                .uri(&format!("/big/{MAX_HEADER_TOKEN_LEN}"))
                .to_request(),
        )
        .await;
    let (status, token) = match big {
        Ok(res) => (res.status().as_u16(), res.headers().get(&name).cloned()),
        Err(err) => (err.error_response().status().as_u16(), None),
    };
    assert_eq!(status, 500, "never a token the client cannot send back");
    assert_eq!(token, None);
}
