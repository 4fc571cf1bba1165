//! Drivers: the only modules that import sqlx. Each binds [`Value`]s as
//! arguments, decodes rows into [`Row`]s and maps its backend's errors to
//! [`ErrorKind`]s; the engine above sees none of sqlx.
//!
//! A `RawConnection` is one live connection of any backend; the pool
//! module owns them and hands them out.
//!
//! [`Value`]: dialects::Value
//! [`Row`]: crate::Row
//! [`ErrorKind`]: crate::ErrorKind

mod exec;
#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use dialects::{Compiled, Dialect, StatementKind, Value};
use futures_util::stream::BoxStream;

use crate::engine::result::QueryResult;
use crate::engine::row::Row;
use crate::engine::url::{Backend, DatabaseUrl};
use crate::error::{Error, ErrorKind, IntegrityKind};

/// How to open connections to one database.
#[derive(Debug, Clone)]
pub(crate) enum ConnectConfig {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::postgres::PgConnectOptions),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::sqlite::SqliteConnectOptions),
    #[cfg(feature = "mysql")]
    MySql(sqlx::mysql::MySqlConnectOptions),
}

/// One live connection of any backend.
#[derive(Debug)]
pub(crate) enum RawConnection {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgConnection),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqliteConnection),
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlConnection),
}

/// Runs `$body` with `$c` bound to the backend's sqlx connection, `DB` to
/// its sqlx database type, `BackendDriver` to its [`Driver`] and `backend`
/// to its driver module.
macro_rules! dispatch {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            #[cfg(feature = "postgres")]
            RawConnection::Postgres($c) => {
                #[allow(unused_imports)]
                use self::postgres as backend;
                #[allow(dead_code)]
                type BackendDriver = self::postgres::PostgresDriver;
                #[allow(dead_code)]
                type DB = sqlx::Postgres;
                $body
            }
            #[cfg(feature = "sqlite")]
            RawConnection::Sqlite($c) => {
                #[allow(unused_imports)]
                use self::sqlite as backend;
                #[allow(dead_code)]
                type BackendDriver = self::sqlite::SqliteDriver;
                #[allow(dead_code)]
                type DB = sqlx::Sqlite;
                $body
            }
            #[cfg(feature = "mysql")]
            RawConnection::MySql($c) => {
                #[allow(unused_imports)]
                use self::mysql as backend;
                #[allow(dead_code)]
                type BackendDriver = self::mysql::MySqlDriver;
                #[allow(dead_code)]
                type DB = sqlx::MySql;
                $body
            }
        }
    };
}

impl ConnectConfig {
    /// Parses `url` into connect options for its backend.
    pub(crate) fn from_url(url: &DatabaseUrl) -> Result<Self, Error> {
        match url.backend() {
            #[cfg(feature = "postgres")]
            Backend::Postgres => parse_options(url).map(ConnectConfig::Postgres),
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => sqlite::options(url).map(ConnectConfig::Sqlite),
            #[cfg(feature = "mysql")]
            Backend::MySql => parse_options(url).map(ConnectConfig::MySql),
            #[allow(unreachable_patterns)]
            other => Err(Error::UnsupportedScheme {
                scheme: format!("{} (feature not enabled in this build)", other.name()),
            }),
        }
    }

    /// Opens a connection, giving up after `timeout`.
    pub(crate) async fn connect(&self, timeout: Duration) -> Result<RawConnection, sqlx::Error> {
        use sqlx::ConnectOptions;
        let fut = async {
            Ok(match self {
                #[cfg(feature = "postgres")]
                ConnectConfig::Postgres(o) => RawConnection::Postgres(o.connect().await?),
                #[cfg(feature = "sqlite")]
                ConnectConfig::Sqlite(o) => RawConnection::Sqlite(o.connect().await?),
                #[cfg(feature = "mysql")]
                ConnectConfig::MySql(o) => RawConnection::MySql(o.connect().await?),
            })
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(result) => result,
            Err(_) => Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {timeout:?}"),
            ))),
        }
    }
}

impl RawConnection {
    /// The dialect of the server this connection talks to (MariaDB or MySQL
    /// is told from the server's version).
    pub(crate) async fn dialect(&mut self) -> Result<Arc<dyn Dialect>, sqlx::Error> {
        dispatch!(self, c => backend::dialect(c).await)
    }

    /// Runs a compiled statement.
    pub(crate) async fn execute(
        &mut self,
        compiled: &Compiled,
        kind: StatementKind,
        redact: bool,
    ) -> Result<QueryResult, Error> {
        let result = dispatch!(self, c => exec::execute::<BackendDriver>(c, compiled, kind).await);
        result.map_err(|e| e.into_error(compiled, redact))
    }

    /// Runs `sql` with `params` and returns the rows as bare values (no
    /// labels, no [`Row`]s), decoded into `buffer`: what the ORM reads.
    pub(crate) async fn execute_values<P: Params + ?Sized>(
        &mut self,
        sql: &str,
        params: &P,
        kind: StatementKind,
        redact: bool,
        buffer: Vec<Value>,
    ) -> Result<ValueRows, Error> {
        let result = dispatch!(self, c => {
            exec::execute_values::<BackendDriver, P>(c, sql, params, kind, buffer).await
        });
        result.map_err(|e| e.into_error_parts(sql, &params.to_vec(), redact))
    }

    /// Runs the query `sql` with `params` for its first row only (a lookup
    /// by primary key), as bare values.
    pub(crate) async fn query_one(
        &mut self,
        sql: &str,
        params: &[Value],
        redact: bool,
    ) -> Result<Option<Vec<Value>>, Error> {
        let result = dispatch!(self, c => exec::query_one::<BackendDriver>(c, sql, params).await);
        result.map_err(|e| e.into_error_parts(sql, params, redact))
    }

    /// Streams the rows of a compiled query.
    pub(crate) fn stream<'a>(
        &'a mut self,
        compiled: &'a Compiled,
        redact: bool,
    ) -> BoxStream<'a, Result<Row, Error>> {
        dispatch!(self, c => exec::stream::<BackendDriver>(c, compiled, redact))
    }

    /// Begins a transaction (with `statement` instead of `BEGIN` when
    /// given), or a savepoint inside an open one.
    pub(crate) async fn begin(&mut self, statement: Option<String>) -> Result<(), Error> {
        let backend_name = self.backend_name();
        dispatch!(self, c => exec::begin::<DB>(c, statement).await)
            .map_err(|e| statement_error(e, backend_name, "BEGIN"))
    }

    /// Commits the innermost transaction or savepoint.
    pub(crate) async fn commit(&mut self) -> Result<(), Error> {
        let backend_name = self.backend_name();
        dispatch!(self, c => exec::commit::<DB>(c).await)
            .map_err(|e| statement_error(e, backend_name, "COMMIT"))
    }

    /// Rolls back the innermost transaction or savepoint.
    pub(crate) async fn rollback(&mut self) -> Result<(), Error> {
        let backend_name = self.backend_name();
        dispatch!(self, c => exec::rollback::<DB>(c).await)
            .map_err(|e| statement_error(e, backend_name, "ROLLBACK"))
    }

    /// Queues a rollback of the innermost transaction, sent before the next statement.
    pub(crate) fn start_rollback(&mut self) {
        dispatch!(self, c => exec::start_rollback::<DB>(c))
    }

    /// Open transactions plus savepoints.
    pub(crate) fn transaction_depth(&self) -> usize {
        dispatch!(self, c => exec::depth::<DB>(c))
    }

    /// Checks the connection is alive.
    pub(crate) async fn ping(&mut self) -> Result<(), sqlx::Error> {
        dispatch!(self, c => exec::ping::<DB>(c).await)
    }

    /// Closes the connection.
    pub(crate) async fn close(self) -> Result<(), sqlx::Error> {
        dispatch!(self, c => exec::close::<DB>(c).await)
    }

    /// Whether the connection's socket belongs to the tokio runtime that
    /// opened it (SQLite connections live on a thread of their own).
    pub(crate) fn bound_to_runtime(&self) -> bool {
        !self.cancel_safe()
    }

    /// Whether an operation abandoned half-way (a cancelled future) leaves
    /// the connection usable: SQLite's worker thread finishes it alone.
    pub(crate) fn cancel_safe(&self) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            RawConnection::Sqlite(_) => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The backend's name.
    pub(crate) fn backend_name(&self) -> &'static str {
        dispatch!(self, _c => BackendDriver::NAME)
    }
}

/// A driver failure, before the statement's text is attached.
pub(crate) enum DriverError {
    /// The database rejected the statement.
    Database {
        kind: ErrorKind,
        code: Option<String>,
        message: String,
    },
    /// Anything else, already an engine error.
    Other(Error),
}

impl DriverError {
    pub(crate) fn into_error(self, compiled: &Compiled, redact: bool) -> Error {
        self.into_error_parts(&compiled.sql, &compiled.params, redact)
    }

    pub(crate) fn into_error_parts(self, sql: &str, params: &[Value], redact: bool) -> Error {
        match self {
            DriverError::Database {
                kind,
                code,
                message,
            } => Error::Database {
                kind,
                code,
                // Servers quote offending values in their messages.
                message: if redact {
                    crate::error::redact_message(&message, params)
                } else {
                    message
                },
                sql: sql.to_owned(),
                params: (!redact).then(|| params.to_vec()),
            },
            DriverError::Other(e) => e,
        }
    }
}

/// A failure of a transaction-control statement.
fn statement_error(e: sqlx::Error, backend: &'static str, sql: &str) -> Error {
    let compiled = Compiled {
        sql: sql.to_owned(),
        params: Vec::new(),
    };
    map_sqlx_error(e, backend, |_| ErrorKind::Other).into_error(&compiled, false)
}

/// Maps a sqlx error of any backend; `classify` reads backend codes.
pub(crate) fn map_sqlx_error(
    e: sqlx::Error,
    backend: &'static str,
    classify: fn(&dyn sqlx::error::DatabaseError) -> ErrorKind,
) -> DriverError {
    match e {
        sqlx::Error::Database(db) => {
            let kind = match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    ErrorKind::Integrity(IntegrityKind::Unique)
                }
                sqlx::error::ErrorKind::ForeignKeyViolation => {
                    ErrorKind::Integrity(IntegrityKind::ForeignKey)
                }
                sqlx::error::ErrorKind::NotNullViolation => {
                    ErrorKind::Integrity(IntegrityKind::NotNull)
                }
                sqlx::error::ErrorKind::CheckViolation => {
                    ErrorKind::Integrity(IntegrityKind::Check)
                }
                _ => classify(db.as_ref()),
            };
            DriverError::Database {
                kind,
                code: db.code().map(|c| c.into_owned()),
                message: db.message().to_owned(),
            }
        }
        sqlx::Error::ColumnDecode { index, source } => DriverError::Other(Error::Decode {
            column: index,
            message: source.to_string(),
        }),
        sqlx::Error::Decode(source) => DriverError::Other(Error::Decode {
            column: "?".into(),
            message: source.to_string(),
        }),
        sqlx::Error::Encode(source) => DriverError::Database {
            kind: ErrorKind::Data,
            code: None,
            message: source.to_string(),
        },
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => DriverError::Database {
            kind: ErrorKind::Operational,
            code: None,
            message: e.to_string(),
        },
        other => DriverError::Other(Error::Driver {
            backend,
            message: other.to_string(),
        }),
    }
}

/// The labels of a row's columns, shared by every row of a result.
pub(crate) fn labels<R: sqlx::Row>(row: &R) -> Arc<[Arc<str>]> {
    use sqlx::Column;
    row.columns().iter().map(|c| Arc::from(c.name())).collect()
}

/// A decode failure of column `column`.
pub(crate) fn decode_err(column: &str, e: impl std::fmt::Display) -> Error {
    Error::Decode {
        column: column.to_owned(),
        message: e.to_string(),
    }
}

/// The sqlx row of driver `D`'s backend.
pub(crate) type SqlxRow<D> = <<D as Driver>::Db as sqlx::Database>::Row;

/// What one sqlx backend does its own way: binding a value, telling from
/// a column's type what its values decode as, decoding a value, reading
/// error codes. The statement glue around it ([`exec::execute`],
/// [`exec::stream`], the sinks) is generic over this trait, so each
/// backend module reads as a list of its differences. Each is
/// monomorphized: no dynamic dispatch on the row-decoding path.
pub(crate) trait Driver: Sized + Send + Sync + 'static {
    /// The backend's sqlx database.
    type Db: sqlx::Database<Row: PositionalRow> + sqlx::database::HasStatementCache;
    /// What a column's values decode as, from its type (the same for
    /// every row of a result).
    type Kind: Copy + Send + Sync;
    /// The backend's name, for messages.
    const NAME: &'static str;
    /// Appends `value` to `args`.
    fn bind<'q>(
        args: &mut <Self::Db as sqlx::Database>::Arguments<'q>,
        value: &Value,
    ) -> Result<(), sqlx::error::BoxDynError>;
    /// What the values of a column of type `type_name` decode as.
    fn kind_of(type_name: &str) -> Self::Kind;
    /// Decodes `raw`, the value (never NULL) of column `i` of `row`.
    fn decode(
        kind: Self::Kind,
        raw: <Self::Db as sqlx::Database>::ValueRef<'_>,
        row: &SqlxRow<Self>,
        i: usize,
    ) -> Result<Value, Error>;
    /// The error kind of a database error, from the backend's codes.
    fn classify(db: &dyn sqlx::error::DatabaseError) -> ErrorKind;
    /// How many rows a statement's summary says it changed.
    fn rows_affected(done: &<Self::Db as sqlx::Database>::QueryResult) -> u64;
    /// The rowid of the last row inserted, where the backend reports it.
    fn last_insert_id(_done: &<Self::Db as sqlx::Database>::QueryResult) -> Option<i64> {
        None
    }
}

/// A sqlx row whose values are read by position (every backend's is; the
/// bound, on `usize`, is not one a [`Driver`] can carry itself).
pub(crate) trait PositionalRow: sqlx::Row {
    /// The raw value of column `i`.
    fn raw(
        &self,
        i: usize,
    ) -> Result<<Self::Database as sqlx::Database>::ValueRef<'_>, sqlx::Error>;
}

impl<R: sqlx::Row> PositionalRow for R
where
    usize: sqlx::ColumnIndex<R>,
{
    #[inline]
    fn raw(
        &self,
        i: usize,
    ) -> Result<<Self::Database as sqlx::Database>::ValueRef<'_>, sqlx::Error> {
        self.try_get_raw(i)
    }
}

/// Decodes the rows of one result. It is built from the result's first
/// row, so that what depends on the columns alone (their types, what to
/// decode them into) is worked out once per result, not once per row.
pub(crate) struct RowDecoder<D: Driver> {
    kinds: Vec<D::Kind>,
}

impl<D: Driver> RowDecoder<D> {
    /// The decoder for the result whose first row is `first`.
    pub(crate) fn new(first: &SqlxRow<D>) -> Self {
        use sqlx::{Column, Row as _, TypeInfo};
        RowDecoder {
            kinds: first
                .columns()
                .iter()
                .map(|c| D::kind_of(c.type_info().name()))
                .collect(),
        }
    }

    /// How many values a row has.
    pub(crate) fn width(&self) -> usize {
        self.kinds.len()
    }

    /// Appends one row's values to `out`.
    #[inline]
    pub(crate) fn decode_into(&self, row: &SqlxRow<D>, out: &mut Vec<Value>) -> Result<(), Error> {
        out.reserve(self.kinds.len());
        for (i, kind) in self.kinds.iter().enumerate() {
            out.push(decode_value::<D>(row, i, *kind)?);
        }
        Ok(())
    }

    /// One row's values.
    pub(crate) fn decode(&self, row: &SqlxRow<D>) -> Result<Vec<Value>, Error> {
        let mut out = Vec::with_capacity(self.width());
        self.decode_into(row, &mut out)?;
        Ok(out)
    }

    /// The values of the only row wanted (no decoder is kept for more).
    pub(crate) fn decode_single(row: &SqlxRow<D>) -> Result<Vec<Value>, Error> {
        use sqlx::{Column, Row as _, TypeInfo};
        let columns = row.columns();
        let mut out = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            out.push(decode_value::<D>(row, i, D::kind_of(c.type_info().name()))?);
        }
        Ok(out)
    }
}

/// The value of column `i` of `row`, decoded as `kind` (NULL of any kind
/// is [`Value::Null`]).
#[inline]
fn decode_value<D: Driver>(row: &SqlxRow<D>, i: usize, kind: D::Kind) -> Result<Value, Error> {
    use sqlx::ValueRef;
    let raw = row.raw(i).map_err(|e| decode_err(&i.to_string(), e))?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    D::decode(kind, raw, row, i)
}

/// A result's column labels and its decoder, both set up from its first row.
type Labelled<D> = (Arc<[Arc<str>]>, RowDecoder<D>);

/// Collects a result's rows, decoding each as the driver hands it over
/// (decoding overlaps the transfer; no sqlx row is kept).
pub(crate) struct RowSink<D: Driver> {
    state: Option<Labelled<D>>,
    rows: Vec<Row>,
}

impl<D: Driver> RowSink<D> {
    pub(crate) fn new() -> Self {
        RowSink {
            state: None,
            rows: Vec::new(),
        }
    }

    /// Decodes and keeps one row.
    pub(crate) fn push(&mut self, row: &SqlxRow<D>) -> Result<(), Error> {
        let (columns, decoder) = self
            .state
            .get_or_insert_with(|| (labels(row), RowDecoder::new(row)));
        let values = decoder.decode(row)?;
        self.rows.push(Row::new(columns.clone(), values));
        Ok(())
    }

    /// The result: the rows kept and `affected`.
    pub(crate) fn finish(self, affected: u64) -> QueryResult {
        QueryResult {
            columns: self
                .state
                .map_or_else(|| Arc::from(Vec::new()), |(columns, _)| columns),
            rows: self.rows,
            rows_affected: affected,
        }
    }
}

/// The parameters of a statement, in order: a slice of values, or the
/// sent fields of rows ([`RowParams`]), bound where they are.
pub(crate) trait Params: Sync {
    /// The values, in order.
    type Iter<'a>: Iterator<Item = &'a Value>
    where
        Self: 'a;
    /// How many values.
    fn count(&self) -> usize;
    /// The values, in order.
    fn values(&self) -> Self::Iter<'_>;
    /// The values, gathered (for messages and the echo log).
    fn to_vec(&self) -> Vec<Value> {
        self.values().cloned().collect()
    }
}

impl Params for [Value] {
    type Iter<'a> = std::slice::Iter<'a, Value>;
    fn count(&self) -> usize {
        self.len()
    }
    fn values(&self) -> Self::Iter<'_> {
        self.iter()
    }
}

impl Params for Vec<Value> {
    type Iter<'a> = std::slice::Iter<'a, Value>;
    fn count(&self) -> usize {
        self.len()
    }
    fn values(&self) -> Self::Iter<'_> {
        self.iter()
    }
}

/// The fields `columns` of each of `rows`, row after row: the parameters
/// of a multi-row INSERT, bound without being gathered first.
pub(crate) struct RowParams<'a> {
    pub rows: &'a [Vec<Value>],
    pub columns: &'a [usize],
}

impl Params for RowParams<'_> {
    type Iter<'a>
        = RowParamsIter<'a>
    where
        Self: 'a;
    fn count(&self) -> usize {
        self.rows.len() * self.columns.len()
    }
    fn values(&self) -> Self::Iter<'_> {
        RowParamsIter {
            rows: self.rows,
            columns: self.columns,
            row: 0,
            column: 0,
        }
    }
}

/// The values of [`RowParams`], row after row.
pub(crate) struct RowParamsIter<'a> {
    rows: &'a [Vec<Value>],
    columns: &'a [usize],
    row: usize,
    column: usize,
}

impl<'a> Iterator for RowParamsIter<'a> {
    type Item = &'a Value;

    #[inline]
    fn next(&mut self) -> Option<&'a Value> {
        if self.column == self.columns.len() {
            self.column = 0;
            self.row += 1;
        }
        let row = self.rows.get(self.row)?;
        let at = *self.columns.get(self.column)?;
        self.column += 1;
        row.get(at)
    }
}

/// The rows of a result as bare values, and how many rows it changed.
/// The values sit in one buffer, row after row (one allocation per
/// result, not one per row).
#[derive(Debug, Default)]
pub(crate) struct ValueRows {
    /// Every row's values, in column order, row after row.
    pub values: Vec<Value>,
    /// Values per row.
    pub width: usize,
    /// How many rows.
    pub count: usize,
    /// Rows changed (DML).
    pub affected: u64,
    /// The rowid of the last row inserted (SQLite's `last_insert_rowid()`
    /// after an INSERT), where the backend reports it.
    pub last_insert_id: Option<i64>,
}

impl ValueRows {
    /// How many rows.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// The rows, each a mutable slice of `width` values (for taking the
    /// values out).
    pub(crate) fn rows_mut(&mut self) -> std::slice::ChunksExactMut<'_, Value> {
        self.values.chunks_exact_mut(self.width.max(1))
    }

    /// The rows as vectors of their own.
    pub(crate) fn into_rows(self) -> Vec<Vec<Value>> {
        if self.width == 0 {
            return vec![Vec::new(); self.count];
        }
        self.values
            .chunks_exact(self.width)
            .map(<[Value]>::to_vec)
            .collect()
    }
}

/// Collects a result's rows as bare values (no labels, no [`Row`]s).
pub(crate) struct ValueSink<D: Driver> {
    decoder: Option<RowDecoder<D>>,
    values: Vec<Value>,
    count: usize,
}

impl<D: Driver> ValueSink<D> {
    /// A sink decoding into `buffer` (emptied first).
    pub(crate) fn new(mut buffer: Vec<Value>) -> Self {
        buffer.clear();
        ValueSink {
            decoder: None,
            values: buffer,
            count: 0,
        }
    }

    /// Decodes and keeps one row.
    pub(crate) fn push(&mut self, row: &SqlxRow<D>) -> Result<(), Error> {
        let decoder = self.decoder.get_or_insert_with(|| RowDecoder::new(row));
        decoder.decode_into(row, &mut self.values)?;
        self.count += 1;
        Ok(())
    }

    /// The result: the rows kept and `affected`.
    pub(crate) fn finish(self, affected: u64) -> ValueRows {
        ValueRows {
            width: self.decoder.as_ref().map_or(0, RowDecoder::width),
            values: self.values,
            count: self.count,
            affected,
            last_insert_id: None,
        }
    }
}

/// Streams decoded rows out of a sqlx row stream.
pub(crate) fn decode_stream<'a, D: Driver>(
    rows: BoxStream<'a, Result<SqlxRow<D>, sqlx::Error>>,
    compiled: &'a Compiled,
    redact: bool,
) -> BoxStream<'a, Result<Row, Error>> {
    use futures_util::StreamExt;
    let mut state: Option<Labelled<D>> = None;
    rows.map(move |item| {
        let row =
            item.map_err(|e| map_sqlx_error(e, D::NAME, D::classify).into_error(compiled, redact))?;
        let (columns, decoder) = state.get_or_insert_with(|| (labels(&row), RowDecoder::new(&row)));
        Ok(Row::new(columns.clone(), decoder.decode(&row)?))
    })
    .boxed()
}

/// A failure of [`exec::run`]: the driver's, or decoding a row.
pub(crate) enum RunError {
    Sqlx(sqlx::Error),
    Decode(Error),
}

impl From<sqlx::Error> for RunError {
    fn from(e: sqlx::Error) -> Self {
        RunError::Sqlx(e)
    }
}

impl From<Error> for RunError {
    fn from(e: Error) -> Self {
        RunError::Decode(e)
    }
}

impl RunError {
    /// The driver error, classified by `D`.
    pub(crate) fn into_driver<D: Driver>(self) -> DriverError {
        match self {
            RunError::Sqlx(e) => map_sqlx_error(e, D::NAME, D::classify),
            RunError::Decode(e) => DriverError::Other(e),
        }
    }
}

/// What [`sqlx::Row::try_get`] reports for a value `source` of column `i`
/// failed to decode, as an engine error naming `column`.
pub(crate) fn column_decode_err(column: &str, i: usize, source: sqlx::error::BoxDynError) -> Error {
    decode_err(
        column,
        sqlx::Error::ColumnDecode {
            index: format!("{i:?}"),
            source,
        },
    )
}

/// Decodes `raw`, the value of column `i` of `row`, as a `T`; a failure
/// names the column.
#[inline]
pub(crate) fn decode_named<'r, T, R>(
    raw: <R::Database as sqlx::Database>::ValueRef<'r>,
    row: &R,
    i: usize,
) -> Result<T, Error>
where
    R: sqlx::Row,
    T: sqlx::Decode<'r, R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    use sqlx::Column;
    T::decode(raw).map_err(|e| column_decode_err(row.column(i).name(), i, e))
}

/// The connect options `url` spells, with sqlx's own statement logging off.
pub(crate) fn parse_options<O: sqlx::ConnectOptions>(url: &DatabaseUrl) -> Result<O, Error> {
    let options: O = url
        .as_str()
        .parse()
        .map_err(|e: sqlx::Error| Error::InvalidUrl {
            url: url.redacted(),
            reason: e.to_string(),
        })?;
    Ok(options.log_statements(tracing::log::LevelFilter::Off))
}

/// A connect failure, naming the backend and the redacted URL.
pub(crate) fn connect_error(url: &DatabaseUrl, e: impl std::fmt::Display) -> Error {
    Error::Connect {
        backend: url.backend().name(),
        url: url.redacted(),
        message: e.to_string(),
    }
}
