//! The cache key of a statement: its structure written out as bytes, with
//! each bound value reduced to its kind and collected aside (SQLAlchemy's
//! `_generate_cache_key`, exact instead of hashed).
//!
//! Two statements with equal keys compile, on one dialect, to the same SQL
//! text, with parameters taken from the collected values in the same way:
//! what [`StatementCache`](super::cache::StatementCache) relies on. The
//! key holds every name, operator, flag, type and count the compiler reads,
//! and the content of every number it writes into the SQL (LIMIT and
//! OFFSET, which it binds as values derived from the structure, and window
//! frame bounds). Schema parts shared by `Arc` (a table's column list and
//! types, a table's definition, a subquery referred to by its columns) are
//! keyed by address; the cache keeps a clone of each such `Arc` alive with
//! its entry, so that an address in a stored key always means the same
//! contents. A statement with a part the walk does not know
//! (`bindparam`, an expression that failed to build) has no key.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::schema::table::{Table, TableData};
use crate::schema::types::SqlType;
use crate::sql::compound::CompoundSelect;
use crate::sql::cte::{CteBody, CteDef};
use crate::sql::delete::Delete;
use crate::sql::expr::{ColumnRef, Expr, Source, UnaryOp};
use crate::sql::insert::{ConflictAction, Insert, InsertSource};
use crate::sql::select::{Distinct, FromItem, OrderBy, Select};
use crate::sql::text::TextClause;
use crate::sql::update::Update;
use crate::sql::window::Window;
use crate::value::Value;

/// Why a statement has no cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uncacheable;

/// The result of one step of the walk.
pub type Walk = Result<(), Uncacheable>;

/// A shared schema part whose address is in a key: kept alive with the
/// cache entry so the address cannot be reused for other contents.
#[derive(Debug, Clone)]
// Held for their lifetime only, never read.
#[allow(dead_code)]
pub(crate) enum KeepAlive {
    /// A table's column names.
    Names(Arc<[Arc<str>]>),
    /// A table's column types.
    Types(Arc<[SqlType]>),
    /// A table's definition (what `INSERT`, `UPDATE`, `DELETE` read).
    Table(Arc<TableData>),
    /// A FROM source referred to by a column (a subquery, CTE, VALUES).
    Source(Arc<Source>),
}

/// The walk over a statement: the key bytes and, in walk order, the
/// statement's bound values.
#[derive(Debug)]
pub struct CacheKey<'a> {
    bytes: Vec<u8>,
    values: Vec<&'a Value>,
    keep: Option<Vec<KeepAlive>>,
}

impl Default for CacheKey<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher for CacheKey<'_> {
    fn write(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }
    fn finish(&self) -> u64 {
        0
    }
}

/// A key buffer kept larger than this is not kept for the next key.
const SPARE_KEPT: usize = 1 << 16;

thread_local! {
    /// The byte buffer of the last key dropped on this thread, for the next
    /// one: a statement's key is built, looked up and dropped, and
    /// allocating its buffer anew each time costs a malloc and a free.
    static SPARE: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

impl Drop for CacheKey<'_> {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.bytes);
        if bytes.capacity() <= SPARE_KEPT {
            bytes.clear();
            // During the thread's teardown the spare is gone: dropped then.
            let _ = SPARE.try_with(|spare| spare.set(bytes));
        }
    }
}

impl<'a> CacheKey<'a> {
    /// An empty key.
    pub fn new() -> Self {
        // Room for a typical statement's key and values at once: growing
        // the buffer (a copy) costs more than the larger allocation.
        let mut bytes = SPARE.try_with(std::cell::Cell::take).unwrap_or_default();
        if bytes.capacity() == 0 {
            bytes = Vec::with_capacity(1024);
        }
        CacheKey {
            bytes,
            values: Vec::with_capacity(8),
            keep: None,
        }
    }

    /// An empty key that also collects the shared parts keyed by address.
    pub(crate) fn recording() -> Self {
        let mut key = Self::new();
        key.keep = Some(Vec::new());
        key
    }

    /// The key of `stmt`, or `None` when it has none.
    pub fn of<S: crate::Statement + ?Sized>(stmt: &'a S) -> Option<Self> {
        let mut k = CacheKey::new();
        stmt.cache_key(&mut k).ok()?;
        Some(k)
    }

    /// The key bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The statement's bound values, in walk order.
    pub fn values(&self) -> &[&'a Value] {
        &self.values
    }

    pub(crate) fn into_keep(mut self) -> Vec<KeepAlive> {
        self.keep.take().unwrap_or_default()
    }

    fn tag(&mut self, t: u8) {
        self.bytes.push(t);
    }

    fn flag(&mut self, b: bool) {
        self.bytes.push(u8::from(b));
    }

    fn len(&mut self, n: usize) {
        self.bytes.extend_from_slice(&(n as u64).to_le_bytes());
    }

    fn num(&mut self, n: u64) {
        self.bytes.extend_from_slice(&n.to_le_bytes());
    }

    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.bytes.extend_from_slice(s.as_bytes());
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.tag(1);
                self.str(s);
            }
            None => self.tag(0),
        }
    }

    fn addr<T: ?Sized>(&mut self, p: *const T) {
        self.num(p.cast::<u8>() as usize as u64);
    }

    fn keep(&mut self, k: impl FnOnce() -> KeepAlive) {
        if let Some(keep) = &mut self.keep {
            keep.push(k());
        }
    }

    fn value(&mut self, v: &'a Value) {
        self.tag(b'v');
        std::mem::discriminant(v).hash(self);
        self.values.push(v);
    }

    fn exprs(&mut self, es: &'a [Expr]) -> Walk {
        self.len(es.len());
        es.iter().try_for_each(|e| self.expr(e))
    }

    fn opt_expr(&mut self, e: Option<&'a Expr>) -> Walk {
        match e {
            Some(e) => {
                self.tag(1);
                self.expr(e)
            }
            None => {
                self.tag(0);
                Ok(())
            }
        }
    }

    fn order_by(&mut self, terms: &'a [OrderBy]) -> Walk {
        self.len(terms.len());
        for t in terms {
            self.expr(&t.expr)?;
            self.flag(t.desc);
            t.nulls.hash(self);
        }
        Ok(())
    }

    fn table_columns(&mut self, columns: &Arc<[Arc<str>]>, types: &Arc<[SqlType]>) {
        self.addr(Arc::as_ptr(columns));
        self.addr(Arc::as_ptr(types));
        self.keep(|| KeepAlive::Names(columns.clone()));
        self.keep(|| KeepAlive::Types(types.clone()));
    }

    /// A source a column or `*` refers to: a table or alias by its names
    /// and its shared column list, anything else by address (its contents
    /// are walked where it stands in FROM).
    fn source_ref(&mut self, s: &Arc<Source>) {
        match &**s {
            Source::Table {
                name,
                schema,
                columns,
                types,
            } => {
                self.tag(b'T');
                self.str(name);
                self.opt_str(schema.as_deref());
                self.table_columns(columns, types);
            }
            Source::TableAlias {
                table,
                schema,
                alias,
                columns,
                types,
            } => {
                self.tag(b'A');
                self.str(table);
                self.opt_str(schema.as_deref());
                self.str(alias);
                self.table_columns(columns, types);
            }
            _ => {
                self.tag(b'R');
                self.addr(Arc::as_ptr(s));
                self.keep(|| KeepAlive::Source(s.clone()));
            }
        }
    }

    /// A source where it stands in FROM: all of it.
    fn source(&mut self, s: &'a Arc<Source>) -> Walk {
        match &**s {
            Source::Table { .. } | Source::TableAlias { .. } => {
                self.source_ref(s);
                Ok(())
            }
            Source::Subquery {
                query,
                alias,
                lateral,
            } => {
                self.tag(b'Q');
                // Columns refer to it by address.
                self.source_ref(s);
                self.str(alias);
                self.flag(*lateral);
                self.cte_body(query)
            }
            Source::Values(v) => {
                self.tag(b'V');
                self.source_ref(s);
                self.str(&v.alias);
                self.table_columns(&v.columns, &v.types);
                self.len(v.rows.len());
                v.rows.iter().try_for_each(|r| self.exprs(r))
            }
            Source::Cte(cte) => {
                self.tag(b'C');
                self.source_ref(s);
                self.cte(cte)
            }
        }
    }

    fn cte(&mut self, cte: &'a CteDef) -> Walk {
        self.str(&cte.name);
        self.flag(cte.recursive);
        self.len(cte.columns.len());
        for c in &cte.columns {
            self.opt_str(c.as_deref());
        }
        self.cte_body(&cte.body)
    }

    fn cte_body(&mut self, body: &'a CteBody) -> Walk {
        match body {
            CteBody::Select(s) => {
                self.tag(b's');
                self.select(s)
            }
            CteBody::Compound(c) => {
                self.tag(b'u');
                self.compound(c)
            }
        }
    }

    fn walk_from(&mut self, f: &'a FromItem) -> Walk {
        match f {
            FromItem::Source(s) => {
                self.tag(b'f');
                self.source(s)
            }
            FromItem::Join {
                left,
                right,
                kind,
                on,
            } => {
                self.tag(b'j');
                kind.hash(self);
                self.walk_from(left)?;
                self.walk_from(right)?;
                self.opt_expr(on.as_ref())
            }
        }
    }

    /// The key of a `SELECT`.
    pub(crate) fn select(&mut self, s: &'a Select) -> Walk {
        self.tag(b'S');
        self.len(s.ctes.len());
        for cte in &s.ctes {
            // The WITH clause writes each in full; columns refer by address.
            self.addr(Arc::as_ptr(cte));
            let keep = cte.clone();
            self.keep(|| KeepAlive::Source(Arc::new(Source::Cte(keep))));
            self.cte(cte)?;
        }
        match &s.distinct {
            Distinct::None => self.tag(0),
            Distinct::All => self.tag(1),
            Distinct::On(es) => {
                self.tag(2);
                self.exprs(es)?;
            }
        }
        self.exprs(&s.columns)?;
        self.len(s.from.len());
        s.from.iter().try_for_each(|f| self.walk_from(f))?;
        self.opt_expr(s.where_.as_ref())?;
        self.exprs(&s.group_by)?;
        self.opt_expr(s.having.as_ref())?;
        self.order_by(&s.order_by)?;
        s.limit.hash(self);
        s.offset.hash(self);
        s.fetch.hash(self);
        s.lock.hash(self);
        self.len(s.correlate.len());
        for c in &s.correlate {
            self.str(c);
        }
        self.flag(s.no_auto_correlate);
        Ok(())
    }

    /// The key of a set operation.
    pub(crate) fn compound(&mut self, c: &'a CompoundSelect) -> Walk {
        self.tag(b'U');
        self.flag(c.empty);
        self.select(&c.first)?;
        self.len(c.rest.len());
        for (op, s) in &c.rest {
            op.hash(self);
            self.select(s)?;
        }
        self.order_by(&c.order_by)?;
        c.limit.hash(self);
        c.offset.hash(self);
        Ok(())
    }

    fn table(&mut self, t: &'a Table) {
        self.addr(Arc::as_ptr(&t.data));
        let data = t.data.clone();
        self.keep(|| KeepAlive::Table(data));
        self.source_ref(t.source());
    }

    fn returning(&mut self, r: &'a [Expr]) -> Walk {
        self.exprs(r)
    }

    /// The key of an `INSERT`.
    pub(crate) fn insert(&mut self, i: &'a Insert) -> Walk {
        if i.error.is_some() {
            return Err(Uncacheable);
        }
        self.tag(b'I');
        self.table(&i.table);
        self.len(i.columns.len());
        for c in &i.columns {
            self.str(c);
        }
        match &i.source {
            InsertSource::Values(rows) => {
                self.tag(0);
                self.len(rows.len());
                rows.iter().try_for_each(|r| self.exprs(r))?;
            }
            InsertSource::Select(s) => {
                self.tag(1);
                self.select(s)?;
            }
            InsertSource::DefaultValues => self.tag(2),
        }
        self.returning(&i.returning)?;
        match &i.on_conflict {
            None => self.tag(0),
            Some(oc) => {
                self.tag(1);
                self.len(oc.target.len());
                for t in &oc.target {
                    self.str(t);
                }
                match &oc.action {
                    ConflictAction::DoNothing => self.tag(0),
                    ConflictAction::DoUpdate(set) => {
                        self.tag(1);
                        self.assignments(set)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn assignments(&mut self, set: &'a [(String, Expr)]) -> Walk {
        self.len(set.len());
        for (name, e) in set {
            self.str(name);
            self.expr(e)?;
        }
        Ok(())
    }

    /// The key of an `UPDATE`.
    pub(crate) fn update(&mut self, u: &'a Update) -> Walk {
        self.tag(b'P');
        self.table(&u.table);
        self.assignments(&u.set)?;
        self.opt_expr(u.where_.as_ref())?;
        self.returning(&u.returning)
    }

    /// The key of a `DELETE`.
    pub(crate) fn delete(&mut self, d: &'a Delete) -> Walk {
        self.tag(b'D');
        self.table(&d.table);
        self.opt_expr(d.where_.as_ref())?;
        self.returning(&d.returning)
    }

    /// The key of a `text()` clause: its text and its values' names.
    pub(crate) fn text(&mut self, t: &'a TextClause) -> Walk {
        self.tag(b'X');
        self.str(&t.sql);
        self.len(t.params.len());
        for (name, v) in &t.params {
            self.str(name);
            self.value(v);
        }
        Ok(())
    }

    fn window(&mut self, w: &'a Window) -> Walk {
        self.exprs(&w.partition_by)?;
        self.order_by(&w.order_by)?;
        w.frame.hash(self);
        Ok(())
    }

    fn column(&mut self, c: &ColumnRef) {
        self.tag(b'c');
        match &c.source {
            Some(s) => {
                self.tag(1);
                self.source_ref(s);
            }
            None => self.tag(0),
        }
        self.str(&c.name);
    }

    /// The key of an expression.
    pub(crate) fn expr(&mut self, e: &'a Expr) -> Walk {
        match e {
            Expr::Column(c) => self.column(c),
            Expr::Value(v) => self.value(v),
            Expr::Star(s) => {
                self.tag(b'*');
                match s {
                    Some(s) => {
                        self.tag(1);
                        self.source_ref(s);
                    }
                    None => self.tag(0),
                }
            }
            Expr::Binary { op, left, right } => {
                self.tag(b'b');
                op.hash(self);
                self.expr(left)?;
                self.expr(right)?;
            }
            Expr::Unary { op, expr } => {
                self.tag(b'1');
                op.hash(self);
                if *op == UnaryOp::Neg {
                    // `-(-1)`: the compiler parenthesises a negative number.
                    if let Expr::Value(v) = &**expr {
                        self.flag(super::ansi::is_negative_number(v));
                    }
                }
                self.expr(expr)?;
            }
            Expr::IsNull { expr, negated } => {
                self.tag(b'n');
                self.flag(*negated);
                self.expr(expr)?;
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                self.tag(b'i');
                self.flag(*negated);
                self.expr(expr)?;
                self.exprs(list)?;
            }
            Expr::InSelect {
                expr,
                select,
                negated,
            } => {
                self.tag(b'I');
                self.flag(*negated);
                self.expr(expr)?;
                self.select(select)?;
            }
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                self.tag(b'B');
                self.flag(*negated);
                self.expr(expr)?;
                self.expr(low)?;
                self.expr(high)?;
            }
            Expr::Function { name, args } => {
                self.tag(b'F');
                self.str(name);
                self.exprs(args)?;
            }
            Expr::Special { func, args } => {
                self.tag(b'G');
                func.hash(self);
                self.exprs(args)?;
            }
            Expr::Cast { expr, ty } => {
                self.tag(b'k');
                ty.hash(self);
                self.expr(expr)?;
            }
            Expr::Case {
                operand,
                whens,
                else_,
            } => {
                self.tag(b'K');
                self.opt_expr(operand.as_deref())?;
                self.len(whens.len());
                for (w, t) in whens {
                    self.expr(w)?;
                    self.expr(t)?;
                }
                self.opt_expr(else_.as_deref())?;
            }
            Expr::Label { expr, name } => {
                self.tag(b'l');
                self.str(name);
                self.expr(expr)?;
            }
            Expr::Subquery(s) => {
                self.tag(b'q');
                self.select(s)?;
            }
            Expr::Exists { select, negated } => {
                self.tag(b'e');
                self.flag(*negated);
                self.select(select)?;
            }
            Expr::Over { func, window } => {
                self.tag(b'o');
                self.expr(func)?;
                self.window(window)?;
            }
            Expr::Tuple(items) => {
                self.tag(b't');
                self.exprs(items)?;
            }
            Expr::Text(t) => self.text(t)?,
            Expr::Excluded(name) => {
                self.tag(b'x');
                self.str(name);
            }
            Expr::Like {
                expr,
                pattern,
                escape,
                negated,
                case_insensitive,
            } => {
                self.tag(b'L');
                escape.hash(self);
                self.flag(*negated);
                self.flag(*case_insensitive);
                self.expr(expr)?;
                self.expr(pattern)?;
            }
            // Named placeholders compile per execution set; a failed
            // expression compiles to its error.
            Expr::BindParam { .. } | Expr::Invalid(_) => return Err(Uncacheable),
        }
        Ok(())
    }
}
