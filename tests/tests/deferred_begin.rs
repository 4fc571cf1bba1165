//! On PostgreSQL at READ COMMITTED, a transaction's BEGIN waits for its
//! first statement that is not a plain read (`engine::deferred_begin`): a
//! unit of work that only reads sends no BEGIN and no COMMIT, one that
//! writes sends BEGIN just before its first write, and everything else
//! (a function call, a locking read, a configured isolation level other
//! than READ COMMITTED, a `SET` on the connection) sends BEGIN first as
//! before. SQLite and MySQL send BEGIN first always. Statements are
//! counted on an engine with echo on, BEGIN / COMMIT / ROLLBACK by their
//! transaction events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use persistence::dialects::{func, insert, select, text, Column, MetaData, SqlType, Table, Value};
use persistence::orm::{Registry, SessionMaker};
use persistence::{EngineOptions, IsolationLevel, SchemaExt};
use tests::capture::SqlLog;
use tests::{on_all_backends, TestBackend, TestDb};

#[derive(Debug, Clone, PartialEq)]
struct Note {
    id: i64,
    body: String,
}

persistence::model!(mod note for Note in "deferred_note" {
    id: i64 = |c| c.primary_key().autoincrement(false),
    body: String = |c| c.of_type(SqlType::string(100)),
});

fn metadata() -> (MetaData, Table) {
    let mut metadata = MetaData::new();
    let t = metadata.add(
        Table::new("deferred_note")
            .column(
                Column::new("id", SqlType::BigInteger)
                    .primary_key()
                    .autoincrement(false),
            )
            .column(Column::new("body", SqlType::string(100))),
    );
    (metadata, t)
}

fn table() -> Table {
    metadata().1
}

/// The test's database on an engine with echo on, one connection, and
/// `options`; its table created, holding one note.
async fn setup(db: TestDb, name: &str, options: EngineOptions) -> TestDb {
    let backend = db.backend;
    db.close().await;
    let options = options.echo(true).pool_size(1).max_connections(2);
    let db = TestDb::with_options(backend, name, options).await;
    let mut conn = db.engine.connect().await.unwrap();
    let (metadata, t) = metadata();
    metadata.drop_all(&mut conn).await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    conn.execute(&insert(&t).values([("id", Value::from(1_i64)), ("body", Value::from("first"))]))
        .await
        .unwrap();
    conn.commit().await.unwrap();
    db
}

/// What the log holds since it was last taken: (statements, transaction
/// events).
fn sent(log: &SqlLog) -> (Vec<String>, Vec<String>) {
    (log.take(), log.take_transactions())
}

/// The transaction events a unit that sent BEGIN first has on `backend`
/// when it deferred (`deferred`) on PostgreSQL.
fn expect(backend: TestBackend, deferred: &[&str], eager: &[&str]) -> Vec<String> {
    let events = if backend == TestBackend::Postgres {
        deferred
    } else {
        eager
    };
    events.iter().map(|s| (*s).to_owned()).collect()
}

/// The bodies `conn` sees, in a unit of their own (rolled back).
async fn bodies_on(conn: &mut persistence::Connection) -> Vec<String> {
    let t = table();
    let rows = conn
        .execute(&select([t.c("body")]).order_by([t.c("id").asc()]))
        .await
        .unwrap()
        .all_as::<(String,)>()
        .unwrap();
    conn.rollback().await.unwrap();
    rows.into_iter().map(|(b,)| b).collect()
}

/// The bodies stored, read on a connection of its own.
async fn bodies(db: &TestDb) -> Vec<String> {
    let mut conn = db.engine.connect().await.unwrap();
    bodies_on(&mut conn).await
}

/// Core: a unit that only reads sends its SELECTs alone; it is still in
/// a transaction (SQLAlchemy's autobegin) until commit or rollback.
async fn a_read_only_unit_sends_no_begin(db: TestDb) {
    let backend = db.backend;
    let db = setup(db, "deferred_read", EngineOptions::default()).await;
    let t = table();
    let (log, _guard) = SqlLog::start();
    let mut conn = db.engine.connect().await.unwrap();
    let q = select([t.c("id"), t.c("body")]).where_(t.c("id").eq(1));
    let rows = conn
        .execute(&q)
        .await
        .unwrap()
        .all_as::<(i64, String)>()
        .unwrap();
    assert_eq!(rows, [(1, "first".to_owned())]);
    assert!(conn.in_transaction(), "autobegun");
    conn.execute(&q).await.unwrap();
    conn.commit().await.unwrap();
    assert!(!conn.in_transaction());
    let (statements, transactions) = sent(&log);
    assert_eq!(statements.len(), 2, "{statements:?}");
    assert_eq!(transactions, expect(backend, &[], &["begin", "commit"]));
    // A rollback of a unit that only read sends nothing either.
    conn.execute(&q).await.unwrap();
    conn.rollback().await.unwrap();
    let (_, transactions) = sent(&log);
    assert_eq!(transactions, expect(backend, &[], &["begin", "rollback"]));
    drop(conn);
    db.close().await;
}

/// Core: the first write sends BEGIN just before it; the transaction is
/// real (a rollback undoes the write, a commit keeps it).
async fn the_first_write_sends_begin(db: TestDb) {
    let db = setup(db, "deferred_write", EngineOptions::default()).await;
    let t = table();
    let (log, _guard) = SqlLog::start();
    let mut conn = db.engine.connect().await.unwrap();
    conn.execute(&select([t.c("id")])).await.unwrap();
    conn.execute(&insert(&t).values([("id", Value::from(2_i64)), ("body", Value::from("second"))]))
        .await
        .unwrap();
    conn.rollback().await.unwrap();
    let (statements, transactions) = sent(&log);
    assert!(statements[0].starts_with("SELECT"), "{statements:?}");
    assert!(statements[1].starts_with("INSERT"), "{statements:?}");
    assert_eq!(transactions, ["begin", "rollback"]);
    assert_eq!(bodies_on(&mut conn).await, ["first"], "rolled back");
    conn.execute(&select([t.c("id")])).await.unwrap();
    conn.execute(&insert(&t).values([("id", Value::from(2_i64)), ("body", Value::from("second"))]))
        .await
        .unwrap();
    conn.execute(&select([t.c("id")])).await.unwrap();
    conn.commit().await.unwrap();
    assert_eq!(bodies_on(&mut conn).await, ["first", "second"], "committed");
    // A savepoint after a read begins the transaction, then the savepoint.
    sent(&log);
    conn.execute(&select([t.c("id")])).await.unwrap();
    let sp = conn.begin_nested().await.unwrap();
    sp.commit().await.unwrap();
    conn.commit().await.unwrap();
    let (_, transactions) = sent(&log);
    assert_eq!(transactions, ["begin", "savepoint", "commit", "commit"]);
    drop(conn);
    db.close().await;
}

/// Reads that call a function, lock rows, or run at a configured level
/// other than READ COMMITTED send BEGIN first; so does every read on a
/// connection that ran `SET` (it may have changed the default level).
async fn other_reads_send_begin_first(db: TestDb) {
    let backend = db.backend;
    let db = setup(db, "deferred_other", EngineOptions::default()).await;
    let t = table();
    let (log, _guard) = SqlLog::start();
    let mut conn = db.engine.connect().await.unwrap();
    conn.execute(&select([func::count(t.c("id"))]))
        .await
        .unwrap();
    conn.commit().await.unwrap();
    let (_, transactions) = sent(&log);
    assert_eq!(transactions, ["begin", "commit"], "a function call");
    if backend != TestBackend::Sqlite {
        conn.execute(&select([t.c("id")]).for_update())
            .await
            .unwrap();
        conn.commit().await.unwrap();
        let (_, transactions) = sent(&log);
        assert_eq!(transactions, ["begin", "commit"], "FOR UPDATE");
    }
    // A plain read still defers on this connection...
    conn.execute(&select([t.c("id")])).await.unwrap();
    conn.commit().await.unwrap();
    let (_, transactions) = sent(&log);
    assert_eq!(transactions, expect(backend, &[], &["begin", "commit"]));
    if backend == TestBackend::Postgres {
        // ...until a SET: from then on, BEGIN goes first (the same
        // connection: the pool holds one).
        conn.set_autocommit(true);
        conn.execute(&text(
            "SET default_transaction_isolation = 'repeatable read'",
        ))
        .await
        .unwrap();
        conn.set_autocommit(false);
        drop(conn);
        sent(&log);
        let mut conn = db.engine.connect().await.unwrap();
        conn.execute(&select([t.c("id")])).await.unwrap();
        conn.commit().await.unwrap();
        let (_, transactions) = sent(&log);
        assert_eq!(transactions, ["begin", "commit"], "after SET");
        drop(conn);
    } else {
        drop(conn);
    }
    db.close().await;

    let options = EngineOptions::default().isolation_level(IsolationLevel::RepeatableRead);
    let db = TestDb::new(backend, "deferred_level").await;
    let db = setup(db, "deferred_level", options).await;
    let (log, _guard) = SqlLog::start();
    let mut conn = db.engine.connect().await.unwrap();
    conn.execute(&select([t.c("id")])).await.unwrap();
    conn.commit().await.unwrap();
    let (_, transactions) = sent(&log);
    assert_eq!(transactions, ["begin", "commit"], "REPEATABLE READ");
    drop(conn);
    db.close().await;
}

/// The ORM: a session that only reads sends no BEGIN or COMMIT on
/// PostgreSQL; a read, then a write, sends BEGIN before the write.
async fn a_session_that_only_reads_sends_no_begin(db: TestDb) {
    let backend = db.backend;
    let db = setup(db, "deferred_session", EngineOptions::default()).await;
    let mut registry = Registry::new();
    registry.map(note::model()).finish();
    let sessions = SessionMaker::new(db.engine.clone(), registry.configure().unwrap());
    let (log, _guard) = SqlLog::start();
    let mut s = sessions.session();
    let all = s
        .scalars(persistence::orm::select::<Note>())
        .await
        .unwrap()
        .all();
    assert_eq!(all.len(), 1);
    let got: Option<Note> = s.get(1_i64).await.unwrap();
    assert!(got.is_some());
    s.commit().await.unwrap();
    let (statements, transactions) = sent(&log);
    assert_eq!(
        statements.len(),
        1,
        "the get is an identity-map hit: {statements:?}"
    );
    assert_eq!(transactions, expect(backend, &[], &["begin", "commit"]));
    // Read, then write: BEGIN before the INSERT, the row committed.
    let _: Vec<Note> = s
        .scalars(persistence::orm::select::<Note>())
        .await
        .unwrap()
        .all();
    s.add(&mut Note {
        id: 2,
        body: "second".into(),
    })
    .await
    .unwrap();
    s.flush().await.unwrap();
    s.commit().await.unwrap();
    let (statements, transactions) = sent(&log);
    assert!(statements[0].starts_with("SELECT"), "{statements:?}");
    assert!(statements[1].starts_with("INSERT"), "{statements:?}");
    assert_eq!(transactions, ["begin", "commit"]);
    assert_eq!(bodies(&db).await, ["first", "second"]);
    sent(&log);
    // A read, then a rollback: nothing sent on PostgreSQL but the read.
    let _: Vec<Note> = s
        .scalars(persistence::orm::select::<Note>())
        .await
        .unwrap()
        .all();
    s.rollback().await.unwrap();
    let (_, transactions) = sent(&log);
    assert_eq!(transactions, expect(backend, &[], &["begin", "rollback"]));
    db.close().await;
}

on_all_backends!(
    a_read_only_unit_sends_no_begin,
    the_first_write_sends_begin,
    other_reads_send_begin_first,
    a_session_that_only_reads_sends_no_begin,
);
