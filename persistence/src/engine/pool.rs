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
//!   database needs, since it vanishes with its last connection. A
//!   checkout from the task that already holds it fails after half a
//!   second with [`Error::ConnectionInUse`] (it would wait for itself),
//!   not after the acquire timeout.
//!
//! # Lost connections
//!
//! A connection that died while it sat idle (the server restarted, an
//! administrator or an idle timeout ended its session) is found out by the
//! first operation of its next checkout, without a ping: that operation
//! fails with a lost connection, and since it was the first one (nothing
//! of a transaction ran on that connection yet), the pool opens a fresh
//! connection and runs it again, once. Every other connection that was
//! idle at that moment is suspect too: the next checkout of each pings it
//! first (or, without `pre_ping`, closes it). A connection lost later, in
//! the middle of a transaction, fails the operation (the error says
//! [`connection_invalidated`](Error::connection_invalidated)) and is
//! discarded.
//!
//! Rows streamed with `Connection::stream` are not retried (some may have
//! been handed out already).
//!
//! The retried operation may be a write in autocommit mode. It is run
//! again only when it failed on its first round trip over a connection
//! that idled in the pool, which is where a server restart shows; that
//! the server executed it and then lost the connection before answering
//! is as unknowable there as for any `COMMIT` whose answer never arrives.
//!
//! # Cancellation
//!
//! A fourth kind is internal: a *pinned* pool ([`Pool::pinned`]) over one
//! connection that already holds a transaction, for the testing kit's
//! savepoint fixture (`persistence::testing::TestTransaction`). Every
//! checkout shares that connection; a transaction begun on it is a
//! savepoint; on release it is rolled back to the pinned depth, never
//! below; the pool never opens or closes a connection of its own.
//!
//! A `PooledConnection` goes back on drop, also when the future using it
//! was cancelled, and is never handed out inside a transaction:
//!
//! * dropped in the middle of an operation (a cancelled future): on
//!   PostgreSQL and MySQL its protocol state is unknown and it is closed;
//!   SQLite's worker thread finishes the operation alone, so the
//!   connection is settled first (its worker's queue drained, any
//!   transaction the operation opened rolled back) and then returned;
//! * dropped with a transaction open, or with a rollback queued by a
//!   dropped transaction guard: rolled back on the runtime before it goes
//!   back (an idle connection never holds locks, which would block other
//!   sessions' DDL on MySQL), within a time limit, or closed.
//!
//! A `COMMIT` cancelled in flight is ambiguous: the server may or may not
//! have received it. The connection is closed; whether the transaction
//! took effect can only be found out by reading the data again.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::driver::{ConnectConfig, RawConnection};
use crate::engine::observe::TransactionTrace;
use crate::engine::url::DatabaseUrl;
use crate::error::Error;

/// How long settling a returned connection (a rollback) may take before
/// the connection is closed instead.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a checkout from the task that holds a static pool's only
/// connection waits before failing with [`Error::ConnectionInUse`].
const SAME_TASK_GRACE: Duration = Duration::from_millis(500);

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

/// The idle connections and what is known about them.
#[derive(Default)]
struct IdleState {
    queue: VecDeque<Idle>,
    /// When a connection that idled here turned out dead: every connection
    /// idle since before then is checked before it is handed out.
    suspect_before: Option<Instant>,
    /// The task holding a static pool's connection.
    holder: Option<Holder>,
}

pub(crate) struct Pool {
    kind: PoolKind,
    config: ConnectConfig,
    url: DatabaseUrl,
    options: PoolOptions,
    idle: Mutex<IdleState>,
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

/// Who holds a connection: a tokio task, or the future a thread runs with
/// `block_on` (`#[tokio::main]`, `#[tokio::test]`), which has no task id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    Task(tokio::task::Id),
    Thread(std::thread::ThreadId),
}

impl Holder {
    fn current() -> Self {
        tokio::task::try_id()
            .map_or_else(|| Holder::Thread(std::thread::current().id()), Holder::Task)
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

/// A connection taken from the idle queue and being checked (pinged)
/// before it is handed out: if the checkout is cancelled meanwhile, it is
/// closed and uncounted, not leaked.
struct Candidate<'p> {
    pool: &'p Pool,
    idle: Option<Idle>,
}

impl Drop for Candidate<'_> {
    fn drop(&mut self) {
        if let Some(idle) = self.idle.take() {
            self.pool.forget(idle.conn);
        }
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
            idle: Mutex::new(IdleState::default()),
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
            idle: Mutex::new(IdleState::default()),
            open: AtomicUsize::new(1),
            waiting: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            baseline,
            pinned: true,
        };
        pool.idle_state().queue.push_back(Idle {
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
        let idle = self.idle_state().queue.pop_back();
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

    fn idle_state(&self) -> std::sync::MutexGuard<'_, IdleState> {
        // A panic while holding this lock cannot leave the state half-edited.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn status(&self) -> PoolStatus {
        let idle = self.idle_state().queue.len();
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
        self.idle_state().queue.push_back(Idle {
            conn,
            created: now,
            since: now,
            runtime,
        });
    }

    /// Marks every connection idle now as suspect: one of them (or the one
    /// just taken from among them) turned out dead.
    fn suspect_idle(&self) {
        self.idle_state().suspect_before = Some(Instant::now());
    }

    pub(crate) async fn acquire(self: &Arc<Self>) -> Result<PooledConnection, Error> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::PoolClosed);
        }
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(tokio::sync::TryAcquireError::Closed) => return Err(Error::PoolClosed),
            Err(tokio::sync::TryAcquireError::NoPermits) => self.wait_for_permit().await?,
        };
        if self.pinned && self.idle_state().queue.is_empty() {
            // Its one connection was lost: never open another.
            return Err(Error::PoolClosed);
        }
        if self.kind == PoolKind::Static {
            self.idle_state().holder = Some(Holder::current());
        }
        loop {
            let (candidate, suspect_before) = {
                let mut state = self.idle_state();
                (state.queue.pop_back(), state.suspect_before)
            };
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
            let suspect = suspect_before.is_some_and(|t| idle.since <= t);
            if suspect && !self.options.pre_ping {
                self.forget(idle.conn);
                continue;
            }
            let ping = suspect
                || (self.options.pre_ping
                    && now.duration_since(idle.since) >= self.options.pre_ping_after);
            let mut candidate = Candidate {
                pool: self,
                idle: Some(idle),
            };
            if ping {
                let alive = match candidate.idle.as_mut() {
                    Some(idle) => {
                        tokio::time::timeout(self.options.connect_timeout, idle.conn.ping())
                            .await
                            .is_ok_and(|r| r.is_ok())
                    }
                    None => false,
                };
                if !alive {
                    // Dropping the candidate closes it.
                    continue;
                }
            }
            let Some(idle) = candidate.idle.take() else {
                continue;
            };
            return Ok(PooledConnection::new(
                self.clone(),
                idle.conn,
                idle.created,
                idle.runtime,
                permit,
                true,
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
            false,
        ))
    }

    /// Waits for a connection to be given back, at most `acquire_timeout`.
    ///
    /// A static pool's only connection, held by the very task that asks for
    /// it again (two live sessions on an in-memory SQLite database, one
    /// after the other in the same code), would be waited for forever: when
    /// it is still held by this task after [`SAME_TASK_GRACE`] (futures of
    /// one task run concurrently with `join!` may give it back meanwhile),
    /// the checkout fails with [`Error::ConnectionInUse`], naming the cause.
    async fn wait_for_permit(&self) -> Result<OwnedSemaphorePermit, Error> {
        let _waiting = Waiting::new(&self.waiting);
        let me = Some(Holder::current());
        let same_task = self.kind == PoolKind::Static && self.idle_state().holder == me;
        let acquire = self.permits.clone().acquire_owned();
        tokio::pin!(acquire);
        if same_task {
            let grace = SAME_TASK_GRACE.min(self.options.acquire_timeout);
            match tokio::time::timeout(grace, &mut acquire).await {
                Ok(Ok(permit)) => return Ok(permit),
                Ok(Err(_)) => return Err(Error::PoolClosed),
                Err(_) if self.idle_state().holder == me => {
                    return Err(Error::ConnectionInUse {
                        reason: format!(
                            "the engine on `{}` has a single connection (an in-memory SQLite \
                             database lives in one connection), and the task asking for it \
                             already holds it, for example in another live session or \
                             connection: the wait would never end. Finish or drop the other \
                             session first, or use a database file (`sqlite:app.db?mode=rwc`) \
                             with a queue pool",
                            self.url.redacted()
                        ),
                    });
                }
                Err(_) => {}
            }
        }
        match tokio::time::timeout(self.options.acquire_timeout, acquire).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(Error::PoolClosed),
            Err(_) => Err(Error::PoolTimeout),
        }
    }

    /// Opens a connection to replace one that was lost, counted as open.
    async fn open_replacement(&self) -> Result<(RawConnection, Option<RuntimeToken>), Error> {
        let conn = self.open_unpooled().await?;
        self.open.fetch_add(1, Ordering::SeqCst);
        let runtime = token_for(&conn);
        Ok((conn, runtime))
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
            let mut state = self.idle_state();
            state.holder = None;
            if state.queue.len() < self.options.size {
                state.queue.push_back(Idle {
                    conn,
                    created,
                    since: Instant::now(),
                    runtime,
                });
                return;
            }
        } else if self.kind == PoolKind::Static {
            self.idle_state().holder = None;
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
        let idle: Vec<Idle> = self.idle_state().queue.drain(..).collect();
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
    /// then (a cancelled future), its state is unknown.
    busy: bool,
    /// Set when an operation lost the connection.
    broken: bool,
    /// Set when a dropped transaction guard queued a rollback, which the
    /// driver sends before the next statement.
    rollback_queued: bool,
    /// Whether the connection idled in the pool before this checkout.
    reused: bool,
    /// Whether no operation ran on it yet in this checkout.
    untouched: bool,
    /// The spans of the open transaction and its savepoints, outermost first.
    transactions: Vec<TransactionTrace>,
    permit: Option<OwnedSemaphorePermit>,
}

impl std::fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledConnection")
            .field("busy", &self.busy)
            .field("broken", &self.broken)
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
        reused: bool,
    ) -> Self {
        PooledConnection {
            conn: Some(conn),
            created,
            runtime,
            pool,
            busy: false,
            broken: false,
            rollback_queued: false,
            reused,
            untouched: true,
            transactions: Vec::new(),
            permit: Some(permit),
        }
    }

    /// Whether this is the first operation of the checkout on a connection
    /// that idled in the pool (one that may be retried on a fresh
    /// connection if it finds the connection lost), and marks that an
    /// operation ran. See [`run!`].
    pub(crate) fn first_operation(&mut self) -> bool {
        let first = self.reused && self.untouched;
        self.untouched = false;
        first
    }

    /// After the first operation of the checkout found its connection lost
    /// (`error`): marks the pool's other idle connections suspect and
    /// replaces this one with a fresh connection; whether that worked (the
    /// operation may then run again).
    pub(crate) async fn replace_lost(&mut self, error: &Error) -> bool {
        self.pool.suspect_idle();
        match self.replace().await {
            Ok(()) => {
                tracing::debug!(
                    target: "persistence::pool",
                    error = %error.redacted(),
                    "a pooled connection was lost while idle; running the operation again on a new one"
                );
                true
            }
            Err(_) => false,
        }
    }

    /// Replaces a lost connection with a fresh one.
    async fn replace(&mut self) -> Result<(), Error> {
        let (conn, runtime) = self.pool.open_replacement().await?;
        if let Some(old) = self.conn.replace(conn) {
            self.pool.forget(old);
        }
        self.created = Instant::now();
        self.runtime = runtime;
        self.broken = false;
        self.rollback_queued = false;
        self.reused = false;
        Ok(())
    }

    /// The raw connection, marked busy until [`PooledConnection::done`].
    pub(crate) fn start(&mut self) -> Result<&mut RawConnection, Error> {
        self.untouched = false;
        self.busy = true;
        self.conn.as_mut().ok_or(Error::PoolClosed)
    }

    /// Marks the operation started by [`PooledConnection::start`] finished;
    /// a failure that lost the connection marks it broken.
    pub(crate) fn done<T>(&mut self, result: Result<T, Error>) -> Result<T, Error> {
        self.busy = false;
        if let Err(e) = &result {
            if e.connection_invalidated() {
                self.broken = true;
            }
        }
        result
    }

    /// Queues a rollback of the innermost transaction, sent before the next
    /// statement (for transaction guards dropped without commit).
    pub(crate) fn queue_rollback(&mut self) {
        if let Some(conn) = self.conn.as_mut() {
            conn.start_rollback();
            self.rollback_queued = true;
        }
    }

    /// The raw connection, read-only.
    pub(crate) fn raw_ref(&self) -> Option<&RawConnection> {
        self.conn.as_ref()
    }

    /// The raw connection, for bookkeeping between operations (nothing is
    /// sent on it).
    pub(crate) fn raw_mut(&mut self) -> Option<&mut RawConnection> {
        self.conn.as_mut()
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

    /// The span of the innermost open transaction or savepoint.
    pub(crate) fn transaction_span(&self) -> Option<&tracing::Span> {
        self.transactions.last().map(TransactionTrace::span)
    }

    /// Keeps the trace of a transaction or savepoint just begun.
    pub(crate) fn push_transaction(&mut self, trace: TransactionTrace) {
        self.transactions.push(trace);
    }

    /// The trace of the innermost transaction or savepoint, which just ended.
    pub(crate) fn pop_transaction(&mut self) -> Option<TransactionTrace> {
        self.transactions.pop()
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let alive = RuntimeToken::is_alive(&self.runtime);
        // Clean means back at the pool's baseline (0, or a pinned pool's
        // outer transaction).
        let settle =
            self.busy || self.rollback_queued || conn.transaction_depth() > self.pool.baseline;
        // A connection lost, or dropped mid-operation on a driver that
        // cannot finish operations alone, is in an unknown state.
        if !alive || self.broken || (self.busy && !conn.cancel_safe()) {
            if alive {
                self.pool.forget(conn);
            } else {
                self.pool.forget_dead(conn);
            }
            return;
        }
        if !settle {
            self.pool
                .release(conn, self.created, self.runtime.take(), true);
            return;
        }
        // Settle it before it goes back: drain what the driver still has
        // queued (the queued rollback, or the operation a cancelled future
        // left to SQLite's worker) and roll back whatever is still open,
        // within a time limit. The connection stays checked out (its permit
        // held) until then, so nobody gets it dirty.
        let pool = self.pool.clone();
        let (created, runtime, permit) = (self.created, self.runtime.take(), self.permit.take());
        let (busy, queued) = (self.busy, self.rollback_queued);
        let baseline = self.pool.baseline;
        let work = async move {
            let mut conn = conn;
            let clean = tokio::time::timeout(
                SETTLE_TIMEOUT,
                settle_connection(&mut conn, busy, queued, baseline),
            )
            .await
            .is_ok_and(|clean| clean);
            if clean {
                pool.release(conn, created, runtime, true);
            } else {
                pool.forget(conn);
            }
            drop(permit);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(work);
            }
            // No runtime here (a connection dropped in synchronous code).
            // Only SQLite's connections do not belong to one; their worker
            // answers without tokio's I/O, so a small runtime can wait for it.
            Err(_) => match tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
            {
                Ok(rt) => rt.block_on(work),
                Err(_) => drop(work),
            },
        }
    }
}

/// Drains `conn`'s queued work when an operation was cut off (`busy`) or
/// a rollback was queued (a ping is answered after both), then rolls back
/// every transaction and savepoint still open; whether that left it clean.
async fn settle_connection(
    conn: &mut RawConnection,
    busy: bool,
    queued: bool,
    baseline: usize,
) -> bool {
    if (busy || queued) && conn.ping().await.is_err() {
        return false;
    }
    while conn.transaction_depth() > baseline {
        if conn.rollback().await.is_err() {
            return false;
        }
    }
    conn.transaction_depth() == baseline
}

/// Runs `$op` (a future using `$raw`, the raw connection) on the pooled
/// connection `$pooled`, marked busy while it runs (a connection dropped
/// then is not reused as it is). A failure that lost the connection marks
/// it broken; when that was the first operation on a connection that idled
/// in the pool, a fresh connection replaces it and `$op` runs again, once
/// (see the module's doc). Evaluates to the operation's `Result`.
///
/// A macro rather than a function taking a closure: the future it makes
/// stays `Send` for callers of every lifetime, and nothing is boxed.
macro_rules! run {
    ($pooled:expr, |$raw:ident| $op:expr) => {{
        let pooled: &mut $crate::engine::pool::PooledConnection = $pooled;
        let may_retry = pooled.first_operation();
        let result = match pooled.start() {
            Ok($raw) => $op.await,
            Err(e) => Err(e),
        };
        match pooled.done(result) {
            Err(e) if may_retry && e.connection_invalidated() => {
                if pooled.replace_lost(&e).await {
                    let result = match pooled.start() {
                        Ok($raw) => $op.await,
                        Err(e) => Err(e),
                    };
                    pooled.done(result)
                } else {
                    Err(e)
                }
            }
            other => other,
        }
    }};
}
pub(crate) use run;
