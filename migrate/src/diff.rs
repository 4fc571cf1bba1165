//! Autogenerate's comparison: the mappings' [`MetaData`] against the
//! database's (reflected), as the steps that take the database to the
//! mappings and back (Alembic's `compare_metadata`, with what it misses
//! added).
//!
//! Compared: tables (created, dropped, renamed), columns (added, dropped,
//! renamed, and their type, nullability and server default), indexes (by
//! name), unique constraints and foreign keys (by their columns, so that
//! the names a database gives do not count), and enumerations (values
//! added or removed, as named types where the backend has them, else as a
//! change of the columns that use them). Types are compared as the
//! backend spells them, so `String(256)` and `varchar(256)` agree and a
//! change of width does not go unseen; defaults as SQL text with casts,
//! case and outer parentheses set aside.
//!
//! A table or column that disappears while a similar one appears (a
//! table sharing at least half its columns; a column of the same type and
//! nullability) is proposed as a rename, with a comment asking to confirm,
//! never silently as drop + add. Check constraints other than those of
//! enumerations are not compared (their text differs per backend).

use std::collections::{BTreeMap, BTreeSet};

use dialects::compiler::alter::{enum_style, foreign_key_name, server_default_sql, EnumStyle};
use dialects::compiler::is_autoincrement;
use dialects::schema::alter::AlterOp;
use dialects::schema::column::ServerDefault;
use dialects::schema::table::TableForeignKey;
use dialects::{
    Column, Dialect, Index, MetaData, ReferentialAction, SqlType, Table, UniqueConstraint,
};

use crate::script::Change;

/// The steps between two schemas.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    /// From the database to the mappings.
    pub upgrade: Vec<Change>,
    /// Back again.
    pub downgrade: Vec<Change>,
}

impl Diff {
    /// Whether the schemas agree.
    pub fn is_empty(&self) -> bool {
        self.upgrade.is_empty()
    }

    /// One line per upgrade step, for `check`.
    pub fn describe(&self) -> Vec<String> {
        self.upgrade.iter().map(|c| describe(&c.op)).collect()
    }
}

/// A step in a line.
pub fn describe(op: &AlterOp) -> String {
    match op {
        AlterOp::CreateTable(t) => format!("add table `{}`", t.name()),
        AlterOp::DropTable { table } => format!("remove table `{table}`"),
        AlterOp::RenameTable { from, to } => format!("rename table `{from}` to `{to}`"),
        AlterOp::AddColumn { table, column } => format!("add column `{table}.{}`", column.name()),
        AlterOp::DropColumn { table, column } => format!("remove column `{table}.{column}`"),
        AlterOp::AlterColumn { table, from, to } => {
            let mut what = Vec::new();
            if from.sql_type() != to.sql_type() {
                what.push(format!("type {:?} -> {:?}", from.sql_type(), to.sql_type()));
            }
            if from.is_nullable() != to.is_nullable() {
                what.push(format!(
                    "nullable {} -> {}",
                    from.is_nullable(),
                    to.is_nullable()
                ));
            }
            if from.get_server_default() != to.get_server_default() {
                what.push("server default".to_owned());
            }
            format!("alter column `{table}.{}`: {}", to.name(), what.join(", "))
        }
        AlterOp::RenameColumn { table, from, to } => {
            format!("rename column `{table}.{from}` to `{to}`")
        }
        AlterOp::CreateIndex { table, index } => format!("add index `{}` on `{table}`", index.name),
        AlterOp::DropIndex { table, name } => format!("remove index `{name}` on `{table}`"),
        AlterOp::AddUnique { table, constraint } => {
            format!(
                "add unique constraint on `{table}` ({})",
                constraint.columns.join(", ")
            )
        }
        AlterOp::DropUnique { table, constraint } => {
            format!(
                "remove unique constraint on `{table}` ({})",
                constraint.columns.join(", ")
            )
        }
        AlterOp::AddForeignKey {
            table, foreign_key, ..
        } => format!(
            "add foreign key `{table}` ({}) -> `{}`",
            foreign_key.columns.join(", "),
            foreign_key.ref_table
        ),
        AlterOp::DropForeignKey {
            table, foreign_key, ..
        } => format!(
            "remove foreign key `{table}` ({}) -> `{}`",
            foreign_key.columns.join(", "),
            foreign_key.ref_table
        ),
        AlterOp::CreateEnum { name, .. } => format!("add enum type `{name}`"),
        AlterOp::AddEnumValue { name, value, .. } => {
            format!("add value '{value}' to enum `{name}`")
        }
        AlterOp::ReplaceEnum { name, from, to, .. } => {
            format!("change the values of enum `{name}` from {from:?} to {to:?}")
        }
        AlterOp::DropEnum { name, .. } => format!("remove enum type `{name}`"),
        other => format!("{other:?}"),
    }
}

/// The steps that take `database` to `target` on `dialect`, and back.
pub fn compare(target: &MetaData, database: &MetaData, dialect: &dyn Dialect) -> Diff {
    let cx = Cx {
        d: dialect,
        style: enum_style(dialect),
        rowid: dialects::compiler::alter::alter_features(dialect).integer_rowid_key,
    };
    let mut up = Plan::default();
    let mut down = Plan::default();

    let target_names: BTreeSet<&str> = target.tables().iter().map(Table::name).collect();
    let db_names: BTreeSet<&str> = database.tables().iter().map(Table::name).collect();
    let mut added: Vec<&Table> = target
        .sorted_tables()
        .unwrap_or_else(|_| target.tables().to_vec())
        .iter()
        .filter(|t| !db_names.contains(t.name()))
        .filter_map(|t| target.table(t.name()))
        .collect();
    let mut db_sorted = database
        .sorted_tables()
        .unwrap_or_else(|_| database.tables().to_vec());
    db_sorted.reverse();
    let mut removed: Vec<&Table> = db_sorted
        .iter()
        .filter(|t| !target_names.contains(t.name()))
        .filter_map(|t| database.table(t.name()))
        .collect();

    // Renamed tables: a removed and an added table sharing at least half
    // of their columns.
    let mut pairs: Vec<(&Table, &Table)> = Vec::new();
    loop {
        let best = removed
            .iter()
            .flat_map(|r| added.iter().map(move |a| (table_similarity(r, a), *r, *a)))
            .filter(|(s, _, _)| *s >= 0.5)
            .max_by(|x, y| x.0.total_cmp(&y.0));
        let Some((score, r, a)) = best else { break };
        up.rename.push(Change::noted(
            AlterOp::RenameTable {
                from: r.name().to_owned(),
                to: a.name().to_owned(),
            },
            format!(
                "RENAME? table `{}` is gone and `{}` is new, with {:.0}% of its columns alike: \
                 confirm this rename, or replace it with drop_table + create_table",
                r.name(),
                a.name(),
                score * 100.0
            ),
        ));
        down.rename.push(Change::new(AlterOp::RenameTable {
            from: a.name().to_owned(),
            to: r.name().to_owned(),
        }));
        pairs.push((r, a));
        removed.retain(|t| t.name() != r.name());
        added.retain(|t| t.name() != a.name());
    }

    for t in &added {
        up.create
            .push(Change::new(AlterOp::CreateTable((*t).clone())));
        down.create.push(Change::new(AlterOp::DropTable {
            table: t.name().to_owned(),
        }));
    }
    for t in &removed {
        up.drop.push(Change::noted(
            AlterOp::DropTable {
                table: t.name().to_owned(),
            },
            format!(
                "drops `{}` and every row of it; the downgrade recreates it empty",
                t.name()
            ),
        ));
        down.drop
            .push(Change::new(AlterOp::CreateTable((*t).clone())));
    }

    for t in target.tables() {
        if let Some(db) = database.table(t.name()) {
            compare_tables(&cx, db, t, &mut up, &mut down);
        }
    }
    for (db, t) in &pairs {
        let renamed = dialects::schema::alter::renamed_table(db, t.name());
        compare_tables(&cx, &renamed, t, &mut up, &mut down);
    }
    if cx.style == EnumStyle::Named {
        compare_enums(target, database, &mut up, &mut down);
    }
    Diff {
        upgrade: up.into_changes(false),
        downgrade: down.into_changes(true),
    }
}

struct Cx<'a> {
    d: &'a dyn Dialect,
    style: EnumStyle,
    rowid: bool,
}

/// Steps sorted into the order they can run in.
#[derive(Default)]
struct Plan {
    enums_first: Vec<Change>,
    rename: Vec<Change>,
    create: Vec<Change>,
    drop_keys: Vec<Change>,
    columns: Vec<Change>,
    add_keys: Vec<Change>,
    foreign_keys: Vec<Change>,
    drop: Vec<Change>,
    enums_last: Vec<Change>,
}

impl Plan {
    /// Upgrade order, or for a downgrade plan (`reverse`), the order that
    /// undoes an upgrade: its groups and the steps within each reversed.
    fn into_changes(self, reverse: bool) -> Vec<Change> {
        let groups = [
            self.enums_first,
            self.rename,
            self.create,
            self.drop_keys,
            self.columns,
            self.add_keys,
            self.foreign_keys,
            self.drop,
            self.enums_last,
        ];
        if !reverse {
            return groups.into_iter().flatten().collect();
        }
        // A downgrade plan holds, in each group, the inverses of the
        // upgrade's steps of that group: run the groups backwards, each
        // reversed (tables dropped children first come back parents first).
        let [enums_first, rename, create, drop_keys, columns, add_keys, foreign_keys, drop, enums_last] =
            groups;
        let rev = |mut v: Vec<Change>| {
            v.reverse();
            v
        };
        [
            rev(enums_last),
            rev(drop),
            rev(foreign_keys),
            rev(add_keys),
            rev(columns),
            rev(drop_keys),
            rev(create),
            rev(rename),
            rev(enums_first),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

fn table_similarity(a: &Table, b: &Table) -> f64 {
    let x: BTreeSet<&str> = a.columns().iter().map(Column::name).collect();
    let y: BTreeSet<&str> = b.columns().iter().map(Column::name).collect();
    let shared = x.intersection(&y).count() as f64;
    let all = x.union(&y).count().max(1) as f64;
    shared / all
}

fn compare_tables(cx: &Cx<'_>, db: &Table, t: &Table, up: &mut Plan, down: &mut Plan) {
    let name = t.name().to_owned();
    let mut added: Vec<&Column> = t
        .columns()
        .iter()
        .filter(|c| db.get_column(c.name()).is_none())
        .collect();
    let mut removed: Vec<&Column> = db
        .columns()
        .iter()
        .filter(|c| t.get_column(c.name()).is_none())
        .collect();

    // Renamed columns: same type and nullability; the closest name wins.
    let mut renamed: Vec<(&Column, &Column)> = Vec::new();
    loop {
        let mut best: Option<(f64, &Column, &Column)> = None;
        for r in &removed {
            let alike: Vec<&&Column> = added.iter().filter(|a| same_shape(cx, t, r, a)).collect();
            for a in &alike {
                let s = strsim::normalized_levenshtein(r.name(), a.name());
                let only = alike.len() == 1
                    && removed.iter().filter(|x| same_shape(cx, t, x, a)).count() == 1;
                if (s >= 0.3 || only) && best.is_none_or(|(b, _, _)| s > b) {
                    best = Some((s, r, a));
                }
            }
        }
        let Some((_, r, a)) = best else { break };
        up.columns.push(Change::noted(
            AlterOp::RenameColumn {
                table: name.clone(),
                from: r.name().to_owned(),
                to: a.name().to_owned(),
            },
            format!(
                "RENAME? column `{name}.{}` is gone and `{name}.{}` is new, of the same type: \
                 confirm this rename, or replace it with drop_column + add_column",
                r.name(),
                a.name()
            ),
        ));
        down.columns.push(Change::new(AlterOp::RenameColumn {
            table: name.clone(),
            from: a.name().to_owned(),
            to: r.name().to_owned(),
        }));
        renamed.push((r, a));
        removed.retain(|c| c.name() != r.name());
        added.retain(|c| c.name() != a.name());
    }

    for c in &added {
        let plain = plain_column(c);
        up.columns.push(Change::new(AlterOp::AddColumn {
            table: name.clone(),
            column: plain,
        }));
        down.columns.push(Change::new(AlterOp::DropColumn {
            table: name.clone(),
            column: c.name().to_owned(),
        }));
    }
    // Columns that stay (under their new name when renamed).
    let mut kept: Vec<(Column, &Column)> = t
        .columns()
        .iter()
        .filter_map(|c| db.get_column(c.name()).map(|d| (d.clone(), c)))
        .collect();
    for (r, a) in &renamed {
        kept.push(((*r).clone().renamed(a.name()), *a));
    }
    for (old, new) in kept {
        if let Some(from) = column_change(cx, db, t, &old, new) {
            let to = plain_column(new);
            up.columns.push(Change::new(AlterOp::AlterColumn {
                table: name.clone(),
                from: from.clone(),
                to: to.clone(),
            }));
            down.columns.push(Change::new(AlterOp::AlterColumn {
                table: name.clone(),
                from: to,
                to: from,
            }));
        }
    }
    for c in &removed {
        up.columns.push(Change::noted(
            AlterOp::DropColumn {
                table: name.clone(),
                column: c.name().to_owned(),
            },
            format!(
                "drops `{name}.{}` and its data; the downgrade brings the column back empty",
                c.name()
            ),
        ));
        down.columns.push(Change::new(AlterOp::AddColumn {
            table: name.clone(),
            column: plain_column(c),
        }));
    }

    // Unique constraints, by columns.
    let renames: BTreeMap<&str, &str> = renamed.iter().map(|(r, a)| (r.name(), a.name())).collect();
    let rename_cols = |cols: &[String]| -> Vec<String> {
        cols.iter()
            .map(|c| {
                renames
                    .get(c.as_str())
                    .map_or_else(|| c.clone(), |n| (*n).to_owned())
            })
            .collect()
    };
    let target_uniques = uniques(t);
    let db_uniques: Vec<UniqueConstraint> = uniques(db)
        .into_iter()
        .map(|u| UniqueConstraint {
            name: u.name,
            columns: rename_cols(&u.columns),
        })
        .collect();
    for u in &target_uniques {
        if !db_uniques.iter().any(|x| x.columns == u.columns) {
            let mut named = u.clone();
            named
                .name
                .get_or_insert_with(|| format!("uq_{name}_{}", u.columns.join("_")));
            up.add_keys.push(Change::new(AlterOp::AddUnique {
                table: name.clone(),
                constraint: named.clone(),
            }));
            down.add_keys.push(Change::new(AlterOp::DropUnique {
                table: name.clone(),
                constraint: named,
            }));
        }
    }
    for u in &db_uniques {
        if !target_uniques.iter().any(|x| x.columns == u.columns) {
            up.drop_keys.push(Change::new(AlterOp::DropUnique {
                table: name.clone(),
                constraint: u.clone(),
            }));
            down.drop_keys.push(Change::new(AlterOp::AddUnique {
                table: name.clone(),
                constraint: u.clone(),
            }));
        }
    }

    // Indexes, by name.
    let target_indexes = t.indexes();
    let db_indexes: Vec<Index> = db
        .indexes()
        .into_iter()
        .map(|mut i| {
            i.columns = rename_cols(&i.columns);
            i
        })
        .collect();
    for i in &target_indexes {
        match db_indexes.iter().find(|x| x.name == i.name) {
            Some(x) if x.columns == i.columns && x.unique == i.unique => {}
            found => {
                if let Some(x) = found {
                    up.drop_keys.push(Change::new(AlterOp::DropIndex {
                        table: name.clone(),
                        name: x.name.clone(),
                    }));
                    down.drop_keys.push(Change::new(AlterOp::CreateIndex {
                        table: name.clone(),
                        index: x.clone(),
                    }));
                }
                up.add_keys.push(Change::new(AlterOp::CreateIndex {
                    table: name.clone(),
                    index: i.clone(),
                }));
                down.add_keys.push(Change::new(AlterOp::DropIndex {
                    table: name.clone(),
                    name: i.name.clone(),
                }));
            }
        }
    }
    for x in &db_indexes {
        if !target_indexes.iter().any(|i| i.name == x.name) {
            up.drop_keys.push(Change::new(AlterOp::DropIndex {
                table: name.clone(),
                name: x.name.clone(),
            }));
            down.drop_keys.push(Change::new(AlterOp::CreateIndex {
                table: name.clone(),
                index: x.clone(),
            }));
        }
    }

    // Foreign keys, by columns, target and actions.
    let target_fks = t.foreign_keys();
    let db_fks: Vec<TableForeignKey> = db
        .foreign_keys()
        .into_iter()
        .map(|mut f| {
            f.columns = rename_cols(&f.columns);
            f
        })
        .collect();
    let same_fk = |a: &TableForeignKey, b: &TableForeignKey| {
        a.columns == b.columns
            && a.ref_table == b.ref_table
            && a.ref_columns == b.ref_columns
            && action(cx, a.on_delete) == action(cx, b.on_delete)
            && action(cx, a.on_update) == action(cx, b.on_update)
    };
    let db_fk_names = fk_names(db);
    for f in &target_fks {
        if !db_fks.iter().any(|x| same_fk(x, f)) {
            let fk_name = Some(foreign_key_name(&name, f));
            up.foreign_keys.push(Change::new(AlterOp::AddForeignKey {
                table: name.clone(),
                name: fk_name.clone(),
                foreign_key: f.clone(),
            }));
            down.foreign_keys.push(Change::new(AlterOp::DropForeignKey {
                table: name.clone(),
                name: fk_name,
                foreign_key: f.clone(),
            }));
        }
    }
    for (i, f) in db_fks.iter().enumerate() {
        if !target_fks.iter().any(|x| same_fk(x, f)) {
            let fk_name = db_fk_names.get(i).cloned().flatten();
            up.drop_keys.push(Change::new(AlterOp::DropForeignKey {
                table: name.clone(),
                name: fk_name.clone(),
                foreign_key: f.clone(),
            }));
            down.drop_keys.push(Change::new(AlterOp::AddForeignKey {
                table: name.clone(),
                name: fk_name,
                foreign_key: f.clone(),
            }));
        }
    }
}

/// Reflected foreign keys carry no name in the schema model; a drop looks
/// the name up in the database when it runs.
fn fk_names(t: &Table) -> Vec<Option<String>> {
    t.foreign_keys().iter().map(|_| None).collect()
}

fn action(cx: &Cx<'_>, a: Option<ReferentialAction>) -> Option<ReferentialAction> {
    match a {
        Some(ReferentialAction::NoAction) => None,
        // MySQL reports RESTRICT as its default, NO ACTION.
        Some(ReferentialAction::Restrict) if cx.d.name().starts_with("m") => None,
        other => other,
    }
}

/// Unique constraints of `t`, column-level ones included.
fn uniques(t: &Table) -> Vec<UniqueConstraint> {
    let mut out: Vec<UniqueConstraint> = t.unique_constraints().to_vec();
    for c in t.columns().iter().filter(|c| c.is_unique()) {
        if !out.iter().any(|u| u.columns == [c.name().to_owned()]) {
            out.push(UniqueConstraint::new([c.name()]));
        }
    }
    out
}

/// The column without its unique, index and foreign key, which are
/// compared (and added) as constraints of their own.
fn plain_column(c: &Column) -> Column {
    let mut out = Column::new(c.name(), c.sql_type().clone()).nullable(c.is_nullable());
    if c.is_primary_key() {
        out = out.primary_key();
    }
    if let Some(d) = c.get_server_default() {
        out = match d {
            ServerDefault::Literal(v) => out.server_default(v.clone()),
            ServerDefault::Expr(e) => out.server_default(e.clone()),
        };
    }
    out
}

fn same_shape(cx: &Cx<'_>, t: &Table, a: &Column, b: &Column) -> bool {
    type_sql(cx, t, a) == type_sql(cx, t, b) && a.is_nullable() == b.is_nullable()
}

/// The type as the backend writes it (`None` when it cannot).
fn type_sql(cx: &Cx<'_>, t: &Table, c: &Column) -> Option<String> {
    if cx.rowid && is_autoincrement(t, c) {
        return Some("INTEGER".into());
    }
    cx.d.type_name(c.sql_type(), c.name())
        .ok()
        .map(|s| s.to_ascii_lowercase())
}

/// The column as the database has it, with the mappings' spelling kept
/// for whatever agrees (so a downgrade stays backend-neutral), when it
/// differs from the mapping's; `None` when they agree.
fn column_change(
    cx: &Cx<'_>,
    db_table: &Table,
    t: &Table,
    db: &Column,
    target: &Column,
) -> Option<Column> {
    let mut changed = false;
    let mut from = plain_column(db);
    let auto = is_autoincrement(t, target);
    let types_differ = type_sql(cx, db_table, db) != type_sql(cx, t, target)
        || (cx.style != EnumStyle::Named && enum_values(db) != enum_values(target));
    if types_differ {
        changed = true;
    } else {
        from = from.of_type(target.sql_type().clone());
    }
    if db.is_nullable() != target.is_nullable() && !target.is_primary_key() {
        changed = true;
    }
    if !auto {
        let a = db.get_server_default().map(|d| default_text(cx, db, d));
        let b = target
            .get_server_default()
            .map(|d| default_text(cx, target, d));
        if a != b {
            changed = true;
        } else {
            from = replace_default(from, target.get_server_default());
        }
    } else {
        from = replace_default(from, target.get_server_default());
    }
    changed.then_some(from)
}

fn replace_default(c: Column, default: Option<&ServerDefault>) -> Column {
    let mut out = Column::new(c.name(), c.sql_type().clone()).nullable(c.is_nullable());
    if c.is_primary_key() {
        out = out.primary_key();
    }
    match default {
        Some(ServerDefault::Literal(v)) => out.server_default(v.clone()),
        Some(ServerDefault::Expr(e)) => out.server_default(e.clone()),
        None => out,
    }
}

fn enum_values(c: &Column) -> Option<&[String]> {
    match c.sql_type() {
        SqlType::Enum { variants, .. } => Some(variants),
        _ => None,
    }
}

/// A default as comparable text.
fn default_text(cx: &Cx<'_>, c: &Column, d: &ServerDefault) -> String {
    normalise_default(&server_default_sql(c, d, cx.d).unwrap_or_default())
}

/// Default text without case (outside quotes), blanks, casts of
/// constants, quotes around numbers, or outer parentheses.
pub fn normalise_default(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    let mut in_quote = false;
    while let Some(c) = chars.next() {
        if in_quote {
            out.push(c);
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    out.push('\'');
                    chars.next();
                } else {
                    in_quote = false;
                }
            }
            continue;
        }
        match c {
            '\'' => {
                in_quote = true;
                out.push(c);
            }
            ':' if chars.peek() == Some(&':') => {
                chars.next();
                // Skip the cast's type name.
                while chars.peek().is_some_and(|c| {
                    c.is_alphanumeric() || *c == '_' || *c == ' ' || *c == '[' || *c == ']'
                }) {
                    chars.next();
                }
            }
            c if c.is_whitespace() => {}
            c => out.push(c.to_ascii_lowercase()),
        }
    }
    loop {
        let stripped = strip_outer_parens(&out);
        if stripped.len() == out.len() {
            break;
        }
        out = stripped;
    }
    if out.len() >= 2
        && out.starts_with('\'')
        && out.ends_with('\'')
        && out[1..out.len() - 1].parse::<f64>().is_ok()
    {
        out = out[1..out.len() - 1].to_owned();
    }
    out
}

fn strip_outer_parens(s: &str) -> String {
    if !(s.starts_with('(') && s.ends_with(')')) {
        return s.to_owned();
    }
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 && i != s.len() - 1 {
                    return s.to_owned();
                }
            }
            _ => {}
        }
    }
    s[1..s.len() - 1].to_owned()
}

/// An enum type's values and the `(table, column)` pairs of that type.
type EnumUse = (Vec<String>, Vec<(String, String)>);

/// Named enum types: created, extended, replaced or dropped.
fn compare_enums(target: &MetaData, database: &MetaData, up: &mut Plan, down: &mut Plan) {
    let collect = |md: &MetaData| {
        let mut out: BTreeMap<String, EnumUse> = BTreeMap::new();
        for t in md.tables() {
            for c in t.columns() {
                if let SqlType::Enum { name, variants, .. } = c.sql_type() {
                    let e = out
                        .entry(name.clone())
                        .or_insert_with(|| (variants.clone(), Vec::new()));
                    e.1.push((t.name().to_owned(), c.name().to_owned()));
                }
            }
        }
        out
    };
    let want = collect(target);
    let have = collect(database);
    for (name, (values, columns)) in &want {
        match have.get(name) {
            None => {
                up.enums_first.push(Change::new(AlterOp::CreateEnum {
                    name: name.clone(),
                    values: values.clone(),
                }));
                down.enums_first.push(Change::new(AlterOp::DropEnum {
                    name: name.clone(),
                    values: values.clone(),
                }));
            }
            Some((old, _)) if old == values => {}
            Some((old, _)) => {
                let appended = values.len() > old.len() && values[..old.len()] == old[..];
                if appended {
                    for v in &values[old.len()..] {
                        up.enums_first.push(Change::new(AlterOp::AddEnumValue {
                            name: name.clone(),
                            value: v.clone(),
                            after: None,
                        }));
                    }
                    down.enums_first.push(Change::noted(
                        AlterOp::ReplaceEnum { name: name.clone(), from: values.clone(), to: old.clone(), columns: columns.clone() },
                        "a value cannot be removed from an enum type in place: the type is recreated",
                    ));
                } else {
                    up.enums_last.push(Change::noted(
                        AlterOp::ReplaceEnum {
                            name: name.clone(),
                            from: old.clone(),
                            to: values.clone(),
                            columns: columns.clone(),
                        },
                        "rows holding a removed value make this step fail: update them first",
                    ));
                    down.enums_last.push(Change::new(AlterOp::ReplaceEnum {
                        name: name.clone(),
                        from: values.clone(),
                        to: old.clone(),
                        columns: columns.clone(),
                    }));
                }
            }
        }
    }
    for (name, (values, _)) in &have {
        if !want.contains_key(name) {
            up.enums_last.push(Change::new(AlterOp::DropEnum {
                name: name.clone(),
                values: values.clone(),
            }));
            down.enums_last.push(Change::new(AlterOp::CreateEnum {
                name: name.clone(),
                values: values.clone(),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_compare_without_backend_noise() {
        assert_eq!(
            normalise_default("timezone('utc'::text, now())"),
            normalise_default("(TIMEZONE('utc', now()))")
        );
        assert_eq!(
            normalise_default("utc_timestamp(6)"),
            normalise_default("(UTC_TIMESTAMP(6))")
        );
        assert_eq!(normalise_default("'5'::numeric"), "5");
        assert_ne!(normalise_default("'Active'"), normalise_default("'active'"));
        assert_ne!(normalise_default("(a) + (b)"), "a)+(b");
    }
}
