//! The timing harness the ORM-vs-sqlx benches share (`orm_vs_sqlx`,
//! `relations_vs_sqlx`): rounds and medians, the environment filters
//! (`BENCH_BACKENDS`, `BENCH_CASES`, `BENCH_SIDES`, `BENCH_ROUNDS`), the
//! report line, a bare sqlx connection, and the run over the backends.

use std::future::Future;
use std::time::Duration;

use persistence::orm::Mappers;
use persistence::{Engine, SchemaExt};
use sqlx::{Connection as _, Executor as _};

/// Rounds per case: `BENCH_ROUNDS`, else `default`.
pub fn rounds(default: usize) -> usize {
    std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Whether `name` is in the comma-separated list `var` (or `var` is unset).
pub fn wanted(var: &str, name: &str) -> bool {
    match std::env::var(var) {
        Ok(list) if !list.is_empty() => list.split(',').any(|s| s.trim() == name),
        _ => true,
    }
}

/// The median of `samples`; `None` when there are none.
pub fn median(mut samples: Vec<Duration>) -> Option<Duration> {
    samples.sort();
    samples.get(samples.len() / 2).copied()
}

/// How wide a bench's case names and raw-side labels are printed.
pub struct Layout {
    /// The width of the case column.
    pub case: usize,
    /// The width of the raw side's label.
    pub raw: usize,
}

/// Prints one result line: the ORM's median, the raw side's (labelled
/// `raw_name`) and their ratio, `-` for a side that did not run.
pub fn report(
    layout: &Layout,
    backend: &str,
    case: &str,
    orm: Option<Duration>,
    raw_name: &str,
    raw: Option<Duration>,
) {
    let show = |d: Option<Duration>| d.map_or_else(|| "-".to_owned(), |d| format!("{d:.2?}"));
    let ratio = match (orm, raw) {
        (Some(o), Some(r)) => format!("{:.2}x", o.as_secs_f64() / r.as_secs_f64()),
        _ => "-".to_owned(),
    };
    println!(
        "{backend:<10} {case:<case_width$} orm {:>10}  {raw_name:<raw_width$} {:>10}  ratio {ratio}",
        show(orm),
        show(raw),
        case_width = layout.case,
        raw_width = layout.raw,
    );
}

/// Raw sqlx on one bare connection.
pub enum Raw {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Raw {
    /// Connects to `url` with `backend`'s sqlx driver.
    pub async fn connect(backend: &str, url: &str) -> Raw {
        if backend == "SQLite" {
            Raw::Sqlite(sqlx::SqliteConnection::connect(url).await.unwrap())
        } else {
            Raw::Postgres(sqlx::PgConnection::connect(url).await.unwrap())
        }
    }

    /// Runs `sql`, ignoring what it returns.
    pub async fn exec(&mut self, sql: &str) {
        match self {
            Raw::Sqlite(c) => c.execute(sql).await.map(|_| ()).unwrap(),
            Raw::Postgres(c) => c.execute(sql).await.map(|_| ()).unwrap(),
        }
    }
}

/// Drops and creates the tables of `m`.
pub async fn reset(engine: &Engine, m: &Mappers) {
    let mut conn = engine.connect().await.unwrap();
    m.metadata().drop_all(&mut conn).await.unwrap();
    m.metadata().create_all(&mut conn).await.unwrap();
}

/// Runs `run(backend, url)` on SQLite, in a file under a temporary
/// directory named `dir_name` (removed afterwards), and on PostgreSQL at
/// `TEST_POSTGRES_URL` (skipped, with a line saying so, when it is unset),
/// each when `BENCH_BACKENDS` names it.
pub fn run_backends<F, Fut>(dir_name: &str, run: F)
where
    F: Fn(&'static str, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("{dir_name}_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    if wanted("BENCH_BACKENDS", "SQLite") {
        rt.block_on(run("SQLite", sqlite));
    }
    if wanted("BENCH_BACKENDS", "PostgreSQL") {
        match std::env::var("TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => rt.block_on(run("PostgreSQL", url)),
            _ => println!("PostgreSQL: skipped (TEST_POSTGRES_URL is not set)"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
