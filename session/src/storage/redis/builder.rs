//! [`RedisSessionStoreBuilder`]: where Redis is, how keys are named, how long to wait.

use std::{
    fmt,
    sync::{Arc, Weak},
    time::Duration,
};

use super::{
    Inner, RedisSessionStore, RedisStoreError,
    connection::{Connection, Timeouts},
    near_cache::{Cache, NearCache},
};
use crate::{clock::Clock, storage::redact_url};

/// The default prefix of every session key in Redis.
pub(super) const DEFAULT_KEY_PREFIX: &str = "session:";
/// The default bound on establishing a connection.
pub(super) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The default bound on waiting for an answer to a command.
pub(super) const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Turns a session key into the Redis key that holds its state.
pub(super) type KeyGen = Arc<dyn Fn(&str) -> String + Send + Sync + 'static>;

/// Where the store connects.
#[derive(Clone)]
pub(super) enum Target {
    Standalone(String),
    Cluster(Vec<String>),
}

impl Target {
    /// The connection URLs with any password replaced by `***`.
    pub(super) fn redacted(&self) -> Vec<String> {
        match self {
            Self::Standalone(url) => vec![redact_url(url)],
            Self::Cluster(urls) => urls.iter().map(|url| redact_url(url)).collect(),
        }
    }

    pub(super) fn mode(&self) -> &'static str {
        match self {
            Self::Standalone(_) => "standalone",
            Self::Cluster(_) => "cluster",
        }
    }
}

/// Configures a [`RedisSessionStore`]; made by [`RedisSessionStore::builder`] (one server)
/// or [`RedisSessionStore::cluster_builder`] (Redis Cluster).
///
/// ```no_run
/// use std::time::Duration;
/// use session::storage::RedisSessionStore;
///
/// # async fn run() -> Result<(), session::storage::RedisStoreError> {
/// let store = RedisSessionStore::builder("redis://127.0.0.1:6379")
///     .key_prefix("myapp:session:")
///     .connect_timeout(Some(Duration::from_secs(2)))
///     .response_timeout(Some(Duration::from_millis(500)))
///     .build()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use]
pub struct RedisSessionStoreBuilder {
    target: Target,
    key_prefix: String,
    cache_keygen: Option<KeyGen>,
    timeouts: Timeouts,
    clock: Clock,
    near_cache: NearCache,
}

/// How often a store with a near cache checks that Redis answers.
const HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(1);

impl RedisSessionStoreBuilder {
    pub(super) fn new(target: Target) -> Self {
        Self {
            target,
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            cache_keygen: None,
            timeouts: Timeouts {
                connect: Some(DEFAULT_CONNECT_TIMEOUT),
                response: Some(DEFAULT_RESPONSE_TIMEOUT),
            },
            clock: Clock::system(),
            near_cache: NearCache::off(),
        }
    }

    /// Keeps a per-process cache of session records, kept exact by Redis's invalidation
    /// messages (default: [`NearCache::off`]). See [`NearCache`] for what it guarantees and
    /// costs; a server without RESP3 `CLIENT TRACKING` gets a warning and no cache.
    pub fn near_cache(mut self, near_cache: NearCache) -> Self {
        self.near_cache = near_cache;
        self
    }

    /// Computes the Redis key of a session from its session key, replacing the
    /// [prefix](Self::key_prefix) (which is then ignored).
    ///
    /// The result must be unique per session key, and in Redis Cluster it may use a hash tag
    /// (`{...}`) as long as different sessions still map to different keys.
    pub fn cache_keygen<F>(mut self, keygen: F) -> Self
    where
        F: Fn(&str) -> String + Send + Sync + 'static,
    {
        self.cache_keygen = Some(Arc::new(keygen));
        self
    }

    /// The prefix put before each session key to form its Redis key (default: `session:`).
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// The longest wait for a connection to be established, each time one is (default: 5
    /// seconds; `None` waits as long as the operating system does).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.connect = timeout;
        self
    }

    /// The longest wait for Redis to answer a command (default: 2 seconds; `None` waits
    /// forever, and then no operation is bounded).
    pub fn response_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.response = timeout;
        self
    }

    /// The clock that stamps the records' last-seen times (default: the system clock).
    /// Expiry itself is Redis's job.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Connects and checks that Redis answers.
    ///
    /// # Errors
    /// [`RedisStoreError::Config`] for an invalid URL, [`RedisStoreError::Connect`] when Redis
    /// cannot be reached or refuses the connection, [`RedisStoreError::Timeout`] when it does
    /// not answer within the connect and response timeouts.
    pub async fn build(self) -> Result<RedisSessionStore, RedisStoreError> {
        if matches!(&self.target, Target::Cluster(urls) if urls.is_empty()) {
            return Err(RedisStoreError::NoClusterNodes);
        }
        let custom_keygen = self.cache_keygen.is_some();
        let prefix = self.key_prefix.clone();
        let keygen: KeyGen = self.cache_keygen.clone().unwrap_or_else(|| {
            // Concatenated by hand: `format!` costs several times more on every request.
            Arc::new(move |key: &str| {
                let mut redis_key = String::with_capacity(prefix.len() + key.len());
                redis_key.push_str(&prefix);
                redis_key.push_str(key);
                redis_key
            })
        });
        let cache = self
            .near_cache
            .is_enabled()
            .then(|| Arc::new(Cache::new(&self.near_cache)));
        let (connection, cache) = match cache {
            None => (self.connect(None).await?, None),
            Some(cache) => match self.connect(Some(&cache)).await {
                Ok(mut connection) => {
                    // A server (or proxy) that refuses `CLIENT TRACKING`: no cache.
                    match connection.tracked_read(&keygen("near-cache-probe")).await {
                        Ok(_) => (connection, Some(cache)),
                        Err(err) => {
                            warn_uncached(&err);
                            (connection, None)
                        }
                    }
                }
                // No RESP3 (Redis before 6): connect as without a cache.
                Err(RedisStoreError::Connect(err)) => match self.connect(None).await {
                    Ok(connection) => {
                        warn_uncached(&err);
                        (connection, None)
                    }
                    Err(_) => return Err(RedisStoreError::Connect(err)),
                },
                Err(err) => return Err(err),
            },
        };
        if let Some(cache) = &cache {
            spawn_health_check(connection.clone(), Arc::downgrade(cache), self.timeouts);
        }
        Ok(RedisSessionStore {
            inner: Arc::new(Inner {
                connection,
                cache,
                keygen,
                custom_keygen,
                key_prefix: self.key_prefix,
                timeouts: self.timeouts,
                clock: self.clock,
                target: self.target,
            }),
        })
    }
}

impl RedisSessionStoreBuilder {
    async fn connect(&self, cache: Option<&Arc<Cache>>) -> Result<Connection, RedisStoreError> {
        match &self.target {
            Target::Standalone(url) => Connection::standalone(url, self.timeouts, cache).await,
            Target::Cluster(urls) => Connection::cluster(urls, self.timeouts, cache).await,
        }
    }
}

fn warn_uncached(err: &redis::RedisError) {
    tracing::warn!(
        error = %err,
        "Redis does not support RESP3 client tracking: the session near cache is off"
    );
}

/// Checks Redis every second while the cache lives (see [`Connection::health_check`]). A
/// failed or late answer flushes the cache: a connection may be half-open, and then no
/// invalidation would arrive. So does a change of a cluster's slot map: a key whose slot
/// moved is tracked on its new master only once this process reads it there.
fn spawn_health_check(connection: Connection, cache: Weak<Cache>, timeouts: Timeouts) {
    tokio::spawn(async move {
        // The first tick is at once: the slot map is known from the start.
        let mut interval = tokio::time::interval(HEALTH_CHECK_INTERVAL);
        let mut known_topology = None;
        loop {
            interval.tick().await;
            let topology = connection.health_check(timeouts).await;
            let Some(cache) = cache.upgrade() else {
                return;
            };
            match topology {
                None => cache.flush("the health check failed"),
                Some(topology) => {
                    if known_topology
                        .as_ref()
                        .is_some_and(|known| *known != topology)
                    {
                        cache.flush("the cluster's slot map changed");
                    }
                    known_topology = Some(topology);
                }
            }
        }
    });
}

impl fmt::Debug for RedisSessionStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSessionStoreBuilder")
            .field("mode", &self.target.mode())
            .field("nodes", &self.target.redacted())
            .field("key_prefix", &self.key_prefix)
            .field(
                "cache_keygen",
                &self.cache_keygen.as_ref().map(|_| "custom"),
            )
            .field("connect_timeout", &self.timeouts.connect)
            .field("response_timeout", &self.timeouts.response)
            .field("near_cache", &self.near_cache)
            .finish()
    }
}
