//! The compiler's property test: random statements over the seed's
//! tables (`dialects::fixtures::random`), compiled for every dialect,
//! never panic, compile the same way twice, and carry exactly one
//! parameter per placeholder. (The integration tests run the same
//! statements on the three servers and count syntax errors.)

use dialects::fixtures::{random::random_select, seed};
use dialects::{Compiled, Dialect, MySql, Postgres, Sqlite};
use proptest::prelude::*;

/// The `?` placeholders outside quoted strings and identifiers.
fn question_marks(sql: &str) -> usize {
    let mut quote: Option<char> = None;
    let mut n = 0;
    for c in sql.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '\'' | '"' | '`') => quote = Some(c),
            None if c == '?' => n += 1,
            None => {}
        }
    }
    n
}

/// The `$n` placeholders outside quoted strings, as numbers.
fn dollar_numbers(sql: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '\'' | '"') => quote = Some(c),
            None if c == '$' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                out.push(digits.parse().expect("a number after $"));
            }
            None => {}
        }
    }
    out
}

fn check_placeholders(d: &dyn Dialect, c: &Compiled) -> Result<(), TestCaseError> {
    let n = c.params.len();
    if d.name() == "postgresql" {
        let mut used = dollar_numbers(&c.sql);
        used.sort_unstable();
        used.dedup();
        prop_assert_eq!(used, (1..=n).collect::<Vec<_>>(), "{}", c.sql);
    } else {
        prop_assert_eq!(question_marks(&c.sql), n, "{}", c.sql);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_selects_compile_with_one_parameter_per_placeholder(seed_value in any::<u64>()) {
        let tables = seed();
        let stmt = random_select(seed_value, &tables);
        for d in [&Postgres as &dyn Dialect, &Sqlite, &MySql::mysql8(), &MySql::mariadb()] {
            let first = stmt.compile(d);
            let again = stmt.compile(d);
            prop_assert_eq!(&first, &again);
            if let Ok(c) = first {
                check_placeholders(d, &c)?;
            }
        }
    }
}

/// Most random statements compile on every dialect: the generator is not
/// producing only what the compiler refuses.
#[test]
fn most_random_selects_compile() {
    let tables = seed();
    for d in [
        &Postgres as &dyn Dialect,
        &Sqlite,
        &MySql::mysql8(),
        &MySql::mariadb(),
    ] {
        let ok = (0..500u64)
            .filter(|s| random_select(*s, &tables).compile(d).is_ok())
            .count();
        assert!(ok >= 400, "{}: only {ok} of 500 compile", d.name());
    }
}
