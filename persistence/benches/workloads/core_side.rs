//! Core: statements built with the expression language, run on a pooled
//! connection (checked out per unit of work, committed), rows decoded into
//! tuples and the same objects assembled by hand.

use std::time::{Duration, Instant};

use persistence::dialects::{insert, select, Value};
use persistence::{Connection, Engine};

use crate::model::{fold_joined, nest, new_items, Item, Tables, User};
use crate::workload::{check_items, check_joined, check_nested, Workload};

fn to_item((id, name, n): (i64, String, i64)) -> Item {
    Item {
        id: Some(id),
        name,
        n,
    }
}

async fn items(conn: &mut Connection, t: &Tables) -> Vec<Item> {
    let i = &t.item;
    let stmt = select((i.c("id"), i.c("name"), i.c("n")));
    let rows = conn.execute(&stmt).await.expect("select");
    let rows = rows.all_as::<(i64, String, i64)>().expect("tuples");
    rows.into_iter().map(to_item).collect()
}

async fn joined(conn: &mut Connection, t: &Tables) -> Vec<User> {
    let (u, p) = (&t.user, &t.post);
    let stmt = select((
        u.c("id"),
        u.c("name"),
        p.c("id"),
        p.c("user_id"),
        p.c("title"),
    ))
    .select_from(u)
    .outerjoin(p, p.c("user_id").eq(u.c("id")))
    .order_by([u.c("id").asc(), p.c("id").asc()]);
    let rows = conn.execute(&stmt).await.expect("join");
    fold_joined(rows.all_as().expect("tuples"))
}

async fn nested(conn: &mut Connection, t: &Tables) -> Vec<User> {
    let (u, p, c) = (&t.user, &t.post, &t.comment);
    let stmt = select((u.c("id"), u.c("name"))).order_by([u.c("id").asc()]);
    let users: Vec<(i64, String)> = conn
        .execute(&stmt)
        .await
        .expect("users")
        .all_as()
        .expect("tuples");
    let ids = users.iter().map(|u| u.0);
    let stmt = select((p.c("id"), p.c("user_id"), p.c("title")))
        .where_(p.c("user_id").in_(ids))
        .order_by([p.c("id").asc()]);
    let posts: Vec<(i64, i64, String)> = conn
        .execute(&stmt)
        .await
        .expect("posts")
        .all_as()
        .expect("tuples");
    let ids = posts.iter().map(|p| p.0);
    let stmt = select((c.c("id"), c.c("post_id"), c.c("body")))
        .where_(c.c("post_id").in_(ids))
        .order_by([c.c("id").asc()]);
    let comments = conn
        .execute(&stmt)
        .await
        .expect("comments")
        .all_as()
        .expect("tuples");
    nest(users, posts, comments)
}

/// One multi-row INSERT ... RETURNING id.
async fn insert_returning(conn: &mut Connection, t: &Tables, items: &mut [Item]) {
    let rows = items
        .iter()
        .map(|it| [Value::from(it.name.clone()), Value::from(it.n)]);
    let stmt = insert(&t.item)
        .rows(["name", "n"], rows)
        .returning(t.item.c("id"));
    let ids: Vec<(i64,)> = conn
        .execute(&stmt)
        .await
        .expect("insert")
        .all_as()
        .expect("ids");
    for (it, (id,)) in items.iter_mut().zip(ids) {
        it.id = Some(id);
    }
}

/// One timed sample of `w`.
pub async fn run(engine: &Engine, t: &Tables, w: Workload) -> Duration {
    let start = Instant::now();
    match w {
        Workload::Select(n) => {
            for _ in 0..w.inner() {
                let mut conn = engine.connect().await.expect("connect");
                let all = items(&mut conn, t).await;
                conn.commit().await.expect("commit");
                check_items(&all, n);
            }
        }
        Workload::Join(n) => {
            for _ in 0..w.inner() {
                let mut conn = engine.connect().await.expect("connect");
                let users = joined(&mut conn, t).await;
                conn.commit().await.expect("commit");
                check_joined(&users, n);
            }
        }
        Workload::Assoc => {
            let mut conn = engine.connect().await.expect("connect");
            let users = nested(&mut conn, t).await;
            conn.commit().await.expect("commit");
            check_nested(&users);
        }
        Workload::Insert(n) => {
            for _ in 0..w.inner() {
                let mut items = new_items(n);
                let mut conn = engine.connect().await.expect("connect");
                insert_returning(&mut conn, t, &mut items).await;
                conn.commit().await.expect("commit");
                check_items(&items, n);
            }
        }
        Workload::InsertKeyed(n) => {
            for k in 0..w.inner() {
                let items = crate::model::keyed_items(n, 1 + k * n);
                let rows = items.iter().map(|it| {
                    [
                        Value::from(it.id.unwrap_or_default()),
                        Value::from(it.name.clone()),
                        Value::from(it.n),
                    ]
                });
                let mut conn = engine.connect().await.expect("connect");
                let stmt = insert(&t.item).rows(["id", "name", "n"], rows);
                conn.execute(&stmt).await.expect("insert");
                conn.commit().await.expect("commit");
            }
        }
        Workload::Bulk(n) => {
            let items = new_items(n);
            let start = Instant::now();
            let mut conn = engine.connect().await.expect("connect");
            let sets = items.iter().map(|it| {
                [
                    ("name", Value::from(it.name.clone())),
                    ("n", Value::from(it.n)),
                ]
            });
            let done = conn
                .executemany(&insert(&t.item), sets)
                .await
                .expect("executemany");
            conn.commit().await.expect("commit");
            let took = start.elapsed();
            assert_eq!(done.rows_affected(), n as u64);
            return took;
        }
        Workload::Get(n) => {
            let mut conn = engine.connect().await.expect("connect");
            let i = &t.item;
            for id in 1..=n as i64 {
                let stmt = select((i.c("id"), i.c("name"), i.c("n"))).where_(i.c("id").eq(id));
                let row: (i64, String, i64) = conn
                    .execute(&stmt)
                    .await
                    .expect("get")
                    .one()
                    .expect("one row")
                    .into_tuple()
                    .expect("tuple");
                assert_eq!(row.0, id);
            }
            conn.commit().await.expect("commit");
        }
    }
    start.elapsed()
}
