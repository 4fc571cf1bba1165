//! The compiler's property test against real servers (issue 13): random
//! SELECTs over the seed's tables (`dialects::fixtures::random`, the
//! generator the dialect crate's property test compiles) run on SQLite,
//! PostgreSQL and MariaDB. What the compiler accepts, the server must
//! parse: the count of syntax errors is 0. Bounded in count and time.
//! Other server errors (none are expected from well-typed statements) are
//! counted and fail the test too, with the seed and SQL of each.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{finish, seeded};
use persistence::dialects::fixtures::random::random_select;
use persistence::Error;
use tests::{on_all_backends, TestDb};

/// How many statements, at most, and for how long.
const STATEMENTS: u64 = 3000;
const BUDGET: Duration = Duration::from_secs(60);

fn is_syntax_error(e: &Error) -> bool {
    match e {
        Error::Database { code, message, .. } => {
            code.as_deref() == Some("42601")
                || message.contains("syntax error")
                || message.contains("SQL syntax")
        }
        _ => false,
    }
}

async fn random_selects_parse_on_the_server(db: TestDb) {
    let (mut conn, s) = seeded(&db).await;
    let started = Instant::now();
    let (mut ran, mut rejected, mut rows) = (0u64, 0u64, 0usize);
    let mut syntax = Vec::new();
    let mut other = Vec::new();
    for seed in 0..STATEMENTS {
        if started.elapsed() > BUDGET {
            break;
        }
        let stmt = random_select(seed, &s);
        if stmt.compile(db.engine.dialect()).is_err() {
            // Refused by the compiler with a typed error: never sent.
            rejected += 1;
            continue;
        }
        ran += 1;
        match conn.execute(&stmt).await {
            Ok(r) => rows += r.all().len(),
            Err(e) => {
                let sql = stmt
                    .compile(db.engine.dialect())
                    .map(|c| c.sql)
                    .unwrap_or_default();
                if is_syntax_error(&e) {
                    syntax.push(format!("seed {seed}: {e}\n  {sql}"));
                } else {
                    other.push(format!("seed {seed}: {e}\n  {sql}"));
                }
                conn.rollback().await.unwrap();
            }
        }
    }
    eprintln!(
        "{:?}: {ran} statements run ({rows} rows), {rejected} refused by the compiler, \
         {} syntax errors, {} other errors, in {:?}",
        db.backend,
        syntax.len(),
        other.len(),
        started.elapsed()
    );
    assert!(ran >= 100, "too few statements ran: {ran}");
    assert!(syntax.is_empty(), "syntax errors:\n{}", syntax.join("\n"));
    assert!(other.is_empty(), "server errors:\n{}", other.join("\n"));
    conn.rollback().await.unwrap();
    finish(db, conn, s).await;
}

on_all_backends!(random_selects_parse_on_the_server);
