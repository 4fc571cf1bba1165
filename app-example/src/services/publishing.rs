//! Publishing services: found a publisher, draft and publish posts, tag
//! posts, and list the catalogue.

use chrono::{NaiveDateTime, Timelike};
use domain::{DomainError, ListSpec, Load};

use super::commit_or_rollback;
use crate::repositories::PublishingUow;
use app_domain::publishing::{Post, Publisher, Tag};
use app_domain::{PostId, PublisherId};

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
    publisher_id: PublisherId,
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
    publisher_id: PublisherId,
    post_id: PostId,
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
///
/// The post is loaded with its tags ([`Post::TAGS`], selectin: two
/// statements); the new tags are pushed onto that collection
/// ([`Post::tag`]) and the post is stored, so the mapping's many-to-many
/// relationship writes the `post_tag` rows at commit.
pub async fn tag_post(
    uow: &mut impl PublishingUow,
    post_id: PostId,
    names: &[&str],
) -> Result<Vec<Tag>, DomainError> {
    let result = tag_post_in(&*uow, post_id, names).await;
    commit_or_rollback(uow, result).await
}

async fn tag_post_in(
    uow: &impl PublishingUow,
    post_id: PostId,
    names: &[&str],
) -> Result<Vec<Tag>, DomainError> {
    let mut wanted: Vec<Tag> = names
        .iter()
        .map(|n| Tag::new(n))
        .collect::<Result<_, _>>()?;
    wanted.sort_by(|a, b| a.name.cmp(&b.name));
    wanted.dedup_by(|a, b| a.name == b.name);
    let mut post = uow
        .posts()
        .get_with(&post_id, &[Load::selectin(Post::TAGS)])
        .await?
        .ok_or_else(|| DomainError::not_found::<Post>(&post_id))?;
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
    if post.tag(existing.into_iter().chain(created))? > 0 {
        post = uow.posts().add(post).await?;
    }
    Ok(post.tags.require("tags")?.clone())
}

/// Every publisher (by id) with its posts (by id) and each post's tags (by
/// name): one load plan, [`Publisher::POSTS`] then [`Post::TAGS`] by
/// selectin, so three statements (publishers, posts, tags) whatever the
/// number of rows.
pub async fn catalogue(uow: &mut impl PublishingUow) -> Result<Vec<Publisher>, DomainError> {
    let result = async {
        let mut publishers = uow
            .publishers()
            .list_with(
                &ListSpec::new().order_by_asc("id"),
                &[Load::selectin(Publisher::POSTS).then(Load::selectin(Post::TAGS))],
            )
            .await?;
        // The loader orders each level by primary key; tags read by name.
        for post in publishers
            .iter_mut()
            .filter_map(|p| p.posts.get_mut())
            .flatten()
        {
            if let Some(tags) = post.tags.get_mut() {
                tags.sort_by(|a, b| a.name.cmp(&b.name));
            }
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
    use app_domain::TagId;
    use domain::{FilterValue, LoadStep, LoadStrategy, Related};

    fn publisher(id: i64, posts: Vec<Post>) -> Publisher {
        Publisher {
            id: Some(PublisherId(id)),
            name: "Manning".into(),
            posts: Related::Loaded(posts),
        }
    }

    fn post(id: i64, publisher_id: i64, title: &str, draft: bool) -> Post {
        Post {
            id: Some(PostId(id)),
            title: title.into(),
            draft,
            publisher_id: PublisherId(publisher_id),
            created_at: None,
            published_at: None,
            tags: Related::NotLoaded,
        }
    }

    fn tag(id: i64, name: &str) -> Tag {
        Tag {
            id: Some(TagId(id)),
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
            .own
            .expect_get_with_posts()
            .returning(|id| Ok(publisher(id.0, vec![post(1, id.0, "Old", false)])));
        uow.posts
            .expect_add()
            .withf(|p| p.draft && p.publisher_id == PublisherId(2) && p.title == "New")
            .times(1)
            .returning(|p| {
                Ok(Post {
                    id: Some(PostId(9)),
                    ..p
                })
            });
        uow.tx.expect_commit().times(1).returning(|| Ok(()));
        assert_eq!(
            draft_post(&mut uow, PublisherId(2), "New").await?.id,
            Some(PostId(9))
        );
        Ok(())
    }

    #[tokio::test]
    async fn publish_post_publishes_a_draft() -> Result<(), DomainError> {
        let mut uow = FakePublishingUow::default();
        uow.publishers
            .own
            .expect_get_with_posts()
            .returning(|id| Ok(publisher(id.0, vec![post(5, id.0, "Draft", true)])));
        uow.posts
            .expect_add()
            .withf(|p| p.id == Some(PostId(5)) && !p.draft && p.published_at.is_some())
            .times(1)
            .returning(Ok);
        uow.tx.expect_commit().times(1).returning(|| Ok(()));
        assert!(publish_post(&mut uow, PublisherId(1), PostId(5))
            .await?
            .is_published());
        Ok(())
    }

    #[tokio::test]
    async fn publishing_twice_or_elsewhere_fails() {
        let mut uow = FakePublishingUow::default();
        uow.publishers
            .own
            .expect_get_with_posts()
            .returning(|id| Ok(publisher(id.0, vec![post(5, id.0, "Done", false)])));
        uow.posts.expect_add().never();
        uow.tx.expect_rollback().times(2).returning(|| Ok(()));
        let twice = publish_post(&mut uow, PublisherId(1), PostId(5)).await;
        assert!(matches!(twice, Err(DomainError::Invalid(m)) if m.contains("already published")));
        let elsewhere = publish_post(&mut uow, PublisherId(1), PostId(6)).await;
        assert!(elsewhere.is_err_and(|e| e.is_not_found()));
    }

    #[tokio::test]
    async fn tag_post_creates_missing_tags_and_links_only_new_ones() -> Result<(), DomainError> {
        let mut uow = FakePublishingUow::default();
        uow.posts
            .expect_get_with()
            .withf(|id, load| *id == PostId(7) && load.len() == 1 && load[0].path() == "tags")
            .times(1)
            .returning(|id, _| {
                let mut p = post(id.0, 1, "Post", true);
                p.tags = Related::Loaded(vec![tag(1, "rust")]);
                Ok(Some(p))
            });
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
            .returning(|tags| {
                Ok(tags
                    .into_iter()
                    .map(|t| Tag {
                        id: Some(TagId(3)),
                        ..t
                    })
                    .collect())
            });
        // The post goes back with its tags: the relationship writes the links.
        uow.posts
            .expect_add()
            .withf(|p| {
                p.tags.get().is_some_and(|ts| {
                    ts.iter().map(|t| t.id).collect::<Vec<_>>()
                        == [Some(TagId(3)), Some(TagId(1)), Some(TagId(2))]
                })
            })
            .times(1)
            .returning(Ok);
        uow.tx.expect_commit().times(1).returning(|| Ok(()));
        let tags = tag_post(&mut uow, PostId(7), &["Rust", "sql", "orm", "rust "]).await?;
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["orm", "rust", "sql"]);
        Ok(())
    }

    #[tokio::test]
    async fn tag_post_with_known_tags_stores_nothing() -> Result<(), DomainError> {
        let mut uow = FakePublishingUow::default();
        uow.posts.expect_get_with().returning(|id, _| {
            let mut p = post(id.0, 1, "Post", true);
            p.tags = Related::Loaded(vec![tag(2, "sql"), tag(1, "rust")]);
            Ok(Some(p))
        });
        uow.tags
            .expect_list()
            .returning(|_| Ok(vec![tag(1, "rust")]));
        uow.tags.expect_add_all().returning(Ok);
        uow.posts.expect_add().never();
        uow.tx.expect_commit().times(1).returning(|| Ok(()));
        let tags = tag_post(&mut uow, PostId(7), &["rust"]).await?;
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["rust", "sql"]);
        Ok(())
    }

    #[tokio::test]
    async fn tag_post_on_a_missing_post_is_not_found() {
        let mut uow = FakePublishingUow::default();
        uow.posts.expect_get_with().returning(|_, _| Ok(None));
        uow.tags.expect_list().never();
        uow.tx.expect_rollback().times(1).returning(|| Ok(()));
        let err = tag_post(&mut uow, PostId(7), &["rust"]).await;
        assert!(err.is_err_and(|e| e.is_not_found()));
    }

    #[tokio::test]
    async fn tag_post_refuses_bad_names_first() {
        let mut uow = FakePublishingUow::default();
        uow.posts.expect_get_with().never();
        uow.tx.expect_rollback().times(1).returning(|| Ok(()));
        assert!(tag_post(&mut uow, PostId(7), &["two words"]).await.is_err());
    }

    #[tokio::test]
    async fn catalogue_loads_posts_and_tags_in_one_plan() -> Result<(), DomainError> {
        let mut uow = FakePublishingUow::default();
        uow.publishers
            .expect_list_with()
            .withf(|spec, load| {
                let steps = [
                    LoadStep {
                        relation: "posts",
                        strategy: LoadStrategy::SelectIn,
                    },
                    LoadStep {
                        relation: "tags",
                        strategy: LoadStrategy::SelectIn,
                    },
                ];
                spec.order_by.len() == 1 && load.len() == 1 && load[0].steps() == steps
            })
            .times(1)
            .returning(|_, _| {
                let mut a = post(10, 1, "A", true);
                a.tags = Related::Loaded(Vec::new());
                let mut b = post(11, 1, "B", false);
                b.tags = Related::Loaded(vec![tag(2, "sql"), tag(1, "rust")]);
                Ok(vec![publisher(1, vec![a, b]), publisher(2, Vec::new())])
            });
        uow.posts.expect_list().never();
        uow.tx.expect_commit().times(1).returning(|| Ok(()));
        let all = catalogue(&mut uow).await?;
        let first = all[0].posts.require("posts")?;
        assert_eq!(first.len(), 2);
        assert_eq!(first[0].tags, Related::Loaded(Vec::new()));
        let names: Vec<&str> = first[1]
            .tags
            .require("tags")?
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(names, ["rust", "sql"], "tags by name");
        assert_eq!(all[1].posts, Related::Loaded(Vec::new()));
        Ok(())
    }
}
