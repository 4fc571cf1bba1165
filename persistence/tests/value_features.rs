//! The value-type features on real servers, in builds without `chrono`
//! (which every other integration test has on):
//!
//! - with `time` alone, dates and times bind and decode as the `time`
//!   crate's own `Value` variants, through Core and the ORM;
//! - with neither `chrono` nor `time` (and without `uuid`, `json`,
//!   `decimal`), a date is `Error::FeatureDisabled` naming the type on
//!   PostgreSQL and MySQL, text on SQLite, and UUIDs, JSON and numerics
//!   decode as their text.
//!
//! Run with the servers of `scripts/test.sh` (`TEST_POSTGRES_URL`,
//! `TEST_MYSQL_URL`; a missing one fails the test):
//!
//! ```text
//! cargo test -p persistence --no-default-features --features sqlite,postgres,mysql,time --test value_features
//! cargo test -p persistence --no-default-features --features sqlite,postgres,mysql --test value_features
//! ```
//!
//! With `chrono` on (the default features) the file is empty.

#![cfg(all(
    not(feature = "chrono"),
    feature = "sqlite",
    feature = "postgres",
    feature = "mysql"
))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use persistence::dialects::text;
use persistence::{create_engine, Engine};

/// Which server a test runs on.
#[derive(Clone, Copy, Debug)]
enum On {
    Sqlite,
    Postgres,
    MySql,
}

/// An engine on `on`: a fresh SQLite file, or the server named by the
/// environment (which must be set: a test without its server fails).
async fn engine(on: On, test: &str) -> Engine {
    let url = match on {
        On::Sqlite => {
            let dir = std::env::temp_dir().join(format!(
                "persistence-value-features-{}-{test}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join("db.sqlite");
            let _ = std::fs::remove_file(&file);
            format!("sqlite://{}?mode=rwc", file.display())
        }
        On::Postgres => std::env::var("TEST_POSTGRES_URL")
            .expect("TEST_POSTGRES_URL names the PostgreSQL server of this test"),
        On::MySql => std::env::var("TEST_MYSQL_URL")
            .expect("TEST_MYSQL_URL names the MySQL / MariaDB server of this test"),
    };
    create_engine(&url).await.unwrap()
}

#[cfg(feature = "time")]
mod time_alone {
    use persistence::dialects::{insert, select, text, Column, MetaData, SqlType, Table, Value};
    use persistence::orm::{self, codec, presets, Registry, SessionMaker};
    use persistence::SchemaExt;
    use time::macros::{date, datetime, offset, time};
    use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

    use super::{engine, On};

    /// A table name of this process, so that runs do not meet.
    fn table_name(stem: &str) -> String {
        format!("{stem}_{}", std::process::id())
    }

    /// Core: bound as `time` values, decoded into the `Time*` variants.
    async fn core_round_trip(on: On) {
        let engine = engine(on, "core").await;
        let name = table_name("time_alone_core");
        let mut metadata = MetaData::new();
        let t = metadata.add(
            Table::new(name.as_str())
                .column(Column::new("id", SqlType::Integer).primary_key())
                .column(Column::new("day", SqlType::Date).nullable(true))
                .column(Column::new("clock", SqlType::Time).nullable(true))
                .column(Column::new("at", SqlType::DateTime { timezone: false }).nullable(true))
                .column(Column::new("at_tz", SqlType::DateTime { timezone: true }).nullable(true)),
        );
        let mut conn = engine.connect().await.unwrap();
        conn.execute(&text(&format!("DROP TABLE IF EXISTS {name}")))
            .await
            .unwrap();
        metadata.create_all(&mut conn).await.unwrap();
        let day = date!(2024 - 02 - 29);
        let clock = time!(13:14:15.123_456);
        let at = datetime!(1999-12-31 23:59:59.5);
        let at_tz = datetime!(2024-03-01 01:30:00.000_001 +02:00);
        conn.execute(&insert(&t).values([
            ("id", Value::from(1)),
            ("day", day.into()),
            ("clock", clock.into()),
            ("at", at.into()),
            ("at_tz", at_tz.into()),
        ]))
        .await
        .unwrap();
        let rows = conn.execute(&select(&t)).await.unwrap().all();
        let r = &rows[0];
        assert_eq!(r.value("day").unwrap(), &Value::TimeDate(day), "{on:?}");
        assert_eq!(r.value("clock").unwrap(), &Value::TimeTime(clock), "{on:?}");
        assert_eq!(
            r.value("at").unwrap(),
            &Value::TimePrimitiveDateTime(at),
            "{on:?}"
        );
        // PostgreSQL's timestamptz is the offset variant; MySQL's
        // DATETIME(6) (in UTC) and SQLite's text are timestamps without
        // offset, as with chrono, and convert.
        let back = r.get::<OffsetDateTime, _>("at_tz").unwrap();
        assert_eq!(back, at_tz, "{on:?}");
        assert_eq!(back.offset(), offset!(UTC), "{on:?}");
        if matches!(on, On::Postgres) {
            assert!(
                matches!(r.value("at_tz").unwrap(), Value::TimeOffsetDateTime(_)),
                "{on:?}: {:?}",
                r.value("at_tz")
            );
        }
        let found = conn
            .execute(&select((t.c("id"),)).where_(t.c("at_tz").eq(Value::from(at_tz))))
            .await
            .unwrap()
            .all();
        assert_eq!(found.len(), 1, "{on:?}");
        conn.commit().await.unwrap();
        metadata.drop_all(&mut conn).await.unwrap();
        conn.commit().await.unwrap();
    }

    #[derive(Debug, Clone, PartialEq)]
    struct Visit {
        id: Option<i64>,
        day: Date,
        arrived: Time,
        planned: PrimitiveDateTime,
        confirmed: OffsetDateTime,
        left_on: Option<Date>,
        stamped: OffsetDateTime,
    }

    persistence::model!(mod visit for Visit in "time_alone_visit" {
        id: Option<i64> = presets::intpk,
        day: Date,
        arrived: Time,
        planned: PrimitiveDateTime,
        confirmed: OffsetDateTime,
        left_on: Option<Date>,
        stamped: OffsetDateTime [codec::time::unix_seconds()],
    });

    /// ORM: `time` fields with the normal forms of a build without chrono.
    async fn orm_round_trip(on: On) {
        let engine = engine(on, "orm").await;
        let mut registry = Registry::new();
        registry.map(visit::model()).finish();
        let mappers = registry.configure().unwrap();
        let mut conn = engine.connect().await.unwrap();
        conn.execute(&text("DROP TABLE IF EXISTS time_alone_visit"))
            .await
            .unwrap();
        mappers.metadata().create_all(&mut conn).await.unwrap();
        conn.commit().await.unwrap();
        drop(conn);
        let sessions = SessionMaker::new(engine.clone(), mappers);
        let mut session = sessions.session();
        let mut v = Visit {
            id: None,
            day: date!(2024 - 07 - 01),
            arrived: time!(08:30:00.25),
            planned: datetime!(2024-07-01 08:30:00.000_001),
            confirmed: datetime!(2024-06-30 19:00:00.5 -04:00),
            left_on: None,
            stamped: datetime!(2024-06-30 12:00:00 UTC),
        };
        session.add(&mut v).await.unwrap();
        session.commit().await.unwrap();
        let id = v.id.unwrap();
        let mut session = sessions.session();
        let mut back: Visit = session.get(id).await.unwrap().unwrap();
        assert_eq!(back, v, "{on:?}");
        session.add(&mut back).await.unwrap();
        assert!(!session.is_dirty(), "{on:?}: unchanged");
        let found = session
            .scalars(orm::select::<Visit>().where_(visit::day.eq(date!(2024 - 07 - 01))))
            .await
            .unwrap()
            .all();
        assert_eq!(found.len(), 1, "{on:?}");
        back.left_on = Some(date!(2024 - 07 - 02));
        session.add(&mut back).await.unwrap();
        session.commit().await.unwrap();
        let mut session = sessions.session();
        let again: Visit = session.get(id).await.unwrap().unwrap();
        assert_eq!(again.left_on, Some(date!(2024 - 07 - 02)), "{on:?}");
        drop(session);
        let mut conn = engine.connect().await.unwrap();
        conn.execute(&text("DROP TABLE time_alone_visit"))
            .await
            .unwrap();
        conn.commit().await.unwrap();
    }

    #[tokio::test]
    async fn core_sqlite() {
        core_round_trip(On::Sqlite).await;
    }
    #[tokio::test]
    async fn core_postgres() {
        core_round_trip(On::Postgres).await;
    }
    #[tokio::test]
    async fn core_mysql() {
        core_round_trip(On::MySql).await;
    }
    #[tokio::test(flavor = "multi_thread")]
    async fn orm_sqlite() {
        orm_round_trip(On::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread")]
    async fn orm_postgres() {
        orm_round_trip(On::Postgres).await;
    }
    #[tokio::test(flavor = "multi_thread")]
    async fn orm_mysql() {
        orm_round_trip(On::MySql).await;
    }
}

#[cfg(not(any(
    feature = "time",
    feature = "uuid",
    feature = "json",
    feature = "decimal"
)))]
mod no_value_types {
    use persistence::dialects::{text, Value};
    use persistence::Error;

    use super::{engine, On};

    async fn scalar(engine: &persistence::Engine, sql: &str) -> Result<Value, Error> {
        let mut conn = engine.connect().await?;
        let rows = conn.execute(&text(sql)).await?;
        Ok(rows.scalar().expect("one value"))
    }

    /// Dates are a typed error naming the type where the server sends
    /// them in binary; UUIDs, JSON and numerics come back as their text.
    async fn fallbacks(on: On) {
        let engine = engine(on, "fallbacks").await;
        let (date_sql, uuid_sql, json_sql, numeric_sql) = match on {
            On::Postgres => (
                "SELECT DATE '2024-02-29' AS d",
                "SELECT '67e55044-10b1-426f-9247-bb680e5fe0c8'::uuid AS d",
                "SELECT '{\"a\": [1, 2]}'::jsonb AS d",
                "SELECT 12.50::numeric(6, 2) AS d",
            ),
            On::MySql => (
                "SELECT DATE '2024-02-29' AS d",
                "SELECT '67e55044-10b1-426f-9247-bb680e5fe0c8' AS d",
                "SELECT JSON_OBJECT('a', 1) AS d",
                "SELECT CAST(12.5 AS DECIMAL(6, 2)) AS d",
            ),
            On::Sqlite => (
                "SELECT DATE('2024-02-29') AS d",
                "SELECT '67e55044-10b1-426f-9247-bb680e5fe0c8' AS d",
                "SELECT json_object('a', 1) AS d",
                "SELECT '12.50' AS d",
            ),
        };
        match (on, scalar(&engine, date_sql).await) {
            (On::Sqlite, Ok(v)) => assert_eq!(v, Value::from("2024-02-29")),
            (
                _,
                Err(
                    ref e @ Error::FeatureDisabled {
                        ref column,
                        ref type_name,
                        feature,
                        ..
                    },
                ),
            ) => {
                assert_eq!(column, "d");
                assert_eq!(type_name, "DATE");
                assert_eq!(feature, "chrono` or `time");
                let text = e.to_string();
                assert!(
                    text.contains("needs the `chrono` or `time` feature"),
                    "{text}"
                );
            }
            (_, other) => panic!("{on:?}: {other:?}"),
        }
        assert_eq!(
            scalar(&engine, uuid_sql).await.unwrap(),
            Value::from("67e55044-10b1-426f-9247-bb680e5fe0c8"),
            "{on:?}"
        );
        let json = scalar(&engine, json_sql).await.unwrap();
        let json = json.as_str().expect("JSON as text");
        assert!(json.contains("\"a\""), "{on:?}: {json}");
        assert_eq!(
            scalar(&engine, numeric_sql).await.unwrap(),
            Value::from("12.50"),
            "{on:?}"
        );
        if matches!(on, On::Postgres) {
            // Arrays are JSON arrays: without `json`, the typed error.
            let err = scalar(&engine, "SELECT ARRAY[1, 2] AS d")
                .await
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::FeatureDisabled {
                        feature: "json",
                        ..
                    }
                ),
                "{err:?}"
            );
        }
        // The connection pool is still usable after the errors.
        assert_eq!(
            scalar(&engine, "SELECT 1 AS one").await.unwrap().as_i64(),
            Some(1)
        );
    }

    #[tokio::test]
    async fn fallbacks_sqlite() {
        fallbacks(On::Sqlite).await;
    }
    #[tokio::test]
    async fn fallbacks_postgres() {
        fallbacks(On::Postgres).await;
    }
    #[tokio::test]
    async fn fallbacks_mysql() {
        fallbacks(On::MySql).await;
    }
}

/// Something each build checks, so that the file is never empty of tests
/// in a build it is meant for.
#[tokio::test]
async fn servers_answer() {
    for on in [On::Sqlite, On::Postgres, On::MySql] {
        let engine = engine(on, "answer").await;
        let mut conn = engine.connect().await.unwrap();
        let v = conn.execute(&text("SELECT 1 AS one")).await.unwrap();
        assert_eq!(v.scalar().and_then(|v| v.as_i64()), Some(1), "{on:?}");
    }
}

/// Without the `regexp` feature (off in these builds), a REGEXP on SQLite
/// is a typed database error naming the feature, and the connection goes
/// on working.
#[cfg(not(feature = "regexp"))]
#[tokio::test]
async fn sqlite_regexp_without_the_feature_names_it() {
    use persistence::dialects::{literal, select};
    use persistence::Error;

    let engine = engine(On::Sqlite, "regexp").await;
    let mut conn = engine.connect().await.unwrap();
    let stmt = select((literal("Vera").regexp_match("^V"),));
    match conn.execute(&stmt).await {
        Err(e @ Error::Database { .. }) => {
            assert!(e.to_string().contains("`regexp` feature"), "{e}");
        }
        other => panic!("expected a database error, got {other:?}"),
    }
    let v = conn.execute(&text("SELECT 1 AS one")).await.unwrap();
    assert_eq!(v.scalar().and_then(|v| v.as_i64()), Some(1));
}
