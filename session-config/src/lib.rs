//! Build the [`session`] middleware from a TOML file and `SESSION_*` environment variables.
//!
//! Sessions need a handful of deployment-specific settings: which store keeps the state, the
//! secret key that protects the cookies, the cookie's attributes, how long sessions live and
//! where Redis is. Those belong in configuration, not in code: this crate reads them with
//! [Figment](figment), in three layers of rising priority,
//!
//! 1. the defaults, equal to the runtime crate's own ([`SessionConfig::default`]),
//! 2. a TOML file: the one named by `SESSION_CONFIG`, else `session.toml` in the working
//!    directory if there is one,
//! 3. environment variables `SESSION_*`, with `__` between the parts of nested keys
//!    (`SESSION_COOKIE__NAME` sets `cookie.name`),
//!
//! checks the result (unknown keys, bad values, cookie-prefix rules, missing Redis URL…),
//! and turns it into a [`SessionMiddleware`] over the chosen [`AnyStore`].
//!
//! # Quick start
//! ```no_run
//! use actix_web::{App, HttpServer};
//! use session_config::SessionConfig;
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // defaults < session.toml (or $SESSION_CONFIG) < SESSION_* environment variables
//!     let config = SessionConfig::load()?;
//!     // One middleware (and so one store) shared by every worker.
//!     let middleware = config.build().await?;
//!     HttpServer::new(move || App::new().wrap(middleware.clone()))
//!         .bind(("127.0.0.1", 8080))?
//!         .run()
//!         .await?;
//!     Ok(())
//! }
//! ```
//! with a `session.toml` such as
//! ```toml
//! store = "memory"
//! # secret_key = "…"        # better: the SESSION_SECRET_KEY environment variable
//!
//! [cookie]
//! name = "__Host-sid"
//!
//! [lifecycle]
//! kind = "persistent"
//! ttl = "7d"
//! ```
//! The workspace's `config.example.toml` lists every key with its default.
//!
//! # Choosing a store
//! - `"memory"` (the default): nothing to set up; sessions live in this process and end with
//!   it. Right for development and single-instance services.
//! - `"cookie"`: no server state; the state travels in the cookie (at most 4 KiB) and a
//!   copied cookie stays valid until it expires. Use `content_security = "private"` unless
//!   the client may read the state.
//! - `"redis"` (feature `redis`): shared by every instance and survives restarts; set
//!   `redis.url`, or `redis.cluster` for a Redis Cluster.
//!
//! A store of your own goes through [`SessionConfig::build_with`], which applies everything
//! but `store` and `[redis]`:
//! ```
//! # fn main() -> Result<(), session_config::ConfigError> {
//! use session::storage::MemorySessionStore;
//! # let mut config = session_config::SessionConfig::default();
//! # config.allow_ephemeral_key = true;
//! let store = MemorySessionStore::builder().build(); // or any `SessionStore`
//! let middleware = config.build_with(store)?;
//! # let _ = middleware;
//! # Ok(())
//! # }
//! ```
//!
//! # Your own providers
//! [`SessionConfig::figment`] is an ordinary [`Figment`]: merge more providers on top (they
//! win), or nest the session settings in your application's figment, then extract with
//! [`SessionConfig::from_figment`] to keep the checks and the error reporting.
//! ```
//! use figment::providers::Serialized;
//! use session_config::SessionConfig;
//!
//! # fn run() -> Result<(), session_config::ConfigError> {
//! let figment = SessionConfig::figment().merge(Serialized::default("cookie.name", "app_session"));
//! let config = SessionConfig::from_figment(&figment)?;
//! assert_eq!(config.cookie.name, "app_session");
//! # Ok(())
//! # }
//! # figment::Jail::expect_with(|jail| {
//! #     jail.clear_env();
//! #     run().map_err(|e| e.to_string().into())
//! # });
//! ```
//!
//! # Keys
//! | key | environment variable | default | values |
//! |---|---|---|---|
//! | `store` | `SESSION_STORE` | `"memory"` | `"memory"`, `"cookie"`, `"redis"` |
//! | `secret_key` | `SESSION_SECRET_KEY` | none | base64 of at least 64 random bytes |
//! | `fallback_keys` | `SESSION_FALLBACK_KEYS` | `[]` | older keys, accepted while rotating and re-issued under `secret_key` (at most 4) |
//! | `allow_ephemeral_key` | `SESSION_ALLOW_EPHEMERAL_KEY` | `true` in debug builds, `false` in release | generate a random key when `secret_key` is unset |
//! | `lazy_loading` | `SESSION_LAZY_LOADING` | `false` | load the state when a handler extracts the session |
//! | `cookie.name` | `SESSION_COOKIE__NAME` | `"id"` | a cookie name; `__Host-` and `__Secure-` prefixes are checked |
//! | `cookie.secure` | `SESSION_COOKIE__SECURE` | `true` | send over HTTPS only |
//! | `cookie.http_only` | `SESSION_COOKIE__HTTP_ONLY` | `true` | hide from scripts |
//! | `cookie.partitioned` | `SESSION_COOKIE__PARTITIONED` | `false` | the `Partitioned` attribute (CHIPS); requires `secure` |
//! | `cookie.same_site` | `SESSION_COOKIE__SAME_SITE` | `"lax"` | `"strict"`, `"lax"`, `"none"` (needs `secure`) |
//! | `cookie.path` | `SESSION_COOKIE__PATH` | `"/"` | starts with `/` |
//! | `cookie.domain` | `SESSION_COOKIE__DOMAIN` | none (this host only) | a domain |
//! | `cookie.content_security` | `SESSION_COOKIE__CONTENT_SECURITY` | `"private"` | `"private"` (encrypted), `"signed"` (readable by the client) |
//! | `cookie.verified_cache` | `SESSION_COOKIE__VERIFIED_CACHE` | `1024` | verified cookie values remembered per worker (a repeated cookie skips the MAC check and decryption); `0` turns it off |
//! | `lifecycle.kind` | `SESSION_LIFECYCLE__KIND` | `"browser"` | `"browser"` (no `Max-Age`), `"persistent"` (`Max-Age = ttl`) |
//! | `lifecycle.ttl` | `SESSION_LIFECYCLE__TTL` | `"1d"` | a [humantime](https://docs.rs/humantime) duration (`"30m"`, `"12h"`, `"7d"`) or seconds, at most 400 days |
//! | `lifecycle.extend` | `SESSION_LIFECYCLE__EXTEND` | `"on-state-changes"` | `"on-state-changes"`, `"on-every-request"` |
//! | `lifecycle.absolute_ttl` | `SESSION_LIFECYCLE__ABSOLUTE_TTL` | none | a duration, at most 400 days: the absolute timeout |
//! | `redis.url` | `SESSION_REDIS__URL` | none | `redis://`, `rediss://`, `redis+unix://` or `unix://` URL |
//! | `redis.cluster` | `SESSION_REDIS__CLUSTER` | `[]` | cluster node URLs (instead of `url`) |
//! | `redis.key_prefix` | `SESSION_REDIS__KEY_PREFIX` | `"session:"` | prepended to every Redis key |
//! | `redis.connect_timeout` | `SESSION_REDIS__CONNECT_TIMEOUT` | the store's | a duration, or `"off"` |
//! | `redis.response_timeout` | `SESSION_REDIS__RESPONSE_TIMEOUT` | the store's | a duration, or `"off"` |
//!
//! Lists in the environment are written as TOML-like arrays:
//! `SESSION_REDIS__CLUSTER='["redis://a:6379", "redis://b:6379"]'`.
//! Only `SESSION_*` variables whose first part is one of the keys above are read, plus likely
//! mistakes (`SESSION_STROE`, `SESSION_COOKIE_NAME` for `SESSION_COOKIE__NAME`), which are
//! reported; unrelated variables such as `SESSION_MANAGER` (set by desktop session managers)
//! do not get in the way. `SESSION_CONFIG` names the file, it is not a key.
//!
//! # The secret key
//! The key signs or encrypts every session cookie: keep it out of version control, give it
//! through `SESSION_SECRET_KEY`, and generate it with `openssl rand -base64 64`. It is held in
//! a [`SecretKey`], which never shows up in `Debug` output, logs or error messages.
//!
//! Without a key, [`SessionConfig::build`] fails in release builds. In debug builds
//! (`allow_ephemeral_key = true` by default) it generates a random key and logs a warning:
//! sessions then end when the process does.
//!
//! # Errors
//! Every mistake is reported, not just the first, each on its own line with the key, the value
//! as written (secret keys and URL passwords redacted) and where it came from: the file and
//! line, or the exact environment variable.
//! ```
//! # figment::Jail::expect_with(|jail| {
//! # jail.clear_env();
//! jail.create_file("session.toml", r#"
//! store = "redis"
//!
//! [cookie]
//! nmae = "sid"
//! name = "__Host-sid"
//! domain = "example.com"
//! same_site = "sideways"
//! "#)?;
//! jail.set_env("SESSION_LIFECYCLE__TTL", "7 parsecs");
//! jail.set_env("SESSION_SECRET_KEY", "dG9vIHNob3J0");
//!
//! let error = session_config::SessionConfig::load().unwrap_err();
//! assert_eq!(error.problems().len(), 6);
//! let lines: Vec<String> = error.to_string().lines().map(str::to_owned).collect();
//! assert_eq!(lines[0], r#"cookie.nmae = "sid" (session.toml:5): unknown key; did you mean `name`?"#);
//! assert_eq!(lines[1], "secret_key = <redacted> (environment variable SESSION_SECRET_KEY): too short: it decodes to 9 bytes, at least 64 are required (generate one with `openssl rand -base64 64`)");
//! assert_eq!(lines[2], r#"cookie.same_site = "sideways" (session.toml:8): unknown value "sideways", expected one of "strict", "lax" or "none""#);
//! assert!(lines[3].starts_with(r#"lifecycle.ttl = "7 parsecs" (environment variable SESSION_LIFECYCLE__TTL): expected a duration such as "30m", "12h" or "1d""#));
//! assert_eq!(lines[4], r#"cookie.domain = "example.com" (session.toml:7): a cookie named "__Host-sid" (cookie.name) must not have a Domain: remove cookie.domain or rename the cookie"#);
//! assert!(lines[5].starts_with(r#"store = "redis" (session.toml:2): store = "redis" needs a server: set redis.url (SESSION_REDIS__URL)"#));
//! # Ok(())
//! # });
//! ```
//! [`ConfigError::problems`] gives them one by one ([`Problem`]): key, value, source and
//! message.
//!
//! # Features
//! - `redis`: the `store = "redis"` store (`AnyStore::Redis`), through `session`'s
//!   `redis-session` feature. Without it, `[redis]` is still parsed and checked, and building
//!   with `store = "redis"` fails with an error saying so.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod duration;
mod error;
mod load;
mod model;
mod secret;
mod store;

use std::path::Path;

use actix_web::cookie::Key;
use figment::{
    Figment, Metadata, Profile, Provider,
    providers::{Env, Format, Serialized, Toml},
    value::{Dict, Map},
};
use session::{
    SessionMiddleware,
    config::{BrowserSession, PersistentSession, SessionLifecycle},
    storage::{CookieSessionStore, MemorySessionStore, SessionStore},
};

pub use self::{
    error::{ConfigError, Problem, ValueSource},
    model::{
        ContentSecurityConfig, CookieConfig, LifecycleConfig, LifecycleKind, RedisConfig,
        SameSiteConfig, SessionConfig, StoreKind, Timeout, TtlExtension,
    },
    secret::{MIN_KEY_BYTES, SecretKey, SecretKeyError},
    store::AnyStore,
};

/// The environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "SESSION_CONFIG";
/// The file read when [`CONFIG_ENV`] is unset, if it exists in the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "session.toml";
/// The prefix of the environment variables.
pub const ENV_PREFIX: &str = "SESSION_";

impl SessionConfig {
    /// The providers, in ascending priority:
    ///
    /// 1. [`SessionConfig::default()`],
    /// 2. the TOML file named by the `SESSION_CONFIG` environment variable (an error if it
    ///    does not exist), or else `session.toml` in the working directory if it exists,
    /// 3. `SESSION_*` environment variables, nested keys split on `__`
    ///    (`Env::prefixed("SESSION_").split("__")`, without `SESSION_CONFIG`).
    ///
    /// Merge your own providers on top, then call [`from_figment`](Self::from_figment). For
    /// defaults of your own that the file and the environment still override, use
    /// [`figment_with_defaults`](Self::figment_with_defaults).
    pub fn figment() -> Figment {
        Self::file_and_env_over(Figment::from(Self::default()))
    }

    /// The layers of [`figment()`](Self::figment) with the application's own `defaults`
    /// between the built-in defaults and the file: `session.toml` and `SESSION_*` still
    /// override them.
    ///
    /// ```
    /// use figment::providers::Serialized;
    /// use session_config::SessionConfig;
    ///
    /// # figment::Jail::expect_with(|jail| {
    /// # jail.clear_env();
    /// // Plain HTTP in development, unless session.toml or SESSION_COOKIE__SECURE say otherwise.
    /// let defaults = Serialized::default("cookie.secure", false);
    /// let figment = SessionConfig::figment_with_defaults(defaults);
    /// let config = SessionConfig::from_figment(&figment).map_err(|e| e.to_string())?;
    /// assert!(!config.cookie.secure);
    /// # Ok(())
    /// # });
    /// ```
    pub fn figment_with_defaults(defaults: impl Provider) -> Figment {
        Self::file_and_env_over(Figment::from(Self::default()).merge(defaults))
    }

    /// `figment`, then the configuration file (if any), then the environment.
    fn file_and_env_over(figment: Figment) -> Figment {
        let figment = match Env::var(CONFIG_ENV) {
            Some(path) => figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
                figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE))
            }
            None => figment,
        };
        figment.merge(env_provider())
    }

    /// Loads the configuration from [`figment()`](Self::figment): defaults, then the file,
    /// then the environment.
    pub fn load() -> Result<Self, ConfigError> {
        if let Some(path) = Env::var(CONFIG_ENV)
            && !Path::new(&path).is_file()
        {
            return Err(ConfigError::new(vec![
                Problem::new(
                    "",
                    format!("names the configuration file {path:?}, which does not exist"),
                )
                .with_source(Some(ValueSource::Env {
                    var: CONFIG_ENV.to_owned(),
                })),
            ]));
        }
        Self::from_figment(&Self::figment())
    }

    /// Loads the configuration from the defaults, the TOML file at `path` (which must exist),
    /// then the `SESSION_*` environment variables.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let figment = Figment::from(Self::default())
            .merge(Toml::file_exact(path.as_ref()))
            .merge(env_provider());
        Self::from_figment(&figment)
    }

    /// Extracts and checks the configuration in `figment`. Keys it lacks take their default.
    ///
    /// Every problem is reported: unknown keys, values of the wrong type or form, and rules
    /// across keys (a `__Host-` cookie must be Secure, with path `/` and no domain; a Redis
    /// store needs a URL…). Each names its key, its value and its source.
    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        load::from_figment(figment)
    }

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
        let mut problems = load::validate(self, check_store);
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
        let lifecycle = &self.lifecycle;
        // `prepare` checked that the TTLs fit.
        let to_cookie_duration = |ttl: std::time::Duration| {
            actix_web::cookie::time::Duration::try_from(ttl)
                .unwrap_or(actix_web::cookie::time::Duration::MAX)
        };
        let ttl = to_cookie_duration(lifecycle.ttl);
        let absolute_ttl = lifecycle.absolute_ttl.map(to_cookie_duration);
        let lifecycle: SessionLifecycle = match lifecycle.kind {
            LifecycleKind::Browser => {
                let browser = BrowserSession::default()
                    .state_ttl(ttl)
                    .state_ttl_extension_policy(lifecycle.extend.into());
                match absolute_ttl {
                    Some(limit) => browser.absolute_ttl(limit).into(),
                    None => browser.into(),
                }
            }
            LifecycleKind::Persistent => {
                let persistent = PersistentSession::default()
                    .session_ttl(ttl)
                    .session_ttl_extension_policy(lifecycle.extend.into());
                match absolute_ttl {
                    Some(limit) => persistent.absolute_ttl(limit).into(),
                    None => persistent.into(),
                }
            }
        };
        SessionMiddleware::builder(store, key)
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
            .session_lifecycle(lifecycle)
            .lazy_loading(self.lazy_loading)
            .try_build()
            .map_err(|err| ConfigError::new(vec![Problem::new("cookie", err.to_string())]))
    }

    #[cfg(feature = "redis")]
    async fn redis_store(&self) -> Result<AnyStore, ConfigError> {
        use session::storage::RedisSessionStore;

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
                        .map(|url| format!("{:?}", model::redact_url(url))),
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

/// Supplies [`SessionConfig::default`] (or any config built in code) as the lowest layer of
/// a figment: `Figment::from(config)` extracts back to an equal config, keys included (they
/// are handed over inside the figment only, never through `Serialize`).
impl Provider for SessionConfig {
    fn metadata(&self) -> Metadata {
        Metadata::named(error::DEFAULTS_NAME)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut data = Serialized::defaults(self).data()?;
        let dict = data.entry(Profile::Default).or_default();
        if let Some(key) = &self.secret_key {
            dict.insert("secret_key".to_owned(), key.to_base64().into());
        }
        if !self.fallback_keys.is_empty() {
            let keys: Vec<String> = self
                .fallback_keys
                .iter()
                .map(SecretKey::to_base64)
                .collect();
            dict.insert("fallback_keys".to_owned(), keys.into());
        }
        Ok(data)
    }
}

/// `SESSION_*` variables whose first part is a known key, or looks like a mistyped one
/// (`SESSION_COOKIE_NAME`), split on `__`.
fn env_provider() -> Env {
    Env::prefixed(ENV_PREFIX)
        .filter(|key| {
            let key = key.as_str().to_ascii_lowercase();
            if key == CONFIG_ENV[ENV_PREFIX.len()..].to_ascii_lowercase() {
                return false;
            }
            let first = key.split("__").next().unwrap_or_default();
            load::TOP_KEYS.contains(&first)
                // Likely typos (`SESSION_STROE`) are kept, to be reported.
                || load::closest(first, load::TOP_KEYS).is_some()
                || load::SECTIONS
                    .iter()
                    .any(|(section, _)| first.starts_with(&format!("{section}_")))
        })
        .split("__")
}
