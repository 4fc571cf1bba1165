//! `mapping!` and `columns!`: the field accessors of a plain struct,
//! generated outside it (no derive on the domain type).

/// The mapping of a plain struct's fields to columns.
///
/// Each mapped field is `field: RustType = "column"`; fields that are not
/// columns (relationships) are listed after `..` and start as `Default`.
/// The field types must convert into [`Value`](crate::dialects::Value) and
/// back (`From` / `TryFrom`), and name a column type ([`SqlTypeOf`](crate::orm::SqlTypeOf)).
///
/// ```
/// use persistence::mapping;
/// #[derive(Debug, Clone, PartialEq)]
/// struct Worker { id: Option<i64>, name: String, resumes: Vec<String> }
///
/// let spec = mapping!(Worker {
///     id: Option<i64> = "id",
///     name: String = "name",
///     ..{ resumes }
/// });
/// ```
#[macro_export]
macro_rules! mapping {
    ($t:ident { $($field:ident : $ty:ty = $col:literal),+ $(,)? $(.. { $($other:ident),* $(,)? })? }) => {
        $crate::orm::MappingSpec::<$t>::new(
            vec![$($crate::orm::FieldSpec::of::<$ty>(stringify!($field), $col)),+],
            Box::new(|o: &$t| vec![$($crate::dialects::Value::from(o.$field.clone())),+]),
            Box::new(|o: &mut $t, i: usize, v: $crate::dialects::Value| {
                let mut n = 0usize;
                $(
                    if i == n {
                        o.$field = <$ty as ::std::convert::TryFrom<$crate::dialects::Value>>::try_from(v)?;
                        return Ok(());
                    }
                    n += 1;
                )+
                let _ = n;
                Ok(())
            }),
            Box::new(|values: &mut [$crate::dialects::Value]| {
                let mut it = values.iter_mut();
                Ok($t {
                    $($field: $crate::orm::mapper::field_take::<$ty>(it.next())?,)+
                    $($($other: ::std::default::Default::default(),)*)?
                })
            }),
        )
    };
}

/// Typed column handles for a mapped struct, in a module of their own:
/// `worker::name.eq("Vlad")` accepts only what converts into `String`.
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
/// }
/// ```
#[macro_export]
macro_rules! columns {
    ($vis:vis mod $m:ident for $t:ident in $table:literal { $($field:ident : $ty:ty),+ $(,)? }) => {
        #[allow(non_upper_case_globals, dead_code)]
        $vis mod $m {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[doc = concat!("The `", stringify!($field), "` column of `", $table, "`.")]
                pub const $field: $crate::orm::Col<$t, $ty> = $crate::orm::Col::new($table, stringify!($field));
            )+
        }
    };
}

/// Conversions for a field-less enum stored as text (the seed's
/// `Literal["parttime", "fulltime"]`): `From<E> for Value`, `TryFrom<Value>
/// for E`, and its column type (an Enum with these names).
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
