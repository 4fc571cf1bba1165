//! The testcontainers path: a PostgreSQL or MariaDB container per image,
//! shared by every test process of a run.
//!
//! Containers are started with the testcontainers modules' definitions
//! (their environment variables, port and readiness lines) on the image
//! asked for, named after it and marked for reuse: the first test process
//! starts the container, later ones (nextest runs one process per test)
//! find it by name and reuse it. A lock file in the temporary directory
//! serialises the start, so two processes never race to create it. A
//! reused container is left running after the tests, as testcontainers'
//! reuse intends; `docker rm -f` it (its name is printed) or let CI do so.
//!
//! Nothing is pulled here: [`availability`] says whether the engine answers
//! and the image is present, and the server choice falls back to a local
//! server when it is not.

use std::fmt;
use std::time::{Duration, Instant};

use testcontainers::bollard::Docker;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ImageExt, ReuseDirective};
use testcontainers_modules::{mariadb::Mariadb, postgres::Postgres};

use crate::engine::url::Backend;

use super::TestingError;

/// A container image, `name:tag`.
///
/// ```
/// use persistence::testing::ContainerImage;
/// let image = ContainerImage::parse("persistence-test/postgres:15")?;
/// assert_eq!((image.name.as_str(), image.tag.as_str()), ("persistence-test/postgres", "15"));
/// assert_eq!(ContainerImage::parse("postgres")?.tag, "latest");
/// assert_eq!(ContainerImage::postgres().to_string(), "postgres:18");
/// # Ok::<(), persistence::testing::TestingError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContainerImage {
    /// The repository, `postgres` or `registry.example/team/postgres`.
    pub name: String,
    /// The tag.
    pub tag: String,
}

impl ContainerImage {
    /// `name:tag`.
    pub fn new(name: impl Into<String>, tag: impl Into<String>) -> Self {
        ContainerImage {
            name: name.into(),
            tag: tag.into(),
        }
    }

    /// The official PostgreSQL image at its current major version,
    /// `postgres:18` (the testcontainers module's own default,
    /// `11-alpine`, is past its end of life).
    pub fn postgres() -> Self {
        Self::new("postgres", "18")
    }

    /// The official MariaDB image at its current long-term release,
    /// `mariadb:11.8`.
    pub fn mariadb() -> Self {
        Self::new("mariadb", "11.8")
    }

    /// Parses `name[:tag]` (a registry port, `host:5000/name`, is not a tag).
    pub fn parse(reference: &str) -> Result<Self, TestingError> {
        let reference = reference.trim();
        let slash = reference.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match reference[slash..].rfind(':') {
            Some(i) => (&reference[..slash + i], &reference[slash + i + 1..]),
            None => (reference, "latest"),
        };
        if name.is_empty() || tag.is_empty() || reference.contains(char::is_whitespace) {
            return Err(TestingError::Config(format!(
                "`{reference}` is not an image reference (expected name:tag)"
            )));
        }
        Ok(Self::new(name, tag))
    }

    /// The name of the shared container of this image.
    fn container_name(&self) -> String {
        let safe: String = self
            .to_string()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        format!("persistence-test-db-{safe}")
    }
}

impl fmt::Display for ContainerImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name, self.tag)
    }
}

/// Whether the container path can be taken for an image.
#[derive(Debug)]
pub(crate) enum Availability {
    /// The engine answers and the image is present.
    Ready,
    /// No engine answers.
    NoEngine(String),
    /// The engine answers; the image is not present.
    NoImage,
}

impl Availability {
    /// Why the container path was not taken, for messages.
    pub(crate) fn describe(&self, image: &ContainerImage) -> String {
        match self {
            Availability::Ready => format!("image {image} is ready"),
            Availability::NoEngine(why) => format!("no Docker engine answers ({why})"),
            Availability::NoImage => format!(
                "the Docker engine has no image {image} (`docker pull {image}`, or build one \
                 with scripts/docker-images.sh and set TEST_POSTGRES_IMAGE / TEST_MYSQL_IMAGE)"
            ),
        }
    }
}

/// Asks the Docker engine (`DOCKER_HOST`, else the local socket) whether
/// it runs and has `image`, without pulling anything.
pub(crate) async fn availability(image: &ContainerImage) -> Availability {
    let docker = match Docker::connect_with_defaults() {
        Ok(d) => d,
        Err(e) => return Availability::NoEngine(e.to_string()),
    };
    match tokio::time::timeout(Duration::from_secs(5), docker.ping()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Availability::NoEngine(e.to_string()),
        Err(_) => return Availability::NoEngine("no answer within 5 s".into()),
    }
    match docker.inspect_image(&image.to_string()).await {
        Ok(_) => Availability::Ready,
        Err(testcontainers::bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }) => Availability::NoImage,
        Err(e) => Availability::NoEngine(e.to_string()),
    }
}

/// A started (or reused) container.
pub(crate) struct Started {
    pub admin_url: String,
    pub name: String,
}

/// Starts the shared container of `image` for `backend`, or reuses it, and
/// waits until it accepts connections.
pub(crate) async fn start(
    backend: Backend,
    image: &ContainerImage,
) -> Result<Started, TestingError> {
    let fail = |message: String| TestingError::Container {
        image: image.to_string(),
        message,
    };
    let name = image.container_name();
    let lock_path = std::env::temp_dir().join(format!("{name}.lock"));
    let lock = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
        let file = std::fs::File::create(&lock_path)?;
        file.lock()?;
        Ok(file)
    })
    .await
    .map_err(|e| fail(format!("lock task failed: {e}")))?
    .map_err(|e| fail(format!("cannot take the start lock: {e}")))?;

    let (port, admin_url) = match backend {
        Backend::Postgres => {
            let container = Postgres::default()
                .with_name(&image.name)
                .with_tag(&image.tag)
                .with_cmd([
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=300",
                ])
                .with_container_name(&name)
                .with_reuse(ReuseDirective::Always)
                .with_startup_timeout(Duration::from_secs(120))
                .start()
                .await
                .map_err(|e| fail(e.to_string()))?;
            let port = container
                .get_host_port_ipv4(5432)
                .await
                .map_err(|e| fail(e.to_string()))?;
            (
                port,
                format!("postgres://postgres:postgres@127.0.0.1:{port}/postgres"),
            )
        }
        _ => {
            let container = Mariadb::default()
                .with_name(&image.name)
                .with_tag(&image.tag)
                .with_cmd([
                    "--max-connections=500",
                    "--innodb-flush-log-at-trx-commit=0",
                    "--character-set-server=utf8mb4",
                    "--collation-server=utf8mb4_general_ci",
                ])
                .with_container_name(&name)
                .with_reuse(ReuseDirective::Always)
                .with_startup_timeout(Duration::from_secs(120))
                .start()
                .await
                .map_err(|e| fail(e.to_string()))?;
            let port = container
                .get_host_port_ipv4(3306)
                .await
                .map_err(|e| fail(e.to_string()))?;
            (port, format!("mysql://root@127.0.0.1:{port}/mysql"))
        }
    };
    // A reused container that was stopped is started without waiting for
    // its readiness lines: wait for a connection instead.
    wait_for_connection(&admin_url, Duration::from_secs(60))
        .await
        .map_err(|e| fail(format!("port {port} does not accept connections: {e}")))?;
    drop(lock);
    Ok(Started { admin_url, name })
}

/// Polls `url` until an engine connects, or `limit` passes.
pub(crate) async fn wait_for_connection(url: &str, limit: Duration) -> Result<(), crate::Error> {
    let start = Instant::now();
    loop {
        match crate::create_engine(url).await {
            Ok(engine) => {
                engine.dispose().await;
                return Ok(());
            }
            Err(e) if start.elapsed() >= limit => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
