//! The engine layer: URLs, the engine and its pools, connections,
//! transactions, rows, results and schema creation. Below the ORM; above
//! the drivers.

// No panic reachable from server data or user input: these lints keep
// `unwrap`, `expect`, indexing and slicing out of this module (tests aside).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented,
        clippy::string_slice
    )
)]

pub mod connection;
#[cfg(feature = "postgres")]
pub(crate) mod deferred_begin;
#[allow(clippy::module_inception)]
pub mod engine;
pub mod inspect;
pub(crate) mod observe;
pub mod pool;
pub mod result;
pub mod retry;
pub mod row;
pub mod schema;
pub mod sqlite_options;
pub mod transaction;
pub mod url;
