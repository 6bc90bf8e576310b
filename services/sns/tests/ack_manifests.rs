//! ACK's own end-to-end manifests for SNS (`shared/ack-compat/manifests/sns`), applied unchanged
//! but for their `$PLACEHOLDERS`: every Topic and Subscription manifest must reach
//! `ACK.ResourceSynced=True` with our controllers (in process, watching a fresh namespace), be
//! in AWS, and go away again when deleted.
//!
//! A manifest may only be left out from [`SKIPPED`], with its reason; one that is neither synced
//! nor listed fails the test, so a new manifest cannot be silently ignored.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ack_runtime::metrics::Metrics;
use ack_sns::{Subscription, SubscriptionManager, Topic, TopicManager};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams};
use serde_json::Value;
use testenv::TestEnv;

const TIMEOUT: Duration = Duration::from_secs(60);
const SYNCED: &str = "ACK.ResourceSynced";

/// Manifests not applied, each with the reason (printed when skipped).
const SKIPPED: &[(&str, &str)] = &[];

/// A name no other test or run uses.
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

struct Ctx {
    client: kube::Client,
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    namespace: String,
}

/// The placeholder values for one manifest, as ACK's own tests fill them: a subscription's
/// topic and queue endpoint are made in AWS first (and returned for clean-up).
async fn values(
    ctx: &Ctx,
    file: &str,
) -> Result<(BTreeMap<&'static str, String>, Option<(String, String)>), String> {
    let stem = file.trim_end_matches(".yaml").replace('_', "-");
    // FIFO topics' names end in `.fifo`.
    let mut name = unique(&format!("ackm-{stem}"));
    if stem.contains("fifo") {
        name.push_str(".fifo");
    }
    let mut values = BTreeMap::from([
        ("TOPIC_NAME", name.clone()),
        ("DISPLAY_NAME", format!("ACK {stem}")),
        ("SUBSCRIPTION_NAME", unique(&format!("ackm-{stem}"))),
    ]);
    let mut made = None;
    if stem.starts_with("subscription") {
        let topic_arn = ctx
            .sns
            .create_topic()
            .name(&name)
            .send()
            .await
            .map_err(|e| format!("CreateTopic: {e:?}"))?
            .topic_arn
            .unwrap_or_default();
        let queue_url = ctx
            .sqs
            .create_queue()
            .queue_name(&name)
            .send()
            .await
            .map_err(|e| format!("CreateQueue: {e:?}"))?
            .queue_url
            .unwrap_or_default();
        let queue_arn = ctx
            .sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| format!("GetQueueAttributes: {e:?}"))?
            .attributes
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .cloned()
            })
            .unwrap_or_default();
        values.insert("TOPIC_ARN", topic_arn.clone());
        values.insert("ENDPOINT", queue_arn);
        made = Some((topic_arn, queue_url));
    }
    Ok((values, made))
}

/// Applies one manifest, waits for Synced, checks AWS, deletes it; `Err` says what went wrong.
async fn run_manifest(ctx: &Ctx, file: &str, text: &str) -> Result<(), String> {
    let (values, made) = values(ctx, file).await?;
    let filled = fill(text, &values)?;
    let mut obj: Value = serde_yaml::from_str(&filled).map_err(|e| format!("parsing: {e}"))?;
    let resource = match obj["kind"].as_str() {
        Some("Topic") => ApiResource::erase::<Topic>(&()),
        Some("Subscription") => ApiResource::erase::<Subscription>(&()),
        other => return Err(format!("kind {other:?} is not served")),
    };
    obj["metadata"]["namespace"] = Value::String(ctx.namespace.clone());
    let name = obj["metadata"]["name"]
        .as_str()
        .ok_or("no metadata.name")?
        .to_string();
    let api: Api<DynamicObject> =
        Api::namespaced_with(ctx.client.clone(), &ctx.namespace, &resource);
    // Strict field validation: a field our CRD lacks is refused, not silently pruned.
    api.patch(
        &name,
        &PatchParams::apply("ack-manifests").validation_strict(),
        &Patch::Apply(&obj),
    )
    .await
    .map_err(|e| format!("applying: {e}"))?;
    let synced = testenv::wait_for_condition(&api, &name, SYNCED, "True", TIMEOUT)
        .await
        .map_err(|e| format!("{e:#}"))?;
    let arn = synced.data["status"]["ackResourceMetadata"]["arn"]
        .as_str()
        .ok_or("Synced without status.ackResourceMetadata.arn")?
        .to_string();
    if !exists(ctx, &resource.kind, &arn).await? {
        return Err(format!("Synced, but {arn} is not in AWS"));
    }
    api.delete(&name, &DeleteParams::default())
        .await
        .map_err(|e| format!("deleting: {e}"))?;
    let deadline = Instant::now() + TIMEOUT;
    while let Some(left) = api.get_opt(&name).await.map_err(|e| e.to_string())? {
        if Instant::now() > deadline {
            return Err(format!(
                "the CR was not gone {TIMEOUT:?} after deletion; conditions: {}",
                left.data["status"]["conditions"]
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if exists(ctx, &resource.kind, &arn).await? {
        return Err(format!("{arn} is still in AWS after deletion"));
    }
    if let Some((topic_arn, queue_url)) = made {
        let _ = ctx.sns.delete_topic().topic_arn(topic_arn).send().await;
        let _ = ctx.sqs.delete_queue().queue_url(queue_url).send().await;
    }
    Ok(())
}

/// Whether the topic or subscription `arn` exists in AWS.
async fn exists(ctx: &Ctx, kind: &str, arn: &str) -> Result<bool, String> {
    use aws_sdk_sns::error::ProvideErrorMetadata;
    let result = if kind == "Topic" {
        ctx.sns
            .get_topic_attributes()
            .topic_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| (e.code().map(str::to_string), format!("{e:?}")))
    } else {
        ctx.sns
            .get_subscription_attributes()
            .subscription_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| (e.code().map(str::to_string), format!("{e:?}")))
    };
    match result {
        Ok(()) => Ok(true),
        Err((Some(code), _)) if code == "NotFound" => Ok(false),
        Err((_, e)) => Err(e),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_example_manifests_sync_and_delete() {
    let env = TestEnv::get();
    let crds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crds");
    env.install_crds(&[
        &crds.join("sns.services.k8s.aws_topics.yaml"),
        &crds.join("sns.services.k8s.aws_subscriptions.yaml"),
    ])
    .await
    .expect("installing the SNS CRDs");
    let client = env.client().await;
    let namespace = env.namespace("sns-ack-manifests").await;
    let sdk = env.aws().await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let controllers = [
        testenv::spawn_controller(
            env,
            TopicManager::new(sns.clone()),
            client.clone(),
            &namespace,
            4,
            Metrics::default(),
        ),
        testenv::spawn_controller(
            env,
            SubscriptionManager::new(sns.clone()),
            client.clone(),
            &namespace,
            4,
            Metrics::default(),
        ),
    ];
    let ctx = std::sync::Arc::new(Ctx {
        client,
        sns,
        sqs: aws_sdk_sqs::Client::new(&sdk),
        namespace,
    });

    testenv::manifests::sync_every_manifest("sns", SKIPPED, |file, text| {
        let ctx = ctx.clone();
        async move { run_manifest(&ctx, &file, &text).await }
    })
    .await;
    controllers.iter().for_each(|c| c.abort());
}
