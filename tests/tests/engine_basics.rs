//! The thin path on every backend: create a table from MetaData, insert,
//! select with bound values, read rows by index and label, drop.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use persistence::dialects::{insert, select, Column, MetaData, SqlType, Table, Value};
use persistence::{create_engine, create_engine_with, EngineOptions, Error, SchemaExt};
use tests::{on_all_backends, TestDb};

fn worker_metadata() -> (MetaData, Table) {
    let mut metadata = MetaData::new();
    let worker = metadata.add(
        Table::new("worker")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("name", SqlType::string(256)).not_null()),
    );
    (metadata, worker)
}

async fn create_insert_select_drop(db: TestDb) {
    let (metadata, worker) = worker_metadata();
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();

    let tricky = "O'Brien; DROP TABLE worker; --";
    let inserted = conn
        .execute(&insert(&worker).rows(["name"], [[tricky], ["Vlad"], ["Ann"]]))
        .await
        .unwrap();
    assert_eq!(inserted.rows_affected(), 3);

    let rows = conn
        .execute(
            &select((worker.c("id"), worker.c("name")))
                .where_(worker.c("name").eq(tricky))
                .order_by([worker.c("id")]),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<String, _>("name").unwrap(), tricky);
    assert_eq!(rows[0].get::<String, _>(1).unwrap(), tricky);
    assert_eq!(rows[0].get::<i64, _>("id").unwrap(), 1);
    assert_eq!(
        rows[0].keys().iter().map(|k| &**k).collect::<Vec<_>>(),
        ["id", "name"]
    );

    // The table survived the value that looked like SQL.
    let all = conn
        .execute(&select((worker.c("name"),)).order_by([worker.c("id").desc()]))
        .await
        .unwrap()
        .all_as::<(String,)>()
        .unwrap();
    assert_eq!(
        all,
        [
            ("Ann".to_owned(),),
            ("Vlad".to_owned(),),
            (tricky.to_owned(),)
        ]
    );

    metadata.drop_all(&mut conn).await.unwrap();
    let err = conn.execute(&select((worker.c("id"),))).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Database {
                kind: persistence::ErrorKind::Programming,
                ..
            }
        ),
        "selecting from a dropped table: {err:?}"
    );
    drop(conn);
    db.close().await;
}

async fn rows_by_index_label_and_tuple(db: TestDb) {
    let (metadata, worker) = worker_metadata();
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    conn.execute(&insert(&worker).values([("name", "Vlad")]))
        .await
        .unwrap();
    let row = conn
        .execute(&select((worker.c("id"), worker.c("name").label("who"))))
        .await
        .unwrap()
        .one()
        .unwrap();
    assert_eq!(row.value("who").unwrap(), &Value::from("Vlad"));
    let (id, who): (i32, String) = row.clone().into_tuple().unwrap();
    assert_eq!((id, who.as_str()), (1, "Vlad"));
    assert!(matches!(
        row.get::<String, _>("missing"),
        Err(Error::ColumnNotFound(_))
    ));
    assert!(matches!(
        row.get::<i64, _>("who"),
        Err(Error::Decode { .. })
    ));
    let none = conn
        .execute(&select((worker.c("id"),)).where_(worker.c("name").eq("nobody")))
        .await
        .unwrap();
    assert!(matches!(none.one(), Err(Error::NoResultFound)));
    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

on_all_backends!(create_insert_select_drop, rows_by_index_label_and_tuple);

#[tokio::test]
async fn unknown_scheme_is_a_typed_error() {
    let err = create_engine("oracle://scott:tiger@localhost/orcl")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::UnsupportedScheme { ref scheme } if scheme == "oracle"),
        "{err:?}"
    );
    assert!(err.to_string().contains("oracle"));
}

#[tokio::test]
async fn unreachable_postgres_is_a_connect_error() {
    let options = EngineOptions::default().connect_timeout(std::time::Duration::from_secs(3));
    // Port 1 on loopback: nothing listens there.
    let err = create_engine_with("postgres://u:secret@127.0.0.1:1/db", options)
        .await
        .unwrap_err();
    match &err {
        Error::Connect { backend, url, .. } => {
            assert_eq!(*backend, "PostgreSQL");
            assert_eq!(url, "postgres://u:***@127.0.0.1:1/db");
        }
        other => panic!("expected a connect error, got {other:?}"),
    }
    assert!(!err.to_string().contains("secret"));
}

#[tokio::test]
async fn unreachable_mysql_is_a_connect_error() {
    let options = EngineOptions::default().connect_timeout(std::time::Duration::from_secs(3));
    let err = create_engine_with("mysql://root:pw@127.0.0.1:1/db", options)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Connect {
                backend: "MySQL",
                ..
            }
        ),
        "{err:?}"
    );
}
