//! `MetaData::reflect(&mut conn)`: the tables of a live database as a
//! [`MetaData`], built from [`persistence::inspect`] (SQLAlchemy's
//! `MetaData.reflect`).
//!
//! What the catalogs spell per backend is read back into the schema
//! model: types (`character varying(120)`, `int(11)`, `VARCHAR(120)`),
//! server defaults (kept as SQL text, constants as values), serial and
//! auto-increment keys, single-column foreign keys on their column,
//! unique constraints (with their names), indexes (without those that only
//! back a unique constraint, or on MySQL a foreign key), and checks.
//! Enumerations come back as [`SqlType::Enum`]: PostgreSQL's named enum
//! types, MySQL's `ENUM(...)`, and elsewhere the `ck_<table>_<enum>`
//! check that `CREATE TABLE` writes for one. MariaDB's `json_valid` check
//! makes its column `Json` again. The version table is left out.

use std::collections::HashMap;

use dialects::compiler::alter::{enum_check_name, server_default_sql};
use dialects::sql::expr::Expr;
use dialects::{func, Dialect, SqlWriter};

use crate::diff::normalise_default;
use dialects::schema::alter::AlterOp;
use dialects::schema::column::ServerDefault;
use dialects::schema::table::TableForeignKey;
use dialects::{
    literal_column, text, CheckConstraint, Column, Index, MetaData, SqlType, Table,
    UniqueConstraint, Value,
};
use persistence::{inspect, Backend, Connection};

use crate::error::MigrateError;
use crate::file::action;
use crate::types::quoted_list;
use crate::version::VERSION_TABLE;

/// Reflection of a whole database into a [`MetaData`].
#[allow(async_fn_in_trait)]
pub trait ReflectExt: Sized {
    /// Every table of the database `conn` is connected to (the current
    /// schema on PostgreSQL), except the migrations' version table.
    async fn reflect(conn: &mut Connection) -> Result<Self, MigrateError>;
}

impl ReflectExt for MetaData {
    async fn reflect(conn: &mut Connection) -> Result<Self, MigrateError> {
        let names = inspect(conn).table_names().await?;
        let enums = enum_types(conn).await?;
        let mut md = MetaData::new();
        for name in names {
            if name == VERSION_TABLE || name.starts_with("_migrate_tmp_") {
                continue;
            }
            md.add(reflect_table_with(conn, &name, &enums).await?);
        }
        Ok(md)
    }
}

/// One table of the database, as [`ReflectExt::reflect`] reads it.
pub async fn reflect_table(conn: &mut Connection, name: &str) -> Result<Table, MigrateError> {
    let enums = enum_types(conn).await?;
    reflect_table_with(conn, name, &enums).await
}

/// PostgreSQL's enum types of the current schema: name → labels in order.
async fn enum_types(conn: &mut Connection) -> Result<HashMap<String, Vec<String>>, MigrateError> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    if conn.engine().backend() != Backend::Postgres {
        return Ok(out);
    }
    let rows = conn
        .execute(&text(
            "SELECT t.typname::text, e.enumlabel::text FROM pg_catalog.pg_type t \
             JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid \
             JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
             WHERE n.nspname = current_schema() ORDER BY t.typname, e.enumsortorder",
        ))
        .await?
        .all();
    for r in rows {
        let (name, label): (String, String) = r.into_tuple()?;
        out.entry(name).or_default().push(label);
    }
    Ok(out)
}

async fn reflect_table_with(
    conn: &mut Connection,
    name: &str,
    enums: &HashMap<String, Vec<String>>,
) -> Result<Table, MigrateError> {
    let backend = conn.engine().backend();
    let engine = conn.engine().clone();
    let dialect = engine.dialect();
    let mut insp = inspect(conn);
    let columns = insp.columns(name).await?;
    let pk = insp.primary_key(name).await?;
    let fks = insp.foreign_keys(name).await?;
    let uniques = insp.unique_constraints(name).await?;
    let indexes = insp.indexes(name).await?;
    let mut checks: Vec<(Option<String>, String)> = insp
        .check_constraints(name)
        .await?
        .into_iter()
        .map(|c| (c.name, c.sqltext))
        .collect();
    if backend == Backend::Sqlite {
        checks = sqlite_checks(conn, name).await?;
    }
    let auto_increment = if backend == Backend::MySql {
        mysql_auto_increment(conn, name).await?
    } else {
        Vec::new()
    };

    // Enum checks and MariaDB's JSON checks say what a column is.
    let mut enum_of: HashMap<String, SqlType> = HashMap::new();
    let mut json_columns: Vec<String> = Vec::new();
    let mut other_checks = Vec::new();
    for (check_name, sql) in checks {
        if let Some((column, ty)) = enum_check(name, check_name.as_deref(), &sql, &columns) {
            enum_of.insert(column, ty);
        } else if let Some(column) = json_check(&sql, &columns) {
            json_columns.push(column);
        } else {
            other_checks.push((check_name, sql));
        }
    }

    let single_fks: Vec<&persistence::ReflectedForeignKey> =
        fks.iter().filter(|f| f.columns.len() == 1).collect();
    let mut table = Table::new(name);
    for c in &columns {
        let mut ty = match enum_of.remove(&c.name) {
            Some(ty) => ty,
            None => parse_reflected_type(backend, &c.type_name, enums).ok_or_else(|| {
                MigrateError::UnknownType {
                    table: name.to_owned(),
                    column: c.name.clone(),
                    type_name: c.type_name.clone(),
                }
            })?,
        };
        if json_columns.contains(&c.name) {
            ty = SqlType::Json;
        }
        if let SqlType::Enum { name: n, .. } = &mut ty {
            if n.is_empty() {
                n.clone_from(&c.name);
            }
        }
        let mut col = Column::new(c.name.clone(), ty).nullable(c.nullable);
        let in_pk = pk.contains(&c.name);
        if in_pk {
            col = col.primary_key();
        }
        let mut default = c.default.clone();
        match backend {
            Backend::Postgres
                if default
                    .as_deref()
                    .is_some_and(|d| d.starts_with("nextval(")) =>
            {
                default = None;
                col = col.autoincrement(true);
            }
            Backend::Postgres if in_pk && pk.len() == 1 => col = col.autoincrement(false),
            Backend::MySql if in_pk => col = col.autoincrement(auto_increment.contains(&c.name)),
            _ => {}
        }
        if let Some(d) = default {
            col = match known_function(&col, &d, dialect).unwrap_or_else(|| reflected_default(&d)) {
                ServerDefault::Literal(v) => col.server_default(v),
                ServerDefault::Expr(e) => col.server_default(e),
            };
        }
        if let Some(fk) = single_fks.iter().find(|f| f.columns[0] == c.name) {
            let target = format!("{}.{}", fk.referred_table, fk.referred_columns[0]);
            col = col.foreign_key(&target);
            if let Some(a) = fk.on_delete.as_deref().and_then(|a| action(a).ok()) {
                col = col.on_delete(a);
            }
            if let Some(a) = fk.on_update.as_deref().and_then(|a| action(a).ok()) {
                col = col.on_update(a);
            }
        }
        table = table.column(col);
    }
    for fk in fks.iter().filter(|f| f.columns.len() > 1) {
        table = table.foreign_key_constraint(TableForeignKey {
            columns: fk.columns.clone(),
            ref_table: fk.referred_table.clone(),
            ref_columns: fk.referred_columns.clone(),
            on_delete: fk.on_delete.as_deref().and_then(|a| action(a).ok()),
            on_update: fk.on_update.as_deref().and_then(|a| action(a).ok()),
        });
    }
    for u in &uniques {
        table = table.unique(UniqueConstraint {
            name: u.name.clone(),
            columns: u.columns.clone(),
        });
    }
    for i in &indexes {
        let backs_unique = i.unique && uniques.iter().any(|u| u.columns == i.columns);
        let backs_fk = backend == Backend::MySql
            && !i.unique
            && fks
                .iter()
                .any(|f| f.columns == i.columns || f.name.as_deref() == Some(&i.name));
        if backs_unique || backs_fk || i.columns.is_empty() {
            continue;
        }
        let mut index = Index::new(i.name.clone(), i.columns.clone());
        index.unique = i.unique;
        table = table.index(index);
    }
    for (check_name, sql) in other_checks {
        let mut check = CheckConstraint::new(literal_column(&sql));
        check.name = check_name;
        table = dialects::schema::alter::with_check(&table, check);
    }
    Ok(table)
}

/// The columns MySQL marks `auto_increment`.
async fn mysql_auto_increment(
    conn: &mut Connection,
    table: &str,
) -> Result<Vec<String>, MigrateError> {
    let rows = conn
        .execute(
            &text(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :table \
                 AND EXTRA LIKE '%auto_increment%'",
            )
            .bind("table", table),
        )
        .await?
        .all();
    rows.into_iter()
        .map(|r| {
            Ok(match r.value(0)? {
                Value::String(s) => s.clone(),
                Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                other => other.to_string(),
            })
        })
        .collect()
}

/// SQLite keeps checks only in the `CREATE TABLE` text: the `CHECK (...)`
/// clauses of it, with their `CONSTRAINT` names.
async fn sqlite_checks(
    conn: &mut Connection,
    table: &str,
) -> Result<Vec<(Option<String>, String)>, MigrateError> {
    let sql: Option<String> = conn
        .execute(
            &text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t")
                .bind("t", table),
        )
        .await?
        .scalar()
        .and_then(|v| v.as_str().map(str::to_owned));
    Ok(sql.map(|s| parse_checks(&s)).unwrap_or_default())
}

/// The `[CONSTRAINT name] CHECK (...)` clauses of a `CREATE TABLE` text.
pub fn parse_checks(sql: &str) -> Vec<(Option<String>, String)> {
    let tokens = tokens(sql);
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if !t.text.eq_ignore_ascii_case("check") {
            continue;
        }
        let name = (i >= 2 && tokens[i - 2].text.eq_ignore_ascii_case("constraint"))
            .then(|| unquote(&tokens[i - 1].text));
        let Some(open) = tokens.get(i + 1).filter(|t| t.text == "(") else {
            continue;
        };
        let mut depth = 0usize;
        let mut end = None;
        for t in &tokens[i + 1..] {
            match t.text.as_str() {
                "(" => depth += 1,
                ")" => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(t.start);
                        break;
                    }
                }
                _ => {}
            }
        }
        if let Some(end) = end {
            out.push((name, sql[open.start + 1..end].trim().to_owned()));
        }
    }
    out
}

struct Token {
    text: String,
    start: usize,
}

/// Words, quoted names and strings, and single punctuation characters.
fn tokens(sql: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = sql.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if matches!(c, '\'' | '"' | '`') {
            let close = c;
            let mut j = i + 1;
            while j < chars.len() {
                if chars[j].1 == close {
                    if chars.get(j + 1).is_some_and(|n| n.1 == close) {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            let end = chars.get(j + 1).map_or(sql.len(), |n| n.0);
            out.push(Token {
                text: sql[start..end].to_owned(),
                start,
            });
            i = j + 1;
        } else if c.is_alphanumeric() || c == '_' {
            let mut j = i;
            while j < chars.len() && (chars[j].1.is_alphanumeric() || chars[j].1 == '_') {
                j += 1;
            }
            let end = chars.get(j).map_or(sql.len(), |n| n.0);
            out.push(Token {
                text: sql[start..end].to_owned(),
                start,
            });
            i = j;
        } else {
            out.push(Token {
                text: c.to_string(),
                start,
            });
            i += 1;
        }
    }
    out
}

fn unquote(name: &str) -> String {
    let b = name.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'"' | b'`') {
        name[1..name.len() - 1].to_owned()
    } else {
        name.to_owned()
    }
}

/// A `ck_<table>_<enum>` check over one column's values: that column and
/// its enum type.
fn enum_check(
    table: &str,
    name: Option<&str>,
    sql: &str,
    columns: &[persistence::ReflectedColumn],
) -> Option<(String, SqlType)> {
    let prefix = enum_check_name(table, "");
    let enum_name = name?.strip_prefix(&prefix)?;
    let words = tokens(sql);
    let column = words
        .iter()
        .map(|t| unquote(&t.text))
        .find(|w| columns.iter().any(|c| c.name == *w))?;
    let values: Vec<String> = words
        .iter()
        .filter(|t| t.text.starts_with('\''))
        .filter_map(|t| quoted_list(&t.text).ok())
        .flatten()
        .collect();
    (!values.is_empty()).then(|| (column, SqlType::enumeration(enum_name, values)))
}

/// MariaDB's `json_valid(col)` check on a JSON column.
fn json_check(sql: &str, columns: &[persistence::ReflectedColumn]) -> Option<String> {
    let words = tokens(sql);
    let first = words.first()?;
    if !first.text.eq_ignore_ascii_case("json_valid") {
        return None;
    }
    words
        .iter()
        .map(|t| unquote(&t.text))
        .find(|w| columns.iter().any(|c| c.name == *w))
}

/// `func::utc_now()` or `func::now()` when the default is what the
/// dialect writes for one of them.
fn known_function(c: &Column, text: &str, d: &dyn Dialect) -> Option<ServerDefault> {
    let wanted = normalise_default(text);
    [func::utc_now(), func::now()].into_iter().find_map(|f| {
        let candidate = ServerDefault::Expr(f);
        let sql = server_default_sql(c, &candidate, d).ok()?;
        (normalise_default(&sql) == wanted).then_some(candidate)
    })
}

/// An expression's SQL text, as written (for SQL text kept from the
/// database).
pub fn expr_text(e: &Expr) -> String {
    let d = dialects::Sqlite;
    let mut w = SqlWriter::new(&d);
    let ok = w.with_inline_literals(|w| d.visit_expr(e, w)).is_ok();
    if ok {
        w.finish().sql
    } else {
        String::new()
    }
}

/// A reflected default: a constant as a value, anything else as SQL text.
fn reflected_default(text: &str) -> ServerDefault {
    let t = strip_casts(text.trim());
    let t = t.trim();
    if let Ok(n) = t.parse::<i64>() {
        return ServerDefault::Literal(Value::BigInt(n));
    }
    if t.eq_ignore_ascii_case("true") {
        return ServerDefault::Literal(Value::Bool(true));
    }
    if t.eq_ignore_ascii_case("false") {
        return ServerDefault::Literal(Value::Bool(false));
    }
    if t.len() >= 2 && t.starts_with('\'') && t.ends_with('\'') {
        if let Ok(values) = quoted_list(t) {
            if let [one] = values.as_slice() {
                return ServerDefault::Literal(Value::from(one.as_str()));
            }
        }
    }
    ServerDefault::Expr(literal_column(text.trim()))
}

/// `'x'::character varying` → `'x'` (PostgreSQL's casts of constants).
fn strip_casts(text: &str) -> String {
    match text.find("::") {
        Some(i) if text.starts_with('\'') => text[..i].to_owned(),
        _ => text.to_owned(),
    }
}

/// Reads a backend's spelling of a column type; `None` when the schema
/// model has no such type.
pub fn parse_reflected_type(
    backend: Backend,
    type_name: &str,
    enums: &HashMap<String, Vec<String>>,
) -> Option<SqlType> {
    let lower = type_name.trim().to_ascii_lowercase();
    let (head, args) = match lower.find('(') {
        Some(i) => (
            lower[..i].trim().to_owned(),
            lower[i + 1..].split(')').next().map(str::to_owned),
        ),
        None => (lower.clone(), None),
    };
    let rest = lower
        .find(')')
        .map(|i| lower[i + 1..].trim().to_owned())
        .unwrap_or_default();
    let n = |a: &Option<String>| a.as_deref().and_then(|a| a.trim().parse::<u32>().ok());
    let numeric = |a: &Option<String>| {
        let a = a.as_deref()?;
        let (p, s) = a.split_once(',').unwrap_or((a, "0"));
        Some(SqlType::Numeric(
            p.trim().parse().ok()?,
            s.trim().parse().ok()?,
        ))
    };
    if let Some(values) = enums.get(type_name.trim().trim_matches('"')) {
        return Some(SqlType::enumeration(
            type_name.trim().trim_matches('"'),
            values.clone(),
        ));
    }
    let ty = match (backend, head.as_str()) {
        (Backend::MySql, "tinyint") if n(&args) == Some(1) => SqlType::Boolean,
        (Backend::MySql, "enum") => {
            let open = type_name.find('(')?;
            let close = type_name.rfind(')')?;
            SqlType::Enum {
                name: String::new(),
                variants: quoted_list(&type_name[open + 1..close]).ok()?,
                native: true,
            }
        }
        (_, "smallint") => SqlType::SmallInteger,
        (_, "int" | "integer" | "int4" | "mediumint") => SqlType::Integer,
        (_, "bigint" | "int8") => SqlType::BigInteger,
        (Backend::MySql, "float") => SqlType::Float,
        (_, "real" | "float4") => SqlType::Float,
        (Backend::MySql, "double") => SqlType::Double,
        (_, "double precision" | "double" | "float8") => SqlType::Double,
        (_, "numeric" | "decimal") => numeric(&args)?,
        (_, "character varying" | "varchar") => SqlType::String(n(&args)),
        (_, "char" | "character") if n(&args) == Some(36) => SqlType::Uuid,
        (_, "text") => SqlType::Text,
        (Backend::MySql, "longtext") => SqlType::Text,
        (_, "boolean" | "bool") => SqlType::Boolean,
        (_, "date") => SqlType::Date,
        (_, "time" | "time without time zone") => SqlType::Time,
        (Backend::Postgres, "timestamp without time zone" | "timestamp") => {
            SqlType::DateTime { timezone: false }
        }
        (_, "timestamp with time zone" | "timestamptz") => SqlType::DateTime { timezone: true },
        (_, "datetime" | "timestamp") => SqlType::DateTime { timezone: false },
        (_, "uuid") => SqlType::Uuid,
        (_, "json" | "jsonb") => SqlType::Json,
        (_, "bytea" | "blob" | "longblob") => SqlType::Binary(None),
        (_, "varbinary") => SqlType::Binary(n(&args)),
        _ => return None,
    };
    // PostgreSQL spells a precision inside: `timestamp(3) without time zone`.
    if backend == Backend::Postgres
        && head == "timestamp"
        && rest.contains("with time zone")
        && !rest.contains("without")
    {
        return Some(SqlType::DateTime { timezone: true });
    }
    Some(ty)
}

/// The table a step changes, reflected, as a rebuild starts from.
pub async fn current_table(conn: &mut Connection, op: &AlterOp) -> Result<Table, MigrateError> {
    let name = op
        .table()
        .ok_or_else(|| MigrateError::Invalid(format!("{op:?} changes no table")))?
        .to_owned();
    reflect_table(conn, &name).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_checks_are_found_with_their_names() {
        let sql = "CREATE TABLE resume (id INTEGER NOT NULL, workload VARCHAR(8) NOT NULL, \
                   PRIMARY KEY (id), CONSTRAINT ck_resume_workload CHECK (workload IN ('parttime', 'full(time)')), \
                   CHECK (id > 0))";
        assert_eq!(
            parse_checks(sql),
            [
                (
                    Some("ck_resume_workload".to_owned()),
                    "workload IN ('parttime', 'full(time)')".to_owned()
                ),
                (None, "id > 0".to_owned()),
            ]
        );
    }

    #[test]
    fn postgres_enum_checks_are_enums() {
        let cols = vec![persistence::ReflectedColumn {
            name: "mood".into(),
            type_name: "character varying(5)".into(),
            nullable: false,
            default: None,
        }];
        let sql = "mood::text = ANY (ARRAY['happy'::character varying, 'sad'::character varying]::text[])";
        assert_eq!(
            enum_check("ticket", Some("ck_ticket_mood"), sql, &cols),
            Some((
                "mood".to_owned(),
                SqlType::enumeration("mood", ["happy", "sad"])
            ))
        );
        assert_eq!(enum_check("ticket", Some("other"), sql, &cols), None);
    }

    #[test]
    fn backend_types_read_back() {
        let none = HashMap::new();
        let t = |b, s| parse_reflected_type(b, s, &none);
        assert_eq!(
            t(Backend::Postgres, "character varying(120)"),
            Some(SqlType::string(120))
        );
        assert_eq!(
            t(Backend::Postgres, "timestamp without time zone"),
            Some(SqlType::DateTime { timezone: false })
        );
        assert_eq!(
            t(Backend::Postgres, "numeric(10,2)"),
            Some(SqlType::Numeric(10, 2))
        );
        assert_eq!(t(Backend::MySql, "int(11)"), Some(SqlType::Integer));
        assert_eq!(t(Backend::MySql, "tinyint(1)"), Some(SqlType::Boolean));
        assert_eq!(
            t(Backend::MySql, "datetime(6)"),
            Some(SqlType::DateTime { timezone: false })
        );
        assert_eq!(
            t(Backend::MySql, "enum('parttime','fulltime')"),
            Some(SqlType::Enum {
                name: String::new(),
                variants: vec!["parttime".into(), "fulltime".into()],
                native: true,
            })
        );
        assert_eq!(
            t(Backend::Sqlite, "VARCHAR(256)"),
            Some(SqlType::string(256))
        );
        assert_eq!(
            t(Backend::Sqlite, "DATETIME"),
            Some(SqlType::DateTime { timezone: false })
        );
        assert_eq!(t(Backend::Postgres, "inet"), None);
    }

    #[test]
    fn constant_defaults_become_values() {
        assert_eq!(
            reflected_default("'active'::character varying"),
            ServerDefault::Literal(Value::from("active"))
        );
        assert_eq!(
            reflected_default("5"),
            ServerDefault::Literal(Value::BigInt(5))
        );
        assert!(matches!(
            reflected_default("CURRENT_TIMESTAMP"),
            ServerDefault::Expr(_)
        ));
    }
}
