//! `Connection`: one checked-out database connection that executes statements.

use std::time::Instant;

use dialects::{Compiled, Statement, StatementKind};

use super::engine::Engine;
use super::result::QueryResult;
use crate::driver::DriverConnection;
use crate::error::Error;

/// A connection checked out of an [`Engine`]'s pool. Dropping it returns
/// it to the pool.
#[derive(Debug)]
pub struct Connection {
    engine: Engine,
    conn: DriverConnection,
}

impl Connection {
    pub(crate) fn new(engine: Engine, conn: DriverConnection) -> Self {
        Connection { engine, conn }
    }

    /// The engine this connection came from.
    pub fn engine(&self) -> &Engine {
        &self.engine
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
        let options = self.engine.options();
        let (echo, redact) = (options.echo, options.redact_params);
        let start = Instant::now();
        let result = self.conn.execute(compiled, kind, redact).await;
        if echo {
            let elapsed = start.elapsed();
            if redact {
                tracing::info!(target: "persistence::echo", sql = %compiled.sql, ?elapsed, "execute");
            } else {
                tracing::info!(target: "persistence::echo", sql = %compiled.sql, params = ?compiled.params, ?elapsed, "execute");
            }
        }
        result
    }
}
