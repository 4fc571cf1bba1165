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
        /// The columns' types, in the same order; empty when unknown (the
        /// compiler then treats every column as of unknown type).
        types: Arc<[SqlType]>,
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
        /// The columns' types, in the same order; empty when unknown.
        types: Arc<[SqlType]>,
    },
    /// A named subquery in FROM: `(SELECT ...) AS helper1`, or a set
    /// operation (`(SELECT ... UNION SELECT ...) AS u`).
    Subquery {
        /// The query.
        query: Box<crate::sql::cte::CteBody>,
        /// Its name.
        alias: Arc<str>,
        /// `LATERAL`: the subquery may refer to the FROM items before it.
        lateral: bool,
    },
    /// A `VALUES` list used as a FROM item, SQLAlchemy's `values()`.
    Values(crate::sql::values::ValuesDef),
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
            Source::Values(v) => &v.alias,
            Source::Cte(cte) => &cte.name,
        }
    }

    /// Whether the source has a (result) column named `name`.
    pub fn has_column(&self, name: &str) -> bool {
        match self {
            Source::Table { columns, .. } | Source::TableAlias { columns, .. } => {
                columns.iter().any(|c| &**c == name)
            }
            Source::Subquery { query, .. } => query
                .first_select()
                .column_names()
                .iter()
                .flatten()
                .any(|c| *c == name),
            Source::Values(v) => v.columns.iter().any(|c| &**c == name),
            Source::Cte(cte) => cte.columns.iter().flatten().any(|c| &**c == name),
        }
    }

    /// The type of the (result) column `name`, when the statement tells it:
    /// a table's declared type, or the type of a subquery's or CTE's
    /// expression for that column.
    pub fn column_type(&self, name: &str) -> Option<std::borrow::Cow<'_, SqlType>> {
        match self {
            Source::Table { columns, types, .. } | Source::TableAlias { columns, types, .. } => {
                let i = columns.iter().position(|c| &**c == name)?;
                types.get(i).map(std::borrow::Cow::Borrowed)
            }
            Source::Values(v) => {
                let i = v.columns.iter().position(|c| &**c == name)?;
                v.types.get(i).map(std::borrow::Cow::Borrowed)
            }
            Source::Subquery { query, .. } => query
                .first_select()
                .columns
                .iter()
                .find(|c| c.output_name() == Some(name))
                .and_then(crate::compiler::typing::type_of),
            Source::Cte(cte) => cte.column_type(name),
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
    /// Floor division (SQLAlchemy's `//`): integer division on two
    /// integers, `FLOOR(a / b)` otherwise.
    FloorDiv,
    /// `IS DISTINCT FROM` (NULL-safe `<>`).
    IsDistinctFrom,
    /// `IS NOT DISTINCT FROM` (NULL-safe `=`).
    IsNotDistinctFrom,
    /// A regular-expression match (`~` on PostgreSQL, `REGEXP` elsewhere).
    RegexpMatch,
    /// No regular-expression match.
    NotRegexpMatch,
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
            BinaryOp::FloorDiv => "/",
            BinaryOp::IsDistinctFrom => "IS DISTINCT FROM",
            BinaryOp::IsNotDistinctFrom => "IS NOT DISTINCT FROM",
            BinaryOp::RegexpMatch => "~",
            BinaryOp::NotRegexpMatch => "!~",
        }
    }

    /// Whether this is a comparison (`=`, `<`, `LIKE`, `IS DISTINCT FROM`,
    /// ...): non-associative, so a comparison operand gets parentheses.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge
                | BinaryOp::Like
                | BinaryOp::NotLike
                | BinaryOp::ILike
                | BinaryOp::NotILike
                | BinaryOp::IsDistinctFrom
                | BinaryOp::IsNotDistinctFrom
                | BinaryOp::RegexpMatch
                | BinaryOp::NotRegexpMatch
        )
    }
}

/// A field of a date or time, for [`extract`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateField {
    /// The year.
    Year,
    /// The month (1-12).
    Month,
    /// The day of the month (1-31).
    Day,
    /// The hour (0-23).
    Hour,
    /// The minute (0-59).
    Minute,
    /// The whole seconds (0-59).
    Second,
}

impl DateField {
    /// The SQL keyword of the field.
    pub fn as_sql(self) -> &'static str {
        match self {
            DateField::Year => "YEAR",
            DateField::Month => "MONTH",
            DateField::Day => "DAY",
            DateField::Hour => "HOUR",
            DateField::Minute => "MINUTE",
            DateField::Second => "SECOND",
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
    /// String concatenation of every argument (`a || b` or `concat(a, b)`).
    Concat,
    /// The strings of a group joined with a separator (`string_agg`,
    /// `group_concat`).
    AggregateStrings,
    /// A field of a date or timestamp as an integer (`EXTRACT(YEAR FROM x)`).
    Extract(DateField),
    /// The first argument that is not NULL.
    Coalesce,
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
    /// `expr [NOT] LIKE pattern ESCAPE 'c'`, with an explicit escape
    /// character (`like` without one escapes with a backslash).
    Like {
        /// Operand.
        expr: Box<Expr>,
        /// The pattern.
        pattern: Box<Expr>,
        /// The escape character.
        escape: char,
        /// `NOT LIKE` when true.
        negated: bool,
        /// Case-insensitive (`ILIKE`, emulated with `lower()` where missing).
        case_insensitive: bool,
    },
    /// A named placeholder whose value comes with each execution
    /// (SQLAlchemy's `bindparam("name")`): see
    /// [`Statement::compile_with_binds`](crate::Statement::compile_with_binds).
    /// Compiled alone it binds its default value, or NULL.
    BindParam {
        /// The parameter's name.
        name: Arc<str>,
        /// The value it has when an execution gives none.
        value: Option<Value>,
    },
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

/// `left op right`, where comparing with NULL becomes `IS [NOT] NULL`.
fn null_comparison(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    let negated = op == BinaryOp::Ne;
    match (left, right) {
        (e, Expr::Value(Value::Null)) | (Expr::Value(Value::Null), e) => Expr::IsNull {
            expr: Box::new(e),
            negated,
        },
        (l, r) => binary(op, l, r),
    }
}

fn like(expr: Expr, pattern: Expr, escape: char, negated: bool, case_insensitive: bool) -> Expr {
    Expr::Like {
        expr: Box::new(expr),
        pattern: Box::new(pattern),
        escape,
        negated,
        case_insensitive,
    }
}

/// Escapes the LIKE wildcards `%` and `_`, and the backslash, of `text`.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The LIKE pattern `[%]e[%]`: a text value escaped, any other expression
/// concatenated with the wildcards.
fn affixed(e: Expr, before: bool, after: bool) -> Expr {
    if let Expr::Value(Value::String(s)) = &e {
        let mut p = String::with_capacity(s.len() + 4);
        if before {
            p.push('%');
        }
        p.push_str(&escape_like(s));
        if after {
            p.push('%');
        }
        return Expr::Value(Value::String(p));
    }
    let mut out = e;
    if before {
        out = binary(BinaryOp::Concat, Expr::Value("%".into()), out);
    }
    if after {
        out = binary(BinaryOp::Concat, out, Expr::Value("%".into()));
    }
    out
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

/// A named placeholder filled per execution (SQLAlchemy's `bindparam`):
/// one statement, many parameter sets (`Connection::execute_many_with`).
///
/// ```
/// use dialects::{bindparam, insert, Column, Postgres, SqlType, Statement, Table};
/// let t = Table::new("t").column(Column::new("name", SqlType::Text));
/// let stmt = insert(&t).values([("name", bindparam("name"))]);
/// let prepared = stmt.compile_with_binds(&Postgres).unwrap();
/// assert_eq!(prepared.compiled.sql, "INSERT INTO t (name) VALUES ($1)");
/// assert_eq!(prepared.names(), ["name"]);
/// ```
pub fn bindparam(name: &str) -> Expr {
    Expr::BindParam {
        name: name.into(),
        value: None,
    }
}

/// A named placeholder with a default value, used when an execution's
/// parameter set does not name it.
pub fn bindparam_with(name: &str, value: impl Into<Value>) -> Expr {
    Expr::BindParam {
        name: name.into(),
        value: Some(value.into()),
    }
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

/// A simple `CASE operand WHEN value THEN result ... END` (SQLAlchemy's
/// `case({...}, value=operand)`): the first `value` equal to `operand`
/// gives its result.
///
/// ```
/// use dialects::{case_value, select, Column, Postgres, SqlType, Table};
/// let t = Table::new("t").column(Column::new("code", SqlType::Integer));
/// let label = case_value(t.c("code"), [(1, "one"), (2, "two")]).else_("many");
/// assert_eq!(select((label,)).compile(&Postgres).unwrap().sql,
///     "SELECT CASE t.code WHEN $1 THEN $2 WHEN $3 THEN $4 ELSE $5 END FROM t");
/// ```
pub fn case_value<I, C, V>(operand: impl IntoExpr, whens: I) -> Expr
where
    I: IntoIterator<Item = (C, V)>,
    C: IntoExpr,
    V: IntoExpr,
{
    match case(whens) {
        Expr::Case { whens, else_, .. } => Expr::Case {
            operand: Some(Box::new(operand.into_expr())),
            whens,
            else_,
        },
        other => other,
    }
}

/// A tuple `(a, b, ...)`, for row-value comparisons and `IN`.
pub fn tuple(items: impl IntoIterator<Item = Expr>) -> Expr {
    Expr::Tuple(items.into_iter().collect())
}

impl Expr {
    /// `self = other`; comparing with NULL (`Value::Null`, `None`) is
    /// `self IS NULL`, as in SQLAlchemy.
    ///
    /// ```
    /// use dialects::{select, Column, Postgres, SqlType, Table};
    /// let t = Table::new("t").column(Column::new("x", SqlType::Integer));
    /// let q = select((t.c("x"),)).where_(t.c("x").eq(None::<i32>));
    /// assert_eq!(q.compile(&Postgres).unwrap().sql, "SELECT t.x FROM t WHERE t.x IS NULL");
    /// ```
    pub fn eq(self, other: impl IntoExpr) -> Expr {
        null_comparison(BinaryOp::Eq, self, other.into_expr())
    }
    /// `self <> other`; comparing with NULL is `self IS NOT NULL`.
    pub fn ne(self, other: impl IntoExpr) -> Expr {
        null_comparison(BinaryOp::Ne, self, other.into_expr())
    }
    /// `self IS DISTINCT FROM other`: `<>` where NULL equals NULL
    /// (`IS NOT` on SQLite, `NOT (a <=> b)` on MySQL).
    pub fn is_distinct_from(self, other: impl IntoExpr) -> Expr {
        binary(BinaryOp::IsDistinctFrom, self, other.into_expr())
    }
    /// `self IS NOT DISTINCT FROM other`: `=` where NULL equals NULL
    /// (`IS` on SQLite, `<=>` on MySQL).
    pub fn is_not_distinct_from(self, other: impl IntoExpr) -> Expr {
        binary(BinaryOp::IsNotDistinctFrom, self, other.into_expr())
    }
    /// Floor division, SQLAlchemy's `//`: on two integers the backend's
    /// integer division (`a / b`, MySQL's `a DIV b`, which truncate toward
    /// zero), otherwise `FLOOR(a / b)` (on SQLite, which has no `FLOOR`,
    /// `CAST(a / b AS INTEGER)`, truncating too). Plain `/` is true
    /// division.
    pub fn floordiv(self, other: impl IntoExpr) -> Expr {
        binary(BinaryOp::FloorDiv, self, other.into_expr())
    }
    /// Whether `self` matches the regular expression `pattern` (`~` on
    /// PostgreSQL, `REGEXP` on MySQL and SQLite).
    pub fn regexp_match(self, pattern: impl IntoExpr) -> Expr {
        binary(BinaryOp::RegexpMatch, self, pattern.into_expr())
    }
    /// Whether `self` does not match the regular expression `pattern`.
    pub fn not_regexp_match(self, pattern: impl IntoExpr) -> Expr {
        binary(BinaryOp::NotRegexpMatch, self, pattern.into_expr())
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
    /// `self LIKE pattern ESCAPE 'escape'`: `escape` (instead of a
    /// backslash) makes the `%`, `_` or `escape` after it literal.
    pub fn like_escape(self, pattern: impl IntoExpr, escape: char) -> Expr {
        like(self, pattern.into_expr(), escape, false, false)
    }
    /// `self NOT LIKE pattern ESCAPE 'escape'`.
    pub fn not_like_escape(self, pattern: impl IntoExpr, escape: char) -> Expr {
        like(self, pattern.into_expr(), escape, true, false)
    }
    /// Case-insensitive `LIKE pattern ESCAPE 'escape'`.
    pub fn ilike_escape(self, pattern: impl IntoExpr, escape: char) -> Expr {
        like(self, pattern.into_expr(), escape, false, true)
    }
    /// Whether `self` contains `other`. A text value matches itself only
    /// (its `%`, `_` and `\` are escaped, SQLAlchemy's `autoescape`); an
    /// expression is matched as `'%' || other || '%'`.
    ///
    /// ```
    /// use dialects::{select, Column, Postgres, SqlType, Table, Value};
    /// let t = Table::new("t").column(Column::new("s", SqlType::Text));
    /// let q = select((t.c("s"),)).where_(t.c("s").contains("50%_off"));
    /// let c = q.compile(&Postgres).unwrap();
    /// assert_eq!(c.sql, "SELECT t.s FROM t WHERE t.s LIKE $1");
    /// assert_eq!(c.params, [Value::from("%50\\%\\_off%")]);
    /// ```
    pub fn contains(self, other: impl IntoExpr) -> Expr {
        let pattern = affixed(other.into_expr(), true, true);
        binary(BinaryOp::Like, self, pattern)
    }
    /// Whether `self` starts with `prefix` (escaped as in [`Expr::contains`]).
    pub fn startswith(self, prefix: impl IntoExpr) -> Expr {
        let pattern = affixed(prefix.into_expr(), false, true);
        binary(BinaryOp::Like, self, pattern)
    }
    /// Whether `self` ends with `suffix` (escaped as in [`Expr::contains`]).
    pub fn endswith(self, suffix: impl IntoExpr) -> Expr {
        let pattern = affixed(suffix.into_expr(), true, false);
        binary(BinaryOp::Like, self, pattern)
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
