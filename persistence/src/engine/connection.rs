//! `Connection`: one checked-out database connection that executes
//! statements, in SQLAlchemy 2's transaction model: the first statement
//! begins a transaction (autobegin), [`Connection::commit`] and
//! [`Connection::rollback`] end it, and one still open when the connection
//! is dropped or closed is rolled back. `begin()` gives an explicit
//! transaction guard instead, `begin_nested()` a savepoint; an engine with
//! [`EngineOptions::autocommit`](crate::EngineOptions::autocommit) never
//! autobegins.

use std::pin::Pin;

use dialects::sql::insert::Insert;
use dialects::{Compiled, Expr, ParamSet, Statement, StatementKind, Value};
use futures_util::{Stream, StreamExt};

use super::engine::Engine;
use super::observe::statement;
use super::pool::PooledConnection;
use super::result::QueryResult;
use super::row::Row;
use super::transaction::{IsolationLevel, Transaction};
use super::url::Backend;
use crate::error::Error;

/// How a single-row INSERT runs: its SQL, and where its key comes from.
struct InsertPlan {
    compiled: Compiled,
    /// How many columns the statement's own `RETURNING` has.
    asked: usize,
    /// The primary key's columns.
    pk: Vec<String>,
    /// The key values the statement gives, per primary-key column.
    given: Vec<Option<Value>>,
    /// Whether `RETURNING` of the key was added (after the statement's own).
    implicit_returning: bool,
    /// Whether the one generated key column is the driver's last insert id.
    last_id: bool,
}

/// Rows of a query, decoded one at a time (constant memory).
pub type RowStream<'a> = Pin<Box<dyn Stream<Item = Result<Row, Error>> + Send + 'a>>;

/// A connection checked out of an [`Engine`]'s pool. Dropping it returns
/// it to the pool; with a transaction still open, that transaction is
/// rolled back first.
///
/// Its first statement begins a transaction (SQLAlchemy 2's autobegin):
/// nothing it writes is kept unless [`Connection::commit`] is called.
///
/// ```no_run
/// # async fn demo(engine: persistence::Engine, worker: persistence::dialects::Table) -> Result<(), persistence::Error> {
/// use persistence::dialects::insert;
/// let mut conn = engine.connect().await?;
/// conn.execute(&insert(&worker).values([("name", "Vlad")])).await?;   // BEGIN, INSERT
/// conn.commit().await?;                                               // COMMIT: kept
/// conn.execute(&insert(&worker).values([("name", "Ann")])).await?;    // BEGIN, INSERT
/// drop(conn);                                                         // ROLLBACK: Ann is gone
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Connection {
    engine: Engine,
    conn: PooledConnection,
    /// Whether the open transaction was begun by a statement (autobegin)
    /// rather than by `begin()`; meaningful while a transaction is open.
    autobegun: bool,
    /// A transaction is open whose `BEGIN` is not sent yet: only plain
    /// reads ran in it (see `engine::deferred_begin`).
    begin_pending: bool,
    /// No autobegin: statements outside `begin()` commit on their own.
    autocommit: bool,
    /// A dropped guard queued a rollback that the driver may not have
    /// counted yet (SQLite's worker thread updates the depth it reports
    /// only when it gets to it).
    queued_rollback: bool,
}

impl Connection {
    pub(crate) fn new(engine: Engine, conn: PooledConnection) -> Self {
        let autocommit = engine.options().autocommit;
        Connection {
            engine,
            conn,
            autobegun: false,
            begin_pending: false,
            autocommit,
            queued_rollback: false,
        }
    }

    /// Notes that a dropped transaction guard queued a rollback.
    pub(crate) fn note_queued_rollback(&mut self) {
        self.queued_rollback = true;
    }

    /// Autobegin for the statement `sql` of `kind`: a plain read on a
    /// connection that may defer its `BEGIN` leaves it unsent (see
    /// `engine::deferred_begin`); anything else sends it
    /// first.
    async fn autobegin_for(&mut self, sql: &str, kind: StatementKind) -> Result<(), Error> {
        // Every statement is noted (one that may change the default
        // isolation level ends deferral on the connection for good).
        let plain = self
            .conn
            .raw_mut()
            .is_some_and(|raw| raw.note_statement(sql, kind));
        let read = plain && self.may_defer_begin();
        self.autobegin(read).await
    }

    /// Whether a transaction begun now may leave its `BEGIN` for later.
    fn may_defer_begin(&self) -> bool {
        !self.autocommit
            && matches!(
                self.engine.options().isolation_level,
                None | Some(IsolationLevel::ReadCommitted)
            )
            && self.conn.raw_ref().is_some_and(|raw| raw.may_defer_begin())
    }

    /// Opens the transaction of an owner that tracks it itself (the ORM
    /// session): its `BEGIN` waits for the first statement that is not a
    /// plain read where that is allowed, else it is sent now.
    pub(crate) async fn begin_deferred(&mut self) -> Result<(), Error> {
        if !self.begin_pending && !self.in_transaction() && self.may_defer_begin() {
            self.begin_pending = true;
            return Ok(());
        }
        super::transaction::begin_raw(self).await
    }

    /// Ends a transaction whose `BEGIN` was never sent; whether there was one.
    pub(crate) fn take_pending_begin(&mut self) -> bool {
        std::mem::take(&mut self.begin_pending)
    }

    /// Begins a transaction when none is open (autobegin); nothing in
    /// autocommit mode. A `read` (a plain read, where deferral applies)
    /// leaves the `BEGIN` unsent; anything else sends a pending one.
    async fn autobegin(&mut self, read: bool) -> Result<(), Error> {
        if std::mem::take(&mut self.queued_rollback) && self.engine.backend() == Backend::Sqlite {
            // Let SQLite's worker run the queued rollback, so that the
            // depth read below is current (commands run in order).
            let raw = self.conn.start()?;
            let pinged = raw.ping().await;
            self.conn.done(Ok(()))?;
            if let Err(e) = pinged {
                tracing::debug!(error = %e, "ping after a queued rollback failed");
            }
        }
        if self.begin_pending {
            if !read {
                self.begin_pending = false;
                super::transaction::begin_raw(self).await?;
            }
            return Ok(());
        }
        if self.autocommit || self.in_transaction() {
            return Ok(());
        }
        if read {
            self.begin_pending = true;
        } else {
            super::transaction::begin_raw(self).await?;
        }
        self.autobegun = true;
        Ok(())
    }

    /// Turns autocommit on or off for this connection (SQLAlchemy's
    /// `execution_options(isolation_level="AUTOCOMMIT")`): on, statements
    /// outside `begin()` commit on their own. A transaction already open
    /// stays open until committed or rolled back.
    pub fn set_autocommit(&mut self, on: bool) {
        self.autocommit = on;
    }

    /// Whether autocommit is on.
    pub fn autocommit(&self) -> bool {
        self.autocommit
    }

    /// Commits the open transaction, savepoints included (nothing when
    /// none is open). The next statement begins a new one.
    pub async fn commit(&mut self) -> Result<(), Error> {
        while self.in_transaction() {
            super::transaction::commit_raw(self).await?;
        }
        self.autobegun = false;
        Ok(())
    }

    /// Rolls back the open transaction, savepoints included (nothing when
    /// none is open).
    pub async fn rollback(&mut self) -> Result<(), Error> {
        while self.in_transaction() {
            super::transaction::rollback_raw(self).await?;
        }
        self.autobegun = false;
        Ok(())
    }

    /// Rolls back what is open and returns the connection to its pool
    /// (what dropping it does, with the rollback awaited here).
    pub async fn close(mut self) -> Result<(), Error> {
        self.rollback().await
    }

    /// The engine this connection came from.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The SQL and parameters this connection sends for `stmt`: what
    /// `stmt.compile(dialect)` gives, except that a single-row `INSERT`
    /// whose primary key the database generates gets `RETURNING` of that
    /// key where the driver cannot report it otherwise (PostgreSQL), for
    /// [`QueryResult::inserted_primary_key`].
    pub fn compile<S: Statement + ?Sized>(&self, stmt: &S) -> Result<Compiled, Error> {
        match stmt.as_insert().filter(|i| i.single_row().is_some()) {
            Some(ins) => Ok(self.plan_insert(ins)?.compiled),
            None => Ok(self.engine.compile_statement(stmt)?),
        }
    }

    /// Compiles `stmt` for this backend and runs it, beginning a
    /// transaction first when none is open. Every value is bound, never
    /// written into the SQL text. A single-row `INSERT` reports the key it
    /// inserted ([`QueryResult::inserted_primary_key`]).
    pub async fn execute<S: Statement + ?Sized>(&mut self, stmt: &S) -> Result<QueryResult, Error> {
        if let Some(ins) = stmt.as_insert().filter(|i| i.single_row().is_some()) {
            return self.execute_insert(ins).await;
        }
        let compiled = self.engine.compile_shared(stmt)?;
        let kind = stmt.kind();
        self.autobegin_for(&compiled.sql, kind).await?;
        self.run_sql(&compiled.sql, &compiled.params, kind).await
    }

    /// How a single-row INSERT runs and finds the key it inserted: the
    /// values it gives (client defaults computed first), then a generated
    /// one from the driver's last insert id (SQLite, MySQL: a lone
    /// auto-increment key), else with `RETURNING` added where the backend
    /// has it (the returned row is not part of the result).
    fn plan_insert(&self, ins: &Insert) -> Result<InsertPlan, Error> {
        let dialect = self.engine.dialect();
        let table = ins.table();
        let pk: Vec<&dialects::Column> = table.primary_key().collect();
        let ins = ins.with_client_defaults();
        let row = ins.single_row().unwrap_or(&[]);
        let given: Vec<Option<Value>> = pk
            .iter()
            .map(|c| {
                let at = ins.column_names().iter().position(|n| n == c.name())?;
                match row.get(at) {
                    Some(Expr::Value(v)) if !v.is_null() => Some(v.clone()),
                    _ => None,
                }
            })
            .collect();
        let missing: Vec<&dialects::Column> = pk
            .iter()
            .zip(&given)
            .filter(|(_, v)| v.is_none())
            .map(|(c, _)| *c)
            .collect();
        // (A statement that returns rows reports no last id on MariaDB.)
        let last_id = matches!(self.engine.backend(), Backend::Sqlite | Backend::MySql)
            && ins.returning_columns().is_empty()
            && missing.len() == 1
            && missing
                .iter()
                .all(|c| dialects::compiler::is_autoincrement(table, c));
        let implicit_returning = !pk.is_empty()
            && !missing.is_empty()
            && !last_id
            && dialect.features().insert_returning;
        let asked = ins.returning_columns().len();
        let compiled = if implicit_returning {
            // The key columns after what the statement returns itself.
            let mut cols = ins.returning_columns().to_vec();
            cols.extend(pk.iter().map(|c| table.c(c.name())));
            self.engine
                .compile_statement(&ins.as_ref().clone().returning(cols))?
        } else {
            self.engine.compile_statement(ins.as_ref())?
        };
        Ok(InsertPlan {
            compiled,
            asked,
            pk: pk.iter().map(|c| c.name().to_owned()).collect(),
            given,
            implicit_returning,
            last_id,
        })
    }

    /// A single-row INSERT, with the primary key of the row it inserted
    /// read back ([`Connection::plan_insert`]).
    async fn execute_insert(&mut self, ins: &Insert) -> Result<QueryResult, Error> {
        let plan = self.plan_insert(ins)?;
        let mut result = self
            .execute_compiled(&plan.compiled, StatementKind::Dml)
            .await?;
        if result.rows_affected == 0 {
            // MariaDB counts no affected rows for a statement that returns
            // rows; each row an INSERT returns is a row it inserted.
            result.rows_affected = result.rows.len() as u64;
        }
        if plan.pk.is_empty() {
            return Ok(result);
        }
        let key = if plan.implicit_returning {
            // The key is the tail of the returned row; the result keeps
            // what the statement asked for.
            let rows = std::mem::take(&mut result.rows);
            let mut key = None;
            let columns: std::sync::Arc<[std::sync::Arc<str>]> =
                result.columns.iter().take(plan.asked).cloned().collect();
            for row in rows {
                let mut values = row.into_values();
                let tail = values.split_off(plan.asked.min(values.len()));
                key.get_or_insert(tail);
                if plan.asked > 0 {
                    result.rows.push(Row::new(columns.clone(), values));
                }
            }
            result.columns = columns;
            key
        } else if result.rows_affected == 0 {
            // An upsert that inserted nothing.
            None
        } else {
            let returned = result.rows.first();
            let last_id = result.last_insert_id.filter(|_| plan.last_id);
            plan.pk
                .iter()
                .zip(plan.given)
                .map(|(name, v)| {
                    v.or_else(|| returned.and_then(|r| r.value(name.as_str()).ok().cloned()))
                        .or_else(|| last_id.map(Value::BigInt))
                })
                .collect::<Option<Vec<Value>>>()
        };
        result.inserted_primary_key = key;
        Ok(result)
    }

    /// Runs one statement with many parameter sets (SQLAlchemy's
    /// executemany): `insert(t)` without values takes each set as a row
    /// (sent as multi-row `VALUES`, as many rows per statement as the
    /// backend's parameter limit allows); any other statement is compiled
    /// once and run per set, each [`bindparam`](dialects::bindparam) (or
    /// unbound `:name` of a [`text`](dialects::text)) taking the set's
    /// value. The result sums the rows changed and holds every row
    /// returned. It runs in the connection's transaction (begun if none
    /// is open): nothing is committed by it.
    ///
    /// A set naming a parameter the statement does not have, or missing
    /// one without a default, is a [`CompileError`](dialects::CompileError)
    /// and nothing more runs.
    ///
    /// ```no_run
    /// # async fn demo(conn: &mut persistence::Connection, worker: persistence::dialects::Table) -> Result<(), persistence::Error> {
    /// use persistence::dialects::{bindparam, insert, update};
    /// conn.executemany(&insert(&worker), [[("name", "Vlad")], [("name", "Ann")]]).await?;
    /// let rename = update(&worker).set("name", bindparam("new")).where_(worker.c("name").eq(bindparam("old")));
    /// conn.executemany(&rename, [[("old", "Vlad"), ("new", "Vladimir")], [("old", "Ann"), ("new", "Anna")]]).await?;
    /// conn.commit().await?;
    /// # Ok(()) }
    /// ```
    pub async fn executemany<S, P>(
        &mut self,
        stmt: &S,
        sets: impl IntoIterator<Item = P>,
    ) -> Result<QueryResult, Error>
    where
        S: Statement + ?Sized,
        P: ParamSet,
    {
        let sets: Vec<Vec<(String, Value)>> = sets.into_iter().map(ParamSet::into_set).collect();
        if sets.is_empty() {
            return Ok(QueryResult::default());
        }
        if let Some(ins) = stmt.as_insert().filter(|i| i.has_no_values()) {
            return self.insert_many(ins, sets).await;
        }
        let prepared = stmt.compile_with_binds(self.engine.dialect())?;
        for set in &sets {
            if let Some((name, _)) = set
                .iter()
                .find(|(n, _)| !prepared.named.iter().any(|p| *p.name == **n))
            {
                return Err(Error::Compile(dialects::CompileError::Invalid(format!(
                    "a parameter set names `{name}`, which the statement has no placeholder for"
                ))));
            }
        }
        let kind = stmt.kind();
        let mut compiled = prepared.compiled.clone();
        let mut total = QueryResult::default();
        for set in &sets {
            compiled.params = prepared.bind(set)?;
            let r = self.execute_compiled(&compiled, kind).await?;
            total.absorb(r);
        }
        Ok(total)
    }

    /// `insert(t)` run with `sets` as its rows, in multi-row statements.
    async fn insert_many(
        &mut self,
        ins: &Insert,
        sets: Vec<Vec<(String, Value)>>,
    ) -> Result<QueryResult, Error> {
        let engine = self.engine.clone();
        let dialect = engine.dialect();
        let width = sets.first().map_or(1, Vec::len).max(1)
            + ins
                .table()
                .columns()
                .iter()
                .filter(|c| c.get_default().is_some())
                .count();
        let per_statement = (dialect.features().max_bind_params / width).clamp(1, 1000);
        if let Some(names) = uniform_names(ins, &sets) {
            let first = sets.len().min(per_statement);
            let template = row_template(ins, &names, first, dialect)?;
            if template.params.len() == first * names.len() {
                return self
                    .insert_rows(ins, &names, sets, per_statement, template)
                    .await;
            }
        }
        let mut total = QueryResult::default();
        let mut sets = sets.into_iter().peekable();
        while sets.peek().is_some() {
            let mut stmt = ins.clone();
            for set in sets.by_ref().take(per_statement) {
                stmt = stmt.values(set);
            }
            let compiled = stmt.compile(dialect)?;
            let r = self.execute_compiled(&compiled, StatementKind::Dml).await?;
            total.absorb(r);
        }
        Ok(total)
    }

    /// [`insert_many`](Connection::insert_many) when every set names the
    /// columns `names` in the same order and no column default is left to
    /// compute: the SQL of a statement of `per_statement` rows is compiled
    /// once (`template`, of the first statement's size) and each
    /// statement's parameters are the sets' values, moved in as they are
    /// (what compiling the rows would bind).
    async fn insert_rows(
        &mut self,
        ins: &Insert,
        names: &[String],
        sets: Vec<Vec<(String, Value)>>,
        per_statement: usize,
        template: Compiled,
    ) -> Result<QueryResult, Error> {
        let engine = self.engine.clone();
        let dialect = engine.dialect();
        let width = names.len();
        let mut compiled = template;
        let mut rows = compiled.params.len() / width.max(1);
        let mut total = QueryResult::default();
        let mut sets = sets.into_iter().peekable();
        while sets.peek().is_some() {
            let mut params = Vec::with_capacity(per_statement * width);
            let mut count = 0;
            for set in sets.by_ref().take(per_statement) {
                params.extend(set.into_iter().map(|(_, v)| v));
                count += 1;
            }
            if count != rows {
                compiled = row_template(ins, names, count, dialect)?;
                rows = count;
            }
            compiled.params = params;
            let r = self.execute_compiled(&compiled, StatementKind::Dml).await?;
            total.absorb(r);
        }
        Ok(total)
    }

    /// Runs an already compiled statement (beginning a transaction first
    /// when none is open).
    pub async fn execute_compiled(
        &mut self,
        compiled: &Compiled,
        kind: StatementKind,
    ) -> Result<QueryResult, Error> {
        self.autobegin_for(&compiled.sql, kind).await?;
        self.run_compiled(compiled, kind).await
    }

    /// Runs `stmt` without beginning a transaction (what a transaction's
    /// own set-up runs, such as MySQL's `SET TRANSACTION`).
    pub(crate) async fn execute_unbegun<S: Statement + ?Sized>(
        &mut self,
        stmt: &S,
    ) -> Result<QueryResult, Error> {
        let compiled = self.engine.compile_statement(stmt)?;
        self.run_compiled(&compiled, stmt.kind()).await
    }

    async fn run_compiled(
        &mut self,
        compiled: &Compiled,
        kind: StatementKind,
    ) -> Result<QueryResult, Error> {
        self.run_sql(&compiled.sql, &compiled.params, kind).await
    }

    /// Runs the compiled statement `sql` with `params` (no autobegin).
    async fn run_sql(
        &mut self,
        sql: &str,
        params: &[Value],
        kind: StatementKind,
    ) -> Result<QueryResult, Error> {
        let observer = self.engine.observer();
        let redact = observer.redact();
        statement!(&mut self.conn, observer, sql, params, |raw| {
            raw.execute(sql, params, kind, redact)
        })
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
        self.autobegin_for(sql, kind).await?;
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
        self.autobegin_for(sql, StatementKind::Query).await?;
        let observer = self.engine.observer();
        let redact = observer.redact();
        statement!(&mut self.conn, observer, sql, params, |raw| {
            raw.query_one(sql, params, redact)
        })
    }

    /// Runs several statements in order, atomically: inside a savepoint
    /// of the connection's transaction (begun if none is open), rolled
    /// back to when one fails. Statements with the same SQL reuse one
    /// prepared statement. Returns the rows changed in all. Nothing is
    /// committed: call [`Connection::commit`].
    pub async fn execute_many<S: Statement>(&mut self, stmts: &[S]) -> Result<u64, Error> {
        let dialect = self.engine.dialect();
        let compiled: Vec<(Compiled, StatementKind)> = stmts
            .iter()
            .map(|s| Ok((s.compile(dialect)?, s.kind())))
            .collect::<Result<_, Error>>()?;
        let mut tx = self.begin_nested().await?;
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
        let compiled = match self.engine.compile_statement(stmt) {
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
            self.autobegin(false).await?;
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

    /// Begins an explicit transaction (SQLAlchemy's `conn.begin()`):
    /// commit it, or it rolls back when dropped. On a transaction guard it
    /// opens a savepoint. On a connection whose transaction began by
    /// itself it is [`Error::TransactionInProgress`]: commit or roll back
    /// first, or use [`Connection::begin_nested`].
    pub async fn begin(&mut self) -> Result<Transaction<'_>, Error> {
        self.check_not_autobegun()?;
        let level = self.engine.options().isolation_level;
        Transaction::begin(self, level).await
    }

    /// Begins an explicit transaction with an isolation level.
    pub async fn begin_with(&mut self, level: IsolationLevel) -> Result<Transaction<'_>, Error> {
        self.check_not_autobegun()?;
        Transaction::begin(self, Some(level)).await
    }

    /// Begins a savepoint (`SAVEPOINT`, SQLAlchemy's `begin_nested()`):
    /// inside the open transaction, or inside one begun now (autobegin;
    /// in autocommit mode, a transaction of its own).
    pub async fn begin_nested(&mut self) -> Result<Transaction<'_>, Error> {
        self.autobegin(false).await?;
        Transaction::begin(self, None).await
    }

    fn check_not_autobegun(&self) -> Result<(), Error> {
        if self.autobegun && self.in_transaction() {
            return Err(Error::TransactionInProgress);
        }
        Ok(())
    }

    /// Whether a transaction is open on this connection (also one whose
    /// `BEGIN` is deferred, see `engine::deferred_begin`).
    pub fn in_transaction(&self) -> bool {
        self.begin_pending || self.transaction_depth() > 0
    }

    /// Open transactions plus savepoints, as the server has them (a
    /// transaction whose `BEGIN` is deferred is not counted).
    pub fn transaction_depth(&self) -> usize {
        self.conn.raw_ref().map_or(0, |c| c.transaction_depth())
    }

    pub(crate) fn pooled(&mut self) -> &mut PooledConnection {
        &mut self.conn
    }
}

/// The column names every one of `sets` gives, in the same order, when
/// `ins` may take them as rows as they are: no name twice and no column
/// default left for the compiler to compute (`None` otherwise).
fn uniform_names(ins: &Insert, sets: &[Vec<(String, Value)>]) -> Option<Vec<String>> {
    let names: Vec<String> = sets.first()?.iter().map(|(n, _)| n.clone()).collect();
    let twice = names
        .iter()
        .enumerate()
        .any(|(i, n)| names.iter().take(i).any(|m| m == n));
    if names.is_empty() || twice {
        return None;
    }
    let defaulted = ins
        .table()
        .columns()
        .iter()
        .any(|c| c.get_default().is_some() && !names.iter().any(|n| n == c.name()));
    if defaulted {
        return None;
    }
    let same = sets
        .iter()
        .all(|set| set.len() == names.len() && set.iter().zip(&names).all(|((n, _), m)| n == m));
    same.then_some(names)
}

/// `ins` with `rows` rows of NULLs in the columns `names`, compiled: the
/// SQL of a multi-row INSERT of that size, each row's values bound in
/// order.
fn row_template(
    ins: &Insert,
    names: &[String],
    rows: usize,
    dialect: &dyn dialects::Dialect,
) -> Result<Compiled, Error> {
    let template = vec![vec![Value::Null; names.len()]; rows];
    Ok(ins
        .clone()
        .rows(names.iter().cloned(), template)
        .compile(dialect)?)
}
