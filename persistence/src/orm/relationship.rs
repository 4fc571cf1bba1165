//! Relationships between mapped structs: one-to-many, many-to-one,
//! one-to-one, many-to-many through a secondary table, self-referential.
//!
//! A relationship field is a plain field: `Vec<C>` or `Related<Vec<C>>` for
//! collections, `Option<C>`, `Option<Box<C>>` or `Related<Option<C>>` for
//! single objects. The session remembers which collections it loaded, so
//! an empty `Vec` it never loaded is not mistaken for "no children".

use std::any::{Any, TypeId};
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use dialects::{Table, Value};
use futures_util::future::BoxFuture;

use super::identity::IdentityKey;
use super::loading::{self, Load};
use super::mapper::MapperInfo;
use super::registry::Mappers;
use super::session::{ChangeRef, Session, Trail};
use super::unit_of_work::{Change, Link, RefValue};
use crate::error::Error;

/// The kinds of relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    /// A parent's collection of children whose foreign key points at it.
    OneToMany,
    /// A child's parent, through the child's foreign key.
    ManyToOne,
    /// A parent's single child whose foreign key points at it.
    OneToOne,
    /// A collection through a secondary (association) table.
    ManyToMany,
}

impl RelationKind {
    /// Whether the relationship holds a collection.
    pub fn is_collection(self) -> bool {
        matches!(self, RelationKind::OneToMany | RelationKind::ManyToMany)
    }
}

/// What operations on a parent do to its related objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cascade {
    /// `add(parent)` also stages the loaded children (SQLAlchemy's save-update).
    pub save_update: bool,
    /// `delete(parent)` also deletes the children.
    pub delete: bool,
    /// A child removed from a loaded collection is deleted (otherwise its
    /// foreign key is set to NULL).
    pub delete_orphan: bool,
    /// Leave deleting children to the database's `ON DELETE CASCADE`.
    pub passive_deletes: bool,
}

impl Default for Cascade {
    fn default() -> Self {
        Cascade {
            save_update: true,
            delete: false,
            delete_orphan: false,
            passive_deletes: false,
        }
    }
}

impl Cascade {
    /// SQLAlchemy's `"all, delete-orphan"`.
    pub fn all_delete_orphan() -> Self {
        Cascade {
            save_update: true,
            delete: true,
            delete_orphan: true,
            passive_deletes: false,
        }
    }

    /// Deletes follow the parent, through the ORM.
    pub fn delete() -> Self {
        Cascade {
            delete: true,
            ..Cascade::default()
        }
    }

    /// Deletes follow the parent, through the database's ON DELETE CASCADE.
    pub fn passive_deletes() -> Self {
        Cascade {
            delete: true,
            passive_deletes: true,
            ..Cascade::default()
        }
    }
}

/// The columns a relationship joins on, found at configure time.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The foreign key column (on the child table, or on the secondary
    /// table's side pointing at this mapper for many-to-many).
    pub fk: String,
    /// The column the foreign key refers to.
    pub referred: String,
    /// Many-to-many: the secondary table.
    pub secondary: Option<Table>,
    /// Many-to-many: the secondary column pointing at the target.
    pub target_fk: Option<String>,
    /// Many-to-many: the target column it refers to.
    pub target_referred: Option<String>,
}

/// The untyped description of a relationship.
#[derive(Debug)]
pub struct RelationshipInfo {
    /// Its name (the field).
    pub name: &'static str,
    /// Its kind.
    pub kind: RelationKind,
    /// The owning mapper's type.
    pub owner: TypeId,
    /// The related mapper's type.
    pub target: TypeId,
    /// The related type's name.
    pub target_name: &'static str,
    /// An explicitly named foreign key column.
    pub foreign_key: Option<String>,
    /// Many-to-many: the secondary table.
    pub secondary: Option<Table>,
    /// The cascade settings.
    pub cascade: Cascade,
    /// The order of a loaded collection (SQLAlchemy's `order_by=`); the
    /// target's primary key breaks ties.
    pub order_by: Vec<dialects::OrderBy>,
    /// Conditions every load of this relationship adds on the target rows
    /// (a custom join condition: SQLAlchemy's `primaryjoin=and_(...)`).
    pub criteria: Vec<dialects::Expr>,
    /// Read-only: loaded, never written (no cascade, no foreign keys set).
    pub viewonly: bool,
    /// How the relationship loads when a query does not say (SQLAlchemy's
    /// `lazy=`): `NoLoad` (the default here: nothing is loaded unasked),
    /// `Selectin` or `Joined`. Only the top level of a query applies it;
    /// `raiseload("*")` / `noload("*")` turn it off.
    pub lazy: super::loading::Strategy,
    /// The mirror relationship on the target, when declared with
    /// `backref_one` / `backref_many`.
    pub(crate) backref: OnceLock<&'static str>,
    pub(crate) resolved: OnceLock<Resolved>,
}

impl RelationshipInfo {
    /// The join columns (after configure).
    pub fn resolved(&self) -> Result<&Resolved, Error> {
        self.resolved.get().ok_or_else(|| Error::Mapping {
            type_name: self.target_name,
            field: self.name.to_owned(),
            message: "relationship used before `configure()`".into(),
        })
    }
}

/// A collection relationship field.
pub trait ManyField<C>: Send + Sync {
    /// The loaded items; `None` when the collection is known not loaded.
    fn loaded(&self) -> Option<&[C]>;
    /// The loaded items, to write generated values into.
    fn loaded_mut(&mut self) -> Option<&mut [C]>;
    /// Takes the loaded items out (left loaded and empty); `None` when not
    /// loaded.
    fn take_loaded(&mut self) -> Option<Vec<C>>;
    /// Marks the collection not loaded, when the field can say so (a
    /// `Related`); whether it could.
    fn mark_not_loaded(&mut self) -> bool {
        false
    }
    /// Stores loaded items.
    fn set_loaded(&mut self, items: Vec<C>);
}

impl<C: Send + Sync> ManyField<C> for Vec<C> {
    fn loaded(&self) -> Option<&[C]> {
        Some(self)
    }
    fn loaded_mut(&mut self) -> Option<&mut [C]> {
        Some(self)
    }
    fn take_loaded(&mut self) -> Option<Vec<C>> {
        Some(std::mem::take(self))
    }
    fn set_loaded(&mut self, items: Vec<C>) {
        *self = items;
    }
}

impl<C: Send + Sync> ManyField<C> for domain::Related<Vec<C>> {
    fn loaded(&self) -> Option<&[C]> {
        self.get().map(Vec::as_slice)
    }
    fn loaded_mut(&mut self) -> Option<&mut [C]> {
        self.get_mut().map(Vec::as_mut_slice)
    }
    fn take_loaded(&mut self) -> Option<Vec<C>> {
        self.get_mut().map(std::mem::take)
    }
    fn mark_not_loaded(&mut self) -> bool {
        *self = domain::Related::NotLoaded;
        true
    }
    fn set_loaded(&mut self, items: Vec<C>) {
        self.set(items);
    }
}

/// A single-object relationship field.
pub trait OneField<C>: Send + Sync {
    /// The loaded object: `None` when not loaded, `Some(None)` when loaded
    /// and absent.
    fn loaded(&self) -> Option<Option<&C>>;
    /// The loaded object, to write generated values into.
    fn loaded_mut(&mut self) -> Option<&mut C>;
    /// Stores the loaded object.
    fn set_loaded(&mut self, item: Option<C>);
    /// Takes the loaded object out; `None` when not loaded or absent.
    fn take_loaded(&mut self) -> Option<C>;
    /// Whether the field says "loaded, and there is none" (a
    /// `Related::Loaded(None)`: adding the owner sets its foreign key to
    /// NULL). A plain `None` says nothing: it may never have been loaded.
    fn explicitly_absent(&self) -> bool {
        false
    }
}

impl<C: Send + Sync> OneField<C> for Option<C> {
    fn loaded(&self) -> Option<Option<&C>> {
        Some(self.as_ref())
    }
    fn loaded_mut(&mut self) -> Option<&mut C> {
        self.as_mut()
    }
    fn take_loaded(&mut self) -> Option<C> {
        self.take()
    }
    fn set_loaded(&mut self, item: Option<C>) {
        *self = item;
    }
}

impl<C: Send + Sync> OneField<C> for Option<Box<C>> {
    fn loaded(&self) -> Option<Option<&C>> {
        Some(self.as_deref())
    }
    fn loaded_mut(&mut self) -> Option<&mut C> {
        self.as_deref_mut()
    }
    fn take_loaded(&mut self) -> Option<C> {
        self.take().map(|b| *b)
    }
    fn set_loaded(&mut self, item: Option<C>) {
        *self = item.map(Box::new);
    }
}

impl<C: Send + Sync> OneField<C> for domain::Related<Option<C>> {
    fn loaded(&self) -> Option<Option<&C>> {
        self.get().map(Option::as_ref)
    }
    fn loaded_mut(&mut self) -> Option<&mut C> {
        self.get_mut().and_then(Option::as_mut)
    }
    fn take_loaded(&mut self) -> Option<C> {
        self.get_mut().and_then(Option::take)
    }
    fn explicitly_absent(&self) -> bool {
        matches!(self.get(), Some(None))
    }
    fn set_loaded(&mut self, item: Option<C>) {
        self.set(item);
    }
}

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

    /// Stores related objects built from joined values (`None` for an
    /// outer-joined row without a match) into the owner at `index`.
    fn assign_joined(
        &self,
        owners: &mut dyn Any,
        index: usize,
        related: &[Vec<Value>],
        mappers: &Mappers,
    ) -> Result<(), Error>;
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

    fn assign_joined(
        &self,
        owners: &mut dyn Any,
        index: usize,
        related: &[Vec<Value>],
        mappers: &Mappers,
    ) -> Result<(), Error> {
        let mapper = mappers.mapper::<C>()?;
        let items = related
            .iter()
            .map(|v| mapper.build_from(v))
            .collect::<Result<Vec<C>, Error>>()?;
        if let Some(owner) = owners_of::<P>(owners)?.get_mut(index) {
            (self.get_mut)(owner).set_loaded(items);
        }
        Ok(())
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

    fn assign_joined(
        &self,
        owners: &mut dyn Any,
        index: usize,
        related: &[Vec<Value>],
        mappers: &Mappers,
    ) -> Result<(), Error> {
        let mapper = mappers.mapper::<C>()?;
        let item = related.first().map(|v| mapper.build_from(v)).transpose()?;
        if let Some(owner) = owners_of::<P>(owners)?.get_mut(index) {
            (self.get_mut)(owner).set_loaded(item);
        }
        Ok(())
    }
}

/// Builds the other side of a relationship from this side's description.
pub(crate) type BackrefFn =
    Box<dyn FnOnce(&Arc<RelationshipInfo>) -> (TypeId, Arc<dyn RelAccess>) + Send>;

/// Declares a relationship on a mapper builder; see
/// [`MapperBuilder::relationship`](super::MapperBuilder::relationship).
pub struct RelationshipDef<P> {
    pub(crate) access: Arc<dyn RelAccess>,
    pub(crate) backref: Option<BackrefFn>,
    _m: PhantomData<fn() -> P>,
}

fn info<P: 'static, C: 'static>(name: &'static str, kind: RelationKind) -> RelationshipInfo {
    RelationshipInfo {
        name,
        kind,
        owner: TypeId::of::<P>(),
        target: TypeId::of::<C>(),
        target_name: std::any::type_name::<C>(),
        foreign_key: None,
        secondary: None,
        cascade: Cascade::default(),
        order_by: Vec::new(),
        criteria: Vec::new(),
        viewonly: false,
        lazy: super::loading::Strategy::NoLoad,
        backref: OnceLock::new(),
        resolved: OnceLock::new(),
    }
}

/// Options of a relationship declaration.
#[derive(Debug, Clone, Default)]
pub struct RelOptions {
    /// The foreign key column, when more than one could apply.
    pub foreign_key: Option<String>,
    /// Many-to-many: the association table.
    pub secondary: Option<Table>,
    /// Cascades.
    pub cascade: Cascade,
    /// The order of a loaded collection.
    pub order_by: Vec<dialects::OrderBy>,
    /// Extra join conditions on the target rows.
    pub criteria: Vec<dialects::Expr>,
    /// Read-only.
    pub viewonly: bool,
    /// The default loader.
    pub lazy: Option<super::loading::Strategy>,
}

impl RelOptions {
    /// Names the foreign key column.
    pub fn foreign_key(mut self, column: &str) -> Self {
        self.foreign_key = Some(column.to_owned());
        self
    }

    /// The association table of a many-to-many relationship.
    pub fn secondary(mut self, table: &Table) -> Self {
        self.secondary = Some(table.clone());
        self
    }

    /// Sets the cascades.
    pub fn cascade(mut self, cascade: Cascade) -> Self {
        self.cascade = cascade;
        self
    }

    /// Orders a loaded collection (SQLAlchemy's `order_by=`):
    /// `RelOptions::default().order_by([post::title.asc()])`.
    pub fn order_by<O: Into<dialects::OrderBy>>(
        mut self,
        terms: impl IntoIterator<Item = O>,
    ) -> Self {
        self.order_by.extend(terms.into_iter().map(Into::into));
        self
    }

    /// A custom join condition: the related rows must also match `cond`
    /// (SQLAlchemy's `primaryjoin=and_(Post.publisher_id == Publisher.id,
    /// Post.draft == False)`); usually with [`viewonly`](RelOptions::viewonly).
    pub fn join_and(mut self, cond: impl Into<dialects::Expr>) -> Self {
        self.criteria.push(cond.into());
        self
    }

    /// Read-only: the relationship loads, but adding or deleting its owner
    /// never writes through it (SQLAlchemy's `viewonly=True`).
    pub fn viewonly(mut self) -> Self {
        self.viewonly = true;
        self
    }

    /// How the relationship loads when a query does not say (SQLAlchemy's
    /// `lazy="selectin"` / `"joined"`); see [`RelationshipInfo::lazy`].
    pub fn lazy(mut self, strategy: super::loading::Strategy) -> Self {
        self.lazy = Some(strategy);
        self
    }
}

fn with_options(mut i: RelationshipInfo, o: RelOptions) -> RelationshipInfo {
    i.foreign_key = o.foreign_key;
    i.secondary = o.secondary;
    i.cascade = if o.viewonly {
        Cascade {
            save_update: false,
            delete: false,
            delete_orphan: false,
            passive_deletes: true,
        }
    } else {
        o.cascade
    };
    i.order_by = o.order_by;
    i.criteria = o.criteria;
    i.viewonly = o.viewonly;
    i.lazy = o.lazy.unwrap_or(super::loading::Strategy::NoLoad);
    i
}

impl<P: Send + Sync + 'static> RelationshipDef<P> {
    /// A collection of `C`s (one-to-many, or many-to-many with
    /// `RelOptions::secondary`) held in the field `get`/`get_mut` reach.
    pub fn many<C, F>(
        name: &'static str,
        get: fn(&P) -> &F,
        get_mut: fn(&mut P) -> &mut F,
        options: RelOptions,
    ) -> Self
    where
        C: Clone + Send + Sync + 'static,
        F: ManyField<C> + 'static,
    {
        let kind = if options.secondary.is_some() {
            RelationKind::ManyToMany
        } else {
            RelationKind::OneToMany
        };
        RelationshipDef {
            access: Arc::new(ToMany::<P, C, F> {
                info: Arc::new(with_options(info::<P, C>(name, kind), options)),
                get,
                get_mut,
                clone_owner: OnceLock::new(),
                _m: PhantomData,
            }),
            backref: None,
            _m: PhantomData,
        }
    }

    /// A single `C` through this table's foreign key (many-to-one).
    pub fn parent<C, F>(
        name: &'static str,
        get: fn(&P) -> &F,
        get_mut: fn(&mut P) -> &mut F,
        options: RelOptions,
    ) -> Self
    where
        C: Clone + Send + Sync + 'static,
        F: OneField<C> + 'static,
    {
        RelationshipDef {
            access: Arc::new(ToOne::<P, C, F> {
                info: Arc::new(with_options(
                    info::<P, C>(name, RelationKind::ManyToOne),
                    options,
                )),
                get,
                get_mut,
                _m: PhantomData,
            }),
            backref: None,
            _m: PhantomData,
        }
    }

    /// A single `C` whose foreign key points at this object (one-to-one).
    pub fn one<C, F>(
        name: &'static str,
        get: fn(&P) -> &F,
        get_mut: fn(&mut P) -> &mut F,
        options: RelOptions,
    ) -> Self
    where
        C: Clone + Send + Sync + 'static,
        F: OneField<C> + 'static,
    {
        RelationshipDef {
            access: Arc::new(ToOne::<P, C, F> {
                info: Arc::new(with_options(
                    info::<P, C>(name, RelationKind::OneToOne),
                    options,
                )),
                get,
                get_mut,
                _m: PhantomData,
            }),
            backref: None,
            _m: PhantomData,
        }
    }

    /// Also configures the other side (SQLAlchemy's `backref`) as a single
    /// object on `C`: the many-to-one mirror of a one-to-many or one-to-one.
    pub fn backref_one<C, F>(
        mut self,
        name: &'static str,
        get: fn(&C) -> &F,
        get_mut: fn(&mut C) -> &mut F,
    ) -> Self
    where
        C: Send + Sync + 'static,
        F: OneField<P> + 'static,
        P: Clone,
    {
        let _ = self.access.info().backref.set(name);
        self.access
            .set_owner_clone(Box::new(<P as Clone>::clone as fn(&P) -> P));
        self.backref = Some(Box::new(move |forward: &Arc<RelationshipInfo>| {
            let mut i = info::<C, P>(name, RelationKind::ManyToOne);
            i.foreign_key = forward.foreign_key.clone();
            let _ = i.backref.set(forward.name);
            let access: Arc<dyn RelAccess> = Arc::new(ToOne::<C, P, F> {
                info: Arc::new(i),
                get,
                get_mut,
                _m: PhantomData,
            });
            (TypeId::of::<C>(), access)
        }));
        self
    }

    /// Also configures the other side (SQLAlchemy's `backref`) as a
    /// collection on `C`: the one-to-many mirror of a many-to-one, or the
    /// mirror of a many-to-many.
    pub fn backref_many<C, F>(
        mut self,
        name: &'static str,
        get: fn(&C) -> &F,
        get_mut: fn(&mut C) -> &mut F,
    ) -> Self
    where
        C: Send + Sync + 'static,
        F: ManyField<P> + 'static,
        P: Clone,
    {
        let _ = self.access.info().backref.set(name);
        self.backref = Some(Box::new(move |forward: &Arc<RelationshipInfo>| {
            let kind = if forward.kind == RelationKind::ManyToMany {
                RelationKind::ManyToMany
            } else {
                RelationKind::OneToMany
            };
            let mut i = info::<C, P>(name, kind);
            i.foreign_key = forward.foreign_key.clone();
            i.secondary = forward.secondary.clone();
            let _ = i.backref.set(forward.name);
            let access: Arc<dyn RelAccess> = Arc::new(ToMany::<C, P, F> {
                info: Arc::new(i),
                get,
                get_mut,
                clone_owner: OnceLock::new(),
                _m: PhantomData,
            });
            (TypeId::of::<C>(), access)
        }));
        self
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
