//! Connection pools: a queue pool, a null pool and a static pool.
//!
//! * **Queue** (SQLAlchemy's `QueuePool`): keeps up to `size` idle
//!   connections and opens up to `max_connections` in all; a checkout
//!   waits at most `acquire_timeout` for one, then fails with
//!   [`Error::PoolTimeout`]. Connections older than `recycle` or idle
//!   longer than `idle_timeout` are closed instead of reused; with
//!   `pre_ping`, one idle for longer than `pre_ping_after` is pinged first
//!   and replaced when dead.
//! * **Null** (`NullPool`): opens a connection per checkout and closes it
//!   on release. Nothing outlives the task that used it, so one engine can
//!   serve several tokio runtimes (the seed's "attached to a different
//!   loop" problem).
//! * **Static** (`StaticPool`): one connection every checkout shares in
//!   turn, never closed while the engine lives: what an in-memory SQLite
//!   database needs, since it vanishes with its last connection.
//!
//! A fourth kind is internal: a *pinned* pool ([`Pool::pinned`]) over one
//! connection that already holds a transaction, for the testing kit's
//! savepoint fixture (`persistence::testing::TestTransaction`). Every
//! checkout shares that connection; a transaction begun on it is a
//! savepoint; on release it is rolled back to the pinned depth, never
//! below; the pool never opens or closes a connection of its own.
//!
//! A `PooledConnection` goes back on drop, also when the future using it
//! was cancelled. One dropped in the middle of an operation is discarded
//! (its protocol state is unknown); one with a transaction still open has
//! a rollback queued before anything else runs on it; neither is handed
//! out dirty.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::driver::{ConnectConfig, RawConnection};
use crate::engine::url::DatabaseUrl;
use crate::error::Error;

/// Which pool an engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PoolKind {
    /// Static for in-memory SQLite, queue otherwise.
    #[default]
    Auto,
    /// Reuse up to `size` idle connections (SQLAlchemy's `QueuePool`).
    Queue,
    /// A new connection per checkout, closed on release (`NullPool`).
    Null,
    /// One shared connection (`StaticPool`).
    Static,
}

/// Pool settings (part of [`EngineOptions`](crate::EngineOptions)).
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// Which pool.
    pub kind: PoolKind,
    /// Idle connections kept for reuse.
    pub size: usize,
    /// Connections open at once, in use or idle.
    pub max_connections: usize,
    /// How long a checkout waits before [`Error::PoolTimeout`].
    pub acquire_timeout: Duration,
    /// How long opening a connection may take.
    pub connect_timeout: Duration,
    /// Ping a connection before handing it out when it sat idle for at
    /// least `pre_ping_after`.
    pub pre_ping: bool,
    /// The idle time after which pre-ping applies.
    pub pre_ping_after: Duration,
    /// Close connections older than this instead of reusing them.
    pub recycle: Option<Duration>,
    /// Close connections idle for longer than this.
    pub idle_timeout: Option<Duration>,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            kind: PoolKind::Auto,
            size: 5,
            max_connections: 15,
            acquire_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            pre_ping: true,
            pre_ping_after: Duration::from_secs(30),
            recycle: Some(Duration::from_secs(3600)),
            idle_timeout: Some(Duration::from_secs(600)),
        }
    }
}

/// A snapshot of a pool's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open (in use plus idle).
    pub size: usize,
    /// Connections checked out.
    pub in_use: usize,
    /// Connections waiting in the pool.
    pub idle: usize,
    /// Checkouts waiting for a connection.
    pub waiting: usize,
}

struct Idle {
    conn: RawConnection,
    created: Instant,
    since: Instant,
    runtime: Option<RuntimeToken>,
}

/// Tells whether the tokio runtime a connection was opened on still runs.
///
/// A socket belongs to the runtime that opened it; used from another
/// runtime after the first one shut down, it waits forever (the seed's
/// "attached to a different loop"). The token is a task spawned on the
/// opening runtime: the runtime drops it when it shuts down, and the pool
/// then drops the connection instead of handing it out.
struct RuntimeToken {
    alive: std::sync::Weak<()>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl RuntimeToken {
    fn current() -> Option<Self> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        let keep = Arc::new(());
        let alive = Arc::downgrade(&keep);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        handle.spawn(async move {
            let _keep = keep;
            let _ = stopped.await;
        });
        Some(RuntimeToken { alive, _stop: stop })
    }

    fn is_alive(token: &Option<Self>) -> bool {
        token.as_ref().is_none_or(|t| t.alive.strong_count() > 0)
    }
}

pub(crate) struct Pool {
    kind: PoolKind,
    config: ConnectConfig,
    url: DatabaseUrl,
    options: PoolOptions,
    idle: Mutex<VecDeque<Idle>>,
    permits: Arc<Semaphore>,
    open: AtomicUsize,
    waiting: AtomicUsize,
    closed: AtomicBool,
    /// The transaction depth a released connection is rolled back to: 0,
    /// or the depth of the outer transaction of a pinned pool.
    baseline: usize,
    /// Whether this pool only lends the connection it was given
    /// ([`Pool::pinned`]).
    pinned: bool,
}

#[cfg(feature = "testing")]
/// What [`PooledConnection::take_raw`] takes out: the raw connection with
/// its creation time and runtime token.
pub(crate) struct TakenConnection {
    conn: RawConnection,
    created: Instant,
    runtime: Option<RuntimeToken>,
}

#[cfg(feature = "testing")]
impl TakenConnection {
    /// The connection's transaction depth.
    pub(crate) fn transaction_depth(&self) -> usize {
        self.conn.transaction_depth()
    }
}

/// Counts a waiting checkout for as long as it lives (cancel-safe).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Waiting(counter)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Pool {
    pub(crate) fn new(
        url: DatabaseUrl,
        config: ConnectConfig,
        mut options: PoolOptions,
    ) -> Arc<Self> {
        let kind = match options.kind {
            PoolKind::Auto if url.is_sqlite_memory() => PoolKind::Static,
            PoolKind::Auto => PoolKind::Queue,
            other => other,
        };
        if kind == PoolKind::Static {
            options.size = 1;
            options.max_connections = 1;
            options.recycle = None;
            options.idle_timeout = None;
        }
        options.max_connections = options.max_connections.max(1);
        Arc::new(Pool {
            kind,
            config,
            url,
            permits: Arc::new(Semaphore::new(options.max_connections)),
            options,
            idle: Mutex::new(VecDeque::new()),
            open: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            baseline: 0,
            pinned: false,
        })
    }

    #[cfg(feature = "testing")]
    /// A pool that lends only `taken`, a connection inside a transaction
    /// (the testing kit's outer transaction): one checkout at a time, a
    /// transaction begun on it is a savepoint, a release rolls back to the
    /// depth it had here. It never opens a connection, and closing it does
    /// not close this one: [`Pool::unpin`] hands it back.
    pub(crate) fn pinned(like: &Pool, taken: TakenConnection) -> Arc<Self> {
        let mut options = like.options.clone();
        options.size = 1;
        options.max_connections = 1;
        options.pre_ping = false;
        options.recycle = None;
        options.idle_timeout = None;
        let baseline = taken.conn.transaction_depth();
        let pool = Pool {
            kind: PoolKind::Static,
            config: like.config.clone(),
            url: like.url.clone(),
            permits: Arc::new(Semaphore::new(1)),
            options,
            idle: Mutex::new(VecDeque::new()),
            open: AtomicUsize::new(1),
            waiting: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            baseline,
            pinned: true,
        };
        pool.idle_queue().push_back(Idle {
            conn: taken.conn,
            created: taken.created,
            since: Instant::now(),
            runtime: taken.runtime,
        });
        Arc::new(pool)
    }

    #[cfg(feature = "testing")]
    /// Takes the connection of a pinned pool back, once no checkout holds
    /// it (waiting at most the acquire timeout). Later checkouts fail with
    /// [`Error::PoolClosed`]. `None` when the connection was lost (a
    /// broken or cancelled statement discarded it).
    pub(crate) async fn unpin(&self) -> Result<Option<TakenConnection>, Error> {
        self.closed.store(true, Ordering::SeqCst);
        let permit = tokio::time::timeout(
            self.options.acquire_timeout,
            self.permits.clone().acquire_owned(),
        )
        .await
        .map_err(|_| Error::PoolTimeout)?
        .map_err(|_| Error::PoolClosed)?;
        let idle = self.idle_queue().pop_back();
        self.permits.close();
        drop(permit);
        Ok(idle.map(|i| {
            self.open.fetch_sub(1, Ordering::SeqCst);
            TakenConnection {
                conn: i.conn,
                created: i.created,
                runtime: i.runtime,
            }
        }))
    }

    /// The pool kind in effect (`Auto` resolved).
    pub(crate) fn kind(&self) -> PoolKind {
        self.kind
    }

    fn idle_queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Idle>> {
        // A panic while holding this lock cannot leave the queue half-edited.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn status(&self) -> PoolStatus {
        let idle = self.idle_queue().len();
        let size = self.open.load(Ordering::SeqCst);
        PoolStatus {
            size,
            in_use: size.saturating_sub(idle),
            idle,
            waiting: self.waiting.load(Ordering::SeqCst),
        }
    }

    /// Opens a connection outside the pool's accounting (to probe the server).
    pub(crate) async fn open_unpooled(&self) -> Result<RawConnection, Error> {
        self.config
            .connect(self.options.connect_timeout)
            .await
            .map_err(|e| crate::driver::connect_error(&self.url, e))
    }

    /// Hands a connection opened by [`Pool::open_unpooled`] to the pool.
    pub(crate) fn adopt(&self, conn: RawConnection) {
        if self.kind == PoolKind::Null {
            discard(conn, true);
            return;
        }
        self.open.fetch_add(1, Ordering::SeqCst);
        let now = Instant::now();
        let runtime = token_for(&conn);
        self.idle_queue().push_back(Idle {
            conn,
            created: now,
            since: now,
            runtime,
        });
    }

    pub(crate) async fn acquire(self: &Arc<Self>) -> Result<PooledConnection, Error> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::PoolClosed);
        }
        let permit = {
            let _waiting = Waiting::new(&self.waiting);
            match tokio::time::timeout(
                self.options.acquire_timeout,
                self.permits.clone().acquire_owned(),
            )
            .await
            {
                Ok(Ok(permit)) => permit,
                Ok(Err(_)) => return Err(Error::PoolClosed),
                Err(_) => return Err(Error::PoolTimeout),
            }
        };
        if self.pinned && self.idle_queue().is_empty() {
            // Its one connection was lost: never open another.
            return Err(Error::PoolClosed);
        }
        loop {
            let candidate = self.idle_queue().pop_back();
            let Some(idle) = candidate else { break };
            let now = Instant::now();
            let too_old = self
                .options
                .recycle
                .is_some_and(|r| now.duration_since(idle.created) >= r);
            let too_idle = self
                .options
                .idle_timeout
                .is_some_and(|t| now.duration_since(idle.since) >= t);
            if !RuntimeToken::is_alive(&idle.runtime) {
                // Its runtime is gone: the socket can only be dropped.
                self.forget_dead(idle.conn);
                continue;
            }
            if too_old || too_idle {
                self.forget(idle.conn);
                continue;
            }
            let mut conn = idle.conn;
            if self.options.pre_ping
                && now.duration_since(idle.since) >= self.options.pre_ping_after
            {
                let alive = tokio::time::timeout(self.options.connect_timeout, conn.ping())
                    .await
                    .is_ok_and(|r| r.is_ok());
                if !alive {
                    self.forget(conn);
                    continue;
                }
            }
            return Ok(PooledConnection::new(
                self.clone(),
                conn,
                idle.created,
                idle.runtime,
                permit,
            ));
        }
        let conn = self.open_unpooled().await?;
        self.open.fetch_add(1, Ordering::SeqCst);
        let runtime = token_for(&conn);
        Ok(PooledConnection::new(
            self.clone(),
            conn,
            Instant::now(),
            runtime,
            permit,
        ))
    }

    /// Drops a connection from the pool's accounting and closes it.
    fn forget(&self, conn: RawConnection) {
        if self.pinned {
            self.closed.store(true, Ordering::SeqCst);
        }
        self.open.fetch_sub(1, Ordering::SeqCst);
        discard(conn, true);
    }

    /// Drops a connection whose runtime is gone (closing it would never finish).
    fn forget_dead(&self, conn: RawConnection) {
        self.open.fetch_sub(1, Ordering::SeqCst);
        discard(conn, false);
    }

    fn release(
        &self,
        conn: RawConnection,
        created: Instant,
        runtime: Option<RuntimeToken>,
        reusable: bool,
    ) {
        if !RuntimeToken::is_alive(&runtime) {
            self.forget_dead(conn);
            return;
        }
        // A pinned pool keeps its connection even when closed: it goes back
        // to the fixture that lent it.
        let keep = reusable
            && self.kind != PoolKind::Null
            && (self.pinned || !self.closed.load(Ordering::SeqCst))
            && self.options.recycle.is_none_or(|r| created.elapsed() < r);
        if keep {
            let mut idle = self.idle_queue();
            if idle.len() < self.options.size {
                idle.push_back(Idle {
                    conn,
                    created,
                    since: Instant::now(),
                    runtime,
                });
                return;
            }
        }
        self.forget(conn);
    }

    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if self.pinned {
            // The connection is the fixture's, handed back by `unpin`.
            return;
        }
        self.permits.close();
        let idle: Vec<Idle> = self.idle_queue().drain(..).collect();
        for i in idle {
            self.open.fetch_sub(1, Ordering::SeqCst);
            if RuntimeToken::is_alive(&i.runtime) {
                let _ = tokio::time::timeout(Duration::from_secs(5), i.conn.close()).await;
            }
        }
    }
}

/// A runtime token for connections whose I/O belongs to the current runtime.
fn token_for(conn: &RawConnection) -> Option<RuntimeToken> {
    if conn.bound_to_runtime() {
        RuntimeToken::current()
    } else {
        None
    }
}

/// Closes a connection without waiting: on the current runtime when there
/// is one (and `polite`), otherwise by dropping it (which closes the socket).
fn discard(conn: RawConnection, polite: bool) {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if polite => {
            handle.spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(5), conn.close()).await;
            });
        }
        _ => drop(conn),
    }
}

/// A connection checked out of a pool; back to the pool on drop.
pub(crate) struct PooledConnection {
    conn: Option<RawConnection>,
    created: Instant,
    runtime: Option<RuntimeToken>,
    pool: Arc<Pool>,
    /// Set while an operation is in flight: if the connection is dropped
    /// then (a cancelled future), its state is unknown and it is discarded.
    busy: bool,
    /// Set when an operation failed at the connection level.
    broken: bool,
    permit: Option<OwnedSemaphorePermit>,
}

impl std::fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledConnection")
            .field("busy", &self.busy)
            .finish()
    }
}

impl PooledConnection {
    fn new(
        pool: Arc<Pool>,
        conn: RawConnection,
        created: Instant,
        runtime: Option<RuntimeToken>,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        PooledConnection {
            conn: Some(conn),
            created,
            runtime,
            pool,
            busy: false,
            broken: false,
            permit: Some(permit),
        }
    }

    /// The raw connection, marked busy until [`PooledConnection::done`].
    pub(crate) fn start(&mut self) -> Result<&mut RawConnection, Error> {
        self.busy = true;
        self.conn.as_mut().ok_or(Error::PoolClosed)
    }

    /// Marks the operation started by [`PooledConnection::start`] finished;
    /// a connection-level failure marks the connection broken.
    pub(crate) fn done<T>(&mut self, result: Result<T, Error>) -> Result<T, Error> {
        self.busy = false;
        if let Err(Error::Database {
            kind: crate::error::ErrorKind::Operational,
            ..
        }) = &result
        {
            self.broken = true;
        }
        result
    }

    /// The raw connection for quick synchronous calls.
    pub(crate) fn raw(&mut self) -> Option<&mut RawConnection> {
        self.conn.as_mut()
    }

    /// The raw connection, read-only.
    pub(crate) fn raw_ref(&self) -> Option<&RawConnection> {
        self.conn.as_ref()
    }

    #[cfg(feature = "testing")]
    /// Takes the raw connection out, leaving this checkout empty (it keeps
    /// its pool permit) until [`PooledConnection::restore_raw`]; for
    /// [`Pool::pinned`].
    pub(crate) fn take_raw(&mut self) -> Option<TakenConnection> {
        let conn = self.conn.take()?;
        Some(TakenConnection {
            conn,
            created: self.created,
            runtime: self.runtime.take(),
        })
    }

    #[cfg(feature = "testing")]
    /// Puts back a connection taken with [`PooledConnection::take_raw`].
    pub(crate) fn restore_raw(&mut self, taken: TakenConnection) {
        self.conn = Some(taken.conn);
        self.created = taken.created;
        self.runtime = taken.runtime;
    }

    #[cfg(feature = "testing")]
    /// Gives up a connection taken with [`PooledConnection::take_raw`] that
    /// was lost, so its pool stops counting it.
    pub(crate) fn lost_raw(&mut self) {
        if self.conn.is_none() {
            self.pool.open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let alive = RuntimeToken::is_alive(&self.runtime);
        // A connection dropped mid-operation is in an unknown state, unless
        // its driver finishes operations on its own (SQLite's worker thread).
        if !alive || self.broken || (self.busy && !conn.cancel_safe()) {
            if alive {
                self.pool.forget(conn);
            } else {
                self.pool.forget_dead(conn);
            }
            return;
        }
        // Roll back to the pool's baseline (0, or a pinned pool's outer
        // transaction).
        let depth = conn.transaction_depth().saturating_sub(self.pool.baseline);
        if depth > 0 {
            // Roll back now, on the runtime, so an idle connection never
            // holds locks (MySQL's metadata locks would block DDL); the
            // connection stays checked out until it is clean.
            if let (Ok(handle), false) = (tokio::runtime::Handle::try_current(), conn.cancel_safe())
            {
                let pool = self.pool.clone();
                let (created, runtime, permit) =
                    (self.created, self.runtime.take(), self.permit.take());
                handle.spawn(async move {
                    let mut clean = true;
                    for _ in 0..depth {
                        clean &= conn.rollback().await.is_ok();
                    }
                    if clean {
                        pool.release(conn, created, runtime, true);
                    } else {
                        pool.forget(conn);
                    }
                    drop(permit);
                });
                return;
            }
            // No runtime (or SQLite's worker): queued, sent before anything else.
            for _ in 0..depth {
                conn.start_rollback();
            }
        }
        self.pool
            .release(conn, self.created, self.runtime.take(), true);
    }
}
