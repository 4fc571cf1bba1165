//! Retrying whole transactions: which errors say that running the
//! transaction again may succeed ([`Retryable`]), and how often and how
//! far apart to try ([`RetryPolicy`]), for
//! [`Engine::transaction_with_retry`](crate::Engine::transaction_with_retry).

use std::hash::BuildHasher as _;
use std::time::Duration;

use crate::error::Error;

/// An error that can say whether running the failed transaction again,
/// from the start, may succeed.
pub trait Retryable {
    /// Whether a new attempt may succeed.
    fn is_retryable(&self) -> bool;
}

impl Retryable for Error {
    /// [`Error::is_retryable`]: serialization failures, deadlocks, locks
    /// not granted, lost connections, pool timeouts.
    fn is_retryable(&self) -> bool {
        Error::is_retryable(self)
    }
}

impl Retryable for domain::DomainError {
    /// `Unavailable` and `Concurrency`.
    fn is_retryable(&self) -> bool {
        domain::DomainError::is_retryable(self)
    }
}

/// How many attempts, and the pauses between them: before attempt *n + 1*
/// a random pause between zero and `initial_backoff * 2^(n-1)` (at most
/// `max_backoff`), so that transactions that collided do not collide again
/// in step ("full jitter").
///
/// ```
/// use std::time::Duration;
/// use persistence::RetryPolicy;
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.max_attempts, 3);
/// assert!(policy.backoff(1) <= Duration::from_millis(10));
/// assert!(policy.backoff(20) <= policy.max_backoff);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least one).
    pub max_attempts: u32,
    /// The longest pause after the first attempt.
    pub initial_backoff: Duration,
    /// The longest pause at all.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// `attempts` attempts in all, with the default pauses.
    pub fn attempts(attempts: u32) -> Self {
        RetryPolicy {
            max_attempts: attempts.max(1),
            ..RetryPolicy::default()
        }
    }

    /// The pause after failed attempt number `attempt` (1 for the first).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let shift = attempt.saturating_sub(1).min(20);
        let ceiling = self
            .initial_backoff
            .saturating_mul(1 << shift)
            .min(self.max_backoff);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        // A random fraction of the ceiling: foldhash's per-process random
        // seed over the attempt and the clock.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let random = foldhash::fast::RandomState::default().hash_one((attempt, now));
        Duration::from_nanos(random % nanos.saturating_add(1))
    }
}
