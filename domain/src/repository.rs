//! The [`Repository`] port: a collection-like view of one aggregate type.
//!
//! Domain and application code call it; the persistence layer implements it
//! once, generically, on its session (`SqlRepository<T>`), and tests use
//! `MockRepository<T>` (feature `mock`) or a hand-written fake.

use async_trait::async_trait;

use crate::entity::Entity;
use crate::error::DomainError;
use crate::filter::ListSpec;
use crate::load::Load;

/// Persistent storage of entities of type `T`, seen as a collection.
///
/// # Contract
///
/// - **Inside a unit of work.** A repository belongs to one
///   [`UnitOfWork`](crate::UnitOfWork) and shares its transaction. Nothing
///   it writes is durable, or visible to other transactions, before
///   [`UnitOfWork::commit`](crate::UnitOfWork::commit).
/// - **`&self` everywhere.** Methods take `&self` so that a unit of work can
///   hand out several repositories at once and async code can hold them
///   across `.await`. Implementations keep their mutable state (session,
///   identity map, connection) behind interior mutability and serialise
///   access to it: futures of two repositories of the same unit of work may
///   be polled concurrently (`join!`) and must not interleave statements on
///   one connection.
/// - **Entities are values.** `get` and `list` return owned copies. A change
///   made to one reaches the database only when the entity is passed to
///   [`add`](Repository::add) again, which stages an UPDATE of the changed
///   fields (a dirty check against what the unit of work loaded).
/// - **Errors.** Every failure is a [`DomainError`]; see its variants for
///   which failure goes where. An unknown field or relation name in a
///   [`ListSpec`] or [`Load`] is [`DomainError::Invalid`].
/// - **Cancellation.** Dropping a returned future before it completes may
///   leave the unit of work's transaction in an unknown state; the caller
///   must then roll the unit of work back (or drop it) rather than commit.
///
/// Implementors write [`get_with`](Repository::get_with),
/// [`list_with`](Repository::list_with), [`count`](Repository::count),
/// [`add`](Repository::add), [`add_all`](Repository::add_all) and
/// [`remove`](Repository::remove); the other methods have default bodies
/// built on those.
///
/// ```
/// use domain::{DomainError, Entity, ListSpec, Repository};
///
/// # #[derive(Debug, Clone)] pub struct Worker { pub id: Option<i64>, pub name: String }
/// # impl Entity for Worker { type Id = i64; fn id(&self) -> Option<i64> { self.id } }
/// async fn rename(workers: &dyn Repository<Worker>, id: i64, name: &str) -> Result<Worker, DomainError> {
///     let mut worker = workers.get_one(&id).await?; // NotFound if missing
///     worker.name = name.to_owned();
///     workers.add(worker).await // stages an UPDATE of `name`
/// }
///
/// async fn newest(workers: &dyn Repository<Worker>) -> Result<Vec<Worker>, DomainError> {
///     workers.list(&ListSpec::new().order_by_desc("id").limit(10)).await
/// }
/// ```
#[async_trait]
pub trait Repository<T: Entity>: Send + Sync {
    /// The entity with identity `id`, or `None`.
    ///
    /// Answers from the unit of work's identity map without a query when the
    /// entity is already there. Relations load as the mapping's defaults say.
    async fn get(&self, id: &T::Id) -> Result<Option<T>, DomainError> {
        self.get_with(id, &[]).await
    }

    /// The entity with identity `id`, or [`DomainError::NotFound`].
    async fn get_one(&self, id: &T::Id) -> Result<T, DomainError> {
        self.get(id)
            .await?
            .ok_or_else(|| DomainError::not_found::<T>(id))
    }

    /// The entity with identity `id` and the relations `load` asks for, or
    /// `None`.
    ///
    /// Each [`Load`] path is loaded with its strategies: selectin costs one
    /// query per level, joined none beyond the parent's. Relations not named
    /// use the mapping's defaults.
    async fn get_with(&self, id: &T::Id, load: &[Load<T>]) -> Result<Option<T>, DomainError>;

    /// Entities matching `spec`, in its order and page. Relations load as
    /// the mapping's defaults say.
    async fn list(&self, spec: &ListSpec) -> Result<Vec<T>, DomainError> {
        self.list_with(spec, &[]).await
    }

    /// Entities matching `spec` with the relations `load` asks for; selectin
    /// loading costs one query per level for the whole list, never one per
    /// entity.
    async fn list_with(&self, spec: &ListSpec, load: &[Load<T>]) -> Result<Vec<T>, DomainError>;

    /// How many entities match `spec`'s filters (its ordering and paging are
    /// ignored).
    async fn count(&self, spec: &ListSpec) -> Result<u64, DomainError>;

    /// One page of entities matching `spec`, with the total count: `list`
    /// then `count`.
    async fn page(&self, spec: &ListSpec) -> Result<Page<T>, DomainError> {
        let items = self.list(spec).await?;
        let total = self.count(spec).await?;
        Ok(Page {
            items,
            total,
            offset: spec.offset.unwrap_or(0),
            limit: spec.limit,
        })
    }

    /// Stage `entity` for saving and return it as stored.
    ///
    /// - `id()` is `None`: an INSERT. The returned entity carries the
    ///   server-generated id and other server defaults, so the
    ///   implementation flushes this INSERT (inside the unit of work's
    ///   transaction) before returning, as SQLAlchemy's flush + refresh.
    /// - `id()` is `Some` and the unit of work already knows that identity
    ///   (it was loaded or added here): an UPDATE of the changed fields,
    ///   which may wait until the next flush or commit.
    /// - `id()` is `Some` but unknown to the unit of work (a domain-generated
    ///   key): an INSERT, as SQLAlchemy's `add` of a new object; an existing
    ///   row with that key is [`DomainError::Conflict`] at flush.
    ///
    /// Loaded relationship fields are saved too (cascades as mapped);
    /// unloaded ones are left alone.
    async fn add(&self, entity: T) -> Result<T, DomainError>;

    /// [`add`](Repository::add) for many entities, in order, batched: same
    /// table INSERTs go in multi-row statements, never one round trip per
    /// entity. Returns the entities as stored, in the same order.
    async fn add_all(&self, entities: Vec<T>) -> Result<Vec<T>, DomainError>;

    /// Stage the deletion of `entity` (by its identity; cascades as mapped).
    /// An entity without an id was never stored: [`DomainError::Invalid`].
    /// Removing a row that is already gone is
    /// [`DomainError::Concurrency`] at flush (stale data).
    async fn remove(&self, entity: &T) -> Result<(), DomainError>;
}

/// One page of a listing, from [`Repository::page`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The entities on this page.
    pub items: Vec<T>,
    /// How many entities match the filters, on all pages.
    pub total: u64,
    /// How many matching entities come before this page.
    pub offset: u64,
    /// The page size asked for (`None`: unpaged).
    pub limit: Option<u64>,
}

impl<T> Page<T> {
    /// Whether more matching entities follow this page.
    pub fn has_next(&self) -> bool {
        let seen = self.offset.saturating_add(self.items.len() as u64);
        seen < self.total
    }

    /// The 1-based page number, when the page size is known and non-zero.
    pub fn number(&self) -> Option<u64> {
        match self.limit {
            Some(limit) if limit > 0 => Some(self.offset / limit + 1),
            _ => None,
        }
    }

    /// How many pages there are in all, when the page size is known and
    /// non-zero.
    pub fn pages(&self) -> Option<u64> {
        match self.limit {
            Some(limit) if limit > 0 => Some(self.total.div_ceil(limit)),
            _ => None,
        }
    }

    /// Convert the items, keeping the paging figures (e.g. entities to DTOs).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            offset: self.offset,
            limit: self.limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(items: usize, total: u64, offset: u64, limit: Option<u64>) -> Page<usize> {
        Page {
            items: (0..items).collect(),
            total,
            offset,
            limit,
        }
    }

    #[test]
    fn page_figures() {
        let first = page(20, 45, 0, Some(20));
        assert!(first.has_next());
        assert_eq!(first.number(), Some(1));
        assert_eq!(first.pages(), Some(3));
        let last = page(5, 45, 40, Some(20));
        assert!(!last.has_next());
        assert_eq!(last.number(), Some(3));
        let unpaged = page(3, 3, 0, None);
        assert!(!unpaged.has_next());
        assert_eq!((unpaged.number(), unpaged.pages()), (None, None));
        assert_eq!(page(0, 0, 0, Some(0)).pages(), None);
        let mapped = first.map(|i| i * 2);
        assert_eq!(mapped.items[1], 2);
        assert_eq!((mapped.total, mapped.offset), (45, 0));
    }
}
