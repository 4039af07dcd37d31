//! From a [`SessionConfig`] to a [`SessionMiddleware`]: the checks, the key, the lifecycle,
//! the chosen store (Redis included).

use std::time::Duration;

use actix_web::{
    cookie::{Key, time::Duration as CookieDuration},
    http::header::HeaderName,
};
use session::{
    SessionMiddleware,
    config::{BrowserSession, BuildError, PersistentSession, SessionLifecycle, SessionTransport},
    storage::{CookieSessionStore, MemorySessionStore, SessionStore},
};

use crate::{
    config::{
        LifecycleConfig, LifecycleKind, SessionConfig, StoreKind, TransportConfig, TransportKind,
    },
    error::{ConfigError, Problem},
    secret::SecretKey,
    store::AnyStore,
    validate::{cookie_problem, validate},
};

impl SessionConfig {
    /// Builds the middleware over the store chosen by `store`.
    ///
    /// Fails if the configuration does not hold together (see
    /// [`from_figment`](Self::from_figment)), if there is no secret key and
    /// `allow_ephemeral_key` is false, or if the Redis store cannot be set up.
    pub async fn build(&self) -> Result<SessionMiddleware<AnyStore>, ConfigError> {
        let key = self.prepare(true)?;
        let store = match self.store {
            StoreKind::Memory => AnyStore::Memory(MemorySessionStore::new()),
            StoreKind::Cookie => AnyStore::Cookie(CookieSessionStore::default()),
            StoreKind::Redis => self.redis_store().await?,
            StoreKind::Postgres => self.postgres_store().await?,
            StoreKind::Sqlite => self.sqlite_store().await?,
        };
        self.assemble(store, key)
    }

    /// Builds the middleware over your own `store`; `store` and `[redis]` are not used.
    pub fn build_with<S: SessionStore>(
        &self,
        store: S,
    ) -> Result<SessionMiddleware<S>, ConfigError> {
        let key = self.prepare(false)?;
        self.assemble(store, key)
    }

    /// Checks the configuration and settles the key.
    fn prepare(&self, check_store: bool) -> Result<Key, ConfigError> {
        let mut problems = validate(self, check_store);
        if self.secret_key.is_none() && !self.allow_ephemeral_key {
            problems.push(Problem::new(
                "secret_key",
                "no secret key: set `secret_key` in the configuration file or the \
                 SESSION_SECRET_KEY environment variable to the base64 of at least 64 \
                 random bytes (`openssl rand -base64 64`), or set allow_ephemeral_key = true \
                 for development",
            ));
        }
        if !problems.is_empty() {
            return Err(ConfigError::new(problems));
        }
        Ok(match &self.secret_key {
            Some(secret) => secret.to_key(),
            None => {
                tracing::warn!(
                    "no secret key configured (`secret_key` / SESSION_SECRET_KEY): using a random \
                     key, so sessions will not survive a restart; never do this in production"
                );
                Key::generate()
            }
        })
    }

    fn assemble<S: SessionStore>(
        &self,
        store: S,
        key: Key,
    ) -> Result<SessionMiddleware<S>, ConfigError> {
        let cookie = &self.cookie;
        let mut builder = SessionMiddleware::builder(store, key);
        let response_header = self.transport.response_header.as_deref();
        if let Some(name) = response_header.and_then(|n| HeaderName::from_bytes(n.as_bytes()).ok())
        {
            builder = builder.session_token_response_header(name);
        }
        builder
            .fallback_keys(self.fallback_keys.iter().map(SecretKey::to_key))
            .cookie_name(cookie.name.clone())
            .cookie_secure(cookie.secure)
            .cookie_http_only(cookie.http_only)
            .cookie_partitioned(cookie.partitioned)
            .cookie_same_site(cookie.same_site.into())
            .cookie_path(cookie.path.clone())
            .cookie_domain(cookie.domain.clone())
            .cookie_content_security(cookie.content_security.into())
            .cookie_verified_cache(cookie.verified_cache)
            .session_lifecycle(lifecycle(&self.lifecycle))
            .lazy_loading(self.lazy_loading)
            .session_transport(transport(&self.transport))
            .last_seen_interval(
                // `validate` checked that it fits.
                CookieDuration::try_from(self.devices.last_seen_interval)
                    .unwrap_or(CookieDuration::MAX),
            )
            .record_user_agent(self.devices.record_user_agent)
            .record_client_ip(self.devices.client_ip.into())
            .try_build()
            .map_err(build_error)
    }

    #[cfg(feature = "redis")]
    async fn redis_store(&self) -> Result<AnyStore, ConfigError> {
        use session::storage::{NearCache, RedisSessionStore, redact_url};

        let redis = &self.redis;
        macro_rules! configure {
            ($builder:expr) => {{
                let mut builder = $builder.key_prefix(redis.key_prefix.clone());
                if let Some(timeout) = redis.connect_timeout {
                    builder = builder.connect_timeout(timeout.as_option());
                }
                if let Some(timeout) = redis.response_timeout {
                    builder = builder.response_timeout(timeout.as_option());
                }
                if redis.cache.enabled {
                    builder = builder.near_cache(
                        NearCache::new()
                            .capacity(redis.cache.capacity)
                            .max_age(redis.cache.max_age),
                    );
                }
                builder.build().await
            }};
        }
        let (key, result) = if redis.cluster.is_empty() {
            let url = redis.url.clone().unwrap_or_default();
            ("redis.url", configure!(RedisSessionStore::builder(url)))
        } else {
            (
                "redis.cluster",
                configure!(RedisSessionStore::cluster_builder(redis.cluster.clone())),
            )
        };
        result.map(AnyStore::Redis).map_err(|err| {
            ConfigError::new(vec![
                Problem::new(key, format!("could not set up the Redis store: {err}")).with_value(
                    redis
                        .url
                        .as_deref()
                        .map(|url| format!("{:?}", redact_url(url))),
                ),
            ])
        })
    }

    #[cfg(not(feature = "redis"))]
    async fn redis_store(&self) -> Result<AnyStore, ConfigError> {
        Err(ConfigError::new(vec![
            Problem::new(
                "store",
                "store = \"redis\" needs session-config's `redis` feature, which this build lacks",
            )
            .with_value(Some("\"redis\"".to_owned())),
        ]))
    }
}

impl SessionConfig {
    #[cfg(feature = "postgres")]
    async fn postgres_store(&self) -> Result<AnyStore, ConfigError> {
        use session::storage::PostgresSessionStore;

        let postgres = &self.postgres;
        let url = postgres.url.clone().unwrap_or_default();
        let mut builder = PostgresSessionStore::builder(url)
            .table(postgres.table.clone())
            .pool_size(postgres.pool_size);
        if let Some(schema) = &postgres.schema {
            builder = builder.schema(schema.clone());
        }
        if let Some(timeout) = postgres.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        if let Some(interval) = postgres.sweep_interval {
            builder = builder.sweep_interval(interval.as_option());
        }
        let shown = postgres
            .url
            .as_deref()
            .map(|url| format!("{:?}", session::storage::redact_url(url)));
        builder
            .build()
            .await
            .map(AnyStore::Postgres)
            .map_err(|err| sql_store_problem("postgres.url", "Postgres", &err, shown))
    }

    #[cfg(not(feature = "postgres"))]
    async fn postgres_store(&self) -> Result<AnyStore, ConfigError> {
        Err(missing_feature("postgres"))
    }

    #[cfg(feature = "sqlite")]
    async fn sqlite_store(&self) -> Result<AnyStore, ConfigError> {
        use session::storage::SqliteSessionStore;

        let sqlite = &self.sqlite;
        let (key, target) = match (&sqlite.path, &sqlite.url) {
            (Some(path), _) => ("sqlite.path", path.clone()),
            (None, url) => ("sqlite.url", url.clone().unwrap_or_default()),
        };
        let mut builder = SqliteSessionStore::builder(target.clone())
            .table(sqlite.table.clone())
            .pool_size(sqlite.pool_size);
        if let Some(timeout) = sqlite.busy_timeout {
            builder = builder.busy_timeout(timeout);
        }
        if let Some(interval) = sqlite.sweep_interval {
            builder = builder.sweep_interval(interval.as_option());
        }
        builder
            .build()
            .await
            .map(AnyStore::Sqlite)
            .map_err(|err| sql_store_problem(key, "SQLite", &err, Some(format!("{target:?}"))))
    }

    #[cfg(not(feature = "sqlite"))]
    async fn sqlite_store(&self) -> Result<AnyStore, ConfigError> {
        Err(missing_feature("sqlite"))
    }
}

/// A SQL store that could not be built, as a problem about the key at fault: the table or
/// schema name, else `url_key` (the database) with `url` (shown without its password).
#[cfg(any(feature = "postgres", feature = "sqlite"))]
fn sql_store_problem(
    url_key: &str,
    name: &str,
    err: &session::storage::SqlStoreError,
    url: Option<String>,
) -> ConfigError {
    use session::storage::SqlStoreError;

    let section = url_key.split('.').next().unwrap_or(url_key);
    let (key, value) = match err {
        SqlStoreError::InvalidName { what, name } => {
            (format!("{section}.{what}"), Some(format!("{name:?}")))
        }
        _ => (url_key.to_owned(), url),
    };
    // The cause says why (refused, unknown host, bad password), never with the password.
    let cause = std::error::Error::source(err)
        .map(|cause| format!(" ({cause})"))
        .unwrap_or_default();
    ConfigError::new(vec![
        Problem::new(
            key,
            format!("could not set up the {name} store: {err}{cause}"),
        )
        .with_value(value),
    ])
}

/// `store = "<store>"` in a build without the feature of that name.
#[cfg(any(not(feature = "postgres"), not(feature = "sqlite")))]
fn missing_feature(store: &str) -> ConfigError {
    ConfigError::new(vec![
        Problem::new(
            "store",
            format!(
                "store = \"{store}\" needs session-config's `{store}` feature, which this build lacks"
            ),
        )
        .with_value(Some(format!("\"{store}\""))),
    ])
}

/// The runtime's refusal as problems about our keys. `validate` has refused all of these
/// already; this keeps them well reported should the two ever disagree.
fn build_error(error: BuildError) -> ConfigError {
    let problems = match error {
        BuildError::Cookie(rules) => rules.into_iter().map(cookie_problem).collect(),
        BuildError::TooManyFallbackKeys(_) => {
            vec![Problem::new("fallback_keys", error.to_string())]
        }
        BuildError::NonPositiveAbsoluteTtl => {
            vec![Problem::new("lifecycle.absolute_ttl", error.to_string())]
        }
        _ => vec![Problem::new("", error.to_string())],
    };
    ConfigError::new(problems)
}

/// The runtime's transport for `[transport]`; `validate` checked the header names.
fn transport(config: &TransportConfig) -> SessionTransport {
    let header = || HeaderName::from_bytes(config.header.as_bytes()).ok();
    match (config.kind, header()) {
        (TransportKind::Header, Some(name)) => SessionTransport::Header(name),
        (TransportKind::CookieOrHeader, Some(name)) => SessionTransport::CookieOrHeader(name),
        _ => SessionTransport::Cookie,
    }
}

/// The runtime's lifecycle for `[lifecycle]`.
fn lifecycle(config: &LifecycleConfig) -> SessionLifecycle {
    // `validate` checked that the TTLs fit.
    let to_cookie_duration =
        |ttl: Duration| CookieDuration::try_from(ttl).unwrap_or(CookieDuration::MAX);
    let ttl = to_cookie_duration(config.ttl);
    let absolute_ttl = config.absolute_ttl.map(to_cookie_duration);
    match config.kind {
        LifecycleKind::Browser => {
            let browser = BrowserSession::default()
                .state_ttl(ttl)
                .state_ttl_extension_policy(config.extend.into());
            match absolute_ttl {
                Some(limit) => browser.absolute_ttl(limit).into(),
                None => browser.into(),
            }
        }
        LifecycleKind::Persistent => {
            let persistent = PersistentSession::default()
                .session_ttl(ttl)
                .session_ttl_extension_policy(config.extend.into());
            match absolute_ttl {
                Some(limit) => persistent.absolute_ttl(limit).into(),
                None => persistent.into(),
            }
        }
    }
}
