//! The command line: `migrate [--database-url URL] [--dir migrations] <command>`.
//!
//! | command | what it does |
//! |---|---|
//! | `revision -m MSG [--autogenerate]` | writes a new migration after the head (empty, or the mappings' difference from the database) |
//! | `upgrade [TARGET] [--sql]` | runs migrations up to `TARGET` (default `head`); `--sql` prints them instead (`FROM:TO` for a range, default from `base`) |
//! | `downgrade TARGET [--sql]` | runs downgrades down to `TARGET` (`base`, a revision, `-1`); `--sql` needs `FROM:TO` |
//! | `current` | prints the database's revision |
//! | `history` | lists the migrations, marking the current one |
//! | `stamp TARGET` | records `TARGET` as applied without running anything |
//! | `check` | exits 1 when the database differs from the mappings (for CI) |
//! | `generate [--table T]...` | prints `model!` declarations for the database's tables |
//!
//! The `migrate` binary has no mappings, so `revision --autogenerate` and
//! `check` need a project's own binary: one line,
//! `fn main() { migrate::cli::main_with(|| Ok(my_app::mapping::start_mappers()?.metadata().clone())) }`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use dialects::{Dialect, MetaData, MySql, Postgres, Sqlite};
use persistence::{create_engine, Backend, DatabaseUrl, Engine};

use crate::autogenerate::{autogenerate, check, write_revision};
use crate::error::MigrateError;
use crate::generate::generate;
use crate::reflect::ReflectExt;
use crate::revisions::Migrations;
use crate::runner;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "migrate",
    about = "Schema migrations: versioned upgrades and downgrades, autogenerate, check"
)]
pub struct Cli {
    /// Database URL (sqlite://file.db?mode=rwc, postgres://..., mysql://..., mariadb://...).
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// The folder of migration files.
    #[arg(long, default_value = "migrations", global = true)]
    pub dir: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a new migration file after the head.
    Revision {
        /// What it does, in a line.
        #[arg(short, long)]
        message: String,
        /// Fill it with the mappings' difference from the database.
        #[arg(long)]
        autogenerate: bool,
    },
    /// Upgrade to a revision (default: head).
    Upgrade {
        /// `head`, a revision or a unique prefix, `+N`; with --sql, `FROM:TO`.
        #[arg(default_value = "head")]
        target: String,
        /// Print the SQL instead of running it.
        #[arg(long)]
        sql: bool,
    },
    /// Downgrade to a revision.
    Downgrade {
        /// `base`, a revision or a unique prefix, `-N`; with --sql, `FROM:TO`.
        target: String,
        /// Print the SQL instead of running it.
        #[arg(long)]
        sql: bool,
    },
    /// Print the database's revision.
    Current,
    /// List the migrations.
    History,
    /// Record a revision as applied without running anything.
    Stamp {
        /// `head`, `base` or a revision.
        target: String,
    },
    /// Fail when the database differs from the mappings.
    Check,
    /// Print mapping declarations (`model!`) for the database's tables.
    Generate {
        /// Only these tables (default: all).
        #[arg(long = "table")]
        tables: Vec<String>,
    },
}

/// Runs `cli` with the mappings' schema (`None` when there are none) and
/// returns what it prints.
pub async fn run(cli: Cli, mappings: Option<MetaData>) -> Result<String, MigrateError> {
    let migrations = Migrations::from_dir(&cli.dir)?;
    let url = || {
        cli.database_url.clone().ok_or_else(|| {
            MigrateError::Invalid("no database: pass --database-url or set DATABASE_URL".into())
        })
    };
    let mut out = String::new();
    match cli.command {
        Command::Revision {
            message,
            autogenerate: auto,
        } => {
            let (upgrade, downgrade, dialect, notes) = if auto {
                let target = mappings.ok_or(MigrateError::NoMappings {
                    command: "revision --autogenerate",
                })?;
                let engine = connect(&url()?).await?;
                let diff = autogenerate(&engine, &migrations, &target).await?;
                let notes = vec![
                    format!(
                        "Made by `migrate revision --autogenerate` against {} on {} UTC.",
                        engine.backend().name(),
                        crate::version::now()
                    ),
                    "Review every step (renames above all) before applying it.".to_owned(),
                ];
                let dialect = dialect_of(&url()?)?;
                engine.dispose().await;
                (diff.upgrade, diff.downgrade, dialect, notes)
            } else {
                (
                    Vec::new(),
                    Vec::new(),
                    Box::new(Sqlite) as Box<dyn Dialect>,
                    vec!["Written by `migrate revision`: fill in the steps.".to_owned()],
                )
            };
            let path = write_revision(
                &cli.dir,
                &migrations,
                &message,
                &upgrade,
                &downgrade,
                dialect.as_ref(),
                notes,
            )?;
            out.push_str(&format!(
                "wrote {} ({} step(s) up, {} down)\n",
                path.display(),
                upgrade.len(),
                downgrade.len()
            ));
        }
        Command::Upgrade { target, sql } | Command::Downgrade { target, sql } if sql => {
            let (from, to) = match target.split_once(':') {
                Some((f, t)) => (f.to_owned(), t.to_owned()),
                None => ("base".to_owned(), target.clone()),
            };
            let dialect = dialect_of(&url().unwrap_or_else(|_| "sqlite::memory:".into()))?;
            out.push_str(&runner::script(&migrations, dialect.as_ref(), &from, &to)?);
        }
        Command::Upgrade { target, .. } => {
            let engine = connect(&url()?).await?;
            let done = runner::upgrade_to(&engine, &migrations, &target).await;
            engine.dispose().await;
            let done = done?;
            for r in &done.ran {
                out.push_str(&format!("upgraded: {r}\n"));
            }
            out.push_str(&format!("at {} (was {})\n", done.to, done.from));
        }
        Command::Downgrade { target, .. } => {
            let engine = connect(&url()?).await?;
            let done = runner::downgrade(&engine, &migrations, &target).await;
            engine.dispose().await;
            let done = done?;
            for r in &done.ran {
                out.push_str(&format!("downgraded: {r}\n"));
            }
            out.push_str(&format!("at {} (was {})\n", done.to, done.from));
        }
        Command::Current => {
            let engine = connect(&url()?).await?;
            let status = runner::current(&engine, &migrations).await;
            engine.dispose().await;
            let status = status?;
            let rev = migrations.revision_at(status.applied);
            let head = if status.applied == migrations.all().len() {
                " (head)"
            } else {
                ""
            };
            out.push_str(&format!("{rev}{head}\n"));
            if let Some((r, state)) = &status.partial {
                out.push_str(&format!("half applied: {r} (state {state})\n"));
            }
        }
        Command::History => {
            let current = match &cli.database_url {
                Some(u) => {
                    let engine = connect(u).await?;
                    let s = runner::current(&engine, &migrations).await;
                    engine.dispose().await;
                    Some(s?.applied)
                }
                None => None,
            };
            for (i, m) in migrations.all().iter().enumerate().rev() {
                let mark = if current == Some(i + 1) {
                    " <- current"
                } else {
                    ""
                };
                let down = m.down_revision.as_deref().unwrap_or("base");
                out.push_str(&format!("{down} -> {}: {}{mark}\n", m.revision, m.message));
            }
        }
        Command::Stamp { target } => {
            let engine = connect(&url()?).await?;
            let done = runner::stamp(&engine, &migrations, &target).await;
            engine.dispose().await;
            out.push_str(&format!("stamped {}\n", done?.to));
        }
        Command::Check => {
            let target = mappings.ok_or(MigrateError::NoMappings { command: "check" })?;
            let engine = connect(&url()?).await?;
            let result = check(&engine, &migrations, &target).await;
            engine.dispose().await;
            result?;
            out.push_str("no differences\n");
        }
        Command::Generate { tables } => {
            let engine = connect(&url()?).await?;
            let mut conn = crate::connect(&engine).await?;
            let md = MetaData::reflect(&mut conn).await;
            drop(conn);
            engine.dispose().await;
            let md = md?;
            let mut chosen = MetaData::new();
            for t in md.tables() {
                if tables.is_empty() || tables.iter().any(|n| n == t.name()) {
                    chosen.add(t.clone());
                }
            }
            out.push_str(&generate(&chosen));
        }
    }
    Ok(out)
}

async fn connect(url: &str) -> Result<Engine, MigrateError> {
    Ok(create_engine(url).await?)
}

/// The dialect a URL names, without connecting (offline mode):
/// `mariadb://` is MariaDB, `mysql://` MySQL 8.
pub fn dialect_of(url: &str) -> Result<Box<dyn Dialect>, MigrateError> {
    let parsed = DatabaseUrl::parse(url)?;
    Ok(match parsed.backend() {
        Backend::Postgres => Box::new(Postgres),
        Backend::Sqlite => Box::new(Sqlite),
        Backend::MySql if url.starts_with("mariadb") => Box::new(MySql::mariadb()),
        Backend::MySql => Box::new(MySql::mysql8()),
    })
}

/// A `main` for a project's migration binary: parses the command line,
/// runs it with the schema `mappings` gives, prints the result, and exits
/// with 1 (printing the error) when it fails, `check` included.
pub fn main_with<E: std::fmt::Display>(mappings: impl FnOnce() -> Result<MetaData, E>) {
    let cli = Cli::parse();
    let needs = matches!(
        cli.command,
        Command::Check
            | Command::Revision {
                autogenerate: true,
                ..
            }
    );
    let mappings = if needs {
        match mappings() {
            Ok(m) => Some(m),
            Err(e) => {
                eprintln!("error: the mappings do not configure: {e}");
                std::process::exit(1);
            }
        }
    } else {
        None
    };
    main_inner(cli, mappings);
}

/// The `migrate` binary's `main`: everything but `check` and
/// autogenerate, which need mappings.
pub fn main_without_mappings() {
    main_inner(Cli::parse(), None);
}

fn main_inner(cli: Cli, mappings: Option<MetaData>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    match runtime.block_on(run(cli, mappings)) {
        Ok(text) => print!("{text}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
