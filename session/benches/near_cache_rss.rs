//! The near cache's memory under many distinct sessions: creates `SESSIONS` sessions in a
//! local `redis-server`, then loads them round-robin `READS` times through a
//! `RedisSessionStore` whose near cache holds `CAPACITY` entries, printing the process's
//! resident set size (`VmRSS`) and the cache's counters every million loads. With
//! `SESSIONS` well above `CAPACITY` the cache evicts on every fill, so the samples show
//! whether its memory stays bounded. `scripts/bench-near-cache-rss.sh` builds and runs it.
//!
//! ```text
//! cargo bench -p session --features redis-session --bench near_cache_rss -- SESSIONS READS CAPACITY
//! ```
//!
//! `$BENCH_STATE_KIB` sizes each state as for the callgrind driver; `$BENCH_IN_FLIGHT`
//! (default 32) is how many loads run at once.

mod support;

use std::process::ExitCode;

use actix_web::cookie::time::Duration;
use futures_util::future::join_all;
use session::storage::{NearCache, RedisSessionStore, SessionState, SessionStore};

use crate::support::{RedisServer, USER, state_padding};

/// Loads between two samples.
const SAMPLE_EVERY: u64 = 1_000_000;

/// This process's resident set size in KiB, from `/proc/self/status`.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn state() -> SessionState {
    let mut state = SessionState::new();
    state.insert("user".to_owned(), USER.into());
    state.insert("roles".to_owned(), serde_json::json!(["reader", "writer"]));
    state.insert("counter".to_owned(), 0u64.into());
    for (key, value) in state_padding() {
        state.insert(key.clone(), value.as_str().into());
    }
    state
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let numbers: Vec<u64> = args.iter().filter_map(|arg| arg.parse().ok()).collect();
    // `cargo bench` runs every bench target with `--bench`: nothing to do then.
    let [sessions, reads, capacity] = numbers[..] else {
        eprintln!(
            "usage: near_cache_rss SESSIONS READS CAPACITY (see scripts/bench-near-cache-rss.sh)"
        );
        return ExitCode::SUCCESS;
    };
    let in_flight: usize = std::env::var("BENCH_IN_FLIGHT")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(32);
    let redis = RedisServer::start();
    actix_rt::System::new().block_on(async {
        let capacity = usize::try_from(capacity).expect("capacity fits usize");
        let store = RedisSessionStore::builder(redis.url())
            .near_cache(NearCache::new().capacity(capacity))
            .build()
            .await
            .expect("connect to the bench redis-server");
        let rss_start = rss_kib();
        let ttl = Duration::hours(1);
        let mut keys = Vec::new();
        for _ in 0..sessions {
            keys.push(store.save(state(), &ttl).await.expect("save a session"));
        }
        println!(
            "sessions {sessions}, capacity {capacity}, state {} bytes, in flight {in_flight}",
            serde_json::to_string(&state()).map_or(0, |json| json.len())
        );
        println!("| reads | VmRSS KiB | hits | misses |");
        println!("|---:|---:|---:|---:|");
        println!("| before creating sessions | {rss_start} | | |");
        let sample = |done: u64| {
            let stats = store.near_cache_stats();
            println!(
                "| {done} | {} | {} | {} |",
                rss_kib(),
                stats.hits,
                stats.misses
            );
        };
        sample(0);
        let mut done = 0u64;
        let mut next = 0usize;
        while done < reads {
            let batch = (reads - done)
                .min(in_flight as u64)
                .min(SAMPLE_EVERY - done % SAMPLE_EVERY);
            let loads = (0..batch).map(|_| {
                let key = &keys[next];
                next = (next + 1) % keys.len();
                store.load(key)
            });
            for loaded in join_all(loads).await {
                assert!(
                    loaded.expect("load a session").is_some(),
                    "a session vanished"
                );
            }
            done += batch;
            if done.is_multiple_of(SAMPLE_EVERY) || done == reads {
                sample(done);
            }
        }
    });
    drop(redis);
    ExitCode::SUCCESS
}
