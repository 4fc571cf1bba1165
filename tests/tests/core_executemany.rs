//! One statement, many parameter sets, on every backend (issue 13, item
//! 10): `executemany` of `insert(t)` with rows as sets (multi-row VALUES),
//! of statements with `bindparam` placeholders and of `text()` with
//! unbound `:name`s; and `inserted_primary_key` of single-row inserts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{finish, int, ints, rows, seeded, texts};
use persistence::dialects::{
    bindparam, delete, insert, select, text, update, Column, CompileError, MetaData, SqlType,
    Table, Value,
};
use persistence::{Error, SchemaExt};
use tests::capture::SqlLog;
use tests::{on_all_backends, TestBackend, TestDb};

/// `insert(t)` with 2500 sets: sent as multi-row statements, every row
/// written; a later error leaves the earlier work to commit or roll back.
async fn executemany_inserts_rows(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let sets: Vec<[(&str, Value); 2]> = (0..2500)
        .map(|i| {
            [
                ("name", Value::from(format!("tag-{i}"))),
                ("id", Value::from(1000 + i)),
            ]
        })
        .collect();
    let done = conn.executemany(&insert(&s.tag), sets).await.unwrap();
    assert_eq!(done.rows_affected(), 2500);
    conn.commit().await.unwrap();
    let n = rows(
        &mut conn,
        &text("SELECT count(*) AS n FROM tag WHERE name LIKE 'tag-%'"),
    )
    .await;
    assert_eq!(int(&n[0], "n"), 2500);
    // Mixed value types in a set, and defaults of omitted columns (post.draft).
    conn.executemany(
        &insert(&s.post),
        [
            (("id", 50), ("title", "One")),
            (("id", 51), ("title", "Two")),
        ],
    )
    .await
    .unwrap();
    let drafts = rows(
        &mut conn,
        &select((s.post.c("title"), s.post.c("draft")))
            .where_(s.post.c("id").ge(50))
            .order_by(s.post.c("id")),
    )
    .await;
    assert_eq!(texts(&drafts, "title"), ["One", "Two"]);
    assert!(drafts.iter().all(|r| r.get::<bool, _>("draft").unwrap()));
    conn.rollback().await.unwrap();
    finish(db, conn, s).await;
}

/// UPDATE and DELETE with `bindparam`, one compiled statement per call.
async fn executemany_with_bindparams(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let rename = update(&s.worker)
        .set("name", bindparam("new"))
        .where_(s.worker.c("name").eq(bindparam("old")));
    let done = conn
        .executemany(
            &rename,
            [
                [("old", "Vlad"), ("new", "Vladimir")],
                [("old", "Ann"), ("new", "Anna")],
                [("old", "Nobody"), ("new", "x")],
            ],
        )
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 2);
    let gone = conn
        .executemany(
            &delete(&s.resume).where_(s.resume.c("id").eq(bindparam("id"))),
            [[("id", 1)], [("id", 2)], [("id", 3)]],
        )
        .await
        .unwrap();
    assert_eq!(gone.rows_affected(), 3);
    conn.commit().await.unwrap();
    let names = rows(
        &mut conn,
        &select((s.worker.c("name"),)).order_by(s.worker.c("id")),
    )
    .await;
    assert_eq!(texts(&names, "name"), ["Vladimir", "Anna", "Bob", "Dana"]);
    let left = rows(
        &mut conn,
        &select((s.resume.c("id"),)).order_by(s.resume.c("id")),
    )
    .await;
    assert_eq!(ints(&left, "id"), [4, 5, 6]);

    // A set naming no placeholder, or missing one, is an error before
    // anything runs for it.
    let err = conn
        .executemany(&rename, [[("old", "Bob"), ("neu", "Robert")]])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Compile(CompileError::Invalid(_))),
        "{err:?}"
    );
    let err = conn
        .executemany(&rename, [[("old", "Bob")]])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Compile(CompileError::MissingParameter { ref name }) if name == "new"),
        "{err:?}"
    );
    let names = rows(
        &mut conn,
        &select((s.worker.c("name"),)).where_(s.worker.c("id").eq(3)),
    )
    .await;
    assert_eq!(texts(&names, "name"), ["Bob"]);
    finish(db, conn, s).await;
}

/// `text()` with `:name`s and no values bound: filled per set, with
/// RETURNING rows collected where the backend has it.
async fn executemany_text_and_returning(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let stmt = text("INSERT INTO tag (id, name) VALUES (:id, :name)");
    let done = conn
        .executemany(
            &stmt,
            [(("id", 70), ("name", "a")), (("id", 71), ("name", "b"))],
        )
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 2);
    if db.backend != TestBackend::MySql || db.engine.dialect().features().update_returning {
        let ret = update(&s.tag)
            .set("name", bindparam("name"))
            .where_(s.tag.c("id").eq(bindparam("id")))
            .returning((s.tag.c("id"), s.tag.c("name")));
        let got = conn
            .executemany(
                &ret,
                [(("id", 70), ("name", "A")), (("id", 71), ("name", "B"))],
            )
            .await
            .unwrap();
        assert_eq!(ints(got.rows(), "id"), [70, 71]);
        assert_eq!(texts(got.rows(), "name"), ["A", "B"]);
    }
    conn.commit().await.unwrap();
    let got = rows(
        &mut conn,
        &select((s.tag.c("id"),)).where_(s.tag.c("id").ge(70)),
    )
    .await;
    assert_eq!(ints(&got, "id"), [70, 71]);
    finish(db, conn, s).await;
}

/// `inserted_primary_key`: a generated key, a given key, a composite key,
/// a key from a client default; the result rows stay as the statement
/// asked (none without RETURNING).
async fn inserted_primary_key(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let r = conn
        .execute(&insert(&s.worker).values([("name", "Eve")]))
        .await
        .unwrap();
    assert_eq!(r.rows_affected(), 1);
    assert!(r.is_empty(), "no rows without RETURNING");
    let key = r.inserted_primary_key().unwrap().to_vec();
    assert_eq!(key.len(), 1);
    let id = key[0].as_i64().unwrap();
    // PostgreSQL's sequence was moved to 100 by the seed; the others follow max(id).
    assert!(id > 4, "{key:?}");
    let found = rows(
        &mut conn,
        &select((s.worker.c("name"),)).where_(s.worker.c("id").eq(id)),
    )
    .await;
    assert_eq!(texts(&found, "name"), ["Eve"]);

    let r = conn
        .execute(&insert(&s.worker).values([("id", Value::from(77)), ("name", "Gus".into())]))
        .await
        .unwrap();
    assert_eq!(r.inserted_primary_key(), Some(&[Value::from(77)][..]));
    let r = conn
        .execute(&insert(&s.post_tag).values([("post_id", 3), ("tag_id", 2)]))
        .await
        .unwrap();
    assert_eq!(
        r.inserted_primary_key(),
        Some(&[Value::from(3), Value::from(2)][..])
    );

    // A key made by a client-side default (a text key: no last insert id).
    let mut md = MetaData::new();
    let token = md.add(
        Table::new("token")
            .column(
                Column::new("code", SqlType::string(40))
                    .primary_key()
                    .default_with(|| Value::from("tok-1")),
            )
            .column(Column::new("note", SqlType::Text)),
    );
    md.create_all(&mut conn).await.unwrap();
    let r = conn
        .execute(&insert(&token).values([("note", "x")]))
        .await
        .unwrap();
    assert_eq!(r.inserted_primary_key(), Some(&[Value::from("tok-1")][..]));
    // With RETURNING asked for, its rows are the result.
    if db.engine.dialect().features().insert_returning {
        let r = conn
            .execute(
                &insert(&s.worker)
                    .values([("name", "Hal")])
                    .returning((s.worker.c("name"),)),
            )
            .await
            .unwrap();
        assert_eq!(texts(r.rows(), "name"), ["Hal"]);
        assert!(r.inserted_primary_key().unwrap()[0].as_i64().unwrap() > 4);
    }
    // Several rows: no single key.
    let r = conn
        .execute(&insert(&s.tag).rows(["name"], [["p"], ["q"]]))
        .await
        .unwrap();
    assert_eq!(r.inserted_primary_key(), None);
    conn.rollback().await.unwrap();
    md.drop_all(&mut conn).await.unwrap();
    finish(db, conn, s).await;
}

/// One `executemany` of 300 rows is a handful of statements, not 300.
async fn executemany_statement_count(db: TestDb) {
    let url = db.url.clone();
    let engine = persistence::create_engine_with(
        if db.backend == TestBackend::Sqlite {
            "sqlite::memory:"
        } else {
            &url
        },
        persistence::EngineOptions::default().echo(true),
    )
    .await
    .unwrap();
    let mut md = MetaData::new();
    let t = md.add(
        Table::new("many")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("v", SqlType::Integer)),
    );
    let mut conn = engine.connect().await.unwrap();
    md.create_all(&mut conn).await.unwrap();
    let (log, guard) = SqlLog::start();
    let sets: Vec<[(&str, i32); 1]> = (0..300).map(|v| [("v", v)]).collect();
    conn.executemany(&insert(&t), sets).await.unwrap();
    let sent = log.take();
    drop(guard);
    // One INSERT (300 rows of one parameter fit every backend's limit).
    assert_eq!(
        sent.iter().filter(|s| s.starts_with("INSERT")).count(),
        1,
        "{sent:?}"
    );
    let n = conn
        .execute(&text("SELECT count(*) FROM many"))
        .await
        .unwrap()
        .scalar();
    assert_eq!(n.and_then(|v| v.as_i64()), Some(300));
    conn.rollback().await.unwrap();
    md.drop_all(&mut conn).await.unwrap();
    drop(conn);
    engine.dispose().await;
    db.close().await;
}

/// Each set's values land in its own row across statements of different
/// sizes (1000 rows, then 200), and sets naming their columns in another
/// order than the first set are taken by name.
async fn executemany_rows_keep_their_values(db: TestDb) {
    let mut conn = db.engine.connect().await.unwrap();
    let mut md = MetaData::new();
    let t = md.add(
        Table::new("many_values")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("v", SqlType::Integer))
            .column(Column::new("label", SqlType::string(20))),
    );
    md.create_all(&mut conn).await.unwrap();
    // (Keys from 1: MySQL generates one for a 0.)
    let sets: Vec<[(&str, Value); 3]> = (1..=1200)
        .map(|i| {
            [
                ("id", Value::from(i)),
                ("v", Value::from(i * 7)),
                ("label", Value::from(format!("row-{i}"))),
            ]
        })
        .collect();
    let done = conn.executemany(&insert(&t), sets).await.unwrap();
    assert_eq!(done.rows_affected(), 1200);
    let mixed = vec![
        vec![("id", Value::from(5000)), ("v", Value::from(1))],
        vec![("v", Value::from(2)), ("id", Value::from(5001))],
    ];
    conn.executemany(&insert(&t), mixed).await.unwrap();
    let got = rows(
        &mut conn,
        &select((t.c("id"), t.c("v"), t.c("label"))).order_by(t.c("id")),
    )
    .await;
    assert_eq!(got.len(), 1202);
    for (i, r) in (1..).zip(got.iter().take(1200)) {
        assert_eq!(int(r, "id"), i);
        assert_eq!(int(r, "v"), i * 7);
        assert_eq!(r.get::<String, _>("label").unwrap(), format!("row-{i}"));
    }
    assert_eq!((int(&got[1200], "id"), int(&got[1200], "v")), (5000, 1));
    assert_eq!((int(&got[1201], "id"), int(&got[1201], "v")), (5001, 2));
    conn.rollback().await.unwrap();
    md.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

on_all_backends!(
    executemany_inserts_rows,
    executemany_with_bindparams,
    executemany_text_and_returning,
    inserted_primary_key,
    executemany_statement_count,
    executemany_rows_keep_their_values,
);
