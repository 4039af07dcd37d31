//! No lost updates and no resurrected sessions under parallel requests, one function per
//! promise.
//!
//! [`concurrency_test_suite`](super::concurrency_test_suite) runs every function here; each
//! also runs on its own:
//!
//! ```no_run
//! use session::{storage::MemorySessionStore, test_helpers::concurrency};
//!
//! #[actix_web::test]
//! async fn my_store_loses_no_parallel_write() {
//!     let store = MemorySessionStore::new();
//!     concurrency::parallel_writes_to_different_keys_all_survive(move || store.clone()).await;
//! }
//! ```
//!
//! Each function starts a real HTTP server with two workers whose stores come from
//! `store_builder` (clones must share one backend), and panics, saying which promise broke,
//! when the store does not keep it.

use actix_test::ClientRequest;
use actix_web::{App, cookie::Cookie, web};
use serde_json::{Map, Value, json};

use super::{
    PARALLEL_REQUESTS,
    app::{OrFail as _, client_cookie, keys, logout, renew, slow_set, start},
    key,
};
use crate::{SessionMiddleware, storage::SessionStore};

/// [`PARALLEL_REQUESTS`] parallel requests on one session, each reading the session, awaiting
/// briefly, then setting its own key: every key survives.
///
/// Stores that write the whole state on every change (the default
/// [`SessionStore::update_changes`]) break this promise; the cookie store cannot keep it by
/// design (each response carries its own copy of the state).
pub async fn parallel_writes_to_different_keys_all_survive<F, Store>(store_builder: F)
where
    Store: SessionStore + 'static,
    F: Fn() -> Store + Clone + Send + 'static,
{
    let server = Server::start(store_builder);
    let cookie = server.new_session().await;
    let requests = (0..PARALLEL_REQUESTS).map(|i| {
        server
            .slow_set(&format!("key{i}"), &i.to_string(), &cookie)
            .send()
    });
    for res in futures_util::future::join_all(requests).await {
        assert!(res.or_fail("POST /slow-set").status().is_success());
    }
    let state = server.keys_of(&cookie).await;
    let missing: Vec<usize> = (0..PARALLEL_REQUESTS)
        .filter(|i| state.get(&format!("key{i}")) != Some(&json!(i.to_string())))
        .collect();
    assert!(missing.is_empty(), "lost updates for keys {missing:?}");
    assert_eq!(state.get("started"), Some(&json!(true)));
}

/// Parallel writes of one key end with one of the written values, whole, never a mix.
pub async fn parallel_writes_to_one_key_leave_one_whole_value<F, Store>(store_builder: F)
where
    Store: SessionStore + 'static,
    F: Fn() -> Store + Clone + Send + 'static,
{
    let server = Server::start(store_builder);
    let cookie = server.new_session().await;
    let requests = (0..10).map(|i| {
        server
            .slow_set("shared", &format!("value-{i}"), &cookie)
            .send()
    });
    futures_util::future::join_all(requests).await;
    let state = server.keys_of(&cookie).await;
    let shared = state
        .get("shared")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    assert!(
        (0..10).any(|i| shared == format!("value-{i}")),
        "unexpected value {shared:?}"
    );
}

/// A request that loaded the session before a concurrent logout does not bring it back.
pub async fn a_logout_is_not_undone_by_a_request_in_flight<F, Store>(store_builder: F)
where
    Store: SessionStore + 'static,
    F: Fn() -> Store + Clone + Send + 'static,
{
    let server = Server::start(store_builder);
    let cookie = server.new_session().await;
    let slow = server.slow_set("late", "1", &cookie).send();
    let logout = async {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        server.post_with("/logout", &cookie).send().await
    };
    let (slow, logout) = futures_util::future::join(slow, logout).await;
    assert!(logout.or_fail("POST /logout").status().is_success());
    let slow = slow.or_fail("POST /slow-set/late/1");
    // The in-flight request either loaded the session before the logout (its write is then
    // dropped and it sends a removal cookie) or, on a slow machine, after it (it then starts
    // a fresh session). Either way it must not carry the logged-out state on.
    if let Some(issued) = client_cookie(&slow, "id").filter(|c| !c.value().is_empty()) {
        let state = server.keys_of(&issued).await;
        assert!(
            !state.contains_key("started"),
            "the in-flight request re-issued the logged-out session: {state:?}"
        );
    }
    assert!(
        server.keys_of(&cookie).await.is_empty(),
        "the logged-out session came back"
    );
}

/// A request still carrying the old cookie after a concurrent `renew` does not revive the old
/// key; the new key holds the session.
pub async fn a_renewed_key_is_not_revived_by_a_request_in_flight<F, Store>(store_builder: F)
where
    Store: SessionStore + 'static,
    F: Fn() -> Store + Clone + Send + 'static,
{
    let server = Server::start(store_builder);
    let cookie = server.new_session().await;
    let slow = server.slow_set("late", "1", &cookie).send();
    let renew = async {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        server.post_with("/renew", &cookie).send().await
    };
    let (_, renewed) = futures_util::future::join(slow, renew).await;
    let renewed =
        client_cookie(&renewed.or_fail("POST /renew"), "id").expect("renew sets a cookie");
    assert!(
        server.keys_of(&cookie).await.is_empty(),
        "the pre-renew key came back"
    );
    assert_eq!(
        server.keys_of(&renewed).await.get("started"),
        Some(&json!(true))
    );
}

/// A real HTTP server with two workers over stores from one builder, and the requests the
/// scenarios send it.
struct Server {
    srv: actix_test::TestServer,
}

impl Server {
    fn start<F, Store>(store_builder: F) -> Self
    where
        Store: SessionStore + 'static,
        F: Fn() -> Store + Clone + Send + 'static,
    {
        let key = key();
        let srv = actix_test::start_with(actix_test::config().workers(2), move || {
            App::new()
                .wrap(
                    SessionMiddleware::builder(store_builder(), key.clone())
                        .cookie_secure(false)
                        .build(),
                )
                .route("/start", web::post().to(start))
                .route("/slow-set/{name}/{value}", web::post().to(slow_set))
                .route("/keys", web::get().to(keys))
                .route("/logout", web::post().to(logout))
                .route("/renew", web::post().to(renew))
        });
        Self { srv }
    }

    /// Starts a session (entry `started`) and returns its cookie.
    async fn new_session(&self) -> Cookie<'static> {
        let res = self.srv.post("/start").send().await.or_fail("POST /start");
        client_cookie(&res, "id").expect("a new session sets its cookie")
    }

    /// `POST path` with `cookie`.
    fn post_with(&self, path: &str, cookie: &Cookie<'static>) -> ClientRequest {
        self.srv.post(path).cookie(cookie.clone())
    }

    /// A request that sets entry `name` to `value`, waiting between loading and saving.
    fn slow_set(&self, name: &str, value: &str, cookie: &Cookie<'static>) -> ClientRequest {
        self.post_with(&format!("/slow-set/{name}/{value}"), cookie)
    }

    /// Every entry of the session `cookie` opens.
    async fn keys_of(&self, cookie: &Cookie<'static>) -> Map<String, Value> {
        let mut res = self
            .srv
            .get("/keys")
            .cookie(cookie.clone())
            .send()
            .await
            .or_fail("GET /keys");
        res.json::<Map<String, Value>>()
            .await
            .or_fail("the JSON of GET /keys")
    }
}
