//! Which relationships to load, named without persistence types.
//!
//! The domain declares one [`Relation`] constant per relationship field,
//! next to its struct; services ask a repository for an aggregate together
//! with some of its relations by passing [`Load`] plans to
//! [`Repository::get_with`](crate::Repository::get_with) or
//! [`Repository::list_with`](crate::Repository::list_with):
//!
//! ```
//! use domain::{Load, Relation};
//!
//! pub struct Publisher { /* id, name, posts: Vec<Post> */ }
//! pub struct Post { /* id, title, tags: Vec<Tag> */ }
//!
//! pub mod publisher {
//!     use super::*;
//!     pub const POSTS: Relation<Publisher> = Relation::new("posts");
//! }
//! pub mod post {
//!     use super::*;
//!     pub const TAGS: Relation<Post> = Relation::new("tags");
//! }
//!
//! # fn main() {
//! // publisher.posts with one SELECT ... IN, then each post's tags the same way
//! let plan = Load::selectin(publisher::POSTS).then(Load::selectin(post::TAGS));
//! assert_eq!(plan.path(), "posts.tags");
//! # }
//! ```
//!
//! This module is data only. The persistence layer reads the plan, checks
//! every name against its mapping (an unknown name is
//! [`DomainError::Invalid`]) and runs the strategies.
//!
//! [`Related`] is the small type a relationship field can use when domain
//! code must tell "not loaded" from "empty".

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use crate::error::DomainError;

/// The name of a relationship on entity type `P` (the parent, the side that
/// holds the field).
///
/// Declare one constant per relationship field; the type parameter stops a
/// `Post` relation from being passed to a `Publisher` repository.
///
/// ```
/// use domain::Relation;
/// # pub struct Publisher;
/// pub const POSTS: Relation<Publisher> = Relation::new("posts");
/// assert_eq!(POSTS.name(), "posts");
/// ```
pub struct Relation<P> {
    name: &'static str,
    parent: PhantomData<fn() -> P>,
}

impl<P> Relation<P> {
    /// The relationship called `name` (the field name used in the mapping).
    pub const fn new(name: &'static str) -> Self {
        Relation {
            name,
            parent: PhantomData,
        }
    }

    /// The relationship's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

// Manual impls: derives would demand `P: Clone` etc., which a marker never needs.
impl<P> Clone for Relation<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P> Copy for Relation<P> {}

impl<P> PartialEq for Relation<P> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl<P> Eq for Relation<P> {}

impl<P> Hash for Relation<P> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl<P> fmt::Debug for Relation<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Relation({})", self.name)
    }
}

/// How one relationship is loaded (SQLAlchemy's loader strategies).
///
/// Relations that no [`Load`] mentions use the default the mapping
/// configured; without one they are not loaded at all (async Rust has no
/// lazy loading on attribute access).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoadStrategy {
    /// `selectinload`: one extra `SELECT ... WHERE fk IN (...)` per level,
    /// for all parents at once. The usual choice for collections
    /// (one-to-many, many-to-many).
    SelectIn,
    /// `joinedload`: a `LEFT OUTER JOIN` in the parent's query, rows
    /// de-duplicated by identity. The usual choice for many-to-one and
    /// one-to-one.
    Joined,
    /// `raiseload`: do not load, overriding an eager default in the mapping,
    /// and make any later attempt to use the relation through the session (a
    /// load, or flushing changes made to it) a [`DomainError::NotLoaded`].
    /// A [`Related`] field stays [`Related::NotLoaded`].
    Raise,
    /// `noload`: do not load, overriding an eager default in the mapping. The
    /// field keeps its default value and the session treats the relation as
    /// not loaded, so an empty collection here never deletes children.
    /// (Unlike SQLAlchemy's `noload`, which fills an empty collection.)
    NoLoad,
}

/// One step of a [`Load`] path: a relationship name and how to load it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LoadStep {
    /// The relationship's name on the previous step's target (on the root
    /// entity for the first step).
    pub relation: &'static str,
    /// How to load it.
    pub strategy: LoadStrategy,
}

/// A load plan rooted at entity type `T`: a path of relationships, each with
/// its own [`LoadStrategy`].
///
/// Build one with [`Load::selectin`], [`Load::joined`], [`Load::raise`] or
/// [`Load::noload`] and extend it with [`then`](Load::then) for nested
/// relations. Only the root is type-checked (a `Load<Publisher>` starts
/// at a `Publisher` relation); the persistence layer checks that each later
/// step names a relationship of the previous step's target and reports a
/// misfit as [`DomainError::Invalid`].
///
/// Passing a plan rooted at another entity does not compile:
///
/// ```compile_fail
/// use domain::{Load, Relation};
/// # pub struct Publisher; pub struct Post;
/// const TAGS: Relation<Post> = Relation::new("tags");
/// let plans: &[Load<Publisher>] = &[Load::selectin(TAGS)]; // expected `Publisher`, found `Post`
/// ```
///
/// Several plans may share a prefix (`posts` then `tags`, and `posts` then
/// `author`): the persistence layer merges them, loading `posts` once. The
/// same path given two different strategies is [`DomainError::Invalid`].
///
/// ```
/// use domain::{Load, LoadStep, LoadStrategy, Relation};
/// # pub struct Publisher; pub struct Post;
/// const POSTS: Relation<Publisher> = Relation::new("posts");
/// const TAGS: Relation<Post> = Relation::new("tags");
///
/// let plan = Load::joined(POSTS).then(Load::selectin(TAGS));
/// assert_eq!(plan.steps(), &[
///     LoadStep { relation: "posts", strategy: LoadStrategy::Joined },
///     LoadStep { relation: "tags", strategy: LoadStrategy::SelectIn },
/// ]);
/// ```
pub struct Load<T> {
    steps: Vec<LoadStep>,
    root: PhantomData<fn() -> T>,
}

impl<T> Load<T> {
    /// Load `relation` with `strategy`.
    pub fn new(relation: Relation<T>, strategy: LoadStrategy) -> Self {
        Load {
            steps: vec![LoadStep {
                relation: relation.name(),
                strategy,
            }],
            root: PhantomData,
        }
    }

    /// Load `relation` with [`LoadStrategy::SelectIn`].
    pub fn selectin(relation: Relation<T>) -> Self {
        Self::new(relation, LoadStrategy::SelectIn)
    }

    /// Load `relation` with [`LoadStrategy::Joined`].
    pub fn joined(relation: Relation<T>) -> Self {
        Self::new(relation, LoadStrategy::Joined)
    }

    /// Do not load `relation`, and make using it an error
    /// ([`LoadStrategy::Raise`]).
    pub fn raise(relation: Relation<T>) -> Self {
        Self::new(relation, LoadStrategy::Raise)
    }

    /// Do not load `relation` ([`LoadStrategy::NoLoad`]).
    pub fn noload(relation: Relation<T>) -> Self {
        Self::new(relation, LoadStrategy::NoLoad)
    }

    /// Continue the path with `child`, a plan rooted at this path's target
    /// (for `Load::selectin(publisher::POSTS)`, a `Load<Post>`). All of
    /// `child`'s steps are appended.
    pub fn then<C>(mut self, child: Load<C>) -> Self {
        self.steps.extend(child.steps);
        self
    }

    /// The steps, root first. Never empty.
    pub fn steps(&self) -> &[LoadStep] {
        &self.steps
    }

    /// The relation names joined with `.`, for example `"posts.tags"`: the
    /// form error messages use.
    pub fn path(&self) -> String {
        let names: Vec<&str> = self.steps.iter().map(|s| s.relation).collect();
        names.join(".")
    }

    /// The strategy of the last step: how the deepest relation is loaded.
    pub fn strategy(&self) -> LoadStrategy {
        // `steps` is never empty: every constructor pushes one step.
        self.steps
            .last()
            .map_or(LoadStrategy::NoLoad, |step| step.strategy)
    }
}

impl<T> Clone for Load<T> {
    fn clone(&self) -> Self {
        Load {
            steps: self.steps.clone(),
            root: PhantomData,
        }
    }
}

impl<T> PartialEq for Load<T> {
    fn eq(&self, other: &Self) -> bool {
        self.steps == other.steps
    }
}

impl<T> Eq for Load<T> {}

impl<T> Hash for Load<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.steps.hash(state);
    }
}

impl<T> fmt::Debug for Load<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Load").field(&self.steps).finish()
    }
}

/// SQLAlchemy's spelling of [`Load::selectin`].
pub fn selectinload<T>(relation: Relation<T>) -> Load<T> {
    Load::selectin(relation)
}

/// SQLAlchemy's spelling of [`Load::joined`].
pub fn joinedload<T>(relation: Relation<T>) -> Load<T> {
    Load::joined(relation)
}

/// SQLAlchemy's spelling of [`Load::raise`].
pub fn raiseload<T>(relation: Relation<T>) -> Load<T> {
    Load::raise(relation)
}

/// SQLAlchemy's spelling of [`Load::noload`].
pub fn noload<T>(relation: Relation<T>) -> Load<T> {
    Load::noload(relation)
}

/// A relationship field that knows whether it was loaded.
///
/// A plain `Vec<Post>` cannot tell "this publisher has no posts" from "the
/// posts were not loaded". The session always knows the difference (it will
/// not delete children because an unloaded collection is empty), so plain
/// fields are fine for data that is only read or shown. Use `Related<T>`
/// when **domain logic decides something from the relation**: an invariant
/// such as "a publisher has at most 10 drafts" must fail loudly with
/// [`DomainError::NotLoaded`] rather than pass because nothing was loaded.
///
/// The persistence layer sets a `Related` field to `Loaded(..)` when it
/// loads the relation ([`LoadStrategy::SelectIn`], [`LoadStrategy::Joined`],
/// or an eager mapping default) and leaves it `NotLoaded` otherwise. A new
/// object built with `Related::Loaded(vec![])` has a known, empty
/// collection.
///
/// ```
/// use domain::{DomainError, Related};
///
/// struct Post;
/// struct Publisher { posts: Related<Vec<Post>> }
///
/// impl Publisher {
///     fn publish(&mut self, post: Post) -> Result<(), DomainError> {
///         let posts = self.posts.require_mut("posts")?;
///         if posts.len() >= 10 {
///             return Err(DomainError::invalid("a publisher has at most 10 posts"));
///         }
///         posts.push(post);
///         Ok(())
///     }
/// }
///
/// let mut fresh = Publisher { posts: Related::Loaded(vec![]) };
/// assert!(fresh.publish(Post).is_ok());
///
/// let mut partial = Publisher { posts: Related::NotLoaded };
/// assert_eq!(partial.publish(Post), Err(DomainError::NotLoaded { relation: "posts" }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Related<T> {
    /// The relation was not loaded; its value is unknown.
    #[default]
    NotLoaded,
    /// The relation was loaded (or set by domain code) and holds this value,
    /// possibly an empty collection or `None`.
    Loaded(T),
}

impl<T> Related<T> {
    /// Whether the value is known.
    pub const fn is_loaded(&self) -> bool {
        matches!(self, Related::Loaded(_))
    }

    /// The value, if loaded.
    pub fn get(&self) -> Option<&T> {
        match self {
            Related::Loaded(value) => Some(value),
            Related::NotLoaded => None,
        }
    }

    /// The value, mutably, if loaded.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        match self {
            Related::Loaded(value) => Some(value),
            Related::NotLoaded => None,
        }
    }

    /// The value, or [`DomainError::NotLoaded`] naming `relation`.
    pub fn require(&self, relation: &'static str) -> Result<&T, DomainError> {
        self.get().ok_or(DomainError::NotLoaded { relation })
    }

    /// The value mutably, or [`DomainError::NotLoaded`] naming `relation`.
    pub fn require_mut(&mut self, relation: &'static str) -> Result<&mut T, DomainError> {
        self.get_mut().ok_or(DomainError::NotLoaded { relation })
    }

    /// Replace the value, marking the relation loaded. Returns the previous
    /// state.
    pub fn set(&mut self, value: T) -> Related<T> {
        std::mem::replace(self, Related::Loaded(value))
    }

    /// The value if loaded, consuming `self`.
    pub fn into_option(self) -> Option<T> {
        match self {
            Related::Loaded(value) => Some(value),
            Related::NotLoaded => None,
        }
    }

    /// Borrow the value: `&Related<T>` to `Related<&T>`.
    pub fn as_ref(&self) -> Related<&T> {
        match self {
            Related::Loaded(value) => Related::Loaded(value),
            Related::NotLoaded => Related::NotLoaded,
        }
    }

    /// Apply `f` to the value if loaded.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Related<U> {
        match self {
            Related::Loaded(value) => Related::Loaded(f(value)),
            Related::NotLoaded => Related::NotLoaded,
        }
    }
}

impl<T> From<T> for Related<T> {
    fn from(value: T) -> Self {
        Related::Loaded(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Publisher;
    struct Post;
    struct Tag;

    const POSTS: Relation<Publisher> = Relation::new("posts");
    const TAGS: Relation<Post> = Relation::new("tags");
    const AUTHOR: Relation<Post> = Relation::new("author");
    const PARENT: Relation<Tag> = Relation::new("parent");

    fn step(relation: &'static str, strategy: LoadStrategy) -> LoadStep {
        LoadStep { relation, strategy }
    }

    #[test]
    fn relation_is_a_copyable_const() {
        let copy = POSTS;
        assert_eq!(copy, POSTS);
        assert_eq!(POSTS.name(), "posts");
        assert_eq!(format!("{POSTS:?}"), "Relation(posts)");
    }

    #[test]
    fn single_step_constructors() {
        assert_eq!(
            Load::selectin(POSTS).steps(),
            &[step("posts", LoadStrategy::SelectIn)]
        );
        assert_eq!(Load::joined(POSTS).strategy(), LoadStrategy::Joined);
        assert_eq!(Load::raise(POSTS).strategy(), LoadStrategy::Raise);
        assert_eq!(Load::noload(POSTS).strategy(), LoadStrategy::NoLoad);
        assert_eq!(selectinload(POSTS), Load::selectin(POSTS));
        assert_eq!(joinedload(POSTS), Load::joined(POSTS));
        assert_eq!(raiseload(POSTS), Load::raise(POSTS));
        assert_eq!(noload(POSTS), Load::noload(POSTS));
    }

    #[test]
    fn chains_keep_each_steps_strategy() {
        let plan = Load::selectin(POSTS).then(Load::joined(TAGS));
        assert_eq!(
            plan.steps(),
            &[
                step("posts", LoadStrategy::SelectIn),
                step("tags", LoadStrategy::Joined)
            ]
        );
        assert_eq!(plan.path(), "posts.tags");
        assert_eq!(plan.strategy(), LoadStrategy::Joined);
    }

    #[test]
    fn then_appends_a_whole_child_chain() {
        let three = Load::selectin(POSTS).then(Load::selectin(TAGS).then(Load::raise(PARENT)));
        let same = Load::selectin(POSTS)
            .then(Load::selectin(TAGS))
            .then(Load::raise(PARENT));
        assert_eq!(three, same);
        assert_eq!(three.path(), "posts.tags.parent");
        assert_eq!(three.steps().len(), 3);
    }

    #[test]
    fn sibling_plans_share_a_prefix() {
        let plans = [
            Load::selectin(POSTS).then(Load::selectin(TAGS)),
            Load::selectin(POSTS).then(Load::joined(AUTHOR)),
        ];
        assert_eq!(plans[0].steps()[0], plans[1].steps()[0]);
        assert_ne!(plans[0], plans[1]);
        let cloned = plans.clone();
        assert_eq!(cloned, plans);
        assert!(format!("{:?}", plans[1]).contains("author"));
    }

    #[test]
    fn related_tells_not_loaded_from_empty() {
        let empty: Related<Vec<u8>> = Related::Loaded(vec![]);
        let unknown: Related<Vec<u8>> = Related::default();
        assert!(empty.is_loaded());
        assert!(!unknown.is_loaded());
        assert_eq!(empty.require("posts").map(Vec::len), Ok(0));
        assert_eq!(
            unknown.require("posts"),
            Err(DomainError::NotLoaded { relation: "posts" })
        );
        assert_eq!(unknown.get(), None);
        assert_eq!(empty.clone().into_option(), Some(vec![]));
    }

    #[test]
    fn related_helpers() {
        let mut rel: Related<Vec<i32>> = Related::NotLoaded;
        assert!(rel.get_mut().is_none());
        assert!(rel.require_mut("tags").is_err());
        assert_eq!(rel.set(vec![1]), Related::NotLoaded);
        if let Ok(values) = rel.require_mut("tags") {
            values.push(2);
        }
        assert_eq!(rel.as_ref().map(Vec::len), Related::Loaded(2));
        assert_eq!(rel.map(|v| v.iter().sum::<i32>()), Related::Loaded(3));
        assert_eq!(Related::from(5), Related::Loaded(5));
        assert_eq!(Related::<u8>::NotLoaded.map(u16::from), Related::NotLoaded);
    }
}
