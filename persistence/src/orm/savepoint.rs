//! `Session::begin_nested()`: a SAVEPOINT inside the session's transaction
//! (SQLAlchemy's `session.begin_nested()`).
//!
//! Opening one flushes what is staged, so the savepoint holds only what
//! comes after. [`Savepoint::commit`] releases it and keeps the work;
//! [`Savepoint::rollback`] rolls the database back to it, drops what was
//! staged since, and gives every object the session tracks back the
//! snapshot it had when the savepoint began (expired, so the next access
//! reads the database again). Dropping the guard without either rolls
//! back, before the session's next statement. A flush that fails inside
//! a savepoint rolls back to it only: the outer transaction and the
//! session stay usable, and the guard's `commit` then reports
//! [`Error::InactiveSavepoint`].
//!
//! ```no_run
//! # use persistence::orm::Session;
//! # #[derive(Clone)] struct Worker { id: Option<i64>, name: String }
//! # async fn demo(session: &mut Session, mut ann: Worker, mut bob: Worker) -> Result<(), persistence::Error> {
//! session.add(&mut ann).await?;
//! let mut nested = session.begin_nested().await?;   // flush, SAVEPOINT
//! nested.add(&mut bob).await?;                      // the guard derefs to the session
//! nested.rollback().await?;                         // ROLLBACK TO SAVEPOINT: Bob is gone
//! session.commit().await?;                          // Ann is kept
//! # Ok(()) }
//! ```

use std::ops::{Deref, DerefMut};

use super::session::Session;
use crate::engine::transaction::{begin_raw, commit_raw, rollback_raw};
use crate::error::Error;

/// An open savepoint of a session; see the [module docs](self). It derefs
/// to the session, so work inside it goes through the guard.
#[must_use = "a savepoint is rolled back unless `.commit()` is called"]
pub struct Savepoint<'s> {
    session: &'s mut Session,
    /// How many savepoints were open once this one was (its level).
    level: usize,
    done: bool,
}

impl std::fmt::Debug for Savepoint<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Savepoint")
            .field("level", &self.level)
            .field("done", &self.done)
            .finish()
    }
}

impl Session {
    /// Flushes, then opens a savepoint (`SAVEPOINT`); see [`Savepoint`].
    pub async fn begin_nested(&mut self) -> Result<Savepoint<'_>, Error> {
        self.flush().await?;
        self.connection().await?;
        let Some(conn) = self.conn.as_mut() else {
            return Err(Error::PoolClosed);
        };
        begin_raw(conn).await?;
        self.identity.begin_level();
        self.savepoints += 1;
        let level = self.savepoints;
        Ok(Savepoint {
            session: self,
            level,
            done: false,
        })
    }

    /// Rolls back the savepoints whose guards were dropped without
    /// `commit()` / `rollback()` (before anything else runs).
    pub(crate) async fn settle_savepoints(&mut self) -> Result<(), Error> {
        while self.dropped_savepoints > 0 {
            self.dropped_savepoints -= 1;
            self.rollback_savepoint().await?;
        }
        Ok(())
    }

    /// `ROLLBACK TO SAVEPOINT` of the innermost savepoint, and the
    /// session's state back to what it was when it began.
    pub(crate) async fn rollback_savepoint(&mut self) -> Result<(), Error> {
        if self.savepoints == 0 {
            return Ok(());
        }
        self.savepoints -= 1;
        self.pending.take();
        let restored = self.identity.rollback_level();
        self.states.restored(restored);
        match self.conn.as_mut() {
            Some(conn) => rollback_raw(conn).await,
            None => Ok(()),
        }
    }
}

impl Savepoint<'_> {
    /// Whether the savepoint is still open (not rolled back by a failed
    /// flush inside it).
    fn active(&self) -> bool {
        self.session.savepoints >= self.level
    }

    /// Flushes and releases the savepoint (`RELEASE SAVEPOINT`): its work
    /// becomes part of the enclosing transaction.
    pub async fn commit(mut self) -> Result<(), Error> {
        self.done = true;
        if !self.active() {
            return Err(Error::InactiveSavepoint);
        }
        self.session.flush().await?;
        if !self.active() {
            return Err(Error::InactiveSavepoint);
        }
        self.session.savepoints -= 1;
        self.session.identity.release_level();
        match self.session.conn.as_mut() {
            Some(conn) => commit_raw(conn).await,
            None => Ok(()),
        }
    }

    /// Rolls back to the savepoint (`ROLLBACK TO SAVEPOINT`): staged work
    /// since is dropped and the session's snapshots are restored.
    pub async fn rollback(mut self) -> Result<(), Error> {
        self.done = true;
        if !self.active() {
            return Ok(());
        }
        self.session.rollback_savepoint().await
    }
}

impl Deref for Savepoint<'_> {
    type Target = Session;
    fn deref(&self) -> &Session {
        self.session
    }
}

impl DerefMut for Savepoint<'_> {
    fn deref_mut(&mut self) -> &mut Session {
        self.session
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if !self.done && self.active() {
            self.session.dropped_savepoints += 1;
        }
    }
}
