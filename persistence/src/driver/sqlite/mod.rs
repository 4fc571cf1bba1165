//! SQLite in process, on rusqlite: each connection has an OS thread of
//! its own ([`worker`]) and a `rusqlite::Connection` that thread shares
//! with the connection's handle behind a mutex. A statement runs one of two
//! ways, with the same answer:
//!
//! - **Inline**, on the caller's thread, inside the first poll of its
//!   future (so it cannot be cancelled half-way), when no job is queued or
//!   running on the connection's thread and the mutex is free. No thread
//!   hop: this is what makes a one-row statement cost about what rusqlite
//!   does. A statement run so blocks the executor's thread for its
//!   duration, as any synchronous SQLite library does: a 10k-row select or
//!   a migration script holds it for milliseconds. `?inline=off` in the URL
//!   sends every statement to the thread instead.
//! - **On the thread**, as a job sent there (its SQL and bound values) with
//!   one answer back with all its rows, decoded there into the crate's rows
//!   and values; a stream's rows come back in chunks. No `spawn_blocking`,
//!   no message per row. Jobs run in order, so while one is queued or
//!   running (a stream's runs until it ends or is dropped) every statement
//!   goes this way; so does a text of several statements (see below).
//!
//! Inline, SQLite's busy timeout is 0: a statement never waits on the
//! executor's thread for a lock another connection holds (with several
//! connections on one current-thread runtime that would stall all of them
//! until the timeout). A statement that fails with `SQLITE_BUSY` there
//! changed nothing (SQLite rolls a statement back that fails so; a
//! `COMMIT` that does leaves the transaction open), so it is sent to the
//! thread, which waits with the configured timeout as before. A text of
//! several statements never runs inline: one of them failing so after the
//! first ran could not be sent again whole.
//!
//! A `BEGIN` at depth 0 is held back and sent in the same job as the
//! next statement (or savepoint), run first on the thread (or inline
//! before it): SQLite's deferred `BEGIN` takes no lock and no snapshot
//! until the transaction's first statement anyway, so that is the same
//! transaction, one hop sooner. A commit or rollback of a transaction in
//! which nothing ran sends nothing. `BEGIN IMMEDIATE` / `EXCLUSIVE` (a
//! statement of its own) is run at once: it takes its lock when called.
//!
//! An operation whose future is dropped still runs to its end on the
//! thread ([`SqliteConnection::cancel_safe`] is why the pool settles such
//! a connection instead of discarding it): the pool pings (which waits
//! for every job before it) and rolls back what is still open. An inline
//! one has ended before its future could be dropped.

mod cells;
mod config;
mod failure;
mod regexp;
mod statement;
#[cfg(test)]
mod tests;
mod worker;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, MutexGuard};

use dialects::{Dialect, Sqlite, Value};
use futures_util::stream::BoxStream;
use tokio::sync::oneshot;

pub(crate) use config::SqliteConfig;
use statement::Text;
use worker::{Job, Reply, Shared, Want, Worker};

use super::{DriverError, LinkError, ValueRows};
use crate::engine::result::QueryResult;
use crate::engine::row::Row;

/// One SQLite connection: the channel to its thread, the connection it
/// shares with that thread, and the transaction depth kept there.
pub(crate) struct SqliteConnection {
    jobs: mpsc::Sender<Job>,
    shared: Shared,
    /// Jobs sent and not yet run (one more before each send; one fewer
    /// after each job, on the thread, the mutex still held).
    pending: Arc<AtomicUsize>,
    depth: Arc<AtomicUsize>,
    /// A `BEGIN` held back for the next job (see the module's docs).
    held_begin: AtomicBool,
    /// Whether statements may run inline (see the module's docs).
    inline: bool,
}

impl std::fmt::Debug for SqliteConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteConnection")
            .field("pending", &self.pending)
            .field("depth", &self.depth)
            .field("held_begin", &self.held_begin)
            .field("inline", &self.inline)
            .finish_non_exhaustive()
    }
}

impl SqliteConnection {
    /// Opens a connection on a thread of its own.
    pub(crate) async fn open(config: &SqliteConfig) -> Result<Self, LinkError> {
        let depth = Arc::new(AtomicUsize::new(0));
        let pending = Arc::new(AtomicUsize::new(0));
        let (ready, opened) = oneshot::channel();
        let jobs = worker::spawn(config.clone(), depth.clone(), pending.clone(), ready)?;
        match opened.await {
            Ok(Ok(shared)) => Ok(SqliteConnection {
                jobs,
                shared,
                pending,
                depth,
                held_begin: AtomicBool::new(false),
                inline: config.inline,
            }),
            Ok(Err(e)) => Err(Box::new(e)),
            Err(_) => Err("the SQLite connection's thread ended while opening".into()),
        }
    }

    /// Sends `job` (made with its reply channel) and waits for the answer.
    async fn ask<T>(&self, job: impl FnOnce(Reply<T>) -> Job) -> Result<T, DriverError> {
        let (reply, answer) = oneshot::channel();
        self.send(job(reply))?;
        answer.await.map_err(|_| failure::worker_gone())?
    }

    /// Queues `job` on the connection's thread.
    fn send(&self, job: Job) -> Result<(), DriverError> {
        self.pending.fetch_add(1, Ordering::SeqCst);
        self.jobs.send(job).map_err(|_| {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            failure::worker_gone()
        })
    }

    /// The connection, to run a statement inline: when allowed, with no
    /// job queued or running on the thread, and the mutex free (never
    /// waited for). `None` when poisoned too: the thread then ends, and the
    /// job sent instead fails as the thread gone.
    fn idle(&self) -> Option<MutexGuard<'_, Worker>> {
        if !self.inline || self.pending.load(Ordering::SeqCst) != 0 {
            return None;
        }
        let mut worker = self.shared.try_lock().ok()?;
        // A job sent between the check and the lock waits for the mutex:
        // running first would put this statement before it.
        if self.pending.load(Ordering::SeqCst) != 0 || !worker.wait_when_busy(false) {
            return None;
        }
        Some(worker)
    }

    /// Runs `op` inline when the connection is idle, after the `BEGIN`
    /// held back when `begin` (which is then cleared); `None` when it is to
    /// be sent to the thread instead: not idle, or `SQLITE_BUSY` (which
    /// changed nothing; `begin` says whether the `BEGIN` is still to run).
    fn inline<T>(
        &self,
        begin: &mut bool,
        op: impl FnOnce(&mut Worker) -> Result<T, DriverError>,
    ) -> Option<Result<T, DriverError>> {
        let mut worker = self.idle()?;
        match worker.held_begin(*begin) {
            Err(e) if failure::is_busy(&e) => return None,
            result => {
                *begin = false;
                if let Err(e) = result {
                    return Some(Err(e));
                }
            }
        }
        match op(&mut worker) {
            Err(e) if failure::is_busy(&e) => None,
            result => Some(result),
        }
    }

    /// [`inline`](Self::inline) for a statement's text: never for one of
    /// several statements (see the module's docs), nor for a `PRAGMA` (so
    /// that `PRAGMA busy_timeout` reads and sets the thread's timeout, not
    /// the 0 of inline statements).
    fn inline_text<T>(
        &self,
        sql: &str,
        begin: &mut bool,
        op: impl FnOnce(&mut Worker, Text<'_>) -> Result<T, DriverError>,
    ) -> Option<Result<T, DriverError>> {
        let pragma = sql
            .trim_start()
            .get(..6)
            .is_some_and(|head| head.eq_ignore_ascii_case("pragma"));
        if pragma {
            return None;
        }
        let text = Text::of(sql);
        if text.tail {
            return None;
        }
        self.inline(begin, |w| op(w, text))
    }

    /// Takes the held-back `BEGIN`, for the job about to be sent.
    fn take_begin(&self) -> bool {
        self.held_begin.swap(false, Ordering::SeqCst)
    }

    /// Runs `sql` with `params`, keeping its rows with their labels.
    pub(crate) async fn execute(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<QueryResult, DriverError> {
        let mut begin = self.take_begin();
        if let Some(done) = self.inline_text(sql, &mut begin, |w, text| w.rows(text, params)) {
            return done;
        }
        let (sql, params) = (sql.to_owned(), params.to_vec());
        self.ask(|reply| Job::Run {
            sql,
            params,
            want: Want::Rows(reply),
            begin,
        })
        .await
    }

    /// Runs `sql` with `params`, keeping its rows as bare values decoded
    /// into `buffer`.
    pub(crate) async fn execute_values<P: crate::driver::Params + ?Sized>(
        &self,
        sql: &str,
        params: &P,
        mut buffer: Vec<Value>,
    ) -> Result<ValueRows, DriverError> {
        let mut begin = self.take_begin();
        let done = self.inline_text(sql, &mut begin, |w, text| {
            w.values(text, params, &mut buffer)
        });
        if let Some(done) = done {
            return done;
        }
        let (sql, params) = (sql.to_owned(), params.to_vec());
        self.ask(|reply| Job::Run {
            sql,
            params,
            want: Want::Values(buffer, reply),
            begin,
        })
        .await
    }

    /// The first row of the query `sql` with `params`, as bare values.
    pub(crate) async fn query_one(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<Option<Vec<Value>>, DriverError> {
        let mut begin = self.take_begin();
        if let Some(done) = self.inline_text(sql, &mut begin, |w, text| w.one(text, params)) {
            return done;
        }
        let (sql, params) = (sql.to_owned(), params.to_vec());
        self.ask(|reply| Job::Run {
            sql,
            params,
            want: Want::One(reply),
            begin,
        })
        .await
    }

    /// Streams the rows of `sql` with `params`, a chunk per message from
    /// the connection's thread (never inline: the statement stays open
    /// across the stream's awaits); dropping the stream stops the
    /// statement.
    pub(crate) fn stream<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a [Value],
    ) -> BoxStream<'a, Result<Row, DriverError>> {
        Box::pin(async_stream::stream! {
            let (rows, mut chunks) = tokio::sync::mpsc::channel(2);
            let job = Job::Stream {
                sql: sql.to_owned(),
                params: params.to_vec(),
                rows,
                begin: self.take_begin(),
            };
            if let Err(e) = self.send(job) {
                yield Err(e);
                return;
            }
            while let Some(chunk) = chunks.recv().await {
                match chunk {
                    Ok(rows) => {
                        for row in rows {
                            yield Ok(row);
                        }
                    }
                    Err(e) => {
                        yield Err(e);
                        return;
                    }
                }
            }
        })
    }

    /// Begins a transaction (with `statement` instead of `BEGIN`), or a
    /// savepoint inside one. A plain `BEGIN` with none open is held back
    /// for the next job (see the module's docs).
    pub(crate) async fn begin(&self, statement: Option<String>) -> Result<(), DriverError> {
        if statement.is_none() && self.depth() == 0 {
            self.held_begin.store(true, Ordering::SeqCst);
            return Ok(());
        }
        let mut begin = self.take_begin();
        let first = statement.clone();
        if let Some(done) = self.inline(&mut begin, |w| w.begin(first)) {
            return done;
        }
        self.ask(|reply| Job::Begin {
            statement,
            reply,
            begin,
        })
        .await
    }

    /// Commits the innermost transaction or savepoint (nothing to send
    /// when the transaction's `BEGIN` is still held back: nothing ran).
    pub(crate) async fn commit(&self) -> Result<(), DriverError> {
        if self.take_begin() {
            return Ok(());
        }
        if let Some(done) = self.inline(&mut false, Worker::commit) {
            return done;
        }
        self.ask(Job::Commit).await
    }

    /// Rolls back the innermost transaction or savepoint (see
    /// [`commit`](Self::commit)).
    pub(crate) async fn rollback(&self) -> Result<(), DriverError> {
        if self.take_begin() {
            return Ok(());
        }
        if let Some(done) = self.inline(&mut false, Worker::rollback) {
            return done;
        }
        self.ask(|reply| Job::Rollback(Some(reply))).await
    }

    /// Queues a rollback of the innermost transaction, run before any job
    /// sent after it.
    pub(crate) fn start_rollback(&self) {
        if self.take_begin() {
            return;
        }
        if self.depth() > 0 && self.inline(&mut false, Worker::rollback).is_none() {
            let _ = self.send(Job::Rollback(None));
        }
    }

    /// Open transactions plus savepoints, as of the last job run, and a
    /// held-back `BEGIN`.
    pub(crate) fn depth(&self) -> usize {
        self.depth.load(Ordering::SeqCst) + usize::from(self.held_begin.load(Ordering::SeqCst))
    }

    /// Answers once every job sent before has run; fails when the thread
    /// is gone (at once when none is queued or running and the mutex is
    /// free: the thread ends only after a poisoning panic, which leaves the
    /// mutex poisoned).
    pub(crate) async fn ping(&self) -> Result<(), LinkError> {
        if self.idle().is_some() {
            return Ok(());
        }
        self.ask(Job::Ping)
            .await
            .map_err(|_| "the connection's SQLite thread is gone".into())
    }

    /// Closes the connection: its thread ends after the jobs queued.
    pub(crate) async fn close(self) -> Result<(), LinkError> {
        self.ping().await
    }

    /// SQLite's dialect.
    pub(crate) fn dialect() -> Arc<dyn Dialect> {
        Arc::new(Sqlite)
    }
}
