//! ORM statements: `select::<T>()` returning hydrated structs, and bulk
//! `update::<T>()` / `delete::<T>()` run without loading objects.

use std::marker::PhantomData;

use dialects::sql::select::{IntoFrom, JoinKind};
use dialects::{Expr, IntoExpr, OrderBy, Value};

use super::identity::IdentityKey;

/// `SELECT` of mapped objects of type `T` (SQLAlchemy's `select(Model)`),
/// with Core's where / order / limit / joins.
pub struct Select<T> {
    pub(crate) where_: Vec<Expr>,
    pub(crate) filter_by: Vec<(String, Value)>,
    pub(crate) joins: Vec<(dialects::sql::select::FromItem, Expr, JoinKind)>,
    pub(crate) order_by: Vec<OrderBy>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    pub(crate) distinct: bool,
    pub(crate) options: Vec<super::loading::Load>,
    pub(crate) deferral: super::deferred::Deferral,
    _t: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Select<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("orm::Select")
            .field("type", &std::any::type_name::<T>())
            .field("where", &self.where_)
            .finish()
    }
}

/// `select(T)`: every mapped column of `T`'s table.
pub fn select<T>() -> Select<T> {
    Select {
        where_: Vec::new(),
        filter_by: Vec::new(),
        joins: Vec::new(),
        order_by: Vec::new(),
        limit: None,
        offset: None,
        distinct: false,
        options: Vec::new(),
        deferral: Default::default(),
        _t: PhantomData,
    }
}

impl<T> Select<T> {
    /// Loader options (`selectinload("posts")`, `joinedload("publisher")`, ...).
    pub fn options(mut self, loads: impl IntoIterator<Item = super::loading::Load>) -> Self {
        self.options.extend(loads);
        self
    }

    /// Loads only these fields (and the primary key and version), the
    /// others deferred (SQLAlchemy's `load_only()`): they read `None`
    /// until [`Session::load_deferred`](super::Session::load_deferred).
    /// Deferred fields must be `Option`s; see [`deferred`](super::deferred).
    ///
    /// ```
    /// # use persistence::orm;
    /// # struct Worker;
    /// let stmt = orm::select::<Worker>().load_only(["name"]);
    /// ```
    pub fn load_only<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.deferral
            .load_only
            .get_or_insert_with(Vec::new)
            .extend(fields.into_iter().map(Into::into));
        self
    }

    /// Defers these fields (SQLAlchemy's `defer()`): the select writes
    /// `NULL` in their place and they read `None` until loaded.
    pub fn defer<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.deferral
            .defer
            .extend(fields.into_iter().map(Into::into));
        self
    }

    /// Loads these fields after all (SQLAlchemy's `undefer()`): cancels a
    /// `defer` of them, or adds them to a `load_only`.
    pub fn undefer<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.deferral
            .undefer
            .extend(fields.into_iter().map(Into::into));
        self
    }

    /// Adds a `WHERE` condition (joined with `AND`).
    pub fn where_(mut self, cond: impl Into<Expr>) -> Self {
        self.where_.push(cond.into());
        self
    }

    /// Same as [`Select::where_`].
    pub fn filter(self, cond: impl Into<Expr>) -> Self {
        self.where_(cond)
    }

    /// `column = value` on `T`'s table, by column name.
    pub fn filter_by(mut self, column: &str, value: impl Into<Value>) -> Self {
        self.filter_by.push((column.to_owned(), value.into()));
        self
    }

    /// `JOIN target ON on`.
    pub fn join(mut self, target: impl IntoFrom, on: Expr) -> Self {
        self.joins.push((target.into_from(), on, JoinKind::Inner));
        self
    }

    /// `LEFT OUTER JOIN target ON on`.
    pub fn outerjoin(mut self, target: impl IntoFrom, on: Expr) -> Self {
        self.joins.push((target.into_from(), on, JoinKind::Left));
        self
    }

    /// `ORDER BY` terms.
    pub fn order_by<I, O>(mut self, terms: I) -> Self
    where
        I: IntoIterator<Item = O>,
        O: Into<OrderBy>,
    {
        self.order_by.extend(terms.into_iter().map(Into::into));
        self
    }

    /// `LIMIT n`.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// `OFFSET n`.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }

    /// `SELECT DISTINCT`.
    pub fn distinct(mut self) -> Self {
        self.distinct = true;
        self
    }
}

/// Hydrated objects of a select, with their identities
/// (SQLAlchemy's `ScalarResult`).
#[derive(Debug)]
pub struct ScalarResult<T> {
    /// The identity of each object (same order as `items`).
    pub(crate) keys: Vec<IdentityKey>,
    pub(crate) items: Vec<T>,
}

impl<T> ScalarResult<T> {
    /// Every object.
    pub fn all(self) -> Vec<T> {
        self.items
    }

    /// The first object, if any.
    pub fn first(self) -> Option<T> {
        self.items.into_iter().next()
    }

    /// Exactly one object: `NoResultFound` or `MultipleResultsFound` otherwise.
    pub fn one(self) -> Result<T, crate::Error> {
        self.one_or_none()?.ok_or(crate::Error::NoResultFound)
    }

    /// One object or none: `MultipleResultsFound` for more.
    pub fn one_or_none(self) -> Result<Option<T>, crate::Error> {
        let mut it = self.items.into_iter();
        let first = it.next();
        if it.next().is_some() {
            return Err(crate::Error::MultipleResultsFound);
        }
        Ok(first)
    }

    /// Drops repeated identities, keeping the first of each (what a joined
    /// eager load needs; SQLAlchemy's `.unique()`).
    pub fn unique(self) -> Self {
        let mut seen = std::collections::HashSet::new();
        let (keys, items) = self
            .keys
            .into_iter()
            .zip(self.items)
            .filter(|(k, _)| seen.insert(k.clone()))
            .unzip();
        ScalarResult { keys, items }
    }

    /// How many objects.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Bulk `UPDATE` of `T`'s table without loading objects
/// (`update(Model).values(...).filter_by(...)`).
pub struct Update<T> {
    pub(crate) values: Vec<(String, Expr)>,
    pub(crate) where_: Vec<Expr>,
    pub(crate) filter_by: Vec<(String, Value)>,
    /// How the identity map follows (`orm::synchronize`).
    pub(crate) sync: super::synchronize::SynchronizeSession,
    _t: PhantomData<fn() -> T>,
}

/// `update(T)`.
pub fn update<T>() -> Update<T> {
    Update {
        values: Vec::new(),
        where_: Vec::new(),
        filter_by: Vec::new(),
        sync: Default::default(),
        _t: PhantomData,
    }
}

impl<T> Update<T> {
    /// `SET column = value`.
    pub fn value(mut self, column: &str, value: impl IntoExpr) -> Self {
        self.values.push((column.to_owned(), value.into_expr()));
        self
    }

    /// Several `SET` pairs.
    pub fn values<K: Into<String>, V: IntoExpr>(
        mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.values
            .extend(pairs.into_iter().map(|(k, v)| (k.into(), v.into_expr())));
        self
    }

    /// A `WHERE` condition.
    pub fn where_(mut self, cond: impl Into<Expr>) -> Self {
        self.where_.push(cond.into());
        self
    }

    /// `column = value`, by column name.
    pub fn filter_by(mut self, column: &str, value: impl Into<Value>) -> Self {
        self.filter_by.push((column.to_owned(), value.into()));
        self
    }
}

/// Bulk `DELETE` from `T`'s table without loading objects.
pub struct Delete<T> {
    pub(crate) where_: Vec<Expr>,
    pub(crate) filter_by: Vec<(String, Value)>,
    /// How the identity map follows (`orm::synchronize`).
    pub(crate) sync: super::synchronize::SynchronizeSession,
    _t: PhantomData<fn() -> T>,
}

/// `delete(T)`.
pub fn delete<T>() -> Delete<T> {
    Delete {
        where_: Vec::new(),
        filter_by: Vec::new(),
        sync: Default::default(),
        _t: PhantomData,
    }
}

impl<T> Delete<T> {
    /// A `WHERE` condition.
    pub fn where_(mut self, cond: impl Into<Expr>) -> Self {
        self.where_.push(cond.into());
        self
    }

    /// `column = value`, by column name.
    pub fn filter_by(mut self, column: &str, value: impl Into<Value>) -> Self {
        self.filter_by.push((column.to_owned(), value.into()));
        self
    }
}
