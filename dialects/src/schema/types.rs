//! Column types: what a column holds, independent of the backend.
//!
//! Each dialect renders a [`SqlType`] to what that backend does best (see
//! `Dialect::type_name`).

/// The type of a column, a cast target, or a typed literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SqlType {
    /// 16-bit integer.
    SmallInteger,
    /// 32-bit integer.
    Integer,
    /// 64-bit integer.
    BigInteger,
    /// Single-precision float.
    Float,
    /// Double-precision float.
    Double,
    /// Exact decimal with precision and scale.
    Numeric(u8, u8),
    /// Variable-length text with an optional maximum length.
    String(Option<u32>),
    /// Unbounded text.
    Text,
    /// Boolean.
    Boolean,
    /// Calendar date.
    Date,
    /// Time of day.
    Time,
    /// Timestamp; `timezone` says whether it is time-zone aware.
    DateTime {
        /// Whether the timestamp is stored with a time zone.
        timezone: bool,
    },
    /// UUID.
    Uuid,
    /// JSON document.
    Json,
    /// Binary data with an optional maximum length.
    Binary(Option<u32>),
    /// An enumeration of named text values. Native where the backend has
    /// enum types (PostgreSQL: `CREATE TYPE name AS ENUM (...)`, created
    /// and dropped by `create_all` / `drop_all`; MySQL: `ENUM(...)`),
    /// otherwise, or when `native` is false, `VARCHAR` with a `CHECK`
    /// constraint (SQLAlchemy's `Enum(native_enum=False)`).
    Enum {
        /// The type's name (PostgreSQL's type, and the `CHECK` constraint's).
        name: String,
        /// The allowed values, in order (a native enum sorts in this order).
        variants: Vec<String>,
        /// Whether to use the backend's enum type where it has one.
        native: bool,
    },
}

impl SqlType {
    /// A `String` with a maximum length: `VARCHAR(n)`.
    pub fn string(len: u32) -> Self {
        SqlType::String(Some(len))
    }

    /// An enumeration type named `name` with the given values, native
    /// where the backend has enum types.
    ///
    /// ```
    /// use dialects::{Column, CreateTable, Postgres, Sqlite, SqlType, Table};
    /// let t = Table::new("resume").column(Column::new(
    ///     "workload",
    ///     SqlType::enumeration("workload", ["parttime", "fulltime"]),
    /// ));
    /// assert_eq!(CreateTable::new(&t).compile(&Postgres).unwrap().sql,
    ///     "CREATE TABLE resume (workload workload)");
    /// assert_eq!(CreateTable::new(&t).compile(&Sqlite).unwrap().sql,
    ///     "CREATE TABLE resume (workload VARCHAR(8), \
    ///      CONSTRAINT ck_resume_workload CHECK (workload IN ('parttime', 'fulltime')))");
    /// ```
    pub fn enumeration<I, S>(name: impl Into<String>, variants: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        SqlType::Enum {
            name: name.into(),
            variants: variants.into_iter().map(Into::into).collect(),
            native: true,
        }
    }

    /// For an enumeration: whether to use the backend's enum type
    /// (`false`: `VARCHAR` with a `CHECK` everywhere). Other types are
    /// returned unchanged.
    pub fn native_enum(self, on: bool) -> Self {
        match self {
            SqlType::Enum { name, variants, .. } => SqlType::Enum {
                name,
                variants,
                native: on,
            },
            other => other,
        }
    }

    /// The name of the backend enum type this type needs created first
    /// (PostgreSQL's `CREATE TYPE`), when `named_types` says the backend
    /// has such types.
    pub fn enum_type_name(&self, named_types: bool) -> Option<&str> {
        match self {
            SqlType::Enum {
                name, native: true, ..
            } if named_types => Some(name),
            _ => None,
        }
    }

    /// Whether the type is one of the integer types.
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            SqlType::SmallInteger | SqlType::Integer | SqlType::BigInteger
        )
    }
}
