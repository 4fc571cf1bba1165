//! `QueryResult`: the rows a statement returned and how many rows it changed.

use std::sync::Arc;

use dialects::Value;

use super::row::{FromRow, Row};
use crate::error::Error;

/// What executing a statement produced.
#[derive(Debug, Clone, Default)]
pub struct QueryResult {
    pub(crate) columns: Arc<[Arc<str>]>,
    pub(crate) rows: Vec<Row>,
    pub(crate) rows_affected: u64,
    /// The rowid or auto-increment key the statement generated, where the
    /// driver reports one (SQLite, MySQL).
    pub(crate) last_insert_id: Option<i64>,
    /// The primary key of the row a single-row INSERT inserted.
    pub(crate) inserted_primary_key: Option<Vec<Value>>,
}

impl QueryResult {
    /// The column labels (SQLAlchemy's `keys()`).
    pub fn keys(&self) -> &[Arc<str>] {
        &self.columns
    }

    /// The primary key of the row a single-row `INSERT` inserted, in the
    /// table's primary-key column order (SQLAlchemy's
    /// `result.inserted_primary_key`): the values the statement gave, and
    /// those the database generated (read with `RETURNING` where the
    /// backend has it, else from the driver's last insert id). `None` for
    /// other statements, tables without a primary key, and an upsert that
    /// inserted nothing.
    pub fn inserted_primary_key(&self) -> Option<&[Value]> {
        self.inserted_primary_key.as_deref()
    }

    /// How many rows an INSERT, UPDATE or DELETE changed.
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }

    /// Every row.
    pub fn all(self) -> Vec<Row> {
        self.rows
    }

    /// Every row as a typed tuple.
    pub fn all_as<T: FromRow>(self) -> Result<Vec<T>, Error> {
        self.rows.into_iter().map(T::from_row).collect()
    }

    /// The rows, by reference.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The first row, if any.
    pub fn first(self) -> Option<Row> {
        self.rows.into_iter().next()
    }

    /// Exactly one row: [`Error::NoResultFound`] or [`Error::MultipleResultsFound`] otherwise.
    pub fn one(self) -> Result<Row, Error> {
        match self.one_or_none()? {
            Some(row) => Ok(row),
            None => Err(Error::NoResultFound),
        }
    }

    /// One row or none: [`Error::MultipleResultsFound`] for more.
    pub fn one_or_none(self) -> Result<Option<Row>, Error> {
        let mut it = self.rows.into_iter();
        let first = it.next();
        if it.next().is_some() {
            return Err(Error::MultipleResultsFound);
        }
        Ok(first)
    }

    /// The first column of the first row, or `None` when there is no row.
    pub fn scalar(self) -> Option<Value> {
        self.first()
            .and_then(|r| r.into_values().into_iter().next())
    }

    /// The first column of every row.
    pub fn scalars(self) -> Vec<Value> {
        self.rows
            .into_iter()
            .filter_map(|r| r.into_values().into_iter().next())
            .collect()
    }

    /// Adds `other`'s rows and counts to this result (executemany).
    pub(crate) fn absorb(&mut self, other: QueryResult) {
        if self.columns.is_empty() {
            self.columns = other.columns;
        }
        self.rows.extend(other.rows);
        self.rows_affected += other.rows_affected;
    }

    /// How many rows were returned.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no row was returned.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl IntoIterator for QueryResult {
    type Item = Row;
    type IntoIter = std::vec::IntoIter<Row>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.into_iter()
    }
}
