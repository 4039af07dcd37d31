//! Loading: defaults, file, environment, their priority, and every kind of error.
// `figment::Jail` closures return `figment::Result`, whose error is large; fine in tests.
#![allow(clippy::result_large_err)]

use std::time::Duration;

use base64::Engine as _;
use figment::{
    Figment, Jail,
    providers::{Env, Serialized},
};
use session_config::{
    ConfigError, ContentSecurityConfig, LifecycleKind, SameSiteConfig, SessionConfig, StoreKind,
    Timeout, TtlExtension, ValueSource,
};

fn key_b64(byte: u8, len: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(vec![byte; len])
}

/// The error of a load that must fail, as figment's error type so `?` works in a jail.
fn load_err() -> figment::Result<ConfigError> {
    match SessionConfig::load() {
        Ok(config) => Err(format!("expected an error, loaded {config:?}").into()),
        Err(error) => Ok(error),
    }
}

fn load_ok() -> figment::Result<SessionConfig> {
    SessionConfig::load().map_err(|e| e.to_string().into())
}

fn check(condition: bool, what: impl std::fmt::Display) -> figment::Result<()> {
    if condition {
        Ok(())
    } else {
        Err(what.to_string().into())
    }
}

#[test]
fn defaults_equal_default() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        assert_eq!(load_ok()?, SessionConfig::default());
        Ok(())
    });
}

#[test]
fn defaults_match_the_runtime() {
    let config = SessionConfig::default();
    assert_eq!(config.store, StoreKind::Memory);
    assert_eq!(config.secret_key, None);
    assert!(config.fallback_keys.is_empty());
    assert_eq!(config.allow_ephemeral_key, cfg!(debug_assertions));
    assert_eq!(config.cookie.name, "id");
    assert!(config.cookie.secure);
    assert!(config.cookie.http_only);
    assert_eq!(config.cookie.same_site, SameSiteConfig::Lax);
    assert_eq!(config.cookie.path, "/");
    assert_eq!(config.cookie.domain, None);
    assert_eq!(
        config.cookie.content_security,
        ContentSecurityConfig::Private
    );
    assert_eq!(
        config.cookie.verified_cache,
        session::config::DEFAULT_VERIFIED_COOKIE_CACHE
    );
    assert_eq!(config.lifecycle.kind, LifecycleKind::Browser);
    assert_eq!(config.lifecycle.ttl, Duration::from_secs(86_400));
    assert_eq!(config.lifecycle.extend, TtlExtension::OnStateChanges);
    assert_eq!(config.lifecycle.absolute_ttl, None);
    assert_eq!(config.redis.url, None);
    assert!(config.redis.cluster.is_empty());
    assert_eq!(config.redis.key_prefix, "session:");
}

#[test]
fn file_only() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let key = key_b64(7, 64);
        jail.create_file(
            "session.toml",
            &format!(
                r#"
                store = "cookie"
                secret_key = "{key}"
                allow_ephemeral_key = false

                [cookie]
                name = "__Host-sid"
                same_site = "strict"
                http_only = false
                content_security = "signed"
                verified_cache = 0

                [lifecycle]
                kind = "persistent"
                ttl = "30m"
                extend = "on-every-request"
                absolute_ttl = "12h"

                [redis]
                cluster = ["redis://a:7000", "redis://b:7001"]
                key_prefix = "app:"
                connect_timeout = "off"
                response_timeout = "750ms"
                "#
            ),
        )?;
        let config = load_ok()?;
        assert_eq!(config.store, StoreKind::Cookie);
        assert_eq!(
            config.secret_key,
            session_config::SecretKey::from_base64(&key).ok()
        );
        assert!(!config.allow_ephemeral_key);
        assert_eq!(config.cookie.name, "__Host-sid");
        assert_eq!(config.cookie.same_site, SameSiteConfig::Strict);
        assert!(!config.cookie.http_only);
        assert!(config.cookie.secure);
        assert_eq!(
            config.cookie.content_security,
            ContentSecurityConfig::Signed
        );
        assert_eq!(config.cookie.verified_cache, 0);
        assert_eq!(config.lifecycle.kind, LifecycleKind::Persistent);
        assert_eq!(config.lifecycle.ttl, Duration::from_secs(1800));
        assert_eq!(config.lifecycle.extend, TtlExtension::OnEveryRequest);
        assert_eq!(
            config.lifecycle.absolute_ttl,
            Some(Duration::from_secs(12 * 3600))
        );
        assert_eq!(config.redis.cluster, ["redis://a:7000", "redis://b:7001"]);
        assert_eq!(config.redis.key_prefix, "app:");
        assert_eq!(config.redis.connect_timeout, Some(Timeout::Off));
        assert_eq!(
            config.redis.response_timeout,
            Some(Timeout::After(Duration::from_millis(750)))
        );
        Ok(())
    });
}

#[test]
fn env_overrides_file_with_nested_keys() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "session.toml",
            r#"
            store = "cookie"
            [cookie]
            name = "from-file"
            path = "/app"
            [lifecycle]
            ttl = "2h"
            "#,
        )?;
        jail.set_env("SESSION_STORE", "memory");
        jail.set_env("SESSION_COOKIE__NAME", "from-env");
        jail.set_env("SESSION_COOKIE__SAME_SITE", "strict");
        jail.set_env("SESSION_LIFECYCLE__TTL", "30m");
        jail.set_env("SESSION_LIFECYCLE__KIND", "persistent");
        jail.set_env("SESSION_REDIS__URL", "redis://cache:6379");
        jail.set_env("SESSION_REDIS__CLUSTER", "[]");
        jail.set_env("SESSION_ALLOW_EPHEMERAL_KEY", "false");
        jail.set_env("SESSION_REDIS__KEY_PREFIX", "\"123\"");
        jail.set_env("SESSION_COOKIE__VERIFIED_CACHE", "64");
        let config = load_ok()?;
        assert_eq!(config.cookie.verified_cache, 64);
        assert_eq!(
            config.redis.key_prefix, "123",
            "a quoted number is a string"
        );
        assert_eq!(config.store, StoreKind::Memory);
        assert_eq!(config.cookie.name, "from-env");
        assert_eq!(config.cookie.path, "/app", "the file's value stays");
        assert_eq!(config.cookie.same_site, SameSiteConfig::Strict);
        assert_eq!(config.lifecycle.ttl, Duration::from_secs(1800));
        assert_eq!(config.lifecycle.kind, LifecycleKind::Persistent);
        assert_eq!(config.redis.url.as_deref(), Some("redis://cache:6379"));
        assert!(!config.allow_ephemeral_key);
        Ok(())
    });
}

#[test]
fn env_only_lists_and_keys() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let (k1, k2) = (key_b64(1, 64), key_b64(2, 80));
        jail.set_env("SESSION_SECRET_KEY", &k1);
        jail.set_env("SESSION_FALLBACK_KEYS", format!("[\"{k2}\"]"));
        jail.set_env(
            "SESSION_REDIS__CLUSTER",
            "[\"redis://a:1\", \"redis://b:2\"]",
        );
        jail.set_env("SESSION_LIFECYCLE__ABSOLUTE_TTL", "3600");
        // Not ours: ignored rather than reported as unknown keys.
        jail.set_env("SESSION_MANAGER", "local/host:@/tmp/.ICE-unix/1");
        jail.set_env("SESSIONS", "x");
        let config = load_ok()?;
        assert_eq!(
            config.secret_key,
            session_config::SecretKey::from_base64(&k1).ok()
        );
        assert_eq!(config.fallback_keys.len(), 1);
        assert_eq!(config.redis.cluster.len(), 2);
        assert_eq!(
            config.lifecycle.absolute_ttl,
            Some(Duration::from_secs(3600))
        );
        Ok(())
    });
}

#[test]
fn session_config_names_the_file() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("session.toml", "store = \"memory\"")?;
        jail.create_file("other.toml", "store = \"cookie\"")?;
        jail.set_env("SESSION_CONFIG", "other.toml");
        assert_eq!(load_ok()?.store, StoreKind::Cookie);

        jail.set_env("SESSION_CONFIG", "missing.toml");
        let error = load_err()?.to_string();
        check(
            error
                == "environment variable SESSION_CONFIG: names the configuration file \"missing.toml\", which does not exist",
            &error,
        )?;

        let config = SessionConfig::from_file("session.toml").map_err(|e| e.to_string())?;
        assert_eq!(config.store, StoreKind::Memory);
        jail.set_env("SESSION_STORE", "cookie");
        let config = SessionConfig::from_file("session.toml").map_err(|e| e.to_string())?;
        assert_eq!(
            config.store,
            StoreKind::Cookie,
            "the environment wins over from_file's file"
        );
        check(
            SessionConfig::from_file("nope.toml").is_err(),
            "nope.toml must be required",
        )?;
        Ok(())
    });
}

#[test]
fn from_figment_accepts_a_partial_custom_figment() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("APP_SESSION_STORE", "cookie");
        let figment = Figment::new().merge(Env::prefixed("APP_SESSION_").split("__"));
        let config = SessionConfig::from_figment(&figment).map_err(|e| e.to_string())?;
        assert_eq!(config.store, StoreKind::Cookie);
        assert_eq!(config.cookie, SessionConfig::default().cookie);
        Ok(())
    });
}

#[test]
fn a_bad_env_value_names_the_variable() {
    // (variable, value, key, the value as the error shows it)
    let cases = [
        (
            "SESSION_LIFECYCLE__TTL",
            "7 parsecs",
            "lifecycle.ttl",
            "\"7 parsecs\"",
        ),
        (
            "SESSION_COOKIE__VERIFIED_CACHE",
            "-5",
            "cookie.verified_cache",
            "-5",
        ),
        (
            "SESSION_REDIS__CACHE__MAX_AGE",
            "soon",
            "redis.cache.max_age",
            "\"soon\"",
        ),
        (
            "SESSION_REDIS__CACHE__CAPACITY",
            "-1",
            "redis.cache.capacity",
            "-1",
        ),
    ];
    for (var, value, key, shown) in cases {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env(var, value);
            let error = load_err()?;
            assert_eq!(error.problems().len(), 1, "{error}");
            let problem = &error.problems()[0];
            assert_eq!(problem.key(), key);
            assert_eq!(problem.value(), Some(shown));
            assert_eq!(
                problem.source(),
                Some(&ValueSource::Env {
                    var: var.to_owned()
                })
            );
            let text = error.to_string();
            check(text.contains(var), &text)?;
            check(text.contains(value), &text)?;
            check(text.starts_with(key), &text)?;
            Ok(())
        });
    }
}

/// The environment provider names its variables through figment's metadata, so even
/// figment's own error text and an application's metadata lookups use the variable's name.
#[test]
fn the_env_provider_names_its_variables_in_figments_metadata() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("SESSION_COOKIE__NAME", "123");
        let figment = SessionConfig::figment();
        let metadata = figment
            .find_metadata("cookie.name")
            .ok_or("no metadata for cookie.name")?;
        let name = metadata.interpolate(&figment::Profile::Default, &["cookie", "name"]);
        check(name == "SESSION_COOKIE__NAME", &name)?;
        let text = match figment.extract::<SessionConfig>() {
            Ok(config) => return Err(format!("expected an error, got {config:?}").into()),
            Err(error) => error.to_string(),
        };
        check(text.contains("for key \"SESSION_COOKIE__NAME\""), &text)?;
        Ok(())
    });
}

#[test]
fn a_number_for_a_string_in_the_environment_gets_a_hint() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("SESSION_COOKIE__NAME", "123");
        let text = load_err()?.to_string();
        check(
            text.starts_with(
                "cookie.name = 123 (environment variable SESSION_COOKIE__NAME): invalid type",
            ),
            &text,
        )?;
        check(
            text.contains("quote it: SESSION_COOKIE__NAME='\"...\"'"),
            &text,
        )?;
        Ok(())
    });
}

#[test]
fn non_table_sections_and_wrong_types_are_reported() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "session.toml",
            "cookie = 5
secret_key = 5
[lifecycle]
ttl = true
[redis]
cluster = \"redis://x\"\n",
        )?;
        let error = load_err()?;
        let keys: Vec<&str> = error.problems().iter().map(|p| p.key()).collect();
        assert_eq!(
            keys,
            ["cookie", "secret_key", "lifecycle.ttl", "redis.cluster"],
            "{error}"
        );
        let text = error.to_string();
        check(
            text.contains("cookie = 5 (session.toml:1): `cookie` must be a table"),
            &text,
        )?;
        check(
            text.contains("secret_key = <redacted> (session.toml:2)"),
            &text,
        )?;
        check(
            text.contains("lifecycle.ttl = true (session.toml:4)"),
            &text,
        )?;
        Ok(())
    });
}

#[test]
fn a_bad_file_value_names_the_file_and_line() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "session.toml",
            "store = \"memory\"\n\n[cookie]\nname = \"sid\"\nsame_site = \"sideways\"\n",
        )?;
        let error = load_err()?;
        let text = error.to_string();
        assert_eq!(error.problems().len(), 1, "{text}");
        let problem = &error.problems()[0];
        assert_eq!(problem.key(), "cookie.same_site");
        assert_eq!(problem.value(), Some("\"sideways\""));
        assert_eq!(
            problem.source(),
            Some(&ValueSource::File {
                path: "session.toml".into(),
                line: Some(5)
            })
        );
        check(text.contains("session.toml:5"), &text)?;
        check(text.contains("sideways"), &text)?;
        check(
            text.contains(
                "unknown value \"sideways\", expected one of \"strict\", \"lax\" or \"none\"",
            ),
            &text,
        )?;
        Ok(())
    });
}

#[test]
fn a_bad_duration_in_the_file() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "session.toml",
            "[lifecycle]\nkind = \"persistent\"\nttl = \"7 parsecs\"\n",
        )?;
        let text = load_err()?.to_string();
        check(
            text.starts_with("lifecycle.ttl = \"7 parsecs\" (session.toml:3): "),
            &text,
        )?;
        check(text.contains("\"1d\""), &text)?;
        Ok(())
    });
}

#[test]
fn unknown_keys_are_rejected_everywhere() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "session.toml",
            "stroe = \"cookie\"\n[cookie]\nnmae = \"sid\"\n[lifecycle]\nttl = \"1h\"\n[redis]\nport = 6379\n",
        )?;
        jail.set_env("SESSION_COOKIE__SECUR", "false");
        jail.set_env("SESSION_COOKIE_NAME", "sid");
        jail.set_env("SESSION_SECRET_KYE", "x");
        let error = load_err()?;
        let text = error.to_string();
        let keys: Vec<&str> = error.problems().iter().map(|p| p.key()).collect();
        for key in [
            "stroe",
            "secret_kye",
            "cookie.nmae",
            "redis.port",
            "cookie.secur",
            "cookie_name",
        ] {
            check(keys.contains(&key), format!("{key} missing in:\n{text}"))?;
        }
        check(
            text.contains("secret_kye = <redacted> (environment variable SESSION_SECRET_KYE): unknown key; did you mean `secret_key`?"),
            &text,
        )?;
        check(
            text.contains(
                "stroe = \"cookie\" (session.toml:1): unknown key; did you mean `store`?",
            ),
            &text,
        )?;
        check(
            text.contains("cookie.nmae = \"sid\" (session.toml:3)"),
            &text,
        )?;
        check(
            text.contains("environment variable SESSION_COOKIE__SECUR"),
            &text,
        )?;
        check(
            text.contains("did you mean `cookie.name` (environment variable SESSION_COOKIE__NAME)"),
            &text,
        )?;
        assert_eq!(text.lines().count(), error.problems().len());
        Ok(())
    });
}

#[test]
fn unknown_keys_are_rejected_by_serde_too() {
    let error = Figment::from(figment::providers::Serialized::defaults(
        serde_json::json!({ "cookie": { "nmae": "x" } }),
    ))
    .extract::<SessionConfig>();
    assert!(error.is_err());
}

#[test]
fn several_mistakes_are_reported_together() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "session.toml",
            "[cookie]\nsame_site = \"sideways\"\nsecure = \"maybe\"\n[lifecycle]\nkind = \"forever\"\n",
        )?;
        jail.set_env("SESSION_LIFECYCLE__TTL", "7 parsecs");
        jail.set_env("SESSION_SECRET_KEY", "c2hvcnQ=");
        let error = load_err()?;
        let text = error.to_string();
        let keys: Vec<&str> = error.problems().iter().map(|p| p.key()).collect();
        assert_eq!(
            keys,
            [
                "secret_key",
                "cookie.secure",
                "cookie.same_site",
                "lifecycle.kind",
                "lifecycle.ttl",
            ],
            "{text}"
        );
        assert_eq!(text.lines().count(), 5, "{text}");
        Ok(())
    });
}

#[test]
fn short_or_invalid_keys_are_errors_that_never_show_the_key() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let short = key_b64(9, 32);
        jail.set_env("SESSION_SECRET_KEY", &short);
        let error = load_err()?;
        let text = error.to_string();
        check(
            text.starts_with(
                "secret_key = <redacted> (environment variable SESSION_SECRET_KEY): too short",
            ),
            &text,
        )?;
        check(text.contains("32 bytes"), &text)?;
        check(
            !text.contains(&short) && !format!("{error:?}").contains(&short),
            &text,
        )?;

        jail.set_env("SESSION_SECRET_KEY", "not*base64*at*all!");
        let text = load_err()?.to_string();
        check(text.contains("not valid base64"), &text)?;
        check(!text.contains("not*base64"), &text)?;

        jail.set_env("SESSION_SECRET_KEY", "123456789");
        let text = load_err()?.to_string();
        check(!text.contains("123456789"), &text)?;

        jail.clear_env();
        let bad = "dGhpcyBpcyBub3Q=";
        jail.create_file(
            "session.toml",
            &format!(
                "secret_key = \"{}\"\nfallback_keys = [\"{}\", \"{bad}\"]\n",
                key_b64(1, 64),
                key_b64(2, 64)
            ),
        )?;
        let error = load_err()?;
        let text = error.to_string();
        assert_eq!(error.problems().len(), 1, "{text}");
        check(
            text.starts_with("fallback_keys[1] = <redacted> (session.toml:2): too short"),
            &text,
        )?;
        check(!text.contains(bad), &text)?;

        jail.create_file("session.toml", "fallback_keys = \"oops-a-secret\"\n")?;
        let text = load_err()?.to_string();
        check(text.starts_with("fallback_keys = <redacted>"), &text)?;
        check(!text.contains("oops-a-secret"), &text)?;
        Ok(())
    });
}

#[test]
fn secrets_never_appear_in_debug() {
    let key = key_b64(3, 64);
    let config = SessionConfig {
        secret_key: session_config::SecretKey::from_base64(&key).ok(),
        fallback_keys: session_config::SecretKey::from_base64(&key)
            .into_iter()
            .collect(),
        ..SessionConfig::default()
    };
    let debug = format!("{config:?} {config:#?}");
    assert!(!debug.contains(&key[..20]), "{debug}");
    assert!(debug.contains("<redacted>"));
    // Nor when the config is serialized.
    let json = serde_json::to_string(&config).expect("serializes");
    assert!(!json.contains(&key[..20]), "{json}");
    assert!(
        !json.contains("secret_key") && !json.contains("fallback_keys"),
        "{json}"
    );
    // ...yet a config built in code still round-trips through figment, keys included.
    let reloaded = SessionConfig::from_figment(&Figment::from(config.clone())).expect("reloads");
    assert_eq!(reloaded, config);
}

#[test]
fn host_and_secure_prefixes_are_checked() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "session.toml",
            "[cookie]\nname = \"__Host-sid\"\nsecure = false\npath = \"/app\"\ndomain = \"example.com\"\n",
        )?;
        let error = load_err()?;
        let text = error.to_string();
        let keys: Vec<&str> = error.problems().iter().map(|p| p.key()).collect();
        assert_eq!(
            keys,
            ["cookie.secure", "cookie.path", "cookie.domain"],
            "{text}"
        );
        check(
            text.contains("cookie.secure = false (session.toml:3): a cookie named \"__Host-sid\""),
            &text,
        )?;
        check(
            text.contains("cookie.path = \"/app\" (session.toml:4)"),
            &text,
        )?;
        check(text.contains("cookie.domain = \"example.com\" (session.toml:5): a cookie named \"__Host-sid\" (cookie.name) must not have a Domain"), &text)?;

        jail.create_file("session.toml", "[cookie]\nname = \"__Secure-sid\"\n")?;
        jail.set_env("SESSION_COOKIE__SECURE", "false");
        let text = load_err()?.to_string();
        check(text.starts_with("cookie.secure = false (environment variable SESSION_COOKIE__SECURE): a cookie named \"__Secure-sid\""), &text)?;

        jail.set_env("SESSION_COOKIE__SECURE", "true");
        load_ok()?;
        Ok(())
    });
}

#[test]
fn other_cookie_rules() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "session.toml",
            "[cookie]\nname = \"my sid\"\nsecure = false\nsame_site = \"none\"\npath = \"app\"\ndomain = \"a;b\"\n",
        )?;
        let error = load_err()?;
        let keys: Vec<&str> = error.problems().iter().map(|p| p.key()).collect();
        assert_eq!(
            keys,
            [
                "cookie.name",
                "cookie.same_site",
                "cookie.path",
                "cookie.domain"
            ],
            "{error}"
        );
        Ok(())
    });
}

#[test]
fn lifecycle_rules() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("SESSION_LIFECYCLE__TTL", "0s");
        jail.set_env("SESSION_LIFECYCLE__ABSOLUTE_TTL", "-5");
        let error = load_err()?;
        let keys: Vec<&str> = error.problems().iter().map(|p| p.key()).collect();
        assert_eq!(keys, ["lifecycle.absolute_ttl", "lifecycle.ttl"], "{error}");

        jail.set_env("SESSION_LIFECYCLE__TTL", "401d");
        jail.set_env("SESSION_LIFECYCLE__ABSOLUTE_TTL", "400d");
        let text = load_err()?.to_string();
        check(text.starts_with("lifecycle.ttl = \"401d\" (environment variable SESSION_LIFECYCLE__TTL): must be at most 400 days"), &text)?;
        check(text.lines().count() == 1, &text)?;
        Ok(())
    });
}

#[test]
fn redis_needs_a_url() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("SESSION_STORE", "redis");
        let error = load_err()?;
        let text = error.to_string();
        assert_eq!(error.problems().len(), 1, "{text}");
        check(
            text.starts_with("store = \"redis\" (environment variable SESSION_STORE): "),
            &text,
        )?;
        check(text.contains("redis.url (SESSION_REDIS__URL)"), &text)?;
        check(text.contains("redis.cluster"), &text)?;

        jail.set_env("SESSION_REDIS__URL", "5");
        let error = load_err()?;
        let keys: Vec<&str> = error.problems().iter().map(|p| p.key()).collect();
        assert_eq!(keys, ["redis.url"], "one mistake, one problem: {error}");

        jail.set_env("SESSION_REDIS__URL", "redis://127.0.0.1:6379");
        load_ok()?;
        jail.set_env("SESSION_REDIS__CLUSTER", "[\"redis://a:1\"]");
        let text = load_err()?.to_string();
        check(text.contains("not both"), &text)?;
        Ok(())
    });
}

#[test]
fn redis_urls_and_timeouts_are_checked_without_leaking_passwords() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "session.toml",
            "[redis]\nurl = \"http://user:hunter2@host\"\ncluster = [\"redis://ok:1\", \"tcp://x:2\"]\nconnect_timeout = \"0s\"\nresponse_timeout = \"soon\"\n",
        )?;
        let error = load_err()?;
        let text = error.to_string();
        let keys: Vec<&str> = error.problems().iter().map(|p| p.key()).collect();
        assert_eq!(
            keys,
            [
                "redis.response_timeout",
                "redis.url",
                "redis.cluster[1]",
                "redis.connect_timeout"
            ],
            "{text}"
        );
        check(!text.contains("hunter2"), &text)?;
        check(text.contains("\"http://user:***@host\""), &text)?;
        check(text.contains("\"off\""), &text)?;

        jail.create_file(
            "session.toml",
            "[redis]\ncluster = \"redis://user:hunter2@host\"\n",
        )?;
        let text = load_err()?.to_string();
        check(text.starts_with("redis.cluster = \"redis://user:***@host\" (session.toml:2): invalid value, expected a sequence"), &text)?;
        check(!text.contains("hunter2"), &text)?;
        Ok(())
    });
}

#[test]
fn a_toml_syntax_error_names_the_file() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "session.toml",
            "store = \"memory\"\nsecret_key = \"unterminated\n",
        )?;
        let error = load_err()?;
        let text = error.to_string();
        assert_eq!(text.lines().count(), 1, "{text}");
        check(text.contains("session.toml"), &text)?;
        check(text.contains("line 2"), &text)?;
        check(!text.contains("unterminated"), &text)?;
        Ok(())
    });
}

#[test]
fn application_defaults_sit_between_the_built_in_ones_and_the_file() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let config = || {
            let defaults = Figment::new()
                .merge(Serialized::default("cookie.secure", false))
                .merge(Serialized::default("cookie.name", "app"));
            SessionConfig::from_figment(&SessionConfig::figment_with_defaults(defaults))
                .map_err(|e| e.to_string())
        };
        let from_defaults = config()?;
        check(
            !from_defaults.cookie.secure,
            "the application default applies",
        )?;
        check(
            from_defaults.cookie.name == "app",
            "every application default applies",
        )?;
        check(
            from_defaults.cookie.http_only,
            "keys the application leaves alone keep the built-in default",
        )?;

        jail.create_file("session.toml", "[cookie]\nsecure = true\n")?;
        let from_file = config()?;
        check(from_file.cookie.secure, "session.toml overrides it")?;
        check(
            from_file.cookie.name == "app",
            "the other application default stays",
        )?;

        jail.create_file("session.toml", "")?;
        jail.set_env("SESSION_COOKIE__SECURE", "true");
        check(
            config()?.cookie.secure,
            "SESSION_COOKIE__SECURE overrides it",
        )?;
        Ok(())
    });
}

#[test]
fn the_transport_comes_from_the_file_and_the_environment() {
    Jail::expect_with(|jail| {
        jail.create_file("session.toml", "[transport]\nkind = \"header\"\n")?;
        jail.set_env("SESSION_TRANSPORT__HEADER", "x-session");
        let config = load_ok()?;
        check(
            config.transport.kind == session_config::TransportKind::Header,
            "transport.kind from the file",
        )?;
        check(
            config.transport.header == "x-session",
            "transport.header from the environment",
        )?;
        Ok(())
    });
}

#[test]
fn a_bad_transport_header_names_its_key_value_and_source() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "session.toml",
            "[transport]\nkind = \"cookie-or-header\"\nresponse_header = \"bad name\"\nhedaer = \"x\"\n",
        )?;
        jail.set_env("SESSION_TRANSPORT__HEADER", "x:session");
        let error = load_err()?.to_string();
        check(
            error.contains(
                "transport.header = \"x:session\" (environment variable SESSION_TRANSPORT__HEADER): is not an HTTP header name"
            ),
            &error,
        )?;
        check(
            error.contains("transport.response_header = \"bad name\" (session.toml:3)"),
            &error,
        )?;
        check(
            error.contains("transport.hedaer") && error.contains("did you mean `header`"),
            &error,
        )?;
        Ok(())
    });
}

/// `[redis.cache]`: off by default, set from a file or the environment, checked when on.
#[test]
fn the_redis_near_cache_table() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let config = load_ok()?;
        assert!(!config.redis.cache.enabled);
        assert_eq!(config.redis.cache.capacity, 10_000);
        assert_eq!(config.redis.cache.max_age, Duration::from_secs(300));
        jail.create_file(
            "session.toml",
            "[redis.cache]\nenabled = true\ncapacity = 50\nmax_age = \"30s\"\n",
        )?;
        jail.set_env("SESSION_REDIS__CACHE__CAPACITY", "70");
        let config = load_ok()?;
        assert!(config.redis.cache.enabled);
        assert_eq!(config.redis.cache.capacity, 70, "env over file");
        assert_eq!(config.redis.cache.max_age, Duration::from_secs(30));

        jail.set_env("SESSION_REDIS__CACHE__CAPACITY", "0");
        let error = load_err()?;
        let text = error.to_string();
        check(text.starts_with("redis.cache.capacity"), &text)?;
        jail.set_env("SESSION_REDIS__CACHE__CAPACITY", "5");
        jail.set_env("SESSION_REDIS__CACHE__SIZE", "5");
        let error = load_err()?;
        let text = error.to_string();
        check(
            text.contains("redis.cache.size") && text.contains("unknown key"),
            &text,
        )?;
        Ok(())
    });
}

/// `[devices]`: defaults, a file and the environment, and bad values named with their key,
/// value and source.
#[test]
fn the_devices_table() {
    Jail::expect_with(|jail| {
        let defaults = load_ok()?.devices;
        check(
            defaults.last_seen_interval == Duration::from_secs(60)
                && !defaults.record_user_agent
                && defaults.client_ip == session_config::ClientIpConfig::Off,
            "the defaults",
        )?;
        jail.create_file(
            "session.toml",
            "[devices]\nlast_seen_interval = \"5m\"\nclient_ip = \"forwarded\"\n",
        )?;
        jail.set_env("SESSION_DEVICES__RECORD_USER_AGENT", "true");
        let devices = load_ok()?.devices;
        check(
            devices.last_seen_interval == Duration::from_secs(300),
            "devices.last_seen_interval from the file",
        )?;
        check(
            devices.client_ip == session_config::ClientIpConfig::Forwarded,
            "devices.client_ip from the file",
        )?;
        check(
            devices.record_user_agent,
            "devices.record_user_agent from the environment",
        )?;

        jail.create_file(
            "session.toml",
            "[devices]\nlast_seen_interval = \"soon\"\nclient_ip = \"proxy\"\n",
        )?;
        jail.set_env("SESSION_DEVICES__RECORD_USER_AGENT", "maybe");
        let error = load_err()?.to_string();
        for (key, value, source) in [
            ("devices.last_seen_interval", "\"soon\"", "session.toml:2"),
            ("devices.client_ip", "\"proxy\"", "session.toml:3"),
            (
                "devices.record_user_agent",
                "\"maybe\"",
                "environment variable SESSION_DEVICES__RECORD_USER_AGENT",
            ),
        ] {
            check(
                error.contains(&format!("{key} = {value} ({source})")),
                format_args!("{key} in: {error}"),
            )?;
        }
        Ok(())
    });
}
