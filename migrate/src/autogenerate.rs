//! `revision --autogenerate` and `check`: the mappings compared with the
//! database, written as a new migration file or reported as differences.

use std::path::{Path, PathBuf};

use dialects::MetaData;
use persistence::Engine;

use crate::diff::{compare, Diff};
use crate::error::MigrateError;
use crate::reflect::ReflectExt;
use crate::revisions::Migrations;
use crate::runner;
use crate::script::{render, Change, Header};

/// The difference between `target` (the mappings) and the database of
/// `engine`. The database must be at the head of `migrations`, so that
/// the new migration follows everything already written.
pub async fn autogenerate(
    engine: &Engine,
    migrations: &Migrations,
    target: &MetaData,
) -> Result<Diff, MigrateError> {
    let status = runner::current(engine, migrations).await?;
    let head = migrations.all().len();
    if status.applied != head || status.partial.is_some() {
        return Err(MigrateError::WrongDirection {
            command: "autogenerate",
            current: migrations.revision_at(status.applied),
            target: migrations.revision_at(head),
            reason: "the database is not at the head; run `upgrade head` first",
        });
    }
    let mut conn = crate::connect(engine).await?;
    let database = MetaData::reflect(&mut conn).await?;
    Ok(compare(target, &database, engine.dialect()))
}

/// `check`: an error listing every difference when the database is not
/// at the head of `migrations` or differs from `target`.
pub async fn check(
    engine: &Engine,
    migrations: &Migrations,
    target: &MetaData,
) -> Result<(), MigrateError> {
    let status = runner::current(engine, migrations).await?;
    let mut changes = Vec::new();
    if status.applied != migrations.all().len() || status.partial.is_some() {
        changes.push(format!(
            "the database is at `{}`, the migrations' head is `{}`",
            migrations.revision_at(status.applied),
            migrations.revision_at(migrations.all().len())
        ));
    }
    let mut conn = crate::connect(engine).await?;
    let database = MetaData::reflect(&mut conn).await?;
    changes.extend(compare(target, &database, engine.dialect()).describe());
    if changes.is_empty() {
        Ok(())
    } else {
        Err(MigrateError::Differs { changes })
    }
}

/// A revision id for `message` now: `20240601120000_add_email`.
pub fn revision_id(message: &str) -> String {
    let slug: String = message
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S");
    if slug.is_empty() {
        stamp.to_string()
    } else {
        format!("{stamp}_{}", &slug[..slug.len().min(48)])
    }
}

/// Writes a new migration file into `dir` after the head of `migrations`
/// and returns its path. `dialect` renders the few expressions that have
/// no neutral spelling.
pub fn write_revision(
    dir: &Path,
    migrations: &Migrations,
    message: &str,
    upgrade: &[Change],
    downgrade: &[Change],
    dialect: &dyn dialects::Dialect,
    notes: Vec<String>,
) -> Result<PathBuf, MigrateError> {
    let mut revision = revision_id(message);
    let mut n = 1;
    while migrations.get(&revision).is_some() || dir.join(format!("{revision}.toml")).exists() {
        n += 1;
        revision = format!("{}_{n}", revision_id(message));
    }
    let head = migrations.head().map(|m| m.revision.clone());
    let text = render(
        &Header {
            revision: &revision,
            down_revision: head.as_deref(),
            message,
            notes,
        },
        upgrade,
        downgrade,
        dialect,
    );
    // What is written must read back.
    crate::file::parse(&revision, &revision, &text)?;
    std::fs::create_dir_all(dir).map_err(|source| MigrateError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let path = dir.join(format!("{revision}.toml"));
    std::fs::write(&path, text).map_err(|source| MigrateError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(path)
}
