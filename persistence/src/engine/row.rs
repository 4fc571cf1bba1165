//! `Row`: a labelled tuple of values, readable by index, by label, typed, or
//! as a tuple.

use std::sync::Arc;

use dialects::Value;

use crate::error::Error;

/// A result row: values with the labels of the result's columns.
///
/// ```
/// use persistence::Row;
/// use persistence::dialects::Value;
/// let row = Row::new(vec!["id".into(), "name".into()].into(), vec![Value::Int(1), Value::from("Vlad")]);
/// assert_eq!(row.get::<i64, _>(0).unwrap(), 1);
/// assert_eq!(row.get::<String, _>("name").unwrap(), "Vlad");
/// let (id, name): (i32, String) = row.into_tuple().unwrap();
/// assert_eq!((id, name.as_str()), (1, "Vlad"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: Arc<[Arc<str>]>,
    values: Vec<Value>,
}

/// Something that picks a column of a row: an index or a label.
pub trait RowIndex: std::fmt::Display + Copy {
    /// The position of the column in `row`.
    fn index(self, row: &Row) -> Option<usize>;
}

impl RowIndex for usize {
    fn index(self, row: &Row) -> Option<usize> {
        (self < row.values.len()).then_some(self)
    }
}

impl RowIndex for &str {
    fn index(self, row: &Row) -> Option<usize> {
        row.columns.iter().position(|c| &**c == self)
    }
}

impl Row {
    /// A row from column labels and values.
    pub fn new(columns: Arc<[Arc<str>]>, values: Vec<Value>) -> Self {
        Row { columns, values }
    }

    /// The value at `index` (a position or a label).
    pub fn value<I: RowIndex>(&self, index: I) -> Result<&Value, Error> {
        index
            .index(self)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| Error::ColumnNotFound(index.to_string()))
    }

    /// The value at `index`, converted to `T`; a value that does not fit
    /// is [`Error::Decode`] naming the column.
    pub fn get<T, I>(&self, index: I) -> Result<T, Error>
    where
        T: TryFrom<Value, Error = dialects::ValueError>,
        I: RowIndex,
    {
        let v = self.value(index)?.clone();
        T::try_from(v).map_err(|e| Error::Decode {
            column: index.to_string(),
            message: e.to_string(),
        })
    }

    /// The labels of the columns, in order (SQLAlchemy's `keys()`).
    pub fn keys(&self) -> &[Arc<str>] {
        &self.columns
    }

    /// The values, in order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The values, taking ownership.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// How many columns the row has.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The row as a typed tuple, e.g. `(i32, String)`.
    pub fn into_tuple<T: FromRow>(self) -> Result<T, Error> {
        T::from_row(self)
    }
}

/// Conversion of a whole row into a Rust value (tuples implement it).
pub trait FromRow: Sized {
    /// Builds the value from the row.
    fn from_row(row: Row) -> Result<Self, Error>;
}

impl FromRow for Row {
    fn from_row(row: Row) -> Result<Self, Error> {
        Ok(row)
    }
}

macro_rules! tuple_from_row {
    ($n:expr; $($t:ident $i:tt),+) => {
        impl<$($t),+> FromRow for ($($t,)+)
        where
            $($t: TryFrom<Value, Error = dialects::ValueError>),+
        {
            fn from_row(row: Row) -> Result<Self, Error> {
                if row.values.len() != $n {
                    return Err(Error::Decode {
                        column: format!("{} columns", row.values.len()),
                        message: format!("expected a row of {} columns", $n),
                    });
                }
                let mut it = row.values.into_iter();
                Ok(($(
                    {
                        let v = it.next().unwrap_or(Value::Null);
                        $t::try_from(v).map_err(|e| Error::Decode {
                            column: $i.to_string(),
                            message: e.to_string(),
                        })?
                    },
                )+))
            }
        }
    };
}

tuple_from_row!(1; A 0);
tuple_from_row!(2; A 0, B 1);
tuple_from_row!(3; A 0, B 1, C 2);
tuple_from_row!(4; A 0, B 1, C 2, D 3);
tuple_from_row!(5; A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(6; A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_row!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_from_row!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

impl std::fmt::Display for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(")?;
        for (i, (k, v)) in self.columns.iter().zip(&self.values).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}={v}")?;
        }
        f.write_str(")")
    }
}
