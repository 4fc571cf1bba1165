//! Running one SQL text on the connection's thread: prepared from the
//! statement cache, its parameters bound where they are, its rows handed
//! to a [`Sink`] as they are stepped. A text of several statements (a
//! migration script, a trigger's body) runs statement after statement,
//! its parameters consumed in order.

use std::sync::Arc;

use dialects::Value;
use rusqlite::{Connection, Statement};

use super::cells::{self, Declared};
use super::failure::{self, NAME};
use crate::driver::{DriverError, Params};
use crate::error::Error;

/// What a statement's rows go to.
pub(crate) trait Sink {
    /// Whether [`Sink::columns`] wants the labels.
    const LABELS: bool;
    /// The columns of a statement about to step (called for each statement
    /// of the text that returns columns, before its rows); `labels` is
    /// empty unless [`Sink::LABELS`].
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

/// Runs `sql` with `params`, its rows to `sink`.
pub(crate) fn run<S: Sink, P: Params + ?Sized>(
    conn: &Connection,
    sql: &str,
    params: &P,
    sink: &mut S,
) -> Result<Summary, DriverError> {
    if !has_tail(sql) {
        let mut stmt = conn.prepare_cached(sql).map_err(failure::map)?;
        let affected = step(conn, &mut stmt, params, sink)?.1;
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
        let (used, changed) = step(conn, &mut stmt, rest, sink)?;
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
/// changed.
fn step<S: Sink, P: Params + ?Sized>(
    conn: &Connection,
    stmt: &mut Statement<'_>,
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
    let kinds: Vec<Declared> = if width == 0 {
        Vec::new()
    } else {
        let columns = stmt.columns();
        let labels: Arc<[Arc<str>]> = if S::LABELS {
            columns.iter().map(|c| Arc::from(c.name())).collect()
        } else {
            Arc::from(Vec::new())
        };
        sink.columns(labels, width)?;
        columns
            .iter()
            .map(|c| Declared::of(c.decl_type()))
            .collect()
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
    if !b.contains(&b';') {
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
    }
}
