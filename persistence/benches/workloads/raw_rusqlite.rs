//! Raw rusqlite: in-process SQLite on the calling thread, cached prepared
//! statements, the same objects assembled by hand. The physical limit the
//! SQLite figures are measured against.

use std::time::{Duration, Instant};

use rusqlite::{params, params_from_iter, Connection};

use crate::model::{fold_joined, nest, Item, User};
use crate::sql;
use crate::workload::{check_items, check_joined, check_nested, Workload};

/// Opens the bench's SQLite file with the pragmas the other sides use.
pub fn open(path: &std::path::Path) -> Connection {
    let c = Connection::open(path).expect("rusqlite open");
    c.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
    )
    .expect("pragmas");
    c
}

fn item(r: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    Ok(Item {
        id: Some(r.get(0)?),
        name: r.get(1)?,
        n: r.get(2)?,
    })
}

fn items(c: &Connection) -> Vec<Item> {
    let mut st = c.prepare_cached(sql::SELECT_ITEMS).expect("prepare");
    let rows = st.query_map([], item).expect("select");
    rows.collect::<Result<_, _>>().expect("rows")
}

fn joined(c: &Connection) -> Vec<User> {
    let mut st = c.prepare_cached(sql::JOIN).expect("prepare");
    let rows = st
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .expect("join");
    fold_joined(rows.collect::<Result<Vec<_>, _>>().expect("rows"))
}

fn children(
    c: &Connection,
    table: &str,
    fk: &str,
    text: &str,
    ids: &[i64],
) -> Vec<(i64, i64, String)> {
    let sql = sql::children(false, table, fk, text, ids.len());
    let mut st = c.prepare_cached(&sql).expect("prepare");
    let rows = st
        .query_map(params_from_iter(ids), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("children");
    rows.collect::<Result<_, _>>().expect("rows")
}

fn nested(c: &Connection) -> Vec<User> {
    let mut st = c.prepare_cached(sql::USERS).expect("prepare");
    let users: Vec<(i64, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("users")
        .collect::<Result<_, _>>()
        .expect("rows");
    let ids: Vec<i64> = users.iter().map(|u| u.0).collect();
    let posts = children(c, "bench_post", "user_id", "title", &ids);
    let ids: Vec<i64> = posts.iter().map(|p| p.0).collect();
    let comments = children(c, "bench_comment", "post_id", "body", &ids);
    nest(users, posts, comments)
}

/// One prepared single-row INSERT per item in one transaction, each id
/// read back as the last rowid.
fn insert(c: &mut Connection, items: &mut [Item]) {
    let tx = c.transaction().expect("begin");
    {
        let mut st = tx.prepare_cached(sql::INSERT_ONE_SQLITE).expect("prepare");
        for it in items.iter_mut() {
            it.id = Some(st.insert(params![it.name, it.n]).expect("insert"));
        }
    }
    tx.commit().expect("commit");
}

fn get(c: &Connection, id: i64) -> Item {
    let mut st = c.prepare_cached(sql::GET_SQLITE).expect("prepare");
    st.query_row([id], item).expect("get")
}

/// One timed sample of `w`.
pub fn run(c: &mut Connection, w: Workload) -> Duration {
    let start = Instant::now();
    match w {
        Workload::Select(n) => {
            for _ in 0..w.inner() {
                check_items(&items(c), n);
            }
        }
        Workload::Join(n) => {
            for _ in 0..w.inner() {
                check_joined(&joined(c), n);
            }
        }
        Workload::Assoc => check_nested(&nested(c)),
        Workload::Insert(n) => {
            for _ in 0..w.inner() {
                let mut items = crate::model::new_items(n);
                insert(c, &mut items);
                check_items(&items, n);
            }
        }
        Workload::InsertKeyed(n) => {
            for k in 0..w.inner() {
                let items = crate::model::keyed_items(n, 1 + k * n);
                let tx = c.transaction().expect("begin");
                {
                    let mut st = tx
                        .prepare_cached(sql::INSERT_KEYED_SQLITE)
                        .expect("prepare");
                    for it in &items {
                        st.execute(params![it.id, it.name, it.n]).expect("insert");
                    }
                }
                tx.commit().expect("commit");
            }
        }
        Workload::Bulk(n) => {
            let mut items = crate::model::new_items(n);
            let start = Instant::now();
            insert(c, &mut items);
            return start.elapsed();
        }
        Workload::Get(n) => {
            let tx = c.transaction().expect("begin");
            for id in 1..=n as i64 {
                assert_eq!(get(&tx, id).id, Some(id));
            }
            tx.commit().expect("commit");
        }
    }
    start.elapsed()
}
