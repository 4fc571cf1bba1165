//! Conversions between [`Value`] and chrono's dates and times (feature
//! `chrono`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

#[cfg(feature = "time")]
use super::time_impls::interop;
use super::{Value, ValueError};

impl TryFrom<Value> for NaiveDate {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        match v {
            Value::Date(d) => Ok(d),
            #[cfg(feature = "time")]
            Value::TimeDate(d) => {
                interop::chrono_date(d).ok_or_else(|| ValueError::new::<NaiveDate>(&v))
            }
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
            #[cfg(feature = "time")]
            Value::TimeTime(t) => {
                interop::chrono_time(t).ok_or_else(|| ValueError::new::<NaiveTime>(&v))
            }
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
            #[cfg(feature = "time")]
            Value::TimePrimitiveDateTime(t) => {
                interop::chrono_datetime(t).ok_or_else(|| ValueError::new::<NaiveDateTime>(&v))
            }
            #[cfg(feature = "time")]
            Value::TimeOffsetDateTime(t) => super::utc_primitive(t)
                .and_then(interop::chrono_datetime)
                .ok_or_else(|| ValueError::new::<NaiveDateTime>(&v)),
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
            #[cfg(feature = "time")]
            Value::TimePrimitiveDateTime(t) => interop::chrono_datetime(t)
                .map(|t| t.and_utc())
                .ok_or_else(|| ValueError::new::<DateTime<Utc>>(&v)),
            #[cfg(feature = "time")]
            Value::TimeOffsetDateTime(t) => super::utc_primitive(t)
                .and_then(interop::chrono_datetime)
                .map(|t| t.and_utc())
                .ok_or_else(|| ValueError::new::<DateTime<Utc>>(&v)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_text_timestamps_parse() {
        let t = NaiveDateTime::try_from(Value::from("2024-01-02 03:04:05")).unwrap();
        assert_eq!(t.to_string(), "2024-01-02 03:04:05");
    }
}
