//! End to end: the generated Queue manager in the runtime's controller, against a real
//! kube-apiserver and the AWS emulator over HTTP with the real SDK. Each test runs its own
//! controller watching its own namespace; the emulator is shared, so queue names are unique.
//! AWS state is always checked by reading AWS.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ack_runtime::aws::CallCounter;
use ack_runtime::carm::IAMRoleSelector;
use ack_runtime::clients::{ManagerContext, Managers};
use ack_runtime::field_export::{self, FieldExport};
use ack_runtime::metrics::Metrics;
use ack_sqs::{Queue, QueueManager};
use aws_sdk_sqs::types::QueueAttributeName;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use testenv::controllers::ACCOUNT;
use testenv::{RecordedRequest, TestEnv};

const TIMEOUT: Duration = Duration::from_secs(30);
const SYNCED: &str = "ACK.ResourceSynced";
const TERMINAL: &str = "ACK.Terminal";
/// The keys of ACK's default `--resource-tags`.
const DEFAULT_TAG_KEYS: [&str; 3] = [
    "services.k8s.aws/controller-version",
    "services.k8s.aws/namespace",
    // Not a default tag but the controller's too: the ownership stamp.
    "ack-rs.dev/owner",
];

/// One test's namespace, its controller and an SDK client for checking AWS.
struct World {
    api: Api<Queue>,
    sqs: aws_sdk_sqs::Client,
    namespace: String,
    controller: tokio::task::JoinHandle<()>,
}

impl Drop for World {
    fn drop(&mut self) {
        self.controller.abort();
    }
}

async fn world(prefix: &str) -> World {
    let env = TestEnv::get();
    let crd =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crds/sqs.services.k8s.aws_queues.yaml");
    env.install_crds(&[&crd])
        .await
        .expect("installing the Queue CRD");
    let client = env.client().await;
    let namespace = env.namespace(prefix).await;
    let sdk = env.aws().await;
    let metrics = Metrics::default();
    let controller = testenv::spawn_controller(
        env,
        managers(&sdk, &metrics),
        client.clone(),
        &namespace,
        2,
        metrics,
    );
    World {
        api: Api::namespaced(client, &namespace),
        sqs: aws_sdk_sqs::Client::new(&sdk),
        namespace,
        controller,
    }
}

/// Built as the controller process builds them: one manager per region (and role), on first use.
fn managers(sdk: &aws_config::SdkConfig, metrics: &Metrics) -> Managers<QueueManager> {
    Managers::new(
        |ctx: ManagerContext| async move {
            let config = aws_sdk_sqs::config::Builder::from(&ctx.sdk)
                .interceptor(CallCounter {
                    service: "sqs",
                    metrics: ctx.metrics,
                })
                .build();
            Ok(QueueManager::new(aws_sdk_sqs::Client::from_conf(config)))
        },
        sdk.clone(),
        metrics.clone(),
        false,
    )
}

/// A queue (and CR) name no other test or run uses: lower case, as both Kubernetes and SQS accept.
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

fn queue(name: &str, spec: Value, annotations: &[(&str, &str)]) -> Queue {
    let annotations: BTreeMap<&str, &str> = annotations.iter().copied().collect();
    serde_json::from_value(json!({
        "apiVersion": "sqs.services.k8s.aws/v1alpha1",
        "kind": "Queue",
        "metadata": { "name": name, "annotations": annotations },
        "spec": spec,
    }))
    .expect("a valid Queue")
}

/// Polls `check` until it returns `Some`, failing with `what` after [`TIMEOUT`].
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `(status, reason, message)` of a condition.
fn condition(queue: &Queue, type_: &str) -> Option<(String, String, String)> {
    let conditions = queue.status.as_ref()?.conditions.as_ref()?;
    conditions.iter().find(|c| c.type_ == type_).map(|c| {
        (
            c.status.clone(),
            c.reason.clone().unwrap_or_default(),
            c.message.clone().unwrap_or_default(),
        )
    })
}

fn queue_url_of(queue: &Queue) -> String {
    queue
        .status
        .as_ref()
        .and_then(|s| s.queue_url.clone())
        .expect("status.queueURL")
}

impl World {
    async fn create(&self, queue: &Queue) {
        self.api
            .create(&PostParams::default(), queue)
            .await
            .expect("creating the Queue");
    }

    async fn wait_for(&self, name: &str, type_: &str, status: &str) -> Queue {
        testenv::wait_for_condition(&self.api, name, type_, status, TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    async fn synced(&self, name: &str) -> Queue {
        self.wait_for(name, SYNCED, "True").await
    }

    async fn patch(&self, name: &str, patch: Value) {
        self.api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("patching the Queue");
    }

    async fn delete(&self, name: &str) {
        self.api
            .delete(name, &DeleteParams::default())
            .await
            .expect("deleting the Queue");
        let api = self.api.clone();
        eventually(&format!("{name} to be gone"), || {
            let api = api.clone();
            async move { api.get_opt(name).await.unwrap().is_none().then_some(()) }
        })
        .await;
    }

    async fn aws_url(&self, name: &str) -> Option<String> {
        match self.sqs.get_queue_url().queue_name(name).send().await {
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

    async fn aws_attributes(&self, url: &str) -> HashMap<String, String> {
        let output = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .expect("GetQueueAttributes");
        output
            .attributes
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.as_str().to_string(), v))
            .collect()
    }

    async fn aws_tags(&self, url: &str) -> BTreeMap<String, String> {
        let output = self
            .sqs
            .list_queue_tags()
            .queue_url(url)
            .send()
            .await
            .expect("ListQueueTags");
        output.tags.unwrap_or_default().into_iter().collect()
    }

    /// Waits until AWS has `value` for attribute `key`.
    async fn aws_attribute_becomes(&self, url: &str, key: &str, value: &str) {
        eventually(&format!("{key}={value} in AWS"), || async {
            (self.aws_attributes(url).await.get(key).map(String::as_str) == Some(value))
                .then_some(())
        })
        .await;
    }

    /// Waits until AWS's tags, less the default tags, are `user` (system tags included).
    async fn aws_tags_become(
        &self,
        url: &str,
        user: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        eventually(&format!("tags {user:?} in AWS"), || async {
            let tags = self.aws_tags(url).await;
            let mut without_defaults = tags.clone();
            without_defaults.retain(|k, _| !DEFAULT_TAG_KEYS.contains(&k.as_str()));
            (without_defaults == *user).then_some(tags)
        })
        .await
    }

    /// The tags the controller adds itself to what the CR `name` holds: the default tags and
    /// the ownership stamp.
    async fn controller_tags(&self, name: &str) -> BTreeMap<String, String> {
        let mut all = tags(&[
            (
                DEFAULT_TAG_KEYS[0],
                &format!("sqs-{}", env!("CARGO_PKG_VERSION")),
            ),
            (DEFAULT_TAG_KEYS[1], &self.namespace),
        ]);
        let env = TestEnv::get();
        all.extend([env.owner_tag(&self.namespace, "Queue", name).await]);
        all
    }
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The emulator's log of calls about one queue (named by URL or by name).
async fn requests_for(url: &str, name: &str) -> Vec<RecordedRequest> {
    let (url, name) = (url.to_string(), name.to_string());
    tokio::task::spawn_blocking(move || {
        TestEnv::get()
            .emulator()
            .requests()
            .expect("reading the emulator's request log")
            .into_iter()
            .filter(|r| r.service == "sqs")
            .filter(|r| matches!(r.resource.as_deref(), Some(res) if res == url || res == name))
            .collect()
    })
    .await
    .unwrap()
}

/// Waits until no call about the queue has been made for a second; returns how many were made.
async fn quiet(url: &str, name: &str) -> usize {
    let mut seen = requests_for(url, name).await.len();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = requests_for(url, name).await.len();
        if now == seen {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "calls about {name} never stopped"
        );
        seen = now;
    }
}

fn operations(requests: &[RecordedRequest]) -> Vec<&str> {
    requests.iter().map(|r| r.operation.as_str()).collect()
}

/// Every object key in a JSON document, at any depth.
fn all_keys(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                all_keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| all_keys(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_resync_and_delete() {
    let w = world("sqs-crud").await;
    let name = unique("crud");
    w.create(&queue(
        &name,
        json!({"queueName": name, "delaySeconds": "0"}),
        &[],
    ))
    .await;
    let synced = w.synced(&name).await;

    let url = queue_url_of(&synced);
    let status = synced.status.as_ref().unwrap();
    let arn = format!(
        "arn:aws:sqs:{}:{ACCOUNT}:{name}",
        TestEnv::get().endpoints.region
    );
    assert_eq!(status.queue_arn.as_deref(), Some(arn.as_str()));
    let metadata = status.ack_resource_metadata.as_ref().unwrap();
    assert_eq!(metadata.arn.as_deref(), Some(arn.as_str()));
    assert_eq!(metadata.owner_account_id, ACCOUNT);
    assert_eq!(metadata.region, TestEnv::get().endpoints.region);
    assert_eq!(w.aws_url(&name).await.as_deref(), Some(url.as_str()));
    let attributes = w.aws_attributes(&url).await;
    assert_eq!(attributes["DelaySeconds"], "0");
    assert_eq!(w.aws_tags(&url).await, w.controller_tags(&name).await);

    w.patch(
        &name,
        json!({"spec": {"delaySeconds": "5", "visibilityTimeout": "45"}}),
    )
    .await;
    w.aws_attribute_becomes(&url, "DelaySeconds", "5").await;
    w.aws_attribute_becomes(&url, "VisibilityTimeout", "45")
        .await;
    // The attributes the spec left unset were filled from AWS (late initialisation).
    let initialised = eventually("late initialisation", || async {
        let q = w.api.get(&name).await.unwrap();
        q.spec.message_retention_period.is_some().then_some(q)
    })
    .await;
    assert_eq!(
        initialised.spec.message_retention_period.as_deref(),
        Some("345600")
    );
    assert_eq!(initialised.spec.delay_seconds.as_deref(), Some("5"));
    w.synced(&name).await;

    // A steady-state resync (here asked for with an annotation) only reads.
    let before = quiet(&url, &name).await;
    w.patch(
        &name,
        json!({"metadata": {"annotations": {"services.k8s.aws/refresh-requested-at": "1"}}}),
    )
    .await;
    let resync = eventually("a resync's calls", || async {
        let calls = requests_for(&url, &name).await;
        calls[before..]
            .iter()
            .any(|r| r.operation == "ListQueueTags")
            .then(|| calls[before..].to_vec())
    })
    .await;
    let after = quiet(&url, &name).await;
    assert_eq!(operations(&resync), ["GetQueueAttributes", "ListQueueTags"]);
    assert_eq!(
        after - before,
        resync.len(),
        "nothing else followed the resync"
    );

    w.delete(&name).await;
    assert_eq!(w.aws_url(&name).await, None, "the queue is deleted in AWS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_added_changed_and_removed() {
    let w = world("sqs-tags").await;
    let name = unique("tags");
    let spec = json!({"queueName": name, "tags": {"team": "a", "tier": "1"}});
    w.create(&queue(&name, spec, &[])).await;
    let url = queue_url_of(&w.synced(&name).await);
    let aws = w
        .aws_tags_become(&url, &tags(&[("team", "a"), ("tier", "1")]))
        .await;
    let mut expected = w.controller_tags(&name).await;
    expected.extend(tags(&[("team", "a"), ("tier", "1")]));
    assert_eq!(aws, expected, "default tags are in AWS");

    // Changed, removed (by a merge patch's null) and added in one edit.
    w.patch(
        &name,
        json!({"spec": {"tags": {"team": "b", "tier": null, "env": "prod"}}}),
    )
    .await;
    w.aws_tags_become(&url, &tags(&[("team", "b"), ("env", "prod")]))
        .await;
    let cr = w.api.get(&name).await.unwrap();
    assert_eq!(
        cr.spec.tags,
        Some(tags(&[("team", "b"), ("env", "prod")])),
        "default tags never enter the CR"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopt_keeps_system_tags_out_of_the_cr_and_in_aws() {
    let w = world("sqs-adopt").await;
    let name = unique("adopt");
    let url = w
        .sqs
        .create_queue()
        .queue_name(&name)
        .attributes(QueueAttributeName::DelaySeconds, "7")
        .tags("owner", "team-x")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let system = tags(&[
        ("aws:cloudformation:stack-name", "stack-1"),
        ("aws:cloudformation:logical-id", "Queue"),
    ]);
    let (u, s) = (url.clone(), system.clone());
    tokio::task::spawn_blocking(move || TestEnv::get().emulator().set_system_tags("sqs", &u, &s))
        .await
        .unwrap()
        .expect("giving the queue system tags");

    let fields = json!({ "queueURL": url }).to_string();
    let annotations = [
        ("services.k8s.aws/adoption-policy", "adopt"),
        ("services.k8s.aws/adoption-fields", fields.as_str()),
    ];
    // The spec only names the queue; adoption fills the rest from AWS.
    w.create(&queue(&name, json!({"queueName": name}), &annotations))
        .await;
    let adopted = eventually("the adopted spec", || async {
        let q = w.api.get(&name).await.unwrap();
        (q.spec.delay_seconds.is_some() && condition(&q, SYNCED).is_some_and(|c| c.0 == "True"))
            .then_some(q)
    })
    .await;
    let annotations = adopted.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        annotations
            .get("services.k8s.aws/adopted")
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(adopted.spec.delay_seconds.as_deref(), Some("7"));
    assert_eq!(adopted.spec.tags, Some(tags(&[("owner", "team-x")])));
    assert_eq!(queue_url_of(&adopted), url);
    let mut keys = Vec::new();
    all_keys(&serde_json::to_value(&adopted).unwrap(), &mut keys);
    for key in &keys {
        assert!(
            !key.to_lowercase().starts_with("aws:"),
            "system tag key {key} in the CR"
        );
        assert!(
            !DEFAULT_TAG_KEYS.contains(&key.as_str()),
            "default tag key {key} in the CR"
        );
    }

    // Edit tags and one attribute of the adopted queue.
    w.patch(
        &name,
        json!({"spec": {"tags": {"owner": "team-y", "env": "prod"}, "visibilityTimeout": "60"}}),
    )
    .await;
    w.aws_attribute_becomes(&url, "VisibilityTimeout", "60")
        .await;
    let mut expected = system.clone();
    expected.extend(tags(&[("owner", "team-y"), ("env", "prod")]));
    let aws = w.aws_tags_become(&url, &expected).await;
    for (k, v) in &system {
        assert_eq!(aws.get(k), Some(v), "system tag {k} kept its value");
    }
    let cr = w.synced(&name).await;
    let mut keys = Vec::new();
    all_keys(&serde_json::to_value(&cr).unwrap(), &mut keys);
    assert!(!keys.iter().any(|k| k.to_lowercase().starts_with("aws:")));
    let rejected: Vec<_> = requests_for(&url, &name)
        .await
        .into_iter()
        .filter(|r| r.status >= 400)
        .collect();
    assert!(
        rejected.is_empty(),
        "rejected calls for the adopted queue: {rejected:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopt_or_create_adopts_when_found_and_creates_when_not() {
    let w = world("sqs-adopt-or-create").await;
    let found = unique("aoc-found");
    let found_url = w
        .sqs
        .create_queue()
        .queue_name(&found)
        .attributes(QueueAttributeName::DelaySeconds, "3")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let missing = unique("aoc-missing");
    let (base, _) = found_url.rsplit_once('/').unwrap();
    let missing_url = format!("{base}/{missing}");

    for (name, url) in [(&found, &found_url), (&missing, &missing_url)] {
        let fields = json!({ "queueURL": url }).to_string();
        let annotations = [
            ("services.k8s.aws/adoption-policy", "adopt-or-create"),
            ("services.k8s.aws/adoption-fields", fields.as_str()),
        ];
        let spec = json!({"queueName": name, "delaySeconds": "9"});
        w.create(&queue(name, spec, &annotations)).await;
    }
    let adopted = w.synced(&found).await;
    assert_eq!(
        adopted
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("services.k8s.aws/adopted"))
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(queue_url_of(&adopted), found_url);
    w.aws_attribute_becomes(&found_url, "DelaySeconds", "9")
        .await;

    let created = w.synced(&missing).await;
    let url = w
        .aws_url(&missing)
        .await
        .expect("the missing queue was created");
    assert_eq!(queue_url_of(&created), url);
    assert_eq!(w.aws_attributes(&url).await["DelaySeconds"], "9");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_reports_drift_and_changes_nothing() {
    let w = world("sqs-read-only").await;
    let name = unique("ro");
    let url = w
        .sqs
        .create_queue()
        .queue_name(&name)
        .attributes(QueueAttributeName::DelaySeconds, "1")
        .tags("k", "v")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let spec = json!({"queueName": name, "delaySeconds": "5"});
    w.create(&queue(
        &name,
        spec,
        &[("services.k8s.aws/read-only", "true")],
    ))
    .await;
    let drifted = w.wait_for(&name, SYNCED, "False").await;
    let (_, reason, message) = condition(&drifted, SYNCED).unwrap();
    assert_eq!(reason, "ReadOnlyDrift");
    assert!(message.contains("spec.delaySeconds"), "{message}");

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.aws_attributes(&url).await["DelaySeconds"], "1");
    assert_eq!(w.aws_tags(&url).await, tags(&[("k", "v")]));
    let calls = requests_for(&url, &name).await;
    let writes: Vec<_> = operations(&calls)
        .into_iter()
        .filter(|op| !op.starts_with("Get") && !op.starts_with("List"))
        .collect();
    assert_eq!(
        writes,
        ["CreateQueue"],
        "only the test's own CreateQueue wrote"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retain_keeps_the_queue_after_the_cr_is_deleted() {
    let w = world("sqs-retain").await;
    let name = unique("retain");
    let annotations = [("services.k8s.aws/deletion-policy", "retain")];
    w.create(&queue(&name, json!({"queueName": name}), &annotations))
        .await;
    let url = queue_url_of(&w.synced(&name).await);
    w.delete(&name).await;
    assert_eq!(w.aws_url(&name).await.as_deref(), Some(url.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_annotations_and_tags_are_terminal_before_any_aws_call() {
    let w = world("sqs-bad-input").await;
    let system_tag = unique("aws-tag");
    let spec = json!({"queueName": system_tag, "tags": {"aws:team": "x"}});
    w.create(&queue(&system_tag, spec, &[])).await;
    let bad_policy = unique("policy");
    let annotations = [
        ("services.k8s.aws/adoption-policy", "adopt-please"),
        ("services.k8s.aws/adoption-fields", r#"{"queueURL": "x"}"#),
    ];
    w.create(&queue(
        &bad_policy,
        json!({"queueName": bad_policy}),
        &annotations,
    ))
    .await;

    let cr = w.wait_for(&system_tag, TERMINAL, "True").await;
    let (_, reason, message) = condition(&cr, TERMINAL).unwrap();
    assert_eq!(reason, "InvalidTags");
    assert!(message.contains("aws:team"), "{message}");
    let cr = w.wait_for(&bad_policy, TERMINAL, "True").await;
    let (_, _, message) = condition(&cr, TERMINAL).unwrap();
    assert!(message.contains("adopt-please"), "{message}");

    for name in [&system_tag, &bad_policy] {
        assert_eq!(w.aws_url(name).await, None, "{name} was not created");
        let calls = requests_for("", name).await;
        assert_eq!(
            operations(&calls),
            ["GetQueueUrl"],
            "only the test's own look-up touched AWS for {name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_attribute_value_is_terminal_from_aws() {
    let w = world("sqs-invalid").await;
    let name = unique("invalid");
    w.create(&queue(
        &name,
        json!({"queueName": name, "delaySeconds": "abc"}),
        &[],
    ))
    .await;
    let cr = w.wait_for(&name, TERMINAL, "True").await;
    let (_, reason, message) = condition(&cr, TERMINAL).unwrap();
    assert_eq!(reason, "InvalidAttributeValue");
    assert!(message.contains("DelaySeconds"), "{message}");
    assert_eq!(w.aws_url(&name).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immutable_changes_are_refused() {
    let w = world("sqs-immutable").await;
    let name = unique("immutable");
    w.create(&queue(&name, json!({"queueName": name}), &[]))
        .await;
    let url = queue_url_of(&w.synced(&name).await);

    // queueName carries the CRD's immutability rule: the API server refuses the edit.
    let refused = w
        .api
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"queueName": "renamed"}})),
        )
        .await
        .expect_err("the API server refuses a new queueName");
    assert!(refused.to_string().contains("immutable"), "{refused}");

    // FifoQueue is create-only in SQS but has no CRD rule (as in ACK): the manager refuses it.
    let before = quiet(&url, &name).await;
    w.patch(&name, json!({"spec": {"fifoQueue": "true"}})).await;
    let cr = w.wait_for(&name, TERMINAL, "True").await;
    let (_, reason, message) = condition(&cr, TERMINAL).unwrap();
    assert_eq!(reason, "ImmutableFieldChanged");
    assert!(message.contains("spec.fifoQueue"), "{message}");
    quiet(&url, &name).await;
    let calls = requests_for(&url, &name).await;
    let since: Vec<_> = operations(&calls[before..]);
    assert!(
        since.iter().all(|op| *op == "GetQueueAttributes"),
        "only reads after the change: {since:?}"
    );
    assert!(!w.aws_attributes(&url).await.contains_key("FifoQueue"));
}

/// An SQS client for `region` of the emulator.
async fn sqs_in(region: &str) -> aws_sdk_sqs::Client {
    let sdk = TestEnv::get().aws().await;
    let config = aws_sdk_sqs::config::Builder::from(&sdk)
        .region(aws_sdk_sqs::config::Region::new(region.to_string()))
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// The queue's URL in `region`, `None` when that region has no such queue.
async fn url_in(region: &str, name: &str) -> Option<String> {
    let sqs = sqs_in(region).await;
    match sqs.get_queue_url().queue_name(name).send().await {
        Ok(output) => output.queue_url,
        Err(e) => {
            let code = aws_sdk_sqs::error::ProvideErrorMetadata::code(&e);
            assert!(
                code.is_some_and(|c| c.contains("NonExistentQueue") || c == "QueueDoesNotExist"),
                "GetQueueUrl {name} in {region}: {e:?}"
            );
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_queue_lives_in_its_region_and_cannot_move() {
    const REGION: &str = "services.k8s.aws/region";
    let w = world("sqs-regions").await;
    let home = TestEnv::get().endpoints.region.clone();
    let (annotated, namespaced, moved) = ("eu-west-1", "ap-southeast-2", "us-east-2");
    assert!(home != annotated && home != namespaced && home != moved);
    // The namespace's region counts for CRs that name none.
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> =
        Api::all(TestEnv::get().client().await);
    let patch = json!({"metadata": {"annotations": {REGION: namespaced}}});
    namespaces
        .patch(&w.namespace, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotating the namespace");

    let own = unique("own-region");
    let inherited = unique("ns-region");
    w.create(&queue(
        &own,
        json!({"queueName": own}),
        &[(REGION, annotated)],
    ))
    .await;
    w.create(&queue(&inherited, json!({"queueName": inherited}), &[]))
        .await;
    for (name, region) in [(&own, annotated), (&inherited, namespaced)] {
        let cr = w.synced(name).await;
        let metadata = cr
            .status
            .as_ref()
            .unwrap()
            .ack_resource_metadata
            .clone()
            .unwrap();
        assert_eq!(metadata.region, region, "{name}");
        assert_eq!(
            metadata.arn.as_deref(),
            Some(format!("arn:aws:sqs:{region}:{ACCOUNT}:{name}").as_str())
        );
        assert_eq!(url_in(region, name).await, Some(queue_url_of(&cr)));
        for elsewhere in [home.as_str(), annotated, namespaced] {
            if elsewhere != region {
                assert_eq!(url_in(elsewhere, name).await, None, "{name} in {elsewhere}");
            }
        }
    }

    // Moving an existing queue is refused, and nothing is made in the new region.
    w.patch(&own, json!({"metadata": {"annotations": {REGION: moved}}}))
        .await;
    let cr = w.wait_for(&own, TERMINAL, "True").await;
    let (_, reason, message) = condition(&cr, TERMINAL).unwrap();
    assert_eq!(reason, "RegionChanged");
    assert!(
        message.contains(annotated) && message.contains(moved),
        "{message}"
    );
    assert_eq!(url_in(moved, &own).await, None);

    // Deleting goes to the region the queue is in, whatever the annotation says now.
    w.delete(&own).await;
    w.delete(&inherited).await;
    assert_eq!(url_in(annotated, &own).await, None);
    assert_eq!(url_in(namespaced, &inherited).await, None);
}

/// A FieldExport of `path` of Queue `queue` into `to`.
fn field_export(name: &str, queue: &str, path: &str, to: Value) -> FieldExport {
    serde_json::from_value(json!({
        "apiVersion": "services.k8s.aws/v1alpha1",
        "kind": "FieldExport",
        "metadata": { "name": name },
        "spec": {
            "from": {
                "path": path,
                "resource": { "group": "sqs.services.k8s.aws", "kind": "Queue", "name": queue },
            },
            "to": to,
        },
    }))
    .expect("a valid FieldExport")
}

fn export_condition(fe: &FieldExport, type_: &str) -> Option<(String, String)> {
    let list = &fe.status.as_ref()?.conditions;
    let c = list.iter().find(|c| c.type_ == type_)?;
    Some((
        format!("{:?}", c.status),
        c.reason.clone().unwrap_or_default(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_exports_write_update_and_clean_up_configmaps() {
    let env = TestEnv::get();
    let crd =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crds/services.k8s.aws_fieldexports.yaml");
    env.install_crds(&[&crd])
        .await
        .expect("installing the FieldExport CRD");
    let w = world("sqs-export").await;
    let client = env.client().await;
    let exporter = tokio::spawn(field_export::run(
        client.clone(),
        vec![kube::api::ApiResource::erase::<Queue>(&())],
        field_export::Options {
            watch_namespaces: vec![w.namespace.clone()],
            enable_cross_namespace: false,
            resync: Duration::from_secs(3600),
        },
    ));
    let _stop = AbortOnDrop(exporter);
    let exports: Api<FieldExport> = Api::namespaced(client.clone(), &w.namespace);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &w.namespace);
    // A ConfigMap the app owns already: exports add keys to it and never delete it.
    let app: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "app"}, "data": {"mine": "kept"}
    }))
    .unwrap();
    config_maps
        .create(&PostParams::default(), &app)
        .await
        .unwrap();

    let name = unique("export");
    w.create(&queue(
        &name,
        json!({"queueName": name, "delaySeconds": "0"}),
        &[],
    ))
    .await;
    let make = |fe: FieldExport| {
        let exports = exports.clone();
        async move { exports.create(&PostParams::default(), &fe).await.unwrap() }
    };
    make(field_export(
        "url",
        &name,
        ".status.queueURL",
        json!({"kind": "configmap", "name": "queue-url", "key": "QUEUE_URL"}),
    ))
    .await;
    make(field_export(
        "delay",
        &name,
        ".spec.delaySeconds",
        json!({"kind": "configmap", "name": "app"}),
    ))
    .await;
    // Bad ones: a path jq's field syntax does not parse, another namespace while
    // --enable-cross-namespace=false.
    make(field_export(
        "bad-path",
        &name,
        "status.queueURL",
        json!({"kind": "configmap", "name": "bad-path"}),
    ))
    .await;
    make(field_export(
        "elsewhere",
        &name,
        ".status.queueURL",
        json!({"kind": "configmap", "name": "elsewhere", "namespace": "default"}),
    ))
    .await;

    let url = queue_url_of(&w.synced(&name).await);
    let delay_key = format!("{}.delay", w.namespace);
    let value = |cm: &str, key: &str| {
        let (config_maps, cm, key) = (config_maps.clone(), cm.to_string(), key.to_string());
        async move {
            config_maps
                .get_opt(&cm)
                .await
                .unwrap()
                .and_then(|c| c.data?.get(&key).cloned())
        }
    };
    eventually("the queue URL in ConfigMap queue-url", || async {
        (value("queue-url", "QUEUE_URL").await.as_deref() == Some(url.as_str())).then_some(())
    })
    .await;
    eventually("the delay in ConfigMap app", || async {
        (value("app", &delay_key).await.as_deref() == Some("0")).then_some(())
    })
    .await;
    assert_eq!(value("app", "mine").await.as_deref(), Some("kept"));
    let created = config_maps.get("queue-url").await.unwrap();
    assert_eq!(created.owner_references()[0].kind, "FieldExport");
    assert!(
        config_maps
            .get("app")
            .await
            .unwrap()
            .owner_references()
            .is_empty()
    );
    for good in ["url", "delay"] {
        let fe = exports.get(good).await.unwrap();
        assert_eq!(
            export_condition(&fe, SYNCED).map(|c| c.0),
            Some("True".into()),
            "{good}"
        );
    }
    for (bad, reason) in [
        ("bad-path", "InvalidPath"),
        ("elsewhere", "CrossNamespaceDisabled"),
    ] {
        let fe = eventually(&format!("{bad} to be Terminal"), || async {
            let fe = exports.get(bad).await.unwrap();
            export_condition(&fe, TERMINAL).is_some().then_some(fe)
        })
        .await;
        assert_eq!(export_condition(&fe, TERMINAL).unwrap().1, reason, "{bad}");
    }
    assert!(config_maps.get_opt("bad-path").await.unwrap().is_none());
    let default: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    assert!(default.get_opt("elsewhere").await.unwrap().is_none());

    // The source changes: the export follows.
    w.patch(&name, json!({"spec": {"delaySeconds": "7"}})).await;
    eventually("the new delay in ConfigMap app", || async {
        (value("app", &delay_key).await.as_deref() == Some("7")).then_some(())
    })
    .await;

    // Deleting an export deletes what it created, and only that.
    for fe in ["url", "delay", "bad-path", "elsewhere"] {
        exports.delete(fe, &DeleteParams::default()).await.unwrap();
    }
    eventually("the exports to be gone", || async {
        exports
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
            .then_some(())
    })
    .await;
    assert!(config_maps.get_opt("queue-url").await.unwrap().is_none());
    assert_eq!(value("app", "mine").await.as_deref(), Some("kept"));
    w.delete(&name).await;
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carm_manages_a_foreign_accounts_namespace_through_its_role() {
    const OWNER: &str = "services.k8s.aws/owner-account-id";
    const REGION: &str = "services.k8s.aws/region";
    const TEAM_ACCOUNT: &str = "111122223333";
    let env = TestEnv::get();
    let w = world("sqs-carm").await;
    let client = env.client().await;
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let patch = json!({"metadata": {"annotations": {OWNER: TEAM_ACCOUNT}}});
    namespaces
        .patch(&w.namespace, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotating the namespace");

    // No role for the account yet: a clear condition, and nothing sent to AWS.
    let home = unique("carm-home");
    let away = unique("carm-away");
    w.create(&queue(&home, json!({"queueName": home}), &[]))
        .await;
    let cr = w.wait_for(&home, "ACK.Recoverable", "True").await;
    let (_, reason, message) = condition(&cr, "ACK.Recoverable").unwrap();
    assert_eq!(reason, "RoleNotFound");
    assert!(
        message.contains(TEAM_ACCOUNT) && message.contains("ack-role-account-map"),
        "{message}"
    );
    assert!(
        requests_for("", &home).await.is_empty(),
        "no AWS call for {home}"
    );

    // The controller's namespace (the test's, here) maps the account to a role.
    let role = format!("arn:aws:iam::{TEAM_ACCOUNT}:role/ack-team");
    let map: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "ack-role-account-map"},
        "data": {TEAM_ACCOUNT: role},
    }))
    .unwrap();
    Api::<ConfigMap>::namespaced(client.clone(), &w.namespace)
        .create(&PostParams::default(), &map)
        .await
        .unwrap();
    // Sooner than the retry: any annotation edit reconciles.
    w.patch(&home, json!({"metadata": {"annotations": {"poke": "1"}}}))
        .await;
    let other_region = "eu-west-1";
    w.create(&queue(
        &away,
        json!({"queueName": away}),
        &[(REGION, other_region)],
    ))
    .await;

    let home_region = env.endpoints.region.clone();
    let team = env.aws_as(&role).await;
    for (name, region) in [(&home, home_region.as_str()), (&away, other_region)] {
        let cr = w.synced(name).await;
        let metadata = cr
            .status
            .as_ref()
            .unwrap()
            .ack_resource_metadata
            .clone()
            .unwrap();
        assert_eq!(metadata.owner_account_id, TEAM_ACCOUNT, "{name}");
        assert_eq!(metadata.region, region, "{name}");
        assert_eq!(
            metadata.arn.as_deref(),
            Some(format!("arn:aws:sqs:{region}:{TEAM_ACCOUNT}:{name}").as_str())
        );
        // In the team's account, in its region; not in the controller's own account.
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(&team)
                .region(aws_sdk_sqs::config::Region::new(region.to_string()))
                .build(),
        );
        let url = sqs
            .get_queue_url()
            .queue_name(name.as_str())
            .send()
            .await
            .expect("the queue in the team's account")
            .queue_url
            .unwrap();
        let tags = sqs.list_queue_tags().queue_url(&url).send().await.unwrap();
        assert!(
            tags.tags
                .unwrap_or_default()
                .contains_key("services.k8s.aws/namespace"),
            "the default tags are on the team's queue"
        );
        assert_eq!(
            url_in(region, name).await,
            None,
            "{name} in the controller's account"
        );
    }

    // Deleting deletes in the team's account.
    w.delete(&home).await;
    w.delete(&away).await;
    let sqs = aws_sdk_sqs::Client::new(&team);
    let gone = sqs.get_queue_url().queue_name(home.as_str()).send().await;
    assert!(gone.is_err(), "{home} deleted in the team's account");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_role_selectors_choose_the_account_of_what_they_select() {
    let env = TestEnv::get();
    let crds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crds");
    env.install_crds(&[
        &crds.join("sqs.services.k8s.aws_queues.yaml"),
        &crds.join("services.k8s.aws_iamroleselectors.yaml"),
    ])
    .await
    .expect("installing the CRDs");
    let client = env.client().await;
    let namespace = env.namespace("sqs-selectors").await;
    let sdk = env.aws().await;
    let metrics = Metrics::default();
    let controller = testenv::controllers::spawn_controller_with(
        env,
        managers(&sdk, &metrics),
        client.clone(),
        &namespace,
        2,
        metrics,
        |settings| settings.feature_gates.iam_role_selector = true,
    );
    let _stop = AbortOnDrop(controller);
    let queues: Api<Queue> = Api::namespaced(client.clone(), &namespace);
    let selectors: Api<IAMRoleSelector> = Api::all(client.clone());
    const ACCOUNT_B: &str = "444455556666";
    let role = format!("arn:aws:iam::{ACCOUNT_B}:role/payments");
    let selector = |name: &str, app: &str| -> IAMRoleSelector {
        serde_json::from_value(json!({
            "apiVersion": "services.k8s.aws/v1alpha1",
            "kind": "IAMRoleSelector",
            "metadata": {"name": name},
            "spec": {
                "arn": role,
                "namespaceSelector": {"names": [namespace]},
                "resourceTypeSelector": [
                    {"group": "sqs.services.k8s.aws", "version": "", "kind": "Queue"}
                ],
                "resourceLabelSelector": {"matchLabels": {"app": app}},
            },
        }))
        .unwrap()
    };
    let (pay, dup1, dup2) = (unique("irs-pay"), unique("irs-dup-a"), unique("irs-dup-b"));
    for (name, app) in [(&pay, "pay"), (&dup1, "dup"), (&dup2, "dup")] {
        selectors
            .create(&PostParams::default(), &selector(name, app))
            .await
            .unwrap();
    }
    let labelled = |name: &str, app: &str| -> Queue {
        let mut q = queue(name, json!({"queueName": name}), &[]);
        q.metadata.labels = Some([("app".to_string(), app.to_string())].into());
        q
    };
    let selected = unique("selected");
    let plain = unique("plain");
    let ambiguous = unique("ambiguous");
    for q in [
        labelled(&selected, "pay"),
        queue(&plain, json!({"queueName": plain}), &[]),
        labelled(&ambiguous, "dup"),
    ] {
        queues.create(&PostParams::default(), &q).await.unwrap();
    }
    let wait = |name: String, type_: &'static str| {
        let queues = queues.clone();
        async move {
            testenv::wait_for_condition(&queues, &name, type_, "True", TIMEOUT)
                .await
                .unwrap_or_else(|e| panic!("{e:#}"))
        }
    };
    let owner = |q: &Queue| {
        q.status
            .as_ref()
            .unwrap()
            .ack_resource_metadata
            .clone()
            .unwrap()
            .owner_account_id
    };
    assert_eq!(owner(&wait(selected.clone(), SYNCED).await), ACCOUNT_B);
    assert_eq!(owner(&wait(plain.clone(), SYNCED).await), ACCOUNT);
    let cr = wait(ambiguous.clone(), TERMINAL).await;
    let (_, reason, message) = condition(&cr, TERMINAL).unwrap();
    assert_eq!(reason, "MultipleRoleSelectors");
    assert!(
        message.contains(&dup1) && message.contains(&dup2),
        "{message}"
    );
    assert!(
        requests_for("", &ambiguous).await.is_empty(),
        "no AWS call for {ambiguous}"
    );

    let team = aws_sdk_sqs::Client::new(&env.aws_as(&role).await);
    assert!(
        team.get_queue_url()
            .queue_name(selected.as_str())
            .send()
            .await
            .is_ok()
    );
    assert_eq!(url_in(&env.endpoints.region, &selected).await, None);
    // Deleting goes through the selected role too (so the selectors go last).
    for name in [&selected, &plain, &ambiguous] {
        queues.delete(name, &DeleteParams::default()).await.unwrap();
    }
    eventually("the queues to be gone", || async {
        queues
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
            .then_some(())
    })
    .await;
    assert!(
        team.get_queue_url()
            .queue_name(selected.as_str())
            .send()
            .await
            .is_err()
    );
    for name in [&pay, &dup1, &dup2] {
        selectors
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
    }
}
