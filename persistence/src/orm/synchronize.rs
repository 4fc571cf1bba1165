//! ORM UPDATE and DELETE by criteria, with the identity map kept in step
//! (SQLAlchemy's `synchronize_session` execution option).
//!
//! [`Session::execute_update`] / [`Session::execute_delete`] run one
//! statement over every row the criteria match, without loading objects.
//! How the session's snapshots follow is the statement's
//! [`SynchronizeSession`]:
//!
//! - `Evaluate`: the criteria are evaluated in memory on each object of
//!   the type the identity map holds (see `orm::evaluate`); the
//!   matching ones get the new values (SET values that cannot be computed
//!   in memory expire the object instead) or, for a DELETE, leave the
//!   identity map and become [`Deleted`](super::ObjectState::Deleted).
//!   Criteria that cannot be evaluated are [`Error::InvalidRequest`],
//!   before anything is sent.
//! - `Fetch`: the database says which rows changed: `UPDATE ... RETURNING`
//!   the key and the new values (PostgreSQL, SQLite) or `DELETE ...
//!   RETURNING` the key (those and MariaDB), one statement; where the
//!   backend has no RETURNING for it (MySQL 8; MariaDB's UPDATE), a
//!   `SELECT key ... FOR UPDATE` first, then the statement: two.
//! - `None`: no synchronization; every object of the type is expired, so
//!   the next `get` reloads it.
//! - `Auto` (the default, as SQLAlchemy's): nothing when the session holds
//!   no object of the type; `Evaluate` when the criteria can be evaluated
//!   without comparing text (the backend's collation decides those: MySQL's
//!   default folds case); `Fetch` otherwise.
//!
//! Columns are named by column or by field (a field over one column). An
//! unknown name, or a criteria on a column the table lacks, is
//! [`Error::InvalidRequest`] naming the mapper and the name; a value that
//! does not fit its column is [`Error::Codec`]. Objects the caller holds
//! are plain values and do not change: `get` them again (no SQL for a
//! synchronized, unexpired object). Staged changes are flushed first
//! (unless autoflush is off).
//!
//! ```no_run
//! use persistence::prelude::*;
//! use persistence::orm::SynchronizeSession;
//! # #[derive(Debug, Clone)] struct Worker { id: Option<i64>, name: String, rank: i32 }
//! # async fn demo(session: &mut Session, worker: &Table) -> Result<(), Error> {
//! let w: Worker = session.get(1).await?.expect("worker 1");        // in the identity map
//! // UPDATE worker SET rank = (worker.rank + ?) WHERE worker.rank < ?: one statement,
//! // and worker 1's snapshot gets its new rank in memory.
//! session.execute_update(orm::update::<Worker>()
//!     .value("rank", worker.c("rank") + 1)
//!     .where_(worker.c("rank").lt(10))
//!     .synchronize_session(SynchronizeSession::Evaluate)).await?;
//! let again: Worker = session.get(1).await?.expect("worker 1");     // no SQL
//! // DELETE FROM worker WHERE worker.name LIKE ? RETURNING worker.id
//! session.execute_delete(orm::delete::<Worker>()
//!     .where_(worker.c("name").like("V%"))
//!     .synchronize_session(SynchronizeSession::Fetch)).await?;
//! # let _ = (w, again); Ok(()) }
//! ```

use std::any::TypeId;

use dialects::{and_, Expr, Statement, Value};

use super::evaluate::{self, Node, Text};
use super::identity::IdentityKey;
use super::mapper::MapperInfo;
use super::query::{Delete, Update};
use super::session::Session;
use crate::driver::ValueRows;
use crate::error::Error;

/// How an ORM UPDATE or DELETE by criteria keeps the identity map in step
/// (SQLAlchemy's `synchronize_session`); see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SynchronizeSession {
    /// `Evaluate` where the criteria allow it (and nothing to do when no
    /// object of the type is held), else `Fetch`.
    #[default]
    Auto,
    /// Evaluate the criteria on the objects in memory; criteria that
    /// cannot be evaluated are an error.
    Evaluate,
    /// Learn the changed rows' keys from the database (RETURNING, or a
    /// SELECT first).
    Fetch,
    /// Expire every object of the type instead.
    None,
}

impl<T> Update<T> {
    /// How the identity map follows this UPDATE (default
    /// [`SynchronizeSession::Auto`]).
    pub fn synchronize_session(mut self, how: SynchronizeSession) -> Self {
        self.sync = how;
        self
    }
}

impl<T> Delete<T> {
    /// How the identity map follows this DELETE (default
    /// [`SynchronizeSession::Auto`]).
    pub fn synchronize_session(mut self, how: SynchronizeSession) -> Self {
        self.sync = how;
        self
    }
}

/// A column an ORM statement names: its name in the table, and its
/// position among the mapped columns when it is mapped.
#[derive(Debug, Clone)]
pub(crate) struct Named {
    pub column: String,
    pub position: Option<usize>,
}

/// Resolves a field or column name of `info` (a column name first, then
/// a field over exactly one column).
pub(crate) fn resolve_name(info: &MapperInfo, name: &str) -> Result<Named, Error> {
    if let Some(i) = info.position(name) {
        return Ok(Named {
            column: name.to_owned(),
            position: Some(i),
        });
    }
    let owned: Vec<usize> = (0..info.fields.len())
        .filter(|&i| info.fields[i] == name)
        .collect();
    match owned.as_slice() {
        [i] => Ok(Named {
            column: info.columns[*i].clone(),
            position: Some(*i),
        }),
        [] if info.table.get_column(name).is_some() => Ok(Named {
            column: name.to_owned(),
            position: None,
        }),
        [] => Err(Error::InvalidRequest {
            type_name: info.type_name,
            field: name.to_owned(),
            message: format!(
                "no mapped field or column of this name (columns of `{}`: {})",
                info.table.name(),
                info.columns.join(", ")
            ),
        }),
        several => Err(Error::InvalidRequest {
            type_name: info.type_name,
            field: name.to_owned(),
            message: format!(
                "a composite field over {} columns: name one of them ({})",
                several.len(),
                several
                    .iter()
                    .map(|&i| info.columns[i].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// The WHERE conditions of an ORM statement: its expressions (checked for
/// columns the table lacks) and its `filter_by` pairs (names resolved,
/// values brought to their columns' types).
pub(crate) fn criteria(
    info: &MapperInfo,
    where_: Vec<Expr>,
    filter_by: Vec<(String, Value)>,
) -> Result<Vec<Expr>, Error> {
    for e in &where_ {
        check_columns(info, e)?;
    }
    let mut out = where_;
    for (name, mut v) in filter_by {
        let named = resolve_name(info, &name)?;
        if let Some(i) = named.position {
            info.normalise_one(i, &mut v)?;
        }
        let col = info.table.c(&named.column);
        out.push(if v.is_null() {
            col.is_null()
        } else {
            col.eq(v)
        });
    }
    Ok(out)
}

/// An expression naming a column `info`'s table lacks is
/// [`Error::InvalidRequest`] naming the mapper and the column.
pub(crate) fn check_columns(info: &MapperInfo, e: &Expr) -> Result<(), Error> {
    let mut unknown = None;
    evaluate::walk(e, &mut |x| {
        if unknown.is_none() {
            unknown = evaluate::unknown_column(info, x);
        }
    });
    match unknown {
        Some(field) => Err(Error::InvalidRequest {
            type_name: info.type_name,
            message: format!("`{}` has no column of this name", info.table.name()),
            field,
        }),
        None => Ok(()),
    }
}

/// The SET pairs of an ORM UPDATE: names resolved, values brought to
/// their columns' types, expressions checked.
pub(crate) fn set_pairs(
    info: &MapperInfo,
    values: Vec<(String, Expr)>,
) -> Result<Vec<(Named, Expr)>, Error> {
    if values.is_empty() {
        return Err(Error::InvalidRequest {
            type_name: info.type_name,
            field: "(values)".into(),
            message: "an UPDATE needs at least one value to set".into(),
        });
    }
    values
        .into_iter()
        .map(|(name, e)| {
            let named = resolve_name(info, &name)?;
            let e = match (e, named.position) {
                (Expr::Value(mut v), Some(i)) => {
                    info.normalise_one(i, &mut v)?;
                    Expr::Value(v)
                }
                (e, _) => {
                    check_columns(info, &e)?;
                    e
                }
            };
            Ok((named, e))
        })
        .collect()
}

/// What to do for one statement, decided before it is sent.
enum Plan {
    /// Send it; nothing held to synchronize.
    Plain,
    /// Send it; expire every object of the type.
    Expire,
    /// Evaluated in memory: the matching objects.
    Evaluate(Vec<Node>),
    /// Ask the database which rows it changed.
    Fetch,
}

fn plan(
    session: &Session,
    info: &MapperInfo,
    how: SynchronizeSession,
    conds: &[Expr],
) -> Result<Plan, Error> {
    let held = session.identity.len_of(info.type_id) > 0;
    let compile = |text| {
        conds
            .iter()
            .map(|c| evaluate::compile(info, c, text))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(match how {
        SynchronizeSession::None => Plan::Expire,
        _ if !held => Plan::Plain,
        SynchronizeSession::Fetch => Plan::Fetch,
        SynchronizeSession::Auto => match compile(Text::Strict) {
            Ok(nodes) => Plan::Evaluate(nodes),
            Err(_) => Plan::Fetch,
        },
        SynchronizeSession::Evaluate => match compile(Text::ByCodePoint) {
            Ok(nodes) => Plan::Evaluate(nodes),
            Err(e) => {
                return Err(Error::InvalidRequest {
                    type_name: info.type_name,
                    field: e.what,
                    message: format!(
                        "cannot evaluate the criteria in memory ({}); use \
                         SynchronizeSession::Fetch",
                        e.reason
                    ),
                })
            }
        },
    })
}

/// The keys of the held, unexpired objects of `info` that `nodes` (ANDed)
/// match.
fn matching(session: &Session, info: &MapperInfo, nodes: &[Node]) -> Vec<IdentityKey> {
    session
        .identity
        .entries_of(info.type_id)
        .into_iter()
        // An expired snapshot may be stale: it is reloaded on next access.
        .filter(|(_, row, fresh)| *fresh && nodes.iter().all(|n| n.truth(*row) == Some(true)))
        .map(|(k, _, _)| k)
        .collect()
}

/// A key from values in key-column order, brought to the key columns' types.
pub(crate) fn key_from(info: &MapperInfo, values: &mut [Value]) -> Option<IdentityKey> {
    for (v, &i) in values.iter_mut().zip(&info.pk) {
        info.normalise_one(i, v).ok()?;
    }
    IdentityKey::from_values(values.iter())
}

/// The primary key columns of `info`, as expressions.
pub(crate) fn pk_exprs(info: &MapperInfo) -> Vec<Expr> {
    info.pk
        .iter()
        .map(|&i| info.table.c(&info.columns[i]))
        .collect()
}

impl Session {
    /// Runs `stmt` in the session's transaction and returns its rows as
    /// bare values.
    pub(crate) async fn run_rows<S: Statement>(&mut self, stmt: &S) -> Result<ValueRows, Error> {
        let conn = self.connection().await?;
        let compiled = conn.compile(stmt)?;
        conn.execute_values(&compiled.sql, &compiled.params, stmt.kind())
            .await
    }

    /// `SELECT key FROM t WHERE conds [FOR UPDATE]`: the keys of the rows
    /// a statement without RETURNING is about to change.
    pub(crate) async fn select_keys(
        &mut self,
        info: &MapperInfo,
        conds: &[Expr],
    ) -> Result<Vec<(IdentityKey, Vec<Value>)>, Error> {
        let mut select = dialects::select(pk_exprs(info))
            .select_from(&info.table)
            .where_(and_(conds.to_vec()));
        if self.engine.dialect().features().for_update {
            select = select.for_update();
        }
        let rows = self.run_rows(&select).await?;
        Ok(rows
            .into_rows()
            .into_iter()
            .filter_map(|mut pk| key_from(info, &mut pk).map(|k| (k, pk)))
            .collect())
    }

    /// Writes `set` into the snapshot of each held object of `keys`,
    /// computing SET expressions on the object's values; an object whose
    /// new values cannot all be computed in memory is expired instead. A
    /// snapshot that was expired stays expired.
    fn apply_set(
        &mut self,
        info: &MapperInfo,
        keys: &[IdentityKey],
        set: &[(Named, Option<Node>)],
    ) {
        let ty = info.type_id;
        for key in keys {
            let Some(row) = self.identity.get(ty, key) else {
                continue;
            };
            let fresh = self.identity.fresh(ty, key).is_some();
            let mut next = row.to_vec();
            let mut known = true;
            for (named, node) in set {
                let computed = match (named.position, node) {
                    (Some(i), Some(node)) => node
                        .value(row)
                        .ok()
                        .and_then(|mut v| info.normalise_one(i, &mut v).ok().map(|()| (i, v))),
                    _ => None,
                };
                match computed {
                    Some((i, v)) => next[i] = v,
                    None => known = false,
                }
            }
            if known {
                self.identity.insert(ty, key.clone(), next);
                if !fresh {
                    self.identity.expire(ty, key);
                }
            } else {
                self.identity.expire(ty, key);
            }
        }
    }

    /// UPDATE by criteria with synchronization (what
    /// [`Session::execute_update`] runs).
    pub(crate) async fn update_synchronized<T: 'static>(
        &mut self,
        stmt: Update<T>,
    ) -> Result<u64, Error> {
        self.check_usable()?;
        self.autoflush().await?;
        let mappers = self.mappers.clone();
        let info = mappers.mapper::<T>()?.info().clone();
        let set = set_pairs(&info, stmt.values)?;
        let conds = criteria(&info, stmt.where_, stmt.filter_by)?;
        let plan = plan(self, &info, stmt.sync, &conds)?;
        let mut core = dialects::update(&info.table);
        for (named, e) in &set {
            core = core.set(&named.column, e.clone());
        }
        if !conds.is_empty() {
            core = core.where_(and_(conds.clone()));
        }
        // SET values as computed in memory, per object.
        let computed: Vec<(Named, Option<Node>)> = set
            .iter()
            .map(|(n, e)| {
                (
                    n.clone(),
                    evaluate::compile(&info, e, Text::ByCodePoint).ok(),
                )
            })
            .collect();
        let ty = info.type_id;
        match plan {
            Plan::Plain => Ok(self.run_rows(&core).await?.affected),
            Plan::Expire => {
                let n = self.run_rows(&core).await?.affected;
                self.identity.expire_type(ty);
                Ok(n)
            }
            Plan::Evaluate(nodes) => {
                let keys = matching(self, &info, &nodes);
                let n = self.run_rows(&core).await?.affected;
                self.apply_set(&info, &keys, &computed);
                Ok(n)
            }
            Plan::Fetch if self.engine.dialect().features().update_returning => {
                // RETURNING the key and every mapped SET column: the new
                // values exactly as stored.
                let mapped: Vec<usize> = set.iter().filter_map(|(n, _)| n.position).collect();
                let mut returning = pk_exprs(&info);
                returning.extend(mapped.iter().map(|&i| info.table.c(&info.columns[i])));
                let mut rows = self.run_rows(&core.returning(returning)).await?;
                let n = rows.affected.max(rows.len() as u64);
                let width = info.pk.len();
                let all_mapped = mapped.len() == set.len();
                for row in rows.rows_mut() {
                    let (pk, values) = row.split_at_mut(width.min(row.len()));
                    let Some(key) = key_from(&info, pk) else {
                        continue;
                    };
                    let Some(snapshot) = self.identity.get(ty, &key) else {
                        continue;
                    };
                    let fresh = self.identity.fresh(ty, &key).is_some();
                    let mut next = snapshot.to_vec();
                    for (&i, v) in mapped.iter().zip(values.iter_mut()) {
                        let mut v = std::mem::replace(v, Value::Null);
                        info.normalise_one(i, &mut v)?;
                        next[i] = v;
                    }
                    self.identity.insert(ty, key.clone(), next);
                    if !fresh || !all_mapped {
                        self.identity.expire(ty, &key);
                    }
                }
                Ok(n)
            }
            Plan::Fetch => {
                let keys: Vec<IdentityKey> = self
                    .select_keys(&info, &conds)
                    .await?
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect();
                let n = self.run_rows(&core).await?.affected;
                self.apply_set(&info, &keys, &computed);
                Ok(n)
            }
        }
    }

    /// DELETE by criteria with synchronization (what
    /// [`Session::execute_delete`] runs).
    pub(crate) async fn delete_synchronized<T: 'static>(
        &mut self,
        stmt: Delete<T>,
    ) -> Result<u64, Error> {
        self.check_usable()?;
        self.autoflush().await?;
        let mappers = self.mappers.clone();
        let info = mappers.mapper::<T>()?.info().clone();
        let conds = criteria(&info, stmt.where_, stmt.filter_by)?;
        let plan = plan(self, &info, stmt.sync, &conds)?;
        let mut core = dialects::delete(&info.table);
        if !conds.is_empty() {
            core = core.where_(and_(conds.clone()));
        }
        let ty = info.type_id;
        let (n, gone) = match plan {
            Plan::Plain => (self.run_rows(&core).await?.affected, Vec::new()),
            Plan::Expire => {
                let n = self.run_rows(&core).await?.affected;
                self.identity.expire_type(ty);
                (n, Vec::new())
            }
            Plan::Evaluate(nodes) => {
                let keys = matching(self, &info, &nodes);
                (self.run_rows(&core).await?.affected, keys)
            }
            Plan::Fetch if self.engine.dialect().features().delete_returning => {
                let rows = self.run_rows(&core.returning(pk_exprs(&info))).await?;
                let n = rows.affected.max(rows.len() as u64);
                let keys = rows
                    .into_rows()
                    .into_iter()
                    .filter_map(|mut pk| key_from(&info, &mut pk))
                    .collect();
                (n, keys)
            }
            Plan::Fetch => {
                let keys = self
                    .select_keys(&info, &conds)
                    .await?
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect();
                (self.run_rows(&core).await?.affected, keys)
            }
        };
        self.forget_deleted(ty, gone);
        Ok(n)
    }

    /// Objects whose rows a statement deleted leave the identity map and
    /// become deleted.
    pub(crate) fn forget_deleted(&mut self, ty: TypeId, keys: Vec<IdentityKey>) {
        for key in keys {
            if self.identity.get(ty, &key).is_some() {
                self.identity.remove(ty, &key);
                self.states.deleted_now(ty, key);
            }
        }
    }
}
