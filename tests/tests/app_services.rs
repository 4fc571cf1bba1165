//! The example service's services, repositories and demo on every backend:
//! the same code the unit tests run on mocks, here on SQLite, PostgreSQL and
//! MySQL/MariaDB through `SqlUnitOfWork` and `SqlRepository`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use app_domain::hiring::{NewResume, Resume, Worker, Workload};
use app_domain::publishing::{Post, Publisher, Tag};
use app_domain::{PublisherId, WorkerId};
use app_example::demo;
use app_example::repositories::{HiringUow, PublishingUow, SqlHiringUow, SqlPublishingUow};
use app_example::services::{hiring, publishing, reports};
use domain::{DomainError, ListSpec, Load, Related, Relation, UnitOfWork};
use persistence::orm::SessionMaker;
use persistence::EngineOptions;
use tests::capture::SqlLog;
use tests::{on_all_backends, TestDb};

async fn sessions(db: &TestDb) -> SessionMaker {
    demo::prepare(db.engine.clone()).await.unwrap()
}

fn draft(title: &str, compensation: Option<i32>, workload: Workload) -> NewResume {
    NewResume::new(title, compensation, workload)
}

async fn demo_prints_the_three_tables(db: TestDb) {
    let sessions = sessions(&db).await;
    let text = demo::run(&sessions).await.unwrap();
    for expected in [
        "Hiring Vlad twice: conflict: a worker named `Vlad` is already hired",
        "| 1         | Vlad    | Python Junior Developer | 55000        | fulltime |",
        "| 3         | O'Brien | Rust Developer          | 280000       | parttime |",
        "| 2  | Ann     | 300000       | 131667            |",
        "| 1  | Vlad    | 55000        | -113333           |",
        "| O'Reilly  | Programming Rust                  | published | rust, systems |",
        "| Manning   | Database Internals, 2nd ed.       | draft     |               |",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    drop(sessions);
    db.close().await;
}

async fn hire_with_resumes_and_add_more(db: TestDb) {
    let sessions = sessions(&db).await;
    let mut uow = SqlHiringUow::new(&sessions);
    let vlad = hiring::hire_with_resumes(
        &mut uow,
        "Vlad",
        vec![
            draft("Python Developer", Some(150_000), Workload::FullTime),
            draft("Rust Developer", None, Workload::PartTime),
        ],
    )
    .await
    .unwrap();
    let vlad_id = vlad.id.expect("a generated id");
    let resumes = vlad.resumes.require("resumes").unwrap();
    assert!(resumes
        .iter()
        .all(|r| r.id.is_some() && r.worker_id == vlad_id));
    assert!(
        resumes
            .iter()
            .all(|r| r.created_at.is_some() && r.updated_at.is_some()),
        "server defaults written back: {resumes:?}"
    );

    let added = hiring::add_resume(
        &mut uow,
        vlad_id,
        draft("DBA", Some(90_000), Workload::FullTime),
    )
    .await
    .unwrap();
    assert!(added.id.is_some());

    // The domain rule (duplicate title) refuses, and nothing is written.
    let again = hiring::add_resume(&mut uow, vlad_id, draft("DBA", None, Workload::PartTime)).await;
    assert!(
        matches!(again, Err(DomainError::Invalid(ref m)) if m.contains("already has")),
        "{again:?}"
    );
    let missing = hiring::add_resume(
        &mut uow,
        WorkerId(9_999),
        draft("X", None, Workload::PartTime),
    )
    .await;
    assert!(missing.unwrap_err().is_not_found());

    let roster = hiring::roster(&mut uow).await.unwrap();
    assert_eq!(roster.len(), 1);
    let titles: Vec<&str> = roster[0]
        .resumes
        .require("resumes")
        .unwrap()
        .iter()
        .map(|r| r.title.as_str())
        .collect();
    assert_eq!(titles, ["Python Developer", "Rust Developer", "DBA"]);
    drop(uow);
    drop(sessions);
    db.close().await;
}

async fn a_taken_name_is_a_conflict_and_changes_nothing(db: TestDb) {
    let sessions = sessions(&db).await;
    let mut uow = SqlHiringUow::new(&sessions);
    hiring::hire(&mut uow, "Vlad").await.unwrap();
    let twice = hiring::hire(&mut uow, "Vlad").await;
    assert!(matches!(twice, Err(DomainError::Conflict(_))), "{twice:?}");

    // Past the service's check, the unique constraint answers: Conflict
    // from the database, mapped by the repository, and the unit of work is
    // usable after its rollback.
    let dup = uow.workers().add(Worker::new("Vlad").unwrap()).await;
    assert!(
        matches!(dup, Err(DomainError::Conflict(ref m)) if m.contains("worker")),
        "{dup:?}"
    );
    uow.rollback().await.unwrap();
    let ann = hiring::hire(&mut uow, "Ann").await.unwrap();
    assert!(ann.id.is_some());
    assert_eq!(uow.workers().count(&ListSpec::new()).await.unwrap(), 2);
    uow.commit().await.unwrap();
    drop(uow);
    drop(sessions);
    db.close().await;
}

async fn raise_and_compensation_report(db: TestDb) {
    let sessions = sessions(&db).await;
    let mut uow = SqlHiringUow::new(&sessions);
    let vlad = hiring::hire_with_resumes(
        &mut uow,
        "Vlad",
        vec![
            draft("Junior", Some(100), Workload::FullTime),
            draft("Senior", Some(300), Workload::FullTime),
        ],
    )
    .await
    .unwrap();
    let ann = hiring::hire_with_resumes(
        &mut uow,
        "Ann",
        vec![
            draft("Part", Some(50), Workload::PartTime),
            draft("Unstated", None, Workload::PartTime),
        ],
    )
    .await
    .unwrap();
    let junior = vlad.resumes.require("resumes").unwrap()[0].id.unwrap();
    let raised = hiring::raise_compensation(&mut uow, junior, 50)
        .await
        .unwrap();
    assert_eq!(raised.compensation, Some(150));
    let too_much = hiring::raise_compensation(&mut uow, junior, 80).await;
    assert!(matches!(too_much, Err(DomainError::Invalid(_))));
    let stored = uow.resumes().get_one(&junior).await.unwrap();
    assert_eq!(
        stored.compensation,
        Some(150),
        "the refused raise changed nothing"
    );
    uow.commit().await.unwrap();

    // fulltime: 150 and 300 (avg 225); parttime: 50 and NULL (avg 50).
    let lines = reports::compensation_report(&mut uow).await.unwrap();
    let got: Vec<(&str, Option<i64>, Option<i64>)> = lines
        .iter()
        .map(|l| (l.name.as_str(), l.compensation, l.compensation_diff))
        .filter(|l| l.2.is_some())
        .collect();
    assert_eq!(
        got,
        [
            ("Vlad", Some(300), Some(75)),
            ("Ann", Some(50), Some(0)),
            ("Vlad", Some(150), Some(-75)),
        ]
    );
    assert_eq!(
        lines.len(),
        4,
        "the resume without compensation is listed too"
    );
    assert!(lines
        .iter()
        .any(|l| l.worker_id == ann.id.unwrap() && l.compensation.is_none()));
    let below: Vec<i64> = reports::below_average(&lines)
        .iter()
        .filter_map(|l| l.compensation)
        .collect();
    assert_eq!(below, [150]);
    drop(uow);
    drop(sessions);
    db.close().await;
}

async fn dismissing_a_worker_cascades_to_resumes(db: TestDb) {
    let sessions = sessions(&db).await;
    let mut uow = SqlHiringUow::new(&sessions);
    let vlad = hiring::hire_with_resumes(
        &mut uow,
        "Vlad",
        vec![
            draft("A", None, Workload::FullTime),
            draft("B", None, Workload::FullTime),
        ],
    )
    .await
    .unwrap();
    let ann =
        hiring::hire_with_resumes(&mut uow, "Ann", vec![draft("C", None, Workload::PartTime)])
            .await
            .unwrap();
    assert_eq!(uow.resumes().count(&ListSpec::new()).await.unwrap(), 3);
    hiring::dismiss(&mut uow, vlad.id.unwrap()).await.unwrap();
    let left = uow.resumes().list(&ListSpec::new()).await.unwrap();
    assert_eq!(
        left.iter().map(|r| r.title.as_str()).collect::<Vec<_>>(),
        ["C"]
    );
    let gone = hiring::dismiss(&mut uow, vlad.id.unwrap()).await;
    assert!(gone.unwrap_err().is_not_found());
    uow.commit().await.unwrap();

    // Delete-orphan: a resume taken off a loaded `resumes` is deleted when
    // the worker is stored (its foreign key cannot be NULL).
    let mut ann = uow
        .workers()
        .get_with(&ann.id.unwrap(), &[Load::selectin(Worker::RESUMES)])
        .await
        .unwrap()
        .unwrap();
    ann.resumes.require_mut("resumes").unwrap().clear();
    uow.workers().add(ann).await.unwrap();
    uow.commit().await.unwrap();
    assert_eq!(uow.resumes().count(&ListSpec::new()).await.unwrap(), 0);
    assert_eq!(uow.workers().count(&ListSpec::new()).await.unwrap(), 1);
    uow.commit().await.unwrap();
    drop(uow);
    drop(sessions);
    db.close().await;
}

async fn publish_and_tag_posts(db: TestDb) {
    let sessions = sessions(&db).await;
    let mut uow = SqlPublishingUow::new(&sessions);
    let manning = publishing::found_publisher(&mut uow, "Manning")
        .await
        .unwrap();
    let manning_id = manning.id.unwrap();
    let taken = publishing::found_publisher(&mut uow, "Manning").await;
    assert!(matches!(taken, Err(DomainError::Conflict(_))));

    let post = publishing::draft_post(&mut uow, manning_id, "Rust in Action")
        .await
        .unwrap();
    let post_id = post.id.unwrap();
    assert!(post.draft && post.created_at.is_some());
    let dup = publishing::draft_post(&mut uow, manning_id, "Rust in Action").await;
    assert!(matches!(dup, Err(DomainError::Invalid(_))), "{dup:?}");

    let published = publishing::publish_post(&mut uow, manning_id, post_id)
        .await
        .unwrap();
    assert!(published.is_published());
    let stored = uow.posts().get_one(&post_id).await.unwrap();
    assert!(!stored.draft);
    assert_eq!(
        stored.published_at, published.published_at,
        "stored to the second"
    );
    let twice = publishing::publish_post(&mut uow, manning_id, post_id).await;
    assert!(matches!(twice, Err(DomainError::Invalid(_))));

    let tags = publishing::tag_post(&mut uow, post_id, &["Rust", "systems"])
        .await
        .unwrap();
    assert_eq!(names(&tags), ["rust", "systems"]);
    // Again, with one more: existing links are kept, no duplicate rows.
    let tags = publishing::tag_post(&mut uow, post_id, &["rust", "orm"])
        .await
        .unwrap();
    assert_eq!(names(&tags), ["orm", "rust", "systems"]);
    assert_eq!(uow.tags().count(&ListSpec::new()).await.unwrap(), 3);
    let reloaded = uow
        .posts()
        .get_with(&post_id, &[Load::selectin(Post::TAGS)])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(names(reloaded.tags.require("tags").unwrap()).len(), 3);
    // A tag taken off the loaded collection: the many-to-many relationship
    // deletes its association row, and the tag itself stays.
    let mut untagged = reloaded;
    untagged
        .tags
        .require_mut("tags")
        .unwrap()
        .retain(|t| t.name != "orm");
    uow.posts().add(untagged).await.unwrap();
    let after = uow
        .posts()
        .get_with(&post_id, &[Load::selectin(Post::TAGS)])
        .await
        .unwrap()
        .unwrap();
    let mut left = names(after.tags.require("tags").unwrap());
    left.sort();
    assert_eq!(left, ["rust", "systems"]);
    assert_eq!(uow.tags().count(&ListSpec::new()).await.unwrap(), 3);
    uow.rollback().await.unwrap();

    let oreilly = publishing::found_publisher(&mut uow, "O'Reilly")
        .await
        .unwrap();
    publishing::draft_post(&mut uow, oreilly.id.unwrap(), "Programming Rust")
        .await
        .unwrap();
    let catalogue = publishing::catalogue(&mut uow).await.unwrap();
    let summary: Vec<(String, Vec<PostTags>)> = catalogue
        .iter()
        .map(|p| {
            let posts = p.posts.require("posts").unwrap();
            (
                p.name.clone(),
                posts
                    .iter()
                    .map(|post| {
                        (
                            post.title.clone(),
                            names(post.tags.require("tags").unwrap()),
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "Manning".to_owned(),
                vec![(
                    "Rust in Action".to_owned(),
                    strings(&["orm", "rust", "systems"])
                )]
            ),
            (
                "O'Reilly".to_owned(),
                vec![("Programming Rust".to_owned(), Vec::new())]
            ),
        ]
    );

    // The seed's get_with_posts.
    let with_posts = uow.publishers().get_with_posts(manning_id).await.unwrap();
    assert_eq!(with_posts.posts.require("posts").unwrap().len(), 1);
    let missing = uow.publishers().get_with_posts(PublisherId(9_999)).await;
    assert!(missing.unwrap_err().is_not_found());
    uow.commit().await.unwrap();
    drop(uow);
    drop(sessions);
    db.close().await;
}

/// A post's title and its tag names.
type PostTags = (String, Vec<String>);

fn names(tags: &[Tag]) -> Vec<String> {
    tags.iter().map(|t| t.name.clone()).collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The generic repository's `ListSpec` translation against real data.
async fn list_specs_count_and_pages(db: TestDb) {
    let sessions = sessions(&db).await;
    let mut uow = SqlHiringUow::new(&sessions);
    hiring::hire_with_resumes(
        &mut uow,
        "Vlad",
        vec![
            draft("Python Junior Developer", Some(50_000), Workload::FullTime),
            draft("Python Developer", Some(150_000), Workload::FullTime),
            draft("Data Scientist", None, Workload::PartTime),
        ],
    )
    .await
    .unwrap();
    hiring::hire_with_resumes(
        &mut uow,
        "Ann",
        vec![
            draft("Rust Developer", Some(280_000), Workload::PartTime),
            draft("Python Data Engineer", Some(250_000), Workload::PartTime),
        ],
    )
    .await
    .unwrap();
    let resumes = uow.resumes();
    let titles = |rs: Vec<Resume>| rs.into_iter().map(|r| r.title).collect::<Vec<_>>();

    let spec = ListSpec::new()
        .filter_like("title", "Python%")
        .filter_ge("compensation", 100_000)
        .order_by_desc("compensation");
    assert_eq!(
        titles(resumes.list(&spec).await.unwrap()),
        ["Python Data Engineer", "Python Developer"]
    );
    let nulls = ListSpec::new().filter_eq("compensation", None::<i32>);
    assert_eq!(
        titles(resumes.list(&nulls).await.unwrap()),
        ["Data Scientist"]
    );
    let not_null = ListSpec::new().filter_ne("compensation", None::<i32>);
    assert_eq!(resumes.count(&not_null).await.unwrap(), 4);
    let none = ListSpec::new().filter_in("id", Vec::<i64>::new());
    assert!(resumes.list(&none).await.unwrap().is_empty());
    assert_eq!(resumes.count(&none).await.unwrap(), 0);
    let all = ListSpec::new().filter_not_in("id", Vec::<i64>::new());
    assert_eq!(resumes.count(&all).await.unwrap(), 5);
    let part = ListSpec::new()
        .filter_eq("workload", "parttime")
        .order_by_asc("title");
    assert_eq!(
        titles(resumes.list(&part).await.unwrap()),
        ["Data Scientist", "Python Data Engineer", "Rust Developer"]
    );
    let today = ListSpec::new().filter_ge("created_at", "2000-01-01T00:00:00");
    assert_eq!(resumes.count(&today).await.unwrap(), 5);

    // Paging: offset without limit too.
    let by_id = ListSpec::new().order_by_asc("id");
    let page = resumes.page(&by_id.clone().page(2, 2)).await.unwrap();
    assert_eq!(
        (page.items.len(), page.total, page.number(), page.pages()),
        (2, 5, Some(2), Some(3))
    );
    assert!(page.has_next());
    let tail = resumes.list(&by_id.clone().offset(3)).await.unwrap();
    assert_eq!(tail.len(), 2);

    // Unknown names and misfit values are Invalid, before any SQL.
    for bad in [
        ListSpec::new().filter_eq("salary", 1),
        ListSpec::new().order_by_asc("worker"),
        ListSpec::new().filter_eq("workload", "contract"),
        ListSpec::new().filter_eq("compensation", "a lot"),
        ListSpec::new().filter_ge("created_at", "yesterday"),
    ] {
        let err = resumes.list(&bad).await;
        assert!(
            matches!(err, Err(DomainError::Invalid(_))),
            "{bad:?} gave {err:?}"
        );
    }
    // Load plans name the mapping's relationships; a name it does not
    // have is Invalid, before any SQL.
    let vlad = uow
        .workers()
        .get_with(&WorkerId(1), &[Load::selectin(Worker::RESUMES)])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(vlad.resumes.require("resumes").unwrap().len(), 3);
    const CVS: Relation<Worker> = Relation::new("cvs");
    let err = uow
        .workers()
        .get_with(&WorkerId(1), &[Load::selectin(CVS)])
        .await;
    assert!(
        matches!(err, Err(DomainError::Invalid(ref m)) if m.contains("cvs")),
        "{err:?}"
    );
    uow.commit().await.unwrap();
    drop(uow);
    drop(sessions);
    db.close().await;
}

/// Unit-of-work semantics through the ports: rollback discards, a failed
/// flush leaves the unit of work usable after rollback, entities are
/// values whose changes reach the database through `add`.
async fn unit_of_work_rollback_and_updates(db: TestDb) {
    let sessions = sessions(&db).await;
    let mut uow = SqlPublishingUow::new(&sessions);
    let publisher = uow
        .publishers()
        .add(Publisher::new("Manning").unwrap())
        .await
        .unwrap();
    uow.rollback().await.unwrap();
    assert_eq!(uow.publishers().count(&ListSpec::new()).await.unwrap(), 0);
    assert!(uow
        .publishers()
        .get(&publisher.id.unwrap())
        .await
        .unwrap()
        .is_none());

    // A post pointing at no publisher: the foreign key refuses at flush.
    let orphan = Post {
        id: None,
        title: "Orphan".into(),
        draft: true,
        publisher_id: PublisherId(9_999),
        created_at: None,
        published_at: None,
        tags: Related::NotLoaded,
    };
    let err = uow.posts().add(orphan).await;
    assert!(matches!(err, Err(DomainError::Invalid(_))), "{err:?}");
    uow.rollback().await.unwrap();

    // Update: a loaded entity changed and added again.
    let mut manning = uow
        .publishers()
        .add(Publisher::new("Manning").unwrap())
        .await
        .unwrap();
    uow.commit().await.unwrap();
    manning.name = "Manning Publications".into();
    uow.publishers().add(manning.clone()).await.unwrap();
    uow.commit().await.unwrap();
    let found = uow
        .publishers()
        .list(&ListSpec::new().filter_like("name", "Manning%"))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, "Manning Publications");
    assert_eq!(
        found[0].posts,
        Related::NotLoaded,
        "relations are not loaded by default"
    );

    // remove(): a never-stored entity is Invalid; a stored one goes.
    let unsaved = Publisher::new("Nobody").unwrap();
    assert!(matches!(
        uow.publishers().remove(&unsaved).await,
        Err(DomainError::Invalid(_))
    ));
    uow.publishers().remove(&found[0]).await.unwrap();
    uow.commit().await.unwrap();
    assert_eq!(uow.publishers().count(&ListSpec::new()).await.unwrap(), 0);
    uow.commit().await.unwrap();
    drop(uow);
    drop(sessions);
    db.close().await;
}

/// Relations load one statement per level, whatever the number of rows:
/// `get_with_posts` (the seed's selectinload) is two statements, the
/// catalogue (publishers, posts, tags) three, on every backend.
async fn relations_load_in_a_bounded_number_of_statements(db: TestDb) {
    let backend = db.backend;
    db.close().await;
    let db = TestDb::with_options(
        backend,
        "app_bounded_loads",
        EngineOptions::default().echo(true),
    )
    .await;
    let sessions = sessions(&db).await;
    let mut uow = SqlPublishingUow::new(&sessions);
    let mut publisher_ids = Vec::new();
    for p in 0..3 {
        let publisher = publishing::found_publisher(&mut uow, &format!("Publisher {p}"))
            .await
            .unwrap();
        let publisher_id = publisher.id.unwrap();
        publisher_ids.push(publisher_id);
        for n in 0..4 {
            let post = publishing::draft_post(&mut uow, publisher_id, &format!("Post {p}.{n}"))
                .await
                .unwrap();
            let tags = [format!("tag-{n}"), format!("p{p}"), "all".to_owned()];
            let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
            publishing::tag_post(&mut uow, post.id.unwrap(), &tags)
                .await
                .unwrap();
        }
    }

    let (log, _guard) = SqlLog::start();
    let selects = |statements: &[String]| {
        statements
            .iter()
            .filter(|s| s.starts_with("SELECT") || s.starts_with("WITH"))
            .count()
    };

    let publisher = uow
        .publishers()
        .get_with_posts(publisher_ids[1])
        .await
        .unwrap();
    let statements = log.take();
    assert_eq!(statements.len(), 2, "publisher, posts: {statements:#?}");
    let posts = publisher.posts.require("posts").unwrap();
    assert_eq!(posts.len(), 4);
    assert!(posts.iter().all(|p| p.tags == Related::NotLoaded));

    let plan = Load::selectin(Publisher::POSTS).then(Load::selectin(Post::TAGS));
    let publisher = uow
        .publishers()
        .get_with(&publisher_ids[2], &[plan])
        .await
        .unwrap()
        .unwrap();
    let statements = log.take();
    assert_eq!(
        statements.len(),
        3,
        "publisher, posts, tags: {statements:#?}"
    );
    for post in publisher.posts.require("posts").unwrap() {
        assert_eq!(post.tags.require("tags").unwrap().len(), 3, "{post:?}");
    }

    let catalogue = publishing::catalogue(&mut uow).await.unwrap();
    let statements = log.take();
    assert_eq!(
        selects(&statements),
        3,
        "publishers, posts, tags: {statements:#?}"
    );
    assert!(statements.len() <= 4, "and the commit: {statements:#?}");
    assert_eq!(catalogue.len(), 3);
    for publisher in &catalogue {
        let posts = publisher.posts.require("posts").unwrap();
        assert_eq!(posts.len(), 4);
        for post in posts {
            let tags = names(post.tags.require("tags").unwrap());
            let mut sorted = tags.clone();
            sorted.sort();
            assert_eq!(tags, sorted, "tags by name");
            assert_eq!(tags.len(), 3);
        }
    }
    drop(uow);
    drop(sessions);
    db.close().await;
}

on_all_backends!(
    demo_prints_the_three_tables,
    hire_with_resumes_and_add_more,
    a_taken_name_is_a_conflict_and_changes_nothing,
    raise_and_compensation_report,
    dismissing_a_worker_cascades_to_resumes,
    publish_and_tag_posts,
    list_specs_count_and_pages,
    unit_of_work_rollback_and_updates,
    relations_load_in_a_bounded_number_of_statements
);
