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

use super::error::ApiError;
use super::extract::RequestUow;
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
#[derive(Debug, Clone)]
pub struct UnitOfWorkLayer {
    sessions: SessionMaker,
}

impl UnitOfWorkLayer {
    /// Units of work on sessions from `sessions`.
    pub fn new(sessions: SessionMaker) -> Self {
        UnitOfWorkLayer { sessions }
    }
}

impl<S> Layer<S> for UnitOfWorkLayer {
    type Service = UnitOfWorkService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        UnitOfWorkService {
            inner,
            sessions: self.sessions.clone(),
        }
    }
}

/// The service [`UnitOfWorkLayer`] wraps around a router or handler.
#[derive(Debug, Clone)]
pub struct UnitOfWorkService<S> {
    inner: S,
    sessions: SessionMaker,
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

    fn call(&mut self, mut req: Request) -> Self::Future {
        let uow = SqlUnitOfWork::scoped(&self.sessions);
        req.extensions_mut().insert(RequestUow(uow.clone()));
        // The clone that was made ready is the one to call (tower's rule).
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        Box::pin(async move {
            let outcome = AssertUnwindSafe(inner.call(req)).catch_unwind().await;
            Ok(end(uow, outcome).await)
        })
    }
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
