//! Results and rows on every backend: `execute` for every statement kind,
//! `text()` with named parameters, `all` / `first` / `one` /
//! `one_or_none` / `scalar` / `scalars` / `keys` / `rows_affected`, typed
//! row access, streaming in constant memory and atomic `execute_many`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::StreamExt;
use persistence::dialects::{
    delete, func, insert, select, text, update, Column, Insert, MetaData, SqlType, Table, Value,
};
use persistence::{Connection, Error, ErrorKind, IntegrityKind, Row, SchemaExt};
use tests::{on_all_backends, TestDb};

fn metadata() -> (MetaData, Table) {
    let mut metadata = MetaData::new();
    let t = metadata.add(
        Table::new("entry")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("name", SqlType::string(64)).not_null().unique())
            .column(Column::new("n", SqlType::BigInteger).not_null()),
    );
    (metadata, t)
}

async fn setup(db: &TestDb) -> (MetaData, Table, Connection) {
    let (metadata, t) = metadata();
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    (metadata, t, conn)
}

async fn teardown(db: TestDb, metadata: &MetaData, mut conn: Connection) {
    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

async fn count(conn: &mut Connection, t: &Table) -> i64 {
    conn.execute(&select((func::count_star(),)).select_from(t))
        .await
        .unwrap()
        .scalar()
        .and_then(|v| v.as_i64())
        .unwrap()
}

async fn execute_every_statement_kind(db: TestDb) {
    let (metadata, t, mut conn) = setup(&db).await;

    // INSERT, several rows.
    let done = conn
        .execute(&insert(&t).rows(
            ["name", "n"],
            [
                ["a".into(), Value::from(1_i64)],
                ["b".into(), 2_i64.into()],
                ["c".into(), 3_i64.into()],
            ],
        ))
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 3);
    assert!(done.is_empty());

    // UPDATE.
    let done = conn
        .execute(
            &update(&t)
                .values([("n", 20_i64)])
                .where_(t.c("name").eq("b")),
        )
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);

    // SELECT: rows_affected is not a row count of a query.
    let rows = conn
        .execute(&select((t.c("name"), t.c("n"))).order_by([t.c("id")]))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows.all_as::<(String, i64)>().unwrap(),
        [("a".into(), 1), ("b".into(), 20), ("c".into(), 3)]
    );

    // DELETE.
    let done = conn
        .execute(&delete(&t).where_(t.c("n").gt(2_i64)))
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 2);

    // text() with named parameters, one of them used twice; a value that
    // looks like SQL stays a value.
    let done = conn
        .execute(
            &text("INSERT INTO entry (name, n) VALUES (:name, :n)")
                .bind("name", "x'); DROP TABLE entry; --")
                .bind("n", 7_i64),
        )
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    let row = conn
        .execute(
            &text("SELECT name, n FROM entry WHERE n = :n OR name = :name ORDER BY id")
                .bind("n", 7_i64)
                .bind("name", "a"),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(row.len(), 2);
    assert_eq!(row[0].get::<String, _>("name").unwrap(), "a");
    assert_eq!(
        row[1].get::<String, _>("name").unwrap(),
        "x'); DROP TABLE entry; --"
    );
    let done = conn
        .execute(&text("UPDATE entry SET n = n + :d").bind("d", 1_i64))
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 2);

    // DDL through text().
    conn.execute(&text("CREATE TABLE scratch (id INTEGER PRIMARY KEY)"))
        .await
        .unwrap();
    conn.execute(&text("DROP TABLE scratch")).await.unwrap();

    assert_eq!(count(&mut conn, &t).await, 2);
    teardown(db, &metadata, conn).await;
}

async fn fill(conn: &mut Connection, t: &Table, names: &[(&str, i64)]) {
    let rows: Vec<[Value; 2]> = names
        .iter()
        .map(|(name, n)| [Value::from(*name), Value::from(*n)])
        .collect();
    conn.execute(&insert(t).rows(["name", "n"], rows))
        .await
        .unwrap();
}

async fn result_accessors(db: TestDb) {
    let (metadata, t, mut conn) = setup(&db).await;
    fill(&mut conn, &t, &[("a", 10), ("b", 20), ("c", 30)]).await;
    let all = select((t.c("id"), t.c("name").label("who"), t.c("n"))).order_by([t.c("id")]);
    let none = all.clone().where_(t.c("name").eq("nobody"));
    let only_b = all.clone().where_(t.c("name").eq("b"));

    // keys
    let r = conn.execute(&all).await.unwrap();
    assert_eq!(
        r.keys().iter().map(|k| &**k).collect::<Vec<_>>(),
        ["id", "who", "n"]
    );
    // all
    let rows = r.all();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2].get::<String, _>("who").unwrap(), "c");
    // rows (borrowed) and iteration
    let r = conn.execute(&all).await.unwrap();
    assert_eq!(r.rows().len(), 3);
    let ids: Vec<i64> = r.into_iter().map(|row| row.get(0).unwrap()).collect();
    assert_eq!(ids, [1, 2, 3]);

    // first
    let first = conn.execute(&all).await.unwrap().first().unwrap();
    assert_eq!(first.get::<String, _>("who").unwrap(), "a");
    assert!(conn.execute(&none).await.unwrap().first().is_none());

    // one
    let one = conn.execute(&only_b).await.unwrap().one().unwrap();
    assert_eq!(one.get::<i64, _>("n").unwrap(), 20);
    assert!(matches!(
        conn.execute(&none).await.unwrap().one(),
        Err(Error::NoResultFound)
    ));
    assert!(matches!(
        conn.execute(&all).await.unwrap().one(),
        Err(Error::MultipleResultsFound)
    ));

    // one_or_none
    assert!(conn
        .execute(&none)
        .await
        .unwrap()
        .one_or_none()
        .unwrap()
        .is_none());
    assert_eq!(
        conn.execute(&only_b)
            .await
            .unwrap()
            .one_or_none()
            .unwrap()
            .unwrap()
            .get::<String, _>(1)
            .unwrap(),
        "b"
    );
    assert!(matches!(
        conn.execute(&all).await.unwrap().one_or_none(),
        Err(Error::MultipleResultsFound)
    ));

    // scalar / scalars
    let names = select((t.c("name"),)).order_by([t.c("id")]);
    assert_eq!(
        conn.execute(&names).await.unwrap().scalar(),
        Some(Value::from("a"))
    );
    assert_eq!(
        conn.execute(&names.clone().where_(t.c("name").eq("nobody")))
            .await
            .unwrap()
            .scalar(),
        None
    );
    assert_eq!(
        conn.execute(&names).await.unwrap().scalars(),
        [Value::from("a"), Value::from("b"), Value::from("c")]
    );
    let total = conn
        .execute(&select((func::sum(t.c("n")),)).select_from(&t))
        .await
        .unwrap()
        .scalar()
        .unwrap();
    // SUM of BIGINT is NUMERIC on PostgreSQL and DECIMAL on MySQL.
    assert_eq!(total.to_string(), "60");
    let total: rust_decimal::Decimal = total.try_into().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(total, 60.into());

    // An empty result still names its columns.
    let empty = conn.execute(&none).await.unwrap();
    assert!(empty.is_empty());
    assert_eq!(
        empty.keys().iter().map(|k| &**k).collect::<Vec<_>>(),
        ["id", "who", "n"],
        "keys() of a result without rows"
    );
    teardown(db, &metadata, conn).await;
}

async fn typed_row_access(db: TestDb) {
    let (metadata, t, mut conn) = setup(&db).await;
    fill(&mut conn, &t, &[("a", 1 << 40)]).await;
    let row: Row = conn
        .execute(&select((t.c("id"), t.c("name"), t.c("n"))))
        .await
        .unwrap()
        .one()
        .unwrap();
    // By index and by label.
    assert_eq!(row.len(), 3);
    assert_eq!(row.value(1).unwrap(), &Value::from("a"));
    assert_eq!(row.value("name").unwrap(), row.value(1).unwrap());
    assert_eq!(row.get::<i64, _>("n").unwrap(), 1 << 40);
    assert_eq!(row.get::<i32, _>(0).unwrap(), 1);
    assert_eq!(
        row.get::<Option<String>, _>("name").unwrap().as_deref(),
        Some("a")
    );
    assert_eq!(
        row.to_string(),
        format!("(id=1, name=a, n={})", 1_i64 << 40)
    );

    // A value that does not fit the type asked for is a typed error
    // naming the column.
    match row.get::<i64, _>("name") {
        Err(Error::Decode { column, message }) => {
            assert_eq!(column, "name");
            assert!(message.contains("string"), "{message}");
            assert!(message.contains("i64"), "{message}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    match row.get::<i32, _>(2) {
        Err(Error::Decode { column, .. }) => assert_eq!(column, "2"),
        other => panic!("2^40 into i32 should not fit: {other:?}"),
    }
    assert!(matches!(
        row.get::<String, _>("missing"),
        Err(Error::ColumnNotFound(c)) if c == "missing"
    ));
    assert!(matches!(row.value(3), Err(Error::ColumnNotFound(_))));

    // Into a tuple.
    let (id, name, n): (i32, String, i64) = row.clone().into_tuple().unwrap();
    assert_eq!((id, name.as_str(), n), (1, "a", 1 << 40));
    assert!(matches!(
        row.clone().into_tuple::<(i32, String)>(),
        Err(Error::Decode { .. })
    ));
    match row.clone().into_tuple::<(i32, i64, i64)>() {
        Err(Error::Decode { column, .. }) => assert_eq!(column, "1"),
        other => panic!("expected a decode error, got {other:?}"),
    }
    // Integers come back as the backend's integer type; as_i64 reads any.
    let values = row.into_values();
    assert_eq!(values.len(), 3);
    assert_eq!(values[0].as_i64(), Some(1));
    assert_eq!(values[1], Value::from("a"));
    assert_eq!(values[2].as_i64(), Some(1 << 40));
    teardown(db, &metadata, conn).await;
}

async fn insert_many(conn: &mut Connection, t: &Table, n: i64) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let rows: Vec<[Value; 2]> = chunk
            .iter()
            .map(|i| [Value::from(format!("row-{i}")), Value::from(*i)])
            .collect();
        conn.execute(&insert(t).rows(["name", "n"], rows))
            .await
            .unwrap();
    }
}

async fn stream_ten_thousand_rows(db: TestDb) {
    let (metadata, t, mut conn) = setup(&db).await;
    insert_many(&mut conn, &t, 10_000).await;
    conn.commit().await.unwrap();
    {
        let query = select((t.c("id"), t.c("name"), t.c("n"))).order_by([t.c("id")]);
        let mut rows = conn.stream(&query);
        let (mut count, mut sum, mut last_id) = (0_u64, 0_i64, 0_i64);
        // Each row is looked at and dropped: nothing is collected.
        while let Some(row) = rows.next().await {
            let row = row.unwrap();
            let id: i64 = row.get(0).unwrap();
            assert!(id > last_id, "rows out of order");
            last_id = id;
            sum += row.get::<i64, _>("n").unwrap();
            count += 1;
        }
        assert_eq!(count, 10_000);
        assert_eq!(sum, (0..10_000_i64).sum::<i64>());
    }
    // The connection is free again once the stream ended.
    assert_eq!(count(&mut conn, &t).await, 10_000);

    // A stream dropped half-way leaves the connection usable.
    {
        let query = select((t.c("n"),)).order_by([t.c("id")]);
        let mut rows = conn.stream(&query);
        for _ in 0..10 {
            rows.next().await.unwrap().unwrap();
        }
    }
    assert_eq!(count(&mut conn, &t).await, 10_000);

    // A failing query reports its error through the stream.
    {
        let bad = text("SELECT * FROM no_such_table");
        let mut rows = conn.stream(&bad);
        let err = rows.next().await.unwrap().unwrap_err();
        assert!(matches!(
            err,
            Error::Database {
                kind: ErrorKind::Programming,
                ..
            }
        ));
    }
    // PostgreSQL aborted the transaction at the failure.
    conn.rollback().await.unwrap();
    assert_eq!(count(&mut conn, &t).await, 10_000);
    teardown(db, &metadata, conn).await;
}

fn inserts(range: std::ops::Range<i64>) -> Vec<Insert> {
    range.map(|i| insert_one(&format!("many-{i}"), i)).collect()
}

fn insert_one(name: &str, n: i64) -> Insert {
    let (_, t) = metadata();
    insert(&t).values([("name", Value::from(name)), ("n", Value::from(n))])
}

async fn execute_many_is_atomic(db: TestDb) {
    let (metadata, t, mut conn) = setup(&db).await;
    fill(&mut conn, &t, &[("before-1", -1), ("before-2", -2)]).await;

    // 500 inserts with a duplicate in the middle: nothing is written.
    let mut stmts = inserts(0..500);
    stmts[250] = insert_one("many-10", 250);
    let err = conn.execute_many(&stmts).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Database {
                kind: ErrorKind::Integrity(IntegrityKind::Unique),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(count(&mut conn, &t).await, 2);
    // It ran in a savepoint of the connection's transaction, which is
    // still open with the rows written before it.
    assert_eq!(conn.transaction_depth(), 1);
    conn.commit().await.unwrap();

    // Inside an explicit transaction it is a savepoint too: the outer
    // work survives.
    {
        let mut tx = conn.begin().await.unwrap();
        fill(&mut tx, &t, &[("outer", 0)]).await;
        assert!(tx.execute_many(&stmts).await.is_err());
        assert_eq!(count(&mut tx, &t).await, 3);
        assert_eq!(tx.transaction_depth(), 1);
        tx.commit().await.unwrap();
    }
    assert_eq!(count(&mut conn, &t).await, 3);

    // 500 good ones are written, all of them (and kept once committed).
    let written = conn.execute_many(&inserts(0..500)).await.unwrap();
    assert_eq!(written, 500);
    conn.commit().await.unwrap();
    assert_eq!(count(&mut conn, &t).await, 503);
    let sum = conn
        .execute(&select((t.c("n"),)).where_(t.c("name").like("many-%")))
        .await
        .unwrap()
        .scalars()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .sum::<i64>();
    assert_eq!(sum, (0..500).sum::<i64>());
    teardown(db, &metadata, conn).await;
}

on_all_backends!(
    execute_every_statement_kind,
    result_accessors,
    typed_row_access,
    stream_ten_thousand_rows,
    execute_many_is_atomic,
);
