//! Table-level constraints and indexes: `UNIQUE`, `CHECK`, `CREATE INDEX`.

use crate::sql::expr::Expr;

/// A named or anonymous `UNIQUE (a, b)` constraint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UniqueConstraint {
    /// Constraint name, if given.
    pub name: Option<String>,
    /// Columns, in order.
    pub columns: Vec<String>,
}

impl UniqueConstraint {
    /// A unique constraint over `columns`.
    pub fn new<I, S>(columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        UniqueConstraint {
            name: None,
            columns: columns.into_iter().map(Into::into).collect(),
        }
    }

    /// Names the constraint.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// A `CHECK (expr)` constraint. Its expression is rendered with literals
/// inline, since DDL cannot carry bound parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckConstraint {
    /// Constraint name, if given.
    pub name: Option<String>,
    /// The condition.
    pub expr: Expr,
}

impl CheckConstraint {
    /// A check constraint on `expr`.
    pub fn new(expr: Expr) -> Self {
        CheckConstraint { name: None, expr }
    }

    /// Names the constraint.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// An index over one or more columns.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Index {
    /// Index name.
    pub name: String,
    /// Columns, in order.
    pub columns: Vec<String>,
    /// Whether it is a unique index.
    pub unique: bool,
}

impl Index {
    /// An index named `name` over `columns`.
    pub fn new<I, S>(name: impl Into<String>, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Index {
            name: name.into(),
            columns: columns.into_iter().map(Into::into).collect(),
            unique: false,
        }
    }

    /// Makes it a unique index.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
}
