//! Where statements run: inline on the caller's thread when the
//! connection's thread is idle, on that thread otherwise (a lock held by
//! another connection, a stream, `inline=off`), with the same outcome.
//! `thread_name()`, registered on each connection, tells which thread ran a
//! statement.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dialects::Value;
use futures_util::StreamExt;
use rusqlite::functions::FunctionFlags;

use super::{SqliteConfig, SqliteConnection};
use crate::driver::{DriverError, LinkError};
use crate::engine::sqlite_options::SqliteOptions;
use crate::engine::url::DatabaseUrl;

/// `unwrap` for the driver's errors (which are not `Debug`).
trait Must<T> {
    fn must(self) -> T;
}

/// An error as text, for [`Must`].
trait Failure {
    fn text(self) -> String;
}

impl Failure for DriverError {
    fn text(self) -> String {
        self.into_error_parts("", &[], false).to_string()
    }
}

impl Failure for LinkError {
    fn text(self) -> String {
        self.to_string()
    }
}

impl Failure for tokio::task::JoinError {
    fn text(self) -> String {
        self.to_string()
    }
}

impl<T, E: Failure> Must<T> for Result<T, E> {
    fn must(self) -> T {
        match self {
            Ok(value) => value,
            Err(e) => panic!("{}", e.text()),
        }
    }
}

/// A database file of its own, removed at the end.
struct TempDb(std::path::PathBuf);

impl TempDb {
    fn new(name: &str) -> Self {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let file = format!("persistence-inline-{}-{name}-{seq}.db", std::process::id());
        TempDb(std::env::temp_dir().join(file))
    }

    /// The config for this file, with `params` (`&`-joined) after `mode=rwc`.
    fn config(&self, params: &str) -> SqliteConfig {
        let mut url = format!("sqlite://{}?mode=rwc", self.0.display());
        if !params.is_empty() {
            url = format!("{url}&{params}");
        }
        let url = DatabaseUrl::parse(&url).unwrap();
        SqliteConfig::from_url(&url, &SqliteOptions::default()).unwrap()
    }

    async fn open(&self, params: &str) -> SqliteConnection {
        let conn = SqliteConnection::open(&self.config(params)).await.must();
        conn.shared
            .lock()
            .unwrap()
            .connection()
            .create_scalar_function("thread_name", 0, FunctionFlags::SQLITE_UTF8, |_| {
                Ok(std::thread::current().name().unwrap_or("").to_owned())
            })
            .unwrap();
        conn
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The name of the thread running the test (and inline statements).
fn here() -> String {
    std::thread::current().name().unwrap_or("").to_owned()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => panic!("not text: {other:?}"),
    }
}

/// The thread `conn` runs its next statement on.
async fn thread_of(conn: &SqliteConnection) -> String {
    let row = conn.query_one("SELECT thread_name()", &[]).await.must();
    text(&row.unwrap()[0])
}

/// Asserts `conn` runs statements inline again once idle (the thread
/// answers a job before it counts it done: the next statement may still
/// find it busy).
async fn inline_again(conn: &SqliteConnection) {
    for _ in 0..200 {
        if thread_of(conn).await == here() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("statements never ran inline again");
}

async fn count(conn: &SqliteConnection, sql: &str) -> i64 {
    match conn.query_one(sql, &[]).await.must().unwrap()[0] {
        Value::BigInt(n) => n,
        ref other => panic!("not a count: {other:?}"),
    }
}

/// Spawns an `INSERT INTO t VALUES (thread_name())` on `conn`, answering
/// the rows it inserted.
fn spawn_insert_thread_name(
    conn: &Arc<SqliteConnection>,
) -> tokio::task::JoinHandle<Result<u64, DriverError>> {
    let conn = conn.clone();
    tokio::spawn(async move {
        conn.execute("INSERT INTO t VALUES (thread_name())", &[])
            .await
            .map(|done| done.rows_affected)
    })
}

/// Counts ticks of 2 ms on the current runtime, until aborted.
fn ticker() -> (Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let ticks = Arc::new(AtomicUsize::new(0));
    let counted = ticks.clone();
    let task = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(2)).await;
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    (ticks, task)
}

#[tokio::test(flavor = "current_thread")]
async fn statements_run_inline_when_the_thread_is_idle() {
    let db = TempDb::new("idle");
    let conn = db.open("").await;
    assert_eq!(thread_of(&conn).await, here());
    assert!(!here().starts_with("sqlite-"));
    conn.execute("CREATE TABLE t (x INTEGER)", &[]).await.must();
    let done = conn
        .execute_values(
            "INSERT INTO t VALUES (?)",
            &[Value::BigInt(7)][..],
            Vec::new(),
        )
        .await
        .must();
    assert_eq!(done.affected, 1);
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 1);
    // A text of several statements goes to the thread.
    let result = conn
        .execute("SELECT 1; SELECT thread_name()", &[])
        .await
        .must();
    let last = result.rows.last().unwrap();
    assert!(text(&last.values()[0]).starts_with("sqlite-"));
    conn.close().await.must();
}

#[tokio::test(flavor = "current_thread")]
async fn inline_off_runs_every_statement_on_the_thread() {
    let db = TempDb::new("off");
    let conn = db.open("inline=off").await;
    assert!(thread_of(&conn).await.starts_with("sqlite-"));
    conn.begin(None).await.must();
    conn.execute("CREATE TABLE t (x)", &[]).await.must();
    conn.commit().await.must();
    assert!(thread_of(&conn).await.starts_with("sqlite-"));
    assert_eq!(conn.depth(), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn a_held_begin_runs_inline_before_the_statement() {
    let db = TempDb::new("begin");
    let conn = db.open("").await;
    conn.execute("CREATE TABLE t (who TEXT)", &[]).await.must();
    conn.begin(None).await.must();
    assert_eq!(conn.depth(), 1);
    conn.execute("INSERT INTO t VALUES (thread_name())", &[])
        .await
        .must();
    assert_eq!(conn.depth(), 1);
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 1);
    conn.begin(None).await.must();
    assert_eq!(conn.depth(), 2);
    conn.rollback().await.must();
    conn.rollback().await.must();
    assert_eq!(conn.depth(), 0);
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 0);
}

#[tokio::test(flavor = "current_thread")]
async fn a_busy_write_waits_on_the_thread_without_stalling_the_runtime() {
    let db = TempDb::new("busy");
    let a = db.open("").await;
    let b = Arc::new(db.open("").await);
    a.execute("CREATE TABLE t (who TEXT)", &[]).await.must();
    a.begin(Some("BEGIN IMMEDIATE".into())).await.must();
    a.execute("INSERT INTO t VALUES ('a')", &[]).await.must();
    let (ticks, ticking) = ticker();
    let writer = spawn_insert_thread_name(&b);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(!writer.is_finished(), "the write did not wait for the lock");
    let during = ticks.load(Ordering::SeqCst);
    assert!(
        during >= 10,
        "the runtime stalled: {during} ticks in 150 ms"
    );
    a.commit().await.must();
    assert_eq!(writer.await.must().must(), 1);
    ticking.abort();
    let rows = a
        .execute("SELECT who FROM t ORDER BY rowid", &[])
        .await
        .must();
    let who: Vec<String> = rows.rows.iter().map(|r| text(&r.values()[0])).collect();
    assert_eq!(who.len(), 2);
    assert_eq!(who[0], "a");
    assert!(who[1].starts_with("sqlite-"), "{who:?}");
    // Idle again: inline again.
    inline_again(&b).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_busy_commit_is_retried_on_the_thread() {
    let db = TempDb::new("commit");
    let reader = db.open("").await;
    let writer = Arc::new(db.open("").await);
    reader.execute("CREATE TABLE t (x)", &[]).await.must();
    reader.execute("INSERT INTO t VALUES (1)", &[]).await.must();
    // The reader's transaction keeps its shared lock until it ends.
    reader.begin(None).await.must();
    assert_eq!(count(&reader, "SELECT count(*) FROM t").await, 1);
    writer.begin(None).await.must();
    writer.execute("INSERT INTO t VALUES (2)", &[]).await.must();
    let (ticks, ticking) = ticker();
    let committing = tokio::spawn({
        let writer = writer.clone();
        async move { writer.commit().await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(!committing.is_finished(), "the commit did not wait");
    let during = ticks.load(Ordering::SeqCst);
    assert!(
        during >= 10,
        "the runtime stalled: {during} ticks in 150 ms"
    );
    assert_eq!(writer.depth(), 1);
    reader.commit().await.must();
    committing.await.must().must();
    ticking.abort();
    assert_eq!(writer.depth(), 0);
    assert_eq!(count(&reader, "SELECT count(*) FROM t").await, 2);
}

#[tokio::test(flavor = "current_thread")]
async fn a_held_begin_already_run_is_not_run_again_on_the_thread() {
    let db = TempDb::new("heldbusy");
    let a = db.open("").await;
    let b = Arc::new(db.open("").await);
    a.execute("CREATE TABLE t (who TEXT)", &[]).await.must();
    a.begin(Some("BEGIN IMMEDIATE".into())).await.must();
    b.begin(None).await.must();
    let writer = spawn_insert_thread_name(&b);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!writer.is_finished());
    a.commit().await.must();
    assert_eq!(writer.await.must().must(), 1);
    // One transaction, no savepoint inside it.
    assert_eq!(b.depth(), 1);
    assert_eq!(count(&b, "SELECT count(*) FROM t").await, 1);
    b.rollback().await.must();
    assert_eq!(b.depth(), 0);
    assert_eq!(count(&a, "SELECT count(*) FROM t").await, 0);
}

#[tokio::test(flavor = "current_thread")]
async fn a_dropped_waiting_statement_still_runs_to_its_end() {
    let db = TempDb::new("dropped");
    let a = db.open("").await;
    let b = db.open("").await;
    a.execute("CREATE TABLE t (x)", &[]).await.must();
    a.begin(Some("BEGIN IMMEDIATE".into())).await.must();
    let waited = tokio::time::timeout(
        Duration::from_millis(30),
        b.execute("INSERT INTO t VALUES (1)", &[]),
    )
    .await;
    assert!(waited.is_err(), "the insert did not wait");
    assert_eq!(b.pending.load(Ordering::SeqCst), 1);
    a.commit().await.must();
    b.ping().await.must();
    assert_eq!(count(&a, "SELECT count(*) FROM t").await, 1);
}

#[tokio::test(flavor = "current_thread")]
async fn statements_around_a_stream_keep_their_order() {
    let db = TempDb::new("stream");
    let mut conn = db.open("").await;
    conn.execute("CREATE TABLE t (x INTEGER)", &[]).await.must();
    conn.execute(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000) \
         INSERT INTO t SELECT x FROM n",
        &[],
    )
    .await
    .must();
    {
        let mut rows = conn.stream("SELECT x FROM t ORDER BY x", &[]);
        for want in 1..=5 {
            let row = rows.next().await.unwrap().must();
            assert_eq!(row.values()[0], Value::BigInt(want));
        }
    }
    // The stream's job may still be ending: this one waits behind it.
    conn.execute("DELETE FROM t WHERE x > 1000", &[])
        .await
        .must();
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 1000);
    let all: Vec<_> = conn.stream("SELECT x FROM t", &[]).collect().await;
    assert_eq!(all.len(), 1000);
    conn.ping().await.must();
    inline_again(&conn).await;
}

#[tokio::test(flavor = "current_thread")]
async fn pragma_busy_timeout_is_the_threads() {
    let db = TempDb::new("pragma");
    let conn = db.open("").await;
    assert_eq!(count(&conn, "PRAGMA busy_timeout").await, 5000);
    conn.execute("PRAGMA busy_timeout = 1234", &[]).await.must();
    // Inline in between (timeout 0 there), then the thread's again.
    inline_again(&conn).await;
    assert_eq!(count(&conn, "PRAGMA busy_timeout").await, 1234);
}

/// The labels and declared kinds kept for a cached statement are read
/// again once SQLite re-prepares it after a schema change, whichever
/// connection made the change.
#[tokio::test(flavor = "current_thread")]
async fn columns_kept_for_a_statement_follow_schema_changes() {
    let db = TempDb::new("columns");
    let conn = db.open("").await;
    let other = db.open("").await;
    let labels = |r: &crate::engine::result::QueryResult| -> Vec<String> {
        r.keys().iter().map(|k| k.to_string()).collect()
    };
    conn.execute("CREATE TABLE t (a INTEGER)", &[]).await.must();
    conn.execute("INSERT INTO t VALUES (1)", &[]).await.must();
    let sql = "SELECT * FROM t";
    for _ in 0..2 {
        let r = conn.execute(sql, &[]).await.must();
        assert_eq!(labels(&r), ["a"]);
        assert_eq!(r.rows()[0].values(), [Value::BigInt(1)]);
    }
    // Redefined by another connection: this one's cached statement is
    // re-prepared by SQLite when it next runs.
    other.execute("DROP TABLE t", &[]).await.must();
    other
        .execute("CREATE TABLE t (b BOOLEAN)", &[])
        .await
        .must();
    other.execute("INSERT INTO t VALUES (1)", &[]).await.must();
    let _ = conn.execute(sql, &[]).await;
    let r = conn.execute(sql, &[]).await.must();
    assert_eq!(labels(&r), ["b"]);
    assert_eq!(r.rows()[0].values(), [Value::Bool(true)]);
    // And by this connection itself.
    conn.execute("DROP TABLE t", &[]).await.must();
    conn.execute("CREATE TABLE t (c TEXT, d BOOLEAN)", &[])
        .await
        .must();
    conn.execute("INSERT INTO t VALUES ('x', 0)", &[])
        .await
        .must();
    let _ = conn.execute(sql, &[]).await;
    let r = conn.execute(sql, &[]).await.must();
    assert_eq!(labels(&r), ["c", "d"]);
    assert_eq!(
        r.rows()[0].values(),
        [Value::String("x".into()), Value::Bool(false)]
    );
}
