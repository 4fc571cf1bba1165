//! One statement, values of different widths for the same placeholder:
//! `Int`, then `BigInt`, `SmallInt`, NULL and `BigInt` again, on one
//! connection. PostgreSQL prepares a statement once per connection with
//! the parameter types of its first execution (sqlx caches it by SQL
//! text); the driver converts later values of another width to those
//! types where nothing is lost, and otherwise prepares the statement
//! afresh, so every backend returns what a new connection would (never
//! SQLSTATE 22P03). A value out of range for its column is the server's
//! data error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use common::{int_value, num_value, rows};
use futures_util::StreamExt;
use persistence::dialects::{
    bindparam_with, insert, select, text, Column, MetaData, SqlType, Statement, Table, Value,
};
use persistence::{Connection, Error, ErrorKind, SchemaExt};
use tests::{on_all_backends, TestBackend, TestDb};

/// `measure`: an integer key and one nullable column per numeric width,
/// plus a timestamp without time zone.
fn measure() -> (MetaData, Table) {
    let mut metadata = MetaData::new();
    let t = metadata.add(
        Table::new("measure")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("n", SqlType::Integer).nullable(true))
            .column(Column::new("big", SqlType::BigInteger).nullable(true))
            .column(Column::new("r", SqlType::Float).nullable(true))
            .column(Column::new("d", SqlType::Double).nullable(true))
            .column(Column::new("at", SqlType::DateTime { timezone: false }).nullable(true)),
    );
    (metadata, t)
}

async fn setup(db: &TestDb) -> (MetaData, Table, Connection) {
    let (metadata, t) = measure();
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    (metadata, t, conn)
}

/// 2024-01-02 at `hour`:00:00.
fn at(hour: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2024, 1, 2)
        .unwrap()
        .and_hms_opt(hour, 0, 0)
        .unwrap()
}

/// The SQL each of `stmts` compiles to, which must be one text: the tests
/// below are about one prepared statement.
fn one_sql<S: Statement>(conn: &Connection, stmts: &[S]) -> String {
    let texts: Vec<String> = stmts.iter().map(|s| conn.compile(s).unwrap().sql).collect();
    assert!(texts.windows(2).all(|w| w[0] == w[1]), "{texts:#?}");
    texts.into_iter().next().unwrap()
}

/// The ids `stmt` returns, in order.
async fn ids<S: Statement>(conn: &mut Connection, stmt: &S) -> Vec<i64> {
    rows(conn, stmt)
        .await
        .iter()
        .map(|r| int_value(r.value("id").unwrap()).unwrap())
        .collect()
}

/// The ids `stmt` streams, in order.
async fn streamed_ids<S: Statement>(conn: &mut Connection, stmt: &S) -> Vec<i64> {
    let mut stream = conn.stream(stmt);
    let mut out = Vec::new();
    while let Some(row) = stream.next().await {
        out.push(int_value(row.unwrap().value("id").unwrap()).unwrap());
    }
    out
}

async fn mixed_widths_bind_to_one_statement(db: TestDb) {
    let (metadata, t, mut conn) = setup(&db).await;

    // One INSERT text, run with values of every width in each column.
    let rows_in: [[Value; 6]; 5] = [
        [
            Value::Int(1),
            Value::Int(10),
            Value::Int(100),
            Value::Float(1.5),
            Value::Double(2.5),
            Value::DateTime(at(1)),
        ],
        [
            Value::BigInt(2),
            Value::BigInt(20),
            Value::BigInt(200),
            Value::Double(2.5),
            Value::Float(3.5),
            Value::DateTimeUtc(at(2).and_utc()),
        ],
        [
            Value::SmallInt(3),
            Value::SmallInt(30),
            Value::SmallInt(300),
            Value::Int(3),
            Value::BigInt(4),
            Value::DateTime(at(3)),
        ],
        [
            Value::BigInt(4),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ],
        [
            Value::BigInt(5),
            Value::BigInt(50),
            Value::BigInt(5_000_000_000),
            Value::Double(5.25),
            Value::Double(6.5),
            Value::DateTimeUtc(at(5).and_utc()),
        ],
    ];
    let inserts: Vec<_> = rows_in
        .iter()
        .map(|row| {
            let names = ["id", "n", "big", "r", "d", "at"];
            insert(&t).values(names.into_iter().zip(row.iter().cloned()))
        })
        .collect();
    one_sql(&conn, &inserts);
    for stmt in &inserts {
        conn.execute(stmt).await.unwrap();
    }

    let stored = rows(&mut conn, &select(&t).order_by([t.c("id")])).await;
    let column = |name: &str| -> Vec<Option<f64>> {
        stored
            .iter()
            .map(|r| num_value(r.value(name).unwrap()))
            .collect()
    };
    let ints = |name: &str| -> Vec<Option<i64>> {
        stored
            .iter()
            .map(|r| int_value(r.value(name).unwrap()))
            .collect()
    };
    assert_eq!(ints("id"), [Some(1), Some(2), Some(3), Some(4), Some(5)]);
    assert_eq!(ints("n"), [Some(10), Some(20), Some(30), None, Some(50)]);
    assert_eq!(
        ints("big"),
        [Some(100), Some(200), Some(300), None, Some(5_000_000_000)]
    );
    assert_eq!(
        column("r"),
        [Some(1.5), Some(2.5), Some(3.0), None, Some(5.25)]
    );
    assert_eq!(
        column("d"),
        [Some(2.5), Some(3.5), Some(4.0), None, Some(6.5)]
    );
    let times: Vec<Option<NaiveDateTime>> = stored
        .iter()
        .map(|r| r.get::<Option<NaiveDateTime>, _>("at").unwrap())
        .collect();
    assert_eq!(
        times,
        [Some(at(1)), Some(at(2)), Some(at(3)), None, Some(at(5))]
    );

    // One WHERE text on the INTEGER column and one on the BIGINT column:
    // Int, BigInt, SmallInt, NULL (matches nothing), BigInt.
    for (col, x) in [("n", 20), ("big", 200)] {
        let values = [
            Value::Int(x),
            Value::BigInt(i64::from(x)),
            Value::SmallInt(i16::try_from(x).unwrap()),
            Value::Null,
            Value::BigInt(i64::from(x)),
        ];
        let selects: Vec<_> = values
            .iter()
            // A bound parameter even for NULL (`eq(NULL)` is `IS NULL`).
            .map(|v| select((t.c("id"),)).where_(t.c(col).eq(bindparam_with("v", v.clone()))))
            .collect();
        one_sql(&conn, &selects);
        let mut found = Vec::new();
        for stmt in &selects {
            found.push(ids(&mut conn, stmt).await);
        }
        assert_eq!(found, [vec![2], vec![2], vec![2], vec![], vec![2]], "{col}");
    }

    // NULL first: the server infers the parameter's type (BIGINT here),
    // and narrower values after it are widened.
    let values = [
        Value::Null,
        Value::Int(200),
        Value::BigInt(1_000_000_000),
        Value::SmallInt(300),
        Value::BigInt(100),
    ];
    let selects: Vec<_> = values
        .iter()
        .map(|v| {
            select((t.c("id"),))
                .where_(t.c("big").ge(v.clone()))
                .order_by([t.c("id")])
        })
        .collect();
    one_sql(&conn, &selects);
    let mut found = Vec::new();
    for stmt in &selects {
        found.push(ids(&mut conn, stmt).await);
    }
    assert_eq!(
        found,
        [vec![], vec![2, 3, 5], vec![5], vec![3, 5], vec![1, 2, 3, 5]]
    );

    // A double that a REAL parameter would round (0.1) is compared as a
    // double: the statement, first prepared with a REAL, is prepared afresh.
    conn.execute(&insert(&t).values([("id", Value::Int(6)), ("d", Value::Double(0.1))]))
        .await
        .unwrap();
    let doubles: Vec<_> = [
        Value::Float(3.5),
        Value::Double(0.1),
        Value::Double(4.0),
        Value::Float(2.5),
    ]
    .into_iter()
    .map(|v| select((t.c("id"),)).where_(t.c("d").eq(v)))
    .collect();
    one_sql(&conn, &doubles);
    let mut found = Vec::new();
    for stmt in &doubles {
        found.push(ids(&mut conn, stmt).await);
    }
    assert_eq!(found, [vec![2], vec![6], vec![3], vec![1]]);

    // Streamed queries bind the same way.
    let streams: Vec<_> = [
        Value::Int(20),
        Value::BigInt(20),
        Value::Null,
        Value::SmallInt(20),
    ]
    .into_iter()
    .map(|v| {
        select((t.c("id"),))
            .where_(t.c("n").ge(v))
            .order_by([t.c("id")])
    })
    .collect();
    one_sql(&conn, &streams);
    let mut found = Vec::new();
    for stmt in &streams {
        found.push(streamed_ids(&mut conn, stmt).await);
    }
    assert_eq!(found, [vec![2, 3, 5], vec![2, 3, 5], vec![], vec![2, 3, 5]]);

    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

/// `stmt` fails with a data error.
async fn expect_data_error<S: Statement>(db: &TestDb, conn: &mut Connection, stmt: &S) {
    let sql = conn.compile(stmt).unwrap().sql;
    match conn.execute(stmt).await {
        Err(Error::Database { kind, message, .. }) => {
            assert_eq!(
                kind,
                ErrorKind::Data,
                "{:?}: {message} for {sql}",
                db.backend
            );
        }
        other => panic!(
            "{:?}: expected a data error for {sql}, got {other:?}",
            db.backend
        ),
    }
}

async fn out_of_range_for_the_prepared_type_is_a_data_error(db: TestDb) {
    let (metadata, t, mut conn) = setup(&db).await;
    let too_big = Value::BigInt(i64::from(i32::MAX) + 1);

    // The INSERT is first prepared with an INT4 for `n`.
    let row = |id: i64, n: Value| insert(&t).values([("id", Value::BigInt(id)), ("n", n)]);
    conn.execute(&row(1, Value::Int(1))).await.unwrap();
    conn.execute(&row(2, Value::BigInt(2))).await.unwrap();
    conn.commit().await.unwrap();
    let overflow = row(3, too_big.clone());
    if db.backend == TestBackend::Sqlite {
        // SQLite's INTEGER holds 64 bits whatever the column says.
        conn.execute(&overflow).await.unwrap();
    } else {
        // The server's "out of range" (PostgreSQL: once the driver has
        // prepared the statement afresh with an INT8, as it cannot narrow).
        expect_data_error(&db, &mut conn, &overflow).await;
        // PostgreSQL aborted the transaction at the failure.
        conn.rollback().await.unwrap();
    }

    // A lookup first prepared with an INT4 parameter finds what a new
    // connection would: nothing (SQLite: the row it stored).
    let lookup = |v: Value| select((t.c("id"),)).where_(t.c("n").eq(v));
    assert_eq!(ids(&mut conn, &lookup(Value::Int(2))).await, [2]);
    let expected: &[i64] = if db.backend == TestBackend::Sqlite {
        &[3]
    } else {
        &[]
    };
    assert_eq!(ids(&mut conn, &lookup(too_big.clone())).await, expected);
    // The connection and the statement still work.
    assert_eq!(ids(&mut conn, &lookup(Value::BigInt(1))).await, [1]);
    assert_eq!(ids(&mut conn, &lookup(Value::SmallInt(2))).await, [2]);

    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

async fn many_statements_on_one_connection(db: TestDb) {
    let (metadata, t, mut conn) = setup(&db).await;
    conn.execute(&insert(&t).values([("id", Value::Int(1)), ("n", Value::Int(7))]))
        .await
        .unwrap();
    let probe = |v: Value| text("SELECT id FROM measure WHERE n = :n").bind("n", v);
    assert_eq!(ids(&mut conn, &probe(Value::Int(7))).await, [1]);
    // More distinct texts than a connection remembers parameter types
    // for (4096): the memory starts over, and sqlx's statement cache with it.
    for k in 0..4200 {
        let sql = format!("SELECT id FROM measure WHERE n = :n AND {k} = {k}");
        let v = if k % 2 == 0 {
            Value::Int(7)
        } else {
            Value::BigInt(7)
        };
        assert_eq!(ids(&mut conn, &text(&sql).bind("n", v)).await, [1], "{k}");
    }
    for v in [
        Value::BigInt(7),
        Value::Int(7),
        Value::Null,
        Value::SmallInt(7),
    ] {
        let expected: &[i64] = if v.is_null() { &[] } else { &[1] };
        assert_eq!(ids(&mut conn, &probe(v)).await, expected);
    }
    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

on_all_backends!(
    mixed_widths_bind_to_one_statement,
    out_of_range_for_the_prepared_type_is_a_data_error,
    many_statements_on_one_connection,
);
