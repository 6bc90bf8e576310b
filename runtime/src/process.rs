//! The controller process every service's `main` calls: flags, logging, AWS and Kubernetes
//! clients, metrics and health endpoints, leader election, graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, Result};
use aws_config::SdkConfig;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use clap::Parser;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use tracing::info;

use crate::controller::Options;
use crate::flags::{Flags, Kinds};
use crate::metrics::Metrics;
use crate::reconcile::Settings;
use crate::served::{Build, ServedKinds};

pub use crate::clients::ManagerContext;

/// What the process knows about its service besides the manager.
#[derive(Clone, Copy, Debug)]
pub struct ServiceInfo {
    /// The alias (`s3`, `sqs`, …).
    pub alias: &'static str,
    pub version: &'static str,
    /// Every kind ACK's controller for this service has, so that `--reconcile-resources` and the
    /// per-kind flags accept ACK's values for kinds ack-rs does not serve yet. Empty: only the
    /// served kind.
    pub ack_kinds: &'static [&'static str],
}

/// Runs a controller for one kind until SIGTERM/Ctrl-C. `service` is the alias (`s3`, `sqs`, …).
/// `make_manager` is called once per region (and assumed role) the controller's CRs use, on
/// first use; a tuple of two such factories serves two kinds (see [`crate::served`]).
pub async fn run<K: ServedKinds>(
    service: &'static str,
    version: &'static str,
    make_manager: K,
) -> Result<()> {
    let info = ServiceInfo {
        alias: service,
        version,
        ack_kinds: &[],
    };
    run_service(info, make_manager).await
}

/// [`run`], for a service whose ACK controller has more kinds than ack-rs serves.
pub async fn run_service<K: ServedKinds>(info: ServiceInfo, make_manager: K) -> Result<()> {
    let ServiceInfo {
        alias: service,
        version,
        ack_kinds,
    } = info;
    limit_malloc_arenas();
    let flags = Flags::parse();
    init_logging(&flags);
    let resources = K::kinds();
    let served: Vec<&str> = resources.iter().map(|r| r.kind.as_str()).collect();
    let ack: Vec<&str> = ack_kinds.iter().chain(&served).copied().collect();
    // Checked once per served kind: each kind has its own reconcile settings.
    let per_kind = served
        .iter()
        .map(|kind| {
            flags.check(Kinds {
                served: kind,
                ack: &ack,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let config = per_kind[0].clone();
    let kind = served.join(",");
    let client = Client::try_default()
        .await
        .context("connecting to Kubernetes")?;
    if let Some(selector) = &config.watch_selector {
        for resource in &resources {
            check_selector(&client, resource, &config.watch_namespaces, selector).await?;
        }
    }
    let metrics = Metrics::default();
    let throttle = Arc::new(crate::throttle::ApiThrottle::new(&flags.aws_api_throttle.0));
    let sdk = crate::aws::sdk_config(
        Some(&config.region),
        config.endpoint_url.as_deref(),
        config.http_client_timeout,
        throttle,
        metrics.clone(),
    )
    .await;
    // The default region's managers now, so a client that cannot be built stops the start-up.
    let runners = make_manager
        .runners(Build {
            sdk: sdk.clone(),
            metrics: metrics.clone(),
            use_path_style: config.use_path_style,
            region: config.region.clone(),
        })
        .await?;
    let ready = Arc::new(AtomicBool::new(false));
    serve_endpoints(&flags, metrics.clone(), ready.clone()).await?;

    // A standby replica is ready too: readiness gating on leadership would stall rolling updates.
    ready.store(true, Ordering::SeqCst);
    if per_kind.iter().all(|c| !c.reconcile_served_kind) {
        // As ACK does for a kind left out of --reconcile-resources: no reconciler, the process
        // (health, metrics) still runs.
        info!(
            service,
            kind, "--reconcile-resources leaves out this controller's kind; nothing to reconcile"
        );
        crate::controller::shutdown_signal().await;
        return Ok(());
    }
    if flags.enable_leader_election {
        wait_for_leadership(&client, service, &flags).await?;
    }
    // ACK's CRDs require status.ackResourceMetadata.ownerAccountID, and not every ARN carries it.
    let account_id = match flags.aws_account_id.clone() {
        Some(id) => id,
        None => caller_account(&sdk, config.identity_endpoint_url.as_deref()).await?,
    };
    let cluster_id = cluster_id(&client, config.cluster_id).await?;
    let settings = Settings {
        cluster_id,
        controller_version: version.to_string(),
        default_tags: config.default_tags,
        deletion_policy: flags.deletion_policy,
        requeue: config.requeue,
        region: config.region,
        account_id: Some(account_id),
        feature_gates: config.feature_gates,
        enable_carm: config.enable_carm,
        system_namespace: own_namespace(),
    };
    let options: Vec<Option<Options>> = per_kind
        .iter()
        .map(|c| {
            c.reconcile_served_kind.then(|| Options {
                watch_namespaces: c.watch_namespaces.clone(),
                label_selector: c.watch_selector.clone(),
                max_concurrent_syncs: c.max_concurrent_syncs,
            })
        })
        .collect();
    info!(service, version, kind, ?options, "starting controller");
    // One FieldExport reconciler for every kind served here.
    let field_exports = config.enable_field_export_reconciler.then(|| {
        let options = crate::field_export::Options {
            watch_namespaces: config.watch_namespaces.clone(),
            enable_cross_namespace: config.enable_cross_namespace,
            resync: settings.requeue.default_resync,
        };
        tokio::spawn(crate::field_export::run(
            client.clone(),
            resources.clone(),
            options,
        ))
    });
    let controllers = runners
        .into_iter()
        .zip(options)
        .map(|(run, options)| run(client.clone(), settings.clone(), options, metrics.clone()));
    futures::future::join_all(controllers).await;
    if let Some(field_exports) = field_exports {
        // It stops on the same signal.
        let _ = field_exports.await;
    }
    info!("controller stopped");
    Ok(())
}

/// glibc's malloc gives every thread that allocates under contention an arena of its own, and
/// the pages an arena touched stay resident; a controller's worker threads share little memory
/// and allocate little, so two arenas serve them (as `MALLOC_ARENA_MAX=2` would). Other allocators (musl's) are left alone.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator, under glibc's own lock; called before the
    // controller's work starts, so arenas made later obey it.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Asks the apiserver to parse `--watch-selectors` once, so a bad selector stops the start-up
/// with the apiserver's own reason instead of failing every watch later.
async fn check_selector(
    client: &Client,
    resource: &ApiResource,
    namespaces: &[String],
    selector: &str,
) -> Result<()> {
    let api: Api<DynamicObject> = match namespaces.first() {
        Some(ns) => Api::namespaced_with(client.clone(), ns, resource),
        None => Api::all_with(client.clone(), resource),
    };
    match api
        .list(&ListParams::default().labels(selector).limit(1))
        .await
    {
        Err(kube::Error::Api(e)) if e.code == 400 => {
            anyhow::bail!("invalid --watch-selectors {selector:?}: {}", e.message)
        }
        // Anything else (RBAC, a CRD not installed yet) is the watch's to retry.
        Err(e) => {
            tracing::warn!(error = %e, "could not check --watch-selectors at start-up");
            Ok(())
        }
        Ok(_) => Ok(()),
    }
}

fn init_logging(flags: &Flags) {
    // ACK's (zap's) levels above error only exist there.
    let level = match flags.log_level.as_str() {
        "dpanic" | "panic" | "fatal" => "error",
        other => other,
    };
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if flags.enable_development_logging {
        builder.init();
    } else {
        builder.json().init();
    }
}

/// `/metrics` on one address, `/healthz` and `/readyz` on another (ACK's layout); both may be
/// the same address.
async fn serve_endpoints(flags: &Flags, metrics: Metrics, ready: Arc<AtomicBool>) -> Result<()> {
    let metrics_routes = Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move { metrics.encode() }
        }),
    );
    let health_routes = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let ready = ready.clone();
                async move {
                    if ready.load(Ordering::SeqCst) {
                        (StatusCode::OK, "ok")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "starting")
                    }
                }
            }),
        );
    if flags.metrics_addr == flags.healthz_addr {
        spawn_server(flags.metrics_addr, metrics_routes.merge(health_routes)).await
    } else {
        spawn_server(flags.metrics_addr, metrics_routes).await?;
        spawn_server(flags.healthz_addr, health_routes).await
    }
}

async fn spawn_server(addr: SocketAddr, routes: Router) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tokio::spawn(async move { axum::serve(listener, routes).await });
    Ok(())
}

/// Blocks until this replica holds the Lease; exits the process if it is lost later, so a
/// replacement never runs alongside a leader that has not noticed.
async fn wait_for_leadership(client: &Client, service: &str, flags: &Flags) -> Result<()> {
    // Unset: the pod's namespace, as ACK takes it (ACK's chart sets ACK_SYSTEM_NAMESPACE, ours
    // POD_NAMESPACE; both mount the service account's namespace file).
    let namespace = if flags.leader_election_namespace.is_empty() {
        own_namespace()
    } else {
        flags.leader_election_namespace.clone()
    };
    let identity =
        std::env::var("POD_NAME").unwrap_or_else(|_| format!("{}-{}", service, std::process::id()));
    let lease = kube_lease_manager::LeaseManagerBuilder::new(
        client.clone(),
        format!("ack-{service}-controller"),
    )
    .with_namespace(namespace)
    .with_identity(identity)
    .build()
    .await
    .context("creating the leader-election lease manager")?;
    let (mut is_leader, _task) = lease.watch().await;
    info!("waiting for leadership");
    while !*is_leader.borrow_and_update() {
        is_leader
            .changed()
            .await
            .context("leader election stopped")?;
    }
    info!("leading");
    tokio::spawn(async move {
        loop {
            if is_leader.changed().await.is_err() || !*is_leader.borrow_and_update() {
                tracing::error!("lost leadership; exiting");
                std::process::exit(1);
            }
        }
    });
    Ok(())
}

/// The pod's namespace, as ACK takes it (ACK's chart sets ACK_SYSTEM_NAMESPACE, ours
/// POD_NAMESPACE; both mount the service account's namespace file); `default` outside a pod.
fn own_namespace() -> String {
    std::env::var("POD_NAMESPACE")
        .or_else(|_| std::env::var("ACK_SYSTEM_NAMESPACE"))
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
                .ok()
                .map(|ns| ns.trim().to_string())
        })
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| "default".into())
}

/// This cluster's identity for ownership tags: `--cluster-id` when given, else the UID of the
/// `kube-system` namespace (there from the cluster's creation to its end, and the same for
/// every controller of the cluster).
pub async fn cluster_id(client: &Client, flag: Option<String>) -> Result<String> {
    if let Some(id) = flag {
        return Ok(id);
    }
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let kube_system = namespaces.get("kube-system").await.context(
        "reading the kube-system namespace's UID, this cluster's identity in ownership tags \
         (or pass --cluster-id)",
    )?;
    kube_system
        .metadata
        .uid
        .context("the kube-system namespace has no UID")
}

/// The account the controller's credentials belong to (STS GetCallerIdentity), asked at
/// `--aws-identity-endpoint-url` when given.
async fn caller_account(sdk: &SdkConfig, identity_endpoint: Option<&str>) -> Result<String> {
    let mut config = aws_sdk_sts::config::Builder::from(sdk);
    if let Some(url) = identity_endpoint {
        config = config.endpoint_url(url);
    }
    let identity = aws_sdk_sts::Client::from_conf(config.build())
        .get_caller_identity()
        .send()
        .await
        .context(
            "looking up the AWS account with STS GetCallerIdentity (or pass --aws-account-id)",
        )?;
    identity
        .account
        .context("STS GetCallerIdentity returned no account")
}
