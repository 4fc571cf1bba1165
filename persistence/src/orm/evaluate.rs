//! Criteria and SET expressions evaluated in memory, against the identity
//! map's snapshots (SQLAlchemy's `orm/evaluator.py`), for
//! `synchronize_session = Evaluate`.
//!
//! [`compile`] turns a Core expression over one mapper's columns into a
//! [`Node`] or says why it cannot be evaluated; [`Node::truth`] and
//! [`Node::value`] run it on one object's values with SQL's three-valued
//! logic (a comparison with NULL is unknown, and unknown matches no row).
//!
//! Evaluated: the mapper's own columns, bound values, `= <> < <= > >=`,
//! `AND OR NOT`, `IS [NOT] NULL`, `[NOT] IN (values)`, `BETWEEN`, and
//! `+ - *` on numbers and `||` on text in SET values. Everything else
//! (functions, casts, subqueries, other tables' columns, `LIKE`,
//! division, whose result differs per backend) is not. Literals compared
//! with a column are first brought to the column's type, as the database
//! compares them. Text is compared by code point; a backend whose
//! collation folds case (MySQL's and MariaDB's defaults) or sorts by locale
//! may disagree, so [`Text::Strict`] refuses text comparisons (what
//! `SynchronizeSession::Auto` uses, falling back to fetching the keys).

use std::cmp::Ordering;

use dialects::sql::expr::{BinaryOp, ColumnRef, Source, UnaryOp};
use dialects::{CompileError, Expr, Value};
#[cfg(feature = "decimal")]
use rust_decimal::Decimal;

use super::canon::Canon;
use super::identity::SnapshotRef;
use super::mapper::MapperInfo;

/// Whether text comparisons may be evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    /// Compare text by code point (explicit `Evaluate`).
    ByCodePoint,
    /// Refuse: the database's collation may disagree (`Auto`).
    Strict,
}

/// Why an expression cannot be evaluated in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unevaluable {
    /// The column or construct concerned.
    pub what: String,
    /// Why.
    pub reason: &'static str,
}

fn no(what: impl Into<String>, reason: &'static str) -> Unevaluable {
    Unevaluable {
        what: what.into(),
        reason,
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Arithmetic operators evaluated alike on every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
}

/// An expression ready to evaluate on one object's values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// The mapped column at this position.
    Col(usize),
    /// A value.
    Lit(Value),
    Cmp(Cmp, Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    IsNull(Box<Node>, bool),
    In(Box<Node>, Vec<Value>, bool),
    Between(Box<Node>, Box<Node>, Box<Node>, bool),
    Arith(Arith, Box<Node>, Box<Node>),
    Concat(Box<Node>, Box<Node>),
    Neg(Box<Node>),
}

/// The position of the mapped column `c` refers to, when it is one of
/// `info`'s (a column of its table, or a bare name).
pub(crate) fn own_column(info: &MapperInfo, c: &ColumnRef) -> Option<Result<usize, String>> {
    let ours = match c.source.as_deref() {
        None => true,
        Some(Source::Table { name, schema, .. }) => {
            **name == *info.table.name() && schema.as_deref() == info.table.schema_name()
        }
        Some(_) => false,
    };
    if !ours {
        return None;
    }
    Some(info.position(&c.name).ok_or_else(|| c.name.to_string()))
}

/// The column name of an unknown-column expression on `info`'s table
/// (what `table.c("misspelled")` builds).
pub(crate) fn unknown_column(info: &MapperInfo, e: &Expr) -> Option<String> {
    match e {
        Expr::Invalid(err) => match &**err {
            CompileError::UnknownColumn { table, column } if *table == info.table.name() => {
                Some(column.clone())
            }
            _ => None,
        },
        Expr::Column(c) => match own_column(info, c) {
            Some(Err(name)) if info.table.get_column(&name).is_none() => Some(name),
            _ => None,
        },
        _ => None,
    }
}

/// Visits `e` and its sub-expressions (not into subqueries).
pub(crate) fn walk(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Binary { left, right, .. } => {
            walk(left, f);
            walk(right, f);
        }
        Expr::Unary { expr, .. }
        | Expr::IsNull { expr, .. }
        | Expr::Cast { expr, .. }
        | Expr::Label { expr, .. }
        | Expr::InSelect { expr, .. } => walk(expr, f),
        Expr::InList { expr, list, .. } => {
            walk(expr, f);
            list.iter().for_each(|x| walk(x, f));
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            walk(expr, f);
            walk(low, f);
            walk(high, f);
        }
        Expr::Function { args, .. } | Expr::Special { args, .. } => {
            args.iter().for_each(|x| walk(x, f));
        }
        Expr::Case {
            operand,
            whens,
            else_,
        } => {
            if let Some(o) = operand {
                walk(o, f);
            }
            for (w, t) in whens {
                walk(w, f);
                walk(t, f);
            }
            if let Some(e) = else_ {
                walk(e, f);
            }
        }
        Expr::Tuple(items) => items.iter().for_each(|x| walk(x, f)),
        _ => {}
    }
}

/// Compiles `e`, an expression over `info`'s columns, for evaluation.
pub(crate) fn compile(info: &MapperInfo, e: &Expr, text: Text) -> Result<Node, Unevaluable> {
    let node = compile_node(info, e)?;
    if text == Text::Strict {
        refuse_text(info, &node)?;
    }
    Ok(node)
}

fn compile_node(info: &MapperInfo, e: &Expr) -> Result<Node, Unevaluable> {
    let boxed = |e: &Expr| compile_node(info, e).map(Box::new);
    Ok(match e {
        Expr::Column(c) => match own_column(info, c) {
            Some(Ok(i)) => Node::Col(i),
            Some(Err(name)) => return Err(no(name, "the column is not mapped")),
            None => {
                return Err(no(
                    format!(
                        "{}.{}",
                        c.source.as_deref().map_or("", Source::qualifier),
                        c.name
                    ),
                    "a column of another table",
                ))
            }
        },
        Expr::Value(v) => Node::Lit(v.clone()),
        Expr::Label { expr, .. } => compile_node(info, expr)?,
        Expr::Binary { op, left, right } => {
            let (l, r) = (boxed(left)?, boxed(right)?);
            let cmp = |c, l: Box<Node>, r: Box<Node>| {
                let (l, r) = typed(info, *l, *r)?;
                Ok::<_, Unevaluable>(Node::Cmp(c, Box::new(l), Box::new(r)))
            };
            match op {
                BinaryOp::Eq => cmp(Cmp::Eq, l, r)?,
                BinaryOp::Ne => cmp(Cmp::Ne, l, r)?,
                BinaryOp::Lt => cmp(Cmp::Lt, l, r)?,
                BinaryOp::Le => cmp(Cmp::Le, l, r)?,
                BinaryOp::Gt => cmp(Cmp::Gt, l, r)?,
                BinaryOp::Ge => cmp(Cmp::Ge, l, r)?,
                BinaryOp::And => Node::And(l, r),
                BinaryOp::Or => Node::Or(l, r),
                BinaryOp::Add => Node::Arith(Arith::Add, l, r),
                BinaryOp::Sub => Node::Arith(Arith::Sub, l, r),
                BinaryOp::Mul => Node::Arith(Arith::Mul, l, r),
                BinaryOp::Concat => Node::Concat(l, r),
                other => {
                    return Err(no(
                        other.as_sql(),
                        "the operator's result depends on the backend",
                    ))
                }
            }
        }
        Expr::Unary {
            op: UnaryOp::Not,
            expr,
        } => Node::Not(boxed(expr)?),
        Expr::Unary {
            op: UnaryOp::Neg,
            expr,
        } => Node::Neg(boxed(expr)?),
        Expr::IsNull { expr, negated } => Node::IsNull(boxed(expr)?, *negated),
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let target = compile_node(info, expr)?;
            let mut values = Vec::with_capacity(list.len());
            for item in list {
                match compile_node(info, item)? {
                    Node::Lit(v) => values.push(coerce(info, &target, v)?),
                    _ => return Err(no("IN", "only a list of values is evaluated")),
                }
            }
            Node::In(Box::new(target), values, *negated)
        }
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => {
            let target = compile_node(info, expr)?;
            let (_, low) = typed(info, target.clone(), compile_node(info, low)?)?;
            let (_, high) = typed(info, target.clone(), compile_node(info, high)?)?;
            Node::Between(Box::new(target), Box::new(low), Box::new(high), *negated)
        }
        Expr::Invalid(err) => return Err(no(err.to_string(), "the expression is invalid")),
        other => return Err(no(construct(other), "not evaluated in memory")),
    })
}

/// A short name for an expression kind, for messages.
fn construct(e: &Expr) -> String {
    match e {
        Expr::Function { name, .. } => format!("{name}()"),
        Expr::Special { func, .. } => format!("{func:?}"),
        Expr::Cast { .. } => "CAST".into(),
        Expr::Case { .. } => "CASE".into(),
        Expr::Subquery(_) | Expr::InSelect { .. } | Expr::Exists { .. } => "a subquery".into(),
        Expr::Text(_) => "SQL text".into(),
        Expr::Tuple(_) => "a tuple".into(),
        Expr::Over { .. } => "a window function".into(),
        _ => "the expression".into(),
    }
}

/// A comparison's operands, a literal brought to the type of the column
/// it is compared with.
fn typed(info: &MapperInfo, l: Node, r: Node) -> Result<(Node, Node), Unevaluable> {
    Ok(match (l, r) {
        (Node::Col(i), Node::Lit(v)) => {
            let v = coerce(info, &Node::Col(i), v)?;
            (Node::Col(i), Node::Lit(v))
        }
        (Node::Lit(v), Node::Col(i)) => {
            let v = coerce(info, &Node::Col(i), v)?;
            (Node::Lit(v), Node::Col(i))
        }
        pair => pair,
    })
}

/// `v` in the type of `target` when it is a column.
fn coerce(info: &MapperInfo, target: &Node, mut v: Value) -> Result<Value, Unevaluable> {
    if let Node::Col(i) = target {
        if let Some(c) = info.canon.get(*i) {
            c.apply(&mut v).map_err(|_| {
                no(
                    info.columns[*i].clone(),
                    "the value does not fit the column's type",
                )
            })?;
        }
    }
    Ok(v)
}

/// Refuses comparisons of text (the collation decides those).
fn refuse_text(info: &MapperInfo, node: &Node) -> Result<(), Unevaluable> {
    let is_text = |n: &Node| match n {
        Node::Col(i) => info.canon.get(*i) == Some(&Canon::Text),
        Node::Lit(v) => matches!(v, Value::String(_)),
        Node::Concat(..) => true,
        _ => false,
    };
    let text_err = |n: &Node| {
        let what = match n {
            Node::Col(i) => info.columns[*i].clone(),
            _ => "text".into(),
        };
        no(what, "text compares by the database's collation")
    };
    match node {
        Node::Cmp(_, l, r) => {
            for side in [l, r] {
                if is_text(side) {
                    return Err(text_err(side));
                }
            }
            refuse_text(info, l)?;
            refuse_text(info, r)
        }
        Node::In(t, values, _) => {
            if is_text(t) || values.iter().any(|v| matches!(v, Value::String(_))) {
                return Err(text_err(t));
            }
            refuse_text(info, t)
        }
        Node::Between(t, lo, hi, _) => {
            for side in [t, lo, hi] {
                if is_text(side) {
                    return Err(text_err(side));
                }
            }
            Ok(())
        }
        Node::And(l, r) | Node::Or(l, r) | Node::Arith(_, l, r) | Node::Concat(l, r) => {
            refuse_text(info, l)?;
            refuse_text(info, r)
        }
        Node::Not(x) | Node::Neg(x) | Node::IsNull(x, _) => refuse_text(info, x),
        Node::Col(_) | Node::Lit(_) => Ok(()),
    }
}

impl Node {
    /// The node's truth on one object: `None` is SQL's unknown.
    pub(crate) fn truth(&self, row: SnapshotRef<'_>) -> Option<bool> {
        match self {
            Node::And(l, r) => match (l.truth(row), r.truth(row)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Node::Or(l, r) => match (l.truth(row), r.truth(row)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Node::Not(x) => x.truth(row).map(|b| !b),
            Node::IsNull(x, negated) => {
                let null = x.value(row).ok()?.is_null();
                Some(null != *negated)
            }
            Node::Cmp(op, l, r) => {
                let (a, b) = (l.value(row).ok()?, r.value(row).ok()?);
                let o = order(&a, &b)?;
                Some(match op {
                    Cmp::Eq => o == Ordering::Equal,
                    Cmp::Ne => o != Ordering::Equal,
                    Cmp::Lt => o == Ordering::Less,
                    Cmp::Le => o != Ordering::Greater,
                    Cmp::Gt => o == Ordering::Greater,
                    Cmp::Ge => o != Ordering::Less,
                })
            }
            Node::In(x, values, negated) => {
                let v = x.value(row).ok()?;
                if v.is_null() {
                    return None;
                }
                let mut unknown = false;
                for c in values {
                    match order(&v, c) {
                        Some(Ordering::Equal) => return Some(!*negated),
                        None => unknown = true,
                        _ => {}
                    }
                }
                if unknown {
                    None
                } else {
                    Some(*negated)
                }
            }
            Node::Between(x, lo, hi, negated) => {
                let (v, lo, hi) = (x.value(row).ok()?, lo.value(row).ok()?, hi.value(row).ok()?);
                let inside =
                    order(&v, &lo)? != Ordering::Less && order(&v, &hi)? != Ordering::Greater;
                Some(inside != *negated)
            }
            Node::Lit(Value::Bool(b)) => Some(*b),
            Node::Lit(Value::Null) => None,
            Node::Col(_) => match self.value(row).ok()? {
                Value::Bool(b) => Some(b),
                _ => None,
            },
            _ => None,
        }
    }

    /// The node's value on one object; `Err` when it cannot be computed
    /// in memory (an overflow, operands of other types).
    pub(crate) fn value(&self, row: SnapshotRef<'_>) -> Result<Value, ()> {
        Ok(match self {
            Node::Col(i) => row.value(*i),
            Node::Lit(v) => v.clone(),
            Node::Neg(x) => match x.value(row)? {
                Value::Null => Value::Null,
                v => arith(Arith::Sub, &Value::BigInt(0), &v)?,
            },
            Node::Arith(op, l, r) => {
                let (a, b) = (l.value(row)?, r.value(row)?);
                if a.is_null() || b.is_null() {
                    Value::Null
                } else {
                    arith(*op, &a, &b)?
                }
            }
            Node::Concat(l, r) => match (l.value(row)?, r.value(row)?) {
                (Value::Null, _) | (_, Value::Null) => Value::Null,
                (Value::String(a), Value::String(b)) => Value::String(a + &b),
                _ => return Err(()),
            },
            other => match other.truth(row) {
                Some(b) => Value::Bool(b),
                None => Value::Null,
            },
        })
    }
}

/// A number as a wide integer, when it is an integer.
fn int(v: &Value) -> Option<i64> {
    match v {
        Value::SmallInt(n) => Some(i64::from(*n)),
        Value::Int(n) => Some(i64::from(*n)),
        Value::BigInt(n) => Some(*n),
        _ => None,
    }
}

fn float(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(f64::from(*f)),
        Value::Double(f) => Some(*f),
        _ => int(v).map(|n| n as f64),
    }
}

#[cfg(feature = "decimal")]
fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Decimal(d) => Some(*d),
        _ => int(v).map(Decimal::from),
    }
}

/// `a op b` on numbers, as the backends agree on it.
fn arith(op: Arith, a: &Value, b: &Value) -> Result<Value, ()> {
    if let (Some(x), Some(y)) = (int(a), int(b)) {
        let r = match op {
            Arith::Add => x.checked_add(y),
            Arith::Sub => x.checked_sub(y),
            Arith::Mul => x.checked_mul(y),
        };
        return r.map(Value::BigInt).ok_or(());
    }
    #[cfg(feature = "decimal")]
    if matches!(a, Value::Decimal(_)) || matches!(b, Value::Decimal(_)) {
        let (x, y) = (decimal(a).ok_or(())?, decimal(b).ok_or(())?);
        let r = match op {
            Arith::Add => x.checked_add(y),
            Arith::Sub => x.checked_sub(y),
            Arith::Mul => x.checked_mul(y),
        };
        return r.map(Value::Decimal).ok_or(());
    }
    let (x, y) = (float(a).ok_or(())?, float(b).ok_or(())?);
    Ok(Value::Double(match op {
        Arith::Add => x + y,
        Arith::Sub => x - y,
        Arith::Mul => x * y,
    }))
}

/// How two values compare; `None` when either is NULL or they are not
/// comparable.
pub(crate) fn order(a: &Value, b: &Value) -> Option<Ordering> {
    use Value as V;
    if let (Some(x), Some(y)) = (int(a), int(b)) {
        return Some(x.cmp(&y));
    }
    match (a, b) {
        (V::Null, _) | (_, V::Null) => None,
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        (V::String(x), V::String(y)) => Some(x.cmp(y)),
        (V::Bytes(x), V::Bytes(y)) => Some(x.cmp(y)),
        #[cfg(feature = "chrono")]
        (V::Date(x), V::Date(y)) => Some(x.cmp(y)),
        #[cfg(feature = "chrono")]
        (V::Time(x), V::Time(y)) => Some(x.cmp(y)),
        #[cfg(feature = "chrono")]
        (V::DateTime(x), V::DateTime(y)) => Some(x.cmp(y)),
        #[cfg(feature = "chrono")]
        (V::DateTimeUtc(x), V::DateTimeUtc(y)) => Some(x.cmp(y)),
        #[cfg(feature = "time")]
        (V::TimeDate(x), V::TimeDate(y)) => Some(x.cmp(y)),
        #[cfg(feature = "time")]
        (V::TimeTime(x), V::TimeTime(y)) => Some(x.cmp(y)),
        #[cfg(feature = "time")]
        (V::TimePrimitiveDateTime(x), V::TimePrimitiveDateTime(y)) => Some(x.cmp(y)),
        #[cfg(feature = "time")]
        (V::TimeOffsetDateTime(x), V::TimeOffsetDateTime(y)) => Some(x.cmp(y)),
        #[cfg(feature = "uuid")]
        (V::Uuid(x), V::Uuid(y)) => Some(x.cmp(y)),
        #[cfg(feature = "decimal")]
        (V::Decimal(_), _) | (_, V::Decimal(_)) => Some(decimal(a)?.cmp(&decimal(b)?)),
        _ => float(a)?.partial_cmp(&float(b)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orm::identity::SnapshotRef;
    use crate::orm::Registry;
    use dialects::{Column, SqlType, Table};

    #[derive(Debug, Clone)]
    struct Item {
        id: i64,
        name: String,
        qty: Option<i32>,
    }

    fn info() -> std::sync::Arc<MapperInfo> {
        let mut registry = Registry::new();
        let t = Table::new("item")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::string(20)).not_null())
            .column(Column::new("qty", SqlType::Integer).nullable(true));
        registry
            .map_imperatively(
                &t,
                crate::mapping!(Item { id: i64 = "id", name: String = "name", qty: Option<i32> = "qty" }),
            )
            .finish();
        let mappers = registry.configure().expect("configure");
        mappers.mapper::<Item>().expect("mapped").info().clone()
    }

    fn truth(info: &MapperInfo, e: &Expr, row: &[Value]) -> Option<bool> {
        compile(info, e, Text::ByCodePoint)
            .expect("evaluable")
            .truth(SnapshotRef::Owned(row))
    }

    #[test]
    fn three_valued_logic_and_coercion() {
        let info = info();
        let t = &info.table;
        let row = [Value::BigInt(1), Value::from("Vlad"), Value::Null];
        // 1_i32 compared with a BIGINT column is brought to BIGINT.
        assert_eq!(truth(&info, &t.c("id").eq(Value::Int(1)), &row), Some(true));
        assert_eq!(
            truth(&info, &t.c("qty").eq(3), &row),
            None,
            "NULL = 3 is unknown"
        );
        assert_eq!(truth(&info, &t.c("qty").is_null(), &row), Some(true));
        assert_eq!(
            truth(&info, &t.c("qty").eq(3).or(t.c("id").gt(0)), &row),
            Some(true)
        );
        assert_eq!(truth(&info, &dialects::not_(t.c("qty").eq(3)), &row), None);
        assert_eq!(truth(&info, &t.c("id").in_(vec![2, 3]), &row), Some(false));
        assert_eq!(truth(&info, &t.c("id").between(0, 1), &row), Some(true));
        assert_eq!(truth(&info, &t.c("name").eq("Vlad"), &row), Some(true));
    }

    #[test]
    fn what_is_not_evaluated_says_why() {
        let info = info();
        let t = &info.table;
        let like = compile(&info, &t.c("name").like("V%"), Text::ByCodePoint).unwrap_err();
        assert_eq!(like.what, "LIKE");
        let text = compile(&info, &t.c("name").eq("Vlad"), Text::Strict).unwrap_err();
        assert_eq!(text.what, "name");
        let other = Table::new("other").column(Column::new("x", SqlType::Integer));
        let err = compile(&info, &other.c("x").eq(1), Text::ByCodePoint).unwrap_err();
        assert_eq!(err.what, "other.x");
        assert!(compile(
            &info,
            &dialects::func::lower(t.c("name")).eq("v"),
            Text::ByCodePoint
        )
        .is_err());
        assert_eq!(unknown_column(&info, &t.c("nmae")), Some("nmae".to_owned()));
    }

    #[test]
    fn set_values_compute_like_the_database() {
        let info = info();
        let t = &info.table;
        let row = [Value::BigInt(1), Value::from("a"), Value::Int(4)];
        let plus = compile(&info, &(t.c("qty") + 1), Text::ByCodePoint).expect("evaluable");
        assert_eq!(plus.value(SnapshotRef::Owned(&row)), Ok(Value::BigInt(5)));
        let cat = compile(&info, &t.c("name").concat("b"), Text::ByCodePoint).expect("evaluable");
        assert_eq!(cat.value(SnapshotRef::Owned(&row)), Ok(Value::from("ab")));
        let overflow =
            compile(&info, &(t.c("id") * i64::MAX), Text::ByCodePoint).expect("evaluable");
        assert_eq!(
            overflow.value(SnapshotRef::Owned(&[
                Value::BigInt(2),
                Value::Null,
                Value::Null
            ])),
            Err(())
        );
    }
}
