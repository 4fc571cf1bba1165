//! The ORM: a fresh session per unit of work, as an application uses it.

use std::time::{Duration, Instant};

use persistence::orm::{self, joinedload, selectinload, SessionMaker};

use crate::model::{new_items, Item, Tables, User};
use crate::workload::{check_items, check_joined, check_nested, Workload};

/// One timed sample of `w`.
pub async fn run(sessions: &SessionMaker, t: &Tables, w: Workload) -> Duration {
    let start = Instant::now();
    match w {
        Workload::Select(n) => {
            for _ in 0..w.inner() {
                let mut s = sessions.session();
                let all = s
                    .scalars(orm::select::<Item>())
                    .await
                    .expect("select")
                    .all();
                s.commit().await.expect("commit");
                check_items(&all, n);
            }
        }
        Workload::Join(n) => {
            for _ in 0..w.inner() {
                let mut s = sessions.session();
                let q = orm::select::<User>()
                    .options([joinedload("posts")])
                    .order_by([t.user.c("id").asc()]);
                let users = s.scalars(q).await.expect("join").all();
                s.commit().await.expect("commit");
                check_joined(&users, n);
            }
        }
        Workload::Assoc => {
            let mut s = sessions.session();
            let q = orm::select::<User>()
                .options([selectinload("posts").selectinload("comments")])
                .order_by([t.user.c("id").asc()]);
            let users = s.scalars(q).await.expect("assoc").all();
            s.commit().await.expect("commit");
            check_nested(&users);
        }
        Workload::Insert(n) => {
            for _ in 0..w.inner() {
                let mut items = new_items(n);
                let mut s = sessions.session();
                s.add_all(&mut items).await.expect("add_all");
                s.commit().await.expect("commit");
                check_items(&items, n);
            }
        }
        Workload::InsertKeyed(n) => {
            for k in 0..w.inner() {
                let mut items = crate::model::keyed_items(n, 1 + k * n);
                let mut s = sessions.session();
                s.add_all(&mut items).await.expect("add_all");
                s.commit().await.expect("commit");
            }
        }
        Workload::Bulk(n) => {
            let mut items = new_items(n);
            let start = Instant::now();
            let mut s = sessions.session();
            s.add_all(&mut items).await.expect("add_all");
            s.commit().await.expect("commit");
            let took = start.elapsed();
            check_items(&items, n);
            return took;
        }
        Workload::Get(n) => {
            let mut s = sessions.session();
            for id in 1..=n as i64 {
                let item: Item = s.get(id).await.expect("get").expect("found");
                assert_eq!(item.id, Some(id));
            }
            s.commit().await.expect("commit");
        }
    }
    start.elapsed()
}
