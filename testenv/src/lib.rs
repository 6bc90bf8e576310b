//! The real test world: kube-apiserver + etcd built from Go modules, and the AWS emulator (moto with
//! the project's AWS fidelity rules), started once per test run.
//!
//! Tests call [`TestEnv::get`], or [`TestEnv::get_with_node`] when they run pods. Inside
//! `cargo xtask test` (or after `eval "$(cargo xtask testenv up)"`) that attaches to the running
//! world through the environment; otherwise the first call starts a world owned by the test
//! process, which dies with it.

pub mod ack_chart;
pub mod cache;
pub mod controllers;
pub mod controlplane;
pub mod debian;
pub mod emulator;
mod emulator_control;
pub mod gobuild;
pub mod image;
mod kube_helpers;
pub mod launch;
pub mod manifests;
pub mod node;
pub mod pause;
mod process;
pub mod round_trips;
pub mod toolchain;
pub mod world;

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use anyhow::Result;

pub use controllers::spawn_controller;
pub use emulator_control::{EmulatorControl, FaultReport, FaultRule, RecordedRequest};
pub use kube_helpers::{
    condition_status, create_namespace, install_crds, kube_client, wait_for_condition,
};
pub use world::{Endpoints, World};

/// A running test world, shared by every test in the process.
pub struct TestEnv {
    pub endpoints: Endpoints,
    /// Present when this process started the world itself; dropping it would stop it.
    _owned: Option<World>,
}

impl TestEnv {
    /// The world for this test run, attaching to a running one or starting one.
    ///
    /// Panics with the reason when the world cannot start: a test that needs it must fail loudly,
    /// never skip.
    pub fn get() -> &'static TestEnv {
        Self::get_or_start(world::Options::default())
    }

    /// The world for this test run, which must have a node that runs pods (`cargo xtask test`
    /// starts one). Started by the test process itself, the world gets a node when the first
    /// test that asks for it is the one that starts the world.
    ///
    /// Panics when the run's world has no node: a test that needs one must fail, never skip.
    pub fn get_with_node() -> &'static TestEnv {
        let env = Self::get_or_start(world::Options { node: true });
        if env.endpoints.node.is_none() {
            panic!(
                "this test runs pods, but this run's test world has no node: run it with \
                 `cargo xtask test` (as root; not --no-node) or attach to `cargo xtask testenv up --node`"
            );
        }
        env
    }

    /// The node of [`TestEnv::get_with_node`]'s world.
    pub fn node(&self) -> &node::NodeEndpoints {
        self.endpoints
            .node
            .as_ref()
            .expect("TestEnv::node() on a world without a node: use TestEnv::get_with_node()")
    }

    fn get_or_start(options: world::Options) -> &'static TestEnv {
        static ENV: OnceLock<Result<TestEnv, String>> = OnceLock::new();
        // Start-up blocks on its own runtime, which tokio forbids inside a test's runtime, so
        // it runs on a plain thread.
        let start = || {
            std::thread::spawn(move || Self::attach_or_start(options).map_err(|e| format!("{e:#}")))
                .join()
                .unwrap_or_else(|_| Err("test world start-up panicked".into()))
        };
        match ENV.get_or_init(start) {
            Ok(env) => env,
            Err(why) => panic!("the test world could not start: {why}"),
        }
    }

    /// A world of the calling test's own, stopped when the value is dropped: for a test whose
    /// controllers watch every namespace and would otherwise reconcile other tests' resources.
    /// Starting one takes a few seconds more than [`get`](Self::get).
    pub fn private() -> TestEnv {
        let start = || {
            let dir = world::fresh_dir().map_err(|e| format!("{e:#}"))?;
            world::start(&dir, launch::Lifetime::Owned)
                .map(|world| TestEnv {
                    endpoints: world.endpoints.clone(),
                    _owned: Some(world),
                })
                .map_err(|e| format!("{e:#}"))
        };
        match std::thread::spawn(start).join() {
            Ok(Ok(env)) => env,
            Ok(Err(why)) => panic!("a private test world could not start: {why}"),
            Err(_) => panic!("a private test world's start-up panicked"),
        }
    }

    fn attach_or_start(options: world::Options) -> Result<TestEnv> {
        if let Some(endpoints) = Endpoints::from_env() {
            return Ok(TestEnv {
                endpoints,
                _owned: None,
            });
        }
        let world = world::start_with(&world::fresh_dir()?, launch::Lifetime::Owned, options)?;
        Ok(TestEnv {
            endpoints: world.endpoints.clone(),
            _owned: Some(world),
        })
    }

    /// A new client for the calling test's runtime (clients must not outlive the runtime that made
    /// them, and each `#[tokio::test]` has its own).
    pub async fn client(&self) -> kube::Client {
        kube_client(&self.endpoints.kubeconfig)
            .await
            .expect("building a kube client for the test world")
    }

    /// The ownership tag (`ack-rs.dev/owner`) a controller of this world stamps on what `Kind`
    /// `namespace/name` creates or adopts: the world's cluster identity is its `kube-system`
    /// namespace's UID, as the controllers read it.
    pub async fn owner_tag(&self, namespace: &str, kind: &str, name: &str) -> (String, String) {
        let cluster = ack_runtime::process::cluster_id(&self.client().await, None)
            .await
            .expect("reading the kube-system namespace's UID");
        ack_runtime::tags::Owner::new(&cluster, namespace, kind, name).tag()
    }

    /// AWS SDK configuration pointed at the emulator. S3 clients also need `force_path_style(true)`.
    pub async fn aws(&self) -> aws_config::SdkConfig {
        let credentials = aws_credential_types::Credentials::new(
            world::ACCESS_KEY_ID,
            world::SECRET_ACCESS_KEY,
            None,
            None,
            "ack-rs-testenv",
        );
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoints.aws_endpoint_url)
            .region(aws_config::Region::new(self.endpoints.region.clone()))
            .credentials_provider(credentials)
            .load()
            .await
    }

    /// [`aws`](Self::aws) acting as `role_arn` (STS AssumeRole at the emulator), i.e. in the
    /// role's account: what a controller managing that account sees.
    pub async fn aws_as(&self, role_arn: &str) -> aws_config::SdkConfig {
        let own = self.aws().await;
        let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
            .session_name("ack-rs-test")
            .configure(&own)
            .build()
            .await;
        own.to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            )
            .build()
    }

    /// The emulator's test-only control endpoints (system tags, request log).
    pub fn emulator(&self) -> EmulatorControl {
        EmulatorControl::new(&self.endpoints.aws_endpoint_url)
    }

    /// A fresh namespace named `<prefix>-<random>`.
    pub async fn namespace(&self, prefix: &str) -> String {
        kube_helpers::create_namespace(&self.client().await, prefix)
            .await
            .expect("creating a test namespace")
    }

    /// Applies CRD YAML files (server-side apply) and waits until each is Established.
    pub async fn install_crds(&self, files: &[&Path]) -> Result<()> {
        kube_helpers::install_crds(&self.client().await, files).await
    }

    /// `kubectl` from the cache, pointed at this world.
    pub fn kubectl(&self) -> Command {
        self.tool(&self.endpoints.kubectl)
    }

    /// `helm` from the cache, pointed at this world.
    pub fn helm(&self) -> Command {
        self.tool(&self.endpoints.helm)
    }

    fn tool(&self, path: &Path) -> Command {
        let mut cmd = Command::new(path);
        cmd.env("KUBECONFIG", &self.endpoints.kubeconfig)
            .env("HELM_CACHE_HOME", self.endpoints.dir.join("helm/cache"))
            .env("HELM_CONFIG_HOME", self.endpoints.dir.join("helm/config"))
            .env("HELM_DATA_HOME", self.endpoints.dir.join("helm/data"));
        cmd
    }
}
