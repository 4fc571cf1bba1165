//! Deferred `BEGIN` for plain reads on PostgreSQL at `READ COMMITTED`.
//!
//! A transaction begun by autobegin (a [`Connection`](super::Connection)'s
//! first statement, or an ORM session's) whose statements so far are all
//! plain reads has not sent its `BEGIN` yet: those reads run on their own,
//! and `BEGIN` goes out before the first statement that is not one. A
//! commit or rollback of a transaction that only read sends nothing. A
//! one-row select and its commit are then one round trip instead of three.
//!
//! Why that is the same transaction, observably:
//! - At `READ COMMITTED` every statement of a transaction reads a snapshot
//!   taken when that statement starts, and the transaction has written
//!   nothing before its first write. A read before `BEGIN` returns the
//!   rows it would have returned inside the transaction.
//! - A plain read changes nothing the commit or rollback would keep or
//!   undo: no locking clause (`FOR UPDATE` / `FOR SHARE`), no `INTO`, no
//!   function call (a function may write or change a setting), a single
//!   `SELECT` (no `WITH`, whose parts may be data-modifying). What it does
//!   not hold is the `ACCESS SHARE` lock on its tables between its end and
//!   `BEGIN`: DDL of another connection may run in between, as it may
//!   between two transactions.
//!
//! It applies only where that argument holds: PostgreSQL, no isolation
//! level configured other than `READ COMMITTED`, a server whose
//! `default_transaction_isolation` was `read committed` when the connection
//! opened, and no statement since on that connection that could have
//! changed it (a text statement other than a plain read, such as `SET`,
//! or a query or DML statement calling a function other than a few
//! built-ins that change no setting, such as `set_config`, turns it off
//! for the connection's life; schema statements change no setting). The check is on the SQL text as this
//! crate's compiler writes it, and conservative: anything it does not
//! recognise is not a plain read. (A view or row-security policy whose
//! functions write is not seen in the text; such a read runs before
//! `BEGIN` too.)

/// What the scan of one statement's SQL found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Scan {
    /// One `SELECT` without a locking clause, `INTO`, or function call.
    pub(crate) plain_read: bool,
    /// One `SELECT` without a locking clause or `INTO` (function calls
    /// allowed).
    pub(crate) select: bool,
    /// It may call a function (a name followed by `(`).
    pub(crate) calls_function: bool,
    /// It may call a function other than the built-ins of [`SETTLED`]
    /// (which change no setting).
    pub(crate) calls_other_function: bool,
}

/// Built-in functions that change no setting (what the engine's own
/// catalog queries and common expressions call), unqualified or in
/// `pg_catalog`.
const SETTLED: &[&str] = &[
    "current_schema",
    "current_database",
    "current_user",
    "format_type",
    "pg_get_expr",
    "pg_get_constraintdef",
    "pg_get_indexdef",
    "pg_get_serial_sequence",
    "col_description",
    "obj_description",
    "pg_table_is_visible",
    "array_agg",
    "string_agg",
    "array_position",
    "unnest",
    "generate_subscripts",
    "quote_ident",
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "coalesce",
    "lower",
    "upper",
    "length",
    "now",
    "row_number",
    "rank",
    "dense_rank",
    "lag",
    "lead",
    "concat",
    "extract",
    "cast",
    "nullif",
    "greatest",
    "least",
    "abs",
    "round",
];

/// Words after which `(` opens a list or a subquery, not a call.
const NOT_CALLS: &[&str] = &[
    "IN",
    "EXISTS",
    "ANY",
    "ALL",
    "SOME",
    "AND",
    "OR",
    "NOT",
    "ON",
    "FROM",
    "JOIN",
    "WHERE",
    "SELECT",
    "AS",
    "BY",
    "HAVING",
    "VALUES",
    "WHEN",
    "THEN",
    "ELSE",
    "USING",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "DISTINCT",
    "LIMIT",
    "OFFSET",
    "IS",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "SET",
    "RETURNING",
    "INTO",
];

/// The last token the scan saw, as far as telling a call apart matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    /// The start, a literal, a placeholder, an operator or a comma.
    Other,
    /// A bare word: a keyword or a name.
    Word(&'a str),
    /// A `"quoted"` name.
    Quoted,
    /// The `.` of a qualified name.
    Dot,
}

impl Tok<'_> {
    fn is_word(self, keyword: &str) -> bool {
        matches!(self, Tok::Word(w) if w.eq_ignore_ascii_case(keyword))
    }
}

/// The end of the quoted text that starts at `bytes[i]` (a doubled quote
/// escapes one).
fn skip_quoted(bytes: &[u8], mut i: usize) -> usize {
    let quote = bytes.get(i).copied();
    i += 1;
    while let Some(&c) = bytes.get(i) {
        if Some(c) == quote {
            if bytes.get(i + 1).copied() == quote {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    i
}

/// Scans `sql` (PostgreSQL text: `'...'` literals, `"..."` names, `$n`
/// placeholders).
pub(crate) fn scan(sql: &str) -> Scan {
    let bytes = sql.as_bytes();
    let mut i = 0;
    let mut first: Option<Tok> = None;
    let mut last = Tok::Other;
    // The token before the (possibly qualified) name being read.
    let mut before_name = Tok::Other;
    let mut calls_function = false;
    let mut calls_other_function = false;
    // The qualifier of the name being read (`schema` of `schema.f`).
    let mut qualifier: Option<&str> = None;
    let mut writes = false;
    while let Some(&b) = bytes.get(i) {
        let tok = match b {
            b'\'' => {
                i = skip_quoted(bytes, i);
                Tok::Other
            }
            b'"' => {
                i = skip_quoted(bytes, i);
                Tok::Quoted
            }
            b'$' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i += 1;
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                Tok::Other
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = i;
                while bytes.get(i).is_some_and(|c| {
                    c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$' || *c >= 0x80
                }) {
                    i += 1;
                }
                let word = sql.get(start..i).unwrap_or("\u{fffd}");
                if word.eq_ignore_ascii_case("FOR") || word.eq_ignore_ascii_case("INTO") {
                    writes = true;
                }
                Tok::Word(word)
            }
            c if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'.' => {
                i += 1;
                Tok::Dot
            }
            b'(' => {
                let name = match last {
                    Tok::Word(w) => !NOT_CALLS.iter().any(|k| k.eq_ignore_ascii_case(w)),
                    Tok::Quoted => true,
                    Tok::Other | Tok::Dot => false,
                };
                // `INSERT INTO t (columns)` names columns.
                let call = name && !before_name.is_word("INTO");
                calls_function |= call;
                let settled = match last {
                    Tok::Word(w) => {
                        qualifier.is_none_or(|q| q.eq_ignore_ascii_case("pg_catalog"))
                            && SETTLED.iter().any(|k| k.eq_ignore_ascii_case(w))
                    }
                    _ => false,
                };
                calls_other_function |= call && !settled;
                i += 1;
                Tok::Other
            }
            b';' => {
                // More than one statement: nothing is plain.
                writes = true;
                i += 1;
                Tok::Other
            }
            _ => {
                i += 1;
                Tok::Other
            }
        };
        if matches!(tok, Tok::Word(_) | Tok::Quoted) && last != Tok::Dot {
            before_name = last;
            qualifier = None;
        }
        if tok == Tok::Dot {
            qualifier = match last {
                Tok::Word(w) => Some(w),
                _ => Some("\""),
            };
        }
        first.get_or_insert(tok);
        last = tok;
    }
    let select = first.is_some_and(|t| t.is_word("SELECT"));
    Scan {
        plain_read: select && !writes && !calls_function,
        select: select && !writes,
        calls_function,
        calls_other_function,
    }
}

#[cfg(test)]
mod tests {
    use super::scan;

    fn plain(sql: &str) -> bool {
        scan(sql).plain_read
    }

    #[test]
    fn selects_of_columns_lists_joins_and_subqueries_are_plain() {
        assert!(plain("SELECT t.id, t.name FROM t"));
        assert!(plain(
            "select t.id FROM t WHERE t.id = $1 ORDER BY t.id LIMIT $2"
        ));
        assert!(plain(
            "SELECT a.id FROM a LEFT OUTER JOIN b ON b.a_id = a.id"
        ));
        assert!(plain(
            "SELECT id FROM t WHERE id IN ($1, $2) AND (x = $3 OR y = $4)"
        ));
        assert!(plain("SELECT id FROM (SELECT id FROM t) AS anon_1"));
        assert!(plain(
            "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.t = t.id)"
        ));
        assert!(plain(
            "SELECT \"select\".\"for\" FROM \"select\" WHERE x = 'FOR UPDATE; f('"
        ));
        assert!(plain("SELECT id FROM t UNION SELECT id FROM u"));
    }

    #[test]
    fn calls_locks_into_ctes_and_writes_are_not() {
        assert!(!plain("SELECT nextval('s')"));
        assert!(!plain("SELECT count(*) FROM t"));
        assert!(!plain("SELECT \"f\"(1)"));
        assert!(!plain("SELECT id FROM t FOR UPDATE"));
        assert!(!plain("SELECT id FROM t FOR SHARE"));
        assert!(!plain("SELECT id INTO new_t FROM t"));
        assert!(!plain(
            "WITH x AS (DELETE FROM t RETURNING id) SELECT id FROM x"
        ));
        assert!(!plain("SELECT 1; DELETE FROM t"));
        assert!(!plain("INSERT INTO t (id) VALUES ($1)"));
        assert!(!plain("UPDATE t SET x = $1"));
        assert!(!plain("SET default_transaction_isolation = 'serializable'"));
        assert!(!plain(""));
    }

    #[test]
    fn function_calls_are_seen_in_any_statement() {
        assert!(scan("INSERT INTO t (x) VALUES (set_config('a', 'b', false))").calls_function);
        assert!(!scan("INSERT INTO t (id, x) VALUES ($1, $2) RETURNING t.id").calls_function);
        assert!(!scan("INSERT INTO s.\"t\" (id) VALUES ($1)").calls_function);
        assert!(scan("SELECT s.f($1)").calls_function);
        let catalog = "SELECT table_name FROM information_schema.tables \
                       WHERE table_schema = current_schema() AND table_name IN ($1)";
        assert!(scan(catalog).calls_function && !scan(catalog).calls_other_function);
        assert!(!scan("SELECT pg_catalog.count(x) FROM t").calls_other_function);
        assert!(scan("SELECT s.count(x) FROM t").calls_other_function);
        assert!(scan("SELECT set_config('a', 'b', false)").calls_other_function);
        assert!(scan("SELECT my_function()").calls_other_function);
        assert!(!scan("UPDATE t SET x = $1 WHERE t.id IN ($2)").calls_function);
        assert!(!scan("DELETE FROM t WHERE t.id = $1").calls_function);
    }
}
