//! The DDL of schema changes, exact per dialect.

#![allow(clippy::unwrap_used)]

use dialects::compiler::alter::{compile_op, enum_style, needs_rebuild, EnumStyle};
use dialects::schema::alter::AlterOp;
use dialects::schema::table::TableForeignKey;
use dialects::{
    Column, Dialect, Index, MySql, Postgres, ReferentialAction, SqlType, Sqlite, Table,
    UniqueConstraint,
};

fn sql(op: &AlterOp, d: &dyn Dialect) -> Vec<String> {
    compile_op(op, d).unwrap()
}

fn fk() -> TableForeignKey {
    TableForeignKey {
        columns: vec!["parent_id".into()],
        ref_table: "parent".into(),
        ref_columns: vec!["id".into()],
        on_delete: Some(ReferentialAction::Cascade),
        on_update: None,
    }
}

#[test]
fn columns() {
    let add = AlterOp::AddColumn {
        table: "t".into(),
        column: Column::new("email", SqlType::string(120)).server_default("n/a"),
    };
    assert_eq!(
        sql(&add, &Postgres),
        ["ALTER TABLE t ADD COLUMN email VARCHAR(120) DEFAULT 'n/a'"]
    );
    assert_eq!(
        sql(&add, &Sqlite),
        ["ALTER TABLE t ADD COLUMN email VARCHAR(120) DEFAULT 'n/a'"]
    );
    assert_eq!(
        sql(&add, &MySql::mariadb()),
        ["ALTER TABLE t ADD COLUMN email VARCHAR(120) DEFAULT 'n/a'"]
    );
    let keyed = AlterOp::AddColumn {
        table: "child".into(),
        column: Column::new("parent_id", SqlType::Integer)
            .foreign_key("parent.id")
            .unique(),
    };
    assert_eq!(
        sql(&keyed, &Postgres),
        [
            "ALTER TABLE child ADD COLUMN parent_id INTEGER",
            "ALTER TABLE child ADD UNIQUE (parent_id)",
            "ALTER TABLE child ADD CONSTRAINT fk_child_parent_id_parent FOREIGN KEY (parent_id) REFERENCES parent (id)",
        ]
    );
    assert!(
        needs_rebuild(&keyed, &Sqlite),
        "SQLite adds no UNIQUE column"
    );
    let drop = AlterOp::DropColumn {
        table: "t".into(),
        column: "email".into(),
    };
    assert_eq!(
        sql(&drop, &MySql::mysql8()),
        ["ALTER TABLE t DROP COLUMN email"]
    );
    assert!(needs_rebuild(&drop, &Sqlite));
    let rename = AlterOp::RenameColumn {
        table: "t".into(),
        from: "a".into(),
        to: "b".into(),
    };
    assert_eq!(
        sql(&rename, &Sqlite),
        ["ALTER TABLE t RENAME COLUMN a TO b"]
    );
    let alter = AlterOp::AlterColumn {
        table: "t".into(),
        from: Column::new("n", SqlType::Integer).server_default(1),
        to: Column::new("n", SqlType::BigInteger).not_null(),
    };
    assert_eq!(
        sql(&alter, &Postgres),
        [
            "ALTER TABLE t ALTER COLUMN n TYPE BIGINT USING n::BIGINT",
            "ALTER TABLE t ALTER COLUMN n SET NOT NULL",
            "ALTER TABLE t ALTER COLUMN n DROP DEFAULT",
        ]
    );
    assert_eq!(
        sql(&alter, &MySql::mariadb()),
        ["ALTER TABLE t MODIFY COLUMN n BIGINT NOT NULL"]
    );
    assert!(
        compile_op(&alter, &Sqlite).is_err(),
        "SQLite rebuilds instead"
    );
}

#[test]
fn tables_indexes_and_constraints() {
    let rename = AlterOp::RenameTable {
        from: "child".into(),
        to: "kid".into(),
    };
    assert_eq!(
        sql(&rename, &MySql::mariadb()),
        ["ALTER TABLE child RENAME TO kid"]
    );
    let index = AlterOp::CreateIndex {
        table: "t".into(),
        index: Index::new("ix_t_a", ["a"]).unique(),
    };
    assert_eq!(
        sql(&index, &Postgres),
        ["CREATE UNIQUE INDEX ix_t_a ON t (a)"]
    );
    let drop_index = AlterOp::DropIndex {
        table: "t".into(),
        name: "ix_t_a".into(),
    };
    assert_eq!(sql(&drop_index, &Postgres), ["DROP INDEX ix_t_a"]);
    assert_eq!(
        sql(&drop_index, &MySql::mariadb()),
        ["DROP INDEX ix_t_a ON t"]
    );
    let unique = UniqueConstraint::new(["a", "b"]).named("uq_t_a_b");
    let add = AlterOp::AddUnique {
        table: "t".into(),
        constraint: unique.clone(),
    };
    assert_eq!(
        sql(&add, &Postgres),
        ["ALTER TABLE t ADD CONSTRAINT uq_t_a_b UNIQUE (a, b)"]
    );
    let drop = AlterOp::DropUnique {
        table: "t".into(),
        constraint: unique,
    };
    assert_eq!(
        sql(&drop, &Postgres),
        ["ALTER TABLE t DROP CONSTRAINT uq_t_a_b"]
    );
    assert_eq!(
        sql(&drop, &MySql::mariadb()),
        ["ALTER TABLE t DROP INDEX uq_t_a_b"]
    );
    let unnamed = AlterOp::DropUnique {
        table: "t".into(),
        constraint: UniqueConstraint::new(["a"]),
    };
    assert_eq!(
        compile_op(&unnamed, &Postgres).unwrap_err().to_string(),
        "invalid statement: dropping the unique constraint on (a) of `t` needs its name"
    );
    let add_fk = AlterOp::AddForeignKey {
        table: "child".into(),
        name: Some("fk_c".into()),
        foreign_key: fk(),
    };
    assert_eq!(
        sql(&add_fk, &MySql::mariadb()),
        ["ALTER TABLE child ADD CONSTRAINT fk_c FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE"]
    );
    let drop_fk = AlterOp::DropForeignKey {
        table: "child".into(),
        name: Some("fk_c".into()),
        foreign_key: fk(),
    };
    assert_eq!(
        sql(&drop_fk, &Postgres),
        ["ALTER TABLE child DROP CONSTRAINT fk_c"]
    );
    assert_eq!(
        sql(&drop_fk, &MySql::mariadb()),
        ["ALTER TABLE child DROP FOREIGN KEY fk_c"]
    );
}

#[test]
fn sqlite_rebuild_is_a_sequence() {
    let from = Table::new("t")
        .column(Column::new("id", SqlType::Integer).primary_key())
        .column(Column::new("name", SqlType::string(20)).not_null().index())
        .column(Column::new(
            "mood",
            SqlType::enumeration("mood", ["a", "b"]),
        ));
    let to = Table::new("t")
        .column(Column::new("id", SqlType::Integer).primary_key())
        .column(Column::new("name", SqlType::string(40)).index())
        .column(Column::new(
            "mood",
            SqlType::enumeration("mood", ["a", "b", "c"]),
        ));
    let op = AlterOp::RebuildTable {
        from,
        to,
        copy: vec![
            ("id".into(), "id".into()),
            ("name".into(), "name".into()),
            ("mood".into(), "mood".into()),
        ],
    };
    assert_eq!(
        sql(&op, &Sqlite),
        [
            "CREATE TABLE _migrate_tmp_t (id INTEGER NOT NULL, name VARCHAR(40), mood VARCHAR(1), PRIMARY KEY (id), CONSTRAINT ck_t_mood CHECK (mood IN ('a', 'b', 'c')))",
            "INSERT INTO _migrate_tmp_t (id, name, mood) SELECT id, name, mood FROM t",
            "DROP TABLE t",
            "ALTER TABLE _migrate_tmp_t RENAME TO t",
            "CREATE INDEX ix_t_name ON t (name)",
        ]
    );
}

#[test]
fn enums_follow_the_dialect() {
    assert_eq!(enum_style(&MySql::mariadb()), EnumStyle::Inline);
    let col = |vs: &[&str]| {
        Column::new("mood", SqlType::enumeration("mood", vs.iter().copied())).not_null()
    };
    let alter = AlterOp::AlterColumn {
        table: "t".into(),
        from: col(&["a", "b"]),
        to: col(&["a", "b", "c"]),
    };
    assert_eq!(
        sql(&alter, &MySql::mariadb()),
        ["ALTER TABLE t MODIFY COLUMN mood ENUM('a', 'b', 'c') NOT NULL"]
    );
    let create = AlterOp::CreateEnum {
        name: "mood".into(),
        values: vec!["a".into(), "b".into()],
    };
    let add = AlterOp::AddEnumValue {
        name: "mood".into(),
        value: "c".into(),
        after: Some("b".into()),
    };
    match enum_style(&Postgres) {
        EnumStyle::Named => {
            assert_eq!(
                sql(&create, &Postgres),
                ["CREATE TYPE mood AS ENUM ('a', 'b')"]
            );
            assert_eq!(
                sql(&add, &Postgres),
                ["ALTER TYPE mood ADD VALUE 'c' AFTER 'b'"]
            );
        }
        _ => {
            // A VARCHAR with a CHECK: the enum ops are no-ops, the column's check is replaced.
            assert!(sql(&create, &Postgres).is_empty());
            assert_eq!(
                sql(&alter, &Postgres),
                [
                    "ALTER TABLE t DROP CONSTRAINT ck_t_mood",
                    "ALTER TABLE t ADD CONSTRAINT ck_t_mood CHECK (mood IN ('a', 'b', 'c'))",
                ]
            );
        }
    }
}
