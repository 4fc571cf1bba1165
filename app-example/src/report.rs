//! The compensation report: the seed's analytic query, in Core.

use persistence::dialects::{cast, func, partition_by, select, Select, SqlType};

use crate::schema::HiringTables;

/// The seed's query: for each resume, the worker, the compensation and its
/// difference to the average compensation of the same workload.
///
/// ```text
/// r = aliased(resume)
/// helper1 = select(w.id, w.name, r.compensation,
///                  cast(avg(r.compensation) over (partition by r.workload), Integer)
///                      .label("avg_workload_compensation"))
///           .select_from(r).join(w, r.worker_id == w.id).subquery("helper1")
/// helper2 = select(helper1.c.id, helper1.c.name, helper1.c.compensation,
///                  (helper1.c.compensation - helper1.c.avg_workload_compensation)
///                      .label("compensation_diff")).cte("helper2")
/// select(helper2).order_by(helper2.c.compensation_diff.desc())
/// ```
pub fn compensation_report(t: &HiringTables) -> Select {
    let w = &t.worker;
    let r = t.resume.alias("r");
    let helper1 = select((
        w.c("id"),
        w.c("name"),
        r.c("compensation"),
        cast(
            func::avg(r.c("compensation")).over(partition_by([r.c("workload")])),
            SqlType::Integer,
        )
        .label("avg_workload_compensation"),
    ))
    .select_from(&r)
    .join(w, r.c("worker_id").eq(w.c("id")))
    .subquery("helper1");
    let helper2 = select((
        helper1.c("id"),
        helper1.c("name"),
        helper1.c("compensation"),
        (helper1.c("compensation") - helper1.c("avg_workload_compensation"))
            .label("compensation_diff"),
    ))
    .cte("helper2");
    select(&helper2).order_by([helper2.c("compensation_diff").desc()])
}
