//! Field codecs: how a field's Rust value becomes column values and back,
//! chosen in the mapping (SQLAlchemy's `TypeDecorator` and `composite()`),
//! never as a trait impl on the domain type.
//!
//! A domain crate that knows nothing of the framework defines
//! `struct WorkerId(i64)` or `enum Workload { .. }`; the orphan rule forbids
//! implementing the framework's traits for them in the mapping crate, so
//! the mapping names a codec value instead:
//!
//! ```
//! use persistence::orm::codec::{self, Codec, ScalarCodec};
//! use persistence::dialects::{SqlType, Value};
//!
//! #[derive(Debug, Clone, Copy, PartialEq)]
//! pub struct WorkerId(i64);
//! #[derive(Debug, Clone, Copy, PartialEq)]
//! pub enum Workload { PartTime, FullTime }
//!
//! let id = codec::newtype(WorkerId, |w: &WorkerId| w.0);
//! assert_eq!(id.encode_one(&WorkerId(7)).unwrap(), Value::BigInt(7));
//! assert_eq!(id.decode_one(Value::Int(7)).unwrap(), WorkerId(7));
//!
//! const WORKLOAD: codec::TextEnum<Workload> = codec::text_enum(
//!     "workload",
//!     &[(Workload::PartTime, "parttime"), (Workload::FullTime, "fulltime")],
//! );
//! assert_eq!(WORKLOAD.encode_one(&Workload::FullTime).unwrap(), Value::from("fulltime"));
//! assert!(WORKLOAD.decode_one(Value::from("contract")).is_err());
//! assert!(matches!(WORKLOAD.sql_type(), SqlType::Enum { .. }));
//! ```
//!
//! Ready codecs: [`native`] (the types `Value` converts: integers, floats,
//! decimals, text, bytes, booleans, chrono date-times, UUIDs, JSON),
//! [`newtype`] (a wrapper over one of those), [`text_enum`] (a field-less
//! enum as text or a native enum type), [`json`] (any serde value as a
//! JSON document), [`with`] (any pair of functions), [`composite`] (one
//! value object over several columns), [`unix_seconds`] / [`rfc3339`]
//! (UTC instants as integers or text), and [`ScalarCodecExt::optional`]
//! (`None` as SQL NULL) on any single-column codec.
//!
//! Codecs are small values (function pointers, static tables); a mapping
//! evaluates a codec expression where it needs it, so keep them cheap to
//! build.

use std::any::Any;
use std::marker::PhantomData;

use dialects::{SqlType, Value, ValueError};

use super::mapper::SqlTypeOf;

/// A value that a codec could not convert, with what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CodecError {
    /// What went wrong, naming the value's kind.
    pub message: String,
    /// The kind of value met (`Value::type_name`), when one was read.
    pub value_type: Option<&'static str>,
}

impl CodecError {
    /// A failure with a message.
    pub fn new(message: impl Into<String>) -> Self {
        CodecError {
            message: message.into(),
            value_type: None,
        }
    }

    /// A value of the wrong kind for `expected`.
    pub fn misfit(expected: &str, found: &Value) -> Self {
        CodecError {
            message: format!("cannot read a {} value as `{expected}`", found.type_name()),
            value_type: Some(found.type_name()),
        }
    }
}

impl From<ValueError> for CodecError {
    fn from(e: ValueError) -> Self {
        CodecError {
            message: e.to_string(),
            value_type: Some(e.found),
        }
    }
}

/// The type and nullability of one column a codec writes (what a table
/// inferred from a mapping declares, and what `configure()` checks an
/// explicit table's column against).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnShape {
    /// The column type the codec's values have.
    pub sql_type: SqlType,
    /// Whether the codec writes NULL (an `Option` field).
    pub nullable: bool,
}

/// How one field maps to one or more columns.
///
/// Most codecs are single-column and implement [`ScalarCodec`] instead
/// ([`Scalar`] makes one a `Codec`); [`composite`] spreads one value over
/// several columns.
pub trait Codec<F>: Send + Sync {
    /// How many columns the field takes.
    fn arity(&self) -> usize {
        1
    }

    /// The shape of the field's `i`-th column.
    fn shape(&self, i: usize) -> ColumnShape;

    /// Appends the field's column values to `out` (`arity()` of them).
    fn encode(&self, value: &F, out: &mut Vec<Value>) -> Result<(), CodecError>;

    /// The field from its column values (`arity()` of them, already
    /// normalised to the columns' declared types), taking what it keeps.
    fn decode(&self, values: &mut [Value]) -> Result<F, CodecError>;

    /// The column value of a primary key given as the field's type or, for
    /// an optional field, as its inner type (`WorkerId` for an
    /// `Option<WorkerId>` field); `None` when `key` is neither.
    fn encode_key(&self, key: &dyn Any) -> Option<Result<Value, CodecError>>;
}

/// A codec of one field to one column.
pub trait ScalarCodec<F>: Send + Sync {
    /// The column type its values have.
    fn sql_type(&self) -> SqlType;

    /// Whether it writes NULL (the field is an `Option`).
    fn nullable(&self) -> bool {
        false
    }

    /// The column value of a field value.
    fn encode_one(&self, value: &F) -> Result<Value, CodecError>;

    /// The field value of a column value (normalised to the column's
    /// declared type), NULL included.
    fn decode_one(&self, value: Value) -> Result<F, CodecError>;

    /// See [`Codec::encode_key`]; the default accepts the field's own type.
    fn encode_key_one(&self, key: &dyn Any) -> Option<Result<Value, CodecError>>
    where
        F: 'static,
    {
        key.downcast_ref::<F>().map(|k| self.encode_one(k))
    }
}

/// A single-column codec seen as a [`Codec`] (what the mapping macros
/// wrap a field's codec in).
#[derive(Debug, Clone, Copy)]
pub struct Scalar<C>(pub C);

impl<F: 'static, C: ScalarCodec<F>> Codec<F> for Scalar<C> {
    fn shape(&self, _: usize) -> ColumnShape {
        ColumnShape {
            sql_type: self.0.sql_type(),
            nullable: self.0.nullable(),
        }
    }

    #[inline]
    fn encode(&self, value: &F, out: &mut Vec<Value>) -> Result<(), CodecError> {
        out.push(self.0.encode_one(value)?);
        Ok(())
    }

    #[inline]
    fn decode(&self, values: &mut [Value]) -> Result<F, CodecError> {
        let v = values
            .first_mut()
            .map_or(Value::Null, |v| std::mem::replace(v, Value::Null));
        self.0.decode_one(v)
    }

    fn encode_key(&self, key: &dyn Any) -> Option<Result<Value, CodecError>> {
        self.0.encode_key_one(key)
    }
}

/// Adapters on every single-column codec.
pub trait ScalarCodecExt<F>: ScalarCodec<F> + Sized {
    /// The same codec for `Option<F>`: `None` is SQL NULL.
    ///
    /// ```
    /// use persistence::orm::codec::{self, ScalarCodec, ScalarCodecExt};
    /// use persistence::dialects::Value;
    /// #[derive(Debug, Clone, Copy, PartialEq)] struct Id(i64);
    /// let c = codec::newtype(Id, |i: &Id| i.0).optional();
    /// assert_eq!(c.encode_one(&None).unwrap(), Value::Null);
    /// assert_eq!(c.decode_one(Value::BigInt(3)).unwrap(), Some(Id(3)));
    /// ```
    fn optional(self) -> Optional<Self> {
        Optional(self)
    }
}

impl<F, C: ScalarCodec<F>> ScalarCodecExt<F> for C {}

// ---------------------------------------------------------------- native

/// The codec of a type `Value` converts to and from itself
/// (`From<T> for Value`, `TryFrom<Value> for T`, [`SqlTypeOf`]): the
/// integers, floats, `String`, `Vec<u8>`, `bool`, and with their features
/// `Decimal`, chrono's and the `time` crate's dates and times, `Uuid`,
/// `serde_json::Value`; and `Option`s of them.
pub struct Native<T>(PhantomData<fn() -> T>);

impl<T> Clone for Native<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Native<T> {}

impl<T> std::fmt::Debug for Native<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Native<{}>", std::any::type_name::<T>())
    }
}

/// The [`Native`] codec of `T` (what a field without a codec uses).
pub const fn native<T>() -> Native<T> {
    Native(PhantomData)
}

/// A type the [`Native`] codec handles; implemented for every type with
/// the three conversions.
pub trait NativeType: Clone + Send + Sync + 'static {
    /// The column type.
    fn native_type() -> SqlType;
    /// Whether `None` is a value (an `Option`).
    fn native_nullable() -> bool;
    /// To a value.
    fn to_value(&self) -> Value;
    /// From a value.
    fn from_value(v: Value) -> Result<Self, CodecError>;
    /// The inner type's key, for an `Option`: see [`Codec::encode_key`].
    fn inner_key(key: &dyn Any) -> Option<Value> {
        let _ = key;
        None
    }
}

impl<T> NativeType for T
where
    T: Clone + Send + Sync + 'static + SqlTypeOf + Into<Value> + TryFrom<Value>,
    <T as TryFrom<Value>>::Error: Into<CodecError>,
{
    fn native_type() -> SqlType {
        T::sql_type()
    }
    fn native_nullable() -> bool {
        T::nullable()
    }
    #[inline]
    fn to_value(&self) -> Value {
        self.clone().into()
    }
    #[inline]
    fn from_value(v: Value) -> Result<Self, CodecError> {
        T::try_from(v).map_err(Into::into)
    }
    fn inner_key(key: &dyn Any) -> Option<Value> {
        T::inner_key_value(key)
    }
}

impl<T: NativeType> ScalarCodec<T> for Native<T> {
    fn sql_type(&self) -> SqlType {
        T::native_type()
    }
    fn nullable(&self) -> bool {
        T::native_nullable()
    }
    #[inline]
    fn encode_one(&self, value: &T) -> Result<Value, CodecError> {
        Ok(value.to_value())
    }
    #[inline]
    fn decode_one(&self, value: Value) -> Result<T, CodecError> {
        T::from_value(value)
    }
    fn encode_key_one(&self, key: &dyn Any) -> Option<Result<Value, CodecError>> {
        if let Some(k) = key.downcast_ref::<T>() {
            return Some(Ok(k.to_value()));
        }
        T::inner_key(key).map(Ok)
    }
}

// ---------------------------------------------------------------- newtype

/// A newtype over a [`NativeType`] (`WorkerId(i64)`, `Email(String)`,
/// `OrderId(Uuid)`): the column holds the inner value.
pub struct Newtype<W, I> {
    wrap: fn(I) -> W,
    unwrap: fn(&W) -> I,
}

impl<W, I> Clone for Newtype<W, I> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<W, I> Copy for Newtype<W, I> {}

/// The codec of a newtype: `wrap` builds it from the inner value (the
/// tuple struct's constructor), `unwrap` reads the inner value.
///
/// ```
/// use persistence::orm::codec::{self, ScalarCodec};
/// use persistence::dialects::{SqlType, Value};
/// #[derive(Debug, Clone, PartialEq)] struct Email(String);
/// let c = codec::newtype(Email, |e: &Email| e.0.clone());
/// assert_eq!(c.sql_type(), SqlType::String(None));
/// assert_eq!(c.decode_one(Value::from("a@b.c")).unwrap(), Email("a@b.c".into()));
/// ```
pub const fn newtype<W, I>(wrap: fn(I) -> W, unwrap: fn(&W) -> I) -> Newtype<W, I> {
    Newtype { wrap, unwrap }
}

impl<W: Send + Sync + 'static, I: NativeType> ScalarCodec<W> for Newtype<W, I> {
    fn sql_type(&self) -> SqlType {
        I::native_type()
    }
    fn nullable(&self) -> bool {
        I::native_nullable()
    }
    #[inline]
    fn encode_one(&self, value: &W) -> Result<Value, CodecError> {
        Ok((self.unwrap)(value).to_value())
    }
    #[inline]
    fn decode_one(&self, value: Value) -> Result<W, CodecError> {
        Ok((self.wrap)(I::from_value(value)?))
    }
    fn encode_key_one(&self, key: &dyn Any) -> Option<Result<Value, CodecError>> {
        if let Some(k) = key.downcast_ref::<W>() {
            return Some(self.encode_one(k));
        }
        // The inner type itself (`session.get::<Worker>(7_i64)`).
        key.downcast_ref::<I>().map(|k| Ok(k.to_value()))
    }
}

// ---------------------------------------------------------------- optional

/// `None` as SQL NULL around a single-column codec; see
/// [`ScalarCodecExt::optional`].
#[derive(Debug, Clone, Copy)]
pub struct Optional<C>(C);

impl<F: 'static, C: ScalarCodec<F>> ScalarCodec<Option<F>> for Optional<C> {
    fn sql_type(&self) -> SqlType {
        self.0.sql_type()
    }
    fn nullable(&self) -> bool {
        true
    }
    #[inline]
    fn encode_one(&self, value: &Option<F>) -> Result<Value, CodecError> {
        match value {
            Some(v) => self.0.encode_one(v),
            None => Ok(Value::Null),
        }
    }
    #[inline]
    fn decode_one(&self, value: Value) -> Result<Option<F>, CodecError> {
        match value {
            Value::Null => Ok(None),
            v => self.0.decode_one(v).map(Some),
        }
    }
    fn encode_key_one(&self, key: &dyn Any) -> Option<Result<Value, CodecError>> {
        if let Some(k) = key.downcast_ref::<Option<F>>() {
            return Some(self.encode_one(k));
        }
        self.0.encode_key_one(key)
    }
}

// ---------------------------------------------------------------- text enum

/// A field-less enum stored as text: each variant with its stored name
/// (SQLAlchemy's `Enum` over a `Literal[...]`). The column type is
/// [`SqlType::Enum`] with these names, so a declared table gets a native
/// enum or a CHECK constraint, as the dialect does it.
pub struct TextEnum<E: 'static> {
    name: &'static str,
    variants: &'static [(E, &'static str)],
}

impl<E> Clone for TextEnum<E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for TextEnum<E> {}

/// The codec of an enum stored as text, named `name` (the database
/// type's or constraint's name); `const`-friendly.
pub const fn text_enum<E>(
    name: &'static str,
    variants: &'static [(E, &'static str)],
) -> TextEnum<E> {
    TextEnum { name, variants }
}

impl<E> TextEnum<E> {
    /// The stored names, in declaration order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.variants.iter().map(|(_, n)| *n)
    }
}

impl<E: PartialEq + Clone + Send + Sync + 'static> ScalarCodec<E> for TextEnum<E> {
    fn sql_type(&self) -> SqlType {
        SqlType::enumeration(self.name, self.names())
    }
    fn encode_one(&self, value: &E) -> Result<Value, CodecError> {
        self.variants
            .iter()
            .find(|(v, _)| v == value)
            .map(|(_, n)| Value::from(*n))
            .ok_or_else(|| {
                CodecError::new(format!(
                    "a `{}` value has no stored name in enum `{}`",
                    std::any::type_name::<E>(),
                    self.name
                ))
            })
    }
    fn decode_one(&self, value: Value) -> Result<E, CodecError> {
        let Some(text) = value.as_str() else {
            return Err(CodecError::misfit(std::any::type_name::<E>(), &value));
        };
        self.variants
            .iter()
            .find(|(_, n)| *n == text)
            .map(|(v, _)| v.clone())
            .ok_or_else(|| CodecError {
                message: format!("`{text}` is not a value of enum `{}`", self.name),
                value_type: Some("string"),
            })
    }
}

// ---------------------------------------------------------------- json

#[cfg(feature = "json")]
/// Any serde value stored as a JSON document.
pub struct Json<T>(PhantomData<fn() -> T>);

#[cfg(feature = "json")]
impl<T> Clone for Json<T> {
    fn clone(&self) -> Self {
        *self
    }
}

#[cfg(feature = "json")]
impl<T> Copy for Json<T> {}

#[cfg(feature = "json")]
/// The codec of a value object stored as JSON (`serde::Serialize` and
/// `Deserialize` on the domain type, which only needs serde).
///
/// ```
/// use persistence::orm::codec::{self, ScalarCodec};
/// use persistence::dialects::Value;
/// let c = codec::json::<Vec<String>>();
/// let v = c.encode_one(&vec!["rust".to_owned()]).unwrap();
/// assert_eq!(v, Value::Json(serde_json::json!(["rust"])));
/// assert_eq!(c.decode_one(Value::from("[\"sql\"]")).unwrap(), vec!["sql".to_owned()]);
/// ```
pub const fn json<T>() -> Json<T> {
    Json(PhantomData)
}

#[cfg(feature = "json")]
impl<T> ScalarCodec<T> for Json<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    fn sql_type(&self) -> SqlType {
        SqlType::Json
    }
    fn encode_one(&self, value: &T) -> Result<Value, CodecError> {
        serde_json::to_value(value)
            .map(Value::Json)
            .map_err(|e| CodecError::new(format!("cannot write as JSON: {e}")))
    }
    fn decode_one(&self, value: Value) -> Result<T, CodecError> {
        let kind = value.type_name();
        let doc = serde_json::Value::try_from(value)?;
        serde_json::from_value(doc).map_err(|e| CodecError {
            message: format!("JSON does not fit `{}`: {e}", std::any::type_name::<T>()),
            value_type: Some(kind),
        })
    }
}

// ---------------------------------------------------------------- functions

/// A codec from a pair of functions; see [`with`].
pub struct With<F> {
    sql_type: fn() -> SqlType,
    encode: fn(&F) -> Result<Value, CodecError>,
    decode: fn(Value) -> Result<F, CodecError>,
}

impl<F> Clone for With<F> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<F> Copy for With<F> {}

/// A codec from any pair of functions (`&F -> Value`,
/// `Value -> Result<F>`) and the column type they use.
///
/// ```
/// use persistence::orm::codec::{self, CodecError, ScalarCodec};
/// use persistence::dialects::{SqlType, Value};
/// #[derive(Debug, Clone, PartialEq)] struct Cents(i64);
/// let c = codec::with(
///     || SqlType::Numeric(12, 2),
///     |c: &Cents| Ok(Value::Decimal(rust_decimal::Decimal::new(c.0, 2))),
///     |v| {
///         let d = rust_decimal::Decimal::try_from(v)?;
///         Ok(Cents((d * rust_decimal::Decimal::from(100)).trunc().mantissa() as i64))
///     },
/// );
/// assert_eq!(c.decode_one(c.encode_one(&Cents(1250)).unwrap()).unwrap(), Cents(1250));
/// ```
pub const fn with<F>(
    sql_type: fn() -> SqlType,
    encode: fn(&F) -> Result<Value, CodecError>,
    decode: fn(Value) -> Result<F, CodecError>,
) -> With<F> {
    With {
        sql_type,
        encode,
        decode,
    }
}

impl<F: Send + Sync + 'static> ScalarCodec<F> for With<F> {
    fn sql_type(&self) -> SqlType {
        (self.sql_type)()
    }
    fn encode_one(&self, value: &F) -> Result<Value, CodecError> {
        (self.encode)(value)
    }
    fn decode_one(&self, value: Value) -> Result<F, CodecError> {
        (self.decode)(value)
    }
}

// ---------------------------------------------------------------- date-times

/// A UTC instant stored as whole seconds since the Unix epoch (BIGINT):
/// chrono's `DateTime<Utc>` (feature `chrono`; the `time` crate's
/// `OffsetDateTime` has [`time::UnixSeconds`]).
#[derive(Debug, Clone, Copy)]
pub struct UnixSeconds;

/// The codec of `DateTime<Utc>` as seconds since the epoch (sub-second
/// parts are dropped on write).
pub const fn unix_seconds() -> UnixSeconds {
    UnixSeconds
}

#[cfg(feature = "chrono")]
impl ScalarCodec<chrono::DateTime<chrono::Utc>> for UnixSeconds {
    fn sql_type(&self) -> SqlType {
        SqlType::BigInteger
    }
    fn encode_one(&self, value: &chrono::DateTime<chrono::Utc>) -> Result<Value, CodecError> {
        Ok(Value::BigInt(value.timestamp()))
    }
    fn decode_one(&self, value: Value) -> Result<chrono::DateTime<chrono::Utc>, CodecError> {
        let n = i64::try_from(value.clone())?;
        chrono::DateTime::from_timestamp(n, 0).ok_or_else(|| CodecError {
            message: format!("{n} seconds since the epoch is out of range"),
            value_type: Some(value.type_name()),
        })
    }
}

/// A UTC instant stored as RFC 3339 text: chrono's `DateTime<Utc>`
/// (feature `chrono`; the `time` crate's `OffsetDateTime` has
/// [`time::Rfc3339`]).
#[derive(Debug, Clone, Copy)]
pub struct Rfc3339;

/// The codec of `DateTime<Utc>` as RFC 3339 text
/// (`2024-05-01T12:00:00.000000Z`, which sorts as time does).
pub const fn rfc3339() -> Rfc3339 {
    Rfc3339
}

#[cfg(feature = "chrono")]
impl ScalarCodec<chrono::DateTime<chrono::Utc>> for Rfc3339 {
    fn sql_type(&self) -> SqlType {
        SqlType::String(Some(32))
    }
    fn encode_one(&self, value: &chrono::DateTime<chrono::Utc>) -> Result<Value, CodecError> {
        Ok(Value::String(
            value.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        ))
    }
    fn decode_one(&self, value: Value) -> Result<chrono::DateTime<chrono::Utc>, CodecError> {
        let Some(text) = value.as_str() else {
            return Err(CodecError::misfit("RFC 3339 text", &value));
        };
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|e| CodecError {
                message: format!("`{text}` is not an RFC 3339 time: {e}"),
                value_type: Some("string"),
            })
    }
}

/// The same codecs for the `time` crate's `OffsetDateTime` (feature
/// `time`): `codec::time::unix_seconds()`, `codec::time::rfc3339()`.
/// Types of their own, so that enabling `time` next to `chrono` leaves
/// every chrono field's codec as it was.
#[cfg(feature = "time")]
pub mod time {
    use ::time::{OffsetDateTime, UtcOffset};
    use dialects::{SqlType, Value};

    use super::{CodecError, ScalarCodec};

    /// An `OffsetDateTime` stored as whole seconds since the Unix epoch
    /// (BIGINT), read back in UTC.
    #[derive(Debug, Clone, Copy)]
    pub struct UnixSeconds;

    /// The codec of an `OffsetDateTime` as seconds since the epoch
    /// (sub-second parts are dropped on write).
    pub const fn unix_seconds() -> UnixSeconds {
        UnixSeconds
    }

    impl ScalarCodec<OffsetDateTime> for UnixSeconds {
        fn sql_type(&self) -> SqlType {
            SqlType::BigInteger
        }
        fn encode_one(&self, value: &OffsetDateTime) -> Result<Value, CodecError> {
            Ok(Value::BigInt(value.unix_timestamp()))
        }
        fn decode_one(&self, value: Value) -> Result<OffsetDateTime, CodecError> {
            let n = i64::try_from(value.clone())?;
            OffsetDateTime::from_unix_timestamp(n).map_err(|_| CodecError {
                message: format!("{n} seconds since the epoch is out of range"),
                value_type: Some(value.type_name()),
            })
        }
    }

    /// An `OffsetDateTime` stored as RFC 3339 text in UTC.
    #[derive(Debug, Clone, Copy)]
    pub struct Rfc3339;

    /// The codec of an `OffsetDateTime` as RFC 3339 text in UTC
    /// (`2024-05-01T12:00:00.000000Z`, which sorts as time does), read
    /// back in UTC.
    pub const fn rfc3339() -> Rfc3339 {
        Rfc3339
    }

    impl ScalarCodec<OffsetDateTime> for Rfc3339 {
        fn sql_type(&self) -> SqlType {
            SqlType::String(Some(32))
        }
        fn encode_one(&self, value: &OffsetDateTime) -> Result<Value, CodecError> {
            let utc = dialects::value::utc_primitive(*value).ok_or_else(|| CodecError {
                message: format!("{value} has no UTC form within the `time` crate's range"),
                value_type: None,
            })?;
            let (h, m, s, micros) = utc.time().as_hms_micro();
            Ok(Value::String(format!(
                "{}T{h:02}:{m:02}:{s:02}.{micros:06}Z",
                utc.date()
            )))
        }
        fn decode_one(&self, value: Value) -> Result<OffsetDateTime, CodecError> {
            let Some(text) = value.as_str() else {
                return Err(CodecError::misfit("RFC 3339 text", &value));
            };
            OffsetDateTime::parse(text, &::time::format_description::well_known::Rfc3339)
                .map(|t| t.to_offset(UtcOffset::UTC))
                .map_err(|e| CodecError {
                    message: format!("`{text}` is not an RFC 3339 time: {e}"),
                    value_type: Some("string"),
                })
        }
    }
}

// ---------------------------------------------------------------- composite

/// One value object over several columns (SQLAlchemy's `composite()`):
/// `split` gives the parts as a tuple, `join` builds the value from it,
/// and each part has its own codec.
pub struct Composite<F, P, C> {
    split: fn(&F) -> P,
    join: fn(P) -> F,
    parts: C,
}

/// The functions of a composite, before the mapping adds the parts'
/// codecs (which `model!` / `mapping!` do from the sub-columns).
pub struct CompositeFns<F, P> {
    /// The parts of a value.
    pub split: fn(&F) -> P,
    /// A value from its parts.
    pub join: fn(P) -> F,
}

/// A composite value object: see [`Composite`].
///
/// ```
/// use persistence::orm::codec::{self, Codec};
/// use persistence::dialects::Value;
/// #[derive(Debug, Clone, PartialEq)]
/// struct Money { cents: i64, currency: String }
/// let c = codec::composite(
///     |m: &Money| (m.cents, m.currency.clone()),
///     |(cents, currency)| Money { cents, currency },
/// )
/// .parts((codec::native::<i64>(), codec::native::<String>()));
/// let mut out = Vec::new();
/// c.encode(&Money { cents: 995, currency: "EUR".into() }, &mut out).unwrap();
/// assert_eq!(out, [Value::BigInt(995), Value::from("EUR")]);
/// assert_eq!(c.decode(&mut out).unwrap().cents, 995);
/// ```
pub const fn composite<F, P>(split: fn(&F) -> P, join: fn(P) -> F) -> CompositeFns<F, P> {
    CompositeFns { split, join }
}

impl<F, P> CompositeFns<F, P> {
    /// Adds the parts' codecs (a tuple, one per column).
    pub fn parts<C>(self, parts: C) -> Composite<F, P, C> {
        Composite {
            split: self.split,
            join: self.join,
            parts,
        }
    }
}

/// A composite's functions that may be absent: see
/// [`CompositeFns::optional`].
pub struct OptionalCompositeFns<F, P>(CompositeFns<F, P>);

impl<F, P> CompositeFns<F, P> {
    /// The composite of an `Option<F>` field: every part column is
    /// nullable, `None` writes NULL to each and all NULL reads `None`.
    pub fn optional(self) -> OptionalCompositeFns<F, P> {
        OptionalCompositeFns(self)
    }
}

/// Turns composite functions and the parts' codecs into the field's
/// codec (what [`model!`](crate::model) calls with the parts it declares).
pub trait IntoComposite<C> {
    /// The field's codec.
    type Codec;
    /// Adds the parts' codecs.
    fn with_parts(self, parts: C) -> Self::Codec;
}

impl<F, P, C> IntoComposite<C> for CompositeFns<F, P> {
    type Codec = Composite<F, P, C>;
    fn with_parts(self, parts: C) -> Composite<F, P, C> {
        self.parts(parts)
    }
}

impl<F, P, C> IntoComposite<C> for OptionalCompositeFns<F, P> {
    type Codec = OptionalComposite<Composite<F, P, C>>;
    fn with_parts(self, parts: C) -> Self::Codec {
        self.0.parts(parts).optional()
    }
}

/// A tuple of codecs for the parts of a [`Composite`].
pub trait Parts<P>: Send + Sync {
    /// How many columns in all.
    fn arity(&self) -> usize;
    /// The shape of the `i`-th column.
    fn shape(&self, i: usize) -> ColumnShape;
    /// Appends the parts' values.
    fn encode(&self, parts: P, out: &mut Vec<Value>) -> Result<(), CodecError>;
    /// The parts from their values.
    fn decode(&self, values: &mut [Value]) -> Result<P, CodecError>;
}

macro_rules! parts_tuple {
    ($n:literal; $($p:ident $c:ident $i:tt),+) => {
        impl<$($p: 'static,)+ $($c: ScalarCodec<$p>,)+> Parts<($($p,)+)> for ($($c,)+) {
            fn arity(&self) -> usize {
                $n
            }
            fn shape(&self, i: usize) -> ColumnShape {
                match i {
                    $($i => ColumnShape {
                        sql_type: self.$i.sql_type(),
                        nullable: self.$i.nullable(),
                    },)+
                    _ => ColumnShape { sql_type: SqlType::Text, nullable: true },
                }
            }
            fn encode(&self, parts: ($($p,)+), out: &mut Vec<Value>) -> Result<(), CodecError> {
                $(out.push(self.$i.encode_one(&parts.$i)?);)+
                Ok(())
            }
            fn decode(&self, values: &mut [Value]) -> Result<($($p,)+), CodecError> {
                let mut it = values.iter_mut();
                Ok(($(
                    self.$i.decode_one(
                        it.next().map_or(Value::Null, |v| std::mem::replace(v, Value::Null)),
                    )?,
                )+))
            }
        }
    };
}

parts_tuple!(1; A CA 0);
parts_tuple!(2; A CA 0, B CB 1);
parts_tuple!(3; A CA 0, B CB 1, C CC 2);
parts_tuple!(4; A CA 0, B CB 1, C CC 2, D CD 3);
parts_tuple!(5; A CA 0, B CB 1, C CC 2, D CD 3, E CE 4);
parts_tuple!(6; A CA 0, B CB 1, C CC 2, D CD 3, E CE 4, G CG 5);

impl<F, P, C> Codec<F> for Composite<F, P, C>
where
    F: Send + Sync + 'static,
    P: 'static,
    C: Parts<P>,
{
    fn arity(&self) -> usize {
        self.parts.arity()
    }
    fn shape(&self, i: usize) -> ColumnShape {
        self.parts.shape(i)
    }
    fn encode(&self, value: &F, out: &mut Vec<Value>) -> Result<(), CodecError> {
        self.parts.encode((self.split)(value), out)
    }
    fn decode(&self, values: &mut [Value]) -> Result<F, CodecError> {
        self.parts.decode(values).map(self.join)
    }
    fn encode_key(&self, _: &dyn Any) -> Option<Result<Value, CodecError>> {
        None
    }
}

/// A composite that may be absent: every column NULL is `None`.
pub struct OptionalComposite<C>(C);

impl<F, P, C> Composite<F, P, C> {
    /// The same composite for `Option<F>`; every part column is nullable and
    /// `None` writes NULL to each.
    pub fn optional(self) -> OptionalComposite<Self> {
        OptionalComposite(self)
    }
}

impl<F, C> Codec<Option<F>> for OptionalComposite<C>
where
    F: Send + Sync + 'static,
    C: Codec<F>,
{
    fn arity(&self) -> usize {
        self.0.arity()
    }
    fn shape(&self, i: usize) -> ColumnShape {
        ColumnShape {
            nullable: true,
            ..self.0.shape(i)
        }
    }
    fn encode(&self, value: &Option<F>, out: &mut Vec<Value>) -> Result<(), CodecError> {
        match value {
            Some(v) => self.0.encode(v, out),
            None => {
                out.extend((0..self.0.arity()).map(|_| Value::Null));
                Ok(())
            }
        }
    }
    fn decode(&self, values: &mut [Value]) -> Result<Option<F>, CodecError> {
        if values.iter().all(Value::is_null) {
            return Ok(None);
        }
        self.0.decode(values).map(Some)
    }
    fn encode_key(&self, _: &dyn Any) -> Option<Result<Value, CodecError>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Id(i64);

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Level {
        Low,
        High,
    }

    const LEVEL: TextEnum<Level> =
        text_enum("level", &[(Level::Low, "low"), (Level::High, "high")]);

    #[test]
    fn newtype_keys_accept_the_wrapper_and_the_inner_type() {
        let c = newtype(Id, |i: &Id| i.0).optional();
        assert_eq!(
            ScalarCodec::<Option<Id>>::encode_key_one(&c, &Id(4)),
            Some(Ok(Value::BigInt(4)))
        );
        assert_eq!(
            ScalarCodec::<Option<Id>>::encode_key_one(&c, &4_i64),
            Some(Ok(Value::BigInt(4)))
        );
        assert_eq!(ScalarCodec::<Option<Id>>::encode_key_one(&c, &"4"), None);
        assert!(c.nullable());
    }

    #[test]
    fn enums_name_the_unknown_text() {
        let err = LEVEL.decode_one(Value::from("mid")).unwrap_err();
        assert_eq!(err.message, "`mid` is not a value of enum `level`");
        assert_eq!(err.value_type, Some("string"));
        let err = LEVEL.decode_one(Value::Int(1)).unwrap_err();
        assert_eq!(err.value_type, Some("int"));
        assert_eq!(LEVEL.encode_one(&Level::High), Ok(Value::from("high")));
    }

    #[test]
    fn optional_composites_are_null_in_every_column() {
        let c = composite(|p: &(i64, String)| p.clone(), |p| p)
            .parts((native::<i64>(), native::<String>()))
            .optional();
        let mut out = Vec::new();
        c.encode(&None, &mut out).unwrap();
        assert_eq!(out, [Value::Null, Value::Null]);
        assert_eq!(c.decode(&mut out).unwrap(), None);
        assert!(c.shape(1).nullable);
        let mut some = vec![Value::BigInt(1), Value::from("x")];
        assert_eq!(c.decode(&mut some).unwrap(), Some((1, "x".to_owned())));
    }

    #[cfg(feature = "chrono")]
    #[test]
    fn datetime_codecs_round_trip() {
        type Utc = chrono::DateTime<chrono::Utc>;
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let v = unix_seconds().encode_one(&t).unwrap();
        assert_eq!(
            ScalarCodec::<Utc>::decode_one(&unix_seconds(), v).unwrap(),
            t
        );
        let v = rfc3339().encode_one(&t).unwrap();
        assert_eq!(v, Value::from("2023-11-14T22:13:20.000000Z"));
        assert_eq!(ScalarCodec::<Utc>::decode_one(&rfc3339(), v).unwrap(), t);
        assert!(ScalarCodec::<Utc>::decode_one(&rfc3339(), Value::from("yesterday")).is_err());
    }

    #[cfg(feature = "time")]
    #[test]
    fn time_crate_datetime_codecs_round_trip() {
        let t = ::time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let v = time::unix_seconds().encode_one(&t).unwrap();
        assert_eq!(v, Value::BigInt(1_700_000_000));
        assert_eq!(time::unix_seconds().decode_one(v).unwrap(), t);
        // Written in UTC, whatever the offset.
        let east = t.to_offset(::time::UtcOffset::from_hms(2, 0, 0).unwrap());
        let v = time::rfc3339().encode_one(&east).unwrap();
        assert_eq!(v, Value::from("2023-11-14T22:13:20.000000Z"));
        let back = time::rfc3339().decode_one(v).unwrap();
        assert_eq!(back, t);
        assert!(back.offset().is_utc());
        assert!(time::rfc3339()
            .decode_one(Value::from("yesterday"))
            .is_err());
        assert_eq!(
            native::<::time::Date>().encode_one(&t.date()),
            Ok(Value::TimeDate(t.date()))
        );
        assert_eq!(native::<::time::Date>().sql_type(), SqlType::Date);
    }
}
