//! `SELECT` statements.

use std::sync::Arc;

use super::expr::{Expr, IntoExpr, Source};
use crate::schema::table::Table;

/// `NULLS FIRST` / `NULLS LAST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NullsOrder {
    /// Nulls sort before other values.
    First,
    /// Nulls sort after other values.
    Last,
}

/// One `ORDER BY` term.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    /// What to sort by.
    pub expr: Expr,
    /// Descending when true.
    pub desc: bool,
    /// Explicit null placement.
    pub nulls: Option<NullsOrder>,
}

impl OrderBy {
    /// A sort term.
    pub fn new(expr: Expr, desc: bool) -> Self {
        OrderBy {
            expr,
            desc,
            nulls: None,
        }
    }

    /// `NULLS FIRST` (emulated where the backend lacks it).
    pub fn nulls_first(mut self) -> Self {
        self.nulls = Some(NullsOrder::First);
        self
    }

    /// `NULLS LAST` (emulated where the backend lacks it).
    pub fn nulls_last(mut self) -> Self {
        self.nulls = Some(NullsOrder::Last);
        self
    }
}

impl From<Expr> for OrderBy {
    fn from(expr: Expr) -> Self {
        OrderBy::new(expr, false)
    }
}

impl From<&Expr> for OrderBy {
    fn from(expr: &Expr) -> Self {
        OrderBy::new(expr.clone(), false)
    }
}

impl From<&OrderBy> for OrderBy {
    fn from(term: &OrderBy) -> Self {
        term.clone()
    }
}

/// Sort terms of mixed kinds: one expression or term, an array or vector
/// of them, or a tuple mixing both (`(x.desc().nulls_last(), y)`).
pub trait OrderTerms {
    /// The terms, in order.
    fn into_terms(self) -> Vec<OrderBy>;
}

impl OrderTerms for Expr {
    fn into_terms(self) -> Vec<OrderBy> {
        vec![self.into()]
    }
}

impl OrderTerms for OrderBy {
    fn into_terms(self) -> Vec<OrderBy> {
        vec![self]
    }
}

impl<O: Into<OrderBy>, const N: usize> OrderTerms for [O; N] {
    fn into_terms(self) -> Vec<OrderBy> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<O: Into<OrderBy>> OrderTerms for Vec<O> {
    fn into_terms(self) -> Vec<OrderBy> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<O> OrderTerms for &[O]
where
    for<'a> &'a O: Into<OrderBy>,
{
    fn into_terms(self) -> Vec<OrderBy> {
        self.iter().map(Into::into).collect()
    }
}

macro_rules! tuple_terms {
    ($($name:ident),+) => {
        impl<$($name: Into<OrderBy>),+> OrderTerms for ($($name,)+) {
            #[allow(non_snake_case)]
            fn into_terms(self) -> Vec<OrderBy> {
                let ($($name,)+) = self;
                vec![$($name.into()),+]
            }
        }
    };
}

tuple_terms!(A);
tuple_terms!(A, B);
tuple_terms!(A, B, C);
tuple_terms!(A, B, C, D);
tuple_terms!(A, B, C, D, E);
tuple_terms!(A, B, C, D, E, F);
tuple_terms!(A, B, C, D, E, F, G);
tuple_terms!(A, B, C, D, E, F, G, H);

/// One set of named parameter values, for an executemany: an array or
/// vector of `(name, value)`, or a tuple of pairs of mixed value types
/// (`(("name", "Vlad"), ("id", 3))`).
pub trait ParamSet {
    /// The pairs, in order.
    fn into_set(self) -> Vec<(String, crate::Value)>;
}

impl<K: Into<String>, V: Into<crate::Value>, const N: usize> ParamSet for [(K, V); N] {
    fn into_set(self) -> Vec<(String, crate::Value)> {
        self.into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect()
    }
}

impl<K: Into<String>, V: Into<crate::Value>> ParamSet for Vec<(K, V)> {
    fn into_set(self) -> Vec<(String, crate::Value)> {
        self.into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect()
    }
}

macro_rules! tuple_set {
    ($(($k:ident, $v:ident)),+) => {
        impl<$($k: Into<String>, $v: Into<crate::Value>),+> ParamSet for ($(($k, $v),)+) {
            #[allow(non_snake_case)]
            fn into_set(self) -> Vec<(String, crate::Value)> {
                let ($(($k, $v),)+) = self;
                vec![$(($k.into(), $v.into())),+]
            }
        }
    };
}

tuple_set!((K1, V1));
tuple_set!((K1, V1), (K2, V2));
tuple_set!((K1, V1), (K2, V2), (K3, V3));
tuple_set!((K1, V1), (K2, V2), (K3, V3), (K4, V4));
tuple_set!((K1, V1), (K2, V2), (K3, V3), (K4, V4), (K5, V5));
tuple_set!((K1, V1), (K2, V2), (K3, V3), (K4, V4), (K5, V5), (K6, V6));

/// `column = value` pairs of mixed value types, for `filter_by`: an array
/// or vector of `(name, value)`, or a tuple of pairs
/// (`(("name", "Vlad"), ("id", 3))`).
pub trait FilterPairs {
    /// The pairs, in order.
    fn into_pairs(self) -> Vec<(String, Expr)>;
}

impl<K: Into<String>, V: IntoExpr, const N: usize> FilterPairs for [(K, V); N] {
    fn into_pairs(self) -> Vec<(String, Expr)> {
        self.into_iter()
            .map(|(k, v)| (k.into(), v.into_expr()))
            .collect()
    }
}

impl<K: Into<String>, V: IntoExpr> FilterPairs for Vec<(K, V)> {
    fn into_pairs(self) -> Vec<(String, Expr)> {
        self.into_iter()
            .map(|(k, v)| (k.into(), v.into_expr()))
            .collect()
    }
}

macro_rules! tuple_pairs {
    ($(($k:ident, $v:ident)),+) => {
        impl<$($k: Into<String>, $v: IntoExpr),+> FilterPairs for ($(($k, $v),)+) {
            #[allow(non_snake_case)]
            fn into_pairs(self) -> Vec<(String, Expr)> {
                let ($(($k, $v),)+) = self;
                vec![$(($k.into(), $v.into_expr())),+]
            }
        }
    };
}

tuple_pairs!((K1, V1));
tuple_pairs!((K1, V1), (K2, V2));
tuple_pairs!((K1, V1), (K2, V2), (K3, V3));
tuple_pairs!((K1, V1), (K2, V2), (K3, V3), (K4, V4));
tuple_pairs!((K1, V1), (K2, V2), (K3, V3), (K4, V4), (K5, V5));
tuple_pairs!((K1, V1), (K2, V2), (K3, V3), (K4, V4), (K5, V5), (K6, V6));

/// The kind of a join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JoinKind {
    /// `JOIN`
    Inner,
    /// `LEFT OUTER JOIN`
    Left,
    /// `RIGHT OUTER JOIN`
    Right,
    /// `FULL OUTER JOIN`
    Full,
    /// `CROSS JOIN`
    Cross,
}

/// An item of the FROM clause.
#[derive(Debug, Clone, PartialEq)]
pub enum FromItem {
    /// A table, alias, subquery or CTE.
    Source(Arc<Source>),
    /// `left JOIN right ON cond`.
    Join {
        /// Left side.
        left: Box<FromItem>,
        /// Right side.
        right: Box<FromItem>,
        /// Join kind.
        kind: JoinKind,
        /// Join condition (`None` for a cross join).
        on: Option<Expr>,
    },
}

/// Anything that can stand in a FROM clause.
pub trait IntoFrom {
    /// Converts into a FROM item.
    fn into_from(self) -> FromItem;
}

impl IntoFrom for FromItem {
    fn into_from(self) -> FromItem {
        self
    }
}

impl IntoFrom for &Table {
    fn into_from(self) -> FromItem {
        FromItem::Source(self.source().clone())
    }
}

impl IntoFrom for Table {
    fn into_from(self) -> FromItem {
        (&self).into_from()
    }
}

/// `DISTINCT` modes.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Distinct {
    /// No `DISTINCT`.
    #[default]
    None,
    /// `SELECT DISTINCT`.
    All,
    /// `SELECT DISTINCT ON (exprs)` (PostgreSQL only).
    On(Vec<Expr>),
}

/// Row locking: `FOR UPDATE` and friends (SQLAlchemy's
/// `with_for_update(read=, nowait=, skip_locked=, of=, key_share=)`).
///
/// PostgreSQL writes every form. MySQL 8 writes `FOR UPDATE` / `FOR SHARE`
/// with `OF`, `NOWAIT` and `SKIP LOCKED`; MariaDB writes a shared lock as
/// `LOCK IN SHARE MODE` and has no `OF`. SQLite has no row locks (a write
/// transaction locks the database): a locking select there is a
/// [`CompileError::Unsupported`](crate::CompileError::Unsupported) rather
/// than a lock silently dropped, so code that relies on the lock finds out.
///
/// ```
/// use dialects::{select, Column, Lock, MySql, Postgres, SqlType, Table};
/// let t = Table::new("job").column(Column::new("id", SqlType::Integer).primary_key());
/// let stmt = select((t.c("id"),)).with_for_update(Lock::share().of(&t).skip_locked());
/// assert_eq!(stmt.compile(&Postgres).unwrap().sql,
///     "SELECT job.id FROM job FOR SHARE OF job SKIP LOCKED");
/// assert_eq!(stmt.compile(&MySql::mysql8()).unwrap().sql,
///     "SELECT job.id FROM job FOR SHARE OF job SKIP LOCKED");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct Lock {
    /// `FOR SHARE` instead of `FOR UPDATE`.
    pub share: bool,
    /// PostgreSQL's weaker `FOR NO KEY UPDATE` / `FOR KEY SHARE`.
    pub key: bool,
    /// `NOWAIT`.
    pub nowait: bool,
    /// `SKIP LOCKED`.
    pub skip_locked: bool,
    /// `OF t, ...`: lock only the rows of these FROM items (qualifiers).
    pub of: Vec<Arc<str>>,
}

impl Lock {
    /// `FOR UPDATE`.
    pub fn update() -> Self {
        Lock::default()
    }

    /// `FOR SHARE` (SQLAlchemy's `read=True`).
    pub fn share() -> Self {
        Lock {
            share: true,
            ..Lock::default()
        }
    }

    /// `FOR NO KEY UPDATE` (with [`Lock::update`]) or `FOR KEY SHARE`
    /// (with [`Lock::share`]); PostgreSQL only.
    pub fn key(mut self) -> Self {
        self.key = true;
        self
    }

    /// `NOWAIT`: fail at once instead of waiting for a lock.
    pub fn nowait(mut self) -> Self {
        self.nowait = true;
        self
    }

    /// `SKIP LOCKED`: leave out rows another transaction has locked.
    pub fn skip_locked(mut self) -> Self {
        self.skip_locked = true;
        self
    }

    /// `OF item`: lock the rows of this table or alias only (repeatable).
    pub fn of(mut self, item: impl IntoFrom) -> Self {
        let item = item.into_from();
        item_sources(&item, &mut |s| self.of.push(s.qualifier().into()));
        self
    }
}

/// `FETCH FIRST n ROWS ONLY` / `WITH TIES` (SQLAlchemy's `fetch()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fetch {
    /// How many rows.
    pub count: u64,
    /// `WITH TIES`: also the rows that tie with the last one in the
    /// ORDER BY.
    pub with_ties: bool,
}

/// The columns of a select: one expression, an array, a vector or a tuple.
pub trait Columns {
    /// The expressions, in order.
    fn into_columns(self) -> Vec<Expr>;
}

impl Columns for Vec<Expr> {
    fn into_columns(self) -> Vec<Expr> {
        self
    }
}

impl Columns for Expr {
    fn into_columns(self) -> Vec<Expr> {
        vec![self]
    }
}

impl<const N: usize> Columns for [Expr; N] {
    fn into_columns(self) -> Vec<Expr> {
        self.into()
    }
}

impl Columns for &[Expr] {
    fn into_columns(self) -> Vec<Expr> {
        self.to_vec()
    }
}

impl Columns for &Table {
    fn into_columns(self) -> Vec<Expr> {
        self.all_columns()
    }
}

macro_rules! tuple_columns {
    ($($name:ident),+) => {
        impl<$($name: IntoExpr),+> Columns for ($($name,)+) {
            #[allow(non_snake_case)]
            fn into_columns(self) -> Vec<Expr> {
                let ($($name,)+) = self;
                vec![$($name.into_expr()),+]
            }
        }
    };
}

tuple_columns!(A);
tuple_columns!(A, B);
tuple_columns!(A, B, C);
tuple_columns!(A, B, C, D);
tuple_columns!(A, B, C, D, E);
tuple_columns!(A, B, C, D, E, F);
tuple_columns!(A, B, C, D, E, F, G);
tuple_columns!(A, B, C, D, E, F, G, H);
tuple_columns!(A, B, C, D, E, F, G, H, I);
tuple_columns!(A, B, C, D, E, F, G, H, I, J);
tuple_columns!(A, B, C, D, E, F, G, H, I, J, K);
tuple_columns!(A, B, C, D, E, F, G, H, I, J, K, L);

/// A `SELECT` statement, built with chained calls.
///
/// ```
/// use dialects::{select, Column, Dialect, MySql, Postgres, Sqlite, SqlType, Table, Value};
/// let worker = Table::new("worker")
///     .column(Column::new("id", SqlType::Integer).primary_key())
///     .column(Column::new("name", SqlType::string(256)));
/// let stmt = select((worker.c("id"), worker.c("name")))
///     .where_(worker.c("name").eq("Vlad"))
///     .order_by([worker.c("id").desc()])
///     .limit(10);
/// let pg = stmt.compile(&Postgres).unwrap();
/// assert_eq!(pg.sql, "SELECT worker.id, worker.name FROM worker WHERE worker.name = $1 ORDER BY worker.id DESC LIMIT $2");
/// assert_eq!(pg.params, vec![Value::from("Vlad"), Value::BigInt(10)]);
/// assert_eq!(stmt.compile(&Sqlite).unwrap().sql,
///     "SELECT worker.id, worker.name FROM worker WHERE worker.name = ? ORDER BY worker.id DESC LIMIT ?");
/// assert_eq!(stmt.compile(&MySql::default()).unwrap().sql,
///     "SELECT worker.id, worker.name FROM worker WHERE worker.name = ? ORDER BY worker.id DESC LIMIT ?");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Select {
    pub(crate) ctes: Vec<Arc<super::cte::CteDef>>,
    pub(crate) distinct: Distinct,
    pub(crate) columns: Vec<Expr>,
    pub(crate) from: Vec<FromItem>,
    pub(crate) where_: Option<Expr>,
    pub(crate) group_by: Vec<Expr>,
    pub(crate) having: Option<Expr>,
    pub(crate) order_by: Vec<OrderBy>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    pub(crate) fetch: Option<Fetch>,
    pub(crate) lock: Option<Lock>,
    /// Qualifiers given to [`Select::correlate`].
    pub(crate) correlate: Vec<Arc<str>>,
    /// Set by [`Select::correlate`] and [`Select::correlate_none`]: no
    /// automatic correlation.
    pub(crate) no_auto_correlate: bool,
}

/// `SELECT columns`: a tuple, array or vector of expressions, or a table.
pub fn select(columns: impl Columns) -> Select {
    Select {
        columns: columns.into_columns(),
        ..Select::default()
    }
}

fn and_opt(existing: Option<Expr>, cond: Expr) -> Option<Expr> {
    Some(match existing {
        Some(e) => e.and(cond),
        None => cond,
    })
}

impl Select {
    /// Adds more columns.
    pub fn add_columns(mut self, columns: impl Columns) -> Self {
        self.columns.extend(columns.into_columns());
        self
    }

    /// Adds an explicit FROM item (otherwise FROM is inferred from the columns).
    pub fn select_from(mut self, from: impl IntoFrom) -> Self {
        self.from.push(from.into_from());
        self
    }

    fn ensure_from(&mut self) {
        if self.from.is_empty() {
            self.from = self.inferred_from();
        }
    }

    /// Joins `target` onto a FROM item: the last one the `ON` condition
    /// refers to, or else the last one. A FROM item inferred from the
    /// columns that is the target itself is dropped (it is joined instead).
    fn join_with(mut self, target: impl IntoFrom, on: Option<Expr>, kind: JoinKind) -> Self {
        self.ensure_from();
        let right = target.into_from();
        let mut targets: Vec<&str> = Vec::new();
        item_qualifiers(&right, &mut targets);
        self.from.retain(
            |item| !matches!(item, FromItem::Source(s) if targets.contains(&s.qualifier())),
        );
        let mut referenced: Vec<Arc<Source>> = Vec::new();
        if let Some(on) = &on {
            collect_sources(on, &mut referenced);
        }
        let refers = |item: &FromItem| {
            let mut names = Vec::new();
            item_qualifiers(item, &mut names);
            names
                .iter()
                .any(|n| referenced.iter().any(|r| r.qualifier() == *n))
        };
        let Some(at) = self
            .from
            .iter()
            .rposition(refers)
            .or_else(|| self.from.len().checked_sub(1))
        else {
            self.from.push(right);
            return self;
        };
        let left = self.from.remove(at);
        self.from.insert(
            at,
            FromItem::Join {
                left: Box::new(left),
                right: Box::new(right),
                kind,
                on,
            },
        );
        self
    }

    /// `JOIN target ON on`, joined onto the FROM item `on` refers to (the
    /// last such, or else the last FROM item).
    pub fn join(self, target: impl IntoFrom, on: Expr) -> Self {
        self.join_with(target, Some(on), JoinKind::Inner)
    }

    /// `LEFT OUTER JOIN target ON on`.
    pub fn outerjoin(self, target: impl IntoFrom, on: Expr) -> Self {
        self.join_with(target, Some(on), JoinKind::Left)
    }

    /// `RIGHT OUTER JOIN target ON on`.
    pub fn right_join(self, target: impl IntoFrom, on: Expr) -> Self {
        self.join_with(target, Some(on), JoinKind::Right)
    }

    /// `FULL OUTER JOIN target ON on` (an error on MySQL).
    pub fn full_join(self, target: impl IntoFrom, on: Expr) -> Self {
        self.join_with(target, Some(on), JoinKind::Full)
    }

    /// `CROSS JOIN target`.
    pub fn cross_join(self, target: impl IntoFrom) -> Self {
        self.join_with(target, None, JoinKind::Cross)
    }

    /// Adds a `WHERE` condition (several calls are joined with `AND`).
    pub fn where_(mut self, cond: Expr) -> Self {
        self.where_ = and_opt(self.where_.take(), cond);
        self
    }

    /// Same as [`Select::where_`] (SQLAlchemy's `filter`).
    pub fn filter(self, cond: Expr) -> Self {
        self.where_(cond)
    }

    /// `column = value` conditions by column name (SQLAlchemy's
    /// `filter_by`), on the target of the last join or else on the first
    /// FROM source. A name that source does not have fails to compile with
    /// [`CompileError::UnknownColumn`](crate::CompileError::UnknownColumn).
    ///
    /// ```
    /// use dialects::{select, Column, Postgres, SqlType, Table, Value};
    /// let t = Table::new("t")
    ///     .column(Column::new("id", SqlType::Integer))
    ///     .column(Column::new("name", SqlType::Text));
    /// let q = select((t.c("id"),)).filter_by((("name", "Vlad"), ("id", 3)));
    /// let c = q.compile(&Postgres).unwrap();
    /// assert_eq!(c.sql, "SELECT t.id FROM t WHERE t.name = $1 AND t.id = $2");
    /// assert_eq!(c.params, [Value::from("Vlad"), Value::Int(3)]);
    /// ```
    pub fn filter_by(mut self, pairs: impl FilterPairs) -> Self {
        self.ensure_from();
        let last_join = self
            .from
            .iter()
            .rev()
            .find(|item| matches!(item, FromItem::Join { .. }));
        let source = last_join.or(self.from.first()).and_then(filter_by_source);
        for (name, value) in pairs.into_pairs() {
            let col = match &source {
                Some(src) => src.column(&name),
                None => super::expr::column(&name),
            };
            self.where_ = and_opt(self.where_.take(), col.eq(value));
        }
        self
    }

    /// `GROUP BY` expressions.
    pub fn group_by(mut self, exprs: impl Columns) -> Self {
        self.group_by.extend(exprs.into_columns());
        self
    }

    /// Adds a `HAVING` condition.
    pub fn having(mut self, cond: Expr) -> Self {
        self.having = and_opt(self.having.take(), cond);
        self
    }

    /// `ORDER BY` terms: an expression, `expr.desc()` / `expr.asc()`
    /// (with `.nulls_first()` / `.nulls_last()`), an array or vector of
    /// them, or a tuple mixing both: `order_by((x.desc().nulls_last(), y))`.
    pub fn order_by(mut self, terms: impl OrderTerms) -> Self {
        self.order_by.extend(terms.into_terms());
        self
    }

    /// `LIMIT n` (bound as a parameter).
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// `OFFSET n` (bound as a parameter).
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }

    /// `SELECT DISTINCT`.
    pub fn distinct(mut self) -> Self {
        self.distinct = Distinct::All;
        self
    }

    /// `SELECT DISTINCT ON (exprs)` (PostgreSQL only; an error elsewhere).
    pub fn distinct_on(mut self, exprs: impl Columns) -> Self {
        self.distinct = Distinct::On(exprs.into_columns());
        self
    }

    /// `FOR UPDATE` (see [`Lock`] for what each backend writes).
    pub fn for_update(self) -> Self {
        self.with_for_update(Lock::update())
    }

    /// `FOR UPDATE NOWAIT`.
    pub fn for_update_nowait(self) -> Self {
        self.with_for_update(Lock::update().nowait())
    }

    /// `FOR UPDATE SKIP LOCKED`.
    pub fn for_update_skip_locked(self) -> Self {
        self.with_for_update(Lock::update().skip_locked())
    }

    /// `FOR SHARE` (`LOCK IN SHARE MODE` on MariaDB).
    pub fn for_share(self) -> Self {
        self.with_for_update(Lock::share())
    }

    /// Any row lock: [`Lock::update`] or [`Lock::share`] with `OF`,
    /// `NOWAIT`, `SKIP LOCKED`.
    pub fn with_for_update(mut self, lock: Lock) -> Self {
        self.lock = Some(lock);
        self
    }

    /// `FETCH FIRST n ROWS ONLY`, the standard spelling of a limit: on
    /// PostgreSQL and MariaDB as written, on SQLite and MySQL 8 (which have
    /// no FETCH) as `LIMIT n`. Together with [`Select::limit`] it is a
    /// compile error.
    ///
    /// ```
    /// use dialects::{select, Column, Postgres, Sqlite, SqlType, Table};
    /// let t = Table::new("t").column(Column::new("x", SqlType::Integer));
    /// let stmt = select((t.c("x"),)).order_by(t.c("x")).offset(5).fetch(10);
    /// assert_eq!(stmt.compile(&Postgres).unwrap().sql,
    ///     "SELECT t.x FROM t ORDER BY t.x OFFSET $1 ROWS FETCH FIRST $2 ROWS ONLY");
    /// assert_eq!(stmt.compile(&Sqlite).unwrap().sql,
    ///     "SELECT t.x FROM t ORDER BY t.x LIMIT ? OFFSET ?");
    /// ```
    pub fn fetch(mut self, count: u64) -> Self {
        self.fetch = Some(Fetch {
            count,
            with_ties: false,
        });
        self
    }

    /// `FETCH FIRST n ROWS WITH TIES` (PostgreSQL 13+, MariaDB 10.6+;
    /// needs an ORDER BY; elsewhere a compile error).
    pub fn fetch_with_ties(mut self, count: u64) -> Self {
        self.fetch = Some(Fetch {
            count,
            with_ties: true,
        });
        self
    }

    /// Correlates this select, when nested as a scalar, `EXISTS` or `IN`
    /// subquery, to `from` of an enclosing statement: `from` is left out of
    /// this select's own FROM when an enclosing statement has it in its
    /// FROM (or is an `UPDATE` / `DELETE` of it). Turns automatic
    /// correlation off, as SQLAlchemy's `correlate()` does.
    ///
    /// Without this call a nested select correlates automatically: when it
    /// has more than one FROM source, those an enclosing statement also
    /// has are left out.
    ///
    /// ```
    /// use dialects::{exists, select, star, Column, Postgres, SqlType, Table};
    /// let worker = Table::new("worker").column(Column::new("id", SqlType::Integer).primary_key());
    /// let resume = Table::new("resume")
    ///     .column(Column::new("id", SqlType::Integer).primary_key())
    ///     .column(Column::new("worker_id", SqlType::Integer));
    /// let has_resume = select(star())
    ///     .select_from(&resume)
    ///     .where_(resume.c("worker_id").eq(worker.c("id")))
    ///     .correlate(&worker);
    /// let stmt = select((worker.c("id"),)).where_(exists(has_resume));
    /// assert_eq!(stmt.compile(&Postgres).unwrap().sql,
    ///     "SELECT worker.id FROM worker WHERE EXISTS (SELECT * FROM resume WHERE resume.worker_id = worker.id)");
    /// ```
    pub fn correlate(mut self, from: impl IntoFrom) -> Self {
        let item = from.into_from();
        item_sources(&item, &mut |s| self.correlate.push(s.qualifier().into()));
        self.no_auto_correlate = true;
        self
    }

    /// Turns correlation off: this select keeps its whole FROM even when
    /// nested in a statement with the same sources (SQLAlchemy's
    /// `correlate(None)`).
    pub fn correlate_none(mut self) -> Self {
        self.correlate.clear();
        self.no_auto_correlate = true;
        self
    }

    /// `self UNION other` (SQLAlchemy's `select.union(other)`).
    pub fn union(self, other: Select) -> super::compound::CompoundSelect {
        super::compound::CompoundSelect::single(self).union(other)
    }

    /// `self UNION ALL other`.
    pub fn union_all(self, other: Select) -> super::compound::CompoundSelect {
        super::compound::CompoundSelect::single(self).union_all(other)
    }

    /// `self INTERSECT other`.
    pub fn intersect(self, other: Select) -> super::compound::CompoundSelect {
        super::compound::CompoundSelect::single(self).intersect(other)
    }

    /// `self EXCEPT other`.
    pub fn except(self, other: Select) -> super::compound::CompoundSelect {
        super::compound::CompoundSelect::single(self).except(other)
    }

    /// Attaches a CTE explicitly (CTEs used in FROM are attached automatically).
    pub fn with_cte(mut self, cte: &super::cte::Cte) -> Self {
        self.ctes.push(cte.def.clone());
        self
    }

    /// The columns clause.
    pub fn columns(&self) -> &[Expr] {
        &self.columns
    }

    /// The names of the result columns, where they have one.
    pub fn column_names(&self) -> Vec<Option<&str>> {
        self.columns.iter().map(Expr::output_name).collect()
    }

    /// This select as a named subquery for FROM: `(SELECT ...) AS name`.
    pub fn subquery(self, name: &str) -> super::alias::Subquery {
        super::alias::Subquery::new(self, name)
    }

    /// This select as a `LATERAL` subquery (SQLAlchemy's `lateral()`):
    /// it may refer to the FROM items before it, which it correlates to.
    /// PostgreSQL and MySQL 8 have it; MariaDB and SQLite do not (a
    /// compile error there).
    ///
    /// ```
    /// use dialects::{literal, select, Column, Postgres, SqlType, Table};
    /// let p = Table::new("publisher").column(Column::new("id", SqlType::Integer).primary_key());
    /// let post = Table::new("post")
    ///     .column(Column::new("id", SqlType::Integer).primary_key())
    ///     .column(Column::new("publisher_id", SqlType::Integer));
    /// let latest = select((post.c("id"),))
    ///     .where_(post.c("publisher_id").eq(p.c("id")))
    ///     .order_by(post.c("id").desc())
    ///     .limit(2)
    ///     .lateral("latest");
    /// let stmt = select((p.c("id"), latest.c("id"))).select_from(&p).join(&latest, literal(true));
    /// assert_eq!(stmt.compile(&Postgres).unwrap().sql,
    ///     "SELECT publisher.id, latest.id FROM publisher JOIN LATERAL (SELECT post.id FROM post \
    ///      WHERE post.publisher_id = publisher.id ORDER BY post.id DESC LIMIT $1) AS latest ON $2");
    /// ```
    pub fn lateral(self, name: &str) -> super::alias::Subquery {
        super::alias::Subquery::of_body(super::cte::CteBody::Select(self), name, true)
    }

    /// This select as a named CTE: `WITH name AS (SELECT ...)`.
    pub fn cte(self, name: &str) -> super::cte::Cte {
        super::cte::Cte::new(self, name, false)
    }

    /// This select as a recursive CTE (`WITH RECURSIVE`); build its body with
    /// [`Cte::union_all`](super::cte::Cte::union_all).
    pub fn cte_recursive(self, name: &str) -> super::cte::Cte {
        super::cte::Cte::new(self, name, true)
    }

    /// This select as a scalar subquery expression.
    pub fn scalar_subquery(self) -> Expr {
        Expr::Subquery(Box::new(self))
    }

    /// The FROM items the columns and conditions imply, when none was given:
    /// each distinct source, in first-seen order.
    pub(crate) fn inferred_from(&self) -> Vec<FromItem> {
        self.inferred_sources()
            .into_iter()
            .map(FromItem::Source)
            .collect()
    }

    fn inferred_sources(&self) -> Vec<Arc<Source>> {
        let mut seen: Vec<Arc<Source>> = Vec::new();
        let mut visit = |e: &Expr| collect_sources(e, &mut seen);
        self.columns.iter().for_each(&mut visit);
        if let Some(w) = &self.where_ {
            visit(w);
        }
        seen
    }

    /// The FROM clause as written (before correlation): the explicit items,
    /// then each source the columns and `WHERE` refer to that no explicit
    /// item covers, as SQLAlchemy does.
    pub(crate) fn effective_from(&self) -> std::borrow::Cow<'_, [FromItem]> {
        use std::borrow::Cow;
        let inferred = self.inferred_sources();
        if self.from.is_empty() {
            return Cow::Owned(inferred.into_iter().map(FromItem::Source).collect());
        }
        let mut covered: Vec<&str> = Vec::new();
        self.from
            .iter()
            .for_each(|item| item_qualifiers(item, &mut covered));
        let mut extra = inferred
            .into_iter()
            .filter(|s| !covered.contains(&s.qualifier()))
            .peekable();
        if extra.peek().is_none() {
            return Cow::Borrowed(&self.from);
        }
        let mut all = self.from.clone();
        all.extend(extra.map(FromItem::Source));
        Cow::Owned(all)
    }
}

/// The qualifiers of every source in a FROM item (both sides of joins).
pub(crate) fn item_qualifiers<'a>(item: &'a FromItem, out: &mut Vec<&'a str>) {
    item_sources(item, &mut |s| out.push(s.qualifier()));
}

/// Calls `f` on every source in a FROM item (both sides of joins).
pub(crate) fn item_sources<'a>(item: &'a FromItem, f: &mut dyn FnMut(&'a Arc<Source>)) {
    match item {
        FromItem::Source(s) => f(s),
        FromItem::Join { left, right, .. } => {
            item_sources(left, f);
            item_sources(right, f);
        }
    }
}

/// The source `filter_by` names columns of: the target of the last join
/// (the right side of the outermost join), or the item itself.
fn filter_by_source(item: &FromItem) -> Option<Arc<Source>> {
    match item {
        FromItem::Source(s) => Some(s.clone()),
        FromItem::Join { right, .. } => filter_by_source(right),
    }
}

/// Collects the sources of the columns in `e` (not descending into subqueries).
pub(crate) fn collect_sources(e: &Expr, out: &mut Vec<Arc<Source>>) {
    let push = |s: &Arc<Source>, out: &mut Vec<Arc<Source>>| {
        if !out.iter().any(|o| o.qualifier() == s.qualifier()) {
            out.push(s.clone());
        }
    };
    match e {
        Expr::Column(c) => {
            if let Some(s) = &c.source {
                push(s, out);
            }
        }
        Expr::Star(Some(s)) => push(s, out),
        Expr::Binary { left, right, .. }
        | Expr::Like {
            expr: left,
            pattern: right,
            ..
        } => {
            collect_sources(left, out);
            collect_sources(right, out);
        }
        Expr::Unary { expr, .. }
        | Expr::IsNull { expr, .. }
        | Expr::Cast { expr, .. }
        | Expr::Label { expr, .. }
        | Expr::InSelect { expr, .. } => collect_sources(expr, out),
        Expr::InList { expr, list, .. } => {
            collect_sources(expr, out);
            list.iter().for_each(|x| collect_sources(x, out));
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            collect_sources(expr, out);
            collect_sources(low, out);
            collect_sources(high, out);
        }
        Expr::Function { args, .. } | Expr::Special { args, .. } | Expr::Tuple(args) => {
            args.iter().for_each(|x| collect_sources(x, out));
        }
        Expr::Case {
            operand,
            whens,
            else_,
        } => {
            if let Some(o) = operand {
                collect_sources(o, out);
            }
            for (w, t) in whens {
                collect_sources(w, out);
                collect_sources(t, out);
            }
            if let Some(e) = else_ {
                collect_sources(e, out);
            }
        }
        Expr::Over { func, window } => {
            collect_sources(func, out);
            window
                .partition_by
                .iter()
                .for_each(|x| collect_sources(x, out));
            window
                .order_by
                .iter()
                .for_each(|o| collect_sources(&o.expr, out));
        }
        Expr::Value(_)
        | Expr::Star(None)
        | Expr::Subquery(_)
        | Expr::Exists { .. }
        | Expr::Text(_)
        | Expr::Excluded(_)
        | Expr::BindParam { .. }
        | Expr::Invalid(_) => {}
    }
}
