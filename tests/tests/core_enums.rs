//! Enum columns on every backend (issue 13, item 9): PostgreSQL's
//! `CREATE TYPE ... AS ENUM` made and dropped by `create_all` / `drop_all`
//! and sorting in declaration order, MySQL's `ENUM(...)`, VARCHAR with a
//! CHECK on SQLite and wherever a non-native enum is asked for. Values are
//! inserted, compared, updated and read back through Core.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{attempt, int, ints, rows, run, texts};
use persistence::dialects::{
    bindparam, case_value, func, insert, select, text, update, Column, MetaData, SqlType, Table,
    Value,
};
use persistence::{Connection, ErrorKind, IntegrityKind, SchemaExt, SchemaOptions};
use tests::{on_all_backends, TestBackend, TestDb};

/// `shift(id, kind)` where kind is an enum declared out of alphabetical order.
fn shift(native: bool) -> (MetaData, Table) {
    let mut metadata = MetaData::new();
    let t = metadata.add(
        Table::new("shift")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(
                Column::new(
                    "kind",
                    SqlType::enumeration("shift_kind", ["night", "day", "evening"])
                        .native_enum(native),
                )
                .not_null(),
            ),
    );
    (metadata, t)
}

/// Whether PostgreSQL has an enum type named `name` in the current schema.
async fn pg_type_exists(conn: &mut Connection, name: &str) -> bool {
    let n = rows(
        conn,
        &text(
            "SELECT count(*) AS n FROM pg_type t JOIN pg_namespace s ON s.oid = t.typnamespace \
             WHERE t.typname = :name AND s.nspname = current_schema()",
        )
        .bind("name", name),
    )
    .await;
    int(&n[0], "n") > 0
}

async fn fill(conn: &mut Connection, t: &Table) {
    for (id, kind) in [(1, "day"), (2, "night"), (3, "evening"), (4, "day")] {
        run(
            conn,
            &insert(t).values([("id", Value::from(id)), ("kind", kind.into())]),
        )
        .await;
    }
}

/// A native enum: created with its type, compared, updated, sorted in
/// declaration order where the backend has enum types, dropped with it.
async fn native_enum_round_trip(db: TestDb) {
    let (metadata, t) = shift(true);
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    if db.backend == TestBackend::Postgres {
        assert!(pg_type_exists(&mut conn, "shift_kind").await);
    }
    // Created again: the table and the type exist, nothing is sent.
    metadata.create_all(&mut conn).await.unwrap();
    fill(&mut conn, &t).await;

    let kind = || t.c("kind");
    let sorted = rows(&mut conn, &select((kind(),)).order_by((kind(), t.c("id")))).await;
    let expected: &[&str] = match db.backend {
        // Declaration order: night, day, evening.
        TestBackend::Postgres | TestBackend::MySql => &["night", "day", "day", "evening"],
        TestBackend::Sqlite => &["day", "day", "evening", "night"],
    };
    assert_eq!(texts(&sorted, "kind"), expected);

    let days = rows(
        &mut conn,
        &select((t.c("id"),))
            .where_(kind().eq("day"))
            .order_by(t.c("id")),
    )
    .await;
    assert_eq!(ints(&days, "id"), [1, 4]);
    let some = rows(
        &mut conn,
        &select((t.c("id"),))
            .where_(kind().in_(["night", "evening"]))
            .order_by(t.c("id")),
    )
    .await;
    assert_eq!(ints(&some, "id"), [2, 3]);
    let not_day = rows(
        &mut conn,
        &select((t.c("id"),)).filter_by([("kind", "night")]),
    )
    .await;
    assert_eq!(ints(&not_day, "id"), [2]);
    let labels = rows(
        &mut conn,
        &select((case_value(kind(), [("night", "N"), ("day", "D")])
            .else_("E")
            .label("l"),))
        .order_by(t.c("id")),
    )
    .await;
    assert_eq!(texts(&labels, "l"), ["D", "N", "E", "D"]);

    let done = run(
        &mut conn,
        &update(&t).set("kind", "evening").where_(kind().eq("day")),
    )
    .await;
    assert_eq!(done.rows_affected(), 2);
    let counts = rows(
        &mut conn,
        &select((kind(), func::count_star().label("n")))
            .group_by(kind())
            .order_by(kind()),
    )
    .await;
    let expected: &[(&str, i64)] = match db.backend {
        TestBackend::Postgres | TestBackend::MySql => &[("night", 1), ("evening", 3)],
        TestBackend::Sqlite => &[("evening", 3), ("night", 1)],
    };
    let got: Vec<(String, i64)> = counts
        .iter()
        .map(|r| (r.get::<String, _>("kind").unwrap(), int(r, "n")))
        .collect();
    let expected: Vec<(String, i64)> = expected
        .iter()
        .map(|(k, n)| ((*k).to_owned(), *n))
        .collect();
    assert_eq!(got, expected);

    // Named placeholders into the enum column, many sets.
    let placeholders = insert(&t).values([("id", bindparam("id")), ("kind", bindparam("kind"))]);
    let done = conn
        .executemany(
            &placeholders,
            [(("id", 5), ("kind", "day")), (("id", 6), ("kind", "night"))],
        )
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 2);
    let added = rows(
        &mut conn,
        &select((kind(),))
            .where_(t.c("id").ge(5))
            .order_by(t.c("id")),
    )
    .await;
    assert_eq!(texts(&added, "kind"), ["day", "night"]);

    // A value the enum does not have.
    let err = attempt(
        &mut conn,
        &insert(&t).values([("id", Value::from(9)), ("kind", "weekend".into())]),
    )
    .await
    .unwrap_err();
    let expected = match db.backend {
        TestBackend::Sqlite => ErrorKind::Integrity(IntegrityKind::Check),
        _ => ErrorKind::Data,
    };
    assert_eq!(err.kind(), Some(expected), "{err:?}");

    metadata.drop_all(&mut conn).await.unwrap();
    if db.backend == TestBackend::Postgres {
        assert!(!pg_type_exists(&mut conn, "shift_kind").await);
    }
    drop(conn);
    db.close().await;
}

/// A non-native enum (`native_enum(false)`) is VARCHAR with a CHECK on
/// every backend: no type is created, values sort as text, a bad value
/// violates the CHECK.
async fn non_native_enum(db: TestDb) {
    let (metadata, t) = shift(false);
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    if db.backend == TestBackend::Postgres {
        assert!(!pg_type_exists(&mut conn, "shift_kind").await);
    }
    fill(&mut conn, &t).await;
    let sorted = rows(
        &mut conn,
        &select((t.c("kind"),)).order_by((t.c("kind"), t.c("id"))),
    )
    .await;
    assert_eq!(texts(&sorted, "kind"), ["day", "day", "evening", "night"]);
    let err = attempt(
        &mut conn,
        &insert(&t).values([("id", Value::from(9)), ("kind", "weekend".into())]),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.kind(),
        Some(ErrorKind::Integrity(IntegrityKind::Check)),
        "{err:?}"
    );
    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

/// Two tables sharing one enum type: it is created once, and dropping
/// one table alone keeps the type the other still uses.
async fn shared_enum_type(db: TestDb) {
    let ty = SqlType::enumeration("level", ["low", "high"]);
    let mut metadata = MetaData::new();
    let a = metadata.add(
        Table::new("alarm")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("level", ty.clone())),
    );
    metadata.add(
        Table::new("signal")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("level", ty)),
    );
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    metadata
        .drop_all_with(&mut conn, &SchemaOptions::default().tables(["signal"]))
        .await
        .unwrap();
    if db.backend == TestBackend::Postgres {
        assert!(pg_type_exists(&mut conn, "level").await);
    }
    run(
        &mut conn,
        &insert(&a).values([("id", Value::from(1)), ("level", "high".into())]),
    )
    .await;
    let got = rows(
        &mut conn,
        &select((a.c("level"),)).where_(a.c("level").eq("high")),
    )
    .await;
    assert_eq!(texts(&got, "level"), ["high"]);
    metadata.drop_all(&mut conn).await.unwrap();
    if db.backend == TestBackend::Postgres {
        assert!(!pg_type_exists(&mut conn, "level").await);
    }
    drop(conn);
    db.close().await;
}

on_all_backends!(native_enum_round_trip, non_native_enum, shared_enum_type);
