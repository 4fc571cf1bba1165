//! `StatementCache`: compiled SQL reused across statements of one shape
//! (SQLAlchemy's compiled cache).
//!
//! A statement's [`CacheKey`] is its structure without its values. The
//! first statement of a shape compiles as usual, with the writer noting
//! where each parameter came from; the cache keeps the SQL and, per
//! parameter, which of the statement's values (in walk order) it is. A
//! later statement of the same shape skips the compiler: its parameters
//! are its own values, placed as the stored map says. A shape whose SQL
//! holds a value the compiler computed (a client-side default computed at
//! compile time) or wrote as a literal is remembered as uncacheable and
//! always compiled.
//!
//! The cache holds at most its capacity of shapes; storing one more
//! evicts the least recently used (as SQLAlchemy's LRU cache does).

use hashlink::LruCache;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::cache_key::{CacheKey, KeepAlive};
use super::writer::Origin;
use super::{Compiled, Dialect, SqlWriter};
use crate::error::CompileError;
use crate::value::Value;
use crate::Statement;

/// SQLAlchemy's default size of the compiled cache.
pub const DEFAULT_CAPACITY: usize = 500;

/// Where one parameter of a cached statement comes from.
#[derive(Debug)]
enum Param {
    /// The statement's value at this position of its key walk.
    Value(usize),
    /// A value fixed by the shape (a LIMIT count), as first compiled.
    Fixed(Value),
}

/// The compiled form of one shape.
#[derive(Debug)]
struct Plan {
    sql: Arc<str>,
    params: Vec<Param>,
    /// How many values the key walk collects.
    values: usize,
    /// The shared parts whose addresses are in the key.
    _keep: Vec<KeepAlive>,
}

#[derive(Debug)]
enum Slot {
    Plan(Arc<Plan>),
    Uncacheable,
}

/// How often the cache was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Statements whose SQL came from the cache.
    pub hits: u64,
    /// Statements compiled and then stored (first of their shape).
    pub misses: u64,
    /// Statements compiled without the cache: no key (DDL, `bindparam`),
    /// or a shape found uncacheable.
    pub uncached: u64,
    /// Shapes stored now (uncacheable ones included).
    pub entries: usize,
}

/// A statement compiled through the cache ([`StatementCache::compile_shared`]):
/// what [`Compiled`] holds, with the SQL text shared with the cache's entry.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedCompiled {
    /// The SQL text, with placeholders and never a value.
    pub sql: Arc<str>,
    /// The bound values, in placeholder order.
    pub params: Vec<Value>,
}

/// What a lookup found: a statement compiled now, or the cached SQL and
/// the statement's parameters.
enum Found {
    Compiled(Compiled),
    Cached { sql: Arc<str>, params: Vec<Value> },
}

/// The shapes, least recently used first.
type Shapes = LruCache<Box<[u8]>, Slot, foldhash::fast::FixedState>;

/// Compiled statements by shape, for one dialect. Bounded: when full, the
/// least recently used shape makes room. Shared between threads.
pub struct StatementCache {
    map: Mutex<Shapes>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
    uncached: AtomicU64,
}

impl std::fmt::Debug for StatementCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatementCache")
            .field("capacity", &self.capacity)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Default for StatementCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl StatementCache {
    /// A cache of at most `capacity` shapes; 0 disables it (every
    /// statement compiles).
    pub fn new(capacity: usize) -> Self {
        StatementCache {
            map: Mutex::new(LruCache::with_hasher(
                capacity.max(1),
                foldhash::fast::FixedState::default(),
            )),
            capacity,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            uncached: AtomicU64::new(0),
        }
    }

    /// How many shapes it holds at most (0: disabled).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The counters so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            uncached: self.uncached.load(Ordering::Relaxed),
            entries: self.lock().len(),
        }
    }

    /// Forgets every shape.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shapes> {
        // The map is consistent whenever the lock is released.
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `stmt` compiled for `dialect` (which must be the dialect of every
    /// statement this cache sees): the same SQL text and parameters as
    /// [`Statement::compile`], from the cache when a statement of the same
    /// shape was compiled before.
    pub fn compile<S: Statement + ?Sized>(
        &self,
        stmt: &S,
        dialect: &dyn Dialect,
    ) -> Result<Compiled, CompileError> {
        Ok(match self.lookup(stmt, dialect)? {
            Found::Compiled(c) => c,
            Found::Cached { sql, params } => Compiled {
                sql: sql.as_ref().to_owned(),
                params,
            },
        })
    }

    /// [`compile`](Self::compile), with the SQL text shared with the
    /// cache's entry when it comes from the cache (no copy of it).
    pub fn compile_shared<S: Statement + ?Sized>(
        &self,
        stmt: &S,
        dialect: &dyn Dialect,
    ) -> Result<SharedCompiled, CompileError> {
        Ok(match self.lookup(stmt, dialect)? {
            Found::Compiled(c) => SharedCompiled {
                sql: c.sql.into(),
                params: c.params,
            },
            Found::Cached { sql, params } => SharedCompiled { sql, params },
        })
    }

    fn lookup<S: Statement + ?Sized>(
        &self,
        stmt: &S,
        dialect: &dyn Dialect,
    ) -> Result<Found, CompileError> {
        if self.capacity == 0 {
            return stmt.compile(dialect).map(Found::Compiled);
        }
        let mut key = CacheKey::new();
        if stmt.cache_key(&mut key).is_err() {
            self.uncached.fetch_add(1, Ordering::Relaxed);
            return stmt.compile(dialect).map(Found::Compiled);
        }
        // `get` marks the shape most recently used.
        let found = match self.lock().get(key.bytes()) {
            Some(Slot::Plan(p)) => Some(Some(p.clone())),
            Some(Slot::Uncacheable) => Some(None),
            None => None,
        };
        match found {
            Some(Some(plan)) if plan.values == key.values().len() => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                let values = key.values();
                let params = plan
                    .params
                    .iter()
                    .map(|p| match p {
                        Param::Value(i) => values[*i].clone(),
                        Param::Fixed(v) => v.clone(),
                    })
                    .collect();
                Ok(Found::Cached {
                    sql: plan.sql.clone(),
                    params,
                })
            }
            Some(_) => {
                self.uncached.fetch_add(1, Ordering::Relaxed);
                stmt.compile(dialect).map(Found::Compiled)
            }
            None => self
                .compile_and_store(stmt, dialect, key)
                .map(Found::Compiled),
        }
    }

    fn compile_and_store<S: Statement + ?Sized>(
        &self,
        stmt: &S,
        dialect: &dyn Dialect,
        key: CacheKey<'_>,
    ) -> Result<Compiled, CompileError> {
        let mut w = SqlWriter::new(dialect);
        w.track_origins();
        stmt.write_sql(&mut w)?;
        w.check()?;
        let origins = w.take_origins();
        let compiled = w.finish();
        let slot = match plan(&key, &compiled, &origins) {
            Some((params, values)) => {
                let mut rec = CacheKey::recording();
                match stmt.cache_key(&mut rec) {
                    Ok(()) if rec.bytes() == key.bytes() => Slot::Plan(Arc::new(Plan {
                        sql: compiled.sql.as_str().into(),
                        params,
                        values,
                        _keep: rec.into_keep(),
                    })),
                    _ => Slot::Uncacheable,
                }
            }
            None => Slot::Uncacheable,
        };
        if matches!(slot, Slot::Plan(_)) {
            self.misses.fetch_add(1, Ordering::Relaxed);
        } else {
            self.uncached.fetch_add(1, Ordering::Relaxed);
        }
        // At capacity, this evicts the least recently used shape.
        self.lock().insert(key.bytes().into(), slot);
        Ok(compiled)
    }
}

/// For each parameter of `compiled`, where it comes from; `None` when one
/// was computed by the compiler, or when a value of the statement is not
/// among the parameters (written into the text, or left out): then the
/// SQL depends on more than the key.
fn plan(
    key: &CacheKey<'_>,
    compiled: &Compiled,
    origins: &[Origin],
) -> Option<(Vec<Param>, usize)> {
    if origins.len() != compiled.params.len() {
        return None;
    }
    let values = key.values();
    let mut used = vec![false; values.len()];
    let mut params = Vec::with_capacity(origins.len());
    let at = |i: usize| {
        values
            .get(i)
            .map(|v| std::ptr::from_ref::<Value>(v) as usize)
    };
    // Parameters mostly follow the key walk's order: the value after the
    // last one found is tried first, so that a statement of many values
    // (a multi-row INSERT) is planned in linear time, not quadratic.
    let mut next = 0;
    for (origin, value) in origins.iter().zip(&compiled.params) {
        params.push(match origin {
            Origin::Bound(addr) => {
                let i = if at(next) == Some(*addr) {
                    next
                } else {
                    values
                        .iter()
                        .position(|v| std::ptr::from_ref::<Value>(v) as usize == *addr)?
                };
                next = i + 1;
                used[i] = true;
                Param::Value(i)
            }
            Origin::Structural => Param::Fixed(value.clone()),
            Origin::Computed => return None,
        });
    }
    used.iter().all(|u| *u).then_some((params, values.len()))
}
