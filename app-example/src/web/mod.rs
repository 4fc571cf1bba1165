//! `app-example serve`: the hiring and publishing contexts as a JSON API.
//!
//! Every request gets its own unit of work from the framework's
//! [`UnitOfWorkLayer`] (committed when the handler answers 2xx, rolled
//! back otherwise, on a panic and when the client goes away; run again
//! when concurrent work got in the way, [`retry_policy`]) and runs in
//! a `request` span that encloses the engine's statement spans.
//!
//! | route | what |
//! |---|---|
//! | `POST /workers`, `GET /workers?page=&per_page=` | hire (with resumes), list |
//! | `GET / PATCH / DELETE /workers/{id}` | a worker with resumes, rename, dismiss |
//! | `POST /workers/{id}/resumes` | add a resume |
//! | `GET /resumes`, `GET / PATCH / DELETE /resumes/{id}`, `POST /resumes/{id}/raise` | resumes |
//! | `POST /publishers`, `GET /publishers`, `GET / PATCH / DELETE /publishers/{id}` | publishers |
//! | `POST /publishers/{id}/posts` | draft a post |
//! | `GET /posts`, `GET / PATCH / DELETE /posts/{id}`, `POST /posts/{id}/publish`, `POST /posts/{id}/tags` | posts and tags |
//! | `GET /reports/compensation` | the compensation report |
//!
//! Errors are JSON (`{"error": {"status", "code", "message"}}`): a
//! missing entity 404, a taken name 409, a broken rule or a body of the
//! wrong shape 422, malformed JSON or a bad path or query 400.

pub mod dto;
pub mod extract;
pub mod hiring;
pub mod publishing;
pub mod trace;

use axum::routing::{get, post};
use axum::Router;
use persistence::orm::SessionMaker;
use persistence::web::{ApiError, UnitOfWorkLayer};
use persistence::{EngineOptions, RetryPolicy, SqliteOptions};

/// The API's routes, without the unit-of-work layer (tests add routes of
/// their own before [`wrap`]ping them).
pub fn routes() -> Router {
    Router::new()
        .route(
            "/workers",
            post(hiring::create_worker).get(hiring::list_workers),
        )
        .route(
            "/workers/{id}",
            get(hiring::get_worker)
                .patch(hiring::update_worker)
                .delete(hiring::delete_worker),
        )
        .route("/workers/{id}/resumes", post(hiring::add_resume))
        .route("/resumes", get(hiring::list_resumes))
        .route(
            "/resumes/{id}",
            get(hiring::get_resume)
                .patch(hiring::update_resume)
                .delete(hiring::delete_resume),
        )
        .route("/resumes/{id}/raise", post(hiring::raise))
        .route("/reports/compensation", get(hiring::compensation_report))
        .route(
            "/publishers",
            post(publishing::create_publisher).get(publishing::list_publishers),
        )
        .route(
            "/publishers/{id}",
            get(publishing::get_publisher)
                .patch(publishing::update_publisher)
                .delete(publishing::delete_publisher),
        )
        .route("/publishers/{id}/posts", post(publishing::create_post))
        .route("/posts", get(publishing::list_posts))
        .route(
            "/posts/{id}",
            get(publishing::get_post)
                .patch(publishing::update_post)
                .delete(publishing::delete_post),
        )
        .route("/posts/{id}/publish", post(publishing::publish_post))
        .route("/posts/{id}/tags", post(publishing::tag_post))
}

/// `routes` with a JSON 404 for unknown paths, a unit of work per request
/// on `sessions`, and the request span around both.
pub fn wrap(routes: Router, sessions: SessionMaker) -> Router {
    routes
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(UnitOfWorkLayer::new(sessions).retry(retry_policy()))
        .layer(axum::middleware::from_fn(trace::request_span))
}

/// The whole application on `sessions`.
pub fn app(sessions: SessionMaker) -> Router {
    wrap(routes(), sessions)
}

/// The server's engine options: production logging (parameters
/// redacted), `pool` connections at most, and on SQLite transactions that
/// take the write lock when they begin (`BEGIN IMMEDIATE`), so that
/// concurrent requests queue for it instead of colliding.
pub fn engine_options(pool: usize) -> EngineOptions {
    EngineOptions::production()
        .pool_size(pool)
        .max_connections(pool)
        .sqlite(SqliteOptions {
            begin_immediate: Some(true),
            ..SqliteOptions::default()
        })
}

/// How often a request that concurrent work got in the way of runs again:
/// up to 10 runs, pauses from a few milliseconds to a quarter second (on
/// SQLite, whose transactions take the write lock at their first write,
/// two hires at once collide often).
pub fn retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 10,
        initial_backoff: std::time::Duration::from_millis(5),
        max_backoff: std::time::Duration::from_millis(250),
    }
}

async fn unknown_route() -> ApiError {
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

/// Serves [`app`] on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    sessions: SessionMaker,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(sessions))
        .with_graceful_shutdown(shutdown)
        .await
}
