//! Shared fixture for the `core_*` integration tests: the seed's tables
//! (worker, resume, publisher, post, tag, post_tag, from
//! `dialects::fixtures`) plus a category tree, seed rows, and helpers that
//! read typed columns out of result rows.

#![allow(dead_code)]

use dialects::fixtures;
use persistence::dialects::{
    insert, Column, CompileError, ReferentialAction, SqlType, Statement, Table, Value,
};
use persistence::{Connection, Error, QueryResult, Row, SchemaExt};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use tests::{TestBackend, TestDb};

/// Text that breaks naive quoting: quotes, semicolons, backslashes, LIKE
/// wildcards and characters outside ASCII.
pub const TRICKY: [&str; 7] = [
    "O'Brien",
    "say \"hi\"; DROP TABLE worker; --",
    "C:\\temp\\new",
    "back\\'slash quote",
    "Zoë Ångström 漢字 🙂",
    "'; SELECT 1; --\\",
    "50%_off",
];

/// The seed's tables (`dialects::fixtures`: worker, resume, publisher,
/// post, tag, post_tag) plus a self-referencing `category(id, name,
/// parent_id)`, all registered in one `MetaData`. The seed's tables are
/// reached through `Deref` (`seed.worker`, `seed.metadata`).
pub struct Seed {
    tables: fixtures::Seed,
    pub category: Table,
}

impl std::ops::Deref for Seed {
    type Target = fixtures::Seed;

    fn deref(&self) -> &fixtures::Seed {
        &self.tables
    }
}

/// The seed's tables and `category`.
pub fn tables() -> Seed {
    let mut tables = fixtures::seed();
    let category = tables.metadata.add(
        Table::new("category")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("name", SqlType::string(50)).not_null())
            .column(
                Column::new("parent_id", SqlType::Integer)
                    .foreign_key("category.id")
                    .on_delete(ReferentialAction::Cascade),
            ),
    );
    Seed { tables, category }
}

/// The workers: Dana has no resume.
pub const WORKERS: [(i32, &str); 4] = [(1, "Vlad"), (2, "Ann"), (3, "Bob"), (4, "Dana")];

/// `(id, title, compensation, workload, worker_id)`. Part-time pay averages
/// exactly 1501; full-time pay averages 3550.5 (rounded to 3551 by
/// PostgreSQL's and MariaDB's casts, truncated to 3550 by SQLite's); the
/// intern has no pay.
pub const RESUMES: [(i32, &str, Option<i32>, &str, i32); 6] = [
    (1, "Rust dev", Some(1000), "parttime", 1),
    (2, "Go dev", Some(1500), "parttime", 2),
    (3, "Python dev", Some(2003), "parttime", 3),
    (4, "Lead", Some(3100), "fulltime", 1),
    (5, "Architect", Some(4001), "fulltime", 2),
    (6, "Intern", None, "fulltime", 3),
];

/// Publishers; No Starch has no post.
pub const PUBLISHERS: [(i32, &str); 3] = [(1, "Manning"), (2, "O'Reilly"), (3, "No Starch")];

/// `(id, title, draft, publisher_id)`; the orphan has no publisher.
pub const POSTS: [(i32, &str, bool, Option<i32>); 4] = [
    (1, "Rust in Action", false, Some(1)),
    (2, "Learning SQL", true, Some(2)),
    (3, "Orphan", true, None),
    (4, "Programming Rust", false, Some(2)),
];

/// Tags; nothing is tagged `unused`.
pub const TAGS: [(i32, &str); 3] = [(1, "rust"), (2, "sql"), (3, "unused")];

/// `(post_id, tag_id)`.
pub const POST_TAGS: [(i32, i32); 3] = [(1, 1), (2, 2), (4, 1)];

/// `(id, name, parent_id)`: root > books > {rust, sql}, root > music.
pub const CATEGORIES: [(i32, &str, Option<i32>); 5] = [
    (1, "root", None),
    (2, "books", Some(1)),
    (3, "rust", Some(2)),
    (4, "sql", Some(2)),
    (5, "music", Some(1)),
];

/// Creates the seed's tables (empty).
pub async fn empty(db: &TestDb) -> (Connection, Seed) {
    let seed = tables();
    let mut conn = db.engine.connect().await.unwrap();
    seed.metadata.create_all(&mut conn).await.unwrap();
    (conn, seed)
}

/// Creates the seed's tables and fills them with the rows above.
pub async fn seeded(db: &TestDb) -> (Connection, Seed) {
    let (mut conn, s) = empty(db).await;
    let workers = WORKERS.map(|(id, name)| vec![Value::from(id), Value::from(name)]);
    run(&mut conn, &insert(&s.worker).rows(["id", "name"], workers)).await;
    let resumes = RESUMES.map(|(id, title, pay, load, worker)| {
        vec![
            Value::from(id),
            Value::from(title),
            Value::from(pay),
            Value::from(load),
            Value::from(worker),
        ]
    });
    run(
        &mut conn,
        &insert(&s.resume).rows(
            ["id", "title", "compensation", "workload", "worker_id"],
            resumes,
        ),
    )
    .await;
    let publishers = PUBLISHERS.map(|(id, name)| vec![Value::from(id), Value::from(name)]);
    run(
        &mut conn,
        &insert(&s.publisher).rows(["id", "name"], publishers),
    )
    .await;
    let posts = POSTS.map(|(id, title, draft, publisher)| {
        vec![
            Value::from(id),
            Value::from(title),
            Value::from(draft),
            Value::from(publisher),
        ]
    });
    run(
        &mut conn,
        &insert(&s.post).rows(["id", "title", "draft", "publisher_id"], posts),
    )
    .await;
    let tags = TAGS.map(|(id, name)| vec![Value::from(id), Value::from(name)]);
    run(&mut conn, &insert(&s.tag).rows(["id", "name"], tags)).await;
    let links = POST_TAGS.map(|(p, t)| vec![Value::from(p), Value::from(t)]);
    run(
        &mut conn,
        &insert(&s.post_tag).rows(["post_id", "tag_id"], links),
    )
    .await;
    for (id, name, parent) in CATEGORIES {
        run(
            &mut conn,
            &insert(&s.category).values([
                ("id", Value::from(id)),
                ("name", Value::from(name)),
                ("parent_id", Value::from(parent)),
            ]),
        )
        .await;
    }
    if db.backend == TestBackend::Postgres {
        // Explicit ids leave the SERIAL sequences behind; move them on so
        // that inserts without an id get fresh ones.
        for t in ["worker", "resume", "publisher", "post", "tag", "category"] {
            let sql = format!("SELECT setval(pg_get_serial_sequence('{t}', 'id'), 100)");
            run(&mut conn, &persistence::dialects::text(&sql)).await;
        }
    }
    // The seed is committed: a test's failing statement (and the rollback
    // it needs on PostgreSQL) leaves it in place.
    conn.commit().await.unwrap();
    (conn, s)
}

/// Runs `stmt`, panicking with the compiled SQL on failure.
pub async fn run<S: Statement + ?Sized>(conn: &mut Connection, stmt: &S) -> QueryResult {
    match conn.execute(stmt).await {
        Ok(r) => r,
        Err(e) => {
            let sql = conn
                .compile(stmt)
                .map_or_else(|e| format!("<{e}>"), |c| c.to_string());
            panic!("statement failed: {e}\n  SQL: {sql}")
        }
    }
}

/// Runs a query and returns its rows.
pub async fn rows<S: Statement + ?Sized>(conn: &mut Connection, stmt: &S) -> Vec<Row> {
    run(conn, stmt).await.all()
}

/// An integer of any width; a whole decimal, double or numeric text too
/// (MariaDB's `sum()` is DECIMAL, SQLite's numeric text arrives as text).
/// `None` for NULL.
pub fn int_value(v: &Value) -> Option<i64> {
    match v {
        Value::Null => None,
        Value::Decimal(d) => {
            assert!(d.fract().is_zero(), "not a whole number: {d}");
            Some(d.to_i64().expect("decimal fits in i64"))
        }
        #[allow(clippy::cast_possible_truncation)]
        Value::Double(f) => {
            assert!(f.fract() == 0.0, "not a whole number: {f}");
            Some(*f as i64)
        }
        Value::String(s) => Some(s.parse().expect("integer text")),
        other => Some(
            other
                .as_i64()
                .unwrap_or_else(|| panic!("not an integer: {other:?}")),
        ),
    }
}

/// A number of any kind as `f64`; `None` for NULL.
pub fn num_value(v: &Value) -> Option<f64> {
    match v {
        Value::Null => None,
        Value::Decimal(d) => d.to_f64(),
        Value::Double(f) => Some(*f),
        Value::Float(f) => Some(f64::from(*f)),
        Value::String(s) => Some(s.parse().expect("numeric text")),
        #[allow(clippy::cast_precision_loss)]
        other => Some(
            other
                .as_i64()
                .unwrap_or_else(|| panic!("not a number: {other:?}")) as f64,
        ),
    }
}

/// A whole number from a decimal text, for exact comparisons of averages.
pub fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal literal")
}

/// The integer in column `col` of `row` (NULL panics).
pub fn int<I: persistence::RowIndex>(row: &Row, col: I) -> i64 {
    opt_int(row, col).unwrap_or_else(|| panic!("NULL in {col} of {row}"))
}

/// The integer or NULL in column `col` of `row`.
pub fn opt_int<I: persistence::RowIndex>(row: &Row, col: I) -> Option<i64> {
    int_value(row.value(col).unwrap())
}

/// The text in column `col` of `row`.
pub fn text_of<I: persistence::RowIndex>(row: &Row, col: I) -> String {
    row.get::<String, _>(col).unwrap()
}

/// The text or NULL in column `col` of `row`.
pub fn opt_text<I: persistence::RowIndex>(row: &Row, col: I) -> Option<String> {
    row.get::<Option<String>, _>(col).unwrap()
}

/// Column `col` of every row, as integers.
pub fn ints<I: persistence::RowIndex>(rows: &[Row], col: I) -> Vec<i64> {
    rows.iter().map(|r| int(r, col)).collect()
}

/// Column `col` of every row, as integers or NULL.
pub fn opt_ints<I: persistence::RowIndex>(rows: &[Row], col: I) -> Vec<Option<i64>> {
    rows.iter().map(|r| opt_int(r, col)).collect()
}

/// Column `col` of every row, as text.
pub fn texts<I: persistence::RowIndex>(rows: &[Row], col: I) -> Vec<String> {
    rows.iter().map(|r| text_of(r, col)).collect()
}

/// Column `col` of every row, as text or NULL.
pub fn opt_texts<I: persistence::RowIndex>(rows: &[Row], col: I) -> Vec<Option<String>> {
    rows.iter().map(|r| opt_text(r, col)).collect()
}

/// Sorted copy.
pub fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// `Some(x)` for each `x`.
pub fn some<T: Clone>(v: &[T]) -> Vec<Option<T>> {
    v.iter().cloned().map(Some).collect()
}

/// Owned strings.
pub fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// The dialect name a backend's compiler reports.
pub fn dialect_name(db: &TestDb) -> &'static str {
    match db.backend {
        TestBackend::Sqlite => "sqlite",
        TestBackend::Postgres => "postgresql",
        TestBackend::MySql => "mariadb",
    }
}

/// Asserts that `result` is the typed compile error saying that this
/// backend does not support `construct`.
pub fn assert_unsupported<T: std::fmt::Debug>(
    db: &TestDb,
    result: Result<T, Error>,
    construct: &str,
) {
    match result {
        Err(Error::Compile(CompileError::Unsupported {
            dialect,
            construct: what,
        })) => {
            assert_eq!(dialect, dialect_name(db));
            assert_eq!(what, construct);
        }
        other => panic!(
            "expected {construct} to be unsupported on {:?}, got {other:?}",
            db.backend
        ),
    }
}

/// Drops the seed's tables and closes the test database.
pub async fn finish(db: TestDb, mut conn: Connection, seed: Seed) {
    seed.metadata.drop_all(&mut conn).await.unwrap();
    drop(conn);
    db.close().await;
}

/// Runs `stmt` in a savepoint, released when it succeeds and rolled back
/// to when it fails: a statement expected to fail leaves the connection's
/// transaction usable (PostgreSQL aborts a transaction at its first
/// failed statement otherwise).
pub async fn attempt<S: Statement + ?Sized>(
    conn: &mut Connection,
    stmt: &S,
) -> Result<QueryResult, Error> {
    let mut sp = conn.begin_nested().await?;
    let result = sp.execute(stmt).await;
    match &result {
        Ok(_) => sp.commit().await?,
        Err(_) => sp.rollback().await?,
    }
    result
}
