//! Driver failures: what a database said, mapped to [`ErrorKind`]s and a
//! [`DatabaseDetail`], before and after the statement's text is attached.
//!
//! Every statement is classified the same way, `BEGIN`, `COMMIT`,
//! `ROLLBACK` and `SAVEPOINT` included: a serialization failure at `COMMIT`
//! is as retryable as one at an `UPDATE`, and a terminated backend is a
//! lost connection wherever it shows.

use dialects::{Compiled, Value};

#[cfg(any(feature = "postgres", feature = "mysql"))]
use super::Driver;
use crate::engine::url::DatabaseUrl;
use crate::error::{
    redact_detail, redact_message, DatabaseDetail, Error, ErrorKind, IntegrityKind,
};

/// A driver failure, before the statement's text is attached.
pub(crate) enum DriverError {
    /// The database rejected the statement, or the connection failed.
    Database {
        kind: ErrorKind,
        code: Option<String>,
        message: String,
        detail: Box<DatabaseDetail>,
    },
    /// Anything else, already an engine error.
    Other(Error),
}

impl DriverError {
    /// A value the driver could not bind, as a data error.
    pub(crate) fn data(backend: &'static str, message: String) -> Self {
        DriverError::Database {
            kind: ErrorKind::Data,
            code: None,
            message,
            detail: Box::new(DatabaseDetail {
                backend,
                ..DatabaseDetail::default()
            }),
        }
    }

    pub(crate) fn into_error(self, compiled: &Compiled, redact: bool) -> Error {
        self.into_error_parts(&compiled.sql, &compiled.params, redact)
    }

    /// The engine error, with the statement `sql` and its `params` (left
    /// out, and masked in the server's texts, when `redact`).
    pub(crate) fn into_error_parts(self, sql: &str, params: &[Value], redact: bool) -> Error {
        match self {
            DriverError::Database {
                kind,
                code,
                message,
                mut detail,
            } => {
                let message = if redact {
                    // Servers quote offending values in their messages, and
                    // the driver's error repeats the message.
                    detail.detail = detail.detail.map(|d| redact_detail(&d));
                    detail.source = None;
                    redact_message(&message, params)
                } else {
                    message
                };
                Error::Database {
                    kind,
                    code,
                    message,
                    sql: sql.to_owned(),
                    params: (!redact).then(|| params.to_vec()),
                    detail,
                }
            }
            DriverError::Other(e) => e,
        }
    }

    /// Whether the connection was lost.
    pub(crate) fn is_invalidated(&self) -> bool {
        matches!(self, DriverError::Database { detail, .. } if detail.connection_invalidated)
    }

    /// Marks the connection as lost: the operation's outcome is unknown
    /// and the connection is discarded.
    pub(crate) fn invalidated(mut self) -> Self {
        if let DriverError::Database { detail, .. } = &mut self {
            detail.connection_invalidated = true;
        }
        self
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
/// Maps a sqlx error of `D`'s backend.
pub(crate) fn map_sqlx_error<D: Driver>(e: sqlx::Error) -> DriverError {
    let backend = D::NAME;
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
                _ => D::classify(db.as_ref()),
            };
            let mut detail = Box::new(D::detail(db.as_ref()));
            detail.backend = backend;
            // A lost session or a conflict is something to retry.
            let kind = if detail.connection_invalidated || detail.conflict {
                ErrorKind::Operational
            } else {
                kind
            };
            let code = db.code().map(|c| c.into_owned());
            let message = db.message().to_owned();
            detail.source = Some(Box::new(sqlx::Error::Database(db)));
            DriverError::Database {
                kind,
                code,
                message,
                detail,
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
        sqlx::Error::Encode(source) => DriverError::data(backend, source.to_string()),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => DriverError::Database {
            kind: ErrorKind::Operational,
            code: None,
            message: e.to_string(),
            detail: Box::new(DatabaseDetail {
                backend,
                connection_invalidated: true,
                source: Some(Box::new(e)),
                ..DatabaseDetail::default()
            }),
        },
        other => DriverError::Other(Error::Driver {
            backend,
            message: other.to_string(),
        }),
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
/// A failure of [`exec::run`](super::exec::run): the driver's, or decoding a row.
pub(crate) enum RunError {
    Sqlx(sqlx::Error),
    Decode(Error),
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl From<sqlx::Error> for RunError {
    fn from(e: sqlx::Error) -> Self {
        RunError::Sqlx(e)
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl From<Error> for RunError {
    fn from(e: Error) -> Self {
        RunError::Decode(e)
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl RunError {
    /// The driver error, classified by `D`.
    pub(crate) fn into_driver<D: Driver>(self) -> DriverError {
        match self {
            RunError::Sqlx(e) => map_sqlx_error::<D>(e),
            RunError::Decode(e) => DriverError::Other(e),
        }
    }
}

/// A connect failure, naming the backend and the redacted URL; the
/// driver's message has the URL's secrets masked.
pub(crate) fn connect_error(url: &DatabaseUrl, e: impl std::fmt::Display) -> Error {
    let mut message = url.scrub(&e.to_string());
    if url.backend() == crate::engine::url::Backend::Sqlite
        && message.contains("unable to open database file")
        && url.param("mode").as_deref() != Some("rwc")
    {
        message.push_str(
            " (a database file is created only when the URL asks for it: add `?mode=rwc`)",
        );
    }
    Error::Connect {
        backend: url.backend().name(),
        url: url.redacted(),
        message,
    }
}
