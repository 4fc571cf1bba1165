//! Functions: a generic `func::call` plus typed helpers.
//!
//! `func::avg(x)` renders `avg(x)`; helpers whose spelling differs per
//! backend (`utc_now`, `length`, `concat`, `aggregate_strings`, `extract`)
//! go through the dialect.

use std::sync::Arc;

use super::expr::{DateField, Expr, IntoExpr, SpecialFunction};
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

/// `coalesce(a, b, ...)`: the first argument that is not NULL. The
/// arguments are an array, a vector or a tuple of mixed expressions and
/// values: `coalesce((t.c("nick"), t.c("name"), "anonymous"))`. With none
/// it fails to compile.
pub fn coalesce(args: impl Args) -> Expr {
    Expr::Special {
        func: SpecialFunction::Coalesce,
        args: args.into_args(),
    }
}

/// String concatenation of every argument (SQLAlchemy's `func.concat`):
/// `a || b || c` on PostgreSQL and SQLite, `concat(a, b, c)` on MySQL.
/// NULL in any argument makes the result NULL on every backend.
pub fn concat(args: impl Args) -> Expr {
    Expr::Special {
        func: SpecialFunction::Concat,
        args: args.into_args(),
    }
}

/// The strings of a group joined by `separator` (SQLAlchemy's
/// `func.aggregate_strings`): `string_agg(x, sep)` on PostgreSQL,
/// `group_concat(x, sep)` on SQLite, `group_concat(x SEPARATOR sep)` on
/// MySQL. The order of the pieces is the backend's.
pub fn aggregate_strings(expr: impl IntoExpr, separator: &str) -> Expr {
    Expr::Special {
        func: SpecialFunction::AggregateStrings,
        args: vec![expr.into_expr(), Expr::Value(Value::from(separator))],
    }
}

/// A field of a date or timestamp as a number (SQLAlchemy's `extract`):
/// `EXTRACT(YEAR FROM x)`, or `CAST(strftime('%Y', x) AS INTEGER)` on
/// SQLite.
pub fn extract(field: DateField, expr: impl IntoExpr) -> Expr {
    Expr::Special {
        func: SpecialFunction::Extract(field),
        args: vec![expr.into_expr()],
    }
}

/// Function arguments of mixed kinds: an array or vector of anything that
/// converts to an expression, or a tuple of up to twelve.
pub trait Args {
    /// The arguments, in order.
    fn into_args(self) -> Vec<Expr>;
}

impl<E: IntoExpr, const N: usize> Args for [E; N] {
    fn into_args(self) -> Vec<Expr> {
        self.into_iter().map(IntoExpr::into_expr).collect()
    }
}

impl<E: IntoExpr> Args for Vec<E> {
    fn into_args(self) -> Vec<Expr> {
        self.into_iter().map(IntoExpr::into_expr).collect()
    }
}

macro_rules! tuple_args {
    ($($name:ident),+) => {
        impl<$($name: IntoExpr),+> Args for ($($name,)+) {
            #[allow(non_snake_case)]
            fn into_args(self) -> Vec<Expr> {
                let ($($name,)+) = self;
                vec![$($name.into_expr()),+]
            }
        }
    };
}

tuple_args!(A);
tuple_args!(A, B);
tuple_args!(A, B, C);
tuple_args!(A, B, C, D);
tuple_args!(A, B, C, D, E);
tuple_args!(A, B, C, D, E, F);
tuple_args!(A, B, C, D, E, F, G);
tuple_args!(A, B, C, D, E, F, G, H);
tuple_args!(A, B, C, D, E, F, G, H, I);
tuple_args!(A, B, C, D, E, F, G, H, I, J);
tuple_args!(A, B, C, D, E, F, G, H, I, J, K);
tuple_args!(A, B, C, D, E, F, G, H, I, J, K, L);

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

/// `lag(expr)`: the value of `expr` one row back in the window (NULL
/// before the first row), to be used with `.over(..)`.
pub fn lag(expr: impl IntoExpr) -> Expr {
    call("lag", [expr.into_expr()])
}

/// `lag(expr, offset)`: `offset` rows back. The offset is bound as a
/// 32-bit integer, the type PostgreSQL's `lag(anyelement, integer)`
/// expects (a larger offset is clamped).
pub fn lag_by(expr: impl IntoExpr, offset: i64) -> Expr {
    call("lag", [expr.into_expr(), offset_value(offset)])
}

/// `lag(expr, offset, default)`: `default` where no row is that far back
/// (MariaDB has no such form: compiling it there is
/// [`CompileError::Unsupported`](crate::CompileError::Unsupported)).
pub fn lag_or(expr: impl IntoExpr, offset: i64, default: impl IntoExpr) -> Expr {
    call(
        "lag",
        [expr.into_expr(), offset_value(offset), default.into_expr()],
    )
}

/// `lead(expr)`: the value of `expr` one row ahead in the window (NULL
/// after the last row), to be used with `.over(..)`.
pub fn lead(expr: impl IntoExpr) -> Expr {
    call("lead", [expr.into_expr()])
}

/// `lead(expr, offset)`: `offset` rows ahead, bound as for [`lag_by`].
pub fn lead_by(expr: impl IntoExpr, offset: i64) -> Expr {
    call("lead", [expr.into_expr(), offset_value(offset)])
}

/// `lead(expr, offset, default)`: `default` where no row is that far ahead
/// (not on MariaDB, as for [`lag_or`]).
pub fn lead_or(expr: impl IntoExpr, offset: i64, default: impl IntoExpr) -> Expr {
    call(
        "lead",
        [expr.into_expr(), offset_value(offset), default.into_expr()],
    )
}

fn offset_value(offset: i64) -> Expr {
    let clamped = offset.clamp(i64::from(i32::MIN), i64::from(i32::MAX));
    Expr::Value(Value::Int(i32::try_from(clamped).unwrap_or_default()))
}
