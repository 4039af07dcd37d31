//! [`PostgresSessionStore`]: sessions in a Postgres table.

mod builder;
mod statements;

use std::sync::Arc;

use sqlx::{AssertSqlSafe, PgPool, Row as _};

pub use self::builder::PostgresSessionStoreBuilder;
use self::statements::Statements;
use super::{Backend, Core, Patch, SqlStoreError, Stamp, sql_store_impls};

/// A session store on Postgres (feature `postgres-session`), on sqlx with tokio and rustls.
///
/// Clones share one connection pool. `Debug` never prints a password.
///
/// ```no_run
/// use actix_web::{cookie::Key, App, HttpServer};
/// use session::{storage::PostgresSessionStore, SessionMiddleware};
///
/// # async fn run() -> std::io::Result<()> {
/// let store = PostgresSessionStore::new("postgres://app:secret@127.0.0.1/app")
///     .await
///     .map_err(std::io::Error::other)?;
/// let key = Key::generate(); // in production: load a fixed 64-byte key
/// HttpServer::new(move || {
///     App::new().wrap(SessionMiddleware::new(store.clone(), key.clone()))
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await
/// # }
/// ```
///
/// # Table
/// One row per session in `sessions` (see [`table`](PostgresSessionStoreBuilder::table) and
/// [`schema`](PostgresSessionStoreBuilder::schema)), created by the store's own versioned
/// migrations, kept in `<table>_migrations` (so they never clash with the application's):
///
/// | column | type | content |
/// |---|---|---|
/// | `id` | `TEXT PRIMARY KEY` | `1:` and the hex SHA-256 of the session key: the key itself is never stored |
/// | `data` | `JSONB` | the session state, one member per entry |
/// | `created_at`, `last_seen`, `expires_at` | `BIGINT` | Unix milliseconds: created, last written or refreshed, expiry (indexed) |
/// | `owner`, `public_id` | `TEXT` | the owner of the session and its public id, for listing and revoking a user's sessions (indexed by owner) |
///
/// # Semantics
/// Every operation is one statement, and expiry is always compared with a time from the
/// store's [`Clock`](crate::config::Clock), passed as a parameter (never the database's
/// `now()`):
/// - a new session is inserted only if no live row holds its key; a collision is retried
///   with a fresh key;
/// - an update changes only the entries the request changed (`(data || $set) - $removed`),
///   so concurrent requests on one session keep each other's writes, and it never
///   re-creates a row that was deleted or expired while the request ran;
/// - expired rows are never served, and a background task deletes them (see
///   [`sweep_interval`](PostgresSessionStoreBuilder::sweep_interval)); call
///   [`delete_expired`](Self::delete_expired) to do it yourself.
///
/// Failures reach the middleware as [`LoadError::Other`](crate::storage::LoadError::Other)
/// and friends: the client gets an opaque `500`, the cause (a [`SqlStoreError`]) is logged,
/// and the pool reconnects by itself once the database is back.
#[derive(Clone)]
pub struct PostgresSessionStore {
    core: Arc<Core<PgBackend>>,
}

impl PostgresSessionStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`) with the
    /// default settings, and runs the migrations.
    ///
    /// # Errors
    /// See [`PostgresSessionStoreBuilder::build`].
    pub async fn new(url: impl Into<String>) -> Result<Self, SqlStoreError> {
        Self::builder(url).build().await
    }

    /// Configures a store on the database at `url`.
    pub fn builder(url: impl Into<String>) -> PostgresSessionStoreBuilder {
        PostgresSessionStoreBuilder::new(builder::Source::Url(url.into()))
    }

    /// Configures a store on a pool the application already has.
    pub fn builder_with_pool(pool: PgPool) -> PostgresSessionStoreBuilder {
        PostgresSessionStoreBuilder::new(builder::Source::Pool(pool))
    }

    /// Applies the migrations the table lacks (the builder does it unless told not to).
    ///
    /// # Errors
    /// [`SqlStoreError::Migrate`] when a migration fails; it is then not applied.
    pub async fn migrate(&self) -> Result<(), SqlStoreError> {
        self.core
            .migrate(|backend| async move { builder::migrate(&backend).await })
            .await
    }

    /// Deletes every expired session now, a batch per statement, and returns how many rows
    /// were deleted.
    ///
    /// # Errors
    /// [`SqlStoreError::Database`] when a statement fails.
    pub async fn delete_expired(&self) -> Result<u64, SqlStoreError> {
        self.core.delete_expired().await
    }

    /// The pool the store runs on.
    pub fn pool(&self) -> &PgPool {
        &self.core.backend.pool
    }
}

impl std::fmt::Debug for PostgresSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSessionStore")
            .field("table", &self.core.backend.sql.table)
            .field(
                "pool_size",
                &self.core.backend.pool.options().get_max_connections(),
            )
            .finish_non_exhaustive()
    }
}

sql_store_impls!(PostgresSessionStore);

/// The pool and the statements, rendered for the configured table.
pub(crate) struct PgBackend {
    pool: PgPool,
    sql: Statements,
    /// The schema and the bare table name, for the migrations.
    schema: Option<String>,
    name: String,
}

/// `{"key": value, ...}` from entries whose values are JSON already.
fn json_object(entries: &[(String, String)]) -> String {
    let mut object = String::from("{");
    for (index, (key, value)) in entries.iter().enumerate() {
        if index > 0 {
            object.push(',');
        }
        object.push_str(&serde_json::Value::from(key.as_str()).to_string());
        object.push(':');
        object.push_str(value);
    }
    object.push('}');
    object
}

impl Backend for PgBackend {
    async fn load(&self, id: &str, now: i64) -> Result<Option<String>, sqlx::Error> {
        sqlx::query(AssertSqlSafe(self.sql.load.clone()))
            .bind(id)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| row.try_get(0))
            .transpose()
    }

    async fn insert(&self, id: &str, data: &str, stamp: Stamp) -> Result<bool, sqlx::Error> {
        self.write_whole(self.sql.insert.clone(), id, data, stamp)
            .await
    }

    async fn replace(&self, id: &str, data: &str, stamp: Stamp) -> Result<bool, sqlx::Error> {
        self.write_whole(self.sql.replace.clone(), id, data, stamp)
            .await
    }

    async fn patch(&self, id: &str, patch: &Patch, stamp: Stamp) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(AssertSqlSafe(self.sql.patch.clone()))
            .bind(id)
            .bind(json_object(&patch.set))
            .bind(&patch.removed)
            .bind(stamp.now)
            .bind(stamp.expires_at)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn touch(&self, id: &str, stamp: Stamp) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(AssertSqlSafe(self.sql.touch.clone()))
            .bind(id)
            .bind(stamp.now)
            .bind(stamp.expires_at)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query(AssertSqlSafe(self.sql.delete.clone()))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_expired_batch(&self, now: i64, limit: i64) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(AssertSqlSafe(self.sql.delete_expired.clone()))
            .bind(now)
            .bind(limit)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn link(
        &self,
        id: &str,
        owner: &str,
        public_id: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(AssertSqlSafe(self.sql.link.clone()))
            .bind(id)
            .bind(owner)
            .bind(public_id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn unlink(&self, owner: &str, public_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query(AssertSqlSafe(self.sql.unlink.clone()))
            .bind(owner)
            .bind(public_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn owner_states(&self, owner: &str, now: i64) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query(AssertSqlSafe(self.sql.owner_states.clone()))
            .bind(owner)
            .bind(now)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect()
    }

    async fn revoke(
        &self,
        owner: &str,
        only: Option<&str>,
        except: Option<&str>,
        now: i64,
    ) -> Result<u64, sqlx::Error> {
        let live: i64 = sqlx::query(AssertSqlSafe(self.sql.revoke.clone()))
            .bind(owner)
            .bind(only)
            .bind(except)
            .bind(now)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(live.unsigned_abs())
    }
}

impl PgBackend {
    /// Writes a whole state with `sql` (the insert or the replace statement, which take the
    /// same parameters); whether a row was written.
    async fn write_whole(
        &self,
        sql: Arc<str>,
        id: &str,
        data: &str,
        stamp: Stamp,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(data)
            .bind(stamp.now)
            .bind(stamp.expires_at)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_entries_make_one_json_object() {
        let entries = vec![
            ("a\"b".to_owned(), "1".to_owned()),
            ("c".to_owned(), "{\"d\":[true]}".to_owned()),
        ];
        let object: serde_json::Value = serde_json::from_str(&json_object(&entries)).unwrap();
        assert_eq!(object, serde_json::json!({"a\"b": 1, "c": {"d": [true]}}));
        assert_eq!(json_object(&[]), "{}");
    }
}
