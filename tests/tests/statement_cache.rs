//! The engine's compiled-statement cache: a statement of a shape executed
//! before (other values) reuses its SQL, and returns the rows of its own
//! values; the counters show one miss, then hits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use persistence::dialects::{
    delete, insert, select, update, Column, MetaData, SqlType, Table, Value,
};
use persistence::EngineOptions;
use tests::{on_all_backends, TestDb};

fn metadata() -> (MetaData, Table) {
    let mut metadata = MetaData::new();
    let t = metadata.add(
        Table::new("cache_item")
            .column(
                Column::new("id", SqlType::BigInteger)
                    .primary_key()
                    .autoincrement(false),
            )
            .column(Column::new("name", SqlType::string(100))),
    );
    (metadata, t)
}

async fn names(conn: &mut persistence::Connection, t: &Table, min: i64) -> Vec<String> {
    conn.execute(
        &select((t.c("name"),))
            .where_(t.c("id").ge(min))
            .order_by([t.c("id")])
            .limit(10),
    )
    .await
    .unwrap()
    .all_as::<(String,)>()
    .unwrap()
    .into_iter()
    .map(|(n,)| n)
    .collect()
}

async fn one_shape_compiles_once(db: TestDb) {
    let (metadata, t) = metadata();
    db.create_tables(&metadata).await;
    let mut conn = db.engine.connect().await.unwrap();
    let before = db.engine.statement_cache_stats();
    for (id, name) in [(1_i64, "a"), (2, "b"), (3, "c")] {
        conn.execute(&insert(&t).values([("id", Value::from(id)), ("name", Value::from(name))]))
            .await
            .unwrap();
    }
    let after_inserts = db.engine.statement_cache_stats();
    assert_eq!(after_inserts.misses - before.misses, 1, "{after_inserts:?}");
    assert_eq!(after_inserts.hits - before.hits, 2, "{after_inserts:?}");

    assert_eq!(names(&mut conn, &t, 2).await, ["b", "c"]);
    let s1 = db.engine.statement_cache_stats();
    assert_eq!(names(&mut conn, &t, 1).await, ["a", "b", "c"]);
    assert_eq!(names(&mut conn, &t, 3).await, ["c"]);
    let s2 = db.engine.statement_cache_stats();
    assert_eq!(
        (
            s1.misses - after_inserts.misses,
            s1.hits - after_inserts.hits
        ),
        (1, 0)
    );
    assert_eq!((s2.misses - s1.misses, s2.hits - s1.hits), (0, 2));

    let n = conn
        .execute(&update(&t).set("name", "B").where_(t.c("id").eq(2_i64)))
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(n, 1);
    let n = conn
        .execute(&update(&t).set("name", "C").where_(t.c("id").eq(3_i64)))
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(n, 1);
    conn.execute(&delete(&t).where_(t.c("id").eq(1_i64)))
        .await
        .unwrap();
    assert_eq!(names(&mut conn, &t, 0).await, ["B", "C"]);
    let s3 = db.engine.statement_cache_stats();
    // update: miss then hit; delete: miss; the select: a hit.
    assert_eq!((s3.misses - s2.misses, s3.hits - s2.hits), (2, 2));
    conn.commit().await.unwrap();
    db.close().await;
}

async fn a_disabled_cache_counts_nothing(db: TestDb) {
    let db = db
        .reopen(
            "cache_disabled",
            EngineOptions::default().statement_cache_size(0),
        )
        .await;
    let (metadata, t) = metadata();
    db.create_tables(&metadata).await;
    let mut conn = db.engine.connect().await.unwrap();
    conn.execute(&insert(&t).values([("id", Value::from(1_i64)), ("name", Value::from("a"))]))
        .await
        .unwrap();
    assert_eq!(names(&mut conn, &t, 1).await, ["a"]);
    assert_eq!(names(&mut conn, &t, 1).await, ["a"]);
    let s = db.engine.statement_cache_stats();
    assert_eq!((s.hits, s.misses, s.entries), (0, 0, 0));
    conn.commit().await.unwrap();
    db.close().await;
}

on_all_backends!(one_shape_compiles_once, a_disabled_cache_counts_nothing,);
