//! SQLite: only what it does differently from ANSI.

use std::borrow::Cow;

use crate::compiler::features::{Features, MultiTable, ANSI};
use crate::compiler::{ansi, is_autoincrement, Dialect, SqlWriter};
use crate::error::CompileError;
use crate::schema::column::Column;
use crate::schema::table::Table;
use crate::schema::types::SqlType;
use crate::sql::expr::{BinaryOp, DateField, Expr, SpecialFunction};

/// The SQLite dialect: `?` placeholders, `"` quoting, `RETURNING` and
/// `ON CONFLICT` (SQLite 3.35+), no row locks, booleans as 0/1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sqlite;

const FEATURES: Features = Features {
    insert_returning: true,
    update_returning: true,
    delete_returning: true,
    on_conflict: true,
    for_update: false,
    lock_modifiers: false,
    lock_of: false,
    fetch_first: false,
    lateral: false,
    native_bool: false,
    update_from: true,
    multi_table_delete: MultiTable::Unsupported,
    ..ANSI
};

impl Dialect for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn features(&self) -> &'static Features {
        &FEATURES
    }

    fn true_division_cast(&self) -> Option<&'static str> {
        Some("REAL")
    }

    fn floor_of_quotient(&self) -> (&'static str, &'static str) {
        // SQLite has no FLOOR() (without its math extension): the
        // quotient is truncated toward zero, as integer division is.
        ("CAST(", " AS INTEGER)")
    }

    fn binary_op_sql(&self, op: BinaryOp) -> &'static str {
        match op {
            BinaryOp::IsDistinctFrom => "IS NOT",
            BinaryOp::IsNotDistinctFrom => "IS",
            BinaryOp::RegexpMatch => "REGEXP",
            BinaryOp::NotRegexpMatch => "NOT REGEXP",
            other => other.as_sql(),
        }
    }

    fn visit_special(
        &self,
        func: SpecialFunction,
        args: &[Expr],
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        match func {
            SpecialFunction::AggregateStrings => ansi::call("group_concat", args, w),
            SpecialFunction::Extract(field) => {
                // SQLite has no EXTRACT; strftime gives the field as text.
                let format = match field {
                    DateField::Year => "'%Y'",
                    DateField::Month => "'%m'",
                    DateField::Day => "'%d'",
                    DateField::Hour => "'%H'",
                    DateField::Minute => "'%M'",
                    DateField::Second => "'%S'",
                };
                w.push("CAST(strftime(");
                w.push(format);
                w.push(", ");
                ansi::comma_args(args, w)?;
                w.push(") AS INTEGER)");
                Ok(())
            }
            other => ansi::visit_special(other, args, w),
        }
    }

    fn like_escape(&self) -> &'static str {
        // SQLite's LIKE has no escape character unless given one.
        " ESCAPE '\\'"
    }

    fn type_name(&self, ty: &SqlType, column: &str) -> Result<Cow<'static, str>, CompileError> {
        Ok(match ty {
            SqlType::DateTime { .. } => "DATETIME".into(),
            SqlType::Json => "TEXT".into(),
            SqlType::Binary(_) => "BLOB".into(),
            other => ansi::type_name(self.name(), other, column)?,
        })
    }

    fn visit_cast(
        &self,
        expr: &Expr,
        ty: &SqlType,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        // SQLite keeps dates and times as text, but `CAST(x AS DATE)` (or
        // TIME, DATETIME) means NUMERIC affinity: '2024-02-29' becomes 2024.
        // `date()` truncates a timestamp to its day; a time or timestamp
        // stays the text it is, fractional seconds included.
        match ty {
            SqlType::Date => {
                w.push("date(");
                self.visit_expr(expr, w)?;
                w.push_char(')');
                Ok(())
            }
            SqlType::Time | SqlType::DateTime { .. } => ansi::visit_cast(expr, &SqlType::Text, w),
            _ => ansi::visit_cast(expr, ty, w),
        }
    }

    fn limit_offset(
        &self,
        limit: Option<u64>,
        offset: Option<u64>,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        if limit.is_none() && offset.is_some() {
            // SQLite has no OFFSET without LIMIT; a negative limit means none.
            w.push(" LIMIT -1");
        }
        ansi::limit_offset(limit, offset, w)
    }

    fn values_source(
        &self,
        def: &crate::sql::values::ValuesDef,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        // SQLite names the columns of a VALUES list column1, column2, ...
        // and has no column list on a derived table: rename them.
        w.push("(SELECT ");
        for (i, name) in def.columns.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.push(&format!("column{}", i + 1));
            w.push(" AS ");
            w.ident(name);
        }
        w.push(" FROM (");
        ansi::values_rows(def, w)?;
        w.push(")) AS ");
        w.ident(&def.alias);
        Ok(())
    }

    fn index_on_table(&self, index: &str, table: &Table, w: &mut SqlWriter<'_>) {
        // `CREATE INDEX schema.name ON table`: the index names the schema.
        if let Some(schema) = table.schema_name() {
            w.ident(schema);
            w.push_char('.');
        }
        w.ident(index);
        w.push(" ON ");
        w.ident(table.name());
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
        // Only a column declared exactly `INTEGER` becomes the rowid alias.
        w.ident(column.name());
        w.push(" INTEGER");
        ansi::default_and_null(column, w)
    }
}
