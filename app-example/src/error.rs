//! The example service's error: a domain error from a service, or a
//! persistence error from setting up (connecting, creating tables).

use domain::DomainError;

/// What can go wrong in the command line and the demo.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// Connecting, mapping or creating the schema failed.
    #[error(transparent)]
    Persistence(#[from] persistence::Error),
    /// A migration failed (see `migrate::MigrateError`).
    #[error(transparent)]
    Migration(#[from] migrate::MigrateError),
    /// A service failed.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The server could not listen or failed while serving.
    #[error("{0}")]
    Io(String),
}
