//! The controller's command line: every flag ACK's runtime defines, with ACK's names, defaults and
//! meaning, each also readable from the environment variable ACK's Helm chart sets.
//!
//! ACK's flags are Go (pflag) flags, and ACK's chart relies on their syntax: `--flag value` and
//! `--flag=value` both work, an empty value (`--watch-selectors ""`, what the chart renders from
//! an empty value) is allowed, and a boolean is `--flag`, `--flag=true` or `--flag=false` (never
//! `--flag false`). [`Flags`] parses that syntax; [`Flags::check`] then turns it into a
//! [`Config`], refusing at start-up — with the flag's name — a bad value, a kind this controller
//! does not know, or a feature turned on that ack-rs does not have yet. ACK's defaults never hit
//! such a refusal.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use axum::http::Uri;
use clap::Parser;

use crate::annotations::DeletionPolicy;
use crate::requeue::{DEFAULT_RESYNC, RequeueConfig};
use crate::tags::{DEFAULT_RESOURCE_TAGS, DefaultTags};

#[derive(Clone, Debug, Parser)]
#[command(about = "An ack-rs AWS service controller (ACK-compatible flags)")]
pub struct Flags {
    /// AWS region to manage resources in (default for CRs without a region annotation).
    #[arg(long, env = "AWS_REGION")]
    pub aws_region: Option<String>,

    /// Custom AWS endpoint (e.g. a VPC endpoint or an emulator); the SDK's own when empty.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,

    /// Endpoint of STS, used once at start-up to learn the account (GetCallerIdentity).
    #[arg(long, env = "AWS_IDENTITY_ENDPOINT_URL")]
    pub aws_identity_endpoint_url: Option<String>,

    /// Allow `http://` endpoint URLs (refused otherwise, as ACK does).
    #[arg(long, default_value = "false", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = parse_go_bool)]
    pub allow_unsafe_aws_endpoint_urls: bool,

    /// Address S3 buckets as `endpoint/bucket` rather than `bucket.endpoint` (emulators and some
    /// private endpoints need it). Services without buckets ignore it.
    #[arg(long, default_value = "false", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = parse_go_bool)]
    pub aws_endpoint_use_path_style: bool,

    /// Timeout of one AWS HTTP request, as a Go duration (`60s`, `1m30s`); `0` disables it.
    #[arg(long, default_value = "60s", value_parser = parse_go_duration)]
    pub http_client_timeout: Duration,

    /// Namespaces to watch, comma-separated; all namespaces when empty.
    #[arg(long, env = "ACK_WATCH_NAMESPACE", default_value = "")]
    pub watch_namespace: String,

    /// A Kubernetes label selector (`app=foo,env!=dev`): only matching CRs are reconciled.
    #[arg(long, env = "ACK_WATCH_SELECTORS", default_value = "")]
    pub watch_selectors: String,

    /// Kinds to reconcile, comma-separated; all of the controller's kinds when empty.
    #[arg(long, env = "RECONCILE_RESOURCES", default_value = "")]
    pub reconcile_resources: String,

    /// Seconds between drift checks of a synced resource (0: ACK's default, 10 hours).
    #[arg(
        long,
        env = "RECONCILE_DEFAULT_RESYNC_SECONDS",
        default_value_t = DEFAULT_RESYNC.as_secs()
    )]
    pub reconcile_default_resync_seconds: u64,

    /// Per-kind resync overrides, `Kind=seconds` (repeatable or comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = parse_kind_number::<u64>)]
    pub reconcile_resource_resync_seconds: Vec<(String, u64)>,

    /// Reconciles running at once per kind.
    #[arg(
        long,
        env = "RECONCILE_DEFAULT_MAX_CONCURRENT_SYNCS",
        default_value_t = 1
    )]
    pub reconcile_default_max_concurrent_syncs: u16,

    /// Per-kind overrides of the above, `Kind=n` (repeatable or comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = parse_kind_number::<u16>)]
    pub reconcile_resource_max_concurrent_syncs: Vec<(String, u16)>,

    /// Tags added to every AWS resource (`key=value`, comma-separated or repeated; templates
    /// allowed).
    #[arg(long, env = "ACK_RESOURCE_TAGS", default_value = DEFAULT_RESOURCE_TAGS)]
    pub resource_tags: Vec<String>,

    /// What deleting a CR does to the AWS resource unless an annotation says otherwise.
    #[arg(long, env = "DELETION_POLICY", default_value = "delete")]
    pub deletion_policy: DeletionPolicy,

    /// debug, info, warn or error (ACK's dpanic, panic and fatal log errors only).
    #[arg(long, env = "ACK_LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Human-readable logs instead of JSON.
    #[arg(long, default_value = "false", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = parse_go_bool)]
    pub enable_development_logging: bool,

    /// Address of the Prometheus `/metrics` endpoint.
    #[arg(long, env = "ACK_METRICS_ADDR", default_value = "0.0.0.0:8080", value_parser = parse_addr)]
    pub metrics_addr: SocketAddr,

    /// Address of `/healthz` and `/readyz`.
    #[arg(long, env = "ACK_HEALTHZ_ADDR", default_value = "0.0.0.0:8081", value_parser = parse_addr)]
    pub healthz_addr: SocketAddr,

    /// Run only while holding a Lease, so replicas never reconcile at once.
    #[arg(long, default_value = "false", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = parse_go_bool)]
    pub enable_leader_election: bool,

    /// Namespace of the leader-election Lease (default: the pod's namespace).
    #[arg(long, env = "LEADER_ELECTION_NAMESPACE", default_value = "")]
    pub leader_election_namespace: String,

    /// Cross-account resource management (see [`crate::carm`]): a namespace annotated
    /// `services.k8s.aws/owner-account-id` is managed through the role `ack-role-account-map`
    /// names for that account.
    #[arg(long, default_value = "true", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = parse_go_bool)]
    pub enable_carm: bool,

    /// Whether references and FieldExports may cross namespaces (a FieldExport writing into
    /// another namespace is refused when `false`).
    #[arg(long, default_value = "true", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = parse_go_bool)]
    pub enable_cross_namespace: bool,

    /// ACK's FieldExport reconciler (on by default, as in ACK): copies fields of this
    /// controller's resources into ConfigMaps and Secrets.
    #[arg(long, default_value = "true", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = parse_go_bool)]
    pub enable_field_export_reconciler: bool,

    /// ACK's admission webhook server; ack-rs has no webhooks, so `true` is refused.
    #[arg(long, default_value = "false", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = parse_go_bool)]
    pub enable_webhook_server: bool,

    /// Address of the webhook server (unused while the webhook server is off).
    #[arg(long, default_value = "0.0.0.0:9433")]
    pub webhook_server_addr: String,

    /// ACK feature gates, `Name=bool,...` (see [`FeatureGates`]).
    #[arg(long, env = "FEATURE_GATES", default_value = "")]
    pub feature_gates: String,

    /// Account ID for `status.ackResourceMetadata.ownerAccountID`, instead of asking STS
    /// (ack-rs only; ACK always asks STS).
    #[arg(long, env = "ACK_AWS_ACCOUNT_ID")]
    pub aws_account_id: Option<String>,

    /// Client-side AWS call rate limits, `service[:Op1|Op2]=rate:burst,…` (calls per second; see
    /// `ack_runtime::throttle`), e.g. `sqs=20:40,sqs:GetQueueAttributes=5:10`.
    #[arg(long, env = "AWS_API_THROTTLE", default_value = "", value_parser = crate::throttle::parse_rules_flag)]
    pub aws_api_throttle: crate::throttle::ThrottleRules,

    /// This cluster's identity in the ownership tags stamped on AWS resources (ack-rs only);
    /// default: the `kube-system` namespace's UID.
    #[arg(long, env = "ACK_RS_CLUSTER_ID")]
    pub cluster_id: Option<String>,
}

/// The kinds a controller's flags are checked against.
#[derive(Clone, Copy, Debug)]
pub struct Kinds<'a> {
    /// The kind this controller reconciles.
    pub served: &'a str,
    /// Every kind ACK's controller for this service has (the served kind included). Naming one
    /// that ack-rs does not serve yet is accepted, so ACK's values keep working.
    pub ack: &'a [&'a str],
}

impl Kinds<'_> {
    fn known(&self) -> BTreeSet<&str> {
        self.ack
            .iter()
            .copied()
            .chain([self.served])
            .collect::<BTreeSet<_>>()
    }

    fn check(&self, flag: &'static str, kind: &str) -> Result<(), FlagError> {
        let known = self.known();
        if known.contains(kind) {
            Ok(())
        } else {
            Err(FlagError::invalid(
                flag,
                format!(
                    "kind {kind:?} is not a kind of this controller; known kinds: {}",
                    known.into_iter().collect::<Vec<_>>().join(", ")
                ),
            ))
        }
    }
}

/// ACK's feature gates, as they act here.
///
/// | gate | ACK default | here |
/// |---|---|---|
/// | `ResourceAdoption` | on | off: the `adoption-policy` annotation is ignored |
/// | `ReadOnlyResources` | on | off: the `read-only` annotation is ignored |
/// | `ServiceLevelCARM` | off | on: `<service>.<id>` keys of the CARM maps win (see [`crate::carm`]) |
/// | `TeamLevelCARM` | off | on: the `services.k8s.aws/team-id` namespace annotation and `ack-role-team-map` |
/// | `IAMRoleSelector` | off | on: IAMRoleSelectors choose the role (see [`crate::carm`]) |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeatureGates {
    pub resource_adoption: bool,
    pub read_only_resources: bool,
    pub service_level_carm: bool,
    pub team_level_carm: bool,
    pub iam_role_selector: bool,
}

impl Default for FeatureGates {
    fn default() -> Self {
        Self {
            resource_adoption: true,
            read_only_resources: true,
            service_level_carm: false,
            team_level_carm: false,
            iam_role_selector: false,
        }
    }
}

/// Gates ACK defines that ack-rs cannot turn on yet (none left; kept for the next one).
const GATES_NOT_BUILT: [&str; 0] = [];

impl FeatureGates {
    /// Parses `--feature-gates` (`Name=bool,...`, Go's boolean spellings).
    pub fn parse(text: &str) -> Result<Self, FlagError> {
        const FLAG: &str = "feature-gates";
        let mut gates = Self::default();
        let text = text.trim();
        if text.is_empty() {
            return Ok(gates);
        }
        for entry in text.split(',') {
            let (name, value) = entry.split_once('=').ok_or_else(|| {
                FlagError::invalid(FLAG, format!("expected Name=true|false, got {entry:?}"))
            })?;
            let (name, value) = (name.trim(), value.trim());
            let on = parse_go_bool(value).map_err(|e| FlagError::invalid(FLAG, e))?;
            match name {
                "ResourceAdoption" => gates.resource_adoption = on,
                "ReadOnlyResources" => gates.read_only_resources = on,
                "ServiceLevelCARM" => gates.service_level_carm = on,
                "TeamLevelCARM" => gates.team_level_carm = on,
                "IAMRoleSelector" => gates.iam_role_selector = on,
                _ if GATES_NOT_BUILT.contains(&name) => {
                    if on {
                        return Err(FlagError::NotBuilt {
                            flag: FLAG,
                            setting: format!("{name}=true"),
                            what: "that feature",
                        });
                    }
                }
                _ => {
                    return Err(FlagError::invalid(
                        FLAG,
                        format!(
                            "unknown feature gate {name:?}; known gates: ResourceAdoption, ReadOnlyResources, ServiceLevelCARM, TeamLevelCARM, IAMRoleSelector{}",
                            GATES_NOT_BUILT
                                .iter()
                                .map(|g| format!(", {g}"))
                                .collect::<String>()
                        ),
                    ));
                }
            }
        }
        Ok(gates)
    }
}

/// A flag the controller cannot start with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    #[error("invalid --{flag}: {message}")]
    Invalid { flag: &'static str, message: String },
    #[error(
        "--{flag} {setting} turns on {what}, which ack-rs does not have yet; leave it at ACK's default to start"
    )]
    NotBuilt {
        flag: &'static str,
        setting: String,
        what: &'static str,
    },
}

impl FlagError {
    fn invalid(flag: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            flag,
            message: message.into(),
        }
    }
}

/// What the process runs with, once the flags passed [`Flags::check`].
#[derive(Clone, Debug)]
pub struct Config {
    pub region: String,
    pub endpoint_url: Option<String>,
    pub identity_endpoint_url: Option<String>,
    pub use_path_style: bool,
    /// `None`: no timeout (`--http-client-timeout=0`).
    pub http_client_timeout: Option<Duration>,
    /// Empty: all namespaces.
    pub watch_namespaces: Vec<String>,
    pub watch_selector: Option<String>,
    /// Whether `--reconcile-resources` leaves the served kind to reconcile.
    pub reconcile_served_kind: bool,
    pub max_concurrent_syncs: u16,
    pub requeue: RequeueConfig,
    pub default_tags: DefaultTags,
    pub feature_gates: FeatureGates,
    pub enable_carm: bool,
    pub enable_cross_namespace: bool,
    pub enable_field_export_reconciler: bool,
    /// `--cluster-id`; `None`: the `kube-system` namespace's UID, read at start-up.
    pub cluster_id: Option<String>,
}

impl Flags {
    /// Checks every flag against ACK's rules and this controller's kinds.
    pub fn check(&self, kinds: Kinds<'_>) -> Result<Config, FlagError> {
        let region = non_empty(&self.aws_region).ok_or_else(|| {
            FlagError::invalid(
                "aws-region",
                "a region is required (--aws-region or AWS_REGION)",
            )
        })?;
        let endpoint_url = self.endpoint("aws-endpoint-url", &self.aws_endpoint_url)?;
        let identity_endpoint_url =
            self.endpoint("aws-identity-endpoint-url", &self.aws_identity_endpoint_url)?;

        let watch_namespaces = parse_namespaces(&self.watch_namespace)?;
        let watch_selector = Some(self.watch_selectors.trim())
            .filter(|s| !s.is_empty())
            .map(str::to_string);

        let reconcile_served_kind = match parse_kind_list(&self.reconcile_resources)? {
            None => true,
            Some(list) => {
                for kind in &list {
                    kinds.check("reconcile-resources", kind)?;
                }
                list.iter().any(|k| k == kinds.served)
            }
        };

        if self.reconcile_default_max_concurrent_syncs == 0 {
            return Err(FlagError::invalid(
                "reconcile-default-max-concurrent-syncs",
                "must be at least 1",
            ));
        }
        let mut max_concurrent_syncs = self.reconcile_default_max_concurrent_syncs;
        for (kind, n) in &self.reconcile_resource_max_concurrent_syncs {
            kinds.check("reconcile-resource-max-concurrent-syncs", kind)?;
            if *n == 0 {
                return Err(FlagError::invalid(
                    "reconcile-resource-max-concurrent-syncs",
                    format!("{kind}=0: must be at least 1"),
                ));
            }
            if kind == kinds.served {
                max_concurrent_syncs = *n;
            }
        }

        let default_resync = match self.reconcile_default_resync_seconds {
            0 => DEFAULT_RESYNC,
            s => Duration::from_secs(s),
        };
        let mut resync_per_kind = BTreeMap::new();
        for (kind, secs) in &self.reconcile_resource_resync_seconds {
            kinds.check("reconcile-resource-resync-seconds", kind)?;
            if *secs == 0 {
                return Err(FlagError::invalid(
                    "reconcile-resource-resync-seconds",
                    format!("{kind}=0: must be at least 1"),
                ));
            }
            resync_per_kind.insert(kind.clone(), Duration::from_secs(*secs));
        }
        let requeue = RequeueConfig {
            default_resync,
            resync_per_kind,
            ..RequeueConfig::default()
        };

        let default_tags = DefaultTags::parse(&self.resource_tags.join(","))
            .map_err(|e| FlagError::invalid("resource-tags", e.to_string()))?;
        let feature_gates = FeatureGates::parse(&self.feature_gates)?;
        let cluster_id = non_empty(&self.cluster_id);
        if let Some(id) = &cluster_id {
            crate::tags::check_cluster_id(id).map_err(|e| FlagError::invalid("cluster-id", e))?;
        }

        if self.enable_webhook_server {
            return Err(FlagError::NotBuilt {
                flag: "enable-webhook-server",
                setting: "=true".into(),
                what: "the admission webhook server",
            });
        }

        Ok(Config {
            region,
            endpoint_url,
            identity_endpoint_url,
            use_path_style: self.aws_endpoint_use_path_style,
            http_client_timeout: Some(self.http_client_timeout).filter(|d| !d.is_zero()),
            watch_namespaces,
            watch_selector,
            reconcile_served_kind,
            max_concurrent_syncs,
            requeue,
            default_tags,
            feature_gates,
            enable_carm: self.enable_carm,
            enable_cross_namespace: self.enable_cross_namespace,
            enable_field_export_reconciler: self.enable_field_export_reconciler,
            cluster_id,
        })
    }

    /// An endpoint URL flag: empty means unset; `http://` only with
    /// `--allow-unsafe-aws-endpoint-urls`, as ACK rules.
    fn endpoint(
        &self,
        flag: &'static str,
        value: &Option<String>,
    ) -> Result<Option<String>, FlagError> {
        let Some(url) = non_empty(value) else {
            return Ok(None);
        };
        let uri = Uri::from_str(&url)
            .map_err(|e| FlagError::invalid(flag, format!("{url:?} is not a URL: {e}")))?;
        if uri.host().is_none() || !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(FlagError::invalid(
                flag,
                format!("{url:?} is not an http(s) URL with a host"),
            ));
        }
        if uri.scheme_str() != Some("https") && !self.allow_unsafe_aws_endpoint_urls {
            return Err(FlagError::invalid(
                flag,
                format!("{url:?} is not https; pass --allow-unsafe-aws-endpoint-urls to allow it"),
            ));
        }
        Ok(Some(url))
    }
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// `--watch-namespace`: comma-separated namespace names, no empty entry, no duplicate.
fn parse_namespaces(text: &str) -> Result<Vec<String>, FlagError> {
    const FLAG: &str = "watch-namespace";
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut out: Vec<String> = Vec::new();
    for ns in text.split(',') {
        let valid = !ns.is_empty()
            && ns.len() <= 63
            && ns
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !ns.starts_with('-')
            && !ns.ends_with('-');
        if !valid {
            return Err(FlagError::invalid(
                FLAG,
                format!("{ns:?} is not a namespace name (RFC 1123 label)"),
            ));
        }
        if out.iter().any(|o| o == ns) {
            return Err(FlagError::invalid(
                FLAG,
                format!("namespace {ns:?} is given twice"),
            ));
        }
        out.push(ns.to_string());
    }
    Ok(out)
}

/// `--reconcile-resources`: `None` when empty (every kind).
fn parse_kind_list(text: &str) -> Result<Option<Vec<String>>, FlagError> {
    const FLAG: &str = "reconcile-resources";
    if text.trim().is_empty() {
        return Ok(None);
    }
    let mut out: Vec<String> = Vec::new();
    for kind in text.split(',').map(str::trim) {
        if kind.is_empty() {
            return Err(FlagError::invalid(FLAG, "an empty kind in the list"));
        }
        if out.iter().any(|k| k == kind) {
            return Err(FlagError::invalid(
                FLAG,
                format!("kind {kind:?} is given twice"),
            ));
        }
        out.push(kind.to_string());
    }
    Ok(Some(out))
}

/// Go's `strconv.ParseBool`, which ACK's boolean flags use.
fn parse_go_bool(text: &str) -> Result<bool, String> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("{text:?} is not a boolean (true or false)")),
    }
}

/// Go's `time.ParseDuration` syntax (`60s`, `1m30s`, `1.5h`, `500ms`; `0`), which
/// `--http-client-timeout` takes.
fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration like 60s, 1m30s or 500ms");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = rest[..number_len].parse().map_err(|_| bad())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += number * seconds;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
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

/// `Kind=n`, as ACK's per-kind reconcile flags take it.
fn parse_kind_number<N: FromStr>(text: &str) -> Result<(String, N), String> {
    let (kind, n) = text
        .split_once('=')
        .ok_or_else(|| format!("expected Kind=number, got {text:?}"))?;
    let n = n
        .trim()
        .parse()
        .map_err(|_| format!("invalid number in {text:?}"))?;
    let kind = kind.trim();
    if kind.is_empty() {
        return Err(format!("a kind is missing in {text:?}"));
    }
    Ok((kind.to_string(), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: Kinds<'static> = Kinds {
        served: "Table",
        ack: &["Backup", "GlobalTable", "Table"],
    };

    /// Parses `args` alone: the environment (a test world exports AWS_ENDPOINT_URL, …) is not
    /// read.
    fn parse(args: &[&str]) -> Result<Flags, String> {
        use clap::{CommandFactory, FromArgMatches};
        let command = Flags::command().mut_args(|arg| arg.env(None));
        command
            .try_get_matches_from(std::iter::once("ctl").chain(args.iter().copied()))
            .and_then(|matches| Flags::from_arg_matches(&matches))
            .map_err(|e| e.to_string())
    }

    fn check(args: &[&str]) -> Result<Config, String> {
        let mut all = vec!["--aws-region=us-west-2"];
        all.extend_from_slice(args);
        parse(&all)?.check(KINDS).map_err(|e| e.to_string())
    }

    #[test]
    fn every_ack_flag_parses_in_both_spellings() {
        let flags = parse(&[
            "--aws-region",
            "eu-west-1",
            "--aws-endpoint-url=https://aws.example",
            "--aws-identity-endpoint-url",
            "https://sts.example",
            "--allow-unsafe-aws-endpoint-urls",
            "--aws-endpoint-use-path-style=true",
            "--http-client-timeout",
            "1m30s",
            "--watch-namespace",
            "team-a,team-b",
            "--watch-selectors",
            "app=web,tier!=db",
            "--reconcile-resources",
            "Table",
            "--reconcile-default-resync-seconds=60",
            "--reconcile-resource-resync-seconds",
            "Table=30",
            "--reconcile-resource-resync-seconds=Backup=90",
            "--reconcile-default-max-concurrent-syncs",
            "4",
            "--reconcile-resource-max-concurrent-syncs",
            "Table=7",
            "--resource-tags",
            "team=%K8S_NAMESPACE%",
            "--deletion-policy",
            "retain",
            "--log-level",
            "debug",
            "--enable-development-logging",
            "--metrics-addr=:9090",
            "--healthz-addr",
            "127.0.0.1:9091",
            "--enable-leader-election",
            "--leader-election-namespace",
            "ack-system",
            "--enable-carm=false",
            "--enable-cross-namespace=false",
            "--enable-field-export-reconciler=false",
            "--enable-webhook-server=false",
            "--webhook-server-addr",
            ":9443",
            "--feature-gates",
            "ResourceAdoption=false,ReadOnlyResources=true,TeamLevelCARM=false",
        ])
        .unwrap();
        assert!(flags.enable_leader_election && flags.enable_development_logging);
        assert!(!flags.enable_carm && !flags.enable_cross_namespace);
        assert_eq!(flags.metrics_addr.to_string(), "0.0.0.0:9090");
        let config = flags.check(KINDS).unwrap();
        assert_eq!(config.region, "eu-west-1");
        assert_eq!(config.endpoint_url.as_deref(), Some("https://aws.example"));
        assert_eq!(
            config.identity_endpoint_url.as_deref(),
            Some("https://sts.example")
        );
        assert!(config.use_path_style);
        assert_eq!(config.http_client_timeout, Some(Duration::from_secs(90)));
        assert_eq!(config.watch_namespaces, ["team-a", "team-b"]);
        assert_eq!(config.watch_selector.as_deref(), Some("app=web,tier!=db"));
        assert!(config.reconcile_served_kind);
        assert_eq!(config.max_concurrent_syncs, 7);
        assert_eq!(config.requeue.resync_for("Table"), Duration::from_secs(30));
        assert_eq!(config.requeue.resync_for("Backup"), Duration::from_secs(90));
        assert_eq!(config.requeue.resync_for("Other"), Duration::from_secs(60));
        assert_eq!(
            config.feature_gates,
            FeatureGates {
                resource_adoption: false,
                read_only_resources: true,
                ..FeatureGates::default()
            }
        );
    }

    /// What ACK's chart renders from its default values (after the kubelet expands `$(VAR)`).
    #[test]
    fn ack_chart_defaults_start() {
        let config = check(&[
            "--aws-endpoint-url",
            "",
            "--log-level",
            "info",
            "--resource-tags",
            "services.k8s.aws/controller-version=%CONTROLLER_SERVICE%-%CONTROLLER_VERSION%,services.k8s.aws/namespace=%K8S_NAMESPACE%,app.kubernetes.io/managed-by=%MANAGED_BY%,kro.run/kro-version=%KRO_VERSION%",
            "--watch-namespace",
            "",
            "--watch-selectors",
            "",
            "--reconcile-resources",
            "Backup,GlobalTable,Table",
            "--deletion-policy",
            "delete",
            "--reconcile-default-resync-seconds",
            "36000",
            "--reconcile-default-max-concurrent-syncs",
            "1",
            "--feature-gates",
            "IAMRoleSelector=false,ReadOnlyResources=true,ResourceAdoption=true,ServiceLevelCARM=false,TeamLevelCARM=false",
            "--enable-carm=true",
            "--enable-cross-namespace=true",
        ])
        .unwrap();
        assert_eq!(config.endpoint_url, None);
        assert!(config.watch_namespaces.is_empty());
        assert_eq!(config.watch_selector, None);
        assert!(config.reconcile_served_kind);
        assert!(config.enable_carm);
        assert_eq!(config.feature_gates, FeatureGates::default());
    }

    #[test]
    fn defaults_match_ack() {
        let flags = parse(&[]).unwrap();
        assert_eq!(flags.reconcile_default_resync_seconds, 36_000);
        assert_eq!(flags.reconcile_default_max_concurrent_syncs, 1);
        assert_eq!(flags.deletion_policy, DeletionPolicy::Delete);
        assert_eq!(flags.resource_tags, [DEFAULT_RESOURCE_TAGS]);
        assert_eq!(flags.http_client_timeout, Duration::from_secs(60));
        assert!(flags.enable_carm && flags.enable_cross_namespace);
        assert!(flags.enable_field_export_reconciler);
        assert!(!flags.enable_webhook_server && !flags.aws_endpoint_use_path_style);
        assert_eq!(flags.webhook_server_addr, "0.0.0.0:9433");
        let config = check(&[]).unwrap();
        assert!(config.watch_namespaces.is_empty() && config.reconcile_served_kind);
        assert_eq!(config.max_concurrent_syncs, 1);
        assert_eq!(config.requeue.default_resync, DEFAULT_RESYNC);
        assert_eq!(config.http_client_timeout, Some(Duration::from_secs(60)));
        // 0 means ACK's default, as in ACK.
        let config = check(&["--reconcile-default-resync-seconds=0"]).unwrap();
        assert_eq!(config.requeue.default_resync, DEFAULT_RESYNC);
    }

    #[test]
    fn go_booleans() {
        for (arg, want) in [
            ("--enable-carm", true),
            ("--enable-carm=false", false),
            ("--enable-carm=0", false),
            ("--enable-carm=True", true),
            ("--enable-carm=t", true),
        ] {
            assert_eq!(parse(&[arg]).unwrap().enable_carm, want, "{arg}");
        }
        let err = parse(&["--enable-carm=maybe"]).unwrap_err();
        assert!(err.contains("maybe"), "{err}");
        // As in Go, a boolean never takes the next argument as its value.
        assert!(parse(&["--enable-leader-election", "false"]).is_err());
    }

    #[test]
    fn go_durations() {
        for (text, secs) in [
            ("0", 0.0),
            ("60s", 60.0),
            ("1m30s", 90.0),
            ("1.5h", 5400.0),
            ("500ms", 0.5),
            ("2h45m", 9900.0),
        ] {
            assert_eq!(
                parse_go_duration(text).unwrap(),
                Duration::from_secs_f64(secs),
                "{text}"
            );
        }
        for bad in ["", "60", "1x", "s", "-1s", "1m30"] {
            assert!(parse_go_duration(bad).is_err(), "{bad:?}");
        }
        let config = check(&["--http-client-timeout=0"]).unwrap();
        assert_eq!(config.http_client_timeout, None);
    }

    #[test]
    fn kinds_are_checked_against_the_controller() {
        let err = check(&["--reconcile-resources=Widget"]).unwrap_err();
        assert_eq!(
            err,
            r#"invalid --reconcile-resources: kind "Widget" is not a kind of this controller; known kinds: Backup, GlobalTable, Table"#
        );
        for flag in [
            "--reconcile-resource-resync-seconds=Widget=5",
            "--reconcile-resource-max-concurrent-syncs=Widget=5",
        ] {
            let err = check(&[flag]).unwrap_err();
            assert!(err.contains("\"Widget\" is not a kind"), "{err}");
        }
        // An ACK kind ack-rs does not build yet is fine; the served kind is then left alone.
        let config = check(&["--reconcile-resources=Backup"]).unwrap();
        assert!(!config.reconcile_served_kind);
        let config = check(&["--reconcile-resources= Backup , Table"]).unwrap();
        assert!(config.reconcile_served_kind);
        for bad in ["Table,,Backup", "Table,Table"] {
            let err = check(&["--reconcile-resources", bad]).unwrap_err();
            assert!(err.starts_with("invalid --reconcile-resources"), "{err}");
        }
        // A per-kind setting for another kind does not change this one's.
        let config = check(&["--reconcile-resource-max-concurrent-syncs=Backup=9"]).unwrap();
        assert_eq!(config.max_concurrent_syncs, 1);
        let err = check(&["--reconcile-default-max-concurrent-syncs=0"]).unwrap_err();
        assert!(err.contains("at least 1"), "{err}");
        let err = check(&["--reconcile-resource-resync-seconds=Table"]).unwrap_err();
        assert!(err.contains("Kind=number"), "{err}");
    }

    #[test]
    fn namespaces_and_selectors() {
        let config = check(&["--watch-namespace=a"]).unwrap();
        assert_eq!(config.watch_namespaces, ["a"]);
        for bad in ["a,,b", "a,a", "Team", "a b", "-a"] {
            let err = check(&[&format!("--watch-namespace={bad}")]).unwrap_err();
            assert!(err.starts_with("invalid --watch-namespace"), "{bad}: {err}");
        }
        let config = check(&["--watch-selectors", " "]).unwrap();
        assert_eq!(config.watch_selector, None);
    }

    #[test]
    fn endpoints_follow_acks_safety_rule() {
        let err = check(&["--aws-endpoint-url=http://127.0.0.1:4566"]).unwrap_err();
        assert!(
            err.contains("--allow-unsafe-aws-endpoint-urls") && err.contains("aws-endpoint-url"),
            "{err}"
        );
        let err = check(&["--aws-identity-endpoint-url=http://sts.local"]).unwrap_err();
        assert!(
            err.starts_with("invalid --aws-identity-endpoint-url"),
            "{err}"
        );
        let config = check(&[
            "--aws-endpoint-url=http://127.0.0.1:4566",
            "--allow-unsafe-aws-endpoint-urls",
        ])
        .unwrap();
        assert_eq!(
            config.endpoint_url.as_deref(),
            Some("http://127.0.0.1:4566")
        );
        for bad in ["not a url", "ftp://x", "/path"] {
            let err = check(&["--aws-endpoint-url", bad]).unwrap_err();
            assert!(
                err.starts_with("invalid --aws-endpoint-url"),
                "{bad}: {err}"
            );
        }
        let err = parse(&["--aws-region="]).unwrap().check(KINDS).unwrap_err();
        assert!(err.to_string().contains("--aws-region"), "{err}");
    }

    #[test]
    fn features_not_built_are_refused_only_when_turned_on() {
        let err = check(&["--enable-webhook-server"]).unwrap_err();
        assert!(
            err.contains("enable-webhook-server") && err.contains("does not have yet"),
            "{err}"
        );
        for arg in [
            "--enable-field-export-reconciler=false",
            "--enable-field-export-reconciler",
            "--enable-webhook-server=false",
            "--feature-gates=TeamLevelCARM=false,IAMRoleSelector=0",
            "--enable-carm=true",
            "--enable-cross-namespace=true",
        ] {
            check(&[arg]).unwrap_or_else(|e| panic!("{arg}: {e}"));
        }
        let err = check(&["--feature-gates=Nope=true"]).unwrap_err();
        assert!(err.contains("unknown feature gate \"Nope\""), "{err}");
        let err = check(&["--feature-gates=ResourceAdoption"]).unwrap_err();
        assert!(err.starts_with("invalid --feature-gates"), "{err}");
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
        let err = parse(&["--deletion-policy=keep"]).unwrap_err();
        assert!(err.contains("keep"), "{err}");
        let err = check(&["--resource-tags=aws:x=1"]).unwrap_err();
        assert!(err.starts_with("invalid --resource-tags"), "{err}");
        // Repeated --resource-tags add up, as ACK's string-slice flag does.
        let config = check(&["--resource-tags=a=1", "--resource-tags", "b=2"]).unwrap();
        assert_eq!(
            config.default_tags.keys().into_iter().collect::<Vec<_>>(),
            ["a", "b"]
        );
        let config = check(&["--resource-tags", ""]).unwrap();
        assert!(config.default_tags.is_empty());
    }
}
