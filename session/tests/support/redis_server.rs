//! Real `redis-server` processes for the Redis store tests: a standalone server or a
//! three-master Redis Cluster on free loopback ports, each in its own temporary directory,
//! killed when dropped. Also a peer that accepts connections and never answers.
//!
//! If `redis-server` or `redis-cli` is missing the tests fail (they never skip) and say to run
//! `scripts/setup.sh`.

use std::{
    io::{Read as _, Write as _},
    net::{SocketAddr, TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread::{self, JoinHandle},
    time::{Duration, Instant},
};

/// How long a server may take to answer its first `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a new cluster may take to reach `cluster_state:ok`.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(30);

/// Fails the test with instructions when `redis-server` or `redis-cli` is not installed.
pub(crate) fn require_redis() {
    for tool in ["redis-server", "redis-cli"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        assert!(
            found,
            "`{tool}` is not installed or not on PATH: the Redis store tests need a real Redis. \
             Run `scripts/setup.sh` (it installs redis-server and redis-cli, or tells you \
             how), then run the tests again."
        );
    }
}

pub(crate) use super::free_port;

/// A free port whose cluster bus port (`port + 10000`) is free too.
fn free_cluster_port() -> u16 {
    loop {
        let port = free_port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

fn unique_dir(port: u16) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "session-redis-test-{}-{port}-{n}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a temporary directory for redis-server");
    dir
}

/// Whether something on `port` answers `PING` with `PONG`.
pub(crate) fn ping(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut buf = [0_u8; 16];
    matches!(stream.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}

/// A `redis-server` process on 127.0.0.1, killed on drop.
pub(crate) struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    extra_args: Vec<String>,
}

impl RedisServer {
    /// Starts a standalone server on a free port.
    pub(crate) fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a server on a free port with extra `redis-server` arguments.
    pub(crate) fn start_with(extra_args: &[&str]) -> Self {
        require_redis();
        let extra_args: Vec<String> = extra_args.iter().map(|arg| (*arg).to_owned()).collect();
        for _ in 0..5 {
            let port = free_port();
            if let Some(server) = Self::try_start(port, unique_dir(port), extra_args.clone()) {
                return server;
            }
        }
        panic!("redis-server did not start after 5 attempts on free ports");
    }

    fn try_start(port: u16, dir: PathBuf, extra_args: Vec<String>) -> Option<Self> {
        let mut server = Self {
            child: None,
            port,
            dir,
            extra_args,
        };
        server.spawn().then_some(server)
    }

    /// Spawns `redis-server` on `self.port` and waits until it answers; `false` if it exits.
    fn spawn(&mut self) -> bool {
        let port = self.port.to_string();
        let dir = self.dir.to_string_lossy().into_owned();
        let log = self.dir.join("redis.log").to_string_lossy().into_owned();
        let mut command = Command::new("redis-server");
        command
            .args([
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--dir", &dir, "--logfile", &log, "--daemonize", "no"])
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = command.spawn().expect("spawn redis-server");
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if ping(self.port) {
                self.child = Some(child);
                return true;
            }
            if let Ok(Some(_)) = child.try_wait() {
                return false;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// `redis://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:<port>`.
    pub(crate) fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The server's port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (SIGKILL), as a crash would.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (after [`kill`](Self::kill)).
    pub(crate) fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + START_TIMEOUT;
        while !self.spawn() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not restart on port {}",
                self.port
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing is answered.
    pub(crate) fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a [paused](Self::pause) server (SIGCONT).
    pub(crate) fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        if let Some(child) = &self.child {
            let status = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .expect("run kill");
            assert!(status.success(), "kill {signal} failed");
        }
    }

    /// Runs `redis-cli --raw` against this server and returns its output, trimmed.
    pub(crate) fn cli(&self, args: &[&str]) -> String {
        cli(self.port, false, args)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // A stopped process dies from SIGKILL too, but make sure nothing stays frozen.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
        }
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `redis-cli --raw` (with `-c` to follow cluster redirects) on `port`.
fn cli(port: u16, cluster: bool, args: &[&str]) -> String {
    let mut command = Command::new("redis-cli");
    command.args(["--raw", "-h", "127.0.0.1", "-p", &port.to_string()]);
    if cluster {
        command.arg("-c");
    }
    let output = command.args(args).output().expect("run redis-cli");
    assert!(
        output.status.success(),
        "redis-cli {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A three-master Redis Cluster (no replicas) on 127.0.0.1, killed on drop.
pub(crate) struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts three cluster-enabled servers, joins them with `redis-cli --cluster create`, and
    /// waits until every node reports `cluster_state:ok`.
    pub(crate) fn start() -> Self {
        require_redis();
        let mut nodes = Vec::new();
        let mut attempts = 0;
        while nodes.len() < 3 {
            attempts += 1;
            assert!(attempts < 15, "could not start three cluster nodes");
            let port = free_cluster_port();
            let dir = unique_dir(port);
            let config = dir.join("nodes.conf").to_string_lossy().into_owned();
            let args = vec![
                "--cluster-enabled".to_owned(),
                "yes".to_owned(),
                "--cluster-config-file".to_owned(),
                config,
                "--cluster-node-timeout".to_owned(),
                "5000".to_owned(),
            ];
            if let Some(node) = RedisServer::try_start(port, dir, args) {
                nodes.push(node);
            }
        }
        let addresses: Vec<String> = nodes.iter().map(RedisServer::addr).collect();
        let output = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("run redis-cli --cluster create");
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let cluster = Self { nodes };
        cluster.wait_until_ok();
        cluster
    }

    /// Waits until every node reports `cluster_state:ok`.
    pub(crate) fn wait_until_ok(&self) {
        let deadline = Instant::now() + CLUSTER_TIMEOUT;
        loop {
            let all_ok = self.nodes.iter().all(|node| {
                let info = node.cli(&["CLUSTER", "INFO"]);
                let slots = node.cli(&["CLUSTER", "SLOTS"]);
                info.contains("cluster_state:ok") && !slots.is_empty()
            });
            if all_ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the Redis Cluster did not reach cluster_state:ok"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// The nodes' `redis://` URLs.
    pub(crate) fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The nodes.
    pub(crate) fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// One node, to kill or restart it.
    pub(crate) fn node_mut(&mut self, index: usize) -> &mut RedisServer {
        &mut self.nodes[index]
    }

    /// The node that serves `key`'s slot, by index, and the slot.
    pub(crate) fn owner_of(&self, key: &str) -> (usize, u16) {
        let slot = self.nodes[0].cli(&["CLUSTER", "KEYSLOT", key]);
        let owner = self
            .nodes
            .iter()
            .position(|node| {
                let mine = node.cli(&["CLUSTER", "COUNTKEYSINSLOT", &slot]);
                mine != "0" && !mine.is_empty()
            })
            .expect("a node holds the key");
        (owner, slot.parse().expect("a slot number"))
    }

    /// Moves `slot` and its keys from node `from` to node `to`, the way `redis-cli --cluster
    /// reshard` does (every node is told the new owner), and waits for `cluster_state:ok`.
    pub(crate) fn move_slot(&self, slot: u16, from: usize, to: usize) {
        let slot = slot.to_string();
        let (source, target) = (&self.nodes[from], &self.nodes[to]);
        let source_id = source.cli(&["CLUSTER", "MYID"]);
        let target_id = target.cli(&["CLUSTER", "MYID"]);
        target.cli(&["CLUSTER", "SETSLOT", &slot, "IMPORTING", &source_id]);
        source.cli(&["CLUSTER", "SETSLOT", &slot, "MIGRATING", &target_id]);
        let keys = source.cli(&["CLUSTER", "GETKEYSINSLOT", &slot, "1000"]);
        let port = target.port().to_string();
        for key in keys.lines().filter(|key| !key.is_empty()) {
            source.cli(&["MIGRATE", "127.0.0.1", &port, key, "0", "5000"]);
        }
        for node in [target, source].into_iter().chain(
            self.nodes
                .iter()
                .enumerate()
                .filter(|(index, _)| *index != from && *index != to)
                .map(|(_, node)| node),
        ) {
            node.cli(&["CLUSTER", "SETSLOT", &slot, "NODE", &target_id]);
        }
        self.wait_until_ok();
    }

    /// Runs `redis-cli -c --raw` (following redirects) through the first node.
    pub(crate) fn cli(&self, args: &[&str]) -> String {
        cli(self.nodes[0].port(), true, args)
    }
}

/// A TCP peer on 127.0.0.1 that accepts connections and never answers.
pub(crate) struct SilentPeer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SilentPeer {
    /// Starts accepting on a free port.
    pub(crate) fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a silent peer");
        let port = listener.local_addr().expect("local address").port();
        listener
            .set_nonblocking(true)
            .expect("make the silent peer non-blocking");
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut held = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => held.push(stream),
                        Err(_) => thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Self {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// `redis://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for SilentPeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
