//! One set of cookie rules: settings refused by `SessionMiddlewareBuilder::try_build` are
//! refused from `session.toml` (and the environment) with the same `CookieRule`s, each
//! reported under the key of the setting at fault, with its source.
// `figment::Jail` closures return `figment::Result`, whose error is large; fine in tests.
#![allow(clippy::result_large_err)]

use actix_web::cookie::{Key, SameSite};
use figment::Jail;
use session::{
    SessionMiddleware,
    config::{BuildError, CookieRule, CookieSetting},
    storage::MemorySessionStore,
};
use session_config::{Problem, SessionConfig, ValueSource};

/// Cookie settings, as the builder takes them.
struct Case {
    what: &'static str,
    name: &'static str,
    secure: bool,
    same_site: SameSite,
    path: &'static str,
    domain: Option<&'static str>,
    partitioned: bool,
}

const DEFAULTS: Case = Case {
    what: "",
    name: "id",
    secure: true,
    same_site: SameSite::Lax,
    path: "/",
    domain: None,
    partitioned: false,
};

const BAD: &[Case] = &[
    Case {
        what: "SameSite=None without Secure",
        secure: false,
        same_site: SameSite::None,
        ..DEFAULTS
    },
    Case {
        what: "a path not starting with /",
        path: "app",
        ..DEFAULTS
    },
    Case {
        what: "a domain with a comma",
        domain: Some("a.example,b.example"),
        ..DEFAULTS
    },
    Case {
        what: "an empty domain",
        domain: Some(""),
        ..DEFAULTS
    },
    Case {
        what: "a __Host- cookie, not Secure, with a path and a domain",
        name: "__Host-sid",
        secure: false,
        path: "/app",
        domain: Some("example.com"),
        ..DEFAULTS
    },
    Case {
        what: "a __Secure- cookie, not Secure",
        name: "__Secure-sid",
        secure: false,
        ..DEFAULTS
    },
    Case {
        what: "Partitioned without Secure",
        secure: false,
        partitioned: true,
        ..DEFAULTS
    },
    Case {
        what: "a name with a space, a relative path with a ';', SameSite=None on plain HTTP",
        name: "my sid",
        secure: false,
        same_site: SameSite::None,
        path: "a;b",
        domain: Some("a b"),
        partitioned: true,
    },
    Case {
        what: "an empty name",
        name: "",
        ..DEFAULTS
    },
];

/// The rules `try_build` refuses the settings with (empty when it builds).
fn from_code(case: &Case) -> Vec<CookieRule> {
    let result = SessionMiddleware::builder(MemorySessionStore::new(), Key::from(&[7; 64]))
        .cookie_name(case.name.to_owned())
        .cookie_secure(case.secure)
        .cookie_same_site(case.same_site)
        .cookie_path(case.path.to_owned())
        .cookie_domain(case.domain.map(str::to_owned))
        .cookie_partitioned(case.partitioned)
        .try_build();
    match result {
        Ok(_) => Vec::new(),
        Err(BuildError::Cookie(rules)) => rules,
        Err(other) => panic!("{}: not a cookie refusal: {other}", case.what),
    }
}

/// The same settings as a `[cookie]` table.
fn toml(case: &Case) -> String {
    let same_site = match case.same_site {
        SameSite::Strict => "strict",
        SameSite::Lax => "lax",
        SameSite::None => "none",
    };
    let mut toml = format!(
        "[cookie]\nname = {:?}\nsecure = {}\nsame_site = \"{same_site}\"\npath = {:?}\npartitioned = {}\n",
        case.name, case.secure, case.path, case.partitioned
    );
    if let Some(domain) = case.domain {
        toml.push_str(&format!("domain = {domain:?}\n"));
    }
    toml
}

/// The problems `SessionConfig::load` reports for `session.toml` holding `toml`.
fn load_problems(jail: &mut Jail, toml: &str) -> figment::Result<Vec<Problem>> {
    jail.clear_env();
    jail.create_file("session.toml", toml)?;
    Ok(match SessionConfig::load() {
        Ok(_) => Vec::new(),
        Err(error) => error.problems().to_vec(),
    })
}

/// The key session-config reports a setting's problems under.
fn key_of(setting: CookieSetting) -> &'static str {
    match setting {
        CookieSetting::Name => "cookie.name",
        CookieSetting::Secure => "cookie.secure",
        CookieSetting::SameSite => "cookie.same_site",
        CookieSetting::Path => "cookie.path",
        CookieSetting::Domain => "cookie.domain",
        CookieSetting::Partitioned => "cookie.partitioned",
        other => panic!("a cookie setting this test does not know: {other:?}"),
    }
}

/// `rules` in a canonical order, to compare them as sets.
fn sorted(mut rules: Vec<CookieRule>) -> Vec<CookieRule> {
    rules.sort_by_key(|rule| format!("{rule:?}"));
    rules
}

#[test]
fn code_and_session_toml_refuse_the_same_settings_with_the_same_rules() {
    for case in BAD {
        let refused = from_code(case);
        assert!(!refused.is_empty(), "{}: builds from code", case.what);
        let toml = toml(case);
        Jail::expect_with(|jail| {
            let problems = load_problems(jail, &toml)?;
            assert_eq!(
                problems.len(),
                refused.len(),
                "{}: every problem is a cookie rule: {problems:#?}",
                case.what
            );
            let from_file: Vec<CookieRule> = problems
                .iter()
                .filter_map(|p| p.cookie_rule())
                .cloned()
                .collect();
            assert_eq!(
                sorted(from_file),
                sorted(refused.clone()),
                "{}\n{toml}",
                case.what
            );
            for problem in &problems {
                let rule = problem.cookie_rule().ok_or("not a cookie rule")?;
                assert_eq!(problem.key(), key_of(rule.setting()), "{}", case.what);
                assert!(
                    matches!(
                        problem.source(),
                        Some(ValueSource::File { path, line: Some(_) }) if path.ends_with("session.toml")
                    ),
                    "{}: {problem}",
                    case.what
                );
            }
            Ok(())
        });
    }
}

/// SameSite=None without Secure, a relative path and a domain with a comma: refused from code
/// as from the configuration.
#[test]
fn the_builder_refuses_what_the_configuration_refuses() {
    let rules_of = |what: &str| {
        let case = BAD.iter().find(|case| case.what == what).expect("a case");
        from_code(case)
    };
    assert_eq!(
        rules_of("SameSite=None without Secure"),
        [CookieRule::SameSiteNoneNotSecure]
    );
    assert!(matches!(
        rules_of("a path not starting with /").as_slice(),
        [CookieRule::PathNotAbsolute { path }] if path == "app"
    ));
    assert!(matches!(
        rules_of("a domain with a comma").as_slice(),
        [CookieRule::InvalidDomain { domain }] if domain == "a.example,b.example"
    ));
}

#[test]
fn good_settings_pass_both_ways() {
    let good = [
        Case {
            name: "__Host-sid",
            ..DEFAULTS
        },
        Case {
            name: "__Secure-sid",
            same_site: SameSite::None,
            partitioned: true,
            path: "/app",
            domain: Some("example.com"),
            ..DEFAULTS
        },
        Case {
            secure: false,
            same_site: SameSite::Strict,
            ..DEFAULTS
        },
    ];
    for case in &good {
        assert_eq!(from_code(case), [], "{}", toml(case));
        let toml = toml(case);
        Jail::expect_with(|jail| {
            let problems = load_problems(jail, &toml)?;
            assert!(problems.is_empty(), "{problems:#?}");
            Ok(())
        });
    }
}

#[test]
fn a_rule_broken_from_the_environment_names_the_variable() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("SESSION_COOKIE__SECURE", "false");
        jail.set_env("SESSION_COOKIE__SAME_SITE", "none");
        let error = match SessionConfig::load() {
            Ok(config) => return Err(format!("loaded {config:?}").into()),
            Err(error) => error,
        };
        let [problem] = error.problems() else {
            return Err(format!("one problem expected: {error}").into());
        };
        assert_eq!(
            problem.cookie_rule(),
            Some(&CookieRule::SameSiteNoneNotSecure)
        );
        assert_eq!(problem.key(), "cookie.same_site");
        assert_eq!(
            problem.source(),
            Some(&ValueSource::Env {
                var: "SESSION_COOKIE__SAME_SITE".to_owned()
            })
        );
        Ok(())
    });
}
