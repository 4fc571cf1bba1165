//! The tables of the hiring context: workers and their resumes (the seed's
//! `WorkerModel` and `ResumeModel`).

use persistence::dialects::{func, Column, MetaData, ReferentialAction, SqlType, Table, Value};

/// The two tables, registered in one `MetaData`.
pub struct HiringTables {
    /// Every table, for `create_all` / `drop_all`.
    pub metadata: MetaData,
    /// `worker (id, name)`.
    pub worker: Table,
    /// `resume (id, title, compensation, workload, worker_id, created_at, updated_at)`.
    pub resume: Table,
}

/// The seed's `Literal["parttime", "fulltime"]`.
pub fn workload_type() -> SqlType {
    SqlType::enumeration("workload", ["parttime", "fulltime"])
}

/// Builds the tables (SQLAlchemy's imperative `Table(...)` declarations).
pub fn hiring_tables() -> HiringTables {
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
            .column(Column::new("compensation", SqlType::Integer).nullable(true))
            .column(Column::new("workload", workload_type()).not_null())
            .column(
                Column::new("worker_id", SqlType::Integer)
                    .not_null()
                    .foreign_key("worker.id")
                    .on_delete(ReferentialAction::Cascade),
            )
            .column(
                Column::new("created_at", SqlType::DateTime { timezone: false })
                    .not_null()
                    .server_default(func::utc_now()),
            )
            .column(
                Column::new("updated_at", SqlType::DateTime { timezone: false })
                    .not_null()
                    .server_default(func::utc_now())
                    .onupdate(|| Value::DateTime(chrono::Utc::now().naive_utc())),
            ),
    );
    HiringTables {
        metadata,
        worker,
        resume,
    }
}
