//! The mapping of the domain's plain structs to tables, from the outside
//! (the seed's `start_mappers()` with `registry.map_imperatively`).
//!
//! The domain module knows nothing of this file. Relationship fields are
//! listed after `..` in [`mapping!`] (they are not columns: a struct built
//! from a row has them `Related::NotLoaded`) and configured as the ORM's
//! relationships on the mapper builders:
//!
//! | relationship | kind | cascade |
//! |---|---|---|
//! | `Worker::resumes` | one-to-many through `resume.worker_id` | save-update; delete-orphan; deletes left to `ON DELETE CASCADE` (passive) |
//! | `Publisher::posts` | one-to-many through `post.publisher_id` | the same |
//! | `Post::tags` | many-to-many through `post_tag` | save-update: a tag pushed onto a loaded `tags` becomes a `post_tag` row, a tag removed from it deletes its row |
//!
//! Loader strategies pick them by name: the domain's
//! [`Worker::RESUMES`], [`Publisher::POSTS`] and [`Post::TAGS`] in
//! `Repository::get_with` / `list_with` plans, or `selectinload("posts")`
//! on an ORM select (see [`repositories`](crate::repositories)). A
//! misspelled relationship or a foreign key that does not fit fails in
//! [`start_mappers`], at `configure()`.
//!
//! | table | columns |
//! |---|---|
//! | `worker` | `id` (serial), `name` (unique) |
//! | `resume` | `id`, `title`, `compensation`, `workload` (enum), `worker_id` → `worker.id` ON DELETE CASCADE, `created_at`, `updated_at` |
//! | `publisher` | `id`, `name` (unique) |
//! | `post` | `id`, `title`, `draft` (default true), `publisher_id` → `publisher.id` ON DELETE CASCADE, `created_at`, `published_at`; unique (`publisher_id`, `title`) |
//! | `tag` | `id`, `name` (unique) |
//! | `post_tag` | `post_id` → `post.id`, `tag_id` → `tag.id` (both ON DELETE CASCADE), primary key (`post_id`, `tag_id`) |

use persistence::dialects::{Column, ReferentialAction, SqlType, Table, UniqueConstraint};
use persistence::orm::{presets, Cascade, Mappers, Registry, RelOptions, RelationshipDef};
use persistence::{mapping, Error};

use crate::domain::hiring::{Resume, Worker, Workload};
use crate::domain::publishing::{Post, Publisher, Tag};

persistence::text_enum!(Workload as "workload" { PartTime = "parttime", FullTime = "fulltime" });

/// The association table of posts and tags (no struct maps it).
pub const POST_TAG: &str = "post_tag";

// Typed column handles for the repositories' own queries:
// `publisher::id.eq(id)` accepts only what converts into an `i64`.

persistence::columns!(pub(crate) mod worker for Worker in "worker" {
    id: i64,
    name: String,
});

persistence::columns!(pub(crate) mod resume for Resume in "resume" {
    id: i64,
    title: String,
    compensation: Option<i32>,
    workload: Workload,
    worker_id: i64,
});

persistence::columns!(pub(crate) mod publisher for Publisher in "publisher" {
    id: i64,
    name: String,
});

persistence::columns!(pub(crate) mod post for Post in "post" {
    id: i64,
    title: String,
    draft: bool,
    publisher_id: i64,
});

persistence::columns!(pub(crate) mod tag for Tag in "tag" {
    id: i64,
    name: String,
});

fn serial_id() -> Column {
    presets::intpk(Column::new("id", SqlType::Integer))
}

/// A parent's children: saved with it, deleted when they leave its loaded
/// collection (their foreign key is NOT NULL), and deleted with it by the
/// database's `ON DELETE CASCADE` rather than one DELETE each.
fn owned_children() -> RelOptions {
    RelOptions::default().cascade(Cascade {
        passive_deletes: true,
        ..Cascade::all_delete_orphan()
    })
}

fn parent_key(name: &str, target: &str) -> Column {
    Column::new(name, SqlType::Integer)
        .not_null()
        .foreign_key(target)
        .on_delete(ReferentialAction::Cascade)
}

/// Maps every struct and returns the configured mappings (their `metadata()`
/// holds all six tables, for `create_all`). A mapping that does not fit its
/// table is [`Error::Mapping`] naming the struct and the field.
pub fn start_mappers() -> Result<Mappers, Error> {
    let mut registry = Registry::new();

    let worker = Table::new("worker").column(serial_id()).column(
        Column::new("name", SqlType::string(256))
            .not_null()
            .unique(),
    );
    registry
        .map_imperatively(
            &worker,
            mapping!(Worker {
                id: Option<i64> = "id",
                name: String = "name",
                ..{ resumes }
            }),
        )
        .relationship(RelationshipDef::many(
            "resumes",
            |w: &Worker| &w.resumes,
            |w| &mut w.resumes,
            owned_children(),
        ))
        .finish();

    let resume = Table::new("resume")
        .column(serial_id())
        .column(Column::new("title", SqlType::string(256)).not_null())
        .column(Column::new("compensation", SqlType::Integer).nullable(true))
        .column(
            Column::new(
                "workload",
                <Workload as persistence::orm::SqlTypeOf>::sql_type(),
            )
            .not_null(),
        )
        .column(parent_key("worker_id", "worker.id"))
        .column(presets::created_at(Column::new(
            "created_at",
            SqlType::DateTime { timezone: false },
        )))
        .column(presets::updated_at(Column::new(
            "updated_at",
            SqlType::DateTime { timezone: false },
        )));
    registry
        .map_imperatively(
            &resume,
            mapping!(Resume {
                id: Option<i64> = "id",
                title: String = "title",
                compensation: Option<i32> = "compensation",
                workload: Workload = "workload",
                worker_id: i64 = "worker_id",
                created_at: Option<chrono::NaiveDateTime> = "created_at",
                updated_at: Option<chrono::NaiveDateTime> = "updated_at",
            }),
        )
        .finish();

    let publisher = Table::new("publisher").column(serial_id()).column(
        Column::new("name", SqlType::string(256))
            .not_null()
            .unique(),
    );
    registry
        .map_imperatively(
            &publisher,
            mapping!(Publisher {
                id: Option<i64> = "id",
                name: String = "name",
                ..{ posts }
            }),
        )
        .relationship(RelationshipDef::many(
            "posts",
            |p: &Publisher| &p.posts,
            |p| &mut p.posts,
            owned_children(),
        ))
        .finish();

    let post = Table::new("post")
        .column(serial_id())
        .column(Column::new("title", SqlType::string(256)).not_null())
        .column(
            Column::new("draft", SqlType::Boolean)
                .not_null()
                .default(true),
        )
        .column(parent_key("publisher_id", "publisher.id"))
        .column(presets::created_at(Column::new(
            "created_at",
            SqlType::DateTime { timezone: false },
        )))
        .column(Column::new("published_at", SqlType::DateTime { timezone: false }).nullable(true))
        .unique(UniqueConstraint::new(["publisher_id", "title"]));
    // The association table: no struct maps it, `Post::tags` goes through it.
    let post_tag = registry.add_table(
        Table::new(POST_TAG)
            .column(parent_key("post_id", "post.id").primary_key())
            .column(parent_key("tag_id", "tag.id").primary_key()),
    );
    registry
        .map_imperatively(
            &post,
            mapping!(Post {
                id: Option<i64> = "id",
                title: String = "title",
                draft: bool = "draft",
                publisher_id: i64 = "publisher_id",
                created_at: Option<chrono::NaiveDateTime> = "created_at",
                published_at: Option<chrono::NaiveDateTime> = "published_at",
                ..{ tags }
            }),
        )
        .relationship(RelationshipDef::many(
            "tags",
            |p: &Post| &p.tags,
            |p| &mut p.tags,
            RelOptions::default().secondary(&post_tag),
        ))
        .finish();

    let tag = Table::new("tag")
        .column(serial_id())
        .column(Column::new("name", SqlType::string(32)).not_null().unique());
    registry
        .map_imperatively(
            &tag,
            mapping!(Tag { id: Option<i64> = "id", name: String = "name" }),
        )
        .finish();

    registry.configure()
}

/// A mapped or association table by name, as an error when missing (a
/// programming error: [`start_mappers`] registers all of them).
pub fn table(mappers: &Mappers, name: &str) -> Result<Table, Error> {
    mappers
        .metadata()
        .table(name)
        .cloned()
        .ok_or_else(|| Error::NoSuchTable {
            table: name.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use persistence::dialects::{Sqlite, Value};
    use persistence::orm::SqlTypeOf;

    #[test]
    fn every_struct_maps_and_tables_sort_by_foreign_keys() -> Result<(), Error> {
        let mappers = start_mappers()?;
        let names: Vec<String> = mappers
            .metadata()
            .sorted_tables()?
            .iter()
            .map(|t| t.name().to_owned())
            .collect();
        let pos = |n: &str| names.iter().position(|x| x == n);
        assert!(pos("worker") < pos("resume"), "{names:?}");
        assert!(
            pos("publisher") < pos("post") && pos("post") < pos(POST_TAG),
            "{names:?}"
        );
        assert!(pos("tag") < pos(POST_TAG), "{names:?}");
        assert_eq!(table(&mappers, POST_TAG)?.primary_key().count(), 2);
        assert!(table(&mappers, "nope").is_err());
        Ok(())
    }

    #[test]
    fn workload_is_stored_as_text() -> Result<(), Error> {
        assert_eq!(Value::from(Workload::PartTime), Value::from("parttime"));
        assert_eq!(
            Workload::try_from(Value::from("fulltime")).ok(),
            Some(Workload::FullTime)
        );
        assert!(Workload::try_from(Value::from("contract")).is_err());
        assert!(matches!(Workload::sql_type(), SqlType::Enum { .. }));
        let ddl = persistence::dialects::CreateTable::new(&table(&start_mappers()?, "resume")?)
            .compile(&Sqlite)?;
        assert!(ddl.sql.contains("ON DELETE CASCADE"), "{}", ddl.sql);
        Ok(())
    }

    #[test]
    fn relationships_are_configured() -> Result<(), Error> {
        use persistence::orm::{RelationKind, RelationshipInfo};
        let mappers = start_mappers()?;
        let rel = |info: Option<std::sync::Arc<RelationshipInfo>>| {
            info.ok_or_else(|| Error::Mapping {
                type_name: "app_example",
                field: "(relationship)".into(),
                message: "not configured".into(),
            })
        };
        let resumes = rel(mappers.relationship_info::<Worker>(Worker::RESUMES.name()))?;
        assert_eq!(resumes.kind, RelationKind::OneToMany);
        assert_eq!(resumes.resolved()?.fk, "worker_id");
        assert!(resumes.cascade.delete_orphan && resumes.cascade.passive_deletes);
        let posts = rel(mappers.relationship_info::<Publisher>(Publisher::POSTS.name()))?;
        assert_eq!(posts.kind, RelationKind::OneToMany);
        assert_eq!(posts.resolved()?.fk, "publisher_id");
        let tags = rel(mappers.relationship_info::<Post>(Post::TAGS.name()))?;
        assert_eq!(tags.kind, RelationKind::ManyToMany);
        let through = tags.resolved()?;
        assert_eq!(
            (through.fk.as_str(), through.target_fk.as_deref()),
            ("post_id", Some("tag_id"))
        );
        assert!(mappers.relationship_info::<Tag>("posts").is_none());
        Ok(())
    }

    #[test]
    fn typed_columns_check_their_values() {
        let cond = resume::workload.eq(Workload::FullTime);
        let _ = (
            worker::name.eq("Vlad"),
            post::draft.eq(true),
            tag::name.like("r%"),
        );
        let _ = (publisher::id.in_([1_i64, 2]), cond);
    }
}
