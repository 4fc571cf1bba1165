//! Behaviours where Core compiled SQL that differed from SQLAlchemy 2's
//! or that a server rejected (issue 13, "wrong today"): client-side
//! defaults in Core DML, multi-table UPDATE / DELETE, GROUP BY / ORDER BY
//! of expressions with bound values, comparisons with NULL, true
//! division, nested comparisons, MariaDB's missing JSON cast, and the
//! `text()` parameter scanner.

mod common;

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use common::{assert_unsupported, check, check_mariadb, check_one, compile_err, fixture, i, s};
use dialects::{
    case, cast, delete, func, insert, literal, select, text, update, Column, CompileError, MySql,
    Postgres, SqlType, Sqlite, Table, Value,
};

fn counter_table(next: Arc<AtomicI32>) -> Table {
    Table::new("doc")
        .column(Column::new("id", SqlType::Integer).primary_key())
        .column(Column::new("title", SqlType::Text).not_null())
        .column(Column::new("rev", SqlType::Integer).default(1))
        .column(
            Column::new("seq", SqlType::Integer)
                .default_with(move || Value::Int(next.fetch_add(1, Ordering::SeqCst))),
        )
        .column(Column::new("touched", SqlType::Integer).onupdate(|| Value::Int(7)))
}

// ------------------------------------------------------------- 1. defaults

#[test]
fn insert_fills_omitted_columns_with_their_client_defaults() {
    let f = fixture();
    // post.draft has `default(true)`.
    let stmt = insert(&f.post).values([("title", "Draft")]);
    check(
        &stmt,
        "INSERT INTO post (title, draft) VALUES ($1, $2)",
        "INSERT INTO post (title, draft) VALUES (?, ?)",
        "INSERT INTO post (title, draft) VALUES (?, ?)",
        &[s("Draft"), Value::Bool(true)],
    );
    // A value given for the column wins over the default.
    let given = insert(&f.post).values([("title", Value::from("Kept")), ("draft", false.into())]);
    check_one(
        &given,
        &Postgres,
        "INSERT INTO post (title, draft) VALUES ($1, $2)",
        &[s("Kept"), Value::Bool(false)],
    );
}

#[test]
fn a_callable_default_is_called_once_per_row() {
    let next = Arc::new(AtomicI32::new(10));
    let doc = counter_table(next.clone());
    let stmt = insert(&doc).rows(["title"], [["a"], ["b"]]);
    check_one(
        &stmt,
        &Sqlite,
        "INSERT INTO doc (title, rev, seq) VALUES (?, ?, ?), (?, ?, ?)",
        &[s("a"), i(1), i(10), s("b"), i(1), i(11)],
    );
    assert_eq!(next.load(Ordering::SeqCst), 12);
}

#[test]
fn default_values_and_insert_from_select_get_defaults_too() {
    let f = fixture();
    let stmt = insert(&f.post);
    check(
        &stmt,
        "INSERT INTO post (draft) VALUES ($1)",
        "INSERT INTO post (draft) VALUES (?)",
        "INSERT INTO post (draft) VALUES (?)",
        &[Value::Bool(true)],
    );
    let from = insert(&f.post).from_select(["title"], select((f.worker.c("name"),)));
    check(
        &from,
        "INSERT INTO post (title, draft) SELECT worker.name, $1 FROM worker",
        "INSERT INTO post (title, draft) SELECT worker.name, ? FROM worker",
        "INSERT INTO post (title, draft) SELECT worker.name, ? FROM worker",
        &[Value::Bool(true)],
    );
    // A table without client defaults keeps DEFAULT VALUES.
    check(
        &insert(&f.tag),
        "INSERT INTO tag DEFAULT VALUES",
        "INSERT INTO tag DEFAULT VALUES",
        "INSERT INTO tag () VALUES ()",
        &[],
    );
}

#[test]
fn update_sets_onupdate_columns_it_does_not_set() {
    let doc = counter_table(Arc::new(AtomicI32::new(0)));
    let stmt = update(&doc).set("title", "x").where_(doc.c("id").eq(1));
    check(
        &stmt,
        "UPDATE doc SET title = $1, touched = $2 WHERE doc.id = $3",
        "UPDATE doc SET title = ?, touched = ? WHERE doc.id = ?",
        "UPDATE doc SET title = ?, touched = ? WHERE doc.id = ?",
        &[s("x"), i(7), i(1)],
    );
    // Set explicitly, the statement's value is kept.
    let explicit = update(&doc).set("touched", 0).where_(doc.c("id").eq(1));
    check_one(
        &explicit,
        &Postgres,
        "UPDATE doc SET touched = $1 WHERE doc.id = $2",
        &[i(0), i(1)],
    );
}

// ------------------------------------------------------- 2. multi-table DML

#[test]
fn update_naming_another_table_gets_its_from_clause() {
    let f = fixture();
    let stmt = update(&f.resume)
        .set("title", f.worker.c("name"))
        .where_(f.resume.c("worker_id").eq(f.worker.c("id")))
        .where_(f.worker.c("name").eq("Vlad"));
    check(
        &stmt,
        "UPDATE resume SET title = worker.name FROM worker \
         WHERE resume.worker_id = worker.id AND worker.name = $1",
        "UPDATE resume SET title = worker.name FROM worker \
         WHERE resume.worker_id = worker.id AND worker.name = ?",
        "UPDATE resume, worker SET resume.title = worker.name \
         WHERE resume.worker_id = worker.id AND worker.name = ?",
        &[s("Vlad")],
    );
}

#[test]
fn multi_table_update_through_an_alias_and_with_returning() {
    let f = fixture();
    let w = f.worker.alias("w");
    let stmt = update(&f.resume)
        .set("compensation", f.resume.c("compensation") * 2)
        .where_(f.resume.c("worker_id").eq(w.c("id")))
        .where_(w.c("name").eq("Ann"))
        .returning((f.resume.c("id"),));
    check_one(
        &stmt,
        &Postgres,
        "UPDATE resume SET compensation = resume.compensation * $1 FROM worker AS w \
         WHERE resume.worker_id = w.id AND w.name = $2 RETURNING resume.id",
        &[i(2), s("Ann")],
    );
    assert_unsupported(&stmt, &MySql::mariadb(), "multi-table UPDATE ... RETURNING");
}

#[test]
fn delete_naming_another_table_uses_using() {
    let f = fixture();
    let stmt = delete(&f.resume)
        .where_(f.resume.c("worker_id").eq(f.worker.c("id")))
        .where_(f.worker.c("name").eq("Vlad"));
    check_one(
        &stmt,
        &Postgres,
        "DELETE FROM resume USING worker WHERE resume.worker_id = worker.id AND worker.name = $1",
        &[s("Vlad")],
    );
    for mysql in [MySql::mysql8(), MySql::mariadb()] {
        check_one(
            &stmt,
            &mysql,
            "DELETE FROM resume USING resume, worker \
             WHERE resume.worker_id = worker.id AND worker.name = ?",
            &[s("Vlad")],
        );
    }
    assert_unsupported(&stmt, &Sqlite, "multi-table DELETE");
}

#[test]
fn subqueries_do_not_make_a_statement_multi_table() {
    let f = fixture();
    let vlad = select((f.worker.c("id"),)).where_(f.worker.c("name").eq("Vlad"));
    let stmt = delete(&f.resume).where_(f.resume.c("worker_id").in_select(vlad));
    check(
        &stmt,
        "DELETE FROM resume WHERE resume.worker_id IN (SELECT worker.id FROM worker WHERE worker.name = $1)",
        "DELETE FROM resume WHERE resume.worker_id IN (SELECT worker.id FROM worker WHERE worker.name = ?)",
        "DELETE FROM resume WHERE resume.worker_id IN (SELECT worker.id FROM worker WHERE worker.name = ?)",
        &[s("Vlad")],
    );
}

// ------------------------------------------- 3. GROUP BY / ORDER BY with values

fn pay_band(f: &dialects::fixtures::Seed) -> dialects::Expr {
    case([(f.resume.c("compensation").gt(2000), "high")]).else_("low")
}

#[test]
fn group_by_an_expression_with_values_uses_its_column_position() {
    let f = fixture();
    let band = pay_band(&f);
    let stmt = select((band.clone().label("band"), func::count_star().label("n")))
        .group_by(band.clone())
        .order_by([band.clone()]);
    check(
        &stmt,
        "SELECT CASE WHEN resume.compensation > $1 THEN $2 ELSE $3 END AS band, count(*) AS n \
         FROM resume GROUP BY 1 ORDER BY band",
        "SELECT CASE WHEN resume.compensation > ? THEN ? ELSE ? END AS band, count(*) AS n \
         FROM resume GROUP BY 1 ORDER BY band",
        "SELECT CASE WHEN resume.compensation > ? THEN ? ELSE ? END AS band, count(*) AS n \
         FROM resume GROUP BY 1 ORDER BY band",
        &[i(2000), s("high"), s("low")],
    );
    // By the label itself, and unlabelled (sorted by position).
    let by_label = select((band.clone().label("band"), func::count_star()))
        .group_by(band.clone().label("band"));
    check_one(
        &by_label,
        &Postgres,
        "SELECT CASE WHEN resume.compensation > $1 THEN $2 ELSE $3 END AS band, count(*) \
         FROM resume GROUP BY 1",
        &[i(2000), s("high"), s("low")],
    );
    let unlabelled = select((func::count_star(), band.clone()))
        .group_by(band.clone())
        .order_by([band.clone().desc()]);
    check_one(
        &unlabelled,
        &Postgres,
        "SELECT count(*), CASE WHEN resume.compensation > $1 THEN $2 ELSE $3 END \
         FROM resume GROUP BY 2 ORDER BY 2 DESC",
        &[i(2000), s("high"), s("low")],
    );
}

#[test]
fn group_by_without_values_or_not_selected_is_written_out() {
    let f = fixture();
    let stmt = select((f.resume.c("workload"), func::count_star()))
        .group_by(f.resume.c("workload"))
        .order_by([f.resume.c("workload")]);
    check_one(
        &stmt,
        &Postgres,
        "SELECT resume.workload, count(*) FROM resume GROUP BY resume.workload ORDER BY resume.workload",
        &[],
    );
    let not_selected = select((func::count_star(),))
        .select_from(&f.resume)
        .group_by(pay_band(&f));
    check_one(
        &not_selected,
        &Postgres,
        "SELECT count(*) FROM resume GROUP BY CASE WHEN resume.compensation > $1 THEN $2 ELSE $3 END",
        &[i(2000), s("high"), s("low")],
    );
}

// --------------------------------------------------------- 4. NULL compares

#[test]
fn comparing_with_null_is_is_null() {
    let f = fixture();
    let pay = || f.resume.c("compensation");
    let stmt = select((f.resume.c("id"),))
        .where_(pay().eq(Value::Null))
        .where_(pay().ne(None::<i32>))
        .where_(literal(Value::Null).eq(pay()));
    check(
        &stmt,
        "SELECT resume.id FROM resume WHERE resume.compensation IS NULL \
         AND resume.compensation IS NOT NULL AND resume.compensation IS NULL",
        "SELECT resume.id FROM resume WHERE resume.compensation IS NULL \
         AND resume.compensation IS NOT NULL AND resume.compensation IS NULL",
        "SELECT resume.id FROM resume WHERE resume.compensation IS NULL \
         AND resume.compensation IS NOT NULL AND resume.compensation IS NULL",
        &[],
    );
    // `Some` compares as usual.
    check_one(
        &select((f.resume.c("id"),)).where_(pay().eq(Some(5))),
        &Postgres,
        "SELECT resume.id FROM resume WHERE resume.compensation = $1",
        &[i(5)],
    );
}

// -------------------------------------------------------------- 5. division

#[test]
fn slash_on_integers_is_true_division() {
    let f = fixture();
    let pay = || f.resume.c("compensation");
    let stmt = select(((pay() / f.resume.c("id")).label("q"),));
    check(
        &stmt,
        "SELECT resume.compensation / CAST(resume.id AS NUMERIC) AS q FROM resume",
        "SELECT resume.compensation / CAST(resume.id AS REAL) AS q FROM resume",
        "SELECT resume.compensation / resume.id AS q FROM resume",
        &[],
    );
    // Not two integers: left as written.
    let float = select(((pay() / 2.5_f64).label("q"),));
    check(
        &float,
        "SELECT resume.compensation / $1 AS q FROM resume",
        "SELECT resume.compensation / ? AS q FROM resume",
        "SELECT resume.compensation / ? AS q FROM resume",
        &[Value::Double(2.5)],
    );
}

#[test]
fn floordiv_is_integer_division_on_integers_and_floor_otherwise() {
    let f = fixture();
    let pay = || f.resume.c("compensation");
    let stmt = select((pay().floordiv(7).label("q"),));
    check(
        &stmt,
        "SELECT resume.compensation / $1 AS q FROM resume",
        "SELECT resume.compensation / ? AS q FROM resume",
        "SELECT resume.compensation DIV ? AS q FROM resume",
        &[i(7)],
    );
    let float = select((pay().floordiv(2.5_f64).label("q"),));
    check(
        &float,
        "SELECT FLOOR(resume.compensation / $1) AS q FROM resume",
        "SELECT CAST(resume.compensation / ? AS INTEGER) AS q FROM resume",
        "SELECT FLOOR(resume.compensation / ?) AS q FROM resume",
        &[Value::Double(2.5)],
    );
}

// ------------------------------------------------- 6. nested comparisons

#[test]
fn nested_comparisons_keep_their_parentheses() {
    let f = fixture();
    let id = || f.worker.c("id");
    let stmt = select((id().eq(1).eq(false).label("x"),)).where_(id().gt(1).ne(id().lt(3)));
    check(
        &stmt,
        "SELECT (worker.id = $1) = $2 AS x FROM worker WHERE (worker.id > $3) <> (worker.id < $4)",
        "SELECT (worker.id = ?) = ? AS x FROM worker WHERE (worker.id > ?) <> (worker.id < ?)",
        "SELECT (worker.id = ?) = ? AS x FROM worker WHERE (worker.id > ?) <> (worker.id < ?)",
        &[i(1), Value::Bool(false), i(1), i(3)],
    );
}

// -------------------------------------------------------- 7. CAST AS JSON

#[test]
fn json_casts_are_left_out_on_mariadb() {
    let stmt = select((cast("{\"a\": 1}", SqlType::Json).label("j"),));
    check_mariadb(
        &stmt,
        "SELECT CAST($1 AS JSONB) AS j",
        "SELECT CAST(? AS TEXT) AS j",
        "SELECT CAST(? AS JSON) AS j",
        "SELECT (?) AS j",
        &[s("{\"a\": 1}")],
    );
}

// ------------------------------------------------------------ 8. text()

#[test]
fn text_parameters_inside_comments_and_literals_are_not_parameters() {
    let t = text(
        "SELECT id -- :not_a_param\n FROM worker /* :nor_this */ WHERE name = :name AND note = ':nor_that'",
    )
    .bind("name", "Vlad");
    check(
        &t,
        "SELECT id -- :not_a_param\n FROM worker /* :nor_this */ WHERE name = $1 AND note = ':nor_that'",
        "SELECT id -- :not_a_param\n FROM worker /* :nor_this */ WHERE name = ? AND note = ':nor_that'",
        "SELECT id -- :not_a_param\n FROM worker /* :nor_this */ WHERE name = ? AND note = ':nor_that'",
        &[s("Vlad")],
    );
    let mysql = text(
        r"SELECT 'it\'s :no' # :nor_this
 , :yes",
    )
    .bind("yes", 1);
    check_one(
        &mysql,
        &MySql::mariadb(),
        "SELECT 'it\\'s :no' # :nor_this\n , ?",
        &[i(1)],
    );
    let pg = text("SELECT $$ :no $$, E'\\' :no', :yes::int").bind("yes", 1);
    check_one(
        &pg,
        &Postgres,
        "SELECT $$ :no $$, E'\\' :no', $1::int",
        &[i(1)],
    );
    // A parameter that is really missing still is an error.
    assert!(matches!(
        compile_err(&text("SELECT :missing"), &Sqlite),
        CompileError::MissingParameter { name } if name == "missing"
    ));
}
