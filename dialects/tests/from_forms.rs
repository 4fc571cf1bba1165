//! FROM forms, row locks, label de-duplication and the debugging
//! rendering: the exact SQL and parameters per dialect.

mod common;

use common::{assert_unsupported, check, fixture};
use dialects::{
    func, insert, literal, select, star, values, CompileError, Lock, MySql, Postgres, SqlType,
    Sqlite, Value,
};

#[test]
fn values_list_as_a_from_item() {
    let f = fixture();
    let v = values(
        "v",
        [("id", SqlType::Integer), ("name", SqlType::string(20))],
    )
    .row((1, "a"))
    .row((2, "b"));
    let stmt = select((f.worker.c("name"), v.c("name")))
        .select_from(&f.worker)
        .join(&v, f.worker.c("id").eq(v.c("id")));
    check(
        &stmt,
        "SELECT worker.name, v.name FROM worker JOIN (VALUES ($1, $2), ($3, $4)) AS v (id, name) ON worker.id = v.id",
        "SELECT worker.name, v.name FROM worker JOIN (SELECT column1 AS id, column2 AS name FROM (VALUES (?, ?), (?, ?))) AS v ON worker.id = v.id",
        "SELECT worker.name, v.name FROM worker JOIN (SELECT ? AS id, ? AS name UNION ALL SELECT ?, ?) AS v ON worker.id = v.id",
        &[1.into(), "a".into(), 2.into(), "b".into()],
    );
}

#[test]
fn values_list_without_rows_or_with_ragged_rows_is_an_error() {
    let empty = values("v", [("id", SqlType::Integer)]);
    let err = select((empty.c("id"),)).compile(&Postgres).unwrap_err();
    assert!(
        matches!(&err, CompileError::Invalid(m) if m.contains("no rows")),
        "{err}"
    );
    let ragged = values("v", [("id", SqlType::Integer), ("n", SqlType::Integer)])
        .row((1, 2))
        .row((3,));
    let err = select((ragged.c("id"),)).compile(&Sqlite).unwrap_err();
    assert!(
        matches!(&err, CompileError::Invalid(m) if m.contains("1 values for 2 columns")),
        "{err}"
    );
    assert!(matches!(
        select((ragged.c("missing"),)).compile(&Postgres),
        Err(CompileError::UnknownColumn { .. })
    ));
}

#[test]
fn lateral_subquery_correlates_to_the_items_before_it() {
    let f = fixture();
    let latest = select((f.post.c("title"),))
        .where_(f.post.c("publisher_id").eq(f.publisher.c("id")))
        .order_by([f.post.c("id").desc()])
        .limit(1)
        .lateral("latest");
    assert!(latest.is_lateral());
    let stmt = select((f.publisher.c("name"), latest.c("title")))
        .select_from(&f.publisher)
        .join(&latest, literal(true));
    common::check_one(
        &stmt,
        &Postgres,
        "SELECT publisher.name, latest.title FROM publisher JOIN LATERAL (SELECT post.title FROM post \
         WHERE post.publisher_id = publisher.id ORDER BY post.id DESC LIMIT $1) AS latest ON $2",
        &[Value::BigInt(1), Value::Bool(true)],
    );
    common::check_one(
        &stmt,
        &MySql::mysql8(),
        "SELECT publisher.name, latest.title FROM publisher JOIN LATERAL (SELECT post.title FROM post \
         WHERE post.publisher_id = publisher.id ORDER BY post.id DESC LIMIT ?) AS latest ON ?",
        &[Value::BigInt(1), Value::Bool(true)],
    );
    assert_unsupported(&stmt, &Sqlite, "LATERAL");
    assert_unsupported(&stmt, &MySql::mariadb(), "LATERAL");
}

#[test]
fn fetch_first_rows_only_and_with_ties() {
    let f = fixture();
    let page = select((f.worker.c("id"),))
        .order_by([f.worker.c("id")])
        .offset(1)
        .fetch(2);
    let standard = [Value::BigInt(1), Value::BigInt(2)];
    let as_limit = [Value::BigInt(2), Value::BigInt(1)];
    common::check_one(
        &page,
        &Postgres,
        "SELECT worker.id FROM worker ORDER BY worker.id OFFSET $1 ROWS FETCH FIRST $2 ROWS ONLY",
        &standard,
    );
    common::check_one(
        &page,
        &MySql::mariadb(),
        "SELECT worker.id FROM worker ORDER BY worker.id OFFSET ? ROWS FETCH FIRST ? ROWS ONLY",
        &standard,
    );
    for d in [&Sqlite as &dyn dialects::Dialect, &MySql::mysql8()] {
        common::check_one(
            &page,
            d,
            "SELECT worker.id FROM worker ORDER BY worker.id LIMIT ? OFFSET ?",
            &as_limit,
        );
    }
    let ties = select((f.resume.c("compensation"),))
        .order_by([f.resume.c("compensation").desc()])
        .fetch_with_ties(1);
    common::check_one(
        &ties,
        &Postgres,
        "SELECT resume.compensation FROM resume ORDER BY resume.compensation DESC FETCH FIRST $1 ROWS WITH TIES",
        &[Value::BigInt(1)],
    );
    assert_unsupported(&ties, &Sqlite, "FETCH FIRST ... WITH TIES");
    assert_unsupported(&ties, &MySql::mysql8(), "FETCH FIRST ... WITH TIES");
    let unordered = select((f.worker.c("id"),)).fetch_with_ties(1);
    assert!(
        matches!(unordered.compile(&Postgres), Err(CompileError::Invalid(m)) if m.contains("ORDER BY"))
    );
    let both = select((f.worker.c("id"),)).limit(1).fetch(1);
    assert!(
        matches!(both.compile(&Postgres), Err(CompileError::Invalid(m)) if m.contains("limit() and fetch()"))
    );
}

#[test]
fn set_operations_as_subquery_and_cte() {
    let f = fixture();
    let names = select((f.worker.c("name"),))
        .union(select((f.publisher.c("name"),)))
        .subquery("names");
    let stmt = select((names.c("name"),))
        .select_from(&names)
        .where_(names.c("name").ne("x"));
    check(
        &stmt,
        "SELECT names.name FROM (SELECT worker.name FROM worker UNION SELECT publisher.name FROM publisher) AS names WHERE names.name <> $1",
        "SELECT names.name FROM (SELECT worker.name FROM worker UNION SELECT publisher.name FROM publisher) AS names WHERE names.name <> ?",
        "SELECT names.name FROM (SELECT worker.name FROM worker UNION SELECT publisher.name FROM publisher) AS names WHERE names.name <> ?",
        &["x".into()],
    );
    let twice = select((f.worker.c("name"),))
        .union_all(select((f.worker.c("name"),)))
        .cte("twice");
    let stmt = select((func::count(star()),)).select_from(&twice);
    check(
        &stmt,
        "WITH twice AS (SELECT worker.name FROM worker UNION ALL SELECT worker.name FROM worker) SELECT count(*) FROM twice",
        "WITH twice AS (SELECT worker.name FROM worker UNION ALL SELECT worker.name FROM worker) SELECT count(*) FROM twice",
        "WITH twice AS (SELECT worker.name FROM worker UNION ALL SELECT worker.name FROM worker) SELECT count(*) FROM twice",
        &[],
    );
}

#[test]
fn duplicate_column_names_in_a_subquery_get_numbered_labels() {
    let f = fixture();
    let wr = select((
        f.worker.c("id"),
        f.resume.c("id"),
        f.resume.c("worker_id").label("id"),
        f.resume.c("title"),
    ))
    .select_from(&f.worker)
    .join(&f.resume, f.resume.c("worker_id").eq(f.worker.c("id")))
    .subquery("wr");
    let stmt = select((wr.c("id"), wr.c("id_1"), wr.c("id_2"), wr.c("title"))).select_from(&wr);
    check(
        &stmt,
        "SELECT wr.id, wr.id_1, wr.id_2, wr.title FROM (SELECT worker.id, resume.id AS id_1, resume.worker_id AS id_2, resume.title FROM worker JOIN resume ON resume.worker_id = worker.id) AS wr",
        "SELECT wr.id, wr.id_1, wr.id_2, wr.title FROM (SELECT worker.id, resume.id AS id_1, resume.worker_id AS id_2, resume.title FROM worker JOIN resume ON resume.worker_id = worker.id) AS wr",
        "SELECT wr.id, wr.id_1, wr.id_2, wr.title FROM (SELECT worker.id, resume.id AS id_1, resume.worker_id AS id_2, resume.title FROM worker JOIN resume ON resume.worker_id = worker.id) AS wr",
        &[],
    );
    // The same in a CTE.
    let cte = select((f.worker.c("id"), f.resume.c("id")))
        .select_from(&f.worker)
        .join(&f.resume, f.resume.c("worker_id").eq(f.worker.c("id")))
        .cte("c");
    assert!(!matches!(cte.c("id_1"), dialects::Expr::Invalid(_)));
}

#[test]
fn row_locks_per_backend() {
    let f = fixture();
    let base = || {
        select((f.worker.c("id"),))
            .select_from(&f.worker)
            .join(&f.resume, f.resume.c("worker_id").eq(f.worker.c("id")))
    };
    let of = base().with_for_update(Lock::update().of(&f.worker).nowait());
    common::check_one(
        &of,
        &Postgres,
        "SELECT worker.id FROM worker JOIN resume ON resume.worker_id = worker.id FOR UPDATE OF worker NOWAIT",
        &[],
    );
    common::check_one(
        &of,
        &MySql::mysql8(),
        "SELECT worker.id FROM worker JOIN resume ON resume.worker_id = worker.id FOR UPDATE OF worker NOWAIT",
        &[],
    );
    assert_unsupported(&of, &MySql::mariadb(), "FOR UPDATE OF");
    assert_unsupported(&of, &Sqlite, "FOR UPDATE");
    let share = base().with_for_update(Lock::share().skip_locked());
    for (d, sql) in [
        (&Postgres as &dyn dialects::Dialect, "FOR SHARE SKIP LOCKED"),
        (&MySql::mysql8(), "FOR SHARE SKIP LOCKED"),
        (&MySql::mariadb(), "LOCK IN SHARE MODE SKIP LOCKED"),
    ] {
        common::check_one(
            &share,
            d,
            &format!(
                "SELECT worker.id FROM worker JOIN resume ON resume.worker_id = worker.id {sql}"
            ),
            &[],
        );
    }
    assert_unsupported(&share, &Sqlite, "FOR UPDATE");
    let key = select((f.worker.c("id"),)).with_for_update(Lock::update().key());
    common::check_one(
        &key,
        &Postgres,
        "SELECT worker.id FROM worker FOR NO KEY UPDATE",
        &[],
    );
    let key_share = select((f.worker.c("id"),)).with_for_update(Lock::share().key());
    common::check_one(
        &key_share,
        &Postgres,
        "SELECT worker.id FROM worker FOR KEY SHARE",
        &[],
    );
    assert_unsupported(&key, &MySql::mysql8(), "FOR NO KEY UPDATE / FOR KEY SHARE");
    let both = select((f.worker.c("id"),)).with_for_update(Lock::update().nowait().skip_locked());
    assert!(matches!(
        both.compile(&Postgres),
        Err(CompileError::Invalid(_))
    ));
}

#[test]
fn debug_rendering_inlines_values_per_dialect() {
    let f = fixture();
    let stmt = select((f.worker.c("id"),))
        .where_(
            f.worker
                .c("name")
                .eq(r"O'B\")
                .and(f.worker.c("id").in_([1, 2])),
        )
        .limit(3);
    assert_eq!(
        stmt.compile_debug(&Postgres).unwrap().as_str(),
        r"SELECT worker.id FROM worker WHERE worker.name = 'O''B\' AND worker.id IN (1, 2) LIMIT 3"
    );
    assert_eq!(
        stmt.compile_debug(&Sqlite).unwrap().to_string(),
        r"SELECT worker.id FROM worker WHERE worker.name = 'O''B\' AND worker.id IN (1, 2) LIMIT 3"
    );
    assert_eq!(
        stmt.compile_debug(&MySql::mariadb()).unwrap().as_str(),
        r"SELECT worker.id FROM worker WHERE worker.name = 'O''B\\' AND worker.id IN (1, 2) LIMIT 3"
    );
    let ins = insert(&f.post).values([("title", Value::from("t")), ("draft", Value::Bool(true))]);
    assert_eq!(
        ins.compile_debug(&Postgres).unwrap().as_str(),
        "INSERT INTO post (title, draft) VALUES ('t', true)"
    );
    assert_eq!(
        ins.compile_debug(&Sqlite).unwrap().as_str(),
        "INSERT INTO post (title, draft) VALUES ('t', 1)"
    );
    let misc = select((
        literal(Value::Bytes(vec![0xde, 0xad])),
        literal(Value::Null),
        literal(1.5f64),
    ));
    assert_eq!(
        misc.compile_debug(&Postgres).unwrap().as_str(),
        r"SELECT '\xDEAD'::bytea, NULL, 1.5"
    );
    assert_eq!(
        misc.compile_debug(&MySql::default()).unwrap().as_str(),
        "SELECT X'DEAD', NULL, 1.5"
    );
    // The normal compile is untouched: values stay bound.
    assert_eq!(stmt.compile(&Postgres).unwrap().params.len(), 4);
    // A value with no literal form is an error, not SQL that means
    // something else.
    let nan = select((literal(f64::NAN),));
    assert!(matches!(
        nan.compile_debug(&Postgres),
        Err(CompileError::UnsupportedLiteral { .. })
    ));
    let open = select((f.worker.c("id"),)).where_(f.worker.c("id").eq(dialects::bindparam("wid")));
    assert!(matches!(
        open.compile_debug(&Postgres),
        Err(CompileError::Invalid(_))
    ));
}

/// Found by the compiler's property test: a negation of a negation wrote
/// `--x`, which starts a comment, and two different CTEs of one name were
/// merged into one `WITH` entry.
#[test]
fn double_negation_and_clashing_cte_names() {
    let f = fixture();
    let stmt = select(((-(-f.resume.c("compensation"))).label("x"),));
    check(
        &stmt,
        "SELECT -(-resume.compensation) AS x FROM resume",
        "SELECT -(-resume.compensation) AS x FROM resume",
        "SELECT -(-resume.compensation) AS x FROM resume",
        &[],
    );
    assert_eq!(
        select((-literal(-5),))
            .compile_debug(&Postgres)
            .unwrap()
            .as_str(),
        "SELECT -(-5)"
    );
    let inner = select((f.worker.c("id").label("k"),)).cte("c");
    let outer = select((inner.c("k"),)).select_from(&inner).cte("c");
    let err = select((outer.c("k"),))
        .select_from(&outer)
        .compile(&Postgres)
        .unwrap_err();
    assert!(
        matches!(&err, CompileError::Invalid(m) if m.contains("both named `c`")),
        "{err}"
    );
}

#[test]
fn bound_integer_sort_keys_are_constants_on_mysql() {
    let f = fixture();
    let stmt = select((f.worker.c("id"),))
        .group_by([f.worker.c("id"), literal(2)])
        .order_by([literal(2).desc(), f.worker.c("id").into()]);
    check(
        &stmt,
        "SELECT worker.id FROM worker GROUP BY worker.id, $1 ORDER BY $2 DESC, worker.id",
        "SELECT worker.id FROM worker GROUP BY worker.id, ? ORDER BY ? DESC, worker.id",
        "SELECT worker.id FROM worker GROUP BY worker.id, (SELECT ?) ORDER BY (SELECT ?) DESC, worker.id",
        &[2.into(), 2.into()],
    );
    // Inlined, `ORDER BY 2` would be a position on every backend.
    let debug = stmt.compile_debug(&Postgres).unwrap();
    assert_eq!(
        debug.as_str(),
        "SELECT worker.id FROM worker GROUP BY worker.id, (SELECT 2) ORDER BY (SELECT 2) DESC, worker.id"
    );
}
