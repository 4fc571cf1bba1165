//! SQLite in process, on rusqlite: each connection owns an OS thread that
//! holds the `rusqlite::Connection` ([`worker`]). A statement is one job
//! sent there (its SQL and bound values) and one answer back with all its
//! rows, decoded on that thread into the crate's rows and values; a
//! stream's rows come back in chunks. No `spawn_blocking`, no message
//! per row.
//!
//! A `BEGIN` at depth 0 is held back and sent in the same job as the
//! next statement (or savepoint), run first on the thread: SQLite's
//! deferred `BEGIN` takes no lock and no snapshot until the transaction's
//! first statement anyway, so that is the same transaction, one hop
//! sooner. A commit or rollback of a transaction in which nothing ran
//! sends nothing. `BEGIN IMMEDIATE` / `EXCLUSIVE` (a statement of its own)
//! is sent at once: it takes its lock when called.
//!
//! An operation whose future is dropped still runs to its end on the
//! thread ([`SqliteConnection::cancel_safe`] is why the pool settles such
//! a connection instead of discarding it): the pool pings (which waits
//! for every job before it) and rolls back what is still open.

mod cells;
mod config;
mod failure;
mod regexp;
mod statement;
mod worker;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use dialects::{Dialect, Sqlite, Value};
use futures_util::stream::BoxStream;
use tokio::sync::oneshot;

pub(crate) use config::SqliteConfig;
use worker::{Job, Reply, Want};

use super::{DriverError, LinkError, ValueRows};
use crate::engine::result::QueryResult;
use crate::engine::row::Row;

/// One SQLite connection: the channel to its thread, and the transaction
/// depth that thread keeps.
#[derive(Debug)]
pub(crate) struct SqliteConnection {
    jobs: mpsc::Sender<Job>,
    depth: Arc<AtomicUsize>,
    /// A `BEGIN` held back for the next job (see the module's docs).
    held_begin: AtomicBool,
}

impl SqliteConnection {
    /// Opens a connection on a thread of its own.
    pub(crate) async fn open(config: &SqliteConfig) -> Result<Self, LinkError> {
        let depth = Arc::new(AtomicUsize::new(0));
        let (ready, opened) = oneshot::channel();
        let jobs = worker::spawn(config.clone(), depth.clone(), ready)?;
        match opened.await {
            Ok(Ok(())) => Ok(SqliteConnection {
                jobs,
                depth,
                held_begin: AtomicBool::new(false),
            }),
            Ok(Err(e)) => Err(Box::new(e)),
            Err(_) => Err("the SQLite connection's thread ended while opening".into()),
        }
    }

    /// Sends `job` (made with its reply channel) and waits for the answer.
    async fn ask<T>(&self, job: impl FnOnce(Reply<T>) -> Job) -> Result<T, DriverError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(job(reply))
            .map_err(|_| failure::worker_gone())?;
        answer.await.map_err(|_| failure::worker_gone())?
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
        let (sql, params) = (sql.to_owned(), params.to_vec());
        self.ask(|reply| Job::Run {
            sql,
            params,
            want: Want::Rows(reply),
            begin: self.take_begin(),
        })
        .await
    }

    /// Runs `sql` with `params`, keeping its rows as bare values decoded
    /// into `buffer`.
    pub(crate) async fn execute_values(
        &self,
        sql: &str,
        params: Vec<Value>,
        buffer: Vec<Value>,
    ) -> Result<ValueRows, DriverError> {
        let sql = sql.to_owned();
        self.ask(|reply| Job::Run {
            sql,
            params,
            want: Want::Values(buffer, reply),
            begin: self.take_begin(),
        })
        .await
    }

    /// The first row of the query `sql` with `params`, as bare values.
    pub(crate) async fn query_one(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<Option<Vec<Value>>, DriverError> {
        let (sql, params) = (sql.to_owned(), params.to_vec());
        self.ask(|reply| Job::Run {
            sql,
            params,
            want: Want::One(reply),
            begin: self.take_begin(),
        })
        .await
    }

    /// Streams the rows of `sql` with `params`, a chunk per message from
    /// the connection's thread; dropping the stream stops the statement.
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
            if self.jobs.send(job).is_err() {
                yield Err(failure::worker_gone());
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
        let begin = self.take_begin();
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
        self.ask(Job::Commit).await
    }

    /// Rolls back the innermost transaction or savepoint (see
    /// [`commit`](Self::commit)).
    pub(crate) async fn rollback(&self) -> Result<(), DriverError> {
        if self.take_begin() {
            return Ok(());
        }
        self.ask(|reply| Job::Rollback(Some(reply))).await
    }

    /// Queues a rollback of the innermost transaction, run before any job
    /// sent after it.
    pub(crate) fn start_rollback(&self) {
        if self.take_begin() {
            return;
        }
        if self.depth() > 0 {
            let _ = self.jobs.send(Job::Rollback(None));
        }
    }

    /// Open transactions plus savepoints, as of the last job run, and a
    /// held-back `BEGIN`.
    pub(crate) fn depth(&self) -> usize {
        self.depth.load(Ordering::SeqCst) + usize::from(self.held_begin.load(Ordering::SeqCst))
    }

    /// Answers once every job sent before has run; fails when the thread
    /// is gone.
    pub(crate) async fn ping(&self) -> Result<(), LinkError> {
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
