//! `RedisSessionStore` and `RedisActorSessionStore` on a real standalone `redis-server`,
//! through the real middleware.
#![cfg(feature = "redis-session")]

mod support;

use std::collections::BTreeSet;

use actix_web::cookie::time::{Duration, OffsetDateTime};
use serde_json::{Value, json};
use session::{
    config::Clock,
    storage::{
        LoadError, NearCache, RedisActorSessionStore, RedisSessionStore, SessionChanges,
        SessionKey, SessionState, SessionStore, UpdateError, generate_session_key,
    },
};
use support::{
    redis_scenarios::{self, Inspect as _},
    redis_server::RedisServer,
};

async fn store(server: &RedisServer) -> RedisSessionStore {
    RedisSessionStore::new(server.url())
        .await
        .expect("connect to the test redis-server")
}

fn state(value: Value) -> SessionState {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

#[actix_web::test]
async fn lifecycle_through_the_middleware() {
    let server = RedisServer::start();
    redis_scenarios::lifecycle(store(&server).await, &server, "session:").await;
}

#[actix_web::test]
async fn custom_prefix() {
    let server = RedisServer::start();
    let store = RedisSessionStore::builder(server.url())
        .key_prefix("app1:s:")
        .build()
        .await
        .expect("connect");
    redis_scenarios::lifecycle(store, &server, "app1:s:").await;
}

#[actix_web::test]
async fn concurrent_requests_keep_each_others_changes() {
    let server = RedisServer::start();
    redis_scenarios::concurrent_partial_updates(store(&server).await).await;
}

#[actix_web::test]
async fn logout_is_not_undone_by_an_in_flight_request() {
    let server = RedisServer::start();
    redis_scenarios::logout_during_request(store(&server).await, &server, "session:").await;
}

#[actix_web::test]
async fn new_sessions_never_overwrite_an_existing_key() {
    let server = RedisServer::start();
    let store = RedisSessionStore::builder(server.url())
        .cache_keygen(|_| "fixed".to_owned())
        .build()
        .await
        .expect("connect");
    redis_scenarios::key_collision_is_detected(store.clone(), &server, "fixed").await;

    let err = store
        .save(state(json!({"x": 1})), &Duration::minutes(1))
        .await
        .expect_err("every key collides");
    assert!(
        format!("{:?}", std::error::Error::source(&err)).contains("KeyCollision"),
        "{err:?}"
    );
}

#[actix_web::test]
async fn ttls_have_millisecond_precision() {
    let server = RedisServer::start();
    redis_scenarios::millisecond_ttl(store(&server).await, &server, "session:").await;
}

#[actix_web::test]
async fn updates_never_create_a_session() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let ttl = Duration::minutes(5);
    let key = generate_session_key();
    let redis_key = format!("session:{}", key.as_ref());

    let err = store
        .update(key.clone(), state(json!({"a": 1})), &ttl)
        .await
        .expect_err("no such session");
    assert!(matches!(err, UpdateError::NotFound), "{err:?}");
    let changes = SessionChanges::new(
        state(json!({"a": 1})),
        BTreeSet::from(["a".to_owned()]),
        false,
    );
    let err = store
        .update_changes(key.clone(), changes, &ttl)
        .await
        .expect_err("no such session");
    assert!(matches!(err, UpdateError::NotFound), "{err:?}");
    let err = store
        .update_ttl(&key, &ttl)
        .await
        .expect_err("no such session");
    assert!(matches!(err, UpdateError::NotFound), "{err:?}");
    assert_eq!(server.cli(&["EXISTS", &redis_key]), "0");
    assert_eq!(store.load(&key).await.expect("load"), None);
    store
        .delete(&key)
        .await
        .expect("deleting an unknown key is fine");
}

/// The format version in a session hash's envelope (`version:seen`).
fn envelope_version(server: &RedisServer, redis_key: &str) -> String {
    let envelope = server.cli(&["HGET", redis_key, "__v"]);
    envelope.split(':').next().expect("an envelope").to_owned()
}

#[actix_web::test]
async fn store_operations_round_trip() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let ttl = Duration::minutes(5);

    let key = store
        .save(state(json!({"a": 1, "b": [1, 2], "_c": {"d": null}})), &ttl)
        .await
        .expect("save");
    let redis_key = format!("session:{}", key.as_ref());
    assert_eq!(
        store.load(&key).await.expect("load"),
        Some(state(json!({"a": 1, "b": [1, 2], "_c": {"d": null}})))
    );

    // A patch touches only the named keys.
    server.cli(&["HSET", &redis_key, "other", "\"concurrent\""]);
    let changes = SessionChanges::new(
        state(json!({"a": 2, "_c": {"d": null}})),
        BTreeSet::from(["a".to_owned(), "b".to_owned()]),
        false,
    );
    store
        .update_changes(key.clone(), changes, &Duration::milliseconds(90_000))
        .await
        .expect("update_changes");
    assert_eq!(
        store.load(&key).await.expect("load"),
        Some(state(
            json!({"a": 2, "_c": {"d": null}, "other": "concurrent"})
        ))
    );
    let pttl: i64 = server.cli(&["PTTL", &redis_key]).parse().expect("PTTL");
    assert!(pttl > 80_000 && pttl <= 90_000, "{pttl}");

    // A cleared change set and a full update replace everything but keep a valid envelope.
    let cleared = SessionChanges::new(state(json!({"z": true})), BTreeSet::new(), true);
    store
        .update_changes(key.clone(), cleared, &ttl)
        .await
        .expect("replace");
    assert_eq!(
        store.load(&key).await.expect("load"),
        Some(state(json!({"z": true})))
    );
    store
        .update(key.clone(), state(json!({"y": "x"})), &ttl)
        .await
        .expect("update");
    assert_eq!(
        store.load(&key).await.expect("load"),
        Some(state(json!({"y": "x"})))
    );
    assert_eq!(envelope_version(&server, &redis_key), "3");

    // Refreshing extends the TTL in milliseconds.
    store
        .update_ttl(&key, &Duration::milliseconds(2500))
        .await
        .expect("update_ttl");
    let pttl: i64 = server.cli(&["PTTL", &redis_key]).parse().expect("PTTL");
    assert!(pttl > 1500 && pttl <= 2500, "{pttl}");

    // A TTL of zero ends the session.
    store
        .update(key.clone(), state(json!({"y": "x"})), &Duration::ZERO)
        .await
        .expect("update with a zero TTL");
    assert_eq!(server.cli(&["EXISTS", &redis_key]), "0");

    // ... and a new session with a TTL of zero is not stored at all.
    let key = store
        .save(state(json!({"a": 1})), &Duration::ZERO)
        .await
        .expect("save");
    assert_eq!(store.load(&key).await.expect("load"), None);
    assert!(server.keys("session:*").is_empty());
}

#[actix_web::test]
async fn undecodable_records_give_a_fresh_session() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let ttl = Duration::minutes(5);

    let key = store
        .save(state(json!({"a": 1})), &ttl)
        .await
        .expect("save");
    let redis_key = format!("session:{}", key.as_ref());
    server.cli(&["HSET", &redis_key, "__v", "999"]);
    let err = store.load(&key).await.expect_err("unknown format version");
    assert!(matches!(err, LoadError::Deserialization(_)), "{err:?}");

    server.cli(&["HSET", &redis_key, "__v", "1:0:0", "a", "{not json"]);
    let err = store.load(&key).await.expect_err("not JSON");
    assert!(matches!(err, LoadError::Deserialization(_)), "{err:?}");

    server.cli(&["DEL", &redis_key]);
    server.cli(&["SET", &redis_key, "{\"a\":1}"]);
    let err = store
        .load(&key)
        .await
        .expect_err("a string record, as actix-session 0.6 wrote them");
    assert!(matches!(err, LoadError::Deserialization(_)), "{err:?}");
}

#[actix_web::test]
async fn debug_output_hides_passwords() {
    let builder = RedisSessionStore::builder("redis://admin:hunter2@127.0.0.1:1/0");
    let debug = format!("{builder:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("admin:***@127.0.0.1:1"), "{debug}");

    let server = RedisServer::start();
    let url = format!("redis://:nopass@127.0.0.1:{}", server.port());
    // The server has no password: connecting with one fails, and the error does not leak it.
    let err = RedisSessionStore::new(url).await.expect_err("AUTH fails");
    let report = format!("{err} {err:?}");
    assert!(!report.contains("nopass"), "{report}");

    for bad in [
        "redis://u:nopass@127.0.0.1:notaport",
        "redis://u:nopass@[::1/0",
        "ftp://u:nopass@127.0.0.1:1",
    ] {
        let err = RedisSessionStore::new(bad).await.expect_err("invalid URL");
        let report = format!("{err} {err:?} {:?}", std::error::Error::source(&err));
        assert!(!report.contains("nopass"), "{report}");
    }

    let store = store(&server).await;
    let debug = format!("{store:?}");
    assert!(debug.contains("RedisSessionStore"), "{debug}");
    assert!(debug.contains("standalone"), "{debug}");
}

#[actix_web::test]
async fn actor_store_connects_lazily_and_works() {
    let server = RedisServer::start();
    let store = RedisActorSessionStore::new(server.addr());
    assert!(format!("{store:?}").contains("connected: false"));
    redis_scenarios::lifecycle(store.clone(), &server, "session:").await;
    assert!(format!("{store:?}").contains("connected: true"));

    let store = RedisActorSessionStore::builder(server.url())
        .cache_keygen(|key| format!("legacy:{key}"))
        .build();
    redis_scenarios::lifecycle(store, &server, "legacy:").await;
}

#[actix_web::test]
async fn actor_store_reports_an_unreachable_server_per_request() {
    // Port 1 (tcpmux) is closed on any test machine: the connection is refused.
    let store = RedisActorSessionStore::new("127.0.0.1:1");
    let err = store
        .load(&generate_session_key())
        .await
        .expect_err("nothing listens");
    assert!(matches!(err, LoadError::Other(_)), "{err:?}");
}

/// The conformance suite every store passes.
#[actix_web::test]
async fn acceptance_suite() {
    let server = RedisServer::start();
    let store = store(&server).await;
    session::test_helpers::acceptance_test_suite(move || store.clone(), true).await;
}

/// The conformance suite with the token in a request header.
#[actix_web::test]
async fn header_transport_suite() {
    let server = RedisServer::start();
    let store = store(&server).await;
    session::test_helpers::header_transport_test_suite(move || store.clone(), true).await;
}

/// The conformance suite on the actix-session 0.6 store.
#[actix_web::test]
async fn acceptance_suite_actor_store() {
    let server = RedisServer::start();
    let store = RedisActorSessionStore::new(server.addr());
    session::test_helpers::acceptance_test_suite(move || store.clone(), true).await;
}

#[actix_web::test]
async fn resp3_connections_work_too() {
    let server = RedisServer::start();
    let store = RedisSessionStore::new(format!("{}/?protocol=resp3", server.url()))
        .await
        .expect("connect with RESP3");
    redis_scenarios::lifecycle(store, &server, "session:").await;
}

#[actix_web::test]
async fn large_sessions_are_written_in_chunks() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let ttl = Duration::minutes(5);
    let big: SessionState = (0..1500)
        .map(|i| {
            (
                format!("{}k{i}", if i % 3 == 0 { "_" } else { "" }),
                json!(i),
            )
        })
        .collect();
    let key = store.save(big.clone(), &ttl).await.expect("save");
    assert_eq!(store.load(&key).await.expect("load"), Some(big.clone()));

    // Remove 1000 keys and change 500 in one patch.
    let mut after = big.clone();
    let mut touched = BTreeSet::new();
    for (i, name) in big.keys().enumerate() {
        touched.insert(name.clone());
        if i % 3 == 0 {
            after.insert(name.clone(), json!("changed"));
        } else {
            after.remove(name);
        }
    }
    store
        .update_changes(
            key.clone(),
            SessionChanges::new(after.clone(), touched, false),
            &ttl,
        )
        .await
        .expect("update_changes");
    assert_eq!(store.load(&key).await.expect("load"), Some(after.clone()));

    store
        .update(key.clone(), big.clone(), &ttl)
        .await
        .expect("update");
    assert_eq!(store.load(&key).await.expect("load"), Some(big));
}

/// No lost updates: parallel requests, same-key races, logout and renew races.
#[actix_web::test]
async fn concurrency_suite() {
    let server = RedisServer::start();
    let store = store(&server).await;
    session::test_helpers::concurrency_test_suite(move || store.clone()).await;
}

#[actix_web::test]
async fn the_envelope_records_the_last_seen_time() {
    let server = RedisServer::start();
    let start = OffsetDateTime::from_unix_timestamp(1_767_225_600).expect("a valid time");
    let clock = Clock::manual(start);
    let store = RedisSessionStore::builder(server.url())
        .clock(clock.clone())
        .build()
        .await
        .expect("connect to the test redis-server");
    let ttl = Duration::minutes(5);
    let envelope =
        |key: &SessionKey| server.cli(&["HGET", &format!("session:{}", key.as_ref()), "__v"]);

    let key = store
        .save(state(json!({"a": 1})), &ttl)
        .await
        .expect("save");
    assert_eq!(envelope(&key), "3:1767225600000:1");

    clock.advance(Duration::seconds(5));
    store.update_ttl(&key, &ttl).await.expect("update_ttl");
    assert_eq!(envelope(&key), "3:1767225605000:2");

    // Sets entry `a` to `value` with a patch.
    let patch_a = |key: SessionKey, value: i64| {
        let changes = SessionChanges::new(
            state(json!({ "a": value })),
            BTreeSet::from(["a".to_owned()]),
            false,
        );
        let store = &store;
        async move { store.update_changes(key, changes, &ttl).await }
    };

    clock.advance(Duration::seconds(5));
    let key = patch_a(key, 2).await.expect("update_changes");
    assert_eq!(envelope(&key), "3:1767225610000:3");

    // A record whose envelope is broken is written to but stays unreadable: never revived.
    server.cli(&[
        "HSET",
        &format!("session:{}", key.as_ref()),
        "__v",
        "broken",
    ]);
    let key = patch_a(key, 3).await.expect("update_changes");
    assert_eq!(envelope(&key), "broken");
    let err = store.load(&key).await.expect_err("no valid envelope");
    assert!(matches!(err, LoadError::Deserialization(_)), "{err:?}");
}

/// A record in format version 2 (`2:<last seen>`, no revision) loads, and its next write
/// rewrites the envelope in version 3 at revision 1, with or without a near cache.
#[actix_web::test]
async fn a_version_2_record_is_upgraded_by_its_next_write() {
    let server = RedisServer::start();
    for (n, cache) in [NearCache::off(), NearCache::new()].into_iter().enumerate() {
        let store = RedisSessionStore::builder(server.url())
            .near_cache(cache)
            .build()
            .await
            .expect("connect to the test redis-server");
        let key = SessionKey::try_from(n.to_string().repeat(64)).expect("a session key");
        let redis_key = format!("session:{}", key.as_ref());
        server.cli(&["HSET", &redis_key, "__v", "2:1767225600000", "a", "1"]);
        server.cli(&["PEXPIRE", &redis_key, "60000"]);
        assert_eq!(
            store.load(&key).await.expect("load"),
            Some(state(json!({"a": 1})))
        );
        let changes = SessionChanges::new(
            state(json!({"a": 2})),
            BTreeSet::from(["a".to_owned()]),
            false,
        );
        store
            .update_changes(key.clone(), changes, &Duration::minutes(5))
            .await
            .expect("update_changes");
        let envelope = server.cli(&["HGET", &redis_key, "__v"]);
        assert!(
            envelope.starts_with("3:") && envelope.ends_with(":1"),
            "{envelope}"
        );
        assert_eq!(
            store.load(&key).await.expect("load"),
            Some(state(json!({"a": 2})))
        );
    }
}

/// A server that forgot the write scripts (`SCRIPT FLUSH`, a restart, a new Cluster node) is
/// sent them again: every write still lands, with or without a near cache.
#[actix_web::test]
async fn writes_survive_a_script_flush() {
    let server = RedisServer::start();
    for cache in [NearCache::off(), NearCache::new()] {
        let store = RedisSessionStore::builder(server.url())
            .near_cache(cache)
            .build()
            .await
            .expect("connect to the test redis-server");
        let ttl = Duration::minutes(5);
        server.cli(&["SCRIPT", "FLUSH"]);
        let key = store
            .save(state(json!({"a": 1})), &ttl)
            .await
            .expect("save");
        server.cli(&["SCRIPT", "FLUSH"]);
        let changes = SessionChanges::new(
            state(json!({"a": 2})),
            BTreeSet::from(["a".to_owned()]),
            false,
        );
        let key = store
            .update_changes(key, changes, &ttl)
            .await
            .expect("update_changes");
        server.cli(&["SCRIPT", "FLUSH"]);
        store.update_ttl(&key, &ttl).await.expect("update_ttl");
        assert_eq!(
            store.load(&key).await.expect("load"),
            Some(state(json!({"a": 2})))
        );
    }
}

/// A session's metadata entry that carries a field this release does not know (written by
/// a later one) keeps it when a request moves the session without changing its metadata: a
/// renewal stores the entry as it was loaded.
#[actix_web::test]
async fn metadata_fields_this_release_does_not_know_survive_a_renewal() {
    use actix_web::http::Method;
    use redis_scenarios::send;

    let server = RedisServer::start();
    let app = redis_scenarios::app(store(&server).await, None, Default::default()).await;
    let cookie = send(&app, Method::POST, "/set/user/alice", None)
        .await
        .session_cookie();
    let only_key = || {
        let keys = server.keys("session:*");
        assert_eq!(keys.len(), 1, "{keys:?}");
        keys.into_iter().next().expect("one key")
    };
    let meta_field = "_~__session_meta";
    let stored: Value =
        serde_json::from_str(&server.cli(&["HGET", &only_key(), meta_field])).expect("JSON");
    let public_id = stored["id"].as_str().expect("a public id").to_owned();
    let later = json!({"id": public_id, "future": {"kept": true}});
    server.cli(&["HSET", &only_key(), meta_field, &later.to_string()]);

    let renewed = send(&app, Method::POST, "/renew", Some(&cookie)).await;
    assert_ne!(
        renewed.session_cookie().value(),
        cookie.value(),
        "a new key"
    );
    let after: Value =
        serde_json::from_str(&server.cli(&["HGET", &only_key(), meta_field])).expect("JSON");
    assert_eq!(after, later, "the entry as it was loaded");
}
