//! Drivers: the only modules that import sqlx (PostgreSQL, MySQL; the
//! crate depends on sqlx only with one of those features) or
//! rusqlite (SQLite). Each binds [`Value`]s as arguments, decodes rows into
//! [`Row`]s and maps its backend's errors to [`ErrorKind`]s; the engine
//! above sees neither.
//!
//! A `RawConnection` is one live connection of any backend; the pool
//! module owns them and hands them out.
//!
//! [`Value`]: dialects::Value
//! [`Row`]: crate::Row
//! [`ErrorKind`]: crate::ErrorKind

// No panic reachable from server data or user input: these lints keep
// `unwrap`, `expect`, indexing and slicing out of this module (tests aside).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented,
        clippy::string_slice
    )
)]
// The sqlx glue (the `Driver` trait, `exec`, the sinks) serves PostgreSQL
// and MySQL and is left out of a build with SQLite alone (which has no
// sqlx at all); what the engine passes down for sqlx's sake (statement
// kinds, error details) is unused there.
#![cfg_attr(
    not(any(feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_imports, unused_variables)
)]

#[cfg(any(feature = "postgres", feature = "mysql"))]
mod decode;
mod errors;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod exec;
#[cfg(any(feature = "mysql", feature = "sqlite"))]
mod messages;
#[cfg(feature = "mysql")]
pub mod mysql;
mod params;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod value_rows;

use std::sync::Arc;
use std::time::Duration;

use dialects::{Compiled, Dialect, StatementKind, Value};
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;

use crate::engine::engine::EngineOptions;
use crate::engine::result::QueryResult;
use crate::engine::row::Row;
use crate::engine::url::{Backend, DatabaseUrl};
use crate::error::{DatabaseDetail, Error, ErrorKind};

#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) use decode::{decode_stream, PositionalRow, RowDecoder, RowSink, ValueSink};
pub(crate) use errors::{connect_error, DriverError};
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) use errors::{map_sqlx_error, RunError};
pub(crate) use params::{Params, RowParams};
pub(crate) use value_rows::ValueRows;

/// Why a connection could not be opened, pinged or closed (the driver's
/// error, shown in messages).
pub(crate) type LinkError = Box<dyn std::error::Error + Send + Sync>;

/// How to open connections to one database.
#[derive(Debug, Clone)]
pub(crate) enum ConnectConfig {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::postgres::PgConnectOptions),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlite::SqliteConfig),
    #[cfg(feature = "mysql")]
    MySql(sqlx::mysql::MySqlConnectOptions),
    /// A build without any backend has no connect options.
    #[cfg(not(any(feature = "postgres", feature = "sqlite", feature = "mysql")))]
    #[allow(dead_code)]
    None(std::convert::Infallible),
}

/// One live connection of any backend.
#[derive(Debug)]
pub(crate) enum RawConnection {
    #[cfg(feature = "postgres")]
    Postgres(postgres::PostgresConnection),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlite::SqliteConnection),
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlConnection),
    /// A build without any backend has no connections.
    #[cfg(not(any(feature = "postgres", feature = "sqlite", feature = "mysql")))]
    #[allow(dead_code)]
    None(std::convert::Infallible),
}

/// Runs `$body` with `$c` bound to the backend's sqlx connection, `$s`
/// (when named) to the driver's state for it ([`Driver::State`]), `DB` to
/// its sqlx database type, `BackendDriver` to its [`Driver`] and `backend`
/// to its driver module; on SQLite, runs `$lite` with `$q` bound to the
/// [`sqlite::SqliteConnection`].
macro_rules! dispatch {
    ($conn:expr, $c:ident => $body:expr, sqlite $q:ident => $lite:expr) => {
        dispatch!($conn, $c, _state => $body, sqlite $q => $lite)
    };
    ($conn:expr, $c:ident, $s:ident => $body:expr, sqlite $q:ident => $lite:expr) => {
        match $conn {
            #[cfg(feature = "postgres")]
            RawConnection::Postgres(postgres::PostgresConnection {
                conn: $c,
                param_types: $s,
                ..
            }) => {
                #[allow(unused_imports)]
                use self::postgres as backend;
                #[allow(dead_code)]
                type BackendDriver = self::postgres::PostgresDriver;
                #[allow(dead_code)]
                type DB = sqlx::Postgres;
                $body
            }
            #[cfg(feature = "sqlite")]
            #[allow(unused_variables)]
            RawConnection::Sqlite($q) => $lite,
            #[cfg(feature = "mysql")]
            RawConnection::MySql($c) => {
                #[allow(unused_variables)]
                let $s = no_state();
                #[allow(unused_imports)]
                use self::mysql as backend;
                #[allow(dead_code)]
                type BackendDriver = self::mysql::MySqlDriver;
                #[allow(dead_code)]
                type DB = sqlx::MySql;
                $body
            }
            #[cfg(not(any(feature = "postgres", feature = "sqlite", feature = "mysql")))]
            RawConnection::None(never) => no_backend(never),
        }
    };
}

/// The value of a connection that cannot exist (a build without backends).
#[cfg(not(any(feature = "postgres", feature = "sqlite", feature = "mysql")))]
fn no_backend<T>(never: impl std::borrow::Borrow<std::convert::Infallible>) -> T {
    match *never.borrow() {}
}

impl ConnectConfig {
    /// Parses `url` into connect options for its backend, with the
    /// engine's `options` (SQLite's pragmas).
    pub(crate) fn from_url(url: &DatabaseUrl, options: &EngineOptions) -> Result<Self, Error> {
        let _ = options;
        match url.backend() {
            #[cfg(feature = "postgres")]
            Backend::Postgres => parse_options(url, url.as_str()).map(ConnectConfig::Postgres),
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => {
                sqlite::SqliteConfig::from_url(url, &options.sqlite).map(ConnectConfig::Sqlite)
            }
            #[cfg(feature = "mysql")]
            Backend::MySql => parse_options(url, url.as_str()).map(ConnectConfig::MySql),
            #[allow(unreachable_patterns)]
            other => Err(Error::UnsupportedScheme {
                scheme: format!("{} (feature not enabled in this build)", other.name()),
            }),
        }
    }

    /// Opens a connection, giving up after `timeout`.
    pub(crate) async fn connect(&self, timeout: Duration) -> Result<RawConnection, LinkError> {
        #[cfg(any(feature = "postgres", feature = "mysql"))]
        use sqlx::ConnectOptions;
        let fut = async {
            Ok(match self {
                #[cfg(feature = "postgres")]
                ConnectConfig::Postgres(o) => RawConnection::Postgres(
                    postgres::PostgresConnection::open(o.connect().await?).await?,
                ),
                #[cfg(feature = "sqlite")]
                ConnectConfig::Sqlite(o) => {
                    RawConnection::Sqlite(sqlite::SqliteConnection::open(o).await?)
                }
                #[cfg(feature = "mysql")]
                ConnectConfig::MySql(o) => RawConnection::MySql(o.connect().await?),
                #[cfg(not(any(feature = "postgres", feature = "sqlite", feature = "mysql")))]
                ConnectConfig::None(never) => no_backend(never),
            })
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(result) => result,
            Err(_) => Err(Box::new(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {timeout:?}"),
            ))),
        }
    }
}

impl RawConnection {
    /// The dialect of the server this connection talks to (MariaDB or MySQL
    /// is told from the server's version).
    pub(crate) async fn dialect(&mut self) -> Result<Arc<dyn Dialect>, LinkError> {
        dispatch!(self, c => backend::dialect(c).await.map_err(LinkError::from),
            sqlite q => Ok(sqlite::SqliteConnection::dialect()))
    }

    /// Runs the compiled statement `sql` with `params`.
    pub(crate) async fn execute(
        &mut self,
        sql: &str,
        params: &[Value],
        kind: StatementKind,
        redact: bool,
    ) -> Result<QueryResult, Error> {
        let result: Result<_, DriverError> = dispatch!(self, c, s => exec::execute::<BackendDriver>(c, s, sql, params, kind).await,
                sqlite q => q.execute(sql, params).await);
        result.map_err(|e| e.into_error_parts(sql, params, redact))
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
        let result: Result<_, DriverError> = dispatch!(self, c, s => {
            exec::execute_values::<BackendDriver, P>(c, s, sql, params, kind, buffer).await
        }, sqlite q => q.execute_values(sql, params, buffer).await);
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
        let result: Result<_, DriverError> = dispatch!(self, c, s => exec::query_one::<BackendDriver>(c, s, sql, params).await,
                sqlite q => q.query_one(sql, params).await);
        result.map_err(|e| e.into_error_parts(sql, params, redact))
    }

    /// Streams the rows of a compiled query.
    pub(crate) fn stream<'a>(
        &'a mut self,
        compiled: &'a Compiled,
        redact: bool,
    ) -> BoxStream<'a, Result<Row, Error>> {
        dispatch!(self, c, s => exec::stream::<BackendDriver>(c, s, compiled, redact),
        sqlite q => {
            use futures_util::StreamExt;
            q.stream(&compiled.sql, &compiled.params)
                .map(move |row| row.map_err(|e| e.into_error(compiled, redact)))
                .boxed()
        })
    }

    /// Whether a transaction's `BEGIN` may wait until its first statement
    /// that is not a plain read (see `engine::deferred_begin`): PostgreSQL
    /// whose transactions default to `READ COMMITTED`.
    pub(crate) fn may_defer_begin(&self) -> bool {
        match self {
            #[cfg(feature = "postgres")]
            RawConnection::Postgres(c) => c.read_committed,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Notes a statement about to run: on PostgreSQL, one that could change
    /// the default isolation level (text other than a plain read, a
    /// function call) ends
    /// [`RawConnection::may_defer_begin`] for this connection. Whether
    /// `sql` is a plain read that may run before a deferred `BEGIN`.
    pub(crate) fn note_statement(&mut self, sql: &str, kind: StatementKind) -> bool {
        match self {
            #[cfg(feature = "postgres")]
            RawConnection::Postgres(c) if c.read_committed => {
                // Schema statements (CREATE, DROP, ALTER of schema objects)
                // change no setting; text may (`SET`) unless it is one
                // SELECT; any statement may through a function.
                if kind == StatementKind::Ddl {
                    return false;
                }
                let scan = crate::engine::deferred_begin::scan(sql);
                let may_change = match kind {
                    StatementKind::Text => !scan.select || scan.calls_other_function,
                    _ => scan.calls_other_function,
                };
                if may_change {
                    c.read_committed = false;
                }
                kind == StatementKind::Query && scan.plain_read
            }
            _ => {
                let _ = (sql, kind);
                false
            }
        }
    }

    /// Begins a transaction (with `statement` instead of `BEGIN` when
    /// given), or a savepoint inside an open one. A failure is classified
    /// like any statement's.
    pub(crate) async fn begin(&mut self, statement: Option<String>) -> Result<(), Error> {
        let sql = match (&statement, self.transaction_depth()) {
            (Some(s), _) => s.clone(),
            (None, 0) => "BEGIN".to_owned(),
            (None, _) => "SAVEPOINT".to_owned(),
        };
        let result: Result<(), DriverError> = dispatch!(self, c => {
            exec::begin::<DB>(c, statement).await.map_err(map_sqlx_error::<BackendDriver>)
        }, sqlite q => q.begin(statement).await);
        result.map_err(|e| e.into_error_parts(&sql, &[], false))
    }

    /// Commits the innermost transaction or savepoint.
    ///
    /// A `COMMIT` that fails (a serialization failure, `SQLITE_BUSY`) is
    /// followed by a rollback, so that the connection is out of the
    /// transaction whatever the server did with it (PostgreSQL ends it,
    /// SQLite keeps it open); when that rollback fails too, the error says
    /// the connection is invalidated and the pool discards it.
    pub(crate) async fn commit(&mut self) -> Result<(), Error> {
        let depth = self.transaction_depth();
        let sql = if depth > 1 {
            "RELEASE SAVEPOINT"
        } else {
            "COMMIT"
        };
        let result: Result<(), DriverError> = dispatch!(self, c => {
            exec::commit::<DB>(c).await.map_err(map_sqlx_error::<BackendDriver>)
        }, sqlite q => q.commit().await);
        let Err(e) = result else { return Ok(()) };
        let settled = e.is_invalidated()
            || self.transaction_depth() < depth
            || self.rollback_driver().await.is_ok();
        let e = if settled { e } else { e.invalidated() };
        Err(e.into_error_parts(sql, &[], false))
    }

    /// Rolls back the innermost transaction or savepoint.
    pub(crate) async fn rollback(&mut self) -> Result<(), Error> {
        let sql = if self.transaction_depth() > 1 {
            "ROLLBACK TO SAVEPOINT"
        } else {
            "ROLLBACK"
        };
        self.rollback_driver()
            .await
            .map_err(|e| e.into_error_parts(sql, &[], false))
    }

    async fn rollback_driver(&mut self) -> Result<(), DriverError> {
        dispatch!(self, c => {
            exec::rollback::<DB>(c).await.map_err(map_sqlx_error::<BackendDriver>)
        }, sqlite q => q.rollback().await)
    }

    /// Queues a rollback of the innermost transaction, sent before the next statement.
    pub(crate) fn start_rollback(&mut self) {
        dispatch!(self, c => exec::start_rollback::<DB>(c), sqlite q => q.start_rollback())
    }

    /// Open transactions plus savepoints.
    pub(crate) fn transaction_depth(&self) -> usize {
        dispatch!(self, c => exec::depth::<DB>(c), sqlite q => q.depth())
    }

    /// Checks the connection is alive.
    pub(crate) async fn ping(&mut self) -> Result<(), LinkError> {
        dispatch!(self, c => exec::ping::<DB>(c).await.map_err(LinkError::from),
            sqlite q => q.ping().await)
    }

    /// Closes the connection.
    pub(crate) async fn close(self) -> Result<(), LinkError> {
        dispatch!(self, c => exec::close::<DB>(c).await.map_err(LinkError::from),
            sqlite q => q.close().await)
    }

    /// Whether the connection's socket belongs to the tokio runtime that
    /// opened it (SQLite connections live on a thread of their own).
    pub(crate) fn bound_to_runtime(&self) -> bool {
        !self.cancel_safe()
    }

    /// Whether an operation abandoned half-way (a cancelled future) leaves
    /// the connection usable: SQLite's connection thread finishes it alone.
    pub(crate) fn cancel_safe(&self) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            RawConnection::Sqlite(_) => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }
}

/// The state of a driver that keeps none, borrowed for as long as the
/// connection is (a box of `()` allocates nothing).
#[cfg(feature = "mysql")]
fn no_state() -> &'static mut () {
    Box::leak(Box::new(()))
}

/// The sqlx row of driver `D`'s backend.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) type SqlxRow<D> = <<D as Driver>::Db as sqlx::Database>::Row;

/// The sqlx connection of driver `D`'s backend.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) type Conn<D> = <<D as Driver>::Db as sqlx::Database>::Connection;

/// The sqlx arguments of driver `D`'s backend.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) type Args<'q, D> = <<D as Driver>::Db as sqlx::Database>::Arguments<'q>;

/// What one sqlx backend does its own way: binding a statement's values
/// (PostgreSQL: as the types its prepared statement declares), telling from
/// a column's type what its values decode as, decoding a value, reading
/// error codes. The statement glue around it ([`exec::execute`],
/// [`exec::stream`], the sinks) is generic over this trait, so each
/// backend module reads as a list of its differences. Each is
/// monomorphized: no dynamic dispatch on the row-decoding path.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) trait Driver: Sized + Send + Sync + 'static {
    /// The backend's sqlx database.
    type Db: sqlx::Database<Row: PositionalRow> + sqlx::database::HasStatementCache;
    /// What a column's values decode as, from its type (the same for
    /// every row of a result).
    type Kind: Copy + Send + Sync;
    /// What the driver keeps per connection beside the sqlx connection:
    /// PostgreSQL's parameter types of its prepared statements; nothing
    /// (`()`) for the others.
    type State: Send + Sync;
    /// The backend's name, for messages.
    const NAME: &'static str;
    /// `params` bound for `sql`, a statement of `kind`, from what `state`
    /// knows; `None` when their types must first be read from the
    /// statement prepared on the connection
    /// ([`Driver::declared_arguments`]). By default each value is bound
    /// by [`Driver::bind`]; a value the backend cannot take is a data
    /// error.
    fn arguments<'q, P: Params + ?Sized>(
        _state: &mut Self::State,
        _sql: &str,
        _kind: StatementKind,
        params: &P,
    ) -> Result<Option<Args<'q, Self>>, DriverError> {
        exec::arguments::<Self, P>(params).map(Some)
    }
    /// `params` bound for `sql` as the statement prepared on `conn`
    /// declares them, when [`Driver::arguments`] gave `None` (which by
    /// default it never does). Boxed: it runs seldom, and a boxed future
    /// keeps the callers' futures `Send` for every lifetime.
    fn declared_arguments<'a, 'q: 'a, P: Params + ?Sized>(
        _conn: &'a mut Conn<Self>,
        _state: &'a mut Self::State,
        _sql: &'a str,
        params: &'a P,
    ) -> BoxFuture<'a, Result<Args<'q, Self>, DriverError>> {
        Box::pin(std::future::ready(exec::arguments::<Self, P>(params)))
    }
    /// Appends `value` to `args`.
    fn bind<'q>(
        args: &mut <Self::Db as sqlx::Database>::Arguments<'q>,
        value: &Value,
    ) -> Result<(), sqlx::error::BoxDynError>;
    /// What the values of a column of type `type_info` decode as.
    fn kind_of(type_info: &<Self::Db as sqlx::Database>::TypeInfo) -> Self::Kind;
    /// Decodes `raw`, the value (never NULL) of column `i` of `row`.
    fn decode(
        kind: Self::Kind,
        raw: <Self::Db as sqlx::Database>::ValueRef<'_>,
        row: &SqlxRow<Self>,
        i: usize,
    ) -> Result<Value, Error>;
    /// The error kind of a database error, from the backend's codes.
    fn classify(db: &dyn sqlx::error::DatabaseError) -> ErrorKind;
    /// What a database error names (constraint, table, column), whether
    /// it means the connection is gone, and whether concurrent work got
    /// in the way. By default, what sqlx reads generically.
    fn detail(db: &dyn sqlx::error::DatabaseError) -> DatabaseDetail {
        DatabaseDetail {
            constraint: db.constraint().map(str::to_owned),
            table: db.table().map(str::to_owned),
            ..DatabaseDetail::default()
        }
    }
    /// How many rows a statement's summary says it changed.
    fn rows_affected(done: &<Self::Db as sqlx::Database>::QueryResult) -> u64;
    /// The rowid of the last row inserted, where the backend reports it.
    fn last_insert_id(_done: &<Self::Db as sqlx::Database>::QueryResult) -> Option<i64> {
        None
    }
}

/// The connect options `text` (the driver's form of `url`) spells, with
/// sqlx's own statement logging off.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn parse_options<O: sqlx::ConnectOptions>(
    url: &DatabaseUrl,
    text: &str,
) -> Result<O, Error> {
    let options: O = text.parse().map_err(|e: sqlx::Error| Error::InvalidUrl {
        url: url.redacted(),
        reason: url.scrub(&e.to_string()),
    })?;
    Ok(options.log_statements(tracing::log::LevelFilter::Off))
}
