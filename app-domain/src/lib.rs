//! # app-domain
//!
//! The example service's domain model, in a crate of its own that depends
//! on the `domain` ports alone: no persistence framework, no SQL crate, no
//! database types. How its structs reach tables is `app-example`'s
//! mapping's business, written from the outside with codecs, as a real
//! service's mapping crate would map a domain crate it does not own.
//!
//! Two bounded contexts:
//!
//! - [`hiring`]: a [`Worker`](hiring::Worker) and their
//!   [`Resume`](hiring::Resume)s (the seed's `WorkerModel` /
//!   `ResumeModel`), with the [`Workload`](hiring::Workload) enum and the
//!   [`Skills`](hiring::Skills) value object;
//! - [`publishing`]: a [`Publisher`](publishing::Publisher), its
//!   [`Post`](publishing::Post)s, and [`Tag`](publishing::Tag)s on posts
//!   (many-to-many).
//!
//! Identities are newtypes ([`ids`]): a `WorkerId` cannot be passed where a
//! `PostId` is expected. Each struct implements [`domain::Entity`]; rules
//! that fail answer [`domain::DomainError::Invalid`] (or `NotLoaded` when
//! a rule needs a relation the caller did not load). Relationship fields
//! are [`domain::Related`] values, and their names are
//! [`domain::Relation`] constants next to their structs (`Worker::RESUMES`,
//! `Publisher::POSTS`, `Post::TAGS`).

pub mod hiring;
pub mod ids;
pub mod publishing;

pub use ids::{PostId, PublisherId, ResumeId, TagId, WorkerId};
