//! Running migrations: `upgrade`, `downgrade`, `stamp` and `current` on a
//! live database, and the same history as SQL text (offline mode).
//!
//! Where DDL is transactional (PostgreSQL, SQLite) each migration runs in
//! one transaction together with its version-table row: a failing step
//! rolls all of that migration back, so the database and the version
//! table stay as they were before it. On SQLite foreign-key enforcement
//! is switched off around each migration (table rebuilds drop and rename
//! tables) and `PRAGMA foreign_key_check` must come back empty before the
//! commit. Where it is not (MySQL, MariaDB) every completed step is
//! recorded (`state = 'up:N'`) and a failure says which step stopped, what
//! is applied, and how to resume.
//!
//! Steps SQLite's `ALTER TABLE` cannot do become a table rebuild of the
//! table as it is in the database (reflected, or in offline mode as the
//! earlier migrations left it). A constraint dropped without its name has
//! the name looked up in the database.

use dialects::compiler::alter::{alter_features, compile_op, needs_rebuild};
use dialects::schema::alter::AlterOp;
use dialects::{Dialect, MetaData, SqlWriter, Statement, Table};
use persistence::{inspect, Backend, Connection, Engine};

use crate::error::MigrateError;
use crate::file::{Action, Migration, Step};
use crate::reflect::reflect_table;
use crate::revisions::Migrations;
use crate::version::{self, run_sql, Status};

/// Which way a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Its `upgrade` steps.
    Up,
    /// Its `downgrade` steps.
    Down,
}

impl Direction {
    fn command(self) -> &'static str {
        match self {
            Direction::Up => "upgrade",
            Direction::Down => "downgrade",
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// What a command did: where the database was, where it is, and the
/// migrations it ran, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The revision before (`base` for none).
    pub from: String,
    /// The revision after.
    pub to: String,
    /// The revisions run, in the order they ran.
    pub ran: Vec<String>,
}

/// Upgrades the database of `engine` to the newest migration
/// (`migrate::upgrade(&engine, &MIGRATIONS)`).
pub async fn upgrade(engine: &Engine, migrations: &Migrations) -> Result<Outcome, MigrateError> {
    upgrade_to(engine, migrations, "head").await
}

/// Upgrades to `target` (`head`, a revision, a unique prefix, `+N`).
pub async fn upgrade_to(
    engine: &Engine,
    migrations: &Migrations,
    target: &str,
) -> Result<Outcome, MigrateError> {
    run(engine, migrations, target, Direction::Up).await
}

/// Downgrades to `target` (`base`, a revision, a unique prefix, `-N`).
pub async fn downgrade(
    engine: &Engine,
    migrations: &Migrations,
    target: &str,
) -> Result<Outcome, MigrateError> {
    run(engine, migrations, target, Direction::Down).await
}

/// Where the database stands (the version table checked against the
/// history: unknown revisions and edited files are errors).
pub async fn current(engine: &Engine, migrations: &Migrations) -> Result<Status, MigrateError> {
    let mut conn = crate::connect(engine).await?;
    let rows = version::read(&mut conn).await?;
    version::status(migrations, rows)
}

/// Records the database as being at `target` without running anything
/// (for a database whose schema was made otherwise).
pub async fn stamp(
    engine: &Engine,
    migrations: &Migrations,
    target: &str,
) -> Result<Outcome, MigrateError> {
    let mut conn = crate::connect(engine).await?;
    version::ensure(&mut conn).await?;
    let rows = version::read(&mut conn).await?;
    let from = rows
        .iter()
        .filter_map(|r| migrations.position(&r.revision))
        .max()
        .map_or(0, |p| p + 1);
    let to = migrations.resolve(target, from)?;
    let tx = conn.begin().await?;
    let mut tx = tx;
    tx.execute(&dialects::text("DELETE FROM migrate_version"))
        .await?;
    for m in &migrations.all()[..to] {
        tx.execute(&version::insert_row(m, None)).await?;
    }
    tx.commit().await?;
    Ok(Outcome {
        from: migrations.revision_at(from),
        to: migrations.revision_at(to),
        ran: Vec::new(),
    })
}

async fn run(
    engine: &Engine,
    migrations: &Migrations,
    target: &str,
    direction: Direction,
) -> Result<Outcome, MigrateError> {
    let mut conn = crate::connect(engine).await?;
    version::ensure(&mut conn).await?;
    let status = version::status(migrations, version::read(&mut conn).await?)?;
    let current = status.applied;
    let mut resume = 0;
    if let Some((revision, state)) = &status.partial {
        let (tag, n) = state.split_once(':').unwrap_or((state, "0"));
        let m = migrations.get(revision);
        if tag != direction.tag() {
            return Err(MigrateError::HalfApplied {
                revision: revision.clone(),
                state: state.clone(),
                at: m.map_or_else(
                    || crate::error::Location {
                        file: revision.clone(),
                        line: 1,
                    },
                    |m| m.at(1),
                ),
                resume: if tag == "up" { "upgrade" } else { "downgrade" },
            });
        }
        resume = n.parse().unwrap_or(0);
    }
    let to = migrations.resolve(target, current)?;
    let wrong = |reason| MigrateError::WrongDirection {
        command: direction.command(),
        current: migrations.revision_at(current),
        target: target.to_owned(),
        reason,
    };
    let mut ran = Vec::new();
    match direction {
        Direction::Up => {
            if to < current {
                return Err(wrong("it is older; use downgrade"));
            }
            for i in current..to {
                let start = if i == current { resume } else { 0 };
                let before = migrations.revision_at(i);
                apply(
                    &mut conn,
                    &migrations.all()[i],
                    Direction::Up,
                    start,
                    &before,
                )
                .await?;
                ran.push(migrations.all()[i].revision.clone());
            }
        }
        Direction::Down => {
            if to > current {
                return Err(wrong("it is newer; use upgrade"));
            }
            for i in (to..current).rev() {
                let start = if i + 1 == current { resume } else { 0 };
                let m = &migrations.all()[i];
                apply(&mut conn, m, Direction::Down, start, &m.revision).await?;
                ran.push(m.revision.clone());
            }
        }
    }
    Ok(Outcome {
        from: migrations.revision_at(current),
        to: migrations.revision_at(to),
        ran,
    })
}

/// Runs one migration one way, from step `start` (a resumed one).
async fn apply(
    conn: &mut Connection,
    m: &Migration,
    direction: Direction,
    start: usize,
    before: &str,
) -> Result<(), MigrateError> {
    let steps = match direction {
        Direction::Up => &m.upgrade,
        Direction::Down => &m.downgrade,
    };
    let total = steps.len();
    let dialect = conn.engine().dialect();
    if !alter_features(dialect).transactional_ddl {
        return apply_stepwise(conn, m, direction, start, before).await;
    }
    let sqlite = conn.engine().backend() == Backend::Sqlite;
    if sqlite {
        run_sql(conn, "PRAGMA foreign_keys = OFF").await?;
    }
    let result = async {
        let mut tx = conn.begin().await?;
        for (k, step) in steps.iter().enumerate() {
            if let Err(e) = run_step(&mut tx, step).await {
                let _ = tx.rollback().await;
                return Err(MigrateError::StepRolledBack {
                    at: m.at(step.line),
                    revision: m.revision.clone(),
                    step: k + 1,
                    total,
                    before: before.to_owned(),
                    source: Box::new(e),
                });
            }
        }
        if sqlite {
            let broken = tx
                .execute(&dialects::text("PRAGMA foreign_key_check"))
                .await?
                .all();
            if let Some(row) = broken.first() {
                let table = row.value(0).map(ToString::to_string).unwrap_or_default();
                let _ = tx.rollback().await;
                return Err(MigrateError::StepRolledBack {
                    at: m.at(steps.last().map_or(1, |s| s.line)),
                    revision: m.revision.clone(),
                    step: total,
                    total,
                    before: before.to_owned(),
                    source: Box::new(MigrateError::Invalid(format!(
                        "the migration leaves {} row(s) of `{table}` whose foreign keys point nowhere",
                        broken.len()
                    ))),
                });
            }
        }
        match direction {
            Direction::Up => tx.execute(&version::insert_row(m, None)).await?,
            Direction::Down => tx.execute(&version::delete_row(&m.revision)).await?,
        };
        tx.commit().await?;
        Ok(())
    }
    .await;
    if sqlite {
        run_sql(conn, "PRAGMA foreign_keys = ON").await?;
    }
    result
}

/// MySQL and MariaDB: each step commits on its own, so each is recorded.
async fn apply_stepwise(
    conn: &mut Connection,
    m: &Migration,
    direction: Direction,
    start: usize,
    before: &str,
) -> Result<(), MigrateError> {
    let steps = match direction {
        Direction::Up => &m.upgrade,
        Direction::Down => &m.downgrade,
    };
    let tag = direction.tag();
    if start == 0 {
        let state = format!("{tag}:0");
        match direction {
            Direction::Up => conn.execute(&version::insert_row(m, Some(&state))).await?,
            Direction::Down => {
                conn.execute(&version::update_state(m, Some(&state)))
                    .await?
            }
        };
    }
    for (k, step) in steps.iter().enumerate().skip(start) {
        if let Err(e) = run_step(conn, step).await {
            return Err(MigrateError::StepStopped {
                at: m.at(step.line),
                revision: m.revision.clone(),
                direction: direction.command(),
                step: k + 1,
                total: steps.len(),
                before: before.to_owned(),
                source: Box::new(e),
            });
        }
        let state = format!("{tag}:{}", k + 1);
        conn.execute(&version::update_state(m, Some(&state)))
            .await?;
    }
    match direction {
        Direction::Up => conn.execute(&version::update_state(m, None)).await?,
        Direction::Down => conn.execute(&version::delete_row(&m.revision)).await?,
    };
    Ok(())
}

/// Runs one step on `conn`.
async fn run_step(conn: &mut Connection, step: &Step) -> Result<(), MigrateError> {
    let dialect = conn.engine().dialect();
    match &step.action {
        Action::Sql(sql) => {
            if let Some(sql) = sql.for_dialect(dialect.name()) {
                run_sql(conn, sql).await?;
            }
        }
        Action::Op(op) => {
            let op = resolve_online(conn, op).await?;
            let native = conn.engine().backend() == Backend::Postgres;
            if native {
                ensure_enum_types(conn, &op).await?;
            }
            // A table about to go: the enum types it uses, dropped after it
            // when nothing else uses them.
            let dropped_enums = match (&op, native) {
                (AlterOp::DropTable { table }, true) => {
                    enum_types_of(&reflect_table(conn, table).await?)
                }
                _ => Vec::new(),
            };
            for sql in compile_op(&op, conn.engine().dialect())? {
                run_sql(conn, &sql).await?;
            }
            for (name, _) in dropped_enums {
                if !enum_type_in_use(conn, &name).await? {
                    run_sql(conn, &format!("DROP TYPE IF EXISTS {}", quote_pg(&name))).await?;
                }
            }
        }
    }
    Ok(())
}

/// The native enum types of `table`'s columns.
fn enum_types_of(table: &Table) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for c in table.columns() {
        if let dialects::SqlType::Enum {
            name,
            variants,
            native: true,
        } = c.sql_type()
        {
            if !name.is_empty() && !out.iter().any(|(n, _)| n == name) {
                out.push((name.clone(), variants.clone()));
            }
        }
    }
    out
}

/// PostgreSQL: creates the enum types a `create_table` or `add_column`
/// step needs and the database lacks (a migration written against a
/// backend without named enum types names them only in its columns), as
/// `create_all` does.
async fn ensure_enum_types(conn: &mut Connection, op: &AlterOp) -> Result<(), MigrateError> {
    let needed = match op {
        AlterOp::CreateTable(t) => enum_types_of(t),
        AlterOp::AddColumn { column, .. } => enum_types_of(&Table::new("").column(column.clone())),
        _ => return Ok(()),
    };
    for (name, variants) in needed {
        let exists = conn
            .execute(
                &dialects::text("SELECT 1 FROM pg_type WHERE typname = :name")
                    .bind("name", name.as_str()),
            )
            .await?
            .first()
            .is_some();
        if !exists {
            let values: Vec<String> = variants
                .iter()
                .map(|v| format!("'{}'", v.replace('\'', "''")))
                .collect();
            run_sql(
                conn,
                &format!(
                    "CREATE TYPE {} AS ENUM ({})",
                    quote_pg(&name),
                    values.join(", ")
                ),
            )
            .await?;
        }
    }
    Ok(())
}

/// Whether a column of the database still uses the enum type `name`.
async fn enum_type_in_use(conn: &mut Connection, name: &str) -> Result<bool, MigrateError> {
    Ok(conn
        .execute(
            &dialects::text(
                "SELECT 1 FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
                 WHERE t.typname = :name AND a.attnum > 0 AND NOT a.attisdropped",
            )
            .bind("name", name),
        )
        .await?
        .first()
        .is_some())
}

/// A PostgreSQL identifier, quoted.
fn quote_pg(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The operation as the database can run it: a rebuild where SQLite needs
/// one, constraint names filled in from the database.
async fn resolve_online(conn: &mut Connection, op: &AlterOp) -> Result<AlterOp, MigrateError> {
    let dialect = conn.engine().dialect();
    if needs_rebuild(op, dialect) {
        let name = op.table().unwrap_or_default().to_owned();
        let from = reflect_table(conn, &name).await?;
        return rebuild_op(&from, op);
    }
    Ok(match op {
        AlterOp::DropUnique { table, constraint } if constraint.name.is_none() => {
            let found = inspect(conn)
                .unique_constraints(table)
                .await?
                .into_iter()
                .find(|u| u.columns == constraint.columns)
                .and_then(|u| u.name)
                .ok_or_else(|| {
                    MigrateError::Invalid(format!(
                        "table `{table}` has no unique constraint on ({})",
                        constraint.columns.join(", ")
                    ))
                })?;
            let mut constraint = constraint.clone();
            constraint.name = Some(found);
            AlterOp::DropUnique {
                table: table.clone(),
                constraint,
            }
        }
        AlterOp::DropForeignKey {
            table,
            name: None,
            foreign_key,
        } => {
            let found = inspect(conn)
                .foreign_keys(table)
                .await?
                .into_iter()
                .find(|f| {
                    f.columns == foreign_key.columns && f.referred_table == foreign_key.ref_table
                })
                .and_then(|f| f.name)
                .ok_or_else(|| {
                    MigrateError::Invalid(format!(
                        "table `{table}` has no foreign key ({}) to `{}`",
                        foreign_key.columns.join(", "),
                        foreign_key.ref_table
                    ))
                })?;
            AlterOp::DropForeignKey {
                table: table.clone(),
                name: Some(found),
                foreign_key: foreign_key.clone(),
            }
        }
        other => other.clone(),
    })
}

/// The rebuild that carries out `op` on `from`: every column that both
/// shapes have is copied (an added column takes its default).
pub fn rebuild_op(from: &Table, op: &AlterOp) -> Result<AlterOp, MigrateError> {
    let to = op.apply_to_table(from)?;
    let added = match op {
        AlterOp::AddColumn { column, .. } => Some(column.name().to_owned()),
        _ => None,
    };
    let copy = to
        .columns()
        .iter()
        .filter(|c| from.get_column(c.name()).is_some() && Some(c.name()) != added.as_deref())
        .map(|c| (c.name().to_owned(), c.name().to_owned()))
        .collect();
    Ok(AlterOp::RebuildTable {
        from: from.clone(),
        to,
        copy,
    })
}

/// The schema the first `count` migrations build, replayed from their
/// operations (what offline mode rebuilds SQLite tables from).
pub fn replay(migrations: &Migrations, count: usize) -> Result<MetaData, MigrateError> {
    let mut model = MetaData::new();
    for m in &migrations.all()[..count.min(migrations.all().len())] {
        for step in &m.upgrade {
            if let Action::Op(op) = &step.action {
                op.apply(&mut model)
                    .map_err(|e| MigrateError::Invalid(format!("{}: {e}", m.at(step.line))))?;
            }
        }
    }
    Ok(model)
}

/// Offline mode: the SQL that takes a database from `from` to `to`
/// (targets as for the online commands, `from` resolved from base), one
/// statement a line, each ending in `;`, with the version table's
/// statements, as `dialect` spells them.
pub fn script(
    migrations: &Migrations,
    dialect: &dyn Dialect,
    from: &str,
    to: &str,
) -> Result<String, MigrateError> {
    let start = migrations.resolve(from, 0)?;
    let end = migrations.resolve(to, start)?;
    let features = alter_features(dialect);
    let sqlite = dialect.name() == "sqlite";
    let mut model = replay(migrations, start)?;
    let mut out = String::new();
    out.push_str(&format!(
        "-- {} -> {}\n",
        migrations.revision_at(start),
        migrations.revision_at(end)
    ));
    out.push_str(&format!("{};\n", version::create_sql(dialect)?));
    let indices: Vec<(usize, Direction)> = if end >= start {
        (start..end).map(|i| (i, Direction::Up)).collect()
    } else {
        (end..start).rev().map(|i| (i, Direction::Down)).collect()
    };
    for (i, direction) in indices {
        let m = &migrations.all()[i];
        let steps = match direction {
            Direction::Up => &m.upgrade,
            Direction::Down => &m.downgrade,
        };
        out.push_str(&format!(
            "\n-- {} {} ({})\n",
            direction.command(),
            m.revision,
            m.file
        ));
        if sqlite {
            out.push_str("PRAGMA foreign_keys = OFF;\n");
        }
        if features.transactional_ddl {
            out.push_str("BEGIN;\n");
        }
        for step in steps {
            let at = m.at(step.line);
            let located = |e: MigrateError| MigrateError::Invalid(format!("{at}: {e}"));
            match &step.action {
                Action::Sql(sql) => {
                    if let Some(sql) = sql.for_dialect(dialect.name()) {
                        out.push_str(&format!("{};\n", sql.trim_end().trim_end_matches(';')));
                    }
                }
                Action::Op(op) => {
                    let runnable = if needs_rebuild(op, dialect) {
                        let name = op.table().unwrap_or_default();
                        let from = model.table(name).cloned().ok_or_else(|| {
                            MigrateError::Invalid(format!(
                                "{at}: rebuilding `{name}` offline needs its shape, and the earlier migrations do not create it"
                            ))
                        })?;
                        rebuild_op(&from, op).map_err(located)?
                    } else {
                        op.clone()
                    };
                    for sql in compile_op(&runnable, dialect).map_err(|e| located(e.into()))? {
                        out.push_str(&format!("{sql};\n"));
                    }
                    op.apply(&mut model).map_err(|e| located(e.into()))?;
                }
            }
        }
        let record = match direction {
            Direction::Up => inline(&version::insert_row(m, None), dialect)?,
            Direction::Down => inline(&version::delete_row(&m.revision), dialect)?,
        };
        out.push_str(&format!("{record};\n"));
        if features.transactional_ddl {
            out.push_str("COMMIT;\n");
        }
        if sqlite {
            out.push_str("PRAGMA foreign_keys = ON;\n");
        }
    }
    Ok(out)
}

/// A statement with its values written as literals (offline mode).
fn inline(stmt: &impl Statement, dialect: &dyn Dialect) -> Result<String, MigrateError> {
    let mut w = SqlWriter::new(dialect);
    w.with_inline_literals(|w| stmt.write_sql(w))?;
    Ok(w.finish().sql)
}
