//! What each backend supports, as a constant table the compiler and the ORM read.

/// How a backend writes an `UPDATE` or `DELETE` whose conditions or values
/// name other tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiTable {
    /// `UPDATE t SET ... FROM a, b` and `DELETE FROM t USING a, b`
    /// (PostgreSQL; SQLite 3.33+ for UPDATE).
    FromClause,
    /// `UPDATE t, a SET t.x = ...` and `DELETE FROM t USING t, a` (MySQL).
    TableList,
    /// No form: compiling one is [`CompileError::Unsupported`](crate::CompileError::Unsupported).
    Unsupported,
}

/// Capabilities of a backend. The ORM reads these flags, never dialect names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// `INSERT ... RETURNING`.
    pub insert_returning: bool,
    /// `UPDATE ... RETURNING`.
    pub update_returning: bool,
    /// `DELETE ... RETURNING`.
    pub delete_returning: bool,
    /// `INSERT ... ON CONFLICT`.
    pub on_conflict: bool,
    /// `INSERT ... ON DUPLICATE KEY UPDATE`.
    pub on_duplicate_key: bool,
    /// `SELECT DISTINCT ON (...)`.
    pub distinct_on: bool,
    /// `NULLS FIRST` / `NULLS LAST` (emulated when false).
    pub nulls_ordering: bool,
    /// `FULL OUTER JOIN`.
    pub full_join: bool,
    /// Native `ILIKE` (emulated with `lower()` when false).
    pub ilike: bool,
    /// `FOR UPDATE` row locks.
    pub for_update: bool,
    /// `FOR UPDATE NOWAIT` / `SKIP LOCKED`.
    pub lock_modifiers: bool,
    /// `FOR UPDATE OF t` / `FOR SHARE OF t`.
    pub lock_of: bool,
    /// `FOR NO KEY UPDATE` / `FOR KEY SHARE`.
    pub key_locks: bool,
    /// A shared row lock is spelled `LOCK IN SHARE MODE` (MariaDB)
    /// rather than `FOR SHARE`.
    pub share_mode_lock: bool,
    /// `FETCH FIRST n ROWS ONLY | WITH TIES` (a plain `LIMIT` is written
    /// where false, and `WITH TIES` is an error).
    pub fetch_first: bool,
    /// `LATERAL` subqueries in FROM.
    pub lateral: bool,
    /// A bound integer that is a whole `ORDER BY` / `GROUP BY` term is
    /// read as a column position (MariaDB's prepared statements:
    /// `ORDER BY ?` with 2 sorts by the second column, and fails past
    /// the last one). Such a term is written `(SELECT ?)` there.
    pub bound_sort_key_is_position: bool,
    /// A native boolean type.
    pub native_bool: bool,
    /// A native enum column type.
    pub native_enum: bool,
    /// Enum types are named schema objects (`CREATE TYPE ... AS ENUM`),
    /// created before the tables that use them (PostgreSQL).
    pub named_enum_types: bool,
    /// `CREATE INDEX IF NOT EXISTS` / `DROP INDEX IF EXISTS`.
    pub index_if_exists: bool,
    /// A `WITH` clause before `UPDATE` / `DELETE` (when false, the
    /// subqueries that use CTEs carry their own `WITH`).
    pub cte_in_dml: bool,
    /// `UPDATE t SET ... FROM other WHERE ...` (PostgreSQL; SQLite 3.33+):
    /// what the ORM's bulk UPDATE by primary key joins its rows with.
    pub update_from: bool,
    /// `UPDATE t JOIN other ON ... SET ...` (MySQL, MariaDB): the same,
    /// spelled as a multi-table UPDATE.
    pub update_join: bool,
    /// The most bound parameters one statement may carry.
    pub max_bind_params: usize,
    /// How an `UPDATE` names other tables.
    pub multi_table_update: MultiTable,
    /// How a `DELETE` names other tables.
    pub multi_table_delete: MultiTable,
}

/// The ANSI baseline: what every supported backend has.
pub const ANSI: Features = Features {
    insert_returning: false,
    update_returning: false,
    delete_returning: false,
    on_conflict: false,
    on_duplicate_key: false,
    distinct_on: false,
    nulls_ordering: true,
    full_join: true,
    ilike: false,
    for_update: true,
    lock_modifiers: true,
    lock_of: true,
    key_locks: false,
    share_mode_lock: false,
    fetch_first: true,
    lateral: true,
    bound_sort_key_is_position: false,
    native_bool: true,
    native_enum: false,
    named_enum_types: false,
    index_if_exists: true,
    cte_in_dml: true,
    update_from: false,
    update_join: false,
    max_bind_params: 32_766,
    multi_table_update: MultiTable::FromClause,
    multi_table_delete: MultiTable::FromClause,
};
