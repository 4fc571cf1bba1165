//! Connection pools on every backend: concurrency, timeouts, killed and
//! cancelled connections, and one engine shared by several runtimes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use persistence::dialects::{insert, select, text, Column, MetaData, SqlType, Table};
use persistence::{Engine, EngineOptions, Error, PoolKind, SchemaExt};
use tests::{on_all_backends, TestBackend, TestDb};

fn queue(size: usize) -> EngineOptions {
    EngineOptions::default()
        .pool(PoolKind::Queue)
        .pool_size(size)
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(20))
}

async fn select_one(engine: &Engine) -> Result<i64, Error> {
    let mut conn = engine.connect().await?;
    let v = conn.execute(&text("SELECT 1 + 1 AS two")).await?.scalar();
    // Closed rather than dropped: its (read-only) transaction is rolled
    // back here, so the connection is back in the pool on return.
    conn.close().await?;
    Ok(v.and_then(|v| v.as_i64()).unwrap_or(0))
}

fn counter() -> (MetaData, Table) {
    let mut metadata = MetaData::new();
    let t = metadata.add(
        Table::new("item")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("name", SqlType::string(64)).not_null()),
    );
    (metadata, t)
}

async fn count(engine: &Engine, t: &Table) -> i64 {
    let mut conn = engine.connect().await.unwrap();
    let n = conn
        .execute(&select((persistence::dialects::func::count_star(),)).select_from(t))
        .await
        .unwrap()
        .scalar()
        .unwrap();
    conn.close().await.unwrap();
    n.as_i64().unwrap()
}

async fn two_hundred_tasks_on_five_connections(db: TestDb) {
    let db = TestDb::with_options(db.backend, "pool_200", queue(5)).await;
    let engine = db.engine.clone();
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            let two = select_one(&engine).await.unwrap();
            assert_eq!(two, 2);
            let status = engine.pool_status();
            assert!(status.size <= 5, "pool grew past its maximum: {status:?}");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let status = engine.pool_status();
    assert_eq!(status.in_use, 0, "{status:?}");
    assert_eq!(status.waiting, 0, "{status:?}");
    assert!(status.size <= 5 && status.idle == status.size, "{status:?}");
    db.close().await;
}

async fn acquire_past_timeout_is_pool_timeout(db: TestDb) {
    let options = queue(1).acquire_timeout(Duration::from_millis(200));
    let db = TestDb::with_options(db.backend, "pool_timeout", options).await;
    let held = db.engine.connect().await.unwrap();
    let err = db.engine.connect().await.unwrap_err();
    assert!(matches!(err, Error::PoolTimeout), "{err:?}");
    assert_eq!(db.engine.pool_status().waiting, 0);
    drop(held);
    // The connection is back: the next checkout gets it at once.
    assert_eq!(select_one(&db.engine).await.unwrap(), 2);
    assert_eq!(db.engine.pool_status().in_use, 0);
    db.close().await;
}

async fn cancelled_transaction_leaves_no_rows(db: TestDb) {
    let (metadata, t) = counter();
    let mut options = queue(1);
    if db.backend == TestBackend::Sqlite {
        options = options.pool(PoolKind::Auto);
    }
    let db = TestDb::with_options(db.backend, "pool_cancel", options).await;
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    drop(conn);

    // A task opens a transaction, inserts, then waits; it is cancelled.
    let engine = db.engine.clone();
    let table = t.clone();
    let cancelled = tokio::time::timeout(Duration::from_millis(200), async move {
        let mut tx = engine.begin().await.unwrap();
        tx.execute(&insert(&table).values([("name", "ghost")]))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        tx.commit().await.unwrap();
    })
    .await;
    assert!(cancelled.is_err(), "the future should have been cancelled");
    assert_eq!(count(&db.engine, &t).await, 0);

    // Cancelled in the middle of a statement: the connection is discarded.
    let engine = db.engine.clone();
    let table = t.clone();
    let _ = tokio::time::timeout(Duration::from_millis(1), async move {
        let mut tx = engine.begin().await.unwrap();
        let rows: Vec<[&str; 1]> = (0..2000).map(|_| ["bulk"]).collect();
        tx.execute(&insert(&table).rows(["name"], rows))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    })
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        count(&db.engine, &t).await % 2000,
        0,
        "a half-written batch is visible"
    );
    let mut conn = db.engine.connect().await.unwrap();
    assert!(!conn.in_transaction());
    conn.execute(&insert(&t).values([("name", "real")]))
        .await
        .unwrap();
    conn.commit().await.unwrap();
    drop(conn);
    let status = db.engine.pool_status();
    assert_eq!(status.in_use, 0, "{status:?}");
    let mut conn = db.engine.connect().await.unwrap();
    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

on_all_backends!(
    two_hundred_tasks_on_five_connections,
    acquire_past_timeout_is_pool_timeout,
    cancelled_transaction_leaves_no_rows
);

/// The server-side id of the session a connection holds.
async fn session_id(engine: &Engine) -> i64 {
    let sql = match engine.backend() {
        persistence::Backend::Postgres => "SELECT pg_backend_pid()",
        _ => "SELECT CONNECTION_ID()",
    };
    let mut conn = engine.connect().await.unwrap();
    let id = conn
        .execute(&text(sql))
        .await
        .unwrap()
        .scalar()
        .unwrap()
        .as_i64()
        .unwrap();
    conn.close().await.unwrap();
    id
}

async fn kill(admin: &Engine, id: i64) {
    let sql = match admin.backend() {
        persistence::Backend::Postgres => format!("SELECT pg_terminate_backend({id})"),
        _ => format!("KILL {id}"),
    };
    let mut conn = admin.connect().await.unwrap();
    conn.execute(&text(&sql)).await.unwrap();
    conn.close().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn killed_connection_is_discarded(backend: TestBackend) {
    // With pre-ping on every checkout: the dead connection is never handed out.
    let options = queue(1).pre_ping(true).pre_ping_after(Duration::ZERO);
    let db = TestDb::with_options(backend, "pool_killed", options).await;
    let admin = persistence::create_engine(&db.url).await.unwrap();
    let first = session_id(&db.engine).await;
    kill(&admin, first).await;
    let second = session_id(&db.engine).await;
    assert_ne!(first, second, "a new session replaces the killed one");

    // Without pre-ping: the first statement of the next checkout finds the
    // connection lost and runs again on a new one; nothing fails.
    let options = queue(1).pre_ping(false);
    let db2 = TestDb::with_options(backend, "pool_killed_noping", options).await;
    let first = session_id(&db2.engine).await;
    kill(&admin, first).await;
    let second = session_id(&db2.engine).await;
    assert_ne!(first, second, "a new session replaces the killed one");
    assert_eq!(db2.engine.pool_status().size, 1);

    // Killed in the middle of a transaction: the next statement fails as a
    // lost connection (nothing is run twice), the connection is dropped
    // from the pool, and the next checkout gets a new one.
    let mut conn = db2.engine.connect().await.unwrap();
    let tx = conn.begin().await.unwrap();
    kill(&admin, second).await;
    let mut tx = tx;
    let err = tx.execute(&text("SELECT 1 + 1 AS two")).await.unwrap_err();
    assert_eq!(
        err.kind(),
        Some(persistence::ErrorKind::Operational),
        "{err:?}"
    );
    assert!(err.connection_invalidated(), "{err:?}");
    assert!(err.is_retryable(), "{err:?}");
    drop(tx);
    drop(conn);
    assert_eq!(select_one(&db2.engine).await.unwrap(), 2);
    assert_eq!(db2.engine.pool_status().size, 1);
    admin.dispose().await;
    db2.close().await;
    db.close().await;
}

mod killed_connection {
    #[tokio::test]
    async fn postgres() {
        super::killed_connection_is_discarded(tests::TestBackend::Postgres).await;
    }
    #[tokio::test]
    async fn mysql() {
        super::killed_connection_is_discarded(tests::TestBackend::MySql).await;
    }
}

/// One engine, several tokio runtimes one after the other (as when tests
/// each run on their own runtime and share a global engine).
fn several_runtimes(backend: TestBackend, kind: PoolKind) -> Vec<Result<i64, Error>> {
    let setup = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = setup.block_on(TestDb::with_options(
        backend,
        "pool_runtimes",
        queue(2).pool(kind),
    ));
    // Each runtime ends before the next starts, as tests that each run on
    // their own runtime do.
    drop(setup);
    let engine = db.engine.clone();
    let mut results = Vec::new();
    for _ in 0..3 {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        results.push(rt.block_on(select_one(&engine)));
        drop(rt);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(db.close());
    results
}

mod several_runtimes {
    use persistence::PoolKind;
    use tests::TestBackend;

    #[test]
    fn null_pool_works_on_every_runtime_postgres() {
        for r in super::several_runtimes(TestBackend::Postgres, PoolKind::Null) {
            assert_eq!(r.unwrap(), 2);
        }
    }

    #[test]
    fn null_pool_works_on_every_runtime_mysql() {
        for r in super::several_runtimes(TestBackend::MySql, PoolKind::Null) {
            assert_eq!(r.unwrap(), 2);
        }
    }

    #[test]
    fn null_pool_works_on_every_runtime_sqlite() {
        for r in super::several_runtimes(TestBackend::Sqlite, PoolKind::Null) {
            assert_eq!(r.unwrap(), 2);
        }
    }

    /// The queue pool notices that the runtime which opened a pooled
    /// connection has shut down (its socket would wait forever on another
    /// runtime: the Rust face of "attached to a different loop"), drops
    /// that connection and opens a new one.
    #[test]
    fn queue_pool_replaces_connections_of_a_finished_runtime_postgres() {
        for r in super::several_runtimes(TestBackend::Postgres, PoolKind::Queue) {
            assert_eq!(r.unwrap(), 2);
        }
    }

    #[test]
    fn queue_pool_replaces_connections_of_a_finished_runtime_mysql() {
        for r in super::several_runtimes(TestBackend::MySql, PoolKind::Queue) {
            assert_eq!(r.unwrap(), 2);
        }
    }

    /// SQLite connections live on their own threads, so the queue pool can
    /// keep them across runtimes.
    #[test]
    fn queue_pool_keeps_sqlite_connections_across_runtimes() {
        for r in super::several_runtimes(TestBackend::Sqlite, PoolKind::Queue) {
            assert_eq!(r.unwrap(), 2);
        }
    }
}

/// In-memory SQLite gets the static pool: one connection every checkout
/// shares, so what one checkout writes the next one reads.
#[tokio::test]
async fn static_pool_shares_one_in_memory_database() {
    let db = TestDb::new(TestBackend::Sqlite, "static_pool").await;
    assert_eq!(db.engine.pool_kind(), PoolKind::Static);
    let (metadata, t) = counter();
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    conn.execute(&insert(&t).values([("name", "kept")]))
        .await
        .unwrap();
    conn.commit().await.unwrap();
    drop(conn);
    assert_eq!(count(&db.engine, &t).await, 1);
    let status = db.engine.pool_status();
    assert_eq!((status.size, status.idle, status.in_use), (1, 1, 0));
    db.close().await;
}

/// With `recycle`, a connection older than the limit is replaced.
async fn recycle_replaces_old_connections(backend: TestBackend) {
    let options = queue(1).recycle(Some(Duration::from_millis(50)));
    let db = TestDb::with_options(backend, "pool_recycle", options).await;
    let first = session_id(&db.engine).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = session_id(&db.engine).await;
    assert_ne!(first, second);
    db.close().await;
}

mod recycle {
    #[tokio::test]
    async fn postgres() {
        super::recycle_replaces_old_connections(tests::TestBackend::Postgres).await;
    }
    #[tokio::test]
    async fn mysql() {
        super::recycle_replaces_old_connections(tests::TestBackend::MySql).await;
    }
}
