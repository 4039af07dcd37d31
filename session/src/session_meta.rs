//! What the middleware knows about a session beside the user's data: its public id, its
//! owner, when it was last seen, the device it was used from and the application's label.
//!
//! Like the creation time ([`absolute_timeout`](crate::absolute_timeout)), it lives in the
//! stored state under one reserved entry, [`META_KEY`], so that every store keeps it without
//! knowing about it (the cookie store inside its protected payload). The middleware takes it
//! out before handlers see the state and puts it back before the state is saved.
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

    /// Takes the metadata out of a loaded state (an undecodable entry is dropped).
    pub(crate) fn take(state: &mut SessionState) -> Option<Self> {
        state
            .remove(META_KEY)
            .and_then(|value| Self::deserialize(value).ok())
    }

    /// The metadata as the JSON value stored under [`META_KEY`].
    pub(crate) fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| unreachable!("strings and integers"))
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
        assert_eq!(SessionMeta::take(&mut state), Some(meta));
        assert!(state.is_empty());
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
