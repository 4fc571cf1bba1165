//! Transactions on every backend: `engine.begin()`, `engine.transaction`,
//! `conn.begin()`, savepoints (`begin_nested`), isolation levels and DDL in
//! a transaction. Each test checks the rows in the table afterwards, on a
//! fresh connection.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use persistence::dialects::{insert, select, text, Column, MetaData, SqlType, Table};
use persistence::{
    Connection, Engine, EngineOptions, Error, ErrorKind, IntegrityKind, IsolationLevel, SchemaExt,
};
use tests::{on_all_backends, TestBackend, TestDb};

fn item_metadata() -> (MetaData, Table) {
    let mut metadata = MetaData::new();
    let item = metadata.add(
        Table::new("item")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("name", SqlType::string(64)).not_null().unique()),
    );
    (metadata, item)
}

async fn setup(db: &TestDb) -> (MetaData, Table) {
    let (metadata, item) = item_metadata();
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    (metadata, item)
}

async fn teardown(db: TestDb, metadata: &MetaData) {
    let mut conn = db.engine.connect().await.unwrap();
    metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    assert_eq!(db.engine.pool_status().in_use, 0);
    db.close().await;
}

async fn add(conn: &mut Connection, item: &Table, name: &str) -> Result<(), Error> {
    let done = conn.execute(&insert(item).values([("name", name)])).await?;
    assert_eq!(done.rows_affected(), 1);
    Ok(())
}

/// The names in the table, read on a connection of their own.
async fn names(engine: &Engine, item: &Table) -> Vec<String> {
    let mut conn = engine.connect().await.unwrap();
    // In autocommit mode the read begins no transaction, so one open
    // afterwards was left by the connection's last user.
    conn.set_autocommit(true);
    let names = conn
        .execute(&select((item.c("name"),)).order_by([item.c("id")]))
        .await
        .unwrap()
        .all_as::<(String,)>()
        .unwrap()
        .into_iter()
        .map(|(n,)| n)
        .collect();
    // Checked after a statement: on SQLite a rollback queued by a dropped
    // guard runs on the driver's worker thread, and the depth it reports
    // catches up only once that thread has got to it.
    assert!(!conn.in_transaction(), "a connection came back dirty");
    names
}

async fn engine_begin_commit_persists(db: TestDb) {
    let (metadata, item) = setup(&db).await;
    let mut tx = db.engine.begin().await.unwrap();
    assert!(tx.in_transaction());
    assert_eq!(tx.transaction_depth(), 1);
    add(&mut tx, &item, "a").await.unwrap();
    add(&mut tx, &item, "b").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(names(&db.engine, &item).await, ["a", "b"]);
    teardown(db, &metadata).await;
}

async fn dropped_engine_transaction_rolls_back(db: TestDb) {
    let (metadata, item) = setup(&db).await;
    {
        let mut tx = db.engine.begin().await.unwrap();
        add(&mut tx, &item, "ghost").await.unwrap();
        // Seen inside the transaction.
        let inside = tx
            .execute(&select((item.c("name"),)))
            .await
            .unwrap()
            .scalars();
        assert_eq!(inside, ["ghost".into()]);
        // Dropped without commit.
    }
    assert!(names(&db.engine, &item).await.is_empty());
    // An explicit rollback does the same.
    let mut tx = db.engine.begin().await.unwrap();
    add(&mut tx, &item, "ghost").await.unwrap();
    tx.rollback().await.unwrap();
    assert!(names(&db.engine, &item).await.is_empty());
    teardown(db, &metadata).await;
}

async fn engine_transaction_commits_on_ok_and_rolls_back_on_err(db: TestDb) {
    let (metadata, item) = setup(&db).await;
    let value = db
        .engine
        .transaction(async |conn| {
            add(conn, &item, "kept").await?;
            Ok::<_, Error>(42)
        })
        .await
        .unwrap();
    assert_eq!(value, 42);
    assert_eq!(names(&db.engine, &item).await, ["kept"]);

    // An application error (not a database one) rolls back too.
    #[derive(Debug)]
    enum AppError {
        Rejected,
        Db(#[allow(dead_code)] Error),
    }
    impl From<Error> for AppError {
        fn from(e: Error) -> Self {
            AppError::Db(e)
        }
    }
    let err = db
        .engine
        .transaction(async |conn| -> Result<(), AppError> {
            add(conn, &item, "lost-1").await?;
            add(conn, &item, "lost-2").await?;
            Err(AppError::Rejected)
        })
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Rejected), "{err:?}");
    assert_eq!(names(&db.engine, &item).await, ["kept"]);
    teardown(db, &metadata).await;
}

async fn failing_statement_in_engine_transaction_leaves_no_rows(db: TestDb) {
    let (metadata, item) = setup(&db).await;
    let err = db
        .engine
        .transaction(async |conn| {
            add(conn, &item, "first").await?;
            add(conn, &item, "second").await?;
            // A unique violation: the whole transaction goes.
            add(conn, &item, "first").await?;
            add(conn, &item, "never").await
        })
        .await
        .unwrap_err();
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
    assert!(names(&db.engine, &item).await.is_empty());
    // The engine (and its connection) is still usable.
    db.engine
        .transaction(async |conn| add(conn, &item, "after").await)
        .await
        .unwrap();
    assert_eq!(names(&db.engine, &item).await, ["after"]);
    let status = db.engine.pool_status();
    assert_eq!(status.in_use, 0, "{status:?}");
    teardown(db, &metadata).await;
}

async fn connection_begin_and_rollback(db: TestDb) {
    let (metadata, item) = setup(&db).await;
    let mut conn = db.engine.connect().await.unwrap();
    add(&mut conn, &item, "committed first").await.unwrap();
    // The insert began a transaction: begin() refuses to hide it.
    assert!(conn.in_transaction());
    assert!(matches!(
        conn.begin().await,
        Err(Error::TransactionInProgress)
    ));
    conn.commit().await.unwrap();
    assert!(!conn.in_transaction());

    let mut tx = conn.begin().await.unwrap();
    add(&mut tx, &item, "rolled back").await.unwrap();
    tx.rollback().await.unwrap();
    assert!(!conn.in_transaction());

    let mut tx = conn.begin().await.unwrap();
    add(&mut tx, &item, "committed").await.unwrap();
    tx.commit().await.unwrap();

    // Dropping a connection-level guard rolls back before the next statement.
    {
        let mut tx = conn.begin().await.unwrap();
        add(&mut tx, &item, "dropped").await.unwrap();
    }
    let on_same_conn = conn
        .execute(&select((item.c("name"),)).order_by([item.c("id")]))
        .await
        .unwrap()
        .scalars();
    assert_eq!(
        on_same_conn,
        ["committed first".into(), "committed".into()],
        "the dropped transaction's row is still visible on its connection"
    );
    // The read began a transaction of its own (autobegin).
    assert!(conn.in_transaction());
    drop(conn);
    assert_eq!(
        names(&db.engine, &item).await,
        ["committed first", "committed"]
    );
    teardown(db, &metadata).await;
}

/// SQLAlchemy 2's model: a connection's first statement begins a
/// transaction, `commit()` keeps its work, `rollback()` and dropping or
/// closing the connection undo it; `begin_nested()` is a savepoint in it.
async fn autobegin_commit_rollback_and_close(db: TestDb) {
    let (metadata, item) = setup(&db).await;
    let mut conn = db.engine.connect().await.unwrap();
    assert!(!conn.in_transaction());
    add(&mut conn, &item, "kept").await.unwrap();
    assert_eq!(conn.transaction_depth(), 1);
    // Not visible elsewhere before the commit (in-memory SQLite has one
    // connection, which this test holds).
    if db.backend != TestBackend::Sqlite {
        assert!(names(&db.engine, &item).await.is_empty());
    }
    conn.commit().await.unwrap();
    assert!(!conn.in_transaction());
    drop(conn);
    assert_eq!(names(&db.engine, &item).await, ["kept"]);

    let mut conn = db.engine.connect().await.unwrap();
    add(&mut conn, &item, "rolled back").await.unwrap();
    conn.rollback().await.unwrap();
    add(&mut conn, &item, "dropped").await.unwrap();
    drop(conn);
    assert_eq!(names(&db.engine, &item).await, ["kept"]);

    let mut conn = db.engine.connect().await.unwrap();
    add(&mut conn, &item, "closed").await.unwrap();
    conn.close().await.unwrap();
    assert_eq!(names(&db.engine, &item).await, ["kept"]);

    // A savepoint inside the autobegun transaction.
    let mut conn = db.engine.connect().await.unwrap();
    {
        let mut sp = conn.begin_nested().await.unwrap();
        assert_eq!(sp.transaction_depth(), 2);
        add(&mut sp, &item, "in savepoint").await.unwrap();
        sp.rollback().await.unwrap();
    }
    add(&mut conn, &item, "after savepoint").await.unwrap();
    conn.commit().await.unwrap();
    // commit() and rollback() with nothing open do nothing.
    conn.commit().await.unwrap();
    conn.rollback().await.unwrap();
    drop(conn);
    assert_eq!(names(&db.engine, &item).await, ["kept", "after savepoint"]);

    // In autocommit mode each statement commits on its own.
    let mut conn = db.engine.connect().await.unwrap();
    conn.set_autocommit(true);
    add(&mut conn, &item, "autocommitted").await.unwrap();
    assert!(!conn.in_transaction());
    drop(conn);
    assert_eq!(
        names(&db.engine, &item).await,
        ["kept", "after savepoint", "autocommitted"]
    );
    let engine = persistence::create_engine_with(
        if db.backend == TestBackend::Sqlite {
            "sqlite::memory:"
        } else {
            &db.url
        },
        EngineOptions::default().autocommit(true),
    )
    .await
    .unwrap();
    let mut auto = engine.connect().await.unwrap();
    assert!(auto.autocommit());
    auto.execute(&text("SELECT 1")).await.unwrap();
    assert!(!auto.in_transaction());
    drop(auto);
    engine.dispose().await;
    teardown(db, &metadata).await;
}

async fn savepoint_rolled_back_outer_commits(db: TestDb) {
    let (metadata, item) = setup(&db).await;
    let mut tx = db.engine.begin().await.unwrap();
    add(&mut tx, &item, "outer-1").await.unwrap();
    {
        let mut sp = tx.begin_nested().await.unwrap();
        assert_eq!(sp.transaction_depth(), 2);
        add(&mut sp, &item, "inner").await.unwrap();
        sp.rollback().await.unwrap();
    }
    assert_eq!(tx.transaction_depth(), 1);
    // A savepoint whose statement fails is rolled back alone; the outer
    // transaction goes on (on PostgreSQL too, where a failed statement
    // would otherwise abort it).
    {
        let mut sp = tx.begin_nested().await.unwrap();
        let err = add(&mut sp, &item, "outer-1").await.unwrap_err();
        assert!(matches!(
            err,
            Error::Database {
                kind: ErrorKind::Integrity(IntegrityKind::Unique),
                ..
            }
        ));
        sp.rollback().await.unwrap();
    }
    // A dropped savepoint guard rolls back to its savepoint.
    {
        let mut sp = tx.begin_nested().await.unwrap();
        add(&mut sp, &item, "dropped").await.unwrap();
    }
    // A released savepoint keeps its rows.
    let mut sp = tx.begin_nested().await.unwrap();
    add(&mut sp, &item, "released").await.unwrap();
    sp.commit().await.unwrap();
    add(&mut tx, &item, "outer-2").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        names(&db.engine, &item).await,
        ["outer-1", "released", "outer-2"]
    );
    teardown(db, &metadata).await;
}

async fn two_levels_of_savepoints(db: TestDb) {
    let (metadata, item) = setup(&db).await;
    let mut tx = db.engine.begin().await.unwrap();
    add(&mut tx, &item, "level-1").await.unwrap();
    {
        let mut sp1 = tx.begin_nested().await.unwrap();
        add(&mut sp1, &item, "level-2").await.unwrap();
        {
            let mut sp2 = sp1.begin_nested().await.unwrap();
            assert_eq!(sp2.transaction_depth(), 3);
            add(&mut sp2, &item, "level-3-rolled-back").await.unwrap();
            sp2.rollback().await.unwrap();
        }
        {
            let mut sp2 = sp1.begin_nested().await.unwrap();
            add(&mut sp2, &item, "level-3-kept").await.unwrap();
            sp2.commit().await.unwrap();
        }
        assert_eq!(sp1.transaction_depth(), 2);
        sp1.commit().await.unwrap();
    }
    {
        // Rolling back the middle level takes the inner one's rows with it.
        let mut sp1 = tx.begin_nested().await.unwrap();
        add(&mut sp1, &item, "gone-2").await.unwrap();
        let mut sp2 = sp1.begin_nested().await.unwrap();
        add(&mut sp2, &item, "gone-3").await.unwrap();
        sp2.commit().await.unwrap();
        sp1.rollback().await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(
        names(&db.engine, &item).await,
        ["level-1", "level-2", "level-3-kept"]
    );

    // Rolling back the outer transaction takes every committed savepoint.
    let mut tx = db.engine.begin().await.unwrap();
    let mut sp1 = tx.begin_nested().await.unwrap();
    let mut sp2 = sp1.begin_nested().await.unwrap();
    add(&mut sp2, &item, "gone").await.unwrap();
    sp2.commit().await.unwrap();
    sp1.commit().await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(
        names(&db.engine, &item).await,
        ["level-1", "level-2", "level-3-kept"]
    );
    teardown(db, &metadata).await;
}

/// The isolation level the current transaction runs at, where the backend
/// lets one read it (lowercase, words separated by spaces).
///
/// On MySQL and MariaDB, `SET TRANSACTION ISOLATION LEVEL` (what the engine
/// sends before `BEGIN`) changes the next transaction only, not
/// `@@tx_isolation` / `@@transaction_isolation`, which keep showing the
/// session's level; InnoDB's transaction table shows the level in effect
/// (for a transaction that has written, and a user with PROCESS). InnoDB
/// refreshes that table at most every 100 ms, hence the wait.
async fn observed_isolation(conn: &mut Connection, backend: TestBackend) -> Option<String> {
    let sql = match backend {
        TestBackend::Postgres => "SHOW transaction_isolation",
        TestBackend::MySql => {
            tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            "SELECT trx_isolation_level FROM information_schema.innodb_trx \
             WHERE trx_mysql_thread_id = CONNECTION_ID()"
        }
        // SQLite transactions are always serializable; nothing to read.
        TestBackend::Sqlite => return None,
    };
    let v = match conn.execute(&text(sql)).await {
        Ok(result) => result
            .scalar()
            .expect("the current transaction is not listed"),
        Err(e) if backend == TestBackend::MySql => {
            eprintln!("the isolation level is not observable here: {e}");
            return None;
        }
        Err(e) => panic!("{e}"),
    };
    let s: String = v.try_into().unwrap();
    Some(s.to_lowercase().replace('-', " "))
}

async fn isolation_levels(db: TestDb) {
    let (metadata, item) = setup(&db).await;
    let mut conn = db.engine.connect().await.unwrap();
    for (level, words) in [
        (IsolationLevel::Serializable, "serializable"),
        (IsolationLevel::ReadCommitted, "read committed"),
        (IsolationLevel::RepeatableRead, "repeatable read"),
    ] {
        let mut tx = conn.begin_with(level).await.unwrap();
        add(&mut tx, &item, words).await.unwrap();
        if let Some(seen) = observed_isolation(&mut tx, db.backend).await {
            assert_eq!(seen, words, "{level:?}");
        }
        tx.commit().await.unwrap();
    }
    drop(conn);
    assert_eq!(
        names(&db.engine, &item).await,
        ["serializable", "read committed", "repeatable read"]
    );

    // The engine-wide option applies to engine.begin().
    let options = EngineOptions::default().isolation_level(IsolationLevel::Serializable);
    let url = db.url.clone();
    let engine = if db.backend == TestBackend::Sqlite {
        // An in-memory database is private to its engine: just run.
        persistence::create_engine_with("sqlite::memory:", options)
            .await
            .unwrap()
    } else {
        persistence::create_engine_with(&url, options)
            .await
            .unwrap()
    };
    let mut conn = engine.connect().await.unwrap();
    conn.execute(&text("CREATE TABLE touched (id INTEGER PRIMARY KEY)"))
        .await
        .unwrap();
    conn.commit().await.unwrap();
    drop(conn);
    let mut tx = engine.begin().await.unwrap();
    tx.execute(&text("INSERT INTO touched (id) VALUES (1)"))
        .await
        .unwrap();
    if let Some(seen) = observed_isolation(&mut tx, db.backend).await {
        assert_eq!(seen, "serializable");
    }
    tx.commit().await.unwrap();
    let mut conn = engine.connect().await.unwrap();
    conn.execute(&text("DROP TABLE touched")).await.unwrap();
    conn.commit().await.unwrap();
    drop(conn);
    engine.dispose().await;
    teardown(db, &metadata).await;
}

async fn has_item(engine: &Engine) -> bool {
    let mut conn = engine.connect().await.unwrap();
    persistence::inspect(&mut conn)
        .has_table("item")
        .await
        .unwrap()
}

async fn create_all_and_drop_all_in_a_transaction(db: TestDb) {
    let (metadata, item) = item_metadata();
    db.engine
        .transaction(async |conn| {
            metadata.drop_all(conn).await?;
            metadata.create_all(conn).await?;
            add(conn, &item, "created").await
        })
        .await
        .unwrap();
    assert_eq!(names(&db.engine, &item).await, ["created"]);
    assert!(has_item(&db.engine).await);

    db.engine
        .transaction(async |conn| metadata.drop_all(conn).await)
        .await
        .unwrap();
    assert!(!has_item(&db.engine).await);
    db.close().await;
}

on_all_backends!(
    engine_begin_commit_persists,
    dropped_engine_transaction_rolls_back,
    engine_transaction_commits_on_ok_and_rolls_back_on_err,
    failing_statement_in_engine_transaction_leaves_no_rows,
    connection_begin_and_rollback,
    autobegin_commit_rollback_and_close,
    savepoint_rolled_back_outer_commits,
    two_levels_of_savepoints,
    isolation_levels,
    create_all_and_drop_all_in_a_transaction,
);
