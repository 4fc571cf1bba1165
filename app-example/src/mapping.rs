//! The mapping of the domain crate's plain structs to tables, from the
//! outside (the seed's `start_mappers()`): one [`model!`] declaration per
//! struct names each column once and yields its table, its fields' codecs
//! and its typed column handles (`post::publisher_id.eq(PublisherId(3))`).
//!
//! `app_domain` knows nothing of this file: its value objects are mapped
//! with codecs chosen here (newtype ids as integers, `Workload` as a text
//! enum, `Skills` as JSON), not with trait impls the orphan rule forbids.
//!
//! | relationship | kind | cascade |
//! |---|---|---|
//! | `Worker::resumes` | one-to-many through `resume.worker_id` | save-update; delete-orphan; deletes left to `ON DELETE CASCADE` (passive) |
//! | `Publisher::posts` | one-to-many through `post.publisher_id` | the same |
//! | `Post::tags` | many-to-many through `post_tag` | save-update: a tag pushed onto a loaded `tags` becomes a `post_tag` row |

use app_domain::hiring::{Resume, Skills, Worker, Workload};
use app_domain::publishing::{Post, Publisher, Tag};
use app_domain::{PostId, PublisherId, ResumeId, TagId, WorkerId};
use chrono::NaiveDateTime;
use persistence::orm::codec::{Newtype, ScalarCodecExt as _, TextEnum};
use persistence::prelude::*;

/// The association table of posts and tags (no struct maps it).
pub const POST_TAG: &str = "post_tag";

/// How `Workload` is stored: an enum type named `workload`.
pub const WORKLOAD: TextEnum<Workload> = codec::text_enum(
    "workload",
    &[
        (Workload::PartTime, "parttime"),
        (Workload::FullTime, "fulltime"),
    ],
);

// The id newtypes, stored as their integers.
mod ids {
    use super::*;
    pub const WORKER: Newtype<WorkerId, i64> = codec::newtype(WorkerId, |w| w.0);
    pub const RESUME: Newtype<ResumeId, i64> = codec::newtype(ResumeId, |r| r.0);
    pub const PUBLISHER: Newtype<PublisherId, i64> = codec::newtype(PublisherId, |p| p.0);
    pub const POST: Newtype<PostId, i64> = codec::newtype(PostId, |p| p.0);
    pub const TAG: Newtype<TagId, i64> = codec::newtype(TagId, |t| t.0);
}

/// A serial `INTEGER` key (the seed's `intpk`).
fn serial(c: Column) -> Column {
    presets::intpk(c.of_type(SqlType::Integer))
}

/// A parent's key: `INTEGER`, `ON DELETE CASCADE`.
fn parent(target: &'static str) -> impl FnOnce(Column) -> Column {
    move |c| {
        c.of_type(SqlType::Integer)
            .foreign_key(target)
            .on_delete(ReferentialAction::Cascade)
    }
}

model!(pub mod worker for Worker in "worker" {
    id: Option<WorkerId> [ids::WORKER.optional()] = serial,
    name: String = |c| c.unique(),
    ..{ resumes }
});

model!(pub mod resume for Resume in "resume" {
    id: Option<ResumeId> [ids::RESUME.optional()] = serial,
    title: String,
    compensation: Option<i32>,
    workload: Workload [WORKLOAD],
    skills: Skills [codec::json::<Skills>()],
    worker_id: WorkerId [ids::WORKER] = parent("worker.id"),
    created_at: Option<NaiveDateTime> = presets::created_at,
    updated_at: Option<NaiveDateTime> = presets::updated_at,
});

model!(pub mod publisher for Publisher in "publisher" {
    id: Option<PublisherId> [ids::PUBLISHER.optional()] = serial,
    name: String = |c| c.unique(),
    ..{ posts }
});

model!(pub mod post for Post in "post" {
    id: Option<PostId> [ids::POST.optional()] = serial,
    title: String,
    draft: bool = |c| c.default(true),
    publisher_id: PublisherId [ids::PUBLISHER] = parent("publisher.id"),
    created_at: Option<NaiveDateTime> = presets::created_at,
    published_at: Option<NaiveDateTime>,
    ..{ tags }
});

model!(pub mod tag for Tag in "tag" {
    id: Option<TagId> [ids::TAG.optional()] = serial,
    name: String = |c| c.of_type(SqlType::string(32)).unique(),
});

/// A parent's children: saved with it, deleted when they leave its loaded
/// collection, and deleted with it by the database's `ON DELETE CASCADE`.
fn owned_children() -> RelOptions {
    RelOptions::default().cascade(Cascade {
        passive_deletes: true,
        ..Cascade::all_delete_orphan()
    })
}

/// Maps every struct and returns the configured mappings (their
/// `metadata()` holds all six tables, for `create_all`). A mapping that
/// does not fit is [`Error::Mapping`] naming the struct and the field.
pub fn start_mappers() -> Result<Mappers, Error> {
    let mut registry = Registry::new();
    registry.type_annotation::<String>(SqlType::string(256));
    let post_tag = registry.add_table(
        Table::new(POST_TAG)
            .column(parent("post.id")(Column::new("post_id", SqlType::Integer)).primary_key())
            .column(parent("tag.id")(Column::new("tag_id", SqlType::Integer)).primary_key()),
    );
    registry
        .map(worker::model())
        .relationship(RelationshipDef::many(
            "resumes",
            |w: &Worker| &w.resumes,
            |w| &mut w.resumes,
            owned_children(),
        ))
        .finish();
    registry.map(resume::model()).finish();
    registry
        .map(publisher::model())
        .relationship(RelationshipDef::many(
            "posts",
            |p: &Publisher| &p.posts,
            |p| &mut p.posts,
            owned_children(),
        ))
        .finish();
    registry
        .map(post::model())
        .unique(UniqueConstraint::new([
            post::publisher_id.name(),
            post::title.name(),
        ]))
        .relationship(RelationshipDef::many(
            "tags",
            |p: &Post| &p.tags,
            |p| &mut p.tags,
            RelOptions::default().secondary(&post_tag),
        ))
        .finish();
    registry.map(tag::model()).finish();
    registry.configure()
}
