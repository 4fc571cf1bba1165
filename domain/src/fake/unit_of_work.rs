//! [`FakeUnitOfWork`]: a unit of work on an [`InMemoryStore`] with the
//! SQL unit of work's commit and rollback semantics.
//!
//! - Work staged through its repositories is visible to them at once
//!   (read-your-writes) and to nobody else until
//!   [`commit`](UnitOfWork::commit); an entity without an id gets one when
//!   it is added, as a database's serial key would be flushed then.
//! - A constraint broken by an `add` or `remove` (a duplicate key or unique
//!   value, a row already gone) fails that call and rolls the whole
//!   transaction back, as a failed flush does; the unit of work then
//!   refuses work ([`DomainError::Internal`]) until `rollback()`.
//! - `commit` replays the staged work over what is committed now (another
//!   unit of work may have committed since): all of it lands, or, on the
//!   first conflict, none of it, and the error says why.
//! - `rollback` and dropping the unit of work discard the staged work.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::entity::Entity;
use crate::error::DomainError;
use crate::unit_of_work::UnitOfWork;

use super::repository::InMemoryRepository;
use super::store::{lock, InMemoryStore, Pending, Staged};

/// The transaction state shared by a unit of work and its repositories.
#[derive(Default)]
pub(crate) struct Tx {
    staged: HashMap<TypeId, Box<dyn Pending>>,
    /// Why the transaction was rolled back, until `rollback()`.
    pub failed: Option<String>,
}

impl Tx {
    pub(crate) fn staged<T: Entity + Clone>(&mut self) -> Result<&mut Staged<T>, DomainError> {
        self.staged
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(Staged::<T>::default()))
            .as_any_mut()
            .downcast_mut::<Staged<T>>()
            .ok_or_else(|| {
                DomainError::internal(format!(
                    "staged work of `{}` has another type",
                    T::entity_name()
                ))
            })
    }

    pub(crate) fn staged_ref<T: Entity + Clone>(&self) -> Option<&Staged<T>> {
        self.staged
            .get(&TypeId::of::<T>())?
            .as_any()
            .downcast_ref::<Staged<T>>()
    }

    /// Drops every staged operation; `forget` also forgets what was loaded.
    pub(crate) fn reset(&mut self, forget: bool) {
        for staged in self.staged.values_mut() {
            staged.reset(forget);
        }
    }

    /// Rolls the transaction back after a failed flush.
    pub(crate) fn fail(&mut self, error: &DomainError) {
        self.reset(true);
        self.failed = Some(error.to_string());
    }

    /// The error for work asked of a failed transaction.
    pub(crate) fn check(&self) -> Result<(), DomainError> {
        match &self.failed {
            Some(cause) => Err(pending_rollback(cause)),
            None => Ok(()),
        }
    }
}

fn pending_rollback(cause: &str) -> DomainError {
    DomainError::Internal(format!(
        "this unit of work's transaction was rolled back after a failed flush ({cause}); \
         call `rollback()` first"
    ))
}

/// A unit of work on an [`InMemoryStore`]: the fake counterpart of the
/// persistence layer's `SqlUnitOfWork`.
///
/// ```
/// use domain::fake::{FakeUnitOfWork, Fields, InMemoryStore};
/// use domain::{DomainError, ListSpec, Repository, UnitOfWork};
/// # #[derive(Debug, Clone, PartialEq)] pub struct Worker { pub id: Option<i64>, pub name: String }
/// # impl domain::Entity for Worker { type Id = i64; fn id(&self) -> Option<i64> { self.id } }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), DomainError> {
/// let store = InMemoryStore::new().with(
///     domain::fake_fields!(Worker { id, name })
///         .unique("name")
///         .generated_ids(|w, n| w.id = Some(n as i64)),
/// );
/// let mut uow = FakeUnitOfWork::new(&store);
/// let workers = uow.repository::<Worker>();
/// let vlad = workers.add(Worker { id: None, name: "Vlad".into() }).await?;
/// assert_eq!(vlad.id, Some(1));
/// assert!(store.committed::<Worker>().is_empty()); // not before commit
/// uow.commit().await?;
/// assert_eq!(store.committed::<Worker>(), [vlad.clone()]);
///
/// workers.remove(&vlad).await?;
/// uow.rollback().await?;                            // the removal is discarded
/// assert_eq!(workers.count(&ListSpec::new()).await?, 1);
///
/// let dup = workers.add(Worker { id: None, name: "Vlad".into() }).await;
/// assert!(matches!(dup, Err(DomainError::Conflict(_))));
/// # Ok(()) }
/// ```
pub struct FakeUnitOfWork {
    store: InMemoryStore,
    tx: Arc<Mutex<Tx>>,
}

impl std::fmt::Debug for FakeUnitOfWork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeUnitOfWork")
            .field("failed", &lock(&self.tx).failed)
            .finish_non_exhaustive()
    }
}

impl FakeUnitOfWork {
    /// A unit of work (one transaction) on `store`.
    pub fn new(store: &InMemoryStore) -> Self {
        FakeUnitOfWork {
            store: store.clone(),
            tx: Arc::default(),
        }
    }

    /// A repository of `T` sharing this unit of work's transaction. `T`
    /// must be registered with the store ([`InMemoryStore::with`]);
    /// otherwise each call answers [`DomainError::Internal`].
    pub fn repository<T: Entity + Clone>(&self) -> InMemoryRepository<T> {
        InMemoryRepository::new(self.store.clone(), self.tx.clone())
    }

    /// The store.
    pub fn store(&self) -> &InMemoryStore {
        &self.store
    }
}

#[async_trait]
impl UnitOfWork for FakeUnitOfWork {
    async fn commit(&mut self) -> Result<(), DomainError> {
        let mut tx = lock(&self.tx);
        if let Some(cause) = tx.failed.take() {
            tx.reset(true);
            return Err(pending_rollback(&cause));
        }
        let mut store = self.store.inner();
        let mut replayed = Vec::new();
        for (ty, staged) in &tx.staged {
            match staged.replay(&store) {
                Ok(rows) => replayed.push((*ty, rows)),
                Err(e) => {
                    drop(store);
                    tx.reset(true);
                    return Err(e);
                }
            }
        }
        for (ty, rows) in replayed {
            if let Some(staged) = tx.staged.get(&ty) {
                staged.install(&mut store, rows);
            }
        }
        tx.reset(false);
        Ok(())
    }

    async fn rollback(&mut self) -> Result<(), DomainError> {
        let mut tx = lock(&self.tx);
        tx.reset(true);
        tx.failed = None;
        Ok(())
    }
}
