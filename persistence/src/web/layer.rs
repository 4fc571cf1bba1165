//! [`UnitOfWorkLayer`]: opens a unit of work per request and ends it after
//! the handler, by the response's status.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use tower_layer::Layer;
use tower_service::Service;

use super::error::{ApiError, RetryableFailure};
use super::extract::RequestUow;
use crate::engine::retry::RetryPolicy;
use crate::orm::SessionMaker;
use crate::repository::SqlUnitOfWork;

/// A tower layer giving every request its own unit of work.
///
/// For each request it opens a [scoped](SqlUnitOfWork::scoped)
/// `SqlUnitOfWork` on a new session from its [`SessionMaker`] (no
/// connection is taken until the handler's first statement), puts it in
/// the request's extensions for [`RequestUow`], and runs the inner
/// service. Then:
///
/// | the handler | the transaction |
/// |---|---|
/// | answers 2xx | committed (flush + `COMMIT`); if that fails the response is replaced by the error's ([`ApiError`]: 409 for a conflict, 503 when the database is gone, ...) |
/// | answers anything else (an [`ApiError`], a rejected extractor, a 3xx) | rolled back; the response is kept |
/// | panics | rolled back; the client gets a 500 JSON error |
/// | is cancelled (the client disconnected, a timeout layer gave up) | the future is dropped with the session: its connection goes back to the pool, which rolls the transaction back before handing it out again |
///
/// A handler never commits by itself: services that call
/// [`UnitOfWork::commit`](domain::UnitOfWork::commit) on the request's
/// unit of work only flush, so everything a request did becomes durable
/// together, or not at all.
///
/// With [`retry`](Self::retry), a request that failed because concurrent
/// work got in the way (a [`DomainError::Concurrency`](domain::DomainError::Concurrency):
/// a serialization failure, a deadlock, SQLite's busy snapshot, stale
/// data, at a statement or at the commit) is rolled back and run again
/// from the start, on a new unit of work, after a random pause.
#[derive(Debug, Clone)]
pub struct UnitOfWorkLayer {
    sessions: SessionMaker,
    retry: Retry,
}

/// When and how a layer replays a request.
#[derive(Debug, Clone)]
struct Retry {
    policy: RetryPolicy,
    /// Largest body (by `Content-Length`) buffered for a replay; a larger
    /// or chunked one runs once.
    max_body: usize,
}

/// The largest body a replayable request may have: axum's default body
/// limit.
const MAX_REPLAYED_BODY: usize = 2 << 20;

impl UnitOfWorkLayer {
    /// Units of work on sessions from `sessions`; each request runs once.
    pub fn new(sessions: SessionMaker) -> Self {
        UnitOfWorkLayer {
            sessions,
            retry: Retry {
                policy: RetryPolicy::attempts(1),
                max_body: MAX_REPLAYED_BODY,
            },
        }
    }

    /// Replays a request that failed with a concurrency error, up to
    /// `policy.max_attempts` runs in all with `policy`'s pauses between
    /// them. Only requests whose body has a `Content-Length` of at most
    /// 2 MiB are replayed (their body is buffered); the last run's
    /// response is the one sent.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry.policy = policy;
        self
    }
}

impl<S> Layer<S> for UnitOfWorkLayer {
    type Service = UnitOfWorkService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        UnitOfWorkService {
            inner,
            sessions: self.sessions.clone(),
            retry: self.retry.clone(),
        }
    }
}

/// The service [`UnitOfWorkLayer`] wraps around a router or handler.
#[derive(Debug, Clone)]
pub struct UnitOfWorkService<S> {
    inner: S,
    sessions: SessionMaker,
    retry: Retry,
}

impl<S> Service<Request> for UnitOfWorkService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The clone that was made ready is the one to call first (tower's
        // rule); replays make their clone ready themselves.
        let ready = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, ready);
        let sessions = self.sessions.clone();
        let retry = self.retry.clone();
        Box::pin(async move { Ok(run(inner, sessions, retry, req).await) })
    }
}

/// Runs the request on a unit of work, again while it fails with a
/// retryable error and `retry` allows.
async fn run<S>(mut inner: S, sessions: SessionMaker, retry: Retry, req: Request) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let replayable = retry.policy.max_attempts > 1
        && req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|n| n <= retry.max_body);
    if !replayable {
        return once(&mut inner, &sessions, req).await;
    }
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, retry.max_body).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::bad_request("the request body could not be read").into_response()
        }
    };
    let mut attempt = 1;
    loop {
        let req = Request::from_parts(parts.clone(), axum::body::Body::from(body.clone()));
        let response = once(&mut inner, &sessions, req).await;
        let failed = response.extensions().get::<RetryableFailure>().is_some();
        if !failed || attempt >= retry.policy.max_attempts {
            return response;
        }
        tracing::debug!(
            attempt,
            "concurrent work got in the way; running the request again"
        );
        tokio::time::sleep(retry.policy.backoff(attempt)).await;
        attempt += 1;
        inner = inner.clone();
        if let Err(never) = std::future::poll_fn(|cx| inner.poll_ready(cx)).await {
            match never {}
        }
    }
}

/// One run of the request on a new unit of work.
async fn once<S>(inner: &mut S, sessions: &SessionMaker, mut req: Request) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let uow = SqlUnitOfWork::scoped(sessions);
    req.extensions_mut().insert(RequestUow(uow.clone()));
    let outcome = AssertUnwindSafe(inner.call(req)).catch_unwind().await;
    end(uow, outcome).await
}

/// Ends the request's transaction by the handler's outcome and returns the
/// response to send.
async fn end(
    uow: SqlUnitOfWork,
    outcome: Result<Result<Response, Infallible>, Box<dyn std::any::Any + Send>>,
) -> Response {
    let response = match outcome {
        Ok(Ok(response)) => response,
        Ok(Err(never)) => match never {},
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(panic = %what, "handler panicked; rolling back");
            if let Err(e) = uow.finish(false).await {
                tracing::warn!(error = %e, "rollback after a panic failed");
            }
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error",
            )
            .into_response();
        }
    };
    let commit = response.status().is_success();
    match uow.finish(commit).await {
        Ok(()) => {
            tracing::debug!(committed = commit, status = %response.status(), "unit of work ended");
            response
        }
        Err(e) if commit => ApiError::from(e).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "rollback after an error response failed");
            response
        }
    }
}
