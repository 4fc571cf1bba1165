//! The ORM: plain structs mapped from the outside, and a session with an
//! identity map and a unit of work (the seed's ORM section).
//!
//! ```no_run
//! use persistence::prelude::*;
//! use persistence::orm::{self, Registry, SessionMaker};
//!
//! #[derive(Debug, Clone)]
//! struct Worker { id: Option<i64>, name: String }
//!
//! # async fn demo() -> Result<(), persistence::Error> {
//! let mut registry = Registry::new();
//! let worker = Table::new("worker")
//!     .column(Column::new("id", SqlType::BigInteger).primary_key())
//!     .column(Column::new("name", SqlType::string(256)).not_null());
//! registry
//!     .map_imperatively(&worker, persistence::mapping!(Worker { id: Option<i64> = "id", name: String = "name" }))
//!     .finish();
//! let mappers = registry.configure()?;
//!
//! let engine = create_engine("sqlite::memory:").await?;
//! mappers.metadata().create_all(&mut engine.connect().await?).await?;
//! let sessions = SessionMaker::new(engine, mappers);
//! let mut session = sessions.session();
//! let mut vlad = Worker { id: None, name: "Vlad".into() };
//! session.persist(&mut vlad).await?;            // INSERT, id written back
//! vlad.name = "Vladimir".into();
//! session.add(&vlad)?;                          // UPDATE worker SET name = ? WHERE id = ?
//! session.commit().await?;
//! let found = session.scalars(orm::select::<Worker>().filter_by("name", "Vladimir")).await?.one()?;
//! assert_eq!(found.id, vlad.id);
//! # Ok(()) }
//! ```

pub mod bulk;
pub mod canon;
pub mod codec;
pub(crate) mod evaluate;
pub mod identity;
pub mod loading;
pub mod macros;
pub mod mapper;
pub mod operators;
pub mod query;
pub mod registry;
pub mod relationship;
pub mod returning;
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
pub use session::{Session, SessionMaker, SessionOptions};
pub use state::{NoAutoflush, ObjectState};
pub use stream::ObjectStream;
pub use synchronize::SynchronizeSession;
