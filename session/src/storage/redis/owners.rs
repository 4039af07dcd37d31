//! The Redis store's [`OwnerIndex`]: one hash per owner, from public ids to session keys.
//!
//! The index of owner `<owner>` lives at the Redis key the store's key function gives
//! `owner:<owner>` (`session:owner:<owner>` by default). It is a key of its own: on Redis
//! Cluster it sits in its own slot, and nothing here assumes it shares one with the sessions
//! it lists. Every command and script touches one key, so all of it works on Cluster.
//!
//! | field | value |
//! |---|---|
//! | `<public id>` | the session key the session lives under (the latest, after renewals) |
//!
//! The index is a pointer, never the truth: listing and revoking load each session through
//! the store (and its near cache) and believe only records whose metadata still names this
//! owner and this public id. Entries that point nowhere are removed on the way, each only if
//! it still points where it pointed when it was read, so that a renewal linking the new key
//! at the same moment is never lost.

use std::sync::LazyLock;

use futures_util::{StreamExt as _, stream};
use redis::Script;

use super::{RedisSessionStore, RedisStoreError, near_cache::WriteGuard, other, ttl_millis};
use crate::storage::{
    LoadError, OwnerError, OwnerIndex, OwnerLink, SessionInfo, SessionKey, SessionStore,
};

/// How many of an owner's sessions a listing or a revocation loads at once.
const CONCURRENT_LOADS: usize = 32;

/// Links a session into an owner's index and makes the index live at least as long as the
/// link asks, never shortening it.
///
/// `KEYS[1]`: the index; `ARGV[1]`: the public id; `ARGV[2]`: the session key; `ARGV[3]`:
/// the link's TTL in milliseconds (> 0). `PTTL` is -1 for a key without expiry and -2 for
/// none, so a new index always gets the TTL.
const LINK: &str = r"
local key = KEYS[1]
redis.call('HSET', key, ARGV[1], ARGV[2])
local ttl = tonumber(ARGV[3])
if redis.call('PTTL', key) < ttl then
  redis.call('PEXPIRE', key, ttl)
end
return 1
";

/// Removes the entries whose value is still the one they were read with.
///
/// `KEYS[1]`: the index; `ARGV`: public id / session key pairs. Returns how many went.
const PRUNE: &str = r"
local key = KEYS[1]
local removed = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', key, ARGV[i]) == ARGV[i + 1] then
    removed = removed + redis.call('HDEL', key, ARGV[i])
  end
end
return removed
";

static LINK_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(LINK));
static PRUNE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(PRUNE));

/// An index entry: public id and the session key it points to.
type Entry = (String, String);

/// A live session found through the index.
struct Live {
    info: SessionInfo,
    entry: Entry,
    key: SessionKey,
}

fn store_error(err: RedisStoreError) -> OwnerError {
    OwnerError::Store(other(err))
}

impl RedisSessionStore {
    /// The Redis key of `owner`'s index.
    fn owner_key(&self, owner: &str) -> String {
        self.redis_key(&format!("owner:{owner}"))
    }

    /// Every entry of `owner`'s index (one `HGETALL`).
    async fn index_entries(&self, owner: &str) -> Result<Vec<Entry>, OwnerError> {
        let index = self.owner_key(owner);
        let index = &index;
        let entries: std::collections::HashMap<String, String> = self
            .inner
            .connection
            .run(
                self.inner.timeouts,
                "owner_index",
                |mut connection| async move {
                    redis::cmd("HGETALL")
                        .arg(index)
                        .query_async(&mut connection)
                        .await
                },
            )
            .await
            .map_err(store_error)?;
        Ok(entries.into_iter().collect())
    }

    /// The session `entry` points to, if it is live and its record names `owner` and the
    /// entry's public id; `None` means the entry is stale. One load (none on a near cache hit).
    async fn live_session(&self, owner: &str, entry: Entry) -> Result<Option<Live>, OwnerError> {
        let Ok(key) = SessionKey::try_from(entry.1.clone()) else {
            return Ok(None);
        };
        let state = match self.load(&key).await {
            Ok(Some(state)) => state,
            // Gone, or a record nobody can use: either way nothing to list or revoke.
            Ok(None) | Err(LoadError::Deserialization(_)) => return Ok(None),
            Err(err) => return Err(OwnerError::Store(Box::new(err))),
        };
        let Some((info, named)) = SessionInfo::from_stored(&state) else {
            return Ok(None);
        };
        if named.as_deref() != Some(owner) || info.public_id != entry.0 {
            return Ok(None);
        }
        Ok(Some(Live { info, entry, key }))
    }

    /// Sorts `entries` into live sessions and stale entries (one load each). Up to
    /// [`CONCURRENT_LOADS`] loads are in flight together, so on the multiplexed connection
    /// they go out in one batch: a listing costs about one round trip, and none for the
    /// sessions the near cache holds.
    async fn partition(
        &self,
        owner: &str,
        entries: Vec<Entry>,
    ) -> Result<(Vec<Live>, Vec<Entry>), OwnerError> {
        let mut live = Vec::with_capacity(entries.len());
        let mut stale = Vec::new();
        let checks = entries.into_iter().map(|entry| async move {
            let fallback = entry.clone();
            let found = self.live_session(owner, entry).await?;
            Ok::<_, OwnerError>(found.ok_or(fallback))
        });
        let mut checked = stream::iter(checks).buffered(CONCURRENT_LOADS);
        while let Some(check) = checked.next().await {
            match check? {
                Ok(session) => live.push(session),
                Err(entry) => stale.push(entry),
            }
        }
        Ok((live, stale))
    }

    /// Removes `entries` from `owner`'s index, each only if it still points to the same
    /// session key (one script call; none for no entries).
    async fn prune(&self, owner: &str, entries: &[&Entry]) -> Result<(), OwnerError> {
        if entries.is_empty() {
            return Ok(());
        }
        let index = self.owner_key(owner);
        let index = &index;
        self.inner
            .connection
            .run(
                self.inner.timeouts,
                "owner_prune",
                |mut connection| async move {
                    let mut invocation = PRUNE_SCRIPT.key(index);
                    for (public_id, key) in entries {
                        invocation.arg(public_id).arg(key);
                    }
                    invocation.invoke_async::<i64>(&mut connection).await
                },
            )
            .await
            .map(drop)
            .map_err(store_error)
    }

    /// Deletes `keys` with one `DEL` (split by slot and sent to the nodes at once on
    /// Cluster), dropping them from this process's near cache before and after, as
    /// [`delete`](SessionStore::delete) does; other instances hear of it from Redis.
    async fn delete_sessions(&self, keys: &[&SessionKey]) -> Result<(), OwnerError> {
        if keys.is_empty() {
            return Ok(());
        }
        let redis_keys: Vec<String> = keys
            .iter()
            .map(|key| self.redis_key(key.as_ref()))
            .collect();
        let _guards: Vec<WriteGuard<'_>> = redis_keys
            .iter()
            .map(|key| WriteGuard::new(self.cache(), key))
            .collect();
        let redis_keys = &redis_keys;
        self.inner
            .connection
            .run(self.inner.timeouts, "delete", |mut connection| async move {
                redis::cmd("DEL")
                    .arg(redis_keys)
                    .query_async::<()>(&mut connection)
                    .await
            })
            .await
            .inspect_err(|err| self.after_failure(err))
            .map_err(store_error)
    }

    /// Ends every live session of `owner` but `keep`, and prunes the index.
    async fn revoke_all_but(&self, owner: &str, keep: Option<&str>) -> Result<usize, OwnerError> {
        let entries = self
            .index_entries(owner)
            .await?
            .into_iter()
            .filter(|(public_id, _)| Some(public_id.as_str()) != keep)
            .collect();
        let (live, stale) = self.partition(owner, entries).await?;
        let keys: Vec<&SessionKey> = live.iter().map(|session| &session.key).collect();
        self.delete_sessions(&keys).await?;
        let gone: Vec<&Entry> = live
            .iter()
            .map(|session| &session.entry)
            .chain(&stale)
            .collect();
        self.prune(owner, &gone).await?;
        Ok(live.len())
    }
}

impl OwnerIndex for RedisSessionStore {
    async fn link_owner(&self, link: OwnerLink<'_>) -> Result<(), OwnerError> {
        let ttl_ms = ttl_millis(&link.ttl);
        if ttl_ms <= 0 {
            // A session with no time left is not stored: nothing to point to.
            return Ok(());
        }
        let index = self.owner_key(link.owner);
        let index = &index;
        let key: &str = link.key.as_ref();
        self.inner
            .connection
            .run(
                self.inner.timeouts,
                "owner_link",
                |mut connection| async move {
                    LINK_SCRIPT
                        .key(index)
                        .arg(link.public_id)
                        .arg(key)
                        .arg(ttl_ms)
                        .invoke_async::<i64>(&mut connection)
                        .await
                },
            )
            .await
            .map(drop)
            .map_err(store_error)
    }

    async fn unlink_owner(&self, owner: &str, public_id: &str) -> Result<(), OwnerError> {
        let index = self.owner_key(owner);
        let index = &index;
        self.inner
            .connection
            .run(
                self.inner.timeouts,
                "owner_unlink",
                |mut connection| async move {
                    redis::cmd("HDEL")
                        .arg(index)
                        .arg(public_id)
                        .query_async::<()>(&mut connection)
                        .await
                },
            )
            .await
            .map_err(store_error)
    }

    async fn owner_sessions(&self, owner: &str) -> Result<Vec<SessionInfo>, OwnerError> {
        let entries = self.index_entries(owner).await?;
        let (live, stale) = self.partition(owner, entries).await?;
        self.prune(owner, &stale.iter().collect::<Vec<_>>()).await?;
        let mut sessions: Vec<SessionInfo> = live.into_iter().map(|session| session.info).collect();
        sessions.sort_by(|a, b| {
            b.last_seen
                .cmp(&a.last_seen)
                .then(b.created_at.cmp(&a.created_at))
                .then(a.public_id.cmp(&b.public_id))
        });
        Ok(sessions)
    }

    async fn revoke_owner_session(&self, owner: &str, public_id: &str) -> Result<bool, OwnerError> {
        let index = self.owner_key(owner);
        let index = &index;
        let key: Option<String> = self
            .inner
            .connection
            .run(
                self.inner.timeouts,
                "owner_index",
                |mut connection| async move {
                    redis::cmd("HGET")
                        .arg(index)
                        .arg(public_id)
                        .query_async(&mut connection)
                        .await
                },
            )
            .await
            .map_err(store_error)?;
        let Some(key) = key else {
            return Ok(false);
        };
        let entry = (public_id.to_owned(), key);
        let Some(live) = self.live_session(owner, entry.clone()).await? else {
            self.prune(owner, &[&entry]).await?;
            return Ok(false);
        };
        self.delete_sessions(&[&live.key]).await?;
        self.prune(owner, &[&live.entry]).await?;
        Ok(true)
    }

    async fn revoke_owner_sessions(&self, owner: &str) -> Result<usize, OwnerError> {
        self.revoke_all_but(owner, None).await
    }

    async fn revoke_other_owner_sessions(
        &self,
        owner: &str,
        keep: &str,
    ) -> Result<usize, OwnerError> {
        self.revoke_all_but(owner, Some(keep)).await
    }
}
