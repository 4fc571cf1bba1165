//! SQLite's connection settings: the pragmas a connection is opened with,
//! from [`EngineOptions::sqlite`](crate::EngineOptions::sqlite) or the
//! URL's query (`sqlite:app.db?mode=rwc&journal_mode=WAL&busy_timeout=5000`).
//!
//! | URL parameter | option | values | default |
//! |---|---|---|---|
//! | `mode` | (URL only) | `ro`, `rw`, `rwc`, `memory` | `rw`: the file must exist; `rwc` creates it |
//! | `journal_mode` | [`SqliteOptions::journal_mode`] | `delete`, `truncate`, `persist`, `memory`, `wal`, `off` | SQLite's (`delete`; `memory` for in-memory databases) |
//! | `synchronous` | [`SqliteOptions::synchronous`] | `off`, `normal`, `full`, `extra` | SQLite's (`full`) |
//! | `busy_timeout` | [`SqliteOptions::busy_timeout`] | milliseconds | 5000 |
//! | `foreign_keys` | [`SqliteOptions::foreign_keys`] | `true`/`false`, `on`/`off`, `1`/`0` | on |

use std::time::Duration;

use crate::engine::url::DatabaseUrl;
use crate::error::Error;

/// SQLite's journal modes (`PRAGMA journal_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JournalMode {
    /// The rollback journal is deleted after each transaction.
    Delete,
    /// ... truncated.
    Truncate,
    /// ... kept, its header zeroed.
    Persist,
    /// ... kept in memory.
    Memory,
    /// Write-ahead log: readers do not block the writer.
    Wal,
    /// No journal (no rollback).
    Off,
}

/// SQLite's `PRAGMA synchronous` levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Synchronous {
    /// No fsync.
    Off,
    /// Fsync at critical moments (safe with WAL).
    Normal,
    /// Fsync after each transaction.
    Full,
    /// Full, and the directory too.
    Extra,
}

/// SQLite's pragmas for every connection an engine opens; `None` leaves
/// SQLite's (or the driver's) default.
///
/// ```
/// use std::time::Duration;
/// use persistence::{EngineOptions, JournalMode, SqliteOptions, Synchronous};
/// let options = EngineOptions::default().sqlite(SqliteOptions {
///     journal_mode: Some(JournalMode::Wal),
///     synchronous: Some(Synchronous::Normal),
///     busy_timeout: Some(Duration::from_secs(10)),
///     foreign_keys: Some(true),
///     begin_immediate: None,
/// });
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqliteOptions {
    /// `PRAGMA journal_mode`.
    pub journal_mode: Option<JournalMode>,
    /// `PRAGMA synchronous`.
    pub synchronous: Option<Synchronous>,
    /// How long a statement waits for another connection's lock before
    /// `SQLITE_BUSY` (5 s when `None`).
    pub busy_timeout: Option<Duration>,
    /// `PRAGMA foreign_keys` (on when `None`).
    pub foreign_keys: Option<bool>,
    /// Begin transactions with `BEGIN IMMEDIATE` (off when `None`): each
    /// takes the write lock at its start, waiting up to `busy_timeout` for
    /// it, instead of at its first write. Concurrent read-then-write
    /// transactions then queue instead of failing with `SQLITE_BUSY` (a
    /// deferred transaction that read before another connection wrote
    /// cannot write any more); reads serialise too. Savepoints are
    /// unaffected. Not a URL parameter.
    pub begin_immediate: Option<bool>,
}

/// The URL parameters this module reads (the driver would refuse them).
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) const URL_PARAMS: [&str; 4] = [
    "journal_mode",
    "synchronous",
    "busy_timeout",
    "foreign_keys",
];

impl SqliteOptions {
    /// `self`, overridden by what `url`'s query says.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn with_url(&self, url: &DatabaseUrl) -> Result<SqliteOptions, Error> {
        let invalid = |name: &str, value: &str, expected: &str| Error::InvalidUrl {
            url: url.redacted(),
            reason: format!("`{name}={value}`: expected {expected}"),
        };
        let mut out = self.clone();
        if let Some(v) = url.param("journal_mode") {
            out.journal_mode = Some(match v.to_ascii_lowercase().as_str() {
                "delete" => JournalMode::Delete,
                "truncate" => JournalMode::Truncate,
                "persist" => JournalMode::Persist,
                "memory" => JournalMode::Memory,
                "wal" => JournalMode::Wal,
                "off" => JournalMode::Off,
                _ => {
                    return Err(invalid(
                        "journal_mode",
                        &v,
                        "delete, truncate, persist, memory, wal or off",
                    ))
                }
            });
        }
        if let Some(v) = url.param("synchronous") {
            out.synchronous = Some(match v.to_ascii_lowercase().as_str() {
                "off" | "0" => Synchronous::Off,
                "normal" | "1" => Synchronous::Normal,
                "full" | "2" => Synchronous::Full,
                "extra" | "3" => Synchronous::Extra,
                _ => return Err(invalid("synchronous", &v, "off, normal, full or extra")),
            });
        }
        if let Some(v) = url.param("busy_timeout") {
            let ms: u64 = v
                .parse()
                .map_err(|_| invalid("busy_timeout", &v, "milliseconds"))?;
            out.busy_timeout = Some(Duration::from_millis(ms));
        }
        if let Some(v) = url.param("foreign_keys") {
            out.foreign_keys = Some(match v.to_ascii_lowercase().as_str() {
                "true" | "on" | "1" | "yes" => true,
                "false" | "off" | "0" | "no" => false,
                _ => return Err(invalid("foreign_keys", &v, "true or false")),
            });
        }
        Ok(out)
    }
}
