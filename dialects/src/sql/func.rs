//! Functions: a generic `func::call` plus typed helpers.
//!
//! `func::avg(x)` renders `avg(x)`; helpers whose spelling differs per
//! backend (`utc_now`, `length`) go through the dialect.

use std::sync::Arc;

use super::expr::{Expr, IntoExpr, SpecialFunction};
use crate::value::Value;

/// Any function by name: `func::call("upper", [x])`.
pub fn call<I, E>(name: &str, args: I) -> Expr
where
    I: IntoIterator<Item = E>,
    E: IntoExpr,
{
    Expr::Function {
        name: Arc::from(name),
        args: args.into_iter().map(IntoExpr::into_expr).collect(),
    }
}

fn one(name: &str, arg: impl IntoExpr) -> Expr {
    Expr::Function {
        name: Arc::from(name),
        args: vec![arg.into_expr()],
    }
}

/// `count(expr)`.
pub fn count(expr: impl IntoExpr) -> Expr {
    one("count", expr)
}

/// `count(*)`.
pub fn count_star() -> Expr {
    one("count", Expr::Star(None))
}

/// `sum(expr)`.
pub fn sum(expr: impl IntoExpr) -> Expr {
    one("sum", expr)
}

/// `avg(expr)`.
pub fn avg(expr: impl IntoExpr) -> Expr {
    one("avg", expr)
}

/// `min(expr)`.
pub fn min(expr: impl IntoExpr) -> Expr {
    one("min", expr)
}

/// `max(expr)`.
pub fn max(expr: impl IntoExpr) -> Expr {
    one("max", expr)
}

/// `lower(expr)`.
pub fn lower(expr: impl IntoExpr) -> Expr {
    one("lower", expr)
}

/// `upper(expr)`.
pub fn upper(expr: impl IntoExpr) -> Expr {
    one("upper", expr)
}

/// Character length: `length()` or `char_length()` per dialect.
pub fn length(expr: impl IntoExpr) -> Expr {
    Expr::Special {
        func: SpecialFunction::Length,
        args: vec![expr.into_expr()],
    }
}

/// `coalesce(a, b, ...)`.
pub fn coalesce<I, E>(args: I) -> Expr
where
    I: IntoIterator<Item = E>,
    E: IntoExpr,
{
    call("coalesce", args)
}

/// The current timestamp (`CURRENT_TIMESTAMP`).
pub fn now() -> Expr {
    Expr::Special {
        func: SpecialFunction::Now,
        args: Vec::new(),
    }
}

/// The current timestamp in UTC, spelled per dialect
/// (`TIMEZONE('utc', now())`, `CURRENT_TIMESTAMP`, `UTC_TIMESTAMP()`).
pub fn utc_now() -> Expr {
    Expr::Special {
        func: SpecialFunction::UtcNow,
        args: Vec::new(),
    }
}

/// `row_number()`, to be used with `.over(..)`.
pub fn row_number() -> Expr {
    call::<[Expr; 0], Expr>("row_number", [])
}

/// `rank()`, to be used with `.over(..)`.
pub fn rank() -> Expr {
    call::<[Expr; 0], Expr>("rank", [])
}

/// `dense_rank()`, to be used with `.over(..)`.
pub fn dense_rank() -> Expr {
    call::<[Expr; 0], Expr>("dense_rank", [])
}

/// `lag(expr, offset)`, to be used with `.over(..)`. The offset is bound
/// as a 32-bit integer, the type PostgreSQL's `lag(anyelement, integer)`
/// expects (a larger offset is clamped).
pub fn lag(expr: impl IntoExpr, offset: i64) -> Expr {
    call("lag", [expr.into_expr(), offset_value(offset)])
}

/// `lead(expr, offset)`, to be used with `.over(..)`; the offset is bound
/// as for [`lag`].
pub fn lead(expr: impl IntoExpr, offset: i64) -> Expr {
    call("lead", [expr.into_expr(), offset_value(offset)])
}

fn offset_value(offset: i64) -> Expr {
    let clamped = offset.clamp(i64::from(i32::MIN), i64::from(i32::MAX));
    Expr::Value(Value::Int(i32::try_from(clamped).unwrap_or_default()))
}
