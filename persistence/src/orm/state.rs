//! What the session knows of an object: its state (SQLAlchemy's
//! `inspect(obj)`: transient, pending, persistent, deleted, detached),
//! `expunge` / `expunge_all`, and a scoped `no_autoflush`.
//!
//! Objects are plain values the caller owns, so the session cannot mark
//! them; it answers from the object's primary key and what it holds under
//! that key:
//!
//! | state | meaning here |
//! |---|---|
//! | [`Pending`](ObjectState::Pending) | an INSERT of its key is staged, not yet flushed |
//! | [`Persistent`](ObjectState::Persistent) | the identity map holds its key (fresh or expired) |
//! | [`Deleted`](ObjectState::Deleted) | its DELETE was flushed in the current transaction |
//! | [`Detached`](ObjectState::Detached) | the session held it and let go: expunged, deleted and committed, or known before a rollback |
//! | [`Transient`](ObjectState::Transient) | no key, or a key the session never held |
//!
//! After `rollback()` the session forgets every object (the database may
//! have other values now), so every object loaded before is detached:
//! `state_of` is how a caller tells a stale copy from a live one. Objects
//! read through [`Session::stream`](super::Session::stream) are never
//! held (that keeps memory constant), so they stay transient to it.
//!
//! ```no_run
//! use persistence::prelude::*;
//! use persistence::orm::ObjectState;
//! # #[derive(Debug, Clone)] struct Worker { id: Option<i64>, name: String }
//! # async fn demo(session: &mut Session) -> Result<(), Error> {
//! let mut vlad = Worker { id: None, name: "Vlad".into() };
//! assert_eq!(session.state_of(&vlad)?, ObjectState::Transient);
//! session.add(&mut vlad).await?;                     // INSERT, id written back
//! assert_eq!(session.state_of(&vlad)?, ObjectState::Persistent);
//! session.rollback().await?;
//! assert_eq!(session.state_of(&vlad)?, ObjectState::Detached);
//! # Ok(()) }
//! ```

use std::any::TypeId;
use std::collections::HashSet;
use std::ops::{Deref, DerefMut};

use super::identity::{FastHash, FastMap, IdentityKey};
use super::mapper::MapperInfo;
use super::session::Session;
use super::unit_of_work::Change;
use crate::error::Error;

/// The state of an object as its session sees it (SQLAlchemy's object
/// states). See the [module docs](self) for how each is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectState {
    /// Not in the session: no key, or a key it never held.
    Transient,
    /// Staged for INSERT, not flushed yet.
    Pending,
    /// In the identity map: loaded, or written and flushed.
    Persistent,
    /// Its DELETE was flushed in the current transaction.
    Deleted,
    /// The session held it and let go of it (expunged, deleted and
    /// committed, or rolled back): its values may be stale.
    Detached,
}

/// Why the session let go of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gone {
    /// `expunge` / `expunge_all`.
    Expunged,
    /// Deleted, and the delete committed.
    Deleted,
    /// Held when the transaction rolled back.
    RolledBack,
}

/// What the session remembers of objects besides the identity map.
#[derive(Debug, Default)]
pub(crate) struct States {
    /// Objects whose DELETE was flushed in the current transaction.
    deleted: HashSet<(TypeId, IdentityKey), FastHash>,
    /// Objects the session let go of.
    detached: FastMap<(TypeId, IdentityKey), Gone>,
}

impl States {
    /// Notes the deletes of a flush that succeeded.
    pub(crate) fn flushed_deletes(&mut self, keys: Vec<(TypeId, IdentityKey)>) {
        for k in keys {
            self.detached.remove(&k);
            self.deleted.insert(k);
        }
    }

    /// Objects back in the identity map after a savepoint's rollback are
    /// no longer deleted.
    pub(crate) fn restored(&mut self, keys: Vec<(TypeId, IdentityKey)>) {
        for k in keys {
            self.deleted.remove(&k);
        }
    }

    /// Notes an object deleted outside the unit of work (a bulk DELETE
    /// synchronized with the session).
    pub(crate) fn deleted_now(&mut self, ty: TypeId, key: IdentityKey) {
        self.flushed_deletes(vec![(ty, key)]);
    }

    /// After commit: deleted objects are detached.
    pub(crate) fn committed(&mut self) {
        for k in self.deleted.drain() {
            self.detached.insert(k, Gone::Deleted);
        }
    }

    /// Before the identity map is cleared by a rollback: everything it
    /// held, and everything deleted in the transaction, is detached.
    pub(crate) fn rolled_back(&mut self, held: Vec<(TypeId, IdentityKey)>) {
        self.detached.reserve(held.len() + self.deleted.len());
        for k in self.deleted.drain() {
            self.detached.insert(k, Gone::RolledBack);
        }
        for k in held {
            self.detached.insert(k, Gone::RolledBack);
        }
    }

    fn forget(&mut self, ty: TypeId, key: IdentityKey, why: Gone) {
        self.deleted.remove(&(ty, key.clone()));
        self.detached.insert((ty, key), why);
    }
}

/// The keys of the persistent rows a flush deletes.
pub(crate) fn deleted_keys(changes: &[Change]) -> Vec<(TypeId, IdentityKey)> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Delete { ty, key, .. } => Some((*ty, key.clone())),
            _ => None,
        })
        .collect()
}

impl Session {
    /// The state of `obj` in this session (see [`ObjectState`]); no SQL.
    ///
    /// ```no_run
    /// # use persistence::prelude::*;
    /// # use persistence::orm::ObjectState;
    /// # #[derive(Debug, Clone)] struct Worker { id: Option<i64>, name: String }
    /// # async fn demo(session: &mut Session, mut w: Worker) -> Result<(), Error> {
    /// session.delete(&w)?;
    /// assert_eq!(session.state_of(&w)?, ObjectState::Persistent);   // until the flush
    /// session.flush().await?;
    /// assert_eq!(session.state_of(&w)?, ObjectState::Deleted);
    /// assert!(session.add(&mut w).await.is_err());                  // Error::InvalidRequest
    /// session.commit().await?;
    /// assert_eq!(session.state_of(&w)?, ObjectState::Detached);
    /// # Ok(()) }
    /// ```
    pub fn state_of<T: 'static>(&self, obj: &T) -> Result<ObjectState, Error> {
        let mapper = self.mappers.mapper::<T>()?;
        let info = mapper.info();
        let values = mapper.values(obj)?;
        let Some(key) = info.key_of(&values) else {
            return Ok(ObjectState::Transient);
        };
        Ok(self.state_of_key(info.type_id, key))
    }

    /// The state of the object of mapper `ty` with identity `key`.
    pub(crate) fn state_of_key(&self, ty: TypeId, key: IdentityKey) -> ObjectState {
        if self.pending.has_insert(ty, &key) {
            return ObjectState::Pending;
        }
        if self.identity.get(ty, &key).is_some() {
            return ObjectState::Persistent;
        }
        let k = (ty, key);
        if self.states.deleted.contains(&k) {
            return ObjectState::Deleted;
        }
        if self.states.detached.contains_key(&k) {
            return ObjectState::Detached;
        }
        ObjectState::Transient
    }

    /// Refuses to stage a change of an object deleted in this transaction
    /// (SQLAlchemy's "instance has been deleted"): the change would
    /// re-insert the row. Add it again after commit to re-create it.
    pub(crate) fn check_addable(
        &self,
        info: &MapperInfo,
        values: &[dialects::Value],
    ) -> Result<(), Error> {
        if self.states.deleted.is_empty() {
            return Ok(());
        }
        let Some(key) = info.key_of(values) else {
            return Ok(());
        };
        if self.identity.get(info.type_id, &key).is_some() {
            return Ok(()); // inserted again since
        }
        if self.states.deleted.contains(&(info.type_id, key)) {
            return Err(Error::InvalidRequest {
                type_name: info.type_name,
                field: key_fields(info),
                message: "the object was deleted in this transaction; a change to it would \
                          re-insert its row (commit first to re-create it)"
                    .into(),
            });
        }
        Ok(())
    }

    /// Removes `obj` from the session (SQLAlchemy's `expunge`): its
    /// snapshot, what its loaded collections held, and every change staged
    /// for it are forgotten. A persistent object becomes detached, a
    /// pending one transient (its INSERT is never sent). Related objects
    /// are not expunged with it. No SQL.
    ///
    /// ```no_run
    /// # use persistence::prelude::*;
    /// # use persistence::orm::ObjectState;
    /// # #[derive(Debug, Clone)] struct Worker { id: Option<i64>, name: String }
    /// # async fn demo(session: &mut Session) -> Result<(), Error> {
    /// let w: Worker = session.get(1).await?.expect("worker 1");
    /// session.expunge(&w)?;
    /// assert_eq!(session.state_of(&w)?, ObjectState::Detached);
    /// let again: Option<Worker> = session.get(1).await?;            // one SELECT again
    /// # Ok(()) }
    /// ```
    pub fn expunge<T: 'static>(&mut self, obj: &T) -> Result<(), Error> {
        let mappers = self.mappers.clone();
        let mapper = mappers.mapper::<T>()?;
        let info = mapper.info();
        let values = mapper.values(obj)?;
        let Some(key) = info.key_of(&values) else {
            return Ok(());
        };
        let ty = info.type_id;
        let was_pending = self.pending.has_insert(ty, &key);
        self.pending.remove_object(ty, &key);
        let held = self.identity.get(ty, &key).is_some()
            || self.states.deleted.contains(&(ty, key.clone()));
        self.identity.remove(ty, &key);
        self.loaded
            .retain(|(owner, k, _), _| !(*owner == ty && *k == key));
        if was_pending && !held {
            self.states.detached.remove(&(ty, key));
        } else if held {
            self.states.forget(ty, key, Gone::Expunged);
        }
        Ok(())
    }

    /// Removes every object from the session (SQLAlchemy's
    /// `expunge_all`): staged changes are dropped, held objects become
    /// detached. The transaction stays open. No SQL.
    pub fn expunge_all(&mut self) {
        self.pending.take();
        for (ty, key) in self.identity.all_keys() {
            self.states.forget(ty, key, Gone::Expunged);
        }
        let deleted: Vec<_> = self.states.deleted.drain().collect();
        for (ty, key) in deleted {
            self.states.detached.insert((ty, key), Gone::Expunged);
        }
        self.identity.clear();
        self.loaded.clear();
        self.unloaded.clear();
    }

    /// Turns autoflush off until the guard drops (SQLAlchemy's
    /// `with session.no_autoflush:`); the guard derefs to the session.
    /// Queries inside see the database without the staged changes, which
    /// stay staged for the next flush or commit.
    ///
    /// ```no_run
    /// # use persistence::prelude::*;
    /// # #[derive(Debug, Clone)] struct Worker { id: Option<i64>, name: String }
    /// # async fn demo(session: &mut Session, mut w: Worker) -> Result<(), Error> {
    /// w.name = "Vladimir".into();
    /// session.add(&mut w).await?;                         // UPDATE staged
    /// {
    ///     let mut s = session.no_autoflush();
    ///     let before = s.scalars(orm::select::<Worker>().filter_by("name", "Vladimir")).await?;
    ///     assert!(before.is_empty());                      // the UPDATE is not sent
    /// }
    /// session.commit().await?;                            // now it is
    /// # Ok(()) }
    /// ```
    pub fn no_autoflush(&mut self) -> NoAutoflush<'_> {
        let previous = self.options.autoflush;
        self.options.autoflush = false;
        NoAutoflush {
            session: self,
            previous,
        }
    }

    /// Whether queries flush staged changes first (the option, unless a
    /// [`no_autoflush`](Session::no_autoflush) guard is alive).
    pub fn autoflush_enabled(&self) -> bool {
        self.options.autoflush
    }
}

/// The key fields of a mapper, for messages (`id`, or `a, b`).
pub(crate) fn key_fields(info: &MapperInfo) -> String {
    let mut names: Vec<&str> = info.pk.iter().map(|&i| info.fields[i]).collect();
    names.dedup();
    names.join(", ")
}

/// Autoflush off for as long as it lives; derefs to the session
/// ([`Session::no_autoflush`]). Dropping it restores the setting it
/// found, so guards nest.
#[derive(Debug)]
pub struct NoAutoflush<'s> {
    session: &'s mut Session,
    previous: bool,
}

impl Deref for NoAutoflush<'_> {
    type Target = Session;

    fn deref(&self) -> &Session {
        self.session
    }
}

impl DerefMut for NoAutoflush<'_> {
    fn deref_mut(&mut self) -> &mut Session {
        self.session
    }
}

impl Drop for NoAutoflush<'_> {
    fn drop(&mut self) {
        self.session.options.autoflush = self.previous;
    }
}
