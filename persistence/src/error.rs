//! The one error type of the engine, with kinds following the DBAPI
//! families.
//!
//! Texts are bounded: a database error shows its SQL cut to
//! [`SQL_SHOWN`](redact::SQL_SHOWN) characters and its first
//! [`PARAMS_SHOWN`](redact::PARAMS_SHOWN) parameters, so the error of a
//! failed 10,000-row INSERT is a few hundred bytes; the whole SQL and every
//! parameter stay in its fields. [`Error::redacted`] is the text without
//! any bound value, for messages that leave the process (HTTP responses,
//! domain errors).

// No panic reachable from server data or user input: these lints keep
// `unwrap`, `expect`, indexing and slicing out of this module (tests aside).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented,
        clippy::string_slice
    )
)]

mod codes;
mod redact;

use std::fmt;

use dialects::{CompileError, Value};

pub(crate) use codes::*;
pub(crate) use redact::{redact_detail, redact_message, Bounded};
use redact::{ParamsPreview, MESSAGE_SHOWN, SQL_SHOWN};

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
        /// The driver's message (secrets of the URL masked).
        message: String,
    },
    /// No connection became free within the acquire timeout.
    #[error("timed out waiting for a connection from the pool")]
    PoolTimeout,
    /// The engine was disposed; no more connections are handed out.
    #[error("the engine's pool is closed")]
    PoolClosed,
    /// The statement could not be compiled for this backend.
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// The database rejected the statement.
    ///
    /// Its text shows the server's message, the SQL (cut to 1,000
    /// characters) and the first 10 parameters; `sql` and `params` hold
    /// all of them. [`DatabaseDetail`] says which constraint, table and
    /// column the server named, and whether the connection was lost.
    #[error(
        "{kind:?} error from the database: {} [SQL: {}]{}",
        Bounded(message, MESSAGE_SHOWN),
        Bounded(sql, SQL_SHOWN),
        fmt_params(params)
    )]
    Database {
        /// The family of the error.
        kind: ErrorKind,
        /// The backend's error code (SQLSTATE, or SQLite's extended code).
        code: Option<String>,
        /// The backend's message (bound values masked when the engine
        /// redacts parameters).
        message: String,
        /// The SQL that failed.
        sql: String,
        /// Its parameters (`None` when the engine redacts them).
        params: Option<Vec<Value>>,
        /// What else the server said, and the driver's own error.
        #[source]
        detail: Box<DatabaseDetail>,
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
    /// [`inspect`](crate::inspect) was asked about a table that does not
    /// exist in the current database (MySQL), schema (PostgreSQL) or main
    /// database (SQLite).
    #[error("no table named `{table}` in the current database or schema")]
    NoSuchTable {
        /// The table name asked for.
        table: String,
    },
    /// The ORM was asked about a Rust type no mapper maps.
    #[error("`{type_name}` is not mapped: map it with `Registry::map` before configuring")]
    UnmappedType {
        /// The Rust type.
        type_name: &'static str,
    },
    /// A mapping is inconsistent (found by `Registry::configure`).
    #[error("mapping of `{type_name}` is invalid at `{field}`: {message}")]
    Mapping {
        /// The mapped Rust type.
        type_name: &'static str,
        /// The field or column concerned.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A mapped field's codec could not convert a value: reading a row
    /// into a struct, or a struct into column values.
    #[error("`{type_name}.{field}` (column `{column}`): {message}{}", value_type.map(|t| format!(" (a {t} value)")).unwrap_or_default())]
    Codec {
        /// The mapped struct.
        type_name: &'static str,
        /// The field.
        field: &'static str,
        /// The column.
        column: String,
        /// The kind of value met, when one was read.
        value_type: Option<&'static str>,
        /// What went wrong.
        message: String,
    },
    /// A savepoint's `commit` after a failed flush inside it rolled it back.
    #[error("this savepoint was rolled back after a failed flush inside it; its work is gone")]
    InactiveSavepoint,
    /// A row changed or vanished underneath the session (a version column
    /// did not match, or an UPDATE/DELETE matched no row).
    #[error("stale data in `{table}`: {message}")]
    StaleData {
        /// The table.
        table: String,
        /// What was expected.
        message: String,
    },
    /// The column's type has no [`Value`] counterpart (PostgreSQL's
    /// `money`, `point`, ranges, composite types, ...): cast it in the
    /// query (`CAST(col AS TEXT)`).
    #[error("cannot decode column `{column}`: {backend} type `{type_name}` is not supported; cast it in the query, for example to text")]
    UnsupportedType {
        /// The column's label or index.
        column: String,
        /// The backend's name.
        backend: &'static str,
        /// The column's type, as the server names it.
        type_name: String,
    },
    /// The column's type has a [`Value`] counterpart only with a cargo
    /// feature this build leaves off (a `DATE` without `chrono` or `time`,
    /// a PostgreSQL array without `json`): enable it, or cast the column
    /// to text in the query.
    #[error("cannot decode column `{column}`: {backend} type `{type_name}` needs the `{feature}` feature of `persistence`; enable it, or cast the column to text in the query")]
    FeatureDisabled {
        /// The column's label or index.
        column: String,
        /// The backend's name.
        backend: &'static str,
        /// The column's type, as the server names it.
        type_name: String,
        /// The feature (or features, `chrono` or `time`) that decodes it.
        feature: &'static str,
    },
    /// A checkout would wait for a connection that the same task holds:
    /// the engine has a single connection (in-memory SQLite's static
    /// pool) and it is checked out, for example by another live session.
    #[error("{reason}")]
    ConnectionInUse {
        /// Why no connection can be handed out, and what to do instead.
        reason: String,
    },
    /// `begin()` on a connection whose transaction already began (by
    /// itself, with its first statement): commit or roll it back first,
    /// or use `begin_nested()` for a savepoint inside it.
    #[error("a transaction is already begun on this connection: call commit() or rollback() before begin(), or begin_nested() for a savepoint")]
    TransactionInProgress,
    /// A flush failed and rolled the transaction back; the session refuses
    /// work until `rollback()` is called.
    #[error("this session's transaction was rolled back after a failed flush ({cause}); call `rollback()` first")]
    PendingRollback {
        /// The error that failed the flush.
        cause: String,
    },
    /// An ORM operation was asked for something the mapping or an
    /// object's state does not allow (SQLAlchemy's `InvalidRequestError`):
    /// an unknown field in a criteria, a change to an object deleted in
    /// this session, criteria that cannot be evaluated in memory. Nothing
    /// was sent or staged.
    #[error("invalid request on `{type_name}` at `{field}`: {message}")]
    InvalidRequest {
        /// The mapped struct.
        type_name: &'static str,
        /// The field, column or relationship concerned.
        field: String,
        /// What is wrong.
        message: String,
    },
}

fn fmt_params(params: &Option<Vec<Value>>) -> String {
    match params {
        Some(p) if !p.is_empty() => format!(" [parameters: {}]", ParamsPreview(p)),
        Some(_) => String::new(),
        None => " [parameters redacted]".to_owned(),
    }
}

/// What a database error says beyond its message and code: the constraint,
/// table and column it concerns where the backend reports them
/// (PostgreSQL in fields of its own; MySQL, MariaDB and SQLite in their
/// messages, read from there), PostgreSQL's DETAIL and HINT, whether the
/// connection was lost, and the driver's own error as its source.
///
/// Its text (the next link of the error's source chain) names the
/// backend's report; the driver's error after it is kept only when the
/// engine does not redact parameters, since it quotes values.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct DatabaseDetail {
    /// The backend's name.
    pub backend: &'static str,
    /// The constraint (or MySQL key) that was violated.
    pub constraint: Option<String>,
    /// The table concerned.
    pub table: Option<String>,
    /// The column concerned.
    pub column: Option<String>,
    /// PostgreSQL's DETAIL line (values masked when the engine redacts).
    pub detail: Option<String>,
    /// PostgreSQL's HINT line.
    pub hint: Option<String>,
    /// Whether the connection was lost or left in an unknown state; it
    /// was discarded, not returned to the pool.
    pub connection_invalidated: bool,
    /// Whether concurrent work got in the way (a serialization failure,
    /// a deadlock, a lock not granted): running the transaction again may
    /// succeed.
    pub conflict: bool,
    /// The driver's error.
    pub(crate) source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl fmt::Display for DatabaseDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let backend = if self.backend.is_empty() {
            "the database"
        } else {
            self.backend
        };
        write!(f, "reported by {backend}")?;
        if let Some(c) = &self.constraint {
            write!(f, "; constraint `{c}`")?;
        }
        if let Some(t) = &self.table {
            write!(f, "; table `{t}`")?;
        }
        if let Some(c) = &self.column {
            write!(f, "; column `{c}`")?;
        }
        if let Some(d) = &self.detail {
            write!(f, "; detail: {}", Bounded(d, MESSAGE_SHOWN))?;
        }
        if let Some(h) = &self.hint {
            write!(f, "; hint: {}", Bounded(h, MESSAGE_SHOWN))?;
        }
        if self.connection_invalidated {
            f.write_str("; the connection was discarded")?;
        }
        Ok(())
    }
}

impl std::error::Error for DatabaseDetail {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
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

    /// Whether running the transaction again may succeed: connection
    /// trouble, timeouts, serialization failures, deadlocks, locks not
    /// granted (all [`ErrorKind::Operational`]), at any statement,
    /// including `BEGIN` and `COMMIT`.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind(), Some(ErrorKind::Operational))
    }

    /// Whether concurrent work got in the way: a serialization failure
    /// (SQLSTATE 40001), a deadlock (40P01, MySQL 1213), a lock not granted
    /// (55P03, MySQL's lock wait timeout 1205, SQLite's `SQLITE_BUSY` /
    /// `SQLITE_LOCKED`). Retry the whole transaction from fresh reads.
    pub fn is_conflict(&self) -> bool {
        self.database_detail().is_some_and(|d| d.conflict)
    }

    /// Whether the connection was lost (or left in an unknown state) and
    /// discarded: a server shutdown, a terminated backend, a broken pipe.
    /// Whether a `COMMIT` that failed this way took effect is unknown.
    pub fn connection_invalidated(&self) -> bool {
        self.database_detail()
            .is_some_and(|d| d.connection_invalidated)
    }

    /// The constraint, table and column of a database error, where the
    /// backend reports them.
    pub fn database_detail(&self) -> Option<&DatabaseDetail> {
        match self {
            Error::Database { detail, .. } => Some(detail),
            _ => None,
        }
    }

    /// The constraint a database error names.
    pub fn constraint(&self) -> Option<&str> {
        self.database_detail()?.constraint.as_deref()
    }

    /// The table a database error names.
    pub fn table(&self) -> Option<&str> {
        self.database_detail()?.table.as_deref()
    }

    /// The column a database error names.
    pub fn column(&self) -> Option<&str> {
        self.database_detail()?.column.as_deref()
    }

    /// The error's text without any bound value: a database error's
    /// parameters left out and the values its server message quotes
    /// masked; the SQL (which never contains values) is kept, cut to
    /// 1,000 characters. For texts that leave the process: HTTP responses,
    /// [`domain::DomainError`]s.
    ///
    /// ```
    /// # use persistence::Error;
    /// # fn show(err: &Error) {
    /// tracing::warn!(error = %err, "insert failed");          // a few values, for the log
    /// let public = err.redacted().to_string();                 // none, for the client
    /// # }
    /// ```
    pub fn redacted(&self) -> Redacted<'_> {
        Redacted(self)
    }
}

/// What a database error's text says before the server's message (see the
/// `Database` variant's format and [`Redacted`]); the web layer cuts there.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) const FROM_DATABASE: &str = " error from the database: ";

/// What a database error's text says before its statement; the web layer
/// cuts there, so a response never shows SQL.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) const SQL_MARK: &str = " [SQL: ";

/// An [`Error`]'s text without bound values ([`Error::redacted`]).
pub struct Redacted<'a>(&'a Error);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Error::Database {
                kind,
                message,
                sql,
                params,
                ..
            } => {
                let message = match params {
                    Some(p) => redact_message(message, p),
                    None => message.clone(),
                };
                write!(
                    f,
                    "{kind:?} error from the database: {} [SQL: {}]",
                    Bounded(&message, MESSAGE_SHOWN),
                    Bounded(sql, SQL_SHOWN)
                )
            }
            Error::Decode { column, .. } => write!(f, "cannot decode column `{column}`"),
            other => write!(f, "{other}"),
        }
    }
}
