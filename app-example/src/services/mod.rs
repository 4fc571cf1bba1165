//! Application services: one business transaction each, written against
//! the unit-of-work traits of [`repositories`](crate::repositories), so
//! that unit tests run them on mocks and production on the database.
//!
//! Every service ends its unit of work: it commits when it succeeds and
//! rolls back when it fails (a domain rule, a missing entity, a database
//! error), so a failed service leaves nothing behind and the unit of work
//! can be used again.

pub mod hiring;
pub mod publishing;
pub mod reports;

use domain::{DomainError, UnitOfWork};

/// Commits `uow` when `result` is `Ok`, rolls it back otherwise, and
/// returns `result` (or the commit's error). A rollback that fails after
/// the service failed is not reported: the service's error says more, and
/// the unit of work rolls back again when dropped.
pub async fn commit_or_rollback<T>(
    uow: &mut impl UnitOfWork,
    result: Result<T, DomainError>,
) -> Result<T, DomainError> {
    match result {
        Ok(value) => {
            uow.commit().await?;
            Ok(value)
        }
        Err(e) => {
            let _ = uow.rollback().await;
            Err(e)
        }
    }
}
