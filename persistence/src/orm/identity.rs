//! The identity map: per (mapper, primary key), the column values last
//! read from or written to the database.

use std::any::TypeId;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use dialects::Value;
use uuid::Uuid;

/// One part of a primary key, normalised so that `Int(1)` and `BigInt(1)`
/// are the same identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyPart {
    /// Any integer.
    Int(i64),
    /// Text.
    Text(String),
    /// A UUID (also when the backend returned it as text).
    Uuid(Uuid),
    /// Bytes.
    Bytes(Vec<u8>),
    /// Anything else, by its display form.
    Other(String),
}

/// A primary key value: one part per key column. A single-column key
/// (the common case) is held without a separate allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityKey(Parts);

impl Hash for IdentityKey {
    // Hashes the parts' contents only (keys of one mapper have one shape).
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        #[inline]
        fn part<H: Hasher>(part: &KeyPart, state: &mut H) {
            match part {
                KeyPart::Int(n) => state.write_i64(*n),
                KeyPart::Uuid(u) => state.write_u128(u.as_u128()),
                KeyPart::Text(s) | KeyPart::Other(s) => s.hash(state),
                KeyPart::Bytes(b) => b.hash(state),
            }
        }
        match &self.0 {
            Parts::One(p) => part(p, state),
            Parts::Many(ps) => ps.iter().for_each(|p| part(p, state)),
        }
    }
}

/// The parts of a key; one part is never stored as `Many`, so that equal
/// keys have equal representations.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Parts {
    One(KeyPart),
    Many(Box<[KeyPart]>),
}

impl IdentityKey {
    /// A key from its parts, in key-column order.
    pub fn new(parts: Vec<KeyPart>) -> Self {
        if parts.len() == 1 {
            if let Some(part) = parts.into_iter().next() {
                return IdentityKey(Parts::One(part));
            }
            return IdentityKey(Parts::Many(Box::new([])));
        }
        IdentityKey(Parts::Many(parts.into_boxed_slice()))
    }

    /// The parts, in key-column order.
    pub fn parts(&self) -> &[KeyPart] {
        match &self.0 {
            Parts::One(p) => std::slice::from_ref(p),
            Parts::Many(ps) => ps,
        }
    }

    /// The key of these values; `None` if any is NULL.
    #[inline]
    pub fn from_values<'a>(values: impl IntoIterator<Item = &'a Value>) -> Option<Self> {
        let mut values = values.into_iter();
        let Some(first) = values.next() else {
            return Some(IdentityKey(Parts::Many(Box::new([]))));
        };
        let first = KeyPart::of(first)?;
        let Some(second) = values.next() else {
            return Some(IdentityKey(Parts::One(first)));
        };
        let mut parts = vec![first, KeyPart::of(second)?];
        for v in values {
            parts.push(KeyPart::of(v)?);
        }
        Some(IdentityKey(Parts::Many(parts.into_boxed_slice())))
    }

    /// The key of a single value; `None` if it is NULL.
    #[inline]
    pub fn of_value(value: &Value) -> Option<Self> {
        KeyPart::of(value).map(|p| IdentityKey(Parts::One(p)))
    }
}

impl KeyPart {
    /// The key part of one value; `None` if it is NULL.
    #[inline]
    fn of(v: &Value) -> Option<KeyPart> {
        match v {
            Value::BigInt(n) => Some(KeyPart::Int(*n)),
            Value::Int(n) => Some(KeyPart::Int(i64::from(*n))),
            Value::Null => None,
            other => Self::of_other(other),
        }
    }

    /// [`KeyPart::of`] for the less common kinds of value.
    #[inline(never)]
    fn of_other(v: &Value) -> Option<KeyPart> {
        Some(match v {
            Value::BigInt(n) => KeyPart::Int(*n),
            Value::Int(n) => KeyPart::Int(i64::from(*n)),
            Value::SmallInt(n) => KeyPart::Int(i64::from(*n)),
            Value::Null => return None,
            Value::String(s) => match Uuid::parse_str(s) {
                Ok(u) if s.len() == 36 => KeyPart::Uuid(u),
                _ => KeyPart::Text(s.clone()),
            },
            Value::Uuid(u) => KeyPart::Uuid(*u),
            Value::Bytes(b) => KeyPart::Bytes(b.clone()),
            other => KeyPart::Other(other.to_string()),
        })
    }
}

/// The hasher of the session's maps keyed by identities: fast and seeded
/// per process (identity keys come from the database, not from callers).
pub(crate) type FastHash = foldhash::fast::RandomState;

/// A `HashMap` with [`FastHash`].
pub(crate) type FastMap<K, V> = HashMap<K, V, FastHash>;

/// What the session remembers of one persistent object.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Column values as the database has them (field order).
    pub snapshot: Vec<Value>,
    /// Set by expire / commit: the next access reloads from the database.
    pub expired: bool,
}

/// The identities of one mapper.
pub(crate) type TypeMap = FastMap<IdentityKey, Entry>;

/// Persistent objects by mapper and key. A session maps few types, so
/// the per-type maps sit in a short list (a scan of type ids costs less
/// than hashing one).
#[derive(Debug, Default)]
pub(crate) struct IdentityMap {
    entries: Vec<(TypeId, TypeMap)>,
}

impl IdentityMap {
    fn map(&self, ty: TypeId) -> Option<&TypeMap> {
        self.entries.iter().find(|(t, _)| *t == ty).map(|(_, m)| m)
    }

    fn map_mut(&mut self, ty: TypeId) -> Option<&mut TypeMap> {
        self.entries
            .iter_mut()
            .find(|(t, _)| *t == ty)
            .map(|(_, m)| m)
    }

    pub fn get(&self, ty: TypeId, key: &IdentityKey) -> Option<&Entry> {
        self.map(ty).and_then(|m| m.get(key))
    }

    pub fn insert(&mut self, ty: TypeId, key: IdentityKey, snapshot: Vec<Value>) {
        put(self.of_type(ty), key, snapshot);
    }

    /// The identities of mapper `ty`, for inserting many at once.
    pub fn of_type(&mut self, ty: TypeId) -> &mut TypeMap {
        let at = match self.entries.iter().position(|(t, _)| *t == ty) {
            Some(at) => at,
            None => {
                self.entries.push((ty, TypeMap::default()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[at].1
    }

    pub fn remove(&mut self, ty: TypeId, key: &IdentityKey) {
        if let Some(m) = self.map_mut(ty) {
            m.remove(key);
        }
    }

    pub fn expire(&mut self, ty: TypeId, key: &IdentityKey) {
        if let Some(e) = self.map_mut(ty).and_then(|m| m.get_mut(key)) {
            e.expired = true;
        }
    }

    pub fn expire_type(&mut self, ty: TypeId) {
        if let Some(m) = self.map_mut(ty) {
            m.values_mut().for_each(|e| e.expired = true);
        }
    }

    pub fn expire_all(&mut self) {
        for (_, m) in self.entries.iter_mut() {
            m.values_mut().for_each(|e| e.expired = true);
        }
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.iter().map(|(_, m)| m.len()).sum()
    }
}

/// Puts `snapshot` under `key`, as [`IdentityMap::insert`] does.
pub(crate) fn put(map: &mut TypeMap, key: IdentityKey, snapshot: Vec<Value>) {
    map.insert(
        key,
        Entry {
            snapshot,
            expired: false,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_widths_share_an_identity() {
        let a = IdentityKey::from_values([&Value::Int(7)]);
        let b = IdentityKey::from_values([&Value::BigInt(7)]);
        assert_eq!(a, b);
        assert_eq!(IdentityKey::from_values([&Value::Null]), None);
        assert_eq!(IdentityKey::of_value(&Value::Int(7)), a);
        assert_eq!(
            IdentityKey::new(vec![KeyPart::Int(7)]),
            a.clone().expect("a key")
        );
        assert_eq!(a.expect("a key").parts(), &[KeyPart::Int(7)]);
    }

    #[test]
    fn composite_keys() {
        let k = IdentityKey::from_values([&Value::Int(1), &Value::from("x")]).expect("a key");
        assert_eq!(k.parts(), &[KeyPart::Int(1), KeyPart::Text("x".into())]);
        assert_eq!(
            k,
            IdentityKey::new(vec![KeyPart::Int(1), KeyPart::Text("x".into())])
        );
        assert_eq!(
            IdentityKey::from_values([&Value::Int(1), &Value::Null]),
            None
        );
    }

    #[test]
    fn uuid_text_and_uuid_share_an_identity() {
        let u = Uuid::new_v4();
        assert_eq!(
            IdentityKey::from_values([&Value::Uuid(u)]),
            IdentityKey::from_values([&Value::String(u.to_string())])
        );
    }
}
