//! The identity map: per (mapper, primary key), the column values last
//! read from or written to the database.

use std::any::TypeId;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use dialects::Value;

use crate::free_list::Reusable;
#[cfg(feature = "uuid")]
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
    #[cfg(feature = "uuid")]
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
                #[cfg(feature = "uuid")]
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

    /// The integer of a single-integer key.
    #[inline]
    pub(crate) fn as_int(&self) -> Option<i64> {
        match &self.0 {
            Parts::One(KeyPart::Int(n)) => Some(*n),
            _ => None,
        }
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
            #[cfg(feature = "uuid")]
            Value::String(s) => match Uuid::parse_str(s) {
                Ok(u) if s.len() == 36 => KeyPart::Uuid(u),
                _ => KeyPart::Text(s.clone()),
            },
            #[cfg(not(feature = "uuid"))]
            Value::String(s) => KeyPart::Text(s.clone()),
            #[cfg(feature = "uuid")]
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

/// A `HashSet` with [`FastHash`].
pub(crate) type FastSet<T> = std::collections::HashSet<T, FastHash>;

/// What the session remembers of one persistent object.
#[derive(Debug)]
pub(crate) struct Entry {
    /// Column values as the database has them (field order).
    snapshot: Snapshot,
    /// The identity map's epoch when the entry was written: an entry older
    /// than the map's current epoch is expired (the next access reloads).
    epoch: u64,
}

/// Where an entry's column values are: held on their own (after an
/// insert, an update, a lookup by key), or a row of one of the identity
/// map's [`Block`]s (a loaded result).
#[derive(Debug)]
pub(crate) enum Snapshot {
    /// Values of their own.
    Owned(Box<[Value]>),
    /// Row `row` of block slot `block`.
    Shared { block: u32, row: u32 },
}

/// A persistent object's remembered column values, read in place.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SnapshotRef<'a> {
    /// Values of their own.
    Owned(&'a [Value]),
    /// A row of a block.
    Shared(&'a Block, usize),
}

impl SnapshotRef<'_> {
    /// Value `i`, copied (NULL past the end).
    pub fn value(self, i: usize) -> Value {
        match self {
            SnapshotRef::Owned(v) => v.get(i).cloned().unwrap_or(Value::Null),
            SnapshotRef::Shared(block, row) => block.value(row, i),
        }
    }

    /// Whether value `i` equals `v` (no copy).
    pub fn same(self, i: usize, v: &Value) -> bool {
        match self {
            SnapshotRef::Owned(values) => values.get(i) == Some(v),
            SnapshotRef::Shared(block, row) => block.same(row, i, v),
        }
    }

    /// Every value, copied.
    pub fn to_vec(self) -> Vec<Value> {
        match self {
            SnapshotRef::Owned(v) => v.to_vec(),
            SnapshotRef::Shared(block, row) => {
                (0..block.width).map(|i| block.value(row, i)).collect()
            }
        }
    }
}

/// The snapshots of a loaded result's rows in one allocation: a compact
/// cell per value, row after row, with text kept in one shared buffer
/// (the objects take the rows' own strings, so a loaded row costs one
/// copy of its text, not an allocation per string).
#[derive(Debug)]
pub(crate) struct Block {
    width: usize,
    cells: Vec<Cell>,
    text: String,
    /// Values of the less common kinds, which cells point into.
    others: Vec<Value>,
}

/// One value of a [`Block`], in 16 bytes. Each kind of [`Value`] it holds
/// inline comes back as that same kind (an `Int` stays an `Int`).
#[derive(Debug, Clone, Copy)]
enum Cell {
    Null,
    Bool(bool),
    SmallInt(i16),
    Int(i32),
    BigInt(i64),
    Double(f64),
    /// Text: `start` and `len` in the block's buffer.
    Text(u32, u32),
    /// Any other value: its position in `others`.
    Other(usize),
}

impl Block {
    /// Copies `row` (its first `width` values) in; returns its row number.
    /// `rows`: about how many rows the block will hold.
    #[inline]
    fn push(&mut self, row: &[Value], rows: usize) -> usize {
        let width = self.width;
        let at = self.cells.len() / width.max(1);
        for v in row.iter().take(width) {
            let cell = self.push_cell(v, rows);
            self.cells.push(cell);
        }
        for _ in row.len()..width {
            self.cells.push(Cell::Null);
        }
        at
    }

    #[inline]
    fn push_cell(&mut self, v: &Value, rows: usize) -> Cell {
        match v {
            Value::Null => Cell::Null,
            Value::BigInt(n) => Cell::BigInt(*n),
            Value::Int(n) => Cell::Int(*n),
            Value::String(s) => self.push_text(s, rows).unwrap_or_else(|| self.other(v)),
            Value::Bool(b) => Cell::Bool(*b),
            Value::SmallInt(n) => Cell::SmallInt(*n),
            Value::Double(f) => Cell::Double(*f),
            other => self.other(other),
        }
    }

    /// `s` appended to the text buffer (`None` past 4 GiB of text).
    #[inline]
    fn push_text(&mut self, s: &str, rows: usize) -> Option<Cell> {
        let text = &mut self.text;
        if text.capacity() == 0 {
            // Room for every row's text, judged by the first.
            text.reserve(s.len().max(8).saturating_mul(rows));
        }
        let start = u32::try_from(text.len()).ok()?;
        let len = u32::try_from(s.len()).ok()?;
        start.checked_add(len)?;
        text.push_str(s);
        Some(Cell::Text(start, len))
    }

    #[inline(never)]
    fn other(&mut self, v: &Value) -> Cell {
        self.others.push(v.clone());
        Cell::Other(self.others.len() - 1)
    }

    fn cell(&self, row: usize, i: usize) -> Option<Cell> {
        if i >= self.width {
            return None;
        }
        self.cells.get(row * self.width + i).copied()
    }

    fn text(&self, start: u32, len: u32) -> &str {
        let start = start as usize;
        self.text
            .get(start..start + len as usize)
            .unwrap_or_default()
    }

    fn value(&self, row: usize, i: usize) -> Value {
        match self.cell(row, i) {
            None | Some(Cell::Null) => Value::Null,
            Some(Cell::Bool(b)) => Value::Bool(b),
            Some(Cell::SmallInt(n)) => Value::SmallInt(n),
            Some(Cell::Int(n)) => Value::Int(n),
            Some(Cell::BigInt(n)) => Value::BigInt(n),
            Some(Cell::Double(f)) => Value::Double(f),
            Some(Cell::Text(start, len)) => Value::String(self.text(start, len).to_owned()),
            Some(Cell::Other(at)) => self.others.get(at).cloned().unwrap_or(Value::Null),
        }
    }

    fn same(&self, row: usize, i: usize, v: &Value) -> bool {
        match (self.cell(row, i), v) {
            (None, _) => false,
            (Some(Cell::Text(start, len)), Value::String(s)) => self.text(start, len) == s,
            (Some(Cell::Other(at)), v) => self.others.get(at) == Some(v),
            (Some(_), v) => self.value(row, i) == *v,
        }
    }
}

/// Fills a [`Block`] row by row.
#[derive(Debug)]
pub(crate) struct BlockBuilder {
    block: Block,
    rows: usize,
}

impl BlockBuilder {
    /// A builder for about `rows` rows of `width` values.
    pub fn new(width: usize, rows: usize) -> Self {
        BlockBuilder {
            block: Block {
                width,
                cells: Vec::with_capacity(width * rows),
                text: String::new(),
                others: Vec::new(),
            },
            rows: rows.max(1),
        }
    }

    /// Copies `row` (its first `width` values) in; returns its row number.
    #[inline]
    pub fn push(&mut self, row: &[Value]) -> usize {
        self.block.push(row, self.rows)
    }

    /// The block.
    pub fn finish(self) -> Block {
        self.block
    }
}

/// The identities of one mapper: by integer while every key is a single
/// integer (the common case: half-size entries, cheaper hashing), by
/// general key from the first key that is not.
#[derive(Debug)]
pub(crate) enum TypeMap {
    /// Single integer keys.
    Int(FastMap<i64, Entry>),
    /// Any keys.
    Keys(FastMap<IdentityKey, Entry>),
}

impl Default for TypeMap {
    fn default() -> Self {
        TypeMap::Int(FastMap::default())
    }
}

impl TypeMap {
    fn get(&self, key: &IdentityKey) -> Option<&Entry> {
        match self {
            TypeMap::Int(m) => key.as_int().and_then(|n| m.get(&n)),
            TypeMap::Keys(m) => m.get(key),
        }
    }

    fn get_mut(&mut self, key: &IdentityKey) -> Option<&mut Entry> {
        match self {
            TypeMap::Int(m) => key.as_int().and_then(|n| m.get_mut(&n)),
            TypeMap::Keys(m) => m.get_mut(key),
        }
    }

    /// Puts `entry` under `key`; returns what was there.
    #[inline]
    fn insert(&mut self, key: &IdentityKey, entry: Entry) -> Option<Entry> {
        if let TypeMap::Int(m) = self {
            match key.as_int() {
                Some(n) => return m.insert(n, entry),
                None => self.widen(),
            }
        }
        match self {
            TypeMap::Keys(m) => m.insert(key.clone(), entry),
            TypeMap::Int(_) => None,
        }
    }

    /// Moves the entries of an integer map into a general one.
    #[cold]
    fn widen(&mut self) {
        if let TypeMap::Int(m) = self {
            let keys: FastMap<IdentityKey, Entry> = std::mem::take(m)
                .into_iter()
                .map(|(n, e)| (IdentityKey(Parts::One(KeyPart::Int(n))), e))
                .collect();
            *self = TypeMap::Keys(keys);
        }
    }

    fn remove(&mut self, key: &IdentityKey) -> Option<Entry> {
        match self {
            TypeMap::Int(m) => key.as_int().and_then(|n| m.remove(&n)),
            TypeMap::Keys(m) => m.remove(key),
        }
    }

    fn reserve(&mut self, n: usize) {
        match self {
            TypeMap::Int(m) => m.reserve(n),
            TypeMap::Keys(m) => m.reserve(n),
        }
    }

    fn capacity(&self) -> usize {
        match self {
            TypeMap::Int(m) => m.capacity(),
            TypeMap::Keys(m) => m.capacity(),
        }
    }

    fn len(&self) -> usize {
        match self {
            TypeMap::Int(m) => m.len(),
            TypeMap::Keys(m) => m.len(),
        }
    }

    fn clear(&mut self) {
        match self {
            TypeMap::Int(m) => m.clear(),
            TypeMap::Keys(m) => m.clear(),
        }
    }

    fn expire_every(&mut self) {
        match self {
            TypeMap::Int(m) => m.values_mut().for_each(|e| e.epoch = 0),
            TypeMap::Keys(m) => m.values_mut().for_each(|e| e.epoch = 0),
        }
    }
}

/// A block of snapshots and how many entries still point into it.
#[derive(Debug)]
struct Slot {
    block: Block,
    live: usize,
}

/// Rows an open block of single rows takes before the next one starts
/// (bounds what rows replaced since keep of a block still in use).
const LOOSE_ROWS: usize = 1024;

/// The identity map's blocks: slots freed when no entry points into them
/// any more. Counted by hand, not by `Arc`: the map is owned by one
/// session, and an atomic count per loaded row costs a memory barrier each.
#[derive(Debug, Default)]
struct Blocks {
    slots: Vec<Option<Slot>>,
    free: Vec<u32>,
    /// Open blocks that rows put one at a time (a lookup by key) are
    /// appended to, by row width; each holds one count of its own while
    /// open, and the rows are counted as a loaded block's are.
    loose: Vec<(usize, u32)>,
}

impl Blocks {
    fn add(&mut self, block: Block) -> u32 {
        let slot = Some(Slot { block, live: 0 });
        match self.free.pop() {
            Some(at) => {
                if let Some(s) = self.slots.get_mut(at as usize) {
                    *s = slot;
                }
                at
            }
            None => {
                self.slots.push(slot);
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        }
    }

    fn get(&self, at: u32) -> Option<&Block> {
        self.slots
            .get(at as usize)
            .and_then(Option::as_ref)
            .map(|s| &s.block)
    }

    fn retain(&mut self, at: u32) {
        if let Some(Some(s)) = self.slots.get_mut(at as usize) {
            s.live += 1;
        }
    }

    /// One entry fewer points into slot `at`; frees it at zero.
    fn release(&mut self, at: u32) {
        if let Some(slot) = self.slots.get_mut(at as usize) {
            let unused = match slot {
                Some(s) => {
                    s.live = s.live.saturating_sub(1);
                    s.live == 0
                }
                None => false,
            };
            if unused {
                *slot = None;
                self.free.push(at);
            }
        }
    }

    /// Copies `row` into the open block of rows of its width (a new one
    /// when there is none or it is full), counted as held; returns where
    /// it went. `None` for an empty row.
    fn push_loose(&mut self, row: &[Value]) -> Option<(u32, u32)> {
        const FIRST_ROOM: usize = 64;
        let width = row.len();
        if width == 0 {
            return None;
        }
        let open = self.loose.iter().position(|&(w, _)| w == width);
        let at = match open.and_then(|i| self.loose.get(i)).map(|&(_, at)| at) {
            Some(at)
                if self
                    .get(at)
                    .is_some_and(|b| b.cells.len() < LOOSE_ROWS * width) =>
            {
                at
            }
            old => {
                let at = self.add(BlockBuilder::new(width, FIRST_ROOM).finish());
                // The open block's own count.
                self.retain(at);
                match (open, old) {
                    (Some(i), Some(old)) => {
                        if let Some(l) = self.loose.get_mut(i) {
                            l.1 = at;
                        }
                        self.release(old);
                    }
                    _ => self.loose.push((width, at)),
                }
                at
            }
        };
        let slot = self.slots.get_mut(at as usize)?.as_mut()?;
        let row_at = u32::try_from(slot.block.push(row, FIRST_ROOM)).ok()?;
        slot.live += 1;
        Some((at, row_at))
    }

    /// Frees what `entry` pointed into, if anything.
    fn forget(&mut self, entry: Option<Entry>) {
        if let Some(Entry {
            snapshot: Snapshot::Shared { block, .. },
            ..
        }) = entry
        {
            self.release(block);
        }
    }

    fn snapshot<'a>(&'a self, entry: &'a Entry) -> SnapshotRef<'a> {
        match &entry.snapshot {
            Snapshot::Owned(v) => SnapshotRef::Owned(v),
            // Every entry's block is held while the entry is (counted).
            Snapshot::Shared { block, row } => {
                self.get(*block).map_or(SnapshotRef::Owned(&[]), |b| {
                    SnapshotRef::Shared(b, *row as usize)
                })
            }
        }
    }
}

/// Persistent objects by mapper and key. A session maps few types, so
/// the per-type maps sit in a short list (a scan of type ids costs less
/// than hashing one).
#[derive(Debug)]
pub(crate) struct IdentityMap {
    entries: Vec<(TypeId, TypeMap)>,
    blocks: Blocks,
    /// Entries written before this epoch are expired ([`IdentityMap::expire_all`]
    /// moves it on instead of visiting every entry).
    epoch: u64,
    /// One level per open savepoint: each entry's values before the level
    /// first changed it (`None`: it was absent), to restore on rollback.
    journal: Vec<Journal>,
}

/// What a savepoint level changed: the previous values per identity.
type Journal = FastMap<(TypeId, IdentityKey), Option<Vec<Value>>>;

impl Default for IdentityMap {
    fn default() -> Self {
        IdentityMap {
            entries: Vec::new(),
            blocks: Blocks::default(),
            epoch: 1,
            journal: Vec::new(),
        }
    }
}

/// The identities of one mapper, for writing many at once.
pub(crate) struct TypeMapMut<'a> {
    map: &'a mut TypeMap,
    blocks: &'a mut Blocks,
    epoch: u64,
    ty: TypeId,
    /// The innermost savepoint's journal, when one is open.
    journal: Option<&'a mut Journal>,
}

/// Notes in `journal` what `key` held before a write (`old`), the first
/// time the level changes it.
fn note(
    journal: &mut Option<&mut Journal>,
    blocks: &Blocks,
    ty: TypeId,
    key: &IdentityKey,
    old: Option<&Entry>,
) {
    if let Some(j) = journal.as_deref_mut() {
        j.entry((ty, key.clone()))
            .or_insert_with(|| old.map(|e| blocks.snapshot(e).to_vec()));
    }
}

impl TypeMapMut<'_> {
    /// Room for `n` more.
    pub fn reserve(&mut self, n: usize) {
        self.map.reserve(n);
    }

    /// Puts `values` under `key` (fresh, not expired).
    #[inline]
    pub fn put(&mut self, key: &IdentityKey, values: Vec<Value>) {
        let old = self.map.insert(
            key,
            Entry {
                snapshot: Snapshot::Owned(values.into_boxed_slice()),
                epoch: self.epoch,
            },
        );
        note(&mut self.journal, self.blocks, self.ty, key, old.as_ref());
        self.blocks.forget(old);
    }

    /// Puts a copy of `row` under `key` (fresh, not expired), kept with
    /// other rows put one at a time instead of in an allocation of its own.
    #[inline]
    pub fn put_row(&mut self, key: &IdentityKey, row: &[Value]) {
        let Some((block, at)) = self.blocks.push_loose(row) else {
            self.put(key, row.to_vec());
            return;
        };
        let old = self.map.insert(
            key,
            Entry {
                snapshot: Snapshot::Shared { block, row: at },
                epoch: self.epoch,
            },
        );
        note(&mut self.journal, self.blocks, self.ty, key, old.as_ref());
        self.blocks.forget(old);
    }

    /// Puts the rows of `block` under their keys (`rows` pairs each key
    /// with its row number in the block).
    pub fn put_block<'k>(
        &mut self,
        block: Block,
        rows: impl IntoIterator<Item = (&'k IdentityKey, usize)>,
    ) {
        let at = self.blocks.add(block);
        for (key, row) in rows {
            let Ok(row) = u32::try_from(row) else {
                continue;
            };
            self.blocks.retain(at);
            let old = self.map.insert(
                key,
                Entry {
                    snapshot: Snapshot::Shared { block: at, row },
                    epoch: self.epoch,
                },
            );
            note(&mut self.journal, self.blocks, self.ty, key, old.as_ref());
            self.blocks.forget(old);
        }
        // A block no entry points into (no row had a key) goes at once.
        self.blocks.retain(at);
        self.blocks.release(at);
    }
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

    /// The remembered values under `key`, expired or not.
    pub fn get(&self, ty: TypeId, key: &IdentityKey) -> Option<SnapshotRef<'_>> {
        let entry = self.map(ty).and_then(|m| m.get(key))?;
        Some(self.blocks.snapshot(entry))
    }

    /// The remembered values under `key`, if they are there and not expired.
    pub fn fresh(&self, ty: TypeId, key: &IdentityKey) -> Option<SnapshotRef<'_>> {
        let entry = self
            .map(ty)
            .and_then(|m| m.get(key))
            .filter(|e| e.epoch >= self.epoch)?;
        Some(self.blocks.snapshot(entry))
    }

    pub fn insert(&mut self, ty: TypeId, key: IdentityKey, snapshot: Vec<Value>) {
        self.of_type(ty).put(&key, snapshot);
    }

    /// The identities of mapper `ty`, for inserting many at once.
    pub fn of_type(&mut self, ty: TypeId) -> TypeMapMut<'_> {
        let at = match self.entries.iter().position(|(t, _)| *t == ty) {
            Some(at) => at,
            None => {
                self.entries.push((ty, TypeMap::default()));
                self.entries.len() - 1
            }
        };
        TypeMapMut {
            map: &mut self.entries[at].1,
            blocks: &mut self.blocks,
            epoch: self.epoch,
            ty,
            journal: self.journal.last_mut(),
        }
    }

    pub fn remove(&mut self, ty: TypeId, key: &IdentityKey) {
        let old = self.map_mut(ty).and_then(|m| m.remove(key));
        let mut journal = self.journal.last_mut();
        note(&mut journal, &self.blocks, ty, key, old.as_ref());
        self.blocks.forget(old);
    }

    /// Opens a savepoint level: changes from now on can be undone.
    pub fn begin_level(&mut self) {
        self.journal.push(Journal::default());
    }

    /// Keeps the innermost level's changes (a released savepoint): the
    /// level before takes over what it must undo.
    pub fn release_level(&mut self) {
        let Some(top) = self.journal.pop() else {
            return;
        };
        if let Some(outer) = self.journal.last_mut() {
            for (k, v) in top {
                outer.entry(k).or_insert(v);
            }
        }
    }

    /// Undoes the innermost level's changes (a savepoint rolled back):
    /// every identity it touched gets its values back, expired (the next
    /// access reads the database), or goes when it was not there before.
    pub fn rollback_level(&mut self) -> Vec<(TypeId, IdentityKey)> {
        let Some(top) = self.journal.pop() else {
            return Vec::new();
        };
        let restored: Vec<(TypeId, IdentityKey)> = top
            .iter()
            .filter(|(_, old)| old.is_some())
            .map(|(k, _)| k.clone())
            .collect();
        // Undone without journalling; an outer level then notes, for what
        // it had not seen, the values it saw before (those restored now).
        let outer = std::mem::take(&mut self.journal);
        for ((ty, key), old) in &top {
            match old {
                Some(values) => {
                    self.of_type(*ty).put(key, values.clone());
                    self.expire(*ty, key);
                }
                None => self.remove(*ty, key),
            }
        }
        self.journal = outer;
        if let Some(o) = self.journal.last_mut() {
            for (k, v) in top {
                o.entry(k).or_insert(v);
            }
        }
        restored
    }

    /// Ends every savepoint level, keeping the changes (the transaction
    /// commits).
    pub fn release_all_levels(&mut self) {
        self.journal.clear();
    }

    pub fn expire(&mut self, ty: TypeId, key: &IdentityKey) {
        if let Some(e) = self.map_mut(ty).and_then(|m| m.get_mut(key)) {
            e.epoch = 0;
        }
    }

    pub fn expire_type(&mut self, ty: TypeId) {
        if let Some(m) = self.map_mut(ty) {
            m.expire_every();
        }
    }

    /// Expires every entry, without visiting them.
    pub fn expire_all(&mut self) {
        self.epoch += 1;
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.blocks = Blocks::default();
        self.journal.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.iter().map(|(_, m)| m.len()).sum()
    }

    /// Every identity of mapper `ty`, with its snapshot and whether it is
    /// fresh (not expired), in no particular order.
    pub fn entries_of(&self, ty: TypeId) -> Vec<(IdentityKey, SnapshotRef<'_>, bool)> {
        fn view<'a>(blocks: &'a Blocks, e: &'a Entry, epoch: u64) -> (SnapshotRef<'a>, bool) {
            (blocks.snapshot(e), e.epoch >= epoch)
        }
        let (blocks, epoch) = (&self.blocks, self.epoch);
        match self.map(ty) {
            Some(TypeMap::Int(m)) => m
                .iter()
                .map(|(n, e)| {
                    let (s, fresh) = view(blocks, e, epoch);
                    (IdentityKey(Parts::One(KeyPart::Int(*n))), s, fresh)
                })
                .collect(),
            Some(TypeMap::Keys(m)) => m
                .iter()
                .map(|(k, e)| {
                    let (s, fresh) = view(blocks, e, epoch);
                    (k.clone(), s, fresh)
                })
                .collect(),
            None => Vec::new(),
        }
    }

    /// How many identities of mapper `ty` are held.
    pub fn len_of(&self, ty: TypeId) -> usize {
        self.map(ty).map_or(0, TypeMap::len)
    }

    /// Every identity held, with its mapper.
    pub fn all_keys(&self) -> Vec<(TypeId, IdentityKey)> {
        let mut out = Vec::with_capacity(self.len());
        for (ty, m) in &self.entries {
            match m {
                TypeMap::Int(m) => out.extend(
                    m.keys()
                        .map(|n| (*ty, IdentityKey(Parts::One(KeyPart::Int(*n))))),
                ),
                TypeMap::Keys(m) => out.extend(m.keys().map(|k| (*ty, k.clone()))),
            }
        }
        out
    }

    /// How many blocks are held (for tests).
    #[cfg(test)]
    fn blocks_held(&self) -> usize {
        self.blocks.slots.iter().flatten().count()
    }
}

/// Identity maps are kept, emptied, for the next sessions of a
/// [`SessionMaker`](super::SessionMaker): a new session takes one with its
/// hash tables already sized and their memory already mapped, instead of
/// growing fresh tables row by row.
impl Reusable for IdentityMap {
    const KEEP: usize = 4;
    const MAX_ROOM: usize = 1 << 17;

    fn room(&self) -> usize {
        self.entries.iter().map(|(_, m)| m.capacity()).sum()
    }

    /// Forgets every entry but keeps the tables' room.
    fn reset(&mut self) {
        for (_, m) in &mut self.entries {
            m.clear();
        }
        self.blocks = Blocks::default();
        self.epoch = 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::free_list::FreeList;

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

    #[cfg(feature = "uuid")]
    #[test]
    fn uuid_text_and_uuid_share_an_identity() {
        let u = Uuid::new_v4();
        assert_eq!(
            IdentityKey::from_values([&Value::Uuid(u)]),
            IdentityKey::from_values([&Value::String(u.to_string())])
        );
    }

    fn key(n: i64) -> IdentityKey {
        IdentityKey::of_value(&Value::BigInt(n)).expect("a key")
    }

    fn block_of(rows: &[[Value; 2]]) -> Block {
        let mut b = BlockBuilder::new(2, rows.len());
        for r in rows {
            b.push(r);
        }
        b.finish()
    }

    #[test]
    fn block_snapshots_read_back_as_the_values_loaded() {
        let ty = TypeId::of::<u8>();
        let mut map = IdentityMap::default();
        let rows = [
            [Value::Int(1), Value::from("one")],
            [Value::BigInt(2), Value::Null],
        ];
        map.of_type(ty)
            .put_block(block_of(&rows), [(&key(1), 0), (&key(2), 1)]);
        let one = map.get(ty, &key(1)).expect("entry");
        assert_eq!(one.to_vec(), rows[0].to_vec());
        assert!(one.same(1, &Value::from("one")));
        assert!(!one.same(1, &Value::from("One")));
        assert!(!one.same(0, &Value::BigInt(1)), "an Int stays an Int");
        assert_eq!(
            map.get(ty, &key(2)).expect("entry").value(0),
            Value::BigInt(2)
        );
        assert_eq!(map.get(ty, &key(2)).expect("entry").value(9), Value::Null);
    }

    #[test]
    fn blocks_are_freed_when_no_entry_points_into_them() {
        let ty = TypeId::of::<u8>();
        let mut map = IdentityMap::default();
        let rows = [
            [Value::Int(1), Value::from("a")],
            [Value::Int(2), Value::from("b")],
        ];
        map.of_type(ty)
            .put_block(block_of(&rows), [(&key(1), 0), (&key(2), 1)]);
        assert_eq!(map.blocks_held(), 1);
        map.remove(ty, &key(1));
        assert_eq!(map.blocks_held(), 1);
        map.insert(ty, key(2), vec![Value::Int(2), Value::from("c")]);
        assert_eq!(map.blocks_held(), 0, "the last entry was replaced");
        assert!(map
            .get(ty, &key(2))
            .expect("entry")
            .same(1, &Value::from("c")));
        // A block whose rows had no key is not kept; a freed slot is reused.
        map.of_type(ty).put_block(block_of(&rows), []);
        assert_eq!(map.blocks_held(), 0);
        map.of_type(ty).put_block(block_of(&rows), [(&key(7), 1)]);
        assert_eq!(map.blocks.slots.len(), 1);
        assert_eq!(
            map.get(ty, &key(7)).expect("entry").value(1),
            Value::from("b")
        );
    }

    #[test]
    fn rows_put_one_at_a_time_share_open_blocks() {
        let ty = TypeId::of::<u8>();
        let mut map = IdentityMap::default();
        let row = |n: i64| {
            vec![
                Value::BigInt(n),
                Value::from(format!("r{n}")),
                Value::Int(7),
            ]
        };
        for n in 0..LOOSE_ROWS as i64 + 2 {
            map.of_type(ty).put_row(&key(n), &row(n));
        }
        assert_eq!(map.blocks_held(), 2, "a full block starts the next");
        for n in [0, LOOSE_ROWS as i64 + 1] {
            let got = map.fresh(ty, &key(n)).expect("entry");
            assert_eq!(got.to_vec(), row(n), "kinds are kept (an Int stays an Int)");
            assert!(got.same(1, &Value::from(format!("r{n}"))));
        }
        // Rows of another width go to their own block.
        map.of_type(TypeId::of::<u16>())
            .put_row(&key(1), &[Value::BigInt(1)]);
        assert_eq!(map.blocks_held(), 3);
        // Replacing every row of the full block frees it; the open one
        // stays while open.
        for n in 0..LOOSE_ROWS as i64 {
            map.insert(ty, key(n), row(n));
        }
        assert_eq!(map.blocks_held(), 2);
        map.remove(ty, &key(LOOSE_ROWS as i64));
        map.remove(ty, &key(LOOSE_ROWS as i64 + 1));
        assert_eq!(map.blocks_held(), 2, "the open block is kept");
        // A row put again replaces the one before.
        map.of_type(ty).put_row(&key(3), &row(30));
        assert_eq!(map.get(ty, &key(3)).expect("entry").to_vec(), row(30));
        // Inside a savepoint level the old values come back on rollback.
        map.begin_level();
        map.of_type(ty).put_row(&key(3), &row(31));
        map.of_type(ty).put_row(&key(5000), &row(5000));
        map.rollback_level();
        assert_eq!(map.get(ty, &key(3)).expect("entry").to_vec(), row(30));
        assert!(map.get(ty, &key(5000)).is_none());
        map.clear();
        assert_eq!(map.blocks_held(), 0);
        map.of_type(ty).put_row(&key(5), &row(5));
        assert_eq!(map.get(ty, &key(5)).expect("entry").to_vec(), row(5));
    }

    #[test]
    fn expire_all_expires_what_was_there_before() {
        let ty = TypeId::of::<u8>();
        let mut map = IdentityMap::default();
        map.insert(ty, key(1), vec![Value::Int(1)]);
        assert!(map.fresh(ty, &key(1)).is_some());
        map.expire_all();
        assert!(map.fresh(ty, &key(1)).is_none());
        assert!(
            map.get(ty, &key(1)).is_some(),
            "the snapshot stays for dirty checks"
        );
        map.insert(ty, key(2), vec![Value::Int(2)]);
        assert!(map.fresh(ty, &key(2)).is_some());
        map.expire(ty, &key(2));
        assert!(map.fresh(ty, &key(2)).is_none());
    }

    #[test]
    fn spare_maps_come_back_empty_with_their_room() {
        let ty = TypeId::of::<u8>();
        let spare = FreeList::<IdentityMap>::default();
        let mut map = spare.take();
        for n in 0..100 {
            map.insert(ty, key(n), vec![Value::BigInt(n)]);
        }
        map.expire_all();
        spare.give(map);
        let again = spare.take();
        assert_eq!(again.len(), 0);
        assert!(again.get(ty, &key(1)).is_none());
        assert!(again.map(ty).is_some_and(|m| m.capacity() >= 100));
        assert_eq!(again.epoch, 1);
        assert!(spare.take().map(ty).is_none(), "only one was given back");
        spare.give(IdentityMap::default());
        assert!(spare.take().map(ty).is_none(), "an unused map is not kept");
    }

    #[test]
    fn a_map_of_integer_keys_takes_other_keys_too() {
        let ty = TypeId::of::<u8>();
        let mut map = IdentityMap::default();
        map.insert(ty, key(1), vec![Value::Int(1)]);
        assert!(matches!(map.map(ty), Some(TypeMap::Int(_))));
        let text = IdentityKey::of_value(&Value::from("x")).expect("a key");
        map.insert(ty, text.clone(), vec![Value::from("x")]);
        assert!(matches!(map.map(ty), Some(TypeMap::Keys(_))));
        assert_eq!(map.get(ty, &key(1)).expect("kept").value(0), Value::Int(1));
        assert_eq!(map.get(ty, &text).expect("kept").value(0), Value::from("x"));
        map.remove(ty, &key(1));
        assert!(map.get(ty, &key(1)).is_none());
        assert_eq!(map.len(), 1);
    }
}
