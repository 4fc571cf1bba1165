//! Fakes of the application's units of work for service unit tests: the
//! domain's mockall mocks (`MockRepository<T>`, `MockUnitOfWork`) plus
//! mocks of the application's own repository traits. No database.

use domain::mock::{MockRepository, MockUnitOfWork};
use domain::{async_trait, DomainError, ListSpec, Load, Page, Repository, UnitOfWork};
use mockall::mock;

use crate::repositories::{HiringUow, PublisherRepository, PublishingUow, ResumeRepository};
use app_domain::hiring::{CompensationLine, Resume, Worker};
use app_domain::publishing::{Post, Publisher, Tag};
use app_domain::{PublisherId, ResumeId};

mock! {
    /// A mock of `Repository<Resume>` and `ResumeRepository`.
    pub Resumes {}

    #[async_trait]
    impl Repository<Resume> for Resumes {
        async fn get(&self, id: &ResumeId) -> Result<Option<Resume>, DomainError>;
        async fn get_one(&self, id: &ResumeId) -> Result<Resume, DomainError>;
        async fn get_with(&self, id: &ResumeId, load: &[Load<Resume>]) -> Result<Option<Resume>, DomainError>;
        async fn list(&self, spec: &ListSpec) -> Result<Vec<Resume>, DomainError>;
        async fn list_with(&self, spec: &ListSpec, load: &[Load<Resume>]) -> Result<Vec<Resume>, DomainError>;
        async fn count(&self, spec: &ListSpec) -> Result<u64, DomainError>;
        async fn page(&self, spec: &ListSpec) -> Result<Page<Resume>, DomainError>;
        async fn add(&self, entity: Resume) -> Result<Resume, DomainError>;
        async fn add_all(&self, entities: Vec<Resume>) -> Result<Vec<Resume>, DomainError>;
        async fn remove(&self, entity: &Resume) -> Result<(), DomainError>;
    }

    #[async_trait]
    impl ResumeRepository for Resumes {
        async fn compensation_report(&self) -> Result<Vec<CompensationLine>, DomainError>;
    }
}

mock! {
    /// A mock of `Repository<Publisher>` and `PublisherRepository`.
    pub Publishers {}

    #[async_trait]
    impl Repository<Publisher> for Publishers {
        async fn get(&self, id: &PublisherId) -> Result<Option<Publisher>, DomainError>;
        async fn get_one(&self, id: &PublisherId) -> Result<Publisher, DomainError>;
        async fn get_with(&self, id: &PublisherId, load: &[Load<Publisher>]) -> Result<Option<Publisher>, DomainError>;
        async fn list(&self, spec: &ListSpec) -> Result<Vec<Publisher>, DomainError>;
        async fn list_with(&self, spec: &ListSpec, load: &[Load<Publisher>]) -> Result<Vec<Publisher>, DomainError>;
        async fn count(&self, spec: &ListSpec) -> Result<u64, DomainError>;
        async fn page(&self, spec: &ListSpec) -> Result<Page<Publisher>, DomainError>;
        async fn add(&self, entity: Publisher) -> Result<Publisher, DomainError>;
        async fn add_all(&self, entities: Vec<Publisher>) -> Result<Vec<Publisher>, DomainError>;
        async fn remove(&self, entity: &Publisher) -> Result<(), DomainError>;
    }

    #[async_trait]
    impl PublisherRepository for Publishers {
        async fn get_with_posts(&self, id: PublisherId) -> Result<Publisher, DomainError>;
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
