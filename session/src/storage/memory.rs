use std::{
    collections::{HashMap, hash_map::Entry},
    convert::Infallible,
    hash::{BuildHasher, RandomState},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicI64, AtomicUsize, Ordering},
    },
};

use actix_web::cookie::time::{Duration, OffsetDateTime};

use super::{
    LoadError, OwnerError, OwnerIndex, OwnerLink, SaveError, SessionChanges, SessionInfo,
    SessionKey, SessionState, SessionStore, SharedOwnerIndex, UpdateError,
    collision::{self, KEY_ATTEMPTS},
    generate_session_key,
    interface::DeleteError,
};
use crate::clock::Clock;

/// How many independently locked parts the map is split into, so that workers rarely wait
/// for each other.
const DEFAULT_SHARDS: usize = 16;
/// How long an expired session may stay in the map before a write sweeps it out.
const DEFAULT_SWEEP_INTERVAL: Duration = Duration::seconds(1);

/// An in-process session store: the embedded default.
///
/// - Clones share one map, so a store created once and cloned into the `HttpServer` factory
///   serves all actix workers.
/// - TTLs are enforced on every read; expired sessions are swept out by writes, a shard at a
///   time, within a [sweep interval](MemorySessionStoreBuilder::sweep_interval) (one second by
///   default), so memory holds the live set, not the history.
/// - Updates write only what the request changed, and never re-create a session that was
///   deleted or expired while the request ran.
///
/// - It keeps an [owner index](OwnerIndex): the sessions bound to each owner can be listed
///   and signed out, from a request ([`Session::owner_sessions`](crate::Session::owner_sessions))
///   or from anywhere else with the store ([`OwnerIndex::owner_sessions`],
///   [`OwnerIndex::revoke_owner_sessions`]).
///
/// Sessions do not survive a restart and are not shared between machines: use Redis for that.
///
/// ```no_run
/// use actix_web::{cookie::Key, App, HttpServer};
/// use session::{storage::MemorySessionStore, SessionMiddleware};
///
/// # async fn run() -> std::io::Result<()> {
/// let store = MemorySessionStore::new();
/// let key = Key::generate();
/// HttpServer::new(move || {
///     App::new().wrap(SessionMiddleware::new(store.clone(), key.clone()))
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await
/// # }
/// ```
#[derive(Clone, Default)]
pub struct MemorySessionStore {
    inner: Arc<Inner>,
}

struct Inner {
    shards: Box<[Mutex<HashMap<String, Record>>]>,
    hasher: RandomState,
    clock: Clock,
    sweep_interval: Duration,
    /// Unix milliseconds of the last (one-shard) sweep.
    last_sweep: AtomicI64,
    /// The shard the next sweep cleans.
    sweep_cursor: AtomicUsize,
    /// The owner index: owner → public id → key. Locked before a shard when both are (never
    /// the other way round).
    owners: Mutex<HashMap<String, OwnerEntries>>,
}

impl Default for Inner {
    fn default() -> Self {
        MemorySessionStoreBuilder::default().into_inner()
    }
}

/// One stored session: the state in a small envelope of timestamps.
struct Record {
    state: SessionState,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
}

impl Record {
    fn is_live(&self, now: OffsetDateTime) -> bool {
        self.expires_at > now
    }
}

/// Configures a [`MemorySessionStore`].
///
/// ```
/// use actix_web::cookie::time::Duration;
/// use session::storage::MemorySessionStore;
///
/// let store = MemorySessionStore::builder()
///     .sweep_interval(Duration::seconds(10))
///     .build();
/// assert!(store.is_empty());
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct MemorySessionStoreBuilder {
    clock: Clock,
    sweep_interval: Duration,
    shards: usize,
}

impl Default for MemorySessionStoreBuilder {
    fn default() -> Self {
        Self {
            clock: Clock::system(),
            sweep_interval: DEFAULT_SWEEP_INTERVAL,
            shards: DEFAULT_SHARDS,
        }
    }
}

impl MemorySessionStoreBuilder {
    /// The clock that decides expiry (default: the system clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// How long, at most, an expired session stays in memory (default: one second). Writes
    /// sweep one shard of the map at a time, round robin, so that each shard is swept once
    /// per interval. Expired sessions are never served in between: reads check the TTL
    /// themselves.
    pub fn sweep_interval(mut self, interval: Duration) -> Self {
        self.sweep_interval = interval;
        self
    }

    /// Builds the store.
    pub fn build(self) -> MemorySessionStore {
        MemorySessionStore {
            inner: Arc::new(self.into_inner()),
        }
    }

    fn into_inner(self) -> Inner {
        let shards = (0..self.shards.max(1))
            .map(|_| Mutex::new(HashMap::new()))
            .collect();
        Inner {
            shards,
            hasher: RandomState::new(),
            last_sweep: AtomicI64::new(self.clock.now_ms()),
            sweep_cursor: AtomicUsize::new(0),
            clock: self.clock,
            sweep_interval: self.sweep_interval,
            owners: Mutex::new(HashMap::new()),
        }
    }
}

impl MemorySessionStore {
    /// A store on the system clock with the default sweep interval.
    pub fn new() -> Self {
        Self::default()
    }

    /// Configures a store.
    pub fn builder() -> MemorySessionStoreBuilder {
        MemorySessionStoreBuilder::default()
    }

    /// How many sessions the map holds, including expired ones not yet swept.
    pub fn len(&self) -> usize {
        self.inner
            .shards
            .iter()
            .map(|shard| lock(shard).len())
            .sum()
    }

    /// Whether the map holds no session at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every expired session now and returns how many were removed.
    pub fn remove_expired(&self) -> usize {
        let now = self.inner.clock.now();
        self.inner
            .last_sweep
            .store(Clock::unix_ms(now), Ordering::Relaxed);
        self.inner
            .shards
            .iter()
            .map(|shard| sweep(&mut lock(shard), now))
            .sum()
    }

    fn shard(&self, key: &str) -> MutexGuard<'_, HashMap<String, Record>> {
        let shards = &self.inner.shards;
        // The modulo keeps the index below `shards.len()`, so the cast cannot truncate it.
        #[allow(clippy::cast_possible_truncation)]
        let index = (self.inner.hasher.hash_one(key) % shards.len() as u64) as usize;
        lock(&shards[index])
    }

    /// Sweeps the next shard (round robin) if its turn has come: every shard is swept once
    /// per sweep interval, one at a time, so no write pays for the whole map and an expired
    /// session stays at most about one interval.
    fn sweep_if_due(&self, now: OffsetDateTime) {
        let shards = &self.inner.shards;
        let spacing = self.inner.sweep_interval.whole_milliseconds()
            / i128::try_from(shards.len()).unwrap_or(1);
        let last = self.inner.last_sweep.load(Ordering::Relaxed);
        let now_ms = Clock::unix_ms(now);
        if i128::from(now_ms - last) >= spacing
            && self
                .inner
                .last_sweep
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let index = self.inner.sweep_cursor.fetch_add(1, Ordering::Relaxed) % shards.len();
            let removed = sweep(&mut lock(&shards[index]), now);
            tracing::trace!(removed, shard = index, "swept expired sessions");
        }
    }

    /// Runs `change` on the live record under `key`, or reports that there is none.
    fn with_live_record<T>(
        &self,
        key: &SessionKey,
        change: impl FnOnce(&mut Record, OffsetDateTime) -> T,
    ) -> Result<T, UpdateError> {
        let now = self.inner.clock.now();
        let mut shard = self.shard(key.as_ref());
        match shard.get_mut(key.as_ref()) {
            Some(record) if record.is_live(now) => Ok(change(record, now)),
            Some(_) => {
                shard.remove(key.as_ref());
                Err(UpdateError::NotFound)
            }
            None => Err(UpdateError::NotFound),
        }
    }
}

impl std::fmt::Debug for MemorySessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySessionStore")
            .field("sessions", &self.len())
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

/// What `record` says about session `public_id` of `owner`, if it is live and still that
/// owner's session with that id.
fn owned_info(
    record: &Record,
    owner: &str,
    public_id: &str,
    now: OffsetDateTime,
) -> Option<SessionInfo> {
    if !record.is_live(now) {
        return None;
    }
    let (info, bound_to) = SessionInfo::from_stored(&record.state)?;
    (info.public_id == public_id && bound_to.as_deref() == Some(owner)).then_some(info)
}

/// Removes the expired sessions of one shard, giving memory back when the shard shrank a lot.
fn sweep(map: &mut HashMap<String, Record>, now: OffsetDateTime) -> usize {
    let before = map.len();
    map.retain(|_, record| record.is_live(now));
    if map.capacity() > 64 && map.len() < map.capacity() / 4 {
        map.shrink_to(map.len() * 2);
    }
    before - map.len()
}

/// Locks a shard (or the owner index), recovering the map if another thread panicked while
/// holding it: every operation leaves the maps consistent, so a poisoned lock carries no
/// half-written record.
fn lock<T>(shard: &Mutex<T>) -> MutexGuard<'_, T> {
    shard
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SessionStore for MemorySessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let now = self.inner.clock.now();
        let mut shard = self.shard(session_key.as_ref());
        match shard.get(session_key.as_ref()) {
            Some(record) if record.is_live(now) => Ok(Some(record.state.clone())),
            Some(_) => {
                shard.remove(session_key.as_ref());
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn save(&self, state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let now = self.inner.clock.now();
        self.sweep_if_due(now);
        let record = Record {
            state,
            created_at: now,
            expires_at: now + *ttl,
        };
        self.insert_under_new_key(record, generate_session_key)
            .await
    }

    async fn update(
        &self,
        session_key: SessionKey,
        state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        self.with_live_record(&session_key, |record, now| {
            record.state = state;
            record.expires_at = now + *ttl;
        })?;
        Ok(session_key)
    }

    async fn update_changes(
        &self,
        session_key: SessionKey,
        changes: SessionChanges,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        self.with_live_record(&session_key, |record, now| {
            record.expires_at = now + *ttl;
            if changes.is_cleared() {
                record.state = changes.into_state();
                return;
            }
            changes.apply_to(&mut record.state);
        })?;
        Ok(session_key)
    }

    async fn update_ttl(
        &self,
        session_key: &SessionKey,
        ttl: &Duration,
    ) -> Result<(), UpdateError> {
        self.with_live_record(session_key, |record, now| record.expires_at = now + *ttl)
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), DeleteError> {
        self.shard(session_key.as_ref())
            .remove(session_key.as_ref());
        Ok(())
    }

    fn owner_index(&self) -> Option<SharedOwnerIndex> {
        Some(SharedOwnerIndex::new(self.clone()))
    }
}

/// An owner's public ids with the key each session lives under, and the length at which
/// linking prunes them next.
#[derive(Default)]
struct OwnerEntries {
    sessions: HashMap<String, SessionKey>,
    prune_at: usize,
}

/// The shortest owner list linking prunes.
const MIN_OWNER_PRUNE: usize = 16;

/// The owner index lives beside the map: each owner's public ids with the key their session
/// lives under. Every answer is checked against the session's record (live, same public id,
/// same owner); entries that fail the check are pruned.
impl OwnerIndex for MemorySessionStore {
    async fn link_owner(&self, link: OwnerLink<'_>) -> Result<(), OwnerError> {
        let now = self.inner.clock.now();
        let mut owners = lock(&self.inner.owners);
        let entries = owners.entry(link.owner.to_owned()).or_default();
        entries
            .sessions
            .insert(link.public_id.to_owned(), link.key.clone());
        // Linking is when an owner's list grows: drop what ended once it has doubled since
        // the last time, so it never grows past twice the owner's live sessions and a link
        // costs a constant amount on average, however many sessions the owner has.
        if entries.sessions.len() >= entries.prune_at {
            entries.sessions.retain(|public_id, key| {
                self.owned_record(key, link.owner, public_id, now).is_some()
            });
            entries.prune_at = (2 * entries.sessions.len()).max(MIN_OWNER_PRUNE);
        }
        Ok(())
    }

    async fn unlink_owner(&self, owner: &str, public_id: &str) -> Result<(), OwnerError> {
        let mut owners = lock(&self.inner.owners);
        if let Some(entries) = owners.get_mut(owner) {
            entries.sessions.remove(public_id);
            if entries.sessions.is_empty() {
                owners.remove(owner);
            }
        }
        Ok(())
    }

    async fn owner_sessions(&self, owner: &str) -> Result<Vec<SessionInfo>, OwnerError> {
        let now = self.inner.clock.now();
        let mut listed = Vec::new();
        self.prune_owner(owner, |public_id, key| {
            let info = self.owned_record(key, owner, public_id, now);
            let live = info.is_some();
            listed.extend(info);
            live
        });
        listed.sort_by_key(|info| std::cmp::Reverse(info.last_seen));
        Ok(listed)
    }

    async fn revoke_owner_session(&self, owner: &str, public_id: &str) -> Result<bool, OwnerError> {
        let key = lock(&self.inner.owners)
            .get(owner)
            .and_then(|entries| entries.sessions.get(public_id))
            .cloned();
        let Some(key) = key else {
            return Ok(false);
        };
        let owned = self.delete_if_owned(&key, owner, public_id, self.inner.clock.now());
        self.unlink_owner(owner, public_id).await?;
        Ok(owned)
    }

    async fn revoke_owner_sessions(&self, owner: &str) -> Result<usize, OwnerError> {
        self.revoke_owner_sessions_but(owner, None).await
    }

    async fn revoke_other_owner_sessions(
        &self,
        owner: &str,
        keep: &str,
    ) -> Result<usize, OwnerError> {
        self.revoke_owner_sessions_but(owner, Some(keep)).await
    }
}

impl MemorySessionStore {
    /// What the record under `key` says about session `public_id` of `owner`, if it is live
    /// and still that owner's session with that id.
    fn owned_record(
        &self,
        key: &SessionKey,
        owner: &str,
        public_id: &str,
        now: OffsetDateTime,
    ) -> Option<SessionInfo> {
        owned_info(
            self.shard(key.as_ref()).get(key.as_ref())?,
            owner,
            public_id,
            now,
        )
    }

    /// Deletes the record under `key` if it is live and still session `public_id` of `owner`,
    /// checked and removed under one lock, so that a session re-bound meanwhile is never
    /// deleted in its new owner's name.
    fn delete_if_owned(
        &self,
        key: &SessionKey,
        owner: &str,
        public_id: &str,
        now: OffsetDateTime,
    ) -> bool {
        let mut shard = self.shard(key.as_ref());
        let owned = shard
            .get(key.as_ref())
            .and_then(|record| owned_info(record, owner, public_id, now))
            .is_some();
        if owned {
            shard.remove(key.as_ref());
        }
        owned
    }

    /// Keeps the index entries of `owner` for which `keep(public_id, key)` holds.
    fn prune_owner(&self, owner: &str, mut keep: impl FnMut(&str, &SessionKey) -> bool) {
        let mut owners = lock(&self.inner.owners);
        if let Some(entries) = owners.get_mut(owner) {
            entries
                .sessions
                .retain(|public_id, key| keep(public_id, key));
            if entries.sessions.is_empty() {
                owners.remove(owner);
            }
        }
    }

    /// Deletes every session of `owner` except `keep` and returns how many were live.
    async fn revoke_owner_sessions_but(
        &self,
        owner: &str,
        keep: Option<&str>,
    ) -> Result<usize, OwnerError> {
        let now = self.inner.clock.now();
        let mut ended = 0;
        self.prune_owner(owner, |public_id, key| {
            if keep == Some(public_id) {
                return true;
            }
            if self.delete_if_owned(key, owner, public_id, now) {
                ended += 1;
            }
            false
        });
        Ok(ended)
    }

    /// When the session under `key` was created, if it is live.
    pub fn created_at(&self, key: &SessionKey) -> Option<OffsetDateTime> {
        let now = self.inner.clock.now();
        self.shard(key.as_ref())
            .get(key.as_ref())
            .filter(|record| record.is_live(now))
            .map(|record| record.created_at)
    }

    /// Stores `record` under the first key from `next_key` that no session uses: a key that
    /// is taken is never overwritten or merged, and after `KEY_ATTEMPTS` taken keys the save
    /// fails.
    async fn insert_under_new_key(
        &self,
        record: Record,
        next_key: impl FnMut() -> SessionKey,
    ) -> Result<SessionKey, SaveError> {
        let mut record = Some(record);
        let stored = collision::insert_under_new_key("memory", KEY_ATTEMPTS, next_key, |key| {
            std::future::ready(Ok::<_, Infallible>(self.insert_if_vacant(key, &mut record)))
        })
        .await;
        match stored {
            Ok(Some(key)) => Ok(key),
            Ok(None) => Err(SaveError::Other(
                "could not find a free session key after several attempts".into(),
            )),
            Err(never) => match never {},
        }
    }

    /// Moves `record` into the map under `key` unless a session holds that key already.
    fn insert_if_vacant(&self, key: &SessionKey, record: &mut Option<Record>) -> bool {
        if let Entry::Vacant(slot) = self.shard(key.as_ref()).entry(key.as_ref().to_owned())
            && let Some(record) = record.take()
        {
            slot.insert(record);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn record(user: &str) -> Record {
        let now = OffsetDateTime::now_utc();
        let mut state = SessionState::new();
        state.insert("user".into(), json!(user));
        Record {
            state,
            created_at: now,
            expires_at: now + Duration::hours(1),
        }
    }

    fn key(text: &str) -> SessionKey {
        SessionKey::try_from(text.to_owned()).unwrap()
    }

    /// A store whose one session, of user "first", lives under the key "taken".
    async fn store_with_a_taken_key() -> MemorySessionStore {
        let store = MemorySessionStore::new();
        let first = store
            .insert_under_new_key(record("first"), || key("taken"))
            .await;
        assert_eq!(first.unwrap().as_ref(), "taken");
        store
    }

    async fn user_of(store: &MemorySessionStore, key: &SessionKey) -> Value {
        store.load(key).await.unwrap().unwrap()["user"].clone()
    }

    #[actix_rt::test]
    async fn a_colliding_key_is_retried_and_never_overwrites_the_session_holding_it() {
        let store = store_with_a_taken_key().await;
        let mut keys = ["taken", "taken", "free"].into_iter();
        let second = store
            .insert_under_new_key(record("second"), || key(keys.next().unwrap()))
            .await
            .unwrap();
        assert_eq!(second.as_ref(), "free");
        assert_eq!(user_of(&store, &key("taken")).await, json!("first"));
        assert_eq!(user_of(&store, &second).await, json!("second"));
    }

    #[actix_rt::test]
    async fn a_save_that_finds_no_free_key_fails_and_changes_nothing() {
        let store = store_with_a_taken_key().await;
        let mut attempts = 0;
        let result = store
            .insert_under_new_key(record("second"), || {
                attempts += 1;
                key("taken")
            })
            .await;
        assert!(matches!(result, Err(SaveError::Other(_))));
        assert_eq!(attempts, KEY_ATTEMPTS);
        assert_eq!(store.len(), 1);
        assert_eq!(user_of(&store, &key("taken")).await, json!("first"));
    }

    /// Many sessions of one owner, most of them ended: linking keeps the owner's list within
    /// twice its live sessions (plus a small floor), without scanning it on every link.
    #[actix_rt::test]
    async fn an_owners_list_stays_within_twice_its_live_sessions() {
        use crate::{
            session_meta::{META_KEY, SessionMeta},
            storage::{OwnerIndex, OwnerLink},
        };
        let store = MemorySessionStore::new();
        let ttl = Duration::hours(1);
        let mut live = 0;
        for n in 0..1_000 {
            let mut meta = SessionMeta::fresh();
            meta.owner = Some("ferris".to_owned());
            let public_id = meta.public_id.clone();
            let mut state = SessionState::new();
            state.insert(META_KEY.to_owned(), meta.to_value());
            let key = store.save(state, &ttl).await.unwrap();
            store
                .link_owner(OwnerLink::new("ferris", &public_id, &key, ttl))
                .await
                .unwrap();
            // Three sessions in four end (a logout that left its link behind).
            if n % 4 == 0 {
                live += 1;
            } else {
                store.delete(&key).await.unwrap();
            }
            let listed = lock(&store.inner.owners)
                .get("ferris")
                .map_or(0, |entries| entries.sessions.len());
            assert!(
                listed <= (2 * live).max(MIN_OWNER_PRUNE) + 1,
                "{listed} entries for {live} live sessions"
            );
        }
        assert_eq!(store.owner_sessions("ferris").await.unwrap().len(), live);
    }
}
