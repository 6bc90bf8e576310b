//! Prometheus metrics, with ACK's names for outbound AWS calls.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ApiCallLabels {
    pub service: String,
    pub op_type: String,
    pub op_id: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    pub kind: String,
    pub outcome: String,
}

/// Every metric the controller exports. Cheap to clone (all handles are shared).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub outbound_requests: Family<ApiCallLabels, Counter>,
    pub outbound_errors: Family<ApiCallLabels, Counter>,
    /// Attempts AWS answered with a throttling error (as the SDK's retry classifiers judge it).
    pub throttled: Family<ApiCallLabels, Counter>,
    /// Attempts after the first, made by the SDK's retries.
    pub retries: Family<ApiCallLabels, Counter>,
    /// Seconds calls waited for an `--aws-api-throttle` token.
    pub rate_limiter_wait_seconds: Family<ApiCallLabels, Counter<f64, AtomicU64>>,
    pub reconciles: Family<ReconcileLabels, Counter>,
    pub reconcile_seconds: Family<ReconcileLabels, Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let outbound_requests = Family::<ApiCallLabels, Counter>::default();
        let outbound_errors = Family::<ApiCallLabels, Counter>::default();
        let throttled = Family::<ApiCallLabels, Counter>::default();
        let retries = Family::<ApiCallLabels, Counter>::default();
        let rate_limiter_wait_seconds = Family::<ApiCallLabels, Counter<f64, AtomicU64>>::default();
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        let reconcile_seconds = Family::<ReconcileLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 14))
        });
        registry.register(
            "ack_outbound_api_requests",
            "AWS API requests made by the controller",
            outbound_requests.clone(),
        );
        registry.register(
            "ack_outbound_api_requests_error",
            "AWS API requests that returned an error",
            outbound_errors.clone(),
        );
        registry.register(
            "ack_outbound_api_throttled",
            "AWS API attempts answered with a throttling error",
            throttled.clone(),
        );
        registry.register(
            "ack_outbound_api_retries",
            "AWS API attempts retried by the SDK",
            retries.clone(),
        );
        registry.register(
            "ack_outbound_api_rate_limiter_wait_seconds",
            "Seconds AWS API calls waited for an --aws-api-throttle token",
            rate_limiter_wait_seconds.clone(),
        );
        registry.register(
            "ack_reconcile",
            "Reconciles by kind and outcome",
            reconciles.clone(),
        );
        registry.register(
            "ack_reconcile_duration_seconds",
            "Reconcile duration by kind and outcome",
            reconcile_seconds.clone(),
        );
        Self {
            registry: Arc::new(registry),
            outbound_requests,
            outbound_errors,
            throttled,
            retries,
            rate_limiter_wait_seconds,
            reconciles,
            reconcile_seconds,
        }
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn record_reconcile(&self, kind: &str, outcome: &str, took: Duration) {
        let labels = ReconcileLabels {
            kind: kind.to_string(),
            outcome: outcome.to_string(),
        };
        self.reconciles.get_or_create(&labels).inc();
        self.reconcile_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// ACK's `op_type` label from an operation name.
pub fn op_type(operation: &str) -> &'static str {
    const READS: [&str; 4] = ["Get", "Describe", "List", "Head"];
    if READS.iter().any(|p| operation.starts_with(p)) {
        "READ_ONE"
    } else if operation.starts_with("Create") {
        "CREATE"
    } else if operation.starts_with("Delete") {
        "DELETE"
    } else {
        "UPDATE"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_exported_with_ack_names() {
        let m = Metrics::default();
        let labels = ApiCallLabels {
            service: "sqs".into(),
            op_type: op_type("GetQueueAttributes").into(),
            op_id: "GetQueueAttributes".into(),
        };
        m.outbound_requests.get_or_create(&labels).inc();
        m.record_reconcile("Queue", "synced", Duration::from_millis(12));
        let text = m.encode();
        assert!(
            text.contains(
                r#"ack_outbound_api_requests_total{service="sqs",op_type="READ_ONE",op_id="GetQueueAttributes"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"ack_reconcile_total{kind="Queue",outcome="synced"} 1"#));
    }

    #[test]
    fn op_types() {
        assert_eq!(op_type("HeadBucket"), "READ_ONE");
        assert_eq!(op_type("CreateTable"), "CREATE");
        assert_eq!(op_type("DeleteQueue"), "DELETE");
        assert_eq!(op_type("PutBucketTagging"), "UPDATE");
    }
}
