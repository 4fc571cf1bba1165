//! Drivers: the only modules that import sqlx. Each binds [`Value`]s as
//! arguments, decodes rows into [`Row`]s and maps its backend's errors to
//! [`ErrorKind`]s; the engine above sees none of sqlx.
//!
//! [`Value`]: dialects::Value
//! [`Row`]: crate::Row
//! [`ErrorKind`]: crate::ErrorKind

mod exec;
#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use dialects::{Compiled, Dialect, StatementKind, Value};

use crate::engine::result::QueryResult;
use crate::engine::url::{Backend, DatabaseUrl};
use crate::error::{Error, ErrorKind, IntegrityKind};

/// Pool settings handed to the driver.
#[derive(Debug, Clone)]
pub(crate) struct PoolSettings {
    pub max_connections: u32,
    pub min_connections: u32,
    pub acquire_timeout: Duration,
    pub connect_timeout: Duration,
    pub idle_timeout: Option<Duration>,
    pub max_lifetime: Option<Duration>,
}

/// A pool of one backend's connections.
#[derive(Debug, Clone)]
pub(crate) enum DriverPool {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
}

/// A checked-out connection; it goes back to its pool on drop.
#[derive(Debug)]
pub(crate) enum DriverConnection {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    #[cfg(feature = "mysql")]
    MySql(sqlx::pool::PoolConnection<sqlx::MySql>),
}

/// Opens a pool for `url` after checking that the server answers, and
/// picks the dialect (MariaDB or MySQL is told from the server version).
pub(crate) async fn connect(
    url: &DatabaseUrl,
    settings: &PoolSettings,
) -> Result<(DriverPool, Arc<dyn Dialect>), Error> {
    match url.backend() {
        #[cfg(feature = "postgres")]
        Backend::Postgres => postgres::connect(url, settings).await,
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => sqlite::connect(url, settings).await,
        #[cfg(feature = "mysql")]
        Backend::MySql => mysql::connect(url, settings).await,
        #[allow(unreachable_patterns)]
        other => Err(Error::UnsupportedScheme {
            scheme: format!("{} (feature not enabled in this build)", other.name()),
        }),
    }
}

impl DriverPool {
    /// Checks out a connection.
    pub(crate) async fn acquire(&self) -> Result<DriverConnection, Error> {
        match self {
            #[cfg(feature = "postgres")]
            DriverPool::Postgres(p) => p.acquire().await.map(DriverConnection::Postgres),
            #[cfg(feature = "sqlite")]
            DriverPool::Sqlite(p) => p.acquire().await.map(DriverConnection::Sqlite),
            #[cfg(feature = "mysql")]
            DriverPool::MySql(p) => p.acquire().await.map(DriverConnection::MySql),
        }
        .map_err(|e| pool_error(e, self.backend_name()))
    }

    /// Closes every connection.
    pub(crate) async fn close(&self) {
        match self {
            #[cfg(feature = "postgres")]
            DriverPool::Postgres(p) => p.close().await,
            #[cfg(feature = "sqlite")]
            DriverPool::Sqlite(p) => p.close().await,
            #[cfg(feature = "mysql")]
            DriverPool::MySql(p) => p.close().await,
        }
    }

    fn backend_name(&self) -> &'static str {
        match self {
            #[cfg(feature = "postgres")]
            DriverPool::Postgres(_) => Backend::Postgres.name(),
            #[cfg(feature = "sqlite")]
            DriverPool::Sqlite(_) => Backend::Sqlite.name(),
            #[cfg(feature = "mysql")]
            DriverPool::MySql(_) => Backend::MySql.name(),
        }
    }
}

impl DriverConnection {
    /// Runs a compiled statement.
    pub(crate) async fn execute(
        &mut self,
        compiled: &Compiled,
        kind: StatementKind,
        redact: bool,
    ) -> Result<QueryResult, Error> {
        let result = match self {
            #[cfg(feature = "postgres")]
            DriverConnection::Postgres(c) => postgres::execute(c, compiled, kind).await,
            #[cfg(feature = "sqlite")]
            DriverConnection::Sqlite(c) => sqlite::execute(c, compiled, kind).await,
            #[cfg(feature = "mysql")]
            DriverConnection::MySql(c) => mysql::execute(c, compiled, kind).await,
        };
        result.map_err(|e| e.into_error(compiled, redact))
    }
}

/// A driver failure, before the statement's text is attached.
pub(crate) enum DriverError {
    /// The database rejected the statement.
    Database {
        kind: ErrorKind,
        code: Option<String>,
        message: String,
    },
    /// Anything else, already an engine error.
    Other(Error),
}

impl DriverError {
    fn into_error(self, compiled: &Compiled, redact: bool) -> Error {
        match self {
            DriverError::Database {
                kind,
                code,
                message,
            } => Error::Database {
                kind,
                code,
                message,
                sql: compiled.sql.clone(),
                params: (!redact).then(|| compiled.params.clone()),
            },
            DriverError::Other(e) => e,
        }
    }
}

/// Maps a sqlx error of any backend; `classify` reads backend codes.
pub(crate) fn map_sqlx_error(
    e: sqlx::Error,
    backend: &'static str,
    classify: fn(&dyn sqlx::error::DatabaseError) -> ErrorKind,
) -> DriverError {
    match e {
        sqlx::Error::Database(db) => {
            let kind = match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    ErrorKind::Integrity(IntegrityKind::Unique)
                }
                sqlx::error::ErrorKind::ForeignKeyViolation => {
                    ErrorKind::Integrity(IntegrityKind::ForeignKey)
                }
                sqlx::error::ErrorKind::NotNullViolation => {
                    ErrorKind::Integrity(IntegrityKind::NotNull)
                }
                sqlx::error::ErrorKind::CheckViolation => {
                    ErrorKind::Integrity(IntegrityKind::Check)
                }
                _ => classify(db.as_ref()),
            };
            DriverError::Database {
                kind,
                code: db.code().map(|c| c.into_owned()),
                message: db.message().to_owned(),
            }
        }
        sqlx::Error::ColumnDecode { index, source } => DriverError::Other(Error::Decode {
            column: index,
            message: source.to_string(),
        }),
        sqlx::Error::Decode(source) => DriverError::Other(Error::Decode {
            column: "?".into(),
            message: source.to_string(),
        }),
        sqlx::Error::Encode(source) => DriverError::Database {
            kind: ErrorKind::Data,
            code: None,
            message: source.to_string(),
        },
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => DriverError::Database {
            kind: ErrorKind::Operational,
            code: None,
            message: e.to_string(),
        },
        other => DriverError::Other(pool_error(other, backend)),
    }
}

/// Maps errors that happen outside a statement (checkout, connect).
pub(crate) fn pool_error(e: sqlx::Error, backend: &'static str) -> Error {
    match e {
        sqlx::Error::PoolTimedOut => Error::PoolTimeout,
        other => Error::Driver {
            backend,
            message: other.to_string(),
        },
    }
}

/// The labels of a row's columns, shared by every row of a result.
pub(crate) fn labels<R: sqlx::Row>(row: &R) -> Arc<[Arc<str>]> {
    use sqlx::Column;
    row.columns().iter().map(|c| Arc::from(c.name())).collect()
}

/// Decodes a column with `sqlx`, mapping the failure to [`Error::Decode`].
pub(crate) fn decode_err(column: &str, e: impl std::fmt::Display) -> Error {
    Error::Decode {
        column: column.to_owned(),
        message: e.to_string(),
    }
}

/// Shorthand used by the drivers to turn rows into a result.
pub(crate) fn into_result<R: sqlx::Row>(
    rows: Vec<R>,
    affected: u64,
    decode: impl Fn(&R) -> Result<Vec<Value>, Error>,
) -> Result<QueryResult, DriverError> {
    let columns: Arc<[Arc<str>]> = rows
        .first()
        .map(labels)
        .unwrap_or_else(|| Arc::from(Vec::new()));
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let values = decode(row).map_err(DriverError::Other)?;
        out.push(crate::engine::row::Row::new(columns.clone(), values));
    }
    Ok(QueryResult {
        columns,
        rows: out,
        rows_affected: affected,
    })
}

/// A connect failure, naming the backend and the redacted URL.
pub(crate) fn connect_error(url: &DatabaseUrl, e: impl std::fmt::Display) -> Error {
    Error::Connect {
        backend: url.backend().name(),
        url: url.redacted(),
        message: e.to_string(),
    }
}
