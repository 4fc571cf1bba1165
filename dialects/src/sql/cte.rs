//! Common table expressions: `WITH name AS (...)`, recursive ones too.

use std::sync::Arc;

use super::alias::{all_named, named_column};
use super::compound::{CompoundSelect, SetOp};
use super::expr::{Expr, Source};
use super::select::{Columns, FromItem, IntoFrom, Select};

/// The body of a CTE: a select, or a compound select for recursive ones.
// One per CTE, behind an `Arc`: the size of a `Select` costs nothing here.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum CteBody {
    /// A plain select.
    Select(Select),
    /// `anchor UNION [ALL] recursive part`.
    Compound(CompoundSelect),
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
        let select = match &self.body {
            CteBody::Select(s) => s,
            CteBody::Compound(c) => &c.first,
        };
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
        let columns = select
            .columns
            .iter()
            .map(|c| c.output_name().map(Arc::from))
            .collect();
        Self::from_def(CteDef {
            name: name.into(),
            body: CteBody::Select(select),
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
