//! [`SqlRepository<T>`] and [`SqlUnitOfWork`]: the domain's
//! [`Repository`] and [`UnitOfWork`] ports, implemented once, generically,
//! on an ORM [`Session`] (the seed's `SQLAlchemyRepositoryMixin`).
//!
//! A unit of work owns one session behind an `Arc<tokio::sync::Mutex<_>>`;
//! every repository it hands out shares that session, so all of them work in
//! one transaction on one connection, and the mutex serialises their
//! statements (the domain's contract: two repository futures polled with
//! `join!` must not interleave statements on one connection).
//!
//! ```
//! use domain::{ListSpec, Repository, UnitOfWork};
//! use persistence::orm::{self, Registry, SessionMaker};
//! use persistence::prelude::*;
//! use persistence::{mapping, SqlUnitOfWork};
//!
//! #[derive(Debug, Clone)]
//! struct Worker { id: Option<i64>, name: String }
//! impl domain::Entity for Worker {
//!     type Id = i64;
//!     fn id(&self) -> Option<i64> { self.id }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut registry = Registry::new();
//! let worker = Table::new("worker")
//!     .column(Column::new("id", SqlType::BigInteger).primary_key())
//!     .column(Column::new("name", SqlType::string(256)).not_null());
//! registry
//!     .map_imperatively(&worker, mapping!(Worker { id: Option<i64> = "id", name: String = "name" }))
//!     .finish();
//! let mappers = registry.configure()?;
//! let engine = create_engine("sqlite::memory:").await?;
//! mappers.metadata().create_all(&mut engine.connect().await?).await?;
//!
//! let mut uow = SqlUnitOfWork::new(&SessionMaker::new(engine, mappers));
//! let workers = uow.repository::<Worker>();
//! let vlad = workers.add(Worker { id: None, name: "Vlad".into() }).await?;
//! assert!(vlad.id.is_some()); // flushed: the generated id is back
//! let found = workers.list(&ListSpec::new().filter_like("name", "Vl%").order_by_asc("id")).await?;
//! assert_eq!(found.len(), 1);
//! uow.commit().await?;
//!
//! // A custom query on the same session (and transaction):
//! let named = workers
//!     .scalars(orm::select::<Worker>().filter(worker.c("name").eq("Vlad")))
//!     .await?;
//! assert_eq!(named.len(), 1);
//! uow.commit().await?;
//! # Ok(()) }
//! ```
//!
//! # Errors
//!
//! Every failure is a [`DomainError`], converted by [`to_domain`]: a unique
//! violation is `Conflict`, other constraint and data errors are `Invalid`,
//! connection trouble is `Unavailable`, serialization failures, deadlocks
//! and stale data are `Concurrency`, anything else is `Internal`.
//!
//! # Relationship loading
//!
//! [`Repository::get_with`] and [`Repository::list_with`] turn the domain's
//! [`Load`] plans into the ORM's loader options (`selectinload`,
//! `joinedload`, `raiseload`, `noload`) on the select they run. Every
//! relation name is checked against the mappings first: an unknown one is
//! [`DomainError::Invalid`] before any SQL is sent.

use std::any::TypeId;
use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use dialects::{func, Expr, OrderBy, SqlType, Statement, Table, Value};
use domain::{
    Direction, DomainError, Entity, Filter, FilterOp, FilterValue, ListSpec, Load, LoadStrategy,
    Repository, UnitOfWork,
};
#[cfg(feature = "decimal")]
use rust_decimal::Decimal;
use tokio::sync::Mutex;

use crate::engine::result::QueryResult;
use crate::error::{Error, ErrorKind, IntegrityKind};
use crate::orm::{self, MapperInfo, Mappers, Session, SessionMaker};

/// The session a unit of work shares with its repositories.
pub type SharedSession = Arc<Mutex<Session>>;

/// Converts an engine or ORM error into the [`DomainError`] a domain sees
/// (the domain's own docs say which failure goes where).
///
/// | persistence error | domain error |
/// |---|---|
/// | unique / primary key violation | `Conflict` |
/// | check, not-null, foreign key or other constraint; a value that does not fit (`Data`, [`Error::Codec`]) | `Invalid` |
/// | serialization failure, deadlock, lock wait timeout, SQLite busy/locked, [`Error::StaleData`] | `Concurrency` |
/// | other operational errors, [`Error::Connect`], [`Error::PoolTimeout`], [`Error::PoolClosed`] | `Unavailable` |
/// | [`Error::NoResultFound`] | `NotFound` (entity `"row"`) |
/// | everything else (SQL errors, decoding, mapping, a session waiting for `rollback()`) | `Internal` |
///
/// The message keeps the engine's text, which names the statement;
/// parameters appear only when the engine does not redact them.
pub fn to_domain(e: Error) -> DomainError {
    // No bound values: domain errors leave the process (HTTP responses).
    let message = e.redacted().to_string();
    match &e {
        Error::Database {
            kind,
            code,
            message: db_message,
            ..
        } => match kind {
            ErrorKind::Integrity(IntegrityKind::Unique) => DomainError::Conflict(message),
            ErrorKind::Integrity(_) | ErrorKind::Data => DomainError::Invalid(message),
            ErrorKind::Operational if is_concurrency(code.as_deref(), db_message) => {
                DomainError::Concurrency(message)
            }
            ErrorKind::Operational => DomainError::Unavailable(message),
            _ => DomainError::Internal(message),
        },
        Error::Connect { .. } | Error::PoolTimeout | Error::PoolClosed => {
            DomainError::Unavailable(message)
        }
        Error::StaleData { .. } => DomainError::Concurrency(message),
        // A value the mapping cannot write (out of its column's range, an
        // enum without a stored name) or read.
        Error::Codec { .. } => DomainError::Invalid(message),
        Error::NoResultFound => DomainError::NotFound {
            entity: "row",
            id: "(a query that required one)".to_owned(),
        },
        _ => DomainError::Internal(message),
    }
}

/// Whether an operational database error is concurrent work getting in the
/// way (retry the unit of work) rather than the database being unreachable.
fn is_concurrency(code: Option<&str>, message: &str) -> bool {
    // SQLSTATE: serialization_failure, deadlock_detected, lock_not_available.
    if matches!(code, Some("40001" | "40P01" | "55P03")) {
        return true;
    }
    // SQLite reports its (extended) result code: BUSY = 5, LOCKED = 6.
    if let Some(n) = code.and_then(|c| c.parse::<i32>().ok()) {
        if matches!(n & 0xff, 5 | 6) {
            return true;
        }
    }
    // MySQL's lock wait timeout is the generic SQLSTATE HY000.
    let lower = message.to_ascii_lowercase();
    lower.contains("deadlock") || lower.contains("lock wait timeout")
}

/// The ORM mapper description of `T`, as a domain error when `T` is not mapped.
fn info_of<T: 'static>(mappers: &Mappers) -> Result<&Arc<MapperInfo>, DomainError> {
    mappers.mapper::<T>().map(|m| m.info()).map_err(to_domain)
}

/// Turns the domain's load plans into the ORM's loader options, checking
/// every relation name against the mappings before any SQL is sent.
///
/// This is where repositories meet relationship loading. Each plan's steps
/// are walked through the mappers (step *n* names a relationship of step
/// *n - 1*'s target); an unknown name is [`DomainError::Invalid`] naming the
/// path and the struct. Plans sharing a prefix are merged so the prefix
/// loads once (`posts` then `tags` and `posts` then `author` load `posts`
/// once); the same path asked for with two strategies is `Invalid`.
fn load_plan<T: Entity>(
    mappers: &Mappers,
    load: &[Load<T>],
) -> Result<Vec<orm::Load>, DomainError> {
    let mut roots: Vec<orm::Load> = Vec::new();
    for plan in load {
        let mut owner = TypeId::of::<T>();
        let mut level = &mut roots;
        for (depth, step) in plan.steps().iter().enumerate() {
            let path = || {
                let names: Vec<&str> = plan.steps()[..=depth].iter().map(|s| s.relation).collect();
                names.join(".")
            };
            let rel = mappers
                .relationships_of(owner)
                .iter()
                .find(|r| r.info().name == step.relation)
                .ok_or_else(|| {
                    let owner_name = mappers
                        .info(owner)
                        .map_or("(unmapped)", |i| short_name(i.type_name));
                    DomainError::Invalid(format!(
                        "cannot load `{}` of `{}`: `{owner_name}` has no relationship `{}`",
                        path(),
                        T::entity_name(),
                        step.relation,
                    ))
                })?;
            let strategy = strategy_of(step.strategy);
            let at = match level.iter().position(|l| l.name == step.relation) {
                Some(i) if level[i].strategy == strategy => i,
                Some(_) => {
                    return Err(DomainError::Invalid(format!(
                        "`{}` of `{}` is asked to load with two different strategies",
                        path(),
                        T::entity_name(),
                    )))
                }
                None => {
                    level.push(orm::Load {
                        name: step.relation.to_owned(),
                        strategy,
                        children: Vec::new(),
                        criteria: Vec::new(),
                        inner: false,
                    });
                    level.len() - 1
                }
            };
            owner = rel.info().target;
            level = &mut level[at].children;
        }
    }
    Ok(roots)
}

/// The ORM's strategy for the domain's.
fn strategy_of(strategy: LoadStrategy) -> orm::Strategy {
    match strategy {
        LoadStrategy::SelectIn => orm::Strategy::Selectin,
        LoadStrategy::Joined => orm::Strategy::Joined,
        LoadStrategy::Raise => orm::Strategy::Raise,
        LoadStrategy::NoLoad => orm::Strategy::NoLoad,
        // A strategy added to the domain later: the mapping's default.
        #[allow(unreachable_patterns)]
        _ => orm::Strategy::Default,
    }
}

/// A [`ListSpec`] translated to Core: conditions on the mapped table,
/// ordering and paging.
#[derive(Debug, Clone, Default)]
struct SpecQuery {
    conditions: Vec<Expr>,
    order_by: Vec<OrderBy>,
    limit: Option<u64>,
    offset: Option<u64>,
}

impl SpecQuery {
    /// `spec` on the table of `info`: each field name becomes its mapped
    /// column and each value a bound parameter of the column's type.
    fn new(info: &MapperInfo, spec: &ListSpec) -> Result<Self, DomainError> {
        spec.validate()?;
        let conditions = spec
            .filters
            .iter()
            .map(|f| filter_expr(info, f))
            .collect::<Result<Vec<_>, _>>()?;
        let order_by = spec
            .order_by
            .iter()
            .map(|o| {
                let (column, _) = column_of(info, &o.field)?;
                Ok(match o.direction {
                    Direction::Asc => column.asc(),
                    Direction::Desc => column.desc(),
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        Ok(SpecQuery {
            conditions,
            order_by,
            limit: spec.limit,
            offset: spec.offset,
        })
    }

    /// The ORM select of `T` with these conditions, ordering and paging.
    fn orm_select<T>(self) -> orm::Select<T> {
        let mut select = orm::select::<T>();
        for cond in self.conditions {
            select = select.filter(cond);
        }
        select = select.order_by(self.order_by);
        if let Some(n) = self.limit {
            select = select.limit(n);
        }
        if let Some(n) = self.offset {
            select = select.offset(n);
        }
        select
    }

    /// `SELECT count(*) FROM table WHERE ...` (ordering and paging ignored).
    fn count_select(&self, table: &Table) -> dialects::Select {
        let mut select = dialects::select((func::count_star(),)).select_from(table);
        for cond in &self.conditions {
            select = select.where_(cond.clone());
        }
        select
    }
}

/// The column mapped by field `field` of `info`, with its type.
fn column_of<'a>(info: &'a MapperInfo, field: &str) -> Result<(Expr, &'a SqlType), DomainError> {
    let position = info
        .fields
        .iter()
        .position(|f| *f == field)
        .ok_or_else(|| {
            DomainError::Invalid(format!(
                "`{}` has no mapped field `{field}` (mapped: {})",
                short_name(info.type_name),
                info.fields.join(", ")
            ))
        })?;
    let column = &info.columns[position];
    let ty = info
        .table
        .get_column(column)
        .map(|c| c.sql_type())
        .ok_or_else(|| {
            DomainError::Internal(format!(
                "table `{}` has no column `{column}`",
                info.table.name()
            ))
        })?;
    Ok((info.table.c(column), ty))
}

/// `"app::domain::Worker"` -> `"Worker"`, for messages.
fn short_name(type_name: &str) -> &str {
    let base = type_name.split('<').next().unwrap_or(type_name);
    base.rsplit("::").next().unwrap_or(base)
}

/// One filter as a Core condition.
fn filter_expr(info: &MapperInfo, filter: &Filter) -> Result<Expr, DomainError> {
    let (column, ty) = column_of(info, &filter.field)?;
    let bind = |v: &FilterValue| bind_value(&filter.field, v, ty);
    let list = |v: &FilterValue| match v {
        FilterValue::List(items) => items.iter().map(bind).collect::<Result<Vec<_>, _>>(),
        other => Ok(vec![bind(other)?]),
    };
    Ok(match filter.op {
        FilterOp::Eq if filter.value.is_null() => column.is_null(),
        FilterOp::Ne if filter.value.is_null() => column.is_not_null(),
        FilterOp::Eq => column.eq(bind(&filter.value)?),
        FilterOp::Ne => column.ne(bind(&filter.value)?),
        FilterOp::Lt => column.lt(bind(&filter.value)?),
        FilterOp::Le => column.le(bind(&filter.value)?),
        FilterOp::Gt => column.gt(bind(&filter.value)?),
        FilterOp::Ge => column.ge(bind(&filter.value)?),
        FilterOp::Like => match &filter.value {
            FilterValue::Text(pattern) if is_text(ty) => column.like(pattern.as_str()),
            _ => return Err(misfit(&filter.field, &filter.value, ty)),
        },
        // The compiler renders an empty IN list as a constant false, an
        // empty NOT IN list as a constant true.
        FilterOp::In => column.in_(list(&filter.value)?),
        FilterOp::NotIn => column.not_in(list(&filter.value)?),
        FilterOp::IsNull => column.is_null(),
        FilterOp::IsNotNull => column.is_not_null(),
    })
}

fn is_text(ty: &SqlType) -> bool {
    matches!(
        ty,
        SqlType::String(_) | SqlType::Text | SqlType::Enum { .. }
    )
}

fn misfit(field: &str, value: &FilterValue, ty: &SqlType) -> DomainError {
    DomainError::Invalid(format!(
        "filter on `{field}`: {value:?} does not fit its column type {ty:?}"
    ))
}

/// A filter value as a parameter of the column's type: integers narrowed
/// with a range check, text parsed for decimals, dates, times, UUIDs and
/// JSON, enumeration values checked against the allowed names.
fn bind_value(field: &str, value: &FilterValue, ty: &SqlType) -> Result<Value, DomainError> {
    use FilterValue as F;
    let bad = || misfit(field, value, ty);
    let int = |v: &FilterValue| -> Option<i64> {
        match v {
            F::Int(n) => Some(*n),
            F::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    };
    let float = |v: &FilterValue| -> Option<f64> {
        match v {
            #[allow(clippy::cast_precision_loss)]
            F::Int(n) => Some(*n as f64),
            F::Float(f) => Some(*f),
            F::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    };
    // Dates, times, UUIDs, JSON: parsed from text by the `Value` conversions.
    let text = || -> Result<Value, DomainError> {
        match value {
            F::Text(s) => Ok(Value::String(s.clone())),
            _ => Err(bad()),
        }
    };
    Ok(match (ty, value) {
        (_, F::Null) => Value::Null,
        (_, F::List(_)) => return Err(bad()),
        (SqlType::SmallInteger, v) => {
            Value::SmallInt(int(v).and_then(|n| i16::try_from(n).ok()).ok_or_else(bad)?)
        }
        (SqlType::Integer, v) => {
            Value::Int(int(v).and_then(|n| i32::try_from(n).ok()).ok_or_else(bad)?)
        }
        (SqlType::BigInteger, v) => Value::BigInt(int(v).ok_or_else(bad)?),
        #[allow(clippy::cast_possible_truncation)]
        (SqlType::Float, v) => Value::Float(float(v).ok_or_else(bad)? as f32),
        (SqlType::Double, v) => Value::Double(float(v).ok_or_else(bad)?),
        #[cfg(feature = "decimal")]
        (SqlType::Numeric(..), F::Int(n)) => Value::Decimal(Decimal::from(*n)),
        #[cfg(feature = "decimal")]
        (SqlType::Numeric(..), F::Float(f)) => {
            Value::Decimal(Decimal::try_from(*f).map_err(|_| bad())?)
        }
        #[cfg(feature = "decimal")]
        (SqlType::Numeric(..), F::Text(s)) => {
            Value::Decimal(s.trim().parse::<Decimal>().map_err(|_| bad())?)
        }
        // Without `decimal`: the number as it came (the backend converts).
        #[cfg(not(feature = "decimal"))]
        (SqlType::Numeric(..), F::Int(n)) => Value::BigInt(*n),
        #[cfg(not(feature = "decimal"))]
        (SqlType::Numeric(..), F::Float(f)) => Value::Double(*f),
        #[cfg(not(feature = "decimal"))]
        (SqlType::Numeric(..), F::Text(s)) => Value::String(s.trim().to_owned()),
        (SqlType::String(_) | SqlType::Text, F::Text(s)) => Value::String(s.clone()),
        (SqlType::Enum { name, variants, .. }, F::Text(s)) => {
            if variants.iter().any(|v| v == s) {
                Value::String(s.clone())
            } else {
                return Err(DomainError::Invalid(format!(
                    "filter on `{field}`: `{s}` is not a value of `{name}` (expected one of: {})",
                    variants.join(", ")
                )));
            }
        }
        (SqlType::Boolean, F::Bool(b)) => Value::Bool(*b),
        (SqlType::Boolean, F::Int(n @ (0 | 1))) => Value::Bool(*n == 1),
        (SqlType::Boolean, F::Text(s)) => match s.trim() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => return Err(bad()),
        },
        (SqlType::Date | SqlType::Time | SqlType::DateTime { .. }, F::Text(_)) => {
            temporal(ty, text()?).ok_or_else(bad)?
        }
        #[cfg(feature = "uuid")]
        (SqlType::Uuid, F::Text(_)) => {
            Value::Uuid(uuid::Uuid::try_from(text()?).map_err(|_| bad())?)
        }
        #[cfg(feature = "json")]
        (SqlType::Json, F::Text(_)) => {
            Value::Json(serde_json::Value::try_from(text()?).map_err(|_| bad())?)
        }
        // Without their features: the text, as the backend reads it.
        #[cfg(not(feature = "uuid"))]
        (SqlType::Uuid, F::Text(s)) => Value::String(s.clone()),
        #[cfg(not(feature = "json"))]
        (SqlType::Json, F::Text(s)) => Value::String(s.clone()),
        _ => return Err(bad()),
    })
}

/// A date or time of column type `ty` from its text `v`: chrono's when
/// the `chrono` feature is on, the `time` crate's otherwise, the text
/// itself with neither (the backend parses it).
fn temporal(ty: &SqlType, v: Value) -> Option<Value> {
    #[cfg(feature = "chrono")]
    {
        Some(match ty {
            SqlType::Date => Value::Date(chrono::NaiveDate::try_from(v).ok()?),
            SqlType::Time => Value::Time(chrono::NaiveTime::try_from(v).ok()?),
            SqlType::DateTime { timezone: false } => Value::DateTime(
                chrono::NaiveDateTime::try_from(v.clone())
                    .or_else(|_| {
                        chrono::DateTime::<chrono::Utc>::try_from(v).map(|t| t.naive_utc())
                    })
                    .ok()?,
            ),
            _ => Value::DateTimeUtc(chrono::DateTime::<chrono::Utc>::try_from(v).ok()?),
        })
    }
    #[cfg(all(feature = "time", not(feature = "chrono")))]
    {
        Some(match ty {
            SqlType::Date => Value::TimeDate(time::Date::try_from(v).ok()?),
            SqlType::Time => Value::TimeTime(time::Time::try_from(v).ok()?),
            SqlType::DateTime { timezone: false } => {
                Value::TimePrimitiveDateTime(time::PrimitiveDateTime::try_from(v).ok()?)
            }
            _ => Value::TimeOffsetDateTime(time::OffsetDateTime::try_from(v).ok()?),
        })
    }
    #[cfg(not(any(feature = "chrono", feature = "time")))]
    {
        let _ = ty;
        Some(v)
    }
}

/// The generic [`Repository<T>`] on an ORM session, for any mapped struct
/// `T` (the seed's `SQLAlchemyRepositoryMixin`).
///
/// Get one from [`SqlUnitOfWork::repository`]; every repository of a unit of
/// work shares its session (one transaction, one connection), and
/// [`SqlRepository::session`] gives custom queries the same session:
///
/// ```no_run
/// # use persistence::orm::{self, Session};
/// # use persistence::{Error, SqlRepository};
/// # #[derive(Debug, Clone)] struct Post { id: Option<i64>, publisher_id: i64 }
/// # impl domain::Entity for Post { type Id = i64; fn id(&self) -> Option<i64> { self.id } }
/// # async fn posts_of(repo: &SqlRepository<Post>, id: i64) -> Result<Vec<Post>, Error> {
/// let post = repo.mappers().mapper::<Post>()?.table().clone();
/// let mut session = repo.session().lock().await;
/// let posts = session
///     .scalars(orm::select::<Post>().filter(post.c("publisher_id").eq(id)))
///     .await?
///     .all();
/// # Ok(posts) }
/// ```
///
/// How each port method maps onto the session:
///
/// | method | session |
/// |---|---|
/// | `get` | [`Session::get_by_key`]: the identity map first, else one `SELECT ... WHERE pk = ?` |
/// | `get_with` | `get` for an empty plan; otherwise [`Session::scalars`] of an [`orm::select`] by key with the plan's loader options (selectin: one more query per level; joined: none) |
/// | `list` / `list_with` | [`Session::scalars`] of the [`ListSpec`] as an [`orm::select`], with the plan's loader options |
/// | `count` | `SELECT count(*) FROM table WHERE ...` through [`Session::execute`] |
/// | `add`, no id | [`Session::persist`]: INSERT flushed now, generated id and server defaults written back |
/// | `add`, an id | [`Session::add`]: an UPDATE of the changed columns of a known identity, an INSERT of a new one, at the next flush |
/// | `add_all` | [`Session::persist_all`]: one flush for all (new rows of a table in multi-row INSERTs), generated ids written back into each |
/// | `remove` | [`Session::delete`]: a DELETE at the next flush |
///
/// [`ListSpec`] field names are the struct's mapped field names; an unknown
/// name, or a value that does not fit the column's type, is
/// [`DomainError::Invalid`] before any SQL is sent.
pub struct SqlRepository<T> {
    session: SharedSession,
    mappers: Mappers,
    _entity: PhantomData<fn() -> T>,
}

impl<T> Clone for SqlRepository<T> {
    fn clone(&self) -> Self {
        SqlRepository {
            session: self.session.clone(),
            mappers: self.mappers.clone(),
            _entity: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for SqlRepository<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlRepository")
            .field("entity", &std::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}

impl<T> SqlRepository<T>
where
    T: Entity + Clone + Send + Sync + 'static,
{
    /// A repository of `T` on `session` (shared with a unit of work), for
    /// the mappings in `mappers`.
    pub fn new(session: SharedSession, mappers: Mappers) -> Self {
        SqlRepository {
            session,
            mappers,
            _entity: PhantomData,
        }
    }

    /// The session, shared with the unit of work and its other repositories,
    /// for custom queries: `repo.session().lock().await.scalars(...)`.
    /// Hold the guard only for the statements at hand; other repositories of
    /// the unit of work wait for it.
    pub fn session(&self) -> &SharedSession {
        &self.session
    }

    /// The configured mappings.
    pub fn mappers(&self) -> &Mappers {
        &self.mappers
    }

    /// The table `T` is mapped to (for Core queries next to ORM ones).
    pub fn table(&self) -> Result<&Table, DomainError> {
        info_of::<T>(&self.mappers).map(|info| &info.table)
    }

    /// The ORM select that [`list`](Repository::list) runs for `spec`: a
    /// starting point for custom queries (`.filter(...)`, `.join(...)`).
    /// An unknown field name or a misfit value is [`DomainError::Invalid`].
    pub fn select(&self, spec: &ListSpec) -> Result<orm::Select<T>, DomainError> {
        let info = info_of::<T>(&self.mappers)?;
        Ok(SpecQuery::new(info, spec)?.orm_select())
    }

    /// Runs an ORM select in the unit of work (after flushing staged
    /// changes) and returns the hydrated entities.
    pub async fn scalars(&self, stmt: orm::Select<T>) -> Result<Vec<T>, DomainError> {
        let mut session = self.session.lock().await;
        session
            .scalars(stmt)
            .await
            .map(orm::ScalarResult::all)
            .map_err(to_domain)
    }

    /// Runs a Core statement in the unit of work (after flushing staged
    /// changes): association rows, reports, bulk changes.
    pub async fn execute<S>(&self, stmt: &S) -> Result<QueryResult, DomainError>
    where
        S: Statement + Sync + ?Sized,
    {
        let mut session = self.session.lock().await;
        session.execute(stmt).await.map_err(to_domain)
    }
}

#[async_trait]
impl<T> Repository<T> for SqlRepository<T>
where
    T: Entity + Clone + Send + Sync + 'static,
{
    async fn get_with(&self, id: &T::Id, load: &[Load<T>]) -> Result<Option<T>, DomainError> {
        let options = load_plan(&self.mappers, load)?;
        // The key through the key field's codec (`WorkerId` -> its integer).
        let key = self
            .mappers
            .mapper::<T>()
            .and_then(|m| m.key_values(id))
            .map_err(|e| DomainError::Invalid(format!("{e}")))?;
        if options.is_empty() {
            // The identity map first; one SELECT by primary key otherwise.
            let mut session = self.session.lock().await;
            return session.get_by_key::<T>(key).await.map_err(to_domain);
        }
        let info = info_of::<T>(&self.mappers)?;
        if key.len() != info.pk.len() {
            return Err(DomainError::Invalid(format!(
                "`{}` has a {}-column primary key; the id {id:?} gives {} value(s)",
                T::entity_name(),
                info.pk.len(),
                key.len()
            )));
        }
        let mut select = orm::select::<T>();
        for (&field, value) in info.pk.iter().zip(key) {
            select = select.filter(info.table.c(&info.columns[field]).eq(value));
        }
        let mut session = self.session.lock().await;
        session
            .scalars(select.options(options))
            .await
            .and_then(orm::ScalarResult::one_or_none)
            .map_err(to_domain)
    }

    async fn list_with(&self, spec: &ListSpec, load: &[Load<T>]) -> Result<Vec<T>, DomainError> {
        let options = load_plan(&self.mappers, load)?;
        let info = info_of::<T>(&self.mappers)?;
        let select = SpecQuery::new(info, spec)?.orm_select::<T>();
        self.scalars(select.options(options)).await
    }

    async fn count(&self, spec: &ListSpec) -> Result<u64, DomainError> {
        let info = info_of::<T>(&self.mappers)?;
        let stmt = SpecQuery::new(info, &spec.without_paging())?.count_select(&info.table);
        let result = self.execute(&stmt).await?;
        let n = result.scalar().and_then(|v| v.as_i64()).ok_or_else(|| {
            DomainError::Internal(format!(
                "count(*) on `{}` returned no integer",
                info.table.name()
            ))
        })?;
        u64::try_from(n).map_err(|_| DomainError::Internal(format!("count(*) returned {n}")))
    }

    async fn add(&self, entity: T) -> Result<T, DomainError> {
        let mut entity = entity;
        let mut session = self.session.lock().await;
        // The session's write-back model: a new row is inserted at once
        // when the database generates its id, which comes back in `entity`.
        session.add(&mut entity).await.map_err(to_domain)?;
        Ok(entity)
    }

    async fn add_all(&self, entities: Vec<T>) -> Result<Vec<T>, DomainError> {
        let mut entities = entities;
        let mut session = self.session.lock().await;
        // One flush for all: new rows in multi-row INSERTs, generated ids
        // written back into each entity.
        session
            .add_all(entities.iter_mut())
            .await
            .map_err(to_domain)?;
        Ok(entities)
    }

    async fn remove(&self, entity: &T) -> Result<(), DomainError> {
        if entity.id().is_none() {
            return Err(DomainError::Invalid(format!(
                "cannot remove a `{}` that has no id: it was never stored",
                T::entity_name()
            )));
        }
        let mut session = self.session.lock().await;
        session.delete(entity).map_err(to_domain)
    }
}

/// The domain's [`UnitOfWork`] on one ORM session (SQLAlchemy's
/// `async with async_session_maker() as session`).
///
/// Hands out [`SqlRepository`]s that share its session, and the session
/// itself for custom queries. `commit` flushes and commits; `rollback`
/// discards staged changes. Both leave the unit of work usable (the next
/// statement begins a new transaction). A failed commit has already rolled
/// the transaction back; the session is reset so the unit of work stays
/// usable. Dropping it rolls back whatever is open.
///
/// Applications wrap it in their own unit of work with named repositories:
///
/// ```
/// use domain::{async_trait, DomainError, Repository, UnitOfWork};
/// use persistence::{SqlRepository, SqlUnitOfWork};
/// # #[derive(Debug, Clone)] pub struct Worker { id: Option<i64> }
/// # impl domain::Entity for Worker { type Id = i64; fn id(&self) -> Option<i64> { self.id } }
///
/// pub trait HiringUow: UnitOfWork {
///     fn workers(&self) -> &dyn Repository<Worker>;
/// }
///
/// pub struct SqlHiringUow { uow: SqlUnitOfWork, workers: SqlRepository<Worker> }
///
/// impl SqlHiringUow {
///     pub fn new(sessions: &persistence::orm::SessionMaker) -> Self {
///         let uow = SqlUnitOfWork::new(sessions);
///         SqlHiringUow { workers: uow.repository(), uow }
///     }
/// }
///
/// #[async_trait]
/// impl UnitOfWork for SqlHiringUow {
///     async fn commit(&mut self) -> Result<(), DomainError> { self.uow.commit().await }
///     async fn rollback(&mut self) -> Result<(), DomainError> { self.uow.rollback().await }
/// }
///
/// impl HiringUow for SqlHiringUow {
///     fn workers(&self) -> &dyn Repository<Worker> { &self.workers }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct SqlUnitOfWork {
    session: SharedSession,
    mappers: Mappers,
    /// Scoped: [`UnitOfWork::commit`] only flushes; the scope's owner
    /// commits ([`SqlUnitOfWork::scoped`]).
    scoped: bool,
}

impl SqlUnitOfWork {
    /// A unit of work on a new session from `sessions`.
    pub fn new(sessions: &SessionMaker) -> Self {
        Self::from_session(sessions.session())
    }

    /// A unit of work on `session` (for sessions configured by hand).
    pub fn from_session(session: Session) -> Self {
        let mappers = session.mappers().clone();
        SqlUnitOfWork {
            session: Arc::new(Mutex::new(session)),
            mappers,
            scoped: false,
        }
    }

    /// A unit of work whose transaction belongs to an enclosing scope (a
    /// web request: see the `web` module, feature `axum`), as Django's
    /// `ATOMIC_REQUESTS` or a FastAPI dependency that commits after the
    /// response.
    ///
    /// Its [`commit`](UnitOfWork::commit) *flushes* (generated ids come
    /// back, constraint violations surface as errors where the service can
    /// see them) but does not end the transaction; its
    /// [`rollback`](UnitOfWork::rollback) rolls back everything the scope
    /// did. The scope ends the transaction with [`finish`](Self::finish).
    /// Services written for a plain unit of work (commit on success,
    /// rollback on failure) run unchanged inside one.
    pub fn scoped(sessions: &SessionMaker) -> Self {
        SqlUnitOfWork {
            scoped: true,
            ..Self::new(sessions)
        }
    }

    /// Whether this unit of work is [`scoped`](Self::scoped).
    pub fn is_scoped(&self) -> bool {
        self.scoped
    }

    /// Ends the transaction for real, whatever the mode: commits (flush,
    /// then `COMMIT`) when `commit` is true, rolls back otherwise. A failed
    /// commit has rolled back; the session is reset either way.
    pub async fn finish(&self, commit: bool) -> Result<(), DomainError> {
        let mut session = self.session.lock().await;
        if !commit {
            return session.rollback().await.map_err(to_domain);
        }
        match session.commit().await {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = session.rollback().await;
                Err(to_domain(e))
            }
        }
    }

    /// A repository of `T` sharing this unit of work's session.
    pub fn repository<T>(&self) -> SqlRepository<T>
    where
        T: Entity + Clone + Send + Sync + 'static,
    {
        SqlRepository::new(self.session.clone(), self.mappers.clone())
    }

    /// The session, for custom queries in this unit of work's transaction:
    /// `uow.session().lock().await.execute(&stmt)`.
    pub fn session(&self) -> &SharedSession {
        &self.session
    }

    /// The configured mappings.
    pub fn mappers(&self) -> &Mappers {
        &self.mappers
    }
}

#[async_trait]
impl UnitOfWork for SqlUnitOfWork {
    async fn commit(&mut self) -> Result<(), DomainError> {
        if !self.scoped {
            return self.finish(true).await;
        }
        let mut session = self.session.lock().await;
        match session.flush().await {
            Ok(()) => Ok(()),
            Err(e) => {
                // The transaction is gone (a failed flush rolled it back);
                // reset the session so that the unit of work stays usable.
                let _ = session.rollback().await;
                Err(to_domain(e))
            }
        }
    }

    async fn rollback(&mut self) -> Result<(), DomainError> {
        let mut session = self.session.lock().await;
        session.rollback().await.map_err(to_domain)
    }
}

#[cfg(all(test, feature = "chrono", feature = "decimal"))]
mod tests {
    use super::*;
    use crate::orm::Registry;
    use dialects::{Column, Sqlite};

    #[derive(Debug, Clone, PartialEq)]
    struct Worker {
        id: Option<i64>,
        name: String,
        nickname: Option<String>,
        workload: String,
        rate: Decimal,
        hired_on: Option<chrono::NaiveDate>,
    }

    impl Entity for Worker {
        type Id = i64;
        fn id(&self) -> Option<i64> {
            self.id
        }
    }

    fn mappers() -> Mappers {
        let table = Table::new("worker")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("full_name", SqlType::string(100)).not_null())
            .column(Column::new("nickname", SqlType::string(100)).nullable(true))
            .column(
                Column::new(
                    "workload",
                    SqlType::enumeration("workload", ["parttime", "fulltime"]),
                )
                .not_null(),
            )
            .column(Column::new("rate", SqlType::Numeric(10, 2)).not_null())
            .column(Column::new("hired_on", SqlType::Date).nullable(true));
        let mut registry = Registry::new();
        registry
            .map_imperatively(
                &table,
                crate::mapping!(Worker {
                    id: Option<i64> = "id",
                    name: String = "full_name",
                    nickname: Option<String> = "nickname",
                    workload: String = "workload",
                    rate: Decimal = "rate",
                    hired_on: Option<chrono::NaiveDate> = "hired_on",
                }),
            )
            .finish();
        match registry.configure() {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        }
    }

    /// The list select and the count select of `spec`, compiled for SQLite.
    fn sqlite(spec: &ListSpec) -> Result<(String, Vec<Value>, String), DomainError> {
        let mappers = mappers();
        let info = info_of::<Worker>(&mappers)?;
        let q = SpecQuery::new(info, spec)?;
        let mut list = dialects::select(info.load_exprs().to_vec()).select_from(&info.table);
        for c in &q.conditions {
            list = list.where_(c.clone());
        }
        list = list.order_by(q.order_by.clone());
        if let Some(n) = q.limit {
            list = list.limit(n);
        }
        if let Some(n) = q.offset {
            list = list.offset(n);
        }
        let list = list
            .compile(&Sqlite)
            .map_err(|e| DomainError::internal(e.to_string()))?;
        let count = SpecQuery::new(info, &spec.without_paging())?
            .count_select(&info.table)
            .compile(&Sqlite)
            .map_err(|e| DomainError::internal(e.to_string()))?;
        Ok((list.sql, list.params, count.sql))
    }

    const COLUMNS: &str = "SELECT worker.id, worker.full_name, worker.nickname, worker.workload, \
                           worker.rate, worker.hired_on FROM worker";

    #[test]
    fn fields_map_to_columns_with_order_and_paging() -> Result<(), DomainError> {
        let spec = ListSpec::new()
            .filter_eq("name", "Vlad")
            .filter_ge("id", 10)
            .order_by_desc("name")
            .order_by_asc("id")
            .page(3, 20);
        let (sql, params, count) = sqlite(&spec)?;
        assert_eq!(
            sql,
            format!(
                "{COLUMNS} WHERE worker.full_name = ? AND worker.id >= ? \
                 ORDER BY worker.full_name DESC, worker.id LIMIT ? OFFSET ?"
            )
        );
        assert_eq!(
            params,
            [
                Value::from("Vlad"),
                Value::Int(10),
                Value::BigInt(20),
                Value::BigInt(40)
            ]
        );
        assert_eq!(
            count,
            "SELECT count(*) FROM worker WHERE worker.full_name = ? AND worker.id >= ?"
        );
        Ok(())
    }

    #[test]
    fn null_comparisons_become_is_null() -> Result<(), DomainError> {
        let spec = ListSpec::new()
            .filter_eq("nickname", None::<String>)
            .filter_ne("hired_on", None::<String>)
            .filter_is_null("rate")
            .filter_is_not_null("name");
        let (sql, params, _) = sqlite(&spec)?;
        assert_eq!(
            sql,
            format!(
                "{COLUMNS} WHERE worker.nickname IS NULL AND worker.hired_on IS NOT NULL \
                 AND worker.rate IS NULL AND worker.full_name IS NOT NULL"
            )
        );
        assert!(params.is_empty());
        Ok(())
    }

    #[test]
    fn in_lists_and_like() -> Result<(), DomainError> {
        let spec = ListSpec::new()
            .filter_in("id", [1, 2])
            .filter_in("name", Vec::<String>::new())
            .filter_not_in("nickname", Vec::<String>::new())
            .filter_not_in("workload", ["parttime"])
            .filter_like("name", "Vl%");
        let (sql, params, _) = sqlite(&spec)?;
        assert_eq!(
            sql,
            format!(
                "{COLUMNS} WHERE worker.id IN (?, ?) AND (1 = 0) AND (1 = 1) \
                 AND worker.workload NOT IN (?) AND worker.full_name LIKE ? ESCAPE '\\'"
            )
        );
        assert_eq!(
            params,
            [
                Value::Int(1),
                Value::Int(2),
                Value::from("parttime"),
                Value::from("Vl%")
            ]
        );
        Ok(())
    }

    #[test]
    fn values_take_the_column_type() -> Result<(), DomainError> {
        let spec = ListSpec::new()
            .filter_ge("rate", "12.50")
            .filter_lt("rate", 100)
            .filter_eq("hired_on", "2024-02-29")
            .filter_eq("id", "7");
        let (_, params, _) = sqlite(&spec)?;
        assert_eq!(
            params,
            [
                Value::Decimal(Decimal::new(1250, 2)),
                Value::Decimal(Decimal::from(100)),
                Value::Date(chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default()),
                Value::Int(7),
            ]
        );
        Ok(())
    }

    #[test]
    fn unknown_fields_and_misfit_values_are_invalid() {
        let invalid = |spec: ListSpec| match sqlite(&spec) {
            Err(DomainError::Invalid(message)) => message,
            other => panic!("expected Invalid, got {other:?}"),
        };
        let m = invalid(ListSpec::new().filter_eq("full_name", "Vlad"));
        assert!(
            m.contains("`Worker` has no mapped field `full_name`"),
            "{m}"
        );
        let m = invalid(ListSpec::new().order_by_asc("salary"));
        assert!(m.contains("`salary`"), "{m}");
        let m = invalid(ListSpec::new().filter_eq("id", "seven"));
        assert!(m.contains("`id`"), "{m}");
        let m = invalid(ListSpec::new().filter_eq("id", i64::MAX));
        assert!(m.contains("`id`"), "{m}");
        let m = invalid(ListSpec::new().filter_eq("workload", "contract"));
        assert!(m.contains("parttime, fulltime"), "{m}");
        let m = invalid(ListSpec::new().filter_like("id", "1%"));
        assert!(m.contains("`id`"), "{m}");
        let m = invalid(ListSpec::new().filter_eq("hired_on", "yesterday"));
        assert!(m.contains("`hired_on`"), "{m}");
        // Shape errors from the domain's own validation.
        let m = invalid(ListSpec::new().filter(Filter::new("id", FilterOp::In, 1)));
        assert!(m.contains("`id`"), "{m}");
    }

    #[derive(Debug, Clone, PartialEq)]
    struct Resume {
        id: Option<i64>,
        worker_id: i64,
        skills: domain::Related<Vec<Skill>>,
    }

    #[derive(Debug, Clone, PartialEq)]
    struct Skill {
        id: Option<i64>,
        resume_id: i64,
    }

    #[derive(Debug, Clone, PartialEq)]
    struct Crew {
        id: Option<i64>,
        resumes: Vec<Resume>,
    }

    impl Entity for Crew {
        type Id = i64;
        fn id(&self) -> Option<i64> {
            self.id
        }
    }

    const RESUMES: domain::Relation<Crew> = domain::Relation::new("resumes");
    const SKILLS: domain::Relation<Resume> = domain::Relation::new("skills");
    const BOGUS: domain::Relation<Resume> = domain::Relation::new("bogus");

    fn crew_mappers() -> Mappers {
        use crate::orm::{RelOptions, RelationshipDef};
        let crew = Table::new("crew").column(Column::new("id", SqlType::Integer).primary_key());
        let resume = Table::new("resume")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(
                Column::new("worker_id", SqlType::Integer)
                    .not_null()
                    .foreign_key("crew.id"),
            );
        let skill = Table::new("skill")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(
                Column::new("resume_id", SqlType::Integer)
                    .not_null()
                    .foreign_key("resume.id"),
            );
        let mut registry = Registry::new();
        registry
            .map_imperatively(
                &crew,
                crate::mapping!(Crew { id: Option<i64> = "id", ..{ resumes } }),
            )
            .relationship(RelationshipDef::many::<Resume, _>(
                "resumes",
                |c| &c.resumes,
                |c| &mut c.resumes,
                RelOptions::default(),
            ))
            .finish();
        registry
            .map_imperatively(
                &resume,
                crate::mapping!(Resume { id: Option<i64> = "id", worker_id: i64 = "worker_id", ..{ skills } }),
            )
            .relationship(RelationshipDef::many::<Skill, _>(
                "skills",
                |r| &r.skills,
                |r| &mut r.skills,
                RelOptions::default(),
            ))
            .finish();
        registry
            .map_imperatively(
                &skill,
                crate::mapping!(Skill { id: Option<i64> = "id", resume_id: i64 = "resume_id" }),
            )
            .finish();
        match registry.configure() {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn load_plans_become_merged_loader_options() -> Result<(), DomainError> {
        let mappers = crew_mappers();
        assert!(load_plan::<Crew>(&mappers, &[])?.is_empty());
        let options = load_plan(
            &mappers,
            &[
                Load::selectin(RESUMES).then(Load::joined(SKILLS)),
                Load::selectin(RESUMES),
            ],
        )?;
        assert_eq!(options, [orm::selectinload("resumes").joinedload("skills")]);
        Ok(())
    }

    #[test]
    fn unknown_relations_and_conflicting_strategies_are_invalid() {
        let mappers = crew_mappers();
        let invalid = |plans: &[Load<Crew>]| match load_plan(&mappers, plans) {
            Err(DomainError::Invalid(message)) => message,
            other => panic!("expected Invalid, got {other:?}"),
        };
        let m = invalid(&[Load::selectin(RESUMES).then(Load::selectin(BOGUS))]);
        assert!(
            m.contains("`resumes.bogus`") && m.contains("`Resume` has no relationship `bogus`"),
            "{m}"
        );
        let m = invalid(&[Load::selectin(RESUMES), Load::joined(RESUMES)]);
        assert!(m.contains("two different strategies"), "{m}");
        // `Worker` maps no relationship at all.
        const NONE: domain::Relation<Worker> = domain::Relation::new("resumes");
        let mappers = self::mappers();
        let err = load_plan(&mappers, &[Load::selectin(NONE)]);
        assert!(
            matches!(&err, Err(DomainError::Invalid(m)) if m.contains("no relationship `resumes`")),
            "{err:?}"
        );
    }

    #[test]
    fn errors_map_onto_domain_variants() {
        let db = |kind, code: Option<&str>, message: &str| Error::Database {
            kind,
            code: code.map(str::to_owned),
            message: message.to_owned(),
            sql: "INSERT INTO worker (name) VALUES (?)".to_owned(),
            params: None,
            detail: Default::default(),
        };
        let cases = [
            (
                db(
                    ErrorKind::Integrity(IntegrityKind::Unique),
                    Some("23505"),
                    "dup",
                ),
                "conflict",
            ),
            (
                db(ErrorKind::Integrity(IntegrityKind::ForeignKey), None, "fk"),
                "invalid",
            ),
            (
                db(ErrorKind::Integrity(IntegrityKind::NotNull), None, "nn"),
                "invalid",
            ),
            (
                db(ErrorKind::Integrity(IntegrityKind::Check), None, "ck"),
                "invalid",
            ),
            (db(ErrorKind::Data, Some("22P02"), "bad int"), "invalid"),
            (
                db(ErrorKind::Operational, Some("40001"), "could not serialize"),
                "concurrency",
            ),
            (
                db(
                    ErrorKind::Operational,
                    Some("HY000"),
                    "Lock wait timeout exceeded",
                ),
                "concurrency",
            ),
            (
                db(ErrorKind::Operational, Some("5"), "database is locked"),
                "concurrency",
            ),
            (
                db(
                    ErrorKind::Operational,
                    Some("57P01"),
                    "terminating connection",
                ),
                "unavailable",
            ),
            (
                db(ErrorKind::Programming, Some("42P01"), "no table"),
                "internal",
            ),
            (Error::PoolTimeout, "unavailable"),
            (
                Error::StaleData {
                    table: "worker".into(),
                    message: "0 matched".into(),
                },
                "concurrency",
            ),
            (Error::NoResultFound, "not found"),
            (Error::MultipleResultsFound, "internal"),
            (
                Error::PendingRollback {
                    cause: "dup".into(),
                },
                "internal",
            ),
        ];
        for (error, expected) in cases {
            let text = error.to_string();
            let got = to_domain(error);
            let name = match &got {
                DomainError::Conflict(_) => "conflict",
                DomainError::Invalid(_) => "invalid",
                DomainError::Concurrency(_) => "concurrency",
                DomainError::Unavailable(_) => "unavailable",
                DomainError::NotFound { .. } => "not found",
                DomainError::Internal(_) => "internal",
                _ => "other",
            };
            assert_eq!(name, expected, "{text} became {got:?}");
        }
        let err = to_domain(db(
            ErrorKind::Integrity(IntegrityKind::Unique),
            None,
            "duplicate key",
        ));
        assert!(
            err.to_string().contains("INSERT INTO worker"),
            "the statement is named: {err}"
        );
    }
}
