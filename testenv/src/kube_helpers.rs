//! Small Kubernetes helpers tests share: clients, namespaces, CRDs, waiting for conditions.

use std::fmt::Debug;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config, Resource};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub async fn kube_client(kubeconfig: &Path) -> Result<Client> {
    let kubeconfig = Kubeconfig::read_from(kubeconfig)
        .with_context(|| format!("reading {}", kubeconfig.display()))?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    Ok(Client::try_from(config)?)
}

pub async fn create_namespace(client: &Client, prefix: &str) -> Result<String> {
    let name = format!("{prefix}-{}", crate::controlplane::random_hex(3)?);
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await?;
    Ok(name)
}

pub async fn install_crds(client: &Client, files: &[&Path]) -> Result<()> {
    let api = Api::<CustomResourceDefinition>::all(client.clone());
    let params = PatchParams::apply("ack-rs-testenv").force();
    let mut names = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let crd = CustomResourceDefinition::deserialize(doc)
                .with_context(|| format!("parsing {}", file.display()))?;
            let name = crd.metadata.name.clone().context("CRD without a name")?;
            api.patch(&name, &params, &Patch::Apply(&crd))
                .await
                .with_context(|| format!("applying CRD {name}"))?;
            names.push(name);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    for name in names {
        loop {
            let crd = api.get(&name).await?;
            if condition_status(&crd, "Established").as_deref() == Some("True") {
                break;
            }
            if Instant::now() > deadline {
                bail!("CRD {name} not Established after 30s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// The `status` of condition `type_` in `obj.status.conditions`, for any object.
pub fn condition_status(obj: &impl Serialize, type_: &str) -> Option<String> {
    let value = serde_json::to_value(obj).ok()?;
    value["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .and_then(|c| c["status"].as_str().map(str::to_string))
}

/// Polls `name` until condition `type_` has `status`, returning the object; fails with the last
/// seen conditions when `timeout` passes.
pub async fn wait_for_condition<K>(
    api: &Api<K>,
    name: &str,
    type_: &str,
    status: &str,
    timeout: Duration,
) -> Result<K>
where
    K: Resource + Clone + DeserializeOwned + Serialize + Debug,
{
    let deadline = Instant::now() + timeout;
    loop {
        let last = api.get_opt(name).await?;
        if let Some(obj) = &last
            && condition_status(obj, type_).as_deref() == Some(status)
        {
            return Ok(obj.clone());
        }
        if Instant::now() > deadline {
            let conditions = last
                .and_then(|o| serde_json::to_value(o).ok())
                .map(|v| v["status"]["conditions"].to_string())
                .unwrap_or_else(|| "<object not found>".into());
            bail!("{name}: {type_} was not {status} after {timeout:?}; conditions: {conditions}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
