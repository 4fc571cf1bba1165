//! Named placeholders for executemany: `bindparam` in any statement, and
//! the unbound `:name` of a `text()` clause, compiled once with the place
//! of each among the parameters, filled per parameter set.

mod common;

use common::{compile_err, fixture, i, s};
use dialects::{
    bindparam, bindparam_with, insert, select, text, update, CompileError, MySql, Postgres, Sqlite,
    Statement, Value,
};

#[test]
fn bindparams_compile_to_placeholders_filled_per_set() {
    let f = fixture();
    let stmt = update(&f.worker)
        .set("name", bindparam("new"))
        .where_(f.worker.c("name").eq(bindparam("old")))
        .where_(f.worker.c("id").gt(0));
    let p = stmt.compile_with_binds(&Postgres).unwrap();
    assert_eq!(
        p.compiled.sql,
        "UPDATE worker SET name = $1 WHERE worker.name = $2 AND worker.id > $3"
    );
    assert_eq!(p.names(), ["new", "old"]);
    assert_eq!(
        p.bind(&[("old", s("Vlad")), ("new", s("Vladimir"))])
            .unwrap(),
        [s("Vladimir"), s("Vlad"), i(0)]
    );
    // A name the set leaves out without a default is an error.
    assert_eq!(
        p.bind(&[("new", s("x"))]).unwrap_err(),
        CompileError::MissingParameter { name: "old".into() }
    );
    // Compiled alone, a placeholder binds its default or NULL.
    let alone = stmt.compile(&Sqlite).unwrap();
    assert_eq!(alone.params, [Value::Null, Value::Null, i(0)]);
    let with_default =
        select((f.worker.c("id"),)).where_(f.worker.c("id").eq(bindparam_with("id", 7)));
    let p = with_default.compile_with_binds(&MySql::mariadb()).unwrap();
    assert_eq!(
        p.compiled.sql,
        "SELECT worker.id FROM worker WHERE worker.id = ?"
    );
    assert_eq!(p.bind::<&str>(&[]).unwrap(), [i(7)]);
    assert_eq!(p.bind(&[("id", i(9))]).unwrap(), [i(9)]);
}

#[test]
fn a_name_used_twice_is_filled_twice() {
    let f = fixture();
    let stmt = select((f.worker.c("id"),)).where_(
        f.worker
            .c("name")
            .eq(bindparam("n"))
            .or(f.worker.c("name").eq(bindparam("n"))),
    );
    let p = stmt.compile_with_binds(&Postgres).unwrap();
    assert_eq!(p.names(), ["n", "n"]);
    assert_eq!(p.bind(&[("n", s("a"))]).unwrap(), [s("a"), s("a")]);
}

#[test]
fn unbound_text_parameters_are_placeholders_only_for_many_executions() {
    let t = text("INSERT INTO worker (name) VALUES (:name) -- :not_this").bind("unused", 1);
    let p = t.compile_with_binds(&Postgres).unwrap();
    assert_eq!(
        p.compiled.sql,
        "INSERT INTO worker (name) VALUES ($1) -- :not_this"
    );
    assert_eq!(p.names(), ["name"]);
    assert!(matches!(
        compile_err(&t, &Postgres),
        CompileError::MissingParameter { name } if name == "name"
    ));
    // A bound one is a value, as usual.
    let bound = text("SELECT :a, :b").bind("a", 1);
    let p = bound.compile_with_binds(&Sqlite).unwrap();
    assert_eq!(p.names(), ["b"]);
    assert_eq!(p.bind(&[("b", i(2))]).unwrap(), [i(1), i(2)]);
}

#[test]
fn bindparams_in_a_multi_row_insert_and_ddl() {
    let f = fixture();
    let stmt = insert(&f.tag).rows(["id", "name"], [[bindparam("a"), bindparam("b")]]);
    let p = stmt.compile_with_binds(&Postgres).unwrap();
    assert_eq!(p.compiled.sql, "INSERT INTO tag (id, name) VALUES ($1, $2)");
    // DDL has no parameters: a placeholder there is an error.
    let t = dialects::Table::new("t").column(
        dialects::Column::new("c", dialects::SqlType::Integer).server_default(bindparam("x")),
    );
    assert!(matches!(
        compile_err(&dialects::CreateTable::new(&t), &Sqlite),
        CompileError::Invalid(m) if m.contains("bindparam")
    ));
}
