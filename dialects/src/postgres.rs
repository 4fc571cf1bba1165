//! PostgreSQL: only what it does differently from ANSI.

use std::borrow::Cow;

use crate::compiler::features::{Features, ANSI};
use crate::compiler::{ansi, is_autoincrement, Dialect, SqlWriter};
use crate::error::CompileError;
use crate::schema::column::Column;
use crate::schema::table::Table;
use crate::schema::types::SqlType;
use crate::sql::expr::{Expr, SpecialFunction};

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
    max_bind_params: 65_535,
    update_from: true,
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

    fn type_name(&self, ty: &SqlType, column: &str) -> Result<Cow<'static, str>, CompileError> {
        Ok(match ty {
            SqlType::Uuid => "UUID".into(),
            SqlType::Json => "JSONB".into(),
            SqlType::Binary(_) => "BYTEA".into(),
            SqlType::DateTime { timezone: false } => "TIMESTAMP WITHOUT TIME ZONE".into(),
            other => ansi::type_name(self.name(), other, column)?,
        })
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
            SpecialFunction::Length => return ansi::visit_special(func, args, w),
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
