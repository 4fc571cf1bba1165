//! `migrate generate`: the mapping declarations printed for the example's
//! tables, reflected from SQLite, are the committed snapshot
//! `generated/app_example.rs`, which this test crate compiles: the test
//! fails when the generator's output stops matching it or stops compiling.
//! (`UPDATE_SNAPSHOTS=1` rewrites the snapshot from the generator.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "generated/app_example.rs"]
mod generated;

use migrate::generate::generate;
use migrate::reflect::ReflectExt;
use persistence::dialects::{MetaData, Sqlite};
use persistence::SchemaExt;
use tests::{TestBackend, TestDb};

const SNAPSHOT: &str = "tests/generated/app_example.rs";

async fn example_database() -> TestDb {
    let db = TestDb::new(TestBackend::Sqlite, "generate").await;
    let mappers = app_example::mapping::start_mappers().unwrap();
    let mut conn = db.engine.connect().await.unwrap();
    mappers.metadata().create_all(&mut conn).await.unwrap();
    db
}

#[tokio::test]
async fn generated_mapping_matches_the_compiled_snapshot() {
    let db = example_database().await;
    let mut conn = db.engine.connect().await.unwrap();
    let code = generate(&MetaData::reflect(&mut conn).await.unwrap());
    conn.commit().await.unwrap();
    drop(conn);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SNAPSHOT);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &code).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        code, committed,
        "the generator's output changed: check it, then rerun with UPDATE_SNAPSHOTS=1"
    );
    db.close().await;
}

#[tokio::test]
async fn the_generated_mapping_describes_the_database_exactly() {
    let db = example_database().await;
    let mappers = generated::start_mappers().unwrap();
    let mut conn = db.engine.connect().await.unwrap();
    let reflected = MetaData::reflect(&mut conn).await.unwrap();
    let diff = migrate::compare(mappers.metadata(), &reflected, &Sqlite);
    assert!(diff.is_empty(), "{:#?}", diff.describe());
    // And it maps rows: a worker written through the generated table.
    let worker = generated::worker::table();
    conn.execute(&persistence::dialects::insert(&worker).values([("name", "Vlad")]))
        .await
        .unwrap();
    let by_name = generated::worker::name.eq("Vlad");
    let rows = conn
        .execute(&persistence::dialects::select(&worker).where_(by_name))
        .await
        .unwrap()
        .all();
    assert_eq!(rows.len(), 1);
    conn.commit().await.unwrap();
    drop(conn);
    db.close().await;
}
