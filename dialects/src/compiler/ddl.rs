//! DDL statements: `CREATE TABLE`, `DROP TABLE`, `CREATE INDEX`, `DROP INDEX`,
//! and the ordered lists `create_all` / `drop_all` run.

use super::{is_autoincrement, SqlWriter};
use crate::error::CompileError;
use crate::schema::column::Column;
use crate::schema::constraint::{CheckConstraint, Index};
use crate::schema::metadata::MetaData;
use crate::schema::table::Table;
use crate::schema::types::SqlType;
use crate::sql::expr::Expr;

type R = Result<(), CompileError>;

/// `CREATE TABLE [IF NOT EXISTS] ...`.
///
/// ```
/// use dialects::{Column, CreateTable, MySql, Postgres, Sqlite, SqlType, Table};
/// let worker = Table::new("worker")
///     .column(Column::new("id", SqlType::Integer).primary_key())
///     .column(Column::new("name", SqlType::string(256)).not_null());
/// let ddl = CreateTable::new(&worker);
/// assert_eq!(ddl.compile(&Postgres).unwrap().sql,
///     "CREATE TABLE worker (id SERIAL NOT NULL, name VARCHAR(256) NOT NULL, PRIMARY KEY (id))");
/// assert_eq!(ddl.compile(&Sqlite).unwrap().sql,
///     "CREATE TABLE worker (id INTEGER NOT NULL, name VARCHAR(256) NOT NULL, PRIMARY KEY (id))");
/// assert_eq!(ddl.compile(&MySql::default()).unwrap().sql,
///     "CREATE TABLE worker (id INTEGER NOT NULL AUTO_INCREMENT, name VARCHAR(256) NOT NULL, PRIMARY KEY (id))");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CreateTable {
    /// The table.
    pub table: Table,
    /// Adds `IF NOT EXISTS`.
    pub if_not_exists: bool,
}

impl CreateTable {
    /// `CREATE TABLE table`.
    pub fn new(table: &Table) -> Self {
        CreateTable {
            table: table.clone(),
            if_not_exists: false,
        }
    }

    /// Adds `IF NOT EXISTS`.
    pub fn if_not_exists(mut self) -> Self {
        self.if_not_exists = true;
        self
    }
}

/// `DROP TABLE [IF EXISTS] name`.
#[derive(Debug, Clone, PartialEq)]
pub struct DropTable {
    /// The table.
    pub table: Table,
    /// Adds `IF EXISTS`.
    pub if_exists: bool,
}

impl DropTable {
    /// `DROP TABLE table`.
    pub fn new(table: &Table) -> Self {
        DropTable {
            table: table.clone(),
            if_exists: false,
        }
    }

    /// Adds `IF EXISTS`.
    pub fn if_exists(mut self) -> Self {
        self.if_exists = true;
        self
    }
}

/// `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table (columns)`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateIndex {
    /// The indexed table.
    pub table: Table,
    /// The index.
    pub index: Index,
    /// Adds `IF NOT EXISTS`.
    pub if_not_exists: bool,
}

impl CreateIndex {
    /// `CREATE INDEX` for `index` on `table`.
    pub fn new(table: &Table, index: Index) -> Self {
        CreateIndex {
            table: table.clone(),
            index,
            if_not_exists: false,
        }
    }

    /// Adds `IF NOT EXISTS`.
    pub fn if_not_exists(mut self) -> Self {
        self.if_not_exists = true;
        self
    }
}

/// `DROP INDEX [IF EXISTS] name` (`... ON table` on MySQL).
#[derive(Debug, Clone, PartialEq)]
pub struct DropIndex {
    /// The indexed table.
    pub table: Table,
    /// The index name.
    pub name: String,
    /// Adds `IF EXISTS`.
    pub if_exists: bool,
}

impl DropIndex {
    /// `DROP INDEX name`.
    pub fn new(table: &Table, name: &str) -> Self {
        DropIndex {
            table: table.clone(),
            name: name.to_owned(),
            if_exists: false,
        }
    }

    /// Adds `IF EXISTS`.
    pub fn if_exists(mut self) -> Self {
        self.if_exists = true;
        self
    }
}

/// `CREATE TYPE name AS ENUM (...)`: a native enum type of PostgreSQL,
/// created before the tables that use it.
///
/// ```
/// use dialects::{CreateEnum, Postgres};
/// let ddl = CreateEnum::new("workload", ["parttime", "fulltime"]);
/// assert_eq!(ddl.compile(&Postgres).unwrap().sql,
///     "CREATE TYPE workload AS ENUM ('parttime', 'fulltime')");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CreateEnum {
    /// The type's name.
    pub name: String,
    /// Its values, in order.
    pub variants: Vec<String>,
}

impl CreateEnum {
    /// `CREATE TYPE name AS ENUM (variants)`.
    pub fn new<I, S>(name: impl Into<String>, variants: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CreateEnum {
            name: name.into(),
            variants: variants.into_iter().map(Into::into).collect(),
        }
    }
}

/// `DROP TYPE [IF EXISTS] name`, after the tables that use it.
#[derive(Debug, Clone, PartialEq)]
pub struct DropEnum {
    /// The type's name.
    pub name: String,
    /// Adds `IF EXISTS`.
    pub if_exists: bool,
}

impl DropEnum {
    /// `DROP TYPE name`.
    pub fn new(name: impl Into<String>) -> Self {
        DropEnum {
            name: name.into(),
            if_exists: false,
        }
    }

    /// Adds `IF EXISTS`.
    pub fn if_exists(mut self) -> Self {
        self.if_exists = true;
        self
    }
}

/// One DDL statement of a `create_all` / `drop_all` plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Ddl {
    /// `CREATE TABLE`.
    CreateTable(CreateTable),
    /// `DROP TABLE`.
    DropTable(DropTable),
    /// `CREATE INDEX`.
    CreateIndex(CreateIndex),
    /// `DROP INDEX`.
    DropIndex(DropIndex),
    /// `CREATE TYPE ... AS ENUM` (PostgreSQL).
    CreateEnum(CreateEnum),
    /// `DROP TYPE` (PostgreSQL).
    DropEnum(DropEnum),
}

/// The native enum types the tables of `metadata` use, in table order,
/// each once, for a backend whose enum types are named objects
/// (PostgreSQL); none elsewhere. One name declared with two different
/// lists of values is [`CompileError::Invalid`].
pub fn enum_types(
    metadata: &MetaData,
    dialect: &dyn super::Dialect,
) -> Result<Vec<CreateEnum>, CompileError> {
    let named = dialect.features().named_enum_types;
    let mut out: Vec<CreateEnum> = Vec::new();
    for table in metadata.sorted_tables()? {
        for c in table.columns() {
            let (Some(name), SqlType::Enum { variants, .. }) =
                (c.sql_type().enum_type_name(named), c.sql_type())
            else {
                continue;
            };
            match out.iter().find(|e| e.name == name) {
                Some(e) if e.variants != *variants => {
                    return Err(CompileError::Invalid(format!(
                        "enum type `{name}` is declared with different values ({} and {})",
                        e.variants.join(", "),
                        variants.join(", ")
                    )))
                }
                Some(_) => {}
                None => out.push(CreateEnum::new(name, variants.iter().cloned())),
            }
        }
    }
    Ok(out)
}

/// The statements that create every table of `metadata` on `dialect`:
/// its enum types (PostgreSQL), then the tables parents first, each with
/// its indexes; `checkfirst` adds `IF NOT EXISTS` (enum types have no such
/// clause: `create_all` on a connection looks them up instead).
pub fn create_all(
    metadata: &MetaData,
    dialect: &dyn super::Dialect,
    checkfirst: bool,
) -> Result<Vec<Ddl>, CompileError> {
    let mut out: Vec<Ddl> = enum_types(metadata, dialect)?
        .into_iter()
        .map(Ddl::CreateEnum)
        .collect();
    for table in metadata.sorted_tables()? {
        let mut ct = CreateTable::new(&table);
        ct.if_not_exists = checkfirst;
        out.push(Ddl::CreateTable(ct));
        for index in table.indexes() {
            let mut ci = CreateIndex::new(&table, index);
            ci.if_not_exists = checkfirst;
            out.push(Ddl::CreateIndex(ci));
        }
    }
    Ok(out)
}

/// The statements that drop every table of `metadata`, children before
/// parents, then its enum types (PostgreSQL); `checkfirst` adds
/// `IF EXISTS`.
pub fn drop_all(
    metadata: &MetaData,
    dialect: &dyn super::Dialect,
    checkfirst: bool,
) -> Result<Vec<Ddl>, CompileError> {
    let mut tables = metadata.sorted_tables()?;
    tables.reverse();
    let mut out: Vec<Ddl> = tables
        .iter()
        .map(|t| {
            let mut dt = DropTable::new(t);
            dt.if_exists = checkfirst;
            Ddl::DropTable(dt)
        })
        .collect();
    for e in enum_types(metadata, dialect)? {
        let mut de = DropEnum::new(e.name);
        de.if_exists = checkfirst;
        out.push(Ddl::DropEnum(de));
    }
    Ok(out)
}

/// `CREATE TYPE name AS ENUM ('a', 'b')`.
pub fn create_enum(ce: &CreateEnum, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    if !d.features().named_enum_types {
        return Err(super::unsupported(d, "CREATE TYPE ... AS ENUM"));
    }
    if ce.variants.is_empty() {
        return Err(CompileError::Invalid(format!(
            "enum type `{}` needs at least one value",
            ce.name
        )));
    }
    w.push("CREATE TYPE ");
    w.ident(&ce.name);
    w.push(" AS ENUM (");
    w.comma_list(&ce.variants, |w, v| {
        d.write_literal(&crate::Value::String(v.clone()), w)
    })?;
    w.push_char(')');
    Ok(())
}

/// `DROP TYPE [IF EXISTS] name`.
pub fn drop_enum(de: &DropEnum, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    if !d.features().named_enum_types {
        return Err(super::unsupported(d, "DROP TYPE"));
    }
    w.push("DROP TYPE ");
    if de.if_exists {
        w.push("IF EXISTS ");
    }
    w.ident(&de.name);
    Ok(())
}

/// The body of `CREATE TABLE`.
pub fn create_table(ct: &CreateTable, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    let t = &ct.table;
    w.push("CREATE TABLE ");
    if ct.if_not_exists {
        w.push("IF NOT EXISTS ");
    }
    qualified(t, w);
    w.push(" (");
    w.comma_list(t.columns(), |w, c| d.column_spec(t, c, w))?;
    let pk: Vec<&str> = t.primary_key().map(Column::name).collect();
    if !pk.is_empty() {
        w.push(", PRIMARY KEY (");
        ident_list(&pk, w);
        w.push_char(')');
    }
    for c in t.columns().iter().filter(|c| c.is_unique()) {
        w.push(", UNIQUE (");
        w.ident(c.name());
        w.push_char(')');
    }
    for u in t.unique_constraints() {
        w.push(", ");
        if let Some(name) = &u.name {
            w.push("CONSTRAINT ");
            w.ident(name);
            w.push_char(' ');
        }
        w.push("UNIQUE (");
        ident_list(&u.columns, w);
        w.push_char(')');
    }
    for fk in t.foreign_keys() {
        w.push(", FOREIGN KEY (");
        ident_list(&fk.columns, w);
        w.push(") REFERENCES ");
        w.ident(&fk.ref_table);
        w.push(" (");
        ident_list(&fk.ref_columns, w);
        w.push_char(')');
        if let Some(a) = fk.on_delete {
            w.push(" ON DELETE ");
            w.push(a.as_sql());
        }
        if let Some(a) = fk.on_update {
            w.push(" ON UPDATE ");
            w.push(a.as_sql());
        }
    }
    for c in t.columns() {
        if let SqlType::Enum {
            name,
            variants,
            native,
        } = c.sql_type()
        {
            if !(*native && d.features().native_enum) {
                let values = variants.iter().map(|v| Expr::Value(v.as_str().into()));
                let check = CheckConstraint::new(crate::sql::expr::column(c.name()).in_(values))
                    .named(super::writer::truncate_name(
                        &format!("ck_{}_{}", t.name(), name),
                        super::writer::PORTABLE_NAME_LEN,
                    ));
                check_constraint(&check, w)?;
            }
        }
    }
    for check in t.check_constraints() {
        check_constraint(check, w)?;
    }
    w.push_char(')');
    Ok(())
}

fn check_constraint(check: &CheckConstraint, w: &mut SqlWriter<'_>) -> R {
    w.push(", ");
    if let Some(name) = &check.name {
        w.push("CONSTRAINT ");
        w.ident(name);
        w.push_char(' ');
    }
    w.push("CHECK (");
    w.with_inline_literals(|w| {
        let d = w.dialect();
        d.visit_expr(&check.expr, w)
    })?;
    w.push_char(')');
    Ok(())
}

fn qualified(t: &Table, w: &mut SqlWriter<'_>) {
    if let Some(s) = t.schema_name() {
        w.ident(s);
        w.push_char('.');
    }
    w.ident(t.name());
}

fn ident_list<S: AsRef<str>>(names: &[S], w: &mut SqlWriter<'_>) {
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.ident(n.as_ref());
    }
}

/// `DROP TABLE [IF EXISTS] name`.
pub fn drop_table(dt: &DropTable, w: &mut SqlWriter<'_>) -> R {
    w.push("DROP TABLE ");
    if dt.if_exists {
        w.push("IF EXISTS ");
    }
    qualified(&dt.table, w);
    Ok(())
}

/// `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table (cols)`.
pub fn create_index(ci: &CreateIndex, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    for c in &ci.index.columns {
        if ci.table.get_column(c).is_none() {
            return Err(CompileError::UnknownColumn {
                table: ci.table.name().to_owned(),
                column: c.clone(),
            });
        }
    }
    w.push(if ci.index.unique {
        "CREATE UNIQUE INDEX "
    } else {
        "CREATE INDEX "
    });
    if ci.if_not_exists {
        if !d.features().index_if_exists {
            return Err(super::unsupported(d, "CREATE INDEX IF NOT EXISTS"));
        }
        w.push("IF NOT EXISTS ");
    }
    d.index_on_table(&ci.index.name, &ci.table, w);
    w.push(" (");
    ident_list(&ci.index.columns, w);
    w.push_char(')');
    Ok(())
}

/// Whether the server generates this column's values (re-exported helper).
pub fn autoincrement(table: &Table, column: &Column) -> bool {
    is_autoincrement(table, column)
}

/// `DROP INDEX`, through the dialect hook.
pub fn drop_index(di: &DropIndex, w: &mut SqlWriter<'_>) -> R {
    let d = w.dialect();
    if di.if_exists && !d.features().index_if_exists {
        return Err(super::unsupported(d, "DROP INDEX IF EXISTS"));
    }
    d.drop_index(&di.name, &di.table, di.if_exists, w)
}
