//! The registry: every mapping of plain structs to tables, validated once
//! by [`Registry::configure`] (SQLAlchemy's `registry` and `start_mappers()`).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use dialects::{Column, Index, MetaData, SqlType, Table, UniqueConstraint, Value};

use super::accessor::RelAccess;
use super::canon::Canon;
use super::codec::Codec;
use super::identity::FastMap;
use super::mapper::{BuildFn, GetFn, KeyFn, Mapper, MapperInfo, SqlTypeOf, WriteFn};
use super::relationship::{RelationKind, RelationshipDef, RelationshipInfo, Resolved};
use crate::error::Error;

/// One mapped column: the field it belongs to, its name, and what the
/// field's codec writes into it.
#[derive(Debug, Clone)]
pub struct FieldSpec {
    /// The struct field (a composite field owns several columns).
    pub field: &'static str,
    /// The column it maps to.
    pub column: &'static str,
    /// The field's Rust type, for messages.
    pub rust_type: &'static str,
    /// The column type the codec writes (what a table inferred from the
    /// mapping declares; an explicit table's column must fit it).
    pub sql_type: SqlType,
    /// Whether the codec writes NULL (an `Option` field).
    pub nullable: bool,
}

impl FieldSpec {
    /// The spec of field `field: R` mapped to `column` through `R`'s
    /// native codec.
    pub fn of<R: SqlTypeOf + 'static>(field: &'static str, column: &'static str) -> Self {
        FieldSpec {
            field,
            column,
            rust_type: std::any::type_name::<R>(),
            sql_type: R::sql_type(),
            nullable: R::nullable(),
        }
    }

    /// The spec of the `i`-th column that `codec` writes for field
    /// `field: F`.
    pub fn from_codec<F, C: Codec<F>>(
        field: &'static str,
        column: &'static str,
        codec: &C,
        i: usize,
    ) -> Self {
        let shape = codec.shape(i);
        FieldSpec {
            field,
            column,
            rust_type: std::any::type_name::<F>(),
            sql_type: shape.sql_type,
            nullable: shape.nullable,
        }
    }
}

/// Everything [`mapping!`](crate::mapping) or [`model!`](crate::model)
/// generates for a struct: its columns and the closures that read,
/// write and build it through the fields' codecs.
pub struct MappingSpec<T> {
    pub(crate) fields: Vec<FieldSpec>,
    pub(crate) get: GetFn<T>,
    pub(crate) write: WriteFn<T>,
    pub(crate) build: BuildFn<T>,
    pub(crate) key: KeyFn,
}

impl<T> MappingSpec<T> {
    /// A spec from its parts (what the macros call).
    pub fn new(
        fields: Vec<FieldSpec>,
        get: GetFn<T>,
        write: WriteFn<T>,
        build: BuildFn<T>,
        key: KeyFn,
    ) -> Self {
        MappingSpec {
            fields,
            get,
            write,
            build,
            key,
        }
    }
}

/// Adjusts an inferred column (a preset, or a closure in a
/// [`model!`](crate::model) declaration).
pub type ColumnFn = Box<dyn FnOnce(Column) -> Column>;

/// Boxes a column adjustment (what [`model!`](crate::model) calls for
/// `= ...`).
#[doc(hidden)]
pub fn column_fn(f: impl FnOnce(Column) -> Column + 'static) -> ColumnFn {
    Box::new(f)
}

/// The one declaration of a mapped struct, as [`model!`](crate::model)
/// makes it: the table's name and columns, and the field mapping. Give it
/// to [`Registry::map`], or take its Core [`Table`] with
/// [`Model::table`].
pub struct Model<T> {
    table: &'static str,
    spec: MappingSpec<T>,
    columns: Vec<Option<ColumnFn>>,
}

impl<T> Model<T> {
    /// A model from its parts (what [`model!`](crate::model) calls):
    /// `columns` holds one optional adjustment per column of `spec`.
    pub fn new(table: &'static str, spec: MappingSpec<T>, columns: Vec<Option<ColumnFn>>) -> Self {
        Model {
            table,
            spec,
            columns,
        }
    }

    /// The table's name.
    pub fn table_name(&self) -> &'static str {
        self.table
    }

    /// The table the declaration describes, as Core sees it (without a
    /// registry's type annotations).
    pub fn table(self) -> Table {
        let mut errors = Vec::new();
        inferred_table::<T>(
            self.table,
            &self.spec.fields,
            self.columns,
            Vec::new(),
            &HashMap::new(),
            &mut errors,
        )
    }
}

/// The table inferred from a mapping's columns: each column's type and
/// nullability from its codec (with `type_map` applied), then its own
/// adjustment, then the builder's `.column(name, ...)` adjustments.
fn inferred_table<T>(
    name: &str,
    fields: &[FieldSpec],
    columns: Vec<Option<ColumnFn>>,
    mut customize: Vec<(String, ColumnFn)>,
    type_map: &HashMap<SqlType, SqlType>,
    errors: &mut Vec<Error>,
) -> Table {
    let mut table = Table::new(name);
    let mut adjust = columns.into_iter();
    for f in fields {
        let ty = type_map
            .get(&f.sql_type)
            .cloned()
            .unwrap_or_else(|| f.sql_type.clone());
        let mut c = Column::new(f.column, ty).nullable(f.nullable);
        if let Some(Some(g)) = adjust.next() {
            c = g(c);
        }
        while let Some(pos) = customize.iter().position(|(n, _)| n == f.column) {
            let (_, g) = customize.remove(pos);
            c = g(c);
        }
        if c.is_primary_key() {
            // `Option<_>` keys are None until generated, never NULL.
            c = c.nullable(false);
        }
        table = table.column(c);
    }
    for (col, _) in customize {
        errors.push(Error::Mapping {
            type_name: std::any::type_name::<T>(),
            field: col,
            message: "no mapped field has this column".into(),
        });
    }
    table
}

/// Reusable column configurations (the seed's `intpk`, `created_at`,
/// `updated_at` annotated types).
pub mod presets {
    use dialects::{func, Column};

    /// An integer primary key the server generates.
    pub fn intpk(c: Column) -> Column {
        c.primary_key().autoincrement(true)
    }

    /// A timestamp the server fills with the UTC time on insert.
    pub fn created_at(c: Column) -> Column {
        c.server_default(func::utc_now()).not_null()
    }

    /// A timestamp filled by the server on insert and by the ORM on every
    /// update (with chrono's clock, or the `time` crate's without chrono).
    #[cfg(any(feature = "chrono", feature = "time"))]
    pub fn updated_at(c: Column) -> Column {
        c.server_default(func::utc_now())
            .not_null()
            .onupdate(super::now_utc)
    }
}

/// The current UTC time as a timestamp without time zone.
#[cfg(feature = "chrono")]
fn now_utc() -> Value {
    Value::DateTime(chrono::Utc::now().naive_utc())
}

/// The current UTC time as a timestamp without time zone.
#[cfg(all(feature = "time", not(feature = "chrono")))]
fn now_utc() -> Value {
    let now = time::OffsetDateTime::now_utc();
    Value::TimePrimitiveDateTime(time::PrimitiveDateTime::new(now.date(), now.time()))
}

enum TableSource {
    Explicit(Table),
    Inferred {
        name: String,
        columns: Vec<Option<ColumnFn>>,
        customize: Vec<(String, ColumnFn)>,
        indexes: Vec<Index>,
        uniques: Vec<UniqueConstraint>,
    },
}

/// What a [`MapperBuilder`] collects before [`finish`](MapperBuilder::finish).
struct BuilderState<T> {
    table: TableSource,
    spec: MappingSpec<T>,
    version: Option<String>,
    handles: Vec<&'static str>,
    deferred: Vec<String>,
}

/// Builds one mapping; [`MapperBuilder::finish`] adds it to the registry.
/// A builder dropped without `finish()` makes
/// [`Registry::configure`] fail, naming the struct.
#[must_use = "a mapping is added to the registry by `.finish()`"]
pub struct MapperBuilder<'r, T> {
    registry: &'r mut Registry,
    state: Option<BuilderState<T>>,
}

impl<T> Drop for MapperBuilder<'_, T> {
    fn drop(&mut self) {
        if self.state.is_some() {
            self.registry.errors.push(Error::Mapping {
                type_name: std::any::type_name::<T>(),
                field: "(mapping)".into(),
                message: "the mapper builder was dropped without `.finish()`".into(),
            });
        }
    }
}

impl<T: Send + Sync + 'static> MapperBuilder<'_, T> {
    fn state(&mut self) -> Option<&mut BuilderState<T>> {
        self.state.as_mut()
    }

    /// Uses `column` as an optimistic-concurrency version counter: every
    /// UPDATE increments it and requires the old value, else `StaleData`.
    pub fn version(mut self, column: &str) -> Self {
        if let Some(s) = self.state() {
            s.version = Some(column.to_owned());
        }
        self
    }

    /// Defers these fields in every load of `T` (SQLAlchemy's
    /// `deferred()` column property): selects write `NULL` in their place
    /// and the fields read `None` until
    /// [`Session::load_deferred`](super::Session::load_deferred), or a
    /// select that [`undefer`](super::Select::undefer)s them. Each must be
    /// an `Option` field and not part of the primary key or the version
    /// (checked at `configure()`); see [`deferred`](super::deferred).
    pub fn deferred(mut self, fields: &[&str]) -> Self {
        if let Some(s) = self.state() {
            s.deferred.extend(fields.iter().map(|f| (*f).to_owned()));
        }
        self
    }

    /// Adds a relationship (SQLAlchemy's `properties={"posts": relationship(...)}`),
    /// and its backref when the definition has one.
    pub fn relationship(self, def: RelationshipDef<T>) -> Self {
        let forward = def.access;
        if let Some(back) = def.backref {
            let (owner, access) = back(forward.info());
            self.registry.relationships.push((owner, access));
        }
        self.registry
            .relationships
            .push((TypeId::of::<T>(), forward));
        self
    }

    /// Inferred tables ([`Registry::map`], [`Registry::map_declarative`]):
    /// adjusts the column `column` (`presets::intpk`, `.unique()`, a
    /// server default, ...).
    pub fn column(mut self, column: &str, f: impl FnOnce(Column) -> Column + 'static) -> Self {
        if let Some(BuilderState {
            table: TableSource::Inferred { customize, .. },
            ..
        }) = self.state()
        {
            customize.push((column.to_owned(), Box::new(f)));
        }
        self
    }

    /// Inferred tables: adds an index (the seed's `__table_args__`).
    pub fn index(mut self, index: Index) -> Self {
        if let Some(BuilderState {
            table: TableSource::Inferred { indexes, .. },
            ..
        }) = self.state()
        {
            indexes.push(index);
        }
        self
    }

    /// Inferred tables: adds a unique constraint over columns
    /// (`UniqueConstraint::new([post::publisher_id.name(), post::title.name()])`).
    pub fn unique(mut self, constraint: UniqueConstraint) -> Self {
        if let Some(BuilderState {
            table: TableSource::Inferred { uniques, .. },
            ..
        }) = self.state()
        {
            uniques.push(constraint);
        }
        self
    }

    /// Names columns that typed handles (a [`columns!`](crate::columns)
    /// module's `COLUMNS`) refer to; `configure()` fails for one that the
    /// mapping does not map.
    pub fn handles(mut self, columns: &[&'static str]) -> Self {
        if let Some(s) = self.state() {
            s.handles.extend_from_slice(columns);
        }
        self
    }

    /// Adds the mapping (and an inferred table) to the registry.
    pub fn finish(mut self) -> Table {
        let Some(state) = self.state.take() else {
            return Table::new("");
        };
        let registry = &mut *self.registry;
        let table = match state.table {
            TableSource::Explicit(t) => t,
            TableSource::Inferred {
                name,
                columns,
                customize,
                indexes,
                uniques,
            } => {
                let mut t = inferred_table::<T>(
                    &name,
                    &state.spec.fields,
                    columns,
                    customize,
                    &registry.type_map,
                    &mut registry.errors,
                );
                for i in indexes {
                    t = t.index(i);
                }
                for u in uniques {
                    t = t.unique(u);
                }
                t
            }
        };
        let table = registry.metadata.add(table);
        registry.pending.push(Box::new(Pending {
            table: table.clone(),
            spec: state.spec,
            version: state.version,
            handles: state.handles,
            deferred: state.deferred,
        }));
        table
    }
}

struct Pending<T> {
    table: Table,
    spec: MappingSpec<T>,
    version: Option<String>,
    handles: Vec<&'static str>,
    deferred: Vec<String>,
}

trait PendingMapping {
    fn mapped_type(&self) -> TypeId;
    fn build(self: Box<Self>) -> Result<(Arc<MapperInfo>, Arc<dyn Any + Send + Sync>), Error>;
}

impl<T: Send + Sync + 'static> PendingMapping for Pending<T> {
    fn mapped_type(&self) -> TypeId {
        TypeId::of::<T>()
    }

    fn build(self: Box<Self>) -> Result<(Arc<MapperInfo>, Arc<dyn Any + Send + Sync>), Error> {
        let type_name = std::any::type_name::<T>();
        let err = |field: &str, message: String| Error::Mapping {
            type_name,
            field: field.to_owned(),
            message,
        };
        let table = self.table;
        let mut seen_columns = Vec::new();
        let mut last_field = None;
        let mut seen_fields = Vec::new();
        for f in &self.spec.fields {
            // A composite field's columns come one after another.
            if last_field != Some(f.field) {
                if seen_fields.contains(&f.field) {
                    return Err(err(f.field, "field is mapped twice".into()));
                }
                seen_fields.push(f.field);
                last_field = Some(f.field);
            }
            if seen_columns.contains(&f.column) {
                return Err(err(
                    f.field,
                    format!("column `{}` is mapped by two fields", f.column),
                ));
            }
            seen_columns.push(f.column);
            let Some(col) = table.get_column(f.column) else {
                return Err(err(
                    f.field,
                    format!("table `{}` has no column `{}`", table.name(), f.column),
                ));
            };
            if let Some(why) = misfit(f, col) {
                return Err(err(
                    f.field,
                    format!(
                        "Rust type `{}` cannot hold every value of column `{}` ({:?}{}): {why}",
                        f.rust_type,
                        f.column,
                        col.sql_type(),
                        if col.is_nullable() {
                            ", NULL"
                        } else {
                            ", NOT NULL"
                        },
                    ),
                ));
            }
        }
        for h in &self.handles {
            if !seen_columns.contains(h) {
                return Err(err(
                    h,
                    format!(
                        "a typed column handle names `{h}`, which `{}` does not map",
                        table.name()
                    ),
                ));
            }
        }
        let columns: Vec<String> = self
            .spec
            .fields
            .iter()
            .map(|f| f.column.to_owned())
            .collect();
        let pk: Vec<usize> = table
            .primary_key()
            .map(|c| columns.iter().position(|m| m == c.name()))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                err(
                    "(primary key)",
                    "not every primary key column is mapped".into(),
                )
            })?;
        if pk.is_empty() {
            return Err(err(
                "(primary key)",
                format!("table `{}` has no primary key", table.name()),
            ));
        }
        let version = match &self.version {
            Some(v) => Some(
                columns
                    .iter()
                    .position(|c| c == v)
                    .ok_or_else(|| err(v, "the version column is not mapped".into()))?,
            ),
            None => None,
        };
        let mut defaults = Vec::new();
        let mut onupdate = Vec::new();
        let mut canon = Vec::new();
        let mut server_generated = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            let col = table
                .get_column(c)
                .ok_or_else(|| err(c, "unknown column".into()))?;
            canon.push(Canon::of(col.sql_type()));
            defaults.push(col.get_default().cloned());
            onupdate.push(col.get_onupdate().cloned());
            if col.get_server_default().is_some()
                || dialects::compiler::is_autoincrement(&table, col)
            {
                server_generated.push(i);
            }
        }
        let mut deferred = Vec::new();
        for name in &self.deferred {
            let at: Vec<usize> = (0..columns.len())
                .filter(|&i| self.spec.fields[i].field == name.as_str() || columns[i] == *name)
                .collect();
            if at.is_empty() {
                return Err(err(name, "a deferred field that is not mapped".into()));
            }
            for i in at {
                if pk.contains(&i) || version == Some(i) {
                    return Err(err(
                        name,
                        "a primary key or version column cannot be deferred".into(),
                    ));
                }
                if !self.spec.fields[i].nullable {
                    return Err(err(
                        name,
                        "only an `Option` field can be deferred (it reads `None` until loaded)"
                            .into(),
                    ));
                }
                if !deferred.contains(&i) {
                    deferred.push(i);
                }
            }
        }
        deferred.sort_unstable();
        let info = Arc::new(MapperInfo {
            type_id: TypeId::of::<T>(),
            type_name,
            table,
            fields: self.spec.fields.iter().map(|f| f.field).collect(),
            nullable: self.spec.fields.iter().map(|f| f.nullable).collect(),
            deferred,
            load_cache: OnceLock::new(),
            canon,
            columns,
            pk,
            version,
            defaults,
            onupdate,
            server_generated,
            select_cache: OnceLock::new(),
            get_first: OnceLock::new(),
            get_cache: std::sync::Mutex::new(Vec::new()),
            insert_cache: std::sync::Mutex::new(std::collections::HashMap::new()),
        });
        let mapper: Arc<dyn Any + Send + Sync> = Arc::new(Mapper {
            info: info.clone(),
            get: self.spec.get,
            write: self.spec.write,
            build: self.spec.build,
            key: self.spec.key,
        });
        Ok((info, mapper))
    }
}

/// Why a field whose codec writes `field` cannot hold every value of
/// `column`, or `None` when it can (lossless widenings are fine: an `i64`
/// field on an INTEGER column, an `Option` field on a NOT NULL column).
fn misfit(field: &FieldSpec, column: &Column) -> Option<&'static str> {
    use SqlType as S;
    if column.is_nullable() && !column.is_primary_key() && !field.nullable {
        return Some("the column accepts NULL; make the field an `Option` or the column NOT NULL");
    }
    let int_rank = |t: &SqlType| match t {
        S::SmallInteger => Some(1),
        S::Integer => Some(2),
        S::BigInteger => Some(3),
        _ => None,
    };
    let text = |t: &SqlType| matches!(t, S::String(_) | S::Text | S::Enum { .. });
    let (f, c) = (&field.sql_type, column.sql_type());
    if let (Some(fr), Some(cr)) = (int_rank(f), int_rank(c)) {
        return (fr < cr).then_some("the field's integer type is narrower than the column's");
    }
    let fits = match (f, c) {
        (S::Float | S::Double, S::Float) | (S::Double, S::Double) => true,
        (S::Float, S::Double) => {
            return Some("an `f32` field cannot hold a DOUBLE column's values; use `f64`")
        }
        (S::Numeric(..), S::Numeric(..)) => true,
        // An enum codec on a text column reads unknown text as a typed error.
        (S::Enum { variants: fv, .. }, S::Enum { variants: cv, .. }) => {
            return cv
                .iter()
                .any(|v| !fv.contains(v))
                .then_some("the column's enum has values the field's enum does not");
        }
        (f, c) if text(f) && text(c) => true,
        (S::Boolean, S::Boolean)
        | (S::Date, S::Date)
        | (S::Time, S::Time)
        | (S::DateTime { .. }, S::DateTime { .. })
        | (S::Uuid, S::Uuid)
        | (S::Json, S::Json)
        | (S::Binary(_), S::Binary(_)) => true,
        _ => false,
    };
    (!fits).then_some("the types differ")
}

/// Every foreign key, unique constraint and index of the registry's tables
/// names columns that exist (a misspelled `foreign_key("wroker.id")` fails
/// here, not in the database).
fn check_tables(
    metadata: &MetaData,
    infos: &FastMap<TypeId, Arc<MapperInfo>>,
) -> Result<(), Error> {
    for t in metadata.tables() {
        let owner = infos
            .values()
            .find(|i| i.table.name() == t.name())
            .map_or("(association table)", |i| i.type_name);
        let err = |field: &str, message: String| Error::Mapping {
            type_name: owner,
            field: field.to_owned(),
            message,
        };
        for fk in t.foreign_keys() {
            let Some(target) = metadata.table(&fk.ref_table) else {
                return Err(err(
                    &fk.columns.join(", "),
                    format!(
                        "the foreign key of `{}` refers to table `{}`, which the registry does not have",
                        t.name(),
                        fk.ref_table
                    ),
                ));
            };
            for c in &fk.ref_columns {
                if target.get_column(c).is_none() {
                    return Err(err(
                        &fk.columns.join(", "),
                        format!(
                            "the foreign key of `{}` refers to `{}.{c}`, which does not exist",
                            t.name(),
                            fk.ref_table
                        ),
                    ));
                }
            }
        }
        let mut named: Vec<String> = t
            .unique_constraints()
            .iter()
            .flat_map(|u| u.columns.clone())
            .collect();
        named.extend(t.indexes().into_iter().flat_map(|i| i.columns));
        for c in named {
            if t.get_column(&c).is_none() {
                return Err(err(
                    &c,
                    format!(
                        "a unique constraint or index of `{}` names a column it does not have",
                        t.name()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Mappings of plain structs to tables. Build it at start-up, then
/// [`configure`](Registry::configure) it once and share the result.
#[derive(Default)]
pub struct Registry {
    metadata: MetaData,
    type_map: HashMap<SqlType, SqlType>,
    pending: Vec<Box<dyn PendingMapping>>,
    relationships: Vec<(TypeId, Arc<dyn RelAccess>)>,
    errors: Vec<Error>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tables of every mapping (for `create_all`).
    pub fn metadata(&self) -> &MetaData {
        &self.metadata
    }

    /// Adds a table that no struct maps (an association table).
    pub fn add_table(&mut self, table: Table) -> Table {
        self.metadata.add(table)
    }

    /// Overrides the column type inferred for fields of Rust type `R`
    /// (the seed's `type_annotation_map`, e.g. `String` as `String(256)`):
    /// every inferred column of the type `R` maps to gets `ty` instead
    /// (so `Option<String>` and a newtype over `String` too).
    pub fn type_annotation<R: SqlTypeOf>(&mut self, ty: SqlType) -> &mut Self {
        self.type_map.insert(R::sql_type(), ty);
        self
    }

    fn builder<T>(&mut self, table: TableSource, spec: MappingSpec<T>) -> MapperBuilder<'_, T> {
        MapperBuilder {
            registry: self,
            state: Some(BuilderState {
                table,
                spec,
                version: None,
                handles: Vec::new(),
                deferred: Vec::new(),
            }),
        }
    }

    /// Maps `T` as its one declaration says (a [`model!`](crate::model)
    /// module's `model()`): the table with its columns, and the fields.
    ///
    /// ```
    /// use persistence::orm::{presets, Registry};
    /// #[derive(Debug, Clone)]
    /// pub struct Tag { pub id: Option<i64>, pub name: String }
    /// persistence::model!(pub mod tag for Tag in "tag" {
    ///     id: Option<i64> = presets::intpk,
    ///     name: String = |c| c.unique(),
    /// });
    ///
    /// fn main() -> Result<(), persistence::Error> {
    ///     let mut registry = Registry::new();
    ///     registry.map(tag::model()).finish();
    ///     let mappers = registry.configure()?;
    ///     assert!(mappers.metadata().table("tag").is_some());
    ///     Ok(())
    /// }
    /// ```
    pub fn map<T: Send + Sync + 'static>(&mut self, model: Model<T>) -> MapperBuilder<'_, T> {
        let Model {
            table,
            spec,
            columns,
        } = model;
        self.builder(
            TableSource::Inferred {
                name: table.to_owned(),
                columns,
                customize: Vec::new(),
                indexes: Vec::new(),
                uniques: Vec::new(),
            },
            spec,
        )
    }

    /// Maps `T` onto an explicit table (SQLAlchemy's `map_imperatively`, or a
    /// declarative class with `__table__`).
    pub fn map_imperatively<T: Send + Sync + 'static>(
        &mut self,
        table: &Table,
        spec: MappingSpec<T>,
    ) -> MapperBuilder<'_, T> {
        self.builder(TableSource::Explicit(table.clone()), spec)
    }

    /// Maps `T` onto a table named `table` whose columns are inferred from
    /// the fields' codecs (the seed's declarative `Mapped[...]`), adjusted
    /// with [`MapperBuilder::column`].
    pub fn map_declarative<T: Send + Sync + 'static>(
        &mut self,
        table: &str,
        spec: MappingSpec<T>,
    ) -> MapperBuilder<'_, T> {
        self.builder(
            TableSource::Inferred {
                name: table.to_owned(),
                columns: Vec::new(),
                customize: Vec::new(),
                indexes: Vec::new(),
                uniques: Vec::new(),
            },
            spec,
        )
    }

    /// Validates every mapping: an unknown column, a type mismatch, a
    /// missing primary key or a field mapped twice is [`Error::Mapping`]
    /// naming the struct and the field.
    pub fn configure(mut self) -> Result<Mappers, Error> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        let mut infos = FastMap::default();
        let mut mappers = FastMap::default();
        for p in self.pending.drain(..) {
            let ty = p.mapped_type();
            let (info, mapper) = p.build()?;
            infos.insert(ty, info);
            mappers.insert(ty, mapper);
        }
        check_tables(&self.metadata, &infos)?;
        self.metadata.sorted_tables()?;
        let mut relationships: FastMap<TypeId, Vec<Arc<dyn RelAccess>>> = FastMap::default();
        for (owner, access) in self.relationships {
            let info = access.info();
            let owner_info = infos.get(&owner).ok_or(Error::UnmappedType {
                type_name: "(relationship owner)",
            })?;
            let target_info = infos.get(&info.target).ok_or(Error::UnmappedType {
                type_name: info.target_name,
            })?;
            let resolved = resolve(info, owner_info, target_info)?;
            let _ = info.resolved.set(resolved);
            let list = relationships.entry(owner).or_default();
            if list.iter().any(|r| r.info().name == info.name) {
                return Err(Error::Mapping {
                    type_name: owner_info.type_name,
                    field: info.name.to_owned(),
                    message: "relationship declared twice".into(),
                });
            }
            list.push(access);
        }
        // What relationship loading reads of an owner's values: its key,
        // and the columns its relationships join on.
        // (A many-to-one also reads the referred column of its target.)
        let mut loader_fields: FastMap<TypeId, Vec<usize>> = infos
            .iter()
            .map(|(ty, info)| (*ty, info.pk.clone()))
            .collect();
        for list in relationships.values() {
            for access in list {
                let rel = access.info();
                let Ok(r) = rel.resolved() else {
                    continue;
                };
                let mut read = vec![(rel.owner, &r.referred)];
                if rel.kind == RelationKind::ManyToOne {
                    read = vec![(rel.owner, &r.fk), (rel.target, &r.referred)];
                }
                for (ty, column) in read {
                    let at = infos.get(&ty).and_then(|i| i.position(column));
                    if let (Some(at), Some(fields)) = (at, loader_fields.get_mut(&ty)) {
                        if !fields.contains(&at) {
                            fields.push(at);
                        }
                    }
                }
            }
        }
        Ok(Mappers {
            inner: Arc::new(MappersInner {
                metadata: self.metadata,
                infos,
                mappers,
                relationships,
                loader_fields,
            }),
        })
    }
}

struct MappersInner {
    metadata: MetaData,
    infos: FastMap<TypeId, Arc<MapperInfo>>,
    mappers: FastMap<TypeId, Arc<dyn Any + Send + Sync>>,
    relationships: FastMap<TypeId, Vec<Arc<dyn RelAccess>>>,
    /// Per mapper, the fields relationship loading reads.
    loader_fields: FastMap<TypeId, Vec<usize>>,
}

/// A configured registry: cheap to clone, shared by every session.
#[derive(Clone)]
pub struct Mappers {
    inner: Arc<MappersInner>,
}

impl std::fmt::Debug for Mappers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mappers")
            .field(
                "mapped",
                &self
                    .inner
                    .infos
                    .values()
                    .map(|i| i.type_name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Mappers {
    /// Every mapped table (for `create_all` / `drop_all`).
    pub fn metadata(&self) -> &MetaData {
        &self.inner.metadata
    }

    /// The mapper of `T`.
    pub fn mapper<T: 'static>(&self) -> Result<&Mapper<T>, Error> {
        self.inner
            .mappers
            .get(&TypeId::of::<T>())
            .and_then(|m| m.downcast_ref::<Mapper<T>>())
            .ok_or(Error::UnmappedType {
                type_name: std::any::type_name::<T>(),
            })
    }

    /// The untyped description of the mapper for type `ty`.
    pub fn info(&self, ty: TypeId) -> Option<&Arc<MapperInfo>> {
        self.inner.infos.get(&ty)
    }

    /// The relationship `name` of `T`.
    pub(crate) fn relationship<T: 'static>(&self, name: &str) -> Result<Arc<dyn RelAccess>, Error> {
        self.relationships_of(TypeId::of::<T>())
            .iter()
            .find(|r| r.info().name == name)
            .cloned()
            .ok_or_else(|| Error::Mapping {
                type_name: std::any::type_name::<T>(),
                field: name.to_owned(),
                message: "no relationship of this name".into(),
            })
    }

    /// The values relationship loaders read of an object of mapper `ty`:
    /// its key and the columns its relationships join on, the other
    /// fields NULL (cheaper to keep than a copy of every value).
    pub(crate) fn loader_values(&self, ty: TypeId, values: &[Value]) -> Vec<Value> {
        let mut out = vec![Value::Null; values.len()];
        match self.inner.loader_fields.get(&ty) {
            Some(fields) => {
                for &i in fields {
                    if let (Some(o), Some(v)) = (out.get_mut(i), values.get(i)) {
                        *o = v.clone();
                    }
                }
            }
            None => out.clone_from_slice(values),
        }
        out
    }

    /// Every relationship of the mapper of `ty`.
    pub(crate) fn relationships_of(&self, ty: TypeId) -> &[Arc<dyn RelAccess>] {
        self.inner.relationships.get(&ty).map_or(&[], Vec::as_slice)
    }

    /// The relationship named `name` of `T`, described.
    pub fn relationship_info<T: 'static>(&self, name: &str) -> Option<Arc<RelationshipInfo>> {
        self.relationship::<T>(name).ok().map(|r| r.info().clone())
    }

    /// The mapper of table `name`, if some struct maps it.
    pub fn info_for_table(&self, name: &str) -> Option<&Arc<MapperInfo>> {
        self.inner.infos.values().find(|i| i.table.name() == name)
    }
}

/// Finds the columns a relationship joins on: the one foreign key between
/// the two tables (or the named one); none or several is an error naming
/// the struct and the relationship.
fn resolve(
    rel: &RelationshipInfo,
    owner: &MapperInfo,
    target: &MapperInfo,
) -> Result<Resolved, Error> {
    let err = |message: String| Error::Mapping {
        type_name: owner.type_name,
        field: rel.name.to_owned(),
        message,
    };
    let pick = |from: &Table, to: &Table| -> Result<(String, String), Error> {
        let candidates: Vec<(String, String)> = from
            .foreign_keys()
            .into_iter()
            .filter(|fk| fk.ref_table == to.name() && fk.columns.len() == 1)
            .filter(|fk| rel.foreign_key.as_ref().is_none_or(|n| &fk.columns[0] == n))
            .map(|fk| (fk.columns[0].clone(), fk.ref_columns[0].clone()))
            .collect();
        match candidates.len() {
            1 => Ok(candidates.into_iter().next().unwrap_or_default()),
            0 => Err(err(format!(
                "no single-column foreign key from `{}` to `{}`",
                from.name(),
                to.name()
            ))),
            _ => Err(err(format!(
                "several foreign keys from `{}` to `{}`: name one with RelOptions::foreign_key",
                from.name(),
                to.name()
            ))),
        }
    };
    Ok(match rel.kind {
        RelationKind::OneToMany | RelationKind::OneToOne => {
            let (fk, referred) = pick(&target.table, &owner.table)?;
            Resolved {
                fk,
                referred,
                secondary: None,
                target_fk: None,
                target_referred: None,
            }
        }
        RelationKind::ManyToOne => {
            let (fk, referred) = pick(&owner.table, &target.table)?;
            Resolved {
                fk,
                referred,
                secondary: None,
                target_fk: None,
                target_referred: None,
            }
        }
        RelationKind::ManyToMany => {
            let sec = rel
                .secondary
                .clone()
                .ok_or_else(|| err("many-to-many needs a secondary table".into()))?;
            if owner.table.name() == target.table.name() {
                return Err(err(
                    "a self-referential many-to-many is not supported".into()
                ));
            }
            let (fk, referred) = pick(&sec, &owner.table)?;
            let (tfk, tref) = {
                let candidates: Vec<(String, String)> = sec
                    .foreign_keys()
                    .into_iter()
                    .filter(|f| f.ref_table == target.table.name() && f.columns.len() == 1)
                    .map(|f| (f.columns[0].clone(), f.ref_columns[0].clone()))
                    .collect();
                match candidates.len() {
                    1 => candidates.into_iter().next().unwrap_or_default(),
                    _ => {
                        return Err(err(format!(
                            "`{}` needs exactly one foreign key to `{}`",
                            sec.name(),
                            target.table.name()
                        )))
                    }
                }
            };
            Resolved {
                fk,
                referred,
                secondary: Some(sec),
                target_fk: Some(tfk),
                target_referred: Some(tref),
            }
        }
    })
}
