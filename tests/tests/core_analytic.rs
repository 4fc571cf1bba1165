//! The seed's analytic query, built exactly as the seed writes it, run on
//! every backend, with its rows checked.
//!
//! ```text
//! r = aliased(resume)
//! helper1 = select(w.id, w.name, r.compensation,
//!                  cast(avg(r.compensation) over (partition by r.workload), Integer)
//!                      .label("avg_workload_compensation"))
//!           .select_from(r).join(w, r.worker_id == w.id).subquery("helper1")
//! helper2 = select(helper1.c.id, helper1.c.name, helper1.c.compensation,
//!                  (helper1.c.compensation - helper1.c.avg_workload_compensation)
//!                      .label("compensation_diff")).cte("helper2")
//! select(helper2).order_by(helper2.c.compensation_diff.desc())
//! ```
//!
//! The part-time average is exactly 1501; the full-time one is 3550.5,
//! which `CAST(... AS INTEGER)` rounds to 3551 on PostgreSQL and MariaDB
//! and truncates to 3550 on SQLite. The intern has no pay, so its
//! difference is NULL: PostgreSQL sorts it first in a descending order,
//! SQLite and MariaDB last.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{finish, int, opt_ints, rows, seeded, texts};
use dialects::fixtures::{compensation_cte, compensation_report};
use persistence::dialects::{cast, func, partition_by, select, SqlType};
use persistence::Row;
use tests::{on_all_backends, TestBackend, TestDb};

/// `(id, name, compensation, compensation_diff)` of each row.
fn report_rows(got: &[Row]) -> Vec<(i64, String, Option<i64>, Option<i64>)> {
    let ids: Vec<i64> = got.iter().map(|r| int(r, "id")).collect();
    let names = texts(got, "name");
    let pay = opt_ints(got, "compensation");
    let diff = opt_ints(got, "compensation_diff");
    ids.into_iter()
        .zip(names)
        .zip(pay)
        .zip(diff)
        .map(|(((a, b), c), d)| (a, b, c, d))
        .collect()
}

fn row(
    id: i64,
    name: &str,
    pay: Option<i64>,
    diff: Option<i64>,
) -> (i64, String, Option<i64>, Option<i64>) {
    (id, name.to_owned(), pay, diff)
}

async fn seed_compensation_report(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let got = rows(&mut conn, &compensation_report(&s)).await;
    assert_eq!(
        got[0].keys().iter().map(|k| &**k).collect::<Vec<_>>(),
        ["id", "name", "compensation", "compensation_diff"]
    );
    // Full-time pay averages 3550.5: rounded to 3551, or truncated to 3550.
    let (architect, lead) = match db.backend {
        TestBackend::Sqlite => (451, -450),
        _ => (450, -451),
    };
    let paid = [
        row(3, "Bob", Some(2003), Some(502)),
        row(2, "Ann", Some(4001), Some(architect)),
        row(2, "Ann", Some(1500), Some(-1)),
        row(1, "Vlad", Some(3100), Some(lead)),
        row(1, "Vlad", Some(1000), Some(-501)),
    ];
    let intern = row(3, "Bob", None, None);
    let mut expected = paid.to_vec();
    match db.backend {
        // NULL is the largest value on PostgreSQL, the smallest elsewhere.
        TestBackend::Postgres => expected.insert(0, intern),
        _ => expected.push(intern),
    }
    assert_eq!(report_rows(&got), expected);
    finish(db, conn, s).await;
}

/// The cast itself: PostgreSQL and MariaDB round the average, SQLite
/// truncates it.
async fn cast_of_the_windowed_average(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let r = s.resume.alias("r");
    let avg = || func::avg(r.c("compensation")).over(partition_by([r.c("workload")]));
    let got = rows(
        &mut conn,
        &select((
            r.c("id"),
            cast(avg(), SqlType::Integer).label("avg_int"),
            (avg() * 10).label("avg_times_ten"),
        ))
        .select_from(&r)
        .order_by([r.c("id")]),
    )
    .await;
    let full_time = match db.backend {
        TestBackend::Sqlite => 3550,
        _ => 3551,
    };
    assert_eq!(
        opt_ints(&got, "avg_int"),
        [
            Some(1501),
            Some(1501),
            Some(1501),
            Some(full_time),
            Some(full_time),
            Some(full_time)
        ]
    );
    let times_ten: Vec<f64> = got
        .iter()
        .map(|r| common::num_value(r.value("avg_times_ten").unwrap()).unwrap())
        .collect();
    assert_eq!(
        times_ten,
        [15010.0, 15010.0, 15010.0, 35505.0, 35505.0, 35505.0]
    );
    finish(db, conn, s).await;
}

/// The seed's query with bound filters inside the subquery (applied before
/// the window), on the CTE, and a limit: parameters bind in text order.
async fn report_with_filters(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let cte = compensation_cte(&s, Some(1200));
    let stmt = select(&cte)
        .where_(cte.c("compensation_diff").gt(0))
        .where_(cte.c("name").ne("nobody"))
        .order_by([cte.c("compensation_diff").desc()])
        .limit(10);
    let got = rows(&mut conn, &stmt).await;
    // Part-time pay over 1200 averages 1751.5, full-time 3550.5.
    let expected = match db.backend {
        TestBackend::Sqlite => [
            row(2, "Ann", Some(4001), Some(451)),
            row(3, "Bob", Some(2003), Some(252)),
        ],
        _ => [
            row(2, "Ann", Some(4001), Some(450)),
            row(3, "Bob", Some(2003), Some(251)),
        ],
    };
    assert_eq!(report_rows(&got), expected);

    // The CTE joined back to the worker table, aggregated per worker.
    let cte = compensation_cte(&s, None);
    let got = rows(
        &mut conn,
        &select((
            s.worker.c("name"),
            func::count(cte.c("compensation")).label("paid"),
            func::max(cte.c("compensation_diff")).label("best_diff"),
        ))
        .select_from(&s.worker)
        .outerjoin(&cte, cte.c("id").eq(s.worker.c("id")))
        .group_by([s.worker.c("id"), s.worker.c("name")])
        .order_by([s.worker.c("id")]),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["Vlad", "Ann", "Bob", "Dana"]);
    assert_eq!(opt_ints(&got, "paid"), [Some(2), Some(2), Some(1), Some(0)]);
    let (architect, lead) = match db.backend {
        TestBackend::Sqlite => (451, -450),
        _ => (450, -451),
    };
    assert_eq!(
        opt_ints(&got, "best_diff"),
        [Some(lead), Some(architect), Some(502), None]
    );
    finish(db, conn, s).await;
}

on_all_backends!(
    seed_compensation_report,
    cast_of_the_windowed_average,
    report_with_filters
);
