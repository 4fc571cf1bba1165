//! The parameter types of the statements a PostgreSQL connection has
//! prepared, remembered per connection so that a value of another width
//! still binds.
//!
//! sqlx's `PgConnection` caches a prepared statement per SQL text with
//! the parameter types of its first execution, and later sends values in
//! their own binary form whatever types the statement declares: an
//! `INT8` sent for an `INT4` parameter fails with SQLSTATE 22P03 (sqlx
//! issue #2885), an `INT4` sent for a `FLOAT4` one is misread. So each
//! connection keeps [`ParamTypes`]: per SQL text (a 64-bit hash of it),
//! the types its statement declares.
//!
//! * Values of those types (nearly every statement) bind as they are: the
//!   fast path, one hash and one lookup, no allocation. A new SQL text is
//!   remembered with its values' own types, the types sqlx prepares it
//!   with.
//! * Values of other types take the slow path, [`declared_arguments`]: it
//!   asks sqlx for the statement (its cached one, no round trip; else one
//!   prepared now), remembers the types it declares and binds each value
//!   converted to its place's type where that loses nothing
//!   (`convert::bind_as`). A value that would change (5_000_000_000 for
//!   an `INT4`, 0.1 for a `FLOAT4`) has the statement prepared afresh with
//!   the values' own types, as on a new connection; sqlx cannot evict one
//!   statement, so its whole cache goes (each statement is prepared again
//!   on its next use). A statement's results so never depend on which
//!   values prepared it.
//!
//! The memo and sqlx's cache agree because every statement is sent with
//! the memo's types: one that sqlx evicted or dropped is prepared again
//! with them. A NULL is sent with the type the memo has for its place, or
//! untyped (OID 0, the server infers) where the memo has none. When the
//! memo is full (4096 texts, or 2^20 types in all: 4 MiB) it and sqlx's
//! cache are cleared together.
//!
//! `PostgresDriver::arguments` and `PostgresDriver::declared_arguments`
//! call in here, for every statement with parameters except DDL (sent
//! unprepared, with its own types each time).

use std::collections::HashMap;
use std::hash::BuildHasher;

use dialects::StatementKind;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgArguments, PgTypeInfo};
use sqlx::{Arguments as _, Connection as _, Either, Executor as _, Statement as _};

use super::convert::{bind_as, natural_oid};
use super::PostgresDriver;
use crate::driver::{map_sqlx_error, Driver, DriverError, Params};

/// How many SQL texts a connection remembers; the next one clears the
/// memo and sqlx's statement cache together.
const CAPACITY: usize = 4096;

/// How many parameter types, over all its SQL texts, a connection
/// remembers (multi-row INSERTs have thousands each); past that the next
/// new text clears the memo and sqlx's statement cache together.
const MAX_TYPES: usize = 1 << 20;

/// Per SQL text (its hash), the parameter types (OIDs) of the statement
/// the connection prepared for it; 0 where the type is not known (a NULL
/// was bound there on the first execution and the server inferred it).
#[derive(Debug, Default)]
pub(crate) struct ParamTypes {
    statements: HashMap<u64, Box<[u32]>, foldhash::fast::RandomState>,
    /// The types of all `statements`, counted.
    types: usize,
}

impl ParamTypes {
    /// Whether a new SQL text must wait for the memo to be cleared.
    fn full(&self) -> bool {
        self.statements.len() >= CAPACITY || self.types >= MAX_TYPES
    }

    /// Remembers `types` for the SQL text hashed to `key`.
    fn remember(&mut self, key: u64, types: Box<[u32]>) {
        self.types += types.len();
        if let Some(old) = self.statements.insert(key, types) {
            self.types -= old.len();
        }
    }

    /// Forgets every SQL text.
    fn clear(&mut self) {
        self.statements.clear();
        self.types = 0;
    }

    /// `params` bound for `sql` with the types the memo has for it, or
    /// `None` when some value's type differs (or the memo is full): then
    /// [`declared_arguments`] binds them.
    pub(crate) fn arguments<P: Params + ?Sized>(
        &mut self,
        sql: &str,
        kind: StatementKind,
        params: &P,
    ) -> Result<Option<PgArguments>, DriverError> {
        let count = params.count();
        if count == 0 || kind == StatementKind::Ddl {
            return natural(params, None).map(Some);
        }
        let key = self.statements.hasher().hash_one(sql);
        match self.statements.get(&key) {
            Some(known) if known.len() == count => as_known(params, known),
            // The server rejects a wrong count; let it say so.
            Some(_) => natural(params, None).map(Some),
            None if self.full() => Ok(None),
            None => {
                let mut oids = Vec::with_capacity(count);
                let args = natural(params, Some(&mut oids))?;
                self.remember(key, oids.into_boxed_slice());
                Ok(Some(args))
            }
        }
    }
}

/// `params` bound for `sql` as the statement prepared on `conn` declares
/// them (the slow path, see the module's doc), the declared types
/// remembered in `memo`.
pub(crate) async fn declared_arguments<P: Params + ?Sized>(
    conn: &mut sqlx::PgConnection,
    memo: &mut ParamTypes,
    sql: &str,
    params: &P,
) -> Result<PgArguments, DriverError> {
    if memo.full() {
        conn.clear_cached_statements().await.map_err(sqlx_error)?;
        memo.clear();
    }
    let key = memo.statements.hasher().hash_one(sql);
    let known = memo.statements.get(&key).map(|k| &k[..]);
    let declared = prepared_types(conn, sql, wanted_types(params, known)).await?;
    if declared.len() != params.count() {
        // The server rejects a wrong count; let it say so.
        return natural(params, None);
    }
    let (declared, args) = match as_declared(params, &declared)? {
        Some(args) => (declared, args),
        None => {
            // A value would change: prepare the statement afresh with the
            // values' own types.
            conn.clear_cached_statements().await.map_err(sqlx_error)?;
            let wanted = wanted_types(params, Some(&declared));
            let declared = prepared_types(conn, sql, wanted).await?;
            match as_declared(params, &declared)? {
                Some(args) => (declared, args),
                // Not reached: the statement declares the values' types.
                None => return natural(params, None),
            }
        }
    };
    memo.remember(key, declared);
    Ok(args)
}

/// The parameter types (OIDs) of the statement sqlx has for `sql` on
/// `conn`, prepared now with `types` when it has none.
async fn prepared_types(
    conn: &mut sqlx::PgConnection,
    sql: &str,
    types: Vec<PgTypeInfo>,
) -> Result<Box<[u32]>, DriverError> {
    let statement = conn.prepare_with(sql, &types).await.map_err(sqlx_error)?;
    Ok(match statement.parameters() {
        Some(Either::Left(declared)) => declared.iter().map(oid_of).collect(),
        _ => types.iter().map(oid_of).collect(),
    })
}

/// A sqlx failure, classified as the driver does.
fn sqlx_error(e: sqlx::Error) -> DriverError {
    map_sqlx_error::<PostgresDriver>(e)
}

/// The OID of `ty`, 0 when it has none yet (a type named, not resolved).
fn oid_of(ty: &PgTypeInfo) -> u32 {
    ty.oid().map_or(0, |o| o.0)
}

/// The types to prepare `params` with: each value's own, and for a NULL
/// the type `known` has for its place, if any.
fn wanted_types<P: Params + ?Sized>(params: &P, known: Option<&[u32]>) -> Vec<PgTypeInfo> {
    params
        .values()
        .enumerate()
        .map(|(i, v)| match natural_oid(v) {
            0 => known.and_then(|k| k.get(i)).copied().unwrap_or(0),
            own => own,
        })
        .map(|o| PgTypeInfo::with_oid(Oid(o)))
        .collect()
}

/// `params` bound with their own types, recording those (0 for NULL) in
/// `oids` when given.
fn natural<P: Params + ?Sized>(
    params: &P,
    mut oids: Option<&mut Vec<u32>>,
) -> Result<PgArguments, DriverError> {
    let mut args = PgArguments::default();
    args.reserve(params.count(), 0);
    for v in params.values() {
        if let Some(oids) = oids.as_deref_mut() {
            oids.push(natural_oid(v));
        }
        PostgresDriver::bind(&mut args, v).map_err(data_error)?;
    }
    Ok(args)
}

/// `params` bound as the memo's types `known` say, or `None` when a
/// value's type differs from its place's (or its place's is unknown).
fn as_known<P: Params + ?Sized>(
    params: &P,
    known: &[u32],
) -> Result<Option<PgArguments>, DriverError> {
    let mut args = PgArguments::default();
    args.reserve(known.len(), 0);
    for (v, &want) in params.values().zip(known) {
        let own = natural_oid(v);
        if own == 0 {
            args.add(NullOf(want)).map_err(data_error)?;
        } else if own == want {
            PostgresDriver::bind(&mut args, v).map_err(data_error)?;
        } else {
            return Ok(None);
        }
    }
    Ok(Some(args))
}

/// `params` bound converted to the types `declared`, or `None` when one
/// does not fit its place's type without loss.
fn as_declared<P: Params + ?Sized>(
    params: &P,
    declared: &[u32],
) -> Result<Option<PgArguments>, DriverError> {
    let mut args = PgArguments::default();
    args.reserve(declared.len(), 0);
    for (v, &want) in params.values().zip(declared) {
        if !bind_as(&mut args, v, want).map_err(data_error)? {
            return Ok(None);
        }
    }
    Ok(Some(args))
}

/// A value the driver could not bind, as a data error.
fn data_error(e: BoxDynError) -> DriverError {
    DriverError::data(PostgresDriver::NAME, e.to_string())
}

/// A NULL of the type with OID `.0`; 0 sends it untyped, for the server
/// to infer from where it is used (so a NULL fits any column).
pub(crate) struct NullOf(pub(crate) u32);

impl sqlx::Type<sqlx::Postgres> for NullOf {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for NullOf {
    fn encode_by_ref(&self, _buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Ok(IsNull::Yes)
    }

    fn produces(&self) -> Option<PgTypeInfo> {
        Some(PgTypeInfo::with_oid(Oid(self.0)))
    }
}

#[cfg(test)]
mod tests {
    use dialects::Value;

    use super::*;

    /// Whether `memo` binds `params` for `sql` without asking the server.
    fn fast(memo: &mut ParamTypes, sql: &str, kind: StatementKind, params: &[Value]) -> bool {
        match memo.arguments(sql, kind, params) {
            Ok(args) => args.is_some(),
            Err(_) => panic!("binding failed"),
        }
    }

    #[test]
    fn a_new_text_is_remembered_and_matching_values_bind_directly() {
        use StatementKind::{Ddl, Query};
        let mut memo = ParamTypes::default();
        let sql = "SELECT $1, $2";
        let (int, big, null) = (Value::Int(1), Value::BigInt(1), Value::Null);
        assert!(fast(&mut memo, sql, Query, &[int.clone(), null.clone()]));
        // Same types, and a NULL where the type was an INT4: fast.
        assert!(fast(&mut memo, sql, Query, &[null.clone(), null.clone()]));
        // Another width, or a value where only a NULL was seen: slow.
        assert!(!fast(&mut memo, sql, Query, &[big.clone(), null.clone()]));
        assert!(!fast(&mut memo, sql, Query, &[int.clone(), int.clone()]));
        // DDL is sent unprepared: never remembered.
        assert!(fast(&mut memo, sql, Ddl, &[big, null]));
    }

    #[test]
    fn a_full_memo_asks_for_the_slow_path() {
        use StatementKind::Query;
        let mut memo = ParamTypes::default();
        let one = [Value::Int(1)];
        for i in 0..CAPACITY {
            assert!(fast(&mut memo, &format!("SELECT $1 + {i}"), Query, &one));
        }
        assert!(!fast(&mut memo, "SELECT $1", Query, &one));
        // Known texts still bind directly.
        assert!(fast(&mut memo, "SELECT $1 + 0", Query, &one));
        memo.clear();
        assert!(fast(&mut memo, "SELECT $1", Query, &one));
    }

    #[test]
    fn the_memo_counts_the_types_it_holds() {
        use StatementKind::Query;
        let mut memo = ParamTypes::default();
        let wide = vec![Value::Int(1); 1 << 16];
        for i in 0..16 {
            assert!(fast(&mut memo, &format!("INSERT {i}"), Query, &wide));
        }
        assert_eq!(memo.types, MAX_TYPES);
        assert!(!fast(&mut memo, "SELECT $1", Query, &[Value::Int(1)]));
        // Types declared anew replace the old ones in the count.
        memo.remember(0, vec![0; 3].into_boxed_slice());
        memo.remember(0, vec![0; 2].into_boxed_slice());
        assert_eq!(memo.types, MAX_TYPES + 2);
    }
}
