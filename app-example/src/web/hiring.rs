//! Handlers of the hiring context: workers, resumes, the compensation
//! report. Each runs the services on the request's unit of work; the
//! layer commits when it answers 2xx.

use axum::http::StatusCode;
use axum::Json;
use domain::{DomainError, ListSpec, Load};
use persistence::web::{ApiError, ApiJson, RequestUow};

use super::dto::{
    CompensationJson, NewResumeJson, NewWorker, PageJson, Raise, ResumeJson, ResumePatch,
    WorkerJson, WorkerPatch,
};
use super::extract::{Id, Paging};
use crate::repositories::{HiringUow, SqlHiringUow};
use crate::services::{hiring, reports};
use app_domain::hiring::{Resume, Skills, Worker};
use app_domain::{ResumeId, WorkerId};

type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

/// `POST /workers`: hires a worker, with their first resumes.
pub async fn create_worker(
    RequestUow(uow): RequestUow,
    ApiJson(body): ApiJson<NewWorker>,
) -> Created<WorkerJson> {
    let mut uow = SqlHiringUow::on(uow);
    let drafts = body
        .resumes
        .into_iter()
        .map(NewResumeJson::into_draft)
        .collect::<Result<Vec<_>, _>>()?;
    let worker = hiring::hire_with_resumes(&mut uow, &body.name, drafts).await?;
    Ok((StatusCode::CREATED, Json(WorkerJson::from(&worker))))
}

/// `GET /workers?page=&per_page=`: workers by id (resumes not loaded).
pub async fn list_workers(
    RequestUow(uow): RequestUow,
    paging: Paging,
) -> Result<Json<PageJson<WorkerJson>>, ApiError> {
    let uow = SqlHiringUow::on(uow);
    let page = uow.workers().page(&paging.spec()).await?;
    Ok(Json(PageJson::of(page, |e| WorkerJson::from(e))))
}

async fn worker_with_resumes(uow: &SqlHiringUow, id: WorkerId) -> Result<Worker, DomainError> {
    uow.workers()
        .get_with(&id, &[Load::selectin(Worker::RESUMES)])
        .await?
        .ok_or_else(|| DomainError::not_found::<Worker>(&id))
}

/// `GET /workers/{id}`: a worker with their resumes.
pub async fn get_worker(
    RequestUow(uow): RequestUow,
    Id(id): Id,
) -> Result<Json<WorkerJson>, ApiError> {
    let uow = SqlHiringUow::on(uow);
    let worker = worker_with_resumes(&uow, WorkerId(id)).await?;
    Ok(Json(WorkerJson::from(&worker)))
}

/// `PATCH /workers/{id}`: renames a worker (names are unique: 409).
pub async fn update_worker(
    RequestUow(uow): RequestUow,
    Id(id): Id,
    ApiJson(body): ApiJson<WorkerPatch>,
) -> Result<Json<WorkerJson>, ApiError> {
    let uow = SqlHiringUow::on(uow);
    let mut worker = uow.workers().get_one(&WorkerId(id)).await?;
    worker.rename(&body.name)?;
    let spec = ListSpec::new()
        .filter_eq("name", worker.name.clone())
        .filter_ne("id", id);
    if uow.workers().count(&spec).await? > 0 {
        return Err(DomainError::conflict(format!(
            "a worker named `{}` is already hired",
            worker.name
        ))
        .into());
    }
    let worker = uow.workers().add(worker).await?;
    Ok(Json(WorkerJson::from(&worker)))
}

/// `DELETE /workers/{id}`: dismisses a worker, and their resumes with them.
pub async fn delete_worker(
    RequestUow(uow): RequestUow,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    hiring::dismiss(&mut SqlHiringUow::on(uow), WorkerId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /workers/{id}/resumes`: adds a resume (the aggregate's rules).
pub async fn add_resume(
    RequestUow(uow): RequestUow,
    Id(id): Id,
    ApiJson(body): ApiJson<NewResumeJson>,
) -> Created<ResumeJson> {
    let draft = body.into_draft()?;
    let resume = hiring::add_resume(&mut SqlHiringUow::on(uow), WorkerId(id), draft).await?;
    Ok((StatusCode::CREATED, Json(ResumeJson::from(&resume))))
}

/// `GET /resumes?page=&per_page=`: resumes by id.
pub async fn list_resumes(
    RequestUow(uow): RequestUow,
    paging: Paging,
) -> Result<Json<PageJson<ResumeJson>>, ApiError> {
    let uow = SqlHiringUow::on(uow);
    let page = uow.resumes().page(&paging.spec()).await?;
    Ok(Json(PageJson::of(page, |e| ResumeJson::from(e))))
}

/// `GET /resumes/{id}`.
pub async fn get_resume(
    RequestUow(uow): RequestUow,
    Id(id): Id,
) -> Result<Json<ResumeJson>, ApiError> {
    let uow = SqlHiringUow::on(uow);
    let resume: Resume = uow.resumes().get_one(&ResumeId(id)).await?;
    Ok(Json(ResumeJson::from(&resume)))
}

/// `PATCH /resumes/{id}`: title (unique per worker), compensation,
/// workload, skills.
pub async fn update_resume(
    RequestUow(uow): RequestUow,
    Id(id): Id,
    ApiJson(body): ApiJson<ResumePatch>,
) -> Result<Json<ResumeJson>, ApiError> {
    let uow = SqlHiringUow::on(uow);
    let id = ResumeId(id);
    let mut resume = uow.resumes().get_one(&id).await?;
    if let Some(title) = &body.title {
        let mut worker = worker_with_resumes(&uow, resume.worker_id).await?;
        resume = worker.retitle_resume(id, title)?;
    }
    if let Some(compensation) = body.compensation {
        resume.set_compensation(Some(compensation))?;
    }
    if let Some(workload) = body.workload {
        resume.workload = workload.into();
    }
    if let Some(skills) = &body.skills {
        resume.skills = Skills::new(skills)?;
    }
    let resume = uow.resumes().add(resume).await?;
    Ok(Json(ResumeJson::from(&resume)))
}

/// `DELETE /resumes/{id}`.
pub async fn delete_resume(
    RequestUow(uow): RequestUow,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    let uow = SqlHiringUow::on(uow);
    let resume = uow.resumes().get_one(&ResumeId(id)).await?;
    uow.resumes().remove(&resume).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /resumes/{id}/raise`: raises the compensation by `pct` percent.
pub async fn raise(
    RequestUow(uow): RequestUow,
    Id(id): Id,
    ApiJson(body): ApiJson<Raise>,
) -> Result<Json<ResumeJson>, ApiError> {
    let resume =
        hiring::raise_compensation(&mut SqlHiringUow::on(uow), ResumeId(id), body.pct).await?;
    Ok(Json(ResumeJson::from(&resume)))
}

/// `GET /reports/compensation`: the seed's analytic query.
pub async fn compensation_report(
    RequestUow(uow): RequestUow,
) -> Result<Json<Vec<CompensationJson>>, ApiError> {
    let lines = reports::compensation_report(&mut SqlHiringUow::on(uow)).await?;
    Ok(Json(lines.iter().map(CompensationJson::from).collect()))
}
