//! The connection to Redis: a self-healing standalone connection or an async cluster
//! connection, behind one type, with bounded retries of transient failures.

use std::{convert::Infallible, future::Future, sync::Arc, time::Duration};

use redis::{
    Cmd, ErrorKind, FromRedisValue, IntoConnectionInfo as _, Pipeline, ProtocolVersion, PushInfo,
    RedisError, RedisFuture, RedisResult, Script, ServerErrorKind, Value,
    aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig},
    cluster::ClusterClientBuilder,
    cluster_async::ClusterConnection,
    cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr},
};

use super::{RedisStoreError, near_cache::Cache};

/// How many times a command is retried after a transient failure.
const RETRIES: usize = 2;
/// The pause before each retry.
const BACKOFF: [Duration; RETRIES] = [Duration::from_millis(25), Duration::from_millis(100)];
/// How many times the connection manager retries a failed reconnection before it reports the
/// failure (the next command starts a new attempt).
const RECONNECT_RETRIES: usize = 1;
/// The connection manager's first reconnection delay.
const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(25);
/// The connection manager's longest reconnection delay.
const RECONNECT_MAX_DELAY: Duration = Duration::from_millis(250);
/// How many times the cluster client retries a request internally (redirects, reconnects).
const CLUSTER_RETRIES: u32 = 3;

/// The connect and response timeouts, and the overall budget they give an operation.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timeouts {
    pub(super) connect: Option<Duration>,
    pub(super) response: Option<Duration>,
}

impl Timeouts {
    /// The most time one store operation may take, retries and reconnection included:
    /// one connection attempt plus one response, plus the retry pauses. `None` (no bound)
    /// when the response timeout is off.
    pub(super) fn budget(self) -> Option<Duration> {
        let response = self.response?;
        let pauses: Duration = BACKOFF.iter().sum();
        Some(response + self.connect.unwrap_or(Duration::ZERO) + pauses)
    }
}

/// A connection to a standalone server or to a cluster. Clones share the connection.
#[derive(Clone)]
pub(super) enum Connection {
    /// A multiplexed connection that reconnects by itself after the server went away.
    Standalone(ConnectionManager),
    /// The async cluster client: one connection per node, slot routing, reconnection.
    Cluster(ClusterConnection),
}

impl Connection {
    /// Connects to a standalone server and checks that it answers.
    ///
    /// With a `cache`, the connection speaks RESP3 and hands every push message to it.
    pub(super) async fn standalone(
        url: &str,
        timeouts: Timeouts,
        cache: Option<&Arc<Cache>>,
    ) -> Result<Self, RedisStoreError> {
        let client = match cache {
            None => redis::Client::open(url),
            Some(_) => url.into_connection_info().and_then(|info| {
                let redis = info
                    .redis_settings()
                    .clone()
                    .set_protocol(ProtocolVersion::RESP3);
                redis::Client::open(info.set_redis_settings(redis))
            }),
        }
        .map_err(RedisStoreError::Config)?;
        let mut config = ConnectionManagerConfig::new()
            .set_connection_timeout(timeouts.connect)
            .set_response_timeout(timeouts.response)
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_min_delay(RECONNECT_MIN_DELAY)
            .set_max_delay(RECONNECT_MAX_DELAY);
        if let Some(cache) = cache {
            config = config.set_push_sender(push_handler(cache));
        }
        let connect = async {
            let manager = ConnectionManager::new_with_config(client, config)
                .await
                .map_err(RedisStoreError::Connect)?;
            let mut connection = Self::Standalone(manager);
            connection.ping().await?;
            Ok(connection)
        };
        within(timeouts.budget(), "connect", connect).await
    }

    /// Connects to a cluster through its initial nodes and checks that it answers.
    pub(super) async fn cluster(
        urls: &[String],
        timeouts: Timeouts,
        cache: Option<&Arc<Cache>>,
    ) -> Result<Self, RedisStoreError> {
        let mut builder = ClusterClientBuilder::new(urls.iter().map(String::as_str))
            .retries(CLUSTER_RETRIES)
            .overall_response_timeout(timeouts.budget());
        if let Some(cache) = cache {
            builder = builder
                .use_protocol(ProtocolVersion::RESP3)
                .push_sender(push_handler(cache));
        }
        if let Some(connect) = timeouts.connect {
            builder = builder.connection_timeout(connect);
        }
        if let Some(response) = timeouts.response {
            builder = builder.response_timeout(response);
        }
        let client = builder.build().map_err(RedisStoreError::Config)?;
        let connect = async {
            let connection = client
                .get_async_connection()
                .await
                .map_err(RedisStoreError::Connect)?;
            let mut connection = Self::Cluster(connection);
            connection.ping().await?;
            Ok(connection)
        };
        within(timeouts.budget(), "connect", connect).await
    }

    /// Reads a session hash and its remaining TTL in one round trip, on the connection that
    /// owns the key, with `CLIENT TRACKING ON NOLOOP` in front: whatever connection the read
    /// goes out on, Redis then tracks the key for it. Returns the `HGETALL` reply and the
    /// `PTTL`.
    pub(super) async fn tracked_read(&mut self, redis_key: &str) -> RedisResult<(Value, i64)> {
        let mut pipeline = tracking_on();
        pipeline
            .cmd("HGETALL")
            .arg(redis_key)
            .cmd("PTTL")
            .arg(redis_key);
        let mut values = self.on_key_node(&pipeline, redis_key, 3).await?;
        let (Some(pttl), Some(fields)) = (values.pop(), values.pop()) else {
            return Err(fewer_replies());
        };
        let pttl = redis::FromRedisValue::from_redis_value(pttl)?;
        Ok((fields, pttl))
    }

    /// Runs a write script in one round trip, on the connection that owns the key, with
    /// `CLIENT TRACKING ON NOLOOP` in front, so that the keys the script reads are tracked
    /// for that connection. A server that does not know the script yet gets it loaded, and
    /// the pipeline is sent again. Returns the script's reply.
    ///
    /// `pipeline` is [`tracked`]`(command)`, built once per write (a retry sends it again).
    pub(super) async fn tracked_script(
        &mut self,
        pipeline: &Pipeline,
        script: &Script,
        redis_key: &str,
    ) -> RedisResult<Value> {
        let values = match self.on_key_node(pipeline, redis_key, 2).await {
            Err(err) if err.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                script.prepare_invoke().load_async(self).await?;
                self.on_key_node(pipeline, redis_key, 2).await?
            }
            values => values?,
        };
        values.into_iter().nth(1).ok_or_else(fewer_replies)
    }

    /// Runs a write script's `EVALSHA` `command` (see `script_command`); a server that does
    /// not know `script` yet gets it loaded, and the command is sent again.
    pub(super) async fn script<T: FromRedisValue>(
        &mut self,
        command: &Cmd,
        script: &Script,
    ) -> RedisResult<T> {
        match command.query_async(self).await {
            Err(err) if err.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                script.prepare_invoke().load_async(self).await?;
                command.query_async(self).await
            }
            reply => reply,
        }
    }

    /// Sends `pipeline` (of `count` commands) to the connection that owns `redis_key` (for a
    /// standalone server, its one connection) and returns the replies; a command's error is
    /// the pipeline's error.
    async fn on_key_node(
        &mut self,
        pipeline: &Pipeline,
        redis_key: &str,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        let values = match self {
            Self::Standalone(connection) => {
                connection.req_packed_commands(pipeline, 0, count).await?
            }
            // `CLIENT TRACKING` names no key: route the whole pipeline to the key's node.
            Self::Cluster(connection) => {
                let route = Route::with_key(redis_key, SlotAddr::Master);
                connection
                    .route_pipeline(
                        pipeline.clone(),
                        0,
                        count,
                        SingleNodeRoutingInfo::SpecificNode(route),
                    )
                    .await?
            }
        };
        values.into_iter().map(Value::extract_error).collect()
    }

    /// The near cache's health check: `PING` (on a cluster, to every master), and on a
    /// cluster the slot map one node reports (`CLUSTER SLOTS`). `None` when a command failed
    /// or was late.
    pub(super) async fn health_check(&self, timeouts: Timeouts) -> Option<Topology> {
        let mut connection = self.clone();
        let check = async move {
            connection.ping().await?;
            match connection {
                Self::Standalone(_) => Ok(Topology::default()),
                Self::Cluster(ref mut cluster) => {
                    let slots = cluster
                        .route_command(
                            redis::cmd("CLUSTER").arg("SLOTS").to_owned(),
                            RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
                        )
                        .await
                        .map_err(RedisStoreError::Redis)?;
                    Ok(Topology::from_cluster_slots(slots))
                }
            }
        };
        within(timeouts.budget(), "health check", check).await.ok()
    }

    async fn ping(&mut self) -> Result<(), RedisStoreError> {
        redis::cmd("PING")
            .query_async::<()>(self)
            .await
            .map_err(RedisStoreError::Connect)
    }

    /// Runs `op` on a clone of the connection, retrying transient failures (a dropped or
    /// refused connection, a server still loading, a cluster resharding) up to twice with a
    /// short pause, all within the timeouts' [budget](Timeouts::budget).
    ///
    /// Timeouts are not retried: the server was reached and did not answer in time, asking
    /// again would only double the wait.
    pub(super) async fn run<T, F, Fut>(
        &self,
        timeouts: Timeouts,
        operation: &'static str,
        mut op: F,
    ) -> Result<T, RedisStoreError>
    where
        F: FnMut(Self) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let attempts = async {
            let mut retries = BACKOFF.iter();
            loop {
                match op(self.clone()).await {
                    Ok(value) => return Ok(value),
                    Err(err) if is_transient(&err) => {
                        let Some(pause) = retries.next() else {
                            return Err(RedisStoreError::Redis(err));
                        };
                        tracing::debug!(
                            operation,
                            error = %err,
                            "transient Redis failure; retrying"
                        );
                        tokio::time::sleep(*pause).await;
                    }
                    Err(err) => return Err(RedisStoreError::Redis(err)),
                }
            }
        };
        within(timeouts.budget(), operation, attempts).await
    }
}

/// Which node serves which slots: every slot range with its master's node id, in slot order
/// (empty for a standalone server). Replicas are left out: a read or a write goes to the
/// master, and the master's connection is the one that tracks the keys.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Topology(Vec<(i64, i64, Vec<u8>)>);

impl Topology {
    /// Reads a `CLUSTER SLOTS` reply: `[start, end, [host, port, id, ..], replicas ..]` per
    /// range. A range whose master has no id (a server too old to send it) is told apart by
    /// its address instead.
    fn from_cluster_slots(reply: Value) -> Self {
        let Value::Array(ranges) = reply else {
            return Self::default();
        };
        let mut slots: Vec<_> = ranges
            .into_iter()
            .filter_map(|range| {
                let Value::Array(range) = range else {
                    return None;
                };
                let mut fields = range.into_iter();
                let (Some(Value::Int(start)), Some(Value::Int(end)), Some(Value::Array(master))) =
                    (fields.next(), fields.next(), fields.next())
                else {
                    return None;
                };
                let master = master
                    .into_iter()
                    .take(3)
                    .filter_map(|field| match field {
                        Value::BulkString(bytes) => Some(bytes),
                        Value::Int(port) => Some(port.to_string().into_bytes()),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .join(&b':');
                Some((start, end, master))
            })
            .collect();
        slots.sort_unstable();
        Self(slots)
    }
}

/// A pipeline that starts with `CLIENT TRACKING ON NOLOOP`: the connection gets an
/// invalidation message when another client changes a key it read, and none for its own
/// writes (the store handles those itself, see `WriteGuard`). Sent in front of every cached
/// read and write, so that a connection that was replaced (a reconnection) tracks again.
fn tracking_on() -> Pipeline {
    let mut pipeline = Pipeline::with_capacity(3);
    let mut tracking = Cmd::with_capacity(4, 25);
    tracking
        .arg("CLIENT")
        .arg("TRACKING")
        .arg("ON")
        .arg("NOLOOP");
    pipeline.add_command(tracking);
    pipeline
}

/// `command` behind `CLIENT TRACKING ON NOLOOP` (see [`tracking_on`]), for
/// [`Connection::tracked_script`].
pub(super) fn tracked(command: Cmd) -> Pipeline {
    let mut pipeline = tracking_on();
    pipeline.add_command(command);
    pipeline
}

fn fewer_replies() -> RedisError {
    RedisError::from((
        ErrorKind::UnexpectedReturnType,
        "a pipeline returned fewer replies than it has commands",
    ))
}

/// The push sender of a cached store's connections: called by redis-rs for every push
/// message (invalidations, disconnections) of every connection.
fn push_handler(cache: &Arc<Cache>) -> impl Fn(PushInfo) -> Result<(), Infallible> + use<> {
    let cache = Arc::clone(cache);
    move |push| {
        cache.on_push(&push);
        Ok(())
    }
}

/// Bounds `future` by `budget`, if any.
async fn within<T>(
    budget: Option<Duration>,
    operation: &'static str,
    future: impl Future<Output = Result<T, RedisStoreError>>,
) -> Result<T, RedisStoreError> {
    match budget {
        Some(budget) => {
            tokio::time::timeout(budget, future)
                .await
                .unwrap_or(Err(RedisStoreError::Timeout {
                    operation,
                    after: budget,
                }))
        }
        None => future.await,
    }
}

/// Whether asking again, possibly on a new connection, may succeed.
pub(super) fn is_transient(err: &RedisError) -> bool {
    if err.is_timeout() {
        return false;
    }
    err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_io_error()
        || matches!(
            err.kind(),
            ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(
                    ServerErrorKind::BusyLoading
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::ClusterDown
                        | ServerErrorKind::MasterDown
                )
        )
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Standalone(connection) => connection.req_packed_command(cmd),
            Self::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Standalone(connection) => connection.req_packed_commands(pipeline, offset, count),
            Self::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Standalone(connection) => connection.get_db(),
            Self::Cluster(connection) => connection.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use redis::Value;

    use super::Topology;

    fn node(host: &str, port: i64, id: &str) -> Value {
        Value::Array(vec![
            Value::BulkString(host.into()),
            Value::Int(port),
            Value::BulkString(id.into()),
        ])
    }

    fn range(start: i64, end: i64, master: Value, replicas: Vec<Value>) -> Value {
        let mut fields = vec![Value::Int(start), Value::Int(end), master];
        fields.extend(replicas);
        Value::Array(fields)
    }

    #[test]
    fn the_slot_map_compares_masters_by_range_in_any_order() {
        let a = || node("10.0.0.1", 7000, "a");
        let b = || node("10.0.0.2", 7000, "b");
        let seen = Topology::from_cluster_slots(Value::Array(vec![
            range(0, 8191, a(), vec![node("10.0.0.3", 7000, "r")]),
            range(8192, 16383, b(), vec![]),
        ]));
        let reordered = Topology::from_cluster_slots(Value::Array(vec![
            range(8192, 16383, b(), vec![]),
            range(0, 8191, a(), vec![]),
        ]));
        assert_eq!(seen, reordered, "replicas and order do not count");
        let moved = Topology::from_cluster_slots(Value::Array(vec![
            range(0, 8190, a(), vec![]),
            range(8191, 16383, b(), vec![]),
        ]));
        assert_ne!(seen, moved, "a slot that changed master counts");
        let failed_over = Topology::from_cluster_slots(Value::Array(vec![
            range(0, 8191, node("10.0.0.3", 7000, "r"), vec![]),
            range(8192, 16383, b(), vec![]),
        ]));
        assert_ne!(seen, failed_over, "a new master counts");
    }
}
