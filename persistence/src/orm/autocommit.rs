//! A commit whose whole transaction is one statement runs that statement
//! alone, in autocommit, without `BEGIN` and `COMMIT`: one round trip
//! instead of three. A single statement is atomic on every backend, so
//! the database ends the same (all of it, or nothing when it fails).
//!
//! The session does it only when nothing else ran in the transaction (no
//! transaction open, no savepoint), no isolation level is configured (an
//! autocommitted statement would run at the server's default), autobegin
//! is on, the connection is not inside a transaction of its own (a
//! test's pinned outer transaction keeps its savepoint), and the flush's
//! plan is one statement whose outcome is settled when the server
//! answers: a check after it that could fail (a batched UPDATE's match
//! count, a versioned multi-row DELETE) or generated values read back and
//! decoded would otherwise fail the flush after the row is stored. (An
//! INSERT of rows whose keys are all given may read those keys back as
//! stored; they decode as the keys the session sent.)

use super::unit_of_work::Step;

/// Whether `steps` is one statement that cannot fail after it ran.
pub(crate) fn one_statement(steps: &[Step]) -> bool {
    match steps {
        // Every key value sent, nothing read back but those keys (as
        // stored: RETURNING of the key columns): one INSERT. The paths
        // that read generated values back send more than one statement or
        // decode what the server generated.
        [Step::Insert {
            info,
            columns,
            returning,
            ..
        }] => {
            info.pk.iter().all(|k| columns.contains(k))
                && returning.iter().all(|r| info.pk.contains(r))
        }
        // By full primary key: at most one row matches, so a version check
        // that fails means nothing was changed.
        [Step::Update { .. }] => true,
        [Step::Delete { pks, version, .. }] => version.is_none() || pks.len() == 1,
        [Step::DeleteWhere { .. } | Step::NullifyWhere { .. } | Step::Associate { .. }] => true,
        _ => false,
    }
}
