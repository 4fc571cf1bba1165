//! SQLite's failures as driver errors: the extended result code
//! classified ([`kind_from_sqlite_code`]), what the message names, and
//! `SQLITE_BUSY` / `SQLITE_LOCKED` as conflicts.
//!
//! [`kind_from_sqlite_code`]: crate::error::kind_from_sqlite_code

use crate::driver::messages;
use crate::driver::DriverError;
use crate::error::{DatabaseDetail, Error, ErrorKind, IntegrityKind};

/// The backend's name, in messages.
pub(crate) const NAME: &str = "SQLite";

/// A failure SQLite reported with `extended` (its extended result code) and
/// `message`; `source` is kept as the error's cause.
fn database(extended: i32, message: String, source: rusqlite::Error) -> DriverError {
    // ON DELETE RESTRICT fails as a trigger constraint (1811) whose
    // message names the foreign key.
    let kind = if message.contains("FOREIGN KEY constraint failed") {
        ErrorKind::Integrity(IntegrityKind::ForeignKey)
    } else {
        crate::error::kind_from_sqlite_code(extended)
    };
    let mut detail = Box::new(messages::sqlite(&message));
    detail.backend = NAME;
    detail.conflict = crate::error::sqlite_code_is_conflict(extended);
    detail.source = Some(Box::new(source));
    // A conflict is something to retry.
    let kind = if detail.conflict {
        ErrorKind::Operational
    } else {
        kind
    };
    DriverError::Database {
        kind,
        code: Some(extended.to_string()),
        message,
        detail,
    }
}

/// Maps a rusqlite error.
pub(crate) fn map(e: rusqlite::Error) -> DriverError {
    match e {
        rusqlite::Error::SqliteFailure(code, ref message) => {
            let message = message.clone().unwrap_or_else(|| code.to_string());
            database(code.extended_code, message, e)
        }
        rusqlite::Error::SqlInputError {
            error: code,
            ref msg,
            ..
        } => {
            let message = msg.clone();
            database(code.extended_code, message, e)
        }
        rusqlite::Error::ToSqlConversionFailure(source) => {
            DriverError::data(NAME, source.to_string())
        }
        rusqlite::Error::InvalidParameterCount(got, expected) => DriverError::Database {
            kind: ErrorKind::Programming,
            code: None,
            message: format!("the statement takes {expected} parameters, {got} were given"),
            detail: Box::new(DatabaseDetail {
                backend: NAME,
                ..DatabaseDetail::default()
            }),
        },
        rusqlite::Error::Utf8Error(source) => DriverError::Other(Error::Decode {
            column: "?".into(),
            message: source.to_string(),
        }),
        other => DriverError::Other(Error::Driver {
            backend: NAME,
            message: other.to_string(),
        }),
    }
}

/// The error of a connection whose thread is gone: the operation's
/// outcome is unknown, and the connection is discarded.
pub(crate) fn worker_gone() -> DriverError {
    DriverError::Database {
        kind: ErrorKind::Operational,
        code: None,
        message: "the connection's SQLite thread is gone".into(),
        detail: Box::new(DatabaseDetail {
            backend: NAME,
            connection_invalidated: true,
            ..DatabaseDetail::default()
        }),
    }
}

/// A request the connection refuses before SQLite sees it.
pub(crate) fn programming(message: String) -> DriverError {
    DriverError::Database {
        kind: ErrorKind::Programming,
        code: None,
        message,
        detail: Box::new(DatabaseDetail {
            backend: NAME,
            ..DatabaseDetail::default()
        }),
    }
}

/// Whether `e` is `SQLITE_BUSY` (or one of its extended codes): a lock
/// another connection holds, which a statement run again later may get.
pub(crate) fn is_busy(e: &DriverError) -> bool {
    match e {
        DriverError::Database {
            code: Some(code), ..
        } => code
            .parse::<i32>()
            .is_ok_and(|code| code & 0xff == rusqlite::ffi::SQLITE_BUSY),
        _ => false,
    }
}
