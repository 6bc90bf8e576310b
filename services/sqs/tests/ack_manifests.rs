//! ACK's own end-to-end manifests for SQS (`/work/shared/ack-compat/manifests/sqs`), applied
//! unchanged but for their `$PLACEHOLDERS`: every Queue manifest must reach `ACK.ResourceSynced=True`
//! with our controller (in process, watching a fresh namespace) and go away again when deleted.
//!
//! A manifest may only be left out from [`SKIPPED`], with its reason; one that is neither synced
//! nor listed fails the test, so a new manifest cannot be silently ignored.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ack_runtime::aws::CallCounter;
use ack_runtime::metrics::Metrics;
use ack_sqs::{Queue, QueueManager};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams};
use serde_json::Value;
use testenv::TestEnv;
use testenv::controllers::ACCOUNT;

const KIND: &str = "Queue";
const TIMEOUT: Duration = Duration::from_secs(60);
const SYNCED: &str = "ACK.ResourceSynced";

/// Manifests not applied, each with the reason (printed when skipped).
const SKIPPED: &[(&str, &str)] = &[];

/// A queue (and CR) name no other test or run uses.
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
fn values(file: &str, namespace: &str) -> BTreeMap<&'static str, String> {
    let region = TestEnv::get().endpoints.region.clone();
    let stem = file.trim_end_matches(".yaml").replace('_', "-");
    let mut name = unique(&format!("ackm-{stem}"));
    if file == "queue_fifo.yaml" {
        // FIFO queue names must end in `.fifo` (a valid Kubernetes object name too).
        name.push_str(".fifo");
    }
    BTreeMap::from([
        (
            "QUEUE_ARN",
            format!("arn:aws:sqs:{region}:{ACCOUNT}:{name}"),
        ),
        // Only named in the policy's condition: no topic has to exist.
        (
            "TOPIC_ARN",
            format!("arn:aws:sns:{region}:{ACCOUNT}:{name}-topic"),
        ),
        ("NAMESPACE", namespace.to_string()),
        ("QUEUE_NAME", name),
    ])
}

struct Ctx {
    api: Api<DynamicObject>,
    sqs: aws_sdk_sqs::Client,
    namespace: String,
}

/// Applies one manifest, waits for Synced, deletes it; `Err` says what went wrong.
async fn run_manifest(ctx: &Ctx, file: &str, text: &str) -> Result<(), String> {
    let filled = fill(text, &values(file, &ctx.namespace))?;
    let mut obj: Value = serde_yaml::from_str(&filled).map_err(|e| format!("parsing: {e}"))?;
    if obj["kind"] != KIND {
        return Err(format!("kind {} is not {KIND}", obj["kind"]));
    }
    obj["metadata"]["namespace"] = Value::String(ctx.namespace.clone());
    let name = obj["metadata"]["name"]
        .as_str()
        .ok_or("no metadata.name")?
        .to_string();
    let queue_name = obj["spec"]["queueName"]
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
    let synced = testenv::wait_for_condition(&ctx.api, &name, SYNCED, "True", TIMEOUT)
        .await
        .map_err(|e| format!("{e:#}"))?;
    let url = synced.data["status"]["queueURL"]
        .as_str()
        .ok_or("synced without status.queueURL")?
        .to_string();
    let in_aws = aws_url(&ctx.sqs, &queue_name).await;
    if in_aws.as_deref() != Some(url.as_str()) {
        return Err(format!("status.queueURL {url} but AWS has {in_aws:?}"));
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
    if let Some(left) = aws_url(&ctx.sqs, &queue_name).await {
        return Err(format!("the queue {left} is still in AWS after deletion"));
    }
    Ok(())
}

async fn aws_url(sqs: &aws_sdk_sqs::Client, name: &str) -> Option<String> {
    match sqs.get_queue_url().queue_name(name).send().await {
        Ok(output) => output.queue_url,
        Err(e) => {
            let code = aws_sdk_sqs::error::ProvideErrorMetadata::code(&e);
            assert!(
                code.is_some_and(|c| c.contains("NonExistentQueue") || c == "QueueDoesNotExist"),
                "GetQueueUrl {name}: {e:?}"
            );
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_example_manifests_sync_and_delete() {
    let env = TestEnv::get();
    let crd =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crds/sqs.services.k8s.aws_queues.yaml");
    env.install_crds(&[&crd])
        .await
        .expect("installing the Queue CRD");
    let client = env.client().await;
    let namespace = env.namespace("sqs-ack-manifests").await;
    let sdk = env.aws().await;
    let metrics = Metrics::default();
    let config = aws_sdk_sqs::config::Builder::from(&sdk)
        .interceptor(CallCounter {
            service: "sqs",
            metrics: metrics.clone(),
        })
        .build();
    let controller = testenv::spawn_controller(
        env,
        QueueManager::new(aws_sdk_sqs::Client::from_conf(config)),
        client.clone(),
        &namespace,
        4,
        metrics,
    );
    let ctx = std::sync::Arc::new(Ctx {
        api: Api::namespaced_with(client, &namespace, &ApiResource::erase::<Queue>(&())),
        sqs: aws_sdk_sqs::Client::new(&sdk),
        namespace,
    });

    testenv::manifests::sync_every_manifest("sqs", SKIPPED, |file, text| {
        let ctx = ctx.clone();
        async move { run_manifest(&ctx, &file, &text).await }
    })
    .await;
    controller.abort();
}
