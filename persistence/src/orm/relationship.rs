//! Relationships between mapped structs: one-to-many, many-to-one,
//! one-to-one, many-to-many through a secondary table, self-referential.
//!
//! A relationship field is a plain field: `Vec<C>` or `Related<Vec<C>>` for
//! collections, `Option<C>`, `Option<Box<C>>` or `Related<Option<C>>` for
//! single objects. The session remembers which collections it loaded, so
//! an empty `Vec` it never loaded is not mistaken for "no children".

use std::any::TypeId;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use dialects::Table;

use super::accessor::{RelAccess, ToMany, ToOne};
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
