//! `text()`: SQL written by hand, with `:name` parameters bound to values.

use std::sync::Arc;

use super::expr::Expr;
use crate::value::Value;

/// Hand-written SQL with named parameters (`:name`), as SQLAlchemy's `text()`.
///
/// Each `:name` becomes a placeholder of the dialect and its value is bound;
/// `::` (a PostgreSQL cast) and text inside quotes are left alone.
///
/// ```
/// use dialects::{text, Dialect, Postgres, Sqlite, Value};
/// let t = text("SELECT id FROM worker WHERE name = :name OR nick = :name").bind("name", "Vlad");
/// let pg = t.compile(&Postgres).unwrap();
/// assert_eq!(pg.sql, "SELECT id FROM worker WHERE name = $1 OR nick = $2");
/// assert_eq!(pg.params, vec![Value::from("Vlad"), Value::from("Vlad")]);
/// assert_eq!(t.compile(&Sqlite).unwrap().sql, "SELECT id FROM worker WHERE name = ? OR nick = ?");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TextClause {
    pub(crate) sql: Arc<str>,
    pub(crate) params: Vec<(Arc<str>, Value)>,
}

/// SQL text with named `:param` placeholders.
pub fn text(sql: &str) -> TextClause {
    TextClause {
        sql: Arc::from(sql),
        params: Vec::new(),
    }
}

impl TextClause {
    /// Binds `value` to every `:name` in the text.
    pub fn bind(mut self, name: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        match self.params.iter_mut().find(|(n, _)| &**n == name) {
            Some(slot) => slot.1 = value,
            None => self.params.push((Arc::from(name), value)),
        }
        self
    }

    /// The value bound to `name`.
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.params
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v)
    }

    /// Uses the text as an expression (a literal column, a condition).
    pub fn expr(self) -> Expr {
        Expr::Text(self)
    }
}

/// A column (or any expression) given as SQL text, SQLAlchemy's
/// `literal_column()`: written as is, so never build it from user input;
/// `:name` parameters in it need [`text`] and [`TextClause::bind`].
///
/// ```
/// use dialects::{literal_column, select, Dialect, Sqlite};
/// let stmt = select((literal_column("1").label("one"),));
/// assert_eq!(stmt.compile(&Sqlite).unwrap().sql, "SELECT 1 AS one");
/// ```
pub fn literal_column(sql: &str) -> Expr {
    Expr::Text(text(sql))
}

/// A piece of a parsed text clause.
pub(crate) enum TextPiece<'a> {
    Sql(&'a str),
    Param(&'a str),
}

/// Splits SQL text into literal pieces and `:name` parameters.
pub(crate) fn split_params(sql: &str) -> Vec<TextPiece<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match b {
            b'\'' | b'"' | b'`' => {
                quote = Some(b);
                i += 1;
            }
            b':' if bytes.get(i + 1) == Some(&b':') => i += 2,
            b':' if i > 0 && bytes[i - 1] == b':' => i += 1,
            b':' if bytes
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
            {
                let end = bytes[i + 1..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                    .map_or(bytes.len(), |p| i + 1 + p);
                out.push(TextPiece::Sql(&sql[start..i]));
                out.push(TextPiece::Param(&sql[i + 1..end]));
                start = end;
                i = end;
            }
            _ => i += 1,
        }
    }
    out.push(TextPiece::Sql(&sql[start..]));
    out
}
