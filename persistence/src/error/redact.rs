//! Keeping data out of error texts: bound values masked in server
//! messages, and long SQL and parameter lists cut to a readable size
//! (the full text stays in the error's fields).

use std::fmt::{self, Display, Write as _};

use dialects::Value;

/// At most this many characters of SQL are shown in an error's text.
pub(crate) const SQL_SHOWN: usize = 1_000;
/// At most this many characters of a server message are shown.
pub(crate) const MESSAGE_SHOWN: usize = 500;
/// At most this many parameters are shown.
pub(crate) const PARAMS_SHOWN: usize = 10;
/// At most this many characters of each parameter shown.
pub(crate) const PARAM_CHARS_SHOWN: usize = 60;

/// `text`, cut after `max` characters with a note saying how much was
/// left out.
///
/// `format!("{}", Bounded("abcdef", 3))` is `abc… (3 more characters)`.
pub(crate) struct Bounded<'a>(pub &'a str, pub usize);

impl Display for Bounded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Bounded(text, max) = *self;
        match text.char_indices().nth(max) {
            None => f.write_str(text),
            Some((cut, _)) => {
                let (shown, rest) = text.split_at(cut);
                let more = rest.chars().count();
                write!(f, "{shown}… ({more} more characters)")
            }
        }
    }
}

/// The first [`PARAMS_SHOWN`] of `params`, each cut to
/// [`PARAM_CHARS_SHOWN`] characters, and how many were left out.
pub(crate) struct ParamsPreview<'a>(pub &'a [Value]);

impl Display for ParamsPreview<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params = self.0;
        f.write_char('[')?;
        for (i, p) in params.iter().take(PARAMS_SHOWN).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            let mut text = Capped::new(PARAM_CHARS_SHOWN);
            // `Capped` never fails; it stops keeping text past its cap.
            let _ = write!(text, "{p:?}");
            f.write_str(&text.finish())?;
        }
        if params.len() > PARAMS_SHOWN {
            write!(f, ", … {} more", params.len() - PARAMS_SHOWN)?;
        }
        f.write_char(']')
    }
}

/// A `fmt::Write` that keeps the first `cap` characters written to it and
/// counts the rest (so a megabyte-long value costs no megabyte of text).
struct Capped {
    text: String,
    cap: usize,
    kept: usize,
    dropped: usize,
}

impl Capped {
    fn new(cap: usize) -> Self {
        Capped {
            text: String::new(),
            cap,
            kept: 0,
            dropped: 0,
        }
    }

    fn finish(mut self) -> String {
        if self.dropped > 0 {
            let _ = write!(self.text, "… ({} more characters)", self.dropped);
        }
        self.text
    }
}

impl fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.kept < self.cap {
                self.text.push(c);
                self.kept += 1;
            } else {
                self.dropped += 1;
            }
        }
        Ok(())
    }
}

/// The rows a PostgreSQL DETAIL line quotes: `Key (email)=(…)` and
/// `Failing row contains (…)`, masked whatever the bound values were.
pub(crate) fn redact_detail(detail: &str) -> String {
    let mut out = String::with_capacity(detail.len());
    let mut rest = detail;
    for marker in [")=(", "Failing row contains ("] {
        if let Some(at) = rest.find(marker) {
            let start = at + marker.len();
            if let Some(end) = rest.rfind(')').filter(|&e| e >= start) {
                out.push_str(rest.get(..start).unwrap_or(""));
                out.push_str("***");
                rest = rest.get(end..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of a database error's message with the bound values masked,
/// for engines that redact parameters.
///
/// Servers quote offending values in their messages: MySQL and MariaDB
/// write `Duplicate entry 'alice@example.com' for key 'email'` or
/// `Incorrect integer value: 'abc' for column ...`, PostgreSQL writes
/// `invalid input syntax for type integer: "abc"`. Each `'...'` or `"..."`
/// whose text is (or, for MySQL's composite `Duplicate entry 'a-b'`,
/// contains) the text of a bound value becomes `'***'`; identifiers such as
/// the key name stay. SQLite names columns, never values, and passes through.
pub(crate) fn redact_message(message: &str, params: &[Value]) -> String {
    let needles: Vec<String> = params.iter().filter_map(value_text).collect();
    if needles.is_empty() {
        return message.to_owned();
    }
    let mut out = redact_duplicate_entry(message, &needles);
    for needle in &needles {
        for quote in ['\'', '"'] {
            let quoted = format!("{quote}{needle}{quote}");
            out = out.replace(&quoted, "'***'");
        }
    }
    out
}

/// The text a server would quote for `v` in a message, when `v` carries
/// data worth hiding (booleans and NULL do not).
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null | Value::Bool(_) => None,
        Value::String(s) if s.is_empty() => None,
        Value::Bytes(b) => std::str::from_utf8(b)
            .ok()
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        other => Some(other.to_string()),
    }
}

/// MySQL's `Duplicate entry '<values joined by ->' for key '<key>'`: the
/// entry is quoted without escaping, so it is found between the fixed
/// prefix and the last `' for key`, and masked when it contains a value.
fn redact_duplicate_entry(message: &str, needles: &[String]) -> String {
    const PREFIX: &str = "Duplicate entry '";
    const SUFFIX: &str = "' for key";
    let Some(start) = message.find(PREFIX).map(|i| i + PREFIX.len()) else {
        return message.to_owned();
    };
    let Some(end) = message
        .get(start..)
        .and_then(|rest| rest.rfind(SUFFIX))
        .map(|i| start + i)
    else {
        return message.to_owned();
    };
    match (
        message.get(..start),
        message.get(start..end),
        message.get(end..),
    ) {
        (Some(head), Some(entry), Some(tail))
            if needles.iter().any(|n| entry.contains(n.as_str())) =>
        {
            format!("{head}***{tail}")
        }
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use dialects::Value;

    use super::*;

    #[test]
    fn redacts_quoted_values() {
        let params = [Value::from("alice@example.com"), Value::Int(7)];
        assert_eq!(
            redact_message(
                "Duplicate entry 'alice@example.com' for key 'email'",
                &params
            ),
            "Duplicate entry '***' for key 'email'"
        );
        assert_eq!(
            redact_message("invalid input syntax for type integer: \"7\"", &params),
            "invalid input syntax for type integer: '***'"
        );
        assert_eq!(
            redact_message(
                "Incorrect integer value: 'alice@example.com' for column `db`.`t`.`n` at row 1",
                &params
            ),
            "Incorrect integer value: '***' for column `db`.`t`.`n` at row 1"
        );
    }

    #[test]
    fn redacts_composite_and_quoted_duplicate_entries() {
        let params = [Value::from("O'Brien"), Value::Int(1)];
        assert_eq!(
            redact_message("Duplicate entry 'O'Brien-1' for key 'uq_name'", &params),
            "Duplicate entry '***' for key 'uq_name'"
        );
    }

    #[test]
    fn leaves_messages_without_values_alone() {
        let params = [Value::Int(1), Value::Bool(true), Value::Null];
        for m in [
            "Data too long for column 'code' at row 1",
            "UNIQUE constraint failed: account.email",
            "duplicate key value violates unique constraint \"account_email_key\"",
        ] {
            assert_eq!(redact_message(m, &params), m);
        }
    }

    #[test]
    fn long_text_is_cut_with_a_count() {
        assert_eq!(Bounded("abcdef", 3).to_string(), "abc… (3 more characters)");
        assert_eq!(Bounded("abc", 3).to_string(), "abc");
        assert_eq!(Bounded("žžžž", 2).to_string(), "žž… (2 more characters)");
    }

    #[test]
    fn a_few_parameters_are_shown() {
        let params: Vec<Value> = (0..30_000).map(Value::Int).collect();
        assert_eq!(
            ParamsPreview(&params).to_string(),
            "[Int(0), Int(1), Int(2), Int(3), Int(4), Int(5), Int(6), Int(7), Int(8), Int(9), \
             … 29990 more]"
        );
        let long = [Value::String("x".repeat(1_000_000))];
        let shown = ParamsPreview(&long).to_string();
        assert!(shown.len() < 120, "{shown}");
        assert!(shown.ends_with("… (999950 more characters)]"), "{shown}");
    }

    #[test]
    fn postgres_details_lose_their_rows() {
        assert_eq!(
            redact_detail("Key (email)=(alice@example.com) already exists."),
            "Key (email)=(***) already exists."
        );
        assert_eq!(
            redact_detail("Failing row contains (1, null, Alice)."),
            "Failing row contains (***)."
        );
        assert_eq!(
            redact_detail("Key (a, b)=(1, x) is not present in table \"p\"."),
            "Key (a, b)=(***) is not present in table \"p\"."
        );
    }
}
