//! # persistence
//!
//! Everything that talks to a database: the engine and its drivers (sqlx; rusqlite for SQLite),
//! connections, rows and results, and schema creation from a
//! [`MetaData`](dialects::MetaData). It re-exports the expression language of
//! the `dialects` crate, so an application depends on `persistence` and
//! `domain` alone.
//!
//! ```no_run
//! use persistence::prelude::*;
//!
//! # async fn demo() -> Result<(), persistence::Error> {
//! let mut metadata = MetaData::new();
//! let worker = metadata.add(Table::new("worker")
//!     .column(Column::new("id", SqlType::Integer).primary_key())
//!     .column(Column::new("name", SqlType::string(256)).not_null()));
//!
//! let engine = create_engine("sqlite::memory:").await?;
//! let mut conn = engine.connect().await?;
//! metadata.create_all(&mut conn).await?;
//! conn.execute(&insert(&worker).values([("name", "Vlad")])).await?;
//! let rows = conn.execute(&select(&worker).where_(worker.c("name").eq("Vlad"))).await?;
//! let name: String = rows.one()?.get("name")?;
//! assert_eq!(name, "Vlad");
//! # Ok(()) }
//! ```

// A build without any backend (`--no-default-features`) compiles
// statements and maps types, but every connection attempt fails with
// `Error::UnsupportedScheme`: the code that talks to databases is there,
// unreachable.
#![cfg_attr(
    not(any(feature = "postgres", feature = "sqlite", feature = "mysql")),
    allow(
        unreachable_code,
        unused_imports,
        unused_variables,
        dead_code,
        clippy::drop_non_drop
    )
)]

pub mod driver;
pub mod engine;
pub mod error;
pub(crate) mod free_list;
pub mod orm;
pub mod repository;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "axum")]
pub mod web;

pub use dialects;
pub use engine::connection::{Connection, RowStream};
pub use engine::engine::{create_engine, create_engine_with, Engine, EngineOptions};
pub use engine::inspect::{
    inspect, Inspector, ReflectedCheck, ReflectedColumn, ReflectedForeignKey, ReflectedIndex,
    ReflectedUniqueConstraint,
};
pub use engine::pool::{PoolKind, PoolOptions, PoolStatus};
pub use engine::result::QueryResult;
pub use engine::retry::{RetryPolicy, Retryable};
pub use engine::row::{FromRow, Row, RowIndex};
pub use engine::schema::{SchemaExt, SchemaOptions};
pub use engine::sqlite_options::{JournalMode, SqliteOptions, Synchronous};
pub use engine::transaction::{IsolationLevel, Transaction};
pub use engine::url::{Backend, DatabaseUrl};
pub use error::{DatabaseDetail, Error, ErrorKind, IntegrityKind};
pub use repository::{SqlRepository, SqlUnitOfWork};

/// The names an application needs, in one import: Core (engine,
/// expression language, schema) and the ORM (registry, codecs, presets,
/// relationships, sessions, the mapping macros).
pub mod prelude {
    pub use crate::engine::schema::{SchemaExt, SchemaOptions};
    pub use crate::orm::{
        self, codec, presets, Cascade, Col, Mappers, Model, Registry, RelOptions, RelationshipDef,
        Session, SessionMaker, SessionOptions, SqlTypeOf,
    };
    pub use crate::{
        columns, create_engine, create_engine_with, mapping, model, text_enum, Connection, Engine,
        EngineOptions, Error, Row, SqlRepository, SqlUnitOfWork,
    };
    pub use dialects::{
        and_, bindparam, case, cast, delete, exists, func, insert, literal, not_, or_,
        partition_by, select, text, update, Column, Dialect, Expr, Index, MetaData,
        ReferentialAction, SqlType, Statement, Table, UniqueConstraint, Value,
    };
}
