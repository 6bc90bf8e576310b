//! `ack-rs import cloudformation` and `ack-rs status` on the real test world: a stack made in the
//! emulator (with a nested stack and a type no controller serves) becomes adoption CRs that the
//! controllers adopt, changing nothing in AWS but ACK's default tags, and `status` shows them
//! adopted and synced.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use ack_runtime::metrics::Metrics;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use serde_json::{Value, json};
use testenv::TestEnv;

const TIMEOUT: Duration = Duration::from_secs(60);

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{nanos:x}")
}

/// Runs `ack-rs` with the test world's environment (AWS endpoint, credentials, kubeconfig).
fn ack_rs(env: &TestEnv, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ack-rs"))
        .envs(env.endpoints.env())
        .args(args)
        .output()
        .expect("running ack-rs")
}

fn stdout_of(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn kubectl_apply(env: &TestEnv, namespace: &str, yaml: &str) {
    let mut child = env
        .kubectl()
        .args(["apply", "-n", namespace, "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(yaml.as_bytes())
        .unwrap();
    stdout_of(child.wait_with_output().unwrap(), "kubectl apply");
}

fn api(client: &kube::Client, namespace: &str, group: &str, kind: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk(group, "v1alpha1", kind);
    Api::namespaced_with(client.clone(), namespace, &ApiResource::from_gvk(&gvk))
}

/// Waits until each (group, kind, name) is Synced and adopted; returns their annotations.
async fn adopted_and_synced(
    client: &kube::Client,
    namespace: &str,
    crs: &[(&str, &str, &str)],
) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut out = Vec::new();
    for (group, kind, name) in crs {
        let obj = testenv::wait_for_condition(
            &api(client, namespace, group, kind),
            name,
            "ACK.ResourceSynced",
            "True",
            TIMEOUT,
        )
        .await
        .unwrap();
        let annotations = obj.metadata.annotations.unwrap_or_default();
        assert_eq!(
            annotations
                .get("services.k8s.aws/adopted")
                .map(String::as_str),
            Some("true"),
            "{kind}/{name}"
        );
        out.push(annotations);
    }
    out
}

/// An S3 client for the emulator (path-style addressing).
fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    )
}

/// The three controllers, in-process, watching `namespace`.
async fn controllers(env: &TestEnv, namespace: &str) -> Vec<tokio::task::JoinHandle<()>> {
    let crds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crds");
    let files = [
        crds.join("s3.services.k8s.aws_buckets.yaml"),
        crds.join("sqs.services.k8s.aws_queues.yaml"),
        crds.join("dynamodb.services.k8s.aws_tables.yaml"),
    ];
    env.install_crds(&files.iter().map(|p| p.as_path()).collect::<Vec<_>>())
        .await
        .unwrap();
    let client = env.client().await;
    let sdk = env.aws().await;
    let s3 = s3_client(&sdk);
    vec![
        testenv::spawn_controller(
            env,
            ack_s3::BucketManager::new(s3),
            client.clone(),
            namespace,
            2,
            Metrics::default(),
        ),
        testenv::spawn_controller(
            env,
            ack_sqs::QueueManager::new(aws_sdk_sqs::Client::new(&sdk)),
            client.clone(),
            namespace,
            2,
            Metrics::default(),
        ),
        testenv::spawn_controller(
            env,
            ack_dynamodb::TableManager::new(aws_sdk_dynamodb::Client::new(&sdk)),
            client,
            namespace,
            2,
            Metrics::default(),
        ),
    ]
}

fn table_resource(name: &str) -> Value {
    json!({"Type": "AWS::DynamoDB::Table", "Properties": {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"}
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"}
        ]
    }})
}

async fn create_stack(env: &TestEnv, name: &str, template: &Value) {
    let sdk = env.aws().await;
    let cfn = aws_sdk_cloudformation::Client::new(&sdk);
    cfn.create_stack()
        .stack_name(name)
        .template_body(template.to_string())
        .send()
        .await
        .expect("creating the stack");
}

/// Every AWS call made on a resource whose identifier contains one of `names`.
fn calls_on(env: &TestEnv, names: &[&str]) -> Vec<String> {
    env.emulator()
        .requests()
        .unwrap()
        .into_iter()
        .filter(|r| {
            r.resource
                .as_deref()
                .is_some_and(|res| names.iter().any(|n| res.contains(n)))
        })
        .map(|r| r.operation)
        .collect()
}

fn is_read(operation: &str) -> bool {
    ["Get", "List", "Describe", "Head"]
        .iter()
        .any(|p| operation.starts_with(p))
}

#[tokio::test]
async fn a_stack_is_imported_adopted_and_shown_in_status() {
    let env = TestEnv::get();
    let sdk = env.aws().await;
    let (bucket, queue, dlq, table) = (
        unique("imp-assets"),
        unique("imp-jobs"),
        unique("imp-dlq"),
        unique("imp-items"),
    );

    // The nested stack's template is read from S3, as CloudFormation does.
    let templates = unique("imp-templates");
    let s3 = s3_client(&sdk);
    let region = &env.endpoints.region;
    s3.create_bucket()
        .bucket(&templates)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region.as_str()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let nested = json!({"Resources": {
        "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": dlq}}
    }});
    s3.put_object()
        .bucket(&templates)
        .key("workers.json")
        .body(nested.to_string().into_bytes().into())
        .send()
        .await
        .unwrap();
    let stack = unique("imp-stack");
    create_stack(
        env,
        &stack,
        &json!({"Resources": {
            "AssetsBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}},
            "JobsQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": queue}},
            "Items": table_resource(&table),
            "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": unique("imp-alerts")}},
            "Workers": {"Type": "AWS::CloudFormation::Stack", "Properties": {
                "TemplateURL": format!("https://s3.{region}.amazonaws.com/{templates}/workers.json")
            }}
        }}),
    )
    .await;

    // Import: one CR per served resource, the nested stack's queue included.
    let namespace = env.namespace("import").await;
    let out = ack_rs(
        env,
        &[
            "import",
            "cloudformation",
            "--stack",
            &stack,
            "--namespace",
            &namespace,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let yaml = stdout_of(out, "ack-rs import");
    assert!(
        stderr.contains("Alerts") && stderr.contains("sns.services.k8s.aws"),
        "the SNS topic is listed as not imported, with why: {stderr}"
    );
    let docs: Vec<Value> = serde_yaml::Deserializer::from_str(&yaml)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let names: BTreeSet<(String, String)> = docs
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_string(),
                d["metadata"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            ("Bucket".into(), "assets-bucket".into()),
            ("Queue".into(), "jobs-queue".into()),
            ("Queue".into(), "workers-dlq".into()),
            ("Table".into(), "items".into()),
        ]),
        "{yaml}"
    );
    let table_doc = docs.iter().find(|d| d["kind"] == "Table").unwrap();
    assert_eq!(
        table_doc["spec"]["keySchema"],
        json!([{"attributeName": "pk", "keyType": "HASH"}, {"attributeName": "sk", "keyType": "RANGE"}])
    );

    // -o DIR writes the same CRs, one file each.
    let dir = env.endpoints.dir.join(&namespace);
    let out = ack_rs(
        env,
        &[
            "import",
            "cloudformation",
            "--stack",
            &stack,
            "-o",
            dir.to_str().unwrap(),
        ],
    );
    stdout_of(out, "ack-rs import -o");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "bucket-assets-bucket.yaml",
            "queue-jobs-queue.yaml",
            "queue-workers-dlq.yaml",
            "table-items.yaml"
        ]
    );

    // The app chart holds one queue: the tool says so instead of dropping one.
    let out = ack_rs(
        env,
        &[
            "import",
            "cloudformation",
            "--stack",
            &stack,
            "--helm-values",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("JobsQueue, Dlq"), "{err}");

    // Apply: the controllers adopt everything and change nothing in AWS.
    let client = env.client().await;
    let _controllers = controllers(env, &namespace).await;
    kubectl_apply(env, &namespace, &yaml);
    adopted_and_synced(
        &client,
        &namespace,
        &[
            ("s3.services.k8s.aws", "Bucket", "assets-bucket"),
            ("sqs.services.k8s.aws", "Queue", "jobs-queue"),
            ("sqs.services.k8s.aws", "Queue", "workers-dlq"),
            ("dynamodb.services.k8s.aws", "Table", "items"),
        ],
    )
    .await;
    // Adopting changes nothing in AWS but ACK's default tags, added beside the stack's system tags.
    let writes: Vec<String> = calls_on(env, &[&bucket, &queue, &dlq, &table])
        .into_iter()
        .filter(|op| !is_read(op) && !op.starts_with("Create"))
        .collect();
    assert!(
        writes
            .iter()
            .all(|op| ["PutBucketTagging", "TagQueue", "TagResource"].contains(&op.as_str())),
        "adoption changed more than tags in AWS: {writes:?}"
    );
    let bucket_tags: BTreeSet<String> = s3
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap()
        .tag_set()
        .iter()
        .map(|t| t.key().to_string())
        .collect();
    assert!(
        bucket_tags.contains("aws:cloudformation:stack-name")
            && bucket_tags.contains("aws:cloudformation:logical-id"),
        "the stack's system tags stay: {bucket_tags:?}"
    );

    // Status: four adopted, synced resources, in people's and machines' formats.
    let rows: Vec<Value> = serde_json::from_str(&stdout_of(
        ack_rs(env, &["status", "-n", &namespace, "-o", "json"]),
        "ack-rs status",
    ))
    .unwrap();
    assert_eq!(rows.len(), 4, "{rows:?}");
    for row in &rows {
        assert_eq!(row["mode"], "adopted", "{row}");
        assert_eq!(row["synced"], "True", "{row}");
        assert_eq!(row["last_error"], Value::Null, "{row}");
    }
    let table = stdout_of(
        ack_rs(env, &["status", "-n", &namespace]),
        "ack-rs status (table)",
    );
    assert!(
        table.starts_with("NAMESPACE")
            && table.contains("workers-dlq")
            && table.contains("adopted"),
        "{table}"
    );
}

/// Runs `ack-rs plan` until it says nothing would change (exit 0), failing with its last output.
async fn eventually_no_plan(env: &TestEnv, args: &[&str]) {
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        let out = ack_rs(env, args);
        match out.status.code() {
            Some(0) => return,
            Some(2) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(500)).await
            }
            _ => panic!(
                "ack-rs {args:?}: {:?}\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
}

/// The migration the tool exists for: import a stack as app-chart values, adopt, see the plan of
/// the switch to managed values, switch, and see nothing left to plan.
#[tokio::test]
async fn helm_values_adopt_then_plan_shows_the_switch() {
    let env = TestEnv::get();
    let (bucket, queue, table) = (unique("hv-assets"), unique("hv-jobs"), unique("hv-items"));
    let stack = unique("hv-stack");
    // Phase 0 of the guide: the stack retains what it hands over when it is deleted.
    let mut items = table_resource(&table);
    items["DeletionPolicy"] = json!("Retain");
    create_stack(
        env,
        &stack,
        &json!({"Resources": {
            "Assets": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain",
                       "Properties": {"BucketName": bucket}},
            "Jobs": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Retain",
                     "Properties": {"QueueName": queue}},
            "Items": items
        }}),
    )
    .await;
    let values = stdout_of(
        ack_rs(
            env,
            &[
                "import",
                "cloudformation",
                "--stack",
                &stack,
                "--helm-values",
            ],
        ),
        "ack-rs import --helm-values",
    );
    let namespace = env.namespace("import-helm").await;
    let values_file = env.endpoints.dir.join(format!("{namespace}-values.yaml"));
    std::fs::write(&values_file, &values).unwrap();

    let client = env.client().await;
    let _controllers = controllers(env, &namespace).await;
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/app-chart");
    stdout_of(
        env.helm()
            .args(["install", "app"])
            .arg(&chart)
            .args(["-n", &namespace, "-f"])
            .arg(&values_file)
            .output()
            .unwrap(),
        "helm install",
    );
    let crs = [
        ("s3.services.k8s.aws", "Bucket", "app-assets"),
        ("sqs.services.k8s.aws", "Queue", "app-jobs"),
        ("dynamodb.services.k8s.aws", "Table", "app-items"),
    ];
    for (annotations, cr) in adopted_and_synced(&client, &namespace, &crs)
        .await
        .iter()
        .zip(&crs)
    {
        assert_eq!(
            annotations
                .get("services.k8s.aws/deletion-policy")
                .map(String::as_str),
            Some("retain"),
            "{cr:?}"
        );
    }
    let adopted_table = api(&client, &namespace, "dynamodb.services.k8s.aws", "Table")
        .get("app-items")
        .await
        .unwrap();
    assert_eq!(adopted_table.data["spec"]["tableName"], table);

    // Adopted, and the controllers' default tags written: managing as is changes nothing.
    eventually_no_plan(env, &["plan", "--all", "-n", &namespace]).await;
    let human = ack_rs(env, &["plan", "queue/app-jobs", "-n", &namespace]);
    assert_eq!(human.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&human.stdout).contains("no change"),
        "{human:?}"
    );

    // The managed values the team will switch to, rendered but not applied: the plan names
    // every setting and tag they change, and never an aws: key.
    let managed = [
        "--set=adoptExistingResources=false",
        "--set=tags.team=platform",
        "--set=queue.delaySeconds=7",
        "--set=bucket.versioning=Enabled",
        "--set=table.billingMode=PROVISIONED",
    ];
    let rendered = stdout_of(
        env.helm()
            .args(["template", "app"])
            .arg(&chart)
            .args(["-n", &namespace, "-f"])
            .arg(&values_file)
            .args(managed)
            .output()
            .unwrap(),
        "helm template",
    );
    let rendered_file = env.endpoints.dir.join(format!("{namespace}-managed.yaml"));
    std::fs::write(&rendered_file, rendered).unwrap();
    let out = ack_rs(
        env,
        &[
            "plan",
            "-f",
            rendered_file.to_str().unwrap(),
            "-n",
            &namespace,
            "-o",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let plans: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let of = |kind: &str| plans.iter().find(|p| p["kind"] == kind).unwrap().clone();
    let field = |plan: &Value, path: &str| {
        plan["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("{path} not in {plan}"))
            .clone()
    };
    let queue_plan = of("Queue");
    assert_eq!(queue_plan["action"], "update");
    let delay = field(&queue_plan, "spec.delaySeconds");
    assert_eq!(
        (delay["aws"].clone(), delay["spec"].clone()),
        (json!("0"), json!("7"))
    );
    let versioning = field(&of("Bucket"), "spec.versioning");
    assert_eq!(versioning["spec"], json!({"status": "Enabled"}));
    let billing = field(&of("Table"), "spec.billingMode");
    assert_eq!(billing["spec"], "PROVISIONED");
    for plan in &plans {
        assert_eq!(plan["tags"]["add"]["team"], "platform", "{plan}");
        let touched: Vec<&str> = plan["tags"]["change"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .chain(
                plan["tags"]["remove"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| k.as_str().unwrap()),
            )
            .collect();
        assert!(touched.iter().all(|k| !k.starts_with("aws:")), "{plan}");
    }

    // Switch; once the controllers have made AWS match, nothing is left to plan, and the stack's
    // system tags are still on the bucket.
    stdout_of(
        env.helm()
            .args(["upgrade", "app"])
            .arg(&chart)
            .args(["-n", &namespace, "-f"])
            .arg(&values_file)
            .args(managed)
            .output()
            .unwrap(),
        "helm upgrade",
    );
    eventually_no_plan(
        env,
        &[
            "plan",
            "-f",
            rendered_file.to_str().unwrap(),
            "-n",
            &namespace,
        ],
    )
    .await;
    let sdk = env.aws().await;
    let s3 = s3_client(&sdk);
    let tags = s3
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = tags.tag_set().iter().map(|t| t.key()).collect();
    assert!(
        keys.contains(&"aws:cloudformation:stack-name") && keys.contains(&"team"),
        "{keys:?}"
    );
    // The bucket carries this CR's ownership stamp beside the stack's tags.
    let (owner_key, owner) = env.owner_tag(&namespace, "Bucket", "app-assets").await;
    assert!(
        tags.tag_set()
            .iter()
            .any(|t| t.key() == owner_key && t.value() == owner),
        "{keys:?}"
    );

    // Another namespace adopting the same bucket (another team's chart, say) is refused.
    let other = env.namespace("import-other").await;
    let _other_controllers = controllers(env, &other).await;
    kubectl_apply(
        env,
        &other,
        &format!(
            "apiVersion: s3.services.k8s.aws/v1alpha1\nkind: Bucket\nmetadata:\n  name: assets\n  \
             annotations:\n    services.k8s.aws/adoption-policy: adopt\n    \
             services.k8s.aws/adoption-fields: '{{\"name\": \"{bucket}\"}}'\n"
        ),
    );
    let refused = testenv::wait_for_condition(
        &api(&client, &other, "s3.services.k8s.aws", "Bucket"),
        "assets",
        "ACK.Terminal",
        "True",
        TIMEOUT,
    )
    .await
    .unwrap();
    assert!(
        refused.data["status"]["conditions"]
            .to_string()
            .contains(&owner),
        "{:?}",
        refused.data["status"]
    );

    // CloudFormation lets go: the stack is deleted, its resources retained, and the
    // controllers keep managing them.
    let cfn = aws_sdk_cloudformation::Client::new(&sdk);
    cfn.delete_stack().stack_name(&stack).send().await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = sqs
        .get_queue_url()
        .queue_name(&queue)
        .send()
        .await
        .expect("the queue outlives the stack")
        .queue_url
        .unwrap();
    s3.head_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("the bucket outlives the stack");
    aws_sdk_dynamodb::Client::new(&sdk)
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .expect("the table outlives the stack");
    stdout_of(
        env.helm()
            .args(["upgrade", "app"])
            .arg(&chart)
            .args(["-n", &namespace, "-f"])
            .arg(&values_file)
            .args(managed)
            .arg("--set=queue.delaySeconds=9")
            .output()
            .unwrap(),
        "helm upgrade after the stack is gone",
    );
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::DelaySeconds)
            .send()
            .await
            .unwrap();
        let delay = attributes
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::DelaySeconds))
            .cloned();
        if delay.as_deref() == Some("9") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the queue is still managed after the stack is gone: {delay:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
