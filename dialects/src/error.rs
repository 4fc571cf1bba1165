//! Errors raised while compiling a statement or sorting a schema.

/// A statement could not be compiled for a dialect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompileError {
    /// The construct exists, but this backend does not support it
    /// (`FULL JOIN` on MySQL, `DISTINCT ON` outside PostgreSQL, ...).
    #[error("dialect `{dialect}` does not support {construct}")]
    Unsupported {
        /// The dialect's name.
        dialect: &'static str,
        /// What was asked for.
        construct: &'static str,
    },
    /// A column name that its table, alias, subquery or CTE does not have.
    #[error("`{table}` has no column named `{column}`")]
    UnknownColumn {
        /// The table, alias, subquery or CTE.
        table: String,
        /// The name asked for.
        column: String,
    },
    /// A table name that the metadata does not have.
    #[error("the metadata has no table named `{table}`")]
    UnknownTable {
        /// The name asked for.
        table: String,
    },
    /// A `text()` clause uses `:name` without a value bound to it.
    #[error("text clause parameter `:{name}` has no bound value")]
    MissingParameter {
        /// The parameter's name.
        name: String,
    },
    /// A type that this dialect cannot render as given.
    #[error("dialect `{dialect}` cannot render type {ty} for `{column}`: {reason}")]
    InvalidType {
        /// The dialect's name.
        dialect: &'static str,
        /// The type, as debug text.
        ty: String,
        /// The column it was declared on.
        column: String,
        /// Why.
        reason: &'static str,
    },
    /// A value that cannot be written as a literal in DDL.
    #[error("a {kind} value cannot be written as a literal in DDL")]
    UnsupportedLiteral {
        /// The kind of value.
        kind: &'static str,
    },
    /// A statement that is not well formed (an empty `VALUES`, a row whose
    /// width differs from the column list, ...).
    #[error("invalid statement: {0}")]
    Invalid(String),
    /// An identifier no backend can take: empty, or with a NUL character.
    #[error("invalid identifier {name:?}: {reason}")]
    InvalidIdentifier {
        /// The identifier.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// An identifier longer than the backend allows (PostgreSQL would
    /// silently cut it, so two long names could become one).
    #[error("identifier `{name}` is longer than the {max} that dialect `{dialect}` allows")]
    IdentifierTooLong {
        /// The dialect's name.
        dialect: &'static str,
        /// The identifier.
        name: String,
        /// The limit (bytes on PostgreSQL, characters on MySQL).
        max: usize,
    },
    /// The tables' foreign keys form a cycle, so no creation order exists.
    #[error("foreign keys form a cycle between tables: {}", tables.join(", "))]
    DependencyCycle {
        /// The tables involved.
        tables: Vec<String>,
    },
}
