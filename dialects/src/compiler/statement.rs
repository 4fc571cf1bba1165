//! The `Statement` trait: anything that compiles to SQL text and parameters.

use super::ddl::{self, CreateIndex, CreateTable, Ddl, DropIndex, DropTable};
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
        Ok(w.finish())
    }
}

macro_rules! statement {
    ($ty:ty, $kind:ident, $f:path) => {
        impl Statement for $ty {
            fn write_sql(&self, w: &mut SqlWriter<'_>) -> Result<(), CompileError> {
                $f(self, w)
            }
            fn kind(&self) -> StatementKind {
                StatementKind::$kind
            }
        }

        impl $ty {
            /// SQL text plus ordered parameters for `dialect`.
            pub fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled, CompileError> {
                Statement::compile(self, dialect)
            }
        }
    };
}

statement!(Select, Query, ansi::select_statement);
statement!(CompoundSelect, Query, ansi::compound_statement);
statement!(Insert, Dml, ansi::insert_statement);
statement!(Update, Dml, ansi::update_statement);
statement!(Delete, Dml, ansi::delete_statement);
statement!(TextClause, Text, ansi::text_clause);
statement!(CreateTable, Ddl, ddl::create_table);
statement!(DropTable, Ddl, ddl::drop_table);
statement!(CreateIndex, Ddl, ddl::create_index);
statement!(DropIndex, Ddl, ddl::drop_index);

fn ddl_any(d: &Ddl, w: &mut SqlWriter<'_>) -> Result<(), CompileError> {
    match d {
        Ddl::CreateTable(s) => ddl::create_table(s, w),
        Ddl::DropTable(s) => ddl::drop_table(s, w),
        Ddl::CreateIndex(s) => ddl::create_index(s, w),
        Ddl::DropIndex(s) => ddl::drop_index(s, w),
    }
}

statement!(Ddl, Ddl, ddl_any);
