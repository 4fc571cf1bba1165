//! # dialects
//!
//! SQLAlchemy Core for Rust, pure: the SQL expression language, the schema
//! model with DDL, bound [`Value`]s, and one compiler per backend
//! ([`Postgres`], [`Sqlite`], [`MySql`]). Nothing here does I/O; the
//! `persistence` crate executes what this crate compiles.
//!
//! ```
//! use dialects::{select, Column, Dialect, Postgres, SqlType, Table};
//! let worker = Table::new("worker")
//!     .column(Column::new("id", SqlType::Integer).primary_key())
//!     .column(Column::new("name", SqlType::string(256)));
//! let compiled = select((worker.c("id"),)).where_(worker.c("name").eq("x; DROP TABLE worker")).compile(&Postgres).unwrap();
//! assert_eq!(compiled.sql, "SELECT worker.id FROM worker WHERE worker.name = $1");
//! ```
//!
//! Feature `test-fixtures` adds `fixtures`: the seed schema the
//! workspace's tests share.

pub mod compiler;
pub mod error;
#[cfg(feature = "test-fixtures")]
pub mod fixtures;
pub mod mysql;
pub mod postgres;
pub mod schema;
pub mod sql;
pub mod sqlite;
pub mod value;

pub use compiler::ddl::{
    CreateEnum, CreateIndex, CreateTable, Ddl, DropEnum, DropIndex, DropTable,
};
pub use compiler::statement::{DebugSql, Statement, StatementKind};
pub use compiler::{Compiled, Dialect, Features, MultiTable, Prepared, SqlWriter};
pub use error::CompileError;
pub use mysql::MySql;
pub use postgres::Postgres;
pub use schema::{
    CheckConstraint, Column, ForeignKey, Index, MetaData, ReferentialAction, SqlType, Table,
    UniqueConstraint,
};
pub use sql::alias::{Alias, Subquery};
pub use sql::compound::{except, intersect, union, union_all, CompoundSelect};
pub use sql::cte::Cte;
pub use sql::delete::{delete, Delete};
pub use sql::expr::{
    and_, bindparam, bindparam_with, case, case_value, cast, column, distinct, excluded, exists,
    literal, not_, not_exists, or_, star, tuple, DateField, Expr, IntoExpr,
};
pub use sql::func;
pub use sql::insert::{insert, Insert};
pub use sql::select::{
    select, Columns, Fetch, FilterPairs, Lock, OrderBy, OrderTerms, ParamSet, Select,
};
pub use sql::text::{literal_column, text, TextClause};
pub use sql::update::{update, Update};
pub use sql::values::{values, Values};
pub use sql::window::{order_by, partition_by, FrameBound, Window};
pub use sqlite::Sqlite;
pub use value::{Value, ValueError};
