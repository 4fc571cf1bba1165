//! Error codes of the three backends, read into [`ErrorKind`]s: SQLSTATE
//! (PostgreSQL, MySQL), MySQL's error numbers, SQLite's result codes. Also
//! which codes mean the connection is gone and which mean that concurrent
//! work got in the way (retry the transaction).

use super::{ErrorKind, IntegrityKind};

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

/// Whether a SQLSTATE says the server ended the session: connection
/// exceptions (class `08`), administrator or crash shutdown, a server not
/// accepting connections yet, the database dropped, an idle session
/// timed out (PostgreSQL reports these with severity `FATAL`).
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn sqlstate_is_disconnect(code: &str) -> bool {
    code.starts_with("08")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "57P04" | "57P05" | "25P03"
        )
}

/// Whether a SQLSTATE says concurrent work got in the way: a serialization
/// failure, a deadlock, a lock that was not available. Running the whole
/// transaction again may succeed.
#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
pub(crate) fn sqlstate_is_conflict(code: &str) -> bool {
    matches!(code, "40001" | "40P01" | "55P03")
}

/// Whether a MySQL or MariaDB error number says the server ended the
/// session: ER_SERVER_SHUTDOWN (1053), ER_ABORTING_CONNECTION (1152),
/// ER_NEW_ABORTING_CONNECTION (1184), ER_NET_READ_ERROR and friends
/// (1158-1161), ER_CONNECTION_KILLED (1927, MariaDB), MySQL 8's
/// ER_CLIENT_INTERACTION_TIMEOUT (4031).
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
pub(crate) fn mysql_number_is_disconnect(number: u16) -> bool {
    matches!(number, 1053 | 1152 | 1184 | 1158..=1161 | 1927 | 4031)
}

/// Whether a MySQL or MariaDB error number says concurrent work got in
/// the way: a deadlock (1213) or a lock wait timeout (1205).
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
pub(crate) fn mysql_number_is_conflict(number: u16) -> bool {
    matches!(number, 1205 | 1213)
}

/// Whether an SQLite result code says another connection holds a lock
/// (`SQLITE_BUSY`, `SQLITE_LOCKED` and their extended codes).
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn sqlite_code_is_conflict(code: i32) -> bool {
    matches!(code & 0xff, 5 | 6)
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
    fn disconnects_and_conflicts() {
        for code in ["08006", "57P01", "57P02", "57P03", "25P03"] {
            assert!(sqlstate_is_disconnect(code), "{code}");
        }
        for code in ["40001", "23505", "57014", "53100"] {
            assert!(!sqlstate_is_disconnect(code), "{code}");
        }
        assert!(sqlstate_is_conflict("40001") && sqlstate_is_conflict("40P01"));
        assert!(!sqlstate_is_conflict("57P01"));
        assert!(mysql_number_is_disconnect(1927) && mysql_number_is_disconnect(1053));
        assert!(!mysql_number_is_disconnect(1213));
        assert!(mysql_number_is_conflict(1213) && mysql_number_is_conflict(1205));
        assert!(sqlite_code_is_conflict(5) && sqlite_code_is_conflict(517));
        assert!(sqlite_code_is_conflict(6) && !sqlite_code_is_conflict(19));
    }
}
