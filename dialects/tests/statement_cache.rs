//! The statement cache: keys equal for one shape whatever its values,
//! different for every structural difference, and cached SQL identical to
//! a fresh compile.

use dialects::compiler::cache::StatementCache;
use dialects::compiler::cache_key::CacheKey;
use dialects::fixtures::{random::random_select, seed, Seed};
use dialects::{
    delete, func, insert, select, text, update, Column, Dialect, Expr, MySql, Postgres, SqlType,
    Sqlite, Statement, Table,
};

fn dialects() -> Vec<Box<dyn Dialect>> {
    vec![
        Box::new(Postgres),
        Box::new(Sqlite),
        Box::new(MySql::default()),
    ]
}

fn key<S: Statement + ?Sized>(s: &S) -> Vec<u8> {
    CacheKey::of(s).expect("cacheable").bytes().to_vec()
}

/// Builds a statement of one shape from an integer and a text value.
type Shape = Box<dyn Fn(i32, &str) -> Box<dyn Statement>>;

/// Statements of one shape, built from an integer and a text value.
fn shapes(s: &Seed) -> Vec<Shape> {
    let w = s.worker.clone();
    let w2 = s.worker.clone();
    let w3 = s.worker.clone();
    let w4 = s.worker.clone();
    let w5 = s.worker.clone();
    let w6 = s.worker.clone();
    let w7 = s.worker.clone();
    let r = s.resume.clone();
    vec![
        Box::new(move |n, _| Box::new(select((w.c("id"),)).where_(w.c("id").eq(n)))),
        Box::new(move |n, t| {
            Box::new(
                select((w2.c("id"), w2.c("name")))
                    .where_(w2.c("name").eq(t).and(w2.c("id").gt(n)))
                    .order_by(w2.c("name").desc())
                    .limit(10)
                    .offset(5),
            )
        }),
        Box::new(move |n, t| {
            Box::new(
                select((w3.c("name"), r.c("id")))
                    .join(&r, r.c("worker_id").eq(w3.c("id")))
                    .where_(
                        w3.c("name")
                            .contains(t)
                            .or(r.c("id").in_([n, n + 1, n + 2])),
                    ),
            )
        }),
        Box::new(move |n, t| {
            Box::new(insert(&w4).values([("id", n.into_e()), ("name", t.into_e())]))
        }),
        Box::new(move |n, t| Box::new(update(&w5).set("name", t).where_(w5.c("id").eq(n)))),
        Box::new(move |n, _| Box::new(delete(&w6).where_(w6.c("id").between(n, n + 10)))),
        Box::new(move |n, t| {
            Box::new(
                select((func::count(w7.c("id")), -n.into_e()))
                    .where_(w7.c("name").ne(t))
                    .group_by(w7.c("name")),
            )
        }),
        Box::new(move |n, t| Box::new(text("SELECT :a, :b").bind("a", n).bind("b", t))),
    ]
}

trait IntoE {
    fn into_e(self) -> Expr;
}
impl<T: dialects::IntoExpr> IntoE for T {
    fn into_e(self) -> Expr {
        self.into_expr()
    }
}

#[test]
fn one_shape_with_other_values_hits_and_matches_a_fresh_compile() {
    let s = seed();
    for d in dialects() {
        let cache = StatementCache::default();
        let shapes = shapes(&s);
        for (i, build) in shapes.iter().enumerate() {
            let a = build(3, "Vlad");
            let b = build(40, "O'Brien");
            assert_eq!(key(&*a), key(&*b), "shape {i}");
            assert_eq!(
                cache.compile(&*a, &*d).unwrap(),
                a.compile(&*d).unwrap(),
                "shape {i}"
            );
            let fresh = b.compile(&*d).unwrap();
            assert_eq!(
                cache.compile(&*b, &*d).unwrap(),
                fresh,
                "shape {i} on {}",
                d.name()
            );
        }
        let st = cache.stats();
        assert_eq!((st.misses, st.hits, st.uncached), (8, 8, 0), "{}", d.name());
    }
}

#[test]
fn shared_sql_from_the_cache_matches_a_fresh_compile() {
    let s = seed();
    for d in dialects() {
        let cache = StatementCache::default();
        for (i, build) in shapes(&s).iter().enumerate() {
            for (n, t) in [(7, "Ann"), (40, "O'Brien")] {
                let stmt = build(n, t);
                let fresh = stmt.compile(&*d).unwrap();
                let shared = cache.compile_shared(&*stmt, &*d).unwrap();
                assert_eq!(&*shared.sql, fresh.sql, "shape {i} on {}", d.name());
                assert_eq!(shared.params, fresh.params, "shape {i} on {}", d.name());
            }
        }
        let st = cache.stats();
        assert_eq!((st.misses, st.hits, st.uncached), (8, 8, 0), "{}", d.name());
    }
}

#[test]
fn random_selects_from_the_cache_equal_fresh_compiles() {
    let s = seed();
    for d in dialects() {
        let cache = StatementCache::default();
        let mut cached = 0;
        for n in 0..400 {
            let stmt = random_select(n, &s);
            let fresh = stmt.compile(&*d);
            let first = cache.compile(&stmt, &*d);
            // A clone: the same shape, its values at other addresses.
            let again = cache.compile(&stmt.clone(), &*d);
            match fresh {
                Ok(fresh) => {
                    assert_eq!(first.unwrap(), fresh, "seed {n}");
                    assert_eq!(again.unwrap(), fresh, "seed {n}");
                }
                Err(e) => {
                    assert_eq!(first.unwrap_err(), e);
                    assert_eq!(again.unwrap_err(), e);
                }
            }
            cached = cache.stats().hits;
        }
        assert!(cached > 300, "{}: only {cached} hits", d.name());
    }
}

#[test]
fn structural_differences_change_the_key() {
    let s = seed();
    let w = &s.worker;
    let r = &s.resume;
    let other = Table::new("worker")
        .column(Column::new("id", SqlType::Integer).primary_key())
        .column(Column::new("name", SqlType::Text));
    let alias = w.alias("w1");
    let base = || select((w.c("id"),)).where_(w.c("id").eq(1));
    let variants: Vec<(&str, Vec<u8>)> = vec![
        ("base", key(&base())),
        (
            "column",
            key(&select((w.c("name"),)).where_(w.c("id").eq(1))),
        ),
        ("table", key(&select((r.c("id"),)).where_(r.c("id").eq(1)))),
        (
            "same name, other table object",
            key(&select((other.c("id"),)).where_(other.c("id").eq(1))),
        ),
        (
            "alias",
            key(&select((alias.c("id"),)).where_(alias.c("id").eq(1))),
        ),
        (
            "operator",
            key(&select((w.c("id"),)).where_(w.c("id").ne(1))),
        ),
        (
            "value kind",
            key(&select((w.c("id"),)).where_(w.c("id").eq("1"))),
        ),
        (
            "null",
            key(&select((w.c("id"),)).where_(w.c("id").eq(None::<i32>))),
        ),
        (
            "in 2",
            key(&select((w.c("id"),)).where_(w.c("id").in_([1, 2]))),
        ),
        (
            "in 3",
            key(&select((w.c("id"),)).where_(w.c("id").in_([1, 2, 3]))),
        ),
        ("limit 1", key(&base().limit(1))),
        ("limit 2", key(&base().limit(2))),
        ("offset", key(&base().limit(1).offset(1))),
        ("order asc", key(&base().order_by(w.c("id").asc()))),
        ("order desc", key(&base().order_by(w.c("id").desc()))),
        (
            "nulls",
            key(&base().order_by(w.c("id").desc().nulls_last())),
        ),
        (
            "cast int",
            key(&select((w.c("id").cast(SqlType::Integer),))),
        ),
        (
            "cast varchar",
            key(&select((w.c("id").cast(SqlType::string(10)),))),
        ),
        (
            "cast varchar 11",
            key(&select((w.c("id").cast(SqlType::string(11)),))),
        ),
        ("label", key(&select((w.c("id").label("x"),)))),
        ("label y", key(&select((w.c("id").label("y"),)))),
        ("distinct", key(&base().distinct())),
        (
            "for update",
            key(&base().with_for_update(dialects::Lock::default())),
        ),
        ("neg", key(&select((-1.into_e(),)))),
        ("neg negative", key(&select((-(-1).into_e(),)))),
        ("text", key(&text("SELECT 1"))),
        ("text 2", key(&text("SELECT 2"))),
        (
            "update",
            key(&update(w).set("name", "x").where_(w.c("id").eq(1))),
        ),
        (
            "update id",
            key(&update(w).set("id", 2).where_(w.c("id").eq(1))),
        ),
        ("delete", key(&delete(w).where_(w.c("id").eq(1)))),
        ("insert", key(&insert(w).values([("id", 1)]))),
        ("insert name", key(&insert(w).values([("name", "x")]))),
    ];
    for (i, (a, ka)) in variants.iter().enumerate() {
        for (b, kb) in &variants[i + 1..] {
            assert_ne!(ka, kb, "{a} and {b} have one key");
        }
    }
}

#[test]
fn a_disabled_cache_compiles_every_time() {
    let s = seed();
    let cache = StatementCache::new(0);
    let q = select((s.worker.c("id"),)).where_(s.worker.c("id").eq(1));
    for _ in 0..2 {
        assert_eq!(
            cache.compile(&q, &Postgres).unwrap(),
            q.compile(&Postgres).unwrap()
        );
    }
    assert_eq!(cache.stats().hits + cache.stats().misses, 0);
}

#[test]
fn a_full_cache_evicts_the_least_recently_used_shape() {
    let s = seed();
    let w = &s.worker;
    let cache = StatementCache::new(2);
    let by_id = select((w.c("id"),)).where_(w.c("id").eq(1));
    let by_name = select((w.c("id"),)).where_(w.c("name").eq("a"));
    let both = select((w.c("id"), w.c("name")));
    cache.compile(&by_id, &Postgres).unwrap();
    cache.compile(&by_name, &Postgres).unwrap();
    // `by_id` is used again, so `by_name` is now the least recently used.
    cache.compile(&by_id, &Postgres).unwrap();
    cache.compile(&both, &Postgres).unwrap();
    let before = cache.stats();
    assert_eq!((before.hits, before.misses, before.entries), (1, 3, 2));
    // `by_id` and `both` stayed; `by_name` was evicted and compiles again.
    assert_eq!(
        cache.compile(&by_id, &Postgres).unwrap(),
        by_id.compile(&Postgres).unwrap()
    );
    cache.compile(&both, &Postgres).unwrap();
    assert_eq!(cache.stats().hits, 3);
    assert_eq!(
        cache.compile(&by_name, &Postgres).unwrap(),
        by_name.compile(&Postgres).unwrap()
    );
    let after = cache.stats();
    assert_eq!((after.hits, after.misses, after.entries), (3, 4, 2));
}
