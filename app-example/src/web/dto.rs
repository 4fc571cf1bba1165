//! The JSON the API reads and writes: request bodies (unknown fields
//! refused) and views of the domain's entities.

use chrono::NaiveDateTime;
use domain::{DomainError, Page};
use serde::{Deserialize, Serialize};

use app_domain::hiring::{CompensationLine, NewResume, Resume, Skills, Worker, Workload};
use app_domain::publishing::{Post, Publisher, Tag};

/// `"parttime"` or `"fulltime"`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadJson {
    /// Part-time.
    Parttime,
    /// Full-time.
    Fulltime,
}

impl From<WorkloadJson> for Workload {
    fn from(w: WorkloadJson) -> Self {
        match w {
            WorkloadJson::Parttime => Workload::PartTime,
            WorkloadJson::Fulltime => Workload::FullTime,
        }
    }
}

/// `POST /workers`: a name and, optionally, first resumes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWorker {
    /// The worker's name (unique).
    pub name: String,
    /// Resumes stored with the worker, in the same transaction.
    #[serde(default)]
    pub resumes: Vec<NewResumeJson>,
}

/// `PATCH /workers/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerPatch {
    /// The new name.
    pub name: String,
}

/// A resume to add (`POST /workers/{id}/resumes`, or inside [`NewWorker`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewResumeJson {
    /// The job title.
    pub title: String,
    /// Yearly compensation asked for.
    #[serde(default)]
    pub compensation: Option<i32>,
    /// Part-time or full-time.
    pub workload: WorkloadJson,
    /// Skill names.
    #[serde(default)]
    pub skills: Vec<String>,
}

impl NewResumeJson {
    /// The domain's draft (skills checked).
    pub fn into_draft(self) -> Result<NewResume, DomainError> {
        Ok(
            NewResume::new(&self.title, self.compensation, self.workload.into())
                .with_skills(Skills::new(&self.skills)?),
        )
    }
}

/// `PATCH /resumes/{id}`: the fields to change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResumePatch {
    /// A new title.
    #[serde(default)]
    pub title: Option<String>,
    /// A new compensation.
    #[serde(default)]
    pub compensation: Option<i32>,
    /// A new workload.
    #[serde(default)]
    pub workload: Option<WorkloadJson>,
    /// New skills (replacing the old ones).
    #[serde(default)]
    pub skills: Option<Vec<String>>,
}

/// `POST /resumes/{id}/raise`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Raise {
    /// Percent, 1 to 50.
    pub pct: u32,
}

/// `POST /publishers`, `PATCH /publishers/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublisherName {
    /// The publisher's name (unique).
    pub name: String,
}

/// `POST /publishers/{id}/posts`, `PATCH /posts/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostTitle {
    /// The title (unique per publisher).
    pub title: String,
}

/// `POST /posts/{id}/tags`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagNames {
    /// Tag names to put on the post.
    pub tags: Vec<String>,
}

/// A worker; `resumes` is `null` when not loaded (listings).
#[derive(Debug, Serialize)]
pub struct WorkerJson {
    /// The id.
    pub id: Option<i64>,
    /// The name.
    pub name: String,
    /// The resumes, by id.
    pub resumes: Option<Vec<ResumeJson>>,
}

impl From<&Worker> for WorkerJson {
    fn from(w: &Worker) -> Self {
        WorkerJson {
            id: w.id.map(|i| i.0),
            name: w.name.clone(),
            resumes: w
                .resumes
                .get()
                .map(|rs| rs.iter().map(ResumeJson::from).collect()),
        }
    }
}

/// A resume.
#[derive(Debug, Serialize)]
pub struct ResumeJson {
    /// The id.
    pub id: Option<i64>,
    /// The job title.
    pub title: String,
    /// Yearly compensation.
    pub compensation: Option<i32>,
    /// `parttime` or `fulltime`.
    pub workload: &'static str,
    /// Skill names, sorted.
    pub skills: Vec<String>,
    /// The worker.
    pub worker_id: i64,
    /// Set on insert.
    pub created_at: Option<NaiveDateTime>,
    /// Set on every update.
    pub updated_at: Option<NaiveDateTime>,
}

impl From<&Resume> for ResumeJson {
    fn from(r: &Resume) -> Self {
        ResumeJson {
            id: r.id.map(|i| i.0),
            title: r.title.clone(),
            compensation: r.compensation,
            workload: r.workload.as_str(),
            skills: r.skills.names().to_vec(),
            worker_id: r.worker_id.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A publisher; `posts` is `null` when not loaded.
#[derive(Debug, Serialize)]
pub struct PublisherJson {
    /// The id.
    pub id: Option<i64>,
    /// The name.
    pub name: String,
    /// The posts, by id.
    pub posts: Option<Vec<PostJson>>,
}

impl From<&Publisher> for PublisherJson {
    fn from(p: &Publisher) -> Self {
        PublisherJson {
            id: p.id.map(|i| i.0),
            name: p.name.clone(),
            posts: p
                .posts
                .get()
                .map(|ps| ps.iter().map(PostJson::from).collect()),
        }
    }
}

/// A post; `tags` is `null` when not loaded.
#[derive(Debug, Serialize)]
pub struct PostJson {
    /// The id.
    pub id: Option<i64>,
    /// The title.
    pub title: String,
    /// Whether it is a draft.
    pub draft: bool,
    /// The publisher.
    pub publisher_id: i64,
    /// Set on insert.
    pub created_at: Option<NaiveDateTime>,
    /// When it was published.
    pub published_at: Option<NaiveDateTime>,
    /// Tag names, sorted.
    pub tags: Option<Vec<String>>,
}

impl From<&Post> for PostJson {
    fn from(p: &Post) -> Self {
        PostJson {
            id: p.id.map(|i| i.0),
            title: p.title.clone(),
            draft: p.draft,
            publisher_id: p.publisher_id.0,
            created_at: p.created_at,
            published_at: p.published_at,
            tags: p.tags.get().map(|ts| tag_names(ts)),
        }
    }
}

/// Tag names, sorted.
pub fn tag_names(tags: &[Tag]) -> Vec<String> {
    let mut names: Vec<String> = tags.iter().map(|t| t.name.clone()).collect();
    names.sort();
    names
}

/// A line of the compensation report.
#[derive(Debug, Serialize)]
pub struct CompensationJson {
    /// The worker.
    pub worker_id: i64,
    /// The worker's name.
    pub name: String,
    /// The resume's compensation.
    pub compensation: Option<i64>,
    /// Compensation minus the average of its workload.
    pub compensation_diff: Option<i64>,
}

impl From<&CompensationLine> for CompensationJson {
    fn from(l: &CompensationLine) -> Self {
        CompensationJson {
            worker_id: l.worker_id.0,
            name: l.name.clone(),
            compensation: l.compensation,
            compensation_diff: l.compensation_diff,
        }
    }
}

/// A page of a listing.
#[derive(Debug, Serialize)]
pub struct PageJson<T> {
    /// The entities on this page.
    pub items: Vec<T>,
    /// How many there are on all pages.
    pub total: u64,
    /// This page's number (1-based).
    pub page: u64,
    /// The page size.
    pub per_page: u64,
    /// How many pages there are.
    pub pages: u64,
}

impl<T> PageJson<T> {
    /// The JSON of `page`, its items converted by `f`.
    pub fn of<E>(page: Page<E>, f: impl FnMut(&E) -> T) -> Self {
        let number = page.number().unwrap_or(1);
        let pages = page.pages().unwrap_or(1);
        PageJson {
            items: page.items.iter().map(f).collect(),
            total: page.total,
            page: number,
            per_page: page.limit.unwrap_or(0),
            pages,
        }
    }
}
