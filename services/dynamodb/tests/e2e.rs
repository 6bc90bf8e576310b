//! End to end: the generated Table manager in the runtime's controller, against a real
//! kube-apiserver and the AWS emulator over HTTP with the real SDK. Each test runs its own
//! controller watching its own namespace; the emulator is shared, so table names are unique.
//! AWS state is always checked by reading AWS.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ack_dynamodb::{Table, TableManager};
use ack_runtime::aws::CallCounter;
use ack_runtime::field_export::{self, FieldExport};
use ack_runtime::metrics::Metrics;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ProvisionedThroughput,
    ScalarAttributeType, StreamViewType, TableDescription, Tag,
};
use k8s_openapi::api::core::v1::Secret;
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
    api: Api<Table>,
    ddb: aws_sdk_dynamodb::Client,
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
    let crd = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crds/dynamodb.services.k8s.aws_tables.yaml");
    env.install_crds(&[&crd])
        .await
        .expect("installing the Table CRD");
    let client = env.client().await;
    let namespace = env.namespace(prefix).await;
    let sdk = env.aws().await;
    let metrics = Metrics::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .interceptor(CallCounter {
            service: "dynamodb",
            metrics: metrics.clone(),
        })
        .build();
    let manager = TableManager::new(aws_sdk_dynamodb::Client::from_conf(config));
    let controller =
        testenv::spawn_controller(env, manager, client.clone(), &namespace, 2, metrics);
    World {
        api: Api::namespaced(client, &namespace),
        ddb: aws_sdk_dynamodb::Client::new(&sdk),
        namespace,
        controller,
    }
}

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

fn table(name: &str, spec: Value, annotations: &[(&str, &str)]) -> Table {
    let annotations: BTreeMap<&str, &str> = annotations.iter().copied().collect();
    serde_json::from_value(json!({
        "apiVersion": "dynamodb.services.k8s.aws/v1alpha1",
        "kind": "Table",
        "metadata": { "name": name, "annotations": annotations },
        "spec": spec,
    }))
    .expect("a valid Table")
}

/// A PAY_PER_REQUEST table with a hash and range key and one global secondary index.
fn basic_spec(name: &str) -> Value {
    json!({
        "tableName": name,
        "billingMode": "PAY_PER_REQUEST",
        "attributeDefinitions": [
            {"attributeName": "pk", "attributeType": "S"},
            {"attributeName": "sk", "attributeType": "S"},
            {"attributeName": "owner", "attributeType": "S"},
        ],
        "keySchema": [
            {"attributeName": "pk", "keyType": "HASH"},
            {"attributeName": "sk", "keyType": "RANGE"},
        ],
        "globalSecondaryIndexes": [{
            "indexName": "by-owner",
            "keySchema": [{"attributeName": "owner", "keyType": "HASH"}],
            "projection": {"projectionType": "ALL"},
        }],
    })
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
fn condition(table: &Table, type_: &str) -> Option<(String, String, String)> {
    let conditions = table.status.as_ref()?.conditions.as_ref()?;
    conditions.iter().find(|c| c.type_ == type_).map(|c| {
        (
            c.status.clone(),
            c.reason.clone().unwrap_or_default(),
            c.message.clone().unwrap_or_default(),
        )
    })
}

fn arn_of(table: &Table) -> String {
    table
        .status
        .as_ref()
        .and_then(|s| s.ack_resource_metadata.as_ref())
        .and_then(|m| m.arn.clone())
        .expect("status.ackResourceMetadata.arn")
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The CR's tag list as a map.
fn cr_tags(table: &Table) -> Option<BTreeMap<String, String>> {
    table.spec.tags.as_ref().map(|list| {
        list.iter()
            .map(|t| {
                (
                    t.key.clone().unwrap_or_default(),
                    t.value.clone().unwrap_or_default(),
                )
            })
            .collect()
    })
}

impl World {
    async fn create(&self, table: &Table) {
        self.api
            .create(&PostParams::default(), table)
            .await
            .expect("creating the Table");
    }

    async fn wait_for(&self, name: &str, type_: &str, status: &str) -> Table {
        testenv::wait_for_condition(&self.api, name, type_, status, TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    async fn synced(&self, name: &str) -> Table {
        self.wait_for(name, SYNCED, "True").await
    }

    async fn patch(&self, name: &str, patch: Value) {
        self.api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("patching the Table");
    }

    async fn delete(&self, name: &str) {
        self.api
            .delete(name, &DeleteParams::default())
            .await
            .expect("deleting the Table");
        let api = self.api.clone();
        eventually(&format!("{name} to be gone"), || {
            let api = api.clone();
            async move { api.get_opt(name).await.unwrap().is_none().then_some(()) }
        })
        .await;
    }

    /// The table as AWS describes it; `None` when it does not exist.
    async fn aws_table(&self, name: &str) -> Option<TableDescription> {
        match self.ddb.describe_table().table_name(name).send().await {
            Ok(output) => output.table,
            Err(e) => {
                assert_eq!(
                    e.code(),
                    Some("ResourceNotFoundException"),
                    "DescribeTable {name}: {e:?}"
                );
                None
            }
        }
    }

    async fn aws_tags(&self, arn: &str) -> BTreeMap<String, String> {
        let mut all = BTreeMap::new();
        let mut token = None;
        loop {
            let output = self
                .ddb
                .list_tags_of_resource()
                .resource_arn(arn)
                .set_next_token(token)
                .send()
                .await
                .expect("ListTagsOfResource");
            all.extend(
                output
                    .tags
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| (t.key, t.value)),
            );
            token = output.next_token;
            if token.is_none() {
                return all;
            }
        }
    }

    /// Waits until AWS's tags, less the default tags, are `user` (system tags included).
    async fn aws_tags_become(
        &self,
        arn: &str,
        user: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        eventually(&format!("tags {user:?} in AWS"), || async {
            let tags = self.aws_tags(arn).await;
            let mut without_defaults = tags.clone();
            without_defaults.retain(|k, _| !DEFAULT_TAG_KEYS.contains(&k.as_str()));
            (without_defaults == *user).then_some(tags)
        })
        .await
    }

    /// Waits until AWS's description of the table satisfies `check`.
    async fn aws_table_becomes(
        &self,
        name: &str,
        what: &str,
        check: impl Fn(&TableDescription) -> bool,
    ) -> TableDescription {
        eventually(what, || async {
            self.aws_table(name).await.filter(|t| check(t))
        })
        .await
    }

    /// The AWS calls of one steady-state resync (asked for with an annotation), after checking
    /// that nothing else followed it.
    async fn resync_calls(&self, name: &str, marker: &str) -> Vec<String> {
        let before = quiet(name).await;
        self.patch(
            name,
            json!({"metadata": {"annotations": {"services.k8s.aws/refresh-requested-at": marker}}}),
        )
        .await;
        let resync = eventually("a resync's calls", || async {
            let calls = requests_for(name).await;
            calls[before..]
                .iter()
                .any(|r| r.operation == "ListTagsOfResource")
                .then(|| calls[before..].to_vec())
        })
        .await;
        let after = quiet(name).await;
        assert_eq!(
            after - before,
            resync.len(),
            "nothing else followed the resync"
        );
        let ops: Vec<String> = resync.iter().map(|r| r.operation.clone()).collect();
        eprintln!(
            "steady-state resync of Table {name}: {} AWS calls: {ops:?}",
            ops.len()
        );
        ops
    }

    /// The tags the controller adds itself to what the CR `name` holds: the default tags and
    /// the ownership stamp.
    async fn controller_tags(&self, name: &str) -> BTreeMap<String, String> {
        let mut all = tags(&[
            (
                DEFAULT_TAG_KEYS[0],
                &format!("dynamodb-{}", env!("CARGO_PKG_VERSION")),
            ),
            (DEFAULT_TAG_KEYS[1], &self.namespace),
        ]);
        let env = TestEnv::get();
        all.extend([env.owner_tag(&self.namespace, "Table", name).await]);
        all
    }

    /// A table made directly in AWS, as another tool would.
    async fn aws_create(&self, name: &str, tags: &[(&str, &str)]) -> String {
        let tags = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(*k).value(*v).build().unwrap())
            .collect::<Vec<_>>();
        let output = self
            .ddb
            .create_table()
            .table_name(name)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("id")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("id")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .billing_mode(BillingMode::Provisioned)
            .provisioned_throughput(
                ProvisionedThroughput::builder()
                    .read_capacity_units(3)
                    .write_capacity_units(2)
                    .build()
                    .unwrap(),
            )
            .set_tags(Some(tags).filter(|t| !t.is_empty()))
            .send()
            .await
            .expect("CreateTable");
        output.table_description.unwrap().table_arn.unwrap()
    }
}

/// The emulator's log of calls about one table (named by name or ARN).
async fn requests_for(name: &str) -> Vec<RecordedRequest> {
    let name = name.to_string();
    tokio::task::spawn_blocking(move || {
        let arn_suffix = format!(":table/{name}");
        TestEnv::get()
            .emulator()
            .requests()
            .expect("reading the emulator's request log")
            .into_iter()
            .filter(|r| r.service == "dynamodb")
            .filter(|r| {
                matches!(r.resource.as_deref(), Some(res) if res == name || res.ends_with(&arn_suffix))
            })
            .collect()
    })
    .await
    .unwrap()
}

/// Waits until no call about the table has been made for a second; returns how many were made.
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

/// Every object key and every string in a JSON document, at any depth.
fn all_keys_and_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                all_keys_and_strings(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| all_keys_and_strings(v, out)),
        Value::String(s) => out.push(s.clone()),
        _ => {}
    }
}

fn assert_no_system_or_default_tags(table: &Table) {
    let mut words = Vec::new();
    all_keys_and_strings(&serde_json::to_value(&table.spec).unwrap(), &mut words);
    for word in &words {
        assert!(
            !word.to_lowercase().starts_with("aws:"),
            "system tag {word} in the CR"
        );
        assert!(
            !DEFAULT_TAG_KEYS.contains(&word.as_str()),
            "default tag key {word} in the CR"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_resync_and_delete_a_protected_table() {
    let w = world("ddb-crud").await;
    let name = unique("crud");
    w.create(&table(&name, basic_spec(&name), &[])).await;
    let synced = w.synced(&name).await;

    let arn = arn_of(&synced);
    let region = &TestEnv::get().endpoints.region;
    assert_eq!(
        arn,
        format!("arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}")
    );
    let status = synced.status.as_ref().unwrap();
    assert_eq!(status.table_status.as_deref(), Some("ACTIVE"));
    assert!(status.table_id.is_some() || status.creation_date_time.is_some());
    let indexes = status
        .global_secondary_indexes_descriptions
        .as_ref()
        .unwrap();
    assert_eq!(indexes[0].index_name.as_deref(), Some("by-owner"));
    let metadata = status.ack_resource_metadata.as_ref().unwrap();
    assert_eq!(metadata.owner_account_id, ACCOUNT);
    assert_eq!(&metadata.region, region);
    let aws = w.aws_table(&name).await.expect("the table exists in AWS");
    assert_eq!(
        aws.billing_mode_summary.and_then(|b| b.billing_mode),
        Some(BillingMode::PayPerRequest)
    );
    assert_eq!(aws.key_schema.unwrap().len(), 2);
    assert_eq!(aws.global_secondary_indexes.unwrap().len(), 1);
    assert_eq!(w.aws_tags(&arn).await, w.controller_tags(&name).await);
    // Server defaults were filled into the spec (late initialisation).
    let initialised = eventually("late initialisation", || async {
        let t = w.api.get(&name).await.unwrap();
        t.spec.table_class.is_some().then_some(t)
    })
    .await;
    assert_eq!(initialised.spec.table_class.as_deref(), Some("STANDARD"));

    // One edit that needs several UpdateTable calls, a TTL call and a tag call.
    w.patch(
        &name,
        json!({"spec": {
            "tags": [{"key": "team", "value": "a"}],
            "billingMode": "PROVISIONED",
            "provisionedThroughput": {"readCapacityUnits": 5, "writeCapacityUnits": 4},
            "streamSpecification": {"streamEnabled": true, "streamViewType": "NEW_IMAGE"},
            "timeToLive": {"attributeName": "expires", "enabled": true},
            "deletionProtectionEnabled": true,
        }}),
    )
    .await;
    let aws = w
        .aws_table_becomes(&name, "the update in AWS", |t| {
            t.deletion_protection_enabled == Some(true)
                && t.stream_specification.is_some()
                && t.billing_mode_summary
                    .as_ref()
                    .and_then(|b| b.billing_mode.clone())
                    == Some(BillingMode::Provisioned)
        })
        .await;
    let throughput = aws.provisioned_throughput.unwrap();
    assert_eq!(throughput.read_capacity_units, Some(5));
    assert_eq!(throughput.write_capacity_units, Some(4));
    let stream = aws.stream_specification.unwrap();
    assert!(stream.stream_enabled);
    assert_eq!(stream.stream_view_type, Some(StreamViewType::NewImage));
    let ttl = eventually("TTL in AWS", || async {
        let d = w
            .ddb
            .describe_time_to_live()
            .table_name(&name)
            .send()
            .await
            .unwrap()
            .time_to_live_description
            .unwrap();
        (d.time_to_live_status.as_ref().map(|s| s.as_str()) == Some("ENABLED")).then_some(d)
    })
    .await;
    assert_eq!(ttl.attribute_name.as_deref(), Some("expires"));
    w.aws_tags_become(&arn, &tags(&[("team", "a")])).await;
    let cr = w.synced(&name).await;
    assert!(cr.status.as_ref().unwrap().latest_stream_arn.is_some());

    // A steady-state resync (asked for with an annotation) only reads, TTL included as the
    // spec declares it.
    assert_eq!(
        w.resync_calls(&name, "1").await,
        ["DescribeTable", "DescribeTimeToLive", "ListTagsOfResource"]
    );

    // Deleting a protected table turns protection off first.
    w.delete(&name).await;
    assert!(
        w.aws_table(&name).await.is_none(),
        "the table is deleted in AWS"
    );
    let calls = requests_for(&name).await;
    let ops = operations(&calls);
    let unprotect = ops.iter().rposition(|op| *op == "UpdateTable").unwrap();
    let delete = ops.iter().rposition(|op| *op == "DeleteTable").unwrap();
    assert!(
        unprotect < delete,
        "protection was turned off before DeleteTable: {ops:?}"
    );
    assert!(
        calls
            .iter()
            .all(|r| r.status < 400 || r.operation == "DescribeTable"),
        "no refused call: {calls:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopt_keeps_system_tags_out_of_the_cr_and_in_aws() {
    let w = world("ddb-adopt").await;
    let name = unique("adopt");
    let arn = w.aws_create(&name, &[("owner", "team-x")]).await;
    let system = tags(&[
        ("aws:cloudformation:stack-name", "stack-1"),
        ("aws:cloudformation:logical-id", "Table"),
    ]);
    let (a, s) = (arn.clone(), system.clone());
    tokio::task::spawn_blocking(move || {
        TestEnv::get()
            .emulator()
            .set_system_tags("dynamodb", &a, &s)
    })
    .await
    .unwrap()
    .expect("giving the table system tags");

    let fields = json!({ "tableName": name }).to_string();
    let annotations = [
        ("services.k8s.aws/adoption-policy", "adopt"),
        ("services.k8s.aws/adoption-fields", fields.as_str()),
    ];
    // The spec names the table and its key schema (immutable in the CRD, so it cannot be
    // filled in later); adoption fills the rest.
    let spec = json!({
        "tableName": name,
        "attributeDefinitions": [],
        "keySchema": [{"attributeName": "id", "keyType": "HASH"}],
    });
    w.create(&table(&name, spec, &annotations)).await;
    let adopted = eventually("the adopted spec", || async {
        let t = w.api.get(&name).await.unwrap();
        (!t.spec.attribute_definitions.is_empty()
            && condition(&t, SYNCED).is_some_and(|c| c.0 == "True"))
        .then_some(t)
    })
    .await;
    let annotations = adopted.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        annotations
            .get("services.k8s.aws/adopted")
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(
        adopted.spec.attribute_definitions[0]
            .attribute_name
            .as_deref(),
        Some("id")
    );
    assert_eq!(adopted.spec.billing_mode.as_deref(), Some("PROVISIONED"));
    assert_eq!(
        adopted
            .spec
            .provisioned_throughput
            .as_ref()
            .unwrap()
            .read_capacity_units,
        Some(3)
    );
    assert_eq!(cr_tags(&adopted), Some(tags(&[("owner", "team-x")])));
    assert_eq!(arn_of(&adopted), arn);
    assert_no_system_or_default_tags(&adopted);

    // Edit the tags and one setting of the adopted table.
    w.patch(
        &name,
        json!({"spec": {
            "tags": [{"key": "owner", "value": "team-y"}, {"key": "env", "value": "prod"}],
            "provisionedThroughput": {"readCapacityUnits": 7, "writeCapacityUnits": 2},
        }}),
    )
    .await;
    w.aws_table_becomes(&name, "new capacity in AWS", |t| {
        t.provisioned_throughput
            .as_ref()
            .is_some_and(|p| p.read_capacity_units == Some(7))
    })
    .await;
    let mut expected = system.clone();
    expected.extend(tags(&[("owner", "team-y"), ("env", "prod")]));
    let aws = w.aws_tags_become(&arn, &expected).await;
    for (k, v) in &system {
        assert_eq!(aws.get(k), Some(v), "system tag {k} kept its value");
    }
    let cr = w.synced(&name).await;
    assert_no_system_or_default_tags(&cr);
    let rejected: Vec<_> = requests_for(&name)
        .await
        .into_iter()
        .filter(|r| r.status >= 400)
        .collect();
    assert!(
        rejected.is_empty(),
        "rejected calls for the adopted table: {rejected:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopt_or_create_adopts_when_found_and_creates_when_not() {
    let w = world("ddb-adopt-or-create").await;
    let found = unique("aoc-found");
    let found_arn = w.aws_create(&found, &[]).await;
    let missing = unique("aoc-missing");

    for name in [&found, &missing] {
        let fields = json!({ "tableName": name }).to_string();
        let annotations = [
            ("services.k8s.aws/adoption-policy", "adopt-or-create"),
            ("services.k8s.aws/adoption-fields", fields.as_str()),
        ];
        let spec = json!({
            "tableName": name,
            "attributeDefinitions": [{"attributeName": "id", "attributeType": "S"}],
            "keySchema": [{"attributeName": "id", "keyType": "HASH"}],
            "billingMode": "PROVISIONED",
            "provisionedThroughput": {"readCapacityUnits": 9, "writeCapacityUnits": 2},
        });
        w.create(&table(name, spec, &annotations)).await;
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
    assert_eq!(arn_of(&adopted), found_arn);
    w.aws_table_becomes(&found, "the adopted table driven to the spec", |t| {
        t.provisioned_throughput
            .as_ref()
            .is_some_and(|p| p.read_capacity_units == Some(9))
    })
    .await;

    w.synced(&missing).await;
    let created = w
        .aws_table(&missing)
        .await
        .expect("the missing table was created");
    assert_eq!(
        created.provisioned_throughput.unwrap().read_capacity_units,
        Some(9)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retain_keeps_the_table_after_the_cr_is_deleted() {
    let w = world("ddb-retain").await;
    let name = unique("retain");
    let annotations = [("services.k8s.aws/deletion-policy", "retain")];
    w.create(&table(&name, basic_spec(&name), &annotations))
        .await;
    let arn = arn_of(&w.synced(&name).await);
    w.delete(&name).await;
    let aws = w.aws_table(&name).await.expect("the table is kept");
    assert_eq!(aws.table_arn.as_deref(), Some(arn.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_tags_and_streamless_replicas_are_terminal_before_any_write() {
    let w = world("ddb-bad-tags").await;
    let name = unique("aws-tag");
    let mut spec = basic_spec(&name);
    spec["tags"] = json!([{"key": "aws:team", "value": "x"}]);
    w.create(&table(&name, spec, &[])).await;
    let cr = w.wait_for(&name, TERMINAL, "True").await;
    let (_, reason, message) = condition(&cr, TERMINAL).unwrap();
    assert_eq!(reason, "InvalidTags");
    assert!(message.contains("aws:team"), "{message}");
    assert!(w.aws_table(&name).await.is_none(), "{name} was not created");
    let calls = requests_for(&name).await;
    assert_eq!(
        operations(&calls),
        ["DescribeTable"],
        "only the test's own look-up touched AWS"
    );

    // Replicas without the stream they copy through: refused before CreateTable.
    let replicated = unique("replicas");
    let mut spec = basic_spec(&replicated);
    spec["tableReplicas"] = json!([{"regionName": "eu-west-1"}]);
    w.create(&table(&replicated, spec, &[])).await;
    let cr = w.wait_for(&replicated, TERMINAL, "True").await;
    let (_, reason, message) = condition(&cr, TERMINAL).unwrap();
    assert_eq!(reason, "InvalidSpec");
    assert!(
        message.contains("spec.tableReplicas") && message.contains("NEW_AND_OLD_IMAGES"),
        "{message}"
    );
    let calls = requests_for(&replicated).await;
    let writes: Vec<_> = operations(&calls)
        .into_iter()
        .filter(|op| *op != "DescribeTable")
        .collect();
    assert!(writes.is_empty(), "nothing was written: {writes:?}");
    assert!(w.aws_table(&replicated).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_schema_changes_are_refused() {
    let w = world("ddb-immutable").await;
    let name = unique("immutable");
    w.create(&table(&name, basic_spec(&name), &[])).await;
    w.synced(&name).await;

    // keySchema carries the CRD's immutability rule: the API server refuses the edit.
    let refused = w
        .api
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(
                json!({"spec": {"keySchema": [{"attributeName": "sk", "keyType": "HASH"}]}}),
            ),
        )
        .await
        .expect_err("the API server refuses a new keySchema");
    assert!(refused.to_string().contains("immutable"), "{refused}");

    // A CR that takes over an existing table with another key schema reaches the manager,
    // which refuses it before changing anything.
    let other = unique("immutable-adopt");
    w.aws_create(&other, &[]).await;
    let fields = json!({ "tableName": other }).to_string();
    let annotations = [
        ("services.k8s.aws/adoption-policy", "adopt-or-create"),
        ("services.k8s.aws/adoption-fields", fields.as_str()),
    ];
    let mut spec = basic_spec(&other);
    spec["deletionProtectionEnabled"] = json!(true);
    w.create(&table(&other, spec, &annotations)).await;
    let cr = w.wait_for(&other, TERMINAL, "True").await;
    let (_, reason, message) = condition(&cr, TERMINAL).unwrap();
    assert_eq!(reason, "ImmutableFieldChanged");
    assert!(message.contains("spec.keySchema"), "{message}");
    quiet(&other).await;
    let calls = requests_for(&other).await;
    let writes: Vec<_> = operations(&calls)
        .into_iter()
        .filter(|op| !op.starts_with("Describe") && !op.starts_with("List"))
        .collect();
    assert_eq!(
        writes,
        ["CreateTable"],
        "only the test's own CreateTable wrote"
    );
    let aws = w.aws_table(&other).await.unwrap();
    assert_eq!(aws.key_schema.unwrap()[0].attribute_name, "id");
    assert_ne!(aws.deletion_protection_enabled, Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexes_are_added_and_removed_one_per_call() {
    let w = world("ddb-indexes").await;
    let name = unique("indexes");
    w.create(&table(&name, basic_spec(&name), &[])).await;
    w.synced(&name).await;
    let before = quiet(&name).await;

    // Replace by-owner with by-sk: one deletion, then one creation.
    w.patch(
        &name,
        json!({"spec": {"globalSecondaryIndexes": [{
            "indexName": "by-sk",
            "keySchema": [{"attributeName": "sk", "keyType": "HASH"}],
            "projection": {"projectionType": "KEYS_ONLY"},
        }]}}),
    )
    .await;
    let aws = w
        .aws_table_becomes(&name, "by-sk alone in AWS", |t| {
            let names: Vec<_> = t
                .global_secondary_indexes
                .iter()
                .flatten()
                .filter_map(|g| g.index_name.as_deref())
                .collect();
            names == ["by-sk"]
        })
        .await;
    let index = &aws.global_secondary_indexes.unwrap()[0];
    assert_eq!(index.key_schema.as_ref().unwrap()[0].attribute_name, "sk");
    let cr = w.synced(&name).await;
    let described: Vec<_> = cr
        .status
        .unwrap()
        .global_secondary_indexes_descriptions
        .unwrap_or_default()
        .into_iter()
        .filter_map(|d| d.index_name)
        .collect();
    assert_eq!(described, ["by-sk"]);
    // Without TTL in the spec a resync is one read and one tag read.
    assert_eq!(
        w.resync_calls(&name, "1").await,
        ["DescribeTable", "ListTagsOfResource"]
    );
    quiet(&name).await;
    let calls = requests_for(&name).await;
    let updates = operations(&calls[before..])
        .into_iter()
        .filter(|op| *op == "UpdateTable")
        .count();
    assert_eq!(updates, 2, "one UpdateTable per index change");
}

/// The conditions a controller wrote are cleared (a status write starts no reconcile), so the
/// next `ACK.ResourceSynced=True` can only come from a reconcile of what follows.
async fn forget_conditions(w: &World, name: &str) {
    w.api
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(&json!({"status": {"conditions": []}})),
        )
        .await
        .expect("clearing the conditions");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_of_several_calls_is_synced_only_once_aws_has_all_of_it() {
    let w = world("ddb-pending").await;
    let name = unique("pending");
    let mut spec = basic_spec(&name);
    spec["billingMode"] = json!("PROVISIONED");
    spec["provisionedThroughput"] = json!({"readCapacityUnits": 2, "writeCapacityUnits": 2});
    spec["globalSecondaryIndexes"][0]["provisionedThroughput"] =
        json!({"readCapacityUnits": 1, "writeCapacityUnits": 1});
    w.create(&table(&name, spec, &[])).await;
    w.synced(&name).await;
    quiet(&name).await;

    // On-demand, and by-owner replaced by an index on a new attribute: billing, one index
    // deletion and one index creation, each its own UpdateTable call.
    forget_conditions(&w, &name).await;
    w.patch(
        &name,
        json!({"spec": {
            "billingMode": "PAY_PER_REQUEST",
            "provisionedThroughput": null,
            "attributeDefinitions": [
                {"attributeName": "pk", "attributeType": "S"},
                {"attributeName": "sk", "attributeType": "S"},
                {"attributeName": "email", "attributeType": "S"},
            ],
            "globalSecondaryIndexes": [{
                "indexName": "by-email",
                "keySchema": [{"attributeName": "email", "keyType": "HASH"}],
                "projection": {"projectionType": "ALL"},
            }],
        }}),
    )
    .await;
    let cr = testenv::wait_for_condition(&w.api, &name, SYNCED, "True", Duration::from_secs(90))
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    // Synced means AWS has all of it at that moment (nothing is left for a later reconcile).
    let aws = w.aws_table(&name).await.expect("the table exists");
    assert_eq!(
        aws.billing_mode_summary.and_then(|b| b.billing_mode),
        Some(BillingMode::PayPerRequest)
    );
    let indexes: Vec<_> = aws
        .global_secondary_indexes
        .iter()
        .flatten()
        .filter_map(|g| g.index_name.clone())
        .collect();
    assert_eq!(indexes, ["by-email"]);
    let described: Vec<_> = cr
        .status
        .unwrap()
        .global_secondary_indexes_descriptions
        .unwrap_or_default()
        .into_iter()
        .filter_map(|d| d.index_name)
        .collect();
    assert_eq!(described, ["by-email"], "the status shows what AWS has");
    let calls = requests_for(&name).await;
    assert!(
        calls
            .iter()
            .all(|r| r.status < 400 || r.operation == "DescribeTable"),
        "no refused call: {calls:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turning_a_stream_off_sends_stream_enabled_false_alone() {
    let w = world("ddb-stream-off").await;
    let name = unique("stream-off");
    let mut spec = basic_spec(&name);
    spec["streamSpecification"] =
        json!({"streamEnabled": true, "streamViewType": "NEW_AND_OLD_IMAGES"});
    w.create(&table(&name, spec, &[])).await;
    w.synced(&name).await;
    w.aws_table_becomes(&name, "the stream on in AWS", |t| {
        t.stream_specification
            .as_ref()
            .is_some_and(|s| s.stream_enabled)
    })
    .await;
    quiet(&name).await;
    let before = requests_for(&name).await.len();

    // A merge patch leaves the old view type beside `streamEnabled: false`; DynamoDB refuses
    // a view type with a stream being turned off.
    forget_conditions(&w, &name).await;
    w.patch(
        &name,
        json!({"spec": {"streamSpecification": {"streamEnabled": false}}}),
    )
    .await;
    let cr = w.synced(&name).await;
    assert_eq!(
        cr.spec
            .stream_specification
            .as_ref()
            .and_then(|s| s.stream_view_type.as_deref()),
        Some("NEW_AND_OLD_IMAGES"),
        "the spec keeps what the user left there"
    );
    let aws = w.aws_table(&name).await.expect("the table exists");
    assert!(
        !aws.stream_specification.is_some_and(|s| s.stream_enabled),
        "the stream is off in AWS"
    );
    let calls = requests_for(&name).await;
    let updates: Vec<_> = calls[before..]
        .iter()
        .filter(|r| r.operation == "UpdateTable")
        .collect();
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert!(updates[0].status < 400, "UpdateTable accepted: {updates:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class_encryption_on_demand_throughput_and_contributor_insights_are_applied_and_read_back()
{
    let w = world("ddb-settings").await;
    let name = unique("settings");
    w.create(&table(&name, basic_spec(&name), &[])).await;
    w.synced(&name).await;
    quiet(&name).await;

    forget_conditions(&w, &name).await;
    w.patch(
        &name,
        json!({"spec": {
            "tableClass": "STANDARD_INFREQUENT_ACCESS",
            "sseSpecification": {"enabled": true, "sseType": "KMS"},
            "onDemandThroughput": {"maxReadRequestUnits": 10, "maxWriteRequestUnits": 5},
            "contributorInsights": "ENABLE",
        }}),
    )
    .await;
    let cr = w.synced(&name).await;
    let aws = w.aws_table(&name).await.expect("the table exists");
    assert_eq!(
        aws.table_class_summary
            .and_then(|c| c.table_class)
            .map(|c| c.as_str().to_string())
            .as_deref(),
        Some("STANDARD_INFREQUENT_ACCESS")
    );
    let sse = aws.sse_description.expect("SSE in AWS");
    assert_eq!(
        sse.status.map(|s| s.as_str().to_string()).as_deref(),
        Some("ENABLED")
    );
    let on_demand = aws
        .on_demand_throughput
        .expect("on-demand throughput in AWS");
    assert_eq!(on_demand.max_read_request_units, Some(10));
    assert_eq!(on_demand.max_write_request_units, Some(5));
    let insights = w
        .ddb
        .describe_contributor_insights()
        .table_name(&name)
        .send()
        .await
        .expect("DescribeContributorInsights");
    assert_eq!(
        insights
            .contributor_insights_status
            .map(|s| s.as_str().to_string())
            .as_deref(),
        Some("ENABLED")
    );
    // What the spec says is what was read back (Synced compares them).
    let status = cr.status.unwrap();
    assert_eq!(status.table_status.as_deref(), Some("ACTIVE"));
    assert_eq!(
        cr.spec.sse_specification.and_then(|s| s.enabled),
        Some(true)
    );

    // Turned off again: encryption back to an AWS owned key, insights disabled.
    forget_conditions(&w, &name).await;
    w.patch(
        &name,
        json!({"spec": {
            "sseSpecification": {"enabled": false, "sseType": null},
            "contributorInsights": "DISABLE",
        }}),
    )
    .await;
    w.synced(&name).await;
    let aws = w.aws_table(&name).await.expect("the table exists");
    assert!(aws.sse_description.is_none(), "{:?}", aws.sse_description);
    let calls = requests_for(&name).await;
    assert!(
        calls
            .iter()
            .all(|r| r.status < 400 || r.operation == "DescribeTable"),
        "no refused call: {calls:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_export_writes_the_table_arn_into_a_secret_and_cleans_it_up() {
    let env = TestEnv::get();
    let crd =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crds/services.k8s.aws_fieldexports.yaml");
    env.install_crds(&[&crd])
        .await
        .expect("installing the FieldExport CRD");
    let w = world("ddb-export").await;
    let client = env.client().await;
    let exporter = tokio::spawn(field_export::run(
        client.clone(),
        vec![kube::api::ApiResource::erase::<Table>(&())],
        field_export::Options {
            watch_namespaces: vec![w.namespace.clone()],
            enable_cross_namespace: true,
            resync: Duration::from_secs(3600),
        },
    ));
    let exports: Api<FieldExport> = Api::namespaced(client.clone(), &w.namespace);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &w.namespace);
    let name = unique("export");
    w.create(&table(&name, basic_spec(&name), &[])).await;
    let fe: FieldExport = serde_json::from_value(json!({
        "apiVersion": "services.k8s.aws/v1alpha1",
        "kind": "FieldExport",
        "metadata": { "name": "arn" },
        "spec": {
            "from": {
                "path": ".status.ackResourceMetadata.arn",
                "resource": { "group": "dynamodb.services.k8s.aws", "kind": "Table", "name": name },
            },
            "to": { "kind": "secret", "name": "table", "key": "TABLE_ARN" },
        },
    }))
    .unwrap();
    exports.create(&PostParams::default(), &fe).await.unwrap();
    w.synced(&name).await;
    let arn = format!(
        "arn:aws:dynamodb:{}:{ACCOUNT}:table/{name}",
        env.endpoints.region
    );
    let secret = eventually("the table ARN in Secret table", || async {
        let secret = secrets.get_opt("table").await.unwrap()?;
        let value = secret.data.as_ref()?.get("TABLE_ARN")?.0.clone();
        (value == arn.as_bytes()).then_some(secret)
    })
    .await;
    assert_eq!(secret.metadata.owner_references.unwrap()[0].name, "arn");

    exports
        .delete("arn", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the Secret the export created to be gone", || async {
        secrets
            .get_opt("table")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    exporter.abort();
    w.delete(&name).await;
}

/// The table's replica regions as AWS describes them, with their status.
fn aws_replicas(t: &TableDescription) -> Vec<(String, String)> {
    t.replicas()
        .iter()
        .map(|r| {
            (
                r.region_name().unwrap_or_default().to_string(),
                r.replica_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// Whether a table of that name exists in another region (a replica is one).
async fn exists_in(w: &World, region: &str, name: &str) -> bool {
    let config = w
        .ddb
        .config()
        .to_builder()
        .region(aws_sdk_dynamodb::config::Region::new(region.to_string()))
        .build();
    match aws_sdk_dynamodb::Client::from_conf(config)
        .describe_table()
        .table_name(name)
        .send()
        .await
    {
        Ok(_) => true,
        Err(e) if e.code() == Some("ResourceNotFoundException") => false,
        Err(e) => panic!("DescribeTable {name} in {region}: {e:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_are_added_one_per_call_and_removed_before_the_table() {
    let w = world("ddb-replicas").await;
    let name = unique("replicated");
    let mut spec = basic_spec(&name);
    spec["streamSpecification"] =
        json!({"streamEnabled": true, "streamViewType": "NEW_AND_OLD_IMAGES"});
    spec["tableReplicas"] = json!([{"regionName": "eu-west-1"}, {"regionName": "us-east-2"}]);
    w.create(&table(&name, spec, &[])).await;
    w.synced(&name).await;
    // Synced only once both replicas are ACTIVE; the emulator refuses more than one replica
    // change per UpdateTable, so two calls made them.
    let described = w.aws_table(&name).await.expect("the table");
    let mut replicas = aws_replicas(&described);
    replicas.sort();
    assert_eq!(
        replicas,
        [
            ("eu-west-1".to_string(), "ACTIVE".to_string()),
            ("us-east-2".to_string(), "ACTIVE".to_string())
        ]
    );
    for region in ["eu-west-1", "us-east-2"] {
        assert!(exists_in(&w, region, &name).await, "replica in {region}");
    }
    let calls = requests_for(&name).await;
    let updates = operations(&calls)
        .iter()
        .filter(|op| **op == "UpdateTable")
        .count();
    assert_eq!(
        updates,
        2,
        "one UpdateTable per replica: {:?}",
        operations(&calls)
    );
    let refused: Vec<_> = calls
        .iter()
        .filter(|c| c.operation == "UpdateTable" && c.error_code.is_some())
        .collect();
    assert!(
        refused.is_empty(),
        "no replica change was refused: {refused:?}"
    );

    // One replica dropped from the spec is removed; the other stays.
    w.patch(
        &name,
        json!({"spec": {"tableReplicas": [{"regionName": "us-east-2"}]}}),
    )
    .await;
    let (ddb, table_name) = (&w, &name);
    eventually("the eu-west-1 replica to go", || async move {
        let t = ddb.aws_table(table_name).await.expect("the table");
        (aws_replicas(&t) == [("us-east-2".to_string(), "ACTIVE".to_string())]).then_some(())
    })
    .await;
    w.synced(&name).await;
    assert!(!exists_in(&w, "eu-west-1", &name).await);

    // Deleting the CR removes the remaining replica first, then the table: nothing is left in
    // any region.
    w.delete(&name).await;
    assert!(w.aws_table(&name).await.is_none());
    for region in ["eu-west-1", "us-east-2"] {
        assert!(
            !exists_in(&w, region, &name).await,
            "replica left in {region}"
        );
    }
}
