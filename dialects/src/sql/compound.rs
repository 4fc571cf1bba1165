//! Set operations: `UNION`, `UNION ALL`, `INTERSECT`, `EXCEPT`.

use super::select::{OrderBy, OrderTerms, Select};

/// A set operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
///
/// ```
/// use dialects::{select, union, Column, Postgres, SqlType, Table};
/// let a = Table::new("a").column(Column::new("x", SqlType::Integer));
/// let b = Table::new("b").column(Column::new("x", SqlType::Integer));
/// let both = select((a.c("x"),)).union(select((b.c("x"),))).order_by(a.c("x"));
/// assert_eq!(both.compile(&Postgres).unwrap().sql,
///     "SELECT a.x FROM a UNION SELECT b.x FROM b ORDER BY x");
/// let all = union([select((a.c("x"),)), select((b.c("x"),)), select((a.c("x"),))]);
/// assert_eq!(all.compile(&Postgres).unwrap().sql,
///     "SELECT a.x FROM a UNION SELECT b.x FROM b UNION SELECT a.x FROM a");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CompoundSelect {
    pub(crate) first: Box<Select>,
    pub(crate) rest: Vec<(SetOp, Select)>,
    pub(crate) order_by: Vec<OrderBy>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    /// Set when built from no select at all (reported when compiling).
    pub(crate) empty: bool,
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
            empty: false,
        }
    }

    /// Appends `op select`.
    pub fn push(mut self, op: SetOp, select: Select) -> Self {
        self.rest.push((op, select));
        self
    }

    /// `self UNION other`.
    pub fn union(self, other: Select) -> Self {
        self.push(SetOp::Union, other)
    }

    /// `self UNION ALL other`.
    pub fn union_all(self, other: Select) -> Self {
        self.push(SetOp::UnionAll, other)
    }

    /// `self INTERSECT other`.
    pub fn intersect(self, other: Select) -> Self {
        self.push(SetOp::Intersect, other)
    }

    /// `self EXCEPT other`.
    pub fn except(self, other: Select) -> Self {
        self.push(SetOp::Except, other)
    }

    /// Orders the combined result (by result column names).
    pub fn order_by(mut self, terms: impl OrderTerms) -> Self {
        self.order_by.extend(terms.into_terms());
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

    /// The set operation as a named subquery for FROM:
    /// `(SELECT ... UNION SELECT ...) AS name`, its columns named by the
    /// first select.
    ///
    /// ```
    /// use dialects::{func, select, star, Column, Postgres, SqlType, Table};
    /// let a = Table::new("a").column(Column::new("x", SqlType::Integer));
    /// let b = Table::new("b").column(Column::new("x", SqlType::Integer));
    /// let u = select((a.c("x"),)).union_all(select((b.c("x"),))).subquery("u");
    /// let stmt = select((func::count(star()),)).select_from(&u).where_(u.c("x").gt(1));
    /// assert_eq!(stmt.compile(&Postgres).unwrap().sql,
    ///     "SELECT count(*) FROM (SELECT a.x FROM a UNION ALL SELECT b.x FROM b) AS u WHERE u.x > $1");
    /// ```
    pub fn subquery(self, name: &str) -> super::alias::Subquery {
        super::alias::Subquery::of_body(super::cte::CteBody::Compound(self), name, false)
    }

    /// The set operation as a named CTE: `WITH name AS (SELECT ... UNION ...)`.
    pub fn cte(self, name: &str) -> super::cte::Cte {
        super::cte::Cte::of_body(super::cte::CteBody::Compound(self), name, false)
    }
}

fn combine(op: SetOp, selects: impl IntoIterator<Item = Select>) -> CompoundSelect {
    let mut it = selects.into_iter();
    let Some(first) = it.next() else {
        return CompoundSelect {
            empty: true,
            ..CompoundSelect::single(Select::default())
        };
    };
    it.fold(CompoundSelect::single(first), |c, s| c.push(op, s))
}

impl CompoundSelect {
    /// One select alone (what a set operation of one select is).
    pub(crate) fn single(first: Select) -> Self {
        CompoundSelect {
            first: Box::new(first),
            rest: Vec::new(),
            order_by: Vec::new(),
            limit: None,
            offset: None,
            empty: false,
        }
    }
}

/// `a UNION b UNION ...`. One select is just that select; none fails to
/// compile with [`CompileError::Invalid`](crate::CompileError::Invalid).
pub fn union(selects: impl IntoIterator<Item = Select>) -> CompoundSelect {
    combine(SetOp::Union, selects)
}

/// `a UNION ALL b ...`, as [`union`].
pub fn union_all(selects: impl IntoIterator<Item = Select>) -> CompoundSelect {
    combine(SetOp::UnionAll, selects)
}

/// `a INTERSECT b ...`, as [`union`].
pub fn intersect(selects: impl IntoIterator<Item = Select>) -> CompoundSelect {
    combine(SetOp::Intersect, selects)
}

/// `a EXCEPT b ...`, as [`union`].
pub fn except(selects: impl IntoIterator<Item = Select>) -> CompoundSelect {
    combine(SetOp::Except, selects)
}
