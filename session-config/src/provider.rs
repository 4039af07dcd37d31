//! The providers: [`SessionConfig::figment`] layers the defaults, the file and the
//! environment; a [`SessionConfig`] is itself a provider (the defaults layer).

use std::path::Path;

use figment::{
    Figment, Metadata, Profile, Provider,
    providers::{Env, Format, Serialized, Toml},
    value::{Dict, Map},
};

use crate::{
    config::SessionConfig,
    error::{ConfigError, Problem},
    keys::{self, CONFIG_ENV, DEFAULT_CONFIG_FILE, DEFAULTS_PROVIDER, ENV_PREFIX},
    secret::SecretKey,
    source::ValueSource,
};

impl SessionConfig {
    /// The providers, in ascending priority:
    ///
    /// 1. [`SessionConfig::default()`],
    /// 2. the TOML file named by the `SESSION_CONFIG` environment variable (an error if it
    ///    does not exist), or else `session.toml` in the working directory if it exists,
    /// 3. `SESSION_*` environment variables, nested keys split on `__`
    ///    (`Env::prefixed("SESSION_").split("__")`, without `SESSION_CONFIG`).
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
            .merge(env_provider());
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
    figment.merge(env_provider())
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

/// `SESSION_*` variables whose first part is a known key, or looks like a mistyped one
/// (`SESSION_COOKIE_NAME`), split on `__`.
fn env_provider() -> Env {
    Env::prefixed(ENV_PREFIX)
        .filter(|key| {
            let key = key.as_str().to_ascii_lowercase();
            if key == CONFIG_ENV[ENV_PREFIX.len()..].to_ascii_lowercase() {
                return false;
            }
            let first = key.split("__").next().unwrap_or_default();
            keys::TOP_KEYS.contains(&first)
                // Likely typos (`SESSION_STROE`) are kept, to be reported.
                || keys::closest(first, keys::TOP_KEYS).is_some()
                || keys::SECTIONS
                    .iter()
                    .any(|(section, _)| first.starts_with(&format!("{section}_")))
        })
        .split("__")
}
