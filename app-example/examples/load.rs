//! A load check of `app-example serve` (a benchmark, not a test):
//! 2,000 concurrent requests through one pool of 10 connections, then the
//! checks that matter under load.
//!
//! ```sh
//! cargo run --release -p app-example --example load
//! cargo run --release -p app-example --example load -- --database-url postgres://...
//! ```
//!
//! Half the requests hire a worker with two resumes (one transaction
//! each: the worker and both resumes, or nothing), a quarter list workers,
//! a quarter read one. It then checks that no request failed, that every
//! connection is back in the pool (none in use, none waiting, no more open
//! than the pool's size) and that no write is partial (each worker has
//! exactly its two resumes, and there are as many workers as successful
//! hires), and prints the throughput. It exits with status 1 when a check
//! fails.
//!
//! Without `--database-url` it runs on a SQLite file in a temporary
//! folder (WAL journal, `BEGIN IMMEDIATE`: see `web::engine_options`). On a server database the example's tables are
//! dropped and recreated.

use std::time::{Duration, Instant};

use app_example::demo;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use persistence::dialects::text;
use persistence::{create_engine_with, Engine, PoolStatus};

const REQUESTS: usize = 2_000;
const POOL: usize = 10;

type HttpClient = Client<HttpConnector, Full<Bytes>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The kinds of request in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Hire,
    List,
    Read,
}

#[tokio::main]
async fn main() {
    match run().await {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

/// The value of `--name value` or `--name=value`.
fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
        if let Some(v) = a.strip_prefix(&format!("{name}=")) {
            return Some(v.to_owned());
        }
    }
    None
}

async fn scalar(engine: &Engine, sql: &str) -> Result<i64, BoxError> {
    let mut conn = engine.connect().await?;
    let n = conn
        .execute(&text(sql))
        .await?
        .scalar()
        .and_then(|v| v.as_i64())
        .ok_or("not an integer")?;
    conn.rollback().await?;
    Ok(n)
}

async fn run() -> Result<bool, BoxError> {
    let requests: usize = match arg("--requests") {
        Some(v) => v.parse()?,
        None => REQUESTS,
    };
    let dir = std::env::temp_dir().join(format!("app-example-load-{}", std::process::id()));
    let url = match arg("--database-url") {
        Some(url) => url,
        None => {
            std::fs::create_dir_all(&dir)?;
            format!(
                "sqlite://{}?mode=rwc&journal_mode=wal",
                dir.join("load.db").display()
            )
        }
    };
    let options = app_example::web::engine_options(POOL).acquire_timeout(Duration::from_secs(60));
    let engine = create_engine_with(&url, options).await?;
    let sessions = demo::prepare(engine.clone()).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = app_example::web::app(sessions);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();

    // One worker to read.
    let seed = send(&client, addr, "POST", "/workers", r#"{"name": "seed"}"#).await?;
    if seed != 201 {
        return Err(format!("seeding answered {seed}").into());
    }
    let baseline = engine.pool_status();

    let started = Instant::now();
    let mut tasks = Vec::with_capacity(requests);
    for i in 0..requests {
        let client = client.clone();
        let kind = match i % 4 {
            0 | 1 => Kind::Hire,
            2 => Kind::List,
            _ => Kind::Read,
        };
        tasks.push(tokio::spawn(async move {
            let outcome = match kind {
                Kind::Hire => {
                    let body = format!(
                        r#"{{"name": "worker {i}", "resumes": [
                            {{"title": "Rust dev", "compensation": {}, "workload": "fulltime"}},
                            {{"title": "SQL tuner", "workload": "parttime", "skills": ["sql"]}}]}}"#,
                        1_000 + i
                    );
                    send(&client, addr, "POST", "/workers", &body).await
                }
                Kind::List => send(&client, addr, "GET", "/workers?page=1&per_page=20", "").await,
                Kind::Read => send(&client, addr, "GET", "/workers/1", "").await,
            };
            (kind, outcome.map_err(|e| e.to_string()))
        }));
    }
    let mut hired = 0_i64;
    let mut failures: Vec<String> = Vec::new();
    for task in tasks {
        let (kind, outcome) = task.await?;
        match outcome {
            Ok(status) if (200..300).contains(&status) => {
                if kind == Kind::Hire {
                    hired += 1;
                }
            }
            Ok(status) => failures.push(format!("{kind:?}: HTTP {status}")),
            Err(e) => failures.push(format!("{kind:?}: {e}")),
        }
    }
    let elapsed = started.elapsed();

    // Connections settle back into the pool once the last response is out.
    let settle = Instant::now();
    let mut after = engine.pool_status();
    while (after.in_use > 0 || after.waiting > 0) && settle.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(10)).await;
        after = engine.pool_status();
    }
    server.abort();

    let workers = scalar(&engine, "SELECT count(*) FROM worker").await?;
    let resumes = scalar(&engine, "SELECT count(*) FROM resume").await?;
    let partial = scalar(
        &engine,
        "SELECT count(*) FROM worker w WHERE w.name <> 'seed' AND \
         (SELECT count(*) FROM resume r WHERE r.worker_id = w.id) <> 2",
    )
    .await?;
    engine.dispose().await;
    let _ = std::fs::remove_dir_all(&dir);

    let rate = requests as f64 / elapsed.as_secs_f64();
    println!(
        "{requests} concurrent requests on {:?}, pool of {POOL}: {:.2} s, {rate:.0} requests/s",
        engine.backend(),
        elapsed.as_secs_f64()
    );
    println!("errors: {}", failures.len());
    for f in failures.iter().take(10) {
        println!("  {f}");
    }
    println!("pool before: {}", show(&baseline));
    println!("pool after:  {}", show(&after));
    println!(
        "rows: {workers} workers ({hired} hired + the seed), {resumes} resumes, \
         {partial} workers without exactly two"
    );
    let ok = failures.is_empty()
        && after.in_use == 0
        && after.waiting == 0
        && after.size <= POOL
        && partial == 0
        && workers == hired + 1
        && resumes == 2 * hired;
    println!("{}", if ok { "ok" } else { "FAILED" });
    Ok(ok)
}

fn show(s: &PoolStatus) -> String {
    format!(
        "{} open, {} in use, {} idle, {} waiting",
        s.size, s.in_use, s.idle, s.waiting
    )
}

async fn send(
    client: &HttpClient,
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> Result<u16, BoxError> {
    let req = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))?;
    let resp = client.request(req).await?;
    let status = resp.status().as_u16();
    resp.into_body().collect().await?;
    Ok(status)
}
