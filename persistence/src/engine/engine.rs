//! `Engine`: a pool of connections to one database plus its dialect
//! (SQLAlchemy's `create_engine`), and its options.

use std::sync::Arc;
use std::time::Duration;

use dialects::compiler::cache::{CacheStats, StatementCache};
use dialects::{Dialect, Value};

use super::connection::Connection;
use super::observe::Observer;
use super::pool::{Pool, PoolKind, PoolOptions, PoolStatus};
use super::retry::{RetryPolicy, Retryable};
use super::sqlite_options::SqliteOptions;
use super::transaction::{IsolationLevel, Transaction};
use super::url::{Backend, DatabaseUrl};
use crate::driver::ConnectConfig;
use crate::error::Error;
use crate::free_list::FreeList;

/// Options of [`create_engine_with`].
///
/// ```
/// use std::time::Duration;
/// use persistence::{EngineOptions, PoolKind};
/// let options = EngineOptions::default()
///     .echo(true)
///     .pool(PoolKind::Queue)
///     .pool_size(5)
///     .max_connections(10)
///     .acquire_timeout(Duration::from_secs(5))
///     .pre_ping(true)
///     .recycle(Some(Duration::from_secs(1800)))
///     .slow_statement_threshold(Some(Duration::from_millis(500)));
/// assert_eq!(options.pool.size, 5);
///
/// // Parameters never reach logs or error texts; slow statements are warned about.
/// let production = EngineOptions::production();
/// assert!(production.redact_params && production.slow_statement.is_some());
/// ```
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Log every statement, its parameters and its duration through
    /// `tracing` (target `persistence::echo`, level INFO), and transaction
    /// events at INFO (target `persistence::transaction`; DEBUG otherwise).
    pub echo: bool,
    /// Leave parameters out of error texts and echo logs, and mask the
    /// values servers quote in their messages. On by default in builds
    /// without debug assertions (release profiles) and in
    /// [`EngineOptions::production`].
    pub redact_params: bool,
    /// Warn (target `persistence::slow`) about statements that take at
    /// least this long.
    pub slow_statement: Option<Duration>,
    /// The isolation level transactions begin with (the backend's default when `None`).
    pub isolation_level: Option<IsolationLevel>,
    /// Connections do not begin transactions by themselves: each statement
    /// outside `begin()` commits on its own (SQLAlchemy's
    /// `isolation_level="AUTOCOMMIT"`), as `CREATE DATABASE` or `VACUUM`
    /// need. Off by default.
    pub autocommit: bool,
    /// The pool.
    pub pool: PoolOptions,
    /// SQLite's connection settings (pragmas); parameters of the same
    /// name in the URL take precedence.
    pub sqlite: SqliteOptions,
    /// How many statement shapes the compiled-statement cache holds
    /// (SQLAlchemy's `query_cache_size`, 500 by default); 0 disables it.
    /// A statement built at run time whose shape (its structure, values
    /// aside) was compiled before reuses that SQL. When full, the least
    /// recently used shape makes room for a new one.
    pub statement_cache_size: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            echo: false,
            redact_params: !cfg!(debug_assertions),
            slow_statement: None,
            isolation_level: None,
            autocommit: false,
            pool: PoolOptions::default(),
            sqlite: SqliteOptions::default(),
            statement_cache_size: dialects::compiler::cache::DEFAULT_CAPACITY,
        }
    }
}

impl EngineOptions {
    /// Options for development: parameters shown in errors and logs.
    pub fn development() -> Self {
        EngineOptions {
            redact_params: false,
            ..EngineOptions::default()
        }
    }

    /// Options for production: parameters redacted from errors and logs,
    /// statements slower than one second warned about, no echo.
    pub fn production() -> Self {
        EngineOptions {
            redact_params: true,
            slow_statement: Some(Duration::from_secs(1)),
            echo: false,
            ..EngineOptions::default()
        }
    }

    /// Warns about statements slower than `threshold` (`None`: never).
    pub fn slow_statement_threshold(mut self, threshold: Option<Duration>) -> Self {
        self.slow_statement = threshold;
        self
    }

    /// SQLite's pragmas (journal mode, synchronous, busy timeout, foreign keys).
    pub fn sqlite(mut self, sqlite: SqliteOptions) -> Self {
        self.sqlite = sqlite;
        self
    }

    /// Turns statement logging on or off.
    pub fn echo(mut self, on: bool) -> Self {
        self.echo = on;
        self
    }

    /// How many statement shapes the compiled-statement cache holds (0:
    /// none, every statement compiles).
    pub fn statement_cache_size(mut self, shapes: usize) -> Self {
        self.statement_cache_size = shapes;
        self
    }

    /// Leaves parameters out of errors and logs.
    pub fn redact_params(mut self, on: bool) -> Self {
        self.redact_params = on;
        self
    }

    /// Statements outside `begin()` commit on their own (no autobegin).
    pub fn autocommit(mut self, on: bool) -> Self {
        self.autocommit = on;
        self
    }

    /// Sets the isolation level of every transaction.
    pub fn isolation_level(mut self, level: IsolationLevel) -> Self {
        self.isolation_level = Some(level);
        self
    }

    /// Chooses the pool.
    pub fn pool(mut self, kind: PoolKind) -> Self {
        self.pool.kind = kind;
        self
    }

    /// Idle connections kept for reuse.
    pub fn pool_size(mut self, n: usize) -> Self {
        self.pool.size = n;
        self
    }

    /// Connections open at once; at least one.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.pool.max_connections = n.max(1);
        self
    }

    /// How long a checkout waits before [`Error::PoolTimeout`].
    pub fn acquire_timeout(mut self, t: Duration) -> Self {
        self.pool.acquire_timeout = t;
        self
    }

    /// How long opening a connection may take.
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.pool.connect_timeout = t;
        self
    }

    /// Ping idle connections before handing them out.
    pub fn pre_ping(mut self, on: bool) -> Self {
        self.pool.pre_ping = on;
        self
    }

    /// The idle time after which pre-ping applies (zero: every checkout).
    pub fn pre_ping_after(mut self, t: Duration) -> Self {
        self.pool.pre_ping_after = t;
        self
    }

    /// Close connections older than this instead of reusing them.
    pub fn recycle(mut self, t: Option<Duration>) -> Self {
        self.pool.recycle = t;
        self
    }

    /// Close connections idle for longer than this.
    pub fn idle_timeout(mut self, t: Option<Duration>) -> Self {
        self.pool.idle_timeout = t;
        self
    }
}

struct EngineInner {
    url: DatabaseUrl,
    pool: Arc<Pool>,
    dialect: Arc<dyn Dialect>,
    options: EngineOptions,
    observer: Observer,
    buffers: FreeList<Vec<Value>>,
    statement_cache: Arc<StatementCache>,
}

/// A database: its pool, its dialect and its options. Cheap to clone; every
/// clone shares the pool.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("url", &self.inner.url.redacted())
            .field("dialect", &self.inner.dialect.name())
            .finish()
    }
}

/// Connects to `url` with default options (SQLAlchemy's `create_engine`).
///
/// The server is contacted once, so an unreachable one is reported here as
/// [`Error::Connect`]; an unknown scheme is [`Error::UnsupportedScheme`].
pub async fn create_engine(url: &str) -> Result<Engine, Error> {
    create_engine_with(url, EngineOptions::default()).await
}

/// Connects to `url` with `options`.
pub async fn create_engine_with(url: &str, options: EngineOptions) -> Result<Engine, Error> {
    let url = DatabaseUrl::parse(url)?;
    let config = ConnectConfig::from_url(&url, &options)?;
    let pool = Pool::new(url.clone(), config, options.pool.clone());
    let mut probe = pool.open_unpooled().await?;
    let dialect = probe
        .dialect()
        .await
        .map_err(|e| crate::driver::connect_error(&url, e))?;
    pool.adopt(probe);
    let observer = Observer::new(&url, dialect.name() == "mariadb", &options);
    Ok(Engine {
        inner: Arc::new(EngineInner {
            url,
            pool,
            dialect,
            statement_cache: Arc::new(StatementCache::new(options.statement_cache_size)),
            options,
            observer,
            buffers: FreeList::default(),
        }),
    })
}

impl Engine {
    /// Checks out a connection; it returns to the pool when dropped. Its
    /// first statement begins a transaction, which lasts until
    /// [`Connection::commit`] or [`Connection::rollback`]; one still open
    /// when the connection is dropped is rolled back (SQLAlchemy 2's
    /// model; see [`EngineOptions::autocommit`] for the other).
    pub async fn connect(&self) -> Result<Connection, Error> {
        let conn = self.inner.pool.acquire().await?;
        Ok(Connection::new(self.clone(), conn))
    }

    /// Checks out a connection and begins a transaction on it (SQLAlchemy's
    /// `engine.begin()`): commit it, or it rolls back when dropped.
    pub async fn begin(&self) -> Result<Transaction<'static>, Error> {
        Transaction::begin_owned(self.connect().await?, self.inner.options.isolation_level).await
    }

    /// Runs `f` in a transaction: commits when it returns `Ok`, rolls back
    /// when it returns `Err` (the seed's `async with engine.begin() as conn`).
    ///
    /// ```no_run
    /// # async fn demo(engine: persistence::Engine, metadata: persistence::dialects::MetaData) -> Result<(), persistence::Error> {
    /// use persistence::SchemaExt;
    /// engine.transaction(async |conn| {
    ///     metadata.drop_all(conn).await?;
    ///     metadata.create_all(conn).await
    /// }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn transaction<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: AsyncFnOnce(&mut Connection) -> Result<T, E>,
        E: From<Error>,
    {
        let mut tx = self.begin().await?;
        match f(&mut tx).await {
            Ok(value) => {
                tx.commit().await?;
                Ok(value)
            }
            Err(e) => {
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(error = %rollback, "rollback after a failed transaction failed");
                }
                Err(e)
            }
        }
    }

    /// Runs `f` in a transaction like [`Engine::transaction`], and runs it
    /// again (from the start, on a new transaction) when it fails with an
    /// error that says so ([`Retryable::is_retryable`]: a serialization
    /// failure, a deadlock, a lost connection before `COMMIT`), at most
    /// `policy.max_attempts` times in all, waiting a randomized,
    /// exponentially growing pause between attempts.
    ///
    /// A `COMMIT` that failed by losing its connection is not retried: it
    /// may have taken effect ([`Error::connection_invalidated`]).
    ///
    /// ```no_run
    /// # async fn demo(engine: persistence::Engine) -> Result<(), persistence::Error> {
    /// use persistence::{IsolationLevel, RetryPolicy};
    /// use persistence::dialects::text;
    /// let moved = engine.transaction_with_retry(&RetryPolicy::default(), async |conn| {
    ///     conn.execute(&text("UPDATE account SET balance = balance - 10 WHERE id = 1")).await?;
    ///     conn.execute(&text("UPDATE account SET balance = balance + 10 WHERE id = 2")).await?;
    ///     Ok::<_, persistence::Error>(20)
    /// }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn transaction_with_retry<T, E, F>(
        &self,
        policy: &RetryPolicy,
        mut f: F,
    ) -> Result<T, E>
    where
        F: AsyncFnMut(&mut Connection) -> Result<T, E>,
        E: From<Error> + Retryable,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= policy.max_attempts.max(1);
            let error: E = match self.begin().await {
                Err(e) => e.into(),
                Ok(mut tx) => match f(&mut tx).await {
                    Ok(value) => match tx.commit().await {
                        Ok(()) => return Ok(value),
                        // It may have been committed: never run it twice.
                        Err(e) if e.connection_invalidated() => return Err(e.into()),
                        Err(e) => e.into(),
                    },
                    Err(e) => {
                        if let Err(rollback) = tx.rollback().await {
                            tracing::debug!(target: "persistence::transaction", error = %rollback.redacted(), "rollback after a failed attempt failed");
                        }
                        e
                    }
                },
            };
            if last || !error.is_retryable() {
                return Err(error);
            }
            let pause = policy.backoff(attempt);
            tracing::debug!(target: "persistence::transaction", attempt, ?pause, "transaction failed; retrying");
            tokio::time::sleep(pause).await;
        }
    }

    /// The dialect statements are compiled for.
    pub fn dialect(&self) -> &dyn Dialect {
        &*self.inner.dialect
    }

    /// `stmt` compiled for this engine's dialect, through the engine's
    /// compiled-statement cache: what `stmt.compile(engine.dialect())`
    /// gives.
    pub fn compile_statement<S: dialects::Statement + ?Sized>(
        &self,
        stmt: &S,
    ) -> Result<dialects::Compiled, dialects::CompileError> {
        self.inner
            .statement_cache
            .compile(stmt, &*self.inner.dialect)
    }

    /// [`Engine::compile_statement`], with the SQL text shared with the
    /// statement cache's entry when it comes from there.
    pub(crate) fn compile_shared<S: dialects::Statement + ?Sized>(
        &self,
        stmt: &S,
    ) -> Result<dialects::compiler::cache::SharedCompiled, dialects::CompileError> {
        self.inner
            .statement_cache
            .compile_shared(stmt, &*self.inner.dialect)
    }

    /// The compiled-statement cache's counters: hits, misses (shapes
    /// compiled and stored), statements compiled without it.
    pub fn statement_cache_stats(&self) -> CacheStats {
        self.inner.statement_cache.stats()
    }

    #[cfg(feature = "testing")]
    /// The pool (for the testing kit's pinned engines).
    pub(crate) fn pool(&self) -> &Arc<Pool> {
        &self.inner.pool
    }

    #[cfg(feature = "testing")]
    /// An engine like this one (URL, dialect, options) on another pool:
    /// the testing kit's engine inside an outer transaction.
    pub(crate) fn with_pool(&self, pool: Arc<Pool>) -> Engine {
        Engine {
            inner: Arc::new(EngineInner {
                url: self.inner.url.clone(),
                pool,
                dialect: self.inner.dialect.clone(),
                options: self.inner.options.clone(),
                observer: self.inner.observer.clone(),
                buffers: FreeList::default(),
                statement_cache: self.inner.statement_cache.clone(),
            }),
        }
    }

    /// What the instrumentation knows about this engine.
    pub(crate) fn observer(&self) -> &Observer {
        &self.inner.observer
    }

    /// The reusable row buffers of ORM loads.
    pub(crate) fn buffers(&self) -> &FreeList<Vec<Value>> {
        &self.inner.buffers
    }

    /// The backend this engine talks to.
    pub fn backend(&self) -> Backend {
        self.inner.url.backend()
    }

    /// The URL, password hidden.
    pub fn url(&self) -> String {
        self.inner.url.redacted()
    }

    /// The engine's options.
    pub fn options(&self) -> &EngineOptions {
        &self.inner.options
    }

    /// The pool in effect (`Auto` resolved to `Static` or `Queue`).
    pub fn pool_kind(&self) -> PoolKind {
        self.inner.pool.kind()
    }

    /// Connections in use, idle, and checkouts waiting.
    pub fn pool_status(&self) -> PoolStatus {
        self.inner.pool.status()
    }

    /// Closes every idle connection; later checkouts fail with
    /// [`Error::PoolClosed`]. Connections in use close when returned.
    pub async fn dispose(&self) {
        self.inner.pool.close().await;
    }
}
