//! `Engine`: a pool of connections to one database plus its dialect.

use std::sync::Arc;
use std::time::Duration;

use dialects::Dialect;

use super::connection::Connection;
use super::url::{Backend, DatabaseUrl};
use crate::driver::{self, DriverPool, PoolSettings};
use crate::error::Error;

/// Options of [`create_engine_with`].
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Log every statement, its parameters and its duration through `tracing`
    /// (target `persistence::echo`, level INFO).
    pub echo: bool,
    /// Leave parameters out of error messages and echo logs.
    pub redact_params: bool,
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// Connections the pool keeps open while idle.
    pub min_connections: u32,
    /// How long a checkout waits for a free connection before
    /// [`Error::PoolTimeout`].
    pub acquire_timeout: Duration,
    /// How long opening a connection may take before the server counts as unreachable.
    pub connect_timeout: Duration,
    /// Close connections idle for longer than this.
    pub idle_timeout: Option<Duration>,
    /// Close connections older than this (recycle).
    pub max_lifetime: Option<Duration>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            echo: false,
            redact_params: false,
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
        }
    }
}

impl EngineOptions {
    /// Turns statement logging on or off.
    pub fn echo(mut self, on: bool) -> Self {
        self.echo = on;
        self
    }

    /// Sets the most connections the pool opens.
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Sets the checkout timeout.
    pub fn acquire_timeout(mut self, t: Duration) -> Self {
        self.acquire_timeout = t;
        self
    }

    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Leaves parameters out of errors and logs.
    pub fn redact_params(mut self, on: bool) -> Self {
        self.redact_params = on;
        self
    }
}

struct EngineInner {
    url: DatabaseUrl,
    pool: DriverPool,
    dialect: Arc<dyn Dialect>,
    options: EngineOptions,
}

/// A database: its pool, its dialect and its options. Cheap to clone; every
/// clone shares the pool.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("url", &self.inner.url.redacted())
            .field("dialect", &self.inner.dialect.name())
            .finish()
    }
}

/// Connects to `url` with default options (SQLAlchemy's `create_engine`).
///
/// The server is contacted once, so an unreachable one is reported here as
/// [`Error::Connect`]; an unknown scheme is [`Error::UnsupportedScheme`].
pub async fn create_engine(url: &str) -> Result<Engine, Error> {
    create_engine_with(url, EngineOptions::default()).await
}

/// Connects to `url` with `options`.
pub async fn create_engine_with(url: &str, options: EngineOptions) -> Result<Engine, Error> {
    let url = DatabaseUrl::parse(url)?;
    let settings = PoolSettings {
        max_connections: options.max_connections,
        min_connections: options.min_connections,
        acquire_timeout: options.acquire_timeout,
        connect_timeout: options.connect_timeout,
        idle_timeout: options.idle_timeout,
        max_lifetime: options.max_lifetime,
    };
    let (pool, dialect) = driver::connect(&url, &settings).await?;
    Ok(Engine {
        inner: Arc::new(EngineInner {
            url,
            pool,
            dialect,
            options,
        }),
    })
}

impl Engine {
    /// Checks out a connection; it returns to the pool when dropped.
    pub async fn connect(&self) -> Result<Connection, Error> {
        let conn = self.inner.pool.acquire().await?;
        Ok(Connection::new(self.clone(), conn))
    }

    /// The dialect statements are compiled for.
    pub fn dialect(&self) -> &dyn Dialect {
        &*self.inner.dialect
    }

    /// The backend this engine talks to.
    pub fn backend(&self) -> Backend {
        self.inner.url.backend()
    }

    /// The URL, password hidden.
    pub fn url(&self) -> String {
        self.inner.url.redacted()
    }

    /// The engine's options.
    pub fn options(&self) -> &EngineOptions {
        &self.inner.options
    }

    /// Closes every pooled connection; later checkouts fail.
    pub async fn dispose(&self) {
        self.inner.pool.close().await;
    }
}
