//! Creating and dropping a [`MetaData`]'s tables (and PostgreSQL enum
//! types) on a connection: SQLAlchemy's `metadata.create_all(conn,
//! tables=..., checkfirst=...)`, with what exists already read from the
//! catalog in one query per kind of object, not one per table.

use dialects::compiler::ddl::{self, Ddl};
use dialects::{MetaData, Table, Value};

use super::connection::Connection;
use super::url::Backend;
use crate::error::Error;

/// What [`SchemaExt::create_all_with`] and [`SchemaExt::drop_all_with`]
/// work on.
///
/// ```
/// use persistence::SchemaOptions;
/// let options = SchemaOptions::default().tables(["worker", "resume"]).checkfirst(false);
/// assert!(!options.checkfirst);
/// ```
#[derive(Debug, Clone)]
pub struct SchemaOptions {
    /// Look up what exists first and leave it alone (create only missing
    /// tables and types, drop only existing ones). Without it every
    /// statement runs, and an existing table is an error. Default: on.
    pub checkfirst: bool,
    /// Only these tables (by name; `None`: every table of the metadata).
    pub tables: Option<Vec<String>>,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        SchemaOptions {
            checkfirst: true,
            tables: None,
        }
    }
}

impl SchemaOptions {
    /// Sets `checkfirst`.
    pub fn checkfirst(mut self, on: bool) -> Self {
        self.checkfirst = on;
        self
    }

    /// Works on the tables named `names` only.
    pub fn tables<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tables = Some(names.into_iter().map(Into::into).collect());
        self
    }
}

/// `create_all` / `drop_all` for a [`MetaData`], in foreign-key order.
///
/// On a connection with no transaction open they run in one of their own
/// and commit it (SQLAlchemy's `metadata.create_all(engine)`); a failure
/// rolls it back. Inside an open transaction (an explicit `begin()`, or
/// one the connection's earlier statements began) they are part of it and
/// commit nothing, as SQLAlchemy's `create_all(conn)` (MySQL commits DDL
/// by itself whatever the transaction).
#[allow(async_fn_in_trait)]
pub trait SchemaExt {
    /// Creates every table (with its indexes) and enum type that does not
    /// exist yet, parents first.
    async fn create_all(&self, conn: &mut Connection) -> Result<(), Error> {
        self.create_all_with(conn, &SchemaOptions::default()).await
    }
    /// Drops every table that exists, children first, then the enum types.
    async fn drop_all(&self, conn: &mut Connection) -> Result<(), Error> {
        self.drop_all_with(conn, &SchemaOptions::default()).await
    }
    /// `create_all` of some tables, or without looking first.
    async fn create_all_with(
        &self,
        conn: &mut Connection,
        options: &SchemaOptions,
    ) -> Result<(), Error>;
    /// `drop_all` of some tables, or without looking first.
    async fn drop_all_with(
        &self,
        conn: &mut Connection,
        options: &SchemaOptions,
    ) -> Result<(), Error>;
}

impl SchemaExt for MetaData {
    async fn create_all_with(
        &self,
        conn: &mut Connection,
        options: &SchemaOptions,
    ) -> Result<(), Error> {
        let own = owns_transaction(conn);
        let result = create(self, conn, options).await;
        settle(conn, own, result).await
    }

    async fn drop_all_with(
        &self,
        conn: &mut Connection,
        options: &SchemaOptions,
    ) -> Result<(), Error> {
        let own = owns_transaction(conn);
        let result = drop(self, conn, options).await;
        settle(conn, own, result).await
    }
}

/// Whether `create_all` / `drop_all` run in a transaction of their own
/// (none is open, and the connection is not in autocommit mode).
fn owns_transaction(conn: &Connection) -> bool {
    !conn.in_transaction() && !conn.autocommit()
}

/// Ends a transaction of their own: committed when `result` is a success,
/// rolled back otherwise.
async fn settle(conn: &mut Connection, own: bool, result: Result<(), Error>) -> Result<(), Error> {
    if own {
        match &result {
            Ok(()) => conn.commit().await?,
            Err(_) => {
                if let Err(e) = conn.rollback().await {
                    tracing::warn!(error = %e, "rollback after a failed create_all / drop_all failed");
                }
            }
        }
    }
    result
}

async fn create(
    this: &MetaData,
    conn: &mut Connection,
    options: &SchemaOptions,
) -> Result<(), Error> {
    {
        let metadata = chosen(this, options)?;
        let plan = ddl::create_all(&metadata, conn.engine().dialect(), false)?;
        let (tables, types) = if options.checkfirst {
            (
                existing_tables(conn, metadata.tables()).await?,
                existing_enum_types(conn, &plan).await?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        // Indexes are created with their table only (SQLAlchemy's rule),
        // which also spares MySQL its missing CREATE INDEX IF NOT EXISTS.
        let mut table_created = false;
        for stmt in plan {
            let run = match &stmt {
                Ddl::CreateEnum(e) => !types.contains(&e.name),
                Ddl::CreateTable(ct) => {
                    table_created = !tables.iter().any(|t| same_table(t, &ct.table));
                    table_created
                }
                Ddl::CreateIndex(_) => table_created,
                _ => true,
            };
            if run {
                conn.execute(&stmt).await?;
            }
        }
        Ok(())
    }
}

async fn drop(
    this: &MetaData,
    conn: &mut Connection,
    options: &SchemaOptions,
) -> Result<(), Error> {
    {
        let metadata = chosen(this, options)?;
        let dialect = conn.engine().dialect();
        let plan = ddl::drop_all(&metadata, dialect, false)?;
        // An enum type still used by a table that stays is kept.
        let kept: Vec<String> = match &options.tables {
            None => Vec::new(),
            Some(names) => {
                let others: Vec<String> = this
                    .tables()
                    .iter()
                    .filter(|t| !names.iter().any(|n| n == t.name()))
                    .map(|t| t.name().to_owned())
                    .collect();
                ddl::enum_types(&this.subset(&others)?, dialect)?
                    .into_iter()
                    .map(|e| e.name)
                    .collect()
            }
        };
        let (tables, types) = if options.checkfirst {
            (
                existing_tables(conn, metadata.tables()).await?,
                existing_enum_types(conn, &plan).await?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        for stmt in plan {
            let run = match &stmt {
                Ddl::DropTable(dt) => {
                    !options.checkfirst || tables.iter().any(|t| same_table(t, &dt.table))
                }
                Ddl::DropEnum(de) => {
                    !kept.contains(&de.name) && (!options.checkfirst || types.contains(&de.name))
                }
                _ => true,
            };
            if run {
                conn.execute(&stmt).await?;
            }
        }
        Ok(())
    }
}

/// The metadata the options work on.
fn chosen(metadata: &MetaData, options: &SchemaOptions) -> Result<MetaData, Error> {
    Ok(match &options.tables {
        Some(names) => metadata.subset(names)?,
        None => metadata.clone(),
    })
}

/// A table found in the catalog: its schema (`None`: the current one) and name.
type Found = (Option<String>, String);

fn same_table(found: &Found, table: &Table) -> bool {
    found.1 == table.name() && found.0.as_deref() == table.schema_name()
}

/// `:p0, :p1, ...` bound to `names`, for an `IN (...)` in a catalog query.
fn in_list(sql: &mut String, names: &[&str], params: &mut Vec<(String, Value)>) {
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let key = format!("p{}", params.len());
        sql.push(':');
        sql.push_str(&key);
        params.push((key, Value::from(*n)));
    }
}

/// Which of `tables` exist: one catalog query per schema among them (one
/// in all, usually).
async fn existing_tables(conn: &mut Connection, tables: &[Table]) -> Result<Vec<Found>, Error> {
    let backend = conn.engine().backend();
    let mut schemas: Vec<Option<&str>> = Vec::new();
    for t in tables {
        if !schemas.contains(&t.schema_name()) {
            schemas.push(t.schema_name());
        }
    }
    let mut found = Vec::new();
    for schema in schemas {
        let names: Vec<&str> = tables
            .iter()
            .filter(|t| t.schema_name() == schema)
            .map(Table::name)
            .collect();
        let mut params = Vec::new();
        let mut sql = match (backend, schema) {
            (Backend::Sqlite, None) => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (".to_owned()
            }
            // An attached database has a catalog of its own.
            (Backend::Sqlite, Some(s)) => format!(
                "SELECT name FROM {}.sqlite_master WHERE type = 'table' AND name IN (",
                dialects::compiler::writer::quote_ident(s, conn.engine().dialect())
            ),
            (Backend::Postgres, None) => "SELECT table_name FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name IN ("
                .to_owned(),
            (Backend::MySql, None) => "SELECT table_name FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name IN ("
                .to_owned(),
            (_, Some(s)) => {
                params.push(("schema".to_owned(), Value::from(s)));
                "SELECT table_name FROM information_schema.tables \
                 WHERE table_schema = :schema AND table_name IN ("
                    .to_owned()
            }
        };
        in_list(&mut sql, &names, &mut params);
        sql.push(')');
        for name in catalog_names(conn, &sql, params).await? {
            found.push((schema.map(str::to_owned), name));
        }
    }
    Ok(found)
}

/// Which enum types of `plan` exist in the current schema (PostgreSQL; an
/// empty list elsewhere, where the plan has none).
async fn existing_enum_types(conn: &mut Connection, plan: &[Ddl]) -> Result<Vec<String>, Error> {
    let names: Vec<&str> = plan
        .iter()
        .filter_map(|d| match d {
            Ddl::CreateEnum(e) => Some(e.name.as_str()),
            Ddl::DropEnum(e) => Some(e.name.as_str()),
            _ => None,
        })
        .collect();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE n.nspname = current_schema() AND t.typtype = 'e' AND t.typname IN ("
        .to_owned();
    let mut params = Vec::new();
    in_list(&mut sql, &names, &mut params);
    sql.push(')');
    catalog_names(conn, &sql, params).await
}

/// Runs a catalog query, giving its first column as text.
async fn catalog_names(
    conn: &mut Connection,
    sql: &str,
    params: Vec<(String, Value)>,
) -> Result<Vec<String>, Error> {
    let mut stmt = dialects::text(sql);
    for (k, v) in params {
        stmt = stmt.bind(&k, v);
    }
    let result = conn.execute(&stmt).await?;
    Ok(result
        .scalars()
        .into_iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s),
            // MySQL's information_schema may answer in binary strings.
            Value::Bytes(b) => String::from_utf8(b).ok(),
            _ => None,
        })
        .collect())
}
