//! Instrumentation: a `tracing` span per statement and per transaction
//! (savepoints included), with OpenTelemetry's database attributes;
//! transaction events; echo; slow-statement warnings.
//!
//! | target | level | what |
//! |---|---|---|
//! | `persistence::statement` | INFO span `db.statement` | every statement: `db.system`, `db.name`, `server.address`, `db.operation`, `db.statement` (the SQL, cut to 2,000 characters; never values), `db.response.returned_rows`, `db.rows_affected`, `duration_us`, `otel.status_code` / `error.type` on failure |
//! | `persistence::transaction` | INFO span `db.transaction` | from `BEGIN` (or `SAVEPOINT`) to `COMMIT` / `ROLLBACK`; statements inside are its children; `db.transaction.outcome`, `duration_us` |
//! | `persistence::transaction` | INFO with echo, else DEBUG | `begin`, `commit`, `rollback` events |
//! | `persistence::echo` | INFO | with [`EngineOptions::echo`]: each statement's SQL, parameters (unless redacted) and duration |
//! | `persistence::slow` | WARN | a statement slower than [`EngineOptions::slow_statement_threshold`] |
//!
//! Spans are created only when a subscriber wants them, so an
//! application without one (or filtering these targets out) pays a
//! cached check per statement. With `tracing-opentelemetry`, the spans
//! export as OpenTelemetry client spans (`otel.kind = "client"`, named by
//! their operation through `otel.name`).
//!
//! [`EngineOptions::echo`]: crate::EngineOptions::echo
//! [`EngineOptions::slow_statement_threshold`]: crate::EngineOptions::slow_statement_threshold

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use dialects::Value;
use futures_util::Stream;
use tracing::field::Empty;
use tracing::Span;

use super::engine::EngineOptions;
use super::pool::PooledConnection;
use super::result::QueryResult;
use super::url::{Backend, DatabaseUrl};
use crate::driver::{Params, ValueRows};
use crate::error::{Bounded, Error};

/// At most this many characters of SQL go into a span.
const SQL_IN_SPAN: usize = 2_000;

/// What the instrumentation of one engine needs to know.
#[derive(Debug, Clone)]
pub(crate) struct Observer {
    /// OpenTelemetry's `db.system`: `postgresql`, `sqlite`, `mysql`, `mariadb`.
    system: &'static str,
    /// The database's name (`db.name`).
    name: String,
    /// The server's host (`server.address`), empty for SQLite.
    address: String,
    echo: bool,
    redact: bool,
    slow: Option<Duration>,
}

/// A transaction's (or savepoint's) span and when it began.
pub(crate) struct TransactionTrace {
    span: Span,
    start: Instant,
}

impl Observer {
    /// The observer of an engine on `url`, whose server is MariaDB when
    /// `mariadb`.
    pub(crate) fn new(url: &DatabaseUrl, mariadb: bool, options: &EngineOptions) -> Self {
        let system = match url.backend() {
            Backend::Postgres => "postgresql",
            Backend::Sqlite => "sqlite",
            Backend::MySql if mariadb => "mariadb",
            Backend::MySql => "mysql",
        };
        let (name, address) = match url.backend() {
            Backend::Sqlite => (
                url.as_str()
                    .trim_start_matches("sqlite:")
                    .trim_start_matches("//")
                    .split('?')
                    .next()
                    .unwrap_or("")
                    .to_owned(),
                String::new(),
            ),
            _ => match url::Url::parse(url.as_str()) {
                Ok(u) => (
                    u.path().trim_start_matches('/').to_owned(),
                    u.host_str().unwrap_or("").to_owned(),
                ),
                Err(_) => (String::new(), String::new()),
            },
        };
        Observer {
            system,
            name,
            address,
            echo: options.echo,
            redact: options.redact_params,
            slow: options.slow_statement,
        }
    }

    /// Whether statements are logged.
    pub(crate) fn echo(&self) -> bool {
        self.echo
    }

    /// Whether parameters are left out of errors and logs.
    pub(crate) fn redact(&self) -> bool {
        self.redact
    }

    /// A span for a statement running `sql`, inside `parent` (the open
    /// transaction's span) when given, else inside the current span.
    fn statement_span(&self, parent: Option<&Span>, sql: &str) -> Span {
        let span = tracing::info_span!(
            target: "persistence::statement",
            parent: parent.and_then(Span::id).or_else(|| Span::current().id()),
            "db.statement",
            otel.name = Empty,
            otel.kind = "client",
            db.system = self.system,
            db.name = %self.name,
            server.address = %self.address,
            db.operation = Empty,
            db.statement = Empty,
            db.response.returned_rows = Empty,
            db.rows_affected = Empty,
            duration_us = Empty,
            otel.status_code = Empty,
            error.type = Empty,
        );
        if !span.is_disabled() {
            let operation = operation(sql);
            span.record("otel.name", operation);
            span.record("db.operation", operation);
            span.record(
                "db.statement",
                tracing::field::display(Bounded(sql, SQL_IN_SPAN)),
            );
        }
        span
    }

    /// Whether a statement's duration is wanted.
    fn wants_timing(&self, span: &Span) -> bool {
        self.echo || self.slow.is_some() || !span.is_disabled()
    }

    /// Records how a statement ended: on its span, as an echo event, and
    /// as a warning when it was slow.
    fn finished<P: Params + ?Sized>(
        &self,
        span: &Span,
        sql: &str,
        params: &P,
        start: Option<Instant>,
        outcome: Result<(u64, u64), &Error>,
    ) {
        let elapsed = start.map(|s| s.elapsed());
        if !span.is_disabled() {
            if let Some(elapsed) = elapsed {
                span.record("duration_us", micros(elapsed));
            }
            match outcome {
                Ok((returned, affected)) => {
                    span.record("db.response.returned_rows", returned);
                    span.record("db.rows_affected", affected);
                }
                Err(e) => {
                    span.record("otel.status_code", "ERROR");
                    span.record("error.type", error_type(e));
                }
            }
        }
        let Some(elapsed) = elapsed else { return };
        if self.echo {
            span.in_scope(|| {
                if self.redact {
                    tracing::info!(target: "persistence::echo", sql = %sql, ?elapsed, "execute");
                } else {
                    let params: Vec<Value> = params.to_vec();
                    tracing::info!(target: "persistence::echo", sql = %sql, params = ?params, ?elapsed, "execute");
                }
            });
        }
        if self.slow.is_some_and(|limit| elapsed >= limit) {
            span.in_scope(|| {
                tracing::warn!(
                    target: "persistence::slow",
                    sql = %Bounded(sql, SQL_IN_SPAN),
                    ?elapsed,
                    "slow statement"
                );
            });
        }
    }

    /// A span for a transaction (or a savepoint, when `savepoint`) about to
    /// begin on `conn`, and its `begin` event.
    pub(crate) fn begin_transaction(
        &self,
        conn: &PooledConnection,
        savepoint: bool,
        isolation: Option<&str>,
    ) -> TransactionTrace {
        let parent = conn.transaction_span().and_then(Span::id);
        let span = tracing::info_span!(
            target: "persistence::transaction",
            parent: parent.or_else(|| Span::current().id()),
            "db.transaction",
            otel.kind = "client",
            db.system = self.system,
            db.name = %self.name,
            savepoint,
            isolation = isolation.unwrap_or("default"),
            db.transaction.outcome = Empty,
            duration_us = Empty,
        );
        span.in_scope(|| self.transaction_event(if savepoint { "savepoint" } else { "begin" }));
        TransactionTrace {
            span,
            start: Instant::now(),
        }
    }

    /// Ends a transaction's span with `outcome` (`commit`, `rollback`, or
    /// `rollback (dropped)`), with its event.
    pub(crate) fn end_transaction(&self, trace: TransactionTrace, outcome: &'static str, ok: bool) {
        let TransactionTrace { span, start } = trace;
        span.record(
            "db.transaction.outcome",
            if ok { outcome } else { "failed" },
        );
        span.record("duration_us", micros(start.elapsed()));
        span.in_scope(|| {
            if ok {
                self.transaction_event(outcome);
            } else {
                tracing::warn!(target: "persistence::transaction", "{outcome} failed");
            }
        });
    }

    fn transaction_event(&self, what: &str) {
        if self.echo {
            tracing::info!(target: "persistence::transaction", "{what}");
        } else {
            tracing::debug!(target: "persistence::transaction", "{what}");
        }
    }
}

impl TransactionTrace {
    /// The span, for running `BEGIN` / `COMMIT` inside it.
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }
}

/// The span of a flush of `objects` objects (for the ORM's session).
#[allow(dead_code)]
pub(crate) fn flush_span(observer: &Observer, objects: usize) -> Span {
    tracing::info_span!(
        target: "persistence::flush",
        "db.flush",
        db.system = observer.system,
        db.name = %observer.name,
        objects,
    )
}

/// A statement under way: its span and when it started.
pub(crate) struct StatementTrace {
    span: Span,
    start: Option<Instant>,
}

impl StatementTrace {
    /// The span, for running the statement inside it.
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }
}

impl Observer {
    /// Starts tracing statement `sql`, inside `parent` (the open
    /// transaction's span) when given.
    pub(crate) fn start_statement(&self, parent: Option<&Span>, sql: &str) -> StatementTrace {
        let span = self.statement_span(parent, sql);
        let start = self.wants_timing(&span).then(Instant::now);
        StatementTrace { span, start }
    }

    /// Records how the statement of `trace` ended.
    pub(crate) fn finish_statement<P: Params + ?Sized>(
        &self,
        trace: StatementTrace,
        sql: &str,
        params: &P,
        outcome: Result<(u64, u64), &Error>,
    ) {
        self.finished(&trace.span, sql, params, trace.start, outcome);
    }
}

/// Runs `$op` (a future using `$raw`, the raw connection) on the pooled
/// connection `$pooled` as the statement `$sql` with `$params`: in its
/// span, with the pool's reconnect policy ([`run!`](crate::engine::pool::run)),
/// logged when echo is on, warned about when slow. Evaluates to the
/// operation's `Result`, whose `Ok` value is an [`Outcome`].
macro_rules! statement {
    ($pooled:expr, $observer:expr, $sql:expr, $params:expr, |$raw:ident| $op:expr) => {{
        let pooled: &mut $crate::engine::pool::PooledConnection = $pooled;
        let observer: &$crate::engine::observe::Observer = $observer;
        let sql: &str = $sql;
        let trace = observer.start_statement(pooled.transaction_span(), sql);
        let op = async { $crate::engine::pool::run!(pooled, |$raw| $op) };
        // A disabled span (no subscriber wants it) is not entered around
        // each poll: the same future, awaited without the wrapper.
        let result = if trace.span().is_disabled() {
            op.await
        } else {
            tracing::Instrument::instrument(op, trace.span().clone()).await
        };
        observer.finish_statement(
            trace,
            sql,
            $params,
            result.as_ref().map($crate::engine::observe::Outcome::rows),
        );
        result
    }};
}
pub(crate) use statement;

/// A stream of rows inside its statement's span; echo logs it when it
/// starts, its span records how many rows it gave when it ends.
pub(crate) fn stream<'a, S>(
    observer: &Observer,
    parent: Option<&Span>,
    sql: &str,
    params: &[Value],
    rows: S,
) -> Spanned<S>
where
    S: Stream<Item = Result<super::row::Row, Error>> + Unpin + 'a,
{
    let span = observer.statement_span(parent, sql);
    let start = observer.wants_timing(&span).then(Instant::now);
    if observer.echo {
        // Logged when the query starts; its rows come later.
        observer.finished(&Span::none(), sql, params, Some(Instant::now()), Ok((0, 0)));
    }
    Spanned {
        inner: rows,
        span,
        start,
        rows: 0,
    }
}

/// A row stream running inside its span ([`stream`]).
pub(crate) struct Spanned<S> {
    inner: S,
    span: Span,
    start: Option<Instant>,
    rows: u64,
}

impl<S> Stream for Spanned<S>
where
    S: Stream<Item = Result<super::row::Row, Error>> + Unpin,
{
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let _entered = this.span.enter();
        let item = Pin::new(&mut this.inner).poll_next(cx);
        match &item {
            Poll::Ready(Some(Ok(_))) => this.rows += 1,
            Poll::Ready(Some(Err(e))) => {
                this.span.record("otel.status_code", "ERROR");
                this.span.record("error.type", error_type(e));
            }
            Poll::Ready(None) => {
                this.span.record("db.response.returned_rows", this.rows);
                if let Some(start) = this.start.take() {
                    this.span.record("duration_us", micros(start.elapsed()));
                }
            }
            Poll::Pending => {}
        }
        item
    }
}

/// What a statement's result says for its span: rows returned, rows changed.
pub(crate) trait Outcome {
    /// (rows returned, rows affected)
    fn rows(&self) -> (u64, u64);
}

impl Outcome for QueryResult {
    fn rows(&self) -> (u64, u64) {
        (self.len() as u64, self.rows_affected())
    }
}

impl Outcome for ValueRows {
    fn rows(&self) -> (u64, u64) {
        (self.count as u64, self.affected)
    }
}

impl Outcome for Option<Vec<Value>> {
    fn rows(&self) -> (u64, u64) {
        (u64::from(self.is_some()), 0)
    }
}

impl Outcome for () {
    fn rows(&self) -> (u64, u64) {
        (0, 0)
    }
}

/// The operation a statement performs (`SELECT`, `INSERT`, ...): its
/// first keyword (`WITH` for a statement led by a CTE).
fn operation(sql: &str) -> &'static str {
    let word = sql
        .trim_start_matches(|c: char| c.is_whitespace() || c == '(')
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    const KNOWN: [&str; 16] = [
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "WITH",
        "CREATE",
        "DROP",
        "ALTER",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE",
        "SET",
        "PRAGMA",
        "VALUES",
    ];
    KNOWN
        .iter()
        .find(|k| k.eq_ignore_ascii_case(word))
        .copied()
        .unwrap_or("OTHER")
}

/// OpenTelemetry's `error.type` of an engine error.
fn error_type(e: &Error) -> String {
    match e {
        Error::Database { kind, code, .. } => match code {
            Some(code) => format!("{kind:?}({code})"),
            None => format!("{kind:?}"),
        },
        other => {
            let debug = format!("{other:?}");
            debug
                .split(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or("Error")
                .to_owned()
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_first_keywords() {
        assert_eq!(operation("SELECT 1"), "SELECT");
        assert_eq!(operation("  insert into t values (1)"), "INSERT");
        assert_eq!(operation("WITH x AS (SELECT 1) SELECT * FROM x"), "WITH");
        assert_eq!(operation("(SELECT 1) UNION (SELECT 2)"), "SELECT");
        assert_eq!(operation("VACUUM"), "OTHER");
        assert_eq!(operation(""), "OTHER");
    }
}
