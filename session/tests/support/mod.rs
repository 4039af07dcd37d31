//! Code shared by the integration tests. Each test file declares `mod support;` and uses
//! the parts it needs:
//!
//! - `counter`: a counter in the session and an app around it (`counter_app!`);
//! - `handlers`: the handlers several apps route to (logout, renew);
//! - `http_helpers`: requests in one line, and the cookies a response sets;
//! - `logs`: what the code under test logs, captured (`logs_of`);
//! - `hooked_store`: a store wrapper that counts loads and fails on demand;
//! - `redis_server` and `redis_scenarios`: real Redis servers and the scenarios the Redis
//!   tests share (feature `redis-session`);
//! - `postgres_server`: a private Postgres cluster (feature `postgres-session`);
//! - `sql_scenarios`: the scenarios the Postgres and SQLite store tests share;
//! - `user_app`: the app the hostile-input tests run on any transport, and the broken values
//!   they send;
//! - `manual_clock`: a clock the tests move by hand.

// Every test file is a crate of its own that uses only part of this module; the rest would
// be reported as dead code in that crate.
#![allow(dead_code)]

pub(crate) mod counter;
pub(crate) mod handlers;
pub(crate) mod hooked_store;
pub(crate) mod http_helpers;
pub(crate) mod logs;
#[cfg(feature = "postgres-session")]
pub(crate) mod postgres_server;
#[cfg(feature = "redis-session")]
pub(crate) mod redis_scenarios;
#[cfg(feature = "redis-session")]
pub(crate) mod redis_server;
#[cfg(any(feature = "postgres-session", feature = "sqlite-session"))]
pub(crate) mod sql_scenarios;
pub(crate) mod user_app;

use actix_web::cookie::time::{Duration, OffsetDateTime};
use session::config::Clock;

/// A port on 127.0.0.1 that was free a moment ago.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("no free loopback port")
}

/// The instant the manual clocks of the tests start at: day 20 000 after the Unix epoch.
pub(crate) fn start_time() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
}

/// A clock at [`start_time`] that only moves when a test advances it.
pub(crate) fn manual_clock() -> Clock {
    Clock::manual(start_time())
}
