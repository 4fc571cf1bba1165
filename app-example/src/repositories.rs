//! The application's ports (units of work with named repositories, and the
//! extra queries its services need) and their implementations on the
//! framework's [`SqlUnitOfWork`] and [`SqlRepository`].
//!
//! Services are written against the traits ([`HiringUow`],
//! [`PublishingUow`]); production passes [`SqlHiringUow`] /
//! [`SqlPublishingUow`], unit tests pass fakes built from mocks.
//!
//! Relations are loaded by the ORM's relationships (configured in
//! [`mapping`]), one query per level and never one per row:
//!
//! - [`PublisherRepository::get_with_posts`] is the seed's
//!   `select(Publisher).options(selectinload(Publisher.posts))`: an ORM
//!   select with a loader option, two statements (the publisher, then its
//!   posts with `WHERE publisher_id IN (...)`);
//! - everything else goes through the generic repository's load plans
//!   (`get_with` / `list_with` with `Load::selectin(Worker::RESUMES)`,
//!   `Load::selectin(Publisher::POSTS).then(Load::selectin(Post::TAGS))`),
//!   which the services pass;
//! - links between posts and tags are written by the many-to-many
//!   relationship's cascade: a service pushes tags onto a post loaded with
//!   its tags and stores the post, and the flush inserts the `post_tag`
//!   rows. No Core statement touches `post_tag`.

use domain::{async_trait, DomainError, Repository, UnitOfWork};
use persistence::dialects::Value;
use persistence::orm::{self, SessionMaker};
use persistence::repository::to_domain;
use persistence::{Error, SqlRepository, SqlUnitOfWork};

use crate::mapping::{publisher, resume, worker};
use crate::report;
use app_domain::hiring::{CompensationLine, Resume, Worker};
use app_domain::publishing::{Post, Publisher, Tag};
use app_domain::{PublisherId, WorkerId};

// ---------------------------------------------------------------- ports

/// Resumes, with the compensation report (a read-side query).
#[async_trait]
pub trait ResumeRepository: Repository<Resume> {
    /// The seed's analytic query: every resume's compensation next to the
    /// average of its workload, largest difference first.
    async fn compensation_report(&self) -> Result<Vec<CompensationLine>, DomainError>;
}

/// The hiring context's unit of work.
pub trait HiringUow: UnitOfWork {
    /// All workers.
    fn workers(&self) -> &dyn Repository<Worker>;
    /// All resumes.
    fn resumes(&self) -> &dyn ResumeRepository;
}

/// Publishers, with the seed's `get_with_posts`.
#[async_trait]
pub trait PublisherRepository: Repository<Publisher> {
    /// The publisher `id` with its posts loaded (ordered by id; their tags
    /// not loaded), or [`DomainError::NotFound`].
    async fn get_with_posts(&self, id: PublisherId) -> Result<Publisher, DomainError>;
}

/// The publishing context's unit of work.
pub trait PublishingUow: UnitOfWork {
    /// All publishers.
    fn publishers(&self) -> &dyn PublisherRepository;
    /// All posts.
    fn posts(&self) -> &dyn Repository<Post>;
    /// All tags.
    fn tags(&self) -> &dyn Repository<Tag>;
}

// ---------------------------------------------------------------- SQL

/// An integer column of a report row (any integer width, or a decimal
/// where a backend computes one).
fn int_of(row: &persistence::Row, column: &str) -> Result<Option<i64>, DomainError> {
    let value = row.value(column).map_err(to_domain)?;
    Ok(match value {
        Value::Null => None,
        Value::Decimal(d) => {
            Some(d.trunc().try_into().map_err(|_| {
                DomainError::internal(format!("`{column}` = {d} does not fit an i64"))
            })?)
        }
        other => Some(other.as_i64().ok_or_else(|| {
            DomainError::internal(format!(
                "`{column}` is {}, not an integer",
                other.type_name()
            ))
        })?),
    })
}

#[async_trait]
impl ResumeRepository for SqlRepository<Resume> {
    async fn compensation_report(&self) -> Result<Vec<CompensationLine>, DomainError> {
        let report = report::compensation_report(&worker::table(), &resume::table());
        let rows = self.execute(&report).await?.all();
        rows.iter()
            .map(|row| {
                Ok(CompensationLine {
                    worker_id: WorkerId(int_of(row, "id")?.unwrap_or_default()),
                    name: row.get("name").map_err(to_domain)?,
                    compensation: int_of(row, "compensation")?,
                    compensation_diff: int_of(row, "compensation_diff")?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl PublisherRepository for SqlRepository<Publisher> {
    async fn get_with_posts(&self, id: PublisherId) -> Result<Publisher, DomainError> {
        // The seed: select(Publisher).options(selectinload(Publisher.posts))
        //     .where(Publisher.id == id), then .scalars().one().
        let stmt = orm::select::<Publisher>()
            .options([orm::selectinload(Publisher::POSTS.name())])
            .where_(publisher::id.eq(id));
        let mut session = self.session().lock().await;
        match session.scalars(stmt).await.and_then(orm::ScalarResult::one) {
            Ok(publisher) => Ok(publisher),
            Err(Error::NoResultFound) => Err(DomainError::not_found::<Publisher>(&id)),
            Err(e) => Err(to_domain(e)),
        }
    }
}

/// [`HiringUow`] on one ORM session.
#[derive(Debug)]
pub struct SqlHiringUow {
    uow: SqlUnitOfWork,
    workers: SqlRepository<Worker>,
    resumes: SqlRepository<Resume>,
}

impl SqlHiringUow {
    /// A unit of work on a new session from `sessions`.
    pub fn new(sessions: &SessionMaker) -> Self {
        Self::on(SqlUnitOfWork::new(sessions))
    }

    /// The hiring repositories on `uow`'s session (a web request's unit of
    /// work, for example: `persistence::web::RequestUow`).
    pub fn on(uow: SqlUnitOfWork) -> Self {
        SqlHiringUow {
            workers: uow.repository(),
            resumes: uow.repository(),
            uow,
        }
    }

    /// The framework's unit of work underneath (its session, for custom
    /// queries).
    pub fn inner(&self) -> &SqlUnitOfWork {
        &self.uow
    }
}

#[async_trait]
impl UnitOfWork for SqlHiringUow {
    async fn commit(&mut self) -> Result<(), DomainError> {
        self.uow.commit().await
    }

    async fn rollback(&mut self) -> Result<(), DomainError> {
        self.uow.rollback().await
    }
}

impl HiringUow for SqlHiringUow {
    fn workers(&self) -> &dyn Repository<Worker> {
        &self.workers
    }

    fn resumes(&self) -> &dyn ResumeRepository {
        &self.resumes
    }
}

/// [`PublishingUow`] on one ORM session.
#[derive(Debug)]
pub struct SqlPublishingUow {
    uow: SqlUnitOfWork,
    publishers: SqlRepository<Publisher>,
    posts: SqlRepository<Post>,
    tags: SqlRepository<Tag>,
}

impl SqlPublishingUow {
    /// A unit of work on a new session from `sessions`.
    pub fn new(sessions: &SessionMaker) -> Self {
        Self::on(SqlUnitOfWork::new(sessions))
    }

    /// The publishing repositories on `uow`'s session.
    pub fn on(uow: SqlUnitOfWork) -> Self {
        SqlPublishingUow {
            publishers: uow.repository(),
            posts: uow.repository(),
            tags: uow.repository(),
            uow,
        }
    }

    /// The framework's unit of work underneath.
    pub fn inner(&self) -> &SqlUnitOfWork {
        &self.uow
    }
}

#[async_trait]
impl UnitOfWork for SqlPublishingUow {
    async fn commit(&mut self) -> Result<(), DomainError> {
        self.uow.commit().await
    }

    async fn rollback(&mut self) -> Result<(), DomainError> {
        self.uow.rollback().await
    }
}

impl PublishingUow for SqlPublishingUow {
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
