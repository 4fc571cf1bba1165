//! One tracing span per request, around the unit of work, so that the
//! statement spans of the engine nest inside it.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// Runs the request inside a `request` span (method, path, and the status
/// once known) and logs its outcome.
pub async fn request_span(req: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        status = tracing::field::Empty,
    );
    async move {
        let started = std::time::Instant::now();
        let response = next.run(req).await;
        let status = response.status().as_u16();
        tracing::Span::current().record("status", status);
        tracing::info!(
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "answered"
        );
        response
    }
    .instrument(span)
    .await
}
