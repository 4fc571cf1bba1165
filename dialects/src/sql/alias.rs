//! Aliases of tables and named subqueries, whose columns are reached with `.c(name)`.

use std::sync::Arc;

use super::expr::{ColumnRef, Expr, Source};
use super::select::{FromItem, IntoFrom, Select};
use crate::error::CompileError;
use crate::schema::table::Table;

/// An aliased table (`resume AS r`), SQLAlchemy's `aliased()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Alias {
    table: Table,
    source: Arc<Source>,
}

impl Alias {
    pub(crate) fn of_table(table: Table, alias: &str) -> Self {
        let source = Arc::new(Source::TableAlias {
            table: table.name().into(),
            schema: table.schema_name().map(Into::into),
            alias: alias.into(),
            columns: table.column_names(),
            types: table.column_types(),
        });
        Alias { table, source }
    }

    /// The column `name` qualified by the alias (`r.compensation`).
    pub fn c(&self, name: &str) -> Expr {
        if self.table.get_column(name).is_some() {
            Expr::Column(ColumnRef {
                source: Some(self.source.clone()),
                name: name.into(),
            })
        } else {
            Expr::Invalid(Box::new(CompileError::UnknownColumn {
                table: self.source.qualifier().to_owned(),
                column: name.to_owned(),
            }))
        }
    }

    /// The aliased table.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// The alias name.
    pub fn name(&self) -> &str {
        self.source.qualifier()
    }

    /// Every column through the alias.
    pub fn all_columns(&self) -> Vec<Expr> {
        self.table
            .columns()
            .iter()
            .map(|c| self.c(c.name()))
            .collect()
    }
}

impl IntoFrom for &Alias {
    fn into_from(self) -> FromItem {
        FromItem::Source(self.source.clone())
    }
}

impl IntoFrom for Alias {
    fn into_from(self) -> FromItem {
        FromItem::Source(self.source)
    }
}

/// A named subquery, SQLAlchemy's `.subquery("name")`.
#[derive(Debug, Clone, PartialEq)]
pub struct Subquery {
    source: Arc<Source>,
    names: Vec<Option<Arc<str>>>,
}

impl Subquery {
    pub(crate) fn new(select: Select, alias: &str) -> Self {
        let names = select
            .columns
            .iter()
            .map(|c| c.output_name().map(Arc::from))
            .collect();
        Subquery {
            source: Arc::new(Source::Subquery {
                select: Box::new(select),
                alias: alias.into(),
            }),
            names,
        }
    }

    /// The result column `name` of the subquery (`helper1.c("id")`).
    pub fn c(&self, name: &str) -> Expr {
        named_column(&self.source, &self.names, name)
    }

    /// Every named result column.
    pub fn all_columns(&self) -> Vec<Expr> {
        all_named(&self.source, &self.names)
    }

    /// The subquery's name.
    pub fn name(&self) -> &str {
        self.source.qualifier()
    }
}

impl IntoFrom for &Subquery {
    fn into_from(self) -> FromItem {
        FromItem::Source(self.source.clone())
    }
}

impl IntoFrom for Subquery {
    fn into_from(self) -> FromItem {
        FromItem::Source(self.source)
    }
}

impl super::select::Columns for &Subquery {
    fn into_columns(self) -> Vec<Expr> {
        self.all_columns()
    }
}

pub(crate) fn named_column(source: &Arc<Source>, names: &[Option<Arc<str>>], name: &str) -> Expr {
    if names.iter().flatten().any(|n| &**n == name) {
        Expr::Column(ColumnRef {
            source: Some(source.clone()),
            name: name.into(),
        })
    } else {
        Expr::Invalid(Box::new(CompileError::UnknownColumn {
            table: source.qualifier().to_owned(),
            column: name.to_owned(),
        }))
    }
}

pub(crate) fn all_named(source: &Arc<Source>, names: &[Option<Arc<str>>]) -> Vec<Expr> {
    names
        .iter()
        .flatten()
        .map(|n| {
            Expr::Column(ColumnRef {
                source: Some(source.clone()),
                name: n.clone(),
            })
        })
        .collect()
}
