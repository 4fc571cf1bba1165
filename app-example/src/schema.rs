//! The schema on a database: the migrations in `app-example/migrations/`
//! (embedded in the binary) for a SQLite file, `drop_all` + `create_all`
//! for an in-memory database and for the servers the demo borrows.

use migrate::{MigrateError, Migrations};
use persistence::orm::Mappers;
use persistence::{Backend, DatabaseUrl, Engine, SchemaExt};

use crate::error::AppError;

/// The example's migrations, embedded (`migrate::embed_migrations!`).
pub fn migrations() -> Result<Migrations, MigrateError> {
    migrate::embed_migrations!("migrations", ["20261202071832_initial_schema.toml"])
}

/// Brings the schema of `engine` to the mappings' with no rows (the demo
/// starts from nothing): a SQLite file (`sqlite://app.db?mode=rwc`) is
/// upgraded to the head of [`migrations`] and its rows deleted, so that
/// its schema is versioned like a real service's; an in-memory database
/// or a server gets `drop_all` + `create_all`.
pub async fn prepare(engine: &Engine, mappers: &Mappers) -> Result<(), AppError> {
    let mut conn = engine.connect().await?;
    let url = DatabaseUrl::parse(&engine.url())?;
    if url.backend() != Backend::Sqlite || url.is_sqlite_memory() {
        mappers.metadata().drop_all(&mut conn).await?;
        mappers.metadata().create_all(&mut conn).await?;
        return Ok(());
    }
    migrate::upgrade(engine, &migrations()?).await?;
    let mut tables = mappers
        .metadata()
        .sorted_tables()
        .map_err(persistence::Error::from)?;
    tables.reverse();
    for t in &tables {
        conn.execute(&persistence::dialects::delete(t)).await?;
    }
    conn.commit().await?;
    Ok(())
}

/// Brings the schema of `engine` to the mappings and keeps what is stored
/// (`app-example serve`): a SQLite file is upgraded to the head of
/// [`migrations`]; an in-memory database or a server gets the tables that
/// are missing (`create_all`, which checks first).
pub async fn prepare_service(engine: &Engine, mappers: &Mappers) -> Result<(), AppError> {
    let url = DatabaseUrl::parse(&engine.url())?;
    if url.backend() == Backend::Sqlite && !url.is_sqlite_memory() {
        migrate::upgrade(engine, &migrations()?).await?;
        return Ok(());
    }
    let mut conn = engine.connect().await?;
    mappers.metadata().create_all(&mut conn).await?;
    Ok(())
}
