//! [`TestTransaction`]: the savepoint-per-test fixture. A test runs inside
//! one outer transaction that is rolled back when it ends, so it leaves no
//! row behind, whatever it committed.
//!
//! This is SQLAlchemy's "joining a session into an external transaction"
//! recipe (`Session(bind=connection, join_transaction_mode="create_savepoint")`),
//! taken one level down: instead of binding one session to the outer
//! connection, [`TestTransaction::engine`] is an engine whose every
//! checkout is that connection. So everything the code under test builds on
//! it joins the outer transaction: sessions from a
//! [`SessionMaker`], [`SqlUnitOfWork`](crate::SqlUnitOfWork)s, Core
//! connections. On it, `begin` opens a savepoint, `commit` releases it,
//! `rollback` rolls back to it, and a connection returned to the pool is
//! rolled back to the outer transaction, never past it.
//!
//! SQLite needs no special handling here (SQLAlchemy's pysqlite recipe has
//! to re-emit `BEGIN` by hand): the driver sends `BEGIN` and `SAVEPOINT`
//! itself, and an in-memory database works too, because the fixture lends
//! the engine's one connection rather than opening another.
//!
//! # Contract
//!
//! - One connection: checkouts take turns. A test that holds two sessions
//!   with open transactions at once waits for the first, up to the engine's
//!   acquire timeout, then gets [`Error::PoolTimeout`].
//! - Create the schema before [`TestTransaction::begin`] (once per database,
//!   as SQLAlchemy's recipe does): MySQL and MariaDB commit implicitly on
//!   DDL, which would end the outer transaction. PostgreSQL and SQLite
//!   roll DDL back with everything else.
//! - Drop every session and connection of the fixture's engine before
//!   [`TestTransaction::rollback`]; it waits for the last checkout to come
//!   back (up to the acquire timeout).
//! - Dropping the fixture without `rollback` still rolls back: the
//!   connection goes back to its engine's pool, which rolls back what is
//!   open before reusing it.

use crate::engine::connection::Connection;
use crate::engine::engine::Engine;
use crate::engine::pool::Pool;
use crate::engine::transaction::{begin_raw, rollback_raw};
use crate::error::Error;
use crate::orm::{Mappers, SessionMaker};

use super::TestingError;

/// An outer transaction around one test, rolled back at the end.
///
/// ```
/// use domain::{ListSpec, Repository, UnitOfWork};
/// use persistence::orm::{Registry, SessionMaker};
/// use persistence::prelude::*;
/// use persistence::testing::TestTransaction;
/// use persistence::{mapping, SqlUnitOfWork};
///
/// #[derive(Debug, Clone)]
/// struct Worker { id: Option<i64>, name: String }
/// impl domain::Entity for Worker {
///     type Id = i64;
///     fn id(&self) -> Option<i64> { self.id }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut registry = Registry::new();
/// let worker = Table::new("worker")
///     .column(Column::new("id", SqlType::BigInteger).primary_key())
///     .column(Column::new("name", SqlType::string(64)).not_null());
/// registry
///     .map_imperatively(&worker, mapping!(Worker { id: Option<i64> = "id", name: String = "name" }))
///     .finish();
/// let mappers = registry.configure()?;
/// let engine = create_engine("sqlite::memory:").await?;
/// mappers.metadata().create_all(&mut engine.connect().await?).await?; // schema first
///
/// // The test: it commits, and still leaves nothing behind.
/// let tx = TestTransaction::begin(&engine).await?;
/// let mut uow = SqlUnitOfWork::new(&tx.sessions(mappers.clone()));
/// uow.repository::<Worker>().add(Worker { id: None, name: "Vlad".into() }).await?;
/// uow.commit().await?;                                  // RELEASE SAVEPOINT
/// assert_eq!(uow.repository::<Worker>().count(&ListSpec::new()).await?, 1);
/// drop(uow);
/// tx.rollback().await?;                                 // ROLLBACK of the outer transaction
///
/// let mut conn = engine.connect().await?;
/// let left = conn.execute(&select((func::count_star(),)).select_from(&worker)).await?.scalar();
/// assert_eq!(left.and_then(|v| v.as_i64()), Some(0));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TestTransaction {
    /// The engine every checkout of which is the outer connection.
    engine: Engine,
    /// The checkout of the parent engine that lent its connection; empty
    /// until the connection comes back.
    lender: Option<Connection>,
}

impl TestTransaction {
    /// Checks a connection out of `engine`, begins the outer transaction on
    /// it, and lends it to [`TestTransaction::engine`].
    pub async fn begin(engine: &Engine) -> Result<TestTransaction, TestingError> {
        let mut lender = engine.connect().await?;
        if lender.in_transaction() {
            return Err(TestingError::Fixture(
                "the connection handed out for the test transaction is already in a transaction"
                    .into(),
            ));
        }
        begin_raw(&mut lender).await?;
        let taken = lender.pooled().take_raw().ok_or(Error::PoolClosed)?;
        let pool = Pool::pinned(engine.pool(), taken);
        Ok(TestTransaction {
            engine: engine.with_pool(pool),
            lender: Some(lender),
        })
    }

    /// Runs `test` inside a test transaction on `engine` and rolls it back
    /// afterwards, also when `test` fails; returns what `test` returned.
    ///
    /// ```
    /// # use persistence::prelude::*;
    /// # use persistence::testing::TestTransaction;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let engine = create_engine("sqlite::memory:").await?;
    /// let mut setup = engine.connect().await?;
    /// setup.execute(&text("CREATE TABLE t (x INTEGER)")).await?;
    /// setup.commit().await?;
    /// drop(setup);
    /// let seen = TestTransaction::run(&engine, async |tx| {
    ///     let mut conn = tx.engine().connect().await?;
    ///     let inner = conn.begin().await?;                   // a savepoint
    ///     inner.commit().await?;
    ///     conn.execute(&text("INSERT INTO t VALUES (1)")).await?;
    ///     let n = conn.execute(&text("SELECT count(*) FROM t")).await?.scalar();
    ///     Ok::<_, persistence::Error>(n.and_then(|v| v.as_i64()))
    /// }).await??;
    /// assert_eq!(seen, Some(1));
    /// let mut conn = engine.connect().await?;
    /// let after = conn.execute(&text("SELECT count(*) FROM t")).await?.scalar();
    /// assert_eq!(after.and_then(|v| v.as_i64()), Some(0));
    /// # Ok(()) }
    /// ```
    pub async fn run<T, F>(engine: &Engine, test: F) -> Result<T, TestingError>
    where
        F: AsyncFnOnce(&TestTransaction) -> T,
    {
        let tx = TestTransaction::begin(engine).await?;
        let out = test(&tx).await;
        tx.rollback().await?;
        Ok(out)
    }

    /// The engine inside the outer transaction: every connection it hands
    /// out is the outer one, one checkout at a time.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A session maker on [`TestTransaction::engine`]: its sessions commit
    /// to savepoints of the outer transaction.
    pub fn sessions(&self, mappers: Mappers) -> SessionMaker {
        SessionMaker::new(self.engine.clone(), mappers)
    }

    /// Waits for the last checkout of [`TestTransaction::engine`] to come
    /// back, rolls the outer transaction back and returns the connection to
    /// the engine it came from. Later checkouts of the fixture's engine fail
    /// with [`Error::PoolClosed`].
    ///
    /// [`TestingError::TransactionLost`] when the connection was discarded
    /// during the test (a broken connection, or a statement cancelled
    /// half-way on PostgreSQL or MySQL): the server rolled it back then.
    pub async fn rollback(mut self) -> Result<(), TestingError> {
        let Some(mut lender) = self.lender.take() else {
            return Ok(());
        };
        let Some(taken) = self.engine.pool().unpin().await? else {
            lender.pooled().lost_raw();
            return Err(TestingError::TransactionLost);
        };
        let depth = taken.transaction_depth();
        lender.pooled().restore_raw(taken);
        // Savepoints left open by the test, then the outer transaction.
        for _ in 0..depth {
            rollback_raw(&mut lender).await?;
        }
        Ok(())
    }
}

impl Drop for TestTransaction {
    fn drop(&mut self) {
        let Some(mut lender) = self.lender.take() else {
            return;
        };
        // Without a runtime to wait on, take the connection back if it is
        // idle; the lender's pool then rolls back before reusing it.
        let pool = self.engine.pool().clone();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    match pool.unpin().await {
                        Ok(Some(taken)) => lender.pooled().restore_raw(taken),
                        _ => lender.pooled().lost_raw(),
                    }
                });
            }
            Err(_) => lender.pooled().lost_raw(),
        }
    }
}
