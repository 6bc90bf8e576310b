//! Counting the round trips one CR costs, per step of its life (create → Synced, a resync,
//! delete): AWS calls as the emulator logged them, Kubernetes writes as the controller's
//! `ack_kubernetes_writes` counter has them. Tests assert exact numbers with it, so round trips
//! that creep back fail a test (no timing involved).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ack_runtime::metrics::Metrics;
use anyhow::{Result, bail};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::TestEnv;

/// The Kubernetes writes the controller counts, by what was written.
const WRITES: [&str; 5] = ["finalizer", "metadata", "spec", "status", "event"];

/// How long nothing may happen before a step counts as finished. The controller requeues a
/// synced resource only after its resync period, so silence this long means it is done.
const QUIET: Duration = Duration::from_secs(2);
const TIMEOUT: Duration = Duration::from_secs(60);

/// What one step cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cost {
    /// AWS operations about the resource, in order.
    pub aws: Vec<String>,
    /// Kubernetes writes by what was written (only those that happened).
    pub writes: BTreeMap<&'static str, u64>,
}

/// One CR of `kind`, whose AWS resource is called `aws_name`, watched by a controller that
/// counts into `metrics`.
pub struct Tracked {
    pub api: Api<DynamicObject>,
    pub name: String,
    pub kind: &'static str,
    pub service: &'static str,
    pub aws_name: String,
    pub metrics: Metrics,
}

impl Tracked {
    /// Creates the CR from `obj` and waits until it is Synced and nothing more happens.
    pub async fn create(&self, obj: &DynamicObject) -> Result<Cost> {
        self.step(async {
            self.api.create(&PostParams::default(), obj).await?;
            self.synced().await
        })
        .await
    }

    /// Asks for a resync (`services.k8s.aws/refresh-requested-at`) and waits until it is done.
    pub async fn resync(&self, stamp: &str) -> Result<Cost> {
        let patch =
            json!({"metadata": {"annotations": {"services.k8s.aws/refresh-requested-at": stamp}}});
        self.step(async {
            self.api
                .patch(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
            Ok(())
        })
        .await
    }

    /// Deletes the CR and waits until it is gone.
    pub async fn delete(&self) -> Result<Cost> {
        self.step(async {
            self.api
                .delete(&self.name, &DeleteParams::default())
                .await?;
            let deadline = Instant::now() + TIMEOUT;
            while self.api.get_opt(&self.name).await?.is_some() {
                if Instant::now() > deadline {
                    bail!("{} was not deleted after {TIMEOUT:?}", self.name);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(())
        })
        .await
    }

    async fn synced(&self) -> Result<()> {
        crate::wait_for_condition(&self.api, &self.name, "ACK.ResourceSynced", "True", TIMEOUT)
            .await?;
        Ok(())
    }

    /// Runs `action`, then waits until neither AWS calls nor writes change for [`QUIET`].
    async fn step(&self, action: impl Future<Output = Result<()>>) -> Result<Cost> {
        let (aws_before, writes_before) = (self.aws_calls().await?, self.writes());
        action.await?;
        let mut last = (self.aws_calls().await?.len(), self.writes());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            tokio::time::sleep(QUIET).await;
            let now = (self.aws_calls().await?.len(), self.writes());
            if now == last {
                break;
            }
            if Instant::now() > deadline {
                bail!("calls about {} never stopped", self.name);
            }
            last = now;
        }
        let aws = self.aws_calls().await?[aws_before.len()..].to_vec();
        let writes = self
            .writes()
            .into_iter()
            .map(|(write, n)| (write, n - writes_before.get(write).copied().unwrap_or(0)))
            .filter(|(_, n)| *n > 0)
            .collect();
        Ok(Cost { aws, writes })
    }

    /// Every AWS call about the resource so far: the emulator names it by its name, or by a
    /// URL or ARN ending in it.
    async fn aws_calls(&self) -> Result<Vec<String>> {
        let (service, name) = (self.service, self.aws_name.clone());
        tokio::task::spawn_blocking(move || {
            let suffix = format!("/{name}");
            Ok(TestEnv::get()
                .emulator()
                .requests()?
                .into_iter()
                .filter(|r| r.service == service)
                .filter(|r| {
                    r.resource
                        .as_deref()
                        .is_some_and(|res| res == name || res.ends_with(&suffix))
                })
                .map(|r| r.operation)
                .collect())
        })
        .await?
    }

    fn writes(&self) -> BTreeMap<&'static str, u64> {
        WRITES
            .iter()
            .map(|w| (*w, self.metrics.writes(self.kind, w)))
            .collect()
    }
}

/// `[("finalizer", 1), …]` as [`Cost::writes`] has them, for assertions.
pub fn writes(pairs: &[(&'static str, u64)]) -> BTreeMap<&'static str, u64> {
    pairs.iter().copied().collect()
}

/// A CR of `kind` named `name` with `spec`, for [`Tracked::create`].
pub fn object(api_version: &str, kind: &str, name: &str, spec: Value) -> Result<DynamicObject> {
    Ok(serde_json::from_value(json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    }))?)
}
