//! The example's JSON API over real HTTP (`app-example serve`): a server
//! on 127.0.0.1:0, a hyper client, and the rows in the database checked
//! after each step, on SQLite, PostgreSQL and MariaDB.
//!
//! Besides the API's own routes, the server under test has three that
//! exist only here: each writes a worker in the request's unit of work and
//! then fails (an error response), panics, or waits forever (the client
//! then hangs up). None of those writes may survive.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use persistence::dialects::text;
use persistence::web::{ApiError, RequestUow};
use serde_json::{json, Value};
use tests::{on_all_backends, TestDb};
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;

use app_domain::hiring::Worker;
use app_example::repositories::{HiringUow, SqlHiringUow};

/// A running server and a client for it.
struct Api {
    addr: std::net::SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
    /// Notified by the hanging route once it has written.
    wrote: Arc<Notify>,
    /// The server's sessions, for reading through the app's repositories.
    sessions: persistence::orm::SessionMaker,
    server: tokio::task::JoinHandle<()>,
}

/// A reply: status and JSON body (`Value::Null` when empty).
#[derive(Debug)]
struct Reply {
    status: u16,
    body: Value,
    text: String,
}

/// Writes a worker named `name` in the request's unit of work.
async fn write_worker(uow: persistence::SqlUnitOfWork, name: &str) -> Result<(), ApiError> {
    let hiring = SqlHiringUow::on(uow);
    hiring.workers().add(Worker::new(name)?).await?;
    Ok(())
}

fn test_routes(wrote: Arc<Notify>) -> Router {
    Router::new()
        .route(
            "/test/write-then-fail",
            post(|RequestUow(uow): RequestUow| async move {
                write_worker(uow, "written then refused").await?;
                Err::<(), ApiError>(ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    "refused after writing",
                ))
            }),
        )
        .route(
            "/test/write-then-panic",
            post(|RequestUow(uow): RequestUow| async move {
                write_worker(uow, "written then panicked").await?;
                if uow_is_scoped() {
                    panic!("the handler fails after writing");
                }
                Ok::<(), ApiError>(())
            }),
        )
        .route(
            "/test/write-then-hang",
            post(move |RequestUow(uow): RequestUow| {
                let wrote = wrote.clone();
                async move {
                    write_worker(uow, "written then abandoned").await?;
                    wrote.notify_one();
                    std::future::pending::<()>().await;
                    Ok::<(), ApiError>(())
                }
            }),
        )
}

/// Always true; keeps the panic reachable for the compiler's eyes.
fn uow_is_scoped() -> bool {
    std::hint::black_box(true)
}

impl Api {
    async fn start(db: &TestDb) -> Api {
        let sessions = app_example::demo::prepare(db.engine.clone()).await.unwrap();
        let wrote = Arc::new(Notify::new());
        let app = app_example::web::wrap(
            app_example::web::routes().merge(test_routes(wrote.clone())),
            sessions.clone(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        let client = Client::builder(TokioExecutor::new()).build_http();
        Api {
            addr,
            client,
            wrote,
            sessions,
            server,
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> Reply {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let req = req.body(Full::new(Bytes::from(body.to_owned()))).unwrap();
        let resp = self.client.request(req).await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        Reply { status, body, text }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None, "").await
    }

    async fn json(&self, method: &str, path: &str, body: Value) -> Reply {
        self.send(method, path, Some("application/json"), &body.to_string())
            .await
    }

    async fn stop(self) {
        self.server.abort();
        let _ = self.server.await;
    }
}

/// Rows of `table`, counted on a connection of its own.
async fn count(db: &TestDb, table: &str) -> i64 {
    let mut conn = db.engine.connect().await.unwrap();
    let n = conn
        .execute(&text(&format!("SELECT count(*) FROM {table}")))
        .await
        .unwrap()
        .scalar()
        .and_then(|v| v.as_i64())
        .unwrap();
    conn.rollback().await.unwrap();
    n
}

/// Asserts `reply` is a JSON error with `status` and `code`, and that it
/// shows no SQL.
/// Every connection of the test's pool is back (none leaked by a request).
fn assert_pool_idle(db: &TestDb) {
    let status = db.engine.pool_status();
    assert_eq!(status.in_use, 0, "{status:?}");
}

fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{reply:?}");
    assert_eq!(reply.body["error"]["status"], status, "{reply:?}");
    assert_eq!(reply.body["error"]["code"], code, "{reply:?}");
    assert!(reply.body["error"]["message"].is_string(), "{reply:?}");
    for sql in ["SELECT", "INSERT", "UPDATE ", "DELETE", "[SQL"] {
        assert!(!reply.text.contains(sql), "SQL in a response: {reply:?}");
    }
}

async fn workers_and_resumes(db: TestDb) {
    let api = Api::start(&db).await;
    let vlad = api
        .json(
            "POST",
            "/workers",
            json!({"name": " Vlad ", "resumes": [
                {"title": "Rust dev", "compensation": 1000, "workload": "fulltime", "skills": ["Rust", "sql"]},
                {"title": "Go dev", "workload": "parttime"}
            ]}),
        )
        .await;
    assert_eq!(vlad.status, 201, "{vlad:?}");
    assert_eq!(vlad.body["name"], "Vlad");
    let id = vlad.body["id"].as_i64().unwrap();
    let resumes = vlad.body["resumes"].as_array().unwrap();
    assert_eq!(resumes.len(), 2);
    assert_eq!(resumes[0]["skills"], json!(["rust", "sql"]));
    assert!(resumes[0]["created_at"].is_string(), "{vlad:?}");
    assert_eq!(
        (count(&db, "worker").await, count(&db, "resume").await),
        (1, 2)
    );

    for name in ["Ann", "Bob", "Dana"] {
        let r = api.json("POST", "/workers", json!({ "name": name })).await;
        assert_eq!(r.status, 201, "{r:?}");
    }
    let got = api.get(&format!("/workers/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["resumes"][1]["title"], "Go dev");
    assert_eq!(got.body["resumes"][1]["compensation"], Value::Null);

    let page = api.get("/workers?page=2&per_page=3").await;
    assert_eq!(page.status, 200, "{page:?}");
    assert_eq!(page.body["total"], 4);
    assert_eq!(page.body["pages"], 2);
    assert_eq!(page.body["page"], 2);
    let names: Vec<&str> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str_of("name"))
        .collect();
    assert_eq!(names, ["Dana"]);

    let renamed = api
        .json(
            "PATCH",
            &format!("/workers/{id}"),
            json!({"name": "Vladimir"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{renamed:?}");
    assert_eq!(renamed.body["name"], "Vladimir");
    let taken = api
        .json("PATCH", &format!("/workers/{id}"), json!({"name": "Ann"}))
        .await;
    assert_error(&taken, 409, "conflict");
    let hiring = SqlHiringUow::new(&api.sessions);
    let stored = hiring
        .workers()
        .get(&app_domain::WorkerId(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.name, "Vladimir",
        "the refused rename changed nothing"
    );
    drop(hiring);

    let added = api
        .json(
            "POST",
            &format!("/workers/{id}/resumes"),
            json!({"title": "DBA", "compensation": 2000, "workload": "fulltime"}),
        )
        .await;
    assert_eq!(added.status, 201, "{added:?}");
    let resume_id = added.body["id"].as_i64().unwrap();
    let twice = api
        .json(
            "POST",
            &format!("/workers/{id}/resumes"),
            json!({"title": "DBA", "workload": "parttime"}),
        )
        .await;
    assert_error(&twice, 422, "invalid");
    assert_eq!(count(&db, "resume").await, 3);

    let patched = api
        .json(
            "PATCH",
            &format!("/resumes/{resume_id}"),
            json!({"title": "Senior DBA", "workload": "parttime", "skills": ["postgres"]}),
        )
        .await;
    assert_eq!(patched.status, 200, "{patched:?}");
    assert_eq!(patched.body["title"], "Senior DBA");
    assert_eq!(patched.body["workload"], "parttime");
    let clash = api
        .json(
            "PATCH",
            &format!("/resumes/{resume_id}"),
            json!({"title": "Rust dev"}),
        )
        .await;
    assert_error(&clash, 422, "invalid");

    let raised = api
        .json(
            "POST",
            &format!("/resumes/{resume_id}/raise"),
            json!({"pct": 10}),
        )
        .await;
    assert_eq!(raised.status, 200, "{raised:?}");
    assert_eq!(raised.body["compensation"], 2200);
    let too_much = api
        .json(
            "POST",
            &format!("/resumes/{resume_id}/raise"),
            json!({"pct": 90}),
        )
        .await;
    assert_error(&too_much, 422, "invalid");
    let fetched = api.get(&format!("/resumes/{resume_id}")).await;
    assert_eq!(fetched.body["compensation"], 2200, "{fetched:?}");

    let report = api.get("/reports/compensation").await;
    assert_eq!(report.status, 200, "{report:?}");
    assert_eq!(report.body.as_array().unwrap().len(), 3);

    let listed = api.get("/resumes?per_page=2").await;
    assert_eq!(listed.body["total"], 3, "{listed:?}");
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);

    let gone = api
        .send("DELETE", &format!("/resumes/{resume_id}"), None, "")
        .await;
    assert_eq!(gone.status, 204, "{gone:?}");
    assert_eq!(count(&db, "resume").await, 2);
    let dismissed = api
        .send("DELETE", &format!("/workers/{id}"), None, "")
        .await;
    assert_eq!(dismissed.status, 204, "{dismissed:?}");
    assert_eq!(
        (count(&db, "worker").await, count(&db, "resume").await),
        (3, 0)
    );
    assert_error(&api.get(&format!("/workers/{id}")).await, 404, "not_found");
    api.stop().await;
    db.close().await;
}

trait StrOf {
    fn as_str_of(&self, key: &str) -> &str;
}

impl StrOf for Value {
    fn as_str_of(&self, key: &str) -> &str {
        self[key].as_str().unwrap_or_default()
    }
}

async fn publishers_posts_and_tags(db: TestDb) {
    let api = Api::start(&db).await;
    let manning = api
        .json("POST", "/publishers", json!({"name": "Manning"}))
        .await;
    assert_eq!(manning.status, 201, "{manning:?}");
    let pid = manning.body["id"].as_i64().unwrap();
    let dup = api
        .json("POST", "/publishers", json!({"name": "Manning"}))
        .await;
    assert_error(&dup, 409, "conflict");
    assert_eq!(count(&db, "publisher").await, 1);

    let post = api
        .json(
            "POST",
            &format!("/publishers/{pid}/posts"),
            json!({"title": "Rust in Action"}),
        )
        .await;
    assert_eq!(post.status, 201, "{post:?}");
    assert_eq!(post.body["draft"], true);
    let post_id = post.body["id"].as_i64().unwrap();
    let other = api
        .json(
            "POST",
            &format!("/publishers/{pid}/posts"),
            json!({"title": "Async Rust"}),
        )
        .await;
    let other_id = other.body["id"].as_i64().unwrap();

    let tags = api
        .json(
            "POST",
            &format!("/posts/{post_id}/tags"),
            json!({"tags": ["Rust", "systems", "rust"]}),
        )
        .await;
    assert_eq!(tags.status, 200, "{tags:?}");
    assert_eq!(tags.body, json!(["rust", "systems"]));
    let more = api
        .json(
            "POST",
            &format!("/posts/{other_id}/tags"),
            json!({"tags": ["rust", "async"]}),
        )
        .await;
    assert_eq!(more.body, json!(["async", "rust"]));
    assert_eq!(
        (count(&db, "tag").await, count(&db, "post_tag").await),
        (3, 4)
    );
    let bad_tag = api
        .json(
            "POST",
            &format!("/posts/{post_id}/tags"),
            json!({"tags": ["ok", "two words"]}),
        )
        .await;
    assert_error(&bad_tag, 422, "invalid");
    assert_eq!(
        (count(&db, "tag").await, count(&db, "post_tag").await),
        (3, 4)
    );

    let published = api
        .send("POST", &format!("/posts/{post_id}/publish"), None, "")
        .await;
    assert_eq!(published.status, 200, "{published:?}");
    assert_eq!(published.body["draft"], false);
    assert!(published.body["published_at"].is_string());
    let again = api
        .send("POST", &format!("/posts/{post_id}/publish"), None, "")
        .await;
    assert_error(&again, 422, "invalid");

    let retitled = api
        .json(
            "PATCH",
            &format!("/posts/{other_id}"),
            json!({"title": "Async Rust, 2nd ed."}),
        )
        .await;
    assert_eq!(retitled.status, 200, "{retitled:?}");
    let clash = api
        .json(
            "PATCH",
            &format!("/posts/{other_id}"),
            json!({"title": "Rust in Action"}),
        )
        .await;
    assert_error(&clash, 422, "invalid");

    let full = api.get(&format!("/publishers/{pid}")).await;
    assert_eq!(full.status, 200, "{full:?}");
    let posts = full.body["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0]["tags"], json!(["rust", "systems"]));
    assert_eq!(posts[1]["title"], "Async Rust, 2nd ed.");
    let post_json = api.get(&format!("/posts/{other_id}")).await;
    assert_eq!(post_json.body["tags"], json!(["async", "rust"]));
    let listed = api.get("/posts?page=1&per_page=1").await;
    assert_eq!(
        (listed.body["total"].as_i64(), listed.body["pages"].as_i64()),
        (Some(2), Some(2))
    );
    let renamed = api
        .json(
            "PATCH",
            &format!("/publishers/{pid}"),
            json!({"name": "Manning Publications"}),
        )
        .await;
    assert_eq!(renamed.body["name"], "Manning Publications", "{renamed:?}");
    let publishers = api.get("/publishers").await;
    assert_eq!(publishers.body["total"], 1);

    let deleted = api
        .send("DELETE", &format!("/posts/{post_id}"), None, "")
        .await;
    assert_eq!(deleted.status, 204, "{deleted:?}");
    assert_eq!(
        (count(&db, "post").await, count(&db, "post_tag").await),
        (1, 2)
    );
    let deleted = api
        .send("DELETE", &format!("/publishers/{pid}"), None, "")
        .await;
    assert_eq!(deleted.status, 204, "{deleted:?}");
    assert_eq!(
        (
            count(&db, "publisher").await,
            count(&db, "post").await,
            count(&db, "post_tag").await
        ),
        (0, 0, 0)
    );
    assert_eq!(count(&db, "tag").await, 3, "tags stay");
    api.stop().await;
    db.close().await;
}

async fn bad_requests_are_json_errors_and_write_nothing(db: TestDb) {
    let api = Api::start(&db).await;
    let ok = api.json("POST", "/workers", json!({"name": "Vlad"})).await;
    let id = ok.body["id"].as_i64().unwrap();
    let json_ct = Some("application/json");

    let malformed = api.send("POST", "/workers", json_ct, "{\"name\": ").await;
    assert_error(&malformed, 400, "malformed_json");
    let wrong_type = api.send("POST", "/workers", json_ct, "{\"name\": 5}").await;
    assert_error(&wrong_type, 422, "invalid_body");
    let unknown_field = api
        .json("POST", "/workers", json!({"name": "X", "age": 3}))
        .await;
    assert_error(&unknown_field, 422, "invalid_body");
    let no_type = api
        .send("POST", "/workers", None, "{\"name\": \"X\"}")
        .await;
    assert_error(&no_type, 415, "unsupported_media_type");
    let oversize = api
        .json("POST", "/workers", json!({"name": "x".repeat(257)}))
        .await;
    assert_error(&oversize, 422, "invalid");
    let empty = api.json("POST", "/workers", json!({"name": "   "})).await;
    assert_error(&empty, 422, "invalid");
    let huge_title = api
        .json(
            "POST",
            &format!("/workers/{id}/resumes"),
            json!({"title": "t".repeat(10_000), "workload": "fulltime"}),
        )
        .await;
    assert_error(&huge_title, 422, "invalid");
    let bad_workload = api
        .json(
            "POST",
            &format!("/workers/{id}/resumes"),
            json!({"title": "T", "workload": "sometimes"}),
        )
        .await;
    assert_error(&bad_workload, 422, "invalid_body");
    let too_big = api
        .send(
            "POST",
            "/workers",
            json_ct,
            &format!("{{\"name\": \"{}\"}}", "x".repeat(3 << 20)),
        )
        .await;
    assert_error(&too_big, 413, "payload_too_large");
    let huge_pay = api
        .send(
            "POST",
            &format!("/workers/{id}/resumes"),
            json_ct,
            "{\"title\": \"T\", \"workload\": \"fulltime\", \"compensation\": 99999999999}",
        )
        .await;
    assert_error(&huge_pay, 422, "invalid_body");

    assert_error(&api.get("/workers/999999").await, 404, "not_found");
    assert_error(
        &api.json("PATCH", "/workers/999999", json!({"name": "Y"}))
            .await,
        404,
        "not_found",
    );
    assert_error(
        &api.send("DELETE", "/workers/999999", None, "").await,
        404,
        "not_found",
    );
    assert_error(
        &api.json(
            "POST",
            "/workers/999999/resumes",
            json!({"title": "T", "workload": "fulltime"}),
        )
        .await,
        404,
        "not_found",
    );
    assert_error(
        &api.send("POST", "/posts/999999/publish", None, "").await,
        404,
        "not_found",
    );
    assert_error(
        &api.json("POST", "/posts/999999/tags", json!({"tags": ["a"]}))
            .await,
        404,
        "not_found",
    );
    assert_error(&api.get("/workers/abc").await, 400, "bad_request");
    assert_error(&api.get("/workers?per_page=0").await, 400, "bad_request");
    assert_error(&api.get("/workers?page=x").await, 400, "bad_request");
    assert_error(&api.get("/no/such/route").await, 404, "not_found");
    assert_error(
        &api.send("PUT", "/workers", None, "").await,
        405,
        "method_not_allowed",
    );

    assert_eq!(
        (
            count(&db, "worker").await,
            count(&db, "resume").await,
            count(&db, "tag").await
        ),
        (1, 0, 0)
    );
    api.stop().await;
    db.close().await;
}

async fn a_failing_handler_rolls_back(db: TestDb) {
    let api = Api::start(&db).await;
    // The worker is inserted (flushed, to get its id), then the second
    // resume breaks a rule: 422, and the worker is gone with the rest.
    let half = api
        .json(
            "POST",
            "/workers",
            json!({"name": "Half", "resumes": [
                {"title": "Fine", "workload": "fulltime"},
                {"title": "Free", "compensation": -5, "workload": "fulltime"}
            ]}),
        )
        .await;
    assert_error(&half, 422, "invalid");
    let refused = api.send("POST", "/test/write-then-fail", None, "").await;
    assert_error(&refused, 409, "conflict");
    assert_eq!(
        (count(&db, "worker").await, count(&db, "resume").await),
        (0, 0)
    );
    // The server goes on working, on the same pool.
    let ok = api.json("POST", "/workers", json!({"name": "Whole"})).await;
    assert_eq!(ok.status, 201, "{ok:?}");
    assert_eq!(count(&db, "worker").await, 1);
    assert_pool_idle(&db);
    api.stop().await;
    db.close().await;
}

async fn a_panicking_handler_rolls_back(db: TestDb) {
    let api = Api::start(&db).await;
    let panicked = api.send("POST", "/test/write-then-panic", None, "").await;
    assert_error(&panicked, 500, "internal");
    assert_eq!(panicked.body["error"]["message"], "internal error");
    assert_eq!(count(&db, "worker").await, 0);
    let ok = api.json("POST", "/workers", json!({"name": "After"})).await;
    assert_eq!(ok.status, 201, "{ok:?}");
    assert_eq!(count(&db, "worker").await, 1);
    assert_pool_idle(&db);
    api.stop().await;
    db.close().await;
}

async fn a_dropped_connection_rolls_back(db: TestDb) {
    let api = Api::start(&db).await;
    // A raw connection, so that closing it is certain.
    let mut stream = tokio::net::TcpStream::connect(api.addr).await.unwrap();
    stream
        .write_all(
            b"POST /test/write-then-hang HTTP/1.1\r\nhost: test\r\ncontent-length: 0\r\n\r\n",
        )
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), api.wrote.notified())
        .await
        .expect("the handler wrote");
    assert_eq!(
        db.engine.pool_status().in_use,
        1,
        "the request holds a connection"
    );
    drop(stream);
    // The server sees the client go, drops the handler's future, and the
    // pool gets the connection back, rolled back.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while db.engine.pool_status().in_use > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "connection not returned: {:?}",
            db.engine.pool_status()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        count(&db, "worker").await,
        0,
        "nothing of the abandoned request is kept"
    );
    let ok = api.json("POST", "/workers", json!({"name": "Next"})).await;
    assert_eq!(ok.status, 201, "{ok:?}");
    assert_eq!(count(&db, "worker").await, 1);
    let after = db.engine.pool_status();
    assert_eq!((after.in_use, after.waiting), (0, 0), "{after:?}");
    api.stop().await;
    db.close().await;
}

on_all_backends!(
    workers_and_resumes,
    publishers_posts_and_tags,
    bad_requests_are_json_errors_and_write_nothing,
    a_failing_handler_rolls_back,
    a_panicking_handler_rolls_back,
    a_dropped_connection_rolls_back
);
