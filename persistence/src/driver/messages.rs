//! Reading the constraint, table and column out of the messages of the
//! backends that report them nowhere else: MySQL / MariaDB and SQLite.
//! (PostgreSQL has fields for them; its driver reads those.)
//!
//! Messages are read, never trusted: a message that does not have the
//! expected shape yields `None`s, not an error.

use crate::error::DatabaseDetail;

#[cfg(feature = "mysql")]
/// The text between the quote that follows `marker` in `message` (one of
/// `'`, `` ` ``, `"`) and the same quote closing it.
fn quoted_after<'m>(message: &'m str, marker: &str) -> Option<&'m str> {
    let start = message.find(marker)? + marker.len();
    let rest = message.get(start..)?;
    let quote = rest
        .chars()
        .next()
        .filter(|c| matches!(c, '\'' | '`' | '"'))?;
    let rest = rest.get(1..)?;
    let end = rest.find(quote)?;
    rest.get(..end)
}

#[cfg(feature = "mysql")]
/// The names of a dotted, backquoted path after `marker`: `` `db`.`t`.`c` ``.
fn backquoted_path_after<'m>(message: &'m str, marker: &str) -> Vec<&'m str> {
    let Some(start) = message.find(marker).map(|i| i + marker.len()) else {
        return Vec::new();
    };
    let mut rest = message.get(start..).unwrap_or("");
    let mut names = Vec::new();
    while let Some(after) = rest.strip_prefix('`') {
        let Some(end) = after.find('`') else { break };
        names.push(after.get(..end).unwrap_or(""));
        rest = after.get(end + 1..).unwrap_or("");
        match rest.strip_prefix('.') {
            Some(more) => rest = more,
            None => break,
        }
    }
    names
}

/// `table.column` split, or the whole text as the second part.
fn split_qualified(name: &str) -> (Option<String>, String) {
    match name.rsplit_once('.') {
        Some((table, column)) => (Some(table.to_owned()), column.to_owned()),
        None => (None, name.to_owned()),
    }
}

/// What a MySQL or MariaDB message names, by error number.
#[cfg(feature = "mysql")]
pub(crate) fn mysql(number: u16, message: &str) -> DatabaseDetail {
    let mut d = DatabaseDetail::default();
    match number {
        // ER_DUP_ENTRY: "Duplicate entry 'x' for key 'uq'" (MySQL 8:
        // key 'table.uq'). The entry is not quoted safely; the key is last.
        1062 | 1586 => {
            if let Some(at) = message.rfind(" for key ") {
                if let Some(key) = quoted_after(message.get(at..).unwrap_or(""), " for key ") {
                    let (table, key) = split_qualified(key);
                    d.table = table;
                    d.constraint = Some(key);
                }
            }
        }
        // ER_ROW_IS_REFERENCED_2, ER_NO_REFERENCED_ROW_2: "... a foreign key
        // constraint fails (`db`.`child`, CONSTRAINT `fk` FOREIGN KEY
        // (`col`) REFERENCES `parent` (`id`))".
        1451 | 1452 => {
            let path = backquoted_path_after(message, "fails (");
            d.table = path.last().map(|t| (*t).to_owned());
            d.constraint = quoted_after(message, "CONSTRAINT ").map(str::to_owned);
            d.column = quoted_after(message, "FOREIGN KEY (").map(str::to_owned);
        }
        // ER_BAD_NULL_ERROR: "Column 'name' cannot be null".
        1048 => d.column = quoted_after(message, "Column ").map(str::to_owned),
        // ER_CHECK_CONSTRAINT_VIOLATED (MySQL): "Check constraint 'ck' is violated."
        3819 => d.constraint = quoted_after(message, "constraint ").map(str::to_owned),
        // ER_CONSTRAINT_FAILED (MariaDB): "CONSTRAINT `ck` failed for `db`.`t`".
        4025 => {
            d.constraint = quoted_after(message, "CONSTRAINT ").map(str::to_owned);
            d.table = backquoted_path_after(message, "failed for ")
                .last()
                .map(|t| (*t).to_owned());
        }
        // Data errors naming a column: "... for column 'c' at row 1", or
        // MariaDB's "... for column `db`.`t`.`c` at row 1".
        1264 | 1265 | 1366 | 1406 | 1292 => {
            let path = backquoted_path_after(message, "for column ");
            if path.is_empty() {
                d.column = quoted_after(message, "for column ").map(str::to_owned);
            } else {
                let mut names = path.iter().rev();
                d.column = names.next().map(|c| (*c).to_owned());
                d.table = names.next().map(|t| (*t).to_owned());
            }
        }
        // ER_NO_SUCH_TABLE: "Table 'db.t' doesn't exist".
        1146 => {
            d.table = quoted_after(message, "Table ").map(|t| split_qualified(t).1);
        }
        // ER_BAD_FIELD_ERROR: "Unknown column 'c' in 'field list'".
        1054 => {
            d.column = quoted_after(message, "Unknown column ").map(|c| split_qualified(c).1);
        }
        _ => {}
    }
    d
}

/// What an SQLite message names: `UNIQUE constraint failed: t.c, t.d`,
/// `NOT NULL constraint failed: t.c`, `CHECK constraint failed: ck`,
/// `no such table: t`, `no such column: c`.
#[cfg(feature = "sqlite")]
pub(crate) fn sqlite(message: &str) -> DatabaseDetail {
    let mut d = DatabaseDetail::default();
    let after = |prefix: &str| message.strip_prefix(prefix).map(str::trim);
    if let Some(columns) =
        after("UNIQUE constraint failed:").or(after("NOT NULL constraint failed:"))
    {
        if let Some(first) = columns.split(',').next() {
            let (table, column) = split_qualified(first.trim());
            d.table = table;
            d.column = Some(column);
        }
    } else if let Some(name) = after("CHECK constraint failed:") {
        d.constraint = Some(name.to_owned());
    } else if let Some(table) = after("no such table:") {
        d.table = Some(split_qualified(table).1);
    } else if let Some(column) = after("no such column:") {
        d.column = Some(split_qualified(column).1);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "mysql")]
    #[test]
    fn mysql_messages() {
        let d = mysql(1062, "Duplicate entry 'a'b-1' for key 'uq_name'");
        assert_eq!(d.constraint.as_deref(), Some("uq_name"));
        let d = mysql(1062, "Duplicate entry 'x' for key 'account.email'");
        assert_eq!(
            (d.table.as_deref(), d.constraint.as_deref()),
            (Some("account"), Some("email"))
        );
        let d = mysql(
            1452,
            "Cannot add or update a child row: a foreign key constraint fails (`db`.`post`, \
             CONSTRAINT `post_ibfk_1` FOREIGN KEY (`publisher_id`) REFERENCES `publisher` (`id`))",
        );
        assert_eq!(d.table.as_deref(), Some("post"));
        assert_eq!(d.constraint.as_deref(), Some("post_ibfk_1"));
        assert_eq!(d.column.as_deref(), Some("publisher_id"));
        let d = mysql(1048, "Column 'name' cannot be null");
        assert_eq!(d.column.as_deref(), Some("name"));
        let d = mysql(4025, "CONSTRAINT `ck_pos` failed for `db`.`item`");
        assert_eq!(
            (d.constraint.as_deref(), d.table.as_deref()),
            (Some("ck_pos"), Some("item"))
        );
        let d = mysql(3819, "Check constraint 'ck_pos' is violated.");
        assert_eq!(d.constraint.as_deref(), Some("ck_pos"));
        let d = mysql(
            1366,
            "Incorrect integer value: 'abc' for column `db`.`t`.`n` at row 1",
        );
        assert_eq!(
            (d.table.as_deref(), d.column.as_deref()),
            (Some("t"), Some("n"))
        );
        let d = mysql(1406, "Data too long for column 'code' at row 1");
        assert_eq!(d.column.as_deref(), Some("code"));
        let d = mysql(1146, "Table 'db.missing' doesn't exist");
        assert_eq!(d.table.as_deref(), Some("missing"));
        // Unexpected shapes give nothing, and never panic.
        for m in [
            "",
            "Duplicate entry",
            "fails (`",
            "CONSTRAINT `",
            "for column `a`.`",
        ] {
            for n in [1062, 1451, 4025, 1366, 1048] {
                let _ = mysql(n, m);
            }
        }
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn sqlite_messages() {
        let d = sqlite("UNIQUE constraint failed: account.email, account.tenant");
        assert_eq!(
            (d.table.as_deref(), d.column.as_deref()),
            (Some("account"), Some("email"))
        );
        let d = sqlite("NOT NULL constraint failed: worker.name");
        assert_eq!(d.column.as_deref(), Some("name"));
        let d = sqlite("CHECK constraint failed: ck_pos");
        assert_eq!(d.constraint.as_deref(), Some("ck_pos"));
        let d = sqlite("no such table: main.ghost");
        assert_eq!(d.table.as_deref(), Some("ghost"));
        let d = sqlite("FOREIGN KEY constraint failed");
        assert!(d.table.is_none() && d.column.is_none() && d.constraint.is_none());
    }
}
