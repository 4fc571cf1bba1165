//! Tables: a name, columns and table-level constraints.

use std::sync::Arc;

use super::column::{Column, ForeignKey, ReferentialAction};
use super::constraint::{CheckConstraint, Index, UniqueConstraint};
use crate::error::CompileError;
use crate::sql::alias::Alias;
use crate::sql::expr::{ColumnRef, Expr, Source};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TableData {
    pub(crate) name: String,
    pub(crate) schema: Option<String>,
    pub(crate) columns: Vec<Column>,
    pub(crate) foreign_keys: Vec<TableForeignKey>,
    pub(crate) uniques: Vec<UniqueConstraint>,
    pub(crate) checks: Vec<CheckConstraint>,
    pub(crate) indexes: Vec<Index>,
}

/// A (possibly composite) foreign key declared at table level.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableForeignKey {
    /// The local columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub ref_table: String,
    /// The referenced columns, in the same order.
    pub ref_columns: Vec<String>,
    /// `ON DELETE` action.
    pub on_delete: Option<ReferentialAction>,
    /// `ON UPDATE` action.
    pub on_update: Option<ReferentialAction>,
}

/// A table: cheap to clone (shared), built with chained calls.
///
/// ```
/// use dialects::{Column, SqlType, Table};
/// let worker = Table::new("worker")
///     .column(Column::new("id", SqlType::Integer).primary_key())
///     .column(Column::new("name", SqlType::string(256)).not_null());
/// assert_eq!(worker.name(), "worker");
/// assert_eq!(worker.columns().len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub(crate) data: Arc<TableData>,
    source: Arc<Source>,
}

impl Table {
    /// An empty table named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        Table {
            source: Arc::new(Source::Table {
                name: name.as_str().into(),
                schema: None,
                columns: Arc::from([]),
                types: Arc::from([]),
            }),
            data: Arc::new(TableData {
                name,
                schema: None,
                columns: Vec::new(),
                foreign_keys: Vec::new(),
                uniques: Vec::new(),
                checks: Vec::new(),
                indexes: Vec::new(),
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut TableData)) -> Self {
        f(Arc::make_mut(&mut self.data));
        self
    }

    /// Rebuilds the FROM source after the name, schema or columns changed.
    fn with_fresh_source(mut self) -> Self {
        self.source = Arc::new(Source::Table {
            name: self.data.name.as_str().into(),
            schema: self.data.schema.as_deref().map(Into::into),
            columns: self.column_names(),
            types: self.column_types(),
        });
        self
    }

    /// The column names, shared by the sources of the table and its aliases.
    pub(crate) fn column_names(&self) -> Arc<[Arc<str>]> {
        self.data
            .columns
            .iter()
            .map(|c| Arc::from(c.name.as_str()))
            .collect()
    }

    /// The column types, in the order of [`Table::column_names`].
    pub(crate) fn column_types(&self) -> Arc<[crate::schema::types::SqlType]> {
        self.data.columns.iter().map(|c| c.ty.clone()).collect()
    }

    /// Puts the table in a schema (PostgreSQL) or database (MySQL).
    pub fn schema(self, schema: impl Into<String>) -> Self {
        let schema = schema.into();
        self.edit(|d| d.schema = Some(schema)).with_fresh_source()
    }

    /// Adds a column.
    pub fn column(self, column: Column) -> Self {
        self.edit(|d| d.columns.push(column)).with_fresh_source()
    }

    /// Adds a table-level foreign key over several columns.
    pub fn foreign_key<I, S>(self, columns: I, ref_table: &str, ref_columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let fk = TableForeignKey {
            columns: columns.into_iter().map(Into::into).collect(),
            ref_table: ref_table.to_owned(),
            ref_columns: ref_columns.into_iter().map(Into::into).collect(),
            on_delete: None,
            on_update: None,
        };
        self.edit(|d| d.foreign_keys.push(fk))
    }

    /// Adds a table-level foreign key with its actions already set.
    pub fn foreign_key_constraint(self, fk: TableForeignKey) -> Self {
        self.edit(|d| d.foreign_keys.push(fk))
    }

    /// Adds a `UNIQUE` constraint over several columns.
    pub fn unique(self, constraint: UniqueConstraint) -> Self {
        self.edit(|d| d.uniques.push(constraint))
    }

    /// Adds a `CHECK` constraint.
    pub fn check(self, constraint: CheckConstraint) -> Self {
        self.edit(|d| d.checks.push(constraint))
    }

    /// Adds an index (created by `create_all` after the table).
    pub fn index(self, index: Index) -> Self {
        self.edit(|d| d.indexes.push(index))
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.data.name
    }

    /// The schema, if one was set.
    pub fn schema_name(&self) -> Option<&str> {
        self.data.schema.as_deref()
    }

    /// The columns, in declaration order.
    pub fn columns(&self) -> &[Column] {
        &self.data.columns
    }

    /// The column definition named `name`.
    pub fn get_column(&self, name: &str) -> Option<&Column> {
        self.data.columns.iter().find(|c| c.name == name)
    }

    /// The primary key columns, in declaration order.
    pub fn primary_key(&self) -> impl Iterator<Item = &Column> {
        self.data.columns.iter().filter(|c| c.primary_key)
    }

    /// Every foreign key: column-level ones first, then table-level ones.
    pub fn foreign_keys(&self) -> Vec<TableForeignKey> {
        let column_level = self.data.columns.iter().filter_map(|c| {
            c.foreign_key
                .as_ref()
                .map(|fk: &ForeignKey| TableForeignKey {
                    columns: vec![c.name.clone()],
                    ref_table: fk.table.clone(),
                    ref_columns: vec![fk.column.clone()],
                    on_delete: fk.on_delete,
                    on_update: fk.on_update,
                })
        });
        column_level
            .chain(self.data.foreign_keys.iter().cloned())
            .collect()
    }

    /// Table-level unique constraints.
    pub fn unique_constraints(&self) -> &[UniqueConstraint] {
        &self.data.uniques
    }

    /// Check constraints.
    pub fn check_constraints(&self) -> &[CheckConstraint] {
        &self.data.checks
    }

    /// Indexes: declared ones, then one per column marked `.index()`.
    pub fn indexes(&self) -> Vec<Index> {
        let mut out = self.data.indexes.clone();
        for c in self.data.columns.iter().filter(|c| c.index) {
            let name = format!("ix_{}_{}", self.data.name, c.name);
            out.push(Index::new(
                crate::compiler::writer::truncate_name(
                    &name,
                    crate::compiler::writer::PORTABLE_NAME_LEN,
                ),
                [c.name.as_str()],
            ));
        }
        out
    }

    /// The column named `name` as an expression (`worker.id`).
    ///
    /// An unknown name gives an expression that fails to compile with
    /// [`CompileError::UnknownColumn`] naming the table and the column.
    pub fn c(&self, name: &str) -> Expr {
        if let Some(at) = self.data.columns.iter().position(|c| c.name == name) {
            Expr::Column(ColumnRef {
                source: Some(self.source.clone()),
                name: self.shared_name(at, name),
            })
        } else {
            Expr::Invalid(Box::new(CompileError::UnknownColumn {
                table: self.data.name.clone(),
                column: name.to_owned(),
            }))
        }
    }

    /// The name of the column at `at` (named `name`), shared with the FROM
    /// source's column list when it has it there (no allocation per
    /// column reference), else a copy of `name`.
    fn shared_name(&self, at: usize, name: &str) -> Arc<str> {
        match &*self.source {
            Source::Table { columns, .. } => match columns.get(at) {
                Some(shared) if **shared == *name => shared.clone(),
                _ => name.into(),
            },
            _ => name.into(),
        }
    }

    /// Every column as expressions, in declaration order (`table.*` spelled out).
    pub fn all_columns(&self) -> Vec<Expr> {
        self.data.columns.iter().map(|c| self.c(&c.name)).collect()
    }

    /// An aliased copy of this table for self-joins and analytics (`resume AS r`).
    pub fn alias(&self, name: &str) -> Alias {
        Alias::of_table(self.clone(), name)
    }

    /// The table as a FROM source.
    pub(crate) fn source(&self) -> &Arc<Source> {
        &self.source
    }
}
