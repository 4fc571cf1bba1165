//! Cancellation, stressed: on every backend, at least 10,000 operations
//! are dropped at random points (waiting for a connection, mid-statement,
//! mid-stream, mid-flush, with COMMIT in flight), and after each one the
//! next connection handed out is checked, on the server, not to be inside
//! a transaction. Nothing may hang, no checkout may be dirty, and no
//! transaction may be half-written: its rows are all there (it committed)
//! or none are (it did not; a COMMIT cancelled in flight may go either
//! way, never half).
//!
//! Bounded: it stops after `CANCEL_COUNT` cancellations (10,000 by
//! default) and fails if that takes longer than `CANCEL_SECONDS` (150 by
//! default); `CANCEL_SEED` replays a run (the seed is printed).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use persistence::dialects::{insert, select, text, Column, MetaData, SqlType, Table, Value};
use persistence::orm::{Registry, SessionMaker};
use persistence::{mapping, Connection, Engine, EngineOptions, Error, PoolKind, SchemaExt};
use tests::{TestBackend, TestDb};

/// How far an operation got before it was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// It had not begun to commit: nothing of it may be stored.
    Open,
    /// COMMIT was in flight: all of it or nothing may be stored.
    Committing,
    /// It committed: all of it is stored.
    Committed,
}

/// The rows a transactional operation writes, and how many.
#[derive(Clone, Copy, Debug)]
struct Written {
    stage: Stage,
    rows: i64,
}

#[derive(Debug, Clone, PartialEq)]
struct Item {
    id: Option<i64>,
    tag: i64,
    kind: String,
}

fn table() -> Table {
    Table::new("item")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("tag", SqlType::BigInteger).not_null())
        .column(Column::new("kind", SqlType::string(16)).not_null())
}

fn sessions(engine: &Engine) -> SessionMaker {
    let mut registry = Registry::new();
    registry
        .map_imperatively(
            &table(),
            mapping!(Item {
                id: Option<i64> = "id",
                tag: i64 = "tag",
                kind: String = "kind",
            }),
        )
        .finish();
    SessionMaker::new(engine.clone(), registry.configure().unwrap())
}

/// A small, seedable random source (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Yields to the runtime `n` times (each lets the I/O driver run once).
async fn yields(n: u64) {
    for _ in 0..n {
        tokio::task::yield_now().await;
    }
}

/// A transaction of an insert and an update, committed.
async fn op_transaction(engine: &Engine, tag: i64, stage: &Cell<Stage>) -> Result<(), Error> {
    let t = table();
    let mut conn = engine.connect().await?;
    // Statements commit on their own (no autobegin), as this test expects.
    conn.set_autocommit(true);
    let mut tx = conn.begin().await?;
    tx.execute(&insert(&t).values([("tag", Value::BigInt(tag)), ("kind", "tx".into())]))
        .await?;
    tx.execute(&text("UPDATE item SET kind = 'tx2' WHERE tag = :tag").bind("tag", tag))
        .await?;
    stage.set(Stage::Committing);
    tx.commit().await?;
    stage.set(Stage::Committed);
    Ok(())
}

/// A transaction with a savepoint rolled back and one released.
async fn op_savepoints(engine: &Engine, tag: i64, stage: &Cell<Stage>) -> Result<(), Error> {
    let t = table();
    let mut conn = engine.connect().await?;
    // Statements commit on their own (no autobegin), as this test expects.
    conn.set_autocommit(true);
    let mut tx = conn.begin().await?;
    {
        let mut sp = tx.begin_nested().await?;
        sp.execute(&insert(&t).values([("tag", Value::BigInt(tag)), ("kind", "gone".into())]))
            .await?;
        sp.rollback().await?;
    }
    {
        let mut sp = tx.begin_nested().await?;
        sp.execute(&insert(&t).values([("tag", Value::BigInt(tag)), ("kind", "sp".into())]))
            .await?;
        sp.commit().await?;
    }
    stage.set(Stage::Committing);
    tx.commit().await?;
    stage.set(Stage::Committed);
    Ok(())
}

/// An ORM flush of twenty objects, committed.
async fn op_flush(sessions: &SessionMaker, tag: i64, stage: &Cell<Stage>) -> Result<(), Error> {
    let mut session = sessions.session();
    let mut items: Vec<Item> = (0..20)
        .map(|_| Item {
            id: None,
            tag,
            kind: "orm".into(),
        })
        .collect();
    // Keyless rows: `add_all` flushes them at once (the keys come back).
    session.add_all(items.iter_mut()).await?;
    session.flush().await?;
    stage.set(Stage::Committing);
    session.commit().await?;
    stage.set(Stage::Committed);
    Ok(())
}

/// A statement outside any transaction.
async fn op_autocommit(engine: &Engine, tag: i64) -> Result<(), Error> {
    let mut conn = engine.connect().await?;
    // Statements commit on their own (no autobegin), as this test expects.
    conn.set_autocommit(true);
    conn.execute(&insert(&table()).values([("tag", Value::BigInt(tag)), ("kind", "auto".into())]))
        .await?;
    Ok(())
}

/// A few rows of a streamed query, the stream then dropped.
async fn op_stream(engine: &Engine) -> Result<(), Error> {
    let t = table();
    let mut conn = engine.connect().await?;
    // Statements commit on their own (no autobegin), as this test expects.
    conn.set_autocommit(true);
    let query = select(&t).limit(100);
    let mut rows = conn.stream(&query);
    for _ in 0..5 {
        match rows.next().await {
            Some(r) => {
                r?;
            }
            None => break,
        }
    }
    Ok(())
}

/// Whether `conn` is outside any transaction, as the server sees it.
async fn clean(conn: &mut Connection, backend: TestBackend) -> Result<bool, Error> {
    if conn.in_transaction() {
        return Ok(false);
    }
    // The probes must not begin a transaction of their own.
    conn.set_autocommit(true);
    Ok(match backend {
        // SAVEPOINT fails outside a transaction block (25P01).
        TestBackend::Postgres => match conn.execute(&text("SAVEPOINT probe")).await {
            Ok(_) => false,
            Err(Error::Database { code, .. }) if code.as_deref() == Some("25P01") => true,
            Err(e) => return Err(e),
        },
        TestBackend::MySql => {
            conn.execute(&text("SELECT @@in_transaction"))
                .await?
                .scalar()
                .and_then(|v| v.as_i64())
                == Some(0)
        }
        // BEGIN fails inside a transaction.
        TestBackend::Sqlite => match conn.execute(&text("BEGIN")).await {
            Ok(_) => {
                conn.execute(&text("ROLLBACK")).await?;
                true
            }
            Err(e) if e.to_string().contains("within a transaction") => false,
            Err(e) => return Err(e),
        },
    })
}

#[derive(Default, Debug)]
struct Tally {
    cancelled: u64,
    completed: u64,
    failed: u64,
    checks: u64,
    dirty: Vec<String>,
    hangs: Vec<String>,
}

const HANG: Duration = Duration::from_secs(20);

/// Checks the next checkout (or, when `all`, every connection the pool
/// can hand out at once) for a transaction left open.
async fn check(engine: &Engine, backend: TestBackend, all: usize, tally: &mut Tally, what: &str) {
    let mut held = Vec::new();
    for _ in 0..all.max(1) {
        match tokio::time::timeout(HANG, engine.connect()).await {
            Err(_) => {
                tally.hangs.push(format!(
                    "checkout {} of {} after {what}: {:?}, {} tasks alive",
                    held.len() + 1,
                    all.max(1),
                    engine.pool_status(),
                    tokio::runtime::Handle::current()
                        .metrics()
                        .num_alive_tasks()
                ));
                return;
            }
            Ok(Err(e)) => panic!("checkout after {what}: {e}"),
            Ok(Ok(mut conn)) => {
                tally.checks += 1;
                match tokio::time::timeout(HANG, clean(&mut conn, backend)).await {
                    Err(_) => tally.hangs.push(format!("check after {what}")),
                    Ok(Ok(true)) => {}
                    Ok(Ok(false)) => tally.dirty.push(what.to_owned()),
                    Ok(Err(e)) => panic!("check after {what}: {e}"),
                }
                held.push(conn);
            }
        }
    }
}

/// Workers running at once.
const WORKERS: u64 = 5;

/// What the workers share.
struct Shared<'a> {
    engine: &'a Engine,
    sessions: &'a SessionMaker,
    backend: TestBackend,
    all: usize,
    target: u64,
    limit: Duration,
    seed: u64,
    start: Instant,
    tag: Cell<i64>,
    next_full_check: Cell<u64>,
    full_check: Cell<bool>,
    tally: RefCell<Tally>,
    written: RefCell<HashMap<i64, Written>>,
}

/// Runs random operations, dropping most of them part-way, and checks the
/// next checkout after each, until the shared count is reached.
async fn worker(shared: &Shared<'_>, mut rng: Rng) {
    let (engine, backend, seed) = (shared.engine, shared.backend, shared.seed);
    while shared.tally.borrow().cancelled < shared.target {
        assert!(
            shared.start.elapsed() < shared.limit,
            "{backend:?}: only {} of {} cancellations in {:?} (seed {seed}): {:?}",
            shared.tally.borrow().cancelled,
            shared.target,
            shared.limit,
            shared.tally.borrow()
        );
        let tag = shared.tag.get() + 1;
        shared.tag.set(tag);
        let choice = rng.below(10);
        let stage = Cell::new(Stage::Open);
        // Most cancellations land early (one to a few round trips in),
        // some late; a few operations run to the end.
        let after = match rng.below(8) {
            0 => 0,
            1..=4 => rng.below(12),
            5 | 6 => rng.below(60),
            _ => 10_000,
        };
        let rows = match choice {
            0..=4 => 1,
            5 | 6 => 20,
            _ => 0,
        };
        let op = async {
            match choice {
                0..=2 => op_transaction(engine, tag, &stage).await,
                3 | 4 => op_savepoints(engine, tag, &stage).await,
                5 | 6 => op_flush(shared.sessions, tag, &stage).await,
                7 | 8 => op_autocommit(engine, tag).await,
                _ => op_stream(engine).await,
            }
        };
        let outcome = tokio::time::timeout(HANG, async {
            tokio::select! {
                biased;
                r = op => Some(r),
                () = yields(after) => None,
            }
        })
        .await;
        let what = format!("operation {choice} cancelled after {after} yields (tag {tag})");
        let cancelled = {
            let mut tally = shared.tally.borrow_mut();
            match outcome {
                Err(_) => tally.hangs.push(what.clone()),
                Ok(None) => tally.cancelled += 1,
                Ok(Some(Ok(()))) => tally.completed += 1,
                Ok(Some(Err(e))) => {
                    tally.failed += 1;
                    assert!(
                        e.is_retryable(),
                        "{backend:?}: {what} failed with a non-retryable error: {e}"
                    );
                }
            }
            tally.cancelled
        };
        if rows > 0 {
            shared.written.borrow_mut().insert(
                tag,
                Written {
                    stage: stage.get(),
                    rows,
                },
            );
        }
        // Every 250 cancellations, one worker checks every connection the
        // pool can hand out at once (two doing so together would each hold
        // some and wait for the rest).
        let every = if cancelled >= shared.next_full_check.get() && !shared.full_check.get() {
            shared.next_full_check.set(cancelled + 250);
            shared.full_check.set(true);
            shared.all
        } else {
            1
        };
        let mut found = Tally::default();
        check(engine, backend, every, &mut found, &what).await;
        if every > 1 {
            shared.full_check.set(false);
        }
        if !found.hangs.is_empty() {
            eprintln!("{}", server_sessions(backend).await);
        }
        let mut tally = shared.tally.borrow_mut();
        tally.checks += found.checks;
        tally.dirty.extend(found.dirty);
        tally.hangs.extend(found.hangs);
        assert!(
            tally.dirty.is_empty() && tally.hangs.is_empty(),
            "{backend:?} (seed {seed}): {tally:?}"
        );
    }
}

/// What the server's sessions are doing, for a failure's message.
async fn server_sessions(backend: TestBackend) -> String {
    let (var, sql) = match backend {
        TestBackend::Postgres => (
            "TEST_POSTGRES_URL",
            "SELECT pid || ' ' || coalesce(state, '') || ' ' || coalesce(wait_event_type, '') \
             || ' ' || coalesce(wait_event, '') || ' ' || left(coalesce(query, ''), 80) \
             FROM pg_stat_activity WHERE datname LIKE 't_pg_cancel%'",
        ),
        TestBackend::MySql => (
            "TEST_MYSQL_URL",
            "SELECT CONCAT(ID, ' ', COMMAND, ' ', TIME, ' ', COALESCE(STATE, ''), ' ', \
             LEFT(COALESCE(INFO, ''), 80)) FROM information_schema.PROCESSLIST \
             WHERE DB LIKE 't_my_cancel%'",
        ),
        TestBackend::Sqlite => return String::new(),
    };
    let admin = persistence::create_engine(&std::env::var(var).unwrap())
        .await
        .unwrap();
    let mut conn = admin.connect().await.unwrap();
    // Statements commit on their own (no autobegin), as this test expects.
    conn.set_autocommit(true);
    let rows = conn.execute(&text(sql)).await.unwrap();
    rows.all()
        .iter()
        .map(|r| r.value(0).unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn cancellation_stress(backend: TestBackend) {
    let target: u64 = std::env::var("CANCEL_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let limit = Duration::from_secs(
        std::env::var("CANCEL_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(150),
    );
    let seed: u64 = std::env::var("CANCEL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    eprintln!("{backend:?}: CANCEL_SEED={seed}");
    let max = 4;
    let options = match backend {
        // In-memory SQLite: its static pool, one connection.
        TestBackend::Sqlite => EngineOptions::default(),
        _ => EngineOptions::default()
            .pool(PoolKind::Queue)
            .pool_size(max)
            .max_connections(max),
    };
    let db = TestDb::with_options(backend, "cancel_stress", options).await;
    let engine = db.engine.clone();
    let all = if backend == TestBackend::Sqlite {
        1
    } else {
        max
    };
    let mut metadata = MetaData::new();
    metadata.add(table());
    {
        let mut conn = engine.connect().await.unwrap();
        // Statements commit on their own (no autobegin), as this test expects.
        conn.set_autocommit(true);
        metadata.create_all(&mut conn).await.unwrap();
    }
    let sessions = sessions(&engine);
    let shared = Shared {
        engine: &engine,
        sessions: &sessions,
        backend,
        all,
        target,
        limit,
        seed,
        start: Instant::now(),
        tag: Cell::new(0),
        next_full_check: Cell::new(0),
        full_check: Cell::new(false),
        tally: RefCell::new(Tally::default()),
        written: RefCell::new(HashMap::new()),
    };
    // Workers on this one task, interleaved at their awaits: they contend
    // for the pool, so some cancellations land while waiting for it.
    let workers = (0..WORKERS).map(|w| {
        worker(
            &shared,
            Rng(seed ^ (w + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        )
    });
    futures_util::future::join_all(workers).await;
    let tally = shared.tally.into_inner();
    let written = shared.written.into_inner();
    let start = shared.start;
    // Give settling connections back, then read what each transaction left.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut conn = engine.connect().await.unwrap();
    // Statements commit on their own (no autobegin), as this test expects.
    conn.set_autocommit(true);
    let stored = conn
        .execute(&text(
            "SELECT tag, count(*) FROM item WHERE kind <> 'auto' GROUP BY tag",
        ))
        .await
        .unwrap();
    let mut counts: HashMap<i64, i64> = HashMap::new();
    for row in stored.all() {
        counts.insert(
            row.value(0).unwrap().as_i64().unwrap(),
            row.value(1).unwrap().as_i64().unwrap(),
        );
    }
    let mut ambiguous = 0;
    for (tag, w) in &written {
        let n = counts.get(tag).copied().unwrap_or(0);
        match w.stage {
            Stage::Open => assert_eq!(n, 0, "{backend:?}: tag {tag} was never committed"),
            Stage::Committed => assert_eq!(n, w.rows, "{backend:?}: tag {tag} committed"),
            Stage::Committing => {
                ambiguous += 1;
                assert!(
                    n == 0 || n == w.rows,
                    "{backend:?}: tag {tag} half-written: {n}"
                );
            }
        }
    }
    conn.commit().await.unwrap();
    drop(conn);
    eprintln!(
        "{backend:?}: {} cancellations, {} completed, {} failed (retryable), {} checks, \
         {ambiguous} COMMITs cancelled in flight, in {:?}",
        tally.cancelled,
        tally.completed,
        tally.failed,
        tally.checks,
        start.elapsed()
    );
    assert!(tally.cancelled >= target);
    db.close().await;
}

#[tokio::test]
async fn stress_sqlite() {
    cancellation_stress(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn stress_postgres() {
    cancellation_stress(TestBackend::Postgres).await;
}

#[tokio::test]
async fn stress_mysql() {
    cancellation_stress(TestBackend::MySql).await;
}
