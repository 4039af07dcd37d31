//! The shipped `config.example.toml` is the defaults, and lists every key: it cannot rot.

use figment::{
    Figment,
    providers::{Format, Toml},
};
use session_config::SessionConfig;

const EXAMPLE: &str = include_str!("../../config.example.toml");

#[test]
fn example_parses_to_the_defaults() {
    let figment = Figment::from(Toml::string(EXAMPLE));
    // Alone, without the defaults underneath: every key with a default must be written out.
    let config: SessionConfig = figment.extract().expect("config.example.toml parses");
    let expected = SessionConfig {
        // The only key whose default depends on the build: commented out in the file.
        allow_ephemeral_key: config.allow_ephemeral_key,
        ..SessionConfig::default()
    };
    assert_eq!(config, expected);
    assert_eq!(
        SessionConfig::from_figment(
            &Figment::from(SessionConfig::default()).merge(Toml::string(EXAMPLE))
        )
        .expect("config.example.toml is valid"),
        SessionConfig::default()
    );
}

#[test]
fn example_lists_every_key() {
    let config_keys = [
        ("", "store"),
        ("", "secret_key"),
        ("", "fallback_keys"),
        ("", "allow_ephemeral_key"),
        ("", "lazy_loading"),
        ("cookie", "name"),
        ("cookie", "secure"),
        ("cookie", "http_only"),
        ("cookie", "partitioned"),
        ("cookie", "same_site"),
        ("cookie", "path"),
        ("cookie", "domain"),
        ("cookie", "content_security"),
        ("cookie", "verified_cache"),
        ("lifecycle", "kind"),
        ("lifecycle", "ttl"),
        ("lifecycle", "extend"),
        ("lifecycle", "absolute_ttl"),
        ("redis", "url"),
        ("redis", "cluster"),
        ("redis", "key_prefix"),
        ("redis", "connect_timeout"),
        ("redis", "response_timeout"),
        ("postgres", "url"),
        ("postgres", "table"),
        ("postgres", "schema"),
        ("postgres", "pool_size"),
        ("postgres", "connect_timeout"),
        ("postgres", "sweep_interval"),
        ("sqlite", "path"),
        ("sqlite", "url"),
        ("sqlite", "table"),
        ("sqlite", "pool_size"),
        ("sqlite", "busy_timeout"),
        ("sqlite", "sweep_interval"),
        ("transport", "kind"),
        ("transport", "header"),
        ("transport", "response_header"),
        ("devices", "last_seen_interval"),
        ("devices", "record_user_agent"),
        ("devices", "client_ip"),
        ("redis.cache", "enabled"),
        ("redis.cache", "capacity"),
        ("redis.cache", "max_age"),
    ];
    // (table, key) for each `key = value` line, commented out or not, and whether the line
    // above it is a comment (the key's one-line description).
    let mut found = Vec::new();
    let mut table = String::new();
    let mut previous_is_comment = false;
    for line in EXAMPLE.lines() {
        let line = line.trim();
        let assigned = assignment(line.trim_start_matches('#').trim());
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = name.trim().to_owned();
        } else if let Some(key) = assigned {
            found.push((table.clone(), key.to_owned(), previous_is_comment));
        }
        previous_is_comment = line.starts_with('#') && assigned.is_none();
    }
    for (table, key) in config_keys {
        let entry = found.iter().find(|(t, k, _)| t == table && k == key);
        let Some((_, _, documented)) = entry else {
            panic!("config.example.toml lacks `{key}` in [{table}]");
        };
        assert!(
            documented,
            "`{key}` in [{table}] has no comment line above it"
        );
    }
    assert_eq!(found.len(), config_keys.len(), "unexpected keys: {found:?}");
}

/// The key of a `key = value` line.
fn assignment(code: &str) -> Option<&str> {
    let (key, _) = code.split_once(" = ")?;
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_')).then_some(key)
}
