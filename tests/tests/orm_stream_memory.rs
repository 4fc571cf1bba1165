//! `Session::stream` runs in constant memory: measured with a counting
//! global allocator (`peak_alloc`) (bytes live, and the peak since a mark) while 20,000
//! objects of about 1 KiB each (some 20 MiB of rows) stream through, on
//! every backend; loading the same rows with `scalars` is the control
//! that shows the measurement sees a whole result. The tests of this
//! binary take one lock, so the count is theirs alone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::TryStreamExt;
use peak_alloc::PeakAlloc;
use persistence::dialects::{SqlType, Value};
use persistence::orm::{self, presets, Registry, SessionMaker};
use persistence::SchemaExt;
use tests::{on_all_backends, TestDb};

/// The system allocator, counting the bytes live and their peak.
#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// Starts a measurement: the peak from now on, over what is live now.
fn mark() -> usize {
    ALLOCATOR.reset_peak_usage();
    ALLOCATOR.current_usage()
}

/// How far the live bytes rose above `base` since [`mark`].
fn rise(base: usize) -> usize {
    ALLOCATOR.peak_usage().saturating_sub(base)
}

/// One measurement at a time in this binary.
static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[derive(Debug, Clone)]
struct Doc {
    id: Option<i64>,
    body: String,
}

persistence::model!(mod doc for Doc in "stream_doc" {
    id: Option<i64> = presets::intpk,
    body: String = |c| c.of_type(SqlType::Text),
});

const ROWS: usize = 20_000;
const BODY: usize = 1_000;
const MIB: usize = 1 << 20;

async fn streaming_keeps_memory_flat(db: TestDb) {
    let _one = LOCK.lock().await;
    let mut registry = Registry::new();
    registry.map(doc::model()).finish();
    let mappers = registry.configure().unwrap();
    let mut conn = db.engine.connect().await.unwrap();
    mappers.metadata().drop_all(&mut conn).await.unwrap();
    mappers.metadata().create_all(&mut conn).await.unwrap();
    conn.commit().await.unwrap();
    drop(conn);
    let sessions = SessionMaker::new(db.engine.clone(), mappers);
    let mut session = sessions.session();
    let body = |i: usize| format!("{i:08}{}", "x".repeat(BODY - 8));
    for chunk in (0..ROWS).collect::<Vec<_>>().chunks(2_000) {
        session
            .execute_insert(
                orm::insert::<Doc>().rows(chunk.iter().map(|&i| [("body", Value::from(body(i)))])),
            )
            .await
            .unwrap();
    }
    session.commit().await.unwrap();

    // Streamed: each object checked and dropped before the next.
    let base = mark();
    let (mut count, mut bytes) = (0usize, 0usize);
    {
        let mut docs = session
            .stream(orm::select::<Doc>().order_by([doc::id.asc()]))
            .await
            .unwrap();
        while let Some(d) = docs.try_next().await.unwrap() {
            assert_eq!(&d.body[..8], format!("{count:08}"));
            assert!(d.id.is_some());
            bytes += d.body.len();
            count += 1;
        }
    }
    let streamed = rise(base);
    assert_eq!((count, bytes), (ROWS, ROWS * BODY));
    assert_eq!(session.identity_count(), 0);
    session.commit().await.unwrap();

    // The control: the same rows loaded at once.
    let base = mark();
    let all = session.scalars(orm::select::<Doc>()).await.unwrap().all();
    let loaded = rise(base);
    assert_eq!(all.len(), ROWS);
    drop(all);
    session.commit().await.unwrap();
    eprintln!(
        "{:?}: streaming {ROWS} rows rose {} KiB; loading them rose {} KiB",
        db.backend,
        streamed / 1024,
        loaded / 1024
    );
    assert!(
        loaded > 15 * MIB,
        "the control sees the whole result: {loaded} bytes"
    );
    assert!(
        streamed < 4 * MIB,
        "streaming {} MiB of rows rose {streamed} bytes",
        ROWS * BODY / MIB
    );
    drop(session);
    db.close().await;
}

on_all_backends!(streaming_keeps_memory_flat);
