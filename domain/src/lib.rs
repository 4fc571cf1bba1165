//! # domain
//!
//! The ports a domain layer needs, and nothing that talks to a database.
//!
//! A domain crate holds plain structs and the rules about them. It may
//! depend on this crate, on the standard library and on small value crates
//! (uuid, chrono, rust_decimal, serde); it must not depend on sqlx, on
//! `dialects` or on `persistence`, and its structs carry no ORM derives or
//! database types. This crate follows the same rule: its only dependencies
//! are `async-trait` and `thiserror` (and `mockall` behind the `mock`
//! feature).
//!
//! What it offers:
//!
//! - [`Entity`]: an object with an identity (`id()` is `None` until the
//!   database assigns one).
//! - [`Repository<T>`]: the collection-like port for one aggregate
//!   (`get`, `get_with`, `list`, `add`, `add_all`, `remove`, ...).
//! - [`UnitOfWork`]: commit / rollback of one business transaction;
//!   applications extend it with their named repositories.
//! - [`Relation`], [`Load`], [`Related`]: typed relationship names, load
//!   plans for `get_with` (selectin, joined, raise, noload, nested), and a
//!   field type that tells "not loaded" from "empty".
//! - [`ListSpec`]: filters, ordering and paging, as data.
//! - [`DomainError`]: the errors a domain sees, with
//!   [`is_retryable`](DomainError::is_retryable).
//! - `mock` (feature `mock`): mockall mocks `MockRepository<T>` and
//!   `MockUnitOfWork`, and `MockPort<T, Own>` for ports that extend
//!   `Repository<T>`.
//! - `fake` (feature `fake`): an in-memory `InMemoryRepository<T>` and
//!   `FakeUnitOfWork` with real commit and rollback, and `conformance`,
//!   the suite every repository implementation should pass.
//!
//! The persistence layer implements [`Repository`] and [`UnitOfWork`] once,
//! generically, on its session; domain services are written against the
//! traits:
//!
//! ```
//! use domain::prelude::*;
//!
//! #[derive(Debug, Clone)]
//! pub struct Publisher { pub id: Option<i64>, pub name: String, pub posts: Related<Vec<Post>> }
//! #[derive(Debug, Clone)]
//! pub struct Post { pub id: Option<i64>, pub title: String, pub draft: bool }
//!
//! impl Entity for Publisher {
//!     type Id = i64;
//!     fn id(&self) -> Option<i64> { self.id }
//! }
//!
//! pub mod publisher {
//!     pub const POSTS: domain::Relation<super::Publisher> = domain::Relation::new("posts");
//! }
//!
//! pub trait PublishingUow: UnitOfWork {
//!     fn publishers(&self) -> &dyn Repository<Publisher>;
//! }
//!
//! /// Publish every draft of a publisher, in one transaction.
//! pub async fn publish_drafts(uow: &mut impl PublishingUow, id: i64) -> Result<usize, DomainError> {
//!     let mut publisher = uow
//!         .publishers()
//!         .get_with(&id, &[Load::selectin(publisher::POSTS)])
//!         .await?
//!         .ok_or_else(|| DomainError::not_found::<Publisher>(&id))?;
//!     let posts = publisher.posts.require_mut("posts")?;
//!     let drafts = posts.iter_mut().filter(|p| p.draft).map(|p| p.draft = false).count();
//!     uow.publishers().add(publisher).await?;
//!     uow.commit().await?;
//!     Ok(drafts)
//! }
//! # fn main() {}
//! ```

#[cfg(feature = "fake")]
pub mod conformance;
pub mod entity;
pub mod error;
#[cfg(feature = "fake")]
pub mod fake;
pub mod filter;
pub mod load;
#[cfg(feature = "mock")]
pub mod mock;
pub mod repository;
pub mod unit_of_work;

/// Re-exported so that crates implementing or extending the ports need no
/// direct `async-trait` dependency: `#[domain::async_trait]`.
pub use async_trait::async_trait;

pub use entity::Entity;
pub use error::DomainError;
pub use filter::{Direction, FieldName, Filter, FilterOp, FilterValue, ListSpec, OrderBy};
pub use load::{
    joinedload, noload, raiseload, selectinload, Load, LoadStep, LoadStrategy, Related, Relation,
};
pub use repository::{Page, Repository};
pub use unit_of_work::UnitOfWork;

/// The names a domain module usually needs: `use domain::prelude::*;`.
pub mod prelude {
    pub use crate::async_trait;
    pub use crate::{
        Direction, DomainError, Entity, ListSpec, Load, Page, Related, Relation, Repository,
        UnitOfWork,
    };
}
