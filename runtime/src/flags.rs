//! The controller's command line: ACK's flag names, each also readable from the environment
//! variable ACK's Helm chart sets.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

use crate::annotations::DeletionPolicy;
use crate::requeue::RequeueConfig;
use crate::tags::{DEFAULT_RESOURCE_TAGS, DefaultTags, DefaultTagsError};

#[derive(Clone, Debug, Parser)]
#[command(about = "An ack-rs AWS service controller")]
pub struct Flags {
    /// AWS region to manage resources in (default for CRs without a region annotation).
    #[arg(long, env = "AWS_REGION")]
    pub aws_region: Option<String>,

    /// Custom AWS endpoint (e.g. an emulator); the SDK default when unset.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,

    /// Only watch this namespace; all namespaces when empty.
    #[arg(long, env = "ACK_WATCH_NAMESPACE", default_value = "")]
    pub watch_namespace: String,

    /// Seconds between drift checks of a synced resource.
    #[arg(
        long,
        env = "RECONCILE_DEFAULT_RESYNC_SECONDS",
        default_value_t = 36_000
    )]
    pub reconcile_default_resync_seconds: u64,

    /// Per-kind resync overrides, `Kind=seconds` (repeatable or comma-separated).
    #[arg(long, env = "RECONCILE_RESOURCE_RESYNC_SECONDS", value_delimiter = ',', value_parser = parse_kind_seconds)]
    pub reconcile_resource_resync_seconds: Vec<(String, u64)>,

    /// Reconciles running at once per kind.
    #[arg(
        long,
        env = "RECONCILE_DEFAULT_MAX_CONCURRENT_SYNCS",
        default_value_t = 1
    )]
    pub reconcile_default_max_concurrent_syncs: u16,

    /// Tags added to every AWS resource (`key=value`, comma-separated; templates allowed).
    #[arg(long, env = "ACK_RESOURCE_TAGS", default_value = DEFAULT_RESOURCE_TAGS)]
    pub resource_tags: String,

    /// What deleting a CR does to the AWS resource unless an annotation says otherwise.
    #[arg(long, env = "DELETION_POLICY", default_value = "delete")]
    pub deletion_policy: DeletionPolicy,

    /// error, warn, info, debug or trace.
    #[arg(long, env = "ACK_LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Human-readable logs instead of JSON.
    #[arg(long, env = "ACK_ENABLE_DEVELOPMENT_LOGGING", default_value_t = false)]
    pub enable_development_logging: bool,

    /// Address of the Prometheus `/metrics` endpoint.
    #[arg(long, env = "ACK_METRICS_ADDR", default_value = "0.0.0.0:8080", value_parser = parse_addr)]
    pub metrics_addr: SocketAddr,

    /// Address of `/healthz` and `/readyz`.
    #[arg(long, env = "ACK_HEALTHZ_ADDR", default_value = "0.0.0.0:8081", value_parser = parse_addr)]
    pub healthz_addr: SocketAddr,

    /// Run only while holding a Lease, so replicas never reconcile at once.
    #[arg(long, env = "ENABLE_LEADER_ELECTION", default_value_t = false)]
    pub enable_leader_election: bool,

    /// Namespace of the leader-election Lease (default: the pod's namespace).
    #[arg(long, env = "LEADER_ELECTION_NAMESPACE", default_value = "")]
    pub leader_election_namespace: String,

    /// Account ID for `status.ackResourceMetadata.ownerAccountID` when an ARN does not carry one.
    #[arg(long, env = "ACK_AWS_ACCOUNT_ID")]
    pub aws_account_id: Option<String>,

    /// Client-side AWS call rate limits, `service[:Op1|Op2]=rate:burst,…` (calls per second; see
    /// `ack_runtime::throttle`), e.g. `sqs=20:40,sqs:GetQueueAttributes=5:10`.
    #[arg(long, env = "AWS_API_THROTTLE", default_value = "", value_parser = crate::throttle::parse_rules_flag)]
    pub aws_api_throttle: crate::throttle::ThrottleRules,
}

/// `:8080` (Go style, as ACK's chart passes it) means all interfaces.
fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    let full = if text.starts_with(':') {
        format!("0.0.0.0{text}")
    } else {
        text.to_string()
    };
    full.parse()
        .map_err(|e| format!("invalid address {text:?}: {e}"))
}

fn parse_kind_seconds(text: &str) -> Result<(String, u64), String> {
    let (kind, secs) = text
        .split_once('=')
        .ok_or_else(|| format!("expected Kind=seconds, got {text:?}"))?;
    let secs = secs
        .trim()
        .parse()
        .map_err(|_| format!("invalid seconds in {text:?}"))?;
    Ok((kind.trim().to_string(), secs))
}

impl Flags {
    pub fn watch_namespace(&self) -> Option<String> {
        (!self.watch_namespace.is_empty()).then(|| self.watch_namespace.clone())
    }

    pub fn default_tags(&self) -> Result<DefaultTags, DefaultTagsError> {
        DefaultTags::parse(&self.resource_tags)
    }

    pub fn requeue(&self) -> RequeueConfig {
        RequeueConfig {
            default_resync: Duration::from_secs(self.reconcile_default_resync_seconds),
            resync_per_kind: self
                .reconcile_resource_resync_seconds
                .iter()
                .map(|(k, s)| (k.clone(), Duration::from_secs(*s)))
                .collect(),
            ..RequeueConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_flag_names_parse() {
        let flags = Flags::try_parse_from([
            "ctl",
            "--aws-region=eu-west-1",
            "--aws-endpoint-url=http://127.0.0.1:5000",
            "--watch-namespace=team-a",
            "--reconcile-default-resync-seconds=60",
            "--reconcile-resource-resync-seconds=Bucket=30,Queue=90",
            "--reconcile-default-max-concurrent-syncs=4",
            "--resource-tags=team=%K8S_NAMESPACE%",
            "--deletion-policy=retain",
            "--log-level=debug",
            "--metrics-addr=:9090",
            "--healthz-addr=127.0.0.1:9091",
            "--enable-leader-election",
            "--leader-election-namespace=ack-system",
        ])
        .unwrap();
        assert_eq!(flags.aws_region.as_deref(), Some("eu-west-1"));
        assert_eq!(flags.watch_namespace(), Some("team-a".into()));
        assert_eq!(flags.deletion_policy, DeletionPolicy::Retain);
        assert_eq!(flags.metrics_addr.to_string(), "0.0.0.0:9090");
        let requeue = flags.requeue();
        assert_eq!(requeue.resync_for("Bucket"), Duration::from_secs(30));
        assert_eq!(requeue.resync_for("Table"), Duration::from_secs(60));
        assert!(flags.enable_leader_election);
        assert!(flags.default_tags().is_ok());
    }

    #[test]
    fn defaults_match_ack() {
        let flags = Flags::try_parse_from(["ctl"]).unwrap();
        assert_eq!(flags.reconcile_default_resync_seconds, 36_000);
        assert_eq!(flags.reconcile_default_max_concurrent_syncs, 1);
        assert_eq!(flags.deletion_policy, DeletionPolicy::Delete);
        assert_eq!(flags.watch_namespace(), None);
        assert_eq!(flags.resource_tags, DEFAULT_RESOURCE_TAGS);
    }

    #[test]
    fn aws_api_throttle_parses_and_refuses_bad_entries() {
        let flags = Flags::try_parse_from([
            "ctl",
            "--aws-api-throttle=sqs=20:40,sqs:GetQueueAttributes|ListQueueTags=5:10",
        ])
        .unwrap();
        assert_eq!(flags.aws_api_throttle.0.len(), 2);
        assert!(
            Flags::try_parse_from(["ctl"])
                .unwrap()
                .aws_api_throttle
                .0
                .is_empty()
        );
        let err = Flags::try_parse_from(["ctl", "--aws-api-throttle=sqs=5"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("rate:burst"), "{err}");
    }

    #[test]
    fn bad_values_name_themselves() {
        let err = Flags::try_parse_from(["ctl", "--reconcile-resource-resync-seconds=Bucket"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("Kind=seconds"), "{err}");
        let err = Flags::try_parse_from(["ctl", "--deletion-policy=keep"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("keep"), "{err}");
    }
}
