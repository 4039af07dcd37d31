//! The Redis and Redis Cluster session stores (feature `redis-session`): see
//! [`RedisSessionStore`] for the guide (choosing a store, key layout, eviction policy, TLS,
//! Cluster, timeouts and retries).

mod actor;
mod builder;
mod connection;
mod error;
mod near_cache;
mod owners;
mod record;
mod scripts;

use std::{fmt, sync::Arc};

use actix_web::cookie::time::Duration;
use redis::{Cmd, Script};

pub use self::{
    actor::{RedisActorSessionStore, RedisActorSessionStoreBuilder},
    builder::RedisSessionStoreBuilder,
    error::RedisStoreError,
    near_cache::{NearCache, NearCacheStats},
};
use self::{
    builder::{KeyGen, Target},
    connection::{Connection, Timeouts},
    near_cache::{Cache, WriteGuard},
    scripts::Write,
};
use super::{
    DeleteError, LoadError, SaveError, SessionChanges, SessionKey, SessionState, SessionStore,
    UpdateError,
    collision::{self, KEY_ATTEMPTS},
    generate_session_key,
};
use crate::clock::Clock;

/// The longest TTL written to Redis: 100 years, far from the overflow of Redis's clock.
const MAX_TTL_MS: i64 = 100 * 365 * 24 * 60 * 60 * 1000;

/// A session store on Redis or Redis Cluster (feature `redis-session`).
///
/// Clones share one connection. `Debug` never prints a password.
///
/// ```no_run
/// use session::storage::RedisSessionStore;
///
/// # async fn run() -> Result<(), session::storage::RedisStoreError> {
/// let standalone = RedisSessionStore::new("redis://127.0.0.1:6379").await?;
/// let cluster = RedisSessionStore::cluster([
///     "redis://10.0.0.1:6379",
///     "redis://10.0.0.2:6379",
///     "redis://10.0.0.3:6379",
/// ])
/// .await?;
/// # Ok(())
/// # }
/// ```
///
/// # Choosing a store
/// - [`CookieSessionStore`](crate::storage::CookieSessionStore): no server state; the state
///   must fit in a 4 KiB cookie, and a copied cookie cannot be revoked before its TTL ends.
/// - [`MemorySessionStore`](crate::storage::MemorySessionStore): no set-up and the fastest,
///   but sessions end with the process and are not shared between machines.
/// - [`RedisSessionStore`]: sessions are shared by every instance of the application,
///   survive its restarts, can be revoked (logout deletes them) and expire in Redis. Pick it as
///   soon as you run more than one process or deploy without logging everybody out.
///
/// ```no_run
/// use actix_web::{cookie::Key, App, HttpServer};
/// use session::{storage::RedisSessionStore, SessionMiddleware};
///
/// # async fn run() -> std::io::Result<()> {
/// let store = RedisSessionStore::new("redis://127.0.0.1:6379")
///     .await
///     .map_err(std::io::Error::other)?;
/// let key = Key::generate(); // in production: load a fixed 64-byte key
/// HttpServer::new(move || {
///     App::new().wrap(SessionMiddleware::new(store.clone(), key.clone()))
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await
/// # }
/// ```
///
/// Build the store once and clone it into the `HttpServer` factory: clones share one
/// connection (or one cluster client), which multiplexes the requests of all workers.
///
/// # Key layout
/// Each session is one Redis **hash** at `<prefix><session key>` (prefix `session:` by
/// default, see [`key_prefix`](RedisSessionStoreBuilder::key_prefix) and
/// [`cache_keygen`](RedisSessionStoreBuilder::cache_keygen)), with a millisecond TTL set by
/// `PEXPIRE`. Each session entry is one field whose value is the entry's JSON; a small envelope
/// sits next to them:
///
/// | field | content |
/// |---|---|
/// | `__v` | the envelope: `<format version>:<last written or refreshed>:<revision>`, the time in Unix milliseconds; the format version is `3`; the revision is `1` for a new session and one more on every update or refresh |
/// | `<entry key>` | the entry's value as JSON; keys starting with `_` are stored as `_~<key>` |
///
/// ```text
/// 127.0.0.1:6379> HGETALL session:Xq3...
/// 1) "__v"      2) "3:1767225600000:1"
/// 3) "user_id"  4) "42"
/// ```
///
/// Records in format version 2 (envelope `2:<last written or refreshed>`) and 1
/// (`1:<created at>:<last written or refreshed>`) are still read, and their next update or
/// refresh rewrites the envelope in version 3. The
/// session's creation time is not part of the envelope: when an absolute timeout is
/// configured, the middleware keeps it as an entry of the state, `__session_created_at`
/// (stored as `_~__session_created_at`).
///
/// A read is one plain `HGETALL` (no script: Lua costs the server several times more than
/// the read itself). With a [near cache](RedisSessionStoreBuilder::near_cache) ([`NearCache`]),
/// most reads cost no round trip at all, a miss is one pipeline (`CLIENT TRACKING ON`,
/// `HGETALL`, `PTTL`), and each write leaves the record it wrote in the cache: a patch or
/// refresh of the revision the cache holds is answered with the new revision only (the
/// writer applies its changes to its copy), any other write with the record it left. Every
/// write is one Lua script on that single key, so it is atomic and works in Redis Cluster
/// (all keys of a script live in one slot):
/// - a **new session** is created only if its key is absent (`SET NX` semantics); a
///   collision is detected and retried with a fresh key, and reported as an error after a
///   few attempts — an existing session is never overwritten;
/// - an **update** first checks that the session still exists: a session that was deleted by
///   a logout, or expired, while a request was running is not written back, the middleware
///   drops that request's changes and removes its cookie;
/// - an update writes **only the entries the request changed** (`HSET`/`HDEL`), so two
///   concurrent requests that change different entries of one session both keep their
///   change; clearing the session replaces the whole hash.
///
/// A record this version cannot read (another format version, a value that is not JSON, a key
/// of another type) is reported as undecodable and the client gets a fresh session. That is
/// also what happens to sessions written by actix-session's Redis stores (a JSON string per
/// key, no prefix): after switching, users log in once; nothing needs migrating or cleaning,
/// the old keys expire with their TTL.
///
/// # A user's sessions
/// The store is an [`OwnerIndex`](crate::storage::OwnerIndex): it lists and revokes the
/// sessions bound to an owner, on every instance at once. Each owner has one more **hash**,
/// at the key the store gives `owner:<owner>` (`session:owner:<owner>` by default), mapping
/// each of the owner's public session ids to its session key. It is a key of its own (on
/// Cluster, in its own slot); every command touches one key.
///
/// ```text
/// 127.0.0.1:6379> HGETALL session:owner:42
/// 1) "kC2v...Q"  2) "Xq3..."
/// ```
///
/// Outside a request, a password reset signs the user out everywhere:
///
/// ```no_run
/// use session::storage::{OwnerIndex as _, RedisSessionStore};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisSessionStore::new("redis://127.0.0.1:6379").await?;
/// let ended = store.revoke_owner_sessions("42").await?;
/// println!("signed out of {ended} sessions");
/// # Ok(())
/// # }
/// ```
///
/// - **Cost**: one script call (`HSET`, and `PEXPIRE` when it extends the index) after each
///   write of a bound session: sign-in, changes, renewals, TTL refreshes, and the "last seen"
///   update once per interval. Reads that write nothing cost nothing more.
/// - **Listing** is one `HGETALL` plus one load per session, through the near cache when it
///   is on, so most cost no round trip. Only records that still name the owner and the public
///   id are listed; entries whose session expired, was deleted or moved on are removed on the
///   way (each only if it still points where it did, so a concurrent renewal is kept).
/// - **Revoking** checks the record the same way, then deletes it like a logout does: one
///   `DEL` for all the sessions revoked at once (split by slot on Cluster), which Redis's
///   invalidations carry to every instance's near cache. A request in flight on a revoked
///   session finds no record to update and does not bring it back.
/// - **Expiry**: each link extends the index to the link's TTL and never shortens it, so the
///   index never expires before a session it lists and never outlives the latest expiry one
///   of its sessions was given; it goes away with its last entry too.
///
/// # Eviction policy
/// Configure Redis with `maxmemory-policy noeviction` (writes fail loudly when memory is
/// full) or a `volatile-*` policy (`volatile-lru`, `volatile-ttl`, ...: only keys with a TTL
/// are evicted, and every session has one). Never use an `allkeys-*` policy on a Redis shared
/// with other data: Redis would silently evict live sessions to make room for cache entries,
/// and users would be logged out at random with nothing in any log. If sessions must never be
/// evicted, give them their own Redis with `noeviction`.
///
/// # TLS
/// Use a `rediss://` URL and enable `redis-session-rustls` (rustls) or
/// `redis-session-native-tls` (the platform's TLS). Credentials go in the URL
/// (`rediss://user:password@host:6380/0`); they never appear in this crate's `Debug` output.
///
/// # Redis Cluster
/// [`RedisSessionStore::cluster`] and [`RedisSessionStore::cluster_builder`] take the URLs of
/// some nodes (the rest are discovered) and use the async cluster client, with the same
/// timeouts, retries and semantics. A custom [`cache_keygen`](RedisSessionStoreBuilder::cache_keygen)
/// may use a `{hash tag}` as long as different sessions get different keys.
///
/// # Timeouts and retries
/// - Connecting is bounded by the [connect timeout](RedisSessionStoreBuilder::connect_timeout)
///   (default 5 s), every command by the [response timeout](RedisSessionStoreBuilder::response_timeout)
///   (default 2 s). A whole store operation, retries included, takes at most about one
///   connect timeout plus one response timeout; [`build`](RedisSessionStoreBuilder::build)
///   too, even against a peer that accepts the connection and never answers.
/// - Transient failures (connection refused, reset or dropped, a server still loading its
///   data, a cluster resharding) are retried twice with a short pause. A timeout is not
///   retried: the server was reached and did not answer in time.
/// - The connection reconnects by itself: after Redis restarts, the next request succeeds
///   without restarting the application or rebuilding the store.
/// - Failures reach the middleware as [`LoadError::Other`] and friends: the client gets an
///   opaque `500` with an empty body, and the cause (a [`RedisStoreError`]) is logged.
///
/// Creating a session is retried too; if a first attempt was applied but its answer lost, the
/// retry finds the key taken and moves on to a fresh key, leaving an orphan record that
/// expires with its TTL.
#[derive(Clone)]
pub struct RedisSessionStore {
    inner: Arc<Inner>,
}

struct Inner {
    connection: Connection,
    /// The near cache, when configured and supported by the server.
    cache: Option<Arc<Cache>>,
    keygen: KeyGen,
    custom_keygen: bool,
    key_prefix: String,
    timeouts: Timeouts,
    clock: Clock,
    target: Target,
}

impl RedisSessionStore {
    /// Connects to the Redis server at `url` (`redis://`, `rediss://` with a TLS feature,
    /// `redis+unix://`) with the default settings.
    ///
    /// # Errors
    /// See [`RedisSessionStoreBuilder::build`].
    pub async fn new(url: impl Into<String>) -> Result<Self, RedisStoreError> {
        Self::builder(url).build().await
    }

    /// Configures a store on the Redis server at `url`.
    pub fn builder(url: impl Into<String>) -> RedisSessionStoreBuilder {
        RedisSessionStoreBuilder::new(Target::Standalone(url.into()))
    }

    /// Connects to the Redis Cluster whose nodes include `urls`, with the default settings.
    ///
    /// # Errors
    /// See [`RedisSessionStoreBuilder::build`].
    pub async fn cluster(
        urls: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<Self, RedisStoreError> {
        Self::cluster_builder(urls).build().await
    }

    /// Configures a store on the Redis Cluster whose nodes include `urls`.
    pub fn cluster_builder(
        urls: impl IntoIterator<Item = impl Into<String>>,
    ) -> RedisSessionStoreBuilder {
        RedisSessionStoreBuilder::new(Target::Cluster(urls.into_iter().map(Into::into).collect()))
    }

    fn redis_key(&self, session_key: &str) -> String {
        (self.inner.keygen)(session_key)
    }

    /// What the [near cache](RedisSessionStoreBuilder::near_cache) did so far: hits,
    /// misses, invalidations and flushes (all zero without a cache). `hits / (hits +
    /// misses)` is the share of loads that cost no round trip.
    pub fn near_cache_stats(&self) -> NearCacheStats {
        self.inner
            .cache
            .as_ref()
            .map(|cache| cache.stats())
            .unwrap_or_default()
    }

    /// Whether this store has a working near cache (configured, and the server supports
    /// client tracking).
    pub fn has_near_cache(&self) -> bool {
        self.inner.cache.is_some()
    }

    /// Runs `hook` between the reply of every read that missed the near cache (and of every
    /// write) and the insert of its record (for tests of the fill protocol; not public API).
    #[doc(hidden)]
    pub fn __near_cache_fill_hook(
        &self,
        hook: Option<
            impl Fn(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
            + Send
            + Sync
            + 'static,
        >,
    ) {
        if let Some(cache) = &self.inner.cache {
            cache.set_hook(hook.map(|hook| Arc::new(hook) as near_cache::FillHook));
        }
    }

    /// The near cache's fresh entries: Redis key and state (for tests; not public API).
    #[doc(hidden)]
    pub fn __near_cache_entries(&self) -> Vec<(String, SessionState)> {
        self.inner
            .cache
            .as_ref()
            .map(|cache| cache.snapshot())
            .unwrap_or_default()
    }

    /// Puts `state` at `revision` into the near cache as the entry of `key`, as if it had
    /// been read (for the tests: an entry Redis no longer holds stands for an invalidation
    /// not handled yet).
    #[doc(hidden)]
    pub fn __near_cache_plant(&self, key: &SessionKey, state: SessionState, revision: u64) {
        if let Some(cache) = &self.inner.cache {
            cache.plant(self.redis_key(key.as_ref()), state, revision);
        }
    }

    fn cache(&self) -> Option<&Cache> {
        self.inner.cache.as_deref()
    }

    /// A command that timed out or lost its connection may have missed invalidations: the
    /// near cache starts over.
    fn after_failure(&self, err: &RedisStoreError) {
        let lost = match err {
            RedisStoreError::Timeout { .. } => true,
            RedisStoreError::Redis(err) => err.is_timeout() || connection::is_transient(err),
            _ => false,
        };
        if lost && let Some(cache) = self.cache() {
            cache.flush("a command failed");
        }
    }

    /// Loads through the near cache: a fresh entry, or a tracked read whose record is
    /// cached unless an invalidation raced with it.
    async fn load_cached(
        &self,
        cache: &Cache,
        redis_key: &str,
    ) -> Result<Option<SessionState>, LoadError> {
        if let Some(state) = cache.get(redis_key) {
            return Ok(Some(SessionState::clone(&state)));
        }
        let ticket = cache.ticket(redis_key);
        let reply = self
            .inner
            .connection
            .run(self.inner.timeouts, "load", |mut connection| async move {
                connection.tracked_read(redis_key).await
            })
            .await;
        let (reply, pttl) = match reply {
            Ok(reply) => reply,
            Err(err) => {
                self.after_failure(&err);
                return Err(load_error(err));
            }
        };
        let record = record::reply_fields(&reply)
            .and_then(record::decode_revised)
            .map_err(|err| LoadError::Deserialization(other(err)))?;
        let Some((state, revision)) = record else {
            return Ok(None);
        };
        cache.fill(ticket, &state, revision, pttl).await;
        Ok(Some(state))
    }

    /// Runs the `CREATE` script; `Ok(false)` when the key is taken (nothing is written).
    /// With a near cache, the new record (`state`) is cached.
    async fn create(
        &self,
        redis_key: String,
        ttl_ms: i64,
        args: &[Vec<u8>],
        state: &Arc<SessionState>,
    ) -> Result<bool, RedisStoreError> {
        let redis_key = &redis_key;
        let script = Write::Create.script(self.cache().is_some());
        let command = script_command(script, redis_key, ttl_ms, None, args);
        let Some(cache) = self.cache() else {
            let command = &command;
            let created: i64 = self
                .inner
                .connection
                .run(self.inner.timeouts, "save", |mut connection| async move {
                    connection.script(command, script).await
                })
                .await?;
            return Ok(created == 1);
        };
        let guard = WriteGuard::new(Some(cache), redis_key);
        match self
            .tracked_script(script, command, redis_key, "save")
            .await?
        {
            redis::Value::Int(1) => {
                // The key was absent and the script atomic: the record is exactly `state`, at
                // its first revision.
                guard.fill(Arc::clone(state), Some(1), ttl_ms).await;
                Ok(true)
            }
            redis::Value::Int(_) => Ok(false),
            reply => Err(unexpected_reply("save", &reply)),
        }
    }

    /// Runs the `UPDATE` or `TOUCH` script (with a near cache, its variant that lets the
    /// cache keep the record it left); `Ok(false)` when the session no longer exists.
    /// `written` says what the write does to the state, which the cache applies to its own
    /// copy when Redis held the revision it expected.
    async fn write_existing(
        &self,
        session_key: &SessionKey,
        ttl: &Duration,
        args: &[Vec<u8>],
        written: Written<'_>,
        operation: &'static str,
    ) -> Result<bool, RedisStoreError> {
        let redis_key = self.redis_key(session_key.as_ref());
        let redis_key = &redis_key;
        let ttl_ms = ttl_millis(ttl);
        let script = written.write().script(self.cache().is_some());
        let Some(cache) = self.cache() else {
            let command = &script_command(script, redis_key, ttl_ms, Some(""), args);
            let written: i64 = self
                .inner
                .connection
                .run(
                    self.inner.timeouts,
                    operation,
                    |mut connection| async move { connection.script(command, script).await },
                )
                .await?;
            return Ok(written == 1);
        };
        let mut guard = WriteGuard::new(Some(cache), redis_key);
        let expected = guard
            .expected_revision()
            .map_or_else(String::new, |revision| revision.to_string());
        let command = script_command(script, redis_key, ttl_ms, Some(&expected), args);
        match self
            .tracked_script(script, command, redis_key, operation)
            .await?
        {
            redis::Value::Int(0) => Ok(false),
            // Deleted (a TTL of zero or less), or a record without a valid envelope (which
            // stays uncached: its next load reports it).
            redis::Value::Int(_) => Ok(true),
            // Redis held the expected revision, or the write replaced the whole state.
            redis::Value::Array(reply) => {
                let revision = match reply.as_slice() {
                    [redis::Value::Int(revision)] => u64::try_from(*revision).ok(),
                    _ => None,
                };
                let Some(revision) = revision else {
                    return Err(unexpected_reply(operation, &redis::Value::Array(reply)));
                };
                if let Some(state) = written.apply(guard.take_base()) {
                    guard.fill(state, Some(revision), ttl_ms).await;
                }
                Ok(true)
            }
            redis::Value::BulkString(packed) => {
                // A record without a valid envelope stays uncached (its next load reports it).
                if let Ok(Some((state, revision))) =
                    record::packed_fields(&packed).and_then(record::decode_revised)
                {
                    guard.fill(Arc::new(state), revision, ttl_ms).await;
                }
                Ok(true)
            }
            reply => Err(unexpected_reply(operation, &reply)),
        }
    }

    /// Runs a write script of a cached store (see [`Connection::tracked_script`]); a failure
    /// that may have cost invalidations flushes the cache.
    async fn tracked_script(
        &self,
        script: &Script,
        command: Cmd,
        redis_key: &str,
        operation: &'static str,
    ) -> Result<redis::Value, RedisStoreError> {
        let pipeline = &connection::tracked(command);
        self.inner
            .connection
            .run(
                self.inner.timeouts,
                operation,
                |mut connection| async move {
                    connection.tracked_script(pipeline, script, redis_key).await
                },
            )
            .await
            .inspect_err(|err| self.after_failure(err))
    }
}

/// What a write of an existing session does to its state.
enum Written<'a> {
    /// The whole state replaced by this one.
    Replace(SessionState),
    /// These changes applied.
    Patch(&'a SessionChanges),
    /// The state kept (a TTL refresh).
    Touch,
}

impl Written<'_> {
    fn write(&self) -> Write {
        match self {
            Self::Replace(_) | Self::Patch(_) => Write::Update,
            Self::Touch => Write::Touch,
        }
    }

    /// The state the write left, given the cached record of the revision Redis held
    /// (`base`); `None` when that is needed and missing.
    fn apply(self, base: Option<Arc<SessionState>>) -> Option<Arc<SessionState>> {
        match self {
            Self::Replace(state) => Some(Arc::new(state)),
            Self::Touch => base,
            Self::Patch(changes) => {
                let mut state = Arc::unwrap_or_clone(base?);
                changes.apply_to(&mut state);
                Some(Arc::new(state))
            }
        }
    }
}

/// The `EVALSHA` command of a write script on `redis_key`: the TTL, the expected revision
/// (for the scripts that write an existing session), then `args`. Built once per write (a
/// retry sends it again), straight into one buffer.
fn script_command(
    script: &Script,
    redis_key: &str,
    ttl_ms: i64,
    expected: Option<&str>,
    args: &[Vec<u8>],
) -> Cmd {
    // Sized up front: EVALSHA, the hash, the key count, the key, the TTL and the expected
    // revision (20 digits at most), then the arguments.
    let data = 7 + 40 + 1 + redis_key.len() + 20 + 20 + args.iter().map(Vec::len).sum::<usize>();
    let mut command = Cmd::with_capacity(6 + args.len(), data);
    command
        .arg("EVALSHA")
        .arg(script.get_hash())
        .arg(1)
        .arg(redis_key)
        .arg(ttl_ms);
    if let Some(expected) = expected {
        command.arg(expected);
    }
    for arg in args {
        command.arg(arg.as_slice());
    }
    command
}

fn unexpected_reply(operation: &'static str, reply: &redis::Value) -> RedisStoreError {
    RedisStoreError::Redis(redis::RedisError::from((
        redis::ErrorKind::UnexpectedReturnType,
        "unexpected reply to a write script",
        format!("{operation}: {reply:?}"),
    )))
}

/// A TTL in whole milliseconds for `PEXPIRE`: a positive TTL shorter than a millisecond
/// counts as one; zero or negative stays so (the scripts then delete, `save` writes nothing).
fn ttl_millis(ttl: &Duration) -> i64 {
    let millis = ttl.whole_milliseconds();
    if millis <= 0 {
        i64::from(ttl.is_positive())
    } else {
        i64::try_from(millis).unwrap_or(MAX_TTL_MS).min(MAX_TTL_MS)
    }
}

/// A failed read: a key of another type (a string written by actix-session's Redis store,
/// or something else's data) is an undecodable record, anything else a store failure.
fn load_error(err: RedisStoreError) -> LoadError {
    match err {
        RedisStoreError::Redis(err) if err.code() == Some("WRONGTYPE") => {
            LoadError::Deserialization(other(RedisStoreError::InvalidRecord(
                "the key does not hold a hash".to_owned(),
            )))
        }
        err => LoadError::Other(other(err)),
    }
}

fn other(err: RedisStoreError) -> super::BoxError {
    Box::new(err)
}

impl fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("RedisSessionStore")
            .field("mode", &inner.target.mode())
            .field("nodes", &inner.target.redacted())
            .field("key_prefix", &inner.key_prefix)
            .field("cache_keygen", &inner.custom_keygen.then_some("custom"))
            .field("connect_timeout", &inner.timeouts.connect)
            .field("response_timeout", &inner.timeouts.response)
            .field("near_cache", &inner.cache.is_some())
            .finish_non_exhaustive()
    }
}

impl SessionStore for RedisSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let redis_key = self.redis_key(session_key.as_ref());
        let redis_key = &redis_key;
        if let Some(cache) = self.cache() {
            return self.load_cached(cache, redis_key).await;
        }
        let reply = self
            .inner
            .connection
            .run(self.inner.timeouts, "load", |mut connection| async move {
                redis::cmd("HGETALL")
                    .arg(redis_key)
                    .query_async::<redis::Value>(&mut connection)
                    .await
            })
            .await;
        let reply = reply.map_err(load_error)?;
        record::reply_fields(&reply)
            .and_then(record::decode)
            .map_err(|err| LoadError::Deserialization(other(err)))
    }

    async fn save(&self, state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let ttl_ms = ttl_millis(ttl);
        if ttl_ms <= 0 {
            tracing::debug!("a session with a TTL of zero or less is not stored");
            return Ok(generate_session_key());
        }
        let args = record::encode_new(&state, self.inner.clock.now_ms())
            .map_err(|err| SaveError::Serialization(Box::new(err)))?;
        let args = &args;
        // Shared with the near cache's entry, if any: no copy of the state.
        let state = &Arc::new(state);
        let stored = collision::insert_under_new_key(
            "redis",
            KEY_ATTEMPTS,
            generate_session_key,
            |session_key| self.create(self.redis_key(session_key.as_ref()), ttl_ms, args, state),
        )
        .await
        .map_err(|err| SaveError::Other(other(err)))?;
        stored.ok_or_else(|| {
            SaveError::Other(other(RedisStoreError::KeyCollision {
                attempts: KEY_ATTEMPTS,
            }))
        })
    }

    async fn update(
        &self,
        session_key: SessionKey,
        state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let args = record::encode_replace(&state, self.inner.clock.now_ms())
            .map_err(|err| UpdateError::Serialization(Box::new(err)))?;
        match self
            .write_existing(&session_key, ttl, &args, Written::Replace(state), "update")
            .await
        {
            Ok(true) => Ok(session_key),
            Ok(false) => Err(UpdateError::NotFound),
            Err(err) => Err(UpdateError::Other(other(err))),
        }
    }

    async fn update_changes(
        &self,
        session_key: SessionKey,
        changes: SessionChanges,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let args = record::encode_update(&changes, self.inner.clock.now_ms())
            .map_err(|err| UpdateError::Serialization(Box::new(err)))?;
        let written = if changes.is_cleared() {
            Written::Replace(changes.into_state())
        } else {
            Written::Patch(&changes)
        };
        match self
            .write_existing(&session_key, ttl, &args, written, "update")
            .await
        {
            Ok(true) => Ok(session_key),
            Ok(false) => Err(UpdateError::NotFound),
            Err(err) => Err(UpdateError::Other(other(err))),
        }
    }

    async fn update_ttl(
        &self,
        session_key: &SessionKey,
        ttl: &Duration,
    ) -> Result<(), UpdateError> {
        let args = [self.inner.clock.now_ms().to_string().into_bytes()];
        match self
            .write_existing(session_key, ttl, &args, Written::Touch, "update_ttl")
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(UpdateError::NotFound),
            Err(err) => Err(UpdateError::Other(other(err))),
        }
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), DeleteError> {
        let redis_key = self.redis_key(session_key.as_ref());
        let redis_key = &redis_key;
        let _guard = WriteGuard::new(self.cache(), redis_key);
        self.inner
            .connection
            .run(self.inner.timeouts, "delete", |mut connection| async move {
                redis::cmd("DEL")
                    .arg(redis_key)
                    .query_async::<()>(&mut connection)
                    .await
            })
            .await
            .inspect_err(|err| self.after_failure(err))
            .map_err(|err| DeleteError(other(err)))
    }

    fn owner_index(&self) -> Option<super::SharedOwnerIndex> {
        Some(super::SharedOwnerIndex::new(self.clone()))
    }
}

/// The field/value pairs of a session hash, as `HGETALL` returns them.
#[cfg(feature = "__fuzz")]
pub(crate) type HashFields = Vec<(Vec<u8>, Vec<u8>)>;

/// Decodes the fields of a session hash as `load` does; for the fuzz targets.
#[cfg(feature = "__fuzz")]
pub(crate) fn decode_record_fields(
    fields: HashFields,
) -> Result<Option<SessionState>, RedisStoreError> {
    record::decode(
        fields
            .iter()
            .map(|(field, value)| (field.as_slice(), value.as_slice())),
    )
}

/// The fields a new session hash gets for `state`, as `save` writes them; for the fuzz targets.
#[cfg(feature = "__fuzz")]
pub(crate) fn encode_record_fields(state: &SessionState) -> Result<HashFields, serde_json::Error> {
    let args = record::encode_new(state, 0)?;
    let mut pairs = Vec::with_capacity(args.len() / 2);
    let mut args = args.into_iter();
    while let (Some(field), Some(value)) = (args.next(), args.next()) {
        pairs.push((field, value));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store and its futures can move between threads (`tokio::spawn`, multi-threaded
    /// runtimes, wrappers that require `Send`). Compiled, never run.
    #[allow(dead_code)]
    fn store_and_futures_are_send(
        store: &RedisSessionStore,
        actor: &RedisActorSessionStore,
        key: &SessionKey,
    ) {
        fn send<T: Send>(_: &T) {}
        fn send_sync<T: Send + Sync + Clone + fmt::Debug>(_: &T) {}
        send_sync(store);
        send_sync(actor);
        let ttl = Duration::minutes(1);
        send(&store.load(key));
        send(&store.save(SessionState::new(), &ttl));
        send(&store.update(key.clone(), SessionState::new(), &ttl));
        send(&store.update_changes(key.clone(), SessionChanges::default(), &ttl));
        send(&store.update_ttl(key, &ttl));
        send(&store.delete(key));
        send(&actor.load(key));
        send(&actor.save(SessionState::new(), &ttl));
        send(&actor.update_changes(key.clone(), SessionChanges::default(), &ttl));
        send(&actor.delete(key));
    }

    #[test]
    fn ttls_are_whole_positive_milliseconds() {
        assert_eq!(ttl_millis(&Duration::milliseconds(1500)), 1500);
        assert_eq!(ttl_millis(&Duration::microseconds(10)), 1);
        assert_eq!(ttl_millis(&Duration::ZERO), 0);
        assert_eq!(ttl_millis(&Duration::seconds(-5)), 0);
        assert_eq!(ttl_millis(&Duration::MAX), MAX_TTL_MS);
    }
}
