//! The example service's command line.
//!
//! `cargo run -p app-example` runs the demo on an in-memory SQLite database;
//! `--database-url postgres://...` or `mysql://...` runs it on a server
//! (its tables `worker`, `resume`, `publisher`, `post`, `tag` and
//! `post_tag` are dropped and recreated); `--echo` prints every statement
//! with its parameters; `cargo run -p app-example -- sql` prints the
//! compensation report's SQL for the three dialects.

use app_example::{demo, report, AppError};
use clap::{Parser, Subcommand};
use persistence::{create_engine_with, EngineOptions};

#[derive(Parser)]
#[command(about = "Hiring and publishing, a small DDD service on the persistence framework")]
struct Cli {
    /// Database URL: sqlite::memory: (default), sqlite://file.db?mode=rwc, postgres://..., mysql://...
    #[arg(long, global = true, default_value = "sqlite::memory:")]
    database_url: String,
    /// Print every SQL statement with its parameters.
    #[arg(long, global = true)]
    echo: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Create the tables, run the services, and print workers, the
    /// compensation report, and publishers with posts and tags (the default).
    Demo,
    /// Print the compensation report's SQL compiled for PostgreSQL, SQLite and MySQL.
    Sql,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    if cli.echo {
        tracing_subscriber::fmt()
            .with_env_filter("persistence::echo=info")
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .init();
    }
    let outcome = match cli.command.unwrap_or(Command::Demo) {
        Command::Demo => run_demo(&cli.database_url, cli.echo).await,
        Command::Sql => report::sql_for_all_dialects().map_err(AppError::from),
    };
    match outcome {
        Ok(text) => print!("{text}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

async fn run_demo(url: &str, echo: bool) -> Result<String, AppError> {
    let engine = create_engine_with(url, EngineOptions::default().echo(echo)).await?;
    let sessions = demo::prepare(engine.clone()).await?;
    let outcome = demo::run(&sessions).await;
    engine.dispose().await;
    outcome
}
