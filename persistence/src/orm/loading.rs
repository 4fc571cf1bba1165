//! Loader strategies: options on an ORM select or on `get_with`, each
//! loading one relationship for a whole set of objects.
//!
//! * `selectinload` — one `SELECT ... WHERE fk IN (...)` per level (chunked
//!   only beyond what the backend binds in one statement), never one
//!   query per object.
//! * `joinedload` — a LEFT OUTER JOIN in the same statement; rows repeated
//!   by a collection are folded back by identity (SQLAlchemy's `.unique()`).
//! * `contains_eager` — like joinedload, from a join the caller wrote.
//! * `raiseload` / `noload` — left unloaded (a `Related` field stays
//!   `NotLoaded`, and `require()` on it is an error).
//!
//! Without an explicit strategy (`load("name")`) the seed's rule applies:
//! joined for to-one, selectin for to-many.

use dialects::{Expr, Value};

use super::identity::{FastMap, IdentityKey};
use super::relationship::{RelationKind, RelationshipInfo};
use super::session::{LinkFrom, Session};
use crate::error::Error;

/// How a relationship is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Joined for to-one, selectin for to-many.
    Default,
    /// One extra `IN (...)` query per level.
    Selectin,
    /// A LEFT OUTER JOIN in the same statement.
    Joined,
    /// From a join the caller wrote.
    ContainsEager,
    /// Not loaded; using it is an error.
    Raise,
    /// Not loaded.
    NoLoad,
}

/// A loader option: a relationship, its strategy, and options for the
/// relationships of the objects it loads.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    /// The relationship's name (`"*"`: every relationship not named by
    /// another option, as in `raiseload("*")`).
    pub name: String,
    /// The strategy.
    pub strategy: Strategy,
    /// Options one level down.
    pub children: Vec<Load>,
    /// Extra conditions on the related rows (SQLAlchemy's
    /// `selectinload(rel.and_(...))`).
    pub criteria: Vec<Expr>,
    /// A joined load as an INNER JOIN (SQLAlchemy's `innerjoin=True`):
    /// owners without a related row are not returned.
    pub inner: bool,
}

impl Load {
    fn new(name: &str, strategy: Strategy) -> Self {
        Load {
            name: name.to_owned(),
            strategy,
            children: Vec::new(),
            criteria: Vec::new(),
            inner: false,
        }
    }

    /// Only related rows that also match `cond` are loaded (in the IN
    /// query of a selectin load, in the ON clause of a joined one):
    /// `selectinload("posts").and_(post::draft.eq(false))`.
    pub fn and_(mut self, cond: impl Into<Expr>) -> Self {
        leaf(&mut self).criteria.push(cond.into());
        self
    }

    /// A joined load by INNER JOIN: owners without a related row are
    /// left out (SQLAlchemy's `joinedload(..., innerjoin=True)`).
    pub fn innerjoin(mut self) -> Self {
        leaf(&mut self).inner = true;
        self
    }

    fn chain(mut self, next: Load) -> Self {
        leaf(&mut self).children.push(next);
        self
    }

    /// Chains `selectinload(name)` one level further down.
    pub fn selectinload(self, name: &str) -> Self {
        self.chain(selectinload(name))
    }

    /// Chains `joinedload(name)` one level further down (nested levels
    /// load with selectin).
    pub fn joinedload(self, name: &str) -> Self {
        self.chain(joinedload(name))
    }

    /// Chains `raiseload(name)` one level further down.
    pub fn raiseload(self, name: &str) -> Self {
        self.chain(raiseload(name))
    }

    /// Chains a default-strategy load one level further down.
    pub fn load(self, name: &str) -> Self {
        self.chain(load(name))
    }

    /// Adds an option for a sibling relationship at the next level.
    pub fn and(mut self, child: Load) -> Self {
        self.children.push(child);
        self
    }
}

/// The last option of a chain (what `.and_()` / `.innerjoin()` apply to).
fn leaf(l: &mut Load) -> &mut Load {
    if l.children.is_empty() {
        l
    } else {
        let last = l.children.len() - 1;
        leaf(&mut l.children[last])
    }
}

/// Load `name` with the seed's default (joined for to-one, selectin for to-many).
pub fn load(name: &str) -> Load {
    Load::new(name, Strategy::Default)
}

/// `selectinload(name)`.
pub fn selectinload(name: &str) -> Load {
    Load::new(name, Strategy::Selectin)
}

/// `joinedload(name)`.
pub fn joinedload(name: &str) -> Load {
    Load::new(name, Strategy::Joined)
}

/// `contains_eager(name)`: fill `name` from a join already in the select.
pub fn contains_eager(name: &str) -> Load {
    Load::new(name, Strategy::ContainsEager)
}

/// `raiseload(name)`.
pub fn raiseload(name: &str) -> Load {
    Load::new(name, Strategy::Raise)
}

/// `noload(name)`.
pub fn noload(name: &str) -> Load {
    Load::new(name, Strategy::NoLoad)
}

impl<T> From<&domain::Load<T>> for Load {
    fn from(plan: &domain::Load<T>) -> Self {
        let mut steps = plan.steps().iter().map(|s| {
            let strategy = match s.strategy {
                domain::LoadStrategy::SelectIn => Strategy::Selectin,
                domain::LoadStrategy::Joined => Strategy::Joined,
                domain::LoadStrategy::Raise => Strategy::Raise,
                domain::LoadStrategy::NoLoad => Strategy::NoLoad,
                #[allow(unreachable_patterns)]
                _ => Strategy::Default,
            };
            Load::new(s.relation, strategy)
        });
        let first = steps
            .next()
            .unwrap_or_else(|| Load::new("", Strategy::NoLoad));
        steps.fold(first, Load::chain)
    }
}

/// Merges options on the same relationship (`posts.tags` and
/// `posts.comments` load `posts` once, with both below it).
pub(crate) fn merge(loads: &[Load]) -> Vec<Load> {
    let mut out: Vec<Load> = Vec::new();
    for l in loads {
        match out.iter_mut().find(|o| o.name == l.name) {
            Some(o) => {
                o.children.extend(l.children.iter().cloned());
                o.criteria.extend(l.criteria.iter().cloned());
                o.inner |= l.inner;
                if o.strategy == Strategy::Default {
                    o.strategy = l.strategy;
                }
            }
            None => out.push(l.clone()),
        }
    }
    for o in out.iter_mut() {
        o.children = merge(&o.children);
    }
    out
}

/// The relationships of `ty` that load by default (`RelOptions::lazy`),
/// added to `options` unless named there or turned off by a `"*"` option
/// (`raiseload("*")`, `noload("*")`); the wildcard itself is dropped.
pub(crate) fn with_lazy_defaults(
    mappers: &super::registry::Mappers,
    ty: std::any::TypeId,
    mut options: Vec<Load>,
) -> Vec<Load> {
    if let Some(at) = options.iter().position(|l| l.name == "*") {
        options.remove(at);
        return options;
    }
    for access in mappers.relationships_of(ty) {
        let rel = access.info();
        if rel.lazy != Strategy::NoLoad && !options.iter().any(|l| l.name == rel.name) {
            options.push(Load::new(rel.name, rel.lazy));
        }
    }
    options
}

/// Keys for one `IN (...)` list: as many as the backend binds in one
/// statement (half its limit, at most 10,000, as for batched inserts), so
/// that a level is one query unless it has more parents than that.
fn chunk_size(session: &Session) -> usize {
    (session.engine().dialect().features().max_bind_params / 2).clamp(1, 10_000)
}

fn position(session: &Session, ty: std::any::TypeId, column: &str) -> Result<usize, Error> {
    let info = session.mappers().info(ty).ok_or(Error::UnmappedType {
        type_name: "(relationship owner)",
    })?;
    info.position(column).ok_or_else(|| Error::Mapping {
        type_name: info.type_name,
        field: column.to_owned(),
        message: "a relationship needs this column mapped as a field".into(),
    })
}

/// Moves `more` onto the end of `all` (no copy when `all` is empty: one
/// chunk, the common case).
fn append<T>(all: &mut Vec<T>, mut more: Vec<T>) {
    if all.is_empty() {
        *all = more;
    } else {
        all.append(&mut more);
    }
}

/// Loads the children of every owner (one-to-many, one-to-one,
/// many-to-many), grouped in owner order, with `nested` applied to them.
pub(crate) async fn select_children<C: Clone + Send + Sync + 'static>(
    session: &mut Session,
    rel: &RelationshipInfo,
    owner_values: &[Vec<Value>],
    load: &Load,
) -> Result<Vec<Vec<C>>, Error> {
    let nested = &load.children[..];
    let r = rel.resolved()?.clone();
    let mappers = session.mappers().clone();
    let target = mappers.mapper::<C>()?.info().clone();
    let owner_info = mappers.info(rel.owner).cloned();
    let ref_pos = position(session, rel.owner, &r.referred)?;
    let owner_keys: Vec<Option<IdentityKey>> = owner_values
        .iter()
        .map(|v| IdentityKey::of_value(&v[ref_pos]))
        .collect();
    let mut distinct: Vec<Value> = Vec::new();
    let mut seen: FastMap<&IdentityKey, ()> = FastMap::default();
    for (v, k) in owner_values.iter().zip(&owner_keys) {
        if let Some(k) = k {
            if seen.insert(k, ()).is_none() {
                distinct.push(v[ref_pos].clone());
            }
        }
    }
    // The owner of each child: its foreign key when it is a mapped field
    // of the child, else (many-to-many) the secondary table's column.
    // (A deferred foreign key is selected as an extra column.)
    let fk_field = match r.secondary {
        Some(_) => None,
        None => target
            .position(&r.fk)
            .filter(|i| !target.deferred.contains(i)),
    };
    let keep_values = !nested.is_empty();
    let mut children: Vec<C> = Vec::new();
    let mut child_keys: Vec<Option<IdentityKey>> = Vec::new();
    let mut child_values: Vec<Vec<Value>> = Vec::new();
    let mut link: Vec<Value> = Vec::new();
    for chunk in distinct.chunks(chunk_size(session)) {
        let mut cols: Vec<Expr> = target.load_exprs().to_vec();
        let core = match (&r.secondary, &r.target_fk, &r.target_referred) {
            (Some(sec), Some(tfk), Some(tref)) => {
                cols.push(sec.c(&r.fk));
                dialects::select(cols)
                    .select_from(&target.table)
                    .join(sec, sec.c(tfk).eq(target.table.c(tref)))
                    .where_(sec.c(&r.fk).in_(chunk.to_vec()))
            }
            _ => {
                if fk_field.is_none() {
                    cols.push(target.table.c(&r.fk));
                }
                dialects::select(cols)
                    .select_from(&target.table)
                    .where_(target.table.c(&r.fk).in_(chunk.to_vec()))
            }
        };
        let core = load
            .criteria
            .iter()
            .chain(&rel.criteria)
            .fold(core, |core, c| core.where_(c.clone()));
        let mut order: Vec<dialects::OrderBy> = rel.order_by.clone();
        order.extend(
            target
                .pk
                .iter()
                .map(|&i| target.table.c(&target.columns[i]).asc()),
        );
        let from = fk_field.map_or(LinkFrom::Extra, LinkFrom::Field);
        let loaded = session
            .load_objects::<C>(core.order_by(order), from, keep_values)
            .await?;
        append(&mut children, loaded.objs);
        append(&mut child_keys, loaded.keys);
        append(&mut link, loaded.links);
        append(&mut child_values, loaded.values);
    }
    if keep_values && !children.is_empty() {
        apply_selectin::<C>(session, &mut children, &child_values, nested).await?;
    }
    // The owner of each child: the first owner with its link's key.
    let mut slot_of: FastMap<&IdentityKey, usize> = FastMap::default();
    slot_of.reserve(owner_keys.len());
    let mut shared_keys = false;
    for (o, k) in owner_keys.iter().enumerate() {
        if let Some(k) = k {
            match slot_of.entry(k) {
                std::collections::hash_map::Entry::Occupied(_) => shared_keys = true,
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(o);
                }
            }
        }
    }
    // Children of one owner usually follow each other: a link equal to
    // the one before has its owner.
    let mut before: Option<(&Value, Option<usize>)> = None;
    let child_slot: Vec<Option<usize>> = link
        .iter()
        .map(|l| match before {
            Some((b, slot)) if b == l => slot,
            _ => {
                let slot = IdentityKey::of_value(l).and_then(|k| slot_of.get(&k).copied());
                before = Some((l, slot));
                slot
            }
        })
        .collect();
    let mut out: Vec<Vec<C>> = Vec::with_capacity(owner_values.len());
    let mut loaded: Vec<Vec<IdentityKey>> = Vec::with_capacity(owner_values.len());
    if !shared_keys {
        // Every child belongs to one owner: each moves there, in load order.
        let mut sizes = vec![0usize; owner_values.len()];
        for &o in child_slot.iter().flatten() {
            sizes[o] += 1;
        }
        out.extend(sizes.iter().map(|&n| Vec::with_capacity(n)));
        loaded.extend(sizes.iter().map(|&n| Vec::with_capacity(n)));
        for ((child, o), key) in children.into_iter().zip(&child_slot).zip(child_keys) {
            if let Some(o) = *o {
                out[o].push(child);
                loaded[o].extend(key);
            }
        }
    } else {
        // Owners sharing a key (one owner listed twice) share children:
        // each child moves to its last owner, the others get copies.
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); owner_values.len()];
        for (i, o) in child_slot.iter().enumerate() {
            if let Some(o) = *o {
                groups[o].push(i);
            }
        }
        let group = |o: usize| -> &[usize] {
            match owner_keys[o].as_ref().and_then(|k| slot_of.get(k)) {
                Some(&s) => &groups[s],
                None => &[],
            }
        };
        let mut uses = vec![0usize; children.len()];
        for o in 0..owner_values.len() {
            for &i in group(o) {
                uses[i] += 1;
            }
        }
        let mut children: Vec<Option<C>> = children.into_iter().map(Some).collect();
        for o in 0..owner_values.len() {
            let idx = group(o);
            let mut items: Vec<C> = Vec::with_capacity(idx.len());
            for &i in idx {
                uses[i] -= 1;
                let item = if uses[i] == 0 {
                    children[i].take()
                } else {
                    children[i].clone()
                };
                items.extend(item);
            }
            out.push(items);
            loaded.push(idx.iter().filter_map(|&i| child_keys[i].clone()).collect());
        }
    }
    session.reserve_loaded(owner_values.len());
    for (v, keys) in owner_values.iter().zip(loaded) {
        if let Some(owner_key) = owner_info.as_ref().and_then(|i| i.key_of(v)) {
            session.record_loaded(rel.owner, owner_key, rel.name, keys);
        }
    }
    Ok(out)
}

/// Loads the parent of every owner (many-to-one), in owner order.
pub(crate) async fn select_parents<C: Clone + Send + Sync + 'static>(
    session: &mut Session,
    rel: &RelationshipInfo,
    owner_values: &[Vec<Value>],
    load: &Load,
) -> Result<Vec<Option<C>>, Error> {
    let nested = &load.children[..];
    let r = rel.resolved()?.clone();
    let mappers = session.mappers().clone();
    let target = mappers.mapper::<C>()?.info().clone();
    let fk_pos = position(session, rel.owner, &r.fk)?;
    let ref_pos = target.position(&r.referred).ok_or_else(|| Error::Mapping {
        type_name: target.type_name,
        field: r.referred.clone(),
        message: "a relationship needs this column mapped as a field".into(),
    })?;
    let mut distinct = Vec::new();
    let mut seen: FastMap<IdentityKey, ()> = FastMap::default();
    for v in owner_values {
        if let Some(k) = IdentityKey::of_value(&v[fk_pos]) {
            if seen.insert(k, ()).is_none() {
                distinct.push(v[fk_pos].clone());
            }
        }
    }
    let keep_values = !nested.is_empty();
    let mut parents: Vec<C> = Vec::new();
    let mut parent_values: Vec<Vec<Value>> = Vec::new();
    let mut referred: Vec<Value> = Vec::new();
    for chunk in distinct.chunks(chunk_size(session)) {
        let core = dialects::select(target.load_exprs().to_vec())
            .select_from(&target.table)
            .where_(target.table.c(&r.referred).in_(chunk.to_vec()));
        let core = load
            .criteria
            .iter()
            .chain(&rel.criteria)
            .fold(core, |core, c| core.where_(c.clone()));
        let loaded = session
            .load_objects::<C>(core, LinkFrom::Field(ref_pos), keep_values)
            .await?;
        parents.extend(loaded.objs);
        referred.extend(loaded.links);
        parent_values.extend(loaded.values);
    }
    if keep_values && !parents.is_empty() {
        apply_selectin::<C>(session, &mut parents, &parent_values, nested).await?;
    }
    let index: FastMap<IdentityKey, usize> = referred
        .iter()
        .enumerate()
        .filter_map(|(i, v)| IdentityKey::of_value(v).map(|k| (k, i)))
        .collect();
    let found: Vec<Option<usize>> = owner_values
        .iter()
        .map(|v| IdentityKey::of_value(&v[fk_pos]).and_then(|k| index.get(&k).copied()))
        .collect();
    // Each parent moves to its last owner; the others get copies.
    let mut uses = vec![0usize; parents.len()];
    for &i in found.iter().flatten() {
        uses[i] += 1;
    }
    let mut parents: Vec<Option<C>> = parents.into_iter().map(Some).collect();
    Ok(found
        .into_iter()
        .map(|i| {
            let i = i?;
            uses[i] -= 1;
            if uses[i] == 0 {
                parents[i].take()
            } else {
                parents[i].clone()
            }
        })
        .collect())
}

/// Applies `loads` to `objs` (whose mapped values are `values`) with
/// separate statements: every strategy but raise / noload loads by selectin
/// here.
// A `Vec`, not a slice: relationship loaders downcast it back to `Vec<T>`.
#[allow(clippy::ptr_arg)]
pub(crate) async fn apply_selectin<T: Send + Sync + 'static>(
    session: &mut Session,
    objs: &mut Vec<T>,
    values: &[Vec<Value>],
    loads: &[Load],
) -> Result<(), Error> {
    for l in &merge(loads) {
        if matches!(l.strategy, Strategy::Raise | Strategy::NoLoad) || l.name == "*" {
            continue;
        }
        let access = session.mappers().relationship::<T>(&l.name)?;
        access.load(session, objs, values, l).await?;
    }
    Ok(())
}

/// Whether a load joins in the main statement.
pub(crate) fn joins_in_statement(l: &Load, kind: RelationKind, self_referential: bool) -> bool {
    if self_referential {
        return false;
    }
    match l.strategy {
        Strategy::Joined | Strategy::ContainsEager => true,
        Strategy::Default => !kind.is_collection(),
        _ => false,
    }
}
