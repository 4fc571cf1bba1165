//! The `Statement` trait: anything that compiles to SQL text and parameters.

use super::cache_key::{CacheKey, Uncacheable, Walk};
use super::ddl::{self, CreateEnum, CreateIndex, CreateTable, Ddl, DropEnum, DropIndex, DropTable};
use super::writer::Prepared;
use super::{ansi, Compiled, Dialect, SqlWriter};
use crate::error::CompileError;
use crate::sql::compound::CompoundSelect;
use crate::sql::delete::Delete;
use crate::sql::insert::Insert;
use crate::sql::select::Select;
use crate::sql::text::TextClause;
use crate::sql::update::Update;

/// What kind of statement this is, for drivers that treat kinds differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    /// A query returning rows.
    Query,
    /// INSERT / UPDATE / DELETE (rows only with RETURNING).
    Dml,
    /// Schema changes.
    Ddl,
    /// Hand-written text.
    Text,
}

/// SQL with its values written in as literals: for reading, never for
/// executing (see [`Statement::compile_debug`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugSql(String);

impl DebugSql {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DebugSql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A statement that compiles to SQL for a dialect.
pub trait Statement: Send + Sync {
    /// Writes the statement into `w`.
    fn write_sql(&self, w: &mut SqlWriter<'_>) -> Result<(), CompileError>;

    /// What kind of statement it is.
    fn kind(&self) -> StatementKind;

    /// SQL text plus ordered parameters for `dialect`.
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled, CompileError> {
        let mut w = SqlWriter::new(dialect);
        self.write_sql(&mut w)?;
        w.check()?;
        Ok(w.finish())
    }

    /// The statement with its values written in as literals, for reading
    /// in logs and debuggers only (SQLAlchemy's `literal_binds`). The
    /// result is a [`DebugSql`], which no execute function takes: values
    /// are escaped as the dialect escapes string literals, but executing
    /// SQL built from values is what bound parameters exist to avoid.
    ///
    /// ```
    /// use dialects::{select, Column, MySql, Postgres, SqlType, Statement, Table};
    /// let t = Table::new("worker").column(Column::new("name", SqlType::Text));
    /// let stmt = select((t.c("name"),)).where_(t.c("name").eq("O'Brien \\ Co")).limit(5);
    /// assert_eq!(stmt.compile_debug(&Postgres).unwrap().as_str(),
    ///     "SELECT worker.name FROM worker WHERE worker.name = 'O''Brien \\ Co' LIMIT 5");
    /// assert_eq!(stmt.compile_debug(&MySql::default()).unwrap().as_str(),
    ///     "SELECT worker.name FROM worker WHERE worker.name = 'O''Brien \\\\ Co' LIMIT 5");
    /// ```
    fn compile_debug(&self, dialect: &dyn Dialect) -> Result<DebugSql, CompileError> {
        let mut w = SqlWriter::new(dialect);
        w.set_literal_binds();
        self.write_sql(&mut w)?;
        w.check()?;
        Ok(DebugSql(w.finish().sql))
    }

    /// Compiles once for many executions: the SQL, and where each named
    /// placeholder ([`bindparam`](crate::bindparam), or a `:name` of a
    /// [`text`](crate::text) clause that has no value bound) sits among the
    /// parameters.
    fn compile_with_binds(&self, dialect: &dyn Dialect) -> Result<Prepared, CompileError> {
        let mut w = SqlWriter::new(dialect);
        w.set_open_text_params(true);
        self.write_sql(&mut w)?;
        w.check()?;
        Ok(w.finish_prepared())
    }

    /// Writes the statement's cache key into `key` (its structure, and its
    /// bound values collected aside), or fails when it has none: what
    /// [`StatementCache`](super::cache::StatementCache) keys compiled SQL
    /// by. DDL has none.
    fn cache_key<'a>(&'a self, key: &mut CacheKey<'a>) -> Walk {
        let _ = key;
        Err(Uncacheable)
    }

    /// The statement as an `INSERT`, when it is one (what an engine needs
    /// for `inserted_primary_key` and for executing many rows at once).
    fn as_insert(&self) -> Option<&Insert> {
        None
    }
}

macro_rules! statement {
    ($ty:ty, $kind:ident, $f:path) => {
        statement!($ty, $kind, $f, |_k, _s| Err(Uncacheable), |_s| None);
    };
    ($ty:ty, $kind:ident, $f:path, |$k:ident, $ks:ident| $key:expr) => {
        statement!($ty, $kind, $f, |$k, $ks| $key, |_s| None);
    };
    ($ty:ty, $kind:ident, $f:path, |$k:ident, $ks:ident| $key:expr, |$s:ident| $as_insert:expr) => {
        impl Statement for $ty {
            fn write_sql(&self, w: &mut SqlWriter<'_>) -> Result<(), CompileError> {
                $f(self, w)
            }
            fn kind(&self) -> StatementKind {
                StatementKind::$kind
            }
            fn cache_key<'a>(&'a self, key: &mut CacheKey<'a>) -> Walk {
                let $k = key;
                let $ks = self;
                $key
            }
            fn as_insert(&self) -> Option<&Insert> {
                let $s = self;
                $as_insert
            }
        }

        impl $ty {
            /// SQL text plus ordered parameters for `dialect`.
            pub fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled, CompileError> {
                Statement::compile(self, dialect)
            }

            /// The SQL with values inlined, for reading only
            /// ([`Statement::compile_debug`]).
            pub fn compile_debug(&self, dialect: &dyn Dialect) -> Result<DebugSql, CompileError> {
                Statement::compile_debug(self, dialect)
            }
        }
    };
}

statement!(Select, Query, ansi::select_statement, |k, s| k.select(s));
statement!(CompoundSelect, Query, ansi::compound_statement, |k, s| k
    .compound(s));
statement!(
    Insert,
    Dml,
    ansi::insert_statement,
    |k, s| k.insert(s),
    |s| Some(s)
);
statement!(Update, Dml, ansi::update_statement, |k, s| k.update(s));
statement!(Delete, Dml, ansi::delete_statement, |k, s| k.delete(s));
statement!(TextClause, Text, ansi::text_clause, |k, s| k.text(s));
statement!(CreateTable, Ddl, ddl::create_table);
statement!(DropTable, Ddl, ddl::drop_table);
statement!(CreateIndex, Ddl, ddl::create_index);
statement!(DropIndex, Ddl, ddl::drop_index);
statement!(CreateEnum, Ddl, ddl::create_enum);
statement!(DropEnum, Ddl, ddl::drop_enum);

fn ddl_any(d: &Ddl, w: &mut SqlWriter<'_>) -> Result<(), CompileError> {
    match d {
        Ddl::CreateTable(s) => ddl::create_table(s, w),
        Ddl::DropTable(s) => ddl::drop_table(s, w),
        Ddl::CreateIndex(s) => ddl::create_index(s, w),
        Ddl::DropIndex(s) => ddl::drop_index(s, w),
        Ddl::CreateEnum(s) => ddl::create_enum(s, w),
        Ddl::DropEnum(s) => ddl::drop_enum(s, w),
    }
}

statement!(Ddl, Ddl, ddl_any);
