//! The unit of work: staged changes, and the plan that orders them into
//! statements. [`plan`] is a pure function (tested without a database);
//! the session executes what it returns.

use std::any::TypeId;
use std::sync::Arc;

use dialects::{Features, MetaData, Value};

use super::identity::{FastMap, IdentityKey};
use super::mapper::MapperInfo;
use super::registry::Mappers;
use crate::error::Error;

/// A field whose value is another staged row's field, known only once
/// that row is inserted (a child's foreign key to a new parent's id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Link {
    /// The field to fill.
    pub field: usize,
    /// The staged insert it comes from (its `id`).
    pub parent: usize,
    /// The field of that row.
    pub parent_field: usize,
}

/// A value of an association row: known, or from a staged insert.
#[derive(Debug, Clone)]
pub(crate) enum RefValue {
    Known(Value),
    Linked { change: usize, field: usize },
}

/// A change staged by `add`, `delete` or `merge`.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    /// A new row: every mapped field's value (NULL where unset).
    Insert {
        ty: TypeId,
        id: usize,
        values: Vec<Value>,
        links: Vec<Link>,
    },
    /// Changed fields of a persistent row.
    Update {
        ty: TypeId,
        key: IdentityKey,
        pk: Vec<Value>,
        set: Vec<(usize, Value)>,
        version: Option<Value>,
        links: Vec<Link>,
    },
    /// A row of an association table.
    Associate {
        table: dialects::Table,
        columns: [String; 2],
        values: [RefValue; 2],
    },
    /// Rows of a table matching `column = value` (association rows, or
    /// children whose parent is deleted): deleted before the parent.
    DeleteWhere {
        table: dialects::Table,
        conditions: Vec<(String, Value)>,
    },
    /// Rows of a child table whose foreign key `column` is `value` get a
    /// NULL key (children of a parent deleted without a delete cascade,
    /// SQLAlchemy's default): before the parent's DELETE.
    NullifyWhere {
        table: dialects::Table,
        column: String,
        value: Value,
    },
    /// A persistent row to delete.
    Delete {
        ty: TypeId,
        key: IdentityKey,
        pk: Vec<Value>,
        version: Option<Value>,
    },
    /// A change taken back before flush (keeps later changes' positions).
    Removed,
}

/// The staged changes of a session, in staging order, with indexes so
/// that staging n objects costs O(n): a change taken back becomes
/// [`Change::Removed`] (later changes keep their positions).
#[derive(Debug, Default)]
pub(crate) struct Staged {
    changes: Vec<Change>,
    /// Changes that are not `Removed`.
    live: usize,
    /// Inserts staged with a primary key: position by (type, key).
    inserts_by_key: FastMap<(TypeId, IdentityKey), usize>,
    /// Updates: position by (type, key) (at most one per object).
    updates_by_key: FastMap<(TypeId, IdentityKey), usize>,
    /// Position of each insert by change id: ids are handed out in
    /// staging order, so the insert with id `first_id + i` is at
    /// `by_id[i]` (while `dense`).
    by_id: Vec<usize>,
    first_id: Option<usize>,
    dense: bool,
}

impl Staged {
    /// Whether nothing is staged.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Room for `n` more changes.
    pub fn reserve(&mut self, n: usize) {
        self.changes.reserve(n);
        self.by_id.reserve(n);
    }

    /// Stages a change with nothing to index (association rows, deletes
    /// through a parent).
    pub fn push(&mut self, change: Change) {
        if let Change::Insert { id, .. } = &change {
            self.index_id(*id);
        }
        self.live += usize::from(!matches!(change, Change::Removed));
        self.changes.push(change);
    }

    fn index_id(&mut self, id: usize) {
        let first = *self.first_id.get_or_insert_with(|| {
            self.dense = true;
            id
        });
        if self.dense && id == first + self.by_id.len() {
            self.by_id.push(self.changes.len());
        } else {
            self.dense = false;
        }
    }

    /// Stages an insert whose primary key is `key`.
    pub fn push_keyed_insert(&mut self, key: IdentityKey, change: Change) {
        if let Change::Insert { ty, .. } = &change {
            self.inserts_by_key.insert((*ty, key), self.changes.len());
        }
        self.push(change);
    }

    /// Stages an update of the object `key`, replacing one staged before.
    pub fn push_update(&mut self, ty: TypeId, key: IdentityKey, change: Change) {
        let at = self.changes.len();
        if let Some(old) = self.updates_by_key.insert((ty, key), at) {
            self.remove_at(old);
        }
        self.push(change);
    }

    fn remove_at(&mut self, at: usize) {
        if let Some(c) = self.changes.get_mut(at) {
            if !matches!(c, Change::Removed) {
                *c = Change::Removed;
                self.live -= 1;
            }
        }
    }

    /// The staged insert of the object `key`.
    pub fn insert_by_key(&mut self, ty: TypeId, key: &IdentityKey) -> Option<&mut Change> {
        let at = *self.inserts_by_key.get(&(ty, key.clone()))?;
        self.changes.get_mut(at)
    }

    /// Takes back the staged insert of the object `key`; whether there was one.
    pub fn remove_insert_by_key(&mut self, ty: TypeId, key: &IdentityKey) -> bool {
        match self.inserts_by_key.remove(&(ty, key.clone())) {
            Some(at) => {
                self.remove_at(at);
                true
            }
            None => false,
        }
    }

    /// Whether an insert of the object `key` is staged.
    pub fn has_insert(&self, ty: TypeId, key: &IdentityKey) -> bool {
        self.inserts_by_key.contains_key(&(ty, key.clone()))
    }

    /// Takes back every change staged for the object `key` (its insert,
    /// its update, its delete: what `expunge` forgets); whether there was one.
    pub fn remove_object(&mut self, ty: TypeId, key: &IdentityKey) -> bool {
        let mut found = self.remove_insert_by_key(ty, key);
        if let Some(at) = self.updates_by_key.remove(&(ty, key.clone())) {
            self.remove_at(at);
            found = true;
        }
        let deletes: Vec<usize> = self
            .changes
            .iter()
            .enumerate()
            .filter(
                |(_, c)| matches!(c, Change::Delete { ty: t, key: k, .. } if *t == ty && k == key),
            )
            .map(|(at, _)| at)
            .collect();
        for at in deletes {
            self.remove_at(at);
            found = true;
        }
        found
    }

    /// The staged update of the object `key`.
    pub fn update_by_key(&mut self, ty: TypeId, key: &IdentityKey) -> Option<&mut Change> {
        let at = *self.updates_by_key.get(&(ty, key.clone()))?;
        self.changes.get_mut(at)
    }

    /// The staged insert with change id `id`.
    pub fn insert_by_id(&mut self, id: usize) -> Option<&mut Change> {
        if let (true, Some(first)) = (self.dense, self.first_id) {
            let at = id
                .checked_sub(first)
                .and_then(|i| self.by_id.get(i).copied())?;
            return self.changes.get_mut(at);
        }
        self.changes
            .iter_mut()
            .find(|c| matches!(c, Change::Insert { id: i, .. } if *i == id))
    }

    /// Every staged change, in staging order (taken back ones as
    /// `Removed`); nothing stays staged.
    pub fn take(&mut self) -> Vec<Change> {
        let changes = std::mem::take(&mut self.changes);
        *self = Staged::default();
        changes
    }
}

/// One statement (or batch) of a flush.
#[derive(Debug)]
pub(crate) enum Step {
    /// `INSERT INTO t (columns) VALUES (...), (...) [RETURNING ...]`.
    Insert {
        info: Arc<MapperInfo>,
        /// Field positions sent as columns.
        columns: Vec<usize>,
        /// Full field values of each row (unsent fields NULL until returned),
        /// with the staged change it comes from and its links.
        rows: Vec<InsertRow>,
        /// Field positions to read back (`RETURNING`), when the backend can.
        returning: Vec<usize>,
    },
    /// `INSERT INTO association (a, b) VALUES ...`.
    Associate {
        table: dialects::Table,
        columns: [String; 2],
        rows: Vec<[RefValue; 2]>,
    },
    /// `DELETE FROM t WHERE (columns) IN (rows)`: the rows of one table
    /// matched by the same columns, in one statement.
    DeleteWhere {
        table: dialects::Table,
        columns: Vec<String>,
        rows: Vec<Vec<Value>>,
    },
    /// `UPDATE t SET column = NULL WHERE column IN (values)`.
    NullifyWhere {
        table: dialects::Table,
        column: String,
        values: Vec<Value>,
    },
    /// `UPDATE t SET ... WHERE pk = ... [AND version = ...]`.
    Update {
        info: Arc<MapperInfo>,
        key: IdentityKey,
        pk: Vec<Value>,
        set: Vec<(usize, Value)>,
        version: Option<Value>,
        links: Vec<Link>,
    },
    /// UPDATEs of rows of one table setting the same columns, in one
    /// statement joined with the rows' values (`UPDATE ... FROM (VALUES
    /// ...)` / `UPDATE ... JOIN (SELECT ... UNION ALL ...)`).
    UpdateBatch {
        info: Arc<MapperInfo>,
        /// Key positions first, then the set positions (ascending).
        columns: Vec<usize>,
        /// Each row's identity and its values at `columns`.
        rows: Vec<(IdentityKey, Vec<Value>)>,
    },
    /// `DELETE FROM t WHERE pk IN (...)` (one row per statement when versioned).
    Delete {
        info: Arc<MapperInfo>,
        keys: Vec<IdentityKey>,
        pks: Vec<Vec<Value>>,
        version: Option<Value>,
    },
}

/// An insert row: its staged change, every field's value, its links.
type InsertRow = (usize, Vec<Value>, Vec<Link>);

/// Insert rows of one shape: depth (for trees), sent fields, rows.
type Batch = (usize, Vec<usize>, Vec<InsertRow>);

/// The changes of one mapper, in staging order.
struct TypeChanges {
    info: Arc<MapperInfo>,
    inserts: Vec<InsertRow>,
    updates: Vec<Step>,
    deletes: Vec<(IdentityKey, Vec<Value>, Option<Value>)>,
}

/// Orders `changes` into statements: inserts and updates table by table,
/// parents before children; deletes children before parents. Inserts into
/// one table with the same columns are batched, as many rows per statement
/// as the backend's parameter limit allows. Values move from the changes
/// into the steps (nothing is copied per row).
pub(crate) fn plan(
    changes: Vec<Change>,
    mappers: &Mappers,
    features: &Features,
) -> Result<Vec<Step>, Error> {
    let order = table_order(mappers.metadata())?;
    let rank = |info: &MapperInfo| {
        order
            .iter()
            .position(|t| t == info.table.name())
            .unwrap_or(usize::MAX)
    };
    let mut tables: Vec<TypeChanges> = Vec::new();
    let mut assoc: Vec<(dialects::Table, [String; 2], Vec<[RefValue; 2]>)> = Vec::new();
    let mut delete_where: Vec<Step> = Vec::new();
    let mut nullify: Vec<Step> = Vec::new();
    // The tables in order of first appearance, with room for their
    // inserts made once.
    let mut counts: Vec<(TypeId, usize)> = Vec::new();
    for c in &changes {
        let (Change::Insert { ty, .. } | Change::Update { ty, .. } | Change::Delete { ty, .. }) = c
        else {
            continue;
        };
        let insert = usize::from(matches!(c, Change::Insert { .. }));
        match counts.last_mut().filter(|(t, _)| t == ty) {
            Some((_, n)) => *n += insert,
            None => match counts.iter_mut().find(|(t, _)| t == ty) {
                Some((_, n)) => *n += insert,
                None => counts.push((*ty, insert)),
            },
        }
    }
    for (ty, n) in counts {
        slot(&mut tables, mappers, ty)?.inserts.reserve_exact(n);
    }
    for c in changes {
        match c {
            Change::Insert {
                ty,
                id,
                values,
                links,
            } => {
                // Runs of inserts of one type go to the slot found last.
                let last = tables
                    .last_mut()
                    .filter(|t| t.info.type_id == ty)
                    .map(|t| &mut t.inserts);
                match last {
                    Some(inserts) => inserts.push((id, values, links)),
                    None => slot(&mut tables, mappers, ty)?
                        .inserts
                        .push((id, values, links)),
                }
            }
            Change::Update {
                ty,
                key,
                pk,
                set,
                version,
                links,
            } => {
                let t = slot(&mut tables, mappers, ty)?;
                if !set.is_empty() || !links.is_empty() {
                    t.updates.push(Step::Update {
                        info: t.info.clone(),
                        key,
                        pk,
                        set: with_onupdate(&t.info, set),
                        version,
                        links,
                    });
                }
            }
            Change::Delete {
                ty,
                key,
                pk,
                version,
            } => slot(&mut tables, mappers, ty)?
                .deletes
                .push((key, pk, version)),
            Change::Associate {
                table,
                columns,
                values,
            } => match assoc
                .iter_mut()
                .find(|(t, cols, _)| t.name() == table.name() && *cols == columns)
            {
                Some((_, _, rows)) => rows.push(values),
                None => assoc.push((table, columns, vec![values])),
            },
            Change::DeleteWhere { table, conditions } => {
                let (columns, row): (Vec<String>, Vec<Value>) = conditions.into_iter().unzip();
                let same = delete_where.iter_mut().find_map(|s| match s {
                    Step::DeleteWhere {
                        table: t,
                        columns: c,
                        rows,
                    } if t.name() == table.name() && *c == columns => Some(rows),
                    _ => None,
                });
                match same {
                    Some(rows) => {
                        if !rows.contains(&row) {
                            rows.push(row);
                        }
                    }
                    None => delete_where.push(Step::DeleteWhere {
                        table,
                        columns,
                        rows: vec![row],
                    }),
                }
            }
            Change::NullifyWhere {
                table,
                column,
                value,
            } => {
                let same = nullify.iter_mut().find_map(|s| match s {
                    Step::NullifyWhere {
                        table: t,
                        column: c,
                        values,
                    } if t.name() == table.name() && *c == column => Some(values),
                    _ => None,
                });
                match same {
                    Some(values) => values.push(value),
                    None => nullify.push(Step::NullifyWhere {
                        table,
                        column,
                        values: vec![value],
                    }),
                }
            }
            Change::Removed => {}
        }
    }
    tables.sort_by_key(|t| rank(&t.info));

    let mut steps = Vec::new();
    let mut deletes = Vec::new();
    for t in tables {
        let TypeChanges {
            info,
            inserts,
            updates,
            deletes: type_deletes,
        } = t;
        insert_steps(&info, inserts, features, &mut steps);
        update_steps(&info, updates, features, &mut steps);
        deletes.push((info, type_deletes));
    }
    // Association rows once both sides exist.
    for (table, columns, rows) in assoc {
        steps.push(Step::Associate {
            table,
            columns,
            rows,
        });
    }
    // Children losing a deleted parent, association rows and children
    // deleted through their parent go first.
    steps.extend(nullify);
    steps.extend(delete_where);
    for (info, type_deletes) in deletes.into_iter().rev() {
        let mut keys = Vec::new();
        let mut pks = Vec::new();
        for (key, pk, version) in type_deletes {
            if version.is_some() {
                steps.push(Step::Delete {
                    info: info.clone(),
                    keys: vec![key],
                    pks: vec![pk],
                    version,
                });
            } else {
                keys.push(key);
                pks.push(pk);
            }
        }
        let per_statement = (features.max_bind_params / info.pk.len().max(1)).clamp(1, 10_000);
        while !pks.is_empty() {
            let rest_pks = pks.split_off(pks.len().min(per_statement));
            let rest_keys = keys.split_off(keys.len().min(per_statement));
            steps.push(Step::Delete {
                info: info.clone(),
                keys,
                pks,
                version: None,
            });
            pks = rest_pks;
            keys = rest_keys;
        }
    }
    Ok(steps)
}

/// An updated row's identity and its values (key, then set columns).
type KeyedRow = (IdentityKey, Vec<Value>);

/// The UPDATE steps of one table: updates without links or a version
/// that set the same columns go as one batched statement (two or more,
/// where the backend can join an UPDATE with rows of values); the others
/// one statement each, in staging order.
fn update_steps(
    info: &Arc<MapperInfo>,
    updates: Vec<Step>,
    features: &Features,
    steps: &mut Vec<Step>,
) {
    if updates.len() < 2 || super::bulk::Form::of(features).is_none() {
        steps.extend(updates);
        return;
    }
    let mut shapes: Vec<(Vec<usize>, Vec<KeyedRow>)> = Vec::new();
    let mut single = Vec::new();
    for u in updates {
        match u {
            Step::Update {
                key,
                pk,
                mut set,
                version: None,
                links,
                ..
            } if links.is_empty() && !set.is_empty() => {
                set.sort_by_key(|(i, _)| *i);
                let positions: Vec<usize> = set.iter().map(|(i, _)| *i).collect();
                let mut row = pk;
                row.extend(set.into_iter().map(|(_, v)| v));
                match shapes.iter_mut().find(|(p, _)| *p == positions) {
                    Some((_, rows)) => rows.push((key, row)),
                    None => shapes.push((positions, vec![(key, row)])),
                }
            }
            other => single.push(other),
        }
    }
    steps.extend(single);
    for (positions, rows) in shapes {
        let mut columns = info.pk.clone();
        columns.extend(&positions);
        if rows.len() == 1 {
            // One row: a plain UPDATE.
            for (key, mut row) in rows {
                let set_values = row.split_off(info.pk.len());
                steps.push(Step::Update {
                    info: info.clone(),
                    key,
                    pk: row,
                    set: positions.iter().copied().zip(set_values).collect(),
                    version: None,
                    links: Vec::new(),
                });
            }
            continue;
        }
        let per_statement = (features.max_bind_params / columns.len().max(1)).clamp(1, 10_000);
        let mut rows = rows;
        while !rows.is_empty() {
            let rest = rows.split_off(rows.len().min(per_statement));
            steps.push(Step::UpdateBatch {
                info: info.clone(),
                columns: columns.clone(),
                rows,
            });
            rows = rest;
        }
    }
}

/// The changes of mapper `ty` (added in order of first appearance).
fn slot<'a>(
    tables: &'a mut Vec<TypeChanges>,
    mappers: &Mappers,
    ty: TypeId,
) -> Result<&'a mut TypeChanges, Error> {
    let at = match tables.iter().position(|t| t.info.type_id == ty) {
        Some(at) => at,
        None => {
            let info = mappers.info(ty).cloned().ok_or(Error::UnmappedType {
                type_name: "(unknown type)",
            })?;
            tables.push(TypeChanges {
                info,
                inserts: Vec::new(),
                updates: Vec::new(),
                deletes: Vec::new(),
            });
            tables.len() - 1
        }
    };
    Ok(&mut tables[at])
}

/// The INSERT steps of one table: rows batched by the fields they send;
/// a row linked to a new row of the same table (a tree) waits for a later
/// batch.
fn insert_steps(
    info: &Arc<MapperInfo>,
    mut inserts: Vec<InsertRow>,
    features: &Features,
    steps: &mut Vec<Step>,
) {
    let trees = inserts.iter().any(|(_, _, links)| !links.is_empty());
    let mut depth: FastMap<usize, usize> = FastMap::default();
    // Each row's shape (depth, sent fields), as an index into `shapes`.
    let mut shapes: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut shape_of: Vec<usize> = Vec::with_capacity(inserts.len());
    for (id, values, links) in inserts.iter_mut() {
        let d = if trees {
            let d = links
                .iter()
                .filter_map(|l| depth.get(&l.parent).map(|d| d + 1))
                .max()
                .unwrap_or(0);
            depth.insert(*id, d);
            d
        } else {
            0
        };
        with_defaults(info, values);
        let sent = |i: &usize| {
            !(values[*i].is_null()
                && info.server_generated.contains(i)
                && !links.iter().any(|l| l.field == *i))
        };
        let n = values.len();
        let at = match shapes
            .iter()
            .position(|(sd, cols)| *sd == d && cols.iter().copied().eq((0..n).filter(sent)))
        {
            Some(at) => at,
            None => {
                shapes.push((d, (0..n).filter(sent).collect()));
                shapes.len() - 1
            }
        };
        shape_of.push(at);
    }
    let mut batches: Vec<Batch> = if shapes.len() == 1 {
        shapes
            .into_iter()
            .map(|(d, columns)| (d, columns, std::mem::take(&mut inserts)))
            .collect()
    } else {
        let mut batches: Vec<Batch> = shapes
            .into_iter()
            .map(|(d, columns)| (d, columns, Vec::new()))
            .collect();
        for (row, at) in inserts.into_iter().zip(shape_of) {
            batches[at].2.push(row);
        }
        batches
    };
    batches.sort_by_key(|(d, _, _)| *d);
    for (_, columns, mut rows) in batches {
        let returning: Vec<usize> = if features.insert_returning {
            (0..info.columns.len())
                .filter(|i| !columns.contains(i) || info.pk.contains(i))
                .collect()
        } else {
            Vec::new()
        };
        let per_statement = (features.max_bind_params / columns.len().max(1)).clamp(1, 10_000);
        // Statements from the back, so that each row moves once.
        let mut chunks = Vec::new();
        while !rows.is_empty() {
            let start = (rows.len() - 1) / per_statement * per_statement;
            chunks.push(if start == 0 {
                std::mem::take(&mut rows)
            } else {
                rows.split_off(start)
            });
        }
        for chunk in chunks.into_iter().rev() {
            steps.push(Step::Insert {
                info: info.clone(),
                columns: columns.clone(),
                rows: chunk,
                returning: returning.clone(),
            });
        }
    }
}

/// Table names, parents first.
fn table_order(metadata: &MetaData) -> Result<Vec<String>, Error> {
    Ok(metadata
        .sorted_tables()?
        .iter()
        .map(|t| t.name().to_owned())
        .collect())
}

/// Fills NULL fields that have an ORM-side default.
pub(crate) fn with_defaults(info: &MapperInfo, values: &mut [Value]) {
    for (i, d) in info.defaults.iter().enumerate() {
        if let (Some(d), Some(true)) = (d, values.get(i).map(Value::is_null)) {
            let mut v = d.value();
            // A default that does not fit its column is sent as it is
            // (the database reports it).
            let _ = info.normalise_one(i, &mut v);
            values[i] = v;
        }
    }
}

/// Adds ORM-side onupdate values for fields the update does not set.
pub(crate) fn with_onupdate(
    info: &MapperInfo,
    mut set: Vec<(usize, Value)>,
) -> Vec<(usize, Value)> {
    for (i, d) in info.onupdate.iter().enumerate() {
        if let Some(d) = d {
            if !set.iter().any(|(j, _)| *j == i) {
                let mut v = d.value();
                let _ = info.normalise_one(i, &mut v);
                set.push((i, v));
            }
        }
    }
    set
}
