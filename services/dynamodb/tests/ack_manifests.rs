//! ACK's own end-to-end manifests for DynamoDB (`/work/shared/ack-compat/manifests/dynamodb`),
//! applied unchanged but for their `$PLACEHOLDERS`: every Table manifest must reach `ACK.ResourceSynced=True`
//! with our controller (in process, watching a fresh namespace) and go away again when deleted.
//!
//! A manifest may only be left out from [`SKIPPED`], with its reason; one that is neither synced
//! nor listed fails the test, so a new manifest cannot be silently ignored.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ack_dynamodb::{Table, TableManager};
use ack_runtime::aws::CallCounter;
use ack_runtime::metrics::Metrics;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams};
use serde_json::Value;
use testenv::TestEnv;
use testenv::controllers::ACCOUNT;

const KIND: &str = "Table";
const TIMEOUT: Duration = Duration::from_secs(60);
const SYNCED: &str = "ACK.ResourceSynced";

/// Manifests not applied, each with the reason (printed when skipped).
const SKIPPED: &[(&str, &str)] = &[
    (
        "backup.yaml",
        "kind Backup: ack-rs has no Backup controller (only Table)",
    ),
    (
        "global_table.yaml",
        "kind GlobalTable: ack-rs has no GlobalTable controller (only Table)",
    ),
];

/// Where ACK's replica manifests put their replicas (the test world's region is another).
const REPLICA_REGIONS: [&str; 2] = ["eu-west-1", "us-east-2"];

/// A table (and CR) name no other test or run uses.
fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}-{nanos}", std::process::id())
}

/// Replaces every `$NAME` in `text` with its value; an unknown placeholder is an error.
fn fill(text: &str, values: &BTreeMap<&str, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let len = after
            .bytes()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
            .count();
        if len == 0 {
            out.push('$');
        } else {
            let key = &after[..len];
            let value = values
                .get(key)
                .ok_or_else(|| format!("no test value for placeholder ${key}"))?;
            out.push_str(value);
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The placeholder values for one manifest, as ACK's own tests fill them.
fn values(file: &str) -> BTreeMap<&'static str, String> {
    let region = TestEnv::get().endpoints.region.clone();
    let stem = file.trim_end_matches(".yaml").replace('_', "-");
    let name = unique(&format!("ackm-{stem}"));
    let arn = format!("arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}");
    // A resource policy letting the account read the table (inside single quotes in the YAML).
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowAccountRead",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
            "Action": ["dynamodb:GetItem", "dynamodb:Query"],
            "Resource": arn,
        }],
    });
    BTreeMap::from([
        ("TABLE_NAME", name),
        ("RESOURCE_POLICY", policy.to_string()),
        ("REPLICA_REGION_1", REPLICA_REGIONS[0].to_string()),
        ("REPLICA_REGION_2", REPLICA_REGIONS[1].to_string()),
    ])
}

struct Ctx {
    api: Api<DynamicObject>,
    ddb: aws_sdk_dynamodb::Client,
    namespace: String,
}

/// Applies one manifest, waits for Synced, deletes it; `Err` says what went wrong.
async fn run_manifest(ctx: &Ctx, file: &str, text: &str) -> Result<(), String> {
    let filled = fill(text, &values(file))?;
    let mut obj: Value = serde_yaml::from_str(&filled).map_err(|e| format!("parsing: {e}"))?;
    if obj["kind"] != KIND {
        return Err(format!("kind {} is not {KIND}", obj["kind"]));
    }
    obj["metadata"]["namespace"] = Value::String(ctx.namespace.clone());
    let name = obj["metadata"]["name"]
        .as_str()
        .ok_or("no metadata.name")?
        .to_string();
    let table_name = obj["spec"]["tableName"]
        .as_str()
        .unwrap_or(&name)
        .to_string();
    // Strict field validation: a field our CRD lacks is refused, not silently pruned.
    ctx.api
        .patch(
            &name,
            &PatchParams::apply("ack-manifests").validation_strict(),
            &Patch::Apply(&obj),
        )
        .await
        .map_err(|e| format!("applying: {e}"))?;
    let replicas: Vec<String> = obj["spec"]["tableReplicas"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["regionName"].as_str().map(str::to_string))
        .collect();
    if file.contains("invalid") {
        // ACK's own test made it invalid on purpose: replicas without the stream they need.
        let cr = testenv::wait_for_condition(&ctx.api, &name, "ACK.Terminal", "True", TIMEOUT)
            .await
            .map_err(|e| format!("{e:#}"))?;
        let message = cr.data["status"]["conditions"].to_string();
        if !message.contains("NEW_AND_OLD_IMAGES") {
            return Err(format!(
                "Terminal without naming the stream it needs: {message}"
            ));
        }
        if table_exists(&ctx.ddb, &table_name).await? {
            return Err(format!(
                "{table_name} was created although the spec is refused"
            ));
        }
    } else {
        testenv::wait_for_condition(&ctx.api, &name, SYNCED, "True", TIMEOUT)
            .await
            .map_err(|e| format!("{e:#}"))?;
        if !table_exists(&ctx.ddb, &table_name).await? {
            return Err(format!("Synced, but table {table_name} is not in AWS"));
        }
        for region in &replicas {
            if !table_exists(&replica_client(&ctx.ddb, region), &table_name).await? {
                return Err(format!(
                    "Synced, but no replica of {table_name} in {region}"
                ));
            }
        }
    }
    ctx.api
        .delete(&name, &DeleteParams::default())
        .await
        .map_err(|e| format!("deleting: {e}"))?;
    let deadline = Instant::now() + TIMEOUT;
    while let Some(left) = ctx.api.get_opt(&name).await.map_err(|e| e.to_string())? {
        if Instant::now() > deadline {
            return Err(format!(
                "the CR was not gone {TIMEOUT:?} after deletion; conditions: {}",
                left.data["status"]["conditions"]
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if table_exists(&ctx.ddb, &table_name).await? {
        return Err(format!("table {table_name} is still in AWS after deletion"));
    }
    for region in &replicas {
        if table_exists(&replica_client(&ctx.ddb, region), &table_name).await? {
            return Err(format!(
                "the replica of {table_name} in {region} outlived it"
            ));
        }
    }
    Ok(())
}

/// The client of `ddb` for another region.
fn replica_client(ddb: &aws_sdk_dynamodb::Client, region: &str) -> aws_sdk_dynamodb::Client {
    let config = ddb
        .config()
        .to_builder()
        .region(aws_sdk_dynamodb::config::Region::new(region.to_string()))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// Whether the table exists (and is not on its way out).
async fn table_exists(ddb: &aws_sdk_dynamodb::Client, name: &str) -> Result<bool, String> {
    match ddb.describe_table().table_name(name).send().await {
        Ok(out) => Ok(out
            .table
            .and_then(|t| t.table_status)
            .is_some_and(|s| s != aws_sdk_dynamodb::types::TableStatus::Deleting)),
        Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(false),
        Err(e) => Err(format!("DescribeTable {name}: {e:?}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_example_manifests_sync_and_delete() {
    let env = TestEnv::get();
    let crd = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crds/dynamodb.services.k8s.aws_tables.yaml");
    env.install_crds(&[&crd])
        .await
        .expect("installing the Table CRD");
    let client = env.client().await;
    let namespace = env.namespace("ddb-ack-manifests").await;
    let sdk = env.aws().await;
    let metrics = Metrics::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .interceptor(CallCounter {
            service: "dynamodb",
            metrics: metrics.clone(),
        })
        .build();
    let controller = testenv::spawn_controller(
        env,
        TableManager::new(aws_sdk_dynamodb::Client::from_conf(config)),
        client.clone(),
        &namespace,
        4,
        metrics,
    );
    let ctx = std::sync::Arc::new(Ctx {
        api: Api::namespaced_with(client, &namespace, &ApiResource::erase::<Table>(&())),
        ddb: aws_sdk_dynamodb::Client::new(&sdk),
        namespace,
    });

    testenv::manifests::sync_every_manifest("dynamodb", SKIPPED, |file, text| {
        let ctx = ctx.clone();
        async move { run_manifest(&ctx, &file, &text).await }
    })
    .await;
    controller.abort();
}
