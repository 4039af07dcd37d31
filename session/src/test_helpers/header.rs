//! The session lifecycle with the token in a request header instead of a cookie, over real
//! HTTP with a client that keeps no cookies; one function per promise.
//!
//! [`header_transport_test_suite`](super::header_transport_test_suite) runs every function
//! here with `Signed` and `Private` tokens, once with `Authorization: Bearer <token>` (new
//! tokens in `Session-Token`) and once with a header of the app's own
//! ([`CUSTOM_HEADER`]). Each also runs on its own:
//!
//! ```no_run
//! use actix_web::http::header;
//! use session::{
//!     config::CookieContentSecurity, storage::MemorySessionStore, test_helpers::header as suite,
//! };
//!
//! #[actix_web::test]
//! async fn my_store_works_over_a_bearer_token() {
//!     let store = MemorySessionStore::new();
//!     let security = CookieContentSecurity::Private;
//!     suite::the_lifecycle_works_over_a_header(
//!         move || store.clone(),
//!         true,
//!         security,
//!         header::AUTHORIZATION,
//!     )
//!     .await;
//! }
//! ```

use actix_web::{
    App,
    cookie::time::Duration,
    http::{
        Method,
        header::{self, HeaderName},
    },
    web,
};

use super::{
    app::{OrFail as _, Snapshot, insert_counter, login, logout, read_counter, show},
    key,
};
use crate::{
    SessionMiddleware,
    config::{
        CookieContentSecurity, PersistentSession, SESSION_TOKEN_HEADER, SessionTransport,
        TtlExtensionPolicy,
    },
    storage::SessionStore,
};

/// The header of the app's own the suite uses beside `Authorization`.
pub const CUSTOM_HEADER: &str = "x-session-token";

/// What a response said, as a client that keeps no cookies sees it.
#[derive(Debug)]
struct Reply {
    status: u16,
    /// The response header carrying tokens: `None` if absent, `Some("")` for "void".
    token: Option<String>,
    set_cookie: bool,
    vary: Vec<String>,
    body: String,
}

/// A real HTTP server and the header it reads tokens from.
struct Server {
    server: actix_test::TestServer,
    request: HeaderName,
    response: HeaderName,
}

impl Server {
    /// A server whose app routes `POST /count`, `GET /read`, `POST /login/{user}`,
    /// `POST /logout`, `GET /show` and `GET /untouched`, behind `middleware(store)`.
    fn start<F, Store, M>(store_builder: F, request: HeaderName, middleware: M) -> Self
    where
        Store: SessionStore + 'static,
        F: Fn() -> Store + Clone + Send + 'static,
        M: Fn(Store) -> SessionMiddleware<Store> + Clone + Send + 'static,
    {
        let response = if request == header::AUTHORIZATION {
            HeaderName::from_static(SESSION_TOKEN_HEADER)
        } else {
            request.clone()
        };
        let server = actix_test::start(move || {
            App::new()
                .wrap(middleware(store_builder()))
                .route("/count", web::post().to(insert_counter))
                .route("/read", web::get().to(read_counter))
                .route("/login/{user}", web::post().to(login))
                .route("/logout", web::post().to(logout))
                .route("/show", web::get().to(show))
                .route("/untouched", web::get().to(|| async { "untouched" }))
        });
        Self {
            server,
            request,
            response,
        }
    }

    /// Sends `method path` with `token` in the request header (as `Bearer <token>` for
    /// `Authorization`), and no cookie.
    async fn send(&self, method: Method, path: &str, token: Option<&str>) -> Reply {
        let mut request = self.server.request(method.clone(), self.server.url(path));
        if let Some(token) = token {
            let value = if self.request == header::AUTHORIZATION {
                format!("Bearer {token}")
            } else {
                token.to_owned()
            };
            request = request.insert_header((self.request.clone(), value));
        }
        let mut res = request
            .send()
            .await
            .or_fail(format_args!("{method} {path}"));
        let headers = res.headers();
        let token = headers
            .get(&self.response)
            .map(|value| value.to_str().or_fail("the token header").to_owned());
        let set_cookie = headers.contains_key(header::SET_COOKIE);
        let vary = headers
            .get_all(header::VARY)
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|item| item.trim().to_ascii_lowercase())
            .collect();
        let body = res
            .body()
            .await
            .or_fail(format_args!("the body of {method} {path}"));
        Reply {
            status: res.status().as_u16(),
            token,
            set_cookie,
            vary,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    async fn snapshot(&self, token: Option<&str>) -> (Reply, Snapshot) {
        let reply = self.send(Method::GET, "/show", token).await;
        let snapshot = serde_json::from_str(&reply.body).or_fail("the JSON of GET /show");
        (reply, snapshot)
    }
}

/// The whole flow with the token in `header` and no cookie: an empty session sends no
/// token; the first change sends one (no `Set-Cookie`, `Vary` names the header); reading
/// sends none; a change re-sends it; login renews it (a new token, the state kept, the old
/// token dead when `is_invalidation_supported`); logout answers an empty token header (void)
/// and the logged-out token starts nothing (when `is_invalidation_supported`).
pub async fn the_lifecycle_works_over_a_header<F, Store>(
    store_builder: F,
    is_invalidation_supported: bool,
    security: CookieContentSecurity,
    header: HeaderName,
) where
    Store: SessionStore + 'static,
    F: Fn() -> Store + Clone + Send + 'static,
{
    let key = key();
    let transport = SessionTransport::Header(header.clone());
    let srv = Server::start(store_builder, header.clone(), move |store| {
        SessionMiddleware::builder(store, key.clone())
            .cookie_content_security(security)
            .session_transport(transport.clone())
            .build()
    });
    let name = header.as_str().to_owned();

    let (res, state) = srv.snapshot(None).await;
    assert_eq!(res.token, None, "an empty session sends no token");
    assert!(!res.set_cookie, "a header transport sets no cookie");
    assert_eq!(state, Snapshot::EMPTY);

    let res = srv.send(Method::POST, "/count", None).await;
    assert_eq!(res.status, 200);
    let first = res.token.expect("the first change sends a token");
    assert!(!first.is_empty(), "a token, not a void");
    assert!(!res.set_cookie, "a header transport sets no cookie");
    assert!(
        res.vary.contains(&name),
        "Vary names {name}: {:?}",
        res.vary
    );
    if security == CookieContentSecurity::Private {
        assert!(!first.contains("counter"), "private tokens are encrypted");
    }

    let res = srv.send(Method::GET, "/read", Some(&first)).await;
    assert_eq!(res.body, "1", "the token opens the session");
    assert_eq!(
        res.token, None,
        "reading an unchanged session sends no token"
    );
    assert!(
        res.vary.contains(&name),
        "Vary names {name}: {:?}",
        res.vary
    );

    let res = srv.send(Method::POST, "/count", Some(&first)).await;
    assert_eq!(res.body, "2");
    let second = res.token.expect("a change re-sends the token");
    assert!(!second.is_empty());

    let res = srv.send(Method::POST, "/login/ferris", Some(&second)).await;
    let logged_in = res.token.expect("login sends a new token");
    assert!(
        !logged_in.is_empty() && logged_in != second,
        "renew changes the token"
    );
    let (_, state) = srv.snapshot(Some(&logged_in)).await;
    assert_eq!(state, Snapshot::of("ferris", 2), "renew keeps the state");
    let (res, stale) = srv.snapshot(Some(&second)).await;
    if is_invalidation_supported {
        assert_eq!(stale, Snapshot::EMPTY, "the token before login is dead");
        assert_eq!(
            res.token, None,
            "a dead token read is answered with nothing"
        );
    }

    let res = srv.send(Method::POST, "/logout", Some(&logged_in)).await;
    assert_eq!(
        res.token.as_deref(),
        Some(""),
        "logout answers an empty token header: the token is void"
    );
    assert!(!res.set_cookie);

    if is_invalidation_supported {
        let (res, after) = srv.snapshot(Some(&logged_in)).await;
        assert_eq!(after, Snapshot::EMPTY, "the logged-out token is dead");
        assert_eq!(res.token, None, "a logged-out token starts nothing");
        let res = srv.send(Method::POST, "/count", Some(&logged_in)).await;
        assert_eq!(res.body, "1", "writing with it starts from scratch");
        let fresh = res.token.expect("a fresh session gets a token");
        assert_ne!(fresh, logged_in, "never the logged-out token again");
    }
}

/// Responses that leave the session as it was carry no token: a read, a route that does not
/// touch the session, and, for a persistent session extended on every request, a refresh
/// that keeps the token (a cookie would be re-sent for its `Max-Age`; a header client
/// holds its token already). A store whose token changes on refresh (the cookie store) sends
/// the new one, which must open the session.
pub async fn unchanged_sessions_send_no_token<F, Store>(
    store_builder: F,
    security: CookieContentSecurity,
    header: HeaderName,
) where
    Store: SessionStore + 'static,
    F: Fn() -> Store + Clone + Send + 'static,
{
    let key = key();
    let transport = SessionTransport::Header(header.clone());
    let srv = Server::start(store_builder, header, move |store| {
        SessionMiddleware::builder(store, key.clone())
            .cookie_content_security(security)
            .session_transport(transport.clone())
            .session_lifecycle(
                PersistentSession::default()
                    .session_ttl(Duration::days(1))
                    .session_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
            )
            .build()
    });
    let token = srv
        .send(Method::POST, "/count", None)
        .await
        .token
        .expect("a new session sends a token");

    let res = srv.send(Method::GET, "/untouched", Some(&token)).await;
    assert_eq!(res.token, None, "a route that does not touch the session");
    let res = srv.send(Method::GET, "/read", Some(&token)).await;
    assert_eq!(res.body, "1");
    match res.token {
        None => {}
        Some(refreshed) => {
            assert!(!refreshed.is_empty(), "a refresh never voids the token");
            assert_ne!(refreshed, token, "a token is only re-sent when it changed");
            let res = srv.send(Method::GET, "/read", Some(&refreshed)).await;
            assert_eq!(res.body, "1", "the refreshed token opens the session");
        }
    }
}

/// A header transport ignores cookies: a request carrying the session's value as a cookie,
/// as a browser would send it on its own, gets a fresh session (no ambient credential).
pub async fn cookies_are_not_credentials_on_a_header_transport<F, Store>(
    store_builder: F,
    security: CookieContentSecurity,
    header: HeaderName,
) where
    Store: SessionStore + 'static,
    F: Fn() -> Store + Clone + Send + 'static,
{
    let key = key();
    let transport = SessionTransport::Header(header.clone());
    let srv = Server::start(store_builder, header, move |store| {
        SessionMiddleware::builder(store, key.clone())
            .cookie_content_security(security)
            .session_transport(transport.clone())
            .build()
    });
    let token = srv
        .send(Method::POST, "/count", None)
        .await
        .token
        .expect("a new session sends a token");
    let mut res = srv
        .server
        .get("/read")
        .cookie(actix_web::cookie::Cookie::new("id", token))
        .send()
        .await
        .or_fail("GET /read with the token as a cookie");
    let body = res.body().await.or_fail("the body of GET /read");
    assert_eq!(body, "none", "the cookie is not read");
}
