//! The one error type a domain layer sees: [`DomainError`].
//!
//! Repositories and units of work report every failure as a `DomainError`,
//! so domain and application code can match on *what went wrong* (a missing
//! row, a duplicate, a database that is down) without knowing which
//! database, driver or SQL produced it. The persistence layer maps its own
//! errors onto these variants; each variant's doc says which failures belong
//! there.

use crate::entity::Entity;

/// What went wrong, as far as a domain layer cares.
///
/// Messages are lowercase and name the things involved. Variants carry text
/// rather than the underlying error so that the type stays `Clone` and
/// comparable in tests and free of persistence types; an implementation that
/// wants the original cause logs it before converting.
///
/// The texts carry no bound values (no parameter of the failed statement,
/// no value a server quoted in its message): a `DomainError` may end up in
/// an HTTP response, and those values are often personal data. An
/// implementation builds them from its errors' value-free form (the
/// persistence crate's `Error::redacted`); the values stay in its own
/// error, for the log, when the application asks for them there.
///
/// New variants may be added, so matches need a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// An entity that the caller required does not exist
    /// ([`Repository::get_one`](crate::Repository::get_one), or a service
    /// that looked something up by id).
    #[error("{entity} `{id}` not found")]
    NotFound {
        /// Short name of the entity type, for example `"Worker"`
        /// (see [`Entity::entity_name`]).
        entity: &'static str,
        /// The id that was looked up, as its `Debug` text.
        id: String,
    },

    /// The change collides with existing data: a unique or primary key
    /// violation, an exclusion constraint. Retrying the same change fails the
    /// same way.
    #[error("conflict: {0}")]
    Conflict(String),

    /// The request is malformed or breaks a rule: a domain validation, a
    /// check / not-null / foreign key constraint, a value that does not fit
    /// its column, an unknown field or relation name in a
    /// [`ListSpec`](crate::ListSpec) or [`Load`](crate::Load).
    #[error("invalid: {0}")]
    Invalid(String),

    /// A relationship was used but had not been loaded (see
    /// [`Related::require`](crate::Related::require) and
    /// [`LoadStrategy::Raise`](crate::LoadStrategy::Raise)). A programming
    /// error: load the relation with [`Repository::get_with`](crate::Repository::get_with).
    #[error("relationship `{relation}` was not loaded")]
    NotLoaded {
        /// Name of the relationship, for example `"posts"`.
        relation: &'static str,
    },

    /// The database could not be reached or did not answer in time: connection
    /// refused or lost, pool checkout timeout, server shutting down.
    /// Retryable.
    #[error("unavailable: {0}")]
    Unavailable(String),

    /// Concurrent work got in the way: a serialization failure, a deadlock, a
    /// lock wait timeout, or stale data (an UPDATE or DELETE matched fewer
    /// rows than expected). Retryable by running the whole unit of work again
    /// from fresh reads.
    #[error("concurrency conflict: {0}")]
    Concurrency(String),

    /// Anything else: a bug, a protocol error, a mapping that does not fit
    /// the schema. Not retryable.
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    /// A [`DomainError::NotFound`] for entity type `T` and `id`.
    ///
    /// ```
    /// use domain::{DomainError, Entity};
    ///
    /// struct Worker { id: Option<i64> }
    /// impl Entity for Worker {
    ///     type Id = i64;
    ///     fn id(&self) -> Option<i64> { self.id }
    /// }
    ///
    /// let err = DomainError::not_found::<Worker>(&7);
    /// assert_eq!(err.to_string(), "Worker `7` not found");
    /// ```
    pub fn not_found<T: Entity>(id: &T::Id) -> Self {
        DomainError::NotFound {
            entity: T::entity_name(),
            id: format!("{id:?}"),
        }
    }

    /// A [`DomainError::Conflict`] with `message`.
    pub fn conflict(message: impl Into<String>) -> Self {
        DomainError::Conflict(message.into())
    }

    /// A [`DomainError::Invalid`] with `message`.
    pub fn invalid(message: impl Into<String>) -> Self {
        DomainError::Invalid(message.into())
    }

    /// A [`DomainError::Unavailable`] with `message`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        DomainError::Unavailable(message.into())
    }

    /// A [`DomainError::Concurrency`] with `message`.
    pub fn concurrency(message: impl Into<String>) -> Self {
        DomainError::Concurrency(message.into())
    }

    /// A [`DomainError::Internal`] with `message`.
    pub fn internal(message: impl Into<String>) -> Self {
        DomainError::Internal(message.into())
    }

    /// Whether running the same unit of work again, from fresh reads, may
    /// succeed: `true` for [`Unavailable`](DomainError::Unavailable) and
    /// [`Concurrency`](DomainError::Concurrency), `false` for everything
    /// else.
    ///
    /// ```
    /// use domain::DomainError;
    /// assert!(DomainError::unavailable("pool timed out after 30s").is_retryable());
    /// assert!(!DomainError::conflict("duplicate key `worker_name_key`").is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            DomainError::Unavailable(_) | DomainError::Concurrency(_)
        )
    }

    /// Whether this is a [`DomainError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, DomainError::NotFound { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Worker {
        id: Option<i64>,
    }

    impl Entity for Worker {
        type Id = i64;
        fn id(&self) -> Option<i64> {
            self.id
        }
    }

    #[test]
    fn retryable_variants() {
        assert!(DomainError::unavailable("connection refused").is_retryable());
        assert!(DomainError::concurrency("could not serialize access").is_retryable());
    }

    #[test]
    fn non_retryable_variants() {
        let errors = [
            DomainError::not_found::<Worker>(&1),
            DomainError::conflict("duplicate key"),
            DomainError::invalid("name is empty"),
            DomainError::NotLoaded { relation: "posts" },
            DomainError::internal("bug"),
        ];
        for err in errors {
            assert!(!err.is_retryable(), "{err} must not be retryable");
        }
    }

    #[test]
    fn not_found_names_entity_and_id() {
        let err = DomainError::not_found::<Worker>(&42);
        assert!(err.is_not_found());
        assert_eq!(
            err,
            DomainError::NotFound {
                entity: "Worker",
                id: "42".to_owned()
            }
        );
        assert_eq!(err.to_string(), "Worker `42` not found");
        let _ = Worker { id: None }.id();
    }

    #[test]
    fn messages_are_lowercase_and_name_things() {
        assert_eq!(
            DomainError::NotLoaded { relation: "posts" }.to_string(),
            "relationship `posts` was not loaded"
        );
        assert_eq!(
            DomainError::conflict("duplicate key `worker_name_key`").to_string(),
            "conflict: duplicate key `worker_name_key`"
        );
    }
}
