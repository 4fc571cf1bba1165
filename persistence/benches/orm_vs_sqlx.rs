//! The ORM against raw sqlx, same database, same run (a plain timing
//! harness: each case runs `BENCH_ROUNDS` (5) times and the median is reported).
//!
//! * `select_10k`: 10,000 rows into structs through
//!   `session.scalars(orm::select::<Item>())` vs `sqlx::query_as` into
//!   tuples then structs, on one connection;
//! * `get_10k`: 10,000 `session.get::<Item>(id)` (distinct ids, a fresh
//!   session each round, so every get is an identity-map miss and one
//!   SELECT) vs `query_as(...).bind(id).fetch_one` on a bare connection;
//! * `insert_100k`: 100,000 new objects through `add_all` + `commit`
//!   (batched multi-row INSERTs, the generated ids read back: RETURNING,
//!   or on SQLite the rowids) vs raw sqlx multi-row INSERTs of the same
//!   size in one transaction, and, on PostgreSQL, vs
//!   `INSERT ... SELECT * FROM UNNEST($1, $2)` (raw connections are opened
//!   before the clock starts).
//!
//! What a round returns (the objects, the session with its identity map)
//! is dropped after the clock stops, as the raw side's results are.
//!
//! SQLite runs on a temporary file; PostgreSQL on `TEST_POSTGRES_URL`
//! (skipped, with a line saying so, when it is unset).
//!
//! `cargo bench -p persistence --bench orm_vs_sqlx`
//!
//! Both sides share the machine with the server, so thread placement moves
//! the ratios on a small VM by more than the code does. For stable figures
//! run the benchmark on one CPU and the PostgreSQL server on another, e.g.
//! `taskset -a -p 1 <postmaster pid>` then `taskset -c 1 <bench binary>`.
//!
//! For profiling (e.g. under `valgrind --tool=callgrind`), the environment
//! narrows a run: `BENCH_BACKENDS=SQLite,PostgreSQL`,
//! `BENCH_CASES=select_10k,get_10k,insert_100k`, `BENCH_SIDES=orm,sqlx`
//! (each a comma-separated list; unset means all) and `BENCH_ROUNDS=n`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::{median, report, reset, wanted, Layout, Raw};
use persistence::dialects::{Column, SqlType, Table};
use persistence::orm::{self, Mappers, Registry, SessionMaker};
use persistence::{create_engine, mapping};
use sqlx::{Connection as _, Executor as _};

/// Rounds per case (`BENCH_ROUNDS`, default 5).
fn rounds() -> usize {
    common::rounds(5)
}

/// The widths of the case and raw-side columns of the report.
const LAYOUT: Layout = Layout { case: 12, raw: 16 };

/// Whether this side of this case runs.
fn runs(case: &str, side: &str) -> bool {
    wanted("BENCH_CASES", case) && wanted("BENCH_SIDES", side)
}

#[derive(Debug, Clone)]
struct Item {
    id: Option<i64>,
    name: String,
    n: i64,
}

fn mappers() -> Mappers {
    let mut r = Registry::new();
    let t = Table::new("bench_item")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("name", SqlType::string(64)).not_null())
        .column(Column::new("n", SqlType::BigInteger).not_null());
    r.map_imperatively(
        &t,
        mapping!(Item { id: Option<i64> = "id", name: String = "name", n: i64 = "n" }),
    )
    .finish();
    r.configure().unwrap()
}

/// Raw sqlx, decoding into `Item`s.
impl Raw {
    async fn all(&mut self, sql: &str) -> Vec<Item> {
        let rows: Vec<(i64, String, i64)> = match self {
            Raw::Sqlite(c) => sqlx::query_as(sql).fetch_all(c).await.unwrap(),
            Raw::Postgres(c) => sqlx::query_as(sql).fetch_all(c).await.unwrap(),
        };
        rows.into_iter()
            .map(|(id, name, n)| Item {
                id: Some(id),
                name,
                n,
            })
            .collect()
    }

    async fn get(&mut self, sql: &str, id: i64) -> Item {
        let (id, name, n): (i64, String, i64) = match self {
            Raw::Sqlite(c) => sqlx::query_as(sql).bind(id).fetch_one(c).await.unwrap(),
            Raw::Postgres(c) => sqlx::query_as(sql).bind(id).fetch_one(c).await.unwrap(),
        };
        Item {
            id: Some(id),
            name,
            n,
        }
    }
}

/// The median time of `f`; what `f` returns (objects, the session) is
/// dropped after the clock stops, as the raw side's results are.
async fn time<F, Fut, T>(mut f: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut samples = Vec::new();
    for _ in 0..rounds() {
        let start = Instant::now();
        let kept = f().await;
        samples.push(start.elapsed());
        drop(kept);
    }
    median(samples)
}

async fn run(backend: &'static str, url: &str) {
    let engine = create_engine(url).await.unwrap();
    let m = mappers();
    reset(&engine, &m).await;
    let sessions = SessionMaker::new(engine.clone(), m.clone());
    let items: Vec<Item> = (0..10_000)
        .map(|i| Item {
            id: None,
            name: format!("item {i}"),
            n: i,
        })
        .collect();
    {
        let mut s = sessions.session();
        let mut items = items.clone();
        s.add_all(&mut items).await.unwrap();
        s.commit().await.unwrap();
    }
    let mut raw = Raw::connect(backend, url).await;

    // select_10k
    let orm_select = if runs("select_10k", "orm") {
        time(|| {
            let sessions = sessions.clone();
            async move {
                let mut s = sessions.session();
                let all = s.scalars(orm::select::<Item>()).await.unwrap().all();
                assert_eq!(all.len(), 10_000);
                s.commit().await.unwrap();
                (s, all)
            }
        })
        .await
    } else {
        None
    };
    let sql = "SELECT bench_item.id, bench_item.name, bench_item.n FROM bench_item";
    let raw_select = if runs("select_10k", "sqlx") {
        let mut samples = Vec::new();
        for _ in 0..rounds() {
            let start = Instant::now();
            let all = raw.all(sql).await;
            assert_eq!(all.len(), 10_000);
            samples.push(start.elapsed());
        }
        median(samples)
    } else {
        None
    };
    if wanted("BENCH_CASES", "select_10k") {
        report(
            &LAYOUT,
            backend,
            "select_10k",
            orm_select,
            "sqlx query_as",
            raw_select,
        );
    }

    // get_10k
    let ids: Vec<i64> = raw
        .all(sql)
        .await
        .into_iter()
        .filter_map(|i| i.id)
        .collect();
    let orm_get = if runs("get_10k", "orm") {
        time(|| {
            let sessions = sessions.clone();
            let ids = ids.clone();
            async move {
                let mut s = sessions.session();
                for id in ids {
                    let item: Item = s.get(id).await.unwrap().unwrap();
                    std::hint::black_box(item);
                }
                s.commit().await.unwrap();
                s
            }
        })
        .await
    } else {
        None
    };
    let get_sql = if backend == "SQLite" {
        "SELECT bench_item.id, bench_item.name, bench_item.n FROM bench_item WHERE bench_item.id = ?"
    } else {
        "SELECT bench_item.id, bench_item.name, bench_item.n FROM bench_item WHERE bench_item.id = $1"
    };
    // In a transaction, as the session's gets are.
    let raw_get = if runs("get_10k", "sqlx") {
        let mut samples = Vec::new();
        for _ in 0..rounds() {
            let start = Instant::now();
            raw.exec("BEGIN").await;
            for &id in &ids {
                std::hint::black_box(raw.get(get_sql, id).await);
            }
            raw.exec("COMMIT").await;
            samples.push(start.elapsed());
        }
        median(samples)
    } else {
        None
    };
    if wanted("BENCH_CASES", "get_10k") {
        report(
            &LAYOUT,
            backend,
            "get_10k",
            orm_get,
            "sqlx fetch_one",
            raw_get,
        );
    }

    // insert_100k
    if !wanted("BENCH_CASES", "insert_100k") {
        engine.dispose().await;
        return;
    }
    let big: Vec<Item> = (0..100_000)
        .map(|i| Item {
            id: None,
            name: format!("bulk {i}"),
            n: i,
        })
        .collect();
    let insert_rounds = rounds().min(3);
    let mut orm_samples = Vec::new();
    let mut raw_samples = Vec::new();
    let mut unnest_samples = Vec::new();
    for _ in 0..insert_rounds {
        if runs("insert_100k", "orm") {
            reset(&engine, &m).await;
            // New objects each round (`add_all` writes their ids back).
            let mut batch = big.clone();
            let start = Instant::now();
            let mut s = sessions.session();
            s.add_all(&mut batch).await.unwrap();
            s.commit().await.unwrap();
            orm_samples.push(start.elapsed());
        }
        if !runs("insert_100k", "sqlx") {
            continue;
        }
        reset(&engine, &m).await;
        let chunk = 10_000;
        // Connected before the clock starts (the session's connection is
        // pooled), closed after it stops.
        let mut raw = Raw::connect(backend, url).await;
        let start = Instant::now();
        match &mut raw {
            Raw::Sqlite(c) => {
                let mut tx = c.begin().await.unwrap();
                for part in big.chunks(chunk) {
                    let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                        "INSERT INTO bench_item (name, n) ",
                    );
                    qb.push_values(part, |mut b, it| {
                        b.push_bind(&it.name).push_bind(it.n);
                    });
                    tx.execute(qb.build()).await.unwrap();
                }
                tx.commit().await.unwrap();
            }
            Raw::Postgres(c) => {
                let mut tx = c.begin().await.unwrap();
                for part in big.chunks(chunk) {
                    let mut qb = sqlx::QueryBuilder::<sqlx::Postgres>::new(
                        "INSERT INTO bench_item (name, n) ",
                    );
                    qb.push_values(part, |mut b, it| {
                        b.push_bind(&it.name).push_bind(it.n);
                    });
                    tx.execute(qb.build()).await.unwrap();
                }
                tx.commit().await.unwrap();
            }
        }
        raw_samples.push(start.elapsed());
        drop(raw);
        if backend != "SQLite" {
            reset(&engine, &m).await;
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            let start = Instant::now();
            let names: Vec<String> = big.iter().map(|i| i.name.clone()).collect();
            let ns: Vec<i64> = big.iter().map(|i| i.n).collect();
            sqlx::query(
                "INSERT INTO bench_item (name, n) SELECT * FROM UNNEST($1::text[], $2::bigint[])",
            )
            .bind(&names)
            .bind(&ns)
            .execute(&mut c)
            .await
            .unwrap();
            unnest_samples.push(start.elapsed());
        }
    }
    let orm_insert = median(orm_samples);
    report(
        &LAYOUT,
        backend,
        "insert_100k",
        orm_insert,
        "sqlx VALUES",
        median(raw_samples),
    );
    if backend != "SQLite" {
        report(
            &LAYOUT,
            backend,
            "insert_100k",
            orm_insert,
            "sqlx UNNEST",
            median(unnest_samples),
        );
    }
    engine.dispose().await;
}

fn main() {
    common::run_backends("orm_bench", |backend, url| async move {
        run(backend, &url).await
    });
}
