//! What ACK's own Helm chart starts a controller with: the container's `args` and `env` as ACK's
//! `helm/templates/deployment.yaml` renders them from ACK's default values
//! (`../shared/ack-compat/<svc>-controller-values.yaml`), written out here as data, plus the
//! kubelet's `$(VAR)` expansion. Tests start our controllers with exactly this, to prove a platform
//! team can swap ack-rs's image into its existing ACK release.

/// Values a test world needs on top of ACK's defaults, as a user would set them in ACK's chart.
#[derive(Clone, Debug)]
pub struct Wiring {
    /// `aws.region`.
    pub region: String,
    /// `aws.endpoint_url`.
    pub endpoint_url: String,
    /// `aws.allow_unsafe_aws_endpoint_urls`: the emulator speaks plain HTTP.
    pub allow_unsafe_endpoint_urls: bool,
    /// `aws.endpoint_use_path_style` (a value of ACK's s3 chart only).
    pub endpoint_use_path_style: bool,
    /// The Pod's namespace (`ACK_SYSTEM_NAMESPACE`, from the downward API).
    pub pod_namespace: String,
}

/// ACK's default `resourceTags`, joined as the chart joins them.
pub const DEFAULT_RESOURCE_TAGS: &str = "services.k8s.aws/controller-version=%CONTROLLER_SERVICE%-%CONTROLLER_VERSION%,services.k8s.aws/namespace=%K8S_NAMESPACE%,app.kubernetes.io/managed-by=%MANAGED_BY%,kro.run/kro-version=%KRO_VERSION%";

/// ACK's default `featureGates`, as the chart's `feature-gates` helper joins them (sorted).
pub const DEFAULT_FEATURE_GATES: &str = "IAMRoleSelector=false,ReadOnlyResources=true,ResourceAdoption=true,ServiceLevelCARM=false,TeamLevelCARM=false";

/// ACK's default `reconcile.resources` of each service's chart.
pub fn default_reconcile_resources(service: &str) -> &'static str {
    match service {
        "s3" => "Bucket",
        "sqs" => "Queue",
        "dynamodb" => "Backup,GlobalTable,Table",
        other => panic!("no ACK chart data for {other:?}"),
    }
}

/// The container `args` ACK's chart renders (before the kubelet expands `$(VAR)`).
pub fn args(service: &str, wiring: &Wiring) -> Vec<String> {
    let mut args = vec![
        "--aws-region",
        "$(AWS_REGION)",
        "--aws-endpoint-url",
        "$(AWS_ENDPOINT_URL)",
    ];
    if wiring.allow_unsafe_endpoint_urls {
        args.push("--allow-unsafe-aws-endpoint-urls");
    }
    if service == "s3" && wiring.endpoint_use_path_style {
        args.push("--aws-endpoint-use-path-style");
    }
    args.extend([
        "--log-level",
        "$(ACK_LOG_LEVEL)",
        "--resource-tags",
        "$(ACK_RESOURCE_TAGS)",
        "--watch-namespace",
        "$(ACK_WATCH_NAMESPACE)",
        "--watch-selectors",
        "$(ACK_WATCH_SELECTORS)",
        "--reconcile-resources",
        "$(RECONCILE_RESOURCES)",
        "--deletion-policy",
        "$(DELETION_POLICY)",
        // reconcile.defaultResyncPeriod (36000) > 0
        "--reconcile-default-resync-seconds",
        "$(RECONCILE_DEFAULT_RESYNC_SECONDS)",
        // reconcile.defaultMaxConcurrentSyncs (1) > 0
        "--reconcile-default-max-concurrent-syncs",
        "$(RECONCILE_DEFAULT_MAX_CONCURRENT_SYNCS)",
        // featureGates is not empty
        "--feature-gates",
        "$(FEATURE_GATES)",
        // enableCARM and enableCrossNamespace default to true
        "--enable-carm=true",
        "--enable-cross-namespace=true",
    ]);
    args.into_iter().map(String::from).collect()
}

/// The container `env` ACK's chart renders, in its order. A value the template leaves empty
/// (`value:` with nothing after it) is the empty string in the container.
pub fn env(service: &str, wiring: &Wiring) -> Vec<(String, String)> {
    [
        ("ACK_SYSTEM_NAMESPACE", wiring.pod_namespace.as_str()),
        ("AWS_REGION", wiring.region.as_str()),
        ("AWS_ENDPOINT_URL", wiring.endpoint_url.as_str()),
        ("AWS_IDENTITY_ENDPOINT_URL", ""),
        // installScope cluster: the watch-namespace helper renders nothing.
        ("ACK_WATCH_NAMESPACE", ""),
        ("ACK_WATCH_SELECTORS", ""),
        ("RECONCILE_RESOURCES", default_reconcile_resources(service)),
        ("DELETION_POLICY", "delete"),
        ("LEADER_ELECTION_NAMESPACE", ""),
        ("ACK_LOG_LEVEL", "info"),
        ("ACK_RESOURCE_TAGS", DEFAULT_RESOURCE_TAGS),
        ("RECONCILE_DEFAULT_RESYNC_SECONDS", "36000"),
        ("RECONCILE_DEFAULT_MAX_CONCURRENT_SYNCS", "1"),
        ("FEATURE_GATES", DEFAULT_FEATURE_GATES),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The kubelet's expansion of `$(VAR)` in a container's args: a variable of the container's
/// `env` is replaced by its value, `$$` is a literal `$`, anything else stays as written.
pub fn expand(arg: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = arg;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after
            .strip_prefix('(')
            .and_then(|a| a.split_once(')'))
            .filter(|(name, _)| env.iter().any(|(k, _)| k == name))
        {
            let value = &env.iter().rev().find(|(k, _)| k == name).unwrap().1;
            out.push_str(value);
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The args the controller process receives in ACK's Pod: [`args`] expanded with [`env`].
pub fn expanded_args(service: &str, wiring: &Wiring) -> Vec<String> {
    let env = env(service, wiring);
    args(service, wiring)
        .iter()
        .map(|a| expand(a, &env))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_follows_the_kubelet() {
        let env = vec![
            ("A".to_string(), "1".to_string()),
            ("E".to_string(), String::new()),
        ];
        assert_eq!(expand("$(A)", &env), "1");
        assert_eq!(expand("x$(A)y$(E)z", &env), "x1yz");
        assert_eq!(expand("$(MISSING)", &env), "$(MISSING)");
        assert_eq!(expand("$$(A)", &env), "$(A)");
        assert_eq!(expand("50$", &env), "50$");
    }
}
