//! Peak memory of a bulk insert (issue 15): 100,000 new objects written
//! by the ORM (`add_all` + `commit`), by Core (`executemany`) and by raw
//! sqlx (multi-row INSERTs of 10,000 rows in one transaction, with and
//! without reading the generated ids back), on SQLite (a file) and
//! PostgreSQL.
//!
//! Each side runs in a process of its own (this binary starts itself once
//! per side and backend), so one side's freed memory cannot hide another's
//! peak; each child reports its peak resident set (`VmHWM` in
//! `/proc/self/status`) after the insert, and the resident set before it
//! (the runtime, the connection and the 100,000 objects, which every side
//! holds alike).
//!
//! Measured (2 shared cores, load 3-5; peak RSS in MB, ORM / Core / sqlx /
//! sqlx reading ids): before chunked `add_all` and block snapshots SQLite
//! 69.6 / 42.0 / 22.2 / 23.6, PostgreSQL 66.3 / 38.9 / 17.5 / 17.8; after
//! SQLite 35.0 / 42.0 / 22.1 / 23.0, PostgreSQL 32.1 / 38.7 / 17.7 / 17.7
//! (about 15 MB of each is the process, runtime and the 100,000 objects).
//!
//! ```text
//! . /tmp/main-env.sh   # TEST_POSTGRES_URL (PostgreSQL is skipped without it)
//! cargo bench -p persistence --bench memory
//! MEM_ROWS=10000 MEM_BACKENDS=sqlite MEM_SIDES=orm cargo bench -p persistence --bench memory
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::Command;
use std::str::FromStr;

use persistence::dialects::{insert, Column, SqlType, Table, Value};
use persistence::mapping;
use persistence::orm::{Registry, SessionMaker};
use persistence::{create_engine, Engine, SchemaExt};
use sqlx::{ConnectOptions, Executor as _};

/// A row of the bench's table.
#[derive(Debug, Clone, Default, PartialEq)]
struct Item {
    id: Option<i64>,
    name: String,
    n: i64,
}

/// Rows per statement of the raw sides.
const CHUNK: usize = 10_000;

const SIDES: [&str; 4] = ["orm", "core", "sqlx", "sqlx-ids"];
const BACKENDS: [&str; 2] = ["sqlite", "postgres"];

/// A field of `/proc/self/status`, in kB.
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a kB figure")
}

fn rows() -> usize {
    std::env::var("MEM_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000)
}

fn wanted(var: &str, name: &str) -> bool {
    match std::env::var(var) {
        Ok(list) if !list.is_empty() => list.split(',').any(|s| s.trim() == name),
        _ => true,
    }
}

fn main() {
    if let (Ok(side), Ok(backend)) = (
        std::env::var("MEM_CHILD_SIDE"),
        std::env::var("MEM_CHILD_BACKEND"),
    ) {
        child(&side, &backend);
        return;
    }
    let pg = std::env::var("TEST_POSTGRES_URL").ok();
    let exe = std::env::current_exe().expect("this binary");
    let n = rows();
    println!("\n{n} rows; peak RSS (VmHWM) per process, MB; `before` is the RSS just before the insert\n");
    println!("| backend | side | before | peak | peak - before | time |");
    println!("|---|---|---:|---:|---:|---:|");
    for backend in BACKENDS {
        if !wanted("MEM_BACKENDS", backend) {
            continue;
        }
        if backend == "postgres" && pg.is_none() {
            eprintln!("PostgreSQL skipped: TEST_POSTGRES_URL is not set");
            continue;
        }
        for side in SIDES {
            if !wanted("MEM_SIDES", side) {
                continue;
            }
            let out = Command::new(&exe)
                .env("MEM_CHILD_SIDE", side)
                .env("MEM_CHILD_BACKEND", backend)
                .output()
                .expect("run a child");
            let text = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() {
                eprintln!(
                    "{backend} {side} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                continue;
            }
            let field = |k: &str| -> f64 {
                text.lines()
                    .find_map(|l| l.strip_prefix(k))
                    .and_then(|v| v.trim().parse().ok())
                    .expect("a child figure")
            };
            let (before, peak, secs) = (field("before="), field("peak="), field("secs="));
            println!(
                "| {backend} | {side} | {:.1} | {:.1} | {:.1} | {secs:.2}s |",
                before / 1024.0,
                peak / 1024.0,
                (peak - before) / 1024.0
            );
        }
    }
}

fn child(side: &str, backend: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run_child(side, backend));
}

fn table(name: &str) -> Table {
    Table::new(name)
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("name", SqlType::string(64)).not_null())
        .column(Column::new("n", SqlType::BigInteger).not_null())
}

/// Creates the table afresh.
async fn create_schema(engine: &Engine, t: &Table) {
    let mut r = Registry::new();
    r.map_imperatively(
        t,
        mapping!(Item { id: Option<i64> = "id", name: String = "name", n: i64 = "n" }),
    )
    .finish();
    let m = r.configure().expect("mapping");
    let mut conn = engine.connect().await.expect("connect");
    m.metadata().drop_all(&mut conn).await.expect("drop_all");
    m.metadata()
        .create_all(&mut conn)
        .await
        .expect("create_all");
    conn.commit().await.expect("commit");
}

async fn run_child(side: &str, backend: &str) {
    let pid = std::process::id();
    let name = format!("mem_item_{pid}");
    let path = std::env::temp_dir().join(format!("persistence-mem-{pid}.db"));
    let url = match backend {
        "sqlite" => format!(
            "sqlite://{}?mode=rwc&journal_mode=wal&synchronous=normal",
            path.display()
        ),
        _ => std::env::var("TEST_POSTGRES_URL").expect("TEST_POSTGRES_URL"),
    };
    let engine = create_engine(&url).await.expect("engine");
    let t = table(&name);
    create_schema(&engine, &t).await;
    let mut r = Registry::new();
    r.map_imperatively(
        &t,
        mapping!(Item { id: Option<i64> = "id", name: String = "name", n: i64 = "n" }),
    )
    .finish();
    let sessions = SessionMaker::new(engine.clone(), r.configure().expect("mapping"));
    let pg = backend == "postgres";
    let mut raw = if side.starts_with("sqlx") {
        Some(if pg {
            Raw::Postgres(
                sqlx::postgres::PgConnectOptions::from_str(&url)
                    .expect("URL")
                    .log_statements(tracing::log::LevelFilter::Off)
                    .connect()
                    .await
                    .expect("raw connection"),
            )
        } else {
            Raw::Sqlite(
                sqlx::sqlite::SqliteConnectOptions::from_str(&format!(
                    "sqlite://{}",
                    path.display()
                ))
                .expect("URL")
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .log_statements(tracing::log::LevelFilter::Off)
                .connect()
                .await
                .expect("raw connection"),
            )
        })
    } else {
        None
    };
    let n = rows();
    let mut items: Vec<Item> = (0..n)
        .map(|i| Item {
            id: None,
            name: format!("item {i}"),
            n: i as i64,
        })
        .collect();
    let before = status_kb("VmRSS");
    let start = std::time::Instant::now();
    match side {
        "orm" => {
            let mut s = sessions.session();
            s.add_all(&mut items).await.expect("add_all");
            s.commit().await.expect("commit");
            assert!(items.iter().all(|i| i.id.is_some()));
            drop(s);
        }
        "core" => {
            let mut conn = engine.connect().await.expect("connect");
            let sets = items.iter().map(|it| {
                [
                    ("name", Value::from(it.name.clone())),
                    ("n", Value::from(it.n)),
                ]
            });
            let done = conn
                .executemany(&insert(&t), sets)
                .await
                .expect("executemany");
            conn.commit().await.expect("commit");
            assert_eq!(done.rows_affected(), n as u64);
        }
        "sqlx" | "sqlx-ids" => {
            let raw = raw.as_mut().expect("raw connection");
            raw.bulk(&name, &mut items, side == "sqlx-ids").await;
        }
        other => panic!("unknown side {other}"),
    }
    let secs = start.elapsed().as_secs_f64();
    let peak = status_kb("VmHWM");
    let mut conn = engine.connect().await.expect("connect");
    let count = conn
        .execute(&persistence::dialects::text(&format!(
            "SELECT COUNT(*) FROM {name}"
        )))
        .await
        .expect("count")
        .scalar();
    assert_eq!(count, Some(Value::from(n as i64)));
    conn.execute(&persistence::dialects::text(&format!("DROP TABLE {name}")))
        .await
        .expect("drop");
    conn.commit().await.expect("commit");
    drop(conn);
    engine.dispose().await;
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(path.with_extension("db-wal"));
    let _ = std::fs::remove_file(path.with_extension("db-shm"));
    println!("before={before}\npeak={peak}\nsecs={secs}");
}

/// One bare sqlx connection.
enum Raw {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

/// `INSERT INTO table (name, n) VALUES` `rows` pairs, `RETURNING id` when asked.
fn insert_sql(pg: bool, table: &str, rows: usize, returning: bool) -> String {
    let mut sql = format!("INSERT INTO {table} (name, n) VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        if pg {
            sql.push_str(&format!("(${}, ${})", 2 * r + 1, 2 * r + 2));
        } else {
            sql.push_str("(?, ?)");
        }
    }
    if returning {
        sql.push_str(" RETURNING id");
    }
    sql
}

impl Raw {
    /// Multi-row INSERTs of `CHUNK` rows in one transaction; with `ids`
    /// the generated keys are read back into the items.
    async fn bulk(&mut self, table: &str, items: &mut [Item], ids: bool) {
        let pg = matches!(self, Raw::Postgres(_));
        macro_rules! on {
            ($c:ident) => {{
                $c.execute("BEGIN").await.expect("begin");
                for part in items.chunks_mut(CHUNK) {
                    let sql = insert_sql(pg, table, part.len(), ids);
                    if ids {
                        let mut q = sqlx::query_as::<_, (i64,)>(&sql);
                        for it in part.iter() {
                            q = q.bind(&it.name).bind(it.n);
                        }
                        let got = q.fetch_all(&mut *$c).await.expect("insert");
                        for (it, (id,)) in part.iter_mut().zip(got) {
                            it.id = Some(id);
                        }
                    } else {
                        let mut q = sqlx::query(&sql);
                        for it in part.iter() {
                            q = q.bind(&it.name).bind(it.n);
                        }
                        q.execute(&mut *$c).await.expect("insert");
                    }
                }
                $c.execute("COMMIT").await.expect("commit");
            }};
        }
        match self {
            Raw::Sqlite(c) => on!(c),
            Raw::Postgres(c) => on!(c),
        }
    }
}
