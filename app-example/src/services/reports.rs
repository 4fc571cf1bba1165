//! Read-side services: the compensation report.

use domain::DomainError;

use super::commit_or_rollback;
use crate::repositories::HiringUow;
use app_domain::hiring::CompensationLine;

/// The seed's analytic query (see [`report`](crate::report)): every
/// resume's compensation and its difference to the average of its
/// workload, largest difference first.
pub async fn compensation_report(
    uow: &mut impl HiringUow,
) -> Result<Vec<CompensationLine>, DomainError> {
    let lines = uow.resumes().compensation_report().await;
    commit_or_rollback(uow, lines).await
}

/// The lines whose compensation is below the average of their workload.
pub fn below_average(lines: &[CompensationLine]) -> Vec<&CompensationLine> {
    lines
        .iter()
        .filter(|l| l.compensation_diff.is_some_and(|d| d < 0))
        .collect()
}
