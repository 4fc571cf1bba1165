//! Column types as migration files write them: one short, backend-neutral
//! spelling per [`SqlType`] (`integer`, `varchar(256)`, `numeric(10, 2)`,
//! `timestamp`, `enum workload('parttime', 'fulltime')`), parsed back
//! exactly.
//!
//! ```
//! use migrate::types::{parse_type, type_text};
//! use persistence::dialects::SqlType;
//! let ty = SqlType::enumeration("workload", ["parttime", "fulltime"]);
//! assert_eq!(type_text(&ty), "enum workload('parttime', 'fulltime')");
//! assert_eq!(parse_type(&type_text(&ty)), Ok(ty));
//! assert_eq!(parse_type("varchar(256)"), Ok(SqlType::string(256)));
//! ```

use dialects::SqlType;

/// The file spelling of `ty`.
pub fn type_text(ty: &SqlType) -> String {
    match ty {
        SqlType::SmallInteger => "smallint".into(),
        SqlType::Integer => "integer".into(),
        SqlType::BigInteger => "bigint".into(),
        SqlType::Float => "float".into(),
        SqlType::Double => "double".into(),
        SqlType::Numeric(p, s) => format!("numeric({p}, {s})"),
        SqlType::String(Some(n)) => format!("varchar({n})"),
        SqlType::String(None) => "varchar".into(),
        SqlType::Text => "text".into(),
        SqlType::Boolean => "boolean".into(),
        SqlType::Date => "date".into(),
        SqlType::Time => "time".into(),
        SqlType::DateTime { timezone: false } => "timestamp".into(),
        SqlType::DateTime { timezone: true } => "timestamptz".into(),
        SqlType::Uuid => "uuid".into(),
        SqlType::Json => "json".into(),
        SqlType::Binary(Some(n)) => format!("binary({n})"),
        SqlType::Binary(None) => "binary".into(),
        SqlType::Enum { name, variants, .. } => {
            let values: Vec<String> = variants.iter().map(|v| quote(v)).collect();
            format!("enum {name}({})", values.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// `'text'` with quotes doubled.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Parses the file spelling of a type; the error says what was expected.
pub fn parse_type(text: &str) -> Result<SqlType, String> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let (head, args) = match lower.find('(') {
        Some(i) if lower.ends_with(')') => (lower[..i].trim(), Some(&t[i + 1..t.len() - 1])),
        Some(_) => return Err(format!("unbalanced parentheses in type `{t}`")),
        None => (lower.as_str(), None),
    };
    let number = |a: &str| {
        a.trim()
            .parse::<u32>()
            .map_err(|_| format!("`{a}` is not a length in type `{t}`"))
    };
    Ok(match (head, args) {
        ("smallint", None) => SqlType::SmallInteger,
        ("integer", None) => SqlType::Integer,
        ("bigint", None) => SqlType::BigInteger,
        ("float", None) => SqlType::Float,
        ("double", None) => SqlType::Double,
        ("numeric", Some(a)) => {
            let (p, s) = a
                .split_once(',')
                .ok_or_else(|| format!("`{t}` needs a precision and a scale"))?;
            let byte = |x: &str| {
                x.trim()
                    .parse::<u8>()
                    .map_err(|_| format!("`{x}` is not a precision or scale in `{t}`"))
            };
            SqlType::Numeric(byte(p)?, byte(s)?)
        }
        ("varchar", None) => SqlType::String(None),
        ("varchar", Some(a)) => SqlType::String(Some(number(a)?)),
        ("text", None) => SqlType::Text,
        ("boolean", None) => SqlType::Boolean,
        ("date", None) => SqlType::Date,
        ("time", None) => SqlType::Time,
        ("timestamp", None) => SqlType::DateTime { timezone: false },
        ("timestamptz", None) => SqlType::DateTime { timezone: true },
        ("uuid", None) => SqlType::Uuid,
        ("json", None) => SqlType::Json,
        ("binary", None) => SqlType::Binary(None),
        ("binary", Some(a)) => SqlType::Binary(Some(number(a)?)),
        (h, Some(a)) if h == "enum" || h.starts_with("enum ") => {
            let name = t[5..t.find('(').unwrap_or(t.len())].trim().to_owned();
            if name.is_empty() {
                return Err(format!("enum type `{t}` needs a name"));
            }
            SqlType::Enum {
                name,
                variants: quoted_list(a).map_err(|e| format!("{e} in type `{t}`"))?,
                native: true,
            }
        }
        _ => {
            return Err(format!(
                "unknown type `{t}` (expected smallint, integer, bigint, float, double, \
                 numeric(p, s), varchar[(n)], text, boolean, date, time, timestamp, \
                 timestamptz, uuid, json, binary[(n)] or enum name('a', ...))"
            ))
        }
    })
}

/// `'a', 'b''c'` → `["a", "b'c"]`.
pub fn quoted_list(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        match chars.next() {
            None => return Ok(out),
            Some('\'') => {
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            value.push('\'');
                        }
                        Some('\'') => break,
                        Some(c) => value.push(c),
                        None => return Err("an unterminated quoted value".into()),
                    }
                }
                out.push(value);
            }
            Some(c) => return Err(format!("`{c}` where a quoted value was expected")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips() {
        let all = [
            SqlType::SmallInteger,
            SqlType::Integer,
            SqlType::BigInteger,
            SqlType::Float,
            SqlType::Double,
            SqlType::Numeric(10, 2),
            SqlType::String(Some(256)),
            SqlType::String(None),
            SqlType::Text,
            SqlType::Boolean,
            SqlType::Date,
            SqlType::Time,
            SqlType::DateTime { timezone: false },
            SqlType::DateTime { timezone: true },
            SqlType::Uuid,
            SqlType::Json,
            SqlType::Binary(Some(16)),
            SqlType::Binary(None),
            SqlType::enumeration("mood", ["o'k", "sad, really"]),
        ];
        for ty in all {
            assert_eq!(parse_type(&type_text(&ty)), Ok(ty.clone()), "{ty:?}");
        }
    }

    #[test]
    fn bad_types_say_why() {
        assert!(parse_type("varchar(x)")
            .unwrap_err()
            .contains("not a length"));
        assert!(parse_type("money")
            .unwrap_err()
            .contains("unknown type `money`"));
        assert!(parse_type("enum ('a')")
            .unwrap_err()
            .contains("needs a name"));
    }
}
