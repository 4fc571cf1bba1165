//! Core FROM forms, row locks, operators and developer aids on every
//! backend (issue 13's items 12 to 14): `values()` as a FROM item,
//! `LATERAL`, `FETCH FIRST`, set operations as subqueries and CTEs,
//! de-duplicated subquery labels, `FOR UPDATE OF` / `FOR SHARE` / `NOWAIT`
//! / `SKIP LOCKED` seen from a second connection, the string, regexp,
//! distinctness, date-part and aggregate operators, and the debugging
//! rendering with values inlined (which, run as text, finds the same rows).
//! Each test checks the rows the server returns.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{assert_unsupported, finish, int, ints, rows, run, seeded, text_of, texts};
use persistence::dialects::{
    func, insert, literal, select, star, text, update, values, DateField, Lock, SqlType, Value,
};
use tests::{on_all_backends, TestBackend, TestDb};

/// A `VALUES` list joined like a table: each worker's bonus.
async fn values_as_a_from_item(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let bonus = values(
        "bonus",
        [
            ("worker_id", SqlType::Integer),
            ("amount", SqlType::Integer),
        ],
    )
    .row((1, 10))
    .row((3, 30))
    .row((9, 90));
    let got = rows(
        &mut conn,
        &select((s.worker.c("name"), bonus.c("amount")))
            .select_from(&s.worker)
            .join(&bonus, bonus.c("worker_id").eq(s.worker.c("id")))
            .where_(bonus.c("amount").gt(5))
            .order_by([bonus.c("amount")]),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["Vlad", "Bob"]);
    assert_eq!(ints(&got, "amount"), [10, 30]);
    // Alone, with its own column names.
    let alone = rows(
        &mut conn,
        &select((bonus.c("worker_id"),)).order_by([bonus.c("worker_id").desc()]),
    )
    .await;
    assert_eq!(ints(&alone, "worker_id"), [9, 3, 1]);
    finish(db, conn, s).await;
}

/// The latest post of each publisher through a LATERAL subquery on
/// PostgreSQL; a typed error on SQLite and MariaDB, which have none.
async fn lateral_subquery(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let latest = select((s.post.c("title"),))
        .where_(s.post.c("publisher_id").eq(s.publisher.c("id")))
        .order_by([s.post.c("id").desc()])
        .limit(1)
        .lateral("latest");
    let stmt = select((s.publisher.c("name"), latest.c("title")))
        .select_from(&s.publisher)
        .join(&latest, literal(true))
        .order_by([s.publisher.c("name")]);
    if db.backend == TestBackend::Postgres {
        let got = rows(&mut conn, &stmt).await;
        assert_eq!(texts(&got, "name"), ["Manning", "O'Reilly"]);
        assert_eq!(texts(&got, "title"), ["Rust in Action", "Programming Rust"]);
    } else {
        assert_unsupported(&db, conn.execute(&stmt).await, "LATERAL");
    }
    finish(db, conn, s).await;
}

/// `FETCH FIRST n ROWS ONLY` (as LIMIT where there is no FETCH) and
/// `WITH TIES` where the backend has it.
async fn fetch_first(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let page = rows(
        &mut conn,
        &select((s.worker.c("id"),))
            .order_by([s.worker.c("id")])
            .offset(1)
            .fetch(2),
    )
    .await;
    assert_eq!(ints(&page, "id"), [2, 3]);
    // The first published post ties with the other published one.
    let ties = select((s.post.c("id"),))
        .order_by([s.post.c("draft")])
        .fetch_with_ties(1);
    if db.backend == TestBackend::Sqlite {
        assert_unsupported(&db, conn.execute(&ties).await, "FETCH FIRST ... WITH TIES");
    } else {
        let mut ids = ints(&rows(&mut conn, &ties).await, "id");
        ids.sort_unstable();
        assert_eq!(ids, [1, 4]);
    }
    finish(db, conn, s).await;
}

/// A UNION used as a derived table and as a CTE.
async fn set_operations_as_subquery_and_cte(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let names = select((s.worker.c("name"),))
        .union(select((s.publisher.c("name"),)))
        .subquery("names");
    let got = rows(
        &mut conn,
        &select((names.c("name"),))
            .select_from(&names)
            .where_(names.c("name").ilike("%n%"))
            .order_by([names.c("name")]),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["Ann", "Dana", "Manning", "No Starch"]);
    let all = select((s.worker.c("name"),))
        .union_all(select((s.worker.c("name"),)))
        .cte("twice");
    let counted = rows(
        &mut conn,
        &select((func::count(star()).label("n"),)).select_from(&all),
    )
    .await;
    assert_eq!(int(&counted[0], "n"), 8);
    finish(db, conn, s).await;
}

/// Two `id` columns in one subquery: the second is `id_1`.
async fn duplicate_labels_in_a_subquery(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let wr = select((s.worker.c("id"), s.resume.c("id"), s.resume.c("title")))
        .select_from(&s.worker)
        .join(&s.resume, s.resume.c("worker_id").eq(s.worker.c("id")))
        .subquery("wr");
    let got = rows(
        &mut conn,
        &select((wr.c("id"), wr.c("id_1"), wr.c("title")))
            .select_from(&wr)
            .where_(wr.c("id").eq(1))
            .order_by([wr.c("id_1")]),
    )
    .await;
    assert_eq!(ints(&got, "id"), [1, 1]);
    assert_eq!(ints(&got, "id_1"), [1, 4]);
    assert_eq!(texts(&got, "title"), ["Rust dev", "Lead"]);
    finish(db, conn, s).await;
}

/// Row locks as a second connection sees them: `FOR UPDATE OF worker`
/// (PostgreSQL) or `FOR UPDATE` (MariaDB, which has no OF) holds worker 1;
/// `SKIP LOCKED` passes it by, `NOWAIT` fails at once, `FOR SHARE` of the
/// free rows succeeds. SQLite has no row locks: a typed error.
async fn row_locks(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let holder = select((s.worker.c("id"),))
        .select_from(&s.worker)
        .join(&s.resume, s.resume.c("worker_id").eq(s.worker.c("id")))
        .where_(s.worker.c("id").eq(1));
    let holder = if db.backend == TestBackend::Postgres {
        holder.with_for_update(Lock::update().of(&s.worker))
    } else {
        holder.for_update()
    };
    if db.backend == TestBackend::Sqlite {
        assert_unsupported(&db, conn.execute(&holder).await, "FOR UPDATE");
        assert_unsupported(
            &db,
            conn.execute(&select((s.worker.c("id"),)).for_share()).await,
            "FOR UPDATE",
        );
        finish(db, conn, s).await;
        return;
    }
    let held = rows(&mut conn, &holder).await;
    assert_eq!(ints(&held, "id"), [1, 1]);

    let mut other = db.engine.connect().await.unwrap();
    let all = || select((s.worker.c("id"),)).order_by([s.worker.c("id")]);
    let skipped = rows(&mut other, &all().for_update_skip_locked()).await;
    assert_eq!(ints(&skipped, "id"), [2, 3, 4]);
    other.rollback().await.unwrap();
    let nowait = other
        .execute(&all().where_(s.worker.c("id").eq(1)).for_update_nowait())
        .await;
    assert!(
        nowait.is_err(),
        "NOWAIT on a locked row must fail: {nowait:?}"
    );
    other.rollback().await.unwrap();
    let shared = rows(
        &mut other,
        &all()
            .where_(s.worker.c("id").gt(1))
            .with_for_update(Lock::share().nowait()),
    )
    .await;
    assert_eq!(ints(&shared, "id"), [2, 3, 4]);
    other.rollback().await.unwrap();
    drop(other);
    conn.rollback().await.unwrap();
    finish(db, conn, s).await;
}

/// `contains` / `startswith` / `endswith` match their text literally
/// (`%`, `_` and `\` escaped), `regexp_match`, `is_distinct_from`,
/// `extract`, `aggregate_strings` and string `+`.
async fn string_and_comparison_operators(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    for (id, name) in [
        (11, "50% off"),
        (12, "50 off"),
        (13, "a_b"),
        (14, "axb"),
        (15, r"C:\dir"),
    ] {
        run(
            &mut conn,
            &insert(&s.worker).values([("id", Value::from(id)), ("name", name.into())]),
        )
        .await;
    }
    let names_where = |cond| {
        select((s.worker.c("name"),))
            .where_(cond)
            .order_by([s.worker.c("id")])
    };
    let name = || s.worker.c("name");
    assert_eq!(
        texts(
            &rows(&mut conn, &names_where(name().contains("0%"))).await,
            "name"
        ),
        ["50% off"]
    );
    assert_eq!(
        texts(
            &rows(&mut conn, &names_where(name().startswith("a_"))).await,
            "name"
        ),
        ["a_b"]
    );
    assert_eq!(
        texts(
            &rows(&mut conn, &names_where(name().endswith(r":\dir"))).await,
            "name"
        ),
        [r"C:\dir"]
    );
    assert_eq!(
        texts(
            &rows(&mut conn, &names_where(name().like_escape("a!_%", '!'))).await,
            "name"
        ),
        ["a_b"]
    );
    assert_eq!(
        texts(
            &rows(&mut conn, &names_where(name().regexp_match("^[VB][a-z]+$"))).await,
            "name"
        ),
        ["Vlad", "Bob"]
    );
    let pay = || s.resume.c("compensation");
    let ids_where = |cond| {
        select((s.resume.c("id"),))
            .where_(cond)
            .order_by([s.resume.c("id")])
    };
    assert_eq!(
        ints(
            &rows(
                &mut conn,
                &ids_where(pay().is_not_distinct_from(None::<i32>))
            )
            .await,
            "id"
        ),
        [6]
    );
    assert_eq!(
        ints(
            &rows(&mut conn, &ids_where(pay().is_distinct_from(1000))).await,
            "id"
        ),
        [2, 3, 4, 5, 6]
    );
    let at = chrono::NaiveDate::from_ymd_opt(2024, 3, 5)
        .unwrap()
        .and_hms_opt(10, 7, 0)
        .unwrap();
    run(
        &mut conn,
        &update(&s.resume)
            .set("created_at", at)
            .where_(s.resume.c("id").eq(1)),
    )
    .await;
    let parts = rows(
        &mut conn,
        &select((
            func::extract(DateField::Year, s.resume.c("created_at")).label("y"),
            func::extract(DateField::Month, s.resume.c("created_at")).label("m"),
            func::extract(DateField::Minute, s.resume.c("created_at")).label("mi"),
        ))
        .where_(s.resume.c("id").eq(1)),
    )
    .await;
    assert_eq!(
        (
            int(&parts[0], "y"),
            int(&parts[0], "m"),
            int(&parts[0], "mi")
        ),
        (2024, 3, 7)
    );
    let tags = rows(
        &mut conn,
        &select((func::aggregate_strings(s.tag.c("name"), "|").label("all"),)),
    )
    .await;
    let mut all: Vec<String> = text_of(&tags[0], "all")
        .split('|')
        .map(str::to_owned)
        .collect();
    all.sort();
    assert_eq!(all, ["rust", "sql", "unused"]);
    let shout = rows(
        &mut conn,
        &select(((s.worker.c("name") + "!").label("s"),))
            .where_(s.worker.c("id").le(2))
            .order_by([s.worker.c("id")]),
    )
    .await;
    assert_eq!(texts(&shout, "s"), ["Vlad!", "Ann!"]);
    let joined = rows(
        &mut conn,
        &select((func::concat((s.worker.c("name"), "-", s.worker.c("id"))).label("s"),))
            .where_(s.worker.c("id").eq(2)),
    )
    .await;
    assert_eq!(texts(&joined, "s"), ["Ann-2"]);
    finish(db, conn, s).await;
}

/// The debugging rendering inlines values escaped as the dialect escapes
/// literals: run as text, it finds the same rows as the bound statement,
/// quotes and backslashes included.
async fn debug_rendering_matches_the_bound_statement(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    run(
        &mut conn,
        &insert(&s.worker).values([("id", Value::from(20)), ("name", r"O'Brien \ Co".into())]),
    )
    .await;
    let stmt = select((s.worker.c("id"), s.worker.c("name")))
        .where_(
            s.worker
                .c("name")
                .eq(r"O'Brien \ Co")
                .or(s.worker.c("id").in_([1, 2]))
                .or(s.worker.c("name").contains("%")),
        )
        .order_by([s.worker.c("id")])
        .limit(10);
    let debug = stmt.compile_debug(db.engine.dialect()).unwrap();
    assert!(debug.as_str().contains("O''Brien"), "{debug}");
    let bound = rows(&mut conn, &stmt).await;
    let inlined = rows(&mut conn, &text(debug.as_str())).await;
    assert_eq!(ints(&bound, "id"), [1, 2, 20]);
    assert_eq!(ints(&inlined, 0), ints(&bound, "id"));
    assert_eq!(texts(&inlined, 1), texts(&bound, "name"));
    finish(db, conn, s).await;
}

/// A bound integer as a whole ORDER BY / GROUP BY term is a constant,
/// not a column position (MariaDB reads `ORDER BY ?` with 7 as "the 7th
/// column"; found by the compiler fuzz test). The debugging rendering,
/// with the value inlined, sorts the same.
async fn bound_integer_sort_key_is_a_constant(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let stmt = select((s.worker.c("id"), s.worker.c("name")))
        .order_by([literal(7).desc(), s.worker.c("id").desc()]);
    let got = rows(&mut conn, &stmt).await;
    assert_eq!(ints(&got, "id"), [4, 3, 2, 1]);
    let debug = stmt.compile_debug(db.engine.dialect()).unwrap();
    let inlined = rows(&mut conn, &text(debug.as_str())).await;
    assert_eq!(ints(&inlined, 0), [4, 3, 2, 1]);
    let grouped = rows(
        &mut conn,
        &select((s.worker.c("name"), func::count(star()).label("n")))
            .select_from(&s.worker)
            .group_by([s.worker.c("name"), literal(9)])
            .order_by([s.worker.c("name")]),
    )
    .await;
    assert_eq!(texts(&grouped, "name"), ["Ann", "Bob", "Dana", "Vlad"]);
    assert_eq!(ints(&grouped, "n"), [1, 1, 1, 1]);
    finish(db, conn, s).await;
}

on_all_backends!(
    bound_integer_sort_key_is_a_constant,
    values_as_a_from_item,
    lateral_subquery,
    fetch_first,
    set_operations_as_subquery_and_cte,
    duplicate_labels_in_a_subquery,
    row_locks,
    string_and_comparison_operators,
    debug_rendering_matches_the_bound_statement,
);
