//! `MetaData`: the collection of tables, sorted by foreign-key dependency.

use std::collections::{BTreeSet, HashMap};

use super::table::Table;
use crate::error::CompileError;

/// A collection of tables, as SQLAlchemy's `MetaData`.
///
/// ```
/// use dialects::{Column, MetaData, SqlType, Table};
/// let mut metadata = MetaData::new();
/// let resume = metadata.add(Table::new("resume")
///     .column(Column::new("id", SqlType::Integer).primary_key())
///     .column(Column::new("worker_id", SqlType::Integer).foreign_key("worker.id")));
/// let worker = metadata.add(Table::new("worker")
///     .column(Column::new("id", SqlType::Integer).primary_key()));
/// let order: Vec<_> = metadata.sorted_tables().unwrap().iter().map(|t| t.name().to_owned()).collect();
/// assert_eq!(order, ["worker", "resume"]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MetaData {
    tables: Vec<Table>,
}

impl MetaData {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a table (replacing one of the same name) and returns a handle to it.
    pub fn add(&mut self, table: Table) -> Table {
        self.tables.retain(|t| t.name() != table.name());
        self.tables.push(table.clone());
        table
    }

    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name() == name)
    }

    /// A metadata of the tables named `names` only (what `create_all` /
    /// `drop_all` of some tables work on); an unknown name is
    /// [`CompileError::UnknownTable`].
    pub fn subset<S: AsRef<str>>(&self, names: &[S]) -> Result<MetaData, CompileError> {
        let mut out = MetaData::new();
        for n in names {
            let t = self
                .table(n.as_ref())
                .ok_or_else(|| CompileError::UnknownTable {
                    table: n.as_ref().to_owned(),
                })?;
            out.add(t.clone());
        }
        Ok(out)
    }

    /// The tables in the order they were added.
    pub fn tables(&self) -> &[Table] {
        &self.tables
    }

    /// The tables ordered so that every table comes after the tables its
    /// foreign keys point at (create in this order, drop in reverse): in
    /// rounds of the tables whose parents are all placed, each round by
    /// name, so the order is deterministic.
    /// Self-references are allowed; a cycle between tables is
    /// [`CompileError::DependencyCycle`] naming them.
    pub fn sorted_tables(&self) -> Result<Vec<Table>, CompileError> {
        let index: HashMap<&str, usize> = self
            .tables
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name(), i))
            .collect();
        // deps[i] = tables that table i depends on (within this metadata).
        let deps: Vec<BTreeSet<usize>> = self
            .tables
            .iter()
            .enumerate()
            .map(|(i, t)| {
                t.foreign_keys()
                    .iter()
                    .filter_map(|fk| index.get(fk.ref_table.as_str()).copied())
                    .filter(|&j| j != i)
                    .collect()
            })
            .collect();
        let mut done = vec![false; self.tables.len()];
        let mut out = Vec::with_capacity(self.tables.len());
        while out.len() < self.tables.len() {
            let ready: Vec<usize> = (0..self.tables.len())
                .filter(|&i| !done[i] && deps[i].iter().all(|&d| done[d]))
                .collect();
            if ready.is_empty() {
                let tables = (0..self.tables.len())
                    .filter(|&i| !done[i])
                    .map(|i| self.tables[i].name().to_owned())
                    .collect();
                return Err(CompileError::DependencyCycle { tables });
            }
            // Within a round, by name: the order does not depend on the
            // order the tables were added in (SQLAlchemy's tie-break).
            let mut ready = ready;
            ready.sort_by(|&a, &b| self.tables[a].name().cmp(self.tables[b].name()));
            for i in ready {
                done[i] = true;
                out.push(self.tables[i].clone());
            }
        }
        Ok(out)
    }
}
