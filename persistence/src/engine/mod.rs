//! The engine layer: URLs, the engine and its pools, connections,
//! transactions, rows, results and schema creation. Below the ORM; above
//! the drivers.

pub mod connection;
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
