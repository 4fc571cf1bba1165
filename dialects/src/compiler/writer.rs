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
    /// The FROM sources of every enclosing statement, innermost last: what
    /// a nested subquery may correlate to.
    scope: Vec<Arc<Source>>,
    /// Set while a DML statement writes subqueries that must carry their
    /// own `WITH` clause (backends without `WITH ... UPDATE`).
    nested_with: bool,
}

impl<'d> SqlWriter<'d> {
    /// An empty writer for `dialect`.
    pub fn new(dialect: &'d dyn Dialect) -> Self {
        SqlWriter {
            dialect,
            sql: String::with_capacity(256),
            params: Vec::new(),
            inline_literals: false,
            scope: Vec::new(),
            nested_with: false,
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

    /// Appends an identifier, quoted when reserved or unusual.
    pub fn ident(&mut self, name: &str) {
        let d = self.dialect;
        if needs_quoting(name, d) {
            let q = d.quote_char();
            self.sql.push(q);
            for ch in name.chars() {
                if ch == q {
                    self.sql.push(q);
                }
                self.sql.push(ch);
            }
            self.sql.push(q);
        } else {
            self.sql.push_str(name);
        }
    }

    /// Binds a value: writes a placeholder and stores the value, or in DDL
    /// mode writes it as a literal.
    pub fn bind(&mut self, value: &Value) -> Result<(), crate::CompileError> {
        if self.inline_literals {
            let d = self.dialect;
            return d.write_literal(value, self);
        }
        self.params.push(value.clone());
        let d = self.dialect;
        d.write_placeholder(self.params.len(), &mut self.sql);
        Ok(())
    }

    /// Binds an owned value (avoids a clone).
    pub fn bind_owned(&mut self, value: Value) -> Result<(), crate::CompileError> {
        if self.inline_literals {
            return self.bind(&value);
        }
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
}

fn needs_quoting(name: &str, d: &dyn Dialect) -> bool {
    let mut chars = name.chars();
    let plain_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let plain_rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    !(plain_start && plain_rest) || d.is_reserved(name)
}
