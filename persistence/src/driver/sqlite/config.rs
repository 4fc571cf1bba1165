//! How to open an SQLite database: the file (or shared in-memory
//! database) a `sqlite:` URL names, the open flags its `mode` / `cache` /
//! `immutable` / `vfs` parameters ask for, whether statements may run on
//! the caller's thread (`inline`), and the pragmas of [`SqliteOptions`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rusqlite::OpenFlags;

use crate::engine::sqlite_options::{JournalMode, SqliteOptions, Synchronous, URL_PARAMS};
use crate::engine::url::DatabaseUrl;
use crate::error::Error;

/// Numbers the in-memory databases: each parsed `sqlite::memory:` URL is a
/// database of its own, shared by every connection opened from it.
static MEMORY_SEQ: AtomicUsize = AtomicUsize::new(0);

/// What SQLite waits for a lock by default (sqlx's default, kept).
const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared statements kept per connection.
pub(crate) const STATEMENT_CACHE: usize = 100;

/// How to open connections to one SQLite database.
#[derive(Debug, Clone)]
pub(crate) struct SqliteConfig {
    /// The name passed to `sqlite3_open_v2` (a path, or a `file:` URI).
    pub(crate) filename: String,
    pub(crate) flags: OpenFlags,
    pub(crate) busy_timeout: Duration,
    /// `PRAGMA ...;` statements run on each new connection, in order.
    pub(crate) pragmas: String,
    /// Whether a statement may run on the caller's thread when the
    /// connection's own is idle (`inline=off` in the URL: never; see the
    /// module docs of [`super`]).
    pub(crate) inline: bool,
}

/// The error for a URL parameter SQLite does not take.
fn invalid(url: &DatabaseUrl, reason: String) -> Error {
    Error::InvalidUrl {
        url: url.redacted(),
        reason,
    }
}

/// `%XX` escapes decoded (a path in a URL); invalid escapes stay as they are.
fn percent_decode(text: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|c| (*c as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'%'));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
}

/// `text` with its `%`, `?` and `#` escaped, for a `file:` URI.
fn uri_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' | '?' | '#' => out.push_str(&format!("%{:02X}", c as u32)),
            _ => out.push(c),
        }
    }
    out
}

impl SqliteConfig {
    /// The config for `url` with the pragmas of `settings` (the URL's
    /// parameters first): foreign keys enforced unless turned off; the file
    /// created only when the URL asks for it (`mode=rwc`).
    pub(crate) fn from_url(url: &DatabaseUrl, settings: &SqliteOptions) -> Result<Self, Error> {
        let settings = settings.with_url(url)?;
        let text = url.without_params(&URL_PARAMS);
        let rest = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
            .unwrap_or(&text);
        let (database, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (mut in_memory, mut shared_cache) = (false, false);
        let (mut read_only, mut create) = (false, false);
        let mut uri_params: Vec<(&str, String)> = Vec::new();
        let mut inline = true;
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match (&*key, &*value) {
                ("mode", "ro") => read_only = true,
                ("mode", "rw") => {}
                ("mode", "rwc") => create = true,
                ("mode", "memory") => (in_memory, shared_cache) = (true, true),
                ("cache", "private") => shared_cache = false,
                ("cache", "shared") => shared_cache = true,
                ("immutable", "true" | "1") => uri_params.push(("immutable", "true".into())),
                ("immutable", "false" | "0") => {}
                ("vfs", v) => uri_params.push(("vfs", v.to_owned())),
                ("inline", "on" | "true" | "1") => inline = true,
                ("inline", "off" | "false" | "0") => inline = false,
                ("mode" | "cache" | "immutable" | "inline", v) => {
                    return Err(invalid(url, format!("unknown value {v:?} for `{key}`")))
                }
                (k, _) => {
                    return Err(invalid(
                        url,
                        format!("unknown query parameter `{k}` for SQLite"),
                    ))
                }
            }
        }
        let mut filename = if database == ":memory:" {
            (in_memory, shared_cache) = (true, true);
            let seq = MEMORY_SEQ.fetch_add(1, Ordering::Relaxed);
            format!("file:persistence-memory-{seq}")
        } else {
            percent_decode(database)
                .map_err(|_| invalid(url, "the path is not valid UTF-8".into()))?
        };
        if filename.contains('\0') {
            return Err(invalid(url, "the path contains a NUL byte".into()));
        }
        if !uri_params.is_empty() {
            let query: Vec<String> = uri_params
                .iter()
                .map(|(k, v)| format!("{k}={}", uri_escape(v)))
                .collect();
            filename = format!("file:{}?{}", uri_escape(&filename), query.join("&"));
        }
        let mut flags = OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        flags |= if read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else if create {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        };
        if in_memory {
            flags |= OpenFlags::SQLITE_OPEN_MEMORY;
        }
        flags |= if shared_cache {
            OpenFlags::SQLITE_OPEN_SHARED_CACHE
        } else {
            OpenFlags::SQLITE_OPEN_PRIVATE_CACHE
        };
        Ok(SqliteConfig {
            filename,
            flags,
            busy_timeout: settings.busy_timeout.unwrap_or(DEFAULT_BUSY_TIMEOUT),
            pragmas: pragmas(&settings),
            inline,
        })
    }
}

/// The pragmas `settings` ask for, in the order sqlx ran them.
fn pragmas(settings: &SqliteOptions) -> String {
    let mut out = String::new();
    if let Some(mode) = settings.journal_mode {
        let mode = match mode {
            JournalMode::Delete => "DELETE",
            JournalMode::Truncate => "TRUNCATE",
            JournalMode::Persist => "PERSIST",
            JournalMode::Memory => "MEMORY",
            JournalMode::Wal => "WAL",
            JournalMode::Off => "OFF",
        };
        out.push_str(&format!("PRAGMA journal_mode = {mode}; "));
    }
    let on = if settings.foreign_keys.unwrap_or(true) {
        "ON"
    } else {
        "OFF"
    };
    out.push_str(&format!("PRAGMA foreign_keys = {on}; "));
    if let Some(level) = settings.synchronous {
        let level = match level {
            Synchronous::Off => "OFF",
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
            Synchronous::Extra => "EXTRA",
        };
        out.push_str(&format!("PRAGMA synchronous = {level}; "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> SqliteConfig {
        let url = DatabaseUrl::parse(url).unwrap();
        SqliteConfig::from_url(&url, &SqliteOptions::default()).unwrap()
    }

    #[test]
    fn memory_databases_are_shared_and_distinct() {
        let (a, b) = (config("sqlite::memory:"), config("sqlite::memory:"));
        assert_ne!(a.filename, b.filename);
        assert!(a.flags.contains(OpenFlags::SQLITE_OPEN_MEMORY));
        assert!(a.flags.contains(OpenFlags::SQLITE_OPEN_SHARED_CACHE));
    }

    #[test]
    fn files_are_created_only_with_rwc() {
        let rw = config("sqlite:/tmp/a%20b.db");
        assert_eq!(rw.filename, "/tmp/a b.db");
        assert!(!rw.flags.contains(OpenFlags::SQLITE_OPEN_CREATE));
        let rwc = config("sqlite:///tmp/a.db?mode=rwc");
        assert_eq!(rwc.filename, "/tmp/a.db");
        assert!(rwc.flags.contains(OpenFlags::SQLITE_OPEN_CREATE));
        assert!(rwc.inline);
        let ro = config("sqlite:a.db?mode=ro&immutable=1");
        assert!(ro.flags.contains(OpenFlags::SQLITE_OPEN_READ_ONLY));
        assert_eq!(ro.filename, "file:a.db?immutable=true");
    }

    #[test]
    fn inline_can_be_turned_off() {
        assert!(config("sqlite:a.db?inline=on").inline);
        let off = config("sqlite:a.db?mode=rwc&inline=off");
        assert!(!off.inline);
        assert_eq!(off.filename, "a.db");
        assert!(!config("sqlite::memory:?inline=0").inline);
    }

    #[test]
    fn unknown_parameters_are_refused() {
        let url = DatabaseUrl::parse("sqlite:a.db?mode=bogus").unwrap();
        assert!(SqliteConfig::from_url(&url, &SqliteOptions::default()).is_err());
        let url = DatabaseUrl::parse("sqlite:a.db?inline=sometimes").unwrap();
        assert!(SqliteConfig::from_url(&url, &SqliteOptions::default()).is_err());
        let url = DatabaseUrl::parse("sqlite:a.db?nonsense=1").unwrap();
        assert!(SqliteConfig::from_url(&url, &SqliteOptions::default()).is_err());
    }
}
