//! PostgreSQL on sqlx: binding values (as the parameter types of the
//! connection's prepared statements, `param_types`), decoding values by
//! column type, mapping SQLSTATE codes. The statement glue is generic
//! (`driver::exec`).

mod convert;
mod param_types;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use dialects::{Dialect, Postgres, StatementKind, Value};
use futures_util::future::BoxFuture;
use rust_decimal::Decimal;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArguments, PgQueryResult, PgRow, PgValueRef};
use sqlx::Arguments;

use super::decode::column_decode_err;
use super::{Args, Driver, DriverError, Params};
use crate::error::{
    kind_from_sqlstate, sqlstate_is_conflict, sqlstate_is_disconnect, DatabaseDetail, Error,
    ErrorKind,
};
use param_types::{NullOf, ParamTypes};

/// A PostgreSQL connection with the parameter types of the statements it
/// has prepared ([`ParamTypes`]), which sqlx reuses by SQL text.
#[derive(Debug)]
pub(crate) struct PostgresConnection {
    /// The sqlx connection.
    pub(crate) conn: sqlx::PgConnection,
    /// The parameter types of its prepared statements.
    pub(crate) param_types: ParamTypes,
}

impl PostgresConnection {
    /// `conn`, with nothing prepared yet.
    pub(crate) fn new(conn: sqlx::PgConnection) -> Self {
        PostgresConnection {
            conn,
            param_types: ParamTypes::default(),
        }
    }
}

pub(crate) async fn dialect(
    _conn: &mut sqlx::PgConnection,
) -> Result<Arc<dyn Dialect>, sqlx::Error> {
    Ok(Arc::new(Postgres))
}

/// What a column's values become, from its type (the same for every row).
#[derive(Clone, Copy)]
pub(crate) enum Kind {
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

    fn kind_of(type_name: &str) -> Kind {
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

    #[inline]
    fn decode(kind: Kind, raw: PgValueRef<'_>, _row: &PgRow, i: usize) -> Result<Value, Error> {
        #[inline]
        fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres>>(
            raw: PgValueRef<'r>,
            i: usize,
        ) -> Result<T, Error> {
            T::decode(raw).map_err(|e| column_decode_err(&i.to_string(), i, e))
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
