//! Schema changes as data: the operations a migration is made of (Alembic's
//! `op.add_column`, `op.alter_column`, ...), and how each one changes a
//! [`MetaData`] model of the schema.
//!
//! The operations are pure values; `compiler::alter` renders them as DDL
//! per dialect (a SQLite table rebuild as its sequence of statements), and
//! [`AlterOp::apply`] replays them on a model, which is how a migration
//! runner knows the shape of a table before and after a change without
//! asking the database (offline mode, SQLite rebuilds).
//!
//! ```
//! use dialects::schema::alter::AlterOp;
//! use dialects::{Column, MetaData, SqlType, Table};
//! let mut schema = MetaData::new();
//! AlterOp::CreateTable(Table::new("worker")
//!     .column(Column::new("id", SqlType::Integer).primary_key()))
//!     .apply(&mut schema).unwrap();
//! AlterOp::AddColumn { table: "worker".into(), column: Column::new("email", SqlType::string(120)) }
//!     .apply(&mut schema).unwrap();
//! assert_eq!(schema.table("worker").unwrap().columns().len(), 2);
//! ```

use std::sync::Arc;

use super::column::Column;
use super::constraint::{CheckConstraint, Index, UniqueConstraint};
use super::metadata::MetaData;
use super::table::{Table, TableForeignKey};
use super::types::SqlType;
use crate::error::CompileError;

/// One schema change.
// A migration holds a few dozen of these at most: matching on plain
// columns beats boxing them.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AlterOp {
    /// `CREATE TABLE` with its columns, keys, constraints and indexes.
    CreateTable(Table),
    /// `DROP TABLE name`.
    DropTable {
        /// The table.
        table: String,
    },
    /// `ALTER TABLE from RENAME TO to`.
    RenameTable {
        /// The current name.
        from: String,
        /// The new name.
        to: String,
    },
    /// `ALTER TABLE t ADD COLUMN ...`.
    AddColumn {
        /// The table.
        table: String,
        /// The new column.
        column: Column,
    },
    /// `ALTER TABLE t DROP COLUMN c`.
    DropColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A change of a column's type, nullability or server default. Both
    /// the column as it is and as it becomes are given, since some
    /// backends restate the whole column (MySQL's `MODIFY COLUMN`).
    AlterColumn {
        /// The table.
        table: String,
        /// The column as it is now.
        from: Column,
        /// The column as it becomes (same name).
        to: Column,
    },
    /// `ALTER TABLE t RENAME COLUMN from TO to`.
    RenameColumn {
        /// The table.
        table: String,
        /// The current name.
        from: String,
        /// The new name.
        to: String,
    },
    /// `CREATE [UNIQUE] INDEX`.
    CreateIndex {
        /// The table.
        table: String,
        /// The index.
        index: Index,
    },
    /// `DROP INDEX`.
    DropIndex {
        /// The table.
        table: String,
        /// The index's name.
        name: String,
    },
    /// `ALTER TABLE t ADD CONSTRAINT name UNIQUE (...)`.
    AddUnique {
        /// The table.
        table: String,
        /// The constraint; a name is required to drop it again.
        constraint: UniqueConstraint,
    },
    /// Drops a `UNIQUE` constraint, found by its columns when the name is
    /// not known (a migration runner looks the name up in the database).
    DropUnique {
        /// The table.
        table: String,
        /// The constraint (its name may be `None`).
        constraint: UniqueConstraint,
    },
    /// `ALTER TABLE t ADD CONSTRAINT name FOREIGN KEY ...`.
    AddForeignKey {
        /// The table.
        table: String,
        /// The constraint's name.
        name: Option<String>,
        /// The key.
        foreign_key: TableForeignKey,
    },
    /// Drops a foreign key, found by its columns when the name is not known.
    DropForeignKey {
        /// The table.
        table: String,
        /// The constraint's name, when known.
        name: Option<String>,
        /// The key.
        foreign_key: TableForeignKey,
    },
    /// `CREATE TYPE name AS ENUM (...)` where enums are named types.
    CreateEnum {
        /// The type's name.
        name: String,
        /// Its values, in order.
        values: Vec<String>,
    },
    /// `ALTER TYPE name ADD VALUE 'v'` where enums are named types.
    AddEnumValue {
        /// The type's name.
        name: String,
        /// The new value.
        value: String,
        /// The existing value it goes after (`None`: at the end).
        after: Option<String>,
    },
    /// A named enum type recreated with another list of values (a value
    /// removed or reordered): the old type renamed, the new one created,
    /// every column of the old type converted, the old type dropped.
    ReplaceEnum {
        /// The type's name.
        name: String,
        /// The values it has now.
        from: Vec<String>,
        /// The values it gets.
        to: Vec<String>,
        /// The `(table, column)` pairs of that type.
        columns: Vec<(String, String)>,
    },
    /// `DROP TYPE name` where enums are named types.
    DropEnum {
        /// The type's name.
        name: String,
        /// Its values (what a downgrade recreates).
        values: Vec<String>,
    },
    /// A table rebuilt into a new shape (SQLite's way of altering what
    /// `ALTER TABLE` cannot): create the new table under a temporary name,
    /// copy every row, drop the old table, rename the new one, recreate
    /// the indexes.
    RebuildTable {
        /// The table as it is.
        from: Table,
        /// The table as it becomes (same name).
        to: Table,
        /// For each column of `to` that takes data: the column of `from`
        /// it is copied from.
        copy: Vec<(String, String)>,
    },
    /// SQL text run as given.
    Sql(String),
}

impl AlterOp {
    /// The table the operation changes, if it changes one.
    pub fn table(&self) -> Option<&str> {
        match self {
            AlterOp::CreateTable(t) => Some(t.name()),
            AlterOp::RebuildTable { to, .. } => Some(to.name()),
            AlterOp::DropTable { table }
            | AlterOp::AddColumn { table, .. }
            | AlterOp::DropColumn { table, .. }
            | AlterOp::AlterColumn { table, .. }
            | AlterOp::RenameColumn { table, .. }
            | AlterOp::CreateIndex { table, .. }
            | AlterOp::DropIndex { table, .. }
            | AlterOp::AddUnique { table, .. }
            | AlterOp::DropUnique { table, .. }
            | AlterOp::AddForeignKey { table, .. }
            | AlterOp::DropForeignKey { table, .. } => Some(table),
            AlterOp::RenameTable { from, .. } => Some(from),
            _ => None,
        }
    }

    /// Applies the change to a model of the schema. A table or column that
    /// the operation needs and the model lacks is
    /// [`CompileError::Invalid`] naming it; [`AlterOp::Sql`] changes
    /// nothing (the model cannot know what it does).
    pub fn apply(&self, schema: &mut MetaData) -> Result<(), CompileError> {
        match self {
            AlterOp::CreateTable(t) => {
                if schema.table(t.name()).is_some() {
                    return Err(invalid(format!("table `{}` exists already", t.name())));
                }
                schema.add(t.clone());
            }
            AlterOp::DropTable { table } => {
                find(schema, table)?;
                *schema = without(schema, table);
            }
            AlterOp::RenameTable { from, to } => {
                let t = find(schema, from)?;
                let renamed = renamed_table(&t, to);
                *schema = without(schema, from);
                schema.add(renamed);
                // References to the table follow it.
                let tables: Vec<Table> = schema.tables().to_vec();
                for t in tables {
                    schema.add(edit(&t, |d| {
                        for c in &mut d.columns {
                            if let Some(fk) = &mut c.foreign_key {
                                if fk.table == *from {
                                    fk.table.clone_from(to);
                                }
                            }
                        }
                        for fk in &mut d.foreign_keys {
                            if fk.ref_table == *from {
                                fk.ref_table.clone_from(to);
                            }
                        }
                    }));
                }
            }
            AlterOp::RebuildTable { to, .. } => {
                find(schema, to.name())?;
                schema.add(to.clone());
            }
            AlterOp::Sql(_)
            | AlterOp::CreateEnum { .. }
            | AlterOp::AddEnumValue { .. }
            | AlterOp::DropEnum { .. } => {}
            AlterOp::ReplaceEnum {
                name, to, columns, ..
            } => {
                for (table, column) in columns {
                    let t = find(schema, table)?;
                    let c = find_column(&t, column)?;
                    let ty = SqlType::enumeration(name.clone(), to.clone());
                    schema.add(replace_column(&t, column, c.of_type(ty)));
                }
            }
            other => {
                let name = other.table().unwrap_or_default().to_owned();
                let t = find(schema, &name)?;
                schema.add(other.apply_to_table(&t)?);
            }
        }
        Ok(())
    }

    /// Applies a change confined to one table to that table.
    pub fn apply_to_table(&self, t: &Table) -> Result<Table, CompileError> {
        Ok(match self {
            AlterOp::AddColumn { column, .. } => {
                if t.get_column(column.name()).is_some() {
                    return Err(invalid(format!(
                        "table `{}` has a column `{}` already",
                        t.name(),
                        column.name()
                    )));
                }
                edit(t, |d| d.columns.push(column.clone()))
            }
            AlterOp::DropColumn { column, .. } => {
                find_column(t, column)?;
                edit(t, |d| {
                    d.columns.retain(|c| c.name != *column);
                    d.uniques.retain(|u| !u.columns.contains(column));
                    d.indexes.retain(|i| !i.columns.contains(column));
                    d.foreign_keys.retain(|f| !f.columns.contains(column));
                })
            }
            AlterOp::AlterColumn { from, to, .. } => {
                // Type, nullability and default change; keys, unique,
                // index and references stay as they are.
                let mut c = find_column(t, from.name())?;
                c.ty = to.ty.clone();
                c.nullable = to.nullable;
                c.server_default = to.server_default.clone();
                replace_column(t, from.name(), c)
            }
            AlterOp::RenameColumn { from, to, .. } => {
                let c = find_column(t, from)?;
                let rename = |v: &mut Vec<String>| {
                    for n in v.iter_mut() {
                        if n == from {
                            n.clone_from(to);
                        }
                    }
                };
                let renamed = replace_column(t, from, c.renamed(to.clone()));
                edit(&renamed, |d| {
                    for u in &mut d.uniques {
                        rename(&mut u.columns);
                    }
                    for i in &mut d.indexes {
                        rename(&mut i.columns);
                    }
                    for f in &mut d.foreign_keys {
                        rename(&mut f.columns);
                    }
                })
            }
            AlterOp::CreateIndex { index, .. } => {
                let index = index.clone();
                edit(t, |d| d.indexes.push(index))
            }
            AlterOp::DropIndex { name, .. } => {
                let column_index = t
                    .columns()
                    .iter()
                    .find(|c| c.index && format!("ix_{}_{}", t.name(), c.name) == *name)
                    .map(|c| c.name.clone());
                if t.indexes().iter().all(|i| i.name != *name) {
                    return Err(invalid(format!(
                        "table `{}` has no index `{name}`",
                        t.name()
                    )));
                }
                edit(t, |d| {
                    d.indexes.retain(|i| i.name != *name);
                    for c in &mut d.columns {
                        if Some(&c.name) == column_index.as_ref() {
                            c.index = false;
                        }
                    }
                })
            }
            AlterOp::AddUnique { constraint, .. } => {
                let u = constraint.clone();
                edit(t, |d| d.uniques.push(u))
            }
            AlterOp::DropUnique { constraint, .. } => {
                let cols = &constraint.columns;
                edit(t, |d| {
                    let before = d.uniques.len();
                    d.uniques.retain(|u| {
                        !(u.columns == *cols
                            && (constraint.name.is_none()
                                || u.name.is_none()
                                || u.name == constraint.name))
                    });
                    if d.uniques.len() == before && cols.len() == 1 {
                        for c in &mut d.columns {
                            if c.name == cols[0] {
                                c.unique = false;
                            }
                        }
                    }
                })
            }
            AlterOp::AddForeignKey { foreign_key, .. } => {
                let fk = foreign_key.clone();
                edit(t, |d| d.foreign_keys.push(fk))
            }
            AlterOp::DropForeignKey { foreign_key, .. } => edit(t, |d| {
                let before = d.foreign_keys.len();
                d.foreign_keys.retain(|f| {
                    !(f.columns == foreign_key.columns && f.ref_table == foreign_key.ref_table)
                });
                if d.foreign_keys.len() == before {
                    for c in &mut d.columns {
                        let hit = c.foreign_key.as_ref().is_some_and(|f| {
                            foreign_key.columns == [c.name.clone()]
                                && f.table == foreign_key.ref_table
                        });
                        if hit {
                            c.foreign_key = None;
                        }
                    }
                }
            }),
            other => return Err(invalid(format!("{other:?} does not apply to one table"))),
        })
    }
}

fn invalid(message: String) -> CompileError {
    CompileError::Invalid(message)
}

fn find(schema: &MetaData, name: &str) -> Result<Table, CompileError> {
    schema
        .table(name)
        .cloned()
        .ok_or_else(|| invalid(format!("no table named `{name}`")))
}

fn find_column(t: &Table, name: &str) -> Result<Column, CompileError> {
    t.get_column(name)
        .cloned()
        .ok_or_else(|| invalid(format!("table `{}` has no column `{name}`", t.name())))
}

fn without(schema: &MetaData, name: &str) -> MetaData {
    let mut out = MetaData::new();
    for t in schema.tables().iter().filter(|t| t.name() != name) {
        out.add(t.clone());
    }
    out
}

fn edit(t: &Table, f: impl FnOnce(&mut super::table::TableData)) -> Table {
    let mut data = (*t.data).clone();
    f(&mut data);
    rebuilt(data)
}

/// A table from its parts, with a fresh FROM source.
fn rebuilt(data: super::table::TableData) -> Table {
    let mut t = Table::new(data.name.clone());
    if let Some(s) = &data.schema {
        t = t.schema(s.clone());
    }
    for c in &data.columns {
        t = t.column(c.clone());
    }
    let mut t = t;
    let d = Arc::make_mut(&mut t.data);
    d.foreign_keys = data.foreign_keys;
    d.uniques = data.uniques;
    d.checks = data.checks;
    d.indexes = data.indexes;
    t
}

fn replace_column(t: &Table, name: &str, column: Column) -> Table {
    edit(t, |d| {
        for c in &mut d.columns {
            if c.name == name {
                *c = column.clone();
            }
        }
    })
}

/// A copy of `t` under another name (columns, keys, constraints and
/// indexes kept).
pub fn renamed_table(t: &Table, name: &str) -> Table {
    let mut data = (*t.data).clone();
    data.name = name.to_owned();
    rebuilt(data)
}

/// A copy of `t` with `check` added.
pub fn with_check(t: &Table, check: CheckConstraint) -> Table {
    edit(t, |d| d.checks.push(check))
}

/// The table-level foreign keys of `t` (not those declared on a column).
pub fn table_level_foreign_keys(t: &Table) -> &[TableForeignKey] {
    &t.data.foreign_keys
}

/// The indexes declared on `t` itself (not those of columns marked `.index()`).
pub fn declared_indexes(t: &Table) -> &[Index] {
    &t.data.indexes
}
