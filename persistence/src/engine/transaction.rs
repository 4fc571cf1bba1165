//! Transactions and savepoints: commit consumes the guard, dropping it
//! rolls back. Each one is a `db.transaction` span (see `observe`), and
//! `BEGIN` / `COMMIT` / `ROLLBACK` failures are classified like any
//! statement's.

use std::ops::{Deref, DerefMut};

use super::connection::Connection;
use super::pool::run;
use super::url::Backend;
use crate::error::Error;
use tracing::Instrument as _;

/// Transaction isolation levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationLevel {
    /// `READ UNCOMMITTED`
    ReadUncommitted,
    /// `READ COMMITTED`
    ReadCommitted,
    /// `REPEATABLE READ`
    RepeatableRead,
    /// `SERIALIZABLE`
    Serializable,
}

impl IsolationLevel {
    /// The SQL words.
    pub fn as_sql(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "READ UNCOMMITTED",
            IsolationLevel::ReadCommitted => "READ COMMITTED",
            IsolationLevel::RepeatableRead => "REPEATABLE READ",
            IsolationLevel::Serializable => "SERIALIZABLE",
        }
    }
}

enum Holder<'c> {
    Borrowed(&'c mut Connection),
    Owned(Connection),
}

/// An open transaction or savepoint. It derefs to its [`Connection`], so
/// statements run on it directly; `begin()` on it opens a savepoint.
///
/// `commit()` and `rollback()` consume it; dropping it without either rolls
/// back (the rollback is sent before the connection's next statement, or
/// when the connection goes back to its pool).
pub struct Transaction<'c> {
    conn: Holder<'c>,
    done: bool,
}

impl std::fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("done", &self.done)
            .finish()
    }
}

/// Begins a transaction, or a savepoint inside one; a transaction whose
/// `BEGIN` was deferred sends it first.
async fn start(conn: &mut Connection, level: Option<IsolationLevel>) -> Result<(), Error> {
    if conn.take_pending_begin() {
        // What was asked for is a savepoint inside it.
        let own = conn.engine().options().isolation_level;
        start_one(conn, own).await?;
    }
    start_one(conn, level).await
}

/// Begins a transaction, or a savepoint inside the open one.
async fn start_one(conn: &mut Connection, level: Option<IsolationLevel>) -> Result<(), Error> {
    let savepoint = conn.transaction_depth() > 0;
    let statement = match (level, savepoint, conn.engine().backend()) {
        (Some(level), false, Backend::Postgres) => {
            Some(format!("BEGIN ISOLATION LEVEL {}", level.as_sql()))
        }
        (Some(level), false, Backend::MySql) => {
            let sql = format!("SET TRANSACTION ISOLATION LEVEL {}", level.as_sql());
            // Outside any transaction: this must not autobegin one.
            conn.execute_unbegun(&dialects::text(&sql)).await?;
            None
        }
        (_, false, Backend::Sqlite)
            if conn.engine().options().sqlite.begin_immediate == Some(true) =>
        {
            Some("BEGIN IMMEDIATE".to_owned())
        }
        // SQLite transactions are always serializable.
        _ => None,
    };
    let engine = conn.engine().clone();
    let observer = engine.observer();
    let pooled = conn.pooled();
    let trace = observer.begin_transaction(pooled, savepoint, level.map(IsolationLevel::as_sql));
    let span = trace.span().clone();
    let result = async { run!(pooled, |raw| raw.begin(statement.clone())) }
        .instrument(span)
        .await;
    match result {
        Ok(()) => {
            pooled.push_transaction(trace);
            Ok(())
        }
        Err(e) => {
            observer.end_transaction(trace, "begin", false);
            Err(e)
        }
    }
}

/// Commits the innermost transaction or savepoint of `conn`, ending its span.
async fn finish(conn: &mut Connection, commit: bool) -> Result<(), Error> {
    let engine = conn.engine().clone();
    let observer = engine.observer();
    let pooled = conn.pooled();
    let trace = pooled.pop_transaction();
    let span = trace
        .as_ref()
        .map_or_else(tracing::Span::none, |t| t.span().clone());
    let result = if commit {
        async { run!(pooled, |raw| raw.commit()) }
            .instrument(span)
            .await
    } else {
        async { run!(pooled, |raw| raw.rollback()) }
            .instrument(span)
            .await
    };
    if let Some(trace) = trace {
        let outcome = if commit { "commit" } else { "rollback" };
        observer.end_transaction(trace, outcome, result.is_ok());
    }
    result
}

impl<'c> Transaction<'c> {
    pub(crate) async fn begin(
        conn: &'c mut Connection,
        level: Option<IsolationLevel>,
    ) -> Result<Self, Error> {
        start(conn, level).await?;
        Ok(Transaction {
            conn: Holder::Borrowed(conn),
            done: false,
        })
    }

    /// Commits (or releases the savepoint).
    ///
    /// A serialization failure here is retryable
    /// ([`Error::is_retryable`]); the connection is out of the transaction
    /// either way. When the connection is lost during `COMMIT` (the error
    /// says [`connection_invalidated`](Error::connection_invalidated)),
    /// whether the transaction took effect is unknown.
    pub async fn commit(mut self) -> Result<(), Error> {
        self.done = true;
        finish(self.connection(), true).await
    }

    /// Rolls back (to the savepoint).
    pub async fn rollback(mut self) -> Result<(), Error> {
        self.done = true;
        finish(self.connection(), false).await
    }

    fn connection(&mut self) -> &mut Connection {
        match &mut self.conn {
            Holder::Borrowed(c) => c,
            Holder::Owned(c) => c,
        }
    }
}

impl Transaction<'static> {
    pub(crate) async fn begin_owned(
        mut conn: Connection,
        level: Option<IsolationLevel>,
    ) -> Result<Self, Error> {
        start(&mut conn, level).await?;
        Ok(Transaction {
            conn: Holder::Owned(conn),
            done: false,
        })
    }
}

impl Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match &self.conn {
            Holder::Borrowed(c) => c,
            Holder::Owned(c) => c,
        }
    }
}

impl DerefMut for Transaction<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.connection()
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            let conn = self.connection();
            let engine = conn.engine().clone();
            let pooled = conn.pooled();
            pooled.queue_rollback();
            if let Some(trace) = pooled.pop_transaction() {
                engine
                    .observer()
                    .end_transaction(trace, "rollback (guard dropped)", true);
            }
            self.connection().note_queued_rollback();
        }
    }
}

/// Begins a transaction without a guard (for owners such as the ORM
/// session that track it themselves).
pub(crate) async fn begin_raw(conn: &mut Connection) -> Result<(), Error> {
    let level = conn.engine().options().isolation_level;
    start(conn, level).await
}

/// Commits the innermost transaction begun with [`begin_raw`] (nothing to
/// send for one whose `BEGIN` is still deferred: it only read).
pub(crate) async fn commit_raw(conn: &mut Connection) -> Result<(), Error> {
    if conn.take_pending_begin() {
        return Ok(());
    }
    finish(conn, true).await
}

/// Rolls back the innermost transaction begun with [`begin_raw`] (nothing
/// to send for one whose `BEGIN` is still deferred).
pub(crate) async fn rollback_raw(conn: &mut Connection) -> Result<(), Error> {
    if conn.take_pending_begin() {
        return Ok(());
    }
    finish(conn, false).await
}
