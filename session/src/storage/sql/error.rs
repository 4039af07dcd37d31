//! [`SqlStoreError`]: what can go wrong between the SQL stores and their database.

/// Why a Postgres or SQLite store could not be built or could not complete an operation.
///
/// Store operations wrap it in [`LoadError::Other`](crate::storage::LoadError::Other),
/// [`SaveError::Other`](crate::storage::SaveError::Other), ... (and
/// [`LoadError::Deserialization`](crate::storage::LoadError::Deserialization) for
/// [`InvalidRecord`](Self::InvalidRecord)). Its messages never contain a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqlStoreError {
    /// The database URL could not be parsed.
    #[error("invalid database URL {url}")]
    Url {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// What the driver said.
        #[source]
        source: sqlx::Error,
    },
    /// A table or schema name is not a plain SQL identifier.
    #[error(
        "invalid {what} name {name:?}: use 1 to 48 ASCII letters, digits or underscores, not starting with a digit"
    )]
    InvalidName {
        /// `table` or `schema`.
        what: &'static str,
        /// The refused name.
        name: String,
    },
    /// The database could not be reached, refused the connection or the credentials.
    #[error("could not connect to the database at {url}")]
    Connect {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// What the driver said.
        #[source]
        source: sqlx::Error,
    },
    /// A schema migration failed (nothing of it was applied).
    #[error("the session table migration {version} failed")]
    Migrate {
        /// The migration that failed.
        version: i64,
        /// What the database said.
        #[source]
        source: sqlx::Error,
    },
    /// A statement failed: the database is down, timed out or answered with an error.
    #[error("the session {operation} statement failed")]
    Database {
        /// The store operation (`load`, `save`, `update`, ...).
        operation: &'static str,
        /// What the driver said.
        #[source]
        source: sqlx::Error,
    },
    /// Every fresh session key tried was already taken.
    #[error("could not find a free session key after {attempts} attempts")]
    KeyCollision {
        /// How many keys were tried.
        attempts: usize,
    },
    /// A stored record could not be decoded.
    #[error("undecodable session record: {0}")]
    InvalidRecord(String),
}

impl SqlStoreError {
    pub(crate) fn database(operation: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Self::Database { operation, source }
    }
}
