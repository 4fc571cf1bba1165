//! [`ListSpec`]: which entities to list, in what order, which page, with
//! no SQL.
//!
//! A `ListSpec` is plain data: filters (combined with AND), an ordering and
//! paging. [`Repository::list`](crate::Repository::list) receives it; the
//! persistence layer turns field names into mapped columns (an unknown name
//! is [`DomainError::Invalid`]) and values into bound parameters. Anything
//! richer (OR, joins, aggregates) belongs in a dedicated repository method
//! written with the persistence layer's expression language.
//!
//! ```
//! use domain::{Direction, FilterOp, ListSpec};
//!
//! let spec = ListSpec::new()
//!     .filter_eq("name", "Vlad")
//!     .filter_ge("compensation", 100_000)
//!     .order_by_desc("id")
//!     .page(2, 20);
//! assert_eq!(spec.filters[1].op, FilterOp::Ge);
//! assert_eq!(spec.order_by[0].direction, Direction::Desc);
//! assert_eq!((spec.limit, spec.offset), (Some(20), Some(20)));
//! ```

use std::borrow::Cow;

use crate::error::DomainError;

/// A field name: a `&'static str` from code, or a `String` from a request.
pub type FieldName = Cow<'static, str>;

/// A comparison in a [`Filter`].
///
/// `Eq` and `Ne` against [`FilterValue::Null`] mean `IS NULL` and
/// `IS NOT NULL` (as SQLAlchemy renders `col == None`), never `= NULL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterOp {
    /// `field = value` (`IS NULL` for a null value).
    Eq,
    /// `field <> value` (`IS NOT NULL` for a null value).
    Ne,
    /// `field < value`.
    Lt,
    /// `field <= value`.
    Le,
    /// `field > value`.
    Gt,
    /// `field >= value`.
    Ge,
    /// `field LIKE value`, a [`FilterValue::Text`] pattern with `%` and `_`
    /// wildcards, case-sensitive where the database is.
    Like,
    /// `field IN (values)`, a [`FilterValue::List`]. An empty list matches
    /// nothing.
    In,
    /// `field NOT IN (values)`, a [`FilterValue::List`]. An empty list
    /// matches everything.
    NotIn,
    /// `field IS NULL`; the value is [`FilterValue::Null`].
    IsNull,
    /// `field IS NOT NULL`; the value is [`FilterValue::Null`].
    IsNotNull,
}

/// A value to compare a field with. Dependency-free: UUIDs, decimals and
/// dates travel as [`Text`](FilterValue::Text) (UUIDs hyphenated, decimals
/// as plain digits, date/times in ISO 8601) and the persistence layer
/// converts them to the column's type, answering
/// [`DomainError::Invalid`] when the text does not parse.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    /// SQL `NULL`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text, or a value of a richer type in its text form.
    Text(String),
    /// A list of values, for [`FilterOp::In`] and [`FilterOp::NotIn`].
    List(Vec<FilterValue>),
}

impl FilterValue {
    /// Whether this is [`FilterValue::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, FilterValue::Null)
    }
}

macro_rules! filter_value_from {
    ($variant:ident: $($ty:ty),+) => {$(
        impl From<$ty> for FilterValue {
            fn from(value: $ty) -> Self {
                FilterValue::$variant(value.into())
            }
        }
    )+};
}

filter_value_from!(Bool: bool);
filter_value_from!(Int: i8, i16, i32, i64, u8, u16, u32);
filter_value_from!(Float: f32, f64);
filter_value_from!(Text: &str, String, &String, char);

impl<V: Into<FilterValue>> From<Option<V>> for FilterValue {
    fn from(value: Option<V>) -> Self {
        value.map_or(FilterValue::Null, Into::into)
    }
}

impl<V: Into<FilterValue>> From<Vec<V>> for FilterValue {
    fn from(values: Vec<V>) -> Self {
        FilterValue::List(values.into_iter().map(Into::into).collect())
    }
}

/// One condition: `field op value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The entity's field name, as mapped (not a column name).
    pub field: FieldName,
    /// The comparison.
    pub op: FilterOp,
    /// The operand ([`FilterValue::Null`] for `IsNull` / `IsNotNull`).
    pub value: FilterValue,
}

impl Filter {
    /// `field op value`.
    pub fn new(field: impl Into<FieldName>, op: FilterOp, value: impl Into<FilterValue>) -> Self {
        Filter {
            field: field.into(),
            op,
            value: value.into(),
        }
    }

    /// Check that the value has the shape the operator needs: a list for
    /// `In` / `NotIn`, text for `Like`, null for `IsNull` / `IsNotNull`, a
    /// non-null scalar for `Lt`, `Le`, `Gt`, `Ge`, a scalar (or null) for
    /// `Eq` / `Ne`. Column types are checked later, by the persistence layer.
    pub fn validate(&self) -> Result<(), DomainError> {
        use FilterValue as V;
        let ok = match self.op {
            FilterOp::Eq | FilterOp::Ne => !matches!(self.value, V::List(_)),
            FilterOp::Lt | FilterOp::Le | FilterOp::Gt | FilterOp::Ge => {
                !matches!(self.value, V::List(_) | V::Null)
            }
            FilterOp::Like => matches!(self.value, V::Text(_)),
            FilterOp::In | FilterOp::NotIn => match &self.value {
                V::List(items) => items.iter().all(|v| !matches!(v, V::List(_))),
                _ => false,
            },
            FilterOp::IsNull | FilterOp::IsNotNull => self.value.is_null(),
        };
        if ok {
            Ok(())
        } else {
            Err(DomainError::Invalid(format!(
                "filter on `{}`: operator {:?} does not accept {:?}",
                self.field, self.op, self.value
            )))
        }
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Ascending (the default).
    #[default]
    Asc,
    /// Descending.
    Desc,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderBy {
    /// The entity's field name.
    pub field: FieldName,
    /// Which way.
    pub direction: Direction,
}

/// Filters (AND), ordering and paging for
/// [`Repository::list`](crate::Repository::list).
///
/// The fields are public so the persistence layer can read them; build
/// specs with the methods. An empty spec lists everything, in no defined
/// order. Paging without an ordering gives unstable pages: order by a
/// unique field (the id, last) when paging.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListSpec {
    /// Conditions, all of which must hold.
    pub filters: Vec<Filter>,
    /// Sort keys, most significant first.
    pub order_by: Vec<OrderBy>,
    /// At most this many entities.
    pub limit: Option<u64>,
    /// Skip this many entities first.
    pub offset: Option<u64>,
}

impl ListSpec {
    /// An empty spec: everything, unordered, unpaged.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add `filter`.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filters.push(filter);
        self
    }

    fn with(self, field: impl Into<FieldName>, op: FilterOp, value: FilterValue) -> Self {
        self.filter(Filter {
            field: field.into(),
            op,
            value,
        })
    }

    /// `field = value` (`IS NULL` when `value` is null, e.g. `None`).
    pub fn filter_eq(self, field: impl Into<FieldName>, value: impl Into<FilterValue>) -> Self {
        self.with(field, FilterOp::Eq, value.into())
    }

    /// `field <> value` (`IS NOT NULL` when `value` is null).
    pub fn filter_ne(self, field: impl Into<FieldName>, value: impl Into<FilterValue>) -> Self {
        self.with(field, FilterOp::Ne, value.into())
    }

    /// `field < value`.
    pub fn filter_lt(self, field: impl Into<FieldName>, value: impl Into<FilterValue>) -> Self {
        self.with(field, FilterOp::Lt, value.into())
    }

    /// `field <= value`.
    pub fn filter_le(self, field: impl Into<FieldName>, value: impl Into<FilterValue>) -> Self {
        self.with(field, FilterOp::Le, value.into())
    }

    /// `field > value`.
    pub fn filter_gt(self, field: impl Into<FieldName>, value: impl Into<FilterValue>) -> Self {
        self.with(field, FilterOp::Gt, value.into())
    }

    /// `field >= value`.
    pub fn filter_ge(self, field: impl Into<FieldName>, value: impl Into<FilterValue>) -> Self {
        self.with(field, FilterOp::Ge, value.into())
    }

    /// `field LIKE pattern` (`%` and `_` are wildcards).
    pub fn filter_like(self, field: impl Into<FieldName>, pattern: impl Into<String>) -> Self {
        self.with(field, FilterOp::Like, FilterValue::Text(pattern.into()))
    }

    /// `field IN (values)`; no values matches nothing.
    pub fn filter_in<V: Into<FilterValue>>(
        self,
        field: impl Into<FieldName>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let list = values.into_iter().map(Into::into).collect();
        self.with(field, FilterOp::In, FilterValue::List(list))
    }

    /// `field NOT IN (values)`; no values matches everything.
    pub fn filter_not_in<V: Into<FilterValue>>(
        self,
        field: impl Into<FieldName>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let list = values.into_iter().map(Into::into).collect();
        self.with(field, FilterOp::NotIn, FilterValue::List(list))
    }

    /// `field IS NULL`.
    pub fn filter_is_null(self, field: impl Into<FieldName>) -> Self {
        self.with(field, FilterOp::IsNull, FilterValue::Null)
    }

    /// `field IS NOT NULL`.
    pub fn filter_is_not_null(self, field: impl Into<FieldName>) -> Self {
        self.with(field, FilterOp::IsNotNull, FilterValue::Null)
    }

    /// Sort by `field` in `direction`, after any earlier sort keys.
    pub fn order_by(mut self, field: impl Into<FieldName>, direction: Direction) -> Self {
        self.order_by.push(OrderBy {
            field: field.into(),
            direction,
        });
        self
    }

    /// Sort by `field`, ascending.
    pub fn order_by_asc(self, field: impl Into<FieldName>) -> Self {
        self.order_by(field, Direction::Asc)
    }

    /// Sort by `field`, descending.
    pub fn order_by_desc(self, field: impl Into<FieldName>) -> Self {
        self.order_by(field, Direction::Desc)
    }

    /// Return at most `limit` entities.
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Skip the first `offset` entities.
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Page number `page` (1-based; 0 is treated as 1) of `per_page`
    /// entities: `limit = per_page`, `offset = (page - 1) * per_page`.
    pub fn page(self, page: u64, per_page: u64) -> Self {
        let offset = page.max(1).saturating_sub(1).saturating_mul(per_page);
        self.limit(per_page).offset(offset)
    }

    /// The same filters without ordering or paging: what
    /// [`Repository::count`](crate::Repository::count) needs.
    pub fn without_paging(&self) -> Self {
        ListSpec {
            filters: self.filters.clone(),
            ..ListSpec::default()
        }
    }

    /// [`Filter::validate`] every filter.
    pub fn validate(&self) -> Result<(), DomainError> {
        self.filters.iter().try_for_each(Filter::validate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_spec() {
        let spec = ListSpec::new();
        assert!(spec.filters.is_empty() && spec.order_by.is_empty());
        assert_eq!((spec.limit, spec.offset), (None, None));
        assert_eq!(spec, ListSpec::default());
    }

    #[test]
    fn builder_chain_from_the_brief() {
        let spec = ListSpec::new()
            .filter_eq("name", "Vlad")
            .order_by_desc("id")
            .page(2, 20);
        assert_eq!(
            spec.filters,
            vec![Filter::new("name", FilterOp::Eq, "Vlad")]
        );
        assert_eq!(
            spec.order_by,
            vec![OrderBy {
                field: "id".into(),
                direction: Direction::Desc
            }]
        );
        assert_eq!(spec.limit, Some(20));
        assert_eq!(spec.offset, Some(20));
    }

    #[test]
    fn every_operator_builder() {
        let spec = ListSpec::new()
            .filter_eq("a", 1)
            .filter_ne("b", true)
            .filter_lt("c", 1.5)
            .filter_le("d", 2_u32)
            .filter_gt("e", -3_i64)
            .filter_ge("f", 'x')
            .filter_like("g", "Vl%")
            .filter_in("h", [1, 2, 3])
            .filter_not_in("i", vec!["x".to_owned()])
            .filter_is_null("j")
            .filter_is_not_null("k");
        let ops: Vec<FilterOp> = spec.filters.iter().map(|f| f.op).collect();
        assert_eq!(
            ops,
            [
                FilterOp::Eq,
                FilterOp::Ne,
                FilterOp::Lt,
                FilterOp::Le,
                FilterOp::Gt,
                FilterOp::Ge,
                FilterOp::Like,
                FilterOp::In,
                FilterOp::NotIn,
                FilterOp::IsNull,
                FilterOp::IsNotNull,
            ]
        );
        assert_eq!(spec.filters[2].value, FilterValue::Float(1.5));
        assert_eq!(spec.filters[5].value, FilterValue::Text("x".into()));
        assert_eq!(
            spec.filters[7].value,
            FilterValue::List(vec![
                FilterValue::Int(1),
                FilterValue::Int(2),
                FilterValue::Int(3)
            ])
        );
        assert_eq!(spec.filters[9].value, FilterValue::Null);
        assert_eq!(spec.validate(), Ok(()));
    }

    #[test]
    fn field_names_may_be_owned() {
        let from_request = String::from("name");
        let spec = ListSpec::new()
            .filter_eq(from_request.clone(), "Vlad")
            .order_by_asc(from_request);
        assert_eq!(spec.filters[0].field, "name");
        assert_eq!(spec.order_by[0].direction, Direction::Asc);
    }

    #[test]
    fn values_from_rust_types() {
        assert_eq!(FilterValue::from(None::<i32>), FilterValue::Null);
        assert_eq!(FilterValue::from(Some(7_i16)), FilterValue::Int(7));
        assert_eq!(FilterValue::from(false), FilterValue::Bool(false));
        assert_eq!(FilterValue::from(2.5_f32), FilterValue::Float(2.5));
        assert_eq!(
            FilterValue::from(&String::from("s")),
            FilterValue::Text("s".into())
        );
        assert_eq!(
            FilterValue::from(vec![Some(1_u8), None]),
            FilterValue::List(vec![FilterValue::Int(1), FilterValue::Null])
        );
        assert!(FilterValue::Null.is_null());
    }

    #[test]
    fn eq_none_stays_null_for_is_null_rendering() {
        let spec = ListSpec::new().filter_eq("deleted_at", None::<String>);
        assert_eq!(spec.filters[0].value, FilterValue::Null);
        assert_eq!(spec.validate(), Ok(()));
    }

    #[test]
    fn paging() {
        assert_eq!(
            ListSpec::new().page(1, 10),
            ListSpec::new().limit(10).offset(0)
        );
        assert_eq!(ListSpec::new().page(0, 10).offset, Some(0));
        assert_eq!(ListSpec::new().page(3, 25).offset, Some(50));
        assert_eq!(ListSpec::new().page(u64::MAX, 10).offset, Some(u64::MAX));
        let spec = ListSpec::new()
            .filter_gt("id", 5)
            .order_by_asc("id")
            .page(4, 5);
        let count = spec.without_paging();
        assert_eq!(count.filters, spec.filters);
        assert!(count.order_by.is_empty());
        assert_eq!((count.limit, count.offset), (None, None));
    }

    #[test]
    fn order_keys_accumulate() {
        let spec = ListSpec::new()
            .order_by("workload", Direction::Desc)
            .order_by_asc("id");
        let keys: Vec<(&str, Direction)> = spec
            .order_by
            .iter()
            .map(|o| (o.field.as_ref(), o.direction))
            .collect();
        assert_eq!(
            keys,
            [("workload", Direction::Desc), ("id", Direction::Asc)]
        );
        assert_eq!(Direction::default(), Direction::Asc);
    }

    #[test]
    fn validate_rejects_misshaped_values() {
        let bad = [
            Filter::new("a", FilterOp::In, 1),
            Filter::new("a", FilterOp::In, vec![vec![1]]),
            Filter::new("a", FilterOp::Like, 1),
            Filter::new("a", FilterOp::Lt, None::<i64>),
            Filter::new("a", FilterOp::Eq, vec![1]),
            Filter::new("a", FilterOp::IsNull, 1),
        ];
        for filter in bad {
            let err = filter.validate();
            assert!(
                matches!(&err, Err(DomainError::Invalid(m)) if m.contains("`a`")),
                "{filter:?} gave {err:?}"
            );
        }
        let spec = ListSpec::new()
            .filter_eq("ok", 1)
            .filter(Filter::new("bad", FilterOp::Like, 2));
        assert!(spec.validate().is_err());
    }
}
