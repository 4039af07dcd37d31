//! [`SqliteSessionStore`]: sessions in a SQLite file.

mod builder;
mod statements;

use std::sync::Arc;

use sqlx::{AssertSqlSafe, Row as _, SqlitePool};

pub use self::builder::SqliteSessionStoreBuilder;
use self::statements::Statements;
use super::{Backend, Core, Patch, SqlStoreError, Stamp, sql_store_impls};

/// A session store in a SQLite database file (feature `sqlite-session`), on sqlx with
/// SQLite compiled in: sessions that survive a restart with no server to run.
///
/// Clones share one connection pool. Sessions are shared by the processes of one machine
/// that open the same file; use Postgres or Redis for several machines.
///
/// ```no_run
/// use actix_web::{cookie::Key, App, HttpServer};
/// use session::{storage::SqliteSessionStore, SessionMiddleware};
///
/// # async fn run() -> std::io::Result<()> {
/// let store = SqliteSessionStore::new("sqlite:///var/lib/myapp/sessions.db")
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
/// # Database
/// The file is created if missing, in WAL mode (readers never wait for the writer), with a
/// [busy timeout](SqliteSessionStoreBuilder::busy_timeout) so that concurrent writers wait
/// for each other instead of failing. Every write is a single statement. Use a file: a
/// pooled `:memory:` database is one database per connection.
///
/// # Table
/// One row per session in `sessions` (see [`table`](SqliteSessionStoreBuilder::table)),
/// created by the store's own versioned migrations, kept in `<table>_migrations`:
///
/// | column | type | content |
/// |---|---|---|
/// | `id` | `TEXT PRIMARY KEY` | `1:` and the hex SHA-256 of the session key: the key itself is never stored |
/// | `data` | `TEXT` (JSON) | the session state, one member per entry |
/// | `created_at`, `last_seen`, `expires_at` | `INTEGER` | Unix milliseconds: created, last written or refreshed, expiry (indexed) |
/// | `owner`, `public_id` | `TEXT` | the owner of the session and its public id, for listing and revoking a user's sessions (indexed by owner) |
///
/// # Semantics
/// Every operation is one statement, and expiry is always compared with a time from the
/// store's [`Clock`](crate::config::Clock), passed as a parameter:
/// - a new session is inserted only if no live row holds its key; a collision is retried
///   with a fresh key;
/// - an update changes only the entries the request changed (`json_set` / `json_remove`),
///   so concurrent requests on one session keep each other's writes, and it never
///   re-creates a row that was deleted or expired while the request ran;
/// - expired rows are never served, and a background task deletes them (see
///   [`sweep_interval`](SqliteSessionStoreBuilder::sweep_interval)); call
///   [`delete_expired`](Self::delete_expired) to do it yourself.
#[derive(Clone)]
pub struct SqliteSessionStore {
    core: Arc<Core<SqliteBackend>>,
}

impl SqliteSessionStore {
    /// Opens (or creates) the database at `url` (`sqlite:///path/to/sessions.db`, or a
    /// plain file path) with the default settings, and runs the migrations.
    ///
    /// # Errors
    /// See [`SqliteSessionStoreBuilder::build`].
    pub async fn new(url: impl Into<String>) -> Result<Self, SqlStoreError> {
        Self::builder(url).build().await
    }

    /// Configures a store on the database at `url` (a `sqlite:` URL or a file path).
    pub fn builder(url: impl Into<String>) -> SqliteSessionStoreBuilder {
        SqliteSessionStoreBuilder::new(builder::Source::Url(url.into()))
    }

    /// Configures a store on a pool the application already has.
    pub fn builder_with_pool(pool: SqlitePool) -> SqliteSessionStoreBuilder {
        SqliteSessionStoreBuilder::new(builder::Source::Pool(pool))
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
    pub fn pool(&self) -> &SqlitePool {
        &self.core.backend.pool
    }
}

impl std::fmt::Debug for SqliteSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteSessionStore")
            .field("table", &self.core.backend.sql.table)
            .field(
                "pool_size",
                &self.core.backend.pool.options().get_max_connections(),
            )
            .finish_non_exhaustive()
    }
}

sql_store_impls!(SqliteSessionStore);

/// The pool and the statements, rendered for the configured table.
pub(crate) struct SqliteBackend {
    pool: SqlitePool,
    sql: Statements,
    /// The bare table name, for the migrations.
    name: String,
}

impl Backend for SqliteBackend {
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
        let sql = self.sql.patch(patch.set.len(), patch.removed.len());
        let mut query = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(stamp.now)
            .bind(stamp.expires_at);
        for (key, value) in &patch.set {
            query = query.bind(statements::path(key)).bind(value);
        }
        for key in &patch.removed {
            query = query.bind(statements::path(key));
        }
        Ok(query.execute(&self.pool).await?.rows_affected() == 1)
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
        let rows = sqlx::query(AssertSqlSafe(self.sql.revoke.clone()))
            .bind(owner)
            .bind(only)
            .bind(except)
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        let mut live = 0;
        for row in rows {
            if row.try_get::<bool, _>(0)? {
                live += 1;
            }
        }
        Ok(live)
    }
}

impl SqliteBackend {
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

    /// A store on a new file in a fresh temporary directory.
    async fn store(name: &str) -> (SqliteSessionStore, std::path::PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("session-sqlite-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteSessionStore::new(dir.join("s.db").to_str().unwrap())
            .await
            .unwrap();
        (store, dir)
    }

    #[actix_rt::test]
    async fn an_insert_never_overwrites_a_live_row_but_reuses_an_expired_one() {
        let (store, dir) = store("insert").await;
        let backend = &store.core.backend;
        let live = Stamp {
            now: 1_000,
            expires_at: 2_000,
        };
        assert!(
            backend
                .insert("1:id", r#"{"user":"first"}"#, live)
                .await
                .unwrap()
        );
        assert!(
            !backend
                .insert("1:id", r#"{"user":"second"}"#, live)
                .await
                .unwrap()
        );
        let data = backend.load("1:id", 1_500).await.unwrap();
        assert_eq!(data.as_deref(), Some(r#"{"user":"first"}"#));
        // At 2000 the first row has expired: the id is free again.
        let later = Stamp {
            now: 2_000,
            expires_at: 3_000,
        };
        assert!(
            backend
                .insert("1:id", r#"{"user":"third"}"#, later)
                .await
                .unwrap()
        );
        let data = backend.load("1:id", 2_500).await.unwrap();
        assert_eq!(data.as_deref(), Some(r#"{"user":"third"}"#));
        let _ = std::fs::remove_dir_all(dir);
    }
}
