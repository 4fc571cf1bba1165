//! Raw sqlx on one bare connection: hand-written SQL, `query_as` into
//! tuples, the same objects assembled by hand.

use std::time::{Duration, Instant};

use sqlx::Executor as _;

use crate::model::{fold_joined, nest, Item, User};
use crate::sql;
use crate::workload::{check_items, check_joined, check_nested, Workload};

/// One bare sqlx connection.
pub enum Raw {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

/// Runs `$body` with `$c` bound to the connection, whichever backend.
macro_rules! on {
    ($raw:expr, $c:ident => $body:expr) => {
        match $raw {
            Raw::Sqlite($c) => $body,
            Raw::Postgres($c) => $body,
        }
    };
}

impl Raw {
    fn pg(&self) -> bool {
        matches!(self, Raw::Postgres(_))
    }

    /// Runs `sql` (no parameters), ignoring what it returns.
    pub async fn exec(&mut self, sql: &str) {
        on!(self, c => c.execute(sql).await.map(|_| ()).expect("raw statement"));
    }

    async fn items(&mut self) -> Vec<Item> {
        let rows: Vec<(i64, String, i64)> =
            on!(self, c => sqlx::query_as(sql::SELECT_ITEMS).fetch_all(c).await.expect("select"));
        rows.into_iter()
            .map(|(id, name, n)| Item {
                id: Some(id),
                name,
                n,
            })
            .collect()
    }

    async fn joined(&mut self) -> Vec<User> {
        let rows = on!(self, c => sqlx::query_as(sql::JOIN).fetch_all(c).await.expect("join"));
        fold_joined(rows)
    }

    async fn children(
        &mut self,
        table: &str,
        fk: &str,
        text: &str,
        ids: &[i64],
    ) -> Vec<(i64, i64, String)> {
        let sql = sql::children(self.pg(), table, fk, text, ids.len());
        on!(self, c => {
            let mut q = sqlx::query_as(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(c).await.expect("children")
        })
    }

    async fn nested(&mut self) -> Vec<User> {
        let users: Vec<(i64, String)> =
            on!(self, c => sqlx::query_as(sql::USERS).fetch_all(c).await.expect("users"));
        let ids: Vec<i64> = users.iter().map(|u| u.0).collect();
        let posts = self.children("bench_post", "user_id", "title", &ids).await;
        let ids: Vec<i64> = posts.iter().map(|p| p.0).collect();
        let comments = self
            .children("bench_comment", "post_id", "body", &ids)
            .await;
        nest(users, posts, comments)
    }

    /// One multi-row INSERT ... RETURNING id, autocommitted.
    async fn insert(&mut self, items: &mut [Item]) {
        let sql = sql::insert_items(self.pg(), items.len(), true);
        let ids: Vec<(i64,)> = on!(self, c => {
            let mut q = sqlx::query_as(&sql);
            for it in items.iter() {
                q = q.bind(&it.name).bind(it.n);
            }
            q.fetch_all(c).await.expect("insert")
        });
        for (it, (id,)) in items.iter_mut().zip(ids) {
            it.id = Some(id);
        }
    }

    /// Multi-row INSERTs of `sql::BULK_CHUNK` rows in one transaction.
    async fn bulk(&mut self, items: &[Item]) {
        self.exec("BEGIN").await;
        for part in items.chunks(sql::BULK_CHUNK) {
            let sql = sql::insert_items(self.pg(), part.len(), false);
            on!(self, c => {
                let mut q = sqlx::query(&sql);
                for it in part {
                    q = q.bind(&it.name).bind(it.n);
                }
                q.execute(c).await.map(|_| ()).expect("bulk insert")
            });
        }
        self.exec("COMMIT").await;
    }

    async fn get(&mut self, id: i64) -> Item {
        let sql = if self.pg() {
            sql::GET_PG
        } else {
            sql::GET_SQLITE
        };
        let (id, name, n): (i64, String, i64) =
            on!(self, c => sqlx::query_as(sql).bind(id).fetch_one(c).await.expect("get"));
        Item {
            id: Some(id),
            name,
            n,
        }
    }

    /// One timed sample of `w`.
    pub async fn run(&mut self, w: Workload) -> Duration {
        let start = Instant::now();
        match w {
            Workload::Select(n) => {
                for _ in 0..w.inner() {
                    check_items(&self.items().await, n);
                }
            }
            Workload::Join(n) => {
                for _ in 0..w.inner() {
                    check_joined(&self.joined().await, n);
                }
            }
            Workload::Assoc => check_nested(&self.nested().await),
            Workload::Insert(n) => {
                for _ in 0..w.inner() {
                    let mut items = crate::model::new_items(n);
                    self.insert(&mut items).await;
                    check_items(&items, n);
                }
            }
            Workload::InsertKeyed(n) => {
                for k in 0..w.inner() {
                    let items = crate::model::keyed_items(n, 1 + k * n);
                    let sql = sql::insert_keyed(self.pg(), n);
                    on!(self, c => {
                        let mut q = sqlx::query(&sql);
                        for it in &items {
                            q = q.bind(it.id).bind(&it.name).bind(it.n);
                        }
                        q.execute(c).await.map(|_| ()).expect("insert")
                    });
                }
            }
            Workload::Bulk(n) => {
                let items = crate::model::new_items(n);
                let start = Instant::now();
                self.bulk(&items).await;
                return start.elapsed();
            }
            Workload::Get(n) => {
                self.exec("BEGIN").await;
                for id in 1..=n as i64 {
                    let item = self.get(id).await;
                    assert_eq!(item.id, Some(id));
                }
                self.exec("COMMIT").await;
            }
        }
        start.elapsed()
    }
}
