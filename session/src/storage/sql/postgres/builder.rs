//! [`PostgresSessionStoreBuilder`]: where the database is, which table, how many
//! connections, how often to sweep; and the migrations it runs.

use std::{fmt, str::FromStr as _, sync::Arc, time::Duration};

use sha2::{Digest as _, Sha256};
use sqlx::{
    AssertSqlSafe, PgPool, Row as _,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use super::{
    PgBackend, PostgresSessionStore,
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
const DEFAULT_POOL_SIZE: u32 = 10;

/// Where the store gets its connections.
pub(super) enum Source {
    Url(String),
    Pool(PgPool),
}

/// Configures a [`PostgresSessionStore`]; made by [`PostgresSessionStore::builder`] (a URL)
/// or [`PostgresSessionStore::builder_with_pool`] (the application's pool).
///
/// ```no_run
/// use std::time::Duration;
/// use session::storage::PostgresSessionStore;
///
/// # async fn run() -> Result<(), session::storage::SqlStoreError> {
/// let store = PostgresSessionStore::builder("postgres://app@127.0.0.1/app")
///     .schema("auth")
///     .table("web_sessions")
///     .pool_size(20)
///     .sweep_interval(Some(Duration::from_secs(300)))
///     .build()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct PostgresSessionStoreBuilder {
    source: Source,
    table: String,
    schema: Option<String>,
    pool_size: u32,
    connect_timeout: Duration,
    sweep_interval: Option<Duration>,
    migrate: bool,
    clock: Clock,
}

impl PostgresSessionStoreBuilder {
    pub(super) fn new(source: Source) -> Self {
        Self {
            source,
            table: DEFAULT_TABLE.to_owned(),
            schema: None,
            pool_size: DEFAULT_POOL_SIZE,
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

    /// The schema of the table (default: the connection's `search_path`, usually `public`);
    /// created by the migrations if it does not exist.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The most connections the store's pool opens (default 10; ignored with an existing
    /// pool).
    pub fn pool_size(mut self, size: u32) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// The longest wait for a connection, connecting included (default 5 seconds; ignored
    /// with an existing pool). While the database is down, requests fail after it.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How often a background task deletes expired rows (default: every minute, ±10 %);
    /// `None` leaves it to you ([`PostgresSessionStore::delete_expired`]). Expired rows are
    /// never served either way.
    pub fn sweep_interval(mut self, interval: Option<Duration>) -> Self {
        self.sweep_interval = interval.filter(|interval| !interval.is_zero());
        self
    }

    /// Whether [`build`](Self::build) applies the migrations the table lacks (default
    /// `true`). Turn it off when your deployment migrates separately
    /// ([`PostgresSessionStore::migrate`]).
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// The clock that decides expiry (default: the system clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Connects, runs the migrations (unless [turned off](Self::migrate)) and starts the
    /// sweeper. Must run inside a tokio runtime (`actix_web::main` is one).
    ///
    /// # Errors
    /// [`SqlStoreError::Url`] for a URL that does not parse, [`SqlStoreError::InvalidName`]
    /// for a table or schema name that is not a plain identifier,
    /// [`SqlStoreError::Connect`] when the database cannot be reached or refuses the
    /// credentials within the connect timeout, [`SqlStoreError::Migrate`] when a migration
    /// fails.
    pub async fn build(self) -> Result<PostgresSessionStore, SqlStoreError> {
        check_name("table", &self.table)?;
        if let Some(schema) = &self.schema {
            check_name("schema", schema)?;
        }
        let pool = match self.source {
            Source::Pool(pool) => pool,
            Source::Url(url) => {
                let options =
                    PgConnectOptions::from_str(&url).map_err(|source| SqlStoreError::Url {
                        url: redact_url(&url),
                        source,
                    })?;
                PgPoolOptions::new()
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
        let table = match &self.schema {
            Some(schema) => format!("\"{schema}\".\"{}\"", self.table),
            None => format!("\"{}\"", self.table),
        };
        let backend = PgBackend {
            pool,
            sql: Statements::new(table, &self.table),
            schema: self.schema,
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
        Ok(PostgresSessionStore { core })
    }
}

/// `name` in the store's schema, quoted.
fn qualified(backend: &PgBackend, name: &str) -> String {
    match &backend.schema {
        Some(schema) => format!("\"{schema}\".\"{name}\""),
        None => format!("\"{name}\""),
    }
}

/// Applies the missing migrations in one transaction, under an advisory lock, so that
/// instances starting together apply each migration once.
pub(super) async fn migrate(backend: &PgBackend) -> Result<(), SqlStoreError> {
    {
        let failed = |version| move |source| SqlStoreError::Migrate { version, source };
        let mut tx = backend.pool.begin().await.map_err(failed(0))?;
        let lock = Sha256::digest(format!(
            "session-migrations:{}",
            qualified(backend, &backend.name)
        ));
        let lock = i64::from_be_bytes(lock[..8].try_into().unwrap_or_default());
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(lock)
            .execute(&mut *tx)
            .await
            .map_err(failed(0))?;
        if let Some(schema) = &backend.schema {
            sqlx::query(AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
            )))
            .execute(&mut *tx)
            .await
            .map_err(failed(0))?;
        }
        let applied_table = qualified(backend, &format!("{}_migrations", backend.name));
        sqlx::query(AssertSqlSafe(render(MIGRATIONS_TABLE, &applied_table, "")))
            .execute(&mut *tx)
            .await
            .map_err(failed(0))?;
        let applied: Vec<i64> = sqlx::query(AssertSqlSafe(format!(
            "SELECT version FROM {applied_table}"
        )))
        .fetch_all(&mut *tx)
        .await
        .map_err(failed(0))?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()
        .map_err(failed(0))?;
        let table = qualified(backend, &backend.name);
        for migration in MIGRATIONS {
            if applied.contains(&migration.version) {
                continue;
            }
            for statement in migration.statements {
                sqlx::query(AssertSqlSafe(render(statement, &table, &backend.name)))
                    .execute(&mut *tx)
                    .await
                    .map_err(failed(migration.version))?;
            }
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO {applied_table} (version, description, applied_at) \
                 VALUES ($1, $2, (extract(epoch from clock_timestamp()) * 1000)::bigint)"
            )))
            .bind(migration.version)
            .bind(migration.description)
            .execute(&mut *tx)
            .await
            .map_err(failed(migration.version))?;
            tracing::info!(
                table = %table,
                version = migration.version,
                "applied a session table migration"
            );
        }
        tx.commit().await.map_err(failed(0))
    }
}

impl fmt::Debug for PostgresSessionStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Url(url) => redact_url(url),
            Source::Pool(_) => "an existing pool".to_owned(),
        };
        f.debug_struct("PostgresSessionStoreBuilder")
            .field("source", &source)
            .field("table", &self.table)
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("sweep_interval", &self.sweep_interval)
            .field("migrate", &self.migrate)
            .finish_non_exhaustive()
    }
}
