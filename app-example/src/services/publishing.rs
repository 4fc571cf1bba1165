//! Publishing services: found a publisher, draft and publish posts, tag
//! posts, and list the catalogue.

use std::collections::HashMap;

use chrono::{NaiveDateTime, Timelike};
use domain::{DomainError, ListSpec, Related};

use super::commit_or_rollback;
use crate::domain::publishing::{Post, Publisher, Tag};
use crate::repositories::PublishingUow;

/// Now, in UTC, to the second (every backend stores that exactly).
fn now() -> NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    now.with_nanosecond(0).unwrap_or(now)
}

/// Founds a publisher called `name`. A name in use is
/// [`DomainError::Conflict`].
pub async fn found_publisher(
    uow: &mut impl PublishingUow,
    name: &str,
) -> Result<Publisher, DomainError> {
    let result = async {
        let publisher = Publisher::new(name)?;
        let spec = ListSpec::new().filter_eq("name", publisher.name.clone());
        if uow.publishers().count(&spec).await? > 0 {
            return Err(DomainError::conflict(format!(
                "a publisher named `{}` exists",
                publisher.name
            )));
        }
        uow.publishers().add(publisher).await
    }
    .await;
    commit_or_rollback(uow, result).await
}

/// Drafts a post `title` for the publisher `publisher_id` (titles are
/// unique per publisher) and returns it stored.
pub async fn draft_post(
    uow: &mut impl PublishingUow,
    publisher_id: i64,
    title: &str,
) -> Result<Post, DomainError> {
    let result = async {
        let mut publisher = uow.publishers().get_with_posts(publisher_id).await?;
        let post = publisher.draft(title)?;
        uow.posts().add(post).await
    }
    .await;
    commit_or_rollback(uow, result).await
}

/// Publishes the post `post_id` of publisher `publisher_id`: the
/// publisher's aggregate checks that the post is theirs and still a draft.
pub async fn publish_post(
    uow: &mut impl PublishingUow,
    publisher_id: i64,
    post_id: i64,
) -> Result<Post, DomainError> {
    let result = async {
        let mut publisher = uow.publishers().get_with_posts(publisher_id).await?;
        let post = publisher.publish(post_id, now())?;
        uow.posts().add(post).await
    }
    .await;
    commit_or_rollback(uow, result).await
}

/// Tags the post `post_id` with `names` (normalised by [`Tag::new`]):
/// tags that do not exist yet are created, links that exist already are
/// kept, new links are inserted as association rows. Returns all the
/// post's tags, by name.
pub async fn tag_post(
    uow: &mut impl PublishingUow,
    post_id: i64,
    names: &[&str],
) -> Result<Vec<Tag>, DomainError> {
    let result = tag_post_in(&*uow, post_id, names).await;
    commit_or_rollback(uow, result).await
}

async fn tag_post_in(
    uow: &impl PublishingUow,
    post_id: i64,
    names: &[&str],
) -> Result<Vec<Tag>, DomainError> {
    let mut wanted: Vec<Tag> = names
        .iter()
        .map(|n| Tag::new(n))
        .collect::<Result<_, _>>()?;
    wanted.sort_by(|a, b| a.name.cmp(&b.name));
    wanted.dedup_by(|a, b| a.name == b.name);
    let post = uow.posts().get_one(&post_id).await?;
    let wanted_names: Vec<String> = wanted.iter().map(|t| t.name.clone()).collect();
    let existing = uow
        .tags()
        .list(&ListSpec::new().filter_in("name", wanted_names))
        .await?;
    let missing: Vec<Tag> = wanted
        .into_iter()
        .filter(|t| !existing.iter().any(|e| e.name == t.name))
        .collect();
    let created = uow.tags().add_all(missing).await?;
    let linked: Vec<Tag> = uow
        .tags()
        .tags_of(&[post_id])
        .await?
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let mut new_links = Vec::new();
    let mut all = linked.clone();
    for tag in existing.into_iter().chain(created) {
        if !linked.iter().any(|l| l.id == tag.id) {
            if let Some(id) = tag.id {
                new_links.push(id);
            }
            all.push(tag);
        }
    }
    if !new_links.is_empty() {
        let post_key = post.id.unwrap_or(post_id);
        uow.tags().attach(post_key, &new_links).await?;
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

/// Every publisher (by id) with its posts (by id) and each post's tags (by
/// name): three queries for the posts and two for the tags, whatever the
/// number of rows.
pub async fn catalogue(uow: &mut impl PublishingUow) -> Result<Vec<Publisher>, DomainError> {
    let result = async {
        let mut publishers = uow
            .publishers()
            .list(&ListSpec::new().order_by_asc("id"))
            .await?;
        let ids: Vec<i64> = publishers.iter().filter_map(|p| p.id).collect();
        let posts = uow
            .posts()
            .list(
                &ListSpec::new()
                    .filter_in("publisher_id", ids)
                    .order_by_asc("id"),
            )
            .await?;
        let post_ids: Vec<i64> = posts.iter().filter_map(|p| p.id).collect();
        let mut tags: HashMap<i64, Vec<Tag>> = HashMap::new();
        for (post_id, tag) in uow.tags().tags_of(&post_ids).await? {
            tags.entry(post_id).or_default().push(tag);
        }
        let mut by_publisher: HashMap<i64, Vec<Post>> = HashMap::new();
        for mut post in posts {
            let mine = post.id.and_then(|id| tags.remove(&id)).unwrap_or_default();
            post.tags = Related::Loaded(mine);
            by_publisher
                .entry(post.publisher_id)
                .or_default()
                .push(post);
        }
        for p in &mut publishers {
            let mine =
                p.id.and_then(|id| by_publisher.remove(&id))
                    .unwrap_or_default();
            p.posts = Related::Loaded(mine);
        }
        Ok(publishers)
    }
    .await;
    commit_or_rollback(uow, result).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakePublishingUow;
    use domain::FilterValue;

    fn publisher(id: i64, posts: Vec<Post>) -> Publisher {
        Publisher {
            id: Some(id),
            name: "Manning".into(),
            posts: Related::Loaded(posts),
        }
    }

    fn post(id: i64, publisher_id: i64, title: &str, draft: bool) -> Post {
        Post {
            id: Some(id),
            title: title.into(),
            draft,
            publisher_id,
            created_at: None,
            published_at: None,
            tags: Related::NotLoaded,
        }
    }

    fn tag(id: i64, name: &str) -> Tag {
        Tag {
            id: Some(id),
            name: name.into(),
        }
    }

    #[tokio::test]
    async fn found_publisher_refuses_a_taken_name() {
        let mut uow = FakePublishingUow::default();
        uow.publishers.expect_count().returning(|_| Ok(1));
        uow.publishers.expect_add().never();
        uow.tx.expect_rollback().times(1).returning(|| Ok(()));
        let err = found_publisher(&mut uow, "Manning").await;
        assert!(matches!(err, Err(DomainError::Conflict(_))));
    }

    #[tokio::test]
    async fn draft_post_goes_through_the_aggregate() -> Result<(), DomainError> {
        let mut uow = FakePublishingUow::default();
        uow.publishers
            .expect_get_with_posts()
            .returning(|id| Ok(publisher(id, vec![post(1, id, "Old", false)])));
        uow.posts
            .expect_add()
            .withf(|p| p.draft && p.publisher_id == 2 && p.title == "New")
            .times(1)
            .returning(|p| Ok(Post { id: Some(9), ..p }));
        uow.tx.expect_commit().times(1).returning(|| Ok(()));
        assert_eq!(draft_post(&mut uow, 2, "New").await?.id, Some(9));
        Ok(())
    }

    #[tokio::test]
    async fn publish_post_publishes_a_draft() -> Result<(), DomainError> {
        let mut uow = FakePublishingUow::default();
        uow.publishers
            .expect_get_with_posts()
            .returning(|id| Ok(publisher(id, vec![post(5, id, "Draft", true)])));
        uow.posts
            .expect_add()
            .withf(|p| p.id == Some(5) && !p.draft && p.published_at.is_some())
            .times(1)
            .returning(Ok);
        uow.tx.expect_commit().times(1).returning(|| Ok(()));
        assert!(publish_post(&mut uow, 1, 5).await?.is_published());
        Ok(())
    }

    #[tokio::test]
    async fn publishing_twice_or_elsewhere_fails() {
        let mut uow = FakePublishingUow::default();
        uow.publishers
            .expect_get_with_posts()
            .returning(|id| Ok(publisher(id, vec![post(5, id, "Done", false)])));
        uow.posts.expect_add().never();
        uow.tx.expect_rollback().times(2).returning(|| Ok(()));
        let twice = publish_post(&mut uow, 1, 5).await;
        assert!(matches!(twice, Err(DomainError::Invalid(m)) if m.contains("already published")));
        let elsewhere = publish_post(&mut uow, 1, 6).await;
        assert!(elsewhere.is_err_and(|e| e.is_not_found()));
    }

    #[tokio::test]
    async fn tag_post_creates_missing_tags_and_links_only_new_ones() -> Result<(), DomainError> {
        let mut uow = FakePublishingUow::default();
        uow.posts
            .expect_get_one()
            .returning(|id| Ok(post(*id, 1, "Post", true)));
        uow.tags
            .expect_list()
            .withf(|spec| {
                spec.filters[0].value
                    == FilterValue::List(vec!["orm".into(), "rust".into(), "sql".into()])
            })
            .returning(|_| Ok(vec![tag(1, "rust"), tag(2, "sql")]));
        uow.tags
            .expect_add_all()
            .withf(|tags| tags.len() == 1 && tags[0].name == "orm")
            .times(1)
            .returning(|tags| Ok(tags.into_iter().map(|t| Tag { id: Some(3), ..t }).collect()));
        uow.tags
            .expect_tags_of()
            .withf(|ids| ids == [7])
            .returning(|_| Ok(vec![(7, tag(1, "rust"))]));
        uow.tags
            .expect_attach()
            .withf(|post, ids| *post == 7 && ids == [2, 3])
            .times(1)
            .returning(|_, ids| Ok(ids.len() as u64));
        uow.tx.expect_commit().times(1).returning(|| Ok(()));
        let tags = tag_post(&mut uow, 7, &["Rust", "sql", "orm", "rust "]).await?;
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["orm", "rust", "sql"]);
        Ok(())
    }

    #[tokio::test]
    async fn tag_post_refuses_bad_names_first() {
        let mut uow = FakePublishingUow::default();
        uow.posts.expect_get_one().never();
        uow.tx.expect_rollback().times(1).returning(|| Ok(()));
        assert!(tag_post(&mut uow, 7, &["two words"]).await.is_err());
    }

    #[tokio::test]
    async fn catalogue_assembles_publishers_posts_and_tags() -> Result<(), DomainError> {
        let mut uow = FakePublishingUow::default();
        uow.publishers
            .expect_list()
            .returning(|_| Ok(vec![publisher(1, Vec::new()), publisher(2, Vec::new())]));
        uow.posts
            .expect_list()
            .times(1)
            .returning(|_| Ok(vec![post(10, 1, "A", true), post(11, 1, "B", false)]));
        uow.tags
            .expect_tags_of()
            .withf(|ids| ids == [10, 11])
            .times(1)
            .returning(|_| Ok(vec![(11, tag(1, "rust"))]));
        uow.tx.expect_commit().times(1).returning(|| Ok(()));
        let all = catalogue(&mut uow).await?;
        let first = all[0].posts.require("posts")?;
        assert_eq!(first.len(), 2);
        assert_eq!(first[0].tags, Related::Loaded(Vec::new()));
        assert_eq!(first[1].tags.require("tags")?[0].name, "rust");
        assert_eq!(all[1].posts, Related::Loaded(Vec::new()));
        Ok(())
    }
}
