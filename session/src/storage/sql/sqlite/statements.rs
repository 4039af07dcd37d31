//! The SQLite statements and migrations. `now` parameters always come from the store's
//! clock.

use std::{fmt::Write as _, sync::Arc};

use super::super::{Migration, render};

/// The migrations, in order. Never edit one that was released: add the next version.
pub(super) const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "the session table, its expiry index and its owner index",
    statements: &[
        "CREATE TABLE IF NOT EXISTS {table} (
            id TEXT PRIMARY KEY NOT NULL,
            data TEXT NOT NULL CHECK (json_valid(data)),
            created_at INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
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
    version INTEGER PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    applied_at INTEGER NOT NULL
)";

/// How many entries one `json_set` / `json_remove` call takes (SQLite bounds the number of
/// function arguments); more are nested calls.
const ENTRIES_PER_CALL: usize = 50;

/// Every statement of the store, for one table.
pub(crate) struct Statements {
    /// The quoted table name.
    pub(super) table: String,
    pub(super) load: Arc<str>,
    pub(super) insert: Arc<str>,
    pub(super) replace: Arc<str>,
    pub(super) touch: Arc<str>,
    pub(super) delete: Arc<str>,
    pub(super) delete_expired: Arc<str>,
    pub(super) link: Arc<str>,
    pub(super) unlink: Arc<str>,
    pub(super) owner_states: Arc<str>,
    pub(super) revoke: Arc<str>,
}

impl Statements {
    /// The statements on `table` (quoted), whose bare name is `name`.
    pub(super) fn new(table: String, name: &str) -> Self {
        let sql = |template: &str| Arc::<str>::from(render(template, &table, name));
        Self {
            load: sql("SELECT data FROM {table} WHERE id = ?1 AND expires_at > ?2"),
            // A row that expired but was not swept yet does not hold its id.
            insert: sql(
                "INSERT INTO {table} (id, data, created_at, last_seen, expires_at) \
                 VALUES (?1, ?2, ?3, ?3, ?4) \
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, \
                 created_at = excluded.created_at, last_seen = excluded.last_seen, \
                 expires_at = excluded.expires_at, owner = NULL, public_id = NULL \
                 WHERE {table}.expires_at <= excluded.created_at",
            ),
            replace: sql(
                "UPDATE {table} SET data = ?2, last_seen = ?3, expires_at = ?4 \
                 WHERE id = ?1 AND expires_at > ?3",
            ),
            touch: sql("UPDATE {table} SET last_seen = ?2, expires_at = ?3 \
                 WHERE id = ?1 AND expires_at > ?2"),
            delete: sql("DELETE FROM {table} WHERE id = ?1"),
            delete_expired: sql(
                "DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} \
                 WHERE expires_at <= ?1 LIMIT ?2)",
            ),
            link: sql("UPDATE {table} SET owner = ?2, public_id = ?3 \
                 WHERE id = ?1 AND expires_at > ?4"),
            unlink: sql("UPDATE {table} SET owner = NULL, public_id = NULL \
                 WHERE owner = ?1 AND public_id = ?2"),
            owner_states: sql("SELECT data FROM {table} WHERE owner = ?1 AND expires_at > ?2"),
            revoke: sql("DELETE FROM {table} WHERE owner = ?1 \
                 AND json_extract(data, '$.__session_meta.o') = ?1 \
                 AND (?2 IS NULL OR public_id = ?2) \
                 AND (?3 IS NULL OR public_id IS NOT ?3) \
                 RETURNING expires_at > ?4"),
            table,
        }
    }

    /// The partial update of `set` entries and `removed` keys: one `UPDATE` whose new state
    /// is `json_remove(json_set(data, path, json(value), ...), path, ...)` (not
    /// `json_patch`, whose `null` would delete an entry set to `null`). Parameters: `?1` id,
    /// `?2` now, `?3` expiry, then a path (and for `json_set` a value) per entry.
    pub(super) fn patch(&self, set: usize, removed: usize) -> String {
        let mut next = 4;
        let mut data = String::from("data");
        for chunk in chunks(set) {
            let mut call = format!("json_set({data}");
            for _ in 0..chunk {
                let _ = write!(call, ", ?{}, json(?{})", next, next + 1);
                next += 2;
            }
            call.push(')');
            data = call;
        }
        for chunk in chunks(removed) {
            let mut call = format!("json_remove({data}");
            for _ in 0..chunk {
                let _ = write!(call, ", ?{next}");
                next += 1;
            }
            call.push(')');
            data = call;
        }
        format!(
            "UPDATE {} SET data = {data}, last_seen = ?2, expires_at = ?3 \
             WHERE id = ?1 AND expires_at > ?2",
            self.table
        )
    }
}

/// `count` split in calls of at most [`ENTRIES_PER_CALL`].
fn chunks(count: usize) -> impl Iterator<Item = usize> {
    (0..count)
        .step_by(ENTRIES_PER_CALL)
        .map(move |start| (count - start).min(ENTRIES_PER_CALL))
}

/// The JSON path of the top-level entry `key`: `$."key"` with the key's JSON escapes.
pub(super) fn path(key: &str) -> String {
    format!("$.{}", serde_json::Value::from(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_nest_calls_of_bounded_size() {
        let sql = Statements::new("\"t\"".into(), "t").patch(2, 1);
        assert!(
            sql.contains("data = json_remove(json_set(data, ?4, json(?5), ?6, json(?7)), ?8)"),
            "{sql}"
        );
        let big = Statements::new("\"t\"".into(), "t").patch(ENTRIES_PER_CALL + 1, 0);
        assert_eq!(big.matches("json_set(").count(), 2, "{big}");
        assert!(big.contains(&format!("?{}", 3 + 2 * (ENTRIES_PER_CALL + 1))));
        let none = Statements::new("\"t\"".into(), "t").patch(0, 0);
        assert!(none.contains("SET data = data,"), "{none}");
    }

    #[test]
    fn paths_quote_the_key() {
        assert_eq!(path("a.b"), r#"$."a.b""#);
        assert_eq!(path("a\"b"), r#"$."a\"b""#);
    }
}
