//! The example service's command line.
//!
//! `cargo run -p app-example` runs the demo on an in-memory SQLite database;
//! `--database-url postgres://...` or `mysql://...` runs it on a server
//! (its tables `worker`, `resume`, `publisher`, `post`, `tag` and
//! `post_tag` are dropped and recreated); `--echo` prints every statement
//! with its parameters; `cargo run -p app-example -- sql` prints the
//! compensation report's SQL for the three dialects; `cargo run -p
//! app-example -- serve` serves the JSON API (see `app_example::web`) on
//! `127.0.0.1:3000`, on the SQLite file `app-example.db` unless
//! `--database-url` names another database (the tables are created when
//! missing, the rows kept).

use app_example::{demo, report, AppError};
use clap::{Parser, Subcommand};
use persistence::orm::SessionMaker;
use persistence::{create_engine_with, EngineOptions};

/// The demo's database: in memory, gone when it ends.
const DEMO_URL: &str = "sqlite::memory:";
/// The service's database: a file next to where it runs.
const SERVE_URL: &str = "sqlite://app-example.db?mode=rwc&journal_mode=wal";

#[derive(Parser)]
#[command(about = "Hiring and publishing, a small DDD service on the persistence framework")]
struct Cli {
    /// Database URL: sqlite::memory: (the demo's default), sqlite://file.db?mode=rwc (the
    /// server's default: app-example.db), postgres://..., mysql://...
    #[arg(long, global = true)]
    database_url: Option<String>,
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
    /// Serve the JSON API (workers, resumes, publishers, posts, tags, the
    /// compensation report), one unit of work per request.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: String,
        /// Connections in the pool.
        #[arg(long, default_value_t = 10)]
        pool_size: usize,
    },
}

fn main() {
    let cli = Cli::parse();
    let serving = matches!(cli.command, Some(Command::Serve { .. }));
    if cli.echo || serving {
        // The server logs each request (`RUST_LOG` to change what);
        // `--echo` adds every statement.
        let filter = match (std::env::var("RUST_LOG"), cli.echo) {
            (Ok(filter), _) => filter,
            (Err(_), true) => "info,persistence::echo=info".to_owned(),
            (Err(_), false) => "info".to_owned(),
        };
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .init();
    }
    // The demo runs on one thread; the server on all of them.
    let runtime = if serving {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Demo) {
            Command::Demo => {
                let url = cli.database_url.as_deref().unwrap_or(DEMO_URL);
                run_demo(url, cli.echo).await
            }
            Command::Sql => report::sql_for_all_dialects().map_err(AppError::from),
            Command::Serve { listen, pool_size } => {
                let url = cli.database_url.as_deref().unwrap_or(SERVE_URL);
                serve(url, cli.echo, &listen, pool_size).await
            }
        }
    });
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

async fn serve(url: &str, echo: bool, listen: &str, pool_size: usize) -> Result<String, AppError> {
    let options = app_example::web::engine_options(pool_size).echo(echo);
    let engine = create_engine_with(url, options).await?;
    let mappers = app_example::mapping::start_mappers()?;
    app_example::schema::prepare_service(&engine, &mappers).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| AppError::Io(format!("cannot listen on {listen}: {e}")))?;
    tracing::info!(url = %persistence::DatabaseUrl::parse(url)?.redacted(), listen, "serving");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let outcome = app_example::web::serve(
        listener,
        SessionMaker::new(engine.clone(), mappers),
        shutdown,
    )
    .await;
    engine.dispose().await;
    outcome.map_err(|e| AppError::Io(format!("server failed: {e}")))?;
    Ok(String::new())
}
