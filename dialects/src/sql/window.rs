//! Window specifications for `func(...).over(...)`.

use super::expr::{Expr, IntoExpr};
use super::select::{OrderBy, OrderTerms};

/// One bound of a window frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameBound {
    /// `UNBOUNDED PRECEDING`
    UnboundedPreceding,
    /// `n PRECEDING`
    Preceding(u64),
    /// `CURRENT ROW`
    CurrentRow,
    /// `n FOLLOWING`
    Following(u64),
    /// `UNBOUNDED FOLLOWING`
    UnboundedFollowing,
}

/// Whether the frame counts rows or value ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameUnits {
    /// `ROWS`
    Rows,
    /// `RANGE`
    Range,
}

/// A window frame: `ROWS BETWEEN start AND end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Rows or range.
    pub units: FrameUnits,
    /// Start bound.
    pub start: FrameBound,
    /// End bound.
    pub end: FrameBound,
}

/// A window: `PARTITION BY ... ORDER BY ... frame`.
///
/// ```
/// use dialects::{func, partition_by, Table, Column, SqlType, Dialect, Postgres, select};
/// let resume = Table::new("resume")
///     .column(Column::new("workload", SqlType::Text))
///     .column(Column::new("compensation", SqlType::Integer));
/// let avg = func::avg(resume.c("compensation")).over(partition_by([resume.c("workload")]));
/// let sql = select([avg]).compile(&Postgres).unwrap().sql;
/// assert_eq!(sql, "SELECT avg(resume.compensation) OVER (PARTITION BY resume.workload) FROM resume");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Window {
    /// `PARTITION BY` expressions.
    pub partition_by: Vec<Expr>,
    /// `ORDER BY` terms.
    pub order_by: Vec<OrderBy>,
    /// Frame clause.
    pub frame: Option<Frame>,
}

impl Window {
    /// An empty window: `OVER ()`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `PARTITION BY` expressions.
    pub fn partition_by<I, E>(mut self, exprs: I) -> Self
    where
        I: IntoIterator<Item = E>,
        E: IntoExpr,
    {
        self.partition_by
            .extend(exprs.into_iter().map(IntoExpr::into_expr));
        self
    }

    /// Adds `ORDER BY` terms (mixed, as in [`Select::order_by`](super::select::Select::order_by)).
    pub fn order_by(mut self, terms: impl OrderTerms) -> Self {
        self.order_by.extend(terms.into_terms());
        self
    }

    /// `ROWS BETWEEN start AND end`.
    pub fn rows(mut self, start: FrameBound, end: FrameBound) -> Self {
        self.frame = Some(Frame {
            units: FrameUnits::Rows,
            start,
            end,
        });
        self
    }

    /// `RANGE BETWEEN start AND end`.
    pub fn range(mut self, start: FrameBound, end: FrameBound) -> Self {
        self.frame = Some(Frame {
            units: FrameUnits::Range,
            start,
            end,
        });
        self
    }
}

/// A window partitioned by `exprs` (SQLAlchemy's `over(partition_by=...)`).
pub fn partition_by<I, E>(exprs: I) -> Window
where
    I: IntoIterator<Item = E>,
    E: IntoExpr,
{
    Window::new().partition_by(exprs)
}

/// A window ordered by `terms`.
pub fn order_by(terms: impl OrderTerms) -> Window {
    Window::new().order_by(terms)
}
