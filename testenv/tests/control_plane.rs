//! The control plane is a real kube-apiserver: CRDs, watches, the status subresource and
//! finalizers behave as in a cluster.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{CustomResource, CustomResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use testenv::TestEnv;

#[derive(CustomResource, Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "testenv.ack-rs.dev",
    version = "v1",
    kind = "Widget",
    namespaced,
    status = "WidgetStatus"
)]
struct WidgetSpec {
    size: i32,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
struct WidgetStatus {
    observed: Option<i32>,
}

#[tokio::test]
async fn version_endpoint_reports_the_built_kubernetes() {
    let env = TestEnv::get();
    let info = env.client().await.apiserver_version().await.unwrap();
    assert_eq!(
        info.git_version,
        testenv::gobuild::KUBERNETES_VERSION,
        "kube-apiserver /version"
    );
}

#[tokio::test]
async fn custom_resource_lifecycle_with_status_and_finalizer() {
    let env = TestEnv::get();
    let client = env.client().await;
    let dir = tempdir();
    let crd_file = dir.join("widgets.yaml");
    std::fs::write(&crd_file, serde_yaml::to_string(&Widget::crd()).unwrap()).unwrap();
    env.install_crds(&[&crd_file]).await.unwrap();

    let ns = env.namespace("widgets").await;
    let api: Api<Widget> = Api::namespaced(client, &ns);
    let events = watcher(api.clone(), watcher::Config::default()).boxed();

    api.create(
        &PostParams::default(),
        &Widget::new("w1", WidgetSpec { size: 3 }),
    )
    .await
    .unwrap();
    // The watch sees the object we created.
    let seen = tokio::time::timeout(
        Duration::from_secs(10),
        events
            .try_filter_map(|e| async move {
                Ok(match e {
                    watcher::Event::Apply(w) | watcher::Event::InitApply(w) => Some(w),
                    _ => None,
                })
            })
            .boxed()
            .try_next(),
    )
    .await
    .expect("watch event within 10s")
    .unwrap()
    .unwrap();
    assert_eq!(seen.spec.size, 3);

    // Status goes through its own subresource and leaves the spec alone.
    api.patch_status(
        "w1",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"observed": 3}})),
    )
    .await
    .unwrap();
    let got = api.get("w1").await.unwrap();
    assert_eq!(got.status.unwrap().observed, Some(3));

    // A finalizer holds deletion until it is removed.
    api.patch(
        "w1",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": ["testenv.ack-rs.dev/hold"]}})),
    )
    .await
    .unwrap();
    api.delete("w1", &DeleteParams::default()).await.unwrap();
    let held = api.get("w1").await.expect("held by its finalizer");
    assert!(held.metadata.deletion_timestamp.is_some());
    api.patch(
        "w1",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(
        api.get_opt("w1").await.unwrap().is_none(),
        "gone once released"
    );
}

#[test]
fn helm_and_kubectl_run_from_the_cache() {
    let env = TestEnv::get();
    let helm = env.helm().arg("version").output().unwrap();
    assert!(helm.status.success(), "helm version: {helm:?}");
    let text = String::from_utf8_lossy(&helm.stdout);
    assert!(
        text.contains(testenv::gobuild::HELM_VERSION),
        "helm version says {text}"
    );

    let kubectl = env
        .kubectl()
        .args(["version", "-o", "json"])
        .output()
        .unwrap();
    assert!(kubectl.status.success(), "kubectl version: {kubectl:?}");
    let v: serde_json::Value = serde_json::from_slice(&kubectl.stdout).unwrap();
    assert_eq!(
        v["clientVersion"]["gitVersion"],
        testenv::gobuild::KUBERNETES_VERSION
    );
    assert_eq!(
        v["serverVersion"]["gitVersion"],
        testenv::gobuild::KUBERNETES_VERSION
    );
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ack-rs-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
