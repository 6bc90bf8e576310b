//! The controller process every service's `main` calls: flags, logging, AWS and Kubernetes
//! clients, metrics and health endpoints, leader election, graceful shutdown.

use std::future::Future;
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
use tracing::info;

use crate::controller::{self, Options};
use crate::flags::Flags;
use crate::manager::ResourceManager;
use crate::metrics::Metrics;
use crate::reconcile::Settings;

/// What a service's manager is built from.
pub struct ManagerContext {
    pub sdk: SdkConfig,
    pub metrics: Metrics,
    /// A custom endpoint is in use (an emulator or a private endpoint): S3 needs path style.
    pub custom_endpoint: bool,
}

/// Runs a controller for one kind until SIGTERM/Ctrl-C. `service` is the alias (`s3`, `sqs`, …).
pub async fn run<M, F, Fut>(
    service: &'static str,
    version: &'static str,
    make_manager: F,
) -> Result<()>
where
    M: ResourceManager,
    F: FnOnce(ManagerContext) -> Fut,
    Fut: Future<Output = Result<M>>,
{
    limit_malloc_arenas();
    let flags = Flags::parse();
    init_logging(&flags);
    let default_tags = flags.default_tags().context("invalid --resource-tags")?;
    let region = flags
        .aws_region
        .clone()
        .context("--aws-region (or AWS_REGION) is required")?;
    let client = Client::try_default()
        .await
        .context("connecting to Kubernetes")?;
    let metrics = Metrics::default();
    let throttle = Arc::new(crate::throttle::ApiThrottle::new(&flags.aws_api_throttle.0));
    let sdk = crate::aws::sdk_config(
        Some(&region),
        flags.aws_endpoint_url.as_deref(),
        throttle,
        metrics.clone(),
    )
    .await;
    let manager = make_manager(ManagerContext {
        sdk: sdk.clone(),
        metrics: metrics.clone(),
        custom_endpoint: flags.aws_endpoint_url.is_some(),
    })
    .await?;
    let ready = Arc::new(AtomicBool::new(false));
    serve_endpoints(&flags, metrics.clone(), ready.clone()).await?;

    // A standby replica is ready too: readiness gating on leadership would stall rolling updates.
    ready.store(true, Ordering::SeqCst);
    if flags.enable_leader_election {
        wait_for_leadership(&client, service, &flags).await?;
    }
    // ACK's CRDs require status.ackResourceMetadata.ownerAccountID, and not every ARN carries it.
    let account_id = match flags.aws_account_id.clone() {
        Some(id) => id,
        None => caller_account(&sdk).await?,
    };
    let settings = Settings {
        controller_version: version.to_string(),
        default_tags,
        deletion_policy: flags.deletion_policy,
        requeue: flags.requeue(),
        region,
        account_id: Some(account_id),
    };
    let options = Options {
        watch_namespace: flags.watch_namespace(),
        max_concurrent_syncs: flags.reconcile_default_max_concurrent_syncs,
    };
    info!(service, version, ?options, "starting controller");
    controller::run(manager, client, settings, options, metrics).await;
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

fn init_logging(flags: &Flags) {
    let filter = tracing_subscriber::EnvFilter::try_new(&flags.log_level)
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
    let namespace = if flags.leader_election_namespace.is_empty() {
        std::env::var("POD_NAMESPACE").unwrap_or_else(|_| "default".into())
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

/// The account the controller's credentials belong to (STS GetCallerIdentity).
async fn caller_account(sdk: &SdkConfig) -> Result<String> {
    let identity = aws_sdk_sts::Client::new(sdk)
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
