//! # app-example
//!
//! A small domain-driven service on the framework, written the way a user
//! of `persistence` and `domain` would write it:
//!
//! - [`domain`]: plain structs with behaviour (hiring:
//!   workers and resumes; publishing: publishers, posts, tags), no database
//!   types;
//! - [`mapping`]: `start_mappers()`, the imperative mapping of those structs
//!   to tables;
//! - [`repositories`]: the application's units of work and repository
//!   traits, implemented on the framework's `SqlUnitOfWork` and
//!   `SqlRepository`;
//! - [`services`]: one business transaction each, generic over the unit of
//!   work (unit-tested with mocks, integration-tested on SQLite, PostgreSQL
//!   and MySQL/MariaDB);
//! - [`report`]: the seed's analytic query in Core;
//! - [`demo`] and [`table`]: what `cargo run -p app-example` prints.

pub mod demo;
pub mod domain;
pub mod error;
pub mod mapping;
pub mod report;
pub mod repositories;
pub mod services;
pub mod table;
#[cfg(test)]
mod testing;

pub use error::AppError;
