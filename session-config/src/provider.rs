//! The providers: [`SessionConfig::figment`] layers the defaults, the file and the
//! environment; a [`SessionConfig`] is itself a provider (the defaults layer); and
//! [`SessionEnv`] reads the `SESSION_*` variables and names them in its metadata.

use std::{ffi::OsString, path::Path, sync::Arc};

use figment::{
    Figment, Metadata, Profile, Provider,
    providers::{Env, Format, Serialized, Toml},
    util::nest,
    value::{Dict, Map, Value},
};

use crate::{
    config::SessionConfig,
    error::{ConfigError, Problem},
    keys::{self, CONFIG_ENV, DEFAULT_CONFIG_FILE, DEFAULTS_PROVIDER, ENV_PREFIX, ENV_PROVIDER},
    secret::SecretKey,
    source::ValueSource,
};

impl SessionConfig {
    /// The providers, in ascending priority:
    ///
    /// 1. [`SessionConfig::default()`],
    /// 2. the TOML file named by the `SESSION_CONFIG` environment variable (an error if it
    ///    does not exist), or else `session.toml` in the working directory if it exists,
    /// 3. `SESSION_*` environment variables, nested keys split on `__`, read as figment's
    ///    `Env::prefixed("SESSION_").split("__")` reads them, but only those whose first part
    ///    is a key of this crate or a likely misspelling of one, and not `SESSION_CONFIG`.
    ///    Each value's [`Metadata`] names its variable (`SESSION_COOKIE__NAME`).
    ///
    /// Merge your own providers on top, then call [`from_figment`](Self::from_figment). For
    /// defaults of your own that the file and the environment still override, use
    /// [`figment_with_defaults`](Self::figment_with_defaults).
    pub fn figment() -> Figment {
        file_and_env_over(Figment::from(Self::default()))
    }

    /// The layers of [`figment()`](Self::figment) with the application's own `defaults`
    /// between the built-in defaults and the file: `session.toml` and `SESSION_*` still
    /// override them.
    ///
    /// ```
    /// use figment::providers::Serialized;
    /// use session_config::SessionConfig;
    ///
    /// # figment::Jail::expect_with(|jail| {
    /// # jail.clear_env();
    /// // Plain HTTP in development, unless session.toml or SESSION_COOKIE__SECURE say otherwise.
    /// let defaults = Serialized::default("cookie.secure", false);
    /// let figment = SessionConfig::figment_with_defaults(defaults);
    /// let config = SessionConfig::from_figment(&figment).map_err(|e| e.to_string())?;
    /// assert!(!config.cookie.secure);
    /// # Ok(())
    /// # });
    /// ```
    pub fn figment_with_defaults(defaults: impl Provider) -> Figment {
        file_and_env_over(Figment::from(Self::default()).merge(defaults))
    }

    /// Loads the configuration from [`figment()`](Self::figment): defaults, then the file,
    /// then the environment.
    pub fn load() -> Result<Self, ConfigError> {
        if let Some(path) = Env::var(CONFIG_ENV)
            && !Path::new(&path).is_file()
        {
            return Err(ConfigError::new(vec![
                Problem::new(
                    "",
                    format!("names the configuration file {path:?}, which does not exist"),
                )
                .with_source(Some(ValueSource::Env {
                    var: CONFIG_ENV.to_owned(),
                })),
            ]));
        }
        Self::from_figment(&Self::figment())
    }

    /// Loads the configuration from the defaults, the TOML file at `path` (which must exist),
    /// then the `SESSION_*` environment variables.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let figment = Figment::from(Self::default())
            .merge(Toml::file_exact(path.as_ref()))
            .merge(SessionEnv::new());
        Self::from_figment(&figment)
    }
}

/// `figment`, then the configuration file (if any), then the environment.
fn file_and_env_over(figment: Figment) -> Figment {
    let figment = match Env::var(CONFIG_ENV) {
        Some(path) => figment.merge(Toml::file_exact(path)),
        None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
            figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE))
        }
        None => figment,
    };
    figment.merge(SessionEnv::new())
}

/// Supplies [`SessionConfig::default`] (or any config built in code) as the lowest layer of
/// a figment: `Figment::from(config)` extracts back to an equal config, keys included (they
/// are handed over inside the figment only, never through `Serialize`).
impl Provider for SessionConfig {
    fn metadata(&self) -> Metadata {
        Metadata::named(DEFAULTS_PROVIDER)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut data = Serialized::defaults(self).data()?;
        let dict = data.entry(Profile::Default).or_default();
        if let Some(key) = &self.secret_key {
            dict.insert("secret_key".to_owned(), key.to_base64().into());
        }
        if !self.fallback_keys.is_empty() {
            let keys: Vec<String> = self
                .fallback_keys
                .iter()
                .map(SecretKey::to_base64)
                .collect();
            dict.insert("fallback_keys".to_owned(), keys.into());
        }
        Ok(data)
    }
}

/// The `SESSION_*` environment variables, read once when the provider is made.
///
/// They are read as figment's `Env::prefixed("SESSION_").split("__")` reads them: the prefix
/// matches in any case, `__` separates the parts of nested keys, keys are lowercased, and
/// values are parsed as figment parses environment values (`5`, `true`, `["a", "b"]`,
/// `{ name = "x" }`, `"quoted"`). Only variables whose first part is a key of ours, or looks
/// like a mistyped one (`SESSION_STROE`, `SESSION_COOKIE_NAME`), are read, so that unrelated
/// ones such as `SESSION_MANAGER` stay out; `SESSION_CONFIG` names the file and is not a key.
///
/// Its [`Metadata`] names each value's variable: interpolating the path `cookie.name` gives
/// `SESSION_COOKIE__NAME`, spelled as it is in the environment.
#[derive(Clone)]
pub(crate) struct SessionEnv {
    vars: Arc<[EnvVar]>,
}

/// One variable we read.
struct EnvVar {
    /// The key it sets, in figment's form: `cookie.name`.
    key: String,
    /// The variable as spelled in the environment: `SESSION_COOKIE__NAME`.
    name: String,
    /// Its value, as written.
    value: String,
}

impl SessionEnv {
    /// The `SESSION_*` variables of the process environment, as they are now.
    pub(crate) fn new() -> Self {
        Self::from_vars(std::env::vars_os())
    }

    fn from_vars(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Self {
        let vars = vars
            .into_iter()
            .filter_map(|(name, value)| {
                let name = name.to_string_lossy();
                let name = name.trim();
                Some(EnvVar {
                    key: key_of(name)?,
                    name: name.to_owned(),
                    value: value.to_string_lossy().into_owned(),
                })
            })
            .collect();
        Self { vars }
    }

    /// The variable that set the value at `path`: the one for that key (the last one when
    /// several spellings are set, as the last one wins), else the one that gave a whole
    /// enclosing table (`SESSION_COOKIE='{ name = "x" }'`), else the name such a variable
    /// would have.
    fn var_name(&self, path: &[&str]) -> String {
        let key = path.join(".");
        let exact = self.vars.iter().rev().find(|var| var.key == key);
        let enclosing = || {
            self.vars
                .iter()
                .rev()
                .filter(|var| {
                    key.strip_prefix(var.key.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
                })
                .max_by_key(|var| var.key.len())
        };
        exact
            .or_else(enclosing)
            .map_or_else(|| keys::env_var(path), |var| var.name.clone())
    }
}

impl Provider for SessionEnv {
    fn metadata(&self) -> Metadata {
        let env = self.clone();
        Metadata::named(ENV_PROVIDER)
            .interpolater(move |_: &Profile, path: &[&str]| env.var_name(path))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for var in self.vars.iter() {
            let Ok(value) = var.value.parse::<Value>();
            if let Value::Dict(_, nested) = nest(&var.key, value) {
                merge(&mut dict, nested);
            }
        }
        Ok(Profile::Default.collect(dict))
    }
}

/// The key a variable sets (`SESSION_COOKIE__NAME` -> `cookie.name`), or `None` when it is
/// not one of ours.
fn key_of(name: &str) -> Option<String> {
    let prefix = name.get(..ENV_PREFIX.len())?;
    if !prefix.eq_ignore_ascii_case(ENV_PREFIX) {
        return None;
    }
    let rest = &name[ENV_PREFIX.len()..];
    if !is_ours(rest) {
        return None;
    }
    let key = rest.replace("__", ".");
    let key = key.trim();
    if key.split('.').any(str::is_empty) {
        return None;
    }
    Some(key.to_ascii_lowercase())
}

/// Whether a variable, without its prefix, is meant for us: its first part is a key of ours
/// or looks like a mistyped one (kept, to be reported), and it is not `SESSION_CONFIG`.
fn is_ours(rest: &str) -> bool {
    let rest = rest.to_ascii_lowercase();
    if rest == CONFIG_ENV[ENV_PREFIX.len()..].to_ascii_lowercase() {
        return false;
    }
    let first = rest.split("__").next().unwrap_or_default();
    keys::TOP_KEYS.contains(&first)
        || keys::closest(first, keys::TOP_KEYS).is_some()
        || keys::SECTIONS
            .iter()
            .any(|(section, _)| first.starts_with(&format!("{section}_")))
}

/// Merges `incoming` into `dict` as figment merges one variable after another: tables merge
/// key by key, any other value replaces the one before it.
fn merge(dict: &mut Dict, incoming: Dict) {
    for (key, value) in incoming {
        match (dict.get_mut(&key), value) {
            (Some(Value::Dict(_, existing)), Value::Dict(_, nested)) => merge(existing, nested),
            (_, value) => {
                dict.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> SessionEnv {
        SessionEnv::from_vars(
            vars.iter()
                .map(|(name, value)| (OsString::from(name), OsString::from(value))),
        )
    }

    #[test]
    fn reads_only_our_variables() {
        let env = env(&[
            ("SESSION_COOKIE__NAME", "sid"),
            ("session_store", "cookie"),
            ("SESSION_STROE", "typo, kept to be reported"),
            ("SESSION_COOKIE_NAME", "typo, kept to be reported"),
            ("SESSION_MANAGER", "local/host:@/tmp/.ICE-unix/1"),
            ("SESSION_CONFIG", "session.toml"),
            ("SESSIONS", "x"),
            ("SESSION_COOKIE____NAME", "an empty part"),
            (" SESSION_LIFECYCLE__TTL ", "1h"),
            ("PATH", "/bin"),
        ]);
        let keys: Vec<&str> = env.vars.iter().map(|var| var.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "cookie.name",
                "store",
                "stroe",
                "cookie_name",
                "lifecycle.ttl"
            ]
        );
    }

    #[test]
    fn names_each_value_by_its_variable() {
        let env = env(&[
            ("Session_Cookie__Name", "sid"),
            ("SESSION_REDIS", "{ url = \"redis://a\" }"),
            ("SESSION_COOKIE_NAME", "sid"),
        ]);
        let metadata = env.metadata();
        let name = |path: &[&str]| metadata.interpolate(&Profile::Default, path);
        assert_eq!(name(&["cookie", "name"]), "Session_Cookie__Name");
        assert_eq!(name(&["cookie_name"]), "SESSION_COOKIE_NAME");
        assert_eq!(name(&["redis", "url"]), "SESSION_REDIS", "a whole table");
        assert_eq!(name(&["lifecycle", "ttl"]), "SESSION_LIFECYCLE__TTL");
    }

    /// The data is what figment's own `Env` gives with the same prefix, filter and split.
    #[test]
    #[allow(clippy::result_large_err)] // `Jail` closures return `figment::Result`.
    fn reads_values_as_figments_env_does() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            for (name, value) in [
                ("SESSION_STORE", "redis"),
                ("session_lazy_loading", "true"),
                ("SESSION_COOKIE__NAME", "sid"),
                ("SESSION_COOKIE__VERIFIED_CACHE", "64"),
                ("SESSION_COOKIE", "{ secure = false, path = \"/app\" }"),
                (
                    "SESSION_REDIS__CLUSTER",
                    "[\"redis://a:1\", \"redis://b:2\"]",
                ),
                ("SESSION_REDIS__KEY_PREFIX", "\"123\""),
                ("SESSION_LIFECYCLE__TTL", "7 parsecs"),
                ("SESSION_FALLBACK_KEYS", "[]"),
                ("SESSION_STROE", "memory"),
                ("SESSION_MANAGER", "local/host"),
                ("SESSION_CONFIG", "session.toml"),
            ] {
                jail.set_env(name, value);
            }
            let figments = Env::prefixed(ENV_PREFIX)
                .filter(|key| is_ours(key.as_str()))
                .split("__");
            let ours = SessionEnv::new().data()?;
            assert_eq!(ours, figments.data()?);
            let dict = &ours[&Profile::Default];
            assert_eq!(dict.len(), 7, "{dict:?}");
            Ok(())
        });
    }
}
