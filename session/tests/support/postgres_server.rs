//! A private Postgres for the Postgres store tests: `initdb` on a temporary directory, a
//! server on a free loopback port (fsync off), stopped and removed when dropped. As root
//! (CI), the cluster belongs to `nobody` and every tool runs through `runuser`, since
//! `initdb` refuses to run as root.
//!
//! The binaries are found through `PG_BIN`, then `/usr/lib/postgresql/<newest>/bin`, then
//! `PATH`; if none is there the tests fail (they never skip) and say to run
//! `scripts/setup.sh`.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::atomic::{AtomicUsize, Ordering},
};

use super::free_port;

/// The unprivileged user that owns the cluster when the tests run as root.
const RUN_AS: &str = "nobody";

/// A Postgres server on 127.0.0.1 with the database `postgres` and the trusted superuser
/// `postgres`.
pub(crate) struct PostgresServer {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

/// The directory of `initdb` and `pg_ctl`.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    let on_path = Command::new("initdb").arg("--version").output();
    assert!(
        on_path.is_ok_and(|out| out.status.success()),
        "Postgres is not installed (no initdb in PG_BIN, /usr/lib/postgresql/*/bin or PATH): \
         the Postgres store tests need a real Postgres. Run `scripts/setup.sh` (it installs \
         the `postgresql` package), then run the tests again."
    );
    PathBuf::new()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

impl PostgresServer {
    /// Creates a cluster and starts it on a free port.
    pub(crate) fn start() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("session-pg-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary directory for Postgres");
        let server = Self {
            bin: bin_dir(),
            dir,
            port: free_port(),
        };
        if is_root() {
            let owner = Command::new("chown")
                .args(["-R", RUN_AS])
                .arg(&server.dir)
                .status()
                .expect("run chown");
            assert!(owner.success(), "chown the Postgres directory to {RUN_AS}");
        }
        let data = server.data_dir();
        server.run_ok(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        server.start_again();
        server
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server at once (no clean shutdown: a crash, as far as clients can tell).
    pub(crate) fn kill(&self) {
        self.run_ok(
            "pg_ctl",
            &[
                "-D",
                path_str(&self.data_dir()),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }

    /// Starts the (stopped) server again on the same port, with its data.
    pub(crate) fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -F -c max_connections=200",
            self.port,
            path_str(&self.dir)
        );
        self.run_ok(
            "pg_ctl",
            &[
                "-D",
                path_str(&self.data_dir()),
                "-l",
                path_str(&self.dir.join("postgres.log")),
                "-o",
                &options,
                "-w",
                "-t",
                "30",
                "start",
            ],
        );
    }

    /// Everything in the database, as `pg_dump` writes it (schema and data).
    pub(crate) fn dump(&self) -> String {
        let port = self.port.to_string();
        let out = self.run_ok(
            "pg_dump",
            &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "postgres"],
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `tool` from the Postgres binaries, as the cluster's owner.
    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        let mut command = if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", RUN_AS, "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        command.current_dir(&self.dir);
        command
    }

    fn run_ok(&self, tool: &str, args: &[&str]) -> Output {
        let out = self
            .command(tool)
            .args(args)
            .output()
            .unwrap_or_else(|err| panic!("run {tool}: {err}"));
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
        );
        out
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let data = self.data_dir();
        let _ = self
            .command("pg_ctl")
            .args(["-D", path_str(&data), "-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
