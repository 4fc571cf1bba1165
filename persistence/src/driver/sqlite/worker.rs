//! The thread of one SQLite connection, and the connection itself
//! ([`Worker`]), shared with the connection's handle behind a mutex. Jobs
//! arrive over a channel and run in order, each with the mutex held; each
//! answers once, with a whole statement's rows decoded into the crate's
//! types on this thread (a stream's rows in chunks). A job whose caller
//! went away (a cancelled future) still runs to its end, so the connection
//! is never left half-way through a statement, and the transaction depth it
//! keeps is always the connection's. The handle runs a statement on its own
//! thread instead when no job is queued or running (see the module docs of
//! [`super`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use dialects::Value;
use rusqlite::Connection;
use tokio::sync::oneshot;

use super::cells::Declared;
use super::config::{SqliteConfig, STATEMENT_CACHE};
use super::failure;
use super::statement::{self, decode_row, Columns, Sink, Summary, Text};
use crate::driver::{DriverError, ValueRows};
use crate::engine::result::QueryResult;
use crate::engine::row::Row;

/// Where a job's answer goes.
pub(crate) type Reply<T> = oneshot::Sender<Result<T, DriverError>>;

/// Rows per message of a stream.
pub(crate) const CHUNK: usize = 512;

/// The first chunk of a stream: small, so that the first row reaches the
/// caller without waiting for 512; each next chunk doubles up to
/// [`CHUNK`].
const FIRST_CHUNK: usize = 16;

/// A stream's rows, a chunk per message.
pub(crate) type Chunks = tokio::sync::mpsc::Sender<Result<Vec<Row>, DriverError>>;

/// What a statement's answer holds.
pub(crate) enum Want {
    /// Labelled rows (Core).
    Rows(Reply<QueryResult>),
    /// Bare values, decoded into the buffer (the ORM).
    Values(Vec<Value>, Reply<ValueRows>),
    /// The first row's values only.
    One(Reply<Option<Vec<Value>>>),
}

impl Want {
    /// Answers with `error` instead of rows.
    fn fail(self, error: DriverError) {
        let _ = match self {
            Want::Rows(reply) => reply.send(Err(error)).is_ok(),
            Want::Values(_, reply) => reply.send(Err(error)).is_ok(),
            Want::One(reply) => reply.send(Err(error)).is_ok(),
        };
    }
}

/// One request to the connection's thread.
pub(crate) enum Job {
    /// A statement; `begin`: a `BEGIN` held back by the handle goes first.
    Run {
        sql: String,
        params: Vec<Value>,
        want: Want,
        begin: bool,
    },
    Stream {
        sql: String,
        params: Vec<Value>,
        rows: Chunks,
        begin: bool,
    },
    /// `BEGIN` (or the given statement), or a savepoint inside a
    /// transaction (after a held-back `BEGIN` when `begin`).
    Begin {
        statement: Option<String>,
        reply: Reply<()>,
        begin: bool,
    },
    /// `COMMIT`, or the innermost savepoint released.
    Commit(Reply<()>),
    /// `ROLLBACK`, or back to the innermost savepoint; unanswered when queued
    /// by a guard dropped without commit.
    Rollback(Option<Reply<()>>),
    /// Answered once every job before it has run.
    Ping(Reply<()>),
}

/// The connection, shared by its handle and its thread.
pub(crate) type Shared = Arc<Mutex<Worker>>;

/// Opens the connection `config` describes and starts its thread; `ready`
/// hears whether it opened, with the connection to share. `depth` is kept
/// at the connection's count of open transactions and savepoints;
/// `pending` counts the jobs sent and not yet run (the thread takes one off
/// after each job, the mutex still held).
pub(crate) fn spawn(
    config: SqliteConfig,
    depth: Arc<AtomicUsize>,
    pending: Arc<AtomicUsize>,
    ready: oneshot::Sender<Result<Shared, rusqlite::Error>>,
) -> Result<mpsc::Sender<Job>, std::io::Error> {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let (jobs, inbox) = mpsc::channel();
    let name = format!("sqlite-{}", SEQ.fetch_add(1, Ordering::Relaxed));
    std::thread::Builder::new().name(name).spawn(move || {
        let conn = match open(&config) {
            Ok(conn) => conn,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let shared = Arc::new(Mutex::new(Worker {
            conn,
            depth,
            busy_timeout: config.busy_timeout,
            waits: true,
            columns: Columns::default(),
        }));
        if ready.send(Ok(shared.clone())).is_err() {
            return;
        }
        // Ends when the connection's handle is dropped (or closed), or
        // when a panic poisoned the mutex (the connection's state is then
        // unknown: the jobs left are dropped unanswered, which their
        // callers see as the thread gone).
        while let Some(job) = next_job(&inbox) {
            let Ok(mut worker) = shared.lock() else {
                return;
            };
            // This thread waits for other connections' locks.
            worker.wait_when_busy(true);
            worker.handle(job);
            pending.fetch_sub(1, Ordering::SeqCst);
        }
    })?;
    Ok(jobs)
}

/// How long the thread polls for the next job before it sleeps: a unit
/// of work's statements follow each other within microseconds, and waking
/// a sleeping thread costs tens of them on an idle virtual machine.
const POLL: std::time::Duration = std::time::Duration::from_micros(20);

/// The next job, polled for [`POLL`] before blocking; `None` when the
/// handle is gone.
fn next_job(inbox: &mpsc::Receiver<Job>) -> Option<Job> {
    let start = std::time::Instant::now();
    loop {
        match inbox.try_recv() {
            Ok(job) => return Some(job),
            Err(mpsc::TryRecvError::Disconnected) => return None,
            Err(mpsc::TryRecvError::Empty) if start.elapsed() < POLL => std::hint::spin_loop(),
            Err(mpsc::TryRecvError::Empty) => return inbox.recv().ok(),
        }
    }
}

/// Opens the database, with the busy timeout, the pragmas and REGEXP.
fn open(config: &SqliteConfig) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_with_flags(&config.filename, config.flags)?;
    conn.busy_timeout(config.busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.execute_batch(&config.pragmas)?;
    super::regexp::register(&conn)?;
    Ok(conn)
}

/// The connection and the depth it shares with its handle.
pub(crate) struct Worker {
    conn: Connection,
    depth: Arc<AtomicUsize>,
    /// The configured busy timeout.
    busy_timeout: Duration,
    /// Whether SQLite's busy timeout is the configured one (else 0: a lock
    /// held elsewhere fails at once with `SQLITE_BUSY`).
    waits: bool,
    /// The columns of the statements in the statement cache.
    columns: Columns,
}

impl Worker {
    /// The configured busy timeout when `on` (the connection's thread),
    /// else none (statements run on the caller's thread, which must not
    /// wait: see the module docs of [`super`]); whether it is so now.
    pub(crate) fn wait_when_busy(&mut self, on: bool) -> bool {
        if self.waits != on {
            if !on {
                // Kept for the thread: a `PRAGMA busy_timeout = n` run
                // there changes it.
                let now = self
                    .conn
                    .query_row("PRAGMA busy_timeout", [], |row| row.get::<_, i64>(0));
                match now.map(u64::try_from) {
                    Ok(Ok(ms)) => self.busy_timeout = Duration::from_millis(ms),
                    _ => return false,
                }
            }
            let timeout = if on {
                self.busy_timeout
            } else {
                Duration::ZERO
            };
            if self.conn.busy_timeout(timeout).is_ok() {
                self.waits = on;
            }
        }
        self.waits == on
    }

    /// The connection, for the unit tests (to register functions).
    #[cfg(test)]
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    fn handle(&mut self, job: Job) {
        match job {
            Job::Run {
                sql,
                params,
                want,
                begin,
            } => match self.held_begin(begin) {
                Ok(()) => self.run(Text::of(&sql), &params, want),
                Err(e) => want.fail(e),
            },
            Job::Stream {
                sql,
                params,
                rows,
                begin,
            } => match self.held_begin(begin) {
                Ok(()) => self.stream(Text::of(&sql), &params, &rows),
                Err(e) => {
                    let _ = rows.blocking_send(Err(e));
                }
            },
            Job::Begin {
                statement,
                reply,
                begin,
            } => {
                let result = self.held_begin(begin).and_then(|()| self.begin(statement));
                let _ = reply.send(result);
            }
            Job::Commit(reply) => {
                let _ = reply.send(self.commit());
            }
            Job::Rollback(reply) => {
                let result = self.rollback();
                if let Some(reply) = reply {
                    let _ = reply.send(result);
                }
            }
            Job::Ping(reply) => {
                let _ = reply.send(Ok(()));
            }
        }
    }

    fn run(&mut self, sql: Text<'_>, params: &[Value], want: Want) {
        match want {
            Want::Rows(reply) => {
                let _ = reply.send(self.rows(sql, params));
            }
            Want::Values(mut buffer, reply) => {
                let _ = reply.send(self.values(sql, params, &mut buffer));
            }
            Want::One(reply) => {
                let _ = reply.send(self.one(sql, params));
            }
        }
    }

    /// Runs `sql` with `params`, its rows labelled.
    pub(crate) fn rows(
        &mut self,
        sql: Text<'_>,
        params: &[Value],
    ) -> Result<QueryResult, DriverError> {
        let mut sink = Labelled::default();
        let summary = statement::run(&self.conn, &mut self.columns, sql, params, &mut sink)?;
        Ok(sink.finish(summary))
    }

    /// Runs `sql` with `params`, its rows' bare values decoded into
    /// `buffer` (taken when it succeeds, left to the caller when not).
    pub(crate) fn values<P: crate::driver::Params + ?Sized>(
        &mut self,
        sql: Text<'_>,
        params: &P,
        buffer: &mut Vec<Value>,
    ) -> Result<ValueRows, DriverError> {
        buffer.clear();
        let mut sink = Bare {
            values: std::mem::take(buffer),
            width: 0,
            count: 0,
        };
        match statement::run(&self.conn, &mut self.columns, sql, params, &mut sink) {
            Ok(summary) => Ok(ValueRows {
                values: sink.values,
                width: sink.width,
                count: sink.count,
                affected: summary.affected,
                last_insert_id: Some(summary.last_insert_id),
            }),
            Err(e) => {
                *buffer = sink.values;
                Err(e)
            }
        }
    }

    /// Runs `sql` with `params`, keeping its first row's values.
    pub(crate) fn one(
        &mut self,
        sql: Text<'_>,
        params: &[Value],
    ) -> Result<Option<Vec<Value>>, DriverError> {
        let mut sink = First(None);
        statement::run(&self.conn, &mut self.columns, sql, params, &mut sink)?;
        Ok(sink.0)
    }

    fn stream(&mut self, sql: Text<'_>, params: &[Value], rows: &Chunks) {
        let mut sink = Streamed {
            out: rows,
            labels: Arc::from(Vec::new()),
            chunk: Vec::with_capacity(FIRST_CHUNK),
            limit: FIRST_CHUNK,
            gone: false,
        };
        let result = statement::run(&self.conn, &mut self.columns, sql, params, &mut sink);
        if sink.gone {
            return;
        }
        let last = match result {
            Ok(_) if sink.chunk.is_empty() => return,
            Ok(_) => Ok(std::mem::take(&mut sink.chunk)),
            Err(e) => Err(e),
        };
        let _ = rows.blocking_send(last);
    }

    fn depth(&self) -> usize {
        self.depth.load(Ordering::SeqCst)
    }

    /// The `BEGIN` the handle held back, when a job carries it: run before
    /// the job's own statement, whose answer is this failure if it fails
    /// (the statement then does not run, outside the transaction or at all).
    pub(crate) fn held_begin(&mut self, begin: bool) -> Result<(), DriverError> {
        if begin {
            self.begin(None)
        } else {
            Ok(())
        }
    }

    fn set_depth(&self, depth: usize) {
        self.depth.store(depth, Ordering::SeqCst);
    }

    /// Runs `sql`, no parameters, no rows kept.
    fn exec(&self, sql: &str) -> Result<(), DriverError> {
        self.conn.execute_batch(sql).map_err(failure::map)
    }

    /// Runs the one statement `sql` of the transaction control this
    /// module writes (`BEGIN`, `COMMIT`, savepoints), prepared once from
    /// the statement cache: preparing it anew for each transaction costs
    /// more than a one-row select.
    fn control(&self, sql: &str) -> Result<(), DriverError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(failure::map)?;
        stmt.raw_execute().map(drop).map_err(failure::map)
    }

    pub(crate) fn begin(&mut self, statement: Option<String>) -> Result<(), DriverError> {
        let depth = self.depth();
        match (depth, statement) {
            (0, None) => self.control("BEGIN")?,
            (0, Some(statement)) => self.exec(&statement)?,
            (_, Some(s)) => {
                return Err(failure::programming(format!(
                    "`{s}` cannot begin a savepoint inside a transaction"
                )))
            }
            (n, None) => self.control(&format!("SAVEPOINT _persistence_savepoint_{n}"))?,
        }
        self.set_depth(depth + 1);
        Ok(())
    }

    pub(crate) fn commit(&mut self) -> Result<(), DriverError> {
        let depth = self.depth();
        let result = match depth {
            0 => return Ok(()),
            1 => self.control("COMMIT"),
            n => self.control(&format!(
                "RELEASE SAVEPOINT _persistence_savepoint_{}",
                n - 1
            )),
        };
        self.settle(depth, result)
    }

    pub(crate) fn rollback(&mut self) -> Result<(), DriverError> {
        let depth = self.depth();
        let result = match depth {
            0 => return Ok(()),
            1 => self.control("ROLLBACK"),
            n => self.control(&format!(
                "ROLLBACK TO SAVEPOINT _persistence_savepoint_{}",
                n - 1
            )),
        };
        self.settle(depth, result)
    }

    /// One level fewer after `result` succeeded; none at all when SQLite
    /// ended the transaction itself (a failed COMMIT it rolled back).
    fn settle(&self, depth: usize, result: Result<(), DriverError>) -> Result<(), DriverError> {
        match result {
            Ok(()) => self.set_depth(depth - 1),
            Err(_) if self.conn.is_autocommit() => self.set_depth(0),
            Err(_) => {}
        }
        result
    }
}

/// Labelled rows for Core.
#[derive(Default)]
struct Labelled {
    labels: Option<Arc<[Arc<str>]>>,
    current: Option<Arc<[Arc<str>]>>,
    rows: Vec<Row>,
}

impl Labelled {
    fn finish(self, summary: Summary) -> QueryResult {
        QueryResult {
            columns: self.labels.unwrap_or_else(|| Arc::from(Vec::new())),
            rows: self.rows,
            rows_affected: summary.affected,
            last_insert_id: Some(summary.last_insert_id),
            ..QueryResult::default()
        }
    }
}

impl Sink for Labelled {
    fn columns(&mut self, labels: Arc<[Arc<str>]>, _width: usize) -> Result<(), DriverError> {
        self.labels.get_or_insert_with(|| labels.clone());
        self.current = Some(labels);
        Ok(())
    }

    #[inline]
    fn row(&mut self, row: &rusqlite::Row<'_>, kinds: &[Declared]) -> Result<bool, DriverError> {
        let mut values = Vec::with_capacity(kinds.len());
        decode_row(row, kinds, &mut values)?;
        let labels = self
            .current
            .clone()
            .unwrap_or_else(|| Arc::from(Vec::new()));
        self.rows.push(Row::new(labels, values));
        Ok(true)
    }
}

/// Bare values, row after row, for the ORM.
struct Bare {
    values: Vec<Value>,
    width: usize,
    count: usize,
}

impl Sink for Bare {
    fn columns(&mut self, _labels: Arc<[Arc<str>]>, width: usize) -> Result<(), DriverError> {
        if self.count == 0 {
            self.width = width;
        }
        Ok(())
    }

    #[inline]
    fn row(&mut self, row: &rusqlite::Row<'_>, kinds: &[Declared]) -> Result<bool, DriverError> {
        if kinds.len() != self.width {
            // A later statement of the text with rows of another width:
            // only the first statement's rows are kept.
            return Ok(false);
        }
        decode_row(row, kinds, &mut self.values)?;
        self.count += 1;
        Ok(true)
    }
}

/// The first row only.
struct First(Option<Vec<Value>>);

impl Sink for First {
    fn columns(&mut self, _labels: Arc<[Arc<str>]>, _width: usize) -> Result<(), DriverError> {
        Ok(())
    }

    fn row(&mut self, row: &rusqlite::Row<'_>, kinds: &[Declared]) -> Result<bool, DriverError> {
        if self.0.is_some() {
            return Ok(false);
        }
        let mut values = Vec::with_capacity(kinds.len());
        decode_row(row, kinds, &mut values)?;
        self.0 = Some(values);
        Ok(false)
    }
}

/// A stream's rows, sent a chunk at a time; stops when the stream is
/// dropped.
struct Streamed<'a> {
    out: &'a Chunks,
    labels: Arc<[Arc<str>]>,
    chunk: Vec<Row>,
    /// The length at which `chunk` is sent (grows to [`CHUNK`]).
    limit: usize,
    gone: bool,
}

impl Sink for Streamed<'_> {
    fn columns(&mut self, labels: Arc<[Arc<str>]>, _width: usize) -> Result<(), DriverError> {
        self.labels = labels;
        Ok(())
    }

    #[inline]
    fn row(&mut self, row: &rusqlite::Row<'_>, kinds: &[Declared]) -> Result<bool, DriverError> {
        let mut values = Vec::with_capacity(kinds.len());
        decode_row(row, kinds, &mut values)?;
        self.chunk.push(Row::new(self.labels.clone(), values));
        if self.chunk.len() >= self.limit {
            self.limit = (self.limit * 2).min(CHUNK);
            let full = std::mem::replace(&mut self.chunk, Vec::with_capacity(self.limit));
            if self.out.blocking_send(Ok(full)).is_err() {
                self.gone = true;
                return Ok(false);
            }
        }
        Ok(true)
    }
}
