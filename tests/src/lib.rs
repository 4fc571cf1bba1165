//! Test fixtures: one connected engine per backend, each test in its own
//! clean database, on top of the testing kit ([`persistence::testing`]).
//!
//! A server is chosen once per test process, in this order (see
//! [`persistence::testing::ServerSource::Auto`]): `TEST_POSTGRES_URL` /
//! `TEST_MYSQL_URL` when set; testcontainers when a Docker engine answers
//! and the image (`TEST_POSTGRES_IMAGE` / `TEST_MYSQL_IMAGE`, built by
//! `scripts/docker-images.sh`) is present; otherwise a throwaway server
//! from the machine's binaries. `TEST_DATABASE_SOURCE=url|container|local`
//! forces one. When none can be had the test fails, saying what was tried.
//! SQLite is embedded and always there.
//!
//! Write a test once as `async fn name(db: TestDb)` and generate one test
//! per backend with [`on_all_backends!`]: the names are `name::sqlite`,
//! `name::postgres`, `name::mysql`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use persistence::testing::TestDatabase;
use persistence::{Backend, Engine, EngineOptions};

pub mod capture;

pub use persistence::testing::with_database;

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
    /// The engine's name for this backend.
    pub fn backend(self) -> Backend {
        match self {
            TestBackend::Sqlite => Backend::Sqlite,
            TestBackend::Postgres => Backend::Postgres,
            TestBackend::MySql => Backend::MySql,
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
    database: TestDatabase,
}

impl TestDb {
    /// A fresh database on `backend` for the test `test`.
    pub async fn new(backend: TestBackend, test: &str) -> TestDb {
        Self::with_options(backend, test, EngineOptions::default()).await
    }

    /// A fresh database with engine options.
    pub async fn with_options(backend: TestBackend, test: &str, options: EngineOptions) -> TestDb {
        let database = TestDatabase::builder(backend.backend(), test)
            .engine_options(options)
            .create()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{e}\n(set TEST_POSTGRES_URL / TEST_MYSQL_URL to a server whose user may \
                     create databases, run `scripts/test.sh`, which starts throwaway servers, or \
                     start a Docker engine with images from `scripts/docker-images.sh`)"
                )
            });
        TestDb {
            engine: database.engine().clone(),
            backend,
            url: database.url().to_owned(),
            database,
        }
    }

    /// This test's database made again, on an engine with `options` (echo
    /// on, a pool size): the one `new` made is dropped first.
    pub async fn reopen(self, test: &str, options: EngineOptions) -> TestDb {
        let backend = self.backend;
        self.close().await;
        TestDb::with_options(backend, test, options).await
    }

    /// Drops and creates the tables of `metadata`, committed.
    pub async fn create_tables(&self, metadata: &persistence::dialects::MetaData) {
        use persistence::SchemaExt;
        let mut conn = self.engine.connect().await.expect("connect");
        metadata.drop_all(&mut conn).await.expect("drop the tables");
        metadata
            .create_all(&mut conn)
            .await
            .expect("create the tables");
        conn.commit().await.expect("commit the schema");
    }

    /// Where the test's database lives.
    pub fn source(&self) -> &persistence::testing::ServerKind {
        self.database.source()
    }

    /// Closes the engine and drops the test database.
    pub async fn close(self) {
        self.database.close().await.expect("drop the test database");
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

/// The README's code blocks, compiled (and, where they need no server,
/// run) as this crate's doc tests: `cargo test -p tests --doc`.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
