//! [`TestingError`]: what the testing kit's fixtures report.

use crate::engine::url::Backend;
use crate::error::Error;

/// A fixture could not give a test its database or transaction.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestingError {
    /// No server could be had for `backend`; `tried` says what was tried
    /// and why each source did not fit.
    #[error("no {backend:?} server for this test: {tried}")]
    NoServer {
        /// The backend asked for.
        backend: Backend,
        /// Each source tried, and why it did not fit.
        tried: String,
    },
    /// Starting or reaching a container failed.
    #[error("container `{image}`: {message}")]
    Container {
        /// The image, `name:tag`.
        image: String,
        /// What went wrong.
        message: String,
    },
    /// Starting a throwaway local server failed.
    #[error("local {backend:?} server: {message}")]
    LocalServer {
        /// The backend.
        backend: Backend,
        /// What went wrong (with the end of the server's log when there is one).
        message: String,
    },
    /// A setting the kit reads is malformed (an environment variable, an
    /// image reference, a name).
    #[error("invalid testing setting: {0}")]
    Config(String),
    /// The fixture itself was misused (for example, a test transaction on a
    /// connection that already had one).
    #[error("test fixture: {0}")]
    Fixture(String),
    /// The outer transaction's connection was discarded during the test (a
    /// broken connection, or a statement cancelled half-way): the server
    /// rolled it back.
    #[error("the test transaction's connection was lost during the test")]
    TransactionLost,
    /// The engine failed (connecting, creating or dropping the test's
    /// database, rolling back).
    #[error(transparent)]
    Engine(#[from] Error),
}
