//! A user's sessions, over real HTTP through the middleware: binding, listing, revocation,
//! for stores with an [`OwnerIndex`].
//!
//! Each scenario takes `store_builder`, called once with the scenario's manual [`Clock`]
//! (the middleware runs on it too; the memory store should be built on it, stores that keep
//! time themselves, like Redis, may ignore it) and returning a fresh, empty store.
//! [`super::owner_test_suite`] runs them all.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration as StdDuration,
};

use actix_test::{ClientRequest, TestServer};
use actix_web::{
    App, HttpResponse,
    cookie::{Cookie, time::Duration},
    web,
};
use serde::{Deserialize, Serialize};

use super::{
    app::{OrFail, client_cookie},
    key,
};
use crate::{
    Session, SessionMiddleware,
    config::{BrowserSession, ClientIp, Clock},
    storage::{
        DeleteError, LoadError, OwnerError, OwnerIndex, OwnerLink, SaveError, SessionChanges,
        SessionInfo, SessionKey, SessionState, SessionStore, SharedOwnerIndex, UpdateError,
    },
};

/// The idle TTL of the expiry scenario.
const SHORT_TTL: Duration = Duration::seconds(1);

/// Alice binds one session: it is listed, marked current, with the public id the handler
/// reads; a new session has no public id before it is stored.
pub async fn a_bound_session_is_listed_as_current<F, Store>(store_builder: F)
where
    F: Fn(&Clock) -> Store,
    Store: SessionStore + Clone + Send + 'static,
{
    let server = OwnerServer::start(&store_builder, Settings::default());
    let res = server.post("/login/alice", None).await;
    let alice = server.cookie_of(&res);
    assert_eq!(
        server.me_of(res).await.public_id,
        None,
        "a session created in this request has no public id yet"
    );
    let me = server.me(&alice).await;
    assert_eq!(me.owner.as_deref(), Some("alice"));
    let public_id = me.public_id.expect("a stored session has a public id");
    let listed = server.sessions(&alice).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].public_id, public_id);
    assert!(
        listed[0].current,
        "the request's own session is marked current"
    );
    assert!(listed[0].created_at <= listed[0].last_seen);
    assert_eq!(listed[0].user_agent.as_deref(), Some(USER_AGENT));
    assert_eq!(listed[0].ip.as_deref(), Some("127.0.0.1"));
    server.post("/label/laptop", Some(&alice)).await;
    assert_eq!(
        server.sessions(&alice).await[0].label.as_deref(),
        Some("laptop")
    );
}

/// Two sessions of one owner (two cookie jars) are both listed, most recently seen first,
/// each marked current only for itself.
pub async fn sessions_are_listed_newest_activity_first<F, Store>(store_builder: F)
where
    F: Fn(&Clock) -> Store,
    Store: SessionStore + Clone + Send + 'static,
{
    let server = OwnerServer::start(&store_builder, Settings::default());
    let first = server.login("alice").await;
    server.clock.advance(Duration::seconds(10));
    let second = server.login("alice").await;
    let (first_id, second_id) = (
        server.public_id(&first).await,
        server.public_id(&second).await,
    );
    assert_ne!(first_id, second_id, "each session has its own public id");
    let listed = server.sessions(&first).await;
    assert_eq!(ids(&listed), [second_id.as_str(), first_id.as_str()]);
    assert_eq!(
        listed.iter().map(|s| s.current).collect::<Vec<_>>(),
        [false, true]
    );
    assert_eq!(
        server
            .sessions(&second)
            .await
            .iter()
            .map(|s| s.current)
            .collect::<Vec<_>>(),
        [true, false]
    );
    // The first device comes back after the interval: it is now the most recent.
    server.clock.advance(Duration::minutes(2));
    server.me(&first).await;
    assert_eq!(
        ids(&server.sessions(&second).await),
        [first_id.as_str(), second_id.as_str()]
    );
}

/// Revoking a session by public id signs it out on its next request and takes it off the
/// list; revoking it again answers `false`.
pub async fn a_revoked_session_is_signed_out<F, Store>(store_builder: F)
where
    F: Fn(&Clock) -> Store,
    Store: SessionStore + Clone + Send + 'static,
{
    let server = OwnerServer::start(&store_builder, Settings::default());
    let laptop = server.login("alice").await;
    let phone = server.login("alice").await;
    let phone_id = server.public_id(&phone).await;
    assert_eq!(server.revoke(&laptop, &phone_id).await, "true");
    let me = server.me(&phone).await;
    assert_eq!(me, Me::SIGNED_OUT, "the revoked session still signs in");
    assert_eq!(
        ids(&server.sessions(&laptop).await),
        [server.public_id(&laptop).await.as_str()]
    );
    assert_eq!(server.revoke(&laptop, &phone_id).await, "false");
}

/// Another owner's public id, an unknown one and strings that are no public id at all are
/// all answered `false`, and nothing is signed out.
pub async fn another_owners_session_is_refused_like_an_unknown_one<F, Store>(store_builder: F)
where
    F: Fn(&Clock) -> Store,
    Store: SessionStore + Clone + Send + 'static,
{
    let server = OwnerServer::start(&store_builder, Settings::default());
    let alice = server.login("alice").await;
    let bob = server.login("bob").await;
    let bob_id = server.public_id(&bob).await;
    assert_eq!(server.revoke(&alice, &bob_id).await, "false");
    let unknown = crate::session_meta::generate_public_id();
    assert_eq!(server.revoke(&alice, &unknown).await, "false");
    for malformed in ["x", "%2E%2E%2F", &"a".repeat(300), "%C3%A9%C3%A9%C3%A9"] {
        assert_eq!(
            server.revoke(&alice, malformed).await,
            "false",
            "{malformed}"
        );
    }
    assert_eq!(server.me(&bob).await.owner.as_deref(), Some("bob"));
    assert_eq!(ids(&server.sessions(&bob).await), [bob_id.as_str()]);
    assert_eq!(server.sessions(&alice).await.len(), 1);
}

/// "Sign out everywhere else" ends every other session of the owner and keeps this one.
pub async fn revoking_the_others_keeps_the_current_session<F, Store>(store_builder: F)
where
    F: Fn(&Clock) -> Store,
    Store: SessionStore + Clone + Send + 'static,
{
    let server = OwnerServer::start(&store_builder, Settings::default());
    let here = server.login("alice").await;
    let others = [server.login("alice").await, server.login("alice").await];
    let bob = server.login("bob").await;
    let res = server.post("/revoke-others", Some(&here)).await;
    assert_eq!(body_text(res).await, "2");
    assert_eq!(server.me(&here).await.owner.as_deref(), Some("alice"));
    for other in &others {
        assert_eq!(server.me(other).await, Me::SIGNED_OUT);
    }
    assert_eq!(server.sessions(&here).await.len(), 1);
    assert_eq!(server.me(&bob).await.owner.as_deref(), Some("bob"));
}

/// "Sign out everywhere" ends every session of the owner, the current one included (its
/// cookie is removed).
pub async fn revoking_all_ends_every_session<F, Store>(store_builder: F)
where
    F: Fn(&Clock) -> Store,
    Store: SessionStore + Clone + Send + 'static,
{
    let server = OwnerServer::start(&store_builder, Settings::default());
    let here = server.login("alice").await;
    let there = server.login("alice").await;
    let res = server.post("/revoke-all", Some(&here)).await;
    let removal = res
        .cookie
        .clone()
        .expect("the current session's cookie is removed");
    assert!(removal.value().is_empty(), "{removal}");
    assert_eq!(body_text(res).await, "2");
    assert_eq!(server.me(&here).await, Me::SIGNED_OUT);
    assert_eq!(server.me(&there).await, Me::SIGNED_OUT);
    let again = server.login("alice").await;
    assert_eq!(server.sessions(&again).await.len(), 1);
}

/// A session bound to another owner (without a renewal) leaves the first owner's list and
/// gets a new public id: the first owner's id no longer names it.
pub async fn a_session_bound_to_another_owner_leaves_the_first_owners_list<F, Store>(
    store_builder: F,
) where
    F: Fn(&Clock) -> Store,
    Store: SessionStore + Clone + Send + 'static,
{
    let server = OwnerServer::start(&store_builder, Settings::default());
    let alice = server.login("alice").await;
    let shared = server.login("alice").await;
    let alices_id = server.public_id(&shared).await;
    server.post("/bind/bob", Some(&shared)).await;
    let me = server.me(&shared).await;
    assert_eq!(me.owner.as_deref(), Some("bob"));
    let bobs_id = me.public_id.expect("a stored session has a public id");
    assert_ne!(bobs_id, alices_id, "the public id outlived the owner");
    assert_eq!(
        ids(&server.sessions(&alice).await),
        [server.public_id(&alice).await.as_str()]
    );
    assert_eq!(server.revoke(&alice, &alices_id).await, "false");
    assert_eq!(ids(&server.sessions(&shared).await), [bobs_id.as_str()]);
}

/// A purged (logged out) session leaves its owner's list.
pub async fn a_purged_session_leaves_the_list<F, Store>(store_builder: F)
where
    F: Fn(&Clock) -> Store,
    Store: SessionStore + Clone + Send + 'static,
{
    let server = OwnerServer::start(&store_builder, Settings::default());
    let stays = server.login("alice").await;
    let leaves = server.login("alice").await;
    server.post("/logout", Some(&leaves)).await;
    assert_eq!(
        ids(&server.sessions(&stays).await),
        [server.public_id(&stays).await.as_str()]
    );
}

/// `renew` moves the session to a new key with the same public id and binding; the list
/// follows it and the old key signs nobody in.
pub async fn renew_keeps_the_public_id_and_the_binding<F, Store>(store_builder: F)
where
    F: Fn(&Clock) -> Store,
    Store: SessionStore + Clone + Send + 'static,
{
    let server = OwnerServer::start(&store_builder, Settings::default());
    let before = server.login("alice").await;
    let public_id = server.public_id(&before).await;
    let res = server.post("/renew", Some(&before)).await;
    let after = server.cookie_of(&res);
    assert_ne!(after.value(), before.value());
    let me = server.me(&after).await;
    assert_eq!(me.owner.as_deref(), Some("alice"));
    assert_eq!(me.public_id.as_deref(), Some(public_id.as_str()));
    let listed = server.sessions(&after).await;
    assert_eq!(ids(&listed), [public_id.as_str()]);
    assert!(listed[0].current);
    assert_eq!(server.me(&before).await, Me::SIGNED_OUT);
}

/// A session past its TTL is not listed (nor revocable).
pub async fn expired_sessions_are_not_listed<F, Store>(store_builder: F)
where
    F: Fn(&Clock) -> Store,
    Store: SessionStore + Clone + Send + 'static,
{
    let server = OwnerServer::start(&store_builder, Settings::default());
    // A second app on the same store whose sessions live a second.
    let short = Settings {
        state_ttl: SHORT_TTL,
    };
    let short_lived = OwnerServer::start_on(server.store.clone(), server.clock.clone(), short);
    let expired = short_lived.login("alice").await;
    let expired_id = short_lived.public_id(&expired).await;
    // Past the TTL for stores on the manual clock and for stores that keep real time.
    server.clock.advance(SHORT_TTL * 2);
    actix_web::rt::time::sleep(StdDuration::from_millis(1500)).await;
    let live = server.login("alice").await;
    assert_eq!(
        ids(&server.sessions(&live).await),
        [server.public_id(&live).await.as_str()]
    );
    assert_eq!(server.revoke(&live, &expired_id).await, "false");
}

/// A request that loaded the session before it was revoked neither brings it back nor puts
/// it back on the list, whether it changes the session, renews it, or only reads it when its "last
/// seen" time is due.
pub async fn a_request_in_flight_does_not_resurrect_a_revoked_session<F, Store>(store_builder: F)
where
    F: Fn(&Clock) -> Store,
    Store: SessionStore + Clone + Send + 'static,
{
    for path in ["/hold/write", "/hold/read", "/hold/renew"] {
        let server = OwnerServer::start(&store_builder, Settings::default());
        let laptop = server.login("alice").await;
        let phone = server.login("alice").await;
        let phone_id = server.public_id(&phone).await;
        server.clock.advance(Duration::minutes(2));
        server.store.forget_links();
        let held = server.srv.post(path).cookie(phone.clone()).send();
        let revoke = async {
            server.gate.wait_entered().await;
            let revoked = server.revoke(&laptop, &phone_id).await;
            server.gate.release();
            revoked
        };
        let (held, revoked) = futures_util::future::join(held, revoke).await;
        assert_eq!(revoked, "true");
        let held = Response::of(held, path).await;
        assert!(
            !server.store.linked().contains(&phone_id),
            "{path}: the revoked session was linked again"
        );
        if let Some(cookie) = held.cookie.filter(|c| !c.value().is_empty()) {
            assert_eq!(server.me(&cookie).await, Me::SIGNED_OUT, "{path}");
        }
        assert_eq!(
            server.me(&phone).await,
            Me::SIGNED_OUT,
            "{path}: resurrected"
        );
        assert_eq!(
            ids(&server.sessions(&laptop).await),
            [server.public_id(&laptop).await.as_str()],
            "{path}: back on the list"
        );
    }
}

/// A bound session's "last seen" is written only once the interval passed (one write,
/// no cookie for a browser session); reading an unbound session never writes.
pub async fn last_seen_moves_only_after_the_interval<F, Store>(store_builder: F)
where
    F: Fn(&Clock) -> Store,
    Store: SessionStore + Clone + Send + 'static,
{
    let server = OwnerServer::start(&store_builder, Settings::default());
    let alice = server.login("alice").await;
    let bound_at = server.sessions(&alice).await[0].last_seen;
    server.store.writes.store(0, Ordering::SeqCst);
    server.clock.advance(Duration::seconds(30));
    server.me(&alice).await;
    assert_eq!(
        server.store.writes.load(Ordering::SeqCst),
        0,
        "written within the interval"
    );
    assert_eq!(server.sessions(&alice).await[0].last_seen, bound_at);
    server.clock.advance(Duration::seconds(31));
    let res = server.get("/me", Some(&alice)).await;
    assert!(
        res.cookie.is_none(),
        "a browser session's last-seen update sends no cookie"
    );
    assert_eq!(
        server.store.writes.load(Ordering::SeqCst),
        1,
        "one write after the interval"
    );
    let seen = server.sessions(&alice).await[0].last_seen;
    assert_eq!(seen, bound_at + 61);

    let res = server.post("/start", None).await;
    let anonymous = server.cookie_of(&res);
    server.store.writes.store(0, Ordering::SeqCst);
    server.clock.advance(Duration::minutes(5));
    assert_eq!(server.me(&anonymous).await.owner, None);
    assert_eq!(
        server.store.writes.load(Ordering::SeqCst),
        0,
        "an unbound session was written"
    );
}

/// For stores without an owner index (the cookie store): binding, the owner and the public
/// id work; listing and revoking answer [`OwnerError::Unsupported`].
pub async fn stores_without_an_index_answer_unsupported<F, Store>(store_builder: F)
where
    F: Fn(&Clock) -> Store,
    Store: SessionStore + Clone + Send + 'static,
{
    let server = OwnerServer::start(&store_builder, Settings::default());
    let alice = server.login("alice").await;
    let me = server.me(&alice).await;
    assert_eq!(me.owner.as_deref(), Some("alice"));
    let public_id = me.public_id.expect("a stored session has a public id");
    let res = server.get("/sessions", Some(&alice)).await;
    assert_eq!(res.status, actix_web::http::StatusCode::CONFLICT);
    assert_eq!(body_text(res).await, "unsupported");
    let res = server
        .post(&format!("/revoke/{public_id}"), Some(&alice))
        .await;
    assert_eq!(body_text(res).await, "unsupported");
    let res = server.post("/renew", Some(&alice)).await;
    let renewed = server.cookie_of(&res);
    assert_eq!(server.me(&renewed).await.public_id, Some(public_id));
}

/// The cookie the scenarios' middleware uses.
const COOKIE: &str = "owned";
/// The `User-Agent` the scenarios' client sends.
const USER_AGENT: &str = "owner-suite/1.0";

/// What `/me` answers.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Me {
    owner: Option<String>,
    public_id: Option<String>,
    user: Option<String>,
}

impl Me {
    /// A session that signs nobody in.
    const SIGNED_OUT: Self = Self {
        owner: None,
        public_id: None,
        user: None,
    };

    fn of(session: &Session) -> Self {
        Self {
            owner: session.owner(),
            public_id: session.public_id(),
            user: session.get("user").ok().flatten(),
        }
    }
}

/// One entry of `/sessions`: a [`SessionInfo`] as JSON, times in Unix seconds.
#[derive(Debug, Serialize, Deserialize)]
struct Listed {
    public_id: String,
    current: bool,
    created_at: i64,
    last_seen: i64,
    user_agent: Option<String>,
    ip: Option<String>,
    label: Option<String>,
}

impl From<SessionInfo> for Listed {
    fn from(info: SessionInfo) -> Self {
        Self {
            public_id: info.public_id,
            current: info.current,
            created_at: info.created_at.unix_timestamp(),
            last_seen: info.last_seen.unix_timestamp(),
            user_agent: info.user_agent,
            ip: info.ip.map(|ip| ip.to_string()),
            label: info.label,
        }
    }
}

fn ids(listed: &[Listed]) -> Vec<&str> {
    listed.iter().map(|s| s.public_id.as_str()).collect()
}

/// What a scenario's middleware is built with.
#[derive(Clone, Copy)]
struct Settings {
    state_ttl: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            state_ttl: Duration::days(1),
        }
    }
}

/// Lets a test hold a request between loading its session and saving it.
#[derive(Default)]
struct Gate {
    entered: AtomicBool,
    released: AtomicBool,
}

impl Gate {
    async fn wait_entered(&self) {
        while !self.entered.load(Ordering::SeqCst) {
            actix_web::rt::time::sleep(StdDuration::from_millis(5)).await;
        }
    }

    fn release(&self) {
        self.released.store(true, Ordering::SeqCst);
    }

    async fn hold(&self) {
        self.entered.store(true, Ordering::SeqCst);
        while !self.released.load(Ordering::SeqCst) {
            actix_web::rt::time::sleep(StdDuration::from_millis(5)).await;
        }
    }
}

/// A real HTTP server (one worker) over one store and a manual clock, with the handlers of
/// the owner scenarios.
struct OwnerServer<Store> {
    srv: TestServer,
    clock: Clock,
    /// The store, counting its writes and links.
    store: Counted<Store>,
    gate: Arc<Gate>,
}

impl<Store: SessionStore + Clone + Send + 'static> OwnerServer<Store> {
    /// A server over a fresh store from `store_builder`, on a new manual clock.
    fn start<F: Fn(&Clock) -> Store>(store_builder: &F, settings: Settings) -> Self {
        let clock = Clock::manual(actix_web::cookie::time::OffsetDateTime::now_utc());
        let store = Counted {
            inner: store_builder(&clock),
            writes: Arc::new(AtomicUsize::new(0)),
            links: Arc::new(Mutex::new(Vec::new())),
        };
        Self::start_on(store, clock, settings)
    }

    /// A server over `store`, on `clock`.
    fn start_on(store: Counted<Store>, clock: Clock, settings: Settings) -> Self {
        let gate = Arc::new(Gate::default());
        let (key, app_clock, app_gate) = (key(), clock.clone(), Arc::clone(&gate));
        let app_store = store.clone();
        let srv = actix_test::start_with(actix_test::config().workers(1), move || {
            App::new()
                .app_data(web::Data::from(Arc::clone(&app_gate)))
                .wrap(
                    SessionMiddleware::builder(app_store.clone(), key.clone())
                        .cookie_name(COOKIE.to_owned())
                        .cookie_secure(false)
                        .clock(app_clock.clone())
                        .session_lifecycle(BrowserSession::default().state_ttl(settings.state_ttl))
                        .record_user_agent(true)
                        .record_client_ip(ClientIp::Peer)
                        .build(),
                )
                .route("/login/{user}", web::post().to(login))
                .route("/start", web::post().to(start))
                .route("/bind/{user}", web::post().to(bind))
                .route("/me", web::get().to(me))
                .route("/sessions", web::get().to(sessions))
                .route("/label/{label}", web::post().to(label))
                .route("/revoke/{id}", web::post().to(revoke))
                .route("/revoke-others", web::post().to(revoke_others))
                .route("/revoke-all", web::post().to(revoke_all))
                .route("/renew", web::post().to(renew))
                .route("/logout", web::post().to(logout))
                .route("/hold/{mode}", web::post().to(hold))
        });
        Self {
            srv,
            clock,
            store,
            gate,
        }
    }

    fn request(&self, request: ClientRequest, cookie: Option<&Cookie<'static>>) -> ClientRequest {
        let request = request.insert_header((actix_web::http::header::USER_AGENT, USER_AGENT));
        match cookie {
            Some(cookie) => request.cookie(cookie.clone()),
            None => request,
        }
    }

    async fn post(&self, path: &str, cookie: Option<&Cookie<'static>>) -> Response {
        let what = format!("POST {path}");
        Response::of(
            self.request(self.srv.post(path), cookie).send().await,
            &what,
        )
        .await
    }

    async fn get(&self, path: &str, cookie: Option<&Cookie<'static>>) -> Response {
        let what = format!("GET {path}");
        Response::of(self.request(self.srv.get(path), cookie).send().await, &what).await
    }

    /// The session cookie `res` sets.
    fn cookie_of(&self, res: &Response) -> Cookie<'static> {
        res.cookie
            .clone()
            .expect("the response sets the session cookie")
    }

    /// Signs `user` in on a new device and returns its cookie.
    async fn login(&self, user: &str) -> Cookie<'static> {
        let res = self.post(&format!("/login/{user}"), None).await;
        self.cookie_of(&res)
    }

    async fn me_of(&self, res: Response) -> Me {
        serde_json::from_slice(&res.body).or_fail("the JSON of /me")
    }

    async fn me(&self, cookie: &Cookie<'static>) -> Me {
        let res = self.get("/me", Some(cookie)).await;
        self.me_of(res).await
    }

    async fn public_id(&self, cookie: &Cookie<'static>) -> String {
        self.me(cookie)
            .await
            .public_id
            .expect("a stored session has a public id")
    }

    async fn sessions(&self, cookie: &Cookie<'static>) -> Vec<Listed> {
        let res = self.get("/sessions", Some(cookie)).await;
        assert!(res.status.is_success(), "GET /sessions: {}", res.status);
        serde_json::from_slice(&res.body).or_fail("the JSON of /sessions")
    }

    async fn revoke(&self, cookie: &Cookie<'static>, public_id: &str) -> String {
        let res = self
            .post(&format!("/revoke/{public_id}"), Some(cookie))
            .await;
        assert!(res.status.is_success(), "POST /revoke: {}", res.status);
        body_text(res).await
    }
}

/// A response of the test server, read whole.
struct Response {
    status: actix_web::http::StatusCode,
    /// The session cookie it sets, if any.
    cookie: Option<Cookie<'static>>,
    body: actix_web::web::Bytes,
}

impl Response {
    async fn of<S, E>(res: Result<actix_test::ClientResponse<S>, E>, what: &str) -> Self
    where
        S: futures_util::Stream<
                Item = Result<actix_web::web::Bytes, actix_web::error::PayloadError>,
            > + Unpin,
        E: std::fmt::Display,
    {
        let mut res = res.or_fail(what);
        let body = res.body().await.or_fail(format_args!("the body of {what}"));
        Self {
            status: res.status(),
            cookie: client_cookie(&res, COOKIE),
            body,
        }
    }
}

async fn body_text(res: Response) -> String {
    String::from_utf8_lossy(&res.body).into_owned()
}

/// The answer to an owner operation's failure: `409` with the kind of error.
fn owner_failure(err: &OwnerError) -> HttpResponse {
    let kind = match err {
        OwnerError::Unsupported => "unsupported",
        OwnerError::NoOwner => "no-owner",
        _ => "store",
    };
    HttpResponse::Conflict().body(kind)
}

async fn login(session: Session, user: web::Path<String>) -> HttpResponse {
    let user = user.into_inner();
    session.renew();
    session.set_owner(user.clone());
    match session.insert("user", user) {
        Ok(()) => HttpResponse::Ok().json(Me::of(&session)),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

async fn bind(session: Session, user: web::Path<String>) -> HttpResponse {
    session.set_owner(user.into_inner());
    HttpResponse::Ok().finish()
}

async fn start(session: Session) -> HttpResponse {
    match session.insert("started", true) {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

async fn me(session: Session) -> HttpResponse {
    HttpResponse::Ok().json(Me::of(&session))
}

async fn sessions(session: Session) -> HttpResponse {
    match session.owner_sessions().await {
        Ok(list) => HttpResponse::Ok().json(list.into_iter().map(Listed::from).collect::<Vec<_>>()),
        Err(err) => owner_failure(&err),
    }
}

async fn label(session: Session, label: web::Path<String>) -> HttpResponse {
    session.set_label(label.into_inner());
    HttpResponse::Ok().finish()
}

async fn revoke(session: Session, id: web::Path<String>) -> HttpResponse {
    match session.revoke_session(&id).await {
        Ok(revoked) => HttpResponse::Ok().body(revoked.to_string()),
        Err(err) => owner_failure(&err),
    }
}

async fn revoke_others(session: Session) -> HttpResponse {
    match session.revoke_other_sessions().await {
        Ok(count) => HttpResponse::Ok().body(count.to_string()),
        Err(err) => owner_failure(&err),
    }
}

async fn revoke_all(session: Session) -> HttpResponse {
    match session.revoke_all_sessions().await {
        Ok(count) => HttpResponse::Ok().body(count.to_string()),
        Err(err) => owner_failure(&err),
    }
}

async fn renew(session: Session) -> HttpResponse {
    session.renew();
    HttpResponse::Ok().finish()
}

async fn logout(session: Session) -> HttpResponse {
    session.purge();
    HttpResponse::Ok().finish()
}

/// Loads the session, waits for the test to release it, then writes (`/hold/write`), renews
/// and writes (`/hold/renew`) or only reads (`/hold/read`).
async fn hold(session: Session, mode: web::Path<String>, gate: web::Data<Gate>) -> HttpResponse {
    let user: Option<String> = session.get("user").ok().flatten();
    gate.hold().await;
    if mode.as_str() == "renew" {
        session.renew();
    }
    if mode.as_str() != "read" && session.insert("late", true).is_err() {
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::Ok().body(user.unwrap_or_default())
}

/// A store that counts its writes and records which public ids its owner index linked, and
/// otherwise is `inner`.
#[derive(Clone)]
struct Counted<Store> {
    inner: Store,
    /// Store writes (save, update, refresh) since the counter was last reset.
    writes: Arc<AtomicUsize>,
    /// The public ids linked since [`forget_links`](Self::forget_links).
    links: Arc<Mutex<Vec<String>>>,
}

impl<Store> Counted<Store> {
    fn count(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
    }

    fn links(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.links
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn forget_links(&self) {
        self.links().clear();
    }

    fn linked(&self) -> Vec<String> {
        self.links().clone()
    }
}

/// The owner index of a [`Counted`] store: `inner`'s, recording each link.
struct CountedIndex {
    inner: SharedOwnerIndex,
    links: Arc<Mutex<Vec<String>>>,
}

impl OwnerIndex for CountedIndex {
    async fn link_owner(&self, link: OwnerLink<'_>) -> Result<(), OwnerError> {
        self.links
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(link.public_id.to_owned());
        self.inner.link_owner(link).await
    }

    async fn unlink_owner(&self, owner: &str, public_id: &str) -> Result<(), OwnerError> {
        self.inner.unlink_owner(owner, public_id).await
    }

    async fn owner_sessions(&self, owner: &str) -> Result<Vec<SessionInfo>, OwnerError> {
        self.inner.owner_sessions(owner).await
    }

    async fn revoke_owner_session(&self, owner: &str, public_id: &str) -> Result<bool, OwnerError> {
        self.inner.revoke_owner_session(owner, public_id).await
    }

    async fn revoke_owner_sessions(&self, owner: &str) -> Result<usize, OwnerError> {
        self.inner.revoke_owner_sessions(owner).await
    }

    async fn revoke_other_owner_sessions(
        &self,
        owner: &str,
        keep: &str,
    ) -> Result<usize, OwnerError> {
        self.inner.revoke_other_owner_sessions(owner, keep).await
    }
}

impl<Store: SessionStore> SessionStore for Counted<Store> {
    async fn load(&self, key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        self.inner.load(key).await
    }

    async fn save(&self, state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
        self.count();
        self.inner.save(state, ttl).await
    }

    async fn update(
        &self,
        key: SessionKey,
        state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        self.count();
        self.inner.update(key, state, ttl).await
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), UpdateError> {
        self.count();
        self.inner.update_ttl(key, ttl).await
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), DeleteError> {
        self.inner.delete(key).await
    }

    async fn update_changes(
        &self,
        key: SessionKey,
        changes: SessionChanges,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        self.count();
        self.inner.update_changes(key, changes, ttl).await
    }

    async fn refresh(
        &self,
        key: SessionKey,
        state: &SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        self.count();
        self.inner.refresh(key, state, ttl).await
    }

    fn owner_index(&self) -> Option<SharedOwnerIndex> {
        let inner = self.inner.owner_index()?;
        Some(SharedOwnerIndex::new(CountedIndex {
            inner,
            links: Arc::clone(&self.links),
        }))
    }
}
