//! More of SQLAlchemy's session on every backend (issue 12, items 6, 7, 9
//! and 14): UPDATE / DELETE by criteria with `synchronize_session`,
//! INSERT / UPDATE ... RETURNING objects, streaming, bulk UPDATE by key and
//! bulk INSERT from plain values, the relationship operators `any` / `has`
//! / `contains` and joins along relationships, object states, `expunge`
//! and `no_autoflush`. Each test checks the rows in the tables afterwards,
//! the objects returned and the statements sent (counted on an engine
//! with echo on; the count is in a comment, never more than SQLAlchemy
//! sends for the same work).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use persistence::dialects::{text, SqlType, Value};
use persistence::orm::{self, presets, Mappers, ObjectState, Registry, SessionMaker};
use persistence::orm::{Session, SynchronizeSession};
use persistence::{EngineOptions, Error};
use tests::capture::SqlLog;
use tests::{on_all_backends, TestDb};

#[derive(Debug, Clone, PartialEq)]
struct Worker {
    id: Option<i64>,
    name: String,
    rank: i32,
    nickname: Option<String>,
}

persistence::model!(mod worker for Worker in "more_worker" {
    id: Option<i64> = presets::intpk,
    name: String = |c| c.of_type(SqlType::string(100)).unique(),
    rank: i32,
    nickname: Option<String> = |c| c.of_type(SqlType::string(100)),
});

/// A key the domain chooses: an `add` stages it without a flush.
#[derive(Debug, Clone, PartialEq)]
struct Account {
    id: i64,
    owner: String,
}

persistence::model!(mod account for Account in "more_account" {
    id: i64 = |c| c.primary_key().autoincrement(false),
    owner: String = |c| c.of_type(SqlType::string(100)),
});

/// A key the domain chooses and a column the server fills: an `add`
/// flushes to read the column back.
#[derive(Debug, Clone, PartialEq)]
struct Badge {
    id: i64,
    label: Option<String>,
}

persistence::model!(mod badge for Badge in "more_badge" {
    id: i64 = |c| c.primary_key().autoincrement(false),
    label: Option<String> = |c| c.of_type(SqlType::string(100)).server_default("new"),
});

fn registry() -> Mappers {
    let mut registry = Registry::new();
    registry.map(worker::model()).finish();
    registry.map(account::model()).finish();
    registry.map(badge::model()).finish();
    registry.configure().unwrap()
}

/// The test's database on an engine with echo on (the statements are
/// counted), its tables created.
async fn setup(db: TestDb, name: &str) -> (TestDb, SessionMaker) {
    let db = db.reopen(name, EngineOptions::default().echo(true)).await;
    let mappers = registry();
    db.create_tables(mappers.metadata()).await;
    let sessions = SessionMaker::new(db.engine.clone(), mappers);
    (db, sessions)
}

fn w(name: &str, rank: i32) -> Worker {
    Worker {
        id: None,
        name: name.into(),
        rank,
        nickname: None,
    }
}

/// Three committed workers a (rank 1), b (2), c (3), all held by the
/// session (loaded after the commit).
async fn three_workers(session: &mut Session) -> Vec<Worker> {
    let mut crew = vec![w("a", 1), w("b", 2), w("c", 3)];
    session.add_all(&mut crew).await.unwrap();
    session.commit().await.unwrap();
    session
        .scalars(orm::select::<Worker>().order_by([worker::id.asc()]))
        .await
        .unwrap()
        .all()
}

/// The table's rows as (name, rank, nickname), by name, read on a
/// connection of its own.
async fn worker_rows(db: &TestDb) -> Vec<(String, i64, Option<String>)> {
    let mut conn = db.engine.connect().await.unwrap();
    conn.execute(&text(
        "SELECT name, rank, nickname FROM more_worker ORDER BY name",
    ))
    .await
    .unwrap()
    .all()
    .into_iter()
    .map(|r| (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap()))
    .collect()
}

fn row(name: &str, rank: i64, nickname: Option<&str>) -> (String, i64, Option<String>) {
    (name.into(), rank, nickname.map(Into::into))
}

/// Whether the backend has UPDATE ... RETURNING (MariaDB has not).
fn update_returning(db: &TestDb) -> bool {
    db.engine.dialect().features().update_returning
}

// ------------------------------------------------------------ item 6

/// `Evaluate`: the criteria and the SET expression are computed on the
/// held objects in memory; one UPDATE is all that is sent (SQLAlchemy:
/// the same one), and the objects read back without SQL.
async fn update_evaluate_changes_held_objects(db: TestDb) {
    let (db, sessions) = setup(db, "more_update_evaluate").await;
    let mut session = sessions.session();
    let crew = three_workers(&mut session).await;
    let (log, _guard) = SqlLog::start();
    let n = session
        .execute_update(
            orm::update::<Worker>()
                .value("rank", worker::rank.expr() + 10)
                .where_(worker::rank.ge(2))
                .synchronize_session(SynchronizeSession::Evaluate),
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    let sent = log.take();
    assert_eq!(sent.len(), 1, "one UPDATE: {sent:?}");
    assert!(sent[0].starts_with("UPDATE more_worker SET "), "{sent:?}");
    let ranks = [
        session
            .get::<Worker>(crew[0].id.unwrap())
            .await
            .unwrap()
            .unwrap()
            .rank,
        session
            .get::<Worker>(crew[1].id.unwrap())
            .await
            .unwrap()
            .unwrap()
            .rank,
        session
            .get::<Worker>(crew[2].id.unwrap())
            .await
            .unwrap()
            .unwrap()
            .rank,
    ];
    assert_eq!(ranks, [1, 12, 13]);
    assert!(log.take().is_empty(), "synchronized in memory: no SELECT");
    session.commit().await.unwrap();
    assert_eq!(
        worker_rows(&db).await,
        [row("a", 1, None), row("b", 12, None), row("c", 13, None)]
    );
    drop(session);
    db.close().await;
}

/// `Fetch`: the database says which rows changed. PostgreSQL and SQLite:
/// `UPDATE ... RETURNING` the key and the new values, one statement;
/// MariaDB (no UPDATE ... RETURNING): `SELECT key ... FOR UPDATE`, then the
/// UPDATE, two (SQLAlchemy sends the same SELECT first there).
async fn update_fetch_changes_held_objects(db: TestDb) {
    let (db, sessions) = setup(db, "more_update_fetch").await;
    let mut session = sessions.session();
    let crew = three_workers(&mut session).await;
    let (log, _guard) = SqlLog::start();
    // LIKE is not evaluated in memory (backends differ on case): Fetch.
    let n = session
        .execute_update(
            orm::update::<Worker>()
                .value("nickname", "bee")
                .where_(worker::name.like("b%"))
                .synchronize_session(SynchronizeSession::Fetch),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let sent = log.take();
    if update_returning(&db) {
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert!(sent[0].contains(" RETURNING "), "{sent:?}");
    } else {
        assert_eq!(sent.len(), 2, "{sent:?}");
        assert!(
            sent[0].starts_with("SELECT ") && sent[0].ends_with("FOR UPDATE"),
            "{sent:?}"
        );
    }
    let b: Worker = session.get(crew[1].id.unwrap()).await.unwrap().unwrap();
    assert_eq!(b.nickname.as_deref(), Some("bee"));
    let a: Worker = session.get(crew[0].id.unwrap()).await.unwrap().unwrap();
    assert_eq!(a.nickname, None);
    assert!(log.take().is_empty(), "synchronized: no SELECT");

    // Auto with text in the criteria: fetched as well (collations decide
    // text comparisons); the same statements.
    session
        .execute_update(
            orm::update::<Worker>()
                .value("rank", 7)
                .filter_by("name", "c"),
        )
        .await
        .unwrap();
    assert_eq!(log.take().len(), if update_returning(&db) { 1 } else { 2 });
    let c: Worker = session.get(crew[2].id.unwrap()).await.unwrap().unwrap();
    assert_eq!(c.rank, 7);
    assert!(log.take().is_empty());
    session.commit().await.unwrap();
    assert_eq!(
        worker_rows(&db).await,
        [
            row("a", 1, None),
            row("b", 2, Some("bee")),
            row("c", 7, None)
        ]
    );
    drop(session);
    db.close().await;
}

/// `Auto` with nothing held: the plain statement (no RETURNING, no SELECT);
/// `None`: the plain statement, and every held object of the type expires
/// (the next `get` reloads it).
async fn update_auto_and_none(db: TestDb) {
    let (db, sessions) = setup(db, "more_update_auto").await;
    let mut session = sessions.session();
    let crew = three_workers(&mut session).await;
    session.expunge_all();
    let (log, _guard) = SqlLog::start();
    let n = session
        .execute_update(
            orm::update::<Worker>()
                .value("rank", 5)
                .filter_by("name", "a"),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let sent = log.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(!sent[0].contains("RETURNING"), "{sent:?}");

    let _: Worker = session.get(crew[1].id.unwrap()).await.unwrap().unwrap();
    log.take();
    session
        .execute_update(
            orm::update::<Worker>()
                .value("rank", 6)
                .filter_by("name", "b")
                .synchronize_session(SynchronizeSession::None),
        )
        .await
        .unwrap();
    assert_eq!(log.take().len(), 1);
    let b: Worker = session.get(crew[1].id.unwrap()).await.unwrap().unwrap();
    assert_eq!(b.rank, 6);
    assert_eq!(log.take().len(), 1, "expired: one SELECT");
    session.commit().await.unwrap();
    assert_eq!(
        worker_rows(&db).await,
        [row("a", 5, None), row("b", 6, None), row("c", 3, None)]
    );
    drop(session);
    db.close().await;
}

/// DELETE by criteria: evaluated (one DELETE) or fetched (one
/// `DELETE ... RETURNING` on all three backends: MariaDB has that one);
/// the deleted objects leave the identity map and are `Deleted`, and a
/// change to one is refused with a typed error naming the mapper and key.
async fn delete_synchronized(db: TestDb) {
    let (db, sessions) = setup(db, "more_delete_sync").await;
    let mut session = sessions.session();
    let crew = three_workers(&mut session).await;
    let (log, _guard) = SqlLog::start();
    let n = session
        .execute_delete(
            orm::delete::<Worker>()
                .where_(worker::rank.eq(1))
                .synchronize_session(SynchronizeSession::Evaluate),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(log.take().len(), 1);
    assert_eq!(session.state_of(&crew[0]).unwrap(), ObjectState::Deleted);
    assert_eq!(session.state_of(&crew[1]).unwrap(), ObjectState::Persistent);

    let n = session
        .execute_delete(
            orm::delete::<Worker>()
                .where_(worker::name.like("b%"))
                .synchronize_session(SynchronizeSession::Fetch),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let sent = log.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains(" RETURNING "), "{sent:?}");
    assert_eq!(session.state_of(&crew[1]).unwrap(), ObjectState::Deleted);

    // Changing a deleted object: refused, nothing staged or sent.
    let mut stale = crew[1].clone();
    stale.rank = 99;
    let err = session.add(&mut stale).await.unwrap_err();
    match &err {
        Error::InvalidRequest {
            type_name, field, ..
        } => {
            assert!(type_name.ends_with("Worker"), "{err}");
            assert_eq!(field, "id");
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    assert!(!session.is_dirty());
    assert!(log.take().is_empty());
    // A get of a deleted row: one SELECT, nothing found.
    assert_eq!(
        session.get::<Worker>(crew[0].id.unwrap()).await.unwrap(),
        None
    );
    session.commit().await.unwrap();
    assert_eq!(session.state_of(&crew[1]).unwrap(), ObjectState::Detached);
    assert_eq!(worker_rows(&db).await, [row("c", 3, None)]);
    drop(session);
    db.close().await;
}

/// Bad input: an unknown field in a criteria or a SET, a column the table
/// lacks, criteria `Evaluate` cannot compute, a value that does not fit:
/// typed errors naming the mapper and the field, nothing sent; the session
/// stays usable after `rollback()`.
async fn bad_criteria_get_typed_errors(db: TestDb) {
    let (db, sessions) = setup(db, "more_bad_criteria").await;
    let mut session = sessions.session();
    let crew = three_workers(&mut session).await;
    let (log, _guard) = SqlLog::start();
    let invalid = |e: Error| match e {
        Error::InvalidRequest {
            type_name, field, ..
        } => {
            assert!(type_name.ends_with("Worker"), "{type_name}");
            field
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    };
    let e = session
        .execute_update(
            orm::update::<Worker>()
                .value("rank", 1)
                .filter_by("nmae", "a"),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("`nmae`"), "{e}");
    assert_eq!(invalid(e), "nmae");
    let e = session
        .execute_update(orm::update::<Worker>().value("rnak", 1))
        .await
        .unwrap_err();
    assert_eq!(invalid(e), "rnak");
    let e = session
        .execute_delete(orm::delete::<Worker>().where_(worker::table().c("bogus").eq(1)))
        .await
        .unwrap_err();
    assert_eq!(invalid(e), "bogus");
    let e = session
        .execute_delete(
            orm::delete::<Worker>()
                .where_(worker::name.like("a%"))
                .synchronize_session(SynchronizeSession::Evaluate),
        )
        .await
        .unwrap_err();
    assert_eq!(invalid(e), "LIKE");
    // "x" is no integer: the field's codec error, naming field and column.
    let e = session
        .execute_update(orm::update::<Worker>().value("rank", "x"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Codec { field: "rank", .. }), "{e:?}");
    assert!(log.take().is_empty(), "nothing was sent");

    session.rollback().await.unwrap();
    let n = session
        .execute_update(
            orm::update::<Worker>()
                .value("rank", 4)
                .filter_by("name", "a"),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let a: Worker = session.get(crew[0].id.unwrap()).await.unwrap().unwrap();
    assert_eq!(a.rank, 4);
    session.commit().await.unwrap();
    assert_eq!(
        worker_rows(&db).await,
        [row("a", 4, None), row("b", 2, None), row("c", 3, None)]
    );
    drop(session);
    db.close().await;
}

on_all_backends!(
    update_evaluate_changes_held_objects,
    update_fetch_changes_held_objects,
    update_auto_and_none,
    delete_synchronized,
    bad_criteria_get_typed_errors,
);

// ------------------------------------------------------------ item 14

/// Every state, as SQLAlchemy names them, through a unit of work, with no
/// SQL for the questions.
async fn object_states(db: TestDb) {
    let (db, sessions) = setup(db, "more_states").await;
    let mut session = sessions.session();
    let mut acct = Account {
        id: 7,
        owner: "Ann".into(),
    };
    let mut vlad = w("Vlad", 1);
    let (log, _guard) = SqlLog::start();
    assert_eq!(session.state_of(&acct).unwrap(), ObjectState::Transient);
    assert_eq!(session.state_of(&vlad).unwrap(), ObjectState::Transient);
    session.add(&mut acct).await.unwrap(); // a known key: staged, no SQL
    assert_eq!(session.state_of(&acct).unwrap(), ObjectState::Pending);
    assert!(log.take().is_empty());
    // A generated key: INSERT now (with the pending account in one flush).
    session.add(&mut vlad).await.unwrap();
    assert_eq!(log.take().len(), 2, "one INSERT per table");
    assert_eq!(session.state_of(&acct).unwrap(), ObjectState::Persistent);
    assert_eq!(session.state_of(&vlad).unwrap(), ObjectState::Persistent);
    session.commit().await.unwrap();
    assert_eq!(
        session.state_of(&vlad).unwrap(),
        ObjectState::Persistent,
        "expired, still held"
    );

    session.delete(&acct).unwrap();
    assert_eq!(
        session.state_of(&acct).unwrap(),
        ObjectState::Persistent,
        "until the flush"
    );
    session.flush().await.unwrap();
    assert_eq!(session.state_of(&acct).unwrap(), ObjectState::Deleted);
    session.commit().await.unwrap();
    assert_eq!(session.state_of(&acct).unwrap(), ObjectState::Detached);
    log.take();

    // After a rollback every object the session held is detached: the
    // database may hold other values now.
    let _: Worker = session.get(vlad.id.unwrap()).await.unwrap().unwrap();
    session.rollback().await.unwrap();
    assert_eq!(session.state_of(&vlad).unwrap(), ObjectState::Detached);
    let again: Worker = session.get(vlad.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(session.state_of(&again).unwrap(), ObjectState::Persistent);
    assert_eq!(log.take().len(), 2, "BEGIN is not logged: two SELECTs");
    session.commit().await.unwrap();
    let mut conn = db.engine.connect().await.unwrap();
    let accounts = conn
        .execute(&text("SELECT count(*) FROM more_account"))
        .await
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(accounts.as_i64(), Some(0));
    conn.commit().await.unwrap();
    drop(conn);
    drop(session);
    db.close().await;
}

/// `expunge`: the object leaves the session (its staged changes too) and
/// the next `get` loads it again; `expunge_all` forgets everything staged
/// and held, and nothing of it reaches the tables.
async fn expunge_and_expunge_all(db: TestDb) {
    let (db, sessions) = setup(db, "more_expunge").await;
    let mut session = sessions.session();
    let crew = three_workers(&mut session).await;
    let (log, _guard) = SqlLog::start();
    let mut a = crew[0].clone();
    a.rank = 50;
    session.add(&mut a).await.unwrap(); // UPDATE staged
    assert!(session.is_dirty());
    session.expunge(&a).unwrap();
    assert!(!session.is_dirty(), "its UPDATE is forgotten");
    assert_eq!(session.state_of(&a).unwrap(), ObjectState::Detached);
    assert_eq!(session.state_of(&crew[1]).unwrap(), ObjectState::Persistent);
    assert!(log.take().is_empty());
    let back: Worker = session.get(a.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(back.rank, 1);
    assert_eq!(log.take().len(), 1, "loaded again: one SELECT");

    // A pending object expunged is transient: its INSERT is never sent.
    let mut acct = Account {
        id: 1,
        owner: "Bob".into(),
    };
    session.add(&mut acct).await.unwrap();
    session.expunge(&acct).unwrap();
    assert_eq!(session.state_of(&acct).unwrap(), ObjectState::Transient);

    let mut b = crew[1].clone();
    b.nickname = Some("gone".into());
    session.add(&mut b).await.unwrap();
    session
        .add(&mut Account {
            id: 2,
            owner: "Eve".into(),
        })
        .await
        .unwrap();
    session.expunge_all();
    assert!(!session.is_dirty());
    assert_eq!(session.identity_count(), 0);
    for o in &crew {
        assert_eq!(session.state_of(o).unwrap(), ObjectState::Detached);
    }
    session.commit().await.unwrap();
    assert!(log.take().is_empty(), "nothing was sent");
    assert_eq!(
        worker_rows(&db).await,
        [row("a", 1, None), row("b", 2, None), row("c", 3, None)]
    );
    let mut conn = db.engine.connect().await.unwrap();
    let accounts = conn
        .execute(&text("SELECT count(*) FROM more_account"))
        .await
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(accounts.as_i64(), Some(0));
    conn.commit().await.unwrap();
    drop(conn);
    drop(session);
    db.close().await;
}

/// `no_autoflush`: a query inside the guard sees the database without the
/// staged UPDATE (one SELECT, no UPDATE); after the guard the setting is
/// back and the next query flushes first (UPDATE, SELECT).
async fn no_autoflush_scope(db: TestDb) {
    let (db, sessions) = setup(db, "more_no_autoflush").await;
    let mut session = sessions.session();
    let crew = three_workers(&mut session).await;
    let mut a = crew[0].clone();
    a.name = "alpha".into();
    session.add(&mut a).await.unwrap();
    let (log, _guard) = SqlLog::start();
    {
        let mut s = session.no_autoflush();
        assert!(!s.autoflush_enabled());
        let found = s
            .scalars(orm::select::<Worker>().filter_by("name", "alpha"))
            .await
            .unwrap();
        assert!(found.is_empty(), "the UPDATE is not sent");
        assert!(s.is_dirty());
    }
    let sent = log.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].starts_with("SELECT"));
    assert!(session.autoflush_enabled());
    let found = session
        .scalars(orm::select::<Worker>().filter_by("name", "alpha"))
        .await
        .unwrap()
        .all();
    assert_eq!(found.len(), 1);
    let sent = log.take();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[0].starts_with("UPDATE") && sent[1].starts_with("SELECT"));
    session.commit().await.unwrap();
    assert_eq!(
        worker_rows(&db).await,
        [row("alpha", 1, None), row("b", 2, None), row("c", 3, None)]
    );
    drop(session);
    db.close().await;
}

/// Two objects of one key in one `add_all` stage one INSERT (the second's
/// values replace the first's); the flush reads the server's value back
/// and both objects get the row as stored, the second as much as the
/// first (the write-back of a kept row serves every object staged into
/// its change).
async fn add_all_same_key_writes_back_both(db: TestDb) {
    let (db, sessions) = setup(db, "more_same_key_write_back").await;
    let (log, _guard) = SqlLog::start();
    let mut session = sessions.session();
    let mut pair = vec![Badge { id: 7, label: None }, Badge { id: 7, label: None }];
    session.add_all(&mut pair).await.unwrap();
    let inserts = log
        .take()
        .iter()
        .filter(|s| s.starts_with("INSERT"))
        .count();
    assert_eq!(inserts, 1, "one INSERT for the one key");
    for b in &pair {
        assert_eq!(
            b,
            &Badge {
                id: 7,
                label: Some("new".into())
            }
        );
    }
    session.commit().await.unwrap();
    let mut conn = db.engine.connect().await.unwrap();
    let rows = conn
        .execute(&text("SELECT count(*) FROM more_badge"))
        .await
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(rows.as_i64(), Some(1));
    conn.commit().await.unwrap();
    drop(conn);
    drop(session);
    db.close().await;
}

on_all_backends!(object_states, expunge_and_expunge_all, no_autoflush_scope);
on_all_backends!(add_all_same_key_writes_back_both);

// ------------------------------------------------------------ item 7

fn plain(name: &str, rank: i64) -> Vec<(&'static str, Value)> {
    vec![("name", Value::from(name)), ("rank", Value::from(rank))]
}

/// `INSERT ... RETURNING` objects: one statement per batch of rows naming
/// the same columns (SQLAlchemy batches by key set too); the objects carry
/// their generated keys and are persistent (a `get` costs nothing).
async fn insert_returning_gives_objects(db: TestDb) {
    let (db, sessions) = setup(db, "more_insert_returning").await;
    let mut session = sessions.session();
    let (log, _guard) = SqlLog::start();
    let mut with_nick = plain("c", 3);
    with_nick.push(("nickname", Value::from("cee")));
    let crew: Vec<Worker> = session
        .insert_returning(orm::insert::<Worker>().rows([plain("a", 1), plain("b", 2), with_nick]))
        .await
        .unwrap();
    let sent = log.take();
    assert_eq!(sent.len(), 2, "two shapes, two INSERTs: {sent:?}");
    assert!(sent
        .iter()
        .all(|s| s.starts_with("INSERT INTO more_worker") && s.contains(" RETURNING ")));
    assert_eq!(
        crew.iter()
            .map(|w| (w.name.as_str(), w.rank, w.nickname.as_deref()))
            .collect::<Vec<_>>(),
        [("a", 1, None), ("b", 2, None), ("c", 3, Some("cee"))]
    );
    assert!(
        crew.windows(2).all(|p| p[0].id.unwrap() < p[1].id.unwrap()),
        "{crew:?}"
    );
    for w in &crew {
        assert_eq!(session.state_of(w).unwrap(), ObjectState::Persistent);
        assert_eq!(
            session.get::<Worker>(w.id.unwrap()).await.unwrap().as_ref(),
            Some(w)
        );
    }
    assert!(log.take().is_empty(), "held: no SELECT");
    session.commit().await.unwrap();
    assert_eq!(
        worker_rows(&db).await,
        [
            row("a", 1, None),
            row("b", 2, None),
            row("c", 3, Some("cee"))
        ]
    );
    drop(session);
    db.close().await;
}

/// `UPDATE ... RETURNING` objects. PostgreSQL and SQLite: one statement.
/// MariaDB (no UPDATE ... RETURNING): SELECT the keys FOR UPDATE, UPDATE
/// them, SELECT their rows: three (one when nothing matches).
async fn update_returning_gives_objects(db: TestDb) {
    let (db, sessions) = setup(db, "more_update_returning").await;
    let mut session = sessions.session();
    let crew = three_workers(&mut session).await;
    let (log, _guard) = SqlLog::start();
    let mut changed: Vec<Worker> = session
        .execute_update_returning(
            orm::update::<Worker>()
                .value("rank", worker::rank.expr() + 10)
                .where_(worker::rank.ge(2)),
        )
        .await
        .unwrap();
    let sent = log.take();
    assert_eq!(
        sent.len(),
        if update_returning(&db) { 1 } else { 3 },
        "{sent:?}"
    );
    changed.sort_by_key(|w| w.id);
    assert_eq!(
        changed
            .iter()
            .map(|w| (w.name.as_str(), w.rank))
            .collect::<Vec<_>>(),
        [("b", 12), ("c", 13)]
    );
    let b: Worker = session.get(crew[1].id.unwrap()).await.unwrap().unwrap();
    assert_eq!(b, changed[0]);
    assert!(log.take().is_empty(), "the returned rows are the snapshots");

    let none: Vec<Worker> = session
        .execute_update_returning(
            orm::update::<Worker>()
                .value("rank", 0)
                .where_(worker::rank.gt(100)),
        )
        .await
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(log.take().len(), 1);
    session.commit().await.unwrap();
    assert_eq!(
        worker_rows(&db).await,
        [row("a", 1, None), row("b", 12, None), row("c", 13, None)]
    );
    drop(session);
    db.close().await;
}

/// Bulk INSERT from plain values: 500 rows in one INSERT, no object built
/// or held; then a bulk UPDATE by key of all 500 in one statement.
async fn bulk_insert_and_update_plain_values(db: TestDb) {
    let (db, sessions) = setup(db, "more_bulk_plain").await;
    let mut session = sessions.session();
    let (log, _guard) = SqlLog::start();
    let n = session
        .execute_insert(
            orm::insert::<Worker>().rows((0..500).map(|i| plain(&format!("w{i:03}"), i))),
        )
        .await
        .unwrap();
    assert_eq!(n, 500);
    let sent = log.take();
    assert_eq!(sent.len(), 1, "one multi-row INSERT");
    assert_eq!(session.identity_count(), 0, "no objects held");
    let ids: Vec<i64> = session
        .execute(&text("SELECT id FROM more_worker ORDER BY name"))
        .await
        .unwrap()
        .all()
        .into_iter()
        .map(|r| r.get(0).unwrap())
        .collect();
    log.take();
    let n = session
        .bulk_update::<Worker, _, _, _>(ids.iter().enumerate().map(|(i, id)| {
            vec![
                ("id", Value::from(*id)),
                ("rank", Value::from(i as i64 * 2)),
            ]
        }))
        .await
        .unwrap();
    assert_eq!(n, 500);
    assert_eq!(log.take().len(), 1, "one joined UPDATE for 500 rows");

    // Bad input: an unknown field, nothing sent.
    let e = session
        .execute_insert(orm::insert::<Worker>().values([("nmae", Value::from("x"))]))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidRequest { field, .. } if field == "nmae"),
        "{e:?}"
    );
    assert!(log.take().is_empty());
    session.commit().await.unwrap();
    let rows = worker_rows(&db).await;
    assert_eq!(rows.len(), 500);
    assert!(rows
        .iter()
        .enumerate()
        .all(|(i, r)| r.0 == format!("w{i:03}") && r.1 == i as i64 * 2));
    drop(session);
    db.close().await;
}

/// Bulk UPDATE by primary key: one statement per shape of row, the held
/// objects' snapshots follow; a key that matches no row is stale data, a
/// missing key, a repeated key or a deleted object's key a typed error,
/// and the session recovers with `rollback()`.
async fn bulk_update_by_primary_key(db: TestDb) {
    let (db, sessions) = setup(db, "more_bulk_update").await;
    let mut session = sessions.session();
    let crew = three_workers(&mut session).await;
    let id = |i: usize| Value::from(crew[i].id.unwrap());
    let (log, _guard) = SqlLog::start();
    let n = session
        .bulk_update::<Worker, _, _, _>([
            vec![("id", id(0)), ("rank", Value::from(10))],
            vec![("id", id(1)), ("rank", Value::from(20))],
            vec![("id", id(2)), ("nickname", Value::from("cee"))],
        ])
        .await
        .unwrap();
    assert_eq!(n, 3);
    let sent = log.take();
    assert_eq!(sent.len(), 2, "two shapes: {sent:?}");
    let joined = if db.engine.dialect().features().update_from {
        "WITH orm_changes "
    } else {
        "UPDATE more_worker INNER JOIN (SELECT "
    };
    assert!(sent.iter().all(|s| s.starts_with(joined)), "{sent:?}");
    let a: Worker = session.get(crew[0].id.unwrap()).await.unwrap().unwrap();
    let c: Worker = session.get(crew[2].id.unwrap()).await.unwrap().unwrap();
    assert_eq!((a.rank, c.nickname.as_deref()), (10, Some("cee")));
    assert!(log.take().is_empty(), "snapshots follow: no SELECT");
    session.commit().await.unwrap();

    let missing = |field: &str, e: Error| match e {
        Error::InvalidRequest {
            type_name,
            field: f,
            ..
        } => {
            assert!(type_name.ends_with("Worker"));
            assert_eq!(f, field);
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    };
    let e = session
        .bulk_update::<Worker, _, _, _>([vec![("rank", Value::from(1))]])
        .await
        .unwrap_err();
    missing("id", e);
    let e = session
        .bulk_update::<Worker, _, _, _>([
            vec![("id", id(0)), ("rank", Value::from(1))],
            vec![("id", id(0)), ("rank", Value::from(2))],
        ])
        .await
        .unwrap_err();
    missing("id", e);
    assert!(log.take().is_empty());

    let e = session
        .bulk_update::<Worker, _, _, _>([
            vec![("id", id(0)), ("rank", Value::from(1))],
            vec![("id", Value::from(999_999)), ("rank", Value::from(2))],
        ])
        .await
        .unwrap_err();
    assert!(matches!(e, Error::StaleData { .. }), "{e:?}");
    session.rollback().await.unwrap();

    session.delete(&crew[1]).unwrap();
    session.flush().await.unwrap();
    let e = session
        .bulk_update::<Worker, _, _, _>([vec![("id", id(1)), ("rank", Value::from(5))]])
        .await
        .unwrap_err();
    missing("id", e);
    session.rollback().await.unwrap();
    session
        .bulk_update::<Worker, _, _, _>([vec![("id", id(1)), ("rank", Value::from(7))]])
        .await
        .unwrap();
    session.commit().await.unwrap();
    assert_eq!(
        worker_rows(&db).await,
        [
            row("a", 10, None),
            row("b", 7, None),
            row("c", 3, Some("cee"))
        ]
    );
    drop(session);
    db.close().await;
}

/// Streaming: the objects come one at a time from one SELECT and are not
/// held; loader options are refused. (Constant memory is measured in
/// `orm_stream_memory.rs`.)
async fn stream_objects(db: TestDb) {
    use futures_util::TryStreamExt;
    let (db, sessions) = setup(db, "more_stream").await;
    let mut session = sessions.session();
    let loaded = three_workers(&mut session).await;
    session.expunge_all();
    let (log, _guard) = SqlLog::start();
    let mut streamed = Vec::new();
    {
        let mut s = session
            .stream(orm::select::<Worker>().order_by([worker::id.asc()]))
            .await
            .unwrap();
        while let Some(w) = s.try_next().await.unwrap() {
            streamed.push(w);
        }
    }
    assert_eq!(streamed, loaded);
    assert_eq!(log.take().len(), 1);
    assert_eq!(session.identity_count(), 0);
    assert_eq!(
        session.state_of(&streamed[0]).unwrap(),
        ObjectState::Detached
    );
    let e = session
        .stream(orm::select::<Worker>().options([orm::selectinload("posts")]))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&e, Error::InvalidRequest { field, .. } if field == "posts"),
        "{e:?}"
    );
    session.commit().await.unwrap();
    assert_eq!(worker_rows(&db).await.len(), 3);
    drop(session);
    db.close().await;
}

on_all_backends!(
    insert_returning_gives_objects,
    update_returning_gives_objects,
    bulk_insert_and_update_plain_values,
    bulk_update_by_primary_key,
    stream_objects,
);

// ------------------------------------------------------------ item 9

#[derive(Debug, Clone, PartialEq, Default)]
struct Publisher {
    id: Option<i64>,
    name: String,
    posts: Vec<Post>,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Post {
    id: Option<i64>,
    title: String,
    publisher_id: Option<i64>,
    publisher: Option<Publisher>,
    tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Tag {
    id: Option<i64>,
    name: String,
}

/// A self-referential relationship: managers and their reports.
#[derive(Debug, Clone, PartialEq, Default)]
struct Employee {
    id: Option<i64>,
    name: String,
    manager_id: Option<i64>,
    reports: Vec<Employee>,
    manager: Option<Box<Employee>>,
}

persistence::model!(mod publisher for Publisher in "more_publisher" {
    id: Option<i64> = presets::intpk,
    name: String = |c| c.of_type(SqlType::string(100)),
    ..{ posts }
});

persistence::model!(mod post for Post in "more_post" {
    id: Option<i64> = presets::intpk,
    title: String = |c| c.of_type(SqlType::string(100)),
    publisher_id: Option<i64> = |c| c.foreign_key("more_publisher.id"),
    ..{ publisher, tags }
});

persistence::model!(mod tag for Tag in "more_tag" {
    id: Option<i64> = presets::intpk,
    name: String = |c| c.of_type(SqlType::string(100)),
});

persistence::model!(mod employee for Employee in "more_employee" {
    id: Option<i64> = presets::intpk,
    name: String = |c| c.of_type(SqlType::string(100)),
    manager_id: Option<i64> = |c| c.foreign_key("more_employee.id"),
    ..{ reports, manager }
});

fn graph_registry() -> Mappers {
    use persistence::dialects::{Column, Table};
    use persistence::orm::{RelOptions, RelationshipDef};
    let mut registry = Registry::new();
    let post_tag = registry.add_table(
        Table::new("more_post_tag")
            .column(
                Column::new("post_id", SqlType::BigInteger)
                    .primary_key()
                    .foreign_key("more_post.id"),
            )
            .column(
                Column::new("tag_id", SqlType::BigInteger)
                    .primary_key()
                    .foreign_key("more_tag.id"),
            ),
    );
    registry
        .map(publisher::model())
        .relationship(RelationshipDef::many(
            "posts",
            |p: &Publisher| &p.posts,
            |p| &mut p.posts,
            RelOptions::default(),
        ))
        .finish();
    registry
        .map(post::model())
        .relationship(RelationshipDef::parent(
            "publisher",
            |p: &Post| &p.publisher,
            |p| &mut p.publisher,
            RelOptions::default(),
        ))
        .relationship(RelationshipDef::many(
            "tags",
            |p: &Post| &p.tags,
            |p| &mut p.tags,
            RelOptions::default().secondary(&post_tag),
        ))
        .finish();
    registry.map(tag::model()).finish();
    registry
        .map(employee::model())
        .relationship(RelationshipDef::many(
            "reports",
            |e: &Employee| &e.reports,
            |e| &mut e.reports,
            RelOptions::default(),
        ))
        .relationship(RelationshipDef::parent::<Employee, _>(
            "manager",
            |e: &Employee| &e.manager,
            |e| &mut e.manager,
            RelOptions::default(),
        ))
        .finish();
    registry.configure().unwrap()
}

/// Manning: "Rust in Action" (rust, systems), "Kafka Streams" (java);
/// O'Reilly: "Programming Rust" (rust); No Starch: no posts. Employees:
/// boss <- ann, bob; bob <- cid.
async fn graph_setup(db: TestDb, name: &str) -> (TestDb, SessionMaker) {
    let db = db.reopen(name, EngineOptions::default().echo(true)).await;
    let mappers = graph_registry();
    db.create_tables(mappers.metadata()).await;
    let sessions = SessionMaker::new(db.engine.clone(), mappers);
    let mut s = sessions.session();
    let rows = |pairs: &[&[(&'static str, Value)]]| -> Vec<Vec<(&'static str, Value)>> {
        pairs.iter().map(|r| r.to_vec()).collect()
    };
    fn v(x: impl Into<Value>) -> Value {
        x.into()
    }
    s.execute_insert(orm::insert::<Publisher>().rows(rows(&[
        &[("id", v(1)), ("name", v("Manning"))],
        &[("id", v(2)), ("name", v("O'Reilly"))],
        &[("id", v(3)), ("name", v("No Starch"))],
    ])))
    .await
    .unwrap();
    s.execute_insert(orm::insert::<Post>().rows(rows(&[
        &[
            ("id", v(1)),
            ("title", v("Rust in Action")),
            ("publisher_id", v(1)),
        ],
        &[
            ("id", v(2)),
            ("title", v("Kafka Streams")),
            ("publisher_id", v(1)),
        ],
        &[
            ("id", v(3)),
            ("title", v("Programming Rust")),
            ("publisher_id", v(2)),
        ],
    ])))
    .await
    .unwrap();
    s.execute_insert(orm::insert::<Tag>().rows(rows(&[
        &[("id", v(1)), ("name", v("rust"))],
        &[("id", v(2)), ("name", v("systems"))],
        &[("id", v(3)), ("name", v("java"))],
    ])))
    .await
    .unwrap();
    s.execute(&text(
        "INSERT INTO more_post_tag (post_id, tag_id) VALUES (1, 1), (1, 2), (2, 3), (3, 1)",
    ))
    .await
    .unwrap();
    for (id, name, manager) in [
        (1, "boss", None),
        (2, "ann", Some(1)),
        (3, "bob", Some(1)),
        (4, "cid", Some(3)),
    ] {
        s.execute_insert(orm::insert::<Employee>().values([
            ("id", v(id)),
            ("name", v(name)),
            ("manager_id", manager.map_or(Value::Null, Value::from)),
        ]))
        .await
        .unwrap();
    }
    s.commit().await.unwrap();
    (db, sessions)
}

fn names_of<T>(items: &[T], name: fn(&T) -> &str) -> Vec<String> {
    let mut out: Vec<String> = items.iter().map(|i| name(i).to_owned()).collect();
    out.sort();
    out
}

/// `any` / `has` / `contains` in WHERE: one SELECT each, with an EXISTS
/// subquery built from the relationship's join columns (SQLAlchemy sends
/// the same one statement).
async fn relationship_operators(db: TestDb) {
    let (db, sessions) = graph_setup(db, "more_rel_operators").await;
    let mut session = sessions.session();
    let posts = session.rel::<Publisher>("posts").unwrap();
    let tags = session.rel::<Post>("tags").unwrap();
    let pub_of = session.rel::<Post>("publisher").unwrap();
    let pname: fn(&Publisher) -> &str = |p| &p.name;
    let title: fn(&Post) -> &str = |p| &p.title;
    let (log, _guard) = SqlLog::start();

    let with_posts = session
        .scalars(orm::select::<Publisher>().where_(posts.any().unwrap()))
        .await
        .unwrap()
        .all();
    assert_eq!(names_of(&with_posts, pname), ["Manning", "O'Reilly"]);
    let sent = log.take();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].contains("WHERE EXISTS (SELECT 1 FROM more_post WHERE"),
        "{sent:?}"
    );

    let none = session
        .scalars(
            orm::select::<Publisher>().where_(persistence::dialects::not_(posts.any().unwrap())),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(names_of(&none, pname), ["No Starch"]);
    let kafka = session
        .scalars(
            orm::select::<Publisher>().where_(posts.any_where(post::title.like("Kafka%")).unwrap()),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(names_of(&kafka, pname), ["Manning"]);
    let by_manning = session
        .scalars(
            orm::select::<Post>().where_(pub_of.has_where(publisher::name.eq("Manning")).unwrap()),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(
        names_of(&by_manning, title),
        ["Kafka Streams", "Rust in Action"]
    );
    let java = session
        .scalars(orm::select::<Post>().where_(tags.any_where(tag::name.eq("java")).unwrap()))
        .await
        .unwrap()
        .all();
    assert_eq!(names_of(&java, title), ["Kafka Streams"]);
    let rust_tag = Tag {
        id: Some(1),
        name: "rust".into(),
    };
    let rusty = session
        .scalars(orm::select::<Post>().where_(tags.contains(&rust_tag).unwrap()))
        .await
        .unwrap()
        .all();
    assert_eq!(
        names_of(&rusty, title),
        ["Programming Rust", "Rust in Action"]
    );
    let programming_rust = rusty.iter().find(|p| p.id == Some(3)).unwrap().clone();
    let holder = session
        .scalars(orm::select::<Publisher>().where_(posts.contains(&programming_rust).unwrap()))
        .await
        .unwrap()
        .all();
    assert_eq!(names_of(&holder, pname), ["O'Reilly"]);
    assert_eq!(log.take().len(), 6, "one SELECT per query");

    // Wrong use: typed errors naming the mapper and the relationship.
    let e = session.rel::<Publisher>("psots").unwrap_err();
    assert!(
        matches!(&e, Error::InvalidRequest { type_name, field, .. }
        if type_name.ends_with("Publisher") && field == "psots"),
        "{e:?}"
    );
    let e = pub_of.any().unwrap_err();
    assert!(
        matches!(&e, Error::InvalidRequest { field, .. } if field == "publisher"),
        "{e:?}"
    );
    let e = posts.contains(&rust_tag).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidRequest { field, .. } if field == "posts"),
        "{e:?}"
    );
    session.commit().await.unwrap();
    drop(session);
    db.close().await;
}

/// Joins along relationships, also through the secondary table and to an
/// aliased target; a self-referential relationship's subqueries read the
/// table through an alias.
async fn joins_along_relationships(db: TestDb) {
    let (db, sessions) = graph_setup(db, "more_rel_joins").await;
    let mut session = sessions.session();
    let posts = session.rel::<Publisher>("posts").unwrap();
    let tags = session.rel::<Post>("tags").unwrap();
    let pname: fn(&Publisher) -> &str = |p| &p.name;
    let (log, _guard) = SqlLog::start();
    let rust_publishers = session
        .scalars(
            orm::select::<Publisher>()
                .join_rel(&posts)
                .join_rel(&tags)
                .where_(tag::name.eq("rust"))
                .distinct(),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(names_of(&rust_publishers, pname), ["Manning", "O'Reilly"]);
    let p = post::table().alias("p");
    let kafka = session
        .scalars(
            orm::select::<Publisher>()
                .join_rel(&posts.of_type(&p))
                .where_(p.c("title").eq("Kafka Streams")),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(names_of(&kafka, pname), ["Manning"]);
    let outer = session
        .scalars(
            orm::select::<Publisher>()
                .outerjoin_rel(&posts)
                .where_(post::id.is_null()),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(names_of(&outer, pname), ["No Starch"]);
    let sent = log.take();
    assert_eq!(sent.len(), 3);
    assert!(
        sent[1].contains("JOIN more_post AS p ON p.publisher_id = more_publisher.id"),
        "{sent:?}"
    );

    let ename: fn(&Employee) -> &str = |e| &e.name;
    let reports = session.rel::<Employee>("reports").unwrap();
    let manager = session.rel::<Employee>("manager").unwrap();
    let managers = session
        .scalars(orm::select::<Employee>().where_(reports.any().unwrap()))
        .await
        .unwrap()
        .all();
    assert_eq!(names_of(&managers, ename), ["bob", "boss"]);
    // The criterion names the table; it is moved onto the subquery's alias.
    let under_boss = session
        .scalars(
            orm::select::<Employee>().where_(manager.has_where(employee::name.eq("boss")).unwrap()),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(names_of(&under_boss, ename), ["ann", "bob"]);
    let boss = employee::table().alias("boss");
    let bobs_team = session
        .scalars(
            orm::select::<Employee>()
                .join_rel(&manager.of_type(&boss))
                .where_(boss.c("name").eq("bob")),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(names_of(&bobs_team, ename), ["cid"]);
    assert_eq!(log.take().len(), 3);
    session.commit().await.unwrap();
    drop(session);
    db.close().await;
}

/// The operators in an ORM DELETE by criteria: `Auto` cannot evaluate a
/// subquery, so it fetches the keys (one `DELETE ... RETURNING` on all
/// three backends) and the deleted object leaves the identity map.
async fn operators_in_bulk_delete(db: TestDb) {
    let (db, sessions) = graph_setup(db, "more_rel_delete").await;
    let mut session = sessions.session();
    let posts = session.rel::<Publisher>("posts").unwrap();
    let all = session
        .scalars(orm::select::<Publisher>().order_by([publisher::id.asc()]))
        .await
        .unwrap()
        .all();
    let (log, _guard) = SqlLog::start();
    let n = session
        .execute_delete(
            orm::delete::<Publisher>().where_(persistence::dialects::not_(posts.any().unwrap())),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let sent = log.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].starts_with("DELETE FROM more_publisher WHERE NOT (EXISTS")
            || sent[0].starts_with("DELETE FROM more_publisher WHERE NOT EXISTS"),
        "{sent:?}"
    );
    assert_eq!(session.state_of(&all[2]).unwrap(), ObjectState::Deleted);
    assert_eq!(session.state_of(&all[0]).unwrap(), ObjectState::Persistent);
    session.commit().await.unwrap();
    let mut conn = db.engine.connect().await.unwrap();
    let names: Vec<String> = conn
        .execute(&text("SELECT name FROM more_publisher ORDER BY id"))
        .await
        .unwrap()
        .all()
        .into_iter()
        .map(|r| r.get(0).unwrap())
        .collect();
    assert_eq!(names, ["Manning", "O'Reilly"]);
    conn.commit().await.unwrap();
    drop(conn);
    drop(session);
    db.close().await;
}

on_all_backends!(
    relationship_operators,
    joins_along_relationships,
    operators_in_bulk_delete
);
