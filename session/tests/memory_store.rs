//! The in-memory store: shared by clones, TTLs enforced on read, expired sessions swept,
//! partial updates, no resurrection.

use std::collections::BTreeSet;

mod support;

use actix_web::cookie::time::Duration;
use serde_json::json;
use session::storage::{
    MemorySessionStore, SessionChanges, SessionState, SessionStore, UpdateError,
};
use support::{manual_clock, start_time};

fn state(pairs: &[(&str, serde_json::Value)]) -> SessionState {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[actix_web::test]
async fn clones_share_one_map_across_threads() {
    let store = MemorySessionStore::new();
    let key = store
        .save(state(&[("a", json!(1))]), &Duration::hours(1))
        .await
        .expect("save");
    let worker = store.clone();
    let loaded = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move { worker.load(&key).await })
    })
    .join()
    .expect("thread")
    .expect("load");
    assert_eq!(loaded, Some(state(&[("a", json!(1))])));
}

#[actix_web::test]
async fn ttl_is_enforced_on_read() {
    let clock = manual_clock();
    let store = MemorySessionStore::builder().clock(clock.clone()).build();
    let key = store
        .save(state(&[("a", json!(1))]), &Duration::seconds(10))
        .await
        .expect("save");
    clock.advance(Duration::seconds(9));
    assert!(store.load(&key).await.expect("load").is_some());
    clock.advance(Duration::seconds(1));
    assert_eq!(
        store.load(&key).await.expect("load"),
        None,
        "expired at its TTL"
    );
    assert!(matches!(
        store.update(key, state(&[]), &Duration::seconds(10)).await,
        Err(UpdateError::NotFound)
    ));
}

#[actix_web::test]
async fn expired_sessions_are_swept_so_memory_does_not_grow() {
    let clock = manual_clock();
    let store = MemorySessionStore::builder()
        .clock(clock.clone())
        .sweep_interval(Duration::seconds(60))
        .build();
    for _ in 0..1_000 {
        store
            .save(state(&[("n", json!(1))]), &Duration::seconds(30))
            .await
            .expect("save");
    }
    assert_eq!(store.len(), 1_000);

    // Time passes beyond their TTL; writes over the next sweep interval sweep them, a shard
    // at a time.
    clock.advance(Duration::seconds(31));
    let live = store
        .save(state(&[("n", json!(2))]), &Duration::seconds(300))
        .await
        .expect("save");
    for _ in 0..16 {
        clock.advance(Duration::seconds(4));
        store
            .save(state(&[("n", json!(2))]), &Duration::seconds(300))
            .await
            .expect("save");
    }
    assert_eq!(store.len(), 17, "only the live sessions are left");
    assert!(store.load(&live).await.expect("load").is_some());

    // Many generations of short-lived sessions: the map stays near the live set.
    for _ in 0..50 {
        for _ in 0..100 {
            store
                .save(state(&[("n", json!(3))]), &Duration::seconds(3))
                .await
                .expect("save");
        }
        clock.advance(Duration::seconds(4));
    }
    assert!(store.len() <= 17 + 100 * 20, "len = {}", store.len());
    let remaining_expired = store.remove_expired();
    assert!(
        store.len() <= 17 + 100,
        "len = {} after a full sweep",
        store.len()
    );
    assert!(
        remaining_expired < 100 * 20,
        "most expired sessions were already swept"
    );
}

#[actix_web::test]
async fn updates_never_recreate_a_deleted_session() {
    let store = MemorySessionStore::new();
    let key = store
        .save(state(&[("user", json!("ferris"))]), &Duration::hours(1))
        .await
        .expect("save");
    store.delete(&key).await.expect("delete");
    let changes = SessionChanges::new(
        state(&[("user", json!("ferris"))]),
        BTreeSet::from(["user".to_owned()]),
        false,
    );
    assert!(matches!(
        store
            .update_changes(key.clone(), changes, &Duration::hours(1))
            .await,
        Err(UpdateError::NotFound)
    ));
    assert!(matches!(
        store.update_ttl(&key, &Duration::hours(1)).await,
        Err(UpdateError::NotFound)
    ));
    assert_eq!(store.load(&key).await.expect("load"), None);
    assert!(store.is_empty());
}

#[actix_web::test]
async fn partial_updates_keep_what_other_requests_wrote() {
    let store = MemorySessionStore::new();
    let key = store
        .save(state(&[("base", json!(0))]), &Duration::hours(1))
        .await
        .expect("save");

    // Two requests load the same state, then each changes its own key.
    let mut first = store.load(&key).await.expect("load").expect("live");
    let mut second = store.load(&key).await.expect("load").expect("live");
    first.insert("a".into(), json!(1));
    second.insert("b".into(), json!(2));
    second.remove("base");
    let touched = |keys: &[&str]| {
        keys.iter()
            .map(|k| (*k).to_owned())
            .collect::<BTreeSet<_>>()
    };
    store
        .update_changes(
            key.clone(),
            SessionChanges::new(first, touched(&["a"]), false),
            &Duration::hours(1),
        )
        .await
        .expect("first");
    store
        .update_changes(
            key.clone(),
            SessionChanges::new(second, touched(&["b", "base"]), false),
            &Duration::hours(1),
        )
        .await
        .expect("second");
    assert_eq!(
        store.load(&key).await.expect("load"),
        Some(state(&[("a", json!(1)), ("b", json!(2))])),
        "both writes survive and the removed key stays removed"
    );

    // A cleared state replaces everything.
    store
        .update_changes(
            key.clone(),
            SessionChanges::new(state(&[("c", json!(3))]), touched(&["c"]), true),
            &Duration::hours(1),
        )
        .await
        .expect("clear");
    assert_eq!(
        store.load(&key).await.expect("load"),
        Some(state(&[("c", json!(3))]))
    );
}

#[actix_web::test]
async fn created_at_is_kept_across_updates() {
    let clock = manual_clock();
    let store = MemorySessionStore::builder().clock(clock.clone()).build();
    let key = store
        .save(state(&[("a", json!(1))]), &Duration::hours(1))
        .await
        .expect("save");
    clock.advance(Duration::minutes(10));
    store
        .update(key.clone(), state(&[("a", json!(2))]), &Duration::hours(1))
        .await
        .expect("update");
    assert_eq!(store.created_at(&key), Some(start_time()));
}
