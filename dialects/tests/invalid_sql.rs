//! What no backend would parse is a `CompileError` naming the construct,
//! never SQL sent to the server: empty CASE / tuple / coalesce / VALUES,
//! empty or NUL identifiers, identifiers past the backend's limit,
//! non-finite literal defaults.

mod common;

use common::{compile_err, fixture};
use dialects::compiler::writer::truncate_name;
use dialects::{
    case, case_value, func, insert, select, tuple, Column, CompileError, CreateTable, MySql,
    Postgres, SqlType, Sqlite, Table, Value,
};

fn invalid(err: CompileError, needle: &str) {
    match &err {
        CompileError::Invalid(msg) => assert!(msg.contains(needle), "{msg}"),
        other => panic!("expected Invalid({needle}), got {other:?}"),
    }
}

#[test]
fn empty_constructs_are_errors() {
    let f = fixture();
    let empty_case = select((case(Vec::<(dialects::Expr, i32)>::new()),)).select_from(&f.worker);
    invalid(compile_err(&empty_case, &Postgres), "CASE with no WHEN");
    let simple = select((case_value(f.worker.c("id"), Vec::<(i32, i32)>::new()),));
    invalid(compile_err(&simple, &Sqlite), "CASE with no WHEN");
    let empty_tuple = select((f.worker.c("id"),)).where_(tuple([]).eq(tuple([])));
    invalid(compile_err(&empty_tuple, &MySql::mariadb()), "empty tuple");
    let no_args = select((func::coalesce(Vec::<i32>::new()),));
    invalid(
        compile_err(&no_args, &Postgres),
        "coalesce() needs an argument",
    );
    let no_concat = select((func::concat(Vec::<i32>::new()),));
    invalid(
        compile_err(&no_concat, &MySql::default()),
        "concat() needs an argument",
    );
    let no_values = insert(&f.worker).values(Vec::<(&str, i32)>::new());
    invalid(compile_err(&no_values, &Postgres), "no columns");
    let nothing = select(Vec::<dialects::Expr>::new());
    invalid(compile_err(&nothing, &Sqlite), "neither columns nor a FROM");
}

#[test]
fn identifiers_must_be_writable() {
    let blank = Table::new("").column(Column::new("id", SqlType::Integer));
    let nul = Table::new("t").column(Column::new("a\0b", SqlType::Integer));
    for d in [
        &Postgres as &dyn dialects::Dialect,
        &Sqlite,
        &MySql::mariadb(),
    ] {
        assert_eq!(
            compile_err(&select((blank.c("id"),)), d),
            CompileError::InvalidIdentifier {
                name: String::new(),
                reason: "it is empty"
            }
        );
        assert!(matches!(
            compile_err(&CreateTable::new(&nul), d),
            CompileError::InvalidIdentifier {
                reason: "it contains a NUL character",
                ..
            }
        ));
    }
    let f = fixture();
    assert!(matches!(
        compile_err(&select((f.worker.c("id").label(""),)), &Postgres),
        CompileError::InvalidIdentifier { .. }
    ));
}

#[test]
fn identifiers_longer_than_the_backend_allows_are_errors() {
    let long = "x".repeat(64);
    let t = Table::new(long.as_str()).column(Column::new("id", SqlType::Integer));
    let stmt = select((t.c("id"),));
    let err = compile_err(&stmt, &Postgres);
    assert_eq!(
        err,
        CompileError::IdentifierTooLong {
            dialect: "postgresql",
            name: long.clone(),
            max: 63
        }
    );
    assert_eq!(
        err.to_string(),
        format!("identifier `{long}` is longer than the 63 that dialect `postgresql` allows")
    );
    // 64 characters are fine on MySQL (its limit counts characters) and SQLite.
    assert!(stmt.compile(&MySql::default()).is_ok());
    assert!(stmt.compile(&Sqlite).is_ok());
    let wide = "é".repeat(40); // 40 characters, 80 bytes
    let t = Table::new(wide.as_str()).column(Column::new("id", SqlType::Integer));
    assert!(select((t.c("id"),)).compile(&MySql::mariadb()).is_ok());
    assert!(matches!(
        compile_err(&select((t.c("id"),)), &Postgres),
        CompileError::IdentifierTooLong { max: 63, .. }
    ));
}

#[test]
fn generated_names_are_truncated_deterministically() {
    let long = "t".repeat(70);
    let cut = truncate_name(&long, 63);
    assert_eq!(cut.len(), 63);
    assert_eq!(cut, truncate_name(&long, 63));
    assert_ne!(cut, truncate_name(&"t".repeat(71), 63));
    assert_eq!(truncate_name("short", 63), "short");
    // A multi-byte character is never split.
    let accents = "é".repeat(40);
    assert!(truncate_name(&accents, 63).len() <= 63);

    // An index named from a long table and column fits PostgreSQL.
    let table = Table::new("a_rather_long_table_name_for_a_test")
        .column(Column::new("a_rather_long_column_name_too", SqlType::Integer).index());
    let index = &table.indexes()[0];
    assert!(index.name.len() <= 63, "{}", index.name);
    assert!(index.name.starts_with("ix_a_rather_long_table_name"));
    // An enum CHECK constraint name too.
    let e = Table::new("t".repeat(40)).column(Column::new(
        "kind",
        SqlType::enumeration("k".repeat(40), ["a", "b"]),
    ));
    assert!(CreateTable::new(&e).compile(&Sqlite).is_ok());
}

#[test]
fn non_finite_literal_defaults_are_errors() {
    for (v, kind) in [
        (Value::Double(f64::NAN), "NaN float"),
        (Value::Double(f64::INFINITY), "infinite float"),
        (Value::Float(f32::NEG_INFINITY), "infinite float"),
    ] {
        let t = Table::new("m").column(Column::new("x", SqlType::Double).server_default(v));
        for d in [
            &Postgres as &dyn dialects::Dialect,
            &Sqlite,
            &MySql::default(),
        ] {
            assert_eq!(
                compile_err(&CreateTable::new(&t), d),
                CompileError::UnsupportedLiteral { kind }
            );
        }
    }
    // As a bound value a NaN is the driver's business, not the compiler's.
    assert!(select((dialects::literal(f64::NAN),))
        .compile(&Postgres)
        .is_ok());
}
