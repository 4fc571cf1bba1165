//! [`TestDatabase`]: a database of its own for one test, on a server the
//! kit finds or starts ([`ServerSource`]).
//!
//! Each test gets a fresh, empty database (or, on PostgreSQL with
//! [`Isolation::Schema`], a schema) named after the test, the process and a
//! counter, so tests run in parallel without seeing each other's rows;
//! [`TestDatabase::close`] drops it. SQLite gets a new in-memory database.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::engine::engine::{create_engine_with, Engine, EngineOptions};
use crate::engine::url::{redact, Backend};

use super::server::{self, ServerKind, ServerSource};
use super::{ContainerImage, TestingError};

/// How a test is kept apart from the others on a shared server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Isolation {
    /// `CREATE DATABASE` per test (every backend; on MySQL a schema is a
    /// database).
    #[default]
    Database,
    /// PostgreSQL: `CREATE SCHEMA` per test in the server's database, made
    /// the connections' `search_path`; cheaper than a database. Other
    /// backends use a database.
    Schema,
}

/// Builds a [`TestDatabase`]: `TestDatabase::builder(Backend::Postgres, "test_name")`.
#[derive(Debug, Clone)]
pub struct TestDatabaseBuilder {
    backend: Backend,
    test: String,
    source: ServerSource,
    isolation: Isolation,
    options: EngineOptions,
}

impl TestDatabaseBuilder {
    /// Where the server comes from (default [`ServerSource::Auto`]).
    pub fn source(mut self, source: ServerSource) -> Self {
        self.source = source;
        self
    }

    /// A running server: `url`'s user must be allowed to create databases.
    pub fn url(self, url: impl Into<String>) -> Self {
        self.source(ServerSource::Url(url.into()))
    }

    /// A testcontainers container of `image`.
    pub fn container(self, image: ContainerImage) -> Self {
        self.source(ServerSource::Container(image))
    }

    /// A throwaway server from the machine's binaries.
    pub fn local(self) -> Self {
        self.source(ServerSource::Local)
    }

    /// How the test is isolated (default [`Isolation::Database`]).
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = isolation;
        self
    }

    /// The options of the test's engine.
    pub fn engine_options(mut self, options: EngineOptions) -> Self {
        self.options = options;
        self
    }

    /// Finds or starts the server (once per process), creates the test's
    /// database or schema and connects an engine to it.
    pub async fn create(self) -> Result<TestDatabase, TestingError> {
        if self.backend == Backend::Sqlite {
            let url = "sqlite::memory:".to_owned();
            let engine = create_engine_with(&url, self.options).await?;
            return Ok(TestDatabase {
                engine,
                url,
                backend: self.backend,
                kind: ServerKind::Embedded,
                cleanup: None,
            });
        }
        let server = server::server(self.backend, &self.source).await?;
        let name = database_name(self.backend, &self.test);
        let isolation = match (self.backend, self.isolation) {
            (Backend::Postgres, Isolation::Schema) => Isolation::Schema,
            _ => Isolation::Database,
        };
        // DDL on the server (CREATE DATABASE) runs outside a transaction.
        let admin =
            create_engine_with(&server.admin_url, EngineOptions::default().autocommit(true))
                .await?;
        let result = async {
            let mut conn = admin.connect().await?;
            let (drop_sql, create_sql) = match isolation {
                Isolation::Schema => (
                    format!("DROP SCHEMA IF EXISTS {name} CASCADE"),
                    format!("CREATE SCHEMA {name}"),
                ),
                _ => (
                    format!("DROP DATABASE IF EXISTS {name}"),
                    format!("CREATE DATABASE {name}"),
                ),
            };
            conn.execute(&dialects::text(&drop_sql)).await?;
            conn.execute(&dialects::text(&create_sql)).await?;
            Ok::<_, crate::Error>(())
        }
        .await;
        admin.dispose().await;
        result?;
        let url = match isolation {
            Isolation::Schema => with_query(
                &server.admin_url,
                &format!("options=-c%20search_path%3D{name}"),
            ),
            _ => with_database(&server.admin_url, &name),
        };
        let engine = create_engine_with(&url, self.options).await?;
        Ok(TestDatabase {
            engine,
            url,
            backend: self.backend,
            kind: server.kind,
            cleanup: Some(Cleanup {
                admin_url: server.admin_url,
                name,
                isolation,
            }),
        })
    }
}

#[derive(Debug)]
struct Cleanup {
    admin_url: String,
    name: String,
    isolation: Isolation,
}

/// A database of its own for one test, and an engine on it.
///
/// ```
/// use persistence::prelude::*;
/// use persistence::testing::{ServerKind, TestDatabase};
/// use persistence::Backend;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), persistence::testing::TestingError> {
/// let db = TestDatabase::new(Backend::Sqlite, "a_test").await?;
/// assert_eq!(db.source(), &ServerKind::Embedded);
/// let mut conn = db.engine().connect().await?;
/// conn.execute(&text("CREATE TABLE t (x INTEGER)")).await?;
/// drop(conn);
/// db.close().await?;
/// # Ok(()) }
/// ```
///
/// For PostgreSQL or MariaDB the server comes from [`ServerSource::Auto`]
/// unless the builder says otherwise:
///
/// ```no_run
/// # use persistence::testing::{ContainerImage, Isolation, TestDatabase};
/// # use persistence::Backend;
/// # async fn demo() -> Result<(), persistence::testing::TestingError> {
/// let db = TestDatabase::builder(Backend::Postgres, "hire")
///     .container(ContainerImage::new("postgres", "17"))
///     .isolation(Isolation::Schema)
///     .create()
///     .await?;
/// # db.close().await?; Ok(()) }
/// ```
#[derive(Debug)]
pub struct TestDatabase {
    engine: Engine,
    url: String,
    backend: Backend,
    kind: ServerKind,
    cleanup: Option<Cleanup>,
}

impl TestDatabase {
    /// A fresh database on `backend` for the test named `test`, on the
    /// server [`ServerSource::Auto`] finds.
    pub async fn new(backend: Backend, test: &str) -> Result<TestDatabase, TestingError> {
        Self::builder(backend, test).create().await
    }

    /// A builder for a test database on `backend` for the test named `test`.
    pub fn builder(backend: Backend, test: &str) -> TestDatabaseBuilder {
        TestDatabaseBuilder {
            backend,
            test: test.to_owned(),
            source: ServerSource::Auto,
            isolation: Isolation::Database,
            options: EngineOptions::default(),
        }
    }

    /// The engine on the test's database.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The URL of the test's database, password included (for more engines
    /// on it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// [`TestDatabase::url`] with the password hidden, for messages.
    pub fn url_redacted(&self) -> String {
        redact(&self.url)
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// What kind of server the database is on.
    pub fn source(&self) -> &ServerKind {
        &self.kind
    }

    /// The test database's (or schema's) name; `None` for SQLite.
    pub fn name(&self) -> Option<&str> {
        self.cleanup.as_ref().map(|c| c.name.as_str())
    }

    /// Closes the engine and drops the test's database or schema. A test
    /// database not closed stays on the server until a later run of the
    /// same test name in a process of the same id replaces it.
    pub async fn close(self) -> Result<(), TestingError> {
        self.engine.dispose().await;
        let Some(cleanup) = self.cleanup else {
            return Ok(());
        };
        let admin = create_engine_with(
            &cleanup.admin_url,
            EngineOptions::default().autocommit(true),
        )
        .await?;
        let result = async {
            let mut conn = admin.connect().await?;
            let sql = match (cleanup.isolation, self.backend) {
                (Isolation::Schema, _) => format!("DROP SCHEMA IF EXISTS {} CASCADE", cleanup.name),
                (_, Backend::Postgres) => {
                    format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", cleanup.name)
                }
                _ => format!("DROP DATABASE IF EXISTS {}", cleanup.name),
            };
            conn.execute(&dialects::text(&sql)).await.map(|_| ())
        }
        .await;
        admin.dispose().await;
        Ok(result?)
    }
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A database name from the test's name: `t_<backend>_<test>_<pid>_<n>`,
/// lowercase letters, digits and underscores only.
fn database_name(backend: Backend, test: &str) -> String {
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
    name.truncate(32);
    let tag = match backend {
        Backend::Postgres => "pg",
        Backend::MySql => "my",
        _ => "db",
    };
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    format!("t_{tag}_{name}_{}_{n}", std::process::id())
}

/// `url` with its database (the path) replaced by `db`.
///
/// ```
/// use persistence::testing::with_database;
/// assert_eq!(with_database("postgres://u:p@h:1/postgres?sslmode=disable", "t1"),
///            "postgres://u:p@h:1/t1?sslmode=disable");
/// assert_eq!(with_database("mysql://u@h", "t1"), "mysql://u@h/t1");
/// ```
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

/// `url` with `param` (`key=value`, encoded) added to its query.
fn with_query(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_plain_identifiers() {
        let name = database_name(Backend::Postgres, "orm_session::Get-One");
        assert!(name.starts_with("t_pg_orm_session__get_one_"), "{name}");
        assert!(name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        assert_ne!(
            name,
            database_name(Backend::Postgres, "orm_session::Get-One")
        );
    }

    #[test]
    fn urls() {
        assert_eq!(
            with_query("postgres://u@h/db", "options=-c%20search_path%3Ds"),
            "postgres://u@h/db?options=-c%20search_path%3Ds"
        );
        assert_eq!(
            with_query("postgres://u@h/db?a=1", "b=2"),
            "postgres://u@h/db?a=1&b=2"
        );
        assert_eq!(
            with_database("postgres://u@h:5/x", "y"),
            "postgres://u@h:5/y"
        );
    }
}
