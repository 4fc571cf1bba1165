//! MySQL and MariaDB on sqlx: binding values, decoding rows, mapping error codes.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use dialects::{Compiled, Dialect, MySql, StatementKind, Value};
use rust_decimal::Decimal;
use sqlx::error::BoxDynError;
use sqlx::mysql::{MySqlArguments, MySqlConnectOptions, MySqlRow, MySqlValueRef};
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

fn arguments<P: Params + ?Sized>(params: &P) -> Result<MySqlArguments, DriverError> {
    let mut args = MySqlArguments::default();
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
    conn: &mut sqlx::MySqlConnection,
    compiled: &Compiled,
    kind: StatementKind,
) -> Result<QueryResult, DriverError> {
    let args = arguments(compiled.params.as_slice())?;
    let mut sink = RowSink::<Decoder>::new();
    let affected = super::exec::run::<sqlx::MySql>(
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
        if let Ok(columns) = super::exec::columns::<sqlx::MySql>(conn, &compiled.sql).await {
            result.columns = columns;
        }
    }
    Ok(result)
}

/// Runs `sql` with `params`, keeping the rows as bare values.
pub(crate) async fn execute_values<P: Params + ?Sized>(
    conn: &mut sqlx::MySqlConnection,
    sql: &str,
    params: &P,
    kind: StatementKind,
    buffer: Vec<Value>,
) -> Result<ValueRows, DriverError> {
    let args = arguments(params)?;
    let mut sink = ValueSink::<Decoder>::new(buffer);
    let affected = super::exec::run::<sqlx::MySql>(
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
    conn: &mut sqlx::MySqlConnection,
    sql: &str,
    params: &[Value],
) -> Result<Option<Vec<Value>>, DriverError> {
    let args = arguments(params)?;
    super::exec::run_one::<sqlx::MySql, _>(conn, sql, args, Decoder::decode_single)
        .await
        .map_err(|e| e.into_driver(BACKEND, classify))
}

pub(crate) fn stream<'a>(
    conn: &'a mut sqlx::MySqlConnection,
    compiled: &'a Compiled,
    redact: bool,
) -> BoxStream<'a, Result<Row, Error>> {
    match arguments(compiled.params.as_slice()) {
        Ok(args) => decode_stream::<Decoder>(
            super::exec::fetch::<sqlx::MySql>(conn, &compiled.sql, args),
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

/// MySQL error numbers first (MySQL 8 reports several data errors under
/// the generic SQLSTATE HY000), then the SQLSTATE class.
fn classify(db: &dyn sqlx::error::DatabaseError) -> ErrorKind {
    db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
        .and_then(|e| crate::error::kind_from_mysql_number(e.number()))
        .or_else(|| db.code().map(|c| kind_from_sqlstate(&c)))
        .unwrap_or(ErrorKind::Other)
}

/// What a column's values become, from its type (the same for every row).
#[derive(Clone, Copy)]
enum Kind {
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

impl Kind {
    fn of(type_name: &str) -> Kind {
        match type_name {
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
}

/// Decodes MySQL rows by the kinds of their columns.
struct Decoder {
    kinds: Vec<Kind>,
}

impl RowDecoder for Decoder {
    type Row = MySqlRow;

    fn new(first: &MySqlRow) -> Self {
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

    fn decode_into(&self, row: &MySqlRow, out: &mut Vec<Value>) -> Result<(), Error> {
        out.reserve(self.kinds.len());
        for (i, kind) in self.kinds.iter().enumerate() {
            out.push(decode(row, i, *kind)?);
        }
        Ok(())
    }

    fn decode_single(row: &MySqlRow) -> Result<Vec<Value>, Error> {
        let columns = row.columns();
        let mut out = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            out.push(decode(row, i, Kind::of(c.type_info().name()))?);
        }
        Ok(out)
    }
}

fn decode(row: &MySqlRow, i: usize, kind: Kind) -> Result<Value, Error> {
    fn get<'r, T: sqlx::Decode<'r, sqlx::MySql>>(
        raw: MySqlValueRef<'r>,
        row: &MySqlRow,
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
    Ok(match kind {
        Kind::Bool => Value::Bool(get(raw, row, i)?),
        Kind::Int => Value::BigInt(get(raw, row, i)?),
        Kind::Unsigned => {
            let n: u64 = get(raw, row, i)?;
            i64::try_from(n).map_or_else(|_| Value::Decimal(Decimal::from(n)), Value::BigInt)
        }
        Kind::Float => Value::Float(get(raw, row, i)?),
        Kind::Double => Value::Double(get(raw, row, i)?),
        Kind::Decimal => Value::Decimal(get::<Decimal>(raw, row, i)?),
        Kind::Date => Value::Date(get::<NaiveDate>(raw, row, i)?),
        Kind::Time => Value::Time(get::<NaiveTime>(raw, row, i)?),
        Kind::DateTime => Value::DateTime(get::<NaiveDateTime>(raw, row, i)?),
        Kind::Timestamp => Value::DateTimeUtc(get::<DateTime<Utc>>(raw, row, i)?),
        Kind::Json => Value::Json(get::<sqlx::types::Json<serde_json::Value>>(raw, row, i)?.0),
        Kind::Bytes => Value::Bytes(get(raw, row, i)?),
        Kind::Text => match get::<String>(raw.clone(), row, i) {
            Ok(s) => Value::String(s),
            Err(_) => Value::Bytes(get(raw, row, i)?),
        },
    })
}
