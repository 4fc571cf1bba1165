//! The testing kit (feature `testing`): real databases for integration
//! tests, one isolated database per test, and a savepoint-per-test fixture.
//!
//! - [`TestDatabase`]: a database of its own for one test, on a server
//!   from a URL, a testcontainers container, or a throwaway server started
//!   from the machine's binaries ([`ServerSource`]); SQLite in memory.
//! - [`TestTransaction`]: one outer transaction around a test, rolled back
//!   at the end, which every session and connection of its engine joins.
//!
//! Enable it for tests only:
//!
//! ```toml
//! [dev-dependencies]
//! persistence = { workspace = true, features = ["testing"] }
//! ```
//!
//! ```no_run
//! use persistence::testing::TestDatabase;
//! use persistence::Backend;
//!
//! # async fn demo() -> Result<(), persistence::testing::TestingError> {
//! // TEST_POSTGRES_URL, else testcontainers (engine up, image present), else a local server.
//! let db = TestDatabase::new(Backend::Postgres, "hire_worker").await?;
//! println!("{} on {}", db.url_redacted(), db.source());
//! // ... db.engine() ...
//! db.close().await?; // drops the test's database
//! # Ok(()) }
//! ```

mod container;
mod database;
mod error;
mod local;
mod server;
mod transaction;

pub use container::ContainerImage;
pub use database::{with_database, Isolation, TestDatabase, TestDatabaseBuilder};
pub use error::TestingError;
pub use server::{ServerKind, ServerSource, SOURCE_VAR};
pub use transaction::TestTransaction;
