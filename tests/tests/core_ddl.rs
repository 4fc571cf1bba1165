//! DDL from the schema model run against every backend: every column type
//! created and reflected back with `inspect()`, keys and constraints
//! enforced (checked by the rows and errors that result), server defaults
//! filled in, indexes created, IF [NOT] EXISTS forms, and `create_all` /
//! `drop_all` in foreign-key order.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{NaiveDateTime, Utc};
use common::{
    attempt, dialect_name, finish, int, ints, opt_ints, rows, run, seeded, strings, text_of, texts,
};
use persistence::dialects::{
    column, delete, func, insert, select, CheckConstraint, Column, CompileError, CreateIndex,
    CreateTable, DropIndex, DropTable, Index, MetaData, ReferentialAction, SqlType, Table,
    UniqueConstraint, Value,
};
use persistence::{inspect, Connection, Error, ErrorKind, IntegrityKind, SchemaExt};
use tests::{on_all_backends, TestBackend, TestDb};

/// Every `SqlType`, one nullable column each.
fn every_type(backend: TestBackend) -> Table {
    let mut t = Table::new("every_type")
        .column(Column::new("id", SqlType::Integer).primary_key())
        .column(Column::new("small", SqlType::SmallInteger))
        .column(Column::new("int", SqlType::Integer))
        .column(Column::new("big", SqlType::BigInteger))
        .column(Column::new("f32", SqlType::Float))
        .column(Column::new("f64", SqlType::Double))
        .column(Column::new("money", SqlType::Numeric(12, 2)))
        .column(Column::new("short", SqlType::string(64)))
        .column(Column::new("long", SqlType::Text))
        .column(Column::new("flag", SqlType::Boolean))
        .column(Column::new("day", SqlType::Date))
        .column(Column::new("clock", SqlType::Time))
        .column(Column::new("at", SqlType::DateTime { timezone: false }))
        .column(Column::new("at_utc", SqlType::DateTime { timezone: true }))
        .column(Column::new("uid", SqlType::Uuid))
        .column(Column::new("doc", SqlType::Json))
        .column(Column::new("bytes16", SqlType::Binary(Some(16))))
        .column(Column::new("blob", SqlType::Binary(None)))
        .column(Column::new(
            "kind",
            SqlType::enumeration("kind", ["parttime", "fulltime"]),
        ));
    if backend != TestBackend::MySql {
        // VARCHAR without a length: MySQL refuses it (checked below).
        t = t.column(Column::new("unbounded", SqlType::String(None)));
    }
    t
}

/// The type each backend reports for each column of [`every_type`].
fn reflected_types(backend: TestBackend) -> Vec<(&'static str, &'static str)> {
    match backend {
        TestBackend::Postgres => vec![
            ("id", "integer"),
            ("small", "smallint"),
            ("int", "integer"),
            ("big", "bigint"),
            ("f32", "real"),
            ("f64", "double precision"),
            ("money", "numeric(12,2)"),
            ("short", "character varying(64)"),
            ("long", "text"),
            ("flag", "boolean"),
            ("day", "date"),
            ("clock", "time without time zone"),
            ("at", "timestamp without time zone"),
            ("at_utc", "timestamp with time zone"),
            ("uid", "uuid"),
            ("doc", "jsonb"),
            ("bytes16", "bytea"),
            ("blob", "bytea"),
            ("kind", "kind"),
            ("unbounded", "character varying"),
        ],
        TestBackend::MySql => vec![
            ("id", "int(11)"),
            ("small", "smallint(6)"),
            ("int", "int(11)"),
            ("big", "bigint(20)"),
            ("f32", "float"),
            ("f64", "double"),
            ("money", "decimal(12,2)"),
            ("short", "varchar(64)"),
            ("long", "text"),
            ("flag", "tinyint(1)"),
            ("day", "date"),
            ("clock", "time(6)"),
            ("at", "datetime(6)"),
            ("at_utc", "datetime(6)"),
            ("uid", "char(36)"),
            ("doc", "longtext"),
            ("bytes16", "varbinary(16)"),
            ("blob", "longblob"),
            ("kind", "enum('parttime','fulltime')"),
        ],
        TestBackend::Sqlite => vec![
            ("id", "INTEGER"),
            ("small", "SMALLINT"),
            ("int", "INTEGER"),
            ("big", "BIGINT"),
            ("f32", "REAL"),
            ("f64", "DOUBLE PRECISION"),
            ("money", "NUMERIC(12, 2)"),
            ("short", "VARCHAR(64)"),
            ("long", "TEXT"),
            ("flag", "BOOLEAN"),
            ("day", "DATE"),
            ("clock", "TIME"),
            ("at", "DATETIME"),
            ("at_utc", "DATETIME"),
            ("uid", "CHAR(36)"),
            ("doc", "TEXT"),
            ("bytes16", "BLOB"),
            ("blob", "BLOB"),
            ("kind", "VARCHAR(8)"),
            ("unbounded", "VARCHAR"),
        ],
    }
}

/// Every column type is created, reflected back with its backend's
/// spelling and nullability, and holds a value.
async fn every_type_created_and_reflected(db: TestDb) {
    let mut metadata = MetaData::new();
    let t = metadata.add(every_type(db.backend));
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();

    let cols = inspect(&mut conn).columns("every_type").await.unwrap();
    let got: Vec<(&str, &str)> = cols
        .iter()
        .map(|c| (c.name.as_str(), c.type_name.as_str()))
        .collect();
    assert_eq!(got, reflected_types(db.backend));
    for c in &cols {
        assert_eq!(c.nullable, c.name != "id", "nullability of {c:?}");
    }
    assert_eq!(
        inspect(&mut conn).primary_key("every_type").await.unwrap(),
        ["id"]
    );

    // A row through every column, and one of NULLs.
    let day = chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let at = day.and_hms_micro_opt(13, 14, 15, 123_456).unwrap();
    let uid = uuid::Uuid::new_v4();
    let mut values: Vec<(&str, Value)> = vec![
        ("small", 7_i16.into()),
        ("int", 42.into()),
        ("big", 9_007_199_254_740_993_i64.into()),
        ("f32", 1.5_f32.into()),
        ("f64", 2.25_f64.into()),
        ("money", rust_decimal::Decimal::new(123_456, 2).into()),
        ("short", "O'Brien; \\ 🙂".into()),
        ("long", "long text".into()),
        ("flag", true.into()),
        ("day", day.into()),
        ("clock", at.time().into()),
        ("at", at.into()),
        ("at_utc", at.and_utc().into()),
        ("uid", uid.into()),
        ("doc", serde_json::json!({"a": [1, 2]}).into()),
        ("bytes16", vec![0_u8, 255, b'\\', b'\''].into()),
        ("blob", vec![1_u8; 1000].into()),
        ("kind", "fulltime".into()),
    ];
    if db.backend != TestBackend::MySql {
        values.push(("unbounded", "x".repeat(500).into()));
    }
    run(&mut conn, &insert(&t).values(values)).await;
    run(&mut conn, &insert(&t).values([("small", Value::Null)])).await;
    let got = rows(&mut conn, &select(&t).order_by([t.c("id")])).await;
    let r = &got[0];
    assert_eq!(int(r, "big"), 9_007_199_254_740_993);
    assert_eq!(text_of(r, "short"), "O'Brien; \\ 🙂");
    assert!(r.get::<bool, _>("flag").unwrap());
    assert_eq!(r.get::<NaiveDateTime, _>("at").unwrap(), at);
    assert_eq!(r.get::<uuid::Uuid, _>("uid").unwrap(), uid);
    assert_eq!(
        r.get::<Vec<u8>, _>("bytes16").unwrap(),
        [0_u8, 255, b'\\', b'\'']
    );
    assert_eq!(r.get::<Vec<u8>, _>("blob").unwrap().len(), 1000);
    assert_eq!(text_of(r, "kind"), "fulltime");
    for col in got[1].keys() {
        if &**col != "id" {
            assert_eq!(got[1].value(&**col).unwrap(), &Value::Null, "{col}");
        }
    }

    if db.backend == TestBackend::MySql {
        let unbounded = Table::new("unbounded")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("s", SqlType::String(None)));
        match conn.execute(&CreateTable::new(&unbounded)).await {
            Err(Error::Compile(CompileError::InvalidType {
                dialect, column, ..
            })) => {
                assert_eq!(dialect, dialect_name(&db));
                assert_eq!(column, "s");
            }
            other => panic!("expected InvalidType, got {other:?}"),
        }
    }
    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

/// The error family of a failed statement.
fn integrity_kind<T: std::fmt::Debug>(result: Result<T, Error>) -> IntegrityKind {
    match result {
        Err(e) => match e.kind() {
            Some(ErrorKind::Integrity(kind)) => kind,
            _ => panic!("expected an integrity error, got {e:?}"),
        },
        Ok(v) => panic!("expected an integrity error, got {v:?}"),
    }
}

/// A two-column primary key: reflected in key order, unique as a pair.
async fn composite_primary_key(db: TestDb) {
    let mut metadata = MetaData::new();
    let t = metadata.add(
        Table::new("seat")
            .column(Column::new("row_no", SqlType::Integer).primary_key())
            .column(Column::new("letter", SqlType::string(1)).primary_key())
            .column(Column::new("taken", SqlType::Boolean).not_null()),
    );
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    assert_eq!(
        inspect(&mut conn).primary_key("seat").await.unwrap(),
        ["row_no", "letter"]
    );
    let seat = |row: i32, letter: &str| {
        insert(&t).values([
            ("row_no", Value::from(row)),
            ("letter", Value::from(letter)),
            ("taken", Value::from(false)),
        ])
    };
    for (row, letter) in [(1, "A"), (1, "B"), (2, "A")] {
        run(&mut conn, &seat(row, letter)).await;
    }
    assert_eq!(
        integrity_kind(attempt(&mut conn, &seat(1, "B")).await),
        IntegrityKind::Unique
    );
    // Key columns are NOT NULL (SQLite would otherwise allow NULLs in a
    // non-integer key).
    let null_key = insert(&t).values([
        ("row_no", Value::from(3)),
        ("letter", Value::Null),
        ("taken", Value::from(true)),
    ]);
    assert_eq!(
        integrity_kind(attempt(&mut conn, &null_key).await),
        IntegrityKind::NotNull
    );
    let got = rows(
        &mut conn,
        &select((t.c("row_no"), t.c("letter"))).order_by([t.c("row_no"), t.c("letter")]),
    )
    .await;
    assert_eq!(ints(&got, "row_no"), [1, 1, 2]);
    assert_eq!(texts(&got, "letter"), ["A", "B", "A"]);
    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

/// UNIQUE on a column and a named UNIQUE over two columns: a violation is
/// an integrity error (Unique) and writes nothing; NULLs never collide.
async fn unique_constraints(db: TestDb) {
    let mut metadata = MetaData::new();
    let t = metadata.add(
        Table::new("account")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("email", SqlType::string(100)).unique())
            .column(Column::new("first_name", SqlType::string(50)).not_null())
            .column(Column::new("last_name", SqlType::string(50)).not_null())
            .unique(UniqueConstraint::new(["first_name", "last_name"]).named("uq_account_name")),
    );
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    let account = |email: Option<&str>, first: &str, last: &str| {
        insert(&t).values([
            ("email", Value::from(email)),
            ("first_name", Value::from(first)),
            ("last_name", Value::from(last)),
        ])
    };
    run(&mut conn, &account(Some("a@x.org"), "Ann", "Lee")).await;
    run(&mut conn, &account(None, "Bob", "Lee")).await;
    run(&mut conn, &account(None, "Ann", "Ray")).await;
    assert_eq!(
        integrity_kind(attempt(&mut conn, &account(Some("a@x.org"), "Cy", "Doe")).await),
        IntegrityKind::Unique
    );
    assert_eq!(
        integrity_kind(attempt(&mut conn, &account(Some("b@x.org"), "Ann", "Lee")).await),
        IntegrityKind::Unique
    );
    let got = rows(&mut conn, &select((t.c("id"),)).order_by([t.c("id")])).await;
    assert_eq!(got.len(), 3);

    let mut uniques: Vec<Vec<String>> = inspect(&mut conn)
        .unique_constraints("account")
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.columns)
        .collect();
    uniques.sort();
    assert_eq!(
        uniques,
        [strings(&["email"]), strings(&["first_name", "last_name"])]
    );
    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

/// ON DELETE CASCADE and ON DELETE SET NULL, checked by the rows left; a
/// dangling reference is an integrity error (ForeignKey).
async fn foreign_key_actions(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let fks = inspect(&mut conn).foreign_keys("resume").await.unwrap();
    assert_eq!(fks.len(), 1);
    assert_eq!(fks[0].referred_table, "worker");
    assert_eq!(fks[0].on_delete.as_deref(), Some("CASCADE"));

    // CASCADE: Vlad's resumes go with him.
    run(&mut conn, &delete(&s.worker).where_(s.worker.c("id").eq(1))).await;
    let got = rows(
        &mut conn,
        &select((s.resume.c("id"), s.resume.c("worker_id"))).order_by([s.resume.c("id")]),
    )
    .await;
    assert_eq!(ints(&got, "id"), [2, 3, 5, 6]);

    // SET NULL: O'Reilly's posts stay, without a publisher.
    run(
        &mut conn,
        &delete(&s.publisher).where_(s.publisher.c("name").eq("O'Reilly")),
    )
    .await;
    let got = rows(
        &mut conn,
        &select((s.post.c("id"), s.post.c("publisher_id"))).order_by([s.post.c("id")]),
    )
    .await;
    assert_eq!(ints(&got, "id"), [1, 2, 3, 4]);
    assert_eq!(opt_ints(&got, "publisher_id"), [Some(1), None, None, None]);

    // CASCADE through the association table, and down a self-reference.
    run(&mut conn, &delete(&s.post).where_(s.post.c("id").eq(1))).await;
    let got = rows(
        &mut conn,
        &select((s.post_tag.c("post_id"),)).order_by([s.post_tag.c("post_id")]),
    )
    .await;
    assert_eq!(ints(&got, "post_id"), [2, 4]);
    run(
        &mut conn,
        &delete(&s.category).where_(s.category.c("name").eq("books")),
    )
    .await;
    let got = rows(
        &mut conn,
        &select((s.category.c("name"),)).order_by([s.category.c("id")]),
    )
    .await;
    assert_eq!(texts(&got, "name"), ["root", "music"]);

    // A reference to nothing.
    let dangling = insert(&s.resume).values([
        ("title", Value::from("Ghost")),
        ("workload", Value::from("parttime")),
        ("worker_id", Value::from(99)),
    ]);
    assert_eq!(
        integrity_kind(attempt(&mut conn, &dangling).await),
        IntegrityKind::ForeignKey
    );
    finish(db, conn, s).await;
}

/// CHECK constraints, named and unnamed, over one and two columns, and
/// the check that keeps an enum column to its values: a violation is an
/// integrity error and writes nothing.
async fn check_constraints(db: TestDb) {
    let mut metadata = MetaData::new();
    let t = metadata.add(
        Table::new("salary_band")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("low", SqlType::Integer).not_null())
            .column(Column::new("high", SqlType::Integer).not_null())
            .column(Column::new("code", SqlType::string(10)).not_null())
            .column(Column::new(
                "workload",
                SqlType::enumeration("workload", ["parttime", "fulltime"]),
            ))
            .check(CheckConstraint::new(column("low").ge(0)).named("ck_band_low"))
            .check(CheckConstraint::new(column("low").le(column("high"))))
            .check(CheckConstraint::new(column("code").like("B-%")).named("ck_band_code")),
    );
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    let band = |low: i32, high: i32, code: &str| {
        insert(&t).values([
            ("low", Value::from(low)),
            ("high", Value::from(high)),
            ("code", Value::from(code)),
        ])
    };
    run(&mut conn, &band(0, 10, "B-1")).await;
    run(&mut conn, &band(5, 5, "B-2")).await;
    for (i, bad) in [band(-1, 10, "B-3"), band(11, 10, "B-4"), band(1, 2, "X-5")]
        .iter()
        .enumerate()
    {
        assert_eq!(
            integrity_kind(attempt(&mut conn, bad).await),
            IntegrityKind::Check,
            "case {i}"
        );
    }
    let bad_kind = insert(&t).values([
        ("low", Value::from(1)),
        ("high", Value::from(2)),
        ("code", Value::from("B-6")),
        ("workload", Value::from("casual")),
    ]);
    let err = attempt(&mut conn, &bad_kind).await.unwrap_err();
    match db.backend {
        // A native ENUM (MySQL in strict mode, PostgreSQL's enum type)
        // refuses the value as bad data.
        TestBackend::MySql | TestBackend::Postgres => {
            assert_eq!(err.kind(), Some(ErrorKind::Data), "{err:?}")
        }
        _ => assert_eq!(
            err.kind(),
            Some(ErrorKind::Integrity(IntegrityKind::Check)),
            "{err:?}"
        ),
    }
    let got = rows(&mut conn, &select((t.c("code"),)).order_by([t.c("id")])).await;
    assert_eq!(texts(&got, "code"), ["B-1", "B-2"]);
    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

/// Server defaults: literal text, integer and boolean, and `utc_now()`,
/// filled in by the database when an insert leaves them out.
async fn server_defaults(db: TestDb) {
    let mut metadata = MetaData::new();
    let t = metadata.add(
        Table::new("job")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("name", SqlType::string(50)).not_null())
            .column(
                Column::new("status", SqlType::string(20))
                    .not_null()
                    .server_default("it's new; \\o/"),
            )
            .column(
                Column::new("note", SqlType::Text)
                    .not_null()
                    .server_default("none"),
            )
            .column(
                Column::new("attempts", SqlType::Integer)
                    .not_null()
                    .server_default(3),
            )
            .column(
                Column::new("active", SqlType::Boolean)
                    .not_null()
                    .server_default(true),
            )
            .column(
                Column::new("created_at", SqlType::DateTime { timezone: false })
                    .not_null()
                    .server_default(func::utc_now()),
            ),
    );
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    run(&mut conn, &insert(&t).values([("name", "first")])).await;
    run(
        &mut conn,
        &insert(&t).values([
            ("name", Value::from("second")),
            ("status", Value::from("done")),
            ("attempts", Value::from(0)),
            ("active", Value::from(false)),
        ]),
    )
    .await;
    let got = rows(&mut conn, &select(&t).order_by([t.c("id")])).await;
    assert_eq!(texts(&got, "status"), ["it's new; \\o/", "done"]);
    assert_eq!(texts(&got, "note"), ["none", "none"]);
    assert_eq!(ints(&got, "attempts"), [3, 0]);
    let active: Vec<bool> = got.iter().map(|r| r.get("active").unwrap()).collect();
    assert_eq!(active, [true, false]);
    for r in &got {
        let at: NaiveDateTime = r.get("created_at").unwrap();
        let drift = (Utc::now().naive_utc() - at).num_seconds().abs();
        assert!(drift < 60, "created_at {at} is not the UTC time now");
    }
    let cols = inspect(&mut conn).columns("job").await.unwrap();
    let default = |name: &str| {
        cols.iter()
            .find(|c| c.name == name)
            .and_then(|c| c.default.clone())
            .unwrap_or_default()
    };
    assert!(default("status").contains("new"), "{cols:?}");
    assert!(default("attempts").contains('3'), "{cols:?}");
    assert!(!default("created_at").is_empty(), "{cols:?}");
    assert!(default("name").is_empty(), "{cols:?}");
    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

/// Indexes declared on the table and on a column are created with it and
/// reflected; a unique index is enforced.
async fn indexes(db: TestDb) {
    let mut metadata = MetaData::new();
    let t = metadata.add(
        Table::new("person")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("first_name", SqlType::string(50)).not_null())
            .column(Column::new("last_name", SqlType::string(50)).not_null())
            .column(Column::new("nick", SqlType::string(50)).index())
            .column(Column::new("badge", SqlType::Integer))
            .index(Index::new("ix_person_name", ["last_name", "first_name"]))
            .index(Index::new("ux_person_badge", ["badge"]).unique()),
    );
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    let mut got: Vec<(String, Vec<String>, bool)> = inspect(&mut conn)
        .indexes("person")
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.name, i.columns, i.unique))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "ix_person_name".to_owned(),
                strings(&["last_name", "first_name"]),
                false
            ),
            ("ix_person_nick".to_owned(), strings(&["nick"]), false),
            ("ux_person_badge".to_owned(), strings(&["badge"]), true),
        ]
    );
    let person = |badge: i32| {
        insert(&t).values([
            ("first_name", Value::from("A")),
            ("last_name", Value::from("B")),
            ("badge", Value::from(badge)),
        ])
    };
    run(&mut conn, &person(1)).await;
    assert_eq!(
        integrity_kind(attempt(&mut conn, &person(1)).await),
        IntegrityKind::Unique
    );
    // An index created and dropped on its own.
    run(
        &mut conn,
        &CreateIndex::new(&t, Index::new("ix_person_badge_nick", ["badge", "nick"])),
    )
    .await;
    let names = index_names(&mut conn).await;
    assert!(
        names.contains(&"ix_person_badge_nick".to_owned()),
        "{names:?}"
    );
    run(&mut conn, &DropIndex::new(&t, "ix_person_badge_nick")).await;
    let names = index_names(&mut conn).await;
    assert!(
        !names.contains(&"ix_person_badge_nick".to_owned()),
        "{names:?}"
    );
    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

async fn index_names(conn: &mut Connection) -> Vec<String> {
    inspect(conn)
        .indexes("person")
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect()
}

/// CREATE / DROP TABLE and INDEX with IF [NOT] EXISTS run twice without
/// error; without it, the second run fails.
async fn if_exists_forms_run_twice(db: TestDb) {
    let t = Table::new("note")
        .column(Column::new("id", SqlType::Integer).primary_key())
        .column(Column::new("body", SqlType::Text).not_null())
        .column(Column::new("topic", SqlType::string(20)));
    let mut conn = db.engine.connect().await.unwrap();
    for _ in 0..2 {
        run(&mut conn, &CreateTable::new(&t).if_not_exists()).await;
    }
    assert!(attempt(&mut conn, &CreateTable::new(&t)).await.is_err());
    let index = || CreateIndex::new(&t, Index::new("ix_note_topic", ["topic"]));
    for _ in 0..2 {
        run(&mut conn, &index().if_not_exists()).await;
    }
    assert!(attempt(&mut conn, &index()).await.is_err());
    run(
        &mut conn,
        &insert(&t).values([("body", "kept"), ("topic", "a")]),
    )
    .await;
    // IF NOT EXISTS leaves the existing table and its rows alone.
    run(&mut conn, &CreateTable::new(&t).if_not_exists()).await;
    let got = rows(&mut conn, &select((t.c("body"),))).await;
    assert_eq!(texts(&got, "body"), ["kept"]);

    for _ in 0..2 {
        run(&mut conn, &DropIndex::new(&t, "ix_note_topic").if_exists()).await;
    }
    assert!(attempt(&mut conn, &DropIndex::new(&t, "ix_note_topic"))
        .await
        .is_err());
    for _ in 0..2 {
        run(&mut conn, &DropTable::new(&t).if_exists()).await;
    }
    assert!(attempt(&mut conn, &DropTable::new(&t)).await.is_err());
    assert!(!inspect(&mut conn).has_table("note").await.unwrap());
    drop(conn);
    db.close().await;
}

/// `create_all` creates parents before children whatever order the tables
/// were added in, and may run again; `drop_all` drops children first, and
/// may run again; a foreign key cycle is a typed error.
async fn create_all_and_drop_all_in_fk_order(db: TestDb) {
    let mut metadata = MetaData::new();
    // Children first, so that creating in this order would fail.
    metadata.add(
        Table::new("review")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(
                Column::new("book_id", SqlType::Integer)
                    .not_null()
                    .foreign_key("book.id"),
            )
            .column(Column::new("stars", SqlType::SmallInteger).not_null()),
    );
    let book = metadata.add(
        Table::new("book")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(
                Column::new("author_id", SqlType::Integer)
                    .not_null()
                    .foreign_key("author.id")
                    .on_delete(ReferentialAction::Restrict),
            )
            .column(Column::new("title", SqlType::string(100)).not_null()),
    );
    let author = metadata.add(
        Table::new("author")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("name", SqlType::string(100)).not_null())
            .index(Index::new("ix_author_name", ["name"])),
    );
    let order: Vec<String> = metadata
        .sorted_tables()
        .unwrap()
        .iter()
        .map(|t| t.name().to_owned())
        .collect();
    assert_eq!(order, ["author", "book", "review"]);

    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    assert_eq!(
        inspect(&mut conn).table_names().await.unwrap(),
        ["author", "book", "review"]
    );
    let idx = inspect(&mut conn).indexes("author").await.unwrap();
    assert_eq!(idx.len(), 1, "{idx:?}");
    run(
        &mut conn,
        &insert(&author).values([("id", Value::from(1)), ("name", Value::from("Ann"))]),
    )
    .await;
    run(
        &mut conn,
        &insert(&book).values([
            ("author_id", Value::from(1)),
            ("title", Value::from("Rust")),
        ]),
    )
    .await;
    // RESTRICT: the author cannot go while a book refers to them.
    let kind = integrity_kind(attempt(&mut conn, &delete(&author)).await);
    match db.backend {
        // SQLite reports a RESTRICT violation as SQLITE_CONSTRAINT_TRIGGER
        // (1811, "FOREIGN KEY constraint failed"), which the driver maps to
        // `Other` (persistence/src/error.rs, kind_from_sqlite_code).
        TestBackend::Sqlite => assert!(
            matches!(kind, IntegrityKind::ForeignKey | IntegrityKind::Other),
            "{kind:?}"
        ),
        _ => assert_eq!(kind, IntegrityKind::ForeignKey),
    }
    let got = rows(&mut conn, &select((author.c("name"),))).await;
    assert_eq!(texts(&got, "name"), ["Ann"]);

    // With rows in every table, drop_all still succeeds: children first.
    metadata.drop_all(&mut conn).await.unwrap();
    assert!(inspect(&mut conn).table_names().await.unwrap().is_empty());
    metadata.drop_all(&mut conn).await.unwrap();

    let mut cyclic = MetaData::new();
    cyclic.add(
        Table::new("egg")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("hen_id", SqlType::Integer).foreign_key("hen.id")),
    );
    cyclic.add(
        Table::new("hen")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("egg_id", SqlType::Integer).foreign_key("egg.id")),
    );
    match cyclic.create_all(&mut conn).await {
        Err(Error::Compile(CompileError::DependencyCycle { tables })) => {
            assert_eq!(tables, ["egg", "hen"]);
        }
        other => panic!("expected a dependency cycle, got {other:?}"),
    }
    assert!(inspect(&mut conn).table_names().await.unwrap().is_empty());
    drop(conn);
    db.close().await;
}

on_all_backends!(
    every_type_created_and_reflected,
    composite_primary_key,
    unique_constraints,
    foreign_key_actions,
    check_constraints,
    server_defaults,
    indexes,
    if_exists_forms_run_twice,
    create_all_and_drop_all_in_fk_order,
);
