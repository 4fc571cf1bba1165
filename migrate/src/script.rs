//! Writing migration files: operations rendered as the TOML that
//! [`crate::file`] reads back, with the comments a reviewer needs (renames
//! to confirm, data that a step cannot bring back).

use dialects::compiler::alter::server_default_sql;
use dialects::compiler::is_autoincrement;
use dialects::schema::alter::{declared_indexes, table_level_foreign_keys, AlterOp};
use dialects::schema::column::ServerDefault;
use dialects::schema::table::TableForeignKey;
use dialects::sql::expr::{Expr, SpecialFunction};
use dialects::{Column, Dialect, SqlType, Table, Value};

use crate::types::type_text;

/// One step to write, with an optional comment above it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The operation.
    pub op: AlterOp,
    /// A note for the reviewer, written as `#` lines above the step.
    pub comment: Option<String>,
}

impl Change {
    /// A step without a comment.
    pub fn new(op: AlterOp) -> Self {
        Change { op, comment: None }
    }

    /// A step with a comment.
    pub fn noted(op: AlterOp, comment: impl Into<String>) -> Self {
        Change {
            op,
            comment: Some(comment.into()),
        }
    }
}

/// What a new migration file says about itself.
#[derive(Debug, Clone)]
pub struct Header<'a> {
    /// Its revision id.
    pub revision: &'a str,
    /// The revision it follows.
    pub down_revision: Option<&'a str>,
    /// Its message.
    pub message: &'a str,
    /// Lines of comment at the top (how it was made).
    pub notes: Vec<String>,
}

/// The text of a migration file. `dialect` renders the few expressions
/// that have no neutral spelling (a check condition, an unusual default).
pub fn render(
    header: &Header<'_>,
    upgrade: &[Change],
    downgrade: &[Change],
    dialect: &dyn Dialect,
) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# Migration {}: {}\n",
        header.revision, header.message
    ));
    for n in &header.notes {
        out.push_str(&format!("# {n}\n"));
    }
    if let Some(d) = header.down_revision {
        out.push_str(&format!("down_revision = {}\n", q(d)));
    }
    out.push_str(&format!("message = {}\n", q(header.message)));
    if upgrade.is_empty() {
        out.push_str("upgrade = []\n");
    }
    if downgrade.is_empty() {
        out.push_str("downgrade = []\n");
    }
    for (name, changes) in [("upgrade", upgrade), ("downgrade", downgrade)] {
        for c in changes {
            out.push('\n');
            if let Some(comment) = &c.comment {
                for line in comment.lines() {
                    out.push_str(&format!("# {line}\n"));
                }
            }
            out.push_str(&format!("[[{name}]]\n"));
            out.push_str(&op_body(&c.op, dialect));
        }
    }
    out
}

/// A TOML basic string.
pub fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| q(s)).collect();
    format!("[{}]", items.join(", "))
}

fn kv(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push_str(" = ");
    out.push_str(value);
    out.push('\n');
}

fn op_body(op: &AlterOp, d: &dyn Dialect) -> String {
    let mut o = String::new();
    let name = |o: &mut String, n: &str| kv(o, "op", &q(n));
    match op {
        AlterOp::CreateTable(t) => {
            name(&mut o, "create_table");
            kv(&mut o, "table", &q(t.name()));
            o.push_str("columns = [\n");
            for c in t.columns() {
                o.push_str(&format!("    {},\n", column_inline(Some(t), c, true, d)));
            }
            o.push_str("]\n");
            if !t.unique_constraints().is_empty() {
                let items: Vec<String> = t
                    .unique_constraints()
                    .iter()
                    .map(|u| {
                        let mut parts = Vec::new();
                        if let Some(n) = &u.name {
                            parts.push(format!("name = {}", q(n)));
                        }
                        parts.push(format!("columns = {}", list(&u.columns)));
                        format!("{{ {} }}", parts.join(", "))
                    })
                    .collect();
                kv(&mut o, "unique", &format!("[{}]", items.join(", ")));
            }
            let fks = table_level_foreign_keys(t);
            if !fks.is_empty() {
                let items: Vec<String> = fks
                    .iter()
                    .map(|f| format!("{{ {} }}", fk_parts(f)))
                    .collect();
                kv(&mut o, "foreign_keys", &format!("[{}]", items.join(", ")));
            }
            let indexes = declared_indexes(t);
            if !indexes.is_empty() {
                let items: Vec<String> = indexes
                    .iter()
                    .map(|i| {
                        format!(
                            "{{ name = {}, columns = {}{} }}",
                            q(&i.name),
                            list(&i.columns),
                            if i.unique { ", unique = true" } else { "" }
                        )
                    })
                    .collect();
                kv(&mut o, "indexes", &format!("[{}]", items.join(", ")));
            }
            if !t.check_constraints().is_empty() {
                let items: Vec<String> = t
                    .check_constraints()
                    .iter()
                    .map(|c| {
                        let sql = expr_sql(&c.expr, d);
                        match &c.name {
                            Some(n) => format!("{{ name = {}, sql = {} }}", q(n), q(&sql)),
                            None => format!("{{ sql = {} }}", q(&sql)),
                        }
                    })
                    .collect();
                kv(&mut o, "checks", &format!("[{}]", items.join(", ")));
            }
        }
        AlterOp::DropTable { table } => {
            name(&mut o, "drop_table");
            kv(&mut o, "table", &q(table));
        }
        AlterOp::RenameTable { from, to } => {
            name(&mut o, "rename_table");
            kv(&mut o, "from", &q(from));
            kv(&mut o, "to", &q(to));
        }
        AlterOp::AddColumn { table, column } => {
            name(&mut o, "add_column");
            kv(&mut o, "table", &q(table));
            kv(&mut o, "column", &column_inline(None, column, true, d));
        }
        AlterOp::DropColumn { table, column } => {
            name(&mut o, "drop_column");
            kv(&mut o, "table", &q(table));
            kv(&mut o, "column", &q(column));
        }
        AlterOp::AlterColumn { table, from, to } => {
            name(&mut o, "alter_column");
            kv(&mut o, "table", &q(table));
            kv(&mut o, "column", &q(to.name()));
            kv(&mut o, "from", &column_inline(None, from, false, d));
            kv(&mut o, "to", &column_inline(None, to, false, d));
        }
        AlterOp::RenameColumn { table, from, to } => {
            name(&mut o, "rename_column");
            kv(&mut o, "table", &q(table));
            kv(&mut o, "from", &q(from));
            kv(&mut o, "to", &q(to));
        }
        AlterOp::CreateIndex { table, index } => {
            name(&mut o, "create_index");
            kv(&mut o, "table", &q(table));
            kv(&mut o, "name", &q(&index.name));
            kv(&mut o, "columns", &list(&index.columns));
            if index.unique {
                kv(&mut o, "unique", "true");
            }
        }
        AlterOp::DropIndex { table, name: index } => {
            name(&mut o, "drop_index");
            kv(&mut o, "table", &q(table));
            kv(&mut o, "name", &q(index));
        }
        AlterOp::AddUnique { table, constraint } | AlterOp::DropUnique { table, constraint } => {
            let add = matches!(op, AlterOp::AddUnique { .. });
            name(&mut o, if add { "add_unique" } else { "drop_unique" });
            kv(&mut o, "table", &q(table));
            if let Some(n) = &constraint.name {
                kv(&mut o, "name", &q(n));
            }
            kv(&mut o, "columns", &list(&constraint.columns));
        }
        AlterOp::AddForeignKey {
            table,
            name: fk_name,
            foreign_key,
        }
        | AlterOp::DropForeignKey {
            table,
            name: fk_name,
            foreign_key,
        } => {
            let add = matches!(op, AlterOp::AddForeignKey { .. });
            name(
                &mut o,
                if add {
                    "add_foreign_key"
                } else {
                    "drop_foreign_key"
                },
            );
            kv(&mut o, "table", &q(table));
            if let Some(n) = fk_name {
                kv(&mut o, "name", &q(n));
            }
            kv(&mut o, "columns", &list(&foreign_key.columns));
            kv(&mut o, "references", &q(&foreign_key.ref_table));
            kv(&mut o, "ref_columns", &list(&foreign_key.ref_columns));
            if let Some(a) = foreign_key.on_delete {
                kv(&mut o, "on_delete", &q(a.as_sql()));
            }
            if let Some(a) = foreign_key.on_update {
                kv(&mut o, "on_update", &q(a.as_sql()));
            }
        }
        AlterOp::CreateEnum { name: n, values } | AlterOp::DropEnum { name: n, values } => {
            let create = matches!(op, AlterOp::CreateEnum { .. });
            name(&mut o, if create { "create_enum" } else { "drop_enum" });
            kv(&mut o, "name", &q(n));
            kv(&mut o, "values", &list(values));
        }
        AlterOp::AddEnumValue {
            name: n,
            value,
            after,
        } => {
            name(&mut o, "add_enum_value");
            kv(&mut o, "name", &q(n));
            kv(&mut o, "value", &q(value));
            if let Some(a) = after {
                kv(&mut o, "after", &q(a));
            }
        }
        AlterOp::ReplaceEnum {
            name: n,
            from,
            to,
            columns,
        } => {
            name(&mut o, "replace_enum");
            kv(&mut o, "name", &q(n));
            kv(&mut o, "from", &list(from));
            kv(&mut o, "to", &list(to));
            let cols: Vec<String> = columns
                .iter()
                .map(|(t, c)| format!("[{}, {}]", q(t), q(c)))
                .collect();
            kv(&mut o, "columns", &format!("[{}]", cols.join(", ")));
        }
        AlterOp::Sql(sql) => {
            name(&mut o, "sql");
            kv(&mut o, "sql", &q(sql));
        }
        other => {
            name(&mut o, "sql");
            kv(&mut o, "sql", &q(&format!("-- cannot write {other:?}")));
        }
    }
    o
}

fn fk_parts(f: &TableForeignKey) -> String {
    let mut parts = vec![
        format!("columns = {}", list(&f.columns)),
        format!("references = {}", q(&f.ref_table)),
        format!("ref_columns = {}", list(&f.ref_columns)),
    ];
    if let Some(a) = f.on_delete {
        parts.push(format!("on_delete = {}", q(a.as_sql())));
    }
    if let Some(a) = f.on_update {
        parts.push(format!("on_update = {}", q(a.as_sql())));
    }
    parts.join(", ")
}

/// A column as an inline table: `{ name = "id", type = "integer", ... }`.
/// `with_name` false leaves the name out (an `alter_column`'s `from`/`to`).
pub fn column_inline(
    table: Option<&Table>,
    c: &Column,
    with_name: bool,
    d: &dyn Dialect,
) -> String {
    let mut parts = Vec::new();
    if with_name {
        parts.push(format!("name = {}", q(c.name())));
    }
    parts.push(format!("type = {}", q(&type_text(c.sql_type()))));
    if c.is_primary_key() {
        parts.push("primary_key = true".into());
        let holder;
        let t = match table {
            Some(t) => t,
            None => {
                holder = Table::new("t").column(c.clone());
                &holder
            }
        };
        parts.push(format!("autoincrement = {}", is_autoincrement(t, c)));
    } else {
        parts.push(format!("nullable = {}", c.is_nullable()));
    }
    if c.is_unique() {
        parts.push("unique = true".into());
    }
    if c.has_index() {
        parts.push("index = true".into());
    }
    if let Some(default) = c.get_server_default() {
        parts.push(format!("default = {}", default_inline(c, default, d)));
    }
    if let Some(fk) = c.get_foreign_key() {
        parts.push(format!(
            "references = {}",
            q(&format!("{}.{}", fk.table, fk.column))
        ));
        if let Some(a) = fk.on_delete {
            parts.push(format!("on_delete = {}", q(a.as_sql())));
        }
        if let Some(a) = fk.on_update {
            parts.push(format!("on_update = {}", q(a.as_sql())));
        }
    }
    format!("{{ {} }}", parts.join(", "))
}

fn default_inline(c: &Column, default: &ServerDefault, d: &dyn Dialect) -> String {
    match default {
        ServerDefault::Literal(v) => match v {
            Value::Bool(b) => format!("{{ value = {b} }}"),
            Value::SmallInt(n) => format!("{{ value = {n} }}"),
            Value::Int(n) => format!("{{ value = {n} }}"),
            Value::BigInt(n) => format!("{{ value = {n} }}"),
            Value::Double(f) if f.is_finite() => format!("{{ value = {f:?} }}"),
            Value::Float(f) if f.is_finite() => format!("{{ value = {:?} }}", f64::from(*f)),
            Value::String(s) => format!("{{ value = {} }}", q(s)),
            _ => format!(
                "{{ sql = {} }}",
                q(&server_default_sql(c, default, d).unwrap_or_default())
            ),
        },
        ServerDefault::Expr(Expr::Special { func, args }) if args.is_empty() => match func {
            SpecialFunction::UtcNow => "{ function = \"utc_now\" }".into(),
            SpecialFunction::Now => "{ function = \"now\" }".into(),
            _ => format!(
                "{{ sql = {} }}",
                q(&server_default_sql(c, default, d).unwrap_or_default())
            ),
        },
        ServerDefault::Expr(e) => format!("{{ sql = {} }}", q(&expr_sql(e, d))),
    }
}

/// An expression as inline SQL for `dialect` (without the parentheses a
/// default gets).
fn expr_sql(e: &Expr, d: &dyn Dialect) -> String {
    let mut w = dialects::SqlWriter::new(d);
    let ok = w.with_inline_literals(|w| d.visit_expr(e, w)).is_ok();
    if ok {
        w.finish().sql
    } else {
        String::new()
    }
}

/// Whether a type is an enumeration.
pub fn is_enum(ty: &SqlType) -> bool {
    matches!(ty, SqlType::Enum { .. })
}
