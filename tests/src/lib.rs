//! Test fixtures: one connected engine per backend, each test in its own
//! clean database.
//!
//! A server is chosen in this order: `TEST_POSTGRES_URL` / `TEST_MYSQL_URL`
//! when set; testcontainers when a Docker engine answers; otherwise the
//! test fails with a message saying how to get a server (`scripts/test.sh`
//! starts throwaway ones). SQLite is embedded and always there.
//!
//! Write a test once as `async fn name(db: TestDb)` and generate one test
//! per backend with [`on_all_backends!`]: the names are `name::sqlite`,
//! `name::postgres`, `name::mysql`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU32, Ordering};

use persistence::{create_engine, create_engine_with, Engine, EngineOptions};

pub mod capture;
mod docker;

/// The backends under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    /// Embedded SQLite, in memory.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
    /// A MySQL or MariaDB server.
    MySql,
}

impl TestBackend {
    fn tag(self) -> &'static str {
        match self {
            TestBackend::Sqlite => "sqlite",
            TestBackend::Postgres => "pg",
            TestBackend::MySql => "my",
        }
    }
}

/// A connected engine on a database of its own, for one test.
pub struct TestDb {
    /// The engine on the test's database.
    pub engine: Engine,
    /// Which backend it is.
    pub backend: TestBackend,
    /// The URL of the test database (with its password), for tests that
    /// need to build more engines on it.
    pub url: String,
    cleanup: Option<(String, String)>,
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A database name from the test's name: lowercase, short, unique per process.
fn database_name(backend: TestBackend, test: &str) -> String {
    let mut name: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    name.truncate(40);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    format!("t_{}_{}_{}_{}", backend.tag(), name, std::process::id(), n)
}

/// `url` with its database (path) replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &base[..host_end], db);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The admin URL of a server for `backend`: the environment, then Docker.
async fn server_url(backend: TestBackend) -> String {
    let var = match backend {
        TestBackend::Postgres => "TEST_POSTGRES_URL",
        TestBackend::MySql => "TEST_MYSQL_URL",
        TestBackend::Sqlite => return "sqlite::memory:".to_owned(),
    };
    if let Ok(url) = std::env::var(var) {
        if !url.is_empty() {
            return url;
        }
    }
    if docker::available() {
        match docker::server_url(backend).await {
            Ok(url) => return url,
            Err(e) => panic!("{var} is not set and starting a {backend:?} container failed: {e}"),
        }
    }
    panic!(
        "no {backend:?} server for this test: set {var} to a server URL whose user may create \
         databases, start a Docker engine (testcontainers is used then), or run `scripts/test.sh`, \
         which installs and starts throwaway PostgreSQL and MariaDB servers"
    );
}

impl TestDb {
    /// A fresh database on `backend` for the test `test`.
    pub async fn new(backend: TestBackend, test: &str) -> TestDb {
        Self::with_options(backend, test, EngineOptions::default()).await
    }

    /// A fresh database with engine options.
    pub async fn with_options(backend: TestBackend, test: &str, options: EngineOptions) -> TestDb {
        if backend == TestBackend::Sqlite {
            let url = "sqlite::memory:".to_owned();
            let engine = create_engine_with(&url, options)
                .await
                .expect("open SQLite in memory");
            return TestDb {
                engine,
                backend,
                url,
                cleanup: None,
            };
        }
        let admin_url = server_url(backend).await;
        let name = database_name(backend, test);
        let admin = create_engine(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the {backend:?} test server: {e}"));
        let mut conn = admin.connect().await.expect("admin connection");
        conn.execute(&persistence::dialects::text(&format!(
            "DROP DATABASE IF EXISTS {name}"
        )))
        .await
        .expect("drop stale test database");
        conn.execute(&persistence::dialects::text(&format!(
            "CREATE DATABASE {name}"
        )))
        .await
        .expect("create test database");
        drop(conn);
        admin.dispose().await;
        let url = with_database(&admin_url, &name);
        let engine = create_engine_with(&url, options)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test database: {e}"));
        TestDb {
            engine,
            backend,
            url,
            cleanup: Some((admin_url, name)),
        }
    }

    /// Closes the engine and drops the test database.
    pub async fn close(self) {
        self.engine.dispose().await;
        if let Some((admin_url, name)) = self.cleanup {
            let admin = create_engine(&admin_url).await.expect("admin engine");
            let mut conn = admin.connect().await.expect("admin connection");
            let force = if self.backend == TestBackend::Postgres {
                " WITH (FORCE)"
            } else {
                ""
            };
            conn.execute(&persistence::dialects::text(&format!(
                "DROP DATABASE IF EXISTS {name}{force}"
            )))
            .await
            .expect("drop test database");
            drop(conn);
            admin.dispose().await;
        }
    }
}

/// Generates `mod name { sqlite, postgres, mysql }` tests that each call
/// `name(TestDb)` on their backend.
#[macro_export]
macro_rules! on_all_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::TestDb::new($crate::TestBackend::Sqlite, stringify!($name)).await).await;
            }
            #[tokio::test]
            async fn postgres() {
                super::$name($crate::TestDb::new($crate::TestBackend::Postgres, stringify!($name)).await).await;
            }
            #[tokio::test]
            async fn mysql() {
                super::$name($crate::TestDb::new($crate::TestBackend::MySql, stringify!($name)).await).await;
            }
        }
    )+};
}
