//! Statement parameters: a slice of values, or the sent fields of rows
//! bound where they are.

use dialects::Value;

/// The parameters of a statement, in order: a slice of values, or the
/// sent fields of rows ([`RowParams`]), bound where they are.
pub(crate) trait Params: Sync {
    /// The values, in order.
    type Iter<'a>: Iterator<Item = &'a Value>
    where
        Self: 'a;
    /// How many values.
    fn count(&self) -> usize;
    /// The values, in order.
    fn values(&self) -> Self::Iter<'_>;
    /// The values, gathered (for messages and the echo log).
    fn to_vec(&self) -> Vec<Value> {
        self.values().cloned().collect()
    }
}

impl Params for [Value] {
    type Iter<'a> = std::slice::Iter<'a, Value>;
    fn count(&self) -> usize {
        self.len()
    }
    fn values(&self) -> Self::Iter<'_> {
        self.iter()
    }
}

impl Params for Vec<Value> {
    type Iter<'a> = std::slice::Iter<'a, Value>;
    fn count(&self) -> usize {
        self.len()
    }
    fn values(&self) -> Self::Iter<'_> {
        self.iter()
    }
}

/// The fields `columns` of each of `rows`, row after row: the parameters
/// of a multi-row INSERT, bound without being gathered first.
pub(crate) struct RowParams<'a> {
    pub rows: &'a [Vec<Value>],
    pub columns: &'a [usize],
}

impl Params for RowParams<'_> {
    type Iter<'a>
        = RowParamsIter<'a>
    where
        Self: 'a;
    fn count(&self) -> usize {
        self.rows.len() * self.columns.len()
    }
    fn values(&self) -> Self::Iter<'_> {
        RowParamsIter {
            rows: self.rows,
            columns: self.columns,
            row: 0,
            column: 0,
        }
    }
}

/// The values of [`RowParams`], row after row.
pub(crate) struct RowParamsIter<'a> {
    rows: &'a [Vec<Value>],
    columns: &'a [usize],
    row: usize,
    column: usize,
}

impl<'a> Iterator for RowParamsIter<'a> {
    type Item = &'a Value;

    #[inline]
    fn next(&mut self) -> Option<&'a Value> {
        if self.column == self.columns.len() {
            self.column = 0;
            self.row += 1;
        }
        let row = self.rows.get(self.row)?;
        let at = *self.columns.get(self.column)?;
        self.column += 1;
        row.get(at)
    }
}
