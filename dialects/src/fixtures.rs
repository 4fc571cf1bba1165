//! The seed schema the workspace's tests share (feature `test-fixtures`):
//! its tables (worker, resume, publisher, post, tag and their association
//! table) and its analytic query. The dialect tests compile statements on
//! it; the integration tests in the `tests` crate create it on every
//! backend and add tables of their own to its [`MetaData`].
//!
//! ```
//! use dialects::fixtures::{compensation_report, seed};
//! use dialects::Postgres;
//! let seed = seed();
//! let sql = compensation_report(&seed).compile(&Postgres).unwrap().sql;
//! assert!(sql.starts_with("WITH helper2 AS (SELECT helper1.id"));
//! ```

use crate::sql::cte::Cte;
use crate::sql::expr::cast;
use crate::sql::func;
use crate::sql::select::{select, Select};
use crate::sql::window::partition_by;
use crate::{Column, MetaData, ReferentialAction, SqlType, Table};

/// The seed's tables, registered in one `MetaData`.
pub struct Seed {
    /// All of the tables below.
    pub metadata: MetaData,
    /// `worker(id, name)`.
    pub worker: Table,
    /// `resume(id, title, compensation, workload, worker_id, created_at,
    /// updated_at)`.
    pub resume: Table,
    /// `publisher(id, name UNIQUE)`.
    pub publisher: Table,
    /// `post(id, title, created_at, draft, publisher_id)`.
    pub post: Table,
    /// `tag(id, name)`.
    pub tag: Table,
    /// `post_tag(post_id, tag_id)`.
    pub post_tag: Table,
}

/// `worker(id, name)`, `resume(..., worker_id -> worker.id ON DELETE
/// CASCADE)`, `publisher(id, name UNIQUE)`, `post(..., publisher_id ->
/// publisher.id ON DELETE SET NULL)`, `tag(id, name)`, `post_tag(post_id,
/// tag_id)`.
pub fn seed() -> Seed {
    let mut metadata = MetaData::new();
    let worker = metadata.add(
        Table::new("worker")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("name", SqlType::string(256)).not_null()),
    );
    let resume = metadata.add(
        Table::new("resume")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("title", SqlType::string(256)).not_null())
            .column(Column::new("compensation", SqlType::Integer))
            .column(
                Column::new(
                    "workload",
                    SqlType::enumeration("workload", ["parttime", "fulltime"]),
                )
                .not_null(),
            )
            .column(
                Column::new("worker_id", SqlType::Integer)
                    .not_null()
                    .foreign_key("worker.id")
                    .on_delete(ReferentialAction::Cascade),
            )
            .column(
                Column::new("created_at", SqlType::DateTime { timezone: false })
                    .server_default(func::utc_now()),
            )
            .column(
                Column::new("updated_at", SqlType::DateTime { timezone: false })
                    .server_default(func::utc_now()),
            ),
    );
    let publisher = metadata.add(
        Table::new("publisher")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(
                Column::new("name", SqlType::string(100))
                    .not_null()
                    .unique(),
            ),
    );
    let post = metadata.add(
        Table::new("post")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("title", SqlType::Text).not_null())
            .column(
                Column::new("created_at", SqlType::DateTime { timezone: false })
                    .server_default(func::utc_now()),
            )
            .column(Column::new("draft", SqlType::Boolean).default(true))
            .column(
                Column::new("publisher_id", SqlType::Integer)
                    .foreign_key("publisher.id")
                    .on_delete(ReferentialAction::SetNull),
            ),
    );
    let tag = metadata.add(
        Table::new("tag")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("name", SqlType::string(50)).not_null()),
    );
    let post_tag = metadata.add(
        Table::new("post_tag")
            .column(
                Column::new("post_id", SqlType::Integer)
                    .primary_key()
                    .foreign_key("post.id")
                    .on_delete(ReferentialAction::Cascade),
            )
            .column(
                Column::new("tag_id", SqlType::Integer)
                    .primary_key()
                    .foreign_key("tag.id")
                    .on_delete(ReferentialAction::Cascade),
            ),
    );
    Seed {
        metadata,
        worker,
        resume,
        publisher,
        post,
        tag,
        post_tag,
    }
}

/// The CTE `helper2` of the seed's analytic query, built as the seed
/// writes it: each worker's pay and its difference from the average pay
/// of its workload (a window average cast to Integer, in the subquery
/// `helper1` over an aliased resume `r`), with only the resumes paying
/// more than `min_compensation` when it is given.
///
/// ```python
/// r = aliased(Resume)
/// sub_query = (
///     select(w.id, w.name, r.compensation,
///            cast(func.AVG(r.compensation).over(partition_by=r.workload), Integer)
///            .label("avg_workload_compensation"))
///     .select_from(r)
///     .join(w, r.worker_id == w.id)
///     .subquery("helper1")
/// )
/// cte = (
///     select(sub_query.c.id, sub_query.c.name, sub_query.c.compensation,
///            (sub_query.c.compensation - sub_query.c.avg_workload_compensation)
///            .label('compensation_diff'))
///     .cte("helper2")
/// )
/// ```
pub fn compensation_cte(seed: &Seed, min_compensation: Option<i32>) -> Cte {
    let w = &seed.worker;
    let r = seed.resume.alias("r");
    let mut helper1 = select((
        w.c("id"),
        w.c("name"),
        r.c("compensation"),
        cast(
            func::avg(r.c("compensation")).over(partition_by([r.c("workload")])),
            SqlType::Integer,
        )
        .label("avg_workload_compensation"),
    ))
    .select_from(&r)
    .join(w, r.c("worker_id").eq(w.c("id")));
    if let Some(min) = min_compensation {
        helper1 = helper1.where_(r.c("compensation").gt(min));
    }
    let helper1 = helper1.subquery("helper1");
    select((
        helper1.c("id"),
        helper1.c("name"),
        helper1.c("compensation"),
        (helper1.c("compensation") - helper1.c("avg_workload_compensation"))
            .label("compensation_diff"),
    ))
    .cte("helper2")
}

/// The seed's analytic query, exactly: `select(cte).order_by(
/// cte.c.compensation_diff.desc())` over [`compensation_cte`].
pub fn compensation_report(seed: &Seed) -> Select {
    let cte = compensation_cte(seed, None);
    select(&cte).order_by([cte.c("compensation_diff").desc()])
}
