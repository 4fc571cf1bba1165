//! Core statements whose meaning SQL leaves to the compiler, run on every
//! backend (issue 13's "wrong today"): client-side defaults and onupdate
//! in Core DML, multi-table UPDATE / DELETE, GROUP BY of an expression
//! with bound values, comparisons with NULL, true and floor division,
//! nested comparisons, JSON casts, and `text()` with comments and quoted
//! colons. Each test checks the rows returned and the rows in the tables.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use common::{
    assert_unsupported, finish, int, ints, num_value, opt_ints, rows, run, seeded, text_of, texts,
};
use persistence::dialects::{
    case, cast, delete, func, insert, literal, select, text, update, Column, MetaData, SqlType,
    Table, Value,
};
use persistence::SchemaExt;
use tests::{on_all_backends, TestBackend, TestDb};

/// Core INSERT fills the columns it omits from their client-side
/// defaults (a constant, and a callable called per row); Core UPDATE sets
/// the `onupdate` columns it does not set itself.
async fn client_defaults_and_onupdate(db: TestDb) {
    let next = Arc::new(AtomicI32::new(100));
    let counter = next.clone();
    let mut metadata = MetaData::new();
    let doc = metadata.add(
        Table::new("doc")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("title", SqlType::string(50)).not_null())
            .column(Column::new("rev", SqlType::Integer).not_null().default(1))
            .column(
                Column::new("seq", SqlType::Integer)
                    .not_null()
                    .default_with(move || Value::Int(counter.fetch_add(1, Ordering::SeqCst))),
            )
            .column(
                Column::new("touched", SqlType::Integer)
                    .default(0)
                    .onupdate(|| Value::Int(42)),
            ),
    );
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    // NOT NULL columns without server defaults: the insert fails unless
    // the client defaults are applied.
    run(
        &mut conn,
        &insert(&doc).values([("id", Value::from(1)), ("title", "a".into())]),
    )
    .await;
    run(
        &mut conn,
        &insert(&doc).rows(
            ["id", "title"],
            [[Value::from(2), "b".into()], [Value::from(3), "c".into()]],
        ),
    )
    .await;
    run(
        &mut conn,
        &insert(&doc).values([
            ("id", Value::from(4)),
            ("title", "d".into()),
            ("rev", 9.into()),
        ]),
    )
    .await;
    let all = || {
        select((doc.c("id"), doc.c("rev"), doc.c("seq"), doc.c("touched"))).order_by([doc.c("id")])
    };
    let got = rows(&mut conn, &all()).await;
    assert_eq!(ints(&got, "rev"), [1, 1, 1, 9]);
    assert_eq!(ints(&got, "seq"), [100, 101, 102, 103]);
    assert_eq!(ints(&got, "touched"), [0, 0, 0, 0]);

    let done = run(
        &mut conn,
        &update(&doc).set("title", "B").where_(doc.c("id").eq(2)),
    )
    .await;
    assert_eq!(done.rows_affected(), 1);
    run(
        &mut conn,
        &update(&doc).set("touched", 5).where_(doc.c("id").eq(3)),
    )
    .await;
    let got = rows(&mut conn, &all()).await;
    assert_eq!(ints(&got, "touched"), [0, 42, 5, 0]);
    assert_eq!(
        texts(
            &rows(
                &mut conn,
                &select((doc.c("title"),)).order_by([doc.c("id")])
            )
            .await,
            "title"
        ),
        ["a", "B", "c", "d"]
    );
    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

/// `UPDATE resume ... WHERE resume.worker_id = worker.id AND worker.name =
/// ...` names the worker table: UPDATE ... FROM / UPDATE t, a. DELETE
/// likewise (USING), except on SQLite, which has no form of it.
async fn multi_table_update_and_delete(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let done = run(
        &mut conn,
        &update(&s.resume)
            .set("title", s.worker.c("name"))
            .where_(s.resume.c("worker_id").eq(s.worker.c("id")))
            .where_(s.worker.c("name").eq("Vlad")),
    )
    .await;
    assert_eq!(done.rows_affected(), 2);
    let titles = rows(
        &mut conn,
        &select((s.resume.c("title"),)).order_by([s.resume.c("id")]),
    )
    .await;
    assert_eq!(
        texts(&titles, "title"),
        [
            "Vlad",
            "Go dev",
            "Python dev",
            "Vlad",
            "Architect",
            "Intern"
        ]
    );

    let stmt = delete(&s.resume)
        .where_(s.resume.c("worker_id").eq(s.worker.c("id")))
        .where_(s.worker.c("name").eq("Ann"));
    if db.backend == TestBackend::Sqlite {
        assert_unsupported(&db, conn.execute(&stmt).await, "multi-table DELETE");
    } else {
        assert_eq!(run(&mut conn, &stmt).await.rows_affected(), 2);
    }
    let left = rows(
        &mut conn,
        &select((s.resume.c("id"),)).order_by([s.resume.c("id")]),
    )
    .await;
    let expected: &[i64] = match db.backend {
        TestBackend::Sqlite => &[1, 2, 3, 4, 5, 6],
        _ => &[1, 3, 4, 6],
    };
    assert_eq!(ints(&left, "id"), expected);
    // The workers are untouched.
    let workers = rows(
        &mut conn,
        &select((s.worker.c("name"),)).order_by([s.worker.c("id")]),
    )
    .await;
    assert_eq!(texts(&workers, "name"), ["Vlad", "Ann", "Bob", "Dana"]);
    finish(db, conn, s).await;
}

/// Grouping by a CASE with bound values: PostgreSQL rejects the grouped
/// expression written again with new parameters, so it is grouped by
/// position and sorted by its label.
async fn group_by_expression_with_values(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let band = case([(s.resume.c("compensation").gt(2000), "high")]).else_("low");
    let got = rows(
        &mut conn,
        &select((band.clone().label("band"), func::count_star().label("n")))
            .group_by(band.clone())
            .order_by([band.clone()]),
    )
    .await;
    assert_eq!(texts(&got, "band"), ["high", "low"]);
    // high: 2003, 3100, 4001; low: 1000, 1500 and the NULL pay.
    assert_eq!(ints(&got, "n"), [3, 3]);
    let unlabelled = rows(
        &mut conn,
        &select((func::count_star(), band.clone()))
            .group_by(band.clone())
            .having(func::count_star().gt(0))
            .order_by([band.clone().desc()]),
    )
    .await;
    assert_eq!(texts(&unlabelled, 1), ["low", "high"]);
    finish(db, conn, s).await;
}

/// `eq(None)` / `ne(Value::Null)` find the NULLs and the others, where
/// `= NULL` would find nothing.
async fn null_comparisons(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let pay = || s.resume.c("compensation");
    let ids = |r: &[persistence::Row]| ints(r, "id");
    let null = rows(
        &mut conn,
        &select((s.resume.c("id"),)).where_(pay().eq(None::<i32>)),
    )
    .await;
    assert_eq!(ids(&null), [6]);
    let not_null = rows(
        &mut conn,
        &select((s.resume.c("id"),))
            .where_(pay().ne(Value::Null))
            .order_by([s.resume.c("id")]),
    )
    .await;
    assert_eq!(ids(&not_null), [1, 2, 3, 4, 5]);
    let some = rows(
        &mut conn,
        &select((s.resume.c("id"),)).where_(pay().eq(Some(1500))),
    )
    .await;
    assert_eq!(ids(&some), [2]);
    finish(db, conn, s).await;
}

/// `/` is true division on every backend (7 / 2 = 3.5, also on integer
/// columns); `floordiv` is integer division.
async fn true_and_floor_division(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let got = rows(
        &mut conn,
        &select((
            (literal(7) / literal(2)).label("q"),
            literal(7).floordiv(2).label("f"),
            literal(7.5_f64).floordiv(2).label("ff"),
        )),
    )
    .await;
    assert_eq!(num_value(got[0].value("q").unwrap()), Some(3.5));
    assert_eq!(num_value(got[0].value("f").unwrap()), Some(3.0));
    assert_eq!(num_value(got[0].value("ff").unwrap()), Some(3.0));
    let per_worker = rows(
        &mut conn,
        &select((
            s.resume.c("id"),
            (s.resume.c("compensation") / s.resume.c("worker_id")).label("q"),
            s.resume
                .c("compensation")
                .floordiv(s.resume.c("worker_id"))
                .label("f"),
        ))
        .where_(s.resume.c("id").in_([3, 6]))
        .order_by([s.resume.c("id")]),
    )
    .await;
    // 2003 / 3
    let q = num_value(per_worker[0].value("q").unwrap()).unwrap();
    assert!((q - 667.666_666).abs() < 1e-3, "2003 / 3 gave {q}");
    assert_eq!(opt_ints(&per_worker, "f"), [Some(667), None]);
    finish(db, conn, s).await;
}

/// `(id = 1) = false` keeps its parentheses and means what it says.
async fn nested_comparisons(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let id = || s.worker.c("id");
    let got = rows(
        &mut conn,
        &select((id(),))
            .where_(id().eq(1).eq(false))
            .order_by([id()]),
    )
    .await;
    assert_eq!(ints(&got, "id"), [2, 3, 4]);
    let got = rows(
        &mut conn,
        &select((id(),))
            .where_(id().gt(2).ne(id().lt(4)))
            .order_by([id()]),
    )
    .await;
    // id > 2 differs from id < 4 for 1, 2 (false / true) and 4 (true / false).
    assert_eq!(ints(&got, "id"), [1, 2, 4]);
    finish(db, conn, s).await;
}

/// A JSON cast runs on every backend (MariaDB has none: the value passes
/// as it is) and reads back as the same document.
async fn json_cast(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let got = rows(
        &mut conn,
        &select((cast(literal("{\"a\": [1, 2]}"), SqlType::Json).label("j"),)),
    )
    .await;
    let doc = match got[0].value("j").unwrap() {
        Value::Json(j) => j.clone(),
        Value::String(s) => serde_json::from_str(s).unwrap(),
        other => panic!("not JSON: {other:?}"),
    };
    assert_eq!(doc, serde_json::json!({"a": [1, 2]}));
    finish(db, conn, s).await;
}

/// `:name` inside comments and quotes is text; the real parameter binds.
async fn text_with_comments_and_quotes(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let sql = match db.backend {
        TestBackend::MySql => {
            "SELECT name, ':nope' AS q FROM worker -- :comment\n \
             WHERE name = :name /* :block */ AND 'it\\'s :x' <> '' # :hash"
        }
        TestBackend::Postgres => {
            "SELECT name, ':nope' AS q FROM worker -- :comment\n \
             WHERE name = :name /* :block /* :nested */ */ AND $$ :dollar $$ <> E'it\\'s :x'"
        }
        TestBackend::Sqlite => {
            "SELECT name, ':nope' AS q FROM worker -- :comment\n \
             WHERE name = :name /* :block */ AND 'it''s :x' <> ''"
        }
    };
    let got = rows(&mut conn, &text(sql).bind("name", "Ann")).await;
    assert_eq!(got.len(), 1);
    assert_eq!(text_of(&got[0], "name"), "Ann");
    assert_eq!(text_of(&got[0], "q"), ":nope");
    assert_eq!(
        int(
            &rows(
                &mut conn,
                &text("SELECT count(*) AS n FROM worker WHERE id > :id -- :id").bind("id", 1)
            )
            .await[0],
            "n"
        ),
        3
    );
    finish(db, conn, s).await;
}

on_all_backends!(
    client_defaults_and_onupdate,
    multi_table_update_and_delete,
    group_by_expression_with_values,
    null_comparisons,
    true_and_floor_division,
    nested_comparisons,
    json_cast,
    text_with_comments_and_quotes,
);
