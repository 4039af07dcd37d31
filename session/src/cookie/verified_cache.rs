//! A per-worker memo of session cookie values that verified, so that a client repeating its
//! cookie does not pay for the MAC check or the decryption again.
//!
//! Opening a cookie is a pure function of its value and the middleware's keys, which never
//! change for a middleware: a value that verified once verifies again, to the same session
//! key. [`VerifiedCookies::open`] is therefore the one way the middleware opens a cookie: it
//! answers from memory for a value that verified lately (or that the middleware sealed itself,
//! [`VerifiedCookies::remember_sealed`]), and asks the codec otherwise.
//!
//! A hit needs the exact same value: it is found by a hash seeded at random per worker, then
//! compared in constant time with the remembered value. The hash only spreads values over the
//! map (one entry per hash value; a collision between two remembered values only evicts one),
//! so it is a fast word-wise mix, not a cryptographic one: equality is always decided by the
//! full comparison. The memo holds at most `capacity` values, forgetting the least recently
//! used half when full, and lives in one worker (no lock). Everything else is unchanged: the
//! store still loads the state on every request, and checks its expiry.

use std::collections::HashMap;

use subtle::ConstantTimeEq as _;

use crate::{cookie::codec::CookieCodec, storage::SessionKey};

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
    /// Random per memo, so that which values share a slot cannot be predicted.
    seed: u64,
    recent: HashMap<u64, Remembered>,
    older: HashMap<u64, Remembered>,
}

impl VerifiedCookies {
    /// A memo of at most `capacity` values; `0` remembers nothing.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            seed: rand::random(),
            recent: HashMap::new(),
            older: HashMap::new(),
        }
    }

    /// Opens the value of a cookie named `name` (as sent by the client) as `codec.open` does,
    /// and turns it into a session key: from memory when the exact value verified lately,
    /// otherwise through the codec, remembering the value if it verifies.
    pub(crate) fn open(
        &mut self,
        codec: &CookieCodec,
        name: &str,
        value: &str,
    ) -> Option<VerifiedCookie> {
        if let Some(known) = self.get(value) {
            return Some(known);
        }
        let opened = codec.open(name, value)?;
        let key = SessionKey::try_from(opened.value)
            .inspect_err(|err| tracing::warn!(error = %err, "ignoring an invalid session key"))
            .ok()?;
        let verified = VerifiedCookie {
            key,
            needs_reissue: opened.needs_reissue,
        };
        self.insert(value, verified.clone());
        Some(verified)
    }

    /// Remembers a value the middleware sealed for `key` under the current key: the client
    /// sends it back next, and it need not be verified then.
    pub(crate) fn remember_sealed(&mut self, sealed: String, key: SessionKey) {
        let verified = VerifiedCookie {
            key,
            needs_reissue: false,
        };
        self.insert(sealed, verified);
    }

    /// The session key behind `value`, if `value` verified before.
    fn get(&mut self, value: &str) -> Option<VerifiedCookie> {
        if self.capacity == 0 {
            return None;
        }
        let hash = self.hash(value);
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
    fn insert(&mut self, value: impl AsRef<str> + Into<Box<str>>, verified: VerifiedCookie) {
        if self.capacity == 0 {
            return;
        }
        let hash = self.hash(value.as_ref());
        self.remember_hashed(
            hash,
            Remembered {
                value: value.into(),
                verified,
            },
        );
    }

    /// Mixes `value` eight bytes at a time into a seeded 64-bit hash.
    fn hash(&self, value: &str) -> u64 {
        const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;
        let bytes = value.as_bytes();
        let mix = |hash: u64, word: u64| {
            let mixed = (hash ^ word).wrapping_mul(MULTIPLIER);
            mixed ^ (mixed >> 29)
        };
        let length = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        let words = bytes.chunks_exact(8);
        let mut tail = [0; 8];
        tail[..words.remainder().len()].copy_from_slice(words.remainder());
        let hash = words.fold(mix(self.seed, length), |hash, chunk| mix(hash, word(chunk)));
        mix(hash, u64::from_le_bytes(tail))
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
/// first differ: eight bytes at a time through `subtle`, whose comparisons the optimiser cannot
/// turn into an early exit.
fn same_value(remembered: &str, candidate: &str) -> bool {
    let (a, b) = (remembered.as_bytes(), candidate.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let (a_words, b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    let tails_equal = a_words.remainder().ct_eq(b_words.remainder());
    let equal = a_words
        .zip(b_words)
        .fold(tails_equal, |equal, (x, y)| equal & word(x).ct_eq(&word(y)));
    equal.into()
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
    fn a_hash_match_with_another_value_is_not_a_hit() {
        let mut memo = VerifiedCookies::new(8);
        let probe = "probe-value-0123456789";
        let other = Remembered {
            value: "other-value-0123456789".into(),
            verified: verified("k"),
        };
        memo.recent.insert(memo.hash(probe), other);
        assert_eq!(key_of(&mut memo, probe), None, "in the recent half");
        memo.older = std::mem::take(&mut memo.recent);
        assert_eq!(key_of(&mut memo, probe), None, "in the older half");
        assert_eq!(memo.len(), 1, "the remembered value stays");
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
