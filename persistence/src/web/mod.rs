//! One unit of work per HTTP request, for axum services (feature `axum`):
//! the Rust counterpart of the seed's FastAPI `get_session()` dependency.
//!
//! - [`UnitOfWorkLayer`] (a tower layer) opens a
//!   [scoped](crate::SqlUnitOfWork::scoped) [`SqlUnitOfWork`](crate::SqlUnitOfWork)
//!   per request from a [`SessionMaker`](crate::orm::SessionMaker), hands it
//!   to the handler, and ends its transaction after the handler: **commit**
//!   when the response is a success (2xx), **rollback** on any other status,
//!   on a panic (answered with a 500) and when the request is cancelled (the
//!   client went away and the server dropped the handler's future: the
//!   session is dropped, and the pool rolls its connection back).
//! - [`RequestUow`] is the extractor a handler takes to reach that unit of
//!   work.
//! - [`ApiError`] turns a [`DomainError`](domain::DomainError) into a JSON
//!   error response: not found 404, conflict 409, invalid 422, unavailable
//!   503, everything else 500. Its messages carry no SQL and no bound
//!   values; [`ApiJson`] is `axum::Json` whose rejections (malformed JSON,
//!   wrong types, a body too large) are such JSON errors too.
//!
//! ```
//! use axum::{routing::post, Router};
//! use domain::{Repository, UnitOfWork};
//! use persistence::web::{ApiError, ApiJson, RequestUow, UnitOfWorkLayer};
//!
//! # #[derive(Debug, Clone)] struct Worker { id: Option<i64>, name: String }
//! # impl domain::Entity for Worker { type Id = i64; fn id(&self) -> Option<i64> { self.id } }
//! #[derive(serde::Deserialize)]
//! struct NewWorker { name: String }
//!
//! async fn hire(RequestUow(uow): RequestUow, ApiJson(body): ApiJson<NewWorker>)
//!     -> Result<String, ApiError> {
//!     let worker = uow.repository::<Worker>().add(Worker { id: None, name: body.name }).await?;
//!     Ok(format!("{:?}", worker.id)) // a 2xx: the layer commits
//! }
//!
//! fn app(sessions: persistence::orm::SessionMaker) -> Router {
//!     Router::new().route("/workers", post(hire)).layer(UnitOfWorkLayer::new(sessions))
//! }
//! ```

mod error;
mod extract;
mod layer;

pub use error::{public_message, status_of, ApiError};
pub use extract::{ApiJson, RequestUow};
pub use layer::{UnitOfWorkLayer, UnitOfWorkService};
