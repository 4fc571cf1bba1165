//! The demo that `cargo run -p app-example` prints: the services at work on
//! a fresh schema, and the results as text tables.

use persistence::orm::SessionMaker;
use persistence::Engine;

use crate::error::AppError;
use crate::mapping::start_mappers;
use crate::repositories::{SqlHiringUow, SqlPublishingUow};
use crate::services::{hiring, publishing, reports};
use crate::table::render_text;
use app_domain::hiring::{NewResume, Workload};

/// Maps the structs, brings their tables on `engine` to the mappings
/// (migrations for a file or server database, `drop_all` + `create_all`
/// in memory: [`crate::schema::prepare`]) with no rows, and returns a
/// session maker for them (the seed's `create_async_engine`,
/// `run_sync(create_all)` and `async_sessionmaker`).
pub async fn prepare(engine: Engine) -> Result<SessionMaker, AppError> {
    let mappers = start_mappers()?;
    crate::schema::prepare(&engine, &mappers).await?;
    Ok(SessionMaker::new(engine, mappers))
}

/// Runs the services on the (empty) schema of `sessions` and returns what
/// the demo prints.
pub async fn run(sessions: &SessionMaker) -> Result<String, AppError> {
    let mut out = String::new();
    hire_everyone(sessions, &mut out).await?;
    show_workers(sessions, &mut out).await?;
    show_report(sessions, &mut out).await?;
    publish_everything(sessions).await?;
    show_catalogue(sessions, &mut out).await?;
    Ok(out)
}

async fn hire_everyone(sessions: &SessionMaker, out: &mut String) -> Result<(), AppError> {
    use Workload::{FullTime, PartTime};
    let mut uow = SqlHiringUow::new(sessions);
    let vlad = hiring::hire_with_resumes(
        &mut uow,
        "Vlad",
        vec![
            NewResume::new("Python Junior Developer", Some(50_000), FullTime),
            NewResume::new("Python Developer", Some(150_000), FullTime),
        ],
    )
    .await?;
    hiring::hire_with_resumes(
        &mut uow,
        "Ann",
        vec![
            NewResume::new("Python Data Engineer", Some(250_000), PartTime),
            NewResume::new("Data Scientist", Some(300_000), FullTime),
        ],
    )
    .await?;
    let obrien = hiring::hire(&mut uow, "O'Brien").await?;
    if let Some(id) = obrien.id {
        let draft = NewResume::new("Rust Developer", Some(280_000), PartTime);
        hiring::add_resume(&mut uow, id, draft).await?;
    }
    // A rule at work: the name is taken, nothing is written.
    if let Err(e) = hiring::hire(&mut uow, "Vlad").await {
        out.push_str(&format!("Hiring Vlad twice: {e}\n\n"));
    }
    // Vlad's junior resume gets a 10% raise.
    let junior = vlad
        .resumes
        .get()
        .and_then(|rs| rs.first())
        .and_then(|r| r.id);
    if let Some(id) = junior {
        hiring::raise_compensation(&mut uow, id, 10).await?;
    }
    Ok(())
}

async fn show_workers(sessions: &SessionMaker, out: &mut String) -> Result<(), AppError> {
    let mut uow = SqlHiringUow::new(sessions);
    let workers = hiring::roster(&mut uow).await?;
    let mut cells = Vec::new();
    for w in &workers {
        let id = w.id.map(|i| i.to_string()).unwrap_or_default();
        let resumes = w.resumes.get().map(Vec::as_slice).unwrap_or_default();
        if resumes.is_empty() {
            cells.push(vec![
                id.clone(),
                w.name.clone(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
        for r in resumes {
            cells.push(vec![
                id.clone(),
                w.name.clone(),
                r.title.clone(),
                r.compensation.map(|c| c.to_string()).unwrap_or_default(),
                r.workload.to_string(),
            ]);
        }
    }
    let headers = ["worker_id", "worker", "resume", "compensation", "workload"];
    out.push_str(&render_text("Workers and their resumes", &headers, &cells));
    out.push('\n');
    Ok(())
}

async fn show_report(sessions: &SessionMaker, out: &mut String) -> Result<(), AppError> {
    let mut uow = SqlHiringUow::new(sessions);
    let lines = reports::compensation_report(&mut uow).await?;
    let text = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_else(|| "NULL".into());
    let cells: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            vec![
                l.worker_id.to_string(),
                l.name.clone(),
                text(l.compensation),
                text(l.compensation_diff),
            ]
        })
        .collect();
    let headers = ["id", "name", "compensation", "compensation_diff"];
    out.push_str(&render_text("Compensation report", &headers, &cells));
    out.push('\n');
    Ok(())
}

/// A post of the demo: title, whether to publish it, its tags.
type PostPlan = (&'static str, bool, &'static [&'static str]);

async fn publish_everything(sessions: &SessionMaker) -> Result<(), AppError> {
    let mut uow = SqlPublishingUow::new(sessions);
    let catalogue: [(&str, &[PostPlan]); 2] = [
        (
            "O'Reilly",
            &[
                ("Programming Rust", true, &["rust", "systems"]),
                (
                    "Architecture Patterns with Python",
                    true,
                    &["python", "ddd"],
                ),
                ("Async Rust", false, &["rust", "async"]),
            ],
        ),
        (
            "Manning",
            &[
                ("Rust in Action", true, &["rust"]),
                ("Database Internals, 2nd ed.", false, &[]),
            ],
        ),
    ];
    for (name, posts) in catalogue {
        let publisher = publishing::found_publisher(&mut uow, name).await?;
        let Some(publisher_id) = publisher.id else {
            continue;
        };
        for &(title, publish, tags) in posts {
            let post = publishing::draft_post(&mut uow, publisher_id, title).await?;
            let Some(post_id) = post.id else { continue };
            if publish {
                publishing::publish_post(&mut uow, publisher_id, post_id).await?;
            }
            if !tags.is_empty() {
                publishing::tag_post(&mut uow, post_id, tags).await?;
            }
        }
    }
    Ok(())
}

async fn show_catalogue(sessions: &SessionMaker, out: &mut String) -> Result<(), AppError> {
    let mut uow = SqlPublishingUow::new(sessions);
    let publishers = publishing::catalogue(&mut uow).await?;
    let mut cells = Vec::new();
    for p in &publishers {
        for post in p.posts.get().map(Vec::as_slice).unwrap_or_default() {
            let tags: Vec<&str> = post
                .tags
                .get()
                .map(|ts| ts.iter().map(|t| t.name.as_str()).collect())
                .unwrap_or_default();
            let status = if post.is_published() {
                "published"
            } else {
                "draft"
            };
            cells.push(vec![
                p.name.clone(),
                post.title.clone(),
                status.to_owned(),
                tags.join(", "),
            ]);
        }
    }
    let headers = ["publisher", "post", "status", "tags"];
    out.push_str(&render_text("Publishers, posts and tags", &headers, &cells));
    Ok(())
}
