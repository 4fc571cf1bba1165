//! Every value type survives a round trip through each backend: bound on
//! the way in, decoded on the way out, converted back to its Rust type.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use persistence::dialects::{insert, select, Column, MetaData, SqlType, Table, Value};
use persistence::SchemaExt;
use rust_decimal::Decimal;
use tests::{on_all_backends, TestDb};
use uuid::Uuid;

fn all_types() -> (MetaData, Table) {
    let mut metadata = MetaData::new();
    let t = metadata.add(
        Table::new("all_types")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("small", SqlType::SmallInteger).nullable(true))
            .column(Column::new("int", SqlType::Integer).nullable(true))
            .column(Column::new("big", SqlType::BigInteger).nullable(true))
            .column(Column::new("f32", SqlType::Float).nullable(true))
            .column(Column::new("f64", SqlType::Double).nullable(true))
            .column(Column::new("money", SqlType::Numeric(12, 2)).nullable(true))
            .column(Column::new("short", SqlType::string(64)).nullable(true))
            .column(Column::new("long", SqlType::Text).nullable(true))
            .column(Column::new("flag", SqlType::Boolean).nullable(true))
            .column(Column::new("day", SqlType::Date).nullable(true))
            .column(Column::new("clock", SqlType::Time).nullable(true))
            .column(Column::new("at", SqlType::DateTime { timezone: false }).nullable(true))
            .column(Column::new("at_utc", SqlType::DateTime { timezone: true }).nullable(true))
            .column(Column::new("uid", SqlType::Uuid).nullable(true))
            .column(Column::new("doc", SqlType::Json).nullable(true))
            .column(Column::new("blob", SqlType::Binary(None)).nullable(true))
            .column(
                Column::new(
                    "kind",
                    SqlType::enumeration("kind", ["parttime", "fulltime"]),
                )
                .nullable(true),
            ),
    );
    (metadata, t)
}

async fn every_type_round_trips(db: TestDb) {
    let (metadata, t) = all_types();
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();

    let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let clock = NaiveTime::from_hms_micro_opt(13, 14, 15, 123_456).unwrap();
    let at = NaiveDateTime::new(day, clock);
    let at_utc: DateTime<Utc> = at.and_utc();
    let uid = Uuid::new_v4();
    let doc = serde_json::json!({"name": "Vlad", "tags": ["a", "b"], "n": 1});
    let tricky = "quote ' double \" semicolon ; backslash \\ unicode ✓ ß 漢字 🙂";
    let money = Decimal::new(123_456, 2);
    let row: Vec<(&str, Value)> = vec![
        ("small", 7_i16.into()),
        ("int", (-123_456_i32).into()),
        ("big", 9_007_199_254_740_993_i64.into()),
        ("f32", 1.5_f32.into()),
        ("f64", 2.25_f64.into()),
        ("money", money.into()),
        ("short", tricky.into()),
        ("long", tricky.repeat(100).into()),
        ("flag", true.into()),
        ("day", day.into()),
        ("clock", clock.into()),
        ("at", at.into()),
        ("at_utc", at_utc.into()),
        ("uid", uid.into()),
        ("doc", doc.clone().into()),
        ("blob", vec![0_u8, 1, 2, 255, b'\'', b'\\'].into()),
        ("kind", "fulltime".into()),
    ];
    conn.execute(&insert(&t).values(row)).await.unwrap();
    conn.execute(&insert(&t).values([("small", Value::Null)]))
        .await
        .unwrap();

    let rows = conn
        .execute(&select(&t).order_by([t.c("id")]))
        .await
        .unwrap()
        .all();
    let r = &rows[0];
    assert_eq!(r.get::<i16, _>("small").unwrap(), 7);
    assert_eq!(r.get::<i32, _>("int").unwrap(), -123_456);
    assert_eq!(r.get::<i64, _>("big").unwrap(), 9_007_199_254_740_993);
    assert_eq!(r.get::<f32, _>("f32").unwrap(), 1.5);
    assert_eq!(r.get::<f64, _>("f64").unwrap(), 2.25);
    assert_eq!(r.get::<Decimal, _>("money").unwrap(), money);
    assert_eq!(r.get::<String, _>("short").unwrap(), tricky);
    assert_eq!(r.get::<String, _>("long").unwrap(), tricky.repeat(100));
    assert!(r.get::<bool, _>("flag").unwrap());
    assert_eq!(r.get::<NaiveDate, _>("day").unwrap(), day);
    assert_eq!(r.get::<NaiveTime, _>("clock").unwrap(), clock);
    assert_eq!(r.get::<NaiveDateTime, _>("at").unwrap(), at);
    assert_eq!(r.get::<DateTime<Utc>, _>("at_utc").unwrap(), at_utc);
    assert_eq!(r.get::<Uuid, _>("uid").unwrap(), uid);
    assert_eq!(r.get::<serde_json::Value, _>("doc").unwrap(), doc);
    assert_eq!(
        r.get::<Vec<u8>, _>("blob").unwrap(),
        vec![0_u8, 1, 2, 255, b'\'', b'\\']
    );
    assert_eq!(r.get::<String, _>("kind").unwrap(), "fulltime");

    // The second row: every column NULL, read back as None.
    let n = &rows[1];
    for col in [
        "small", "int", "big", "short", "day", "at_utc", "uid", "doc", "blob", "kind",
    ] {
        assert_eq!(n.value(col).unwrap(), &Value::Null, "column {col}");
    }
    assert_eq!(n.get::<Option<i32>, _>("int").unwrap(), None);
    assert_eq!(n.get::<Option<Uuid>, _>("uid").unwrap(), None);

    // Lookups by each kind of value find the row.
    for (col, v) in [
        ("short", Value::from(tricky)),
        ("uid", Value::from(uid)),
        ("day", Value::from(day)),
        ("at", Value::from(at)),
        ("money", Value::from(money)),
    ] {
        let found = conn
            .execute(&select((t.c("id"),)).where_(t.c(col).eq(v)))
            .await
            .unwrap()
            .all();
        assert_eq!(found.len(), 1, "lookup by {col}");
    }

    // The enum column refuses a value outside its set.
    let err = conn
        .execute(&insert(&t).values([("kind", "freelance")]))
        .await
        .unwrap_err();
    assert!(
        err.is_integrity() || err.kind() == Some(persistence::ErrorKind::Data),
        "{err:?}"
    );
    // PostgreSQL aborted the transaction at the failure.
    conn.rollback().await.unwrap();

    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

on_all_backends!(every_type_round_trips);
