//! The Postgres statements and migrations. `$now` parameters always come from the store's
//! clock.

use std::sync::Arc;

use super::super::{Migration, render};

/// The migrations, in order. Never edit one that was released: add the next version.
pub(super) const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "the session table, its expiry index and its owner index",
    statements: &[
        "CREATE TABLE IF NOT EXISTS {table} (
            id TEXT PRIMARY KEY,
            data JSONB NOT NULL,
            created_at BIGINT NOT NULL,
            last_seen BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            owner TEXT,
            public_id TEXT
        )",
        "CREATE INDEX IF NOT EXISTS \"{name}_expires_at\" ON {table} (expires_at)",
        "CREATE INDEX IF NOT EXISTS \"{name}_owner\" ON {table} (owner, public_id) \
         WHERE owner IS NOT NULL",
    ],
}];

/// The table that records the applied migrations.
pub(super) const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS {table} (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// Every statement of the store, for one table.
pub(crate) struct Statements {
    /// The qualified, quoted table name.
    pub(super) table: String,
    pub(super) load: Arc<str>,
    pub(super) insert: Arc<str>,
    pub(super) replace: Arc<str>,
    pub(super) patch: Arc<str>,
    pub(super) touch: Arc<str>,
    pub(super) delete: Arc<str>,
    pub(super) delete_expired: Arc<str>,
    pub(super) link: Arc<str>,
    pub(super) unlink: Arc<str>,
    pub(super) owner_states: Arc<str>,
    pub(super) revoke: Arc<str>,
}

impl Statements {
    /// The statements on `table` (qualified and quoted), whose bare name is `name`.
    pub(super) fn new(table: String, name: &str) -> Self {
        let sql = |template: &str| Arc::<str>::from(render(template, &table, name));
        Self {
            load: sql("SELECT data::text FROM {table} WHERE id = $1 AND expires_at > $2"),
            // A row that expired but was not swept yet does not hold its id.
            insert: sql(
                "INSERT INTO {table} AS s (id, data, created_at, last_seen, expires_at) \
                 VALUES ($1, $2::jsonb, $3, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, \
                 created_at = EXCLUDED.created_at, last_seen = EXCLUDED.last_seen, \
                 expires_at = EXCLUDED.expires_at, owner = NULL, public_id = NULL \
                 WHERE s.expires_at <= EXCLUDED.created_at",
            ),
            replace: sql(
                "UPDATE {table} SET data = $2::jsonb, last_seen = $3, expires_at = $4 \
                 WHERE id = $1 AND expires_at > $3",
            ),
            // `-` binds tighter than `||`: without the parentheses the removed keys would be
            // taken out of the new entries only.
            patch: sql(
                "UPDATE {table} SET data = (data || $2::jsonb) - $3::text[], \
                 last_seen = $4, expires_at = $5 \
                 WHERE id = $1 AND expires_at > $4",
            ),
            touch: sql("UPDATE {table} SET last_seen = $2, expires_at = $3 \
                 WHERE id = $1 AND expires_at > $2"),
            delete: sql("DELETE FROM {table} WHERE id = $1"),
            delete_expired: sql("DELETE FROM {table} WHERE id IN (SELECT id FROM {table} \
                 WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"),
            link: sql("UPDATE {table} SET owner = $2, public_id = $3 \
                 WHERE id = $1 AND expires_at > $4"),
            unlink: sql("UPDATE {table} SET owner = NULL, public_id = NULL \
                 WHERE owner = $1 AND public_id = $2"),
            owner_states: sql(
                "SELECT data::text FROM {table} WHERE owner = $1 AND expires_at > $2",
            ),
            revoke: sql("WITH gone AS (DELETE FROM {table} WHERE owner = $1 \
                 AND data -> '__session_meta' ->> 'o' = $1 \
                 AND ($2::text IS NULL OR public_id = $2) \
                 AND ($3::text IS NULL OR public_id IS DISTINCT FROM $3) \
                 RETURNING expires_at) \
                 SELECT count(*) FROM gone WHERE expires_at > $4"),
            table,
        }
    }
}
