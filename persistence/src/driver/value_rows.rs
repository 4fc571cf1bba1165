//! [`ValueRows`]: a result's rows as bare values, what every driver hands
//! the ORM.

use dialects::Value;

/// The rows of a result as bare values, and how many rows it changed.
/// The values sit in one buffer, row after row (one allocation per
/// result, not one per row).
#[derive(Debug, Default)]
pub(crate) struct ValueRows {
    /// Every row's values, in column order, row after row.
    pub values: Vec<Value>,
    /// Values per row.
    pub width: usize,
    /// How many rows.
    pub count: usize,
    /// Rows changed (DML).
    pub affected: u64,
    /// The rowid of the last row inserted (SQLite's `last_insert_rowid()`
    /// after an INSERT), where the backend reports it.
    pub last_insert_id: Option<i64>,
}

impl ValueRows {
    /// How many rows.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// The rows, each a mutable slice of `width` values (for taking the
    /// values out).
    pub(crate) fn rows_mut(&mut self) -> std::slice::ChunksExactMut<'_, Value> {
        self.values.chunks_exact_mut(self.width.max(1))
    }

    /// The rows as vectors of their own.
    pub(crate) fn into_rows(self) -> Vec<Vec<Value>> {
        if self.width == 0 {
            return vec![Vec::new(); self.count];
        }
        self.values
            .chunks_exact(self.width)
            .map(<[Value]>::to_vec)
            .collect()
    }
}
