//! [`SqliteSessionStoreBuilder`]: which file, which table, how many connections, how long to
//! wait for the writer, how often to sweep; and the migrations it runs.

use std::{fmt, str::FromStr as _, sync::Arc, time::Duration};

use sqlx::{
    AssertSqlSafe, Row as _, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use super::{
    SqliteBackend, SqliteSessionStore,
    statements::{MIGRATIONS, MIGRATIONS_TABLE, Statements},
};
use crate::{
    clock::Clock,
    storage::{
        redact_url,
        sql::{
            Core, DEFAULT_CONNECT_TIMEOUT, DEFAULT_SWEEP_INTERVAL, DEFAULT_TABLE, SqlStoreError,
            check_name, render, sweeper,
        },
    },
};

/// The default number of pooled connections.
const DEFAULT_POOL_SIZE: u32 = 4;
/// The default wait for another connection's write to finish.
const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the store gets its connections.
pub(super) enum Source {
    Url(String),
    Pool(SqlitePool),
}

/// Configures a [`SqliteSessionStore`]; made by [`SqliteSessionStore::builder`] (a URL or
/// a path) or [`SqliteSessionStore::builder_with_pool`] (the application's pool).
///
/// ```no_run
/// use std::time::Duration;
/// use session::storage::SqliteSessionStore;
///
/// # async fn run() -> Result<(), session::storage::SqlStoreError> {
/// let store = SqliteSessionStore::builder("/var/lib/myapp/sessions.db")
///     .table("web_sessions")
///     .busy_timeout(Duration::from_secs(2))
///     .build()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct SqliteSessionStoreBuilder {
    source: Source,
    table: String,
    pool_size: u32,
    busy_timeout: Duration,
    connect_timeout: Duration,
    sweep_interval: Option<Duration>,
    migrate: bool,
    clock: Clock,
}

impl SqliteSessionStoreBuilder {
    pub(super) fn new(source: Source) -> Self {
        Self {
            source,
            table: DEFAULT_TABLE.to_owned(),
            pool_size: DEFAULT_POOL_SIZE,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            sweep_interval: Some(DEFAULT_SWEEP_INTERVAL),
            migrate: true,
            clock: Clock::system(),
        }
    }

    /// The table the sessions live in (default `sessions`): ASCII letters, digits and
    /// underscores.
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// The most connections the store's pool opens (default 4; ignored with an existing
    /// pool). Reads run in parallel; writes take turns on the database's one write lock.
    pub fn pool_size(mut self, size: u32) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// How long a write waits for another connection's write to finish before it fails
    /// (default 5 seconds; ignored with an existing pool).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// The longest wait for a free connection (default 5 seconds; ignored with an existing
    /// pool).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How often a background task deletes expired rows (default: every minute, ±10 %);
    /// `None` leaves it to you ([`SqliteSessionStore::delete_expired`]). Expired rows are
    /// never served either way.
    pub fn sweep_interval(mut self, interval: Option<Duration>) -> Self {
        self.sweep_interval = interval.filter(|interval| !interval.is_zero());
        self
    }

    /// Whether [`build`](Self::build) applies the migrations the table lacks (default
    /// `true`); [`SqliteSessionStore::migrate`] applies them on its own.
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// The clock that decides expiry (default: the system clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Opens the database (creating the file, in WAL mode, if it is missing), runs the
    /// migrations (unless [turned off](Self::migrate)) and starts the sweeper. Must run
    /// inside a tokio runtime (`actix_web::main` is one).
    ///
    /// # Errors
    /// [`SqlStoreError::Url`] for a URL that does not parse, [`SqlStoreError::InvalidName`]
    /// for a table name that is not a plain identifier, [`SqlStoreError::Connect`] when the
    /// file cannot be opened or created, [`SqlStoreError::Migrate`] when a migration fails.
    pub async fn build(self) -> Result<SqliteSessionStore, SqlStoreError> {
        check_name("table", &self.table)?;
        let pool = match self.source {
            Source::Pool(pool) => pool,
            Source::Url(url) => {
                let options = if url.starts_with("sqlite:") {
                    SqliteConnectOptions::from_str(&url).map_err(|source| SqlStoreError::Url {
                        url: redact_url(&url),
                        source,
                    })?
                } else {
                    SqliteConnectOptions::new().filename(&url)
                };
                let options = options
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(self.busy_timeout);
                SqlitePoolOptions::new()
                    .max_connections(self.pool_size)
                    .acquire_timeout(self.connect_timeout)
                    .connect_with(options)
                    .await
                    .map_err(|source| SqlStoreError::Connect {
                        url: redact_url(&url),
                        source,
                    })?
            }
        };
        let backend = SqliteBackend {
            pool,
            sql: Statements::new(format!("\"{}\"", self.table), &self.table),
            name: self.table,
        };
        if self.migrate {
            migrate(&backend).await?;
        }
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let core = Arc::new(Core::new(backend, self.clock, stop));
        if let Some(interval) = self.sweep_interval {
            sweeper::spawn(&core, stopped, interval);
        }
        Ok(SqliteSessionStore { core })
    }
}

/// Applies the missing migrations in one `BEGIN IMMEDIATE` transaction: it holds the write
/// lock from the start, so that processes opening the file together apply each migration
/// once.
pub(super) async fn migrate(backend: &SqliteBackend) -> Result<(), SqlStoreError> {
    let failed = |version| move |source| SqlStoreError::Migrate { version, source };
    let mut tx = backend
        .pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(failed(0))?;
    let applied_table = format!("\"{}_migrations\"", backend.name);
    sqlx::query(AssertSqlSafe(render(MIGRATIONS_TABLE, &applied_table, "")))
        .execute(&mut *tx)
        .await
        .map_err(failed(0))?;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT version FROM {applied_table}"
    )))
    .fetch_all(&mut *tx)
    .await
    .map_err(failed(0))?;
    let mut applied = Vec::with_capacity(rows.len());
    for row in rows {
        applied.push(row.try_get::<i64, _>(0).map_err(failed(0))?);
    }
    for migration in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        for statement in migration.statements {
            sqlx::query(AssertSqlSafe(render(
                statement,
                &backend.sql.table,
                &backend.name,
            )))
            .execute(&mut *tx)
            .await
            .map_err(failed(migration.version))?;
        }
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {applied_table} (version, description, applied_at) \
             VALUES (?1, ?2, CAST(unixepoch('subsec') * 1000 AS INTEGER))"
        )))
        .bind(migration.version)
        .bind(migration.description)
        .execute(&mut *tx)
        .await
        .map_err(failed(migration.version))?;
        tracing::info!(
            table = %backend.name,
            version = migration.version,
            "applied a session table migration"
        );
    }
    tx.commit().await.map_err(failed(0))
}

impl fmt::Debug for SqliteSessionStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Url(url) => redact_url(url),
            Source::Pool(_) => "an existing pool".to_owned(),
        };
        f.debug_struct("SqliteSessionStoreBuilder")
            .field("source", &source)
            .field("table", &self.table)
            .field("pool_size", &self.pool_size)
            .field("busy_timeout", &self.busy_timeout)
            .field("sweep_interval", &self.sweep_interval)
            .field("migrate", &self.migrate)
            .finish_non_exhaustive()
    }
}
