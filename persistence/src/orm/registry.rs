//! The registry: every mapping of plain structs to tables, validated once
//! by [`Registry::configure`] (SQLAlchemy's `registry` and `start_mappers()`).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use dialects::{Column, Index, MetaData, SqlType, Table, UniqueConstraint, Value};

use super::identity::FastMap;
use super::mapper::{BuildFn, GetFn, Mapper, MapperInfo, SetFn, SqlTypeOf};
use super::relationship::{RelAccess, RelationKind, RelationshipDef, RelationshipInfo, Resolved};
use crate::error::Error;

/// One mapped field: its name, column and Rust type.
#[derive(Debug, Clone)]
pub struct FieldSpec {
    /// The struct field.
    pub field: &'static str,
    /// The column it maps to.
    pub column: &'static str,
    /// The Rust type's name, for messages.
    pub rust_type: &'static str,
    /// The column type the Rust type implies.
    pub sql_type: SqlType,
    /// Whether the Rust type is an `Option`.
    pub nullable: bool,
}

impl FieldSpec {
    /// The spec of field `field: R` mapped to `column`.
    pub fn of<R: SqlTypeOf + 'static>(field: &'static str, column: &'static str) -> Self {
        FieldSpec {
            field,
            column,
            rust_type: std::any::type_name::<R>(),
            sql_type: R::sql_type(),
            nullable: R::nullable(),
        }
    }
}

/// Everything [`mapping!`](crate::mapping) generates for a struct.
pub struct MappingSpec<T> {
    pub(crate) fields: Vec<FieldSpec>,
    pub(crate) get: GetFn<T>,
    pub(crate) set: SetFn<T>,
    pub(crate) build: BuildFn<T>,
}

impl<T> MappingSpec<T> {
    /// A spec from its parts (what the macro calls).
    pub fn new(fields: Vec<FieldSpec>, get: GetFn<T>, set: SetFn<T>, build: BuildFn<T>) -> Self {
        MappingSpec {
            fields,
            get,
            set,
            build,
        }
    }
}

/// Reusable column configurations (the seed's `intpk`, `created_at`,
/// `updated_at` annotated types).
pub mod presets {
    use dialects::{func, Column, Value};

    /// An integer primary key the server generates.
    pub fn intpk(c: Column) -> Column {
        c.primary_key().autoincrement(true)
    }

    /// A timestamp the server fills with the UTC time on insert.
    pub fn created_at(c: Column) -> Column {
        c.server_default(func::utc_now()).not_null()
    }

    /// A timestamp filled by the server on insert and by the ORM on every update.
    pub fn updated_at(c: Column) -> Column {
        c.server_default(func::utc_now())
            .not_null()
            .onupdate(|| Value::DateTime(chrono::Utc::now().naive_utc()))
    }
}

/// Adjusts an inferred column.
type ColumnFn = Box<dyn FnOnce(Column) -> Column>;

enum TableSource {
    Explicit(Table),
    Inferred {
        name: String,
        customize: Vec<(String, ColumnFn)>,
        indexes: Vec<Index>,
        uniques: Vec<UniqueConstraint>,
    },
}

/// Builds one mapping; [`MapperBuilder::finish`] adds it to the registry.
pub struct MapperBuilder<'r, T> {
    registry: &'r mut Registry,
    table: TableSource,
    spec: MappingSpec<T>,
    version: Option<String>,
}

impl<T: Send + Sync + 'static> MapperBuilder<'_, T> {
    /// Uses `column` as an optimistic-concurrency version counter: every
    /// UPDATE increments it and requires the old value, else `StaleData`.
    pub fn version(mut self, column: &str) -> Self {
        self.version = Some(column.to_owned());
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

    /// Declarative mappings: adjusts the inferred column `column`
    /// (`presets::intpk`, `.unique()`, a server default, ...).
    pub fn column(mut self, column: &str, f: impl FnOnce(Column) -> Column + 'static) -> Self {
        if let TableSource::Inferred { customize, .. } = &mut self.table {
            customize.push((column.to_owned(), Box::new(f)));
        }
        self
    }

    /// Declarative mappings: adds an index (the seed's `__table_args__`).
    pub fn index(mut self, index: Index) -> Self {
        if let TableSource::Inferred { indexes, .. } = &mut self.table {
            indexes.push(index);
        }
        self
    }

    /// Declarative mappings: adds a unique constraint.
    pub fn unique(mut self, constraint: UniqueConstraint) -> Self {
        if let TableSource::Inferred { uniques, .. } = &mut self.table {
            uniques.push(constraint);
        }
        self
    }

    /// Adds the mapping (and an inferred table) to the registry.
    pub fn finish(self) -> Table {
        let table = match self.table {
            TableSource::Explicit(t) => t,
            TableSource::Inferred {
                name,
                mut customize,
                indexes,
                uniques,
            } => {
                let mut t = Table::new(name);
                for f in &self.spec.fields {
                    let ty = self
                        .registry
                        .type_map
                        .get(f.rust_type)
                        .cloned()
                        .unwrap_or_else(|| f.sql_type.clone());
                    let mut c = Column::new(f.column, ty).nullable(f.nullable);
                    while let Some(pos) = customize.iter().position(|(n, _)| n == f.column) {
                        let (_, g) = customize.remove(pos);
                        c = g(c);
                    }
                    t = t.column(c);
                }
                for (col, _) in customize {
                    self.registry.errors.push(Error::Mapping {
                        type_name: std::any::type_name::<T>(),
                        field: col,
                        message: "no mapped field has this column".into(),
                    });
                }
                for i in indexes {
                    t = t.index(i);
                }
                for u in uniques {
                    t = t.unique(u);
                }
                t
            }
        };
        let table = self.registry.metadata.add(table);
        self.registry.pending.push(Box::new(Pending {
            table: table.clone(),
            spec: self.spec,
            version: self.version,
        }));
        table
    }
}

struct Pending<T> {
    table: Table,
    spec: MappingSpec<T>,
    version: Option<String>,
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
        let mut seen_fields = Vec::new();
        let mut seen_columns = Vec::new();
        for f in &self.spec.fields {
            if seen_fields.contains(&f.field) {
                return Err(err(f.field, "field is mapped twice".into()));
            }
            if seen_columns.contains(&f.column) {
                return Err(err(
                    f.field,
                    format!("column `{}` is mapped by two fields", f.column),
                ));
            }
            seen_fields.push(f.field);
            seen_columns.push(f.column);
            let Some(col) = table.get_column(f.column) else {
                return Err(err(
                    f.field,
                    format!("table `{}` has no column `{}`", table.name(), f.column),
                ));
            };
            if !compatible(&f.sql_type, col.sql_type()) {
                return Err(err(
                    f.field,
                    format!(
                        "Rust type `{}` does not fit column `{}` of type {:?}",
                        f.rust_type,
                        f.column,
                        col.sql_type()
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
        let mut server_generated = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            let col = table
                .get_column(c)
                .ok_or_else(|| err(c, "unknown column".into()))?;
            defaults.push(col.get_default().cloned());
            onupdate.push(col.get_onupdate().cloned());
            if col.get_server_default().is_some()
                || dialects::compiler::is_autoincrement(&table, col)
            {
                server_generated.push(i);
            }
        }
        let info = Arc::new(MapperInfo {
            type_id: TypeId::of::<T>(),
            type_name,
            table,
            fields: self.spec.fields.iter().map(|f| f.field).collect(),
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
            set: self.spec.set,
            build: self.spec.build,
        });
        Ok((info, mapper))
    }
}

/// Whether a field of Rust-implied type `field` may map a column of type `column`.
fn compatible(field: &SqlType, column: &SqlType) -> bool {
    use SqlType as S;
    let family = |t: &SqlType| match t {
        S::SmallInteger | S::Integer | S::BigInteger => 1,
        S::Float | S::Double => 2,
        S::Numeric(..) => 3,
        S::String(_) | S::Text | S::Enum { .. } => 4,
        S::Boolean => 5,
        S::Date => 6,
        S::Time => 7,
        S::DateTime { .. } => 8,
        S::Uuid => 9,
        S::Json => 10,
        S::Binary(_) => 11,
        _ => 0,
    };
    let (f, c) = (family(field), family(column));
    f == c || f == 0 || c == 0 || (f == 2 && c == 3) || (f == 3 && c == 2)
}

/// Mappings of plain structs to tables. Build it at start-up, then
/// [`configure`](Registry::configure) it once and share the result.
#[derive(Default)]
pub struct Registry {
    metadata: MetaData,
    type_map: HashMap<&'static str, SqlType>,
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

    /// Overrides the column type inferred for Rust type `R` (the seed's
    /// `type_annotation_map`, e.g. `String` as `String(256)`).
    pub fn type_annotation<R: 'static>(&mut self, ty: SqlType) -> &mut Self {
        self.type_map.insert(std::any::type_name::<R>(), ty);
        self
    }

    /// Maps `T` onto an explicit table (SQLAlchemy's `map_imperatively`, or a
    /// declarative class with `__table__`).
    pub fn map_imperatively<T: Send + Sync + 'static>(
        &mut self,
        table: &Table,
        spec: MappingSpec<T>,
    ) -> MapperBuilder<'_, T> {
        MapperBuilder {
            registry: self,
            table: TableSource::Explicit(table.clone()),
            spec,
            version: None,
        }
    }

    /// Maps `T` onto a table named `table` whose columns are inferred from
    /// the fields' Rust types (the seed's declarative `Mapped[...]`).
    pub fn map_declarative<T: Send + Sync + 'static>(
        &mut self,
        table: &str,
        spec: MappingSpec<T>,
    ) -> MapperBuilder<'_, T> {
        MapperBuilder {
            registry: self,
            table: TableSource::Inferred {
                name: table.to_owned(),
                customize: Vec::new(),
                indexes: Vec::new(),
                uniques: Vec::new(),
            },
            spec,
            version: None,
        }
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
