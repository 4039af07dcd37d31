//! The app the hostile-input tests run, on any transport, and the table of broken values
//! they send: `POST /write` signs `ferris` in, `GET /read` answers the user (`anonymous`
//! for a fresh session), `POST /logout` purges.

use actix_http::Request;
use actix_web::{
    App, HttpResponse,
    body::MessageBody,
    cookie::Key,
    dev::{Service, ServiceResponse},
    test, web,
};
use session::{
    CookieContentSecurity, Session, SessionMiddleware, config::SessionTransport,
    storage::SessionStore,
};

use super::handlers::purge;

async fn write(session: Session) -> HttpResponse {
    session.insert("user", "ferris").map_or_else(
        |_| HttpResponse::InternalServerError().finish(),
        |()| HttpResponse::Ok().finish(),
    )
}

async fn read(session: Session) -> HttpResponse {
    let user: Option<String> = session.get("user").ok().flatten();
    HttpResponse::Ok().body(user.unwrap_or_else(|| "anonymous".to_owned()))
}

/// The app over `store`, sealing with `key` and `security`, reading the token as `transport`
/// says.
pub(crate) async fn user_app<S: SessionStore + 'static>(
    store: S,
    key: Key,
    security: CookieContentSecurity,
    transport: SessionTransport,
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
    test::init_service(
        App::new()
            .wrap(
                SessionMiddleware::builder(store, key)
                    .cookie_content_security(security)
                    .session_transport(transport)
                    .build(),
            )
            .route("/write", web::post().to(write))
            .route("/read", web::get().to(read))
            .route("/logout", web::post().to(purge)),
    )
    .await
}

/// Broken variants of a valid sealed value (a cookie value or a header token), each named.
pub(crate) fn broken_variants(value: &str) -> Vec<(&'static str, Vec<u8>)> {
    let mut tampered = value.as_bytes().to_vec();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    vec![
        ("tampered", tampered),
        ("truncated", value.as_bytes()[..value.len() - 5].to_vec()),
        ("empty", Vec::new()),
        ("garbage", b"not-a-session-value".to_vec()),
        ("oversize", vec![b'A'; 8 * 1024]),
        ("bad percent escape", format!("{value}%zz").into_bytes()),
        ("non-UTF-8", [value.as_bytes(), &[0xff, 0xfe]].concat()),
    ]
}
