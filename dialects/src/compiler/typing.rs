//! The static type of an expression, as far as the statement tells it:
//! columns carry their table's declared types, values their own, casts
//! their target, and operators and well-known functions combine their
//! operands'. The compiler reads it where SQL's meaning depends on types
//! (`/` on two integers, `+` on two strings, a PostgreSQL enum compared
//! with a bound text); anything it cannot tell is `None`, and the compiler
//! then writes the operator as given.

use std::borrow::Cow;

use crate::schema::types::SqlType;
use crate::sql::expr::{BinaryOp, Expr, SpecialFunction, UnaryOp};
use crate::value::Value;

/// The type of `e`, when known.
///
/// ```
/// use dialects::compiler::typing::type_of;
/// use dialects::{literal, Column, SqlType, Table};
/// let t = Table::new("t").column(Column::new("n", SqlType::Integer));
/// assert_eq!(type_of(&t.c("n")).as_deref(), Some(&SqlType::Integer));
/// assert_eq!(type_of(&(t.c("n") + literal(1_i64))).as_deref(), Some(&SqlType::BigInteger));
/// assert_eq!(type_of(&literal("x")).as_deref(), Some(&SqlType::Text));
/// ```
pub fn type_of(e: &Expr) -> Option<Cow<'_, SqlType>> {
    let owned = |t: SqlType| Some(Cow::Owned(t));
    match e {
        Expr::Column(c) => c.source.as_ref()?.column_type(&c.name),
        Expr::Value(v) => value_type(v).map(Cow::Owned),
        Expr::Cast { ty, .. } => Some(Cow::Borrowed(ty)),
        Expr::Label { expr, .. } => type_of(expr),
        Expr::Binary { op, left, right } => binary_type(*op, left, right),
        Expr::Unary { op, expr } => match op {
            UnaryOp::Not => owned(SqlType::Boolean),
            UnaryOp::Neg | UnaryOp::Distinct => type_of(expr),
        },
        Expr::IsNull { .. }
        | Expr::InList { .. }
        | Expr::InSelect { .. }
        | Expr::Between { .. }
        | Expr::Exists { .. }
        | Expr::Like { .. } => owned(SqlType::Boolean),
        Expr::Function { name, args } => function_type(name, args),
        Expr::Special { func, args } => match func {
            SpecialFunction::Length => owned(SqlType::Integer),
            SpecialFunction::Now | SpecialFunction::UtcNow => {
                owned(SqlType::DateTime { timezone: false })
            }
            SpecialFunction::Concat | SpecialFunction::AggregateStrings => owned(SqlType::Text),
            SpecialFunction::Extract(_) => owned(SqlType::Integer),
            SpecialFunction::Coalesce => args.iter().find_map(type_of),
        },
        Expr::Case { whens, else_, .. } => whens
            .iter()
            .find_map(|(_, then)| type_of(then))
            .or_else(|| else_.as_deref().and_then(type_of)),
        Expr::Subquery(select) => select.columns.first().and_then(type_of),
        Expr::Over { func, .. } => type_of(func),
        _ => None,
    }
}

/// Whether `e` is known to be of an integer type.
pub fn is_integer(e: &Expr) -> bool {
    type_of(e).is_some_and(|t| t.is_integer())
}

/// Whether `e` is known to be text (a string, text or enum type).
pub fn is_text(e: &Expr) -> bool {
    type_of(e).is_some_and(|t| {
        matches!(
            *t,
            SqlType::String(_) | SqlType::Text | SqlType::Enum { .. }
        )
    })
}

fn value_type(v: &Value) -> Option<SqlType> {
    Some(match v {
        Value::Bool(_) => SqlType::Boolean,
        Value::SmallInt(_) => SqlType::SmallInteger,
        Value::Int(_) => SqlType::Integer,
        Value::BigInt(_) => SqlType::BigInteger,
        Value::Float(_) => SqlType::Float,
        Value::Double(_) => SqlType::Double,
        #[cfg(feature = "decimal")]
        Value::Decimal(_) => SqlType::Numeric(38, 10),
        Value::String(_) => SqlType::Text,
        Value::Bytes(_) => SqlType::Binary(None),
        #[cfg(feature = "chrono")]
        Value::Date(_) => SqlType::Date,
        #[cfg(feature = "chrono")]
        Value::Time(_) => SqlType::Time,
        #[cfg(feature = "chrono")]
        Value::DateTime(_) => SqlType::DateTime { timezone: false },
        #[cfg(feature = "chrono")]
        Value::DateTimeUtc(_) => SqlType::DateTime { timezone: true },
        #[cfg(feature = "time")]
        Value::TimeDate(_) => SqlType::Date,
        #[cfg(feature = "time")]
        Value::TimeTime(_) => SqlType::Time,
        #[cfg(feature = "time")]
        Value::TimePrimitiveDateTime(_) => SqlType::DateTime { timezone: false },
        #[cfg(feature = "time")]
        Value::TimeOffsetDateTime(_) => SqlType::DateTime { timezone: true },
        #[cfg(feature = "uuid")]
        Value::Uuid(_) => SqlType::Uuid,
        #[cfg(feature = "json")]
        Value::Json(_) => SqlType::Json,
        _ => return None,
    })
}

/// The wider of two integer types.
fn wider_integer(a: &SqlType, b: &SqlType) -> SqlType {
    let rank = |t: &SqlType| match t {
        SqlType::SmallInteger => 0,
        SqlType::Integer => 1,
        _ => 2,
    };
    match rank(a).max(rank(b)) {
        0 => SqlType::SmallInteger,
        1 => SqlType::Integer,
        _ => SqlType::BigInteger,
    }
}

/// The type of arithmetic on two numbers: integers stay integers, a float
/// makes it a double, anything else exact.
fn numeric_type(a: &SqlType, b: &SqlType) -> Option<SqlType> {
    let float = |t: &SqlType| matches!(t, SqlType::Float | SqlType::Double);
    let number = |t: &SqlType| t.is_integer() || float(t) || matches!(t, SqlType::Numeric(..));
    if !(number(a) && number(b)) {
        return None;
    }
    Some(if a.is_integer() && b.is_integer() {
        wider_integer(a, b)
    } else if float(a) || float(b) {
        SqlType::Double
    } else {
        SqlType::Numeric(38, 10)
    })
}

fn binary_type<'a>(op: BinaryOp, left: &'a Expr, right: &'a Expr) -> Option<Cow<'a, SqlType>> {
    use BinaryOp as B;
    match op {
        B::Concat => Some(Cow::Owned(SqlType::Text)),
        B::Add | B::Sub | B::Mul | B::Mod | B::Div | B::FloorDiv => {
            let (l, r) = (type_of(left)?, type_of(right)?);
            if op == B::Add && is_text_type(&l) && is_text_type(&r) {
                return Some(Cow::Owned(SqlType::Text));
            }
            let t = numeric_type(&l, &r)?;
            Some(Cow::Owned(match op {
                // `/` is true division: two integers give an exact quotient.
                B::Div if t.is_integer() => SqlType::Numeric(38, 10),
                _ => t,
            }))
        }
        _ => Some(Cow::Owned(SqlType::Boolean)),
    }
}

fn is_text_type(t: &SqlType) -> bool {
    matches!(t, SqlType::String(_) | SqlType::Text | SqlType::Enum { .. })
}

fn function_type<'a>(name: &str, args: &'a [Expr]) -> Option<Cow<'a, SqlType>> {
    let owned = |t: SqlType| Some(Cow::Owned(t));
    let first = || args.first().and_then(type_of);
    match name.to_ascii_lowercase().as_str() {
        "count" | "row_number" | "rank" | "dense_rank" | "ntile" => owned(SqlType::BigInteger),
        "lower" | "upper" | "trim" | "ltrim" | "rtrim" | "replace" | "substr" | "substring" => {
            owned(SqlType::Text)
        }
        "avg" => owned(SqlType::Numeric(38, 10)),
        "sum" => match first()?.into_owned() {
            t if t.is_integer() => owned(SqlType::BigInteger),
            t => owned(t),
        },
        "min" | "max" | "abs" | "coalesce" | "lag" | "lead" | "first_value" | "last_value"
        | "nullif" => first(),
        _ => None,
    }
}
