//! From a [`Figment`] to a checked [`SessionConfig`], reporting every mistake at once: serde
//! stops at the first one, so on failure every key is extracted on its own.

use std::time::Duration;

use figment::{
    Figment,
    value::{Dict, Value},
};
use serde::{Deserialize, de::DeserializeOwned};

use crate::{
    config::{
        CookieConfig, DevicesConfig, LifecycleConfig, PostgresConfig, RedisCacheConfig,
        RedisConfig, SessionConfig, SqliteConfig, Timeout, TransportConfig,
    },
    duration,
    error::{ConfigError, Problem, from_figment_error, render_value, value_of},
    keys::{REDIS_CACHE_KEYS, SECTIONS, TOP_KEYS, closest, env_var, may_be_secret, segments},
    secret::{REDACTED, SecretKey},
    source::{self, source_of},
    validate::validate,
};

impl SessionConfig {
    /// Extracts and checks the configuration in `figment`. Keys it lacks take their default.
    ///
    /// Every problem is reported: unknown keys, values of the wrong type or form, and rules
    /// across keys (a `__Host-` cookie must be Secure, with path `/` and no domain; a Redis
    /// store needs a URL…). Each names its key, its value and its source.
    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        from_figment(figment)
    }
}

fn from_figment(figment: &Figment) -> Result<SessionConfig, ConfigError> {
    let (config, mut problems) = match figment.extract::<SessionConfig>() {
        Ok(config) => (config, Vec::new()),
        Err(error) => {
            // serde stops at the first mistake: go key by key to find them all.
            let mut extractor = Extractor {
                figment,
                problems: Vec::new(),
            };
            let config = extractor.extract_all();
            let problems = if extractor.problems.is_empty() {
                from_figment_error(error, figment, None)
            } else {
                extractor.problems
            };
            match config {
                Some(config) => (config, problems),
                None => return Err(ConfigError::new(problems)),
            }
        }
    };
    // Cross-key rules, skipping those about a value already reported as malformed (it was
    // replaced by its default, so a rule about it would only add noise).
    let malformed: Vec<String> = problems.iter().map(|p| p.key().to_owned()).collect();
    let is_noise = |problem: &Problem| {
        malformed.iter().any(|key| {
            key == problem.key()
                || (problem.key() == "store"
                    && ["redis.", "postgres.", "sqlite."]
                        .iter()
                        .any(|section| key.starts_with(section)))
        })
    };
    for problem in validate(&config, true) {
        if !is_noise(&problem) {
            problems.push(attach(problem, figment));
        }
    }
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError::new(problems))
    }
}

/// Adds the value and source of a semantic problem's key, unless it has them already.
fn attach(problem: Problem, figment: &Figment) -> Problem {
    let key = problem.key().to_owned();
    let problem = if problem.value().is_none() {
        problem.with_value(value_of(figment, &key))
    } else {
        problem
    };
    if problem.source().is_none() {
        problem.with_source(source_of(figment, &key))
    } else {
        problem
    }
}

struct Extractor<'a> {
    figment: &'a Figment,
    problems: Vec<Problem>,
}

impl Extractor<'_> {
    /// Extracts every key separately, recording each failure. `None` when the providers
    /// themselves failed (a missing file or a TOML syntax error).
    fn extract_all(&mut self) -> Option<SessionConfig> {
        let dict = match self.figment.extract::<Dict>() {
            Ok(dict) => dict,
            Err(error) => {
                self.problems
                    .extend(from_figment_error(error, self.figment, None));
                return None;
            }
        };
        self.unknown_keys(&dict);

        let defaults = SessionConfig::default();
        let store = self.field("store", defaults.store);
        let secret_key = self.field("secret_key", defaults.secret_key);
        let fallback_keys = self.fallback_keys();
        let allow_ephemeral_key = self.field("allow_ephemeral_key", defaults.allow_ephemeral_key);
        let lazy_loading = self.field("lazy_loading", defaults.lazy_loading);
        let cookie = CookieConfig {
            name: self.field("cookie.name", defaults.cookie.name),
            secure: self.field("cookie.secure", defaults.cookie.secure),
            http_only: self.field("cookie.http_only", defaults.cookie.http_only),
            partitioned: self.field("cookie.partitioned", defaults.cookie.partitioned),
            same_site: self.field("cookie.same_site", defaults.cookie.same_site),
            path: self.field("cookie.path", defaults.cookie.path),
            domain: self.field("cookie.domain", defaults.cookie.domain),
            content_security: self
                .field("cookie.content_security", defaults.cookie.content_security),
            verified_cache: self.field("cookie.verified_cache", defaults.cookie.verified_cache),
        };
        let lifecycle = LifecycleConfig {
            kind: self.field("lifecycle.kind", defaults.lifecycle.kind),
            ttl: self.field("lifecycle.ttl", Dur(defaults.lifecycle.ttl)).0,
            extend: self.field("lifecycle.extend", defaults.lifecycle.extend),
            absolute_ttl: self
                .field(
                    "lifecycle.absolute_ttl",
                    defaults.lifecycle.absolute_ttl.map(Dur),
                )
                .map(|d| d.0),
        };
        let redis = RedisConfig {
            url: self.field("redis.url", defaults.redis.url),
            cluster: self.field("redis.cluster", defaults.redis.cluster),
            key_prefix: self.field("redis.key_prefix", defaults.redis.key_prefix),
            connect_timeout: self
                .field::<Option<Timeout>>("redis.connect_timeout", defaults.redis.connect_timeout),
            response_timeout: self.field::<Option<Timeout>>(
                "redis.response_timeout",
                defaults.redis.response_timeout,
            ),
            cache: RedisCacheConfig {
                enabled: self.field("redis.cache.enabled", defaults.redis.cache.enabled),
                capacity: self.field("redis.cache.capacity", defaults.redis.cache.capacity),
                max_age: self
                    .field("redis.cache.max_age", Dur(defaults.redis.cache.max_age))
                    .0,
            },
        };
        let postgres = PostgresConfig {
            url: self.field("postgres.url", defaults.postgres.url),
            table: self.field("postgres.table", defaults.postgres.table),
            schema: self.field("postgres.schema", defaults.postgres.schema),
            pool_size: self.field("postgres.pool_size", defaults.postgres.pool_size),
            connect_timeout: self
                .field(
                    "postgres.connect_timeout",
                    defaults.postgres.connect_timeout.map(Dur),
                )
                .map(|d| d.0),
            sweep_interval: self.field::<Option<Timeout>>(
                "postgres.sweep_interval",
                defaults.postgres.sweep_interval,
            ),
        };
        let sqlite = SqliteConfig {
            path: self.field("sqlite.path", defaults.sqlite.path),
            url: self.field("sqlite.url", defaults.sqlite.url),
            table: self.field("sqlite.table", defaults.sqlite.table),
            pool_size: self.field("sqlite.pool_size", defaults.sqlite.pool_size),
            busy_timeout: self
                .field("sqlite.busy_timeout", defaults.sqlite.busy_timeout.map(Dur))
                .map(|d| d.0),
            sweep_interval: self
                .field::<Option<Timeout>>("sqlite.sweep_interval", defaults.sqlite.sweep_interval),
        };
        let transport = TransportConfig {
            kind: self.field("transport.kind", defaults.transport.kind),
            header: self.field("transport.header", defaults.transport.header),
            response_header: self.field(
                "transport.response_header",
                defaults.transport.response_header,
            ),
        };
        let devices = DevicesConfig {
            last_seen_interval: self
                .field(
                    "devices.last_seen_interval",
                    Dur(defaults.devices.last_seen_interval),
                )
                .0,
            record_user_agent: self.field(
                "devices.record_user_agent",
                defaults.devices.record_user_agent,
            ),
            client_ip: self.field("devices.client_ip", defaults.devices.client_ip),
        };
        Some(SessionConfig {
            devices,
            store,
            secret_key,
            fallback_keys,
            allow_ephemeral_key,
            lazy_loading,
            cookie,
            lifecycle,
            redis,
            postgres,
            sqlite,
            transport,
        })
    }

    fn field<T: DeserializeOwned>(&mut self, key: &str, default: T) -> T {
        match self.figment.extract_inner::<T>(key) {
            Ok(value) => value,
            Err(error) if error.missing() && self.figment.find_value(key).is_err() => default,
            Err(error) => {
                self.problems
                    .extend(from_figment_error(error, self.figment, Some(key)));
                default
            }
        }
    }

    /// Each fallback key separately, so that every bad one is named by its index.
    fn fallback_keys(&mut self) -> Vec<SecretKey> {
        let values: Vec<Value> = self.field("fallback_keys", Vec::new());
        let mut keys = Vec::with_capacity(values.len());
        for (index, value) in values.into_iter().enumerate() {
            let key = format!("fallback_keys[{index}]");
            let parsed = match &value {
                Value::String(_, text) => SecretKey::from_base64(text).map_err(|e| e.to_string()),
                _ => Err("expected a base64 string of at least 64 bytes".to_owned()),
            };
            match parsed {
                Ok(secret) => keys.push(secret),
                Err(message) => {
                    let source = self
                        .figment
                        .get_metadata(value.tag())
                        .map(|metadata| source::from_metadata(metadata, &key));
                    self.problems.push(
                        Problem::new(key, message)
                            .with_value(Some(REDACTED.to_owned()))
                            .with_source(source),
                    );
                }
            }
        }
        keys
    }

    fn unknown_keys(&mut self, dict: &Dict) {
        for (key, value) in dict {
            if !TOP_KEYS.contains(&key.as_str()) {
                let message = match SECTIONS.iter().find_map(|(section, keys)| {
                    let field = key.strip_prefix(section)?.strip_prefix('_')?;
                    keys.contains(&field).then(|| format!("{section}.{field}"))
                }) {
                    Some(meant) => format!(
                        "unknown key; did you mean `{meant}` (environment variable {})?",
                        env_var(&segments(&meant))
                    ),
                    None => unknown_key_message(key, TOP_KEYS),
                };
                self.unknown(key, value, message);
                continue;
            }
            let Some((_, fields)) = SECTIONS.iter().find(|(section, _)| section == key) else {
                continue;
            };
            match value {
                Value::Dict(_, section) => {
                    for (field, value) in section {
                        if key == "redis"
                            && field == "cache"
                            && let Value::Dict(_, cache) = value
                        {
                            for (field, value) in cache {
                                if !REDIS_CACHE_KEYS.contains(&field.as_str()) {
                                    self.unknown(
                                        &format!("redis.cache.{field}"),
                                        value,
                                        unknown_key_message(field, REDIS_CACHE_KEYS),
                                    );
                                }
                            }
                        }
                        if !fields.contains(&field.as_str()) {
                            self.unknown(
                                &format!("{key}.{field}"),
                                value,
                                unknown_key_message(field, fields),
                            );
                        }
                    }
                }
                _ => self.unknown(key, value, format!("`{key}` must be a table")),
            }
        }
    }

    fn unknown(&mut self, key: &str, value: &Value, message: String) {
        let source = self
            .figment
            .get_metadata(value.tag())
            .map(|metadata| source::from_metadata(metadata, key));
        // A mistyped `secret_key` holds a secret all the same.
        let shown = if may_be_secret(key) {
            REDACTED.to_owned()
        } else {
            render_value(key, value)
        };
        self.problems.push(
            Problem::new(key, message)
                .with_value(Some(shown))
                .with_source(source),
        );
    }
}

/// "unknown key", with the likely intended key when one is close, else the list of keys.
fn unknown_key_message(key: &str, known: &[&str]) -> String {
    match closest(key, known) {
        Some(meant) => format!("unknown key; did you mean `{meant}`?"),
        None => format!("unknown key, expected one of {}", known.join(", ")),
    }
}

/// A required duration, for key-by-key extraction.
#[derive(Deserialize)]
#[serde(transparent)]
struct Dur(#[serde(with = "duration::required")] Duration);

#[cfg(test)]
mod tests {
    use super::*;

    /// A config with every optional key set, from TOML.
    fn everything() -> Figment {
        use figment::providers::{Format, Toml};
        let key = "QUJD".repeat(22);
        Figment::from(SessionConfig::default()).merge(Toml::string(&format!(
            r#"
            store = "cookie"
            secret_key = "{key}"
            fallback_keys = ["{key}"]
            allow_ephemeral_key = false
            [cookie]
            name = "sid"
            secure = false
            http_only = false
            same_site = "strict"
            path = "/app"
            domain = "example.com"
            content_security = "signed"
            [lifecycle]
            kind = "persistent"
            ttl = "2h"
            extend = "on-every-request"
            absolute_ttl = "1d"
            [redis]
            url = "redis://localhost"
            cluster = ["redis://a"]
            key_prefix = "app:"
            connect_timeout = "1s"
            response_timeout = "off"
            [postgres]
            url = "postgres://app@db/app"
            table = "web_sessions"
            schema = "auth"
            pool_size = 3
            connect_timeout = "2s"
            sweep_interval = "5m"
            [sqlite]
            path = "/tmp/s.db"
            url = "sqlite:///tmp/s.db"
            table = "web_sessions"
            pool_size = 2
            busy_timeout = "1s"
            sweep_interval = "off"
            [transport]
            kind = "cookie-or-header"
            header = "x-session"
            response_header = "x-new-session"
            "#
        )))
    }

    #[test]
    fn key_lists_match_the_structs() {
        let config: SessionConfig = everything().extract().expect("valid");
        let json = serde_json::to_value(&config).expect("serializes");
        let object = json.as_object().expect("an object");
        let mut top: Vec<&str> = object.keys().map(String::as_str).collect();
        top.extend(["secret_key", "fallback_keys"]); // never serialized
        top.sort_unstable();
        let mut expected = TOP_KEYS.to_vec();
        expected.sort_unstable();
        assert_eq!(top, expected);
        for (section, fields) in SECTIONS {
            let mut keys: Vec<&str> = object[*section]
                .as_object()
                .expect("a table")
                .keys()
                .map(String::as_str)
                .collect();
            keys.sort_unstable();
            let mut expected = fields.to_vec();
            expected.sort_unstable();
            assert_eq!(keys, expected, "[{section}]");
        }
    }

    #[test]
    fn key_by_key_extraction_agrees_with_serde() {
        let figment = everything();
        let mut extractor = Extractor {
            figment: &figment,
            problems: Vec::new(),
        };
        let by_key = extractor.extract_all().expect("extracts");
        assert!(extractor.problems.is_empty(), "{:?}", extractor.problems);
        let by_serde: SessionConfig = figment.extract().expect("valid");
        assert_eq!(by_key, by_serde);
        assert_ne!(by_key, SessionConfig::default());
    }
}
