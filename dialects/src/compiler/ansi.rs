//! ANSI renderings: the default body of every `Dialect` method, as free
//! functions an override can call for the cases it leaves alone.

use std::borrow::Cow;
use std::sync::Arc;

use super::features::MultiTable;
use super::{is_autoincrement, typing, unsupported, SqlWriter};
use crate::error::CompileError;
use crate::schema::column::{Column, ServerDefault};
use crate::schema::table::Table;
use crate::schema::types::SqlType;
use crate::sql::compound::CompoundSelect;
use crate::sql::cte::{CteBody, CteDef};
use crate::sql::delete::Delete;
use crate::sql::expr::{BinaryOp, ColumnRef, Expr, Source, SpecialFunction, UnaryOp};
use crate::sql::insert::{ConflictAction, Insert, InsertSource};
use crate::sql::select::{
    item_sources, Distinct, Fetch, FromItem, JoinKind, Lock, NullsOrder, OrderBy, Select,
};
use crate::sql::text::{split_params, TextClause, TextPiece};
use crate::sql::update::Update;
use crate::sql::values::ValuesDef;
use crate::sql::window::{FrameBound, FrameUnits, Window};
use crate::value::Value;

type R = Result<(), CompileError>;

// ---------------------------------------------------------------- expressions

/// Binding strength of an operator; a child binding more loosely than its
/// parent gets parentheses.
fn precedence(e: &Expr) -> u8 {
    match e {
        Expr::Binary { op, .. } => op_precedence(*op),
        Expr::Unary {
            op: UnaryOp::Not, ..
        } => 3,
        Expr::IsNull { .. }
        | Expr::InList { .. }
        | Expr::InSelect { .. }
        | Expr::Between { .. }
        | Expr::Like { .. } => 4,
        _ => 10,
    }
}

/// Whether `e` is written starting with `-` (a negation, or a negative
/// number where values are inlined): after a unary minus that would make
/// `--`, a comment.
fn starts_with_minus(e: &Expr) -> bool {
    match e {
        Expr::Unary {
            op: UnaryOp::Neg, ..
        } => true,
        Expr::Value(v) => is_negative_number(v),
        _ => false,
    }
}

/// Whether `v` is a negative number: what `-v` parenthesises, so that the
/// SQL never holds `--` (the statement cache keys on the same test).
pub(crate) fn is_negative_number(v: &Value) -> bool {
    match v {
        Value::SmallInt(n) => *n < 0,
        Value::Int(n) => *n < 0,
        Value::BigInt(n) => *n < 0,
        Value::Float(f) => f.is_sign_negative(),
        Value::Double(f) => f.is_sign_negative(),
        #[cfg(feature = "decimal")]
        Value::Decimal(d) => d.is_sign_negative(),
        _ => false,
    }
}

/// Binding strength of a binary operator.
fn op_precedence(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => 1,
        BinaryOp::And => 2,
        BinaryOp::Concat => 5,
        BinaryOp::Add | BinaryOp::Sub => 6,
        BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::FloorDiv => 7,
        _ => 4,
    }
}

/// Binds tighter than every operator: only atoms (columns, values, calls,
/// ...) go without parentheses. Used for the operands of `||` and unary `-`.
const ATOM: u8 = 8;

fn visit(e: &Expr, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    d.visit_expr(e, w)
}

/// Writes `e`, in parentheses when it binds more loosely than `min`.
pub fn visit_grouped(e: &Expr, min: u8, w: &mut SqlWriter<'_>) -> R {
    if precedence(e) < min {
        w.push_char('(');
        visit(e, w)?;
        w.push_char(')');
        Ok(())
    } else {
        visit(e, w)
    }
}

/// Whether `e` is a bound value (what a backend may not convert to the
/// type of the column it meets).
fn is_bound(e: &Expr) -> bool {
    matches!(e, Expr::Value(_) | Expr::BindParam { .. })
}

/// The cast a bound `value` needs where it meets an expression of type
/// `ty` (PostgreSQL enums), if any.
fn bound_cast_for(
    value: &Expr,
    ty: impl FnOnce() -> Option<SqlType>,
    w: &SqlWriter<'_>,
) -> Option<Cow<'static, str>> {
    let d = w.dialect();
    if !d.features().named_enum_types || !is_bound(value) {
        return None;
    }
    d.bound_cast(&ty()?)
}

/// Writes `value`, cast to `cast` when given.
fn visit_cast_to(
    value: &Expr,
    cast: Option<Cow<'static, str>>,
    min: u8,
    w: &mut SqlWriter<'_>,
) -> R {
    match cast {
        Some(ty) => {
            w.push("CAST(");
            visit(value, w)?;
            w.push(" AS ");
            w.push(&ty);
            w.push_char(')');
            Ok(())
        }
        None => visit_grouped(value, min, w),
    }
}

/// Writes `value` meeting `other` (compared with it): cast to `other`'s
/// type where the backend needs that.
fn visit_against(value: &Expr, other: &Expr, min: u8, w: &mut SqlWriter<'_>) -> R {
    let cast = bound_cast_for(value, || typing::type_of(other).map(Cow::into_owned), w);
    visit_cast_to(value, cast, min, w)
}

/// Writes `value` going into `column` of `table` (an INSERT value, a SET).
fn visit_into(table: &Table, column: &str, value: &Expr, w: &mut SqlWriter<'_>) -> R {
    let cast = bound_cast_for(
        value,
        || table.get_column(column).map(|c| c.sql_type().clone()),
        w,
    );
    visit_cast_to(value, cast, 0, w)
}

/// A column, qualified by its source (except in DDL, where a check or a
/// server default names its own table's columns bare).
pub fn visit_column(c: &ColumnRef, w: &mut SqlWriter<'_>) {
    if let Some(src) = c.source.as_ref().filter(|_| !w.inline_literals()) {
        qualifier(src, w);
        w.push_char('.');
    }
    w.ident(&c.name);
}

fn qualifier(src: &Source, w: &mut SqlWriter<'_>) {
    if let Source::Table {
        schema: Some(schema),
        ..
    } = src
    {
        w.ident(schema);
        w.push_char('.');
    }
    w.ident(src.qualifier());
}

/// The default rendering of every expression node.
pub fn visit_expr(e: &Expr, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    match e {
        Expr::Column(c) => visit_column(c, w),
        Expr::Value(v) => w.bind(v)?,
        Expr::Star(None) => w.push_char('*'),
        Expr::Star(Some(src)) => {
            qualifier(src, w);
            w.push(".*");
        }
        Expr::Binary { op, left, right } => d.visit_binary(*op, left, right, w)?,
        Expr::Unary { op, expr } => {
            let min = match op {
                UnaryOp::Not => {
                    w.push("NOT ");
                    5
                }
                UnaryOp::Neg => {
                    // `-(a + b)`: negation binds tighter than any operator.
                    w.push("-");
                    if starts_with_minus(expr) {
                        // `--x` would start a comment: `-(-x)`.
                        w.push_char('(');
                        visit(expr, w)?;
                        w.push_char(')');
                        return Ok(());
                    }
                    ATOM
                }
                UnaryOp::Distinct => {
                    w.push("DISTINCT ");
                    5
                }
            };
            visit_grouped(expr, min, w)?;
        }
        Expr::IsNull { expr, negated } => {
            visit_grouped(expr, 5, w)?;
            w.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            if list.is_empty() {
                // Nothing is in an empty set: a constant, whatever `expr` is.
                w.push(if *negated { "(1 = 1)" } else { "(1 = 0)" });
            } else {
                visit_grouped(expr, 5, w)?;
                w.push(if *negated { " NOT IN (" } else { " IN (" });
                w.comma_list(list, |w, x| visit_against(x, expr, 0, w))?;
                w.push_char(')');
            }
        }
        Expr::InSelect {
            expr,
            select,
            negated,
        } => {
            visit_grouped(expr, 5, w)?;
            w.push(if *negated { " NOT IN (" } else { " IN (" });
            select_body(select, w)?;
            w.push_char(')');
        }
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => {
            visit_grouped(expr, 5, w)?;
            w.push(if *negated {
                " NOT BETWEEN "
            } else {
                " BETWEEN "
            });
            visit_against(low, expr, 5, w)?;
            w.push(" AND ");
            visit_against(high, expr, 5, w)?;
        }
        Expr::Function { name, args } => {
            w.push(name);
            w.push_char('(');
            w.comma_list(args, |w, x| visit(x, w))?;
            w.push_char(')');
        }
        Expr::Special { func, args } => d.visit_special(*func, args, w)?,
        Expr::Cast { expr, ty } => d.visit_cast(expr, ty, w)?,
        Expr::Case {
            operand,
            whens,
            else_,
        } => {
            if whens.is_empty() {
                return Err(CompileError::Invalid("CASE with no WHEN".into()));
            }
            w.push("CASE");
            if let Some(o) = operand {
                w.push_char(' ');
                visit(o, w)?;
            }
            for (cond, then) in whens {
                w.push(" WHEN ");
                match operand {
                    // A simple CASE compares each value with the operand.
                    Some(o) => visit_against(cond, o, 0, w)?,
                    None => visit(cond, w)?,
                }
                w.push(" THEN ");
                visit(then, w)?;
            }
            if let Some(e) = else_ {
                w.push(" ELSE ");
                visit(e, w)?;
            }
            w.push(" END");
        }
        Expr::Label { expr, .. } => visit(expr, w)?,
        Expr::Subquery(select) => {
            w.push_char('(');
            select_body(select, w)?;
            w.push_char(')');
        }
        Expr::Exists { select, negated } => {
            w.push(if *negated { "NOT EXISTS (" } else { "EXISTS (" });
            select_body(select, w)?;
            w.push_char(')');
        }
        Expr::Over { func, window } => {
            visit(func, w)?;
            w.push(" OVER (");
            window_spec(window, w)?;
            w.push_char(')');
        }
        Expr::Tuple(items) => {
            if items.is_empty() {
                return Err(CompileError::Invalid("an empty tuple ()".into()));
            }
            w.push_char('(');
            w.comma_list(items, |w, x| visit(x, w))?;
            w.push_char(')');
        }
        Expr::Text(t) => text_clause(t, w)?,
        Expr::Excluded(col) => d.visit_excluded(col, w)?,
        Expr::Like {
            expr,
            pattern,
            escape,
            negated,
            case_insensitive,
        } => visit_like(expr, pattern, *escape, *negated, *case_insensitive, w)?,
        Expr::BindParam { name, value } => w.bind_named(name, value.as_ref())?,
        Expr::Invalid(err) => return Err((**err).clone()),
    }
    Ok(())
}

/// `CAST(expr AS type)`, the type named by the dialect's `cast_type_name`
/// (integers and text map to what each backend accepts there).
pub fn visit_cast(expr: &Expr, ty: &SqlType, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    w.push("CAST(");
    visit(expr, w)?;
    w.push(" AS ");
    let name = d.cast_type_name(ty)?;
    w.push(&name);
    w.push_char(')');
    Ok(())
}

/// `left op right`, with ILIKE emulated as `lower(l) LIKE lower(r)`,
/// `/` on two integers as true division, `+` on two strings as
/// concatenation, and floor division per backend.
pub fn visit_binary(op: BinaryOp, left: &Expr, right: &Expr, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    if matches!(op, BinaryOp::ILike | BinaryOp::NotILike) && !d.features().ilike {
        w.push("lower(");
        visit(left, w)?;
        w.push(if op == BinaryOp::ILike {
            ") LIKE lower("
        } else {
            ") NOT LIKE lower("
        });
        visit(right, w)?;
        w.push_char(')');
        w.push(d.like_escape());
        return Ok(());
    }
    if op == BinaryOp::Add && typing::is_text(left) && typing::is_text(right) {
        // SQLAlchemy's `+` on two strings: concatenation, never arithmetic.
        return d.visit_binary(BinaryOp::Concat, left, right, w);
    }
    let integers = || typing::is_integer(left) && typing::is_integer(right);
    match op {
        BinaryOp::Div if integers() => {
            if let Some(ty) = d.true_division_cast() {
                // `7 / 2` is 3 on PostgreSQL and SQLite; `/` is true division.
                visit_grouped(left, 7, w)?;
                w.push(" / CAST(");
                visit(right, w)?;
                w.push(" AS ");
                w.push(ty);
                w.push_char(')');
                return Ok(());
            }
        }
        BinaryOp::FloorDiv if integers() => {
            visit_grouped(left, 7, w)?;
            w.push_char(' ');
            w.push(d.integer_division_op());
            w.push_char(' ');
            return visit_grouped(right, 8, w);
        }
        BinaryOp::FloorDiv => {
            let (open, close) = d.floor_of_quotient();
            w.push(open);
            visit_grouped(left, 7, w)?;
            w.push(" / ");
            visit_grouped(right, 8, w)?;
            w.push(close);
            return Ok(());
        }
        _ => {}
    }
    let parent = op_precedence(op);
    // `||` binds tighter than `*` on SQLite but looser than `+` on
    // PostgreSQL: an operand that is itself an operation (other than a
    // left-nested `||`) gets parentheses, so both read it the same way.
    // A comparison is not associative: `(a = b) = c` keeps its parentheses.
    let left_min = match (op, left) {
        (
            BinaryOp::Concat,
            Expr::Binary {
                op: BinaryOp::Concat,
                ..
            },
        ) => parent,
        (BinaryOp::Concat, _) => ATOM,
        _ if op.is_comparison() => parent + 1,
        _ => parent,
    };
    // A bound value compared with a column takes the column's type where
    // the backend needs a cast (PostgreSQL enums; not for LIKE or `~`).
    let comparison = matches!(
        op,
        BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::IsDistinctFrom
            | BinaryOp::IsNotDistinctFrom
    );
    if comparison {
        visit_against(left, right, left_min, w)?;
    } else {
        visit_grouped(left, left_min, w)?;
    }
    w.push_char(' ');
    w.push(d.binary_op_sql(op));
    w.push_char(' ');
    // Right operand of a non-associative operator binds tighter.
    let right_min = match op {
        BinaryOp::Concat => ATOM,
        BinaryOp::Sub | BinaryOp::Div | BinaryOp::Mod => parent + 1,
        _ if parent == 4 => 5,
        _ => parent,
    };
    if comparison {
        visit_against(right, left, right_min, w)?;
    } else {
        visit_grouped(right, right_min, w)?;
    }
    if matches!(
        op,
        BinaryOp::Like | BinaryOp::NotLike | BinaryOp::ILike | BinaryOp::NotILike
    ) {
        w.push(d.like_escape());
    }
    Ok(())
}

/// `expr [NOT] LIKE pattern ESCAPE 'c'` (`ILIKE`, or `lower()` on both
/// sides where the backend has none).
pub fn visit_like(
    expr: &Expr,
    pattern: &Expr,
    escape: char,
    negated: bool,
    case_insensitive: bool,
    w: &mut SqlWriter<'_>,
) -> R {
    let d = w.dialect();
    let lower = case_insensitive && !d.features().ilike;
    if lower {
        w.push("lower(");
        visit(expr, w)?;
        w.push_char(')');
    } else {
        visit_grouped(expr, 5, w)?;
    }
    w.push(match (negated, case_insensitive && !lower) {
        (false, false) => " LIKE ",
        (true, false) => " NOT LIKE ",
        (false, true) => " ILIKE ",
        (true, true) => " NOT ILIKE ",
    });
    if lower {
        w.push("lower(");
        visit(pattern, w)?;
        w.push_char(')');
    } else {
        visit_grouped(pattern, 5, w)?;
    }
    w.push(" ESCAPE ");
    d.write_literal(&Value::String(escape.to_string()), w)
}

/// Functions spelled per backend: `now()`-likes, `length`, `concat`,
/// `aggregate_strings`, `extract`, `coalesce`.
pub fn visit_special(func: SpecialFunction, args: &[Expr], w: &mut SqlWriter<'_>) -> R {
    match func {
        SpecialFunction::Now | SpecialFunction::UtcNow => w.push("CURRENT_TIMESTAMP"),
        SpecialFunction::Length => call("length", args, w)?,
        SpecialFunction::Concat => {
            if args.is_empty() {
                return Err(CompileError::Invalid("concat() needs an argument".into()));
            }
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    w.push(" || ");
                }
                visit_grouped(a, ATOM, w)?;
            }
        }
        SpecialFunction::AggregateStrings => call("string_agg", args, w)?,
        SpecialFunction::Extract(field) => {
            w.push("EXTRACT(");
            w.push(field.as_sql());
            w.push(" FROM ");
            comma_args(args, w)?;
            w.push_char(')');
        }
        SpecialFunction::Coalesce => {
            if args.is_empty() {
                return Err(CompileError::Invalid("coalesce() needs an argument".into()));
            }
            call("coalesce", args, w)?;
        }
    }
    Ok(())
}

/// `name(args)`.
pub fn call(name: &str, args: &[Expr], w: &mut SqlWriter<'_>) -> R {
    w.push(name);
    w.push_char('(');
    comma_args(args, w)?;
    w.push_char(')');
    Ok(())
}

/// `a, b, c`.
pub fn comma_args(args: &[Expr], w: &mut SqlWriter<'_>) -> R {
    w.comma_list(args, |w, x| visit(x, w))
}

fn window_spec(win: &Window, w: &mut SqlWriter<'_>) -> R {
    let mut space = false;
    if !win.partition_by.is_empty() {
        w.push("PARTITION BY ");
        w.comma_list(&win.partition_by, |w, x| visit(x, w))?;
        space = true;
    }
    if !win.order_by.is_empty() {
        if space {
            w.push_char(' ');
        }
        w.push("ORDER BY ");
        order_by_list(&win.order_by, w)?;
        space = true;
    }
    if let Some(frame) = &win.frame {
        if space {
            w.push_char(' ');
        }
        w.push(match frame.units {
            FrameUnits::Rows => "ROWS BETWEEN ",
            FrameUnits::Range => "RANGE BETWEEN ",
        });
        frame_bound(frame.start, w);
        w.push(" AND ");
        frame_bound(frame.end, w);
    }
    Ok(())
}

fn frame_bound(b: FrameBound, w: &mut SqlWriter<'_>) {
    match b {
        FrameBound::UnboundedPreceding => w.push("UNBOUNDED PRECEDING"),
        FrameBound::Preceding(n) => {
            w.push(&n.to_string());
            w.push(" PRECEDING");
        }
        FrameBound::CurrentRow => w.push("CURRENT ROW"),
        FrameBound::Following(n) => {
            w.push(&n.to_string());
            w.push(" FOLLOWING");
        }
        FrameBound::UnboundedFollowing => w.push("UNBOUNDED FOLLOWING"),
    }
}

/// `text()` with each `:name` bound in order.
pub fn text_clause(t: &TextClause, w: &mut SqlWriter<'_>) -> R {
    let syntax = w.dialect().text_syntax();
    for piece in split_params(&t.sql, syntax) {
        match piece {
            TextPiece::Sql(s) => w.push(s),
            TextPiece::Param(name) => match t.param(name) {
                Some(v) => w.bind(v)?,
                None if w.open_text_params() => w.bind_named(&Arc::from(name), None)?,
                None => {
                    return Err(CompileError::MissingParameter {
                        name: name.to_owned(),
                    })
                }
            },
        }
    }
    Ok(())
}

// ----------------------------------------------------------------- ordering

fn order_by_list(terms: &[OrderBy], w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    w.comma_list(terms, |w, t| d.order_by_term(t, w))
}

/// `expr [ASC|DESC] [NULLS FIRST|LAST]`, emulating null placement with a
/// leading `expr IS NULL` term where the backend lacks it.
pub fn order_by_term(term: &OrderBy, w: &mut SqlWriter<'_>) -> R {
    let native = w.dialect().features().nulls_ordering;
    if let (Some(nulls), false) = (term.nulls, native) {
        visit_grouped(&term.expr, 5, w)?;
        w.push(match nulls {
            NullsOrder::First => " IS NULL DESC, ",
            NullsOrder::Last => " IS NULL, ",
        });
    }
    order_expr(&term.expr, w)?;
    if term.desc {
        w.push(" DESC");
    }
    if let (Some(nulls), true) = (term.nulls, native) {
        w.push(match nulls {
            NullsOrder::First => " NULLS FIRST",
            NullsOrder::Last => " NULLS LAST",
        });
    }
    Ok(())
}

/// A sort key: a label sorts by its name, anything else by itself.
fn order_expr(e: &Expr, w: &mut SqlWriter<'_>) -> R {
    match e {
        Expr::Label { name, .. } => {
            w.ident(name);
            Ok(())
        }
        other => sort_key(other, w),
    }
}

/// A whole `ORDER BY` / `GROUP BY` term. A bare bound value is a constant
/// here, except where the backend reads a bound integer as a column
/// position ([`Features::bound_sort_key_is_position`]): there it is
/// written as a scalar subquery, `(SELECT ?)`, which is a constant; so is
/// a value written as a literal anywhere (`ORDER BY 2` is a position).
fn sort_key(e: &Expr, w: &mut SqlWriter<'_>) -> R {
    let bare = matches!(e, Expr::Value(_) | Expr::BindParam { .. });
    if bare && (w.dialect().features().bound_sort_key_is_position || w.writes_literals()) {
        w.push("(SELECT ");
        visit(e, w)?;
        w.push_char(')');
        return Ok(());
    }
    visit(e, w)
}

/// `LIMIT ? OFFSET ?` with bound values.
pub fn limit_offset(limit: Option<u64>, offset: Option<u64>, w: &mut SqlWriter<'_>) -> R {
    if let Some(n) = limit {
        w.push(" LIMIT ");
        w.bind_structural(Value::BigInt(clamp(n)))?;
    }
    if let Some(n) = offset {
        w.push(" OFFSET ");
        w.bind_structural(Value::BigInt(clamp(n)))?;
    }
    Ok(())
}

/// A `u64` count as the signed integer drivers bind.
pub fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `FOR [NO KEY] UPDATE | FOR [KEY] SHARE [OF t, ...] [NOWAIT | SKIP LOCKED]`,
/// or `LOCK IN SHARE MODE` where that is the spelling.
pub fn lock_clause(lock: &Lock, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    let f = d.features();
    if !f.for_update {
        return Err(unsupported(d, "FOR UPDATE"));
    }
    if (lock.nowait || lock.skip_locked) && !f.lock_modifiers {
        return Err(unsupported(d, "FOR UPDATE NOWAIT / SKIP LOCKED"));
    }
    if lock.nowait && lock.skip_locked {
        return Err(CompileError::Invalid(
            "a row lock is either NOWAIT or SKIP LOCKED, not both".into(),
        ));
    }
    if !lock.of.is_empty() && !f.lock_of {
        return Err(unsupported(d, "FOR UPDATE OF"));
    }
    if lock.key && !f.key_locks {
        return Err(unsupported(d, "FOR NO KEY UPDATE / FOR KEY SHARE"));
    }
    w.push(match (lock.share, lock.key) {
        (true, _) if f.share_mode_lock => " LOCK IN SHARE MODE",
        (true, true) => " FOR KEY SHARE",
        (true, false) => " FOR SHARE",
        (false, true) => " FOR NO KEY UPDATE",
        (false, false) => " FOR UPDATE",
    });
    if !lock.of.is_empty() {
        w.push(" OF ");
        w.comma_list(&lock.of, |w, q| {
            w.ident(q);
            Ok(())
        })?;
    }
    if lock.nowait {
        w.push(" NOWAIT");
    }
    if lock.skip_locked {
        w.push(" SKIP LOCKED");
    }
    Ok(())
}

/// `[OFFSET n ROWS] FETCH FIRST m ROWS ONLY | WITH TIES`, or `LIMIT m
/// [OFFSET n]` where the backend has no FETCH.
pub fn fetch_clause(s: &Select, fetch: &Fetch, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    if s.limit.is_some() {
        return Err(CompileError::Invalid(
            "a select with both limit() and fetch()".into(),
        ));
    }
    if fetch.with_ties && s.order_by.is_empty() {
        return Err(CompileError::Invalid(
            "FETCH FIRST ... WITH TIES needs an ORDER BY".into(),
        ));
    }
    if !d.features().fetch_first {
        if fetch.with_ties {
            return Err(unsupported(d, "FETCH FIRST ... WITH TIES"));
        }
        return d.limit_offset(Some(fetch.count), s.offset, w);
    }
    if let Some(n) = s.offset {
        w.push(" OFFSET ");
        w.bind_structural(Value::BigInt(clamp(n)))?;
        w.push(" ROWS");
    }
    w.push(" FETCH FIRST ");
    w.bind_structural(Value::BigInt(clamp(fetch.count)))?;
    w.push(if fetch.with_ties {
        " ROWS WITH TIES"
    } else {
        " ROWS ONLY"
    });
    Ok(())
}

// ------------------------------------------------------------------- select

/// Collects the CTEs a statement uses, dependencies first, each once:
/// those in its FROM (also inside derived tables and joins), those attached
/// with `with_cte`, and those used only by a subquery in an expression
/// (a scalar, `EXISTS` or `IN` subquery in the columns, `WHERE`, ...).
fn collect_ctes(select: &Select, out: &mut Vec<Arc<CteDef>>) {
    for cte in &select.ctes {
        add_cte(cte, out);
    }
    for item in select.effective_from().iter() {
        collect_from_ctes(item, out);
    }
    let mut nested = |e: &Expr| expr_ctes(e, out);
    select.columns.iter().for_each(&mut nested);
    if let Distinct::On(exprs) = &select.distinct {
        exprs.iter().for_each(&mut nested);
    }
    select.where_.iter().for_each(&mut nested);
    select.group_by.iter().for_each(&mut nested);
    select.having.iter().for_each(&mut nested);
    select.order_by.iter().for_each(|o| nested(&o.expr));
}

fn collect_from_ctes(item: &FromItem, out: &mut Vec<Arc<CteDef>>) {
    match item {
        FromItem::Source(src) => match &**src {
            Source::Cte(def) => add_cte(def, out),
            Source::Subquery { query, .. } => match &**query {
                CteBody::Select(select) => collect_ctes(select, out),
                CteBody::Compound(c) => compound_ctes(c, out),
            },
            _ => {}
        },
        FromItem::Join {
            left, right, on, ..
        } => {
            collect_from_ctes(left, out);
            collect_from_ctes(right, out);
            if let Some(on) = on {
                expr_ctes(on, out);
            }
        }
    }
}

/// The CTEs used by the subqueries nested in an expression.
fn expr_ctes(e: &Expr, out: &mut Vec<Arc<CteDef>>) {
    for_each_subselect(e, &mut |s| collect_ctes(s, out));
}

/// Calls `f` on each select nested directly in `e` (a scalar, `EXISTS` or
/// `IN` subquery), looking through operators, calls and windows.
fn for_each_subselect(e: &Expr, f: &mut dyn FnMut(&Select)) {
    match e {
        Expr::Subquery(s) | Expr::Exists { select: s, .. } => f(s),
        Expr::InSelect { expr, select, .. } => {
            for_each_subselect(expr, f);
            f(select);
        }
        Expr::Binary { left, right, .. }
        | Expr::Like {
            expr: left,
            pattern: right,
            ..
        } => {
            for_each_subselect(left, f);
            for_each_subselect(right, f);
        }
        Expr::Unary { expr, .. }
        | Expr::IsNull { expr, .. }
        | Expr::Cast { expr, .. }
        | Expr::Label { expr, .. } => for_each_subselect(expr, f),
        Expr::InList { expr, list, .. } => {
            for_each_subselect(expr, f);
            list.iter().for_each(|x| for_each_subselect(x, f));
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            for_each_subselect(expr, f);
            for_each_subselect(low, f);
            for_each_subselect(high, f);
        }
        Expr::Function { args, .. } | Expr::Special { args, .. } | Expr::Tuple(args) => {
            args.iter().for_each(|x| for_each_subselect(x, f));
        }
        Expr::Case {
            operand,
            whens,
            else_,
        } => {
            operand.iter().for_each(|x| for_each_subselect(x, f));
            for (cond, then) in whens {
                for_each_subselect(cond, f);
                for_each_subselect(then, f);
            }
            else_.iter().for_each(|x| for_each_subselect(x, f));
        }
        Expr::Over { func, window } => {
            for_each_subselect(func, f);
            window
                .partition_by
                .iter()
                .for_each(|x| for_each_subselect(x, f));
            window
                .order_by
                .iter()
                .for_each(|o| for_each_subselect(&o.expr, f));
        }
        Expr::Column(_)
        | Expr::Value(_)
        | Expr::Star(_)
        | Expr::Text(_)
        | Expr::Excluded(_)
        | Expr::BindParam { .. }
        | Expr::Invalid(_) => {}
    }
}

fn add_cte(def: &Arc<CteDef>, out: &mut Vec<Arc<CteDef>>) {
    if let Some(seen) = out.iter().find(|c| c.name == def.name) {
        if !same_cte(seen, def) {
            // Two different CTEs under one name: kept both, so that the
            // WITH clause reports the clash instead of dropping one.
            out.push(def.clone());
        }
        return;
    }
    // Reserve the name first so a recursive CTE does not visit itself.
    let at = out.len();
    out.push(def.clone());
    let mut deps = Vec::new();
    match &def.body {
        CteBody::Select(s) => collect_ctes(s, &mut deps),
        CteBody::Compound(c) => compound_ctes(c, &mut deps),
    }
    // `deps` lists dependencies first; keep that order before this CTE.
    let mut pos = at;
    // A recursive CTE refers to itself (through the anchor's definition,
    // which has its name): that is no dependency. In any other CTE a
    // dependency of the same name is a second CTE under that name.
    for dep in deps
        .into_iter()
        .filter(|d| !(def.recursive && d.name == def.name))
    {
        match out.iter().find(|c| c.name == dep.name) {
            None => {
                out.insert(pos, dep);
                pos += 1;
            }
            Some(seen) if !same_cte(seen, &dep) => out.push(dep),
            Some(_) => {}
        }
    }
}

fn same_cte(a: &Arc<CteDef>, b: &Arc<CteDef>) -> bool {
    Arc::ptr_eq(a, b) || **a == **b
}

fn compound_ctes(c: &CompoundSelect, out: &mut Vec<Arc<CteDef>>) {
    collect_ctes(&c.first, out);
    c.rest.iter().for_each(|(_, s)| collect_ctes(s, out));
}

fn with_clause(ctes: &[Arc<CteDef>], w: &mut SqlWriter<'_>) -> R {
    if ctes.is_empty() {
        return Ok(());
    }
    if let Some((_, dup)) = ctes
        .iter()
        .enumerate()
        .find(|(i, c)| ctes.iter().take(*i).any(|o| o.name == c.name))
    {
        return Err(CompileError::Invalid(format!(
            "two different CTEs are both named `{}`",
            dup.name
        )));
    }
    w.push("WITH ");
    if ctes.iter().any(|c| c.recursive) {
        w.push("RECURSIVE ");
    }
    for (i, cte) in ctes.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.ident(&cte.name);
        if cte.recursive {
            // Recursive CTEs name their columns explicitly.
            if cte.columns.iter().any(Option::is_none) {
                return Err(CompileError::Invalid(format!(
                    "recursive CTE `{}` needs a name (a column or a label) for every column",
                    cte.name
                )));
            }
            w.push("(");
            let names: Vec<&str> = cte.columns.iter().flatten().map(|n| &**n).collect();
            w.comma_list(&names, |w, n| {
                w.ident(n);
                Ok(())
            })?;
            w.push(")");
        }
        w.push(" AS (");
        // A CTE body does not correlate to the statement that uses it.
        w.without_scope(|w| match &cte.body {
            CteBody::Select(s) => select_core(s, w),
            CteBody::Compound(c) => compound_core(c, w),
        })?;
        w.push_char(')');
    }
    w.push_char(' ');
    Ok(())
}

/// A whole `SELECT` statement, `WITH` clause included.
pub fn select_statement(select: &Select, w: &mut SqlWriter<'_>) -> R {
    let mut ctes = Vec::new();
    collect_ctes(select, &mut ctes);
    with_clause(&ctes, w)?;
    select_core(select, w)
}

/// A select nested in an expression or FROM: its CTEs are hoisted into
/// the statement's `WITH`, except in an `UPDATE` / `DELETE` on a backend
/// without `WITH ... UPDATE`, where each top subquery carries its own.
fn select_body(select: &Select, w: &mut SqlWriter<'_>) -> R {
    if w.nested_with() {
        w.set_nested_with(false);
        let out = select_statement(select, w);
        w.set_nested_with(true);
        return out;
    }
    select_core(select, w)
}

/// `SELECT ... FROM ... WHERE ... GROUP BY ... HAVING ... ORDER BY ... LIMIT ...`.
pub fn select_core(s: &Select, w: &mut SqlWriter<'_>) -> R {
    let all_from = s.effective_from();
    let from = correlated_from(s, &all_from, w)?;
    // Subqueries in every clause may correlate to this FROM.
    let mut scope: Vec<Arc<Source>> = Vec::new();
    from.iter()
        .for_each(|item| item_sources(item, &mut |src| scope.push(src.clone())));
    w.with_scope(scope, |w| select_clauses(s, &from, w))
}

/// The FROM items left once the sources an enclosing statement provides
/// are correlated away: the ones named by `correlate()`, or automatically,
/// when there are several, every one an enclosing FROM has (SQLAlchemy's
/// rules; auto-correlating all of them away is an error).
fn correlated_from<'a>(
    s: &Select,
    from: &'a [FromItem],
    w: &SqlWriter<'_>,
) -> Result<Vec<&'a FromItem>, CompileError> {
    let in_scope = |item: &FromItem| match item {
        FromItem::Source(src) => w.in_scope(src.qualifier()),
        FromItem::Join { .. } => false,
    };
    if w.correlation_scope().is_empty() {
        return Ok(from.iter().collect());
    }
    if s.no_auto_correlate {
        return Ok(from
            .iter()
            .filter(|item| {
                !(in_scope(item)
                    && matches!(item, FromItem::Source(src)
                        if s.correlate.iter().any(|q| &**q == src.qualifier())))
            })
            .collect());
    }
    if from.len() < 2 {
        return Ok(from.iter().collect());
    }
    let kept: Vec<&FromItem> = from.iter().filter(|item| !in_scope(item)).collect();
    if kept.is_empty() {
        return Err(CompileError::Invalid(
            "a subquery has no FROM left after auto-correlation; \
             use correlate() or correlate_none() to choose"
                .into(),
        ));
    }
    Ok(kept)
}

/// The clauses of a select, its FROM already correlated.
fn select_clauses(s: &Select, from: &[&FromItem], w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    w.push("SELECT ");
    match &s.distinct {
        Distinct::None => {}
        Distinct::All => w.push("DISTINCT "),
        Distinct::On(exprs) => {
            if !d.features().distinct_on {
                return Err(unsupported(d, "DISTINCT ON"));
            }
            w.push("DISTINCT ON (");
            w.comma_list(exprs, |w, x| visit(x, w))?;
            w.push(") ");
        }
    }
    if s.columns.is_empty() {
        if from.is_empty() {
            return Err(CompileError::Invalid(
                "SELECT with neither columns nor a FROM clause".into(),
            ));
        }
        w.push_char('*');
    }
    w.comma_list(&s.columns, |w, c| {
        visit(c, w)?;
        if let Expr::Label { name, .. } = c {
            w.push(" AS ");
            w.ident(name);
        }
        Ok(())
    })?;
    if !from.is_empty() {
        w.push(" FROM ");
        w.comma_list(from, |w, item| from_item(item, w))?;
    }
    if let Some(cond) = &s.where_ {
        w.push(" WHERE ");
        visit(cond, w)?;
    }
    if !s.group_by.is_empty() {
        w.push(" GROUP BY ");
        w.comma_list(&s.group_by, |w, x| group_by_term(s, x, w))?;
    }
    if let Some(cond) = &s.having {
        w.push(" HAVING ");
        visit(cond, w)?;
    }
    if !s.order_by.is_empty() {
        w.push(" ORDER BY ");
        w.comma_list(&s.order_by, |w, t| select_order_term(s, t, w))?;
    }
    match &s.fetch {
        Some(fetch) => fetch_clause(s, fetch, w)?,
        None => d.limit_offset(s.limit, s.offset, w)?,
    }
    if let Some(lock) = &s.lock {
        d.lock_clause(lock, w)?;
    }
    Ok(())
}

/// The position (0-based) of the column of `s` that `e` is, or labels.
fn column_position(s: &Select, e: &Expr) -> Option<usize> {
    s.columns.iter().position(|c| {
        c == e
            || matches!(c, Expr::Label { expr, .. } if **expr == *e)
            || matches!((c, e), (Expr::Label { name: a, .. }, Expr::Label { name: b, .. }) if a == b)
    })
}

/// A `GROUP BY` term. An expression with bound values that is also a
/// column of the select is written as that column's position: written
/// again it would carry new parameters (`$3` where the column has `$1`),
/// and PostgreSQL would not see the two as the same expression.
fn group_by_term(s: &Select, e: &Expr, w: &mut SqlWriter<'_>) -> R {
    let mark = w.mark();
    sort_key(e, w)?;
    if w.params_since(mark) > 0 {
        if let Some(i) = column_position(s, e) {
            w.rewind(mark);
            w.push(&(i + 1).to_string());
        }
    }
    Ok(())
}

/// An `ORDER BY` term of a select. As in [`group_by_term`], an expression
/// with bound values that is a column of the select sorts by that column:
/// by its label (PostgreSQL reads output names first in ORDER BY), or by
/// its position when it has none.
fn select_order_term(s: &Select, term: &OrderBy, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    let mark = w.mark();
    d.order_by_term(term, w)?;
    if w.params_since(mark) == 0 {
        return Ok(());
    }
    let Some(i) = column_position(s, &term.expr) else {
        return Ok(());
    };
    let replacement = match &s.columns[i] {
        Expr::Label { name, .. } => crate::sql::expr::column(name),
        // A position means nothing inside the emulated `x IS NULL` term.
        _ if term.nulls.is_some() && !d.features().nulls_ordering => return Ok(()),
        _ => crate::sql::text::literal_column(&(i + 1).to_string()),
    };
    w.rewind(mark);
    d.order_by_term(
        &OrderBy {
            expr: replacement,
            ..term.clone()
        },
        w,
    )
}

/// One FROM item: a table, an alias, a subquery, a CTE name or a join.
pub fn from_item(item: &FromItem, w: &mut SqlWriter<'_>) -> R {
    match item {
        FromItem::Source(src) => from_source(src, w),
        FromItem::Join {
            left,
            right,
            kind,
            on,
        } => {
            let d = w.dialect();
            from_item(left, w)?;
            w.push(match kind {
                JoinKind::Inner => " JOIN ",
                JoinKind::Left => " LEFT OUTER JOIN ",
                JoinKind::Right => " RIGHT OUTER JOIN ",
                JoinKind::Full => {
                    if !d.features().full_join {
                        return Err(unsupported(d, "FULL OUTER JOIN"));
                    }
                    " FULL OUTER JOIN "
                }
                JoinKind::Cross => " CROSS JOIN ",
            });
            let nested = matches!(**right, FromItem::Join { .. });
            if nested {
                w.push_char('(');
            }
            from_item(right, w)?;
            if nested {
                w.push_char(')');
            }
            if let Some(on) = on {
                w.push(" ON ");
                visit(on, w)?;
            }
            Ok(())
        }
    }
}

fn from_source(src: &Source, w: &mut SqlWriter<'_>) -> R {
    match src {
        Source::Table { .. } => qualifier(src, w),
        Source::TableAlias {
            table,
            schema,
            alias,
            ..
        } => {
            if let Some(s) = schema {
                w.ident(s);
                w.push_char('.');
            }
            w.ident(table);
            w.push(" AS ");
            w.ident(alias);
        }
        Source::Subquery {
            query,
            alias,
            lateral,
        } => {
            if *lateral {
                let d = w.dialect();
                if !d.features().lateral {
                    return Err(unsupported(d, "LATERAL"));
                }
                w.push("LATERAL (");
                // A lateral subquery correlates to the FROM items before it.
                query_body(query, w)?;
            } else {
                w.push_char('(');
                // A derived table does not correlate (that would be LATERAL).
                w.without_scope(|w| query_body(query, w))?;
            }
            w.push(") AS ");
            w.ident(alias);
        }
        Source::Values(def) => {
            def.check()?;
            let d = w.dialect();
            d.values_source(def, w)?;
        }
        Source::Cte(def) => w.ident(&def.name),
    }
    Ok(())
}

/// The query of a derived table: a select or a set operation.
fn query_body(query: &CteBody, w: &mut SqlWriter<'_>) -> R {
    match query {
        CteBody::Select(select) => select_body(select, w),
        CteBody::Compound(c) => {
            if w.nested_with() {
                w.set_nested_with(false);
                let out = compound_statement(c, w);
                w.set_nested_with(true);
                return out;
            }
            compound_core(c, w)
        }
    }
}

/// A `VALUES` list in FROM: `(VALUES (a, b), ...) AS name (x, y)`.
pub fn values_source(def: &ValuesDef, w: &mut SqlWriter<'_>) -> R {
    w.push("(");
    values_rows(def, w)?;
    w.push(") AS ");
    w.ident(&def.alias);
    w.push(" (");
    w.comma_list(&def.columns, |w, c| {
        w.ident(c);
        Ok(())
    })?;
    w.push_char(')');
    Ok(())
}

/// `VALUES (a, b), (c, d)`.
pub fn values_rows(def: &ValuesDef, w: &mut SqlWriter<'_>) -> R {
    w.push("VALUES ");
    w.comma_list(&def.rows, |w, row| {
        w.push_char('(');
        w.comma_list(row, |w, x| visit(x, w))?;
        w.push_char(')');
        Ok(())
    })
}

// ------------------------------------------------------------------ compound

/// `a UNION b ... ORDER BY ... LIMIT ...`, `WITH` clause included.
pub fn compound_statement(c: &CompoundSelect, w: &mut SqlWriter<'_>) -> R {
    let mut ctes = Vec::new();
    compound_ctes(c, &mut ctes);
    with_clause(&ctes, w)?;
    compound_core(c, w)
}

fn compound_core(c: &CompoundSelect, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    if c.empty {
        return Err(CompileError::Invalid(
            "a set operation (UNION, ...) of no select".into(),
        ));
    }
    compound_member(&c.first, w)?;
    for (op, s) in &c.rest {
        w.push_char(' ');
        w.push(op.as_sql());
        w.push_char(' ');
        compound_member(s, w)?;
    }
    if !c.order_by.is_empty() {
        // The combined result has no tables: sort by result column names.
        let terms: Vec<OrderBy> = c.order_by.iter().map(unqualified_term).collect();
        w.push(" ORDER BY ");
        order_by_list(&terms, w)?;
    }
    d.limit_offset(c.limit, c.offset, w)
}

/// A sort term of a set operation: a column by its bare name.
fn unqualified_term(term: &OrderBy) -> OrderBy {
    match &term.expr {
        Expr::Column(c) if c.source.is_some() => OrderBy {
            expr: Expr::Column(ColumnRef {
                source: None,
                name: c.name.clone(),
            }),
            ..term.clone()
        },
        _ => term.clone(),
    }
}

/// A member of a set operation; one with its own ORDER BY or LIMIT is
/// wrapped as a derived table so every backend accepts it.
fn compound_member(s: &Select, w: &mut SqlWriter<'_>) -> R {
    if s.order_by.is_empty() && s.limit.is_none() && s.offset.is_none() {
        select_core(s, w)
    } else {
        w.push("SELECT * FROM (");
        select_core(s, w)?;
        w.push(") AS anon");
        Ok(())
    }
}

// ----------------------------------------------------------------------- DML

fn table_name(t: &Table, w: &mut SqlWriter<'_>) {
    if let Some(s) = t.schema_name() {
        w.ident(s);
        w.push_char('.');
    }
    w.ident(t.name());
}

fn returning(cols: &[Expr], feature: bool, what: &'static str, w: &mut SqlWriter<'_>) -> R {
    if cols.is_empty() {
        return Ok(());
    }
    let d = w.dialect();
    if !feature {
        return Err(unsupported(d, what));
    }
    w.push(" RETURNING ");
    w.comma_list(cols, |w, c| {
        visit(c, w)?;
        if let Expr::Label { name, .. } = c {
            w.push(" AS ");
            w.ident(name);
        }
        Ok(())
    })
}

/// The columns of `table` an insert of `given` leaves out that have a
/// client-side default (SQLAlchemy's `Column(default=...)`).
fn omitted_defaults<'t>(table: &'t Table, given: &[String]) -> Vec<&'t Column> {
    table
        .columns()
        .iter()
        .filter(|c| c.get_default().is_some() && !given.iter().any(|g| g == c.name()))
        .collect()
}

/// The value of a column's client-side default, computed now.
fn default_value(c: &Column) -> Expr {
    Expr::Value(c.get_default().map_or(Value::Null, |d| d.value()))
}

/// `INSERT INTO t (cols) VALUES (...), (...) [upsert] [RETURNING ...]`.
///
/// Columns the statement leaves out that have a client-side default get
/// it, computed once per row (a callable is called for each row).
pub fn insert_statement(ins: &Insert, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    if let Some(err) = &ins.error {
        return Err(err.clone());
    }
    w.push("INSERT INTO ");
    table_name(&ins.table, w);
    for c in &ins.columns {
        if ins.table.get_column(c).is_none() {
            return Err(CompileError::UnknownColumn {
                table: ins.table.name().to_owned(),
                column: c.clone(),
            });
        }
    }
    let defaults = omitted_defaults(&ins.table, &ins.columns);
    let column_list = |w: &mut SqlWriter<'_>| {
        w.push(" (");
        for (i, c) in ins
            .columns
            .iter()
            .map(String::as_str)
            .chain(defaults.iter().map(|c| c.name()))
            .enumerate()
        {
            if i > 0 {
                w.push(", ");
            }
            w.ident(c);
        }
        w.push_char(')');
    };
    match &ins.source {
        InsertSource::DefaultValues if defaults.is_empty() => w.push(d.default_values()),
        InsertSource::DefaultValues => {
            column_list(w);
            w.push(" VALUES (");
            w.comma_list(&defaults, |w, c| {
                visit_into(&ins.table, c.name(), &default_value(c), w)
            })?;
            w.push_char(')');
        }
        InsertSource::Values(rows) => {
            if rows.is_empty() {
                return Err(CompileError::Invalid(
                    "INSERT with no rows of values".into(),
                ));
            }
            if ins.columns.is_empty() && defaults.is_empty() {
                return Err(CompileError::Invalid(
                    "INSERT ... VALUES with no columns (use insert(table) alone for DEFAULT VALUES)"
                        .into(),
                ));
            }
            column_list(w);
            w.push(" VALUES ");
            for (i, row) in rows.iter().enumerate() {
                if row.len() != ins.columns.len() {
                    return Err(CompileError::Invalid(format!(
                        "INSERT row {} has {} values for {} columns",
                        i + 1,
                        row.len(),
                        ins.columns.len()
                    )));
                }
                if i > 0 {
                    w.push(", ");
                }
                w.push_char('(');
                for (j, (x, col)) in row.iter().zip(&ins.columns).enumerate() {
                    if j > 0 {
                        w.push(", ");
                    }
                    visit_into(&ins.table, col, x, w)?;
                }
                for (j, c) in defaults.iter().enumerate() {
                    if j > 0 || !row.is_empty() {
                        w.push(", ");
                    }
                    visit_into(&ins.table, c.name(), &default_value(c), w)?;
                }
                w.push_char(')');
            }
        }
        InsertSource::Select(s) => {
            let star = s.columns.is_empty() || s.columns.iter().any(|c| matches!(c, Expr::Star(_)));
            if !star && s.columns.len() != ins.columns.len() {
                return Err(CompileError::Invalid(format!(
                    "INSERT from a SELECT of {} columns into {} columns",
                    s.columns.len(),
                    ins.columns.len()
                )));
            }
            // Defaults ride along as more selected values (not after `*`,
            // whose width is unknown).
            let defaults = if star { Vec::new() } else { defaults };
            let mut s = std::borrow::Cow::Borrowed(&**s);
            if !defaults.is_empty() {
                s.to_mut()
                    .columns
                    .extend(defaults.iter().map(|c| default_value(c)));
            }
            w.push(" (");
            for (i, c) in ins
                .columns
                .iter()
                .map(String::as_str)
                .chain(defaults.iter().map(|c| c.name()))
                .enumerate()
            {
                if i > 0 {
                    w.push(", ");
                }
                w.ident(c);
            }
            w.push(") ");
            // `INSERT INTO t (..) WITH .. SELECT ..`: the one placement
            // PostgreSQL, SQLite and MySQL all accept.
            if ins.on_conflict.is_some() && s.where_.is_none() {
                // SQLite reads `FROM t ON CONFLICT` as a join constraint
                // unless a WHERE comes between (its documented workaround).
                s.to_mut().where_ = Some(crate::sql::text::literal_column("true"));
            }
            select_statement(&s, w)?;
        }
    }
    if ins.on_conflict.is_some() {
        d.upsert_clause(ins, w)?;
    }
    returning(
        &ins.returning,
        d.features().insert_returning,
        "INSERT ... RETURNING",
        w,
    )
}

/// The `WITH` clause of an `UPDATE` or `DELETE` whose subqueries use CTEs.
/// On a backend without `WITH ... UPDATE` nothing is written and the answer
/// is `true`: each subquery then carries its own `WITH`.
fn dml_with_clause(ctes: &[Arc<CteDef>], w: &mut SqlWriter<'_>) -> Result<bool, CompileError> {
    if ctes.is_empty() {
        return Ok(false);
    }
    if !w.dialect().features().cte_in_dml {
        return Ok(true);
    }
    with_clause(ctes, w)?;
    Ok(false)
}

/// `ON CONFLICT (target) DO UPDATE SET ... | DO NOTHING`.
pub fn upsert_clause(ins: &Insert, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    let Some(oc) = &ins.on_conflict else {
        return Ok(());
    };
    if !d.features().on_conflict {
        return Err(unsupported(d, "ON CONFLICT"));
    }
    w.push(" ON CONFLICT");
    if !oc.target.is_empty() {
        w.push(" (");
        w.comma_list(&oc.target, |w, c| {
            w.ident(c);
            Ok(())
        })?;
        w.push_char(')');
    }
    match &oc.action {
        ConflictAction::DoNothing => w.push(" DO NOTHING"),
        ConflictAction::DoUpdate(set) => {
            if oc.target.is_empty() {
                return Err(CompileError::Invalid(
                    "ON CONFLICT DO UPDATE needs a conflict target".into(),
                ));
            }
            w.push(" DO UPDATE SET ");
            set_list(&ins.table, set, false, w)?;
        }
    }
    Ok(())
}

/// `col = expr, ...` checking that each column belongs to `table`;
/// `qualified` writes `table.col` (MySQL's multi-table UPDATE).
pub fn set_list(
    table: &Table,
    set: &[(String, Expr)],
    qualified: bool,
    w: &mut SqlWriter<'_>,
) -> R {
    w.comma_list(set, |w, (col, value)| {
        if table.get_column(col).is_none() {
            return Err(CompileError::UnknownColumn {
                table: table.name().to_owned(),
                column: col.clone(),
            });
        }
        if qualified {
            table_name(table, w);
            w.push_char('.');
        }
        w.ident(col);
        w.push(" = ");
        visit_into(table, col, value, w)
    })
}

/// The sources other than `table` that the expressions of an `UPDATE` or
/// `DELETE` name (outside subqueries, which have FROM clauses of their
/// own): the other tables of a multi-table statement.
fn other_sources<'e>(table: &Table, exprs: impl IntoIterator<Item = &'e Expr>) -> Vec<Arc<Source>> {
    let mut found = Vec::new();
    for e in exprs {
        crate::sql::select::collect_sources(e, &mut found);
    }
    let target = table.source();
    found.retain(|s| !(s.qualifier() == target.qualifier() && matches!(**s, Source::Table { .. })));
    found
}

/// The CTEs the other tables of a multi-table statement are or use.
fn sources_ctes(sources: &[Arc<Source>], out: &mut Vec<Arc<CteDef>>) {
    for src in sources {
        collect_from_ctes(&FromItem::Source(src.clone()), out);
    }
}

/// `UPDATE t SET ... [FROM ...] WHERE ... [RETURNING ...]`.
///
/// Columns with an `onupdate` that the statement does not set get it.
/// Tables other than `t` named in the values or the condition make it a
/// multi-table update: `UPDATE t SET ... FROM a` (PostgreSQL, SQLite),
/// `UPDATE t, a SET t.x = ...` (MySQL).
pub fn update_statement(u: &Update, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    if u.set.is_empty() {
        return Err(CompileError::Invalid("UPDATE with no SET values".into()));
    }
    let mut set = std::borrow::Cow::Borrowed(&u.set);
    for c in u.table.columns() {
        if let Some(on) = c.get_onupdate() {
            if !u.set.iter().any(|(name, _)| name == c.name()) {
                set.to_mut()
                    .push((c.name().to_owned(), Expr::Value(on.value())));
            }
        }
    }
    let others = other_sources(&u.table, set.iter().map(|(_, e)| e).chain(&u.where_));
    let style = d.features().multi_table_update;
    if !others.is_empty() && style == MultiTable::Unsupported {
        return Err(unsupported(d, "multi-table UPDATE"));
    }
    let mut ctes = Vec::new();
    sources_ctes(&others, &mut ctes);
    set.iter().for_each(|(_, e)| expr_ctes(e, &mut ctes));
    u.where_.iter().for_each(|e| expr_ctes(e, &mut ctes));
    let nested = dml_with_clause(&ctes, w)?;
    let table_list = !others.is_empty() && style == MultiTable::TableList;
    w.push("UPDATE ");
    table_name(&u.table, w);
    if table_list {
        for src in &others {
            w.push(", ");
            w.without_scope(|w| from_source(src, w))?;
        }
    }
    w.push(" SET ");
    // Subqueries in SET and WHERE correlate to the updated table (and the
    // statement's other tables).
    w.set_nested_with(nested);
    let mut scope = vec![u.table.source().clone()];
    scope.extend(others.iter().cloned());
    let body = w.with_scope(scope, |w| {
        set_list(&u.table, &set, table_list, w)?;
        if !others.is_empty() && !table_list {
            w.push(" FROM ");
            w.comma_list(&others, |w, src| w.without_scope(|w| from_source(src, w)))?;
        }
        if let Some(cond) = &u.where_ {
            w.push(" WHERE ");
            visit(cond, w)?;
        }
        Ok(())
    });
    w.set_nested_with(false);
    body?;
    if table_list && !u.returning.is_empty() {
        return Err(unsupported(d, "multi-table UPDATE ... RETURNING"));
    }
    returning(
        &u.returning,
        d.features().update_returning,
        "UPDATE ... RETURNING",
        w,
    )
}

/// `DELETE FROM t [USING ...] WHERE ... [RETURNING ...]`.
///
/// Tables other than `t` named in the condition make it a multi-table
/// delete: `DELETE FROM t USING a` (PostgreSQL), `DELETE FROM t USING t, a`
/// (MySQL); SQLite has no form of it.
pub fn delete_statement(del: &Delete, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    let others = other_sources(&del.table, &del.where_);
    let style = d.features().multi_table_delete;
    if !others.is_empty() && style == MultiTable::Unsupported {
        return Err(unsupported(d, "multi-table DELETE"));
    }
    let mut ctes = Vec::new();
    sources_ctes(&others, &mut ctes);
    del.where_.iter().for_each(|e| expr_ctes(e, &mut ctes));
    let nested = dml_with_clause(&ctes, w)?;
    w.push("DELETE FROM ");
    table_name(&del.table, w);
    if !others.is_empty() {
        w.push(" USING ");
        if style == MultiTable::TableList {
            table_name(&del.table, w);
            w.push(", ");
        }
        w.comma_list(&others, |w, src| w.without_scope(|w| from_source(src, w)))?;
    }
    if let Some(cond) = &del.where_ {
        w.push(" WHERE ");
        // Subqueries in WHERE correlate to the deleted table.
        w.set_nested_with(nested);
        let mut scope = vec![del.table.source().clone()];
        scope.extend(others.iter().cloned());
        let body = w.with_scope(scope, |w| visit(cond, w));
        w.set_nested_with(false);
        body?;
    }
    if !others.is_empty() && !del.returning.is_empty() && style == MultiTable::TableList {
        return Err(unsupported(d, "multi-table DELETE ... RETURNING"));
    }
    returning(
        &del.returning,
        d.features().delete_returning,
        "DELETE ... RETURNING",
        w,
    )
}

// ----------------------------------------------------------------------- DDL

/// ANSI type names.
pub fn type_name(
    dialect: &'static str,
    ty: &SqlType,
    column: &str,
) -> Result<Cow<'static, str>, CompileError> {
    Ok(match ty {
        SqlType::SmallInteger => "SMALLINT".into(),
        SqlType::Integer => "INTEGER".into(),
        SqlType::BigInteger => "BIGINT".into(),
        SqlType::Float => "REAL".into(),
        SqlType::Double => "DOUBLE PRECISION".into(),
        SqlType::Numeric(p, s) => format!("NUMERIC({p}, {s})").into(),
        SqlType::String(Some(n)) => format!("VARCHAR({n})").into(),
        SqlType::String(None) => "VARCHAR".into(),
        SqlType::Text => "TEXT".into(),
        SqlType::Boolean => "BOOLEAN".into(),
        SqlType::Date => "DATE".into(),
        SqlType::Time => "TIME".into(),
        SqlType::DateTime { timezone: false } => "TIMESTAMP".into(),
        SqlType::DateTime { timezone: true } => "TIMESTAMP WITH TIME ZONE".into(),
        SqlType::Uuid => "CHAR(36)".into(),
        SqlType::Json => "JSON".into(),
        SqlType::Binary(Some(n)) => format!("VARBINARY({n})").into(),
        SqlType::Binary(None) => "BLOB".into(),
        SqlType::Enum { variants, .. } => {
            let len = variants.iter().map(String::len).max().unwrap_or(1).max(1);
            if variants.is_empty() {
                return Err(CompileError::InvalidType {
                    dialect,
                    ty: format!("{ty:?}"),
                    column: column.to_owned(),
                    reason: "an enum needs at least one value",
                });
            }
            format!("VARCHAR({len})").into()
        }
    })
}

/// A literal for DDL: strings quoted with `'` doubled (and `\` doubled when
/// `escape_backslash`), numbers as written, booleans as `true`/`false`.
pub fn write_literal(value: &Value, w: &mut SqlWriter<'_>, escape_backslash: bool) -> R {
    let native_bool = w.dialect().features().native_bool;
    match value {
        Value::Null => w.push("NULL"),
        Value::Bool(b) => w.push(match (native_bool, b) {
            (true, true) => "true",
            (true, false) => "false",
            (false, true) => "1",
            (false, false) => "0",
        }),
        Value::SmallInt(n) => w.push(&n.to_string()),
        Value::Int(n) => w.push(&n.to_string()),
        Value::BigInt(n) => w.push(&n.to_string()),
        Value::Float(f) if !f.is_finite() => return Err(non_finite(f64::from(*f))),
        Value::Double(f) if !f.is_finite() => return Err(non_finite(*f)),
        Value::Float(f) => w.push(&f.to_string()),
        Value::Double(f) => w.push(&f.to_string()),
        #[cfg(feature = "decimal")]
        Value::Decimal(d) => w.push(&d.to_string()),
        Value::String(s) => string_literal(s, w, escape_backslash),
        #[cfg(feature = "uuid")]
        Value::Uuid(u) => string_literal(&u.to_string(), w, false),
        #[cfg(feature = "chrono")]
        Value::Date(_) | Value::Time(_) | Value::DateTime(_) => {
            string_literal(&value.to_string(), w, false);
        }
        #[cfg(feature = "time")]
        Value::TimeDate(_) | Value::TimeTime(_) | Value::TimePrimitiveDateTime(_) => {
            string_literal(&value.to_string(), w, false);
        }
        #[cfg(feature = "json")]
        Value::Json(j) => string_literal(&j.to_string(), w, escape_backslash),
        other => {
            return Err(CompileError::UnsupportedLiteral {
                kind: other.type_name(),
            })
        }
    }
    Ok(())
}

fn non_finite(f: f64) -> CompileError {
    CompileError::UnsupportedLiteral {
        kind: if f.is_nan() {
            "NaN float"
        } else {
            "infinite float"
        },
    }
}

/// Bytes as upper-case hexadecimal digits.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02X}");
    }
    out
}

/// `'text'` with quotes (and optionally backslashes) doubled.
pub fn string_literal(s: &str, w: &mut SqlWriter<'_>, escape_backslash: bool) {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for ch in s.chars() {
        if ch == '\'' || (escape_backslash && ch == '\\') {
            out.push(ch);
        }
        out.push(ch);
    }
    out.push('\'');
    w.push(&out);
}

/// `name TYPE [NOT NULL] [DEFAULT ...]` for one column.
pub fn column_spec(table: &Table, column: &Column, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    w.ident(column.name());
    w.push_char(' ');
    let ty = d.type_name(column.sql_type(), column.name())?;
    w.push(&ty);
    let _ = is_autoincrement(table, column);
    default_and_null(column, w)
}

/// `[DEFAULT ...] [NOT NULL]` of a column.
pub fn default_and_null(column: &Column, w: &mut SqlWriter<'_>) -> R {
    if let Some(default) = column.get_server_default() {
        w.push(" DEFAULT ");
        let d = w.dialect();
        d.server_default(column, default, w)?;
    }
    if !column.is_nullable() {
        w.push(" NOT NULL");
    }
    Ok(())
}

/// A server default: a literal, or an expression in parentheses.
pub fn server_default(default: &ServerDefault, w: &mut SqlWriter<'_>) -> R {
    w.with_inline_literals(|w| match default {
        ServerDefault::Literal(v) => {
            let d = w.dialect();
            d.write_literal(v, w)
        }
        ServerDefault::Expr(e) => {
            w.push_char('(');
            visit(e, w)?;
            w.push_char(')');
            Ok(())
        }
    })
}

/// `DROP INDEX [IF EXISTS] [schema.]name` (an index lives in its table's schema).
pub fn drop_index(index: &str, table: &Table, if_exists: bool, w: &mut SqlWriter<'_>) -> R {
    w.push("DROP INDEX ");
    if if_exists {
        w.push("IF EXISTS ");
    }
    if let Some(schema) = table.schema_name() {
        w.ident(schema);
        w.push_char('.');
    }
    w.ident(index);
    Ok(())
}

/// `[schema.]table`.
pub fn qualified_table(table: &Table, w: &mut SqlWriter<'_>) {
    table_name(table, w);
}

/// `name ON [schema.]table` of `CREATE INDEX`.
pub fn index_on_table(index: &str, table: &Table, w: &mut SqlWriter<'_>) {
    w.ident(index);
    w.push(" ON ");
    table_name(table, w);
}
