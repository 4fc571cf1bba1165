//! Failures a production service meets, on every backend: `BEGIN` /
//! `COMMIT` errors classified like any statement's (constraint violations
//! deferred to `COMMIT`, a backend terminated under a transaction),
//! serialization failures, deadlocks and busy databases retried by
//! `Engine::transaction_with_retry`, and a PostgreSQL server killed and
//! restarted under an engine's idle connections without a failed query.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/postgres_server.rs"]
mod postgres_server;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use persistence::dialects::text;
use persistence::{
    create_engine, create_engine_with, Engine, EngineOptions, Error, ErrorKind, IntegrityKind,
    IsolationLevel, PoolKind, RetryPolicy,
};
use postgres_server::PostgresServer;
use tests::{on_all_backends, TestBackend, TestDb};

async fn exec(engine: &Engine, sql: &str) {
    let mut conn = engine.connect().await.unwrap();
    // Statements commit on their own (no autobegin), as this test expects.
    conn.set_autocommit(true);
    conn.execute(&text(sql)).await.unwrap();
}

async fn int(engine: &Engine, sql: &str) -> i64 {
    let mut conn = engine.connect().await.unwrap();
    // Statements commit on their own (no autobegin), as this test expects.
    conn.set_autocommit(true);
    conn.execute(&text(sql))
        .await
        .unwrap()
        .scalar()
        .and_then(|v| v.as_i64())
        .unwrap()
}

/// The server-side id of the session `conn` holds.
async fn session_id(conn: &mut persistence::Connection) -> i64 {
    let sql = match conn.engine().backend() {
        persistence::Backend::Postgres => "SELECT pg_backend_pid()",
        _ => "SELECT CONNECTION_ID()",
    };
    conn.execute(&text(sql))
        .await
        .unwrap()
        .scalar()
        .and_then(|v| v.as_i64())
        .unwrap()
}

/// Ends session `id` from another connection.
async fn kill(db: &TestDb, id: i64) {
    let admin = create_engine(&db.url).await.unwrap();
    let sql = match db.backend {
        TestBackend::Postgres => format!("SELECT pg_terminate_backend({id})"),
        _ => format!("KILL {id}"),
    };
    exec(&admin, &sql).await;
    admin.dispose().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// A constraint checked only at `COMMIT` fails the commit with its own
/// kind (it was `Other` before), and the connection is out of the
/// transaction afterwards.
async fn commit_failures_are_classified(db: TestDb) {
    let engine = db.engine.clone();
    let ddl: &[&str] = match db.backend {
        TestBackend::Postgres => &["CREATE TABLE slot (id INT PRIMARY KEY, code INT, \
             CONSTRAINT slot_code_key UNIQUE (code) DEFERRABLE INITIALLY DEFERRED)"],
        TestBackend::Sqlite => &[
            "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
            "CREATE TABLE slot (id INTEGER PRIMARY KEY, code INTEGER \
             REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
        ],
        // MySQL checks every constraint at once; its COMMIT failure here is
        // a terminated session (below).
        TestBackend::MySql => &["CREATE TABLE slot (id INT PRIMARY KEY, code INT)"],
    };
    for sql in ddl {
        exec(&engine, sql).await;
    }
    let mut conn = engine.connect().await.unwrap();
    // Statements commit on their own (no autobegin), as this test expects.
    conn.set_autocommit(true);
    if db.backend != TestBackend::MySql {
        let mut tx = conn.begin().await.unwrap();
        tx.execute(&text("INSERT INTO slot (id, code) VALUES (1, 7)"))
            .await
            .unwrap();
        if db.backend == TestBackend::Postgres {
            tx.execute(&text("INSERT INTO slot (id, code) VALUES (2, 7)"))
                .await
                .unwrap();
        }
        let err = tx.commit().await.unwrap_err();
        let expected = match db.backend {
            TestBackend::Postgres => ErrorKind::Integrity(IntegrityKind::Unique),
            _ => ErrorKind::Integrity(IntegrityKind::ForeignKey),
        };
        assert_eq!(err.kind(), Some(expected), "{err:?}");
        assert!(
            !err.is_retryable() && !err.connection_invalidated(),
            "{err:?}"
        );
        let Error::Database { sql, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(sql, "COMMIT");
        // Out of the transaction (SQLite keeps it open after a failed
        // COMMIT; the engine rolled it back), and nothing was written.
        assert!(!conn.in_transaction());
        let n = conn
            .execute(&text("SELECT count(*) FROM slot"))
            .await
            .unwrap()
            .scalar()
            .and_then(|v| v.as_i64());
        assert_eq!(n, Some(0));
        let mut tx = conn.begin().await.unwrap();
        tx.execute(&text("INSERT INTO slot (id, code) VALUES (3, NULL)"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    if db.backend != TestBackend::Sqlite {
        // A session terminated under an open transaction: COMMIT fails as a
        // lost connection (whether it took effect is unknown), and that
        // connection is not handed out again.
        let before = session_id(&mut conn).await;
        let mut tx = conn.begin().await.unwrap();
        tx.execute(&text("INSERT INTO slot (id, code) VALUES (10, 10)"))
            .await
            .unwrap();
        kill(&db, before).await;
        let err = tx.commit().await.unwrap_err();
        assert_eq!(err.kind(), Some(ErrorKind::Operational), "{err:?}");
        assert!(err.connection_invalidated(), "{err:?}");
        assert!(err.is_retryable(), "{err:?}");
        drop(conn);
        let mut conn = engine.connect().await.unwrap();
        // Statements commit on their own (no autobegin), as this test expects.
        conn.set_autocommit(true);
        assert_ne!(session_id(&mut conn).await, before);
        assert_eq!(engine.pool_status().size, 1, "{:?}", engine.pool_status());
        // The kill was before COMMIT reached the server: nothing was written.
        let n = conn
            .execute(&text("SELECT count(*) FROM slot WHERE id = 10"))
            .await
            .unwrap()
            .scalar()
            .and_then(|v| v.as_i64());
        assert_eq!(n, Some(0));
    }
    db.close().await;
}

on_all_backends!(commit_failures_are_classified);

/// Two transactions that each read what the other writes, under
/// SERIALIZABLE (write skew): PostgreSQL fails the second to commit with
/// a serialization failure (40001), which is retryable, and the retry
/// helper runs it again to success.
#[tokio::test]
async fn serialization_failure_is_retried() {
    let base = TestDb::new(TestBackend::Postgres, "serialization_retry").await;
    let engine = create_engine_with(
        &base.url,
        EngineOptions::default().isolation_level(IsolationLevel::Serializable),
    )
    .await
    .unwrap();
    exec(
        &engine,
        "CREATE TABLE duty (id INT PRIMARY KEY, on_call BOOL NOT NULL)",
    )
    .await;
    exec(&engine, "INSERT INTO duty VALUES (1, true), (2, true)").await;

    // Doctor 2 goes off call, having checked that someone else is on call.
    let mut other = Some(engine.begin().await.unwrap());
    let tx = other.as_mut().unwrap();
    assert_eq!(
        tx.execute(&text("SELECT count(*) FROM duty WHERE on_call"))
            .await
            .unwrap()
            .scalar()
            .and_then(|v| v.as_i64()),
        Some(2)
    );
    tx.execute(&text("UPDATE duty SET on_call = false WHERE id = 2"))
        .await
        .unwrap();

    // Doctor 1 does the same concurrently; doctor 2 commits first.
    let attempts = AtomicU32::new(0);
    let policy = RetryPolicy::attempts(3);
    let result = engine
        .transaction_with_retry(&policy, async |conn| {
            attempts.fetch_add(1, Ordering::SeqCst);
            let on_call = conn
                .execute(&text("SELECT count(*) FROM duty WHERE on_call"))
                .await?
                .scalar()
                .and_then(|v| v.as_i64())
                .unwrap_or(0);
            if on_call < 2 {
                return Ok::<_, Error>("stays on call");
            }
            conn.execute(&text("UPDATE duty SET on_call = false WHERE id = 1"))
                .await?;
            if let Some(tx) = other.take() {
                tx.commit().await?;
            }
            Ok("went off call")
        })
        .await;
    // The first attempt failed at COMMIT with a serialization failure.
    assert_eq!(result.unwrap(), "stays on call");
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert_eq!(
        int(&engine, "SELECT count(*) FROM duty WHERE on_call").await,
        1,
        "one doctor stays on call"
    );

    // The same failure seen directly: retryable, a conflict, the
    // connection kept.
    let mut a = engine.begin().await.unwrap();
    let mut b = engine.begin().await.unwrap();
    for tx in [&mut a, &mut b] {
        tx.execute(&text("SELECT count(*) FROM duty WHERE on_call"))
            .await
            .unwrap();
    }
    a.execute(&text("UPDATE duty SET on_call = true WHERE id = 2"))
        .await
        .unwrap();
    b.execute(&text("UPDATE duty SET on_call = true WHERE id = 1"))
        .await
        .unwrap();
    a.commit().await.unwrap();
    let err = b.commit().await.unwrap_err();
    let Error::Database { code, sql, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((code.as_deref(), sql.as_str()), (Some("40001"), "COMMIT"));
    assert!(err.is_retryable() && err.is_conflict(), "{err:?}");
    assert!(!err.connection_invalidated(), "{err:?}");
    engine.dispose().await;
    base.close().await;
}

/// Two transactions locking two rows in opposite orders: the server picks
/// one as the deadlock victim (PostgreSQL 40P01, MySQL 1213); the retry
/// helper runs it again and both changes land.
async fn deadlock_is_retried(backend: TestBackend) {
    let db = TestDb::with_options(
        backend,
        "deadlock_retry",
        EngineOptions::default().pool(PoolKind::Queue).pool_size(2),
    )
    .await;
    let engine = db.engine.clone();
    exec(
        &engine,
        "CREATE TABLE counter (id INT PRIMARY KEY, n INT NOT NULL)",
    )
    .await;
    exec(&engine, "INSERT INTO counter VALUES (1, 0), (2, 0)").await;
    let attempts = Arc::new(AtomicU32::new(0));
    let victims = Arc::new(AtomicU32::new(0));
    let (a_locked, a_locked_rx) = tokio::sync::watch::channel(false);
    let (b_locked, b_locked_rx) = tokio::sync::watch::channel(false);
    // Set once a worker's transaction has committed. The victim's retry
    // waits for it: on PostgreSQL the aborted victim's row lock is gone at
    // once, but the survivor waiting for it must still wake up and take
    // the row; a retry that ran straight away could take it first and
    // deadlock with the survivor a second time.
    let survivor_done = Arc::new(tokio::sync::watch::Sender::new(false));
    let worker = |first: i64,
                  second: i64,
                  mine: tokio::sync::watch::Sender<bool>,
                  mut theirs: tokio::sync::watch::Receiver<bool>| {
        let engine = engine.clone();
        let attempts = attempts.clone();
        let victims = victims.clone();
        let done = survivor_done.clone();
        async move {
            let policy = RetryPolicy::attempts(5);
            let result = engine
                .transaction_with_retry(&policy, async |conn| {
                    let attempt = attempts.fetch_add(1, Ordering::SeqCst);
                    if attempt >= 2 {
                        let _ = done.subscribe().wait_for(|done| *done).await;
                    }
                    conn.execute(&text(&format!(
                        "UPDATE counter SET n = n + 1 WHERE id = {first}"
                    )))
                    .await?;
                    if attempt < 2 {
                        // Both hold their first row before either asks for
                        // its second: a deadlock.
                        let _ = mine.send(true);
                        let _ = theirs.wait_for(|locked| *locked).await;
                    }
                    let second = conn
                        .execute(&text(&format!(
                            "UPDATE counter SET n = n + 1 WHERE id = {second}"
                        )))
                        .await;
                    if let Err(e) = &second {
                        assert!(e.is_conflict() && e.is_retryable(), "{e:?}");
                        victims.fetch_add(1, Ordering::SeqCst);
                    }
                    second.map(|_| ())
                })
                .await;
            done.send_replace(true);
            result
        }
    };
    // Both on this task, interleaved at their awaits.
    let a = worker(1, 2, a_locked, b_locked_rx);
    let b = worker(2, 1, b_locked, a_locked_rx);
    let (a, b) = tokio::time::timeout(Duration::from_secs(60), async { tokio::join!(a, b) })
        .await
        .expect("no deadlock left unresolved");
    a.unwrap();
    b.unwrap();
    assert_eq!(victims.load(Ordering::SeqCst), 1, "one deadlock victim");
    assert_eq!(attempts.load(Ordering::SeqCst), 3, "the victim ran twice");
    for id in [1, 2] {
        let sql = format!("SELECT n FROM counter WHERE id = {id}");
        assert_eq!(int(&engine, &sql).await, 2, "row {id} got both increments");
    }
    db.close().await;
}

mod deadlock_retried {
    #[tokio::test]
    async fn postgres() {
        super::deadlock_is_retried(tests::TestBackend::Postgres).await;
    }
    #[tokio::test]
    async fn mysql() {
        super::deadlock_is_retried(tests::TestBackend::MySql).await;
    }
}

/// SQLite: a writer that finds the database locked by another connection
/// (`SQLITE_BUSY`, no busy timeout) is retried until the other commits.
#[tokio::test]
async fn sqlite_busy_is_retried() {
    let path = std::env::temp_dir().join(format!("persistence-busy-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite:{}?mode=rwc&busy_timeout=0", path.display());
    let engine = create_engine_with(&url, EngineOptions::default().pool(PoolKind::Queue))
        .await
        .unwrap();
    exec(
        &engine,
        "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)",
    )
    .await;
    let mut holder = engine.begin().await.unwrap();
    holder
        .execute(&text("INSERT INTO item (name) VALUES ('first')"))
        .await
        .unwrap();
    // The holder commits a little later, on its own task.
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        holder.commit().await.unwrap();
    });
    let attempts = AtomicU32::new(0);
    let seen_busy = AtomicU32::new(0);
    let policy = RetryPolicy {
        max_attempts: 50,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(40),
    };
    engine
        .transaction_with_retry(&policy, async |conn| {
            attempts.fetch_add(1, Ordering::SeqCst);
            let r = conn
                .execute(&text("INSERT INTO item (name) VALUES ('second')"))
                .await;
            if let Err(e) = &r {
                assert!(e.is_conflict() && e.is_retryable(), "{e:?}");
                seen_busy.fetch_add(1, Ordering::SeqCst);
            }
            r.map(|_| ())
        })
        .await
        .unwrap();
    release.await.unwrap();
    assert!(seen_busy.load(Ordering::SeqCst) >= 1);
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        seen_busy.load(Ordering::SeqCst) + 1
    );
    assert_eq!(int(&engine, "SELECT count(*) FROM item").await, 2);
    engine.dispose().await;
    let _ = std::fs::remove_file(&path);
}

/// The retry helper does not run again what cannot succeed again, nor a
/// transaction whose COMMIT lost its connection.
#[tokio::test]
async fn retry_helper_stops_on_permanent_errors() {
    let db = TestDb::new(TestBackend::Sqlite, "retry_permanent").await;
    let attempts = AtomicU32::new(0);
    let err = db
        .engine
        .transaction_with_retry(&RetryPolicy::default(), async |conn| {
            attempts.fetch_add(1, Ordering::SeqCst);
            conn.execute(&text("SELECT * FROM no_such_table")).await?;
            Ok::<_, Error>(())
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), Some(ErrorKind::Programming));
    assert_eq!(attempts.load(Ordering::SeqCst), 1);
    db.close().await;
}

/// Selects `1 + 1` on a checkout of `engine`.
async fn two(engine: &Engine) -> Result<i64, Error> {
    let mut conn = engine.connect().await?;
    // Statements commit on their own (no autobegin), as this test expects.
    conn.set_autocommit(true);
    let v = conn.execute(&text("SELECT 1 + 1")).await?.scalar();
    Ok(v.and_then(|v| v.as_i64()).unwrap_or(0))
}

/// A pool of four idle connections under default settings, the server
/// stopped (`fast`: sessions told 57P01; `immediate`: as in a crash) and
/// started again: twelve queries afterwards, four at a time, and a
/// transaction, all succeed. Each connection found dead on the first
/// operation of its checkout is replaced and that operation run again.
#[tokio::test]
async fn restarted_server_loses_no_query() {
    for mode in ["fast", "immediate"] {
        let server = PostgresServer::start(&[]);
        let engine = create_engine_with(&server.url(), EngineOptions::default().pool_size(4))
            .await
            .unwrap();
        // Four connections, then idle in the pool.
        let held = futures_util::future::join_all((0..4).map(|_| engine.connect())).await;
        let mut held: Vec<_> = held.into_iter().map(Result::unwrap).collect();
        let mut before = Vec::new();
        for conn in &mut held {
            before.push(session_id(conn).await);
            // Ends the transaction the query began, so it goes back idle at once.
            conn.rollback().await.unwrap();
        }
        drop(held);
        assert_eq!(engine.pool_status().idle, 4);

        server.stop(mode);
        server.start_again();

        let mut failed = Vec::new();
        for _ in 0..3 {
            let round = futures_util::future::join_all((0..4).map(|_| two(&engine))).await;
            failed.extend(round.into_iter().filter_map(Result::err));
        }
        assert!(
            failed.is_empty(),
            "{mode}: {} failed: {failed:?}",
            failed.len()
        );
        let mut tx = engine.begin().await.unwrap();
        let after = session_id(&mut tx).await;
        tx.commit().await.unwrap();
        assert!(!before.contains(&after), "{mode}: a new session");
        let status = engine.pool_status();
        assert!(status.size <= 4 && status.in_use == 0, "{mode}: {status:?}");
        engine.dispose().await;
        drop(server);
    }
}

/// While the server is down, a checkout fails as a connect error (not a
/// hang), and works again once it is back.
#[tokio::test]
async fn a_stopped_server_fails_fast_and_recovers() {
    let server = PostgresServer::start(&[]);
    let engine = create_engine_with(
        &server.url(),
        EngineOptions::default()
            .pool_size(2)
            .connect_timeout(Duration::from_secs(5)),
    )
    .await
    .unwrap();
    assert_eq!(two(&engine).await.unwrap(), 2);
    server.stop("fast");
    let err = tokio::time::timeout(Duration::from_secs(20), two(&engine))
        .await
        .expect("no hang")
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    server.start_again();
    assert_eq!(two(&engine).await.unwrap(), 2);
    engine.dispose().await;
}
