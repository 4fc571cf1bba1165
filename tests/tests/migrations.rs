//! Migrations on SQLite, PostgreSQL and MariaDB: every operation up and
//! down with the data checked, autogenerate (empty after its own
//! migration, enum and type changes, renames), SQLite table rebuilds,
//! `check`, failing migrations on transactional and non-transactional
//! DDL, and the errors for edited, downgrade-less and two-headed
//! histories.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use migrate::cli::{run as cli_run, Cli};
use migrate::file::Action;
use migrate::reflect::ReflectExt;
use migrate::{MigrateError, Migrations};
use persistence::dialects::compiler::alter::{enum_style, EnumStyle};
use persistence::dialects::schema::alter::AlterOp;
use persistence::dialects::{text, Column, MetaData, SqlType, Table, Value};
use persistence::{inspect, Engine, SchemaExt};
use tests::{on_all_backends, TestBackend, TestDb};

use clap::Parser as _;

/// Runs SQL, panicking with it on failure.
async fn exec(engine: &Engine, sql: &str) {
    let mut conn = engine.connect().await.unwrap();
    if let Err(e) = conn.execute(&text(sql)).await {
        panic!("{sql}: {e}");
    }
    conn.commit().await.unwrap();
}

/// Runs SQL and says whether it worked.
async fn try_exec(engine: &Engine, sql: &str) -> bool {
    let mut conn = engine.connect().await.unwrap();
    conn.execute(&text(sql)).await.is_ok() && conn.commit().await.is_ok()
}

/// The first column of every row, as text.
async fn column(engine: &Engine, sql: &str) -> Vec<String> {
    let mut conn = engine.connect().await.unwrap();
    let rows = conn
        .execute(&text(sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .all();
    rows.iter()
        .map(|r| match r.value(0).unwrap() {
            Value::Null => "NULL".to_owned(),
            Value::String(s) => s.clone(),
            Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            other => other.to_string(),
        })
        .collect()
}

async fn count(engine: &Engine, table: &str) -> i64 {
    column(engine, &format!("SELECT count(*) FROM {table}")).await[0]
        .parse()
        .unwrap()
}

async fn columns_of(engine: &Engine, table: &str) -> Vec<String> {
    let mut conn = engine.connect().await.unwrap();
    inspect(&mut conn)
        .columns(table)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect()
}

async fn has_table(engine: &Engine, table: &str) -> bool {
    let mut conn = engine.connect().await.unwrap();
    inspect(&mut conn).has_table(table).await.unwrap()
}

async fn versions(engine: &Engine) -> Vec<String> {
    column(
        engine,
        "SELECT revision FROM migrate_version ORDER BY revision",
    )
    .await
}

fn history(files: &[(&str, &str)]) -> Migrations {
    Migrations::embedded(files).unwrap_or_else(|e| panic!("{e}"))
}

const M1: &str = r#"message = "create parent, child and scratch"

[[upgrade]]
op = "create_table"
table = "parent"
columns = [
    { name = "id", type = "integer", primary_key = true, autoincrement = true },
    { name = "name", type = "varchar(50)", nullable = false },
]

[[upgrade]]
op = "create_table"
table = "child"
columns = [
    { name = "id", type = "integer", primary_key = true },
    { name = "parent_id", type = "integer", nullable = false, references = "parent.id", on_delete = "CASCADE" },
    { name = "note", type = "varchar(20)", nullable = true },
]

[[upgrade]]
op = "create_table"
table = "scratch"
columns = [{ name = "id", type = "integer", primary_key = true }]

[[downgrade]]
op = "drop_table"
table = "scratch"

[[downgrade]]
op = "drop_table"
table = "child"

[[downgrade]]
op = "drop_table"
table = "parent"
"#;

const M2: &str = r#"down_revision = "0001_create"
message = "parent.email"

[[upgrade]]
op = "add_column"
table = "parent"
column = { name = "email", type = "varchar(120)", nullable = true, default = { value = "n/a" } }

[[downgrade]]
op = "drop_column"
table = "parent"
column = "email"
"#;

const M3: &str = r#"down_revision = "0002_email"
message = "longer, optional names"

[[upgrade]]
op = "alter_column"
table = "parent"
column = "name"
from = { type = "varchar(50)", nullable = false }
to = { type = "varchar(200)", nullable = true }

[[downgrade]]
op = "alter_column"
table = "parent"
column = "name"
from = { type = "varchar(200)", nullable = true }
to = { type = "varchar(50)", nullable = false }
"#;

const M4: &str = r#"down_revision = "0003_names"
message = "note is a comment"

[[upgrade]]
op = "rename_column"
table = "child"
from = "note"
to = "comment"

[[downgrade]]
op = "rename_column"
table = "child"
from = "comment"
to = "note"
"#;

const M5: &str = r#"down_revision = "0004_comment"
message = "index names, unique emails"

[[upgrade]]
op = "create_index"
table = "parent"
name = "ix_parent_name"
columns = ["name"]

[[upgrade]]
op = "add_unique"
table = "parent"
name = "uq_parent_email"
columns = ["email"]

[[downgrade]]
op = "drop_unique"
table = "parent"
name = "uq_parent_email"
columns = ["email"]

[[downgrade]]
op = "drop_index"
table = "parent"
name = "ix_parent_name"
"#;

const M6: &str = r#"down_revision = "0005_keys"
message = "children may be orphans"

[[upgrade]]
op = "drop_foreign_key"
table = "child"
columns = ["parent_id"]
references = "parent"
ref_columns = ["id"]

[[downgrade]]
op = "add_foreign_key"
table = "child"
name = "fk_child_parent_id_parent"
columns = ["parent_id"]
references = "parent"
ref_columns = ["id"]
on_delete = "CASCADE"
"#;

const M7: &str = r#"down_revision = "0006_orphans"
message = "child is kid"

[[upgrade]]
op = "rename_table"
from = "child"
to = "kid"

[[downgrade]]
op = "rename_table"
from = "kid"
to = "child"
"#;

const M8: &str = r#"down_revision = "0007_kid"
message = "no scratch"

[[upgrade]]
op = "drop_table"
table = "scratch"

[[downgrade]]
op = "create_table"
table = "scratch"
columns = [{ name = "id", type = "integer", primary_key = true }]
"#;

fn chain() -> Migrations {
    history(&[
        ("migrations/0001_create.toml", M1),
        ("migrations/0002_email.toml", M2),
        ("migrations/0003_names.toml", M3),
        ("migrations/0004_comment.toml", M4),
        ("migrations/0005_keys.toml", M5),
        ("migrations/0006_orphans.toml", M6),
        ("migrations/0007_kid.toml", M7),
        ("migrations/0008_no_scratch.toml", M8),
    ])
}

async fn up(engine: &Engine, m: &Migrations, target: &str) {
    migrate::upgrade_to(engine, m, target)
        .await
        .unwrap_or_else(|e| panic!("upgrade {target}: {e}"));
}

async fn down(engine: &Engine, m: &Migrations, target: &str) {
    migrate::downgrade(engine, m, target)
        .await
        .unwrap_or_else(|e| panic!("downgrade {target}: {e}"));
}

async fn each_operation_upgrades_and_downgrades(db: TestDb) {
    let e = &db.engine;
    let m = chain();

    // create_table
    up(e, &m, "0001").await;
    exec(e, "INSERT INTO parent (id, name) VALUES (1, 'Ann')").await;
    exec(
        e,
        "INSERT INTO child (id, parent_id, note) VALUES (1, 1, 'first')",
    )
    .await;
    assert!(
        !try_exec(e, "INSERT INTO child (id, parent_id) VALUES (9, 99)").await,
        "the key is enforced"
    );
    assert_eq!(versions(e).await, ["0001_create"]);

    // add_column with a server default: the existing row gets it.
    up(e, &m, "0002").await;
    assert_eq!(column(e, "SELECT email FROM parent").await, ["n/a"]);

    // alter_column: wider and nullable; the rows stay.
    up(e, &m, "0003").await;
    assert_eq!(
        count(e, "child").await,
        1,
        "a rebuilt parent keeps its children"
    );
    let long = "x".repeat(150);
    exec(
        e,
        &format!("INSERT INTO parent (id, name, email) VALUES (2, '{long}', 'b@x')"),
    )
    .await;
    exec(
        e,
        "INSERT INTO parent (id, name, email) VALUES (3, NULL, 'c@x')",
    )
    .await;
    exec(e, "DELETE FROM parent WHERE id IN (2, 3)").await;

    // rename_column keeps the data.
    up(e, &m, "0004").await;
    assert_eq!(column(e, "SELECT comment FROM child").await, ["first"]);

    // create_index + add_unique
    up(e, &m, "0005").await;
    exec(
        e,
        "INSERT INTO parent (id, name, email) VALUES (4, 'Bob', 'same@x')",
    )
    .await;
    assert!(
        !try_exec(
            e,
            "INSERT INTO parent (id, name, email) VALUES (5, 'Cy', 'same@x')"
        )
        .await
    );
    {
        let mut conn = e.connect().await.unwrap();
        let ix: Vec<String> = inspect(&mut conn)
            .indexes("parent")
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.name)
            .collect();
        assert!(ix.contains(&"ix_parent_name".to_owned()), "{ix:?}");
    }
    assert_eq!(count(e, "child").await, 1);

    // drop_foreign_key (its name looked up in the database)
    up(e, &m, "0006").await;
    exec(e, "INSERT INTO child (id, parent_id) VALUES (2, 999)").await;

    // rename_table, drop_table
    up(e, &m, "0007").await;
    assert_eq!(count(e, "kid").await, 2);
    assert!(!has_table(e, "child").await);
    up(e, &m, "head").await;
    assert!(!has_table(e, "scratch").await);
    assert_eq!(versions(e).await.len(), 8);

    // And all the way back, one at a time.
    down(e, &m, "-1").await;
    assert!(has_table(e, "scratch").await);
    down(e, &m, "-1").await;
    assert_eq!(count(e, "child").await, 2);
    exec(e, "DELETE FROM child WHERE id = 2").await;
    down(e, &m, "-1").await; // add_foreign_key
    assert!(
        !try_exec(e, "INSERT INTO child (id, parent_id) VALUES (3, 999)").await,
        "the key is back"
    );
    exec(e, "DELETE FROM parent WHERE id = 4").await;
    down(e, &m, "-1").await; // drop_unique, drop_index
    exec(
        e,
        "INSERT INTO parent (id, name, email) VALUES (6, 'D', 'n/a')",
    )
    .await;
    exec(e, "DELETE FROM parent WHERE id = 6").await;
    down(e, &m, "-1").await; // rename_column back
    assert_eq!(column(e, "SELECT note FROM child").await, ["first"]);
    down(e, &m, "-1").await; // alter_column back: NOT NULL again
    assert!(!try_exec(e, "INSERT INTO parent (id, name) VALUES (7, NULL)").await);
    assert_eq!(column(e, "SELECT name FROM parent").await, ["Ann"]);
    down(e, &m, "-1").await; // drop_column
    assert_eq!(columns_of(e, "parent").await, ["id", "name"]);
    assert_eq!(count(e, "child").await, 1, "children survive every rebuild");
    down(e, &m, "base").await;
    for t in ["parent", "child", "scratch"] {
        assert!(!has_table(e, t).await, "{t} is gone");
    }
    assert!(versions(e).await.is_empty());
    db.close().await;
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("migrate-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Autogenerates a migration for `target`, writes it into `dir`, and
/// returns the history with it.
async fn autogenerate_into(
    engine: &Engine,
    dir: &std::path::Path,
    target: &MetaData,
    message: &str,
) -> (Migrations, String) {
    let before = Migrations::from_dir(dir).unwrap();
    let diff = migrate::autogenerate(engine, &before, target)
        .await
        .unwrap();
    let path = migrate::autogenerate::write_revision(
        dir,
        &before,
        message,
        &diff.upgrade,
        &diff.downgrade,
        engine.dialect(),
        vec![],
    )
    .unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    (Migrations::from_dir(dir).unwrap(), text)
}

async fn autogenerate_after_its_own_migration_is_empty(db: TestDb) {
    let e = &db.engine;
    let target = app_example::mapping::start_mappers()
        .unwrap()
        .metadata()
        .clone();
    let dir = temp_dir(&format!("own-{:?}", db.backend));
    let (m, text) = autogenerate_into(e, &dir, &target, "initial").await;
    let creates = m.all()[0]
        .upgrade
        .iter()
        .filter(|s| matches!(s.action, Action::Op(AlterOp::CreateTable(_))))
        .count();
    assert_eq!(creates, 6, "{text}");
    // Six tables dropped (and, on PostgreSQL, the `workload` type).
    let drops = m.all()[0]
        .downgrade
        .iter()
        .filter(|s| matches!(s.action, Action::Op(AlterOp::DropTable { .. })))
        .count();
    assert_eq!(drops, 6, "{text}");
    up(e, &m, "head").await;
    let again = migrate::autogenerate(e, &m, &target).await.unwrap();
    assert!(again.is_empty(), "{:#?}", again.describe());
    migrate::check(e, &m, &target).await.unwrap();
    down(e, &m, "base").await;
    let mut conn = e.connect().await.unwrap();
    assert!(MetaData::reflect(&mut conn)
        .await
        .unwrap()
        .tables()
        .is_empty());
    let _ = std::fs::remove_dir_all(dir);
    db.close().await;
}

const TICKETS: &str = r#"message = "tickets"

[[upgrade]]
op = "create_table"
table = "ticket"
columns = [
    { name = "id", type = "integer", primary_key = true },
    { name = "mood", type = "enum mood('happy', 'sad')", nullable = false },
    { name = "score", type = "integer", nullable = true },
    { name = "title", type = "varchar(10)", nullable = false },
]

[[downgrade]]
op = "drop_table"
table = "ticket"
"#;

fn tickets(mood: &[&str], score: SqlType, title: u32) -> MetaData {
    let mut md = MetaData::new();
    md.add(
        Table::new("ticket")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(
                Column::new("mood", SqlType::enumeration("mood", mood.iter().copied())).not_null(),
            )
            .column(Column::new("score", score))
            .column(Column::new("title", SqlType::string(title)).not_null()),
    );
    md
}

async fn enum_and_type_changes_are_detected(db: TestDb) {
    let e = &db.engine;
    let dir = temp_dir(&format!("enum-{:?}", db.backend));
    std::fs::write(dir.join("0001_tickets.toml"), TICKETS).unwrap();
    let m = Migrations::from_dir(&dir).unwrap();
    up(e, &m, "head").await;
    exec(
        e,
        "INSERT INTO ticket (id, mood, score, title) VALUES (1, 'happy', 7, 'short')",
    )
    .await;
    assert!(
        !try_exec(
            e,
            "INSERT INTO ticket (id, mood, title) VALUES (2, 'angry', 'x')"
        )
        .await
    );
    // Nothing changed yet.
    assert!(
        migrate::autogenerate(e, &m, &tickets(&["happy", "sad"], SqlType::Integer, 10))
            .await
            .unwrap()
            .is_empty()
    );

    let target = tickets(&["happy", "sad", "angry"], SqlType::BigInteger, 40);
    let diff = migrate::autogenerate(e, &m, &target).await.unwrap();
    let lines = diff.describe();
    match enum_style(e.dialect()) {
        EnumStyle::Named => assert!(
            lines.contains(&"add value 'angry' to enum `mood`".to_owned()),
            "{lines:#?}"
        ),
        _ => assert!(
            lines
                .iter()
                .any(|l| l.starts_with("alter column `ticket.mood`: type")),
            "{lines:#?}"
        ),
    }
    assert!(
        lines.contains(&"alter column `ticket.score`: type Integer -> BigInteger".to_owned()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(
            &"alter column `ticket.title`: type String(Some(10)) -> String(Some(40))".to_owned()
        ),
        "{lines:#?}"
    );

    let (m, _) = autogenerate_into(e, &dir, &target, "angry tickets").await;
    up(e, &m, "head").await;
    exec(e, "INSERT INTO ticket (id, mood, score, title) VALUES (2, 'angry', 9000000000, 'a title of thirty characters!!')").await;
    assert_eq!(
        column(e, "SELECT mood FROM ticket ORDER BY id").await,
        ["happy", "angry"]
    );
    assert!(migrate::autogenerate(e, &m, &target)
        .await
        .unwrap()
        .is_empty());

    exec(e, "DELETE FROM ticket WHERE id = 2").await;
    down(e, &m, "-1").await;
    assert!(
        !try_exec(
            e,
            "INSERT INTO ticket (id, mood, title) VALUES (3, 'angry', 'x')"
        )
        .await,
        "angry is gone again"
    );
    assert_eq!(column(e, "SELECT title FROM ticket").await, ["short"]);
    let _ = std::fs::remove_dir_all(dir);
    db.close().await;
}

const PEOPLE: &str = r#"message = "people and tasks"

[[upgrade]]
op = "create_table"
table = "person"
columns = [
    { name = "id", type = "integer", primary_key = true },
    { name = "full_name", type = "varchar(100)", nullable = false },
    { name = "age", type = "integer", nullable = true },
]

[[upgrade]]
op = "create_table"
table = "task"
columns = [
    { name = "id", type = "integer", primary_key = true },
    { name = "title", type = "varchar(80)", nullable = false },
    { name = "done", type = "boolean", nullable = false },
]

[[downgrade]]
op = "drop_table"
table = "task"

[[downgrade]]
op = "drop_table"
table = "person"
"#;

async fn renames_are_proposed_as_renames(db: TestDb) {
    let e = &db.engine;
    let dir = temp_dir(&format!("rename-{:?}", db.backend));
    std::fs::write(dir.join("0001_people.toml"), PEOPLE).unwrap();
    let m = Migrations::from_dir(&dir).unwrap();
    up(e, &m, "head").await;
    exec(
        e,
        "INSERT INTO person (id, full_name, age) VALUES (1, 'Ann Lee', 30)",
    )
    .await;
    exec(
        e,
        "INSERT INTO task (id, title, done) VALUES (1, 'write', 1 = 1)",
    )
    .await;

    let mut target = MetaData::new();
    target.add(
        Table::new("people")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("full_name", SqlType::string(100)).not_null())
            .column(Column::new("age", SqlType::Integer)),
    );
    target.add(
        Table::new("task")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("heading", SqlType::string(80)).not_null())
            .column(Column::new("done", SqlType::Boolean).not_null()),
    );
    let (m, text) = autogenerate_into(e, &dir, &target, "renames").await;
    let ops: Vec<&AlterOp> = m.all()[1]
        .upgrade
        .iter()
        .filter_map(|s| match &s.action {
            Action::Op(op) => Some(op),
            Action::Sql(_) => None,
        })
        .collect();
    assert_eq!(
        ops,
        [
            &AlterOp::RenameTable {
                from: "person".into(),
                to: "people".into()
            },
            &AlterOp::RenameColumn {
                table: "task".into(),
                from: "title".into(),
                to: "heading".into()
            },
        ],
        "{text}"
    );
    assert!(
        text.contains("# RENAME? table `person` is gone and `people` is new"),
        "{text}"
    );
    assert!(
        text.contains("# RENAME? column `task.title` is gone and `task.heading` is new"),
        "{text}"
    );
    up(e, &m, "head").await;
    assert_eq!(column(e, "SELECT full_name FROM people").await, ["Ann Lee"]);
    assert_eq!(column(e, "SELECT heading FROM task").await, ["write"]);
    assert!(migrate::autogenerate(e, &m, &target)
        .await
        .unwrap()
        .is_empty());
    down(e, &m, "-1").await;
    assert_eq!(column(e, "SELECT title FROM task").await, ["write"]);
    assert_eq!(count(e, "person").await, 1);
    let _ = std::fs::remove_dir_all(dir);
    db.close().await;
}

async fn check_fails_on_a_differing_database(db: TestDb) {
    let e = &db.engine;
    let worker = || {
        Table::new("worker")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("name", SqlType::string(40)).not_null())
    };
    let mut have = MetaData::new();
    have.add(worker());
    have.create_all(&mut e.connect().await.unwrap())
        .await
        .unwrap();
    let none = Migrations::default();
    migrate::check(e, &none, &have).await.unwrap();

    let mut want = MetaData::new();
    want.add(
        worker()
            .column(Column::new("email", SqlType::string(120)))
            .index(persistence::dialects::Index::new(
                "ix_worker_name",
                ["name"],
            )),
    );
    let err = migrate::check(e, &none, &want).await.unwrap_err();
    match &err {
        MigrateError::Differs { changes } => assert_eq!(
            changes,
            &[
                "add column `worker.email`".to_owned(),
                "add index `ix_worker_name` on `worker`".to_owned()
            ]
        ),
        other => panic!("{other}"),
    }
    // The CLI's `check` fails the same way (its binary exits 1 on it).
    if db.backend != TestBackend::Sqlite {
        let dir = temp_dir(&format!("check-{:?}", db.backend));
        let cli = Cli::try_parse_from([
            "migrate",
            "--database-url",
            &db.url,
            "--dir",
            dir.to_str().unwrap(),
            "check",
        ])
        .unwrap();
        let err = cli_run(cli, Some(want.clone())).await.unwrap_err();
        assert!(
            err.to_string().contains("add column `worker.email`"),
            "{err}"
        );
        let cli = Cli::try_parse_from([
            "migrate",
            "--database-url",
            &db.url,
            "--dir",
            dir.to_str().unwrap(),
            "check",
        ])
        .unwrap();
        assert_eq!(
            cli_run(cli, Some(have.clone())).await.unwrap(),
            "no differences\n"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
    db.close().await;
}

const T1: &str = r#"message = "t"

[[upgrade]]
op = "create_table"
table = "t"
columns = [{ name = "id", type = "integer", primary_key = true }, { name = "a", type = "integer", nullable = true }]

[[downgrade]]
op = "drop_table"
table = "t"
"#;

const T2_BROKEN: &str = r#"down_revision = "0001_t"
message = "b, then a mistake"

[[upgrade]]
op = "add_column"
table = "t"
column = { name = "b", type = "integer", nullable = true }

[[upgrade]]
op = "sql"
sql = "INSERT INTO no_such_table VALUES (1)"

[[downgrade]]
op = "drop_column"
table = "t"
column = "b"
"#;

async fn a_failing_migration_is_rolled_back_or_recorded(db: TestDb) {
    let e = &db.engine;
    let dir = temp_dir(&format!("fail-{:?}", db.backend));
    std::fs::write(dir.join("0001_t.toml"), T1).unwrap();
    std::fs::write(dir.join("0002_b.toml"), T2_BROKEN).unwrap();
    let m = Migrations::from_dir(&dir).unwrap();
    let file = dir.join("0002_b.toml").display().to_string();
    let err = migrate::upgrade(e, &m).await.unwrap_err();
    match db.backend {
        TestBackend::Sqlite | TestBackend::Postgres => {
            match &err {
                MigrateError::StepRolledBack {
                    at,
                    step,
                    total,
                    before,
                    ..
                } => {
                    assert_eq!(
                        (at.file.as_str(), at.line, *step, *total, before.as_str()),
                        (file.as_str(), 9, 2, 2, "0001_t")
                    );
                }
                other => panic!("{other}"),
            }
            assert!(
                err.to_string().contains("the migration was rolled back"),
                "{err}"
            );
            assert_eq!(
                columns_of(e, "t").await,
                ["id", "a"],
                "the added column is rolled back"
            );
            assert_eq!(versions(e).await, ["0001_t"]);
            let status = migrate::current(e, &m).await.unwrap();
            assert_eq!((status.applied, status.partial), (1, None));
        }
        TestBackend::MySql => {
            match &err {
                MigrateError::StepStopped {
                    at,
                    step,
                    total,
                    direction,
                    ..
                } => {
                    assert_eq!((at.line, *step, *total, *direction), (9, 2, 2, "upgrade"));
                }
                other => panic!("{other}"),
            }
            let message = err.to_string();
            assert!(
                message.starts_with(&format!(
                    "{file}:9: step 2 of 2 of migration `0002_b` (upgrade) failed"
                )),
                "{message}"
            );
            assert!(
                message.contains(
                    "steps 1 to 1 are applied and recorded in the version table (state `up:1`)"
                ),
                "{message}"
            );
            assert!(
                message.contains("run `upgrade` again to resume at step 2"),
                "{message}"
            );
            assert_eq!(
                columns_of(e, "t").await,
                ["id", "a", "b"],
                "step 1 stays applied"
            );
            assert_eq!(
                column(
                    e,
                    "SELECT state FROM migrate_version WHERE revision = '0002_b'"
                )
                .await,
                ["up:1"]
            );
            // The CLI says the same.
            let cli = Cli::try_parse_from([
                "migrate",
                "--database-url",
                &db.url,
                "--dir",
                dir.to_str().unwrap(),
                "upgrade",
            ])
            .unwrap();
            let cli_err = cli_run(cli, None).await.unwrap_err().to_string();
            assert!(cli_err.contains("resume at step 2"), "{cli_err}");
            // Fix the step and resume: step 1 is not run again.
            std::fs::write(
                dir.join("0002_b.toml"),
                T2_BROKEN.replace("INSERT INTO no_such_table VALUES (1)", "UPDATE t SET b = 1"),
            )
            .unwrap();
            let m = Migrations::from_dir(&dir).unwrap();
            let done = migrate::upgrade(e, &m).await.unwrap();
            assert_eq!(done.ran, ["0002_b"]);
            assert_eq!(
                column(
                    e,
                    "SELECT state FROM migrate_version WHERE revision = '0002_b'"
                )
                .await,
                ["NULL"]
            );
            assert_eq!(migrate::current(e, &m).await.unwrap().applied, 2);
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    db.close().await;
}

async fn an_edited_applied_migration_is_caught(db: TestDb) {
    let e = &db.engine;
    let m = history(&[("migrations/0001_t.toml", T1)]);
    up(e, &m, "head").await;
    let edited = T1.replace(
        "{ name = \"a\", type = \"integer\"",
        "{ name = \"a\", type = \"bigint\"",
    );
    let m = history(&[("migrations/0001_t.toml", &edited)]);
    for err in [
        migrate::current(e, &m).await.unwrap_err(),
        migrate::upgrade(e, &m).await.unwrap_err(),
    ] {
        match &err {
            MigrateError::ChecksumMismatch { at, revision, .. } => {
                assert_eq!(
                    (at.file.as_str(), at.line, revision.as_str()),
                    ("migrations/0001_t.toml", 6, "0001_t")
                );
            }
            other => panic!("{other}"),
        }
        assert!(
            err.to_string().starts_with(
                "migrations/0001_t.toml:6: migration `0001_t` was edited after it was applied"
            ),
            "{err}"
        );
    }
    db.close().await;
}

on_all_backends!(
    each_operation_upgrades_and_downgrades,
    autogenerate_after_its_own_migration_is_empty,
    enum_and_type_changes_are_detected,
    renames_are_proposed_as_renames,
    check_fails_on_a_differing_database,
    a_failing_migration_is_rolled_back_or_recorded,
    an_edited_applied_migration_is_caught,
);

const FAMILY: &str = r#"message = "parents and children"

[[upgrade]]
op = "create_table"
table = "parent"
columns = [
    { name = "id", type = "integer", primary_key = true },
    { name = "name", type = "varchar(20)", nullable = false, index = true },
    { name = "code", type = "varchar(5)", nullable = false, unique = true },
]

[[upgrade]]
op = "create_table"
table = "child"
columns = [
    { name = "id", type = "integer", primary_key = true },
    { name = "parent_id", type = "integer", nullable = false, references = "parent.id", on_delete = "CASCADE" },
    { name = "junk", type = "text", nullable = true },
]

[[downgrade]]
op = "drop_table"
table = "child"

[[downgrade]]
op = "drop_table"
table = "parent"
"#;

const REBUILD: &str = r#"down_revision = "0001_family"
message = "rebuild both"

[[upgrade]]
op = "alter_column"
table = "parent"
column = "name"
from = { type = "varchar(20)", nullable = false }
to = { type = "varchar(60)", nullable = true }

[[upgrade]]
op = "drop_column"
table = "child"
column = "junk"

[[downgrade]]
op = "add_column"
table = "child"
column = { name = "junk", type = "text", nullable = true }

[[downgrade]]
op = "alter_column"
table = "parent"
column = "name"
from = { type = "varchar(60)", nullable = true }
to = { type = "varchar(20)", nullable = false }
"#;

#[tokio::test]
async fn sqlite_rebuild_keeps_every_row_and_the_foreign_keys() {
    let db = TestDb::new(TestBackend::Sqlite, "rebuild").await;
    let e = &db.engine;
    let m = history(&[
        ("migrations/0001_family.toml", FAMILY),
        ("migrations/0002_rebuild.toml", REBUILD),
    ]);
    up(e, &m, "0001").await;
    for p in 1..=3 {
        exec(
            e,
            &format!("INSERT INTO parent (id, name, code) VALUES ({p}, 'p{p}', 'c{p}')"),
        )
        .await;
    }
    for c in 1..=6 {
        exec(
            e,
            &format!(
                "INSERT INTO child (id, parent_id, junk) VALUES ({c}, {}, 'j')",
                (c % 3) + 1
            ),
        )
        .await;
    }
    // The offline script shows the rebuild.
    let sql = migrate::runner::script(&m, &persistence::dialects::Sqlite, "0001", "head").unwrap();
    for line in [
        "PRAGMA foreign_keys = OFF;",
        "CREATE TABLE _migrate_tmp_parent (id INTEGER NOT NULL, name VARCHAR(60), code VARCHAR(5) NOT NULL, PRIMARY KEY (id), UNIQUE (code));",
        "INSERT INTO _migrate_tmp_parent (id, name, code) SELECT id, name, code FROM parent;",
        "DROP TABLE parent;",
        "ALTER TABLE _migrate_tmp_parent RENAME TO parent;",
        "CREATE INDEX ix_parent_name ON parent (name);",
        "INSERT INTO _migrate_tmp_child (id, parent_id) SELECT id, parent_id FROM child;",
        "PRAGMA foreign_keys = ON;",
    ] {
        assert!(sql.lines().any(|l| l == line), "missing {line}\n{sql}");
    }
    up(e, &m, "head").await;
    assert_eq!(
        (count(e, "parent").await, count(e, "child").await),
        (3, 6),
        "every row kept"
    );
    assert_eq!(columns_of(e, "child").await, ["id", "parent_id"]);
    let mut conn = e.connect().await.unwrap();
    let fks = inspect(&mut conn).foreign_keys("child").await.unwrap();
    assert_eq!(
        (
            fks.len(),
            fks[0].referred_table.as_str(),
            fks[0].on_delete.as_deref()
        ),
        (1, "parent", Some("CASCADE"))
    );
    let ix: Vec<String> = inspect(&mut conn)
        .indexes("parent")
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert!(ix.contains(&"ix_parent_name".to_owned()), "{ix:?}");
    conn.commit().await.unwrap();
    drop(conn);
    assert!(
        !try_exec(e, "INSERT INTO child (id, parent_id) VALUES (7, 99)").await,
        "the key is enforced"
    );
    assert!(
        !try_exec(
            e,
            "INSERT INTO parent (id, name, code) VALUES (4, 'x', 'c1')"
        )
        .await,
        "the unique is kept"
    );
    exec(e, "DELETE FROM parent WHERE id = 1").await;
    assert_eq!(count(e, "child").await, 4, "ON DELETE CASCADE is kept");
    down(e, &m, "-1").await;
    assert_eq!(columns_of(e, "child").await, ["id", "parent_id", "junk"]);
    assert_eq!((count(e, "parent").await, count(e, "child").await), (2, 4));
    db.close().await;
}

#[test]
fn bad_histories_name_the_file_and_line() {
    let no_down = "message = \"x\"\n\n[[upgrade]]\nop = \"drop_table\"\ntable = \"t\"\n";
    let err = Migrations::embedded(&[("migrations/0001_x.toml", no_down)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "migrations/0001_x.toml:3: migration `0001_x` has no downgrade; add `downgrade = [...]` \
         (an empty list when there is nothing to undo)"
    );

    let base = "message = \"base\"\nupgrade = []\ndowngrade = []\n";
    let a = "# a\ndown_revision = \"0001_base\"\nupgrade = []\ndowngrade = []\n";
    let b = "down_revision = \"0001_base\"\nupgrade = []\ndowngrade = []\n";
    let err = Migrations::embedded(&[
        ("m/0001_base.toml", base),
        ("m/0002_a.toml", a),
        ("m/0002_b.toml", b),
    ])
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the migrations have 2 heads (0002_a, 0002_b): m/0002_a.toml:2, m/0002_b.toml:1; \
         make one revise the other (set its `down_revision`)"
    );

    let err = Migrations::embedded(&[("m/0002_a.toml", a)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "m/0002_a.toml:2: migration `0002_a` revises `0001_base`, which no migration file is"
    );

    let bad_type = "upgrade = []\n\n[[downgrade]]\nop = \"add_column\"\ntable = \"t\"\ncolumn = { name = \"c\", type = \"money\" }\n";
    let err = Migrations::embedded(&[("m/0001_t.toml", bad_type)]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("m/0001_t.toml:3: unknown type `money`"),
        "{err}"
    );

    let bad_op = "upgrade = []\ndowngrade = []\n\n[[upgrade]]\nop = \"explode\"\n";
    assert!(Migrations::embedded(&[("m/0001_t.toml", bad_op)])
        .unwrap_err()
        .to_string()
        .starts_with("m/0001_t.toml:"));
}

#[test]
fn offline_sql_for_each_dialect() {
    let m = history(&[
        ("migrations/0001_create.toml", M1),
        ("migrations/0002_email.toml", M2),
    ]);
    let pg = migrate::runner::script(&m, &persistence::dialects::Postgres, "base", "head").unwrap();
    for line in [
        "CREATE TABLE IF NOT EXISTS migrate_version (revision VARCHAR(255) NOT NULL, checksum VARCHAR(64) NOT NULL, source TEXT NOT NULL, applied_at VARCHAR(32) NOT NULL, state VARCHAR(32), PRIMARY KEY (revision));",
        "BEGIN;",
        "CREATE TABLE parent (id SERIAL NOT NULL, name VARCHAR(50) NOT NULL, PRIMARY KEY (id));",
        "CREATE TABLE child (id SERIAL NOT NULL, parent_id INTEGER NOT NULL, note VARCHAR(20), PRIMARY KEY (id), FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE);",
        "ALTER TABLE parent ADD COLUMN email VARCHAR(120) DEFAULT 'n/a';",
        "COMMIT;",
    ] {
        assert!(pg.lines().any(|l| l == line), "missing {line}\n{pg}");
    }
    assert!(pg.lines().any(|l| l.starts_with("INSERT INTO migrate_version (revision, checksum, source, applied_at, state) VALUES ('0002_email', '")));
    let my = migrate::runner::script(&m, &persistence::dialects::MySql::mariadb(), "head", "base")
        .unwrap();
    for line in [
        "ALTER TABLE parent DROP COLUMN email;",
        "DELETE FROM migrate_version WHERE revision = '0002_email';",
        "DROP TABLE child;",
    ] {
        assert!(my.lines().any(|l| l == line), "missing {line}\n{my}");
    }
    assert!(!my.contains("BEGIN;"), "MariaDB's DDL is not transactional");
}

/// The CLI end to end on a SQLite file: autogenerate, upgrade, current,
/// history, check, downgrade.
#[tokio::test]
async fn cli_on_a_sqlite_file() {
    let dir = temp_dir("cli");
    let db = dir.join("app.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let mig = dir.join("migrations");
    let target = app_example::mapping::start_mappers()
        .unwrap()
        .metadata()
        .clone();
    let run = |args: &[&str], with: bool| {
        let mut all = vec![
            "migrate",
            "--database-url",
            &url,
            "--dir",
            mig.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).unwrap();
        cli_run(cli, with.then(|| target.clone()))
    };
    let err = run(&["revision", "--autogenerate", "-m", "initial"], false)
        .await
        .unwrap_err();
    assert!(matches!(err, MigrateError::NoMappings { .. }), "{err}");
    let out = run(&["revision", "--autogenerate", "-m", "initial"], true)
        .await
        .unwrap();
    assert!(
        out.starts_with("wrote ") && out.ends_with("(6 step(s) up, 6 down)\n"),
        "{out}"
    );
    assert!(run(&["check"], true)
        .await
        .unwrap_err()
        .to_string()
        .contains("the migrations' head is"));
    let out = run(&["upgrade"], false).await.unwrap();
    assert!(
        out.contains("upgraded: ") && out.contains("(was base)"),
        "{out}"
    );
    let current = run(&["current"], false).await.unwrap();
    assert!(current.ends_with("_initial (head)\n"), "{current}");
    assert!(run(&["history"], false).await.unwrap().contains("base -> "));
    assert_eq!(run(&["check"], true).await.unwrap(), "no differences\n");
    let sql = run(&["downgrade", "head:base", "--sql"], false)
        .await
        .unwrap();
    assert!(sql.contains("DROP TABLE post_tag;"), "{sql}");
    let out = run(&["downgrade", "base"], false).await.unwrap();
    assert!(
        out.ends_with("at base (was ") || out.contains("at base"),
        "{out}"
    );
    assert_eq!(run(&["current"], false).await.unwrap(), "base\n");
    let _ = std::fs::remove_dir_all(dir);
}

async fn the_example_migrations_build_the_mapped_schema(db: TestDb) {
    let e = &db.engine;
    let m = app_example::schema::migrations().unwrap();
    let target = app_example::mapping::start_mappers()
        .unwrap()
        .metadata()
        .clone();
    let done = migrate::upgrade(e, &m).await.unwrap();
    assert_eq!(done.ran.len(), m.all().len());
    migrate::check(e, &m, &target).await.unwrap();
    down(e, &m, "base").await;
    assert!(!has_table(e, "worker").await);
    db.close().await;
}

on_all_backends!(the_example_migrations_build_the_mapped_schema);

#[test]
fn the_example_embeds_every_file_of_its_migrations_folder() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../app-example/migrations");
    let on_disk = Migrations::from_dir(dir).unwrap();
    let embedded = app_example::schema::migrations().unwrap();
    let names = |m: &Migrations| {
        m.all()
            .iter()
            .map(|m| (m.revision.clone(), m.checksum.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&embedded), names(&on_disk));
}

/// The demo on a SQLite file: migrated, and runnable again on the same file.
#[tokio::test]
async fn the_demo_runs_twice_on_a_migrated_sqlite_file() {
    let dir = temp_dir("demo");
    let url = format!("sqlite://{}?mode=rwc", dir.join("app.db").display());
    for _ in 0..2 {
        let engine = persistence::create_engine(&url).await.unwrap();
        let sessions = app_example::demo::prepare(engine.clone()).await.unwrap();
        let out = app_example::demo::run(&sessions).await.unwrap();
        assert!(out.contains("Hiring Vlad twice"), "{out}");
        assert_eq!(versions(&engine).await.len(), 1);
        engine.dispose().await;
    }
    let _ = std::fs::remove_dir_all(dir);
}
