//! A throwaway PostgreSQL server that a test starts, stops, kills and
//! restarts itself (from the machine's binaries: `TEST_PG_BINDIR`, which
//! `scripts/test.sh` sets, or Debian's `/usr/lib/postgresql/*/bin`). It
//! listens on 127.0.0.1 only, keeps its data in a temporary folder, and is
//! stopped and removed when dropped. A test that cannot start one fails.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A running (or stopped) throwaway server.
pub struct PostgresServer {
    bindir: PathBuf,
    dir: PathBuf,
    port: u16,
    options: Vec<String>,
}

static SEQ: AtomicU32 = AtomicU32::new(0);

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The directory holding `initdb` and `pg_ctl`.
fn bindir() -> PathBuf {
    if let Ok(dir) = std::env::var("TEST_PG_BINDIR") {
        if !dir.is_empty() {
            return PathBuf::from(dir);
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "no PostgreSQL server binaries for this test: install Debian's `postgresql` package \
             or set TEST_PG_BINDIR (scripts/test.sh does both)"
        )
    })
}

/// A port nothing listens on.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap().port()
}

/// Runs `program args` as the `postgres` user when this process is root
/// (the server refuses to run as root).
fn run(program: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

impl PostgresServer {
    /// Initializes a cluster in a temporary folder and starts it, with
    /// `options` passed to the server (`-c name=value` pairs).
    pub fn start(options: &[&str]) -> PostgresServer {
        let bindir = bindir();
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("persistence-pg-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            let status = Command::new("chown")
                .args(["postgres:", dir.to_str().unwrap()])
                .status()
                .unwrap();
            assert!(status.success(), "chown of {}", dir.display());
        }
        let data = dir.join("data");
        let out = run(
            &bindir.join("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let server = PostgresServer {
            bindir,
            dir,
            port: free_port(),
            options: options.iter().map(|s| (*s).to_owned()).collect(),
        };
        server.start_again();
        server
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) -> std::process::Output {
        let data = self.dir.join("data");
        let mut all = vec!["-D", data.to_str().unwrap()];
        all.extend_from_slice(args);
        run(&self.bindir.join("pg_ctl"), &all)
    }

    /// Starts the (stopped) server again, on the same port and data.
    pub fn start_again(&self) {
        let mut opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off",
            self.port,
            self.dir.display()
        );
        for o in &self.options {
            opts.push(' ');
            opts.push_str(o);
        }
        let log = self.dir.join("postgres.log");
        let out = self.pg_ctl(&[
            "-l",
            log.to_str().unwrap(),
            "-w",
            "-t",
            "60",
            "-o",
            &opts,
            "start",
        ]);
        assert!(
            out.status.success(),
            "PostgreSQL did not start: {} {}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Stops the server: `fast` (sessions are told `57P01` and closed) or
    /// `immediate` (every process quits at once, as in a crash).
    pub fn stop(&self, mode: &str) {
        let out = self.pg_ctl(&["-m", mode, "-w", "stop"]);
        assert!(
            out.status.success(),
            "pg_ctl stop -m {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
