//! ORM bulk statements from plain values, without objects: INSERT of many
//! rows (SQLAlchemy's `session.execute(insert(Model), [dicts])`) and
//! UPDATE by primary key from a list of changes (`session.execute(
//! update(Model), [dicts])`), each as few statements as the backend allows.
//!
//! Rows are lists of `(name, value)` pairs, named by field or column as in
//! [`synchronize`](super::synchronize); values are brought to their
//! columns' types (a value that does not fit is [`Error::Codec`] naming the
//! field) and ORM-side column defaults fill what an INSERT row leaves out.
//! Consecutive rows that name the same columns go in one statement (split
//! where the backend's limit on bound parameters says), so a homogeneous
//! list costs one statement per few thousand rows.
//!
//! **Bulk UPDATE by primary key** joins the table with the changes as rows
//! of values, one statement per batch, matched on the key:
//!
//! - PostgreSQL and SQLite: `WITH orm_changes (id, name) AS (VALUES
//!   (CAST($1 AS BIGINT), CAST($2 AS VARCHAR(100))), ...) UPDATE t SET
//!   name = orm_changes.name FROM orm_changes WHERE t.id = orm_changes.id`.
//!   `UPDATE ... FROM` is a join the planner runs as a hash or index join
//!   (a `CASE` per column would compare every row with every change), the
//!   casts give PostgreSQL the parameters' types (it would read an untyped
//!   VALUES list as text), and a CTE rather than `AS v(cols)` because
//!   SQLite has no column aliases on a subquery.
//! - MySQL and MariaDB: `UPDATE t INNER JOIN (SELECT ? AS id, ? AS name
//!   UNION ALL SELECT ?, ? ...) AS orm_changes ON t.id = orm_changes.id SET
//!   t.name = orm_changes.name`. A multi-row upsert (`INSERT ... ON
//!   DUPLICATE KEY UPDATE`) would insert a row whose key is missing and
//!   fails on NOT NULL columns the change leaves out; the join does neither.
//!
//! As SQLAlchemy does, a batch that matches fewer rows than it has
//! changes is [`Error::StaleData`]; a key given twice, or the key of an
//! object deleted in this transaction, is [`Error::InvalidRequest`] before
//! anything is sent. Held objects get the new values in their snapshots
//! (no reload), and ORM onupdate values are set as a flush would.
//!
//! ```no_run
//! use persistence::prelude::*;
//! use persistence::dialects::Value;
//! # #[derive(Debug, Clone)] struct Worker { id: Option<i64>, name: String, rank: i32 }
//! # async fn demo(session: &mut Session) -> Result<(), Error> {
//! // INSERT INTO worker (name, rank) VALUES (?, ?), (?, ?): one statement
//! let n = session.execute_insert(orm::insert::<Worker>().rows([
//!     vec![("name", Value::from("Ann")), ("rank", Value::from(1))],
//!     vec![("name", Value::from("Bob")), ("rank", Value::from(2))],
//! ])).await?;
//! // one UPDATE ... FROM (VALUES ...) for both rows
//! session.bulk_update::<Worker, _, _, _>([
//!     vec![("id", Value::from(1)), ("rank", Value::from(5))],
//!     vec![("id", Value::from(2)), ("rank", Value::from(6))],
//! ]).await?;
//! # let _ = n; Ok(()) }
//! ```

use std::collections::HashSet;
use std::marker::PhantomData;

use dialects::compiler::SqlWriter;
use dialects::{cast, CompileError, Expr, Statement, StatementKind, Table, Value};

use super::identity::{FastHash, IdentityKey};
use super::mapper::MapperInfo;
use super::session::Session;
use super::synchronize::resolve_name;
use super::unit_of_work::with_onupdate;
use crate::error::Error;

/// An ORM `INSERT` of plain rows into `T`'s table (SQLAlchemy's
/// `insert(Model)` with a list of parameter dicts), for
/// [`Session::execute_insert`] and
/// [`Session::insert_returning`](Session::insert_returning).
pub struct Insert<T> {
    pub(crate) rows: Vec<Vec<(String, Value)>>,
    _t: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Insert<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("orm::Insert")
            .field("type", &std::any::type_name::<T>())
            .field("rows", &self.rows.len())
            .finish()
    }
}

/// `insert(T)`: no rows yet.
pub fn insert<T>() -> Insert<T> {
    Insert {
        rows: Vec::new(),
        _t: PhantomData,
    }
}

impl<T> Insert<T> {
    /// Adds one row: `(field or column, value)` pairs.
    pub fn values<K: Into<String>, V: Into<Value>>(
        mut self,
        row: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.rows
            .push(row.into_iter().map(|(k, v)| (k.into(), v.into())).collect());
        self
    }

    /// Adds rows.
    pub fn rows<R, K, V>(mut self, rows: impl IntoIterator<Item = R>) -> Self
    where
        R: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<Value>,
    {
        for row in rows {
            self = self.values(row);
        }
        self
    }
}

/// One plain row resolved against a mapper: every mapped column's value
/// (NULL where absent) and which columns it names.
#[derive(Debug, Clone)]
pub(crate) struct PlainRow {
    pub values: Vec<Value>,
    pub sent: Vec<bool>,
}

/// Resolves one row's names and values; with `defaults`, ORM-side column
/// defaults fill the columns it leaves out.
pub(crate) fn resolve_row(
    info: &MapperInfo,
    row: Vec<(String, Value)>,
    defaults: bool,
) -> Result<PlainRow, Error> {
    let width = info.columns.len();
    let mut out = PlainRow {
        values: vec![Value::Null; width],
        sent: vec![false; width],
    };
    for (name, mut v) in row {
        let named = resolve_name(info, &name)?;
        let Some(i) = named.position else {
            return Err(Error::InvalidRequest {
                type_name: info.type_name,
                field: name,
                message: "the column is not mapped".into(),
            });
        };
        if out.sent[i] {
            return Err(Error::InvalidRequest {
                type_name: info.type_name,
                field: name,
                message: "named twice in one row".into(),
            });
        }
        info.normalise_one(i, &mut v)?;
        out.values[i] = v;
        out.sent[i] = true;
    }
    if defaults {
        for (i, d) in info.defaults.iter().enumerate() {
            if let (Some(d), false) = (d, out.sent[i]) {
                let mut v = d.value();
                info.normalise_one(i, &mut v)?;
                out.values[i] = v;
                out.sent[i] = true;
            }
        }
    }
    Ok(out)
}

/// Consecutive rows naming the same columns, cut to what one statement
/// may bind: `(columns sent, rows)`.
pub(crate) fn batches(
    rows: Vec<PlainRow>,
    max_params: usize,
) -> Vec<(Vec<usize>, Vec<Vec<Value>>)> {
    let mut out: Vec<(Vec<usize>, Vec<Vec<Value>>)> = Vec::new();
    for row in rows {
        let columns: Vec<usize> = (0..row.sent.len()).filter(|&i| row.sent[i]).collect();
        let per = (max_params / columns.len().max(1)).max(1);
        let fits = out
            .last()
            .is_some_and(|(c, r)| *c == columns && r.len() < per && !columns.is_empty());
        let values = columns.iter().map(|&i| row.values[i].clone()).collect();
        match out.last_mut() {
            Some((_, r)) if fits => r.push(values),
            _ => out.push((columns, vec![values])),
        }
    }
    out
}

/// The multi-row INSERT of one batch.
pub(crate) fn insert_statement(
    info: &MapperInfo,
    columns: &[usize],
    rows: Vec<Vec<Value>>,
) -> dialects::Insert {
    let names: Vec<&str> = columns.iter().map(|&i| info.columns[i].as_str()).collect();
    dialects::insert(&info.table).rows(names, rows)
}

/// The resolved rows of an ORM INSERT.
pub(crate) fn insert_rows(
    info: &MapperInfo,
    rows: Vec<Vec<(String, Value)>>,
) -> Result<Vec<PlainRow>, Error> {
    rows.into_iter()
        .map(|r| resolve_row(info, r, true))
        .collect()
}

impl Session {
    /// Inserts plain rows into `T`'s table (SQLAlchemy's
    /// `session.execute(insert(Model), [dicts])`): no objects are built
    /// and none enter the identity map. Consecutive rows naming the same
    /// columns go in one multi-row INSERT. Returns the rows inserted.
    /// Staged changes are flushed first.
    pub async fn execute_insert<T: 'static>(&mut self, stmt: Insert<T>) -> Result<u64, Error> {
        self.check_usable()?;
        let mappers = self.mappers.clone();
        let info = mappers.mapper::<T>()?.info().clone();
        let rows = insert_rows(&info, stmt.rows)?;
        self.autoflush().await?;
        let max = self.engine.dialect().features().max_bind_params;
        let mut n = 0;
        for (columns, rows) in batches(rows, max) {
            if columns.is_empty() {
                for _ in rows {
                    n += self
                        .run_rows(&dialects::insert(&info.table))
                        .await?
                        .affected;
                }
                continue;
            }
            n += self
                .run_rows(&insert_statement(&info, &columns, rows))
                .await?
                .affected;
        }
        Ok(n)
    }

    /// Updates rows of `T`'s table by primary key from a list of changes
    /// (SQLAlchemy's `session.execute(update(Model), [dicts])`): each row
    /// names every key column and the columns to set. One statement per
    /// batch of rows naming the same columns (see the [module docs](self)
    /// for the SQL per backend and why). Returns the rows changed.
    pub async fn bulk_update<T, R, K, V>(
        &mut self,
        rows: impl IntoIterator<Item = R>,
    ) -> Result<u64, Error>
    where
        T: 'static,
        R: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<Value>,
    {
        self.check_usable()?;
        let mappers = self.mappers.clone();
        let info = mappers.mapper::<T>()?.info().clone();
        let mut resolved = Vec::new();
        let mut seen: HashSet<IdentityKey, FastHash> = HashSet::default();
        for row in rows {
            let row: Vec<(String, Value)> =
                row.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
            let mut row = resolve_row(&info, row, false)?;
            if let Some(&missing) = info.pk.iter().find(|&&i| !row.sent[i]) {
                return Err(Error::InvalidRequest {
                    type_name: info.type_name,
                    field: info.fields[missing].to_owned(),
                    message: "a bulk UPDATE by primary key needs every key column in every row"
                        .into(),
                });
            }
            let key = info
                .key_of(&row.values)
                .ok_or_else(|| Error::InvalidRequest {
                    type_name: info.type_name,
                    field: super::state::key_fields(&info),
                    message: "a key value is NULL".into(),
                })?;
            self.check_addable(&info, &row.values)?;
            if !seen.insert(key) {
                return Err(Error::InvalidRequest {
                    type_name: info.type_name,
                    field: super::state::key_fields(&info),
                    message: "the same key appears in two rows of one bulk UPDATE".into(),
                });
            }
            // ORM onupdate values, as a flush sets them.
            let set: Vec<(usize, Value)> = (0..row.sent.len())
                .filter(|&i| row.sent[i] && !info.pk.contains(&i))
                .map(|i| (i, row.values[i].clone()))
                .collect();
            if set.is_empty() {
                return Err(Error::InvalidRequest {
                    type_name: info.type_name,
                    field: "(values)".into(),
                    message: "a row of a bulk UPDATE sets no column besides the key".into(),
                });
            }
            for (i, v) in with_onupdate(&info, set) {
                row.values[i] = v;
                row.sent[i] = true;
            }
            resolved.push(row);
        }
        if resolved.is_empty() {
            return Ok(0);
        }
        self.autoflush().await?;
        let features = *self.engine.dialect().features();
        let form = if features.update_from {
            Form::From
        } else if features.update_join {
            Form::Join
        } else {
            return Err(Error::Compile(CompileError::Unsupported {
                dialect: self.engine.dialect().name(),
                construct: "UPDATE joined with a list of rows",
            }));
        };
        let mut total = 0;
        for (columns, rows) in batches(resolved, features.max_bind_params) {
            let expected = rows.len() as u64;
            let keys: Vec<usize> = info.pk.clone();
            let stmt = BulkUpdate {
                info: &info,
                columns: &columns,
                keys: &keys,
                rows: &rows,
                form,
            };
            let n = self.run_rows(&stmt).await?.affected;
            if n != expected {
                return Err(Error::StaleData {
                    table: info.table.name().to_owned(),
                    message: format!(
                        "bulk UPDATE by primary key expected to match {expected} row(s); {n} matched"
                    ),
                });
            }
            total += n;
            self.held_rows_changed(&info, &columns, rows);
        }
        Ok(total)
    }

    /// Writes changed columns into the snapshots of the held objects they
    /// belong to (`columns` are the positions of each row's values).
    pub(crate) fn held_rows_changed(
        &mut self,
        info: &MapperInfo,
        columns: &[usize],
        rows: Vec<Vec<Value>>,
    ) {
        let ty = info.type_id;
        if self.identity.len_of(ty) == 0 {
            return;
        }
        for row in rows {
            let mut full = vec![Value::Null; info.columns.len()];
            for (&i, v) in columns.iter().zip(row) {
                full[i] = v;
            }
            let Some(key) = info.key_of(&full) else {
                continue;
            };
            let Some(snapshot) = self.identity.get(ty, &key) else {
                continue;
            };
            let fresh = self.identity.fresh(ty, &key).is_some();
            let mut next = snapshot.to_vec();
            for &i in columns {
                next[i] = std::mem::replace(&mut full[i], Value::Null);
            }
            self.identity.insert(ty, key.clone(), next);
            if !fresh {
                self.identity.expire(ty, &key);
            }
        }
    }
}

/// How a backend joins a table with rows of values in an UPDATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// `WITH c (...) AS (VALUES ...) UPDATE t SET ... FROM c WHERE ...`.
    From,
    /// `UPDATE t INNER JOIN (SELECT ... UNION ALL ...) AS c ON ... SET ...`.
    Join,
}

/// The name the changes go by in the statement.
const CHANGES: &str = "orm_changes";

impl Form {
    /// The form a backend has, if any.
    pub(crate) fn of(features: &dialects::Features) -> Option<Form> {
        if features.update_from {
            Some(Form::From)
        } else if features.update_join {
            Some(Form::Join)
        } else {
            None
        }
    }
}

/// One batch of a bulk UPDATE by primary key (also what a flush sends for
/// UPDATEs of one shape).
pub(crate) struct BulkUpdate<'a> {
    pub(crate) info: &'a MapperInfo,
    /// The positions of the values of each row (key columns among them).
    pub(crate) columns: &'a [usize],
    /// The positions of the key columns.
    pub(crate) keys: &'a [usize],
    pub(crate) rows: &'a [Vec<Value>],
    pub(crate) form: Form,
}

impl BulkUpdate<'_> {
    fn name(&self, i: usize) -> &str {
        &self.info.columns[i]
    }

    fn table(&self) -> &Table {
        &self.info.table
    }

    /// `t.col` / `orm_changes.col`.
    fn qualified(w: &mut SqlWriter<'_>, qualifier: &str, column: &str) {
        w.ident(qualifier);
        w.push_char('.');
        w.ident(column);
    }

    fn target(&self, w: &mut SqlWriter<'_>) {
        if let Some(schema) = self.table().schema_name() {
            w.ident(schema);
            w.push_char('.');
        }
        w.ident(self.table().name());
    }

    /// `t.k = orm_changes.k AND ...`.
    fn key_match(&self, w: &mut SqlWriter<'_>) {
        for (n, &k) in self.keys.iter().enumerate() {
            if n > 0 {
                w.push(" AND ");
            }
            Self::qualified(w, self.table().name(), self.name(k));
            w.push(" = ");
            Self::qualified(w, CHANGES, self.name(k));
        }
    }

    fn set_columns(&self) -> impl Iterator<Item = usize> + '_ {
        self.columns
            .iter()
            .copied()
            .filter(|i| !self.keys.contains(i))
    }
}

impl Statement for BulkUpdate<'_> {
    fn write_sql(&self, w: &mut SqlWriter<'_>) -> Result<(), CompileError> {
        let dialect = w.dialect();
        match self.form {
            Form::From => {
                w.push("WITH ");
                w.ident(CHANGES);
                w.push(" (");
                for (n, &i) in self.columns.iter().enumerate() {
                    if n > 0 {
                        w.push(", ");
                    }
                    w.ident(self.name(i));
                }
                w.push(") AS (VALUES ");
                for (r, row) in self.rows.iter().enumerate() {
                    if r > 0 {
                        w.push(", ");
                    }
                    w.push_char('(');
                    for (n, (&i, v)) in self.columns.iter().zip(row).enumerate() {
                        if n > 0 {
                            w.push(", ");
                        }
                        // The column's own type: PostgreSQL types an
                        // untyped VALUES list as text.
                        let ty = self
                            .table()
                            .get_column(self.name(i))
                            .map(|c| c.sql_type().clone())
                            .ok_or_else(|| CompileError::UnknownColumn {
                                table: self.table().name().to_owned(),
                                column: self.name(i).to_owned(),
                            })?;
                        dialect.visit_expr(&cast(Expr::Value(v.clone()), ty), w)?;
                    }
                    w.push_char(')');
                }
                w.push(") UPDATE ");
                self.target(w);
                w.push(" SET ");
                for (n, i) in self.set_columns().enumerate() {
                    if n > 0 {
                        w.push(", ");
                    }
                    w.ident(self.name(i));
                    w.push(" = ");
                    Self::qualified(w, CHANGES, self.name(i));
                }
                w.push(" FROM ");
                w.ident(CHANGES);
                w.push(" WHERE ");
                self.key_match(w);
            }
            Form::Join => {
                w.push("UPDATE ");
                self.target(w);
                w.push(" INNER JOIN (");
                for (r, row) in self.rows.iter().enumerate() {
                    if r > 0 {
                        w.push(" UNION ALL ");
                    }
                    w.push("SELECT ");
                    for (n, (&i, v)) in self.columns.iter().zip(row).enumerate() {
                        if n > 0 {
                            w.push(", ");
                        }
                        w.bind(v)?;
                        if r == 0 {
                            w.push(" AS ");
                            w.ident(self.name(i));
                        }
                    }
                }
                w.push(") AS ");
                w.ident(CHANGES);
                w.push(" ON ");
                self.key_match(w);
                w.push(" SET ");
                for (n, i) in self.set_columns().enumerate() {
                    if n > 0 {
                        w.push(", ");
                    }
                    Self::qualified(w, self.table().name(), self.name(i));
                    w.push(" = ");
                    Self::qualified(w, CHANGES, self.name(i));
                }
            }
        }
        Ok(())
    }

    fn kind(&self) -> StatementKind {
        StatementKind::Dml
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orm::Registry;
    use dialects::{Column, MySql, Postgres, SqlType, Sqlite};

    #[derive(Debug, Clone)]
    struct Item {
        id: i64,
        name: String,
        qty: i32,
    }

    fn info() -> std::sync::Arc<MapperInfo> {
        let mut registry = Registry::new();
        let t = dialects::Table::new("item")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::string(20)).not_null())
            .column(Column::new("qty", SqlType::Integer).not_null());
        registry
            .map_imperatively(
                &t,
                crate::mapping!(Item {
                    id: i64 = "id",
                    name: String = "name",
                    qty: i32 = "qty"
                }),
            )
            .finish();
        let mappers = registry.configure().expect("configure");
        mappers.mapper::<Item>().expect("mapped").info().clone()
    }

    fn stmt_sql(form: Form, dialect: &dyn dialects::Dialect) -> dialects::Compiled {
        let info = info();
        let rows = vec![
            vec![Value::BigInt(1), Value::Int(5)],
            vec![Value::BigInt(2), Value::Int(6)],
        ];
        let stmt = BulkUpdate {
            info: &info,
            columns: &[0, 2],
            keys: &[0],
            rows: &rows,
            form,
        };
        Statement::compile(&stmt, dialect).expect("compiles")
    }

    #[test]
    fn bulk_update_sql_per_backend() {
        let pg = stmt_sql(Form::From, &Postgres);
        assert_eq!(
            pg.sql,
            "WITH orm_changes (id, qty) AS (VALUES (CAST($1 AS BIGINT), CAST($2 AS INTEGER)), \
             (CAST($3 AS BIGINT), CAST($4 AS INTEGER))) UPDATE item SET qty = orm_changes.qty \
             FROM orm_changes WHERE item.id = orm_changes.id"
        );
        assert_eq!(pg.params.len(), 4);
        let lite = stmt_sql(Form::From, &Sqlite);
        assert!(
            lite.sql
                .starts_with("WITH orm_changes (id, qty) AS (VALUES (CAST(? AS BIGINT)"),
            "{}",
            lite.sql
        );
        let my = stmt_sql(Form::Join, &MySql::mariadb());
        assert_eq!(
            my.sql,
            "UPDATE item INNER JOIN (SELECT ? AS id, ? AS qty UNION ALL SELECT ?, ?) AS orm_changes \
             ON item.id = orm_changes.id SET item.qty = orm_changes.qty"
        );
        assert_eq!(
            my.params,
            [
                Value::BigInt(1),
                Value::Int(5),
                Value::BigInt(2),
                Value::Int(6)
            ]
        );
    }

    #[test]
    fn rows_resolve_and_batch() {
        let info = info();
        let row = |pairs: Vec<(&str, Value)>| {
            resolve_row(
                &info,
                pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                true,
            )
        };
        let a = row(vec![("name", Value::from("a")), ("qty", Value::BigInt(1))]).expect("row");
        assert_eq!(a.values[2], Value::Int(1), "brought to INTEGER");
        let b = row(vec![("name", Value::from("b")), ("qty", Value::Int(2))]).expect("row");
        let c = row(vec![
            ("id", Value::Int(9)),
            ("name", Value::from("c")),
            ("qty", Value::Int(3)),
        ])
        .expect("row");
        let out = batches(vec![a.clone(), b, c, a], 4);
        let shapes: Vec<(Vec<usize>, usize)> =
            out.iter().map(|(c, r)| (c.clone(), r.len())).collect();
        assert_eq!(
            shapes,
            [(vec![1, 2], 2), (vec![0, 1, 2], 1), (vec![1, 2], 1)]
        );
        assert!(matches!(
            row(vec![("nope", Value::Null)]),
            Err(Error::InvalidRequest { field, .. }) if field == "nope"
        ));
        assert!(matches!(
            row(vec![("qty", Value::from("x"))]),
            Err(Error::Codec { field: "qty", .. })
        ));
    }
}
