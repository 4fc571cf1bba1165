//! Deferred columns on every backend (issue 12, item 8): `load_only`,
//! `defer` and `undefer` on an ORM select, and `load_deferred`. Each test
//! checks the objects returned, the rows in the table afterwards and the
//! statements sent (counted on an engine with echo on; the count is in a
//! comment, no more than SQLAlchemy sends for the same work).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use persistence::dialects::{text, SqlType};
use persistence::orm::{self, presets, Mappers, Registry, SessionMaker};
use persistence::{EngineOptions, Error};
use tests::capture::SqlLog;
use tests::{on_all_backends, TestDb};

#[derive(Debug, Clone, PartialEq)]
struct Writer {
    id: Option<i64>,
    name: String,
    bio: Option<String>,
    motto: Option<String>,
}

persistence::model!(mod writer for Writer in "deferred_writer" {
    id: Option<i64> = presets::intpk,
    name: String = |c| c.of_type(SqlType::string(100)),
    bio: Option<String> = |c| c.of_type(SqlType::Text),
    motto: Option<String> = |c| c.of_type(SqlType::string(100)),
});

/// Mapped with `photo` deferred in every load (SQLAlchemy's `deferred()`).
#[derive(Debug, Clone, PartialEq)]
struct Profile {
    id: Option<i64>,
    handle: String,
    photo: Option<Vec<u8>>,
}

persistence::model!(mod profile for Profile in "deferred_profile" {
    id: Option<i64> = presets::intpk,
    handle: String = |c| c.of_type(SqlType::string(100)),
    photo: Option<Vec<u8>>,
});

fn registry() -> Mappers {
    let mut registry = Registry::new();
    registry.map(writer::model()).finish();
    registry.map(profile::model()).deferred(&["photo"]).finish();
    registry.configure().unwrap()
}

/// The test's database on an engine with echo on, two committed writers.
async fn setup(db: TestDb, name: &str) -> (TestDb, SessionMaker) {
    let db = db.reopen(name, EngineOptions::default().echo(true)).await;
    let mappers = registry();
    db.create_tables(mappers.metadata()).await;
    let sessions = SessionMaker::new(db.engine.clone(), mappers);
    let mut session = sessions.session();
    let mut crew = vec![
        Writer {
            id: None,
            name: "Ann".into(),
            bio: Some("a long life".into()),
            motto: Some("carpe diem".into()),
        },
        Writer {
            id: None,
            name: "Bob".into(),
            bio: Some("short".into()),
            motto: None,
        },
    ];
    session.add_all(&mut crew).await.unwrap();
    session.commit().await.unwrap();
    (db, sessions)
}

/// The statements sent, transaction control left out.
fn sent(log: &SqlLog) -> Vec<String> {
    log.take()
        .into_iter()
        .filter(|s| {
            let head = s.trim_start().to_ascii_uppercase();
            ![
                "BEGIN",
                "COMMIT",
                "ROLLBACK",
                "START",
                "SAVEPOINT",
                "RELEASE",
            ]
            .iter()
            .any(|k| head.starts_with(k))
        })
        .collect()
}

/// The rows as (name, bio, motto), by name, read on a connection of its own.
async fn rows(db: &TestDb) -> Vec<(String, Option<String>, Option<String>)> {
    let mut conn = db.engine.connect().await.unwrap();
    conn.execute(&text(
        "SELECT name, bio, motto FROM deferred_writer ORDER BY name",
    ))
    .await
    .unwrap()
    .all()
    .into_iter()
    .map(|r| (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap()))
    .collect()
}

fn row(
    name: &str,
    bio: Option<&str>,
    motto: Option<&str>,
) -> (String, Option<String>, Option<String>) {
    (name.into(), bio.map(Into::into), motto.map(Into::into))
}

/// `load_only(["name"])`: one SELECT without the other columns; the
/// deferred fields read `None`, a change to `name` writes `name` only (1
/// UPDATE), and the deferred columns keep their values in the table.
async fn load_only_leaves_the_rest_unloaded_and_unwritten(db: TestDb) {
    let (db, sessions) = setup(db, "deferred_load_only").await;
    let mut session = sessions.session();
    let (log, _guard) = SqlLog::start();
    let mut got = session
        .scalars(
            orm::select::<Writer>()
                .load_only(["name"])
                .order_by([writer::name.asc()]),
        )
        .await
        .unwrap()
        .all();
    let select = sent(&log);
    assert_eq!(select.len(), 1, "one SELECT: {select:?}");
    assert!(
        !select[0].contains("deferred_writer.bio") && !select[0].contains("deferred_writer.motto"),
        "{select:?}"
    );
    assert_eq!(got[0].name, "Ann");
    assert_eq!(
        (got[0].bio.as_deref(), got[0].motto.as_deref()),
        (None, None)
    );
    assert!(got[0].id.is_some());
    assert_eq!(session.unloaded_fields(&got[0]).unwrap(), ["bio", "motto"]);
    got[0].name = "Anna".into();
    session.add(&mut got[0]).await.unwrap();
    session.commit().await.unwrap();
    let update = sent(&log);
    assert_eq!(update.len(), 1, "one UPDATE: {update:?}");
    assert!(
        update[0].starts_with("UPDATE deferred_writer SET name"),
        "{update:?}"
    );
    assert!(
        !update[0].contains("bio") && !update[0].contains("motto"),
        "{update:?}"
    );
    assert_eq!(
        rows(&db).await,
        [
            row("Anna", Some("a long life"), Some("carpe diem")),
            row("Bob", Some("short"), None)
        ]
    );
    db.close().await;
}

/// `defer(["bio"])` then setting the deferred field: the value set is
/// written (1 UPDATE of `bio` only); an untouched deferred field is not.
async fn a_deferred_field_that_is_set_is_written(db: TestDb) {
    let (db, sessions) = setup(db, "deferred_set").await;
    let mut session = sessions.session();
    let (log, _guard) = SqlLog::start();
    let mut got = session
        .scalars(
            orm::select::<Writer>()
                .defer(["bio"])
                .filter_by("name", "Bob"),
        )
        .await
        .unwrap()
        .one()
        .unwrap();
    assert_eq!(got.bio, None);
    assert_eq!(got.motto, None, "loaded: Bob has no motto");
    assert_eq!(session.unloaded_fields(&got).unwrap(), ["bio"]);
    assert_eq!(sent(&log).len(), 1, "one SELECT");
    got.bio = Some("rewritten".into());
    session.add(&mut got).await.unwrap();
    session.commit().await.unwrap();
    let update = sent(&log);
    assert_eq!(update.len(), 1, "one UPDATE: {update:?}");
    assert!(
        update[0].starts_with("UPDATE deferred_writer SET bio"),
        "{update:?}"
    );
    assert_eq!(
        rows(&db).await,
        [
            row("Ann", Some("a long life"), Some("carpe diem")),
            row("Bob", Some("rewritten"), None)
        ]
    );
    db.close().await;
}

/// `load_deferred`: one SELECT of the deferred columns by key; a field
/// the caller set meanwhile keeps the caller's value; afterwards the
/// fields compare like any other (adding the unchanged object sends 0
/// statements, clearing `motto` writes NULL).
async fn load_deferred_fills_the_fields(db: TestDb) {
    let (db, sessions) = setup(db, "deferred_load").await;
    let mut session = sessions.session();
    let mut ann = session
        .scalars(
            orm::select::<Writer>()
                .load_only(["name"])
                .filter_by("name", "Ann"),
        )
        .await
        .unwrap()
        .one()
        .unwrap();
    ann.bio = Some("set before loading".into());
    let (log, _guard) = SqlLog::start();
    session.load_deferred(&mut ann).await.unwrap();
    let load = sent(&log);
    assert_eq!(load.len(), 1, "one SELECT: {load:?}");
    assert!(load[0].contains("WHERE"), "{load:?}");
    assert_eq!(ann.bio.as_deref(), Some("set before loading"));
    assert_eq!(ann.motto.as_deref(), Some("carpe diem"));
    assert!(session.unloaded_fields(&ann).unwrap().is_empty());
    // Nothing more to load: no SQL.
    session.load_deferred(&mut ann).await.unwrap();
    assert!(sent(&log).is_empty());
    ann.motto = None;
    session.add(&mut ann).await.unwrap();
    session.commit().await.unwrap();
    let update = sent(&log);
    assert_eq!(update.len(), 1, "one UPDATE: {update:?}");
    assert_eq!(
        rows(&db).await,
        [
            row("Ann", Some("set before loading"), None),
            row("Bob", Some("short"), None)
        ]
    );
    // Unchanged now: adding it again sends nothing.
    let mut again = session
        .scalars(orm::select::<Writer>().filter_by("name", "Ann"))
        .await
        .unwrap()
        .one()
        .unwrap();
    let _ = sent(&log);
    session.add(&mut again).await.unwrap();
    session.flush().await.unwrap();
    assert!(
        sent(&log).is_empty(),
        "no statement for an unchanged object"
    );
    drop(session);
    db.close().await;
}

/// A deferred select of objects the session loaded in full fills the
/// deferred fields from the identity map; `undefer` loads a field a
/// `defer` named, and a full select loads everything again.
async fn deferred_fields_come_from_the_identity_map(db: TestDb) {
    let (db, sessions) = setup(db, "deferred_identity").await;
    let mut session = sessions.session();
    let full = session
        .scalars(orm::select::<Writer>().order_by([writer::name.asc()]))
        .await
        .unwrap()
        .all();
    let (log, _guard) = SqlLog::start();
    let again = session
        .scalars(
            orm::select::<Writer>()
                .defer(["bio", "motto"])
                .undefer(["motto"])
                .order_by([writer::name.asc()]),
        )
        .await
        .unwrap()
        .all();
    let select = sent(&log);
    assert_eq!(select.len(), 1, "{select:?}");
    assert!(!select[0].contains("deferred_writer.bio"), "{select:?}");
    assert!(select[0].contains("deferred_writer.motto"), "{select:?}");
    assert_eq!(again, full, "the known values fill the deferred fields");
    assert!(session.unloaded_fields(&again[0]).unwrap().is_empty());
    session.rollback().await.unwrap();
    drop(session);
    // Another session knows nothing: the fields are unloaded there.
    let mut other = sessions.session();
    let bare = other
        .scalars(
            orm::select::<Writer>()
                .defer(["bio"])
                .order_by([writer::name.asc()]),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(bare[0].bio, None);
    assert_eq!(bare[0].motto.as_deref(), Some("carpe diem"));
    // Loaded in full: nothing is unloaded any more.
    let loaded = other
        .scalars(orm::select::<Writer>().order_by([writer::name.asc()]))
        .await
        .unwrap()
        .all();
    assert_eq!(loaded, full);
    assert!(other.unloaded_fields(&loaded[0]).unwrap().is_empty());
    drop(other);
    db.close().await;
}

/// Bad deferrals are typed errors naming the struct and the field, sent
/// before any SQL; the session stays usable.
async fn bad_deferrals_are_typed_errors(db: TestDb) {
    let (db, sessions) = setup(db, "deferred_errors").await;
    let mut session = sessions.session();
    let (log, _guard) = SqlLog::start();
    let cases = [
        (orm::select::<Writer>().defer(["name"]), "name", "Option"),
        (orm::select::<Writer>().defer(["nope"]), "nope", "no such"),
        (orm::select::<Writer>().defer(["id"]), "id", "always loaded"),
        (
            orm::select::<Writer>().load_only(["nope"]),
            "nope",
            "no such",
        ),
    ];
    for (stmt, field, says) in cases {
        match session.scalars(stmt).await {
            Err(Error::InvalidRequest {
                type_name,
                field: f,
                message,
            }) => {
                assert!(type_name.ends_with("Writer"), "{type_name}");
                assert_eq!(f, field);
                assert!(message.contains(says), "{message}");
            }
            other => panic!("expected InvalidRequest for {field}, got {other:?}"),
        }
    }
    assert!(sent(&log).is_empty(), "nothing sent");
    let all = session
        .scalars(orm::select::<Writer>())
        .await
        .unwrap()
        .all();
    assert_eq!(all.len(), 2);
    drop(session);
    db.close().await;
}

/// A column the mapping defers: left out of selects and `get` (NULL in
/// its place), loaded by `undefer` or `load_deferred`; an untouched one is
/// never written. Deferring a field that cannot be unloaded is a
/// `configure()` error naming struct and field.
async fn mapping_level_deferral(db: TestDb) {
    let (db, sessions) = setup(db, "deferred_mapping").await;
    let mut session = sessions.session();
    let mut p = Profile {
        id: None,
        handle: "ann".into(),
        photo: Some(vec![1, 2, 3]),
    };
    session.add(&mut p).await.unwrap();
    session.commit().await.unwrap();
    drop(session);
    let mut session = sessions.session();
    let (log, _guard) = SqlLog::start();
    let mut got = session
        .scalars(orm::select::<Profile>())
        .await
        .unwrap()
        .one()
        .unwrap();
    let select = sent(&log);
    assert_eq!(select.len(), 1);
    assert!(!select[0].contains("deferred_profile.photo"), "{select:?}");
    assert_eq!(got.photo, None);
    assert_eq!(session.unloaded_fields(&got).unwrap(), ["photo"]);
    got.handle = "anna".into();
    session.add(&mut got).await.unwrap();
    session.commit().await.unwrap();
    let update = sent(&log);
    assert_eq!(update.len(), 1, "{update:?}");
    assert!(!update[0].contains("photo"), "{update:?}");
    drop(session);
    // `get` in a fresh session defers it too; `load_deferred` loads it.
    let mut session = sessions.session();
    let mut by_key = session
        .get::<Profile>(p.id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_key.photo, None);
    assert_eq!(session.unloaded_fields(&by_key).unwrap(), ["photo"]);
    let _ = sent(&log);
    session.load_deferred(&mut by_key).await.unwrap();
    assert_eq!(sent(&log).len(), 1, "one SELECT of photo");
    assert_eq!(by_key.photo, Some(vec![1, 2, 3]));
    assert_eq!(by_key.handle, "anna");
    session.rollback().await.unwrap();
    drop(session);
    // `undefer` loads it in the select.
    let mut session = sessions.session();
    let full = session
        .scalars(orm::select::<Profile>().undefer(["photo"]))
        .await
        .unwrap()
        .one()
        .unwrap();
    assert_eq!(full.photo, Some(vec![1, 2, 3]));
    assert!(session.unloaded_fields(&full).unwrap().is_empty());
    session.rollback().await.unwrap();
    drop(session);
    // Misuse is caught at configure().
    for (field, says) in [
        ("handle", "Option"),
        ("id", "primary key"),
        ("nope", "not mapped"),
    ] {
        let mut registry = Registry::new();
        registry.map(profile::model()).deferred(&[field]).finish();
        match registry.configure() {
            Err(Error::Mapping {
                type_name,
                field: f,
                message,
            }) => {
                assert!(type_name.ends_with("Profile"), "{type_name}");
                assert_eq!(f, field);
                assert!(message.contains(says), "{message}");
            }
            other => panic!(
                "expected a mapping error for {field}, got {:?}",
                other.err()
            ),
        }
    }
    db.close().await;
}

on_all_backends!(
    mapping_level_deferral,
    load_only_leaves_the_rest_unloaded_and_unwritten,
    a_deferred_field_that_is_set_is_written,
    load_deferred_fills_the_fields,
    deferred_fields_come_from_the_identity_map,
    bad_deferrals_are_typed_errors,
);
