//! The one error type of the engine, with kinds following the DBAPI families.

use dialects::{CompileError, Value};

/// Which integrity constraint was violated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IntegrityKind {
    /// A unique or primary key constraint.
    Unique,
    /// A foreign key constraint.
    ForeignKey,
    /// A `NOT NULL` constraint.
    NotNull,
    /// A `CHECK` constraint.
    Check,
    /// Another integrity constraint.
    Other,
}

/// The family a database error belongs to (as Python's DBAPI names them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A constraint was violated; nothing was written.
    Integrity(IntegrityKind),
    /// A value did not fit (out of range, bad format, division by zero).
    Data,
    /// The connection or server failed (unreachable, shut down, out of resources).
    Operational,
    /// The SQL is wrong (syntax, unknown table or column, wrong types).
    Programming,
    /// Any other database error.
    Other,
}

/// An error from the engine, a driver, or the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL's scheme names no backend this build supports.
    #[error("unsupported database URL scheme `{scheme}` (expected postgres://, postgresql://, sqlite:, mysql:// or mariadb://)")]
    UnsupportedScheme {
        /// The scheme found.
        scheme: String,
    },
    /// The URL could not be parsed.
    #[error("invalid database URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL, password removed.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to {backend} at `{url}`: {message}")]
    Connect {
        /// The backend's name.
        backend: &'static str,
        /// The URL, password removed.
        url: String,
        /// The driver's message.
        message: String,
    },
    /// No connection became free within the acquire timeout.
    #[error("timed out waiting for a connection from the pool")]
    PoolTimeout,
    /// The statement could not be compiled for this backend.
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// The database rejected the statement.
    #[error(
        "{kind:?} error from the database: {message} [SQL: {sql}]{}",
        fmt_params(params)
    )]
    Database {
        /// The family of the error.
        kind: ErrorKind,
        /// The backend's error code (SQLSTATE, or SQLite's extended code).
        code: Option<String>,
        /// The backend's message.
        message: String,
        /// The SQL that failed.
        sql: String,
        /// Its parameters (`None` when the engine redacts them).
        params: Option<Vec<Value>>,
    },
    /// A value read from a row could not be decoded or converted.
    #[error("cannot decode column `{column}`: {message}")]
    Decode {
        /// The column's label or index.
        column: String,
        /// What went wrong.
        message: String,
    },
    /// A label or index that the row does not have.
    #[error("row has no column `{0}`")]
    ColumnNotFound(String),
    /// `one()` found no row.
    #[error("no row was found when one was required")]
    NoResultFound,
    /// `one()` or `one_or_none()` found more than one row.
    #[error("multiple rows were found when one or none was required")]
    MultipleResultsFound,
    /// A driver error outside any statement.
    #[error("{backend} driver error: {message}")]
    Driver {
        /// The backend's name.
        backend: &'static str,
        /// The driver's message.
        message: String,
    },
}

fn fmt_params(params: &Option<Vec<Value>>) -> String {
    match params {
        Some(p) if !p.is_empty() => format!(" [parameters: {p:?}]"),
        Some(_) => String::new(),
        None => " [parameters redacted]".to_owned(),
    }
}

impl Error {
    /// The error family, for database errors.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            Error::Database { kind, .. } => Some(*kind),
            Error::Connect { .. } | Error::PoolTimeout => Some(ErrorKind::Operational),
            _ => None,
        }
    }

    /// Whether this is a constraint violation.
    pub fn is_integrity(&self) -> bool {
        matches!(self.kind(), Some(ErrorKind::Integrity(_)))
    }

    /// Whether retrying later may succeed (connection trouble, timeouts).
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind(), Some(ErrorKind::Operational))
    }
}

/// Classifies a SQLSTATE code (PostgreSQL and MySQL both report one).
pub(crate) fn kind_from_sqlstate(code: &str) -> ErrorKind {
    match code {
        "23505" => ErrorKind::Integrity(IntegrityKind::Unique),
        "23503" => ErrorKind::Integrity(IntegrityKind::ForeignKey),
        "23502" => ErrorKind::Integrity(IntegrityKind::NotNull),
        "23514" => ErrorKind::Integrity(IntegrityKind::Check),
        c if c.starts_with("23") => ErrorKind::Integrity(IntegrityKind::Other),
        c if c.starts_with("22") => ErrorKind::Data,
        c if c.starts_with("42") => ErrorKind::Programming,
        c if c.starts_with("08")
            || c.starts_with("53")
            || c.starts_with("57")
            || c.starts_with("58") =>
        {
            ErrorKind::Operational
        }
        _ => ErrorKind::Other,
    }
}
