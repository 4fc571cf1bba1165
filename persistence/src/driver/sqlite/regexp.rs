//! SQLite's `REGEXP` operator (`Expr::regexp_match`): `X REGEXP Y` calls
//! the function `regexp(Y, X)`, which SQLite leaves to the application.
//!
//! With the `regexp` feature the function matches with the `regex` crate,
//! the pattern compiled once per statement, NULL for a NULL operand.
//! Without it, the function is still defined, so that a `REGEXP` fails
//! with a message naming the feature rather than SQLite's
//! `no such function: regexp` (the regex crate is a large part of a build
//! that takes SQLite alone).

use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;

/// A message as an error (for REGEXP's failures).
#[derive(Debug)]
struct RegexpError(String);

impl std::fmt::Display for RegexpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RegexpError {}

fn user_error(message: String) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(Box::new(RegexpError(message)))
}

/// Defines `regexp(pattern, text)` on `conn`.
#[cfg(feature = "regexp")]
pub(super) fn register(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.create_scalar_function(
        "regexp",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            if ctx.get_raw(0) == rusqlite::types::ValueRef::Null {
                return Ok(None);
            }
            let pattern = ctx.get_or_create_aux(0, |raw| -> Result<regex::Regex, RegexpError> {
                let text = raw.as_str().map_err(|e| RegexpError(e.to_string()))?;
                regex::Regex::new(text).map_err(|e| RegexpError(e.to_string()))
            })?;
            let text = match ctx.get_raw(1) {
                rusqlite::types::ValueRef::Null => return Ok(None),
                raw => raw.as_str().map_err(|e| user_error(e.to_string()))?,
            };
            Ok(Some(pattern.is_match(text)))
        },
    )
}

/// Defines `regexp(pattern, text)` on `conn` as a function that fails,
/// saying which feature it needs.
#[cfg(not(feature = "regexp"))]
pub(super) fn register(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.create_scalar_function(
        "regexp",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |_ctx| -> Result<Option<bool>, rusqlite::Error> {
            Err(user_error(
                "REGEXP on SQLite needs the `regexp` feature of persistence".into(),
            ))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(conn: &Connection, sql: &str) -> Result<Option<bool>, rusqlite::Error> {
        conn.query_row(sql, [], |row| row.get(0))
    }

    #[cfg(feature = "regexp")]
    #[test]
    fn matches_with_the_regex_crate_and_passes_null_through() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        assert_eq!(
            matches(&conn, "SELECT 'Vera' REGEXP '^[VB][a-z]+$'").unwrap(),
            Some(true)
        );
        assert_eq!(
            matches(&conn, "SELECT 'vera' REGEXP '^[VB]'").unwrap(),
            Some(false)
        );
        assert_eq!(matches(&conn, "SELECT NULL REGEXP 'a'").unwrap(), None);
        assert_eq!(matches(&conn, "SELECT 'a' REGEXP NULL").unwrap(), None);
        let bad = matches(&conn, "SELECT 'a' REGEXP '('").unwrap_err();
        assert!(bad.to_string().contains("regex parse error"), "{bad}");
    }

    #[cfg(not(feature = "regexp"))]
    #[test]
    fn fails_naming_the_feature() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let err = matches(&conn, "SELECT 'Vera' REGEXP '^V'").unwrap_err();
        assert!(err.to_string().contains("`regexp` feature"), "{err}");
    }
}
