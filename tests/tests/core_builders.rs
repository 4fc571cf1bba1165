//! Builders that read as SQLAlchemy's, and statements no backend would
//! parse, run on every backend (issue 13, items 15 and 16): mixed ORDER
//! BY terms, filter_by with values of mixed types, the simple CASE,
//! variadic coalesce / concat, set operations as statements, lead / lag
//! defaults; and the compile errors that keep invalid SQL from the server
//! (the tables are unchanged afterwards).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{finish, ints, opt_ints, rows, run, seeded, texts};
use persistence::dialects::{
    case, case_value, func, insert, order_by, select, tuple, update, Column, CompileError,
    CreateTable, SqlType, Table, Value,
};
use persistence::Error;
use tests::{on_all_backends, TestBackend, TestDb};

/// `order_by((pay.desc().nulls_last(), id))` and `filter_by` with text, an
/// integer and NULL in one call.
async fn mixed_order_and_filter_terms(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let pay = || s.resume.c("compensation");
    let got = rows(
        &mut conn,
        &select((s.resume.c("id"),)).order_by((pay().desc().nulls_last(), s.resume.c("id"))),
    )
    .await;
    assert_eq!(ints(&got, "id"), [5, 4, 3, 2, 1, 6]);
    let got = rows(
        &mut conn,
        &select((s.resume.c("id"),)).filter_by((
            ("workload", "fulltime"),
            ("worker_id", 3),
            ("compensation", None::<i32>),
        )),
    )
    .await;
    assert_eq!(ints(&got, "id"), [6]);
    let done = run(
        &mut conn,
        &update(&s.resume)
            .set("title", "Senior Go dev")
            .filter_by((("worker_id", 2), ("title", "Go dev"))),
    )
    .await;
    assert_eq!(done.rows_affected(), 1);
    let titles = rows(
        &mut conn,
        &select((s.resume.c("title"),))
            .filter_by([("worker_id", 2)])
            .order_by(s.resume.c("id")),
    )
    .await;
    assert_eq!(texts(&titles, "title"), ["Senior Go dev", "Architect"]);
    finish(db, conn, s).await;
}

/// The simple CASE, variadic coalesce and concat.
async fn case_value_coalesce_concat(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let got = rows(
        &mut conn,
        &select((
            case_value(
                s.resume.c("workload"),
                [("parttime", "PT"), ("fulltime", "FT")],
            )
            .else_("?")
            .label("kind"),
            func::coalesce((s.resume.c("compensation"), s.resume.c("id"), 0)).label("pay"),
            func::concat((s.resume.c("title"), " (", s.resume.c("workload"), ")")).label("t"),
        ))
        .where_(s.resume.c("id").in_([1, 6]))
        .order_by(s.resume.c("id")),
    )
    .await;
    assert_eq!(texts(&got, "kind"), ["PT", "FT"]);
    assert_eq!(opt_ints(&got, "pay"), [Some(1000), Some(6)]);
    assert_eq!(
        texts(&got, "t"),
        ["Rust dev (parttime)", "Intern (fulltime)"]
    );
    finish(db, conn, s).await;
}

/// `a.union(b)`, `union([a, b, c])` and `union([a])` are statements.
async fn set_operations_are_statements(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let name = || s.worker.c("name");
    let by_id = |ids: &[i32]| select((name(),)).where_(s.worker.c("id").in_(ids.to_vec()));
    let got = rows(
        &mut conn,
        &by_id(&[1])
            .union(by_id(&[2]))
            .union_all(by_id(&[2]))
            .order_by(name()),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["Ann", "Ann", "Vlad"]);
    let got = rows(&mut conn, &persistence::dialects::union([by_id(&[3])])).await;
    assert_eq!(texts(&got, "name"), ["Bob"]);
    let err = conn
        .execute(&persistence::dialects::union(Vec::new()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Compile(CompileError::Invalid(_))),
        "{err:?}"
    );
    finish(db, conn, s).await;
}

/// `lag(x)` / `lead(x)` look one row away; `lag_or` takes a default.
async fn lag_and_lead_defaults(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let id = || s.resume.c("id");
    let got = rows(
        &mut conn,
        &select((
            id(),
            func::lag(id()).over(order_by(id())).label("prev"),
            func::lead(id()).over(order_by(id())).label("next"),
        ))
        .order_by(id()),
    )
    .await;
    assert_eq!(
        opt_ints(&got, "prev"),
        [None, Some(1), Some(2), Some(3), Some(4), Some(5)]
    );
    assert_eq!(
        opt_ints(&got, "next"),
        [Some(2), Some(3), Some(4), Some(5), Some(6), None]
    );
    let back2 =
        select((func::lag_or(id(), 2, 0).over(order_by(id())).label("back2"),)).order_by(id());
    if db.backend == TestBackend::MySql {
        common::assert_unsupported(
            &db,
            conn.execute(&back2).await,
            "lag() / lead() with a default value",
        );
    } else {
        assert_eq!(
            ints(&rows(&mut conn, &back2).await, "back2"),
            [0, 0, 1, 2, 3, 4]
        );
    }
    finish(db, conn, s).await;
}

/// Empty CASE / tuple / VALUES, bad identifiers and NaN defaults fail to
/// compile: nothing reaches the server, and the tables are unchanged.
async fn invalid_sql_never_reaches_the_server(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let compile_error = |r: Result<persistence::QueryResult, Error>| match r {
        Err(Error::Compile(e)) => e,
        other => panic!("expected a compile error, got {other:?}"),
    };
    let e = compile_error(
        conn.execute(&insert(&s.worker).values(Vec::<(&str, i32)>::new()))
            .await,
    );
    assert!(matches!(e, CompileError::Invalid(_)));
    let e = compile_error(
        conn.execute(
            &update(&s.worker)
                .set(
                    "name",
                    case(Vec::<(persistence::dialects::Expr, &str)>::new()),
                )
                .where_(s.worker.c("id").eq(1)),
        )
        .await,
    );
    assert!(matches!(e, CompileError::Invalid(_)));
    let e = compile_error(
        conn.execute(&select((s.worker.c("id"),)).where_(tuple([]).eq(tuple([]))))
            .await,
    );
    assert!(matches!(e, CompileError::Invalid(_)));
    let long = Table::new("n".repeat(65)).column(Column::new("id", SqlType::Integer));
    let e = conn.execute(&CreateTable::new(&long)).await;
    match db.backend {
        // SQLite has no identifier limit.
        TestBackend::Sqlite => assert!(e.is_ok(), "{e:?}"),
        _ => assert!(matches!(
            compile_error(e),
            CompileError::IdentifierTooLong { .. }
        )),
    }
    let nan = Table::new("m").column(Column::new("x", SqlType::Double).server_default(f64::NAN));
    let e = compile_error(conn.execute(&CreateTable::new(&nan)).await);
    assert_eq!(e, CompileError::UnsupportedLiteral { kind: "NaN float" });
    let workers = rows(
        &mut conn,
        &select((s.worker.c("name"),)).order_by(s.worker.c("id")),
    )
    .await;
    assert_eq!(texts(&workers, "name"), ["Vlad", "Ann", "Bob", "Dana"]);
    let _ = Value::Null;
    finish(db, conn, s).await;
}

on_all_backends!(
    mixed_order_and_filter_terms,
    case_value_coalesce_concat,
    set_operations_are_statements,
    lag_and_lead_defaults,
    invalid_sql_never_reaches_the_server,
);
