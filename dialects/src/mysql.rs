//! MySQL and MariaDB: only what they do differently from ANSI.

use std::borrow::Cow;

use crate::compiler::features::{Features, MultiTable, ANSI};
use crate::compiler::{ansi, is_autoincrement, Dialect, SqlWriter};
use crate::error::CompileError;
use crate::schema::column::{Column, ServerDefault};
use crate::schema::table::Table;
use crate::schema::types::SqlType;
use crate::sql::expr::{BinaryOp, Expr, SpecialFunction};
use crate::sql::insert::{ConflictAction, Insert};
use crate::sql::text::TextSyntax;
use crate::value::Value;

/// The MySQL dialect (`MySql::default()` is MySQL 8; [`MySql::mariadb`]
/// adds what MariaDB has on top: `INSERT/DELETE ... RETURNING`,
/// `IF [NOT] EXISTS` on indexes). Backtick quoting, `?` placeholders,
/// `ON DUPLICATE KEY UPDATE`, no `FULL JOIN`, no `DISTINCT ON`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MySql {
    mariadb: bool,
}

impl MySql {
    /// MySQL 8.
    pub fn mysql8() -> Self {
        MySql { mariadb: false }
    }

    /// MariaDB 10.5 or later.
    pub fn mariadb() -> Self {
        MySql { mariadb: true }
    }

    /// Whether this is the MariaDB flavour.
    pub fn is_mariadb(&self) -> bool {
        self.mariadb
    }
}

const MYSQL: Features = Features {
    on_duplicate_key: true,
    nulls_ordering: false,
    full_join: false,
    native_bool: false,
    native_enum: true,
    index_if_exists: false,
    fetch_first: false,
    update_join: true,
    bound_sort_key_is_position: true,
    max_bind_params: 65_535,
    multi_table_update: MultiTable::TableList,
    multi_table_delete: MultiTable::TableList,
    ..ANSI
};

const MARIADB: Features = Features {
    insert_returning: true,
    delete_returning: true,
    index_if_exists: true,
    cte_in_dml: false,
    lock_of: false,
    share_mode_lock: true,
    fetch_first: true,
    lateral: false,
    ..MYSQL
};

impl Dialect for MySql {
    fn name(&self) -> &'static str {
        if self.mariadb {
            "mariadb"
        } else {
            "mysql"
        }
    }

    fn features(&self) -> &'static Features {
        if self.mariadb {
            &MARIADB
        } else {
            &MYSQL
        }
    }

    fn quote_char(&self) -> char {
        '`'
    }

    fn true_division_cast(&self) -> Option<&'static str> {
        // MySQL's `/` is true division already (`DIV` is integer division).
        None
    }

    fn integer_division_op(&self) -> &'static str {
        "DIV"
    }

    fn binary_op_sql(&self, op: BinaryOp) -> &'static str {
        match op {
            BinaryOp::IsNotDistinctFrom => "<=>",
            BinaryOp::RegexpMatch => "REGEXP",
            BinaryOp::NotRegexpMatch => "NOT REGEXP",
            other => other.as_sql(),
        }
    }

    fn default_values(&self) -> &'static str {
        // MySQL has no `DEFAULT VALUES`; an empty column list means the same.
        " () VALUES ()"
    }

    fn max_identifier_length(&self) -> Option<usize> {
        Some(64)
    }

    fn identifier_length_in_chars(&self) -> bool {
        true
    }

    fn text_syntax(&self) -> TextSyntax {
        TextSyntax {
            backslash_escapes: true,
            hash_comments: true,
            dash_comment_needs_space: true,
            ..TextSyntax::default()
        }
    }

    fn is_reserved(&self, word: &str) -> bool {
        crate::compiler::reserved::is_mysql_reserved(word)
    }

    fn type_name(&self, ty: &SqlType, column: &str) -> Result<Cow<'static, str>, CompileError> {
        Ok(match ty {
            SqlType::Float => "FLOAT".into(),
            SqlType::Double => "DOUBLE".into(),
            SqlType::Numeric(p, s) => format!("DECIMAL({p}, {s})").into(),
            SqlType::String(None) => {
                return Err(CompileError::InvalidType {
                    dialect: self.name(),
                    ty: "String".into(),
                    column: column.to_owned(),
                    reason: "VARCHAR needs a length; use String(n) or Text",
                })
            }
            SqlType::Boolean => "BOOL".into(),
            SqlType::Time => "TIME(6)".into(),
            SqlType::DateTime { .. } => "DATETIME(6)".into(),
            SqlType::Binary(None) => "LONGBLOB".into(),
            SqlType::Json => "JSON".into(),
            SqlType::Enum {
                variants,
                native: true,
                ..
            } if !variants.is_empty() => {
                let mut out = String::from("ENUM(");
                for (i, v) in variants.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push('\'');
                    out.push_str(&v.replace('\\', "\\\\").replace('\'', "''"));
                    out.push('\'');
                }
                out.push(')');
                out.into()
            }
            other => ansi::type_name(self.name(), other, column)?,
        })
    }

    fn cast_type_name(&self, ty: &SqlType) -> Result<Cow<'static, str>, CompileError> {
        Ok(match ty {
            SqlType::SmallInteger | SqlType::Integer | SqlType::BigInteger | SqlType::Boolean => {
                "SIGNED INTEGER".into()
            }
            SqlType::String(_) | SqlType::Text | SqlType::Enum { .. } | SqlType::Uuid => {
                "CHAR".into()
            }
            SqlType::Binary(_) => "BINARY".into(),
            SqlType::DateTime { .. } => "DATETIME(6)".into(),
            other => self.type_name(other, "CAST")?,
        })
    }

    fn write_literal(&self, value: &Value, w: &mut SqlWriter<'_>) -> Result<(), CompileError> {
        ansi::write_literal(value, w, true)
    }

    fn visit_expr(&self, expr: &Expr, w: &mut SqlWriter<'_>) -> Result<(), CompileError> {
        if let Expr::Function { name, args } = expr {
            // MariaDB's LAG and LEAD take no default value.
            if self.mariadb && args.len() > 2 && matches!(&**name, "lag" | "lead") {
                return Err(crate::compiler::unsupported(
                    self,
                    "lag() / lead() with a default value",
                ));
            }
        }
        ansi::visit_expr(expr, w)
    }

    fn visit_cast(
        &self,
        expr: &Expr,
        ty: &SqlType,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        if self.mariadb && matches!(ty, SqlType::Json) {
            // MariaDB has no CAST to JSON (its JSON is LONGTEXT): as
            // SQLAlchemy does, the cast is left out.
            w.push_char('(');
            self.visit_expr(expr, w)?;
            w.push_char(')');
            return Ok(());
        }
        ansi::visit_cast(expr, ty, w)
    }

    fn visit_binary(
        &self,
        op: BinaryOp,
        left: &Expr,
        right: &Expr,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        match op {
            BinaryOp::Concat => {
                w.push("concat(");
                self.visit_expr(left, w)?;
                w.push(", ");
                self.visit_expr(right, w)?;
                w.push_char(')');
                Ok(())
            }
            BinaryOp::IsDistinctFrom => {
                // MySQL's NULL-safe equality, negated.
                w.push("NOT (");
                ansi::visit_binary(BinaryOp::IsNotDistinctFrom, left, right, w)?;
                w.push_char(')');
                Ok(())
            }
            _ => ansi::visit_binary(op, left, right, w),
        }
    }

    fn visit_special(
        &self,
        func: SpecialFunction,
        args: &[Expr],
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        match func {
            SpecialFunction::Now => w.push("CURRENT_TIMESTAMP"),
            SpecialFunction::UtcNow => w.push("UTC_TIMESTAMP(6)"),
            SpecialFunction::Length => ansi::call("char_length", args, w)?,
            SpecialFunction::Concat => {
                if args.is_empty() {
                    return Err(CompileError::Invalid("concat() needs an argument".into()));
                }
                ansi::call("concat", args, w)?;
            }
            SpecialFunction::AggregateStrings => {
                // MySQL's grammar takes the separator as a literal only.
                let [expr, sep] = args else {
                    return Err(CompileError::Invalid(
                        "aggregate_strings() takes an expression and a separator".into(),
                    ));
                };
                let Expr::Value(sep) = sep else {
                    return Err(CompileError::Invalid(
                        "the separator of aggregate_strings() must be a value".into(),
                    ));
                };
                w.push("group_concat(");
                self.visit_expr(expr, w)?;
                w.push(" SEPARATOR ");
                self.write_literal(sep, w)?;
                w.push_char(')');
            }
            other => ansi::visit_special(other, args, w)?,
        }
        Ok(())
    }

    fn visit_excluded(&self, column: &str, w: &mut SqlWriter<'_>) -> Result<(), CompileError> {
        w.push("VALUES(");
        w.ident(column);
        w.push_char(')');
        Ok(())
    }

    fn limit_offset(
        &self,
        limit: Option<u64>,
        offset: Option<u64>,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        if limit.is_none() && offset.is_some() {
            // MySQL has no OFFSET without LIMIT; this is its documented idiom.
            w.push(" LIMIT 18446744073709551615");
            return ansi::limit_offset(None, offset, w);
        }
        ansi::limit_offset(limit, offset, w)
    }

    fn values_source(
        &self,
        def: &crate::sql::values::ValuesDef,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        // MySQL 8 writes rows as `VALUES ROW(...)`, MariaDB as `VALUES
        // (...)`, and neither names the columns the same way: one-row
        // selects joined by UNION ALL mean the same on both.
        w.push_char('(');
        for (r, row) in def.rows.iter().enumerate() {
            w.push(if r == 0 {
                "SELECT "
            } else {
                " UNION ALL SELECT "
            });
            for (i, value) in row.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                self.visit_expr(value, w)?;
                if r == 0 {
                    w.push(" AS ");
                    w.ident(def.columns.get(i).map_or("", |c| c));
                }
            }
        }
        w.push(") AS ");
        w.ident(&def.alias);
        Ok(())
    }

    fn upsert_clause(&self, insert: &Insert, w: &mut SqlWriter<'_>) -> Result<(), CompileError> {
        let Some(oc) = &insert.on_conflict else {
            return Ok(());
        };
        w.push(" ON DUPLICATE KEY UPDATE ");
        match &oc.action {
            ConflictAction::DoUpdate(set) => ansi::set_list(&insert.table, set, false, w),
            ConflictAction::DoNothing => {
                // A no-op assignment keeps the existing row.
                let col = oc
                    .target
                    .first()
                    .cloned()
                    .or_else(|| {
                        insert
                            .table
                            .primary_key()
                            .next()
                            .map(|c| c.name().to_owned())
                    })
                    .ok_or_else(|| {
                        CompileError::Invalid(
                            "ON CONFLICT DO NOTHING needs a target or a primary key".into(),
                        )
                    })?;
                // Qualified: after `INSERT ... SELECT` a bare name would be
                // ambiguous with the select's own columns.
                for i in 0..2 {
                    if i > 0 {
                        w.push(" = ");
                    }
                    ansi::qualified_table(&insert.table, w);
                    w.push_char('.');
                    w.ident(&col);
                }
                Ok(())
            }
        }
    }

    fn server_default(
        &self,
        column: &Column,
        default: &ServerDefault,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        let blob_like = matches!(
            column.sql_type(),
            SqlType::Text | SqlType::Json | SqlType::Binary(None)
        );
        match default {
            // MySQL takes a default for TEXT, BLOB and JSON only as an expression.
            ServerDefault::Literal(v) if blob_like => {
                w.push_char('(');
                w.with_inline_literals(|w| self.write_literal(v, w))?;
                w.push_char(')');
                Ok(())
            }
            _ => ansi::server_default(default, w),
        }
    }

    fn column_spec(
        &self,
        table: &Table,
        column: &Column,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        ansi::column_spec(table, column, w)?;
        if is_autoincrement(table, column) {
            w.push(" AUTO_INCREMENT");
        }
        Ok(())
    }

    fn drop_index(
        &self,
        index: &str,
        table: &Table,
        if_exists: bool,
        w: &mut SqlWriter<'_>,
    ) -> Result<(), CompileError> {
        w.push("DROP INDEX ");
        if if_exists {
            w.push("IF EXISTS ");
        }
        w.ident(index);
        w.push(" ON ");
        ansi::qualified_table(table, w);
        Ok(())
    }
}
