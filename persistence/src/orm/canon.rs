//! Values normalised to their column's declared type, at the mapping's
//! boundary.
//!
//! Drivers hand back what the backend stores: SQLite every integer as a
//! 64-bit one, booleans as integers and timestamps as text, MariaDB JSON
//! as bytes, PostgreSQL an `INTEGER` as 32 bits whatever the field's
//! width. A field's codec writes what its Rust type holds (`i64` as
//! `BigInt`). The mapping brings both to one form per column type, on read
//! and on write, so the identity map's snapshot and an unchanged object
//! compare equal and adding it again costs no statement.
//!
//! | column type | normal form |
//! |---|---|
//! | `SmallInteger` / `Integer` / `BigInteger` | `SmallInt` / `Int` / `BigInt` (range-checked) |
//! | `Float` / `Double` | `Float` / `Double` |
//! | `Numeric` | `Decimal` |
//! | `String`, `Text`, `Enum` | `String` |
//! | `Boolean` | `Bool` |
//! | `Date`, `Time`, `DateTime` (naive / UTC) | `Date`, `Time`, `DateTime` / `DateTimeUtc` |
//! | `Uuid`, `Json`, `Binary` | `Uuid`, `Json`, `Bytes` |
//!
//! Dates and times take chrono's variants when the `chrono` feature is on,
//! the `time` crate's (`TimeDate`, ..., a `TimeOffsetDateTime` in UTC)
//! when only `time` is. A type whose feature is off has no normal form
//! and is left as the driver gives it.

use dialects::{SqlType, Value, ValueError};

/// The normal form of one column's values; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Canon {
    /// 16-bit integers.
    SmallInt,
    /// 32-bit integers.
    Int,
    /// 64-bit integers.
    BigInt,
    /// Single-precision floats.
    Float,
    /// Double-precision floats.
    Double,
    /// Decimals.
    Decimal,
    /// Text.
    Text,
    /// Booleans.
    Bool,
    /// Dates.
    Date,
    /// Times of day.
    Time,
    /// Timestamps without time zone.
    DateTime,
    /// Timestamps in UTC.
    DateTimeUtc,
    /// UUIDs.
    Uuid,
    /// JSON documents.
    Json,
    /// Bytes.
    Bytes,
    /// Left as the driver gives it (a type without a normal form).
    Any,
}

impl Canon {
    /// The normal form of values of `ty`.
    pub fn of(ty: &SqlType) -> Canon {
        match ty {
            SqlType::SmallInteger => Canon::SmallInt,
            SqlType::Integer => Canon::Int,
            SqlType::BigInteger => Canon::BigInt,
            SqlType::Float => Canon::Float,
            SqlType::Double => Canon::Double,
            SqlType::Numeric(..) => Canon::Decimal,
            SqlType::String(_) | SqlType::Text | SqlType::Enum { .. } => Canon::Text,
            SqlType::Boolean => Canon::Bool,
            SqlType::Date => Canon::Date,
            SqlType::Time => Canon::Time,
            SqlType::DateTime { timezone: false } => Canon::DateTime,
            SqlType::DateTime { timezone: true } => Canon::DateTimeUtc,
            SqlType::Uuid => Canon::Uuid,
            SqlType::Json => Canon::Json,
            SqlType::Binary(_) => Canon::Bytes,
            _ => Canon::Any,
        }
    }

    /// Whether `v` is already in this normal form (or NULL). A type
    /// whose feature is off (`Numeric` without `decimal`, dates without
    /// `chrono` or `time`, ...) has no normal form: any value holds.
    #[inline]
    fn holds(self, v: &Value) -> bool {
        // Times and timestamps to the microsecond: what PostgreSQL and
        // MySQL's DATETIME(6) keep, so a value read back equals the one
        // written.
        match (self, v) {
            #[cfg(feature = "chrono")]
            (Canon::Time, Value::Time(t)) => return chrono::Timelike::nanosecond(t) % 1000 == 0,
            #[cfg(feature = "chrono")]
            (Canon::DateTime, Value::DateTime(t)) => {
                return chrono::Timelike::nanosecond(t) % 1000 == 0
            }
            #[cfg(feature = "chrono")]
            (Canon::DateTimeUtc, Value::DateTimeUtc(t)) => {
                return chrono::Timelike::nanosecond(t) % 1000 == 0
            }
            #[cfg(all(feature = "time", not(feature = "chrono")))]
            (Canon::Time, Value::TimeTime(t)) => return t.nanosecond() % 1000 == 0,
            #[cfg(all(feature = "time", not(feature = "chrono")))]
            (Canon::DateTime, Value::TimePrimitiveDateTime(t)) => {
                return t.nanosecond() % 1000 == 0
            }
            #[cfg(all(feature = "time", not(feature = "chrono")))]
            (Canon::DateTimeUtc, Value::TimeOffsetDateTime(t)) => {
                return t.nanosecond() % 1000 == 0 && t.offset().is_utc()
            }
            _ => {}
        }
        if !self.has_normal_form() {
            return true;
        }
        matches!(
            (self, v),
            (_, Value::Null)
                | (Canon::Any, _)
                | (Canon::SmallInt, Value::SmallInt(_))
                | (Canon::Int, Value::Int(_))
                | (Canon::BigInt, Value::BigInt(_))
                | (Canon::Float, Value::Float(_))
                | (Canon::Double, Value::Double(_))
                | (Canon::Text, Value::String(_))
                | (Canon::Bool, Value::Bool(_))
                | (Canon::Bytes, Value::Bytes(_))
        ) || self.holds_foreign(v)
    }

    /// Whether this normal form exists in this build (its feature is on).
    fn has_normal_form(self) -> bool {
        let temporal = matches!(
            self,
            Canon::Date | Canon::Time | Canon::DateTime | Canon::DateTimeUtc
        );
        (cfg!(feature = "decimal") || self != Canon::Decimal)
            && (cfg!(any(feature = "chrono", feature = "time")) || !temporal)
            && (cfg!(feature = "uuid") || self != Canon::Uuid)
            && (cfg!(feature = "json") || self != Canon::Json)
    }

    /// [`Canon::holds`] for the variants of the optional value types.
    fn holds_foreign(self, v: &Value) -> bool {
        match (self, v) {
            #[cfg(feature = "decimal")]
            (Canon::Decimal, Value::Decimal(_)) => true,
            #[cfg(feature = "chrono")]
            (Canon::Date, Value::Date(_)) => true,
            #[cfg(all(feature = "time", not(feature = "chrono")))]
            (Canon::Date, Value::TimeDate(_)) => true,
            #[cfg(feature = "uuid")]
            (Canon::Uuid, Value::Uuid(_)) => true,
            #[cfg(feature = "json")]
            (Canon::Json, Value::Json(_)) => true,
            _ => false,
        }
    }

    /// Brings `v` to this normal form in place; a value that cannot be
    /// (text in an integer column, an integer out of the column's range)
    /// is an error and `v` is left as it was.
    #[inline]
    pub fn apply(self, v: &mut Value) -> Result<(), ValueError> {
        if self.holds(v) {
            return Ok(());
        }
        let taken = std::mem::replace(v, Value::Null);
        match self.convert(taken) {
            Ok(n) => {
                *v = n;
                Ok(())
            }
            Err((old, e)) => {
                *v = old;
                Err(e)
            }
        }
    }

    #[inline(never)]
    fn convert(self, v: Value) -> Result<Value, (Value, ValueError)> {
        fn conv<T: TryFrom<Value, Error = ValueError>>(
            v: Value,
            wrap: fn(T) -> Value,
        ) -> Result<Value, (Value, ValueError)> {
            T::try_from(v.clone()).map(wrap).map_err(|e| (v, e))
        }
        match self {
            Canon::SmallInt => conv::<i16>(v, Value::SmallInt),
            Canon::Int => conv::<i32>(v, Value::Int),
            Canon::BigInt => conv::<i64>(v, Value::BigInt),
            Canon::Float => match v {
                // SQLite's REAL and MySQL's FLOAT read back as doubles.
                #[allow(clippy::cast_possible_truncation)]
                Value::Double(f) => Ok(Value::Float(f as f32)),
                other => conv::<f64>(other, |f| {
                    #[allow(clippy::cast_possible_truncation)]
                    Value::Float(f as f32)
                }),
            },
            Canon::Double => conv::<f64>(v, Value::Double),
            #[cfg(feature = "decimal")]
            Canon::Decimal => conv::<rust_decimal::Decimal>(v, Value::Decimal),
            Canon::Text => conv::<String>(v, Value::String),
            Canon::Bool => conv::<bool>(v, Value::Bool),
            // chrono's variants when chrono is on (what the drivers decode
            // into), the `time` crate's otherwise.
            #[cfg(feature = "chrono")]
            Canon::Date => conv::<chrono::NaiveDate>(v, Value::Date),
            #[cfg(feature = "chrono")]
            Canon::Time => conv::<chrono::NaiveTime>(v, |t| Value::Time(micros(t))),
            #[cfg(feature = "chrono")]
            Canon::DateTime => conv::<chrono::NaiveDateTime>(v, |t| Value::DateTime(micros(t))),
            #[cfg(feature = "chrono")]
            Canon::DateTimeUtc => {
                conv::<chrono::DateTime<chrono::Utc>>(v, |t| Value::DateTimeUtc(micros(t)))
            }
            #[cfg(all(feature = "time", not(feature = "chrono")))]
            Canon::Date => conv::<time::Date>(v, Value::TimeDate),
            #[cfg(all(feature = "time", not(feature = "chrono")))]
            Canon::Time => conv::<time::Time>(v, |t| {
                Value::TimeTime(
                    t.replace_nanosecond(t.nanosecond() / 1000 * 1000)
                        .unwrap_or(t),
                )
            }),
            #[cfg(all(feature = "time", not(feature = "chrono")))]
            Canon::DateTime => conv::<time::PrimitiveDateTime>(v, |t| {
                Value::TimePrimitiveDateTime(
                    t.replace_nanosecond(t.nanosecond() / 1000 * 1000)
                        .unwrap_or(t),
                )
            }),
            #[cfg(all(feature = "time", not(feature = "chrono")))]
            Canon::DateTimeUtc => conv::<time::OffsetDateTime>(v, |t| {
                let t = t.checked_to_offset(time::UtcOffset::UTC).unwrap_or(t);
                Value::TimeOffsetDateTime(
                    t.replace_nanosecond(t.nanosecond() / 1000 * 1000)
                        .unwrap_or(t),
                )
            }),
            #[cfg(feature = "uuid")]
            Canon::Uuid => conv::<uuid::Uuid>(v, Value::Uuid),
            #[cfg(feature = "json")]
            Canon::Json => conv::<serde_json::Value>(v, Value::Json),
            Canon::Bytes => conv::<Vec<u8>>(v, Value::Bytes),
            // No normal form in this build (see `has_normal_form`).
            _ => Ok(v),
        }
    }
}

/// A time truncated to the microsecond.
#[cfg(feature = "chrono")]
fn micros<T: chrono::Timelike + Copy>(t: T) -> T {
    let ns = t.nanosecond();
    t.with_nanosecond(ns - ns % 1000).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_take_the_column_width() {
        let mut v = Value::BigInt(7);
        Canon::Int.apply(&mut v).unwrap();
        assert_eq!(v, Value::Int(7));
        let mut v = Value::Int(7);
        Canon::BigInt.apply(&mut v).unwrap();
        assert_eq!(v, Value::BigInt(7));
        let mut v = Value::BigInt(1 << 40);
        let err = Canon::Int.apply(&mut v).unwrap_err();
        assert_eq!(err.found, "bigint");
        assert_eq!(v, Value::BigInt(1 << 40), "left as it was");
        let mut n = Value::Null;
        Canon::SmallInt.apply(&mut n).unwrap();
        assert_eq!(n, Value::Null);
    }

    #[cfg(all(feature = "chrono", feature = "json"))]
    #[test]
    fn stored_forms_become_the_declared_type() {
        let mut b = Value::BigInt(1);
        Canon::Bool.apply(&mut b).unwrap();
        assert_eq!(b, Value::Bool(true));
        let mut t = Value::from("2024-01-02 03:04:05");
        Canon::DateTime.apply(&mut t).unwrap();
        assert!(matches!(t, Value::DateTime(_)));
        let mut j = Value::Bytes(b"[1]".to_vec());
        Canon::Json.apply(&mut j).unwrap();
        assert_eq!(j, Value::Json(serde_json::json!([1])));
        let mut f = Value::Double(0.5);
        Canon::Float.apply(&mut f).unwrap();
        assert_eq!(f, Value::Float(0.5));
        let mut bad = Value::from("x");
        assert!(Canon::Int.apply(&mut bad).is_err());
        let fine = chrono::DateTime::from_timestamp(1_700_000_000, 123_456_789)
            .unwrap()
            .naive_utc();
        let mut t = Value::DateTime(fine);
        Canon::DateTime.apply(&mut t).unwrap();
        assert_eq!(
            t.to_string(),
            "2023-11-14 22:13:20.123456",
            "to the microsecond"
        );
    }

    #[cfg(all(feature = "time", not(feature = "chrono")))]
    #[test]
    fn time_crate_forms_without_chrono() {
        let mut t = Value::from("2024-01-02 03:04:05.123456789");
        Canon::DateTime.apply(&mut t).unwrap();
        assert_eq!(
            t,
            Value::TimePrimitiveDateTime(time::macros::datetime!(2024-01-02 03:04:05.123456)),
            "to the microsecond"
        );
        let mut t = Value::TimeOffsetDateTime(time::macros::datetime!(2024-01-02 01:00 +02:00));
        Canon::DateTimeUtc.apply(&mut t).unwrap();
        let Value::TimeOffsetDateTime(utc) = t else {
            panic!("{t:?}")
        };
        assert!(utc.offset().is_utc());
        assert_eq!(utc, time::macros::datetime!(2024-01-01 23:00 UTC));
        let mut d = Value::from("2024-02-29");
        Canon::Date.apply(&mut d).unwrap();
        assert_eq!(d, Value::TimeDate(time::macros::date!(2024 - 02 - 29)));
    }

    #[cfg(not(any(feature = "chrono", feature = "time")))]
    #[test]
    fn dates_without_a_date_feature_are_left_alone() {
        let mut d = Value::from("2024-02-29");
        Canon::Date.apply(&mut d).unwrap();
        assert_eq!(d, Value::from("2024-02-29"));
    }
}
