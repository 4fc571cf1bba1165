//! Batched inserts through the ORM: the generated keys of a large
//! `add_all` land on the right objects (checked through the identity map
//! against the rows the database holds), on every backend; on SQLite also
//! when the keys come from rowids and a trigger or AUTOINCREMENT gaps make
//! the shortcut inapplicable or its first guess wrong.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use persistence::dialects::{text, Column, SqlType, Table};
use persistence::orm::{Mappers, Registry, Session, SessionMaker};
use persistence::{mapping, EngineOptions, SchemaExt};
use tests::capture::SqlLog;
use tests::{on_all_backends, TestBackend, TestDb};

#[derive(Debug, Clone, PartialEq)]
struct Worker {
    id: Option<i64>,
    name: String,
    nickname: Option<String>,
}

fn registry() -> Mappers {
    let mut registry = Registry::new();
    let worker = Table::new("bulk_worker")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(
            Column::new("name", SqlType::string(100))
                .not_null()
                .unique(),
        )
        .column(Column::new("nickname", SqlType::string(100)).nullable(true));
    registry
        .map_imperatively(
            &worker,
            mapping!(Worker {
                id: Option<i64> = "id",
                name: String = "name",
                nickname: Option<String> = "nickname",
            }),
        )
        .finish();
    registry.configure().unwrap()
}

async fn echo_db(backend: TestBackend, name: &str) -> TestDb {
    TestDb::with_options(backend, name, EngineOptions::default().echo(true)).await
}

async fn setup(db: &TestDb) -> SessionMaker {
    let m = registry();
    let mut conn = db.engine.connect().await.unwrap();
    m.metadata().drop_all(&mut conn).await.unwrap();
    m.metadata().create_all(&mut conn).await.unwrap();
    SessionMaker::new(db.engine.clone(), m)
}

fn workers(prefix: &str, n: usize) -> Vec<Worker> {
    (0..n)
        .map(|i| Worker {
            id: None,
            name: format!("{prefix}{i}"),
            nickname: (i % 3 == 0).then(|| format!("n{i}")),
        })
        .collect()
}

/// Every row the session's transaction sees is in the identity map under
/// its own key, with its own values (no SQL for the gets); returns how many
/// rows named `prefix...` there are.
async fn check_identities(session: &mut Session, prefix: &str) -> usize {
    let rows = session
        .execute(&text("SELECT id, name, nickname FROM bulk_worker"))
        .await
        .unwrap()
        .all();
    let (log, _guard) = SqlLog::start();
    let mut found = 0;
    for row in rows {
        let id: i64 = row.get(0).unwrap();
        let name: String = row.get(1).unwrap();
        let nickname: Option<String> = row.get(2).unwrap();
        if !name.starts_with(prefix) {
            continue;
        }
        let w: Worker = session.get(id).await.unwrap().unwrap();
        assert_eq!(
            w,
            Worker {
                id: Some(id),
                name,
                nickname
            }
        );
        found += 1;
    }
    assert!(log.take().is_empty(), "identity-map hits need no SQL");
    found
}

async fn bulk_keys_land_on_their_objects(db: TestDb) {
    let db = echo_db(db.backend, "orm_bulk_keys").await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    session.add_all(&mut workers("w", 300)).await.unwrap();
    session.flush().await.unwrap();
    assert_eq!(check_identities(&mut session, "w").await, 300);
    // A change to one of them updates that row only.
    let rows = session
        .execute(&text("SELECT id FROM bulk_worker WHERE name = 'w7'"))
        .await
        .unwrap()
        .all();
    let id: i64 = rows[0].get(0).unwrap();
    let mut w7: Worker = session.get(id).await.unwrap().unwrap();
    w7.nickname = Some("seven".into());
    session.add(&mut w7).await.unwrap();
    session.commit().await.unwrap();
    let n = session
        .execute(&text(
            "SELECT count(*) FROM bulk_worker WHERE nickname = 'seven'",
        ))
        .await
        .unwrap()
        .scalar()
        .unwrap()
        .as_i64()
        .unwrap();
    assert_eq!(n, 1);
    session.commit().await.unwrap();
    drop(session);
    db.close().await;
}

on_all_backends!(bulk_keys_land_on_their_objects);

/// `persist_all`: one flush for all the new objects (multi-row INSERTs, no
/// round trip per object), and each object gets its own generated key.
async fn persist_all_writes_each_generated_key_back(db: TestDb) {
    let db = echo_db(db.backend, "orm_bulk_persist_all").await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    let mut batch = workers("p", 150);
    // One known identity among new ones: staged as an INSERT with its id.
    batch.push(Worker {
        id: Some(100_000),
        name: "given".into(),
        nickname: None,
    });
    let (log, guard) = SqlLog::start();
    session.add_all(&mut batch).await.unwrap();
    let inserts = log
        .take()
        .into_iter()
        .filter(|s| s.contains("INSERT INTO"))
        .count();
    drop(guard);
    let per_row = if db.backend == TestBackend::MySql {
        151
    } else {
        0
    };
    assert!(
        inserts <= 4 || inserts == per_row,
        "{inserts} INSERT statements for 151 objects"
    );
    for w in &batch {
        let id = w.id.expect("a key written back");
        let row = session
            .execute(&text(&format!(
                "SELECT name FROM bulk_worker WHERE id = {id}"
            )))
            .await
            .unwrap()
            .all();
        let name: String = row[0].get(0).unwrap();
        assert_eq!(name, w.name, "the key of {} is its own row's", w.name);
    }
    let mut ids: Vec<i64> = batch.iter().filter_map(|w| w.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 151, "no two objects share a key");
    session.commit().await.unwrap();
    // Nothing new: no SQL, and the objects stay as they are.
    let before = batch.clone();
    session.add_all(&mut batch).await.unwrap();
    assert_eq!(batch, before);
    session.commit().await.unwrap();
    drop(session);
    db.close().await;
}

on_all_backends!(persist_all_writes_each_generated_key_back);

/// SQLite: a trigger that inserts rows of its own into the table makes
/// rowids non-consecutive; the batch then reads its keys with RETURNING.
#[tokio::test]
async fn sqlite_trigger_on_the_table_falls_back_to_returning() {
    let db = echo_db(TestBackend::Sqlite, "orm_bulk_trigger").await;
    let sessions = setup(&db).await;
    let mut conn = db.engine.connect().await.unwrap();
    conn.execute(&text(
        "CREATE TRIGGER bulk_shadow AFTER INSERT ON bulk_worker WHEN NEW.name LIKE 'w%' \
         BEGIN INSERT INTO bulk_worker (name) VALUES ('shadow-' || NEW.name); END",
    ))
    .await
    .unwrap();
    conn.commit().await.unwrap();
    drop(conn);
    let mut session = sessions.session();
    let (log, guard) = SqlLog::start();
    // New rows without keys: `add_all` flushes at once to write them back.
    session.add_all(&mut workers("w", 200)).await.unwrap();
    let statements = log.take();
    drop(guard);
    assert!(
        statements
            .iter()
            .any(|s| s.starts_with("INSERT") && s.contains("RETURNING")),
        "{:?}",
        statements
            .iter()
            .map(|s| &s[..60.min(s.len())])
            .collect::<Vec<_>>()
    );
    assert_eq!(check_identities(&mut session, "w").await, 200);
    let shadows = session
        .execute(&text(
            "SELECT count(*) FROM bulk_worker WHERE name LIKE 'shadow-%'",
        ))
        .await
        .unwrap()
        .scalar()
        .unwrap()
        .as_i64()
        .unwrap();
    assert_eq!(shadows, 200);
    session.commit().await.unwrap();
    drop(session);
    db.close().await;
}

/// SQLite: with AUTOINCREMENT, rowids freed by deletes are not reused, so
/// the keys guessed from the largest rowid are wrong and are corrected from
/// `last_insert_rowid()`.
#[tokio::test]
async fn sqlite_autoincrement_gaps_are_corrected() {
    let db = echo_db(TestBackend::Sqlite, "orm_bulk_autoinc").await;
    let sessions = setup(&db).await;
    let mut conn = db.engine.connect().await.unwrap();
    conn.execute(&text("DROP TABLE bulk_worker")).await.unwrap();
    conn.execute(&text(
        "CREATE TABLE bulk_worker (id INTEGER PRIMARY KEY AUTOINCREMENT, \
         name VARCHAR(100) NOT NULL UNIQUE, nickname VARCHAR(100))",
    ))
    .await
    .unwrap();
    conn.commit().await.unwrap();
    drop(conn);
    let mut session = sessions.session();
    session.add_all(&mut workers("a", 100)).await.unwrap();
    session.commit().await.unwrap();
    session
        .execute(&text("DELETE FROM bulk_worker WHERE id > 50"))
        .await
        .unwrap();
    session.commit().await.unwrap();
    // One INSERT per chunk of `add_all`: the first guesses wrong and is
    // corrected, the next ones follow on from the last rowid.
    let (log, guard) = SqlLog::start();
    session.add_all(&mut workers("b", 25_000)).await.unwrap();
    let statements = log.take();
    drop(guard);
    let inserts = statements
        .iter()
        .filter(|s| s.starts_with("INSERT"))
        .collect::<Vec<_>>();
    assert_eq!(
        inserts.len(),
        25_000_usize.div_ceil(persistence::orm::session::ADD_ALL_CHUNK)
    );
    assert!(
        inserts.iter().all(|s| !s.contains("RETURNING")),
        "the rowid path ran"
    );
    assert_eq!(check_identities(&mut session, "b").await, 25_000);
    let smallest = session
        .execute(&text(
            "SELECT min(id) FROM bulk_worker WHERE name LIKE 'b%'",
        ))
        .await
        .unwrap()
        .scalar()
        .unwrap()
        .as_i64()
        .unwrap();
    assert_eq!(smallest, 101, "AUTOINCREMENT does not reuse 51..100");
    session.commit().await.unwrap();
    drop(session);
    db.close().await;
}
