//! When to look at a resource again.
//!
//! Every reconcile ends with a requeue: even a synced resource is re-read
//! periodically to catch drift made outside Kubernetes. [`decide`] maps the
//! outcome of a reconcile to the delay. The attempt count is the caller's to
//! keep (reset it when the resource syncs), so this module stays pure.
//!
//! [`decide`] adds no jitter; the controller spreads every delay with [`jitter`]
//! so N resources applied together neither resync nor retry together.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::{ErrorClass, ReconcileError};

/// ACK's default `--reconcile-default-resync-seconds`: 10 hours.
pub const DEFAULT_RESYNC: Duration = Duration::from_secs(36_000);

/// How long to wait before retrying a terminal error.
pub const DEFAULT_TERMINAL_RETRY: Duration = Duration::from_secs(600);

/// An exponential backoff: `base · 2^attempt`, capped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The delay for attempt 0.
    pub base: Duration,
    /// The delay never exceeds this.
    pub cap: Duration,
}

impl Backoff {
    /// The delay for the `attempt`-th consecutive retry (0-based). Saturates:
    /// any attempt count, however large, gives at most `cap`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }
}

/// Requeue settings, from the controller's flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequeueConfig {
    /// `--reconcile-default-resync-seconds`.
    pub default_resync: Duration,
    /// `--reconcile-resource-resync-seconds`, per kind (e.g. `"Bucket"`).
    pub resync_per_kind: BTreeMap<String, Duration>,
    /// While a resource is not yet synced (e.g. still being created).
    pub not_synced: Backoff,
    /// After a recoverable error (throttling, 5xx...).
    pub recoverable: Backoff,
    /// After a terminal error. ACK never retries these, a known complaint:
    /// a fix made outside the spec (an IAM permission, a quota increase) then
    /// went unnoticed until the CR was touched.
    pub terminal_retry: Duration,
}

impl Default for RequeueConfig {
    fn default() -> Self {
        Self {
            default_resync: DEFAULT_RESYNC,
            resync_per_kind: BTreeMap::new(),
            // A long create (a table CREATING for tens of seconds) is polled at 1, 2, 4, 8 s
            // and then every 10 s: noticed at most 10 s after it is ready. Each poll is a
            // scheduled requeue, so waiting holds no reconcile slot from other CRs.
            not_synced: Backoff {
                base: Duration::from_secs(1),
                cap: Duration::from_secs(10),
            },
            recoverable: Backoff {
                base: Duration::from_secs(5),
                cap: Duration::from_secs(300),
            },
            terminal_retry: DEFAULT_TERMINAL_RETRY,
        }
    }
}

impl RequeueConfig {
    /// The resync period for a kind: its override if any, else the default.
    pub fn resync_for(&self, kind: &str) -> Duration {
        self.resync_per_kind
            .get(kind)
            .copied()
            .unwrap_or(self.default_resync)
    }
}

/// How a reconcile ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// AWS matches the spec.
    Synced,
    /// Progressing (e.g. the resource is still being created).
    NotSynced,
    /// Failed; the user must act.
    Terminal,
    /// Failed transiently.
    Recoverable,
}

/// `NotFound` escaping a reconcile is unexpected (adoption handles it), so
/// it is retried like a recoverable error.
impl From<&ReconcileError> for Outcome {
    fn from(e: &ReconcileError) -> Self {
        match e.class() {
            ErrorClass::Terminal => Self::Terminal,
            ErrorClass::Recoverable | ErrorClass::NotFound => Self::Recoverable,
        }
    }
}

/// When to reconcile again, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequeueDecision {
    /// Synced: re-read after the resync period to catch drift.
    Resync(Duration),
    /// Not synced or recoverable: retry soon, backing off.
    Backoff(Duration),
    /// Terminal: retry on a slow timer.
    SlowRetry(Duration),
}

impl RequeueDecision {
    /// The delay.
    pub fn after(&self) -> Duration {
        match *self {
            Self::Resync(d) | Self::Backoff(d) | Self::SlowRetry(d) => d,
        }
    }
}

/// How far [`jitter`] moves a delay, either way (Crossplane's providers use 10% too).
pub const JITTER: f64 = 0.1;

/// `delay` moved by up to ±[`JITTER`]; `unit` is a random number in `[0, 1)`.
pub fn jitter(delay: Duration, unit: f64) -> Duration {
    let factor = 1.0 - JITTER + 2.0 * JITTER * unit.clamp(0.0, 1.0);
    delay.mul_f64(factor)
}

/// Decides when to reconcile a resource of `kind` again.
///
/// `attempt` counts consecutive non-synced outcomes before this one (0 the
/// first time); it only matters for backoffs. A terminal resource is never
/// retried less often than a synced one of its kind would be re-read.
pub fn decide(
    outcome: Outcome,
    attempt: u32,
    kind: &str,
    config: &RequeueConfig,
) -> RequeueDecision {
    match outcome {
        Outcome::Synced => RequeueDecision::Resync(config.resync_for(kind)),
        Outcome::NotSynced => RequeueDecision::Backoff(config.not_synced.delay(attempt)),
        Outcome::Recoverable => RequeueDecision::Backoff(config.recoverable.delay(attempt)),
        Outcome::Terminal => {
            RequeueDecision::SlowRetry(config.terminal_retry.min(config.resync_for(kind)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn config() -> RequeueConfig {
        RequeueConfig {
            resync_per_kind: [
                ("Bucket".to_owned(), secs(600)),
                ("Fast".to_owned(), secs(60)),
            ]
            .into(),
            ..RequeueConfig::default()
        }
    }

    #[test]
    fn defaults_match_ack() {
        let c = RequeueConfig::default();
        assert_eq!(c.default_resync, secs(36_000));
        assert_eq!(c.terminal_retry, secs(600));
        assert_eq!(c.resync_for("Anything"), secs(36_000));
    }

    #[test]
    fn decide_table() {
        let c = config();
        #[rustfmt::skip]
        let cases = [
            (Outcome::Synced,      0,  "Queue",  RequeueDecision::Resync(secs(36_000))),
            (Outcome::Synced,      7,  "Bucket", RequeueDecision::Resync(secs(600))),
            (Outcome::NotSynced,   0,  "Table",  RequeueDecision::Backoff(secs(1))),
            (Outcome::NotSynced,   1,  "Table",  RequeueDecision::Backoff(secs(2))),
            (Outcome::NotSynced,   3,  "Table",  RequeueDecision::Backoff(secs(8))),
            (Outcome::NotSynced,   4,  "Table",  RequeueDecision::Backoff(secs(10))),
            (Outcome::NotSynced,   u32::MAX, "Table", RequeueDecision::Backoff(secs(10))),
            (Outcome::Recoverable, 0,  "Queue",  RequeueDecision::Backoff(secs(5))),
            (Outcome::Recoverable, 3,  "Queue",  RequeueDecision::Backoff(secs(40))),
            (Outcome::Recoverable, 10, "Queue",  RequeueDecision::Backoff(secs(300))),
            (Outcome::Terminal,    0,  "Queue",  RequeueDecision::SlowRetry(secs(600))),
            (Outcome::Terminal,    9,  "Bucket", RequeueDecision::SlowRetry(secs(600))),
            (Outcome::Terminal,    0,  "Fast",   RequeueDecision::SlowRetry(secs(60))),
        ];
        for (outcome, attempt, kind, expected) in cases {
            assert_eq!(
                decide(outcome, attempt, kind, &c),
                expected,
                "{outcome:?} {attempt} {kind}"
            );
        }
        assert_eq!(RequeueDecision::SlowRetry(secs(3)).after(), secs(3));
    }

    #[test]
    fn outcome_from_error() {
        assert_eq!(
            Outcome::from(&ReconcileError::terminal("A", "m")),
            Outcome::Terminal
        );
        assert_eq!(
            Outcome::from(&ReconcileError::recoverable("A", "m")),
            Outcome::Recoverable
        );
        assert_eq!(
            Outcome::from(&ReconcileError::NotFound),
            Outcome::Recoverable
        );
    }

    #[test]
    fn backoff_saturates() {
        let huge = Backoff {
            base: Duration::MAX,
            cap: Duration::MAX,
        };
        assert_eq!(huge.delay(40), Duration::MAX);
        let b = Backoff {
            base: secs(1),
            cap: secs(1000),
        };
        assert_eq!(b.delay(31), secs(1000));
        assert_eq!(b.delay(32), secs(1000));
        let zero = Backoff {
            base: Duration::ZERO,
            cap: secs(5),
        };
        assert_eq!(zero.delay(3), Duration::ZERO);
    }

    #[test]
    fn jitter_spreads_within_ten_percent() {
        assert_eq!(jitter(secs(1000), 0.0), secs(900));
        assert_eq!(jitter(secs(1000), 0.5), secs(1000));
        assert_eq!(jitter(secs(1000), 1.0), secs(1100));
        assert_eq!(jitter(Duration::ZERO, 0.3), Duration::ZERO);
    }

    proptest! {
        #[test]
        fn jitter_stays_in_bounds(delay_ms in 0u64..100_000_000, unit in 0.0f64..1.0) {
            let d = Duration::from_millis(delay_ms);
            let j = jitter(d, unit);
            prop_assert!(j >= d.mul_f64(0.9) - Duration::from_nanos(1));
            prop_assert!(j <= d.mul_f64(1.1) + Duration::from_nanos(1));
        }

        #[test]
        fn backoff_is_monotonic_and_capped(
            base_ms in 0u64..10_000,
            cap_ms in 0u64..1_000_000,
            attempt in 0u32..100,
        ) {
            let b = Backoff { base: Duration::from_millis(base_ms), cap: Duration::from_millis(cap_ms) };
            prop_assert!(b.delay(attempt) <= b.cap);
            prop_assert!(b.delay(attempt) <= b.delay(attempt + 1));
            prop_assert_eq!(b.delay(0), b.base.min(b.cap));
        }
    }
}
