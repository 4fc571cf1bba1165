//! The workloads, their sizes (full or quick), and the checks every side's
//! result must pass.

use crate::model::{Item, User};

/// Users, posts per user and comments per post of the associations.
pub const ASSOC: (usize, usize, usize) = (100, 10, 10);

/// One measured case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Every row of `bench_item` holding this many.
    Select(usize),
    /// This many users, one post each, loaded with a LEFT OUTER JOIN.
    Join(usize),
    /// Users with posts with comments (`ASSOC`), one query per level.
    Assoc,
    /// This many new items inserted (ids read back) and committed.
    Insert(usize),
    /// This many new items whose keys the application gives, committed
    /// (the ORM's commit is then one statement).
    InsertKeyed(usize),
    /// This many new items in one transaction, in batches.
    Bulk(usize),
    /// This many gets by primary key, one transaction.
    Get(usize),
}

impl Workload {
    /// The workloads of a run; `quick` shrinks the bulk insert and the gets.
    pub fn all(quick: bool) -> Vec<Workload> {
        let (bulk, gets) = if quick {
            (10_000, 1_000)
        } else {
            (100_000, 10_000)
        };
        vec![
            Workload::Select(1),
            Workload::Select(100),
            Workload::Select(10_000),
            Workload::Join(1),
            Workload::Join(100),
            Workload::Join(1000),
            Workload::Assoc,
            Workload::Insert(1),
            Workload::Insert(100),
            Workload::Insert(1000),
            Workload::InsertKeyed(1),
            Workload::Bulk(bulk),
            Workload::Get(gets),
        ]
    }

    /// The case's name in the table.
    pub fn name(self) -> String {
        let (a, b, c) = ASSOC;
        match self {
            Workload::Select(n) => format!("select {n}"),
            Workload::Join(n) => format!("join {n}"),
            Workload::Assoc => format!("assoc {a}x{b}x{c}"),
            Workload::Insert(n) => format!("insert {n}"),
            Workload::InsertKeyed(n) => format!("insert {n}, given key"),
            Workload::Bulk(n) => format!("bulk insert {n}"),
            Workload::Get(n) => format!("get by pk x{n}"),
        }
    }

    /// Repetitions: `BENCH_REPS` if set, else by the workload's weight.
    pub fn reps(self, quick: bool) -> usize {
        if let Some(n) = std::env::var("BENCH_REPS")
            .ok()
            .and_then(|s| s.parse().ok())
        {
            return n;
        }
        let heavy = matches!(self, Workload::Bulk(_) | Workload::Get(_));
        match (quick, heavy) {
            (true, true) => 3,
            (true, false) => 7,
            (false, true) => 5,
            (false, false) => 21,
        }
    }

    /// Round trips inside one timed sample: light cases repeat so that a
    /// sample lasts long enough for the clock (`1` row selects, `1` insert).
    pub fn inner(self) -> usize {
        match self {
            Workload::Select(1)
            | Workload::Join(1)
            | Workload::Insert(1)
            | Workload::InsertKeyed(1) => 20,
            _ => 1,
        }
    }
}

/// Items as selected: `n` of them, with ids.
pub fn check_items(items: &[Item], n: usize) {
    assert_eq!(items.len(), n);
    assert!(items.iter().all(|i| i.id.is_some()));
}

/// Users of the join: `n`, one post each.
pub fn check_joined(users: &[User], n: usize) {
    assert_eq!(users.len(), n);
    for u in users {
        assert_eq!(u.posts.len(), 1, "{:?}", u.id);
        assert_eq!(u.posts[0].user_id, u.id);
    }
}

/// Users of the associations: every level complete.
pub fn check_nested(users: &[User]) {
    let (a, b, c) = ASSOC;
    assert_eq!(users.len(), a);
    for u in users {
        assert_eq!(u.posts.len(), b, "{:?}", u.id);
        for p in &u.posts {
            assert_eq!(p.user_id, u.id);
            assert_eq!(p.comments.len(), c, "{:?}", p.id);
            assert!(p.comments.iter().all(|k| k.post_id == p.id));
        }
    }
}
