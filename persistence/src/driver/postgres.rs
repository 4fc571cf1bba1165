//! PostgreSQL on sqlx: binding values (as the parameter types of the
//! connection's prepared statements, `param_types`), decoding values by
//! column type from their binary form (`wire`: never a panic, whatever the
//! server sends), mapping SQLSTATE codes and error fields. The statement
//! glue is generic (`driver::exec`).

mod convert;
mod param_types;
mod temporal;
mod wire;

use std::sync::Arc;

use dialects::{Dialect, Postgres, StatementKind, Value};
use futures_util::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArguments, PgQueryResult, PgRow, PgValueRef};
use sqlx::Arguments;

use super::decode::decode_err;
use super::{Args, Driver, DriverError, Params};
use crate::error::{
    kind_from_sqlstate, sqlstate_is_conflict, sqlstate_is_disconnect, DatabaseDetail, Error,
    ErrorKind,
};
use param_types::{NullOf, ParamTypes};
use wire::WireError;

/// A PostgreSQL connection with the parameter types of the statements it
/// has prepared ([`ParamTypes`]), which sqlx reuses by SQL text.
#[derive(Debug)]
pub(crate) struct PostgresConnection {
    /// The sqlx connection.
    pub(crate) conn: sqlx::PgConnection,
    /// The parameter types of its prepared statements.
    pub(crate) param_types: ParamTypes,
    /// Whether its transactions default to `READ COMMITTED`, as far as
    /// known: read when it opened, cleared by a statement that could have
    /// changed the default (see `engine::deferred_begin`).
    pub(crate) read_committed: bool,
}

impl PostgresConnection {
    /// `conn`, with nothing prepared yet, and whether its transactions
    /// default to `READ COMMITTED` (`SHOW default_transaction_isolation`).
    pub(crate) async fn open(mut conn: sqlx::PgConnection) -> Result<Self, sqlx::Error> {
        let (level,): (String,) = sqlx::query_as("SHOW default_transaction_isolation")
            .fetch_one(&mut conn)
            .await?;
        Ok(PostgresConnection {
            conn,
            param_types: ParamTypes::default(),
            read_committed: level.eq_ignore_ascii_case("read committed"),
        })
    }
}

pub(crate) async fn dialect(
    _conn: &mut sqlx::PgConnection,
) -> Result<Arc<dyn Dialect>, sqlx::Error> {
    Ok(Arc::new(Postgres))
}

/// The scalar types whose values the driver decodes (by their binary form,
/// see `wire`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scalar {
    Bool,
    Int2,
    Int4,
    Int8,
    /// `oid` and the `reg*` types: an unsigned 32-bit integer.
    Oid,
    Float4,
    Float8,
    Numeric,
    Bytea,
    Date,
    Time,
    TimeTz,
    Timestamp,
    Timestamptz,
    Interval,
    Uuid,
    Json,
    Jsonb,
    /// `inet` and `cidr`.
    Inet,
    /// `macaddr` and `macaddr8`.
    MacAddr,
    /// `bit` and `varbit`.
    Bits,
    /// Text: `text`, `varchar`, `char(n)`, `name`, `"char"`, `xml`,
    /// `unknown`, enums, `citext`.
    Text,
    /// `void` (what `pg_sleep()` returns): NULL.
    Void,
}

/// What a column's values become, from its type (the same for every row).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Scalar(Scalar),
    /// An array (of any dimension) of a scalar: a JSON array.
    Array(Scalar),
    /// A type without a [`Value`] counterpart: decoding it is
    /// [`Error::UnsupportedType`].
    Unsupported,
    /// A type whose [`Value`] counterpart needs a cargo feature this build
    /// leaves off (named here): decoding it is [`Error::FeatureDisabled`].
    Disabled(&'static str),
}

/// The scalar of a built-in type, by its OID (`pg_type`).
fn scalar_of_oid(oid: u32) -> Option<Scalar> {
    use Scalar as S;
    Some(match oid {
        16 => S::Bool,
        17 => S::Bytea,
        18 | 19 | 25 | 142 | 705 | 1042 | 1043 | 1790 => S::Text,
        20 => S::Int8,
        21 => S::Int2,
        23 => S::Int4,
        // oid, regproc, regprocedure, regoper, regoperator, regclass, regtype,
        // regrole, regnamespace, regconfig, regdictionary.
        26 | 24 | 2202 | 2203 | 2204 | 2205 | 2206 | 4096 | 4089 | 3734 | 3769 => S::Oid,
        114 => S::Json,
        650 | 869 => S::Inet,
        700 => S::Float4,
        701 => S::Float8,
        774 | 829 => S::MacAddr,
        1082 => S::Date,
        1083 => S::Time,
        1114 => S::Timestamp,
        1184 => S::Timestamptz,
        1186 => S::Interval,
        1266 => S::TimeTz,
        1560 | 1562 => S::Bits,
        1700 => S::Numeric,
        2950 => S::Uuid,
        3802 => S::Jsonb,
        2278 => S::Void,
        _ => return None,
    })
}

/// What values of type `ty` decode as ([`kind_of_type`]), or the feature
/// it needs when that is off: dates and times need `chrono` or `time`,
/// arrays `json`. (Without `decimal`, `uuid` or `json`, a numeric, UUID
/// or JSON document decodes as its text.)
fn kind_in_build(ty: &sqlx::postgres::PgTypeInfo) -> Kind {
    let kind = kind_of_type(ty);
    match kind {
        Kind::Scalar(Scalar::Date | Scalar::Time | Scalar::Timestamp | Scalar::Timestamptz)
            if cfg!(not(any(feature = "chrono", feature = "time"))) =>
        {
            Kind::Disabled("chrono` or `time")
        }
        Kind::Array(_) if cfg!(not(feature = "json")) => Kind::Disabled("json"),
        other => other,
    }
}

/// What values of type `ty` decode as: built-in scalars by OID, arrays by
/// their element, enums as text, domains as their base type.
fn kind_of_type(ty: &sqlx::postgres::PgTypeInfo) -> Kind {
    use sqlx::postgres::PgTypeKind;
    use sqlx::TypeInfo as _;
    if let Some(s) = ty.oid().and_then(|o| scalar_of_oid(o.0)) {
        return Kind::Scalar(s);
    }
    match ty.kind() {
        PgTypeKind::Array(element) => match kind_of_type(element) {
            Kind::Scalar(s) => Kind::Array(s),
            _ => Kind::Unsupported,
        },
        PgTypeKind::Enum(_) => Kind::Scalar(Scalar::Text),
        PgTypeKind::Domain(base) => kind_of_type(base),
        // An extension's text type, sent in text's binary form.
        PgTypeKind::Simple if ty.name().eq_ignore_ascii_case("citext") => {
            Kind::Scalar(Scalar::Text)
        }
        _ => Kind::Unsupported,
    }
}

/// A value of `scalar` from its binary form.
#[inline]
fn scalar(scalar: Scalar, b: &[u8]) -> Result<Value, WireError> {
    use Scalar as S;
    Ok(match scalar {
        S::Bool => Value::Bool(wire::bool(b)?),
        S::Int2 => Value::SmallInt(wire::int2(b)?),
        S::Int4 => Value::Int(wire::int4(b)?),
        S::Int8 => Value::BigInt(wire::int8(b)?),
        S::Oid => Value::BigInt(i64::from(wire::oid(b)?)),
        S::Float4 => Value::Float(wire::float4(b)?),
        S::Float8 => Value::Double(wire::float8(b)?),
        #[cfg(feature = "decimal")]
        S::Numeric => Value::Decimal(wire::numeric(b)?),
        #[cfg(not(feature = "decimal"))]
        S::Numeric => Value::String(wire::numeric_text(b)?),
        S::Bytea => Value::Bytes(b.to_vec()),
        #[cfg(any(feature = "chrono", feature = "time"))]
        S::Date => temporal::date(wire::date(b)?)?,
        #[cfg(any(feature = "chrono", feature = "time"))]
        S::Time => temporal::time(wire::time(b)?)?,
        #[cfg(any(feature = "chrono", feature = "time"))]
        S::Timestamp => temporal::timestamp(wire::timestamp(b)?)?,
        #[cfg(any(feature = "chrono", feature = "time"))]
        S::Timestamptz => temporal::timestamptz(wire::timestamp(b)?)?,
        // `kind_in_build` does not decode these without a feature.
        #[cfg(not(any(feature = "chrono", feature = "time")))]
        S::Date | S::Time | S::Timestamp | S::Timestamptz => {
            return Err(WireError::Malformed(
                "dates and times need the `chrono` or `time` feature".into(),
            ))
        }
        S::TimeTz => Value::String(wire::timetz(b)?),
        S::Interval => Value::String(wire::interval(b)?),
        #[cfg(feature = "uuid")]
        S::Uuid => Value::Uuid(uuid::Uuid::from_bytes(wire::uuid(b)?)),
        #[cfg(not(feature = "uuid"))]
        S::Uuid => Value::String(wire::uuid_text(wire::uuid(b)?)),
        #[cfg(feature = "json")]
        S::Json => Value::Json(wire::json(b, false)?),
        #[cfg(feature = "json")]
        S::Jsonb => Value::Json(wire::json(b, true)?),
        #[cfg(not(feature = "json"))]
        S::Json => Value::String(wire::json_text(b, false)?.to_owned()),
        #[cfg(not(feature = "json"))]
        S::Jsonb => Value::String(wire::json_text(b, true)?.to_owned()),
        S::Inet => Value::String(wire::inet(b)?),
        S::MacAddr => Value::String(wire::macaddr(b)?),
        S::Bits => Value::String(wire::bits(b)?),
        S::Text => Value::String(wire::text(b)?.to_owned()),
        S::Void => Value::Null,
    })
}

/// How an array's elements of `scalar` become JSON.
#[cfg(feature = "json")]
fn element_reader(scalar: Scalar) -> wire::ElementReader {
    use serde_json::Value as J;
    use Scalar as S;
    fn float(f: f64) -> J {
        serde_json::Number::from_f64(f).map_or_else(|| J::String(f.to_string()), J::Number)
    }
    match scalar {
        S::Bool => |b| wire::bool(b).map(J::Bool),
        S::Int2 => |b| wire::int2(b).map(J::from),
        S::Int4 => |b| wire::int4(b).map(J::from),
        S::Int8 => |b| wire::int8(b).map(J::from),
        S::Oid => |b| wire::oid(b).map(J::from),
        S::Float4 => |b| wire::float4(b).map(|f| float(f64::from(f))),
        S::Float8 => |b| wire::float8(b).map(float),
        #[cfg(feature = "decimal")]
        S::Numeric => |b| wire::numeric(b).map(|d| J::String(d.to_string())),
        #[cfg(not(feature = "decimal"))]
        S::Numeric => |b| wire::numeric_text(b).map(J::String),
        S::Bytea => |b| {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            Ok(J::String(format!("\\x{hex}")))
        },
        S::Date => {
            |b| wire::infinite_as_text(wire::date(b).map(|d| temporal::date_text(i64::from(d))))
        }
        S::Time => |b| wire::time(b).map(|t| J::String(temporal::time_text(t))),
        S::TimeTz => |b| wire::timetz(b).map(J::String),
        S::Timestamp => {
            |b| wire::infinite_as_text(wire::timestamp(b).map(temporal::timestamp_text))
        }
        S::Timestamptz => {
            |b| wire::infinite_as_text(wire::timestamp(b).map(temporal::timestamptz_text))
        }
        S::Interval => |b| wire::interval(b).map(J::String),
        S::Uuid => |b| wire::uuid(b).map(|u| J::String(wire::uuid_text(u))),
        S::Json => |b| wire::json(b, false),
        S::Jsonb => |b| wire::json(b, true),
        S::Inet => |b| wire::inet(b).map(J::String),
        S::MacAddr => |b| wire::macaddr(b).map(J::String),
        S::Bits => |b| wire::bits(b).map(J::String),
        S::Text => |b| wire::text(b).map(|t| J::String(t.to_owned())),
        S::Void => |_| Ok(J::Null),
    }
}

/// A value sent in text form (the simple query protocol, which the engine
/// does not use; kept correct anyway): parsed for the common scalars,
/// text otherwise.
fn from_text(kind: Kind, text: &str) -> Result<Value, WireError> {
    #[cfg(feature = "uuid")]
    use std::str::FromStr;
    let bad = |e: &dyn std::fmt::Display| WireError::Malformed(e.to_string());
    #[cfg_attr(
        not(any(feature = "chrono", feature = "time")),
        allow(unused_variables)
    )]
    let infinity = |t: &str| match t {
        "infinity" => Some(WireError::Infinity { positive: true }),
        "-infinity" => Some(WireError::Infinity { positive: false }),
        _ => None,
    };
    let Kind::Scalar(scalar) = kind else {
        return Ok(Value::String(text.to_owned()));
    };
    Ok(match scalar {
        Scalar::Bool => Value::Bool(text == "t" || text == "true"),
        Scalar::Int2 => Value::SmallInt(text.parse().map_err(|e| bad(&e))?),
        Scalar::Int4 => Value::Int(text.parse().map_err(|e| bad(&e))?),
        Scalar::Int8 | Scalar::Oid => Value::BigInt(text.parse().map_err(|e| bad(&e))?),
        Scalar::Float4 => Value::Float(text.parse().map_err(|e| bad(&e))?),
        Scalar::Float8 => Value::Double(text.parse().map_err(|e| bad(&e))?),
        #[cfg(feature = "decimal")]
        Scalar::Numeric => {
            Value::Decimal(rust_decimal::Decimal::from_str_exact(text).map_err(|e| bad(&e))?)
        }
        #[cfg(any(feature = "chrono", feature = "time"))]
        Scalar::Date | Scalar::Timestamp | Scalar::Timestamptz | Scalar::Time => {
            if let Some(e) = infinity(text) {
                return Err(e);
            }
            temporal_from_text(scalar, text).map_err(|e| bad(&e))?
        }
        #[cfg(feature = "uuid")]
        Scalar::Uuid => Value::Uuid(uuid::Uuid::from_str(text).map_err(|e| bad(&e))?),
        #[cfg(feature = "json")]
        Scalar::Json | Scalar::Jsonb => {
            Value::Json(serde_json::from_str(text).map_err(|e| bad(&e))?)
        }
        _ => Value::String(text.to_owned()),
    })
}

/// A date or time from PostgreSQL's text form (ISO, the connection's
/// `DateStyle`): chrono's with `chrono`, the `time` crate's otherwise.
#[cfg(feature = "chrono")]
fn temporal_from_text(scalar: Scalar, text: &str) -> Result<Value, chrono::ParseError> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
    use std::str::FromStr;
    Ok(match scalar {
        Scalar::Date => Value::Date(NaiveDate::from_str(text)?),
        Scalar::Timestamp => {
            Value::DateTime(NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")?)
        }
        Scalar::Timestamptz => Value::DateTimeUtc(
            DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z")?.with_timezone(&Utc),
        ),
        _ => Value::Time(NaiveTime::from_str(text)?),
    })
}

/// A date or time from PostgreSQL's text form (ISO, the connection's
/// `DateStyle`): chrono's with `chrono`, the `time` crate's otherwise.
#[cfg(all(feature = "time", not(feature = "chrono")))]
fn temporal_from_text(scalar: Scalar, text: &str) -> Result<Value, dialects::ValueError> {
    let v = Value::from(text);
    Ok(match scalar {
        Scalar::Date => Value::TimeDate(time::Date::try_from(v)?),
        Scalar::Timestamp => Value::TimePrimitiveDateTime(time::PrimitiveDateTime::try_from(v)?),
        Scalar::Timestamptz => Value::TimeOffsetDateTime(time::OffsetDateTime::try_from(v)?),
        _ => Value::TimeTime(time::Time::try_from(v)?),
    })
}

/// The label of column `i` of `row` (its index when it has none).
fn column_name(row: &PgRow, i: usize) -> String {
    use sqlx::{Column as _, Row as _};
    row.try_column(i)
        .map_or_else(|_| i.to_string(), |c| c.name().to_owned())
}

/// PostgreSQL's [`Driver`].
pub(crate) struct PostgresDriver;

impl Driver for PostgresDriver {
    type Db = sqlx::Postgres;
    type Kind = Kind;
    type State = ParamTypes;
    const NAME: &'static str = "PostgreSQL";

    /// Binds with the types the connection prepared `sql` with, when the
    /// values have them (see `param_types`).
    fn arguments<'q, P: Params + ?Sized>(
        state: &mut ParamTypes,
        sql: &str,
        kind: StatementKind,
        params: &P,
    ) -> Result<Option<Args<'q, Self>>, DriverError> {
        state.arguments(sql, kind, params)
    }

    /// Binds as the statement sqlx has for `sql` declares, converting
    /// values or preparing it afresh (see `param_types`).
    fn declared_arguments<'a, 'q: 'a, P: Params + ?Sized>(
        conn: &'a mut sqlx::PgConnection,
        state: &'a mut ParamTypes,
        sql: &'a str,
        params: &'a P,
    ) -> BoxFuture<'a, Result<Args<'q, Self>, DriverError>> {
        Box::pin(param_types::declared_arguments(conn, state, sql, params))
    }

    /// Binds `v` with its own type; a NULL untyped, for the server to
    /// infer (so it fits an integer, text or UUID column alike).
    fn bind(args: &mut PgArguments, v: &Value) -> Result<(), BoxDynError> {
        match v {
            Value::Null => args.add(NullOf(0)),
            Value::Bool(b) => args.add(*b),
            Value::SmallInt(n) => args.add(*n),
            Value::Int(n) => args.add(*n),
            Value::BigInt(n) => args.add(*n),
            Value::Float(f) => args.add(*f),
            Value::Double(f) => args.add(*f),
            #[cfg(feature = "decimal")]
            Value::Decimal(d) => args.add(*d),
            Value::String(s) => args.add(s.as_str()),
            Value::Bytes(b) => args.add(b.as_slice()),
            #[cfg(feature = "chrono")]
            Value::Date(d) => args.add(*d),
            #[cfg(feature = "chrono")]
            Value::Time(t) => args.add(*t),
            #[cfg(feature = "chrono")]
            Value::DateTime(t) => args.add(*t),
            #[cfg(feature = "chrono")]
            Value::DateTimeUtc(t) => args.add(*t),
            #[cfg(feature = "time")]
            Value::TimeDate(d) => args.add(*d),
            #[cfg(feature = "time")]
            Value::TimeTime(t) => args.add(*t),
            #[cfg(feature = "time")]
            Value::TimePrimitiveDateTime(t) => args.add(*t),
            #[cfg(feature = "time")]
            Value::TimeOffsetDateTime(t) => args.add(*t),
            #[cfg(feature = "uuid")]
            Value::Uuid(u) => args.add(*u),
            #[cfg(feature = "json")]
            Value::Json(j) => args.add(sqlx::types::Json(j)),
            other => Err(format!("unsupported value type {}", other.type_name()).into()),
        }
    }

    fn kind_of(type_info: &sqlx::postgres::PgTypeInfo) -> Kind {
        kind_in_build(type_info)
    }

    /// Decodes by the column's type, from the value's binary form; a value
    /// the type cannot hold in Rust (`'infinity'`, a numeric of 40 digits)
    /// is [`Error::Decode`] naming the column, a type without a [`Value`]
    /// counterpart [`Error::UnsupportedType`] naming the type. Never panics.
    #[inline]
    fn decode(kind: Kind, raw: PgValueRef<'_>, row: &PgRow, i: usize) -> Result<Value, Error> {
        use sqlx::postgres::PgValueFormat;
        use sqlx::ValueRef as _;
        let failed = |e: &dyn std::fmt::Display| {
            let column = column_name(row, i);
            decode_err(&column, format_args!("{e}"))
        };
        if kind == Kind::Unsupported {
            use sqlx::TypeInfo as _;
            return Err(Error::UnsupportedType {
                column: column_name(row, i),
                backend: Self::NAME,
                type_name: raw.type_info().name().to_owned(),
            });
        }
        if let Kind::Disabled(feature) = kind {
            use sqlx::TypeInfo as _;
            return Err(Error::FeatureDisabled {
                column: column_name(row, i),
                backend: Self::NAME,
                type_name: raw.type_info().name().to_owned(),
                feature,
            });
        }
        let text_form = raw.format() == PgValueFormat::Text;
        let bytes = raw.as_bytes().map_err(|e| failed(&e))?;
        let value = if text_form {
            wire::text(bytes).and_then(|t| from_text(kind, t))
        } else {
            match kind {
                Kind::Scalar(s) => scalar(s, bytes),
                #[cfg(feature = "json")]
                Kind::Array(s) => wire::array(bytes, element_reader(s)).map(Value::Json),
                #[cfg(not(feature = "json"))]
                Kind::Array(_) => Err(WireError::Malformed(String::new())),
                Kind::Unsupported | Kind::Disabled(_) => Err(WireError::Malformed(String::new())),
            }
        };
        value.map_err(|e| failed(&e))
    }

    fn classify(db: &dyn sqlx::error::DatabaseError) -> ErrorKind {
        db.code()
            .map_or(ErrorKind::Other, |c| kind_from_sqlstate(&c))
    }

    /// PostgreSQL's own fields: constraint, table, column, DETAIL, HINT;
    /// a `FATAL` or `PANIC` (the server ends the session) or a connection
    /// SQLSTATE means the connection is gone.
    fn detail(db: &dyn sqlx::error::DatabaseError) -> DatabaseDetail {
        use sqlx::postgres::{PgDatabaseError, PgSeverity};
        let code = db.code();
        let code = code.as_deref().unwrap_or("");
        let mut detail = DatabaseDetail {
            conflict: sqlstate_is_conflict(code),
            connection_invalidated: sqlstate_is_disconnect(code),
            ..DatabaseDetail::default()
        };
        if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
            detail.constraint = pg.constraint().map(str::to_owned);
            detail.table = pg.table().map(str::to_owned);
            detail.column = pg.column().map(str::to_owned);
            detail.detail = pg.detail().map(str::to_owned);
            detail.hint = pg.hint().map(str::to_owned);
            detail.connection_invalidated |=
                matches!(pg.severity(), PgSeverity::Fatal | PgSeverity::Panic);
        }
        detail
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }
}
