//! Conversions between [`Value`] and the `time` crate's dates and times
//! (feature `time`), their text forms, and (with `chrono` on as well)
//! conversions to and from chrono's.
//!
//! The text forms are those chrono writes, so that SQLite stores the two
//! families alike: `2024-01-02`, `03:04:05` with 3, 6 or 9 fractional
//! digits when there is a fraction, a space between date and time.

use time::format_description::well_known::Rfc3339;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::{Value, ValueError};

const DATE: &[BorrowedFormatItem<'_>] = format_description!("[year]-[month]-[day]");
const TIME: &[BorrowedFormatItem<'_>] =
    format_description!("[hour]:[minute]:[second][optional [.[subsecond]]]");
const DATETIME: &[BorrowedFormatItem<'_>] = format_description!(
    "[year]-[month]-[day][first [ ][T]][hour]:[minute]:[second][optional [.[subsecond]]]"
);
const DATETIME_OFFSET: &[BorrowedFormatItem<'_>] = format_description!(
    "[year]-[month]-[day][first [ ][T]][hour]:[minute]:[second][optional [.[subsecond]]]\
     [optional [ ]][offset_hour sign:mandatory][optional [:[offset_minute]]]"
);

/// A time of day as chrono writes it: `HH:MM:SS`, then `.` and 3, 6 or 9
/// digits when there is a fraction.
///
/// ```
/// let t = time::Time::from_hms_micro(3, 4, 5, 120_000).unwrap();
/// assert_eq!(dialects::value::time_text(t), "03:04:05.120");
/// ```
pub fn time_text(t: Time) -> String {
    let (h, m, s, nanos) = t.as_hms_nano();
    let fraction = if nanos == 0 {
        String::new()
    } else if nanos % 1_000_000 == 0 {
        format!(".{:03}", nanos / 1_000_000)
    } else if nanos % 1_000 == 0 {
        format!(".{:06}", nanos / 1_000)
    } else {
        format!(".{nanos:09}")
    };
    format!("{h:02}:{m:02}:{s:02}{fraction}")
}

/// An offset as `+HH:MM` (`+HH:MM:SS` when it has seconds).
pub(super) fn offset_text(o: UtcOffset) -> String {
    let (h, m, s) = o.as_hms();
    let sign = if o.is_negative() { '-' } else { '+' };
    let (h, m, s) = (h.unsigned_abs(), m.unsigned_abs(), s.unsigned_abs());
    if s == 0 {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}:{m:02}:{s:02}")
    }
}

/// A timestamp with its offset in RFC 3339 form
/// (`2024-01-02T03:04:05.500+02:00`).
pub(crate) fn rfc3339_text(t: OffsetDateTime) -> String {
    format!(
        "{}T{}{}",
        t.date(),
        time_text(t.time()),
        offset_text(t.offset())
    )
}

/// The same instant as a timestamp in UTC without offset (`None` when
/// the UTC date is outside the `time` crate's range).
pub fn utc_primitive(t: OffsetDateTime) -> Option<PrimitiveDateTime> {
    t.checked_to_offset(UtcOffset::UTC)
        .map(|u| PrimitiveDateTime::new(u.date(), u.time()))
}

impl TryFrom<Value> for Date {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        match v {
            Value::TimeDate(d) => Ok(d),
            #[cfg(feature = "chrono")]
            Value::Date(d) => interop::time_date(d).ok_or_else(|| ValueError::new::<Date>(&v)),
            Value::String(ref s) => Date::parse(s, DATE).map_err(|_| ValueError::new::<Date>(&v)),
            other => Err(ValueError::new::<Date>(&other)),
        }
    }
}

impl TryFrom<Value> for Time {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        match v {
            Value::TimeTime(t) => Ok(t),
            #[cfg(feature = "chrono")]
            Value::Time(t) => interop::time_time(t).ok_or_else(|| ValueError::new::<Time>(&v)),
            Value::String(ref s) => Time::parse(s, TIME).map_err(|_| ValueError::new::<Time>(&v)),
            other => Err(ValueError::new::<Time>(&other)),
        }
    }
}

impl TryFrom<Value> for PrimitiveDateTime {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        let err = |v: &Value| ValueError::new::<PrimitiveDateTime>(v);
        match v {
            Value::TimePrimitiveDateTime(t) => Ok(t),
            Value::TimeOffsetDateTime(t) => utc_primitive(t).ok_or_else(|| err(&v)),
            #[cfg(feature = "chrono")]
            Value::DateTime(t) => interop::time_datetime(t).ok_or_else(|| err(&v)),
            #[cfg(feature = "chrono")]
            Value::DateTimeUtc(t) => interop::time_datetime(t.naive_utc()).ok_or_else(|| err(&v)),
            Value::String(ref s) => parse_primitive(s).ok_or_else(|| err(&v)),
            other => Err(err(&other)),
        }
    }
}

impl TryFrom<Value> for OffsetDateTime {
    type Error = ValueError;
    fn try_from(v: Value) -> Result<Self, ValueError> {
        let err = |v: &Value| ValueError::new::<OffsetDateTime>(v);
        match v {
            Value::TimeOffsetDateTime(t) => Ok(t),
            Value::TimePrimitiveDateTime(t) => Ok(t.assume_utc()),
            #[cfg(feature = "chrono")]
            Value::DateTime(t) => interop::time_datetime(t)
                .map(PrimitiveDateTime::assume_utc)
                .ok_or_else(|| err(&v)),
            #[cfg(feature = "chrono")]
            Value::DateTimeUtc(t) => interop::time_datetime(t.naive_utc())
                .map(PrimitiveDateTime::assume_utc)
                .ok_or_else(|| err(&v)),
            Value::String(ref s) => OffsetDateTime::parse(s, &Rfc3339)
                .or_else(|_| OffsetDateTime::parse(s, DATETIME_OFFSET))
                .ok()
                .or_else(|| parse_primitive(s).map(PrimitiveDateTime::assume_utc))
                .ok_or_else(|| err(&v)),
            other => Err(err(&other)),
        }
    }
}

/// A timestamp in the text forms SQLite's date functions and drivers
/// write (a space or `T` between date and time, an optional fraction,
/// an offset ignored as chrono's parsing does).
fn parse_primitive(s: &str) -> Option<PrimitiveDateTime> {
    PrimitiveDateTime::parse(s, DATETIME).ok().or_else(|| {
        OffsetDateTime::parse(s, DATETIME_OFFSET)
            .ok()
            .map(|t| PrimitiveDateTime::new(t.date(), t.time()))
    })
}

/// Conversions between the two crates' types, field by field (`None`
/// where one holds what the other cannot: a year past ±9999, a leap
/// second).
#[cfg(feature = "chrono")]
pub(super) mod interop {
    use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
    use time::{Date, Month, PrimitiveDateTime, Time};

    pub(crate) fn chrono_date(d: Date) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(d.year(), u32::from(u8::from(d.month())), u32::from(d.day()))
    }

    pub(crate) fn chrono_time(t: Time) -> Option<NaiveTime> {
        let (h, m, s, n) = t.as_hms_nano();
        NaiveTime::from_hms_nano_opt(u32::from(h), u32::from(m), u32::from(s), n)
    }

    pub(crate) fn chrono_datetime(t: PrimitiveDateTime) -> Option<NaiveDateTime> {
        Some(chrono_date(t.date())?.and_time(chrono_time(t.time())?))
    }

    pub(crate) fn time_date(d: NaiveDate) -> Option<Date> {
        let month = Month::try_from(u8::try_from(d.month()).ok()?).ok()?;
        Date::from_calendar_date(d.year(), month, u8::try_from(d.day()).ok()?).ok()
    }

    pub(crate) fn time_time(t: NaiveTime) -> Option<Time> {
        Time::from_hms_nano(
            u8::try_from(t.hour()).ok()?,
            u8::try_from(t.minute()).ok()?,
            u8::try_from(t.second()).ok()?,
            t.nanosecond(),
        )
        .ok()
    }

    pub(crate) fn time_datetime(t: NaiveDateTime) -> Option<PrimitiveDateTime> {
        Some(PrimitiveDateTime::new(
            time_date(t.date())?,
            time_time(t.time())?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime, offset, time};

    use super::*;

    #[test]
    fn text_forms_parse() {
        assert_eq!(
            Date::try_from(Value::from("2024-02-29")),
            Ok(date!(2024 - 02 - 29))
        );
        assert_eq!(
            Time::try_from(Value::from("03:04:05.25")),
            Ok(time!(03:04:05.25))
        );
        assert_eq!(Time::try_from(Value::from("03:04:05")), Ok(time!(03:04:05)));
        for s in [
            "2024-01-02 03:04:05.5",
            "2024-01-02T03:04:05.5",
            "2024-01-02 03:04:05.5+00:00",
        ] {
            assert_eq!(
                PrimitiveDateTime::try_from(Value::from(s)),
                Ok(datetime!(2024-01-02 03:04:05.5)),
                "{s}"
            );
        }
        assert_eq!(
            OffsetDateTime::try_from(Value::from("2024-01-02T03:04:05+02:00")),
            Ok(datetime!(2024-01-02 03:04:05 +02:00))
        );
        assert_eq!(
            OffsetDateTime::try_from(Value::from("2024-01-02 03:04:05+02")),
            Ok(datetime!(2024-01-02 03:04:05 +02:00))
        );
        assert_eq!(
            OffsetDateTime::try_from(Value::from("2024-01-02 03:04:05")),
            Ok(datetime!(2024-01-02 03:04:05 UTC))
        );
        let err = Date::try_from(Value::from("2024-02-30")).unwrap_err();
        assert_eq!(err.found, "string");
        assert!(Date::try_from(Value::Bool(true)).is_err());
    }

    #[test]
    fn text_forms_match_chronos() {
        assert_eq!(time_text(time!(03:04:05)), "03:04:05");
        assert_eq!(time_text(time!(03:04:05.000_001)), "03:04:05.000001");
        assert_eq!(time_text(time!(03:04:05.000_000_001)), "03:04:05.000000001");
        assert_eq!(
            Value::from(datetime!(2024-01-02 03:04:05.5)).to_string(),
            "2024-01-02 03:04:05.500"
        );
        assert_eq!(
            Value::from(datetime!(2024-01-02 03:04:05 -05:30)).to_string(),
            "2024-01-02 03:04:05 -05:30"
        );
    }

    #[test]
    fn offsets_convert_to_utc() {
        let t = datetime!(2024-01-02 01:00 +02:00);
        assert_eq!(utc_primitive(t), Some(datetime!(2024-01-01 23:00)));
        assert_eq!(
            PrimitiveDateTime::try_from(Value::from(t)),
            Ok(datetime!(2024-01-01 23:00))
        );
        assert_eq!(
            OffsetDateTime::try_from(Value::from(datetime!(2024-01-01 23:00))),
            Ok(datetime!(2024-01-01 23:00 UTC))
        );
        assert_eq!(offset_text(offset!(-00:30)), "-00:30");
    }

    #[cfg(feature = "chrono")]
    #[test]
    fn chrono_and_time_convert_both_ways() {
        let c = chrono::NaiveDate::from_ymd_opt(2024, 2, 29)
            .and_then(|d| d.and_hms_micro_opt(3, 4, 5, 6))
            .unwrap();
        let t = datetime!(2024-02-29 03:04:05.000_006);
        assert_eq!(PrimitiveDateTime::try_from(Value::DateTime(c)), Ok(t));
        assert_eq!(chrono::NaiveDateTime::try_from(Value::from(t)), Ok(c));
        assert_eq!(
            OffsetDateTime::try_from(Value::DateTimeUtc(c.and_utc())),
            Ok(t.assume_utc())
        );
        assert_eq!(
            chrono::DateTime::<chrono::Utc>::try_from(Value::from(
                datetime!(2024-02-29 05:04:05.000_006 +02:00)
            )),
            Ok(c.and_utc())
        );
        assert_eq!(Date::try_from(Value::Date(c.date())), Ok(t.date()));
        assert_eq!(
            chrono::NaiveTime::try_from(Value::from(t.time())),
            Ok(c.time())
        );
        // Outside the time crate's range: an error, not a panic.
        let far = chrono::NaiveDate::from_ymd_opt(20_000, 1, 1).unwrap();
        assert!(Date::try_from(Value::Date(far)).is_err());
    }
}
