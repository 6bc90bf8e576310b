//! Prometheus metrics, with ACK's names for outbound AWS calls, and where each reconcile's time
//! goes (AWS calls, Kubernetes writes, requeue waits, waiting in the queue).

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
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
pub struct PhaseLabels {
    pub kind: String,
    pub phase: Phase,
}

/// Where a reconcile's wall-clock time goes.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Phase {
    /// Inside AWS SDK calls (retries and their waits included).
    Aws,
    /// Writing the CR (finalizer, spec, status) and its Events.
    KubeWrite,
    /// The delay a not-yet-synced or failed reconcile asked for before the next one.
    RequeueWait,
    /// From when a reconcile was due (a watch event or a requeue) until it started.
    QueueWait,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Self::Aws => "aws",
            Self::KubeWrite => "kube_write",
            Self::RequeueWait => "requeue_wait",
            Self::QueueWait => "queue_wait",
        }
    }
}

impl EncodeLabelValue for Phase {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, self.label())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WriteLabels {
    pub kind: String,
    /// `finalizer`, `spec`, `status` or `event`.
    pub write: &'static str,
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
    pub phase_seconds: Family<PhaseLabels, Histogram>,
    pub kube_writes: Family<WriteLabels, Counter>,
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
        let phase_seconds = Family::<PhaseLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 16))
        });
        registry.register(
            "ack_reconcile_phase_duration_seconds",
            "Per reconcile, time in AWS calls, Kubernetes writes, the requeue wait it asked \
             for, and waiting in the queue before it started",
            phase_seconds.clone(),
        );
        let kube_writes = Family::<WriteLabels, Counter>::default();
        registry.register(
            "ack_kubernetes_writes",
            "Writes to the Kubernetes API by kind and what was written",
            kube_writes.clone(),
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
            phase_seconds,
            kube_writes,
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

    pub fn record_phase(&self, kind: &str, phase: Phase, took: Duration) {
        self.phase_seconds
            .get_or_create(&PhaseLabels {
                kind: kind.to_string(),
                phase,
            })
            .observe(took.as_secs_f64());
    }

    pub fn count_write(&self, kind: &str, write: &'static str) {
        self.kube_writes
            .get_or_create(&WriteLabels {
                kind: kind.to_string(),
                write,
            })
            .inc();
    }

    /// Kubernetes writes of `kind` so far (every label), e.g. for tests that count round trips.
    pub fn writes(&self, kind: &str, write: &'static str) -> u64 {
        self.kube_writes
            .get_or_create(&WriteLabels {
                kind: kind.to_string(),
                write,
            })
            .get()
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

tokio::task_local! {
    /// Time spent in AWS calls by the reconcile running on this task (see [`aws_time`]).
    static AWS_TIME: Cell<Duration>;
}

/// Runs `f` (one reconcile) and returns its output with the time its AWS calls took: the
/// SDK interceptor adds each call's duration to a task-local clock, so no code per operation.
pub async fn aws_time<F: std::future::Future>(f: F) -> (F::Output, Duration) {
    AWS_TIME
        .scope(Cell::new(Duration::ZERO), async {
            let out = f.await;
            (out, AWS_TIME.with(Cell::get))
        })
        .await
}

/// Adds an AWS call's duration to the current reconcile's clock, if one is running.
pub(crate) fn add_aws_time(took: Duration) {
    let _ = AWS_TIME.try_with(|t| t.set(t.get() + took));
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
