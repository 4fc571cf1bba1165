//! The API's own extractors: an id in the path and paging in the query,
//! each refusing bad input with a JSON 400.

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use domain::ListSpec;
use persistence::web::ApiError;
use serde::Deserialize;

/// The `{id}` of the path, an integer.
#[derive(Debug, Clone, Copy)]
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<i64>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Id(id)),
            Err(_) => Err(ApiError::bad_request(
                "the id in the path must be an integer",
            )),
        }
    }
}

/// Largest page size.
pub const MAX_PER_PAGE: u64 = 100;

/// `?page=N&per_page=M`: 1-based page (default 1), 1 to [`MAX_PER_PAGE`]
/// entities per page (default 20).
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    /// The page number.
    pub page: u64,
    /// The page size.
    pub per_page: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PagingQuery {
    page: Option<u64>,
    per_page: Option<u64>,
}

impl Paging {
    /// A listing of this page, by id.
    pub fn spec(self) -> ListSpec {
        ListSpec::new()
            .order_by_asc("id")
            .page(self.page, self.per_page)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Ok(Query(q)) = Query::<PagingQuery>::from_request_parts(parts, state).await else {
            return Err(ApiError::bad_request(
                "paging is `?page=N&per_page=M` with positive integers",
            ));
        };
        let page = q.page.unwrap_or(1);
        let per_page = q.per_page.unwrap_or(20);
        if page == 0 || per_page == 0 || per_page > MAX_PER_PAGE {
            return Err(ApiError::bad_request(format!(
                "page starts at 1 and per_page is 1 to {MAX_PER_PAGE}"
            )));
        }
        Ok(Paging { page, per_page })
    }
}
