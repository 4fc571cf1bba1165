//! `echo`: every statement is logged through `tracing` (target
//! `persistence::echo`) with its parameters and duration; `redact_params`
//! keeps the parameters out of the log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use persistence::dialects::{insert, select, text, Column, MetaData, SqlType, Table};
use persistence::{EngineOptions, SchemaExt};
use tests::{on_all_backends, TestBackend, TestDb};

/// A `tracing` writer that appends to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

/// Installs a subscriber for the current thread (the test runtime is
/// single-threaded) that captures `persistence` events.
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_env_filter("persistence=trace")
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

fn metadata() -> (MetaData, Table) {
    let mut metadata = MetaData::new();
    let t = metadata.add(
        Table::new("echoed")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("secret", SqlType::string(64)).not_null()),
    );
    (metadata, t)
}

/// Runs an insert, a select, a `text()` statement and a stream on an
/// engine with `options`, and returns what was logged while they ran.
async fn run_logged(backend: TestBackend, name: &str, options: EngineOptions) -> (String, String) {
    let db = TestDb::with_options(backend, name, options).await;
    let (metadata, t) = metadata();
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();

    let (captured, guard) = capture();
    conn.execute(&insert(&t).values([("secret", "s3cr3t-insert-value")]))
        .await
        .unwrap();
    let row = conn
        .execute(&select((t.c("id"),)).where_(t.c("secret").eq("s3cr3t-where-value")))
        .await
        .unwrap();
    assert!(row.is_empty());
    conn.execute(&text("SELECT id FROM echoed WHERE secret = :s").bind("s", "s3cr3t-text-value"))
        .await
        .unwrap();
    {
        let query = select((t.c("id"),)).where_(t.c("secret").eq("s3cr3t-insert-value"));
        let mut rows = conn.stream(&query);
        assert!(rows.next().await.unwrap().is_ok());
        assert!(rows.next().await.is_none());
    }
    let logged = captured.text();
    captured.clear();
    // Failures are logged too.
    let _ = conn
        .execute(&text("SELECT nope FROM echoed WHERE secret = :s").bind("s", "s3cr3t-failing"))
        .await
        .unwrap_err();
    let failed = captured.text();
    drop(guard);
    // PostgreSQL aborted the transaction at the failure.
    conn.rollback().await.unwrap();

    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
    (logged, failed)
}

async fn echo_logs_sql_params_and_duration(db: TestDb) {
    let backend = db.backend;
    db.close().await;
    let (logged, failed) = run_logged(
        backend,
        "echo_logs_sql_params_and_duration",
        EngineOptions::default().echo(true),
    )
    .await;
    assert!(logged.contains("persistence::echo"), "{logged}");
    assert!(logged.contains("INSERT INTO echoed"), "{logged}");
    assert!(logged.contains("FROM echoed"), "{logged}");
    for value in [
        "s3cr3t-insert-value",
        "s3cr3t-where-value",
        "s3cr3t-text-value",
    ] {
        assert!(logged.contains(value), "{value} not in: {logged}");
    }
    assert!(
        logged.contains("SELECT id FROM echoed WHERE secret ="),
        "{logged}"
    );
    assert!(logged.contains("elapsed="), "{logged}");
    // Four statements, four lines.
    let lines = logged
        .lines()
        .filter(|l| l.contains("persistence::echo"))
        .count();
    assert_eq!(lines, 4, "{logged}");
    assert!(failed.contains("SELECT nope FROM echoed"), "{failed}");
    assert!(failed.contains("s3cr3t-failing"), "{failed}");
}

async fn echo_with_redacted_params(db: TestDb) {
    let backend = db.backend;
    db.close().await;
    let (logged, failed) = run_logged(
        backend,
        "echo_with_redacted_params",
        EngineOptions::default().echo(true).redact_params(true),
    )
    .await;
    assert!(logged.contains("INSERT INTO echoed"), "{logged}");
    assert!(
        logged.contains("SELECT id FROM echoed WHERE secret ="),
        "{logged}"
    );
    assert!(
        !logged.contains("s3cr3t"),
        "a parameter was logged: {logged}"
    );
    assert!(failed.contains("SELECT nope FROM echoed"), "{failed}");
    assert!(
        !failed.contains("s3cr3t"),
        "a parameter was logged: {failed}"
    );
}

async fn no_echo_by_default(db: TestDb) {
    let backend = db.backend;
    db.close().await;
    let (logged, _) = run_logged(backend, "no_echo_by_default", EngineOptions::default()).await;
    assert!(!logged.contains("persistence::echo"), "{logged}");
    assert!(!logged.contains("s3cr3t"), "{logged}");
}

on_all_backends!(
    echo_logs_sql_params_and_duration,
    echo_with_redacted_params,
    no_echo_by_default
);
