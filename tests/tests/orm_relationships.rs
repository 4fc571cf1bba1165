//! Relationships on every backend: loading with each strategy (statements
//! counted, so an N+1 pattern fails), cascades checked by the rows in the
//! tables afterwards, and the seed's `PublisherRepository.get_with_posts`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::Related;
use persistence::dialects::{text, Column, ReferentialAction, SqlType, Table};
use persistence::orm::{
    self, contains_eager, joinedload, load, noload, raiseload, selectinload, Cascade, Mappers,
    Registry, RelOptions, RelationshipDef, Session, SessionMaker,
};
use persistence::{mapping, EngineOptions, SchemaExt};
use tests::capture::SqlLog;
use tests::{on_all_backends, TestDb};

#[derive(Debug, Clone, PartialEq, Default)]
struct Publisher {
    id: Option<i64>,
    name: String,
    posts: Vec<Post>,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Post {
    id: Option<i64>,
    title: String,
    publisher_id: Option<i64>,
    publisher: Option<Box<Publisher>>,
    tags: Vec<Tag>,
    comments: Related<Vec<Comment>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Tag {
    id: Option<i64>,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Comment {
    id: Option<i64>,
    body: String,
    post_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Node {
    id: Option<i64>,
    name: String,
    parent_id: Option<i64>,
    children: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Profile {
    id: Option<i64>,
    bio: String,
    publisher_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Author {
    id: Option<i64>,
    name: String,
    profile: Option<Profile>,
}

fn mappers() -> Mappers {
    let mut r = Registry::new();
    let publisher = Table::new("publisher")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("name", SqlType::string(100)).not_null());
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
    let post_tag = Table::new("post_tag")
        .column(
            Column::new("post_id", SqlType::BigInteger)
                .primary_key()
                .foreign_key("post.id"),
        )
        .column(
            Column::new("tag_id", SqlType::BigInteger)
                .primary_key()
                .foreign_key("tag.id"),
        );
    let comment = Table::new("comment")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("body", SqlType::string(100)).not_null())
        .column(
            Column::new("post_id", SqlType::BigInteger)
                .nullable(true)
                .foreign_key("post.id"),
        );
    let node = Table::new("node")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("name", SqlType::string(100)).not_null())
        .column(
            Column::new("parent_id", SqlType::BigInteger)
                .nullable(true)
                .foreign_key("node.id"),
        );
    let author = Table::new("author")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("name", SqlType::string(100)).not_null());
    let profile = Table::new("profile")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("bio", SqlType::string(100)).not_null())
        .column(
            Column::new("publisher_id", SqlType::BigInteger)
                .nullable(true)
                .foreign_key("author.id"),
        );
    let post_tag = r.add_table(post_tag);

    r.map_imperatively(
        &publisher,
        mapping!(Publisher { id: Option<i64> = "id", name: String = "name", ..{ posts } }),
    )
    .relationship(
        RelationshipDef::many(
            "posts",
            |p: &Publisher| &p.posts,
            |p| &mut p.posts,
            RelOptions::default().cascade(Cascade::all_delete_orphan()),
        )
        .backref_one("publisher", |c: &Post| &c.publisher, |c| &mut c.publisher),
    )
    .finish();
    r.map_imperatively(
        &post,
        mapping!(Post { id: Option<i64> = "id", title: String = "title", publisher_id: Option<i64> = "publisher_id", ..{ publisher, tags, comments } }),
    )
    .relationship(RelationshipDef::many("tags", |p: &Post| &p.tags, |p| &mut p.tags, RelOptions::default().secondary(&post_tag)))
    .relationship(RelationshipDef::many("comments", |p: &Post| &p.comments, |p| &mut p.comments, RelOptions::default()))
    .finish();
    r.map_imperatively(
        &tag,
        mapping!(Tag { id: Option<i64> = "id", name: String = "name" }),
    )
    .finish();
    r.map_imperatively(&comment, mapping!(Comment { id: Option<i64> = "id", body: String = "body", post_id: Option<i64> = "post_id" }))
        .finish();
    r.map_imperatively(&node, mapping!(Node { id: Option<i64> = "id", name: String = "name", parent_id: Option<i64> = "parent_id", ..{ children } }))
        .relationship(RelationshipDef::many("children", |n: &Node| &n.children, |n| &mut n.children, RelOptions::default()))
        .finish();
    r.map_imperatively(
        &author,
        mapping!(Author { id: Option<i64> = "id", name: String = "name", ..{ profile } }),
    )
    .relationship(RelationshipDef::one(
        "profile",
        |a: &Author| &a.profile,
        |a| &mut a.profile,
        RelOptions::default().cascade(Cascade::delete()),
    ))
    .finish();
    r.map_imperatively(&profile, mapping!(Profile { id: Option<i64> = "id", bio: String = "bio", publisher_id: Option<i64> = "publisher_id" }))
        .finish();
    r.configure().unwrap()
}

async fn setup(db: &TestDb) -> SessionMaker {
    let m = mappers();
    let mut conn = db.engine.connect().await.unwrap();
    m.metadata().drop_all(&mut conn).await.unwrap();
    m.metadata().create_all(&mut conn).await.unwrap();
    SessionMaker::new(db.engine.clone(), m)
}

async fn echo_db(db: TestDb, name: &str) -> TestDb {
    TestDb::with_options(db.backend, name, EngineOptions::default().echo(true)).await
}

async fn rows(db: &TestDb, sql: &str) -> i64 {
    let mut conn = db.engine.connect().await.unwrap();
    conn.execute(&text(sql))
        .await
        .unwrap()
        .scalar()
        .unwrap()
        .as_i64()
        .unwrap()
}

fn post(title: &str) -> Post {
    Post {
        title: title.into(),
        ..Post::default()
    }
}

/// Three publishers with three posts each, two tags per post, one comment per post.
async fn seed(session: &mut Session) {
    let tags: Vec<Tag> = ["rust", "sql", "orm"]
        .iter()
        .map(|n| Tag {
            id: None,
            name: (*n).into(),
        })
        .collect();
    for p in 0..3 {
        let mut publisher = Publisher {
            id: None,
            name: format!("pub{p}"),
            posts: Vec::new(),
        };
        for i in 0..3 {
            let mut post = post(&format!("p{p}-{i}"));
            post.tags = vec![tags[i % 3].clone(), tags[(i + 1) % 3].clone()];
            publisher.posts.push(post);
        }
        session.add(&mut publisher).await.unwrap();
    }
    session.commit().await.unwrap();
    // Tags were inserted once per post that carried them: keep the first of each name.
}

/// The seed's `PublisherRepository.get_with_posts`: selectinload, `.scalars().one()`.
async fn get_with_posts(session: &mut Session, name: &str) -> Publisher {
    session
        .scalars(
            orm::select::<Publisher>()
                .options([selectinload("posts")])
                .filter_by("name", name),
        )
        .await
        .unwrap()
        .one()
        .unwrap()
}

async fn cascade_inserts_children_with_keys(db: TestDb) {
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    let mut publisher = Publisher {
        id: None,
        name: "O'Reilly".into(),
        posts: vec![post("a"), post("b")],
    };
    publisher.posts[0].tags = vec![Tag {
        id: None,
        name: "rust".into(),
    }];
    session.add(&mut publisher).await.unwrap();
    session.commit().await.unwrap();
    assert_eq!(rows(&db, "SELECT count(*) FROM publisher").await, 1);
    assert_eq!(
        rows(
            &db,
            "SELECT count(*) FROM post WHERE publisher_id = (SELECT id FROM publisher)"
        )
        .await,
        2
    );
    assert_eq!(rows(&db, "SELECT count(*) FROM post_tag").await, 1);

    // Appending to a loaded collection and adding the parent inserts the child.
    let mut loaded = get_with_posts(&mut session, "O'Reilly").await;
    assert_eq!(loaded.posts.len(), 2);
    loaded.posts.push(post("c"));
    session.add(&mut loaded).await.unwrap();
    session.commit().await.unwrap();
    assert_eq!(
        rows(
            &db,
            "SELECT count(*) FROM post WHERE publisher_id IS NOT NULL"
        )
        .await,
        3
    );

    // Removing a child deletes it (delete-orphan).
    let mut loaded = get_with_posts(&mut session, "O'Reilly").await;
    loaded.posts.retain(|p| p.title != "a");
    session.add(&mut loaded).await.unwrap();
    session.commit().await.unwrap();
    assert_eq!(rows(&db, "SELECT count(*) FROM post").await, 2);

    // Deleting the parent deletes its posts through the ORM (cascade delete).
    let loaded = get_with_posts(&mut session, "O'Reilly").await;
    session.delete(&loaded).unwrap();
    session.commit().await.unwrap();
    assert_eq!(rows(&db, "SELECT count(*) FROM publisher").await, 0);
    assert_eq!(rows(&db, "SELECT count(*) FROM post").await, 0);
    drop(session);
    db.close().await;
}

async fn many_to_many_edits_are_association_rows(db: TestDb) {
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    let mut rust = Tag {
        id: None,
        name: "rust".into(),
    };
    let mut sql = Tag {
        id: None,
        name: "sql".into(),
    };
    session.add(&mut rust).await.unwrap();
    session.add(&mut sql).await.unwrap();
    let mut p = post("tagged");
    p.tags = vec![rust.clone()];
    session.add(&mut p).await.unwrap();
    session.commit().await.unwrap();
    assert_eq!(rows(&db, "SELECT count(*) FROM post_tag").await, 1);

    let mut loaded = session
        .scalars(orm::select::<Post>().options([selectinload("tags")]))
        .await
        .unwrap()
        .one()
        .unwrap();
    assert_eq!(loaded.tags, vec![rust.clone()]);
    loaded.tags = vec![sql.clone()];
    session.add(&mut loaded).await.unwrap();
    session.commit().await.unwrap();
    assert_eq!(rows(&db, "SELECT count(*) FROM post_tag").await, 1);
    let tag_id = rows(&db, "SELECT tag_id FROM post_tag").await;
    assert_eq!(Some(tag_id), sql.id);
    assert_eq!(
        rows(&db, "SELECT count(*) FROM tag").await,
        2,
        "tags themselves stay"
    );
    drop(session);
    db.close().await;
}

async fn selectin_loads_three_levels_in_three_queries(db: TestDb) {
    let db = echo_db(db, "rel_selectin").await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    seed(&mut session).await;
    // Comments for every post.
    let posts = session.scalars(orm::select::<Post>()).await.unwrap().all();
    for p in &posts {
        session
            .add(&mut Comment {
                id: None,
                body: format!("on {}", p.title),
                post_id: p.id,
            })
            .await
            .unwrap();
    }
    session.commit().await.unwrap();

    let (log, _guard) = SqlLog::start();
    let publishers = session
        .scalars(
            orm::select::<Publisher>()
                .options([
                    selectinload("posts").selectinload("tags"),
                    selectinload("posts").selectinload("comments"),
                ])
                .order_by([persistence::dialects::column("name").asc()]),
        )
        .await
        .unwrap()
        .all();
    let statements = log.take();
    let selects = statements
        .iter()
        .filter(|s| s.starts_with("SELECT") || s.starts_with("WITH"))
        .count();
    // publishers, posts, tags, comments (posts twice: one per option path).
    assert!(selects <= 5, "no N+1: {statements:#?}");
    assert_eq!(publishers.len(), 3);
    for p in &publishers {
        assert_eq!(p.posts.len(), 3, "{p:?}");
        for post in &p.posts {
            assert_eq!(post.tags.len(), 2, "{post:?}");
        }
    }
    drop(session);
    db.close().await;
}

async fn joined_loads_dedupe_by_identity(db: TestDb) {
    let db = echo_db(db, "rel_joined").await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    seed(&mut session).await;
    let (log, _guard) = SqlLog::start();
    let publishers = session
        .scalars(orm::select::<Publisher>().options([joinedload("posts")]))
        .await
        .unwrap()
        .unique()
        .all();
    let statements = log.take();
    assert_eq!(
        statements.len(),
        1,
        "one statement with a LEFT OUTER JOIN: {statements:?}"
    );
    assert!(statements[0].contains("LEFT OUTER JOIN"));
    assert_eq!(publishers.len(), 3);
    assert!(publishers.iter().all(|p| p.posts.len() == 3));

    // To-one default: joined.
    let posts = session
        .scalars(orm::select::<Post>().options([load("publisher")]))
        .await
        .unwrap()
        .all();
    let statements = log.take();
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert_eq!(posts.len(), 9);
    assert!(posts.iter().all(|p| p
        .publisher
        .as_ref()
        .is_some_and(|pb| Some(pb.id.unwrap()) == p.publisher_id)));
    drop(session);
    db.close().await;
}

async fn contains_eager_fills_from_the_users_join(db: TestDb) {
    let db = echo_db(db, "rel_eager").await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    seed(&mut session).await;
    let m = sessions.mappers();
    let post_t = m.metadata().table("post").unwrap().clone();
    let pub_t = m.metadata().table("publisher").unwrap().clone();
    let (log, _guard) = SqlLog::start();
    let publishers = session
        .scalars(
            orm::select::<Publisher>()
                .join(&post_t, post_t.c("publisher_id").eq(pub_t.c("id")))
                .where_(post_t.c("title").like("%-1"))
                .options([contains_eager("posts")]),
        )
        .await
        .unwrap()
        .unique()
        .all();
    assert_eq!(log.take().len(), 1);
    assert_eq!(publishers.len(), 3);
    // Only the joined (filtered) posts fill the collection.
    assert!(publishers
        .iter()
        .all(|p| p.posts.len() == 1 && p.posts[0].title.ends_with("-1")));

    // Rows that come back to an earlier owner (its "-0" posts last) fold
    // into it: owners in the order first met, each one's posts in row order.
    let publishers = session
        .scalars(
            orm::select::<Publisher>()
                .join(&post_t, post_t.c("publisher_id").eq(pub_t.c("id")))
                .order_by([post_t.c("title").like("%-0").asc(), post_t.c("title").asc()])
                .options([contains_eager("posts")]),
        )
        .await
        .unwrap()
        .unique()
        .all();
    let names: Vec<&str> = publishers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["pub0", "pub1", "pub2"]);
    for (n, p) in publishers.iter().enumerate() {
        let titles: Vec<&str> = p.posts.iter().map(|c| c.title.as_str()).collect();
        let want = [format!("p{n}-1"), format!("p{n}-2"), format!("p{n}-0")];
        assert_eq!(titles, want, "{}", p.name);
    }
    drop(session);
    db.close().await;
}

async fn raiseload_and_noload_leave_relations_unloaded(db: TestDb) {
    let db = echo_db(db, "rel_raise").await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    seed(&mut session).await;
    let (log, _guard) = SqlLog::start();
    let posts = session
        .scalars(orm::select::<Post>().options([raiseload("comments"), noload("tags")]))
        .await
        .unwrap()
        .all();
    assert_eq!(log.take().len(), 1);
    let err = posts[0].comments.require("comments").unwrap_err();
    assert!(
        matches!(err, domain::DomainError::NotLoaded { .. }),
        "{err:?}"
    );
    assert!(posts[0].tags.is_empty());
    // Loaded: an empty collection is Loaded(empty), not NotLoaded.
    let posts = session
        .scalars(orm::select::<Post>().options([selectinload("comments")]))
        .await
        .unwrap()
        .all();
    assert!(posts
        .iter()
        .all(|p| p.comments.get().is_some_and(Vec::is_empty)));
    drop(session);
    db.close().await;
}

async fn self_referential_tree_and_one_to_one(db: TestDb) {
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    let mut root = Node {
        name: "root".into(),
        ..Node::default()
    };
    let mut child = Node {
        name: "child".into(),
        ..Node::default()
    };
    child.children = vec![Node {
        name: "grandchild".into(),
        ..Node::default()
    }];
    root.children = vec![
        child,
        Node {
            name: "child2".into(),
            ..Node::default()
        },
    ];
    session.add(&mut root).await.unwrap();
    session.commit().await.unwrap();
    assert_eq!(rows(&db, "SELECT count(*) FROM node").await, 4);
    assert_eq!(
        rows(&db, "SELECT count(*) FROM node WHERE parent_id IS NULL").await,
        1
    );
    let tree = session
        .scalars(
            orm::select::<Node>()
                .where_(persistence::dialects::column("parent_id").is_null())
                .options([selectinload("children").selectinload("children")]),
        )
        .await
        .unwrap()
        .one()
        .unwrap();
    let mut names: Vec<&str> = tree.children.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["child", "child2"]);
    let child = tree.children.iter().find(|c| c.name == "child").unwrap();
    assert_eq!(child.children[0].name, "grandchild");

    // One-to-one with delete cascade.
    let mut author = Author {
        id: None,
        name: "Vlad".into(),
        profile: Some(Profile {
            id: None,
            bio: "hi".into(),
            publisher_id: None,
        }),
    };
    session.add(&mut author).await.unwrap();
    session.commit().await.unwrap();
    let loaded = session
        .scalars(orm::select::<Author>().options([selectinload("profile")]))
        .await
        .unwrap()
        .one()
        .unwrap();
    assert_eq!(loaded.profile.as_ref().unwrap().bio, "hi");
    session.delete(&loaded).unwrap();
    session.commit().await.unwrap();
    assert_eq!(rows(&db, "SELECT count(*) FROM profile").await, 0);
    drop(session);
    db.close().await;
}

async fn get_with_uses_loader_options(db: TestDb) {
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    seed(&mut session).await;
    let first = get_with_posts(&mut session, "pub0").await;
    let again: Publisher = session
        .get_with(
            first.id.unwrap(),
            &[(&domain::Load::<Publisher>::selectin(domain::Relation::new("posts"))).into()],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.posts.len(), 3);
    drop(session);
    db.close().await;
}

on_all_backends!(
    cascade_inserts_children_with_keys,
    many_to_many_edits_are_association_rows,
    selectin_loads_three_levels_in_three_queries,
    joined_loads_dedupe_by_identity,
    contains_eager_fills_from_the_users_join,
    raiseload_and_noload_leave_relations_unloaded,
    self_referential_tree_and_one_to_one,
    get_with_uses_loader_options
);
