//! The testing kit on every backend: the savepoint fixture
//! (`TestTransaction`) leaves no row behind, whatever the test committed,
//! and keeps a failed unit of work from spoiling the outer transaction;
//! `TestDatabase` gives each test an isolated database (or schema) and
//! drops it on close, on the server source it was told to use.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::{DomainError, Entity, ListSpec, Repository, UnitOfWork};
use persistence::dialects::{func, insert, select, Column, SqlType, Table};
use persistence::orm::{Mappers, Registry};
use persistence::testing::{Isolation, ServerKind, TestDatabase, TestTransaction, TestingError};
use persistence::{mapping, Backend, Engine, Error, SchemaExt, SqlUnitOfWork};
use tests::{on_all_backends, TestBackend, TestDb};

#[derive(Debug, Clone, PartialEq)]
struct Worker {
    id: Option<i64>,
    name: String,
}

impl Entity for Worker {
    type Id = i64;
    fn id(&self) -> Option<i64> {
        self.id
    }
}

fn worker_table() -> Table {
    Table::new("kit_worker")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("name", SqlType::string(64)).not_null().unique())
}

fn mappers() -> Mappers {
    let mut registry = Registry::new();
    registry
        .map_imperatively(
            &worker_table(),
            mapping!(Worker { id: Option<i64> = "id", name: String = "name" }),
        )
        .finish();
    registry.configure().unwrap()
}

fn worker(name: &str) -> Worker {
    Worker {
        id: None,
        name: name.to_owned(),
    }
}

/// Rows of `kit_worker`, read on a connection of `engine` (outside any
/// test transaction when `engine` is the test database's own).
async fn rows(engine: &Engine) -> i64 {
    let mut conn = engine.connect().await.unwrap();
    let n = conn
        .execute(&select((func::count_star(),)).select_from(worker_table()))
        .await
        .unwrap()
        .scalar();
    n.and_then(|v| v.as_i64()).unwrap()
}

async fn schema(db: &TestDb) -> Mappers {
    let mappers = mappers();
    let mut conn = db.engine.connect().await.unwrap();
    mappers.metadata().create_all(&mut conn).await.unwrap();
    mappers
}

/// Units of work commit inside the fixture (savepoints), Core connections
/// too; after `rollback` the table is as empty as before.
async fn savepoint_fixture_leaves_no_row(db: TestDb) {
    let mappers = schema(&db).await;
    let tx = TestTransaction::begin(&db.engine).await.unwrap();
    let sessions = tx.sessions(mappers.clone());

    let mut uow = SqlUnitOfWork::new(&sessions);
    let workers = uow.repository::<Worker>();
    let stored = workers
        .add_all(vec![worker("Vlad"), worker("Ann")])
        .await
        .unwrap();
    assert!(stored.iter().all(|w| w.id.is_some()));
    uow.commit().await.unwrap();
    drop(workers);
    drop(uow);

    // A later unit of work sees what the first committed; its rollback
    // discards only its own work.
    let mut uow = SqlUnitOfWork::new(&sessions);
    let workers = uow.repository::<Worker>();
    assert_eq!(workers.count(&ListSpec::new()).await.unwrap(), 2);
    workers.add(worker("Temp")).await.unwrap();
    uow.rollback().await.unwrap();
    assert_eq!(workers.count(&ListSpec::new()).await.unwrap(), 2);
    drop(workers);
    drop(uow);

    // Core on the fixture's engine: a committed transaction is a released savepoint.
    let mut conn = tx.engine().connect().await.unwrap();
    let inner = conn.begin().await.unwrap();
    drop(inner); // rolled back to its savepoint
    let mut inner = conn.begin().await.unwrap();
    inner
        .execute(&insert(&worker_table()).values([("name", "Core")]))
        .await
        .unwrap();
    inner.commit().await.unwrap();
    drop(conn);
    assert_eq!(rows(tx.engine()).await, 3);

    let fixture_engine = tx.engine().clone();
    tx.rollback().await.unwrap();
    assert_eq!(rows(&db.engine).await, 0, "the fixture left rows behind");
    assert!(matches!(
        fixture_engine.connect().await,
        Err(Error::PoolClosed)
    ));

    // The connection went back clean: a second fixture works the same.
    let tx = TestTransaction::begin(&db.engine).await.unwrap();
    let mut uow = SqlUnitOfWork::new(&tx.sessions(mappers));
    uow.repository::<Worker>()
        .add(worker("Again"))
        .await
        .unwrap();
    uow.commit().await.unwrap();
    drop(uow);
    tx.rollback().await.unwrap();
    assert_eq!(rows(&db.engine).await, 0);
    db.close().await;
}

/// A unit of work whose commit fails (a unique violation) inside the
/// fixture rolls back to its savepoint: the outer transaction and what
/// was committed before stay usable (on PostgreSQL a failed statement
/// would otherwise abort the whole transaction).
async fn failed_commit_inside_fixture(db: TestDb) {
    let mappers = schema(&db).await;
    let tx = TestTransaction::begin(&db.engine).await.unwrap();
    let sessions = tx.sessions(mappers);
    let mut uow = SqlUnitOfWork::new(&sessions);
    uow.repository::<Worker>()
        .add(worker("Vlad"))
        .await
        .unwrap();
    uow.commit().await.unwrap();

    let workers = uow.repository::<Worker>();
    let dup = workers.add(worker("Vlad")).await;
    assert!(matches!(dup, Err(DomainError::Conflict(_))), "{dup:?}");
    uow.rollback().await.unwrap();
    let names: Vec<String> = workers
        .list(&ListSpec::new())
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, ["Vlad"]);
    drop(workers);
    drop(uow);
    tx.rollback().await.unwrap();
    assert_eq!(rows(&db.engine).await, 0);
    db.close().await;
}

/// `TestTransaction::run` rolls back also when the test body fails, and a
/// fixture dropped without `rollback` rolls back too.
async fn run_and_drop_roll_back(db: TestDb) {
    let mappers = schema(&db).await;
    let result: Result<Result<(), DomainError>, TestingError> =
        TestTransaction::run(&db.engine, async |tx| {
            let mut uow = SqlUnitOfWork::new(&tx.sessions(mappers.clone()));
            uow.repository::<Worker>().add(worker("Vlad")).await?;
            uow.commit().await?;
            Err(DomainError::invalid("the test failed after committing"))
        })
        .await;
    assert!(matches!(result, Ok(Err(DomainError::Invalid(_)))));
    assert_eq!(rows(&db.engine).await, 0);

    let tx = TestTransaction::begin(&db.engine).await.unwrap();
    let mut uow = SqlUnitOfWork::new(&tx.sessions(mappers));
    uow.repository::<Worker>()
        .add(worker("Dropped"))
        .await
        .unwrap();
    uow.commit().await.unwrap();
    drop(uow);
    drop(tx);
    // The connection comes back through the pool, rolled back.
    assert_eq!(rows(&db.engine).await, 0);
    db.close().await;
}

on_all_backends!(
    savepoint_fixture_leaves_no_row,
    failed_commit_inside_fixture,
    run_and_drop_roll_back
);

/// The server source the environment asked for (`TEST_DATABASE_SOURCE`,
/// or `TEST_EXPECT_SOURCE` where CI expects a fallback) is the one used.
fn assert_source(db: &TestDb) {
    let expected = std::env::var("TEST_EXPECT_SOURCE")
        .or_else(|_| std::env::var("TEST_DATABASE_SOURCE"))
        .unwrap_or_default();
    let kind = db.source();
    match (db.backend, expected.as_str(), kind) {
        (TestBackend::Sqlite, _, ServerKind::Embedded) => {}
        (_, "container", ServerKind::Container { .. })
        | (_, "local", ServerKind::Local { .. })
        | (_, "url", ServerKind::Url) => {}
        (
            _,
            "" | "auto",
            ServerKind::Url | ServerKind::Container { .. } | ServerKind::Local { .. },
        ) => {}
        other => panic!("TEST_DATABASE_SOURCE={expected:?} but the test database is on {other:?}"),
    }
}

/// Two test databases of one backend do not see each other's tables, and
/// `close` drops the database.
async fn test_databases_are_isolated(db: TestDb) {
    assert_source(&db);
    let other = TestDatabase::new(db.backend.backend(), "test_databases_are_isolated")
        .await
        .unwrap();
    assert_eq!(other.source(), db.source());
    if db.backend != TestBackend::Sqlite {
        assert_ne!(other.url(), db.url);
    }
    schema(&db).await;
    let mut conn = db.engine.connect().await.unwrap();
    conn.execute(&insert(&worker_table()).values([("name", "Vlad")]))
        .await
        .unwrap();
    drop(conn);
    let mut conn = other.engine().connect().await.unwrap();
    let missing = conn
        .execute(&select((func::count_star(),)).select_from(worker_table()))
        .await;
    assert!(
        missing.is_err(),
        "the other database has no kit_worker table"
    );
    drop(conn);
    let url = other.url().to_owned();
    let name = other.name().map(str::to_owned);
    other.close().await.unwrap();
    if db.backend != TestBackend::Sqlite {
        let gone = persistence::create_engine(&url).await;
        assert!(gone.is_err(), "database {name:?} still exists after close");
    }
    db.close().await;
}

on_all_backends!(test_databases_are_isolated);

/// PostgreSQL with `Isolation::Schema`: a schema per test in the server's
/// database, on the engine's search path; `close` drops it.
#[tokio::test]
async fn schema_isolation_on_postgres() {
    let a = TestDatabase::builder(Backend::Postgres, "schema_isolation")
        .isolation(Isolation::Schema)
        .create()
        .await
        .unwrap();
    let b = TestDatabase::builder(Backend::Postgres, "schema_isolation")
        .isolation(Isolation::Schema)
        .create()
        .await
        .unwrap();
    let mut conn = a.engine().connect().await.unwrap();
    let current = conn
        .execute(&persistence::dialects::text("SELECT current_schema()"))
        .await
        .unwrap()
        .scalar();
    assert_eq!(
        current
            .and_then(|v| v.as_str().map(str::to_owned))
            .as_deref(),
        a.name()
    );
    let mut metadata = persistence::dialects::MetaData::new();
    metadata.add(worker_table());
    metadata.create_all(&mut conn).await.unwrap();
    drop(conn);
    let mut conn = b.engine().connect().await.unwrap();
    let missing = conn
        .execute(&select((func::count_star(),)).select_from(worker_table()))
        .await;
    assert!(missing.is_err(), "schema b sees a's table");
    drop(conn);
    let a_url = a.url().to_owned();
    a.close().await.unwrap();
    // The schema is gone: its search path finds no table any more.
    let engine = persistence::create_engine(&a_url).await.unwrap();
    let mut conn = engine.connect().await.unwrap();
    let current = conn
        .execute(&persistence::dialects::text("SELECT current_schema()"))
        .await
        .unwrap()
        .scalar();
    assert_eq!(current.and_then(|v| v.as_str().map(str::to_owned)), None);
    drop(conn);
    engine.dispose().await;
    b.close().await.unwrap();
}
