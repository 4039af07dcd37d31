//! A driver for `valgrind --tool=callgrind`: sends N in-process requests of one route to one
//! mode's app, so instruction counts (nearly deterministic, even on a loaded machine) can be
//! compared per request.
//!
//! The measured requests are bracketed by two marker functions: run callgrind with
//! `--zero-before='*callgrind_start_marker*' --dump-before='*callgrind_stop_marker*'` and the
//! first dump holds exactly the N measured requests, everything included (the runtime, and
//! for Redis the connection's driver task), without process start, set-up, login or warm-up.
//! `scripts/bench-callgrind.sh` does that for every mode and route.
//!
//! ```text
//! cargo bench -p session --bench callgrind --no-run     # prints the binary's path
//! valgrind --tool=callgrind --zero-before='*callgrind_start_marker*' \
//!     --dump-before='*callgrind_stop_marker*' target/release/deps/callgrind-HASH ours-cookie-private read 5000
//! ```
//!
//! Arguments: `MODE ROUTE COUNT`, with MODE `baseline`, `ours-cookie-signed`,
//! `ours-cookie-private`, `ours-memory`, `ours-redis`, `ours-redis-cached` (the near cache
//! on), a `-lazy` suffix on ours, a `-bound` suffix on ours (the login binds the session
//! to an owner: `ours-memory-bound read` is a read of a bound session), or `actix-cookie-signed`, `actix-cookie-private`,
//! `actix-redis`; ROUTE `read`, `write`, `login` or `untouched`. Redis modes start their own
//! `redis-server` (not traced: valgrind does not follow children by default).
//! `$BENCH_STATE_KIB` (`2`, `32`...) makes the login's state about that large (see
//! `support::state_padding`; `--state-kib` of the script); unset, it is about 0.1 KiB.

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

/// Callgrind zeroes its counters when this is entered.
#[inline(never)]
fn callgrind_start_marker(count: u64) {
    std::hint::black_box(count);
}

/// Callgrind dumps its counters (the measured requests) when this is entered.
#[inline(never)]
fn callgrind_stop_marker(count: u64) {
    std::hint::black_box(count.wrapping_add(1));
}

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
        callgrind_start_marker(count);
        app.run(route, count).await;
        callgrind_stop_marker(count);
    });
    drop(redis);
    ExitCode::SUCCESS
}
