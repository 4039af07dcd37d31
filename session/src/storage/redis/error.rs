//! [`RedisStoreError`]: what can go wrong between the Redis store and Redis.

use std::time::Duration;

/// Why the Redis store could not be built or could not complete an operation.
///
/// Store operations wrap it in [`LoadError::Other`], [`SaveError::Other`], ... (and
/// [`LoadError::Deserialization`] for [`InvalidRecord`](Self::InvalidRecord)).
///
/// [`LoadError::Other`]: crate::storage::LoadError::Other
/// [`SaveError::Other`]: crate::storage::SaveError::Other
/// [`LoadError::Deserialization`]: crate::storage::LoadError::Deserialization
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// The connection URL or the cluster configuration is invalid.
    #[error("invalid Redis configuration")]
    Config(#[source] redis::RedisError),
    /// `cluster`/`cluster_builder` was given no node URL.
    #[error("a Redis Cluster store needs at least one node URL")]
    NoClusterNodes,
    /// Redis could not be reached, refused the connection or failed the first `PING`.
    #[error("could not connect to Redis")]
    Connect(#[source] redis::RedisError),
    /// Redis did not answer within the connect and response timeouts.
    #[error("Redis did not answer the {operation} operation within {after:?}")]
    Timeout {
        /// The operation that timed out (`connect`, `load`, `save`, ...).
        operation: &'static str,
        /// The time budget that ran out.
        after: Duration,
    },
    /// A Redis command failed (after the retries, for transient failures).
    #[error("a Redis command failed")]
    Redis(#[source] redis::RedisError),
    /// Every fresh session key tried was already taken.
    #[error("could not find a free session key after {attempts} attempts")]
    KeyCollision {
        /// How many keys were tried.
        attempts: usize,
    },
    /// A stored record could not be decoded.
    #[error("undecodable session record: {0}")]
    InvalidRecord(String),
}
