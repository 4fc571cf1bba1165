//! The ORM: plain structs mapped from the outside, and a session with an
//! identity map and a unit of work (the seed's ORM section).
//!
//! ```no_run
//! use persistence::prelude::*;
//!
//! #[derive(Debug, Clone)]
//! pub struct Worker { pub id: Option<i64>, pub name: String }
//!
//! // One declaration: the table, the fields' codecs, typed column handles.
//! model!(pub mod worker for Worker in "worker" {
//!     id: Option<i64> = presets::intpk,
//!     name: String = |c| c.of_type(SqlType::string(256)).unique(),
//! });
//!
//! # async fn demo() -> Result<(), persistence::Error> {
//! let mut registry = Registry::new();
//! registry.map(worker::model()).finish();
//! let mappers = registry.configure()?;     // misfits and misspellings fail here
//!
//! let engine = create_engine("sqlite::memory:").await?;
//! mappers.metadata().create_all(&mut engine.connect().await?).await?;
//! let sessions = SessionMaker::new(engine, mappers);
//! let mut session = sessions.session();
//! let mut vlad = Worker { id: None, name: "Vlad".into() };
//! session.add(&mut vlad).await?;           // INSERT ... RETURNING: the id is written back
//! vlad.name = "Vladimir".into();
//! session.add(&mut vlad).await?;           // UPDATE worker SET name = ? WHERE id = ? (at flush)
//! session.commit().await?;
//! let found = session.scalars(orm::select::<Worker>().where_(worker::name.eq("Vladimir"))).await?.one()?;
//! assert_eq!(found.id, vlad.id);
//! # Ok(()) }
//! # fn main() {}
//! ```
//!
//! The modules, from what is mapped to what runs: [`codec`] and [`canon`]
//! (how a field becomes column values), [`mapper`] and [`registry`] (what
//! is mapped, validated once), [`relationship`] (how structs relate: the
//! declarations), [`identity`] (what the session remembers),
//! `unit_of_work` (the flush plan, pure), [`session`] (state and
//! statements) with [`savepoint`], and what works on a session: `accessor`
//! (each relationship's loading, cascades and write-back) and [`loading`]
//! (the loader strategies).

pub(crate) mod accessor;
pub(crate) mod autocommit;
pub mod bulk;
pub mod canon;
pub mod codec;
pub mod deferred;
pub(crate) mod evaluate;
pub mod identity;
pub(crate) mod joined;
pub mod loading;
pub mod macros;
pub mod mapper;
pub mod operators;
pub mod query;
pub mod registry;
pub mod relationship;
pub mod returning;
pub mod savepoint;
pub mod session;
pub mod state;
pub mod stream;
pub mod synchronize;
pub(crate) mod unit_of_work;

pub use bulk::{insert, Insert};
pub use identity::{IdentityKey, KeyPart};
pub use loading::{
    contains_eager, joinedload, load, noload, raiseload, selectinload, Load, Strategy,
};
pub use mapper::{Col, FieldError, Mapper, MapperInfo, SqlTypeOf};
pub use operators::Rel;
pub use query::{delete, select, update, Delete, ScalarResult, Select, Update};
pub use registry::{
    column_fn, presets, ColumnFn, FieldSpec, MapperBuilder, Mappers, MappingSpec, Model, Registry,
};
pub use relationship::{
    Cascade, ManyField, OneField, RelOptions, RelationKind, RelationshipDef, RelationshipInfo,
};
pub use savepoint::Savepoint;
pub use session::{Session, SessionMaker, SessionOptions};
pub use state::{NoAutoflush, ObjectState};
pub use stream::ObjectStream;
pub use synchronize::SynchronizeSession;
