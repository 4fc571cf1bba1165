//! A short free list of emptied containers kept for reuse: the engine's
//! row buffers and a session maker's identity maps. A steady load pattern
//! then stops asking the allocator (and the kernel) for fresh memory on
//! every query or session.

use std::sync::Mutex;

/// What a [`FreeList`] keeps: a container that can be emptied while
/// keeping its room.
pub(crate) trait Reusable: Default {
    /// How many kept at most.
    const KEEP: usize;
    /// One holding room for more than this many items is not kept, so one
    /// very large result or session does not pin its memory.
    const MAX_ROOM: usize;
    /// How many items it has room for (0: nothing worth keeping).
    fn room(&self) -> usize;
    /// Empties it, keeping its room.
    fn reset(&mut self);
}

/// Emptied `T`s kept for the next user.
#[derive(Debug, Default)]
pub(crate) struct FreeList<T> {
    free: Mutex<Vec<T>>,
}

impl<T: Reusable> FreeList<T> {
    /// An empty `T`, with the room of an earlier one when there is one.
    pub(crate) fn take(&self) -> T {
        self.free
            .lock()
            .ok()
            .and_then(|mut free| free.pop())
            .unwrap_or_default()
    }

    /// Empties `item` and keeps it for reuse, unless it has no room, too
    /// much, or enough are kept already.
    pub(crate) fn give(&self, mut item: T) {
        let room = item.room();
        if room == 0 || room > T::MAX_ROOM {
            return;
        }
        item.reset();
        if let Ok(mut free) = self.free.lock() {
            if free.len() < T::KEEP {
                free.push(item);
            }
        }
    }
}

impl Reusable for Vec<dialects::Value> {
    const KEEP: usize = 4;
    /// 2 MiB of values.
    const MAX_ROOM: usize = 1 << 16;
    fn room(&self) -> usize {
        self.capacity()
    }
    fn reset(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use dialects::Value;

    use super::*;

    type Buffers = FreeList<Vec<Value>>;

    #[test]
    fn items_come_back_empty_with_their_room() {
        let buffers = Buffers::default();
        assert_eq!(buffers.take().capacity(), 0);
        let mut b = Vec::with_capacity(100);
        b.push(Value::from("x"));
        buffers.give(b);
        let again = buffers.take();
        assert!(again.is_empty());
        assert!(again.capacity() >= 100);
        assert_eq!(buffers.take().capacity(), 0, "only one was given back");
    }

    #[test]
    fn large_and_empty_items_are_not_kept_nor_too_many() {
        let buffers = Buffers::default();
        buffers.give(Vec::with_capacity(<Vec<Value>>::MAX_ROOM + 1));
        buffers.give(Vec::new());
        assert_eq!(buffers.take().capacity(), 0);
        for _ in 0..<Vec<Value>>::KEEP + 2 {
            buffers.give(Vec::with_capacity(8));
        }
        let kept = std::iter::from_fn(|| Some(buffers.take()))
            .take_while(|b| b.capacity() > 0)
            .count();
        assert_eq!(kept, <Vec<Value>>::KEEP);
    }
}
