//! [`ConfigError`]: every problem found in a configuration, each with its key, value and source.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use figment::{Figment, Metadata, value::Value};

use crate::{model::redact_url, secret::REDACTED};

/// The name of the provider that supplies [`SessionConfig::default`](crate::SessionConfig).
pub(crate) const DEFAULTS_NAME: &str = "session-config defaults";

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

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueSource {
    /// A file, with the 1-based line of the key when it could be found.
    File {
        /// The file as it was named to the provider.
        path: PathBuf,
        /// The line of the key.
        line: Option<usize>,
    },
    /// An environment variable, such as `SESSION_LIFECYCLE__TTL`.
    Env {
        /// The variable's exact name.
        var: String,
    },
    /// The built-in defaults.
    Default,
    /// Another figment provider, by its name.
    Other(String),
}

impl fmt::Display for ValueSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File {
                path,
                line: Some(line),
            } => write!(f, "{}:{line}", path.display()),
            Self::File { path, line: None } => write!(f, "{}", path.display()),
            Self::Env { var } => write!(f, "environment variable {var}"),
            Self::Default => f.write_str("default"),
            Self::Other(name) => f.write_str(name),
        }
    }
}

/// Whether the key's value must never be shown.
pub(crate) fn is_secret(key: &str) -> bool {
    key == "secret_key" || key.starts_with("secret_key.") || key.starts_with("fallback_keys")
}

/// Whether the key holds URLs, which may carry a password.
fn is_url(key: &str) -> bool {
    key.starts_with("redis.url") || key.starts_with("redis.cluster")
}

/// The figment-style path of a key: `fallback_keys[1]` -> `["fallback_keys"]`.
fn segments(key: &str) -> Vec<&str> {
    let key = key.split('[').next().unwrap_or(key);
    key.split('.').filter(|s| !s.is_empty()).collect()
}

/// Where the value of `key` in `figment` came from.
pub(crate) fn source_of(figment: &Figment, key: &str) -> Option<ValueSource> {
    let metadata = figment.find_metadata(segments(key).join(".").as_str())?;
    Some(source_from_metadata(metadata, key))
}

pub(crate) fn source_from_metadata(metadata: &Metadata, key: &str) -> ValueSource {
    let path = segments(key);
    if let Some(prefix) = env_prefix(metadata) {
        return ValueSource::Env {
            var: env_var_name(&prefix, &path),
        };
    }
    match &metadata.source {
        Some(figment::Source::File(file)) => ValueSource::File {
            line: find_line(file, &path),
            path: file.clone(),
        },
        _ if metadata.name == DEFAULTS_NAME => ValueSource::Default,
        _ => ValueSource::Other(metadata.name.to_string()),
    }
}

/// The prefix of an `Env` provider (`SESSION_`), or `None` for other providers. Figment names
/// a prefixed env provider "`PREFIX` environment variable(s)".
fn env_prefix(metadata: &Metadata) -> Option<String> {
    if metadata.source.is_some() || !metadata.name.ends_with("environment variable(s)") {
        return None;
    }
    let mut parts = metadata.name.split('`');
    match (parts.next(), parts.next()) {
        (Some(""), Some(prefix)) => Some(prefix.to_owned()),
        _ => Some(String::new()),
    }
}

/// `SESSION_` + the path uppercased and joined by `__`, spelled as it is in the environment
/// when such a variable exists (figment matches names case-insensitively).
pub(crate) fn env_var_name(prefix: &str, path: &[&str]) -> String {
    let name = format!(
        "{prefix}{}",
        path.iter()
            .map(|segment| segment.to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join("__")
    );
    std::env::vars_os()
        .filter_map(|(var, _)| var.into_string().ok())
        .find(|var| var.trim().eq_ignore_ascii_case(&name))
        .map(|var| var.trim().to_owned())
        .unwrap_or(name)
}

/// The 1-based line of `path` in a TOML file: the line that sets it, within its `[table]`, or
/// failing that the line that sets its nearest parent (an inline table).
pub(crate) fn find_line(file: &Path, path: &[&str]) -> Option<usize> {
    let text = std::fs::read_to_string(file).ok()?;
    let mut table: Vec<String> = Vec::new();
    let mut parent_line = None;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            let inner = line.trim_start_matches('[');
            let inner = inner.split(']').next().unwrap_or(inner);
            table = split_key(inner);
            if is_proper_prefix(&table, path) {
                parent_line.get_or_insert(index + 1);
            }
            continue;
        }
        let Some(eq) = line.find('=') else {
            continue;
        };
        let mut full = table.clone();
        full.extend(split_key(&line[..eq]));
        if full == path {
            return Some(index + 1);
        }
        if is_proper_prefix(&full, path) {
            parent_line.get_or_insert(index + 1);
        }
    }
    parent_line
}

fn is_proper_prefix(prefix: &[String], path: &[&str]) -> bool {
    !prefix.is_empty() && prefix.len() < path.len() && prefix.iter().zip(path).all(|(a, b)| a == b)
}

fn split_key(key: &str) -> Vec<String> {
    key.split('.')
        .map(|segment| segment.trim().trim_matches(['"', '\'']).to_owned())
        .filter(|segment| !segment.is_empty())
        .collect()
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
    let value = figment.find_value(&segments(key).join(".")).ok()?;
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
                .map(|metadata| source_from_metadata(metadata, &key))
                .or_else(|| source_of(figment, &key));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines_in_tables_dotted_keys_and_inline_tables() {
        let dir = std::env::temp_dir().join(format!("session-config-lines-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("lines.toml");
        std::fs::write(
            &file,
            "store = \"memory\"\n# [cookie]\n[cookie]\nname = \"x\"\n\n[ lifecycle ]\n\"ttl\" = \"1d\"\n[redis]\ncluster = [\n  \"redis://a\",\n]\n",
        )
        .expect("write");
        assert_eq!(find_line(&file, &["store"]), Some(1));
        assert_eq!(find_line(&file, &["cookie", "name"]), Some(4));
        assert_eq!(find_line(&file, &["lifecycle", "ttl"]), Some(7));
        assert_eq!(find_line(&file, &["redis", "cluster"]), Some(9));
        assert_eq!(find_line(&file, &["cookie", "path"]), Some(3));
        std::fs::write(&file, "cookie = { name = \"x\" }\ncookie.path = \"/\"\n").expect("write");
        assert_eq!(find_line(&file, &["cookie", "name"]), Some(1));
        assert_eq!(find_line(&file, &["cookie", "path"]), Some(2));
        std::fs::remove_dir_all(&dir).ok();
    }
}
