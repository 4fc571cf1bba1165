//! `model!`, `mapping!` and `columns!`: a plain struct's mapping,
//! generated outside it (no derive on the domain type).
//!
//! [`model!`](crate::model) is the one declaration per mapped struct: the
//! table's columns, the field mapping with each field's codec, and typed
//! column handles, each column named once. [`mapping!`](crate::mapping)
//! maps fields onto a table declared elsewhere (SQLAlchemy's
//! `map_imperatively` onto a Core `Table`).

/// The one declaration of a mapped struct: its table, its fields' codecs
/// and column definitions, and typed column handles, in a module of their
/// own (SQLAlchemy's declarative class, written outside the domain type).
///
/// ```text
/// model!(pub mod <module> for <Struct> in "<table>" {
///     <field> [as "<column>"]: <FieldType> [ [<codec>] ] [= <column definition>],
///     <field>: <FieldType> [<composite codec>] { <part>: <PartType> ..., },
///     ..{ <relationship and other unmapped fields> }
/// });
/// ```
///
/// - The column is named after the field unless `as "name"` says otherwise.
/// - Its type and nullability come from the codec: `Option<_>` is
///   nullable, everything else `NOT NULL`; `i64` is `BIGINT`, `String`
///   is `VARCHAR` (or what [`Registry::type_annotation`](crate::orm::Registry::type_annotation)
///   maps it to), a text enum is an enum type.
/// - The codec is [`codec::native`](crate::orm::codec::native) unless one is
///   given in brackets (see [`codec`](crate::orm::codec)); it is an
///   expression evaluated where it is used, so keep it cheap (the ready
///   codecs are plain values).
/// - `= f` adjusts the inferred column: `f` is any
///   `FnOnce(Column) -> Column`, a preset (`presets::intpk`) or a closure
///   (`|c| c.unique()`, `|c| c.of_type(SqlType::string(256))`).
/// - A composite field lists its part columns in braces; its codec is
///   [`codec::composite`](crate::orm::codec::composite) and each part has
///   its own (optional) codec and definition.
/// - Fields after `..` are not columns (relationships); a loaded struct
///   has them `Default`.
///
/// The module holds `model()` (for [`Registry::map`](crate::orm::Registry::map)),
/// `table()` (the Core table, for Core users), `TABLE`, `COLUMNS`, and one
/// typed handle per column, named after its field (or composite part):
/// `worker::name.eq("Vlad")` accepts only what converts into the field's
/// type and binds it through the field's codec. Names `model`, `table`,
/// `TABLE` and `COLUMNS` are taken in the module.
///
/// ```
/// use persistence::orm::{codec, presets, Registry};
/// use persistence::dialects::{Column, ReferentialAction, SqlType};
///
/// #[derive(Debug, Clone, Copy, PartialEq)]
/// pub struct WorkerId(pub i64);
/// #[derive(Debug, Clone, Copy, PartialEq)]
/// pub enum Workload { PartTime, FullTime }
/// #[derive(Debug, Clone)]
/// pub struct Resume {
///     pub id: Option<i64>,
///     pub title: String,
///     pub workload: Workload,
///     pub worker_id: WorkerId,
/// }
///
/// const WORKLOAD: codec::TextEnum<Workload> = codec::text_enum(
///     "workload",
///     &[(Workload::PartTime, "parttime"), (Workload::FullTime, "fulltime")],
/// );
///
/// persistence::model!(pub mod resume for Resume in "resume" {
///     id: Option<i64> = presets::intpk,
///     title: String = |c| c.of_type(SqlType::string(256)),
///     workload: Workload [WORKLOAD],
///     worker_id: WorkerId [codec::newtype(WorkerId, |w: &WorkerId| w.0)]
///         = |c| c.foreign_key("worker.id").on_delete(ReferentialAction::Cascade),
/// });
///
/// fn main() {
///     let table = resume::table();
///     assert_eq!(table.get_column("title").map(Column::sql_type), Some(&SqlType::string(256)));
///     assert!(!table.get_column("worker_id").map_or(true, Column::is_nullable));
///     let by_worker = resume::worker_id.eq(WorkerId(3));    // binds 3
///     assert!(format!("{by_worker:?}").contains("BigInt(3)"));
///     assert_eq!(resume::COLUMNS, ["id", "title", "workload", "worker_id"]);
/// }
/// ```
#[macro_export]
macro_rules! model {
    (
        $(#[$attr:meta])*
        $vis:vis mod $m:ident for $t:ident in $table:literal { $($body:tt)* }
    ) => {
        $crate::__model_munch! {
            [$(#[$attr])* $vis $m $t $table] [] [] [] $($body)*
        }
    };
}

/// `model!`'s field parser: one field at a time into accumulators of
/// `(kind ...)` entries, field names and column names.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_munch {
    // Done.
    ($hdr:tt [$($acc:tt)*] [$($names:ident)*] [$($cols:tt)*] $(,)?) => {
        $crate::__model_emit! { $hdr [$($acc)*] [$($names)*] [$($cols)*] [] }
    };
    // Unmapped fields, last.
    ($hdr:tt [$($acc:tt)*] [$($names:ident)*] [$($cols:tt)*] .. { $($other:ident),* $(,)? } $(,)?) => {
        $crate::__model_emit! { $hdr [$($acc)*] [$($names)*] [$($cols)*] [$($other)*] }
    };
    // A composite field: its codec, then its part columns in braces.
    ($hdr:tt [$($acc:tt)*] [$($names:ident)*] [$($cols:tt)*]
        $(#[$fm:meta])* $field:ident : $fty:ty [$codec:expr] {
            $( $(#[$sm:meta])* $sub:ident $(as $scol:literal)? : $sty:ty $([$scodec:expr])? $(= $sdef:expr)? ),+ $(,)?
        }
        $(, $($rest:tt)*)?
    ) => {
        $crate::__model_munch! {
            $hdr
            [$($acc)* (composite [$(#[$fm])*] $field [$fty] [$codec]
                [$( ([$(#[$sm])*] $sub [$($scol)?] [$sty] [$($scodec)?] [$($sdef)?]) )+])]
            [$($names)* $field]
            [$($cols)* $( ($crate::__model_col!($sub $($scol)?)) )+]
            $($($rest)*)?
        }
    };
    // A field on one column.
    ($hdr:tt [$($acc:tt)*] [$($names:ident)*] [$($cols:tt)*]
        $(#[$fm:meta])* $field:ident $(as $col:literal)? : $fty:ty $([$codec:expr])? $(= $def:expr)?
        $(, $($rest:tt)*)?
    ) => {
        $crate::__model_munch! {
            $hdr
            [$($acc)* (scalar [$(#[$fm])*] $field [$($col)?] [$fty] [$($codec)?] [$($def)?])]
            [$($names)* $field]
            [$($cols)* ($crate::__model_col!($field $($col)?))]
            $($($rest)*)?
        }
    };
}

/// `model!`'s output, from the parsed fields.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_emit {
    (
        [$(#[$attr:meta])* $vis:vis $m:ident $t:ident $table:literal]
        [$($entry:tt)*] [$($name:ident)*] [$($col:tt)*] [$($other:ident)*]
    ) => {
        $(#[$attr])*
        #[doc = ""]
        #[doc = concat!(
            "The mapping of [`", stringify!($t), "`] to table `", $table,
            "` (`model!`): `model()`, `table()` and one typed handle per column."
        )]
        #[allow(non_upper_case_globals, dead_code, unused_imports)]
        $vis mod $m {
            use super::*;

            #[doc = concat!("The table's name: `", $table, "`.")]
            pub const TABLE: &str = $table;

            /// Every mapped column, in column order.
            pub const COLUMNS: &[&str] = &[$($col),*];

            #[doc = concat!("The mapping of [`", stringify!($t), "`] to `", $table, "`, for `Registry::map`.")]
            pub fn model() -> $crate::orm::Model<$t> {
                __model::model()
            }

            /// The table as Core declares it (without a registry's type
            /// annotations).
            pub fn table() -> $crate::dialects::Table {
                model().table()
            }

            $( $crate::__model_handles!($t $table $entry); )*

            #[doc(hidden)]
            mod __model {
                use super::super::*;
                use $crate::orm::codec::{Codec as _, ScalarCodec as _};

                pub fn model() -> $crate::orm::Model<$t> {
                    let mut fields: ::std::vec::Vec<$crate::orm::FieldSpec> = ::std::vec::Vec::new();
                    let mut columns: ::std::vec::Vec<::std::option::Option<$crate::orm::ColumnFn>> =
                        ::std::vec::Vec::new();
                    $( $crate::__model_spec!(fields columns $entry); )*
                    let spec = $crate::orm::MappingSpec::new(
                        fields,
                        ::std::boxed::Box::new(
                            |o: &$t, out: &mut ::std::vec::Vec<$crate::dialects::Value>| {
                                $( $crate::__model_get!(o out $entry); )*
                                Ok(())
                            },
                        ),
                        ::std::boxed::Box::new(
                            |o: &mut $t, values: &mut [$crate::dialects::Value]| {
                                let mut at = 0usize;
                                $( o.$name = $crate::__model_take!(values at $entry); )*
                                let _ = at;
                                Ok(())
                            },
                        ),
                        ::std::boxed::Box::new(|values: &mut [$crate::dialects::Value]| {
                            let mut at = 0usize;
                            let obj = $t {
                                $( $name: $crate::__model_take!(values at $entry), )*
                                $( $other: ::std::default::Default::default(), )*
                            };
                            let _ = at;
                            Ok(obj)
                        }),
                        ::std::boxed::Box::new(|column: usize, key: &dyn ::std::any::Any| {
                            let mut at = 0usize;
                            $( $crate::__model_key!(column key at $entry); )*
                            let _ = at;
                            None
                        }),
                    );
                    $crate::orm::Model::new($table, spec, columns)
                }
            }
        }
    };
}

/// A column's name: the field's, or the one given with `as`.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_col {
    ($field:ident) => {
        stringify!($field)
    };
    ($field:ident $col:literal) => {
        $col
    };
}

/// A field's codec: the one given, or the native one.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_codec {
    ($fty:ty) => {
        $crate::orm::codec::native::<$fty>()
    };
    ($fty:ty, $codec:expr) => {
        $codec
    };
}

/// A column definition adjustment, when one is given.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_def {
    () => {
        ::std::option::Option::None
    };
    ($def:expr) => {
        ::std::option::Option::Some($crate::orm::column_fn($def))
    };
}

/// A composite field's codec, from its functions and its parts' codecs.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_composite {
    ($codec:expr; $( [$sty:ty] [$($scodec:expr)?] )+) => {
        $crate::orm::codec::IntoComposite::with_parts(
            $codec,
            ($( $crate::__model_codec!($sty $(, $scodec)?), )+),
        )
    };
}

/// One field's full codec (composites assembled).
#[doc(hidden)]
#[macro_export]
macro_rules! __model_field_codec {
    ((scalar [$($fm:tt)*] $field:ident [$($col:literal)?] [$fty:ty] [$($codec:expr)?] [$($def:expr)?])) => {
        $crate::orm::codec::Scalar($crate::__model_codec!($fty $(, $codec)?))
    };
    ((composite [$($fm:tt)*] $field:ident [$fty:ty] [$codec:expr]
        [$( ([$($sm:tt)*] $sub:ident [$($scol:literal)?] [$sty:ty] [$($scodec:expr)?] [$($sdef:expr)?]) )+])) => {
        $crate::__model_composite!($codec; $( [$sty] [$($scodec)?] )+)
    };
}

/// Pushes one field's column specs and definitions.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_spec {
    ($fields:ident $columns:ident (scalar [$($fm:tt)*] $field:ident [$($col:literal)?] [$fty:ty] [$($codec:expr)?] [$($def:expr)?])) => {
        $fields.push($crate::orm::FieldSpec::from_codec::<$fty, _>(
            stringify!($field),
            $crate::__model_col!($field $($col)?),
            &$crate::orm::codec::Scalar($crate::__model_codec!($fty $(, $codec)?)),
            0,
        ));
        $columns.push($crate::__model_def!($($def)?));
    };
    ($fields:ident $columns:ident (composite [$($fm:tt)*] $field:ident [$fty:ty] [$codec:expr]
        [$( ([$($sm:tt)*] $sub:ident [$($scol:literal)?] [$sty:ty] [$($scodec:expr)?] [$($sdef:expr)?]) )+])) => {
        {
            let parts = [$($crate::__model_col!($sub $($scol)?)),+];
            let codec = $crate::__model_composite!($codec; $( [$sty] [$($scodec)?] )+);
            for (i, column) in parts.iter().enumerate() {
                $fields.push($crate::orm::FieldSpec::from_codec::<$fty, _>(
                    stringify!($field),
                    column,
                    &codec,
                    i,
                ));
            }
        }
        $( $columns.push($crate::__model_def!($($sdef)?)); )+
    };
}

/// Appends one field's column values.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_get {
    ($o:ident $out:ident (scalar [$($fm:tt)*] $field:ident $($rest:tt)*)) => {
        $crate::__model_get!(@encode $o $out $field (scalar [] $field $($rest)*))
    };
    ($o:ident $out:ident (composite [$($fm:tt)*] $field:ident $($rest:tt)*)) => {
        $crate::__model_get!(@encode $o $out $field (composite [] $field $($rest)*))
    };
    (@encode $o:ident $out:ident $field:ident $entry:tt) => {{
        let at = $out.len();
        $crate::orm::codec::Codec::encode(&$crate::__model_field_codec!($entry), &$o.$field, $out)
            .map_err($crate::orm::FieldError::at(at))?;
    }};
}

/// One field's value, decoded from its columns at `at` (advanced).
#[doc(hidden)]
#[macro_export]
macro_rules! __model_take {
    ($values:ident $at:ident $entry:tt) => {{
        let codec = $crate::__model_field_codec!($entry);
        let n = $crate::orm::codec::Codec::arity(&codec);
        let start = $at;
        $at += n;
        match $values.get_mut(start..start + n) {
            Some(part) => $crate::orm::codec::Codec::decode(&codec, part)
                .map_err($crate::orm::FieldError::at(start))?,
            None => return Err($crate::orm::FieldError::short_row(start)),
        }
    }};
}

/// A key value for the column at `column`, if this field owns it.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_key {
    ($column:ident $key:ident $at:ident $entry:tt) => {{
        let codec = $crate::__model_field_codec!($entry);
        let n = $crate::orm::codec::Codec::arity(&codec);
        if $column >= $at && $column < $at + n {
            return $crate::orm::codec::Codec::encode_key(&codec, $key)
                .map(|r| r.map_err($crate::orm::FieldError::at($at)));
        }
        $at += n;
    }};
}

/// The typed column handles of one parsed field.
#[doc(hidden)]
#[macro_export]
macro_rules! __model_handles {
    ($t:ident $table:literal (scalar [$($fm:tt)*] $field:ident [$($col:literal)?] [$fty:ty] [$($codec:expr)?] [$($def:expr)?])) => {
        $($fm)*
        #[doc = concat!("The `", $crate::__model_col!($field $($col)?), "` column of `", $table, "`.")]
        pub const $field: $crate::orm::Col<$t, $fty> = {
            fn encode(v: &$fty) -> ::std::result::Result<$crate::dialects::Value, $crate::orm::codec::CodecError> {
                $crate::orm::mapper::encode_with(&$crate::__model_codec!($fty $(, $codec)?), v)
            }
            fn ty() -> $crate::dialects::SqlType {
                $crate::orm::mapper::type_of(&$crate::__model_codec!($fty $(, $codec)?))
            }
            $crate::orm::Col::with_codec($table, $crate::__model_col!($field $($col)?), encode).typed(ty)
        };
    };
    ($t:ident $table:literal (composite [$($fm:tt)*] $field:ident [$fty:ty] [$codec:expr]
        [$( ([$($sm:tt)*] $sub:ident [$($scol:literal)?] [$sty:ty] [$($scodec:expr)?] [$($sdef:expr)?]) )+])) => {
        $(
            $($sm)*
            #[doc = concat!("The `", $crate::__model_col!($sub $($scol)?), "` column of `", $table, "` (part of `", stringify!($field), "`).")]
            pub const $sub: $crate::orm::Col<$t, $sty> = {
                fn encode(v: &$sty) -> ::std::result::Result<$crate::dialects::Value, $crate::orm::codec::CodecError> {
                    $crate::orm::mapper::encode_with(&$crate::__model_codec!($sty $(, $scodec)?), v)
                }
                fn ty() -> $crate::dialects::SqlType {
                    $crate::orm::mapper::type_of(&$crate::__model_codec!($sty $(, $scodec)?))
                }
                $crate::orm::Col::with_codec($table, $crate::__model_col!($sub $($scol)?), encode).typed(ty)
            };
        )+
    };
}

/// The mapping of a plain struct's fields onto a table declared elsewhere
/// (SQLAlchemy's `map_imperatively(Model, table)`); see
/// [`model!`](crate::model) for the one declaration that also makes the
/// table.
///
/// Each mapped field is `field: RustType [codec] = "column"` (the codec
/// is optional: [`codec::native`](crate::orm::codec::native) otherwise);
/// fields that are not columns (relationships) are listed after `..` and
/// start as `Default`.
///
/// ```
/// use persistence::{mapping, orm::codec};
/// #[derive(Debug, Clone, PartialEq)]
/// struct WorkerId(i64);
/// #[derive(Debug, Clone, PartialEq)]
/// struct Worker { id: Option<WorkerId>, name: String, resumes: Vec<String> }
///
/// let spec = mapping!(Worker {
///     id: Option<WorkerId> [codec::newtype(WorkerId, |w: &WorkerId| w.0).optional()] = "id",
///     name: String = "name",
///     ..{ resumes }
/// });
/// # use persistence::orm::codec::ScalarCodecExt;
/// ```
#[macro_export]
macro_rules! mapping {
    ($t:ident { $($field:ident : $ty:ty $([$codec:expr])? = $col:literal),+ $(,)? $(.. { $($other:ident),* $(,)? })? }) => {{
        #[allow(unused_imports)]
        use $crate::orm::codec::{Codec as _, ScalarCodec as _};
        $crate::orm::MappingSpec::<$t>::new(
            vec![$($crate::orm::FieldSpec::from_codec::<$ty, _>(
                stringify!($field),
                $col,
                &$crate::orm::codec::Scalar($crate::__model_codec!($ty $(, $codec)?)),
                0,
            )),+],
            Box::new(|o: &$t, out: &mut ::std::vec::Vec<$crate::dialects::Value>| {
                $($crate::__model_get!(o out (scalar [] $field [] [$ty] [$($codec)?] []));)+
                Ok(())
            }),
            Box::new(|o: &mut $t, values: &mut [$crate::dialects::Value]| {
                let mut at = 0usize;
                $( o.$field = $crate::__model_take!(values at (scalar [] $field [] [$ty] [$($codec)?] [])); )+
                let _ = at;
                Ok(())
            }),
            Box::new(|values: &mut [$crate::dialects::Value]| {
                let mut at = 0usize;
                let obj = $t {
                    $($field: $crate::__model_take!(values at (scalar [] $field [] [$ty] [$($codec)?] [])),)+
                    $($($other: ::std::default::Default::default(),)*)?
                };
                let _ = at;
                Ok(obj)
            }),
            Box::new(|column: usize, key: &dyn ::std::any::Any| {
                let mut at = 0usize;
                $($crate::__model_key!(column key at (scalar [] $field [] [$ty] [$($codec)?] []));)+
                let _ = at;
                None
            }),
        )
    }};
}

/// Typed column handles for a struct mapped with [`mapping!`], in a
/// module of their own: `worker::name.eq("Vlad")` accepts only what
/// converts into `String`. The module's `COLUMNS` lists them; pass it to
/// [`MapperBuilder::handles`](crate::orm::MapperBuilder::handles) so that
/// `configure()` checks each names a mapped column.
///
/// ```
/// pub struct Worker;
/// persistence::columns!(pub mod worker for Worker in "worker" {
///     id: i64,
///     name: String,
/// });
///
/// fn main() {
///     let cond = worker::name.eq("Vlad");
///     assert!(format!("{cond:?}").contains("Vlad"));
///     assert_eq!(worker::COLUMNS, ["id", "name"]);
/// }
/// ```
#[macro_export]
macro_rules! columns {
    ($vis:vis mod $m:ident for $t:ident in $table:literal { $($field:ident : $ty:ty),+ $(,)? }) => {
        #[allow(non_upper_case_globals, dead_code)]
        $vis mod $m {
            #[allow(unused_imports)]
            use super::*;
            /// Every handle's column, for `MapperBuilder::handles`.
            pub const COLUMNS: &[&str] = &[$(stringify!($field)),+];
            $(
                #[doc = concat!("The `", stringify!($field), "` column of `", $table, "`.")]
                pub const $field: $crate::orm::Col<$t, $ty> = $crate::orm::Col::new($table, stringify!($field));
            )+
        }
    };
}

/// Conversions for a field-less enum stored as text, for an enum defined
/// in the mapping's own crate: `From<E> for Value`, `TryFrom<Value> for E`,
/// and its column type. An enum from another crate (a domain crate)
/// cannot take these impls (the orphan rule): map it with
/// [`codec::text_enum`](crate::orm::codec::text_enum) instead.
///
/// ```
/// #[derive(Debug, Clone, Copy, PartialEq)]
/// enum Workload { PartTime, FullTime }
/// persistence::text_enum!(Workload as "workload" { PartTime = "parttime", FullTime = "fulltime" });
/// let v: persistence::dialects::Value = Workload::FullTime.into();
/// assert_eq!(v, persistence::dialects::Value::from("fulltime"));
/// ```
#[macro_export]
macro_rules! text_enum {
    ($t:ident as $name:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl ::std::convert::From<$t> for $crate::dialects::Value {
            fn from(v: $t) -> Self {
                $crate::dialects::Value::from(match v { $($t::$variant => $text),+ })
            }
        }
        impl ::std::convert::TryFrom<$crate::dialects::Value> for $t {
            type Error = $crate::dialects::ValueError;
            fn try_from(v: $crate::dialects::Value) -> ::std::result::Result<Self, Self::Error> {
                match v.as_str() {
                    $(Some($text) => Ok($t::$variant),)+
                    _ => Err($crate::dialects::ValueError { expected: stringify!($t), found: v.type_name() }),
                }
            }
        }
        impl $crate::orm::SqlTypeOf for $t {
            fn sql_type() -> $crate::dialects::SqlType {
                $crate::dialects::SqlType::enumeration($name, [$($text),+])
            }
        }
    };
}
