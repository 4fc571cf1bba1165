//! Fakes of the application's units of work for service unit tests: the
//! domain's mockall mocks (`MockRepository<T>`, `MockUnitOfWork`) plus
//! mocks of the application's own repository traits. No database.

use domain::mock::{MockPort, MockRepository, MockUnitOfWork};
use domain::{async_trait, DomainError, Repository, UnitOfWork};
use mockall::mock;

use crate::repositories::{HiringUow, PublisherRepository, PublishingUow, ResumeRepository};
use app_domain::hiring::{CompensationLine, Resume, Worker};
use app_domain::publishing::{Post, Publisher, Tag};
use app_domain::PublisherId;

mock! {
    /// `ResumeRepository`'s own methods.
    pub ResumeQueries {
        pub async fn compensation_report(&self) -> Result<Vec<CompensationLine>, DomainError>;
    }
}

mock! {
    /// `PublisherRepository`'s own methods.
    pub PublisherQueries {
        pub async fn get_with_posts(&self, id: PublisherId) -> Result<Publisher, DomainError>;
    }
}

/// A mock of `Repository<Resume>` (its expectations through `Deref`) and
/// `ResumeRepository` (in `own`).
pub type MockResumes = MockPort<Resume, MockResumeQueries>;

/// A mock of `Repository<Publisher>` and `PublisherRepository`.
pub type MockPublishers = MockPort<Publisher, MockPublisherQueries>;

#[async_trait]
impl ResumeRepository for MockResumes {
    async fn compensation_report(&self) -> Result<Vec<CompensationLine>, DomainError> {
        self.own.compensation_report().await
    }
}

#[async_trait]
impl PublisherRepository for MockPublishers {
    async fn get_with_posts(&self, id: PublisherId) -> Result<Publisher, DomainError> {
        self.own.get_with_posts(id).await
    }
}

/// A [`HiringUow`] of mocks.
#[derive(Default)]
pub struct FakeHiringUow {
    /// The workers.
    pub workers: MockRepository<Worker>,
    /// The resumes.
    pub resumes: MockResumes,
    /// Commit and rollback.
    pub tx: MockUnitOfWork,
}

#[async_trait]
impl UnitOfWork for FakeHiringUow {
    async fn commit(&mut self) -> Result<(), DomainError> {
        self.tx.commit().await
    }
    async fn rollback(&mut self) -> Result<(), DomainError> {
        self.tx.rollback().await
    }
}

impl HiringUow for FakeHiringUow {
    fn workers(&self) -> &dyn Repository<Worker> {
        &self.workers
    }
    fn resumes(&self) -> &dyn ResumeRepository {
        &self.resumes
    }
}

/// A [`PublishingUow`] of mocks.
#[derive(Default)]
pub struct FakePublishingUow {
    /// The publishers.
    pub publishers: MockPublishers,
    /// The posts.
    pub posts: MockRepository<Post>,
    /// The tags.
    pub tags: MockRepository<Tag>,
    /// Commit and rollback.
    pub tx: MockUnitOfWork,
}

#[async_trait]
impl UnitOfWork for FakePublishingUow {
    async fn commit(&mut self) -> Result<(), DomainError> {
        self.tx.commit().await
    }
    async fn rollback(&mut self) -> Result<(), DomainError> {
        self.tx.rollback().await
    }
}

impl PublishingUow for FakePublishingUow {
    fn publishers(&self) -> &dyn PublisherRepository {
        &self.publishers
    }
    fn posts(&self) -> &dyn Repository<Post> {
        &self.posts
    }
    fn tags(&self) -> &dyn Repository<Tag> {
        &self.tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::reports;

    #[tokio::test]
    async fn report_service_passes_the_lines_through() -> Result<(), DomainError> {
        let mut uow = FakeHiringUow::default();
        uow.resumes
            .own
            .expect_compensation_report()
            .times(1)
            .returning(|| {
                Ok(vec![
                    CompensationLine {
                        worker_id: app_domain::WorkerId(1),
                        name: "Vlad".into(),
                        compensation: Some(300),
                        compensation_diff: Some(100),
                    },
                    CompensationLine {
                        worker_id: app_domain::WorkerId(2),
                        name: "Ann".into(),
                        compensation: Some(100),
                        compensation_diff: Some(-100),
                    },
                ])
            });
        uow.tx.expect_commit().times(1).returning(|| Ok(()));
        let lines = reports::compensation_report(&mut uow).await?;
        let below: Vec<&str> = reports::below_average(&lines)
            .iter()
            .map(|l| l.name.as_str())
            .collect();
        assert_eq!(below, ["Ann"]);
        Ok(())
    }
}
