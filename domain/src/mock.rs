//! mockall mocks of the ports, for service unit tests (feature `mock`).
//!
//! Enable it from the crate that tests its services:
//!
//! ```toml
//! [dev-dependencies]
//! domain = { workspace = true, features = ["mock"] }
//! ```
//!
//! [`MockRepository<T>`] mocks every [`Repository`] method, including
//! those with default bodies, so a test expects exactly the calls the
//! service makes. [`MockUnitOfWork`] mocks [`UnitOfWork`]. An application's
//! own unit-of-work trait is easiest to fake with a small struct holding
//! mocks:
//!
//! ```
//! use domain::mock::{MockRepository, MockUnitOfWork};
//! use domain::{async_trait, DomainError, Entity, Repository, UnitOfWork};
//!
//! #[derive(Debug, Clone, PartialEq)]
//! pub struct Worker { pub id: Option<i64>, pub name: String }
//! impl Entity for Worker {
//!     type Id = i64;
//!     fn id(&self) -> Option<i64> { self.id }
//! }
//!
//! pub trait HiringUow: UnitOfWork {
//!     fn workers(&self) -> &dyn Repository<Worker>;
//! }
//!
//! /// The fake: mocks for the repositories and for commit / rollback.
//! #[derive(Default)]
//! struct FakeUow { workers: MockRepository<Worker>, tx: MockUnitOfWork }
//!
//! #[async_trait]
//! impl UnitOfWork for FakeUow {
//!     async fn commit(&mut self) -> Result<(), DomainError> { self.tx.commit().await }
//!     async fn rollback(&mut self) -> Result<(), DomainError> { self.tx.rollback().await }
//! }
//!
//! impl HiringUow for FakeUow {
//!     fn workers(&self) -> &dyn Repository<Worker> { &self.workers }
//! }
//!
//! async fn hire(uow: &mut impl HiringUow, name: &str) -> Result<Worker, DomainError> {
//!     let worker = uow.workers().add(Worker { id: None, name: name.to_owned() }).await?;
//!     uow.commit().await?;
//!     Ok(worker)
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), DomainError> {
//!     let mut uow = FakeUow::default();
//!     uow.workers
//!         .expect_add()
//!         .withf(|w| w.id.is_none() && w.name == "Vlad")
//!         .times(1)
//!         .returning(|w| Ok(Worker { id: Some(1), ..w }));
//!     uow.tx.expect_commit().times(1).returning(|| Ok(()));
//!
//!     let hired = hire(&mut uow, "Vlad").await?;
//!     assert_eq!(hired.id, Some(1));
//!     Ok(()) // unmet `times(..)` expectations panic when `uow` drops
//! }
//! ```

//! # Ports that extend `Repository<T>`
//!
//! An application port such as `trait ResumeRepository: Repository<Resume>`
//! cannot use `MockRepository<Resume>` alone: the mock must implement both
//! traits. [`MockPort<T, Own>`] does the base half: its `base` field is a
//! `MockRepository<T>` it delegates the ten base methods to, and its `own`
//! field is a mock of the port's own methods only (a mockall mock of a
//! struct with those methods). The port is then implemented on it with one
//! delegating line per own method:
//!
//! ```
//! use domain::mock::MockPort;
//! use domain::{async_trait, DomainError, Entity, ListSpec, Repository};
//! use mockall::mock;
//!
//! #[derive(Debug, Clone, PartialEq)]
//! pub struct Resume { pub id: Option<i64>, pub title: String }
//! impl Entity for Resume {
//!     type Id = i64;
//!     fn id(&self) -> Option<i64> { self.id }
//! }
//!
//! #[async_trait]
//! pub trait ResumeRepository: Repository<Resume> {
//!     async fn titles(&self) -> Result<Vec<String>, DomainError>;
//! }
//!
//! mock! {
//!     /// The port's own methods.
//!     pub ResumeQueries {
//!         pub async fn titles(&self) -> Result<Vec<String>, DomainError>;
//!     }
//! }
//!
//! /// A mock of `Repository<Resume>` and `ResumeRepository`.
//! pub type MockResumes = MockPort<Resume, MockResumeQueries>;
//!
//! #[async_trait]
//! impl ResumeRepository for MockResumes {
//!     async fn titles(&self) -> Result<Vec<String>, DomainError> { self.own.titles().await }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), DomainError> {
//! let mut resumes = MockResumes::new();
//! resumes.base.expect_count().returning(|_| Ok(2));                 // a base method
//! resumes.own.expect_titles().returning(|| Ok(vec!["Rust".into()])); // the port's own
//! let port: &dyn ResumeRepository = &resumes;
//! assert_eq!(port.count(&ListSpec::new()).await?, 2);
//! assert_eq!(port.titles().await?, ["Rust"]);
//! # Ok(()) }
//! ```

use async_trait::async_trait;
use mockall::mock;

use crate::entity::Entity;
use crate::error::DomainError;
use crate::filter::ListSpec;
use crate::load::Load;
use crate::repository::{Page, Repository};
use crate::unit_of_work::UnitOfWork;

mock! {
    /// A mockall mock of [`Repository<T>`]: `expect_get`, `expect_get_with`,
    /// `expect_get_one`, `expect_list`, `expect_list_with`, `expect_count`,
    /// `expect_page`, `expect_add`, `expect_add_all`, `expect_remove`.
    pub Repository<T: Entity> {}

    #[async_trait]
    impl<T: Entity> Repository<T> for Repository<T> {
        async fn get(&self, id: &T::Id) -> Result<Option<T>, DomainError>;
        async fn get_one(&self, id: &T::Id) -> Result<T, DomainError>;
        async fn get_with(&self, id: &T::Id, load: &[Load<T>]) -> Result<Option<T>, DomainError>;
        async fn list(&self, spec: &ListSpec) -> Result<Vec<T>, DomainError>;
        async fn list_with(&self, spec: &ListSpec, load: &[Load<T>]) -> Result<Vec<T>, DomainError>;
        async fn count(&self, spec: &ListSpec) -> Result<u64, DomainError>;
        async fn page(&self, spec: &ListSpec) -> Result<Page<T>, DomainError>;
        async fn add(&self, entity: T) -> Result<T, DomainError>;
        async fn add_all(&self, entities: Vec<T>) -> Result<Vec<T>, DomainError>;
        async fn remove(&self, entity: &T) -> Result<(), DomainError>;
    }
}

/// A mock of a port that extends [`Repository<T>`]
/// (`trait ResumeRepository: Repository<Resume>`), without redeclaring the
/// base methods: [`base`](MockPort::base) is a [`MockRepository<T>`] that
/// answers the ten base methods, [`own`](MockPort::own) a mock of the
/// port's own methods. The port is implemented on it by delegating each of
/// its own methods to `own`, one line each (allowed by the orphan rule:
/// the port trait is the application's). See the [module docs](crate::mock).
pub struct MockPort<T: Entity, Own> {
    /// Expectations of the [`Repository<T>`] methods.
    pub base: MockRepository<T>,
    /// Expectations of the port's own methods.
    pub own: Own,
}

impl<T: Entity, Own: Default> Default for MockPort<T, Own> {
    fn default() -> Self {
        MockPort {
            base: MockRepository::new(),
            own: Own::default(),
        }
    }
}

impl<T: Entity, Own: Default> MockPort<T, Own> {
    /// A mock with no expectations.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The base methods' expectations read as on a `MockRepository<T>`:
/// `mock.expect_get()` is `mock.base.expect_get()`.
impl<T: Entity, Own> std::ops::Deref for MockPort<T, Own> {
    type Target = MockRepository<T>;
    fn deref(&self) -> &MockRepository<T> {
        &self.base
    }
}

impl<T: Entity, Own> std::ops::DerefMut for MockPort<T, Own> {
    fn deref_mut(&mut self) -> &mut MockRepository<T> {
        &mut self.base
    }
}

#[async_trait]
impl<T: Entity, Own: Send + Sync> Repository<T> for MockPort<T, Own> {
    async fn get(&self, id: &T::Id) -> Result<Option<T>, DomainError> {
        self.base.get(id).await
    }
    async fn get_one(&self, id: &T::Id) -> Result<T, DomainError> {
        self.base.get_one(id).await
    }
    async fn get_with(&self, id: &T::Id, load: &[Load<T>]) -> Result<Option<T>, DomainError> {
        self.base.get_with(id, load).await
    }
    async fn list(&self, spec: &ListSpec) -> Result<Vec<T>, DomainError> {
        self.base.list(spec).await
    }
    async fn list_with(&self, spec: &ListSpec, load: &[Load<T>]) -> Result<Vec<T>, DomainError> {
        self.base.list_with(spec, load).await
    }
    async fn count(&self, spec: &ListSpec) -> Result<u64, DomainError> {
        self.base.count(spec).await
    }
    async fn page(&self, spec: &ListSpec) -> Result<Page<T>, DomainError> {
        self.base.page(spec).await
    }
    async fn add(&self, entity: T) -> Result<T, DomainError> {
        self.base.add(entity).await
    }
    async fn add_all(&self, entities: Vec<T>) -> Result<Vec<T>, DomainError> {
        self.base.add_all(entities).await
    }
    async fn remove(&self, entity: &T) -> Result<(), DomainError> {
        self.base.remove(entity).await
    }
}

mock! {
    /// A mockall mock of [`UnitOfWork`]: `expect_commit`, `expect_rollback`.
    pub UnitOfWork {}

    #[async_trait]
    impl UnitOfWork for UnitOfWork {
        async fn commit(&mut self) -> Result<(), DomainError>;
        async fn rollback(&mut self) -> Result<(), DomainError>;
    }
}

#[cfg(all(test, feature = "mock"))]
mod tests {
    use super::*;
    use crate::filter::FilterValue;
    use crate::load::{LoadStrategy, Relation};
    use mockall::predicate::eq;

    #[derive(Debug, Clone, PartialEq)]
    struct Worker {
        id: Option<i64>,
        name: String,
    }

    impl Entity for Worker {
        type Id = i64;
        fn id(&self) -> Option<i64> {
            self.id
        }
    }

    const RESUMES: Relation<Worker> = Relation::new("resumes");

    fn vlad(id: Option<i64>) -> Worker {
        Worker {
            id,
            name: "Vlad".to_owned(),
        }
    }

    #[tokio::test]
    async fn get_add_and_list_expectations() -> Result<(), DomainError> {
        let mut repo = MockRepository::<Worker>::new();
        repo.expect_get()
            .with(eq(1_i64))
            .times(1)
            .returning(|id| Ok(Some(vlad(Some(*id)))));
        repo.expect_get().with(eq(2_i64)).returning(|_| Ok(None));
        repo.expect_add()
            .withf(|w| w.id.is_none())
            .times(1)
            .returning(|w| Ok(Worker { id: Some(10), ..w }));
        repo.expect_list()
            .withf(|spec| {
                spec.filters.len() == 1
                    && spec.filters[0].value == FilterValue::Text("Vlad".into())
                    && spec.limit == Some(20)
            })
            .times(1)
            .returning(|_| Ok(vec![vlad(Some(1)), vlad(Some(10))]));

        let repo: &dyn Repository<Worker> = &repo;
        assert_eq!(repo.get(&1).await?, Some(vlad(Some(1))));
        assert_eq!(repo.get(&2).await?, None);
        assert_eq!(repo.add(vlad(None)).await?.id, Some(10));
        let spec = ListSpec::new()
            .filter_eq("name", "Vlad")
            .order_by_desc("id")
            .page(1, 20);
        assert_eq!(repo.list(&spec).await?.len(), 2);
        Ok(())
    }

    #[tokio::test]
    async fn get_with_sees_the_load_plan() -> Result<(), DomainError> {
        let mut repo = MockRepository::<Worker>::new();
        repo.expect_get_with()
            .withf(|id, load| {
                *id == 1 && load.len() == 1 && load[0].strategy() == LoadStrategy::SelectIn
            })
            .times(1)
            .returning(|id, _| Ok(Some(vlad(Some(*id)))));
        let found = repo.get_with(&1, &[Load::selectin(RESUMES)]).await?;
        assert_eq!(found, Some(vlad(Some(1))));
        Ok(())
    }

    #[tokio::test]
    async fn errors_pass_through() {
        let mut repo = MockRepository::<Worker>::new();
        repo.expect_get_one()
            .returning(|id| Err(DomainError::not_found::<Worker>(id)));
        repo.expect_remove()
            .returning(|_| Err(DomainError::unavailable("pool timed out")));
        let missing = repo.get_one(&9).await;
        assert_eq!(
            missing,
            Err(DomainError::NotFound {
                entity: "Worker",
                id: "9".into()
            })
        );
        let err = repo.remove(&vlad(Some(1))).await;
        assert!(matches!(err, Err(e) if e.is_retryable()));
    }

    #[tokio::test]
    async fn remaining_methods_are_mockable() -> Result<(), DomainError> {
        let mut repo = MockRepository::<Worker>::new();
        repo.expect_add_all().returning(|ws| {
            Ok(ws
                .into_iter()
                .zip(1..)
                .map(|(w, id)| Worker { id: Some(id), ..w })
                .collect())
        });
        repo.expect_count().returning(|_| Ok(41));
        repo.expect_list_with().returning(|_, _| Ok(vec![]));
        repo.expect_page().returning(|spec| {
            Ok(Page {
                items: vec![],
                total: 0,
                offset: spec.offset.unwrap_or(0),
                limit: spec.limit,
            })
        });
        let stored = repo.add_all(vec![vlad(None), vlad(None)]).await?;
        let ids: Vec<Option<i64>> = stored.iter().map(|w| w.id).collect();
        assert_eq!(ids, [Some(1), Some(2)]);
        assert_eq!(repo.count(&ListSpec::new()).await?, 41);
        assert!(repo
            .list_with(&ListSpec::new(), &[Load::joined(RESUMES)])
            .await?
            .is_empty());
        assert_eq!(repo.page(&ListSpec::new().page(3, 10)).await?.offset, 20);
        Ok(())
    }

    #[tokio::test]
    async fn unit_of_work_expectations() -> Result<(), DomainError> {
        let mut uow = MockUnitOfWork::new();
        uow.expect_commit().times(1).returning(|| Ok(()));
        uow.expect_rollback().times(1).returning(|| Ok(()));
        uow.commit().await?;
        uow.rollback().await?;
        uow.checkpoint();
        uow.expect_commit()
            .returning(|| Err(DomainError::concurrency("could not serialize access")));
        assert!(matches!(uow.commit().await, Err(e) if e.is_retryable()));
        Ok(())
    }

    // A port extending Repository<T>, mocked with the macro: base and own
    // expectations on one mock, used through both traits.

    #[async_trait]
    trait WorkerRepository: Repository<Worker> {
        async fn by_name(&self, name: &str) -> Result<Vec<Worker>, DomainError>;
        async fn rename_all(&self, from: &str, to: &str) -> Result<u64, DomainError>;
    }

    mock! {
        WorkerQueries {
            async fn by_name(&self, name: &str) -> Result<Vec<Worker>, DomainError>;
            async fn rename_all(&self, from: &str, to: &str) -> Result<u64, DomainError>;
        }
    }

    type MockWorkers = MockPort<Worker, MockWorkerQueries>;

    #[async_trait]
    impl WorkerRepository for MockWorkers {
        async fn by_name(&self, name: &str) -> Result<Vec<Worker>, DomainError> {
            self.own.by_name(name).await
        }
        async fn rename_all(&self, from: &str, to: &str) -> Result<u64, DomainError> {
            self.own.rename_all(from, to).await
        }
    }

    async fn promote(repo: &dyn WorkerRepository, name: &str) -> Result<Worker, DomainError> {
        let found = repo.by_name(name).await?;
        let first = found
            .into_iter()
            .next()
            .ok_or_else(|| DomainError::invalid(format!("no worker `{name}`")))?;
        let id = first.id.unwrap_or_default();
        let mut worker = repo.get_one(&id).await?;
        worker.name = format!("{} (lead)", worker.name);
        repo.add(worker).await
    }

    #[tokio::test]
    async fn extended_port_mock_has_base_and_own_methods() -> Result<(), DomainError> {
        let mut repo = MockWorkers::new();
        repo.own
            .expect_by_name()
            .with(eq("Vlad"))
            .times(1)
            .returning(|_| Ok(vec![vlad(Some(3))]));
        // through Deref, as on a MockRepository
        repo.expect_get_one()
            .with(eq(3_i64))
            .times(1)
            .returning(|id| Ok(vlad(Some(*id))));
        repo.base
            .expect_add()
            .withf(|w| w.name == "Vlad (lead)")
            .times(1)
            .returning(Ok);
        repo.own.expect_rename_all().never();
        let promoted = promote(&repo, "Vlad").await?;
        assert_eq!(promoted.name, "Vlad (lead)");

        let mut repo = MockWorkers::new();
        repo.own.expect_by_name().returning(|_| Ok(vec![]));
        repo.base.expect_get_one().never();
        let missing = promote(&repo, "Ann").await;
        assert!(matches!(missing, Err(DomainError::Invalid(m)) if m.contains("Ann")));

        // Every base method is there, default-bodied ones included.
        let mut repo = MockWorkers::new();
        repo.base.expect_get().returning(|_| Ok(None));
        repo.base.expect_get_with().returning(|_, _| Ok(None));
        repo.base.expect_list().returning(|_| Ok(vec![]));
        repo.base.expect_list_with().returning(|_, _| Ok(vec![]));
        repo.base.expect_count().returning(|_| Ok(5));
        repo.base.expect_page().returning(|spec| {
            Ok(Page {
                items: vec![],
                total: 5,
                offset: spec.offset.unwrap_or(0),
                limit: spec.limit,
            })
        });
        repo.base.expect_add_all().returning(Ok);
        repo.base.expect_remove().returning(|_| Ok(()));
        repo.own.expect_rename_all().returning(|_, _| Ok(2));
        let base: &dyn Repository<Worker> = &repo;
        assert_eq!(base.get(&1).await?, None);
        assert_eq!(base.get_with(&1, &[Load::selectin(RESUMES)]).await?, None);
        assert!(base.list(&ListSpec::new()).await?.is_empty());
        assert!(base.list_with(&ListSpec::new(), &[]).await?.is_empty());
        assert_eq!(base.count(&ListSpec::new()).await?, 5);
        assert_eq!(base.page(&ListSpec::new().page(2, 2)).await?.offset, 2);
        assert_eq!(base.add_all(vec![vlad(Some(1))]).await?.len(), 1);
        base.remove(&vlad(Some(1))).await?;
        assert_eq!(repo.rename_all("a", "b").await?, 2);
        Ok(())
    }

    // The pattern from the module docs, end to end: an app-level UoW trait,
    // a service generic over it, a fake built from mocks.

    trait HiringUow: UnitOfWork {
        fn workers(&self) -> &dyn Repository<Worker>;
    }

    #[derive(Default)]
    struct FakeUow {
        workers: MockRepository<Worker>,
        tx: MockUnitOfWork,
    }

    #[async_trait]
    impl UnitOfWork for FakeUow {
        async fn commit(&mut self) -> Result<(), DomainError> {
            self.tx.commit().await
        }
        async fn rollback(&mut self) -> Result<(), DomainError> {
            self.tx.rollback().await
        }
    }

    impl HiringUow for FakeUow {
        fn workers(&self) -> &dyn Repository<Worker> {
            &self.workers
        }
    }

    async fn hire(uow: &mut impl HiringUow, name: &str) -> Result<Worker, DomainError> {
        let taken = uow
            .workers()
            .count(&ListSpec::new().filter_eq("name", name))
            .await?;
        if taken > 0 {
            return Err(DomainError::conflict(format!("worker `{name}` exists")));
        }
        let worker = uow
            .workers()
            .add(Worker {
                id: None,
                name: name.to_owned(),
            })
            .await?;
        uow.commit().await?;
        Ok(worker)
    }

    fn assert_send<F: std::future::Future + Send>(future: F) -> F {
        future
    }

    #[tokio::test]
    async fn service_with_fake_uow() -> Result<(), DomainError> {
        let mut uow = FakeUow::default();
        uow.workers.expect_count().times(1).returning(|_| Ok(0));
        uow.workers
            .expect_add()
            .times(1)
            .returning(|w| Ok(Worker { id: Some(7), ..w }));
        uow.tx.expect_commit().times(1).returning(|| Ok(()));
        // the service future is Send, so it can be spawned
        let worker = assert_send(hire(&mut uow, "Vlad")).await?;
        assert_eq!(worker, vlad(Some(7)));
        Ok(())
    }

    #[tokio::test]
    async fn service_does_not_commit_on_conflict() {
        let mut uow = FakeUow::default();
        uow.workers.expect_count().returning(|_| Ok(1));
        uow.workers.expect_add().never();
        uow.tx.expect_commit().never();
        let result = hire(&mut uow, "Vlad").await;
        assert!(matches!(result, Err(DomainError::Conflict(_))));
    }
}
