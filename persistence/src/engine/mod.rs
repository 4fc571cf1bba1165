//! The engine layer: URLs, the engine and its pool, connections, rows,
//! results and schema creation. Below the ORM; above the drivers.

pub mod connection;
#[allow(clippy::module_inception)]
pub mod engine;
pub mod result;
pub mod row;
pub mod schema;
pub mod url;
