//! `SqlWriter`: SQL text and ordered parameters, written in one traversal.

use std::sync::Arc;

use super::Dialect;
use crate::sql::expr::Source;
use crate::value::Value;

/// The result of compiling a statement: SQL text plus its bound values, in
/// placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// The SQL text, with placeholders and never a value.
    pub sql: String,
    /// The bound values, in placeholder order.
    pub params: Vec<Value>,
}

impl std::fmt::Display for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.sql)?;
        if !self.params.is_empty() {
            f.write_str(" -- params: [")?;
            for (i, p) in self.params.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{p:?}")?;
            }
            f.write_str("]")?;
        }
        Ok(())
    }
}

/// Accumulates SQL text and parameters for one dialect.
pub struct SqlWriter<'d> {
    dialect: &'d dyn Dialect,
    sql: String,
    params: Vec<Value>,
    /// When set, values are written as SQL literals and columns without
    /// their table (DDL only: server defaults and checks).
    inline_literals: bool,
    /// When set, bound values are written as literals but columns keep
    /// their qualifiers: the debugging rendering of
    /// [`Statement::compile_debug`](crate::Statement::compile_debug).
    literal_binds: bool,
    /// The FROM sources of every enclosing statement, innermost last: what
    /// a nested subquery may correlate to.
    scope: Vec<Arc<Source>>,
    /// Set while a DML statement writes subqueries that must carry their
    /// own `WITH` clause (backends without `WITH ... UPDATE`).
    nested_with: bool,
    /// The named placeholders ([`bindparam`](crate::bindparam)).
    named: Vec<NamedParam>,
    /// The first identifier that cannot be written (empty, NUL, too long),
    /// reported when the statement finishes compiling.
    bad_identifier: Option<crate::CompileError>,
    /// Whether a `text()` parameter without a value becomes a named
    /// placeholder (compiling for many executions) instead of an error.
    open_text_params: bool,
    /// Where each parameter came from, when tracked (compiling for the
    /// statement cache).
    origins: Option<Vec<Origin>>,
}

/// Where a compiled parameter came from (what the statement cache needs
/// to fill the parameters of another statement of the same shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A value of the statement, by address.
    Bound(usize),
    /// A value derived from the statement's structure (LIMIT, OFFSET),
    /// which is in the cache key by content.
    Structural,
    /// A value the compiler made up (a client-side default computed now).
    Computed,
}

/// A named placeholder of a compiled statement.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedParam {
    /// Its index in the compiled parameters.
    pub index: usize,
    /// Its name.
    pub name: Arc<str>,
    /// Whether it has a default value (used when a set does not name it).
    pub has_default: bool,
}

/// A compiled statement whose named placeholders
/// ([`bindparam`](crate::bindparam)) are filled per execution:
/// [`Prepared::bind`] gives the parameters of one execution.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The SQL text, and the parameters with each named placeholder at its
    /// default value (or NULL).
    pub compiled: Compiled,
    /// The named placeholders, in parameter order.
    pub named: Vec<NamedParam>,
}

impl Prepared {
    /// The names of the placeholders, in order (a name used twice appears twice).
    pub fn names(&self) -> Vec<&str> {
        self.named.iter().map(|p| &*p.name).collect()
    }

    /// The parameters of one execution: the compiled values, with each
    /// named placeholder taken from `set` (by name). A placeholder `set`
    /// does not name keeps its default; one without a default is
    /// [`CompileError::MissingParameter`](crate::CompileError::MissingParameter).
    pub fn bind<K: AsRef<str>>(
        &self,
        set: &[(K, Value)],
    ) -> Result<Vec<Value>, crate::CompileError> {
        let mut params = self.compiled.params.clone();
        for p in &self.named {
            match set.iter().find(|(n, _)| n.as_ref() == &*p.name) {
                Some((_, v)) => params[p.index] = v.clone(),
                None if p.has_default => {}
                None => {
                    return Err(crate::CompileError::MissingParameter {
                        name: p.name.to_string(),
                    })
                }
            }
        }
        Ok(params)
    }
}

impl<'d> SqlWriter<'d> {
    /// An empty writer for `dialect`.
    pub fn new(dialect: &'d dyn Dialect) -> Self {
        SqlWriter {
            dialect,
            sql: String::with_capacity(256),
            params: Vec::new(),
            inline_literals: false,
            literal_binds: false,
            scope: Vec::new(),
            nested_with: false,
            named: Vec::new(),
            bad_identifier: None,
            open_text_params: false,
            origins: None,
        }
    }

    /// Starts recording where each parameter comes from.
    pub(crate) fn track_origins(&mut self) {
        self.origins = Some(Vec::new());
    }

    /// Where each parameter came from (empty unless tracked).
    pub(crate) fn take_origins(&mut self) -> Vec<Origin> {
        self.origins.take().unwrap_or_default()
    }

    fn note(&mut self, origin: Origin) {
        if let Some(o) = &mut self.origins {
            o.push(origin);
        }
    }

    /// The dialect being written for.
    pub fn dialect(&self) -> &'d dyn Dialect {
        self.dialect
    }

    /// Appends raw SQL text (keywords, punctuation: never a value).
    pub fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    /// Appends one character.
    pub fn push_char(&mut self, c: char) {
        self.sql.push(c);
    }

    /// Appends an identifier, quoted when reserved or unusual (see
    /// [`quote_ident`]). One the
    /// backend cannot take (empty, with a NUL, longer than
    /// [`Dialect::max_identifier_length`]) fails the statement's
    /// compilation ([`SqlWriter::check`]).
    pub fn ident(&mut self, name: &str) {
        let d = self.dialect;
        if self.bad_identifier.is_none() {
            self.bad_identifier = identifier_error(name, d);
        }
        push_ident(&mut self.sql, name, d);
    }

    /// Whether bound values are written as literals (DDL, or the
    /// debugging rendering) rather than as placeholders.
    pub fn writes_literals(&self) -> bool {
        self.inline_literals || self.literal_binds
    }

    /// Binds a value: writes a placeholder and stores the value, or in DDL
    /// mode writes it as a literal.
    pub fn bind(&mut self, value: &Value) -> Result<(), crate::CompileError> {
        if self.inline_literals {
            let d = self.dialect;
            return d.write_literal(value, self);
        }
        if self.literal_binds {
            let d = self.dialect;
            return d.write_debug_literal(value, self);
        }
        self.note(Origin::Bound(std::ptr::from_ref(value) as usize));
        self.params.push(value.clone());
        let d = self.dialect;
        d.write_placeholder(self.params.len(), &mut self.sql);
        Ok(())
    }

    /// Binds a named placeholder ([`bindparam`](crate::bindparam)): its
    /// default (or NULL) now, its value per execution later. In DDL mode
    /// it is an error (DDL has no parameters).
    pub fn bind_named(
        &mut self,
        name: &Arc<str>,
        value: Option<&Value>,
    ) -> Result<(), crate::CompileError> {
        if self.inline_literals || (self.literal_binds && value.is_none()) {
            return Err(crate::CompileError::Invalid(format!(
                "bindparam `{name}` where values are written as literals"
            )));
        }
        if self.literal_binds {
            return self.bind_owned(value.cloned().unwrap_or(Value::Null));
        }
        self.named.push(NamedParam {
            index: self.params.len(),
            name: name.clone(),
            has_default: value.is_some(),
        });
        self.bind_owned(value.cloned().unwrap_or(Value::Null))
    }

    /// Sets whether a `text()` parameter without a value becomes a named
    /// placeholder.
    pub(crate) fn set_open_text_params(&mut self, on: bool) {
        self.open_text_params = on;
    }

    /// Whether a `text()` parameter without a value becomes a named
    /// placeholder.
    pub(crate) fn open_text_params(&self) -> bool {
        self.open_text_params
    }

    /// Binds an owned value (avoids a clone).
    pub fn bind_owned(&mut self, value: Value) -> Result<(), crate::CompileError> {
        if self.inline_literals || self.literal_binds {
            return self.bind(&value);
        }
        self.note(Origin::Computed);
        self.params.push(value);
        let d = self.dialect;
        d.write_placeholder(self.params.len(), &mut self.sql);
        Ok(())
    }

    /// Binds a value derived from the statement's structure alone (a LIMIT
    /// or OFFSET count): the same for every statement of one shape.
    pub(crate) fn bind_structural(&mut self, value: Value) -> Result<(), crate::CompileError> {
        if self.inline_literals || self.literal_binds {
            return self.bind(&value);
        }
        self.note(Origin::Structural);
        self.params.push(value);
        let d = self.dialect;
        d.write_placeholder(self.params.len(), &mut self.sql);
        Ok(())
    }

    /// Runs `f` with values written as literals (for DDL, where bound
    /// parameters are not allowed).
    pub fn with_inline_literals<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let old = std::mem::replace(&mut self.inline_literals, true);
        let out = f(self);
        self.inline_literals = old;
        out
    }

    /// Writes every bound value as a literal from now on (the debugging
    /// rendering; never for execution).
    pub(crate) fn set_literal_binds(&mut self) {
        self.literal_binds = true;
    }

    /// Whether values are currently written as literals (DDL mode, where
    /// columns are also written without their table).
    pub fn inline_literals(&self) -> bool {
        self.inline_literals
    }

    /// The FROM sources (tables, aliases, subqueries, CTEs) of the
    /// statements enclosing the current position: what a scalar, `EXISTS`
    /// or `IN` subquery written here correlates to, by qualifier.
    pub fn correlation_scope(&self) -> &[Arc<Source>] {
        &self.scope
    }

    /// Whether an enclosing statement has a FROM source qualified `name`.
    pub fn in_scope(&self, name: &str) -> bool {
        self.scope.iter().any(|s| s.qualifier() == name)
    }

    /// Runs `f` with `sources` added to the correlation scope (a select
    /// writing its clauses, an `UPDATE` or `DELETE` writing its conditions).
    pub fn with_scope<T>(
        &mut self,
        sources: impl IntoIterator<Item = Arc<Source>>,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let depth = self.scope.len();
        self.scope.extend(sources);
        let out = f(self);
        self.scope.truncate(depth);
        out
    }

    /// Sets whether the next subquery written carries its own `WITH` clause.
    pub(crate) fn set_nested_with(&mut self, on: bool) {
        self.nested_with = on;
    }

    /// Whether the next subquery written carries its own `WITH` clause.
    pub(crate) fn nested_with(&self) -> bool {
        self.nested_with
    }

    /// Runs `f` with an empty correlation scope (a derived table in FROM, a
    /// CTE body, a member of a set operation: none of them correlate).
    pub fn without_scope<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = std::mem::take(&mut self.scope);
        let out = f(self);
        self.scope = saved;
        out
    }

    /// Writes items separated by `", "`.
    pub fn comma_list<T>(
        &mut self,
        items: &[T],
        mut f: impl FnMut(&mut Self, &T) -> Result<(), crate::CompileError>,
    ) -> Result<(), crate::CompileError> {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            f(self, item)?;
        }
        Ok(())
    }

    /// A point to [`rewind`](Self::rewind) to: the lengths of the text
    /// and the parameters so far.
    pub(crate) fn mark(&self) -> (usize, usize) {
        (self.sql.len(), self.params.len())
    }

    /// How many parameters were bound since `mark`.
    pub(crate) fn params_since(&self, mark: (usize, usize)) -> usize {
        self.params.len() - mark.1
    }

    /// Forgets what was written since `mark`.
    pub(crate) fn rewind(&mut self, mark: (usize, usize)) {
        self.sql.truncate(mark.0);
        self.params.truncate(mark.1);
        if let Some(o) = &mut self.origins {
            o.truncate(mark.1);
        }
        self.named.retain(|p| p.index < mark.1);
    }

    /// The first identifier error met so far, if any: what makes the
    /// statement fail to compile.
    pub fn check(&self) -> Result<(), crate::CompileError> {
        match &self.bad_identifier {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// The SQL written so far.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// Finishes, giving the text and the parameters.
    pub fn finish(self) -> Compiled {
        Compiled {
            sql: self.sql,
            params: self.params,
        }
    }

    /// Finishes, giving the text, the parameters and the named placeholders.
    pub fn finish_prepared(self) -> Prepared {
        Prepared {
            named: self.named,
            compiled: Compiled {
                sql: self.sql,
                params: self.params,
            },
        }
    }
}

/// Why `name` cannot be an identifier on `d`, if it cannot.
fn identifier_error(name: &str, d: &dyn Dialect) -> Option<crate::CompileError> {
    let invalid = |reason: &'static str| crate::CompileError::InvalidIdentifier {
        name: name.to_owned(),
        reason,
    };
    if name.is_empty() {
        return Some(invalid("it is empty"));
    }
    if name.contains('\0') {
        return Some(invalid("it contains a NUL character"));
    }
    let max = d.max_identifier_length()?;
    let len = if d.identifier_length_in_chars() {
        name.chars().count()
    } else {
        name.len()
    };
    (len > max).then(|| crate::CompileError::IdentifierTooLong {
        dialect: d.name(),
        name: name.to_owned(),
        max,
    })
}

/// `name`, deterministically shortened to at most `max` bytes when it is
/// longer (SQLAlchemy's rule for generated names: a prefix, `_` and a
/// hash of the whole name), so that generated constraint and index names
/// fit every backend.
pub fn truncate_name(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    // FNV-1a: stable across runs and platforms.
    let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let mut cut = max.saturating_sub(9);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash:08x}", &name[..cut])
}

/// The longest name every supported backend takes (PostgreSQL: 63 bytes).
pub const PORTABLE_NAME_LEN: usize = 63;

/// `name` as an identifier of `d`: quoted when reserved or unusual (not
/// all lowercase ASCII letters, digits and `_`), the quote doubled inside.
pub fn quote_ident(name: &str, d: &dyn Dialect) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    push_ident(&mut out, name, d);
    out
}

fn push_ident(out: &mut String, name: &str, d: &dyn Dialect) {
    if needs_quoting(name, d) {
        let q = d.quote_char();
        out.push(q);
        for ch in name.chars() {
            if ch == q {
                out.push(q);
            }
            out.push(ch);
        }
        out.push(q);
    } else {
        out.push_str(name);
    }
}

fn needs_quoting(name: &str, d: &dyn Dialect) -> bool {
    let mut chars = name.chars();
    let plain_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let plain_rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    !(plain_start && plain_rest) || d.is_reserved(name)
}
