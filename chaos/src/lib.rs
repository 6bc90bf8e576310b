//! The chaos suite's harness: every controller (Bucket, Queue, Table) running in-process against
//! the test world, mixed-kind custom resources, faults injected at the emulator, and the checks
//! made at the end of every case — in AWS (the emulator) and in Kubernetes.
//!
//! Sizes come from [`Scale`]: small inside `cargo xtask test`, the sizes under
//! `cargo xtask chaos` (`ACK_RS_CHAOS=full`). Each case prints one `CHAOS {json}` line with its
//! figures; `cargo xtask chaos` collects them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ack_dynamodb::TableManager;
use ack_runtime::aws::CallCounter;
use ack_runtime::controller::{self, Options};
use ack_runtime::flags::FeatureGates;
use ack_runtime::metrics::Metrics;
use ack_runtime::reconcile::Settings;
use ack_runtime::requeue::Backoff;
use ack_runtime::throttle::{ApiThrottle, parse_rules};
use ack_runtime::{DefaultTags, DeletionPolicy, RequeueConfig};
use ack_s3::BucketManager;
use ack_sqs::QueueManager;
use anyhow::{Context, Result, bail};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, PostParams};
use serde_json::{Value, json};
use testenv::{FaultRule, RecordedRequest, TestEnv};
use tokio::task::JoinHandle;

pub const SYNCED: &str = "ACK.ResourceSynced";
pub const TERMINAL: &str = "ACK.Terminal";
pub const RECOVERABLE: &str = "ACK.Recoverable";

/// How big and how long the cases are.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    /// Custom resources per case, spread over the three kinds.
    pub resources: usize,
    /// How long the AWS outage lasts.
    pub outage: Duration,
    /// How long a case may take to converge before it fails.
    pub converge: Duration,
    pub full: bool,
}

impl Scale {
    pub fn get() -> Scale {
        if std::env::var("ACK_RS_CHAOS").as_deref() == Ok("full") {
            Scale {
                resources: 200,
                outage: Duration::from_secs(60),
                converge: Duration::from_secs(600),
                full: true,
            }
        } else {
            Scale {
                resources: 12,
                outage: Duration::from_secs(8),
                converge: Duration::from_secs(180),
                full: false,
            }
        }
    }
}

/// The three kinds a case mixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Bucket,
    Queue,
    Table,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Bucket, Kind::Queue, Kind::Table];

    pub fn api_resource(self) -> ApiResource {
        let (group, kind, plural) = match self {
            Kind::Bucket => ("s3.services.k8s.aws", "Bucket", "buckets"),
            Kind::Queue => ("sqs.services.k8s.aws", "Queue", "queues"),
            Kind::Table => ("dynamodb.services.k8s.aws", "Table", "tables"),
        };
        ApiResource {
            group: group.into(),
            version: "v1alpha1".into(),
            api_version: format!("{group}/v1alpha1"),
            kind: kind.into(),
            plural: plural.into(),
        }
    }

    fn crd_file(self) -> &'static str {
        match self {
            Kind::Bucket => "s3.services.k8s.aws_buckets.yaml",
            Kind::Queue => "sqs.services.k8s.aws_queues.yaml",
            Kind::Table => "dynamodb.services.k8s.aws_tables.yaml",
        }
    }

    pub fn service(self) -> &'static str {
        match self {
            Kind::Bucket => "s3",
            Kind::Queue => "sqs",
            Kind::Table => "dynamodb",
        }
    }

    /// A minimal valid spec for an AWS resource called `name`.
    pub fn spec(self, name: &str) -> Value {
        match self {
            Kind::Bucket => json!({ "name": name }),
            Kind::Queue => json!({ "queueName": name }),
            Kind::Table => json!({
                "tableName": name,
                "billingMode": "PAY_PER_REQUEST",
                "attributeDefinitions": [{ "attributeName": "pk", "attributeType": "S" }],
                "keySchema": [{ "attributeName": "pk", "keyType": "HASH" }],
            }),
        }
    }
}

/// One custom resource of a case: its kind, name (= the AWS name) and whether it retains.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Resource {
    pub kind: Kind,
    pub name: String,
    pub retain: bool,
}

/// One case's namespace, resources, controllers and clients.
pub struct Case {
    pub label: &'static str,
    pub namespace: String,
    /// Every AWS name of this case starts with it (lowercase, bucket-safe).
    pub prefix: String,
    pub resources: Vec<Resource>,
    pub env: &'static TestEnv,
    kubeconfig: std::path::PathBuf,
    pub client: kube::Client,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    controllers: Vec<JoinHandle<()>>,
    /// Controller processes, when the case runs the binaries (see [`Case::run_binaries`]).
    processes: Vec<tokio::process::Child>,
    binaries: Option<std::path::PathBuf>,
    /// The metrics of the controllers running now (new ones per restart).
    pub metrics: Metrics,
    throttle: Arc<ApiThrottle>,
}

/// Only one case at a time: fault rules and call-rate checks are per emulator.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

impl Case {
    /// A namespace, `count` resources named `<prefix><i>` (kinds in turn, every `retain_every`-th
    /// retained when that is not 0) and the CRDs. Controllers start with [`Case::start`].
    pub async fn new(label: &'static str, count: usize, retain_every: usize) -> Result<Case> {
        let kubeconfig = TestEnv::get().endpoints.kubeconfig.clone();
        Self::new_on(&kubeconfig, label, count, retain_every).await
    }

    /// As [`Case::new`], on the control plane `kubeconfig` points at (AWS stays the test
    /// world's emulator).
    pub async fn new_on(
        kubeconfig: &Path,
        label: &'static str,
        count: usize,
        retain_every: usize,
    ) -> Result<Case> {
        let env = TestEnv::get();
        let client = testenv::kube_client(kubeconfig).await?;
        let crds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crds");
        let files: Vec<_> = Kind::ALL.iter().map(|k| crds.join(k.crd_file())).collect();
        let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
        testenv::install_crds(&client, &refs).await?;
        let namespace = testenv::create_namespace(&client, &format!("chaos-{label}")).await?;
        let prefix = format!("chaos-{}-{}-", label, &namespace[namespace.len() - 6..]);
        let resources = (0..count)
            .map(|i| Resource {
                kind: Kind::ALL[i % 3],
                name: format!("{prefix}{i:03}"),
                retain: retain_every != 0 && i % retain_every == retain_every - 1,
            })
            .collect();
        let sdk = env.aws().await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        );
        Ok(Case {
            label,
            namespace,
            prefix,
            resources,
            env,
            kubeconfig: kubeconfig.to_path_buf(),
            client,
            s3,
            sqs: aws_sdk_sqs::Client::new(&sdk),
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            controllers: Vec::new(),
            processes: Vec::new(),
            binaries: None,
            metrics: Metrics::default(),
            throttle: Arc::new(ApiThrottle::default()),
        })
    }

    /// Client-side limits for the controllers started from now on (`--aws-api-throttle` syntax).
    pub fn limit_calls(&mut self, rules: &str) -> Result<()> {
        self.throttle = Arc::new(ApiThrottle::new(&parse_rules(rules)?));
        Ok(())
    }

    /// The pattern fault rules use so they touch only this case's resources.
    pub fn resource_pattern(&self) -> String {
        format!("*{}*", self.prefix)
    }

    /// A fault rule scoped to this case's resources.
    pub fn fault(&self) -> FaultRule {
        FaultRule {
            resource: Some(self.resource_pattern()),
            ..FaultRule::default()
        }
    }

    /// The Bucket, Queue and Table controllers, in-process, as the controller binaries build them
    /// (SDK config with adaptive retries, the call counter, the token buckets), watching only
    /// this case's namespace. Backoffs are shortened so a case stays bounded in time.
    pub async fn start(&mut self) -> Result<()> {
        if let Some(dir) = self.binaries.clone() {
            return self.start_processes(&dir);
        }
        let metrics = Metrics::default();
        let endpoints = &self.env.endpoints;
        let sdk = ack_runtime::aws::sdk_config(
            Some(&endpoints.region),
            Some(&endpoints.aws_endpoint_url),
            // --http-client-timeout's default, as the binaries have it.
            Some(Duration::from_secs(60)),
            self.throttle.clone(),
            metrics.clone(),
        )
        .await
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(
                    testenv::world::ACCESS_KEY_ID,
                    testenv::world::SECRET_ACCESS_KEY,
                    None,
                    None,
                    "chaos",
                ),
            ),
        )
        .build();
        let counter = |service| CallCounter {
            service,
            metrics: metrics.clone(),
        };
        let s3 = BucketManager::new(aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .interceptor(counter("s3"))
                .build(),
        ));
        let sqs = QueueManager::new(aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(&sdk)
                .interceptor(counter("sqs"))
                .build(),
        ));
        let dynamodb = TableManager::new(aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk)
                .interceptor(counter("dynamodb"))
                .build(),
        ));
        let settings = Settings {
            controller_version: env!("CARGO_PKG_VERSION").into(),
            default_tags: DefaultTags::default(),
            deletion_policy: DeletionPolicy::Delete,
            requeue: RequeueConfig {
                not_synced: Backoff {
                    base: Duration::from_millis(500),
                    cap: Duration::from_secs(5),
                },
                recoverable: Backoff {
                    base: Duration::from_secs(1),
                    cap: Duration::from_secs(8),
                },
                ..RequeueConfig::default()
            },
            region: endpoints.region.clone(),
            account_id: Some(testenv::controllers::ACCOUNT.into()),
            feature_gates: FeatureGates::default(),
            enable_carm: true,
            system_namespace: self.namespace.clone(),
            cluster_id: String::new(),
        };
        let options = Options {
            watch_namespaces: vec![self.namespace.clone()],
            label_selector: None,
            max_concurrent_syncs: 4,
        };
        let client = testenv::kube_client(&self.kubeconfig).await?;
        let settings = Settings {
            cluster_id: ack_runtime::process::cluster_id(&client, None).await?,
            ..settings
        };
        self.controllers = vec![
            tokio::spawn(controller::run(
                s3,
                client.clone(),
                settings.clone(),
                options.clone(),
                metrics.clone(),
            )),
            tokio::spawn(controller::run(
                sqs,
                client.clone(),
                settings.clone(),
                options.clone(),
                metrics.clone(),
            )),
            tokio::spawn(controller::run(
                dynamodb,
                client,
                settings,
                options,
                metrics.clone(),
            )),
        ];
        self.metrics = metrics;
        Ok(())
    }

    /// From now on, [`Case::start`] runs the controller binaries in `dir` (`s3-controller`,
    /// `sqs-controller`, `dynamodb-controller`) as processes, and [`Case::kill`] sends them
    /// SIGKILL: `cargo xtask chaos` builds them and names the directory in
    /// `ACK_RS_CONTROLLER_BINS`. Without it, controllers run in-process (and are aborted).
    pub fn run_binaries_from_env(&mut self) {
        self.binaries = std::env::var_os("ACK_RS_CONTROLLER_BINS").map(Into::into);
    }

    pub fn runs_binaries(&self) -> bool {
        self.binaries.is_some()
    }

    fn start_processes(&mut self, dir: &Path) -> Result<()> {
        let endpoints = &self.env.endpoints;
        for kind in Kind::ALL {
            let binary = dir.join(format!("{}-controller", kind.service()));
            let mut cmd = tokio::process::Command::new(&binary);
            cmd.env("KUBECONFIG", &self.kubeconfig)
                .env("AWS_ACCESS_KEY_ID", testenv::world::ACCESS_KEY_ID)
                .env("AWS_SECRET_ACCESS_KEY", testenv::world::SECRET_ACCESS_KEY)
                .arg(format!("--aws-region={}", endpoints.region))
                .arg(format!("--aws-endpoint-url={}", endpoints.aws_endpoint_url))
                .arg(format!("--watch-namespace={}", self.namespace))
                .arg(format!(
                    "--aws-account-id={}",
                    testenv::controllers::ACCOUNT
                ))
                .arg(format!(
                    "--metrics-addr=127.0.0.1:{}",
                    testenv::launch::free_port()?
                ))
                .arg(format!(
                    "--healthz-addr=127.0.0.1:{}",
                    testenv::launch::free_port()?
                ))
                .arg("--reconcile-default-max-concurrent-syncs=4")
                .arg("--log-level=warn")
                .stdout(std::process::Stdio::null())
                .kill_on_drop(true);
            let child = cmd
                .spawn()
                .with_context(|| format!("starting {}", binary.display()))?;
            self.processes.push(child);
        }
        Ok(())
    }

    /// Kills every controller at once, wherever each is (an in-flight AWS or Kubernetes call is
    /// dropped mid-way; nothing of theirs runs afterwards) — what `kill -9` does to a process.
    pub async fn kill(&mut self) {
        for mut child in self.processes.drain(..) {
            let _ = child.start_kill(); // SIGKILL
            let _ = child.wait().await;
        }
        for handle in self.controllers.drain(..) {
            handle.abort();
            let _ = handle.await;
        }
    }

    pub fn api(&self, kind: Kind) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), &self.namespace, &kind.api_resource())
    }

    /// Creates every resource's CR (retained ones annotated `deletion-policy: retain`).
    pub async fn create_all(&self) -> Result<()> {
        for r in &self.resources {
            self.create(r, &[]).await?;
        }
        Ok(())
    }

    pub async fn create(&self, r: &Resource, annotations: &[(&str, &str)]) -> Result<()> {
        let mut notes: BTreeMap<String, String> = annotations
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if r.retain {
            notes.insert("services.k8s.aws/deletion-policy".into(), "retain".into());
        }
        let ar = r.kind.api_resource();
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": ar.api_version,
            "kind": ar.kind,
            "metadata": { "name": r.name, "annotations": notes },
            "spec": r.kind.spec(&r.name),
        }))?;
        self.api(r.kind)
            .create(&PostParams::default(), &object)
            .await
            .with_context(|| format!("creating {:?} {}", r.kind, r.name))?;
        Ok(())
    }

    pub async fn delete_all(&self) -> Result<()> {
        for r in &self.resources {
            self.api(r.kind)
                .delete(&r.name, &DeleteParams::default())
                .await
                .with_context(|| format!("deleting {:?} {}", r.kind, r.name))?;
        }
        Ok(())
    }

    /// Every CR of the case that exists now.
    pub async fn crs(&self) -> Result<Vec<(Kind, DynamicObject)>> {
        let mut all = Vec::new();
        for kind in Kind::ALL {
            for obj in self.api(kind).list(&ListParams::default()).await?.items {
                all.push((kind, obj));
            }
        }
        Ok(all)
    }

    /// Names of the CRs whose condition `type_` is `True`.
    pub async fn with_condition(&self, type_: &str) -> Result<BTreeSet<String>> {
        Ok(self
            .crs()
            .await?
            .into_iter()
            .filter(|(_, o)| testenv::condition_status(o, type_).as_deref() == Some("True"))
            .filter_map(|(_, o)| o.metadata.name)
            .collect())
    }

    /// The AWS names of this case's buckets, queues and tables that exist now.
    pub async fn in_aws(&self) -> Result<BTreeSet<(Kind, String)>> {
        let mut found = BTreeSet::new();
        for b in self
            .s3
            .list_buckets()
            .send()
            .await?
            .buckets
            .unwrap_or_default()
        {
            if let Some(name) = b.name.filter(|n| n.starts_with(&self.prefix)) {
                found.insert((Kind::Bucket, name));
            }
        }
        let mut token = None;
        loop {
            let page = self
                .sqs
                .list_queues()
                .queue_name_prefix(&self.prefix)
                .max_results(1000)
                .set_next_token(token)
                .send()
                .await?;
            for url in page.queue_urls.unwrap_or_default() {
                let name = url.rsplit('/').next().unwrap_or_default().to_string();
                found.insert((Kind::Queue, name));
            }
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        let mut start = None;
        loop {
            let page = self
                .dynamodb
                .list_tables()
                .set_exclusive_start_table_name(start)
                .send()
                .await?;
            for name in page.table_names.unwrap_or_default() {
                if name.starts_with(&self.prefix) {
                    found.insert((Kind::Table, name));
                }
            }
            start = page.last_evaluated_table_name;
            if start.is_none() {
                break;
            }
        }
        Ok(found)
    }

    /// Waits until every resource's CR is Synced, failing at once if any turns Terminal.
    /// `during` runs on every poll (e.g. to kill controllers at random moments).
    pub async fn converge(&mut self, mut during: impl AsyncStep) -> Result<()> {
        let deadline = Instant::now() + Scale::get().converge;
        loop {
            let terminal = self.with_condition(TERMINAL).await?;
            if !terminal.is_empty() {
                bail!(
                    "{}: Terminal CRs: {:?}",
                    self.label,
                    self.conditions_of(&terminal).await?
                );
            }
            let synced = self.with_condition(SYNCED).await?;
            if synced.len() == self.resources.len() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let missing: BTreeSet<String> = self
                    .resources
                    .iter()
                    .map(|r| r.name.clone())
                    .filter(|n| !synced.contains(n))
                    .collect();
                bail!(
                    "{}: {} of {} Synced; the others: {:?}",
                    self.label,
                    synced.len(),
                    self.resources.len(),
                    self.conditions_of(&missing).await?
                );
            }
            during.step(self).await?;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits until every CR is gone, checking on every poll that no CR left Kubernetes while
    /// its (non-retained) AWS resource still existed.
    pub async fn drain(&mut self, mut during: impl AsyncStep) -> Result<()> {
        let deadline = Instant::now() + Scale::get().converge;
        loop {
            // Kubernetes first, then AWS: a CR already gone had its AWS resource deleted before
            // (the finalizer stays until AWS confirms), so AWS read afterwards must not have it.
            let left: BTreeSet<String> = self
                .crs()
                .await?
                .into_iter()
                .filter_map(|(_, o)| o.metadata.name)
                .collect();
            let aws = self.in_aws().await?;
            if let Some(r) = self.resources.iter().find(|r| {
                !r.retain && !left.contains(&r.name) && aws.contains(&(r.kind, r.name.clone()))
            }) {
                bail!(
                    "{}: the CR of {:?} {} is gone but AWS still has it",
                    self.label,
                    r.kind,
                    r.name
                );
            }
            if left.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{}: CRs left after {:?}: {:?}",
                    self.label,
                    Scale::get().converge,
                    self.conditions_of(&left).await?
                );
            }
            during.step(self).await?;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn conditions_of(&self, names: &BTreeSet<String>) -> Result<Vec<(String, Value)>> {
        Ok(self
            .crs()
            .await?
            .into_iter()
            .filter(|(_, o)| o.metadata.name.as_ref().is_some_and(|n| names.contains(n)))
            .take(5)
            .map(|(_, o)| {
                let v = serde_json::to_value(&o).unwrap_or_default();
                (
                    o.metadata.name.clone().unwrap_or_default(),
                    v["status"]["conditions"].clone(),
                )
            })
            .collect())
    }

    /// The emulator's log entries that name this case's resources.
    pub async fn calls(&self) -> Result<Vec<RecordedRequest>> {
        let prefix = self.prefix.clone();
        let all =
            tokio::task::spawn_blocking(move || TestEnv::get().emulator().requests()).await??;
        Ok(all
            .into_iter()
            .filter(|r| {
                r.resource
                    .as_deref()
                    .is_some_and(|res| res.contains(&prefix))
            })
            .collect())
    }

    pub async fn add_fault(&self, rule: FaultRule) -> Result<()> {
        tokio::task::spawn_blocking(move || TestEnv::get().emulator().add_fault(&rule)).await??;
        Ok(())
    }

    /// Clears the fault rules and returns how many faults they injected.
    pub async fn clear_faults(&self) -> Result<u64> {
        tokio::task::spawn_blocking(|| {
            let control = TestEnv::get().emulator();
            let injected = control.faults()?.iter().map(|f| f.injected_total()).sum();
            control.clear_faults()?;
            Ok::<_, anyhow::Error>(injected)
        })
        .await?
    }

    /// The end-of-case check in AWS: exactly `expected` exists (no leak, nothing lost, nothing
    /// deleted that should stay), each AWS name once.
    pub async fn check_aws(&self, expected: &BTreeSet<(Kind, String)>) -> Result<()> {
        let found = self.in_aws().await?;
        let leaked: Vec<_> = found.difference(expected).collect();
        let lost: Vec<_> = expected.difference(&found).collect();
        if !leaked.is_empty() || !lost.is_empty() {
            bail!(
                "{}: in AWS but not expected: {leaked:?}; expected but missing: {lost:?}",
                self.label
            );
        }
        Ok(())
    }

    /// Successful create calls per AWS name: more than one is a duplicate create.
    pub async fn duplicate_creates(&self) -> Result<usize> {
        let mut creates: BTreeMap<String, usize> = BTreeMap::new();
        for call in self.calls().await? {
            let op = call.operation.as_str();
            if matches!(op, "CreateBucket" | "CreateQueue" | "CreateTable") && call.status < 300 {
                let name = call.resource.unwrap_or_default();
                let name = name.rsplit('/').next().unwrap_or_default().to_string();
                *creates.entry(name).or_default() += 1;
            }
        }
        Ok(creates.values().filter(|&&n| n > 1).count())
    }

    pub fn every_resource(&self) -> BTreeSet<(Kind, String)> {
        self.resources
            .iter()
            .map(|r| (r.kind, r.name.clone()))
            .collect()
    }

    /// Prints the case's figures as one `CHAOS {json}` line.
    pub fn report(&self, figures: Value) {
        let mut line = json!({ "case": self.label, "resources": self.resources.len() });
        if let (Some(line), Some(more)) = (line.as_object_mut(), figures.as_object()) {
            line.extend(more.clone());
        }
        eprintln!("CHAOS {line}");
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        for handle in &self.controllers {
            handle.abort();
        }
    }
}

/// Something a waiting loop does on each poll.
pub trait AsyncStep {
    fn step(&mut self, case: &mut Case) -> impl std::future::Future<Output = Result<()>>;
}

impl<T: AsyncStep> AsyncStep for &mut T {
    async fn step(&mut self, case: &mut Case) -> Result<()> {
        (**self).step(case).await
    }
}

/// Does nothing.
pub struct Idle;

impl AsyncStep for Idle {
    async fn step(&mut self, _: &mut Case) -> Result<()> {
        Ok(())
    }
}

/// Kills the controllers at random moments (every 0.5–3 s; 1–6 s at full size, where a fresh
/// controller needs longer to go through every CR once) and starts fresh ones at once.
pub struct KillAtRandom {
    next: Instant,
    pub kills: usize,
}

impl Default for KillAtRandom {
    fn default() -> Self {
        Self {
            next: Instant::now() + random_pause(),
            kills: 0,
        }
    }
}

fn random_pause() -> Duration {
    if Scale::get().full {
        Duration::from_millis(fastrand::u64(1000..6000))
    } else {
        Duration::from_millis(fastrand::u64(500..3000))
    }
}

impl AsyncStep for KillAtRandom {
    async fn step(&mut self, case: &mut Case) -> Result<()> {
        if Instant::now() >= self.next {
            case.kill().await;
            case.start().await?;
            self.kills += 1;
            self.next = Instant::now() + random_pause();
        }
        Ok(())
    }
}

/// The sum of a counter family in the OpenMetrics text, e.g. `ack_outbound_api_throttled_total`.
pub fn metric_sum(metrics: &Metrics, name: &str) -> f64 {
    metrics
        .encode()
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
