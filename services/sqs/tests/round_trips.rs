//! Round trips per step of a Queue's life, counted exactly (AWS calls at the emulator,
//! Kubernetes writes by the controller), so calls that creep back fail here. Not timed.

use std::path::Path;

use ack_runtime::aws::CallCounter;
use ack_runtime::metrics::Metrics;
use ack_sqs::QueueManager;
use kube::api::{Api, ApiResource};
use serde_json::json;
use testenv::TestEnv;
use testenv::round_trips::{Tracked, object, writes};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_costs_the_fewest_round_trips() {
    let env = TestEnv::get();
    let crd =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crds/sqs.services.k8s.aws_queues.yaml");
    env.install_crds(&[&crd]).await.unwrap();
    let client = env.client().await;
    let namespace = env.namespace("sqs-trips").await;
    let metrics = Metrics::default();
    let config = aws_sdk_sqs::config::Builder::from(&env.aws().await)
        .interceptor(CallCounter {
            service: "sqs",
            metrics: metrics.clone(),
        })
        .build();
    let manager = QueueManager::new(aws_sdk_sqs::Client::from_conf(config));
    let controller =
        testenv::spawn_controller(env, manager, client.clone(), &namespace, 1, metrics.clone());
    let name = format!("trips-{}", std::process::id());
    let queue = Tracked {
        api: Api::namespaced_with(
            client,
            &namespace,
            &ApiResource::erase::<ack_sqs::Queue>(&()),
        ),
        name: name.clone(),
        kind: "Queue",
        service: "sqs",
        aws_name: name.clone(),
        metrics,
    };

    let spec = json!({"queueName": name, "tags": {"team": "a"}});
    let cost = queue
        .create(&object("sqs.services.k8s.aws/v1alpha1", "Queue", &name, spec).unwrap())
        .await
        .unwrap();
    // One existence read, the create carrying every tag (defaults too), one read for the
    // ARN and the attributes AWS chose; the finalizer, the late-initialised spec and the
    // status are written once each.
    assert_eq!(
        cost.aws,
        ["GetQueueUrl", "CreateQueue", "GetQueueAttributes"],
        "create"
    );
    assert_eq!(
        cost.writes,
        writes(&[("finalizer", 1), ("spec", 1), ("status", 1), ("event", 1)]),
        "create"
    );

    let cost = queue.resync("1").await.unwrap();
    assert_eq!(cost.aws, ["GetQueueAttributes", "ListQueueTags"], "resync");
    assert_eq!(cost.writes, writes(&[]), "resync");

    let cost = queue.delete().await.unwrap();
    assert_eq!(
        cost.aws,
        ["GetQueueAttributes", "ListQueueTags", "DeleteQueue"],
        "delete: the tags say whose it is"
    );
    assert_eq!(
        cost.writes,
        writes(&[("finalizer", 1), ("event", 1)]),
        "delete"
    );
    controller.abort();
}
