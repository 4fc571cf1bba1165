//! Which server a test database lives on: [`ServerSource`] (what to try)
//! and [`ServerKind`] (what was used), and the once-per-process choice.
//!
//! [`ServerSource::Auto`] tries, in order:
//!
//! 1. the backend's URL variable, `TEST_POSTGRES_URL` / `TEST_MYSQL_URL`
//!    (a user that may create databases);
//! 2. testcontainers, when a Docker engine answers **and** the image is
//!    present locally (`TEST_POSTGRES_IMAGE` / `TEST_MYSQL_IMAGE`, else
//!    [`ContainerImage::postgres`] / [`ContainerImage::mariadb`]); an
//!    absent image is never pulled here, so no test fails at a pull;
//! 3. a throwaway server started from the machine's binaries (Debian's
//!    `postgresql` / `mariadb-server` packages), stopped when the test
//!    process exits.
//!
//! `TEST_DATABASE_SOURCE=url|container|local` forces one of them (CI uses
//! it to be sure which path ran); a forced source that cannot be had is an
//! error, never a silent fallback. A server is chosen once per process and
//! backend, and the choice is printed to stderr once.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::engine::url::Backend;

use super::container::{self, ContainerImage};
use super::local::{self, LocalServer};
use super::TestingError;

/// Forces one source for [`ServerSource::Auto`]: `url`, `container`,
/// `local` or `auto`.
pub const SOURCE_VAR: &str = "TEST_DATABASE_SOURCE";

/// Where the server of a [`TestDatabase`](super::TestDatabase) comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ServerSource {
    /// The URL variable, else a container, else a local server (see the
    /// module docs); `TEST_DATABASE_SOURCE` narrows it to one.
    #[default]
    Auto,
    /// A running server whose user may create databases.
    Url(String),
    /// A container of this image, started (or reused) with testcontainers.
    Container(ContainerImage),
    /// A throwaway server started from the machine's binaries.
    Local,
}

/// The kind of server a test database got.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerKind {
    /// SQLite, in memory.
    Embedded,
    /// A server given by URL.
    Url,
    /// A testcontainers container.
    Container {
        /// The image, `name:tag`.
        image: String,
        /// The container's name (reused by later test processes).
        name: String,
    },
    /// A throwaway local server.
    Local {
        /// Its data directory (removed when the test process exits).
        data_dir: PathBuf,
    },
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerKind::Embedded => f.write_str("embedded SQLite"),
            ServerKind::Url => f.write_str("a server given by URL"),
            ServerKind::Container { image, name } => {
                write!(f, "testcontainers (image {image}, container {name})")
            }
            ServerKind::Local { data_dir } => {
                write!(
                    f,
                    "a throwaway local server (data in {})",
                    data_dir.display()
                )
            }
        }
    }
}

/// A server to create test databases on.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    /// A URL whose user may create and drop databases.
    pub admin_url: String,
    pub kind: ServerKind,
    /// Keeps a local server running while the process lives.
    _local: Option<Arc<LocalServer>>,
}

/// The URL variable of `backend`.
pub(crate) fn url_var(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "TEST_POSTGRES_URL",
        _ => "TEST_MYSQL_URL",
    }
}

/// The image variable of `backend`.
pub(crate) fn image_var(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "TEST_POSTGRES_IMAGE",
        _ => "TEST_MYSQL_IMAGE",
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The image for `backend`: its variable, else the default.
fn image_for(backend: Backend) -> Result<ContainerImage, TestingError> {
    match env(image_var(backend)) {
        Some(reference) => ContainerImage::parse(&reference),
        None => Ok(match backend {
            Backend::Postgres => ContainerImage::postgres(),
            _ => ContainerImage::mariadb(),
        }),
    }
}

/// Servers chosen so far in this process, by backend and source.
static CHOSEN: Mutex<Vec<(Backend, ServerSource, Server)>> = Mutex::new(Vec::new());
/// Serialises the choice, so that concurrent tests start one server.
static CHOOSING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn chosen(backend: Backend, source: &ServerSource) -> Option<Server> {
    let list = CHOSEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    list.iter()
        .find(|(b, s, _)| *b == backend && s == source)
        .map(|(_, _, server)| server.clone())
}

/// The server for `backend` from `source`, chosen once per process.
pub(crate) async fn server(
    backend: Backend,
    source: &ServerSource,
) -> Result<Server, TestingError> {
    if let Some(server) = chosen(backend, source) {
        return Ok(server);
    }
    let _choosing = CHOOSING.lock().await;
    if let Some(server) = chosen(backend, source) {
        return Ok(server);
    }
    let server = choose(backend, source).await?;
    eprintln!(
        "persistence::testing: {backend:?} tests use {} at {}",
        server.kind,
        crate::engine::url::redact(&server.admin_url)
    );
    CHOSEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push((backend, source.clone(), server.clone()));
    Ok(server)
}

async fn choose(backend: Backend, source: &ServerSource) -> Result<Server, TestingError> {
    let forced = match source {
        ServerSource::Auto => match env(SOURCE_VAR).as_deref() {
            None | Some("auto") => None,
            Some("url") => match env(url_var(backend)) {
                Some(url) => Some(ServerSource::Url(url)),
                None => {
                    return Err(TestingError::NoServer {
                        backend,
                        tried: format!("{SOURCE_VAR}=url but {} is not set", url_var(backend)),
                    })
                }
            },
            Some("container") => Some(ServerSource::Container(image_for(backend)?)),
            Some("local") => Some(ServerSource::Local),
            Some(other) => {
                return Err(TestingError::Config(format!(
                    "{SOURCE_VAR}=`{other}`: expected url, container, local or auto"
                )))
            }
        },
        other => Some(other.clone()),
    };
    match forced {
        Some(ServerSource::Url(url)) => Ok(from_url(url)),
        Some(ServerSource::Container(image)) => from_container(backend, &image).await,
        Some(ServerSource::Local) => from_local(backend).await,
        Some(ServerSource::Auto) | None => auto(backend).await,
    }
}

fn from_url(url: String) -> Server {
    Server {
        admin_url: url,
        kind: ServerKind::Url,
        _local: None,
    }
}

async fn from_container(backend: Backend, image: &ContainerImage) -> Result<Server, TestingError> {
    let started = container::start(backend, image).await?;
    Ok(Server {
        admin_url: started.admin_url,
        kind: ServerKind::Container {
            image: image.to_string(),
            name: started.name,
        },
        _local: None,
    })
}

async fn from_local(backend: Backend) -> Result<Server, TestingError> {
    let local = tokio::task::spawn_blocking(move || local::start(backend))
        .await
        .map_err(|e| TestingError::LocalServer {
            backend,
            message: format!("the start-up task failed: {e}"),
        })??;
    local.wait_ready().await?;
    Ok(Server {
        admin_url: local.admin_url.clone(),
        kind: ServerKind::Local {
            data_dir: local.dir.clone(),
        },
        _local: Some(Arc::new(local)),
    })
}

async fn auto(backend: Backend) -> Result<Server, TestingError> {
    let mut tried = Vec::new();
    match env(url_var(backend)) {
        Some(url) => return Ok(from_url(url)),
        None => tried.push(format!("{} is not set", url_var(backend))),
    }
    let image = image_for(backend)?;
    match container::availability(&image).await {
        container::Availability::Ready => return from_container(backend, &image).await,
        other => tried.push(other.describe(&image)),
    }
    match local::missing_binaries(backend) {
        None => return from_local(backend).await,
        Some(missing) => tried.push(format!(
            "no local server binaries ({missing}; install Debian's {})",
            match backend {
                Backend::Postgres => "postgresql",
                _ => "mariadb-server",
            }
        )),
    }
    Err(TestingError::NoServer {
        backend,
        tried: tried.join("; "),
    })
}
