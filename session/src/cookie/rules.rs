//! The rules a session cookie's attributes must follow, checked once, here, for every way a
//! middleware is configured (the builder and `session-config` alike).
//!
//! Each rule is one function that says why it exists; [`CookieSettings::check`] runs them
//! all and returns every rule that is broken, so a configuration is fixed in one go.

use actix_web::cookie::SameSite;

/// The cookie attributes a middleware is built with.
///
/// `Default` gives the secure defaults: name `id`, `Secure`, `HttpOnly`, `SameSite=Lax`,
/// path `/`, no domain, not partitioned.
///
/// ```
/// use session::config::{CookieRule, CookieSettings};
///
/// let mut settings = CookieSettings::default();
/// settings.name = "__Host-id".to_owned();
/// settings.secure = false;
/// assert_eq!(
///     settings.check(),
///     [CookieRule::HostPrefixNotSecure { name: "__Host-id".to_owned() }]
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CookieSettings {
    /// The cookie's name.
    pub name: String,
    /// Whether the cookie is only sent over HTTPS.
    pub secure: bool,
    /// Whether scripts are denied access to the cookie.
    pub http_only: bool,
    /// The cookie's `SameSite` attribute.
    pub same_site: SameSite,
    /// The cookie's path.
    pub path: String,
    /// The cookie's domain; `None` sends it to the host that set it only.
    pub domain: Option<String>,
    /// Whether the cookie carries the `Partitioned` attribute (CHIPS).
    pub partitioned: bool,
}

impl Default for CookieSettings {
    fn default() -> Self {
        Self {
            name: "id".to_owned(),
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            path: "/".to_owned(),
            domain: None,
            partitioned: false,
        }
    }
}

impl CookieSettings {
    /// Every rule the settings break, all at once, in a stable order (empty = fine).
    pub fn check(&self) -> Vec<CookieRule> {
        let mut broken = Vec::new();
        check_name(self, &mut broken);
        check_host_prefix(self, &mut broken);
        check_secure_prefix(self, &mut broken);
        check_partitioned(self, &mut broken);
        check_same_site_none(self, &mut broken);
        check_path_absolute(self, &mut broken);
        check_path_text(self, &mut broken);
        check_domain(self, &mut broken);
        broken
    }
}

/// One broken cookie rule; its `Display` says what is wrong and how to fix it, in terms of
/// the [`SessionMiddlewareBuilder`](crate::config::SessionMiddlewareBuilder) methods (callers
/// with their own setting names, such as `session-config`, map [`setting`](Self::setting)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CookieRule {
    /// The name is empty or is not an RFC 6265 token.
    #[error(
        "the cookie name {name:?} is not a valid cookie name: use letters, digits and \
         !#$%&'*+-.^_`|~ only"
    )]
    InvalidName {
        /// The name given.
        name: String,
    },
    /// A `__Host-` cookie is not `Secure`.
    #[error(
        "the cookie name {name:?} starts with `__Host-`, so the cookie must be Secure: remove \
         `cookie_secure(false)` or rename the cookie"
    )]
    HostPrefixNotSecure {
        /// The name given.
        name: String,
    },
    /// A `__Host-` cookie has a `Domain`.
    #[error(
        "the cookie name {name:?} starts with `__Host-`, so the cookie must not have a Domain: \
         remove `cookie_domain(..)` or rename the cookie"
    )]
    HostPrefixWithDomain {
        /// The name given.
        name: String,
        /// The domain given.
        domain: String,
    },
    /// A `__Host-` cookie's path is not `/`.
    #[error(
        "the cookie name {name:?} starts with `__Host-`, so its path must be `/`, not {path:?}: \
         remove `cookie_path(..)` or rename the cookie"
    )]
    HostPrefixPathNotRoot {
        /// The name given.
        name: String,
        /// The path given.
        path: String,
    },
    /// A `__Secure-` cookie is not `Secure`.
    #[error(
        "the cookie name {name:?} starts with `__Secure-`, so the cookie must be Secure: remove \
         `cookie_secure(false)` or rename the cookie"
    )]
    SecurePrefixNotSecure {
        /// The name given.
        name: String,
    },
    /// A `Partitioned` cookie is not `Secure`.
    #[error(
        "a Partitioned cookie must be Secure: remove `cookie_secure(false)` or \
         `cookie_partitioned(true)`"
    )]
    PartitionedNotSecure,
    /// A `SameSite=None` cookie is not `Secure`.
    #[error(
        "a SameSite=None cookie must be Secure (browsers reject it otherwise): remove \
         `cookie_secure(false)` or choose another `cookie_same_site`"
    )]
    SameSiteNoneNotSecure,
    /// The path does not start with `/`.
    #[error("the cookie path {path:?} must start with `/`")]
    PathNotAbsolute {
        /// The path given.
        path: String,
    },
    /// The path contains `;` or a control character.
    #[error("the cookie path {path:?} contains `;` or a control character")]
    InvalidPath {
        /// The path given.
        path: String,
    },
    /// The domain is empty or contains `,`, `;`, white space or a control character.
    #[error(
        "the cookie domain {domain:?} is not a host name such as \"example.com\" (leave it \
         unset for the current host only)"
    )]
    InvalidDomain {
        /// The domain given.
        domain: String,
    },
}

impl CookieRule {
    /// The setting at fault, so callers can name their own key for it.
    pub fn setting(&self) -> CookieSetting {
        match self {
            Self::InvalidName { .. } => CookieSetting::Name,
            Self::HostPrefixNotSecure { .. } | Self::SecurePrefixNotSecure { .. } => {
                CookieSetting::Secure
            }
            Self::HostPrefixWithDomain { .. } | Self::InvalidDomain { .. } => CookieSetting::Domain,
            Self::HostPrefixPathNotRoot { .. }
            | Self::PathNotAbsolute { .. }
            | Self::InvalidPath { .. } => CookieSetting::Path,
            Self::PartitionedNotSecure => CookieSetting::Partitioned,
            Self::SameSiteNoneNotSecure => CookieSetting::SameSite,
        }
    }
}

/// One of the [`CookieSettings`], as named by [`CookieRule::setting`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CookieSetting {
    /// [`CookieSettings::name`].
    Name,
    /// [`CookieSettings::secure`].
    Secure,
    /// [`CookieSettings::same_site`].
    SameSite,
    /// [`CookieSettings::path`].
    Path,
    /// [`CookieSettings::domain`].
    Domain,
    /// [`CookieSettings::partitioned`].
    Partitioned,
}

/// Browsers match the cookie prefixes case-insensitively (RFC 6265bis).
fn has_prefix(name: &str, prefix: &str) -> bool {
    name.get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

// The name goes into every `Set-Cookie` and is matched in every `Cookie` header as it is: a
// name that is not an RFC 6265 token (empty, spaces, `;`, `=`, non-ASCII) either breaks the
// header or is read back as another cookie.
fn check_name(settings: &CookieSettings, broken: &mut Vec<CookieRule>) {
    let is_token_byte =
        |byte: u8| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte);
    if settings.name.is_empty() || !settings.name.bytes().all(is_token_byte) {
        broken.push(CookieRule::InvalidName {
            name: settings.name.clone(),
        });
    }
}

// A `__Host-` cookie promises it was set by this very host over HTTPS, for the whole site:
// browsers drop one that is not Secure, has a Domain or a path other than `/`, so the session
// would silently never stick.
fn check_host_prefix(settings: &CookieSettings, broken: &mut Vec<CookieRule>) {
    if !has_prefix(&settings.name, "__Host-") {
        return;
    }
    if !settings.secure {
        broken.push(CookieRule::HostPrefixNotSecure {
            name: settings.name.clone(),
        });
    }
    if let Some(domain) = &settings.domain {
        broken.push(CookieRule::HostPrefixWithDomain {
            name: settings.name.clone(),
            domain: domain.clone(),
        });
    }
    if settings.path != "/" {
        broken.push(CookieRule::HostPrefixPathNotRoot {
            name: settings.name.clone(),
            path: settings.path.clone(),
        });
    }
}

// A `__Secure-` cookie promises it was set over HTTPS: browsers drop one that is not Secure.
fn check_secure_prefix(settings: &CookieSettings, broken: &mut Vec<CookieRule>) {
    if has_prefix(&settings.name, "__Secure-") && !settings.secure {
        broken.push(CookieRule::SecurePrefixNotSecure {
            name: settings.name.clone(),
        });
    }
}

// CHIPS: browsers only accept a Partitioned cookie that is also Secure.
fn check_partitioned(settings: &CookieSettings, broken: &mut Vec<CookieRule>) {
    if settings.partitioned && !settings.secure {
        broken.push(CookieRule::PartitionedNotSecure);
    }
}

// A SameSite=None cookie is sent on cross-site requests; browsers refuse it unless it is
// Secure, so that it never travels in clear text to a third party.
fn check_same_site_none(settings: &CookieSettings, broken: &mut Vec<CookieRule>) {
    if settings.same_site == SameSite::None && !settings.secure {
        broken.push(CookieRule::SameSiteNoneNotSecure);
    }
}

// Browsers replace a path that does not start with `/` by the request's directory, so the
// cookie would cover another part of the site than the one configured.
fn check_path_absolute(settings: &CookieSettings, broken: &mut Vec<CookieRule>) {
    if !settings.path.starts_with('/') {
        broken.push(CookieRule::PathNotAbsolute {
            path: settings.path.clone(),
        });
    }
}

// The path is written into `Set-Cookie` as it is: a `;` would start another attribute and a
// control character makes the header invalid.
fn check_path_text(settings: &CookieSettings, broken: &mut Vec<CookieRule>) {
    if settings.path.contains(|c: char| c == ';' || c.is_control()) {
        broken.push(CookieRule::InvalidPath {
            path: settings.path.clone(),
        });
    }
}

// The domain is written into `Set-Cookie` as it is: `;` would start another attribute, a
// control character makes the header invalid, and an empty domain, a `,` or white space is
// no host name, so browsers would ignore the attribute or the whole cookie.
fn check_domain(settings: &CookieSettings, broken: &mut Vec<CookieRule>) {
    let bad = |c: char| c == ';' || c == ',' || c.is_whitespace() || c.is_control();
    if let Some(domain) = settings
        .domain
        .as_ref()
        .filter(|domain| domain.is_empty() || domain.contains(bad))
    {
        broken.push(CookieRule::InvalidDomain {
            domain: domain.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(change: impl FnOnce(&mut CookieSettings)) -> CookieSettings {
        let mut settings = CookieSettings::default();
        change(&mut settings);
        settings
    }

    fn broken(change: impl FnOnce(&mut CookieSettings)) -> Vec<CookieRule> {
        settings(change).check()
    }

    #[test]
    fn the_defaults_break_no_rule() {
        assert_eq!(CookieSettings::default().check(), []);
        let defaults = CookieSettings::default();
        assert_eq!(defaults.name, "id");
        assert!(defaults.secure && defaults.http_only && !defaults.partitioned);
        assert_eq!(defaults.same_site, SameSite::Lax);
        assert_eq!((defaults.path.as_str(), defaults.domain), ("/", None));
    }

    #[test]
    fn names_must_be_tokens() {
        for name in ["", "bad name", "a;b", "a=b", "é", "a\"b", "a,b"] {
            assert_eq!(
                broken(|s| s.name = name.to_owned()),
                [CookieRule::InvalidName {
                    name: name.to_owned()
                }],
                "{name:?}"
            );
        }
        for name in ["id", "SID", "a!#$%&'*+-.^_`|~9"] {
            assert_eq!(broken(|s| s.name = name.to_owned()), [], "{name:?}");
        }
    }

    #[test]
    fn host_prefix_needs_secure_root_path_and_no_domain() {
        let name = "__Host-id".to_owned();
        assert_eq!(broken(|s| s.name.clone_from(&name)), []);
        assert_eq!(
            broken(|s| {
                s.name.clone_from(&name);
                s.secure = false;
            }),
            [CookieRule::HostPrefixNotSecure { name: name.clone() }]
        );
        assert_eq!(
            broken(|s| {
                s.name.clone_from(&name);
                s.domain = Some("example.com".to_owned());
            }),
            [CookieRule::HostPrefixWithDomain {
                name: name.clone(),
                domain: "example.com".to_owned()
            }]
        );
        assert_eq!(
            broken(|s| {
                s.name.clone_from(&name);
                s.path = "/app".to_owned();
            }),
            [CookieRule::HostPrefixPathNotRoot {
                name: name.clone(),
                path: "/app".to_owned()
            }]
        );
    }

    #[test]
    fn prefixes_match_in_any_case() {
        for name in ["__HOST-id", "__host-id"] {
            assert_eq!(
                broken(|s| {
                    s.name = name.to_owned();
                    s.secure = false;
                }),
                [CookieRule::HostPrefixNotSecure {
                    name: name.to_owned()
                }]
            );
        }
        assert_eq!(
            broken(|s| {
                s.name = "__SECURE-id".to_owned();
                s.secure = false;
            }),
            [CookieRule::SecurePrefixNotSecure {
                name: "__SECURE-id".to_owned()
            }]
        );
        assert_eq!(
            broken(|s| {
                s.name = "__Hostid".to_owned();
                s.secure = false;
            }),
            [],
            "no prefix without the dash"
        );
    }

    #[test]
    fn secure_prefix_needs_secure() {
        assert_eq!(broken(|s| s.name = "__Secure-id".to_owned()), []);
        assert_eq!(
            broken(|s| {
                s.name = "__Secure-id".to_owned();
                s.secure = false;
            }),
            [CookieRule::SecurePrefixNotSecure {
                name: "__Secure-id".to_owned()
            }]
        );
    }

    #[test]
    fn partitioned_needs_secure() {
        assert_eq!(broken(|s| s.partitioned = true), []);
        assert_eq!(
            broken(|s| {
                s.partitioned = true;
                s.secure = false;
            }),
            [CookieRule::PartitionedNotSecure]
        );
    }

    #[test]
    fn same_site_none_needs_secure() {
        assert_eq!(broken(|s| s.same_site = SameSite::None), []);
        assert_eq!(
            broken(|s| {
                s.same_site = SameSite::None;
                s.secure = false;
            }),
            [CookieRule::SameSiteNoneNotSecure]
        );
        assert_eq!(
            broken(|s| {
                s.same_site = SameSite::Strict;
                s.secure = false;
            }),
            []
        );
    }

    #[test]
    fn paths_start_with_a_slash() {
        for path in ["", "app", "app/"] {
            assert_eq!(
                broken(|s| s.path = path.to_owned()),
                [CookieRule::PathNotAbsolute {
                    path: path.to_owned()
                }],
                "{path:?}"
            );
        }
        assert_eq!(broken(|s| s.path = "/app/".to_owned()), []);
    }

    #[test]
    fn paths_carry_no_separator_or_control_character() {
        for path in ["/a;b", "/a\nb", "/a\u{7f}"] {
            assert_eq!(
                broken(|s| s.path = path.to_owned()),
                [CookieRule::InvalidPath {
                    path: path.to_owned()
                }],
                "{path:?}"
            );
        }
    }

    #[test]
    fn domains_are_host_names() {
        for domain in ["", "a.com;b", "a.com,b.com", "a .com", "a\tb", "a\u{0}b"] {
            assert_eq!(
                broken(|s| s.domain = Some(domain.to_owned())),
                [CookieRule::InvalidDomain {
                    domain: domain.to_owned()
                }],
                "{domain:?}"
            );
        }
        for domain in ["example.com", ".example.com", "localhost"] {
            assert_eq!(broken(|s| s.domain = Some(domain.to_owned())), []);
        }
    }

    #[test]
    fn every_broken_rule_is_reported_in_a_stable_order() {
        let all = broken(|s| {
            s.name = "__Host-a b".to_owned();
            s.secure = false;
            s.domain = Some(String::new());
            s.path = "a;b".to_owned();
            s.partitioned = true;
            s.same_site = SameSite::None;
        });
        let settings: Vec<_> = all.iter().map(CookieRule::setting).collect();
        assert_eq!(
            settings,
            [
                CookieSetting::Name,
                CookieSetting::Secure,
                CookieSetting::Domain,
                CookieSetting::Path,
                CookieSetting::Partitioned,
                CookieSetting::SameSite,
                CookieSetting::Path,
                CookieSetting::Path,
                CookieSetting::Domain,
            ]
        );
        assert!(matches!(all[0], CookieRule::InvalidName { .. }));
        assert!(matches!(all[6], CookieRule::PathNotAbsolute { .. }));
        assert!(matches!(all[7], CookieRule::InvalidPath { .. }));
    }

    #[test]
    fn messages_name_the_value_at_fault() {
        let rule = CookieRule::HostPrefixPathNotRoot {
            name: "__Host-id".to_owned(),
            path: "/app".to_owned(),
        };
        let message = rule.to_string();
        assert!(
            message.contains("\"__Host-id\"") && message.contains("\"/app\""),
            "{message}"
        );
        assert!(
            CookieRule::SameSiteNoneNotSecure
                .to_string()
                .contains("must be Secure")
        );
    }
}
