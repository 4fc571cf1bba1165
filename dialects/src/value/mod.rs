//! Bound values: the `Value` every literal in a statement becomes.
//!
//! A [`Value`] is carried next to the SQL text as an ordered parameter and is
//! never inlined into the text. Conversions from the usual Rust types go
//! through `From`; conversions back go through `TryFrom<Value>` and report a
//! [`ValueError`] naming both types when they do not fit.
//!
//! The variants holding a foreign crate's type come with that crate's
//! cargo feature (all but `time` on by default):
//!
//! | feature | variants | Rust types |
//! |---|---|---|
//! | `decimal` | `Decimal` | `rust_decimal::Decimal` |
//! | `chrono` | `Date`, `Time`, `DateTime`, `DateTimeUtc` | `NaiveDate`, `NaiveTime`, `NaiveDateTime`, `DateTime<Utc>` |
//! | `time` | `TimeDate`, `TimeTime`, `TimePrimitiveDateTime`, `TimeOffsetDateTime` | `time::Date`, `time::Time`, `time::PrimitiveDateTime`, `time::OffsetDateTime` |
//! | `uuid` | `Uuid` | `uuid::Uuid` |
//! | `json` | `Json` | `serde_json::Value` |
//!
//! The `time` crate's types have variants of their own, so that enabling
//! `chrono` as well (features are additive) changes no value a program
//! builds. With both on, each family converts from the other's variants
//! (`time::Date::try_from(Value::Date(..))` works, and the reverse), and
//! the drivers decode date and time columns into the chrono variants;
//! with `time` alone, into the `Time*` ones.

#[cfg(feature = "chrono")]
mod chrono_impls;
#[cfg(feature = "time")]
mod time_impls;

#[cfg(feature = "time")]
pub(crate) use time_impls::rfc3339_text;
#[cfg(feature = "time")]
pub use time_impls::{time_text, utc_primitive};

#[cfg(feature = "chrono")]
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
#[cfg(feature = "decimal")]
use rust_decimal::Decimal;
#[cfg(feature = "uuid")]
use uuid::Uuid;

/// A bound parameter or a value read from a row.
///
/// ```
/// use dialects::Value;
/// let v: Value = "O'Reilly; DROP TABLE worker".into();
/// assert_eq!(v, Value::String("O'Reilly; DROP TABLE worker".to_owned()));
/// let n: i64 = Value::from(7_i32).try_into().unwrap();
/// assert_eq!(n, 7);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A 16-bit integer (SMALLINT).
    SmallInt(i16),
    /// A 32-bit integer (INTEGER).
    Int(i32),
    /// A 64-bit integer (BIGINT).
    BigInt(i64),
    /// A single-precision float (REAL / FLOAT).
    Float(f32),
    /// A double-precision float.
    Double(f64),
    /// An exact decimal (NUMERIC).
    #[cfg(feature = "decimal")]
    Decimal(Decimal),
    /// Text.
    String(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A calendar date.
    #[cfg(feature = "chrono")]
    Date(NaiveDate),
    /// A time of day.
    #[cfg(feature = "chrono")]
    Time(NaiveTime),
    /// A timestamp without time zone.
    #[cfg(feature = "chrono")]
    DateTime(NaiveDateTime),
    /// A timestamp with time zone, in UTC.
    #[cfg(feature = "chrono")]
    DateTimeUtc(DateTime<Utc>),
    /// A calendar date (the `time` crate's).
    #[cfg(feature = "time")]
    TimeDate(time::Date),
    /// A time of day (the `time` crate's).
    #[cfg(feature = "time")]
    TimeTime(time::Time),
    /// A timestamp without time zone (the `time` crate's).
    #[cfg(feature = "time")]
    TimePrimitiveDateTime(time::PrimitiveDateTime),
    /// A timestamp with time zone (the `time` crate's; any offset, bound
    /// as the same instant in UTC where the backend keeps no offset).
    #[cfg(feature = "time")]
    TimeOffsetDateTime(time::OffsetDateTime),
    /// A UUID.
    #[cfg(feature = "uuid")]
    Uuid(Uuid),
    /// A JSON document.
    #[cfg(feature = "json")]
    Json(serde_json::Value),
}

impl Value {
    /// The name of the variant, used in conversion errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::SmallInt(_) => "smallint",
            Value::Int(_) => "int",
            Value::BigInt(_) => "bigint",
            Value::Float(_) => "float",
            Value::Double(_) => "double",
            #[cfg(feature = "decimal")]
            Value::Decimal(_) => "decimal",
            Value::String(_) => "string",
            Value::Bytes(_) => "bytes",
            #[cfg(feature = "chrono")]
            Value::Date(_) => "date",
            #[cfg(feature = "chrono")]
            Value::Time(_) => "time",
            #[cfg(feature = "chrono")]
            Value::DateTime(_) => "datetime",
            #[cfg(feature = "chrono")]
            Value::DateTimeUtc(_) => "datetime with time zone",
            #[cfg(feature = "time")]
            Value::TimeDate(_) => "date",
            #[cfg(feature = "time")]
            Value::TimeTime(_) => "time",
            #[cfg(feature = "time")]
            Value::TimePrimitiveDateTime(_) => "datetime",
            #[cfg(feature = "time")]
            Value::TimeOffsetDateTime(_) => "datetime with time zone",
            #[cfg(feature = "uuid")]
            Value::Uuid(_) => "uuid",
            #[cfg(feature = "json")]
            Value::Json(_) => "json",
        }
    }

    /// Whether this is SQL `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as an `i64` when it is any integer (or a bool, as 0/1).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::SmallInt(v) => Some(i64::from(*v)),
            Value::Int(v) => Some(i64::from(*v)),
            Value::BigInt(v) => Some(*v),
            Value::Bool(v) => Some(i64::from(*v)),
            _ => None,
        }
    }

    /// The value as a string slice when it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl std::fmt::Display for Value {
    /// A readable rendering for tables and logs (not SQL).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::SmallInt(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::BigInt(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Double(v) => write!(f, "{v}"),
            #[cfg(feature = "decimal")]
            Value::Decimal(v) => write!(f, "{v}"),
            Value::String(v) => f.write_str(v),
            Value::Bytes(v) => {
                f.write_str("0x")?;
                v.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
            #[cfg(feature = "chrono")]
            Value::Date(v) => write!(f, "{v}"),
            #[cfg(feature = "chrono")]
            Value::Time(v) => write!(f, "{v}"),
            #[cfg(feature = "chrono")]
            Value::DateTime(v) => write!(f, "{v}"),
            #[cfg(feature = "chrono")]
            Value::DateTimeUtc(v) => write!(f, "{v}"),
            #[cfg(feature = "time")]
            Value::TimeDate(v) => write!(f, "{v}"),
            #[cfg(feature = "time")]
            Value::TimeTime(v) => f.write_str(&time_text(*v)),
            #[cfg(feature = "time")]
            Value::TimePrimitiveDateTime(v) => {
                write!(f, "{} {}", v.date(), time_text(v.time()))
            }
            #[cfg(feature = "time")]
            Value::TimeOffsetDateTime(v) => write!(
                f,
                "{} {} {}",
                v.date(),
                time_text(v.time()),
                time_impls::offset_text(v.offset())
            ),
            #[cfg(feature = "uuid")]
            Value::Uuid(v) => write!(f, "{v}"),
            #[cfg(feature = "json")]
            Value::Json(v) => write!(f, "{v}"),
        }
    }
}

/// A value could not be converted to the Rust type asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot convert a {found} value into `{expected}`")]
pub struct ValueError {
    /// The Rust type that was asked for.
    pub expected: &'static str,
    /// The kind of value that was found.
    pub found: &'static str,
}

impl ValueError {
    pub(crate) fn new<T>(found: &Value) -> Self {
        ValueError {
            expected: std::any::type_name::<T>(),
            found: found.type_name(),
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$variant(v)
            }
        }
    )*};
}

value_from! {
    bool => Bool,
    i16 => SmallInt,
    i32 => Int,
    i64 => BigInt,
    f32 => Float,
    f64 => Double,
    String => String,
    Vec<u8> => Bytes,
}

#[cfg(feature = "decimal")]
value_from! { Decimal => Decimal }
#[cfg(feature = "chrono")]
value_from! {
    NaiveDate => Date,
    NaiveTime => Time,
    NaiveDateTime => DateTime,
    DateTime<Utc> => DateTimeUtc,
}
#[cfg(feature = "time")]
value_from! {
    time::Date => TimeDate,
    time::Time => TimeTime,
    time::PrimitiveDateTime => TimePrimitiveDateTime,
    time::OffsetDateTime => TimeOffsetDateTime,
}
#[cfg(feature = "uuid")]
value_from! { Uuid => Uuid }
#[cfg(feature = "json")]
value_from! { serde_json::Value => Json }

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::String(v.clone())
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Bytes(v.to_vec())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

macro_rules! int_try_from {
    ($($t:ty),*) => {$(
        impl TryFrom<Value> for $t {
            type Error = ValueError;
            fn try_from(v: Value) -> Result<Self, ValueError> {
                // A whole decimal (MySQL's SUM of integers) counts as an integer.
                let n = match &v {
                    #[cfg(feature = "decimal")]
                    Value::Decimal(d) if d.fract().is_zero() => {
                        use rust_decimal::prelude::ToPrimitive;
                        d.to_i64()
                    }
                    other => other.as_i64(),
                };
                n.and_then(|n| <$t>::try_from(n).ok())
                    .ok_or_else(|| ValueError::new::<$t>(&v))
            }
        }
    )*};
}

int_try_from!(i16, i32, i64, u32, u64);

impl TryFrom<Value> for bool {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        match v {
            Value::Bool(b) => Ok(b),
            // MySQL and SQLite store booleans as integers.
            Value::SmallInt(_) | Value::Int(_) | Value::BigInt(_) => {
                Ok(v.as_i64().is_some_and(|n| n != 0))
            }
            other => Err(ValueError::new::<bool>(&other)),
        }
    }
}

impl TryFrom<Value> for f64 {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        match v {
            Value::Float(f) => Ok(f64::from(f)),
            Value::Double(f) => Ok(f),
            Value::SmallInt(n) => Ok(f64::from(n)),
            Value::Int(n) => Ok(f64::from(n)),
            #[allow(clippy::cast_precision_loss)]
            Value::BigInt(n) => Ok(n as f64),
            #[cfg(feature = "decimal")]
            Value::Decimal(d) => {
                use rust_decimal::prelude::ToPrimitive;
                d.to_f64().ok_or_else(|| ValueError::new::<f64>(&v))
            }
            other => Err(ValueError::new::<f64>(&other)),
        }
    }
}

impl TryFrom<Value> for f32 {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        match v {
            Value::Float(f) => Ok(f),
            #[allow(clippy::cast_possible_truncation)]
            Value::Double(f) => Ok(f as f32),
            other => Err(ValueError::new::<f32>(&other)),
        }
    }
}

#[cfg(feature = "decimal")]
impl TryFrom<Value> for Decimal {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        match v {
            Value::Decimal(d) => Ok(d),
            Value::SmallInt(_) | Value::Int(_) | Value::BigInt(_) => {
                Ok(Decimal::from(v.as_i64().unwrap_or_default()))
            }
            // SQLite keeps NUMERIC values as REAL or TEXT.
            Value::Double(f) => Decimal::try_from(f).map_err(|_| ValueError::new::<Decimal>(&v)),
            Value::Float(f) => Decimal::try_from(f).map_err(|_| ValueError::new::<Decimal>(&v)),
            Value::String(ref s) => s
                .parse::<Decimal>()
                .map_err(|_| ValueError::new::<Decimal>(&v)),
            other => Err(ValueError::new::<Decimal>(&other)),
        }
    }
}

impl TryFrom<Value> for String {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        match v {
            Value::String(s) => Ok(s),
            // Binary-collated text (MariaDB's JSON) arrives as bytes.
            Value::Bytes(b) => String::from_utf8(b)
                .map_err(|e| ValueError::new::<String>(&Value::Bytes(e.into_bytes()))),
            other => Err(ValueError::new::<String>(&other)),
        }
    }
}

impl TryFrom<Value> for Vec<u8> {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        match v {
            Value::Bytes(b) => Ok(b),
            Value::String(s) => Ok(s.into_bytes()),
            other => Err(ValueError::new::<Vec<u8>>(&other)),
        }
    }
}

#[cfg(feature = "uuid")]
impl TryFrom<Value> for Uuid {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        match v {
            Value::Uuid(u) => Ok(u),
            // SQLite and MySQL may hand a UUID back as text or 16 bytes.
            Value::String(ref s) => Uuid::parse_str(s).map_err(|_| ValueError::new::<Uuid>(&v)),
            Value::Bytes(ref b) => Uuid::from_slice(b).map_err(|_| ValueError::new::<Uuid>(&v)),
            other => Err(ValueError::new::<Uuid>(&other)),
        }
    }
}

#[cfg(feature = "json")]
impl TryFrom<Value> for serde_json::Value {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        match v {
            Value::Json(j) => Ok(j),
            Value::String(ref s) => {
                serde_json::from_str(s).map_err(|_| ValueError::new::<serde_json::Value>(&v))
            }
            // MariaDB's JSON is a binary-collated LONGTEXT.
            Value::Bytes(ref b) => {
                serde_json::from_slice(b).map_err(|_| ValueError::new::<serde_json::Value>(&v))
            }
            other => Err(ValueError::new::<serde_json::Value>(&other)),
        }
    }
}

impl<T> TryFrom<Value> for Option<T>
where
    T: TryFrom<Value, Error = ValueError>,
{
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        match v {
            Value::Null => Ok(None),
            other => T::try_from(other).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_widen_and_narrow_checked() {
        assert_eq!(i64::try_from(Value::Int(5)), Ok(5));
        assert_eq!(
            i16::try_from(Value::BigInt(70_000)).map_err(|e| e.found),
            Err("bigint")
        );
    }

    #[cfg(feature = "decimal")]
    #[test]
    fn decimals_from_sqlite_storage() {
        let d = Decimal::new(123_456, 2);
        assert_eq!(Decimal::try_from(Value::Double(1234.56)), Ok(d));
        assert_eq!(Decimal::try_from(Value::from("1234.56")), Ok(d));
    }

    #[test]
    fn option_maps_null() {
        assert_eq!(Option::<i32>::try_from(Value::Null), Ok(None));
        assert_eq!(Value::from(None::<i32>), Value::Null);
        assert_eq!(
            Option::<String>::try_from(Value::from("x")),
            Ok(Some("x".to_owned()))
        );
    }

    #[test]
    fn wrong_type_names_both_sides() {
        let err = String::try_from(Value::Int(1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot convert a int value into `alloc::string::String`"
        );
    }
}
