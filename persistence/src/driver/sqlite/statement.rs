//! Running one SQL text on the connection's thread: prepared from the
//! statement cache, its parameters bound where they are, its rows handed
//! to a [`Sink`] as they are stepped. A text of several statements (a
//! migration script, a trigger's body) runs statement after statement,
//! its parameters consumed in order.

use std::collections::HashMap;
use std::sync::Arc;

use dialects::Value;
use rusqlite::{Connection, Statement, StatementStatus};

use super::cells::{self, Declared};
use super::failure::{self, NAME};
use crate::driver::{DriverError, Params};
use crate::error::Error;

/// What a statement's rows go to.
pub(crate) trait Sink {
    /// The columns of a statement about to step (called for each statement
    /// of the text that returns columns, before its rows).
    fn columns(&mut self, labels: Arc<[Arc<str>]>, width: usize) -> Result<(), DriverError>;
    /// One row, decoded by `kinds`; `false` stops the statement.
    fn row(&mut self, row: &rusqlite::Row<'_>, kinds: &[Declared]) -> Result<bool, DriverError>;
}

/// How a text ran: rows changed, and the last rowid inserted.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Summary {
    pub(crate) affected: u64,
    pub(crate) last_insert_id: i64,
}

/// Appends the values of `row` to `out`, column by column as `kinds` say.
#[inline]
pub(crate) fn decode_row(
    row: &rusqlite::Row<'_>,
    kinds: &[Declared],
    out: &mut Vec<Value>,
) -> Result<(), DriverError> {
    out.reserve(kinds.len());
    for (i, kind) in kinds.iter().enumerate() {
        let raw = row.get_ref(i).map_err(failure::map)?;
        let value = cells::decode(raw, *kind).map_err(|e| {
            let column = row.as_ref().column_name(i).unwrap_or("?");
            DriverError::Other(Error::Decode {
                column: column.to_owned(),
                message: e.to_string(),
            })
        })?;
        out.push(value);
    }
    Ok(())
}

/// What a prepared statement's columns are: their labels and declared
/// kinds, read from SQLite once per statement and kept while SQLite's
/// statement cache keeps the statement unchanged.
#[derive(Debug, Clone)]
struct ColumnsOf {
    /// SQLite's count of the statement's re-preparations (after a schema
    /// change) when these were read.
    reprepared: i32,
    labels: Arc<[Arc<str>]>,
    kinds: Arc<[Declared]>,
}

/// The columns of the statements of one connection's statement cache,
/// by SQL text: reading them from SQLite (a name and a declared type per
/// column, and an allocation per label) costs more than a one-row select.
/// An entry holds while the statement it was read from is the one cached:
/// a statement prepared anew has never run (SQLite's run counter is 0),
/// one re-prepared after a schema change has a higher re-prepare counter;
/// either is read again.
#[derive(Debug, Default)]
pub(crate) struct Columns {
    by_sql: HashMap<Box<str>, ColumnsOf, foldhash::fast::RandomState>,
}

/// Entries kept at most (twice the statements SQLite's cache keeps).
const COLUMNS_KEPT: usize = 2 * super::config::STATEMENT_CACHE;

impl Columns {
    /// The labels and kinds of `stmt`, whose text is `sql`.
    fn of(&mut self, sql: &str, stmt: &Statement<'_>) -> (Arc<[Arc<str>]>, Arc<[Declared]>) {
        let reprepared = stmt.get_status(StatementStatus::RePrepare);
        let ran = stmt.get_status(StatementStatus::Run) > 0;
        if ran {
            if let Some(c) = self.by_sql.get(sql).filter(|c| c.reprepared == reprepared) {
                return (c.labels.clone(), c.kinds.clone());
            }
        }
        let (labels, kinds) = read_columns(stmt);
        if self.by_sql.len() >= COLUMNS_KEPT && !self.by_sql.contains_key(sql) {
            self.by_sql.clear();
        }
        self.by_sql.insert(
            sql.into(),
            ColumnsOf {
                reprepared,
                labels: labels.clone(),
                kinds: kinds.clone(),
            },
        );
        (labels, kinds)
    }
}

/// The labels and declared kinds of `stmt`'s columns, read from SQLite.
fn read_columns(stmt: &Statement<'_>) -> (Arc<[Arc<str>]>, Arc<[Declared]>) {
    let columns = stmt.columns();
    let labels = columns.iter().map(|c| Arc::from(c.name())).collect();
    let kinds = columns
        .iter()
        .map(|c| Declared::of(c.decl_type()))
        .collect();
    (labels, kinds)
}

/// An SQL text and whether it holds more than one statement
/// ([`has_tail`], scanned once per statement).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Text<'a> {
    pub(crate) sql: &'a str,
    pub(crate) tail: bool,
}

impl<'a> Text<'a> {
    /// `sql`, scanned for a tail.
    pub(crate) fn of(sql: &'a str) -> Self {
        Text {
            sql,
            tail: has_tail(sql),
        }
    }
}

/// Runs `text` with `params`, its rows to `sink`; `columns` keeps the
/// columns of the statements cached (for a text of one statement).
pub(crate) fn run<S: Sink, P: Params + ?Sized>(
    conn: &Connection,
    columns: &mut Columns,
    text: Text<'_>,
    params: &P,
    sink: &mut S,
) -> Result<Summary, DriverError> {
    let sql = text.sql;
    if !text.tail {
        let mut stmt = conn.prepare_cached(sql).map_err(failure::map)?;
        let affected = step(conn, &mut stmt, Some((columns, sql)), params, sink)?.1;
        return Ok(Summary {
            affected,
            last_insert_id: conn.last_insert_rowid(),
        });
    }
    let params = params.to_vec();
    let mut batch = rusqlite::Batch::new(conn, sql);
    let (mut offset, mut affected) = (0, 0);
    while let Some(mut stmt) = batch.next().map_err(failure::map)? {
        let rest: &[Value] = params.get(offset..).unwrap_or(&[]);
        let (used, changed) = step(conn, &mut stmt, None, rest, sink)?;
        offset += used;
        affected += changed;
    }
    Ok(Summary {
        affected,
        last_insert_id: conn.last_insert_rowid(),
    })
}

/// Binds the first of `params` to `stmt` and steps it to its end (or until
/// `sink` stops it); how many parameters it took and how many rows it
/// changed. `cached`: the columns kept and the statement's text, for a
/// statement from the statement cache.
fn step<S: Sink, P: Params + ?Sized>(
    conn: &Connection,
    stmt: &mut Statement<'_>,
    cached: Option<(&mut Columns, &str)>,
    params: &P,
    sink: &mut S,
) -> Result<(usize, u64), DriverError> {
    let expected = stmt.parameter_count();
    if params.count() < expected {
        return Err(failure::programming(format!(
            "the statement takes {expected} parameters, {} were given",
            params.count()
        )));
    }
    for (i, v) in params.values().take(expected).enumerate() {
        let out = cells::to_sql(v).map_err(|m| DriverError::data(NAME, m))?;
        stmt.raw_bind_parameter(i + 1, out).map_err(failure::map)?;
    }
    let width = stmt.column_count();
    let kinds: Arc<[Declared]> = if width == 0 {
        Arc::from(Vec::new())
    } else {
        let (labels, kinds) = match cached {
            Some((columns, sql)) => columns.of(sql, stmt),
            None => read_columns(stmt),
        };
        sink.columns(labels, width)?;
        kinds
    };
    let before = conn.total_changes();
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next().map_err(failure::map)? {
        if !sink.row(row, &kinds)? {
            break;
        }
    }
    drop(rows);
    // `changes()` keeps the count of the last INSERT, UPDATE or DELETE:
    // only a statement that changed something reports it.
    let affected = if conn.total_changes() == before {
        0
    } else {
        conn.changes()
    };
    Ok((expected, affected))
}

/// Whether `sql` holds more than one statement: anything but blanks and
/// comments after a `;` outside quotes and comments. (A trigger's body
/// counts as more; SQLite's own parser then splits the text.)
pub(crate) fn has_tail(sql: &str) -> bool {
    let b = sql.as_bytes();
    // Most texts hold no `;`: a branch-free test per 32 bytes (which the
    // compiler vectorises) finds that faster than a search for the first.
    if !b
        .chunks(32)
        .any(|chunk| chunk.iter().fold(false, |seen, &c| seen | (c == b';')))
    {
        return false;
    }
    let find = |from: usize, what: &[u8]| -> usize {
        b.get(from..)
            .and_then(|rest| rest.windows(what.len()).position(|w| w == what))
            .map_or(b.len(), |at| from + at + what.len())
    };
    let mut i = 0;
    let mut ended = false;
    while let Some(&c) = b.get(i) {
        i = match c {
            b'-' if b.get(i + 1) == Some(&b'-') => find(i + 2, b"\n"),
            b'/' if b.get(i + 1) == Some(&b'*') => find(i + 2, b"*/"),
            b';' => {
                ended = true;
                i + 1
            }
            c if c.is_ascii_whitespace() => i + 1,
            _ if ended => return true,
            b'\'' | b'"' | b'`' => find(i + 1, &[c]),
            b'[' => find(i + 1, b"]"),
            _ => i + 1,
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::has_tail;

    #[test]
    fn tails_are_found_outside_quotes_and_comments() {
        assert!(!has_tail("SELECT 1"));
        assert!(!has_tail("SELECT 1;"));
        assert!(!has_tail("SELECT 1; -- done\n  /* really */ ;"));
        assert!(!has_tail("SELECT 'a;b', \"c;d\", [e;f], `g;h`"));
        assert!(!has_tail("SELECT 'it''s; fine'"));
        assert!(has_tail("CREATE TABLE a (x); CREATE TABLE b (y)"));
        assert!(has_tail("SELECT 1; 'x'"));
        assert!(has_tail(
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b; END"
        ));
        // A `;` past the first 32 bytes, or at a chunk's edge.
        let long = format!("SELECT {}", "x, ".repeat(40));
        assert!(!has_tail(&format!("{long}1")));
        assert!(has_tail(&format!("{long}1; SELECT 2")));
        assert!(has_tail(&format!("{}; SELECT 2", "x".repeat(31))));
        assert!(has_tail(&format!("{}; SELECT 2", "x".repeat(32))));
    }
}
