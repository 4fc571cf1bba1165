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
}

/// The statements that create every table of `metadata` (and its indexes),
/// parents before children; `checkfirst` adds `IF NOT EXISTS`.
pub fn create_all(metadata: &MetaData, checkfirst: bool) -> Result<Vec<Ddl>, CompileError> {
    let mut out = Vec::new();
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
/// parents; `checkfirst` adds `IF EXISTS`.
pub fn drop_all(metadata: &MetaData, checkfirst: bool) -> Result<Vec<Ddl>, CompileError> {
    let mut tables = metadata.sorted_tables()?;
    tables.reverse();
    Ok(tables
        .iter()
        .map(|t| {
            let mut dt = DropTable::new(t);
            dt.if_exists = checkfirst;
            Ddl::DropTable(dt)
        })
        .collect())
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
    if !d.features().native_enum {
        for c in t.columns() {
            if let SqlType::Enum { name, variants } = c.sql_type() {
                let values = variants.iter().map(|v| Expr::Value(v.as_str().into()));
                let check = CheckConstraint::new(crate::sql::expr::column(c.name()).in_(values))
                    .named(format!("ck_{}_{}", t.name(), name));
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
