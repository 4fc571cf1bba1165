//! Set operations: `UNION`, `UNION ALL`, `INTERSECT`, `EXCEPT`.

use super::select::{OrderBy, Select};

/// A set operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    /// `UNION`
    Union,
    /// `UNION ALL`
    UnionAll,
    /// `INTERSECT`
    Intersect,
    /// `EXCEPT`
    Except,
}

impl SetOp {
    /// SQL keywords.
    pub fn as_sql(self) -> &'static str {
        match self {
            SetOp::Union => "UNION",
            SetOp::UnionAll => "UNION ALL",
            SetOp::Intersect => "INTERSECT",
            SetOp::Except => "EXCEPT",
        }
    }
}

/// Selects combined with set operators, with an optional ordering and limit.
#[derive(Debug, Clone, PartialEq)]
pub struct CompoundSelect {
    pub(crate) first: Box<Select>,
    pub(crate) rest: Vec<(SetOp, Select)>,
    pub(crate) order_by: Vec<OrderBy>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
}

impl CompoundSelect {
    /// `first op second`.
    pub fn new(first: Select, op: SetOp, second: Select) -> Self {
        CompoundSelect {
            first: Box::new(first),
            rest: vec![(op, second)],
            order_by: Vec::new(),
            limit: None,
            offset: None,
        }
    }

    /// Appends `op select`.
    pub fn push(mut self, op: SetOp, select: Select) -> Self {
        self.rest.push((op, select));
        self
    }

    /// Orders the combined result.
    pub fn order_by<I, O>(mut self, terms: I) -> Self
    where
        I: IntoIterator<Item = O>,
        O: Into<OrderBy>,
    {
        self.order_by.extend(terms.into_iter().map(Into::into));
        self
    }

    /// Limits the combined result.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skips rows of the combined result.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }
}

fn combine(op: SetOp, selects: impl IntoIterator<Item = Select>) -> Option<CompoundSelect> {
    let mut it = selects.into_iter();
    let first = it.next()?;
    let second = it.next()?;
    Some(it.fold(CompoundSelect::new(first, op, second), |c, s| c.push(op, s)))
}

/// `a UNION b UNION ...`; `None` with fewer than two selects.
pub fn union(selects: impl IntoIterator<Item = Select>) -> Option<CompoundSelect> {
    combine(SetOp::Union, selects)
}

/// `a UNION ALL b ...`; `None` with fewer than two selects.
pub fn union_all(selects: impl IntoIterator<Item = Select>) -> Option<CompoundSelect> {
    combine(SetOp::UnionAll, selects)
}

/// `a INTERSECT b ...`; `None` with fewer than two selects.
pub fn intersect(selects: impl IntoIterator<Item = Select>) -> Option<CompoundSelect> {
    combine(SetOp::Intersect, selects)
}

/// `a EXCEPT b ...`; `None` with fewer than two selects.
pub fn except(selects: impl IntoIterator<Item = Select>) -> Option<CompoundSelect> {
    combine(SetOp::Except, selects)
}
