//! The engine against raw sqlx, on the same database in the same run:
//!
//! * `select_10k/*`: 10,000 rows (`id INTEGER, name VARCHAR, n BIGINT`)
//!   into engine [`Row`](persistence::Row)s (`execute(..).all()`), into
//!   tuples (`.all_as::<(i32, String, i64)>()`), and raw sqlx's
//!   `query_as::<_, (i32, String, i64)>(..).fetch_all` on one bare
//!   connection;
//! * `get_by_pk/*`: one select by primary key with a bound id (ids cycle
//!   through the 10,000 rows), through the engine on one checked-out
//!   connection (statement built, compiled, run, `one()`, `into_tuple`)
//!   and through raw sqlx (`query_as(..).bind(id).fetch_one`) on a bare
//!   connection; reported per get and per loop of 10,000.
//!
//! SQLite runs on a temporary file; PostgreSQL on `TEST_POSTGRES_URL`
//! (skipped, with a line saying so, when it is unset). After criterion's
//! runs, interleaved rounds time every side of every case again in a
//! rotating order, so that both sides of a ratio see the same machine load;
//! a table then prints each case's engine time, raw sqlx time and their
//! ratio (medians of the rounds), with the ratio of criterion's medians
//! beside it.
//!
//! `cargo bench -p persistence --bench engine_vs_sqlx`

use std::collections::BTreeMap;
use std::hint::black_box;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};
use persistence::dialects::{insert, select, Column, MetaData, Select, SqlType, Table, Value};
use persistence::{create_engine, Connection, Engine, SchemaExt};
use sqlx::{ConnectOptions, Connection as _};
use tokio::runtime::Runtime;

const ROWS: i64 = 10_000;
const SAMPLES: usize = 10;
const TABLE: &str = "bench_engine_vs_sqlx";

/// The raw sqlx side: one bare connection.
enum Raw {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Raw {
    async fn all(&mut self, sql: &str) -> Vec<(i32, String, i64)> {
        match self {
            Raw::Sqlite(c) => {
                sqlx::query_as::<_, (i32, String, i64)>(sql)
                    .fetch_all(c)
                    .await
            }
            Raw::Postgres(c) => sqlx::query_as(sql).fetch_all(c).await,
        }
        .expect("raw sqlx select")
    }

    async fn get(&mut self, sql: &str, id: i32) -> (i32, String, i64) {
        match self {
            Raw::Sqlite(c) => {
                sqlx::query_as::<_, (i32, String, i64)>(sql)
                    .bind(id)
                    .fetch_one(c)
                    .await
            }
            Raw::Postgres(c) => sqlx::query_as(sql).bind(id).fetch_one(c).await,
        }
        .expect("raw sqlx get")
    }

    async fn close(self) {
        let _ = match self {
            Raw::Sqlite(c) => c.close().await,
            Raw::Postgres(c) => c.close().await,
        };
    }
}

/// One backend under test.
struct Fixture {
    backend: &'static str,
    engine: Engine,
    metadata: MetaData,
    table: Table,
    raw: Raw,
    /// The raw select-all and get-by-id SQL, in the backend's placeholders.
    sql_all: String,
    sql_get: String,
}

fn table() -> (MetaData, Table) {
    let mut metadata = MetaData::new();
    let table = metadata.add(
        Table::new(TABLE)
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("name", SqlType::string(64)).not_null())
            .column(Column::new("n", SqlType::BigInteger).not_null()),
    );
    (metadata, table)
}

async fn fill(engine: &Engine, metadata: &MetaData, table: &Table) {
    let mut conn = engine.connect().await.expect("connect");
    metadata.drop_all(&mut conn).await.expect("drop_all");
    metadata.create_all(&mut conn).await.expect("create_all");
    let ids: Vec<i64> = (1..=ROWS).collect();
    let mut tx = conn.begin().await.expect("begin");
    for chunk in ids.chunks(1000) {
        let rows: Vec<[Value; 3]> = chunk
            .iter()
            .map(|&i| {
                [
                    Value::from(i32::try_from(i).expect("small id")),
                    Value::from(format!("name-{i}")),
                    Value::from(i * 1_000_003),
                ]
            })
            .collect();
        tx.execute(&insert(table).rows(["id", "name", "n"], rows))
            .await
            .expect("insert");
    }
    tx.commit().await.expect("commit");
}

async fn sqlite_fixture() -> Fixture {
    let path = std::env::temp_dir().join(format!("engine_vs_sqlx_{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}?mode=rwc", path.display());
    SQLITE_FILE.lock().expect("path").replace(path);
    let engine = create_engine(&url).await.expect("SQLite engine");
    let (metadata, table) = table();
    fill(&engine, &metadata, &table).await;
    let raw = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
        .expect("SQLite URL")
        .log_statements(log_off())
        .connect()
        .await
        .expect("raw SQLite connection");
    Fixture {
        backend: "sqlite",
        engine,
        metadata,
        table,
        raw: Raw::Sqlite(raw),
        sql_all: format!("SELECT id, name, n FROM {TABLE}"),
        sql_get: format!("SELECT id, name, n FROM {TABLE} WHERE id = ?"),
    }
}

async fn postgres_fixture(url: &str) -> Fixture {
    let engine = create_engine(url).await.expect("PostgreSQL engine");
    let (metadata, table) = table();
    fill(&engine, &metadata, &table).await;
    let raw = sqlx::postgres::PgConnectOptions::from_str(url)
        .expect("PostgreSQL URL")
        .log_statements(log_off())
        .connect()
        .await
        .expect("raw PostgreSQL connection");
    Fixture {
        backend: "postgres",
        engine,
        metadata,
        table,
        raw: Raw::Postgres(raw),
        sql_all: format!("SELECT id, name, n FROM {TABLE}"),
        sql_get: format!("SELECT id, name, n FROM {TABLE} WHERE id = $1"),
    }
}

/// The engine turns sqlx's statement logging off; so does the raw side.
fn log_off() -> tracing::log::LevelFilter {
    tracing::log::LevelFilter::Off
}

/// The temporary SQLite database, removed at the end.
static SQLITE_FILE: Mutex<Option<std::path::PathBuf>> = Mutex::new(None);

/// Nanoseconds per iteration of every criterion sample, per
/// `backend/case/side`.
static SAMPLES_NS: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());
/// Nanoseconds per iteration of every interleaved round, per
/// `backend/case/side`.
static ROUNDS_NS: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());

/// Interleaved rounds after criterion's runs: each round times every side
/// of every case once, in a rotating order, so that both sides of a ratio
/// see the same machine load (others compile on these machines).
const ROUNDS: usize = 15;

fn record(store: &Mutex<BTreeMap<String, Vec<f64>>>, key: &str, iters: u64, elapsed: Duration) {
    #[allow(clippy::cast_precision_loss)]
    let ns = elapsed.as_nanos() as f64 / iters.max(1) as f64;
    store
        .lock()
        .expect("samples")
        .entry(key.to_owned())
        .or_default()
        .push(ns);
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    })
}

/// The median time per iteration over criterion's samples (the last
/// `SAMPLES` calls; the ones before were warm-up).
fn criterion_median(key: &str) -> Option<f64> {
    let all = SAMPLES_NS.lock().expect("samples");
    let v = all.get(key)?;
    median(v[v.len().saturating_sub(SAMPLES)..].to_vec())
}

/// The median time per iteration over the interleaved rounds.
fn rounds_median(key: &str) -> Option<f64> {
    median(ROUNDS_NS.lock().expect("rounds").get(key)?.clone())
}

/// Times `iters` runs of `$body` (an expression that may `.await`) on the
/// runtime, records the time under `$key` and hands it to criterion.
macro_rules! timed {
    ($group:expr, $rt:expr, $key:expr, $name:expr, |$iters:ident| $body:expr) => {{
        let key = format!("{}/{}", $key, $name);
        $group.bench_function($name, |b| {
            b.iter_custom(|$iters| {
                let elapsed = $rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..$iters {
                        $body;
                    }
                    start.elapsed()
                });
                record(&SAMPLES_NS, &key, $iters, elapsed);
                elapsed
            })
        });
    }};
}

/// Times `$iters` runs of `$body` once, for the interleaved rounds.
macro_rules! round {
    ($rt:expr, $key:expr, $iters:expr, $body:expr) => {{
        let iters: u64 = $iters;
        let elapsed = $rt.block_on(async {
            let start = Instant::now();
            for _ in 0..iters {
                $body;
            }
            start.elapsed()
        });
        record(&ROUNDS_NS, &$key, iters, elapsed);
    }};
}

fn configure<'a>(c: &'a mut Criterion, name: String) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(SAMPLES)
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(3));
    group
}

/// (a): every row as an engine `Row`.
async fn engine_rows(conn: &mut Connection, all: &Select) {
    let out = conn.execute(all).await.expect("select").all();
    assert_eq!(out.len(), ROWS as usize);
    black_box(out);
}

/// (b): every row as a tuple, through the engine.
async fn engine_tuples(conn: &mut Connection, all: &Select) {
    let out = conn
        .execute(all)
        .await
        .expect("select")
        .all_as::<(i32, String, i64)>()
        .expect("tuples");
    assert_eq!(out.len(), ROWS as usize);
    black_box(out);
}

/// (a) and (b) in raw sqlx.
async fn sqlx_tuples(fx: &mut Fixture) {
    let out = fx.raw.all(&fx.sql_all).await;
    assert_eq!(out.len(), ROWS as usize);
    black_box(out);
}

/// The next id of the get-by-primary-key loop.
fn next_id(id: &mut i32) -> i32 {
    *id = *id % 10_000 + 1;
    *id
}

/// (c): one get by primary key through the engine: the statement is
/// built, compiled, run, and its one row turned into a tuple.
async fn engine_get(conn: &mut Connection, table: &Table, id: i32) {
    let stmt = select((table.c("id"), table.c("name"), table.c("n"))).where_(table.c("id").eq(id));
    let row: (i32, String, i64) = conn
        .execute(&stmt)
        .await
        .expect("get")
        .one()
        .expect("one row")
        .into_tuple()
        .expect("tuple");
    assert_eq!(row.0, id);
    black_box(row);
}

/// (c) in raw sqlx.
async fn sqlx_get(fx: &mut Fixture, id: i32) {
    let row = fx.raw.get(&fx.sql_get, id).await;
    assert_eq!(row.0, id);
    black_box(row);
}

fn bench_backend(c: &mut Criterion, rt: &Runtime, fx: &mut Fixture, conn: &mut Connection) {
    let all = select((fx.table.c("id"), fx.table.c("name"), fx.table.c("n")));
    let table = fx.table.clone();
    let b = fx.backend;

    let key = format!("{b}/select_10k");
    let mut group = configure(c, key.clone());
    timed!(group, rt, key, "engine_rows", |iters| engine_rows(
        conn, &all
    )
    .await);
    timed!(group, rt, key, "engine_tuples", |iters| engine_tuples(
        conn, &all
    )
    .await);
    timed!(group, rt, key, "sqlx_tuples", |iters| sqlx_tuples(fx).await);
    group.finish();

    let key = format!("{b}/get_by_pk");
    let mut group = configure(c, key.clone());
    let mut id = 0;
    timed!(group, rt, key, "engine", |iters| engine_get(
        conn,
        &table,
        next_id(&mut id)
    )
    .await);
    let mut id = 0;
    timed!(group, rt, key, "sqlx", |iters| sqlx_get(
        fx,
        next_id(&mut id)
    )
    .await);
    group.finish();

    println!("{b}: {ROUNDS} interleaved rounds ...");
    let (mut engine_id, mut sqlx_id) = (0, 0);
    for round in 0..ROUNDS {
        for step in 0..5 {
            match (round + step) % 5 {
                0 => round!(
                    rt,
                    format!("{b}/select_10k/engine_rows"),
                    3,
                    engine_rows(conn, &all).await
                ),
                1 => round!(
                    rt,
                    format!("{b}/select_10k/engine_tuples"),
                    3,
                    engine_tuples(conn, &all).await
                ),
                2 => round!(
                    rt,
                    format!("{b}/select_10k/sqlx_tuples"),
                    3,
                    sqlx_tuples(fx).await
                ),
                3 => round!(
                    rt,
                    format!("{b}/get_by_pk/engine"),
                    1000,
                    engine_get(conn, &table, next_id(&mut engine_id)).await
                ),
                _ => round!(
                    rt,
                    format!("{b}/get_by_pk/sqlx"),
                    1000,
                    sqlx_get(fx, next_id(&mut sqlx_id)).await
                ),
            }
        }
    }
}

fn run_backend(c: &mut Criterion, rt: &Runtime, mut fx: Fixture) {
    let mut conn = rt.block_on(fx.engine.connect()).expect("checkout");
    bench_backend(c, rt, &mut fx, &mut conn);
    rt.block_on(async {
        // End the reads' transaction, so that drop_all commits its own.
        conn.rollback().await.expect("rollback");
        fx.metadata.drop_all(&mut conn).await.expect("drop_all");
        drop(conn);
        fx.engine.dispose().await;
        fx.raw.close().await;
    });
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn summary(backends: &[&str]) {
    println!();
    println!(
        "engine vs raw sqlx: medians of {ROUNDS} interleaved rounds (engine, sqlx, ratio = engine / sqlx),"
    );
    println!("and the ratio of the medians of criterion's {SAMPLES} samples for comparison");
    println!(
        "{:<9} {:<31} {:>10} {:>10} {:>6} {:>10}",
        "backend", "case", "engine", "sqlx", "ratio", "criterion"
    );
    let cases: [(&str, &str, &str, f64); 4] = [
        (
            "(a) 10k rows -> Row",
            "select_10k/engine_rows",
            "select_10k/sqlx_tuples",
            1.0,
        ),
        (
            "(b) 10k rows -> tuple",
            "select_10k/engine_tuples",
            "select_10k/sqlx_tuples",
            1.0,
        ),
        (
            "(c) get by pk, per get",
            "get_by_pk/engine",
            "get_by_pk/sqlx",
            1.0,
        ),
        (
            "(c) get by pk, loop of 10,000",
            "get_by_pk/engine",
            "get_by_pk/sqlx",
            10_000.0,
        ),
    ];
    for backend in backends {
        for (label, engine, sqlx, times) in cases {
            let (engine, sqlx) = (format!("{backend}/{engine}"), format!("{backend}/{sqlx}"));
            let criterion = match (criterion_median(&engine), criterion_median(&sqlx)) {
                (Some(e), Some(s)) => format!("{:.2}", e / s),
                _ => "-".to_owned(),
            };
            if let (Some(e), Some(s)) = (rounds_median(&engine), rounds_median(&sqlx)) {
                println!(
                    "{:<9} {:<31} {:>10} {:>10} {:>6.2} {:>10}",
                    backend,
                    label,
                    fmt_ns(e * times),
                    fmt_ns(s * times),
                    e / s,
                    criterion
                );
            }
        }
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut c = Criterion::default().configure_from_args();
    let mut backends = vec!["sqlite"];

    let fx = rt.block_on(sqlite_fixture());
    run_backend(&mut c, &rt, fx);
    if let Some(path) = SQLITE_FILE.lock().expect("path").take() {
        let _ = std::fs::remove_file(path);
    }

    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            let fx = rt.block_on(postgres_fixture(&url));
            run_backend(&mut c, &rt, fx);
            backends.push("postgres");
        }
        _ => println!("TEST_POSTGRES_URL is not set: the PostgreSQL part is skipped"),
    }

    c.final_summary();
    summary(&backends);
}
