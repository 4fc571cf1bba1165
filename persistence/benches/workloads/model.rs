//! The bench's schema and objects: items (`bench_item`, for the selects,
//! inserts and gets) and users with posts with comments (for the join and
//! the associations), mapped for the ORM and shared as tables with Core.

use persistence::dialects::{Column, SqlType, Table};
use persistence::mapping;
use persistence::orm::{Mappers, Registry, RelOptions, RelationshipDef};

/// A row of `bench_item`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Item {
    pub id: Option<i64>,
    pub name: String,
    pub n: i64,
}

/// A row of `bench_user`, with its posts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct User {
    pub id: Option<i64>,
    pub name: String,
    pub posts: Vec<Post>,
}

/// A row of `bench_post`, with its comments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Post {
    pub id: Option<i64>,
    pub user_id: Option<i64>,
    pub title: String,
    pub comments: Vec<Comment>,
}

/// A row of `bench_comment`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comment {
    pub id: Option<i64>,
    pub post_id: Option<i64>,
    pub body: String,
}

/// The four tables, as Core sees them.
#[derive(Clone)]
pub struct Tables {
    pub item: Table,
    pub user: Table,
    pub post: Table,
    pub comment: Table,
}

impl Tables {
    pub fn new() -> Tables {
        let item = Table::new("bench_item")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::string(64)).not_null())
            .column(Column::new("n", SqlType::BigInteger).not_null());
        let user = Table::new("bench_user")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::string(64)).not_null());
        let post = Table::new("bench_post")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(
                Column::new("user_id", SqlType::BigInteger)
                    .nullable(true)
                    .foreign_key("bench_user.id"),
            )
            .column(Column::new("title", SqlType::string(64)).not_null());
        let comment = Table::new("bench_comment")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(
                Column::new("post_id", SqlType::BigInteger)
                    .nullable(true)
                    .foreign_key("bench_post.id"),
            )
            .column(Column::new("body", SqlType::string(64)).not_null());
        Tables {
            item,
            user,
            post,
            comment,
        }
    }
}

/// The ORM's mappings of the four tables.
pub fn mappers(t: &Tables) -> Mappers {
    let mut r = Registry::new();
    r.map_imperatively(
        &t.item,
        mapping!(Item { id: Option<i64> = "id", name: String = "name", n: i64 = "n" }),
    )
    .finish();
    r.map_imperatively(
        &t.user,
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
        &t.post,
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
        &t.comment,
        mapping!(Comment { id: Option<i64> = "id", post_id: Option<i64> = "post_id", body: String = "body" }),
    )
    .finish();
    r.configure().expect("the bench's mappings configure")
}

/// `n` new items (no ids yet).
pub fn new_items(n: usize) -> Vec<Item> {
    (0..n)
        .map(|i| Item {
            id: None,
            name: format!("item {i}"),
            n: i as i64,
        })
        .collect()
}

/// `n` new items with the keys `first..first + n`.
pub fn keyed_items(n: usize, first: usize) -> Vec<Item> {
    (first..first + n)
        .map(|i| Item {
            id: Some(i as i64),
            name: format!("item {i}"),
            n: i as i64,
        })
        .collect()
}

/// Users from joined rows `(user id, name, post id, post user id, title)`
/// ordered by user id (a user without posts has `None`s).
pub fn fold_joined(
    rows: impl IntoIterator<Item = (i64, String, Option<i64>, Option<i64>, Option<String>)>,
) -> Vec<User> {
    let mut users: Vec<User> = Vec::new();
    for (uid, name, pid, puid, title) in rows {
        if users.last().and_then(|u| u.id) != Some(uid) {
            users.push(User {
                id: Some(uid),
                name,
                posts: Vec::new(),
            });
        }
        if let (Some(pid), Some(title), Some(user)) = (pid, title, users.last_mut()) {
            user.posts.push(Post {
                id: Some(pid),
                user_id: puid,
                title,
                comments: Vec::new(),
            });
        }
    }
    users
}

/// Users with their posts with their comments, grouped by foreign key from
/// the three levels' rows (each ordered by id).
pub fn nest(
    users: Vec<(i64, String)>,
    posts: Vec<(i64, i64, String)>,
    comments: Vec<(i64, i64, String)>,
) -> Vec<User> {
    use std::collections::HashMap;
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
