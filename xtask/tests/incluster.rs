//! The controllers as pods on the test world's node, deployed the way a user deploys them: the
//! image `cargo xtask image` builds, imported into the node's containerd, and each service's Helm
//! chart. What only a real pod exercises: the probes, the security context, the service-account
//! token and in-cluster config, the chart's env and credentials wiring, and leader election
//! between replicas.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams};
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};
use support::pods::{install, run};
use testenv::TestEnv;

mod support;

/// Generous bounds for a busy 2-core machine; none is an assertion about speed.
const TIMEOUT: Duration = Duration::from_secs(180);

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

fn resource(service: &str) -> (&'static str, &'static str, &'static str) {
    match service {
        "s3" => ("s3.services.k8s.aws", "Bucket", "buckets"),
        "sqs" => ("sqs.services.k8s.aws", "Queue", "queues"),
        "dynamodb" => ("dynamodb.services.k8s.aws", "Table", "tables"),
        _ => unreachable!(),
    }
}

fn spec(service: &str, name: &str) -> Value {
    match service {
        "s3" => json!({ "name": name }),
        "sqs" => json!({ "queueName": name }),
        "dynamodb" => json!({
            "tableName": name,
            "billingMode": "PAY_PER_REQUEST",
            "attributeDefinitions": [{ "attributeName": "id", "attributeType": "S" }],
            "keySchema": [{ "attributeName": "id", "keyType": "HASH" }],
        }),
        _ => unreachable!(),
    }
}

/// Applies a CR of the service's kind and waits until it is `ACK.ResourceSynced`.
async fn apply_and_sync(env: &TestEnv, service: &str, namespace: &str, name: &str) {
    let (group, kind, plural) = resource(service);
    let gvk = GroupVersionKind::gvk(group, "v1alpha1", kind);
    let api: Api<DynamicObject> = Api::namespaced_with(
        env.client().await,
        namespace,
        &ApiResource::from_gvk_with_plural(&gvk, plural),
    );
    let cr = json!({
        "apiVersion": format!("{group}/v1alpha1"),
        "kind": kind,
        "metadata": { "name": name },
        "spec": spec(service, name),
    });
    api.patch(
        name,
        &PatchParams::apply("incluster-test"),
        &Patch::Apply(&cr),
    )
    .await
    .unwrap();
    eventually(&format!("{kind} {name} synced"), || async {
        let obj = api.get(name).await.map_err(|e| e.to_string())?;
        (testenv::condition_status(&obj, "ACK.ResourceSynced").as_deref() == Some("True"))
            .then_some(())
            .ok_or(format!("{:?}", obj.data["status"]))
    })
    .await;
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{nanos:x}")
}

/// The container's OCI spec and its process's status as containerd and the kernel see them.
fn container_facts(env: &TestEnv, pod: &Pod) -> (Value, String) {
    let id = pod
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0]
        .container_id
        .clone()
        .expect("a running container has an id");
    let id = id.trim_start_matches("containerd://");
    let ctr = || testenv::node::ctr(&env.node().containerd_address);
    let info: Value = serde_json::from_str(&run(ctr().args([
        "-n",
        testenv::node::CONTAINERD_NAMESPACE,
        "containers",
        "info",
        id,
    ])))
    .unwrap();
    let tasks = run(ctr().args(["-n", testenv::node::CONTAINERD_NAMESPACE, "tasks", "ls"]));
    let pid = tasks
        .lines()
        .find(|l| l.starts_with(id))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("no task for {id}: {tasks}"))
        .to_string();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    (info["Spec"].clone(), status)
}

fn status_field<'a>(status: &'a str, field: &str) -> &'a str {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_default()
        .trim()
}

async fn pods(env: &TestEnv, namespace: &str) -> Vec<Pod> {
    Api::<Pod>::namespaced(env.client().await, namespace)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect()
}

fn ready(pod: &Pod) -> bool {
    testenv::condition_status(pod, "Ready").as_deref() == Some("True")
}

fn logs(env: &TestEnv, namespace: &str, pod: &str) -> String {
    run(env.kubectl().args(["logs", "-n", namespace, pod]))
}

async fn each_chart_runs_its_controller_as_a_pod(service: &str) {
    let env = TestEnv::get_with_node();
    let namespace = env.namespace(&format!("incluster-{service}")).await;
    // `--wait`: the Deployment is available, i.e. the pod passed its readiness probe.
    install(env, service, &namespace, &[]);
    let pods = pods(env, &namespace).await;
    assert_eq!(pods.len(), 1, "one replica");
    let pod = &pods[0];
    assert!(ready(pod), "Ready through /readyz: {:?}", pod.status);

    // A CR applied now syncs: the pod reached the apiserver (in-cluster config, token) and the
    // emulator (the chart's endpoint and credentials).
    apply_and_sync(
        env,
        service,
        &namespace,
        &unique(&format!("incluster-{service}")),
    )
    .await;

    // The chart's security context holds in the running container.
    let (spec, status) = container_facts(env, pod);
    assert_eq!(spec["process"]["user"]["uid"], 65532, "{spec}");
    assert_eq!(spec["root"]["readonly"], true, "read-only root filesystem");
    assert_eq!(spec["process"]["noNewPrivileges"], true);
    for set in ["bounding", "effective", "permitted"] {
        let caps = &spec["process"]["capabilities"][set];
        assert!(
            caps.is_null() || caps.as_array().is_some_and(|c| c.is_empty()),
            "capabilities {set} not dropped: {caps}"
        );
    }
    assert!(
        status_field(&status, "Uid").starts_with("65532"),
        "{status}"
    );
    assert_eq!(status_field(&status, "CapEff"), "0000000000000000");
    assert_eq!(status_field(&status, "NoNewPrivs"), "1");
}

#[tokio::test]
async fn sqs_chart_runs_the_controller_as_a_pod() {
    each_chart_runs_its_controller_as_a_pod("sqs").await;
}

#[tokio::test]
async fn s3_chart_runs_the_controller_as_a_pod() {
    each_chart_runs_its_controller_as_a_pod("s3").await;
}

#[tokio::test]
async fn dynamodb_chart_runs_the_controller_as_a_pod() {
    each_chart_runs_its_controller_as_a_pod("dynamodb").await;
}

#[tokio::test]
async fn leader_election_hands_over_when_the_leader_pod_is_deleted() {
    let env = TestEnv::get_with_node();
    let namespace = env.namespace("incluster-leader").await;
    install(
        env,
        "sqs",
        &namespace,
        &[
            "--set=deployment.replicas=2".into(),
            "--set=leaderElection.enabled=true".into(),
        ],
    );
    let leases = Api::<Lease>::namespaced(env.client().await, &namespace);
    let holder = || async {
        leases
            .get("ack-sqs-controller")
            .await
            .ok()
            .and_then(|l| l.spec?.holder_identity)
    };
    let leader = eventually("a replica holds the Lease", || async {
        holder().await.ok_or("no holder yet".to_string())
    })
    .await;
    apply_and_sync(env, "sqs", &namespace, &unique("leader-a")).await;

    // Exactly one replica reconciles: the Lease holder; the other waits.
    let running = pods(env, &namespace).await;
    assert_eq!(running.len(), 2);
    let reconciling: Vec<String> = running
        .iter()
        .map(|p| p.metadata.name.clone().unwrap())
        .filter(|p| logs(env, &namespace, p).contains("starting controller"))
        .collect();
    assert_eq!(
        reconciling,
        vec![leader.clone()],
        "only the leader reconciles"
    );

    // The leader goes; a CR applied right after still syncs, through the other replica once the
    // Lease expires (its duration plus a few seconds; bounded generously, not timed).
    Api::<Pod>::namespaced(env.client().await, &namespace)
        .delete(&leader, &DeleteParams::default())
        .await
        .unwrap();
    apply_and_sync(env, "sqs", &namespace, &unique("leader-b")).await;
    let new_leader = holder().await.expect("a holder after the handover");
    assert_ne!(new_leader, leader, "the Lease moved to another replica");
}

#[tokio::test]
async fn cloudformation_journey_with_the_controllers_in_cluster() {
    support::journey::journey(support::journey::Controllers::Pods).await;
}
