//! # migrate
//!
//! Schema migrations for the persistence framework, after Alembic: a
//! folder of migration files with an upgrade and a downgrade each
//! ([`file`]), a version table and a runner for `upgrade`, `downgrade`,
//! `current`, `stamp` and offline SQL ([`runner`]), autogenerate from the
//! mappings' [`MetaData`](dialects::MetaData) compared with the live
//! database ([`diff`], [`autogenerate`]), `MetaData::reflect(&mut conn)`
//! ([`reflect`]), mapping declarations generated for existing tables
//! ([`generate`]), and a clap CLI ([`cli`]).
//!
//! ```no_run
//! # async fn demo(engine: persistence::Engine) -> Result<(), migrate::MigrateError> {
//! // or embedded in the binary: migrate::embed_migrations!("migrations", ["20240601120000_initial.toml"])
//! let migrations = migrate::Migrations::from_dir("migrations")?;
//! migrate::upgrade(&engine, &migrations).await?;     // to head, each migration atomic where DDL is
//! # Ok(()) }
//! ```
//!
//! The operations are the dialects' [`AlterOp`](dialects::schema::alter::AlterOp)s, compiled
//! per backend when they run; SQLite's missing `ALTER TABLE` forms become
//! table rebuilds that keep every row and foreign key.

pub mod autogenerate;
pub mod cli;
pub mod diff;
pub mod error;
pub mod file;
pub mod generate;
pub mod reflect;
pub mod revisions;
pub mod runner;
pub mod script;
pub mod types;
pub mod version;

pub use autogenerate::{autogenerate, check};
pub use diff::{compare, Diff};
pub use error::{Location, MigrateError};
pub use file::Migration;
pub use reflect::ReflectExt;
pub use revisions::Migrations;
pub use runner::{current, downgrade, stamp, upgrade, upgrade_to, Outcome};

/// A connection in autocommit mode: the runner begins and commits its
/// transactions itself (one per migration where DDL is transactional), and
/// what it runs outside them (the version table's creation, MySQL's steps)
/// commits on its own.
pub(crate) async fn connect(
    engine: &persistence::Engine,
) -> Result<persistence::Connection, persistence::Error> {
    let mut conn = engine.connect().await?;
    conn.set_autocommit(true);
    Ok(conn)
}
