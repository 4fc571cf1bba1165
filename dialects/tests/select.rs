//! `SELECT`: FROM inference, joins, filters, grouping, ordering, limits,
//! locks, aliases, subqueries, CTEs, set operations and correlation.

mod common;

use common::{assert_unsupported, big, check, check_one, compile_err, fixture, i, s};
use dialects::{
    except, exists, func, intersect, literal, select, star, union, union_all, CompileError, MySql,
    Postgres, Sqlite,
};

#[test]
fn select_without_from() {
    let stmt = select((literal(1).label("one"), func::now().label("t")));
    check(
        &stmt,
        "SELECT $1 AS one, now() AS t",
        "SELECT ? AS one, CURRENT_TIMESTAMP AS t",
        "SELECT ? AS one, CURRENT_TIMESTAMP AS t",
        &[i(1)],
    );
}

#[test]
fn from_is_inferred_from_columns_and_where_in_first_seen_order() {
    let f = fixture();
    let stmt = select((f.worker.c("name"),)).where_(f.resume.c("worker_id").eq(f.worker.c("id")));
    check(
        &stmt,
        "SELECT worker.name FROM worker, resume WHERE resume.worker_id = worker.id",
        "SELECT worker.name FROM worker, resume WHERE resume.worker_id = worker.id",
        "SELECT worker.name FROM worker, resume WHERE resume.worker_id = worker.id",
        &[],
    );
}

#[test]
fn explicit_select_from_keeps_inferred_sources_it_does_not_cover() {
    let f = fixture();
    let stmt = select((f.worker.c("name"), f.post.c("title"))).select_from(&f.worker);
    let sql = "SELECT worker.name, post.title FROM worker, post";
    check(&stmt, sql, sql, sql, &[]);
    let stmt = select(&f.worker);
    let sql = "SELECT worker.id, worker.name FROM worker";
    check(&stmt, sql, sql, sql, &[]);
}

#[test]
fn inner_join_on_inferred_from() {
    let f = fixture();
    let stmt = select((f.worker.c("name"), f.resume.c("title")))
        .join(&f.resume, f.resume.c("worker_id").eq(f.worker.c("id")))
        .where_(f.resume.c("compensation").gt(1000));
    check(
        &stmt,
        "SELECT worker.name, resume.title FROM worker JOIN resume ON resume.worker_id = worker.id \
         WHERE resume.compensation > $1",
        "SELECT worker.name, resume.title FROM worker JOIN resume ON resume.worker_id = worker.id \
         WHERE resume.compensation > ?",
        "SELECT worker.name, resume.title FROM worker JOIN resume ON resume.worker_id = worker.id \
         WHERE resume.compensation > ?",
        &[i(1000)],
    );
}

#[test]
fn join_chain_and_outer_joins() {
    let f = fixture();
    let stmt = select((f.post.c("title"), f.tag.c("name"), f.publisher.c("name")))
        .select_from(&f.post)
        .join(&f.post_tag, f.post_tag.c("post_id").eq(f.post.c("id")))
        .join(&f.tag, f.tag.c("id").eq(f.post_tag.c("tag_id")))
        .outerjoin(
            &f.publisher,
            f.publisher.c("id").eq(f.post.c("publisher_id")),
        );
    let sql = "SELECT post.title, tag.name, publisher.name FROM post \
               JOIN post_tag ON post_tag.post_id = post.id \
               JOIN tag ON tag.id = post_tag.tag_id \
               LEFT OUTER JOIN publisher ON publisher.id = post.publisher_id";
    check(&stmt, sql, sql, sql, &[]);
}

#[test]
fn right_and_cross_joins() {
    let f = fixture();
    let stmt = select((f.worker.c("name"), f.resume.c("title")))
        .select_from(&f.worker)
        .right_join(&f.resume, f.resume.c("worker_id").eq(f.worker.c("id")));
    let sql = "SELECT worker.name, resume.title FROM worker RIGHT OUTER JOIN resume \
               ON resume.worker_id = worker.id";
    check(&stmt, sql, sql, sql, &[]);
    let stmt = select((f.worker.c("name"), f.tag.c("name")))
        .select_from(&f.worker)
        .cross_join(&f.tag);
    let sql = "SELECT worker.name, tag.name FROM worker CROSS JOIN tag";
    check(&stmt, sql, sql, sql, &[]);
}

#[test]
fn full_join_is_unsupported_on_mysql() {
    let f = fixture();
    let stmt = select((f.worker.c("name"), f.resume.c("title")))
        .select_from(&f.worker)
        .full_join(&f.resume, f.resume.c("worker_id").eq(f.worker.c("id")));
    let sql = "SELECT worker.name, resume.title FROM worker FULL OUTER JOIN resume \
               ON resume.worker_id = worker.id";
    check_one(&stmt, &Postgres, sql, &[]);
    check_one(&stmt, &Sqlite, sql, &[]);
    assert_unsupported(&stmt, &MySql::default(), "FULL OUTER JOIN");
    assert_unsupported(&stmt, &MySql::mariadb(), "FULL OUTER JOIN");
}

#[test]
fn self_join_through_aliases() {
    let f = fixture();
    let a = f.resume.alias("a");
    let b = f.resume.alias("b");
    let stmt = select((a.c("id"), b.c("id").label("other_id")))
        .select_from(&a)
        .join(
            &b,
            a.c("worker_id")
                .eq(b.c("worker_id"))
                .and(a.c("id").lt(b.c("id"))),
        )
        .where_(a.c("workload").eq("fulltime"));
    check(
        &stmt,
        "SELECT a.id, b.id AS other_id FROM resume AS a JOIN resume AS b \
         ON a.worker_id = b.worker_id AND a.id < b.id WHERE a.workload = CAST($1 AS workload)",
        "SELECT a.id, b.id AS other_id FROM resume AS a JOIN resume AS b \
         ON a.worker_id = b.worker_id AND a.id < b.id WHERE a.workload = ?",
        "SELECT a.id, b.id AS other_id FROM resume AS a JOIN resume AS b \
         ON a.worker_id = b.worker_id AND a.id < b.id WHERE a.workload = ?",
        &[s("fulltime")],
    );
}

#[test]
fn where_filter_and_filter_by() {
    let f = fixture();
    let stmt = select((f.worker.c("id"),))
        .where_(f.worker.c("id").gt(1))
        .filter(f.worker.c("id").lt(10))
        .filter_by([("name", "Vlad")]);
    check(
        &stmt,
        "SELECT worker.id FROM worker WHERE worker.id > $1 AND worker.id < $2 AND worker.name = $3",
        "SELECT worker.id FROM worker WHERE worker.id > ? AND worker.id < ? AND worker.name = ?",
        "SELECT worker.id FROM worker WHERE worker.id > ? AND worker.id < ? AND worker.name = ?",
        &[i(1), i(10), s("Vlad")],
    );
}

#[test]
fn filter_by_names_columns_of_the_last_joined_entity() {
    let f = fixture();
    let r = f.resume.alias("r");
    let stmt = select((f.worker.c("name"), r.c("title")))
        .select_from(&f.worker)
        .join(&r, r.c("worker_id").eq(f.worker.c("id")))
        .filter_by([("workload", "parttime")]);
    check(
        &stmt,
        "SELECT worker.name, r.title FROM worker JOIN resume AS r ON r.worker_id = worker.id \
         WHERE r.workload = CAST($1 AS workload)",
        "SELECT worker.name, r.title FROM worker JOIN resume AS r ON r.worker_id = worker.id \
         WHERE r.workload = ?",
        "SELECT worker.name, r.title FROM worker JOIN resume AS r ON r.worker_id = worker.id \
         WHERE r.workload = ?",
        &[s("parttime")],
    );
    // Without a join: the first FROM source.
    let stmt = select((f.worker.c("name"), f.post.c("title"))).filter_by([("name", "Ann")]);
    check(
        &stmt,
        "SELECT worker.name, post.title FROM worker, post WHERE worker.name = $1",
        "SELECT worker.name, post.title FROM worker, post WHERE worker.name = ?",
        "SELECT worker.name, post.title FROM worker, post WHERE worker.name = ?",
        &[s("Ann")],
    );
    let bad = select((f.worker.c("name"),)).filter_by([("title", "x")]);
    assert_eq!(
        compile_err(&bad, &Postgres),
        CompileError::UnknownColumn {
            table: "worker".into(),
            column: "title".into()
        }
    );
}

#[test]
fn group_by_and_having() {
    let f = fixture();
    let n = func::count_star();
    let stmt = select((f.resume.c("workload"), n.clone().label("n")))
        .group_by([f.resume.c("workload")])
        .having(n.gt(1))
        .having(func::max(f.resume.c("compensation")).lt(5000))
        .order_by([func::count_star().label("n").desc()]);
    check(
        &stmt,
        "SELECT resume.workload, count(*) AS n FROM resume GROUP BY resume.workload \
         HAVING count(*) > $1 AND max(resume.compensation) < $2 ORDER BY n DESC",
        "SELECT resume.workload, count(*) AS n FROM resume GROUP BY resume.workload \
         HAVING count(*) > ? AND max(resume.compensation) < ? ORDER BY n DESC",
        "SELECT resume.workload, count(*) AS n FROM resume GROUP BY resume.workload \
         HAVING count(*) > ? AND max(resume.compensation) < ? ORDER BY n DESC",
        &[i(1), i(5000)],
    );
}

#[test]
fn order_by_asc_desc() {
    let f = fixture();
    let stmt = select((f.resume.c("id"),)).order_by([
        f.resume.c("workload").asc(),
        f.resume.c("compensation").desc(),
        f.resume.c("id").into(),
    ]);
    let sql = "SELECT resume.id FROM resume ORDER BY resume.workload, resume.compensation DESC, resume.id";
    check(&stmt, sql, sql, sql, &[]);
}

#[test]
fn nulls_first_and_last_are_emulated_on_mysql() {
    let f = fixture();
    let stmt = select((f.resume.c("id"),)).order_by([
        f.resume.c("compensation").desc().nulls_last(),
        f.resume.c("title").asc().nulls_first(),
        (f.resume.c("compensation") + 1).asc().nulls_first(),
    ]);
    for native in [&Postgres as &dyn dialects::Dialect, &Sqlite] {
        let sql = "SELECT resume.id FROM resume ORDER BY resume.compensation DESC NULLS LAST, \
                   resume.title NULLS FIRST, resume.compensation + ? NULLS FIRST";
        let sql = if native.name() == "postgresql" {
            sql.replace('?', "$1")
        } else {
            sql.to_owned()
        };
        check_one(&stmt, native, &sql, &[i(1)]);
    }
    // MySQL sorts NULL first ascending and last descending: a leading
    // `IS NULL` key moves them; the expression's value is bound twice.
    for my in [MySql::default(), MySql::mariadb()] {
        check_one(
            &stmt,
            &my,
            "SELECT resume.id FROM resume ORDER BY resume.compensation IS NULL, resume.compensation DESC, \
             resume.title IS NULL DESC, resume.title, \
             resume.compensation + ? IS NULL DESC, resume.compensation + ?",
            &[i(1), i(1)],
        );
    }
}

#[test]
fn limit_and_offset_are_bound() {
    let f = fixture();
    let stmt = select((f.worker.c("id"),)).limit(10).offset(20);
    check(
        &stmt,
        "SELECT worker.id FROM worker LIMIT $1 OFFSET $2",
        "SELECT worker.id FROM worker LIMIT ? OFFSET ?",
        "SELECT worker.id FROM worker LIMIT ? OFFSET ?",
        &[big(10), big(20)],
    );
    let stmt = select((f.worker.c("id"),)).offset(5);
    // SQLite and MySQL have no OFFSET without a LIMIT.
    check(
        &stmt,
        "SELECT worker.id FROM worker OFFSET $1",
        "SELECT worker.id FROM worker LIMIT -1 OFFSET ?",
        "SELECT worker.id FROM worker LIMIT 18446744073709551615 OFFSET ?",
        &[big(5)],
    );
}

#[test]
fn distinct_on_only_on_postgres() {
    let f = fixture();
    let stmt = select((f.resume.c("worker_id"), f.resume.c("title")))
        .distinct_on([f.resume.c("worker_id")])
        .order_by([
            f.resume.c("worker_id").asc(),
            f.resume.c("compensation").desc(),
        ]);
    check_one(
        &stmt,
        &Postgres,
        "SELECT DISTINCT ON (resume.worker_id) resume.worker_id, resume.title FROM resume \
         ORDER BY resume.worker_id, resume.compensation DESC",
        &[],
    );
    assert_unsupported(&stmt, &Sqlite, "DISTINCT ON");
    assert_unsupported(&stmt, &MySql::default(), "DISTINCT ON");
    assert_unsupported(&stmt, &MySql::mariadb(), "DISTINCT ON");
}

#[test]
fn for_update_with_nowait_and_skip_locked() {
    let f = fixture();
    let base = || select((f.worker.c("id"),)).where_(f.worker.c("id").eq(1));
    for (stmt, suffix) in [
        (base().for_update(), " FOR UPDATE"),
        (base().for_update_nowait(), " FOR UPDATE NOWAIT"),
        (base().for_update_skip_locked(), " FOR UPDATE SKIP LOCKED"),
    ] {
        check_one(
            &stmt,
            &Postgres,
            &format!("SELECT worker.id FROM worker WHERE worker.id = $1{suffix}"),
            &[i(1)],
        );
        for my in [MySql::default(), MySql::mariadb()] {
            check_one(
                &stmt,
                &my,
                &format!("SELECT worker.id FROM worker WHERE worker.id = ?{suffix}"),
                &[i(1)],
            );
        }
        assert_unsupported(&stmt, &Sqlite, "FOR UPDATE");
    }
}

#[test]
fn aliased_subquery_with_columns_by_name() {
    let f = fixture();
    let totals = select((
        f.resume.c("worker_id"),
        func::sum(f.resume.c("compensation")).label("total"),
    ))
    .group_by([f.resume.c("worker_id")])
    .subquery("totals");
    let stmt = select((f.worker.c("name"), totals.c("total")))
        .join(&totals, totals.c("worker_id").eq(f.worker.c("id")))
        .where_(totals.c("total").gt(100));
    check(
        &stmt,
        "SELECT worker.name, totals.total FROM worker JOIN (SELECT resume.worker_id, \
         sum(resume.compensation) AS total FROM resume GROUP BY resume.worker_id) AS totals \
         ON totals.worker_id = worker.id WHERE totals.total > $1",
        "SELECT worker.name, totals.total FROM worker JOIN (SELECT resume.worker_id, \
         sum(resume.compensation) AS total FROM resume GROUP BY resume.worker_id) AS totals \
         ON totals.worker_id = worker.id WHERE totals.total > ?",
        "SELECT worker.name, totals.total FROM worker JOIN (SELECT resume.worker_id, \
         sum(resume.compensation) AS total FROM resume GROUP BY resume.worker_id) AS totals \
         ON totals.worker_id = worker.id WHERE totals.total > ?",
        &[i(100)],
    );
    assert_eq!(
        compile_err(&select((totals.c("nope"),)), &Sqlite),
        CompileError::UnknownColumn {
            table: "totals".into(),
            column: "nope".into()
        }
    );
}

#[test]
fn subquery_parameters_come_in_text_order() {
    let f = fixture();
    let sq = select((f.resume.c("worker_id"),))
        .where_(f.resume.c("compensation").gt(10))
        .subquery("sq");
    let stmt = select((literal("first"), sq.c("worker_id")))
        .select_from(&sq)
        .where_(sq.c("worker_id").ne(99));
    check(
        &stmt,
        "SELECT $1, sq.worker_id FROM (SELECT resume.worker_id FROM resume WHERE resume.compensation > $2) AS sq \
         WHERE sq.worker_id <> $3",
        "SELECT ?, sq.worker_id FROM (SELECT resume.worker_id FROM resume WHERE resume.compensation > ?) AS sq \
         WHERE sq.worker_id <> ?",
        "SELECT ?, sq.worker_id FROM (SELECT resume.worker_id FROM resume WHERE resume.compensation > ?) AS sq \
         WHERE sq.worker_id <> ?",
        &[s("first"), i(10), i(99)],
    );
}

#[test]
fn cte_with_columns_by_name() {
    let f = fixture();
    let rich = select((f.resume.c("worker_id"), f.resume.c("compensation")))
        .where_(f.resume.c("compensation").ge(1000))
        .cte("rich");
    let stmt = select((f.worker.c("name"), rich.c("compensation")))
        .join(&rich, rich.c("worker_id").eq(f.worker.c("id")));
    check(
        &stmt,
        "WITH rich AS (SELECT resume.worker_id, resume.compensation FROM resume WHERE resume.compensation >= $1) \
         SELECT worker.name, rich.compensation FROM worker JOIN rich ON rich.worker_id = worker.id",
        "WITH rich AS (SELECT resume.worker_id, resume.compensation FROM resume WHERE resume.compensation >= ?) \
         SELECT worker.name, rich.compensation FROM worker JOIN rich ON rich.worker_id = worker.id",
        "WITH rich AS (SELECT resume.worker_id, resume.compensation FROM resume WHERE resume.compensation >= ?) \
         SELECT worker.name, rich.compensation FROM worker JOIN rich ON rich.worker_id = worker.id",
        &[i(1000)],
    );
}

#[test]
fn ctes_depending_on_ctes_come_dependencies_first() {
    let f = fixture();
    let a = select((f.resume.c("worker_id"), f.resume.c("compensation"))).cte("a");
    let b = select((a.c("worker_id"), a.c("compensation")))
        .where_(a.c("compensation").gt(1))
        .cte("b");
    let c = select((b.c("worker_id"),))
        .where_(b.c("compensation").gt(2))
        .cte("c");
    let stmt = select((c.c("worker_id"), a.c("compensation")))
        .select_from(&c)
        .join(&a, a.c("worker_id").eq(c.c("worker_id")));
    let sql = "WITH a AS (SELECT resume.worker_id, resume.compensation FROM resume), \
               b AS (SELECT a.worker_id, a.compensation FROM a WHERE a.compensation > ?), \
               c AS (SELECT b.worker_id FROM b WHERE b.compensation > ?) \
               SELECT c.worker_id, a.compensation FROM c JOIN a ON a.worker_id = c.worker_id";
    check(
        &stmt,
        &sql.replacen('?', "$1", 1).replacen('?', "$2", 1),
        sql,
        sql,
        &[i(1), i(2)],
    );
}

#[test]
fn cte_used_only_in_a_where_subquery_is_hoisted() {
    let f = fixture();
    let rich = select((f.resume.c("worker_id"),))
        .where_(f.resume.c("compensation").ge(1000))
        .cte("rich");
    let stmt = select((f.worker.c("name"),))
        .where_(f.worker.c("id").in_select(select((rich.c("worker_id"),))))
        .where_(f.worker.c("name").ne("x"));
    check(
        &stmt,
        "WITH rich AS (SELECT resume.worker_id FROM resume WHERE resume.compensation >= $1) \
         SELECT worker.name FROM worker WHERE worker.id IN (SELECT rich.worker_id FROM rich) AND worker.name <> $2",
        "WITH rich AS (SELECT resume.worker_id FROM resume WHERE resume.compensation >= ?) \
         SELECT worker.name FROM worker WHERE worker.id IN (SELECT rich.worker_id FROM rich) AND worker.name <> ?",
        "WITH rich AS (SELECT resume.worker_id FROM resume WHERE resume.compensation >= ?) \
         SELECT worker.name FROM worker WHERE worker.id IN (SELECT rich.worker_id FROM rich) AND worker.name <> ?",
        &[i(1000), s("x")],
    );
    let in_exists = select((f.worker.c("name"),)).where_(exists(
        select((rich.c("worker_id"),)).where_(rich.c("worker_id").eq(f.worker.c("id"))),
    ));
    let sql = "WITH rich AS (SELECT resume.worker_id FROM resume WHERE resume.compensation >= ?) \
               SELECT worker.name FROM worker WHERE EXISTS (SELECT rich.worker_id FROM rich \
               WHERE rich.worker_id = worker.id)";
    check(&in_exists, &sql.replace('?', "$1"), sql, sql, &[i(1000)]);
}

#[test]
fn recursive_cte() {
    let anchor = select((literal(1).label("n"),));
    let nums = anchor.cte_recursive("nums");
    let nums = nums.union_all(select(((nums.c("n") + 1).label("n"),)).where_(nums.c("n").lt(10)));
    let stmt = select((nums.c("n"),)).order_by([nums.c("n")]);
    check(
        &stmt,
        "WITH RECURSIVE nums(n) AS (SELECT $1 AS n UNION ALL SELECT nums.n + $2 AS n FROM nums \
         WHERE nums.n < $3) SELECT nums.n FROM nums ORDER BY nums.n",
        "WITH RECURSIVE nums(n) AS (SELECT ? AS n UNION ALL SELECT nums.n + ? AS n FROM nums \
         WHERE nums.n < ?) SELECT nums.n FROM nums ORDER BY nums.n",
        "WITH RECURSIVE nums(n) AS (SELECT ? AS n UNION ALL SELECT nums.n + ? AS n FROM nums \
         WHERE nums.n < ?) SELECT nums.n FROM nums ORDER BY nums.n",
        &[i(1), i(1), i(10)],
    );
}

#[test]
fn recursive_cte_over_a_table() {
    // Every ancestor of a tag, with a self-referencing table.
    let tag = dialects::Table::new("category")
        .column(dialects::Column::new("id", dialects::SqlType::Integer).primary_key())
        .column(dialects::Column::new(
            "parent_id",
            dialects::SqlType::Integer,
        ));
    let up = select((tag.c("id"), tag.c("parent_id")))
        .where_(tag.c("id").eq(7))
        .cte_recursive("up");
    let parent = tag.alias("p");
    let up = up.union(
        select((parent.c("id"), parent.c("parent_id")))
            .select_from(&parent)
            .join(&up, up.c("parent_id").eq(parent.c("id"))),
    );
    let stmt = select((up.c("id"),));
    let sql = "WITH RECURSIVE up(id, parent_id) AS (SELECT category.id, category.parent_id FROM category \
               WHERE category.id = ? UNION SELECT p.id, p.parent_id FROM category AS p \
               JOIN up ON up.parent_id = p.id) SELECT up.id FROM up";
    check(&stmt, &sql.replace('?', "$1"), sql, sql, &[i(7)]);
}

#[test]
fn recursive_cte_needs_named_columns() {
    let nums = select((literal(1),)).cte_recursive("nums");
    let nums = nums.union_all(select((literal(2),)));
    let stmt = select((star(),)).select_from(&nums);
    assert!(matches!(
        compile_err(&stmt, &Postgres),
        CompileError::Invalid(msg) if msg.contains("recursive CTE `nums`")
    ));
}

#[test]
fn set_operations() {
    let f = fixture();
    let a = || select((f.worker.c("name"),)).where_(f.worker.c("id").lt(10));
    let b = || select((f.publisher.c("name"),));
    for (compound, op) in [
        (union([a(), b()]), "UNION"),
        (union_all([a(), b()]), "UNION ALL"),
        (intersect([a(), b()]), "INTERSECT"),
        (except([a(), b()]), "EXCEPT"),
    ] {
        let stmt = compound.order_by([f.worker.c("name").desc()]).limit(5);
        let sql = format!(
            "SELECT worker.name FROM worker WHERE worker.id < ? {op} SELECT publisher.name FROM publisher \
             ORDER BY name DESC LIMIT ?"
        );
        check(
            &stmt,
            &sql.replacen('?', "$1", 1).replacen('?', "$2", 1),
            &sql,
            &sql,
            &[i(10), big(5)],
        );
    }
    // One select is that select; none is an error.
    check(
        &union([a()]),
        "SELECT worker.name FROM worker WHERE worker.id < $1",
        "SELECT worker.name FROM worker WHERE worker.id < ?",
        "SELECT worker.name FROM worker WHERE worker.id < ?",
        &[i(10)],
    );
    assert!(matches!(
        compile_err(&union(Vec::<dialects::Select>::new()), &Postgres),
        CompileError::Invalid(_)
    ));
    // Method chains read as the SQL does.
    let chained = a().union_all(b()).except(a());
    check_one(
        &chained,
        &Sqlite,
        "SELECT worker.name FROM worker WHERE worker.id < ? UNION ALL SELECT publisher.name FROM publisher \
         EXCEPT SELECT worker.name FROM worker WHERE worker.id < ?",
        &[i(10), i(10)],
    );
}

#[test]
fn set_operation_members_with_their_own_limit_are_wrapped() {
    let f = fixture();
    let top = select((f.worker.c("name"),))
        .order_by([f.worker.c("id").desc()])
        .limit(3);
    let stmt = union_all([top, select((f.publisher.c("name"),))]);
    let sql =
        "SELECT * FROM (SELECT worker.name FROM worker ORDER BY worker.id DESC LIMIT ?) AS anon \
               UNION ALL SELECT publisher.name FROM publisher";
    check(&stmt, &sql.replace('?', "$1"), sql, sql, &[big(3)]);
}

#[test]
fn auto_correlation_leaves_the_enclosing_table_out() {
    let f = fixture();
    let top_pay = select((func::max(f.resume.c("compensation")),))
        .where_(f.resume.c("worker_id").eq(f.worker.c("id")))
        .scalar_subquery();
    let stmt = select((f.worker.c("name"), top_pay.label("top_pay"))).where_(
        f.worker
            .c("id")
            .in_select(select((f.resume.c("worker_id"),))),
    );
    check(
        &stmt,
        "SELECT worker.name, (SELECT max(resume.compensation) FROM resume WHERE resume.worker_id = worker.id) \
         AS top_pay FROM worker WHERE worker.id IN (SELECT resume.worker_id FROM resume)",
        "SELECT worker.name, (SELECT max(resume.compensation) FROM resume WHERE resume.worker_id = worker.id) \
         AS top_pay FROM worker WHERE worker.id IN (SELECT resume.worker_id FROM resume)",
        "SELECT worker.name, (SELECT max(resume.compensation) FROM resume WHERE resume.worker_id = worker.id) \
         AS top_pay FROM worker WHERE worker.id IN (SELECT resume.worker_id FROM resume)",
        &[],
    );
}

#[test]
fn auto_correlation_through_aliases_and_nested_levels() {
    let f = fixture();
    let r = f.resume.alias("r");
    let r2 = f.resume.alias("r2");
    // r2 rows of the same worker paid more than r; nested twice.
    let inner = select((r2.c("id"),))
        .where_(r2.c("worker_id").eq(f.worker.c("id")))
        .where_(r2.c("compensation").gt(r.c("compensation")));
    let middle = select((r.c("id"),))
        .where_(r.c("worker_id").eq(f.worker.c("id")))
        .where_(!exists(inner));
    let stmt = select((f.worker.c("name"),)).where_(exists(middle));
    let sql = "SELECT worker.name FROM worker WHERE EXISTS (SELECT r.id FROM resume AS r \
               WHERE r.worker_id = worker.id AND NOT EXISTS (SELECT r2.id FROM resume AS r2 \
               WHERE r2.worker_id = worker.id AND r2.compensation > r.compensation))";
    check(&stmt, sql, sql, sql, &[]);
}

#[test]
fn explicit_correlate_and_correlate_none() {
    let f = fixture();
    // One FROM source only: auto-correlation would keep it; correlate() drops it.
    let name_again = select((f.worker.c("name"),))
        .where_(f.worker.c("id").eq(f.resume.c("worker_id")))
        .correlate(&f.resume)
        .scalar_subquery()
        .label("worker_name");
    let stmt = select((f.resume.c("title"), name_again));
    let sql =
        "SELECT resume.title, (SELECT worker.name FROM worker WHERE worker.id = resume.worker_id) \
               AS worker_name FROM resume";
    check(&stmt, sql, sql, sql, &[]);

    let uncorrelated = select((func::count_star(),))
        .select_from(&f.resume)
        .where_(f.resume.c("worker_id").eq(f.worker.c("id")))
        .correlate_none()
        .scalar_subquery()
        .label("n");
    let stmt = select((f.worker.c("name"), uncorrelated));
    let sql = "SELECT worker.name, (SELECT count(*) FROM resume, worker WHERE resume.worker_id = worker.id) \
               AS n FROM worker";
    check(&stmt, sql, sql, sql, &[]);

    // Compiled on its own, a correlate()d select keeps its whole FROM.
    let alone = select((f.worker.c("name"),))
        .where_(f.worker.c("id").eq(f.resume.c("worker_id")))
        .correlate(&f.resume);
    let sql = "SELECT worker.name FROM worker, resume WHERE worker.id = resume.worker_id";
    check(&alone, sql, sql, sql, &[]);
}

#[test]
fn auto_correlating_every_from_away_is_an_error() {
    let f = fixture();
    let sub = select((f.worker.c("id"),))
        .where_(f.worker.c("id").eq(f.resume.c("worker_id")))
        .scalar_subquery();
    let stmt = select((f.worker.c("name"), f.resume.c("title"))).where_(f.worker.c("id").eq(sub));
    assert!(matches!(
        compile_err(&stmt, &Postgres),
        CompileError::Invalid(msg) if msg.contains("auto-correlation")
    ));
}

#[test]
fn derived_tables_do_not_correlate() {
    let f = fixture();
    let sq = select((f.resume.c("worker_id"), f.worker.c("name")))
        .where_(f.resume.c("worker_id").eq(f.worker.c("id")))
        .subquery("sq");
    let stmt =
        select((f.worker.c("id"), sq.c("name"))).join(&sq, sq.c("worker_id").eq(f.worker.c("id")));
    let sql = "SELECT worker.id, sq.name FROM worker JOIN (SELECT resume.worker_id, worker.name \
               FROM resume, worker WHERE resume.worker_id = worker.id) AS sq ON sq.worker_id = worker.id";
    check(&stmt, sql, sql, sql, &[]);
}
