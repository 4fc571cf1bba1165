//! Observability on every backend: a `db.statement` span per statement
//! with OpenTelemetry's database fields (never a bound value), a
//! `db.transaction` span per transaction or savepoint with the statements
//! inside it as children, `begin` / `commit` / `rollback` events,
//! slow-statement warnings, and parameter redaction on by default in
//! production profiles.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use persistence::dialects::{insert, select, text, Column, MetaData, SqlType, Table, Value};
use persistence::{EngineOptions, SchemaExt};
use tests::{on_all_backends, TestBackend, TestDb};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span as recorded: its name, fields and parent.
#[derive(Debug, Clone, Default)]
struct SpanRecord {
    name: String,
    fields: HashMap<String, String>,
    parent: Option<u64>,
}

/// An event as recorded.
#[derive(Debug, Clone)]
struct EventRecord {
    target: String,
    level: Level,
    message: String,
    fields: HashMap<String, String>,
    span: Option<u64>,
}

#[derive(Default)]
struct Log {
    spans: HashMap<u64, SpanRecord>,
    order: Vec<u64>,
    events: Vec<EventRecord>,
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Log>>);

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut record = SpanRecord {
            name: attrs.metadata().name().to_owned(),
            ..SpanRecord::default()
        };
        attrs.record(&mut Fields(&mut record.fields));
        record.parent = ctx
            .span(id)
            .and_then(|s| s.parent())
            .map(|p| p.id().into_u64());
        let mut log = self.0.lock().unwrap();
        log.order.push(id.into_u64());
        log.spans.insert(id.into_u64(), record);
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        if let Some(span) = self.0.lock().unwrap().spans.get_mut(&id.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        self.0.lock().unwrap().events.push(EventRecord {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            message,
            fields,
            span: ctx.event_span(event).map(|s| s.id().into_u64()),
        });
    }
}

impl Recorder {
    fn start() -> (Recorder, tracing::subscriber::DefaultGuard) {
        let recorder = Recorder::default();
        let subscriber = tracing_subscriber::registry().with(recorder.clone());
        (recorder, tracing::subscriber::set_default(subscriber))
    }
    fn spans(&self, name: &str) -> Vec<(u64, SpanRecord)> {
        let log = self.0.lock().unwrap();
        log.order
            .iter()
            .filter_map(|id| log.spans.get(id).map(|s| (*id, s.clone())))
            .filter(|(_, s)| s.name == name)
            .collect()
    }
    fn events(&self, target: &str) -> Vec<EventRecord> {
        let log = self.0.lock().unwrap();
        log.events
            .iter()
            .filter(|e| e.target == target)
            .cloned()
            .collect()
    }
    fn everything(&self) -> String {
        let log = self.0.lock().unwrap();
        format!("{:?} {:?}", log.spans, log.events)
    }
}

fn system(db: &TestDb) -> &'static str {
    match db.backend {
        TestBackend::Postgres => "postgresql",
        TestBackend::Sqlite => "sqlite",
        TestBackend::MySql => match db.engine.dialect().name() {
            "mariadb" => "mariadb",
            _ => "mysql",
        },
    }
}

fn note() -> (MetaData, Table) {
    let mut metadata = MetaData::new();
    let t = metadata.add(
        Table::new("note")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("body", SqlType::string(64)).not_null()),
    );
    (metadata, t)
}

/// Each statement is a `db.statement` span with the database fields, and
/// no bound value in them.
async fn statements_are_spans(db: TestDb) {
    let (metadata, t) = note();
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    let (recorder, guard) = Recorder::start();
    conn.execute(&insert(&t).values([("body", "s3cret-body")]))
        .await
        .unwrap();
    conn.execute(&insert(&t).values([("body", "another")]))
        .await
        .unwrap();
    let rows = conn.execute(&select(&t)).await.unwrap();
    assert_eq!(rows.len(), 2);
    let _ = conn
        .execute(&text("SELECT * FROM no_such_table"))
        .await
        .unwrap_err();
    drop(guard);
    let spans = recorder.spans("db.statement");
    assert_eq!(spans.len(), 4, "{}", recorder.everything());
    for (_, s) in &spans {
        assert_eq!(s.fields["db.system"], system(&db));
        assert_eq!(s.fields["otel.kind"], "client");
        assert!(s.fields.contains_key("duration_us"), "{s:?}");
        assert!(
            !format!("{s:?}").contains("s3cret"),
            "a value in a span: {s:?}"
        );
    }
    let (insert_span, select_span, failed) = (&spans[0].1, &spans[2].1, &spans[3].1);
    assert_eq!(insert_span.fields["db.operation"], "INSERT");
    assert!(insert_span.fields["db.statement"].starts_with("INSERT INTO note"));
    assert_eq!(insert_span.fields["db.rows_affected"], "1");
    assert_eq!(select_span.fields["db.operation"], "SELECT");
    assert_eq!(select_span.fields["db.response.returned_rows"], "2");
    assert_eq!(failed.fields["otel.status_code"], "ERROR");
    assert!(
        failed.fields["error.type"].starts_with("Programming"),
        "{failed:?}"
    );
    if db.backend != TestBackend::Sqlite {
        assert!(db.url.contains(&failed.fields["db.name"]), "{failed:?}");
    }
    conn.commit().await.unwrap();
    drop(conn);
    db.close().await;
}

/// A transaction is a `db.transaction` span from BEGIN to COMMIT or
/// ROLLBACK, its statements (and savepoints) inside it; each end is an
/// event, at INFO with echo, at DEBUG without.
async fn transactions_are_spans(db: TestDb) {
    let backend = db.backend;
    let (metadata, t) = note();
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    let (recorder, guard) = Recorder::start();
    {
        let mut tx = conn.begin().await.unwrap();
        tx.execute(&insert(&t).values([("body", "kept")]))
            .await
            .unwrap();
        {
            let mut sp = tx.begin_nested().await.unwrap();
            sp.execute(&insert(&t).values([("body", "undone")]))
                .await
                .unwrap();
            sp.rollback().await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    {
        let mut tx = conn.begin().await.unwrap();
        tx.execute(&insert(&t).values([("body", "dropped")]))
            .await
            .unwrap();
        // Dropped without commit.
    }
    // Outside any transaction (autocommit: no transaction of its own).
    conn.set_autocommit(true);
    conn.execute(&select(&t)).await.unwrap();
    drop(guard);
    let txs = recorder.spans("db.transaction");
    assert_eq!(txs.len(), 3, "{}", recorder.everything());
    let (outer_id, outer) = &txs[0];
    let (_, savepoint) = &txs[1];
    let (dropped_id, dropped) = &txs[2];
    assert_eq!(outer.fields["savepoint"], "false");
    assert_eq!(outer.fields["db.transaction.outcome"], "commit");
    assert_eq!(savepoint.fields["savepoint"], "true");
    assert_eq!(savepoint.parent, Some(*outer_id), "the savepoint is inside");
    assert_eq!(savepoint.fields["db.transaction.outcome"], "rollback");
    assert_eq!(
        dropped.fields["db.transaction.outcome"],
        "rollback (guard dropped)"
    );
    let statements = recorder.spans("db.statement");
    assert_eq!(statements.len(), 4);
    assert_eq!(statements[0].1.parent, Some(*outer_id));
    assert_eq!(statements[2].1.parent, Some(*dropped_id));
    assert_eq!(statements[3].1.parent, None, "after the transactions");
    let events: Vec<(String, Level)> = recorder
        .events("persistence::transaction")
        .into_iter()
        .map(|e| (e.message, e.level))
        .collect();
    let debug = |m: &str| (m.to_owned(), Level::DEBUG);
    assert_eq!(
        events,
        [
            debug("begin"),
            debug("savepoint"),
            debug("rollback"),
            debug("commit"),
            debug("begin"),
            debug("rollback (guard dropped)"),
        ]
    );
    conn.commit().await.unwrap();
    drop(conn);
    db.close().await;

    // With echo: INFO.
    let db = TestDb::with_options(backend, "tx_echo", EngineOptions::default().echo(true)).await;
    let mut conn = db.engine.connect().await.unwrap();
    let (recorder, guard) = Recorder::start();
    let tx = conn.begin().await.unwrap();
    tx.commit().await.unwrap();
    drop(guard);
    let levels: Vec<Level> = recorder
        .events("persistence::transaction")
        .iter()
        .map(|e| e.level)
        .collect();
    assert_eq!(levels, [Level::INFO, Level::INFO]);
    conn.commit().await.unwrap();
    drop(conn);
    db.close().await;
}

/// A statement that takes at least the threshold is warned about.
async fn slow_statements_are_warned_about(db: TestDb) {
    let backend = db.backend;
    db.close().await;
    let options =
        EngineOptions::default().slow_statement_threshold(Some(Duration::from_millis(150)));
    let db = TestDb::with_options(backend, "slow", options).await;
    let mut conn = db.engine.connect().await.unwrap();
    let slow = match backend {
        TestBackend::Postgres => "SELECT pg_sleep(0.3)",
        TestBackend::MySql => "SELECT SLEEP(0.3)",
        // A recursive CTE counting long enough.
        TestBackend::Sqlite => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) \
             SELECT count(*) FROM c"
        }
    };
    let (recorder, guard) = Recorder::start();
    conn.execute(&text("SELECT 1")).await.unwrap();
    let started = std::time::Instant::now();
    conn.execute(&text(slow)).await.unwrap();
    let took = started.elapsed();
    drop(guard);
    let warnings = recorder.events("persistence::slow");
    if took >= Duration::from_millis(150) {
        assert_eq!(warnings.len(), 1, "{}", recorder.everything());
        let w = &warnings[0];
        assert_eq!(w.level, Level::WARN);
        assert_eq!(w.message, "slow statement");
        assert!(
            w.fields["sql"].contains(slow.split_whitespace().next().unwrap()),
            "{w:?}"
        );
        assert!(w.span.is_some(), "inside its statement's span");
    } else {
        panic!("the slow statement took only {took:?}");
    }
    conn.commit().await.unwrap();
    drop(conn);
    db.close().await;
}

on_all_backends!(
    statements_are_spans,
    transactions_are_spans,
    slow_statements_are_warned_about
);

/// Redaction is on by default in builds without debug assertions (release
/// profiles), and in the production options.
#[test]
fn redaction_is_on_in_production_profiles() {
    assert_eq!(
        EngineOptions::default().redact_params,
        !cfg!(debug_assertions)
    );
    let production = EngineOptions::production();
    assert!(production.redact_params && !production.echo);
    assert_eq!(production.slow_statement, Some(Duration::from_secs(1)));
    assert!(!EngineOptions::development().redact_params);
}

/// Echo logs values unless redacted; spans never carry them.
#[tokio::test]
async fn echo_shows_values_spans_never() {
    let db = TestDb::with_options(
        TestBackend::Sqlite,
        "echo_values",
        EngineOptions::development().echo(true),
    )
    .await;
    let mut conn = db.engine.connect().await.unwrap();
    let (recorder, guard) = Recorder::start();
    conn.execute(&text("SELECT :v AS v").bind("v", Value::from("s3cret-param")))
        .await
        .unwrap();
    drop(guard);
    let echo = recorder.events("persistence::echo");
    assert_eq!(echo.len(), 1);
    assert!(echo[0].fields["params"].contains("s3cret-param"));
    for (_, s) in recorder.spans("db.statement") {
        assert!(!format!("{s:?}").contains("s3cret"), "{s:?}");
    }
    conn.commit().await.unwrap();
    drop(conn);
    db.close().await;
}
