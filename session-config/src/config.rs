//! The configuration types: what `session.toml` and the `SESSION_*` variables deserialize into.

use std::{fmt, time::Duration};

use figment::value::Value;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use session::{config::CookieSettings, storage::redact_url};

use crate::{duration, secret::SecretKey};

/// The complete configuration of the session middleware.
///
/// Every field has the runtime crate's default ([`SessionConfig::default`]); see the
/// [crate docs](crate#keys) for the TOML keys and their environment variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// Where the session state lives (`store`, default `"memory"`).
    pub store: StoreKind,
    /// The key that signs or encrypts the cookies (`secret_key`, no default).
    ///
    /// Never serialized, so that a config dumped with serde does not carry it (using the
    /// config as a figment provider does keep it).
    #[serde(skip_serializing)]
    pub secret_key: Option<SecretKey>,
    /// Older keys still accepted while keys are rotated (`fallback_keys`, default `[]`, at
    /// most 4). Never serialized, like `secret_key`.
    #[serde(skip_serializing)]
    pub fallback_keys: Vec<SecretKey>,
    /// Whether a random key may be generated when `secret_key` is unset (`allow_ephemeral_key`,
    /// default `true` in debug builds and `false` in release builds).
    pub allow_ephemeral_key: bool,
    /// Load the session state only when a handler extracts the session (`lazy_loading`,
    /// default `false`); see `SessionMiddlewareBuilder::lazy_loading` for what it means for
    /// guards.
    pub lazy_loading: bool,
    /// The `[cookie]` section.
    pub cookie: CookieConfig,
    /// The `[lifecycle]` section.
    pub lifecycle: LifecycleConfig,
    /// The `[redis]` section, used when `store = "redis"`.
    pub redis: RedisConfig,
    /// The `[postgres]` section, used when `store = "postgres"`.
    pub postgres: PostgresConfig,
    /// The `[sqlite]` section, used when `store = "sqlite"`.
    pub sqlite: SqliteConfig,
    /// The `[transport]` section: where the session token travels.
    pub transport: TransportConfig,
    /// The `[devices]` section: what is recorded about sessions bound to an owner.
    pub devices: DevicesConfig,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            store: StoreKind::default(),
            secret_key: None,
            fallback_keys: Vec::new(),
            allow_ephemeral_key: cfg!(debug_assertions),
            lazy_loading: false,
            cookie: CookieConfig::default(),
            lifecycle: LifecycleConfig::default(),
            redis: RedisConfig::default(),
            postgres: PostgresConfig::default(),
            sqlite: SqliteConfig::default(),
            transport: TransportConfig::default(),
            devices: DevicesConfig::default(),
        }
    }
}

/// Which store keeps the session state (`store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum StoreKind {
    /// `"memory"`: in this process ([`session::storage::MemorySessionStore`]).
    #[default]
    Memory,
    /// `"cookie"`: inside the cookie ([`session::storage::CookieSessionStore`]).
    Cookie,
    /// `"redis"`: Redis or Redis Cluster (needs this crate's `redis` feature).
    Redis,
    /// `"postgres"`: a Postgres table (needs this crate's `postgres` feature).
    Postgres,
    /// `"sqlite"`: a SQLite file (needs this crate's `sqlite` feature).
    Sqlite,
}

impl StoreKind {
    /// The TOML spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Cookie => "cookie",
            Self::Redis => "redis",
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

/// The `[cookie]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CookieConfig {
    /// The cookie's name (`cookie.name`, default `"id"`).
    pub name: String,
    /// Send only over HTTPS (`cookie.secure`, default `true`).
    pub secure: bool,
    /// Hide from scripts (`cookie.http_only`, default `true`).
    pub http_only: bool,
    /// The `Partitioned` attribute, CHIPS (`cookie.partitioned`, default `false`; requires
    /// `secure`).
    pub partitioned: bool,
    /// The `SameSite` attribute (`cookie.same_site`, default `"lax"`).
    pub same_site: SameSiteConfig,
    /// The `Path` attribute (`cookie.path`, default `"/"`).
    pub path: String,
    /// The `Domain` attribute (`cookie.domain`, default: none, only the host that set it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// How the value is protected (`cookie.content_security`, default `"private"`).
    pub content_security: ContentSecurityConfig,
    /// How many verified cookie values each worker remembers, so that a repeated cookie skips
    /// the MAC check and decryption (`cookie.verified_cache`, default `1024`; `0` turns it
    /// off). See `SessionMiddlewareBuilder::cookie_verified_cache`.
    pub verified_cache: usize,
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self {
            name: "id".to_owned(),
            secure: true,
            http_only: true,
            partitioned: false,
            same_site: SameSiteConfig::Lax,
            path: "/".to_owned(),
            domain: None,
            content_security: ContentSecurityConfig::Private,
            verified_cache: session::config::DEFAULT_VERIFIED_COOKIE_CACHE,
        }
    }
}

impl CookieConfig {
    /// The runtime's cookie settings for this section, which its cookie rules check.
    pub(crate) fn to_settings(&self) -> CookieSettings {
        let mut settings = CookieSettings::default();
        settings.name.clone_from(&self.name);
        settings.secure = self.secure;
        settings.http_only = self.http_only;
        settings.same_site = self.same_site.into();
        settings.path.clone_from(&self.path);
        settings.domain.clone_from(&self.domain);
        settings.partitioned = self.partitioned;
        settings
    }
}

/// The cookie's `SameSite` attribute (`cookie.same_site`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SameSiteConfig {
    /// `"strict"`: never sent on cross-site requests.
    Strict,
    /// `"lax"`: sent on top-level cross-site navigations only.
    #[default]
    Lax,
    /// `"none"`: always sent (requires `cookie.secure = true`).
    None,
}

impl From<SameSiteConfig> for actix_web::cookie::SameSite {
    fn from(value: SameSiteConfig) -> Self {
        match value {
            SameSiteConfig::Strict => Self::Strict,
            SameSiteConfig::Lax => Self::Lax,
            SameSiteConfig::None => Self::None,
        }
    }
}

/// How the cookie's value is protected (`cookie.content_security`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentSecurityConfig {
    /// `"private"`: encrypted and authenticated; the client can neither read nor change it.
    #[default]
    Private,
    /// `"signed"`: signed; the client can read it but not change it.
    Signed,
}

impl From<ContentSecurityConfig> for session::config::CookieContentSecurity {
    fn from(value: ContentSecurityConfig) -> Self {
        match value {
            ContentSecurityConfig::Private => Self::Private,
            ContentSecurityConfig::Signed => Self::Signed,
        }
    }
}

/// The `[lifecycle]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleConfig {
    /// Browser-session or persistent cookie (`lifecycle.kind`, default `"browser"`).
    pub kind: LifecycleKind,
    /// The idle TTL of the state, and the `Max-Age` of persistent cookies (`lifecycle.ttl`,
    /// default `"1d"`).
    #[serde(with = "duration::required")]
    pub ttl: Duration,
    /// When the TTL is extended (`lifecycle.extend`, default `"on-state-changes"`).
    pub extend: TtlExtension,
    /// A hard limit on a session's age, however active (`lifecycle.absolute_ttl`, default:
    /// none), checked server-side on every request; a persistent cookie's `Max-Age` never
    /// outlives it.
    #[serde(with = "duration::optional", skip_serializing_if = "Option::is_none")]
    pub absolute_ttl: Option<Duration>,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        Self {
            kind: LifecycleKind::Browser,
            ttl: Duration::from_secs(24 * 60 * 60),
            extend: TtlExtension::OnStateChanges,
            absolute_ttl: None,
        }
    }
}

/// Which kind of session cookie (`lifecycle.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LifecycleKind {
    /// `"browser"`: no `Max-Age`; the cookie ends with the browser session.
    #[default]
    Browser,
    /// `"persistent"`: `Max-Age = ttl`; the cookie survives browser restarts.
    Persistent,
}

/// When the TTL is extended (`lifecycle.extend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TtlExtension {
    /// `"on-state-changes"`: only when the state changes.
    #[default]
    OnStateChanges,
    /// `"on-every-request"`: on every request carrying the session (an idle timeout).
    OnEveryRequest,
}

impl From<TtlExtension> for session::config::TtlExtensionPolicy {
    fn from(value: TtlExtension) -> Self {
        match value {
            TtlExtension::OnStateChanges => Self::OnStateChanges,
            TtlExtension::OnEveryRequest => Self::OnEveryRequest,
        }
    }
}

/// The `[transport]` section: where the session token travels (see
/// `session::config::SessionTransport`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransportConfig {
    /// `"cookie"`, `"header"` or `"cookie-or-header"` (`transport.kind`, default `"cookie"`).
    pub kind: TransportKind,
    /// The request header carrying the token, for `"header"` and `"cookie-or-header"`
    /// (`transport.header`, default `"authorization"`, sent as `Bearer <token>`).
    pub header: String,
    /// The response header carrying new tokens, and an empty value when a token is void
    /// (`transport.response_header`, default: `"session-token"` for `authorization`, else
    /// `header` itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_header: Option<String>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            kind: TransportKind::Cookie,
            header: "authorization".to_owned(),
            response_header: None,
        }
    }
}

/// Where the session token travels (`transport.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TransportKind {
    /// `"cookie"`: the session cookie only.
    #[default]
    Cookie,
    /// `"header"`: `transport.header` only.
    Header,
    /// `"cookie-or-header"`: either; both on one request must name the same session.
    CookieOrHeader,
}

/// The `[devices]` section: what is recorded about sessions bound to an owner with
/// `Session::set_owner` (see `SessionMiddlewareBuilder::last_seen_interval`,
/// `record_user_agent` and `record_client_ip`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DevicesConfig {
    /// The least time between two writes of a bound session's "last seen" time
    /// (`devices.last_seen_interval`, default `"1m"`).
    #[serde(with = "duration::required")]
    pub last_seen_interval: Duration,
    /// Whether the user agent is recorded, truncated (`devices.record_user_agent`, default
    /// `false`).
    pub record_user_agent: bool,
    /// Which client address is recorded (`devices.client_ip`, default `"off"`).
    pub client_ip: ClientIpConfig,
}

impl Default for DevicesConfig {
    fn default() -> Self {
        Self {
            last_seen_interval: Duration::from_secs(60),
            record_user_agent: false,
            client_ip: ClientIpConfig::Off,
        }
    }
}

/// Which client address a bound session records (`devices.client_ip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ClientIpConfig {
    /// `"off"`: none.
    #[default]
    Off,
    /// `"peer"`: the connection's peer address.
    Peer,
    /// `"forwarded"`: the address in `Forwarded` / `X-Forwarded-For`, for applications
    /// behind proxies they trust to set them.
    Forwarded,
}

impl From<ClientIpConfig> for session::config::ClientIp {
    fn from(value: ClientIpConfig) -> Self {
        match value {
            ClientIpConfig::Off => Self::Off,
            ClientIpConfig::Peer => Self::Peer,
            ClientIpConfig::Forwarded => Self::TrustForwarded,
        }
    }
}

/// The `[redis]` section. URLs may carry a password: `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// A standalone server, e.g. `"redis://127.0.0.1:6379"` (`redis.url`, no default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The nodes of a Redis Cluster (`redis.cluster`, default `[]`); excludes `url`.
    pub cluster: Vec<String>,
    /// Prepended to every key (`redis.key_prefix`, default `"session:"`).
    pub key_prefix: String,
    /// How long connecting may take (`redis.connect_timeout`, default: the store's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<Timeout>,
    /// How long a command may take (`redis.response_timeout`, default: the store's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_timeout: Option<Timeout>,
    /// The near cache (`[redis.cache]`, off by default).
    pub cache: RedisCacheConfig,
}

/// The `[redis.cache]` table: a per-process cache of session records kept exact by Redis's
/// invalidation messages (`session::storage::NearCache`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisCacheConfig {
    /// Whether to cache (`redis.cache.enabled`, default `false`).
    pub enabled: bool,
    /// The most sessions kept (`redis.cache.capacity`, default `10000`).
    pub capacity: usize,
    /// The longest time an entry is served without asking Redis (`redis.cache.max_age`,
    /// default `"5m"`).
    #[serde(with = "duration::required")]
    pub max_age: Duration,
}

impl Default for RedisCacheConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            capacity: 10_000,
            max_age: Duration::from_secs(5 * 60),
        }
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: None,
            cluster: Vec::new(),
            key_prefix: "session:".to_owned(),
            connect_timeout: None,
            response_timeout: None,
            cache: RedisCacheConfig::default(),
        }
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.url.as_deref().map(redact_url))
            .field(
                "cluster",
                &self
                    .cluster
                    .iter()
                    .map(|u| redact_url(u))
                    .collect::<Vec<_>>(),
            )
            .field("key_prefix", &self.key_prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("cache", &self.cache)
            .finish()
    }
}

/// A duration, or `"off"` for none: a Redis timeout, a sweep interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// `"off"`: wait forever.
    Off,
    /// A duration such as `"2s"` or `"500ms"`.
    After(Duration),
}

impl Timeout {
    /// The value for the store builder: `None` for [`Timeout::Off`].
    pub fn as_option(self) -> Option<Duration> {
        match self {
            Self::Off => None,
            Self::After(duration) => Some(duration),
        }
    }
}

impl Serialize for Timeout {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Off => serializer.serialize_str("off"),
            Self::After(d) => serializer.serialize_str(&duration::format(*d)),
        }
    }
}

impl<'de> Deserialize<'de> for Timeout {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match <Value as Deserialize>::deserialize(deserializer)? {
            Value::String(_, text) if text.trim().eq_ignore_ascii_case("off") => Ok(Self::Off),
            value => duration::parse(value)
                .map(Self::After)
                .map_err(|msg| de::Error::custom(format!("{msg}, or \"off\""))),
        }
    }
}

/// The `[postgres]` section. The URL may carry a password: `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresConfig {
    /// The database, e.g. `"postgres://app:secret@127.0.0.1/app"` (`postgres.url`, no
    /// default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The session table (`postgres.table`, default `"sessions"`).
    pub table: String,
    /// The table's schema (`postgres.schema`, default: the connection's `search_path`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The most pooled connections (`postgres.pool_size`, default `10`).
    pub pool_size: u32,
    /// The longest wait for a connection (`postgres.connect_timeout`, default: the store's,
    /// 5 s).
    #[serde(with = "duration::optional", skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<Duration>,
    /// How often expired rows are deleted, or `"off"` (`postgres.sweep_interval`, default:
    /// the store's, every minute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep_interval: Option<Timeout>,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            url: None,
            table: "sessions".to_owned(),
            schema: None,
            pool_size: 10,
            connect_timeout: None,
            sweep_interval: None,
        }
    }
}

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &self.url.as_deref().map(redact_url))
            .field("table", &self.table)
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("sweep_interval", &self.sweep_interval)
            .finish()
    }
}

/// The `[sqlite]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqliteConfig {
    /// The database file, created if missing (`sqlite.path`, no default), e.g.
    /// `"/var/lib/myapp/sessions.db"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The database as a URL instead of `path` (`sqlite.url`, no default), e.g.
    /// `"sqlite:///var/lib/myapp/sessions.db"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The session table (`sqlite.table`, default `"sessions"`).
    pub table: String,
    /// The most pooled connections (`sqlite.pool_size`, default `4`).
    pub pool_size: u32,
    /// How long a write waits for another one (`sqlite.busy_timeout`, default: the
    /// store's, 5 s).
    #[serde(with = "duration::optional", skip_serializing_if = "Option::is_none")]
    pub busy_timeout: Option<Duration>,
    /// How often expired rows are deleted, or `"off"` (`sqlite.sweep_interval`, default:
    /// the store's, every minute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep_interval: Option<Timeout>,
}

impl Default for SqliteConfig {
    fn default() -> Self {
        Self {
            path: None,
            url: None,
            table: "sessions".to_owned(),
            pool_size: 4,
            busy_timeout: None,
            sweep_interval: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_url_passwords() {
        let config = RedisConfig {
            url: Some("rediss://:hunter2@host".to_owned()),
            cluster: vec!["redis://a:hunter2@node1".to_owned()],
            ..RedisConfig::default()
        };
        assert!(!format!("{config:?}").contains("hunter2"));
        let postgres = PostgresConfig {
            url: Some("postgres://app:hunter2@db/app".to_owned()),
            ..PostgresConfig::default()
        };
        assert!(!format!("{postgres:?}").contains("hunter2"));
    }
}
