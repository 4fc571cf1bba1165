//! MySQL and MariaDB on sqlx: binding values, decoding values by column
//! type, mapping error codes, telling MariaDB from MySQL. The statement
//! glue is generic (`driver::exec`).

use std::sync::Arc;

use dialects::{Dialect, MySql, Value};
use sqlx::error::BoxDynError;
use sqlx::mysql::{MySqlArguments, MySqlQueryResult, MySqlRow, MySqlValueRef};
use sqlx::Arguments;

use super::Driver;
use crate::error::{
    kind_from_sqlstate, mysql_number_is_conflict, mysql_number_is_disconnect, sqlstate_is_conflict,
    DatabaseDetail, Error, ErrorKind,
};

/// MariaDB or MySQL, told from the server's version string.
pub(crate) async fn dialect(
    conn: &mut sqlx::MySqlConnection,
) -> Result<Arc<dyn Dialect>, sqlx::Error> {
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(conn)
        .await?;
    Ok(Arc::new(if version.contains("MariaDB") {
        MySql::mariadb()
    } else {
        MySql::mysql8()
    }))
}

/// What a column's values become, from its type (the same for every row).
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Bool,
    Int,
    Unsigned,
    Float,
    Double,
    Decimal,
    Date,
    Time,
    DateTime,
    Timestamp,
    Json,
    Bytes,
    /// Text, or bytes when it is not UTF-8.
    Text,
}

/// Checks the length of a binary-protocol DATE / DATETIME / TIMESTAMP
/// before sqlx decodes it: sqlx indexes the bytes after the length prefix
/// as the prefix says, so a value of another length (a server that breaks
/// the protocol) would panic there instead of failing. The protocol sends
/// 0 (zero date), 4 (date), 7 (with seconds) or 11 (with microseconds)
/// bytes after the prefix. A text-protocol value starts with a digit
/// (`2024-05-01`), never one of those prefixes, and is parsed, not indexed.
#[cfg(any(feature = "chrono", feature = "time"))]
fn temporal_shape(raw: &MySqlValueRef<'_>) -> Result<(), BoxDynError> {
    use sqlx::ValueRef as _;
    if raw.is_null() {
        return Ok(());
    }
    let bytes = <&[u8] as sqlx::Decode<sqlx::MySql>>::decode(raw.clone())?;
    binary_temporal_shape(bytes)
}

/// [`temporal_shape`] on the value's bytes.
#[cfg(any(feature = "chrono", feature = "time"))]
fn binary_temporal_shape(bytes: &[u8]) -> Result<(), BoxDynError> {
    match bytes.split_first() {
        Some((first, _)) if first.is_ascii_digit() => Ok(()),
        Some((&len, rest)) if matches!(len, 0 | 4 | 7 | 11) && rest.len() == usize::from(len) => {
            Ok(())
        }
        _ => Err(format!(
            "malformed date/time value from the server ({} bytes)",
            bytes.len()
        )
        .into()),
    }
}

/// MySQL's and MariaDB's [`Driver`].
pub(crate) struct MySqlDriver;

impl Driver for MySqlDriver {
    type Db = sqlx::MySql;
    type Kind = Kind;
    type State = ();
    const NAME: &'static str = "MySQL";

    fn bind(args: &mut MySqlArguments, v: &Value) -> Result<(), BoxDynError> {
        match v {
            Value::Null => args.add(None::<String>),
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
            // DATETIME(6) columns hold UTC; the session time zone is UTC too.
            #[cfg(feature = "chrono")]
            Value::DateTimeUtc(t) => args.add(t.naive_utc()),
            #[cfg(feature = "time")]
            Value::TimeDate(d) => args.add(*d),
            #[cfg(feature = "time")]
            Value::TimeTime(t) => args.add(*t),
            #[cfg(feature = "time")]
            Value::TimePrimitiveDateTime(t) => args.add(*t),
            #[cfg(feature = "time")]
            Value::TimeOffsetDateTime(t) => match dialects::value::utc_primitive(*t) {
                Some(utc) => args.add(utc),
                None => Err(format!("{t} has no UTC form in the `time` crate's range").into()),
            },
            #[cfg(feature = "uuid")]
            Value::Uuid(u) => args.add(u.hyphenated().to_string()),
            #[cfg(feature = "json")]
            Value::Json(j) => args.add(j.to_string()),
            other => Err(format!("unsupported value type {}", other.type_name()).into()),
        }
    }

    fn kind_of(type_info: &sqlx::mysql::MySqlTypeInfo) -> Kind {
        use sqlx::TypeInfo as _;
        match type_info.name() {
            "BOOLEAN" => Kind::Bool,
            "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => Kind::Int,
            t if t.ends_with("UNSIGNED") => Kind::Unsigned,
            "FLOAT" => Kind::Float,
            "DOUBLE" => Kind::Double,
            "DECIMAL" => Kind::Decimal,
            "DATE" => Kind::Date,
            "TIME" => Kind::Time,
            "DATETIME" => Kind::DateTime,
            "TIMESTAMP" => Kind::Timestamp,
            "JSON" => Kind::Json,
            "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BINARY" | "VARBINARY" | "BIT"
            | "GEOMETRY" => Kind::Bytes,
            _ => Kind::Text,
        }
    }

    /// Decodes by the column's type. Without `decimal`, a DECIMAL (and an
    /// unsigned BIGINT past `i64`) is its text; without `json`, a JSON
    /// document its text; dates and times without `chrono` or `time` are
    /// [`Error::FeatureDisabled`].
    #[inline]
    fn decode(
        kind: Kind,
        raw: MySqlValueRef<'_>,
        row: &MySqlRow,
        i: usize,
    ) -> Result<Value, Error> {
        use super::decode::decode_named as get;
        #[cfg(any(feature = "chrono", feature = "time"))]
        if matches!(kind, Kind::Date | Kind::DateTime | Kind::Timestamp) {
            temporal_shape(&raw).map_err(|e| {
                use sqlx::{Column as _, Row as _};
                super::decode::column_decode_err(row.column(i).name(), i, e)
            })?;
        }
        Ok(match kind {
            Kind::Bool => Value::Bool(get(raw, row, i)?),
            Kind::Int => Value::BigInt(get(raw, row, i)?),
            Kind::Unsigned => {
                let n: u64 = get(raw, row, i)?;
                #[cfg(feature = "decimal")]
                let big = |n: u64| Value::Decimal(rust_decimal::Decimal::from(n));
                #[cfg(not(feature = "decimal"))]
                let big = |n: u64| Value::String(n.to_string());
                i64::try_from(n).map_or_else(|_| big(n), Value::BigInt)
            }
            Kind::Float => Value::Float(get(raw, row, i)?),
            Kind::Double => Value::Double(get(raw, row, i)?),
            #[cfg(feature = "decimal")]
            Kind::Decimal => Value::Decimal(get::<rust_decimal::Decimal, _>(raw, row, i)?),
            // The binary protocol sends decimals as their text.
            #[cfg(not(feature = "decimal"))]
            Kind::Decimal => Value::String(get(raw, row, i)?),
            #[cfg(feature = "chrono")]
            Kind::Date => Value::Date(get::<chrono::NaiveDate, _>(raw, row, i)?),
            #[cfg(feature = "chrono")]
            Kind::Time => Value::Time(get::<chrono::NaiveTime, _>(raw, row, i)?),
            #[cfg(feature = "chrono")]
            Kind::DateTime => Value::DateTime(get::<chrono::NaiveDateTime, _>(raw, row, i)?),
            #[cfg(feature = "chrono")]
            Kind::Timestamp => {
                Value::DateTimeUtc(get::<chrono::DateTime<chrono::Utc>, _>(raw, row, i)?)
            }
            #[cfg(all(feature = "time", not(feature = "chrono")))]
            Kind::Date => Value::TimeDate(get(raw, row, i)?),
            #[cfg(all(feature = "time", not(feature = "chrono")))]
            Kind::Time => Value::TimeTime(get(raw, row, i)?),
            #[cfg(all(feature = "time", not(feature = "chrono")))]
            Kind::DateTime => Value::TimePrimitiveDateTime(get(raw, row, i)?),
            #[cfg(all(feature = "time", not(feature = "chrono")))]
            Kind::Timestamp => Value::TimeOffsetDateTime(get(raw, row, i)?),
            #[cfg(not(any(feature = "chrono", feature = "time")))]
            Kind::Date | Kind::Time | Kind::DateTime | Kind::Timestamp => {
                use sqlx::{Column as _, Row as _, TypeInfo as _, ValueRef as _};
                return Err(Error::FeatureDisabled {
                    column: row.column(i).name().to_owned(),
                    backend: Self::NAME,
                    type_name: raw.type_info().name().to_owned(),
                    feature: "chrono` or `time",
                });
            }
            #[cfg(feature = "json")]
            Kind::Json => {
                Value::Json(get::<sqlx::types::Json<serde_json::Value>, _>(raw, row, i)?.0)
            }
            #[cfg(not(feature = "json"))]
            Kind::Json => match get::<String, _>(raw.clone(), row, i) {
                Ok(s) => Value::String(s),
                Err(_) => Value::Bytes(get(raw, row, i)?),
            },
            Kind::Bytes => Value::Bytes(get(raw, row, i)?),
            Kind::Text => match get::<String, _>(raw.clone(), row, i) {
                Ok(s) => Value::String(s),
                Err(_) => Value::Bytes(get(raw, row, i)?),
            },
        })
    }

    /// MySQL error numbers first (MySQL 8 reports several data errors under
    /// the generic SQLSTATE HY000), then the SQLSTATE class.
    fn classify(db: &dyn sqlx::error::DatabaseError) -> ErrorKind {
        db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
            .and_then(|e| crate::error::kind_from_mysql_number(e.number()))
            .or_else(|| db.code().map(|c| kind_from_sqlstate(&c)))
            .unwrap_or(ErrorKind::Other)
    }

    /// What the message names (MySQL has no fields for it), and the error
    /// numbers of a server ending the session or of a conflict.
    fn detail(db: &dyn sqlx::error::DatabaseError) -> DatabaseDetail {
        let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() else {
            return DatabaseDetail::default();
        };
        let number = my.number();
        let mut detail = super::messages::mysql(number, my.message());
        detail.connection_invalidated = mysql_number_is_disconnect(number);
        detail.conflict =
            mysql_number_is_conflict(number) || my.code().is_some_and(sqlstate_is_conflict);
        detail
    }

    fn rows_affected(done: &MySqlQueryResult) -> u64 {
        done.rows_affected()
    }

    /// `LAST_INSERT_ID()` of the statement; 0 (no generated key) is none.
    fn last_insert_id(done: &MySqlQueryResult) -> Option<i64> {
        i64::try_from(done.last_insert_id())
            .ok()
            .filter(|&id| id != 0)
    }
}

#[cfg(all(test, any(feature = "chrono", feature = "time")))]
mod tests {
    use super::binary_temporal_shape;

    #[test]
    fn binary_dates_of_the_protocol_lengths_pass() {
        assert!(binary_temporal_shape(&[0]).is_ok());
        assert!(binary_temporal_shape(&[4, 0xE8, 0x07, 5, 1]).is_ok());
        assert!(binary_temporal_shape(&[7, 0xE8, 0x07, 5, 1, 12, 30, 0]).is_ok());
        assert!(binary_temporal_shape(&[11, 0xE8, 0x07, 5, 1, 12, 30, 0, 1, 0, 0, 0]).is_ok());
        assert!(binary_temporal_shape(b"2024-05-01 12:30:00").is_ok());
    }

    #[test]
    fn other_lengths_are_errors_not_panics() {
        for bad in [
            &[][..],
            &[1, 0xE8],
            &[5, 0xE8, 0x07, 5, 1, 12],
            &[4, 0xE8, 0x07],
            &[12; 13],
        ] {
            let err = binary_temporal_shape(bad).expect_err("a malformed value");
            assert!(err.to_string().contains("malformed date/time"), "{err}");
        }
    }
}
