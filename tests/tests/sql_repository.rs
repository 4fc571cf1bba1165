//! `SqlRepository<T>` and `SqlUnitOfWork` through the domain's ports on
//! every backend: load plans (`get_with` / `list_with`) turned into the
//! ORM's loaders with statements counted, plan validation, repositories of
//! one unit of work polled concurrently, composite keys, and commit /
//! rollback semantics.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::{DomainError, Entity, ListSpec, Load, Related, Relation, Repository, UnitOfWork};
use persistence::dialects::{Column, ReferentialAction, SqlType, Table};
use persistence::orm::{Mappers, Registry, RelOptions, RelationshipDef, SessionMaker};
use persistence::{mapping, EngineOptions, SchemaExt, SqlUnitOfWork};
use tests::capture::SqlLog;
use tests::{on_all_backends, TestBackend, TestDb};

#[derive(Debug, Clone, PartialEq)]
struct Publisher {
    id: Option<i64>,
    name: String,
    posts: Related<Vec<Post>>,
}

#[derive(Debug, Clone, PartialEq)]
struct Post {
    id: Option<i64>,
    title: String,
    publisher_id: Option<i64>,
    publisher: Related<Option<Publisher>>,
    tags: Related<Vec<Tag>>,
}

#[derive(Debug, Clone, PartialEq)]
struct Tag {
    id: Option<i64>,
    name: String,
}

/// A composite primary key (`tenant`, `code`).
#[derive(Debug, Clone, PartialEq)]
struct Setting {
    tenant: i64,
    code: String,
    value: String,
}

impl Entity for Publisher {
    type Id = i64;
    fn id(&self) -> Option<i64> {
        self.id
    }
}

impl Entity for Post {
    type Id = i64;
    fn id(&self) -> Option<i64> {
        self.id
    }
}

impl Entity for Tag {
    type Id = i64;
    fn id(&self) -> Option<i64> {
        self.id
    }
}

impl Entity for Setting {
    type Id = (i64, String);
    fn id(&self) -> Option<(i64, String)> {
        Some((self.tenant, self.code.clone()))
    }
}

const POSTS: Relation<Publisher> = Relation::new("posts");
const PUBLISHER: Relation<Post> = Relation::new("publisher");
const TAGS: Relation<Post> = Relation::new("tags");

fn mappers() -> Mappers {
    let mut r = Registry::new();
    let publisher = Table::new("publisher")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(
            Column::new("name", SqlType::string(100))
                .not_null()
                .unique(),
        );
    let post = Table::new("post")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("title", SqlType::string(100)).not_null())
        .column(
            Column::new("publisher_id", SqlType::BigInteger)
                .nullable(true)
                .foreign_key("publisher.id")
                .on_delete(ReferentialAction::Cascade),
        );
    let tag = Table::new("tag")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("name", SqlType::string(100)).not_null());
    let post_tag = r.add_table(
        Table::new("post_tag")
            .column(
                Column::new("post_id", SqlType::BigInteger)
                    .primary_key()
                    .foreign_key("post.id"),
            )
            .column(
                Column::new("tag_id", SqlType::BigInteger)
                    .primary_key()
                    .foreign_key("tag.id"),
            ),
    );
    let setting = Table::new("setting")
        .column(
            Column::new("tenant", SqlType::BigInteger)
                .primary_key()
                .autoincrement(false),
        )
        .column(Column::new("code", SqlType::string(50)).primary_key())
        .column(Column::new("value", SqlType::string(100)).not_null());

    r.map_imperatively(
        &publisher,
        mapping!(Publisher { id: Option<i64> = "id", name: String = "name", ..{ posts } }),
    )
    .relationship(
        RelationshipDef::many(
            "posts",
            |p: &Publisher| &p.posts,
            |p| &mut p.posts,
            RelOptions::default(),
        )
        .backref_one("publisher", |c: &Post| &c.publisher, |c| &mut c.publisher),
    )
    .finish();
    r.map_imperatively(
        &post,
        mapping!(Post {
            id: Option<i64> = "id",
            title: String = "title",
            publisher_id: Option<i64> = "publisher_id",
            ..{ publisher, tags }
        }),
    )
    .relationship(RelationshipDef::many(
        "tags",
        |p: &Post| &p.tags,
        |p| &mut p.tags,
        RelOptions::default().secondary(&post_tag),
    ))
    .finish();
    r.map_imperatively(
        &tag,
        mapping!(Tag { id: Option<i64> = "id", name: String = "name" }),
    )
    .finish();
    r.map_imperatively(
        &setting,
        mapping!(Setting {
            tenant: i64 = "tenant",
            code: String = "code",
            value: String = "value"
        }),
    )
    .finish();
    r.configure().unwrap()
}

/// Two publishers with two posts each; the posts tagged.
async fn setup(db: &TestDb) -> SessionMaker {
    let m = mappers();
    let mut conn = db.engine.connect().await.unwrap();
    m.metadata().drop_all(&mut conn).await.unwrap();
    m.metadata().create_all(&mut conn).await.unwrap();
    conn.commit().await.unwrap();
    drop(conn);
    let sessions = SessionMaker::new(db.engine.clone(), m);
    let mut uow = SqlUnitOfWork::new(&sessions);
    let publishers = uow.repository::<Publisher>();
    let posts = uow.repository::<Post>();
    let tags = uow.repository::<Tag>();
    let rust = tags.add(tag("rust")).await.unwrap();
    let sql = tags.add(tag("sql")).await.unwrap();
    for name in ["Manning", "O'Reilly"] {
        let p = publishers
            .add(Publisher {
                id: None,
                name: name.into(),
                posts: Related::NotLoaded,
            })
            .await
            .unwrap();
        for (i, title) in ["Rust", "SQL"].iter().enumerate() {
            let mut post = posts
                .add(Post {
                    id: None,
                    title: format!("{title} by {name}"),
                    publisher_id: p.id,
                    publisher: Related::NotLoaded,
                    tags: Related::NotLoaded,
                })
                .await
                .unwrap();
            // Linking through the loaded many-to-many collection: the
            // session inserts the association row.
            post.tags = Related::Loaded(vec![if i == 0 { rust.clone() } else { sql.clone() }]);
            posts.add(post).await.unwrap();
        }
    }
    uow.commit().await.unwrap();
    sessions
}

fn tag(name: &str) -> Tag {
    Tag {
        id: None,
        name: name.into(),
    }
}

async fn echo_db(db: TestDb, name: &str) -> TestDb {
    let backend = db.backend;
    db.close().await;
    TestDb::with_options(backend, name, EngineOptions::default().echo(true)).await
}

async fn get_with_loads_each_level_in_one_query(db: TestDb) {
    let db = echo_db(db, "repo_get_with").await;
    let sessions = setup(&db).await;
    let mut uow = SqlUnitOfWork::new(&sessions);
    let publishers = uow.repository::<Publisher>();
    let manning_id = publishers
        .list(&ListSpec::new().filter_eq("name", "Manning"))
        .await
        .unwrap()[0]
        .id
        .unwrap();

    let (log, _guard) = SqlLog::start();
    let manning = publishers
        .get_with(
            &manning_id,
            &[Load::selectin(POSTS).then(Load::selectin(TAGS))],
        )
        .await
        .unwrap()
        .unwrap();
    let statements = log.take();
    assert_eq!(
        statements.len(),
        3,
        "publisher, posts, tags: {statements:#?}"
    );
    let posts = manning.posts.require("posts").unwrap();
    let summary: Vec<(&str, Vec<&str>)> = posts
        .iter()
        .map(|p| {
            let tags = p.tags.require("tags").unwrap();
            (
                p.title.as_str(),
                tags.iter().map(|t| t.name.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("Rust by Manning", vec!["rust"]),
            ("SQL by Manning", vec!["sql"])
        ]
    );
    // The many-to-one side of the loaded collection is filled in memory
    // (a copy of the publisher, its own posts not loaded): no statement.
    let publisher = posts[0].publisher.get().unwrap().as_ref().unwrap();
    assert_eq!(publisher.name, "Manning");
    assert_eq!(publisher.posts, Related::NotLoaded);

    // Without a plan: nothing loaded, and the identity map answers.
    let plain = publishers.get(&manning_id).await.unwrap().unwrap();
    assert_eq!(plain.posts, Related::NotLoaded);
    assert!(log.take().is_empty(), "identity map hit");
    assert!(publishers
        .get_with(&9_999, &[Load::selectin(POSTS)])
        .await
        .unwrap()
        .is_none());
    // End the transaction before the database is dropped (MySQL's DROP
    // DATABASE waits for every open transaction on it).
    uow.rollback().await.unwrap();
    drop(uow);
    drop(sessions);
    db.close().await;
}

async fn list_with_joined_and_merged_plans(db: TestDb) {
    let db = echo_db(db, "repo_list_with").await;
    let sessions = setup(&db).await;
    let mut uow = SqlUnitOfWork::new(&sessions);
    let posts = uow.repository::<Post>();

    let (log, _guard) = SqlLog::start();
    let spec = ListSpec::new()
        .filter_like("title", "Rust%")
        .order_by_asc("id");
    let found = posts
        .list_with(&spec, &[Load::joined(PUBLISHER), Load::selectin(TAGS)])
        .await
        .unwrap();
    let statements = log.take();
    assert_eq!(
        statements.len(),
        2,
        "posts joined to publishers, then tags: {statements:#?}"
    );
    let publishers: Vec<&str> = found
        .iter()
        .map(|p| {
            p.publisher
                .require("publisher")
                .unwrap()
                .as_ref()
                .unwrap()
                .name
                .as_str()
        })
        .collect();
    assert_eq!(publishers, ["Manning", "O'Reilly"]);
    assert!(found
        .iter()
        .all(|p| p.tags.require("tags").unwrap().len() == 1));

    // Plans sharing a prefix load it once; raise leaves it unloaded.
    let publishers_repo = uow.repository::<Publisher>();
    let all = publishers_repo
        .list_with(
            &ListSpec::new().order_by_asc("name"),
            &[
                Load::selectin(POSTS).then(Load::selectin(TAGS)),
                Load::selectin(POSTS).then(Load::raise(PUBLISHER)),
            ],
        )
        .await
        .unwrap();
    assert_eq!(log.take().len(), 3, "publishers, posts once, tags");
    let first_posts = all[0].posts.require("posts").unwrap();
    assert_eq!(first_posts.len(), 2);
    assert_eq!(first_posts[0].publisher, Related::NotLoaded);
    // End the transaction before the database is dropped (MySQL's DROP
    // DATABASE waits for every open transaction on it).
    uow.rollback().await.unwrap();
    drop(uow);
    drop(sessions);
    db.close().await;
}

async fn load_plans_are_checked_before_any_sql(db: TestDb) {
    let db = echo_db(db, "repo_plans").await;
    let sessions = setup(&db).await;
    let mut uow = SqlUnitOfWork::new(&sessions);
    let publishers = uow.repository::<Publisher>();
    const BOGUS: Relation<Post> = Relation::new("comments");
    let (log, _guard) = SqlLog::start();
    let unknown = publishers
        .get_with(&1, &[Load::selectin(POSTS).then(Load::selectin(BOGUS))])
        .await;
    assert!(
        matches!(&unknown, Err(DomainError::Invalid(m)) if m.contains("`posts.comments`") && m.contains("`Post` has no relationship `comments`")),
        "{unknown:?}"
    );
    let conflicting = publishers
        .list_with(
            &ListSpec::new(),
            &[Load::selectin(POSTS), Load::joined(POSTS)],
        )
        .await;
    assert!(
        matches!(conflicting, Err(DomainError::Invalid(_))),
        "{conflicting:?}"
    );
    assert!(log.take().is_empty(), "refused before any statement");
    // End the transaction before the database is dropped (MySQL's DROP
    // DATABASE waits for every open transaction on it).
    uow.rollback().await.unwrap();
    drop(uow);
    drop(sessions);
    db.close().await;
}

async fn repositories_of_one_unit_of_work_share_it(db: TestDb) {
    let sessions = setup(&db).await;
    let mut uow = SqlUnitOfWork::new(&sessions);
    let publishers = uow.repository::<Publisher>();
    let posts = uow.repository::<Post>();
    // Polled together: the shared session serialises their statements.
    let (everything, newest) = (
        ListSpec::new(),
        ListSpec::new().order_by_desc("id").limit(1),
    );
    let (a, b, c) = tokio::join!(
        publishers.count(&everything),
        posts.count(&everything),
        posts.list(&newest),
    );
    assert_eq!((a.unwrap(), b.unwrap(), c.unwrap().len()), (2, 4, 1));

    // One transaction: what one repository staged, the other sees; a
    // rollback discards both.
    let fresh = publishers
        .add(Publisher {
            id: None,
            name: "Pragmatic".into(),
            posts: Related::NotLoaded,
        })
        .await
        .unwrap();
    posts
        .add(Post {
            id: None,
            title: "Programming Elixir".into(),
            publisher_id: fresh.id,
            publisher: Related::NotLoaded,
            tags: Related::NotLoaded,
        })
        .await
        .unwrap();
    let spec = ListSpec::new().filter_eq("publisher_id", fresh.id);
    assert_eq!(posts.count(&spec).await.unwrap(), 1);
    uow.rollback().await.unwrap();
    assert_eq!(publishers.count(&ListSpec::new()).await.unwrap(), 2);
    assert_eq!(posts.count(&spec).await.unwrap(), 0);

    // A custom query on the shared session, in the same transaction.
    let table = posts.table().unwrap().clone();
    let titles = posts
        .scalars(
            persistence::orm::select::<Post>()
                .filter(table.c("title").like("%Manning"))
                .order_by([table.c("id").asc()]),
        )
        .await
        .unwrap();
    assert_eq!(titles.len(), 2);
    let spec_select = posts
        .select(&ListSpec::new().filter_like("title", "SQL%"))
        .unwrap();
    assert_eq!(posts.scalars(spec_select).await.unwrap().len(), 2);
    uow.commit().await.unwrap();
    // End the transaction before the database is dropped (MySQL's DROP
    // DATABASE waits for every open transaction on it).
    uow.rollback().await.unwrap();
    drop(uow);
    drop(sessions);
    db.close().await;
}

async fn composite_keys_and_domain_generated_ids(db: TestDb) {
    let sessions = setup(&db).await;
    let mut uow = SqlUnitOfWork::new(&sessions);
    let settings = uow.repository::<Setting>();
    let theme = Setting {
        tenant: 1,
        code: "theme".into(),
        value: "dark".into(),
    };
    // An id the domain chose: add stages an INSERT, flushed at commit.
    let stored = settings
        .add_all(vec![
            theme.clone(),
            Setting {
                tenant: 2,
                code: "theme".into(),
                value: "light".into(),
            },
        ])
        .await
        .unwrap();
    assert_eq!(stored[0], theme);
    uow.commit().await.unwrap();
    let key = (1, "theme".to_owned());
    let mut found = settings.get_one(&key).await.unwrap();
    assert_eq!(found.value, "dark");
    found.value = "solarized".into();
    settings.add(found).await.unwrap();
    uow.commit().await.unwrap();
    assert_eq!(settings.get_one(&key).await.unwrap().value, "solarized");
    assert!(settings
        .get(&(3, "theme".to_owned()))
        .await
        .unwrap()
        .is_none());
    // The same key in this unit of work is a known identity: an UPDATE
    // (back to "dark"), not an INSERT.
    settings.add(theme.clone()).await.unwrap();
    uow.commit().await.unwrap();
    assert_eq!(settings.get_one(&key).await.unwrap().value, "dark");
    let fresh = Setting {
        tenant: 9,
        code: "x".into(),
        value: "y".into(),
    };
    settings.add(fresh.clone()).await.unwrap();
    uow.commit().await.unwrap();
    // In a second unit of work the identity is unknown: an INSERT, Conflict.
    let mut other = SqlUnitOfWork::new(&sessions);
    other.repository::<Setting>().add(fresh).await.unwrap();
    let err = other.commit().await;
    assert!(matches!(err, Err(DomainError::Conflict(_))), "{err:?}");
    assert_eq!(
        other
            .repository::<Setting>()
            .count(&ListSpec::new())
            .await
            .unwrap(),
        3
    );
    other.commit().await.unwrap();
    drop(other);
    // End the transaction before the database is dropped (MySQL's DROP
    // DATABASE waits for every open transaction on it).
    uow.rollback().await.unwrap();
    drop(uow);
    drop(sessions);
    db.close().await;
}

/// `add_all` of entities without ids: one flush, each entity back with
/// its own generated id, and the rows in the table afterwards.
async fn add_all_batches_new_entities(db: TestDb) {
    let db = echo_db(db, "repo_add_all").await;
    let sessions = setup(&db).await;
    let mut uow = SqlUnitOfWork::new(&sessions);
    let tags = uow.repository::<Tag>();
    let names: Vec<String> = (0..40).map(|i| format!("batch-{i:02}")).collect();
    let (log, guard) = SqlLog::start();
    let stored = tags
        .add_all(
            names
                .iter()
                .map(|n| Tag {
                    id: None,
                    name: n.clone(),
                })
                .collect(),
        )
        .await
        .unwrap();
    let inserts = log
        .take()
        .into_iter()
        .filter(|s| s.contains("INSERT INTO"))
        .count();
    drop(guard);
    assert!(
        inserts == 1 || inserts == 40,
        "{inserts} INSERTs for 40 tags"
    );
    if db.backend != TestBackend::MySql {
        assert_eq!(inserts, 1, "one multi-row INSERT with RETURNING");
    }
    uow.commit().await.unwrap();
    for tag in &stored {
        let found = tags.get_one(&tag.id.expect("an id")).await.unwrap();
        assert_eq!(found.name, tag.name);
    }
    let listed = tags
        .list(&ListSpec::new().filter_like("name", "batch-%"))
        .await
        .unwrap();
    assert_eq!(listed.len(), 40);
    uow.rollback().await.unwrap();
    drop(uow);
    drop(sessions);
    db.close().await;
}

on_all_backends!(
    add_all_batches_new_entities,
    get_with_loads_each_level_in_one_query,
    list_with_joined_and_merged_plans,
    load_plans_are_checked_before_any_sql,
    repositories_of_one_unit_of_work_share_it,
    composite_keys_and_domain_generated_ids
);
