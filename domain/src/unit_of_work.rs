//! The [`UnitOfWork`] port: one business transaction.
//!
//! A unit of work owns a transaction (in the persistence layer, a session
//! holding one connection) and ends it with [`commit`](UnitOfWork::commit)
//! or [`rollback`](UnitOfWork::rollback). It does not hand out repositories
//! generically: as in "Architecture Patterns with Python", each application
//! declares its own unit-of-work trait with one named repository per
//! aggregate, on top of this one.
//!
//! ```
//! use domain::{DomainError, Entity, Repository, UnitOfWork};
//!
//! #[derive(Debug, Clone)]
//! pub struct Worker { pub id: Option<i64>, pub name: String }
//! impl Entity for Worker {
//!     type Id = i64;
//!     fn id(&self) -> Option<i64> { self.id }
//! }
//! # #[derive(Debug, Clone)] pub struct Resume { pub id: Option<i64>, pub worker_id: i64 }
//! # impl Entity for Resume { type Id = i64; fn id(&self) -> Option<i64> { self.id } }
//!
//! /// The application's unit of work: the hiring context's repositories.
//! pub trait HiringUow: UnitOfWork {
//!     /// All workers.
//!     fn workers(&self) -> &dyn Repository<Worker>;
//!     /// All resumes.
//!     fn resumes(&self) -> &dyn Repository<Resume>;
//! }
//!
//! /// A service: generic over the unit of work, so tests pass a fake or mocks
//! /// and production passes the persistence layer's implementation.
//! pub async fn hire(uow: &mut impl HiringUow, name: &str) -> Result<Worker, DomainError> {
//!     if name.trim().is_empty() {
//!         return Err(DomainError::invalid("a worker needs a name"));
//!     }
//!     let worker = uow.workers().add(Worker { id: None, name: name.to_owned() }).await?;
//!     uow.commit().await?;
//!     Ok(worker) // carries its generated id
//! }
//! ```
//!
//! The persistence layer implements `HiringUow` for its unit of work in the
//! application crate (each `fn workers` returns a repository that shares the
//! unit of work's session). Unit tests implement it on a small struct of
//! `MockRepository`s (see the `mock` module, feature `mock`).

use async_trait::async_trait;

use crate::error::DomainError;

/// A business transaction: changes staged through its repositories become
/// durable together on [`commit`](UnitOfWork::commit), or not at all.
///
/// # Contract
///
/// - **Drop rolls back.** Dropping a unit of work without committing
///   discards every staged change and rolls its transaction back.
/// - **Reusable.** After `commit` or `rollback` the unit of work stays
///   usable: the next repository call begins a new transaction (as
///   SQLAlchemy's `Session` does). Entities returned before stay valid
///   values; the next read goes to the database again.
/// - **Failed commit.** If `commit` fails (a constraint at flush, a lost
///   connection), nothing of the transaction is kept: it has been rolled
///   back, and the error says why ([`DomainError::is_retryable`] tells
///   whether running the whole unit of work again may help). Calling
///   `rollback` afterwards is allowed and does nothing.
/// - **`Send + Sync`.** Repositories are borrowed from the unit of work
///   (`&self`), and a service holds them across `.await`; requiring `Sync`
///   keeps such service futures `Send`, so they can run in `tokio::spawn`
///   or a web handler.
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Flush staged changes and commit the transaction.
    async fn commit(&mut self) -> Result<(), DomainError>;

    /// Discard staged changes and roll the transaction back. Rolling back a
    /// unit of work with no open transaction does nothing and succeeds.
    async fn rollback(&mut self) -> Result<(), DomainError>;
}
