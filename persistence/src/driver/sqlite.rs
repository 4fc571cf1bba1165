//! SQLite on sqlx: binding values, decoding rows, mapping result codes.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use dialects::{Compiled, Dialect, Sqlite, StatementKind, Value};
use sqlx::error::BoxDynError;
use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions, SqliteRow, SqliteValueRef};
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
use crate::error::{Error, ErrorKind};

pub(crate) const BACKEND: &str = "SQLite";

pub(crate) fn options(url: &DatabaseUrl) -> Result<SqliteConnectOptions, Error> {
    Ok(SqliteConnectOptions::from_str(url.as_str())
        .map_err(|e| Error::InvalidUrl {
            url: url.redacted(),
            reason: e.to_string(),
        })?
        .create_if_missing(true)
        .foreign_keys(true)
        .log_statements(tracing::log::LevelFilter::Off))
}

pub(crate) async fn dialect(
    _conn: &mut sqlx::SqliteConnection,
) -> Result<Arc<dyn Dialect>, sqlx::Error> {
    Ok(Arc::new(Sqlite))
}

fn bind(args: &mut SqliteArguments<'static>, v: &Value) -> Result<(), BoxDynError> {
    match v {
        Value::Null => args.add(None::<i64>),
        Value::Bool(b) => args.add(*b),
        Value::SmallInt(n) => args.add(i32::from(*n)),
        Value::Int(n) => args.add(*n),
        Value::BigInt(n) => args.add(*n),
        Value::Float(f) => args.add(f64::from(*f)),
        Value::Double(f) => args.add(*f),
        // SQLite has no decimal type: the text form keeps every digit.
        Value::Decimal(d) => args.add(d.to_string()),
        Value::String(s) => args.add(s.clone()),
        Value::Bytes(b) => args.add(b.clone()),
        Value::Date(d) => args.add(d.to_string()),
        Value::Time(t) => args.add(t.to_string()),
        // One text format for every timestamp, so that they sort and compare
        // like SQLite's own CURRENT_TIMESTAMP.
        Value::DateTime(t) => args.add(t.format("%Y-%m-%d %H:%M:%S%.f").to_string()),
        Value::DateTimeUtc(t) => args.add(t.naive_utc().format("%Y-%m-%d %H:%M:%S%.f").to_string()),
        Value::Uuid(u) => args.add(u.hyphenated().to_string()),
        Value::Json(j) => args.add(j.to_string()),
        other => Err(format!("unsupported value type {}", other.type_name()).into()),
    }
}

fn arguments<P: Params + ?Sized>(params: &P) -> Result<SqliteArguments<'static>, DriverError> {
    let mut args = SqliteArguments::default();
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
    conn: &mut sqlx::SqliteConnection,
    compiled: &Compiled,
    kind: StatementKind,
) -> Result<QueryResult, DriverError> {
    let args = arguments(compiled.params.as_slice())?;
    let mut sink = RowSink::<Decoder>::new();
    let affected = super::exec::run::<sqlx::Sqlite>(
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
        if let Ok(columns) = super::exec::columns::<sqlx::Sqlite>(conn, &compiled.sql).await {
            result.columns = columns;
        }
    }
    Ok(result)
}

/// Runs `sql` with `params`, keeping the rows as bare values.
pub(crate) async fn execute_values<P: Params + ?Sized>(
    conn: &mut sqlx::SqliteConnection,
    sql: &str,
    params: &P,
    kind: StatementKind,
    buffer: Vec<Value>,
) -> Result<ValueRows, DriverError> {
    let args = arguments(params)?;
    let mut sink = ValueSink::<Decoder>::new(buffer);
    let mut last_insert_id = None;
    let affected = super::exec::run::<sqlx::Sqlite>(
        conn,
        sql,
        args,
        kind,
        |r| {
            last_insert_id = Some(r.last_insert_rowid());
            r.rows_affected()
        },
        |row| sink.push(row),
    )
    .await
    .map_err(|e| e.into_driver(BACKEND, classify))?;
    let mut result = sink.finish(affected);
    result.last_insert_id = last_insert_id;
    Ok(result)
}

/// Runs the query `sql` with `params` for its first row only, as bare values.
pub(crate) async fn query_one(
    conn: &mut sqlx::SqliteConnection,
    sql: &str,
    params: &[Value],
) -> Result<Option<Vec<Value>>, DriverError> {
    let args = arguments(params)?;
    super::exec::run_one::<sqlx::Sqlite, _>(conn, sql, args, Decoder::decode_single)
        .await
        .map_err(|e| e.into_driver(BACKEND, classify))
}

pub(crate) fn stream<'a>(
    conn: &'a mut sqlx::SqliteConnection,
    compiled: &'a Compiled,
    redact: bool,
) -> BoxStream<'a, Result<Row, Error>> {
    match arguments(compiled.params.as_slice()) {
        Ok(args) => decode_stream::<Decoder>(
            super::exec::fetch::<sqlx::Sqlite>(conn, &compiled.sql, args),
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

/// SQLite's extended result codes.
fn classify(db: &dyn sqlx::error::DatabaseError) -> ErrorKind {
    // ON DELETE RESTRICT fails as a trigger constraint (1811) whose
    // message names the foreign key.
    if db.message().contains("FOREIGN KEY constraint failed") {
        return ErrorKind::Integrity(crate::error::IntegrityKind::ForeignKey);
    }
    db.code()
        .and_then(|c| c.parse::<i32>().ok())
        .map_or(ErrorKind::Other, crate::error::kind_from_sqlite_code)
}

/// What a column was declared as, where that refines its values'
/// storage class (the same for every row).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Declared {
    Boolean,
    DateTime,
    Date,
    Time,
    Other,
}

impl Declared {
    fn of(type_name: &str) -> Declared {
        match type_name {
            "BOOLEAN" => Declared::Boolean,
            "DATETIME" => Declared::DateTime,
            "DATE" => Declared::Date,
            "TIME" => Declared::Time,
            _ => Declared::Other,
        }
    }
}

/// Decodes SQLite rows by their columns' declared types.
struct Decoder {
    declared: Vec<Declared>,
}

impl RowDecoder for Decoder {
    type Row = SqliteRow;

    fn new(first: &SqliteRow) -> Self {
        Decoder {
            declared: first
                .columns()
                .iter()
                .map(|c| Declared::of(c.type_info().name()))
                .collect(),
        }
    }

    fn width(&self) -> usize {
        self.declared.len()
    }

    fn decode_into(&self, row: &SqliteRow, out: &mut Vec<Value>) -> Result<(), Error> {
        out.reserve(self.declared.len());
        for (i, declared) in self.declared.iter().enumerate() {
            out.push(decode(row, i, *declared)?);
        }
        Ok(())
    }

    fn decode_single(row: &SqliteRow) -> Result<Vec<Value>, Error> {
        let columns = row.columns();
        let mut out = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            out.push(decode(row, i, Declared::of(c.type_info().name()))?);
        }
        Ok(out)
    }
}

/// Decodes by the value's storage class, refined by the declared column
/// type (SQLite stores booleans as integers and timestamps as text).
fn decode(row: &SqliteRow, i: usize, declared: Declared) -> Result<Value, Error> {
    fn get<'r, T: sqlx::Decode<'r, sqlx::Sqlite>>(
        raw: SqliteValueRef<'r>,
        row: &SqliteRow,
        i: usize,
    ) -> Result<T, Error> {
        T::decode(raw).map_err(|e| column_decode_err(row.column(i).name(), i, e))
    }
    let raw = row
        .try_get_raw(i)
        .map_err(|e| decode_err(&i.to_string(), e))?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let storage = raw.type_info();
    Ok(match (storage.name(), declared) {
        ("INTEGER", Declared::Boolean) => Value::Bool(get::<i64>(raw, row, i)? != 0),
        ("INTEGER", _) => Value::BigInt(get(raw, row, i)?),
        ("REAL", _) => Value::Double(get(raw, row, i)?),
        ("BLOB", _) => Value::Bytes(get(raw, row, i)?),
        ("TEXT", Declared::DateTime) => {
            let s: String = get(raw, row, i)?;
            parse_datetime(&s).map_or(Value::String(s), Value::DateTime)
        }
        ("TEXT", Declared::Date) => {
            let s: String = get(raw, row, i)?;
            NaiveDate::from_str(&s).map_or(Value::String(s), Value::Date)
        }
        ("TEXT", Declared::Time) => {
            let s: String = get(raw, row, i)?;
            NaiveTime::from_str(&s).map_or(Value::String(s), Value::Time)
        }
        _ => Value::String(get(raw, row, i)?),
    })
}

fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}
