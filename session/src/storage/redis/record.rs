//! How a session is laid out in its Redis hash.
//!
//! One hash per session. Each session entry is one field whose value is the entry's JSON;
//! the envelope is one more field, `__v`, so that a read costs one reply element more than
//! the entries themselves:
//!
//! | field | meaning |
//! |---|---|
//! | `__v` | `<format version>:<last seen>:<revision>`, e.g. `3:1767225660000:2`: format version 3, the last write or TTL refresh in Unix milliseconds, and the revision: `1` when the session is created, one more on every later write or refresh |
//!
//! The revision lets a store with a near cache tell the record a write left without reading
//! it back: a patch of the revision it holds leaves its copy with the patch applied.
//!
//! Older envelopes are read too, and the next write (update or refresh) replaces them with a
//! version 3 envelope, counting their revision as 0: version 2, `2:<last seen>`, and version
//! 1, `1:<created at>:<last seen>`, whose creation time is not read (the one that counts is the
//! absolute-timeout entry the middleware keeps in the state).
//!
//! An entry whose key starts with `_` is stored under `_~<key>`, so that no entry can ever be
//! mistaken for an envelope field: fields starting with `__` are the envelope's, fields
//! starting with `_~` are escaped entries, and any other field is an entry as is.

use std::borrow::Cow;

use serde_json::Value;

use super::RedisStoreError;
use crate::storage::{SessionChanges, SessionState};

/// The record format this code writes: the envelope's first part (the write scripts write
/// it too).
const FORMAT_VERSION: &str = "3";
/// The older record formats this code still reads, and upgrades when it writes.
const FORMAT_VERSION_2: &str = "2";
const FORMAT_VERSION_1: &str = "1";
/// The envelope field: `<format version>:<last seen>:<revision>`.
const ENVELOPE_FIELD: &str = "__v";
/// The prefix of every envelope field.
const ENVELOPE_PREFIX: &str = "__";
/// The prefix that escapes entries whose key starts with `_`.
const ESCAPE_PREFIX: &str = "_~";

/// The hash field that holds the session entry `key`.
pub(super) fn field_name(key: &str) -> Cow<'_, str> {
    if key.starts_with('_') {
        Cow::Owned(format!("{ESCAPE_PREFIX}{key}"))
    } else {
        Cow::Borrowed(key)
    }
}

/// The field/value pairs of a new record: the envelope, then every entry.
pub(super) fn encode_new(
    state: &SessionState,
    now_ms: i64,
) -> Result<Vec<Vec<u8>>, serde_json::Error> {
    let mut args = Vec::with_capacity(2 + 2 * state.len());
    push_pair(
        &mut args,
        ENVELOPE_FIELD,
        &format!("{FORMAT_VERSION}:{now_ms}:1"),
    );
    push_entries(&mut args, state.iter())?;
    Ok(args)
}

/// The arguments of the `UPDATE` script after the TTL: now, the replace flag, the fields to
/// delete, then the field/value pairs to set.
pub(super) fn encode_update(
    changes: &SessionChanges,
    now_ms: i64,
) -> Result<Vec<Vec<u8>>, serde_json::Error> {
    if changes.is_cleared() {
        return encode_replace(changes.state(), now_ms);
    }
    let removed: Vec<&str> = changes
        .changed()
        .filter_map(|(key, value)| value.is_none().then_some(key))
        .collect();
    let mut args = Vec::with_capacity(3 + removed.len() + 2 * changes.state().len());
    args.push(now_ms.to_string().into_bytes());
    args.push(b"0".to_vec());
    args.push(removed.len().to_string().into_bytes());
    for key in removed {
        args.push(field_name(key).as_bytes().to_vec());
    }
    push_entries(
        &mut args,
        changes
            .changed()
            .filter_map(|(key, value)| Some((key, value?))),
    )?;
    Ok(args)
}

/// The arguments of the `UPDATE` script after the TTL for a full replacement.
pub(super) fn encode_replace(
    state: &SessionState,
    now_ms: i64,
) -> Result<Vec<Vec<u8>>, serde_json::Error> {
    let mut args = Vec::with_capacity(3 + 2 * state.len());
    args.push(now_ms.to_string().into_bytes());
    args.push(b"1".to_vec());
    args.push(b"0".to_vec());
    push_entries(&mut args, state.iter())?;
    Ok(args)
}

fn push_pair(args: &mut Vec<Vec<u8>>, field: &str, value: &str) {
    args.push(field.as_bytes().to_vec());
    args.push(value.as_bytes().to_vec());
}

fn push_entries<'a, K: AsRef<str> + 'a>(
    args: &mut Vec<Vec<u8>>,
    entries: impl Iterator<Item = (K, &'a Value)>,
) -> Result<(), serde_json::Error> {
    for (key, value) in entries {
        args.push(field_name(key.as_ref()).as_bytes().to_vec());
        args.push(serde_json::to_vec(value)?);
    }
    Ok(())
}

/// Field/value pairs borrowed from a reply.
pub(super) type FieldPairs<'a> = Vec<(&'a [u8], &'a [u8])>;

/// The field/value pairs of a `HGETALL` reply, borrowed from it: a flat array of field,
/// value, field, value (RESP2) or a map (RESP3). An empty reply is a missing key.
pub(super) fn reply_fields(reply: &redis::Value) -> Result<FieldPairs<'_>, RedisStoreError> {
    match reply {
        redis::Value::Array(items) => {
            if items.len() % 2 != 0 {
                return Err(invalid("a field has no value".to_owned()));
            }
            items
                .chunks_exact(2)
                .map(|pair| Ok((bulk(&pair[0])?, bulk(&pair[1])?)))
                .collect()
        }
        redis::Value::Map(pairs) => pairs
            .iter()
            .map(|(field, value)| Ok((bulk(field)?, bulk(value)?)))
            .collect(),
        redis::Value::Nil => Ok(Vec::new()),
        _ => Err(invalid("the reply to HGETALL is not a hash".to_owned())),
    }
}

/// The field/value pairs of a record as the write scripts of a store with a near cache
/// return it: `<length>:<bytes>` for every field and every value, in `HGETALL` order.
pub(super) fn packed_fields(mut packed: &[u8]) -> Result<FieldPairs<'_>, RedisStoreError> {
    let mut pairs = Vec::new();
    while !packed.is_empty() {
        let (field, rest) = packed_item(packed)?;
        let (value, rest) = packed_item(rest)?;
        pairs.push((field, value));
        packed = rest;
    }
    Ok(pairs)
}

/// The first `<length>:<bytes>` item of `packed`, and what follows it.
fn packed_item(packed: &[u8]) -> Result<(&[u8], &[u8]), RedisStoreError> {
    let malformed = || invalid("the record returned by a write is malformed".to_owned());
    // A length has at most 20 digits.
    let colon = packed
        .iter()
        .take(21)
        .position(|&byte| byte == b':')
        .ok_or_else(malformed)?;
    let (digits, rest) = (&packed[..colon], &packed[colon + 1..]);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(malformed());
    }
    let len = std::str::from_utf8(digits)
        .ok()
        .and_then(|digits| digits.parse::<usize>().ok())
        .filter(|&len| len <= rest.len())
        .ok_or_else(malformed)?;
    Ok(rest.split_at(len))
}

fn bulk(item: &redis::Value) -> Result<&[u8], RedisStoreError> {
    match item {
        redis::Value::BulkString(bytes) => Ok(bytes),
        redis::Value::SimpleString(text) => Ok(text.as_bytes()),
        _ => Err(invalid("a hash field or value is not a string".to_owned())),
    }
}

/// Decodes the fields of a session hash into its state; `None` for a missing key (no fields).
pub(super) fn decode<'a>(
    fields: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> Result<Option<SessionState>, RedisStoreError> {
    Ok(decode_revised(fields)?.map(|(state, _)| state))
}

/// [`decode`], with the record's revision (`None` for a record in an older format version).
pub(super) fn decode_revised<'a>(
    fields: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> Result<Option<(SessionState, Option<u64>)>, RedisStoreError> {
    let mut fields = fields.into_iter().peekable();
    if fields.peek().is_none() {
        return Ok(None);
    }
    let mut state = SessionState::new();
    let mut envelope = None;
    for (field, value) in fields {
        let field = std::str::from_utf8(field)
            .map_err(|_| invalid("a field name is not valid UTF-8".to_owned()))?;
        if let Some(key) = field.strip_prefix(ESCAPE_PREFIX) {
            let value = decode_value(key, value)?;
            state.insert(key.to_owned(), value);
        } else if field.starts_with(ENVELOPE_PREFIX) {
            // Envelope fields added by later compatible versions are ignored.
            if field == ENVELOPE_FIELD {
                envelope = Some(value);
            }
        } else if field.starts_with('_') {
            return Err(invalid(format!("unexpected field `{field}`")));
        } else {
            let value = decode_value(field, value)?;
            state.insert(field.to_owned(), value);
        }
    }
    let revision =
        check_envelope(envelope.ok_or_else(|| invalid("the record has no envelope".to_owned()))?)?;
    Ok(Some((state, revision)))
}

/// Checks an envelope: `3:<last seen>:<revision>`, or `2:<last seen>` and
/// `1:<created at>:<last seen>` from older format versions; every time must be a whole number
/// of milliseconds. Returns the revision (`None` before format version 3).
fn check_envelope(envelope: &[u8]) -> Result<Option<u64>, RedisStoreError> {
    let mut parts = envelope.split(|&byte| byte == b':');
    let version = parts.next().unwrap_or_default();
    let (layout, times): (&str, &[&str]) = if version == FORMAT_VERSION.as_bytes() {
        ("3:<last seen>:<revision>", &["last seen"])
    } else if version == FORMAT_VERSION_2.as_bytes() {
        ("2:<last seen>", &["last seen"])
    } else if version == FORMAT_VERSION_1.as_bytes() {
        ("1:<created>:<last seen>", &["created", "last seen"])
    } else {
        return Err(invalid(format!(
            "unsupported record format version `{}`",
            String::from_utf8_lossy(version)
        )));
    };
    let malformed = || invalid(format!("the envelope is not `{layout}`"));
    for time in times {
        check_millis(time, parts.next().ok_or_else(malformed)?)?;
    }
    let revision = if version == FORMAT_VERSION.as_bytes() {
        let digits = parts.next().ok_or_else(malformed)?;
        // Digits only, as the scripts match them (`u64::from_str` would take a `+`).
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(malformed());
        }
        let revision = std::str::from_utf8(digits)
            .ok()
            .and_then(|digits| digits.parse::<u64>().ok())
            .ok_or_else(malformed)?;
        Some(revision)
    } else {
        None
    };
    match parts.next() {
        Some(_) => Err(malformed()),
        None => Ok(revision),
    }
}

fn decode_value(key: &str, value: &[u8]) -> Result<Value, RedisStoreError> {
    serde_json::from_slice(value)
        .map_err(|err| invalid(format!("the value of entry `{key}` is not JSON: {err}")))
}

fn check_millis(time: &str, value: &[u8]) -> Result<(), RedisStoreError> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|value| value.parse::<i64>().ok())
        .map(drop)
        .ok_or_else(|| invalid(format!("the envelope's {time} time is not a timestamp")))
}

fn invalid(reason: String) -> RedisStoreError {
    RedisStoreError::InvalidRecord(reason)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;

    fn decode_owned(
        fields: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Result<Option<SessionState>, RedisStoreError> {
        decode(fields.iter().map(|(f, v)| (f.as_slice(), v.as_slice())))
    }

    #[test]
    fn hgetall_replies_become_pairs() {
        use redis::Value as V;
        let bulk = |text: &str| V::BulkString(text.as_bytes().to_vec());
        let flat = V::Array(vec![
            bulk("__v"),
            bulk("1"),
            bulk("user"),
            bulk("\"ferris\""),
        ]);
        let expected = vec![(&b"__v"[..], &b"1"[..]), (&b"user"[..], &b"\"ferris\""[..])];
        assert_eq!(reply_fields(&flat).expect("array"), expected);
        let map = V::Map(vec![
            (bulk("__v"), bulk("1")),
            (bulk("user"), bulk("\"ferris\"")),
        ]);
        assert_eq!(reply_fields(&map).expect("map"), expected);
        assert!(
            reply_fields(&V::Array(Vec::new()))
                .expect("empty")
                .is_empty()
        );
        assert!(reply_fields(&V::Nil).expect("nil").is_empty());
        for bad in [
            V::Array(vec![bulk("__v")]),
            V::Array(vec![bulk("__v"), V::Int(1)]),
            V::Int(3),
        ] {
            assert!(reply_fields(&bad).is_err(), "{bad:?}");
        }
    }

    /// What the write scripts' `return_record` makes of a hash.
    fn pack(args: &[Vec<u8>]) -> Vec<u8> {
        let mut packed = Vec::new();
        for item in args {
            packed.extend_from_slice(item.len().to_string().as_bytes());
            packed.push(b':');
            packed.extend_from_slice(item);
        }
        packed
    }

    #[test]
    fn packed_records_round_trip() {
        let state = state(json!({"user": "a:b", "_x": {"n": [1, 2]}, "empty": ""}));
        let args = encode_new(&state, 7).expect("encodes");
        let packed = pack(&args);
        let fields = packed_fields(&packed).expect("unpacks");
        assert_eq!(fields.len(), args.len() / 2);
        assert_eq!(decode(fields).expect("decodes"), Some(state));
        assert!(packed_fields(b"").expect("empty").is_empty());
    }

    #[test]
    fn malformed_packed_records_are_errors() {
        for bad in [
            &b"3:__v"[..],
            b"3:__v7:2:1000",
            b"3:__v",
            b"x:__v1:2",
            b":__v",
            b"+3:__v1:2",
            b"3__v",
            b"99999999999999999999999:a1:b",
        ] {
            assert!(
                packed_fields(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            packed_fields(b"3:__v1:2").expect("one pair"),
            vec![(&b"__v"[..], &b"2"[..])]
        );
    }

    fn pairs(args: &[Vec<u8>]) -> Vec<(Vec<u8>, Vec<u8>)> {
        args.chunks(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect()
    }

    fn state(value: Value) -> SessionState {
        match value {
            Value::Object(map) => map,
            _ => SessionState::new(),
        }
    }

    #[test]
    fn new_records_round_trip_including_underscore_keys() {
        let state = state(json!({"user": {"id": 7}, "_x": 1, "__v": "mine", "_~y": [1]}));
        let args = encode_new(&state, 1_000).expect("encodes");
        let fields = pairs(&args);
        assert!(fields.contains(&(b"__v".to_vec(), b"3:1000:1".to_vec())));
        let revised = decode_revised(fields.iter().map(|(f, v)| (f.as_slice(), v.as_slice())));
        assert_eq!(
            revised.expect("decodes").map(|(_, revision)| revision),
            Some(Some(1))
        );
        assert!(fields.contains(&(b"_~__v".to_vec(), b"\"mine\"".to_vec())));
        assert!(fields.contains(&(b"user".to_vec(), br#"{"id":7}"#.to_vec())));
        let decoded = decode_owned(fields).expect("decodes").expect("present");
        assert_eq!(decoded, state);
    }

    #[test]
    fn patches_list_removed_fields_then_changed_pairs() {
        let changes = SessionChanges::new(
            state(json!({"a": 1, "_b": 2, "keep": 3})),
            BTreeSet::from(["a".to_owned(), "_b".to_owned(), "gone".to_owned()]),
            false,
        );
        let args = encode_update(&changes, 5).expect("encodes");
        let text: Vec<String> = args
            .iter()
            .map(|arg| String::from_utf8_lossy(arg).into_owned())
            .collect();
        assert_eq!(text, ["5", "0", "1", "gone", "_~_b", "2", "a", "1"]);
    }

    #[test]
    fn cleared_changes_replace_everything() {
        let changes = SessionChanges::new(state(json!({"a": 1})), BTreeSet::new(), true);
        let args = encode_update(&changes, 5).expect("encodes");
        assert_eq!(args[0], b"5");
        assert_eq!(args[1], b"1");
        assert_eq!(args[2], b"0");
        assert_eq!(args.len(), 3 + 2);
    }

    #[test]
    fn malformed_records_are_errors() {
        let ok = |extra: (&[u8], &[u8])| {
            decode_owned(vec![
                (b"__v".to_vec(), b"1:5:6".to_vec()),
                (extra.0.to_vec(), extra.1.to_vec()),
            ])
        };
        let envelope = |value: &[u8]| decode_owned(vec![(b"__v".to_vec(), value.to_vec())]);
        assert!(decode_owned(Vec::new()).expect("empty is fine").is_none());
        assert!(ok((b"a", b"not json")).is_err());
        assert!(ok((b"_x", b"1")).is_err());
        assert!(ok((b"\xff", b"1")).is_err());
        assert!(ok((b"__future", b"anything")).is_ok());
        assert!(decode_owned(vec![(b"a".to_vec(), b"1".to_vec())]).is_err());
        assert!(envelope(b"3:6:1").is_ok());
        assert!(envelope(b"3:-6:18446744073709551615").is_ok());
        assert!(envelope(b"2:6").is_ok(), "format version 2 is still read");
        assert!(envelope(b"2:-6").is_ok());
        assert!(envelope(b"1:5:6").is_ok(), "format version 1 is still read");
        for bad in [
            &b"2"[..],
            b"2:",
            b"2:5:6",
            b"2:yesterday",
            b"1",
            b"1:5",
            b"1:5:6:7",
            b"1:yesterday:6",
            b"1:5:",
            b"3:5",
            b"3:5:",
            b"3:5:x",
            b"3:5:+1",
            b"3:5:-1",
            b"3:5:1:2",
            b"3:5:18446744073709551616",
            b"",
        ] {
            assert!(envelope(bad).is_err(), "{bad:?}");
        }
    }
}
