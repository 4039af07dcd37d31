//! From a [`Figment`] to a checked [`SessionConfig`], reporting every mistake at once.

use std::time::Duration;

use figment::{
    Figment,
    value::{Dict, Value},
};
use serde::{Deserialize, de::DeserializeOwned};

use crate::{
    ConfigError, CookieConfig, LifecycleConfig, RedisConfig, SecretKey, SessionConfig, StoreKind,
    duration,
    error::{Problem, from_figment_error, source_from_metadata, source_of, value_of},
    model::Timeout,
};

/// The top-level keys.
pub(crate) const TOP_KEYS: &[&str] = &[
    "store",
    "secret_key",
    "fallback_keys",
    "allow_ephemeral_key",
    "lazy_loading",
    "cookie",
    "lifecycle",
    "redis",
];
/// The tables and their keys.
pub(crate) const SECTIONS: &[(&str, &[&str])] = &[
    (
        "cookie",
        &[
            "name",
            "secure",
            "http_only",
            "partitioned",
            "same_site",
            "path",
            "domain",
            "content_security",
            "verified_cache",
        ],
    ),
    ("lifecycle", &["kind", "ttl", "extend", "absolute_ttl"]),
    (
        "redis",
        &[
            "url",
            "cluster",
            "key_prefix",
            "connect_timeout",
            "response_timeout",
        ],
    ),
];

/// The longest TTL: browsers cap a cookie's `Max-Age` at 400 days (RFC 6265bis).
pub(crate) const MAX_TTL: Duration = Duration::from_secs(400 * 24 * 60 * 60);

/// More fallback keys than the runtime accepts is a mistake (each costs a verification per
/// bad cookie).
pub(crate) const MAX_FALLBACK_KEYS: usize = session::config::MAX_FALLBACK_KEYS;

pub(crate) fn from_figment(figment: &Figment) -> Result<SessionConfig, ConfigError> {
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
            key == problem.key() || (problem.key() == "store" && key.starts_with("redis."))
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
        };
        Some(SessionConfig {
            store,
            secret_key,
            fallback_keys,
            allow_ephemeral_key,
            lazy_loading,
            cookie,
            lifecycle,
            redis,
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
                        .map(|metadata| source_from_metadata(metadata, &key));
                    self.problems.push(
                        Problem::new(key, message)
                            .with_value(Some(crate::secret::REDACTED.to_owned()))
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
                        "unknown key; did you mean `{meant}` (environment variable SESSION_{})?",
                        meant.to_ascii_uppercase().replace('.', "__")
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
            .map(|metadata| source_from_metadata(metadata, key));
        // A mistyped `secret_key` holds a secret all the same.
        let shown = if may_be_secret(key) {
            crate::secret::REDACTED.to_owned()
        } else {
            crate::error::render_value(key, value)
        };
        self.problems.push(
            Problem::new(key, message)
                .with_value(Some(shown))
                .with_source(source),
        );
    }
}

/// Whether an unknown key's value may be a secret, by its name.
fn may_be_secret(key: &str) -> bool {
    let name = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
    ["key", "secret", "pass", "token", "cred"]
        .iter()
        .any(|word| name.contains(word))
        || closest(&name, &["secret_key", "fallback_keys"]).is_some()
}

/// "unknown key", with the likely intended key when one is close, else the list of keys.
fn unknown_key_message(key: &str, known: &[&str]) -> String {
    match closest(key, known) {
        Some(meant) => format!("unknown key; did you mean `{meant}`?"),
        None => format!("unknown key, expected one of {}", known.join(", ")),
    }
}

/// The known key within two edits (insertions, deletions, substitutions, swaps) of `key`.
pub(crate) fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|candidate| (edit_distance(key, candidate), *candidate))
        .filter(|(distance, _)| *distance <= 2 && *distance < key.len())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Optimal-string-alignment distance: Levenshtein plus swaps of neighbours.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// A required duration, for key-by-key extraction.
#[derive(Deserialize)]
#[serde(transparent)]
struct Dur(#[serde(with = "duration::required")] Duration);

/// Checks what serde cannot: cookie-name prefixes, TTL ranges, Redis settings. With
/// `check_store`, also the settings of the chosen store.
pub(crate) fn validate(config: &SessionConfig, check_store: bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    check_cookie(&config.cookie, &mut problems);
    check_lifecycle(&config.lifecycle, &mut problems);
    check_redis(config, check_store, &mut problems);
    if config.fallback_keys.len() > MAX_FALLBACK_KEYS {
        problems.push(Problem::new(
            "fallback_keys",
            format!(
                "{} fallback keys, at most {MAX_FALLBACK_KEYS} are allowed: drop the oldest",
                config.fallback_keys.len()
            ),
        ));
    }
    problems
}

fn quoted(text: &str) -> Option<String> {
    Some(format!("{text:?}"))
}

fn check_cookie(cookie: &CookieConfig, problems: &mut Vec<Problem>) {
    let name = &cookie.name;
    if name.is_empty() {
        problems.push(Problem::new("cookie.name", "must not be empty"));
    } else if let Some(bad) = name.chars().find(|c| !is_token_char(*c)) {
        problems.push(Problem::new(
            "cookie.name",
            format!(
                "{bad:?} is not allowed in a cookie name (letters, digits and !#$%&'*+-.^_`|~ are)"
            ),
        ));
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("__host-") {
        let prefix = &name[..7];
        if !cookie.secure {
            problems.push(Problem::new(
                "cookie.secure",
                format!(
                    "a cookie named {name:?} (cookie.name) must be Secure: browsers reject `{prefix}` cookies without it"
                ),
            ));
        }
        if cookie.path != "/" {
            problems.push(Problem::new(
                "cookie.path",
                format!(
                    "a cookie named {name:?} (cookie.name) must have path \"/\": browsers reject `{prefix}` cookies with another path"
                ),
            ));
        }
        if cookie.domain.is_some() {
            problems.push(Problem::new(
                "cookie.domain",
                format!(
                    "a cookie named {name:?} (cookie.name) must not have a Domain: remove cookie.domain or rename the cookie"
                ),
            ));
        }
    } else if lower.starts_with("__secure-") && !cookie.secure {
        let prefix = &name[..9];
        problems.push(Problem::new(
            "cookie.secure",
            format!(
                "a cookie named {name:?} (cookie.name) must be Secure: browsers reject `{prefix}` cookies without it"
            ),
        ));
    }
    if cookie.partitioned && !cookie.secure {
        problems.push(Problem::new(
            "cookie.partitioned",
            "partitioned = true requires cookie.secure = true: browsers reject Partitioned cookies that are not Secure",
        ));
    }
    if cookie.same_site == crate::SameSiteConfig::None && !cookie.secure {
        problems.push(Problem::new(
            "cookie.same_site",
            "same_site = \"none\" requires cookie.secure = true: browsers reject SameSite=None cookies that are not Secure",
        ));
    }
    if !cookie.path.starts_with('/') || cookie.path.contains(|c: char| c == ';' || c.is_control()) {
        problems.push(
            Problem::new(
                "cookie.path",
                "must start with \"/\" and contain no ';' or control characters",
            )
            .with_value(quoted(&cookie.path)),
        );
    }
    if let Some(domain) = &cookie.domain
        && (domain.is_empty() || domain.contains(is_bad_domain_char))
    {
        problems.push(
            Problem::new(
                "cookie.domain",
                "must be a host name such as \"example.com\" (leave it unset for the current host only)",
            )
            .with_value(quoted(domain)),
        );
    }
}

fn is_bad_domain_char(c: char) -> bool {
    c == ';' || c == ',' || c.is_whitespace() || c.is_control()
}

/// RFC 9110 `tchar`.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn check_lifecycle(lifecycle: &LifecycleConfig, problems: &mut Vec<Problem>) {
    for (key, value) in [
        ("lifecycle.ttl", Some(lifecycle.ttl)),
        ("lifecycle.absolute_ttl", lifecycle.absolute_ttl),
    ] {
        let Some(value) = value else { continue };
        if value.is_zero() {
            problems.push(Problem::new(key, "must be longer than zero"));
        } else if value > MAX_TTL {
            problems.push(Problem::new(
                key,
                "must be at most 400 days: browsers cap cookie lifetimes there (RFC 6265bis)",
            ));
        }
    }
}

fn check_redis(config: &SessionConfig, check_store: bool, problems: &mut Vec<Problem>) {
    let redis = &config.redis;
    if check_store && config.store == StoreKind::Redis {
        match (&redis.url, redis.cluster.is_empty()) {
            (None, true) => problems.push(
                Problem::new(
                    "store",
                    "store = \"redis\" needs a server: set redis.url (SESSION_REDIS__URL), e.g. \"redis://127.0.0.1:6379\", or redis.cluster (SESSION_REDIS__CLUSTER) to a list of node URLs",
                ),
            ),
            (Some(_), false) => problems.push(Problem::new(
                "redis.cluster",
                "set either redis.url (one server) or redis.cluster (cluster nodes), not both",
            )),
            _ => {}
        }
    }
    if let Some(url) = &redis.url {
        check_redis_url("redis.url", url, problems);
    }
    for (index, url) in redis.cluster.iter().enumerate() {
        check_redis_url(&format!("redis.cluster[{index}]"), url, problems);
    }
    for (key, timeout) in [
        ("redis.connect_timeout", redis.connect_timeout),
        ("redis.response_timeout", redis.response_timeout),
    ] {
        if timeout == Some(Timeout::After(Duration::ZERO)) {
            problems.push(Problem::new(
                key,
                "must be longer than zero (use \"off\" for no timeout)",
            ));
        }
    }
}

const REDIS_SCHEMES: &[&str] = &["redis://", "rediss://", "redis+unix://", "unix://"];

fn check_redis_url(key: &str, url: &str, problems: &mut Vec<Problem>) {
    let lower = url.to_ascii_lowercase();
    if !REDIS_SCHEMES.iter().any(|scheme| lower.starts_with(scheme)) || url.len() <= 8 {
        problems.push(
            Problem::new(
                key,
                format!("expected a URL starting with {}", REDIS_SCHEMES.join(", ")),
            )
            .with_value(quoted(&crate::model::redact_url(url))),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        assert_eq!(closest("stroe", TOP_KEYS), Some("store"));
        assert_eq!(closest("secret_kye", TOP_KEYS), Some("secret_key"));
        assert_eq!(closest("nmae", &["name", "path"]), Some("name"));
        assert_eq!(closest("manager", TOP_KEYS), None);
        assert_eq!(closest("x", &["ttl"]), None);
    }

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

    #[test]
    fn unknown_keys_that_may_hold_secrets_are_redacted() {
        assert!(may_be_secret("secret_kye"));
        assert!(may_be_secret("secretkey"));
        assert!(may_be_secret("redis.password"));
        assert!(may_be_secret("fallback_kyes"));
        assert!(!may_be_secret("cookie.nmae"));
    }
}
