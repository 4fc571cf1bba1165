//! One backend under test: the engine and session maker, the raw
//! connections, the seeding of each workload (untimed) and the dispatch of
//! a timed sample to a side.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use persistence::orm::{Mappers, SessionMaker};
use persistence::{create_engine, Engine, SchemaExt};
use sqlx::ConnectOptions;

use crate::model::{mappers, Tables};
use crate::raw_sqlx::Raw;
use crate::workload::{Workload, ASSOC};
use crate::{core_side, orm_side, raw_rusqlite};

/// An implementation under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Core,
    Orm,
    Sqlx,
    Rusqlite,
}

impl Side {
    /// Every side, in the table's order.
    pub const ALL: [Side; 4] = [Side::Core, Side::Orm, Side::Sqlx, Side::Rusqlite];

    /// The side's column label.
    pub fn label(self) -> &'static str {
        match self {
            Side::Core => "Core",
            Side::Orm => "ORM",
            Side::Sqlx => "sqlx",
            Side::Rusqlite => "rusqlite",
        }
    }
}

pub struct Fixture {
    pub backend: &'static str,
    engine: Engine,
    sessions: SessionMaker,
    tables: Tables,
    raw: Raw,
    lite: Option<rusqlite::Connection>,
}

/// Creates the bench's tables afresh.
async fn create_schema(engine: &Engine, m: &Mappers) {
    let mut conn = engine.connect().await.expect("connect");
    m.metadata().drop_all(&mut conn).await.expect("drop_all");
    m.metadata()
        .create_all(&mut conn)
        .await
        .expect("create_all");
    conn.commit().await.expect("commit");
}

impl Fixture {
    /// SQLite in a file at `path` (WAL, `synchronous = NORMAL` on every
    /// side), with a raw sqlx and a rusqlite connection to it.
    pub async fn sqlite(path: &Path) -> Fixture {
        let _ = std::fs::remove_file(path);
        let base = format!("sqlite://{}?mode=rwc", path.display());
        let url = format!("{base}&journal_mode=wal&synchronous=normal");
        let engine = create_engine(&url).await.expect("SQLite engine");
        let tables = Tables::new();
        let m = mappers(&tables);
        create_schema(&engine, &m).await;
        let raw = sqlx::sqlite::SqliteConnectOptions::from_str(&base)
            .expect("SQLite URL")
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .log_statements(tracing::log::LevelFilter::Off)
            .connect()
            .await
            .expect("raw SQLite connection");
        Fixture {
            backend: "SQLite",
            sessions: SessionMaker::new(engine.clone(), m),
            engine,
            tables,
            raw: Raw::Sqlite(raw),
            lite: Some(raw_rusqlite::open(path)),
        }
    }

    /// PostgreSQL at `url`, with a raw sqlx connection.
    pub async fn postgres(url: &str) -> Fixture {
        let engine = create_engine(url).await.expect("PostgreSQL engine");
        let tables = Tables::new();
        let m = mappers(&tables);
        create_schema(&engine, &m).await;
        let raw = sqlx::postgres::PgConnectOptions::from_str(url)
            .expect("PostgreSQL URL")
            .log_statements(tracing::log::LevelFilter::Off)
            .connect()
            .await
            .expect("raw PostgreSQL connection");
        Fixture {
            backend: "PostgreSQL",
            sessions: SessionMaker::new(engine.clone(), m),
            engine,
            tables,
            raw: Raw::Postgres(raw),
            lite: None,
        }
    }

    /// The sides that run on this backend.
    pub fn sides(&self) -> Vec<Side> {
        Side::ALL
            .into_iter()
            .filter(|s| *s != Side::Rusqlite || self.lite.is_some())
            .collect()
    }

    /// Inserts `rows` (SQL tuples) into `table (columns)`, 1000 a statement.
    async fn fill(&mut self, table: &str, columns: &str, rows: impl Iterator<Item = String>) {
        let rows: Vec<String> = rows.collect();
        for part in rows.chunks(1000) {
            let sql = format!("INSERT INTO {table} ({columns}) VALUES {}", part.join(", "));
            self.raw.exec(&sql).await;
        }
    }

    async fn clear(&mut self, tables: &[&str]) {
        for t in tables {
            self.raw.exec(&format!("DELETE FROM {t}")).await;
        }
    }

    /// Seeds the data `w` reads (untimed, once per workload).
    pub async fn setup(&mut self, w: Workload) {
        match w {
            Workload::Select(n) | Workload::Get(n) => {
                self.clear(&["bench_item"]).await;
                self.fill(
                    "bench_item",
                    "id, name, n",
                    (1..=n).map(|i| format!("({i}, 'item {i}', {i})")),
                )
                .await;
            }
            Workload::Join(n) => self.seed_users(n, 1, 0).await,
            Workload::Assoc => {
                let (u, p, c) = ASSOC;
                self.seed_users(u, p, c).await;
            }
            Workload::Insert(_) | Workload::InsertKeyed(_) | Workload::Bulk(_) => {}
        }
    }

    /// `users` users with `posts` posts each with `comments` comments each.
    async fn seed_users(&mut self, users: usize, posts: usize, comments: usize) {
        self.clear(&["bench_comment", "bench_post", "bench_user"])
            .await;
        self.fill(
            "bench_user",
            "id, name",
            (1..=users).map(|u| format!("({u}, 'user {u}')")),
        )
        .await;
        let rows =
            (1..=users * posts).map(|p| format!("({p}, {}, 'post {p}')", (p - 1) / posts + 1));
        self.fill("bench_post", "id, user_id, title", rows).await;
        let rows = (1..=users * posts * comments)
            .map(|c| format!("({c}, {}, 'comment {c}')", (c - 1) / comments + 1));
        self.fill("bench_comment", "id, post_id, body", rows).await;
    }

    /// Readies one sample of `w` (untimed): inserts start on an empty table.
    pub async fn prepare(&mut self, w: Workload) {
        if matches!(
            w,
            Workload::Insert(_) | Workload::InsertKeyed(_) | Workload::Bulk(_)
        ) {
            if self.lite.is_some() {
                self.clear(&["bench_item"]).await;
            } else {
                self.raw.exec("TRUNCATE bench_item").await;
            }
        }
    }

    /// One timed sample of `w` on `side`.
    pub async fn run(&mut self, side: Side, w: Workload) -> Duration {
        match side {
            // Behind `dyn`: never inlined here, so that a profiler finds
            // the Core side under `core_side::run` (one box per sample).
            Side::Core => {
                let run: std::pin::Pin<Box<dyn std::future::Future<Output = Duration> + '_>> =
                    Box::pin(core_side::run(&self.engine, &self.tables, w));
                run.await
            }
            Side::Orm => orm_side::run(&self.sessions, &self.tables, w).await,
            Side::Sqlx => self.raw.run(w).await,
            Side::Rusqlite => raw_rusqlite::run(self.lite.as_mut().expect("SQLite only"), w),
        }
    }

    pub async fn close(self) {
        self.engine.dispose().await;
    }
}
