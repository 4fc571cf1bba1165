//! The expression tree: columns, bound values, operators, functions.
//!
//! An [`Expr`] is data only; a dialect's compiler turns it into SQL text
//! and ordered parameters. Operators are methods (`col.eq(v)`, `a.and(b)`)
//! and, for arithmetic, the `+ - * / %` operators.

use std::sync::Arc;

use crate::error::CompileError;
use crate::schema::types::SqlType;
use crate::sql::select::Select;
use crate::value::Value;

/// Where a column comes from: what qualifies it in SQL and what a FROM
/// clause renders when the source is inferred.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A table, optionally in a schema.
    Table {
        /// Table name.
        name: Arc<str>,
        /// Schema name.
        schema: Option<Arc<str>>,
        /// The table's column names (what `filter_by` may refer to).
        columns: Arc<[Arc<str>]>,
    },
    /// An aliased table: `resume AS r`.
    TableAlias {
        /// Table name.
        table: Arc<str>,
        /// Schema name.
        schema: Option<Arc<str>>,
        /// Alias.
        alias: Arc<str>,
        /// The table's column names.
        columns: Arc<[Arc<str>]>,
    },
    /// A named subquery in FROM: `(SELECT ...) AS helper1`.
    Subquery {
        /// The query.
        select: Box<Select>,
        /// Its name.
        alias: Arc<str>,
    },
    /// A common table expression, referenced by name.
    Cte(Arc<crate::sql::cte::CteDef>),
}

impl Source {
    /// The name that qualifies this source's columns.
    pub fn qualifier(&self) -> &str {
        match self {
            Source::Table { name, .. } => name,
            Source::TableAlias { alias, .. } => alias,
            Source::Subquery { alias, .. } => alias,
            Source::Cte(cte) => &cte.name,
        }
    }

    /// Whether the source has a (result) column named `name`.
    pub fn has_column(&self, name: &str) -> bool {
        match self {
            Source::Table { columns, .. } | Source::TableAlias { columns, .. } => {
                columns.iter().any(|c| &**c == name)
            }
            Source::Subquery { select, .. } => {
                select.column_names().iter().flatten().any(|c| *c == name)
            }
            Source::Cte(cte) => cte.columns.iter().flatten().any(|c| &**c == name),
        }
    }

    /// A column of this source, or an expression that fails to compile with
    /// [`CompileError::UnknownColumn`] when the source has no such column.
    pub fn column(self: &Arc<Self>, name: &str) -> Expr {
        if self.has_column(name) {
            Expr::Column(ColumnRef {
                source: Some(self.clone()),
                name: name.into(),
            })
        } else {
            Expr::Invalid(Box::new(CompileError::UnknownColumn {
                table: self.qualifier().to_owned(),
                column: name.to_owned(),
            }))
        }
    }
}

/// A column reference, qualified by its source when it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnRef {
    /// Where the column comes from; `None` for a bare name.
    pub source: Option<Arc<Source>>,
    /// The column's name.
    pub name: Arc<str>,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BinaryOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `AND`
    And,
    /// `OR`
    Or,
    /// `LIKE`
    Like,
    /// `NOT LIKE`
    NotLike,
    /// Case-insensitive `LIKE` (emulated with `lower()` where missing).
    ILike,
    /// Case-insensitive `NOT LIKE`.
    NotILike,
    /// String concatenation (`||`, or `CONCAT()` on MySQL).
    Concat,
}

impl BinaryOp {
    /// The ANSI spelling of the operator.
    pub fn as_sql(self) -> &'static str {
        match self {
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
            BinaryOp::Like => "LIKE",
            BinaryOp::NotLike => "NOT LIKE",
            BinaryOp::ILike => "ILIKE",
            BinaryOp::NotILike => "NOT ILIKE",
            BinaryOp::Concat => "||",
        }
    }
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `NOT`
    Not,
    /// Arithmetic negation.
    Neg,
    /// `DISTINCT` before an expression (`count(DISTINCT x)` or a column).
    Distinct,
}

/// Functions whose spelling differs per dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecialFunction {
    /// The current timestamp in the session's time zone.
    Now,
    /// The current timestamp in UTC.
    UtcNow,
    /// Character length of a string.
    Length,
}

/// A SQL expression.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Expr {
    /// A column.
    Column(ColumnRef),
    /// A bound value (always a placeholder in SQL).
    Value(Value),
    /// `*`, or `source.*`.
    Star(Option<Arc<Source>>),
    /// `left op right`.
    Binary {
        /// Operator.
        op: BinaryOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `op expr`.
    Unary {
        /// Operator.
        op: UnaryOp,
        /// Operand.
        expr: Box<Expr>,
    },
    /// `expr IS [NOT] NULL`.
    IsNull {
        /// Operand.
        expr: Box<Expr>,
        /// `IS NOT NULL` when true.
        negated: bool,
    },
    /// `expr [NOT] IN (list)`; an empty list compiles to a constant false
    /// (or true when negated).
    InList {
        /// Operand.
        expr: Box<Expr>,
        /// Candidates.
        list: Vec<Expr>,
        /// `NOT IN` when true.
        negated: bool,
    },
    /// `expr [NOT] IN (SELECT ...)`.
    InSelect {
        /// Operand.
        expr: Box<Expr>,
        /// The subquery.
        select: Box<Select>,
        /// `NOT IN` when true.
        negated: bool,
    },
    /// `expr [NOT] BETWEEN low AND high`.
    Between {
        /// Operand.
        expr: Box<Expr>,
        /// Lower bound.
        low: Box<Expr>,
        /// Upper bound.
        high: Box<Expr>,
        /// `NOT BETWEEN` when true.
        negated: bool,
    },
    /// A function call `name(args)`.
    Function {
        /// Function name, rendered as given.
        name: Arc<str>,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// A function spelled per dialect.
    Special {
        /// Which one.
        func: SpecialFunction,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// `CAST(expr AS type)`.
    Cast {
        /// Operand.
        expr: Box<Expr>,
        /// Target type.
        ty: SqlType,
    },
    /// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`.
    Case {
        /// Simple-case operand.
        operand: Option<Box<Expr>>,
        /// `(when, then)` pairs.
        whens: Vec<(Expr, Expr)>,
        /// `ELSE` branch.
        else_: Option<Box<Expr>>,
    },
    /// `expr AS name` in a columns clause; elsewhere the expression itself.
    Label {
        /// Operand.
        expr: Box<Expr>,
        /// Label.
        name: Arc<str>,
    },
    /// A scalar subquery `(SELECT ...)`.
    Subquery(Box<Select>),
    /// `[NOT] EXISTS (SELECT ...)`.
    Exists {
        /// The subquery.
        select: Box<Select>,
        /// `NOT EXISTS` when true.
        negated: bool,
    },
    /// `func OVER (window)`.
    Over {
        /// The function.
        func: Box<Expr>,
        /// The window.
        window: Box<crate::sql::window::Window>,
    },
    /// A parenthesised list `(a, b)`.
    Tuple(Vec<Expr>),
    /// SQL text with `:name` parameters bound to values.
    Text(crate::sql::text::TextClause),
    /// The value an upsert would have inserted (`excluded.col`, `VALUES(col)`).
    Excluded(Arc<str>),
    /// An expression that could not be built; compiling it fails with the error.
    Invalid(Box<CompileError>),
}

/// Anything usable where an expression is expected.
pub trait IntoExpr {
    /// Converts into an expression.
    fn into_expr(self) -> Expr;
}

impl<T: Into<Value>> IntoExpr for T {
    fn into_expr(self) -> Expr {
        Expr::Value(self.into())
    }
}

impl IntoExpr for Expr {
    fn into_expr(self) -> Expr {
        self
    }
}

impl IntoExpr for &Expr {
    fn into_expr(self) -> Expr {
        self.clone()
    }
}

fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    Expr::Binary {
        op,
        left: Box::new(left),
        right: Box::new(right),
    }
}

/// A column by bare name, unqualified (as SQLAlchemy's `column("x")`).
pub fn column(name: &str) -> Expr {
    Expr::Column(ColumnRef {
        source: None,
        name: name.into(),
    })
}

/// A bound literal value.
pub fn literal(value: impl Into<Value>) -> Expr {
    Expr::Value(value.into())
}

/// In an upsert's update list: the value the insert proposed for `column`.
pub fn excluded(column: &str) -> Expr {
    Expr::Excluded(column.into())
}

/// `*`.
pub fn star() -> Expr {
    Expr::Star(None)
}

/// All conditions joined with `AND`; an empty list is `true`.
pub fn and_(conds: impl IntoIterator<Item = Expr>) -> Expr {
    conds
        .into_iter()
        .reduce(|a, b| a.and(b))
        .unwrap_or(Expr::Value(Value::Bool(true)))
}

/// Any condition joined with `OR`; an empty list is `false`.
pub fn or_(conds: impl IntoIterator<Item = Expr>) -> Expr {
    conds
        .into_iter()
        .reduce(|a, b| a.or(b))
        .unwrap_or(Expr::Value(Value::Bool(false)))
}

/// `NOT expr`.
pub fn not_(expr: Expr) -> Expr {
    Expr::Unary {
        op: UnaryOp::Not,
        expr: Box::new(expr),
    }
}

/// `DISTINCT expr`.
pub fn distinct(expr: impl IntoExpr) -> Expr {
    Expr::Unary {
        op: UnaryOp::Distinct,
        expr: Box::new(expr.into_expr()),
    }
}

/// `CAST(expr AS ty)`.
pub fn cast(expr: impl IntoExpr, ty: SqlType) -> Expr {
    Expr::Cast {
        expr: Box::new(expr.into_expr()),
        ty,
    }
}

/// `EXISTS (select)`.
pub fn exists(select: Select) -> Expr {
    Expr::Exists {
        select: Box::new(select),
        negated: false,
    }
}

/// `NOT EXISTS (select)`.
pub fn not_exists(select: Select) -> Expr {
    Expr::Exists {
        select: Box::new(select),
        negated: true,
    }
}

/// A searched `CASE WHEN cond THEN value ... END`.
pub fn case<I, C, V>(whens: I) -> Expr
where
    I: IntoIterator<Item = (C, V)>,
    C: IntoExpr,
    V: IntoExpr,
{
    Expr::Case {
        operand: None,
        whens: whens
            .into_iter()
            .map(|(c, v)| (c.into_expr(), v.into_expr()))
            .collect(),
        else_: None,
    }
}

/// A tuple `(a, b, ...)`, for row-value comparisons and `IN`.
pub fn tuple(items: impl IntoIterator<Item = Expr>) -> Expr {
    Expr::Tuple(items.into_iter().collect())
}

impl Expr {
    /// `self = other`.
    pub fn eq(self, other: impl IntoExpr) -> Expr {
        binary(BinaryOp::Eq, self, other.into_expr())
    }
    /// `self <> other`.
    pub fn ne(self, other: impl IntoExpr) -> Expr {
        binary(BinaryOp::Ne, self, other.into_expr())
    }
    /// `self < other`.
    pub fn lt(self, other: impl IntoExpr) -> Expr {
        binary(BinaryOp::Lt, self, other.into_expr())
    }
    /// `self <= other`.
    pub fn le(self, other: impl IntoExpr) -> Expr {
        binary(BinaryOp::Le, self, other.into_expr())
    }
    /// `self > other`.
    pub fn gt(self, other: impl IntoExpr) -> Expr {
        binary(BinaryOp::Gt, self, other.into_expr())
    }
    /// `self >= other`.
    pub fn ge(self, other: impl IntoExpr) -> Expr {
        binary(BinaryOp::Ge, self, other.into_expr())
    }
    /// `self AND other`.
    pub fn and(self, other: impl IntoExpr) -> Expr {
        binary(BinaryOp::And, self, other.into_expr())
    }
    /// `self OR other`.
    pub fn or(self, other: impl IntoExpr) -> Expr {
        binary(BinaryOp::Or, self, other.into_expr())
    }
    /// `self LIKE pattern`: `%` and `_` are wildcards, and on every backend
    /// a backslash escapes them and itself (the pattern `50\%` matches the
    /// text `50%` only).
    pub fn like(self, pattern: impl IntoExpr) -> Expr {
        binary(BinaryOp::Like, self, pattern.into_expr())
    }
    /// `self NOT LIKE pattern`.
    pub fn not_like(self, pattern: impl IntoExpr) -> Expr {
        binary(BinaryOp::NotLike, self, pattern.into_expr())
    }
    /// Case-insensitive `LIKE`.
    pub fn ilike(self, pattern: impl IntoExpr) -> Expr {
        binary(BinaryOp::ILike, self, pattern.into_expr())
    }
    /// Case-insensitive `NOT LIKE`.
    pub fn not_ilike(self, pattern: impl IntoExpr) -> Expr {
        binary(BinaryOp::NotILike, self, pattern.into_expr())
    }
    /// String concatenation.
    pub fn concat(self, other: impl IntoExpr) -> Expr {
        binary(BinaryOp::Concat, self, other.into_expr())
    }
    /// `self IS NULL`.
    pub fn is_null(self) -> Expr {
        Expr::IsNull {
            expr: Box::new(self),
            negated: false,
        }
    }
    /// `self IS NOT NULL`.
    pub fn is_not_null(self) -> Expr {
        Expr::IsNull {
            expr: Box::new(self),
            negated: true,
        }
    }
    /// `self IN (values)`; an empty list is never true.
    pub fn in_<I, V>(self, values: I) -> Expr
    where
        I: IntoIterator<Item = V>,
        V: IntoExpr,
    {
        Expr::InList {
            expr: Box::new(self),
            list: values.into_iter().map(IntoExpr::into_expr).collect(),
            negated: false,
        }
    }
    /// `self NOT IN (values)`; an empty list is always true.
    pub fn not_in<I, V>(self, values: I) -> Expr
    where
        I: IntoIterator<Item = V>,
        V: IntoExpr,
    {
        Expr::InList {
            expr: Box::new(self),
            list: values.into_iter().map(IntoExpr::into_expr).collect(),
            negated: true,
        }
    }
    /// `self IN (SELECT ...)`.
    pub fn in_select(self, select: Select) -> Expr {
        Expr::InSelect {
            expr: Box::new(self),
            select: Box::new(select),
            negated: false,
        }
    }
    /// `self NOT IN (SELECT ...)`.
    pub fn not_in_select(self, select: Select) -> Expr {
        Expr::InSelect {
            expr: Box::new(self),
            select: Box::new(select),
            negated: true,
        }
    }
    /// `self BETWEEN low AND high`.
    pub fn between(self, low: impl IntoExpr, high: impl IntoExpr) -> Expr {
        Expr::Between {
            expr: Box::new(self),
            low: Box::new(low.into_expr()),
            high: Box::new(high.into_expr()),
            negated: false,
        }
    }
    /// `self NOT BETWEEN low AND high`.
    pub fn not_between(self, low: impl IntoExpr, high: impl IntoExpr) -> Expr {
        Expr::Between {
            expr: Box::new(self),
            low: Box::new(low.into_expr()),
            high: Box::new(high.into_expr()),
            negated: true,
        }
    }
    /// `self AS name` in a columns clause.
    pub fn label(self, name: &str) -> Expr {
        Expr::Label {
            expr: Box::new(self),
            name: name.into(),
        }
    }
    /// `CAST(self AS ty)`.
    pub fn cast(self, ty: SqlType) -> Expr {
        cast(self, ty)
    }
    /// Ascending order (for `order_by`).
    pub fn asc(self) -> crate::sql::select::OrderBy {
        crate::sql::select::OrderBy::new(self, false)
    }
    /// Descending order (for `order_by`).
    pub fn desc(self) -> crate::sql::select::OrderBy {
        crate::sql::select::OrderBy::new(self, true)
    }
    /// Adds an `ELSE` branch to a `CASE`; on other expressions it does nothing.
    pub fn else_(self, value: impl IntoExpr) -> Expr {
        match self {
            Expr::Case { operand, whens, .. } => Expr::Case {
                operand,
                whens,
                else_: Some(Box::new(value.into_expr())),
            },
            other => other,
        }
    }
    /// `self OVER (window)`, for window and aggregate functions.
    pub fn over(self, window: crate::sql::window::Window) -> Expr {
        Expr::Over {
            func: Box::new(self),
            window: Box::new(window),
        }
    }

    /// The name this expression has in a result row: its label, or a column's name.
    pub fn output_name(&self) -> Option<&str> {
        match self {
            Expr::Label { name, .. } => Some(name),
            Expr::Column(c) => Some(&c.name),
            _ => None,
        }
    }
}

macro_rules! arith {
    ($trait:ident, $method:ident, $op:ident) => {
        impl<R: IntoExpr> std::ops::$trait<R> for Expr {
            type Output = Expr;
            fn $method(self, rhs: R) -> Expr {
                binary(BinaryOp::$op, self, rhs.into_expr())
            }
        }
    };
}

arith!(Add, add, Add);
arith!(Sub, sub, Sub);
arith!(Mul, mul, Mul);
arith!(Div, div, Div);
arith!(Rem, rem, Mod);

impl std::ops::Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::Unary {
            op: UnaryOp::Neg,
            expr: Box::new(self),
        }
    }
}

impl std::ops::Not for Expr {
    type Output = Expr;
    fn not(self) -> Expr {
        not_(self)
    }
}
