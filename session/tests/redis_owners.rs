//! The Redis store's owner index on a real server and a real three-master Cluster, through
//! the `OwnerIndex` trait: link, list newest first, prune what expired, was deleted or belongs
//! to someone else, refuse another owner's id, revoke one, the others or all, and keep the
//! index alive as long as the sessions it lists. Then the same over real HTTP: two instances
//! with their own near caches, and the conformance suite's owner scenarios.
//!
//! The sessions are saved the way the middleware stores a bound session: its metadata under
//! `__session_meta` (`id`, `o` for the owner, `s` for last seen) and its creation time under
//! `__session_created_at`.
#![cfg(feature = "redis-session")]

mod support;

use std::time::Duration as StdDuration;

use actix_http::Request;
use actix_web::{
    App, HttpResponse,
    body::MessageBody,
    cookie::{
        Key,
        time::{Duration, OffsetDateTime},
    },
    dev::{Service, ServiceResponse},
    http::Method,
    test, web,
};
use serde_json::json;
use session::test_helpers::owner_test_suite;
use session::{
    Session, SessionMiddleware,
    storage::{
        NearCache, OwnerError, OwnerIndex, OwnerLink, RedisSessionStore, SessionInfo, SessionKey,
        SessionState, SessionStore,
    },
};
use support::{
    redis_scenarios::{Inspect, hash, invalidated, send},
    redis_server::{RedisCluster, RedisServer},
};

/// A well-formed public id (22 URL-safe characters) starting with `tag`.
fn public_id(tag: &str) -> String {
    format!("{tag:-<22}")
}

/// The state the middleware stores for a session of `owner` with public id `id`, last seen
/// at `last_seen` (Unix seconds) and created ten seconds before.
fn bound_state(owner: &str, id: &str, last_seen: i64) -> SessionState {
    let value = json!({
        "user": owner,
        "__session_meta": {"id": id, "o": owner, "s": last_seen},
        "__session_created_at": last_seen - 10,
    });
    match value {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("an object"),
    }
}

/// Saves a bound session for `ttl` and links it to `owner`, as the middleware does after a
/// sign-in; returns its key.
async fn sign_in(
    store: &RedisSessionStore,
    owner: &str,
    id: &str,
    last_seen: i64,
    ttl: Duration,
) -> SessionKey {
    let key = store
        .save(bound_state(owner, id, last_seen), &ttl)
        .await
        .expect("save");
    store
        .link_owner(OwnerLink::new(owner, id, &key, ttl))
        .await
        .expect("link");
    key
}

fn ids(sessions: &[SessionInfo]) -> Vec<String> {
    sessions.iter().map(|info| info.public_id.clone()).collect()
}

fn unix(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).expect("a valid time")
}

/// The index fields (public ids) Redis holds for `owner`.
fn index_fields(redis: &dyn Inspect, prefix: &str, owner: &str) -> Vec<String> {
    let mut fields: Vec<String> = hash(redis, &format!("{prefix}owner:{owner}"))
        .keys()
        .cloned()
        .collect();
    fields.sort();
    fields
}

fn pttl(redis: &dyn Inspect, key: &str) -> i64 {
    redis
        .cli(&["PTTL", key])
        .parse()
        .expect("PTTL answers a number")
}

const HOUR: Duration = Duration::hours(1);

/// Listing: only live sessions of the owner, newest activity first, with what their
/// metadata says; deleted, expired and foreign entries are pruned from the index.
async fn listing(store: RedisSessionStore, redis: &dyn Inspect, prefix: &str) {
    let (a, b, c) = (public_id("a"), public_id("b"), public_id("c"));
    sign_in(&store, "alice", &a, 1_000, HOUR).await;
    let key_b = sign_in(&store, "alice", &b, 3_000, HOUR).await;
    sign_in(&store, "alice", &c, 2_000, HOUR).await;
    let bobs = public_id("bob");
    sign_in(&store, "bob", &bobs, 5_000, HOUR).await;

    let sessions = store.owner_sessions("alice").await.expect("list");
    assert_eq!(
        ids(&sessions),
        [b.as_str(), c.as_str(), a.as_str()],
        "newest last seen first"
    );
    assert_eq!(sessions[0].last_seen, unix(3_000));
    assert_eq!(sessions[0].created_at, unix(2_990));
    assert!(sessions.iter().all(|info| !info.current));
    assert_eq!(
        ids(&store.owner_sessions("bob").await.expect("list")),
        [bobs.as_str()]
    );
    assert!(
        store
            .owner_sessions("nobody")
            .await
            .expect("list")
            .is_empty(),
        "an owner without sessions has none"
    );

    // A renewal links the same public id to the new key: still one entry.
    let renewed = store
        .save(bound_state("alice", &b, 3_000), &HOUR)
        .await
        .expect("save");
    store.delete(&key_b).await.expect("delete");
    store
        .link_owner(OwnerLink::new("alice", &b, &renewed, HOUR))
        .await
        .expect("link");
    assert_eq!(
        ids(&store.owner_sessions("alice").await.expect("list")),
        [b.as_str(), c.as_str(), a.as_str()]
    );

    // Deleted behind the index's back (an expired or logged-out session): pruned.
    store.delete(&renewed).await.expect("delete");
    assert_eq!(
        ids(&store.owner_sessions("alice").await.expect("list")),
        [c.as_str(), a.as_str()]
    );
    assert_eq!(index_fields(redis, prefix, "alice"), {
        let mut left = vec![a.clone(), c.clone()];
        left.sort();
        left
    });

    // Expired: never listed, pruned.
    let short = public_id("short");
    sign_in(&store, "alice", &short, 9_000, Duration::milliseconds(200)).await;
    assert_eq!(
        ids(&store.owner_sessions("alice").await.expect("list")),
        [short.as_str(), c.as_str(), a.as_str()]
    );
    tokio::time::sleep(StdDuration::from_millis(400)).await;
    assert_eq!(
        ids(&store.owner_sessions("alice").await.expect("list")),
        [c.as_str(), a.as_str()]
    );
    assert!(!index_fields(redis, prefix, "alice").contains(&short));

    // An entry whose record names another owner, or another public id, is not alice's.
    let foreign = public_id("foreign");
    let bobs_key = store
        .save(bound_state("bob", &foreign, 9_500), &HOUR)
        .await
        .expect("save");
    store
        .link_owner(OwnerLink::new("alice", &foreign, &bobs_key, HOUR))
        .await
        .expect("link");
    let moved = public_id("moved");
    store
        .link_owner(OwnerLink::new("alice", &moved, &bobs_key, HOUR))
        .await
        .expect("link");
    assert_eq!(
        ids(&store.owner_sessions("alice").await.expect("list")),
        [c.as_str(), a.as_str()]
    );
    assert!(!index_fields(redis, prefix, "alice").contains(&foreign));
    assert!(!index_fields(redis, prefix, "alice").contains(&moved));
    assert!(store.load(&bobs_key).await.expect("load").is_some());

    // Unlinked (the middleware's purge): gone from the list.
    store.unlink_owner("alice", &c).await.expect("unlink");
    assert_eq!(
        ids(&store.owner_sessions("alice").await.expect("list")),
        [a.as_str()]
    );
}

/// Revocation: one by public id (another owner's id refused like an unknown one), all
/// others, all; revoked sessions are deleted from Redis and leave the index.
async fn revocation(store: RedisSessionStore, redis: &dyn Inspect, prefix: &str) {
    let ids_of = |tag: &str| {
        (1..=4)
            .map(|n| public_id(&format!("{tag}{n}")))
            .collect::<Vec<_>>()
    };
    let carol = ids_of("c");
    let mut keys = Vec::new();
    for (n, id) in (0_i64..).zip(&carol) {
        keys.push(sign_in(&store, "carol", id, 1_000 + n, HOUR).await);
    }
    let dave = public_id("dave");
    let dave_key = sign_in(&store, "dave", &dave, 1_000, HOUR).await;

    // Another owner's id, an unknown id: refused alike, nothing deleted.
    assert!(
        !store
            .revoke_owner_session("carol", &dave)
            .await
            .expect("revoke")
    );
    assert!(
        !store
            .revoke_owner_session("dave", &carol[0])
            .await
            .expect("revoke")
    );
    assert!(
        !store
            .revoke_owner_session("carol", &public_id("unknown"))
            .await
            .expect("revoke")
    );
    assert!(store.load(&dave_key).await.expect("load").is_some());
    assert!(store.load(&keys[0]).await.expect("load").is_some());

    // One.
    assert!(
        store
            .revoke_owner_session("carol", &carol[0])
            .await
            .expect("revoke")
    );
    assert!(
        store.load(&keys[0]).await.expect("load").is_none(),
        "deleted"
    );
    assert!(
        !store
            .revoke_owner_session("carol", &carol[0])
            .await
            .expect("revoke"),
        "once"
    );
    assert!(!index_fields(redis, prefix, "carol").contains(&carol[0]));

    // All others: the kept one lives on.
    assert_eq!(
        store
            .revoke_other_owner_sessions("carol", &carol[3])
            .await
            .expect("revoke"),
        2
    );
    assert!(store.load(&keys[1]).await.expect("load").is_none());
    assert!(store.load(&keys[2]).await.expect("load").is_none());
    assert!(store.load(&keys[3]).await.expect("load").is_some());
    assert_eq!(
        ids(&store.owner_sessions("carol").await.expect("list")),
        [carol[3].as_str()]
    );
    assert_eq!(index_fields(redis, prefix, "carol"), [carol[3].clone()]);

    // All: the index itself is gone with its last entry.
    let extra = public_id("extra");
    let extra_key = sign_in(&store, "carol", &extra, 2_000, HOUR).await;
    assert_eq!(
        store.revoke_owner_sessions("carol").await.expect("revoke"),
        2
    );
    assert!(store.load(&keys[3]).await.expect("load").is_none());
    assert!(store.load(&extra_key).await.expect("load").is_none());
    assert!(
        store
            .owner_sessions("carol")
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(redis.cli(&["EXISTS", &format!("{prefix}owner:carol")]), "0");
    assert_eq!(
        store.revoke_owner_sessions("carol").await.expect("revoke"),
        0
    );

    // Revoking all of an owner never touches another owner's session.
    assert!(store.load(&dave_key).await.expect("load").is_some());
    // Nor does "all" delete a session an entry points to that is no longer the owner's.
    let eves = public_id("eve");
    let eves_key = store
        .save(bound_state("eve", &eves, 1_000), &HOUR)
        .await
        .expect("save");
    store
        .link_owner(OwnerLink::new("dave", &eves, &eves_key, HOUR))
        .await
        .expect("link");
    assert_eq!(
        store.revoke_owner_sessions("dave").await.expect("revoke"),
        1
    );
    assert!(store.load(&dave_key).await.expect("load").is_none());
    assert!(
        store.load(&eves_key).await.expect("load").is_some(),
        "eve's session lives"
    );
}

/// The index key expires, and never before the sessions it was linked with: a link extends
/// it to the link's TTL and a shorter link never shortens it.
async fn index_expiry(store: RedisSessionStore, redis: &dyn Inspect, prefix: &str) {
    let index = format!("{prefix}owner:frank");
    let long = sign_in(
        &store,
        "frank",
        &public_id("long"),
        1_000,
        Duration::minutes(10),
    )
    .await;
    let index_ttl = pttl(redis, &index);
    let session_ttl = pttl(redis, &format!("{prefix}{}", long.as_ref()));
    assert!(index_ttl > 0, "the index has an expiry: {index_ttl}");
    assert!(
        index_ttl >= session_ttl,
        "index {index_ttl} ms < session {session_ttl} ms"
    );
    assert!(index_ttl <= Duration::minutes(10).whole_milliseconds() as i64);

    sign_in(
        &store,
        "frank",
        &public_id("brief"),
        1_000,
        Duration::minutes(1),
    )
    .await;
    assert!(
        pttl(redis, &index) > Duration::minutes(9).whole_milliseconds() as i64,
        "a shorter link does not shorten the index"
    );
    sign_in(
        &store,
        "frank",
        &public_id("longer"),
        1_000,
        Duration::hours(2),
    )
    .await;
    assert!(
        pttl(redis, &index) > Duration::minutes(119).whole_milliseconds() as i64,
        "a longer link extends it"
    );

    // Once every session and link is past, the index is gone too.
    sign_in(
        &store,
        "gina",
        &public_id("g"),
        1_000,
        Duration::milliseconds(300),
    )
    .await;
    tokio::time::sleep(StdDuration::from_millis(600)).await;
    assert_eq!(redis.cli(&["EXISTS", &format!("{prefix}owner:gina")]), "0");
}

async fn scenarios(build: impl AsyncFn(&str) -> RedisSessionStore, redis: &dyn Inspect) {
    listing(build("list:").await, redis, "list:").await;
    revocation(build("revoke:").await, redis, "revoke:").await;
    index_expiry(build("expiry:").await, redis, "expiry:").await;
}

#[actix_web::test]
async fn standalone_owner_index() {
    let server = RedisServer::start();
    let build = async |prefix: &str| {
        RedisSessionStore::builder(server.url())
            .key_prefix(prefix)
            .build()
            .await
            .expect("connect to the test Redis")
    };
    scenarios(build, &server).await;
}

#[actix_web::test]
async fn cluster_owner_index() {
    let cluster = RedisCluster::start();
    let build = async |prefix: &str| {
        RedisSessionStore::cluster_builder(cluster.urls())
            .key_prefix(prefix)
            .build()
            .await
            .expect("connect to the test cluster")
    };
    scenarios(build, &cluster).await;

    // The index has a slot of its own: revoking all spans several slots (and nodes).
    let store = build("slots:").await;
    let mut keys = Vec::new();
    for n in 0..12 {
        keys.push(sign_in(&store, "hana", &public_id(&format!("h{n}")), 1_000, HOUR).await);
    }
    let slot = |key: &str| cluster.cli(&["CLUSTER", "KEYSLOT", key]);
    let index_slot = slot("slots:owner:hana");
    let mut slots: Vec<String> = keys
        .iter()
        .map(|key| slot(&format!("slots:{}", key.as_ref())))
        .collect();
    assert!(
        slots.iter().any(|s| *s != index_slot),
        "sessions live outside the index's slot"
    );
    slots.sort();
    slots.dedup();
    assert!(slots.len() > 1, "the sessions spread over slots");
    assert_eq!(store.owner_sessions("hana").await.expect("list").len(), 12);
    assert_eq!(
        store.revoke_owner_sessions("hana").await.expect("revoke"),
        12
    );
    for key in &keys {
        assert!(store.load(key).await.expect("load").is_none());
    }
}

/// With the near cache on, revocation from one instance ends the session for the other
/// instance's cache too, and the revoking instance's own cache.
#[actix_web::test]
async fn revocation_reaches_every_near_cache() {
    let server = RedisServer::start();
    let instance = async || {
        RedisSessionStore::builder(server.url())
            .key_prefix("nc:")
            .near_cache(NearCache::new())
            .build()
            .await
            .expect("connect to the test Redis")
    };
    let (a, b) = (instance().await, instance().await);
    assert!(a.has_near_cache() && b.has_near_cache());
    let id = public_id("nc");
    let key = sign_in(&a, "ida", &id, 1_000, HOUR).await;
    // Both caches hold the session (a listing loads through the cache).
    assert_eq!(
        ids(&a.owner_sessions("ida").await.expect("list")),
        [id.as_str()]
    );
    assert!(b.load(&key).await.expect("load").is_some());
    assert!(b.load(&key).await.expect("load").is_some());
    assert!(b.near_cache_stats().hits >= 1, "{:?}", b.near_cache_stats());

    assert!(a.revoke_owner_session("ida", &id).await.expect("revoke"));
    assert!(
        a.load(&key).await.expect("load").is_none(),
        "the revoking instance"
    );
    let deadline = std::time::Instant::now() + StdDuration::from_secs(3);
    while b.load(&key).await.expect("load").is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the other instance still serves the revoked session"
        );
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
}

/// A renewal that links the session's new key while a listing runs is not undone by the
/// listing's pruning of the old key's entry.
#[actix_web::test]
async fn a_renewal_during_a_listing_survives_the_pruning() {
    let server = RedisServer::start();
    let store = RedisSessionStore::builder(server.url())
        .key_prefix("race:")
        .near_cache(NearCache::new())
        .build()
        .await
        .expect("connect to the test Redis");
    let (live, renewing) = (public_id("live"), public_id("renewing"));
    sign_in(&store, "ivy", &live, 2_000, HOUR).await;
    let old = sign_in(&store, "ivy", &renewing, 1_000, HOUR).await;
    // The renewal has written the new key and deleted the old one; its link comes while the
    // listing loads `live` (a near cache miss), after the listing read the index.
    let new = store
        .save(bound_state("ivy", &renewing, 1_000), &HOUR)
        .await
        .expect("save");
    store.delete(&old).await.expect("delete");
    // Writes fill the writer's cache, so the listing runs on a second instance whose cache
    // starts empty: its load of `live` is a miss, which is where the hook runs.
    let lister = RedisSessionStore::builder(server.url())
        .key_prefix("race:")
        .near_cache(NearCache::new())
        .build()
        .await
        .expect("connect to the test Redis");
    let fired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (linker, new_key, id) = (store.clone(), new.clone(), renewing.clone());
    lister.__near_cache_fill_hook(Some(move |_key: String| {
        let (linker, new_key, id, fired) =
            (linker.clone(), new_key.clone(), id.clone(), fired.clone());
        Box::pin(async move {
            if !fired.swap(true, std::sync::atomic::Ordering::SeqCst) {
                linker
                    .link_owner(OwnerLink::new("ivy", &id, &new_key, HOUR))
                    .await
                    .expect("link");
            }
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
    }));
    let first = lister.owner_sessions("ivy").await.expect("list");
    assert_eq!(ids(&first), [live.as_str()], "the old key is gone");
    assert_eq!(
        hash(&server, "race:owner:ivy")
            .get(&renewing)
            .and_then(|value| value.as_str()),
        Some(new.as_ref()),
        "the renewal's link survived the pruning"
    );
    assert_eq!(
        ids(&store.owner_sessions("ivy").await.expect("list")),
        [live.as_str(), renewing.as_str()]
    );
}

/// Two instances of an application, each with its own connection and near cache, behind
/// real HTTP: a session revoked on one (by public id, "sign out everywhere else", or outside
/// any request on the store) is signed out on the other at its next request.
#[actix_web::test]
async fn revocation_signs_out_on_every_instance() {
    let server = RedisServer::start();
    let instance = async || {
        RedisSessionStore::builder(server.url())
            .key_prefix("apps:")
            .near_cache(NearCache::new())
            .build()
            .await
            .expect("connect to the test Redis")
    };
    let (a, b) = (instance().await, instance().await);
    assert!(a.has_near_cache() && b.has_near_cache());
    let key = Key::generate();
    let (app_a, app_b) = (
        owner_app(a.clone(), &key).await,
        owner_app(b.clone(), &key).await,
    );

    // Two devices of alice sign in on A; B reads the second from its cache.
    let laptop = send(&app_a, Method::POST, "/login/alice", None)
        .await
        .session_cookie();
    let phone = send(&app_a, Method::POST, "/login/alice", None)
        .await
        .session_cookie();
    for _ in 0..2 {
        let reply = send(&app_b, Method::GET, "/whoami", Some(&phone)).await;
        assert_eq!(reply.json()["user"], "alice");
    }
    assert!(b.near_cache_stats().hits >= 1, "{:?}", b.near_cache_stats());

    // The laptop signs the phone out by its public id.
    let listed = send(&app_a, Method::GET, "/sessions", Some(&laptop))
        .await
        .json();
    let listed = listed.as_array().expect("a list");
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed.iter().filter(|s| s["current"] == true).count(), 1);
    let phone_id = listed
        .iter()
        .find(|s| s["current"] == false)
        .and_then(|s| s["id"].as_str())
        .expect("the other session")
        .to_owned();
    let before = b.near_cache_stats();
    let reply = send(
        &app_a,
        Method::POST,
        &format!("/revoke/{phone_id}"),
        Some(&laptop),
    )
    .await;
    assert_eq!(reply.json(), json!(true));
    invalidated(&b, before).await;
    let reply = send(&app_b, Method::GET, "/whoami", Some(&phone)).await;
    assert_eq!(reply.json()["user"], json!(null), "B signed the phone out");
    // A write on the revoked session does not bring it back.
    send(&app_b, Method::POST, "/touch", Some(&phone)).await;
    let reply = send(&app_a, Method::GET, "/whoami", Some(&phone)).await;
    assert_eq!(reply.json()["user"], json!(null));

    // A tablet signs in on B; the laptop signs out everywhere else.
    let tablet = send(&app_b, Method::POST, "/login/alice", None)
        .await
        .session_cookie();
    let reply = send(&app_b, Method::GET, "/whoami", Some(&tablet)).await;
    assert_eq!(reply.json()["user"], "alice");
    let before = b.near_cache_stats();
    let reply = send(&app_a, Method::POST, "/revoke-others", Some(&laptop)).await;
    assert_eq!(reply.json(), json!(1));
    invalidated(&b, before).await;
    let reply = send(&app_b, Method::GET, "/whoami", Some(&tablet)).await;
    assert_eq!(reply.json()["user"], json!(null), "B signed the tablet out");
    let reply = send(&app_a, Method::GET, "/whoami", Some(&laptop)).await;
    assert_eq!(reply.json()["user"], "alice", "the laptop stays");

    // A password reset job signs alice out everywhere, outside any request.
    let desktop = send(&app_b, Method::POST, "/login/alice", None)
        .await
        .session_cookie();
    for (app, cookie) in [(&app_a, &laptop), (&app_a, &desktop)] {
        assert_eq!(
            send(app, Method::GET, "/whoami", Some(cookie)).await.json()["user"],
            "alice"
        );
    }
    for cookie in [&laptop, &desktop] {
        assert_eq!(
            send(&app_b, Method::GET, "/whoami", Some(cookie))
                .await
                .json()["user"],
            "alice"
        );
    }
    // Redis reports the deletes to the other instance; the revoking one (its connection
    // tracks with NOLOOP) drops its own entries as it deletes them.
    let before_a = a.near_cache_stats();
    assert_eq!(b.revoke_owner_sessions("alice").await.expect("revoke"), 2);
    invalidated(&a, before_a).await;
    for cookie in [&laptop, &desktop] {
        for app in [&app_a, &app_b] {
            let reply = send(app, Method::GET, "/whoami", Some(cookie)).await;
            assert_eq!(reply.json()["user"], json!(null), "signed out everywhere");
        }
    }
    assert!(a.owner_sessions("alice").await.expect("list").is_empty());
}

/// An application that signs users in, lists and revokes their sessions.
async fn owner_app(
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
            .route("/login/{user}", web::post().to(login))
            .route("/whoami", web::get().to(whoami))
            .route("/touch", web::post().to(touch))
            .route("/sessions", web::get().to(sessions))
            .route("/revoke/{id}", web::post().to(revoke))
            .route("/revoke-others", web::post().to(revoke_others)),
    )
    .await
}

fn failed(err: OwnerError) -> actix_web::Error {
    actix_web::error::ErrorInternalServerError(err)
}

async fn login(session: Session, user: web::Path<String>) -> actix_web::Result<HttpResponse> {
    session.renew();
    session.insert("user", user.as_str())?;
    session.set_owner(user.into_inner());
    Ok(HttpResponse::Ok().finish())
}

async fn whoami(session: Session) -> actix_web::Result<HttpResponse> {
    let user: Option<String> = session.get("user")?;
    Ok(HttpResponse::Ok().json(json!({ "user": user })))
}

async fn touch(session: Session) -> actix_web::Result<HttpResponse> {
    session.insert("touched", true)?;
    Ok(HttpResponse::Ok().finish())
}

async fn sessions(session: Session) -> actix_web::Result<HttpResponse> {
    let listed = session.owner_sessions().await.map_err(failed)?;
    let listed: Vec<_> = listed
        .iter()
        .map(|info| json!({ "id": info.public_id, "current": info.current }))
        .collect();
    Ok(HttpResponse::Ok().json(listed))
}

async fn revoke(session: Session, id: web::Path<String>) -> actix_web::Result<HttpResponse> {
    let revoked = session.revoke_session(&id).await.map_err(failed)?;
    Ok(HttpResponse::Ok().json(revoked))
}

async fn revoke_others(session: Session) -> actix_web::Result<HttpResponse> {
    let revoked = session.revoke_other_sessions().await.map_err(failed)?;
    Ok(HttpResponse::Ok().json(revoked))
}

/// With Redis gone, every operation is a store error (the middleware's opaque 5xx), never a
/// panic or an empty list that would hide live sessions.
#[actix_web::test]
async fn an_outage_is_a_store_error() {
    let mut server = RedisServer::start();
    let store = RedisSessionStore::builder(server.url())
        .key_prefix("down:")
        .build()
        .await
        .expect("connect to the test Redis");
    let id = public_id("down");
    let key = sign_in(&store, "jo", &id, 1_000, HOUR).await;
    server.kill();
    let store_error = |err| matches!(err, OwnerError::Store(_));
    assert!(store.owner_sessions("jo").await.is_err_and(store_error));
    assert!(
        store
            .revoke_owner_session("jo", &id)
            .await
            .is_err_and(store_error)
    );
    assert!(
        store
            .revoke_owner_sessions("jo")
            .await
            .is_err_and(store_error)
    );
    assert!(
        store
            .revoke_other_owner_sessions("jo", &id)
            .await
            .is_err_and(store_error)
    );
    assert!(store.unlink_owner("jo", &id).await.is_err_and(store_error));
    let link = OwnerLink::new("jo", &id, &key, HOUR);
    assert!(store.link_owner(link).await.is_err_and(store_error));
}

/// The conformance suite's owner scenarios, each on an emptied server (they reuse owner
/// names). Redis keeps real time: the suite's clock moves the middleware's view only.
#[actix_web::test]
async fn owner_suite_standalone() {
    let server = RedisServer::start();
    let store = RedisSessionStore::new(server.url())
        .await
        .expect("connect to the test Redis");
    owner_test_suite(move |_clock| {
        server.cli(&["FLUSHALL"]);
        store.clone()
    })
    .await;
}

#[actix_web::test]
async fn owner_suite_standalone_with_the_near_cache() {
    let server = RedisServer::start();
    let store = RedisSessionStore::builder(server.url())
        .near_cache(NearCache::new())
        .build()
        .await
        .expect("connect to the test Redis");
    assert!(store.has_near_cache());
    owner_test_suite(move |_clock| {
        server.cli(&["FLUSHALL"]);
        store.clone()
    })
    .await;
}

#[actix_web::test]
async fn owner_suite_cluster() {
    let cluster = RedisCluster::start();
    let store = RedisSessionStore::cluster(cluster.urls())
        .await
        .expect("connect to the test cluster");
    owner_test_suite(move |_clock| {
        for node in cluster.nodes() {
            node.cli(&["FLUSHALL"]);
        }
        store.clone()
    })
    .await;
}
