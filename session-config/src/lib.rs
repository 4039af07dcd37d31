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
//! checks the result (unknown keys, bad values, the runtime's cookie rules, missing Redis
//! URL…), and turns it into a [`SessionMiddleware`](session::SessionMiddleware) over the
//! chosen [`AnyStore`].
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
//! - `"postgres"` (feature `postgres`): a table in the Postgres you run already; set
//!   `postgres.url` (`SESSION_POSTGRES__URL`).
//! - `"sqlite"` (feature `sqlite`): a SQLite file, sessions that survive a restart with no
//!   server; set `sqlite.path` (`SESSION_SQLITE__PATH`).
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
//! [`SessionConfig::figment`] is an ordinary [`Figment`](figment::Figment): merge more
//! providers on top (they win), or nest the session settings in your application's figment,
//! then extract with [`SessionConfig::from_figment`] to keep the checks and the error
//! reporting.
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
//! | `cookie.domain` | `SESSION_COOKIE__DOMAIN` | none (this host only) | a host name such as `"example.com"` |
//! | `cookie.content_security` | `SESSION_COOKIE__CONTENT_SECURITY` | `"private"` | `"private"` (encrypted), `"signed"` (readable by the client) |
//! | `cookie.verified_cache` | `SESSION_COOKIE__VERIFIED_CACHE` | `1024` | verified cookie values remembered per worker (a repeated cookie skips the MAC check and decryption); `0` turns it off |
//! | `lifecycle.kind` | `SESSION_LIFECYCLE__KIND` | `"browser"` | `"browser"` (no `Max-Age`), `"persistent"` (`Max-Age = ttl`) |
//! | `lifecycle.ttl` | `SESSION_LIFECYCLE__TTL` | `"1d"` | a [humantime](https://docs.rs/humantime) duration (`"30m"`, `"12h"`, `"7d"`) or seconds, at most 400 days |
//! | `lifecycle.extend` | `SESSION_LIFECYCLE__EXTEND` | `"on-state-changes"` | `"on-state-changes"`, `"on-every-request"` |
//! | `lifecycle.absolute_ttl` | `SESSION_LIFECYCLE__ABSOLUTE_TTL` | none | a duration, at most 400 days: the absolute timeout |
//! | `transport.kind` | `SESSION_TRANSPORT__KIND` | `"cookie"` | `"cookie"`, `"header"` (the token in `transport.header`, no cookie), `"cookie-or-header"` (either; both on one request must name the same session) |
//! | `transport.header` | `SESSION_TRANSPORT__HEADER` | `"authorization"` | the request header carrying the token; `authorization` is sent as `Bearer <token>` |
//! | `devices.last_seen_interval` | `SESSION_DEVICES__LAST_SEEN_INTERVAL` | `"1m"` | the least time between two writes of a bound session's "last seen" time |
//! | `devices.record_user_agent` | `SESSION_DEVICES__RECORD_USER_AGENT` | `false` | record a bound session's user agent (truncated) |
//! | `devices.client_ip` | `SESSION_DEVICES__CLIENT_IP` | `"off"` | the address a bound session records: `"off"`, `"peer"` (the connection's peer), `"forwarded"` (`Forwarded` / `X-Forwarded-For`: only behind proxies you trust) |
//! | `transport.response_header` | `SESSION_TRANSPORT__RESPONSE_HEADER` | `"session-token"` for `authorization`, else `transport.header` | the response header carrying new tokens; an empty value means the token is void |
//! | `redis.url` | `SESSION_REDIS__URL` | none | `redis://`, `rediss://`, `redis+unix://` or `unix://` URL |
//! | `redis.cluster` | `SESSION_REDIS__CLUSTER` | `[]` | cluster node URLs (instead of `url`) |
//! | `redis.key_prefix` | `SESSION_REDIS__KEY_PREFIX` | `"session:"` | prepended to every Redis key |
//! | `redis.connect_timeout` | `SESSION_REDIS__CONNECT_TIMEOUT` | the store's | a duration, or `"off"` |
//! | `redis.response_timeout` | `SESSION_REDIS__RESPONSE_TIMEOUT` | the store's | a duration, or `"off"` |
//! | `redis.cache.enabled` | `SESSION_REDIS__CACHE__ENABLED` | `false` | a per-process near cache kept exact by Redis (`session::storage::NearCache`) |
//! | `redis.cache.capacity` | `SESSION_REDIS__CACHE__CAPACITY` | `10000` | the most sessions cached (>= 1 when enabled) |
//! | `redis.cache.max_age` | `SESSION_REDIS__CACHE__MAX_AGE` | `"5m"` | the longest an entry is served without asking Redis |
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
//! message, and for cookie settings the [`CookieRule`](session::config::CookieRule) they
//! break: the same rules, and so the same refusals, as `SessionMiddlewareBuilder::try_build`.
//!
//! # Features
//! - `redis`: the `store = "redis"` store (`AnyStore::Redis`), through `session`'s
//!   `redis-session` feature. Without it, `[redis]` is still parsed and checked, and building
//!   with `store = "redis"` fails with an error saying so.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod build;
mod config;
mod duration;
mod error;
mod extract;
mod keys;
mod provider;
mod secret;
mod source;
mod store;
mod validate;

pub use self::{
    config::{
        ClientIpConfig, ContentSecurityConfig, CookieConfig, DevicesConfig, LifecycleConfig,
        LifecycleKind, PostgresConfig, RedisCacheConfig, RedisConfig, SameSiteConfig,
        SessionConfig, SqliteConfig, StoreKind, Timeout, TransportConfig, TransportKind,
        TtlExtension,
    },
    error::{ConfigError, Problem},
    keys::{CONFIG_ENV, DEFAULT_CONFIG_FILE, ENV_PREFIX},
    secret::{MIN_KEY_BYTES, SecretKey, SecretKeyError},
    source::ValueSource,
    store::AnyStore,
};
