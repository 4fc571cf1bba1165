//! The schema model: tables, columns, types, constraints and indexes.

pub mod alter;
pub mod column;
pub mod constraint;
pub mod metadata;
pub mod table;
pub mod types;

pub use column::{Column, ColumnDefault, ForeignKey, ReferentialAction, ServerDefault};
pub use constraint::{CheckConstraint, Index, UniqueConstraint};
pub use metadata::MetaData;
pub use table::{Table, TableForeignKey};
pub use types::SqlType;
