//! ORM objects streamed in constant memory (SQLAlchemy's
//! `session.stream_scalars(select(Model))` / `yield_per`), on the
//! engine's row stream ([`Connection::stream`](crate::Connection::stream)).
//!
//! Each row is decoded, brought to the columns' types and built into its
//! object as the stream is polled; nothing accumulates. That is why the
//! objects do not enter the identity map (its snapshots would grow with
//! the result): the session keeps nothing of them, so to change one,
//! `merge` it (one SELECT, then an UPDATE of what differs) or use
//! [`bulk_update`](super::Session::bulk_update). Loader options are
//! refused (a relationship load needs the parents gathered first). The
//! session's connection is busy until the stream ends or is dropped.
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//! use persistence::prelude::*;
//! # #[derive(Debug, Clone)] struct Worker { id: Option<i64>, name: String }
//! # async fn demo(session: &mut Session) -> Result<(), Error> {
//! let mut workers = session.stream(orm::select::<Worker>()).await?;
//! while let Some(w) = workers.try_next().await? {
//!     println!("{}", w.name);                        // one object at a time
//! }
//! # Ok(()) }
//! ```

use std::pin::Pin;

use futures_util::{Stream, StreamExt};

use super::query::Select;
use super::session::{core_select, Session};
use crate::error::Error;

/// Objects of a query, built one at a time as the stream is polled.
pub type ObjectStream<'a, T> = Pin<Box<dyn Stream<Item = Result<T, Error>> + Send + 'a>>;

impl Session {
    /// Streams the objects of an ORM select, one at a time, in constant
    /// memory (see the [module docs](self)). Staged changes are flushed
    /// first.
    pub async fn stream<T: Send + 'static>(
        &mut self,
        stmt: Select<T>,
    ) -> Result<ObjectStream<'_, T>, Error> {
        self.check_usable()?;
        let mappers = self.mappers.clone();
        let info = mappers.mapper::<T>()?.info().clone();
        if let Some(load) = stmt.options.first() {
            return Err(Error::InvalidRequest {
                type_name: info.type_name,
                field: load.name.to_string(),
                message: "loader options do not apply to a stream: load the relationship \
                          with `scalars`, or stream the related objects"
                    .into(),
            });
        }
        // Deferred columns read `None` (a stream keeps no identity map to
        // load them from later).
        let deferred = stmt.deferral.positions(&info)?;
        let core = core_select(&info, stmt, &deferred)?;
        self.autoflush().await?;
        let conn = self.connection().await?;
        Ok(Box::pin(async_stream::try_stream! {
            let mapper = mappers.mapper::<T>()?;
            let width = info.columns.len();
            let mut rows = conn.stream(&core);
            while let Some(row) = rows.next().await {
                let mut values = row?.into_values();
                values.truncate(width);
                info.normalise(&mut values)?;
                yield mapper.build_take(&mut values)?;
            }
        }))
    }
}
