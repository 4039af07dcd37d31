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

/// Everything of [`CREATE`] but its answer: returns 0 when the key exists, else writes the
/// record and its TTL.
macro_rules! create_body {
    () => {
        r"
local key = KEYS[1]
if redis.call('EXISTS', key) == 1 then
  return 0
end
for i = 2, #ARGV, 200 do
  redis.call('HSET', key, unpack(ARGV, i, math.min(i + 199, #ARGV)))
end
redis.call('PEXPIRE', key, ARGV[1])
"
    };
}

/// The opening of every script that writes an existing session: returns 0 when the key does
/// not exist (nothing is written), deletes the session when the TTL (`ARGV[1]`, milliseconds)
/// is zero or less, and checks the envelope: format version 3 (`3:<last seen>:<revision>`), 2
/// (`2:<last seen>`) or 1 (`1:<created>:<last seen>`). `valid` is false when the record has no
/// valid envelope: it then stays without one, so it never becomes loadable. `revision` is the
/// record's revision (`nil` before format version 3), and `matched` says whether it is the one
/// the caller expected (`ARGV[2]`; an empty string expects none).
macro_rules! open_existing {
    () => {
        r"
local key = KEYS[1]
local envelope = redis.call('HGET', key, '__v')
if not envelope and redis.call('EXISTS', key) == 0 then
  return 0
end
local ttl = tonumber(ARGV[1])
if ttl <= 0 then
  redis.call('DEL', key)
  return 1
end
local revision, valid = nil, false
if envelope then
  revision = string.match(envelope, '^3:%-?%d+:(%d+)$')
  valid = revision ~= nil or string.match(envelope, '^2:%-?%d+$') ~= nil
    or string.match(envelope, '^1:%-?%d+:%-?%d+$') ~= nil
end
local matched = revision ~= nil and revision == ARGV[2]
-- Lua writes numbers with 14 significant digits: start over long before that.
local next_revision = (tonumber(revision) or 0) + 1
if next_revision >= 1e13 then
  next_revision = 1
end
"
    };
}

/// The middle of the update scripts: replaces the whole state or patches fields.
macro_rules! update_body {
    () => {
        r"
local first_pair = 6 + tonumber(ARGV[5])
if ARGV[4] == '1' then
  redis.call('DEL', key)
else
  for i = 6, first_pair - 1, 200 do
    redis.call('HDEL', key, unpack(ARGV, i, math.min(i + 199, first_pair - 1)))
  end
end
for i = first_pair, #ARGV, 200 do
  redis.call('HSET', key, unpack(ARGV, i, math.min(i + 199, #ARGV)))
end
"
    };
}

/// The end of the scripts that write an existing session: a valid envelope becomes
/// `3:<ARGV[3]>:<revision + 1>`, with the last-seen time in Unix milliseconds (which upgrades
/// a version 1 or 2 record, whose revision counts as 0), and the key gets its TTL.
macro_rules! close_existing {
    () => {
        r"
if valid then
  redis.call('HSET', key, '__v', '3:' .. ARGV[3] .. ':' .. next_revision)
end
redis.call('PEXPIRE', key, ttl)
"
    };
}

/// The answer of the scripts of a store with a near cache when the caller can tell the
/// record it left without reading it: `{revision}`. `PTTL` reads the key, which makes Redis
/// track it again for the calling connection (the script's own writes have just removed it
/// from Redis's tracking table).
macro_rules! return_revision {
    () => {
        r"
  redis.call('PTTL', key)
  return {next_revision}
"
    };
}

/// The answer of the scripts of a store with a near cache: the record the script left, read
/// back with `HGETALL` (which makes Redis track the key again for the calling connection:
/// the script's own writes have just removed it from Redis's tracking table) and packed into
/// one string, `<length>:<bytes>` for every field and every value, so that the reply is one
/// element to parse whatever the size of the session.
macro_rules! return_record {
    () => {
        r"
local fields = redis.call('HGETALL', key)
for i = 1, #fields do
  fields[i] = #fields[i] .. ':' .. fields[i]
end
return table.concat(fields)
"
    };
}

/// Creates a session only if its key is absent (`SET NX` semantics).
///
/// `ARGV[1]`: TTL in milliseconds (> 0); `ARGV[2..]`: field/value pairs (never empty: the
/// envelope is always there). Returns 1 when created, 0 when the key already exists.
const CREATE: &str = concat!(create_body!(), "return 1\n");

/// [`CREATE`] for a store with a near cache: it also reads the key's TTL, so that Redis
/// tracks the key for the calling connection (the record is exactly what the caller sent).
const CREATE_TRACKED: &str = concat!(create_body!(), "redis.call('PTTL', key)\nreturn 1\n");

/// Patches or replaces an existing session; never creates one.
///
/// `ARGV[1]`: TTL in milliseconds (<= 0 deletes the session); `ARGV[2]`: the revision the
/// caller expects (see [`UPDATE_RETURNING`]; ignored here); `ARGV[3]`: now, Unix
/// milliseconds; `ARGV[4]`: `1` to replace the whole state (the envelope is written anew), `0`
/// to patch; `ARGV[5]`: how many fields to delete (`n`); `ARGV[6 .. 5 + n]`: those fields;
/// the rest: field/value pairs to set. Returns 0 when the key does not exist, 1 otherwise.
const UPDATE: &str = concat!(
    open_existing!(),
    update_body!(),
    close_existing!(),
    "return 1\n"
);

/// [`UPDATE`] for a store with a near cache. When it wrote a record with a valid envelope,
/// it answers `{revision}` if the caller can tell the record without reading it: a
/// replacement (the record is what was sent), or a patch of the revision the caller expected
/// (the record is the caller's copy of that revision with the patch applied). Otherwise it
/// returns the record it left (see `return_record`). 0 and 1 as for [`UPDATE`].
const UPDATE_RETURNING: &str = concat!(
    open_existing!(),
    update_body!(),
    close_existing!(),
    "if not valid then\n  return 1\nend\nif matched or ARGV[4] == '1' then\n",
    return_revision!(),
    "end\n",
    return_record!()
);

/// Extends the lifetime of an existing session and records when it was last seen.
///
/// `ARGV[1]`: TTL in milliseconds (<= 0 deletes the session); `ARGV[2]`: the revision the
/// caller expects (ignored here); `ARGV[3]`: now, Unix milliseconds. Returns 0 when the key
/// does not exist.
const TOUCH: &str = concat!(open_existing!(), close_existing!(), "return 1\n");

/// [`TOUCH`] for a store with a near cache: `{revision}` when the caller expected the
/// revision it refreshed (the state is unchanged), else the record, like
/// [`UPDATE_RETURNING`].
const TOUCH_RETURNING: &str = concat!(
    open_existing!(),
    close_existing!(),
    "if not valid then\n  return 1\nend\nif matched then\n",
    return_revision!(),
    "end\n",
    return_record!()
);

static CREATE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(CREATE));
static UPDATE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(UPDATE));
static TOUCH_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(TOUCH));
static CREATE_TRACKED_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(CREATE_TRACKED));
static UPDATE_RETURNING_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(UPDATE_RETURNING));
static TOUCH_RETURNING_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(TOUCH_RETURNING));

/// The writes, each with its script for a store without and with a near cache.
#[derive(Debug, Clone, Copy)]
pub(super) enum Write {
    /// [`CREATE`] / [`CREATE_TRACKED`].
    Create,
    /// [`UPDATE`] / [`UPDATE_RETURNING`].
    Update,
    /// [`TOUCH`] / [`TOUCH_RETURNING`].
    Touch,
}

impl Write {
    /// The script of this write; `cached`: the variant for a store with a near cache.
    pub(super) fn script(self, cached: bool) -> &'static Script {
        match (self, cached) {
            (Self::Create, false) => &CREATE_SCRIPT,
            (Self::Create, true) => &CREATE_TRACKED_SCRIPT,
            (Self::Update, false) => &UPDATE_SCRIPT,
            (Self::Update, true) => &UPDATE_RETURNING_SCRIPT,
            (Self::Touch, false) => &TOUCH_SCRIPT,
            (Self::Touch, true) => &TOUCH_RETURNING_SCRIPT,
        }
    }
}
