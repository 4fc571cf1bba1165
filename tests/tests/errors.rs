//! Database errors on every backend: each failure lands in its DBAPI family
//! (`ErrorKind`), names the compiled SQL and carries the bound values,
//! which an engine option redacts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use persistence::dialects::{
    column, insert, select, text, CheckConstraint, Column, Compiled, MetaData, SqlType, Statement,
    Table, Value,
};
use persistence::{Connection, Error, ErrorKind, IntegrityKind, SchemaExt};
use tests::{on_all_backends, TestBackend, TestDb};

/// account <- entry.
fn bank_metadata() -> (MetaData, Table, Table) {
    let mut metadata = MetaData::new();
    let account = metadata.add(
        Table::new("account")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(
                Column::new("email", SqlType::string(32))
                    .not_null()
                    .unique(),
            )
            .column(Column::new("balance", SqlType::Integer).not_null())
            .column(Column::new("age", SqlType::SmallInteger).nullable(true))
            .check(CheckConstraint::new(column("balance").ge(0)).named("ck_account_balance")),
    );
    let entry = metadata.add(
        Table::new("entry")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(
                Column::new("account_id", SqlType::Integer)
                    .not_null()
                    .foreign_key("account.id"),
            )
            .column(Column::new("amount", SqlType::Integer).not_null()),
    );
    (metadata, account, entry)
}

async fn setup(db: &TestDb) -> (Connection, Table, Table) {
    let (metadata, account, entry) = bank_metadata();
    let mut conn = db.engine.connect().await.unwrap();
    metadata.create_all(&mut conn).await.unwrap();
    (conn, account, entry)
}

fn account_row(email: &str, balance: i32) -> [(&'static str, Value); 2] {
    [
        ("email", Value::from(email)),
        ("balance", Value::Int(balance)),
    ]
}

/// Runs `stmt`, which must fail with a database error of `kind` that names
/// the compiled SQL and its parameters; returns the error.
async fn expect_failure<S: Statement>(
    db: &TestDb,
    conn: &mut Connection,
    stmt: &S,
    kind: ErrorKind,
) -> Error {
    // What the connection sends (with RETURNING of a generated key on
    // PostgreSQL, for `inserted_primary_key`).
    let compiled: Compiled = conn.compile(stmt).unwrap();
    let err = conn
        .execute(stmt)
        .await
        .expect_err(&format!("{} should fail", compiled.sql));
    match &err {
        Error::Database {
            kind: found,
            code,
            message,
            sql,
            params,
            ..
        } => {
            assert_eq!(
                *found, kind,
                "{:?}: code {code:?}, message {message:?} for {sql}",
                db.backend
            );
            assert!(code.is_some(), "no code in {err:?}");
            assert_eq!(sql, &compiled.sql);
            assert_eq!(params.as_ref(), Some(&compiled.params));
        }
        other => panic!("expected a database error of kind {kind:?}, got {other:?}"),
    }
    assert_eq!(err.kind(), Some(kind));
    assert_eq!(err.is_integrity(), matches!(kind, ErrorKind::Integrity(_)));
    // A failed statement leaves PostgreSQL's transaction aborted: roll
    // back (what the test committed before stays).
    conn.rollback().await.unwrap();
    err
}

async fn unique_violation(db: TestDb) {
    let (mut conn, account, _) = setup(&db).await;
    let row = account_row("ann@example.com", 10);
    conn.execute(&insert(&account).values(row.clone()))
        .await
        .unwrap();
    conn.commit().await.unwrap();
    let stmt = insert(&account).values(row);
    let err = expect_failure(
        &db,
        &mut conn,
        &stmt,
        ErrorKind::Integrity(IntegrityKind::Unique),
    )
    .await;
    // Without redaction the message names the values.
    let shown = err.to_string();
    assert!(shown.contains("[SQL: "), "{shown}");
    assert!(shown.contains("ann@example.com"), "{shown}");
    assert!(
        !err.is_retryable(),
        "a constraint violation is not retryable"
    );

    // The primary key is a unique constraint too.
    let stmt = insert(&account).values([
        ("id", Value::Int(1)),
        ("email", Value::from("bob@example.com")),
        ("balance", Value::Int(0)),
    ]);
    expect_failure(
        &db,
        &mut conn,
        &stmt,
        ErrorKind::Integrity(IntegrityKind::Unique),
    )
    .await;
    drop(conn);
    db.close().await;
}

async fn foreign_key_violation(db: TestDb) {
    let (mut conn, account, entry) = setup(&db).await;
    let fk = ErrorKind::Integrity(IntegrityKind::ForeignKey);
    // A child pointing nowhere.
    let orphan =
        insert(&entry).values([("account_id", Value::Int(999)), ("amount", Value::Int(5))]);
    expect_failure(&db, &mut conn, &orphan, fk).await;

    // Deleting a parent that still has children.
    conn.execute(&insert(&account).values(account_row("ann@example.com", 10)))
        .await
        .unwrap();
    let id = conn
        .execute(&select((account.c("id"),)))
        .await
        .unwrap()
        .scalar()
        .and_then(|v| v.as_i64())
        .unwrap();
    // An INT8 for the placeholder that `999` above, an INT4, prepared: the
    // PostgreSQL driver converts it to the statement's type (sqlx's cache
    // keeps a SQL text's first parameter types; sqlx issue #2885).
    conn.execute(
        &insert(&entry).values([("account_id", Value::BigInt(id)), ("amount", Value::Int(5))]),
    )
    .await
    .unwrap();
    conn.commit().await.unwrap();
    let delete = persistence::dialects::delete(&account).where_(account.c("id").eq(id));
    expect_failure(&db, &mut conn, &delete, fk).await;
    drop(conn);
    db.close().await;
}

async fn not_null_violation(db: TestDb) {
    let (mut conn, account, _) = setup(&db).await;
    let not_null = ErrorKind::Integrity(IntegrityKind::NotNull);
    // An explicit NULL.
    let stmt = insert(&account).values([("email", Value::Null), ("balance", Value::Int(1))]);
    expect_failure(&db, &mut conn, &stmt, not_null).await;
    // A NOT NULL column left out (MySQL: 1364 "doesn't have a default value").
    let stmt = insert(&account).values([("email", Value::from("ann@example.com"))]);
    expect_failure(&db, &mut conn, &stmt, not_null).await;
    drop(conn);
    db.close().await;
}

async fn check_violation(db: TestDb) {
    let (mut conn, account, _) = setup(&db).await;
    // MariaDB reports its own number (4025, SQLSTATE 23000), MySQL 3819.
    let stmt = insert(&account).values(account_row("ann@example.com", -1));
    let err = expect_failure(
        &db,
        &mut conn,
        &stmt,
        ErrorKind::Integrity(IntegrityKind::Check),
    )
    .await;
    if db.backend != TestBackend::Sqlite {
        // SQLite's message names the constraint too ("CHECK constraint
        // failed: ck_account_balance") from 3.38 on; servers always do.
        assert!(err.to_string().contains("ck_account_balance"), "{err}");
    }
    drop(conn);
    db.close().await;
}

async fn data_error_value_too_long(db: TestDb) {
    let (mut conn, account, _) = setup(&db).await;
    let long = "a-very-long-address-for-32-chars@example.com";
    let stmt = insert(&account).values(account_row(long, 1));
    if db.backend == TestBackend::Sqlite {
        // SQLite does not enforce VARCHAR(n): the value is stored whole.
        conn.execute(&stmt).await.unwrap();
        let stored: String = conn
            .execute(&select((account.c("email"),)))
            .await
            .unwrap()
            .one()
            .unwrap()
            .get(0)
            .unwrap();
        assert_eq!(stored, long);
    } else {
        // PostgreSQL 22001; MariaDB 1406 (22001) in strict mode.
        expect_failure(&db, &mut conn, &stmt, ErrorKind::Data).await;
    }
    drop(conn);
    db.close().await;
}

async fn data_error_out_of_range(db: TestDb) {
    let (mut conn, account, _) = setup(&db).await;
    let stmt = insert(&account).values([
        ("email", Value::from("ann@example.com")),
        ("balance", Value::Int(1)),
        ("age", Value::Int(100_000)),
    ]);
    if db.backend == TestBackend::Sqlite {
        // SQLite's SMALLINT is any integer: stored as given.
        conn.execute(&stmt).await.unwrap();
        let age = conn
            .execute(&select((account.c("age"),)))
            .await
            .unwrap()
            .scalar()
            .and_then(|v| v.as_i64());
        assert_eq!(age, Some(100_000));
        // What SQLite does report as data errors: a non-integer for the
        // rowid alias (SQLITE_MISMATCH) and a blob over its size limit
        // (SQLITE_TOOBIG).
        let mismatch = text("INSERT INTO account (id, email, balance) VALUES (:id, :email, 0)")
            .bind("id", "abc")
            .bind("email", "bob@example.com");
        expect_failure(&db, &mut conn, &mismatch, ErrorKind::Data).await;
        let too_big = text("SELECT zeroblob(:n)").bind("n", 2_000_000_000_i64);
        expect_failure(&db, &mut conn, &too_big, ErrorKind::Data).await;
    } else {
        // PostgreSQL 22003 "smallint out of range"; MariaDB 1264 (22003).
        expect_failure(&db, &mut conn, &stmt, ErrorKind::Data).await;
    }
    drop(conn);
    db.close().await;
}

/// Text that is not a number, for an integer column: PostgreSQL 22P02,
/// MariaDB 1366 (22007; MySQL 8 says HY000), SQLite in a STRICT table
/// `SQLITE_CONSTRAINT_DATATYPE` (3091).
async fn data_error_not_a_number(db: TestDb) {
    let (mut conn, _, _) = setup(&db).await;
    let stmt = match db.backend {
        // A text parameter straight into an integer column would be a type
        // error of the statement (42804) on PostgreSQL; the cast makes it a
        // bad value.
        TestBackend::Postgres => text(
            "INSERT INTO account (email, balance) VALUES (:email, CAST(:balance AS INTEGER))",
        ),
        TestBackend::MySql => text("INSERT INTO account (email, balance) VALUES (:email, :balance)"),
        TestBackend::Sqlite => {
            conn.execute(&text(
                "CREATE TABLE strict_account (email TEXT NOT NULL, balance INTEGER NOT NULL) STRICT",
            ))
            .await
            .unwrap();
            text("INSERT INTO strict_account (email, balance) VALUES (:email, :balance)")
        }
    }
    .bind("email", "ann@example.com")
    .bind("balance", "abc");
    expect_failure(&db, &mut conn, &stmt, ErrorKind::Data).await;
    drop(conn);
    db.close().await;
}

async fn programming_error(db: TestDb) {
    let (mut conn, account, _) = setup(&db).await;
    // Syntax.
    let err = expect_failure(&db, &mut conn, &text("SELEC 1"), ErrorKind::Programming).await;
    assert!(err.to_string().contains("[SQL: SELEC 1]"), "{err}");
    // A table that was never created.
    let ghost = Table::new("ghost").column(Column::new("id", SqlType::Integer).primary_key());
    let stmt = select((ghost.c("id"),)).where_(ghost.c("id").eq(7));
    expect_failure(&db, &mut conn, &stmt, ErrorKind::Programming).await;
    // A column that does not exist.
    let stmt = text("SELECT nope FROM account WHERE id = :id").bind("id", 1);
    expect_failure(&db, &mut conn, &stmt, ErrorKind::Programming).await;
    // The connection is still usable after all that.
    let n = conn
        .execute(&select((account.c("id"),)))
        .await
        .unwrap()
        .len();
    assert_eq!(n, 0);
    drop(conn);
    db.close().await;
}

on_all_backends!(
    unique_violation,
    foreign_key_violation,
    not_null_violation,
    check_violation,
    data_error_value_too_long,
    data_error_out_of_range,
    data_error_not_a_number,
    programming_error,
);

/// Checks a failure on an engine built with `redact_params(true)`:
/// `params` is `None` and `secret` appears nowhere in the error's text.
/// (The kinds are checked by the tests above.)
async fn expect_redacted<S: Statement>(db: &TestDb, conn: &mut Connection, stmt: &S, secret: &str) {
    let err = conn.execute(stmt).await.unwrap_err();
    let Error::Database { params, sql, .. } = &err else {
        panic!("expected a database error, got {err:?}");
    };
    assert_eq!(*params, None);
    assert_eq!(sql, &conn.compile(stmt).unwrap().sql);
    conn.rollback().await.unwrap();
    let shown = err.to_string();
    assert!(shown.contains("[parameters redacted]"), "{shown}");
    assert!(
        !shown.contains(secret),
        "{:?}: the redacted error shows the value: {shown}",
        db.backend
    );
    let debug = format!("{err:?}");
    assert!(
        !debug.contains(secret),
        "{:?}: the redacted error's Debug shows the value: {debug}",
        db.backend
    );
}

/// A duplicate of a secret value (MySQL and MariaDB quote the duplicate
/// entry in their message).
async fn redacts_unique_violation(db: TestDb) {
    assert!(db.engine.options().redact_params);
    let (mut conn, account, _) = setup(&db).await;
    let secret = "s3cret.person@example.com";
    conn.execute(&insert(&account).values(account_row(secret, 1)))
        .await
        .unwrap();
    conn.commit().await.unwrap();
    let stmt = insert(&account).values(account_row(secret, 1));
    expect_redacted(&db, &mut conn, &stmt, secret).await;
    drop(conn);
    db.close().await;
}

/// A secret that is not a number (PostgreSQL quotes it in "invalid input
/// syntax", MariaDB in "Incorrect integer value").
async fn redacts_bad_value(db: TestDb) {
    let (mut conn, _, _) = setup(&db).await;
    let secret = "s3cret-token-4711";
    let stmt = match db.backend {
        TestBackend::Postgres => text(
            "INSERT INTO account (email, balance) VALUES (:email, CAST(:balance AS INTEGER))",
        ),
        TestBackend::MySql => text("INSERT INTO account (email, balance) VALUES (:email, :balance)"),
        TestBackend::Sqlite => {
            conn.execute(&text(
                "CREATE TABLE strict_account (email TEXT NOT NULL, balance INTEGER NOT NULL) STRICT",
            ))
            .await
            .unwrap();
            text("INSERT INTO strict_account (email, balance) VALUES (:email, :balance)")
        }
    }
    .bind("email", "ann@example.com")
    .bind("balance", secret);
    expect_redacted(&db, &mut conn, &stmt, secret).await;
    drop(conn);
    db.close().await;
}

/// [`on_all_backends!`] on engines that redact parameters.
macro_rules! on_all_backends_redacted {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            fn options() -> persistence::EngineOptions {
                persistence::EngineOptions::default().redact_params(true)
            }
            #[tokio::test]
            async fn sqlite() {
                super::$name(tests::TestDb::with_options(tests::TestBackend::Sqlite, stringify!($name), options()).await).await;
            }
            #[tokio::test]
            async fn postgres() {
                super::$name(tests::TestDb::with_options(tests::TestBackend::Postgres, stringify!($name), options()).await).await;
            }
            #[tokio::test]
            async fn mysql() {
                super::$name(tests::TestDb::with_options(tests::TestBackend::MySql, stringify!($name), options()).await).await;
            }
        }
    )+};
}

on_all_backends_redacted!(redacts_unique_violation, redacts_bad_value);

/// The constraint, table and column a violation concerns, where the
/// backend reports them (PostgreSQL in fields of its own, MySQL, MariaDB
/// and SQLite in their messages).
async fn errors_name_constraint_table_and_column(db: TestDb) {
    let (mut conn, account, entry) = setup(&db).await;
    conn.execute(&insert(&account).values(account_row("ann@example.com", 1)))
        .await
        .unwrap();
    conn.commit().await.unwrap();
    let named = |e: &Error| {
        (
            e.constraint().map(str::to_owned),
            e.table().map(str::to_owned),
            e.column().map(str::to_owned),
        )
    };
    let some = |s: &str| Some(s.to_owned());
    // Each failure ends its transaction (PostgreSQL refuses anything else
    // in it): roll back before the next.
    let unique = conn
        .execute(&insert(&account).values(account_row("ann@example.com", 1)))
        .await
        .unwrap_err();
    conn.rollback().await.unwrap();
    let foreign = conn
        .execute(
            &insert(&entry).values([("account_id", Value::Int(999)), ("amount", Value::Int(1))]),
        )
        .await
        .unwrap_err();
    conn.rollback().await.unwrap();
    let not_null = conn
        .execute(&insert(&account).values([("email", Value::Null), ("balance", Value::Int(1))]))
        .await
        .unwrap_err();
    conn.rollback().await.unwrap();
    let check = conn
        .execute(&insert(&account).values(account_row("neg@example.com", -5)))
        .await
        .unwrap_err();
    conn.rollback().await.unwrap();
    let found = [
        named(&unique),
        named(&foreign),
        named(&not_null),
        named(&check),
    ];
    let expected = match db.backend {
        TestBackend::Postgres => [
            (some("account_email_key"), some("account"), None),
            (some("entry_account_id_fkey"), some("entry"), None),
            (None, some("account"), some("email")),
            (some("ck_account_balance"), some("account"), None),
        ],
        TestBackend::MySql => [
            (some("email"), None, None),
            (some("entry_ibfk_1"), some("entry"), some("account_id")),
            (None, None, some("email")),
            (some("ck_account_balance"), some("account"), None),
        ],
        TestBackend::Sqlite => [
            (None, some("account"), some("email")),
            (None, None, None),
            (None, some("account"), some("email")),
            (some("ck_account_balance"), None, None),
        ],
    };
    assert_eq!(found, expected, "{:?}", db.backend);
    // The error's text (the next link of its source chain) names them too.
    let detail = std::error::Error::source(&unique)
        .expect("a source")
        .to_string();
    for name in expected[0].0.iter().chain(&expected[0].1) {
        assert!(detail.contains(name.as_str()), "{detail}");
    }
    assert!(!unique.connection_invalidated() && !unique.is_conflict());
    drop(conn);
    db.close().await;
}

/// Errors chain to the driver's error through their detail (kept only
/// when parameters are not redacted: it quotes values).
async fn errors_chain_to_the_driver_error(db: TestDb) {
    let (mut conn, account, _) = setup(&db).await;
    conn.execute(&insert(&account).values(account_row("ann@example.com", 1)))
        .await
        .unwrap();
    let err = conn
        .execute(&insert(&account).values(account_row("ann@example.com", 1)))
        .await
        .unwrap_err();
    let detail = std::error::Error::source(&err).expect("the detail");
    let driver = detail.source().expect("the driver's error");
    // The driver's own error (sqlx's "error returned from database: ...",
    // rusqlite's SQLite message) repeats what the database said.
    let Error::Database { message, .. } = &err else {
        panic!("not a database error: {err:?}")
    };
    assert!(driver.to_string().contains(message.as_str()), "{driver}");

    drop(conn);
    db.close().await;
}

on_all_backends!(
    errors_name_constraint_table_and_column,
    errors_chain_to_the_driver_error
);

/// A plain struct for the bulk tests.
#[derive(Debug, Clone, PartialEq)]
struct Person {
    id: Option<i64>,
    email: String,
    note: String,
}

fn people() -> persistence::orm::Mappers {
    let mut registry = persistence::orm::Registry::new();
    let person = Table::new("person")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(
            Column::new("email", SqlType::string(64))
                .not_null()
                .unique(),
        )
        .column(Column::new("note", SqlType::string(200)).not_null());
    registry
        .map_imperatively(
            &person,
            persistence::mapping!(Person {
                id: Option<i64> = "id",
                email: String = "email",
                note: String = "note",
            }),
        )
        .finish();
    registry.configure().unwrap()
}

/// Flushes 10,000 new people, one of them a duplicate of a stored one, and
/// returns the commit's error.
async fn failed_bulk_flush(db: &TestDb) -> Error {
    let mappers = people();
    let mut conn = db.engine.connect().await.unwrap();
    mappers.metadata().create_all(&mut conn).await.unwrap();
    conn.execute(&text(
        "INSERT INTO person (email, note) VALUES ('person-4242@example.com', 'first')",
    ))
    .await
    .unwrap();
    conn.commit().await.unwrap();
    drop(conn);
    let sessions = persistence::orm::SessionMaker::new(db.engine.clone(), mappers);
    let mut session = sessions.session();
    let mut all: Vec<Person> = (0..10_000)
        .map(|i| Person {
            id: None,
            email: format!("person-{i}@example.com"),
            note: format!("private note {i}"),
        })
        .collect();
    // New rows need their generated keys: `add_all` flushes at once.
    let err = session.add_all(all.iter_mut()).await.unwrap_err();
    session.rollback().await.unwrap();
    drop(session);
    err
}

/// The error of a failed 10,000-row flush is a few hundred bytes: the SQL
/// is cut and ten parameters are shown; the fields keep everything.
async fn failed_bulk_flush_error_is_small(db: TestDb) {
    let err = failed_bulk_flush(&db).await;
    let shown = err.to_string();
    assert!(shown.len() < 3_000, "{} bytes: {shown}", shown.len());
    assert!(shown.contains("more characters)"), "{shown}");
    assert!(shown.contains("more]"), "{shown}");
    let Error::Database { sql, params, .. } = &err else {
        panic!("{err:?}");
    };
    let params = params.as_ref().expect("parameters kept");
    assert!(params.len() >= 3_000, "{}", params.len());
    assert!(sql.len() > shown.len());
    assert!(
        format!("{err:?}").len() > 10 * shown.len(),
        "Debug keeps the data"
    );
    // A domain error carries no bound value, redaction or not.
    let domain = persistence::repository::to_domain(err);
    let text = domain.to_string();
    assert!(
        matches!(domain, domain::DomainError::Conflict(_)),
        "{domain:?}"
    );
    assert!(text.len() < 2_000, "{text}");
    assert!(!text.contains("private note"), "{text}");
    assert!(!text.contains("person-4242"), "{text}");
    db.close().await;
}

/// The same with redaction: no value anywhere in the text or Debug.
async fn failed_bulk_flush_error_is_redacted(db: TestDb) {
    let err = failed_bulk_flush(&db).await;
    let shown = err.to_string();
    let debug = format!("{err:?}");
    assert!(shown.len() < 3_000, "{} bytes: {shown}", shown.len());
    for text in [&shown, &debug] {
        assert!(!text.contains("private note"), "{text}");
        assert!(!text.contains("person-4242"), "{text}");
    }
    assert!(shown.contains("[parameters redacted]"), "{shown}");
    db.close().await;
}

on_all_backends!(failed_bulk_flush_error_is_small);
on_all_backends_redacted!(failed_bulk_flush_error_is_redacted);
