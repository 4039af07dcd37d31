//! The Redis store when Redis fails: killed, restarted, frozen, or a peer that never answers.
//! Requests fail fast with an opaque 500 and recover without rebuilding the store.
#![cfg(feature = "redis-session")]

mod support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use actix_web::http::{Method, StatusCode};
use serde_json::json;
use session::storage::{RedisSessionStore, RedisStoreError};
use support::{
    redis_scenarios::{app, send},
    redis_server::{RedisServer, SilentPeer},
};

/// The response timeout the failure tests configure.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
/// The connect timeout the failure tests configure.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);

async fn store(url: String) -> RedisSessionStore {
    RedisSessionStore::builder(url)
        .connect_timeout(Some(CONNECT_TIMEOUT))
        .response_timeout(Some(RESPONSE_TIMEOUT))
        .build()
        .await
        .expect("connect to the test redis-server")
}

#[actix_web::test]
async fn a_killed_redis_fails_fast_and_a_restarted_one_is_used_again() {
    let mut server = RedisServer::start();
    let app = app(store(server.url()).await, None, Arc::default()).await;
    let cookie = send(&app, Method::POST, "/set/user/alice", None)
        .await
        .session_cookie();

    server.kill();
    for path in ["/get", "/set/user/bob"] {
        let started = Instant::now();
        let method = if path == "/get" {
            Method::GET
        } else {
            Method::POST
        };
        let reply = send(&app, method, path, Some(&cookie)).await;
        let elapsed = started.elapsed();
        eprintln!("{path} with Redis down failed in {elapsed:?}");
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(reply.body.is_empty(), "opaque 500");
        assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    }
    // A fresh session needs a save: that fails fast too.
    let started = Instant::now();
    let reply = send(&app, Method::POST, "/set/user/carol", None).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(started.elapsed() < Duration::from_secs(3));

    server.restart();
    // The restarted server lost its data (no persistence): the old cookie gives a fresh
    // session, and new sessions work, all without rebuilding the app or the store.
    let started = Instant::now();
    let reply = send(&app, Method::GET, "/get", Some(&cookie)).await;
    eprintln!(
        "first request after the restart took {:?}",
        started.elapsed()
    );
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({}));
    let cookie = send(&app, Method::POST, "/set/user/dave", None)
        .await
        .session_cookie();
    let reply = send(&app, Method::GET, "/get", Some(&cookie)).await;
    assert_eq!(reply.json(), json!({"user": "dave"}));
}

#[actix_web::test]
async fn a_frozen_redis_fails_within_the_response_timeout() {
    let server = RedisServer::start();
    let app = app(store(server.url()).await, None, Arc::default()).await;
    let cookie = send(&app, Method::POST, "/set/user/alice", None)
        .await
        .session_cookie();

    server.pause();
    let started = Instant::now();
    let reply = send(&app, Method::GET, "/get", Some(&cookie)).await;
    let elapsed = started.elapsed();
    eprintln!("a request on a frozen Redis failed in {elapsed:?}");
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.body.is_empty(), "opaque 500");
    assert!(elapsed >= RESPONSE_TIMEOUT, "it waited for the timeout");
    assert!(elapsed < RESPONSE_TIMEOUT * 3, "took {elapsed:?}");

    server.resume();
    let reply = send(&app, Method::GET, "/get", Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({"user": "alice"}));
}

#[actix_web::test]
async fn building_against_a_silent_peer_fails_within_the_timeouts() {
    let peer = SilentPeer::start();
    let started = Instant::now();
    let result = RedisSessionStore::builder(peer.url())
        .connect_timeout(Some(CONNECT_TIMEOUT))
        .response_timeout(Some(RESPONSE_TIMEOUT))
        .build()
        .await;
    let elapsed = started.elapsed();
    eprintln!("building against a silent peer failed in {elapsed:?}");
    let err = result.expect_err("the peer never answers");
    assert!(
        matches!(
            err,
            RedisStoreError::Timeout { .. } | RedisStoreError::Connect(_)
        ),
        "{err:?}"
    );
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}

#[actix_web::test]
async fn building_against_a_closed_port_fails_fast() {
    // Port 1 (tcpmux) is closed on any test machine: the connection is refused. (A port that
    // was free a moment ago could be taken by a server another test starts.)
    let started = Instant::now();
    let result = RedisSessionStore::builder("redis://127.0.0.1:1")
        .connect_timeout(Some(CONNECT_TIMEOUT))
        .response_timeout(Some(RESPONSE_TIMEOUT))
        .build()
        .await;
    let err = result.expect_err("nothing listens");
    assert!(matches!(err, RedisStoreError::Connect(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[actix_web::test]
async fn default_timeouts_bound_a_silent_peer_too() {
    let peer = SilentPeer::start();
    let started = Instant::now();
    let result = RedisSessionStore::new(peer.url()).await;
    let elapsed = started.elapsed();
    eprintln!("building with default timeouts against a silent peer failed in {elapsed:?}");
    assert!(result.is_err());
    // Defaults: 5 s connect + 2 s response (+ retry pauses).
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
}

#[actix_web::test]
async fn invalid_urls_are_configuration_errors() {
    let err = RedisSessionStore::new("http://127.0.0.1:6379")
        .await
        .expect_err("not a Redis URL");
    assert!(matches!(err, RedisStoreError::Config(_)), "{err:?}");
    let err = RedisSessionStore::cluster(Vec::<String>::new())
        .await
        .expect_err("no nodes");
    assert!(matches!(err, RedisStoreError::NoClusterNodes), "{err:?}");
}

/// `rediss://` goes through TLS: against a plain-text server the handshake fails with an
/// error (no panic for a missing crypto provider).
#[cfg(any(feature = "redis-session-rustls", feature = "redis-session-native-tls"))]
#[actix_web::test]
async fn rediss_urls_use_tls() {
    let server = RedisServer::start();
    let url = format!("rediss://127.0.0.1:{}", server.port());
    let started = Instant::now();
    let err = RedisSessionStore::builder(url)
        .connect_timeout(Some(CONNECT_TIMEOUT))
        .response_timeout(Some(RESPONSE_TIMEOUT))
        .build()
        .await
        .expect_err("the server does not speak TLS");
    eprintln!("TLS against a plain-text server: {err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}
