//! `inspect()`: the schema as the database's catalog reports it
//! (SQLAlchemy's `inspect(conn)` and its `Inspector`).
//!
//! Each method runs catalog queries on the connection it borrows, through
//! [`Connection::execute`] with bound names: PostgreSQL's `pg_catalog` in
//! `current_schema()`, MySQL's and MariaDB's `information_schema` in
//! `DATABASE()`, SQLite's `sqlite_master` and its `pragma_*` table-valued
//! functions. Nothing is cached: every call asks the database again.
//!
//! A table that does not exist is [`Error::NoSuchTable`], never an empty
//! answer.
//!
//! The rules, the same on every backend:
//!
//! - [`Inspector::indexes`] leaves out the primary key's index, and lists
//!   every other index, **including those that back a `UNIQUE`
//!   constraint** (with `unique: true`). MySQL and MariaDB do not tell a
//!   unique index from a unique constraint, so this is the one rule that
//!   reads the same on all three. MySQL and MariaDB also create an index
//!   for a foreign key that has none; it is listed too.
//! - [`Inspector::unique_constraints`] lists `UNIQUE` constraints; on MySQL
//!   and MariaDB that is every unique index other than the primary key.
//!   SQLite keeps no names for them (`name: None`).
//! - Foreign key actions are `None` for the default (`NO ACTION`), else
//!   `CASCADE`, `SET NULL`, `SET DEFAULT` or `RESTRICT`. MySQL and MariaDB
//!   treat `RESTRICT` as `NO ACTION` and report one for the other, so both
//!   are `None` there. SQLite keeps no foreign key names (`name: None`).
//! - [`Inspector::check_constraints`] is empty on SQLite, whose catalog
//!   keeps checks only inside the `CREATE TABLE` text (not parsed here).
//!   MariaDB lists the `json_valid(...)` check it adds to `JSON` columns.
//! - Types and defaults are the backend's own spelling: `integer` and
//!   `'active'::character varying` on PostgreSQL, `int(11)` and `'active'`
//!   on MariaDB, `INTEGER` and `'active'` on SQLite.
//!
//! ```no_run
//! # async fn demo(conn: &mut persistence::Connection) -> Result<(), persistence::Error> {
//! use persistence::inspect;
//! let mut insp = inspect(conn);
//! for table in insp.table_names().await? {
//!     let pk = insp.primary_key(&table).await?;
//!     println!("{table}: primary key {pk:?}");
//! }
//! # Ok(()) }
//! ```

use dialects::{text, Value};

use super::connection::Connection;
use super::row::Row;
use super::url::Backend;
use crate::error::Error;

/// One column of a reflected table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReflectedColumn {
    /// The column's name.
    pub name: String,
    /// The type as the backend reports it (`integer`, `int(11)`, `INTEGER`,
    /// `character varying(120)`, `varchar(120)`, `VARCHAR(120)`).
    pub type_name: String,
    /// Whether the column accepts `NULL`.
    pub nullable: bool,
    /// The server default as SQL text, as the backend reports it
    /// (PostgreSQL reports a serial column's `nextval(...)` here).
    pub default: Option<String>,
}

/// A foreign key of a reflected table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReflectedForeignKey {
    /// The constraint's name (`None` on SQLite, which does not keep it).
    pub name: Option<String>,
    /// The local columns, in order.
    pub columns: Vec<String>,
    /// The table referred to.
    pub referred_table: String,
    /// The columns referred to, in the order of `columns`.
    pub referred_columns: Vec<String>,
    /// `ON DELETE` action, `None` for the default (no action).
    pub on_delete: Option<String>,
    /// `ON UPDATE` action, `None` for the default (no action).
    pub on_update: Option<String>,
}

/// An index of a reflected table (never the primary key's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReflectedIndex {
    /// The index's name.
    pub name: String,
    /// The indexed columns, in order. On PostgreSQL an expression element
    /// is given as its SQL text; MySQL and SQLite leave it out.
    pub columns: Vec<String>,
    /// Whether it is a unique index.
    pub unique: bool,
}

/// A `UNIQUE` constraint of a reflected table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReflectedUniqueConstraint {
    /// The constraint's name (`None` on SQLite).
    pub name: Option<String>,
    /// Its columns, in order.
    pub columns: Vec<String>,
}

/// A `CHECK` constraint of a reflected table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReflectedCheck {
    /// The constraint's name; PostgreSQL and MariaDB name unnamed checks
    /// themselves (`order_line_quantity_check`, `CONSTRAINT_1`).
    pub name: Option<String>,
    /// The condition, without `CHECK ( )`, as the backend prints it.
    pub sqltext: String,
}

/// Reads the schema of the database `conn` is connected to
/// (SQLAlchemy's `inspect(conn)`).
pub fn inspect(conn: &mut Connection) -> Inspector<'_> {
    Inspector { conn }
}

/// Schema reflection on one borrowed connection; see [`inspect`] and the
/// [module documentation](self) for the rules every backend follows.
#[derive(Debug)]
pub struct Inspector<'c> {
    conn: &'c mut Connection,
}

impl Inspector<'_> {
    /// The names of the tables (not views) of the current schema or
    /// database, sorted. SQLite's own `sqlite_*` tables are left out.
    pub async fn table_names(&mut self) -> Result<Vec<String>, Error> {
        let sql = match self.backend() {
            Backend::Postgres => {
                "SELECT c.relname::text FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
                 ORDER BY c.relname"
            }
            Backend::MySql => {
                "SELECT TABLE_NAME FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' \
                 ORDER BY TABLE_NAME"
            }
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite~_%' ESCAPE '~' ORDER BY name"
            }
        };
        let rows = self.query(sql, None).await?;
        let mut names = rows
            .iter()
            .map(|r| string(r, 0))
            .collect::<Result<Vec<_>, _>>()?;
        names.sort();
        Ok(names)
    }

    /// Whether a table (or view) named `table` exists in the current schema
    /// or database. Names are matched exactly, except on SQLite, whose
    /// table names ignore ASCII case as its SQL does.
    pub async fn has_table(&mut self, table: &str) -> Result<bool, Error> {
        let sql = match self.backend() {
            Backend::Postgres => {
                "SELECT count(*) FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relname = :table \
                 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
            }
            Backend::MySql => {
                "SELECT count(*) FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :table"
            }
            Backend::Sqlite => {
                // SQLite matches table names without regard to ASCII case.
                "SELECT count(*) FROM sqlite_master \
                 WHERE type IN ('table', 'view') AND name = :table COLLATE NOCASE"
            }
        };
        let rows = self.query(sql, Some(table)).await?;
        let n = match rows.first() {
            Some(r) => int(r, 0)?,
            None => 0,
        };
        Ok(n > 0)
    }

    /// The columns of `table`, in table order.
    pub async fn columns(&mut self, table: &str) -> Result<Vec<ReflectedColumn>, Error> {
        self.require(table).await?;
        let backend = self.backend();
        let sql = match backend {
            Backend::Postgres => {
                "SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), \
                 NOT a.attnotnull, \
                 CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END \
                 FROM pg_catalog.pg_attribute a \
                 LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                 WHERE a.attrelid = (SELECT c.oid FROM pg_catalog.pg_class c \
                   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                   WHERE n.nspname = current_schema() AND c.relname = :table) \
                 AND a.attnum > 0 AND NOT a.attisdropped \
                 ORDER BY a.attnum"
            }
            Backend::MySql => {
                "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE = 'YES', COLUMN_DEFAULT \
                 FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :table \
                 ORDER BY ORDINAL_POSITION"
            }
            Backend::Sqlite => {
                "SELECT name, type, \"notnull\" = 0, dflt_value \
                 FROM pragma_table_info(:table) ORDER BY cid"
            }
        };
        let rows = self.query(sql, Some(table)).await?;
        rows.iter()
            .map(|r| {
                let mut default = opt_string(r, 3)?;
                // MariaDB reports "no default" of a nullable column as the
                // text `NULL` (and a real default quoted, `'NULL'`).
                if backend == Backend::MySql && default.as_deref() == Some("NULL") {
                    default = None;
                }
                Ok(ReflectedColumn {
                    name: string(r, 0)?,
                    type_name: string(r, 1)?,
                    nullable: flag(r, 2)?,
                    default,
                })
            })
            .collect()
    }

    /// The primary key's columns of `table`, in key order (empty when it
    /// has none).
    pub async fn primary_key(&mut self, table: &str) -> Result<Vec<String>, Error> {
        self.require(table).await?;
        let sql = match self.backend() {
            Backend::Postgres => {
                "SELECT a.attname::text FROM pg_catalog.pg_constraint con \
                 CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) \
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
                 WHERE con.contype = 'p' AND con.conrelid = (SELECT c.oid FROM pg_catalog.pg_class c \
                   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                   WHERE n.nspname = current_schema() AND c.relname = :table) \
                 ORDER BY k.ord"
            }
            Backend::MySql => {
                "SELECT COLUMN_NAME FROM information_schema.STATISTICS \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :table \
                 AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX"
            }
            Backend::Sqlite => "SELECT name FROM pragma_table_info(:table) WHERE pk > 0 ORDER BY pk",
        };
        let rows = self.query(sql, Some(table)).await?;
        rows.iter().map(|r| string(r, 0)).collect()
    }

    /// The foreign keys of `table`: by name on PostgreSQL and MySQL, in
    /// declaration order on SQLite.
    pub async fn foreign_keys(&mut self, table: &str) -> Result<Vec<ReflectedForeignKey>, Error> {
        self.require(table).await?;
        let backend = self.backend();
        // Every query gives one row per column pair:
        // (key, name, local column, referred table, referred column, on delete, on update).
        let sql = match backend {
            Backend::Postgres => {
                "SELECT con.conname::text, con.conname::text, la.attname::text, fc.relname::text, \
                 fa.attname::text, con.confdeltype::text, con.confupdtype::text \
                 FROM pg_catalog.pg_constraint con \
                 CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(l, r, ord) \
                 JOIN pg_catalog.pg_attribute la ON la.attrelid = con.conrelid AND la.attnum = k.l \
                 JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid \
                 JOIN pg_catalog.pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = k.r \
                 WHERE con.contype = 'f' AND con.conrelid = (SELECT c.oid FROM pg_catalog.pg_class c \
                   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                   WHERE n.nspname = current_schema() AND c.relname = :table) \
                 ORDER BY con.conname, k.ord"
            }
            Backend::MySql => {
                "SELECT k.CONSTRAINT_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, \
                 k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE \
                 FROM information_schema.KEY_COLUMN_USAGE k \
                 JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
                   ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME \
                   AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
                 WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = :table \
                 AND k.REFERENCED_TABLE_NAME IS NOT NULL \
                 ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION"
            }
            // SQLite numbers foreign keys from the last declared one.
            Backend::Sqlite => {
                "SELECT id, NULL, \"from\", \"table\", \"to\", \
                 on_delete, on_update \
                 FROM pragma_foreign_key_list(:table) ORDER BY id DESC, seq"
            }
        };
        let rows = self.query(sql, Some(table)).await?;
        let mut keys: Vec<(String, ReflectedForeignKey, Vec<Option<String>>)> = Vec::new();
        for r in &rows {
            let key = string(r, 0)?;
            let local = string(r, 2)?;
            // SQLite leaves `to` empty for `REFERENCES parent` (its primary key).
            let referred = opt_string(r, 4)?;
            if keys.last().map(|(k, _, _)| k) != Some(&key) {
                let action =
                    |i| opt_string(r, i).map(|a| a.and_then(|a| referential_action(backend, &a)));
                keys.push((
                    key,
                    ReflectedForeignKey {
                        name: opt_string(r, 1)?,
                        columns: Vec::new(),
                        referred_table: string(r, 3)?,
                        referred_columns: Vec::new(),
                        on_delete: action(5)?,
                        on_update: action(6)?,
                    },
                    Vec::new(),
                ));
            }
            if let Some((_, fk, referred_cols)) = keys.last_mut() {
                fk.columns.push(local);
                referred_cols.push(referred);
            }
        }
        let mut out = Vec::with_capacity(keys.len());
        for (_, mut fk, referred) in keys {
            if referred.iter().any(Option::is_none) {
                fk.referred_columns = self.primary_key(&fk.referred_table).await?;
            } else {
                fk.referred_columns = referred.into_iter().flatten().collect();
            }
            out.push(fk);
        }
        Ok(out)
    }

    /// The indexes of `table` except the primary key's, by name; indexes
    /// that back a `UNIQUE` constraint are included (see the module docs).
    pub async fn indexes(&mut self, table: &str) -> Result<Vec<ReflectedIndex>, Error> {
        self.require(table).await?;
        // (name, unique, column or NULL), ordered by name then position.
        let sql = match self.backend() {
            Backend::Postgres => {
                "SELECT i.relname::text, ix.indisunique, \
                 COALESCE(a.attname::text, pg_catalog.pg_get_indexdef(ix.indexrelid, k.ord::int, true)) \
                 FROM pg_catalog.pg_index ix \
                 JOIN pg_catalog.pg_class i ON i.oid = ix.indexrelid \
                 CROSS JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
                 LEFT JOIN pg_catalog.pg_attribute a \
                   ON a.attrelid = ix.indrelid AND a.attnum = k.attnum AND k.attnum > 0 \
                 WHERE NOT ix.indisprimary AND k.ord <= ix.indnkeyatts \
                 AND ix.indrelid = (SELECT c.oid FROM pg_catalog.pg_class c \
                   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                   WHERE n.nspname = current_schema() AND c.relname = :table) \
                 ORDER BY i.relname, k.ord"
            }
            Backend::MySql => {
                "SELECT INDEX_NAME, NON_UNIQUE = 0, COLUMN_NAME \
                 FROM information_schema.STATISTICS \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :table \
                 AND INDEX_NAME <> 'PRIMARY' \
                 ORDER BY INDEX_NAME, SEQ_IN_INDEX"
            }
            Backend::Sqlite => {
                "SELECT il.name, il.\"unique\", ii.name \
                 FROM pragma_index_list(:table) AS il \
                 JOIN pragma_index_info(il.name) AS ii \
                 WHERE il.origin <> 'pk' \
                 ORDER BY il.name, ii.seqno"
            }
        };
        let rows = self.query(sql, Some(table)).await?;
        let mut out: Vec<ReflectedIndex> = Vec::new();
        for r in &rows {
            let name = string(r, 0)?;
            let column = opt_string(r, 2)?;
            if out.last().map(|i| &i.name) != Some(&name) {
                out.push(ReflectedIndex {
                    name,
                    columns: Vec::new(),
                    unique: flag(r, 1)?,
                });
            }
            if let (Some(index), Some(column)) = (out.last_mut(), column) {
                index.columns.push(column);
            }
        }
        Ok(out)
    }

    /// The `UNIQUE` constraints of `table`, by name (see the module docs
    /// for MySQL and SQLite).
    pub async fn unique_constraints(
        &mut self,
        table: &str,
    ) -> Result<Vec<ReflectedUniqueConstraint>, Error> {
        self.require(table).await?;
        let backend = self.backend();
        // (key, column), ordered by key then position.
        let sql = match backend {
            Backend::Postgres => {
                "SELECT con.conname::text, a.attname::text FROM pg_catalog.pg_constraint con \
                 CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) \
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
                 WHERE con.contype = 'u' AND con.conrelid = (SELECT c.oid FROM pg_catalog.pg_class c \
                   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                   WHERE n.nspname = current_schema() AND c.relname = :table) \
                 ORDER BY con.conname, k.ord"
            }
            Backend::MySql => {
                "SELECT tc.CONSTRAINT_NAME, k.COLUMN_NAME \
                 FROM information_schema.TABLE_CONSTRAINTS tc \
                 JOIN information_schema.KEY_COLUMN_USAGE k \
                   ON k.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND k.TABLE_NAME = tc.TABLE_NAME \
                   AND k.CONSTRAINT_NAME = tc.CONSTRAINT_NAME \
                 WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.TABLE_NAME = :table \
                 AND tc.CONSTRAINT_TYPE = 'UNIQUE' \
                 ORDER BY tc.CONSTRAINT_NAME, k.ORDINAL_POSITION"
            }
            Backend::Sqlite => {
                "SELECT il.name, ii.name \
                 FROM pragma_index_list(:table) AS il \
                 JOIN pragma_index_info(il.name) AS ii \
                 WHERE il.origin = 'u' \
                 ORDER BY il.name, ii.seqno"
            }
        };
        let rows = self.query(sql, Some(table)).await?;
        let mut keys: Vec<(String, ReflectedUniqueConstraint)> = Vec::new();
        for r in &rows {
            let key = string(r, 0)?;
            let column = string(r, 1)?;
            if keys.last().map(|(k, _)| k) != Some(&key) {
                let name = (backend != Backend::Sqlite).then(|| key.clone());
                keys.push((
                    key,
                    ReflectedUniqueConstraint {
                        name,
                        columns: Vec::new(),
                    },
                ));
            }
            if let Some((_, u)) = keys.last_mut() {
                u.columns.push(column);
            }
        }
        Ok(keys.into_iter().map(|(_, u)| u).collect())
    }

    /// The `CHECK` constraints of `table`, by name; always empty on SQLite
    /// (see the module docs).
    pub async fn check_constraints(&mut self, table: &str) -> Result<Vec<ReflectedCheck>, Error> {
        self.require(table).await?;
        let sql = match self.backend() {
            Backend::Postgres => {
                "SELECT con.conname::text, pg_catalog.pg_get_constraintdef(con.oid, true) \
                 FROM pg_catalog.pg_constraint con \
                 WHERE con.contype = 'c' AND con.conrelid = (SELECT c.oid FROM pg_catalog.pg_class c \
                   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                   WHERE n.nspname = current_schema() AND c.relname = :table) \
                 ORDER BY con.conname"
            }
            // MariaDB names checks per table (`CONSTRAINT_1` in every table),
            // and its CHECK_CONSTRAINTS view has the table's name.
            Backend::MySql if self.conn.engine().dialect().name() == "mariadb" => {
                "SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
                 WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = :table \
                 ORDER BY CONSTRAINT_NAME"
            }
            // MySQL names them per schema, and only TABLE_CONSTRAINTS has the table.
            Backend::MySql => {
                "SELECT cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE \
                 FROM information_schema.CHECK_CONSTRAINTS cc \
                 JOIN information_schema.TABLE_CONSTRAINTS tc \
                   ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA \
                   AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME \
                 WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.TABLE_NAME = :table \
                 AND tc.CONSTRAINT_TYPE = 'CHECK' \
                 ORDER BY cc.CONSTRAINT_NAME"
            }
            Backend::Sqlite => return Ok(Vec::new()),
        };
        let rows = self.query(sql, Some(table)).await?;
        rows.iter()
            .map(|r| {
                Ok(ReflectedCheck {
                    name: opt_string(r, 0)?,
                    sqltext: check_body(&string(r, 1)?),
                })
            })
            .collect()
    }

    fn backend(&self) -> Backend {
        self.conn.engine().backend()
    }

    /// [`Error::NoSuchTable`] unless `table` exists.
    async fn require(&mut self, table: &str) -> Result<(), Error> {
        if self.has_table(table).await? {
            Ok(())
        } else {
            Err(Error::NoSuchTable {
                table: table.to_owned(),
            })
        }
    }

    /// Runs a catalog query, `:table` bound to `table`.
    async fn query(&mut self, sql: &str, table: Option<&str>) -> Result<Vec<Row>, Error> {
        let mut stmt = text(sql);
        if let Some(t) = table {
            stmt = stmt.bind("table", t);
        }
        Ok(self.conn.execute(&stmt).await?.all())
    }
}

/// A referential action as reported, `None` for the default.
fn referential_action(backend: Backend, action: &str) -> Option<String> {
    let action = match (backend, action) {
        // pg_constraint's one-letter codes.
        (Backend::Postgres, "a") => return None,
        (Backend::Postgres, "r") => "RESTRICT",
        (Backend::Postgres, "c") => "CASCADE",
        (Backend::Postgres, "n") => "SET NULL",
        (Backend::Postgres, "d") => "SET DEFAULT",
        (Backend::MySql, "RESTRICT") => return None,
        (_, "NO ACTION") => return None,
        (_, other) => other,
    };
    Some(action.to_owned())
}

/// `CHECK (cond) [NOT VALID]` → `cond`; other text is returned as is.
fn check_body(def: &str) -> String {
    let def = def.trim();
    let def = def.strip_suffix("NOT VALID").map_or(def, str::trim_end);
    match def
        .strip_prefix("CHECK")
        .map(str::trim_start)
        .and_then(|d| d.strip_prefix('('))
        .and_then(|d| d.strip_suffix(')'))
    {
        Some(body) => body.trim().to_owned(),
        None => def.to_owned(),
    }
}

/// A catalog value as text: MySQL's `information_schema` may hand back
/// binary strings.
fn value_string(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        other => Some(other.to_string()),
    }
}

fn opt_string(row: &Row, i: usize) -> Result<Option<String>, Error> {
    Ok(value_string(row.value(i)?))
}

fn string(row: &Row, i: usize) -> Result<String, Error> {
    opt_string(row, i)?.ok_or_else(|| Error::Decode {
        column: i.to_string(),
        message: "the catalog returned NULL where a name was expected".into(),
    })
}

fn int(row: &Row, i: usize) -> Result<i64, Error> {
    let v = row.value(i)?;
    v.as_i64()
        .or_else(|| value_string(v).and_then(|s| s.trim().parse().ok()))
        .ok_or_else(|| Error::Decode {
            column: i.to_string(),
            message: format!(
                "expected an integer from the catalog, found {}",
                v.type_name()
            ),
        })
}

/// A truth value: a boolean, or 0/1 (MySQL and SQLite).
fn flag(row: &Row, i: usize) -> Result<bool, Error> {
    match row.value(i)? {
        Value::Bool(b) => Ok(*b),
        _ => int(row, i).map(|n| n != 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_bodies() {
        assert_eq!(check_body("CHECK (price > 0)"), "price > 0");
        assert_eq!(
            check_body("CHECK ((a > 0) AND (b > 0)) NOT VALID"),
            "(a > 0) AND (b > 0)"
        );
        assert_eq!(check_body("`price` > 0"), "`price` > 0");
    }

    #[test]
    fn referential_actions() {
        assert_eq!(referential_action(Backend::Postgres, "a"), None);
        assert_eq!(
            referential_action(Backend::Postgres, "c").as_deref(),
            Some("CASCADE")
        );
        assert_eq!(
            referential_action(Backend::Postgres, "r").as_deref(),
            Some("RESTRICT")
        );
        assert_eq!(referential_action(Backend::MySql, "RESTRICT"), None);
        assert_eq!(referential_action(Backend::MySql, "NO ACTION"), None);
        assert_eq!(
            referential_action(Backend::MySql, "SET NULL").as_deref(),
            Some("SET NULL")
        );
        assert_eq!(referential_action(Backend::Sqlite, "NO ACTION"), None);
        assert_eq!(
            referential_action(Backend::Sqlite, "RESTRICT").as_deref(),
            Some("RESTRICT")
        );
    }
}
