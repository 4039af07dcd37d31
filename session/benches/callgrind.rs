//! A driver for `valgrind --tool=callgrind`: sends N in-process requests of one route to one
//! mode's app, so instruction counts (deterministic even on a loaded machine) can be compared
//! per request. `scripts/bench-callgrind.sh` runs it twice per mode and route, with N and 2N
//! requests, and divides the difference by N: set-up, login and process start cancel out.
//!
//! ```text
//! cargo bench -p session --bench callgrind --no-run     # prints the binary's path
//! valgrind --tool=callgrind target/release/deps/callgrind-* ours-cookie-private read 2000
//! ```
//!
//! Arguments: `MODE ROUTE COUNT`, with MODE `baseline`, `ours-cookie-signed`,
//! `ours-cookie-private`, `ours-memory`, `ours-redis`, a `-lazy` suffix on ours, or
//! `actix-cookie-signed`, `actix-cookie-private`, `actix-redis`; ROUTE `read`, `write`,
//! `login` or `untouched`. Redis modes start their own `redis-server` (not traced: valgrind
//! does not follow children by default).

#[path = "support/inproc.rs"]
mod inproc;
mod support;

use std::process::ExitCode;

use crate::{
    inproc::{InProcApp, supported},
    support::{Mode, RedisServer, Route, StoreKind},
};

/// Requests sent before counting starts, so one-time lazy initialisation is not counted.
const WARM_UP: u64 = 200;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` runs every bench target with `--bench`: nothing to do then.
    if args.iter().any(|arg| arg == "--bench") || args.is_empty() {
        eprintln!("usage: callgrind MODE ROUTE COUNT (see scripts/bench-callgrind.sh)");
        return ExitCode::SUCCESS;
    }
    let (Some(mode), Some(route), Some(count)) = (
        args.first().and_then(|text| Mode::parse(text)),
        args.get(1).and_then(|text| Route::parse(text)),
        args.get(2).and_then(|text| text.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: callgrind MODE ROUTE COUNT; got {args:?}");
        return ExitCode::from(2);
    };
    if !supported(mode) {
        eprintln!("{mode} is not supported by this build");
        return ExitCode::from(3);
    }
    let redis = (mode.store == StoreKind::Redis).then(RedisServer::start);
    let url = redis.as_ref().map(RedisServer::url);
    actix_rt::System::new().block_on(async {
        let app = InProcApp::new(mode, url.as_deref()).await;
        app.run(route, WARM_UP).await;
        app.run(route, count).await;
    });
    drop(redis);
    ExitCode::SUCCESS
}
