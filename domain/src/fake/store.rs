//! [`InMemoryStore`]: the fake's "database" (committed entities per type)
//! and the staged work of one unit of work, kept as a log of operations
//! replayed over the committed rows.
//!
//! Replaying is also how constraints are checked: an insert of a key that
//! exists, or of a value a unique field already holds, is a
//! [`DomainError::Conflict`]; an update or delete of a row that is gone is
//! a [`DomainError::Concurrency`] (the SQL repository's stale data).

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::entity::Entity;
use crate::error::DomainError;

use super::fields::Fields;

/// The committed entities of every registered type, shared by the units of
/// work made on it (cheap to clone: clones share the data).
///
/// ```
/// use domain::fake::{Fields, InMemoryStore};
/// # #[derive(Debug, Clone)] pub struct Worker { pub id: Option<i64>, pub name: String }
/// # impl domain::Entity for Worker { type Id = i64; fn id(&self) -> Option<i64> { self.id } }
/// let store = InMemoryStore::new().with(
///     Fields::<Worker>::new()
///         .field("id", |w| w.id)
///         .field("name", |w| w.name.clone())
///         .generated_ids(|w, n| w.id = Some(n as i64)),
/// );
/// assert!(store.committed::<Worker>().is_empty());
/// ```
#[derive(Clone, Default)]
pub struct InMemoryStore {
    inner: Arc<Mutex<StoreInner>>,
}

impl std::fmt::Debug for InMemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryStore").finish_non_exhaustive()
    }
}

#[derive(Default)]
pub(crate) struct StoreInner {
    /// `Table<T>` by `TypeId::of::<T>()`.
    tables: HashMap<TypeId, Box<dyn AnyTable>>,
}

/// A [`Table`] of some type.
trait AnyTable: Send + Sync {
    fn clear(&mut self);
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Entity + Clone> AnyTable for Table<T> {
    fn clear(&mut self) {
        self.rows.clear();
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// The committed rows of one type, its fields and its id sequence.
pub(crate) struct Table<T: Entity> {
    pub fields: Arc<Fields<T>>,
    pub rows: Vec<T>,
    pub next_id: u64,
}

pub(crate) fn lock<S>(m: &Mutex<S>) -> MutexGuard<'_, S> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl InMemoryStore {
    /// An empty store with no types registered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `T` with its fields (replacing an earlier registration
    /// and its rows).
    pub fn with<T: Entity + Clone>(self, fields: Fields<T>) -> Self {
        lock(&self.inner).tables.insert(
            TypeId::of::<T>(),
            Box::new(Table {
                fields: Arc::new(fields),
                rows: Vec::<T>::new(),
                next_id: 1,
            }),
        );
        self
    }

    /// The committed entities of `T`, in insertion order (empty when `T`
    /// is not registered).
    pub fn committed<T: Entity + Clone>(&self) -> Vec<T> {
        let inner = lock(&self.inner);
        inner
            .table::<T>()
            .map(|t| t.rows.clone())
            .unwrap_or_default()
    }

    /// Deletes every committed entity of every type (ids keep counting).
    pub fn clear(&self) {
        for table in lock(&self.inner).tables.values_mut() {
            table.clear();
        }
    }

    pub(crate) fn inner(&self) -> MutexGuard<'_, StoreInner> {
        lock(&self.inner)
    }
}

impl StoreInner {
    pub(crate) fn table<T: Entity + Clone>(&self) -> Option<&Table<T>> {
        self.tables.get(&TypeId::of::<T>())?.as_any().downcast_ref()
    }

    pub(crate) fn table_mut<T: Entity + Clone>(&mut self) -> Option<&mut Table<T>> {
        self.tables
            .get_mut(&TypeId::of::<T>())?
            .as_any_mut()
            .downcast_mut()
    }
}

/// One staged change.
#[derive(Clone)]
pub(crate) enum Op<T: Entity> {
    /// A new row.
    Insert(T),
    /// A changed row, known to the unit of work.
    Update(T),
    /// A removed row.
    Delete(T::Id),
}

/// Applies `op` to `rows`, checking keys and unique fields.
pub(crate) fn apply<T: Entity + Clone>(
    fields: &Fields<T>,
    rows: &mut Vec<T>,
    op: &Op<T>,
) -> Result<(), DomainError> {
    let position = |rows: &[T], id: &T::Id| rows.iter().position(|r| r.id().as_ref() == Some(id));
    match op {
        Op::Insert(entity) => {
            let id = entity.id().ok_or_else(|| {
                DomainError::internal(format!("an insert of `{}` without id", T::entity_name()))
            })?;
            if position(rows, &id).is_some() {
                return Err(DomainError::Conflict(format!(
                    "duplicate key: `{}` {id:?} exists",
                    T::entity_name()
                )));
            }
            check_unique(fields, rows, entity, None)?;
            rows.push(entity.clone());
        }
        Op::Update(entity) => {
            let id = entity.id().ok_or_else(|| {
                DomainError::internal(format!("an update of `{}` without id", T::entity_name()))
            })?;
            let Some(at) = position(rows, &id) else {
                return Err(DomainError::Concurrency(format!(
                    "stale data: `{}` {id:?} was deleted before this update",
                    T::entity_name()
                )));
            };
            check_unique(fields, rows, entity, Some(at))?;
            rows[at] = entity.clone();
        }
        Op::Delete(id) => {
            let Some(at) = position(rows, id) else {
                return Err(DomainError::Concurrency(format!(
                    "stale data: `{}` {id:?} was already deleted",
                    T::entity_name()
                )));
            };
            rows.remove(at);
        }
    }
    Ok(())
}

fn check_unique<T: Entity + Clone>(
    fields: &Fields<T>,
    rows: &[T],
    entity: &T,
    skip: Option<usize>,
) -> Result<(), DomainError> {
    for &name in fields.unique_fields() {
        let Some(value) = fields.read(entity, name) else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        let taken = rows
            .iter()
            .enumerate()
            .any(|(i, r)| Some(i) != skip && fields.read(r, name).as_ref() == Some(&value));
        if taken {
            return Err(DomainError::Conflict(format!(
                "duplicate value {value:?} for unique field `{name}` of `{}`",
                T::entity_name()
            )));
        }
    }
    Ok(())
}

/// The staged work of one unit of work for one type.
pub(crate) struct Staged<T: Entity> {
    pub ops: Vec<Op<T>>,
    /// Identities this unit of work loaded or stored (an `add` of one is
    /// an update; of any other id, an insert).
    pub known: HashSet<T::Id>,
}

impl<T: Entity> Default for Staged<T> {
    fn default() -> Self {
        Staged {
            ops: Vec::new(),
            known: HashSet::new(),
        }
    }
}

/// Staged work of any type, replayed at commit.
pub(crate) trait Pending: Send + Sync {
    /// The committed rows with this work applied, or the first error.
    fn replay(&self, store: &StoreInner) -> Result<Box<dyn Any + Send>, DomainError>;
    /// Installs rows from [`Pending::replay`].
    fn install(&self, store: &mut StoreInner, rows: Box<dyn Any + Send>);
    /// Drops the staged operations (and, with `forget`, the known ids).
    fn reset(&mut self, forget: bool);
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Entity + Clone> Pending for Staged<T> {
    fn replay(&self, store: &StoreInner) -> Result<Box<dyn Any + Send>, DomainError> {
        let table = store.table::<T>().ok_or_else(|| not_registered::<T>())?;
        let mut rows = table.rows.clone();
        for op in &self.ops {
            apply(&table.fields, &mut rows, op)?;
        }
        Ok(Box::new(rows))
    }

    fn install(&self, store: &mut StoreInner, rows: Box<dyn Any + Send>) {
        if let (Some(table), Ok(rows)) = (store.table_mut::<T>(), rows.downcast::<Vec<T>>()) {
            table.rows = *rows;
        }
    }

    fn reset(&mut self, forget: bool) {
        self.ops.clear();
        if forget {
            self.known.clear();
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

pub(crate) fn not_registered<T: Entity>() -> DomainError {
    DomainError::Internal(format!(
        "`{}` is not registered with the in-memory store: `InMemoryStore::new().with(Fields::<{}>::new()...)`",
        T::entity_name(),
        T::entity_name()
    ))
}
