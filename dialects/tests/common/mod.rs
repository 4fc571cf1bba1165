//! Shared fixture for the dialect tests: the seed's tables (worker, resume,
//! publisher, post, tag and its association table, from
//! `dialects::fixtures`) and assertion helpers that compile one statement
//! for every dialect.

#![allow(dead_code)]

use dialects::{CompileError, Compiled, Dialect, MySql, Postgres, Sqlite, Statement, Value};

/// The seed's tables (`dialects::fixtures::seed`, shared with the
/// integration tests), under the name these tests use.
#[allow(unused_imports)]
pub use dialects::fixtures::seed as fixture;

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
