//! Schema and DDL: types, constraints, defaults, indexes, FK-sorted
//! `create_all` / `drop_all`, on every dialect.

mod common;

use common::{assert_unsupported, check, check_mariadb, check_one, compile_err, fixture};
use dialects::compiler::ddl::{create_all, drop_all, Ddl};
use dialects::{
    func, literal, CheckConstraint, Column, CompileError, CreateIndex, CreateTable, DropIndex,
    DropTable, Index, MetaData, MySql, Postgres, ReferentialAction, SqlType, Sqlite, Statement,
    Table, UniqueConstraint, Value,
};

fn one_column(ty: SqlType) -> Table {
    Table::new("t").column(Column::new("c", ty))
}

/// The type each dialect writes for `ty`.
fn type_names(ty: SqlType) -> [String; 3] {
    let t = CreateTable::new(&one_column(ty));
    [
        &Postgres as &dyn dialects::Dialect,
        &Sqlite,
        &MySql::default(),
    ]
    .map(|d| {
        let sql = common::compile(&t, d).sql;
        sql.strip_prefix("CREATE TABLE t (c ")
            .and_then(|s| s.strip_suffix(')'))
            .map(str::to_owned)
            .unwrap_or(sql)
    })
}

#[test]
fn every_type_per_dialect() {
    let cases: Vec<(SqlType, [&str; 3])> = vec![
        (SqlType::SmallInteger, ["SMALLINT", "SMALLINT", "SMALLINT"]),
        (SqlType::Integer, ["INTEGER", "INTEGER", "INTEGER"]),
        (SqlType::BigInteger, ["BIGINT", "BIGINT", "BIGINT"]),
        (SqlType::Float, ["REAL", "REAL", "FLOAT"]),
        (
            SqlType::Double,
            ["DOUBLE PRECISION", "DOUBLE PRECISION", "DOUBLE"],
        ),
        (
            SqlType::Numeric(12, 2),
            ["NUMERIC(12, 2)", "NUMERIC(12, 2)", "DECIMAL(12, 2)"],
        ),
        (
            SqlType::string(256),
            ["VARCHAR(256)", "VARCHAR(256)", "VARCHAR(256)"],
        ),
        (SqlType::Text, ["TEXT", "TEXT", "TEXT"]),
        (SqlType::Boolean, ["BOOLEAN", "BOOLEAN", "BOOL"]),
        (SqlType::Date, ["DATE", "DATE", "DATE"]),
        (SqlType::Time, ["TIME", "TIME", "TIME(6)"]),
        (
            SqlType::DateTime { timezone: false },
            ["TIMESTAMP WITHOUT TIME ZONE", "DATETIME", "DATETIME(6)"],
        ),
        (
            SqlType::DateTime { timezone: true },
            ["TIMESTAMP WITH TIME ZONE", "DATETIME", "DATETIME(6)"],
        ),
        (SqlType::Uuid, ["UUID", "CHAR(36)", "CHAR(36)"]),
        (SqlType::Json, ["JSONB", "TEXT", "JSON"]),
        (
            SqlType::Binary(Some(16)),
            ["BYTEA", "BLOB", "VARBINARY(16)"],
        ),
        (SqlType::Binary(None), ["BYTEA", "BLOB", "LONGBLOB"]),
    ];
    for (ty, expected) in cases {
        assert_eq!(
            type_names(ty.clone()),
            expected.map(str::to_owned),
            "{ty:?}"
        );
    }
}

#[test]
fn unbounded_string_is_an_error_on_mysql_only() {
    let t = one_column(SqlType::String(None));
    check_one(
        &CreateTable::new(&t),
        &Postgres,
        "CREATE TABLE t (c VARCHAR)",
        &[],
    );
    check_one(
        &CreateTable::new(&t),
        &Sqlite,
        "CREATE TABLE t (c VARCHAR)",
        &[],
    );
    for my in [MySql::default(), MySql::mariadb()] {
        let err = compile_err(&CreateTable::new(&t), &my);
        assert!(
            matches!(&err, CompileError::InvalidType { column, .. } if column == "c"),
            "{err:?}"
        );
        assert!(err.to_string().contains("VARCHAR needs a length"), "{err}");
    }
}

#[test]
fn enum_is_native_on_postgres_and_mysql_and_varchar_with_named_check_on_sqlite() {
    let ty = SqlType::enumeration("Workload", ["parttime", "fulltime", "it's"]);
    let t = Table::new("resume").column(Column::new("workload", ty.clone()).not_null());
    check(
        &CreateTable::new(&t),
        "CREATE TABLE resume (workload \"Workload\" NOT NULL)",
        "CREATE TABLE resume (workload VARCHAR(8) NOT NULL, CONSTRAINT \"ck_resume_Workload\" \
         CHECK (workload IN ('parttime', 'fulltime', 'it''s')))",
        "CREATE TABLE resume (workload ENUM('parttime', 'fulltime', 'it''s') NOT NULL)",
        &[],
    );
    check_one(
        &dialects::CreateEnum::new("Workload", ["parttime", "fulltime", "it's"]),
        &Postgres,
        "CREATE TYPE \"Workload\" AS ENUM ('parttime', 'fulltime', 'it''s')",
        &[],
    );
    assert_unsupported(
        &dialects::CreateEnum::new("w", ["a"]),
        &Sqlite,
        "CREATE TYPE ... AS ENUM",
    );
    // Asked for a non-native enum: VARCHAR and CHECK everywhere.
    let plain = Table::new("resume").column(Column::new("workload", ty.native_enum(false)));
    let check_sql = "CREATE TABLE resume (workload VARCHAR(8), CONSTRAINT \"ck_resume_Workload\" \
         CHECK (workload IN ('parttime', 'fulltime', 'it''s')))";
    check(
        &CreateTable::new(&plain),
        check_sql,
        check_sql,
        &check_sql.replace('"', "`"),
        &[],
    );
    let empty = one_column(SqlType::enumeration("e", Vec::<String>::new()));
    assert!(matches!(
        compile_err(&CreateTable::new(&empty), &Postgres),
        CompileError::InvalidType { .. }
    ));
}

#[test]
fn nullable_and_not_null() {
    let t = Table::new("t")
        .column(Column::new("a", SqlType::Integer))
        .column(Column::new("b", SqlType::Integer).nullable(true))
        .column(Column::new("c", SqlType::Integer).not_null());
    let sql = "CREATE TABLE t (a INTEGER, b INTEGER, c INTEGER NOT NULL)";
    check(&CreateTable::new(&t), sql, sql, sql, &[]);
}

#[test]
fn autoincrement_primary_keys() {
    let small = Table::new("s").column(Column::new("id", SqlType::SmallInteger).primary_key());
    let big = Table::new("b").column(Column::new("id", SqlType::BigInteger).primary_key());
    check(
        &CreateTable::new(&small),
        "CREATE TABLE s (id SMALLSERIAL NOT NULL, PRIMARY KEY (id))",
        "CREATE TABLE s (id INTEGER NOT NULL, PRIMARY KEY (id))",
        "CREATE TABLE s (id SMALLINT NOT NULL AUTO_INCREMENT, PRIMARY KEY (id))",
        &[],
    );
    check(
        &CreateTable::new(&big),
        "CREATE TABLE b (id BIGSERIAL NOT NULL, PRIMARY KEY (id))",
        "CREATE TABLE b (id INTEGER NOT NULL, PRIMARY KEY (id))",
        "CREATE TABLE b (id BIGINT NOT NULL AUTO_INCREMENT, PRIMARY KEY (id))",
        &[],
    );
    // Switched off, or not an integer: no generated values.
    let manual = Table::new("m").column(
        Column::new("id", SqlType::Integer)
            .primary_key()
            .autoincrement(false),
    );
    let sql = "CREATE TABLE m (id INTEGER NOT NULL, PRIMARY KEY (id))";
    check(&CreateTable::new(&manual), sql, sql, sql, &[]);
    let uuid = Table::new("u").column(Column::new("id", SqlType::Uuid).primary_key());
    check(
        &CreateTable::new(&uuid),
        "CREATE TABLE u (id UUID NOT NULL, PRIMARY KEY (id))",
        "CREATE TABLE u (id CHAR(36) NOT NULL, PRIMARY KEY (id))",
        "CREATE TABLE u (id CHAR(36) NOT NULL, PRIMARY KEY (id))",
        &[],
    );
}

#[test]
fn composite_primary_key_and_foreign_keys_with_actions() {
    let f = fixture();
    check(
        &CreateTable::new(&f.post_tag),
        "CREATE TABLE post_tag (post_id INTEGER NOT NULL, tag_id INTEGER NOT NULL, PRIMARY KEY (post_id, tag_id), \
         FOREIGN KEY (post_id) REFERENCES post (id) ON DELETE CASCADE, \
         FOREIGN KEY (tag_id) REFERENCES tag (id) ON DELETE CASCADE)",
        "CREATE TABLE post_tag (post_id INTEGER NOT NULL, tag_id INTEGER NOT NULL, PRIMARY KEY (post_id, tag_id), \
         FOREIGN KEY (post_id) REFERENCES post (id) ON DELETE CASCADE, \
         FOREIGN KEY (tag_id) REFERENCES tag (id) ON DELETE CASCADE)",
        "CREATE TABLE post_tag (post_id INTEGER NOT NULL, tag_id INTEGER NOT NULL, PRIMARY KEY (post_id, tag_id), \
         FOREIGN KEY (post_id) REFERENCES post (id) ON DELETE CASCADE, \
         FOREIGN KEY (tag_id) REFERENCES tag (id) ON DELETE CASCADE)",
        &[],
    );
    let child = Table::new("child")
        .column(Column::new("id", SqlType::Integer).primary_key())
        .column(Column::new("a", SqlType::Integer))
        .column(Column::new("b", SqlType::Integer))
        .column(
            Column::new("owner_id", SqlType::Integer)
                .foreign_key("owner")
                .on_delete(ReferentialAction::SetNull)
                .on_update(ReferentialAction::Cascade),
        )
        .foreign_key_constraint(dialects::schema::TableForeignKey {
            columns: vec!["a".into(), "b".into()],
            ref_table: "pair".into(),
            ref_columns: vec!["x".into(), "y".into()],
            on_delete: Some(ReferentialAction::Restrict),
            on_update: Some(ReferentialAction::NoAction),
        });
    let sql = "CREATE TABLE child (id INTEGER NOT NULL, a INTEGER, b INTEGER, owner_id INTEGER, PRIMARY KEY (id), \
               FOREIGN KEY (owner_id) REFERENCES owner (id) ON DELETE SET NULL ON UPDATE CASCADE, \
               FOREIGN KEY (a, b) REFERENCES pair (x, y) ON DELETE RESTRICT ON UPDATE NO ACTION)";
    check_one(&CreateTable::new(&child), &Sqlite, sql, &[]);
}

#[test]
fn the_fixture_tables() {
    let f = fixture();
    check(
        &CreateTable::new(&f.resume),
        "CREATE TABLE resume (id SERIAL NOT NULL, title VARCHAR(256) NOT NULL, compensation INTEGER, \
         workload workload NOT NULL, worker_id INTEGER NOT NULL, \
         created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT (TIMEZONE('utc', now())), \
         updated_at TIMESTAMP WITHOUT TIME ZONE DEFAULT (TIMEZONE('utc', now())), PRIMARY KEY (id), \
         FOREIGN KEY (worker_id) REFERENCES worker (id) ON DELETE CASCADE)",
        "CREATE TABLE resume (id INTEGER NOT NULL, title VARCHAR(256) NOT NULL, compensation INTEGER, \
         workload VARCHAR(8) NOT NULL, worker_id INTEGER NOT NULL, \
         created_at DATETIME DEFAULT (CURRENT_TIMESTAMP), \
         updated_at DATETIME DEFAULT (CURRENT_TIMESTAMP), PRIMARY KEY (id), \
         FOREIGN KEY (worker_id) REFERENCES worker (id) ON DELETE CASCADE, \
         CONSTRAINT ck_resume_workload CHECK (workload IN ('parttime', 'fulltime')))",
        "CREATE TABLE resume (id INTEGER NOT NULL AUTO_INCREMENT, title VARCHAR(256) NOT NULL, compensation INTEGER, \
         workload ENUM('parttime', 'fulltime') NOT NULL, worker_id INTEGER NOT NULL, \
         created_at DATETIME(6) DEFAULT (UTC_TIMESTAMP(6)), \
         updated_at DATETIME(6) DEFAULT (UTC_TIMESTAMP(6)), PRIMARY KEY (id), \
         FOREIGN KEY (worker_id) REFERENCES worker (id) ON DELETE CASCADE)",
        &[],
    );
    check(
        &CreateTable::new(&f.publisher),
        "CREATE TABLE publisher (id SERIAL NOT NULL, name VARCHAR(100) NOT NULL, PRIMARY KEY (id), UNIQUE (name))",
        "CREATE TABLE publisher (id INTEGER NOT NULL, name VARCHAR(100) NOT NULL, PRIMARY KEY (id), UNIQUE (name))",
        "CREATE TABLE publisher (id INTEGER NOT NULL AUTO_INCREMENT, name VARCHAR(100) NOT NULL, PRIMARY KEY (id), \
         UNIQUE (name))",
        &[],
    );
}

#[test]
fn unique_and_check_constraints() {
    // A table-qualified column in a check is written bare.
    let balance = Table::new("account")
        .column(Column::new("balance", SqlType::Numeric(10, 2)))
        .c("balance");
    let t = Table::new("account")
        .column(
            Column::new("id", SqlType::Integer)
                .primary_key()
                .autoincrement(false),
        )
        .column(Column::new("email", SqlType::string(200)).unique())
        .column(Column::new("org", SqlType::Integer))
        .column(Column::new("nick", SqlType::string(50)))
        .column(Column::new("balance", SqlType::Numeric(10, 2)))
        .unique(UniqueConstraint::new(["org", "nick"]).named("uq_account_org_nick"))
        .unique(UniqueConstraint::new(["org", "email"]))
        .check(CheckConstraint::new(balance.ge(0)).named("ck_balance"))
        .check(CheckConstraint::new(
            dialects::column("nick")
                .ne("admin'--")
                .and(dialects::column("org").between(1, 100)),
        ));
    check(
        &CreateTable::new(&t),
        "CREATE TABLE account (id INTEGER NOT NULL, email VARCHAR(200), org INTEGER, nick VARCHAR(50), \
         balance NUMERIC(10, 2), PRIMARY KEY (id), UNIQUE (email), \
         CONSTRAINT uq_account_org_nick UNIQUE (org, nick), UNIQUE (org, email), \
         CONSTRAINT ck_balance CHECK (balance >= 0), CHECK (nick <> 'admin''--' AND org BETWEEN 1 AND 100))",
        "CREATE TABLE account (id INTEGER NOT NULL, email VARCHAR(200), org INTEGER, nick VARCHAR(50), \
         balance NUMERIC(10, 2), PRIMARY KEY (id), UNIQUE (email), \
         CONSTRAINT uq_account_org_nick UNIQUE (org, nick), UNIQUE (org, email), \
         CONSTRAINT ck_balance CHECK (balance >= 0), CHECK (nick <> 'admin''--' AND org BETWEEN 1 AND 100))",
        "CREATE TABLE account (id INTEGER NOT NULL, email VARCHAR(200), org INTEGER, nick VARCHAR(50), \
         balance DECIMAL(10, 2), PRIMARY KEY (id), UNIQUE (email), \
         CONSTRAINT uq_account_org_nick UNIQUE (org, nick), UNIQUE (org, email), \
         CONSTRAINT ck_balance CHECK (balance >= 0), CHECK (nick <> 'admin''--' AND org BETWEEN 1 AND 100))",
        &[],
    );
}

#[test]
fn server_default_literals_are_escaped_per_dialect() {
    let t = Table::new("t")
        .column(Column::new("s", SqlType::string(50)).server_default("O'Reilly \\ co"))
        .column(Column::new("n", SqlType::Integer).server_default(7))
        .column(Column::new("f", SqlType::Boolean).server_default(false))
        .column(Column::new("x", SqlType::Text).server_default("it's"))
        .column(Column::new("d", SqlType::Numeric(5, 2)).server_default(literal(1.5_f64)));
    check(
        &CreateTable::new(&t),
        "CREATE TABLE t (s VARCHAR(50) DEFAULT 'O''Reilly \\ co', n INTEGER DEFAULT 7, \
         f BOOLEAN DEFAULT false, x TEXT DEFAULT 'it''s', d NUMERIC(5, 2) DEFAULT (1.5))",
        "CREATE TABLE t (s VARCHAR(50) DEFAULT 'O''Reilly \\ co', n INTEGER DEFAULT 7, \
         f BOOLEAN DEFAULT 0, x TEXT DEFAULT 'it''s', d NUMERIC(5, 2) DEFAULT (1.5))",
        // MySQL doubles backslashes, and takes TEXT defaults only as expressions.
        "CREATE TABLE t (s VARCHAR(50) DEFAULT 'O''Reilly \\\\ co', n INTEGER DEFAULT 7, \
         f BOOL DEFAULT 0, x TEXT DEFAULT ('it''s'), d DECIMAL(5, 2) DEFAULT (1.5))",
        &[],
    );
}

#[test]
fn server_default_expressions() {
    let t = Table::new("t")
        .column(
            Column::new("at", SqlType::DateTime { timezone: false })
                .server_default(func::utc_now())
                .not_null(),
        )
        .column(
            Column::new("seen", SqlType::DateTime { timezone: true }).server_default(func::now()),
        )
        .column(
            Column::new("label", SqlType::string(20))
                .server_default(dialects::text("'a' || 'b'").expr()),
        );
    check_mariadb(
        &CreateTable::new(&t),
        "CREATE TABLE t (at TIMESTAMP WITHOUT TIME ZONE DEFAULT (TIMEZONE('utc', now())) NOT NULL, \
         seen TIMESTAMP WITH TIME ZONE DEFAULT (now()), label VARCHAR(20) DEFAULT ('a' || 'b'))",
        "CREATE TABLE t (at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL, \
         seen DATETIME DEFAULT (CURRENT_TIMESTAMP), label VARCHAR(20) DEFAULT ('a' || 'b'))",
        "CREATE TABLE t (at DATETIME(6) DEFAULT (UTC_TIMESTAMP(6)) NOT NULL, \
         seen DATETIME(6) DEFAULT (CURRENT_TIMESTAMP), label VARCHAR(20) DEFAULT ('a' || 'b'))",
        "CREATE TABLE t (at DATETIME(6) DEFAULT (UTC_TIMESTAMP(6)) NOT NULL, \
         seen DATETIME(6) DEFAULT (CURRENT_TIMESTAMP), label VARCHAR(20) DEFAULT ('a' || 'b'))",
        &[],
    );
}

#[test]
fn bytes_cannot_be_a_ddl_literal() {
    let t = Table::new("t").column(
        Column::new("b", SqlType::Binary(Some(4))).server_default(Value::Bytes(vec![1, 2])),
    );
    assert_eq!(
        compile_err(&CreateTable::new(&t), &Postgres),
        CompileError::UnsupportedLiteral { kind: "bytes" }
    );
}

#[test]
fn create_and_drop_table_if_not_exists() {
    let f = fixture();
    let sql = "CREATE TABLE IF NOT EXISTS tag (id SERIAL NOT NULL, name VARCHAR(50) NOT NULL, PRIMARY KEY (id))";
    check_one(
        &CreateTable::new(&f.tag).if_not_exists(),
        &Postgres,
        sql,
        &[],
    );
    let drop = DropTable::new(&f.tag);
    check(
        &drop,
        "DROP TABLE tag",
        "DROP TABLE tag",
        "DROP TABLE tag",
        &[],
    );
    let drop = DropTable::new(&f.tag).if_exists();
    check(
        &drop,
        "DROP TABLE IF EXISTS tag",
        "DROP TABLE IF EXISTS tag",
        "DROP TABLE IF EXISTS tag",
        &[],
    );
}

#[test]
fn indexes_multi_column_unique_and_per_column() {
    let t = Table::new("post")
        .column(Column::new("id", SqlType::Integer).primary_key())
        .column(Column::new("publisher_id", SqlType::Integer).index())
        .column(Column::new("slug", SqlType::string(80)))
        .column(Column::new(
            "created_at",
            SqlType::DateTime { timezone: false },
        ))
        .index(Index::new(
            "ix_post_pub_created",
            ["publisher_id", "created_at"],
        ))
        .index(Index::new("uq_post_slug", ["slug"]).unique());
    let names: Vec<String> = t.indexes().iter().map(|i| i.name.clone()).collect();
    assert_eq!(
        names,
        [
            "ix_post_pub_created",
            "uq_post_slug",
            "ix_post_publisher_id"
        ]
    );
    let [multi, unique, single] = [0, 1, 2].map(|n| CreateIndex::new(&t, t.indexes()[n].clone()));
    let sql = "CREATE INDEX ix_post_pub_created ON post (publisher_id, created_at)";
    check(&multi, sql, sql, sql, &[]);
    let sql = "CREATE UNIQUE INDEX uq_post_slug ON post (slug)";
    check(&unique, sql, sql, sql, &[]);
    let sql = "CREATE INDEX ix_post_publisher_id ON post (publisher_id)";
    check(&single, sql, sql, sql, &[]);
    let bad = CreateIndex::new(&t, Index::new("ix_bad", ["nope"]));
    assert!(matches!(
        compile_err(&bad, &Sqlite),
        CompileError::UnknownColumn { .. }
    ));
}

#[test]
fn index_if_not_exists_and_drop_index() {
    let t = Table::new("post")
        .column(Column::new("id", SqlType::Integer).primary_key())
        .column(Column::new("slug", SqlType::string(80)));
    let create = CreateIndex::new(&t, Index::new("ix_slug", ["slug"])).if_not_exists();
    let sql = "CREATE INDEX IF NOT EXISTS ix_slug ON post (slug)";
    check_one(&create, &Postgres, sql, &[]);
    check_one(&create, &Sqlite, sql, &[]);
    check_one(&create, &MySql::mariadb(), sql, &[]);
    assert_unsupported(&create, &MySql::default(), "CREATE INDEX IF NOT EXISTS");

    let drop = DropIndex::new(&t, "ix_slug");
    check(
        &drop,
        "DROP INDEX ix_slug",
        "DROP INDEX ix_slug",
        "DROP INDEX ix_slug ON post",
        &[],
    );
    let drop = DropIndex::new(&t, "ix_slug").if_exists();
    check_one(&drop, &Postgres, "DROP INDEX IF EXISTS ix_slug", &[]);
    check_one(&drop, &Sqlite, "DROP INDEX IF EXISTS ix_slug", &[]);
    check_one(
        &drop,
        &MySql::mariadb(),
        "DROP INDEX IF EXISTS ix_slug ON post",
        &[],
    );
    assert_unsupported(&drop, &MySql::default(), "DROP INDEX IF EXISTS");
}

#[test]
fn schema_qualified_tables_and_indexes() {
    let t = Table::new("event")
        .schema("audit")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("kind", SqlType::string(20)).index());
    check(
        &CreateTable::new(&t),
        "CREATE TABLE audit.event (id BIGSERIAL NOT NULL, kind VARCHAR(20), PRIMARY KEY (id))",
        "CREATE TABLE audit.event (id INTEGER NOT NULL, kind VARCHAR(20), PRIMARY KEY (id))",
        "CREATE TABLE audit.event (id BIGINT NOT NULL AUTO_INCREMENT, kind VARCHAR(20), PRIMARY KEY (id))",
        &[],
    );
    // SQLite names the schema on the index, not on the table.
    let index = CreateIndex::new(&t, t.indexes()[0].clone());
    check(
        &index,
        "CREATE INDEX ix_event_kind ON audit.event (kind)",
        "CREATE INDEX audit.ix_event_kind ON event (kind)",
        "CREATE INDEX ix_event_kind ON audit.event (kind)",
        &[],
    );
    check(
        &DropIndex::new(&t, "ix_event_kind"),
        "DROP INDEX audit.ix_event_kind",
        "DROP INDEX audit.ix_event_kind",
        "DROP INDEX ix_event_kind ON audit.event",
        &[],
    );
    let stmt = dialects::select((t.c("kind"),)).where_(t.c("id").eq(1));
    check(
        &stmt,
        "SELECT audit.event.kind FROM audit.event WHERE audit.event.id = $1",
        "SELECT audit.event.kind FROM audit.event WHERE audit.event.id = ?",
        "SELECT audit.event.kind FROM audit.event WHERE audit.event.id = ?",
        &[common::i(1)],
    );
}

fn plan_sql(plan: &[Ddl], dialect: &dyn dialects::Dialect) -> Vec<String> {
    plan.iter()
        .map(|d| common::compile(d as &dyn Statement, dialect).sql)
        .collect()
}

#[test]
fn sorted_tables_put_parents_first() {
    let f = fixture();
    let names: Vec<String> = f
        .metadata
        .sorted_tables()
        .unwrap()
        .iter()
        .map(|t| t.name().to_owned())
        .collect();
    // Parents first, in rounds; each round by name.
    assert_eq!(
        names,
        ["publisher", "tag", "worker", "post", "resume", "post_tag"]
    );
    // The order the tables were added in does not matter.
    let mut reversed = dialects::MetaData::new();
    for t in f.metadata.tables().iter().rev() {
        reversed.add(t.clone());
    }
    let again: Vec<String> = reversed
        .sorted_tables()
        .unwrap()
        .iter()
        .map(|t| t.name().to_owned())
        .collect();
    assert_eq!(again, names);
}

#[test]
fn a_foreign_key_cycle_is_an_error_naming_the_tables() {
    let mut md = MetaData::new();
    md.add(Table::new("solo").column(Column::new("id", SqlType::Integer).primary_key()));
    md.add(
        Table::new("a")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("b_id", SqlType::Integer).foreign_key("b.id")),
    );
    md.add(
        Table::new("b")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("a_id", SqlType::Integer).foreign_key("a.id")),
    );
    // A self-reference alone is fine.
    md.add(
        Table::new("node")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("parent_id", SqlType::Integer).foreign_key("node.id")),
    );
    let err = md.sorted_tables().unwrap_err();
    assert_eq!(
        err,
        CompileError::DependencyCycle {
            tables: vec!["a".into(), "b".into()]
        }
    );
    assert_eq!(
        err.to_string(),
        "foreign keys form a cycle between tables: a, b"
    );
    assert!(create_all(&md, &Postgres, false).is_err());
}

#[test]
fn create_all_and_drop_all_order() {
    let mut md = MetaData::new();
    md.add(
        Table::new("post")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(
                Column::new("publisher_id", SqlType::Integer)
                    .foreign_key("publisher.id")
                    .index(),
            ),
    );
    md.add(Table::new("publisher").column(Column::new("id", SqlType::Integer).primary_key()));
    let create = create_all(&md, &Postgres, false).unwrap();
    assert_eq!(
        plan_sql(&create, &Postgres),
        [
            "CREATE TABLE publisher (id SERIAL NOT NULL, PRIMARY KEY (id))",
            "CREATE TABLE post (id SERIAL NOT NULL, publisher_id INTEGER, PRIMARY KEY (id), \
             FOREIGN KEY (publisher_id) REFERENCES publisher (id))",
            "CREATE INDEX ix_post_publisher_id ON post (publisher_id)",
        ]
    );
    let checkfirst = create_all(&md, &Sqlite, true).unwrap();
    assert_eq!(
        plan_sql(&checkfirst, &Sqlite),
        [
            "CREATE TABLE IF NOT EXISTS publisher (id INTEGER NOT NULL, PRIMARY KEY (id))",
            "CREATE TABLE IF NOT EXISTS post (id INTEGER NOT NULL, publisher_id INTEGER, PRIMARY KEY (id), \
             FOREIGN KEY (publisher_id) REFERENCES publisher (id))",
            "CREATE INDEX IF NOT EXISTS ix_post_publisher_id ON post (publisher_id)",
        ]
    );
    let drop = drop_all(&md, &MySql::default(), false).unwrap();
    assert_eq!(
        plan_sql(&drop, &MySql::default()),
        ["DROP TABLE post", "DROP TABLE publisher"]
    );
    let drop = drop_all(&md, &MySql::mariadb(), true).unwrap();
    assert_eq!(
        plan_sql(&drop, &MySql::mariadb()),
        [
            "DROP TABLE IF EXISTS post",
            "DROP TABLE IF EXISTS publisher"
        ]
    );
}

#[test]
fn create_all_for_the_fixture() {
    let f = fixture();
    let plan = create_all(&f.metadata, &Sqlite, false).unwrap();
    let tables: Vec<String> = plan
        .iter()
        .map(|d| match d {
            Ddl::CreateTable(ct) => ct.table.name().to_owned(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    // Parents first; within a round by name.
    assert_eq!(
        tables,
        ["publisher", "tag", "worker", "post", "resume", "post_tag"]
    );
    for d in [
        &Sqlite as &dyn dialects::Dialect,
        &MySql::default(),
        &MySql::mariadb(),
    ] {
        assert_eq!(
            plan_sql(&create_all(&f.metadata, d, false).unwrap(), d).len(),
            6
        );
    }
    // PostgreSQL creates the enum type first and drops it last.
    let pg = create_all(&f.metadata, &Postgres, false).unwrap();
    let sql = plan_sql(&pg, &Postgres);
    assert_eq!(sql.len(), 7);
    assert_eq!(
        sql[0],
        "CREATE TYPE workload AS ENUM ('parttime', 'fulltime')"
    );
    let drop = plan_sql(&drop_all(&f.metadata, &Postgres, true).unwrap(), &Postgres);
    assert_eq!(drop.last().unwrap(), "DROP TYPE IF EXISTS workload");
}
