//! `text()`: SQL written by hand, with `:name` parameters bound to values.

use std::sync::Arc;

use super::expr::Expr;
use crate::value::Value;

/// Hand-written SQL with named parameters (`:name`), as SQLAlchemy's `text()`.
///
/// Each `:name` becomes a placeholder of the dialect and its value is bound;
/// `::` (a PostgreSQL cast), text inside quotes (with MySQL's backslash
/// escapes and PostgreSQL's `E'...'` and `$tag$` strings) and comments
/// (`--`, `/* */`, MySQL's `#`) are left alone; `\:` is a literal colon.
///
/// ```
/// use dialects::{text, Dialect, Postgres, Sqlite, Value};
/// let t = text("SELECT id FROM worker WHERE name = :name OR nick = :name").bind("name", "Vlad");
/// let pg = t.compile(&Postgres).unwrap();
/// assert_eq!(pg.sql, "SELECT id FROM worker WHERE name = $1 OR nick = $2");
/// assert_eq!(pg.params, vec![Value::from("Vlad"), Value::from("Vlad")]);
/// assert_eq!(t.compile(&Sqlite).unwrap().sql, "SELECT id FROM worker WHERE name = ? OR nick = ?");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TextClause {
    pub(crate) sql: Arc<str>,
    pub(crate) params: Vec<(Arc<str>, Value)>,
}

/// SQL text with named `:param` placeholders.
pub fn text(sql: &str) -> TextClause {
    TextClause {
        sql: Arc::from(sql),
        params: Vec::new(),
    }
}

impl TextClause {
    /// Binds `value` to every `:name` in the text.
    pub fn bind(mut self, name: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        match self.params.iter_mut().find(|(n, _)| &**n == name) {
            Some(slot) => slot.1 = value,
            None => self.params.push((Arc::from(name), value)),
        }
        self
    }

    /// The value bound to `name`.
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.params
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v)
    }

    /// Uses the text as an expression (a literal column, a condition).
    pub fn expr(self) -> Expr {
        Expr::Text(self)
    }
}

/// A column (or any expression) given as SQL text, SQLAlchemy's
/// `literal_column()`: written as is, so never build it from user input;
/// `:name` parameters in it need [`text`] and [`TextClause::bind`].
///
/// ```
/// use dialects::{literal_column, select, Dialect, Sqlite};
/// let stmt = select((literal_column("1").label("one"),));
/// assert_eq!(stmt.compile(&Sqlite).unwrap().sql, "SELECT 1 AS one");
/// ```
pub fn literal_column(sql: &str) -> Expr {
    Expr::Text(text(sql))
}

/// The lexical rules of a backend that decide where a `:name` in
/// [`text`] is a parameter: comments, quoted strings and identifiers are
/// skipped whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextSyntax {
    /// A backslash escapes the next character inside `'...'` (MySQL).
    pub backslash_escapes: bool,
    /// `#` starts a comment to the end of the line (MySQL).
    pub hash_comments: bool,
    /// `--` starts a comment only when followed by a space or control
    /// character (MySQL); otherwise always.
    pub dash_comment_needs_space: bool,
    /// `$tag$ ... $tag$` quotes a string (PostgreSQL).
    pub dollar_quotes: bool,
    /// `/* ... */` comments nest (PostgreSQL).
    pub nested_comments: bool,
    /// `E'...'` strings take backslash escapes (PostgreSQL).
    pub escape_strings: bool,
}

/// A piece of a parsed text clause.
pub(crate) enum TextPiece<'a> {
    Sql(&'a str),
    Param(&'a str),
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Where the quoted text opened by `quote` at `start` ends (just past the
/// closing quote; the end of the text when it never closes). A doubled
/// quote stands for itself; with `backslash`, `\x` does too.
fn skip_quoted(bytes: &[u8], start: usize, quote: u8, backslash: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if backslash => i += 2,
            b if b == quote => {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Where the block comment opened at `start` ends.
fn skip_block_comment(bytes: &[u8], start: usize, nested: bool) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            if depth == 0 || nested {
                depth += 1;
            }
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth = depth.saturating_sub(1);
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// The dollar-quote tag (`$$`, `$tag$`) at `i`, if one starts there.
fn dollar_tag(bytes: &[u8], i: usize) -> Option<&[u8]> {
    if i > 0 && is_word(bytes[i - 1]) {
        return None;
    }
    let rest = &bytes[i + 1..];
    let len = rest.iter().position(|b| !is_word(*b)).unwrap_or(rest.len());
    if rest.get(len) != Some(&b'$') || rest.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some(&bytes[i..i + len + 2])
}

/// Splits SQL text into literal pieces and `:name` parameters, as
/// SQLAlchemy's `text()` does: a `:` followed by a name is a parameter
/// unless a word character, a colon or a backslash comes before it or a
/// lone colon after it (`x::text` is a cast, `:x::text` a parameter cast);
/// `\:` is a literal colon. Text in
/// quotes, comments and (PostgreSQL) dollar quotes is left alone.
pub(crate) fn split_params(sql: &str, syntax: TextSyntax) -> Vec<TextPiece<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        match b {
            b'\'' => i = skip_quoted(bytes, i, b, syntax.backslash_escapes),
            b'E' | b'e'
                if syntax.escape_strings
                    && next == Some(b'\'')
                    && (i == 0 || !is_word(bytes[i - 1])) =>
            {
                i = skip_quoted(bytes, i + 1, b'\'', true);
            }
            b'"' | b'`' => i = skip_quoted(bytes, i, b, false),
            b'-' if next == Some(b'-')
                && (!syntax.dash_comment_needs_space
                    || bytes
                        .get(i + 2)
                        .is_none_or(|c| c.is_ascii_whitespace() || c.is_ascii_control())) =>
            {
                i = bytes[i..]
                    .iter()
                    .position(|c| *c == b'\n')
                    .map_or(bytes.len(), |p| i + p);
            }
            b'#' if syntax.hash_comments => {
                i = bytes[i..]
                    .iter()
                    .position(|c| *c == b'\n')
                    .map_or(bytes.len(), |p| i + p);
            }
            b'/' if next == Some(b'*') => i = skip_block_comment(bytes, i, syntax.nested_comments),
            b'$' if syntax.dollar_quotes => match dollar_tag(bytes, i) {
                Some(tag) => {
                    let body = i + tag.len();
                    i = bytes[body..]
                        .windows(tag.len())
                        .position(|w| w == tag)
                        .map_or(bytes.len(), |p| body + p + tag.len());
                }
                None => i += 1,
            },
            b'\\' if next == Some(b':') => {
                // `\:` is a literal colon: the backslash is dropped.
                out.push(TextPiece::Sql(&sql[start..i]));
                start = i + 1;
                i += 2;
            }
            b':' if next.is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
                && (i == 0 || !(is_word(bytes[i - 1]) || bytes[i - 1] == b':')) =>
            {
                let end = bytes[i + 1..]
                    .iter()
                    .position(|c| !is_word(*c))
                    .map_or(bytes.len(), |p| i + 1 + p);
                // `:a:` is no parameter; `:a::text` is one, cast.
                if bytes.get(end) == Some(&b':') && bytes.get(end + 1) != Some(&b':') {
                    i = end + 1;
                    continue;
                }
                out.push(TextPiece::Sql(&sql[start..i]));
                out.push(TextPiece::Param(&sql[i + 1..end]));
                start = end;
                i = end;
            }
            _ => i += 1,
        }
    }
    out.push(TextPiece::Sql(&sql[start..]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(sql: &str, syntax: TextSyntax) -> Vec<&str> {
        split_params(sql, syntax)
            .into_iter()
            .filter_map(|p| match p {
                TextPiece::Param(n) => Some(n),
                TextPiece::Sql(_) => None,
            })
            .collect()
    }

    const PG: TextSyntax = TextSyntax {
        backslash_escapes: false,
        hash_comments: false,
        dash_comment_needs_space: false,
        dollar_quotes: true,
        nested_comments: true,
        escape_strings: true,
    };
    const MY: TextSyntax = TextSyntax {
        backslash_escapes: true,
        hash_comments: true,
        dash_comment_needs_space: true,
        dollar_quotes: false,
        nested_comments: false,
        escape_strings: false,
    };

    #[test]
    fn comments_and_quotes_hide_names() {
        let sql = "SELECT :a -- :b\n, ':c', \"x:d\" /* :e /* :f */ :g */ , :h";
        assert_eq!(params(sql, PG), ["a", "h"]);
        // MySQL's block comments do not nest: `:g` is outside.
        assert_eq!(params(sql, MY), ["a", "g", "h"]);
        assert_eq!(params("SELECT 1 # :x\n, :y", MY), ["y"]);
        assert_eq!(params("SELECT 1 # :x\n, :y", PG), ["x", "y"]);
        // MySQL's `--` needs a space: `1--:x` is `1 - -:x`.
        assert_eq!(params("SELECT 1--:x", MY), ["x"]);
        assert_eq!(params("SELECT 1--:x", PG), Vec::<&str>::new());
    }

    #[test]
    fn escapes_dollar_quotes_and_casts() {
        assert_eq!(params(r"SELECT 'it\'s :no', :yes", MY), ["yes"]);
        // Standard strings: the backslash is a character, `'` ends it.
        assert_eq!(params(r"SELECT 'a\', :yes", PG), ["yes"]);
        assert_eq!(params(r"SELECT E'it\'s :no', :yes", PG), ["yes"]);
        assert_eq!(
            params("SELECT $$ :no $$, $fn$ :no $fn$, :yes::text, $1", PG),
            ["yes"]
        );
        assert_eq!(
            params("SELECT a:b, x::y, :ok:, \\:lit", PG),
            Vec::<&str>::new()
        );
        assert_eq!(params("SELECT 'unclosed :x", PG), Vec::<&str>::new());
    }
}
