//! Handlers of the publishing context: publishers, posts and their tags.

use axum::http::StatusCode;
use axum::Json;
use domain::{DomainError, ListSpec, Load};
use persistence::web::{ApiError, ApiJson, RequestUow};

use super::dto::{
    tag_names, PageJson, PostJson, PostTitle, PublisherJson, PublisherName, TagNames,
};
use super::extract::{Id, Paging};
use crate::repositories::{PublishingUow, SqlPublishingUow};
use crate::services::publishing;
use app_domain::publishing::{Post, Publisher};
use app_domain::{PostId, PublisherId};

type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

/// `POST /publishers`: founds a publisher (names are unique: 409).
pub async fn create_publisher(
    RequestUow(uow): RequestUow,
    ApiJson(body): ApiJson<PublisherName>,
) -> Created<PublisherJson> {
    let publisher = publishing::found_publisher(&mut SqlPublishingUow::on(uow), &body.name).await?;
    Ok((StatusCode::CREATED, Json(PublisherJson::from(&publisher))))
}

/// `GET /publishers?page=&per_page=`: publishers by id (posts not loaded).
pub async fn list_publishers(
    RequestUow(uow): RequestUow,
    paging: Paging,
) -> Result<Json<PageJson<PublisherJson>>, ApiError> {
    let uow = SqlPublishingUow::on(uow);
    let page = uow.publishers().page(&paging.spec()).await?;
    Ok(Json(PageJson::of(page, |e| PublisherJson::from(e))))
}

/// `GET /publishers/{id}`: a publisher with its posts and their tags
/// (three statements).
pub async fn get_publisher(
    RequestUow(uow): RequestUow,
    Id(id): Id,
) -> Result<Json<PublisherJson>, ApiError> {
    let uow = SqlPublishingUow::on(uow);
    let id = PublisherId(id);
    let publisher = uow
        .publishers()
        .get_with(
            &id,
            &[Load::selectin(Publisher::POSTS).then(Load::selectin(Post::TAGS))],
        )
        .await?
        .ok_or_else(|| DomainError::not_found::<Publisher>(&id))?;
    Ok(Json(PublisherJson::from(&publisher)))
}

/// `PATCH /publishers/{id}`: renames a publisher.
pub async fn update_publisher(
    RequestUow(uow): RequestUow,
    Id(id): Id,
    ApiJson(body): ApiJson<PublisherName>,
) -> Result<Json<PublisherJson>, ApiError> {
    let uow = SqlPublishingUow::on(uow);
    let mut publisher = uow.publishers().get_one(&PublisherId(id)).await?;
    publisher.rename(&body.name)?;
    let spec = ListSpec::new()
        .filter_eq("name", publisher.name.clone())
        .filter_ne("id", id);
    if uow.publishers().count(&spec).await? > 0 {
        return Err(DomainError::conflict(format!(
            "a publisher named `{}` exists",
            publisher.name
        ))
        .into());
    }
    let publisher = uow.publishers().add(publisher).await?;
    Ok(Json(PublisherJson::from(&publisher)))
}

/// `DELETE /publishers/{id}`: the publisher and its posts.
pub async fn delete_publisher(
    RequestUow(uow): RequestUow,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    let uow = SqlPublishingUow::on(uow);
    let publisher = uow.publishers().get_one(&PublisherId(id)).await?;
    uow.publishers().remove(&publisher).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /publishers/{id}/posts`: drafts a post (titles unique per
/// publisher).
pub async fn create_post(
    RequestUow(uow): RequestUow,
    Id(id): Id,
    ApiJson(body): ApiJson<PostTitle>,
) -> Created<PostJson> {
    let post = publishing::draft_post(&mut SqlPublishingUow::on(uow), PublisherId(id), &body.title)
        .await?;
    Ok((StatusCode::CREATED, Json(PostJson::from(&post))))
}

/// `GET /posts?page=&per_page=`: posts by id (tags not loaded).
pub async fn list_posts(
    RequestUow(uow): RequestUow,
    paging: Paging,
) -> Result<Json<PageJson<PostJson>>, ApiError> {
    let uow = SqlPublishingUow::on(uow);
    let page = uow.posts().page(&paging.spec()).await?;
    Ok(Json(PageJson::of(page, |e| PostJson::from(e))))
}

async fn post_with_tags(uow: &SqlPublishingUow, id: PostId) -> Result<Post, DomainError> {
    uow.posts()
        .get_with(&id, &[Load::selectin(Post::TAGS)])
        .await?
        .ok_or_else(|| DomainError::not_found::<Post>(&id))
}

/// `GET /posts/{id}`: a post with its tags.
pub async fn get_post(RequestUow(uow): RequestUow, Id(id): Id) -> Result<Json<PostJson>, ApiError> {
    let uow = SqlPublishingUow::on(uow);
    let post = post_with_tags(&uow, PostId(id)).await?;
    Ok(Json(PostJson::from(&post)))
}

/// `PATCH /posts/{id}`: a new title, through the publisher's aggregate.
pub async fn update_post(
    RequestUow(uow): RequestUow,
    Id(id): Id,
    ApiJson(body): ApiJson<PostTitle>,
) -> Result<Json<PostJson>, ApiError> {
    let uow = SqlPublishingUow::on(uow);
    let post = uow.posts().get_one(&PostId(id)).await?;
    let mut publisher = uow.publishers().get_with_posts(post.publisher_id).await?;
    let post = publisher.retitle_post(PostId(id), &body.title)?;
    let post = uow.posts().add(post).await?;
    Ok(Json(PostJson::from(&post)))
}

/// `DELETE /posts/{id}`: the post and its tag links.
pub async fn delete_post(RequestUow(uow): RequestUow, Id(id): Id) -> Result<StatusCode, ApiError> {
    let uow = SqlPublishingUow::on(uow);
    let post = uow.posts().get_one(&PostId(id)).await?;
    uow.posts().remove(&post).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /posts/{id}/publish`: publishes a draft.
pub async fn publish_post(
    RequestUow(uow): RequestUow,
    Id(id): Id,
) -> Result<Json<PostJson>, ApiError> {
    let mut uow = SqlPublishingUow::on(uow);
    let post = uow.posts().get_one(&PostId(id)).await?;
    let post = publishing::publish_post(&mut uow, post.publisher_id, PostId(id)).await?;
    Ok(Json(PostJson::from(&post)))
}

/// `POST /posts/{id}/tags`: tags a post; answers all its tag names.
pub async fn tag_post(
    RequestUow(uow): RequestUow,
    Id(id): Id,
    ApiJson(body): ApiJson<TagNames>,
) -> Result<Json<Vec<String>>, ApiError> {
    let names: Vec<&str> = body.tags.iter().map(String::as_str).collect();
    let tags = publishing::tag_post(&mut SqlPublishingUow::on(uow), PostId(id), &names).await?;
    Ok(Json(tag_names(&tags)))
}
