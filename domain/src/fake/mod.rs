//! An in-memory fake of the ports (feature `fake`): [`InMemoryRepository<T>`]
//! and [`FakeUnitOfWork`] on an [`InMemoryStore`], with the SQL unit of
//! work's commit and rollback semantics and [`ListSpec`](crate::ListSpec)
//! filters, ordering and paging evaluated in memory. No SQL, no runtime:
//! service tests that would rather check outcomes than expect calls use
//! it instead of mocks.
//!
//! The fake reads fields through [`Fields<T>`], closures given once per
//! type (or [`fake_fields!`](crate::fake_fields)), so nothing is
//! implemented on the domain's types. [`crate::conformance`] holds the
//! suite that this fake and the SQL repository both pass.
//!
//! ```
//! use domain::fake::{FakeUnitOfWork, InMemoryRepository, InMemoryStore};
//! use domain::{async_trait, fake_fields, DomainError, Entity, Repository, UnitOfWork};
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
//! /// The application's unit of work, on the fake.
//! struct FakeHiring { uow: FakeUnitOfWork, workers: InMemoryRepository<Worker> }
//!
//! #[async_trait]
//! impl UnitOfWork for FakeHiring {
//!     async fn commit(&mut self) -> Result<(), DomainError> { self.uow.commit().await }
//!     async fn rollback(&mut self) -> Result<(), DomainError> { self.uow.rollback().await }
//! }
//! impl HiringUow for FakeHiring {
//!     fn workers(&self) -> &dyn Repository<Worker> { &self.workers }
//! }
//!
//! async fn hire(uow: &mut impl HiringUow, name: &str) -> Result<Worker, DomainError> {
//!     let worker = uow.workers().add(Worker { id: None, name: name.to_owned() }).await?;
//!     uow.commit().await?;
//!     Ok(worker)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), DomainError> {
//! let store = InMemoryStore::new()
//!     .with(fake_fields!(Worker { id, name }).unique("name").generated_ids(|w, n| w.id = Some(n as i64)));
//! let uow = FakeUnitOfWork::new(&store);
//! let mut hiring = FakeHiring { workers: uow.repository(), uow };
//! hire(&mut hiring, "Vlad").await?;
//! assert!(matches!(hire(&mut hiring, "Vlad").await, Err(DomainError::Conflict(_))));
//! assert_eq!(store.committed::<Worker>().len(), 1);   // the outcome, not the calls
//! # Ok(()) }
//! ```

mod fields;
mod matching;
mod repository;
mod store;
mod unit_of_work;

pub use fields::Fields;
pub use repository::InMemoryRepository;
pub use store::InMemoryStore;
pub use unit_of_work::FakeUnitOfWork;
