//! Configuration: URLs parsed with the `url` crate and their secrets never
//! shown (user info and query string alike), SQLite's pragmas from the URL
//! or the engine options, a SQLite file created only when the URL asks for
//! it, and in-memory SQLite's single connection asked for twice by one
//! task failing at once, naming the cause, instead of waiting 30 s.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use persistence::dialects::text;
use persistence::{
    create_engine, create_engine_with, Connection, EngineOptions, Error, JournalMode,
    SqliteOptions, Synchronous,
};

async fn pragma(conn: &mut Connection, name: &str) -> String {
    conn.execute(&text(&format!("PRAGMA {name}")))
        .await
        .unwrap()
        .scalar()
        .unwrap()
        .to_string()
}

fn temp_db(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("persistence-{name}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// A password (in the user info, or as a `password=` parameter) appears in
/// no error, no `Debug` and no `Engine::url()`.
#[tokio::test]
async fn passwords_are_never_shown() {
    for url in [
        "postgres://app:hunter2-secret@127.0.0.1:1/app",
        "postgres://app@127.0.0.1:1/app?password=hunter2-secret&sslmode=disable",
        "mysql://app:hunter2-secret@127.0.0.1:1/app",
        "mariadb://app@127.0.0.1:1/app?password=hunter2-secret",
    ] {
        let err = create_engine_with(
            url,
            EngineOptions::default().connect_timeout(Duration::from_secs(5)),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Connect { .. }), "{url}: {err:?}");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }
    // A malformed URL too.
    let err = create_engine("postgres://app:hunter2-secret@[::1/app")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("hunter2"), "{err}");
    // A server that refuses the password: the message names the user, not it.
    let url = std::env::var("TEST_MYSQL_URL").expect("TEST_MYSQL_URL");
    let wrong = url.replacen(":test@", ":hunter2-wrong@", 1);
    let err = create_engine(&wrong).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("Access denied"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    // A live engine's URL and Debug.
    let url = std::env::var("TEST_POSTGRES_URL").expect("TEST_POSTGRES_URL");
    let with_query = format!("{url}?password=hunter2-secret");
    let engine = create_engine(&with_query).await.unwrap();
    assert!(!engine.url().contains("hunter2"), "{}", engine.url());
    assert!(!format!("{engine:?}").contains("hunter2"));
    engine.dispose().await;
}

/// `sqlite:path` opens an existing file only; `?mode=rwc` creates it.
#[tokio::test]
async fn sqlite_file_is_created_only_when_asked() {
    let path = temp_db("create");
    let err = create_engine(&format!("sqlite:{}", path.display()))
        .await
        .unwrap_err();
    match &err {
        Error::Connect { message, .. } => assert!(message.contains("mode=rwc"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(!path.exists(), "no file was created");
    let engine = create_engine(&format!("sqlite:{}?mode=rwc", path.display()))
        .await
        .unwrap();
    assert!(path.exists());
    engine.dispose().await;
    // Now it exists: the plain URL opens it.
    let engine = create_engine(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    engine.dispose().await;
    let _ = std::fs::remove_file(&path);
}

/// Pragmas from the URL, from the options, the URL winning; a bad value
/// is an invalid URL naming the parameter.
#[tokio::test]
async fn sqlite_pragmas_from_url_and_options() {
    let path = temp_db("pragmas");
    let url = format!(
        "sqlite:{}?mode=rwc&journal_mode=WAL&synchronous=NORMAL&busy_timeout=1234&foreign_keys=false",
        path.display()
    );
    let engine = create_engine(&url).await.unwrap();
    let mut conn = engine.connect().await.unwrap();
    // Statements commit on their own (no autobegin), as this test expects.
    conn.set_autocommit(true);
    assert_eq!(pragma(&mut conn, "journal_mode").await, "wal");
    assert_eq!(pragma(&mut conn, "synchronous").await, "1");
    assert_eq!(pragma(&mut conn, "busy_timeout").await, "1234");
    assert_eq!(pragma(&mut conn, "foreign_keys").await, "0");
    conn.commit().await.unwrap();
    drop(conn);
    engine.dispose().await;

    let options = EngineOptions::default().sqlite(SqliteOptions {
        journal_mode: Some(JournalMode::Truncate),
        synchronous: Some(Synchronous::Off),
        busy_timeout: Some(Duration::from_millis(250)),
        foreign_keys: None,
        begin_immediate: None,
    });
    let url = format!("sqlite:{}?synchronous=full", path.display());
    let engine = create_engine_with(&url, options).await.unwrap();
    let mut conn = engine.connect().await.unwrap();
    // Statements commit on their own (no autobegin), as this test expects.
    conn.set_autocommit(true);
    assert_eq!(pragma(&mut conn, "journal_mode").await, "truncate");
    assert_eq!(pragma(&mut conn, "synchronous").await, "2", "the URL wins");
    assert_eq!(pragma(&mut conn, "busy_timeout").await, "250");
    assert_eq!(
        pragma(&mut conn, "foreign_keys").await,
        "1",
        "on by default"
    );
    conn.commit().await.unwrap();
    drop(conn);
    engine.dispose().await;

    for (bad, name) in [
        ("journal_mode=sometimes", "journal_mode"),
        ("busy_timeout=soon", "busy_timeout"),
        ("foreign_keys=maybe", "foreign_keys"),
    ] {
        match create_engine(&format!("sqlite:{}?{bad}", path.display())).await {
            Err(Error::InvalidUrl { reason, .. }) => assert!(reason.contains(name), "{reason}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(path.with_extension("db-wal"));
    let _ = std::fs::remove_file(path.with_extension("db-shm"));
}

/// In-memory SQLite lives in one connection. A second checkout by the
/// task holding it (two live sessions, one after the other) fails in half
/// a second with an error naming the cause; futures of one task taking
/// turns (`join!`) and other tasks still wait their turn.
#[tokio::test]
async fn in_memory_sqlite_asked_twice_by_one_task_fails_fast() {
    let engine = create_engine("sqlite::memory:").await.unwrap();
    let mut first = engine.connect().await.unwrap();
    // Statements commit on their own (no autobegin), as this test expects.
    first.set_autocommit(true);
    first
        .execute(&text("CREATE TABLE t (x INTEGER)"))
        .await
        .unwrap();
    first.commit().await.unwrap();
    let started = Instant::now();
    let err = engine.connect().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    match &err {
        Error::ConnectionInUse { reason } => {
            assert!(reason.contains("single connection"), "{reason}");
            assert!(reason.contains("already holds it"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    drop(first);

    // Futures of one task taking turns.
    let one = async {
        let mut c = engine.connect().await.unwrap();
        // Statements commit on their own (no autobegin), as this test expects.
        c.set_autocommit(true);
        c.execute(&text("INSERT INTO t VALUES (1)")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let two = async {
        let mut c = engine.connect().await.unwrap();
        // Statements commit on their own (no autobegin), as this test expects.
        c.set_autocommit(true);
        c.execute(&text("INSERT INTO t VALUES (2)")).await.unwrap();
    };
    tokio::join!(one, two);
    // Another task waits its turn while this one holds it.
    let held = engine.connect().await.unwrap();
    let other = tokio::spawn({
        let engine = engine.clone();
        async move {
            let mut c = engine.connect().await.unwrap();
            // Statements commit on their own (no autobegin), as this test expects.
            c.set_autocommit(true);
            c.execute(&text("SELECT count(*) FROM t"))
                .await
                .unwrap()
                .scalar()
                .unwrap()
                .as_i64()
        }
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    drop(held);
    assert_eq!(other.await.unwrap(), Some(2));
    engine.dispose().await;
}
