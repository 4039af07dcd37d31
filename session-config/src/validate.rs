//! The rules serde cannot check: cookie attributes, TTL ranges, Redis settings, the number
//! of fallback keys. Each problem names its key; `extract` adds the value
//! and the source.

use std::time::Duration;

use session::storage::redact_url;

use crate::{
    config::{CookieConfig, LifecycleConfig, SameSiteConfig, SessionConfig, StoreKind, Timeout},
    error::Problem,
};

/// The longest TTL: browsers cap a cookie's `Max-Age` at 400 days (RFC 6265bis).
const MAX_TTL: Duration = Duration::from_secs(400 * 24 * 60 * 60);

/// More fallback keys than the runtime accepts is a mistake (each costs a verification per
/// bad cookie).
const MAX_FALLBACK_KEYS: usize = session::config::MAX_FALLBACK_KEYS;

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
    if cookie.same_site == SameSiteConfig::None && !cookie.secure {
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
            .with_value(quoted(&redact_url(url))),
        );
    }
}
