//! [`NearCache`]: a bounded per-process copy of session records, kept exact by Redis's
//! invalidation messages (RESP3 `CLIENT TRACKING`).
//!
//! # The fill protocol
//! Every event that can make a cached record wrong (an invalidation message for its key, a
//! write by this store, a flush) advances one counter, `clock`, under the cache's lock. A
//! read that misses takes a *ticket* before it sends anything: the current `clock`, and its
//! key registered as "being filled". An invalidation of a key being filled stamps that fill
//! with the new `clock`; a flush stamps every fill. When the reply comes back, the record is
//! stored only if neither stamp is later than the ticket, checked under the same lock.
//!
//! Why that is exact: the read itself (sent with `CLIENT TRACKING ON` in front of it, on the
//! same connection) makes Redis track the key for this connection, so any later change of
//! the key produces an invalidation message on that connection, or the connection dies and
//! its disconnection flushes everything. That message is handled either before the insert
//! (the stamp is later than the ticket: the insert is refused) or after it (the entry is
//! removed). It cannot be handled before the ticket was taken, because the change happened
//! after the read ran, and the read was sent after the ticket. No ordering between replies
//! and pushes is needed, which matters: redis-rs hands pushes over through a channel.
//!
//! # Writes fill too
//! A write by this store is a fill of its own (`WriteGuard`): it invalidates the key and
//! takes a ticket before it is sent, keeping the entry it removed, if fresh, as its *base*;
//! its script reads the key after its last change (which tracks the key again for this
//! connection) and tells what the write left: for a patch or a TTL refresh of the revision
//! the base holds (every record carries a revision, which every write raises by one), only
//! the new revision, and the writer applies its changes to the base; for a replacement, the
//! new revision (the record is what was sent); otherwise the whole record. When the reply
//! comes back, one step under the lock invalidates the key once more (refusing every other
//! fill of it in flight) and stores that record if no stamp is later than the write's
//! ticket. The connections use `CLIENT TRACKING ON NOLOOP`: Redis sends no invalidation for
//! a connection's own writes (otherwise every write would void its own fill), so this
//! store's writes invalidate locally instead, before they are sent and when they end; other
//! clients' writes are still reported. Exact for the same reason as a read: the script ran
//! atomically, so what it reported was Redis's record at that moment (a matching revision
//! means Redis held the base, so the base with the write's changes is what Redis then held);
//! any later change by another client is reported on the tracking connection; a change by
//! this store is a write of its own, whose local invalidations stamp or remove what was
//! there (two writes of one key in flight together both stay uncached).
use std::{
    collections::HashMap as StdHashMap,
    fmt,
    future::Future,
    pin::Pin,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use redis::{PushInfo, PushKind, Value};

use crate::storage::SessionState;

/// The cache's maps: keyed by Redis keys, which hold a random session key, so a fast seeded
/// hasher is enough (std's SipHash cost more than any other step of a cached request).
type HashMap<K, V> = StdHashMap<K, V, foldhash::fast::RandomState>;

/// The default number of cached sessions.
const DEFAULT_CAPACITY: usize = 10_000;
/// The default longest time an entry is served without asking Redis.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(5 * 60);

/// A per-process cache of session records in front of a
/// [`RedisSessionStore`](crate::storage::RedisSessionStore), kept exact by Redis
/// (server-assisted client-side caching, RESP3 `CLIENT TRACKING`). Off unless set with
/// [`RedisSessionStoreBuilder::near_cache`](crate::storage::RedisSessionStoreBuilder::near_cache).
///
/// ```no_run
/// use std::time::Duration;
/// use session::storage::{NearCache, RedisSessionStore};
///
/// # async fn run() -> Result<(), session::storage::RedisStoreError> {
/// let store = RedisSessionStore::builder("redis://127.0.0.1:6379")
///     .near_cache(NearCache::new().capacity(50_000).max_age(Duration::from_secs(60)))
///     .build()
///     .await?;
/// # Ok(())
/// # }
/// ```
///
/// # What it guarantees
/// A hit costs no round trip. A miss costs the same single round trip as without the cache
/// (`CLIENT TRACKING ON`, `HGETALL` and `PTTL` in one pipeline). Once this process has
/// received Redis's invalidation for a change made by any client (another instance's save,
/// update, TTL refresh or logout, an expiry or eviction in Redis), no read returns the old
/// record. This store's own writes leave the record they wrote in the cache (the write
/// scripts track the key again and report what they left, so a route that reads then writes
/// a session costs one round trip);
/// a delete drops the entry. A read or write that races with an invalidation never leaves a
/// stale entry (see the fill protocol in the source of this module). An entry is never served past the key's
/// TTL in Redis, nor past [`max_age`](Self::max_age). A lost connection, a reconnection, a
/// `FLUSHALL`, a failed command or a failed health check empties the cache. The health check
/// runs each second: a `PING` (to every master of a cluster), and on a cluster the slot map,
/// whose every change empties the cache too.
///
/// # What it costs
/// - Memory: at most [`capacity`](Self::capacity) entries, each the decoded state (its JSON
///   values as `serde_json::Value`s, typically a few hundred bytes) plus its Redis key and
///   about 100 bytes of bookkeeping.
/// - One `CLIENT TRACKING ON NOLOOP` per connection, sent in front of each miss and each
///   write (one more reply to parse), and the health check each second (`PING`, plus
///   `CLUSTER SLOTS` on a cluster).
/// - A write of a cached session is answered with its new revision, and the writer applies
///   its own changes to its entry; a write of an uncached one answers with the record it
///   left (a `HGETALL` inside the script and the record's bytes on the wire).
/// - On the server, the tracking table: Redis remembers, per key read, which connections
///   read it, until the key changes (bounded by `tracking-table-max-keys`).
///
/// A server without RESP3 or `CLIENT TRACKING` (Redis before 6, some managed services):
/// the store works without the cache and logs one warning.
///
/// # Why it is off by default
/// - Another instance's change reaches this process as an invalidation message, one network
///   hop after the change. A read in that window returns the old record, which an uncached
///   read never does: an application that writes on one instance and must read the write on
///   another at once (without the user's next request in between) should leave it off.
/// - The memory, the server's tracking table and the cost of creating a session (a cache
///   entry and a tracking-table entry per login) are costs an operator should size.
///
/// Turn it on where sessions are read far more often than written.
#[derive(Clone, PartialEq, Eq)]
#[must_use]
pub struct NearCache {
    enabled: bool,
    capacity: usize,
    max_age: Duration,
}

impl NearCache {
    /// A cache of 10 000 sessions whose entries are re-read from Redis after 5 minutes at
    /// the latest.
    pub fn new() -> Self {
        Self {
            enabled: true,
            capacity: DEFAULT_CAPACITY,
            max_age: DEFAULT_MAX_AGE,
        }
    }

    /// No cache (the default of the store builders): every read asks Redis.
    pub fn off() -> Self {
        Self {
            enabled: false,
            ..Self::new()
        }
    }

    /// The most sessions kept (default 10 000); `0` turns the cache off.
    pub fn capacity(mut self, entries: usize) -> Self {
        self.capacity = entries;
        self
    }

    /// The longest time an entry is served without asking Redis (default 5 minutes), a
    /// safety net behind the invalidations; `Duration::ZERO` turns the cache off.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Whether this cache stores anything.
    pub fn is_enabled(&self) -> bool {
        self.enabled && self.capacity > 0 && !self.max_age.is_zero()
    }
}

impl Default for NearCache {
    /// The same as [`NearCache::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for NearCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.is_enabled() {
            return f.write_str("NearCache(off)");
        }
        f.debug_struct("NearCache")
            .field("capacity", &self.capacity)
            .field("max_age", &self.max_age)
            .finish()
    }
}

/// What a store's near cache did since the store was built, from
/// [`RedisSessionStore::near_cache_stats`](crate::storage::RedisSessionStore::near_cache_stats).
/// All zero when the cache is off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NearCacheStats {
    /// Loads answered from the cache.
    pub hits: u64,
    /// Loads that asked Redis.
    pub misses: u64,
    /// Keys Redis reported as changed (invalidation messages).
    pub invalidations: u64,
    /// Times the whole cache was emptied (disconnection, `FLUSHALL`, a failed command or
    /// health check).
    pub flushes: u64,
}

/// A hook the tests run between a read's or a write's reply and its insert.
pub(super) type FillHook =
    Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The cache itself: entries, fills in flight, counters.
pub(super) struct Cache {
    capacity: usize,
    max_age: Duration,
    state: Mutex<State>,
    hits: AtomicU64,
    misses: AtomicU64,
    invalidations: AtomicU64,
    flushes: AtomicU64,
    has_hook: AtomicBool,
    hook: Mutex<Option<FillHook>>,
}

struct Entry {
    state: Arc<SessionState>,
    /// The record's revision in Redis (`None` for a record written before revisions).
    revision: Option<u64>,
    /// The earlier of the key's TTL deadline and the entry's maximum age.
    expires_at: Instant,
}

/// Entries by Redis key.
type Entries = HashMap<String, Entry>;

#[derive(Default)]
struct State {
    /// Entries used since the last rotation, and those from before it (the two together
    /// never exceed the capacity: a cheap approximation of LRU).
    hot: Entries,
    cold: Entries,
    /// Advances on every invalidation, local write and flush.
    clock: u64,
    /// `clock` at the last flush.
    flushed_at: u64,
    /// Keys with reads in flight.
    fills: HashMap<String, Fill>,
}

#[derive(Default)]
struct Fill {
    count: usize,
    /// `clock` at the last invalidation of the key while reads were in flight.
    invalidated_at: u64,
}

impl State {
    /// Drops the entry of `key` (returned) and stamps the fills of `key` in flight.
    fn invalidate(&mut self, key: &str) -> Option<Entry> {
        self.clock += 1;
        let removed = match self.hot.remove(key) {
            Some(entry) => Some(entry),
            None => self.cold.remove(key),
        };
        if let Some(fill) = self.fills.get_mut(key) {
            fill.invalidated_at = self.clock;
        }
        removed
    }

    /// Registers a read or write of `key` in flight; returns its ticket (the current clock).
    fn register(&mut self, key: &str) -> u64 {
        self.fills.entry(key.to_owned()).or_default().count += 1;
        self.clock
    }

    /// Ends a registration made by [`register`](Self::register).
    fn release(&mut self, key: &str) {
        if let Some(fill) = self.fills.get_mut(key) {
            fill.count -= 1;
            if fill.count == 0 {
                self.fills.remove(key);
            }
        }
    }

    /// Whether nothing that could make a reply of `key` wrong (an invalidation of the key, a
    /// flush) happened since the ticket `taken_at`.
    fn unchanged_since(&self, key: &str, taken_at: u64) -> bool {
        self.flushed_at <= taken_at
            && self
                .fills
                .get(key)
                .is_none_or(|fill| fill.invalidated_at <= taken_at)
    }

    /// Stores `entry`; returns the map of entries the insert retired, if any (see
    /// [`drop_retired`]).
    #[must_use = "retired entries are dropped with `drop_retired`"]
    fn insert(&mut self, capacity: usize, key: String, entry: Entry) -> Option<Entries> {
        self.cold.remove(&key);
        let replaces = self.hot.contains_key(&key);
        let mut retired = None;
        if !replaces && self.hot.len() >= (capacity / 2).max(1) {
            retired = Some(std::mem::replace(
                &mut self.cold,
                std::mem::take(&mut self.hot),
            ));
        }
        if !replaces && self.hot.len() + self.cold.len() >= capacity {
            let evicted = self.cold.keys().next().cloned();
            if let Some(evicted) = evicted {
                self.cold.remove(&evicted);
            }
        }
        self.hot.insert(key, entry);
        retired
    }
}

/// Drops entries that left the cache together (half the capacity of decoded states when the
/// maps rotate, everything on a flush) on the runtime's blocking threads when there is a
/// runtime, so that the request that retired them does not wait for it.
fn drop_retired(retired: Option<Entries>) {
    let Some(retired) = retired.filter(|entries| !entries.is_empty()) else {
        return;
    };
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(move || drop(retired))),
        Err(_) => drop(retired),
    }
}

/// A read in flight; dropping it (an error, a cancelled request) gives up the fill.
pub(super) struct Ticket<'a> {
    cache: &'a Cache,
    key: String,
    taken_at: u64,
    sent_at: Instant,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.cache.lock().release(&self.key);
    }
}

/// A write in flight by this store. It drops the key's entry when the write is sent and
/// again when the write is over, so that this process reads its own writes without waiting
/// for Redis (the connections ask for no invalidations of their own writes, `NOLOOP`). A
/// write that answers with the record it left ends with [`fill`](Self::fill) instead, which
/// drops the entry and stores that record in one step, under the same rule as a read's
/// fill: only if nothing invalidated the key since the write was sent.
///
/// Every write of a session key on a cached store's connection must go through a guard:
/// Redis does not tell a connection about its own writes.
pub(super) struct WriteGuard<'a> {
    cache: Option<&'a Cache>,
    key: &'a str,
    taken_at: u64,
    sent_at: Instant,
    filled: bool,
    /// The fresh entry the write found, with its revision: the record the write patches if
    /// Redis still holds that revision.
    base: Option<(Arc<SessionState>, u64)>,
}

impl<'a> WriteGuard<'a> {
    pub(super) fn new(cache: Option<&'a Cache>, key: &'a str) -> Self {
        let now = Instant::now();
        let (taken_at, base) = cache.map_or((0, None), |cache| {
            let mut state = cache.lock();
            let base = state
                .invalidate(key)
                .filter(|entry| entry.expires_at > now)
                .and_then(|entry| Some((entry.state, entry.revision?)));
            (state.register(key), base)
        });
        Self {
            cache,
            key,
            taken_at,
            sent_at: now,
            filled: false,
            base,
        }
    }

    /// The revision of the cached record this write found, which the write script compares
    /// with Redis's.
    pub(super) fn expected_revision(&self) -> Option<u64> {
        self.base.as_ref().map(|(_, revision)| *revision)
    }

    /// The cached record this write found (see [`expected_revision`](Self::expected_revision)).
    pub(super) fn take_base(&mut self) -> Option<Arc<SessionState>> {
        self.base.take().map(|(state, _)| state)
    }

    /// Ends the write with the record it left in Redis, its revision and the TTL it set
    /// (`ttl_ms`): drops the key's entry (and refuses every other fill of the key in
    /// flight), then stores the record unless an invalidation or a flush came after the
    /// write was sent.
    pub(super) async fn fill(
        mut self,
        record: Arc<SessionState>,
        revision: Option<u64>,
        ttl_ms: i64,
    ) {
        let Some(cache) = self.cache else {
            return;
        };
        cache.run_hook(self.key).await;
        let expires_at = cache.deadline(self.sent_at, ttl_ms);
        let mut state = cache.lock();
        let fresh = state.unchanged_since(self.key, self.taken_at);
        state.invalidate(self.key);
        state.release(self.key);
        self.filled = true;
        let stored = match expires_at {
            Some(expires_at) if fresh => {
                let entry = Entry {
                    state: record,
                    revision,
                    expires_at,
                };
                let retired = state.insert(cache.capacity, self.key.to_owned(), entry);
                drop(state);
                drop_retired(retired);
                true
            }
            _ => false,
        };
        if !stored {
            tracing::debug!("a session write raced with an invalidation; not cached");
        }
    }
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        if let Some(cache) = self.cache
            && !self.filled
        {
            let mut state = cache.lock();
            state.invalidate(self.key);
            state.release(self.key);
        }
    }
}

impl Cache {
    pub(super) fn new(settings: &NearCache) -> Self {
        Self {
            capacity: settings.capacity,
            max_age: settings.max_age,
            state: Mutex::new(State::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            invalidations: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
            has_hook: AtomicBool::new(false),
            hook: Mutex::new(None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The lock guards plain maps: a panic elsewhere cannot leave them half-updated in a
        // way that matters more than an empty cache.
        self.state.lock().unwrap_or_else(|poisoned| {
            let mut state = poisoned.into_inner();
            state.hot.clear();
            state.cold.clear();
            state.clock += 1;
            state.flushed_at = state.clock;
            state
        })
    }

    /// The cached state of `key`, if fresh; counts a hit or a miss.
    pub(super) fn get(&self, key: &str) -> Option<Arc<SessionState>> {
        let now = Instant::now();
        let mut state = self.lock();
        let mut retired = None;
        let found = if let Some(entry) = state.hot.get(key) {
            if entry.expires_at > now {
                Some(Arc::clone(&entry.state))
            } else {
                state.hot.remove(key);
                None
            }
        } else if let Some(entry) = state.cold.remove(key) {
            if entry.expires_at > now {
                let found = Arc::clone(&entry.state);
                retired = state.insert(self.capacity, key.to_owned(), entry);
                Some(found)
            } else {
                None
            }
        } else {
            None
        };
        drop(state);
        drop_retired(retired);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Takes a ticket for a read of `key` about to be sent.
    pub(super) fn ticket(&self, key: &str) -> Ticket<'_> {
        let taken_at = self.lock().register(key);
        Ticket {
            cache: self,
            key: key.to_owned(),
            taken_at,
            sent_at: Instant::now(),
        }
    }

    /// Stores what a read returned (the record and its revision), unless the key was
    /// invalidated or the cache flushed since the ticket was taken. `pttl_ms` is the key's
    /// remaining TTL (`-1`: none).
    pub(super) async fn fill(
        &self,
        ticket: Ticket<'_>,
        record: &SessionState,
        revision: Option<u64>,
        pttl_ms: i64,
    ) {
        self.run_hook(&ticket.key).await;
        let Some(expires_at) = self.deadline(ticket.sent_at, pttl_ms) else {
            return;
        };
        let entry = Entry {
            state: Arc::new(record.clone()),
            revision,
            expires_at,
        };
        let mut state = self.lock();
        let fresh = state.unchanged_since(&ticket.key, ticket.taken_at);
        let retired = if fresh {
            state.insert(self.capacity, ticket.key.clone(), entry)
        } else {
            None
        };
        drop(state);
        drop_retired(retired);
        if !fresh {
            tracing::debug!("a session read raced with an invalidation; not cached");
        }
    }

    /// When an entry read or written by a command sent at `sent_at` stops being served: the
    /// earlier of the key's TTL deadline (`ttl_ms` from then; `-1`: no TTL) and the maximum
    /// age. `None` for a key that is gone (`-2`) or about to be.
    fn deadline(&self, sent_at: Instant, ttl_ms: i64) -> Option<Instant> {
        let max_age_deadline = sent_at + self.max_age;
        match u64::try_from(ttl_ms) {
            Ok(ttl) if ttl > 0 => Some(max_age_deadline.min(sent_at + Duration::from_millis(ttl))),
            _ if ttl_ms == -1 => Some(max_age_deadline),
            _ => None,
        }
    }

    /// Runs the tests' hook, if one is set, between a reply and its insert.
    async fn run_hook(&self, key: &str) {
        if self.has_hook.load(Ordering::Acquire) {
            let hook = self
                .hook
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            if let Some(hook) = hook {
                hook(key.to_owned()).await;
            }
        }
    }

    /// Empties the cache and refuses every read in flight.
    pub(super) fn flush(&self, reason: &'static str) {
        let mut state = self.lock();
        let hot = std::mem::take(&mut state.hot);
        let cold = std::mem::take(&mut state.cold);
        state.clock += 1;
        state.flushed_at = state.clock;
        drop(state);
        drop_retired(Some(hot));
        drop_retired(Some(cold));
        self.flushes.fetch_add(1, Ordering::Relaxed);
        let stats = self.stats();
        tracing::debug!(
            reason,
            hits = stats.hits,
            misses = stats.misses,
            invalidations = stats.invalidations,
            flushes = stats.flushes,
            "session near cache flushed"
        );
    }

    /// Handles a push message from any connection of the store.
    pub(super) fn on_push(&self, push: &PushInfo) {
        match push.kind {
            PushKind::Invalidate => match push.data.first() {
                Some(Value::Array(keys)) => {
                    let mut state = self.lock();
                    let mut count = 0;
                    for key in keys {
                        if let Value::BulkString(key) = key
                            && let Ok(key) = std::str::from_utf8(key)
                        {
                            state.invalidate(key);
                            count += 1;
                        }
                    }
                    drop(state);
                    self.invalidations.fetch_add(count, Ordering::Relaxed);
                    tracing::debug!(keys = count, "session near cache invalidation");
                }
                // FLUSHALL / FLUSHDB.
                _ => self.flush("the server flushed its keys"),
            },
            PushKind::Disconnection => self.flush("a connection to Redis was lost"),
            _ => {}
        }
    }

    pub(super) fn stats(&self) -> NearCacheStats {
        NearCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            invalidations: self.invalidations.load(Ordering::Relaxed),
            flushes: self.flushes.load(Ordering::Relaxed),
        }
    }

    /// The cached keys with their states, for the tests' consistency checks.
    pub(super) fn snapshot(&self) -> Vec<(String, SessionState)> {
        let now = Instant::now();
        let state = self.lock();
        state
            .hot
            .iter()
            .chain(state.cold.iter())
            .filter(|(_, entry)| entry.expires_at > now)
            .map(|(key, entry)| (key.clone(), (*entry.state).clone()))
            .collect()
    }

    /// Stores `state` as the entry of `key` at `revision`, for the tests (see
    /// `RedisSessionStore::__near_cache_plant`).
    pub(super) fn plant(&self, key: String, state: SessionState, revision: u64) {
        let entry = Entry {
            state: Arc::new(state),
            revision: Some(revision),
            expires_at: Instant::now() + self.max_age,
        };
        let retired = self.lock().insert(self.capacity, key, entry);
        drop_retired(retired);
    }

    pub(super) fn set_hook(&self, hook: Option<FillHook>) {
        let mut slot = self
            .hook
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.has_hook.store(hook.is_some(), Ordering::Release);
        *slot = hook;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(n: i64) -> SessionState {
        let mut state = SessionState::new();
        state.insert("n".to_owned(), n.into());
        state
    }

    fn cache(capacity: usize) -> Cache {
        Cache::new(&NearCache::new().capacity(capacity))
    }

    #[actix_web::test]
    async fn an_invalidation_between_reply_and_insert_prevents_the_insert() {
        let cache = cache(10);
        let ticket = cache.ticket("k");
        cache.lock().invalidate("k");
        cache.fill(ticket, &state(1), None, -1).await;
        assert!(cache.get("k").is_none());

        let ticket = cache.ticket("k");
        cache.fill(ticket, &state(2), None, -1).await;
        assert_eq!(cache.get("k").as_deref(), Some(&state(2)));
    }

    #[actix_web::test]
    async fn a_flush_refuses_reads_in_flight_and_an_old_invalidation_does_not() {
        let cache = cache(10);
        let ticket = cache.ticket("k");
        cache.flush("test");
        cache.fill(ticket, &state(1), None, -1).await;
        assert!(cache.get("k").is_none());
        cache.lock().invalidate("k");
        let ticket = cache.ticket("k");
        cache.fill(ticket, &state(1), None, 10_000).await;
        assert!(cache.get("k").is_some());
        assert_eq!(cache.stats().flushes, 1);
    }

    #[actix_web::test]
    async fn the_capacity_bounds_the_entries() {
        for capacity in [1, 2, 3, 10] {
            let cache = cache(capacity);
            for n in 0..50 {
                let key = format!("k{n}");
                let ticket = cache.ticket(&key);
                cache.fill(ticket, &state(n), None, -1).await;
                let state = cache.lock();
                assert!(state.hot.len() + state.cold.len() <= capacity);
                assert!(state.fills.is_empty());
            }
            assert!(cache.get("k49").is_some(), "the newest entry is kept");
        }
    }

    #[actix_web::test]
    async fn entries_end_at_the_ttl_and_missing_keys_are_not_cached() {
        let cache = cache(10);
        let ticket = cache.ticket("k");
        cache.fill(ticket, &state(1), None, 1).await;
        std::thread::sleep(Duration::from_millis(5));
        assert!(cache.get("k").is_none());
        let ticket = cache.ticket("gone");
        cache.fill(ticket, &state(1), None, -2).await;
        assert!(cache.get("gone").is_none());
    }
}
