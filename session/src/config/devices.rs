//! What the middleware records about the sessions bound to an owner: how often their "last
//! seen" time moves on, and whether the device's user agent and address are kept.

use actix_web::cookie::time::Duration;

/// How often a bound session's "last seen" time is written by default: at most once a minute,
/// so that reading a session does not turn every request into a write.
pub const DEFAULT_LAST_SEEN_INTERVAL: Duration = Duration::minutes(1);

/// Which client address a bound session records, with
/// [`SessionMiddlewareBuilder::record_client_ip`](crate::SessionMiddlewareBuilder::record_client_ip).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientIp {
    /// No address is recorded (the default).
    #[default]
    Off,
    /// The address of the connection's peer: the client itself, or the last proxy in front
    /// of the application.
    Peer,
    /// The address proxies report in `Forwarded` or `X-Forwarded-For`, falling back to the
    /// peer address. Only for applications behind proxies they trust to set these headers:
    /// a client can write anything into them.
    TrustForwarded,
}

/// The settings of the sessions bound to an owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeviceSettings {
    /// The least time between two writes of a bound session's "last seen" time.
    pub(crate) last_seen_interval: Duration,
    /// Whether the user agent (truncated) is recorded.
    pub(crate) record_user_agent: bool,
    /// Which client address is recorded.
    pub(crate) client_ip: ClientIp,
}

impl Default for DeviceSettings {
    fn default() -> Self {
        Self {
            last_seen_interval: DEFAULT_LAST_SEEN_INTERVAL,
            record_user_agent: false,
            client_ip: ClientIp::Off,
        }
    }
}
