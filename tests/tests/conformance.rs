//! The repository conformance suite (`domain::conformance`) on four
//! implementations: `SqlRepository` / `SqlUnitOfWork` on SQLite,
//! PostgreSQL and MariaDB, through their public API only, and the
//! in-memory fake.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::conformance::{self, FakeHarness, Harness, Item};
use domain::{async_trait, DomainError, Repository};
use persistence::dialects::{delete, Column, SqlType, Table};
use persistence::orm::{Registry, SessionMaker};
use persistence::repository::{SqlRepository, SqlUnitOfWork};
use persistence::{mapping, Engine, SchemaExt};
use tests::{on_all_backends, TestDb};

/// The suite's `Item` mapped to a table of its own.
struct SqlHarness {
    engine: Engine,
    sessions: SessionMaker,
    table: Table,
}

impl SqlHarness {
    async fn new(engine: Engine) -> SqlHarness {
        let table = Table::new("conformance_item")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::string(64)).not_null().unique())
            .column(Column::new("rank", SqlType::BigInteger).not_null())
            .column(Column::new("note", SqlType::string(200)).nullable(true));
        let mut registry = Registry::new();
        registry
            .map_imperatively(
                &table,
                mapping!(Item {
                    id: Option<i64> = "id",
                    name: String = "name",
                    rank: i64 = "rank",
                    note: Option<String> = "note",
                }),
            )
            .finish();
        let mappers = registry.configure().unwrap();
        let mut conn = engine.connect().await.unwrap();
        mappers.metadata().create_all(&mut conn).await.unwrap();
        conn.commit().await.unwrap();
        drop(conn);
        SqlHarness {
            sessions: SessionMaker::new(engine.clone(), mappers),
            engine,
            table,
        }
    }
}

#[async_trait]
impl Harness for SqlHarness {
    type Uow = SqlUnitOfWork;

    async fn reset(&self) -> Result<(), DomainError> {
        let mut conn = self
            .engine
            .connect()
            .await
            .map_err(persistence::repository::to_domain)?;
        conn.execute(&delete(&self.table))
            .await
            .map_err(persistence::repository::to_domain)?;
        conn.commit()
            .await
            .map_err(persistence::repository::to_domain)
    }

    async fn begin(&self) -> Result<SqlUnitOfWork, DomainError> {
        Ok(SqlUnitOfWork::new(&self.sessions))
    }

    fn items(&self, uow: &SqlUnitOfWork) -> Box<dyn Repository<Item>> {
        let items: SqlRepository<Item> = uow.repository();
        Box::new(items)
    }
}

async fn sql_repository_conforms(db: TestDb) {
    let harness = SqlHarness::new(db.engine.clone()).await;
    let outcome = conformance::run_all(&harness).await;
    assert!(
        outcome.failed.is_empty(),
        "{:?}: {:#?}",
        db.backend,
        outcome.failed
    );
    assert_eq!(outcome.passed.len(), 16, "{:?}", outcome.passed);
    drop(harness);
    db.close().await;
}

on_all_backends!(sql_repository_conforms);

#[tokio::test]
async fn in_memory_fake_conforms() {
    let report = conformance::run(&FakeHarness::new())
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(report.passed.len(), 16);
}
