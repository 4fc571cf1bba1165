//! [`Fields<T>`]: what the in-memory fake needs to know about an entity
//! type, given as values (closures), so no trait has to be implemented on
//! a foreign type: field readers for [`ListSpec`](crate::ListSpec)
//! filters and ordering, unique fields, the id generator, and relation
//! names.

use std::collections::HashMap;
use std::sync::Arc;

use crate::entity::Entity;
use crate::filter::FilterValue;

type Reader<T> = Arc<dyn Fn(&T) -> FilterValue + Send + Sync>;
type IdSetter<T> = Arc<dyn Fn(&mut T, u64) + Send + Sync>;

/// The fields of `T` that [`InMemoryRepository`](super::InMemoryRepository)
/// filters and orders by, its unique fields and how it gets ids.
///
/// ```
/// use domain::fake::Fields;
/// # #[derive(Debug, Clone)] pub struct Worker { pub id: Option<i64>, pub name: String, pub rate: Option<i64> }
/// # impl domain::Entity for Worker { type Id = i64; fn id(&self) -> Option<i64> { self.id } }
///
/// let fields = Fields::<Worker>::new()
///     .field("id", |w| w.id)
///     .field("name", |w| w.name.clone())
///     .field("rate", |w| w.rate)
///     .unique("name")
///     .generated_ids(|w, n| w.id = Some(n as i64))
///     .relation("resumes");
/// assert_eq!(fields.names(), ["id", "name", "rate"]);
/// ```
///
/// [`fake_fields!`](crate::fake_fields) writes the `.field(...)` calls for
/// fields whose type converts into a [`FilterValue`].
pub struct Fields<T: Entity> {
    readers: Vec<(&'static str, Reader<T>)>,
    index: HashMap<&'static str, usize>,
    unique: Vec<&'static str>,
    ids: Option<IdSetter<T>>,
    relations: Vec<&'static str>,
}

impl<T: Entity> Clone for Fields<T> {
    fn clone(&self) -> Self {
        Fields {
            readers: self.readers.clone(),
            index: self.index.clone(),
            unique: self.unique.clone(),
            ids: self.ids.clone(),
            relations: self.relations.clone(),
        }
    }
}

impl<T: Entity> std::fmt::Debug for Fields<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fields")
            .field("entity", &T::entity_name())
            .field("fields", &self.names())
            .field("unique", &self.unique)
            .field("generated_ids", &self.ids.is_some())
            .field("relations", &self.relations)
            .finish()
    }
}

impl<T: Entity> Default for Fields<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Entity> Fields<T> {
    /// No fields yet.
    pub fn new() -> Self {
        Fields {
            readers: Vec::new(),
            index: HashMap::new(),
            unique: Vec::new(),
            ids: None,
            relations: Vec::new(),
        }
    }

    /// Field `name`, read by `read` (a later field of the same name
    /// replaces an earlier one).
    pub fn field<V, F>(mut self, name: &'static str, read: F) -> Self
    where
        V: Into<FilterValue>,
        F: Fn(&T) -> V + Send + Sync + 'static,
    {
        let reader: Reader<T> = Arc::new(move |e| read(e).into());
        match self.index.get(name) {
            Some(&i) => self.readers[i].1 = reader,
            None => {
                self.index.insert(name, self.readers.len());
                self.readers.push((name, reader));
            }
        }
        self
    }

    /// No two entities may share a non-null value of field `name` (a
    /// unique constraint: [`DomainError::Conflict`](crate::DomainError::Conflict)).
    pub fn unique(mut self, name: &'static str) -> Self {
        self.unique.push(name);
        self
    }

    /// How a new entity (one whose `id()` is `None`) gets its id, from a
    /// sequence starting at 1: as a database's serial key, numbers are
    /// never reused, even when the unit of work rolls back.
    pub fn generated_ids<F>(mut self, set: F) -> Self
    where
        F: Fn(&mut T, u64) + Send + Sync + 'static,
    {
        self.ids = Some(Arc::new(set));
        self
    }

    /// A relation `get_with` / `list_with` may name. The fake stores
    /// entities whole, relations included, so loading is a no-op; unknown
    /// names are [`DomainError::Invalid`](crate::DomainError::Invalid), as
    /// the SQL repository says (only the first step of a plan is checked).
    pub fn relation(mut self, name: &'static str) -> Self {
        self.relations.push(name);
        self
    }

    /// The field names, in declaration order.
    pub fn names(&self) -> Vec<&'static str> {
        self.readers.iter().map(|(n, _)| *n).collect()
    }

    /// Field `name` of `entity`, or `None` when there is no such field.
    pub fn read(&self, entity: &T, name: &str) -> Option<FilterValue> {
        self.index.get(name).map(|&i| (self.readers[i].1)(entity))
    }

    pub(crate) fn unique_fields(&self) -> &[&'static str] {
        &self.unique
    }

    pub(crate) fn id_setter(&self) -> Option<&IdSetter<T>> {
        self.ids.as_ref()
    }

    pub(crate) fn has_relation(&self, name: &str) -> bool {
        self.relations.contains(&name)
    }
}

/// [`Fields`] of the named fields of `T`, each read with `.clone()` and
/// converted into a [`FilterValue`]:
///
/// ```
/// use domain::fake_fields;
/// # #[derive(Debug, Clone)] pub struct Worker { pub id: Option<i64>, pub name: String }
/// # impl domain::Entity for Worker { type Id = i64; fn id(&self) -> Option<i64> { self.id } }
/// let fields = fake_fields!(Worker { id, name })
///     .unique("name")
///     .generated_ids(|w, n| w.id = Some(n as i64));
/// assert_eq!(fields.names(), ["id", "name"]);
/// ```
#[macro_export]
macro_rules! fake_fields {
    ($ty:ty { $($field:ident),* $(,)? }) => {
        $crate::fake::Fields::<$ty>::new()
            $(.field(stringify!($field), |e: &$ty| e.$field.clone()))*
    };
}
