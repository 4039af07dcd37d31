//! The metadata kept with each session (public id, owner, last seen, device, label): what a
//! request changes in it, decided synchronously before the one store call, and what the
//! owner index must learn after it.
//!
//! Rules:
//! - every session written gets a public id (a new session, or one stored by an older
//!   release on its next write); renewal keeps it;
//! - binding ([`Session::set_owner`](crate::Session::set_owner)) records the owner, the time
//!   and, as configured, the user agent and client address; a session bound to a different
//!   owner gets a new public id, so that the old owner's id never names it;
//! - a bound session whose "last seen" is older than the interval is written again (the
//!   metadata only); sessions without an owner never are;
//! - every successful write of a bound session links it in the owner index under the key it
//!   now lives under; deleting a bound session unlinks it.

use actix_web::HttpRequest;

use crate::{
    config::{ClientIp, Configuration},
    session_meta::{Meta, MetaEdits, SessionMeta, truncate_user_agent},
};

/// The metadata a session leaves the request with.
pub(super) struct NextMeta {
    /// `None` while the session has none (not stored yet, or stored by an older release);
    /// [`ensure_exists`](Self::ensure_exists) creates it when the session is written.
    pub(super) meta: Option<Meta>,
    /// Whether it differs from what the store holds, and so must be written.
    pub(super) changed: bool,
}

impl NextMeta {
    /// The metadata after the handler's `edits`, on top of the `stored` one; `req` is read
    /// only when the handler bound the session (for the device).
    pub(super) fn after(
        stored: Option<Meta>,
        edits: MetaEdits,
        req: &HttpRequest,
        configuration: &Configuration,
    ) -> Self {
        let bound = stored.as_ref().is_some_and(|meta| meta.owner().is_some());
        if edits.is_empty() && !bound {
            // The common case: nothing to decide, and no clock to read.
            return Self {
                meta: stored,
                changed: false,
            };
        }
        let now = configuration.clock.now().unix_timestamp();
        let settings = &configuration.devices;
        let mut next = Self {
            changed: !edits.is_empty(),
            meta: stored,
        };
        if let Some(owner) = edits.owner {
            let meta = next.ensure();
            if meta.owner.as_ref().is_some_and(|bound| *bound != owner) {
                // Re-owned: the previous owner's id must not name this session.
                *meta = SessionMeta::fresh();
            }
            meta.owner = Some(owner);
            meta.last_seen = Some(now);
            if settings.record_user_agent {
                meta.user_agent = user_agent(req);
            }
            meta.ip = client_ip(req, settings.client_ip);
        }
        if let Some(label) = edits.label {
            next.ensure().label = Some(label);
        }
        if let Some(meta) = next.meta.as_mut().map(Meta::decoded)
            && meta.owner.is_some()
            && meta.last_seen.is_none_or(|seen| {
                now.saturating_sub(seen) >= settings.last_seen_interval.whole_seconds()
            })
        {
            meta.last_seen = Some(now);
            next.changed = true;
        }
        next
    }

    /// The metadata decoded, to change it; created (with a fresh public id) if the session
    /// has none yet.
    fn ensure(&mut self) -> &mut SessionMeta {
        self.ensure_exists();
        self.meta.get_or_insert_with(Meta::fresh).decoded()
    }

    /// Gives the session metadata (a fresh public id) if it has none yet.
    pub(super) fn ensure_exists(&mut self) {
        if self.meta.is_none() {
            self.meta = Some(Meta::fresh());
            self.changed = true;
        }
    }

    /// Whether the session holds a binding or a label: worth storing even without data.
    pub(super) fn is_worth_storing(&self) -> bool {
        self.meta
            .as_ref()
            .is_some_and(|meta| meta.owner().is_some() || meta.has_label())
    }

    /// The owner and public id, if the session is bound.
    pub(super) fn binding(&self) -> Option<(String, String)> {
        let meta = self.meta.as_ref()?;
        Some((meta.owner()?.to_owned(), meta.public_id().to_owned()))
    }
}

/// What the owner index must learn once the store call succeeded.
pub(super) enum IndexUpdate {
    /// Nothing: the session is not bound, or was not written.
    Nothing,
    /// The session (owner, public id) now lives under the key the write returned.
    Link(String, String),
    /// The session (owner, public id) was deleted.
    Unlink(String, String),
}

/// The request's `User-Agent`, truncated; `None` if absent or not text.
fn user_agent(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(actix_web::http::header::USER_AGENT)?;
    value.to_str().ok().map(truncate_user_agent)
}

/// The client address, as `setting` says to find it.
fn client_ip(req: &HttpRequest, setting: ClientIp) -> Option<String> {
    match setting {
        ClientIp::Off => None,
        ClientIp::Peer => req.peer_addr().map(|addr| addr.ip().to_string()),
        ClientIp::TrustForwarded => {
            let info = req.connection_info();
            let addr = info.realip_remote_addr()?;
            // `realip_remote_addr` may carry a port (`1.2.3.4:5678`, `[::1]:5678`); keep the
            // address only, and nothing that does not parse as one.
            parse_ip(addr).map(|ip| ip.to_string())
        }
    }
}

/// An address with or without a port; `None` for anything else (a client-chosen string).
fn parse_ip(text: &str) -> Option<std::net::IpAddr> {
    text.parse()
        .ok()
        .or_else(|| {
            text.parse::<std::net::SocketAddr>()
                .ok()
                .map(|addr| addr.ip())
        })
        .or_else(|| {
            text.strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse().ok())
        })
}

#[cfg(test)]
mod tests {
    use super::parse_ip;

    #[test]
    fn forwarded_addresses_parse_with_or_without_a_port() {
        assert_eq!(parse_ip("203.0.113.7").unwrap().to_string(), "203.0.113.7");
        assert_eq!(
            parse_ip("203.0.113.7:4711").unwrap().to_string(),
            "203.0.113.7"
        );
        assert_eq!(
            parse_ip("[2001:db8::1]:80").unwrap().to_string(),
            "2001:db8::1"
        );
        assert_eq!(
            parse_ip("[2001:db8::1]").unwrap().to_string(),
            "2001:db8::1"
        );
        assert_eq!(parse_ip("<script>"), None);
        assert_eq!(parse_ip("unknown"), None);
    }
}
