//! The errors of the migration tools, each naming the file and line (or the
//! table and column) it is about.

use std::fmt;

/// A place in a migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file, as it was loaded (`migrations/0002_add_email.toml`).
    pub file: String,
    /// The line, 1-based.
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

fn list(locations: &[Location]) -> String {
    locations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What went wrong in a migration command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// A migration file is not valid (TOML syntax, an unknown operation or
    /// type, a missing field).
    #[error("{at}: {message}")]
    Parse {
        /// Where.
        at: Location,
        /// What is wrong.
        message: String,
    },
    /// A migration file has no `downgrade`.
    #[error(
        "{at}: migration `{revision}` has no downgrade; add `downgrade = [...]` \
         (an empty list when there is nothing to undo)"
    )]
    MissingDowngrade {
        /// The file and the line of its `upgrade`.
        at: Location,
        /// The migration.
        revision: String,
    },
    /// Two migrations revise the same one (or several have none): the
    /// history has more than one head.
    #[error(
        "the migrations have {} heads ({}): {}; make one revise the other \
         (set its `down_revision`)",
        heads.len(), heads.join(", "), list(at)
    )]
    MultipleHeads {
        /// The heads.
        heads: Vec<String>,
        /// Where each head says what it revises.
        at: Vec<Location>,
    },
    /// A `down_revision` names no migration.
    #[error("{at}: migration `{revision}` revises `{down_revision}`, which no migration file is")]
    UnknownDownRevision {
        /// Where.
        at: Location,
        /// The migration.
        revision: String,
        /// What it names.
        down_revision: String,
    },
    /// The `down_revision` links form a cycle.
    #[error("the migrations form a cycle: {}", revisions.join(" -> "))]
    Cycle {
        /// The revisions in the cycle.
        revisions: Vec<String>,
    },
    /// Two files have the same revision.
    #[error("revision `{revision}` is defined twice: {}", list(at))]
    DuplicateRevision {
        /// The revision.
        revision: String,
        /// The files.
        at: Vec<Location>,
    },
    /// An applied migration's file changed since it was applied.
    #[error(
        "{at}: migration `{revision}` was edited after it was applied on {applied_at} \
         (this line differs from the applied text; checksum {applied} in the database); \
         restore the file, or write a new migration for the change"
    )]
    ChecksumMismatch {
        /// The file and the first line that differs.
        at: Location,
        /// The migration.
        revision: String,
        /// When it was applied.
        applied_at: String,
        /// The checksum recorded when it was applied.
        applied: String,
    },
    /// The database records a revision no migration file has.
    #[error(
        "the database is at revision `{revision}`, which no migration file has \
         (a file deleted, or a database from another branch of the code)"
    )]
    UnknownAppliedRevision {
        /// The revision.
        revision: String,
    },
    /// A target revision that matches none (or several).
    #[error("no single revision matches `{target}`{}", if candidates.is_empty() { String::new() } else { format!(" (candidates: {})", candidates.join(", ")) })]
    UnknownTarget {
        /// What was asked for.
        target: String,
        /// Revisions it is a prefix of, when more than one.
        candidates: Vec<String>,
    },
    /// A target in the wrong direction (`upgrade` to an older revision).
    #[error("cannot {command} from `{current}` to `{target}`: {reason}")]
    WrongDirection {
        /// `upgrade` or `downgrade`.
        command: &'static str,
        /// Where the database is.
        current: String,
        /// Where it was asked to go.
        target: String,
        /// Why not.
        reason: &'static str,
    },
    /// A step failed on a backend whose DDL is transactional: everything
    /// of that migration was rolled back.
    #[error(
        "{at}: step {step} of {total} of migration `{revision}` failed: {source}; \
         the migration was rolled back, so the database and the version table are as they \
         were before it (at `{before}`)"
    )]
    StepRolledBack {
        /// The file and the line of the failing step.
        at: Location,
        /// The migration.
        revision: String,
        /// The failing step, 1-based.
        step: usize,
        /// Steps in that direction.
        total: usize,
        /// Where the database still is.
        before: String,
        /// The database's error.
        source: Box<MigrateError>,
    },
    /// A step failed on a backend whose DDL is not transactional (MySQL,
    /// MariaDB): the steps before it stay applied and are recorded (state
    /// `up:N` / `down:N` with N = `step - 1`).
    #[error(
        "{at}: step {step} of {total} of migration `{revision}` ({direction}) failed: {source}; \
         steps 1 to {} are applied and recorded in the version table (state `{}:{}`). \
         Fix the cause (or the step) and run `{direction}` again to resume at step {step}, \
         or undo steps 1 to {} by hand and run `stamp {before}`",
        step - 1, if *direction == "upgrade" { "up" } else { "down" }, step - 1, step - 1
    )]
    StepStopped {
        /// The file and the line of the failing step.
        at: Location,
        /// The migration.
        revision: String,
        /// `upgrade` or `downgrade`.
        direction: &'static str,
        /// The failing step, 1-based.
        step: usize,
        /// Steps in that direction.
        total: usize,
        /// The revision before this migration (`base` for none).
        before: String,
        /// The database's error.
        source: Box<MigrateError>,
    },
    /// A command that needs a complete migration found one half applied.
    #[error(
        "migration `{revision}` is half applied (state `{state}`, {at}); \
         run `{resume}` to finish it first"
    )]
    HalfApplied {
        /// The migration.
        revision: String,
        /// The recorded state.
        state: String,
        /// Its file.
        at: Location,
        /// The command that resumes it.
        resume: &'static str,
    },
    /// The database and the mappings differ (`check`).
    #[error("the database differs from the mappings:\n{}", changes.join("\n"))]
    Differs {
        /// One line per difference.
        changes: Vec<String>,
    },
    /// Reflection met a column type it cannot represent.
    #[error(
        "column `{table}.{column}` has type `{type_name}`, which the schema model cannot represent"
    )]
    UnknownType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The type as the database reports it.
        type_name: String,
    },
    /// Autogenerate or check was asked for without mappings.
    #[error("{command} compares the mappings with the database, and no mappings were given: run it from your project's binary (`migrate::cli::main_with`)")]
    NoMappings {
        /// The command.
        command: &'static str,
    },
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A statement could not be compiled.
    #[error(transparent)]
    Compile(#[from] dialects::CompileError),
    /// The database answered with an error.
    #[error(transparent)]
    Database(#[from] persistence::Error),
    /// A step or schema model that does not make sense (an operation on a
    /// table the schema lacks, an offline rebuild without history).
    #[error("{0}")]
    Invalid(String),
}
