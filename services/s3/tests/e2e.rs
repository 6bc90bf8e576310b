//! End to end: the generated Bucket manager in the runtime's controller, against a real
//! kube-apiserver and the AWS emulator over HTTP with the real SDK. Each test runs its own
//! controller watching its own namespace; the emulator is shared, so bucket names are unique.
//! AWS state is always checked by reading AWS.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ack_runtime::aws::CallCounter;
use ack_runtime::metrics::Metrics;
use ack_s3::{Bucket, BucketManager};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CorsConfiguration, CorsRule,
    CreateBucketConfiguration, Tag, Tagging, VersioningConfiguration,
};
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
    api: Api<Bucket>,
    s3: aws_sdk_s3::Client,
    namespace: String,
    controller: tokio::task::JoinHandle<()>,
}

impl Drop for World {
    fn drop(&mut self) {
        self.controller.abort();
    }
}

/// An S3 client for the emulator: path-style addressing, as `s3-controller` uses with a custom
/// endpoint.
fn s3_client(sdk: &aws_config::SdkConfig, metrics: Option<Metrics>) -> aws_sdk_s3::Client {
    let mut config = aws_sdk_s3::config::Builder::from(sdk).force_path_style(true);
    if let Some(metrics) = metrics {
        config = config.interceptor(CallCounter {
            service: "s3",
            metrics,
        });
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

async fn world(prefix: &str) -> World {
    let env = TestEnv::get();
    let crd =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crds/s3.services.k8s.aws_buckets.yaml");
    env.install_crds(&[&crd])
        .await
        .expect("installing the Bucket CRD");
    let client = env.client().await;
    let namespace = env.namespace(prefix).await;
    let sdk = env.aws().await;
    let metrics = Metrics::default();
    let manager = BucketManager::new(s3_client(&sdk, Some(metrics.clone())));
    let controller =
        testenv::spawn_controller(env, manager, client.clone(), &namespace, 2, metrics);
    World {
        api: Api::namespaced(client, &namespace),
        s3: s3_client(&sdk, None),
        namespace,
        controller,
    }
}

/// A bucket (and CR) name no other test or run uses: lower case, at most 63 characters.
fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("ackrs-{prefix}-{}-{n}-{nanos}", std::process::id())
}

fn bucket(name: &str, spec: Value, annotations: &[(&str, &str)]) -> Bucket {
    let annotations: BTreeMap<&str, &str> = annotations.iter().copied().collect();
    serde_json::from_value(json!({
        "apiVersion": "s3.services.k8s.aws/v1alpha1",
        "kind": "Bucket",
        "metadata": { "name": name, "annotations": annotations },
        "spec": spec,
    }))
    .expect("a valid Bucket")
}

/// `{"tagSet": [{"key": k, "value": v}, …]}`.
fn tagging(pairs: &[(&str, &str)]) -> Value {
    let set: Vec<Value> = pairs
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect();
    json!({ "tagSet": set })
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
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
fn condition(bucket: &Bucket, type_: &str) -> Option<(String, String, String)> {
    let conditions = bucket.status.as_ref()?.conditions.as_ref()?;
    conditions.iter().find(|c| c.type_ == type_).map(|c| {
        (
            c.status.clone(),
            c.reason.clone().unwrap_or_default(),
            c.message.clone().unwrap_or_default(),
        )
    })
}

fn declared(bucket: &Bucket) -> Vec<String> {
    bucket
        .status
        .as_ref()
        .and_then(|s| s.declared_subresources.clone())
        .unwrap_or_default()
}

fn spec_tags(bucket: &Bucket) -> Option<BTreeMap<String, String>> {
    let set = bucket.spec.tagging.as_ref()?.tag_set.as_ref()?;
    Some(
        set.iter()
            .map(|t| {
                (
                    t.key.clone().unwrap_or_default(),
                    t.value.clone().unwrap_or_default(),
                )
            })
            .collect(),
    )
}

impl World {
    async fn create(&self, bucket: &Bucket) {
        self.api
            .create(&PostParams::default(), bucket)
            .await
            .expect("creating the Bucket");
    }

    async fn wait_for(&self, name: &str, type_: &str, status: &str) -> Bucket {
        testenv::wait_for_condition(&self.api, name, type_, status, TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    async fn synced(&self, name: &str) -> Bucket {
        self.wait_for(name, SYNCED, "True").await
    }

    async fn patch(&self, name: &str, patch: Value) {
        self.api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("patching the Bucket");
    }

    /// Asks for a resync with ACK's refresh annotation.
    async fn refresh(&self, name: &str, n: u32) {
        self.patch(
            name,
            json!({"metadata": {"annotations": {"services.k8s.aws/refresh-requested-at": n.to_string()}}}),
        )
        .await;
    }

    async fn delete(&self, name: &str) {
        self.api
            .delete(name, &DeleteParams::default())
            .await
            .expect("deleting the Bucket");
        let api = self.api.clone();
        eventually(&format!("{name} to be gone"), || {
            let api = api.clone();
            async move { api.get_opt(name).await.unwrap().is_none().then_some(()) }
        })
        .await;
    }

    async fn exists(&self, name: &str) -> bool {
        match self.s3.head_bucket().bucket(name).send().await {
            Ok(_) => true,
            Err(e) => {
                let code = e.code();
                assert!(
                    matches!(code, Some("NotFound" | "NoSuchBucket")),
                    "HeadBucket {name}: {e:?}"
                );
                false
            }
        }
    }

    async fn aws_tags(&self, name: &str) -> BTreeMap<String, String> {
        match self.s3.get_bucket_tagging().bucket(name).send().await {
            Ok(output) => output
                .tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            Err(e) if e.code() == Some("NoSuchTagSet") => BTreeMap::new(),
            Err(e) => panic!("GetBucketTagging {name}: {e:?}"),
        }
    }

    async fn aws_versioning(&self, name: &str) -> Option<String> {
        let output = self
            .s3
            .get_bucket_versioning()
            .bucket(name)
            .send()
            .await
            .expect("GetBucketVersioning");
        output.status().map(|s| s.as_str().to_string())
    }

    async fn aws_versioning_becomes(&self, name: &str, status: &str) {
        eventually(&format!("versioning {status} in AWS"), || async {
            (self.aws_versioning(name).await.as_deref() == Some(status)).then_some(())
        })
        .await;
    }

    /// Waits until AWS's tags, less the default tags, are `user` (system tags included).
    async fn aws_tags_become(
        &self,
        name: &str,
        user: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        eventually(&format!("tags {user:?} in AWS"), || async {
            let tags = self.aws_tags(name).await;
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
                &format!("s3-{}", env!("CARGO_PKG_VERSION")),
            ),
            (DEFAULT_TAG_KEYS[1], &self.namespace),
        ]);
        let env = TestEnv::get();
        all.extend([env.owner_tag(&self.namespace, "Bucket", name).await]);
        all
    }

    /// A bucket made outside Kubernetes, in the test world's region.
    async fn make_bucket(&self, name: &str) {
        let region = TestEnv::get().endpoints.region.clone();
        self.s3
            .create_bucket()
            .bucket(name)
            .create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region.as_str()))
                    .build(),
            )
            .send()
            .await
            .expect("CreateBucket");
    }

    async fn put_tags(&self, name: &str, pairs: &[(&str, &str)]) -> Result<(), String> {
        let set = pairs
            .iter()
            .map(|(k, v)| Tag::builder().key(*k).value(*v).build().unwrap())
            .collect();
        self.s3
            .put_bucket_tagging()
            .bucket(name)
            .tagging(Tagging::builder().set_tag_set(Some(set)).build().unwrap())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| e.code().unwrap_or_default().to_string())
    }

    async fn enable_versioning(&self, name: &str) {
        self.s3
            .put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .expect("PutBucketVersioning");
    }
}

/// The emulator's log of S3 calls about one bucket.
async fn requests_for(name: &str) -> Vec<RecordedRequest> {
    let name = name.to_string();
    tokio::task::spawn_blocking(move || {
        TestEnv::get()
            .emulator()
            .requests()
            .expect("reading the emulator's request log")
            .into_iter()
            .filter(|r| r.service == "s3")
            .filter(|r| {
                r.resource
                    .as_deref()
                    .is_some_and(|res| res == name || res.starts_with(&format!("{name}/")))
            })
            .collect()
    })
    .await
    .unwrap()
}

/// Waits until no call about the bucket has been made for a second; returns how many were made.
async fn quiet(name: &str) -> usize {
    let mut seen = requests_for(name).await.len();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = requests_for(name).await.len();
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

/// The calls of one resync asked for with the refresh annotation, once the bucket is quiet.
async fn resync_calls(w: &World, name: &str, n: u32) -> Vec<RecordedRequest> {
    let before = quiet(name).await;
    w.refresh(name, n).await;
    eventually("a resync's calls", || async {
        let calls = requests_for(name).await;
        calls[before..]
            .iter()
            .any(|r| r.operation == "GetBucketTagging")
            .then_some(())
    })
    .await;
    quiet(name).await;
    requests_for(name).await[before..].to_vec()
}

/// Every object key in a JSON document, at any depth, and every tag key of a `tagSet`.
fn all_keys(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                if let (true, Some(s)) = (k == "key", v.as_str()) {
                    out.push(s.to_string());
                }
                all_keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| all_keys(v, out)),
        _ => {}
    }
}

fn assert_no_system_or_default_keys(bucket: &Bucket) {
    let mut keys = Vec::new();
    all_keys(&serde_json::to_value(bucket).unwrap(), &mut keys);
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_resync_and_delete() {
    let w = world("s3-crud").await;
    let name = unique("crud");
    w.create(&bucket(
        &name,
        json!({"name": name, "tagging": tagging(&[("team", "a")])}),
        &[],
    ))
    .await;
    let synced = w.synced(&name).await;
    let status = synced.status.as_ref().unwrap();
    let arn = format!("arn:aws:s3:::{name}");
    let metadata = status.ack_resource_metadata.as_ref().unwrap();
    assert_eq!(metadata.arn.as_deref(), Some(arn.as_str()));
    assert_eq!(metadata.owner_account_id, ACCOUNT);
    assert_eq!(metadata.region, TestEnv::get().endpoints.region);
    assert!(w.exists(&name).await);
    let location =
        w.s3.get_bucket_location()
            .bucket(&name)
            .send()
            .await
            .expect("GetBucketLocation");
    assert_eq!(
        location.location_constraint().map(|c| c.as_str()),
        Some(TestEnv::get().endpoints.region.as_str()),
        "created in the client's region"
    );
    let mut expected = w.controller_tags(&name).await;
    expected.extend(tags(&[("team", "a")]));
    assert_eq!(w.aws_tags(&name).await, expected);
    assert_eq!(declared(&synced), Vec::<String>::new());

    // A tags-only bucket's steady-state resync reads the bucket and its tags, nothing else.
    let resync = resync_calls(&w, &name, 1).await;
    assert!(
        resync.len() <= 2,
        "a steady-state resync made {} calls: {:?}",
        resync.len(),
        operations(&resync)
    );
    assert_eq!(operations(&resync), ["HeadBucket", "GetBucketTagging"]);

    // Versioning and tags declared in the spec are applied.
    w.patch(
        &name,
        json!({"spec": {"versioning": {"status": "Enabled"}, "tagging": tagging(&[("team", "b")])}}),
    )
    .await;
    w.aws_versioning_becomes(&name, "Enabled").await;
    w.aws_tags_become(&name, &tags(&[("team", "b")])).await;
    let cr = eventually("versioning recorded as declared", || async {
        let b = w.api.get(&name).await.unwrap();
        (declared(&b) == ["versioning"]).then_some(b)
    })
    .await;
    assert_eq!(condition(&cr, SYNCED).map(|c| c.0).as_deref(), Some("True"));

    // Settings made outside Kubernetes on sub-configurations the spec never declared.
    w.s3.put_bucket_cors()
        .bucket(&name)
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(
                    CorsRule::builder()
                        .allowed_methods("GET")
                        .allowed_origins("*")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("PutBucketCors");
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{name}/*"}}]}}"#
    );
    w.s3.put_bucket_policy()
        .bucket(&name)
        .policy(&policy)
        .send()
        .await
        .expect("PutBucketPolicy");

    // A declared setting is read on every resync; undeclared ones are not touched.
    let resync = resync_calls(&w, &name, 2).await;
    assert_eq!(
        operations(&resync),
        ["HeadBucket", "GetBucketVersioning", "GetBucketTagging"]
    );

    // Versioning dropped from the spec is reset (suspended) in AWS once, then left alone.
    w.patch(&name, json!({"spec": {"versioning": null}})).await;
    w.aws_versioning_becomes(&name, "Suspended").await;
    eventually("versioning no longer declared", || async {
        let b = w.api.get(&name).await.unwrap();
        declared(&b).is_empty().then_some(())
    })
    .await;
    let resync = resync_calls(&w, &name, 3).await;
    assert_eq!(operations(&resync), ["HeadBucket", "GetBucketTagging"]);

    // The outside settings survived all of it.
    let cors =
        w.s3.get_bucket_cors()
            .bucket(&name)
            .send()
            .await
            .expect("the CORS rules are still there");
    assert_eq!(cors.cors_rules().len(), 1);
    w.s3.get_bucket_policy()
        .bucket(&name)
        .send()
        .await
        .expect("the policy is still there");
    let controller_writes: Vec<_> = requests_for(&name)
        .await
        .into_iter()
        .filter(|r| r.operation.contains("Cors") || r.operation.contains("Policy"))
        .map(|r| r.operation)
        .collect();
    assert_eq!(
        controller_writes,
        [
            "PutBucketCors",
            "PutBucketPolicy",
            "GetBucketCors",
            "GetBucketPolicy"
        ],
        "only the test touched CORS and the policy"
    );

    // Emptying S3 buckets is the user's business; this one is empty.
    w.delete(&name).await;
    assert!(!w.exists(&name).await, "the bucket is deleted in AWS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retain_keeps_the_bucket_after_the_cr_is_deleted() {
    let w = world("s3-retain").await;
    let name = unique("retain");
    let annotations = [("services.k8s.aws/deletion-policy", "retain")];
    w.create(&bucket(&name, json!({"name": name}), &annotations))
        .await;
    w.synced(&name).await;
    w.delete(&name).await;
    assert!(w.exists(&name).await, "the bucket is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopt_a_cloudformation_bucket_and_keep_its_system_tags() {
    let w = world("s3-adopt").await;
    let name = unique("adopt");
    w.make_bucket(&name).await;
    w.put_tags(&name, &[("owner", "team-x")]).await.unwrap();
    w.enable_versioning(&name).await;
    let system = tags(&[
        ("aws:cloudformation:stack-name", "stack-1"),
        (
            "aws:cloudformation:stack-id",
            "arn:aws:cloudformation:us-west-2:123456789012:stack/stack-1/0a1b2c3d",
        ),
        ("aws:cloudformation:logical-id", "Bucket"),
    ]);
    let (n, s) = (name.clone(), system.clone());
    tokio::task::spawn_blocking(move || TestEnv::get().emulator().set_system_tags("s3", &n, &s))
        .await
        .unwrap()
        .expect("giving the bucket system tags");

    // The negative control: a tag set without the system tags is what AWS refuses.
    assert_eq!(
        w.put_tags(&name, &[("owner", "team-y")]).await,
        Err("InvalidTag".to_string()),
        "S3 refuses a tag set that drops system tags"
    );
    let mut before = system.clone();
    before.extend(tags(&[("owner", "team-x")]));
    assert_eq!(w.aws_tags(&name).await, before);

    let fields = json!({ "name": name }).to_string();
    let annotations = [
        ("services.k8s.aws/adoption-policy", "adopt"),
        ("services.k8s.aws/adoption-fields", fields.as_str()),
    ];
    // The spec only names the bucket; adoption fills the rest from AWS.
    w.create(&bucket(&name, json!({"name": name}), &annotations))
        .await;
    let adopted = w.synced(&name).await;
    let annotations = adopted.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        annotations
            .get("services.k8s.aws/adopted")
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(
        adopted
            .spec
            .versioning
            .as_ref()
            .and_then(|v| v.status.as_deref()),
        Some("Enabled")
    );
    assert_eq!(spec_tags(&adopted), Some(tags(&[("owner", "team-x")])));
    // Only what the bucket has configured enters the spec.
    assert_eq!(adopted.spec.cors, None);
    assert_eq!(adopted.spec.policy, None);
    assert_eq!(adopted.spec.website, None);
    assert_eq!(declared(&adopted), ["versioning"]);
    assert_no_system_or_default_keys(&adopted);

    // Edit tags and versioning of the adopted bucket.
    w.patch(
        &name,
        json!({"spec": {
            "tagging": tagging(&[("owner", "team-y"), ("env", "prod")]),
            "versioning": {"status": "Suspended"},
        }}),
    )
    .await;
    w.aws_versioning_becomes(&name, "Suspended").await;
    let mut expected = system.clone();
    expected.extend(tags(&[("owner", "team-y"), ("env", "prod")]));
    let aws = w.aws_tags_become(&name, &expected).await;
    for (k, v) in &system {
        assert_eq!(aws.get(k), Some(v), "system tag {k} kept its value");
    }
    for (k, v) in w.controller_tags(&name).await {
        assert_eq!(aws.get(&k), Some(&v), "default tag {k} added");
    }
    let cr = w.synced(&name).await;
    assert_no_system_or_default_keys(&cr);
    let calls = requests_for(&name).await;
    let tag_writes: Vec<_> = calls
        .iter()
        .filter(|r| r.operation == "PutBucketTagging")
        .collect();
    // The test's own write, its refused negative control, then the controller's: adding the
    // default tags after adoption and the edit — one call, or two when the adoption's follow-up
    // reconcile ran before the edit arrived. Every one of those was accepted.
    assert!(tag_writes.len() >= 3, "{tag_writes:?}");
    assert!(
        tag_writes[2..].iter().all(|r| r.status < 300),
        "{tag_writes:?}"
    );
    // Only the negative control was refused; the controller's other answers of 404 are reads of
    // sub-configurations the bucket does not have.
    let rejected: Vec<_> = calls
        .iter()
        .filter(|r| r.status >= 400)
        .filter(|r| !(r.status == 404 && r.operation.starts_with("Get")))
        .collect();
    assert_eq!(rejected.len(), 1, "rejected calls: {rejected:?}");
    assert_eq!(rejected[0].operation, "PutBucketTagging");
    assert_eq!(rejected[0].error_code.as_deref(), Some("InvalidTag"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopt_or_create_adopts_when_found_and_creates_when_not() {
    let w = world("s3-adopt-or-create").await;
    let found = unique("aoc-found");
    w.make_bucket(&found).await;
    let missing = unique("aoc-missing");
    for name in [&found, &missing] {
        let fields = json!({ "name": name }).to_string();
        let annotations = [
            ("services.k8s.aws/adoption-policy", "adopt-or-create"),
            ("services.k8s.aws/adoption-fields", fields.as_str()),
        ];
        let spec = json!({"name": name, "versioning": {"status": "Enabled"}});
        w.create(&bucket(name, spec, &annotations)).await;
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
    w.aws_versioning_becomes(&found, "Enabled").await;

    w.synced(&missing).await;
    assert!(w.exists(&missing).await, "the missing bucket was created");
    w.aws_versioning_becomes(&missing, "Enabled").await;
    let created = requests_for(&missing).await;
    assert!(
        operations(&created).contains(&"CreateBucket"),
        "{:?}",
        operations(&created)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_tags_in_the_spec_are_terminal_before_any_aws_call() {
    let w = world("s3-bad-input").await;
    let name = unique("aws-tag");
    let spec = json!({"name": name, "tagging": tagging(&[("aws:team", "x")])});
    w.create(&bucket(&name, spec, &[])).await;
    let cr = w.wait_for(&name, TERMINAL, "True").await;
    let (_, reason, message) = condition(&cr, TERMINAL).unwrap();
    assert_eq!(reason, "InvalidTags");
    assert!(message.contains("aws:team"), "{message}");
    assert!(!w.exists(&name).await, "{name} was not created");
    let calls = requests_for(&name).await;
    assert_eq!(
        operations(&calls),
        ["HeadBucket"],
        "only the test's own HeadBucket touched AWS"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_setter_is_deleted_once_then_left_alone() {
    let w = world("s3-dropped").await;
    let name = unique("dropped");
    let policy = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::{name}"}}]}}"#
    );
    w.create(&bucket(&name, json!({"name": name, "policy": policy}), &[]))
        .await;
    let synced = w.synced(&name).await;
    assert_eq!(declared(&synced), ["policy"]);
    let stored =
        w.s3.get_bucket_policy()
            .bucket(&name)
            .send()
            .await
            .expect("the policy is in AWS");
    let as_json = |s: &str| serde_json::from_str::<Value>(s).unwrap();
    assert_eq!(as_json(stored.policy().unwrap()), as_json(&policy));

    // In sync: a resync reads the policy and writes nothing.
    let resync = resync_calls(&w, &name, 1).await;
    assert_eq!(
        operations(&resync),
        ["HeadBucket", "GetBucketPolicy", "GetBucketTagging"]
    );

    w.patch(&name, json!({"spec": {"policy": null}})).await;
    eventually("the policy deleted in AWS", || async {
        let gone = w.s3.get_bucket_policy().bucket(&name).send().await;
        gone.err()
            .filter(|e| e.code() == Some("NoSuchBucketPolicy"))
            .map(|_| ())
    })
    .await;
    eventually("the policy no longer declared", || async {
        let b = w.api.get(&name).await.unwrap();
        declared(&b).is_empty().then_some(())
    })
    .await;
    let resync = resync_calls(&w, &name, 2).await;
    assert_eq!(operations(&resync), ["HeadBucket", "GetBucketTagging"]);
    let deletes = requests_for(&name)
        .await
        .into_iter()
        .filter(|r| r.operation == "DeleteBucketPolicy")
        .count();
    assert_eq!(deletes, 1, "deleted once, then left alone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_setters_round_trip_and_stay_in_sync() {
    let w = world("s3-structured").await;
    let name = unique("structured");
    let spec = json!({
        "name": name,
        "publicAccessBlock": {
            "blockPublicACLs": true,
            "blockPublicPolicy": true,
            "ignorePublicACLs": true,
            "restrictPublicBuckets": false,
        },
        "encryption": {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
        "lifecycle": {"rules": [{
            "id": "expire-logs",
            "status": "Enabled",
            "filter": {"prefix": "logs/"},
            "expiration": {"days": 30},
        }]},
    });
    w.create(&bucket(&name, spec, &[])).await;
    let synced = w.synced(&name).await;
    assert_eq!(
        declared(&synced),
        ["encryption", "lifecycle", "publicAccessBlock"]
    );

    let pab =
        w.s3.get_public_access_block()
            .bucket(&name)
            .send()
            .await
            .expect("GetPublicAccessBlock");
    let pab = pab.public_access_block_configuration().unwrap();
    assert_eq!(pab.block_public_acls(), Some(true));
    assert_eq!(pab.restrict_public_buckets(), Some(false));
    let encryption =
        w.s3.get_bucket_encryption()
            .bucket(&name)
            .send()
            .await
            .expect("GetBucketEncryption");
    let rule = &encryption
        .server_side_encryption_configuration()
        .unwrap()
        .rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .map(|d| d.sse_algorithm().as_str()),
        Some("AES256")
    );
    let lifecycle =
        w.s3.get_bucket_lifecycle_configuration()
            .bucket(&name)
            .send()
            .await
            .expect("GetBucketLifecycleConfiguration");
    let rule = &lifecycle.rules()[0];
    assert_eq!(rule.id(), Some("expire-logs"));
    assert_eq!(rule.expiration().and_then(|e| e.days()), Some(30));

    // What AWS reads back covers the spec: a resync reads the declared setters and writes nothing.
    let resync = resync_calls(&w, &name, 1).await;
    assert_eq!(
        operations(&resync),
        [
            "HeadBucket",
            "GetBucketEncryption",
            "GetBucketLifecycleConfiguration",
            "GetPublicAccessBlock",
            "GetBucketTagging",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_policy_is_no_policy() {
    let w = world("s3-empty-policy").await;
    let name = unique("empty-policy");
    // As ACK's bucket_empty_policy.yaml: `policy: ""` is never sent to PutBucketPolicy.
    w.create(&bucket(&name, json!({"name": name, "policy": ""}), &[]))
        .await;
    let synced = w.synced(&name).await;
    assert!(declared(&synced).is_empty(), "{:?}", declared(&synced));
    let resync = resync_calls(&w, &name, 1).await;
    assert_eq!(operations(&resync), ["HeadBucket", "GetBucketTagging"]);

    // A real policy is put; emptying it again deletes it once, then it is left alone.
    let policy = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::{name}"}}]}}"#
    );
    w.patch(&name, json!({"spec": {"policy": policy}})).await;
    eventually("the policy in AWS", || async {
        w.s3.get_bucket_policy()
            .bucket(&name)
            .send()
            .await
            .ok()
            .map(|_| ())
    })
    .await;
    w.patch(&name, json!({"spec": {"policy": ""}})).await;
    eventually("the policy deleted in AWS", || async {
        let gone = w.s3.get_bucket_policy().bucket(&name).send().await;
        gone.err()
            .filter(|e| e.code() == Some("NoSuchBucketPolicy"))
            .map(|_| ())
    })
    .await;
    eventually("the policy no longer declared", || async {
        let b = w.api.get(&name).await.unwrap();
        declared(&b).is_empty().then_some(())
    })
    .await;
    let resync = resync_calls(&w, &name, 2).await;
    assert_eq!(operations(&resync), ["HeadBucket", "GetBucketTagging"]);
    let calls = requests_for(&name).await;
    let count = |op: &str| calls.iter().filter(|r| r.operation == op).count();
    assert_eq!(count("PutBucketPolicy"), 1, "only the real policy is put");
    assert_eq!(
        count("DeleteBucketPolicy"),
        1,
        "deleted once, then left alone"
    );
    w.delete(&name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_lock_is_put_enabled_and_stays_in_sync() {
    let w = world("s3-object-lock").await;
    let name = unique("object-lock");
    // As ACK's bucket_object_lock.yaml: no `objectLockEnabled` in the configuration.
    let spec = json!({
        "name": name,
        "versioning": {"status": "Enabled"},
        "objectLockEnabledForBucket": true,
        "objectLockConfiguration": {
            "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 1}},
        },
    });
    w.create(&bucket(&name, spec, &[])).await;
    let synced = w.synced(&name).await;
    assert_eq!(
        declared(&synced),
        [
            "objectLockConfiguration",
            "objectLockEnabledForBucket",
            "versioning"
        ]
    );
    assert_eq!(
        synced
            .spec
            .object_lock_configuration
            .as_ref()
            .and_then(|c| c.object_lock_enabled.as_deref()),
        None,
        "the default is sent, not written into the spec"
    );
    let lock =
        w.s3.get_object_lock_configuration()
            .bucket(&name)
            .send()
            .await
            .expect("GetObjectLockConfiguration");
    let lock = lock.object_lock_configuration().unwrap();
    assert_eq!(
        lock.object_lock_enabled().map(|e| e.as_str()),
        Some("Enabled")
    );
    let retention = lock.rule().and_then(|r| r.default_retention()).unwrap();
    assert_eq!(retention.mode().map(|m| m.as_str()), Some("GOVERNANCE"));
    assert_eq!(retention.days(), Some(1));

    // What AWS reads back (with `ObjectLockEnabled`) covers the spec: no write on a resync.
    let resync = resync_calls(&w, &name, 1).await;
    assert_eq!(
        operations(&resync),
        [
            "HeadBucket",
            "GetBucketVersioning",
            "GetObjectLockConfiguration",
            "GetObjectLockConfiguration",
            "GetBucketTagging",
        ]
    );
    w.delete(&name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versioning_and_replication_are_written_in_the_order_aws_needs() {
    let w = world("s3-order").await;
    let name = unique("order");
    let replication = json!({
        "role": format!("arn:aws:iam::{ACCOUNT}:role/replication"),
        "rules": [{
            "id": "logs",
            "status": "Enabled",
            "priority": 1,
            "deleteMarkerReplication": {"status": "Disabled"},
            "filter": {"prefix": "logs/"},
            "destination": {"bucket": "arn:aws:s3:::elsewhere"},
        }],
    });
    // Replication needs versioning enabled: versioning is put first (the emulator refuses
    // replication on an unversioned bucket, as AWS does).
    let spec =
        json!({"name": name, "versioning": {"status": "Enabled"}, "replication": replication});
    w.create(&bucket(&name, spec, &[])).await;
    let synced = w.synced(&name).await;
    assert_eq!(declared(&synced), ["replication", "versioning"]);
    let rules =
        w.s3.get_bucket_replication()
            .bucket(&name)
            .send()
            .await
            .expect("GetBucketReplication");
    assert_eq!(
        rules.replication_configuration().unwrap().rules()[0].id(),
        Some("logs")
    );
    let calls = requests_for(&name).await;
    let puts: Vec<&str> = operations(&calls)
        .into_iter()
        .filter(|op| ["PutBucketVersioning", "PutBucketReplication"].contains(op))
        .collect();
    assert_eq!(puts, ["PutBucketVersioning", "PutBucketReplication"]);
    let before = calls.len();

    // One patch drops replication and suspends versioning: AWS refuses to suspend versioning
    // under replication (409 InvalidBucketState), so replication is deleted first.
    w.patch(
        &name,
        json!({"spec": {"replication": null, "versioning": {"status": "Suspended"}}}),
    )
    .await;
    w.aws_versioning_becomes(&name, "Suspended").await;
    let b = eventually("replication no longer declared and Synced", || async {
        let b = w.api.get(&name).await.unwrap();
        let synced = condition(&b, SYNCED).is_some_and(|c| c.0 == "True");
        (declared(&b) == ["versioning"] && synced).then_some(b)
    })
    .await;
    assert!(condition(&b, TERMINAL).is_none_or(|c| c.0 != "True"));
    let gone = w.s3.get_bucket_replication().bucket(&name).send().await;
    assert_eq!(
        gone.err()
            .and_then(|e| e.code().map(str::to_string))
            .as_deref(),
        Some("ReplicationConfigurationNotFoundError")
    );
    let calls = requests_for(&name).await;
    let writes: Vec<(&str, bool)> = calls[before..]
        .iter()
        .filter(|r| r.operation.starts_with("Put") || r.operation.starts_with("Delete"))
        .map(|r| (r.operation.as_str(), r.status < 300))
        .collect();
    assert_eq!(
        writes,
        [
            ("DeleteBucketReplication", true),
            ("PutBucketVersioning", true)
        ],
        "replication deleted, then versioning suspended, nothing refused"
    );
    w.delete(&name).await;
}

/// The writes (Put / Delete calls) about a bucket since `from` calls, with whether each succeeded.
async fn writes_since(name: &str, from: usize) -> Vec<(String, bool)> {
    requests_for(name).await[from..]
        .iter()
        .filter(|r| r.operation.starts_with("Put") || r.operation.starts_with("Delete"))
        .filter(|r| r.operation != "PutBucketTagging")
        .map(|r| (r.operation.clone(), r.status < 300))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acl_on_an_existing_bucket_lets_logging_deliver_to_it() {
    let w = world("s3-acl").await;
    let name = unique("acl");
    w.create(&bucket(&name, json!({"name": name}), &[])).await;
    w.synced(&name).await;
    let before = quiet(&name).await;

    // As ACK's bucket_logging.yaml, on a bucket that exists: logging into the bucket itself
    // needs the log-delivery group's grants, which the ACL gives; it is put first.
    w.patch(
        &name,
        json!({"spec": {
            "acl": "log-delivery-write",
            "logging": {"loggingEnabled": {"targetBucket": name, "targetPrefix": "logging-"}},
        }}),
    )
    .await;
    let b = eventually("Synced with the ACL and logging declared", || async {
        let b = w.api.get(&name).await.unwrap();
        let synced = condition(&b, SYNCED).is_some_and(|c| c.0 == "True");
        (synced && declared(&b) == ["acl", "logging"]).then_some(b)
    })
    .await;
    assert!(
        condition(&b, TERMINAL).is_none_or(|c| c.0 != "True"),
        "{:?}",
        condition(&b, TERMINAL)
    );
    assert_eq!(
        writes_since(&name, before).await,
        [
            ("PutBucketAcl".to_string(), true),
            ("PutBucketLogging".to_string(), true)
        ]
    );
    let acl = w.s3.get_bucket_acl().bucket(&name).send().await.unwrap();
    let log_delivery: Vec<&str> = acl
        .grants()
        .iter()
        .filter(|g| {
            g.grantee().and_then(|g| g.uri())
                == Some("http://acs.amazonaws.com/groups/s3/LogDelivery")
        })
        .filter_map(|g| g.permission().map(|p| p.as_str()))
        .collect();
    assert_eq!(log_delivery.len(), 2, "{log_delivery:?}");
    assert!(log_delivery.contains(&"WRITE") && log_delivery.contains(&"READ_ACP"));
    let logging =
        w.s3.get_bucket_logging()
            .bucket(&name)
            .send()
            .await
            .unwrap();
    assert_eq!(
        logging.logging_enabled().map(|l| l.target_bucket()),
        Some(name.as_str())
    );

    // In sync: a resync reads the ACL and logging back and writes nothing.
    let resync = resync_calls(&w, &name, 1).await;
    assert_eq!(
        operations(&resync),
        [
            "HeadBucket",
            "GetBucketAcl",
            "GetBucketLogging",
            "GetBucketTagging"
        ]
    );

    // Grant headers instead of a canned ACL: the owner keeps full control, everyone may read.
    let owner = acl.owner().and_then(|o| o.id()).unwrap().to_string();
    let before = quiet(&name).await;
    w.patch(
        &name,
        json!({"spec": {
            "acl": null,
            "logging": null,
            "grantFullControl": format!("id={owner}"),
            "grantRead": "uri=http://acs.amazonaws.com/groups/global/AllUsers",
        }}),
    )
    .await;
    eventually("the grants in AWS and Synced", || async {
        let b = w.api.get(&name).await.unwrap();
        let synced = condition(&b, SYNCED).is_some_and(|c| c.0 == "True");
        let acl = w.s3.get_bucket_acl().bucket(&name).send().await.unwrap();
        let all_users_read = acl.grants().iter().any(|g| {
            g.grantee().and_then(|g| g.uri())
                == Some("http://acs.amazonaws.com/groups/global/AllUsers")
                && g.permission().map(|p| p.as_str()) == Some("READ")
        });
        (synced && all_users_read && declared(&b) == ["acl"]).then_some(())
    })
    .await;
    let logging =
        w.s3.get_bucket_logging()
            .bucket(&name)
            .send()
            .await
            .unwrap();
    assert!(logging.logging_enabled().is_none(), "logging undone");
    // Logging (after the ACL in the order) is undone first, then the ACL put.
    assert_eq!(
        writes_since(&name, before).await,
        [
            ("PutBucketLogging".to_string(), true),
            ("PutBucketAcl".to_string(), true)
        ]
    );
    let resync = resync_calls(&w, &name, 2).await;
    assert_eq!(
        operations(&resync),
        ["HeadBucket", "GetBucketAcl", "GetBucketTagging"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_ownership_is_applied_to_an_existing_bucket() {
    let w = world("s3-ownership").await;
    let name = unique("ownership");
    w.create(&bucket(&name, json!({"name": name}), &[])).await;
    w.synced(&name).await;
    let ownership = |w: &World| {
        let s3 = w.s3.clone();
        let name = name.clone();
        async move {
            match s3
                .get_bucket_ownership_controls()
                .bucket(&name)
                .send()
                .await
            {
                Ok(o) => o
                    .ownership_controls()
                    .and_then(|c| c.rules().first())
                    .map(|r| r.object_ownership().as_str().to_string()),
                Err(e) if e.code() == Some("OwnershipControlsNotFoundError") => None,
                Err(e) => panic!("GetBucketOwnershipControls: {e:?}"),
            }
        }
    };
    w.patch(
        &name,
        json!({"spec": {"objectOwnership": "BucketOwnerPreferred"}}),
    )
    .await;
    eventually("ownership in AWS and Synced", || async {
        let b = w.api.get(&name).await.unwrap();
        let synced = condition(&b, SYNCED).is_some_and(|c| c.0 == "True");
        let aws = ownership(&w).await;
        (synced
            && declared(&b) == ["objectOwnership"]
            && aws.as_deref() == Some("BucketOwnerPreferred"))
        .then_some(())
    })
    .await;
    let resync = resync_calls(&w, &name, 1).await;
    assert_eq!(
        operations(&resync),
        [
            "HeadBucket",
            "GetBucketOwnershipControls",
            "GetBucketTagging"
        ]
    );

    // `ownershipControls` saying otherwise is a spec error, found before any write (the
    // ownership setter comes first in the order).
    let before = quiet(&name).await;
    w.patch(
        &name,
        json!({"spec": {"objectOwnership": "ObjectWriter", "ownershipControls": {"rules": [{"objectOwnership": "BucketOwnerEnforced"}]}}}),
    )
    .await;
    let b = w.wait_for(&name, TERMINAL, "True").await;
    let (_, _, message) = condition(&b, TERMINAL).unwrap();
    assert!(message.contains("spec.objectOwnership"), "{message}");
    assert_eq!(
        ownership(&w).await.as_deref(),
        Some("BucketOwnerPreferred"),
        "nothing written"
    );
    assert_eq!(writes_since(&name, before).await, []);

    // Dropped: the ownership controls are deleted.
    w.patch(
        &name,
        json!({"spec": {"objectOwnership": null, "ownershipControls": null}}),
    )
    .await;
    eventually("ownership controls gone and Synced", || async {
        let b = w.api.get(&name).await.unwrap();
        let synced = condition(&b, SYNCED).is_some_and(|c| c.0 == "True");
        (synced && declared(&b).is_empty() && ownership(&w).await.is_none()).then_some(())
    })
    .await;
    w.delete(&name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_lock_is_enabled_on_an_existing_bucket_and_never_turned_off() {
    let w = world("s3-lock-enable").await;
    let name = unique("lock-enable");
    w.create(&bucket(
        &name,
        json!({"name": name, "versioning": {"status": "Enabled"}}),
        &[],
    ))
    .await;
    w.synced(&name).await;
    let lock = |w: &World| {
        let s3 = w.s3.clone();
        let name = name.clone();
        async move {
            match s3
                .get_object_lock_configuration()
                .bucket(&name)
                .send()
                .await
            {
                Ok(o) => o
                    .object_lock_configuration()
                    .and_then(|c| c.object_lock_enabled())
                    .map(|e| e.as_str().to_string()),
                Err(e) if e.code() == Some("ObjectLockConfigurationNotFoundError") => None,
                Err(e) => panic!("GetObjectLockConfiguration: {e:?}"),
            }
        }
    };
    assert_eq!(lock(&w).await, None);

    w.patch(&name, json!({"spec": {"objectLockEnabledForBucket": true}}))
        .await;
    eventually("Object Lock enabled in AWS and Synced", || async {
        let b = w.api.get(&name).await.unwrap();
        let synced = condition(&b, SYNCED).is_some_and(|c| c.0 == "True");
        let declares = declared(&b) == ["objectLockEnabledForBucket", "versioning"];
        (synced && declares && lock(&w).await.as_deref() == Some("Enabled")).then_some(())
    })
    .await;
    let resync = resync_calls(&w, &name, 1).await;
    assert_eq!(
        operations(&resync),
        [
            "HeadBucket",
            "GetBucketVersioning",
            "GetObjectLockConfiguration",
            "GetBucketTagging"
        ]
    );

    // It cannot be turned off: Terminal, saying so, and AWS keeps it.
    w.patch(
        &name,
        json!({"spec": {"objectLockEnabledForBucket": false}}),
    )
    .await;
    let b = w.wait_for(&name, TERMINAL, "True").await;
    let (_, _, message) = condition(&b, TERMINAL).unwrap();
    assert!(message.contains("cannot be turned off"), "{message}");
    assert_eq!(condition(&b, SYNCED).map(|c| c.0).as_deref(), Some("False"));
    assert_eq!(lock(&w).await.as_deref(), Some("Enabled"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adoption_writes_only_what_aws_has() {
    let w = world("s3-adopt-only").await;
    // One bucket whose only tags are system tags, one without any tag.
    let system_only = unique("adopt-sys");
    let untagged = unique("adopt-none");
    for name in [&system_only, &untagged] {
        w.make_bucket(name).await;
    }
    let (n, s) = (
        system_only.clone(),
        tags(&[("aws:cloudformation:stack-name", "stack-2")]),
    );
    tokio::task::spawn_blocking(move || TestEnv::get().emulator().set_system_tags("s3", &n, &s))
        .await
        .unwrap()
        .expect("giving the bucket system tags");
    for name in [&system_only, &untagged] {
        let fields = json!({ "name": name }).to_string();
        let annotations = [
            ("services.k8s.aws/adoption-policy", "adopt"),
            ("services.k8s.aws/adoption-fields", fields.as_str()),
        ];
        w.create(&bucket(name, json!({"name": name}), &annotations))
            .await;
    }
    let spec = |b: &Bucket| serde_json::to_value(&b.spec).unwrap();
    // As ACK: the tag structure AWS answered, without an empty list in it.
    let adopted = w.synced(&system_only).await;
    assert_eq!(spec(&adopted)["tagging"], json!({}), "{}", spec(&adopted));
    // No tags at all: no tagging. A new bucket's own ACL (private), ownership and object lock
    // (off) are AWS's defaults, so nothing else enters the spec.
    let adopted = w.synced(&untagged).await;
    assert_eq!(spec(&adopted), json!({"name": untagged}));
    assert!(declared(&adopted).is_empty(), "{:?}", declared(&adopted));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_bucket_is_looked_up_as_missing_and_its_create_failure_reported() {
    let w = world("s3-directory").await;
    let name = format!("{}--usw2-az1--x-s3", unique("dir"));
    // As ACK's directory_bucket.yaml.
    let spec = json!({
        "name": name,
        "createBucketConfiguration": {
            "bucket": {"type": "Directory", "dataRedundancy": "SingleAvailabilityZone"},
            "location": {"name": "usw2-az1", "type": "AvailabilityZone"},
        },
    });
    w.create(&bucket(&name, spec, &[])).await;
    // The S3 Express session the SDK opens before HeadBucket answers NoSuchBucket: the bucket
    // is not found, so it is created. The emulator has no directory buckets, and with a custom
    // endpoint the SDK opens a session before CreateBucket too, which finds nothing: the
    // condition says so (not a lookup failing forever as a dispatch failure).
    let b = eventually("the create's failure in the conditions", || async {
        let b = w.api.get(&name).await.unwrap();
        let (status, reason, message) = condition(&b, SYNCED)?;
        let failed = status == "False" && message.contains("CreateBucket answered");
        failed.then_some((reason, message))
    })
    .await;
    assert!(
        b.1.contains("NoSuchBucket") && b.1.contains("CreateSession"),
        "{b:?}"
    );
    let calls = requests_for(&name).await;
    assert!(
        calls
            .iter()
            .all(|r| r.operation == "CreateSession"
                && r.error_code.as_deref() == Some("NoSuchBucket")),
        "{calls:?}"
    );
    // Deleting finds nothing to delete: the finalizer goes.
    w.delete(&name).await;

    // Settings directory buckets do not have are refused before the bucket is created.
    let name = format!("{}--usw2-az1--x-s3", unique("dir-bad"));
    let spec = json!({"name": name, "versioning": {"status": "Enabled"}});
    w.create(&bucket(&name, spec, &[])).await;
    let b = w.wait_for(&name, TERMINAL, "True").await;
    let (_, _, message) = condition(&b, TERMINAL).unwrap();
    assert!(
        message.contains("directory buckets") && message.contains("versioning"),
        "{message}"
    );
    w.delete(&name).await;
}
