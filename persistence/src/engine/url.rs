//! Database URLs: which backend a URL names, and its text with the password hidden.

use crate::error::Error;

/// The database backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite (embedded).
    Sqlite,
    /// MySQL or MariaDB.
    MySql,
}

impl Backend {
    /// The backend's name, as used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "PostgreSQL",
            Backend::Sqlite => "SQLite",
            Backend::MySql => "MySQL",
        }
    }
}

/// A parsed database URL.
///
/// ```
/// use persistence::{Backend, DatabaseUrl};
/// let url = DatabaseUrl::parse("postgres://app:secret@127.0.0.1:5432/app").unwrap();
/// assert_eq!(url.backend(), Backend::Postgres);
/// assert_eq!(url.redacted(), "postgres://app:***@127.0.0.1:5432/app");
/// assert!(DatabaseUrl::parse("oracle://x").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    url: String,
}

impl DatabaseUrl {
    /// Parses `url`: `postgres://`, `postgresql://`, `sqlite:` (`sqlite::memory:`,
    /// `sqlite://path`), `mysql://` or `mariadb://`.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(Error::InvalidUrl {
                url: redact(url),
                reason: "no scheme (expected for example sqlite::memory: or postgres://...)".into(),
            });
        };
        let backend = match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Backend::Postgres,
            "sqlite" => Backend::Sqlite,
            "mysql" | "mariadb" => Backend::MySql,
            other => {
                return Err(Error::UnsupportedScheme {
                    scheme: other.to_owned(),
                })
            }
        };
        if backend != Backend::Sqlite && !rest.starts_with("//") {
            return Err(Error::InvalidUrl {
                url: redact(url),
                reason: format!("expected {scheme}://host..."),
            });
        }
        let url = if scheme.eq_ignore_ascii_case("mariadb") {
            format!("mysql:{rest}")
        } else {
            url.to_owned()
        };
        Ok(DatabaseUrl { backend, url })
    }

    /// The backend the URL names.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL as given (with its password), for the driver.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The URL with its password replaced by `***`, for messages and logs.
    pub fn redacted(&self) -> String {
        redact(&self.url)
    }

    /// Whether this is an in-memory SQLite database.
    pub fn is_sqlite_memory(&self) -> bool {
        self.backend == Backend::Sqlite && self.url.contains(":memory:")
    }
}

/// Hides the password of `scheme://user:password@host`.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &rest[..at];
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &rest[at..]),
        None => url.to_owned(),
    }
}
