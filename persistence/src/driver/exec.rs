//! The statement loop shared by the three sqlx drivers.

use dialects::StatementKind;
use futures_util::TryStreamExt;
use sqlx::{Database, Executor};

/// Runs `sql` with `args` on `conn`: the rows it returned and how many
/// rows it changed. Queries fetch rows; DDL only executes; DML and text
/// may do both (`RETURNING`), so they read the full response stream.
pub(crate) async fn run<'q, DB>(
    conn: &mut DB::Connection,
    sql: &'q str,
    args: <DB as Database>::Arguments<'q>,
    kind: StatementKind,
    affected: fn(&DB::QueryResult) -> u64,
) -> Result<(Vec<DB::Row>, u64), sqlx::Error>
where
    DB: Database + sqlx::database::HasStatementCache,
    <DB as Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let query = sqlx::query_with::<DB, _>(sql, args);
    match kind {
        StatementKind::Query => Ok((query.fetch_all(&mut *conn).await?, 0)),
        StatementKind::Ddl => {
            let done = query.persistent(false).execute(&mut *conn).await?;
            Ok((Vec::new(), affected(&done)))
        }
        StatementKind::Dml | StatementKind::Text => {
            let mut rows = Vec::new();
            let mut count = 0;
            // `fetch_many` is deprecated only for several statements in one
            // string; here it is the one call that yields both the rows of a
            // RETURNING clause and the affected-row count.
            #[allow(deprecated)]
            let mut stream = query.fetch_many(&mut *conn);
            while let Some(item) = stream.try_next().await? {
                match item {
                    sqlx::Either::Left(done) => count += affected(&done),
                    sqlx::Either::Right(row) => rows.push(row),
                }
            }
            Ok((rows, count))
        }
    }
}
