//! Compile-time cost of statements, per dialect: the seed's analytic query
//! (alias, windowed subquery, CTE) and a typical join + where + order +
//! limit select. `compile/*` builds the statement once and times only
//! `.compile()`; `build_and_compile/*` times building it too.
//!
//! `cargo bench -p dialects --bench compile -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use dialects::{
    cast, func, partition_by, select, Column, Dialect, MySql, Postgres, ReferentialAction, Select,
    SqlType, Sqlite, Table,
};

struct Tables {
    worker: Table,
    resume: Table,
}

fn tables() -> Tables {
    let worker = Table::new("worker")
        .column(Column::new("id", SqlType::Integer).primary_key())
        .column(Column::new("name", SqlType::string(256)).not_null());
    let resume = Table::new("resume")
        .column(Column::new("id", SqlType::Integer).primary_key())
        .column(Column::new("title", SqlType::string(256)).not_null())
        .column(Column::new("compensation", SqlType::Integer))
        .column(Column::new(
            "workload",
            SqlType::enumeration("workload", ["parttime", "fulltime"]),
        ))
        .column(
            Column::new("worker_id", SqlType::Integer)
                .foreign_key("worker.id")
                .on_delete(ReferentialAction::Cascade),
        );
    Tables { worker, resume }
}

/// The seed's analytic query, as the seed writes it.
fn analytic(t: &Tables) -> Select {
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

/// A typical ORM-shaped query: join, two conditions, order, limit.
fn join_where_order_limit(t: &Tables) -> Select {
    let (w, r) = (&t.worker, &t.resume);
    select((w.c("id"), w.c("name"), r.c("title"), r.c("compensation")))
        .join(r, r.c("worker_id").eq(w.c("id")))
        .where_(r.c("compensation").gt(1000))
        .where_(w.c("name").like("V%"))
        .order_by([r.c("compensation").desc(), w.c("id").asc()])
        .limit(20)
}

/// Builds one of the benchmarked statements.
type Build = fn(&Tables) -> Select;

fn dialects() -> [(&'static str, Box<dyn Dialect>); 3] {
    [
        ("postgresql", Box::new(Postgres)),
        ("sqlite", Box::new(Sqlite)),
        ("mysql", Box::new(MySql::default())),
    ]
}

fn bench(c: &mut Criterion) {
    let t = tables();
    let queries: [(&str, Build); 2] = [
        ("analytic", analytic),
        ("join_where_order_limit", join_where_order_limit),
    ];
    for (query, build) in queries {
        let mut group = c.benchmark_group(format!("compile/{query}"));
        let stmt = build(&t);
        for (name, dialect) in dialects() {
            group.bench_function(name, |b| {
                b.iter(|| black_box(&stmt).compile(dialect.as_ref()))
            });
        }
        group.finish();

        let mut group = c.benchmark_group(format!("build_and_compile/{query}"));
        for (name, dialect) in dialects() {
            group.bench_function(name, |b| {
                b.iter(|| build(black_box(&t)).compile(dialect.as_ref()))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
