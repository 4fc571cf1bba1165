//! Captures the SQL an engine with `echo` on emits, and its transaction
//! events (`begin`, `commit`, `rollback`, `savepoint`: the BEGIN / COMMIT /
//! ROLLBACK / SAVEPOINT it sends), to assert on them.

use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::subscriber::DefaultGuard;
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// The statements logged on this thread since [`SqlLog::start`].
#[derive(Clone, Default)]
pub struct SqlLog {
    statements: Arc<Mutex<Vec<String>>>,
    transactions: Arc<Mutex<Vec<String>>>,
}

struct Collect {
    statements: Arc<Mutex<Vec<String>>>,
    transactions: Arc<Mutex<Vec<String>>>,
}

/// The value of one field of an event.
struct FieldOf(&'static str, Option<String>);

impl Visit for FieldOf {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == self.0 {
            self.1 = Some(format!("{value:?}"));
        }
    }
}

fn push(to: &Mutex<Vec<String>>, what: String) {
    to.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(what);
}

impl<S: Subscriber> Layer<S> for Collect {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let (name, to) = match event.metadata().target() {
            "persistence::echo" => ("sql", &self.statements),
            "persistence::transaction" => ("message", &self.transactions),
            _ => return,
        };
        let mut value = FieldOf(name, None);
        event.record(&mut value);
        if let Some(v) = value.1 {
            push(to, v);
        }
    }
}

impl SqlLog {
    /// Starts capturing on this thread; capture stops when the guard drops.
    pub fn start() -> (SqlLog, DefaultGuard) {
        let log = SqlLog::default();
        let subscriber = tracing_subscriber::registry().with(Collect {
            statements: log.statements.clone(),
            transactions: log.transactions.clone(),
        });
        let guard = tracing::subscriber::set_default(subscriber);
        (log, guard)
    }

    /// The statements captured so far, emptying the log.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .statements
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// The transaction events captured so far (`begin`, `commit`,
    /// `rollback`, `savepoint`, ...), emptying that log.
    pub fn take_transactions(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .transactions
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}
