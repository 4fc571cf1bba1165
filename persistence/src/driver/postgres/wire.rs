//! PostgreSQL's binary wire formats, decoded by hand where sqlx's decoders
//! would panic on what a server may send (`'infinity'` dates, numerics
//! past `Decimal`'s range, short buffers) or where sqlx has no decoder we
//! build on (interval, inet, arrays of any element type, bit strings).
//!
//! Every reader takes the value's bytes and returns a [`WireError`] for
//! anything it cannot represent; nothing here indexes or unwraps.
//!
//! Representations, where [`Value`](dialects::Value) has no variant of its
//! own: `interval` is its ISO 8601 text (`P1Y2M3DT4H5M6.5S`, which
//! PostgreSQL reads back), `inet` / `cidr` / `macaddr` / `bit` and `timetz`
//! their PostgreSQL text, an array a JSON array (nested per dimension;
//! numerics, dates, times, intervals and UUIDs as JSON strings, `infinity`
//! dates as the strings `"infinity"` / `"-infinity"`).

use std::fmt::Write as _;

#[cfg(feature = "decimal")]
use rust_decimal::Decimal;

use super::temporal;

/// Why a value could not be decoded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WireError {
    /// PostgreSQL's `infinity` or `-infinity` (`positive` tells which).
    Infinity { positive: bool },
    /// A value outside what the Rust type holds.
    OutOfRange(String),
    /// Bytes that are not the type's binary form.
    Malformed(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Infinity { positive } => write!(
                f,
                "the value is `{}infinity`, which has no Rust representation (filter it out, \
                 or cast the column to text in the query)",
                if *positive { "" } else { "-" }
            ),
            WireError::OutOfRange(what) => write!(f, "{what}"),
            WireError::Malformed(what) => write!(f, "malformed binary value: {what}"),
        }
    }
}

type Result<T> = std::result::Result<T, WireError>;

/// The first `N` bytes of `buf`, which is advanced past them.
fn take<const N: usize>(buf: &mut &[u8]) -> Result<[u8; N]> {
    let (head, rest) = buf
        .split_first_chunk::<N>()
        .ok_or_else(|| WireError::Malformed(format!("expected {N} more bytes")))?;
    *buf = rest;
    Ok(*head)
}

/// `buf`, which must hold exactly `N` bytes.
fn exact<const N: usize>(buf: &[u8]) -> Result<[u8; N]> {
    <[u8; N]>::try_from(buf)
        .map_err(|_| WireError::Malformed(format!("expected {N} bytes, got {}", buf.len())))
}

pub(crate) fn bool(buf: &[u8]) -> Result<bool> {
    Ok(exact::<1>(buf)? != [0])
}

pub(crate) fn int2(buf: &[u8]) -> Result<i16> {
    Ok(i16::from_be_bytes(exact(buf)?))
}

pub(crate) fn int4(buf: &[u8]) -> Result<i32> {
    Ok(i32::from_be_bytes(exact(buf)?))
}

pub(crate) fn int8(buf: &[u8]) -> Result<i64> {
    Ok(i64::from_be_bytes(exact(buf)?))
}

pub(crate) fn oid(buf: &[u8]) -> Result<u32> {
    Ok(u32::from_be_bytes(exact(buf)?))
}

pub(crate) fn float4(buf: &[u8]) -> Result<f32> {
    Ok(f32::from_be_bytes(exact(buf)?))
}

pub(crate) fn float8(buf: &[u8]) -> Result<f64> {
    Ok(f64::from_be_bytes(exact(buf)?))
}

/// `uuid`: its 16 bytes.
pub(crate) fn uuid(buf: &[u8]) -> Result<[u8; 16]> {
    exact(buf)
}

/// A UUID's hyphenated text (`67e55044-10b1-426f-9247-bb680e5fe0c8`).
pub(crate) fn uuid_text(b: [u8; 16]) -> String {
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}

pub(crate) fn text(buf: &[u8]) -> Result<&str> {
    std::str::from_utf8(buf).map_err(|e| WireError::Malformed(e.to_string()))
}

/// `json` is its text; `jsonb` a version byte (1) and its text.
pub(crate) fn json_text(buf: &[u8], jsonb: bool) -> Result<&str> {
    let body = if jsonb {
        match buf.split_first() {
            Some((1, body)) => body,
            Some((v, _)) => return Err(WireError::Malformed(format!("jsonb version {v}"))),
            None => return Err(WireError::Malformed("empty jsonb".into())),
        }
    } else {
        buf
    };
    text(body)
}

/// A `json` / `jsonb` document.
#[cfg(feature = "json")]
pub(crate) fn json(buf: &[u8], jsonb: bool) -> Result<serde_json::Value> {
    serde_json::from_str(json_text(buf, jsonb)?).map_err(|e| WireError::Malformed(e.to_string()))
}

#[cfg(any(feature = "json", feature = "chrono", feature = "time"))]
/// `date`: days since 2000-01-01; `i32::MAX` / `i32::MIN` are
/// `infinity` / `-infinity`.
pub(crate) fn date(buf: &[u8]) -> Result<i32> {
    match int4(buf)? {
        i32::MAX => Err(WireError::Infinity { positive: true }),
        i32::MIN => Err(WireError::Infinity { positive: false }),
        days => Ok(days),
    }
}

#[cfg(any(feature = "json", feature = "chrono", feature = "time"))]
/// `timestamp` and `timestamptz` (in UTC): microseconds since
/// 2000-01-01 00:00; `i64::MAX` / `i64::MIN` are `infinity` / `-infinity`.
pub(crate) fn timestamp(buf: &[u8]) -> Result<i64> {
    match int8(buf)? {
        i64::MAX => Err(WireError::Infinity { positive: true }),
        i64::MIN => Err(WireError::Infinity { positive: false }),
        micros => Ok(micros),
    }
}

#[cfg(any(feature = "json", feature = "chrono", feature = "time"))]
/// `time`: microseconds since midnight, below 24 hours (PostgreSQL's
/// `24:00:00` has no Rust form).
pub(crate) fn time(buf: &[u8]) -> Result<i64> {
    time_of(int8(buf)?)
}

fn time_of(micros: i64) -> Result<i64> {
    if (0..86_400_000_000).contains(&micros) {
        Ok(micros)
    } else {
        Err(WireError::OutOfRange(format!(
            "the time {micros} µs after midnight has no chrono representation"
        )))
    }
}

/// `timetz`: microseconds since midnight and the zone's offset in seconds
/// west of UTC, as PostgreSQL writes it (`12:30:00+02`).
pub(crate) fn timetz(buf: &[u8]) -> Result<String> {
    let mut buf = buf;
    let micros = i64::from_be_bytes(take::<8>(&mut buf)?);
    let west = i32::from_be_bytes(exact::<4>(buf)?);
    let time = time_of(micros)?;
    let east = -i64::from(west);
    let (sign, east) = if east < 0 { ('-', -east) } else { ('+', east) };
    let mut out = temporal::time_text(time);
    let _ = write!(out, "{sign}{:02}", east / 3600);
    if east % 3600 != 0 {
        let _ = write!(out, ":{:02}", (east % 3600) / 60);
    }
    Ok(out)
}

/// `interval`: microseconds, days and months, as ISO 8601 text.
pub(crate) fn interval(buf: &[u8]) -> Result<String> {
    let mut buf = buf;
    let micros = i64::from_be_bytes(take::<8>(&mut buf)?);
    let days = i32::from_be_bytes(take::<4>(&mut buf)?);
    let months = i32::from_be_bytes(exact::<4>(buf)?);
    let mut out = String::from("P");
    let (years, months) = (months / 12, months % 12);
    for (n, unit) in [
        (i64::from(years), 'Y'),
        (i64::from(months), 'M'),
        (i64::from(days), 'D'),
    ] {
        if n != 0 {
            let _ = write!(out, "{n}{unit}");
        }
    }
    if micros != 0 {
        out.push('T');
        let negative = micros < 0;
        let abs = micros.unsigned_abs();
        let (hours, rest) = (abs / 3_600_000_000, abs % 3_600_000_000);
        let (minutes, rest) = (rest / 60_000_000, rest % 60_000_000);
        let (seconds, fraction) = (rest / 1_000_000, rest % 1_000_000);
        let sign = if negative { "-" } else { "" };
        if hours != 0 {
            let _ = write!(out, "{sign}{hours}H");
        }
        if minutes != 0 {
            let _ = write!(out, "{sign}{minutes}M");
        }
        if seconds != 0 || fraction != 0 {
            let _ = write!(out, "{sign}{seconds}");
            if fraction != 0 {
                let digits = format!("{fraction:06}");
                let _ = write!(out, ".{}", digits.trim_end_matches('0'));
            }
            out.push('S');
        }
    }
    if out == "P" {
        out.push_str("T0S");
    }
    Ok(out)
}

/// `inet` / `cidr`: family, mask bits, whether it is a `cidr`, address
/// length, address; as PostgreSQL writes it (`10.0.0.1`, `10.0.0.0/8`).
pub(crate) fn inet(buf: &[u8]) -> Result<String> {
    let mut buf = buf;
    let [family, bits, is_cidr, len] = take::<4>(&mut buf)?;
    let address: std::net::IpAddr = match (family, len) {
        (2, 4) => std::net::Ipv4Addr::from(exact::<4>(buf)?).into(),
        (3, 16) => std::net::Ipv6Addr::from(exact::<16>(buf)?).into(),
        _ => {
            return Err(WireError::Malformed(format!(
                "inet family {family} with {len} address bytes"
            )))
        }
    };
    let full = if address.is_ipv4() { 32 } else { 128 };
    Ok(if is_cidr != 0 || bits != full {
        format!("{address}/{bits}")
    } else {
        address.to_string()
    })
}

/// `macaddr` (6 bytes) and `macaddr8` (8 bytes): `08:00:2b:01:02:03`.
pub(crate) fn macaddr(buf: &[u8]) -> Result<String> {
    if buf.len() != 6 && buf.len() != 8 {
        return Err(WireError::Malformed(format!(
            "a MAC address of {} bytes",
            buf.len()
        )));
    }
    Ok(buf
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":"))
}

/// `bit` / `varbit`: the bit count and the bits, as a string of `0`s and `1`s.
pub(crate) fn bits(buf: &[u8]) -> Result<String> {
    let mut buf = buf;
    let count = i32::from_be_bytes(take::<4>(&mut buf)?);
    let count =
        usize::try_from(count).map_err(|_| WireError::Malformed("negative bit count".into()))?;
    if buf.len().saturating_mul(8) < count {
        return Err(WireError::Malformed(format!(
            "{count} bits in {} bytes",
            buf.len()
        )));
    }
    Ok((0..count)
        .map(|i| {
            let byte = buf.get(i / 8).copied().unwrap_or(0);
            if byte & (0x80 >> (i % 8)) != 0 {
                '1'
            } else {
                '0'
            }
        })
        .collect())
}

/// A `numeric` as its mantissa, scale and display scale ([`numeric`]).
struct Numeric {
    mantissa: i128,
    scale: u32,
    dscale: u16,
}

/// `numeric`: digit count, weight (of the first base-10000 digit), sign,
/// display scale, base-10000 digits; as an exact [`Decimal`], or an error
/// past its 28 digits, and for `NaN` and the infinities.
#[cfg(feature = "decimal")]
pub(crate) fn numeric(buf: &[u8]) -> Result<Decimal> {
    let Numeric {
        mantissa,
        scale,
        dscale,
    } = numeric_parts(buf)?;
    let value = Decimal::try_from_i128_with_scale(mantissa, scale).map_err(|_| too_big())?;
    let mut shown = value;
    if u32::from(dscale) > shown.scale() && dscale <= 28 {
        shown.rescale(u32::from(dscale));
        if shown != value {
            shown = value;
        }
    }
    Ok(shown)
}

/// A `numeric` as PostgreSQL writes it (`12345.678`, `-0.0001`, with
/// its display scale's trailing zeros): without the `decimal` feature.
#[cfg_attr(feature = "decimal", allow(dead_code))]
pub(crate) fn numeric_text(buf: &[u8]) -> Result<String> {
    let Numeric {
        mantissa,
        scale,
        dscale,
    } = numeric_parts(buf)?;
    let digits = mantissa.unsigned_abs().to_string();
    let scale = usize::try_from(scale).unwrap_or(usize::MAX);
    let mut out = String::new();
    if mantissa < 0 {
        out.push('-');
    }
    if scale == 0 {
        out.push_str(&digits);
    } else {
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        let _ = write!(out, "{int}.{frac}");
    }
    let shown = usize::from(dscale);
    if shown > scale {
        if scale == 0 {
            out.push('.');
        }
        out.extend(std::iter::repeat_n('0', shown - scale));
    }
    Ok(out)
}

fn too_big() -> WireError {
    WireError::OutOfRange(
        "the numeric value has more digits than `Decimal` holds (28); cast it to text".into(),
    )
}

fn numeric_parts(buf: &[u8]) -> Result<Numeric> {
    const POSITIVE: u16 = 0x0000;
    const NEGATIVE: u16 = 0x4000;
    const NAN: u16 = 0xC000;
    const PINF: u16 = 0xD000;
    const NINF: u16 = 0xF000;
    let mut buf = buf;
    let count = u16::from_be_bytes(take::<2>(&mut buf)?);
    let weight = i16::from_be_bytes(take::<2>(&mut buf)?);
    let sign = u16::from_be_bytes(take::<2>(&mut buf)?);
    let dscale = u16::from_be_bytes(take::<2>(&mut buf)?);
    let negative = match sign {
        POSITIVE => false,
        NEGATIVE => true,
        NAN => {
            return Err(WireError::OutOfRange(
                "the value is `NaN`, which `Decimal` has no form of".into(),
            ))
        }
        PINF => return Err(WireError::Infinity { positive: true }),
        NINF => return Err(WireError::Infinity { positive: false }),
        other => return Err(WireError::Malformed(format!("numeric sign {other:#x}"))),
    };
    let mut mantissa: i128 = 0;
    for _ in 0..count {
        let digit = u16::from_be_bytes(take::<2>(&mut buf)?);
        if digit >= 10_000 {
            return Err(WireError::Malformed(format!("numeric digit {digit}")));
        }
        mantissa = mantissa
            .checked_mul(10_000)
            .and_then(|m| m.checked_add(i128::from(digit)))
            .ok_or_else(too_big)?;
    }
    // The value is mantissa * 10000^(weight - count + 1).
    let exponent = i32::from(weight) - i32::from(count) + 1;
    let mut scale: u32 = 0;
    if exponent >= 0 {
        for _ in 0..exponent {
            mantissa = mantissa.checked_mul(10_000).ok_or_else(too_big)?;
        }
    } else {
        scale = exponent.unsigned_abs() * 4;
        // Trailing zeros of the last base-10000 digit beyond the display scale.
        while scale > u32::from(dscale) && mantissa % 10 == 0 && scale > 0 {
            mantissa /= 10;
            scale -= 1;
        }
    }
    if negative {
        mantissa = -mantissa;
    }
    Ok(Numeric {
        mantissa,
        scale,
        dscale,
    })
}

#[cfg(feature = "json")]
/// The element readers an array's elements go through ([`array`]).
pub(crate) type ElementReader = fn(&[u8]) -> Result<serde_json::Value>;

#[cfg(feature = "json")]
/// A binary array: dimensions, null flag, element type, then per
/// dimension its length and lower bound, then each element (its length,
/// -1 for NULL, and its bytes) read by `element`; as a JSON array, nested
/// per dimension (an empty array is `[]`).
pub(crate) fn array(buf: &[u8], element: ElementReader) -> Result<serde_json::Value> {
    let mut buf = buf;
    let dims = i32::from_be_bytes(take::<4>(&mut buf)?);
    let _has_nulls = take::<4>(&mut buf)?;
    let _element_oid = take::<4>(&mut buf)?;
    if dims == 0 {
        return Ok(serde_json::Value::Array(Vec::new()));
    }
    let dims = usize::try_from(dims)
        .ok()
        .filter(|d| *d <= 6)
        .ok_or_else(|| WireError::Malformed(format!("{dims} array dimensions")))?;
    let mut lengths = Vec::with_capacity(dims);
    for _ in 0..dims {
        let len = i32::from_be_bytes(take::<4>(&mut buf)?);
        let _lower = take::<4>(&mut buf)?;
        lengths.push(
            usize::try_from(len).map_err(|_| WireError::Malformed("negative length".into()))?,
        );
    }
    let total = lengths
        .iter()
        .try_fold(1usize, |acc, n| acc.checked_mul(*n));
    let total = total.ok_or_else(|| WireError::Malformed("array too large".into()))?;
    let mut elements = Vec::with_capacity(total.min(buf.len() / 4 + 1));
    for _ in 0..total {
        let len = i32::from_be_bytes(take::<4>(&mut buf)?);
        if len < 0 {
            elements.push(serde_json::Value::Null);
            continue;
        }
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let bytes = buf
            .get(..len)
            .ok_or_else(|| WireError::Malformed(format!("element of {len} bytes")))?;
        buf = buf.get(len..).unwrap_or(&[]);
        elements.push(element(bytes)?);
    }
    Ok(nest(&lengths, &mut elements.into_iter()))
}

#[cfg(feature = "json")]
/// The flat `elements` as nested arrays of `lengths`.
fn nest(
    lengths: &[usize],
    elements: &mut impl Iterator<Item = serde_json::Value>,
) -> serde_json::Value {
    match lengths.split_first() {
        None => elements.next().unwrap_or(serde_json::Value::Null),
        Some((n, inner)) => {
            serde_json::Value::Array((0..*n).map(|_| nest(inner, elements)).collect())
        }
    }
}

#[cfg(feature = "json")]
/// A date or time in an array: its ISO text, `infinity` as text.
pub(crate) fn infinite_as_text<T: ToString>(r: Result<T>) -> Result<serde_json::Value> {
    match r {
        Ok(v) => Ok(serde_json::Value::String(v.to_string())),
        Err(WireError::Infinity { positive }) => Ok(serde_json::Value::String(
            if positive { "infinity" } else { "-infinity" }.to_owned(),
        )),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(feature = "decimal")]
    use std::str::FromStr;

    use super::*;

    #[cfg(any(feature = "json", feature = "chrono", feature = "time"))]
    #[test]
    fn infinity_and_out_of_range_dates_are_errors_not_panics() {
        assert_eq!(
            date(&i32::MAX.to_be_bytes()),
            Err(WireError::Infinity { positive: true })
        );
        assert_eq!(
            date(&i32::MIN.to_be_bytes()),
            Err(WireError::Infinity { positive: false })
        );
        #[cfg(any(feature = "chrono", feature = "time"))]
        {
            assert!(matches!(
                temporal::date(i32::MAX - 1),
                Err(WireError::OutOfRange(_))
            ));
            assert!(matches!(
                temporal::timestamp(i64::MAX - 1),
                Err(WireError::OutOfRange(_))
            ));
            assert_eq!(
                temporal::date(0).map(|d| d.to_string()),
                Ok("2000-01-01".to_owned())
            );
            assert_eq!(
                temporal::time(86_399_999_999).map(|t| t.to_string()),
                Ok("23:59:59.999999".to_owned())
            );
        }
        assert_eq!(
            timestamp(&i64::MAX.to_be_bytes()),
            Err(WireError::Infinity { positive: true })
        );
        assert_eq!(date(&0i32.to_be_bytes()), Ok(0));
        assert!(matches!(date(&[1, 2]), Err(WireError::Malformed(_))));
        assert!(time(&86_400_000_000i64.to_be_bytes()).is_err());
    }

    #[test]
    fn numerics_as_text() {
        // 12345.678: digits [1, 2345, 6780], weight 1, dscale 3.
        let mut b = Vec::new();
        for n in [3u16, 1, 0, 3, 1, 2345, 6780] {
            b.extend_from_slice(&n.to_be_bytes());
        }
        assert_eq!(numeric_text(&b), Ok("12345.678".to_owned()));
        // -0.0001: one digit 1 with weight -1, dscale 4.
        let mut b = Vec::new();
        for n in [1u16, u16::MAX, 0x4000, 4, 1] {
            b.extend_from_slice(&n.to_be_bytes());
        }
        assert_eq!(numeric_text(&b), Ok("-0.0001".to_owned()));
        // 12.50: digits [12, 5000], weight 0, dscale 2.
        let mut b = Vec::new();
        for n in [2u16, 0, 0, 2, 12, 5000] {
            b.extend_from_slice(&n.to_be_bytes());
        }
        assert_eq!(numeric_text(&b), Ok("12.50".to_owned()));
        // 7 with dscale 2 (numeric(5, 2)): 7.00.
        let mut b = Vec::new();
        for n in [1u16, 0, 0, 2, 7] {
            b.extend_from_slice(&n.to_be_bytes());
        }
        assert_eq!(numeric_text(&b), Ok("7.00".to_owned()));
        assert_eq!(
            uuid_text([0xab; 16]),
            "abababab-abab-abab-abab-abababababab"
        );
    }

    #[cfg(feature = "decimal")]
    #[test]
    fn numerics_are_exact_or_errors() {
        // 12345.678: digits [1, 2345, 6780], weight 1, dscale 3.
        let mut b = Vec::new();
        for n in [3u16, 1, 0, 3, 1, 2345, 6780] {
            b.extend_from_slice(&n.to_be_bytes());
        }
        assert_eq!(
            numeric(&b),
            Ok(Decimal::from_str("12345.678").unwrap_or_default())
        );
        // 10^40: one digit 1 with weight 10.
        let mut b = Vec::new();
        for n in [1u16, 10, 0, 0, 1] {
            b.extend_from_slice(&n.to_be_bytes());
        }
        assert!(matches!(numeric(&b), Err(WireError::OutOfRange(_))));
        // NaN.
        let mut b = Vec::new();
        for n in [0u16, 0, 0xC000, 0] {
            b.extend_from_slice(&n.to_be_bytes());
        }
        assert!(matches!(numeric(&b), Err(WireError::OutOfRange(_))));
    }

    #[test]
    fn intervals_are_iso_8601() {
        let mut b = Vec::new();
        b.extend_from_slice(&(4 * 3_600_000_000i64 + 5 * 60_000_000 + 6_500_000).to_be_bytes());
        b.extend_from_slice(&3i32.to_be_bytes());
        b.extend_from_slice(&14i32.to_be_bytes());
        assert_eq!(interval(&b), Ok("P1Y2M3DT4H5M6.5S".to_owned()));
        let zero = [0u8; 16];
        assert_eq!(interval(&zero), Ok("PT0S".to_owned()));
    }

    #[test]
    fn inet_and_cidr() {
        assert_eq!(inet(&[2, 32, 0, 4, 10, 0, 0, 1]), Ok("10.0.0.1".to_owned()));
        assert_eq!(
            inet(&[2, 8, 1, 4, 10, 0, 0, 0]),
            Ok("10.0.0.0/8".to_owned())
        );
        assert!(inet(&[2, 8, 1, 16, 10]).is_err());
    }

    #[cfg(feature = "json")]
    #[test]
    fn arrays_nest_per_dimension() {
        let mut b = Vec::new();
        for n in [2i32, 1, 23, 2, 1, 2, 1] {
            b.extend_from_slice(&n.to_be_bytes());
        }
        for v in [Some(1i32), None, Some(3), Some(4)] {
            match v {
                Some(v) => {
                    b.extend_from_slice(&4i32.to_be_bytes());
                    b.extend_from_slice(&v.to_be_bytes());
                }
                None => b.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        let read: ElementReader = |b| int4(b).map(serde_json::Value::from);
        assert_eq!(array(&b, read), Ok(serde_json::json!([[1, null], [3, 4]])));
        // Truncated: an error, not a panic.
        assert!(array(b.get(..b.len() - 2).unwrap_or(&[]), read).is_err());
    }
}
