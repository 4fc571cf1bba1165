//! Row decoding shared by the backends: a decoder per result, worked out
//! from its first row, and the sinks that collect decoded rows (labelled
//! [`Row`]s for Core, bare values for the ORM).

use std::sync::Arc;

use dialects::{Compiled, Value};
use futures_util::stream::BoxStream;

use super::{map_sqlx_error, Driver, SqlxRow, ValueRows};
use crate::engine::result::QueryResult;
use crate::engine::row::Row;
use crate::error::Error;

/// The labels of a row's columns, shared by every row of a result.
pub(crate) fn labels<R: sqlx::Row>(row: &R) -> Arc<[Arc<str>]> {
    use sqlx::Column;
    row.columns().iter().map(|c| Arc::from(c.name())).collect()
}

/// A decode failure of column `column`.
pub(crate) fn decode_err(column: &str, e: impl std::fmt::Display) -> Error {
    Error::Decode {
        column: column.to_owned(),
        message: e.to_string(),
    }
}

/// A sqlx row whose values are read by position (every backend's is; the
/// bound, on `usize`, is not one a [`Driver`] can carry itself).
pub(crate) trait PositionalRow: sqlx::Row {
    /// The raw value of column `i`.
    fn raw(
        &self,
        i: usize,
    ) -> Result<<Self::Database as sqlx::Database>::ValueRef<'_>, sqlx::Error>;
}

impl<R: sqlx::Row> PositionalRow for R
where
    usize: sqlx::ColumnIndex<R>,
{
    #[inline]
    fn raw(
        &self,
        i: usize,
    ) -> Result<<Self::Database as sqlx::Database>::ValueRef<'_>, sqlx::Error> {
        self.try_get_raw(i)
    }
}

/// Decodes the rows of one result. It is built from the result's first
/// row, so that what depends on the columns alone (their types, what to
/// decode them into) is worked out once per result, not once per row.
pub(crate) struct RowDecoder<D: Driver> {
    kinds: Vec<D::Kind>,
}

impl<D: Driver> RowDecoder<D> {
    /// The decoder for the result whose first row is `first`.
    pub(crate) fn new(first: &SqlxRow<D>) -> Self {
        use sqlx::{Column, Row as _};
        RowDecoder {
            kinds: first
                .columns()
                .iter()
                .map(|c| D::kind_of(c.type_info()))
                .collect(),
        }
    }

    /// How many values a row has.
    pub(crate) fn width(&self) -> usize {
        self.kinds.len()
    }

    /// Appends one row's values to `out`.
    #[inline]
    pub(crate) fn decode_into(&self, row: &SqlxRow<D>, out: &mut Vec<Value>) -> Result<(), Error> {
        out.reserve(self.kinds.len());
        for (i, kind) in self.kinds.iter().enumerate() {
            out.push(decode_value::<D>(row, i, *kind)?);
        }
        Ok(())
    }

    /// One row's values.
    pub(crate) fn decode(&self, row: &SqlxRow<D>) -> Result<Vec<Value>, Error> {
        let mut out = Vec::with_capacity(self.width());
        self.decode_into(row, &mut out)?;
        Ok(out)
    }

    /// The values of the only row wanted (no decoder is kept for more).
    pub(crate) fn decode_single(row: &SqlxRow<D>) -> Result<Vec<Value>, Error> {
        use sqlx::{Column, Row as _};
        let columns = row.columns();
        let mut out = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            out.push(decode_value::<D>(row, i, D::kind_of(c.type_info()))?);
        }
        Ok(out)
    }
}

/// The value of column `i` of `row`, decoded as `kind` (NULL of any kind
/// is [`Value::Null`]).
#[inline]
fn decode_value<D: Driver>(row: &SqlxRow<D>, i: usize, kind: D::Kind) -> Result<Value, Error> {
    use sqlx::ValueRef;
    let raw = row.raw(i).map_err(|e| decode_err(&i.to_string(), e))?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    D::decode(kind, raw, row, i)
}

/// A result's column labels and its decoder, both set up from its first row.
type Labelled<D> = (Arc<[Arc<str>]>, RowDecoder<D>);

/// Collects a result's rows, decoding each as the driver hands it over
/// (decoding overlaps the transfer; no sqlx row is kept).
pub(crate) struct RowSink<D: Driver> {
    state: Option<Labelled<D>>,
    rows: Vec<Row>,
}

impl<D: Driver> RowSink<D> {
    pub(crate) fn new() -> Self {
        RowSink {
            state: None,
            rows: Vec::new(),
        }
    }

    /// Decodes and keeps one row.
    pub(crate) fn push(&mut self, row: &SqlxRow<D>) -> Result<(), Error> {
        let (columns, decoder) = self
            .state
            .get_or_insert_with(|| (labels(row), RowDecoder::new(row)));
        let values = decoder.decode(row)?;
        self.rows.push(Row::new(columns.clone(), values));
        Ok(())
    }

    /// The result: the rows kept and `affected`.
    pub(crate) fn finish(self, affected: u64) -> QueryResult {
        QueryResult {
            columns: self
                .state
                .map_or_else(|| Arc::from(Vec::new()), |(columns, _)| columns),
            rows: self.rows,
            rows_affected: affected,
            ..QueryResult::default()
        }
    }
}

/// Collects a result's rows as bare values (no labels, no [`Row`]s).
pub(crate) struct ValueSink<D: Driver> {
    decoder: Option<RowDecoder<D>>,
    values: Vec<Value>,
    count: usize,
}

impl<D: Driver> ValueSink<D> {
    /// A sink decoding into `buffer` (emptied first).
    pub(crate) fn new(mut buffer: Vec<Value>) -> Self {
        buffer.clear();
        ValueSink {
            decoder: None,
            values: buffer,
            count: 0,
        }
    }

    /// Decodes and keeps one row.
    pub(crate) fn push(&mut self, row: &SqlxRow<D>) -> Result<(), Error> {
        let decoder = self.decoder.get_or_insert_with(|| RowDecoder::new(row));
        decoder.decode_into(row, &mut self.values)?;
        self.count += 1;
        Ok(())
    }

    /// The result: the rows kept and `affected`.
    pub(crate) fn finish(self, affected: u64) -> ValueRows {
        ValueRows {
            width: self.decoder.as_ref().map_or(0, RowDecoder::width),
            values: self.values,
            count: self.count,
            affected,
            last_insert_id: None,
        }
    }
}

/// Streams decoded rows out of a sqlx row stream.
pub(crate) fn decode_stream<'a, D: Driver>(
    rows: BoxStream<'a, Result<SqlxRow<D>, sqlx::Error>>,
    compiled: &'a Compiled,
    redact: bool,
) -> BoxStream<'a, Result<Row, Error>> {
    use futures_util::StreamExt;
    let mut state: Option<Labelled<D>> = None;
    rows.map(move |item| {
        let row = item.map_err(|e| map_sqlx_error::<D>(e).into_error(compiled, redact))?;
        let (columns, decoder) = state.get_or_insert_with(|| (labels(&row), RowDecoder::new(&row)));
        Ok(Row::new(columns.clone(), decoder.decode(&row)?))
    })
    .boxed()
}

/// What [`sqlx::Row::try_get`] reports for a value `source` of column `i`
/// failed to decode, as an engine error naming `column`.
pub(crate) fn column_decode_err(column: &str, i: usize, source: sqlx::error::BoxDynError) -> Error {
    decode_err(
        column,
        sqlx::Error::ColumnDecode {
            index: format!("{i:?}"),
            source,
        },
    )
}

/// Decodes `raw`, the value of column `i` of `row`, as a `T`; a failure
/// names the column.
#[inline]
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
pub(crate) fn decode_named<'r, T, R>(
    raw: <R::Database as sqlx::Database>::ValueRef<'r>,
    row: &R,
    i: usize,
) -> Result<T, Error>
where
    R: sqlx::Row,
    T: sqlx::Decode<'r, R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    use sqlx::Column;
    T::decode(raw).map_err(|e| column_decode_err(row.column(i).name(), i, e))
}
