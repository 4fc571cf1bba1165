//! Extractors: [`RequestUow`] (the request's unit of work) and
//! [`ApiJson`] (a JSON body whose rejections are [`ApiError`]s).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::repository::SqlUnitOfWork;

/// The request's unit of work, opened by [`UnitOfWorkLayer`](super::UnitOfWorkLayer).
///
/// A [scoped](SqlUnitOfWork::scoped) `SqlUnitOfWork`: repositories from it
/// share one session and one transaction, services may call `commit`
/// (which flushes) and `rollback` as usual, and the layer commits or rolls
/// back after the handler. Extracting it from a route without the layer is
/// a 500 (`"no unit of work: add UnitOfWorkLayer"`), a wiring mistake.
#[derive(Debug, Clone)]
pub struct RequestUow(pub SqlUnitOfWork);

impl<S: Send + Sync> FromRequestParts<S> for RequestUow {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestUow>()
            .cloned()
            .ok_or_else(|| {
                tracing::error!(
                    "a handler asked for RequestUow on a route without UnitOfWorkLayer"
                );
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "no unit of work: add UnitOfWorkLayer",
                )
            })
    }
}

/// `axum::Json<T>`, whose rejections are JSON [`ApiError`]s: a body that
/// is not JSON 400 (`malformed_json`), JSON of the wrong shape or types 422
/// (`invalid_body`), no `application/json` content type 415, a body over
/// the size limit (axum's `DefaultBodyLimit`, 2 MB unless changed) 413.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    let status = rejection.status();
    let code = match rejection {
        JsonRejection::JsonDataError(_) => "invalid_body",
        JsonRejection::JsonSyntaxError(_) => "malformed_json",
        JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        _ => "bad_request",
    };
    ApiError::new(status, code, rejection.body_text())
}
