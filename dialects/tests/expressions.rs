//! Expressions: columns, bound literals, operators, functions, casts,
//! labels, subqueries, text and window functions, on every dialect.

mod common;

use common::{check, check_one, compile_err, fixture, i, s};
use dialects::{
    and_, case, cast, column, distinct, exists, func, literal, literal_column, not_, not_exists,
    or_, order_by, partition_by, select, star, text, tuple, CompileError, Expr, FrameBound,
    Postgres, SqlType, Sqlite, Value, Window,
};

#[test]
fn columns_are_qualified_by_their_table() {
    let f = fixture();
    let stmt = select((f.worker.c("id"), f.worker.c("name")));
    check(
        &stmt,
        "SELECT worker.id, worker.name FROM worker",
        "SELECT worker.id, worker.name FROM worker",
        "SELECT worker.id, worker.name FROM worker",
        &[],
    );
}

#[test]
fn columns_through_an_alias_are_qualified_by_the_alias() {
    let f = fixture();
    let r = f.resume.alias("r");
    let stmt = select((r.c("title"),)).where_(r.c("compensation").gt(100));
    check(
        &stmt,
        "SELECT r.title FROM resume AS r WHERE r.compensation > $1",
        "SELECT r.title FROM resume AS r WHERE r.compensation > ?",
        "SELECT r.title FROM resume AS r WHERE r.compensation > ?",
        &[i(100)],
    );
}

#[test]
fn unknown_columns_fail_naming_table_and_column() {
    let f = fixture();
    let r = f.resume.alias("r");
    for stmt in [
        select((f.worker.c("nmae"),)),
        select((r.c("salary"),)),
        select((f.worker.c("id"),)).filter_by([("nmae", "x")]),
    ] {
        let err = compile_err(&stmt, &dialects::Postgres);
        assert!(matches!(err, CompileError::UnknownColumn { .. }), "{err:?}");
    }
    assert_eq!(
        compile_err(&select((r.c("salary"),)), &dialects::Sqlite).to_string(),
        "`r` has no column named `salary`"
    );
}

#[test]
fn literals_are_bound_never_inlined() {
    let stmt = select((literal(1), literal("two"), literal(3.5_f64), literal(true)));
    check(
        &stmt,
        "SELECT $1, $2, $3, $4",
        "SELECT ?, ?, ?, ?",
        "SELECT ?, ?, ?, ?",
        &[i(1), s("two"), Value::Double(3.5), Value::Bool(true)],
    );
}

#[test]
fn comparison_operators() {
    let f = fixture();
    let id = || f.worker.c("id");
    let stmt = select((id(),)).where_(and_([
        id().eq(1),
        id().ne(2),
        id().lt(3),
        id().le(4),
        id().gt(5),
        id().ge(6),
        id().eq(f.worker.c("id")),
    ]));
    check(
        &stmt,
        "SELECT worker.id FROM worker WHERE worker.id = $1 AND worker.id <> $2 AND worker.id < $3 \
         AND worker.id <= $4 AND worker.id > $5 AND worker.id >= $6 AND worker.id = worker.id",
        "SELECT worker.id FROM worker WHERE worker.id = ? AND worker.id <> ? AND worker.id < ? \
         AND worker.id <= ? AND worker.id > ? AND worker.id >= ? AND worker.id = worker.id",
        "SELECT worker.id FROM worker WHERE worker.id = ? AND worker.id <> ? AND worker.id < ? \
         AND worker.id <= ? AND worker.id > ? AND worker.id >= ? AND worker.id = worker.id",
        &[i(1), i(2), i(3), i(4), i(5), i(6)],
    );
}

#[test]
fn arithmetic_operators_keep_their_grouping() {
    let f = fixture();
    let c = || f.resume.c("compensation");
    let stmt = select((
        ((c() + 1) * 2).label("a"),
        (c() - (f.resume.c("id") - 1)).label("b"),
        (c() / 3 % 4).label("c"),
        (-(c() + 1)).label("d"),
        (c() * 2 + 1).label("e"),
    ));
    check(
        &stmt,
        "SELECT (resume.compensation + $1) * $2 AS a, resume.compensation - (resume.id - $3) AS b, \
         resume.compensation / CAST($4 AS NUMERIC) % $5 AS c, -(resume.compensation + $6) AS d, \
         resume.compensation * $7 + $8 AS e FROM resume",
        "SELECT (resume.compensation + ?) * ? AS a, resume.compensation - (resume.id - ?) AS b, \
         resume.compensation / CAST(? AS REAL) % ? AS c, -(resume.compensation + ?) AS d, \
         resume.compensation * ? + ? AS e FROM resume",
        "SELECT (resume.compensation + ?) * ? AS a, resume.compensation - (resume.id - ?) AS b, \
         resume.compensation / ? % ? AS c, -(resume.compensation + ?) AS d, \
         resume.compensation * ? + ? AS e FROM resume",
        &[i(1), i(2), i(1), i(3), i(4), i(1), i(2), i(1)],
    );
}

#[test]
fn and_or_not_get_parentheses_where_needed() {
    let f = fixture();
    let id = || f.worker.c("id");
    let name = || f.worker.c("name");
    let stmt = select((id(),))
        .where_(and_([or_([id().eq(1), id().eq(2)]), name().ne("x")]))
        .where_(or_([id().eq(3), and_([name().eq("y"), id().gt(4)])]))
        .where_(not_(id().eq(5).or(id().eq(6))))
        .where_(!name().is_null());
    check(
        &stmt,
        "SELECT worker.id FROM worker WHERE (worker.id = $1 OR worker.id = $2) AND worker.name <> $3 \
         AND (worker.id = $4 OR worker.name = $5 AND worker.id > $6) \
         AND NOT (worker.id = $7 OR worker.id = $8) AND NOT (worker.name IS NULL)",
        "SELECT worker.id FROM worker WHERE (worker.id = ? OR worker.id = ?) AND worker.name <> ? \
         AND (worker.id = ? OR worker.name = ? AND worker.id > ?) \
         AND NOT (worker.id = ? OR worker.id = ?) AND NOT (worker.name IS NULL)",
        "SELECT worker.id FROM worker WHERE (worker.id = ? OR worker.id = ?) AND worker.name <> ? \
         AND (worker.id = ? OR worker.name = ? AND worker.id > ?) \
         AND NOT (worker.id = ? OR worker.id = ?) AND NOT (worker.name IS NULL)",
        &[i(1), i(2), s("x"), i(3), s("y"), i(4), i(5), i(6)],
    );
}

#[test]
fn empty_and_or_are_bound_constants() {
    let f = fixture();
    let stmt = select((f.worker.c("id"),))
        .where_(and_(Vec::<Expr>::new()))
        .where_(not_(or_(Vec::<Expr>::new())));
    check(
        &stmt,
        "SELECT worker.id FROM worker WHERE $1 AND NOT $2",
        "SELECT worker.id FROM worker WHERE ? AND NOT ?",
        "SELECT worker.id FROM worker WHERE ? AND NOT ?",
        &[Value::Bool(true), Value::Bool(false)],
    );
}

#[test]
fn in_and_not_in() {
    let f = fixture();
    let id = || f.worker.c("id");
    let stmt = select((id(),))
        .where_(id().in_([1, 2, 3]))
        .where_(f.worker.c("name").not_in(["a", "b"]));
    check(
        &stmt,
        "SELECT worker.id FROM worker WHERE worker.id IN ($1, $2, $3) AND worker.name NOT IN ($4, $5)",
        "SELECT worker.id FROM worker WHERE worker.id IN (?, ?, ?) AND worker.name NOT IN (?, ?)",
        "SELECT worker.id FROM worker WHERE worker.id IN (?, ?, ?) AND worker.name NOT IN (?, ?)",
        &[i(1), i(2), i(3), s("a"), s("b")],
    );
}

#[test]
fn empty_in_lists_are_constant_conditions() {
    let f = fixture();
    let id = || f.worker.c("id");
    let stmt = select((id(),))
        .where_(id().in_(Vec::<i32>::new()))
        .where_(id().not_in(Vec::<i32>::new()));
    check(
        &stmt,
        "SELECT worker.id FROM worker WHERE (1 = 0) AND (1 = 1)",
        "SELECT worker.id FROM worker WHERE (1 = 0) AND (1 = 1)",
        "SELECT worker.id FROM worker WHERE (1 = 0) AND (1 = 1)",
        &[],
    );
}

#[test]
fn in_tuple_and_in_select() {
    let f = fixture();
    let pairs = tuple([f.resume.c("worker_id"), f.resume.c("id")]).in_([
        tuple([literal(1), literal(2)]),
        tuple([literal(3), literal(4)]),
    ]);
    let stmt = select((f.resume.c("id"),)).where_(pairs).where_(
        f.resume
            .c("worker_id")
            .not_in_select(select((f.worker.c("id"),)).where_(f.worker.c("name").eq("x"))),
    );
    check(
        &stmt,
        "SELECT resume.id FROM resume WHERE (resume.worker_id, resume.id) IN (($1, $2), ($3, $4)) \
         AND resume.worker_id NOT IN (SELECT worker.id FROM worker WHERE worker.name = $5)",
        "SELECT resume.id FROM resume WHERE (resume.worker_id, resume.id) IN ((?, ?), (?, ?)) \
         AND resume.worker_id NOT IN (SELECT worker.id FROM worker WHERE worker.name = ?)",
        "SELECT resume.id FROM resume WHERE (resume.worker_id, resume.id) IN ((?, ?), (?, ?)) \
         AND resume.worker_id NOT IN (SELECT worker.id FROM worker WHERE worker.name = ?)",
        &[i(1), i(2), i(3), i(4), s("x")],
    );
}

#[test]
fn between_and_not_between() {
    let f = fixture();
    let c = || f.resume.c("compensation");
    let stmt = select((f.resume.c("id"),))
        .where_(c().between(100, 200))
        .where_(c().not_between(c() - 1, 500));
    check(
        &stmt,
        "SELECT resume.id FROM resume WHERE resume.compensation BETWEEN $1 AND $2 \
         AND resume.compensation NOT BETWEEN resume.compensation - $3 AND $4",
        "SELECT resume.id FROM resume WHERE resume.compensation BETWEEN ? AND ? \
         AND resume.compensation NOT BETWEEN resume.compensation - ? AND ?",
        "SELECT resume.id FROM resume WHERE resume.compensation BETWEEN ? AND ? \
         AND resume.compensation NOT BETWEEN resume.compensation - ? AND ?",
        &[i(100), i(200), i(1), i(500)],
    );
}

#[test]
fn like_and_ilike_emulated_where_missing() {
    let f = fixture();
    let name = || f.worker.c("name");
    let stmt = select((f.worker.c("id"),))
        .where_(name().like("V%"))
        .where_(name().not_like("%x"))
        .where_(name().ilike("%lad"))
        .where_(name().not_ilike("a%"));
    check_each_ilike(&stmt);

    fn check_each_ilike(stmt: &dialects::Select) {
        check(
            stmt,
            "SELECT worker.id FROM worker WHERE worker.name LIKE $1 AND worker.name NOT LIKE $2 \
             AND worker.name ILIKE $3 AND worker.name NOT ILIKE $4",
            // SQLite: a backslash escapes in LIKE patterns as elsewhere.
            "SELECT worker.id FROM worker WHERE worker.name LIKE ? ESCAPE '\\' \
             AND worker.name NOT LIKE ? ESCAPE '\\' \
             AND lower(worker.name) LIKE lower(?) ESCAPE '\\' \
             AND lower(worker.name) NOT LIKE lower(?) ESCAPE '\\'",
            "SELECT worker.id FROM worker WHERE worker.name LIKE ? AND worker.name NOT LIKE ? \
             AND lower(worker.name) LIKE lower(?) AND lower(worker.name) NOT LIKE lower(?)",
            &[s("V%"), s("%x"), s("%lad"), s("a%")],
        );
    }
}

#[test]
fn is_null_and_is_not_null() {
    let f = fixture();
    let stmt = select((f.resume.c("id"),))
        .where_(f.resume.c("compensation").is_null())
        .where_(f.resume.c("title").is_not_null())
        .where_((f.resume.c("compensation") + 1).is_null());
    check(
        &stmt,
        "SELECT resume.id FROM resume WHERE resume.compensation IS NULL \
         AND resume.title IS NOT NULL AND resume.compensation + $1 IS NULL",
        "SELECT resume.id FROM resume WHERE resume.compensation IS NULL \
         AND resume.title IS NOT NULL AND resume.compensation + ? IS NULL",
        "SELECT resume.id FROM resume WHERE resume.compensation IS NULL \
         AND resume.title IS NOT NULL AND resume.compensation + ? IS NULL",
        &[i(1)],
    );
}

#[test]
fn string_concatenation() {
    let f = fixture();
    let name = || f.worker.c("name");
    let stmt = select((
        name().concat(" / ").concat(f.worker.c("id")).label("a"),
        name().concat(f.worker.c("id") + 1).label("b"),
    ));
    check(
        &stmt,
        "SELECT worker.name || $1 || worker.id AS a, worker.name || (worker.id + $2) AS b FROM worker",
        "SELECT worker.name || ? || worker.id AS a, worker.name || (worker.id + ?) AS b FROM worker",
        "SELECT concat(concat(worker.name, ?), worker.id) AS a, concat(worker.name, worker.id + ?) AS b \
         FROM worker",
        &[s(" / "), i(1)],
    );
}

#[test]
fn case_when_else() {
    let f = fixture();
    let c = || f.resume.c("compensation");
    let level = case([(c().ge(1000), "high"), (c().ge(500), "mid")])
        .else_("low")
        .label("level");
    let no_else = case([(c().is_null(), literal(0))]).label("z");
    let stmt = select((level, no_else));
    check(
        &stmt,
        "SELECT CASE WHEN resume.compensation >= $1 THEN $2 WHEN resume.compensation >= $3 THEN $4 \
         ELSE $5 END AS level, CASE WHEN resume.compensation IS NULL THEN $6 END AS z FROM resume",
        "SELECT CASE WHEN resume.compensation >= ? THEN ? WHEN resume.compensation >= ? THEN ? \
         ELSE ? END AS level, CASE WHEN resume.compensation IS NULL THEN ? END AS z FROM resume",
        "SELECT CASE WHEN resume.compensation >= ? THEN ? WHEN resume.compensation >= ? THEN ? \
         ELSE ? END AS level, CASE WHEN resume.compensation IS NULL THEN ? END AS z FROM resume",
        &[i(1000), s("high"), i(500), s("mid"), s("low"), i(0)],
    );
}

#[test]
fn coalesce_and_generic_functions() {
    let f = fixture();
    let stmt = select((
        func::coalesce([f.resume.c("compensation"), literal(0)]).label("c"),
        func::call("round", [f.resume.c("compensation"), literal(2)]).label("r"),
    ));
    check(
        &stmt,
        "SELECT coalesce(resume.compensation, $1) AS c, round(resume.compensation, $2) AS r FROM resume",
        "SELECT coalesce(resume.compensation, ?) AS c, round(resume.compensation, ?) AS r FROM resume",
        "SELECT coalesce(resume.compensation, ?) AS c, round(resume.compensation, ?) AS r FROM resume",
        &[i(0), i(2)],
    );
}

#[test]
fn cast_per_dialect() {
    let f = fixture();
    let c = || f.resume.c("compensation");
    let stmt = select((
        cast(c(), SqlType::Integer),
        cast(c(), SqlType::string(10)),
        c().cast(SqlType::Numeric(10, 2)),
        cast(f.resume.c("created_at"), SqlType::Date),
        cast(c(), SqlType::Text),
    ));
    check(
        &stmt,
        "SELECT CAST(resume.compensation AS INTEGER), CAST(resume.compensation AS VARCHAR(10)), \
         CAST(resume.compensation AS NUMERIC(10, 2)), CAST(resume.created_at AS DATE), \
         CAST(resume.compensation AS TEXT) FROM resume",
        // SQLite: a date or time target would mean NUMERIC affinity.
        "SELECT CAST(resume.compensation AS INTEGER), CAST(resume.compensation AS VARCHAR(10)), \
         CAST(resume.compensation AS NUMERIC(10, 2)), date(resume.created_at), \
         CAST(resume.compensation AS TEXT) FROM resume",
        "SELECT CAST(resume.compensation AS SIGNED INTEGER), CAST(resume.compensation AS CHAR), \
         CAST(resume.compensation AS DECIMAL(10, 2)), CAST(resume.created_at AS DATE), \
         CAST(resume.compensation AS CHAR) FROM resume",
        &[],
    );
}

#[test]
fn sqlite_casts_to_dates_and_times_keep_text() {
    // `CAST('2024-02-29' AS DATE)` is 2024 on SQLite (NUMERIC affinity).
    let f = fixture();
    let at = || f.resume.c("created_at");
    let stmt = select((
        cast(at(), SqlType::Date),
        cast(at(), SqlType::Time),
        cast(at(), SqlType::DateTime { timezone: false }),
        cast(at(), SqlType::DateTime { timezone: true }),
    ));
    check_one(
        &stmt,
        &Sqlite,
        "SELECT date(resume.created_at), CAST(resume.created_at AS TEXT), \
         CAST(resume.created_at AS TEXT), CAST(resume.created_at AS TEXT) FROM resume",
        &[],
    );
    check_one(
        &stmt,
        &Postgres,
        "SELECT CAST(resume.created_at AS DATE), CAST(resume.created_at AS TIME), \
         CAST(resume.created_at AS TIMESTAMP WITHOUT TIME ZONE), \
         CAST(resume.created_at AS TIMESTAMP WITH TIME ZONE) FROM resume",
        &[],
    );
}

#[test]
fn labels_are_quoted_when_needed() {
    let f = fixture();
    let stmt = select((
        f.worker.c("name").label("worker_name"),
        f.worker.c("id").label("workerId"),
        f.worker.c("id").label("order"),
    ));
    check(
        &stmt,
        "SELECT worker.name AS worker_name, worker.id AS \"workerId\", worker.id AS \"order\" FROM worker",
        "SELECT worker.name AS worker_name, worker.id AS \"workerId\", worker.id AS \"order\" FROM worker",
        "SELECT worker.name AS worker_name, worker.id AS `workerId`, worker.id AS `order` FROM worker",
        &[],
    );
}

#[test]
fn distinct_select_and_distinct_argument() {
    let f = fixture();
    let stmt = select((f.resume.c("workload"),)).distinct();
    check(
        &stmt,
        "SELECT DISTINCT resume.workload FROM resume",
        "SELECT DISTINCT resume.workload FROM resume",
        "SELECT DISTINCT resume.workload FROM resume",
        &[],
    );
    let stmt = select((func::count(distinct(f.resume.c("worker_id"))).label("n"),));
    check(
        &stmt,
        "SELECT count(DISTINCT resume.worker_id) AS n FROM resume",
        "SELECT count(DISTINCT resume.worker_id) AS n FROM resume",
        "SELECT count(DISTINCT resume.worker_id) AS n FROM resume",
        &[],
    );
}

#[test]
fn exists_and_not_exists_correlate_to_the_enclosing_select() {
    let f = fixture();
    let has_resume = select((literal(1),)).where_(f.resume.c("worker_id").eq(f.worker.c("id")));
    let stmt = select((f.worker.c("name"),))
        .where_(exists(
            has_resume.clone().where_(f.resume.c("compensation").gt(10)),
        ))
        .where_(not_exists(has_resume.clone()))
        .where_(!exists(has_resume));
    check(
        &stmt,
        "SELECT worker.name FROM worker WHERE EXISTS (SELECT $1 FROM resume WHERE resume.worker_id = worker.id \
         AND resume.compensation > $2) AND NOT EXISTS (SELECT $3 FROM resume WHERE resume.worker_id = worker.id) \
         AND NOT EXISTS (SELECT $4 FROM resume WHERE resume.worker_id = worker.id)",
        "SELECT worker.name FROM worker WHERE EXISTS (SELECT ? FROM resume WHERE resume.worker_id = worker.id \
         AND resume.compensation > ?) AND NOT EXISTS (SELECT ? FROM resume WHERE resume.worker_id = worker.id) \
         AND NOT EXISTS (SELECT ? FROM resume WHERE resume.worker_id = worker.id)",
        "SELECT worker.name FROM worker WHERE EXISTS (SELECT ? FROM resume WHERE resume.worker_id = worker.id \
         AND resume.compensation > ?) AND NOT EXISTS (SELECT ? FROM resume WHERE resume.worker_id = worker.id) \
         AND NOT EXISTS (SELECT ? FROM resume WHERE resume.worker_id = worker.id)",
        &[i(1), i(10), i(1), i(1)],
    );
}

#[test]
fn scalar_subquery_uncorrelated() {
    let f = fixture();
    let avg = select((func::avg(f.resume.c("compensation")),)).scalar_subquery();
    let stmt = select((f.resume.c("id"),)).where_(f.resume.c("compensation").gt(avg));
    // One FROM source only: SQLAlchemy does not auto-correlate it away.
    check(
        &stmt,
        "SELECT resume.id FROM resume WHERE resume.compensation > (SELECT avg(resume.compensation) FROM resume)",
        "SELECT resume.id FROM resume WHERE resume.compensation > (SELECT avg(resume.compensation) FROM resume)",
        "SELECT resume.id FROM resume WHERE resume.compensation > (SELECT avg(resume.compensation) FROM resume)",
        &[],
    );
}

#[test]
fn correlated_scalar_subquery_in_columns() {
    let f = fixture();
    let resumes = select((func::count_star(),))
        .select_from(&f.resume)
        .where_(f.resume.c("worker_id").eq(f.worker.c("id")))
        .scalar_subquery()
        .label("resumes");
    let stmt = select((f.worker.c("name"), resumes)).order_by([f.worker.c("name")]);
    check(
        &stmt,
        "SELECT worker.name, (SELECT count(*) FROM resume WHERE resume.worker_id = worker.id) AS resumes \
         FROM worker ORDER BY worker.name",
        "SELECT worker.name, (SELECT count(*) FROM resume WHERE resume.worker_id = worker.id) AS resumes \
         FROM worker ORDER BY worker.name",
        "SELECT worker.name, (SELECT count(*) FROM resume WHERE resume.worker_id = worker.id) AS resumes \
         FROM worker ORDER BY worker.name",
        &[],
    );
}

#[test]
fn text_conditions_and_literal_columns_bind_named_parameters() {
    let f = fixture();
    let stmt = select((
        f.worker.c("id"),
        literal_column("'a:b'").label("quoted"),
        text("upper(worker.name) || :suffix")
            .bind("suffix", "!")
            .expr()
            .label("shout"),
    ))
    .where_(
        text("worker.name = :name OR worker.name = :name")
            .bind("name", "Vlad")
            .expr(),
    );
    check(
        &stmt,
        "SELECT worker.id, 'a:b' AS quoted, upper(worker.name) || $1 AS shout FROM worker \
         WHERE worker.name = $2 OR worker.name = $3",
        "SELECT worker.id, 'a:b' AS quoted, upper(worker.name) || ? AS shout FROM worker \
         WHERE worker.name = ? OR worker.name = ?",
        "SELECT worker.id, 'a:b' AS quoted, upper(worker.name) || ? AS shout FROM worker \
         WHERE worker.name = ? OR worker.name = ?",
        &[s("!"), s("Vlad"), s("Vlad")],
    );
}

#[test]
fn text_statement_keeps_casts_and_quoted_colons() {
    let stmt = text(
        "SELECT id::text, ':not_a_param', \"a:b\" FROM worker WHERE id = :id AND tag = :tag_1",
    )
    .bind("id", 7)
    .bind("tag_1", "x");
    check(
        &stmt,
        "SELECT id::text, ':not_a_param', \"a:b\" FROM worker WHERE id = $1 AND tag = $2",
        "SELECT id::text, ':not_a_param', \"a:b\" FROM worker WHERE id = ? AND tag = ?",
        "SELECT id::text, ':not_a_param', \"a:b\" FROM worker WHERE id = ? AND tag = ?",
        &[i(7), s("x")],
    );
    let missing = text("SELECT :nope");
    assert_eq!(
        compile_err(&missing, &dialects::Postgres),
        CompileError::MissingParameter {
            name: "nope".into()
        }
    );
}

#[test]
fn typed_aggregate_helpers() {
    let f = fixture();
    let c = || f.resume.c("compensation");
    let stmt = select((
        func::count(f.resume.c("id")),
        func::count_star(),
        func::sum(c()),
        func::avg(c()),
        func::min(c()),
        func::max(c()),
    ));
    let sql =
        "SELECT count(resume.id), count(*), sum(resume.compensation), avg(resume.compensation), \
               min(resume.compensation), max(resume.compensation) FROM resume";
    check(&stmt, sql, sql, sql, &[]);
}

#[test]
fn typed_string_helpers() {
    let f = fixture();
    let title = || f.resume.c("title");
    let stmt = select((
        func::lower(title()),
        func::upper(title()),
        func::length(title()),
    ))
    .where_(func::length(title()).gt(3));
    check(
        &stmt,
        "SELECT lower(resume.title), upper(resume.title), length(resume.title) FROM resume \
         WHERE length(resume.title) > $1",
        "SELECT lower(resume.title), upper(resume.title), length(resume.title) FROM resume \
         WHERE length(resume.title) > ?",
        "SELECT lower(resume.title), upper(resume.title), char_length(resume.title) FROM resume \
         WHERE char_length(resume.title) > ?",
        &[i(3)],
    );
}

#[test]
fn now_and_utc_now_per_dialect() {
    let stmt = select((func::now().label("now"), func::utc_now().label("utc")));
    check(
        &stmt,
        "SELECT now() AS now, TIMEZONE('utc', now()) AS utc",
        "SELECT CURRENT_TIMESTAMP AS now, CURRENT_TIMESTAMP AS utc",
        "SELECT CURRENT_TIMESTAMP AS now, UTC_TIMESTAMP(6) AS utc",
        &[],
    );
}

#[test]
fn ranking_window_functions() {
    let f = fixture();
    let c = || f.resume.c("compensation");
    let w = || f.resume.c("workload");
    let stmt = select((
        f.resume.c("id"),
        func::row_number().over(order_by([c().desc()])).label("rn"),
        func::rank()
            .over(partition_by([w()]).order_by([c().desc()]))
            .label("rnk"),
        func::dense_rank()
            .over(partition_by([w()]).order_by([c()]))
            .label("drnk"),
    ));
    let sql = "SELECT resume.id, row_number() OVER (ORDER BY resume.compensation DESC) AS rn, \
               rank() OVER (PARTITION BY resume.workload ORDER BY resume.compensation DESC) AS rnk, \
               dense_rank() OVER (PARTITION BY resume.workload ORDER BY resume.compensation) AS drnk \
               FROM resume";
    check(&stmt, sql, sql, sql, &[]);
}

#[test]
fn lag_and_lead_bind_their_offset_as_int() {
    let f = fixture();
    let c = || f.resume.c("compensation");
    let by_id = || order_by([f.resume.c("id")]);
    let stmt = select((
        func::lag_by(c(), 1).over(by_id()).label("prev"),
        func::lead_by(c(), 2).over(by_id()).label("next"),
    ));
    check(
        &stmt,
        "SELECT lag(resume.compensation, $1) OVER (ORDER BY resume.id) AS prev, \
         lead(resume.compensation, $2) OVER (ORDER BY resume.id) AS next FROM resume",
        "SELECT lag(resume.compensation, ?) OVER (ORDER BY resume.id) AS prev, \
         lead(resume.compensation, ?) OVER (ORDER BY resume.id) AS next FROM resume",
        "SELECT lag(resume.compensation, ?) OVER (ORDER BY resume.id) AS prev, \
         lead(resume.compensation, ?) OVER (ORDER BY resume.id) AS next FROM resume",
        &[i(1), i(2)],
    );
}

#[test]
fn aggregates_over_windows_with_frames() {
    let f = fixture();
    let c = || f.resume.c("compensation");
    let stmt = select((
        func::sum(c())
            .over(
                partition_by([f.resume.c("worker_id")])
                    .order_by([f.resume.c("id")])
                    .rows(FrameBound::UnboundedPreceding, FrameBound::CurrentRow),
            )
            .label("running"),
        func::avg(c())
            .over(
                order_by([f.resume.c("id")])
                    .range(FrameBound::Preceding(2), FrameBound::Following(3)),
            )
            .label("moving"),
        func::max(c())
            .over(Window::new().rows(FrameBound::CurrentRow, FrameBound::UnboundedFollowing))
            .label("rest"),
        func::count_star().over(Window::new()).label("total"),
    ));
    let sql = "SELECT sum(resume.compensation) OVER (PARTITION BY resume.worker_id ORDER BY resume.id \
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running, \
               avg(resume.compensation) OVER (ORDER BY resume.id RANGE BETWEEN 2 PRECEDING AND 3 FOLLOWING) AS moving, \
               max(resume.compensation) OVER (ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS rest, \
               count(*) OVER () AS total FROM resume";
    check(&stmt, sql, sql, sql, &[]);
}

#[test]
fn window_order_nulls_last_is_emulated_on_mysql() {
    let f = fixture();
    let stmt = select((func::row_number()
        .over(order_by([f.resume.c("compensation").desc().nulls_last()]))
        .label("rn"),));
    check(
        &stmt,
        "SELECT row_number() OVER (ORDER BY resume.compensation DESC NULLS LAST) AS rn FROM resume",
        "SELECT row_number() OVER (ORDER BY resume.compensation DESC NULLS LAST) AS rn FROM resume",
        "SELECT row_number() OVER (ORDER BY resume.compensation IS NULL, resume.compensation DESC) AS rn \
         FROM resume",
        &[],
    );
}

#[test]
fn bare_column_and_star() {
    let f = fixture();
    let stmt = select((column("name"),)).select_from(&f.worker);
    check(
        &stmt,
        "SELECT name FROM worker",
        "SELECT name FROM worker",
        "SELECT name FROM worker",
        &[],
    );
    let stmt = select((star(),)).select_from(&f.worker);
    check(
        &stmt,
        "SELECT * FROM worker",
        "SELECT * FROM worker",
        "SELECT * FROM worker",
        &[],
    );
}
