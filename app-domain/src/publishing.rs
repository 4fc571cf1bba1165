//! Publishing: publishers, their posts, and tags on posts.

use chrono::NaiveDateTime;
use domain::{DomainError, Entity, Related, Relation};

use crate::ids::{PostId, PublisherId, TagId};

/// Longest publisher name or post title, in characters.
pub const MAX_TITLE: usize = 256;

/// Longest tag, in characters.
pub const MAX_TAG: usize = 32;

/// A publisher (the seed's `Publisher` with its `posts` relationship).
#[derive(Debug, Clone, PartialEq)]
pub struct Publisher {
    /// `None` until the database assigns it.
    pub id: Option<PublisherId>,
    /// Unique among publishers.
    pub name: String,
    /// The publisher's posts, when loaded.
    pub posts: Related<Vec<Post>>,
}

/// A post of a publisher: a draft until published.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// `None` until the database assigns it.
    pub id: Option<PostId>,
    /// The title, unique per publisher.
    pub title: String,
    /// Whether the post is still a draft.
    pub draft: bool,
    /// The publisher.
    pub publisher_id: PublisherId,
    /// Set by the database on insert.
    pub created_at: Option<NaiveDateTime>,
    /// When it was published.
    pub published_at: Option<NaiveDateTime>,
    /// The post's tags, when loaded.
    pub tags: Related<Vec<Tag>>,
}

/// A tag: a short lowercase word (letters, digits, `-`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag {
    /// `None` until the database assigns it.
    pub id: Option<TagId>,
    /// The normalised name.
    pub name: String,
}

fn checked_title(what: &str, text: &str) -> Result<String, DomainError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_TITLE {
        return Err(DomainError::invalid(format!(
            "a {what} has 1 to {MAX_TITLE} characters"
        )));
    }
    Ok(text.to_owned())
}

impl Publisher {
    /// The [`posts`](Publisher::posts) relation, for load plans
    /// (`Load::selectin(Publisher::POSTS)`).
    pub const POSTS: Relation<Publisher> = Relation::new("posts");

    /// A new publisher (no id yet, no posts).
    pub fn new(name: &str) -> Result<Publisher, DomainError> {
        Ok(Publisher {
            id: None,
            name: checked_title("publisher name", name)?,
            posts: Related::Loaded(Vec::new()),
        })
    }

    /// Renames the publisher (1 to [`MAX_TITLE`] characters, trimmed).
    pub fn rename(&mut self, name: &str) -> Result<(), DomainError> {
        self.name = checked_title("publisher name", name)?;
        Ok(())
    }

    /// Gives the post `post_id` of this publisher a new title and returns it
    /// (store it with the post repository). Needs the posts loaded; titles
    /// are unique per publisher; a post of another publisher is
    /// [`DomainError::NotFound`].
    pub fn retitle_post(&mut self, post_id: PostId, title: &str) -> Result<Post, DomainError> {
        let title = checked_title("post title", title)?;
        let name = self.name.clone();
        let posts = self.posts.require_mut("posts")?;
        if posts
            .iter()
            .any(|p| p.title == title && p.id != Some(post_id))
        {
            return Err(DomainError::invalid(format!(
                "publisher `{name}` already has a post `{title}`"
            )));
        }
        let post = posts
            .iter_mut()
            .find(|p| p.id == Some(post_id))
            .ok_or_else(|| DomainError::not_found::<Post>(&post_id))?;
        post.title = title;
        Ok(post.clone())
    }

    /// A new draft post of this publisher (not stored yet). Needs the
    /// publisher's id and its posts loaded: titles are unique per publisher.
    pub fn draft(&mut self, title: &str) -> Result<Post, DomainError> {
        let Some(publisher_id) = self.id else {
            return Err(DomainError::invalid(format!(
                "publisher `{}` has no id yet: store it before drafting posts",
                self.name
            )));
        };
        let title = checked_title("post title", title)?;
        let posts = self.posts.require_mut("posts")?;
        if posts.iter().any(|p| p.title == title) {
            return Err(DomainError::invalid(format!(
                "publisher `{}` already has a post `{title}`",
                self.name
            )));
        }
        let post = Post {
            id: None,
            title,
            draft: true,
            publisher_id,
            created_at: None,
            published_at: None,
            tags: Related::Loaded(Vec::new()),
        };
        posts.push(post.clone());
        Ok(post)
    }

    /// Publishes the post `post_id` of this publisher at `at` and returns it
    /// (store it with the post repository). Needs the posts loaded; a post
    /// of another publisher is [`DomainError::NotFound`].
    pub fn publish(&mut self, post_id: PostId, at: NaiveDateTime) -> Result<Post, DomainError> {
        let posts = self.posts.require_mut("posts")?;
        let post = posts
            .iter_mut()
            .find(|p| p.id == Some(post_id))
            .ok_or_else(|| DomainError::not_found::<Post>(&post_id))?;
        post.publish(at)?;
        Ok(post.clone())
    }

    /// The loaded posts that are still drafts.
    pub fn drafts(&self) -> Result<Vec<&Post>, DomainError> {
        Ok(self
            .posts
            .require("posts")?
            .iter()
            .filter(|p| p.draft)
            .collect())
    }
}

impl Post {
    /// The [`tags`](Post::tags) relation, for load plans
    /// (`Load::selectin(Publisher::POSTS).then(Load::selectin(Post::TAGS))`).
    pub const TAGS: Relation<Post> = Relation::new("tags");

    /// Puts `tags` on this post, skipping those it already has (same
    /// name), keeps its tags ordered by name, and returns how many were
    /// new. Needs the tags loaded ([`DomainError::NotLoaded`] otherwise):
    /// store the post to store the new links.
    pub fn tag(&mut self, tags: impl IntoIterator<Item = Tag>) -> Result<usize, DomainError> {
        let mine = self.tags.require_mut("tags")?;
        let before = mine.len();
        for tag in tags {
            if !mine.iter().any(|t| t.name == tag.name) {
                mine.push(tag);
            }
        }
        mine.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(mine.len() - before)
    }

    /// Publishes a draft: it is no longer a draft and carries the time.
    /// Publishing twice is [`DomainError::Invalid`].
    pub fn publish(&mut self, at: NaiveDateTime) -> Result<(), DomainError> {
        if !self.draft {
            return Err(DomainError::invalid(format!(
                "post `{}` is already published",
                self.title
            )));
        }
        self.draft = false;
        self.published_at = Some(at);
        Ok(())
    }

    /// Whether the post is published.
    pub fn is_published(&self) -> bool {
        !self.draft
    }
}

impl Tag {
    /// A new tag: trimmed and lowercased; 1 to [`MAX_TAG`] characters of
    /// ASCII letters, digits and `-`.
    pub fn new(name: &str) -> Result<Tag, DomainError> {
        let name = name.trim().to_ascii_lowercase();
        let ok = !name.is_empty()
            && name.len() <= MAX_TAG
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            return Err(DomainError::invalid(format!(
                "tag `{name}`: use 1 to {MAX_TAG} letters, digits or `-`"
            )));
        }
        Ok(Tag { id: None, name })
    }
}

impl Entity for Publisher {
    type Id = PublisherId;
    fn id(&self) -> Option<PublisherId> {
        self.id
    }
}

impl Entity for Post {
    type Id = PostId;
    fn id(&self) -> Option<PostId> {
        self.id
    }
}

impl Entity for Tag {
    type Id = TagId;
    fn id(&self) -> Option<TagId> {
        self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noon() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2024, 5, 1)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap_or_default()
    }

    #[test]
    fn drafts_and_publishing() -> Result<(), DomainError> {
        let mut unsaved = Publisher::new("Manning")?;
        assert!(unsaved.draft("Rust in Action").is_err());

        let mut p = Publisher::new(" Manning ")?;
        assert_eq!(p.name, "Manning");
        p.id = Some(PublisherId(3));
        let mut post = p.draft("Rust in Action")?;
        assert!(post.draft && post.publisher_id == PublisherId(3));
        assert!(p.draft("Rust in Action").is_err(), "titles are unique");
        assert_eq!(p.drafts()?.len(), 1);

        post.publish(noon())?;
        assert!(post.is_published());
        assert_eq!(post.published_at, Some(noon()));
        assert!(
            matches!(post.publish(noon()), Err(DomainError::Invalid(m)) if m.contains("already"))
        );

        // Through the aggregate.
        if let Some(posts) = p.posts.get_mut() {
            posts[0].id = Some(PostId(10));
        }
        let published = p.publish(PostId(10), noon())?;
        assert_eq!(published.id, Some(PostId(10)));
        assert!(p.drafts()?.is_empty());
        assert!(p
            .publish(PostId(11), noon())
            .is_err_and(|e| e.is_not_found()));
        p.posts = Related::NotLoaded;
        assert_eq!(
            p.publish(PostId(10), noon()),
            Err(DomainError::NotLoaded { relation: "posts" })
        );
        Ok(())
    }

    #[test]
    fn tagging_skips_known_tags_and_needs_them_loaded() -> Result<(), DomainError> {
        let mut p = Publisher::new("Manning")?;
        p.id = Some(PublisherId(1));
        let mut post = p.draft("Rust in Action")?;
        assert_eq!(post.tag([Tag::new("sql")?, Tag::new("Rust")?])?, 2);
        assert_eq!(post.tag([Tag::new("rust")?, Tag::new("orm")?])?, 1);
        let names: Vec<&str> = post
            .tags
            .require("tags")?
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(names, ["orm", "rust", "sql"]);
        post.tags = Related::NotLoaded;
        assert_eq!(
            post.tag([Tag::new("db")?]),
            Err(DomainError::NotLoaded { relation: "tags" })
        );
        Ok(())
    }

    #[test]
    fn tags_are_normalised() -> Result<(), DomainError> {
        assert_eq!(Tag::new(" Rust ")?.name, "rust");
        assert_eq!(Tag::new("async-io")?.name, "async-io");
        assert!(Tag::new("").is_err());
        assert!(Tag::new("two words").is_err());
        assert!(Tag::new(&"a".repeat(MAX_TAG + 1)).is_err());
        Ok(())
    }
}
