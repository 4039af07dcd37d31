//! What the criterion benches, the callgrind driver and `examples/bench_server.rs` share: the
//! modes (which middleware over which store), the routes, identical handlers for our
//! `Session` and actix-session's, and a local `redis-server` for the Redis cases.
//!
//! Both middlewares get the same configuration: the defaults (cookie `id`, Secure, HttpOnly,
//! SameSite=Lax, browser session with a one-day state TTL) except the content security that
//! the mode names and, for the soak run, the state TTL.
#![allow(dead_code)]

use std::{
    fmt,
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use actix_web::{
    HttpResponse,
    cookie::{Key, time},
    web,
};

/// The session state a login creates: a user, a role list, a counter.
pub(crate) const USER: &str = "alice";

/// Extra entries a login adds so the state has about `$BENCH_STATE_KIB` KiB (unset or `0`:
/// none, the state is about 0.1 KiB). Up to 2 KiB one string entry `pad`; above, as many
/// entries `pad000`, `pad001`... of 128-byte strings as fill the size. Read once per process.
pub(crate) fn state_padding() -> &'static [(String, String)] {
    static PADDING: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    PADDING.get_or_init(|| {
        let kib: usize = std::env::var("BENCH_STATE_KIB")
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(0);
        match kib {
            0 => Vec::new(),
            1..=2 => vec![("pad".to_owned(), "x".repeat(kib * 1024))],
            _ => (0..kib * 1024 / 128)
                .map(|i| (format!("pad{i:03}"), "x".repeat(128 - 16)))
                .collect(),
        }
    })
}

/// A fixed 64-byte key, so every run (and every server of a load run) signs the same way.
pub(crate) fn key() -> Key {
    let bytes: Vec<u8> = (0u8..64)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    Key::from(&bytes)
}

/// Which middleware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Impl {
    /// No session middleware at all; handlers do the same work without a session.
    None,
    /// `session::SessionMiddleware`.
    Ours,
    /// `actix_session::SessionMiddleware` 0.11.
    Actix,
}

/// Which store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreKind {
    CookieSigned,
    CookiePrivate,
    Memory,
    Redis,
    Postgres,
    Sqlite,
}

impl StoreKind {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "cookie-signed" => Self::CookieSigned,
            "cookie-private" => Self::CookiePrivate,
            "memory" => Self::Memory,
            "redis" => Self::Redis,
            "postgres" => Self::Postgres,
            "sqlite" => Self::Sqlite,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::CookieSigned => "cookie-signed",
            Self::CookiePrivate => "cookie-private",
            Self::Memory => "memory",
            Self::Redis => "redis",
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

/// One configuration under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mode {
    pub(crate) imp: Impl,
    pub(crate) store: StoreKind,
    /// Ours only: load the state on first extraction instead of before the handler.
    pub(crate) lazy: bool,
    /// Ours on Redis only: with the near cache (`ours-redis-cached`).
    pub(crate) near_cache: bool,
    /// Ours only: the login binds the session to an owner (`ours-memory-bound`), so reads
    /// measure a bound session.
    pub(crate) bound: bool,
}

impl Mode {
    pub(crate) const BASELINE: Self = Self {
        imp: Impl::None,
        store: StoreKind::CookiePrivate,
        lazy: false,
        near_cache: false,
        bound: false,
    };

    pub(crate) const fn ours(store: StoreKind, lazy: bool) -> Self {
        Self {
            imp: Impl::Ours,
            store,
            lazy,
            near_cache: false,
            bound: false,
        }
    }

    pub(crate) const fn actix(store: StoreKind) -> Self {
        Self {
            imp: Impl::Actix,
            store,
            lazy: false,
            near_cache: false,
            bound: false,
        }
    }

    /// The inverse of `Display`: `baseline`, `ours-memory-lazy`, `actix-redis`...
    pub(crate) fn parse(text: &str) -> Option<Self> {
        if text == "baseline" {
            return Some(Self::BASELINE);
        }
        if let Some(rest) = text.strip_prefix("ours-") {
            if let Some(unbound) = rest.strip_suffix("-bound") {
                let mode = Self::parse(&format!("ours-{unbound}"))?;
                return Some(Self {
                    bound: true,
                    ..mode
                });
            }
            if let Some(rest) = rest.strip_prefix("redis-cached") {
                let lazy = match rest {
                    "" => false,
                    "-lazy" => true,
                    _ => return None,
                };
                return Some(Self {
                    near_cache: true,
                    ..Self::ours(StoreKind::Redis, lazy)
                });
            }
            let (store, lazy) = match rest.strip_suffix("-lazy") {
                Some(store) => (store, true),
                None => (rest, false),
            };
            return StoreKind::parse(store).map(|store| Self::ours(store, lazy));
        }
        text.strip_prefix("actix-")
            .and_then(StoreKind::parse)
            .map(Self::actix)
    }
}

/// `baseline`, `ours-cookie-private`, `ours-redis-lazy`, `actix-memory`...
impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.imp {
            Impl::None => f.write_str("baseline"),
            Impl::Ours => {
                write!(f, "ours-{}", self.store.as_str())?;
                if self.near_cache {
                    f.write_str("-cached")?;
                }
                if self.lazy {
                    f.write_str("-lazy")?;
                }
                if self.bound {
                    f.write_str("-bound")?;
                }
                Ok(())
            }
            Impl::Actix => write!(f, "actix-{}", self.store.as_str()),
        }
    }
}

/// The routes, all `GET` so `wrk` needs no body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Reads the user; the state stays unchanged (no store write, no cookie).
    Read,
    /// Increments the counter: a store write and a new cookie.
    Write,
    /// Sent without a cookie: creates the session (user, roles, counter).
    Login,
    /// Never touches the session, while a valid cookie is present.
    Untouched,
}

impl Route {
    pub(crate) const ALL: [Self; 4] = [Self::Read, Self::Write, Self::Login, Self::Untouched];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Login => "login",
            Self::Untouched => "untouched",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|route| route.as_str() == text)
    }

    pub(crate) fn path(self) -> &'static str {
        match self {
            Self::Read => "/read",
            Self::Write => "/write",
            Self::Login => "/login",
            Self::Untouched => "/untouched",
        }
    }

    /// Whether the request carries the session cookie.
    pub(crate) fn sends_cookie(self) -> bool {
        !matches!(self, Self::Login)
    }
}

/// The same four handlers for a session type with actix-session's `get`/`insert` API.
macro_rules! session_routes {
    ($module:ident, $session:ty) => {
        pub(crate) mod $module {
            use actix_web::{HttpResponse, web};

            async fn read(session: $session) -> actix_web::Result<HttpResponse> {
                Ok(match session.get::<String>("user")? {
                    Some(user) => HttpResponse::Ok().body(user),
                    None => HttpResponse::Unauthorized().finish(),
                })
            }

            async fn write(session: $session) -> actix_web::Result<HttpResponse> {
                let counter = session.get::<u64>("counter")?.unwrap_or(0) + 1;
                session.insert("counter", counter)?;
                Ok(HttpResponse::Ok().body(counter.to_string()))
            }

            async fn login(session: $session) -> actix_web::Result<HttpResponse> {
                session.insert("user", super::USER)?;
                session.insert("roles", ["reader", "writer"])?;
                session.insert("counter", 0u64)?;
                for (key, value) in super::state_padding() {
                    session.insert(key.as_str(), value)?;
                }
                Ok(HttpResponse::Ok().body("welcome"))
            }

            /// Every route of a mode, for `App::configure`.
            pub(crate) fn configure(config: &mut web::ServiceConfig) {
                config
                    .route("/read", web::get().to(read))
                    .route("/write", web::get().to(write))
                    .route("/login", web::get().to(login))
                    .route("/untouched", web::get().to(super::untouched));
            }
        }
    };
}

session_routes!(ours, session::Session);

/// Our routes, with a login that also binds the session to its owner.
pub(crate) mod ours_bound {
    use actix_web::{HttpResponse, web};

    async fn login(session: session::Session) -> actix_web::Result<HttpResponse> {
        session.insert("user", super::USER)?;
        session.insert("roles", ["reader", "writer"])?;
        session.insert("counter", 0u64)?;
        for (key, value) in super::state_padding() {
            session.insert(key.as_str(), value)?;
        }
        session.set_owner(super::USER);
        Ok(HttpResponse::Ok().body("welcome"))
    }

    /// Every route of a bound mode, for `App::configure`: `/login` binds, the others are
    /// `ours`'.
    pub(crate) fn configure(config: &mut web::ServiceConfig) {
        config.route("/login", web::get().to(login));
        super::ours::configure(config);
    }
}
session_routes!(actix, actix_session::Session);

/// The route that never touches the session (the same handler in every mode).
async fn untouched() -> HttpResponse {
    HttpResponse::Ok().body("static")
}

/// The no-middleware server: the same paths answering what a session would have said.
pub(crate) mod baseline {
    use actix_web::{HttpResponse, web};

    async fn read() -> HttpResponse {
        HttpResponse::Ok().body(super::USER)
    }

    async fn write() -> HttpResponse {
        HttpResponse::Ok().body(1u64.to_string())
    }

    async fn login() -> HttpResponse {
        HttpResponse::Ok().body("welcome")
    }

    /// Every route, for `App::configure`.
    pub(crate) fn configure(config: &mut web::ServiceConfig) {
        config
            .route("/read", web::get().to(read))
            .route("/write", web::get().to(write))
            .route("/login", web::get().to(login))
            .route("/untouched", web::get().to(super::untouched));
    }
}

/// Our middleware over `store`, configured as `mode` says.
pub(crate) fn ours_middleware<St: session::storage::SessionStore>(
    store: St,
    mode: Mode,
    state_ttl: Option<time::Duration>,
) -> session::SessionMiddleware<St> {
    use session::{CookieContentSecurity, config::BrowserSession};
    let security = match mode.store {
        StoreKind::CookieSigned => CookieContentSecurity::Signed,
        _ => CookieContentSecurity::Private,
    };
    let mut lifecycle = BrowserSession::default();
    if let Some(ttl) = state_ttl {
        lifecycle = lifecycle.state_ttl(ttl);
    }
    session::SessionMiddleware::builder(store, key())
        .cookie_content_security(security)
        .session_lifecycle(lifecycle)
        .lazy_loading(mode.lazy)
        .build()
}

/// actix-session's middleware over `store`, configured as `mode` says.
pub(crate) fn actix_middleware<St: actix_session::storage::SessionStore>(
    store: St,
    mode: Mode,
    state_ttl: Option<time::Duration>,
) -> actix_session::SessionMiddleware<St> {
    use actix_session::config::{BrowserSession, CookieContentSecurity};
    let security = match mode.store {
        StoreKind::CookieSigned => CookieContentSecurity::Signed,
        _ => CookieContentSecurity::Private,
    };
    let mut lifecycle = BrowserSession::default();
    if let Some(ttl) = state_ttl {
        lifecycle = lifecycle.state_ttl(ttl);
    }
    actix_session::SessionMiddleware::builder(store, key())
        .cookie_content_security(security)
        .session_lifecycle(lifecycle)
        .build()
}

/// Adds the routes of `mode`'s implementation.
pub(crate) fn configure_for(imp: Impl) -> fn(&mut web::ServiceConfig) {
    configure_for_mode(Mode {
        imp,
        ..Mode::BASELINE
    })
}

/// The routes of `mode` (a bound mode's login binds the session).
pub(crate) fn configure_for_mode(mode: Mode) -> fn(&mut web::ServiceConfig) {
    if mode.bound && mode.imp == Impl::Ours {
        return ours_bound::configure;
    }
    match mode.imp {
        Impl::None => baseline::configure,
        Impl::Ours => ours::configure,
        Impl::Actix => actix::configure,
    }
}

/// A `redis-server` on a free loopback port, without persistence, killed on drop.
pub(crate) struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    /// Starts `redis-server` (from `$REDIS_SERVER` or the `PATH`) and waits until it accepts
    /// connections.
    pub(crate) fn start() -> Self {
        let port = free_port();
        let program = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned());
        let child = Command::new(program)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (apt-get install redis-server)");
        let server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        while TcpStream::connect(address).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}
