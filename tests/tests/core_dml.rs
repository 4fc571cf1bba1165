//! SQLAlchemy Core's INSERT, UPDATE, DELETE and upserts run against every
//! backend: each test checks the rows a statement returned and the rows in
//! the table afterwards. Values holding quotes, semicolons, backslashes and
//! non-ASCII text round-trip unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{NaiveDateTime, Utc};
use common::{
    assert_unsupported, empty, finish, int, ints, opt_ints, opt_texts, rows, run, seeded, strings,
    text_of, texts, Seed, TRICKY,
};
use persistence::dialects::{
    delete, excluded, exists, func, insert, literal, not_exists, select, text, update, Column,
    MetaData, SqlType, Table, Value,
};
use persistence::{Connection, SchemaExt};
use tests::{on_all_backends, TestBackend, TestDb};

/// `(id, name)` of every worker, by id.
async fn workers(conn: &mut Connection, s: &Seed) -> Vec<(i64, String)> {
    rows(
        conn,
        &select((s.worker.c("id"), s.worker.c("name"))).order_by([s.worker.c("id")]),
    )
    .await
    .iter()
    .map(|r| (int(r, "id"), text_of(r, "name")))
    .collect()
}

/// `(id, name)` of every publisher, by id.
async fn publishers(conn: &mut Connection, s: &Seed) -> Vec<(i64, String)> {
    rows(
        conn,
        &select((s.publisher.c("id"), s.publisher.c("name"))).order_by([s.publisher.c("id")]),
    )
    .await
    .iter()
    .map(|r| (int(r, "id"), text_of(r, "name")))
    .collect()
}

fn pairs(v: &[(i64, &str)]) -> Vec<(i64, String)> {
    v.iter().map(|(i, s)| (*i, (*s).to_owned())).collect()
}

/// One row, several rows (`rows()` and repeated `values()` in any column
/// order), server-generated keys, and DEFAULT VALUES.
async fn insert_rows(db: TestDb) {
    let (mut conn, s) = empty(&db).await;
    let done = run(&mut conn, &insert(&s.worker).values([("name", "Vlad")])).await;
    assert_eq!(done.rows_affected(), 1);
    let done = run(
        &mut conn,
        &insert(&s.worker).rows(["name"], [["Ann"], ["Bob"], ["Dana"]]),
    )
    .await;
    assert_eq!(done.rows_affected(), 3);
    let done = run(
        &mut conn,
        &insert(&s.worker)
            .values([("name", Value::from("Eve")), ("id", Value::from(10))])
            .values([("id", Value::from(11)), ("name", Value::from("Finn"))]),
    )
    .await;
    assert_eq!(done.rows_affected(), 2);
    // The key sequence carries on after explicit ids where the backend
    // moves it (MariaDB and SQLite); PostgreSQL's SERIAL does not look.
    run(&mut conn, &insert(&s.worker).values([("name", "Gus")])).await;
    let got = workers(&mut conn, &s).await;
    let gus = match db.backend {
        TestBackend::Postgres => 5,
        _ => 12,
    };
    let mut expected = pairs(&[
        (1, "Vlad"),
        (2, "Ann"),
        (3, "Bob"),
        (4, "Dana"),
        (10, "Eve"),
        (11, "Finn"),
    ]);
    expected.push((gus, "Gus".to_owned()));
    expected.sort();
    assert_eq!(got, expected);

    // A NULL, a boolean and a server default filled in.
    run(
        &mut conn,
        &insert(&s.publisher).values([("id", Value::from(1)), ("name", Value::from("Manning"))]),
    )
    .await;
    run(
        &mut conn,
        &insert(&s.post).rows(
            ["title", "draft", "publisher_id"],
            [
                [Value::from("Kept"), Value::from(false), Value::from(1)],
                [Value::from("Loose"), Value::from(true), Value::Null],
            ],
        ),
    )
    .await;
    let got = rows(
        &mut conn,
        &select((
            s.post.c("title"),
            s.post.c("draft"),
            s.post.c("publisher_id"),
            s.post.c("created_at"),
        ))
        .order_by([s.post.c("id")]),
    )
    .await;
    assert_eq!(texts(&got, "title"), ["Kept", "Loose"]);
    let drafts: Vec<bool> = got.iter().map(|r| r.get("draft").unwrap()).collect();
    assert_eq!(drafts, [false, true]);
    assert_eq!(opt_ints(&got, "publisher_id"), [Some(1), None]);
    for r in &got {
        let at: NaiveDateTime = r.get("created_at").unwrap();
        let drift = (Utc::now().naive_utc() - at).num_seconds().abs();
        assert!(drift < 60, "created_at {at}");
    }

    // DEFAULT VALUES: every column from its default.
    let mut metadata = MetaData::new();
    let counter = metadata.add(
        Table::new("counter")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(
                Column::new("label", SqlType::string(20))
                    .not_null()
                    .server_default("fresh"),
            ),
    );
    metadata.create_all(&mut conn).await.unwrap();
    run(&mut conn, &insert(&counter)).await;
    run(&mut conn, &insert(&counter)).await;
    let got = rows(
        &mut conn,
        &select((counter.c("id"), counter.c("label"))).order_by([counter.c("id")]),
    )
    .await;
    assert_eq!(ints(&got, "id"), [1, 2]);
    assert_eq!(texts(&got, "label"), ["fresh", "fresh"]);
    metadata.drop_all(&mut conn).await.unwrap();
    finish(db, conn, s).await;
}

/// INSERT ... SELECT, with and without a WHERE.
async fn insert_from_select(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let done = run(
        &mut conn,
        &insert(&s.worker).from_select(
            ["id", "name"],
            select((
                (s.publisher.c("id") + 100).label("id"),
                s.publisher.c("name"),
            ))
            .where_(s.publisher.c("id").le(2)),
        ),
    )
    .await;
    assert_eq!(done.rows_affected(), 2);
    let got = workers(&mut conn, &s).await;
    assert_eq!(
        got,
        pairs(&[
            (1, "Vlad"),
            (2, "Ann"),
            (3, "Bob"),
            (4, "Dana"),
            (101, "Manning"),
            (102, "O'Reilly")
        ])
    );
    // Every tag name again, as new tags.
    run(
        &mut conn,
        &insert(&s.tag).from_select(
            ["name"],
            select((func::upper(s.tag.c("name")).label("name"),)),
        ),
    )
    .await;
    let got = rows(
        &mut conn,
        &select((s.tag.c("name"),)).order_by([s.tag.c("id")]),
    )
    .await;
    assert_eq!(
        texts(&got, "name"),
        ["rust", "sql", "unused", "RUST", "SQL", "UNUSED"]
    );
    finish(db, conn, s).await;
}

/// INSERT ... RETURNING (PostgreSQL, SQLite, MariaDB): the generated keys
/// and expressions come back, one row per inserted row.
async fn insert_returning(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let got = rows(
        &mut conn,
        &insert(&s.worker)
            .values([("name", "Gus")])
            .returning((s.worker.c("id"), s.worker.c("name"))),
    )
    .await;
    assert_eq!(got.len(), 1);
    let gus = int(&got[0], "id");
    assert!(gus > 4, "a fresh key: {gus}");
    assert_eq!(text_of(&got[0], "name"), "Gus");

    let got = rows(
        &mut conn,
        &insert(&s.worker)
            .rows(["name"], [["Hal"], ["Ida"]])
            .returning((
                s.worker.c("id"),
                func::upper(s.worker.c("name")).label("shout"),
            )),
    )
    .await;
    assert_eq!(texts(&got, "shout"), ["HAL", "IDA"]);
    let ids = ints(&got, "id");
    assert!(ids[0] > gus && ids[1] > ids[0], "{ids:?}");

    // Server defaults come back too.
    let got = rows(
        &mut conn,
        &insert(&s.resume)
            .values([
                ("title", Value::from("Tester")),
                ("workload", Value::from("parttime")),
                ("worker_id", Value::from(4)),
            ])
            .returning((s.resume.c("id"), s.resume.c("created_at"))),
    )
    .await;
    let at: NaiveDateTime = got[0].get("created_at").unwrap();
    assert!((Utc::now().naive_utc() - at).num_seconds().abs() < 60);
    let got = workers(&mut conn, &s).await;
    assert_eq!(got.len(), 7);
    assert_eq!(
        got[4..].iter().map(|w| w.1.as_str()).collect::<Vec<_>>(),
        ["Gus", "Hal", "Ida"]
    );
    finish(db, conn, s).await;
}

/// UPDATE with values and a WHERE, an expression of the row itself,
/// `filter_by`, several columns at once, and no match.
async fn update_values_where(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let done = run(
        &mut conn,
        &update(&s.worker)
            .set("name", "Vladimir")
            .where_(s.worker.c("id").eq(1)),
    )
    .await;
    assert_eq!(done.rows_affected(), 1);
    let done = run(
        &mut conn,
        &update(&s.resume)
            .set("compensation", s.resume.c("compensation") + 100)
            .where_(s.resume.c("workload").eq("parttime")),
    )
    .await;
    assert_eq!(done.rows_affected(), 3);
    run(
        &mut conn,
        &update(&s.resume)
            .values([
                ("title", Value::from("Principal")),
                ("compensation", Value::Null),
            ])
            .filter_by([("id", 5)]),
    )
    .await;
    let done = run(
        &mut conn,
        &update(&s.worker)
            .set("name", "nobody")
            .where_(s.worker.c("id").gt(100)),
    )
    .await;
    assert_eq!(done.rows_affected(), 0);

    assert_eq!(
        workers(&mut conn, &s).await,
        pairs(&[(1, "Vladimir"), (2, "Ann"), (3, "Bob"), (4, "Dana")])
    );
    let got = rows(
        &mut conn,
        &select((s.resume.c("title"), s.resume.c("compensation"))).order_by([s.resume.c("id")]),
    )
    .await;
    assert_eq!(
        texts(&got, "title"),
        [
            "Rust dev",
            "Go dev",
            "Python dev",
            "Lead",
            "Principal",
            "Intern"
        ]
    );
    assert_eq!(
        opt_ints(&got, "compensation"),
        [Some(1100), Some(1600), Some(2103), Some(3100), None, None]
    );
    finish(db, conn, s).await;
}

/// UPDATE whose value is a subquery correlated to the updated row, and
/// whose WHERE holds correlated EXISTS / IN subqueries.
async fn update_with_subqueries(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let publisher_name = select((s.publisher.c("name"),))
        .where_(s.publisher.c("id").eq(s.post.c("publisher_id")))
        .scalar_subquery();
    let done = run(
        &mut conn,
        &update(&s.post)
            .set("title", publisher_name)
            .where_(s.post.c("publisher_id").is_not_null()),
    )
    .await;
    assert_eq!(done.rows_affected(), 3);
    let got = rows(
        &mut conn,
        &select((s.post.c("title"),)).order_by([s.post.c("id")]),
    )
    .await;
    assert_eq!(
        texts(&got, "title"),
        ["Manning", "O'Reilly", "Orphan", "O'Reilly"]
    );

    let rich = select((s.resume.c("id"),))
        .where_(s.resume.c("worker_id").eq(s.worker.c("id")))
        .where_(s.resume.c("compensation").gt(3500));
    run(
        &mut conn,
        &update(&s.worker)
            .set("name", func::upper(s.worker.c("name")))
            .where_(exists(rich)),
    )
    .await;
    let idle = select((s.resume.c("id"),)).where_(s.resume.c("worker_id").eq(s.worker.c("id")));
    run(
        &mut conn,
        &update(&s.worker)
            .set("name", s.worker.c("name").concat(" (idle)"))
            .where_(not_exists(idle)),
    )
    .await;
    run(
        &mut conn,
        &update(&s.worker).set("name", literal("V")).where_(
            s.worker.c("id").in_select(
                select((s.resume.c("worker_id"),)).where_(s.resume.c("title").eq("Lead")),
            ),
        ),
    )
    .await;
    assert_eq!(
        workers(&mut conn, &s).await,
        pairs(&[(1, "V"), (2, "ANN"), (3, "Bob"), (4, "Dana (idle)")])
    );
    finish(db, conn, s).await;
}

/// UPDATE ... RETURNING on PostgreSQL and SQLite; MariaDB has none and
/// says so with a typed error, leaving the table untouched.
async fn update_returning(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let stmt = update(&s.resume)
        .set("compensation", s.resume.c("compensation") * 2)
        .where_(s.resume.c("worker_id").eq(2))
        .returning((s.resume.c("id"), s.resume.c("compensation")));
    if db.backend == TestBackend::MySql {
        assert_unsupported(&db, conn.execute(&stmt).await, "UPDATE ... RETURNING");
    } else {
        let mut got = rows(&mut conn, &stmt).await;
        got.sort_by_key(|r| int(r, "id"));
        assert_eq!(ints(&got, "id"), [2, 5]);
        assert_eq!(ints(&got, "compensation"), [3000, 8002]);
    }
    let got = rows(
        &mut conn,
        &select((s.resume.c("compensation"),))
            .where_(s.resume.c("worker_id").eq(2))
            .order_by([s.resume.c("id")]),
    )
    .await;
    let expected = match db.backend {
        TestBackend::MySql => [1500, 4001],
        _ => [3000, 8002],
    };
    assert_eq!(ints(&got, "compensation"), expected);
    finish(db, conn, s).await;
}

/// DELETE with a WHERE, with a correlated subquery, with RETURNING
/// (PostgreSQL, SQLite and MariaDB), and of every row.
async fn delete_rows(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let done = run(
        &mut conn,
        &delete(&s.resume).where_(s.resume.c("compensation").is_null()),
    )
    .await;
    assert_eq!(done.rows_affected(), 1);
    let done = run(&mut conn, &delete(&s.resume).filter_by([("id", 99)])).await;
    assert_eq!(done.rows_affected(), 0);

    let got = rows(
        &mut conn,
        &delete(&s.resume)
            .where_(s.resume.c("compensation").lt(2000))
            .returning((s.resume.c("id"), s.resume.c("title"))),
    )
    .await;
    let mut deleted: Vec<(i64, String)> = got
        .iter()
        .map(|r| (int(r, "id"), text_of(r, "title")))
        .collect();
    deleted.sort();
    assert_eq!(deleted, pairs(&[(1, "Rust dev"), (2, "Go dev")]));

    // Workers without a resume left.
    let has_resume =
        select((s.resume.c("id"),)).where_(s.resume.c("worker_id").eq(s.worker.c("id")));
    let done = run(&mut conn, &delete(&s.worker).where_(not_exists(has_resume))).await;
    assert_eq!(done.rows_affected(), 1);
    assert_eq!(
        workers(&mut conn, &s).await,
        pairs(&[(1, "Vlad"), (2, "Ann"), (3, "Bob")])
    );
    let got = rows(
        &mut conn,
        &select((s.resume.c("id"),)).order_by([s.resume.c("id")]),
    )
    .await;
    assert_eq!(ints(&got, "id"), [3, 4, 5]);

    let done = run(&mut conn, &delete(&s.post_tag)).await;
    assert_eq!(done.rows_affected(), 3);
    assert!(rows(&mut conn, &select((s.post_tag.c("post_id"),)))
        .await
        .is_empty());
    finish(db, conn, s).await;
}

/// Upsert that updates: ON CONFLICT DO UPDATE on PostgreSQL and SQLite, ON
/// DUPLICATE KEY UPDATE on MariaDB; a conflicting row is changed, a new
/// one inserted.
async fn upsert_do_update(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    run(
        &mut conn,
        &insert(&s.publisher)
            .rows(
                ["id", "name"],
                [
                    [Value::from(2), Value::from("O'Reilly Media")],
                    [Value::from(4), Value::from("Apress")],
                ],
            )
            .on_conflict_do_update(["id"], [("name", excluded("name"))]),
    )
    .await;
    assert_eq!(
        publishers(&mut conn, &s).await,
        pairs(&[
            (1, "Manning"),
            (2, "O'Reilly Media"),
            (3, "No Starch"),
            (4, "Apress")
        ])
    );
    // The new value computed from the old one and the proposed one.
    run(
        &mut conn,
        &insert(&s.worker)
            .values([("id", Value::from(1)), ("name", Value::from("Vlad"))])
            .on_conflict_do_update(
                ["id"],
                [("name", s.worker.c("name").concat(excluded("name")))],
            ),
    )
    .await;
    // A conflict on the unique name: the existing row keeps its id.
    run(
        &mut conn,
        &insert(&s.publisher)
            .values([("id", Value::from(9)), ("name", Value::from("Manning"))])
            .on_conflict_do_update(["name"], [("name", literal("Manning Publications"))]),
    )
    .await;
    assert_eq!(
        publishers(&mut conn, &s).await,
        pairs(&[
            (1, "Manning Publications"),
            (2, "O'Reilly Media"),
            (3, "No Starch"),
            (4, "Apress")
        ])
    );
    assert_eq!(workers(&mut conn, &s).await[0], (1, "VladVlad".to_owned()));
    finish(db, conn, s).await;
}

/// Upsert that does nothing on a conflict: the existing rows are kept, the
/// new ones inserted, from VALUES and from a SELECT.
async fn upsert_do_nothing(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    run(
        &mut conn,
        &insert(&s.publisher)
            .rows(
                ["id", "name"],
                [
                    [Value::from(1), Value::from("Changed")],
                    [Value::from(5), Value::from("Pragmatic")],
                ],
            )
            .on_conflict_do_nothing(["id"]),
    )
    .await;
    let done = run(
        &mut conn,
        &insert(&s.publisher)
            .values([
                ("id", Value::from(3)),
                ("name", Value::from("Changed again")),
            ])
            .on_conflict_do_nothing(["id"]),
    )
    .await;
    // MariaDB counts the row it found (sqlx connects with CLIENT_FOUND_ROWS,
    // as SQLAlchemy does), the others the rows they wrote.
    let expected = match db.backend {
        TestBackend::MySql => 1,
        _ => 0,
    };
    assert_eq!(done.rows_affected(), expected);
    assert_eq!(
        publishers(&mut conn, &s).await,
        pairs(&[
            (1, "Manning"),
            (2, "O'Reilly"),
            (3, "No Starch"),
            (5, "Pragmatic")
        ])
    );
    // From a SELECT: tag 3 exists, tags 7 and 9 are new.
    run(
        &mut conn,
        &insert(&s.tag)
            .from_select(
                ["id", "name"],
                select(((s.worker.c("id") * 2 + 1).label("id"), s.worker.c("name")))
                    .where_(s.worker.c("id").in_([1, 3, 4])),
            )
            .on_conflict_do_nothing(["id"]),
    )
    .await;
    let got = rows(
        &mut conn,
        &select((s.tag.c("id"), s.tag.c("name"))).order_by([s.tag.c("id")]),
    )
    .await;
    assert_eq!(ints(&got, "id"), [1, 2, 3, 7, 9]);
    assert_eq!(
        texts(&got, "name"),
        ["rust", "sql", "unused", "Bob", "Dana"]
    );
    finish(db, conn, s).await;
}

/// Values with quotes, semicolons, backslashes and non-ASCII text: stored,
/// found by equality, IN and LIKE, updated and deleted, unchanged.
async fn tricky_values_round_trip(db: TestDb) {
    let (mut conn, s) = empty(&db).await;
    for v in TRICKY {
        run(&mut conn, &insert(&s.worker).values([("name", v)])).await;
    }
    let got = rows(
        &mut conn,
        &select((s.worker.c("name"),)).order_by([s.worker.c("id")]),
    )
    .await;
    assert_eq!(texts(&got, "name"), strings(&TRICKY));
    // Matched by `%50%_off%` unless the wildcards are escaped.
    let decoy = "50 percent off";
    run(&mut conn, &insert(&s.worker).values([("name", decoy)])).await;

    for (i, v) in TRICKY.iter().enumerate() {
        let id = i64::try_from(i).unwrap() + 1;
        let by_eq = rows(
            &mut conn,
            &select((s.worker.c("id"), s.worker.c("name"))).where_(s.worker.c("name").eq(*v)),
        )
        .await;
        assert_eq!(ints(&by_eq, "id"), [id], "= {v}");
        assert_eq!(text_of(&by_eq[0], "name"), *v);

        let pattern = format!("%{}%", like_escape(v));
        let by_like = rows(
            &mut conn,
            &select((s.worker.c("id"),)).where_(s.worker.c("name").like(pattern.as_str())),
        )
        .await;
        assert_eq!(ints(&by_like, "id"), [id], "LIKE {pattern}");
        let by_ilike = rows(
            &mut conn,
            &select((s.worker.c("id"),)).where_(s.worker.c("name").ilike(pattern.as_str())),
        )
        .await;
        assert_eq!(ints(&by_ilike, "id"), [id], "ILIKE {pattern}");

        let by_text = rows(
            &mut conn,
            &text("SELECT id FROM worker WHERE name = :name").bind("name", *v),
        )
        .await;
        assert_eq!(ints(&by_text, "id"), [id], "text() {v}");
    }
    let unescaped = rows(
        &mut conn,
        &select((s.worker.c("id"),))
            .where_(s.worker.c("name").like("%50%_off%"))
            .order_by([s.worker.c("id")]),
    )
    .await;
    assert_eq!(ints(&unescaped, "id"), [7, 8]);
    let got = rows(
        &mut conn,
        &select((s.worker.c("id"),))
            .where_(s.worker.c("name").in_([TRICKY[0], TRICKY[2], TRICKY[4]]))
            .order_by([s.worker.c("id")]),
    )
    .await;
    assert_eq!(ints(&got, "id"), [1, 3, 5]);

    // Updated to another tricky value, concatenated, then deleted by value.
    run(
        &mut conn,
        &update(&s.worker)
            .set("name", s.worker.c("name").concat(TRICKY[3]))
            .where_(s.worker.c("name").eq(TRICKY[4])),
    )
    .await;
    let joined = format!("{}{}", TRICKY[4], TRICKY[3]);
    let got = rows(
        &mut conn,
        &select((
            s.worker.c("id"),
            func::length(s.worker.c("name")).label("len"),
        ))
        .where_(s.worker.c("name").eq(joined.as_str())),
    )
    .await;
    assert_eq!(ints(&got, "id"), [5]);
    assert_eq!(
        int(&got[0], "len"),
        i64::try_from(joined.chars().count()).unwrap()
    );
    for v in [TRICKY[1], TRICKY[5]] {
        let done = run(
            &mut conn,
            &delete(&s.worker).where_(s.worker.c("name").eq(v)),
        )
        .await;
        assert_eq!(done.rows_affected(), 1, "delete {v}");
    }
    let left = rows(
        &mut conn,
        &select((s.worker.c("name"),)).order_by([s.worker.c("id")]),
    )
    .await;
    assert_eq!(
        opt_texts(&left, "name"),
        [
            Some(TRICKY[0].to_owned()),
            Some(TRICKY[2].to_owned()),
            Some(TRICKY[3].to_owned()),
            Some(joined.clone()),
            Some(TRICKY[6].to_owned()),
            Some(decoy.to_owned()),
        ]
    );
    finish(db, conn, s).await;
}

/// `value` as a LIKE pattern that matches only itself: the wildcards and
/// the escape character (a backslash on every backend) escaped.
fn like_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

on_all_backends!(
    insert_rows,
    insert_from_select,
    insert_returning,
    update_values_where,
    update_with_subqueries,
    update_returning,
    delete_rows,
    upsert_do_update,
    upsert_do_nothing,
    tricky_values_round_trip,
);
