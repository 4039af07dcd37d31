//! The server of the load benchmark (`scripts/bench-load.sh`): one worker, one mode.
//!
//! ```text
//! cargo run --release --example bench_server -- --impl ours --store cookie-private --port 8080
//! cargo run --release --example bench_server -- --impl actix --store redis --redis-url redis://127.0.0.1:6379
//! cargo run --release --example bench_server -- --impl ours --store memory --ttl-secs 2
//! cargo run --release --features redis-session --example bench_server -- --impl ours --store redis --lazy
//! cargo run --release --example bench_server -- --store postgres --database-url postgres://postgres@127.0.0.1/postgres
//! cargo run --release --example bench_server -- --store sqlite --database-url /tmp/sessions.db
//! ```
//!
//! Options: `--impl ours|actix|none`,
//! `--store cookie-private|cookie-signed|memory|redis|postgres|sqlite`,
//! `--lazy` (ours: load the session on first extraction), `--near-cache` (ours on Redis: with
//! the near cache), `--ttl-secs N` (the state TTL,
//! default one day), `--port P` (default 8080, 0 for any), `--redis-url URL` (default
//! `$REDIS_URL` or `redis://127.0.0.1:6379`), `--database-url URL` (ours on Postgres or SQLite,
//! default `$DATABASE_URL`: a `postgres://` URL or a SQLite file). Environment variables `BENCH_IMPL`,
//! `BENCH_STORE`, `BENCH_LAZY=1`, `BENCH_TTL_SECS`, `BENCH_PORT` work too.
//!
//! Routes (all `GET`): `/login` creates a session (user, roles, counter), `/read` reads the
//! user, `/write` increments the counter, `/untouched` never touches the session. With
//! `--impl none` the same paths answer without any middleware. The bound address is printed
//! as `listening on 127.0.0.1:PORT` once the server accepts connections. Ours on Postgres or
//! SQLite also answers `/acquire`: a connection taken from the store's pool and given back,
//! without the session (the floor under each of the store's statements).

#[path = "../session/benches/support/mod.rs"]
mod support;

use std::{net::Ipv4Addr, process::ExitCode};

use actix_web::{App, HttpResponse, HttpServer, cookie::time, web};

use crate::support::{Impl, Mode, StoreKind, actix_middleware, configure_for, ours_middleware};

struct Options {
    mode: Mode,
    ttl: Option<time::Duration>,
    port: u16,
    redis_url: String,
    database_url: Option<String>,
}

fn parse_options() -> Result<Options, String> {
    let env = |name: &str| std::env::var(name).ok();
    let mut imp = env("BENCH_IMPL").unwrap_or_else(|| "ours".to_owned());
    let mut store = env("BENCH_STORE").unwrap_or_else(|| "cookie-private".to_owned());
    let mut lazy = env("BENCH_LAZY").is_some_and(|value| value == "1" || value == "true");
    let mut near_cache = false;
    let mut ttl = env("BENCH_TTL_SECS");
    let mut port = env("BENCH_PORT").unwrap_or_else(|| "8080".to_owned());
    let mut redis_url = env("REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let mut database_url = env("DATABASE_URL");

    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--impl" => imp = value()?,
            "--store" => store = value()?,
            "--lazy" => lazy = true,
            "--near-cache" => near_cache = true,
            "--ttl-secs" => ttl = Some(value()?),
            "--port" => port = value()?,
            "--redis-url" => redis_url = value()?,
            "--database-url" => database_url = Some(value()?),
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }

    let store = StoreKind::parse(&store).ok_or_else(|| format!("unknown store {store:?}"))?;
    let mode = match imp.as_str() {
        "none" => Mode::BASELINE,
        "ours" if near_cache && store != StoreKind::Redis => {
            return Err("the near cache is for our Redis store".to_owned());
        }
        "ours" => Mode {
            near_cache,
            ..Mode::ours(store, lazy)
        },
        "actix" if lazy => return Err("actix-session has no lazy loading".to_owned()),
        "actix" if store == StoreKind::Memory => {
            return Err("actix-session has no memory store".to_owned());
        }
        "actix" if matches!(store, StoreKind::Postgres | StoreKind::Sqlite) => {
            return Err("actix-session has no SQL store".to_owned());
        }
        "actix" => Mode::actix(store),
        other => return Err(format!("unknown implementation {other:?}")),
    };
    let ttl = match ttl {
        Some(text) => {
            let seconds: i64 = text
                .parse()
                .ok()
                .filter(|seconds| *seconds > 0)
                .ok_or_else(|| format!("--ttl-secs wants a positive integer, got {text:?}"))?;
            Some(time::Duration::seconds(seconds))
        }
        None => None,
    };
    let port = port
        .parse()
        .map_err(|_| format!("--port wants a port number, got {port:?}"))?;
    Ok(Options {
        mode,
        ttl,
        port,
        redis_url,
        database_url,
    })
}

/// The `/acquire` route over a SQL store's pool: takes a connection and gives it back, the
/// floor under every statement of the store (sqlx pings a connection before handing it out).
macro_rules! acquire_route {
    ($pool:expr) => {{
        let pool = $pool;
        web::get().to(move || {
            let pool = pool.clone();
            async move {
                match pool.acquire().await {
                    Ok(_connection) => HttpResponse::Ok().finish(),
                    Err(_) => HttpResponse::ServiceUnavailable().finish(),
                }
            }
        })
    }};
}

/// Runs a one-worker server over the app that `$factory` builds.
macro_rules! serve {
    ($options:expr, $factory:expr) => {{
        let server = HttpServer::new($factory)
            .workers(1)
            .bind((Ipv4Addr::LOCALHOST, $options.port))?;
        for address in server.addrs() {
            println!("listening on {address}");
        }
        server.run().await
    }};
}

async fn run(options: Options) -> std::io::Result<()> {
    let mode = options.mode;
    let ttl = options.ttl;
    let configure = configure_for(mode.imp);
    match (mode.imp, mode.store) {
        (Impl::None, _) => serve!(options, move || App::new().configure(configure)),
        (Impl::Ours, StoreKind::CookieSigned | StoreKind::CookiePrivate) => {
            // Stateless: one per worker.
            serve!(options, move || App::new()
                .wrap(ours_middleware(
                    session::storage::CookieSessionStore::default(),
                    mode,
                    ttl
                ))
                .configure(configure))
        }
        (Impl::Ours, StoreKind::Memory) => {
            let store = session::storage::MemorySessionStore::new();
            serve!(options, move || App::new()
                .wrap(ours_middleware(store.clone(), mode, ttl))
                .configure(configure))
        }
        #[cfg(feature = "redis-session")]
        (Impl::Ours, StoreKind::Redis) => {
            let cache = if mode.near_cache {
                session::storage::NearCache::new()
            } else {
                session::storage::NearCache::off()
            };
            let store = session::storage::RedisSessionStore::builder(options.redis_url.clone())
                .near_cache(cache)
                .build()
                .await
                .map_err(std::io::Error::other)?;
            serve!(options, move || App::new()
                .wrap(ours_middleware(store.clone(), mode, ttl))
                .configure(configure))
        }
        #[cfg(not(feature = "redis-session"))]
        (Impl::Ours, StoreKind::Redis) => Err(std::io::Error::other(
            "our Redis store needs `--features redis-session`",
        )),
        (Impl::Actix, StoreKind::CookieSigned | StoreKind::CookiePrivate) => {
            // Stateless: one per worker.
            serve!(options, move || App::new()
                .wrap(actix_middleware(
                    actix_session::storage::CookieSessionStore::default(),
                    mode,
                    ttl
                ))
                .configure(configure))
        }
        (Impl::Actix, StoreKind::Memory) => {
            Err(std::io::Error::other("actix-session has no memory store"))
        }
        (Impl::Actix, StoreKind::Redis) => {
            let store = actix_session::storage::RedisSessionStore::new(options.redis_url.clone())
                .await
                .map_err(std::io::Error::other)?;
            serve!(options, move || App::new()
                .wrap(actix_middleware(store.clone(), mode, ttl))
                .configure(configure))
        }
        (Impl::Ours, StoreKind::Postgres) => {
            let url = options.database_url.clone().ok_or_else(no_database_url)?;
            let store = session::storage::PostgresSessionStore::new(url)
                .await
                .map_err(std::io::Error::other)?;
            serve!(options, move || {
                let pool = store.pool().clone();
                App::new()
                    .wrap(ours_middleware(store.clone(), mode, ttl))
                    .configure(configure)
                    .route("/acquire", acquire_route!(pool))
            })
        }
        (Impl::Ours, StoreKind::Sqlite) => {
            let url = options.database_url.clone().ok_or_else(no_database_url)?;
            let store = session::storage::SqliteSessionStore::new(url)
                .await
                .map_err(std::io::Error::other)?;
            serve!(options, move || {
                let pool = store.pool().clone();
                App::new()
                    .wrap(ours_middleware(store.clone(), mode, ttl))
                    .configure(configure)
                    .route("/acquire", acquire_route!(pool))
            })
        }
        (Impl::Actix, StoreKind::Postgres | StoreKind::Sqlite) => {
            Err(std::io::Error::other("actix-session has no SQL store"))
        }
    }
}

fn no_database_url() -> std::io::Error {
    std::io::Error::other("the SQL stores need `--database-url URL`")
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("bench_server: {message}");
            }
            eprintln!(
                "usage: bench_server [--impl ours|actix|none] \
                 [--store cookie-private|cookie-signed|memory|redis|postgres|sqlite] [--lazy] \
                 [--near-cache] [--ttl-secs N] [--port P] [--redis-url URL] \
                 [--database-url URL]"
            );
            return ExitCode::from(2);
        }
    };
    match actix_web::rt::System::new().block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench_server: {err}");
            ExitCode::FAILURE
        }
    }
}
