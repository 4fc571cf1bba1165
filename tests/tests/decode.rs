//! Decoding what the server sends, on every backend: values the Rust types
//! cannot hold are typed errors naming the column, never panics, and the
//! connection stays usable after them; PostgreSQL's common types beyond the
//! scalars (arrays, interval, inet, json/jsonb, enums, domains) decode to
//! values, and the rest is an error naming the type.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::StreamExt;
use persistence::dialects::{text, Column, SqlType, Table, Value};
use persistence::orm::{Registry, SessionMaker};
use persistence::{mapping, Connection, Error, SchemaExt};
use serde_json::json;
use tests::{on_all_backends, TestBackend, TestDb};

/// The only value `sql` returns.
async fn scalar(conn: &mut Connection, sql: &str) -> Result<Value, Error> {
    let rows = conn.execute(&text(sql)).await?;
    Ok(rows.scalar().expect("one value"))
}

/// Asserts that `sql` fails to decode column `column` with a message
/// containing `needle`, and that the connection still answers.
async fn decode_error(conn: &mut Connection, sql: &str, column: &str, needle: &str) {
    match scalar(conn, sql).await {
        Err(Error::Decode {
            column: found,
            message,
        }) => {
            assert_eq!(found, column, "{sql}: {message}");
            assert!(message.contains(needle), "{sql}: {message}");
        }
        other => panic!("{sql}: expected a decode error, got {other:?}"),
    }
    let after = scalar(conn, "SELECT 1 AS one").await.unwrap();
    assert_eq!(after.as_i64(), Some(1), "usable after {sql}");
}

/// Values the Rust types cannot hold, on each backend.
async fn unrepresentable_values_are_decode_errors(db: TestDb) {
    let mut conn = db.engine.connect().await.unwrap();
    match db.backend {
        TestBackend::Postgres => {
            for (sql, needle) in [
                ("SELECT 'infinity'::date AS d", "`infinity`"),
                ("SELECT '-infinity'::date AS d", "`-infinity`"),
                ("SELECT 'infinity'::timestamp AS d", "`infinity`"),
                ("SELECT '-infinity'::timestamp AS d", "`-infinity`"),
                ("SELECT 'infinity'::timestamptz AS d", "`infinity`"),
                // PostgreSQL's range is wider than chrono's (262143 AD).
                (
                    "SELECT '294276-12-31 23:59:59'::timestamp AS d",
                    "outside chrono's range",
                ),
                (
                    "SELECT '5874897-12-31'::date AS d",
                    "outside chrono's range",
                ),
                ("SELECT '24:00:00'::time AS d", "no chrono representation"),
                ("SELECT 1e40::numeric AS d", "28"),
                ("SELECT 'NaN'::numeric AS d", "`NaN`"),
                ("SELECT 'infinity'::numeric AS d", "`infinity`"),
            ] {
                decode_error(&mut conn, sql, "d", needle).await;
            }
            // Streamed rows too, and a good row before the bad one arrives.
            let query =
                text("SELECT d FROM (VALUES ('2024-01-02'::date), ('infinity'::date)) AS v(d)");
            let rows: Vec<_> = conn.stream(&query).collect().await;
            assert_eq!(rows.len(), 2);
            assert!(rows[0].is_ok(), "{:?}", rows[0]);
            assert!(
                matches!(&rows[1], Err(Error::Decode { message, .. }) if message.contains("infinity")),
                "{:?}",
                rows[1]
            );
            // Ordinary values on each side of the epoch still decode.
            let v = scalar(&mut conn, "SELECT '1999-12-31 23:59:59.5'::timestamp AS d")
                .await
                .unwrap();
            assert_eq!(v.to_string(), "1999-12-31 23:59:59.500");
            let v = scalar(&mut conn, "SELECT 12345.678::numeric(10, 3) AS d")
                .await
                .unwrap();
            assert_eq!(v, Value::Decimal("12345.678".parse().unwrap()));
            let v = scalar(&mut conn, "SELECT -0.0001::numeric AS d")
                .await
                .unwrap();
            assert_eq!(v, Value::Decimal("-0.0001".parse().unwrap()));
        }
        TestBackend::MySql => {
            conn.execute(&text("SET SESSION sql_mode = ''"))
                .await
                .unwrap();
            conn.execute(&text(
                "CREATE TABLE odd (d DATE, t DATETIME, h TIME, n DECIMAL(65, 0))",
            ))
            .await
            .unwrap();
            conn.execute(&text(
                "INSERT INTO odd VALUES ('0000-00-00', '0000-00-00 00:00:00', '838:59:59', \
                 1e60)",
            ))
            .await
            .unwrap();
            // MySQL's zero dates say "no date": they come back as NULL (as
            // JDBC's zeroDateTimeBehavior=convertToNull reads them).
            for sql in ["SELECT d FROM odd", "SELECT t FROM odd"] {
                assert_eq!(scalar(&mut conn, sql).await.unwrap(), Value::Null, "{sql}");
            }
            // A TIME past 24 hours and a DECIMAL past 28 digits do not fit.
            decode_error(&mut conn, "SELECT h FROM odd", "h", "838:59:59").await;
            decode_error(&mut conn, "SELECT n FROM odd", "n", "").await;
        }
        TestBackend::Sqlite => {
            // SQLite stores what it is given; text that is not a timestamp in
            // a DATETIME column comes back as text, a large integer as one.
            conn.execute(&text("CREATE TABLE odd (t DATETIME, b BOOLEAN, n INTEGER)"))
                .await
                .unwrap();
            conn.execute(&text(
                "INSERT INTO odd VALUES ('infinity', 2, 9223372036854775807)",
            ))
            .await
            .unwrap();
            let row = conn
                .execute(&text("SELECT t, b, n FROM odd"))
                .await
                .unwrap()
                .one()
                .unwrap();
            assert_eq!(
                row.values(),
                [
                    Value::String("infinity".into()),
                    Value::Bool(true),
                    Value::BigInt(i64::MAX)
                ]
            );
        }
    }
    conn.commit().await.unwrap();
    drop(conn);
    db.close().await;
}

on_all_backends!(unrepresentable_values_are_decode_errors);

/// A row with a timestamp, mapped by the ORM.
#[derive(Debug, Clone, PartialEq)]
struct Event {
    id: i64,
    at: chrono::NaiveDateTime,
}

/// Through the ORM: an `infinity` timestamp is a decode error of the
/// load, the session stays usable.
#[tokio::test]
async fn infinity_through_the_orm_is_a_decode_error() {
    let db = TestDb::new(TestBackend::Postgres, "decode_orm_infinity").await;
    let mut registry = Registry::new();
    let event = Table::new("event")
        .column(
            Column::new("id", SqlType::BigInteger)
                .primary_key()
                .autoincrement(false),
        )
        .column(Column::new("at", SqlType::DateTime { timezone: false }).not_null());
    registry
        .map_imperatively(
            &event,
            mapping!(Event {
                id: i64 = "id",
                at: chrono::NaiveDateTime = "at",
            }),
        )
        .finish();
    let mappers = registry.configure().unwrap();
    let mut conn = db.engine.connect().await.unwrap();
    mappers.metadata().create_all(&mut conn).await.unwrap();
    conn.execute(&text(
        "INSERT INTO event (id, at) VALUES (1, 'infinity'), (2, '2024-05-06 07:08:09')",
    ))
    .await
    .unwrap();
    conn.commit().await.unwrap();
    drop(conn);
    let sessions = SessionMaker::new(db.engine.clone(), mappers);
    let mut session = sessions.session();
    match session.get::<Event>(1_i64).await {
        Err(Error::Decode { column, message }) => {
            assert_eq!(column, "at");
            assert!(message.contains("infinity"), "{message}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    let fine = session.get::<Event>(2_i64).await.unwrap().unwrap();
    assert_eq!(fine.at.to_string(), "2024-05-06 07:08:09");
    drop(session);
    db.close().await;
}

/// PostgreSQL's arrays, interval, inet, json/jsonb, enums and domains
/// decode; types without a `Value` counterpart are errors naming the type.
#[tokio::test]
async fn postgres_common_types() {
    let db = TestDb::new(TestBackend::Postgres, "decode_pg_types").await;
    let mut conn = db.engine.connect().await.unwrap();
    let cases: Vec<(&str, Value)> = vec![
        (
            "SELECT ARRAY[1, 2, NULL, 4]::int4[] AS v",
            Value::Json(json!([1, 2, null, 4])),
        ),
        ("SELECT ARRAY[]::int8[] AS v", Value::Json(json!([]))),
        (
            "SELECT ARRAY[[1, 2], [3, 4]]::int2[] AS v",
            Value::Json(json!([[1, 2], [3, 4]])),
        ),
        (
            r#"SELECT ARRAY['a', 'O''Brien', NULL, 'say "hi"']::text[] AS v"#,
            Value::Json(json!(["a", "O'Brien", null, "say \"hi\""])),
        ),
        (
            "SELECT ARRAY[true, false]::bool[] AS v",
            Value::Json(json!([true, false])),
        ),
        (
            "SELECT ARRAY[1.5, -0.25]::numeric[] AS v",
            Value::Json(json!(["1.5", "-0.25"])),
        ),
        (
            "SELECT ARRAY['2024-01-02', 'infinity']::date[] AS v",
            Value::Json(json!(["2024-01-02", "infinity"])),
        ),
        (
            "SELECT ARRAY['00000000-0000-0000-0000-000000000001']::uuid[] AS v",
            Value::Json(json!(["00000000-0000-0000-0000-000000000001"])),
        ),
        (
            r#"SELECT ARRAY['{"a": 1}', '[2]']::jsonb[] AS v"#,
            Value::Json(json!([{"a": 1}, [2]])),
        ),
        (
            "SELECT '1 year 2 mons 3 days 04:05:06.5'::interval AS v",
            Value::String("P1Y2M3DT4H5M6.5S".into()),
        ),
        (
            "SELECT '-1 day -00:00:01'::interval AS v",
            Value::String("P-1DT-1S".into()),
        ),
        (
            "SELECT '192.168.0.1'::inet AS v",
            Value::String("192.168.0.1".into()),
        ),
        (
            "SELECT '10.1.0.0/16'::cidr AS v",
            Value::String("10.1.0.0/16".into()),
        ),
        ("SELECT '::1/128'::inet AS v", Value::String("::1".into())),
        (
            "SELECT '08:00:2b:01:02:03'::macaddr AS v",
            Value::String("08:00:2b:01:02:03".into()),
        ),
        (
            "SELECT B'10110'::varbit AS v",
            Value::String("10110".into()),
        ),
        (
            "SELECT '12:30:00+02'::timetz AS v",
            Value::String("12:30:00+02".into()),
        ),
        (
            r#"SELECT '{"b": [1, "x"]}'::jsonb AS v"#,
            Value::Json(json!({"b": [1, "x"]})),
        ),
        (
            r#"SELECT '{"b": 2}'::json AS v"#,
            Value::Json(json!({"b": 2})),
        ),
        ("SELECT 'pg_class'::regclass AS v", Value::BigInt(1259)),
        ("SELECT pg_sleep(0) AS v", Value::Null),
    ];
    for (sql, expected) in cases {
        let got = scalar(&mut conn, sql).await;
        assert_eq!(got.as_ref().ok(), Some(&expected), "{sql}: {got:?}");
    }
    // Enums come back as their label, domains as their base type.
    conn.execute(&text("CREATE TYPE mood AS ENUM ('sad', 'happy')"))
        .await
        .unwrap();
    conn.execute(&text("CREATE DOMAIN positive AS int4 CHECK (VALUE > 0)"))
        .await
        .unwrap();
    let v = scalar(&mut conn, "SELECT 'happy'::mood AS v")
        .await
        .unwrap();
    assert_eq!(v, Value::String("happy".into()));
    let v = scalar(&mut conn, "SELECT ARRAY['sad', 'happy']::mood[] AS v")
        .await
        .unwrap();
    assert_eq!(v, Value::Json(json!(["sad", "happy"])));
    let v = scalar(&mut conn, "SELECT 7::positive AS v").await.unwrap();
    assert_eq!(v, Value::Int(7));

    for (sql, type_name) in [
        ("SELECT 12.5::money AS v", "MONEY"),
        ("SELECT point(1, 2) AS v", "POINT"),
        ("SELECT int4range(1, 5) AS v", "INT4RANGE"),
        ("SELECT ARRAY[point(1, 2)] AS v", "POINT[]"),
        ("SELECT ROW(1, 'a') AS v", "RECORD"),
    ] {
        match scalar(&mut conn, sql).await {
            Err(e @ Error::UnsupportedType { .. }) => {
                let Error::UnsupportedType {
                    column,
                    type_name: found,
                    ..
                } = &e
                else {
                    unreachable!()
                };
                assert_eq!((column.as_str(), found.as_str()), ("v", type_name), "{sql}");
                assert!(e.to_string().contains("cast it"), "{e}");
            }
            other => panic!("{sql}: expected UnsupportedType, got {other:?}"),
        }
        // A cast is the way out, and the connection is still fine.
        let cast = sql.replace(" AS v", "::text AS v");
        assert!(
            matches!(scalar(&mut conn, &cast).await, Ok(Value::String(_))),
            "{cast}"
        );
    }
    conn.commit().await.unwrap();
    drop(conn);
    db.close().await;
}

/// A table of PostgreSQL values read through `create_all`'s schema: the
/// engine's own DDL types still decode as before (a guard against the
/// hand-written decoders drifting from sqlx's).
#[tokio::test]
async fn postgres_scalars_round_trip() {
    let db = TestDb::new(TestBackend::Postgres, "decode_pg_scalars").await;
    let mut metadata = persistence::dialects::MetaData::new();
    let t = metadata.add(
        Table::new("scalars")
            .column(Column::new("i2", SqlType::SmallInteger))
            .column(Column::new("i4", SqlType::Integer))
            .column(Column::new("i8", SqlType::BigInteger))
            .column(Column::new("f4", SqlType::Float))
            .column(Column::new("f8", SqlType::Double))
            .column(Column::new("b", SqlType::Boolean))
            .column(Column::new("s", SqlType::Text))
            .column(Column::new("by", SqlType::Binary(None)))
            .column(Column::new("d", SqlType::Date))
            .column(Column::new("tm", SqlType::Time))
            .column(Column::new("ts", SqlType::DateTime { timezone: false }))
            .column(Column::new("tz", SqlType::DateTime { timezone: true }))
            .column(Column::new("u", SqlType::Uuid))
            .column(Column::new("j", SqlType::Json)),
    );
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    let at = chrono::NaiveDate::from_ymd_opt(1969, 7, 20)
        .unwrap()
        .and_hms_micro_opt(20, 17, 40, 123_456)
        .unwrap();
    let values = vec![
        Value::SmallInt(-7),
        Value::Int(i32::MIN),
        Value::BigInt(i64::MAX),
        Value::Float(1.5),
        Value::Double(-2.25),
        Value::Bool(true),
        Value::String("Zoë 漢字".into()),
        Value::Bytes(vec![0, 255, 7]),
        Value::Date(at.date()),
        Value::Time(at.time()),
        Value::DateTime(at),
        Value::DateTimeUtc(at.and_utc()),
        Value::Uuid(uuid::Uuid::from_u128(42)),
        Value::Json(json!({"k": [1, null]})),
    ];
    let names = [
        "i2", "i4", "i8", "f4", "f8", "b", "s", "by", "d", "tm", "ts", "tz", "u", "j",
    ];
    conn.execute(&persistence::dialects::insert(&t).values(names.into_iter().zip(values.clone())))
        .await
        .unwrap();
    let row = conn
        .execute(&persistence::dialects::select(&t))
        .await
        .unwrap()
        .one()
        .unwrap();
    assert_eq!(row.values(), values.as_slice());
    conn.commit().await.unwrap();
    drop(conn);
    db.close().await;
}
