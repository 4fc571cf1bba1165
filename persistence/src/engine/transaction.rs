//! Transactions and savepoints: commit consumes the guard, dropping it
//! rolls back.

use std::ops::{Deref, DerefMut};

use super::connection::Connection;
use super::url::Backend;
use crate::error::Error;

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

async fn start(conn: &mut Connection, level: Option<IsolationLevel>) -> Result<(), Error> {
    let statement = match (level, conn.in_transaction(), conn.engine().backend()) {
        (Some(level), false, Backend::Postgres) => {
            Some(format!("BEGIN ISOLATION LEVEL {}", level.as_sql()))
        }
        (Some(level), false, Backend::MySql) => {
            let sql = format!("SET TRANSACTION ISOLATION LEVEL {}", level.as_sql());
            conn.execute(&dialects::text(&sql)).await?;
            None
        }
        // SQLite transactions are always serializable.
        _ => None,
    };
    let raw = conn.pooled().start()?;
    let result = raw.begin(statement).await;
    conn.pooled().done(result)
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
    pub async fn commit(mut self) -> Result<(), Error> {
        self.done = true;
        let conn = self.connection();
        let raw = conn.pooled().start()?;
        let result = raw.commit().await;
        conn.pooled().done(result)
    }

    /// Rolls back (to the savepoint).
    pub async fn rollback(mut self) -> Result<(), Error> {
        self.done = true;
        let conn = self.connection();
        let raw = conn.pooled().start()?;
        let result = raw.rollback().await;
        conn.pooled().done(result)
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
            if let Some(raw) = self.connection().pooled().raw() {
                raw.start_rollback();
            }
        }
    }
}

/// Begins a transaction without a guard (for owners such as the ORM
/// session that track it themselves).
pub(crate) async fn begin_raw(conn: &mut Connection) -> Result<(), Error> {
    let level = conn.engine().options().isolation_level;
    start(conn, level).await
}

/// Commits the innermost transaction begun with [`begin_raw`].
pub(crate) async fn commit_raw(conn: &mut Connection) -> Result<(), Error> {
    let raw = conn.pooled().start()?;
    let result = raw.commit().await;
    conn.pooled().done(result)
}

/// Rolls back the innermost transaction begun with [`begin_raw`].
pub(crate) async fn rollback_raw(conn: &mut Connection) -> Result<(), Error> {
    let raw = conn.pooled().start()?;
    let result = raw.rollback().await;
    conn.pooled().done(result)
}
