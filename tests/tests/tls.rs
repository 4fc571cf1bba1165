//! TLS to PostgreSQL and MariaDB, against the servers `scripts/test.sh`
//! starts with a certificate signed by a throwaway CA (for 127.0.0.1 and
//! localhost): `sslmode` / `ssl-mode` in the URL (either backend's
//! spelling) are honoured, a certificate is verified against the CA the
//! URL names, and a URL that requires TLS is refused by a server without
//! it. The servers come from `TEST_POSTGRES_TLS_URL`, `TEST_MYSQL_TLS_URL`,
//! `TEST_TLS_CA` and `TEST_TLS_OTHER_CA`; a test that finds none fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use persistence::dialects::text;
use persistence::{create_engine, Engine, Error};
use tests::TestBackend;

fn env(name: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| {
        panic!("{name} is not set: run the TLS tests through scripts/test.sh, which makes a CA and starts servers with TLS")
    })
}

/// The TLS server of `backend` with `query` appended to its URL.
fn tls_url(backend: TestBackend, query: &str) -> String {
    let base = match backend {
        TestBackend::Postgres => env("TEST_POSTGRES_TLS_URL"),
        _ => env("TEST_MYSQL_TLS_URL"),
    };
    format!("{base}?{query}")
}

/// The URL of the plain (TLS-less) server of `backend`.
fn plain_url(backend: TestBackend, query: &str) -> String {
    let base = match backend {
        TestBackend::Postgres => env("TEST_POSTGRES_URL"),
        _ => env("TEST_MYSQL_URL"),
    };
    format!("{base}?{query}")
}

/// Whether the engine's connection is encrypted, as the server sees it.
async fn encrypted(engine: &Engine) -> bool {
    let mut conn = engine.connect().await.unwrap();
    let sql = match engine.backend() {
        persistence::Backend::Postgres => {
            "SELECT CASE WHEN ssl THEN 1 ELSE 0 END FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        }
        _ => {
            "SELECT CASE WHEN VARIABLE_VALUE <> '' THEN 1 ELSE 0 END FROM \
              information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'"
        }
    };
    let v = conn.execute(&text(sql)).await.unwrap().scalar().unwrap();
    v.as_i64() == Some(1)
}

async fn connect_encrypted(url: &str) {
    let engine = create_engine(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    assert!(
        encrypted(&engine).await,
        "{url}: the connection is not encrypted"
    );
    engine.dispose().await;
}

/// A connect failure for `url` whose message contains one of `needles`.
async fn refused(url: &str, needles: &[&str]) -> String {
    match create_engine(url).await {
        Err(e @ Error::Connect { .. }) => {
            let text = e.to_string();
            assert!(
                needles.iter().any(|n| text.to_lowercase().contains(n)),
                "{url}: {text}"
            );
            text
        }
        Err(other) => panic!("{url}: expected a connect error, got {other:?}"),
        Ok(_) => panic!("{url}: connected, but should have been refused"),
    }
}

async fn tls_modes(backend: TestBackend) {
    let ca = env("TEST_TLS_CA");
    let other_ca = env("TEST_TLS_OTHER_CA");
    // `require`: encrypted, the certificate not checked.
    connect_encrypted(&tls_url(backend, "sslmode=require")).await;
    // ... in MySQL's spelling too, on either backend.
    connect_encrypted(&tls_url(backend, "ssl-mode=REQUIRED")).await;
    // `verify-ca` and `verify-full` against the CA that signed it, by IP
    // and by name.
    connect_encrypted(&tls_url(
        backend,
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    ))
    .await;
    connect_encrypted(&tls_url(
        backend,
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .await;
    let by_name = tls_url(backend, &format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}"))
        .replace("127.0.0.1", "localhost");
    connect_encrypted(&by_name).await;
    // The default (`prefer`) takes TLS when the server offers it;
    // `disable` does not.
    connect_encrypted(&tls_url(backend, "")).await;
    let engine = create_engine(&tls_url(backend, "sslmode=disable"))
        .await
        .unwrap();
    assert!(!encrypted(&engine).await);
    engine.dispose().await;
    // A certificate from another CA is refused.
    refused(
        &tls_url(
            backend,
            &format!("sslmode=verify-full&sslrootcert={other_ca}"),
        ),
        &["certificate", "unknownissuer", "unknown issuer"],
    )
    .await;
}

async fn tls_required_by_a_server_without_tls(backend: TestBackend) {
    // The plain servers have no TLS: a URL that requires it is refused,
    // saying so, and the URL's password stays hidden.
    let text = refused(&plain_url(backend, "sslmode=require"), &["tls", "ssl"]).await;
    assert!(!text.contains(":test@"), "{text}");
    // `prefer` falls back to a plain connection.
    let engine = create_engine(&plain_url(backend, "sslmode=prefer"))
        .await
        .unwrap();
    assert!(!encrypted(&engine).await);
    engine.dispose().await;
}

mod postgres {
    use tests::TestBackend;

    #[tokio::test]
    async fn tls_modes() {
        super::tls_modes(TestBackend::Postgres).await;
    }

    #[tokio::test]
    async fn tls_required_by_a_server_without_tls() {
        super::tls_required_by_a_server_without_tls(TestBackend::Postgres).await;
    }
}

mod mysql {
    use tests::TestBackend;

    #[tokio::test]
    async fn tls_modes() {
        super::tls_modes(TestBackend::MySql).await;
    }

    #[tokio::test]
    async fn tls_required_by_a_server_without_tls() {
        super::tls_required_by_a_server_without_tls(TestBackend::MySql).await;
    }
}
