//! Safety: values are always bound, identifiers quoted where needed (with
//! embedded quote characters escaped), DDL literals escaped per dialect,
//! and unsupported constructs are typed errors naming construct and dialect.

mod common;

use common::{assert_unsupported, check, check_one, fixture, i, s};
use dialects::{
    delete, insert, select, text, update, CheckConstraint, Column, CompileError, CreateIndex,
    CreateTable, Dialect, DropIndex, Index, MySql, Postgres, SqlType, Sqlite, Statement, Table,
    Value,
};

const EVIL: &str = "x'; DROP TABLE worker; --";

#[test]
fn values_are_never_inlined_in_any_statement() {
    let f = fixture();
    let statements: Vec<Box<dyn Statement>> = vec![
        Box::new(select((f.worker.c("id"),)).where_(f.worker.c("name").eq(EVIL))),
        Box::new(select((f.worker.c("id"),)).filter_by([("name", EVIL)])),
        Box::new(insert(&f.worker).values([("name", EVIL)])),
        Box::new(
            update(&f.worker)
                .set("name", EVIL)
                .filter_by([("name", EVIL)]),
        ),
        Box::new(delete(&f.worker).filter_by([("name", EVIL)])),
        Box::new(text("SELECT * FROM worker WHERE name = :n").bind("n", EVIL)),
        Box::new(
            select((f.worker.c("id"),))
                .where_(f.worker.c("name").in_([EVIL, EVIL]))
                .where_(f.worker.c("name").ilike(EVIL)),
        ),
    ];
    for stmt in &statements {
        for d in [
            &Postgres as &dyn Dialect,
            &Sqlite,
            &MySql::default(),
            &MySql::mariadb(),
        ] {
            let c = common::compile(stmt.as_ref(), d);
            assert!(!c.sql.contains("DROP"), "{}: {}", d.name(), c.sql);
            // The only quote allowed is SQLite's constant LIKE escape.
            let sql = c.sql.replace(" ESCAPE '\\'", "");
            assert!(!sql.contains('\''), "{}: {}", d.name(), c.sql);
            assert!(c.params.iter().all(|p| *p == s(EVIL)), "{c}");
            assert!(!c.params.is_empty());
        }
    }
}

#[test]
fn compiled_display_shows_params_apart_from_the_sql() {
    let f = fixture();
    let c = select((f.worker.c("id"),))
        .where_(f.worker.c("name").eq("Vlad"))
        .compile(&Postgres)
        .unwrap();
    assert_eq!(
        c.to_string(),
        "SELECT worker.id FROM worker WHERE worker.name = $1 -- params: [String(\"Vlad\")]"
    );
}

fn odd_table() -> Table {
    Table::new("order")
        .column(Column::new("user", SqlType::Integer).primary_key())
        .column(Column::new("Total", SqlType::Integer))
        .column(Column::new("we\"ird", SqlType::Integer))
        .column(Column::new("back`tick", SqlType::Integer))
        .column(Column::new("two words", SqlType::Integer))
        .column(Column::new("1st", SqlType::Integer))
}

#[test]
fn reserved_mixed_case_and_odd_identifiers_are_quoted() {
    let t = odd_table();
    let stmt = select(&t).where_(t.c("Total").gt(1));
    check(
        &stmt,
        "SELECT \"order\".\"user\", \"order\".\"Total\", \"order\".\"we\"\"ird\", \"order\".\"back`tick\", \
         \"order\".\"two words\", \"order\".\"1st\" FROM \"order\" WHERE \"order\".\"Total\" > $1",
        "SELECT \"order\".\"user\", \"order\".\"Total\", \"order\".\"we\"\"ird\", \"order\".\"back`tick\", \
         \"order\".\"two words\", \"order\".\"1st\" FROM \"order\" WHERE \"order\".\"Total\" > ?",
        "SELECT `order`.`user`, `order`.`Total`, `order`.`we\"ird`, `order`.`back``tick`, \
         `order`.`two words`, `order`.`1st` FROM `order` WHERE `order`.`Total` > ?",
        &[i(1)],
    );
}

#[test]
fn quoting_applies_to_dml_aliases_ctes_and_ddl() {
    let t = odd_table();
    let stmt = update(&t).set("Total", 2).filter_by([("we\"ird", 3)]);
    check(
        &stmt,
        "UPDATE \"order\" SET \"Total\" = $1 WHERE \"order\".\"we\"\"ird\" = $2",
        "UPDATE \"order\" SET \"Total\" = ? WHERE \"order\".\"we\"\"ird\" = ?",
        "UPDATE `order` SET `Total` = ? WHERE `order`.`we\"ird` = ?",
        &[i(2), i(3)],
    );
    let a = t.alias("Sel");
    let cte = select((a.c("user"),)).cte("Group");
    let stmt = select(&cte);
    check(
        &stmt,
        "WITH \"Group\" AS (SELECT \"Sel\".\"user\" FROM \"order\" AS \"Sel\") SELECT \"Group\".\"user\" FROM \"Group\"",
        "WITH \"Group\" AS (SELECT \"Sel\".\"user\" FROM \"order\" AS \"Sel\") SELECT \"Group\".\"user\" FROM \"Group\"",
        "WITH `Group` AS (SELECT `Sel`.`user` FROM `order` AS `Sel`) SELECT `Group`.`user` FROM `Group`",
        &[],
    );
    let ddl = CreateTable::new(
        &Table::new("select")
            .column(Column::new("from", SqlType::Integer).not_null())
            .check(CheckConstraint::new(dialects::column("from").gt(0)).named("Check")),
    );
    check(
        &ddl,
        "CREATE TABLE \"select\" (\"from\" INTEGER NOT NULL, CONSTRAINT \"Check\" CHECK (\"from\" > 0))",
        "CREATE TABLE \"select\" (\"from\" INTEGER NOT NULL, CONSTRAINT \"Check\" CHECK (\"from\" > 0))",
        "CREATE TABLE `select` (`from` INTEGER NOT NULL, CONSTRAINT `Check` CHECK (`from` > 0))",
        &[],
    );
    let index = CreateIndex::new(&t, Index::new("IX Total", ["Total"]));
    check(
        &index,
        "CREATE INDEX \"IX Total\" ON \"order\" (\"Total\")",
        "CREATE INDEX \"IX Total\" ON \"order\" (\"Total\")",
        "CREATE INDEX `IX Total` ON `order` (`Total`)",
        &[],
    );
    check(
        &DropIndex::new(&t, "IX Total"),
        "DROP INDEX \"IX Total\"",
        "DROP INDEX \"IX Total\"",
        "DROP INDEX `IX Total` ON `order`",
        &[],
    );
}

#[test]
fn ddl_literals_escape_quotes_and_backslashes_per_dialect() {
    let t = Table::new("t")
        .column(Column::new("a", SqlType::string(40)).server_default("it's \\'quoted\\'"))
        .check(CheckConstraint::new(
            dialects::column("a").ne("\\' OR 1=1 --"),
        ));
    check(
        &CreateTable::new(&t),
        "CREATE TABLE t (a VARCHAR(40) DEFAULT 'it''s \\''quoted\\''', CHECK (a <> '\\'' OR 1=1 --'))",
        "CREATE TABLE t (a VARCHAR(40) DEFAULT 'it''s \\''quoted\\''', CHECK (a <> '\\'' OR 1=1 --'))",
        "CREATE TABLE t (a VARCHAR(40) DEFAULT 'it''s \\\\''quoted\\\\''', CHECK (a <> '\\\\'' OR 1=1 --'))",
        &[],
    );
    let e = Table::new("t").column(Column::new("e", SqlType::enumeration("e", ["a\\", "b'"])));
    check_one(
        &CreateTable::new(&e),
        &MySql::default(),
        "CREATE TABLE t (e ENUM('a\\\\', 'b'''))",
        &[],
    );
    check_one(
        &CreateTable::new(&e),
        &Sqlite,
        "CREATE TABLE t (e VARCHAR(2), CONSTRAINT ck_t_e CHECK (e IN ('a\\', 'b''')))",
        &[],
    );
    check_one(
        &dialects::CreateEnum::new("e", ["a\\", "b'"]),
        &Postgres,
        "CREATE TYPE e AS ENUM ('a\\', 'b''')",
        &[],
    );
}

#[test]
fn unsupported_constructs_are_typed_errors() {
    let f = fixture();
    let w = &f.worker;
    let full = select((w.c("id"),))
        .select_from(w)
        .full_join(&f.resume, f.resume.c("worker_id").eq(w.c("id")));
    let distinct_on = select((w.c("id"),)).distinct_on([w.c("name")]);
    let lock = select((w.c("id"),)).for_update();
    let skip = select((w.c("id"),)).for_update_skip_locked();
    let ins = insert(w).values([("name", "a")]).returning((w.c("id"),));
    let upd = update(w).set("name", "a").returning((w.c("id"),));
    let del = delete(w).returning((w.c("id"),));
    let mysql = MySql::default();
    let mariadb = MySql::mariadb();
    let cases: Vec<(&dyn Statement, &dyn Dialect, &str)> = vec![
        (&full, &mysql, "FULL OUTER JOIN"),
        (&full, &mariadb, "FULL OUTER JOIN"),
        (&distinct_on, &Sqlite, "DISTINCT ON"),
        (&distinct_on, &mysql, "DISTINCT ON"),
        (&lock, &Sqlite, "FOR UPDATE"),
        (&skip, &Sqlite, "FOR UPDATE"),
        (&ins, &mysql, "INSERT ... RETURNING"),
        (&upd, &mysql, "UPDATE ... RETURNING"),
        (&upd, &mariadb, "UPDATE ... RETURNING"),
        (&del, &mysql, "DELETE ... RETURNING"),
    ];
    for (stmt, dialect, construct) in cases {
        assert_unsupported(stmt, dialect, construct);
    }
    let err = full.compile(&mysql).unwrap_err();
    assert_eq!(
        err.to_string(),
        "dialect `mysql` does not support FULL OUTER JOIN"
    );
    let err = upd.compile(&mariadb).unwrap_err();
    assert_eq!(
        err.to_string(),
        "dialect `mariadb` does not support UPDATE ... RETURNING"
    );
}

#[test]
fn features_tables_per_dialect() {
    let pg = Postgres.features();
    let lite = Sqlite.features();
    let my = MySql::default().features();
    let maria = MySql::mariadb().features();
    assert!(pg.insert_returning && pg.update_returning && pg.delete_returning);
    assert!(pg.on_conflict && pg.distinct_on && pg.ilike && pg.nulls_ordering && pg.full_join);
    assert!(lite.insert_returning && lite.update_returning && lite.on_conflict);
    assert!(!lite.for_update && !lite.native_bool && !lite.ilike);
    assert!(!my.insert_returning && !my.update_returning && !my.delete_returning);
    assert!(my.on_duplicate_key && !my.on_conflict && !my.full_join && !my.nulls_ordering);
    assert!(my.native_enum && !my.index_if_exists && my.cte_in_dml);
    assert!(maria.insert_returning && maria.delete_returning && !maria.update_returning);
    assert!(maria.index_if_exists && !maria.cte_in_dml);
    assert_eq!(pg.max_bind_params, 65_535);
    assert_eq!(lite.max_bind_params, 32_766);
    assert_eq!(my.max_bind_params, 65_535);
}

#[test]
fn invalid_expressions_surface_when_compiling() {
    let f = fixture();
    let stmt = insert(&f.worker).values([("name", f.resume.c("nope"))]);
    assert_eq!(
        stmt.compile(&Sqlite).unwrap_err(),
        CompileError::UnknownColumn {
            table: "resume".into(),
            column: "nope".into()
        }
    );
}

#[test]
fn bound_value_types_are_kept() {
    let f = fixture();
    let when = chrono::NaiveDate::from_ymd_opt(2024, 1, 2)
        .unwrap()
        .and_hms_opt(3, 4, 5)
        .unwrap();
    let id = uuid::Uuid::nil();
    let stmt = select((f.resume.c("id"),))
        .where_(f.resume.c("created_at").lt(when))
        .where_(f.resume.c("title").ne(id.to_string()))
        .where_(f.resume.c("compensation").gt(Option::<i32>::None));
    check(
        &stmt,
        "SELECT resume.id FROM resume WHERE resume.created_at < $1 AND resume.title <> $2 AND resume.compensation > $3",
        "SELECT resume.id FROM resume WHERE resume.created_at < ? AND resume.title <> ? AND resume.compensation > ?",
        "SELECT resume.id FROM resume WHERE resume.created_at < ? AND resume.title <> ? AND resume.compensation > ?",
        &[Value::DateTime(when), s(&id.to_string()), Value::Null],
    );
}
