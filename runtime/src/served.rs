//! One controller process serving several kinds of a service (SNS's Topic and Subscription):
//! `process::run_service` takes one manager factory, or a tuple of them, and runs one
//! controller per kind on the same Kubernetes client, metrics and leadership.

use std::future::Future;
use std::pin::Pin;

use anyhow::Result;
use aws_config::SdkConfig;
use kube::Client;
use kube::api::ApiResource;

use crate::clients::{ManagerContext, Managers, Target};
use crate::controller::{self, Options};
use crate::manager::ResourceManager;
use crate::metrics::Metrics;
use crate::reconcile::Settings;

/// Runs one kind's controller (`None`: the kind is not reconciled) until the process stops.
pub type Runner = Box<
    dyn FnOnce(
            Client,
            Settings,
            Option<Options>,
            Metrics,
        ) -> Pin<Box<dyn Future<Output = ()> + Send>>
        + Send,
>;

/// What the process builds its managers with.
#[derive(Clone)]
pub struct Build {
    pub sdk: SdkConfig,
    pub metrics: Metrics,
    pub use_path_style: bool,
    /// `--aws-region`.
    pub region: String,
}

/// The manager factories of the kinds a controller process serves: one
/// `Fn(ManagerContext) -> Future<Output = Result<M>>`, or a tuple of two.
pub trait ServedKinds: Send + Sync + 'static {
    /// The kinds, in the order of [`runners`](Self::runners).
    fn kinds() -> Vec<ApiResource>;

    /// One runner per kind; each kind's manager for the default region is built now, so a
    /// client that cannot be built stops the start-up.
    fn runners(self, build: Build) -> impl Future<Output = Result<Vec<Runner>>> + Send;
}

async fn runner<M, F, Fut>(make: F, build: Build) -> Result<Runner>
where
    M: ResourceManager,
    F: Fn(ManagerContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<M>> + Send + 'static,
{
    let managers = Managers::new(make, build.sdk, build.metrics, build.use_path_style)
        .with_default_region(&build.region);
    managers
        .get(&Target::own(&build.region))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Box::new(move |client, settings, options, metrics| {
        Box::pin(async move {
            match options {
                Some(options) => {
                    controller::run(managers, client, settings, options, metrics).await
                }
                None => controller::shutdown_signal().await,
            }
        })
    }))
}

impl<M, F, Fut> ServedKinds for F
where
    M: ResourceManager,
    F: Fn(ManagerContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<M>> + Send + 'static,
{
    fn kinds() -> Vec<ApiResource> {
        vec![ApiResource::erase::<M::Resource>(&())]
    }

    async fn runners(self, build: Build) -> Result<Vec<Runner>> {
        Ok(vec![runner(self, build).await?])
    }
}

impl<A: ServedKinds, B: ServedKinds> ServedKinds for (A, B) {
    fn kinds() -> Vec<ApiResource> {
        let mut kinds = A::kinds();
        kinds.extend(B::kinds());
        kinds
    }

    async fn runners(self, build: Build) -> Result<Vec<Runner>> {
        let mut runners = self.0.runners(build.clone()).await?;
        runners.extend(self.1.runners(build).await?);
        Ok(runners)
    }
}
