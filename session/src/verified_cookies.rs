//! A per-worker memo of session cookie values that verified, so that a client repeating its
//! cookie does not pay for the MAC check or the decryption again.
//!
//! Opening a cookie is a pure function of its value and the middleware's keys, which never
//! change for a middleware: a value that verified once verifies again, to the same session
//! key. So a value is remembered only after it verified (or after we sealed it ourselves), and
//! a hit needs the exact same value: it is found by a keyed hash ([`RandomState`], whose keys
//! are random per map) and then compared in constant time with the remembered value. The
//! memo holds at most `capacity` values, forgetting the least recently used half when full,
//! and lives in one worker (no lock). Everything else is unchanged: the store still loads the
//! state on every request, and checks its expiry.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
};

use crate::storage::SessionKey;

/// What a verified cookie value stands for.
#[derive(Clone)]
pub(crate) struct VerifiedCookie {
    pub(crate) key: SessionKey,
    /// It verified only under a fallback key, so the cookie must be re-issued.
    pub(crate) needs_reissue: bool,
}

struct Remembered {
    value: Box<str>,
    verified: VerifiedCookie,
}

/// Cookie values that verified, at most `capacity` of them (rounded up to an even number):
/// `recent` fills up to half the capacity and then becomes `older`, which drops what was in
/// `older` before. A value found in `older` moves back to `recent`.
pub(crate) struct VerifiedCookies {
    capacity: usize,
    hasher: RandomState,
    recent: HashMap<u64, Remembered>,
    older: HashMap<u64, Remembered>,
}

impl VerifiedCookies {
    /// A memo of at most `capacity` values; `0` remembers nothing.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            hasher: RandomState::new(),
            recent: HashMap::new(),
            older: HashMap::new(),
        }
    }

    /// The session key behind `value`, if `value` verified before.
    pub(crate) fn get(&mut self, value: &str) -> Option<VerifiedCookie> {
        if self.capacity == 0 {
            return None;
        }
        let hash = self.hasher.hash_one(value);
        if let Some(found) = self.recent.get(&hash) {
            return same_value(&found.value, value).then(|| found.verified.clone());
        }
        let found = self.older.remove(&hash)?;
        if !same_value(&found.value, value) {
            self.older.insert(hash, found);
            return None;
        }
        let verified = found.verified.clone();
        self.remember_hashed(hash, found);
        Some(verified)
    }

    /// Remembers that `value` verified (or was sealed) as `verified`.
    pub(crate) fn insert(
        &mut self,
        value: impl AsRef<str> + Into<Box<str>>,
        verified: VerifiedCookie,
    ) {
        if self.capacity == 0 {
            return;
        }
        let hash = self.hasher.hash_one(value.as_ref());
        self.remember_hashed(
            hash,
            Remembered {
                value: value.into(),
                verified,
            },
        );
    }

    fn remember_hashed(&mut self, hash: u64, remembered: Remembered) {
        let half = self.capacity.div_ceil(2);
        if self.recent.len() >= half {
            self.older = std::mem::replace(&mut self.recent, HashMap::with_capacity(half));
        }
        self.older.remove(&hash);
        self.recent.insert(hash, remembered);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.recent.len() + self.older.len()
    }
}

/// Compares two cookie values in time that depends on their length only, never on where they
/// first differ.
fn same_value(remembered: &str, candidate: &str) -> bool {
    let (a, b) = (remembered.as_bytes(), candidate.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut difference = 0_u64;
    let (a_words, b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in a_words.remainder().iter().zip(b_words.remainder()) {
        difference |= u64::from(x ^ y);
    }
    for (x, y) in a_words.zip(b_words) {
        difference |= word(x) ^ word(y);
    }
    std::hint::black_box(difference) == 0
}

fn word(bytes: &[u8]) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(bytes);
    u64::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified(key: &str) -> VerifiedCookie {
        VerifiedCookie {
            key: SessionKey::try_from(key.to_owned()).unwrap(),
            needs_reissue: false,
        }
    }

    fn key_of(memo: &mut VerifiedCookies, value: &str) -> Option<String> {
        memo.get(value).map(|found| found.key.as_ref().to_owned())
    }

    #[test]
    fn only_the_exact_value_is_found() {
        let mut memo = VerifiedCookies::new(8);
        memo.insert("sealed-value-123456789", verified("k1"));
        assert_eq!(
            key_of(&mut memo, "sealed-value-123456789").as_deref(),
            Some("k1")
        );
        for other in ["sealed-value-12345678", "sealed-value-123456780", "", "x"] {
            assert_eq!(key_of(&mut memo, other), None, "{other:?}");
        }
    }

    #[test]
    fn it_never_holds_more_than_its_capacity_and_keeps_what_is_used() {
        let mut memo = VerifiedCookies::new(4);
        memo.insert("hot", verified("hot"));
        for n in 0..100 {
            memo.insert(format!("cold-{n}"), verified("cold"));
            assert!(key_of(&mut memo, "hot").is_some(), "used values stay");
            assert!(memo.len() <= 4, "{} values", memo.len());
        }
        assert!(key_of(&mut memo, "cold-0").is_none(), "old values go");
        assert!(key_of(&mut memo, "cold-99").is_some());
    }

    #[test]
    fn capacity_zero_remembers_nothing() {
        let mut memo = VerifiedCookies::new(0);
        memo.insert("v", verified("k"));
        assert_eq!(key_of(&mut memo, "v"), None);
    }

    #[test]
    fn values_compare_equal_only_when_every_byte_does() {
        let base = "abcdefghijklmnopqrstu";
        assert!(same_value(base, base));
        for at in 0..base.len() {
            let mut changed = base.as_bytes().to_vec();
            changed[at] ^= 1;
            let changed = String::from_utf8(changed).unwrap();
            assert!(!same_value(base, &changed), "byte {at}");
        }
        assert!(!same_value(base, &base[1..]));
    }
}
