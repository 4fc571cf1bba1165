//! `INSERT` statements, multi-row values, insert-from-select and upserts.

use super::expr::{Expr, IntoExpr};
use super::select::{Columns, Select};
use crate::schema::table::Table;

/// What an upsert does on a conflict.
#[derive(Debug, Clone, PartialEq)]
pub enum ConflictAction {
    /// `DO NOTHING` (`INSERT IGNORE`-like on MySQL).
    DoNothing,
    /// `DO UPDATE SET col = expr, ...` (`ON DUPLICATE KEY UPDATE` on MySQL).
    DoUpdate(Vec<(String, Expr)>),
}

/// The `ON CONFLICT` part of an upsert.
#[derive(Debug, Clone, PartialEq)]
pub struct OnConflict {
    /// The conflict target columns (ignored by MySQL, which uses every unique key).
    pub target: Vec<String>,
    /// What to do.
    pub action: ConflictAction,
}

/// Where the inserted rows come from.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertSource {
    /// `VALUES (...), (...)`.
    Values(Vec<Vec<Expr>>),
    /// `SELECT ...`.
    Select(Box<Select>),
    /// `DEFAULT VALUES`.
    DefaultValues,
}

/// An `INSERT` statement.
///
/// ```
/// use dialects::{insert, Column, Dialect, MySql, Postgres, SqlType, Table, Value};
/// let worker = Table::new("worker")
///     .column(Column::new("id", SqlType::Integer).primary_key())
///     .column(Column::new("name", SqlType::string(256)));
/// let stmt = insert(&worker).values([("name", "Vlad")]).returning((worker.c("id"),));
/// assert_eq!(stmt.compile(&Postgres).unwrap().sql,
///     "INSERT INTO worker (name) VALUES ($1) RETURNING worker.id");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    pub(crate) table: Table,
    pub(crate) columns: Vec<String>,
    pub(crate) source: InsertSource,
    pub(crate) returning: Vec<Expr>,
    pub(crate) on_conflict: Option<OnConflict>,
    /// A mistake found while building (reported when compiling).
    pub(crate) error: Option<crate::error::CompileError>,
}

/// `INSERT INTO table`.
pub fn insert(table: &Table) -> Insert {
    Insert {
        table: table.clone(),
        columns: Vec::new(),
        source: InsertSource::DefaultValues,
        returning: Vec::new(),
        on_conflict: None,
        error: None,
    }
}

impl Insert {
    /// One row as `(column, value)` pairs. The first row fixes the column
    /// list; a further call adds another row with the same columns (in any
    /// order). A row with other columns fails to compile with
    /// [`CompileError::Invalid`](crate::CompileError::Invalid).
    pub fn values<K, V>(mut self, row: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: IntoExpr,
    {
        let pairs: Vec<(String, Expr)> = row
            .into_iter()
            .map(|(k, v)| (k.into(), v.into_expr()))
            .collect();
        if !matches!(self.source, InsertSource::Values(_)) {
            self.columns = pairs.iter().map(|(k, _)| k.clone()).collect();
            self.source = InsertSource::Values(Vec::new());
        }
        let InsertSource::Values(rows) = &mut self.source else {
            return self;
        };
        let same_columns = pairs.len() == self.columns.len()
            && pairs.iter().all(|(k, _)| self.columns.contains(k));
        if !same_columns && self.error.is_none() {
            self.error = Some(crate::error::CompileError::Invalid(format!(
                "INSERT row {} has columns ({}) but the first row has ({})",
                rows.len() + 1,
                pairs
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                self.columns.join(", ")
            )));
        }
        let mut pairs: Vec<Option<(String, Expr)>> = pairs.into_iter().map(Some).collect();
        let ordered = self
            .columns
            .iter()
            .map(|col| {
                pairs
                    .iter_mut()
                    .find(|p| p.as_ref().is_some_and(|(k, _)| k == col))
                    .and_then(Option::take)
                    .map_or(Expr::Value(crate::Value::Null), |(_, v)| v)
            })
            .collect();
        rows.push(ordered);
        self
    }

    /// Sets the column list and adds rows of values in that order
    /// (a multi-row `VALUES`).
    pub fn rows<C, R, V>(mut self, columns: C, rows: impl IntoIterator<Item = R>) -> Self
    where
        C: IntoIterator,
        C::Item: Into<String>,
        R: IntoIterator<Item = V>,
        V: IntoExpr,
    {
        self.columns = columns.into_iter().map(Into::into).collect();
        let rows: Vec<Vec<Expr>> = rows
            .into_iter()
            .map(|r| r.into_iter().map(IntoExpr::into_expr).collect())
            .collect();
        match &mut self.source {
            InsertSource::Values(existing) => existing.extend(rows),
            other => *other = InsertSource::Values(rows),
        }
        self
    }

    /// `INSERT INTO table (columns) SELECT ...`.
    pub fn from_select<C>(mut self, columns: C, select: Select) -> Self
    where
        C: IntoIterator,
        C::Item: Into<String>,
    {
        self.columns = columns.into_iter().map(Into::into).collect();
        self.source = InsertSource::Select(Box::new(select));
        self
    }

    /// `RETURNING columns` (an error on backends without it).
    pub fn returning(mut self, columns: impl Columns) -> Self {
        self.returning = columns.into_columns();
        self
    }

    /// Upsert: on a conflict on `target`, do nothing.
    pub fn on_conflict_do_nothing<I, S>(mut self, target: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.on_conflict = Some(OnConflict {
            target: target.into_iter().map(Into::into).collect(),
            action: ConflictAction::DoNothing,
        });
        self
    }

    /// Upsert: on a conflict on `target`, update `set` (use
    /// [`excluded`](super::expr::excluded) for the proposed values).
    pub fn on_conflict_do_update<I, S, K, V>(
        mut self,
        target: I,
        set: impl IntoIterator<Item = (K, V)>,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
        K: Into<String>,
        V: IntoExpr,
    {
        self.on_conflict = Some(OnConflict {
            target: target.into_iter().map(Into::into).collect(),
            action: ConflictAction::DoUpdate(
                set.into_iter()
                    .map(|(k, v)| (k.into(), v.into_expr()))
                    .collect(),
            ),
        });
        self
    }

    /// The target table.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// The column list as given (before client defaults are added).
    pub fn column_names(&self) -> &[String] {
        &self.columns
    }

    /// The row of values, when the statement inserts exactly one
    /// (`None` for several rows or `INSERT ... SELECT`; an empty row for
    /// `DEFAULT VALUES`).
    pub fn single_row(&self) -> Option<&[Expr]> {
        match &self.source {
            InsertSource::Values(rows) if rows.len() == 1 => rows.first().map(Vec::as_slice),
            InsertSource::DefaultValues => Some(&[]),
            _ => None,
        }
    }

    /// Whether the statement has no values of its own (`insert(t)` alone):
    /// the form whose rows an executemany supplies.
    pub fn has_no_values(&self) -> bool {
        matches!(self.source, InsertSource::DefaultValues)
    }

    /// The `RETURNING` columns.
    pub fn returning_columns(&self) -> &[Expr] {
        &self.returning
    }

    /// Whether it has an upsert clause.
    pub fn has_upsert(&self) -> bool {
        self.on_conflict.is_some()
    }

    /// This insert with the client-side defaults of the columns it leaves
    /// out computed now and written in as values (what compiling it does
    /// anyway): so the caller knows the values, as an engine reading back
    /// `inserted_primary_key` must. An `INSERT ... SELECT` is returned as is.
    pub fn with_client_defaults(&self) -> std::borrow::Cow<'_, Insert> {
        use std::borrow::Cow;
        let defaults: Vec<&crate::schema::Column> = self
            .table
            .columns()
            .iter()
            .filter(|c| c.get_default().is_some() && !self.columns.iter().any(|g| g == c.name()))
            .collect();
        if defaults.is_empty() || matches!(self.source, InsertSource::Select(_)) {
            return Cow::Borrowed(self);
        }
        let value = |c: &crate::schema::Column| {
            Expr::Value(c.get_default().map_or(crate::Value::Null, |d| d.value()))
        };
        let mut out = self.clone();
        out.columns
            .extend(defaults.iter().map(|c| c.name().to_owned()));
        out.source = match &self.source {
            InsertSource::Values(rows) => InsertSource::Values(
                rows.iter()
                    .map(|r| {
                        let mut r = r.clone();
                        r.extend(defaults.iter().map(|c| value(c)));
                        r
                    })
                    .collect(),
            ),
            _ => InsertSource::Values(vec![defaults.iter().map(|c| value(c)).collect()]),
        };
        Cow::Owned(out)
    }

    /// How many rows of values the statement carries.
    pub fn row_count(&self) -> usize {
        match &self.source {
            InsertSource::Values(rows) => rows.len(),
            _ => 0,
        }
    }
}
