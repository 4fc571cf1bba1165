//! ORM `INSERT ... RETURNING` and `UPDATE ... RETURNING` that give back
//! mapped objects (SQLAlchemy's `session.scalars(insert(Model).returning(
//! Model), [dicts])` and `update(Model).returning(Model)`).
//!
//! The objects come back built from the rows as the database stored them
//! (generated keys, server defaults and all) and enter the identity map
//! as persistent, fresh objects: a `get` of one costs no SQL.
//!
//! - INSERT: one multi-row `INSERT ... RETURNING` per batch of rows naming
//!   the same columns (PostgreSQL, SQLite, MariaDB); objects in the order
//!   of the rows. MySQL 8 has no RETURNING: there it is a compile error
//!   naming the dialect, as in SQLAlchemy.
//! - UPDATE: `UPDATE ... RETURNING` every mapped column, one statement
//!   (PostgreSQL, SQLite). MariaDB and MySQL have no `UPDATE ...
//!   RETURNING`: `SELECT key ... FOR UPDATE` (the rows are locked until the
//!   transaction ends), the UPDATE of those keys, and a `SELECT` of their
//!   rows: three statements (one when nothing matches).
//!
//! ```no_run
//! use persistence::prelude::*;
//! use persistence::dialects::Value;
//! # #[derive(Debug, Clone)] struct Worker { id: Option<i64>, name: String, rank: i32 }
//! # async fn demo(session: &mut Session, worker: &Table) -> Result<(), Error> {
//! // INSERT INTO worker (name, rank) VALUES ($1, $2), ($3, $4) RETURNING worker.id, ...
//! let crew: Vec<Worker> = session.insert_returning(orm::insert::<Worker>().rows([
//!     vec![("name", Value::from("Ann")), ("rank", Value::from(1))],
//!     vec![("name", Value::from("Bob")), ("rank", Value::from(2))],
//! ])).await?;
//! assert!(crew.iter().all(|w| w.id.is_some()));
//! // UPDATE worker SET rank = (worker.rank + $1) WHERE worker.rank > $2 RETURNING worker.id, ...
//! let promoted: Vec<Worker> = session.execute_update_returning(orm::update::<Worker>()
//!     .value("rank", worker.c("rank") + 1)
//!     .where_(worker.c("rank").gt(1))).await?;
//! # let _ = promoted; Ok(()) }
//! ```

use dialects::{and_, Expr, Value};

use super::bulk::{batches, insert_rows, insert_statement, Insert};
use super::identity::IdentityKey;
use super::mapper::{Mapper, MapperInfo};
use super::query::Update;
use super::session::Session;
use super::synchronize::{criteria, pk_exprs, set_pairs};
use crate::driver::ValueRows;
use crate::error::Error;

/// `key IN (...)` (row values for a composite key) over `keys`, in
/// key-column order.
pub(crate) fn keys_in(info: &MapperInfo, keys: &[Vec<Value>]) -> Expr {
    let cols = pk_exprs(info);
    if let [col] = cols.as_slice() {
        return col.clone().in_(
            keys.iter()
                .filter_map(|k| k.first().cloned())
                .collect::<Vec<_>>(),
        );
    }
    dialects::tuple(cols).in_(
        keys.iter()
            .map(|k| dialects::tuple(k.iter().cloned().map(Expr::Value)))
            .collect::<Vec<_>>(),
    )
}

impl Session {
    /// Objects of `T` from rows of every mapped column (in column order),
    /// entered into the identity map as fresh snapshots.
    fn hydrate<T: 'static>(
        &mut self,
        mapper: &Mapper<T>,
        mut rows: ValueRows,
    ) -> Result<Vec<T>, Error> {
        let info = mapper.info();
        let n = info.columns.len();
        let mut out = Vec::with_capacity(rows.len());
        let mut map = self.identity.of_type(info.type_id);
        for row in rows.rows_mut() {
            let cut = n.min(row.len());
            let row = &mut row[..cut];
            info.normalise(row)?;
            if let Some(key) = info.key_of(row) {
                map.put(&key, row.to_vec());
            }
            out.push(mapper.build_take(row)?);
        }
        Ok(out)
    }

    /// Inserts plain rows into `T`'s table and returns them as objects
    /// (see the [module docs](self)): generated keys and server defaults
    /// included, each object persistent in the identity map.
    pub async fn insert_returning<T: 'static>(&mut self, stmt: Insert<T>) -> Result<Vec<T>, Error> {
        self.check_usable()?;
        let mappers = self.mappers.clone();
        let mapper = mappers.mapper::<T>()?;
        let info = mapper.info().clone();
        let rows = insert_rows(&info, stmt.rows)?;
        self.autoflush().await?;
        let max = self.engine.dialect().features().max_bind_params;
        let mut out = Vec::new();
        for (columns, rows) in batches(rows, max) {
            let stmt = if columns.is_empty() {
                dialects::insert(&info.table)
            } else {
                insert_statement(&info, &columns, rows)
            }
            .returning(info.column_exprs().to_vec());
            let back = self.run_rows(&stmt).await?;
            out.extend(self.hydrate(mapper, back)?);
        }
        Ok(out)
    }

    /// Runs an ORM UPDATE by criteria and returns the changed rows as
    /// objects (see the [module docs](self)); their snapshots are
    /// replaced by what the database stored. Names and values are checked
    /// as for [`execute_update`](Session::execute_update).
    pub async fn execute_update_returning<T: 'static>(
        &mut self,
        stmt: Update<T>,
    ) -> Result<Vec<T>, Error> {
        self.check_usable()?;
        let mappers = self.mappers.clone();
        let mapper = mappers.mapper::<T>()?;
        let info = mapper.info().clone();
        let set = set_pairs(&info, stmt.values)?;
        let conds = criteria(&info, stmt.where_, stmt.filter_by)?;
        self.autoflush().await?;
        let mut core = dialects::update(&info.table);
        for (named, e) in set {
            core = core.set(&named.column, e);
        }
        if self.engine.dialect().features().update_returning {
            if !conds.is_empty() {
                core = core.where_(and_(conds));
            }
            let rows = self
                .run_rows(&core.returning(info.column_exprs().to_vec()))
                .await?;
            return self.hydrate(mapper, rows);
        }
        // No UPDATE ... RETURNING: lock the matching rows, update exactly
        // those, read them back.
        let keys: Vec<(IdentityKey, Vec<Value>)> = self.select_keys(&info, &conds).await?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let per =
            (self.engine.dialect().features().max_bind_params / info.pk.len().max(1) / 2).max(1);
        let pks: Vec<Vec<Value>> = keys.into_iter().map(|(_, pk)| pk).collect();
        let mut out = Vec::with_capacity(pks.len());
        for chunk in pks.chunks(per) {
            self.run_rows(&core.clone().where_(keys_in(&info, chunk)))
                .await?;
        }
        for chunk in pks.chunks(per) {
            let select = dialects::select(info.column_exprs().to_vec())
                .select_from(&info.table)
                .where_(keys_in(&info, chunk));
            let rows = self.run_rows(&select).await?;
            out.extend(self.hydrate(mapper, rows)?);
        }
        Ok(out)
    }
}
