//! The identity map: per (mapper, primary key), the column values last
//! read from or written to the database.

use std::any::TypeId;
use std::collections::HashMap;

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

/// A primary key value: one part per key column.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdentityKey(pub Vec<KeyPart>);

impl IdentityKey {
    /// The key of these values; `None` if any is NULL.
    pub fn from_values<'a>(values: impl IntoIterator<Item = &'a Value>) -> Option<Self> {
        let mut parts = Vec::new();
        for v in values {
            parts.push(match v {
                Value::Null => return None,
                Value::SmallInt(_) | Value::Int(_) | Value::BigInt(_) => KeyPart::Int(v.as_i64()?),
                Value::String(s) => match Uuid::parse_str(s) {
                    Ok(u) if s.len() == 36 => KeyPart::Uuid(u),
                    _ => KeyPart::Text(s.clone()),
                },
                Value::Uuid(u) => KeyPart::Uuid(*u),
                Value::Bytes(b) => KeyPart::Bytes(b.clone()),
                other => KeyPart::Other(other.to_string()),
            });
        }
        Some(IdentityKey(parts))
    }
}

/// What the session remembers of one persistent object.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Column values as the database has them (field order).
    pub snapshot: Vec<Value>,
    /// Set by expire / commit: the next access reloads from the database.
    pub expired: bool,
}

/// Persistent objects by mapper and key.
#[derive(Debug, Default)]
pub(crate) struct IdentityMap {
    entries: HashMap<TypeId, HashMap<IdentityKey, Entry>>,
}

impl IdentityMap {
    pub fn get(&self, ty: TypeId, key: &IdentityKey) -> Option<&Entry> {
        self.entries.get(&ty).and_then(|m| m.get(key))
    }

    pub fn insert(&mut self, ty: TypeId, key: IdentityKey, snapshot: Vec<Value>) {
        self.entries.entry(ty).or_default().insert(
            key,
            Entry {
                snapshot,
                expired: false,
            },
        );
    }

    pub fn remove(&mut self, ty: TypeId, key: &IdentityKey) {
        if let Some(m) = self.entries.get_mut(&ty) {
            m.remove(key);
        }
    }

    pub fn expire(&mut self, ty: TypeId, key: &IdentityKey) {
        if let Some(e) = self.entries.get_mut(&ty).and_then(|m| m.get_mut(key)) {
            e.expired = true;
        }
    }

    pub fn expire_type(&mut self, ty: TypeId) {
        if let Some(m) = self.entries.get_mut(&ty) {
            m.values_mut().for_each(|e| e.expired = true);
        }
    }

    pub fn expire_all(&mut self) {
        for m in self.entries.values_mut() {
            m.values_mut().for_each(|e| e.expired = true);
        }
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.values().map(HashMap::len).sum()
    }
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
