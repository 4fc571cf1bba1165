//! `Connection`: one checked-out database connection that executes statements.

use std::pin::Pin;

use dialects::{Compiled, Statement, StatementKind};
use futures_util::{Stream, StreamExt};

use super::engine::Engine;
use super::observe::statement;
use super::pool::PooledConnection;
use super::result::QueryResult;
use super::row::Row;
use super::transaction::{IsolationLevel, Transaction};
use crate::error::Error;

/// Rows of a query, decoded one at a time (constant memory).
pub type RowStream<'a> = Pin<Box<dyn Stream<Item = Result<Row, Error>> + Send + 'a>>;

/// A connection checked out of an [`Engine`]'s pool. Dropping it returns
/// it to the pool; with a transaction still open, that transaction is
/// rolled back first.
#[derive(Debug)]
pub struct Connection {
    engine: Engine,
    conn: PooledConnection,
}

impl Connection {
    pub(crate) fn new(engine: Engine, conn: PooledConnection) -> Self {
        Connection { engine, conn }
    }

    /// The engine this connection came from.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compiles `stmt` for this connection's dialect.
    pub fn compile<S: Statement + ?Sized>(&self, stmt: &S) -> Result<Compiled, Error> {
        Ok(stmt.compile(self.engine.dialect())?)
    }

    /// Compiles `stmt` for this backend and runs it. Every value is bound,
    /// never written into the SQL text.
    pub async fn execute<S: Statement + ?Sized>(&mut self, stmt: &S) -> Result<QueryResult, Error> {
        let compiled = stmt.compile(self.engine.dialect())?;
        self.execute_compiled(&compiled, stmt.kind()).await
    }

    /// Runs an already compiled statement.
    pub async fn execute_compiled(
        &mut self,
        compiled: &Compiled,
        kind: StatementKind,
    ) -> Result<QueryResult, Error> {
        let observer = self.engine.observer();
        let redact = observer.redact();
        statement!(
            &mut self.conn,
            observer,
            &compiled.sql,
            &compiled.params[..],
            |raw| { raw.execute(compiled, kind, redact) }
        )
    }

    /// Runs `sql` with `params` and returns the rows as bare values, for
    /// the ORM (no labels or [`Row`]s are built). Logged like
    /// [`Connection::execute_compiled`].
    pub(crate) async fn execute_values<P: crate::driver::Params + ?Sized>(
        &mut self,
        sql: &str,
        params: &P,
        kind: StatementKind,
    ) -> Result<crate::driver::ValueRows, Error> {
        let observer = self.engine.observer();
        let redact = observer.redact();
        let buffers = self.engine.buffers();
        statement!(&mut self.conn, observer, sql, params, |raw| {
            raw.execute_values(sql, params, kind, redact, buffers.take())
        })
    }

    /// Hands the buffer of `rows` back for the next
    /// [`Connection::execute_values`] to decode into.
    pub(crate) fn recycle(&self, rows: crate::driver::ValueRows) {
        self.engine.buffers().give(rows.values);
    }

    /// Runs the query `sql` with `params` for its first row only (a lookup
    /// by primary key), as bare values. Logged like
    /// [`Connection::execute_compiled`].
    pub(crate) async fn query_one(
        &mut self,
        sql: &str,
        params: &[dialects::Value],
    ) -> Result<Option<Vec<dialects::Value>>, Error> {
        let observer = self.engine.observer();
        let redact = observer.redact();
        statement!(&mut self.conn, observer, sql, params, |raw| {
            raw.query_one(sql, params, redact)
        })
    }

    /// Runs several statements in order, atomically: inside a transaction
    /// (a savepoint when one is open already). Statements with the same SQL
    /// reuse one prepared statement. Returns the rows changed in all.
    pub async fn execute_many<S: Statement>(&mut self, stmts: &[S]) -> Result<u64, Error> {
        let dialect = self.engine.dialect();
        let compiled: Vec<(Compiled, StatementKind)> = stmts
            .iter()
            .map(|s| Ok((s.compile(dialect)?, s.kind())))
            .collect::<Result<_, Error>>()?;
        let mut tx = self.begin().await?;
        let mut total = 0;
        for (c, kind) in &compiled {
            match tx.execute_compiled(c, *kind).await {
                Ok(r) => total += r.rows_affected(),
                Err(e) => {
                    // Roll back now rather than on drop, so the connection's
                    // state is settled when the error is returned.
                    let _ = tx.rollback().await;
                    return Err(e);
                }
            }
        }
        tx.commit().await?;
        Ok(total)
    }

    /// Streams the rows of a query one at a time, in constant memory. The
    /// connection is busy until the stream ends or is dropped.
    pub fn stream<'a, S: Statement + ?Sized>(&'a mut self, stmt: &'a S) -> RowStream<'a> {
        let engine = self.engine.clone();
        let compiled = match stmt.compile(self.engine.dialect()) {
            Ok(compiled) => compiled,
            Err(e) => {
                let e = Error::from(e);
                return Box::pin(futures_util::stream::once(async move { Err(e) }));
            }
        };
        let parent = self.conn.transaction_span().cloned();
        let sql = compiled.sql.clone();
        let params = if engine.observer().echo() && !engine.observer().redact() {
            compiled.params.clone()
        } else {
            Vec::new()
        };
        let redact = engine.observer().redact();
        let rows: RowStream<'a> = Box::pin(async_stream::try_stream! {
            self.conn.first_operation();
            let raw = self.conn.start()?;
            let mut rows = raw.stream(&compiled, redact);
            while let Some(row) = rows.next().await {
                yield row?;
            }
            drop(rows);
            self.conn.done(Ok(()))?;
        });
        Box::pin(super::observe::stream(
            engine.observer(),
            parent.as_ref(),
            &sql,
            &params,
            rows,
        ))
    }

    /// Begins a transaction (SQLAlchemy's `conn.begin()`), or a savepoint
    /// when one is already open. Commit it, or it rolls back when dropped.
    pub async fn begin(&mut self) -> Result<Transaction<'_>, Error> {
        let level = self.engine.options().isolation_level;
        Transaction::begin(self, level).await
    }

    /// Begins a transaction with an isolation level.
    pub async fn begin_with(&mut self, level: IsolationLevel) -> Result<Transaction<'_>, Error> {
        Transaction::begin(self, Some(level)).await
    }

    /// Begins a savepoint (`SAVEPOINT`), or a transaction when none is open
    /// (SQLAlchemy's `begin_nested()`).
    pub async fn begin_nested(&mut self) -> Result<Transaction<'_>, Error> {
        Transaction::begin(self, None).await
    }

    /// Whether a transaction is open on this connection.
    pub fn in_transaction(&self) -> bool {
        self.transaction_depth() > 0
    }

    /// Open transactions plus savepoints.
    pub fn transaction_depth(&self) -> usize {
        self.conn.raw_ref().map_or(0, |c| c.transaction_depth())
    }

    pub(crate) fn pooled(&mut self) -> &mut PooledConnection {
        &mut self.conn
    }
}
