//! `DELETE` statements.

use super::expr::Expr;
use super::select::Columns;
use crate::schema::table::Table;

/// A `DELETE` statement.
///
/// ```
/// use dialects::{delete, Column, Dialect, Sqlite, SqlType, Table};
/// let worker = Table::new("worker").column(Column::new("id", SqlType::Integer).primary_key());
/// let stmt = delete(&worker).filter_by([("id", 3)]);
/// assert_eq!(stmt.compile(&Sqlite).unwrap().sql, "DELETE FROM worker WHERE worker.id = ?");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    pub(crate) table: Table,
    pub(crate) where_: Option<Expr>,
    pub(crate) returning: Vec<Expr>,
}

/// `DELETE FROM table`.
pub fn delete(table: &Table) -> Delete {
    Delete {
        table: table.clone(),
        where_: None,
        returning: Vec::new(),
    }
}

impl Delete {
    /// Adds a `WHERE` condition (joined with `AND`).
    pub fn where_(mut self, cond: Expr) -> Self {
        self.where_ = Some(match self.where_.take() {
            Some(e) => e.and(cond),
            None => cond,
        });
        self
    }

    /// Same as [`Delete::where_`].
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
