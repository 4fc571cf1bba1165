//! Bound values: the `Value` every literal in a statement becomes.
//!
//! A [`Value`] is carried next to the SQL text as an ordered parameter and is
//! never inlined into the text. Conversions from the usual Rust types go
//! through `From`; conversions back go through `TryFrom<Value>` and report a
//! [`ValueError`] naming both types when they do not fit.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
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
    Decimal(Decimal),
    /// Text.
    String(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A calendar date.
    Date(NaiveDate),
    /// A time of day.
    Time(NaiveTime),
    /// A timestamp without time zone.
    DateTime(NaiveDateTime),
    /// A timestamp with time zone, in UTC.
    DateTimeUtc(DateTime<Utc>),
    /// A UUID.
    Uuid(Uuid),
    /// A JSON document.
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
            Value::Decimal(_) => "decimal",
            Value::String(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Date(_) => "date",
            Value::Time(_) => "time",
            Value::DateTime(_) => "datetime",
            Value::DateTimeUtc(_) => "datetime with time zone",
            Value::Uuid(_) => "uuid",
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
            Value::Decimal(v) => write!(f, "{v}"),
            Value::String(v) => f.write_str(v),
            Value::Bytes(v) => {
                f.write_str("0x")?;
                v.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
            Value::Date(v) => write!(f, "{v}"),
            Value::Time(v) => write!(f, "{v}"),
            Value::DateTime(v) => write!(f, "{v}"),
            Value::DateTimeUtc(v) => write!(f, "{v}"),
            Value::Uuid(v) => write!(f, "{v}"),
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
    fn new<T>(found: &Value) -> Self {
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
    Decimal => Decimal,
    String => String,
    Vec<u8> => Bytes,
    NaiveDate => Date,
    NaiveTime => Time,
    NaiveDateTime => DateTime,
    DateTime<Utc> => DateTimeUtc,
    Uuid => Uuid,
    serde_json::Value => Json,
}

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

impl TryFrom<Value> for NaiveDate {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        match v {
            Value::Date(d) => Ok(d),
            Value::String(ref s) => s.parse().map_err(|_| ValueError::new::<NaiveDate>(&v)),
            other => Err(ValueError::new::<NaiveDate>(&other)),
        }
    }
}

impl TryFrom<Value> for NaiveTime {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        match v {
            Value::Time(t) => Ok(t),
            Value::String(ref s) => s.parse().map_err(|_| ValueError::new::<NaiveTime>(&v)),
            other => Err(ValueError::new::<NaiveTime>(&other)),
        }
    }
}

impl TryFrom<Value> for NaiveDateTime {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        match v {
            Value::DateTime(t) => Ok(t),
            Value::DateTimeUtc(t) => Ok(t.naive_utc()),
            Value::String(ref s) => {
                parse_naive_datetime(s).ok_or_else(|| ValueError::new::<NaiveDateTime>(&v))
            }
            other => Err(ValueError::new::<NaiveDateTime>(&other)),
        }
    }
}

impl TryFrom<Value> for DateTime<Utc> {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        match v {
            Value::DateTimeUtc(t) => Ok(t),
            Value::DateTime(t) => Ok(t.and_utc()),
            Value::String(ref s) => DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .ok()
                .or_else(|| parse_naive_datetime(s).map(|t| t.and_utc()))
                .ok_or_else(|| ValueError::new::<DateTime<Utc>>(&v)),
            other => Err(ValueError::new::<DateTime<Utc>>(&other)),
        }
    }
}

/// Parses the text forms SQLite uses for timestamps.
fn parse_naive_datetime(s: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
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

    #[test]
    fn sqlite_text_timestamps_parse() {
        let t = NaiveDateTime::try_from(Value::from("2024-01-02 03:04:05")).unwrap();
        assert_eq!(t.to_string(), "2024-01-02 03:04:05");
    }
}
