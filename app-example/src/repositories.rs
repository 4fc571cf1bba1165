//! The application's ports (units of work with named repositories, and the
//! extra queries its services need) and their implementations on the
//! framework's [`SqlUnitOfWork`] and [`SqlRepository`].
//!
//! Services are written against the traits ([`HiringUow`],
//! [`PublishingUow`]); production passes [`SqlHiringUow`] /
//! [`SqlPublishingUow`], unit tests pass fakes built from mocks.
//!
//! Relations are loaded here with explicit queries (one query per level,
//! never one per row): `get_with_posts` selects the publisher, then its
//! posts; `tags_of` selects the association rows, then the tags.

use std::collections::HashMap;

use domain::{async_trait, DomainError, ListSpec, Related, Repository, UnitOfWork};
use persistence::dialects::{insert, select, Value};
use persistence::orm::{self, SessionMaker};
use persistence::repository::to_domain;
use persistence::{SqlRepository, SqlUnitOfWork};

use crate::domain::hiring::{CompensationLine, Resume, Worker};
use crate::domain::publishing::{Post, Publisher, Tag};
use crate::mapping::{self, post, POST_TAG};
use crate::report;

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
    /// The publisher `id` with its posts loaded (ordered by id), or
    /// [`DomainError::NotFound`].
    async fn get_with_posts(&self, id: i64) -> Result<Publisher, DomainError>;
}

/// Tags, and the association of tags with posts.
#[async_trait]
pub trait TagRepository: Repository<Tag> {
    /// Links the post `post_id` to each of `tag_ids` (association rows);
    /// linking an already linked pair is a [`DomainError::Conflict`].
    async fn attach(&self, post_id: i64, tag_ids: &[i64]) -> Result<u64, DomainError>;

    /// The tags of each post in `post_ids`, as `(post id, tag)` pairs
    /// ordered by post and tag name.
    async fn tags_of(&self, post_ids: &[i64]) -> Result<Vec<(i64, Tag)>, DomainError>;
}

/// The publishing context's unit of work.
pub trait PublishingUow: UnitOfWork {
    /// All publishers.
    fn publishers(&self) -> &dyn PublisherRepository;
    /// All posts.
    fn posts(&self) -> &dyn Repository<Post>;
    /// All tags.
    fn tags(&self) -> &dyn TagRepository;
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
        let worker = mapping::table(self.mappers(), "worker").map_err(to_domain)?;
        let resume = mapping::table(self.mappers(), "resume").map_err(to_domain)?;
        let rows = self
            .execute(&report::compensation_report(&worker, &resume))
            .await?
            .all();
        rows.iter()
            .map(|row| {
                Ok(CompensationLine {
                    worker_id: int_of(row, "id")?.unwrap_or_default(),
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
    async fn get_with_posts(&self, id: i64) -> Result<Publisher, DomainError> {
        let mut publisher = self.get_one(&id).await?;
        let posts = self
            .session()
            .lock()
            .await
            .scalars(
                orm::select::<Post>()
                    .filter(post::publisher_id.eq(id))
                    .order_by([post::id.asc()]),
            )
            .await
            .map_err(to_domain)?
            .all();
        publisher.posts = Related::Loaded(posts);
        Ok(publisher)
    }
}

#[async_trait]
impl TagRepository for SqlRepository<Tag> {
    async fn attach(&self, post_id: i64, tag_ids: &[i64]) -> Result<u64, DomainError> {
        if tag_ids.is_empty() {
            return Ok(0);
        }
        let post_tag = mapping::table(self.mappers(), POST_TAG).map_err(to_domain)?;
        let rows: Vec<[Value; 2]> = tag_ids
            .iter()
            .map(|&t| [Value::from(post_id), Value::from(t)])
            .collect();
        let stmt = insert(&post_tag).rows(["post_id", "tag_id"], rows);
        Ok(self.execute(&stmt).await?.rows_affected())
    }

    async fn tags_of(&self, post_ids: &[i64]) -> Result<Vec<(i64, Tag)>, DomainError> {
        if post_ids.is_empty() {
            return Ok(Vec::new());
        }
        let post_tag = mapping::table(self.mappers(), POST_TAG).map_err(to_domain)?;
        let links = self
            .execute(
                &select((post_tag.c("post_id"), post_tag.c("tag_id")))
                    .where_(post_tag.c("post_id").in_(post_ids.to_vec())),
            )
            .await?
            .all();
        let mut pairs = Vec::with_capacity(links.len());
        for row in &links {
            let (post_id, tag_id) = (int_of(row, "post_id")?, int_of(row, "tag_id")?);
            if let (Some(p), Some(t)) = (post_id, tag_id) {
                pairs.push((p, t));
            }
        }
        let mut ids: Vec<i64> = pairs.iter().map(|&(_, t)| t).collect();
        ids.sort_unstable();
        ids.dedup();
        let tags: HashMap<i64, Tag> = self
            .list(&ListSpec::new().filter_in("id", ids))
            .await?
            .into_iter()
            .filter_map(|t| t.id.map(|id| (id, t)))
            .collect();
        let mut out: Vec<(i64, Tag)> = pairs
            .into_iter()
            .filter_map(|(p, t)| tags.get(&t).map(|tag| (p, tag.clone())))
            .collect();
        out.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
        Ok(out)
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
        let uow = SqlUnitOfWork::new(sessions);
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
        let uow = SqlUnitOfWork::new(sessions);
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

    fn tags(&self) -> &dyn TagRepository {
        &self.tags
    }
}
