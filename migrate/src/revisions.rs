//! The set of migrations: loaded from a folder or embedded in the binary,
//! checked into one line of history (one base, one head, every
//! `down_revision` known, no cycle), and the targets commands accept.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Location, MigrateError};
use crate::file::{parse, Migration};

/// Migrations in history order, base first.
#[derive(Debug, Clone, Default)]
pub struct Migrations {
    chain: Vec<Migration>,
}

/// Embeds the named migration files of a folder in the binary, for
/// [`crate::upgrade`]: `migrate::embed_migrations!("migrations", ["0001_initial.toml"])`.
/// Paths are relative to the crate's manifest; the files are read at
/// compile time (`include_str!`), so an edit rebuilds the binary.
#[macro_export]
macro_rules! embed_migrations {
    ($dir:literal, [$($file:literal),* $(,)?]) => {
        $crate::Migrations::embedded(&[
            $( (concat!($dir, "/", $file), include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $dir, "/", $file))) ),*
        ])
    };
}

impl Migrations {
    /// The migrations of `dir`: every `*.toml` file in it. An empty or
    /// missing folder is an empty history.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, MigrateError> {
        let dir = dir.as_ref();
        let io = |source| MigrateError::Io {
            path: dir.display().to_string(),
            source,
        };
        if !dir.exists() {
            return Ok(Migrations::default());
        }
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().and_then(|e| e.to_str()) == Some("toml") {
                let text = std::fs::read_to_string(&path).map_err(|source| MigrateError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                files.push((path.display().to_string(), text));
            }
        }
        files.sort();
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        Self::embedded(&refs)
    }

    /// Migrations from `(path, text)` pairs (what [`embed_migrations!`]
    /// gives); the revision of each is its file name without `.toml`.
    pub fn embedded(files: &[(&str, &str)]) -> Result<Self, MigrateError> {
        let mut all = Vec::with_capacity(files.len());
        for (path, text) in files {
            let revision = Path::new(path)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or(path)
                .to_owned();
            all.push(parse(&revision, path, text)?);
        }
        Self::ordered(all)
    }

    /// Checks that `all` is one line of history and orders it.
    pub fn ordered(all: Vec<Migration>) -> Result<Self, MigrateError> {
        let mut by_revision: HashMap<&str, &Migration> = HashMap::new();
        for m in &all {
            if let Some(other) = by_revision.insert(&m.revision, m) {
                return Err(MigrateError::DuplicateRevision {
                    revision: m.revision.clone(),
                    at: vec![other.at(1), m.at(1)],
                });
            }
        }
        for m in &all {
            if let Some(down) = &m.down_revision {
                if !by_revision.contains_key(down.as_str()) {
                    return Err(MigrateError::UnknownDownRevision {
                        at: m.at(m.down_revision_line),
                        revision: m.revision.clone(),
                        down_revision: down.clone(),
                    });
                }
            }
        }
        // Children of each revision ("" for the base).
        let mut children: HashMap<&str, Vec<&Migration>> = HashMap::new();
        for m in &all {
            children
                .entry(m.down_revision.as_deref().unwrap_or(""))
                .or_default()
                .push(m);
        }
        for (parent, kids) in &children {
            if kids.len() > 1 {
                let _ = parent;
                return Err(MigrateError::MultipleHeads {
                    heads: kids.iter().map(|m| m.revision.clone()).collect(),
                    at: kids.iter().map(|m| m.at(m.down_revision_line)).collect(),
                });
            }
        }
        let mut chain = Vec::with_capacity(all.len());
        let mut parent = "";
        while let Some(kids) = children.get(parent) {
            let next = kids[0];
            chain.push(next.clone());
            parent = &next.revision;
            if chain.len() > all.len() {
                break;
            }
        }
        if chain.len() != all.len() {
            let on_chain: Vec<&str> = chain.iter().map(|m| m.revision.as_str()).collect();
            let revisions = all
                .iter()
                .filter(|m| !on_chain.contains(&m.revision.as_str()))
                .map(|m| m.revision.clone())
                .collect();
            return Err(MigrateError::Cycle { revisions });
        }
        Ok(Migrations { chain })
    }

    /// Every migration, base first.
    pub fn all(&self) -> &[Migration] {
        &self.chain
    }

    /// The newest revision, if there is any migration.
    pub fn head(&self) -> Option<&Migration> {
        self.chain.last()
    }

    /// The position of `revision` in history order.
    pub fn position(&self, revision: &str) -> Option<usize> {
        self.chain.iter().position(|m| m.revision == revision)
    }

    /// The migration `revision`.
    pub fn get(&self, revision: &str) -> Option<&Migration> {
        self.chain.iter().find(|m| m.revision == revision)
    }

    /// How many migrations are applied at `target`, seen from `current`
    /// (that many applied): `head`, `base`, a revision or a unique prefix
    /// of one, `+N` / `-N` relative to `current`.
    pub fn resolve(&self, target: &str, current: usize) -> Result<usize, MigrateError> {
        let unknown = |candidates| MigrateError::UnknownTarget {
            target: target.to_owned(),
            candidates,
        };
        match target {
            "head" | "heads" => return Ok(self.chain.len()),
            "base" => return Ok(0),
            _ => {}
        }
        if let Some(n) = target
            .strip_prefix('+')
            .and_then(|n| n.parse::<usize>().ok())
        {
            let to = current + n;
            return if to <= self.chain.len() {
                Ok(to)
            } else {
                Err(unknown(Vec::new()))
            };
        }
        if let Some(n) = target
            .strip_prefix('-')
            .and_then(|n| n.parse::<usize>().ok())
        {
            return current.checked_sub(n).ok_or_else(|| unknown(Vec::new()));
        }
        if let Some(i) = self.position(target) {
            return Ok(i + 1);
        }
        let matches: Vec<usize> = (0..self.chain.len())
            .filter(|&i| self.chain[i].revision.starts_with(target))
            .collect();
        match matches.as_slice() {
            [i] => Ok(i + 1),
            [] => Err(unknown(Vec::new())),
            many => Err(unknown(
                many.iter()
                    .map(|&i| self.chain[i].revision.clone())
                    .collect(),
            )),
        }
    }

    /// The revision at `count` applied migrations (`base` for none).
    pub fn revision_at(&self, count: usize) -> String {
        match count {
            0 => "base".to_owned(),
            n => self
                .chain
                .get(n - 1)
                .map_or_else(|| "base".to_owned(), |m| m.revision.clone()),
        }
    }
}

/// The location of `m`'s file at line 1.
pub fn file_of(m: &Migration) -> Location {
    m.at(1)
}
