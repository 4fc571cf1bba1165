//! The compiler: the `Dialect` trait whose default methods render ANSI SQL,
//! overridden per backend only where that backend differs.
//!
//! Each default body lives in a free function of [`ansi`] so that an
//! override can call it for the cases it does not change.

pub mod alter;
pub mod ansi;
pub mod cache;
pub mod cache_key;
pub mod ddl;
pub mod features;
pub mod reserved;
pub mod statement;
pub mod typing;
pub mod writer;

use std::borrow::Cow;

use crate::error::CompileError;
use crate::schema::column::{Column, ServerDefault};
use crate::schema::table::Table;
use crate::schema::types::SqlType;
use crate::sql::expr::{BinaryOp, Expr, SpecialFunction};
use crate::sql::insert::Insert;
use crate::sql::select::{Lock, OrderBy};
use crate::sql::text::TextSyntax;
use crate::value::Value;
pub use features::{Features, MultiTable};
pub use writer::{Compiled, NamedParam, Prepared, SqlWriter};

/// A SQL dialect: how one backend spells SQL.
///
/// Scalar hooks (`quote_char`, `write_placeholder`, ...) are small so that a
/// backend module reads as the list of its differences.
pub trait Dialect: Send + Sync + std::fmt::Debug {
    /// The dialect's name, used in error messages (`postgresql`, `sqlite`, `mysql`).
    fn name(&self) -> &'static str;

    /// What the backend supports.
    fn features(&self) -> &'static Features;

    /// The identifier quote character.
    fn quote_char(&self) -> char {
        '"'
    }

    /// Writes the placeholder for the `index`-th parameter (1-based).
    fn write_placeholder(&self, index: usize, out: &mut String) {
        let _ = index;
        out.push('?');
    }

    /// What follows every `LIKE` pattern (native or emulated `ILIKE` too),
    /// so that a backslash escapes `%`, `_` and itself on every backend:
    /// PostgreSQL and MySQL do that by default, SQLite needs `ESCAPE '\'`.
    fn like_escape(&self) -> &'static str {
        ""
    }

    /// The type the right operand of `/` is cast to when both operands are
    /// integers, so that `/` is true division (SQLAlchemy 2's rule);
    /// `None` where `/` already is (MySQL).
    fn true_division_cast(&self) -> Option<&'static str> {
        Some("NUMERIC")
    }

    /// The operator of integer division (floor division of two integers).
    fn integer_division_op(&self) -> &'static str {
        "/"
    }

    /// What surrounds `a / b` in a floor division that is not of two
    /// integers.
    fn floor_of_quotient(&self) -> (&'static str, &'static str) {
        ("FLOOR(", ")")
    }

    /// How this backend spells a binary operator.
    fn binary_op_sql(&self, op: BinaryOp) -> &'static str {
        op.as_sql()
    }

    /// The lexical rules `text()` follows to find its `:name` parameters.
    fn text_syntax(&self) -> TextSyntax {
        TextSyntax::default()
    }

    /// What follows `INSERT INTO table` when every column takes its default.
    fn default_values(&self) -> &'static str {
        " DEFAULT VALUES"
    }

    /// The longest identifier the backend takes, if it has a limit
    /// (PostgreSQL: 63 bytes; MySQL: 64 characters).
    fn max_identifier_length(&self) -> Option<usize> {
        None
    }

    /// Whether [`Dialect::max_identifier_length`] counts characters
    /// rather than bytes.
    fn identifier_length_in_chars(&self) -> bool {
        false
    }

    /// Whether `word` must be quoted as an identifier.
    fn is_reserved(&self, word: &str) -> bool {
        reserved::is_reserved(word)
    }

    /// The column type as this backend spells it.
    fn type_name(&self, ty: &SqlType, column: &str) -> Result<Cow<'static, str>, CompileError> {
        ansi::type_name(self.name(), ty, column)
    }

    /// The type a bound value must be cast to where it meets a column of
    /// type `ty` (compared with it, inserted or set into it), when the
    /// backend does not convert it by itself: PostgreSQL's enum types.
    fn bound_cast(&self, ty: &SqlType) -> Option<Cow<'static, str>> {
        let _ = ty;
        None
    }

    /// The type name used as a `CAST` target.
    fn cast_type_name(&self, ty: &SqlType) -> Result<Cow<'static, str>, CompileError> {
        self.type_name(ty, "CAST")
    }

    /// `CAST(expr AS type)`.
    fn visit_cast(
        &self,
        expr: &Expr,
        ty: &SqlType,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        ansi::visit_cast(expr, ty, w)
    }

    /// A value written as a SQL literal (DDL only: server defaults, checks).
    fn write_literal(&self, value: &Value, w: &mut SqlWriter<'_>) -> Result<(), CompileError> {
        ansi::write_literal(value, w, false)
    }

    /// A bound value written as a literal for reading
    /// ([`Statement::compile_debug`](crate::Statement::compile_debug)):
    /// what [`Dialect::write_literal`] writes, plus bytes and timestamps
    /// with a time zone.
    fn write_debug_literal(
        &self,
        value: &Value,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        match value {
            Value::Bytes(b) => {
                w.push("X'");
                w.push(&ansi::hex(b));
                w.push_char('\'');
                Ok(())
            }
            #[cfg(feature = "chrono")]
            Value::DateTimeUtc(t) => {
                ansi::string_literal(&t.to_rfc3339(), w, false);
                Ok(())
            }
            #[cfg(feature = "time")]
            Value::TimeOffsetDateTime(t) => {
                ansi::string_literal(&crate::value::rfc3339_text(*t), w, false);
                Ok(())
            }
            other => self.write_literal(other, w),
        }
    }

    /// An expression.
    fn visit_expr(&self, expr: &Expr, w: &mut SqlWriter<'_>) -> Result<(), CompileError> {
        ansi::visit_expr(expr, w)
    }

    /// A binary operation.
    fn visit_binary(
        &self,
        op: BinaryOp,
        left: &Expr,
        right: &Expr,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        ansi::visit_binary(op, left, right, w)
    }

    /// A function whose spelling differs per backend.
    fn visit_special(
        &self,
        func: SpecialFunction,
        args: &[Expr],
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        ansi::visit_special(func, args, w)
    }

    /// The proposed value of an upsert (`excluded.col`).
    fn visit_excluded(&self, column: &str, w: &mut SqlWriter<'_>) -> Result<(), CompileError> {
        w.push("excluded.");
        w.ident(column);
        Ok(())
    }

    /// One `ORDER BY` term.
    fn order_by_term(&self, term: &OrderBy, w: &mut SqlWriter<'_>) -> Result<(), CompileError> {
        ansi::order_by_term(term, w)
    }

    /// `LIMIT` / `OFFSET`.
    fn limit_offset(
        &self,
        limit: Option<u64>,
        offset: Option<u64>,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        ansi::limit_offset(limit, offset, w)
    }

    /// `FOR UPDATE` and its modifiers.
    fn lock_clause(&self, lock: &Lock, w: &mut SqlWriter<'_>) -> Result<(), CompileError> {
        ansi::lock_clause(lock, w)
    }

    /// A `VALUES` list used as a FROM item, its alias and column names
    /// included.
    fn values_source(
        &self,
        def: &crate::sql::values::ValuesDef,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        ansi::values_source(def, w)
    }

    /// The upsert clause of an insert, after its values.
    fn upsert_clause(&self, insert: &Insert, w: &mut SqlWriter<'_>) -> Result<(), CompileError> {
        ansi::upsert_clause(insert, w)
    }

    /// A column's type, constraints and default in `CREATE TABLE`.
    fn column_spec(
        &self,
        table: &Table,
        column: &Column,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        ansi::column_spec(table, column, w)
    }

    /// A column's server default after `DEFAULT`: a literal as is, an
    /// expression in parentheses.
    fn server_default(
        &self,
        column: &Column,
        default: &ServerDefault,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        let _ = column;
        ansi::server_default(default, w)
    }

    /// `name ON table` in `CREATE INDEX`: the schema qualifies the table
    /// (SQLite puts it on the index name instead).
    fn index_on_table(&self, index: &str, table: &Table, w: &mut SqlWriter<'_>) {
        ansi::index_on_table(index, table, w);
    }

    /// `DROP INDEX` (MySQL needs the table).
    fn drop_index(
        &self,
        index: &str,
        table: &Table,
        if_exists: bool,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        ansi::drop_index(index, table, if_exists, w)
    }
}

/// The error for `construct` on `dialect`.
pub fn unsupported(dialect: &dyn Dialect, construct: &'static str) -> CompileError {
    CompileError::Unsupported {
        dialect: dialect.name(),
        construct,
    }
}

/// Whether the server generates values for `column` of `table`: an explicit
/// flag, or by default a lone integer primary key without a foreign key.
pub fn is_autoincrement(table: &Table, column: &Column) -> bool {
    match column.autoincrement_flag() {
        Some(flag) => flag,
        None => {
            column.is_primary_key()
                && column.sql_type().is_integer()
                && column.get_foreign_key().is_none()
                && table.primary_key().count() == 1
        }
    }
}
