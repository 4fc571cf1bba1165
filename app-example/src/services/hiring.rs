//! Hiring services: hire a worker, add and raise resumes, dismiss, list.

use domain::{DomainError, ListSpec, Load, Related};

use super::commit_or_rollback;
use crate::repositories::HiringUow;
use app_domain::hiring::{NewResume, Resume, Worker};
use app_domain::{ResumeId, WorkerId};

/// Hires a worker called `name` and returns them with their new id. A
/// worker of that name already hired is [`DomainError::Conflict`].
pub async fn hire(uow: &mut impl HiringUow, name: &str) -> Result<Worker, DomainError> {
    let result = hire_in(&*uow, name, Vec::new()).await;
    commit_or_rollback(uow, result).await
}

/// Hires a worker and adds their first resumes, in one transaction: if a
/// resume breaks a rule, the worker is not hired either. Returns the worker
/// with the stored resumes (ids filled).
pub async fn hire_with_resumes(
    uow: &mut impl HiringUow,
    name: &str,
    drafts: Vec<NewResume>,
) -> Result<Worker, DomainError> {
    let result = hire_in(&*uow, name, drafts).await;
    commit_or_rollback(uow, result).await
}

async fn hire_in(
    uow: &impl HiringUow,
    name: &str,
    drafts: Vec<NewResume>,
) -> Result<Worker, DomainError> {
    let worker = Worker::new(name)?;
    let taken = uow
        .workers()
        .count(&ListSpec::new().filter_eq("name", worker.name.clone()))
        .await?;
    if taken > 0 {
        return Err(DomainError::conflict(format!(
            "a worker named `{}` is already hired",
            worker.name
        )));
    }
    let mut worker = uow.workers().add(worker).await?;
    worker.resumes = Related::Loaded(Vec::new());
    let mut staged = Vec::with_capacity(drafts.len());
    for draft in drafts {
        staged.push(worker.add_resume(draft)?);
    }
    if !staged.is_empty() {
        worker.resumes = Related::Loaded(uow.resumes().add_all(staged).await?);
    }
    Ok(worker)
}

/// Adds a resume to the worker `worker_id` (see [`Worker::add_resume`] for
/// the rules) and returns it stored.
pub async fn add_resume(
    uow: &mut impl HiringUow,
    worker_id: WorkerId,
    draft: NewResume,
) -> Result<Resume, DomainError> {
    let result = add_resume_in(&*uow, worker_id, draft).await;
    commit_or_rollback(uow, result).await
}

async fn add_resume_in(
    uow: &impl HiringUow,
    worker_id: WorkerId,
    draft: NewResume,
) -> Result<Resume, DomainError> {
    // The worker with their resumes (selectin: two statements), which the
    // aggregate's rules need.
    let mut worker = uow
        .workers()
        .get_with(&worker_id, &[Load::selectin(Worker::RESUMES)])
        .await?
        .ok_or_else(|| DomainError::not_found::<Worker>(&worker_id))?;
    let resume = worker.add_resume(draft)?;
    uow.resumes().add(resume).await
}

/// Raises the compensation of resume `resume_id` by `pct` percent (see
/// [`Resume::raise`]) and returns it stored.
pub async fn raise_compensation(
    uow: &mut impl HiringUow,
    resume_id: ResumeId,
    pct: u32,
) -> Result<Resume, DomainError> {
    let result = async {
        let mut resume = uow.resumes().get_one(&resume_id).await?;
        resume.raise(pct)?;
        uow.resumes().add(resume).await
    }
    .await;
    commit_or_rollback(uow, result).await
}

/// Dismisses the worker `worker_id`; their resumes go with them (the
/// foreign key's `ON DELETE CASCADE`).
pub async fn dismiss(uow: &mut impl HiringUow, worker_id: WorkerId) -> Result<(), DomainError> {
    let result = async {
        let worker = uow.workers().get_one(&worker_id).await?;
        uow.workers().remove(&worker).await
    }
    .await;
    commit_or_rollback(uow, result).await
}

/// Every worker (by id) with their resumes loaded (by id): one load plan
/// ([`Worker::RESUMES`] by selectin), two statements whatever the number
/// of workers.
pub async fn roster(uow: &mut impl HiringUow) -> Result<Vec<Worker>, DomainError> {
    let result = uow
        .workers()
        .list_with(
            &ListSpec::new().order_by_asc("id"),
            &[Load::selectin(Worker::RESUMES)],
        )
        .await;
    commit_or_rollback(uow, result).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeHiringUow;
    use app_domain::hiring::{Skills, Workload};
    use domain::{FilterValue, LoadStrategy};

    fn stored_worker(id: WorkerId, name: &str) -> Worker {
        Worker {
            id: Some(id),
            name: name.to_owned(),
            resumes: Related::NotLoaded,
        }
    }

    fn resume(id: i64, worker_id: i64, title: &str, compensation: Option<i32>) -> Resume {
        Resume {
            id: Some(ResumeId(id)),
            title: title.to_owned(),
            compensation,
            workload: Workload::FullTime,
            skills: Skills::none(),
            worker_id: WorkerId(worker_id),
            created_at: None,
            updated_at: None,
        }
    }

    #[tokio::test]
    async fn hire_checks_the_name_then_adds_and_commits() -> Result<(), DomainError> {
        let mut uow = FakeHiringUow::default();
        uow.workers
            .expect_count()
            .withf(|spec| spec.filters[0].value == FilterValue::Text("Vlad".into()))
            .times(1)
            .returning(|_| Ok(0));
        uow.workers
            .expect_add()
            .withf(|w| w.id.is_none() && w.name == "Vlad")
            .times(1)
            .returning(|w| {
                Ok(Worker {
                    id: Some(WorkerId(1)),
                    ..w
                })
            });
        uow.tx.expect_commit().times(1).returning(|| Ok(()));
        let worker = hire(&mut uow, " Vlad ").await?;
        assert_eq!(worker.id, Some(WorkerId(1)));
        assert_eq!(worker.resumes, Related::Loaded(Vec::new()));
        Ok(())
    }

    #[tokio::test]
    async fn hire_refuses_a_taken_name_and_rolls_back() {
        let mut uow = FakeHiringUow::default();
        uow.workers.expect_count().returning(|_| Ok(1));
        uow.workers.expect_add().never();
        uow.tx.expect_commit().never();
        uow.tx.expect_rollback().times(1).returning(|| Ok(()));
        let err = hire(&mut uow, "Vlad").await;
        assert!(matches!(err, Err(DomainError::Conflict(m)) if m.contains("`Vlad`")));
    }

    #[tokio::test]
    async fn hire_refuses_an_empty_name_without_touching_the_database() {
        let mut uow = FakeHiringUow::default();
        uow.workers.expect_count().never();
        uow.tx.expect_rollback().times(1).returning(|| Ok(()));
        assert!(matches!(
            hire(&mut uow, "  ").await,
            Err(DomainError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn hire_with_resumes_adds_them_in_one_batch() -> Result<(), DomainError> {
        let mut uow = FakeHiringUow::default();
        uow.workers.expect_count().returning(|_| Ok(0));
        uow.workers.expect_add().returning(|w| {
            Ok(Worker {
                id: Some(WorkerId(5)),
                ..w
            })
        });
        uow.resumes
            .expect_add_all()
            .withf(|rs| {
                rs.len() == 2
                    && rs
                        .iter()
                        .all(|r| r.worker_id == WorkerId(5) && r.id.is_none())
            })
            .times(1)
            .returning(|rs| {
                Ok(rs
                    .into_iter()
                    .zip(10..)
                    .map(|(r, id)| Resume {
                        id: Some(ResumeId(id)),
                        ..r
                    })
                    .collect())
            });
        uow.tx.expect_commit().times(1).returning(|| Ok(()));
        let drafts = vec![
            NewResume::new("Rust Developer", Some(100), Workload::FullTime),
            NewResume::new("SQL Tuner", None, Workload::PartTime),
        ];
        let worker = hire_with_resumes(&mut uow, "Ann", drafts).await?;
        let ids: Vec<Option<ResumeId>> = worker
            .resumes
            .require("resumes")?
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, [Some(ResumeId(10)), Some(ResumeId(11))]);
        Ok(())
    }

    #[tokio::test]
    async fn a_bad_resume_means_no_hire() {
        let mut uow = FakeHiringUow::default();
        uow.workers.expect_count().returning(|_| Ok(0));
        uow.workers.expect_add().returning(|w| {
            Ok(Worker {
                id: Some(WorkerId(5)),
                ..w
            })
        });
        uow.resumes.expect_add_all().never();
        uow.tx.expect_commit().never();
        uow.tx.expect_rollback().times(1).returning(|| Ok(()));
        let drafts = vec![NewResume::new("", None, Workload::FullTime)];
        let err = hire_with_resumes(&mut uow, "Ann", drafts).await;
        assert!(matches!(err, Err(DomainError::Invalid(_))));
    }

    fn with_resumes(id: WorkerId, resumes: Vec<Resume>) -> Worker {
        Worker {
            resumes: Related::Loaded(resumes),
            ..stored_worker(id, "Vlad")
        }
    }

    #[tokio::test]
    async fn add_resume_loads_the_existing_ones_first() -> Result<(), DomainError> {
        let mut uow = FakeHiringUow::default();
        uow.workers
            .expect_get_with()
            .withf(|_, load| load.len() == 1 && load[0].path() == "resumes")
            .times(1)
            .returning(|id, _| {
                Ok(Some(with_resumes(
                    *id,
                    vec![resume(1, 3, "Python Developer", Some(10))],
                )))
            });
        uow.resumes
            .expect_add()
            .withf(|r| r.worker_id == WorkerId(3) && r.title == "Rust Developer")
            .times(1)
            .returning(|r| {
                Ok(Resume {
                    id: Some(ResumeId(2)),
                    ..r
                })
            });
        uow.tx.expect_commit().times(1).returning(|| Ok(()));
        let draft = NewResume::new("Rust Developer", Some(20), Workload::PartTime);
        let stored = add_resume(&mut uow, WorkerId(3), draft).await?;
        assert_eq!(stored.id, Some(ResumeId(2)));
        Ok(())
    }

    #[tokio::test]
    async fn add_resume_refuses_a_duplicate_title() {
        let mut uow = FakeHiringUow::default();
        uow.workers.expect_get_with().returning(|id, _| {
            Ok(Some(with_resumes(
                *id,
                vec![resume(1, 3, "Rust Developer", None)],
            )))
        });
        uow.resumes.expect_add().never();
        uow.tx.expect_rollback().times(1).returning(|| Ok(()));
        let draft = NewResume::new("Rust Developer", None, Workload::PartTime);
        let err = add_resume(&mut uow, WorkerId(3), draft).await;
        assert!(matches!(err, Err(DomainError::Invalid(m)) if m.contains("already has a resume")));
    }

    #[tokio::test]
    async fn add_resume_to_a_missing_worker_is_not_found() {
        let mut uow = FakeHiringUow::default();
        uow.workers.expect_get_with().returning(|_, _| Ok(None));
        uow.resumes.expect_add().never();
        uow.tx.expect_rollback().times(1).returning(|| Ok(()));
        let draft = NewResume::new("Rust Developer", None, Workload::PartTime);
        let err = add_resume(&mut uow, WorkerId(9), draft).await;
        assert!(err.is_err_and(|e| e.is_not_found()));
    }

    #[tokio::test]
    async fn raise_stores_the_new_compensation() -> Result<(), DomainError> {
        let mut uow = FakeHiringUow::default();
        uow.resumes
            .expect_get_one()
            .returning(|id| Ok(resume(id.0, 1, "Dev", Some(1000))));
        uow.resumes
            .expect_add()
            .withf(|r| r.compensation == Some(1100))
            .times(1)
            .returning(Ok);
        uow.tx.expect_commit().times(1).returning(|| Ok(()));
        assert_eq!(
            raise_compensation(&mut uow, ResumeId(4), 10)
                .await?
                .compensation,
            Some(1100)
        );
        Ok(())
    }

    #[tokio::test]
    async fn raise_refuses_too_much() {
        let mut uow = FakeHiringUow::default();
        uow.resumes
            .expect_get_one()
            .returning(|id| Ok(resume(id.0, 1, "Dev", Some(1000))));
        uow.resumes.expect_add().never();
        uow.tx.expect_rollback().times(1).returning(|| Ok(()));
        assert!(raise_compensation(&mut uow, ResumeId(4), 90).await.is_err());
    }

    #[tokio::test]
    async fn a_failed_commit_is_reported() {
        let mut uow = FakeHiringUow::default();
        uow.workers
            .expect_get_one()
            .returning(|id| Ok(stored_worker(*id, "Vlad")));
        uow.workers.expect_remove().times(1).returning(|_| Ok(()));
        uow.tx
            .expect_commit()
            .times(1)
            .returning(|| Err(DomainError::unavailable("connection lost")));
        let err = dismiss(&mut uow, WorkerId(1)).await;
        assert!(err.is_err_and(|e| e.is_retryable()));
    }

    #[tokio::test]
    async fn roster_loads_resumes_with_one_plan() -> Result<(), DomainError> {
        let mut uow = FakeHiringUow::default();
        uow.workers
            .expect_list_with()
            .withf(|spec, load| {
                spec.order_by.len() == 1
                    && load.len() == 1
                    && load[0].path() == "resumes"
                    && load[0].strategy() == LoadStrategy::SelectIn
            })
            .times(1)
            .returning(|_, _| {
                Ok(vec![
                    with_resumes(WorkerId(1), Vec::new()),
                    with_resumes(
                        WorkerId(2),
                        vec![resume(7, 2, "Dev", None), resume(8, 2, "Ops", None)],
                    ),
                ])
            });
        uow.resumes.expect_list().never();
        uow.tx.expect_commit().times(1).returning(|| Ok(()));
        let workers = roster(&mut uow).await?;
        assert_eq!(workers[0].resumes, Related::Loaded(Vec::new()));
        assert_eq!(workers[1].resumes.require("resumes")?.len(), 2);
        Ok(())
    }
}
