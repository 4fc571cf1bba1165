//! `INSERT`, `UPDATE`, `DELETE`, `RETURNING` and upserts, on every dialect.

mod common;

use common::{assert_unsupported, check, check_mariadb, check_one, compile_err, fixture, i, s};
use dialects::{
    delete, excluded, func, insert, literal, select, update, CompileError, MySql, Postgres, Sqlite,
    Value,
};

#[test]
fn insert_one_row() {
    let f = fixture();
    let stmt = insert(&f.worker).values([("name", "Vlad")]);
    check(
        &stmt,
        "INSERT INTO worker (name) VALUES ($1)",
        "INSERT INTO worker (name) VALUES (?)",
        "INSERT INTO worker (name) VALUES (?)",
        &[s("Vlad")],
    );
}

#[test]
fn insert_row_columns_follow_the_first_row_in_any_order() {
    let f = fixture();
    let stmt = insert(&f.resume)
        .values([
            ("title", literal("Dev")),
            ("worker_id", literal(1)),
            ("workload", literal("fulltime")),
        ])
        .values([
            ("worker_id", literal(2)),
            ("workload", literal("parttime")),
            ("title", literal("Ops")),
        ]);
    check(
        &stmt,
        "INSERT INTO resume (title, worker_id, workload) VALUES ($1, $2, CAST($3 AS workload)), ($4, $5, CAST($6 AS workload))",
        "INSERT INTO resume (title, worker_id, workload) VALUES (?, ?, ?), (?, ?, ?)",
        "INSERT INTO resume (title, worker_id, workload) VALUES (?, ?, ?), (?, ?, ?)",
        &[s("Dev"), i(1), s("fulltime"), s("Ops"), i(2), s("parttime")],
    );
}

#[test]
fn insert_rows_with_other_columns_is_an_error() {
    let f = fixture();
    let stmt = insert(&f.resume)
        .values([("title", "Dev")])
        .values([("title", "Ops"), ("workload", "parttime")]);
    assert!(matches!(
        compile_err(&stmt, &Postgres),
        CompileError::Invalid(msg) if msg.contains("row 2")
    ));
}

#[test]
fn insert_many_rows() {
    let f = fixture();
    let stmt = insert(&f.worker).rows(
        ["id", "name"],
        [[literal(1), literal("a")], [literal(2), literal("b")]],
    );
    check(
        &stmt,
        "INSERT INTO worker (id, name) VALUES ($1, $2), ($3, $4)",
        "INSERT INTO worker (id, name) VALUES (?, ?), (?, ?)",
        "INSERT INTO worker (id, name) VALUES (?, ?), (?, ?)",
        &[i(1), s("a"), i(2), s("b")],
    );
    assert_eq!(stmt.row_count(), 2);
    let ragged = insert(&f.worker).rows(["id", "name"], [vec![literal(1)]]);
    assert!(matches!(
        compile_err(&ragged, &Sqlite),
        CompileError::Invalid(_)
    ));
    let unknown = insert(&f.worker).values([("nmae", "x")]);
    assert_eq!(
        compile_err(&unknown, &Sqlite),
        CompileError::UnknownColumn {
            table: "worker".into(),
            column: "nmae".into()
        }
    );
    let empty = insert(&f.worker).rows(["id"], Vec::<Vec<i32>>::new());
    assert!(matches!(
        compile_err(&empty, &Sqlite),
        CompileError::Invalid(_)
    ));
}

#[test]
fn insert_default_values() {
    let f = fixture();
    let stmt = insert(&f.worker);
    let sql = "INSERT INTO worker DEFAULT VALUES";
    check_one(&stmt, &Postgres, sql, &[]);
    check_one(&stmt, &Sqlite, sql, &[]);
    // MySQL and MariaDB have no DEFAULT VALUES.
    let sql = "INSERT INTO worker () VALUES ()";
    check_one(&stmt, &MySql::default(), sql, &[]);
    check_one(&stmt, &MySql::mariadb(), sql, &[]);
}

#[test]
fn insert_returning_where_supported() {
    let f = fixture();
    let stmt = insert(&f.worker)
        .values([("name", "Vlad")])
        .returning((f.worker.c("id"), f.worker.c("name").label("n")));
    check_one(
        &stmt,
        &Postgres,
        "INSERT INTO worker (name) VALUES ($1) RETURNING worker.id, worker.name AS n",
        &[s("Vlad")],
    );
    check_one(
        &stmt,
        &Sqlite,
        "INSERT INTO worker (name) VALUES (?) RETURNING worker.id, worker.name AS n",
        &[s("Vlad")],
    );
    check_one(
        &stmt,
        &MySql::mariadb(),
        "INSERT INTO worker (name) VALUES (?) RETURNING worker.id, worker.name AS n",
        &[s("Vlad")],
    );
    assert_unsupported(&stmt, &MySql::default(), "INSERT ... RETURNING");
}

#[test]
fn insert_from_select() {
    let f = fixture();
    let names = select((f.publisher.c("name"),)).where_(f.publisher.c("id").gt(10));
    let stmt = insert(&f.worker).from_select(["name"], names);
    check(
        &stmt,
        "INSERT INTO worker (name) SELECT publisher.name FROM publisher WHERE publisher.id > $1",
        "INSERT INTO worker (name) SELECT publisher.name FROM publisher WHERE publisher.id > ?",
        "INSERT INTO worker (name) SELECT publisher.name FROM publisher WHERE publisher.id > ?",
        &[i(10)],
    );
    let wrong_width = insert(&f.worker).from_select(
        ["name"],
        select((f.publisher.c("id"), f.publisher.c("name"))),
    );
    assert!(matches!(
        compile_err(&wrong_width, &Postgres),
        CompileError::Invalid(_)
    ));
}

#[test]
fn insert_from_select_with_cte_puts_with_after_the_column_list() {
    let f = fixture();
    let big = select((f.publisher.c("name"),))
        .where_(f.publisher.c("id").gt(10))
        .cte("big");
    let stmt = insert(&f.worker).from_select(["name"], select((big.c("name"),)));
    let sql = "INSERT INTO worker (name) WITH big AS (SELECT publisher.name FROM publisher \
               WHERE publisher.id > ?) SELECT big.name FROM big";
    check(&stmt, &sql.replace('?', "$1"), sql, sql, &[i(10)]);
}

#[test]
fn update_values_and_where() {
    let f = fixture();
    let stmt = update(&f.resume)
        .values([
            ("title", literal("Lead")),
            ("compensation", f.resume.c("compensation") * 2),
        ])
        .where_(f.resume.c("id").eq(5));
    check(
        &stmt,
        "UPDATE resume SET title = $1, compensation = resume.compensation * $2 WHERE resume.id = $3",
        "UPDATE resume SET title = ?, compensation = resume.compensation * ? WHERE resume.id = ?",
        "UPDATE resume SET title = ?, compensation = resume.compensation * ? WHERE resume.id = ?",
        &[s("Lead"), i(2), i(5)],
    );
}

#[test]
fn update_filter_by_as_in_the_seed() {
    let f = fixture();
    // update(Model).values(name=...).filter_by(name=...)
    let stmt = update(&f.worker)
        .set("name", "Ann")
        .filter_by([("name", "Vlad")])
        .filter(f.worker.c("id").gt(0));
    check(
        &stmt,
        "UPDATE worker SET name = $1 WHERE worker.name = $2 AND worker.id > $3",
        "UPDATE worker SET name = ? WHERE worker.name = ? AND worker.id > ?",
        "UPDATE worker SET name = ? WHERE worker.name = ? AND worker.id > ?",
        &[s("Ann"), s("Vlad"), i(0)],
    );
    let bad = update(&f.worker)
        .set("name", "x")
        .filter_by([("nmae", "y")]);
    assert!(matches!(
        compile_err(&bad, &Postgres),
        CompileError::UnknownColumn { .. }
    ));
    let bad_set = update(&f.worker).set("nmae", "x");
    assert!(matches!(
        compile_err(&bad_set, &Postgres),
        CompileError::UnknownColumn { .. }
    ));
    let nothing = update(&f.worker).filter_by([("id", 1)]);
    assert!(matches!(
        compile_err(&nothing, &Postgres),
        CompileError::Invalid(_)
    ));
}

#[test]
fn update_with_correlated_subquery() {
    let f = fixture();
    let best = select((func::max(f.resume.c("compensation")),))
        .where_(f.resume.c("worker_id").eq(f.worker.c("id")))
        .scalar_subquery();
    let stmt = update(&f.worker)
        .set("name", f.worker.c("name").concat(" *"))
        .where_(best.gt(1000));
    check(
        &stmt,
        "UPDATE worker SET name = worker.name || $1 WHERE (SELECT max(resume.compensation) FROM resume \
         WHERE resume.worker_id = worker.id) > $2",
        "UPDATE worker SET name = worker.name || ? WHERE (SELECT max(resume.compensation) FROM resume \
         WHERE resume.worker_id = worker.id) > ?",
        "UPDATE worker SET name = concat(worker.name, ?) WHERE (SELECT max(resume.compensation) FROM resume \
         WHERE resume.worker_id = worker.id) > ?",
        &[s(" *"), i(1000)],
    );
}

#[test]
fn update_set_from_correlated_subquery() {
    let f = fixture();
    let count = select((func::count_star(),))
        .select_from(&f.resume)
        .where_(f.resume.c("worker_id").eq(f.worker.c("id")))
        .scalar_subquery();
    let stmt = update(&f.worker).set("name", count);
    let sql =
        "UPDATE worker SET name = (SELECT count(*) FROM resume WHERE resume.worker_id = worker.id)";
    check(&stmt, sql, sql, sql, &[]);
}

#[test]
fn update_returning_where_supported() {
    let f = fixture();
    let stmt = update(&f.worker)
        .set("name", "Ann")
        .filter_by([("id", 1)])
        .returning((f.worker.c("id"), f.worker.c("name")));
    check_one(
        &stmt,
        &Postgres,
        "UPDATE worker SET name = $1 WHERE worker.id = $2 RETURNING worker.id, worker.name",
        &[s("Ann"), i(1)],
    );
    check_one(
        &stmt,
        &Sqlite,
        "UPDATE worker SET name = ? WHERE worker.id = ? RETURNING worker.id, worker.name",
        &[s("Ann"), i(1)],
    );
    assert_unsupported(&stmt, &MySql::default(), "UPDATE ... RETURNING");
    assert_unsupported(&stmt, &MySql::mariadb(), "UPDATE ... RETURNING");
}

#[test]
fn update_using_a_cte_in_a_subquery() {
    let f = fixture();
    let rich = select((f.resume.c("worker_id"),))
        .where_(f.resume.c("compensation").gt(100))
        .cte("rich");
    let stmt = update(&f.worker)
        .set("name", "rich")
        .where_(f.worker.c("id").in_select(select((rich.c("worker_id"),))));
    let sql = "WITH rich AS (SELECT resume.worker_id FROM resume WHERE resume.compensation > ?) \
               UPDATE worker SET name = ? WHERE worker.id IN (SELECT rich.worker_id FROM rich)";
    check_one(
        &stmt,
        &Postgres,
        &sql.replacen('?', "$1", 1).replacen('?', "$2", 1),
        &[i(100), s("rich")],
    );
    check_one(&stmt, &Sqlite, sql, &[i(100), s("rich")]);
    check_one(&stmt, &MySql::default(), sql, &[i(100), s("rich")]);
    // MariaDB has no `WITH ... UPDATE`: the subquery carries the WITH.
    check_one(
        &stmt,
        &MySql::mariadb(),
        "UPDATE worker SET name = ? WHERE worker.id IN (WITH rich AS (SELECT resume.worker_id FROM resume \
         WHERE resume.compensation > ?) SELECT rich.worker_id FROM rich)",
        &[s("rich"), i(100)],
    );
}

#[test]
fn delete_using_a_cte_in_a_subquery() {
    let f = fixture();
    let idle = select((f.resume.c("worker_id"),))
        .where_(f.resume.c("compensation").is_null())
        .cte("idle");
    let stmt = delete(&f.worker)
        .where_(f.worker.c("id").in_select(select((idle.c("worker_id"),))))
        .where_(f.worker.c("id").gt(1));
    let sql = "WITH idle AS (SELECT resume.worker_id FROM resume WHERE resume.compensation IS NULL) \
               DELETE FROM worker WHERE worker.id IN (SELECT idle.worker_id FROM idle) AND worker.id > ?";
    check_one(&stmt, &Postgres, &sql.replace('?', "$1"), &[i(1)]);
    check_one(&stmt, &Sqlite, sql, &[i(1)]);
    check_one(&stmt, &MySql::default(), sql, &[i(1)]);
    check_one(
        &stmt,
        &MySql::mariadb(),
        "DELETE FROM worker WHERE worker.id IN (WITH idle AS (SELECT resume.worker_id FROM resume \
         WHERE resume.compensation IS NULL) SELECT idle.worker_id FROM idle) AND worker.id > ?",
        &[i(1)],
    );
}

#[test]
fn delete_where_and_filter_by() {
    let f = fixture();
    let stmt = delete(&f.resume)
        .where_(f.resume.c("compensation").lt(10))
        .filter_by([("workload", "parttime")]);
    check(
        &stmt,
        "DELETE FROM resume WHERE resume.compensation < $1 AND resume.workload = CAST($2 AS workload)",
        "DELETE FROM resume WHERE resume.compensation < ? AND resume.workload = ?",
        "DELETE FROM resume WHERE resume.compensation < ? AND resume.workload = ?",
        &[i(10), s("parttime")],
    );
    let all = delete(&f.resume);
    check(
        &all,
        "DELETE FROM resume",
        "DELETE FROM resume",
        "DELETE FROM resume",
        &[],
    );
    let bad = delete(&f.resume).filter_by([("nope", 1)]);
    assert!(matches!(
        compile_err(&bad, &Sqlite),
        CompileError::UnknownColumn { .. }
    ));
}

#[test]
fn delete_with_correlated_exists() {
    let f = fixture();
    let stmt = delete(&f.worker).where_(dialects::not_exists(
        select((literal(1),)).where_(f.resume.c("worker_id").eq(f.worker.c("id"))),
    ));
    check(
        &stmt,
        "DELETE FROM worker WHERE NOT EXISTS (SELECT $1 FROM resume WHERE resume.worker_id = worker.id)",
        "DELETE FROM worker WHERE NOT EXISTS (SELECT ? FROM resume WHERE resume.worker_id = worker.id)",
        "DELETE FROM worker WHERE NOT EXISTS (SELECT ? FROM resume WHERE resume.worker_id = worker.id)",
        &[i(1)],
    );
}

#[test]
fn delete_returning_where_supported() {
    let f = fixture();
    let stmt = delete(&f.worker)
        .filter_by([("id", 3)])
        .returning((f.worker.c("name"),));
    check_one(
        &stmt,
        &Postgres,
        "DELETE FROM worker WHERE worker.id = $1 RETURNING worker.name",
        &[i(3)],
    );
    check_one(
        &stmt,
        &Sqlite,
        "DELETE FROM worker WHERE worker.id = ? RETURNING worker.name",
        &[i(3)],
    );
    check_one(
        &stmt,
        &MySql::mariadb(),
        "DELETE FROM worker WHERE worker.id = ? RETURNING worker.name",
        &[i(3)],
    );
    assert_unsupported(&stmt, &MySql::default(), "DELETE ... RETURNING");
}

#[test]
fn upsert_do_update_with_excluded_values() {
    let f = fixture();
    let stmt = insert(&f.publisher)
        .values([("id", literal(1)), ("name", literal("Acme"))])
        .on_conflict_do_update(["id"], [("name", excluded("name"))]);
    check(
        &stmt,
        "INSERT INTO publisher (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        "INSERT INTO publisher (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        "INSERT INTO publisher (id, name) VALUES (?, ?) ON DUPLICATE KEY UPDATE name = VALUES(name)",
        &[i(1), s("Acme")],
    );
}

#[test]
fn upsert_do_update_with_expressions_binds_in_order() {
    let f = fixture();
    let stmt = insert(&f.publisher)
        .values([("id", literal(1)), ("name", literal("Acme"))])
        .on_conflict_do_update(["id"], [("name", excluded("name").concat(literal("!")))])
        .returning((f.publisher.c("id"),));
    check_one(
        &stmt,
        &Postgres,
        "INSERT INTO publisher (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name || $3 \
         RETURNING publisher.id",
        &[i(1), s("Acme"), s("!")],
    );
    check_one(
        &stmt,
        &MySql::mariadb(),
        "INSERT INTO publisher (id, name) VALUES (?, ?) ON DUPLICATE KEY UPDATE name = concat(VALUES(name), ?) \
         RETURNING publisher.id",
        &[i(1), s("Acme"), s("!")],
    );
}

#[test]
fn upsert_do_nothing() {
    let f = fixture();
    let stmt = insert(&f.publisher)
        .values([("name", "Acme")])
        .on_conflict_do_nothing(["name"]);
    check(
        &stmt,
        "INSERT INTO publisher (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
        "INSERT INTO publisher (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
        "INSERT INTO publisher (name) VALUES (?) ON DUPLICATE KEY UPDATE publisher.name = publisher.name",
        &[s("Acme")],
    );
    // Without a target: PostgreSQL and SQLite take any conflict; MySQL
    // re-assigns the primary key to itself.
    let any = insert(&f.publisher)
        .values([("name", "Acme")])
        .on_conflict_do_nothing(Vec::<String>::new());
    check(
        &any,
        "INSERT INTO publisher (name) VALUES ($1) ON CONFLICT DO NOTHING",
        "INSERT INTO publisher (name) VALUES (?) ON CONFLICT DO NOTHING",
        "INSERT INTO publisher (name) VALUES (?) ON DUPLICATE KEY UPDATE publisher.id = publisher.id",
        &[s("Acme")],
    );
}

#[test]
fn upsert_from_select_gets_a_where_so_sqlite_can_parse_it() {
    let f = fixture();
    let stmt = insert(&f.publisher)
        .from_select(["name"], select((f.worker.c("name"),)))
        .on_conflict_do_nothing(["name"]);
    check(
        &stmt,
        "INSERT INTO publisher (name) SELECT worker.name FROM worker WHERE true ON CONFLICT (name) DO NOTHING",
        "INSERT INTO publisher (name) SELECT worker.name FROM worker WHERE true ON CONFLICT (name) DO NOTHING",
        // MySQL: qualified, or `name` would be ambiguous with the select's.
        "INSERT INTO publisher (name) SELECT worker.name FROM worker WHERE true \
         ON DUPLICATE KEY UPDATE publisher.name = publisher.name",
        &[],
    );
}

#[test]
fn upsert_do_update_needs_a_target_and_known_columns() {
    let f = fixture();
    let no_target = insert(&f.publisher)
        .values([("name", "Acme")])
        .on_conflict_do_update(Vec::<String>::new(), [("name", excluded("name"))]);
    assert!(matches!(
        compile_err(&no_target, &Postgres),
        CompileError::Invalid(_)
    ));
    let unknown = insert(&f.publisher)
        .values([("name", "Acme")])
        .on_conflict_do_update(["name"], [("nmae", excluded("name"))]);
    for d in [
        &Postgres as &dyn dialects::Dialect,
        &Sqlite,
        &MySql::default(),
    ] {
        assert!(matches!(
            compile_err(&unknown, d),
            CompileError::UnknownColumn { .. }
        ));
    }
}

#[test]
fn booleans_and_nulls_are_bound_values() {
    let f = fixture();
    let stmt = insert(&f.post).values([
        ("title", Value::from("t")),
        ("draft", Value::Bool(false)),
        ("publisher_id", Value::Null),
    ]);
    check_mariadb(
        &stmt,
        "INSERT INTO post (title, draft, publisher_id) VALUES ($1, $2, $3)",
        "INSERT INTO post (title, draft, publisher_id) VALUES (?, ?, ?)",
        "INSERT INTO post (title, draft, publisher_id) VALUES (?, ?, ?)",
        "INSERT INTO post (title, draft, publisher_id) VALUES (?, ?, ?)",
        &[s("t"), Value::Bool(false), Value::Null],
    );
}
