//! The Redis near cache on real Redis, standalone and a three-master Cluster: two stores with
//! their own connections play two instances of an application, and every read that starts
//! after an instance received Redis's invalidation sees the write.
#![cfg(feature = "redis-session")]

mod support;

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration as StdDuration, Instant},
};

use actix_http::Request;
use actix_web::{
    App, HttpResponse,
    body::MessageBody,
    cookie::{Key, time::Duration},
    dev::{Service, ServiceResponse},
    http::{Method, StatusCode},
    test, web,
};
use serde_json::json;
use session::{
    Session, SessionMiddleware,
    storage::{
        NearCache, NearCacheStats, RedisSessionStore, RedisSessionStoreBuilder, SessionChanges,
        SessionKey, SessionState, SessionStore,
    },
};
use support::{
    handlers::purge,
    redis_scenarios::{Inspect, invalidated, send, wait_for_cache},
    redis_server::{RedisCluster, RedisServer},
};

/// Where the instances connect.
enum Target<'a> {
    Standalone(&'a RedisServer),
    Cluster(&'a RedisCluster),
}

impl Target<'_> {
    fn builder(&self) -> RedisSessionStoreBuilder {
        match self {
            Self::Standalone(server) => RedisSessionStore::builder(server.url()),
            Self::Cluster(cluster) => RedisSessionStore::cluster_builder(cluster.urls()),
        }
    }

    fn inspect(&self) -> &dyn Inspect {
        match self {
            Self::Standalone(server) => *server,
            Self::Cluster(cluster) => *cluster,
        }
    }

    /// Closes every client connection on every node, as a network failure would.
    fn kill_clients(&self) {
        match self {
            Self::Standalone(server) => {
                server.cli(&["CLIENT", "KILL", "TYPE", "normal"]);
            }
            Self::Cluster(cluster) => {
                for node in cluster.nodes() {
                    node.cli(&["CLIENT", "KILL", "TYPE", "normal"]);
                }
            }
        }
    }

    /// A cached store ("an instance") with its own connections.
    async fn instance(&self, prefix: &str, cache: NearCache) -> RedisSessionStore {
        let store = self
            .builder()
            .key_prefix(prefix)
            .near_cache(cache)
            .build()
            .await
            .expect("connect to the test Redis");
        assert!(store.has_near_cache(), "Redis 7 supports client tracking");
        store
    }

    /// A store without a cache: what Redis holds.
    async fn truth(&self, prefix: &str) -> RedisSessionStore {
        self.builder()
            .key_prefix(prefix)
            .build()
            .await
            .expect("connect to the test Redis")
    }
}

fn state(value: serde_json::Value) -> SessionState {
    match value {
        serde_json::Value::Object(map) => map,
        _ => SessionState::new(),
    }
}

/// An instance of the application: the same key on every instance, as in production.
async fn instance_app(
    store: RedisSessionStore,
    key: &Key,
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
    test::init_service(
        App::new()
            .wrap(
                SessionMiddleware::builder(store, key.clone())
                    .cookie_secure(false)
                    .build(),
            )
            .route("/get", web::get().to(get))
            .route("/set/{key}/{value}", web::post().to(set))
            .route("/purge", web::post().to(purge)),
    )
    .await
}

async fn get(session: Session) -> HttpResponse {
    HttpResponse::Ok().json((*session.entries()).clone())
}

async fn set(
    session: Session,
    path: web::Path<(String, String)>,
) -> actix_web::Result<HttpResponse> {
    let (key, value) = path.into_inner();
    session.insert(key, value)?;
    Ok(HttpResponse::Ok().finish())
}

/// Sign in on A, read on B (cached), write on A → B sees it, log out on A → B is logged out.
async fn two_instances(target: &Target<'_>) {
    let a = target.instance("two:", NearCache::new()).await;
    let b = target.instance("two:", NearCache::new()).await;
    let key = Key::generate();
    let (app_a, app_b) = (
        instance_app(a.clone(), &key).await,
        instance_app(b.clone(), &key).await,
    );

    let cookie = send(&app_a, Method::POST, "/set/user/alice", None)
        .await
        .session_cookie();
    for _ in 0..3 {
        let reply = send(&app_b, Method::GET, "/get", Some(&cookie)).await;
        assert_eq!(reply.json(), json!({"user": "alice"}));
    }
    let stats = b.near_cache_stats();
    assert_eq!(stats.misses, 1, "{stats:?}");
    assert_eq!(stats.hits, 2, "B read from its cache: {stats:?}");

    let before = b.near_cache_stats();
    let reply = send(&app_a, Method::POST, "/set/user/bob", Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::OK);
    invalidated(&b, before).await;
    let reply = send(&app_b, Method::GET, "/get", Some(&cookie)).await;
    assert_eq!(reply.json(), json!({"user": "bob"}), "B sees A's write");
    // A's own read after its write: the write left its record in A's cache.
    let before = a.near_cache_stats();
    let reply = send(&app_a, Method::GET, "/get", Some(&cookie)).await;
    assert_eq!(reply.json(), json!({"user": "bob"}));
    assert_eq!(a.near_cache_stats().misses, before.misses, "a hit");

    let before = b.near_cache_stats();
    let reply = send(&app_a, Method::POST, "/purge", Some(&cookie)).await;
    assert!(reply.removes_cookie());
    invalidated(&b, before).await;
    let reply = send(&app_b, Method::GET, "/get", Some(&cookie)).await;
    assert_eq!(reply.json(), json!({}), "B's next request is logged out");
}

/// The session key behind the Redis key `prefix + session key`.
fn session_key(redis_key: &str, prefix: &str) -> SessionKey {
    SessionKey::try_from(redis_key.strip_prefix(prefix).expect("prefixed").to_owned())
        .expect("a session key")
}

/// A TTL refresh on A keeps B's entry alive past the old TTL; expiry then ends it.
async fn ttl_refresh_and_expiry(target: &Target<'_>) {
    let a = target.instance("ttl:", NearCache::new()).await;
    let b = target.instance("ttl:", NearCache::new()).await;
    let key = a
        .save(
            state(json!({"user": "alice"})),
            &Duration::milliseconds(800),
        )
        .await
        .expect("save");
    for _ in 0..2 {
        assert!(b.load(&key).await.expect("load").is_some());
    }
    assert_eq!(b.near_cache_stats().hits, 1);
    let before = b.near_cache_stats();
    a.update_ttl(&key, &Duration::milliseconds(2000))
        .await
        .expect("refresh");
    invalidated(&b, before).await;
    tokio::time::sleep(StdDuration::from_millis(1200)).await;
    assert!(
        b.load(&key).await.expect("load").is_some(),
        "alive past the first TTL"
    );
    assert!(b.load(&key).await.expect("load").is_some());
    tokio::time::sleep(StdDuration::from_millis(1000)).await;
    assert_eq!(
        b.load(&key).await.expect("load"),
        None,
        "an entry is never served past the key's TTL"
    );
}

type HookFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The race of a fill with an invalidation, driven step by step: B's read has its reply;
/// before B stores it, A writes and B handles the invalidation. B must not cache the old
/// record.
async fn fill_races_invalidation(target: &Target<'_>) {
    let prefix = "race:";
    let a = target.instance(prefix, NearCache::new()).await;
    let b = target.instance(prefix, NearCache::new()).await;
    let key = a
        .save(state(json!({"n": 1})), &Duration::minutes(5))
        .await
        .expect("save");

    let fired = Arc::new(AtomicBool::new(false));
    let hook = {
        let (a, b, key, fired) = (a.clone(), b.clone(), key.clone(), Arc::clone(&fired));
        move |_redis_key: String| -> HookFuture {
            let (a, b, key, fired) = (a.clone(), b.clone(), key.clone(), Arc::clone(&fired));
            Box::pin(async move {
                if fired.swap(true, Ordering::SeqCst) {
                    return;
                }
                let before = b.near_cache_stats();
                let changes = SessionChanges::new(
                    state(json!({"n": 2})),
                    ["n".to_owned()].into_iter().collect(),
                    false,
                );
                a.update_changes(key, changes, &Duration::minutes(5))
                    .await
                    .expect("update");
                invalidated(&b, before).await;
            })
        }
    };
    b.__near_cache_fill_hook(Some(hook));
    let raced = b.load(&key).await.expect("load").expect("present");
    assert!(fired.load(Ordering::SeqCst), "the hook ran");
    assert_eq!(
        raced,
        state(json!({"n": 1})),
        "the reply predates the write"
    );
    assert!(
        b.__near_cache_entries().is_empty(),
        "the raced record was not cached"
    );
    let fresh = b.load(&key).await.expect("load").expect("present");
    assert_eq!(fresh, state(json!({"n": 2})));
    b.__near_cache_fill_hook(None::<fn(String) -> HookFuture>);
}

fn changes(value: serde_json::Value) -> SessionChanges {
    let state = state(value);
    let touched = state.keys().cloned().collect();
    SessionChanges::new(state, touched, false)
}

/// Every write (create, update, TTL refresh) leaves the record it wrote in the writer's
/// cache, tracked by Redis: the writer's next read costs no round trip, and another
/// instance's later write reaches it.
async fn writes_fill_the_cache(target: &Target<'_>) {
    let prefix = "wfill:";
    let a = target.instance(prefix, NearCache::new()).await;
    let b = target.instance(prefix, NearCache::new()).await;
    let truth = target.truth(prefix).await;
    let ttl = Duration::minutes(5);
    let key = b.save(state(json!({"n": 1})), &ttl).await.expect("save");
    // An entry of the state B never sent: the update's record is Redis's, not B's state.
    let before = b.near_cache_stats();
    target.inspect().cli(&[
        "HSET",
        &format!("{prefix}{}", key.as_ref()),
        "other",
        "\"theirs\"",
    ]);
    invalidated(&b, before).await;
    assert_eq!(
        b.load(&key).await.expect("load"),
        Some(state(json!({"n": 1, "other": "theirs"})))
    );

    type Write<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;
    let writes: [(&str, Write<'_>); 4] = [
        (
            "update_changes",
            Box::pin(async {
                b.update_changes(key.clone(), changes(json!({"n": 2})), &ttl)
                    .await
                    .expect("update");
            }),
        ),
        (
            "update_changes removing an entry",
            Box::pin(async {
                let mut changes = changes(json!({"n": 3}));
                changes = SessionChanges::new(
                    changes.into_state(),
                    ["n".to_owned(), "other".to_owned()].into(),
                    false,
                );
                b.update_changes(key.clone(), changes, &ttl)
                    .await
                    .expect("update");
            }),
        ),
        (
            "update_ttl",
            Box::pin(async { b.update_ttl(&key, &ttl).await.expect("refresh") }),
        ),
        (
            "update",
            Box::pin(async {
                b.update(key.clone(), state(json!({"n": 3, "other": "b"})), &ttl)
                    .await
                    .expect("update");
            }),
        ),
    ];
    for (n, (write, run)) in writes.into_iter().enumerate() {
        run.await;
        let before = b.near_cache_stats();
        let loaded = b.load(&key).await.expect("load");
        assert_eq!(b.near_cache_stats().misses, before.misses, "{write}: a hit");
        assert_eq!(
            loaded,
            truth.load(&key).await.expect("load"),
            "{write}: the entry is Redis's record"
        );
        // Another instance's write reaches B: the script's read tracked the key again.
        let before = b.near_cache_stats();
        a.update_changes(key.clone(), changes(json!({"by_a": n})), &ttl)
            .await
            .expect("update");
        invalidated(&b, before).await;
        let loaded = b.load(&key).await.expect("load").expect("present");
        assert_eq!(
            loaded.get("by_a"),
            Some(&json!(n)),
            "{write}: B sees A's write"
        );
    }

    // A new session is cached by its creator, and tracked.
    let created = b
        .save(state(json!({"new": true})), &ttl)
        .await
        .expect("save");
    let before = b.near_cache_stats();
    assert!(b.load(&created).await.expect("load").is_some());
    assert_eq!(b.near_cache_stats().misses, before.misses, "save: a hit");
    a.update_changes(created.clone(), changes(json!({"new": false})), &ttl)
        .await
        .expect("update");
    invalidated(&b, before).await;
    assert_eq!(
        b.load(&created).await.expect("load"),
        Some(state(json!({"new": false}))),
        "save: B sees A's write"
    );
}

/// B writes on top of a cached copy that Redis no longer holds: another instance's write
/// whose invalidation B has not handled yet (planted here, as no test can hold a push
/// back). The write's script finds another revision than B's and answers with the whole
/// record, which B caches: B's copy with B's change alone would have lost A's write.
async fn a_write_from_a_stale_copy(target: &Target<'_>) {
    let prefix = "stale:";
    let a = target.instance(prefix, NearCache::new()).await;
    let b = target.instance(prefix, NearCache::new()).await;
    let truth = target.truth(prefix).await;
    let ttl = Duration::minutes(5);
    let key = a
        .save(state(json!({"n": 1, "m": 1})), &ttl)
        .await
        .expect("save");
    assert!(b.load(&key).await.expect("load").is_some());
    let before = b.near_cache_stats();
    a.update_changes(key.clone(), changes(json!({"m": 2})), &ttl)
        .await
        .expect("update");
    invalidated(&b, before).await;
    // Revision 1 is what the save wrote; A's update made it 2.
    b.__near_cache_plant(&key, state(json!({"n": 1, "m": 1})), 1);

    b.update_changes(key.clone(), changes(json!({"n": 5})), &ttl)
        .await
        .expect("update");
    let expected = Some(state(json!({"n": 5, "m": 2})));
    assert_eq!(truth.load(&key).await.expect("load"), expected);
    let before = b.near_cache_stats();
    assert_eq!(
        b.load(&key).await.expect("load"),
        expected,
        "B's entry is Redis's record"
    );
    assert_eq!(b.near_cache_stats().misses, before.misses, "a hit");
}

/// A record in format version 1 goes through a cached write as through an uncached one: it
/// is upgraded, and the entry the write leaves is what Redis then holds.
async fn version_1_records_through_a_cached_write(target: &Target<'_>) {
    let prefix = "v1:";
    let b = target.instance(prefix, NearCache::new()).await;
    let truth = target.truth(prefix).await;
    let key = SessionKey::try_from("v".repeat(64)).expect("a session key");
    let redis_key = format!("{prefix}{}", key.as_ref());
    let redis = target.inspect();
    redis.cli(&["HSET", &redis_key, "__v", "1:5:6", "n", "1"]);
    redis.cli(&["PEXPIRE", &redis_key, "60000"]);
    assert_eq!(
        b.load(&key).await.expect("load"),
        Some(state(json!({"n": 1})))
    );
    b.update_changes(key.clone(), changes(json!({"n": 2})), &Duration::minutes(5))
        .await
        .expect("update");
    let before = b.near_cache_stats();
    let cached = b.load(&key).await.expect("load");
    assert_eq!(b.near_cache_stats().misses, before.misses, "a hit");
    assert_eq!(cached, Some(state(json!({"n": 2}))));
    assert_eq!(cached, truth.load(&key).await.expect("load"));
    assert!(
        redis.cli(&["HGET", &redis_key, "__v"]).starts_with("3:"),
        "the envelope was upgraded"
    );
}

/// A read-then-write route costs one round trip once the session is cached: every write
/// leaves the entry the next request reads.
async fn read_then_write_routes_hit(target: &Target<'_>) {
    let store = target.instance("rw:", NearCache::new()).await;
    let key = Key::generate();
    let app = instance_app(store.clone(), &key).await;
    let cookie = send(&app, Method::POST, "/set/n/0", None)
        .await
        .session_cookie();
    let before = store.near_cache_stats();
    for n in 1..=5 {
        let reply = send(&app, Method::POST, &format!("/set/n/{n}"), Some(&cookie)).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    let after = store.near_cache_stats();
    assert_eq!(after.misses, before.misses, "{after:?}");
    assert_eq!(after.hits, before.hits + 5, "{after:?}");
    let reply = send(&app, Method::GET, "/get", Some(&cookie)).await;
    assert_eq!(reply.json(), json!({"n": "5"}));
}

/// The race of a write's fill with an invalidation, driven step by step: B's write has
/// its reply; before B stores the record, A writes and B handles the invalidation. B must
/// not cache the record its write returned.
async fn write_fill_races_invalidation(target: &Target<'_>) {
    let prefix = "wrace:";
    let a = target.instance(prefix, NearCache::new()).await;
    let b = target.instance(prefix, NearCache::new()).await;
    let ttl = Duration::minutes(5);
    let key = a.save(state(json!({"n": 1})), &ttl).await.expect("save");

    let fired = Arc::new(AtomicBool::new(false));
    let hook = {
        let (a, b, key, fired) = (a.clone(), b.clone(), key.clone(), Arc::clone(&fired));
        move |_redis_key: String| -> HookFuture {
            let (a, b, key, fired) = (a.clone(), b.clone(), key.clone(), Arc::clone(&fired));
            Box::pin(async move {
                if fired.swap(true, Ordering::SeqCst) {
                    return;
                }
                let before = b.near_cache_stats();
                a.update_changes(key, changes(json!({"by": "a"})), &Duration::minutes(5))
                    .await
                    .expect("update");
                invalidated(&b, before).await;
            })
        }
    };
    b.__near_cache_fill_hook(Some(hook));
    b.update_changes(key.clone(), changes(json!({"by": "b"})), &ttl)
        .await
        .expect("update");
    assert!(fired.load(Ordering::SeqCst), "the hook ran");
    assert!(
        b.__near_cache_entries().is_empty(),
        "the raced record was not cached"
    );
    b.__near_cache_fill_hook(None::<fn(String) -> HookFuture>);
    let fresh = b.load(&key).await.expect("load").expect("present");
    assert_eq!(fresh, state(json!({"n": 1, "by": "a"})));
}

/// Many concurrent reads and writes of a few sessions from both instances; once quiet,
/// every cached entry equals what Redis holds.
async fn stress(target: &Target<'_>) {
    let prefix = "stress:";
    let a = target.instance(prefix, NearCache::new()).await;
    let b = target.instance(prefix, NearCache::new()).await;
    let truth = target.truth(prefix).await;
    let mut keys = Vec::new();
    for _ in 0..4 {
        keys.push(
            a.save(state(json!({"n": 0})), &Duration::minutes(5))
                .await
                .expect("save"),
        );
    }
    let keys = Arc::new(keys);
    // Writes stop before the end; the reads that follow keep any stale entry a race left.
    let writes_end = Instant::now() + StdDuration::from_millis(1500);
    let deadline = Instant::now() + StdDuration::from_secs(2);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..16_u64 {
        let store = if worker % 2 == 0 {
            a.clone()
        } else {
            b.clone()
        };
        let keys = Arc::clone(&keys);
        tasks.spawn(async move {
            let mut step = worker;
            while Instant::now() < deadline {
                step = step.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let key = keys[(step >> 33) as usize % keys.len()].clone();
                let writing = Instant::now() < writes_end;
                if (step >> 40) % 3 == 0 && writing {
                    let changes = SessionChanges::new(
                        state(json!({"n": step >> 44, "by": worker})),
                        ["n".to_owned(), "by".to_owned()].into_iter().collect(),
                        false,
                    );
                    store
                        .update_changes(key, changes, &Duration::minutes(5))
                        .await
                        .expect("update");
                } else if (step >> 40) % 7 == 1 && writing {
                    store
                        .update_ttl(&key, &Duration::minutes(5))
                        .await
                        .expect("refresh");
                } else {
                    store.load(&key).await.expect("load");
                }
                // A hit never waits: let the other tasks (and the push handling) run.
                tokio::task::yield_now().await;
            }
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.expect("a stress task");
    }
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    let mut checked = 0_usize;
    for store in [&a, &b] {
        let stats = store.near_cache_stats();
        assert!(stats.hits > 0 && stats.invalidations > 0, "{stats:?}");
        for (redis_key, cached) in store.__near_cache_entries() {
            let stored = truth
                .load(&session_key(&redis_key, prefix))
                .await
                .expect("load");
            assert_eq!(Some(cached), stored, "a stale entry for {redis_key}");
            checked += 1;
        }
    }
    assert!(checked >= keys.len(), "the reads cached the sessions again");
    eprintln!(
        "stress: A {:?}, B {:?}, {checked} entries checked",
        a.near_cache_stats(),
        b.near_cache_stats()
    );
}

/// Connections dropped while B holds entries, and a write made meanwhile: B flushes and
/// sees the write.
async fn disconnection(target: &Target<'_>) {
    let prefix = "conn:";
    let a = target.instance(prefix, NearCache::new()).await;
    let b = target.instance(prefix, NearCache::new()).await;
    let key = a
        .save(state(json!({"n": 1})), &Duration::minutes(5))
        .await
        .expect("save");
    for _ in 0..2 {
        b.load(&key).await.expect("load");
    }
    assert_eq!(b.near_cache_stats().hits, 1);
    let before = b.near_cache_stats();
    target.kill_clients();
    wait_for_cache(&b, "a flush", |now| now.flushes > before.flushes).await;
    let redis_key = format!("{prefix}{}", key.as_ref());
    target.inspect().cli(&["HSET", &redis_key, "n", "2"]);
    assert_eq!(
        b.load(&key).await.expect("load"),
        Some(state(json!({"n": 2}))),
        "the write made while B was disconnected is seen"
    );
    let _ = a;
}

/// Capacity and maximum age.
async fn bounds(target: &Target<'_>) {
    let prefix = "bounds:";
    let a = target.instance(prefix, NearCache::new()).await;
    let b = target
        .instance(
            prefix,
            NearCache::new()
                .capacity(3)
                .max_age(StdDuration::from_millis(300)),
        )
        .await;
    let mut keys = Vec::new();
    for n in 0..10 {
        keys.push(
            a.save(state(json!({ "n": n })), &Duration::minutes(5))
                .await
                .expect("save"),
        );
    }
    for key in &keys {
        b.load(key).await.expect("load");
        assert!(b.__near_cache_entries().len() <= 3, "capacity respected");
    }
    let last = keys.last().expect("a key");
    b.load(last).await.expect("load");
    let before = b.near_cache_stats();
    assert!(before.hits >= 1);
    tokio::time::sleep(StdDuration::from_millis(400)).await;
    b.load(last).await.expect("load");
    assert_eq!(
        b.near_cache_stats().misses,
        before.misses + 1,
        "an entry older than max_age is read again"
    );
}

async fn scenarios(target: &Target<'_>) {
    two_instances(target).await;
    ttl_refresh_and_expiry(target).await;
    fill_races_invalidation(target).await;
    writes_fill_the_cache(target).await;
    a_write_from_a_stale_copy(target).await;
    version_1_records_through_a_cached_write(target).await;
    read_then_write_routes_hit(target).await;
    write_fill_races_invalidation(target).await;
    stress(target).await;
    disconnection(target).await;
    bounds(target).await;
}

#[actix_web::test]
async fn standalone_near_cache_is_exact() {
    let server = RedisServer::start();
    scenarios(&Target::Standalone(&server)).await;
}

#[actix_web::test]
async fn cluster_near_cache_is_exact() {
    let cluster = RedisCluster::start();
    scenarios(&Target::Cluster(&cluster)).await;
}

/// A change of the cluster's slot map empties the cache, the entries of slots that did not
/// move included; a session that moved with its slot and was then changed on its new node
/// is read anew.
#[actix_web::test]
async fn a_slot_move_flushes_the_cache() {
    let cluster = RedisCluster::start();
    let target = Target::Cluster(&cluster);
    let prefix = "slots:";
    let b = target.instance(prefix, NearCache::new()).await;
    let redis_key = |key: &SessionKey| format!("{prefix}{}", key.as_ref());
    let moving = b
        .save(state(json!({"n": 1})), &Duration::minutes(5))
        .await
        .expect("save");
    let (from, slot) = cluster.owner_of(&redis_key(&moving));
    let staying = loop {
        let key = b
            .save(state(json!({"n": 1})), &Duration::minutes(5))
            .await
            .expect("save");
        if cluster.owner_of(&redis_key(&key)).0 != from {
            break key;
        }
    };
    for key in [&moving, &staying] {
        assert!(b.load(key).await.expect("load").is_some());
    }
    assert!(
        b.__near_cache_entries()
            .iter()
            .any(|(key, _)| *key == redis_key(&staying)),
        "the session that stays is cached"
    );

    let before = b.near_cache_stats();
    let to = (from + 1) % cluster.nodes().len();
    cluster.move_slot(slot, from, to);
    wait_for_cache(&b, "a flush", |now| now.flushes > before.flushes).await;
    assert!(
        b.__near_cache_entries().is_empty(),
        "the whole cache is emptied"
    );

    cluster.nodes()[to].cli(&["HSET", &redis_key(&moving), "n", "2"]);
    assert_eq!(
        b.load(&moving).await.expect("load"),
        Some(state(json!({"n": 2}))),
        "the change made on the new node is seen"
    );
    assert_eq!(
        b.load(&staying).await.expect("load"),
        Some(state(json!({"n": 1})))
    );
}

/// Redis restarts (and loses its data) while B holds entries: B does not serve them.
#[actix_web::test]
async fn restart_flushes_the_cache() {
    let mut server = RedisServer::start();
    let target = Target::Standalone(&server);
    let b = target.instance("restart:", NearCache::new()).await;
    let key = b
        .save(state(json!({"n": 1})), &Duration::minutes(5))
        .await
        .expect("save");
    for _ in 0..2 {
        b.load(&key).await.expect("load");
    }
    assert_eq!(b.near_cache_stats().hits, 2, "the save left an entry");
    let before = b.near_cache_stats();
    server.restart();
    wait_for_cache(&b, "a flush", |now| now.flushes > before.flushes).await;
    assert_eq!(
        load_once_recovered(&b, &key).await,
        None,
        "the session died with the server's data"
    );
}

/// Loads `key` as soon as `store` answers again after Redis went away (10 s at most).
async fn load_once_recovered(store: &RedisSessionStore, key: &SessionKey) -> Option<SessionState> {
    let deadline = Instant::now() + StdDuration::from_secs(10);
    loop {
        match store.load(key).await {
            Ok(loaded) => return loaded,
            Err(err) => assert!(Instant::now() < deadline, "no recovery: {err}"),
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

/// A cluster master restarts (and loses its data) while B holds one of its sessions: B does
/// not serve it, and a record written there afterwards under the same key is what B reads.
#[actix_web::test]
async fn a_cluster_node_restart_flushes_the_cache() {
    let mut cluster = RedisCluster::start();
    let prefix = "noderestart:";
    let b = Target::Cluster(&cluster)
        .instance(prefix, NearCache::new())
        .await;
    let key = b
        .save(state(json!({"n": 1})), &Duration::minutes(5))
        .await
        .expect("save");
    let redis_key = format!("{prefix}{}", key.as_ref());
    let (owner, _) = cluster.owner_of(&redis_key);
    let record = cluster.nodes()[owner].cli(&["HGETALL", &redis_key]);
    assert_eq!(
        b.load(&key).await.expect("load"),
        Some(state(json!({"n": 1})))
    );
    let before = b.near_cache_stats();
    assert_eq!(before.misses, 0, "the save left an entry");

    cluster.node_mut(owner).restart();
    cluster.wait_until_ok();
    wait_for_cache(&b, "a flush", |now| now.flushes > before.flushes).await;
    // The same record again, with another value: the envelope as the save wrote it.
    let mut fields: Vec<String> = record.lines().map(str::to_owned).collect();
    for pair in fields.chunks_mut(2) {
        if pair[0] == "n" {
            pair[1] = "2".to_owned();
        }
    }
    let mut hset = vec!["HSET", redis_key.as_str()];
    hset.extend(fields.iter().map(String::as_str));
    cluster.nodes()[owner].cli(&hset);
    assert_eq!(
        load_once_recovered(&b, &key).await,
        Some(state(json!({"n": 2}))),
        "what the restarted node holds, not the cached record"
    );
}

#[actix_web::test]
async fn standalone_suites_pass_with_the_cache() {
    let server = RedisServer::start();
    let store = Target::Standalone(&server)
        .instance("session:", NearCache::new())
        .await;
    let suite_store = store.clone();
    session::test_helpers::acceptance_test_suite(move || suite_store.clone(), true).await;
    session::test_helpers::concurrency_test_suite(move || store.clone()).await;
}

#[actix_web::test]
async fn cluster_suites_pass_with_the_cache() {
    let cluster = RedisCluster::start();
    let store = Target::Cluster(&cluster)
        .instance("session:", NearCache::new())
        .await;
    let suite_store = store.clone();
    session::test_helpers::acceptance_test_suite(move || suite_store.clone(), true).await;
    session::test_helpers::concurrency_test_suite(move || store.clone()).await;
}

/// A server that refuses `CLIENT TRACKING` (as some managed services do): the store is
/// built and works, without a cache.
#[actix_web::test]
async fn a_server_without_client_tracking_runs_uncached() {
    let server = RedisServer::start_with(&["--rename-command", "CLIENT", ""]);
    let store = RedisSessionStore::builder(server.url())
        .near_cache(NearCache::new())
        .build()
        .await
        .expect("the store starts all the same");
    assert!(!store.has_near_cache());
    let key = store
        .save(state(json!({"n": 1})), &Duration::minutes(5))
        .await
        .expect("save");
    for _ in 0..2 {
        assert_eq!(
            store.load(&key).await.expect("load"),
            Some(state(json!({"n": 1})))
        );
    }
    assert_eq!(store.near_cache_stats(), NearCacheStats::default());
}
