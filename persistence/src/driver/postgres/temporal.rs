//! PostgreSQL's dates and times, which the wire gives as days and
//! microseconds from 2000-01-01 ([`wire`](super::wire)), as values:
//! chrono's with the `chrono` feature, the `time` crate's with `time`
//! alone; and as ISO 8601 text (an array's elements), with any features.
//!
//! Nothing here panics: a day or microsecond count outside what the Rust
//! type holds is a [`WireError::OutOfRange`].

use std::fmt::Write as _;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Days from 1970-01-01 to 2000-01-01.
#[cfg(feature = "json")]
const EPOCH_FROM_UNIX_DAYS: i64 = 10_957;

/// The (year, month, day) `days` after 2000-01-01, in the proleptic
/// Gregorian calendar (the civil-from-days algorithm of H. Hinnant).
#[cfg(feature = "json")]
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + EPOCH_FROM_UNIX_DAYS + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or_default(),
        u32::try_from(day).unwrap_or_default(),
    )
}

/// The date `days` after 2000-01-01 as chrono writes it (`2024-01-02`,
/// `+10000-01-01` past year 9999).
#[cfg(feature = "json")]
pub(crate) fn date_text(days: i64) -> String {
    let (y, m, d) = civil(days);
    if (0..=9999).contains(&y) {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!("{y:+05}-{m:02}-{d:02}")
    }
}

/// The time `micros` after midnight as chrono writes it: `HH:MM:SS`, and
/// a fraction of 3 or 6 digits when there is one.
pub(crate) fn time_text(micros: i64) -> String {
    let micros = micros.rem_euclid(MICROS_PER_DAY);
    let (h, rest) = (micros / 3_600_000_000, micros % 3_600_000_000);
    let (m, rest) = (rest / 60_000_000, rest % 60_000_000);
    let (s, fraction) = (rest / 1_000_000, rest % 1_000_000);
    let mut out = format!("{h:02}:{m:02}:{s:02}");
    if fraction % 1000 == 0 && fraction != 0 {
        let _ = write!(out, ".{:03}", fraction / 1000);
    } else if fraction != 0 {
        let _ = write!(out, ".{fraction:06}");
    }
    out
}

/// A timestamp `micros` after 2000-01-01 00:00 as ISO 8601 text with a
/// `T` (`2024-01-02T03:04:05.500`).
#[cfg(feature = "json")]
pub(crate) fn timestamp_text(micros: i64) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    format!(
        "{}T{}",
        date_text(days),
        time_text(micros.rem_euclid(MICROS_PER_DAY))
    )
}

/// A `timestamptz` (in UTC) as RFC 3339 text (`2024-01-02T03:04:05Z`).
#[cfg(feature = "json")]
pub(crate) fn timestamptz_text(micros: i64) -> String {
    format!("{}Z", timestamp_text(micros))
}

#[cfg(feature = "chrono")]
mod values {
    use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
    use dialects::Value;

    use super::super::wire::WireError;

    fn epoch_date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
    }

    pub(crate) fn date(days: i32) -> Result<Value, WireError> {
        epoch_date()
            .checked_add_signed(Duration::days(i64::from(days)))
            .map(Value::Date)
            .ok_or_else(|| {
                WireError::OutOfRange(format!(
                    "the date {days} days from 2000-01-01 is outside chrono's range"
                ))
            })
    }

    fn naive(micros: i64) -> Result<NaiveDateTime, WireError> {
        epoch_date()
            .and_time(NaiveTime::MIN)
            .checked_add_signed(Duration::microseconds(micros))
            .ok_or_else(|| {
                WireError::OutOfRange(format!(
                    "the timestamp {micros} µs from 2000-01-01 is outside chrono's range"
                ))
            })
    }

    pub(crate) fn timestamp(micros: i64) -> Result<Value, WireError> {
        naive(micros).map(Value::DateTime)
    }

    pub(crate) fn timestamptz(micros: i64) -> Result<Value, WireError> {
        naive(micros).map(|t| Value::DateTimeUtc(t.and_utc()))
    }

    /// `micros` is below a day ([`wire::time`](super::super::wire::time)).
    pub(crate) fn time(micros: i64) -> Result<Value, WireError> {
        let secs = u32::try_from(micros.div_euclid(1_000_000)).ok();
        let nanos = u32::try_from(micros.rem_euclid(1_000_000) * 1_000).ok();
        secs.zip(nanos)
            .and_then(|(s, n)| NaiveTime::from_num_seconds_from_midnight_opt(s, n))
            .map(Value::Time)
            .ok_or_else(|| {
                WireError::OutOfRange(format!(
                    "the time {micros} µs after midnight has no chrono representation"
                ))
            })
    }
}

#[cfg(all(feature = "time", not(feature = "chrono")))]
mod values {
    use dialects::Value;
    use time::{Date, PrimitiveDateTime, Time};

    use super::super::wire::WireError;
    use super::MICROS_PER_DAY;

    /// The Julian day of 2000-01-01.
    const EPOCH_JULIAN_DAY: i64 = 2_451_545;

    fn out_of_range(what: &str) -> WireError {
        WireError::OutOfRange(format!("{what} is outside the `time` crate's range"))
    }

    fn date_of(days: i64) -> Option<Date> {
        let julian = i32::try_from(EPOCH_JULIAN_DAY.checked_add(days)?).ok()?;
        Date::from_julian_day(julian).ok()
    }

    fn time_of(micros: i64) -> Option<Time> {
        let micros = micros.rem_euclid(MICROS_PER_DAY);
        let h = u8::try_from(micros / 3_600_000_000).ok()?;
        let m = u8::try_from(micros / 60_000_000 % 60).ok()?;
        let s = u8::try_from(micros / 1_000_000 % 60).ok()?;
        let us = u32::try_from(micros % 1_000_000).ok()?;
        Time::from_hms_micro(h, m, s, us).ok()
    }

    pub(crate) fn date(days: i32) -> Result<Value, WireError> {
        date_of(i64::from(days))
            .map(Value::TimeDate)
            .ok_or_else(|| out_of_range(&format!("the date {days} days from 2000-01-01")))
    }

    fn primitive(micros: i64) -> Result<PrimitiveDateTime, WireError> {
        date_of(micros.div_euclid(MICROS_PER_DAY))
            .zip(time_of(micros.rem_euclid(MICROS_PER_DAY)))
            .map(|(d, t)| PrimitiveDateTime::new(d, t))
            .ok_or_else(|| out_of_range(&format!("the timestamp {micros} µs from 2000-01-01")))
    }

    pub(crate) fn timestamp(micros: i64) -> Result<Value, WireError> {
        primitive(micros).map(Value::TimePrimitiveDateTime)
    }

    pub(crate) fn timestamptz(micros: i64) -> Result<Value, WireError> {
        primitive(micros).map(|t| Value::TimeOffsetDateTime(t.assume_utc()))
    }

    /// `micros` is below a day ([`wire::time`](super::super::wire::time)).
    pub(crate) fn time(micros: i64) -> Result<Value, WireError> {
        time_of(micros)
            .map(Value::TimeTime)
            .ok_or_else(|| out_of_range(&format!("the time {micros} µs after midnight")))
    }
}

#[cfg(any(feature = "chrono", feature = "time"))]
pub(crate) use values::{date, time, timestamp, timestamptz};

#[cfg(all(test, feature = "json"))]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_around_the_epochs() {
        assert_eq!(date_text(0), "2000-01-01");
        assert_eq!(date_text(-1), "1999-12-31");
        assert_eq!(date_text(59), "2000-02-29");
        assert_eq!(date_text(-10_957), "1970-01-01");
        assert_eq!(date_text(8766), "2024-01-01");
        assert_eq!(date_text(-730_485), "0000-01-01");
        assert_eq!(date_text(-730_486), "-0001-12-31");
        // 8000 years: twenty 400-year cycles of 146,097 days.
        assert_eq!(date_text(20 * 146_097), "+10000-01-01");
    }

    #[test]
    fn times_take_chronos_fraction_widths() {
        assert_eq!(time_text(0), "00:00:00");
        assert_eq!(time_text(86_399_999_999), "23:59:59.999999");
        assert_eq!(time_text(500_000), "00:00:00.500");
        assert_eq!(timestamp_text(-500_000), "1999-12-31T23:59:59.500");
        assert_eq!(timestamptz_text(0), "2000-01-01T00:00:00Z");
    }
}
