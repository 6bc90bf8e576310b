//! Bad input, all of it, across the three kinds: each case gets a clear answer naming the field
//! (the API server's refusal, or an `ACK.Terminal` condition) and changes nothing in AWS — no
//! mutating call that AWS accepted names the resource (the emulator's request log).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chaos::{Case, Kind, SYNCED, TERMINAL, exclusive};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

/// Where the refusal comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
enum By {
    /// The API server refuses the object (CRD schema).
    ApiServer,
    /// The controller sets ACK.Terminal.
    Terminal,
}

struct Bad {
    label: &'static str,
    kind: Kind,
    /// Merged into the kind's minimal valid spec (a `null` removes a field).
    spec: Value,
    annotations: Vec<(&'static str, String)>,
    by: By,
    /// Must appear in the refusal or the condition message.
    names: &'static str,
}

fn bad(label: &'static str, kind: Kind, spec: Value, by: By, names: &'static str) -> Bad {
    Bad {
        label,
        kind,
        spec,
        annotations: Vec::new(),
        by,
        names,
    }
}

fn annotated(
    label: &'static str,
    kind: Kind,
    annotations: &[(&'static str, &str)],
    names: &'static str,
) -> Bad {
    Bad {
        label,
        kind,
        spec: json!({}),
        annotations: annotations
            .iter()
            .map(|(k, v)| (*k, v.to_string()))
            .collect(),
        by: By::Terminal,
        names,
    }
}

fn merge(base: &mut Value, patch: &Value) {
    if let (Some(base), Some(patch)) = (base.as_object_mut(), patch.as_object()) {
        for (k, v) in patch {
            if v.is_null() {
                base.remove(k);
            } else {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

fn many_tags(n: usize) -> Value {
    Value::Object((0..n).map(|i| (format!("k{i}"), json!("v"))).collect())
}

const ADOPT: &str = "services.k8s.aws/adoption-policy";
const FIELDS: &str = "services.k8s.aws/adoption-fields";

fn cases() -> Vec<Bad> {
    use By::*;
    use Kind::*;
    let long_key = "k".repeat(129);
    let long_value = "v".repeat(257);
    let long_key: &'static str = Box::leak(long_key.into_boxed_str());
    let long_value: &'static str = Box::leak(long_value.into_boxed_str());
    vec![
        // Bad field types and missing required fields: the CRD schema refuses them.
        bad(
            "bucket-bool-type",
            Bucket,
            json!({"objectLockEnabledForBucket": "yes"}),
            ApiServer,
            "spec.objectLockEnabledForBucket",
        ),
        bad(
            "bucket-policy-type",
            Bucket,
            json!({"policy": {"Version": "2012-10-17"}}),
            ApiServer,
            "spec.policy",
        ),
        bad(
            "bucket-tagging-type",
            Bucket,
            json!({"tagging": "team=a"}),
            ApiServer,
            "spec.tagging",
        ),
        bad(
            "bucket-name-missing",
            Bucket,
            json!({"name": null}),
            ApiServer,
            "spec.name",
        ),
        bad(
            "queue-number-for-string",
            Queue,
            json!({"delaySeconds": 5}),
            ApiServer,
            "spec.delaySeconds",
        ),
        bad(
            "queue-tags-type",
            Queue,
            json!({"tags": ["a"]}),
            ApiServer,
            "spec.tags",
        ),
        bad(
            "queue-name-missing",
            Queue,
            json!({"queueName": null}),
            ApiServer,
            "spec.queueName",
        ),
        bad(
            "table-bool-type",
            Table,
            json!({"deletionProtectionEnabled": "yes"}),
            ApiServer,
            "spec.deletionProtectionEnabled",
        ),
        bad(
            "table-int-type",
            Table,
            json!({"provisionedThroughput": {"readCapacityUnits": "ten"}}),
            ApiServer,
            "spec.provisionedThroughput.readCapacityUnits",
        ),
        bad(
            "table-key-missing",
            Table,
            json!({"keySchema": null}),
            ApiServer,
            "spec.keySchema",
        ),
        // aws: tags and tags AWS would refuse: Terminal before any AWS call.
        bad(
            "bucket-aws-tag",
            Bucket,
            json!({"tagging": {"tagSet": [{"key": "aws:team", "value": "x"}]}}),
            Terminal,
            "aws:team",
        ),
        bad(
            "queue-aws-tag",
            Queue,
            json!({"tags": {"AWS:Team": "x"}}),
            Terminal,
            "AWS:Team",
        ),
        bad(
            "table-aws-tag",
            Table,
            json!({"tags": [{"key": "aws:cost", "value": "x"}]}),
            Terminal,
            "aws:cost",
        ),
        bad(
            "queue-empty-tag-key",
            Queue,
            json!({"tags": {"": "x"}}),
            Terminal,
            "tag key \"\"",
        ),
        bad(
            "queue-long-tag-key",
            Queue,
            json!({"tags": {long_key: "x"}}),
            Terminal,
            long_key,
        ),
        bad(
            "bucket-long-tag-value",
            Bucket,
            json!({"tagging": {"tagSet": [{"key": "k", "value": long_value}]}}),
            Terminal,
            "\"k\"",
        ),
        bad(
            "queue-51-tags",
            Queue,
            json!({"tags": many_tags(51)}),
            Terminal,
            "51 tags",
        ),
        // Annotations the controller cannot follow.
        annotated(
            "bucket-unknown-adoption-policy",
            Bucket,
            &[(ADOPT, "adopt-please")],
            "adopt-please",
        ),
        annotated(
            "queue-unknown-deletion-policy",
            Queue,
            &[("services.k8s.aws/deletion-policy", "keep")],
            "\"keep\"",
        ),
        annotated(
            "table-unknown-deletion-policy",
            Table,
            &[("services.k8s.aws/deletion-policy", "Retain!")],
            "Retain!",
        ),
        annotated(
            "queue-bad-read-only",
            Queue,
            &[("services.k8s.aws/read-only", "maybe")],
            "maybe",
        ),
        annotated(
            "table-adoption-fields-not-json",
            Table,
            &[(ADOPT, "adopt"), (FIELDS, "{tableName: x")],
            "services.k8s.aws/adoption-fields",
        ),
        annotated(
            "bucket-adoption-fields-not-object",
            Bucket,
            &[(ADOPT, "adopt"), (FIELDS, "[\"b\"]")],
            "services.k8s.aws/adoption-fields",
        ),
        annotated(
            "queue-adoption-fields-not-string",
            Queue,
            &[(ADOPT, "adopt"), (FIELDS, "{\"queueURL\": 5}")],
            "queueURL",
        ),
        annotated(
            "bucket-adoption-fields-missing",
            Bucket,
            &[(ADOPT, "adopt")],
            "services.k8s.aws/adoption-fields",
        ),
        annotated(
            "bucket-region-not-a-region",
            Bucket,
            &[("services.k8s.aws/region", "EU West")],
            "services.k8s.aws/region",
        ),
        annotated(
            "table-region-not-a-region",
            Table,
            &[("services.k8s.aws/region", "ap-south-1/")],
            "ap-south-1/",
        ),
        // Values only AWS judges: refused there, so nothing is created.
        bad(
            "queue-delay-not-a-number",
            Queue,
            json!({"delaySeconds": "soon"}),
            Terminal,
            "DelaySeconds",
        ),
        bad(
            "queue-redrive-policy-not-json",
            Queue,
            json!({"redrivePolicy": "{deadLetterTargetArn:"}),
            Terminal,
            "RedrivePolicy",
        ),
        bad(
            "queue-policy-not-json",
            Queue,
            json!({"policy": "allow everyone"}),
            Terminal,
            "Policy",
        ),
        bad(
            "queue-retention-not-a-number",
            Queue,
            json!({"messageRetentionPeriod": "4 days"}),
            Terminal,
            "MessageRetentionPeriod",
        ),
    ]
}

fn object(
    kind: Kind,
    name: &str,
    spec: Value,
    annotations: &BTreeMap<String, String>,
) -> DynamicObject {
    let ar = kind.api_resource();
    serde_json::from_value(json!({
        "apiVersion": ar.api_version,
        "kind": ar.kind,
        "metadata": { "name": name, "annotations": annotations },
        "spec": spec,
    }))
    .unwrap()
}

/// The Terminal condition's message of `name`, once it has one.
async fn terminal_message(api: &Api<DynamicObject>, name: &str) -> Option<String> {
    let cr = api.get_opt(name).await.ok()??;
    let value = serde_json::to_value(&cr).ok()?;
    value["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == TERMINAL && c["status"] == "True")
        .map(|c| {
            format!(
                "{}: {}",
                c["reason"].as_str().unwrap_or(""),
                c["message"].as_str().unwrap_or("")
            )
        })
}

fn is_mutation(operation: &str) -> bool {
    !["Get", "List", "Head", "Describe"]
        .iter()
        .any(|p| operation.starts_with(p))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_bad_input_is_named_and_changes_nothing_in_aws() -> anyhow::Result<()> {
    let _one = exclusive().await;
    let mut case = Case::new("bad", 0, 0).await?;
    case.start().await?;
    let cases = cases();
    let mut problems = Vec::new();
    let mut names = BTreeMap::new();
    for (i, bad) in cases.iter().enumerate() {
        let name = format!("{}{i:02}-{}", case.prefix, bad.label);
        let name: String = name
            .chars()
            .take(63)
            .collect::<String>()
            .trim_end_matches('-')
            .to_string();
        let mut spec = bad.kind.spec(&name);
        merge(&mut spec, &bad.spec);
        let annotations = bad
            .annotations
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let api = case.api(bad.kind);
        match (
            api.create(
                &PostParams::default(),
                &object(bad.kind, &name, spec, &annotations),
            )
            .await,
            bad.by,
        ) {
            (Err(refused), By::ApiServer) => {
                if !refused.to_string().contains(bad.names) {
                    problems.push(format!(
                        "{}: the refusal does not name {:?}: {refused}",
                        bad.label, bad.names
                    ));
                }
            }
            (Ok(_), By::ApiServer) => {
                problems.push(format!("{}: the API server accepted it", bad.label))
            }
            (Err(e), By::Terminal) => {
                problems.push(format!("{}: could not create the CR: {e}", bad.label))
            }
            (Ok(_), By::Terminal) => {
                names.insert(name, bad);
            }
        }
    }
    // Every CR the API server took must turn Terminal, naming the field.
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut pending = names.clone();
    while !pending.is_empty() && Instant::now() < deadline {
        let mut done = Vec::new();
        for (name, bad) in &pending {
            if let Some(message) = terminal_message(&case.api(bad.kind), name).await {
                if !message.contains(bad.names) {
                    problems.push(format!(
                        "{}: the condition does not name {:?}: {message}",
                        bad.label, bad.names
                    ));
                }
                done.push(name.clone());
            }
        }
        for name in done {
            pending.remove(&name);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for (name, bad) in &pending {
        let synced = case.with_condition(SYNCED).await?.contains(name);
        problems.push(format!(
            "{}: no Terminal condition after 90 s (Synced: {synced})",
            bad.label
        ));
    }
    // Nothing changed in AWS: no mutating call naming any of them was accepted, none exists.
    let accepted: Vec<_> = case
        .calls()
        .await?
        .into_iter()
        .filter(|c| is_mutation(&c.operation) && c.status < 300)
        .collect();
    for call in &accepted {
        problems.push(format!(
            "accepted AWS mutation: {} {:?}",
            call.operation, call.resource
        ));
    }
    let in_aws = case.in_aws().await?;
    if !in_aws.is_empty() {
        problems.push(format!("exist in AWS: {in_aws:?}"));
    }
    let refused_by_apiserver = cases.iter().filter(|b| b.by == By::ApiServer).count();
    case.report(json!({
        "bad_input_cases": cases.len(), "refused_by_apiserver": refused_by_apiserver,
        "terminal": names.len(), "aws_mutations": accepted.len(), "problems": problems.len(),
    }));
    assert!(
        problems.is_empty(),
        "{} of {} cases wrong:\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
    Ok(())
}

/// Changes to fields AWS cannot change after creation: refused (API server or Terminal), and the
/// resource in AWS is left as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immutable_field_changes_are_refused_and_change_nothing() -> anyhow::Result<()> {
    let _one = exclusive().await;
    let mut case = Case::new("immutable", 3, 0).await?;
    case.start().await?;
    case.create_all().await?;
    case.converge(chaos::Idle).await?;
    let before = case.calls().await?.len();
    let patch = |kind: Kind, name: &str, spec: Value| {
        let api = case.api(kind);
        let name = name.to_string();
        async move {
            api.patch(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": spec })),
            )
            .await
        }
    };
    let [bucket, queue, table] = [0, 1, 2].map(|i| case.resources[i].name.clone());
    let mut problems = Vec::new();
    for (kind, name, spec, field) in [
        (
            Kind::Bucket,
            &bucket,
            json!({"name": "renamed-bucket"}),
            "spec.name",
        ),
        (
            Kind::Table,
            &table,
            json!({"tableName": "renamed"}),
            "spec.tableName",
        ),
        (
            Kind::Table,
            &table,
            json!({"keySchema": [{"attributeName": "other", "keyType": "HASH"}]}),
            "spec.keySchema",
        ),
        (
            Kind::Queue,
            &queue,
            json!({"queueName": "renamed"}),
            "spec.queueName",
        ),
    ] {
        match patch(kind, name, spec).await {
            Ok(_) => problems.push(format!("{field}: the API server accepted the change")),
            Err(e) if !(e.to_string().contains(field) && e.to_string().contains("immutable")) => {
                problems.push(format!("{field}: refusal does not say so: {e}"))
            }
            Err(_) => {}
        }
    }
    // fifoQueue is create-only in SQS with no CRD rule (as in ACK): the controller refuses it.
    patch(Kind::Queue, &queue, json!({"fifoQueue": "true"})).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let message = loop {
        if let Some(m) = terminal_message(&case.api(Kind::Queue), &queue).await {
            break m;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "no Terminal after the fifoQueue change"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    if !message.contains("spec.fifoQueue") {
        problems.push(format!("fifoQueue: {message}"));
    }
    let since: Vec<_> = case
        .calls()
        .await?
        .into_iter()
        .skip(before)
        .filter(|c| is_mutation(&c.operation))
        .collect();
    if !since.is_empty() {
        problems.push(format!("AWS mutations after the changes: {since:?}"));
    }
    case.report(
        json!({ "immutable_cases": 5, "aws_mutations": since.len(), "problems": problems.len() }),
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    case.delete_all().await?;
    case.drain(chaos::Idle).await?;
    Ok(())
}
