//! The session: identity map, unit of work and one connection for its
//! life (SQLAlchemy's `Session`, from an `async_sessionmaker`).
//!
//! Objects are plain owned values. `add(&obj)` reads the object's fields:
//! a new identity stages an INSERT, a known one an UPDATE of the columns
//! that differ from what the database has (nothing when none differs).
//! Nothing reaches the database before `flush` / `commit`, or an autoflush
//! before a query. A failed flush rolls the transaction back; the session
//! then refuses work until `rollback()`.

use std::any::TypeId;
use std::sync::Arc;

use dialects::{and_, tuple, Expr, Statement, StatementKind, Value};

use super::loading::{self, Load};

use super::identity::{BlockBuilder, FastMap, FastSet, IdentityKey, IdentityMap};
use super::joined::JoinedSide;
use super::mapper::{Mapper, MapperInfo};
use super::query::{Delete, ScalarResult, Select, Update};
use super::registry::Mappers;
use super::unit_of_work::{
    plan, with_defaults, with_onupdate, Change, Link, RefValue, Staged, Step,
};
use crate::driver::RowParams;
use crate::engine::connection::Connection;
use crate::engine::engine::Engine;
use crate::engine::result::QueryResult;
use crate::engine::transaction::{commit_raw, rollback_raw};
use crate::error::Error;
use crate::free_list::FreeList;

/// Session options.
#[derive(Debug, Clone, Copy)]
pub struct SessionOptions {
    /// Begin a transaction on first use (otherwise call `begin()`).
    pub autobegin: bool,
    /// Mark every object expired after commit, so the next `get` reloads it.
    pub expire_on_commit: bool,
    /// Flush staged changes before each query.
    pub autoflush: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            autobegin: true,
            expire_on_commit: true,
            autoflush: true,
        }
    }
}

/// Makes sessions on one engine and registry (SQLAlchemy's
/// `async_sessionmaker`). Cheap to clone.
#[derive(Debug, Clone)]
pub struct SessionMaker {
    engine: Engine,
    mappers: Mappers,
    options: SessionOptions,
    /// Identity maps of ended sessions, emptied, for the next ones.
    spare: Arc<FreeList<IdentityMap>>,
}

impl SessionMaker {
    /// Sessions on `engine` for the mappings in `mappers`.
    pub fn new(engine: Engine, mappers: Mappers) -> Self {
        SessionMaker {
            engine,
            mappers,
            options: SessionOptions::default(),
            spare: Arc::default(),
        }
    }

    /// Sets the session options.
    pub fn with_options(mut self, options: SessionOptions) -> Self {
        self.options = options;
        self
    }

    /// A new session: one unit of work (the seed's `get_session()`).
    pub fn session(&self) -> Session {
        Session {
            engine: self.engine.clone(),
            mappers: self.mappers.clone(),
            options: self.options,
            conn: None,
            in_tx: false,
            identity: self.spare.take(),
            spare: Some(self.spare.clone()),
            pending: Staged::default(),
            failed: None,
            loaded: FastMap::default(),
            change_seq: 0,
            want_rows: Wanted::default(),
            written: WrittenRows::default(),
            trail: None,
            savepoints: 0,
            dropped_savepoints: 0,
            states: super::state::States::default(),
            unloaded: FastMap::default(),
            rowids_carried: None,
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The mappings.
    pub fn mappers(&self) -> &Mappers {
        &self.mappers
    }
}

/// One unit of work. Holds one connection from its first statement until
/// its transaction ends (commit or rollback), so every statement of a
/// transaction shares it; dropping the session with a transaction open
/// rolls back.
#[derive(Debug)]
pub struct Session {
    pub(crate) engine: Engine,
    pub(crate) mappers: Mappers,
    pub(crate) options: SessionOptions,
    pub(crate) conn: Option<Connection>,
    pub(crate) in_tx: bool,
    pub(crate) identity: IdentityMap,
    /// Where the identity map goes when the session ends.
    pub(crate) spare: Option<Arc<FreeList<IdentityMap>>>,
    pub(crate) pending: Staged,
    pub(crate) failed: Option<String>,
    /// Collections loaded per (owner type, owner key, relationship): the
    /// keys of the children loaded, to tell removals from "never loaded".
    pub(crate) loaded: FastMap<(TypeId, IdentityKey, &'static str), Vec<IdentityKey>>,
    pub(crate) change_seq: usize,
    /// Staged inserts whose rows, as written (generated keys and defaults
    /// included), the next flush keeps in `written` (what `persist_all`
    /// writes back).
    pub(crate) want_rows: Wanted,
    /// The rows of `want_rows`, by change id, after a flush.
    pub(crate) written: WrittenRows,
    /// What the `add` under way staged (for write-back).
    pub(crate) trail: Option<Trail>,
    /// Open savepoints (`begin_nested`).
    pub(crate) savepoints: usize,
    /// Savepoint guards dropped without commit or rollback: rolled back
    /// before the next statement.
    pub(crate) dropped_savepoints: usize,
    /// Deleted and detached objects (`orm::state`).
    pub(crate) states: super::state::States,
    /// Columns a deferred select did not load, per object
    /// ([`deferred`](super::deferred)).
    pub(crate) unloaded: FastMap<(TypeId, IdentityKey), Vec<usize>>,
    /// While a chunked `add_all` runs: what SQLite's last rowid batch of
    /// one chunk's flush learnt, for the next chunk's (`Some(None)`:
    /// nothing yet). Nothing else runs between the chunks' flushes.
    pub(crate) rowids_carried: Option<Option<Rowids>>,
}

/// Where the value that ties a loaded row to its owner comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkFrom {
    /// An extra last column of the statement (dropped from the values).
    Extra,
    /// A mapped field of the row.
    Field(usize),
}

/// Objects loaded for a relationship.
#[derive(Debug)]
pub(crate) struct Loaded<T> {
    pub objs: Vec<T>,
    /// Each object's identity (`None` for a NULL key).
    pub keys: Vec<Option<IdentityKey>>,
    /// Each row's link value.
    pub links: Vec<Value>,
    /// Each object's values for nested loads, when asked for.
    pub values: Vec<Vec<Value>>,
}

/// What a staged object is: persistent (its current values), or a staged
/// insert whose generated values come at flush.
#[derive(Debug, Clone)]
pub(crate) enum ChangeRef {
    Persistent(Vec<Value>),
    Pending(usize),
}

/// What one `add` met while staging, in traversal order (the object, then
/// its loaded children relationship by relationship), so that generated
/// values can be written back along the same path.
#[derive(Debug, Default)]
pub(crate) struct Trail {
    pub visits: Vec<Visit>,
    /// Whether a staged INSERT lacks a value only the database knows.
    pub needs_flush: bool,
}

/// What a flush kept of an inserted row that `add` writes back into its
/// object.
#[derive(Debug)]
pub(crate) enum Written {
    /// The row is the identity map's under this key (no copy kept).
    Key(IdentityKey),
    /// The row itself: it has no key to find it by, or it is written back
    /// right after the flush (not a chunked `add_all`), so it is kept
    /// rather than copied out of the identity map again.
    Row(Vec<Value>),
}

/// The change ids of the inserts whose rows a flush keeps for `add`'s
/// write-back: a run of consecutive ids (the usual case: new objects
/// staged one after another) without hashing, any others in a set.
#[derive(Debug, Default)]
pub(crate) struct Wanted {
    run: std::ops::Range<usize>,
    others: FastSet<usize>,
}

impl Wanted {
    /// Adds `id`.
    pub(crate) fn insert(&mut self, id: usize) {
        if self.run.is_empty() {
            self.run = id..id.saturating_add(1);
        } else if id == self.run.end {
            self.run.end += 1;
        } else if !self.run.contains(&id) {
            self.others.insert(id);
        }
    }

    /// Adds every id of `ids`.
    pub(crate) fn extend(&mut self, ids: impl IntoIterator<Item = usize>) {
        for id in ids {
            self.insert(id);
        }
    }

    /// Whether `id` is wanted.
    pub(crate) fn contains(&self, id: usize) -> bool {
        self.run.contains(&id) || (!self.others.is_empty() && self.others.contains(&id))
    }

    /// Whether no id is wanted.
    pub(crate) fn is_empty(&self) -> bool {
        self.run.is_empty() && self.others.is_empty()
    }

    /// Forgets every id.
    pub(crate) fn clear(&mut self) {
        self.run = 0..0;
        self.others.clear();
    }
}

/// The rows a flush kept for `add`'s write-back, by change id: those of
/// the [`Wanted`] run in a vector by position (no hashing), others in a
/// map.
#[derive(Debug, Default)]
pub(crate) struct WrittenRows {
    start: usize,
    run: Vec<Option<Written>>,
    others: FastMap<usize, Written>,
}

impl WrittenRows {
    /// Makes room for the run of `wanted` (the flush's wanted ids); rows
    /// kept before stay (by id).
    fn prepare(&mut self, wanted: &Wanted) {
        for (at, slot) in self.run.drain(..).enumerate() {
            if let Some(written) = slot {
                self.others.insert(self.start + at, written);
            }
        }
        self.start = wanted.run.start;
        self.run.resize_with(wanted.run.len(), || None);
    }

    /// Keeps `written` for change `id`.
    fn insert(&mut self, id: usize, written: Written) {
        let at = id.checked_sub(self.start);
        match at.and_then(|at| self.run.get_mut(at)) {
            Some(slot) => *slot = Some(written),
            None => {
                self.others.insert(id, written);
            }
        }
    }

    /// What is kept for change `id`.
    fn get_mut(&mut self, id: usize) -> Option<&mut Written> {
        let at = id.checked_sub(self.start);
        match at.and_then(|at| self.run.get_mut(at)) {
            Some(slot) if slot.is_some() => slot.as_mut(),
            _ => self.others.get_mut(&id),
        }
    }

    /// Takes what is kept for change `id`.
    fn remove(&mut self, id: usize) -> Option<Written> {
        let at = id.checked_sub(self.start);
        match at.and_then(|at| self.run.get_mut(at)) {
            Some(slot) if slot.is_some() => slot.take(),
            _ => self.others.remove(&id),
        }
    }

    /// Forgets every row.
    fn clear(&mut self) {
        self.run.clear();
        self.others.clear();
    }
}

/// What staging did with one object of an `add`.
#[derive(Debug)]
pub(crate) enum Visit {
    /// Staged an INSERT (its change id).
    Insert(usize),
    /// Staged an INSERT that a flush has written since.
    Flushed(Written),
    /// Staged an UPDATE; the values as they will be stored.
    Update(Vec<Value>),
    /// Nothing to write back.
    Same,
}

/// Whether a staged INSERT lacks a value the database generates (a key, a
/// server default) and no new parent provides.
fn needs_server_values(info: &MapperInfo, change: &Change) -> bool {
    let Change::Insert { values, links, .. } = change else {
        return false;
    };
    info.server_generated
        .iter()
        .any(|&i| values.get(i).is_some_and(Value::is_null) && !links.iter().any(|l| l.field == i))
}

impl Session {
    /// The mappings this session uses.
    pub fn mappers(&self) -> &Mappers {
        &self.mappers
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub(crate) fn check_usable(&self) -> Result<(), Error> {
        match &self.failed {
            Some(cause) => Err(Error::PendingRollback {
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }

    /// The session's connection, in its transaction.
    pub(crate) async fn connection(&mut self) -> Result<&mut Connection, Error> {
        self.check_usable()?;
        if self.dropped_savepoints > 0 {
            Box::pin(self.settle_savepoints()).await?;
        }
        if self.conn.is_none() {
            self.conn = Some(self.engine.connect().await?);
        }
        if !self.in_tx {
            if !self.options.autobegin {
                return Err(Error::Mapping {
                    type_name: "Session",
                    field: "autobegin".into(),
                    message: "autobegin is off: call `session.begin()` first".into(),
                });
            }
            self.begin_inner().await?;
        }
        match self.conn.as_mut() {
            Some(conn) => Ok(conn),
            None => Err(Error::PoolClosed),
        }
    }

    async fn begin_inner(&mut self) -> Result<(), Error> {
        if self.conn.is_none() {
            self.conn = Some(self.engine.connect().await?);
        }
        if let Some(conn) = self.conn.as_mut() {
            // Its BEGIN waits for the first statement that is not a plain
            // read where that is the same transaction (PostgreSQL at READ
            // COMMITTED, see `engine::deferred_begin`).
            conn.begin_deferred().await?;
            self.in_tx = true;
        }
        Ok(())
    }

    /// Begins the session's transaction explicitly (needed when autobegin is off).
    pub async fn begin(&mut self) -> Result<(), Error> {
        self.check_usable()?;
        if !self.in_tx {
            self.begin_inner().await?;
        }
        Ok(())
    }

    /// The session's connection, for Core statements in the session's
    /// transaction (staged changes are flushed first).
    pub async fn connection_for_core(&mut self) -> Result<&mut Connection, Error> {
        self.autoflush().await?;
        self.connection().await
    }

    // ------------------------------------------------------------ staging

    /// Adds `obj` to the unit of work and leaves it as it will be stored.
    ///
    /// - A new identity (no key yet, or a key the session does not know)
    ///   stages an INSERT; a known one an UPDATE of the columns that differ
    ///   from the identity map's snapshot, and nothing at all when none
    ///   differs.
    /// - Loaded relationships with the save-update cascade are added too:
    ///   new children get their foreign key (from the parent's generated
    ///   key when the parent is new), removed children are deleted
    ///   (delete-orphan) or get a NULL key, many-to-many edits become
    ///   association rows.
    /// - **Write-back.** Values the client decides (column defaults,
    ///   onupdate values, the next version number) are written into `obj`
    ///   (and its loaded children) at once. When the database generates
    ///   something an added row lacks (an autoincrement key, a server
    ///   default), the session flushes now, in one batch with everything
    ///   staged before, and writes the generated values back, as JPA does
    ///   for identity keys. So after `add` returns, `obj` carries its key:
    ///   changing it and adding it again updates its row, never inserts a
    ///   second one. Rows whose values are all known wait for the next
    ///   flush or commit (batched); use [`add_all`](Session::add_all) to
    ///   insert many new rows in one statement.
    ///
    /// A value the mapping cannot write (a codec error, an integer out of
    /// its column's range) is [`Error::Codec`] naming the field, and
    /// nothing of `obj` is staged.
    pub async fn add<T: Send + Sync + 'static>(&mut self, obj: &mut T) -> Result<(), Error> {
        self.add_all(std::iter::once(obj)).await
    }

    /// [`add`](Session::add) for many objects, with one flush at most:
    /// new rows of one table go in multi-row INSERTs (with RETURNING where
    /// the backend has it), and each object gets its generated values.
    pub async fn add_all<'a, T: Send + Sync + 'static>(
        &mut self,
        objs: impl IntoIterator<Item = &'a mut T>,
    ) -> Result<(), Error> {
        self.check_usable()?;
        let mappers = self.mappers.clone();
        let mapper = mappers.mapper::<T>()?;
        let mut objs: Vec<&'a mut T> = objs.into_iter().collect();
        let cascades = mappers
            .relationships_of(mapper.info().type_id)
            .iter()
            .any(|r| r.info().cascade.save_update);
        if objs.len() > ADD_ALL_CHUNK && !cascades {
            return self.add_all_chunked(mapper, objs).await;
        }
        // Every object's values first: a codec error stages nothing.
        let values = objs
            .iter()
            .map(|o| mapper.values(o))
            .collect::<Result<Vec<_>, Error>>()?;
        for v in &values {
            self.check_addable(mapper.info(), v)?;
        }
        self.pending.reserve(objs.len());
        self.trail = Some(Trail::default());
        let mut staged = Ok(());
        for (obj, values) in objs.iter().zip(values) {
            if let Err(e) = self.add_values(mapper, &mappers, &**obj, values, Vec::new()) {
                staged = Err(e);
                break;
            }
        }
        let trail = self.trail.take().unwrap_or_default();
        if let Err(e) = staged {
            // A relationship's child failed after its parent was staged.
            self.failed = Some(e.to_string());
            return Err(e);
        }
        if trail.needs_flush {
            self.want_rows
                .extend(trail.visits.iter().filter_map(|v| match v {
                    Visit::Insert(id) => Some(*id),
                    _ => None,
                }));
            let flushed = self.flush().await;
            self.want_rows.clear();
            if let Err(e) = flushed {
                self.written.clear();
                return Err(e);
            }
        }
        let mut at = 0;
        let mut result = Ok(());
        for obj in objs.iter_mut() {
            result = self.write_graph(mapper, &mappers, &mut **obj, &trail, &mut at);
            if result.is_err() {
                break;
            }
        }
        self.written.clear();
        result
    }

    /// [`add_all`](Session::add_all) for many objects without cascades, in
    /// chunks of [`ADD_ALL_CHUNK`]: each chunk is staged, and flushed at once
    /// when it needs values from the database (as `add_all` flushes once
    /// for all), so that only one chunk's staged rows, statements and
    /// parameters are held at a time; the flushed rows are then only the
    /// identity map's. The objects get their generated values at the end,
    /// once every chunk is written (a failed flush writes nothing back),
    /// and every object's values are checked first (a codec error stages
    /// nothing), as `add_all` does.
    async fn add_all_chunked<T: Send + Sync + 'static>(
        &mut self,
        mapper: &Mapper<T>,
        mut objs: Vec<&mut T>,
    ) -> Result<(), Error> {
        let info = mapper.info();
        let mut values = Vec::with_capacity(info.columns.len());
        for o in &objs {
            mapper.values_into(o, &mut values)?;
            self.check_addable(info, &values)?;
        }
        // Room for every row in the identity map at once, not regrown
        // chunk by chunk.
        self.identity.of_type(info.type_id).reserve(objs.len());
        let mut visits: Vec<Visit> = Vec::with_capacity(objs.len());
        self.rowids_carried = Some(None);
        let written = self.add_chunks(mapper, &objs, &mut visits).await;
        self.rowids_carried = None;
        written?;
        // One visit per object (no cascades).
        for (obj, visit) in objs.iter_mut().zip(&visits) {
            self.write_visit(mapper, &mut **obj, visit)?;
        }
        Ok(())
    }

    /// Stages and flushes the chunks of [`add_all_chunked`](Session::add_all_chunked),
    /// noting each object's visit in `visits`.
    async fn add_chunks<T: Send + Sync + 'static>(
        &mut self,
        mapper: &Mapper<T>,
        objs: &[&mut T],
        visits: &mut Vec<Visit>,
    ) -> Result<(), Error> {
        // Visits from here on may still be staged (not flushed).
        let mut unflushed = 0;
        for chunk in objs.chunks(ADD_ALL_CHUNK) {
            self.pending.reserve(chunk.len());
            self.trail = Some(Trail::default());
            let mut staged = Ok(());
            for obj in chunk {
                let values = match mapper.values(&**obj) {
                    Ok(values) => values,
                    Err(e) => {
                        staged = Err(e);
                        break;
                    }
                };
                // No cascades (see `add_all`): what `add_values` does then.
                self.stage_visit(mapper.info(), values, Vec::new());
            }
            let trail = self.trail.take().unwrap_or_default();
            if let Err(e) = staged {
                self.failed = Some(e.to_string());
                return Err(e);
            }
            visits.extend(trail.visits);
            if !trail.needs_flush {
                continue;
            }
            // The flush writes what earlier chunks left staged too.
            self.want_rows
                .extend(visits[unflushed..].iter().filter_map(|v| match v {
                    Visit::Insert(id) => Some(*id),
                    _ => None,
                }));
            let flushed = self.flush().await;
            self.want_rows.clear();
            if let Err(e) = flushed {
                self.written.clear();
                return Err(e);
            }
            for v in &mut visits[unflushed..] {
                if let Visit::Insert(id) = v {
                    if let Some(written) = self.written.remove(*id) {
                        *v = Visit::Flushed(written);
                    }
                }
            }
            self.written.clear();
            unflushed = visits.len();
        }
        Ok(())
    }

    /// Stages `obj` with `links` (foreign keys from new parents) and
    /// cascades into its loaded relationships (what cascades call for
    /// children).
    pub(crate) fn add_linked<T: Send + Sync + 'static>(
        &mut self,
        obj: &T,
        links: Vec<Link>,
        overrides: &[(usize, Value)],
    ) -> Result<ChangeRef, Error> {
        let mappers = self.mappers.clone();
        let mapper = mappers.mapper::<T>()?;
        let mut values = mapper.values(obj)?;
        for (i, v) in overrides {
            if let Some(slot) = values.get_mut(*i) {
                *slot = v.clone();
                mapper.info().normalise_one(*i, slot)?;
            }
        }
        self.add_values(mapper, &mappers, obj, values, links)
    }

    /// Stages an object whose values are read, then its cascades.
    fn add_values<T: Send + Sync + 'static>(
        &mut self,
        mapper: &Mapper<T>,
        mappers: &Mappers,
        obj: &T,
        values: Vec<Value>,
        links: Vec<Link>,
    ) -> Result<ChangeRef, Error> {
        let info = mapper.info();
        let relationships = mappers.relationships_of(info.type_id);
        if !relationships.iter().any(|r| r.info().cascade.save_update) {
            return Ok(self.stage_visit(info, values, links));
        }
        // A loaded parent decides the foreign key (many-to-one).
        let mut values = values;
        for access in relationships {
            if access.info().cascade.save_update {
                for (i, v) in access.owner_overrides(mappers, obj)? {
                    if let Some(slot) = values.get_mut(i) {
                        *slot = v;
                    }
                }
            }
        }
        let this = self.stage_visit(info, values.clone(), links);
        for access in relationships {
            if access.info().cascade.save_update {
                access.cascade_add(self, obj, &values, &this)?;
            }
        }
        Ok(this)
    }

    /// [`Session::stage`], noting what the current `add` must write back.
    fn stage_visit(
        &mut self,
        info: &MapperInfo,
        values: Vec<Value>,
        links: Vec<Link>,
    ) -> ChangeRef {
        let (this, visit) = self.stage(info, values, links);
        if let Some(trail) = self.trail.as_mut() {
            if let (Visit::Insert(_), ChangeRef::Pending(id)) = (&visit, &this) {
                let unknown = self
                    .pending
                    .insert_by_id(*id)
                    .is_some_and(|c| needs_server_values(info, c));
                trail.needs_flush |= unknown;
            }
            trail.visits.push(visit);
        }
        this
    }

    /// Writes what the last `add` decided or the flush generated into
    /// `obj` and its loaded children, in the order staging met them.
    pub(crate) fn write_graph<T: Send + Sync + 'static>(
        &mut self,
        mapper: &Mapper<T>,
        mappers: &Mappers,
        obj: &mut T,
        trail: &Trail,
        at: &mut usize,
    ) -> Result<(), Error> {
        let info = mapper.info();
        if let Some(visit) = trail.visits.get(*at) {
            self.write_visit(mapper, obj, visit)?;
        }
        *at += 1;
        for access in mappers.relationships_of(info.type_id) {
            if access.info().cascade.save_update {
                access.write_back(self, obj, trail, at)?;
            }
        }
        Ok(())
    }

    /// Writes what staging decided or the flush generated for `obj` (one
    /// visit of an `add`) into `obj`.
    fn write_visit<T: Send + Sync + 'static>(
        &mut self,
        mapper: &Mapper<T>,
        obj: &mut T,
        visit: &Visit,
    ) -> Result<(), Error> {
        let info = mapper.info();
        match visit {
            Visit::Insert(id) => {
                let row = match self.written.get_mut(*id) {
                    Some(written) => take_written(written, info, &self.identity),
                    None => match self.pending.insert_by_id(*id) {
                        Some(Change::Insert { values, .. }) => Some(values.clone()),
                        _ => None,
                    },
                };
                if let Some(row) = row {
                    mapper.write_back_owned(obj, row)?;
                }
            }
            Visit::Flushed(written) => {
                if let Some(row) = self.written_row(info.type_id, written) {
                    mapper.write_back_owned(obj, row)?;
                }
            }
            Visit::Update(values) => mapper.write_back(obj, values)?,
            Visit::Same => {}
        }
        Ok(())
    }

    /// The row a flush wrote, as `written` keeps it.
    fn written_row(&self, ty: TypeId, written: &Written) -> Option<Vec<Value>> {
        match written {
            Written::Key(key) => self.identity.get(ty, key).map(|s| s.to_vec()),
            Written::Row(row) => Some(row.clone()),
        }
    }

    fn next_change_id(&mut self) -> usize {
        self.change_seq += 1;
        self.change_seq
    }

    /// Stages the row `values` (normalised) of a mapped object: an INSERT
    /// with its column defaults for a new identity, an UPDATE of what
    /// differs from the snapshot (with onupdate values) for a known one.
    /// Returns what was staged and what the object looks like stored.
    fn stage(
        &mut self,
        info: &MapperInfo,
        mut values: Vec<Value>,
        links: Vec<Link>,
    ) -> (ChangeRef, Visit) {
        let ty = info.type_id;
        let Some(key) = info.key_of(&values) else {
            with_defaults(info, &mut values);
            let id = self.next_change_id();
            self.pending.push(Change::Insert {
                ty,
                id,
                values,
                links,
            });
            return (ChangeRef::Pending(id), Visit::Insert(id));
        };
        // Staged already (not flushed): replace what was staged.
        if let Some(Change::Insert {
            id,
            values: v,
            links: l,
            ..
        }) = self.pending.insert_by_key(ty, &key)
        {
            with_defaults(info, &mut values);
            *v = values;
            *l = links;
            return (ChangeRef::Pending(*id), Visit::Insert(*id));
        }
        match self.identity.get(ty, &key) {
            Some(entry) => {
                let set: Vec<(usize, Value)> = values
                    .iter()
                    .enumerate()
                    .filter(|(i, v)| {
                        Some(i) != info.version.as_ref()
                            && !entry.same(*i, v)
                            && !links.iter().any(|l| l.field == *i)
                    })
                    .map(|(i, v)| (i, v.clone()))
                    .collect();
                if set.is_empty() && links.is_empty() {
                    return (ChangeRef::Persistent(values), Visit::Same);
                }
                let version = info.version.map(|i| entry.value(i));
                let set = if set.is_empty() {
                    set
                } else {
                    with_onupdate(info, set)
                };
                let mut stored = values;
                for (i, v) in &set {
                    stored[*i] = v.clone();
                }
                if let (Some(i), Some(old)) = (info.version, &version) {
                    let mut next = Value::BigInt(old.as_i64().unwrap_or(0) + 1);
                    let _ = info.normalise_one(i, &mut next);
                    stored[i] = next;
                }
                let pk = info.pk.iter().map(|&i| stored[i].clone()).collect();
                self.pending.push_update(
                    ty,
                    key.clone(),
                    Change::Update {
                        ty,
                        key,
                        pk,
                        set,
                        version,
                        links,
                    },
                );
                (ChangeRef::Persistent(stored.clone()), Visit::Update(stored))
            }
            None => {
                with_defaults(info, &mut values);
                let id = self.next_change_id();
                self.pending.push_keyed_insert(
                    key,
                    Change::Insert {
                        ty,
                        id,
                        values,
                        links,
                    },
                );
                (ChangeRef::Pending(id), Visit::Insert(id))
            }
        }
    }

    /// Adds a link to a staged change (a foreign key from a new parent).
    pub(crate) fn link_change(&mut self, info: &MapperInfo, target: &ChangeRef, link: Link) {
        match target {
            ChangeRef::Pending(id) => {
                if let Some(Change::Insert { links, .. }) = self.pending.insert_by_id(*id) {
                    links.push(link);
                }
            }
            ChangeRef::Persistent(values) => {
                let Some(key) = info.key_of(values) else {
                    return;
                };
                if let Some(Change::Update { links, .. }) =
                    self.pending.update_by_key(info.type_id, &key)
                {
                    links.push(link);
                    return;
                }
                let pk = info.pk.iter().map(|&i| values[i].clone()).collect();
                let version = info.version.map(|i| values[i].clone());
                self.pending.push_update(
                    info.type_id,
                    key.clone(),
                    Change::Update {
                        ty: info.type_id,
                        key,
                        pk,
                        set: Vec::new(),
                        version,
                        links: vec![link],
                    },
                );
            }
        }
    }

    /// The children a loaded collection held when it was loaded.
    pub(crate) fn loaded_children(
        &self,
        owner: TypeId,
        key: &IdentityKey,
        name: &'static str,
    ) -> Option<&[IdentityKey]> {
        self.loaded
            .get(&(owner, key.clone(), name))
            .map(Vec::as_slice)
    }

    /// The remembered column values of a persistent object.
    pub(crate) fn snapshot(&self, ty: TypeId, key: &IdentityKey) -> Option<Vec<Value>> {
        self.identity.get(ty, key).map(|e| e.to_vec())
    }

    /// Stages raw changes (used by relationship cascades).
    pub(crate) fn push_change(&mut self, change: Change) {
        self.pending.push(change);
    }

    /// Stages an UPDATE of one field of a persistent row (orphans whose
    /// key becomes NULL).
    pub(crate) fn stage_field_update(
        &mut self,
        info: &MapperInfo,
        snapshot: Vec<Value>,
        field: usize,
        value: Value,
    ) {
        let mut values = snapshot;
        values[field] = value;
        // Not part of the trail: an orphan is not in the object graph.
        let _ = self.stage(info, values, Vec::new());
    }

    /// Stages the deletion of `obj`'s row, following the delete cascades
    /// of its relationships (children deleted first; with passive deletes
    /// the database's ON DELETE CASCADE does it).
    pub fn delete<T: Send + Sync + 'static>(&mut self, obj: &T) -> Result<(), Error> {
        self.check_usable()?;
        let mappers = self.mappers.clone();
        let mapper = mappers.mapper::<T>()?;
        let info = mapper.info().clone();
        let values = mapper.values(obj)?;
        let Some(key) = info.key_of(&values) else {
            return Err(Error::Mapping {
                type_name: info.type_name,
                field: "(primary key)".into(),
                message: "cannot delete an object without a primary key".into(),
            });
        };
        let ty = info.type_id;
        if self.pending.remove_insert_by_key(ty, &key) {
            return Ok(()); // never flushed: nothing to delete
        }
        for access in mappers.relationships_of(ty) {
            access.cascade_delete(self, obj, &values)?;
        }
        let version = info.version.map(|i| {
            self.identity
                .get(ty, &key)
                .map_or_else(|| values[i].clone(), |e| e.value(i))
        });
        let pk = info.pk.iter().map(|&i| values[i].clone()).collect();
        self.pending.push(Change::Delete {
            ty,
            key,
            pk,
            version,
        });
        Ok(())
    }

    /// The values of object `key` as a staged INSERT or UPDATE will store
    /// them, when one is staged.
    fn staged_values(&mut self, info: &MapperInfo, key: &IdentityKey) -> Option<Vec<Value>> {
        if self.pending.is_empty() {
            return None;
        }
        if let Some(Change::Insert { values, .. }) = self.pending.insert_by_key(info.type_id, key) {
            return Some(values.clone());
        }
        let set = match self.pending.update_by_key(info.type_id, key) {
            Some(Change::Update { set, .. }) if !set.is_empty() => set.clone(),
            _ => return None,
        };
        let mut values = self.identity.get(info.type_id, key)?.to_vec();
        for (i, v) in set {
            if let Some(slot) = values.get_mut(i) {
                *slot = v;
            }
        }
        Some(values)
    }

    /// Whether changes are staged and not yet flushed.
    pub fn is_dirty(&self) -> bool {
        !self.pending.is_empty()
    }

    /// How many objects the identity map holds.
    pub fn identity_count(&self) -> usize {
        self.identity.len()
    }

    // ------------------------------------------------------------ flush

    pub(crate) async fn autoflush(&mut self) -> Result<(), Error> {
        if self.options.autoflush && !self.pending.is_empty() {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes every staged change in foreign-key order, inside the
    /// session's transaction. On failure the transaction is rolled back,
    /// nothing staged survives, and the session needs `rollback()`.
    pub async fn flush(&mut self) -> Result<(), Error> {
        self.flush_for(false).await
    }

    /// [`flush`](Session::flush); `committing` when the transaction ends
    /// right after it (a lone statement may then run without one).
    async fn flush_for(&mut self, committing: bool) -> Result<(), Error> {
        self.check_usable()?;
        if self.dropped_savepoints > 0 {
            self.settle_savepoints().await?;
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let changes = self.pending.take();
        let deleted = super::state::deleted_keys(&changes);
        let result = self.flush_changes(changes, committing).await;
        if result.is_ok() {
            self.states.flushed_deletes(deleted);
        }
        if let Err(e) = &result {
            if self.savepoints > 0 {
                // Inside a savepoint only the savepoint is lost: the
                // outer transaction and the session go on.
                let _ = self.rollback_savepoint().await;
                return result;
            }
            if let Some(conn) = self.conn.as_mut() {
                if self.in_tx {
                    let _ = rollback_raw(conn).await;
                }
            }
            self.in_tx = false;
            self.conn = None;
            self.failed = Some(e.to_string());
        }
        result
    }

    async fn flush_changes(&mut self, changes: Vec<Change>, committing: bool) -> Result<(), Error> {
        let features = *self.engine.dialect().features();
        let want = std::mem::take(&mut self.want_rows);
        self.written.prepare(&want);
        let linked: FastSet<usize> = changes
            .iter()
            .flat_map(|c| match c {
                Change::Insert { links, .. } | Change::Update { links, .. } => {
                    links.iter().map(|l| l.parent).collect()
                }
                Change::Associate { values, .. } => values
                    .iter()
                    .filter_map(|v| match v {
                        RefValue::Linked { change, .. } => Some(*change),
                        RefValue::Known(_) => None,
                    })
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        // Rows asked for by `add` are kept (their keys) in `written`.
        let steps = plan(changes, &self.mappers, &features)?;
        // Room in the identity map for every row inserted, made once.
        let mut inserts: Vec<(TypeId, usize)> = Vec::new();
        for step in &steps {
            if let Step::Insert { info, rows, .. } = step {
                match inserts.iter_mut().find(|(t, _)| *t == info.type_id) {
                    Some((_, n)) => *n += rows.len(),
                    None => inserts.push((info.type_id, rows.len())),
                }
            }
        }
        for (ty, n) in inserts {
            self.identity.of_type(ty).reserve(n);
        }
        let autocommitted = if committing {
            self.autocommit_single(&steps).await?
        } else {
            None
        };
        if autocommitted.is_none() {
            self.connection().await?;
        }
        let mut inserted: FastMap<usize, Vec<Value>> = FastMap::default();
        let mut deferred = None;
        let mut rowids = self.rowids_carried.as_mut().and_then(Option::take);
        let mut outcome = Ok(());
        for step in steps {
            outcome = self
                .run_step(
                    step,
                    &mut inserted,
                    (&linked, &want),
                    &mut deferred,
                    &mut rowids,
                )
                .await;
            if outcome.is_err() {
                break;
            }
        }
        if let (Some(previous), Some(conn)) = (autocommitted, self.conn.as_mut()) {
            conn.set_autocommit(previous);
        }
        if let Some(carried) = self.rowids_carried.as_mut() {
            *carried = if outcome.is_ok() { rowids } else { None };
        }
        outcome?;
        if let Some(d) = deferred {
            d.finish(&mut self.identity);
        }
        Ok(())
    }

    /// When this commit's whole transaction is the one statement of
    /// `steps` (see [`autocommit`](super::autocommit)), checks out the
    /// connection in autocommit mode and returns its previous mode, to
    /// restore after the statement; `None` to run in a transaction.
    async fn autocommit_single(&mut self, steps: &[Step]) -> Result<Option<bool>, Error> {
        if self.in_tx
            || self.savepoints > 0
            || !self.options.autobegin
            || self.engine.options().isolation_level.is_some()
            || !super::autocommit::one_statement(steps)
        {
            return Ok(None);
        }
        if self.conn.is_none() {
            self.conn = Some(self.engine.connect().await?);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Ok(None);
        };
        if conn.in_transaction() {
            return Ok(None);
        }
        let previous = conn.autocommit();
        conn.set_autocommit(true);
        Ok(Some(previous))
    }

    async fn run_step(
        &mut self,
        step: Step,
        inserted: &mut FastMap<usize, Vec<Value>>,
        (linked, want): (&FastSet<usize>, &Wanted),
        deferred: &mut Option<Deferred>,
        rowids: &mut Option<Rowids>,
    ) -> Result<(), Error> {
        // What SQLite's last rowid batch learnt holds for the next batch of
        // the same table only.
        if !matches!(&step, Step::Insert { info, .. }
            if rowids.as_ref().is_some_and(|r| r.ty == info.type_id))
        {
            *rowids = None;
        }
        // What the last INSERT batch left for the identity map is done while
        // the next batch's statement runs; before any other step, now.
        if !matches!(step, Step::Insert { .. }) {
            if let Some(d) = deferred.take() {
                d.finish(&mut self.identity);
            }
        }
        let resolve =
            |inserted: &FastMap<usize, Vec<Value>>, link: &Link| -> Result<Value, Error> {
                inserted
                    .get(&link.parent)
                    .and_then(|v| v.get(link.parent_field))
                    .cloned()
                    .ok_or_else(|| Error::Mapping {
                        type_name: "Session",
                        field: "(relationship)".into(),
                        message: "a linked parent row was not inserted before its child".into(),
                    })
            };
        let Some(conn) = self.conn.as_mut() else {
            return Err(Error::PoolClosed);
        };
        match step {
            Step::Insert {
                info,
                columns,
                rows,
                returning,
            } => {
                let by_id = !linked.is_empty() || !want.is_empty();
                let mut ids = Vec::with_capacity(if by_id { rows.len() } else { 0 });
                let mut rows: Vec<Vec<Value>> = rows
                    .into_iter()
                    .map(|(id, mut values, links)| {
                        for l in &links {
                            values[l.field] = resolve(inserted, l)?;
                        }
                        if by_id {
                            ids.push(id);
                        }
                        Ok(values)
                    })
                    .collect::<Result<_, Error>>()?;
                let generated_key = info.pk.iter().any(|i| !columns.contains(i));
                let mut back = Back::Nothing;
                let identity = &mut self.identity;
                if returning.is_empty() && generated_key {
                    if let Some(d) = deferred.take() {
                        d.finish(identity);
                    }
                    // No RETURNING (MySQL 8): one row at a time, reading
                    // LAST_INSERT_ID() for the generated key.
                    let names: Vec<&str> =
                        columns.iter().map(|&i| info.columns[i].as_str()).collect();
                    for row in rows.iter_mut() {
                        let sent: Vec<Value> = columns.iter().map(|&i| row[i].clone()).collect();
                        conn.execute(&dialects::insert(&info.table).rows(names.clone(), [sent]))
                            .await?;
                        let id = conn
                            .execute(&dialects::text("SELECT LAST_INSERT_ID()"))
                            .await?
                            .scalar()
                            .unwrap_or(Value::Null);
                        if let Some(&p) = info.pk.first() {
                            row[p] = id;
                        }
                    }
                } else {
                    let dialect = self.engine.dialect();
                    if dialect.name() == "sqlite"
                        && rows.len() >= ROWID_BATCH
                        && rowid_keys(&info, &columns, &returning)
                    {
                        back = insert_by_rowid(
                            conn, &info, &columns, &mut rows, deferred, identity, rowids,
                        )
                        .await?;
                    }
                    if matches!(back, Back::Nothing) {
                        *rowids = None;
                        let sql = insert_sql(&info, dialect, &columns, rows.len(), &returning)?;
                        // The sent fields are bound where they are, row by row.
                        let params = RowParams {
                            rows: &rows,
                            columns: &columns,
                        };
                        let result = overlapped(
                            conn.execute_values(&sql, &params, StatementKind::Dml),
                            deferred.take(),
                            identity,
                        )
                        .await?;
                        if !returning.is_empty() {
                            back = Back::Rows(result);
                        }
                    }
                }
                // One pass over the rows: generated values in, and the rows
                // become the identity map's snapshots (entered while the next
                // batch runs).
                if let Some(d) = deferred.take() {
                    d.finish(&mut self.identity);
                }
                let (mut back, first_rowid) = match back {
                    Back::Rows(r) => (Some(r), None),
                    Back::Rowids(first) => (None, Some(first)),
                    Back::Nothing => (None, None),
                };
                let mut back_rows = back.as_mut().map(crate::driver::ValueRows::rows_mut);
                let mut keys = Vec::with_capacity(rows.len());
                let mut block = BlockBuilder::new(info.columns.len(), rows.len());
                for (k, mut row) in rows.into_iter().enumerate() {
                    if let Some(back) = back_rows.as_mut().and_then(Iterator::next) {
                        for (&i, v) in returning.iter().zip(back) {
                            row[i] = std::mem::replace(v, Value::Null);
                            info.normalise_one(i, &mut row[i])?;
                        }
                    }
                    // Only rows that later rows link to are kept by change id.
                    let id = ids.get(k).copied();
                    if let Some(id) = id.filter(|id| linked.contains(id)) {
                        inserted.insert(id, row.clone());
                    }
                    // Keys written from rowids are known without reading the row.
                    let key = match first_rowid {
                        Some(first) => {
                            let offset = i64::try_from(k).unwrap_or(i64::MAX);
                            IdentityKey::of_value(&Value::BigInt(first.saturating_add(offset)))
                        }
                        None => info.key_of(&row),
                    };
                    // Rows `add` writes back: a chunked `add_all` finds them
                    // again by key (only the identity map holds them until
                    // every chunk is written); otherwise the row itself is
                    // kept (moved, not copied), written back right after
                    // the flush.
                    let mut wanted = id.filter(|&id| want.contains(id));
                    if let Some(key) = key {
                        if self.rowids_carried.is_some() {
                            if let Some(id) = wanted.take() {
                                self.written.insert(id, Written::Key(key.clone()));
                            }
                        }
                        keys.push((key, block.push(&row)));
                    }
                    if let Some(id) = wanted {
                        self.written.insert(id, Written::Row(row));
                    }
                }
                *deferred = Some(Deferred {
                    ty: info.type_id,
                    block: block.finish(),
                    keys,
                });
            }
            Step::Associate {
                table,
                columns,
                rows,
            } => {
                let mut values = Vec::with_capacity(rows.len());
                for pair in rows {
                    let mut out = Vec::with_capacity(2);
                    for v in pair {
                        out.push(match v {
                            RefValue::Known(v) => v,
                            RefValue::Linked { change, field } => resolve(
                                inserted,
                                &Link {
                                    field: 0,
                                    parent: change,
                                    parent_field: field,
                                },
                            )?,
                        });
                    }
                    values.push(out);
                }
                conn.execute(
                    &dialects::insert(&table)
                        .rows([columns[0].as_str(), columns[1].as_str()], values),
                )
                .await?;
            }
            Step::DeleteWhere {
                table,
                columns,
                rows,
            } => {
                let cond = match columns.as_slice() {
                    [one] => table
                        .c(one)
                        .in_(rows.into_iter().flatten().collect::<Vec<_>>()),
                    _ => tuple(columns.iter().map(|c| table.c(c))).in_(
                        rows.into_iter()
                            .map(|r| tuple(r.into_iter().map(Expr::Value)))
                            .collect::<Vec<_>>(),
                    ),
                };
                conn.execute(&dialects::delete(&table).where_(cond)).await?;
            }
            Step::NullifyWhere {
                table,
                column,
                values,
            } => {
                conn.execute(
                    &dialects::update(&table)
                        .set(&column, Value::Null)
                        .where_(table.c(&column).in_(values)),
                )
                .await?;
                // The children's snapshots hold the old key: reload them.
                if let Some(child) = self.mappers.info_for_table(table.name()) {
                    self.identity.expire_type(child.type_id);
                }
            }
            Step::Update {
                info,
                key,
                pk,
                mut set,
                version,
                links,
            } => {
                for l in &links {
                    set.push((l.field, resolve(inserted, l)?));
                }
                let mut stmt = dialects::update(&info.table);
                if let (Some(v), Some(old)) = (info.version, &version) {
                    let mut next = Value::BigInt(old.as_i64().unwrap_or(0) + 1);
                    info.normalise_one(v, &mut next)?;
                    set.push((v, next));
                }
                for (i, v) in &set {
                    stmt = stmt.set(&info.columns[*i], v.clone());
                }
                let mut conds: Vec<Expr> = info
                    .pk
                    .iter()
                    .zip(pk)
                    .map(|(&i, v)| info.table.c(&info.columns[i]).eq(v))
                    .collect();
                if let (Some(v), Some(old)) = (info.version, version) {
                    conds.push(info.table.c(&info.columns[v]).eq(old));
                }
                let result = conn.execute(&stmt.where_(and_(conds))).await?;
                if info.version.is_some() && result.rows_affected() != 1 {
                    return Err(Error::StaleData {
                        table: info.table.name().to_owned(),
                        message: format!(
                            "UPDATE expected to match 1 row with the remembered version; {} matched",
                            result.rows_affected()
                        ),
                    });
                }
                if let Some(entry) = self.identity.get(info.type_id, &key) {
                    let mut snapshot = entry.to_vec();
                    for (i, v) in set {
                        snapshot[i] = v;
                    }
                    self.identity.insert(info.type_id, key, snapshot);
                }
            }
            Step::UpdateBatch {
                info,
                columns,
                rows,
            } => {
                let Some(form) = super::bulk::Form::of(self.engine.dialect().features()) else {
                    return Err(Error::Compile(dialects::CompileError::Unsupported {
                        dialect: self.engine.dialect().name(),
                        construct: "UPDATE joined with a list of rows",
                    }));
                };
                let (keys, values): (Vec<IdentityKey>, Vec<Vec<Value>>) = rows.into_iter().unzip();
                let stmt = super::bulk::BulkUpdate {
                    info: &info,
                    columns: &columns,
                    keys: &info.pk,
                    rows: &values,
                    form,
                };
                let compiled = conn.compile(&stmt)?;
                let done = conn
                    .execute_values(&compiled.sql, &compiled.params, StatementKind::Dml)
                    .await?;
                // MySQL counts rows whose values did not change as not
                // affected; only more matches than rows is wrong there.
                let expected = values.len() as u64;
                if done.affected > expected {
                    return Err(Error::StaleData {
                        table: info.table.name().to_owned(),
                        message: format!(
                            "a batched UPDATE expected to match {expected} row(s); {} matched",
                            done.affected
                        ),
                    });
                }
                let width = info.pk.len();
                for (key, row) in keys.into_iter().zip(values) {
                    if let Some(entry) = self.identity.get(info.type_id, &key) {
                        let mut snapshot = entry.to_vec();
                        for (&i, v) in columns[width..].iter().zip(row.into_iter().skip(width)) {
                            snapshot[i] = v;
                        }
                        self.identity.insert(info.type_id, key, snapshot);
                    }
                }
            }
            Step::Delete {
                info,
                keys,
                pks,
                version,
            } => {
                let expected = pks.len() as u64;
                let cond = key_condition(&info, pks);
                let cond = match (info.version, &version) {
                    (Some(v), Some(old)) => {
                        cond.and(info.table.c(&info.columns[v]).eq(old.clone()))
                    }
                    _ => cond,
                };
                let result = conn
                    .execute(&dialects::delete(&info.table).where_(cond))
                    .await?;
                if version.is_some() && result.rows_affected() != expected {
                    return Err(Error::StaleData {
                        table: info.table.name().to_owned(),
                        message: format!(
                            "DELETE expected to match {expected} row(s) with the remembered version; {} matched",
                            result.rows_affected()
                        ),
                    });
                }
                for key in keys {
                    self.identity.remove(info.type_id, &key);
                }
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------ transaction

    /// Flushes, then commits. With `expire_on_commit`, every object is
    /// marked expired and reloaded on next access.
    pub async fn commit(&mut self) -> Result<(), Error> {
        self.flush_for(true).await?;
        // Savepoints still open are released with the transaction.
        while self.savepoints > 0 {
            self.savepoints -= 1;
            if let Some(conn) = self.conn.as_mut() {
                commit_raw(conn).await?;
            }
        }
        self.identity.release_all_levels();
        if self.in_tx {
            if let Some(conn) = self.conn.as_mut() {
                let result = commit_raw(conn).await;
                self.in_tx = false;
                // Between transactions the connection goes back to the pool.
                self.conn = None;
                if let Err(e) = result {
                    self.failed = Some(e.to_string());
                    return Err(e);
                }
            }
        } else {
            // A lone autocommitted statement's connection goes back too.
            self.conn = None;
        }
        self.states.committed();
        if self.options.expire_on_commit {
            self.identity.expire_all();
        }
        Ok(())
    }

    /// Rolls back: staged changes are dropped, every object is expired, and
    /// a session that failed a flush becomes usable again.
    pub async fn rollback(&mut self) -> Result<(), Error> {
        self.pending.take();
        self.states.rolled_back(self.identity.all_keys());
        self.identity.clear();
        self.unloaded.clear();
        self.failed = None;
        self.savepoints = 0;
        self.dropped_savepoints = 0;
        if self.in_tx {
            self.in_tx = false;
            if let Some(mut conn) = self.conn.take() {
                rollback_raw(&mut conn).await?;
            }
        }
        self.conn = None;
        Ok(())
    }

    /// Rolls back anything open and gives the connection back to the pool;
    /// the session can be used again (it checks out a new connection).
    pub async fn close(&mut self) -> Result<(), Error> {
        let result = self.rollback().await;
        self.conn = None;
        result
    }

    // ------------------------------------------------------------ loading

    /// The object of type `T` whose primary key is `id`: from the identity
    /// map without SQL when it is there and not expired, else one SELECT.
    ///
    /// `id` is the key field's type (`WorkerId` for an `Option<WorkerId>`
    /// key field, encoded by its codec) or a plain value (`7`, `"abc"`, a
    /// `Uuid`, a `Value`); a composite key is a `Vec<Value>` in
    /// key-column order.
    pub async fn get<T: 'static>(&mut self, id: impl std::any::Any) -> Result<Option<T>, Error> {
        let mappers = self.mappers.clone();
        let mapper = mappers.mapper::<T>()?;
        let key = mapper.key_parts(&id)?;
        self.get_by_values(mapper, key.as_slice()).await
    }

    /// Like [`Session::get`] for a composite key, values in key-column order.
    pub async fn get_by_key<T: 'static>(&mut self, key: Vec<Value>) -> Result<Option<T>, Error> {
        let mappers = self.mappers.clone();
        let mapper = mappers.mapper::<T>()?;
        let key = mapper.key_parts(&key)?;
        self.get_by_values(mapper, key.as_slice()).await
    }

    /// `get` by key values already normalised to the key columns' types.
    async fn get_by_values<T: 'static>(
        &mut self,
        mapper: &Mapper<T>,
        key: &[Value],
    ) -> Result<Option<T>, Error> {
        self.check_usable()?;
        let info = mapper.info();
        let ident = IdentityKey::from_values(key).ok_or_else(|| Error::Mapping {
            type_name: info.type_name,
            field: "(primary key)".into(),
            message: "a key value is NULL".into(),
        })?;
        // A staged change of this object is what `get` answers (as
        // SQLAlchemy's identity map holds the changed object), without SQL.
        if let Some(values) = self.staged_values(info, &ident) {
            return mapper.build(values).map(Some);
        }
        if let Some(entry) = self.identity.fresh(info.type_id, &ident) {
            return mapper.build(entry.to_vec()).map(Some);
        }
        self.autoflush().await?;
        // The SQL compiled for the first dialect is read in place.
        let compiled;
        let sql: &str = match info.first_get_sql(self.engine.dialect().name()) {
            Some(sql) => sql,
            None => {
                compiled = get_sql(info, &self.engine)?;
                &compiled
            }
        };
        let conn = self.connection().await?;
        let row = conn.query_one(sql, key).await?;
        match row {
            None => {
                self.identity.remove(info.type_id, &ident);
                Ok(None)
            }
            Some(mut values) => {
                info.normalise(&mut values)?;
                if info.deferred.is_empty() {
                    self.loaded_in_full(info.type_id, [&ident]);
                } else {
                    self.fill_deferred(info, &ident, &mut values, &info.deferred);
                }
                // The snapshot is a copy in the session's block of single
                // rows; the object takes the row's own values.
                self.identity.of_type(info.type_id).put_row(&ident, &values);
                mapper.build_take(&mut values).map(Some)
            }
        }
    }

    /// Reloads `obj` from the database (flushing first).
    pub async fn refresh<T: 'static>(&mut self, obj: &mut T) -> Result<(), Error> {
        let mappers = self.mappers.clone();
        let mapper = mappers.mapper::<T>()?;
        let info = mapper.info().clone();
        let values = mapper.values(obj)?;
        let key = info.key_of(&values).ok_or_else(|| Error::Mapping {
            type_name: info.type_name,
            field: "(primary key)".into(),
            message: "cannot refresh an object without a primary key".into(),
        })?;
        self.identity.expire(info.type_id, &key);
        let pk: Vec<Value> = info.pk.iter().map(|&i| values[i].clone()).collect();
        let fresh: Option<T> = self.get_by_values(mapper, &pk).await?;
        if fresh.is_none() {
            return Err(Error::NoResultFound);
        }
        if let Some(entry) = self.identity.get(info.type_id, &key) {
            let snapshot = entry.to_vec();
            mapper.write_back(obj, &snapshot)?;
        }
        Ok(())
    }

    /// Marks `obj` expired: the next `get` reloads it.
    pub fn expire<T: 'static>(&mut self, obj: &T) -> Result<(), Error> {
        let mapper = self.mappers.mapper::<T>()?;
        let values = mapper.values(obj)?;
        if let Some(key) = mapper.info().key_of(&values) {
            self.identity.expire(mapper.info().type_id, &key);
        }
        Ok(())
    }

    /// Marks every object expired (SQLAlchemy's `expire_all()`).
    pub fn expire_all(&mut self) {
        self.identity.expire_all();
    }

    /// Copies `obj`'s state onto the persistent object with the same key
    /// (loading it when needed) and stages the difference; returns the
    /// merged object. A key not in the database stages an INSERT.
    pub async fn merge<T: Send + Sync + 'static>(&mut self, obj: &T) -> Result<T, Error> {
        let mappers = self.mappers.clone();
        let mapper = mappers.mapper::<T>()?;
        let info = mapper.info().clone();
        let values = mapper.values(obj)?;
        if let Some(key) = info.key_of(&values) {
            let known = self.identity.fresh(info.type_id, &key).is_some();
            if !known {
                let pk: Vec<Value> = info.pk.iter().map(|&i| values[i].clone()).collect();
                let _: Option<T> = self.get_by_values(mapper, &pk).await?;
            }
        }
        let (_, visit) = self.stage(&info, values.clone(), Vec::new());
        match visit {
            Visit::Update(stored) => mapper.build(stored),
            _ => mapper.build(values),
        }
    }

    /// Runs an ORM select and hydrates `T`s (SQLAlchemy's
    /// `session.scalars(select(Model)...)`), applying its loader options;
    /// staged changes are flushed first.
    pub async fn scalars<T: Send + Sync + 'static>(
        &mut self,
        stmt: Select<T>,
    ) -> Result<ScalarResult<T>, Error> {
        self.autoflush().await?;
        let mappers = self.mappers.clone();
        let mapper = mappers.mapper::<T>()?;
        let info = mapper.info().clone();
        let deferred = stmt.deferral.positions(&info)?;
        let options =
            loading::with_lazy_defaults(&mappers, info.type_id, loading::merge(&stmt.options));
        // The loads that join in this statement (joined, contains_eager,
        // the default for to-one).
        let mut joined = Vec::new();
        for l in &options {
            let access = mappers.relationship::<T>(&l.name)?;
            let rel = access.info().clone();
            let target = mappers
                .info(rel.target)
                .cloned()
                .ok_or(Error::UnmappedType {
                    type_name: rel.target_name,
                })?;
            if loading::joins_in_statement(l, rel.kind, rel.owner == rel.target) {
                joined.push((access, target, l.clone()));
            }
        }
        // A joined collection under LIMIT / OFFSET: the limit applies to
        // the parents, so they are selected in a subquery the collection
        // joins to (SQLAlchemy does the same).
        let wrap = (stmt.limit.is_some() || stmt.offset.is_some())
            && joined.iter().any(|(a, _, l)| {
                a.info().kind.is_collection() && l.strategy != loading::Strategy::ContainsEager
            });
        let mut core = if wrap {
            limited_parents(&info, stmt, &deferred)?
        } else {
            let core = core_select(&info, stmt, &deferred)?;
            (core, OwnerCols::Table)
        };
        for (access, target, l) in &joined {
            let rel = access.info();
            if l.strategy != loading::Strategy::ContainsEager {
                let criteria: Vec<Expr> = l.criteria.iter().chain(&rel.criteria).cloned().collect();
                core.0 = join_related(core.0, &info, &core.1, target, rel, l.inner, &criteria)?;
            }
            core.0 = core.0.add_columns(target.load_exprs().to_vec());
        }
        let (core, _) = core;
        let keep_values = options.len() > joined.len();
        let conn = self.connection().await?;
        let compiled = conn.compile(&core)?;
        let mut rows = conn
            .execute_values(&compiled.sql, &compiled.params, core.kind())
            .await?;
        let n = info.columns.len();
        let mut objs: Vec<T> = Vec::with_capacity(rows.len());
        let mut values: Vec<Vec<Value>> = Vec::new();
        let mut keys: Vec<IdentityKey> = Vec::with_capacity(rows.len());
        if joined.is_empty() {
            // One object per row: the row's values are copied into the
            // result's snapshot block, then move into the object.
            let mut block = BlockBuilder::new(n, rows.len());
            let mut at = Vec::with_capacity(rows.len());
            for row in rows.rows_mut() {
                let cut = n.min(row.len());
                let row = &mut row[..cut];
                info.normalise(row)?;
                let Some(key) = info.key_of(row) else {
                    continue;
                };
                if !deferred.is_empty() {
                    self.fill_deferred(&info, &key, row, &deferred);
                }
                if keep_values {
                    values.push(mappers.loader_values(info.type_id, row));
                }
                at.push(block.push(row));
                objs.push(mapper.build_take(row)?);
                keys.push(key);
            }
            if deferred.is_empty() {
                self.loaded_in_full(info.type_id, &keys);
            }
            let mut map = self.identity.of_type(info.type_id);
            map.reserve(keys.len());
            map.put_block(block.finish(), keys.iter().zip(at));
            self.recycle(rows);
        } else {
            // Rows are read in place from the decoded block: each parent's
            // values are copied into the result's snapshot block and move
            // into its object on the row that first names it, each related
            // row's likewise when its owner first meets it; the decoded
            // block goes back for the next statement to decode into.
            // Parents by key, for rows that come back to an earlier one.
            // While the parents' integer keys only grow (ordered by key, the
            // common case) a new key is known to be new without it; the
            // index is built from the keys so far at the first that does not.
            let mut index: FastMap<IdentityKey, usize> = FastMap::default();
            let mut ascending = true;
            let count = rows.len();
            let mut block = BlockBuilder::new(n, rows.len());
            let mut at = Vec::with_capacity(rows.len());
            let mut sides = joined
                .iter()
                .map(|(access, target, _)| {
                    let collect = access.joined_collector(&mappers)?;
                    Ok(JoinedSide::new(collect, target.columns.len(), rows.len()))
                })
                .collect::<Result<Vec<_>, Error>>()?;
            for row in rows.rows_mut() {
                let (own, mut rest) = row.split_at_mut(n.min(row.len()));
                info.normalise(own)?;
                let Some(key) = info.key_of(own) else {
                    continue;
                };
                // Rows of one parent usually follow each other.
                let known = match keys.last() {
                    Some(last) if *last == key => Some(keys.len() - 1),
                    last => {
                        if ascending {
                            let grows = match (last, key.as_int()) {
                                (None, _) => true,
                                (Some(l), Some(k)) => l.as_int().is_some_and(|l| l < k),
                                (Some(_), None) => false,
                            };
                            if !grows {
                                ascending = false;
                                index.reserve(count);
                                index.extend(keys.iter().cloned().zip(0..));
                            }
                        }
                        if ascending {
                            None
                        } else {
                            index.get(&key).copied()
                        }
                    }
                };
                let owner = match known {
                    Some(i) => i,
                    None => {
                        let i = objs.len();
                        if !deferred.is_empty() {
                            self.fill_deferred(&info, &key, own, &deferred);
                        }
                        if keep_values {
                            values.push(mappers.loader_values(info.type_id, own));
                        }
                        at.push(block.push(own));
                        objs.push(mapper.build_take(own)?);
                        if !ascending {
                            index.insert(key.clone(), i);
                        }
                        keys.push(key);
                        sides.iter_mut().for_each(JoinedSide::add_owner);
                        i
                    }
                };
                for ((_, target, _), side) in joined.iter().zip(sides.iter_mut()) {
                    let (part, tail) = rest.split_at_mut(target.columns.len().min(rest.len()));
                    rest = tail;
                    target.normalise(part)?;
                    if let Some(k) = target.key_of(part) {
                        side.push(owner, k, part)?;
                    }
                }
            }
            self.recycle(rows);
            if deferred.is_empty() {
                self.loaded_in_full(info.type_id, &keys);
            }
            let mut map = self.identity.of_type(info.type_id);
            map.reserve(keys.len());
            map.put_block(block.finish(), keys.iter().zip(at));
            for ((access, target, _), side) in joined.iter().zip(sides) {
                side.finish(
                    self,
                    &mut objs,
                    (info.type_id, target.type_id),
                    &keys,
                    access.info().name,
                )?;
            }
        }
        let rest: Vec<Load> = options
            .into_iter()
            .filter(|l| !joined.iter().any(|(a, _, _)| a.info().name == l.name))
            .collect();
        loading::apply_selectin::<T>(self, &mut objs, &values, &rest).await?;
        // Options under a joined load run by selectin on the joined objects
        // (one statement per level).
        for (access, _, l) in &joined {
            if !l.children.is_empty() {
                access.load_nested(self, &mut objs, &l.children).await?;
            }
        }
        Ok(ScalarResult { keys, items: objs })
    }

    /// `get` with loader options (SQLAlchemy's `session.get(Model, id,
    /// options=[...])`): always one SELECT, then the relationships.
    pub async fn get_with<T: Send + Sync + 'static>(
        &mut self,
        id: impl Into<Value>,
        loads: &[Load],
    ) -> Result<Option<T>, Error> {
        let mappers = self.mappers.clone();
        let info = mappers.mapper::<T>()?.info().clone();
        let pk = info
            .pk
            .first()
            .map(|&i| info.columns[i].clone())
            .unwrap_or_default();
        let stmt = super::query::select::<T>()
            .filter_by(&pk, id.into())
            .options(loads.to_vec());
        self.scalars(stmt).await?.one_or_none()
    }

    /// Loads relationships for objects already in hand, without selecting
    /// them again (SQLAlchemy's `selectinload` on a loaded list, or
    /// `session.refresh(obj, ["posts"])`): each option costs one statement
    /// per level for the whole list.
    ///
    /// ```no_run
    /// # use persistence::orm::{self, Session};
    /// # #[derive(Clone)] struct Publisher;
    /// # async fn demo(session: &mut Session, mut publishers: Vec<Publisher>) -> Result<(), persistence::Error> {
    /// session.load_related(&mut publishers, &[orm::selectinload("posts")]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn load_related<T: Send + Sync + 'static>(
        &mut self,
        objs: &mut Vec<T>,
        loads: &[Load],
    ) -> Result<(), Error> {
        self.autoflush().await?;
        let mappers = self.mappers.clone();
        let mapper = mappers.mapper::<T>()?;
        let values = objs
            .iter()
            .map(|o| {
                mapper
                    .values(o)
                    .map(|v| mappers.loader_values(mapper.info().type_id, &v))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        loading::apply_selectin::<T>(self, objs, &values, loads).await
    }

    /// Runs `core` (whose first columns are `T`'s mapped columns, in field
    /// order, followed by one more when `link` is [`LinkFrom::Extra`]) and
    /// hydrates `T`s, registering their identities (each row becomes its
    /// object's snapshot). Returns the objects with their keys, each row's
    /// link value, and, with `keep_values`, their values as
    /// [`Mappers::loader_values`] keeps them for nested loads.
    pub(crate) async fn load_objects<T: 'static>(
        &mut self,
        core: dialects::Select,
        link: LinkFrom,
        keep_values: bool,
    ) -> Result<Loaded<T>, Error> {
        let mappers = self.mappers.clone();
        let mapper = mappers.mapper::<T>()?;
        let info = mapper.info();
        let conn = self.connection().await?;
        let compiled = conn.compile(&core)?;
        let mut rows = conn
            .execute_values(&compiled.sql, &compiled.params, core.kind())
            .await?;
        let count = rows.len();
        let mut out = Loaded {
            objs: Vec::with_capacity(count),
            keys: Vec::with_capacity(count),
            links: Vec::with_capacity(count),
            values: Vec::new(),
        };
        // Each row's values are copied into the result's snapshot block,
        // then move into its object.
        let width = info.columns.len();
        let mut block = BlockBuilder::new(width, count);
        let mut at = Vec::with_capacity(count);
        for row in rows.rows_mut() {
            let row = match link {
                LinkFrom::Extra => {
                    let last = row.len().saturating_sub(1);
                    let (row, extra) = row.split_at_mut(last);
                    out.links.push(
                        extra
                            .first_mut()
                            .map_or(Value::Null, |v| std::mem::replace(v, Value::Null)),
                    );
                    row
                }
                LinkFrom::Field(i) => {
                    out.links.push(row.get(i).cloned().unwrap_or(Value::Null));
                    row
                }
            };
            info.normalise(row)?;
            let key = info.key_of(row);
            if let (Some(k), false) = (&key, info.deferred.is_empty()) {
                self.fill_deferred(info, k, row, &info.deferred);
            }
            if keep_values {
                out.values.push(mappers.loader_values(info.type_id, row));
            }
            if key.is_some() {
                at.push(block.push(row));
            }
            out.objs.push(mapper.build_take(row)?);
            out.keys.push(key);
        }
        if info.deferred.is_empty() {
            self.loaded_in_full(info.type_id, out.keys.iter().flatten());
        }
        let mut map = self.identity.of_type(info.type_id);
        map.reserve(at.len());
        map.put_block(block.finish(), out.keys.iter().flatten().zip(at));
        self.recycle(rows);
        Ok(out)
    }

    /// Hands a load's row buffer back to the engine for the next load.
    pub(crate) fn recycle(&self, rows: crate::driver::ValueRows) {
        if let Some(conn) = &self.conn {
            conn.recycle(rows);
        }
    }

    /// Room for `n` more loaded collections.
    pub(crate) fn reserve_loaded(&mut self, n: usize) {
        self.loaded.reserve(n);
    }

    /// Remembers which children a loaded collection held.
    pub(crate) fn record_loaded(
        &mut self,
        owner: TypeId,
        key: IdentityKey,
        name: &'static str,
        children: Vec<IdentityKey>,
    ) {
        self.loaded.insert((owner, key, name), children);
    }

    /// Runs a Core statement in the session's transaction (after autoflush).
    pub async fn execute<S: Statement + ?Sized>(&mut self, stmt: &S) -> Result<QueryResult, Error> {
        self.autoflush().await?;
        let conn = self.connection().await?;
        conn.execute(stmt).await
    }

    /// Runs a bulk UPDATE of `T`'s table without loading objects; the
    /// identity map follows as the statement's
    /// [`synchronize_session`](super::synchronize::SynchronizeSession) says
    /// (`orm::synchronize`). Returns the rows changed.
    pub async fn execute_update<T: 'static>(&mut self, stmt: Update<T>) -> Result<u64, Error> {
        self.update_synchronized(stmt).await
    }

    /// Runs a bulk DELETE from `T`'s table without loading objects; the
    /// identity map follows as the statement's
    /// [`synchronize_session`](super::synchronize::SynchronizeSession) says
    /// (`orm::synchronize`). Returns the rows deleted.
    pub async fn execute_delete<T: 'static>(&mut self, stmt: Delete<T>) -> Result<u64, Error> {
        self.delete_synchronized(stmt).await
    }

    /// The mapper of `T` (for custom queries in repositories).
    pub fn mapper<T: 'static>(&self) -> Result<&Mapper<T>, Error> {
        self.mappers.mapper::<T>()
    }
}

/// `WHERE pk IN (...)` (or row values for composite keys).
fn key_condition(info: &MapperInfo, pks: Vec<Vec<Value>>) -> Expr {
    if info.pk.len() == 1 {
        let col = info.table.c(&info.columns[info.pk[0]]);
        col.in_(
            pks.into_iter()
                .filter_map(|mut p| p.pop())
                .collect::<Vec<_>>(),
        )
    } else {
        let cols = tuple(info.pk.iter().map(|&i| info.table.c(&info.columns[i])));
        cols.in_(
            pks.into_iter()
                .map(|p| tuple(p.into_iter().map(Expr::Value)))
                .collect::<Vec<_>>(),
        )
    }
}

fn where_of(info: &MapperInfo, where_: Vec<Expr>, filter_by: Vec<(String, Value)>) -> Vec<Expr> {
    let mut out = where_;
    for (c, v) in filter_by {
        out.push(info.table.c(&c).eq(v));
    }
    out
}

/// Where the owner's columns come from in a statement with joined loads:
/// its table, or the subquery of its limited rows.
enum OwnerCols {
    Table,
    Subquery(dialects::sql::alias::Subquery),
}

impl OwnerCols {
    fn c(&self, owner: &MapperInfo, column: &str) -> Expr {
        match self {
            OwnerCols::Table => owner.table.c(column),
            OwnerCols::Subquery(sub) => sub.c(column),
        }
    }
}

/// `LEFT OUTER JOIN` (or `JOIN` with `inner`) of a relationship's target
/// onto an ORM select.
fn join_related(
    core: dialects::Select,
    owner: &MapperInfo,
    cols: &OwnerCols,
    target: &MapperInfo,
    rel: &super::relationship::RelationshipInfo,
    inner: bool,
    criteria: &[Expr],
) -> Result<dialects::Select, Error> {
    use super::relationship::RelationKind;
    let r = rel.resolved()?;
    // The loader's and the relationship's conditions join the target's ON.
    let with = |on: Expr| criteria.iter().fold(on, |on, c| on.and(c.clone()));
    let join = |core: dialects::Select, t: &dialects::Table, on: Expr| {
        if inner {
            core.join(t, on)
        } else {
            core.outerjoin(t, on)
        }
    };
    Ok(match rel.kind {
        RelationKind::OneToMany | RelationKind::OneToOne => join(
            core,
            &target.table,
            with(target.table.c(&r.fk).eq(cols.c(owner, &r.referred))),
        ),
        RelationKind::ManyToOne => join(
            core,
            &target.table,
            with(cols.c(owner, &r.fk).eq(target.table.c(&r.referred))),
        ),
        RelationKind::ManyToMany => {
            let (Some(sec), Some(tfk), Some(tref)) =
                (&r.secondary, &r.target_fk, &r.target_referred)
            else {
                return Err(Error::Mapping {
                    type_name: owner.type_name,
                    field: rel.name.to_owned(),
                    message: "many-to-many without its secondary table".into(),
                });
            };
            let core = join(core, sec, sec.c(&r.fk).eq(cols.c(owner, &r.referred)));
            join(
                core,
                &target.table,
                with(target.table.c(tref).eq(sec.c(tfk))),
            )
        }
    })
}

/// The parents of a joined collection load under LIMIT / OFFSET, limited
/// in a subquery (`SELECT anon_1.* , child.* FROM (SELECT ... LIMIT n) AS
/// anon_1 LEFT OUTER JOIN child ...`): each ORDER BY term is a labelled
/// column of the subquery, so the outer statement sorts the same way.
fn limited_parents<T>(
    info: &MapperInfo,
    mut stmt: Select<T>,
    deferred: &[usize],
) -> Result<(dialects::Select, OwnerCols), Error> {
    let order = std::mem::take(&mut stmt.order_by);
    let mut inner = core_select(info, stmt, deferred)?;
    let mut labels = Vec::with_capacity(order.len());
    for (k, o) in order.iter().enumerate() {
        let name = format!("_order_{k}");
        inner = inner.add_columns(vec![o.expr.clone().label(&name)]);
        labels.push(name);
    }
    let sub = inner.order_by(order.clone()).subquery("anon_1");
    let outer = dialects::select(info.columns.iter().map(|c| sub.c(c)).collect::<Vec<_>>())
        .select_from(&sub)
        .order_by(
            order
                .iter()
                .zip(&labels)
                .map(|(o, l)| dialects::OrderBy {
                    expr: sub.c(l),
                    desc: o.desc,
                    nulls: o.nulls,
                })
                .collect::<Vec<_>>(),
        );
    Ok((outer, OwnerCols::Subquery(sub)))
}

/// The Core select for an ORM select: the mapped columns of `T`'s table,
/// `NULL AS col` for the `deferred` ones.
pub(crate) fn core_select<T>(
    info: &MapperInfo,
    stmt: Select<T>,
    deferred: &[usize],
) -> Result<dialects::Select, Error> {
    let columns = if deferred.is_empty() {
        info.column_exprs().to_vec()
    } else {
        super::deferred::select_columns(info, deferred)
    };
    let mut core = dialects::select(columns).select_from(&info.table);
    for (target, on, kind) in stmt.joins {
        core = match kind {
            dialects::sql::select::JoinKind::Left => core.outerjoin(target, on),
            _ => core.join(target, on),
        };
    }
    for cond in where_of(info, stmt.where_, stmt.filter_by) {
        core = core.where_(cond);
    }
    core = core.order_by(stmt.order_by);
    if let Some(n) = stmt.limit {
        core = core.limit(n);
    }
    if let Some(n) = stmt.offset {
        core = core.offset(n);
    }
    if stmt.distinct {
        core = core.distinct();
    }
    Ok(core)
}

/// `SELECT cols FROM t WHERE pk = ?`, compiled once per mapper and dialect.
fn get_sql(info: &MapperInfo, engine: &Engine) -> Result<std::sync::Arc<str>, Error> {
    let dialect = engine.dialect();
    if let Some(sql) = info.cached_get_sql(dialect.name()) {
        return Ok(sql);
    }
    let conds: Vec<Expr> = info
        .pk
        .iter()
        .map(|&i| info.table.c(&info.columns[i]).eq(dialects::bindparam("pk")))
        .collect();
    let stmt = dialects::select(info.load_exprs().to_vec())
        .select_from(&info.table)
        .where_(and_(conds));
    let sql: std::sync::Arc<str> = stmt.compile(dialect)?.sql.into();
    info.cache_get_sql(dialect.name(), sql.clone());
    Ok(sql)
}

/// The SQL of a batched INSERT: it depends only on the batch's shape, so
/// it is compiled once per (dialect, columns, rows, returning) and reused.
fn insert_sql(
    info: &MapperInfo,
    dialect: &dyn dialects::Dialect,
    columns: &[usize],
    rows: usize,
    returning: &[usize],
) -> Result<std::sync::Arc<str>, Error> {
    let shape = (dialect.name(), columns.to_vec(), rows, returning.to_vec());
    if let Some(sql) = info.cached_insert_sql(&shape) {
        return Ok(sql);
    }
    let names: Vec<&str> = columns.iter().map(|&i| info.columns[i].as_str()).collect();
    let template: Vec<Vec<Value>> = vec![vec![Value::Null; columns.len()]; rows];
    let mut stmt = dialects::insert(&info.table).rows(names, template);
    if !returning.is_empty() {
        let cols: Vec<Expr> = returning
            .iter()
            .map(|&i| info.table.c(&info.columns[i]))
            .collect();
        stmt = stmt.returning(cols);
    }
    let sql: std::sync::Arc<str> = Statement::compile(&stmt, dialect)?.sql.into();
    info.cache_insert_sql(shape, sql.clone());
    Ok(sql)
}

/// Rows of an inserted batch on their way into the identity map: entered
/// while the next batch's statement runs (the driver works meanwhile), or
/// before any other step.
/// The rows sit in one [`Block`](super::identity::Block) (compact cells,
/// their text in one buffer), which the identity map's entries share: a
/// batch of inserted rows costs one allocation, not one per row and string.
pub(crate) struct Deferred {
    ty: TypeId,
    block: super::identity::Block,
    /// Each row's key and its row number in `block`.
    keys: Vec<(IdentityKey, usize)>,
}

impl Deferred {
    fn finish(self, identity: &mut IdentityMap) {
        identity
            .of_type(self.ty)
            .put_block(self.block, self.keys.iter().map(|(k, row)| (k, *row)));
    }
}

/// Runs `statement`; once it is under way (sent, the driver or server at
/// work), enters `deferred` into the identity map.
async fn overlapped<T>(
    statement: impl std::future::Future<Output = T>,
    deferred: Option<Deferred>,
    identity: &mut IdentityMap,
) -> T {
    let finish = async move {
        if let Some(d) = deferred {
            d.finish(identity);
        }
    };
    futures_util::future::join(statement, finish).await.0
}

/// Objects per chunk of a large [`Session::add_all`] of objects without
/// cascades: what is staged, planned and bound at a time (one INSERT per
/// chunk where the backend's parameter limit allows it), so that memory
/// beyond the identity map stays bounded however many objects are added.
pub const ADD_ALL_CHUNK: usize = 5_000;

/// Batches of at least this many rows learn their keys on SQLite from the
/// rowids (two small statements more) rather than from RETURNING (a row
/// back per row inserted). Measured with the `workloads` bench on sqlx's
/// SQLite driver (one hop to its worker thread per returned row), RETURNING
/// for every batch was slower: 100 rows 194 µs against 130 µs, 1000 rows
/// 1.67 ms against 0.98 ms. Measured again on the rusqlite driver (a
/// statement's rows in one message), as ORM time over raw rusqlite's in
/// the same interleaved run: RETURNING per batch was slower for 100 rows
/// (3.90 against 3.37) and 1000 rows (3.99 against 2.64) and faster only
/// for the 100k bulk insert (4.67 against 5.58), so the rowid batches stay.
const ROWID_BATCH: usize = 64;

/// What an INSERT batch read back.
enum Back {
    /// Nothing (no RETURNING).
    Nothing,
    /// The RETURNING rows, in the order of the batch.
    Rows(crate::driver::ValueRows),
    /// The key of the first row, the others following one by one (and
    /// already written into the rows).
    Rowids(i64),
}

/// Whether an INSERT batch on SQLite may learn its generated keys from the
/// rowids instead of RETURNING: the only value to read back is a
/// single-column primary key that is not sent (an autoincrement key), in
/// a table of the main schema whose rowid is not shadowed by a column.
fn rowid_keys(info: &MapperInfo, columns: &[usize], returning: &[usize]) -> bool {
    matches!((info.pk.as_slice(), returning), ([pk], [r]) if pk == r && !columns.contains(pk))
        && info.table.schema_name().is_none()
        && !info
            .table
            .columns()
            .iter()
            .any(|c| ["rowid", "oid", "_rowid_"].contains(&c.name().to_ascii_lowercase().as_str()))
}

/// SQLite: inserts `rows` (sending their fields `columns`) without
/// RETURNING and writes their keys from the rowids, which a multi-row
/// INSERT hands out consecutively (each new rowid is one more than the
/// largest; SQLite's documented algorithm) as long as no trigger on the
/// table inserts rows of its own and the largest rowid is far from the end
/// of the range (where SQLite starts picking rowids at random). Both are
/// checked first; when either fails, nothing is inserted and
/// `Back::Nothing` sends the batch through RETURNING. The keys are written
/// before the INSERT (the largest rowid plus one, two, ...) and corrected
/// after it from `last_insert_rowid()` when they differ (AUTOINCREMENT after
/// deletes). A key column that is the rowid (an `INTEGER PRIMARY KEY`) is
/// the rowid itself; otherwise the keys are read back by rowid range.
async fn insert_by_rowid(
    conn: &mut Connection,
    info: &MapperInfo,
    columns: &[usize],
    rows: &mut [Vec<Value>],
    deferred: &mut Option<Deferred>,
    identity: &mut IdentityMap,
    known: &mut Option<Rowids>,
) -> Result<Back, Error> {
    let (Some(&pk), Ok(n)) = (info.pk.first(), i64::try_from(rows.len())) else {
        return Ok(Back::Nothing);
    };
    if n == 0 {
        return Ok(Back::Nothing);
    }
    let table = quote_sqlite(info.table.name());
    // The batch before, of this table in this flush, left its last rowid
    // (nothing else inserts into the table in between: no trigger does,
    // and the flush's statements run one after another).
    let previous = known.take().filter(|r| r.ty == info.type_id);
    let (max, alias) = match previous {
        Some(r) => (r.last, Some(r.alias)),
        None => match rowid_check(conn, info, &table).await {
            Some(max) => (max, None),
            None => return Ok(Back::Nothing),
        },
    };
    if max > i64::MAX - n {
        return Ok(Back::Nothing);
    }
    let write_keys = |rows: &mut [Vec<Value>], first: i64| {
        for (row, id) in rows.iter_mut().zip(first..) {
            row[pk] = Value::BigInt(id);
            // The key column's width (an INTEGER key as `Int`).
            let _ = info.normalise_one(pk, &mut row[pk]);
        }
    };
    let mut first = max + 1;
    write_keys(rows, first);
    let sql = insert_sql(info, &dialects::Sqlite, columns, rows.len(), &[])?;
    let params = RowParams { rows, columns };
    let done = overlapped(
        conn.execute_values(&sql, &params, StatementKind::Dml),
        deferred.take(),
        identity,
    )
    .await?;
    let (Some(last), true) = (done.last_insert_id, done.affected == n.unsigned_abs()) else {
        return Err(Error::Mapping {
            type_name: info.type_name,
            field: info.columns[pk].clone(),
            message: "the generated keys of an INSERT could not be read back".into(),
        });
    };
    if last - (n - 1) != first {
        first = last - (n - 1);
        write_keys(rows, first);
    }
    let key = quote_sqlite(&info.columns[pk]);
    let alias = match alias {
        Some(alias) => alias,
        None => {
            let probe = format!("SELECT {key} FROM {table} WHERE rowid = ?1");
            conn.query_one(&probe, &[Value::BigInt(last)])
                .await?
                .and_then(|v| v.first().and_then(Value::as_i64))
                == Some(last)
        }
    };
    *known = Some(Rowids {
        ty: info.type_id,
        last,
        alias,
    });
    if alias {
        return Ok(Back::Rowids(first));
    }
    let range = format!("SELECT {key} FROM {table} WHERE rowid BETWEEN ?1 AND ?2 ORDER BY rowid");
    let keys = conn
        .execute_values(
            &range,
            &[Value::BigInt(first), Value::BigInt(last)][..],
            StatementKind::Query,
        )
        .await?;
    Ok(Back::Rows(keys))
}

/// The largest rowid of `info`'s table (0 when empty), or `None` when the
/// rowid shortcut does not apply: a trigger on the table (it could insert
/// rows of its own), or no rowid at all.
async fn rowid_check(conn: &mut Connection, info: &MapperInfo, table: &str) -> Option<i64> {
    let check = format!(
        "SELECT (SELECT max(rowid) FROM {table}), \
         (SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?1 COLLATE NOCASE) \
         + (SELECT count(*) FROM sqlite_temp_master WHERE type = 'trigger' AND tbl_name = ?1 COLLATE NOCASE)"
    );
    let name = [Value::String(info.table.name().to_owned())];
    let found = conn.query_one(&check, &name).await.ok()??;
    let max = match found.first() {
        Some(Value::Null) => Some(0),
        Some(v) => v.as_i64(),
        None => None,
    };
    let triggers = found.get(1).and_then(Value::as_i64);
    match (max, triggers) {
        (Some(max), Some(0)) => Some(max),
        _ => None,
    }
}

/// What SQLite's last rowid batch of a flush learnt: its table, its last
/// rowid, and whether the key column is the rowid.
#[derive(Debug)]
pub(crate) struct Rowids {
    ty: TypeId,
    last: i64,
    alias: bool,
}

/// An SQLite identifier, quoted.
fn quote_sqlite(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Drop for Session {
    fn drop(&mut self) {
        // The connection's pool rolls back an open transaction on return.
        self.conn = None;
        if let Some(spare) = self.spare.take() {
            spare.give(std::mem::take(&mut self.identity));
        }
    }
}

/// The row of `written` for the write-back of one visit: a row kept by the
/// flush is taken (not copied) and `written` becomes its key, so that a
/// later visit of the same change finds it in the identity map; a row
/// without a key is copied.
fn take_written(
    written: &mut Written,
    info: &MapperInfo,
    identity: &IdentityMap,
) -> Option<Vec<Value>> {
    match written {
        Written::Key(key) => identity.get(info.type_id, key).map(|s| s.to_vec()),
        Written::Row(row) => match info.key_of(row) {
            Some(key) => match std::mem::replace(written, Written::Key(key)) {
                Written::Row(row) => Some(row),
                Written::Key(_) => None,
            },
            None => Some(row.clone()),
        },
    }
}
