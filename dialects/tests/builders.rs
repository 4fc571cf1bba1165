//! Builders that read as SQLAlchemy's do: mixed ORDER BY terms, filter_by
//! with values of several types, the simple CASE, variadic coalesce and
//! concat, set operations that return the statement, lead / lag defaults.

mod common;

use common::{check, check_one, fixture, i, s};
use dialects::{case_value, delete, func, order_by, select, update, Postgres, Sqlite, Value};

#[test]
fn order_by_takes_mixed_terms() {
    let f = fixture();
    let pay = || f.resume.c("compensation");
    let stmt = select((f.resume.c("id"),)).order_by((pay().desc().nulls_last(), f.resume.c("id")));
    check(
        &stmt,
        "SELECT resume.id FROM resume ORDER BY resume.compensation DESC NULLS LAST, resume.id",
        "SELECT resume.id FROM resume ORDER BY resume.compensation DESC NULLS LAST, resume.id",
        "SELECT resume.id FROM resume ORDER BY resume.compensation IS NULL, resume.compensation DESC, resume.id",
        &[],
    );
    // One term alone, and a window ordered by mixed terms.
    let one = select((f.resume.c("id"),)).order_by(f.resume.c("id").desc());
    check_one(
        &one,
        &Postgres,
        "SELECT resume.id FROM resume ORDER BY resume.id DESC",
        &[],
    );
    let w = select((func::row_number().over(order_by((pay().desc(), f.resume.c("id")))),));
    check_one(
        &w,
        &Sqlite,
        "SELECT row_number() OVER (ORDER BY resume.compensation DESC, resume.id) FROM resume",
        &[],
    );
}

#[test]
fn filter_by_takes_values_of_mixed_types() {
    let f = fixture();
    let stmt = select((f.resume.c("id"),)).filter_by((
        ("title", "Lead"),
        ("worker_id", 1),
        ("compensation", None::<i32>),
    ));
    check(
        &stmt,
        "SELECT resume.id FROM resume WHERE resume.title = $1 AND resume.worker_id = $2 AND resume.compensation IS NULL",
        "SELECT resume.id FROM resume WHERE resume.title = ? AND resume.worker_id = ? AND resume.compensation IS NULL",
        "SELECT resume.id FROM resume WHERE resume.title = ? AND resume.worker_id = ? AND resume.compensation IS NULL",
        &[s("Lead"), i(1)],
    );
    let name = String::from("worker_id");
    let up = update(&f.resume)
        .set("title", "x")
        .filter_by(((name.as_str(), 2), ("title", "Go dev")));
    check_one(
        &up,
        &Postgres,
        "UPDATE resume SET title = $1 WHERE resume.worker_id = $2 AND resume.title = $3",
        &[s("x"), i(2), s("Go dev")],
    );
    let del =
        delete(&f.resume).filter_by(vec![("id", Value::from(1)), ("title", Value::from("a"))]);
    check_one(
        &del,
        &Sqlite,
        "DELETE FROM resume WHERE resume.id = ? AND resume.title = ?",
        &[i(1), s("a")],
    );
}

#[test]
fn simple_case_compares_one_operand() {
    let f = fixture();
    let kind = case_value(
        f.resume.c("workload"),
        [("parttime", "PT"), ("fulltime", "FT")],
    )
    .else_("?");
    check(
        &select((kind.label("kind"),)),
        "SELECT CASE resume.workload WHEN CAST($1 AS workload) THEN $2 WHEN CAST($3 AS workload) THEN $4 ELSE $5 END AS kind FROM resume",
        "SELECT CASE resume.workload WHEN ? THEN ? WHEN ? THEN ? ELSE ? END AS kind FROM resume",
        "SELECT CASE resume.workload WHEN ? THEN ? WHEN ? THEN ? ELSE ? END AS kind FROM resume",
        &[s("parttime"), s("PT"), s("fulltime"), s("FT"), s("?")],
    );
}

#[test]
fn coalesce_and_concat_are_variadic() {
    let f = fixture();
    let stmt = select((
        func::coalesce((f.resume.c("compensation"), f.resume.c("id"), 0)).label("c"),
        func::concat((f.resume.c("title"), " / ", f.resume.c("workload"))).label("t"),
    ));
    check(
        &stmt,
        "SELECT coalesce(resume.compensation, resume.id, $1) AS c, resume.title || $2 || resume.workload AS t FROM resume",
        "SELECT coalesce(resume.compensation, resume.id, ?) AS c, resume.title || ? || resume.workload AS t FROM resume",
        "SELECT coalesce(resume.compensation, resume.id, ?) AS c, concat(resume.title, ?, resume.workload) AS t FROM resume",
        &[i(0), s(" / ")],
    );
}

#[test]
fn lag_and_lead_default_to_one_row() {
    let f = fixture();
    let by_id = || order_by(f.resume.c("id"));
    let stmt = select((
        func::lag(f.resume.c("id")).over(by_id()).label("a"),
        func::lead(f.resume.c("id")).over(by_id()).label("b"),
        func::lag_or(f.resume.c("id"), 2, 0)
            .over(by_id())
            .label("c"),
        func::lead_or(f.resume.c("id"), 3, -1)
            .over(by_id())
            .label("d"),
    ));
    check_one(
        &stmt,
        &Postgres,
        "SELECT lag(resume.id) OVER (ORDER BY resume.id) AS a, lead(resume.id) OVER (ORDER BY resume.id) AS b, \
         lag(resume.id, $1, $2) OVER (ORDER BY resume.id) AS c, lead(resume.id, $3, $4) OVER (ORDER BY resume.id) AS d \
         FROM resume",
        &[i(2), i(0), i(3), i(-1)],
    );
}

#[test]
fn lag_with_a_default_is_unsupported_on_mariadb() {
    let f = fixture();
    let stmt = select((func::lag_or(f.resume.c("id"), 1, 0).over(order_by(f.resume.c("id"))),));
    common::assert_unsupported(
        &stmt,
        &dialects::MySql::mariadb(),
        "lag() / lead() with a default value",
    );
    check_one(
        &stmt,
        &dialects::MySql::mysql8(),
        "SELECT lag(resume.id, ?, ?) OVER (ORDER BY resume.id) FROM resume",
        &[i(1), i(0)],
    );
}
