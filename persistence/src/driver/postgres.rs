//! PostgreSQL on sqlx: binding values, decoding rows, mapping SQLSTATE codes.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use dialects::{Compiled, Dialect, Postgres, StatementKind, Value};
use rust_decimal::Decimal;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgArguments, PgConnectOptions, PgRow, PgTypeInfo};
use sqlx::{Arguments, ConnectOptions, Row as _, TypeInfo, ValueRef};

use super::{decode_err, decode_stream, into_result, map_sqlx_error, DriverError};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;

use crate::engine::result::QueryResult;
use crate::engine::row::Row;
use crate::engine::url::DatabaseUrl;
use crate::error::{kind_from_sqlstate, Error, ErrorKind};

pub(crate) const BACKEND: &str = "PostgreSQL";

/// A NULL whose type the server infers from where it is used (OID 0), so
/// that a NULL fits an integer, text or UUID column alike.
struct UntypedNull;

impl sqlx::Type<sqlx::Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(sqlx::postgres::types::Oid(0))
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for UntypedNull {
    fn encode_by_ref(&self, _buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Ok(IsNull::Yes)
    }
}

pub(crate) fn options(url: &DatabaseUrl) -> Result<PgConnectOptions, Error> {
    let options: PgConnectOptions = url.as_str().parse().map_err(|e| Error::InvalidUrl {
        url: url.redacted(),
        reason: format!("{e}"),
    })?;
    Ok(options.log_statements(tracing::log::LevelFilter::Off))
}

pub(crate) async fn dialect(
    _conn: &mut sqlx::PgConnection,
) -> Result<Arc<dyn Dialect>, sqlx::Error> {
    Ok(Arc::new(Postgres))
}

fn bind(args: &mut PgArguments, v: &Value) -> Result<(), BoxDynError> {
    match v {
        Value::Null => args.add(UntypedNull),
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
        Value::DateTimeUtc(t) => args.add(*t),
        Value::Uuid(u) => args.add(*u),
        Value::Json(j) => args.add(sqlx::types::Json(j)),
        other => Err(format!("unsupported value type {}", other.type_name()).into()),
    }
}

fn arguments(compiled: &Compiled) -> Result<PgArguments, DriverError> {
    let mut args = PgArguments::default();
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
    conn: &mut sqlx::PgConnection,
    compiled: &Compiled,
    kind: StatementKind,
) -> Result<QueryResult, DriverError> {
    let args = arguments(compiled)?;
    let (rows, affected) =
        super::exec::run::<sqlx::Postgres>(conn, &compiled.sql, args, kind, |r| r.rows_affected())
            .await
            .map_err(|e| map_sqlx_error(e, BACKEND, classify))?;
    let mut result = into_result(rows, affected, decode_row)?;
    if kind == StatementKind::Query && result.rows.is_empty() {
        // No row carries the labels; the query ran, so a failure here only
        // leaves `keys()` empty.
        if let Ok(columns) = super::exec::columns::<sqlx::Postgres>(conn, &compiled.sql).await {
            result.columns = columns;
        }
    }
    Ok(result)
}

pub(crate) fn stream<'a>(
    conn: &'a mut sqlx::PgConnection,
    compiled: &'a Compiled,
    redact: bool,
) -> BoxStream<'a, Result<Row, Error>> {
    match arguments(compiled) {
        Ok(args) => decode_stream(
            super::exec::fetch::<sqlx::Postgres>(conn, &compiled.sql, args),
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

fn classify(db: &dyn sqlx::error::DatabaseError) -> ErrorKind {
    db.code()
        .map_or(ErrorKind::Other, |c| kind_from_sqlstate(&c))
}

fn decode_row(row: &PgRow) -> Result<Vec<Value>, Error> {
    let mut out = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        out.push(decode(row, i)?);
    }
    Ok(out)
}

fn decode(row: &PgRow, i: usize) -> Result<Value, Error> {
    let raw = row
        .try_get_raw(i)
        .map_err(|e| decode_err(&i.to_string(), e))?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let ty = raw.type_info().name().to_owned();
    let err = |e: sqlx::Error| decode_err(&i.to_string(), e);
    Ok(match ty.as_str() {
        "BOOL" => Value::Bool(row.try_get(i).map_err(err)?),
        "INT2" => Value::SmallInt(row.try_get(i).map_err(err)?),
        "INT4" => Value::Int(row.try_get(i).map_err(err)?),
        "INT8" => Value::BigInt(row.try_get(i).map_err(err)?),
        "FLOAT4" => Value::Float(row.try_get(i).map_err(err)?),
        "FLOAT8" => Value::Double(row.try_get(i).map_err(err)?),
        "NUMERIC" => Value::Decimal(row.try_get::<Decimal, _>(i).map_err(err)?),
        "BYTEA" => Value::Bytes(row.try_get(i).map_err(err)?),
        "DATE" => Value::Date(row.try_get::<NaiveDate, _>(i).map_err(err)?),
        "TIME" => Value::Time(row.try_get::<NaiveTime, _>(i).map_err(err)?),
        "TIMESTAMP" => Value::DateTime(row.try_get::<NaiveDateTime, _>(i).map_err(err)?),
        "TIMESTAMPTZ" => Value::DateTimeUtc(row.try_get::<DateTime<Utc>, _>(i).map_err(err)?),
        "UUID" => Value::Uuid(row.try_get(i).map_err(err)?),
        "JSON" | "JSONB" => Value::Json(
            row.try_get::<sqlx::types::Json<serde_json::Value>, _>(i)
                .map_err(err)?
                .0,
        ),
        // Text, and anything else with a text form (enums, names, ...).
        _ => Value::String(row.try_get_unchecked::<String, _>(i).map_err(err)?),
    })
}
