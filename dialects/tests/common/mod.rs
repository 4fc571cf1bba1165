//! Shared fixture for the dialect tests: the seed's tables (worker, resume,
//! publisher, post, tag and its association table) and assertion helpers
//! that compile one statement for every dialect.

#![allow(dead_code)]

use dialects::{
    func, Column, CompileError, Compiled, Dialect, MetaData, MySql, Postgres, ReferentialAction,
    SqlType, Sqlite, Statement, Table, Value,
};

/// The seed's tables, registered in one `MetaData`.
pub struct Fixture {
    pub metadata: MetaData,
    pub worker: Table,
    pub resume: Table,
    pub publisher: Table,
    pub post: Table,
    pub tag: Table,
    pub post_tag: Table,
}

/// `worker(id, name)`, `resume(..., worker_id -> worker.id ON DELETE
/// CASCADE)`, `publisher(id, name)`, `post(..., publisher_id ->
/// publisher.id)`, `tag(id, name)`, `post_tag(post_id, tag_id)`.
pub fn fixture() -> Fixture {
    let mut metadata = MetaData::new();
    let worker = metadata.add(
        Table::new("worker")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("name", SqlType::string(256)).not_null()),
    );
    let resume = metadata.add(
        Table::new("resume")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("title", SqlType::string(256)).not_null())
            .column(Column::new("compensation", SqlType::Integer))
            .column(
                Column::new(
                    "workload",
                    SqlType::enumeration("workload", ["parttime", "fulltime"]),
                )
                .not_null(),
            )
            .column(
                Column::new("worker_id", SqlType::Integer)
                    .not_null()
                    .foreign_key("worker.id")
                    .on_delete(ReferentialAction::Cascade),
            )
            .column(
                Column::new("created_at", SqlType::DateTime { timezone: false })
                    .server_default(func::utc_now()),
            )
            .column(
                Column::new("updated_at", SqlType::DateTime { timezone: false })
                    .server_default(func::utc_now()),
            ),
    );
    let publisher = metadata.add(
        Table::new("publisher")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(
                Column::new("name", SqlType::string(100))
                    .not_null()
                    .unique(),
            ),
    );
    let post = metadata.add(
        Table::new("post")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("title", SqlType::Text).not_null())
            .column(
                Column::new("created_at", SqlType::DateTime { timezone: false })
                    .server_default(func::utc_now()),
            )
            .column(Column::new("draft", SqlType::Boolean).default(true))
            .column(
                Column::new("publisher_id", SqlType::Integer)
                    .foreign_key("publisher.id")
                    .on_delete(ReferentialAction::SetNull),
            ),
    );
    let tag = metadata.add(
        Table::new("tag")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("name", SqlType::string(50)).not_null()),
    );
    let post_tag = metadata.add(
        Table::new("post_tag")
            .column(
                Column::new("post_id", SqlType::Integer)
                    .primary_key()
                    .foreign_key("post.id")
                    .on_delete(ReferentialAction::Cascade),
            )
            .column(
                Column::new("tag_id", SqlType::Integer)
                    .primary_key()
                    .foreign_key("tag.id")
                    .on_delete(ReferentialAction::Cascade),
            ),
    );
    Fixture {
        metadata,
        worker,
        resume,
        publisher,
        post,
        tag,
        post_tag,
    }
}

/// Compiles `stmt` for `dialect`, panicking with the error.
pub fn compile(stmt: &dyn Statement, dialect: &dyn Dialect) -> Compiled {
    match stmt.compile(dialect) {
        Ok(c) => c,
        Err(e) => panic!("compiling for {} failed: {e}", dialect.name()),
    }
}

fn assert_one(stmt: &dyn Statement, dialect: &dyn Dialect, sql: &str, params: &[Value]) {
    let c = compile(stmt, dialect);
    assert_eq!(c.sql, sql, "SQL for {}", dialect.name());
    assert_eq!(c.params, params, "params for {}", dialect.name());
}

/// Asserts the exact SQL for PostgreSQL, SQLite and MySQL (MariaDB must
/// give the same as MySQL), each with the same `params`.
pub fn check(stmt: &dyn Statement, pg: &str, sqlite: &str, mysql: &str, params: &[Value]) {
    assert_one(stmt, &Postgres, pg, params);
    assert_one(stmt, &Sqlite, sqlite, params);
    assert_one(stmt, &MySql::default(), mysql, params);
    assert_one(stmt, &MySql::mariadb(), mysql, params);
}

/// Like [`check`], with MariaDB's SQL given apart from MySQL's.
pub fn check_mariadb(
    stmt: &dyn Statement,
    pg: &str,
    sqlite: &str,
    mysql: &str,
    mariadb: &str,
    params: &[Value],
) {
    assert_one(stmt, &Postgres, pg, params);
    assert_one(stmt, &Sqlite, sqlite, params);
    assert_one(stmt, &MySql::default(), mysql, params);
    assert_one(stmt, &MySql::mariadb(), mariadb, params);
}

/// Asserts the SQL and params for one dialect.
pub fn check_one(stmt: &dyn Statement, dialect: &dyn Dialect, sql: &str, params: &[Value]) {
    assert_one(stmt, dialect, sql, params);
}

/// Asserts that `stmt` is `CompileError::Unsupported` naming `construct`
/// (and the dialect) on `dialect`.
pub fn assert_unsupported(stmt: &dyn Statement, dialect: &dyn Dialect, construct: &str) {
    match stmt.compile(dialect) {
        Err(
            err @ CompileError::Unsupported {
                dialect: name,
                construct: what,
            },
        ) => {
            assert_eq!(name, dialect.name());
            assert_eq!(what, construct);
            assert_eq!(
                err.to_string(),
                format!("dialect `{}` does not support {construct}", dialect.name())
            );
        }
        other => panic!(
            "expected {construct} to be unsupported on {}, got {other:?}",
            dialect.name()
        ),
    }
}

/// The error compiling `stmt` for `dialect`.
pub fn compile_err(stmt: &dyn Statement, dialect: &dyn Dialect) -> CompileError {
    match stmt.compile(dialect) {
        Ok(c) => panic!("expected an error on {}, got {c}", dialect.name()),
        Err(e) => e,
    }
}

/// Shorthand for a bound string.
pub fn s(v: &str) -> Value {
    Value::from(v)
}

/// Shorthand for a bound `i32`.
pub fn i(v: i32) -> Value {
    Value::Int(v)
}

/// Shorthand for a bound `i64` (LIMIT / OFFSET are bound as these).
pub fn big(v: i64) -> Value {
    Value::BigInt(v)
}
