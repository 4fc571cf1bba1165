//! The unit of work: staged changes, and the plan that orders them into
//! statements. [`plan`] is a pure function (tested without a database);
//! the session executes what it returns.

use std::any::TypeId;
use std::sync::Arc;

use dialects::{Features, MetaData, Value};

use super::identity::IdentityKey;
use super::mapper::MapperInfo;
use super::registry::Mappers;
use crate::error::Error;

/// A field whose value is another staged row's field, known only once
/// that row is inserted (a child's foreign key to a new parent's id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Link {
    /// The field to fill.
    pub field: usize,
    /// The staged insert it comes from (its `id`).
    pub parent: usize,
    /// The field of that row.
    pub parent_field: usize,
}

/// A value of an association row: known, or from a staged insert.
#[derive(Debug, Clone)]
pub(crate) enum RefValue {
    Known(Value),
    Linked { change: usize, field: usize },
}

/// A change staged by `add`, `delete` or `merge`.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    /// A new row: every mapped field's value (NULL where unset).
    Insert {
        ty: TypeId,
        id: usize,
        values: Vec<Value>,
        links: Vec<Link>,
    },
    /// Changed fields of a persistent row.
    Update {
        ty: TypeId,
        key: IdentityKey,
        pk: Vec<Value>,
        set: Vec<(usize, Value)>,
        version: Option<Value>,
        links: Vec<Link>,
    },
    /// A row of an association table.
    Associate {
        table: dialects::Table,
        columns: [String; 2],
        values: [RefValue; 2],
    },
    /// Rows of a table matching `column = value` (association rows, or
    /// children whose parent is deleted): deleted before the parent.
    DeleteWhere {
        table: dialects::Table,
        conditions: Vec<(String, Value)>,
    },
    /// A persistent row to delete.
    Delete {
        ty: TypeId,
        key: IdentityKey,
        pk: Vec<Value>,
        version: Option<Value>,
    },
}

/// One statement (or batch) of a flush.
#[derive(Debug)]
pub(crate) enum Step {
    /// `INSERT INTO t (columns) VALUES (...), (...) [RETURNING ...]`.
    Insert {
        info: Arc<MapperInfo>,
        /// Field positions sent as columns.
        columns: Vec<usize>,
        /// Full field values of each row (unsent fields NULL until returned),
        /// with the staged change it comes from and its links.
        rows: Vec<(usize, Vec<Value>, Vec<Link>)>,
        /// Field positions to read back (`RETURNING`), when the backend can.
        returning: Vec<usize>,
    },
    /// `INSERT INTO association (a, b) VALUES ...`.
    Associate {
        table: dialects::Table,
        columns: [String; 2],
        rows: Vec<[RefValue; 2]>,
    },
    /// `DELETE FROM t WHERE ...`.
    DeleteWhere {
        table: dialects::Table,
        conditions: Vec<(String, Value)>,
    },
    /// `UPDATE t SET ... WHERE pk = ... [AND version = ...]`.
    Update {
        info: Arc<MapperInfo>,
        key: IdentityKey,
        pk: Vec<Value>,
        set: Vec<(usize, Value)>,
        version: Option<Value>,
        links: Vec<Link>,
    },
    /// `DELETE FROM t WHERE pk IN (...)` (one row per statement when versioned).
    Delete {
        info: Arc<MapperInfo>,
        keys: Vec<IdentityKey>,
        pks: Vec<Vec<Value>>,
        version: Option<Value>,
    },
}

/// Insert rows of one shape: depth (for trees), sent fields, rows.
type Batch = (usize, Vec<usize>, Vec<(usize, Vec<Value>, Vec<Link>)>);

/// Orders `changes` into statements: inserts and updates table by table,
/// parents before children; deletes children before parents. Inserts into
/// one table with the same columns are batched, as many rows per statement
/// as the backend's parameter limit allows.
pub(crate) fn plan(
    changes: &[Change],
    mappers: &Mappers,
    features: &Features,
) -> Result<Vec<Step>, Error> {
    let order = table_order(mappers.metadata())?;
    let rank = |info: &MapperInfo| {
        order
            .iter()
            .position(|t| t == info.table.name())
            .unwrap_or(usize::MAX)
    };
    let info_of = |ty: &TypeId| {
        mappers.info(*ty).cloned().ok_or(Error::UnmappedType {
            type_name: "(unknown type)",
        })
    };
    let mut tables: Vec<Arc<MapperInfo>> = Vec::new();
    for c in changes {
        let ty = match c {
            Change::Insert { ty, .. } | Change::Update { ty, .. } | Change::Delete { ty, .. } => ty,
            Change::Associate { .. } | Change::DeleteWhere { .. } => continue,
        };
        let info = info_of(ty)?;
        if !tables.iter().any(|t| Arc::ptr_eq(t, &info)) {
            tables.push(info);
        }
    }
    tables.sort_by_key(|t| rank(t));

    let mut steps = Vec::new();
    for info in &tables {
        // Inserts, batched by the set of columns they send; a row linked to
        // a new row of the same table (a tree) waits for a later batch.
        let mut depth: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
        let mut batches: Vec<Batch> = Vec::new();
        for c in changes {
            let Change::Insert {
                ty,
                id,
                values,
                links,
            } = c
            else {
                continue;
            };
            if *ty != info.type_id {
                continue;
            }
            let d = links
                .iter()
                .filter_map(|l| depth.get(&l.parent).map(|d| d + 1))
                .max()
                .unwrap_or(0);
            depth.insert(*id, d);
            let values = with_defaults(info, values.clone());
            let columns: Vec<usize> = (0..values.len())
                .filter(|&i| {
                    !(values[i].is_null()
                        && info.server_generated.contains(&i)
                        && !links.iter().any(|l| l.field == i))
                })
                .collect();
            match batches
                .iter_mut()
                .find(|(bd, cols, _)| *bd == d && *cols == columns)
            {
                Some((_, _, rows)) => rows.push((*id, values, links.clone())),
                None => batches.push((d, columns, vec![(*id, values, links.clone())])),
            }
        }
        batches.sort_by_key(|(d, _, _)| *d);
        for (_, columns, rows) in batches {
            let returning: Vec<usize> = if features.insert_returning {
                (0..info.columns.len())
                    .filter(|i| !columns.contains(i) || info.pk.contains(i))
                    .collect()
            } else {
                Vec::new()
            };
            let per_statement = (features.max_bind_params / columns.len().max(1)).clamp(1, 10_000);
            let mut rows = rows;
            while !rows.is_empty() {
                let rest = rows.split_off(rows.len().min(per_statement));
                steps.push(Step::Insert {
                    info: info.clone(),
                    columns: columns.clone(),
                    rows,
                    returning: returning.clone(),
                });
                rows = rest;
            }
        }
        for c in changes {
            if let Change::Update {
                ty,
                key,
                pk,
                set,
                version,
                links,
            } = c
            {
                if *ty == info.type_id && (!set.is_empty() || !links.is_empty()) {
                    steps.push(Step::Update {
                        info: info.clone(),
                        key: key.clone(),
                        pk: pk.clone(),
                        set: with_onupdate(info, set.clone()),
                        version: version.clone(),
                        links: links.clone(),
                    });
                }
            }
        }
    }
    // Association rows once both sides exist.
    let mut assoc: Vec<(dialects::Table, [String; 2], Vec<[RefValue; 2]>)> = Vec::new();
    for c in changes {
        if let Change::Associate {
            table,
            columns,
            values,
        } = c
        {
            match assoc
                .iter_mut()
                .find(|(t, cols, _)| t.name() == table.name() && cols == columns)
            {
                Some((_, _, rows)) => rows.push(values.clone()),
                None => assoc.push((table.clone(), columns.clone(), vec![values.clone()])),
            }
        }
    }
    for (table, columns, rows) in assoc {
        steps.push(Step::Associate {
            table,
            columns,
            rows,
        });
    }
    // Association rows and children deleted through their parent go first.
    for c in changes {
        if let Change::DeleteWhere { table, conditions } = c {
            steps.push(Step::DeleteWhere {
                table: table.clone(),
                conditions: conditions.clone(),
            });
        }
    }
    for info in tables.iter().rev() {
        let mut keys = Vec::new();
        let mut pks = Vec::new();
        for c in changes {
            let Change::Delete {
                ty,
                key,
                pk,
                version,
            } = c
            else {
                continue;
            };
            if *ty != info.type_id {
                continue;
            }
            if version.is_some() {
                steps.push(Step::Delete {
                    info: info.clone(),
                    keys: vec![key.clone()],
                    pks: vec![pk.clone()],
                    version: version.clone(),
                });
            } else {
                keys.push(key.clone());
                pks.push(pk.clone());
            }
        }
        let per_statement = (features.max_bind_params / info.pk.len().max(1)).clamp(1, 10_000);
        while !pks.is_empty() {
            let rest_pks = pks.split_off(pks.len().min(per_statement));
            let rest_keys = keys.split_off(keys.len().min(per_statement));
            steps.push(Step::Delete {
                info: info.clone(),
                keys,
                pks,
                version: None,
            });
            pks = rest_pks;
            keys = rest_keys;
        }
    }
    Ok(steps)
}

/// Table names, parents first.
fn table_order(metadata: &MetaData) -> Result<Vec<String>, Error> {
    Ok(metadata
        .sorted_tables()?
        .iter()
        .map(|t| t.name().to_owned())
        .collect())
}

/// Fills NULL fields that have an ORM-side default.
fn with_defaults(info: &MapperInfo, mut values: Vec<Value>) -> Vec<Value> {
    for (i, d) in info.defaults.iter().enumerate() {
        if let (Some(d), true) = (d, values[i].is_null()) {
            values[i] = d.value();
        }
    }
    values
}

/// Adds ORM-side onupdate values for fields the update does not set.
fn with_onupdate(info: &MapperInfo, mut set: Vec<(usize, Value)>) -> Vec<(usize, Value)> {
    for (i, d) in info.onupdate.iter().enumerate() {
        if let Some(d) = d {
            if !set.iter().any(|(j, _)| *j == i) {
                set.push((i, d.value()));
            }
        }
    }
    set
}
