//! `inspect()` round trip on every backend: create a MetaData's tables,
//! reflect them back, compare, drop them, and see them gone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use persistence::dialects::schema::TableForeignKey;
use persistence::dialects::{
    column, text, CheckConstraint, Column, Index, MetaData, ReferentialAction, SqlType, Table,
    UniqueConstraint,
};
use persistence::{inspect, Error, ReflectedColumn, ReflectedIndex, SchemaExt};
use tests::{on_all_backends, TestBackend, TestDb};

const TABLES: [&str; 4] = ["customer", "line_note", "order_line", "shop_order"];

/// customer <- shop_order <- order_line (composite key) <- line_note
/// (composite foreign key).
fn shop_metadata() -> MetaData {
    let mut metadata = MetaData::new();
    metadata.add(
        Table::new("customer")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(
                Column::new("email", SqlType::string(120))
                    .not_null()
                    .unique(),
            )
            .column(Column::new("first_name", SqlType::string(50)).not_null())
            .column(Column::new("last_name", SqlType::string(50)).not_null())
            .column(Column::new("nickname", SqlType::string(50)).nullable(true))
            .column(
                Column::new("status", SqlType::string(20))
                    .not_null()
                    .server_default("active"),
            )
            .column(
                Column::new("credit", SqlType::Integer)
                    .not_null()
                    .server_default(0),
            )
            .unique(
                UniqueConstraint::new(["first_name", "last_name"]).named("uq_customer_full_name"),
            )
            .check(CheckConstraint::new(column("credit").ge(0)).named("ck_customer_credit"))
            .index(Index::new(
                "ix_customer_name_status",
                ["last_name", "status"],
            ))
            .index(Index::new("ux_customer_nickname", ["nickname"]).unique()),
    );
    metadata.add(
        Table::new("shop_order")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(
                Column::new("customer_id", SqlType::Integer)
                    .not_null()
                    .foreign_key("customer.id")
                    .on_delete(ReferentialAction::Cascade),
            )
            .column(Column::new("note", SqlType::Text).nullable(true)),
    );
    metadata.add(
        Table::new("order_line")
            // Key order (order_id, line_no) is not alphabetical.
            .column(
                Column::new("order_id", SqlType::Integer)
                    .primary_key()
                    .foreign_key("shop_order.id")
                    .on_delete(ReferentialAction::Cascade),
            )
            .column(Column::new("line_no", SqlType::Integer).primary_key())
            .column(
                Column::new("quantity", SqlType::Integer)
                    .not_null()
                    .server_default(1),
            )
            .check(CheckConstraint::new(column("quantity").gt(0))),
    );
    metadata.add(
        Table::new("line_note")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("order_id", SqlType::Integer).nullable(true))
            .column(Column::new("line_no", SqlType::Integer).nullable(true))
            .column(Column::new("body", SqlType::string(200)).not_null())
            .foreign_key_constraint(TableForeignKey {
                columns: vec!["order_id".into(), "line_no".into()],
                ref_table: "order_line".into(),
                ref_columns: vec!["order_id".into(), "line_no".into()],
                on_delete: Some(ReferentialAction::SetNull),
                on_update: Some(ReferentialAction::Cascade),
            }),
    );
    metadata
}

fn col<'a>(cols: &'a [ReflectedColumn], name: &str) -> &'a ReflectedColumn {
    cols.iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no reflected column {name} in {cols:?}"))
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// (columns, unique) of every index, sorted, names left out.
fn index_shapes(indexes: &[ReflectedIndex]) -> Vec<(Vec<String>, bool)> {
    let mut shapes: Vec<_> = indexes
        .iter()
        .map(|i| (i.columns.clone(), i.unique))
        .collect();
    shapes.sort();
    shapes
}

async fn reflects_created_schema(db: TestDb) {
    let metadata = shop_metadata();
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    let mut insp = inspect(&mut conn);

    // Tables.
    assert_eq!(insp.table_names().await.unwrap(), strings(&TABLES));
    assert!(insp.has_table("customer").await.unwrap());
    assert!(!insp.has_table("nope").await.unwrap());

    // Columns: order, nullability, defaults, types.
    let cols = insp.columns("customer").await.unwrap();
    assert_eq!(
        cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        [
            "id",
            "email",
            "first_name",
            "last_name",
            "nickname",
            "status",
            "credit"
        ]
    );
    for c in &cols {
        assert_eq!(c.nullable, c.name == "nickname", "nullability of {c:?}");
    }
    let status = col(&cols, "status").default.clone();
    assert!(
        status.as_deref().is_some_and(|d| d.contains("active")),
        "status default: {status:?}"
    );
    let credit = col(&cols, "credit").default.clone();
    assert!(
        credit.as_deref().is_some_and(|d| d.contains('0')),
        "credit default: {credit:?}"
    );
    for name in ["email", "first_name", "nickname"] {
        assert_eq!(col(&cols, name).default, None, "{name} has no default");
    }
    let id_default = col(&cols, "id").default.clone();
    match db.backend {
        // SERIAL is a sequence default; MySQL's AUTO_INCREMENT and SQLite's
        // rowid are not defaults.
        TestBackend::Postgres => assert!(
            id_default.as_deref().is_some_and(|d| d.contains("nextval")),
            "{id_default:?}"
        ),
        _ => assert_eq!(id_default, None),
    }
    let id_type = col(&cols, "id").type_name.to_ascii_lowercase();
    assert!(id_type.contains("int"), "id type: {id_type}");
    let email_type = col(&cols, "email").type_name.to_ascii_lowercase();
    assert!(
        email_type.contains("char") && email_type.contains("120"),
        "email type: {email_type}"
    );
    let expected_email_type = match db.backend {
        TestBackend::Postgres => "character varying(120)",
        TestBackend::MySql => "varchar(120)",
        TestBackend::Sqlite => "VARCHAR(120)",
    };
    assert_eq!(col(&cols, "email").type_name, expected_email_type);

    let note_cols = insp.columns("line_note").await.unwrap();
    assert!(col(&note_cols, "order_id").nullable);
    assert!(!col(&note_cols, "body").nullable);
    let line_cols = insp.columns("order_line").await.unwrap();
    assert!(col(&line_cols, "quantity")
        .default
        .as_deref()
        .is_some_and(|d| d.contains('1')));

    // Primary keys, in key order.
    assert_eq!(insp.primary_key("customer").await.unwrap(), ["id"]);
    assert_eq!(
        insp.primary_key("order_line").await.unwrap(),
        ["order_id", "line_no"]
    );

    // Foreign keys: targets and actions.
    let fks = insp.foreign_keys("shop_order").await.unwrap();
    assert_eq!(fks.len(), 1, "{fks:?}");
    assert_eq!(fks[0].columns, ["customer_id"]);
    assert_eq!(fks[0].referred_table, "customer");
    assert_eq!(fks[0].referred_columns, ["id"]);
    assert_eq!(fks[0].on_delete.as_deref(), Some("CASCADE"));
    assert_eq!(fks[0].on_update, None);
    assert_eq!(
        fks[0].name.is_some(),
        db.backend != TestBackend::Sqlite,
        "{fks:?}"
    );

    let fks = insp.foreign_keys("order_line").await.unwrap();
    assert_eq!(fks.len(), 1, "{fks:?}");
    assert_eq!(
        (
            fks[0].columns.clone(),
            fks[0].referred_table.as_str(),
            fks[0].referred_columns.clone()
        ),
        (strings(&["order_id"]), "shop_order", strings(&["id"]))
    );
    assert_eq!(fks[0].on_delete.as_deref(), Some("CASCADE"));

    let fks = insp.foreign_keys("line_note").await.unwrap();
    assert_eq!(fks.len(), 1, "{fks:?}");
    assert_eq!(fks[0].columns, ["order_id", "line_no"]);
    assert_eq!(fks[0].referred_table, "order_line");
    assert_eq!(fks[0].referred_columns, ["order_id", "line_no"]);
    assert_eq!(fks[0].on_delete.as_deref(), Some("SET NULL"));
    assert_eq!(fks[0].on_update.as_deref(), Some("CASCADE"));
    assert!(insp.foreign_keys("customer").await.unwrap().is_empty());

    // Indexes: the declared ones by name, plus one per UNIQUE constraint,
    // never the primary key's.
    let indexes = insp.indexes("customer").await.unwrap();
    let by_name = |name: &str| indexes.iter().find(|i| i.name == name).cloned();
    assert_eq!(
        by_name("ix_customer_name_status"),
        Some(ReflectedIndex {
            name: "ix_customer_name_status".into(),
            columns: strings(&["last_name", "status"]),
            unique: false,
        })
    );
    assert_eq!(
        by_name("ux_customer_nickname"),
        Some(ReflectedIndex {
            name: "ux_customer_nickname".into(),
            columns: strings(&["nickname"]),
            unique: true,
        })
    );
    assert_eq!(
        index_shapes(&indexes),
        [
            (strings(&["email"]), true),
            (strings(&["first_name", "last_name"]), true),
            (strings(&["last_name", "status"]), false),
            (strings(&["nickname"]), true),
        ],
        "{indexes:?}"
    );
    // The composite primary key's index is left out too; MySQL adds an
    // index for the foreign key only where no index starts with its column.
    let line_indexes = insp.indexes("order_line").await.unwrap();
    assert!(line_indexes.is_empty(), "{line_indexes:?}");
    let order_indexes = insp.indexes("shop_order").await.unwrap();
    match db.backend {
        TestBackend::MySql => assert_eq!(
            index_shapes(&order_indexes),
            [(strings(&["customer_id"]), false)]
        ),
        _ => assert!(order_indexes.is_empty(), "{order_indexes:?}"),
    }

    // Unique constraints.
    let mut uniques = insp.unique_constraints("customer").await.unwrap();
    uniques.sort_by(|a, b| a.columns.cmp(&b.columns));
    let mut expected = vec![strings(&["email"]), strings(&["first_name", "last_name"])];
    if db.backend == TestBackend::MySql {
        // A unique index is a unique constraint there.
        expected.push(strings(&["nickname"]));
    }
    assert_eq!(
        uniques
            .iter()
            .map(|u| u.columns.clone())
            .collect::<Vec<_>>(),
        expected,
        "{uniques:?}"
    );
    let full_name = uniques
        .iter()
        .find(|u| u.columns.len() == 2)
        .unwrap()
        .name
        .clone();
    match db.backend {
        TestBackend::Sqlite => assert_eq!(full_name, None),
        _ => assert_eq!(full_name.as_deref(), Some("uq_customer_full_name")),
    }

    // Check constraints (none reported by SQLite).
    let checks = insp.check_constraints("customer").await.unwrap();
    let line_checks = insp.check_constraints("order_line").await.unwrap();
    if db.backend == TestBackend::Sqlite {
        assert!(checks.is_empty() && line_checks.is_empty());
    } else {
        assert_eq!(checks.len(), 1, "{checks:?}");
        assert_eq!(checks[0].name.as_deref(), Some("ck_customer_credit"));
        assert!(checks[0].sqltext.contains("credit"), "{checks:?}");
        assert!(checks[0].sqltext.contains(">="), "{checks:?}");
        assert!(!checks[0].sqltext.starts_with("CHECK"), "{checks:?}");
        assert_eq!(line_checks.len(), 1, "{line_checks:?}");
        // The server names an unnamed check itself.
        assert!(line_checks[0].name.is_some(), "{line_checks:?}");
        assert!(
            line_checks[0].sqltext.contains("quantity"),
            "{line_checks:?}"
        );
    }

    // A table that is not there is an error, not an empty answer.
    for result in [
        insp.columns("nope").await.map(|_| ()),
        insp.primary_key("nope").await.map(|_| ()),
        insp.foreign_keys("nope").await.map(|_| ()),
        insp.indexes("nope").await.map(|_| ()),
        insp.unique_constraints("nope").await.map(|_| ()),
        insp.check_constraints("nope").await.map(|_| ()),
    ] {
        match result {
            Err(Error::NoSuchTable { table }) => assert_eq!(table, "nope"),
            other => panic!("expected NoSuchTable, got {other:?}"),
        }
    }

    metadata.drop_all(&mut conn).await.unwrap();
    let left = inspect(&mut conn).table_names().await.unwrap();
    for t in TABLES {
        assert!(
            !left.iter().any(|l| l == t),
            "{t} survived drop_all: {left:?}"
        );
    }
    assert!(left.is_empty(), "{left:?}");
    drop(conn);
    db.close().await;
}

/// Indexes and keys written by hand in each backend's SQL: an expression
/// index on PostgreSQL, `REFERENCES parent` without columns on SQLite,
/// quoted mixed-case names everywhere.
async fn reflects_hand_written_ddl(db: TestDb) {
    let mut conn = db.engine.connect().await.unwrap();
    let (parent, child, index) = match db.backend {
        TestBackend::MySql => (
            "CREATE TABLE `Parent` (`Id` INTEGER NOT NULL PRIMARY KEY, `Code` VARCHAR(10))",
            "CREATE TABLE `Child` (`Id` INTEGER NOT NULL PRIMARY KEY, `ParentId` INTEGER, \
             CONSTRAINT `fk_child_parent` FOREIGN KEY (`ParentId`) REFERENCES `Parent` (`Id`) \
             ON DELETE RESTRICT ON UPDATE SET NULL)",
            "CREATE INDEX `ix_parent_code` ON `Parent` (`Code`)",
        ),
        TestBackend::Postgres => (
            "CREATE TABLE \"Parent\" (\"Id\" INTEGER NOT NULL PRIMARY KEY, \"Code\" VARCHAR(10))",
            "CREATE TABLE \"Child\" (\"Id\" INTEGER NOT NULL PRIMARY KEY, \"ParentId\" INTEGER, \
             CONSTRAINT fk_child_parent FOREIGN KEY (\"ParentId\") REFERENCES \"Parent\" (\"Id\") \
             ON DELETE RESTRICT ON UPDATE SET NULL)",
            "CREATE INDEX ix_parent_code ON \"Parent\" (lower(\"Code\"), \"Id\")",
        ),
        TestBackend::Sqlite => (
            "CREATE TABLE \"Parent\" (\"Id\" INTEGER NOT NULL PRIMARY KEY, \"Code\" VARCHAR(10))",
            "CREATE TABLE \"Child\" (\"Id\" INTEGER NOT NULL PRIMARY KEY, \
             \"ParentId\" INTEGER REFERENCES \"Parent\" ON DELETE RESTRICT ON UPDATE SET NULL)",
            "CREATE INDEX ix_parent_code ON \"Parent\" (\"Code\")",
        ),
    };
    for sql in [parent, child, index] {
        conn.execute(&text(sql)).await.unwrap();
    }
    let mut insp = inspect(&mut conn);
    assert_eq!(insp.table_names().await.unwrap(), ["Child", "Parent"]);
    assert_eq!(insp.primary_key("Parent").await.unwrap(), ["Id"]);
    let fks = insp.foreign_keys("Child").await.unwrap();
    assert_eq!(fks.len(), 1, "{fks:?}");
    assert_eq!(fks[0].columns, ["ParentId"]);
    assert_eq!(fks[0].referred_table, "Parent");
    // SQLite's `REFERENCES "Parent"` names no column: the primary key is meant.
    assert_eq!(fks[0].referred_columns, ["Id"]);
    assert_eq!(fks[0].on_update.as_deref(), Some("SET NULL"));
    match db.backend {
        // MySQL reports RESTRICT and NO ACTION alike.
        TestBackend::MySql => assert_eq!(fks[0].on_delete, None),
        _ => assert_eq!(fks[0].on_delete.as_deref(), Some("RESTRICT")),
    }
    match db.backend {
        TestBackend::Sqlite => assert_eq!(fks[0].name, None),
        _ => assert_eq!(fks[0].name.as_deref(), Some("fk_child_parent")),
    }
    let indexes = insp.indexes("Parent").await.unwrap();
    assert_eq!(indexes.len(), 1, "{indexes:?}");
    assert_eq!(indexes[0].name, "ix_parent_code");
    let expected: &[&str] = match db.backend {
        TestBackend::Postgres => &["lower(\"Code\"::text)", "Id"],
        _ => &["Code"],
    };
    assert_eq!(indexes[0].columns, expected);
    // Names are exact on PostgreSQL and on MariaDB with the default
    // lower_case_table_names=0; SQLite, like its SQL, ignores ASCII case.
    let lower = insp.columns("parent").await;
    match db.backend {
        TestBackend::Sqlite => assert_eq!(lower.unwrap().len(), 2),
        _ => assert!(matches!(lower, Err(Error::NoSuchTable { .. })), "{lower:?}"),
    }
    for sql in ["DROP TABLE \"Child\"", "DROP TABLE \"Parent\""] {
        let sql = if db.backend == TestBackend::MySql {
            sql.replace('"', "`")
        } else {
            sql.to_owned()
        };
        conn.execute(&text(&sql)).await.unwrap();
    }
    drop(conn);
    db.close().await;
}

on_all_backends!(reflects_created_schema, reflects_hand_written_ddl);
