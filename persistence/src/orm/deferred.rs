//! Deferred columns: `load_only` / `defer` on an ORM select, and loading
//! what was deferred later (SQLAlchemy's `load_only()`, `defer()` and the
//! load an unloaded attribute triggers on access).
//!
//! A plain struct has no "not loaded" state of its own, so a deferred
//! column's field must be an `Option`: it reads `None` until loaded. The
//! select writes `NULL AS col` in the column's place (one row shape for
//! every loader), the identity map keeps NULL as the column's snapshot,
//! and the session remembers which columns of which objects were not
//! loaded. So:
//!
//! - an object whose deferred fields are left alone writes nothing for
//!   them at flush (its other changes are written as usual);
//! - a deferred field set to `Some(..)` is written at flush;
//! - a deferred field set back to `None` cannot be told from one never
//!   loaded and is not written: load it first
//!   ([`Session::load_deferred`]) to clear a column;
//! - when the session already holds an object's column value (loaded
//!   earlier in full), a deferred select fills the field from it without
//!   SQL, as SQLAlchemy's identity map does;
//! - `session.get()` of an object the session holds answers from the
//!   identity map, deferred fields still `None` (no SQL);
//!   [`Session::unloaded_fields`] says which;
//! - a later select or `get` that loads the object in full loads them;
//! - primary key and version columns are always loaded;
//! - a mapping may defer a column in every load
//!   ([`MapperBuilder::deferred`](super::registry::MapperBuilder::deferred),
//!   SQLAlchemy's `deferred()`): selects, `get`, relationship loads and
//!   repository lists leave it out, and `undefer` brings it back.
//!
//! ```no_run
//! # use persistence::orm::{self, Session};
//! # #[derive(Debug, Clone)] struct Worker { id: Option<i64>, name: String, bio: Option<String> }
//! # async fn demo(session: &mut Session) -> Result<(), persistence::Error> {
//! // SELECT worker.id, worker.name, NULL AS bio FROM worker
//! let mut workers = session
//!     .scalars(orm::select::<Worker>().load_only(["name"]))
//!     .await?
//!     .all();
//! assert!(workers[0].bio.is_none());
//! // SELECT worker.bio FROM worker WHERE worker.id = ?
//! session.load_deferred(&mut workers[0]).await?;
//! # Ok(()) }
//! ```

use std::any::TypeId;

use dialects::{Expr, Statement, Value};

use super::identity::IdentityKey;
use super::mapper::MapperInfo;
use super::session::Session;
use crate::error::Error;

/// Which of a select's columns are deferred: by `load_only` (everything
/// else) and `defer` (these), minus `undefer`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Deferral {
    pub(crate) load_only: Option<Vec<String>>,
    pub(crate) defer: Vec<String>,
    pub(crate) undefer: Vec<String>,
}

impl Deferral {
    pub(crate) fn is_empty(&self) -> bool {
        self.load_only.is_none() && self.defer.is_empty() && self.undefer.is_empty()
    }

    /// The positions (column order) of the deferred columns, checked
    /// against the mapping: every name must be a field (or a column) of
    /// `T`, and a deferred field must hold NULL (an `Option`).
    pub(crate) fn positions(&self, info: &MapperInfo) -> Result<Vec<usize>, Error> {
        if self.is_empty() {
            return Ok(info.deferred.clone());
        }
        let named = |name: &str| -> Result<Vec<usize>, Error> {
            let at: Vec<usize> = (0..info.columns.len())
                .filter(|&i| info.fields[i] == name || info.columns[i] == name)
                .collect();
            if at.is_empty() {
                return Err(invalid(info, name, "no such mapped field".into()));
            }
            Ok(at)
        };
        let always = |i: usize| info.pk.contains(&i) || info.version == Some(i);
        // The mapping's deferred columns, unless named otherwise.
        let mut deferred = vec![false; info.columns.len()];
        for &i in &info.deferred {
            deferred[i] = true;
        }
        if let Some(keep) = &self.load_only {
            deferred.iter_mut().for_each(|d| *d = true);
            for name in keep.iter().chain(&self.undefer) {
                for i in named(name)? {
                    deferred[i] = false;
                }
            }
            // `load_only` always loads the key and the version.
            for (i, d) in deferred.iter_mut().enumerate() {
                if always(i) {
                    *d = false;
                }
            }
        }
        for name in &self.defer {
            for i in named(name)? {
                if always(i) {
                    return Err(invalid(
                        info,
                        name,
                        "a primary key or version column is always loaded".into(),
                    ));
                }
                deferred[i] = true;
            }
        }
        for name in &self.undefer {
            for i in named(name)? {
                deferred[i] = false;
            }
        }
        let out: Vec<usize> = (0..deferred.len()).filter(|&i| deferred[i]).collect();
        if let Some(&i) = out.iter().find(|&&i| !info.nullable[i]) {
            return Err(invalid(
                info,
                info.fields[i],
                format!(
                    "only an `Option` field can be deferred (it reads `None` until loaded); \
                     column `{}` maps to a field that cannot hold NULL",
                    info.columns[i]
                ),
            ));
        }
        Ok(out)
    }
}

fn invalid(info: &MapperInfo, field: &str, message: String) -> Error {
    Error::InvalidRequest {
        type_name: info.type_name,
        field: field.to_owned(),
        message,
    }
}

/// The columns clause of an ORM select with `deferred` columns written as
/// `NULL AS col` (the row keeps its shape).
pub(crate) fn select_columns(info: &MapperInfo, deferred: &[usize]) -> Vec<Expr> {
    let mut cols = info.column_exprs().to_vec();
    for &i in deferred {
        cols[i] = dialects::sql::text::literal_column("NULL").label(&info.columns[i]);
    }
    cols
}

impl Session {
    /// Fills the deferred columns of a loaded `row` (key `key`) from the
    /// identity map where the session knows their values, and remembers
    /// the rest as not loaded.
    pub(crate) fn fill_deferred(
        &mut self,
        info: &MapperInfo,
        key: &IdentityKey,
        row: &mut [Value],
        deferred: &[usize],
    ) {
        let ty = info.type_id;
        let was_unloaded = self.unloaded.get(&(ty, key.clone())).cloned();
        let mut still = Vec::new();
        {
            let known = self.identity.fresh(ty, key);
            for &i in deferred {
                let value = known.map(|s| s.value(i));
                match value {
                    // A value only a load puts there (placeholders are NULL).
                    Some(v) if !v.is_null() => {
                        if let Some(slot) = row.get_mut(i) {
                            *slot = v;
                        }
                    }
                    // NULL loaded in full earlier: a real NULL.
                    Some(_) if !was_unloaded.as_ref().is_some_and(|u| u.contains(&i)) => {}
                    _ => still.push(i),
                }
            }
        }
        if still.is_empty() {
            self.unloaded.remove(&(ty, key.clone()));
        } else {
            self.unloaded.insert((ty, key.clone()), still);
        }
    }

    /// Forgets what was not loaded of the objects of `ty` under `keys`
    /// (they were just loaded in full).
    pub(crate) fn loaded_in_full<'k>(
        &mut self,
        ty: TypeId,
        keys: impl IntoIterator<Item = &'k IdentityKey>,
    ) {
        if self.unloaded.is_empty() {
            return;
        }
        for key in keys {
            self.unloaded.remove(&(ty, key.clone()));
        }
    }

    /// The fields of `obj` a deferred select left unloaded, by field name
    /// (empty when everything is loaded).
    pub fn unloaded_fields<T: 'static>(&self, obj: &T) -> Result<Vec<&'static str>, Error> {
        let mapper = self.mappers.mapper::<T>()?;
        let info = mapper.info();
        let values = mapper.values(obj)?;
        let Some(key) = info.key_of(&values) else {
            return Ok(Vec::new());
        };
        let mut out: Vec<&'static str> = self
            .unloaded
            .get(&(info.type_id, key))
            .map(|at| at.iter().map(|&i| info.fields[i]).collect())
            .unwrap_or_default();
        out.dedup();
        Ok(out)
    }

    /// Loads the columns a deferred select left out of `obj` (SQLAlchemy
    /// loads them when the attribute is first read): one
    /// `SELECT cols FROM t WHERE pk = ?`, or nothing when all are loaded.
    /// A deferred field the caller has set since (`Some`) keeps the
    /// caller's value, as SQLAlchemy keeps a set attribute. The session's
    /// snapshot takes the loaded values, so the fields are then compared
    /// and written like any other.
    pub async fn load_deferred<T: 'static>(&mut self, obj: &mut T) -> Result<(), Error> {
        self.check_usable()?;
        let mappers = self.mappers.clone();
        let mapper = mappers.mapper::<T>()?;
        let info = mapper.info().clone();
        let mut values = mapper.values(obj)?;
        let Some(key) = info.key_of(&values) else {
            return Err(invalid(
                &info,
                "(primary key)",
                "cannot load deferred columns of an object without a primary key".into(),
            ));
        };
        // What a deferred select left out, and the mapping's deferred
        // columns the object holds no value for (loads other than a
        // select's, such as a joined relationship, do not track them).
        let mut at = self
            .unloaded
            .get(&(info.type_id, key.clone()))
            .cloned()
            .unwrap_or_default();
        for &i in &info.deferred {
            if values[i].is_null() && !at.contains(&i) {
                at.push(i);
            }
        }
        if at.is_empty() {
            return Ok(());
        }
        at.sort_unstable();
        let conds: Vec<Expr> = info
            .pk
            .iter()
            .map(|&i| info.table.c(&info.columns[i]).eq(values[i].clone()))
            .collect();
        let cols: Vec<Expr> = at.iter().map(|&i| info.table.c(&info.columns[i])).collect();
        let stmt = dialects::select(cols)
            .select_from(&info.table)
            .where_(dialects::and_(conds));
        let conn = self.connection().await?;
        let compiled = conn.compile(&stmt)?;
        let mut rows = conn
            .execute_values(&compiled.sql, &compiled.params, stmt.kind())
            .await?
            .into_rows();
        if rows.is_empty() {
            return Err(Error::NoResultFound);
        }
        let mut loaded = rows.swap_remove(0);
        let mut snapshot = self.identity.get(info.type_id, &key).map(|s| s.to_vec());
        for (j, &i) in at.iter().enumerate() {
            let mut v =
                std::mem::replace(loaded.get_mut(j).ok_or(Error::NoResultFound)?, Value::Null);
            info.normalise_one(i, &mut v)?;
            if let Some(s) = snapshot.as_mut() {
                s[i] = v.clone();
            }
            if values[i].is_null() {
                values[i] = v;
            }
        }
        if let Some(s) = snapshot {
            self.identity.insert(info.type_id, key.clone(), s);
        }
        self.unloaded.remove(&(info.type_id, key));
        mapper.write_back(obj, &values)
    }
}
