//! The statement loop shared by the three sqlx drivers: execute, stream,
//! transactions, ping and close, generic over the sqlx database and the
//! [`Driver`] (what a backend does its own way). The connection calls
//! these through `dispatch!`, one monomorphized copy per backend.

use std::borrow::Cow;
use std::sync::Arc;

use dialects::{Compiled, StatementKind, Value};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::{Arguments as _, Connection as _, Database, Executor, TransactionManager};

use super::{
    decode_stream, Args, Conn, Driver, DriverError, Params, RowDecoder, RowSink, RunError,
    ValueRows, ValueSink,
};
use crate::engine::result::QueryResult;
use crate::engine::row::Row;
use crate::error::Error;

/// `params`, bound by `D`; a value the backend cannot take is a data error.
pub(crate) fn arguments<'q, D: Driver, P: Params + ?Sized>(
    params: &P,
) -> Result<Args<'q, D>, DriverError> {
    let mut args = Args::<'q, D>::default();
    args.reserve(params.count(), 0);
    for v in params.values() {
        D::bind(&mut args, v).map_err(|e| DriverError::data(D::NAME, e.to_string()))?;
    }
    Ok(args)
}

/// `params` bound for `sql` on `conn`: as the driver's `state` says
/// ([`Driver::arguments`]), else as the statement prepared on `conn`
/// declares ([`Driver::declared_arguments`]).
async fn bind<'q, D: Driver, P: Params + ?Sized>(
    conn: &mut Conn<D>,
    state: &mut D::State,
    sql: &str,
    kind: StatementKind,
    params: &P,
) -> Result<Args<'q, D>, DriverError> {
    match D::arguments(state, sql, kind, params)? {
        Some(args) => Ok(args),
        None => D::declared_arguments(conn, state, sql, params).await,
    }
}

/// Runs the statement `sql` with `params` on `conn`, keeping its rows with
/// their labels.
pub(crate) async fn execute<D: Driver>(
    conn: &mut Conn<D>,
    state: &mut D::State,
    sql: &str,
    params: &[Value],
    kind: StatementKind,
) -> Result<QueryResult, DriverError>
where
    for<'q> Args<'q, D>: sqlx::IntoArguments<'q, D::Db>,
    for<'c> &'c mut Conn<D>: Executor<'c, Database = D::Db>,
{
    let args = bind::<D, _>(conn, state, sql, kind, params).await?;
    let mut sink = RowSink::<D>::new();
    let mut last_insert_id = None;
    let affected = run::<D::Db>(
        conn,
        sql,
        args,
        kind,
        |done| {
            last_insert_id = D::last_insert_id(done).or(last_insert_id);
            D::rows_affected(done)
        },
        |row| sink.push(row),
    )
    .await
    .map_err(RunError::into_driver::<D>)?;
    let mut result = sink.finish(affected);
    result.last_insert_id = last_insert_id;
    if kind == StatementKind::Query && result.rows.is_empty() {
        // No row carries the labels; the query ran, so a failure here only
        // leaves `keys()` empty.
        if let Ok(columns) = columns::<D::Db>(conn, sql).await {
            result.columns = columns;
        }
    }
    Ok(result)
}

/// Runs `sql` with `params` on `conn`, keeping the rows as bare values
/// decoded into `buffer`.
pub(crate) async fn execute_values<D: Driver, P: Params + ?Sized>(
    conn: &mut Conn<D>,
    state: &mut D::State,
    sql: &str,
    params: &P,
    kind: StatementKind,
    buffer: Vec<Value>,
) -> Result<ValueRows, DriverError>
where
    for<'q> Args<'q, D>: sqlx::IntoArguments<'q, D::Db>,
    for<'c> &'c mut Conn<D>: Executor<'c, Database = D::Db>,
{
    let args = bind::<D, P>(conn, state, sql, kind, params).await?;
    let mut sink = ValueSink::<D>::new(buffer);
    let mut last_insert_id = None;
    let affected = run::<D::Db>(
        conn,
        sql,
        args,
        kind,
        |done| {
            last_insert_id = D::last_insert_id(done).or(last_insert_id);
            D::rows_affected(done)
        },
        |row| sink.push(row),
    )
    .await
    .map_err(RunError::into_driver::<D>)?;
    let mut result = sink.finish(affected);
    result.last_insert_id = last_insert_id;
    Ok(result)
}

/// Runs the query `sql` with `params` on `conn` for its first row only,
/// as bare values.
pub(crate) async fn query_one<D: Driver>(
    conn: &mut Conn<D>,
    state: &mut D::State,
    sql: &str,
    params: &[Value],
) -> Result<Option<Vec<Value>>, DriverError>
where
    for<'q> Args<'q, D>: sqlx::IntoArguments<'q, D::Db>,
    for<'c> &'c mut Conn<D>: Executor<'c, Database = D::Db>,
{
    let args = bind::<D, _>(conn, state, sql, StatementKind::Query, params).await?;
    run_one::<D::Db, _>(conn, sql, args, RowDecoder::<D>::decode_single)
        .await
        .map_err(RunError::into_driver::<D>)
}

/// Streams the decoded rows of a compiled query on `conn`.
pub(crate) fn stream<'a, D: Driver>(
    conn: &'a mut Conn<D>,
    state: &'a mut D::State,
    compiled: &'a Compiled,
    redact: bool,
) -> BoxStream<'a, Result<Row, Error>>
where
    for<'q> Args<'q, D>: sqlx::IntoArguments<'q, D::Db>,
    for<'c> &'c mut Conn<D>: Executor<'c, Database = D::Db>,
{
    let (sql, params) = (compiled.sql.as_str(), compiled.params.as_slice());
    let failed = move |e: DriverError| {
        futures_util::stream::once(async move { Err(e.into_error(compiled, redact)) }).boxed()
    };
    match D::arguments(state, sql, StatementKind::Query, params) {
        Ok(Some(args)) => decode_stream::<D>(fetch::<D::Db>(conn, sql, args), compiled, redact),
        // The types must be read from the connection first: one more await
        // before the first row.
        Ok(None) => futures_util::stream::once(async move {
            match D::declared_arguments(&mut *conn, state, sql, params).await {
                Ok(args) => decode_stream::<D>(fetch::<D::Db>(conn, sql, args), compiled, redact),
                Err(e) => failed(e),
            }
        })
        .flatten()
        .boxed(),
        Err(e) => failed(e),
    }
}

/// Runs `sql` with `args` on `conn`, handing each row it returns to
/// `on_row` as it arrives, and gives how many rows it changed (summed by
/// `affected` over the statement's summaries). Queries
/// fetch rows; DDL only executes; DML and text may do both (`RETURNING`),
/// so they read the full response stream.
pub(crate) async fn run<'q, DB>(
    conn: &mut DB::Connection,
    sql: &'q str,
    args: <DB as Database>::Arguments<'q>,
    kind: StatementKind,
    mut affected: impl FnMut(&DB::QueryResult) -> u64,
    mut on_row: impl FnMut(&DB::Row) -> Result<(), Error>,
) -> Result<u64, RunError>
where
    DB: Database + sqlx::database::HasStatementCache,
    <DB as Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let query = sqlx::query_with::<DB, _>(sql, args);
    match kind {
        StatementKind::Query => {
            // `fetch` is `fetch_many` with the summaries filtered out by one
            // more stream layer; reading `fetch_many` directly skips it.
            #[allow(deprecated)]
            let mut stream = query.fetch_many(&mut *conn);
            while let Some(item) = stream.try_next().await? {
                if let sqlx::Either::Right(row) = item {
                    on_row(&row)?;
                }
            }
            Ok(0)
        }
        StatementKind::Ddl => {
            let done = query.persistent(false).execute(&mut *conn).await?;
            Ok(affected(&done))
        }
        StatementKind::Dml | StatementKind::Text => {
            let mut count = 0;
            // `fetch_many` is deprecated only for several statements in one
            // string; here it is the one call that yields both the rows of a
            // RETURNING clause and the affected-row count.
            #[allow(deprecated)]
            let mut stream = query.fetch_many(&mut *conn);
            while let Some(item) = stream.try_next().await? {
                match item {
                    sqlx::Either::Left(done) => count += affected(&done),
                    sqlx::Either::Right(row) => on_row(&row)?,
                }
            }
            Ok(count)
        }
    }
}

/// Runs the query `sql` with `args` on `conn` for its first row only,
/// decoded by `decode` (a lookup by primary key: at most one row).
pub(crate) async fn run_one<'q, DB, T>(
    conn: &mut DB::Connection,
    sql: &'q str,
    args: <DB as Database>::Arguments<'q>,
    decode: impl FnOnce(&DB::Row) -> Result<T, Error>,
) -> Result<Option<T>, RunError>
where
    DB: Database,
    <DB as Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let row = sqlx::query_with::<DB, _>(sql, args)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(decode).transpose()?)
}

/// The labels of the columns `sql` returns, read from its prepared
/// statement (a statement-cache hit once `sql` has run): for results
/// without rows, where no row carries them.
pub(crate) async fn columns<DB>(
    conn: &mut DB::Connection,
    sql: &str,
) -> Result<Arc<[Arc<str>]>, sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    use sqlx::{Column, Statement};
    let statement = (&mut *conn).prepare(sql).await?;
    Ok(statement
        .columns()
        .iter()
        .map(|c| Arc::from(c.name()))
        .collect())
}

/// Streams the rows of `sql`, one at a time.
pub(crate) fn fetch<'q, DB>(
    conn: &'q mut DB::Connection,
    sql: &'q str,
    args: <DB as Database>::Arguments<'q>,
) -> BoxStream<'q, Result<DB::Row, sqlx::Error>>
where
    DB: Database,
    <DB as Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    sqlx::query_with::<DB, _>(sql, args).fetch(conn).boxed()
}

/// `BEGIN` (or the given statement), or a savepoint when a transaction is open.
pub(crate) async fn begin<DB: Database>(
    conn: &mut DB::Connection,
    statement: Option<String>,
) -> Result<(), sqlx::Error> {
    DB::TransactionManager::begin(conn, statement.map(Cow::Owned)).await
}

/// `COMMIT`, or releases the innermost savepoint.
pub(crate) async fn commit<DB: Database>(conn: &mut DB::Connection) -> Result<(), sqlx::Error> {
    DB::TransactionManager::commit(conn).await
}

/// `ROLLBACK`, or rolls back to the innermost savepoint.
pub(crate) async fn rollback<DB: Database>(conn: &mut DB::Connection) -> Result<(), sqlx::Error> {
    DB::TransactionManager::rollback(conn).await
}

/// Queues a rollback that is sent before the connection's next statement
/// (for guards dropped without commit; drop cannot wait).
pub(crate) fn start_rollback<DB: Database>(conn: &mut DB::Connection) {
    DB::TransactionManager::start_rollback(conn);
}

/// How many transactions and savepoints are open.
pub(crate) fn depth<DB: Database>(conn: &DB::Connection) -> usize {
    DB::TransactionManager::get_transaction_depth(conn)
}

/// Checks the connection is alive.
pub(crate) async fn ping<DB: Database>(conn: &mut DB::Connection) -> Result<(), sqlx::Error> {
    conn.ping().await
}

/// Closes the connection politely.
pub(crate) async fn close<DB: Database>(conn: DB::Connection) -> Result<(), sqlx::Error> {
    conn.close().await
}
