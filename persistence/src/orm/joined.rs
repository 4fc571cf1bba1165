//! The related rows of a joined load (`joinedload`, `contains_eager`, the
//! default for to-one) as its statement is read: per joined relationship,
//! each owner's related rows once each, in the order first met (rows
//! repeated by another joined collection fold back by identity). Each
//! related row's values are copied once into a snapshot block and move
//! into its object; no row is kept on its own.

use std::any::{Any, TypeId};

use dialects::Value;

use super::accessor::JoinedCollect;
use super::identity::{BlockBuilder, FastMap, IdentityKey};
use super::session::Session;
use crate::error::Error;

/// Related rows an owner holds before its duplicate check hashes
/// (a short list is scanned).
const SCAN: usize = 8;

/// One joined relationship's rows while a statement is read.
pub(crate) struct JoinedSide<'m> {
    collect: Box<dyn JoinedCollect + 'm>,
    block: BlockBuilder,
    /// Per owner: the keys of its related rows, in the order first met.
    keys: Vec<Vec<IdentityKey>>,
    /// Per block row: its owner and its place among that owner's keys.
    rows: Vec<(usize, usize)>,
    /// (owner, key) of the owners with more than [`SCAN`] related rows.
    seen: FastMap<(usize, IdentityKey), ()>,
}

impl<'m> JoinedSide<'m> {
    /// A side whose objects `collect` builds, of rows `width` values wide,
    /// for a statement of about `rows` rows.
    pub fn new(collect: Box<dyn JoinedCollect + 'm>, width: usize, rows: usize) -> Self {
        JoinedSide {
            collect,
            block: BlockBuilder::new(width, rows),
            keys: Vec::new(),
            rows: Vec::with_capacity(rows),
            seen: FastMap::default(),
        }
    }

    /// The next owner (owners come in index order, from 0).
    pub fn add_owner(&mut self) {
        self.keys.push(Vec::new());
    }

    /// A related row (normalised, with key `key`) of the owner at
    /// `owner`: its object is built unless the owner has that key already.
    pub fn push(
        &mut self,
        owner: usize,
        key: IdentityKey,
        values: &mut [Value],
    ) -> Result<(), Error> {
        let Some(list) = self.keys.get_mut(owner) else {
            return Ok(());
        };
        let known = if list.len() < SCAN {
            list.contains(&key)
        } else {
            self.seen.insert((owner, key.clone()), ()).is_some()
        };
        if known {
            return Ok(());
        }
        self.block.push(values);
        self.rows.push((owner, list.len()));
        self.collect.push(owner, values)?;
        list.push(key);
        if list.len() == SCAN {
            self.seen
                .extend(list.iter().map(|k| ((owner, k.clone()), ())));
        }
        Ok(())
    }

    /// Stores the objects into `owners`, the rows into the identity map
    /// (mapper `target`) and each owner's related keys as its loaded
    /// collection (`owner_keys` in owner order, mapper `owner`).
    pub fn finish(
        self,
        session: &mut Session,
        owners: &mut dyn Any,
        (owner, target): (TypeId, TypeId),
        owner_keys: &[IdentityKey],
        name: &'static str,
    ) -> Result<(), Error> {
        self.collect.finish(owners)?;
        let keys = self.keys;
        let mut map = session.identity.of_type(target);
        map.reserve(self.rows.len());
        map.put_block(
            self.block.finish(),
            self.rows
                .iter()
                .enumerate()
                .filter_map(|(r, &(o, i))| keys.get(o).and_then(|k| k.get(i)).map(|k| (k, r))),
        );
        session.reserve_loaded(owner_keys.len());
        for (key, children) in owner_keys.iter().zip(keys) {
            session.record_loaded(owner, key.clone(), name, children);
        }
        Ok(())
    }
}
