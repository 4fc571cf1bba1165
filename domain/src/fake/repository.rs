//! [`InMemoryRepository<T>`]: the [`Repository`] port on an
//! [`InMemoryStore`](super::InMemoryStore), inside a
//! [`FakeUnitOfWork`](super::FakeUnitOfWork).

use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::entity::Entity;
use crate::error::DomainError;
use crate::filter::ListSpec;
use crate::load::Load;
use crate::repository::Repository;

use super::fields::Fields;
use super::matching;
use super::store::{apply, lock, not_registered, InMemoryStore, Op};
use super::unit_of_work::Tx;

/// A repository of `T` held in memory, sharing a fake unit of work's
/// transaction (make it with
/// [`FakeUnitOfWork::repository`](super::FakeUnitOfWork::repository)).
///
/// It behaves as the SQL repository does, which the conformance suite
/// ([`crate::conformance`]) checks for both: `add` of an entity without id
/// assigns one; `add` of an id this unit of work loaded or stored is an
/// update, of any other id an insert (a [`DomainError::Conflict`] when the
/// key exists); [`ListSpec`]s are evaluated with SQL's semantics (see
/// [`Fields`] for how field values are read). Entities are stored whole,
/// so `get_with` loads nothing extra; its relation names are still checked.
pub struct InMemoryRepository<T: Entity> {
    store: InMemoryStore,
    tx: Arc<Mutex<Tx>>,
    _entity: PhantomData<fn() -> T>,
}

impl<T: Entity> Clone for InMemoryRepository<T> {
    fn clone(&self) -> Self {
        InMemoryRepository {
            store: self.store.clone(),
            tx: self.tx.clone(),
            _entity: PhantomData,
        }
    }
}

impl<T: Entity> std::fmt::Debug for InMemoryRepository<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryRepository")
            .field("entity", &T::entity_name())
            .finish_non_exhaustive()
    }
}

impl<T: Entity + Clone> InMemoryRepository<T> {
    pub(crate) fn new(store: InMemoryStore, tx: Arc<Mutex<Tx>>) -> Self {
        InMemoryRepository {
            store,
            tx,
            _entity: PhantomData,
        }
    }

    /// What this unit of work sees: the committed rows with its staged work
    /// applied, and `T`'s fields.
    fn visible(&self, tx: &Tx) -> Result<(Arc<Fields<T>>, Vec<T>), DomainError> {
        let store = self.store.inner();
        let table = store.table::<T>().ok_or_else(not_registered::<T>)?;
        let mut rows = table.rows.clone();
        if let Some(staged) = tx.staged_ref::<T>() {
            for op in &staged.ops {
                // A conflict with work committed meanwhile surfaces at commit.
                let _ = apply(&table.fields, &mut rows, op);
            }
        }
        Ok((table.fields.clone(), rows))
    }

    fn check_load(fields: &Fields<T>, load: &[Load<T>]) -> Result<(), DomainError> {
        for plan in load {
            if let Some(first) = plan.steps().first() {
                if !fields.has_relation(first.relation) {
                    return Err(DomainError::Invalid(format!(
                        "cannot load `{}` of `{}`: it has no relation `{}`",
                        first.relation,
                        T::entity_name(),
                        first.relation
                    )));
                }
            }
        }
        Ok(())
    }

    /// Stages `entity` (as [`Repository::add`] describes) in `tx`.
    fn stage(&self, tx: &mut Tx, entity: T) -> Result<T, DomainError> {
        let mut entity = entity;
        let (fields, mut rows) = self.visible(tx)?;
        let op = match entity.id() {
            None => {
                let set = fields.id_setter().ok_or_else(|| {
                    DomainError::Invalid(format!(
                        "a `{}` without id was added, and its fields have no id generator \
                         (`Fields::generated_ids`)",
                        T::entity_name()
                    ))
                })?;
                let n = {
                    let mut store = self.store.inner();
                    let table = store.table_mut::<T>().ok_or_else(not_registered::<T>)?;
                    let n = table.next_id;
                    table.next_id += 1;
                    n
                };
                set(&mut entity, n);
                if entity.id().is_none() {
                    return Err(DomainError::internal(format!(
                        "the id generator of `{}` left the id empty",
                        T::entity_name()
                    )));
                }
                Op::Insert(entity.clone())
            }
            Some(id) if tx.staged::<T>()?.known.contains(&id) => Op::Update(entity.clone()),
            Some(_) => Op::Insert(entity.clone()),
        };
        if let Err(e) = apply(&fields, &mut rows, &op) {
            tx.fail(&e);
            return Err(e);
        }
        let staged = tx.staged::<T>()?;
        if let Some(id) = entity.id() {
            staged.known.insert(id);
        }
        staged.ops.push(op);
        Ok(entity)
    }
}

#[async_trait]
impl<T: Entity + Clone> Repository<T> for InMemoryRepository<T> {
    async fn get_with(&self, id: &T::Id, load: &[Load<T>]) -> Result<Option<T>, DomainError> {
        let mut tx = lock(&self.tx);
        tx.check()?;
        let (fields, rows) = self.visible(&tx)?;
        Self::check_load(&fields, load)?;
        let found = rows.into_iter().find(|r| r.id().as_ref() == Some(id));
        if found.is_some() {
            tx.staged::<T>()?.known.insert(id.clone());
        }
        Ok(found)
    }

    async fn list_with(&self, spec: &ListSpec, load: &[Load<T>]) -> Result<Vec<T>, DomainError> {
        let mut tx = lock(&self.tx);
        tx.check()?;
        let (fields, rows) = self.visible(&tx)?;
        Self::check_load(&fields, load)?;
        let out = matching::select(&fields, &rows, spec)?;
        let staged = tx.staged::<T>()?;
        staged.known.extend(out.iter().filter_map(Entity::id));
        Ok(out)
    }

    async fn count(&self, spec: &ListSpec) -> Result<u64, DomainError> {
        let tx = lock(&self.tx);
        tx.check()?;
        let (fields, rows) = self.visible(&tx)?;
        let n = matching::filtered(&fields, &rows, &spec.without_paging())?.len();
        Ok(n as u64)
    }

    async fn add(&self, entity: T) -> Result<T, DomainError> {
        let mut tx = lock(&self.tx);
        tx.check()?;
        self.stage(&mut tx, entity)
    }

    async fn add_all(&self, entities: Vec<T>) -> Result<Vec<T>, DomainError> {
        let mut tx = lock(&self.tx);
        tx.check()?;
        entities
            .into_iter()
            .map(|e| self.stage(&mut tx, e))
            .collect()
    }

    async fn remove(&self, entity: &T) -> Result<(), DomainError> {
        let Some(id) = entity.id() else {
            return Err(DomainError::Invalid(format!(
                "cannot remove a `{}` that has no id: it was never stored",
                T::entity_name()
            )));
        };
        let mut tx = lock(&self.tx);
        tx.check()?;
        let (fields, mut rows) = self.visible(&tx)?;
        let op = Op::Delete(id);
        if let Err(e) = apply(&fields, &mut rows, &op) {
            tx.fail(&e);
            return Err(e);
        }
        tx.staged::<T>()?.ops.push(op);
        Ok(())
    }
}
