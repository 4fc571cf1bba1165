//! SQLite on sqlx: binding values, decoding values by storage class and
//! declared type, mapping result codes. The statement glue is generic
//! (`driver::exec`).

use std::sync::Arc;

use dialects::{Dialect, Sqlite, Value};
use sqlx::error::BoxDynError;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteQueryResult, SqliteRow, SqliteValueRef,
};
use sqlx::{Arguments, TypeInfo, ValueRef};

use super::Driver;
use crate::engine::sqlite_options::{JournalMode, SqliteOptions, Synchronous, URL_PARAMS};
use crate::engine::url::DatabaseUrl;
use crate::error::{DatabaseDetail, Error, ErrorKind};

/// Connect options for `url` with the pragmas of `settings` (the URL's
/// parameters first): foreign keys enforced unless turned off; the file
/// created only when the URL asks for it (`mode=rwc`), as sqlx and
/// SQLite's own URIs do.
pub(crate) fn options(
    url: &DatabaseUrl,
    settings: &SqliteOptions,
) -> Result<SqliteConnectOptions, Error> {
    use sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
    let settings = settings.with_url(url)?;
    let text = url.without_params(&URL_PARAMS);
    let mut options = super::parse_options::<SqliteConnectOptions>(url, &text)?
        .foreign_keys(settings.foreign_keys.unwrap_or(true));
    if let Some(mode) = settings.journal_mode {
        options = options.journal_mode(match mode {
            JournalMode::Delete => SqliteJournalMode::Delete,
            JournalMode::Truncate => SqliteJournalMode::Truncate,
            JournalMode::Persist => SqliteJournalMode::Persist,
            JournalMode::Memory => SqliteJournalMode::Memory,
            JournalMode::Wal => SqliteJournalMode::Wal,
            JournalMode::Off => SqliteJournalMode::Off,
        });
    }
    if let Some(level) = settings.synchronous {
        options = options.synchronous(match level {
            Synchronous::Off => SqliteSynchronous::Off,
            Synchronous::Normal => SqliteSynchronous::Normal,
            Synchronous::Full => SqliteSynchronous::Full,
            Synchronous::Extra => SqliteSynchronous::Extra,
        });
    }
    if let Some(timeout) = settings.busy_timeout {
        options = options.busy_timeout(timeout);
    }
    // REGEXP is SQLite syntax without a built-in function behind it.
    Ok(options.with_regexp())
}

pub(crate) async fn dialect(
    _conn: &mut sqlx::SqliteConnection,
) -> Result<Arc<dyn Dialect>, sqlx::Error> {
    Ok(Arc::new(Sqlite))
}

/// What a column was declared as, where that refines its values'
/// storage class (the same for every row).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Declared {
    Boolean,
    DateTime,
    Date,
    Time,
    Other,
}

/// SQLite's [`Driver`].
pub(crate) struct SqliteDriver;

impl Driver for SqliteDriver {
    type Db = sqlx::Sqlite;
    type Kind = Declared;
    type State = ();
    const NAME: &'static str = "SQLite";

    fn bind<'q>(args: &mut SqliteArguments<'q>, v: &Value) -> Result<(), BoxDynError> {
        match v {
            Value::Null => args.add(None::<i64>),
            Value::Bool(b) => args.add(*b),
            Value::SmallInt(n) => args.add(i32::from(*n)),
            Value::Int(n) => args.add(*n),
            Value::BigInt(n) => args.add(*n),
            Value::Float(f) => args.add(f64::from(*f)),
            Value::Double(f) => args.add(*f),
            // SQLite has no decimal type: the text form keeps every digit.
            #[cfg(feature = "decimal")]
            Value::Decimal(d) => args.add(d.to_string()),
            Value::String(s) => args.add(s.clone()),
            Value::Bytes(b) => args.add(b.clone()),
            #[cfg(feature = "chrono")]
            Value::Date(d) => args.add(d.to_string()),
            #[cfg(feature = "chrono")]
            Value::Time(t) => args.add(t.to_string()),
            // One text format for every timestamp, so that they sort and compare
            // like SQLite's own CURRENT_TIMESTAMP.
            #[cfg(feature = "chrono")]
            Value::DateTime(t) => args.add(t.format("%Y-%m-%d %H:%M:%S%.f").to_string()),
            #[cfg(feature = "chrono")]
            Value::DateTimeUtc(t) => {
                args.add(t.naive_utc().format("%Y-%m-%d %H:%M:%S%.f").to_string())
            }
            // The `time` crate's in the same text forms as chrono's (their
            // `Value` display), a timestamp with offset as its UTC time.
            #[cfg(feature = "time")]
            Value::TimeDate(_) | Value::TimeTime(_) | Value::TimePrimitiveDateTime(_) => {
                args.add(v.to_string())
            }
            #[cfg(feature = "time")]
            Value::TimeOffsetDateTime(t) => match dialects::value::utc_primitive(*t) {
                Some(utc) => args.add(Value::TimePrimitiveDateTime(utc).to_string()),
                None => Err(format!("{t} has no UTC form in the `time` crate's range").into()),
            },
            #[cfg(feature = "uuid")]
            Value::Uuid(u) => args.add(u.hyphenated().to_string()),
            #[cfg(feature = "json")]
            Value::Json(j) => args.add(j.to_string()),
            other => Err(format!("unsupported value type {}", other.type_name()).into()),
        }
    }

    fn kind_of(type_info: &sqlx::sqlite::SqliteTypeInfo) -> Declared {
        match type_info.name() {
            "BOOLEAN" => Declared::Boolean,
            "DATETIME" => Declared::DateTime,
            "DATE" => Declared::Date,
            "TIME" => Declared::Time,
            _ => Declared::Other,
        }
    }

    /// Decodes by the value's storage class, refined by the declared column
    /// type (SQLite stores booleans as integers and timestamps as text).
    #[inline]
    fn decode(
        declared: Declared,
        raw: SqliteValueRef<'_>,
        row: &SqliteRow,
        i: usize,
    ) -> Result<Value, Error> {
        use super::decode::decode_named as get;
        let storage = raw.type_info();
        Ok(match (storage.name(), declared) {
            ("INTEGER", Declared::Boolean) => Value::Bool(get::<i64, _>(raw, row, i)? != 0),
            ("INTEGER", _) => Value::BigInt(get(raw, row, i)?),
            ("REAL", _) => Value::Double(get(raw, row, i)?),
            ("BLOB", _) => Value::Bytes(get(raw, row, i)?),
            ("TEXT", Declared::DateTime | Declared::Date | Declared::Time) => {
                temporal(declared, get(raw, row, i)?)
            }
            _ => Value::String(get(raw, row, i)?),
        })
    }

    /// SQLite's extended result codes.
    fn classify(db: &dyn sqlx::error::DatabaseError) -> ErrorKind {
        // ON DELETE RESTRICT fails as a trigger constraint (1811) whose
        // message names the foreign key.
        if db.message().contains("FOREIGN KEY constraint failed") {
            return ErrorKind::Integrity(crate::error::IntegrityKind::ForeignKey);
        }
        db.code()
            .and_then(|c| c.parse::<i32>().ok())
            .map_or(ErrorKind::Other, crate::error::kind_from_sqlite_code)
    }

    /// What the message names, and `SQLITE_BUSY` / `SQLITE_LOCKED` as
    /// conflicts.
    fn detail(db: &dyn sqlx::error::DatabaseError) -> DatabaseDetail {
        let mut detail = super::messages::sqlite(db.message());
        detail.conflict = db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(crate::error::sqlite_code_is_conflict);
        detail
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    fn last_insert_id(done: &SqliteQueryResult) -> Option<i64> {
        Some(done.last_insert_rowid())
    }
}

/// A date, time or timestamp column's text as chrono's value (feature
/// `chrono`), the `time` crate's (feature `time` alone), or the text
/// itself when it does not parse or neither feature is on.
fn temporal(declared: Declared, s: String) -> Value {
    #[cfg(feature = "chrono")]
    {
        use std::str::FromStr;
        let parsed = match declared {
            Declared::DateTime => parse_datetime(&s).map(Value::DateTime),
            Declared::Date => chrono::NaiveDate::from_str(&s).ok().map(Value::Date),
            _ => chrono::NaiveTime::from_str(&s).ok().map(Value::Time),
        };
        parsed.unwrap_or(Value::String(s))
    }
    #[cfg(all(feature = "time", not(feature = "chrono")))]
    {
        let text = Value::String(s);
        let parsed = match declared {
            Declared::DateTime => time::PrimitiveDateTime::try_from(text.clone())
                .ok()
                .map(Value::TimePrimitiveDateTime),
            Declared::Date => time::Date::try_from(text.clone()).ok().map(Value::TimeDate),
            _ => time::Time::try_from(text.clone()).ok().map(Value::TimeTime),
        };
        parsed.unwrap_or(text)
    }
    #[cfg(not(any(feature = "chrono", feature = "time")))]
    {
        let _ = declared;
        Value::String(s)
    }
}

/// A timestamp in any of the text forms SQLite's date functions and
/// drivers write.
#[cfg(feature = "chrono")]
fn parse_datetime(s: &str) -> Option<chrono::NaiveDateTime> {
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
}
