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
    /// An enumeration of named text values.
    Enum {
        /// The type's name (used for the constraint that enforces it).
        name: String,
        /// The allowed values, in order.
        variants: Vec<String>,
    },
}

impl SqlType {
    /// A `String` with a maximum length: `VARCHAR(n)`.
    pub fn string(len: u32) -> Self {
        SqlType::String(Some(len))
    }

    /// An enumeration type named `name` with the given values.
    pub fn enumeration<I, S>(name: impl Into<String>, variants: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        SqlType::Enum {
            name: name.into(),
            variants: variants.into_iter().map(Into::into).collect(),
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
