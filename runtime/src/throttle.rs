//! Client-side rate limiting of AWS calls: `--aws-api-throttle`, in the spirit of the AWS Load
//! Balancer Controller's flag of the same name.
//!
//! `service=rate:burst` limits every call to a service; `service:Op1|Op2=rate:burst` overrides it
//! for those operations (each override its own bucket). `rate` is calls per second (fractions
//! allowed), `burst` the calls allowed at once. One token bucket per rule, shared by every worker
//! of the process (it lives in the HTTP connector, see [`crate::aws`]). Calls matching no rule are
//! not limited here; the SDK's adaptive retry mode still slows down after throttling answers and
//! speeds up again as calls succeed.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use thiserror::Error;

/// One `--aws-api-throttle` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ThrottleRule {
    pub service: String,
    /// `None`: the service-wide default.
    pub operations: Option<Vec<String>>,
    /// Calls per second.
    pub rate: f64,
    pub burst: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ThrottleError {
    #[error("--aws-api-throttle entry {entry:?}: {why}")]
    Invalid { entry: String, why: &'static str },
}

/// Parses `sqs=10:20,sqs:GetQueueAttributes|ListQueueTags=5:10,s3:*=2:4` (`*` = the service).
pub fn parse_rules(text: &str) -> Result<Vec<ThrottleRule>, ThrottleError> {
    text.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(parse_rule)
        .collect()
}

fn parse_rule(entry: &str) -> Result<ThrottleRule, ThrottleError> {
    let invalid = |why| ThrottleError::Invalid {
        entry: entry.to_string(),
        why,
    };
    let (target, limit) = entry
        .split_once('=')
        .ok_or_else(|| invalid("expected service[:Operation|…]=rate:burst"))?;
    let (service, operations) = match target.split_once(':') {
        Some((service, ops)) if ops.trim() == "*" => (service, None),
        Some((service, ops)) => {
            let ops: Vec<String> = ops.split('|').map(|o| o.trim().to_string()).collect();
            if ops.iter().any(|o| o.is_empty()) {
                return Err(invalid("empty operation name"));
            }
            (service, Some(ops))
        }
        None => (target, None),
    };
    let service = service.trim();
    if service.is_empty() {
        return Err(invalid("empty service name"));
    }
    let (rate, burst) = limit
        .split_once(':')
        .ok_or_else(|| invalid("expected rate:burst after '='"))?;
    let rate: f64 = rate
        .trim()
        .parse()
        .map_err(|_| invalid("rate is not a number"))?;
    if !(rate.is_finite() && rate > 0.0) {
        return Err(invalid(
            "rate must be a positive number of calls per second",
        ));
    }
    let burst: u32 = burst
        .trim()
        .parse()
        .map_err(|_| invalid("burst is not a whole number"))?;
    if burst == 0 {
        return Err(invalid("burst must be at least 1"));
    }
    Ok(ThrottleRule {
        service: service.to_string(),
        operations,
        rate,
        burst,
    })
}

/// The parsed flag value (a newtype so clap takes the whole list as one value).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThrottleRules(pub Vec<ThrottleRule>);

/// clap's parser for `--aws-api-throttle`.
pub fn parse_rules_flag(text: &str) -> Result<ThrottleRules, String> {
    parse_rules(text)
        .map(ThrottleRules)
        .map_err(|e| e.to_string())
}

/// The token buckets, looked up per call.
#[derive(Default)]
pub struct ApiThrottle {
    per_service: BTreeMap<String, Arc<DefaultDirectRateLimiter>>,
    per_operation: BTreeMap<(String, String), Arc<DefaultDirectRateLimiter>>,
}

impl std::fmt::Debug for ApiThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiThrottle")
            .field("services", &self.per_service.keys().collect::<Vec<_>>())
            .field("operations", &self.per_operation.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ApiThrottle {
    /// Later rules for the same service or operation replace earlier ones.
    pub fn new(rules: &[ThrottleRule]) -> Self {
        let mut throttle = Self::default();
        for rule in rules {
            let period = Duration::from_secs_f64(1.0 / rule.rate);
            let burst = NonZeroU32::new(rule.burst).expect("parse_rule refuses a zero burst");
            let quota = Quota::with_period(period)
                .expect("a positive finite rate gives a non-zero period")
                .allow_burst(burst);
            let limiter = Arc::new(RateLimiter::direct(quota));
            match &rule.operations {
                None => {
                    throttle.per_service.insert(rule.service.clone(), limiter);
                }
                Some(ops) => {
                    // The operations of one entry share its bucket, as in the LBC's flag.
                    for op in ops {
                        throttle
                            .per_operation
                            .insert((rule.service.clone(), op.clone()), limiter.clone());
                    }
                }
            }
        }
        throttle
    }

    pub fn is_empty(&self) -> bool {
        self.per_service.is_empty() && self.per_operation.is_empty()
    }

    /// The bucket a call to `service`'s `operation` draws from: the operation's override, else
    /// the service's, else none.
    pub fn limiter(
        &self,
        service: &str,
        operation: &str,
    ) -> Option<&Arc<DefaultDirectRateLimiter>> {
        self.per_operation
            .get(&(service.to_string(), operation.to_string()))
            .or_else(|| self.per_service.get(service))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(service: &str, ops: Option<&[&str]>, rate: f64, burst: u32) -> ThrottleRule {
        ThrottleRule {
            service: service.into(),
            operations: ops.map(|o| o.iter().map(|s| s.to_string()).collect()),
            rate,
            burst,
        }
    }

    #[test]
    fn parses_the_lbc_style() {
        let rules = parse_rules(
            "sqs:GetQueueAttributes=5:10, sqs=20:40,dynamodb:DescribeTable|ListTagsOfResource=0.5:1,s3:*=2:4",
        )
        .unwrap();
        assert_eq!(
            rules,
            vec![
                rule("sqs", Some(&["GetQueueAttributes"]), 5.0, 10),
                rule("sqs", None, 20.0, 40),
                rule(
                    "dynamodb",
                    Some(&["DescribeTable", "ListTagsOfResource"]),
                    0.5,
                    1
                ),
                rule("s3", None, 2.0, 4),
            ]
        );
        assert_eq!(parse_rules("").unwrap(), vec![]);
    }

    #[test]
    fn refuses_bad_entries_naming_them() {
        for (text, why) in [
            ("sqs", "expected service"),
            ("sqs=5", "expected rate:burst"),
            ("sqs=x:1", "rate is not a number"),
            ("sqs=0:1", "rate must be a positive"),
            ("sqs=-1:1", "rate must be a positive"),
            ("sqs=inf:1", "rate must be a positive"),
            ("sqs=1:0", "burst must be at least 1"),
            ("sqs=1:1.5", "burst is not a whole number"),
            ("=1:1", "empty service name"),
            ("sqs:A||B=1:1", "empty operation name"),
        ] {
            let err = parse_rules(text).unwrap_err().to_string();
            assert!(err.contains(&format!("{text:?}")), "{err}");
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn operation_overrides_win_over_the_service() {
        let throttle =
            ApiThrottle::new(&parse_rules("sqs=1:1,sqs:GetQueueAttributes=100:100").unwrap());
        let op = throttle.limiter("sqs", "GetQueueAttributes").unwrap();
        let service = throttle.limiter("sqs", "ListQueueTags").unwrap();
        assert!(!Arc::ptr_eq(op, service));
        assert!(throttle.limiter("s3", "HeadBucket").is_none());
        // The service bucket holds one call; the override's holds many.
        assert!(service.check().is_ok() && service.check().is_err());
        assert!((0..50).all(|_| op.check().is_ok()));
    }
}
