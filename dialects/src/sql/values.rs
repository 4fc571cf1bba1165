//! A `VALUES` list as a FROM item: SQLAlchemy's `values()`.

use std::sync::Arc;

use super::expr::{ColumnRef, Expr, Source};
use super::select::{Columns, FromItem, IntoFrom};
use crate::error::CompileError;
use crate::schema::types::SqlType;

/// The rows and column names of a [`Values`] list.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuesDef {
    /// The name the list is known by in FROM.
    pub alias: Arc<str>,
    /// Its column names.
    pub columns: Arc<[Arc<str>]>,
    /// Its column types, in the same order.
    pub types: Arc<[SqlType]>,
    /// Its rows, each with one expression per column.
    pub rows: Vec<Vec<Expr>>,
}

impl ValuesDef {
    /// Checks that there is at least one row and that every row has one
    /// value per column.
    pub fn check(&self) -> Result<(), CompileError> {
        if self.rows.is_empty() {
            return Err(CompileError::Invalid(format!(
                "values() `{}` has no rows",
                self.alias
            )));
        }
        if self.columns.is_empty() {
            return Err(CompileError::Invalid(format!(
                "values() `{}` has no columns",
                self.alias
            )));
        }
        match self.rows.iter().find(|r| r.len() != self.columns.len()) {
            Some(row) => Err(CompileError::Invalid(format!(
                "a row of values() `{}` has {} values for {} columns",
                self.alias,
                row.len(),
                self.columns.len()
            ))),
            None => Ok(()),
        }
    }
}

/// A `VALUES` list with named, typed columns, used like a table in FROM
/// (SQLAlchemy's `values(column(...), name=...).data([...])`).
///
/// PostgreSQL gets `(VALUES ...) AS name (columns)`; SQLite, which cannot
/// name the columns of a `VALUES` list, selects them by their implicit
/// names `column1, column2, ...`; MySQL and MariaDB, which differ in how
/// they write row constructors, get the same rows as a `UNION ALL` of
/// one-row selects.
///
/// ```
/// use dialects::{select, values, Postgres, Sqlite, SqlType, Value};
/// let v = values("v", [("id", SqlType::Integer), ("name", SqlType::string(20))])
///     .row((1, "a"))
///     .row((2, "b"));
/// let stmt = select((v.c("id"), v.c("name"))).where_(v.c("id").gt(1));
/// assert_eq!(stmt.compile(&Postgres).unwrap().sql,
///     "SELECT v.id, v.name FROM (VALUES ($1, $2), ($3, $4)) AS v (id, name) WHERE v.id > $5");
/// assert_eq!(stmt.compile(&Sqlite).unwrap().sql,
///     "SELECT v.id, v.name FROM (SELECT column1 AS id, column2 AS name \
///      FROM (VALUES (?, ?), (?, ?))) AS v WHERE v.id > ?");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Values {
    source: Arc<Source>,
}

/// A `VALUES` list named `name` with these columns; add rows with
/// [`Values::row`] or [`Values::rows`].
pub fn values<'a>(name: &str, columns: impl IntoIterator<Item = (&'a str, SqlType)>) -> Values {
    let (names, types): (Vec<Arc<str>>, Vec<SqlType>) =
        columns.into_iter().map(|(n, t)| (Arc::from(n), t)).unzip();
    Values {
        source: Arc::new(Source::Values(ValuesDef {
            alias: name.into(),
            columns: names.into(),
            types: types.into(),
            rows: Vec::new(),
        })),
    }
}

impl Values {
    /// Appends a row: a tuple, array or vector with one value per column.
    pub fn row(mut self, row: impl Columns) -> Self {
        if let Source::Values(def) = Arc::make_mut(&mut self.source) {
            def.rows.push(row.into_columns());
        }
        self
    }

    /// Appends rows.
    pub fn rows<R: Columns>(self, rows: impl IntoIterator<Item = R>) -> Self {
        rows.into_iter().fold(self, Values::row)
    }

    /// The column `name` of the list, qualified by its name.
    pub fn c(&self, name: &str) -> Expr {
        self.source.column(name)
    }

    /// Every column.
    pub fn all_columns(&self) -> Vec<Expr> {
        match &*self.source {
            Source::Values(def) => def
                .columns
                .iter()
                .map(|n| {
                    Expr::Column(ColumnRef {
                        source: Some(self.source.clone()),
                        name: n.clone(),
                    })
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The list's name.
    pub fn name(&self) -> &str {
        self.source.qualifier()
    }
}

impl IntoFrom for &Values {
    fn into_from(self) -> FromItem {
        FromItem::Source(self.source.clone())
    }
}

impl IntoFrom for Values {
    fn into_from(self) -> FromItem {
        FromItem::Source(self.source)
    }
}

impl Columns for &Values {
    fn into_columns(self) -> Vec<Expr> {
        self.all_columns()
    }
}
