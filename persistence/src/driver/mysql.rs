//! MySQL and MariaDB on sqlx: binding values, decoding rows, mapping error codes.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use dialects::{Compiled, Dialect, MySql, StatementKind, Value};
use rust_decimal::Decimal;
use sqlx::error::BoxDynError;
use sqlx::mysql::{MySqlArguments, MySqlConnectOptions, MySqlRow};
use sqlx::{Arguments, Column, ConnectOptions, Row as _, TypeInfo, ValueRef};

use super::{decode_err, decode_stream, into_result, map_sqlx_error, DriverError};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;

use crate::engine::result::QueryResult;
use crate::engine::row::Row;
use crate::engine::url::DatabaseUrl;
use crate::error::{kind_from_sqlstate, Error, ErrorKind};

pub(crate) const BACKEND: &str = "MySQL";

pub(crate) fn options(url: &DatabaseUrl) -> Result<MySqlConnectOptions, Error> {
    let options: MySqlConnectOptions = url.as_str().parse().map_err(|e| Error::InvalidUrl {
        url: url.redacted(),
        reason: format!("{e}"),
    })?;
    Ok(options.log_statements(tracing::log::LevelFilter::Off))
}

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

fn bind(args: &mut MySqlArguments, v: &Value) -> Result<(), BoxDynError> {
    match v {
        Value::Null => args.add(None::<String>),
        Value::Bool(b) => args.add(*b),
        Value::SmallInt(n) => args.add(*n),
        Value::Int(n) => args.add(*n),
        Value::BigInt(n) => args.add(*n),
        Value::Float(f) => args.add(*f),
        Value::Double(f) => args.add(*f),
        Value::Decimal(d) => args.add(*d),
        Value::String(s) => args.add(s.as_str()),
        Value::Bytes(b) => args.add(b.as_slice()),
        Value::Date(d) => args.add(*d),
        Value::Time(t) => args.add(*t),
        Value::DateTime(t) => args.add(*t),
        // DATETIME(6) columns hold UTC; the session time zone is UTC too.
        Value::DateTimeUtc(t) => args.add(t.naive_utc()),
        Value::Uuid(u) => args.add(u.hyphenated().to_string()),
        Value::Json(j) => args.add(j.to_string()),
        other => Err(format!("unsupported value type {}", other.type_name()).into()),
    }
}

fn arguments(compiled: &Compiled) -> Result<MySqlArguments, DriverError> {
    let mut args = MySqlArguments::default();
    for v in &compiled.params {
        bind(&mut args, v).map_err(|e| DriverError::Database {
            kind: ErrorKind::Data,
            code: None,
            message: e.to_string(),
        })?;
    }
    Ok(args)
}

pub(crate) async fn execute(
    conn: &mut sqlx::MySqlConnection,
    compiled: &Compiled,
    kind: StatementKind,
) -> Result<QueryResult, DriverError> {
    let args = arguments(compiled)?;
    let (rows, affected) =
        super::exec::run::<sqlx::MySql>(conn, &compiled.sql, args, kind, |r| r.rows_affected())
            .await
            .map_err(|e| map_sqlx_error(e, BACKEND, classify))?;
    let mut result = into_result(rows, affected, decode_row)?;
    if kind == StatementKind::Query && result.rows.is_empty() {
        // No row carries the labels; the query ran, so a failure here only
        // leaves `keys()` empty.
        if let Ok(columns) = super::exec::columns::<sqlx::MySql>(conn, &compiled.sql).await {
            result.columns = columns;
        }
    }
    Ok(result)
}

pub(crate) fn stream<'a>(
    conn: &'a mut sqlx::MySqlConnection,
    compiled: &'a Compiled,
    redact: bool,
) -> BoxStream<'a, Result<Row, Error>> {
    match arguments(compiled) {
        Ok(args) => decode_stream(
            super::exec::fetch::<sqlx::MySql>(conn, &compiled.sql, args),
            compiled,
            redact,
            BACKEND,
            classify,
            decode_row,
        ),
        Err(e) => {
            futures_util::stream::once(async move { Err(e.into_error(compiled, redact)) }).boxed()
        }
    }
}

/// MySQL error numbers first (MySQL 8 reports several data errors under
/// the generic SQLSTATE HY000), then the SQLSTATE class.
fn classify(db: &dyn sqlx::error::DatabaseError) -> ErrorKind {
    db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
        .and_then(|e| crate::error::kind_from_mysql_number(e.number()))
        .or_else(|| db.code().map(|c| kind_from_sqlstate(&c)))
        .unwrap_or(ErrorKind::Other)
}

fn decode_row(row: &MySqlRow) -> Result<Vec<Value>, Error> {
    let mut out = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        out.push(decode(row, i)?);
    }
    Ok(out)
}

fn decode(row: &MySqlRow, i: usize) -> Result<Value, Error> {
    let raw = row
        .try_get_raw(i)
        .map_err(|e| decode_err(&i.to_string(), e))?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let ty = row.column(i).type_info().name().to_owned();
    let err = |e: sqlx::Error| decode_err(row.column(i).name(), e);
    Ok(match ty.as_str() {
        "BOOLEAN" => Value::Bool(row.try_get(i).map_err(err)?),
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => {
            Value::BigInt(row.try_get_unchecked(i).map_err(err)?)
        }
        t if t.ends_with("UNSIGNED") => {
            let n: u64 = row.try_get_unchecked(i).map_err(err)?;
            i64::try_from(n).map_or_else(|_| Value::Decimal(Decimal::from(n)), Value::BigInt)
        }
        "FLOAT" => Value::Float(row.try_get(i).map_err(err)?),
        "DOUBLE" => Value::Double(row.try_get(i).map_err(err)?),
        "DECIMAL" => Value::Decimal(row.try_get::<Decimal, _>(i).map_err(err)?),
        "DATE" => Value::Date(row.try_get::<NaiveDate, _>(i).map_err(err)?),
        "TIME" => Value::Time(row.try_get::<NaiveTime, _>(i).map_err(err)?),
        "DATETIME" => Value::DateTime(row.try_get::<NaiveDateTime, _>(i).map_err(err)?),
        "TIMESTAMP" => Value::DateTimeUtc(row.try_get::<DateTime<Utc>, _>(i).map_err(err)?),
        "JSON" => Value::Json(
            row.try_get::<sqlx::types::Json<serde_json::Value>, _>(i)
                .map_err(err)?
                .0,
        ),
        "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BINARY" | "VARBINARY" | "BIT"
        | "GEOMETRY" => Value::Bytes(row.try_get_unchecked(i).map_err(err)?),
        _ => match row.try_get_unchecked::<String, _>(i) {
            Ok(s) => Value::String(s),
            Err(_) => Value::Bytes(row.try_get_unchecked(i).map_err(err)?),
        },
    })
}
