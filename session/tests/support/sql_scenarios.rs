//! Scenarios the Postgres and SQLite store tests share, through the store's public traits.
//! Each takes a store on a [`manual_clock`](super::manual_clock) (`clock`).

use std::collections::BTreeSet;

use actix_web::cookie::time::Duration;
use serde_json::{Value, json};
use session::{
    config::Clock,
    storage::{
        OwnerIndex, OwnerLink, SessionChanges, SessionKey, SessionState, SessionStore, UpdateError,
    },
};

pub(crate) fn state(value: Value) -> SessionState {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn changes(new_state: Value, touched: &[&str]) -> SessionChanges {
    SessionChanges::new(
        state(new_state),
        touched
            .iter()
            .map(|key| (*key).to_owned())
            .collect::<BTreeSet<_>>(),
        false,
    )
}

const TTL: Duration = Duration::minutes(10);

async fn loaded<S: SessionStore>(store: &S, key: &SessionKey) -> Value {
    Value::Object(
        store
            .load(key)
            .await
            .expect("load")
            .expect("the session is there"),
    )
}

/// A partial update sets and removes only what it names, in one statement: entries another
/// request wrote meanwhile stay, a removed entry goes (even one the new state still
/// holds), `null` is a value (not a deletion), and keys with quotes, backslashes, dots and
/// other path characters are entries like any other.
pub(crate) async fn partial_updates_write_only_the_changes<S: SessionStore>(store: S) {
    let key = store
        .save(state(json!({"keep": 1, "drop": 2, "change": 3})), &TTL)
        .await
        .expect("save");
    // Another request, which loaded the same state, adds an entry first.
    store
        .update_changes(
            key.clone(),
            changes(
                json!({"keep": 1, "drop": 2, "change": 3, "other": "x"}),
                &["other"],
            ),
            &TTL,
        )
        .await
        .expect("the other request's update");
    // Ours never saw "other"; its state still claims "keep" is 100, but it did not touch it.
    let key = store
        .update_changes(
            key,
            changes(
                json!({"keep": 100, "change": 4, "nothing": null}),
                &["change", "drop", "nothing"],
            ),
            &TTL,
        )
        .await
        .expect("our update");
    assert_eq!(
        loaded(&store, &key).await,
        json!({"keep": 1, "change": 4, "nothing": null, "other": "x"})
    );

    let odd = [
        "a\"b", "a\\b", "a.b", "$", "[0]", "a[1].b", "ünï", "", "'", "a\"]", "*", " ",
    ];
    let mut all = serde_json::Map::new();
    for (index, name) in odd.iter().enumerate() {
        all.insert((*name).to_owned(), json!({"n": index, "t": [true, false]}));
    }
    let key = store
        .update_changes(key, changes(Value::Object(all.clone()), &odd), &TTL)
        .await
        .expect("odd keys");
    let mut expected = all;
    expected.insert("keep".into(), json!(1));
    expected.insert("change".into(), json!(4));
    expected.insert("nothing".into(), Value::Null);
    expected.insert("other".into(), json!("x"));
    assert_eq!(loaded(&store, &key).await, Value::Object(expected.clone()));

    let key = store
        .update_changes(key, changes(json!({}), &odd[..6]), &TTL)
        .await
        .expect("remove odd keys");
    for name in &odd[..6] {
        expected.remove(*name);
    }
    assert_eq!(loaded(&store, &key).await, Value::Object(expected));

    // Many entries at once (more than one SQL function call takes).
    let many: Vec<String> = (0..130).map(|i| format!("k{i}")).collect();
    let touched: Vec<&str> = many.iter().map(String::as_str).collect();
    let new_state: serde_json::Map<String, Value> =
        many.iter().map(|k| (k.clone(), json!(k))).collect();
    let key = store
        .update_changes(key, changes(Value::Object(new_state), &touched), &TTL)
        .await
        .expect("many entries");
    let stored = loaded(&store, &key).await;
    assert_eq!(stored["k0"], json!("k0"));
    assert_eq!(stored["k129"], json!("k129"));

    // Clearing replaces the whole state.
    let cleared = SessionChanges::new(state(json!({"fresh": true})), BTreeSet::new(), true);
    let key = store
        .update_changes(key, cleared, &TTL)
        .await
        .expect("clear");
    assert_eq!(loaded(&store, &key).await, json!({"fresh": true}));
}

/// Writes need a live row: after a delete or past the expiry, update, partial update and
/// TTL refresh all answer `NotFound` and create nothing.
pub(crate) async fn writes_never_recreate_a_session<S: SessionStore>(store: S, clock: &Clock) {
    let key = store
        .save(state(json!({"user": "alice"})), &TTL)
        .await
        .expect("save");
    store.delete(&key).await.expect("delete");
    store.delete(&key).await.expect("deleting twice is fine");
    assert_not_found(&store, &key).await;

    let key = store
        .save(state(json!({"user": "bob"})), &Duration::minutes(1))
        .await
        .expect("save");
    clock.advance(Duration::seconds(59));
    assert!(store.load(&key).await.expect("load").is_some());
    clock.advance(Duration::seconds(1));
    assert!(
        store.load(&key).await.expect("load").is_none(),
        "expired at its TTL, by the store's clock"
    );
    assert_not_found(&store, &key).await;
}

async fn assert_not_found<S: SessionStore>(store: &S, key: &SessionKey) {
    let update = store
        .update(key.clone(), state(json!({"back": true})), &TTL)
        .await;
    assert!(matches!(update, Err(UpdateError::NotFound)), "{update:?}");
    let partial = store
        .update_changes(key.clone(), changes(json!({"back": true}), &["back"]), &TTL)
        .await;
    assert!(matches!(partial, Err(UpdateError::NotFound)), "{partial:?}");
    let refresh = store.update_ttl(key, &TTL).await;
    assert!(matches!(refresh, Err(UpdateError::NotFound)), "{refresh:?}");
    assert!(
        store.load(key).await.expect("load").is_none(),
        "not re-created"
    );
}

/// A TTL refresh moves the expiry; the state stays.
pub(crate) async fn refresh_extends_the_lifetime<S: SessionStore>(store: S, clock: &Clock) {
    let key = store
        .save(state(json!({"n": 1})), &TTL)
        .await
        .expect("save");
    clock.advance(Duration::minutes(8));
    store.update_ttl(&key, &TTL).await.expect("refresh");
    clock.advance(Duration::minutes(8));
    assert_eq!(loaded(&store, &key).await, json!({"n": 1}));
    clock.advance(Duration::minutes(3));
    assert!(store.load(&key).await.expect("load").is_none());
}

/// A session of `owner` with public id `id`, last seen at `seen` (Unix seconds).
async fn owned<S: SessionStore + OwnerIndex>(
    store: &S,
    owner: &str,
    id: &str,
    seen: i64,
    ttl: Duration,
) -> SessionKey {
    let key = store
        .save(
            state(json!({
                "cart": [1, 2],
                "__session_meta": {"id": id, "o": owner, "s": seen},
                "__session_created_at": seen - 10,
            })),
            &ttl,
        )
        .await
        .expect("save");
    store
        .link_owner(OwnerLink::new(owner, id, &key, ttl))
        .await
        .expect("link");
    key
}

fn ids(sessions: &[session::storage::SessionInfo]) -> Vec<&str> {
    sessions
        .iter()
        .map(|info| info.public_id.as_str())
        .collect()
}

/// The owner index through the trait: listing (live sessions of that owner only, newest
/// activity first), revoking one (another owner's id is unknown), all others, and all.
pub(crate) async fn owner_index_lists_and_revokes<S: SessionStore + OwnerIndex>(
    store: S,
    clock: &Clock,
) {
    let a1 = owned(&store, "alice", "aaaaaaaaaaaaaaaaaaaaa1", 1_000, TTL).await;
    let a2 = owned(&store, "alice", "aaaaaaaaaaaaaaaaaaaaa2", 3_000, TTL).await;
    let a3 = owned(&store, "alice", "aaaaaaaaaaaaaaaaaaaaa3", 2_000, TTL).await;
    let short = owned(
        &store,
        "alice",
        "aaaaaaaaaaaaaaaaaaaaa4",
        4_000,
        Duration::minutes(1),
    )
    .await;
    let b1 = owned(&store, "bob", "bbbbbbbbbbbbbbbbbbbbb1", 5_000, TTL).await;
    // A session whose state names another owner than its link is not listed.
    let stale = {
        let key = store
            .save(
                state(json!({"__session_meta": {"id": "ccccccccccccccccccccc1", "o": "carol"}})),
                &TTL,
            )
            .await
            .expect("save");
        store
            .link_owner(OwnerLink::new("alice", "ccccccccccccccccccccc1", &key, TTL))
            .await
            .expect("link");
        key
    };

    let listed = store.owner_sessions("alice").await.expect("list");
    assert_eq!(
        ids(&listed),
        [
            "aaaaaaaaaaaaaaaaaaaaa4",
            "aaaaaaaaaaaaaaaaaaaaa2",
            "aaaaaaaaaaaaaaaaaaaaa3",
            "aaaaaaaaaaaaaaaaaaaaa1"
        ]
    );
    assert_eq!(listed[1].last_seen.unix_timestamp(), 3_000);
    assert_eq!(listed[1].created_at.unix_timestamp(), 2_990);
    assert!(listed.iter().all(|info| !info.current));

    clock.advance(Duration::minutes(2));
    let listed = store.owner_sessions("alice").await.expect("list");
    assert_eq!(listed.len(), 3, "the expired session is not listed");
    assert!(
        !store
            .revoke_owner_session("alice", "aaaaaaaaaaaaaaaaaaaaa4")
            .await
            .expect("revoke"),
        "an expired session is not a live one"
    );
    assert!(store.load(&short).await.expect("load").is_none());

    assert!(
        !store
            .revoke_owner_session("alice", "bbbbbbbbbbbbbbbbbbbbb1")
            .await
            .expect("revoke"),
        "another owner's session is unknown"
    );
    assert!(store.load(&b1).await.expect("load").is_some());

    assert!(
        store
            .revoke_owner_session("alice", "aaaaaaaaaaaaaaaaaaaaa1")
            .await
            .expect("revoke")
    );
    assert!(store.load(&a1).await.expect("load").is_none(), "revoked");
    let update = store
        .update_changes(a1, changes(json!({"x": 1}), &["x"]), &TTL)
        .await;
    assert!(matches!(update, Err(UpdateError::NotFound)), "not revived");

    assert_eq!(
        store
            .revoke_other_owner_sessions("alice", "aaaaaaaaaaaaaaaaaaaaa2")
            .await
            .expect("revoke others"),
        1,
        "a3; the session whose state names another owner is not alice's"
    );
    assert!(store.load(&stale).await.expect("load").is_some());
    assert!(store.load(&a2).await.expect("load").is_some(), "kept");
    assert!(store.load(&a3).await.expect("load").is_none());

    store
        .unlink_owner("alice", "aaaaaaaaaaaaaaaaaaaaa2")
        .await
        .expect("unlink");
    assert!(
        store
            .owner_sessions("alice")
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(
        store.revoke_owner_sessions("alice").await.expect("revoke"),
        0
    );
    assert!(
        store.load(&a2).await.expect("load").is_some(),
        "unlinked, not deleted"
    );

    assert_eq!(
        ids(&store.owner_sessions("bob").await.expect("list")),
        ["bbbbbbbbbbbbbbbbbbbbb1"]
    );
    assert_eq!(store.revoke_owner_sessions("bob").await.expect("revoke"), 1);
    assert!(store.load(&b1).await.expect("load").is_none());
    assert!(store.owner_sessions("bob").await.expect("list").is_empty());
}
