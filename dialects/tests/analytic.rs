//! The seed's analytic query (`dialects::fixtures`, built as the seed
//! writes it): an aliased resume `r`, the subquery `helper1` with a
//! windowed average cast to Integer, the CTE `helper2` with
//! `compensation_diff`, and the final select from the CTE ordered by it.

mod common;

use common::{big, check, fixture, i, s};
use dialects::fixtures::{compensation_cte, compensation_report};
use dialects::select;

const HELPER1_PG: &str = "SELECT worker.id, worker.name, r.compensation, \
    CAST(avg(r.compensation) OVER (PARTITION BY r.workload) AS INTEGER) AS avg_workload_compensation \
    FROM resume AS r JOIN worker ON r.worker_id = worker.id";

#[test]
fn seed_analytic_query_on_every_dialect() {
    let f = fixture();
    let stmt = compensation_report(&f);
    let expected = |helper1: &str| {
        format!(
            "WITH helper2 AS (SELECT helper1.id, helper1.name, helper1.compensation, \
             helper1.compensation - helper1.avg_workload_compensation AS compensation_diff \
             FROM ({helper1}) AS helper1) \
             SELECT helper2.id, helper2.name, helper2.compensation, helper2.compensation_diff \
             FROM helper2 ORDER BY helper2.compensation_diff DESC"
        )
    };
    check(
        &stmt,
        &expected(HELPER1_PG),
        &expected(HELPER1_PG),
        &expected(&HELPER1_PG.replace("AS INTEGER", "AS SIGNED INTEGER")),
        &[],
    );
}

#[test]
fn seed_query_result_columns() {
    let f = fixture();
    let stmt = compensation_report(&f);
    assert_eq!(
        stmt.column_names(),
        [
            Some("id"),
            Some("name"),
            Some("compensation"),
            Some("compensation_diff")
        ]
    );
}

#[test]
fn seed_query_with_filters_binds_in_text_order() {
    let f = fixture();
    let cte = compensation_cte(&f, Some(500));
    let stmt = select(&cte)
        .where_(cte.c("compensation_diff").gt(0))
        .where_(cte.c("name").ne("nobody"))
        .order_by([cte.c("compensation_diff").desc()])
        .limit(10);
    let sql = format!(
        "WITH helper2 AS (SELECT helper1.id, helper1.name, helper1.compensation, \
         helper1.compensation - helper1.avg_workload_compensation AS compensation_diff \
         FROM ({HELPER1_PG} WHERE r.compensation > ?) AS helper1) \
         SELECT helper2.id, helper2.name, helper2.compensation, helper2.compensation_diff \
         FROM helper2 WHERE helper2.compensation_diff > ? AND helper2.name <> ? \
         ORDER BY helper2.compensation_diff DESC LIMIT ?"
    );
    let pg = sql
        .replacen('?', "$1", 1)
        .replacen('?', "$2", 1)
        .replacen('?', "$3", 1)
        .replacen('?', "$4", 1);
    check(
        &stmt,
        &pg,
        &sql,
        &sql.replace("AS INTEGER", "AS SIGNED INTEGER"),
        &[i(500), i(0), s("nobody"), big(10)],
    );
}

#[test]
fn seed_query_misspelled_cte_column_fails() {
    let f = fixture();
    let cte = compensation_cte(&f, None);
    let stmt = select(&cte).order_by([cte.c("compensation_dif").desc()]);
    assert_eq!(
        stmt.compile(&dialects::Postgres).unwrap_err().to_string(),
        "`helper2` has no column named `compensation_dif`"
    );
}
