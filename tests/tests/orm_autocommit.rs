//! A commit whose whole transaction is one statement sends that statement
//! alone, without BEGIN and COMMIT (one round trip instead of three), on
//! every backend; the database ends as it would in a transaction (a failed
//! statement stores nothing, the session is usable after `rollback()`).
//! Whenever anything else ran or runs in the transaction (a read before the
//! write, a second statement, a savepoint, a configured isolation level),
//! BEGIN and COMMIT are sent as before. Statements are counted on an engine
//! with echo on, BEGIN / COMMIT / ROLLBACK / SAVEPOINT by their transaction
//! events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use persistence::dialects::{text, SqlType};
use persistence::orm::{Mappers, Registry, SessionMaker};
use persistence::{EngineOptions, Error, IsolationLevel};
use tests::capture::SqlLog;
use tests::{on_all_backends, TestBackend, TestDb};

/// A key the domain chooses: `add` stages it, the commit flushes it.
#[derive(Debug, Clone, PartialEq)]
struct Account {
    id: i64,
    owner: String,
}

persistence::model!(mod account for Account in "lone_account" {
    id: i64 = |c| c.primary_key().autoincrement(false),
    owner: String = |c| c.of_type(SqlType::string(100)),
});

/// A second table with chosen keys.
#[derive(Debug, Clone, PartialEq)]
struct Ledger {
    id: i64,
    note: String,
}

persistence::model!(mod ledger for Ledger in "lone_ledger" {
    id: i64 = |c| c.primary_key().autoincrement(false),
    note: String = |c| c.of_type(SqlType::string(100)),
});

fn registry() -> Mappers {
    let mut registry = Registry::new();
    registry.map(account::model()).finish();
    registry.map(ledger::model()).finish();
    registry.configure().unwrap()
}

/// The test's database on an engine with echo on and `options`, its
/// tables created.
async fn setup(db: TestDb, name: &str, options: EngineOptions) -> (TestDb, SessionMaker) {
    let db = db.reopen(name, options.echo(true)).await;
    let mappers = registry();
    db.create_tables(mappers.metadata()).await;
    let sessions = SessionMaker::new(db.engine.clone(), mappers);
    (db, sessions)
}

fn acct(id: i64, owner: &str) -> Account {
    Account {
        id,
        owner: owner.into(),
    }
}

/// The accounts stored, as (id, owner) by id, read on a connection of its
/// own (so only committed rows are seen).
async fn accounts(db: &TestDb) -> Vec<(i64, String)> {
    let mut conn = db.engine.connect().await.unwrap();
    let rows = conn
        .execute(&text("SELECT id, owner FROM lone_account ORDER BY id"))
        .await
        .unwrap()
        .all()
        .into_iter()
        .map(|r| (r.get(0).unwrap(), r.get(1).unwrap()))
        .collect();
    conn.rollback().await.unwrap();
    rows
}

/// What the log holds since it was last taken: (statements, transaction
/// events).
fn sent(log: &SqlLog) -> (Vec<String>, Vec<String>) {
    (log.take(), log.take_transactions())
}

/// `add` + `commit` of rows of one table with known keys: one INSERT and
/// nothing else; the rows are committed (seen from another connection).
async fn a_lone_insert_is_one_statement(db: TestDb) {
    let (db, sessions) = setup(db, "lone_insert", EngineOptions::default()).await;
    let (log, _guard) = SqlLog::start();
    let mut s = sessions.session();
    s.add(&mut acct(1, "ann")).await.unwrap();
    s.commit().await.unwrap();
    let (statements, transactions) = sent(&log);
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert!(
        statements[0].starts_with("INSERT INTO lone_account"),
        "{statements:?}"
    );
    assert!(
        transactions.is_empty(),
        "no BEGIN / COMMIT: {transactions:?}"
    );
    // Several rows of one table: still one (multi-row) INSERT.
    s.add_all(&mut [acct(2, "bob"), acct(3, "cy")])
        .await
        .unwrap();
    s.commit().await.unwrap();
    let (statements, transactions) = sent(&log);
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert!(transactions.is_empty(), "{transactions:?}");
    assert_eq!(
        accounts(&db).await,
        [(1, "ann".into()), (2, "bob".into()), (3, "cy".into())]
    );
    // A commit with nothing staged sends nothing at all.
    sent(&log);
    s.commit().await.unwrap();
    assert_eq!(sent(&log), (vec![], vec![]));
    db.close().await;
}

/// A read before the write, or a second statement, keeps the transaction:
/// BEGIN ... COMMIT around them, as before.
async fn more_than_one_statement_keeps_the_transaction(db: TestDb) {
    let (db, sessions) = setup(db, "lone_more", EngineOptions::default()).await;
    let (log, _guard) = SqlLog::start();
    let mut s = sessions.session();
    // Two tables: two INSERTs.
    s.add(&mut acct(1, "ann")).await.unwrap();
    s.add(&mut Ledger {
        id: 1,
        note: "opened".into(),
    })
    .await
    .unwrap();
    s.commit().await.unwrap();
    let (statements, transactions) = sent(&log);
    assert_eq!(statements.len(), 2, "{statements:?}");
    assert_eq!(transactions, ["begin", "commit"]);
    // A read, then a lone write: the read began the transaction.
    let found: Option<Account> = s.get(1_i64).await.unwrap();
    assert_eq!(found, Some(acct(1, "ann")));
    s.add(&mut acct(2, "bob")).await.unwrap();
    s.commit().await.unwrap();
    let (statements, transactions) = sent(&log);
    assert_eq!(statements.len(), 2, "SELECT, INSERT: {statements:?}");
    assert!(statements[0].starts_with("SELECT"), "{statements:?}");
    assert_eq!(transactions, ["begin", "commit"]);
    // An explicit flush before the commit: the flush runs in the
    // transaction, the commit ends it.
    s.add(&mut acct(3, "cy")).await.unwrap();
    s.flush().await.unwrap();
    s.commit().await.unwrap();
    let (statements, transactions) = sent(&log);
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert_eq!(transactions, ["begin", "commit"]);
    assert_eq!(
        accounts(&db).await,
        [(1, "ann".into()), (2, "bob".into()), (3, "cy".into())]
    );
    db.close().await;
}

/// A lone statement that fails stores nothing (a multi-row INSERT whose
/// second row conflicts stores neither row), the session needs
/// `rollback()`, and afterwards works as before.
async fn a_failed_lone_statement_stores_nothing(db: TestDb) {
    let (db, sessions) = setup(db, "lone_failed", EngineOptions::default()).await;
    let mut s = sessions.session();
    s.add(&mut acct(1, "ann")).await.unwrap();
    s.commit().await.unwrap();
    let (log, _guard) = SqlLog::start();
    let mut other = sessions.session();
    other
        .add_all(&mut [acct(5, "eve"), acct(1, "mallory")])
        .await
        .unwrap();
    let err = other.commit().await.unwrap_err();
    assert!(
        matches!(&err, Error::Database { .. }),
        "a duplicate key: {err:?}"
    );
    let (statements, transactions) = sent(&log);
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert!(transactions.is_empty(), "{transactions:?}");
    assert_eq!(
        accounts(&db).await,
        [(1, "ann".into())],
        "neither row stored"
    );
    // The session wants a rollback first, then is usable again.
    other.add(&mut acct(6, "fay")).await.unwrap_err();
    other.rollback().await.unwrap();
    other.add(&mut acct(6, "fay")).await.unwrap();
    other.commit().await.unwrap();
    assert_eq!(accounts(&db).await, [(1, "ann".into()), (6, "fay".into())]);
    db.close().await;
}

/// A savepoint, or an isolation level configured on the engine, keeps the
/// transaction around a lone statement.
async fn savepoints_and_isolation_levels_keep_the_transaction(db: TestDb) {
    let backend = db.backend;
    let (db, sessions) = setup(db, "lone_savepoint", EngineOptions::default()).await;
    let (log, _guard) = SqlLog::start();
    let mut s = sessions.session();
    let sp = s.begin_nested().await.unwrap();
    sp.commit().await.unwrap();
    s.add(&mut acct(1, "ann")).await.unwrap();
    s.commit().await.unwrap();
    let (statements, transactions) = sent(&log);
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert_eq!(transactions, ["begin", "savepoint", "commit", "commit"]);
    db.close().await;

    let options = EngineOptions::default().isolation_level(IsolationLevel::Serializable);
    let db = TestDb::new(backend, "lone_isolation").await;
    let (db, sessions) = setup(db, "lone_isolation", options).await;
    let (log, _guard) = SqlLog::start();
    let mut s = sessions.session();
    s.add(&mut acct(1, "ann")).await.unwrap();
    s.commit().await.unwrap();
    let (statements, transactions) = sent(&log);
    // MySQL sets the level with a statement of its own before BEGIN.
    let set = usize::from(backend == TestBackend::MySql);
    assert_eq!(statements.len(), 1 + set, "{statements:?}");
    assert!(statements[set].starts_with("INSERT"), "{statements:?}");
    assert_eq!(transactions, ["begin", "commit"]);
    assert_eq!(accounts(&db).await, [(1, "ann".into())]);
    db.close().await;
}

/// A lone UPDATE (an object changed after its insert was committed, its
/// snapshot still held) and a lone DELETE each go alone too.
async fn lone_updates_and_deletes(db: TestDb) {
    let (db, sessions) = setup(db, "lone_update", EngineOptions::default()).await;
    let mut s = sessions.session();
    let mut ann = acct(1, "ann");
    s.add(&mut ann).await.unwrap();
    s.commit().await.unwrap();
    let (log, _guard) = SqlLog::start();
    ann.owner = "anna".into();
    s.add(&mut ann).await.unwrap();
    s.commit().await.unwrap();
    let (statements, transactions) = sent(&log);
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert!(
        statements[0].starts_with("UPDATE lone_account"),
        "{statements:?}"
    );
    assert!(transactions.is_empty(), "{transactions:?}");
    assert_eq!(accounts(&db).await, [(1, "anna".into())]);
    sent(&log);
    s.delete(&ann).unwrap();
    s.commit().await.unwrap();
    let (statements, transactions) = sent(&log);
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert!(
        statements[0].starts_with("DELETE FROM lone_account"),
        "{statements:?}"
    );
    assert!(transactions.is_empty(), "{transactions:?}");
    assert_eq!(accounts(&db).await, []);
    db.close().await;
}

on_all_backends!(
    a_lone_insert_is_one_statement,
    more_than_one_statement_keeps_the_transaction,
    a_failed_lone_statement_stores_nothing,
    savepoints_and_isolation_levels_keep_the_transaction,
    lone_updates_and_deletes,
);
