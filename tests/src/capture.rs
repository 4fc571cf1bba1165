//! Captures the SQL an engine with `echo` on emits, to assert on it.

use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::subscriber::DefaultGuard;
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// The statements logged on this thread since [`SqlLog::start`].
#[derive(Clone, Default)]
pub struct SqlLog {
    statements: Arc<Mutex<Vec<String>>>,
}

struct Collect(Arc<Mutex<Vec<String>>>);

struct SqlField(Option<String>);

impl Visit for SqlField {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "sql" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl<S: Subscriber> Layer<S> for Collect {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == "persistence::echo" {
            let mut sql = SqlField(None);
            event.record(&mut sql);
            if let Some(s) = sql.0 {
                self.0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(s);
            }
        }
    }
}

impl SqlLog {
    /// Starts capturing on this thread; capture stops when the guard drops.
    pub fn start() -> (SqlLog, DefaultGuard) {
        let log = SqlLog::default();
        let subscriber = tracing_subscriber::registry().with(Collect(log.statements.clone()));
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
}
