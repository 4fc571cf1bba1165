//! The example's mapping: every struct maps, tables sort by foreign keys,
//! relationships resolve, and typed handles bind through the codecs.

use app_domain::hiring::Workload;
use app_domain::publishing::{Post, Publisher, Tag};
use app_domain::WorkerId;
use app_example::mapping::{post, resume, start_mappers, POST_TAG};
use persistence::dialects::{CreateTable, Sqlite, Table};
use persistence::orm::{Mappers, RelationKind};
use persistence::Error;

fn table(mappers: &Mappers, name: &str) -> Result<Table, Error> {
    let found = mappers.metadata().table(name).cloned();
    found.ok_or_else(|| Error::NoSuchTable {
        table: name.to_owned(),
    })
}

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
    assert!(pos("publisher") < pos("post") && pos("post") < pos(POST_TAG));
    assert!(pos("tag") < pos(POST_TAG), "{names:?}");
    assert_eq!(table(&mappers, POST_TAG)?.primary_key().count(), 2);
    let ddl = CreateTable::new(&table(&mappers, "resume")?).compile(&Sqlite)?;
    for part in [
        "title VARCHAR(256) NOT NULL",
        "ON DELETE CASCADE",
        "skills TEXT NOT NULL",
    ] {
        assert!(ddl.sql.contains(part), "{part} in {}", ddl.sql);
    }
    Ok(())
}

#[test]
fn relationships_are_configured() -> Result<(), Error> {
    let mappers = start_mappers()?;
    let posts = mappers
        .relationship_info::<Publisher>(Publisher::POSTS.name())
        .ok_or(Error::NoResultFound)?;
    assert_eq!(posts.kind, RelationKind::OneToMany);
    assert_eq!(posts.resolved()?.fk, "publisher_id");
    assert!(posts.cascade.delete_orphan && posts.cascade.passive_deletes);
    let tags = mappers
        .relationship_info::<Post>(Post::TAGS.name())
        .ok_or(Error::NoResultFound)?;
    assert_eq!(tags.kind, RelationKind::ManyToMany);
    assert_eq!(tags.resolved()?.target_fk.as_deref(), Some("tag_id"));
    assert!(mappers.relationship_info::<Tag>("posts").is_none());
    Ok(())
}

#[test]
fn typed_handles_bind_through_the_codecs() {
    let by_worker = format!("{:?}", resume::worker_id.eq(WorkerId(3)));
    assert!(by_worker.contains("BigInt(3)"), "{by_worker}");
    let by_load = format!("{:?}", resume::workload.eq(Workload::PartTime));
    assert!(by_load.contains("\"parttime\""), "{by_load}");
    assert_eq!(resume::COLUMNS.len(), 8);
    assert_eq!(post::TABLE, "post");
}
