//! The Lua scripts behind every write (reads are a plain `HGETALL`).
//!
//! Each script touches exactly one key (`KEYS[1]`), so it runs atomically on a standalone
//! server and is routed to the single slot owner in Redis Cluster. Field and value pairs are
//! written in chunks so that a session with many entries never exceeds Lua's `unpack` limit.
//!
//! [`redis::Script`] runs them with `EVALSHA` and falls back to `EVAL` when the server does not
//! know the script yet (a restarted server, a new cluster node).

use std::sync::LazyLock;

use redis::Script;

/// Creates a session only if its key is absent (`SET NX` semantics).
///
/// `ARGV[1]`: TTL in milliseconds (> 0); `ARGV[2..]`: field/value pairs (never empty: the
/// envelope is always there). Returns 1 when created, 0 when the key already exists.
const CREATE: &str = r"
local key = KEYS[1]
if redis.call('EXISTS', key) == 1 then
  return 0
end
for i = 2, #ARGV, 200 do
  redis.call('HSET', key, unpack(ARGV, i, math.min(i + 199, #ARGV)))
end
redis.call('PEXPIRE', key, ARGV[1])
return 1
";

/// Patches or replaces an existing session; never creates one.
///
/// `ARGV[1]`: TTL in milliseconds (<= 0 deletes the session); `ARGV[2]`: `1` to replace the
/// whole state (the creation time is kept), `0` to patch; `ARGV[3]`: how many fields to delete
/// (`n`); `ARGV[4 .. 3 + n]`: those fields; the rest: field/value pairs to set.
/// Returns 0 when the key does not exist (nothing written), 1 otherwise.
const UPDATE: &str = r"
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then
  return 0
end
local ttl = tonumber(ARGV[1])
if ttl <= 0 then
  redis.call('DEL', key)
  return 1
end
local first_pair = 4 + tonumber(ARGV[3])
if ARGV[2] == '1' then
  local created = redis.call('HGET', key, '__c')
  redis.call('DEL', key)
  if created then
    redis.call('HSET', key, '__c', created)
  end
else
  for i = 4, first_pair - 1, 200 do
    redis.call('HDEL', key, unpack(ARGV, i, math.min(i + 199, first_pair - 1)))
  end
end
for i = first_pair, #ARGV, 200 do
  redis.call('HSET', key, unpack(ARGV, i, math.min(i + 199, #ARGV)))
end
redis.call('PEXPIRE', key, ttl)
return 1
";

/// Extends the lifetime of an existing session and records when it was last seen.
///
/// `ARGV[1]`: TTL in milliseconds (<= 0 deletes the session); `ARGV[2]`: the last-seen field
/// name; `ARGV[3]`: now, in Unix milliseconds. Returns 0 when the key does not exist.
const TOUCH: &str = r"
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then
  return 0
end
local ttl = tonumber(ARGV[1])
if ttl <= 0 then
  redis.call('DEL', key)
  return 1
end
redis.call('HSET', key, ARGV[2], ARGV[3])
redis.call('PEXPIRE', key, ttl)
return 1
";

pub(super) static CREATE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(CREATE));
pub(super) static UPDATE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(UPDATE));
pub(super) static TOUCH_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(TOUCH));
