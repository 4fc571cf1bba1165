//! A short free list of row buffers: the value buffers that ORM loads
//! decode into are handed back after the objects are built and reused by
//! the next load, so a steady load pattern stops asking the allocator (and
//! the kernel) for fresh memory on every query.

use std::sync::Mutex;

use dialects::Value;

/// Buffers kept at most.
const KEEP: usize = 4;

/// A buffer is kept only when it holds at most this many values (2 MiB
/// of values), so one very large result does not pin its memory.
const MAX_VALUES: usize = 1 << 16;

/// Reusable `Vec<Value>` buffers, shared by an engine's connections.
#[derive(Debug, Default)]
pub(crate) struct RowBuffers {
    free: Mutex<Vec<Vec<Value>>>,
}

impl RowBuffers {
    /// An empty buffer, with the room of an earlier one when there is one.
    pub(crate) fn take(&self) -> Vec<Value> {
        match self.free.lock() {
            Ok(mut free) => free.pop().unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    /// Gives `buffer` back for reuse (emptied first); a buffer too large
    /// or without room is dropped.
    pub(crate) fn give(&self, mut buffer: Vec<Value>) {
        if buffer.capacity() == 0 || buffer.capacity() > MAX_VALUES {
            return;
        }
        buffer.clear();
        if let Ok(mut free) = self.free.lock() {
            if free.len() < KEEP {
                free.push(buffer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_empty_with_their_room() {
        let buffers = RowBuffers::default();
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
    fn large_and_empty_buffers_are_not_kept() {
        let buffers = RowBuffers::default();
        buffers.give(Vec::with_capacity(MAX_VALUES + 1));
        buffers.give(Vec::new());
        assert_eq!(buffers.take().capacity(), 0);
        for _ in 0..KEEP + 2 {
            buffers.give(Vec::with_capacity(8));
        }
        let kept = std::iter::from_fn(|| Some(buffers.take()))
            .take_while(|b| b.capacity() > 0)
            .count();
        assert_eq!(kept, KEEP);
    }
}
