//! Values in and out of SQLite: binding a [`Value`] as a parameter, and
//! decoding a cell by its storage class, refined by what its column was
//! declared as (resolved once per statement, not per cell).

use dialects::Value;
use rusqlite::types::{ToSqlOutput, Value as Owned, ValueRef};

use std::str::Utf8Error;

/// What a column was declared as, where that refines its values'
/// storage class (SQLite stores booleans as integers and timestamps as
/// text). The same for every row of a statement.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Declared {
    Boolean,
    DateTime,
    Date,
    Time,
    Other,
}

impl Declared {
    /// The kind of a column declared `decl` (`None` for an expression).
    pub(crate) fn of(decl: Option<&str>) -> Self {
        let Some(decl) = decl else {
            return Declared::Other;
        };
        let is = |name: &str| decl.eq_ignore_ascii_case(name);
        if is("boolean") || is("bool") {
            Declared::Boolean
        } else if is("datetime") || is("timestamp") {
            Declared::DateTime
        } else if is("date") {
            Declared::Date
        } else if is("time") {
            Declared::Time
        } else {
            Declared::Other
        }
    }
}

/// `v` as SQLite takes it; a value it cannot take is an error saying why.
pub(crate) fn to_sql(v: &Value) -> Result<ToSqlOutput<'_>, String> {
    use ToSqlOutput::{Borrowed, Owned as Own};
    Ok(match v {
        Value::Null => Borrowed(ValueRef::Null),
        Value::Bool(b) => Own(Owned::Integer(i64::from(*b))),
        Value::SmallInt(n) => Own(Owned::Integer(i64::from(*n))),
        Value::Int(n) => Own(Owned::Integer(i64::from(*n))),
        Value::BigInt(n) => Own(Owned::Integer(*n)),
        Value::Float(f) => Own(Owned::Real(f64::from(*f))),
        Value::Double(f) => Own(Owned::Real(*f)),
        // SQLite has no decimal type: the text form keeps every digit.
        #[cfg(feature = "decimal")]
        Value::Decimal(d) => Own(Owned::Text(d.to_string())),
        Value::String(s) => Borrowed(ValueRef::Text(s.as_bytes())),
        Value::Bytes(b) => Borrowed(ValueRef::Blob(b)),
        #[cfg(feature = "chrono")]
        Value::Date(d) => Own(Owned::Text(d.to_string())),
        #[cfg(feature = "chrono")]
        Value::Time(t) => Own(Owned::Text(t.to_string())),
        // One text format for every timestamp, so that they sort and compare
        // like SQLite's own CURRENT_TIMESTAMP.
        #[cfg(feature = "chrono")]
        Value::DateTime(t) => Own(Owned::Text(t.format("%Y-%m-%d %H:%M:%S%.f").to_string())),
        #[cfg(feature = "chrono")]
        Value::DateTimeUtc(t) => Own(Owned::Text(
            t.naive_utc().format("%Y-%m-%d %H:%M:%S%.f").to_string(),
        )),
        // The `time` crate's in the same text forms as chrono's (their
        // `Value` display), a timestamp with offset as its UTC time.
        #[cfg(feature = "time")]
        Value::TimeDate(_) | Value::TimeTime(_) | Value::TimePrimitiveDateTime(_) => {
            Own(Owned::Text(v.to_string()))
        }
        #[cfg(feature = "time")]
        Value::TimeOffsetDateTime(t) => match dialects::value::utc_primitive(*t) {
            Some(utc) => Own(Owned::Text(Value::TimePrimitiveDateTime(utc).to_string())),
            None => return Err(format!("{t} has no UTC form in the `time` crate's range")),
        },
        #[cfg(feature = "uuid")]
        Value::Uuid(u) => Own(Owned::Text(u.hyphenated().to_string())),
        #[cfg(feature = "json")]
        Value::Json(j) => Own(Owned::Text(j.to_string())),
        #[allow(unreachable_patterns)]
        other => return Err(format!("unsupported value type {}", other.type_name())),
    })
}

/// The value of a cell of a column declared `declared` (text that is not
/// UTF-8 is an error).
#[inline]
pub(crate) fn decode(raw: ValueRef<'_>, declared: Declared) -> Result<Value, Utf8Error> {
    Ok(match raw {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) if declared == Declared::Boolean => Value::Bool(n != 0),
        ValueRef::Integer(n) => Value::BigInt(n),
        ValueRef::Real(f) => Value::Double(f),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
        ValueRef::Text(t) => {
            let s = std::str::from_utf8(t)?;
            match declared {
                Declared::DateTime | Declared::Date | Declared::Time => temporal(declared, s),
                _ => Value::String(s.to_owned()),
            }
        }
    })
}

/// A date, time or timestamp column's text as chrono's value (feature
/// `chrono`), the `time` crate's (feature `time` alone), or the text
/// itself when it does not parse or neither feature is on.
fn temporal(declared: Declared, s: &str) -> Value {
    #[cfg(feature = "chrono")]
    {
        use std::str::FromStr;
        let parsed = match declared {
            Declared::DateTime => parse_datetime(s).map(Value::DateTime),
            Declared::Date => chrono::NaiveDate::from_str(s).ok().map(Value::Date),
            _ => chrono::NaiveTime::from_str(s).ok().map(Value::Time),
        };
        parsed.unwrap_or_else(|| Value::String(s.to_owned()))
    }
    #[cfg(all(feature = "time", not(feature = "chrono")))]
    {
        let text = Value::String(s.to_owned());
        let parsed = match declared {
            Declared::DateTime => time::PrimitiveDateTime::try_from(text.clone())
                .ok()
                .map(Value::TimePrimitiveDateTime),
            Declared::Date => time::Date::try_from(text.clone()).ok().map(Value::TimeDate),
            _ => time::Time::try_from(text.clone()).ok().map(Value::TimeTime),
        };
        parsed.unwrap_or(text)
    }
    #[cfg(not(any(feature = "chrono", feature = "time")))]
    {
        let _ = declared;
        Value::String(s.to_owned())
    }
}

/// A timestamp in any of the text forms SQLite's date functions and
/// drivers write.
#[cfg(feature = "chrono")]
fn parse_datetime(s: &str) -> Option<chrono::NaiveDateTime> {
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_resolve_once() {
        assert_eq!(Declared::of(Some("BOOLEAN")), Declared::Boolean);
        assert_eq!(Declared::of(Some("bool")), Declared::Boolean);
        assert_eq!(Declared::of(Some("TIMESTAMP")), Declared::DateTime);
        assert_eq!(Declared::of(Some("Date")), Declared::Date);
        assert_eq!(Declared::of(Some("TIME")), Declared::Time);
        assert_eq!(Declared::of(Some("INTEGER")), Declared::Other);
        assert_eq!(Declared::of(None), Declared::Other);
    }

    #[test]
    fn cells_decode_by_storage_class() {
        assert_eq!(
            decode(ValueRef::Integer(1), Declared::Boolean).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            decode(ValueRef::Integer(7), Declared::Other).unwrap(),
            Value::BigInt(7)
        );
        assert_eq!(
            decode(ValueRef::Text(b"x"), Declared::Date).unwrap(),
            Value::String("x".into())
        );
        assert!(decode(ValueRef::Text(b"\xff"), Declared::Other).is_err());
    }
}
