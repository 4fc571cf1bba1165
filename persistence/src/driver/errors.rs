//! Driver failures: what a database said, mapped to [`ErrorKind`]s, before
//! and after the statement's text is attached.

use dialects::{Compiled, Value};

use super::Driver;
use crate::engine::url::DatabaseUrl;
use crate::error::{Error, ErrorKind, IntegrityKind};

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
    pub(crate) fn into_error(self, compiled: &Compiled, redact: bool) -> Error {
        self.into_error_parts(&compiled.sql, &compiled.params, redact)
    }

    pub(crate) fn into_error_parts(self, sql: &str, params: &[Value], redact: bool) -> Error {
        match self {
            DriverError::Database {
                kind,
                code,
                message,
            } => Error::Database {
                kind,
                code,
                // Servers quote offending values in their messages.
                message: if redact {
                    crate::error::redact_message(&message, params)
                } else {
                    message
                },
                sql: sql.to_owned(),
                params: (!redact).then(|| params.to_vec()),
            },
            DriverError::Other(e) => e,
        }
    }
}

/// A failure of a transaction-control statement.
pub(super) fn statement_error(e: sqlx::Error, backend: &'static str, sql: &str) -> Error {
    let compiled = Compiled {
        sql: sql.to_owned(),
        params: Vec::new(),
    };
    map_sqlx_error(e, backend, |_| ErrorKind::Other).into_error(&compiled, false)
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
        other => DriverError::Other(Error::Driver {
            backend,
            message: other.to_string(),
        }),
    }
}

/// A failure of [`exec::run`]: the driver's, or decoding a row.
pub(crate) enum RunError {
    Sqlx(sqlx::Error),
    Decode(Error),
}

impl From<sqlx::Error> for RunError {
    fn from(e: sqlx::Error) -> Self {
        RunError::Sqlx(e)
    }
}

impl From<Error> for RunError {
    fn from(e: Error) -> Self {
        RunError::Decode(e)
    }
}

impl RunError {
    /// The driver error, classified by `D`.
    pub(crate) fn into_driver<D: Driver>(self) -> DriverError {
        match self {
            RunError::Sqlx(e) => map_sqlx_error(e, D::NAME, D::classify),
            RunError::Decode(e) => DriverError::Other(e),
        }
    }
}

/// A connect failure, naming the backend and the redacted URL.
pub(crate) fn connect_error(url: &DatabaseUrl, e: impl std::fmt::Display) -> Error {
    Error::Connect {
        backend: url.backend().name(),
        url: url.redacted(),
        message: e.to_string(),
    }
}
