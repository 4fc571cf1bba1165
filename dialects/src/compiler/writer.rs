//! `SqlWriter`: SQL text and ordered parameters, written in one traversal.

use super::Dialect;
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
    /// When set, values are written as SQL literals (DDL only).
    inline_literals: bool,
}

impl<'d> SqlWriter<'d> {
    /// An empty writer for `dialect`.
    pub fn new(dialect: &'d dyn Dialect) -> Self {
        SqlWriter {
            dialect,
            sql: String::with_capacity(256),
            params: Vec::new(),
            inline_literals: false,
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

    /// Whether values are currently written as literals.
    pub fn inline_literals(&self) -> bool {
        self.inline_literals
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
