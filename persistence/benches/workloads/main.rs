//! The issue-15 workloads for Core, the ORM, raw sqlx and (on SQLite) raw
//! rusqlite, on SQLite and PostgreSQL, interleaved, with a ratio table.
//!
//! Workloads: select of 1 / 100 / 10k rows; a user–post join of
//! 1 / 100 / 1000 users with one post each (the ORM with `joinedload`);
//! associations of 100 users × 10 posts × 10 comments (`selectinload`, one
//! query per level); insert of 1 / 100 / 1000 rows (ids read back, each
//! its own transaction); insert of 1 row whose key the application gives
//! (the ORM's commit is then one statement); a bulk insert of 100k rows; 10k gets by primary
//! key in one transaction. See each side's module for what it does.
//!
//! For each workload every side runs once per repetition, the sides in a
//! rotating order, so that all see the same machine load; the table shows
//! each side's median and the ratios to raw sqlx and, on SQLite, to raw
//! rusqlite. Cases of a single row repeat 20 times inside a sample.
//!
//! ```text
//! . /tmp/main-env.sh   # TEST_POSTGRES_URL (PostgreSQL is skipped without it)
//! cargo bench -p persistence --bench workloads
//! BENCH_QUICK=1 cargo bench -p persistence --bench workloads
//! ```
//!
//! Pin it (`taskset -c N`) only to a CPU the PostgreSQL server does not
//! run on: sharing one inflates the PostgreSQL ratios.
//!
//! `BENCH_QUICK=1` runs fewer repetitions, a 10k bulk insert and 1k gets;
//! `BENCH_REPS=n` sets the repetitions; `BENCH_BACKENDS=SQLite,PostgreSQL`
//! and `BENCH_CASES=select,join,assoc,insert,bulk,get` narrow a run (by
//! prefix of the case names).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod core_side;
mod fixture;
mod model;
mod orm_side;
mod raw_rusqlite;
mod raw_sqlx;
mod sql;
mod workload;

use std::time::Duration;

use fixture::{Fixture, Side};
use workload::Workload;

/// Whether `name` is in the comma-separated list `var` (or `var` is unset).
fn wanted(var: &str, name: &str) -> bool {
    match std::env::var(var) {
        Ok(list) if !list.is_empty() => list.split(',').any(|s| name.starts_with(s.trim())),
        _ => true,
    }
}

/// The median of `samples`.
fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// One workload's medians, by side (in `Side::ALL` order; `None` when the
/// side does not run on the backend).
struct Line {
    name: String,
    medians: Vec<Option<Duration>>,
}

async fn run_backend(fx: &mut Fixture, quick: bool) -> Vec<Line> {
    let sides = fx.sides();
    let mut lines = Vec::new();
    for w in Workload::all(quick) {
        if !wanted("BENCH_CASES", &w.name()) {
            continue;
        }
        fx.setup(w).await;
        let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); sides.len()];
        for rep in 0..w.reps(quick) {
            for k in 0..sides.len() {
                let i = (rep + k) % sides.len();
                fx.prepare(w).await;
                samples[i].push(fx.run(sides[i], w).await);
            }
        }
        let medians = Side::ALL
            .iter()
            .map(|s| {
                sides
                    .iter()
                    .position(|x| x == s)
                    .map(|i| median(samples[i].clone()))
            })
            .collect();
        let line = Line {
            name: w.name(),
            medians,
        };
        print_progress(fx.backend, &line);
        lines.push(line);
    }
    lines
}

fn show(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".to_owned(), |d| format!("{d:.2?}"))
}

fn ratio(a: Option<Duration>, b: Option<Duration>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}", a.as_secs_f64() / b.as_secs_f64()),
        _ => "-".to_owned(),
    }
}

fn print_progress(backend: &str, line: &Line) {
    let cells: Vec<String> = Side::ALL
        .iter()
        .zip(&line.medians)
        .filter(|(_, m)| m.is_some())
        .map(|(s, m)| format!("{} {}", s.label(), show(*m)))
        .collect();
    eprintln!("{backend:<10} {:<18} {}", line.name, cells.join("  "));
}

/// The ratio table of one backend (markdown).
fn print_table(backend: &str, lines: &[Line], rusqlite: bool) {
    println!("\n### {backend}\n");
    let mut head = "| workload | Core | ORM | sqlx |".to_owned();
    let mut rule = "|---|---:|---:|---:|".to_owned();
    if rusqlite {
        head.push_str(" rusqlite |");
        rule.push_str("---:|");
    }
    head.push_str(" Core/sqlx | ORM/sqlx |");
    rule.push_str("---:|---:|");
    if rusqlite {
        head.push_str(" Core/rusqlite | ORM/rusqlite | sqlx/rusqlite |");
        rule.push_str("---:|---:|---:|");
    }
    println!("{head}\n{rule}");
    for l in lines {
        let [core, orm, sqlx, lite] = [l.medians[0], l.medians[1], l.medians[2], l.medians[3]];
        let mut row = format!(
            "| {} | {} | {} | {} |",
            l.name,
            show(core),
            show(orm),
            show(sqlx)
        );
        if rusqlite {
            row.push_str(&format!(" {} |", show(lite)));
        }
        row.push_str(&format!(" {} | {} |", ratio(core, sqlx), ratio(orm, sqlx)));
        if rusqlite {
            row.push_str(&format!(
                " {} | {} | {} |",
                ratio(core, lite),
                ratio(orm, lite),
                ratio(sqlx, lite)
            ));
        }
        println!("{row}");
    }
}

fn main() {
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("bench_workloads_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let mut tables = Vec::new();
    if wanted("BENCH_BACKENDS", "SQLite") {
        let mut fx = rt.block_on(Fixture::sqlite(&dir.join("bench.db")));
        tables.push(("SQLite", rt.block_on(run_backend(&mut fx, quick)), true));
        rt.block_on(fx.close());
    }
    if wanted("BENCH_BACKENDS", "PostgreSQL") {
        match std::env::var("TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => {
                let mut fx = rt.block_on(Fixture::postgres(&url));
                tables.push((
                    "PostgreSQL",
                    rt.block_on(run_backend(&mut fx, quick)),
                    false,
                ));
                rt.block_on(fx.close());
            }
            _ => println!("PostgreSQL: skipped (TEST_POSTGRES_URL is not set)"),
        }
    }
    let mode = if quick { "quick" } else { "full" };
    println!("\nMedians per workload ({mode} run; ratios < 1 are faster than the baseline).");
    for (backend, lines, rusqlite) in &tables {
        print_table(backend, lines, *rusqlite);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
