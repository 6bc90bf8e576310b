//! Round trips per step of a Table's life, counted exactly (AWS calls at the emulator,
//! Kubernetes writes by the controller), so calls that creep back fail here. Not timed.

use std::path::Path;

use ack_dynamodb::TableManager;
use ack_runtime::aws::CallCounter;
use ack_runtime::metrics::Metrics;
use kube::api::{Api, ApiResource};
use serde_json::json;
use testenv::TestEnv;
use testenv::round_trips::{Tracked, object, writes};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_costs_the_fewest_round_trips() {
    let env = TestEnv::get();
    let crd = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crds/dynamodb.services.k8s.aws_tables.yaml");
    env.install_crds(&[&crd]).await.unwrap();
    let client = env.client().await;
    let namespace = env.namespace("ddb-trips").await;
    let metrics = Metrics::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&env.aws().await)
        .interceptor(CallCounter {
            service: "dynamodb",
            metrics: metrics.clone(),
        })
        .build();
    let manager = TableManager::new(aws_sdk_dynamodb::Client::from_conf(config));
    let controller =
        testenv::spawn_controller(env, manager, client.clone(), &namespace, 1, metrics.clone());
    let name = format!("trips-{}", std::process::id());
    let table = Tracked {
        api: Api::namespaced_with(
            client,
            &namespace,
            &ApiResource::erase::<ack_dynamodb::Table>(&()),
        ),
        name: name.clone(),
        kind: "Table",
        service: "dynamodb",
        aws_name: name.clone(),
        metrics,
    };

    let spec = json!({
        "tableName": name,
        "billingMode": "PAY_PER_REQUEST",
        "attributeDefinitions": [{"attributeName": "id", "attributeType": "S"}],
        "keySchema": [{"attributeName": "id", "keyType": "HASH"}],
        "tags": [{"key": "team", "value": "a"}],
    });
    let cost = table
        .create(&object("dynamodb.services.k8s.aws/v1alpha1", "Table", &name, spec).unwrap())
        .await
        .unwrap();
    // One existence read and the create carrying every tag (defaults too); its answer is the
    // table, so nothing is read back.
    assert_eq!(cost.aws, ["DescribeTable", "CreateTable"], "create");
    assert_eq!(
        cost.writes,
        writes(&[("finalizer", 1), ("spec", 1), ("status", 1), ("event", 1)]),
        "create"
    );

    let cost = table.resync("1").await.unwrap();
    assert_eq!(cost.aws, ["DescribeTable", "ListTagsOfResource"], "resync");
    assert_eq!(cost.writes, writes(&[]), "resync");

    let cost = table.delete().await.unwrap();
    assert_eq!(
        cost.aws,
        ["DescribeTable", "ListTagsOfResource", "DeleteTable"],
        "delete: the tags say whose it is"
    );
    assert_eq!(
        cost.writes,
        writes(&[("finalizer", 1), ("event", 1)]),
        "delete"
    );
    controller.abort();
}
