//! Running a service's controller in-process against the test world, the way every service's
//! end-to-end tests do: one controller per test, watching only that test's namespace.

use ack_runtime::clients::Managers;
use ack_runtime::controller::{self, Options};
use ack_runtime::flags::FeatureGates;
use ack_runtime::manager::ResourceManager;
use ack_runtime::metrics::Metrics;
use ack_runtime::reconcile::Settings;
use ack_runtime::{DefaultTags, DeletionPolicy, RequeueConfig};

use crate::TestEnv;

/// The account the emulator reports (moto's default).
pub const ACCOUNT: &str = "123456789012";

/// Spawns a controller on the current runtime, watching only `namespace`, with ACK's defaults
/// (default tags, deletion policy delete) and the emulator's region and account. `managers` is
/// one manager (the emulator's region only) or [`Managers`] that make one per region.
/// Abort the handle to stop it.
pub fn spawn_controller<M: ResourceManager>(
    env: &TestEnv,
    managers: impl Into<Managers<M>>,
    client: kube::Client,
    namespace: &str,
    max_concurrent_syncs: u16,
    metrics: Metrics,
) -> tokio::task::JoinHandle<()> {
    spawn_controller_with(
        env,
        managers,
        client,
        namespace,
        max_concurrent_syncs,
        metrics,
        |_| {},
    )
}

/// [`spawn_controller`] with `adjust` applied to the settings (feature gates, …).
pub fn spawn_controller_with<M: ResourceManager>(
    env: &TestEnv,
    managers: impl Into<Managers<M>>,
    client: kube::Client,
    namespace: &str,
    max_concurrent_syncs: u16,
    metrics: Metrics,
    adjust: impl FnOnce(&mut Settings),
) -> tokio::task::JoinHandle<()> {
    let mut settings = Settings {
        controller_version: env!("CARGO_PKG_VERSION").into(),
        default_tags: DefaultTags::default(),
        deletion_policy: DeletionPolicy::Delete,
        requeue: RequeueConfig::default(),
        region: env.endpoints.region.clone(),
        account_id: Some(ACCOUNT.into()),
        feature_gates: FeatureGates::default(),
        enable_carm: true,
        // The test's namespace stands for the controller's: its CARM maps live there.
        system_namespace: namespace.to_string(),
        cluster_id: String::new(),
    };
    adjust(&mut settings);
    let options = Options {
        watch_namespaces: vec![namespace.to_string()],
        label_selector: None,
        max_concurrent_syncs,
    };
    let managers = managers.into();
    tokio::spawn(async move {
        // The cluster's own identity, as a controller process reads it at start-up.
        let cluster_id = ack_runtime::process::cluster_id(&client, None)
            .await
            .expect("reading the cluster's identity");
        let settings = Settings {
            cluster_id,
            ..settings
        };
        controller::run(managers, client, settings, options, metrics).await
    })
}
