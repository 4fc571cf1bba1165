//! Common table expressions: `WITH name AS (...)`, recursive ones too.

use std::sync::Arc;

use super::alias::{all_named, named_column};
use super::compound::{CompoundSelect, SetOp};
use super::expr::{Expr, Source};
use super::select::{Columns, FromItem, IntoFrom, Select};

/// The body of a CTE or of a derived table: a select, or a set operation
/// (recursive CTEs are one: anchor `UNION [ALL]` recursive part).
// One per CTE, behind an `Arc`: the size of a `Select` costs nothing here.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum CteBody {
    /// A plain select.
    Select(Select),
    /// `anchor UNION [ALL] recursive part`.
    Compound(CompoundSelect),
}

impl CteBody {
    /// The select whose columns name the result: the select itself, or
    /// the first select of a set operation.
    pub fn first_select(&self) -> &Select {
        match self {
            CteBody::Select(s) => s,
            CteBody::Compound(c) => &c.first,
        }
    }

    /// The names of the result columns, duplicates made unique (see
    /// [`dedup_labels`](super::alias::dedup_labels)).
    pub(crate) fn into_named(self) -> (Self, Vec<Option<Arc<str>>>) {
        match self {
            CteBody::Select(mut s) => {
                let names = super::alias::dedup_labels(&mut s.columns);
                (CteBody::Select(s), names)
            }
            CteBody::Compound(mut c) => {
                let names = super::alias::dedup_labels(&mut c.first.columns);
                (CteBody::Compound(c), names)
            }
        }
    }
}

/// A CTE's definition, shared by every reference to it.
#[derive(Debug, Clone, PartialEq)]
pub struct CteDef {
    /// Its name.
    pub name: Arc<str>,
    /// Its query.
    pub body: CteBody,
    /// Whether it is `WITH RECURSIVE`.
    pub recursive: bool,
    /// Its result column names.
    pub columns: Vec<Option<Arc<str>>>,
}

impl CteDef {
    /// The type of the result column `name`, from the body's (first) select.
    pub fn column_type(&self, name: &str) -> Option<std::borrow::Cow<'_, crate::SqlType>> {
        let select = self.body.first_select();
        let at = self
            .columns
            .iter()
            .position(|c| c.as_deref() == Some(name))?;
        select
            .columns
            .get(at)
            .and_then(crate::compiler::typing::type_of)
    }
}

/// A named CTE, SQLAlchemy's `.cte("name")`; use it in FROM and reach its
/// columns with `.c(name)`. The `WITH` clause is written by the statement
/// that uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cte {
    pub(crate) def: Arc<CteDef>,
    source: Arc<Source>,
}

impl Cte {
    pub(crate) fn new(select: Select, name: &str, recursive: bool) -> Self {
        Self::of_body(CteBody::Select(select), name, recursive)
    }

    pub(crate) fn of_body(body: CteBody, name: &str, recursive: bool) -> Self {
        let (body, columns) = body.into_named();
        Self::from_def(CteDef {
            name: name.into(),
            body,
            recursive,
            columns,
        })
    }

    fn from_def(def: CteDef) -> Self {
        let def = Arc::new(def);
        Cte {
            source: Arc::new(Source::Cte(def.clone())),
            def,
        }
    }

    /// The recursive CTE `anchor UNION ALL recursive`, where `recursive`
    /// refers to this CTE.
    pub fn union_all(&self, recursive: Select) -> Cte {
        self.with_recursive_part(recursive, SetOp::UnionAll)
    }

    /// The recursive CTE `anchor UNION recursive`.
    pub fn union(&self, recursive: Select) -> Cte {
        self.with_recursive_part(recursive, SetOp::Union)
    }

    fn with_recursive_part(&self, recursive: Select, op: SetOp) -> Cte {
        let compound = match &self.def.body {
            CteBody::Select(anchor) => CompoundSelect::new(anchor.clone(), op, recursive),
            CteBody::Compound(c) => c.clone().push(op, recursive),
        };
        Self::from_def(CteDef {
            name: self.def.name.clone(),
            body: CteBody::Compound(compound),
            recursive: true,
            columns: self.def.columns.clone(),
        })
    }

    /// The result column `name` of the CTE.
    pub fn c(&self, name: &str) -> Expr {
        named_column(&self.source, &self.def.columns, name)
    }

    /// Every named result column.
    pub fn all_columns(&self) -> Vec<Expr> {
        all_named(&self.source, &self.def.columns)
    }

    /// The CTE's name.
    pub fn name(&self) -> &str {
        &self.def.name
    }
}

impl IntoFrom for &Cte {
    fn into_from(self) -> FromItem {
        FromItem::Source(self.source.clone())
    }
}

impl IntoFrom for Cte {
    fn into_from(self) -> FromItem {
        FromItem::Source(self.source)
    }
}

impl Columns for &Cte {
    fn into_columns(self) -> Vec<Expr> {
        self.all_columns()
    }
}
