//! The version table, `migrate_version`: one row per applied migration,
//! with the checksum and text it was applied with (so that an edit of an
//! applied file is caught, naming the line), when, and, on backends whose
//! DDL is not transactional, how far a half-done migration got.
//!
//! `state` is `NULL` for a complete migration, `up:N` while an upgrade
//! has done its first N steps, `down:N` while a downgrade has undone N.

use dialects::{
    delete, insert, text, update, Column, CreateTable, Dialect, SqlType, Statement, Table,
};
use persistence::Connection;

use crate::error::MigrateError;
use crate::file::Migration;
use crate::revisions::Migrations;

/// The version table's name.
pub const VERSION_TABLE: &str = "migrate_version";

/// The version table.
pub fn version_table() -> Table {
    Table::new(VERSION_TABLE)
        .column(Column::new("revision", SqlType::string(255)).primary_key())
        .column(Column::new("checksum", SqlType::string(64)).not_null())
        .column(Column::new("source", SqlType::Text).not_null())
        .column(Column::new("applied_at", SqlType::string(32)).not_null())
        .column(Column::new("state", SqlType::string(32)))
}

/// One row of the version table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The revision.
    pub revision: String,
    /// The checksum it was applied with.
    pub checksum: String,
    /// The text it was applied with.
    pub source: String,
    /// When (UTC, `YYYY-MM-DD HH:MM:SS`).
    pub applied_at: String,
    /// `None` when complete, else `up:N` / `down:N`.
    pub state: Option<String>,
}

/// Where the database stands against a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// How many migrations of the history are applied (completely, or
    /// partly undone by a downgrade that stopped).
    pub applied: usize,
    /// A migration left half done: its revision and state.
    pub partial: Option<(String, String)>,
    /// The rows, history order.
    pub rows: Vec<Applied>,
}

/// `CREATE TABLE IF NOT EXISTS migrate_version (...)` for `dialect`.
pub fn create_sql(dialect: &dyn Dialect) -> Result<String, MigrateError> {
    Ok(CreateTable::new(&version_table())
        .if_not_exists()
        .compile(dialect)?
        .sql)
}

/// Creates the version table if it is missing.
pub async fn ensure(conn: &mut Connection) -> Result<(), MigrateError> {
    let sql = create_sql(conn.engine().dialect())?;
    run_sql(conn, &sql).await
}

/// Runs SQL text as it is (no `:name` parameters).
pub async fn run_sql(conn: &mut Connection, sql: &str) -> Result<(), MigrateError> {
    let compiled = dialects::Compiled {
        sql: sql.to_owned(),
        params: Vec::new(),
    };
    conn.execute_compiled(&compiled, dialects::StatementKind::Ddl)
        .await?;
    Ok(())
}

/// The rows of the version table (none when it does not exist).
pub async fn read(conn: &mut Connection) -> Result<Vec<Applied>, MigrateError> {
    if !persistence::inspect(conn).has_table(VERSION_TABLE).await? {
        return Ok(Vec::new());
    }
    let rows = conn
        .execute(&text(
            "SELECT revision, checksum, source, applied_at, state FROM migrate_version",
        ))
        .await?
        .all();
    rows.into_iter()
        .map(|r| {
            let (revision, checksum, source, applied_at, state): (
                String,
                String,
                String,
                String,
                Option<String>,
            ) = r.into_tuple()?;
            Ok(Applied {
                revision,
                checksum,
                source,
                applied_at,
                state,
            })
        })
        .collect()
}

/// Checks the rows against the history: every applied revision known, the
/// applied ones a prefix of the history, every complete one unedited.
pub fn status(migrations: &Migrations, mut rows: Vec<Applied>) -> Result<Status, MigrateError> {
    let mut positions = Vec::with_capacity(rows.len());
    for r in &rows {
        let pos = migrations.position(&r.revision).ok_or_else(|| {
            MigrateError::UnknownAppliedRevision {
                revision: r.revision.clone(),
            }
        })?;
        positions.push(pos);
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| positions[i]);
    rows = order.iter().map(|&i| rows[i].clone()).collect();
    let mut partial = None;
    for (i, r) in rows.iter().enumerate() {
        let m = &migrations.all()[i];
        if m.revision != r.revision {
            return Err(MigrateError::Invalid(format!(
                "the database has `{}` applied but not `{}`, which comes before it ({})",
                r.revision,
                m.revision,
                m.at(1)
            )));
        }
        match &r.state {
            Some(state) => {
                if i + 1 != rows.len() {
                    return Err(MigrateError::Invalid(format!(
                        "migration `{}` is half done (state `{state}`) but later ones are applied",
                        r.revision
                    )));
                }
                partial = Some((r.revision.clone(), state.clone()));
            }
            None => verify(m, r)?,
        }
    }
    let applied = match &partial {
        Some((_, state)) if state.starts_with("up:") => rows.len() - 1,
        _ => rows.len(),
    };
    Ok(Status {
        applied,
        partial,
        rows,
    })
}

/// [`MigrateError::ChecksumMismatch`] unless `m` is the text `row` was
/// applied with; the error names the first line that differs.
pub fn verify(m: &Migration, row: &Applied) -> Result<(), MigrateError> {
    if m.checksum == row.checksum {
        return Ok(());
    }
    let now: Vec<&str> = m.source.lines().collect();
    let then: Vec<&str> = row.source.lines().collect();
    let line = (0..now.len().max(then.len()))
        .find(|&i| now.get(i) != then.get(i))
        .map_or(1, |i| i + 1);
    Err(MigrateError::ChecksumMismatch {
        at: m.at(line),
        revision: m.revision.clone(),
        applied_at: row.applied_at.clone(),
        applied: row.checksum.clone(),
    })
}

/// The current UTC time as the table stores it.
pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The statement recording `m` as applied with `state`.
pub fn insert_row(m: &Migration, state: Option<&str>) -> impl Statement {
    insert(&version_table()).values([
        ("revision", dialects::Value::from(m.revision.as_str())),
        ("checksum", m.checksum.as_str().into()),
        ("source", m.source.as_str().into()),
        ("applied_at", now().into()),
        ("state", state.map_or(dialects::Value::Null, Into::into)),
    ])
}

/// The statement setting `m`'s state (and, when complete, its text).
pub fn update_state(m: &Migration, state: Option<&str>) -> impl Statement {
    let t = version_table();
    update(&t)
        .set("state", state.map_or(dialects::Value::Null, Into::into))
        .set("checksum", m.checksum.as_str())
        .set("source", m.source.as_str())
        .where_(t.c("revision").eq(m.revision.as_str()))
}

/// The statement forgetting `revision`.
pub fn delete_row(revision: &str) -> impl Statement {
    let t = version_table();
    delete(&t).where_(t.c("revision").eq(revision))
}
