//! Creating and dropping a [`MetaData`]'s tables on a connection.

use dialects::compiler::ddl;
use dialects::MetaData;

use super::connection::Connection;
use crate::error::Error;

/// `create_all` / `drop_all` for a [`MetaData`] (SQLAlchemy's
/// `metadata.create_all(conn)`), in foreign-key order.
#[allow(async_fn_in_trait)]
pub trait SchemaExt {
    /// Creates every table and index that does not exist yet, parents first.
    async fn create_all(&self, conn: &mut Connection) -> Result<(), Error>;
    /// Drops every table that exists, children first.
    async fn drop_all(&self, conn: &mut Connection) -> Result<(), Error>;
}

impl SchemaExt for MetaData {
    async fn create_all(&self, conn: &mut Connection) -> Result<(), Error> {
        // MySQL has no CREATE INDEX IF NOT EXISTS; create indexes only with
        // the table they belong to.
        let checkfirst_indexes = conn.engine().dialect().features().index_if_exists;
        let mut created_table = false;
        for stmt in ddl::create_all(self, true)? {
            match stmt {
                ddl::Ddl::CreateTable(ct) => {
                    let before = table_exists(conn, ct.table.name()).await?;
                    created_table = !before;
                    if !before {
                        conn.execute(&ct).await?;
                    }
                }
                ddl::Ddl::CreateIndex(mut ci) => {
                    if checkfirst_indexes {
                        conn.execute(&ci).await?;
                    } else if created_table {
                        ci.if_not_exists = false;
                        conn.execute(&ci).await?;
                    }
                }
                other => {
                    conn.execute(&other).await?;
                }
            }
        }
        Ok(())
    }

    async fn drop_all(&self, conn: &mut Connection) -> Result<(), Error> {
        for stmt in ddl::drop_all(self, true)? {
            conn.execute(&stmt).await?;
        }
        Ok(())
    }
}

/// Whether a table named `name` exists in the current database or schema.
async fn table_exists(conn: &mut Connection, name: &str) -> Result<bool, Error> {
    use crate::engine::url::Backend;
    let sql = match conn.engine().backend() {
        Backend::Postgres => {
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = :name"
        }
        Backend::Sqlite => "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :name",
        Backend::MySql => {
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = :name"
        }
    };
    let n = conn
        .execute(&dialects::text(sql).bind("name", name))
        .await?
        .scalar()
        .and_then(|v| v.as_i64())
        .unwrap_or(0);
    Ok(n > 0)
}
