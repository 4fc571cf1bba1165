//! Binding a value as the type a prepared statement declares for its
//! place, when the value's own type differs: only where the conversion
//! loses nothing, so a statement's results never depend on which values
//! prepared it. `param_types` calls [`bind_as`] on its slow path.

use dialects::Value;
use sqlx::error::BoxDynError;
use sqlx::postgres::PgArguments;
use sqlx::Arguments as _;

use super::param_types::NullOf;
use super::PostgresDriver;
use crate::driver::Driver;

/// Type OIDs from PostgreSQL's `pg_type` catalog (stable for built-in types).
mod oid {
    pub(super) const BOOL: u32 = 16;
    pub(super) const BYTEA: u32 = 17;
    pub(super) const NAME: u32 = 19;
    pub(super) const INT8: u32 = 20;
    pub(super) const INT2: u32 = 21;
    pub(super) const INT4: u32 = 23;
    pub(super) const TEXT: u32 = 25;
    pub(super) const JSON: u32 = 114;
    pub(super) const FLOAT4: u32 = 700;
    pub(super) const FLOAT8: u32 = 701;
    pub(super) const BPCHAR: u32 = 1042;
    pub(super) const VARCHAR: u32 = 1043;
    pub(super) const DATE: u32 = 1082;
    pub(super) const TIME: u32 = 1083;
    pub(super) const TIMESTAMP: u32 = 1114;
    pub(super) const TIMESTAMPTZ: u32 = 1184;
    pub(super) const NUMERIC: u32 = 1700;
    pub(super) const UUID: u32 = 2950;
    pub(super) const JSONB: u32 = 3802;
}

/// The type (OID) `v` binds as on its own ([`PostgresDriver::bind`]);
/// 0 for NULL, which binds untyped.
pub(crate) fn natural_oid(v: &Value) -> u32 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => oid::BOOL,
        Value::SmallInt(_) => oid::INT2,
        Value::Int(_) => oid::INT4,
        Value::BigInt(_) => oid::INT8,
        Value::Float(_) => oid::FLOAT4,
        Value::Double(_) => oid::FLOAT8,
        #[cfg(feature = "decimal")]
        Value::Decimal(_) => oid::NUMERIC,
        Value::String(_) => oid::TEXT,
        Value::Bytes(_) => oid::BYTEA,
        #[cfg(feature = "chrono")]
        Value::Date(_) => oid::DATE,
        #[cfg(feature = "chrono")]
        Value::Time(_) => oid::TIME,
        #[cfg(feature = "chrono")]
        Value::DateTime(_) => oid::TIMESTAMP,
        #[cfg(feature = "chrono")]
        Value::DateTimeUtc(_) => oid::TIMESTAMPTZ,
        #[cfg(feature = "time")]
        Value::TimeDate(_) => oid::DATE,
        #[cfg(feature = "time")]
        Value::TimeTime(_) => oid::TIME,
        #[cfg(feature = "time")]
        Value::TimePrimitiveDateTime(_) => oid::TIMESTAMP,
        #[cfg(feature = "time")]
        Value::TimeOffsetDateTime(_) => oid::TIMESTAMPTZ,
        #[cfg(feature = "uuid")]
        Value::Uuid(_) => oid::UUID,
        #[cfg(feature = "json")]
        Value::Json(_) => oid::JSONB,
        // Not bindable: binding reports it.
        _ => u32::MAX,
    }
}

/// Appends `v` as type `want` (an OID), converted where it has to be;
/// `Ok(false)`, with nothing appended, when `v` does not fit `want`
/// without loss.
///
/// Conversions: integers of any width to `INT2`/`INT4`/`INT8` when in
/// range; integers, floats and doubles to `FLOAT4`/`FLOAT8` when exact
/// (an integer up to 2^24 or 2^53, a double that a float holds exactly);
/// integers to `NUMERIC`; timestamps with and without time zone to each
/// other (a naive one is taken as UTC, the connection's time zone); text
/// to `VARCHAR`/`BPCHAR`/`NAME` (one binary form). A NULL fits any type.
/// For a type outside PostgreSQL's built-in scalars (an enum, a domain,
/// an extension's type), text is sent as it is (their binary input reads
/// text) and anything else does not fit.
pub(crate) fn bind_as(args: &mut PgArguments, v: &Value, want: u32) -> Result<bool, BoxDynError> {
    if natural_oid(v) == want {
        PostgresDriver::bind(args, v)?;
        return Ok(true);
    }
    match (want, v) {
        (_, Value::Null) => args.add(NullOf(want))?,
        (oid::INT2, _) => match integer(v).and_then(|n| i16::try_from(n).ok()) {
            Some(n) => args.add(n)?,
            None => return Ok(false),
        },
        (oid::INT4, _) => match integer(v).and_then(|n| i32::try_from(n).ok()) {
            Some(n) => args.add(n)?,
            None => return Ok(false),
        },
        (oid::INT8, _) => match integer(v) {
            Some(n) => args.add(n)?,
            None => return Ok(false),
        },
        (oid::FLOAT4, _) => match float4(v) {
            Some(f) => args.add(f)?,
            None => return Ok(false),
        },
        (oid::FLOAT8, _) => match float8(v) {
            Some(f) => args.add(f)?,
            None => return Ok(false),
        },
        #[cfg(feature = "decimal")]
        (oid::NUMERIC, _) => match integer(v) {
            Some(n) => args.add(rust_decimal::Decimal::from(n))?,
            None => return Ok(false),
        },
        #[cfg(feature = "chrono")]
        (oid::TIMESTAMP, Value::DateTimeUtc(t)) => args.add(t.naive_utc())?,
        #[cfg(feature = "chrono")]
        (oid::TIMESTAMPTZ, Value::DateTime(t)) => {
            args.add(chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(
                *t,
                chrono::Utc,
            ))?;
        }
        #[cfg(feature = "time")]
        (oid::TIMESTAMP, Value::TimeOffsetDateTime(t)) => {
            match dialects::value::utc_primitive(*t) {
                Some(utc) => args.add(utc)?,
                None => return Ok(false),
            }
        }
        #[cfg(feature = "time")]
        (oid::TIMESTAMPTZ, Value::TimePrimitiveDateTime(t)) => args.add(t.assume_utc())?,
        (oid::VARCHAR | oid::BPCHAR | oid::NAME, Value::String(s)) => args.add(s.as_str())?,
        // sqlx writes JSON and JSONB by the declared type.
        #[cfg(feature = "json")]
        (oid::JSON, Value::Json(_)) => PostgresDriver::bind(args, v)?,
        (want, Value::String(s)) if !built_in(want) => args.add(s.as_str())?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Whether `oid` is one of the built-in types [`bind_as`] knows the
/// binary form of.
fn built_in(oid: u32) -> bool {
    matches!(
        oid,
        oid::BOOL
            | oid::BYTEA
            | oid::NAME
            | oid::INT8
            | oid::INT2
            | oid::INT4
            | oid::TEXT
            | oid::JSON
            | oid::FLOAT4
            | oid::FLOAT8
            | oid::BPCHAR
            | oid::VARCHAR
            | oid::DATE
            | oid::TIME
            | oid::TIMESTAMP
            | oid::TIMESTAMPTZ
            | oid::NUMERIC
            | oid::UUID
            | oid::JSONB
    )
}

/// The integer `v` holds, if it is one.
fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::SmallInt(n) => Some(i64::from(*n)),
        Value::Int(n) => Some(i64::from(*n)),
        Value::BigInt(n) => Some(*n),
        _ => None,
    }
}

/// `v` as a float, when a float holds it exactly.
fn float4(v: &Value) -> Option<f32> {
    match v {
        #[allow(clippy::cast_possible_truncation)]
        Value::Double(f) => Some(*f as f32).filter(|g| f64::from(*g) == *f || f.is_nan()),
        // Every integer up to 2^24 is a float.
        #[allow(clippy::cast_precision_loss)]
        other => integer(other)
            .filter(|n| n.unsigned_abs() <= 1 << 24)
            .map(|n| n as f32),
    }
}

/// `v` as a double, when a double holds it exactly.
fn float8(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(f64::from(*f)),
        // Every integer up to 2^53 is a double.
        #[allow(clippy::cast_precision_loss)]
        other => integer(other)
            .filter(|n| n.unsigned_abs() <= 1 << 53)
            .map(|n| n as f64),
    }
}

#[cfg(all(
    test,
    feature = "chrono",
    feature = "decimal",
    feature = "uuid",
    feature = "json"
))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    use rust_decimal::Decimal;
    use sqlx::postgres::PgTypeInfo;

    use super::*;

    /// The type `T` binds as.
    fn ty<T: sqlx::Type<sqlx::Postgres> + ?Sized>() -> PgTypeInfo {
        T::type_info()
    }

    fn noon() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 1, 2)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
    }

    #[test]
    fn natural_oids_are_the_types_values_bind_as() {
        let at = noon();
        let samples = [
            (Value::Bool(true), ty::<bool>()),
            (Value::SmallInt(1), ty::<i16>()),
            (Value::Int(1), ty::<i32>()),
            (Value::BigInt(1), ty::<i64>()),
            (Value::Float(1.0), ty::<f32>()),
            (Value::Double(1.0), ty::<f64>()),
            (Value::Decimal(Decimal::ONE), ty::<Decimal>()),
            (Value::String("a".into()), ty::<&str>()),
            (Value::Bytes(vec![1]), ty::<&[u8]>()),
            (Value::Date(at.date()), ty::<NaiveDate>()),
            (Value::Time(at.time()), ty::<chrono::NaiveTime>()),
            (Value::DateTime(at), ty::<NaiveDateTime>()),
            (Value::DateTimeUtc(at.and_utc()), ty::<DateTime<Utc>>()),
            (Value::Uuid(uuid::Uuid::nil()), ty::<uuid::Uuid>()),
            (
                Value::Json(serde_json::json!({})),
                ty::<sqlx::types::Json<serde_json::Value>>(),
            ),
        ];
        for (v, ty) in samples {
            assert_eq!(Some(natural_oid(&v)), ty.oid().map(|o| o.0), "{v:?}");
        }
        #[cfg(feature = "time")]
        {
            let t = time::OffsetDateTime::UNIX_EPOCH;
            let (d, tod) = (t.date(), t.time());
            let primitive = time::PrimitiveDateTime::new(d, tod);
            for (v, ty) in [
                (Value::TimeDate(d), ty::<time::Date>()),
                (Value::TimeTime(tod), ty::<time::Time>()),
                (
                    Value::TimePrimitiveDateTime(primitive),
                    ty::<time::PrimitiveDateTime>(),
                ),
                (Value::TimeOffsetDateTime(t), ty::<time::OffsetDateTime>()),
            ] {
                assert_eq!(Some(natural_oid(&v)), ty.oid().map(|o| o.0), "{v:?}");
            }
        }
        assert_eq!(natural_oid(&Value::Null), 0);
    }

    #[test]
    fn values_convert_to_declared_types_without_loss() {
        let mut args = PgArguments::default();
        let fits = [
            (Value::BigInt(5), oid::INT4),
            (Value::SmallInt(5), oid::INT8),
            (Value::Int(5), oid::INT2),
            (Value::Double(1.5), oid::FLOAT4),
            (Value::Float(1.5), oid::FLOAT8),
            (Value::Int(1 << 24), oid::FLOAT4),
            (Value::BigInt(1 << 53), oid::FLOAT8),
            (Value::BigInt(i64::MAX), oid::NUMERIC),
            (Value::Null, oid::INT4),
            (Value::String("x".into()), oid::VARCHAR),
            (Value::String("happy".into()), 16_384),
            (Value::DateTime(noon()), oid::TIMESTAMPTZ),
            (Value::DateTimeUtc(noon().and_utc()), oid::TIMESTAMP),
        ];
        for (v, want) in &fits {
            assert!(bind_as(&mut args, v, *want).unwrap(), "{v:?} as {want}");
        }
        assert_eq!(args.len(), fits.len());
    }

    #[test]
    fn values_that_would_change_do_not_fit() {
        let mut args = PgArguments::default();
        for (v, want) in [
            (Value::BigInt(i64::from(i32::MAX) + 1), oid::INT4),
            (Value::Int(70_000), oid::INT2),
            (Value::Double(0.1), oid::FLOAT4),
            (Value::Int((1 << 24) + 1), oid::FLOAT4),
            (Value::BigInt((1 << 53) + 1), oid::FLOAT8),
            (Value::Double(1.5), oid::INT8),
            (Value::Double(1.5), oid::NUMERIC),
            (Value::Decimal(Decimal::ONE), oid::INT4),
            (Value::String("1".into()), oid::INT4),
            (Value::Int(1), oid::TEXT),
            (Value::Int(1), 16_384),
        ] {
            assert!(!bind_as(&mut args, &v, want).unwrap(), "{v:?} as {want}");
        }
        assert_eq!(args.len(), 0);
    }
}
