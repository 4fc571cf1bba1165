//! The example service's domain: plain structs with behaviour, and nothing
//! that knows about tables, SQL or sessions.
//!
//! Two bounded contexts:
//!
//! - [`hiring`]: a [`Worker`](hiring::Worker) and their
//!   [`Resume`](hiring::Resume)s (the seed's `WorkerModel` / `ResumeModel`);
//! - [`publishing`]: a [`Publisher`](publishing::Publisher), its
//!   [`Post`](publishing::Post)s, and [`Tag`](publishing::Tag)s on posts
//!   (many-to-many).
//!
//! Each struct implements [`domain::Entity`]; rules that fail answer
//! [`domain::DomainError::Invalid`] (or `NotLoaded` when a rule needs a
//! relation the caller did not load). Relationship fields are
//! [`domain::Related`] values, and their names are [`domain::Relation`]
//! constants next to their structs (`Worker::RESUMES`, `Publisher::POSTS`,
//! `Post::TAGS`) for the load plans services pass to repositories. How the
//! structs and relations reach tables is `crate::mapping`'s business.

pub mod hiring;
pub mod publishing;
