//! [`ApiError`]: a domain error (or a rejected request) as a JSON error
//! response with the status a client expects.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::DomainError;

/// An error response: `{"error": {"status": 422, "code": "invalid",
/// "message": "..."}}` with that status.
///
/// Built from a [`DomainError`] (`?` in a handler converts it) or with
/// [`ApiError::new`] for errors of the HTTP layer itself. The message is
/// [`public_message`]: no SQL, no bound values, and nothing at all of an
/// internal error (that is logged, at `error` level, instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The response status.
    pub status: StatusCode,
    /// A short machine-readable name: `not_found`, `conflict`, `invalid`,
    /// `concurrency`, `unavailable`, `internal`, or the HTTP layer's own
    /// (`bad_request`, `payload_too_large`, ...).
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// Whether running the request again may succeed (a
    /// [`DomainError::Concurrency`]): [`UnitOfWorkLayer::retry`](super::UnitOfWorkLayer::retry)
    /// replays such requests.
    pub retryable: bool,
}

/// Marks a response made from a retryable [`ApiError`] (in its extensions),
/// for [`UnitOfWorkLayer::retry`](super::UnitOfWorkLayer::retry).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryableFailure;

impl ApiError {
    /// An error with its status, code and message (which goes to the
    /// client as it is: put no SQL or stored values in it).
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retryable: false,
        }
    }

    /// A 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// A 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "error": {
                "status": self.status.as_u16(),
                "code": self.code,
                "message": self.message,
            }
        })
    }
}

/// The HTTP status of a domain error: `NotFound` 404, `Conflict` and
/// `Concurrency` 409, `Invalid` 422, `Unavailable` 503, anything else
/// (`Internal`, `NotLoaded`, variants added later) 500.
pub fn status_of(e: &DomainError) -> StatusCode {
    match e {
        DomainError::NotFound { .. } => StatusCode::NOT_FOUND,
        DomainError::Conflict(_) | DomainError::Concurrency(_) => StatusCode::CONFLICT,
        DomainError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        DomainError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn code_of(e: &DomainError) -> &'static str {
    match e {
        DomainError::NotFound { .. } => "not_found",
        DomainError::Conflict(_) => "conflict",
        DomainError::Concurrency(_) => "concurrency",
        DomainError::Invalid(_) => "invalid",
        DomainError::Unavailable(_) => "unavailable",
        _ => "internal",
    }
}

/// What a client may read of `e`.
///
/// A rule the domain states (`a worker named "Vlad" is already hired`) and
/// a missing entity are shown as they are. An error that came from the
/// database keeps the server's value-free message (the constraint it
/// names) and loses the statement: the `[SQL: ...]` part that the
/// persistence error carries for logs is cut. Retryable errors get a fixed
/// text; internal ones (bugs, an unloaded relation) say only that
/// something went wrong.
pub fn public_message(e: &DomainError) -> String {
    match e {
        DomainError::NotFound { .. } => e.to_string(),
        DomainError::Conflict(m) => format!("conflict: {}", without_statement(m)),
        DomainError::Invalid(m) => format!("invalid: {}", without_statement(m)),
        DomainError::Concurrency(_) => {
            "a concurrent change got in the way; try the request again".to_owned()
        }
        DomainError::Unavailable(_) => {
            "the database is unavailable; try the request again later".to_owned()
        }
        _ => "internal error".to_owned(),
    }
}

/// A persistence error's message without its statement: the text between
/// "error from the database: " and " [SQL: ", or the message as it is when
/// it names no statement.
fn without_statement(message: &str) -> &str {
    let message = match message.find(crate::error::FROM_DATABASE) {
        Some(at) => &message[at + crate::error::FROM_DATABASE.len()..],
        None => message,
    };
    match message.find(crate::error::SQL_MARK) {
        Some(at) => &message[..at],
        None => message,
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let status = status_of(&e);
        if status.is_server_error() {
            tracing::error!(error = %e, "request failed");
        } else {
            tracing::debug!(error = %e, "request refused");
        }
        ApiError {
            status,
            code: code_of(&e),
            message: public_message(&e),
            retryable: matches!(e, DomainError::Concurrency(_)),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body().to_string();
        let mut response = (
            self.status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        if self.retryable {
            response.extensions_mut().insert(RetryableFailure);
        }
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let cases = [
            (
                DomainError::NotFound {
                    entity: "Worker",
                    id: "7".into(),
                },
                404,
            ),
            (DomainError::conflict("x"), 409),
            (DomainError::concurrency("x"), 409),
            (DomainError::invalid("x"), 422),
            (DomainError::unavailable("x"), 503),
            (DomainError::internal("x"), 500),
            (DomainError::NotLoaded { relation: "posts" }, 500),
        ];
        for (e, status) in cases {
            assert_eq!(ApiError::from(e.clone()).status.as_u16(), status, "{e}");
        }
    }

    #[test]
    fn messages_lose_the_statement() {
        let e = DomainError::conflict(
            "Integrity(Unique) error from the database: duplicate key value violates unique \
             constraint \"worker_name_key\" [SQL: INSERT INTO worker (name) VALUES ($1)]",
        );
        let api = ApiError::from(e);
        assert_eq!(
            api.message,
            "conflict: duplicate key value violates unique constraint \"worker_name_key\""
        );
        assert_eq!(api.body()["error"]["code"], "conflict");
        let internal = ApiError::from(DomainError::internal("SELECT secret FROM t"));
        assert_eq!(internal.message, "internal error");
        let rule = ApiError::from(DomainError::invalid("a worker name must not be empty"));
        assert_eq!(rule.message, "invalid: a worker name must not be empty");
    }
}
