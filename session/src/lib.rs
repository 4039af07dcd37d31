//! Sessions for Actix Web: typed, secure by default, on cookie, in-memory or Redis stores.
//!
//! HTTP is stateless; a *session* lets the server remember a client between requests: who is
//! logged in, what is in the cart, a message to flash on the next page. The client holds a
//! cookie with a *session key*; the server keeps the *session state* (a map of JSON values)
//! in a [store](storage), or, with the cookie store, inside the cookie itself.
//!
//! # Quick start
//! Wrap the app in [`SessionMiddleware`] and describe what your session holds with
//! [`#[session]`](macro@session) — the recommended way: typed accessors instead of string keys
//! and turbofish types.
//! ```no_run
//! use actix_web::{cookie::Key, web, App, HttpServer, Responder};
//! use session::{session, storage::MemorySessionStore, SessionMiddleware};
//!
//! /// What this site remembers about a visitor.
//! #[session]
//! pub struct Visitor {
//!     /// Pages seen so far.
//!     #[session(default)]
//!     pub visits: u32,
//!     /// The signed-in user, if any.
//!     pub user: Option<String>,
//! }
//!
//! async fn visit(visitor: Visitor) -> actix_web::Result<impl Responder> {
//!     let visits = visitor.visits()? + 1;
//!     visitor.set_visits(visits)?;
//!     Ok(format!("visit number {visits}"))
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     // One store for all workers; in production load a fixed 64-byte key (or use
//!     // `session-config`, which reads it from `session.toml` or the environment).
//!     let store = MemorySessionStore::new();
//!     let key = Key::generate();
//!     HttpServer::new(move || {
//!         App::new()
//!             .wrap(SessionMiddleware::new(store.clone(), key.clone()))
//!             .route("/", web::get().to(visit))
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! }
//! ```
//! The untyped [`Session`] extractor works too (`session.get::<u32>("visits")?`,
//! `session.insert("visits", 1)?`), on the same keys.
//!
//! # Choosing a store
//! - [`MemorySessionStore`](storage::MemorySessionStore) (feature `memory-session`, default):
//!   no set-up, fastest, sessions end with the process and are not shared between machines.
//! - [`CookieSessionStore`](storage::CookieSessionStore) (feature `cookie-session`, default):
//!   no server state at all; the state must fit in 4 KiB and a copied cookie cannot be revoked
//!   before its TTL ends.
//! - `RedisSessionStore` (feature `redis-session`): shared by every instance, survives
//!   restarts, standalone Redis or Redis Cluster, with timeouts and retries built in.
//!
//! # Defaults
//! Secure by default and compatible with actix-session 0.11: cookie `id`; `Secure`,
//! `HttpOnly`, `SameSite=Lax`, path `/`, no domain; encrypted (`Private`) content; a browser
//! session whose server-side state expires after one idle day; TTL extended when the state
//! changes; each worker remembers the last 1024 cookie values that verified, so a repeated
//! cookie skips the MAC check and decryption (the store still loads the session every time).
//! See [`config`] and [`SessionMiddlewareBuilder`] for key rotation (`fallback_keys`),
//! absolute timeouts (`absolute_ttl`), `Partitioned` cookies, the verified-cookie memo
//! (`cookie_verified_cache`) and lazy loading.
//!
//! Behaviour you can rely on (each promise and its tests: [`security`]):
//! - Nothing is stored and no cookie is sent for a session that stays empty.
//! - Cookies that fail verification, and keys the store does not know, give a fresh empty
//!   session: never an error, never a client-chosen key.
//! - A request saves only the keys it changed (memory and Redis stores), so parallel requests
//!   on one session keep each other's writes, and a session ended by a logout is never
//!   written back by a request that was in flight.
//! - Store failures give an opaque `500` with an empty body; the cause goes to `tracing`.
//! - A handler answering `5xx` has its session changes discarded.
//! - [`Session::renew`] moves the state to a new key and invalidates the old one.
//!
//! # A user's sessions
//! Bind a session to its owner after sign-in with [`Session::set_owner`] (or a
//! `#[session(owner)]` field), and the user can see where they are signed in and sign out
//! one device or every other one, on every instance at once:
//! ```
//! use actix_web::{cookie::Key, test, web, App, HttpResponse};
//! use session::{storage::MemorySessionStore, Session, SessionMiddleware};
//!
//! async fn sign_in(session: Session) -> HttpResponse {
//!     session.renew();
//!     session.set_owner("user-42"); // an id of yours, never one the client sent
//!     HttpResponse::Ok().finish()
//! }
//!
//! async fn devices(session: Session) -> actix_web::Result<HttpResponse> {
//!     let sessions = session
//!         .owner_sessions()
//!         .await
//!         .map_err(actix_web::error::ErrorInternalServerError)?;
//!     let lines: Vec<String> = sessions
//!         .iter()
//!         .map(|s| format!("{} current={}", s.public_id, s.current))
//!         .collect();
//!     Ok(HttpResponse::Ok().body(lines.join("\n")))
//! }
//!
//! async fn sign_out_elsewhere(session: Session) -> actix_web::Result<HttpResponse> {
//!     let ended = session
//!         .revoke_other_sessions()
//!         .await
//!         .map_err(actix_web::error::ErrorInternalServerError)?;
//!     Ok(HttpResponse::Ok().body(format!("signed out of {ended} other sessions")))
//! }
//!
//! # actix_web::rt::System::new().block_on(async {
//! let app = test::init_service(
//!     App::new()
//!         .wrap(SessionMiddleware::new(MemorySessionStore::new(), Key::generate()))
//!         .route("/sign-in", web::post().to(sign_in))
//!         .route("/devices", web::get().to(devices))
//!         .route("/sign-out-elsewhere", web::post().to(sign_out_elsewhere)),
//! )
//! .await;
//! let res = test::call_service(&app, test::TestRequest::post().uri("/sign-in").to_request()).await;
//! let cookie = res.response().cookies().next().expect("a session cookie").into_owned();
//! let req = test::TestRequest::get().uri("/devices").cookie(cookie).to_request();
//! let body = test::read_body(test::call_service(&app, req).await).await;
//! assert!(body.ends_with(b"current=true"));
//! # });
//! ```
//! Each session has a [`public_id`](Session::public_id): random, stable across
//! [`renew`](Session::renew), unrelated to the session key, so it is safe to show and to put
//! in a "sign out" URL. A public id of another owner is refused exactly like an unknown one.
//! The list shows when each session was created and last seen (written at most once per
//! [`last_seen_interval`](SessionMiddlewareBuilder::last_seen_interval), one minute by
//! default, and only for bound sessions) and, if you opt in, the device's user agent and
//! address ([`record_user_agent`](SessionMiddlewareBuilder::record_user_agent),
//! [`record_client_ip`](SessionMiddlewareBuilder::record_client_ip)). Outside a request (a
//! password reset, an admin tool), the store's [`OwnerIndex`](storage::OwnerIndex) does the
//! same given an owner id. The memory store keeps an owner index; the cookie store cannot
//! list or revoke what lives in the clients' cookies and answers
//! [`OwnerError::Unsupported`](storage::OwnerError::Unsupported).
//!
//! # Coming from actix-session 0.11
//! Replace `actix_session::` with `session::`. Differences, each a fix:
//! - [`Session::update`] and [`Session::update_or`] changes are saved on a loaded session.
//! - [`Session`] is `Send + Sync`; [`Session::entries`] is a locked view of a
//!   `serde_json::Map`, and [`Session::remove`] returns the JSON value.
//! - [`Session::purge`] sends a removal cookie even when the request's cookie was invalid.
//! - The cookie store enforces its TTL server-side and refuses state that does not fit in a
//!   cookie. Cookies written by actix-session's `Private` mode stay readable; `Signed`
//!   cookies are now bound to the cookie name, so old signed cookies start fresh sessions.
//!
//! Custom stores implement the same five methods, with these changes: the state type is
//! [`storage::SessionState`] (a JSON map instead of strings); error causes are
//! [`storage::BoxError`] (an `anyhow::Error` converts with `.into()`); `update_ttl` returns
//! [`storage::UpdateError`] and `delete` returns [`storage::DeleteError`]; `update` of a
//! key that no longer exists must return [`storage::UpdateError::NotFound`] instead of
//! creating it. Override [`SessionStore::update_changes`](storage::SessionStore::update_changes)
//! to write only what changed.
//!
//! # Testing your own store
//! With the `test-helpers` feature, `test_helpers::acceptance_test_suite` and
//! `test_helpers::concurrency_test_suite` run the conformance suites every store in this
//! crate passes.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[doc(hidden)]
pub mod __private;
mod absolute_timeout;
mod clock;
pub mod config;
mod cookie;
mod error;
mod extract;
#[cfg(feature = "__fuzz")]
#[doc(hidden)]
pub mod fuzzing;
mod middleware;
mod owner_sessions;
mod session;
mod session_ext;
mod session_meta;
pub mod storage;
#[cfg(feature = "test-helpers")]
pub mod test_helpers;
mod transport;

/// The security promises this crate keeps, each with the tests that check it.
#[doc = include_str!("../SECURITY.md")]
pub mod security {}

// The names actix-session 0.11 has at its root, the actix-session 0.6 ones beside them, and
// the typed-session items. Everything else is reached through `config::` or `storage::`.
#[allow(deprecated)]
pub use self::config::SessionLength;
pub use self::{
    config::{CookieContentSecurity, SessionMiddlewareBuilder},
    error::{SessionGetError, SessionInsertError, SessionUpdateError},
    extract::ExtractSession,
    middleware::SessionMiddleware,
    session::{Session, SessionEntries, SessionStatus},
    session_ext::SessionExt,
};

#[cfg(feature = "macros")]
pub use session_macros::session;
