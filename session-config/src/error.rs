//! [`ConfigError`]: every problem found in a configuration, each with its key, value and
//! source; and how figment's errors and values become [`Problem`]s.

use std::fmt;

use figment::{Figment, value::Value};
use session::{config::CookieRule, storage::redact_url};

use crate::{
    keys::{self, is_secret, is_url},
    secret::REDACTED,
    source::{self, ValueSource},
};

/// Everything wrong with a configuration, one [`Problem`] per mistake.
///
/// Its `Display` prints one line per problem:
///
/// ```text
/// lifecycle.ttl = "7 parsecs" (environment variable SESSION_LIFECYCLE__TTL): expected a duration such as "30m", "12h" or "1d" (or a number of seconds): unknown time unit "parsecs", supported units: ...
/// cookie.same_site = "sideways" (session.toml:4): unknown value "sideways", expected one of "strict", "lax" or "none"
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<Problem>,
}

impl ConfigError {
    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        debug_assert!(!problems.is_empty());
        Self { problems }
    }

    /// The problems, in the order they were found (at least one).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// One mistake in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    key: String,
    value: Option<String>,
    source: Option<ValueSource>,
    message: String,
    cookie_rule: Option<CookieRule>,
}

impl Problem {
    pub(crate) fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        // One line per problem, whatever a provider's message looked like.
        let message: String = message.into();
        let message = message
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            key: key.into(),
            value: None,
            source: None,
            message,
            cookie_rule: None,
        }
    }

    pub(crate) fn with_value(mut self, value: Option<String>) -> Self {
        self.value = value;
        self
    }

    pub(crate) fn with_source(mut self, source: Option<ValueSource>) -> Self {
        self.source = source;
        self
    }

    pub(crate) fn with_cookie_rule(mut self, rule: CookieRule) -> Self {
        self.cookie_rule = Some(rule);
        self
    }

    /// The key path, such as `lifecycle.ttl` or `fallback_keys[1]` (empty for a problem
    /// with a whole file, such as a TOML syntax error).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The offending value as written (`<redacted>` for secret keys, URLs without their
    /// password), when there is one.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// Where the value came from, when known.
    pub fn source(&self) -> Option<&ValueSource> {
        self.source.as_ref()
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The cookie rule the settings break, when this problem is one: the same [`CookieRule`]
    /// that `SessionMiddlewareBuilder::try_build` refuses these settings with.
    pub fn cookie_rule(&self) -> Option<&CookieRule> {
        self.cookie_rule.as_ref()
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)?;
        if let Some(value) = &self.value {
            write!(f, " = {value}")?;
        }
        match (&self.source, self.key.is_empty()) {
            (Some(source), false) => write!(f, " ({source})")?,
            (Some(source), true) => write!(f, "{source}")?,
            (None, _) => {}
        }
        write!(f, ": {}", self.message)
    }
}

/// How a value is shown in a message: quoted strings, plain numbers and booleans, secrets and
/// URL passwords redacted.
pub(crate) fn render_value(key: &str, value: &Value) -> String {
    if is_secret(key) {
        return REDACTED.to_owned();
    }
    render(value, is_url(key))
}

fn render(value: &Value, is_url: bool) -> String {
    match value {
        Value::String(_, s) if is_url => format!("{:?}", redact_url(s)),
        Value::String(_, s) => format!("{s:?}"),
        Value::Char(_, c) => format!("{c:?}"),
        Value::Bool(_, b) => b.to_string(),
        Value::Num(_, n) => {
            let n = *n;
            n.to_u128()
                .map(|u| u.to_string())
                .or_else(|| n.to_i128().map(|i| i.to_string()))
                .or_else(|| n.to_f64().map(|f| f.to_string()))
                .unwrap_or_default()
        }
        Value::Empty(..) => "none".to_owned(),
        Value::Array(_, items) => format!(
            "[{}]",
            items
                .iter()
                .map(|item| render(item, is_url))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Dict(..) => "a table".to_owned(),
    }
}

/// The current value of `key` in `figment`, rendered for a message.
pub(crate) fn value_of(figment: &Figment, key: &str) -> Option<String> {
    let value = figment.find_value(&keys::segments(key).join(".")).ok()?;
    Some(render_value(key, &value))
}

/// Turns a figment error (and the errors chained to it) into problems about `key` (or the
/// error's own path when `key` is `None`).
pub(crate) fn from_figment_error(
    error: figment::Error,
    figment: &Figment,
    key: Option<&str>,
) -> Vec<Problem> {
    error
        .into_iter()
        .map(|error| {
            let key = key.map_or_else(|| error.path.join("."), str::to_owned);
            let mut message = message_of(&error, &key);
            let source = error
                .metadata
                .as_ref()
                .map(|metadata| source::from_metadata(metadata, &key))
                .or_else(|| source::source_of(figment, &key));
            if let (Some(ValueSource::Env { var }), figment::error::Kind::InvalidType(_, expected)) =
                (&source, &error.kind)
                && expected.contains("string")
                && !is_secret(&key)
            {
                // Figment reads `123` or `true` in a variable as a number or a boolean.
                message.push_str(&format!(
                    " (to give a string that looks like a number or boolean, quote it: {var}='\"...\"')"
                ));
            }
            let value = if key.is_empty() {
                None
            } else {
                value_of(figment, &key)
            };
            Problem::new(key, message)
                .with_value(value)
                .with_source(source)
        })
        .collect()
}

fn message_of(error: &figment::Error, key: &str) -> String {
    use figment::error::Kind;
    match &error.kind {
        // Never let serde quote a secret or a URL that may hold a password: the value is shown
        // (redacted) by the problem itself.
        Kind::InvalidType(_, expected) | Kind::InvalidValue(_, expected)
            if is_secret(key) || is_url(key) =>
        {
            format!("invalid value, expected {expected}")
        }
        // Provider errors (a TOML syntax error) span several lines and quote the source line:
        // keep the position and the reason.
        Kind::Message(message) if message.contains('\n') => {
            let lines: Vec<&str> = message
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect();
            match (lines.first(), lines.last()) {
                (Some(first), Some(last)) if lines.len() > 1 => format!("{first}: {last}"),
                _ => message.replace('\n', " "),
            }
        }
        Kind::UnknownVariant(found, expected) => {
            format!("unknown value {found:?}, expected {}", one_of(expected))
        }
        Kind::UnknownField(found, expected) => {
            format!("unknown key `{found}`, expected {}", one_of(expected))
        }
        kind => kind.to_string(),
    }
}

fn one_of(expected: &[&str]) -> String {
    let quoted: Vec<String> = expected.iter().map(|e| format!("{e:?}")).collect();
    match quoted.as_slice() {
        [] => "nothing".to_owned(),
        [one] => one.clone(),
        [rest @ .., last] => format!("one of {} or {last}", rest.join(", ")),
    }
}
