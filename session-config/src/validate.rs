//! The rules serde cannot check: the runtime's cookie rules (mapped to their keys), TTL
//! ranges, Redis settings, the number of fallback keys. Each problem names its key;
//! `extract` adds the value and the source.

use std::time::Duration;

use actix_web::http::header::HeaderName;

use session::{
    config::{CookieRule, CookieSetting},
    storage::redact_url,
};

use crate::{
    config::{CookieConfig, LifecycleConfig, SessionConfig, StoreKind, Timeout},
    error::Problem,
};

/// The longest TTL: browsers cap a cookie's `Max-Age` at 400 days (RFC 6265bis).
const MAX_TTL: Duration = Duration::from_secs(400 * 24 * 60 * 60);

/// More fallback keys than the runtime accepts is a mistake (each costs a verification per
/// bad cookie).
const MAX_FALLBACK_KEYS: usize = session::config::MAX_FALLBACK_KEYS;

/// Checks what serde cannot: the cookie rules, TTL ranges, Redis settings. With
/// `check_store`, also the settings of the chosen store.
pub(crate) fn validate(config: &SessionConfig, check_store: bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    check_cookie(&config.cookie, &mut problems);
    check_lifecycle(&config.lifecycle, &mut problems);
    check_redis(config, check_store, &mut problems);
    check_sql(config, check_store, &mut problems);
    check_transport(config, &mut problems);
    if config.devices.last_seen_interval > MAX_TTL {
        problems.push(Problem::new(
            "devices.last_seen_interval",
            "must be at most 400 days, the longest a session can live",
        ));
    }
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

/// The runtime's cookie rules (`CookieSettings::check`), each broken one as a problem
/// about its key.
fn check_cookie(cookie: &CookieConfig, problems: &mut Vec<Problem>) {
    let mut broken = cookie.to_settings().check();
    broken.sort_by_key(report_rank);
    problems.extend(broken.into_iter().map(cookie_problem));
}

/// Where a broken rule comes in the report (a stable sort keeps the runtime's order
/// otherwise): the name first, then what its prefix requires in the order the keys are
/// usually written (`secure`, `path`, `domain`), then the other rules.
fn report_rank(rule: &CookieRule) -> u8 {
    match rule {
        CookieRule::InvalidName { .. } => 0,
        CookieRule::HostPrefixNotSecure { .. } | CookieRule::SecurePrefixNotSecure { .. } => 1,
        CookieRule::HostPrefixPathNotRoot { .. } => 2,
        CookieRule::HostPrefixWithDomain { .. } => 3,
        _ => 4,
    }
}

/// A broken cookie rule as a problem about the key of the setting at fault.
pub(crate) fn cookie_problem(rule: CookieRule) -> Problem {
    let key = match rule.setting() {
        CookieSetting::Name => "cookie.name",
        CookieSetting::Secure => "cookie.secure",
        CookieSetting::SameSite => "cookie.same_site",
        CookieSetting::Path => "cookie.path",
        CookieSetting::Domain => "cookie.domain",
        CookieSetting::Partitioned => "cookie.partitioned",
        _ => "cookie",
    };
    let value = match &rule {
        CookieRule::PathNotAbsolute { path } | CookieRule::InvalidPath { path } => quoted(path),
        CookieRule::InvalidDomain { domain } => quoted(domain),
        _ => None,
    };
    Problem::new(key, cookie_message(&rule))
        .with_value(value)
        .with_cookie_rule(rule)
}

/// What is wrong, in the configuration's words (its key names); the runtime's own sentence
/// for a rule this crate has no words of its own for.
fn cookie_message(rule: &CookieRule) -> String {
    // The prefix as the name spells it (browsers match it in any case).
    let prefix =
        |name: &str, prefix: &'static str| name.get(..prefix.len()).unwrap_or(prefix).to_owned();
    match rule {
        CookieRule::InvalidName { name } if name.is_empty() => "must not be empty".to_owned(),
        CookieRule::InvalidName { .. } => {
            "is not a valid cookie name: use letters, digits and !#$%&'*+-.^_`|~ only".to_owned()
        }
        CookieRule::HostPrefixNotSecure { name } => format!(
            "a cookie named {name:?} (cookie.name) must be Secure: browsers reject `{}` cookies without it",
            prefix(name, "__Host-")
        ),
        CookieRule::SecurePrefixNotSecure { name } => format!(
            "a cookie named {name:?} (cookie.name) must be Secure: browsers reject `{}` cookies without it",
            prefix(name, "__Secure-")
        ),
        CookieRule::HostPrefixPathNotRoot { name, .. } => format!(
            "a cookie named {name:?} (cookie.name) must have path \"/\": browsers reject `{}` cookies with another path",
            prefix(name, "__Host-")
        ),
        CookieRule::HostPrefixWithDomain { name, .. } => format!(
            "a cookie named {name:?} (cookie.name) must not have a Domain: remove cookie.domain or rename the cookie"
        ),
        CookieRule::PartitionedNotSecure => "partitioned = true requires cookie.secure = true: browsers reject Partitioned cookies that are not Secure".to_owned(),
        CookieRule::SameSiteNoneNotSecure => "same_site = \"none\" requires cookie.secure = true: browsers reject SameSite=None cookies that are not Secure".to_owned(),
        CookieRule::PathNotAbsolute { .. } => "must start with \"/\"".to_owned(),
        CookieRule::InvalidPath { .. } => "must contain no ';' or control characters".to_owned(),
        CookieRule::InvalidDomain { .. } => "must be a host name such as \"example.com\" (leave it unset for the current host only)".to_owned(),
        _ => rule.to_string(),
    }
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
    // An enabled cache that can hold nothing, or nothing for any time, is a mistake.
    if redis.cache.enabled {
        if redis.cache.capacity == 0 {
            problems.push(Problem::new(
                "redis.cache.capacity",
                "must be at least 1 when redis.cache.enabled is true",
            ));
        }
        if redis.cache.max_age.is_zero() {
            problems.push(Problem::new(
                "redis.cache.max_age",
                "must be longer than zero when redis.cache.enabled is true",
            ));
        }
    }
}

/// The header names of `[transport]` must be HTTP header names (checked whatever the kind,
/// so that switching `kind` never reveals an old mistake).
fn check_transport(config: &SessionConfig, problems: &mut Vec<Problem>) {
    let transport = &config.transport;
    let names = [
        ("transport.header", Some(&transport.header)),
        (
            "transport.response_header",
            transport.response_header.as_ref(),
        ),
    ];
    for (key, name) in names {
        let Some(name) = name else { continue };
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            problems.push(
                Problem::new(
                    key,
                    "is not an HTTP header name: use letters, digits and !#$%&'*+-.^_`|~ only",
                )
                .with_value(quoted(name)),
            );
        }
    }
}

/// `[postgres]` and `[sqlite]`: a database when the store is chosen, URLs of the right
/// scheme, pools of at least one connection, intervals longer than zero. Table names are
/// the store's to check (its refusal names the key).
fn check_sql(config: &SessionConfig, check_store: bool, problems: &mut Vec<Problem>) {
    let (postgres, sqlite) = (&config.postgres, &config.sqlite);
    if check_store && config.store == StoreKind::Postgres && postgres.url.is_none() {
        problems.push(Problem::new(
            "store",
            "store = \"postgres\" needs a database: set postgres.url (SESSION_POSTGRES__URL), e.g. \"postgres://app:secret@127.0.0.1/app\"",
        ));
    }
    if check_store && config.store == StoreKind::Sqlite {
        match (&sqlite.path, &sqlite.url) {
            (None, None) => problems.push(Problem::new(
                "store",
                "store = \"sqlite\" needs a database file: set sqlite.path (SESSION_SQLITE__PATH), e.g. \"/var/lib/myapp/sessions.db\"",
            )),
            (Some(_), Some(_)) => problems.push(Problem::new(
                "sqlite.url",
                "set either sqlite.path or sqlite.url, not both",
            )),
            _ => {}
        }
    }
    if let Some(url) = &postgres.url {
        check_scheme(
            "postgres.url",
            url,
            &["postgres://", "postgresql://"],
            problems,
        );
    }
    if let Some(url) = &sqlite.url {
        check_scheme("sqlite.url", url, &["sqlite:"], problems);
    }
    if sqlite
        .path
        .as_deref()
        .is_some_and(|path| path.trim().is_empty())
    {
        problems.push(Problem::new("sqlite.path", "must name a file"));
    }
    for (key, size) in [
        ("postgres.pool_size", postgres.pool_size),
        ("sqlite.pool_size", sqlite.pool_size),
    ] {
        if size == 0 {
            problems.push(Problem::new(key, "must be at least 1"));
        }
    }
    for (key, interval) in [
        ("postgres.sweep_interval", postgres.sweep_interval),
        ("sqlite.sweep_interval", sqlite.sweep_interval),
    ] {
        if interval == Some(Timeout::After(Duration::ZERO)) {
            problems.push(Problem::new(
                key,
                "must be longer than zero (use \"off\" for no background sweeps)",
            ));
        }
    }
    for (key, timeout) in [
        ("postgres.connect_timeout", postgres.connect_timeout),
        ("sqlite.busy_timeout", sqlite.busy_timeout),
    ] {
        if timeout == Some(Duration::ZERO) {
            problems.push(Problem::new(key, "must be longer than zero"));
        }
    }
}

const REDIS_SCHEMES: &[&str] = &["redis://", "rediss://", "redis+unix://", "unix://"];

fn check_redis_url(key: &str, url: &str, problems: &mut Vec<Problem>) {
    check_scheme(key, url, REDIS_SCHEMES, problems);
}

/// A URL must start with one of `schemes` and name something after it.
fn check_scheme(key: &str, url: &str, schemes: &[&str], problems: &mut Vec<Problem>) {
    let lower = url.to_ascii_lowercase();
    let known = schemes.iter().find(|scheme| lower.starts_with(*scheme));
    if known.is_none_or(|scheme| url.len() <= scheme.len()) {
        problems.push(
            Problem::new(
                key,
                format!("expected a URL starting with {}", schemes.join(", ")),
            )
            .with_value(quoted(&redact_url(url))),
        );
    }
}
