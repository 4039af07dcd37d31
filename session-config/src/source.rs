//! [`ValueSource`]: where a configuration value came from (a file and line, an environment
//! variable, the defaults), read from figment's [`Metadata`].

use std::{
    fmt,
    path::{Path, PathBuf},
};

use figment::{Figment, Metadata, Profile};

use crate::keys::{self, DEFAULTS_PROVIDER, ENV_PROVIDER};

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

/// Where the value of `key` in `figment` came from.
pub(crate) fn source_of(figment: &Figment, key: &str) -> Option<ValueSource> {
    let metadata = figment.find_metadata(keys::segments(key).join(".").as_str())?;
    Some(from_metadata(metadata, key))
}

/// Where a value of `key` described by `metadata` came from.
pub(crate) fn from_metadata(metadata: &Metadata, key: &str) -> ValueSource {
    let path = keys::segments(key);
    if metadata.name == ENV_PROVIDER {
        // The environment provider's interpolater gives the variable's own name.
        return ValueSource::Env {
            var: metadata.interpolate(&Profile::Default, &path),
        };
    }
    match &metadata.source {
        Some(figment::Source::File(file)) => ValueSource::File {
            line: find_line(file, &path),
            path: file.clone(),
        },
        _ if metadata.name == DEFAULTS_PROVIDER => ValueSource::Default,
        _ => ValueSource::Other(metadata.name.to_string()),
    }
}

/// The 1-based line of `path` in a TOML file: the line that sets it, within its `[table]`, or
/// failing that the line that sets its nearest parent (an inline table).
fn find_line(file: &Path, path: &[&str]) -> Option<usize> {
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
