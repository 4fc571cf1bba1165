//! Mapping a domain crate the framework does not own, on every backend:
//! value objects through codecs (`app_domain`'s newtype ids, `Workload`,
//! `Skills`), values normalised to their column's type so that an
//! unchanged object costs no statement, every integer width combination,
//! lossy mappings refused at `configure()`, generated keys written back,
//! and codec failures as typed errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use app_domain::hiring::{NewResume, Resume, Skills, Worker, Workload};
use app_domain::publishing::{Post, Publisher, Tag};
use app_domain::{ResumeId, WorkerId};
use app_example::mapping::{resume, worker, WORKLOAD};
use app_example::repositories::{HiringUow, SqlHiringUow};
use app_example::{demo, services};
use domain::{Load, Related, UnitOfWork};
use persistence::dialects::{text, Column, SqlType, Table, Value};
use persistence::orm::{self, codec, presets, Registry, SessionMaker};
use persistence::{mapping, EngineOptions, Error, SchemaExt};
use tests::capture::SqlLog;
use tests::{on_all_backends, TestBackend, TestDb};

async fn echo_db(db: TestDb, name: &str) -> TestDb {
    let backend = db.backend;
    db.close().await;
    TestDb::with_options(backend, name, EngineOptions::default().echo(true)).await
}

/// The example's tables with a worker, two resumes, a publisher with two
/// tagged posts.
async fn seeded(db: &TestDb) -> SessionMaker {
    let sessions = demo::prepare(db.engine.clone()).await.unwrap();
    let mut uow = SqlHiringUow::new(&sessions);
    services::hiring::hire_with_resumes(
        &mut uow,
        "Vlad",
        vec![
            NewResume::new("Rust Developer", Some(100), Workload::FullTime)
                .with_skills(Skills::new(["rust", "sql"]).unwrap()),
            NewResume::new("DBA", None, Workload::PartTime),
        ],
    )
    .await
    .unwrap();
    let mut uow = app_example::repositories::SqlPublishingUow::new(&sessions);
    let manning = services::publishing::found_publisher(&mut uow, "Manning")
        .await
        .unwrap();
    let id = manning.id.unwrap();
    for title in ["Rust in Action", "Database Internals"] {
        let post = services::publishing::draft_post(&mut uow, id, title)
            .await
            .unwrap();
        services::publishing::tag_post(&mut uow, post.id.unwrap(), &["rust", "db"])
            .await
            .unwrap();
    }
    sessions
}

/// Adding loaded objects that nobody changed sends nothing: the snapshot
/// and the object compare equal whatever width the driver read.
async fn unchanged_objects_cost_no_statements(db: TestDb) {
    let db = echo_db(db, "map_unchanged").await;
    let sessions = seeded(&db).await;
    let mut session = sessions.session();
    let mut workers = session
        .scalars(orm::select::<Worker>().options([orm::selectinload("resumes")]))
        .await
        .unwrap()
        .all();
    let mut publishers = session
        .scalars(
            orm::select::<Publisher>().options([orm::selectinload("posts").selectinload("tags")]),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(workers[0].resumes.require("resumes").unwrap().len(), 2);
    assert_eq!(publishers[0].posts.require("posts").unwrap().len(), 2);

    let (log, _guard) = SqlLog::start();
    // 0 statements: a worker and its loaded resumes, unchanged.
    session.add(&mut workers[0]).await.unwrap();
    // 0 statements: a publisher, its posts and their tags, unchanged.
    session.add_all(publishers.iter_mut()).await.unwrap();
    assert!(!session.is_dirty(), "nothing staged");
    session.commit().await.unwrap();
    assert_eq!(log.take(), Vec::<String>::new(), "no statement at all");

    // After the commit (expired), reloaded and added again: still nothing
    // but the reload.
    let mut again: Worker = session.get(workers[0].id.unwrap()).await.unwrap().unwrap();
    assert_eq!(log.take().len(), 1, "the reload");
    session.add(&mut again).await.unwrap();
    session.commit().await.unwrap();
    assert_eq!(log.take(), Vec::<String>::new());

    // One change, one UPDATE of that column (and the onupdate timestamp).
    let resumes = workers[0].resumes.get_mut().unwrap();
    resumes[0].compensation = Some(120);
    session.add(&mut workers[0]).await.unwrap();
    session.commit().await.unwrap();
    let statements = log.take();
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert!(
        statements[0].starts_with("UPDATE resume SET compensation = "),
        "{}",
        statements[0]
    );
    assert!(statements[0].contains("updated_at"), "{}", statements[0]);
    drop(session);
    db.close().await;
}

/// A struct whose key and value widths are given, on a table whose
/// column widths are given: round-trips, and re-adding it is a no-op.
macro_rules! width_case {
    ($db:expr, $name:literal, $key_col:expr, $key:ty, $col:expr, $nullable:expr, $field:ty, $value:expr, $changed:expr) => {
        // Each case on the heap: two dozen inline cases overflow a test
        // thread's stack in a debug build.
        Box::pin(async {
        #[derive(Debug, Clone, PartialEq)]
        struct W {
            id: Option<$key>,
            v: $field,
        }
        let table = Table::new($name)
            .column(presets::intpk(Column::new("id", $key_col)))
            .column(Column::new("v", $col).nullable($nullable));
        let mut registry = Registry::new();
        registry
            .map_imperatively(&table, mapping!(W { id: Option<$key> = "id", v: $field = "v" }))
            .finish();
        let mappers = registry.configure().unwrap();
        let mut conn = $db.engine.connect().await.unwrap();
        mappers.metadata().create_all(&mut conn).await.unwrap();
        conn.commit().await.unwrap();
        drop(conn);
        let sessions = SessionMaker::new($db.engine.clone(), mappers);
        let mut session = sessions.session();
        let mut obj = W { id: None, v: $value };
        session.add(&mut obj).await.unwrap();
        assert!(obj.id.is_some(), "{}: key written back", $name);
        session.commit().await.unwrap();

        let mut other = sessions.session();
        let (log, guard) = SqlLog::start();
        let mut loaded: W = other.get(obj.id.unwrap()).await.unwrap().unwrap();
        assert_eq!(loaded, obj, "{}: round trip", $name);
        other.add(&mut loaded).await.unwrap();
        other.add(&mut obj).await.unwrap();
        other.commit().await.unwrap();
        assert_eq!(log.take().len(), 1, "{}: the SELECT only, no UPDATE", $name);
        loaded.v = $changed;
        other.add(&mut loaded).await.unwrap();
        other.commit().await.unwrap();
        let sent = log.take();
        assert_eq!(sent.len(), 1, "{}: {sent:?}", $name);
        assert!(sent[0].starts_with(&format!("UPDATE {} SET v = ", $name)), "{}", sent[0]);
        let back: W = other.get(obj.id.unwrap()).await.unwrap().unwrap();
        assert_eq!(back.v, $changed, "{}", $name);
        drop(guard);
        })
        .await
    };
}

/// Every integer column width × field width (as wide or wider) ×
/// nullability, and INTEGER / BIGINT keys with `i32` / `i64` fields.
async fn integer_widths_round_trip_with_a_noop_dirty_check(db: TestDb) {
    use SqlType::{BigInteger as Big, Integer as Int, SmallInteger as Small};
    let db = echo_db(db, "map_widths").await;
    // NOT NULL columns with plain fields.
    width_case!(db, "w_s16", Int, i64, Small, false, i16, -7, 300);
    width_case!(db, "w_s32", Int, i64, Small, false, i32, 32_000, -1);
    width_case!(db, "w_s64", Int, i64, Small, false, i64, 12, 13);
    width_case!(db, "w_i32", Int, i64, Int, false, i32, i32::MAX, i32::MIN);
    width_case!(db, "w_i64", Int, i64, Int, false, i64, 2_000_000_000, 5);
    width_case!(db, "w_b64", Int, i64, Big, false, i64, i64::MAX, i64::MIN);
    // Nullable columns with `Option` fields, NULL and not.
    width_case!(
        db,
        "n_s16",
        Int,
        i64,
        Small,
        true,
        Option<i16>,
        None,
        Some(3)
    );
    width_case!(
        db,
        "n_s32",
        Int,
        i64,
        Small,
        true,
        Option<i32>,
        Some(4),
        None
    );
    width_case!(
        db,
        "n_s64",
        Int,
        i64,
        Small,
        true,
        Option<i64>,
        None,
        Some(5)
    );
    width_case!(db, "n_i32", Int, i64, Int, true, Option<i32>, Some(6), None);
    width_case!(db, "n_i64", Int, i64, Int, true, Option<i64>, None, Some(7));
    width_case!(
        db,
        "n_b64",
        Int,
        i64,
        Big,
        true,
        Option<i64>,
        Some(1 << 40),
        None
    );
    // NOT NULL columns with `Option` fields (a widening).
    width_case!(
        db,
        "o_s16",
        Int,
        i64,
        Small,
        false,
        Option<i16>,
        Some(1),
        Some(2)
    );
    width_case!(
        db,
        "o_i32",
        Int,
        i64,
        Int,
        false,
        Option<i32>,
        Some(1),
        Some(2)
    );
    width_case!(
        db,
        "o_b64",
        Int,
        i64,
        Big,
        false,
        Option<i64>,
        Some(1),
        Some(2)
    );
    // Keys: INTEGER with i32 and i64 fields, BIGINT with i64.
    width_case!(db, "k_i32", Int, i32, Int, false, i32, 1, 2);
    width_case!(db, "k_i64", Int, i64, Int, false, i32, 1, 2);
    width_case!(db, "k_b64", Big, i64, Big, false, i64, 1, 2);
    db.close().await;
}

/// The example's value objects through get, list, typed filters and
/// updates: `WorkerId` and `ResumeId` newtypes, the `Workload` enum, the
/// `Skills` JSON document.
async fn value_objects_round_trip(db: TestDb) {
    let sessions = seeded(&db).await;
    let mut session = sessions.session();
    let vlad = session
        .scalars(orm::select::<Worker>().where_(worker::name.eq("Vlad")))
        .await
        .unwrap()
        .one()
        .unwrap();
    let vlad_id: WorkerId = vlad.id.unwrap();
    // A typed filter by the newtype id, and one by the enum.
    let mine = session
        .scalars(
            orm::select::<Resume>()
                .where_(resume::worker_id.eq(vlad_id))
                .order_by([resume::id.asc()]),
        )
        .await
        .unwrap()
        .all();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0].workload, Workload::FullTime);
    assert_eq!(mine[0].skills.names(), ["rust", "sql"]);
    assert_eq!(mine[1].skills, Skills::none());
    let full_time = session
        .scalars(orm::select::<Resume>().where_(resume::workload.eq(Workload::FullTime)))
        .await
        .unwrap()
        .all();
    assert_eq!(full_time.len(), 1);
    assert_eq!(full_time[0].id, mine[0].id);
    // get by the newtype id (through its codec) and by its integer.
    let id: ResumeId = mine[1].id.unwrap();
    let by_id: Resume = session.get(id).await.unwrap().unwrap();
    assert_eq!(by_id.title, "DBA");
    let by_int: Resume = session.get(id.0).await.unwrap().unwrap();
    assert_eq!(by_int, by_id);

    // Updates of the value objects.
    let mut dba = by_id;
    dba.workload = Workload::FullTime;
    dba.skills = Skills::new(["postgres", "mariadb"]).unwrap();
    session.add(&mut dba).await.unwrap();
    session.commit().await.unwrap();
    let mut fresh = sessions.session();
    let stored: Resume = fresh.get(id).await.unwrap().unwrap();
    assert_eq!(stored.workload, Workload::FullTime);
    assert_eq!(stored.skills.names(), ["mariadb", "postgres"]);
    assert_eq!(stored.worker_id, vlad_id);
    fresh.commit().await.unwrap();
    session.commit().await.unwrap();

    // The repository takes the newtype id too.
    let uow = SqlHiringUow::new(&sessions);
    let found = uow
        .workers()
        .get_with(&vlad_id, &[Load::selectin(Worker::RESUMES)])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.resumes.require("resumes").unwrap().len(), 2);
    assert!(uow
        .resumes()
        .get(&ResumeId(999_999))
        .await
        .unwrap()
        .is_none());
    drop((session, fresh, uow));
    db.close().await;
}

/// `add` writes the generated key back, so the same struct changed and
/// added again updates its row: through the session and the repository.
async fn a_changed_struct_added_again_updates_its_row(db: TestDb) {
    let sessions = demo::prepare(db.engine.clone()).await.unwrap();
    let mut session = sessions.session();
    let mut ann = Worker::new("Ann").unwrap();
    session.add(&mut ann).await.unwrap();
    session.commit().await.unwrap();
    let id = ann.id.expect("the key reached the caller");
    ann.rename("Anna").unwrap();
    session.add(&mut ann).await.unwrap();
    session.commit().await.unwrap();
    let mut post = Post {
        id: None,
        title: "t".into(),
        draft: true,
        publisher_id: app_domain::PublisherId(1),
        created_at: None,
        published_at: None,
        tags: Related::NotLoaded,
    };
    let mut manning = Publisher::new("Manning").unwrap();
    session.add(&mut manning).await.unwrap();
    post.publisher_id = manning.id.unwrap();
    session.add(&mut post).await.unwrap();
    assert!(post.created_at.is_some(), "the server default came back");
    assert!(post.draft, "the column default");
    session.commit().await.unwrap();

    let uow = SqlHiringUow::new(&sessions);
    let bob = uow
        .workers()
        .add(Worker::new("Bob").unwrap())
        .await
        .unwrap();
    let mut bob2 = bob.clone();
    bob2.rename("Robert").unwrap();
    uow.workers().add(bob2).await.unwrap();
    let mut uow = uow;
    uow.commit().await.unwrap();

    let mut conn = db.engine.connect().await.unwrap();
    let names: Vec<String> = conn
        .execute(&text("SELECT name FROM worker ORDER BY id"))
        .await
        .unwrap()
        .all()
        .iter()
        .map(|r| r.get::<String, _>("name").unwrap())
        .collect();
    assert_eq!(names, ["Anna", "Robert"], "updated, never inserted twice");
    conn.commit().await.unwrap();
    drop(conn);
    let worker: Worker = session.get(id).await.unwrap().unwrap();
    assert_eq!(worker.name, "Anna");
    drop((session, uow));
    db.close().await;
}

/// A value the codec cannot read is `Error::Codec` naming the struct, the
/// field, the column and the value's kind; the session stays usable.
async fn codec_failures_are_typed_errors(db: TestDb) {
    let sessions = seeded(&db).await;
    let mut conn = db.engine.connect().await.unwrap();
    conn.execute(&text(
        "UPDATE resume SET skills = '{\"not\": \"a list\"}' WHERE title = 'DBA'",
    ))
    .await
    .unwrap();
    conn.commit().await.unwrap();
    drop(conn);
    let mut session = sessions.session();
    let err = session
        .scalars(orm::select::<Resume>().where_(resume::title.eq("DBA")))
        .await
        .unwrap_err();
    match &err {
        Error::Codec {
            type_name,
            field,
            column,
            value_type,
            message,
        } => {
            assert!(type_name.ends_with("Resume"), "{err}");
            assert_eq!((*field, column.as_str()), ("skills", "skills"));
            assert!(value_type.is_some(), "{err}");
            assert!(message.contains("JSON"), "{err}");
        }
        other => panic!("expected a codec error, got {other:?}"),
    }
    assert!(err.to_string().contains("Resume.skills"), "{err}");
    // The session still works (the row is skipped by the next query).
    let others = session
        .scalars(orm::select::<Resume>().where_(resume::title.ne("DBA")))
        .await
        .unwrap()
        .all();
    assert_eq!(others.len(), 1);
    session.rollback().await.unwrap();

    // An enum value the codec does not know, in a text column.
    #[derive(Debug, Clone)]
    struct Shift {
        id: i64,
        load: Workload,
    }
    let table = Table::new("shift")
        .column(
            Column::new("id", SqlType::BigInteger)
                .primary_key()
                .autoincrement(false),
        )
        .column(Column::new("workload", SqlType::string(20)).not_null());
    let mut registry = Registry::new();
    registry
        .map_imperatively(
            &table,
            mapping!(Shift {
                id: i64 = "id",
                load: Workload[WORKLOAD] = "workload"
            }),
        )
        .finish();
    let mappers = registry.configure().unwrap();
    let mut conn = db.engine.connect().await.unwrap();
    mappers.metadata().create_all(&mut conn).await.unwrap();
    conn.execute(&text(
        "INSERT INTO shift (id, workload) VALUES (1, 'contract')",
    ))
    .await
    .unwrap();
    conn.commit().await.unwrap();
    drop(conn);
    let shifts = SessionMaker::new(db.engine.clone(), mappers);
    let mut s = shifts.session();
    let err = s.get::<Shift>(1_i64).await.unwrap_err();
    assert!(
        matches!(&err, Error::Codec { field: "load", value_type: Some("string"), message, .. }
            if message.contains("`contract` is not a value of enum `workload`")),
        "{err:?}"
    );
    drop(s);

    // Writing a value out of its column's range (an `i64` field on an
    // INTEGER column) is refused before any SQL, and nothing is staged.
    #[derive(Debug, Clone)]
    struct Counter {
        id: i64,
        n: i64,
    }
    let table = Table::new("counter")
        .column(
            Column::new("id", SqlType::BigInteger)
                .primary_key()
                .autoincrement(false),
        )
        .column(Column::new("n", SqlType::Integer).not_null());
    let mut registry = Registry::new();
    registry
        .map_imperatively(
            &table,
            mapping!(Counter {
                id: i64 = "id",
                n: i64 = "n"
            }),
        )
        .finish();
    let mappers = registry.configure().unwrap();
    let mut conn = db.engine.connect().await.unwrap();
    mappers.metadata().create_all(&mut conn).await.unwrap();
    conn.commit().await.unwrap();
    drop(conn);
    let counters = SessionMaker::new(db.engine.clone(), mappers);
    let mut s = counters.session();
    let mut huge = Counter { id: 1, n: 1 << 40 };
    let err = s.add(&mut huge).await.unwrap_err();
    assert!(
        matches!(&err, Error::Codec { field: "n", column, value_type: Some("bigint"), .. } if column == "n"),
        "{err:?}"
    );
    assert!(!s.is_dirty(), "nothing staged");
    let mut fine = Counter { id: 1, n: 7 };
    s.add(&mut fine).await.unwrap();
    s.commit().await.unwrap();
    let back: Counter = s.get(1_i64).await.unwrap().unwrap();
    assert_eq!(back.n, 7);
    drop((session, s));
    db.close().await;
}

/// A value object over two columns.
#[derive(Debug, Clone, PartialEq)]
struct Money {
    cents: i64,
    currency: String,
}

/// An entity with a composite and an optional composite.
#[derive(Debug, Clone, PartialEq)]
struct Offer {
    id: Option<i64>,
    price: Money,
    discount: Option<Money>,
}

persistence::model!(mod offer for Offer in "offer" {
    id: Option<i64> = presets::intpk,
    price: Money [codec::composite(|m: &Money| (m.cents, m.currency.clone()), |(cents, currency)| Money { cents, currency })] {
        price_cents: i64,
        price_currency: String = |c| c.of_type(SqlType::string(3)),
    },
    discount: Option<Money> [codec::composite(|m: &Money| (m.cents, m.currency.clone()), |(cents, currency)| Money { cents, currency }).optional()] {
        discount_cents: i64,
        discount_currency: String = |c| c.of_type(SqlType::string(3)),
    },
});

/// One value object over several columns (`composite`), optional or not,
/// declared with `model!`.
async fn composites_round_trip(db: TestDb) {
    let mut registry = Registry::new();
    registry.map(offer::model()).finish();
    let mappers = registry.configure().unwrap();
    let table = mappers.metadata().table("offer").unwrap().clone();
    assert!(!table.get_column("price_cents").unwrap().is_nullable());
    assert!(table.get_column("discount_cents").unwrap().is_nullable());
    let mut conn = db.engine.connect().await.unwrap();
    mappers.metadata().create_all(&mut conn).await.unwrap();
    conn.commit().await.unwrap();
    drop(conn);
    let sessions = SessionMaker::new(db.engine.clone(), mappers);
    let mut session = sessions.session();
    let eur = |cents| Money {
        cents,
        currency: "EUR".into(),
    };
    let mut a = Offer {
        id: None,
        price: eur(995),
        discount: None,
    };
    let mut b = Offer {
        id: None,
        price: eur(2000),
        discount: Some(eur(500)),
    };
    session.add_all([&mut a, &mut b]).await.unwrap();
    session.commit().await.unwrap();
    let cheap = session
        .scalars(orm::select::<Offer>().where_(offer::price_cents.lt(1000_i64)))
        .await
        .unwrap()
        .all();
    assert_eq!(cheap, [a.clone()]);
    let back: Offer = session.get(b.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(back, b);
    b.discount = None;
    session.add(&mut b).await.unwrap();
    session.commit().await.unwrap();
    let back: Offer = session.get(b.id.unwrap()).await.unwrap().unwrap();
    assert_eq!(back.discount, None);
    drop(session);
    db.close().await;
}

on_all_backends!(
    unchanged_objects_cost_no_statements,
    integer_widths_round_trip_with_a_noop_dirty_check,
    value_objects_round_trip,
    a_changed_struct_added_again_updates_its_row,
    codec_failures_are_typed_errors,
    composites_round_trip
);

/// The configure error of mapping `field: $field` onto a column `$col`.
macro_rules! lossy {
    ($col:expr, $nullable:expr, $field:ty) => {{
        #[derive(Debug, Clone)]
        struct L {
            id: i64,
            v: $field,
        }
        let table = Table::new("lossy")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("v", $col).nullable($nullable));
        let mut registry = Registry::new();
        registry
            .map_imperatively(
                &table,
                mapping!(L {
                    id: i64 = "id",
                    v: $field = "v"
                }),
            )
            .finish();
        registry.configure().err()
    }};
}

#[test]
fn lossy_mappings_are_configure_errors_naming_struct_field_and_column() {
    use SqlType::{BigInteger as Big, Integer as Int, SmallInteger as Small};
    for err in [
        lossy!(Big, false, i32),
        lossy!(Int, false, i16),
        lossy!(Big, false, Option<i16>),
        lossy!(SqlType::Double, false, f32),
        lossy!(SqlType::Text, false, i64),
        lossy!(SqlType::Boolean, false, String),
        lossy!(Int, true, i64),
    ] {
        let err = err.expect("a lossy mapping is refused");
        let text = err.to_string();
        assert!(matches!(err, Error::Mapping { .. }), "{text}");
        assert!(text.contains("::L") && text.contains("`v`"), "{text}");
        assert!(text.contains("column `v`"), "{text}");
    }
    assert!(lossy!(Int, true, i64)
        .unwrap()
        .to_string()
        .contains("make the field an `Option`"));
    // Lossless widenings are fine.
    assert!(lossy!(Small, false, i64).is_none());
    assert!(lossy!(Int, false, Option<i64>).is_none());
    assert!(lossy!(SqlType::Float, false, f64).is_none());
    assert!(lossy!(SqlType::string(10), false, String).is_none());
    let _ = TestBackend::Sqlite;
}

#[derive(Debug, Clone)]
struct W {
    id: i64,
}

persistence::columns!(mod w_cols for W in "w" { id: i64, nmae: String });

#[test]
fn misuse_is_caught_at_configure() {
    let table = Table::new("w").column(Column::new("id", SqlType::BigInteger).primary_key());

    // A builder dropped without `.finish()`.
    let mut registry = Registry::new();
    let _ = registry.map_imperatively(&table, mapping!(W { id: i64 = "id" }));
    let err = registry.configure().unwrap_err().to_string();
    assert!(
        err.contains("::W") && err.contains("without `.finish()`"),
        "{err}"
    );

    // A typed handle that names a column the mapping does not have.
    let mut registry = Registry::new();
    registry
        .map_imperatively(&table, mapping!(W { id: i64 = "id" }))
        .handles(w_cols::COLUMNS)
        .finish();
    let err = registry.configure().unwrap_err().to_string();
    assert!(err.contains("nmae"), "{err}");

    // A foreign key to a table the registry does not have.
    #[derive(Debug, Clone)]
    struct C {
        id: i64,
        parent: i64,
    }
    let child = Table::new("c")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(
            Column::new("parent", SqlType::BigInteger)
                .not_null()
                .foreign_key("wrokers.id"),
        );
    let mut registry = Registry::new();
    registry
        .map_imperatively(
            &child,
            mapping!(C {
                id: i64 = "id",
                parent: i64 = "parent"
            }),
        )
        .finish();
    let err = registry.configure().unwrap_err().to_string();
    assert!(err.contains("wrokers"), "{err}");
    let _ = Value::Null;
    let _ = Tag::new("x");
}
