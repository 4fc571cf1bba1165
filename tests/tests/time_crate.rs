//! The `time` crate's dates and times (feature `time`) on every backend:
//! bound through Core and read back as `time` types, found by equality,
//! converted to and from chrono's (this crate builds both families), and
//! mapped ORM fields — native, optional, `unix_seconds` and `rfc3339` —
//! that round-trip and cost no statement when unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use persistence::dialects::{insert, select, Column, MetaData, SqlType, Table, Value};
use persistence::orm::{self, codec, presets, Registry, SessionMaker};
use persistence::{EngineOptions, SchemaExt};
use tests::capture::SqlLog;
use tests::{on_all_backends, TestDb};
use time::macros::{date, datetime, offset, time};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

fn moments() -> (MetaData, Table) {
    let mut metadata = MetaData::new();
    let t = metadata.add(
        Table::new("moment")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("day", SqlType::Date).nullable(true))
            .column(Column::new("clock", SqlType::Time).nullable(true))
            .column(Column::new("at", SqlType::DateTime { timezone: false }).nullable(true))
            .column(Column::new("at_tz", SqlType::DateTime { timezone: true }).nullable(true)),
    );
    (metadata, t)
}

/// Core: `time` values in, `time` values out (and chrono's, from the same
/// columns), NULLs as `None`, lookups by each type finding the row.
async fn time_values_round_trip_through_core(db: TestDb) {
    let (metadata, t) = moments();
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();

    let day = date!(2024 - 02 - 29);
    let clock = time!(13:14:15.123_456);
    let at = PrimitiveDateTime::new(day, clock);
    // Not UTC: stored as the same instant, read back in UTC.
    let at_tz = datetime!(2024-03-01 01:30:00.000_001 +02:00);
    // Before the Unix and PostgreSQL epochs, and a leap day.
    let old = datetime!(1969-12-31 23:59:59.5);
    let row: Vec<(&str, Value)> = vec![
        ("id", 1.into()),
        ("day", day.into()),
        ("clock", clock.into()),
        ("at", at.into()),
        ("at_tz", at_tz.into()),
    ];
    conn.execute(&insert(&t).values(row)).await.unwrap();
    conn.execute(&insert(&t).values([
        ("id", Value::from(2)),
        ("at", old.into()),
        ("day", Value::from(None::<Date>)),
    ]))
    .await
    .unwrap();

    let rows = conn
        .execute(&select(&t).order_by([t.c("id")]))
        .await
        .unwrap()
        .all();
    assert_eq!(rows.len(), 2);
    let r = &rows[0];
    assert_eq!(r.get::<Date, _>("day").unwrap(), day);
    assert_eq!(r.get::<Time, _>("clock").unwrap(), clock);
    assert_eq!(r.get::<PrimitiveDateTime, _>("at").unwrap(), at);
    let back = r.get::<OffsetDateTime, _>("at_tz").unwrap();
    assert_eq!(back, at_tz, "the same instant");
    assert_eq!(back.offset(), offset!(UTC), "in UTC");
    assert_eq!(
        back,
        datetime!(2024-02-29 23:30:00.000_001 UTC),
        "the UTC wall time"
    );
    // The same columns as chrono's types, which agree field by field.
    let chrono_day = r.get::<chrono::NaiveDate, _>("day").unwrap();
    assert_eq!(chrono_day.to_string(), "2024-02-29");
    let chrono_at = r.get::<chrono::NaiveDateTime, _>("at").unwrap();
    assert_eq!(chrono_at.to_string(), "2024-02-29 13:14:15.123456");
    let chrono_tz = r.get::<chrono::DateTime<chrono::Utc>, _>("at_tz").unwrap();
    assert_eq!(chrono_tz.timestamp(), at_tz.unix_timestamp());
    assert_eq!(chrono_tz.timestamp_subsec_micros(), 1);

    let n = &rows[1];
    assert_eq!(n.get::<Option<Date>, _>("day").unwrap(), None);
    assert_eq!(n.get::<Option<OffsetDateTime>, _>("at_tz").unwrap(), None);
    assert_eq!(n.get::<PrimitiveDateTime, _>("at").unwrap(), old);

    // Lookups by each type find exactly their row.
    for (col, v) in [
        ("day", Value::from(day)),
        ("clock", Value::from(clock)),
        ("at", Value::from(at)),
        ("at_tz", Value::from(at_tz)),
        ("at", Value::from(old)),
    ] {
        let found = conn
            .execute(&select((t.c("id"),)).where_(t.c(col).eq(v.clone())))
            .await
            .unwrap()
            .all();
        assert_eq!(found.len(), 1, "lookup by {col} = {v}");
    }
    // Ranges compare as time does.
    let later = conn
        .execute(
            &select((t.c("id"),)).where_(t.c("at").gt(Value::from(datetime!(2000-01-01 0:00)))),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].get::<i64, _>("id").unwrap(), 1);

    conn.commit().await.unwrap();
    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

/// An entity whose fields are the `time` crate's types.
#[derive(Debug, Clone, PartialEq)]
struct Shift {
    id: Option<i64>,
    day: Date,
    starts: Time,
    planned: PrimitiveDateTime,
    confirmed: OffsetDateTime,
    cancelled_on: Option<Date>,
    stamped: OffsetDateTime,
    logged: OffsetDateTime,
}

persistence::model!(mod shift for Shift in "shift" {
    id: Option<i64> = presets::intpk,
    day: Date,
    starts: Time,
    planned: PrimitiveDateTime,
    confirmed: OffsetDateTime,
    cancelled_on: Option<Date>,
    stamped: OffsetDateTime [codec::time::unix_seconds()],
    logged: OffsetDateTime [codec::time::rfc3339()],
});

/// ORM: `time` fields (native, optional, seconds since the epoch, RFC
/// 3339 text) round-trip, filter through typed columns, and an unchanged
/// object added again sends nothing.
async fn time_fields_round_trip_through_the_orm(db: TestDb) {
    // Statements echoed, for the log below.
    let backend = db.backend;
    db.close().await;
    let db = TestDb::with_options(backend, "time_orm", EngineOptions::default().echo(true)).await;
    let mut registry = Registry::new();
    registry.map(shift::model()).finish();
    let mappers = registry.configure().unwrap();
    let table = mappers.metadata().table("shift").unwrap().clone();
    assert_eq!(table.get_column("day").unwrap().sql_type(), &SqlType::Date);
    assert_eq!(
        table.get_column("confirmed").unwrap().sql_type(),
        &SqlType::DateTime { timezone: true }
    );
    assert_eq!(
        table.get_column("stamped").unwrap().sql_type(),
        &SqlType::BigInteger
    );
    assert!(table.get_column("cancelled_on").unwrap().is_nullable());
    let mut conn = db.engine.connect().await.unwrap();
    mappers.metadata().create_all(&mut conn).await.unwrap();
    conn.commit().await.unwrap();
    drop(conn);
    let sessions = SessionMaker::new(db.engine.clone(), mappers);
    let mut session = sessions.session();

    let mut a = Shift {
        id: None,
        day: date!(2024 - 07 - 01),
        starts: time!(08:30:00.25),
        planned: datetime!(2024-07-01 08:30:00.25),
        confirmed: datetime!(2024-06-30 19:00:00.000_123 -04:00),
        cancelled_on: None,
        stamped: datetime!(2024-06-30 12:00:00 UTC),
        logged: datetime!(2024-06-30 12:00:00.5 +01:00),
    };
    let mut b = Shift {
        id: None,
        day: date!(1999 - 12 - 31),
        starts: time!(23:59:59.999_999),
        planned: datetime!(1999-12-31 23:59:59.999_999),
        confirmed: datetime!(1999-12-31 23:59:59 UTC),
        cancelled_on: Some(date!(2000 - 01 - 01)),
        stamped: datetime!(1970-01-01 00:00:00 UTC),
        logged: datetime!(1999-12-31 23:59:59 UTC),
    };
    session.add_all([&mut a, &mut b]).await.unwrap();
    session.commit().await.unwrap();
    let (a_id, b_id) = (a.id.unwrap(), b.id.unwrap());

    // A fresh session reads them from the database.
    let mut session = sessions.session();
    let back_a: Shift = session.get(a_id).await.unwrap().unwrap();
    let back_b: Shift = session.get(b_id).await.unwrap().unwrap();
    assert_eq!(back_a, a);
    assert_eq!(back_b, b);
    assert_eq!(back_a.confirmed.offset(), offset!(UTC), "read back in UTC");
    assert_eq!(back_a.logged.offset(), offset!(UTC));

    // Typed columns take `time` values.
    let in_july = session
        .scalars(orm::select::<Shift>().where_(shift::day.ge(date!(2024 - 07 - 01))))
        .await
        .unwrap()
        .all();
    assert_eq!(in_july, [a.clone()]);
    let cancelled = session
        .scalars(orm::select::<Shift>().where_(shift::cancelled_on.eq(Some(date!(2000 - 01 - 01)))))
        .await
        .unwrap()
        .all();
    assert_eq!(cancelled, [b.clone()]);
    let confirmed = session
        .scalars(
            orm::select::<Shift>()
                .where_(shift::confirmed.eq(datetime!(2024-06-30 23:00:00.000_123 UTC))),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(confirmed.len(), 1, "the same instant, written at -04:00");

    // Unchanged objects cost no statement, whatever offset they hold.
    let mut loaded = back_a.clone();
    loaded.confirmed = loaded.confirmed.to_offset(offset!(+09:00));
    let (log, guard) = SqlLog::start();
    session.add(&mut loaded).await.unwrap();
    assert!(!session.is_dirty(), "nothing staged");
    session.commit().await.unwrap();
    assert_eq!(log.take(), Vec::<String>::new(), "no statement at all");

    // A change is written (one UPDATE) and read back.
    loaded.cancelled_on = Some(date!(2024 - 07 - 02));
    loaded.starts = time!(09:00);
    session.add(&mut loaded).await.unwrap();
    session.commit().await.unwrap();
    let updates: Vec<String> = log
        .take()
        .into_iter()
        .filter(|s| s.starts_with("UPDATE"))
        .collect();
    assert_eq!(updates.len(), 1, "{updates:?}");
    drop(guard);
    let mut session = sessions.session();
    let again: Shift = session.get(a_id).await.unwrap().unwrap();
    assert_eq!(again.cancelled_on, Some(date!(2024 - 07 - 02)));
    assert_eq!(again.starts, time!(09:00));
    assert_eq!(again.confirmed, a.confirmed);
    drop(session);
    db.close().await;
}

on_all_backends!(
    time_values_round_trip_through_core,
    time_fields_round_trip_through_the_orm
);
