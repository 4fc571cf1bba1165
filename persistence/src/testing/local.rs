//! Throwaway local servers, started from the machine's binaries (Debian's
//! `postgresql` and `mariadb-server` packages) when neither a URL nor a
//! container is to be had.
//!
//! A server gets a fresh data directory in the temporary directory and a
//! free port on 127.0.0.1. It runs under a small `sh` guard whose standard
//! input is a pipe from the test process: when that process exits, for
//! whatever reason, the pipe closes, and the guard stops the server and
//! removes its data directory. As root, the servers run as their own
//! system users (`postgres`, `mysql`), which they require.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::engine::url::Backend;

use super::container::wait_for_connection;
use super::TestingError;

/// A running throwaway server; it stops when the test process exits.
#[derive(Debug)]
pub(crate) struct LocalServer {
    /// A TCP URL whose user may create databases (ready after `wait_ready`).
    pub admin_url: String,
    pub dir: PathBuf,
    /// What `wait_ready` polls: the admin URL, or for MariaDB root over
    /// the socket (the TCP user does not exist yet).
    bootstrap_url: String,
    backend: Backend,
    /// The guard; its stdin pipe closes when the process exits.
    guard: Mutex<Child>,
}

fn is_root() -> bool {
    // `id -u` avoids unsafe libc calls; the answer is "0" for root.
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `name` in PATH or an sbin directory.
fn find_bin(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from));
    names
        .iter()
        .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
        .find(|p| p.is_file())
}

/// Debian keeps the PostgreSQL server binaries in
/// `/usr/lib/postgresql/<version>/bin`; the newest one wins.
fn postgres_bindir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .or_else(|| find_bin(&["initdb"]).and_then(|p| p.parent().map(Path::to_path_buf)))
}

struct MariaDbBins {
    server: PathBuf,
    install_db: PathBuf,
}

fn mariadb_bins() -> Result<MariaDbBins, String> {
    let server = find_bin(&["mariadbd", "mysqld"]).ok_or("no mariadbd")?;
    let install_db =
        find_bin(&["mariadb-install-db", "mysql_install_db"]).ok_or("no mariadb-install-db")?;
    Ok(MariaDbBins { server, install_db })
}

/// `None` when the binaries for `backend` are there; else what is missing.
pub(crate) fn missing_binaries(backend: Backend) -> Option<String> {
    match backend {
        Backend::Postgres => postgres_bindir()
            .is_none()
            .then(|| "no initdb / postgres".to_owned()),
        _ => mariadb_bins().err(),
    }
}

/// A port nothing listens on now.
fn free_port() -> std::io::Result<u16> {
    TcpListener::bind("127.0.0.1:0")?
        .local_addr()
        .map(|a| a.port())
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// Runs `cmd` to completion; its output is the error on failure.
fn run(backend: Backend, what: &str, cmd: &mut Command) -> Result<(), TestingError> {
    let out = cmd.output().map_err(|e| TestingError::LocalServer {
        backend,
        message: format!("cannot run {what}: {e}"),
    })?;
    if out.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    Err(TestingError::LocalServer {
        backend,
        message: format!("{what} failed ({}): {}", out.status, tail(&text)),
    })
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// Starts `argv` under the guard; the server's output goes to `log`.
fn spawn_guarded(dir: &Path, argv: &[String], log: &Path) -> std::io::Result<Child> {
    // `read` returns when the test process's end of the pipe closes; then
    // the server is stopped (SIGTERM: a clean shutdown for both servers)
    // and its data removed.
    let script = r#"log=$1; dir=$2; shift 2
"$@" </dev/null >>"$log" 2>&1 &
pid=$!
read -r _ignored
kill -TERM "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rm -rf "$dir""#;
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("persistence-test-server")
        .arg(log)
        .arg(dir)
        .args(argv)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// Creates the server's data directory, owned by `user` when root.
fn make_dir(backend: Backend, tag: &str, user: &str, root: bool) -> Result<PathBuf, TestingError> {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("persistence-test-{tag}-{}-{n}", std::process::id()));
    let fail = |e: std::io::Error| TestingError::LocalServer {
        backend,
        message: format!("cannot create {}: {e}", dir.display()),
    };
    std::fs::create_dir_all(&dir).map_err(fail)?;
    if root {
        run(
            backend,
            "chown",
            Command::new("chown").arg(format!("{user}:")).arg(&dir),
        )?;
    }
    Ok(dir)
}

/// Starts a throwaway server for `backend` (blocking; run it off the
/// runtime). [`LocalServer::wait_ready`] waits until it accepts connections.
pub(crate) fn start(backend: Backend) -> Result<LocalServer, TestingError> {
    let root = is_root();
    let port = free_port().map_err(|e| TestingError::LocalServer {
        backend,
        message: format!("no free port: {e}"),
    })?;
    let as_user = |user: &str, program: &Path| -> Vec<String> {
        let mut argv = Vec::new();
        if root {
            argv.extend(
                [
                    "setpriv",
                    &format!("--reuid={user}"),
                    &format!("--regid={user}"),
                    "--init-groups",
                    "--",
                ]
                .map(str::to_owned),
            );
        }
        argv.push(program.display().to_string());
        argv
    };
    match backend {
        Backend::Postgres => {
            let bin = postgres_bindir().ok_or_else(|| TestingError::LocalServer {
                backend,
                message: "no initdb found (install Debian's postgresql)".into(),
            })?;
            let dir = make_dir(backend, "pg", "postgres", root)?;
            let data = dir.join("data");
            let mut initdb = as_user("postgres", &bin.join("initdb"));
            initdb.extend(
                [
                    "-D",
                    &data.display().to_string(),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
                .map(str::to_owned),
            );
            run(
                backend,
                "initdb",
                Command::new(&initdb[0])
                    .args(&initdb[1..])
                    .current_dir(&dir),
            )?;
            let mut server = as_user("postgres", &bin.join("postgres"));
            server.extend(
                [
                    "-D",
                    &data.display().to_string(),
                    "-p",
                    &port.to_string(),
                    "-k",
                    &dir.display().to_string(),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=300",
                ]
                .map(str::to_owned),
            );
            let guard = spawn_guarded(&dir, &server, &dir.join("server.log")).map_err(|e| {
                TestingError::LocalServer {
                    backend,
                    message: format!("cannot start postgres: {e}"),
                }
            })?;
            let admin_url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
            Ok(LocalServer {
                bootstrap_url: admin_url.clone(),
                admin_url,
                dir,
                backend,
                guard: Mutex::new(guard),
            })
        }
        _ => {
            let bins = mariadb_bins().map_err(|m| TestingError::LocalServer {
                backend,
                message: format!("{m} (install Debian's mariadb-server)"),
            })?;
            let dir = make_dir(backend, "my", "mysql", root)?;
            let data = dir.join("data");
            let user: &[&str] = if root { &["--user=mysql"] } else { &[] };
            run(
                backend,
                "mariadb-install-db",
                Command::new(&bins.install_db)
                    .arg("--no-defaults")
                    .args(user)
                    .arg(format!("--datadir={}", data.display()))
                    .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
                    .current_dir(&dir),
            )?;
            let mut server = vec![bins.server.display().to_string(), "--no-defaults".into()];
            server.extend(user.iter().map(|s| (*s).to_owned()));
            server.extend([
                format!("--datadir={}", data.display()),
                format!("--socket={}", dir.join("sock").display()),
                format!("--pid-file={}", dir.join("pid").display()),
                format!("--port={port}"),
                "--bind-address=127.0.0.1".into(),
                "--skip-log-bin".into(),
                "--skip-name-resolve".into(),
                "--max-connections=500".into(),
                "--innodb-flush-log-at-trx-commit=0".into(),
                "--character-set-server=utf8mb4".into(),
                "--collation-server=utf8mb4_general_ci".into(),
            ]);
            let guard = spawn_guarded(&dir, &server, &dir.join("server.log")).map_err(|e| {
                TestingError::LocalServer {
                    backend,
                    message: format!("cannot start mariadbd: {e}"),
                }
            })?;
            Ok(LocalServer {
                admin_url: format!("mysql://test:test@127.0.0.1:{port}/mysql"),
                bootstrap_url: format!(
                    "mysql://root@localhost/mysql?socket={}",
                    dir.join("sock").display()
                ),
                dir,
                backend,
                guard: Mutex::new(guard),
            })
        }
    }
}

impl LocalServer {
    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(self.dir.join("server.log")) {
            let _ = f.read_to_string(&mut text);
        }
        tail(&text)
    }

    fn exited(&self) -> bool {
        let mut guard = self
            .guard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        matches!(guard.try_wait(), Ok(Some(_)))
    }

    /// Waits until the server accepts connections (up to 60 s); for
    /// MariaDB, then creates a password user for TCP connections and makes
    /// it the admin URL's user.
    pub(crate) async fn wait_ready(&self) -> Result<(), TestingError> {
        let url = &self.bootstrap_url;
        let fail = |message: String| TestingError::LocalServer {
            backend: self.backend,
            message,
        };
        let start = std::time::Instant::now();
        loop {
            match wait_for_connection(url, Duration::from_millis(100)).await {
                Ok(()) => break,
                Err(e) if self.exited() || start.elapsed() > Duration::from_secs(60) => {
                    return Err(fail(format!(
                        "the server did not come up ({e}); its log ends:\n{}",
                        self.log_tail()
                    )))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        if self.backend == Backend::Postgres {
            return Ok(());
        }
        let engine =
            crate::create_engine_with(url, crate::EngineOptions::default().autocommit(true))
                .await?;
        let mut conn = engine.connect().await?;
        for sql in [
            "CREATE USER 'test'@'127.0.0.1' IDENTIFIED BY 'test'",
            "GRANT ALL PRIVILEGES ON *.* TO 'test'@'127.0.0.1' WITH GRANT OPTION",
        ] {
            conn.execute(&dialects::text(sql)).await?;
        }
        drop(conn);
        engine.dispose().await;
        Ok(())
    }
}
