//! Database URLs: which backend a URL names, its query parameters, and its
//! text with every secret hidden.
//!
//! Server URLs (`postgres://`, `mysql://`, `mariadb://`) are parsed with the
//! `url` crate. SQLite URLs are not URLs in its sense (`sqlite::memory:`,
//! `sqlite:relative.db`, `sqlite:///abs/path.db`), so only their query string
//! is parsed (as `application/x-www-form-urlencoded`, the `url` crate's
//! `form_urlencoded`), and their path is handed to the driver as written.
//!
//! TLS settings are read in either backend's spelling: `sslmode=require`
//! and `ssl-mode=REQUIRED` mean the same on PostgreSQL and on MySQL, as do
//! `sslrootcert` and `ssl-ca`.

use std::borrow::Cow;

use url::Url;

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

/// Query parameters whose values are secrets, masked by
/// [`DatabaseUrl::redacted`].
const SECRET_PARAMS: [&str; 6] = [
    "password",
    "pass",
    "pwd",
    "sslpassword",
    "ssl-password",
    "ssl-key-password",
];

/// The text that replaces a secret.
const MASK: &str = "***";

/// A parsed database URL.
///
/// ```
/// use persistence::{Backend, DatabaseUrl};
/// let url = DatabaseUrl::parse("postgres://app:secret@127.0.0.1:5432/app?sslmode=require").unwrap();
/// assert_eq!(url.backend(), Backend::Postgres);
/// assert_eq!(url.redacted(), "postgres://app:***@127.0.0.1:5432/app?sslmode=require");
/// assert_eq!(url.param("sslmode").as_deref(), Some("require"));
///
/// // A password in the query string is hidden too.
/// let url = DatabaseUrl::parse("postgres://app@db/app?password=secret").unwrap();
/// assert_eq!(url.redacted(), "postgres://app@db/app?password=***");
///
/// assert!(DatabaseUrl::parse("oracle://x").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    /// The text the driver is given.
    text: String,
    /// The decoded query parameters, in order.
    params: Vec<(String, String)>,
    /// The decoded secrets the URL holds (password in the user info or the
    /// query), for scrubbing driver messages.
    secrets: Vec<String>,
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DatabaseUrl")
            .field(&self.redacted())
            .finish()
    }
}

impl DatabaseUrl {
    /// Parses `url`: `postgres://`, `postgresql://`, `sqlite:` (`sqlite::memory:`,
    /// `sqlite:path`, `sqlite://path`), `mysql://` or `mariadb://`.
    ///
    /// A malformed URL is [`Error::InvalidUrl`] (its password hidden), an
    /// unknown scheme [`Error::UnsupportedScheme`].
    pub fn parse(url: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidUrl {
            url: redact(url),
            reason,
        };
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(invalid(
                "no scheme (expected for example sqlite::memory: or postgres://...)".into(),
            ));
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
        if backend == Backend::Sqlite {
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            let params = decode_query(query);
            let secrets = params
                .iter()
                .filter(|(k, v)| is_secret(k) && !v.is_empty())
                .map(|(_, v)| v.clone())
                .collect();
            return Ok(DatabaseUrl {
                backend,
                text: format!("sqlite:{path}{}", encode_query(&params)),
                params,
                secrets,
            });
        }
        if !rest.starts_with("//") {
            return Err(invalid(format!("expected {scheme}://host...")));
        }
        let mut parsed = Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        if parsed.host_str().is_none_or(str::is_empty) && !has_socket_param(&parsed) {
            return Err(invalid("no host".into()));
        }
        if backend == Backend::MySql && !scheme.eq_ignore_ascii_case("mysql") {
            parsed
                .set_scheme("mysql")
                .map_err(|()| invalid("cannot use the mysql scheme".into()))?;
        }
        let mut params = decode_query(parsed.query().unwrap_or(""));
        normalize_tls(backend, &mut params).map_err(invalid)?;
        let mut secrets: Vec<String> = params
            .iter()
            .filter(|(k, v)| is_secret(k) && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect();
        if let Some(p) = parsed.password() {
            let decoded = percent_decode(p);
            if !decoded.is_empty() {
                secrets.push(decoded.into_owned());
            }
            if !p.is_empty() {
                secrets.push(p.to_owned());
            }
        }
        set_query(&mut parsed, &params);
        Ok(DatabaseUrl {
            backend,
            text: parsed.into(),
            params,
            secrets,
        })
    }

    /// The backend the URL names.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL the driver is given (with its password): `mariadb://` spelled
    /// `mysql://`, TLS parameters in the backend's own spelling.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The (decoded) value of query parameter `name`, the last one when it
    /// is given several times.
    pub fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| Cow::Borrowed(v.as_str()))
    }

    /// The query parameters, decoded, in order.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The URL with its password (in the user info and in the query string)
    /// replaced by `***`, for messages and logs.
    pub fn redacted(&self) -> String {
        redact(&self.text)
    }

    /// `text` with every secret of this URL replaced by `***`: for driver
    /// messages, which may quote the URL or a part of it.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), MASK);
        }
        out
    }

    /// Whether this is an in-memory SQLite database.
    pub fn is_sqlite_memory(&self) -> bool {
        self.backend == Backend::Sqlite
            && (self.text.starts_with("sqlite::memory:")
                || self.text.starts_with("sqlite://:memory:")
                || self.param("mode").as_deref() == Some("memory"))
    }

    /// The URL without the query parameters named in `names` (for options
    /// the engine reads itself, which the driver would refuse).
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn without_params(&self, names: &[&str]) -> String {
        let kept: Vec<(String, String)> = self
            .params
            .iter()
            .filter(|(k, _)| !names.contains(&k.as_str()))
            .cloned()
            .collect();
        let base = self.text.split_once('?').map_or(&*self.text, |(b, _)| b);
        format!("{base}{}", encode_query(&kept))
    }
}

/// Whether query parameter `key` holds a secret.
fn is_secret(key: &str) -> bool {
    SECRET_PARAMS.iter().any(|s| key.eq_ignore_ascii_case(s))
}

/// Whether a server URL names a Unix socket instead of a host.
fn has_socket_param(url: &Url) -> bool {
    url.query_pairs()
        .any(|(k, _)| k == "host" || k == "socket" || k == "hostaddr")
}

/// `s` percent-decoded (as UTF-8, lossily); `+` stays a `+`, as in the
/// user info of a URL.
fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// The pairs of a query string, decoded.
fn decode_query(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// `?k=v&...` for `params`, or nothing when there are none.
fn encode_query(params: &[(String, String)]) -> String {
    if params.is_empty() {
        return String::new();
    }
    let mut out = url::form_urlencoded::Serializer::for_suffix(String::from("?"), 1);
    out.extend_pairs(params);
    out.finish()
}

/// Replaces `url`'s query with `params`.
fn set_query(url: &mut Url, params: &[(String, String)]) {
    if params.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(params);
    }
}

/// Rewrites TLS parameters into the spelling of `backend`'s driver:
/// PostgreSQL's `sslmode` values (`disable`, `allow`, `prefer`, `require`,
/// `verify-ca`, `verify-full`) and MySQL's `ssl-mode` values (`DISABLED`,
/// `PREFERRED`, `REQUIRED`, `VERIFY_CA`, `VERIFY_IDENTITY`) are accepted
/// on both; `sslrootcert` is MySQL's `ssl-ca`.
fn normalize_tls(backend: Backend, params: &mut [(String, String)]) -> Result<(), String> {
    for (key, value) in params.iter_mut() {
        match key.as_str() {
            "sslmode" | "ssl-mode" | "ssl_mode" => {
                let mode = TlsMode::parse(value).ok_or_else(|| {
                    format!(
                        "unknown TLS mode `{value}` for `{key}` (expected disable, prefer, \
                         require, verify-ca or verify-full)"
                    )
                })?;
                *key = match backend {
                    Backend::MySql => "ssl-mode",
                    _ => "sslmode",
                }
                .to_owned();
                *value = mode.spelling(backend).to_owned();
            }
            "sslrootcert" | "ssl-root-cert" if backend == Backend::MySql => {
                "ssl-ca".clone_into(key);
            }
            _ => {}
        }
    }
    Ok(())
}

/// A TLS mode, in either backend's spelling.
#[derive(Clone, Copy)]
enum TlsMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl TlsMode {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "disable" | "disabled" => TlsMode::Disable,
            "allow" => TlsMode::Allow,
            "prefer" | "preferred" => TlsMode::Prefer,
            "require" | "required" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" | "verify-identity" => TlsMode::VerifyFull,
            _ => return None,
        })
    }

    fn spelling(self, backend: Backend) -> &'static str {
        match (backend, self) {
            (Backend::MySql, TlsMode::Disable) => "DISABLED",
            (Backend::MySql, TlsMode::Allow | TlsMode::Prefer) => "PREFERRED",
            (Backend::MySql, TlsMode::Require) => "REQUIRED",
            (Backend::MySql, TlsMode::VerifyCa) => "VERIFY_CA",
            (Backend::MySql, TlsMode::VerifyFull) => "VERIFY_IDENTITY",
            (_, TlsMode::Disable) => "disable",
            (_, TlsMode::Allow) => "allow",
            (_, TlsMode::Prefer) => "prefer",
            (_, TlsMode::Require) => "require",
            (_, TlsMode::VerifyCa) => "verify-ca",
            (_, TlsMode::VerifyFull) => "verify-full",
        }
    }
}

/// Hides the secrets of a URL: the password of `scheme://user:password@host`
/// and the values of `password=` (and similar) query parameters. Text that
/// does not parse as a URL is masked the same way, by its shape.
///
/// ```
/// use persistence::engine::url::redact;
/// assert_eq!(redact("mysql://u:p%40ss@h/db"), "mysql://u:***@h/db");
/// assert_eq!(redact("postgres://u@h/db?sslmode=require&password=x"),
///            "postgres://u@h/db?sslmode=require&password=***");
/// assert_eq!(redact("postgres://u:secret@[not a host/db"), "postgres://u:***@[not a host/db");
/// ```
pub fn redact(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut out = redact_userinfo(base);
    if !query.is_empty() || url.contains('?') {
        out.push('?');
        out.push_str(&redact_query(query));
    }
    out
}

/// The password of `scheme://user:password@host...` masked (also when the
/// `//` is missing, as in a mistyped `postgres:user:password@host`).
fn redact_userinfo(base: &str) -> String {
    let Some(colon) = base.find(':') else {
        return base.to_owned();
    };
    let (scheme, rest) = base.split_at(colon + 1);
    let slashes = if rest.starts_with("//") { 2 } else { 0 };
    let (head_rest, rest) = rest.split_at(slashes);
    // The user info ends at the last `@` before the path.
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return base.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}{head_rest}{user}:{MASK}@{host}{path}"),
        None => base.to_owned(),
    }
}

/// A query string with the values of secret parameters masked, the rest
/// as written.
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_secret(&percent_decode(k)) => format!("{k}={MASK}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> DatabaseUrl {
        match DatabaseUrl::parse(url) {
            Ok(u) => u,
            Err(e) => panic!("{url}: {e}"),
        }
    }

    #[test]
    fn passwords_are_masked_in_user_info_and_query() {
        assert_eq!(
            parse("postgres://app:s3cr%2Ft@db:5432/app").redacted(),
            "postgres://app:***@db:5432/app"
        );
        assert_eq!(
            parse("mysql://app@db/app?password=s3cret&ssl-mode=REQUIRED").redacted(),
            "mysql://app@db/app?password=***&ssl-mode=REQUIRED"
        );
        assert_eq!(
            parse("postgres://app@db/app?sslpassword=k").redacted(),
            "postgres://app@db/app?sslpassword=***"
        );
        // No password: nothing to hide.
        assert_eq!(
            parse("postgres://app@db/app").redacted(),
            "postgres://app@db/app"
        );
    }

    #[test]
    fn driver_messages_are_scrubbed_of_secrets() {
        let url = parse("postgres://app:p%40ss@db/app?password=other");
        assert_eq!(
            url.scrub("failed for p@ss and p%40ss and other"),
            "failed for *** and *** and ***"
        );
    }

    #[test]
    fn invalid_urls_do_not_show_their_password() {
        for bad in [
            "postgres://app:hunter2@[::1/app",
            "postgres:app:hunter2@db",
            "mysql://app:hunter2@db:notaport/app",
        ] {
            match DatabaseUrl::parse(bad) {
                Err(e @ Error::InvalidUrl { .. }) => {
                    assert!(!e.to_string().contains("hunter2"), "{e}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn mariadb_is_mysql_and_tls_modes_are_translated() {
        let url = parse("mariadb://u:p@h/db?sslmode=verify-full&sslrootcert=/ca.pem");
        assert_eq!(url.backend(), Backend::MySql);
        assert_eq!(
            url.as_str(),
            "mysql://u:p@h/db?ssl-mode=VERIFY_IDENTITY&ssl-ca=%2Fca.pem"
        );
        let url = parse("postgres://u@h/db?ssl-mode=REQUIRED");
        assert_eq!(url.as_str(), "postgres://u@h/db?sslmode=require");
        match DatabaseUrl::parse("postgres://u@h/db?sslmode=sometimes") {
            Err(Error::InvalidUrl { reason, .. }) => assert!(reason.contains("`sometimes`")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sqlite_urls_keep_their_path() {
        let url = parse("sqlite:Data/App.db?mode=rwc&journal_mode=WAL");
        assert_eq!(url.as_str(), "sqlite:Data/App.db?mode=rwc&journal_mode=WAL");
        assert_eq!(url.param("journal_mode").as_deref(), Some("WAL"));
        assert_eq!(
            url.without_params(&["journal_mode"]),
            "sqlite:Data/App.db?mode=rwc"
        );
        assert!(parse("sqlite::memory:").is_sqlite_memory());
        assert!(parse("sqlite://:memory:").is_sqlite_memory());
        assert!(!parse("sqlite://app.db").is_sqlite_memory());
    }

    #[test]
    fn server_urls_need_a_host() {
        assert!(matches!(
            DatabaseUrl::parse("postgres:///db"),
            Err(Error::InvalidUrl { .. })
        ));
        // ... unless a socket is named.
        parse("postgres:///db?host=/var/run/postgresql");
    }
}
