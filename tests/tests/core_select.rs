//! SQLAlchemy Core's SELECT constructs run against every backend: each test
//! executes the construct on the seed's rows and checks the rows that come
//! back (not the SQL text, which `dialects/tests` pins down).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, Utc};
use common::{
    assert_unsupported, finish, int, ints, num_value, opt_ints, opt_texts, rows, seeded, sorted,
    strings, text_of, texts,
};
use persistence::dialects::{
    and_, case, cast, distinct, except, exists, func, intersect, literal, literal_column, not_,
    not_exists, or_, order_by, partition_by, select, star, text, union, union_all, FrameBound,
    SqlType, Value, Window,
};
use rust_decimal::Decimal;
use tests::{on_all_backends, TestBackend, TestDb};

/// Columns qualified by their table, aliased tables (a self-join too) and
/// labels, read back by label and by position.
async fn qualified_columns_and_aliases(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let r = s.resume.alias("r");
    let w = s.worker.alias("w");
    let got = rows(
        &mut conn,
        &select((
            w.c("name").label("worker_name"),
            r.c("title"),
            r.c("compensation"),
        ))
        .select_from(&r)
        .join(&w, r.c("worker_id").eq(w.c("id")))
        .where_(r.c("compensation").gt(2000))
        .order_by([r.c("id")]),
    )
    .await;
    assert_eq!(
        got[0].keys().iter().map(|k| &**k).collect::<Vec<_>>(),
        ["worker_name", "title", "compensation"]
    );
    assert_eq!(texts(&got, "worker_name"), ["Bob", "Vlad", "Ann"]);
    assert_eq!(texts(&got, 1), ["Python dev", "Lead", "Architect"]);
    assert_eq!(ints(&got, "compensation"), [2003, 3100, 4001]);

    // Plain table-qualified columns.
    let got = rows(
        &mut conn,
        &select((s.worker.c("id"), s.worker.c("name"))).order_by([s.worker.c("id")]),
    )
    .await;
    assert_eq!(ints(&got, "id"), [1, 2, 3, 4]);
    assert_eq!(texts(&got, "name"), ["Vlad", "Ann", "Bob", "Dana"]);

    // A self-join through two aliases of one table.
    let child = s.category.alias("child");
    let parent = s.category.alias("parent");
    let got = rows(
        &mut conn,
        &select((
            child.c("name").label("child"),
            parent.c("name").label("parent"),
        ))
        .select_from(&child)
        .join(&parent, child.c("parent_id").eq(parent.c("id")))
        .order_by([child.c("id")]),
    )
    .await;
    assert_eq!(
        got.into_iter()
            .map(|r| r.into_tuple::<(String, String)>().unwrap())
            .collect::<Vec<_>>(),
        [
            ("books".to_owned(), "root".to_owned()),
            ("rust".to_owned(), "books".to_owned()),
            ("sql".to_owned(), "books".to_owned()),
            ("music".to_owned(), "root".to_owned()),
        ]
    );
    finish(db, conn, s).await;
}

/// `= <> < <= > >=` on an integer column; NULL matches none of them.
async fn comparison_operators(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let pay = || s.resume.c("compensation");
    let cases = [
        (pay().eq(1500), vec![2]),
        (pay().ne(1500), vec![1, 3, 4, 5]),
        (pay().lt(2003), vec![1, 2]),
        (pay().le(2003), vec![1, 2, 3]),
        (pay().gt(2003), vec![4, 5]),
        (pay().ge(2003), vec![3, 4, 5]),
        // A column against a column.
        (s.resume.c("worker_id").eq(s.resume.c("id")), vec![1, 2, 3]),
        (s.resume.c("title").eq("Lead"), vec![4]),
        (s.resume.c("title").gt("Lead"), vec![1, 3]),
    ];
    for (i, (cond, expected)) in cases.into_iter().enumerate() {
        let got = rows(
            &mut conn,
            &select((s.resume.c("id"),))
                .where_(cond)
                .order_by([s.resume.c("title").desc()]),
        )
        .await;
        let mut got = ints(&got, "id");
        let mut expected = expected;
        if i < 7 {
            got.sort_unstable();
            expected.sort_unstable();
        }
        assert_eq!(got, expected, "case {i}");
    }
    finish(db, conn, s).await;
}

/// `+ - * / %`, unary minus and grouping by precedence.
async fn arithmetic_operators(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let pay = || s.resume.c("compensation");
    let got = rows(
        &mut conn,
        &select((
            (pay() + 10).label("plus"),
            (pay() - 3).label("minus"),
            (pay() * 2).label("times"),
            (pay() / 2).label("half"),
            (pay() % 7).label("modulo"),
            (-pay()).label("negated"),
            ((pay() + 1) * 2).label("grouped"),
            (pay() - (pay() - 3)).label("right_grouped"),
            (pay() * 2 + 1).label("precedence"),
        ))
        .where_(s.resume.c("id").eq(3)),
    )
    .await;
    let r = &got[0];
    assert_eq!(int(r, "plus"), 2013);
    assert_eq!(int(r, "minus"), 2000);
    assert_eq!(int(r, "times"), 4006);
    // `/` is true division on every backend, as in SQLAlchemy 2.
    assert_eq!(num_value(r.value("half").unwrap()), Some(1001.5));
    assert_eq!(int(r, "modulo"), 1);
    assert_eq!(int(r, "negated"), -2003);
    assert_eq!(int(r, "grouped"), 4008);
    assert_eq!(int(r, "right_grouped"), 3);
    assert_eq!(int(r, "precedence"), 4007);

    // Arithmetic in WHERE, NULL propagating through it.
    let got = rows(
        &mut conn,
        &select((s.resume.c("id"),))
            .where_((pay() * 2).gt(6000))
            .order_by([s.resume.c("id")]),
    )
    .await;
    assert_eq!(ints(&got, "id"), [4, 5]);
    finish(db, conn, s).await;
}

/// `and_`, `or_`, `not_` (and `!`), the empty `and_` (true) and `or_` (false).
async fn boolean_connectives(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let id = || s.resume.c("id");
    let pay = || s.resume.c("compensation");
    let cases = [
        (
            and_([pay().gt(1000), s.resume.c("workload").eq("parttime")]),
            vec![2, 3],
        ),
        (or_([pay().lt(1200), pay().gt(4000)]), vec![1, 5]),
        (not_(pay().gt(1500)), vec![1, 2]),
        (!id().le(4), vec![5, 6]),
        (
            or_([and_([id().ge(2), id().le(3)]), id().eq(6)]),
            vec![2, 3, 6],
        ),
        (not_(or_([id().eq(1), id().eq(2)])), vec![3, 4, 5, 6]),
        (id().eq(1).or(id().eq(2)).and(pay().gt(1200)), vec![2]),
        (and_([]), vec![1, 2, 3, 4, 5, 6]),
        (or_([]), vec![]),
    ];
    for (i, (cond, expected)) in cases.into_iter().enumerate() {
        let got = rows(&mut conn, &select((id(),)).where_(cond).order_by([id()])).await;
        assert_eq!(ints(&got, "id"), expected, "case {i}");
    }
    finish(db, conn, s).await;
}

/// `IN` / `NOT IN` with values, an empty list (nothing is in it, everything
/// is not), and a subquery.
async fn in_and_not_in(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let id = || s.worker.c("id");
    let empty: [i32; 0] = [];
    let cases = [
        (id().in_([1, 3, 99]), vec![1, 3]),
        (id().not_in([1, 3, 99]), vec![2, 4]),
        (id().in_(empty), vec![]),
        (id().not_in(empty), vec![1, 2, 3, 4]),
        (s.worker.c("name").in_(["Ann", "Dana"]), vec![2, 4]),
        (
            id().in_select(
                select((s.resume.c("worker_id"),)).where_(s.resume.c("compensation").gt(3000)),
            ),
            vec![1, 2],
        ),
        (
            id().not_in_select(select((s.resume.c("worker_id"),))),
            vec![4],
        ),
        // An empty IN combined with other conditions.
        (id().in_(empty).or(id().eq(2)), vec![2]),
        (id().not_in(empty).and(id().gt(2)), vec![3, 4]),
    ];
    for (i, (cond, expected)) in cases.into_iter().enumerate() {
        let got = rows(&mut conn, &select((id(),)).where_(cond).order_by([id()])).await;
        assert_eq!(ints(&got, "id"), expected, "case {i}");
    }
    finish(db, conn, s).await;
}

/// `BETWEEN` (inclusive) and `NOT BETWEEN`, on numbers and on text.
async fn between(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let pay = || s.resume.c("compensation");
    let cases = [
        (pay().between(1500, 3100), vec![2, 3, 4]),
        (pay().not_between(1500, 3100), vec![1, 5]),
        (s.resume.c("title").between("A", "H"), vec![2, 5]),
        (pay().between(s.resume.c("id") * 500, 2000), vec![1, 2]),
    ];
    for (i, (cond, expected)) in cases.into_iter().enumerate() {
        let got = rows(
            &mut conn,
            &select((s.resume.c("id"),))
                .where_(cond)
                .order_by([s.resume.c("id")]),
        )
        .await;
        assert_eq!(ints(&got, "id"), expected, "case {i}");
    }
    finish(db, conn, s).await;
}

/// `LIKE`, `NOT LIKE`, and `ILIKE` / `NOT ILIKE`, which ignore case on
/// every backend (native on PostgreSQL, emulated elsewhere).
async fn like_and_ilike(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let title = || s.post.c("title");
    let cases = [
        (title().like("%Rust%"), vec![1, 4]),
        (title().like("Learning%"), vec![2]),
        (title().like("_rphan"), vec![3]),
        (title().not_like("%Rust%"), vec![2, 3]),
        (title().ilike("%rust%"), vec![1, 4]),
        (title().ilike("%RUST IN%"), vec![1]),
        (title().ilike("learning sql"), vec![2]),
        (title().not_ilike("%RUST%"), vec![2, 3]),
        (title().not_ilike("%"), vec![]),
    ];
    for (i, (cond, expected)) in cases.into_iter().enumerate() {
        let got = rows(
            &mut conn,
            &select((s.post.c("id"),))
                .where_(cond)
                .order_by([s.post.c("id")]),
        )
        .await;
        assert_eq!(ints(&got, "id"), expected, "case {i}");
    }
    finish(db, conn, s).await;
}

/// `IS NULL` and `IS NOT NULL`.
async fn null_tests(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let q = |cond| {
        select((s.resume.c("id"),))
            .where_(cond)
            .order_by([s.resume.c("id")])
    };
    let got = rows(&mut conn, &q(s.resume.c("compensation").is_null())).await;
    assert_eq!(ints(&got, "id"), [6]);
    let got = rows(&mut conn, &q(s.resume.c("compensation").is_not_null())).await;
    assert_eq!(ints(&got, "id"), [1, 2, 3, 4, 5]);
    let got = rows(
        &mut conn,
        &select((s.post.c("title"),)).where_(s.post.c("publisher_id").is_null()),
    )
    .await;
    assert_eq!(texts(&got, "title"), ["Orphan"]);
    finish(db, conn, s).await;
}

/// String concatenation, searched CASE with ELSE, COALESCE, CAST to
/// several types, and labels on all of them.
async fn concat_case_coalesce_cast(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let pay = || s.resume.c("compensation");
    let got = rows(
        &mut conn,
        &select((
            s.worker
                .c("name")
                .concat(": ")
                .concat(s.resume.c("title"))
                .label("headline"),
            case([(pay().gt(3000), "high"), (pay().gt(1400), "mid")])
                .else_("low")
                .label("band"),
            case([(pay().is_null(), "unpaid")]).label("no_else"),
            func::coalesce([pay(), literal(0)]).label("pay_or_zero"),
            cast(pay(), SqlType::Text).label("pay_text"),
            cast(pay(), SqlType::Double).label("pay_double"),
            cast(pay(), SqlType::Numeric(10, 2)).label("pay_numeric"),
            cast(s.resume.c("id"), SqlType::String(Some(10)))
                .concat("#")
                .label("id_text"),
        ))
        .select_from(&s.resume)
        .join(&s.worker, s.resume.c("worker_id").eq(s.worker.c("id")))
        .order_by([s.resume.c("id")]),
    )
    .await;
    assert_eq!(
        texts(&got, "headline"),
        [
            "Vlad: Rust dev",
            "Ann: Go dev",
            "Bob: Python dev",
            "Vlad: Lead",
            "Ann: Architect",
            "Bob: Intern"
        ]
    );
    assert_eq!(
        texts(&got, "band"),
        ["low", "mid", "mid", "high", "high", "low"]
    );
    assert_eq!(
        opt_texts(&got, "no_else"),
        [None, None, None, None, None, Some("unpaid".to_owned())]
    );
    assert_eq!(ints(&got, "pay_or_zero"), [1000, 1500, 2003, 3100, 4001, 0]);
    assert_eq!(
        opt_texts(&got, "pay_text"),
        [
            Some("1000".to_owned()),
            Some("1500".to_owned()),
            Some("2003".to_owned()),
            Some("3100".to_owned()),
            Some("4001".to_owned()),
            None
        ]
    );
    let doubles: Vec<Option<f64>> = got
        .iter()
        .map(|r| r.get::<Option<f64>, _>("pay_double").unwrap())
        .collect();
    assert_eq!(
        doubles,
        [
            Some(1000.0),
            Some(1500.0),
            Some(2003.0),
            Some(3100.0),
            Some(4001.0),
            None
        ]
    );
    let numerics: Vec<Option<Decimal>> = got
        .iter()
        .map(|r| r.get::<Option<Decimal>, _>("pay_numeric").unwrap())
        .collect();
    assert_eq!(numerics[2], Some(Decimal::new(200_300, 2)));
    assert_eq!(numerics[5], None);
    assert_eq!(texts(&got, "id_text"), ["1#", "2#", "3#", "4#", "5#", "6#"]);

    // Casts of bound values.
    let got = rows(
        &mut conn,
        &select((
            cast("42", SqlType::Integer).label("from_text"),
            (cast("40", SqlType::Integer) + 2).label("arith"),
            cast(7, SqlType::Text).label("to_text"),
            cast("2024-02-29", SqlType::Date).label("day"),
        )),
    )
    .await;
    assert_eq!(int(&got[0], "from_text"), 42);
    assert_eq!(int(&got[0], "arith"), 42);
    assert_eq!(text_of(&got[0], "to_text"), "7");
    assert_eq!(
        got[0].get::<chrono::NaiveDate, _>("day").unwrap(),
        chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
    );
    finish(db, conn, s).await;
}

/// `SELECT DISTINCT`, `count(DISTINCT x)`.
async fn distinct_rows(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let got = rows(
        &mut conn,
        &select((s.resume.c("worker_id"),))
            .distinct()
            .order_by([s.resume.c("worker_id")]),
    )
    .await;
    assert_eq!(ints(&got, "worker_id"), [1, 2, 3]);
    let got = rows(&mut conn, &select((s.resume.c("workload"),)).distinct()).await;
    assert_eq!(sorted(texts(&got, "workload")), ["fulltime", "parttime"]);
    let got = rows(
        &mut conn,
        &select((
            func::count(distinct(s.resume.c("worker_id"))).label("workers"),
            func::count(s.resume.c("worker_id")).label("resumes"),
        )),
    )
    .await;
    assert_eq!(int(&got[0], "workers"), 3);
    assert_eq!(int(&got[0], "resumes"), 6);
    finish(db, conn, s).await;
}

/// `EXISTS` and `NOT EXISTS` with correlated subqueries.
async fn exists_and_not_exists(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let has_resume = || {
        select(star())
            .select_from(&s.resume)
            .where_(s.resume.c("worker_id").eq(s.worker.c("id")))
            .correlate(&s.worker)
    };
    let got = rows(
        &mut conn,
        &select((s.worker.c("name"),))
            .where_(exists(has_resume()))
            .order_by([s.worker.c("id")]),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["Vlad", "Ann", "Bob"]);
    let got = rows(
        &mut conn,
        &select((s.worker.c("name"),)).where_(not_exists(has_resume())),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["Dana"]);

    // Auto-correlation: a subquery naming the outer table in WHERE.
    let tagged = select((s.post_tag.c("post_id"),))
        .where_(s.post_tag.c("post_id").eq(s.post.c("id")))
        .where_(s.post_tag.c("tag_id").eq(1));
    let got = rows(
        &mut conn,
        &select((s.post.c("id"),))
            .where_(exists(tagged.clone()))
            .order_by([s.post.c("id")]),
    )
    .await;
    assert_eq!(ints(&got, "id"), [1, 4]);
    let got = rows(
        &mut conn,
        &select((s.post.c("id"),))
            .where_(not_exists(tagged))
            .order_by([s.post.c("id")]),
    )
    .await;
    assert_eq!(ints(&got, "id"), [2, 3]);
    finish(db, conn, s).await;
}

/// Scalar subqueries, uncorrelated (in WHERE) and correlated (in the
/// columns, per outer row).
async fn scalar_and_correlated_subqueries(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let best = select((func::max(s.resume.c("compensation")),)).scalar_subquery();
    let got = rows(
        &mut conn,
        &select((s.resume.c("title"),)).where_(s.resume.c("compensation").eq(best.clone())),
    )
    .await;
    assert_eq!(texts(&got, "title"), ["Architect"]);
    let got = rows(
        &mut conn,
        &select((
            s.resume.c("id"),
            (best - s.resume.c("compensation")).label("gap"),
        ))
        .where_(s.resume.c("workload").eq("fulltime"))
        .order_by([s.resume.c("id")]),
    )
    .await;
    assert_eq!(opt_ints(&got, "gap"), [Some(901), Some(0), None]);

    let top_pay = select((func::max(s.resume.c("compensation")),))
        .where_(s.resume.c("worker_id").eq(s.worker.c("id")))
        .scalar_subquery();
    let count = select((func::count_star(),))
        .where_(s.resume.c("worker_id").eq(s.worker.c("id")))
        .scalar_subquery();
    let got = rows(
        &mut conn,
        &select((
            s.worker.c("name"),
            top_pay.clone().label("top_pay"),
            count.label("resumes"),
        ))
        .order_by([s.worker.c("id")]),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["Vlad", "Ann", "Bob", "Dana"]);
    assert_eq!(
        opt_ints(&got, "top_pay"),
        [Some(3100), Some(4001), Some(2003), None]
    );
    assert_eq!(ints(&got, "resumes"), [2, 2, 2, 0]);

    // A correlated subquery in WHERE.
    let got = rows(
        &mut conn,
        &select((s.worker.c("name"),))
            .where_(top_pay.gt(3000))
            .order_by([s.worker.c("id")]),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["Vlad", "Ann"]);
    finish(db, conn, s).await;
}

/// `text()` as a whole statement with named parameters (one used twice),
/// as a condition, and as a literal column.
async fn text_clauses(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let got = rows(
        &mut conn,
        &text(
            "SELECT id, name FROM worker WHERE id = :id OR name = :name OR name = :name \
             ORDER BY id",
        )
        .bind("id", 1)
        .bind("name", "Bob"),
    )
    .await;
    assert_eq!(ints(&got, "id"), [1, 3]);
    assert_eq!(texts(&got, "name"), ["Vlad", "Bob"]);

    // A colon inside a quoted literal is not a parameter.
    let got = rows(
        &mut conn,
        &text("SELECT 'a:b' AS s, :x AS x").bind("x", "it's; \\ ok"),
    )
    .await;
    assert_eq!(text_of(&got[0], "s"), "a:b");
    assert_eq!(text_of(&got[0], "x"), "it's; \\ ok");

    let got = rows(
        &mut conn,
        &select((
            s.worker.c("name"),
            literal_column("1").label("one"),
            text("worker.id * :k").bind("k", 10).expr().label("scaled"),
        ))
        .where_(text("worker.id >= :min").bind("min", 3).expr())
        .order_by([s.worker.c("id")]),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["Bob", "Dana"]);
    assert_eq!(ints(&got, "one"), [1, 1]);
    assert_eq!(ints(&got, "scaled"), [30, 40]);
    finish(db, conn, s).await;
}

/// Aggregates and scalar functions, `now()` and `utc_now()` within a
/// minute of the clock.
async fn functions(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let pay = || s.resume.c("compensation");
    let got = rows(
        &mut conn,
        &select((
            func::count(pay()).label("paid"),
            func::count_star().label("all_rows"),
            func::sum(pay()).label("total"),
            func::avg(pay()).label("mean"),
            func::min(pay()).label("lowest"),
            func::max(pay()).label("highest"),
        )),
    )
    .await;
    let r = &got[0];
    assert_eq!(int(r, "paid"), 5);
    assert_eq!(int(r, "all_rows"), 6);
    assert_eq!(int(r, "total"), 11_604);
    let mean = num_value(r.value("mean").unwrap()).unwrap();
    assert!((mean - 2320.8).abs() < 1e-9, "avg = {mean}");
    assert_eq!(int(r, "lowest"), 1000);
    assert_eq!(int(r, "highest"), 4001);

    let got = rows(
        &mut conn,
        &select((
            func::lower(s.worker.c("name")).label("lower"),
            func::upper(s.worker.c("name")).label("upper"),
            func::length(s.worker.c("name")).label("len"),
            func::coalesce([literal(Value::Null), s.worker.c("name")]).label("first_set"),
        ))
        .where_(s.worker.c("id").eq(1)),
    )
    .await;
    assert_eq!(text_of(&got[0], "lower"), "vlad");
    assert_eq!(text_of(&got[0], "upper"), "VLAD");
    assert_eq!(int(&got[0], "len"), 4);
    assert_eq!(text_of(&got[0], "first_set"), "Vlad");

    // length() counts characters, not bytes.
    let got = rows(
        &mut conn,
        &select((func::length(literal("Zoë 漢字🙂")).label("len"),)),
    )
    .await;
    assert_eq!(int(&got[0], "len"), 7);

    // Aggregates over no rows: count is 0, the others NULL.
    let got = rows(
        &mut conn,
        &select((
            func::count_star().label("n"),
            func::sum(pay()).label("total"),
            func::max(pay()).label("highest"),
        ))
        .where_(pay().gt(1_000_000)),
    )
    .await;
    assert_eq!(int(&got[0], "n"), 0);
    assert_eq!(got[0].value("total").unwrap(), &Value::Null);
    assert_eq!(got[0].value("highest").unwrap(), &Value::Null);

    let got = rows(
        &mut conn,
        &select((func::now().label("now"), func::utc_now().label("utc_now"))),
    )
    .await;
    let clock = Utc::now();
    for col in ["now", "utc_now"] {
        let at: DateTime<Utc> = got[0].get(col).unwrap();
        let drift = (clock - at).num_seconds().abs();
        assert!(drift < 60, "{col} = {at}, clock = {clock}");
    }
    finish(db, conn, s).await;
}

/// Window functions: row_number (with NULLs placed last), rank,
/// dense_rank, lag, lead, and a running sum over a ROWS frame.
async fn window_functions(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let pay = || s.resume.c("compensation");
    let id = || s.resume.c("id");
    let got = rows(
        &mut conn,
        &select((
            id(),
            func::row_number()
                .over(order_by([pay().desc().nulls_last()]))
                .label("by_pay"),
            func::rank()
                .over(order_by([s.resume.c("worker_id")]))
                .label("rnk"),
            func::dense_rank()
                .over(order_by([s.resume.c("worker_id")]))
                .label("dense"),
            func::lag(pay())
                .over(partition_by([s.resume.c("worker_id")]).order_by([id()]))
                .label("previous"),
            func::lead(pay())
                .over(partition_by([s.resume.c("worker_id")]).order_by([id()]))
                .label("next"),
            func::sum(pay())
                .over(
                    Window::new()
                        .partition_by([s.resume.c("workload")])
                        .order_by([id()])
                        .rows(FrameBound::Preceding(1), FrameBound::CurrentRow),
                )
                .label("pair_sum"),
            func::row_number()
                .over(partition_by([s.resume.c("workload")]).order_by([id().desc()]))
                .label("in_workload"),
            func::count_star().over(Window::new()).label("total_rows"),
        ))
        .order_by([id()]),
    )
    .await;
    assert_eq!(ints(&got, "id"), [1, 2, 3, 4, 5, 6]);
    assert_eq!(ints(&got, "by_pay"), [5, 4, 3, 2, 1, 6]);
    assert_eq!(ints(&got, "rnk"), [1, 3, 5, 1, 3, 5]);
    assert_eq!(ints(&got, "dense"), [1, 2, 3, 1, 2, 3]);
    assert_eq!(
        opt_ints(&got, "previous"),
        [None, None, None, Some(1000), Some(1500), Some(2003)]
    );
    assert_eq!(
        opt_ints(&got, "next"),
        [Some(3100), Some(4001), None, None, None, None]
    );
    assert_eq!(
        opt_ints(&got, "pair_sum"),
        [
            Some(1000),
            Some(2500),
            Some(3503),
            Some(3100),
            Some(7101),
            Some(4001)
        ]
    );
    assert_eq!(ints(&got, "in_workload"), [3, 2, 1, 3, 2, 1]);
    assert_eq!(ints(&got, "total_rows"), [6; 6]);

    // A window function in a subquery, filtered outside: the best-paid
    // resume of each worker.
    let ranked = select((
        s.resume.c("worker_id"),
        s.resume.c("title"),
        func::row_number()
            .over(partition_by([s.resume.c("worker_id")]).order_by([pay().desc().nulls_last()]))
            .label("rn"),
    ))
    .subquery("ranked");
    let got = rows(
        &mut conn,
        &select((ranked.c("worker_id"), ranked.c("title")))
            .where_(ranked.c("rn").eq(1))
            .order_by([ranked.c("worker_id")]),
    )
    .await;
    assert_eq!(texts(&got, "title"), ["Lead", "Architect", "Python dev"]);
    finish(db, conn, s).await;
}

/// Inner, left outer and right outer joins everywhere; FULL OUTER JOIN on
/// PostgreSQL and SQLite, a typed Unsupported error on MariaDB.
async fn joins(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let got = rows(
        &mut conn,
        &select((s.worker.c("name"), s.resume.c("title")))
            .join(&s.resume, s.resume.c("worker_id").eq(s.worker.c("id")))
            .order_by([s.resume.c("id")]),
    )
    .await;
    assert_eq!(
        texts(&got, "name"),
        ["Vlad", "Ann", "Bob", "Vlad", "Ann", "Bob"]
    );

    let got = rows(
        &mut conn,
        &select((s.worker.c("name"), s.resume.c("title")))
            .outerjoin(&s.resume, s.resume.c("worker_id").eq(s.worker.c("id")))
            .where_(s.worker.c("id").ge(3))
            .order_by([s.worker.c("id").asc(), s.resume.c("id").asc()]),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["Bob", "Bob", "Dana"]);
    assert_eq!(
        opt_texts(&got, "title"),
        [
            Some("Python dev".to_owned()),
            Some("Intern".to_owned()),
            None
        ]
    );

    // post RIGHT OUTER JOIN publisher: No Starch has no post.
    let got = rows(
        &mut conn,
        &select((s.publisher.c("name"), s.post.c("title")))
            .select_from(&s.post)
            .right_join(
                &s.publisher,
                s.post.c("publisher_id").eq(s.publisher.c("id")),
            )
            .order_by([s.publisher.c("id").asc(), s.post.c("id").asc()]),
    )
    .await;
    assert_eq!(
        texts(&got, "name"),
        ["Manning", "O'Reilly", "O'Reilly", "No Starch"]
    );
    assert_eq!(
        opt_texts(&got, "title"),
        [
            Some("Rust in Action".to_owned()),
            Some("Learning SQL".to_owned()),
            Some("Programming Rust".to_owned()),
            None
        ]
    );

    // Three tables: posts, their tags through the association table.
    let got = rows(
        &mut conn,
        &select((s.post.c("title"), s.tag.c("name")))
            .join(&s.post_tag, s.post_tag.c("post_id").eq(s.post.c("id")))
            .join(&s.tag, s.tag.c("id").eq(s.post_tag.c("tag_id")))
            .order_by([s.post.c("id")]),
    )
    .await;
    assert_eq!(
        texts(&got, "title"),
        ["Rust in Action", "Learning SQL", "Programming Rust"]
    );
    assert_eq!(texts(&got, 1), ["rust", "sql", "rust"]);

    let full = select((s.publisher.c("name"), s.post.c("title")))
        .select_from(&s.post)
        .full_join(
            &s.publisher,
            s.post.c("publisher_id").eq(s.publisher.c("id")),
        );
    if db.backend == TestBackend::MySql {
        assert_unsupported(&db, conn.execute(&full).await, "FULL OUTER JOIN");
    } else {
        let got = rows(&mut conn, &full).await;
        let mut pairs: Vec<(Option<String>, Option<String>)> =
            got.into_iter().map(|r| r.into_tuple().unwrap()).collect();
        pairs.sort();
        let p = |name: Option<&str>, title: Option<&str>| {
            (name.map(str::to_owned), title.map(str::to_owned))
        };
        assert_eq!(
            pairs,
            [
                p(None, Some("Orphan")),
                p(Some("Manning"), Some("Rust in Action")),
                p(Some("No Starch"), None),
                p(Some("O'Reilly"), Some("Learning SQL")),
                p(Some("O'Reilly"), Some("Programming Rust")),
            ]
        );
    }
    finish(db, conn, s).await;
}

/// `GROUP BY` with aggregates, `HAVING` on an aggregate.
async fn group_by_having(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let total = || func::sum(s.resume.c("compensation"));
    let got = rows(
        &mut conn,
        &select((
            s.resume.c("worker_id"),
            func::count_star().label("n"),
            total().label("total"),
        ))
        .group_by([s.resume.c("worker_id")])
        .order_by([s.resume.c("worker_id")]),
    )
    .await;
    assert_eq!(ints(&got, "worker_id"), [1, 2, 3]);
    assert_eq!(ints(&got, "n"), [2, 2, 2]);
    assert_eq!(ints(&got, "total"), [4100, 5501, 2003]);

    let got = rows(
        &mut conn,
        &select((s.resume.c("worker_id"), total().label("total")))
            .group_by([s.resume.c("worker_id")])
            .having(total().gt(3000))
            .having(func::count_star().ge(2))
            .order_by([total().desc()]),
    )
    .await;
    assert_eq!(ints(&got, "worker_id"), [2, 1]);

    // Grouping a join, by the joined name.
    let got = rows(
        &mut conn,
        &select((
            s.worker.c("name"),
            func::count(s.resume.c("id")).label("resumes"),
        ))
        .outerjoin(&s.resume, s.resume.c("worker_id").eq(s.worker.c("id")))
        .group_by([s.worker.c("name")])
        .having(func::count(s.resume.c("id")).lt(2))
        .order_by([s.worker.c("name")]),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["Dana"]);
    assert_eq!(ints(&got, "resumes"), [0]);
    finish(db, conn, s).await;
}

/// ORDER BY ascending and descending, with NULLS FIRST / NULLS LAST
/// (native on PostgreSQL and SQLite, emulated on MariaDB), and each
/// backend's own default for NULLs.
async fn order_by_nulls(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let pay = || s.resume.c("compensation");
    let cases = [
        (pay().asc().nulls_first(), vec![6, 1, 2, 3, 4, 5]),
        (pay().asc().nulls_last(), vec![1, 2, 3, 4, 5, 6]),
        (pay().desc().nulls_first(), vec![6, 5, 4, 3, 2, 1]),
        (pay().desc().nulls_last(), vec![5, 4, 3, 2, 1, 6]),
    ];
    for (i, (term, expected)) in cases.into_iter().enumerate() {
        let got = rows(&mut conn, &select((s.resume.c("id"),)).order_by([term])).await;
        assert_eq!(ints(&got, "id"), expected, "case {i}");
    }
    // Without a null placement: PostgreSQL sorts NULL as the largest value,
    // SQLite and MariaDB as the smallest.
    let got = rows(
        &mut conn,
        &select((s.resume.c("id"),)).order_by([pay().desc()]),
    )
    .await;
    let expected = match db.backend {
        TestBackend::Postgres => [6, 5, 4, 3, 2, 1],
        _ => [5, 4, 3, 2, 1, 6],
    };
    assert_eq!(ints(&got, "id"), expected);

    // Several terms, mixed directions, a label and an expression.
    let got = rows(
        &mut conn,
        &select((
            s.resume.c("worker_id"),
            s.resume.c("id"),
            (s.resume.c("id") * -1).label("neg"),
        ))
        .order_by([
            s.resume.c("worker_id").desc(),
            (s.resume.c("id") * -1).label("neg").asc(),
        ]),
    )
    .await;
    assert_eq!(ints(&got, "id"), [6, 3, 5, 2, 4, 1]);
    let got = rows(
        &mut conn,
        &select((s.worker.c("name"),)).order_by([s.worker.c("name").asc()]),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["Ann", "Bob", "Dana", "Vlad"]);
    finish(db, conn, s).await;
}

/// LIMIT, LIMIT with OFFSET, OFFSET without LIMIT, LIMIT 0.
async fn limit_offset(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let q = || select((s.resume.c("id"),)).order_by([s.resume.c("id")]);
    for (stmt, expected) in [
        (q().limit(2), vec![1, 2]),
        (q().limit(2).offset(2), vec![3, 4]),
        (q().offset(4), vec![5, 6]),
        (q().offset(10), vec![]),
        (q().limit(0), vec![]),
        (q().limit(100).offset(5), vec![6]),
    ] {
        let got = rows(&mut conn, &stmt).await;
        assert_eq!(ints(&got, "id"), expected);
    }
    finish(db, conn, s).await;
}

/// DISTINCT ON on PostgreSQL; a typed Unsupported error elsewhere.
async fn distinct_on(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let stmt = select((s.resume.c("worker_id"), s.resume.c("title")))
        .distinct_on([s.resume.c("worker_id")])
        .order_by([
            s.resume.c("worker_id").asc(),
            s.resume.c("compensation").desc().nulls_last(),
        ]);
    if db.backend == TestBackend::Postgres {
        let got = rows(&mut conn, &stmt).await;
        assert_eq!(ints(&got, "worker_id"), [1, 2, 3]);
        assert_eq!(texts(&got, "title"), ["Lead", "Architect", "Python dev"]);
    } else {
        assert_unsupported(&db, conn.execute(&stmt).await, "DISTINCT ON");
    }
    finish(db, conn, s).await;
}

/// FOR UPDATE inside a transaction holds the row: another connection's
/// NOWAIT fails at once and SKIP LOCKED passes the row by (PostgreSQL and
/// MariaDB); SQLite has no row locks and says so.
async fn row_locks(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let q = || select((s.worker.c("id"),)).order_by([s.worker.c("id")]);
    if db.backend == TestBackend::Sqlite {
        let mut tx = conn.begin().await.unwrap();
        assert_unsupported(&db, tx.execute(&q().for_update()).await, "FOR UPDATE");
        assert_unsupported(
            &db,
            tx.execute(&q().for_update_nowait()).await,
            "FOR UPDATE",
        );
        assert_unsupported(
            &db,
            tx.execute(&q().for_update_skip_locked()).await,
            "FOR UPDATE",
        );
        tx.rollback().await.unwrap();
        finish(db, conn, s).await;
        return;
    }
    let mut other = db.engine.connect().await.unwrap();
    {
        let mut tx = conn.begin().await.unwrap();
        let locked = rows(&mut tx, &q().where_(s.worker.c("id").eq(1)).for_update()).await;
        assert_eq!(ints(&locked, "id"), [1]);

        let mut tx2 = other.begin().await.unwrap();
        let err = tx2
            .execute(&q().where_(s.worker.c("id").eq(1)).for_update_nowait())
            .await
            .expect_err("the row is locked by the first transaction");
        assert!(
            matches!(err, persistence::Error::Database { .. }),
            "{err:?}"
        );
        tx2.rollback().await.unwrap();

        let mut tx2 = other.begin().await.unwrap();
        let free = rows(&mut tx2, &q().for_update_skip_locked()).await;
        assert_eq!(ints(&free, "id"), [2, 3, 4]);
        tx2.rollback().await.unwrap();
        tx.commit().await.unwrap();
    }
    // Released at commit: NOWAIT gets the row now.
    let mut tx2 = other.begin().await.unwrap();
    let got = rows(
        &mut tx2,
        &q().where_(s.worker.c("id").eq(1)).for_update_nowait(),
    )
    .await;
    assert_eq!(ints(&got, "id"), [1]);
    tx2.commit().await.unwrap();
    drop(other);
    finish(db, conn, s).await;
}

/// A named subquery joined by its columns (`.c()`), and a subquery over a
/// subquery.
async fn aliased_subqueries(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let totals = select((
        s.resume.c("worker_id"),
        func::sum(s.resume.c("compensation")).label("total"),
    ))
    .group_by([s.resume.c("worker_id")])
    .subquery("totals");
    let got = rows(
        &mut conn,
        &select((s.worker.c("name"), totals.c("total")))
            .select_from(&s.worker)
            .join(&totals, totals.c("worker_id").eq(s.worker.c("id")))
            .order_by([totals.c("total").desc()]),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["Ann", "Vlad", "Bob"]);
    assert_eq!(ints(&got, "total"), [5501, 4100, 2003]);

    let rich = select((totals.c("worker_id"), totals.c("total")))
        .where_(totals.c("total").gt(3000))
        .subquery("rich");
    let got = rows(
        &mut conn,
        &select((
            func::count_star().label("n"),
            func::min(rich.c("total")).label("low"),
        ))
        .select_from(&rich),
    )
    .await;
    assert_eq!(int(&got[0], "n"), 2);
    assert_eq!(int(&got[0], "low"), 4100);

    // Every column of a subquery, selected whole.
    let got = rows(
        &mut conn,
        &select(&totals).order_by([totals.c("worker_id")]),
    )
    .await;
    assert_eq!(
        got[0].keys().iter().map(|k| &**k).collect::<Vec<_>>(),
        ["worker_id", "total"]
    );
    assert_eq!(ints(&got, "worker_id"), [1, 2, 3]);
    finish(db, conn, s).await;
}

/// A CTE used twice, a CTE over a CTE, a recursive CTE counting 1..10,
/// and a recursive walk down a category tree.
async fn ctes(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let paid = select((s.resume.c("worker_id"), s.resume.c("compensation")))
        .where_(s.resume.c("compensation").is_not_null())
        .cte("paid");
    let best = select((
        paid.c("worker_id"),
        func::max(paid.c("compensation")).label("best"),
    ))
    .group_by([paid.c("worker_id")])
    .cte("best");
    let got = rows(
        &mut conn,
        &select((s.worker.c("name"), best.c("best")))
            .select_from(&best)
            .join(&s.worker, s.worker.c("id").eq(best.c("worker_id")))
            .where_(
                best.c("best")
                    .gt(select((func::avg(paid.c("compensation")),)).scalar_subquery()),
            )
            .order_by([best.c("best").desc()]),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["Ann", "Vlad"]);
    assert_eq!(ints(&got, "best"), [4001, 3100]);

    // WITH RECURSIVE counting 1..10.
    let nums = select((literal(1).label("n"),)).cte_recursive("nums");
    let nums = nums.union_all(select(((nums.c("n") + 1).label("n"),)).where_(nums.c("n").lt(10)));
    let got = rows(&mut conn, &select((nums.c("n"),)).order_by([nums.c("n")])).await;
    assert_eq!(ints(&got, "n"), (1..=10).collect::<Vec<_>>());
    let got = rows(
        &mut conn,
        &select((func::sum(nums.c("n")).label("total"),)).select_from(&nums),
    )
    .await;
    assert_eq!(int(&got[0], "total"), 55);

    // Every category under "books", with its depth.
    let tree = select((
        s.category.c("id"),
        s.category.c("name"),
        literal(0).label("depth"),
    ))
    .where_(s.category.c("name").eq("books"))
    .cte_recursive("tree");
    let child = s.category.alias("child");
    let tree = tree.union_all(
        select((
            child.c("id"),
            child.c("name"),
            (tree.c("depth") + 1).label("depth"),
        ))
        .select_from(&child)
        .join(&tree, child.c("parent_id").eq(tree.c("id"))),
    );
    let got = rows(
        &mut conn,
        &select((tree.c("name"), tree.c("depth"))).order_by([tree.c("id")]),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["books", "rust", "sql"]);
    assert_eq!(ints(&got, "depth"), [0, 1, 1]);
    finish(db, conn, s).await;
}

/// UNION, UNION ALL, INTERSECT and EXCEPT, ordered and limited as a whole.
async fn set_operations(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let name = || s.worker.c("name");
    let low = || select((name(),)).where_(s.worker.c("id").le(2));
    let mid = || select((name(),)).where_(s.worker.c("id").in_([2, 3]));
    let cases = [
        (union([low(), mid()]), vec!["Ann", "Bob", "Vlad"]),
        (union_all([low(), mid()]), vec!["Ann", "Ann", "Bob", "Vlad"]),
        (intersect([low(), mid()]), vec!["Ann"]),
        (except([low(), mid()]), vec!["Vlad"]),
    ];
    for (i, (compound, expected)) in cases.into_iter().enumerate() {
        let got = rows(&mut conn, &compound.order_by([name()])).await;
        assert_eq!(texts(&got, "name"), strings(&expected), "case {i}");
    }
    // Different tables, ordered descending and limited.
    let got = rows(
        &mut conn,
        &select((name(),))
            .union(select((s.publisher.c("name"),)))
            .order_by([name().desc()])
            .limit(3),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["Vlad", "O'Reilly", "No Starch"]);
    // A member with its own ORDER BY and LIMIT.
    let top = select((name(),))
        .order_by([s.worker.c("id").desc()])
        .limit(1);
    let got = rows(
        &mut conn,
        &union_all([top, select((s.tag.c("name"),)).where_(s.tag.c("id").eq(1))])
            .order_by([name()]),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["Dana", "rust"]);
    finish(db, conn, s).await;
}

on_all_backends!(
    qualified_columns_and_aliases,
    comparison_operators,
    arithmetic_operators,
    boolean_connectives,
    in_and_not_in,
    between,
    like_and_ilike,
    null_tests,
    concat_case_coalesce_cast,
    distinct_rows,
    exists_and_not_exists,
    scalar_and_correlated_subqueries,
    text_clauses,
    functions,
    window_functions,
    joins,
    group_by_having,
    order_by_nulls,
    limit_offset,
    distinct_on,
    row_locks,
    aliased_subqueries,
    ctes,
    set_operations,
);
