//! Round trips per step of a tags-only Bucket's life, counted exactly (AWS calls at the
//! emulator, Kubernetes writes by the controller), so calls that creep back fail here. Not timed.

use std::path::Path;

use ack_runtime::aws::CallCounter;
use ack_runtime::metrics::Metrics;
use ack_s3::BucketManager;
use kube::api::{Api, ApiResource};
use serde_json::json;
use testenv::TestEnv;
use testenv::round_trips::{Tracked, object, writes};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tags_only_bucket_costs_the_fewest_round_trips() {
    let env = TestEnv::get();
    let crd =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crds/s3.services.k8s.aws_buckets.yaml");
    env.install_crds(&[&crd]).await.unwrap();
    let client = env.client().await;
    let namespace = env.namespace("s3-trips").await;
    let metrics = Metrics::default();
    // Path-style addressing, as s3-controller uses with a custom endpoint.
    let config = aws_sdk_s3::config::Builder::from(&env.aws().await)
        .force_path_style(true)
        .interceptor(CallCounter {
            service: "s3",
            metrics: metrics.clone(),
        })
        .build();
    let manager = BucketManager::new(aws_sdk_s3::Client::from_conf(config));
    let controller =
        testenv::spawn_controller(env, manager, client.clone(), &namespace, 1, metrics.clone());
    let name = format!("ackrs-trips-{}", std::process::id());
    let bucket = Tracked {
        api: Api::namespaced_with(
            client,
            &namespace,
            &ApiResource::erase::<ack_s3::Bucket>(&()),
        ),
        name: name.clone(),
        kind: "Bucket",
        service: "s3",
        aws_name: name.clone(),
        metrics,
    };

    let spec = json!({"name": name, "tagging": {"tagSet": [{"key": "team", "value": "a"}]}});
    let cost = bucket
        .create(&object("s3.services.k8s.aws/v1alpha1", "Bucket", &name, spec).unwrap())
        .await
        .unwrap();
    // One existence read, the create, and the tags (CreateBucket's own tags are left out, as
    // in ACK's Bucket); a new bucket has no tags to read first.
    assert_eq!(
        cost.aws,
        ["HeadBucket", "CreateBucket", "PutBucketTagging"],
        "create"
    );
    assert_eq!(
        cost.writes,
        writes(&[("finalizer", 1), ("status", 1), ("event", 1)]),
        "create"
    );

    let cost = bucket.resync("1").await.unwrap();
    assert_eq!(cost.aws, ["HeadBucket", "GetBucketTagging"], "resync");
    assert_eq!(cost.writes, writes(&[]), "resync");

    let cost = bucket.delete().await.unwrap();
    assert_eq!(
        cost.aws,
        ["HeadBucket", "GetBucketTagging", "DeleteBucket"],
        "delete: the tags say whose it is"
    );
    assert_eq!(
        cost.writes,
        writes(&[("finalizer", 1), ("event", 1)]),
        "delete"
    );
    controller.abort();
}
