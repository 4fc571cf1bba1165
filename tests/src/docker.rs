//! The testcontainers path: servers in Docker containers, one per backend
//! per test process, for machines where a Docker engine runs.

use testcontainers_modules::testcontainers::runners::AsyncRunner;
use testcontainers_modules::testcontainers::ContainerAsync;
use tokio::sync::OnceCell;

use crate::TestBackend;

/// Whether a Docker engine seems to be there (a socket or `DOCKER_HOST`).
pub(crate) fn available() -> bool {
    std::env::var_os("DOCKER_HOST").is_some()
        || std::path::Path::new("/var/run/docker.sock").exists()
}

static POSTGRES: OnceCell<(
    ContainerAsync<testcontainers_modules::postgres::Postgres>,
    String,
)> = OnceCell::const_new();
static MARIADB: OnceCell<(
    ContainerAsync<testcontainers_modules::mariadb::Mariadb>,
    String,
)> = OnceCell::const_new();

/// Starts (once per process) a container for `backend` and gives its admin URL.
pub(crate) async fn server_url(backend: TestBackend) -> Result<String, String> {
    match backend {
        TestBackend::Postgres => POSTGRES
            .get_or_try_init(|| async {
                let c = testcontainers_modules::postgres::Postgres::default()
                    .start()
                    .await
                    .map_err(|e| e.to_string())?;
                let port = c
                    .get_host_port_ipv4(5432)
                    .await
                    .map_err(|e| e.to_string())?;
                let url = format!("postgres://postgres:postgres@127.0.0.1:{port}/postgres");
                Ok((c, url))
            })
            .await
            .map(|(_, url)| url.clone()),
        TestBackend::MySql => MARIADB
            .get_or_try_init(|| async {
                let c = testcontainers_modules::mariadb::Mariadb::default()
                    .start()
                    .await
                    .map_err(|e| e.to_string())?;
                let port = c
                    .get_host_port_ipv4(3306)
                    .await
                    .map_err(|e| e.to_string())?;
                let url = format!("mysql://root@127.0.0.1:{port}/test");
                Ok((c, url))
            })
            .await
            .map(|(_, url)| url.clone()),
        TestBackend::Sqlite => Ok("sqlite::memory:".to_owned()),
    }
}
