//! In-process apps for the criterion benches and the callgrind driver: `init_service` +
//! `Service::call`, no network. Every mode is erased to the same `Rc<dyn Fn>` so the loop is
//! shared; that erasure (one boxed future per request) costs the same in every mode,
//! baseline included, and cancels out of "above baseline" figures.

use std::{future::Future, pin::Pin, rc::Rc};

use actix_web::{
    App, Error,
    body::MessageBody,
    dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse},
    http::{
        StatusCode,
        header::{self, HeaderValue},
    },
    test,
};

use super::support::{
    Impl, Mode, Route, StoreKind, actix_middleware, configure_for, ours_middleware,
};

type Call = Rc<dyn Fn(actix_http::Request) -> Pin<Box<dyn Future<Output = ServiceResponse>>>>;

/// One mode's app, ready to be called, with the cookie its routes send.
pub(crate) struct InProcApp {
    call: Call,
    /// `id=...` from a login on this very app (the baseline sends a dummy of similar size).
    cookie: HeaderValue,
}

impl InProcApp {
    /// Builds `mode`'s app (Redis, Postgres and SQLite modes connect to `server_url`) and
    /// logs in once for the cookie. Must run inside an actix system.
    pub(crate) async fn new(mode: Mode, server_url: Option<&str>) -> Self {
        let call = build(mode, server_url).await;
        let cookie = if mode.imp == Impl::None {
            HeaderValue::from_static(
                "id=baselinebaselinebaselinebaselinebaselinebaselinebaselinebaselinebaseline",
            )
        } else {
            let response = call(request(Route::Login, None)).await;
            assert_eq!(response.status(), StatusCode::OK, "{mode}: login failed");
            let set_cookie = response
                .headers()
                .get(header::SET_COOKIE)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_else(|| panic!("{mode}: login sent no cookie"));
            let pair = set_cookie.split(';').next().unwrap_or_default().to_owned();
            HeaderValue::from_str(&pair).expect("a cookie pair is a valid header value")
        };
        let app = Self { call, cookie };
        app.check(mode).await;
        app
    }

    /// One request for `route`, built here (the cookie is already prepared).
    pub(crate) fn request(&self, route: Route) -> actix_http::Request {
        request(route, route.sends_cookie().then_some(&self.cookie))
    }

    /// Sends one request.
    pub(crate) fn call(
        &self,
        request: actix_http::Request,
    ) -> Pin<Box<dyn Future<Output = ServiceResponse>>> {
        (self.call)(request)
    }

    /// Runs `count` requests to `route`, in sequence.
    pub(crate) async fn run(&self, route: Route, count: u64) {
        for _ in 0..count {
            let response = self.call(self.request(route)).await;
            std::hint::black_box(response);
        }
    }

    /// Every route answers 200, and the cookie is accepted (`/read` would say 401).
    async fn check(&self, mode: Mode) {
        for route in Route::ALL {
            let response = self.call(self.request(route)).await;
            assert_eq!(response.status(), StatusCode::OK, "{mode} {route:?}");
            let sets_cookie = response.headers().contains_key(header::SET_COOKIE);
            let expected = mode.imp != Impl::None && matches!(route, Route::Write | Route::Login);
            assert_eq!(sets_cookie, expected, "{mode} {route:?}: Set-Cookie");
        }
    }
}

fn request(route: Route, cookie: Option<&HeaderValue>) -> actix_http::Request {
    let mut request = test::TestRequest::get().uri(route.path());
    if let Some(cookie) = cookie {
        request = request.insert_header((header::COOKIE, cookie.clone()));
    }
    request.to_request()
}

async fn erase<T, B>(app: App<T>) -> Call
where
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    let service = Rc::new(test::init_service(app).await);
    Rc::new(move |request| {
        let service = Rc::clone(&service);
        Box::pin(async move {
            match service.call(request).await {
                Ok(response) => response.map_into_boxed_body(),
                Err(err) => panic!("the service failed: {err}"),
            }
        })
    })
}

async fn build(mode: Mode, server_url: Option<&str>) -> Call {
    let configure = configure_for(mode.imp);
    match (mode.imp, mode.store) {
        (Impl::None, _) => erase(App::new().configure(configure)).await,
        (Impl::Ours, StoreKind::CookieSigned | StoreKind::CookiePrivate) => {
            let store = session::storage::CookieSessionStore::default();
            erase(
                App::new()
                    .wrap(ours_middleware(store, mode, None))
                    .configure(configure),
            )
            .await
        }
        (Impl::Ours, StoreKind::Memory) => {
            let store = session::storage::MemorySessionStore::new();
            erase(
                App::new()
                    .wrap(ours_middleware(store, mode, None))
                    .configure(configure),
            )
            .await
        }
        #[cfg(feature = "redis-session")]
        (Impl::Ours, StoreKind::Redis) => {
            let url = server_url.expect("a Redis URL for a Redis mode");
            let cache = if mode.near_cache {
                session::storage::NearCache::new()
            } else {
                session::storage::NearCache::off()
            };
            let store = session::storage::RedisSessionStore::builder(url)
                .near_cache(cache)
                .build()
                .await
                .expect("connect to the bench redis-server");
            erase(
                App::new()
                    .wrap(ours_middleware(store, mode, None))
                    .configure(configure),
            )
            .await
        }
        #[cfg(not(feature = "redis-session"))]
        (Impl::Ours, StoreKind::Redis) => {
            panic!("{mode} needs `--features redis-session` (and the Redis store)")
        }
        (Impl::Actix, StoreKind::CookieSigned | StoreKind::CookiePrivate) => {
            let store = actix_session::storage::CookieSessionStore::default();
            erase(
                App::new()
                    .wrap(actix_middleware(store, mode, None))
                    .configure(configure),
            )
            .await
        }
        #[cfg(feature = "postgres-session")]
        (Impl::Ours, StoreKind::Postgres) => {
            let url = server_url.expect("a database URL for a Postgres mode");
            let store = session::storage::PostgresSessionStore::new(url)
                .await
                .expect("connect to the bench Postgres");
            erase(
                App::new()
                    .wrap(ours_middleware(store, mode, None))
                    .configure(configure),
            )
            .await
        }
        #[cfg(feature = "sqlite-session")]
        (Impl::Ours, StoreKind::Sqlite) => {
            let url = server_url.expect("a database file for a SQLite mode");
            let store = session::storage::SqliteSessionStore::new(url)
                .await
                .expect("open the bench SQLite file");
            erase(
                App::new()
                    .wrap(ours_middleware(store, mode, None))
                    .configure(configure),
            )
            .await
        }
        #[cfg(not(all(feature = "postgres-session", feature = "sqlite-session")))]
        (Impl::Ours, StoreKind::Postgres | StoreKind::Sqlite) => {
            panic!("{mode} needs `--features postgres-session,sqlite-session`")
        }
        (Impl::Actix, StoreKind::Postgres | StoreKind::Sqlite) => {
            panic!("actix-session has no SQL store")
        }
        (Impl::Actix, StoreKind::Memory) => panic!("actix-session has no memory store"),
        (Impl::Actix, StoreKind::Redis) => {
            let url = server_url.expect("a Redis URL for a Redis mode");
            let store = actix_session::storage::RedisSessionStore::new(url)
                .await
                .expect("connect to the bench redis-server");
            erase(
                App::new()
                    .wrap(actix_middleware(store, mode, None))
                    .configure(configure),
            )
            .await
        }
    }
}

/// Whether this build can run `mode` (ours on Redis needs the `redis-session` feature, on
/// Postgres and SQLite `postgres-session` and `sqlite-session`; actix-session has neither a
/// memory nor a SQL store).
pub(crate) fn supported(mode: Mode) -> bool {
    let ours = mode.imp == Impl::Ours;
    match mode.store {
        StoreKind::CookieSigned | StoreKind::CookiePrivate => true,
        StoreKind::Memory => ours,
        StoreKind::Redis => !ours || cfg!(feature = "redis-session"),
        StoreKind::Postgres | StoreKind::Sqlite => {
            ours && cfg!(all(
                feature = "postgres-session",
                feature = "sqlite-session"
            ))
        }
    }
}
