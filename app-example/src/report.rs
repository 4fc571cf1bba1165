//! The compensation report: the seed's analytic query, in Core.

use persistence::dialects::{
    cast, func, partition_by, select, Dialect, MySql, Postgres, Select, SqlType, Sqlite, Statement,
    Table,
};
use persistence::Error;

use crate::mapping::{resume, worker};

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
///
/// `worker` and `resume` are the mapped tables (`mapping::worker::table()`,
/// `mapping::resume::table()`).
pub fn compensation_report(worker: &Table, resume: &Table) -> Select {
    let w = worker;
    let r = resume.alias("r");
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

/// The report's SQL and parameters compiled for PostgreSQL, SQLite and
/// MySQL / MariaDB, as `cargo run -p app-example -- sql` prints them.
pub fn sql_for_all_dialects() -> Result<String, Error> {
    let query = compensation_report(&worker::table(), &resume::table());
    let dialects: [(&str, &dyn Dialect); 3] = [
        ("PostgreSQL", &Postgres),
        ("SQLite", &Sqlite),
        ("MySQL / MariaDB", &MySql::default()),
    ];
    let mut out = String::new();
    for (i, (name, dialect)) in dialects.into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let compiled = Statement::compile(&query, dialect)?;
        out.push_str(&format!(
            "-- {name}\n{}\n-- parameters: {:?}\n",
            compiled.sql, compiled.params
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_report_compiles_for_every_dialect() -> Result<(), persistence::Error> {
        let text = super::sql_for_all_dialects()?;
        assert_eq!(text.matches("WITH helper2 AS").count(), 3, "{text}");
        assert!(
            text.contains("avg(r.compensation) OVER (PARTITION BY r.workload)"),
            "{text}"
        );
        assert!(
            text.contains("ORDER BY helper2.compensation_diff DESC"),
            "{text}"
        );
        Ok(())
    }
}
