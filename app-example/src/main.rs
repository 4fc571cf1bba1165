//! The example service's command line.
//!
//! `cargo run -p app-example` runs the demo on an in-memory SQLite database;
//! `--database-url postgres://...` or `mysql://...` runs it on a server;
//! `cargo run -p app-example -- sql` prints the compensation report's SQL
//! for the three dialects.

mod report;
mod schema;
mod table;

use clap::{Parser, Subcommand};
use persistence::dialects::{insert, select, Dialect, MySql, Postgres, Sqlite, Statement};
use persistence::{create_engine_with, EngineOptions, Error, SchemaExt};

#[derive(Parser)]
#[command(about = "Workers and resumes on the persistence framework")]
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
    /// Create the tables, store workers and resumes, and print them (the default).
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
        Command::Demo => demo(&cli.database_url, cli.echo).await,
        Command::Sql => print_sql(),
    };
    if let Err(e) = outcome {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn demo(url: &str, echo: bool) -> Result<(), Error> {
    let engine = create_engine_with(url, EngineOptions::default().echo(echo)).await?;
    let t = schema::hiring_tables();
    let mut conn = engine.connect().await?;
    t.metadata.drop_all(&mut conn).await?;
    t.metadata.create_all(&mut conn).await?;

    conn.execute(&insert(&t.worker).rows(["name"], [["Vlad"], ["Ann"], ["O'Brien"]]))
        .await?;
    conn.execute(&insert(&t.resume).rows(
        ["title", "compensation", "workload", "worker_id"],
        [
            [
                "Python Junior Developer".into(),
                50_000.into(),
                "fulltime".into(),
                1.into(),
            ],
            [
                "Python Developer".into(),
                150_000.into(),
                "fulltime".into(),
                1.into(),
            ],
            [
                "Python Data Engineer".into(),
                250_000.into(),
                "parttime".into(),
                2.into(),
            ],
            [
                "Data Scientist".into(),
                300_000.into(),
                "fulltime".into(),
                2.into(),
            ],
            [
                "Rust Developer".into(),
                280_000.into(),
                "parttime".into(),
                3.into(),
            ],
        ] as [[persistence::dialects::Value; 4]; 5],
    ))
    .await?;

    let workers = conn
        .execute(&select((t.worker.c("id"), t.worker.c("name"))).order_by([t.worker.c("id")]))
        .await?
        .all();
    print!("{}", table::render("Workers", &workers));

    let resumes = conn
        .execute(
            &select((
                t.resume.c("id"),
                t.worker.c("name").label("worker"),
                t.resume.c("title"),
                t.resume.c("compensation"),
                t.resume.c("workload"),
            ))
            .select_from(&t.resume)
            .join(&t.worker, t.resume.c("worker_id").eq(t.worker.c("id")))
            .order_by([t.resume.c("id")]),
        )
        .await?
        .all();
    println!();
    print!("{}", table::render("Resumes", &resumes));

    let report = conn.execute(&report::compensation_report(&t)).await?.all();
    println!();
    print!("{}", table::render("Compensation report", &report));
    drop(conn);
    engine.dispose().await;
    Ok(())
}

fn print_sql() -> Result<(), Error> {
    let t = schema::hiring_tables();
    let query = report::compensation_report(&t);
    let dialects: [(&str, &dyn Dialect); 3] = [
        ("PostgreSQL", &Postgres),
        ("SQLite", &Sqlite),
        ("MySQL / MariaDB", &MySql::default()),
    ];
    for (i, (name, dialect)) in dialects.into_iter().enumerate() {
        if i > 0 {
            println!();
        }
        let compiled = Statement::compile(&query, dialect)?;
        println!("-- {name}");
        println!("{}", compiled.sql);
        println!("-- parameters: {:?}", compiled.params);
    }
    Ok(())
}
