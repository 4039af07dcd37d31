//! The in-process cost of one request through the session middleware, ours against
//! actix-session 0.11 and against no middleware at all.
//!
//! ```text
//! cargo bench -p session --bench middleware                       # everything
//! cargo bench -p session --bench middleware -- read/              # one route
//! cargo bench -p session --bench middleware -- --warm-up-time 1 --measurement-time 2
//! cargo bench -p session --features redis-session --bench middleware   # + our Redis store
//! cargo bench -p session --features postgres-session,sqlite-session --bench middleware -- ours-postgres ours-sqlite
//! ```
//!
//! Groups are routes, functions are modes, so the report reads as a table:
//! `read/baseline`, `read/ours-cookie-private`, `read/actix-cookie-private`, ...
//!
//! - `read`: reads the user from a valid session, no change.
//! - `write`: increments a counter (a store write and a new cookie).
//! - `login`: no cookie in; the handler creates the session.
//! - `untouched`: a valid cookie is sent, the handler never extracts the session (ours eager
//!   and `-lazy`).
//!
//! Each request is sent with `Service::call` on an `init_service` app, on a current-thread
//! actix system, one request at a time; the request cookie is prepared once per mode from a
//! real login on the same app. The Redis modes start their own `redis-server` on a free
//! loopback port (`$REDIS_SERVER` overrides the binary); the Postgres modes a private cluster
//! (as the Postgres store tests do), the SQLite modes a file in a temporary directory.

#[path = "support/inproc.rs"]
mod inproc;
#[cfg(feature = "postgres-session")]
#[path = "../tests/support/postgres_server.rs"]
#[allow(dead_code)]
mod postgres_server;
mod support;

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

#[allow(unused_imports)] // the Postgres server's module finds its free port here
use crate::support::free_port;
use crate::{
    inproc::{InProcApp, supported},
    support::{Mode, RedisServer, Route, StoreKind},
};

/// The modes measured on `route`, baseline first.
fn modes(route: Route) -> Vec<Mode> {
    let mut modes = vec![Mode::BASELINE];
    for store in [
        StoreKind::CookieSigned,
        StoreKind::CookiePrivate,
        StoreKind::Memory,
        StoreKind::Redis,
        StoreKind::Postgres,
        StoreKind::Sqlite,
    ] {
        modes.push(Mode::ours(store, false));
        if route == Route::Untouched {
            modes.push(Mode::ours(store, true));
        }
        modes.push(Mode::actix(store));
    }
    modes.retain(|mode| supported(*mode));
    modes
}

fn middleware(c: &mut Criterion) {
    let system = actix_rt::System::new();
    let redis = RedisServer::start();
    let url = redis.url();
    #[cfg(feature = "postgres-session")]
    let postgres = postgres_server::PostgresServer::start();
    let sqlite_dir = std::env::temp_dir().join(format!("session-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&sqlite_dir);
    let sqlite = sqlite_dir.join("sessions.db").display().to_string();
    for route in Route::ALL {
        let mut group = c.benchmark_group(route.as_str());
        for mode in modes(route) {
            let server_url = match mode.store {
                #[cfg(feature = "postgres-session")]
                StoreKind::Postgres => postgres.url(),
                StoreKind::Sqlite => sqlite.clone(),
                _ => url.clone(),
            };
            let app = system.block_on(InProcApp::new(mode, Some(&server_url)));
            group.bench_function(mode.to_string(), |b| {
                b.iter_custom(|iterations| {
                    system.block_on(async {
                        let start = Instant::now();
                        app.run(route, iterations).await;
                        start.elapsed()
                    })
                });
            });
        }
        group.finish();
    }
    drop(redis);
    let _ = std::fs::remove_dir_all(sqlite_dir);
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = middleware
}
criterion_main!(benches);
