//! PostgreSQL: only what it does differently from ANSI.

use std::borrow::Cow;

use crate::compiler::features::{Features, ANSI};
use crate::compiler::writer::quote_ident;
use crate::compiler::{ansi, is_autoincrement, Dialect, SqlWriter};
use crate::error::CompileError;
use crate::schema::column::Column;
use crate::schema::table::Table;
use crate::schema::types::SqlType;
use crate::sql::expr::{Expr, SpecialFunction};
use crate::sql::text::TextSyntax;

/// The PostgreSQL dialect: `$n` placeholders, `"` quoting, `RETURNING`,
/// `ON CONFLICT`, `DISTINCT ON`, native `ILIKE`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Postgres;

const FEATURES: Features = Features {
    insert_returning: true,
    update_returning: true,
    delete_returning: true,
    on_conflict: true,
    distinct_on: true,
    ilike: true,
    native_enum: true,
    named_enum_types: true,
    max_bind_params: 65_535,
    update_from: true,
    key_locks: true,
    ..ANSI
};

impl Dialect for Postgres {
    fn name(&self) -> &'static str {
        "postgresql"
    }

    fn features(&self) -> &'static Features {
        &FEATURES
    }

    fn write_placeholder(&self, index: usize, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(out, "${index}");
    }

    fn write_debug_literal(
        &self,
        value: &crate::Value,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        match value {
            crate::Value::Bytes(b) => {
                w.push("'\\x");
                w.push(&ansi::hex(b));
                w.push("'::bytea");
                Ok(())
            }
            #[cfg(feature = "chrono")]
            crate::Value::DateTimeUtc(t) => {
                ansi::string_literal(&t.to_rfc3339(), w, false);
                Ok(())
            }
            #[cfg(feature = "time")]
            crate::Value::TimeOffsetDateTime(t) => {
                ansi::string_literal(&crate::value::rfc3339_text(*t), w, false);
                Ok(())
            }
            other => self.write_literal(other, w),
        }
    }

    fn max_identifier_length(&self) -> Option<usize> {
        // NAMEDATALEN - 1: PostgreSQL silently truncates longer names.
        Some(63)
    }

    fn text_syntax(&self) -> TextSyntax {
        TextSyntax {
            dollar_quotes: true,
            nested_comments: true,
            escape_strings: true,
            ..TextSyntax::default()
        }
    }

    fn type_name(&self, ty: &SqlType, column: &str) -> Result<Cow<'static, str>, CompileError> {
        Ok(match ty {
            SqlType::Uuid => "UUID".into(),
            SqlType::Json => "JSONB".into(),
            SqlType::Binary(_) => "BYTEA".into(),
            SqlType::DateTime { timezone: false } => "TIMESTAMP WITHOUT TIME ZONE".into(),
            SqlType::Enum {
                name,
                variants,
                native: true,
            } => {
                if variants.is_empty() {
                    return ansi::type_name(self.name(), ty, column);
                }
                quote_ident(name, self).into()
            }
            other => ansi::type_name(self.name(), other, column)?,
        })
    }

    fn bound_cast(&self, ty: &SqlType) -> Option<Cow<'static, str>> {
        // A text parameter does not convert to an enum by itself.
        match ty {
            SqlType::Enum {
                name, native: true, ..
            } => Some(quote_ident(name, self).into()),
            _ => None,
        }
    }

    fn visit_special(
        &self,
        func: SpecialFunction,
        args: &[Expr],
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        match func {
            SpecialFunction::Now => w.push("now()"),
            SpecialFunction::UtcNow => w.push("TIMEZONE('utc', now())"),
            other => return ansi::visit_special(other, args, w),
        }
        Ok(())
    }

    fn column_spec(
        &self,
        table: &Table,
        column: &Column,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        if !is_autoincrement(table, column) {
            return ansi::column_spec(table, column, w);
        }
        w.ident(column.name());
        w.push(match column.sql_type() {
            SqlType::SmallInteger => " SMALLSERIAL",
            SqlType::BigInteger => " BIGSERIAL",
            _ => " SERIAL",
        });
        ansi::default_and_null(column, w)
    }
}
