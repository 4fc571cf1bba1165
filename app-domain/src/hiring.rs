//! Hiring: workers and their resumes.

use chrono::NaiveDateTime;
use domain::{DomainError, Entity, Related, Relation};
use serde::{Deserialize, Serialize};

use crate::ids::{ResumeId, WorkerId};

/// Longest worker name or resume title, in characters (the columns are
/// `VARCHAR(256)`).
pub const MAX_NAME: usize = 256;

/// How many resumes one worker may have.
pub const MAX_RESUMES: usize = 5;

/// How many skills one resume may list.
pub const MAX_SKILLS: usize = 20;

/// Largest raise [`Resume::raise`] grants at once, in percent.
pub const MAX_RAISE_PCT: u32 = 50;

/// How much a resume's job is (the seed's `Literal["parttime", "fulltime"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workload {
    /// Part-time.
    PartTime,
    /// Full-time.
    FullTime,
}

impl Workload {
    /// The stored name: `"parttime"` or `"fulltime"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Workload::PartTime => "parttime",
            Workload::FullTime => "fulltime",
        }
    }
}

impl std::fmt::Display for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The skills a resume lists: a value object (no identity), kept
/// trimmed, lowercase, unique and sorted. Stored as one JSON array.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Skills(Vec<String>);

impl Skills {
    /// No skills.
    pub fn none() -> Skills {
        Skills(Vec::new())
    }

    /// Skills from names: each trimmed and lowercased, duplicates dropped;
    /// an empty name, one over 32 characters, or more than [`MAX_SKILLS`]
    /// is [`DomainError::Invalid`].
    pub fn new<I, S>(names: I) -> Result<Skills, DomainError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out: Vec<String> = Vec::new();
        for name in names {
            let name = name.as_ref().trim().to_lowercase();
            if name.is_empty() || name.chars().count() > 32 {
                return Err(DomainError::invalid(format!(
                    "a skill has 1 to 32 characters, not `{name}`"
                )));
            }
            if !out.contains(&name) {
                out.push(name);
            }
        }
        if out.len() > MAX_SKILLS {
            return Err(DomainError::invalid(format!(
                "a resume lists at most {MAX_SKILLS} skills"
            )));
        }
        out.sort();
        Ok(Skills(out))
    }

    /// The skill names, sorted.
    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// Whether `name` is among them (case-insensitive).
    pub fn has(&self, name: &str) -> bool {
        let name = name.trim().to_lowercase();
        self.0.contains(&name)
    }
}

/// A person who can be hired (the seed's `WorkerModel`).
#[derive(Debug, Clone, PartialEq)]
pub struct Worker {
    /// `None` until the database assigns it.
    pub id: Option<WorkerId>,
    /// Unique among workers.
    pub name: String,
    /// The worker's resumes, when loaded.
    pub resumes: Related<Vec<Resume>>,
}

/// What a new resume says, before it belongs to anyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewResume {
    /// The job title.
    pub title: String,
    /// Yearly compensation asked for, if stated.
    pub compensation: Option<i32>,
    /// Part-time or full-time.
    pub workload: Workload,
    /// The skills it lists.
    pub skills: Skills,
}

impl NewResume {
    /// A resume draft (no skills listed).
    pub fn new(title: &str, compensation: Option<i32>, workload: Workload) -> Self {
        NewResume {
            title: title.to_owned(),
            compensation,
            workload,
            skills: Skills::none(),
        }
    }

    /// The same draft listing `skills`.
    pub fn with_skills(mut self, skills: Skills) -> Self {
        self.skills = skills;
        self
    }
}

/// A worker's resume (the seed's `ResumeModel`).
#[derive(Debug, Clone, PartialEq)]
pub struct Resume {
    /// `None` until the database assigns it.
    pub id: Option<ResumeId>,
    /// The job title.
    pub title: String,
    /// Yearly compensation asked for, if stated.
    pub compensation: Option<i32>,
    /// Part-time or full-time.
    pub workload: Workload,
    /// The skills it lists.
    pub skills: Skills,
    /// The worker it belongs to.
    pub worker_id: WorkerId,
    /// Set by the database on insert.
    pub created_at: Option<NaiveDateTime>,
    /// Set by the database on insert and on every update.
    pub updated_at: Option<NaiveDateTime>,
}

fn checked_text(what: &str, text: &str) -> Result<String, DomainError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DomainError::invalid(format!("a {what} must not be empty")));
    }
    if text.chars().count() > MAX_NAME {
        return Err(DomainError::invalid(format!(
            "a {what} has at most {MAX_NAME} characters"
        )));
    }
    Ok(text.to_owned())
}

impl Worker {
    /// The [`resumes`](Worker::resumes) relation, for load plans
    /// (`Load::selectin(Worker::RESUMES)`).
    pub const RESUMES: Relation<Worker> = Relation::new("resumes");

    /// A new worker (no id yet, no resumes), with a checked name.
    pub fn new(name: &str) -> Result<Worker, DomainError> {
        Ok(Worker {
            id: None,
            name: checked_text("worker name", name)?,
            resumes: Related::Loaded(Vec::new()),
        })
    }

    /// Renames the worker.
    pub fn rename(&mut self, name: &str) -> Result<(), DomainError> {
        self.name = checked_text("worker name", name)?;
        Ok(())
    }

    /// Renames the resume `resume_id` of this worker to `title` and returns
    /// it (store it with the resume repository). Needs the resumes loaded;
    /// a title another of the worker's resumes has is
    /// [`DomainError::Invalid`], a resume of someone else
    /// [`DomainError::NotFound`].
    pub fn retitle_resume(
        &mut self,
        resume_id: ResumeId,
        title: &str,
    ) -> Result<Resume, DomainError> {
        let title = checked_text("resume title", title)?;
        let name = self.name.clone();
        let resumes = self.resumes.require_mut("resumes")?;
        if resumes
            .iter()
            .any(|r| r.title == title && r.id != Some(resume_id))
        {
            return Err(DomainError::invalid(format!(
                "worker `{name}` already has a resume `{title}`"
            )));
        }
        let resume = resumes
            .iter_mut()
            .find(|r| r.id == Some(resume_id))
            .ok_or_else(|| DomainError::not_found::<Resume>(&resume_id))?;
        resume.retitle(&title)?;
        Ok(resume.clone())
    }

    /// Adds a resume to this worker and returns it (not stored yet: give it
    /// to the resume repository).
    ///
    /// Needs the worker's id (hire first) and its resumes loaded
    /// ([`DomainError::NotLoaded`] otherwise): a worker has at most
    /// [`MAX_RESUMES`] resumes, no two with the same title; the title must
    /// not be empty and a stated compensation must be positive.
    pub fn add_resume(&mut self, draft: NewResume) -> Result<Resume, DomainError> {
        let Some(worker_id) = self.id else {
            return Err(DomainError::invalid(format!(
                "worker `{}` has no id yet: hire them before adding a resume",
                self.name
            )));
        };
        let title = checked_text("resume title", &draft.title)?;
        if draft.compensation.is_some_and(|c| c <= 0) {
            return Err(DomainError::invalid(format!(
                "resume `{title}`: a compensation must be positive"
            )));
        }
        let resumes = self.resumes.require_mut("resumes")?;
        if resumes.len() >= MAX_RESUMES {
            return Err(DomainError::invalid(format!(
                "worker `{}` already has {MAX_RESUMES} resumes",
                self.name
            )));
        }
        if resumes.iter().any(|r| r.title == title) {
            return Err(DomainError::invalid(format!(
                "worker `{}` already has a resume `{title}`",
                self.name
            )));
        }
        let resume = Resume {
            id: None,
            title,
            compensation: draft.compensation,
            workload: draft.workload,
            skills: draft.skills,
            worker_id,
            created_at: None,
            updated_at: None,
        };
        resumes.push(resume.clone());
        Ok(resume)
    }
}

impl Resume {
    /// Changes the title (1 to [`MAX_NAME`] characters, trimmed). Titles
    /// are unique per worker: check the worker's other resumes first
    /// ([`Worker::retitle_resume`] does).
    pub fn retitle(&mut self, title: &str) -> Result<(), DomainError> {
        self.title = checked_text("resume title", title)?;
        Ok(())
    }

    /// States a new compensation (positive) or none.
    pub fn set_compensation(&mut self, compensation: Option<i32>) -> Result<(), DomainError> {
        if compensation.is_some_and(|c| c <= 0) {
            return Err(DomainError::invalid(format!(
                "resume `{}`: a compensation must be positive",
                self.title
            )));
        }
        self.compensation = compensation;
        Ok(())
    }

    /// Raises the compensation by `pct` percent (1 to [`MAX_RAISE_PCT`]),
    /// rounding down, and returns the new figure. A resume without a
    /// compensation cannot be raised.
    pub fn raise(&mut self, pct: u32) -> Result<i32, DomainError> {
        if pct == 0 || pct > MAX_RAISE_PCT {
            return Err(DomainError::invalid(format!(
                "a raise is between 1 and {MAX_RAISE_PCT} percent, not {pct}"
            )));
        }
        let Some(current) = self.compensation else {
            return Err(DomainError::invalid(format!(
                "resume `{}` states no compensation to raise",
                self.title
            )));
        };
        let raised = i64::from(current) * (100 + i64::from(pct)) / 100;
        let raised = i32::try_from(raised).map_err(|_| {
            DomainError::invalid(format!(
                "resume `{}`: {current} raised by {pct}% does not fit",
                self.title
            ))
        })?;
        self.compensation = Some(raised);
        Ok(raised)
    }
}

impl Entity for Worker {
    type Id = WorkerId;
    fn id(&self) -> Option<WorkerId> {
        self.id
    }
}

impl Entity for Resume {
    type Id = ResumeId;
    fn id(&self) -> Option<ResumeId> {
        self.id
    }
}

/// One line of the compensation report: a resume's compensation next to
/// the average of its workload (the seed's analytic query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompensationLine {
    /// The worker's id.
    pub worker_id: WorkerId,
    /// The worker's name.
    pub name: String,
    /// The resume's compensation.
    pub compensation: Option<i64>,
    /// Compensation minus the average compensation of the same workload.
    pub compensation_diff: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hired(id: i64) -> Result<Worker, DomainError> {
        let mut w = Worker::new("  Vlad ")?;
        w.id = Some(WorkerId(id));
        Ok(w)
    }

    #[test]
    fn names_are_trimmed_and_checked() -> Result<(), DomainError> {
        assert_eq!(Worker::new("  Vlad ")?.name, "Vlad");
        assert!(matches!(Worker::new(" "), Err(DomainError::Invalid(_))));
        assert!(Worker::new(&"x".repeat(MAX_NAME + 1)).is_err());
        let mut w = hired(1)?;
        w.rename("Vladimir")?;
        assert_eq!(w.name, "Vladimir");
        assert!(w.rename("").is_err());
        Ok(())
    }

    #[test]
    fn add_resume_rules() -> Result<(), DomainError> {
        let draft = NewResume::new("Rust Developer", Some(100), Workload::FullTime);
        let mut unsaved = Worker::new("Ann")?;
        assert!(matches!(
            unsaved.add_resume(draft.clone()),
            Err(DomainError::Invalid(m)) if m.contains("hire them")
        ));

        let mut w = hired(7)?;
        let r = w.add_resume(draft.clone())?;
        assert_eq!(
            (r.worker_id, r.id, r.title.as_str()),
            (WorkerId(7), None, "Rust Developer")
        );
        assert!(w.add_resume(draft).is_err(), "same title twice");
        let bad = NewResume::new("Free", Some(0), Workload::PartTime);
        assert!(w.add_resume(bad).is_err());
        for i in 1..MAX_RESUMES {
            w.add_resume(NewResume::new(
                &format!("job {i}"),
                None,
                Workload::PartTime,
            ))?;
        }
        let one_more = NewResume::new("one more", None, Workload::PartTime);
        assert!(
            matches!(w.add_resume(one_more), Err(DomainError::Invalid(m)) if m.contains("already has 5"))
        );

        let mut partial = hired(8)?;
        partial.resumes = Related::NotLoaded;
        let draft = NewResume::new("Rust Developer", None, Workload::FullTime);
        assert_eq!(
            partial.add_resume(draft),
            Err(DomainError::NotLoaded {
                relation: "resumes"
            })
        );
        Ok(())
    }

    #[test]
    fn raise_rules() -> Result<(), DomainError> {
        let mut w = hired(1)?;
        let mut r = w.add_resume(NewResume::new("Dev", Some(1_000), Workload::FullTime))?;
        assert_eq!(r.raise(10)?, 1_100);
        assert_eq!(r.compensation, Some(1_100));
        assert!(r.raise(0).is_err());
        assert!(r.raise(MAX_RAISE_PCT + 1).is_err());
        r.compensation = Some(i32::MAX);
        assert!(r.raise(1).is_err());
        r.compensation = None;
        assert!(
            matches!(r.raise(5), Err(DomainError::Invalid(m)) if m.contains("no compensation"))
        );
        assert_eq!(Workload::PartTime.to_string(), "parttime");
        Ok(())
    }

    #[test]
    fn skills_are_normalised_and_stored_as_a_json_array() -> Result<(), DomainError> {
        let s = Skills::new([" Rust", "sql", "rust ", "Async"])?;
        assert_eq!(s.names(), ["async", "rust", "sql"]);
        assert!(s.has("RUST") && !s.has("go"));
        assert!(Skills::new([""]).is_err());
        assert!(Skills::new((0..=MAX_SKILLS).map(|i| format!("s{i}"))).is_err());
        let json = serde_json::to_string(&s).map_err(|e| DomainError::invalid(e.to_string()))?;
        assert_eq!(json, r#"["async","rust","sql"]"#);
        let draft = NewResume::new("Dev", None, Workload::PartTime).with_skills(s.clone());
        assert_eq!(draft.skills, s);
        Ok(())
    }
}
