//! ORM behaviours compared with SQLAlchemy 2's session, on every backend:
//! joined loads under LIMIT, nested joined loads, the many-to-one side
//! setting the foreign key, deleting a parent with the default cascade,
//! loader criteria, relationships with an order, a custom join condition,
//! `viewonly` and a default loader, `raiseload("*")`, inner joined loads,
//! and loading relationships for objects in hand. Each test checks the
//! rows afterwards, the objects returned and the statements sent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::Related;
use persistence::dialects::{text, SqlType};
use persistence::orm::{
    self, joinedload, presets, raiseload, selectinload, Mappers, Registry, RelOptions,
    RelationshipDef, Session, SessionMaker, Strategy,
};
use persistence::{EngineOptions, Error, SchemaExt};
use tests::capture::SqlLog;
use tests::{on_all_backends, TestDb};

#[derive(Debug, Clone, PartialEq, Default)]
struct Publisher {
    id: Option<i64>,
    name: String,
    posts: Related<Vec<Post>>,
    published: Related<Vec<Post>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Post {
    id: Option<i64>,
    title: String,
    draft: bool,
    publisher_id: Option<i64>,
    publisher: Related<Option<Publisher>>,
    comments: Related<Vec<Comment>>,
    tags: Related<Vec<Tag>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Comment {
    id: Option<i64>,
    body: String,
    post_id: i64,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Tag {
    id: Option<i64>,
    name: String,
}

persistence::model!(mod publisher for Publisher in "publisher" {
    id: Option<i64> = presets::intpk,
    name: String = |c| c.of_type(SqlType::string(100)),
    ..{ posts, published }
});

persistence::model!(mod post for Post in "post" {
    id: Option<i64> = presets::intpk,
    title: String = |c| c.of_type(SqlType::string(100)),
    draft: bool,
    publisher_id: Option<i64> = |c| c.foreign_key("publisher.id"),
    ..{ publisher, comments, tags }
});

persistence::model!(mod comment for Comment in "comment" {
    id: Option<i64> = presets::intpk,
    body: String = |c| c.of_type(SqlType::string(100)),
    post_id: i64 = |c| c.foreign_key("post.id"),
});

persistence::model!(mod tag for Tag in "tag" {
    id: Option<i64> = presets::intpk,
    name: String = |c| c.of_type(SqlType::string(100)),
});

fn mappers() -> Mappers {
    let mut r = Registry::new();
    let post_tag = r.add_table(
        persistence::dialects::Table::new("post_tag")
            .column(
                persistence::dialects::Column::new("post_id", SqlType::BigInteger)
                    .primary_key()
                    .foreign_key("post.id"),
            )
            .column(
                persistence::dialects::Column::new("tag_id", SqlType::BigInteger)
                    .primary_key()
                    .foreign_key("tag.id"),
            ),
    );
    r.map(publisher::model())
        // The default cascade (save-update): deleting a publisher keeps its
        // posts, with a NULL key. Its backref is `Post::publisher`.
        .relationship(
            RelationshipDef::many(
                "posts",
                |p: &Publisher| &p.posts,
                |p| &mut p.posts,
                RelOptions::default(),
            )
            .backref_one("publisher", |c: &Post| &c.publisher, |c| &mut c.publisher),
        )
        // A custom join condition, an order, read-only.
        .relationship(RelationshipDef::many(
            "published",
            |p: &Publisher| &p.published,
            |p| &mut p.published,
            RelOptions::default()
                .foreign_key("publisher_id")
                .join_and(post::draft.eq(false))
                .order_by([post::title.desc()])
                .viewonly(),
        ))
        .finish();
    r.map(post::model())
        .relationship(RelationshipDef::many(
            "comments",
            |p: &Post| &p.comments,
            |p| &mut p.comments,
            RelOptions::default(),
        ))
        // Loaded by default, unless a query says otherwise.
        .relationship(RelationshipDef::many(
            "tags",
            |p: &Post| &p.tags,
            |p| &mut p.tags,
            RelOptions::default()
                .secondary(&post_tag)
                .lazy(Strategy::Selectin),
        ))
        .finish();
    r.map(comment::model()).finish();
    r.map(tag::model()).finish();
    r.configure().unwrap()
}

async fn echo_db(db: TestDb, name: &str) -> TestDb {
    let backend = db.backend;
    db.close().await;
    TestDb::with_options(backend, name, EngineOptions::default().echo(true)).await
}

async fn setup(db: &TestDb) -> SessionMaker {
    let m = mappers();
    let mut conn = db.engine.connect().await.unwrap();
    m.metadata().create_all(&mut conn).await.unwrap();
    SessionMaker::new(db.engine.clone(), m)
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    let mut conn = db.engine.connect().await.unwrap();
    let n = conn.execute(&text(sql)).await.unwrap().scalar().unwrap();
    n.as_i64().unwrap()
}

fn new_post(title: &str, draft: bool) -> Post {
    Post {
        title: title.into(),
        draft,
        tags: Related::Loaded(Vec::new()),
        comments: Related::Loaded(Vec::new()),
        ..Post::default()
    }
}

/// Three publishers (a, b, c), each with two posts (one a draft), each
/// post with one comment and one tag.
async fn seed(session: &mut Session) {
    let mut rust = Tag {
        id: None,
        name: "rust".into(),
    };
    session.add(&mut rust).await.unwrap();
    for name in ["a", "b", "c"] {
        let mut p = Publisher {
            name: name.into(),
            posts: Related::Loaded(vec![
                new_post(&format!("{name}1"), false),
                new_post(&format!("{name}2"), true),
            ]),
            ..Publisher::default()
        };
        for post in p.posts.get_mut().unwrap() {
            post.tags = Related::Loaded(vec![rust.clone()]);
        }
        session.add(&mut p).await.unwrap();
        for post in p.posts.get_mut().unwrap() {
            let mut c = Comment {
                id: None,
                body: format!("on {}", post.title),
                post_id: post.id.expect("written back through the cascade"),
            };
            session.add(&mut c).await.unwrap();
        }
    }
    session.commit().await.unwrap();
}

fn titles(posts: &Related<Vec<Post>>) -> Vec<String> {
    let mut t: Vec<String> = posts
        .require("posts")
        .unwrap()
        .iter()
        .map(|p| p.title.clone())
        .collect();
    t.sort();
    t
}

/// `joinedload` of a collection under LIMIT / OFFSET limits the parents,
/// not the joined rows (the parents in a subquery): 1 statement, as
/// SQLAlchemy.
async fn joinedload_with_limit_limits_the_parents(db: TestDb) {
    let db = echo_db(db, "beh_limit").await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    seed(&mut session).await;
    let (log, _guard) = SqlLog::start();
    let two = session
        .scalars(
            orm::select::<Publisher>()
                .options([joinedload("posts")])
                .order_by([publisher::name.asc()])
                .limit(2),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(log.take().len(), 1, "one statement");
    assert_eq!(
        two.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(titles(&two[0].posts), ["a1", "a2"]);
    assert_eq!(titles(&two[1].posts), ["b1", "b2"]);
    let second = session
        .scalars(
            orm::select::<Publisher>()
                .options([joinedload("posts")])
                .order_by([publisher::name.desc()])
                .limit(1)
                .offset(1),
        )
        .await
        .unwrap()
        .one()
        .unwrap();
    assert_eq!(second.name, "b");
    assert_eq!(titles(&second.posts), ["b1", "b2"]);
    drop(session);
    db.close().await;
}

/// `joinedload("posts").joinedload("comments")` loads both levels: the
/// first by the join, the second by selectin on the joined posts (2
/// statements; SQLAlchemy joins both in 1).
async fn nested_joinedload_loads_every_level(db: TestDb) {
    let db = echo_db(db, "beh_nested").await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    seed(&mut session).await;
    let (log, _guard) = SqlLog::start();
    let all = session
        .scalars(
            orm::select::<Publisher>()
                .options([joinedload("posts").joinedload("comments")])
                .order_by([publisher::name.asc()]),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(log.take().len(), 2, "the join, then the comments");
    assert_eq!(all.len(), 3);
    for p in &all {
        for post in p.posts.require("posts").unwrap() {
            let comments = post.comments.require("comments").unwrap();
            assert_eq!(comments.len(), 1, "{}", post.title);
            assert_eq!(comments[0].body, format!("on {}", post.title));
        }
    }
    drop(session);
    db.close().await;
}

/// Setting the many-to-one side sets the foreign key: a persistent
/// parent, a new parent (inserted first, its key linked), and a parent
/// loaded as absent (NULL).
async fn setting_the_parent_sets_the_foreign_key(db: TestDb) {
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    let mut known = Publisher {
        name: "known".into(),
        ..Publisher::default()
    };
    session.add(&mut known).await.unwrap();

    let mut post = new_post("with a known parent", false);
    post.publisher = Related::Loaded(Some(known.clone()));
    session.add(&mut post).await.unwrap();
    assert_eq!(post.publisher_id, known.id, "written back");

    let mut other = new_post("with a new parent", false);
    other.publisher = Related::Loaded(Some(Publisher {
        name: "new".into(),
        ..Publisher::default()
    }));
    session.add(&mut other).await.unwrap();
    let new_id = other.publisher.get().unwrap().as_ref().unwrap().id;
    assert!(new_id.is_some(), "the new parent's key came back");
    assert_eq!(other.publisher_id, new_id);
    session.commit().await.unwrap();
    let rows = count(
        &db,
        "SELECT count(*) FROM post p JOIN publisher u ON u.id = p.publisher_id \
         WHERE (p.title = 'with a known parent' AND u.name = 'known') \
            OR (p.title = 'with a new parent' AND u.name = 'new')",
    )
    .await;
    assert_eq!(rows, 2);

    // Loaded as absent: the key becomes NULL.
    let mut loaded: Post = session.get(post.id.unwrap()).await.unwrap().unwrap();
    loaded.publisher = Related::Loaded(None);
    session.add(&mut loaded).await.unwrap();
    session.commit().await.unwrap();
    assert_eq!(
        count(&db, "SELECT count(*) FROM post WHERE publisher_id IS NULL").await,
        1
    );
    drop(session);
    db.close().await;
}

/// Deleting a parent with the default cascade: its children stay with a
/// NULL key (1 UPDATE + 1 DELETE); when the key is NOT NULL the flush
/// fails with an integrity error before anything is deleted, and the
/// session is usable after `rollback()`.
async fn deleting_a_parent_with_the_default_cascade(db: TestDb) {
    let db = echo_db(db, "beh_delete").await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    seed(&mut session).await;
    let a = session
        .scalars(orm::select::<Publisher>().where_(publisher::name.eq("a")))
        .await
        .unwrap()
        .one()
        .unwrap();
    let (log, guard) = SqlLog::start();
    session.delete(&a).unwrap();
    session.commit().await.unwrap();
    let sent = log.take();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(
        sent[0].starts_with("UPDATE post SET publisher_id = "),
        "{}",
        sent[0]
    );
    assert!(sent[1].starts_with("DELETE FROM publisher"), "{}", sent[1]);
    drop(guard);
    assert_eq!(
        count(&db, "SELECT count(*) FROM post").await,
        6,
        "posts kept"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM post WHERE publisher_id IS NULL").await,
        2
    );

    // comment.post_id is NOT NULL: deleting a post with comments fails.
    let b1 = session
        .scalars(orm::select::<Post>().where_(post::title.eq("b1")))
        .await
        .unwrap()
        .one()
        .unwrap();
    session.delete(&b1).unwrap();
    let err = session.commit().await.unwrap_err();
    assert!(err.is_integrity(), "{err:?}");
    session.rollback().await.unwrap();
    assert_eq!(
        count(&db, "SELECT count(*) FROM post WHERE title = 'b1'").await,
        1
    );
    assert_eq!(count(&db, "SELECT count(*) FROM comment").await, 6);
    let still: Post = session.get(b1.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(still.title, "b1");
    drop(session);
    db.close().await;
}

/// Loader criteria on selectin and joined loads, a relationship with a
/// custom join condition and an order, and `viewonly`.
async fn loader_criteria_order_and_viewonly(db: TestDb) {
    let db = echo_db(db, "beh_criteria").await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    seed(&mut session).await;
    let (log, guard) = SqlLog::start();
    let all = session
        .scalars(
            orm::select::<Publisher>()
                .options([selectinload("posts").and_(post::draft.eq(true))])
                .order_by([publisher::name.asc()]),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(log.take().len(), 2, "publishers, then their drafts");
    assert_eq!(titles(&all[0].posts), ["a2"]);
    let joined = session
        .scalars(
            orm::select::<Publisher>()
                .options([joinedload("posts").and_(post::draft.eq(false))])
                .where_(publisher::name.eq("c")),
        )
        .await
        .unwrap()
        .one()
        .unwrap();
    assert_eq!(titles(&joined.posts), ["c1"]);
    assert_eq!(log.take().len(), 1);

    // `published`: only posts that are not drafts, by title descending.
    let mut c = session
        .scalars(
            orm::select::<Publisher>()
                .options([selectinload("published")])
                .where_(publisher::name.eq("c")),
        )
        .await
        .unwrap()
        .one()
        .unwrap();
    let published = c.published.require("published").unwrap();
    assert_eq!(
        published
            .iter()
            .map(|p| p.title.as_str())
            .collect::<Vec<_>>(),
        ["c1"]
    );
    log.take();
    // viewonly: changing the loaded collection writes nothing.
    c.published.get_mut().unwrap().clear();
    session.add(&mut c).await.unwrap();
    session.commit().await.unwrap();
    assert_eq!(log.take(), Vec::<String>::new());
    drop(guard);
    assert_eq!(count(&db, "SELECT count(*) FROM post").await, 6);
    drop(session);
    db.close().await;
}

/// A relationship that loads by default (`lazy(Strategy::Selectin)`), and
/// `raiseload("*")` turning it off; an inner joined load leaves out
/// owners without a related row.
async fn default_loaders_raiseload_star_and_innerjoin(db: TestDb) {
    let db = echo_db(db, "beh_raise").await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    seed(&mut session).await;
    let mut orphan = new_post("orphan", false);
    session.add(&mut orphan).await.unwrap();
    session.commit().await.unwrap();
    let (log, _guard) = SqlLog::start();
    let posts = session.scalars(orm::select::<Post>()).await.unwrap().all();
    assert_eq!(
        log.take().len(),
        2,
        "posts, then their tags (lazy selectin)"
    );
    assert!(posts.iter().filter(|p| p.title != "orphan").all(|p| p
        .tags
        .require("tags")
        .unwrap()
        .len()
        == 1));
    let bare = session
        .scalars(orm::select::<Post>().options([raiseload("*")]))
        .await
        .unwrap()
        .all();
    assert_eq!(log.take().len(), 1, "raiseload(\"*\"): nothing else");
    assert!(matches!(
        bare[0].tags.require("tags"),
        Err(domain::DomainError::NotLoaded { .. })
    ));
    let with_publisher = session
        .scalars(
            orm::select::<Post>()
                .options([joinedload("publisher").innerjoin(), raiseload("*")])
                .order_by([post::title.asc()]),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(log.take().len(), 1);
    assert_eq!(with_publisher.len(), 6, "the orphan is left out");
    assert!(with_publisher
        .iter()
        .all(|p| p.publisher.get().is_some_and(Option::is_some)));
    drop(session);
    db.close().await;
}

/// Relationships loaded for objects already in hand: one statement per
/// level, the parents not selected again.
async fn loading_relationships_of_objects_in_hand(db: TestDb) {
    let db = echo_db(db, "beh_in_hand").await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    seed(&mut session).await;
    let mut publishers = session
        .scalars(orm::select::<Publisher>().order_by([publisher::name.asc()]))
        .await
        .unwrap()
        .all();
    assert!(publishers[0].posts.get().is_none(), "not loaded yet");
    let (log, _guard) = SqlLog::start();
    session
        .load_related(
            &mut publishers,
            &[selectinload("posts").selectinload("comments")],
        )
        .await
        .unwrap();
    assert_eq!(log.take().len(), 2, "posts, then comments");
    assert_eq!(titles(&publishers[2].posts), ["c1", "c2"]);
    let c1 = &publishers[2].posts.get().unwrap()[0];
    assert_eq!(c1.comments.require("comments").unwrap().len(), 1);
    let err = session
        .load_related(&mut publishers, &[selectinload("authors")])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Mapping { field, .. } if field == "authors"),
        "{err:?}"
    );
    drop(session);
    db.close().await;
}

/// `begin_nested()`: releasing keeps the work; rolling back drops it in
/// the database and restores the session's snapshots (an object changed
/// inside is back to its earlier values, one inserted inside is gone); a
/// flush failing inside rolls back the savepoint only; a guard dropped
/// without commit rolls back.
async fn savepoints_keep_or_restore_the_work(db: TestDb) {
    let db = echo_db(db, "beh_savepoint").await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    seed(&mut session).await;
    let mut a = session
        .scalars(orm::select::<Publisher>().where_(publisher::name.eq("a")))
        .await
        .unwrap()
        .one()
        .unwrap();

    let mut sp = session.begin_nested().await.unwrap();
    let mut d = Publisher {
        name: "d".into(),
        ..Publisher::default()
    };
    sp.add(&mut d).await.unwrap();
    sp.commit().await.unwrap();

    let mut sp = session.begin_nested().await.unwrap();
    a.name = "renamed".into();
    sp.add(&mut a).await.unwrap();
    sp.flush().await.unwrap();
    let mut e = Publisher {
        name: "e".into(),
        ..Publisher::default()
    };
    sp.add(&mut e).await.unwrap();
    assert!(e.id.is_some());
    sp.rollback().await.unwrap();
    // The snapshot of `a` is back: its old values cost no statement.
    let (log, guard) = SqlLog::start();
    a.name = "a".into();
    session.add(&mut a).await.unwrap();
    assert!(!session.is_dirty());
    let gone: Option<Publisher> = session.get(e.id.unwrap()).await.unwrap();
    assert!(gone.is_none(), "rolled back with its savepoint");
    assert_eq!(log.take().len(), 1, "the SELECT of `e` only");
    drop(guard);

    // A flush failing inside (a comment on a post that does not exist).
    let mut sp = session.begin_nested().await.unwrap();
    let mut bad = Comment {
        id: None,
        body: "nowhere".into(),
        post_id: 999_999,
    };
    let err = sp.add(&mut bad).await.unwrap_err();
    assert!(err.is_integrity(), "{err:?}");
    assert!(matches!(sp.commit().await, Err(Error::InactiveSavepoint)));

    // A guard dropped without commit: rolled back before the next statement.
    {
        let mut sp = session.begin_nested().await.unwrap();
        let mut f = Publisher {
            name: "f".into(),
            ..Publisher::default()
        };
        sp.add(&mut f).await.unwrap();
    }
    session.commit().await.unwrap();
    let names = count(
        &db,
        "SELECT count(*) FROM publisher WHERE name IN ('a', 'b', 'c', 'd')",
    )
    .await;
    assert_eq!(names, 4);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM publisher WHERE name IN ('e', 'f', 'renamed')"
        )
        .await,
        0
    );
    assert_eq!(count(&db, "SELECT count(*) FROM comment").await, 6);
    drop(session);
    db.close().await;
}

/// Graph writes reach the caller (the new posts' ids came back through
/// the cascade in `seed`); loading one side of a bidirectional
/// relationship fills the other in memory (no statement), and adding a
/// child filled that way writes only the child.
async fn the_other_side_of_a_loaded_relationship_is_filled(db: TestDb) {
    let db = echo_db(db, "beh_backref").await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    seed(&mut session).await;
    let (log, guard) = SqlLog::start();
    let a = session
        .scalars(
            orm::select::<Publisher>()
                .where_(publisher::name.eq("a"))
                .options([selectinload("posts")]),
        )
        .await
        .unwrap()
        .one()
        .unwrap();
    assert_eq!(log.take().len(), 2);
    let mut posts = a.posts.get().unwrap().clone();
    for p in &posts {
        let parent = p.publisher.get().unwrap().as_ref().unwrap();
        assert_eq!(parent.name, "a");
        assert_eq!(
            parent.posts,
            Related::NotLoaded,
            "no copy of the collection"
        );
    }
    posts[0].title = "a1 (2nd ed.)".into();
    session.add(&mut posts[0]).await.unwrap();
    session.commit().await.unwrap();
    let sent = log.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].starts_with("UPDATE post SET title = "),
        "{}",
        sent[0]
    );
    drop(guard);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM post WHERE publisher_id IS NOT NULL"
        )
        .await,
        6
    );
    drop(session);
    db.close().await;
}

/// Association rows: the same tag twice in a loaded collection links once
/// (no integrity error: the collection is a set of links); removing two
/// tags deletes their rows in one statement.
async fn association_edits(db: TestDb) {
    let db = echo_db(db, "beh_assoc").await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    seed(&mut session).await;
    let mut sql = Tag {
        id: None,
        name: "sql".into(),
    };
    let mut orm_tag = Tag {
        id: None,
        name: "orm".into(),
    };
    session.add_all([&mut sql, &mut orm_tag]).await.unwrap();
    let mut a1 = session
        .scalars(orm::select::<Post>().where_(post::title.eq("a1")))
        .await
        .unwrap()
        .one()
        .unwrap();
    let tags = a1.tags.get_mut().unwrap();
    tags.push(sql.clone());
    tags.push(sql.clone());
    tags.push(orm_tag.clone());
    session.add(&mut a1).await.unwrap();
    session.commit().await.unwrap();
    assert_eq!(
        count(&db, "SELECT count(*) FROM post_tag WHERE post_id = (SELECT id FROM post WHERE title = 'a1')").await,
        3,
        "rust, sql once, orm"
    );
    let (log, guard) = SqlLog::start();
    let mut a1 = session
        .scalars(orm::select::<Post>().where_(post::title.eq("a1")))
        .await
        .unwrap()
        .one()
        .unwrap();
    log.take();
    a1.tags.get_mut().unwrap().retain(|t| t.name == "rust");
    session.add(&mut a1).await.unwrap();
    session.commit().await.unwrap();
    let sent = log.take();
    assert_eq!(sent.len(), 1, "one DELETE for both rows: {sent:?}");
    assert!(
        sent[0].starts_with("DELETE FROM post_tag WHERE"),
        "{}",
        sent[0]
    );
    drop(guard);
    assert_eq!(
        count(&db, "SELECT count(*) FROM post_tag WHERE post_id = (SELECT id FROM post WHERE title = 'a1')").await,
        1
    );
    drop(session);
    db.close().await;
}

/// UPDATEs of one table setting the same columns go as one statement (a
/// join with the rows' values); SQLAlchemy sends one per row (an
/// executemany) on the same backends.
async fn updates_of_one_shape_are_batched(db: TestDb) {
    let db = echo_db(db, "beh_batch").await;
    let sessions = setup(&db).await;
    let mut session = sessions.session();
    seed(&mut session).await;
    let mut posts = session
        .scalars(
            orm::select::<Post>()
                .options([raiseload("*")])
                .order_by([post::title.asc()]),
        )
        .await
        .unwrap()
        .all();
    let (log, guard) = SqlLog::start();
    for p in posts.iter_mut() {
        p.title = format!("{} v2", p.title);
    }
    posts[0].draft = true;
    session.add_all(posts.iter_mut()).await.unwrap();
    session.commit().await.unwrap();
    let sent = log.take();
    // 5 posts change only their title (one statement), a1 its title and
    // draft flag (one plain UPDATE).
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(
        sent.iter()
            .any(|s| s.starts_with("WITH orm_changes") || s.starts_with("UPDATE post INNER JOIN")),
        "{sent:?}"
    );
    drop(guard);
    assert_eq!(
        count(&db, "SELECT count(*) FROM post WHERE title LIKE '% v2'").await,
        6
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM post WHERE draft = TRUE").await,
        4
    );
    // The snapshots follow: adding them again sends nothing.
    let (log, guard) = SqlLog::start();
    session.add_all(posts.iter_mut()).await.unwrap();
    session.commit().await.unwrap();
    assert_eq!(log.take(), Vec::<String>::new());
    drop(guard);
    drop(session);
    db.close().await;
}

on_all_backends!(
    updates_of_one_shape_are_batched,
    the_other_side_of_a_loaded_relationship_is_filled,
    association_edits,
    savepoints_keep_or_restore_the_work,
    joinedload_with_limit_limits_the_parents,
    nested_joinedload_loads_every_level,
    setting_the_parent_sets_the_foreign_key,
    deleting_a_parent_with_the_default_cascade,
    loader_criteria_order_and_viewonly,
    default_loaders_raiseload_star_and_innerjoin,
    loading_relationships_of_objects_in_hand
);
