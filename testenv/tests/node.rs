//! The test world's node runs pods: scheduled by kube-scheduler, admitted with a service-account
//! token, started by kubelet through containerd on the world's bridge.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Node, Pod, ServiceAccount};
use kube::api::{Api, DeleteParams, PostParams};
use testenv::TestEnv;

const TIMEOUT: Duration = Duration::from_secs(120);

async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match probe().await {
            Ok(v) => return v,
            Err(why) if Instant::now() > deadline => panic!("{what}: {why}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

#[tokio::test]
async fn node_is_ready_and_runs_a_pod_with_a_service_account_token() {
    let env = TestEnv::get_with_node();
    let client = env.client().await;
    let node = Api::<Node>::all(client.clone())
        .get(&env.node().name)
        .await
        .unwrap();
    assert_eq!(
        testenv::condition_status(&node, "Ready").as_deref(),
        Some("True")
    );

    let namespace = env.namespace("node").await;
    // kube-controller-manager gives every namespace its default ServiceAccount and the CA bundle
    // that service-account tokens are verified with.
    eventually("default ServiceAccount", || async {
        Api::<ServiceAccount>::namespaced(client.clone(), &namespace)
            .get("default")
            .await
            .map_err(|e| e.to_string())
    })
    .await;
    eventually("kube-root-ca.crt", || async {
        Api::<ConfigMap>::namespaced(client.clone(), &namespace)
            .get("kube-root-ca.crt")
            .await
            .map_err(|e| e.to_string())
    })
    .await;

    let pods = Api::<Pod>::namespaced(client.clone(), &namespace);
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": "sleeper" },
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "securityContext": { "runAsNonRoot": true, "runAsUser": 65532 },
            "containers": [{
                "name": "sleeper",
                "image": testenv::pause::IMAGE,
                "imagePullPolicy": "Never",
                "securityContext": {
                    "readOnlyRootFilesystem": true,
                    "allowPrivilegeEscalation": false,
                    "capabilities": { "drop": ["ALL"] },
                },
            }],
        },
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let running = eventually("pod Running", || async {
        let pod = pods.get("sleeper").await.map_err(|e| e.to_string())?;
        let status = pod.status.clone().unwrap_or_default();
        if status.phase.as_deref() == Some("Running") {
            Ok(pod)
        } else {
            Err(format!("{status:?}"))
        }
    })
    .await;
    let spec = running.spec.unwrap();
    assert_eq!(spec.node_name.as_deref(), Some(env.node().name.as_str()));
    // The ServiceAccount admission plugin mounted a token for in-cluster clients.
    let mounts = spec.containers[0].volume_mounts.clone().unwrap_or_default();
    assert!(
        mounts
            .iter()
            .any(|m| m.mount_path == "/var/run/secrets/kubernetes.io/serviceaccount"),
        "no service-account token mount: {mounts:?}"
    );
    let ip = running.status.unwrap().pod_ip.expect("the pod has an IP");
    let gateway = env
        .endpoints
        .aws_endpoint_url
        .trim_start_matches("http://")
        .split(':')
        .next()
        .unwrap()
        .to_string();
    let subnet = |ip: &str| ip.rsplit_once('.').map(|(net, _)| net.to_string());
    assert_eq!(
        subnet(&ip),
        subnet(&gateway),
        "the pod is on the world's bridge, whose gateway the emulator listens on"
    );

    pods.delete("sleeper", &DeleteParams::default())
        .await
        .unwrap();
    eventually("pod gone", || async {
        match pods.get_opt("sleeper").await.map_err(|e| e.to_string())? {
            None => Ok(()),
            Some(_) => Err("still there".to_string()),
        }
    })
    .await;
}
