//! PostgreSQL on sqlx: binding values, decoding rows, mapping SQLSTATE codes.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use dialects::{Compiled, Dialect, Postgres, StatementKind, Value};
use rust_decimal::Decimal;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{
    PgArgumentBuffer, PgArguments, PgConnectOptions, PgRow, PgTypeInfo, PgValueRef,
};
use sqlx::{Arguments, Column, ConnectOptions, Row as _, TypeInfo, ValueRef};

use super::{
    column_decode_err, decode_err, decode_stream, DriverError, Params, RowDecoder, RowSink,
    ValueRows, ValueSink,
};
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

fn arguments<P: Params + ?Sized>(params: &P) -> Result<PgArguments, DriverError> {
    let mut args = PgArguments::default();
    args.reserve(params.count(), 0);
    for v in params.values() {
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
    let args = arguments(compiled.params.as_slice())?;
    let mut sink = RowSink::<Decoder>::new();
    let affected = super::exec::run::<sqlx::Postgres>(
        conn,
        &compiled.sql,
        args,
        kind,
        |r| r.rows_affected(),
        |row| sink.push(row),
    )
    .await
    .map_err(|e| e.into_driver(BACKEND, classify))?;
    let mut result = sink.finish(affected);
    if kind == StatementKind::Query && result.rows.is_empty() {
        // No row carries the labels; the query ran, so a failure here only
        // leaves `keys()` empty.
        if let Ok(columns) = super::exec::columns::<sqlx::Postgres>(conn, &compiled.sql).await {
            result.columns = columns;
        }
    }
    Ok(result)
}

/// Runs `sql` with `params`, keeping the rows as bare values.
pub(crate) async fn execute_values<P: Params + ?Sized>(
    conn: &mut sqlx::PgConnection,
    sql: &str,
    params: &P,
    kind: StatementKind,
    buffer: Vec<Value>,
) -> Result<ValueRows, DriverError> {
    let args = arguments(params)?;
    let mut sink = ValueSink::<Decoder>::new(buffer);
    let affected = super::exec::run::<sqlx::Postgres>(
        conn,
        sql,
        args,
        kind,
        |r| r.rows_affected(),
        |row| sink.push(row),
    )
    .await
    .map_err(|e| e.into_driver(BACKEND, classify))?;
    Ok(sink.finish(affected))
}

/// Runs the query `sql` with `params` for its first row only, as bare values.
pub(crate) async fn query_one(
    conn: &mut sqlx::PgConnection,
    sql: &str,
    params: &[Value],
) -> Result<Option<Vec<Value>>, DriverError> {
    let args = arguments(params)?;
    super::exec::run_one::<sqlx::Postgres, _>(conn, sql, args, Decoder::decode_single)
        .await
        .map_err(|e| e.into_driver(BACKEND, classify))
}

pub(crate) fn stream<'a>(
    conn: &'a mut sqlx::PgConnection,
    compiled: &'a Compiled,
    redact: bool,
) -> BoxStream<'a, Result<Row, Error>> {
    match arguments(compiled.params.as_slice()) {
        Ok(args) => decode_stream::<Decoder>(
            super::exec::fetch::<sqlx::Postgres>(conn, &compiled.sql, args),
            compiled,
            redact,
            BACKEND,
            classify,
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

/// What a column's values become, from its type (the same for every row).
#[derive(Clone, Copy)]
enum Kind {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    Bytea,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Uuid,
    Json,
    /// Text, and anything else with a text form (enums, names, ...).
    Text,
}

impl Kind {
    fn of(type_name: &str) -> Kind {
        match type_name {
            "BOOL" => Kind::Bool,
            "INT2" => Kind::Int2,
            "INT4" => Kind::Int4,
            "INT8" => Kind::Int8,
            "FLOAT4" => Kind::Float4,
            "FLOAT8" => Kind::Float8,
            "NUMERIC" => Kind::Numeric,
            "BYTEA" => Kind::Bytea,
            "DATE" => Kind::Date,
            "TIME" => Kind::Time,
            "TIMESTAMP" => Kind::Timestamp,
            "TIMESTAMPTZ" => Kind::Timestamptz,
            "UUID" => Kind::Uuid,
            "JSON" | "JSONB" => Kind::Json,
            _ => Kind::Text,
        }
    }
}

/// Decodes PostgreSQL rows by the kinds of their columns.
struct Decoder {
    kinds: Vec<Kind>,
}

impl RowDecoder for Decoder {
    type Row = PgRow;

    fn new(first: &PgRow) -> Self {
        Decoder {
            kinds: first
                .columns()
                .iter()
                .map(|c| Kind::of(c.type_info().name()))
                .collect(),
        }
    }

    fn width(&self) -> usize {
        self.kinds.len()
    }

    fn decode_into(&self, row: &PgRow, out: &mut Vec<Value>) -> Result<(), Error> {
        out.reserve(self.kinds.len());
        for (i, kind) in self.kinds.iter().enumerate() {
            out.push(decode(row, i, *kind)?);
        }
        Ok(())
    }

    fn decode_single(row: &PgRow) -> Result<Vec<Value>, Error> {
        let columns = row.columns();
        let mut out = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            out.push(decode(row, i, Kind::of(c.type_info().name()))?);
        }
        Ok(out)
    }
}

fn decode(row: &PgRow, i: usize, kind: Kind) -> Result<Value, Error> {
    fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres>>(
        raw: PgValueRef<'r>,
        i: usize,
    ) -> Result<T, Error> {
        T::decode(raw).map_err(|e| column_decode_err(&i.to_string(), i, e))
    }
    let raw = row
        .try_get_raw(i)
        .map_err(|e| decode_err(&i.to_string(), e))?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    Ok(match kind {
        Kind::Bool => Value::Bool(get(raw, i)?),
        Kind::Int2 => Value::SmallInt(get(raw, i)?),
        Kind::Int4 => Value::Int(get(raw, i)?),
        Kind::Int8 => Value::BigInt(get(raw, i)?),
        Kind::Float4 => Value::Float(get(raw, i)?),
        Kind::Float8 => Value::Double(get(raw, i)?),
        Kind::Numeric => Value::Decimal(get::<Decimal>(raw, i)?),
        Kind::Bytea => Value::Bytes(get(raw, i)?),
        Kind::Date => Value::Date(get::<NaiveDate>(raw, i)?),
        Kind::Time => Value::Time(get::<NaiveTime>(raw, i)?),
        Kind::Timestamp => Value::DateTime(get::<NaiveDateTime>(raw, i)?),
        Kind::Timestamptz => Value::DateTimeUtc(get::<DateTime<Utc>>(raw, i)?),
        Kind::Uuid => Value::Uuid(get(raw, i)?),
        Kind::Json => Value::Json(get::<sqlx::types::Json<serde_json::Value>>(raw, i)?.0),
        Kind::Text => Value::String(get(raw, i)?),
    })
}
