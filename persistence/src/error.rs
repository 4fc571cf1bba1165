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
    /// The engine was disposed; no more connections are handed out.
    #[error("the engine's pool is closed")]
    PoolClosed,
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
#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
pub(crate) fn kind_from_sqlstate(code: &str) -> ErrorKind {
    match code {
        "23505" => ErrorKind::Integrity(IntegrityKind::Unique),
        "23503" => ErrorKind::Integrity(IntegrityKind::ForeignKey),
        "23502" => ErrorKind::Integrity(IntegrityKind::NotNull),
        "23514" => ErrorKind::Integrity(IntegrityKind::Check),
        c if c.starts_with("23") => ErrorKind::Integrity(IntegrityKind::Other),
        c if c.starts_with("22") => ErrorKind::Data,
        c if c.starts_with("42") => ErrorKind::Programming,
        // Serialization failures and deadlocks: retrying may succeed.
        // ... and lock-not-available (FOR UPDATE NOWAIT).
        "40001" | "40P01" | "55P03" => ErrorKind::Operational,
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

/// Classifies a MySQL or MariaDB error by its error number, for the errors
/// whose SQLSTATE does not name their family: `HY000` ("general error"),
/// `01000` (a warning that strict mode raised to an error), `40001`,
/// `70100` and `21S01`. `None` means "ask [`kind_from_sqlstate`]".
///
/// Constraint violations (1062, 1451, 1452, 1048, 3819, MariaDB's 4025, ...)
/// are left to sqlx's own `ErrorKind`, which the drivers read first.
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
pub(crate) fn kind_from_mysql_number(number: u16) -> Option<ErrorKind> {
    Some(match number {
        // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD ("Incorrect integer value: 'abc'
        // for column"): HY000 on MySQL, 22007 on MariaDB.
        1366
        // WARN_DATA_TRUNCATED ("Data truncated for column"), 01000 in strict mode.
        | 1265
        // ER_TRUNCATED_WRONG_VALUE, ER_ILLEGAL_VALUE_FOR_TYPE (22007).
        | 1292 | 1367
        // ER_WARN_DATA_OUT_OF_RANGE, ER_DATA_TOO_LONG, ER_DATA_OUT_OF_RANGE.
        | 1264 | 1406 | 1690 => ErrorKind::Data,
        // ER_LOCK_WAIT_TIMEOUT (HY000), ER_LOCK_DEADLOCK (40001),
        // ER_QUERY_INTERRUPTED (70100), ER_QUERY_TIMEOUT (MySQL's
        // max_execution_time, HY000), ER_STATEMENT_TIMEOUT (MariaDB's
        // max_statement_time, 70100), ER_CONNECTION_KILLED (70100),
        // ER_OPTION_PREVENTS_STATEMENT (--read-only, HY000), ER_CON_COUNT_ERROR.
        1205 | 1213 | 1317 | 3024 | 1969 | 1927 | 1290 | 1040 => ErrorKind::Operational,
        // ER_WRONG_VALUE_COUNT_ON_ROW (21S01), ER_WRONG_VALUE_COUNT (21S01).
        // ... and ER_NON_UNIQ_ERROR (ambiguous column), 23000 on MariaDB.
        1136 | 1058 | 1052 => ErrorKind::Programming,
        _ => return None,
    })
}

/// SQLite's primary result codes that [`kind_from_sqlite_code`] reads.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
mod sqlite_codes {
    pub const ERROR: i32 = 1;
    pub const INTERNAL: i32 = 2;
    pub const PERM: i32 = 3;
    pub const ABORT: i32 = 4;
    pub const BUSY: i32 = 5;
    pub const LOCKED: i32 = 6;
    pub const NOMEM: i32 = 7;
    pub const READONLY: i32 = 8;
    pub const INTERRUPT: i32 = 9;
    pub const IOERR: i32 = 10;
    pub const CORRUPT: i32 = 11;
    pub const FULL: i32 = 13;
    pub const CANTOPEN: i32 = 14;
    pub const PROTOCOL: i32 = 15;
    pub const SCHEMA: i32 = 17;
    pub const TOOBIG: i32 = 18;
    pub const CONSTRAINT: i32 = 19;
    pub const MISMATCH: i32 = 20;
    pub const MISUSE: i32 = 21;
    pub const NOLFS: i32 = 22;
    pub const AUTH: i32 = 23;
    pub const RANGE: i32 = 25;
    pub const NOTADB: i32 = 26;
    pub const CONSTRAINT_CHECK: i32 = CONSTRAINT | (1 << 8);
    pub const CONSTRAINT_FOREIGNKEY: i32 = CONSTRAINT | (3 << 8);
    pub const CONSTRAINT_NOTNULL: i32 = CONSTRAINT | (5 << 8);
    pub const CONSTRAINT_PRIMARYKEY: i32 = CONSTRAINT | (6 << 8);
    pub const CONSTRAINT_UNIQUE: i32 = CONSTRAINT | (8 << 8);
    pub const CONSTRAINT_DATATYPE: i32 = CONSTRAINT | (12 << 8);
}

/// Classifies an SQLite result code: the extended code that sqlx reports
/// (`2067` = `SQLITE_CONSTRAINT_UNIQUE`), or a bare primary code.
///
/// `SQLITE_CONSTRAINT_DATATYPE` (a STRICT table refusing `'abc'` for an
/// `INTEGER` column) is [`ErrorKind::Data`], as the same mistake is on
/// PostgreSQL (`22P02`) and MySQL (1366); `SQLITE_RANGE` (a bind index out of
/// range) and `SQLITE_MISUSE` are [`ErrorKind::Programming`].
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn kind_from_sqlite_code(code: i32) -> ErrorKind {
    use sqlite_codes as c;
    match code {
        c::CONSTRAINT_UNIQUE | c::CONSTRAINT_PRIMARYKEY => {
            ErrorKind::Integrity(IntegrityKind::Unique)
        }
        c::CONSTRAINT_FOREIGNKEY => ErrorKind::Integrity(IntegrityKind::ForeignKey),
        c::CONSTRAINT_NOTNULL => ErrorKind::Integrity(IntegrityKind::NotNull),
        c::CONSTRAINT_CHECK => ErrorKind::Integrity(IntegrityKind::Check),
        c::CONSTRAINT_DATATYPE => ErrorKind::Data,
        _ => match code & 0xff {
            c::CONSTRAINT => ErrorKind::Integrity(IntegrityKind::Other),
            // Syntax errors, unknown tables and columns, wrong argument counts.
            c::ERROR => ErrorKind::Programming,
            c::MISUSE | c::RANGE => ErrorKind::Programming,
            c::TOOBIG | c::MISMATCH => ErrorKind::Data,
            c::PERM
            | c::ABORT
            | c::BUSY
            | c::LOCKED
            | c::NOMEM
            | c::READONLY
            | c::INTERRUPT
            | c::IOERR
            | c::CORRUPT
            | c::FULL
            | c::CANTOPEN
            | c::PROTOCOL
            | c::SCHEMA
            | c::NOLFS
            | c::AUTH
            | c::NOTADB => ErrorKind::Operational,
            c::INTERNAL => ErrorKind::Other,
            _ => ErrorKind::Other,
        },
    }
}

/// The text of a database error's message with the bound values masked,
/// for engines that redact parameters.
///
/// Servers quote offending values in their messages: MySQL and MariaDB
/// write `Duplicate entry 'alice@example.com' for key 'email'` or
/// `Incorrect integer value: 'abc' for column ...`, PostgreSQL writes
/// `invalid input syntax for type integer: "abc"`. Each `'...'` or `"..."`
/// whose text is (or, for MySQL's composite `Duplicate entry 'a-b'`,
/// contains) the text of a bound value becomes `'***'`; identifiers such as
/// the key name stay. SQLite names columns, never values, and passes through.
pub(crate) fn redact_message(message: &str, params: &[Value]) -> String {
    let needles: Vec<String> = params.iter().filter_map(value_text).collect();
    if needles.is_empty() {
        return message.to_owned();
    }
    let mut out = redact_duplicate_entry(message, &needles);
    for needle in &needles {
        for quote in ['\'', '"'] {
            let quoted = format!("{quote}{needle}{quote}");
            out = out.replace(&quoted, "'***'");
        }
    }
    out
}

/// The text a server would quote for `v` in a message, when `v` carries
/// data worth hiding (booleans and NULL do not).
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null | Value::Bool(_) => None,
        Value::String(s) if s.is_empty() => None,
        Value::Bytes(b) => std::str::from_utf8(b)
            .ok()
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        other => Some(other.to_string()),
    }
}

/// MySQL's `Duplicate entry '<values joined by ->' for key '<key>'`: the
/// entry is quoted without escaping, so it is found between the fixed
/// prefix and the last `' for key`, and masked when it contains a value.
fn redact_duplicate_entry(message: &str, needles: &[String]) -> String {
    const PREFIX: &str = "Duplicate entry '";
    const SUFFIX: &str = "' for key";
    let Some(start) = message.find(PREFIX).map(|i| i + PREFIX.len()) else {
        return message.to_owned();
    };
    let Some(end) = message[start..].rfind(SUFFIX).map(|i| start + i) else {
        return message.to_owned();
    };
    let entry = &message[start..end];
    if needles.iter().any(|n| entry.contains(n.as_str())) {
        format!("{}***{}", &message[..start], &message[end..])
    } else {
        message.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_numbers_with_vague_sqlstates_get_a_family() {
        // MySQL 8 reports "Incorrect integer value" as HY000.
        assert_eq!(kind_from_sqlstate("HY000"), ErrorKind::Other);
        assert_eq!(kind_from_mysql_number(1366), Some(ErrorKind::Data));
        // Strict mode raises the truncation warning 01000 to an error.
        assert_eq!(kind_from_sqlstate("01000"), ErrorKind::Other);
        assert_eq!(kind_from_mysql_number(1265), Some(ErrorKind::Data));
        assert_eq!(kind_from_mysql_number(1406), Some(ErrorKind::Data));
        assert_eq!(kind_from_mysql_number(1205), Some(ErrorKind::Operational));
        assert_eq!(kind_from_mysql_number(1213), Some(ErrorKind::Operational));
        assert_eq!(kind_from_mysql_number(1969), Some(ErrorKind::Operational));
        assert_eq!(kind_from_mysql_number(1136), Some(ErrorKind::Programming));
    }

    #[test]
    fn mysql_numbers_left_to_sqlstate() {
        // Syntax error (42000), unknown table (42S02), duplicate key (23000,
        // already read by sqlx): the SQLSTATE decides.
        for n in [1064, 1146, 1054, 1062, 1452, 4025] {
            assert_eq!(kind_from_mysql_number(n), None, "{n}");
        }
        assert_eq!(kind_from_sqlstate("42S02"), ErrorKind::Programming);
    }

    #[test]
    fn sqlite_extended_codes() {
        let unique = ErrorKind::Integrity(IntegrityKind::Unique);
        assert_eq!(kind_from_sqlite_code(2067), unique);
        assert_eq!(kind_from_sqlite_code(1555), unique);
        assert_eq!(
            kind_from_sqlite_code(787),
            ErrorKind::Integrity(IntegrityKind::ForeignKey)
        );
        assert_eq!(
            kind_from_sqlite_code(1299),
            ErrorKind::Integrity(IntegrityKind::NotNull)
        );
        assert_eq!(
            kind_from_sqlite_code(275),
            ErrorKind::Integrity(IntegrityKind::Check)
        );
        // SQLITE_CONSTRAINT_DATATYPE: "cannot store TEXT value in INTEGER column".
        assert_eq!(kind_from_sqlite_code(3091), ErrorKind::Data);
        // SQLITE_CONSTRAINT_TRIGGER (RAISE(ABORT, ...)) and the bare code.
        assert_eq!(
            kind_from_sqlite_code(1811),
            ErrorKind::Integrity(IntegrityKind::Other)
        );
        assert_eq!(
            kind_from_sqlite_code(19),
            ErrorKind::Integrity(IntegrityKind::Other)
        );
    }

    #[test]
    fn sqlite_primary_codes() {
        assert_eq!(kind_from_sqlite_code(1), ErrorKind::Programming);
        assert_eq!(kind_from_sqlite_code(25), ErrorKind::Programming); // SQLITE_RANGE
        assert_eq!(kind_from_sqlite_code(18), ErrorKind::Data); // TOOBIG
        assert_eq!(kind_from_sqlite_code(20), ErrorKind::Data); // MISMATCH
        assert_eq!(kind_from_sqlite_code(5), ErrorKind::Operational); // BUSY
        assert_eq!(kind_from_sqlite_code(517), ErrorKind::Operational); // BUSY_SNAPSHOT
        assert_eq!(kind_from_sqlite_code(8), ErrorKind::Operational); // READONLY
        assert_eq!(kind_from_sqlite_code(9), ErrorKind::Operational); // INTERRUPT
        assert_eq!(kind_from_sqlite_code(266), ErrorKind::Operational); // IOERR_READ
        assert_eq!(kind_from_sqlite_code(26), ErrorKind::Operational); // NOTADB
        assert_eq!(kind_from_sqlite_code(2), ErrorKind::Other);
        assert_eq!(kind_from_sqlite_code(0), ErrorKind::Other);
    }

    #[test]
    fn redacts_quoted_values() {
        let params = [Value::from("alice@example.com"), Value::Int(7)];
        assert_eq!(
            redact_message(
                "Duplicate entry 'alice@example.com' for key 'email'",
                &params
            ),
            "Duplicate entry '***' for key 'email'"
        );
        assert_eq!(
            redact_message("invalid input syntax for type integer: \"7\"", &params),
            "invalid input syntax for type integer: '***'"
        );
        assert_eq!(
            redact_message(
                "Incorrect integer value: 'alice@example.com' for column `db`.`t`.`n` at row 1",
                &params
            ),
            "Incorrect integer value: '***' for column `db`.`t`.`n` at row 1"
        );
    }

    #[test]
    fn redacts_composite_and_quoted_duplicate_entries() {
        let params = [Value::from("O'Brien"), Value::Int(1)];
        assert_eq!(
            redact_message("Duplicate entry 'O'Brien-1' for key 'uq_name'", &params),
            "Duplicate entry '***' for key 'uq_name'"
        );
    }

    #[test]
    fn leaves_messages_without_values_alone() {
        let params = [Value::Int(1), Value::Bool(true), Value::Null];
        for m in [
            "Data too long for column 'code' at row 1",
            "UNIQUE constraint failed: account.email",
            "duplicate key value violates unique constraint \"account_email_key\"",
        ] {
            assert_eq!(redact_message(m, &params), m);
        }
    }
}
