//! DDL for schema changes: [`AlterOp`]s rendered as the statements each
//! backend runs (Alembic's `op.*` compiled per dialect).
//!
//! [`compile_op`] gives one operation's statements, DDL only (literals
//! inline, never a bound parameter). What a backend cannot do in place is
//! an error here: [`needs_rebuild`] says which operations SQLite does by
//! rebuilding the table, and [`AlterOp::RebuildTable`] renders that
//! rebuild as its sequence of statements (create a copy under a temporary
//! name, copy the rows, drop the original, rename the copy, recreate the
//! indexes). Foreign-key enforcement must be off around a rebuild, which is
//! the runner's business (a `PRAGMA` cannot change inside a transaction).
//!
//! Enumerations follow what the dialect's `type_name` does with an enum
//! type ([`enum_style`]): a named type (`CREATE TYPE ... AS ENUM`,
//! `ALTER TYPE ... ADD VALUE`), an inline `ENUM(...)` column type (MySQL),
//! or a `VARCHAR` with a `CHECK (col IN (...))` constraint named
//! `ck_<table>_<enum>`, as `CREATE TABLE` writes it.
//!
//! ```
//! use dialects::compiler::alter::compile_op;
//! use dialects::schema::alter::AlterOp;
//! use dialects::{Column, MySql, Postgres, SqlType};
//! let op = AlterOp::AlterColumn {
//!     table: "worker".into(),
//!     from: Column::new("name", SqlType::string(100)),
//!     to: Column::new("name", SqlType::string(200)).not_null(),
//! };
//! assert_eq!(compile_op(&op, &Postgres).unwrap(), [
//!     "ALTER TABLE worker ALTER COLUMN name TYPE VARCHAR(200) USING name::VARCHAR(200)",
//!     "ALTER TABLE worker ALTER COLUMN name SET NOT NULL",
//! ]);
//! assert_eq!(compile_op(&op, &MySql::mariadb()).unwrap(),
//!     ["ALTER TABLE worker MODIFY COLUMN name VARCHAR(200) NOT NULL"]);
//! ```

use super::{Dialect, SqlWriter};
use crate::error::CompileError;
use crate::schema::alter::{renamed_table, AlterOp};
use crate::schema::column::{Column, ServerDefault};
use crate::schema::constraint::{CheckConstraint, Index};
use crate::schema::table::{Table, TableForeignKey};
use crate::schema::types::SqlType;
use crate::sql::expr::Expr;
use crate::CreateTable;

type R = Result<(), CompileError>;

/// What a backend's `ALTER TABLE` can do. A table of constants, one per
/// backend, read through [`alter_features`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlterFeatures {
    /// `ALTER TABLE` can change a column's type, nullability or default,
    /// drop a column and add or drop constraints. When false (SQLite)
    /// those changes rebuild the table.
    pub alter_in_place: bool,
    /// Columns are changed by restating them whole (`MODIFY COLUMN`).
    pub modify_column: bool,
    /// The words that drop a foreign key (`CONSTRAINT`, `FOREIGN KEY`).
    pub drop_foreign_key: &'static str,
    /// The words that drop a unique constraint (`CONSTRAINT`, `INDEX`).
    pub drop_unique: &'static str,
    /// The words that drop a check constraint (`CONSTRAINT`, `CHECK`).
    pub drop_check: &'static str,
    /// DDL runs inside a transaction and rolls back with it.
    pub transactional_ddl: bool,
    /// An auto-incrementing integer key is stored as `INTEGER` whatever
    /// its declared width (SQLite's rowid alias).
    pub integer_rowid_key: bool,
}

/// PostgreSQL.
pub const POSTGRES: AlterFeatures = AlterFeatures {
    alter_in_place: true,
    modify_column: false,
    drop_foreign_key: "CONSTRAINT",
    drop_unique: "CONSTRAINT",
    drop_check: "CONSTRAINT",
    transactional_ddl: true,
    integer_rowid_key: false,
};

/// SQLite.
pub const SQLITE: AlterFeatures = AlterFeatures {
    alter_in_place: false,
    transactional_ddl: true,
    integer_rowid_key: true,
    ..POSTGRES
};

/// MySQL 8.
pub const MYSQL: AlterFeatures = AlterFeatures {
    alter_in_place: true,
    modify_column: true,
    drop_foreign_key: "FOREIGN KEY",
    drop_unique: "INDEX",
    drop_check: "CHECK",
    transactional_ddl: false,
    integer_rowid_key: false,
};

/// MariaDB.
pub const MARIADB: AlterFeatures = AlterFeatures {
    drop_check: "CONSTRAINT",
    ..MYSQL
};

/// The alter capabilities of `dialect`. This is the one place that reads
/// a dialect's name; it becomes a `Dialect` hook once the dialects carry
/// their own table.
pub fn alter_features(dialect: &dyn Dialect) -> &'static AlterFeatures {
    match dialect.name() {
        "sqlite" => &SQLITE,
        "mysql" => &MYSQL,
        "mariadb" => &MARIADB,
        _ => &POSTGRES,
    }
}

/// How a dialect stores an enumeration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnumStyle {
    /// A named type of its own (`CREATE TYPE name AS ENUM (...)`).
    Named,
    /// An `ENUM('a', 'b')` column type.
    Inline,
    /// A string column with a `CHECK (col IN (...))` constraint.
    Check,
}

/// What `dialect` does with an enum column, read from its `type_name`.
pub fn enum_style(dialect: &dyn Dialect) -> EnumStyle {
    let probe = SqlType::enumeration("probe", ["a"]);
    match dialect.type_name(&probe, "probe") {
        Ok(name) if name.to_ascii_uppercase().starts_with("ENUM") => EnumStyle::Inline,
        Ok(name) if name.to_ascii_uppercase().starts_with("VARCHAR") => EnumStyle::Check,
        Ok(_) => EnumStyle::Named,
        Err(_) => EnumStyle::Check,
    }
}

/// The name of the check constraint that enforces an enum column under
/// [`EnumStyle::Check`] (as `CREATE TABLE` names it).
pub fn enum_check_name(table: &str, enum_name: &str) -> String {
    format!("ck_{table}_{enum_name}")
}

/// Whether `op` needs a table rebuild on `dialect` (SQLite's ALTER TABLE
/// only adds simple columns, renames, and drops nothing).
pub fn needs_rebuild(op: &AlterOp, dialect: &dyn Dialect) -> bool {
    if alter_features(dialect).alter_in_place {
        return false;
    }
    match op {
        AlterOp::AlterColumn { .. }
        | AlterOp::DropColumn { .. }
        | AlterOp::AddUnique { .. }
        | AlterOp::DropUnique { .. }
        | AlterOp::AddForeignKey { .. }
        | AlterOp::DropForeignKey { .. } => true,
        AlterOp::AddColumn { column, .. } => !simple_added_column(column, dialect),
        _ => false,
    }
}

/// What SQLite's `ADD COLUMN` takes: no key, no unique, no enum check, a
/// constant default, and `NOT NULL` only with a non-null default.
fn simple_added_column(c: &Column, d: &dyn Dialect) -> bool {
    let literal_default = match c.get_server_default() {
        None => None,
        Some(ServerDefault::Literal(v)) => Some(!v.is_null()),
        Some(ServerDefault::Expr(_)) => return false,
    };
    let enum_check =
        matches!(c.sql_type(), SqlType::Enum { .. }) && enum_style(d) == EnumStyle::Check;
    !c.is_primary_key()
        && !c.is_unique()
        && !enum_check
        && (c.is_nullable() || literal_default == Some(true))
}

/// The statements that carry out `op` on `dialect`, in order.
///
/// An operation the backend cannot do in place ([`needs_rebuild`]) is
/// [`CompileError::Unsupported`]; dropping a constraint whose name is not
/// known is [`CompileError::Invalid`] naming the table and its columns.
pub fn compile_op(op: &AlterOp, d: &dyn Dialect) -> Result<Vec<String>, CompileError> {
    if needs_rebuild(op, d) {
        return Err(CompileError::Unsupported {
            dialect: d.name(),
            construct: "this ALTER TABLE (the table must be rebuilt)",
        });
    }
    let features = alter_features(d);
    let style = enum_style(d);
    let mut out = Vec::new();
    match op {
        AlterOp::CreateTable(t) => {
            out.push(CreateTable::new(t).compile(d)?.sql);
            for index in t.indexes() {
                out.push(stmt(d, |w| create_index(t.name(), &index, w))?);
            }
        }
        AlterOp::DropTable { table } => out.push(stmt(d, |w| {
            w.push("DROP TABLE ");
            w.ident(table);
            Ok(())
        })?),
        AlterOp::RenameTable { from, to } => out.push(stmt(d, |w| {
            alter_table(from, w);
            w.push(" RENAME TO ");
            w.ident(to);
            Ok(())
        })?),
        AlterOp::AddColumn { table, column } => add_column(table, column, d, style, &mut out)?,
        AlterOp::DropColumn { table, column } => out.push(stmt(d, |w| {
            alter_table(table, w);
            w.push(" DROP COLUMN ");
            w.ident(column);
            Ok(())
        })?),
        AlterOp::AlterColumn { table, from, to } => {
            alter_column(table, from, to, d, features, &style, &mut out)?;
        }
        AlterOp::RenameColumn { table, from, to } => out.push(stmt(d, |w| {
            alter_table(table, w);
            w.push(" RENAME COLUMN ");
            w.ident(from);
            w.push(" TO ");
            w.ident(to);
            Ok(())
        })?),
        AlterOp::CreateIndex { table, index } => {
            out.push(stmt(d, |w| create_index(table, index, w))?);
        }
        AlterOp::DropIndex { table, name } => out.push(stmt(d, |w| {
            d.drop_index(name, &Table::new(table.as_str()), false, w)
        })?),
        AlterOp::AddUnique { table, constraint } => out.push(stmt(d, |w| {
            alter_table(table, w);
            w.push(" ADD ");
            constraint_name(constraint.name.as_deref(), w);
            w.push("UNIQUE (");
            idents(&constraint.columns, w);
            w.push_char(')');
            Ok(())
        })?),
        AlterOp::DropUnique { table, constraint } => {
            let name = constraint
                .name
                .as_deref()
                .ok_or_else(|| unnamed("unique constraint", table, &constraint.columns))?;
            out.push(drop_constraint(table, features.drop_unique, name, d)?);
        }
        AlterOp::AddForeignKey {
            table,
            name,
            foreign_key,
        } => out.push(stmt(d, |w| {
            alter_table(table, w);
            w.push(" ADD ");
            constraint_name(name.as_deref(), w);
            foreign_key_clause(foreign_key, w);
            Ok(())
        })?),
        AlterOp::DropForeignKey {
            table,
            name,
            foreign_key,
        } => {
            let name = name
                .as_deref()
                .ok_or_else(|| unnamed("foreign key", table, &foreign_key.columns))?;
            out.push(drop_constraint(table, features.drop_foreign_key, name, d)?);
        }
        AlterOp::CreateEnum { name, values } => {
            if style == EnumStyle::Named {
                out.push(create_type(name, values, d)?);
            }
        }
        AlterOp::AddEnumValue { name, value, after } => {
            if style == EnumStyle::Named {
                out.push(stmt(d, |w| {
                    w.push("ALTER TYPE ");
                    w.ident(name);
                    w.push(" ADD VALUE ");
                    d.write_literal(&value.as_str().into(), w)?;
                    if let Some(after) = after {
                        w.push(" AFTER ");
                        d.write_literal(&after.as_str().into(), w)?;
                    }
                    Ok(())
                })?);
            }
        }
        AlterOp::ReplaceEnum {
            name, to, columns, ..
        } => {
            if style == EnumStyle::Named {
                let old = format!("{name}_old");
                out.push(stmt(d, |w| {
                    w.push("ALTER TYPE ");
                    w.ident(name);
                    w.push(" RENAME TO ");
                    w.ident(&old);
                    Ok(())
                })?);
                out.push(create_type(name, to, d)?);
                let ty = d.type_name(&SqlType::enumeration(name.clone(), to.clone()), name)?;
                for (table, column) in columns {
                    out.push(stmt(d, |w| {
                        alter_table(table, w);
                        w.push(" ALTER COLUMN ");
                        w.ident(column);
                        w.push(" TYPE ");
                        w.push(&ty);
                        w.push(" USING ");
                        w.ident(column);
                        w.push("::text::");
                        w.push(&ty);
                        Ok(())
                    })?);
                }
                out.push(stmt(d, |w| {
                    w.push("DROP TYPE ");
                    w.ident(&old);
                    Ok(())
                })?);
            }
        }
        AlterOp::DropEnum { name, .. } => {
            if style == EnumStyle::Named {
                // Gone already when the last table using it was dropped.
                out.push(stmt(d, |w| {
                    w.push("DROP TYPE IF EXISTS ");
                    w.ident(name);
                    Ok(())
                })?);
            }
        }
        AlterOp::RebuildTable { from, to, copy } => rebuild(from, to, copy, d, &mut out)?,
        AlterOp::Sql(sql) => out.push(sql.clone()),
    }
    Ok(out)
}

/// The temporary name a rebuilt table is created under.
pub fn rebuild_temp_name(table: &str) -> String {
    format!("_migrate_tmp_{table}")
}

fn rebuild(
    from: &Table,
    to: &Table,
    copy: &[(String, String)],
    d: &dyn Dialect,
    out: &mut Vec<String>,
) -> R {
    let temp = rebuild_temp_name(to.name());
    let new = renamed_table(to, &temp);
    let mut create = CreateTable::new(&new).compile(d)?.sql;
    // The checks `CREATE TABLE` writes for enum columns are named after
    // the table: name them after the table the copy becomes.
    for c in to.columns() {
        if let SqlType::Enum { name, .. } = c.sql_type() {
            let ident = |table: &str| {
                stmt(d, |w| {
                    w.push("CONSTRAINT ");
                    w.ident(&enum_check_name(table, name));
                    Ok(())
                })
            };
            create = create.replace(&ident(&temp)?, &ident(to.name())?);
        }
    }
    out.push(create);
    for (target, source) in copy {
        if to.get_column(target).is_none() || from.get_column(source).is_none() {
            return Err(CompileError::UnknownColumn {
                table: if to.get_column(target).is_none() {
                    to.name().to_owned()
                } else {
                    from.name().to_owned()
                },
                column: if to.get_column(target).is_none() {
                    target.clone()
                } else {
                    source.clone()
                },
            });
        }
    }
    if !copy.is_empty() {
        out.push(stmt(d, |w| {
            w.push("INSERT INTO ");
            w.ident(&temp);
            w.push(" (");
            idents(&copy.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>(), w);
            w.push(") SELECT ");
            idents(&copy.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(), w);
            w.push(" FROM ");
            w.ident(from.name());
            Ok(())
        })?);
    }
    out.push(stmt(d, |w| {
        w.push("DROP TABLE ");
        w.ident(from.name());
        Ok(())
    })?);
    out.push(stmt(d, |w| {
        alter_table(&temp, w);
        w.push(" RENAME TO ");
        w.ident(to.name());
        Ok(())
    })?);
    for index in to.indexes() {
        out.push(stmt(d, |w| create_index(to.name(), &index, w))?);
    }
    Ok(())
}

fn add_column(
    table: &str,
    column: &Column,
    d: &dyn Dialect,
    style: EnumStyle,
    out: &mut Vec<String>,
) -> R {
    let in_place = alter_features(d).alter_in_place;
    let holder = Table::new(table).column(column.clone());
    out.push(stmt(d, |w| {
        alter_table(table, w);
        w.push(" ADD COLUMN ");
        d.column_spec(&holder, column, w)?;
        if let (false, Some(fk)) = (in_place, column.get_foreign_key()) {
            // SQLite takes the reference inline.
            w.push(" REFERENCES ");
            w.ident(&fk.table);
            w.push(" (");
            w.ident(&fk.column);
            w.push_char(')');
            actions(fk.on_delete, fk.on_update, w);
        }
        Ok(())
    })?);
    if in_place {
        if column.is_unique() {
            out.push(stmt(d, |w| {
                alter_table(table, w);
                w.push(" ADD UNIQUE (");
                w.ident(column.name());
                w.push_char(')');
                Ok(())
            })?);
        }
        if let Some(fk) = column.get_foreign_key() {
            let key = TableForeignKey {
                columns: vec![column.name().to_owned()],
                ref_table: fk.table.clone(),
                ref_columns: vec![fk.column.clone()],
                on_delete: fk.on_delete,
                on_update: fk.on_update,
            };
            out.push(stmt(d, |w| {
                alter_table(table, w);
                w.push(" ADD ");
                constraint_name(Some(&foreign_key_name(table, &key)), w);
                foreign_key_clause(&key, w);
                Ok(())
            })?);
        }
        if style == EnumStyle::Check {
            if let Some(check) = enum_check(table, column) {
                out.push(add_check(table, &check, d)?);
            }
        }
    }
    if column.has_index() {
        let index = Index::new(format!("ix_{table}_{}", column.name()), [column.name()]);
        out.push(stmt(d, |w| create_index(table, &index, w))?);
    }
    Ok(())
}

fn alter_column(
    table: &str,
    from: &Column,
    to: &Column,
    d: &dyn Dialect,
    features: &AlterFeatures,
    style: &EnumStyle,
    out: &mut Vec<String>,
) -> R {
    if from.name() != to.name() {
        return Err(CompileError::Invalid(format!(
            "alter column of `{table}` changes the name `{}` to `{}`: rename it instead",
            from.name(),
            to.name()
        )));
    }
    let name = to.name();
    if features.modify_column {
        let holder = Table::new(table).column(to.clone());
        out.push(stmt(d, |w| {
            alter_table(table, w);
            w.push(" MODIFY COLUMN ");
            d.column_spec(&holder, to, w)
        })?);
        return Ok(());
    }
    let old_check = (*style == EnumStyle::Check)
        .then(|| enum_check(table, from))
        .flatten();
    let new_check = (*style == EnumStyle::Check)
        .then(|| enum_check(table, to))
        .flatten();
    let checks_differ = old_check
        .as_ref()
        .map(|c| (&c.name, format!("{:?}", c.expr)))
        != new_check
            .as_ref()
            .map(|c| (&c.name, format!("{:?}", c.expr)));
    if checks_differ {
        if let Some(check) = &old_check {
            let check_name = check.name.as_deref().unwrap_or_default();
            out.push(drop_constraint(table, features.drop_check, check_name, d)?);
        }
    }
    let (old_ty, new_ty) = (
        d.type_name(from.sql_type(), name)?,
        d.type_name(to.sql_type(), name)?,
    );
    if old_ty != new_ty {
        out.push(stmt(d, |w| {
            alter_table(table, w);
            w.push(" ALTER COLUMN ");
            w.ident(name);
            w.push(" TYPE ");
            w.push(&new_ty);
            w.push(" USING ");
            w.ident(name);
            w.push("::");
            w.push(&new_ty);
            Ok(())
        })?);
    }
    if from.is_nullable() != to.is_nullable() {
        out.push(stmt(d, |w| {
            alter_table(table, w);
            w.push(" ALTER COLUMN ");
            w.ident(name);
            w.push(if to.is_nullable() {
                " DROP NOT NULL"
            } else {
                " SET NOT NULL"
            });
            Ok(())
        })?);
    }
    if from.get_server_default() != to.get_server_default() {
        out.push(stmt(d, |w| {
            alter_table(table, w);
            w.push(" ALTER COLUMN ");
            w.ident(name);
            match to.get_server_default() {
                Some(default) => {
                    w.push(" SET DEFAULT ");
                    d.server_default(to, default, w)
                }
                None => {
                    w.push(" DROP DEFAULT");
                    Ok(())
                }
            }
        })?);
    }
    if checks_differ {
        if let Some(check) = &new_check {
            out.push(add_check(table, check, d)?);
        }
    }
    Ok(())
}

/// The check an enum column gets under [`EnumStyle::Check`].
pub fn enum_check(table: &str, column: &Column) -> Option<CheckConstraint> {
    let SqlType::Enum { name, variants, .. } = column.sql_type() else {
        return None;
    };
    let values = variants.iter().map(|v| Expr::Value(v.as_str().into()));
    Some(
        CheckConstraint::new(crate::sql::expr::column(column.name()).in_(values))
            .named(enum_check_name(table, name)),
    )
}

/// The name given to a foreign key added by a migration:
/// `fk_<table>_<columns>_<referred table>`.
pub fn foreign_key_name(table: &str, fk: &TableForeignKey) -> String {
    format!("fk_{table}_{}_{}", fk.columns.join("_"), fk.ref_table)
}

fn add_check(
    table: &str,
    check: &CheckConstraint,
    d: &dyn Dialect,
) -> Result<String, CompileError> {
    stmt(d, |w| {
        alter_table(table, w);
        w.push(" ADD ");
        constraint_name(check.name.as_deref(), w);
        w.push("CHECK (");
        d.visit_expr(&check.expr, w)?;
        w.push_char(')');
        Ok(())
    })
}

fn create_type(name: &str, values: &[String], d: &dyn Dialect) -> Result<String, CompileError> {
    stmt(d, |w| {
        w.push("CREATE TYPE ");
        w.ident(name);
        w.push(" AS ENUM (");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            d.write_literal(&v.as_str().into(), w)?;
        }
        w.push_char(')');
        Ok(())
    })
}

fn drop_constraint(
    table: &str,
    words: &str,
    name: &str,
    d: &dyn Dialect,
) -> Result<String, CompileError> {
    stmt(d, |w| {
        alter_table(table, w);
        w.push(" DROP ");
        w.push(words);
        w.push_char(' ');
        w.ident(name);
        Ok(())
    })
}

fn unnamed(what: &str, table: &str, columns: &[String]) -> CompileError {
    CompileError::Invalid(format!(
        "dropping the {what} on ({}) of `{table}` needs its name",
        columns.join(", ")
    ))
}

fn create_index(table: &str, index: &Index, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    w.push(if index.unique {
        "CREATE UNIQUE INDEX "
    } else {
        "CREATE INDEX "
    });
    d.index_on_table(&index.name, &Table::new(table), w);
    w.push(" (");
    idents(&index.columns, w);
    w.push_char(')');
    Ok(())
}

fn foreign_key_clause(fk: &TableForeignKey, w: &mut SqlWriter<'_>) {
    w.push("FOREIGN KEY (");
    idents(&fk.columns, w);
    w.push(") REFERENCES ");
    w.ident(&fk.ref_table);
    w.push(" (");
    idents(&fk.ref_columns, w);
    w.push_char(')');
    actions(fk.on_delete, fk.on_update, w);
}

fn actions(
    on_delete: Option<crate::ReferentialAction>,
    on_update: Option<crate::ReferentialAction>,
    w: &mut SqlWriter<'_>,
) {
    if let Some(a) = on_delete {
        w.push(" ON DELETE ");
        w.push(a.as_sql());
    }
    if let Some(a) = on_update {
        w.push(" ON UPDATE ");
        w.push(a.as_sql());
    }
}

fn constraint_name(name: Option<&str>, w: &mut SqlWriter<'_>) {
    if let Some(name) = name {
        w.push("CONSTRAINT ");
        w.ident(name);
        w.push_char(' ');
    }
}

fn alter_table(table: &str, w: &mut SqlWriter<'_>) {
    w.push("ALTER TABLE ");
    w.ident(table);
}

fn idents(names: &[String], w: &mut SqlWriter<'_>) {
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.ident(n);
    }
}

/// One DDL statement, literals inline.
fn stmt(d: &dyn Dialect, f: impl FnOnce(&mut SqlWriter<'_>) -> R) -> Result<String, CompileError> {
    let mut w = SqlWriter::new(d);
    w.with_inline_literals(f)?;
    Ok(w.finish().sql)
}

/// A server default as this dialect writes it in DDL (`CURRENT_TIMESTAMP`,
/// `'active'`), for comparing with what a database reports.
pub fn server_default_sql(
    column: &Column,
    default: &ServerDefault,
    d: &dyn Dialect,
) -> Result<String, CompileError> {
    stmt(d, |w| d.server_default(column, default, w))
}
