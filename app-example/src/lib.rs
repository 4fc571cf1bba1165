//! # app-example
//!
//! A small domain-driven service on the framework, written the way a user
//! of `persistence` and `domain` would write it:
//!
//! - the domain model lives in the `app_domain` crate: plain structs and
//!   value objects with behaviour (hiring: workers and resumes; publishing:
//!   publishers, posts, tags), depending on the `domain` ports alone;
//! - [`mapping`]: `start_mappers()`, the mapping of those structs to tables
//!   from the outside, with codecs for the domain's value objects;
//! - [`repositories`]: the application's units of work and repository
//!   traits, implemented on the framework's `SqlUnitOfWork` and
//!   `SqlRepository`;
//! - [`services`]: one business transaction each, generic over the unit of
//!   work (unit-tested with mocks, integration-tested on SQLite, PostgreSQL
//!   and MySQL/MariaDB);
//! - [`report`]: the seed's analytic query in Core;
//! - [`schema`]: migrations for a file or server database (`migrations/`),
//!   `create_all` in memory;
//! - [`demo`] and [`table`]: what `cargo run -p app-example` prints;
//! - [`web`]: `app-example serve`, the JSON API on a unit of work per request.

pub mod demo;
pub mod error;
pub mod mapping;
pub mod report;
pub mod repositories;
pub mod schema;
pub mod services;
pub mod table;
#[cfg(test)]
mod testing;
pub mod web;

pub use error::AppError;
