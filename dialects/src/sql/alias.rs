//! Aliases of tables and named subqueries, whose columns are reached with `.c(name)`.

use std::sync::Arc;

use super::cte::CteBody;
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
        Self::of_body(CteBody::Select(select), alias, false)
    }

    pub(crate) fn of_body(body: CteBody, alias: &str, lateral: bool) -> Self {
        let (body, names) = body.into_named();
        Subquery {
            source: Arc::new(Source::Subquery {
                query: Box::new(body),
                alias: alias.into(),
                lateral,
            }),
            names,
        }
    }

    /// Whether this is a `LATERAL` subquery.
    pub fn is_lateral(&self) -> bool {
        matches!(&*self.source, Source::Subquery { lateral: true, .. })
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

/// The output names of `columns`, with a repeated name made unique as
/// SQLAlchemy does in a subquery: the second `id` becomes `id_1`, the
/// third `id_2`, and the column is labelled so in the SQL.
pub(crate) fn dedup_labels(columns: &mut [Expr]) -> Vec<Option<Arc<str>>> {
    let mut used: Vec<Arc<str>> = Vec::new();
    let all: Vec<Option<Arc<str>>> = columns
        .iter()
        .map(|c| c.output_name().map(Arc::from))
        .collect();
    let mut names = Vec::with_capacity(columns.len());
    for (i, col) in columns.iter_mut().enumerate() {
        let Some(name) = all.get(i).cloned().flatten() else {
            names.push(None);
            continue;
        };
        if !used.contains(&name) {
            used.push(name.clone());
            names.push(Some(name));
            continue;
        }
        let fresh: Arc<str> = (1..)
            .map(|k| format!("{name}_{k}"))
            .find(|n| !used.iter().any(|u| &**u == n) && !all.iter().flatten().any(|a| &**a == n))
            .unwrap_or_default()
            .into();
        let expr = match std::mem::replace(col, Expr::Star(None)) {
            Expr::Label { expr, .. } => *expr,
            other => other,
        };
        *col = expr.label(&fresh);
        used.push(fresh.clone());
        names.push(Some(fresh));
    }
    names
}
