//! Compiling against the statement cache's hit path (key walk, lookup,
//! parameter extraction) for five common shapes, in ns per statement.
//! `cargo bench -p dialects --bench statement_cache`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use dialects::compiler::cache::StatementCache;
use dialects::fixtures::seed;
use dialects::{delete, insert, select, update, Dialect, IntoExpr, Postgres, Statement};

fn time(n: u32, mut f: impl FnMut(u32)) -> f64 {
    for i in 0..n / 10 {
        f(i);
    }
    let t = Instant::now();
    for i in 0..n {
        f(i);
    }
    t.elapsed().as_nanos() as f64 / f64::from(n)
}

fn report<S: Statement>(name: &str, d: &dyn Dialect, build: impl Fn(i32) -> S) {
    const N: u32 = 200_000;
    let cache = StatementCache::default();
    let built = time(N, |i| {
        black_box(build(black_box(i as i32)));
    });
    let compile = time(N, |i| {
        black_box(build(i as i32).compile(d).unwrap());
    });
    let hit = time(N, |i| {
        black_box(cache.compile(&build(i as i32), d).unwrap());
    });
    let st = cache.stats();
    assert_eq!(st.misses, 1, "{name}: {st:?}");
    println!(
        "{name:<28} build {built:>6.0} ns   compile {:>6.0} ns   cache hit {:>6.0} ns",
        compile - built,
        hit - built
    );
}

fn main() {
    let s = seed();
    let d = Postgres;
    let w = &s.worker;
    let r = &s.resume;
    let p = &s.post;
    report("get by pk (1 column)", &d, |i| {
        select((w.c("id"),)).where_(w.c("id").eq(i))
    });
    report("4 columns, where/order/limit", &d, |i| {
        select((p.c("id"), p.c("title"), p.c("created_at"), p.c("draft")))
            .where_(p.c("publisher_id").eq(i).and(p.c("draft").eq(false)))
            .order_by(p.c("created_at").desc())
            .limit(20)
    });
    report("join", &d, |i| {
        select((w.c("name"), r.c("id")))
            .join(r, r.c("worker_id").eq(w.c("id")))
            .where_(w.c("id").eq(i))
    });
    // `draft` given: a client-side default computed at compile time is
    // what makes a shape uncacheable.
    report("insert 3 columns", &d, |i| {
        insert(p).values([
            ("id", i.into_expr()),
            ("title", "t".into_expr()),
            ("draft", true.into_expr()),
        ])
    });
    report("update by pk", &d, |i| {
        update(w).set("name", "x").where_(w.c("id").eq(i))
    });
    report("delete by pk", &d, |i| delete(w).where_(w.c("id").eq(i)));
}
