//! `UPDATE` statements.

use super::expr::{Expr, IntoExpr};
use super::select::Columns;
use crate::schema::table::Table;

/// An `UPDATE` statement.
///
/// ```
/// use dialects::{update, Column, Dialect, Postgres, SqlType, Table};
/// let worker = Table::new("worker")
///     .column(Column::new("id", SqlType::Integer).primary_key())
///     .column(Column::new("name", SqlType::string(256)));
/// let stmt = update(&worker).set("name", "Ann").where_(worker.c("id").eq(1));
/// assert_eq!(stmt.compile(&Postgres).unwrap().sql, "UPDATE worker SET name = $1 WHERE worker.id = $2");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub(crate) table: Table,
    pub(crate) set: Vec<(String, Expr)>,
    pub(crate) where_: Option<Expr>,
    pub(crate) returning: Vec<Expr>,
}

/// `UPDATE table`.
pub fn update(table: &Table) -> Update {
    Update {
        table: table.clone(),
        set: Vec::new(),
        where_: None,
        returning: Vec::new(),
    }
}

impl Update {
    /// `SET column = value`.
    pub fn set(mut self, column: &str, value: impl IntoExpr) -> Self {
        self.set.push((column.to_owned(), value.into_expr()));
        self
    }

    /// Several `SET` pairs.
    pub fn values<K, V>(mut self, pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: IntoExpr,
    {
        self.set
            .extend(pairs.into_iter().map(|(k, v)| (k.into(), v.into_expr())));
        self
    }

    /// Adds a `WHERE` condition (joined with `AND`).
    pub fn where_(mut self, cond: Expr) -> Self {
        self.where_ = Some(match self.where_.take() {
            Some(e) => e.and(cond),
            None => cond,
        });
        self
    }

    /// Same as [`Update::where_`].
    pub fn filter(self, cond: Expr) -> Self {
        self.where_(cond)
    }

    /// `column = value` conditions by column name (values of mixed types
    /// in a tuple of pairs).
    pub fn filter_by(mut self, pairs: impl super::select::FilterPairs) -> Self {
        for (name, value) in pairs.into_pairs() {
            let col = self.table.c(&name);
            self = self.where_(col.eq(value));
        }
        self
    }

    /// `RETURNING columns`.
    pub fn returning(mut self, columns: impl Columns) -> Self {
        self.returning = columns.into_columns();
        self
    }

    /// The target table.
    pub fn table(&self) -> &Table {
        &self.table
    }
}
