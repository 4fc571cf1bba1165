//! Migration files: one TOML file per revision, its steps written as
//! backend-neutral operations that the dialects compile (or as SQL,
//! optionally per backend).
//!
//! A file is named after its revision (`20240601120000_add_email.toml`
//! is revision `20240601120000_add_email`) and holds:
//!
//! ```toml
//! down_revision = "20240501090000_initial"   # absent for the first migration
//! message = "add email"
//!
//! [[upgrade]]
//! op = "add_column"
//! table = "worker"
//! column = { name = "email", type = "varchar(120)", nullable = true }
//!
//! [[downgrade]]
//! op = "drop_column"
//! table = "worker"
//! column = "email"
//! ```
//!
//! Operations (`op`): `create_table` (`table`, `columns`, `unique`,
//! `foreign_keys`, `indexes`, `checks`), `drop_table`, `rename_table`
//! (`from`, `to`), `add_column`, `drop_column`, `alter_column` (`table`,
//! `column`, `from`, `to`: the column before and after), `rename_column`,
//! `create_index` / `drop_index`, `add_unique` / `drop_unique`,
//! `add_foreign_key` / `drop_foreign_key`, `create_enum`,
//! `add_enum_value`, `replace_enum`, `drop_enum`, and `sql` (`sql = "..."`
//! or `sql = { postgresql = "...", sqlite = "...", mysql = "...",
//! mariadb = "..." }`; a backend not listed skips the step). Columns are
//! `{ name, type, nullable, primary_key, autoincrement, unique, index,
//! default, references, on_delete, on_update }` with types spelled as in
//! [`crate::types`] and defaults as `{ value = ... }`, `{ function =
//! "utc_now" | "now" }` or `{ sql = "..." }`.
//!
//! Every file must have a `downgrade` (an empty list when there is nothing
//! to undo). The checksum is the SHA-256 of the text with line endings
//! normalised.

use std::collections::BTreeMap;

use dialects::schema::alter::AlterOp;
use dialects::schema::table::TableForeignKey;
use dialects::{
    func, literal_column, CheckConstraint, Column, Index, ReferentialAction, Table,
    UniqueConstraint, Value,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::error::{Location, MigrateError};
use crate::types::parse_type;

/// One migration: a revision, what it revises, and its steps both ways.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The revision id (the file name without `.toml`).
    pub revision: String,
    /// The revision it follows (`None` for the first).
    pub down_revision: Option<String>,
    /// What it does, in a line.
    pub message: String,
    /// Where it was loaded from.
    pub file: String,
    /// Its text.
    pub source: String,
    /// SHA-256 of the text (hex).
    pub checksum: String,
    /// The steps of `upgrade`.
    pub upgrade: Vec<Step>,
    /// The steps of `downgrade`.
    pub downgrade: Vec<Step>,
    /// The line of `down_revision` (1 when absent).
    pub down_revision_line: usize,
}

impl Migration {
    /// A location in this migration's file.
    pub fn at(&self, line: usize) -> Location {
        Location {
            file: self.file.clone(),
            line,
        }
    }
}

/// One step of a migration.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// What it does.
    pub action: Action,
    /// Its line in the file.
    pub line: usize,
}

/// What a step does.
#[allow(clippy::large_enum_variant)] // a handful per migration
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A schema operation, compiled for the backend.
    Op(AlterOp),
    /// SQL text: for every backend, or per backend name (`postgresql`,
    /// `sqlite`, `mysql`, `mariadb`; `mysql` also serves MariaDB).
    Sql(SqlText),
}

/// SQL of a `sql` step.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlText {
    /// The same on every backend.
    All(String),
    /// Per backend; backends not listed skip the step.
    PerBackend(BTreeMap<String, String>),
}

impl SqlText {
    /// The text for the dialect named `dialect`, if any.
    pub fn for_dialect(&self, dialect: &str) -> Option<&str> {
        match self {
            SqlText::All(s) => Some(s),
            SqlText::PerBackend(m) => m
                .get(dialect)
                .or_else(|| (dialect == "mariadb").then(|| m.get("mysql")).flatten())
                .map(String::as_str),
        }
    }
}

/// The checksum of a migration's text: SHA-256, line endings normalised.
pub fn checksum(text: &str) -> String {
    let normalised = text.replace("\r\n", "\n");
    let digest = Sha256::digest(normalised.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |s| s.matches('\n').count() + 1)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDef {
    down_revision: Option<Spanned<String>>,
    #[serde(default)]
    message: String,
    upgrade: Option<Spanned<Vec<Spanned<StepDef>>>>,
    downgrade: Option<Vec<Spanned<StepDef>>>,
}

#[allow(clippy::large_enum_variant)] // parsed once, converted at once
#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum StepDef {
    CreateTable {
        table: String,
        columns: Vec<ColumnDef>,
        #[serde(default)]
        unique: Vec<UniqueDef>,
        #[serde(default)]
        foreign_keys: Vec<ForeignKeyDef>,
        #[serde(default)]
        indexes: Vec<IndexDef>,
        #[serde(default)]
        checks: Vec<CheckDef>,
    },
    DropTable {
        table: String,
    },
    RenameTable {
        from: String,
        to: String,
    },
    AddColumn {
        table: String,
        column: ColumnDef,
    },
    DropColumn {
        table: String,
        column: String,
    },
    AlterColumn {
        table: String,
        column: String,
        from: ColumnDef,
        to: ColumnDef,
    },
    RenameColumn {
        table: String,
        from: String,
        to: String,
    },
    CreateIndex {
        table: String,
        name: String,
        columns: Vec<String>,
        #[serde(default)]
        unique: bool,
    },
    DropIndex {
        table: String,
        name: String,
    },
    AddUnique {
        table: String,
        name: Option<String>,
        columns: Vec<String>,
    },
    DropUnique {
        table: String,
        name: Option<String>,
        columns: Vec<String>,
    },
    AddForeignKey {
        table: String,
        name: Option<String>,
        #[serde(flatten)]
        key: ForeignKeyDef,
    },
    DropForeignKey {
        table: String,
        name: Option<String>,
        #[serde(flatten)]
        key: ForeignKeyDef,
    },
    CreateEnum {
        name: String,
        values: Vec<String>,
    },
    AddEnumValue {
        name: String,
        value: String,
        after: Option<String>,
    },
    ReplaceEnum {
        name: String,
        from: Vec<String>,
        to: Vec<String>,
        #[serde(default)]
        columns: Vec<(String, String)>,
    },
    DropEnum {
        name: String,
        values: Vec<String>,
    },
    Sql {
        sql: SqlDef,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SqlDef {
    All(String),
    PerBackend(BTreeMap<String, String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnDef {
    name: Option<String>,
    #[serde(rename = "type")]
    ty: String,
    nullable: Option<bool>,
    #[serde(default)]
    primary_key: bool,
    autoincrement: Option<bool>,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    index: bool,
    default: Option<DefaultDef>,
    references: Option<String>,
    on_delete: Option<String>,
    on_update: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultDef {
    value: Option<toml::Value>,
    function: Option<String>,
    sql: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UniqueDef {
    name: Option<String>,
    columns: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForeignKeyDef {
    columns: Vec<String>,
    references: String,
    ref_columns: Vec<String>,
    on_delete: Option<String>,
    on_update: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexDef {
    name: String,
    columns: Vec<String>,
    #[serde(default)]
    unique: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckDef {
    name: Option<String>,
    sql: String,
}

/// Parses the migration file `file` (a display path) with revision
/// `revision` from `text`.
pub fn parse(revision: &str, file: &str, text: &str) -> Result<Migration, MigrateError> {
    let at = |offset: usize| Location {
        file: file.to_owned(),
        line: line_of(text, offset),
    };
    let def: FileDef = toml::from_str(text).map_err(|e| MigrateError::Parse {
        at: at(e.span().map_or(0, |s| s.start)),
        message: e.message().trim().to_owned(),
    })?;
    let upgrade = def.upgrade.ok_or_else(|| MigrateError::Parse {
        at: at(0),
        message: format!(
            "migration `{revision}` has no `upgrade` steps (write `upgrade = []` for none)"
        ),
    })?;
    let upgrade_line = line_of(text, upgrade.span().start);
    let steps = |defs: Vec<Spanned<StepDef>>| -> Result<Vec<Step>, MigrateError> {
        defs.into_iter()
            .map(|d| {
                let line = line_of(text, d.span().start);
                let action =
                    d.into_inner()
                        .into_action()
                        .map_err(|message| MigrateError::Parse {
                            at: Location {
                                file: file.to_owned(),
                                line,
                            },
                            message,
                        })?;
                Ok(Step { action, line })
            })
            .collect()
    };
    let upgrade = steps(upgrade.into_inner())?;
    let downgrade = match def.downgrade {
        Some(d) => steps(d)?,
        None => {
            return Err(MigrateError::MissingDowngrade {
                at: Location {
                    file: file.to_owned(),
                    line: upgrade_line,
                },
                revision: revision.to_owned(),
            })
        }
    };
    let down_revision_line = def
        .down_revision
        .as_ref()
        .map_or(1, |d| line_of(text, d.span().start));
    Ok(Migration {
        revision: revision.to_owned(),
        down_revision: def.down_revision.map(Spanned::into_inner),
        message: def.message,
        file: file.to_owned(),
        source: text.to_owned(),
        checksum: checksum(text),
        upgrade,
        downgrade,
        down_revision_line,
    })
}

impl StepDef {
    fn into_action(self) -> Result<Action, String> {
        Ok(Action::Op(match self {
            StepDef::CreateTable {
                table,
                columns,
                unique,
                foreign_keys,
                indexes,
                checks,
            } => {
                let mut t = Table::new(table);
                for c in columns {
                    t = t.column(c.into_column(None)?);
                }
                for u in unique {
                    let mut c = UniqueConstraint::new(u.columns);
                    c.name = u.name;
                    t = t.unique(c);
                }
                for fk in foreign_keys {
                    t = t.foreign_key_constraint(fk.into_key()?);
                }
                for i in indexes {
                    let mut index = Index::new(i.name, i.columns);
                    index.unique = i.unique;
                    t = t.index(index);
                }
                for c in checks {
                    let mut check = CheckConstraint::new(literal_column(&c.sql));
                    check.name = c.name;
                    t = t.check(check);
                }
                AlterOp::CreateTable(t)
            }
            StepDef::DropTable { table } => AlterOp::DropTable { table },
            StepDef::RenameTable { from, to } => AlterOp::RenameTable { from, to },
            StepDef::AddColumn { table, column } => AlterOp::AddColumn {
                table,
                column: column.into_column(None)?,
            },
            StepDef::DropColumn { table, column } => AlterOp::DropColumn { table, column },
            StepDef::AlterColumn {
                table,
                column,
                from,
                to,
            } => AlterOp::AlterColumn {
                table,
                from: from.into_column(Some(&column))?,
                to: to.into_column(Some(&column))?,
            },
            StepDef::RenameColumn { table, from, to } => AlterOp::RenameColumn { table, from, to },
            StepDef::CreateIndex {
                table,
                name,
                columns,
                unique,
            } => {
                let mut index = Index::new(name, columns);
                index.unique = unique;
                AlterOp::CreateIndex { table, index }
            }
            StepDef::DropIndex { table, name } => AlterOp::DropIndex { table, name },
            StepDef::AddUnique {
                table,
                name,
                columns,
            } => AlterOp::AddUnique {
                table,
                constraint: UniqueConstraint { name, columns },
            },
            StepDef::DropUnique {
                table,
                name,
                columns,
            } => AlterOp::DropUnique {
                table,
                constraint: UniqueConstraint { name, columns },
            },
            StepDef::AddForeignKey { table, name, key } => AlterOp::AddForeignKey {
                table,
                name,
                foreign_key: key.into_key()?,
            },
            StepDef::DropForeignKey { table, name, key } => AlterOp::DropForeignKey {
                table,
                name,
                foreign_key: key.into_key()?,
            },
            StepDef::CreateEnum { name, values } => AlterOp::CreateEnum { name, values },
            StepDef::AddEnumValue { name, value, after } => {
                AlterOp::AddEnumValue { name, value, after }
            }
            StepDef::ReplaceEnum {
                name,
                from,
                to,
                columns,
            } => AlterOp::ReplaceEnum {
                name,
                from,
                to,
                columns,
            },
            StepDef::DropEnum { name, values } => AlterOp::DropEnum { name, values },
            StepDef::Sql { sql } => {
                return Ok(Action::Sql(match sql {
                    SqlDef::All(s) => SqlText::All(s),
                    SqlDef::PerBackend(m) => {
                        for k in m.keys() {
                            if !["postgresql", "sqlite", "mysql", "mariadb"].contains(&k.as_str()) {
                                return Err(format!(
                                    "unknown backend `{k}` in `sql` (expected postgresql, sqlite, mysql or mariadb)"
                                ));
                            }
                        }
                        SqlText::PerBackend(m)
                    }
                }))
            }
        }))
    }
}

impl ColumnDef {
    fn into_column(self, name: Option<&str>) -> Result<Column, String> {
        let name = match (self.name, name) {
            (Some(n), None) => n,
            (None, Some(n)) => n.to_owned(),
            (Some(n), Some(expected)) if n == expected => n,
            (Some(n), Some(expected)) => {
                return Err(format!("column `{n}` in the alteration of `{expected}`"))
            }
            (None, None) => return Err("a column needs a `name`".into()),
        };
        let ty = parse_type(&self.ty)?;
        let mut c = Column::new(name.clone(), ty);
        if self.primary_key {
            c = c.primary_key();
        }
        if let Some(n) = self.nullable {
            c = c.nullable(n);
        }
        if let Some(a) = self.autoincrement {
            c = c.autoincrement(a);
        }
        if self.unique {
            c = c.unique();
        }
        if self.index {
            c = c.index();
        }
        if let Some(d) = self.default {
            c = match (d.value, d.function, d.sql) {
                (Some(v), None, None) => c.server_default(toml_value(&v, &name)?),
                (None, Some(f), None) => c.server_default(match f.as_str() {
                    "utc_now" => func::utc_now(),
                    "now" => func::now(),
                    other => {
                        return Err(format!(
                        "unknown default function `{other}` of `{name}` (expected utc_now or now)"
                    ))
                    }
                }),
                (None, None, Some(s)) => c.server_default(literal_column(&s)),
                _ => {
                    return Err(format!(
                        "the default of `{name}` needs exactly one of `value`, `function` or `sql`"
                    ))
                }
            };
        }
        if let Some(target) = self.references {
            if !target.contains('.') {
                return Err(format!("`references` of `{name}` must be `table.column`"));
            }
            c = c.foreign_key(&target);
            if let Some(a) = self.on_delete {
                c = c.on_delete(action(&a)?);
            }
            if let Some(a) = self.on_update {
                c = c.on_update(action(&a)?);
            }
        } else if self.on_delete.is_some() || self.on_update.is_some() {
            return Err(format!(
                "`on_delete` / `on_update` of `{name}` without `references`"
            ));
        }
        Ok(c)
    }
}

impl ForeignKeyDef {
    fn into_key(self) -> Result<TableForeignKey, String> {
        if self.columns.len() != self.ref_columns.len() || self.columns.is_empty() {
            return Err(format!(
                "a foreign key needs as many `ref_columns` as `columns` ({} and {})",
                self.ref_columns.len(),
                self.columns.len()
            ));
        }
        Ok(TableForeignKey {
            columns: self.columns,
            ref_table: self.references,
            ref_columns: self.ref_columns,
            on_delete: self.on_delete.as_deref().map(action).transpose()?,
            on_update: self.on_update.as_deref().map(action).transpose()?,
        })
    }
}

fn toml_value(v: &toml::Value, column: &str) -> Result<Value, String> {
    Ok(match v {
        toml::Value::String(s) => Value::from(s.as_str()),
        toml::Value::Integer(i) => Value::BigInt(*i),
        toml::Value::Float(f) => Value::Double(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        other => {
            return Err(format!(
                "the default value of `{column}` is a {}; write a string, number or boolean, or `sql = \"...\"`",
                other.type_str()
            ))
        }
    })
}

/// Parses a referential action (`cascade`, `SET NULL`, ...).
pub fn action(text: &str) -> Result<ReferentialAction, String> {
    Ok(match text.to_ascii_uppercase().replace('_', " ").as_str() {
        "CASCADE" => ReferentialAction::Cascade,
        "SET NULL" => ReferentialAction::SetNull,
        "SET DEFAULT" => ReferentialAction::SetDefault,
        "RESTRICT" => ReferentialAction::Restrict,
        "NO ACTION" => ReferentialAction::NoAction,
        _ => {
            return Err(format!(
                "unknown referential action `{text}` (expected CASCADE, SET NULL, SET DEFAULT, RESTRICT or NO ACTION)"
            ))
        }
    })
}
