//! Enum types: PostgreSQL's named types in DDL and the casts its bound
//! text values need where they meet an enum column; MySQL's ENUM; VARCHAR
//! with a CHECK on SQLite or when asked for.

mod common;

use common::{check, check_one, s};
use dialects::compiler::ddl::{create_all, drop_all, enum_types};
use dialects::{
    bindparam, case_value, insert, select, update, Column, CompileError, MetaData, MySql, Postgres,
    SqlType, Sqlite, Table,
};

fn shift() -> Table {
    Table::new("shift")
        .column(Column::new("id", SqlType::Integer).primary_key())
        .column(Column::new(
            "kind",
            SqlType::enumeration("shift_kind", ["night", "day"]),
        ))
}

#[test]
fn bound_text_meeting_a_postgres_enum_is_cast() {
    let t = shift();
    let q = select((t.c("id"),))
        .where_(t.c("kind").eq("day"))
        .where_(t.c("kind").in_(["night", "day"]))
        .where_(t.c("kind").between("night", "day"));
    check(
        &q,
        "SELECT shift.id FROM shift WHERE shift.kind = CAST($1 AS shift_kind) \
         AND shift.kind IN (CAST($2 AS shift_kind), CAST($3 AS shift_kind)) \
         AND shift.kind BETWEEN CAST($4 AS shift_kind) AND CAST($5 AS shift_kind)",
        "SELECT shift.id FROM shift WHERE shift.kind = ? AND shift.kind IN (?, ?) AND shift.kind BETWEEN ? AND ?",
        "SELECT shift.id FROM shift WHERE shift.kind = ? AND shift.kind IN (?, ?) AND shift.kind BETWEEN ? AND ?",
        &[s("day"), s("night"), s("day"), s("night"), s("day")],
    );
    // On the left too, and through a simple CASE.
    let q = select((case_value(t.c("kind"), [("day", 1)]).else_(0),))
        .where_(dialects::literal("night").ne(t.c("kind")));
    check_one(
        &q,
        &Postgres,
        "SELECT CASE shift.kind WHEN CAST($1 AS shift_kind) THEN $2 ELSE $3 END FROM shift \
         WHERE CAST($4 AS shift_kind) <> shift.kind",
        &[s("day"), common::i(1), common::i(0), s("night")],
    );
}

#[test]
fn inserted_and_set_values_of_an_enum_column_are_cast() {
    let t = shift();
    check(
        &insert(&t).values([("id", dialects::literal(1)), ("kind", bindparam("kind"))]),
        "INSERT INTO shift (id, kind) VALUES ($1, CAST($2 AS shift_kind))",
        "INSERT INTO shift (id, kind) VALUES (?, ?)",
        "INSERT INTO shift (id, kind) VALUES (?, ?)",
        &[common::i(1), dialects::Value::Null],
    );
    check_one(
        &update(&t)
            .set("kind", "night")
            .where_(t.c("kind").eq(t.c("kind"))),
        &Postgres,
        "UPDATE shift SET kind = CAST($1 AS shift_kind) WHERE shift.kind = shift.kind",
        &[s("night")],
    );
    // A non-native enum is text: no cast.
    let plain = Table::new("shift").column(Column::new(
        "kind",
        SqlType::enumeration("shift_kind", ["night", "day"]).native_enum(false),
    ));
    check_one(
        &select((plain.c("kind"),)).where_(plain.c("kind").eq("day")),
        &Postgres,
        "SELECT shift.kind FROM shift WHERE shift.kind = $1",
        &[s("day")],
    );
}

#[test]
fn create_all_makes_each_postgres_enum_type_once() {
    let mut md = MetaData::new();
    md.add(shift());
    md.add(
        Table::new("rota")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new(
                "kind",
                SqlType::enumeration("shift_kind", ["night", "day"]),
            )),
    );
    let names = |d: &dyn dialects::Dialect| {
        enum_types(&md, d)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&Postgres), ["shift_kind"]);
    assert!(names(&Sqlite).is_empty());
    assert!(names(&MySql::mariadb()).is_empty());
    let create: Vec<String> = create_all(&md, &Postgres, true)
        .unwrap()
        .iter()
        .map(|d| d.compile(&Postgres).unwrap().sql)
        .collect();
    assert_eq!(create[0], "CREATE TYPE shift_kind AS ENUM ('night', 'day')");
    assert_eq!(
        create
            .iter()
            .filter(|s| s.starts_with("CREATE TYPE"))
            .count(),
        1
    );
    let drop: Vec<String> = drop_all(&md, &Postgres, false)
        .unwrap()
        .iter()
        .map(|d| d.compile(&Postgres).unwrap().sql)
        .collect();
    assert_eq!(drop.last().unwrap(), "DROP TYPE shift_kind");
    // The same name with other values is an error.
    md.add(Table::new("odd").column(Column::new(
        "kind",
        SqlType::enumeration("shift_kind", ["a"]),
    )));
    assert!(
        matches!(enum_types(&md, &Postgres), Err(CompileError::Invalid(m)) if m.contains("shift_kind"))
    );
}
