//! `RedisSessionStore` on a real three-master Redis Cluster, through the real middleware:
//! the same scenarios as on a standalone server.
#![cfg(feature = "redis-session")]

mod support;

use std::time::Duration;

use session::storage::RedisSessionStore;
use support::{redis_scenarios, redis_server::RedisCluster};

async fn store(cluster: &RedisCluster, prefix: &str) -> RedisSessionStore {
    RedisSessionStore::cluster_builder(cluster.urls())
        .key_prefix(prefix)
        .build()
        .await
        .expect("connect to the test cluster")
}

/// One cluster for all scenarios (starting one takes seconds); each scenario has its own key
/// prefix.
#[actix_web::test]
async fn cluster_store_semantics() {
    let cluster = RedisCluster::start();

    let debug = format!("{:?}", store(&cluster, "dbg:").await);
    assert!(debug.contains("cluster"), "{debug}");

    redis_scenarios::lifecycle(store(&cluster, "life:").await, &cluster, "life:").await;
    // Sessions spread over the three masters.
    let spread = store(&cluster, "spread:").await;
    let app = redis_scenarios::app(spread, None, Default::default()).await;
    for _ in 0..30 {
        let reply =
            redis_scenarios::send(&app, actix_web::http::Method::POST, "/set/a/1", None).await;
        assert_eq!(reply.status, actix_web::http::StatusCode::OK);
    }
    for node in cluster.nodes() {
        let count = node.cli(&["DBSIZE"]);
        assert_ne!(count, "0", "node {} holds no session", node.addr());
    }

    redis_scenarios::concurrent_partial_updates(store(&cluster, "partial:").await).await;
    redis_scenarios::logout_during_request(store(&cluster, "logout:").await, &cluster, "logout:")
        .await;
    let fixed = RedisSessionStore::cluster_builder(cluster.urls())
        .cache_keygen(|_| "fixed-cluster-key".to_owned())
        .connect_timeout(Some(Duration::from_secs(2)))
        .response_timeout(Some(Duration::from_secs(1)))
        .build()
        .await
        .expect("connect");
    redis_scenarios::key_collision_is_detected(fixed, &cluster, "fixed-cluster-key").await;
    redis_scenarios::millisecond_ttl(store(&cluster, "ttl:").await, &cluster, "ttl:").await;
}

/// The conformance suite every store passes.
#[actix_web::test]
async fn acceptance_suite() {
    let cluster = RedisCluster::start();
    let store = store(&cluster, "session:").await;
    session::test_helpers::acceptance_test_suite(move || store.clone(), true).await;
}

/// A master dies: requests for its sessions fail fast; once it is back (same port, same
/// cluster config) they succeed again without rebuilding the store.
#[actix_web::test]
async fn cluster_node_failure_and_recovery() {
    use std::time::Instant;

    use actix_web::http::{Method, StatusCode};
    use support::redis_scenarios::{Inspect as _, send};

    let mut cluster = RedisCluster::start();
    let store = RedisSessionStore::cluster_builder(cluster.urls())
        .connect_timeout(Some(Duration::from_millis(1000)))
        .response_timeout(Some(Duration::from_millis(500)))
        .build()
        .await
        .expect("connect to the test cluster");
    let app = redis_scenarios::app(store, None, Default::default()).await;
    let cookie = send(&app, Method::POST, "/set/user/alice", None)
        .await
        .session_cookie();
    let key = cluster.keys("session:*").pop().expect("the session's key");
    let owner = cluster
        .nodes()
        .iter()
        .position(|node| node.cli(&["EXISTS", &key]) == "1")
        .expect("a node holds the session");

    cluster.node_mut(owner).kill();
    let started = Instant::now();
    let reply = send(&app, Method::GET, "/get", Some(&cookie)).await;
    let elapsed = started.elapsed();
    eprintln!("a request for a session on a dead master failed in {elapsed:?}");
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.body.is_empty(), "opaque 500");
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");

    cluster.node_mut(owner).restart();
    cluster.wait_until_ok();
    // The restarted master lost its data: the old cookie gives a fresh session, and a new
    // session on any slot works.
    let restarted = Instant::now();
    let deadline = restarted + Duration::from_secs(10);
    for attempt in 1.. {
        let reply = send(&app, Method::GET, "/get", Some(&cookie)).await;
        if reply.status == StatusCode::OK {
            eprintln!(
                "recovered on attempt {attempt}, {:?} after cluster_state:ok",
                restarted.elapsed()
            );
            assert_eq!(reply.json(), serde_json::json!({}));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the store did not recover: {reply:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..10 {
        let reply = send(&app, Method::POST, "/set/user/bob", None).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
}

/// No lost updates on a cluster: parallel requests, same-key races, logout and renew races.
#[actix_web::test]
async fn concurrency_suite() {
    let cluster = RedisCluster::start();
    let store = store(&cluster, "session:").await;
    session::test_helpers::concurrency_test_suite(move || store.clone()).await;
}
