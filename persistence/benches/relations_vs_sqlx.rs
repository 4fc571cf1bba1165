//! Eager loading through the ORM against hand-written sqlx, same database,
//! same run (a plain timing harness: each case runs `BENCH_ROUNDS` (7)
//! times and the median is reported).
//!
//! * `selectin_3lvl`: 100 users x 10 posts x 10 comments through
//!   `session.scalars(orm::select::<User>().options([selectinload("posts")
//!   .selectinload("comments")]))` (a fresh session each round, so every
//!   object is an identity-map miss) vs three sqlx queries on one bare
//!   connection (users; posts `WHERE user_id IN (...)`; comments
//!   `WHERE post_id IN (...)`, via `query_as` into tuples), assembled into
//!   the same nested structs.
//!
//! SQLite runs on a temporary file; PostgreSQL on `TEST_POSTGRES_URL`
//! (skipped, with a line saying so, when it is unset).
//! `BENCH_BACKENDS=SQLite,PostgreSQL`, `BENCH_SIDES=orm,sqlx` and
//! `BENCH_ROUNDS=n` narrow a run (for profiling).
//!
//! `cargo bench -p persistence --bench relations_vs_sqlx`
//!
//! Both sides share the machine with the server, so thread placement moves
//! the ratios on a small VM by more than the code does. For stable figures
//! run the benchmark on one CPU and the PostgreSQL server on another, e.g.
//! `taskset -a -p 1 <postmaster pid>` then `taskset -c 1 <bench binary>`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::HashMap;
use std::time::Instant;

use common::{median, report, reset, wanted, Layout, Raw};
use persistence::dialects::{Column, SqlType, Table};
use persistence::orm::SessionMaker;
use persistence::orm::{self, selectinload, Mappers, Registry, RelOptions, RelationshipDef};
use persistence::{create_engine, mapping, Engine};

const USERS: i64 = 100;
const POSTS_PER_USER: i64 = 10;
const COMMENTS_PER_POST: i64 = 10;

/// The widths of the case and raw-side columns of the report.
const LAYOUT: Layout = Layout { case: 14, raw: 0 };

#[derive(Debug, Clone, Default, PartialEq)]
struct User {
    id: Option<i64>,
    name: String,
    posts: Vec<Post>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Post {
    id: Option<i64>,
    user_id: Option<i64>,
    title: String,
    comments: Vec<Comment>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Comment {
    id: Option<i64>,
    post_id: Option<i64>,
    body: String,
}

fn mappers() -> Mappers {
    let mut r = Registry::new();
    let users = Table::new("bench_user")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("name", SqlType::string(64)).not_null());
    let posts = Table::new("bench_post")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(
            Column::new("user_id", SqlType::BigInteger)
                .nullable(true)
                .foreign_key("bench_user.id"),
        )
        .column(Column::new("title", SqlType::string(64)).not_null());
    let comments = Table::new("bench_comment")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(
            Column::new("post_id", SqlType::BigInteger)
                .nullable(true)
                .foreign_key("bench_post.id"),
        )
        .column(Column::new("body", SqlType::string(64)).not_null());
    r.map_imperatively(
        &users,
        mapping!(User { id: Option<i64> = "id", name: String = "name", ..{ posts } }),
    )
    .relationship(RelationshipDef::many(
        "posts",
        |u: &User| &u.posts,
        |u| &mut u.posts,
        RelOptions::default(),
    ))
    .finish();
    r.map_imperatively(
        &posts,
        mapping!(Post { id: Option<i64> = "id", user_id: Option<i64> = "user_id", title: String = "title", ..{ comments } }),
    )
    .relationship(RelationshipDef::many(
        "comments",
        |p: &Post| &p.comments,
        |p| &mut p.comments,
        RelOptions::default(),
    ))
    .finish();
    r.map_imperatively(
        &comments,
        mapping!(Comment { id: Option<i64> = "id", post_id: Option<i64> = "post_id", body: String = "body" }),
    )
    .finish();
    r.configure().unwrap()
}

/// `(?, ?, ...)` or `($1, $2, ...)` for `n` values.
fn placeholders(backend: &str, n: usize) -> String {
    let marks: Vec<String> = (1..=n)
        .map(|i| {
            if backend == "SQLite" {
                "?".to_owned()
            } else {
                format!("${i}")
            }
        })
        .collect();
    format!("({})", marks.join(", "))
}

/// Raw sqlx, loading the nested structs by hand.
impl Raw {
    async fn users(&mut self) -> Vec<(i64, String)> {
        let sql = "SELECT id, name FROM bench_user ORDER BY id";
        match self {
            Raw::Sqlite(c) => sqlx::query_as(sql).fetch_all(c).await.unwrap(),
            Raw::Postgres(c) => sqlx::query_as(sql).fetch_all(c).await.unwrap(),
        }
    }

    /// `SELECT id, <fk>, <text> FROM <table> WHERE <fk> IN (ids) ORDER BY id`.
    async fn children(
        &mut self,
        backend: &str,
        table: &str,
        fk: &str,
        text: &str,
        ids: &[i64],
    ) -> Vec<(i64, i64, String)> {
        let sql = format!(
            "SELECT id, {fk}, {text} FROM {table} WHERE {fk} IN {} ORDER BY id",
            placeholders(backend, ids.len())
        );
        match self {
            Raw::Sqlite(c) => {
                let mut q = sqlx::query_as(&sql);
                for id in ids {
                    q = q.bind(id);
                }
                q.fetch_all(c).await.unwrap()
            }
            Raw::Postgres(c) => {
                let mut q = sqlx::query_as(&sql);
                for id in ids {
                    q = q.bind(id);
                }
                q.fetch_all(c).await.unwrap()
            }
        }
    }

    /// Users with their posts with their comments: three queries, then
    /// grouped by foreign key into the nested structs.
    async fn load(&mut self, backend: &str) -> Vec<User> {
        let users = self.users().await;
        let user_ids: Vec<i64> = users.iter().map(|(id, _)| *id).collect();
        let posts = self
            .children(backend, "bench_post", "user_id", "title", &user_ids)
            .await;
        let post_ids: Vec<i64> = posts.iter().map(|(id, _, _)| *id).collect();
        let comments = self
            .children(backend, "bench_comment", "post_id", "body", &post_ids)
            .await;
        let mut comments_of: HashMap<i64, Vec<Comment>> = HashMap::new();
        for (id, post_id, body) in comments {
            comments_of.entry(post_id).or_default().push(Comment {
                id: Some(id),
                post_id: Some(post_id),
                body,
            });
        }
        let mut posts_of: HashMap<i64, Vec<Post>> = HashMap::new();
        for (id, user_id, title) in posts {
            posts_of.entry(user_id).or_default().push(Post {
                id: Some(id),
                user_id: Some(user_id),
                title,
                comments: comments_of.remove(&id).unwrap_or_default(),
            });
        }
        users
            .into_iter()
            .map(|(id, name)| User {
                id: Some(id),
                name,
                posts: posts_of.remove(&id).unwrap_or_default(),
            })
            .collect()
    }
}

async fn seed(engine: &Engine, m: &Mappers, raw: &mut Raw) {
    reset(engine, m).await;
    raw.exec("BEGIN").await;
    let mut values = Vec::new();
    for u in 1..=USERS {
        values.push(format!("({u}, 'user {u}')"));
    }
    raw.exec(&format!(
        "INSERT INTO bench_user (id, name) VALUES {}",
        values.join(", ")
    ))
    .await;
    values.clear();
    for p in 1..=USERS * POSTS_PER_USER {
        let user = (p - 1) / POSTS_PER_USER + 1;
        values.push(format!("({p}, {user}, 'post {p}')"));
    }
    raw.exec(&format!(
        "INSERT INTO bench_post (id, user_id, title) VALUES {}",
        values.join(", ")
    ))
    .await;
    values.clear();
    for c in 1..=USERS * POSTS_PER_USER * COMMENTS_PER_POST {
        let post = (c - 1) / COMMENTS_PER_POST + 1;
        values.push(format!("({c}, {post}, 'comment {c}')"));
    }
    raw.exec(&format!(
        "INSERT INTO bench_comment (id, post_id, body) VALUES {}",
        values.join(", ")
    ))
    .await;
    raw.exec("COMMIT").await;
}

fn check(users: &[User]) {
    assert_eq!(users.len(), USERS as usize);
    for u in users {
        assert_eq!(u.posts.len(), POSTS_PER_USER as usize, "{:?}", u.id);
        for p in &u.posts {
            assert_eq!(p.user_id, u.id);
            assert_eq!(p.comments.len(), COMMENTS_PER_POST as usize, "{:?}", p.id);
            assert!(p.comments.iter().all(|c| c.post_id == p.id));
        }
    }
}

/// Users by id, their posts, their posts' comments: one query per level.
fn orm_query() -> orm::Select<User> {
    orm::select::<User>()
        .options([selectinload("posts").selectinload("comments")])
        .order_by([persistence::dialects::column("id").asc()])
}

async fn run(backend: &'static str, url: &str) {
    let engine = create_engine(url).await.unwrap();
    let m = mappers();
    let mut raw = Raw::connect(backend, url).await;
    seed(&engine, &m, &mut raw).await;
    let sessions = SessionMaker::new(engine.clone(), m.clone());

    // Both sides load the same objects.
    let mut s = sessions.session();
    let orm_users = s.scalars(orm_query()).await.unwrap().all();
    s.commit().await.unwrap();
    drop(s);
    let raw_users = raw.load(backend).await;
    check(&raw_users);
    assert_eq!(orm_users, raw_users);

    let mut orm_samples = Vec::new();
    let mut raw_samples = Vec::new();
    for _ in 0..common::rounds(7) {
        if wanted("BENCH_SIDES", "orm") {
            let start = Instant::now();
            let mut s = sessions.session();
            let users = s.scalars(orm_query()).await.unwrap().all();
            s.commit().await.unwrap();
            orm_samples.push(start.elapsed());
            check(&users);
        }
        if wanted("BENCH_SIDES", "sqlx") {
            let start = Instant::now();
            let users = raw.load(backend).await;
            raw_samples.push(start.elapsed());
            check(&users);
        }
    }
    report(
        &LAYOUT,
        backend,
        "selectin_3lvl",
        median(orm_samples),
        "sqlx 3 queries",
        median(raw_samples),
    );
    engine.dispose().await;
}

fn main() {
    common::run_backends("relations_bench", |backend, url| async move {
        run(backend, &url).await
    });
}
