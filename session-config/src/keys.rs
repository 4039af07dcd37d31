//! The names this crate knows: the configuration keys, their environment variables, the
//! keys whose values must never be shown, and the closest known key to a mistyped one.

/// The environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "SESSION_CONFIG";
/// The file read when [`CONFIG_ENV`] is unset, if it exists in the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "session.toml";
/// The prefix of the environment variables.
pub const ENV_PREFIX: &str = "SESSION_";

/// The figment name of the provider that supplies
/// [`SessionConfig::default`](crate::SessionConfig).
pub(crate) const DEFAULTS_PROVIDER: &str = "session-config defaults";
/// The figment name of the `SESSION_*` environment provider, whose metadata names each
/// value's variable.
pub(crate) const ENV_PROVIDER: &str = "`SESSION_` environment variables";

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
    "postgres",
    "sqlite",
    "transport",
    "devices",
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
            "cache",
        ],
    ),
    (
        "postgres",
        &[
            "url",
            "table",
            "schema",
            "pool_size",
            "connect_timeout",
            "sweep_interval",
        ],
    ),
    (
        "sqlite",
        &[
            "path",
            "url",
            "table",
            "pool_size",
            "busy_timeout",
            "sweep_interval",
        ],
    ),
    ("transport", &["kind", "header", "response_header"]),
    (
        "devices",
        &["last_seen_interval", "record_user_agent", "client_ip"],
    ),
];

/// The keys of the `[redis.cache]` table, inside `[redis]`.
pub(crate) const REDIS_CACHE_KEYS: &[&str] = &["enabled", "capacity", "max_age"];

/// The figment path of a key: `fallback_keys[1]` -> `["fallback_keys"]`,
/// `cookie.name` -> `["cookie", "name"]`.
pub(crate) fn segments(key: &str) -> Vec<&str> {
    let key = key.split('[').next().unwrap_or(key);
    key.split('.').filter(|s| !s.is_empty()).collect()
}

/// The environment variable for a key path: `["cookie", "name"]` -> `SESSION_COOKIE__NAME`.
pub(crate) fn env_var<S: AsRef<str>>(path: &[S]) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|segment| segment.as_ref().to_ascii_uppercase())
        .collect();
    format!("{ENV_PREFIX}{}", parts.join("__"))
}

/// Whether the key's value must never be shown.
pub(crate) fn is_secret(key: &str) -> bool {
    key == "secret_key" || key.starts_with("secret_key.") || key.starts_with("fallback_keys")
}

/// Whether an unknown key's value may be a secret, by its name.
pub(crate) fn may_be_secret(key: &str) -> bool {
    let name = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
    ["key", "secret", "pass", "token", "cred"]
        .iter()
        .any(|word| name.contains(word))
        || closest(&name, &["secret_key", "fallback_keys"]).is_some()
}

/// Whether the key holds URLs, which may carry a password.
pub(crate) fn is_url(key: &str) -> bool {
    key.starts_with("redis.url") || key.starts_with("redis.cluster") || key == "postgres.url"
}

/// The known key within two edits (insertions, deletions, substitutions, swaps of neighbours:
/// the optimal-string-alignment distance) of `key`.
pub(crate) fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|candidate| (strsim::osa_distance(key, candidate), *candidate))
        .filter(|(distance, _)| *distance <= 2 && *distance < key.len())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
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

    #[test]
    fn unknown_keys_that_may_hold_secrets_are_redacted() {
        assert!(may_be_secret("secret_kye"));
        assert!(may_be_secret("secretkey"));
        assert!(may_be_secret("redis.password"));
        assert!(may_be_secret("fallback_kyes"));
        assert!(!may_be_secret("cookie.nmae"));
    }

    #[test]
    fn env_var_names() {
        assert_eq!(env_var(&segments("cookie.name")), "SESSION_COOKIE__NAME");
        assert_eq!(
            env_var(&segments("fallback_keys[1]")),
            "SESSION_FALLBACK_KEYS"
        );
        assert_eq!(env_var(&["store"]), "SESSION_STORE");
    }
}
