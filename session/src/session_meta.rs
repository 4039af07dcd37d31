//! What the middleware knows about a session beside the user's data: its public id, its
//! owner, when it was last seen, the device it was used from and the application's label.
//!
//! Like the creation time ([`absolute_timeout`](crate::absolute_timeout)), it lives in the
//! stored state under one reserved entry, [`META_KEY`], so that every store keeps it without
//! knowing about it (the cookie store inside its protected payload). The middleware takes it
//! out before handlers see the state and puts it back before the state is saved: as it came
//! (see [`Meta`]) unless the request changed it.
//!
//! The entry is a JSON object with short field names (it is stored with every session):
//!
//! | field | meaning |
//! |---|---|
//! | `id` | the public id: 22 URL-safe base64 characters, 128 random bits |
//! | `o` | the owner id the application bound the session to |
//! | `s` | last seen, Unix seconds (refreshed on bound sessions only) |
//! | `ua` | the user agent, truncated to [`USER_AGENT_MAX_CHARS`] characters |
//! | `ip` | the client address |
//! | `l` | the application's label |

use base64::Engine as _;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::storage::SessionState;

/// The reserved state entry holding the session's metadata. Handlers never see it.
pub(crate) const META_KEY: &str = "__session_meta";

/// How many characters of a user agent are kept.
pub(crate) const USER_AGENT_MAX_CHARS: usize = 256;

/// Characters in a public id: 16 random bytes in URL-safe base64 without padding.
const PUBLIC_ID_LEN: usize = 22;

/// The metadata of one session, as stored under [`META_KEY`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SessionMeta {
    /// The public id.
    #[serde(rename = "id")]
    pub(crate) public_id: String,
    /// The owner the application bound the session to.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub(crate) owner: Option<String>,
    /// Last seen, Unix seconds.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_seen: Option<i64>,
    /// The user agent, truncated.
    #[serde(rename = "ua", default, skip_serializing_if = "Option::is_none")]
    pub(crate) user_agent: Option<String>,
    /// The client address.
    #[serde(rename = "ip", default, skip_serializing_if = "Option::is_none")]
    pub(crate) ip: Option<String>,
    /// The application's label.
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    pub(crate) label: Option<String>,
}

impl SessionMeta {
    /// The metadata of a new session: a fresh public id and nothing else.
    pub(crate) fn fresh() -> Self {
        Self {
            public_id: generate_public_id(),
            ..Self::default()
        }
    }

    /// Reads the metadata of a stored state without taking it out; `None` if the state has
    /// none or it does not decode.
    pub(crate) fn read(state: &SessionState) -> Option<Self> {
        state
            .get(META_KEY)
            .and_then(|value| Self::deserialize(value).ok())
    }

    /// The metadata as the JSON value stored under [`META_KEY`].
    pub(crate) fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| unreachable!("strings and integers"))
    }
}

/// A session's metadata as a request carries it: as loaded, or decoded to be read in full or
/// changed. Loading does not decode the stored value, and an unchanged value is written back
/// as it came: most requests need no more than the owner and the public id, which are read
/// straight from the value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Meta {
    /// The stored JSON value: an object with a string `id`.
    Stored(Value),
    /// Decoded (or new).
    Decoded(Box<SessionMeta>),
}

impl Meta {
    /// Takes the metadata out of a loaded state; an entry without a public id is dropped (the
    /// session gets a new one when it is next written).
    pub(crate) fn take(state: &mut SessionState) -> Option<Self> {
        let value = state.remove(META_KEY)?;
        value
            .get("id")
            .is_some_and(Value::is_string)
            .then_some(Self::Stored(value))
    }

    /// The metadata of a new session (see [`SessionMeta::fresh`]).
    pub(crate) fn fresh() -> Self {
        Self::Decoded(Box::new(SessionMeta::fresh()))
    }

    /// The owner the session is bound to.
    pub(crate) fn owner(&self) -> Option<&str> {
        match self {
            Self::Stored(value) => value.get("o").and_then(Value::as_str),
            Self::Decoded(meta) => meta.owner.as_deref(),
        }
    }

    /// The public id.
    pub(crate) fn public_id(&self) -> &str {
        match self {
            Self::Stored(value) => value.get("id").and_then(Value::as_str).unwrap_or_default(),
            Self::Decoded(meta) => &meta.public_id,
        }
    }

    /// Whether the application gave the session a label.
    pub(crate) fn has_label(&self) -> bool {
        match self {
            Self::Stored(value) => value.get("l").is_some_and(Value::is_string),
            Self::Decoded(meta) => meta.label.is_some(),
        }
    }

    /// The metadata decoded, to read all of it or change it. A stored field of the wrong type
    /// is dropped (the public id stays).
    pub(crate) fn decoded(&mut self) -> &mut SessionMeta {
        if let Self::Stored(value) = self {
            let meta = SessionMeta::deserialize(&*value).unwrap_or_else(|_| SessionMeta {
                public_id: self.public_id().to_owned(),
                ..SessionMeta::default()
            });
            *self = Self::Decoded(Box::new(meta));
        }
        match self {
            Self::Decoded(meta) => meta,
            Self::Stored(_) => unreachable!("decoded just above"),
        }
    }

    /// The value to store under [`META_KEY`]: the loaded one if it was never decoded.
    pub(crate) fn into_value(self) -> Value {
        match self {
            Self::Stored(value) => value,
            Self::Decoded(meta) => meta.to_value(),
        }
    }
}

/// What a request's handler changed in the metadata: the owner it bound the session to, the
/// label it gave it. Applied by the middleware on top of the stored metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MetaEdits {
    /// Set by [`Session::set_owner`](crate::Session::set_owner).
    pub(crate) owner: Option<String>,
    /// Set by [`Session::set_label`](crate::Session::set_label).
    pub(crate) label: Option<String>,
}

impl MetaEdits {
    /// Whether the handler changed nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.owner.is_none() && self.label.is_none()
    }
}

/// A fresh public id: 128 bits from the operating system-seeded CSPRNG, independent of the
/// session key, so that it tells nothing about the key.
pub(crate) fn generate_public_id() -> String {
    let mut bytes = [0_u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `candidate` has the shape of a public id; anything else (a client-sent value) is
/// refused before it reaches a store.
pub(crate) fn is_well_formed_public_id(candidate: &str) -> bool {
    candidate.len() == PUBLIC_ID_LEN
        && candidate
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `user_agent` cut to [`USER_AGENT_MAX_CHARS`] characters.
pub(crate) fn truncate_user_agent(user_agent: &str) -> String {
    user_agent.chars().take(USER_AGENT_MAX_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_ids_are_random_and_well_formed() {
        let a = generate_public_id();
        let b = generate_public_id();
        assert_ne!(a, b);
        assert!(is_well_formed_public_id(&a), "{a}");
        assert!(!is_well_formed_public_id("short"));
        assert!(!is_well_formed_public_id(&format!("{}!", &a[..21])));
    }

    #[test]
    fn meta_round_trips_through_the_state() {
        let meta = SessionMeta {
            owner: Some("user-7".into()),
            last_seen: Some(1_767_225_660),
            ..SessionMeta::fresh()
        };
        let mut state = SessionState::new();
        state.insert(META_KEY.into(), meta.to_value());
        assert_eq!(SessionMeta::read(&state), Some(meta.clone()));
        let mut taken = Meta::take(&mut state).expect("well formed");
        assert!(state.is_empty());
        assert_eq!(taken.owner(), Some("user-7"));
        assert_eq!(taken.public_id(), meta.public_id);
        assert!(!taken.has_label());
        assert_eq!(
            taken.clone().into_value(),
            meta.to_value(),
            "written back as loaded"
        );
        assert_eq!(*taken.decoded(), meta);
        assert_eq!(taken.into_value(), meta.to_value());
    }

    #[test]
    fn meta_without_a_public_id_is_dropped_and_bad_fields_are_ignored() {
        for broken in [
            serde_json::json!("id"),
            serde_json::json!({}),
            serde_json::json!({"id": 7}),
        ] {
            let mut state = SessionState::new();
            state.insert(META_KEY.into(), broken.clone());
            assert_eq!(Meta::take(&mut state), None, "{broken}");
            assert!(state.is_empty());
        }
        let mut state = SessionState::new();
        let odd = serde_json::json!({"id": "x", "o": 7, "s": "yesterday", "future": true});
        state.insert(META_KEY.into(), odd.clone());
        let mut taken = Meta::take(&mut state).expect("it has a public id");
        assert_eq!(
            taken.owner(),
            None,
            "an owner that is not a string binds nothing"
        );
        assert_eq!(taken.clone().into_value(), odd, "written back as loaded");
        assert_eq!(
            *taken.decoded(),
            SessionMeta {
                public_id: "x".into(),
                ..SessionMeta::default()
            }
        );
    }

    #[test]
    fn user_agents_are_cut_on_character_boundaries() {
        let long = "é".repeat(USER_AGENT_MAX_CHARS + 10);
        assert_eq!(
            truncate_user_agent(&long).chars().count(),
            USER_AGENT_MAX_CHARS
        );
    }
}
