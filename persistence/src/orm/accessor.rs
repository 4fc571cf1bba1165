//! A relationship's typed field access, erased over the owner type: what
//! loads a relationship into its owners, follows its cascades when the
//! owner is added or deleted, and writes generated values back. The
//! [`registry`](super::registry) keeps one per relationship; the session
//! and the loaders call it.

use std::any::Any;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use dialects::Value;
use futures_util::future::BoxFuture;

use super::identity::IdentityKey;
use super::loading::{self, Load};
use super::mapper::{Mapper, MapperInfo};
use super::registry::Mappers;
use super::relationship::{ManyField, OneField, RelationKind, RelationshipInfo};
use super::session::{ChangeRef, Session, Trail};
use super::unit_of_work::{Change, Link, RefValue};
use crate::error::Error;

/// A relationship with its typed field access, erased over the owner type.
pub(crate) trait RelAccess: Send + Sync {
    fn info(&self) -> &Arc<RelationshipInfo>;

    fn load<'a>(
        &'a self,
        session: &'a mut Session,
        owners: &'a mut (dyn Any + Send),
        owner_values: &'a [Vec<Value>],
        load: &'a Load,
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// Applies `nested` (by selectin) to the related objects already
    /// loaded into `owners` (the options under a joined load).
    fn load_nested<'a>(
        &'a self,
        session: &'a mut Session,
        owners: &'a mut (dyn Any + Send),
        nested: &'a [Load],
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// Columns of `owner` that this relationship decides before `owner`
    /// is staged: a many-to-one's foreign key from the loaded parent's key
    /// (or NULL for a parent loaded as absent). Empty for other kinds.
    fn owner_overrides(
        &self,
        mappers: &Mappers,
        owner: &dyn Any,
    ) -> Result<Vec<(usize, Value)>, Error> {
        let _ = (mappers, owner);
        Ok(Vec::new())
    }

    /// Stages the loaded related objects of `owner` (save-update cascade).
    fn cascade_add(
        &self,
        session: &mut Session,
        owner: &dyn Any,
        owner_values: &[Value],
        owner_ref: &ChangeRef,
    ) -> Result<(), Error>;

    /// Writes what the last `add` staged or generated into the loaded
    /// related objects of `owner`, in the order `cascade_add` met them.
    fn write_back(
        &self,
        session: &mut Session,
        owner: &mut dyn Any,
        trail: &Trail,
        at: &mut usize,
    ) -> Result<(), Error>;

    /// Keeps `P::clone` (a `fn(&P) -> P`, boxed) for filling a backref in
    /// memory; only collections use it.
    fn set_owner_clone(&self, f: Box<dyn Any>) {
        let _ = f;
    }

    /// Stores `item` (a clone) as `owner`'s loaded single object: the
    /// many-to-one side of a collection just loaded, filled in memory.
    fn assign_one(&self, owner: &mut dyn Any, item: &dyn Any) {
        let _ = (owner, item);
    }

    /// Follows the delete cascade of `owner`.
    fn cascade_delete(
        &self,
        session: &mut Session,
        owner: &dyn Any,
        owner_values: &[Value],
    ) -> Result<(), Error>;

    /// What builds the related objects of a joined load row by row and
    /// then stores them into their owners.
    fn joined_collector<'m>(
        &self,
        mappers: &'m Mappers,
    ) -> Result<Box<dyn JoinedCollect + 'm>, Error>;
}

/// The related objects of a joined load, built while its statement's rows
/// are read (each related row once per owner, in the order first met).
pub(crate) trait JoinedCollect: Send {
    /// Builds a related object of the owner at `owner` from `values`
    /// (normalised; the values it keeps are taken, NULL left behind).
    fn push(&mut self, owner: usize, values: &mut [Value]) -> Result<(), Error>;

    /// Stores what was built into every owner (an owner without related
    /// rows gets an empty collection, or no object).
    fn finish(self: Box<Self>, owners: &mut dyn Any) -> Result<(), Error>;
}

/// A joined collection's objects, per owner.
struct ManyJoined<'m, P, C, F> {
    mapper: &'m Mapper<C>,
    get_mut: fn(&mut P) -> &mut F,
    groups: Vec<Vec<C>>,
}

impl<P, C, F> JoinedCollect for ManyJoined<'_, P, C, F>
where
    P: Send + Sync + 'static,
    C: Clone + Send + Sync + 'static,
    F: ManyField<C> + 'static,
{
    fn push(&mut self, owner: usize, values: &mut [Value]) -> Result<(), Error> {
        if self.groups.len() <= owner {
            self.groups.resize_with(owner + 1, Vec::new);
        }
        let item = self.mapper.build_take(values)?;
        if let Some(g) = self.groups.get_mut(owner) {
            g.push(item);
        }
        Ok(())
    }

    fn finish(self: Box<Self>, owners: &mut dyn Any) -> Result<(), Error> {
        let mut groups = self.groups.into_iter();
        for owner in owners_of::<P>(owners)?.iter_mut() {
            (self.get_mut)(owner).set_loaded(groups.next().unwrap_or_default());
        }
        Ok(())
    }
}

/// A joined single object per owner (the first related row met).
struct OneJoined<'m, P, C, F> {
    mapper: &'m Mapper<C>,
    get_mut: fn(&mut P) -> &mut F,
    slots: Vec<Option<C>>,
}

impl<P, C, F> JoinedCollect for OneJoined<'_, P, C, F>
where
    P: Send + Sync + 'static,
    C: Clone + Send + Sync + 'static,
    F: OneField<C> + 'static,
{
    fn push(&mut self, owner: usize, values: &mut [Value]) -> Result<(), Error> {
        if self.slots.len() <= owner {
            self.slots.resize_with(owner + 1, || None);
        }
        if let Some(slot @ None) = self.slots.get_mut(owner) {
            *slot = Some(self.mapper.build_take(values)?);
        }
        Ok(())
    }

    fn finish(self: Box<Self>, owners: &mut dyn Any) -> Result<(), Error> {
        let mut slots = self.slots.into_iter();
        for owner in owners_of::<P>(owners)?.iter_mut() {
            (self.get_mut)(owner).set_loaded(slots.next().flatten());
        }
        Ok(())
    }
}

pub(crate) struct ToMany<P, C, F> {
    pub info: Arc<RelationshipInfo>,
    pub get: fn(&P) -> &F,
    pub get_mut: fn(&mut P) -> &mut F,
    /// `P::clone`, when a backref on the children is filled in memory.
    pub clone_owner: OnceLock<fn(&P) -> P>,
    pub _m: PhantomData<fn() -> C>,
}

pub(crate) struct ToOne<P, C, F> {
    pub info: Arc<RelationshipInfo>,
    pub get: fn(&P) -> &F,
    pub get_mut: fn(&mut P) -> &mut F,
    pub _m: PhantomData<fn() -> C>,
}

impl<P: 'static, C: 'static, F: ManyField<C> + 'static> ToMany<P, C, F> {
    /// A one-to-many with a backref fills the children's many-to-one side
    /// in memory with a copy of their owner (its own collection marked not
    /// loaded, so that adding a child never takes it for emptied). Only
    /// for owners whose collection field can say "not loaded" (`Related`).
    fn fill_backref(&self, mappers: &Mappers, owners: &[P], groups: &mut [Vec<C>]) {
        let (Some(back), Some(clone), RelationKind::OneToMany) = (
            self.info.backref.get(),
            self.clone_owner.get(),
            self.info.kind,
        ) else {
            return;
        };
        let Some(back) = mappers
            .relationships_of(self.info.target)
            .iter()
            .find(|r| r.info().name == *back)
        else {
            return;
        };
        for (owner, items) in owners.iter().zip(groups.iter_mut()) {
            let mut parent = clone(owner);
            if !(self.get_mut)(&mut parent).mark_not_loaded() {
                return;
            }
            for item in items.iter_mut() {
                back.assign_one(item, &parent);
            }
        }
    }
}

fn owners_of<P: 'static>(owners: &mut dyn Any) -> Result<&mut Vec<P>, Error> {
    owners.downcast_mut::<Vec<P>>().ok_or(Error::UnmappedType {
        type_name: std::any::type_name::<P>(),
    })
}

impl<P, C, F> RelAccess for ToMany<P, C, F>
where
    P: Send + Sync + 'static,
    C: Clone + Send + Sync + 'static,
    F: ManyField<C> + 'static,
{
    fn info(&self) -> &Arc<RelationshipInfo> {
        &self.info
    }

    fn set_owner_clone(&self, f: Box<dyn Any>) {
        if let Ok(f) = f.downcast::<fn(&P) -> P>() {
            let _ = self.clone_owner.set(*f);
        }
    }

    fn load<'a>(
        &'a self,
        session: &'a mut Session,
        owners: &'a mut (dyn Any + Send),
        owner_values: &'a [Vec<Value>],
        load: &'a Load,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let mut groups =
                loading::select_children::<C>(session, &self.info, owner_values, load).await?;
            let owners = owners_of::<P>(owners)?;
            // `raiseload` / `noload` of the backref below keeps it unloaded.
            let kept_unloaded = load.children.iter().any(|l| {
                Some(&l.name.as_str()) == self.info.backref.get()
                    && matches!(
                        l.strategy,
                        loading::Strategy::Raise | loading::Strategy::NoLoad
                    )
            });
            if !kept_unloaded {
                self.fill_backref(session.mappers(), owners, &mut groups);
            }
            for (owner, items) in owners.iter_mut().zip(groups) {
                (self.get_mut)(owner).set_loaded(items);
            }
            Ok(())
        })
    }

    fn load_nested<'a>(
        &'a self,
        session: &'a mut Session,
        owners: &'a mut (dyn Any + Send),
        nested: &'a [Load],
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let owners = owners_of::<P>(owners)?;
            let mut all: Vec<C> = Vec::new();
            let mut counts = Vec::with_capacity(owners.len());
            for owner in owners.iter_mut() {
                let items = (self.get_mut)(owner).take_loaded();
                counts.push(items.as_ref().map(Vec::len));
                all.extend(items.into_iter().flatten());
            }
            nested_selectin(session, &self.info, &mut all, nested).await?;
            let mut rest = all.into_iter();
            for (owner, n) in owners.iter_mut().zip(counts) {
                if let Some(n) = n {
                    (self.get_mut)(owner).set_loaded(rest.by_ref().take(n).collect());
                }
            }
            Ok(())
        })
    }

    fn joined_collector<'m>(
        &self,
        mappers: &'m Mappers,
    ) -> Result<Box<dyn JoinedCollect + 'm>, Error> {
        Ok(Box::new(ManyJoined::<P, C, F> {
            mapper: mappers.mapper::<C>()?,
            get_mut: self.get_mut,
            groups: Vec::new(),
        }))
    }

    fn cascade_add(
        &self,
        session: &mut Session,
        owner: &dyn Any,
        owner_values: &[Value],
        owner_ref: &ChangeRef,
    ) -> Result<(), Error> {
        let Some(owner) = owner.downcast_ref::<P>() else {
            return Ok(());
        };
        let Some(items) = (self.get)(owner).loaded() else {
            return Ok(());
        };
        let mappers = session.mappers().clone();
        let (owner_info, target) = infos(&mappers, &self.info)?;
        let r = self.info.resolved()?.clone();
        let ref_pos = field_pos(&owner_info, &r.referred)?;
        let parent_value = owner_values[ref_pos].clone();
        let owner_key = owner_info.key_of(owner_values);
        let recorded: Option<Vec<IdentityKey>> = owner_key
            .as_ref()
            .and_then(|k| session.loaded_children(owner_info.type_id, k, self.info.name))
            .map(<[IdentityKey]>::to_vec);
        // An empty collection the session never loaded is "not loaded".
        if items.is_empty() && recorded.is_none() {
            return Ok(());
        }
        let mapper = mappers.mapper::<C>()?;
        let mut current = Vec::new();
        if self.info.kind == RelationKind::ManyToMany {
            let (Some(sec), Some(tfk), Some(tref)) =
                (&r.secondary, &r.target_fk, &r.target_referred)
            else {
                return Ok(());
            };
            let tref_pos = field_pos(&target, tref)?;
            for c in items {
                let child_ref = session.add_linked(c, Vec::new(), &[])?;
                let cv = mapper.values(c)?;
                let key = target.key_of(&cv);
                // The same persistent object twice in the collection links
                // once (a collection of links is a set): no integrity error.
                let twice = key.as_ref().is_some_and(|k| current.contains(k));
                if let Some(k) = &key {
                    current.push(k.clone());
                }
                let is_new = !twice
                    && key
                        .as_ref()
                        .is_none_or(|k| recorded.as_ref().is_none_or(|r| !r.contains(k)));
                if is_new {
                    let owner_side = match (&parent_value, owner_ref) {
                        (Value::Null, ChangeRef::Pending(id)) => RefValue::Linked {
                            change: *id,
                            field: ref_pos,
                        },
                        (v, _) => RefValue::Known(v.clone()),
                    };
                    let child_side = match (&cv[tref_pos], &child_ref) {
                        (Value::Null, ChangeRef::Pending(id)) => RefValue::Linked {
                            change: *id,
                            field: tref_pos,
                        },
                        (v, _) => RefValue::Known(v.clone()),
                    };
                    session.push_change(Change::Associate {
                        table: sec.clone(),
                        columns: [r.fk.clone(), tfk.clone()],
                        values: [owner_side, child_side],
                    });
                }
            }
            for gone in recorded.iter().flatten().filter(|k| !current.contains(k)) {
                if let Some(snapshot) = session.snapshot(target.type_id, gone) {
                    session.push_change(Change::DeleteWhere {
                        table: sec.clone(),
                        conditions: vec![
                            (r.fk.clone(), parent_value.clone()),
                            (tfk.clone(), snapshot[tref_pos].clone()),
                        ],
                    });
                }
            }
        } else {
            let fk_pos = field_pos(&target, &r.fk)?;
            for c in items {
                let (links, overrides) = match (&parent_value, owner_ref) {
                    (Value::Null, ChangeRef::Pending(id)) => (
                        vec![Link {
                            field: fk_pos,
                            parent: *id,
                            parent_field: ref_pos,
                        }],
                        Vec::new(),
                    ),
                    (v, _) => (Vec::new(), vec![(fk_pos, v.clone())]),
                };
                session.add_linked(c, links, &overrides)?;
                if let Some(k) = target.key_of(&mapper.values(c)?) {
                    current.push(k);
                }
            }
            // Children that left the loaded collection.
            for gone in recorded.iter().flatten().filter(|k| !current.contains(k)) {
                let Some(snapshot) = session.snapshot(target.type_id, gone) else {
                    continue;
                };
                if self.info.cascade.delete_orphan {
                    let child = mapper.build(snapshot)?;
                    session.delete(&child)?;
                } else {
                    session.stage_field_update(&target, snapshot, fk_pos, Value::Null);
                }
            }
        }
        if let Some(k) = owner_key {
            session.record_loaded(owner_info.type_id, k, self.info.name, current);
        }
        Ok(())
    }

    fn write_back(
        &self,
        session: &mut Session,
        owner: &mut dyn Any,
        trail: &Trail,
        at: &mut usize,
    ) -> Result<(), Error> {
        let Some(owner) = owner.downcast_mut::<P>() else {
            return Ok(());
        };
        let Some(items) = (self.get_mut)(owner).loaded_mut() else {
            return Ok(());
        };
        let mappers = session.mappers().clone();
        let mapper = mappers.mapper::<C>()?;
        for c in items {
            session.write_graph(mapper, &mappers, c, trail, at)?;
        }
        Ok(())
    }

    fn cascade_delete(
        &self,
        session: &mut Session,
        owner: &dyn Any,
        owner_values: &[Value],
    ) -> Result<(), Error> {
        if self.info.viewonly {
            return Ok(());
        }
        let mappers = session.mappers().clone();
        let (owner_info, target) = infos(&mappers, &self.info)?;
        let r = self.info.resolved()?.clone();
        let ref_pos = field_pos(&owner_info, &r.referred)?;
        let parent_value = owner_values[ref_pos].clone();
        if self.info.kind == RelationKind::ManyToMany {
            // Association rows go with either side.
            if let Some(sec) = &r.secondary {
                session.push_change(Change::DeleteWhere {
                    table: sec.clone(),
                    conditions: vec![(r.fk.clone(), parent_value)],
                });
            }
            return Ok(());
        }
        if self.info.cascade.passive_deletes {
            return Ok(());
        }
        if !self.info.cascade.delete {
            // SQLAlchemy's default: the children stay, with a NULL key
            // (an integrity error at flush when the key is NOT NULL,
            // before anything is deleted).
            session.push_change(Change::NullifyWhere {
                table: target.table.clone(),
                column: r.fk.clone(),
                value: parent_value,
            });
            return Ok(());
        }
        let loaded = owner
            .downcast_ref::<P>()
            .and_then(|o| (self.get)(o).loaded())
            .filter(|items| !items.is_empty());
        match loaded {
            Some(items) => {
                for c in items {
                    session.delete(c)?;
                }
            }
            None => session.push_change(Change::DeleteWhere {
                table: target.table.clone(),
                conditions: vec![(r.fk.clone(), parent_value)],
            }),
        }
        Ok(())
    }
}

impl<P, C, F> RelAccess for ToOne<P, C, F>
where
    P: Send + Sync + 'static,
    C: Clone + Send + Sync + 'static,
    F: OneField<C> + 'static,
{
    fn info(&self) -> &Arc<RelationshipInfo> {
        &self.info
    }

    fn load<'a>(
        &'a self,
        session: &'a mut Session,
        owners: &'a mut (dyn Any + Send),
        owner_values: &'a [Vec<Value>],
        load: &'a Load,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let found: Vec<Option<C>> = if self.info.kind == RelationKind::ManyToOne {
                loading::select_parents::<C>(session, &self.info, owner_values, load).await?
            } else {
                loading::select_children::<C>(session, &self.info, owner_values, load)
                    .await?
                    .into_iter()
                    .map(|mut v| v.pop())
                    .collect()
            };
            let owners = owners_of::<P>(owners)?;
            for (owner, item) in owners.iter_mut().zip(found) {
                (self.get_mut)(owner).set_loaded(item);
            }
            Ok(())
        })
    }

    fn assign_one(&self, owner: &mut dyn Any, item: &dyn Any) {
        if let (Some(owner), Some(item)) = (owner.downcast_mut::<P>(), item.downcast_ref::<C>()) {
            (self.get_mut)(owner).set_loaded(Some(item.clone()));
        }
    }

    fn load_nested<'a>(
        &'a self,
        session: &'a mut Session,
        owners: &'a mut (dyn Any + Send),
        nested: &'a [Load],
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let owners = owners_of::<P>(owners)?;
            let mut all: Vec<C> = Vec::new();
            let mut had = Vec::with_capacity(owners.len());
            for owner in owners.iter_mut() {
                let item = (self.get_mut)(owner).take_loaded();
                had.push(item.is_some());
                all.extend(item);
            }
            nested_selectin(session, &self.info, &mut all, nested).await?;
            let mut rest = all.into_iter();
            for (owner, had) in owners.iter_mut().zip(had) {
                if had {
                    (self.get_mut)(owner).set_loaded(rest.next());
                }
            }
            Ok(())
        })
    }

    fn owner_overrides(
        &self,
        mappers: &Mappers,
        owner: &dyn Any,
    ) -> Result<Vec<(usize, Value)>, Error> {
        if self.info.kind != RelationKind::ManyToOne {
            return Ok(Vec::new());
        }
        let Some(owner) = owner.downcast_ref::<P>() else {
            return Ok(Vec::new());
        };
        let field = (self.get)(owner);
        let (owner_info, target) = infos(mappers, &self.info)?;
        let r = self.info.resolved()?;
        let fk_pos = field_pos(&owner_info, &r.fk)?;
        if field.explicitly_absent() {
            return Ok(vec![(fk_pos, Value::Null)]);
        }
        let Some(Some(parent)) = field.loaded() else {
            return Ok(Vec::new());
        };
        let ref_pos = field_pos(&target, &r.referred)?;
        let values = mappers.mapper::<C>()?.values(parent)?;
        match values.get(ref_pos) {
            // A new parent's key reaches the owner at flush (a link).
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(v) => {
                let mut v = v.clone();
                owner_info.normalise_one(fk_pos, &mut v)?;
                Ok(vec![(fk_pos, v)])
            }
        }
    }

    fn cascade_add(
        &self,
        session: &mut Session,
        owner: &dyn Any,
        owner_values: &[Value],
        owner_ref: &ChangeRef,
    ) -> Result<(), Error> {
        let Some(owner) = owner.downcast_ref::<P>() else {
            return Ok(());
        };
        let Some(Some(item)) = (self.get)(owner).loaded() else {
            return Ok(());
        };
        let mappers = session.mappers().clone();
        let (owner_info, target) = infos(&mappers, &self.info)?;
        let r = self.info.resolved()?.clone();
        if self.info.kind == RelationKind::ManyToOne {
            // The parent is staged too; a new parent's key reaches this row at flush.
            let parent_ref = session.add_linked(item, Vec::new(), &[])?;
            let fk_pos = field_pos(&owner_info, &r.fk)?;
            let ref_pos = field_pos(&target, &r.referred)?;
            if let ChangeRef::Pending(id) = parent_ref {
                if owner_values[fk_pos].is_null() {
                    session.link_change(
                        &owner_info,
                        owner_ref,
                        Link {
                            field: fk_pos,
                            parent: id,
                            parent_field: ref_pos,
                        },
                    );
                }
            }
            return Ok(());
        }
        // One-to-one: the child points at this object.
        let ref_pos = field_pos(&owner_info, &r.referred)?;
        let fk_pos = field_pos(&target, &r.fk)?;
        let parent_value = owner_values[ref_pos].clone();
        let (links, overrides) = match (&parent_value, owner_ref) {
            (Value::Null, ChangeRef::Pending(id)) => (
                vec![Link {
                    field: fk_pos,
                    parent: *id,
                    parent_field: ref_pos,
                }],
                Vec::new(),
            ),
            (v, _) => (Vec::new(), vec![(fk_pos, v.clone())]),
        };
        session.add_linked(item, links, &overrides)?;
        Ok(())
    }

    fn write_back(
        &self,
        session: &mut Session,
        owner: &mut dyn Any,
        trail: &Trail,
        at: &mut usize,
    ) -> Result<(), Error> {
        let Some(owner) = owner.downcast_mut::<P>() else {
            return Ok(());
        };
        let Some(item) = (self.get_mut)(owner).loaded_mut() else {
            return Ok(());
        };
        let mappers = session.mappers().clone();
        let mapper = mappers.mapper::<C>()?;
        session.write_graph(mapper, &mappers, item, trail, at)
    }

    fn cascade_delete(
        &self,
        session: &mut Session,
        owner: &dyn Any,
        owner_values: &[Value],
    ) -> Result<(), Error> {
        if self.info.kind != RelationKind::OneToOne
            || self.info.cascade.passive_deletes
            || self.info.viewonly
        {
            return Ok(());
        }
        let mappers = session.mappers().clone();
        let (owner_info, target) = infos(&mappers, &self.info)?;
        let r = self.info.resolved()?.clone();
        let ref_pos = field_pos(&owner_info, &r.referred)?;
        if !self.info.cascade.delete {
            // The child stays, with a NULL key (SQLAlchemy's default).
            session.push_change(Change::NullifyWhere {
                table: target.table.clone(),
                column: r.fk.clone(),
                value: owner_values[ref_pos].clone(),
            });
            return Ok(());
        }
        match owner
            .downcast_ref::<P>()
            .and_then(|o| (self.get)(o).loaded())
        {
            Some(Some(item)) => session.delete(item)?,
            _ => session.push_change(Change::DeleteWhere {
                table: target.table.clone(),
                conditions: vec![(r.fk.clone(), owner_values[ref_pos].clone())],
            }),
        }
        Ok(())
    }

    fn joined_collector<'m>(
        &self,
        mappers: &'m Mappers,
    ) -> Result<Box<dyn JoinedCollect + 'm>, Error> {
        Ok(Box::new(OneJoined::<P, C, F> {
            mapper: mappers.mapper::<C>()?,
            get_mut: self.get_mut,
            slots: Vec::new(),
        }))
    }
}

/// Loads `nested` for related objects already in hand (their loader
/// values read from them), by selectin.
async fn nested_selectin<C: Clone + Send + Sync + 'static>(
    session: &mut Session,
    rel: &RelationshipInfo,
    items: &mut Vec<C>,
    nested: &[Load],
) -> Result<(), Error> {
    if items.is_empty() || nested.is_empty() {
        return Ok(());
    }
    let mappers = session.mappers().clone();
    let mapper = mappers.mapper::<C>()?;
    let values = items
        .iter()
        .map(|c| {
            mapper
                .values(c)
                .map(|v| mappers.loader_values(rel.target, &v))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    loading::apply_selectin::<C>(session, items, &values, nested).await
}

/// The owner's and the target's mapper descriptions.
fn infos(
    mappers: &Mappers,
    rel: &RelationshipInfo,
) -> Result<(Arc<MapperInfo>, Arc<MapperInfo>), Error> {
    let owner = mappers
        .info(rel.owner)
        .cloned()
        .ok_or(Error::UnmappedType {
            type_name: "(relationship owner)",
        })?;
    let target = mappers
        .info(rel.target)
        .cloned()
        .ok_or(Error::UnmappedType {
            type_name: rel.target_name,
        })?;
    Ok((owner, target))
}

/// The field position of `column`, which a relationship needs mapped.
fn field_pos(info: &MapperInfo, column: &str) -> Result<usize, Error> {
    info.position(column).ok_or_else(|| Error::Mapping {
        type_name: info.type_name,
        field: column.to_owned(),
        message: "a relationship needs this column mapped as a field".into(),
    })
}
