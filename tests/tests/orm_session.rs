//! The seed's ORM section on every backend: mapping plain structs, add /
//! add_all / commit, ids assigned at flush, refresh, expire_all, the
//! identity map, dirty checking (one UPDATE of one column), bulk update and
//! delete, a failed batch leaving the tables unchanged, and the version
//! column raising stale data.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use persistence::dialects::{func, select, Column, SqlType, Table, Value};
use persistence::orm::{self, presets, Mappers, Registry, SessionMaker};
use persistence::{mapping, EngineOptions, Error, SchemaExt};
use tests::capture::SqlLog;
use tests::{on_all_backends, TestBackend, TestDb};

/// A plain domain struct: no derive from the framework.
#[derive(Debug, Clone, PartialEq)]
struct Worker {
    id: Option<i64>,
    name: String,
    nickname: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Account {
    id: i64,
    owner: String,
    balance: i64,
    version: i64,
}

/// Declarative: the table is inferred from the field types.
#[derive(Debug, Clone, PartialEq)]
struct Post {
    id: Option<i64>,
    title: String,
    draft: bool,
    created_at: Option<chrono::NaiveDateTime>,
}

persistence::columns!(mod worker for Worker in "worker" {
    id: i64,
    name: String,
    nickname: Option<String>,
});

fn registry() -> Mappers {
    let mut registry = Registry::new();
    let worker = Table::new("worker")
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
    let account = Table::new("account")
        .column(
            Column::new("id", SqlType::BigInteger)
                .primary_key()
                .autoincrement(false),
        )
        .column(Column::new("owner", SqlType::string(100)).not_null())
        .column(Column::new("balance", SqlType::BigInteger).not_null())
        .column(Column::new("version", SqlType::BigInteger).not_null());
    registry
        .map_imperatively(
            &account,
            mapping!(Account {
                id: i64 = "id",
                owner: String = "owner",
                balance: i64 = "balance",
                version: i64 = "version",
            }),
        )
        .version("version")
        .finish();
    registry.type_annotation::<String>(SqlType::string(256));
    registry
        .map_declarative(
            "post",
            mapping!(Post {
                id: Option<i64> = "id",
                title: String = "title",
                draft: bool = "draft",
                created_at: Option<chrono::NaiveDateTime> = "created_at",
            }),
        )
        .column("id", presets::intpk)
        .column("created_at", presets::created_at)
        .column("draft", |c| c.default(true))
        .finish();
    registry.configure().unwrap()
}

async fn setup(db: &TestDb) -> SessionMaker {
    let mappers = registry();
    let mut conn = db.engine.connect().await.unwrap();
    mappers.metadata().drop_all(&mut conn).await.unwrap();
    mappers.metadata().create_all(&mut conn).await.unwrap();
    SessionMaker::new(db.engine.clone(), mappers)
}

fn w(name: &str) -> Worker {
    Worker {
        id: None,
        name: name.into(),
        nickname: None,
    }
}

async fn count_rows(db: &TestDb, table: &str) -> i64 {
    let mut conn = db.engine.connect().await.unwrap();
    conn.execute(&persistence::dialects::text(&format!(
        "SELECT count(*) FROM {table}"
    )))
    .await
    .unwrap()
    .scalar()
    .unwrap()
    .as_i64()
    .unwrap()
}

async fn add_commit_and_ids(db: TestDb) {
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    let mut vlad = w("Vlad");
    session.add(&mut vlad).await.unwrap();
    assert!(vlad.id.is_some(), "flush wrote the generated id back");
    session.add(&mut w("Ann")).await.unwrap();
    session
        .add_all([&mut w("Bob"), &mut w("Eve")])
        .await
        .unwrap();
    session.commit().await.unwrap();
    assert_eq!(count_rows(&db, "worker").await, 4);

    let all = session
        .scalars(orm::select::<Worker>().order_by([worker::id.asc()]))
        .await
        .unwrap()
        .all();
    let names: Vec<&str> = all.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["Vlad", "Ann", "Bob", "Eve"]);
    assert!(
        all.windows(2).all(|p| p[0].id < p[1].id),
        "ids assigned in order: {all:?}"
    );

    // Declarative mapping: defaults from the ORM and the server.
    let mut post = Post {
        id: None,
        title: "Hello".into(),
        draft: false,
        created_at: None,
    };
    session.add(&mut post).await.unwrap();
    assert!(post.id.is_some());
    assert!(post.created_at.is_some(), "server default written back");
    session.commit().await.unwrap();
    drop(session);
    db.close().await;
}

async fn identity_map_and_dirty_checking(db: TestDb) {
    let db =
        TestDb::with_options(db.backend, "orm_dirty", EngineOptions::default().echo(true)).await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    let mut vlad = w("Vlad");
    session.add(&mut vlad).await.unwrap();
    session.commit().await.unwrap();
    let id = vlad.id.unwrap();

    let (log, _guard) = SqlLog::start();
    let mut found: Worker = session.get(id).await.unwrap().unwrap();
    assert_eq!(found, vlad);
    assert_eq!(log.take().len(), 1, "expired after commit: one SELECT");
    let again: Worker = session.get(id).await.unwrap().unwrap();
    assert_eq!(again, vlad);
    assert!(log.take().is_empty(), "identity map hit: no SQL");

    // Unchanged: nothing staged, nothing emitted.
    session.add(&mut found).await.unwrap();
    assert!(!session.is_dirty());

    // One field changed: exactly one UPDATE of that column.
    found.nickname = Some("V".into());
    session.add(&mut found).await.unwrap();
    session.commit().await.unwrap();
    let statements = log.take();
    let updates: Vec<&String> = statements
        .iter()
        .filter(|s| s.starts_with("UPDATE"))
        .collect();
    assert_eq!(updates.len(), 1, "{statements:?}");
    let set = updates[0].split(" WHERE ").next().unwrap();
    assert!(
        set.ends_with("SET nickname = $1") || set.ends_with("SET nickname = ?"),
        "{}",
        updates[0]
    );

    // expire_all: the next get reloads, and sees a change made elsewhere.
    let mut conn = db.engine.connect().await.unwrap();
    conn.execute(&persistence::dialects::text(
        "UPDATE worker SET name = 'Vladimir'",
    ))
    .await
    .unwrap();
    conn.commit().await.unwrap();
    drop(conn);
    let cached: Worker = session.get(id).await.unwrap().unwrap();
    assert_eq!(cached.name, "Vladimir", "expired on commit, so reloaded");
    session.expire_all();
    log.take();
    let reloaded: Worker = session.get(id).await.unwrap().unwrap();
    assert_eq!(log.take().len(), 1);
    assert_eq!(reloaded.name, "Vladimir");

    // refresh() overwrites a local copy with the database's row.
    let mut stale = found.clone();
    stale.name = "local edit".into();
    session.refresh(&mut stale).await.unwrap();
    assert_eq!(stale.name, "Vladimir");
    session.commit().await.unwrap();
    drop(session);
    db.close().await;
}

async fn bulk_update_and_delete(db: TestDb) {
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    session
        .add_all([&mut w("a1"), &mut w("a2"), &mut w("b1")])
        .await
        .unwrap();
    session.commit().await.unwrap();
    let n = session
        .execute_update(
            orm::update::<Worker>()
                .value("nickname", "bulk")
                .where_(worker::name.like("a%")),
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    let n = session
        .execute_delete(orm::delete::<Worker>().filter_by("name", "b1"))
        .await
        .unwrap();
    assert_eq!(n, 1);
    session.commit().await.unwrap();
    let left = session
        .scalars(orm::select::<Worker>().order_by([worker::name.asc()]))
        .await
        .unwrap()
        .all();
    assert_eq!(
        left.iter()
            .map(|w| (w.name.as_str(), w.nickname.as_deref()))
            .collect::<Vec<_>>(),
        [("a1", Some("bulk")), ("a2", Some("bulk"))]
    );
    drop(session);
    db.close().await;
}

async fn failed_batch_changes_nothing(db: TestDb) {
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    session.add(&mut w("first")).await.unwrap();
    session.commit().await.unwrap();

    // The third row violates the unique constraint on name: the rows
    // need their generated keys, so `add_all` flushes them at once.
    let err = session
        .add_all([&mut w("x"), &mut w("y"), &mut w("first"), &mut w("z")])
        .await
        .unwrap_err();
    assert!(err.is_integrity(), "{err:?}");
    assert_eq!(
        count_rows(&db, "worker").await,
        1,
        "nothing of the batch persisted"
    );

    // Until rollback(), the session refuses work.
    let refused = session.scalars(orm::select::<Worker>()).await.unwrap_err();
    assert!(
        matches!(refused, Error::PendingRollback { .. }),
        "{refused:?}"
    );
    session.rollback().await.unwrap();
    session.add(&mut w("after")).await.unwrap();
    session.commit().await.unwrap();
    assert_eq!(count_rows(&db, "worker").await, 2);
    drop(session);
    db.close().await;
}

async fn version_column_raises_stale_data(db: TestDb) {
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    let mut acc = Account {
        id: 1,
        owner: "Vlad".into(),
        balance: 100,
        version: 1,
    };
    session.add(&mut acc).await.unwrap();
    session.commit().await.unwrap();

    let mut mine: Account = session.get(1_i64).await.unwrap().unwrap();
    session.commit().await.unwrap();
    // Another unit of work changes the row underneath.
    let mut other = sessions.session();
    let mut theirs: Account = other.get(1_i64).await.unwrap().unwrap();
    theirs.balance = 50;
    other.add(&mut theirs).await.unwrap();
    other.commit().await.unwrap();
    let after: Account = other.get(1_i64).await.unwrap().unwrap();
    assert_eq!(after.version, 2, "the version column was incremented");
    other.commit().await.unwrap();

    mine.balance = 200;
    session.add(&mut mine).await.unwrap();
    let err = session.commit().await.unwrap_err();
    assert!(matches!(err, Error::StaleData { .. }), "{err:?}");
    session.rollback().await.unwrap();
    let row: Account = session.get(1_i64).await.unwrap().unwrap();
    assert_eq!((row.balance, row.version), (50, 2));
    drop(session);
    drop(other);
    db.close().await;
}

async fn merge_and_delete(db: TestDb) {
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    let mut vlad = w("Vlad");
    session.add(&mut vlad).await.unwrap();
    session.commit().await.unwrap();

    // A detached copy (e.g. from a request) merged into a fresh session.
    let mut other = sessions.session();
    let mut detached = vlad.clone();
    detached.nickname = Some("merged".into());
    let merged = other.merge(&detached).await.unwrap();
    assert_eq!(merged.nickname.as_deref(), Some("merged"));
    other.commit().await.unwrap();
    let row: Worker = other.get(vlad.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(row.nickname.as_deref(), Some("merged"));

    other.delete(&row).unwrap();
    other.commit().await.unwrap();
    assert_eq!(count_rows(&db, "worker").await, 0);
    assert!(other
        .get::<Worker>(vlad.id.unwrap())
        .await
        .unwrap()
        .is_none());
    drop(session);
    drop(other);
    db.close().await;
}

on_all_backends!(
    add_commit_and_ids,
    identity_map_and_dirty_checking,
    bulk_update_and_delete,
    failed_batch_changes_nothing,
    version_column_raises_stale_data,
    merge_and_delete
);

#[test]
fn configure_names_the_struct_and_field() {
    #[derive(Debug, Clone)]
    struct Bad {
        id: i64,
        name: String,
    }
    let table = Table::new("bad")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("title", SqlType::Text).not_null());
    let mut registry = Registry::new();
    registry
        .map_imperatively(
            &table,
            mapping!(Bad {
                id: i64 = "id",
                name: String = "name"
            }),
        )
        .finish();
    let err = registry.configure().unwrap_err();
    let text = err.to_string();
    assert!(text.contains("Bad") && text.contains("name"), "{text}");

    // A type mismatch.
    let mut registry = Registry::new();
    registry
        .map_imperatively(
            &table,
            mapping!(Bad {
                id: i64 = "id",
                name: String = "id"
            }),
        )
        .finish();
    assert!(matches!(registry.configure(), Err(Error::Mapping { .. })));

    // A missing primary key.
    #[derive(Debug, Clone)]
    struct NoKey {
        title: String,
    }
    let mut registry = Registry::new();
    registry
        .map_imperatively(
            &table,
            mapping!(NoKey {
                title: String = "title"
            }),
        )
        .finish();
    let err = registry.configure().unwrap_err();
    assert!(err.to_string().contains("primary key"), "{err}");

    // A column mapped by two fields.
    let mut registry = Registry::new();
    registry
        .map_imperatively(
            &table,
            mapping!(Bad {
                id: i64 = "id",
                name: String = "id"
            }),
        )
        .finish();
    assert!(registry.configure().is_err());
    let _ = (
        func::now(),
        select((Table::new("x").c("y"),)),
        Value::Null,
        TestBackend::Sqlite,
    );
}
