//! The story ack-rs exists for, end to end: resources a CloudFormation stack made are adopted by
//! an application's Helm chart, then managed from Kubernetes, and AWS's `aws:` system tags survive
//! every step. The controllers run either as processes, authenticated as their charts'
//! ServiceAccounts (so the charts' RBAC is what they really get), or as pods on the test world's
//! node from their images and charts; against the real apiserver and the emulator.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use serde_json::Value;
use testenv::{RecordedRequest, TestEnv};

const TIMEOUT: Duration = Duration::from_secs(90);
const SERVICES: [&str; 3] = ["s3", "sqs", "dynamodb"];

use crate::support::pods::{repo, run};

/// Controller processes, killed when the test ends however it ends.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn controller_binaries() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(&cargo);
    build.current_dir(repo()).args(["build", "--bins"]);
    for svc in SERVICES {
        build.args(["-p", &format!("ack-{svc}")]);
    }
    run(&mut build);
    let meta: Value = serde_json::from_str(&run(Command::new(&cargo).current_dir(repo()).args([
        "metadata",
        "--format-version=1",
        "--no-deps",
    ])))
    .unwrap();
    PathBuf::from(meta["target_directory"].as_str().unwrap()).join("debug")
}

/// A kubeconfig that authenticates with a token minted for the chart's ServiceAccount.
fn service_account_kubeconfig(
    env: &TestEnv,
    namespace: &str,
    account: &str,
    dir: &Path,
) -> PathBuf {
    let token =
        run(env
            .kubectl()
            .args(["create", "token", account, "-n", namespace, "--duration=2h"]));
    let admin = std::fs::read_to_string(&env.endpoints.kubeconfig).unwrap();
    let text: String = admin
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("token:") {
                format!("    token: {}", token.trim())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.join(format!("{account}.kubeconfig"));
    std::fs::write(&path, text).unwrap();
    path
}

fn api(
    client: &kube::Client,
    namespace: &str,
    group: &str,
    kind: &str,
    plural: &str,
) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk(group, "v1alpha1", kind);
    Api::namespaced_with(
        client.clone(),
        namespace,
        &ApiResource::from_gvk_with_plural(&gvk, plural),
    )
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{nanos:x}")
}

async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match probe().await {
            Ok(v) => return v,
            Err(why) if Instant::now() > deadline => panic!("{what}: {why}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    )
}

async fn bucket_tags(s3: &aws_sdk_s3::Client, bucket: &str) -> BTreeMap<String, String> {
    s3.get_bucket_tagging()
        .bucket(bucket)
        .send()
        .await
        .map(|t| {
            t.tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

async fn queue_tags(sqs: &aws_sdk_sqs::Client, url: &str) -> BTreeMap<String, String> {
    let tags = sqs.list_queue_tags().queue_url(url).send().await.unwrap();
    tags.tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

async fn table_tags(ddb: &aws_sdk_dynamodb::Client, arn: &str) -> BTreeMap<String, String> {
    let tags = ddb
        .list_tags_of_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    tags.tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

fn system(tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    tags.iter()
        .filter(|(k, _)| k.starts_with("aws:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn synced(obj: &DynamicObject) -> bool {
    testenv::condition_status(obj, "ACK.ResourceSynced").as_deref() == Some("True")
}

/// How the journey runs the controllers.
pub enum Controllers {
    /// Local processes, each authenticated as its chart's ServiceAccount.
    Processes,
    /// Pods on the test world's node, from their images and charts.
    Pods,
}

pub async fn journey(how: Controllers) {
    let env = match how {
        Controllers::Processes => TestEnv::get(),
        Controllers::Pods => TestEnv::get_with_node(),
    };
    let sdk = env.aws().await;
    let (s3, sqs, ddb) = (
        s3_client(&sdk),
        aws_sdk_sqs::Client::new(&sdk),
        aws_sdk_dynamodb::Client::new(&sdk),
    );
    let cfn = aws_sdk_cloudformation::Client::new(&sdk);
    let (bucket, queue, table) = (
        unique("journey-assets"),
        unique("journey-jobs"),
        unique("journey-items"),
    );

    // a. A CloudFormation stack makes the three resources.
    let template = serde_json::json!({
        "Resources": {
            "Assets": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}},
            "Jobs": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": queue}},
            "Items": {"Type": "AWS::DynamoDB::Table", "Properties": {
                "TableName": table,
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]
            }}
        }
    });
    let stack = unique("journey-stack");
    cfn.create_stack()
        .stack_name(&stack)
        .template_body(template.to_string())
        .send()
        .await
        .unwrap();
    let queue_url = sqs
        .get_queue_url()
        .queue_name(&queue)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let table_arn = ddb
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap()
        .table_arn
        .unwrap();
    // AWS stamps buckets itself; queues and tables get system tags through the test-only path.
    let stack_tag = BTreeMap::from([("aws:cloudformation:stack-name".to_string(), stack.clone())]);
    env.emulator()
        .set_system_tags("sqs", &queue_url, &stack_tag)
        .unwrap();
    env.emulator()
        .set_system_tags("dynamodb", &table_arn, &stack_tag)
        .unwrap();
    let bucket_system = system(&bucket_tags(&s3, &bucket).await);
    assert!(
        bucket_system.contains_key("aws:cloudformation:stack-id"),
        "the stack stamps the bucket: {bucket_system:?}"
    );
    let queue_system = system(&queue_tags(&sqs, &queue_url).await);
    let table_system = system(&table_tags(&ddb, &table_arn).await);

    // The controllers' charts (CRDs, ServiceAccount, RBAC) installed with the real helm, and
    // each controller running as its ServiceAccount.
    let namespace = env.namespace("journey").await;
    let dir = env.endpoints.dir.join(&namespace);
    std::fs::create_dir_all(&dir).unwrap();
    let mut controllers = Processes(Vec::new());
    let bin = match how {
        Controllers::Processes => Some(controller_binaries()),
        Controllers::Pods => {
            for svc in SERVICES {
                crate::support::pods::install(env, svc, &namespace, &[]);
            }
            None
        }
    };
    for svc in SERVICES.iter().filter(|_| bin.is_some()) {
        let bin = bin.as_ref().unwrap();
        run(env
            .helm()
            .args(["install", &format!("ack-{svc}")])
            .arg(repo().join(format!("charts/{svc}-controller")))
            .args(["-n", &namespace, "--set=installScope=namespace"])
            .arg(format!("--set=watchNamespace={namespace}")));
        let kubeconfig =
            service_account_kubeconfig(env, &namespace, &format!("ack-{svc}-controller"), &dir);
        let log = std::fs::File::create(dir.join(format!("{svc}-controller.log"))).unwrap();
        let child = Command::new(bin.join(format!("{svc}-controller")))
            .env("KUBECONFIG", &kubeconfig)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("POD_NAMESPACE", &namespace)
            .arg(format!("--aws-region={}", env.endpoints.region))
            .arg(format!(
                "--aws-endpoint-url={}",
                env.endpoints.aws_endpoint_url
            ))
            // The emulator speaks plain HTTP and serves buckets by path.
            .args([
                "--allow-unsafe-aws-endpoint-urls",
                "--aws-endpoint-use-path-style",
            ])
            .arg(format!("--watch-namespace={namespace}"))
            .args(["--metrics-addr=127.0.0.1:0", "--healthz-addr=127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        controllers.0.push(child);
    }

    // b. The app chart adopts them.
    let app_values = |adopt: bool, team: &str| {
        vec![
            format!("--set=adoptExistingResources={adopt}"),
            format!("--set=bucket.name={bucket}"),
            format!("--set=queue.name={queue}"),
            format!("--set=queue.url={queue_url}"),
            format!("--set=table.name={table}"),
            "--set=deletionPolicy=retain".to_string(),
            format!("--set=tags.team={team}"),
            "--set=queue.delaySeconds=7".to_string(),
            "--set=bucket.versioning=Enabled".to_string(),
            // Managing the table switches its billing mode (the stack made it on-demand).
            format!(
                "--set=table.billingMode={}",
                if adopt {
                    "PAY_PER_REQUEST"
                } else {
                    "PROVISIONED"
                }
            ),
        ]
    };
    run(env
        .helm()
        .args(["install", "app"])
        .arg(repo().join("examples/app-chart"))
        .args(["-n", &namespace])
        .args(app_values(true, "payments")));
    let client = env.client().await;
    let crs = [
        api(
            &client,
            &namespace,
            "s3.services.k8s.aws",
            "Bucket",
            "buckets",
        ),
        api(
            &client,
            &namespace,
            "sqs.services.k8s.aws",
            "Queue",
            "queues",
        ),
        api(
            &client,
            &namespace,
            "dynamodb.services.k8s.aws",
            "Table",
            "tables",
        ),
    ];
    for api in &crs {
        let adopted = eventually("adopted and synced", || async {
            let list = api
                .list(&Default::default())
                .await
                .map_err(|e| e.to_string())?;
            let obj = list.items.into_iter().next().ok_or("no CR yet")?;
            if synced(&obj) {
                Ok(obj)
            } else {
                Err(format!("{:?}", obj.data["status"]))
            }
        })
        .await;
        assert_eq!(
            adopted.metadata.annotations.as_ref().unwrap()["services.k8s.aws/adopted"],
            "true"
        );
        let leaked = tag_keys(&adopted.data);
        assert!(
            leaked.iter().all(|k| !k.to_lowercase().starts_with("aws:")),
            "a system tag leaked into the CR: {leaked:?}"
        );
        assert!(
            tag_keys(&adopted.data["spec"])
                .iter()
                .all(|k| !k.starts_with("services.k8s.aws/")),
            "a default tag leaked into the spec: {leaked:?}"
        );
    }

    // c. The switch flips: the chart now declares the full spec with new user tags and settings.
    run(env
        .helm()
        .args(["upgrade", "app"])
        .arg(repo().join("examples/app-chart"))
        .args(["-n", &namespace])
        .args(app_values(false, "platform")));
    eventually("bucket tags and versioning applied", || async {
        let tags = bucket_tags(&s3, &bucket).await;
        let versioning = s3
            .get_bucket_versioning()
            .bucket(&bucket)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        (tags.get("team").map(String::as_str) == Some("platform")
            && versioning.status().map(|s| s.as_str()) == Some("Enabled"))
        .then_some(())
        .ok_or(format!("{tags:?} {versioning:?}"))
    })
    .await;
    eventually("queue tags and delay applied", || async {
        let tags = queue_tags(&sqs, &queue_url).await;
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::DelaySeconds)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let delay = attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::DelaySeconds))
            .cloned();
        (tags.get("team").map(String::as_str) == Some("platform") && delay.as_deref() == Some("7"))
            .then_some(())
            .ok_or(format!("{tags:?} {delay:?}"))
    })
    .await;
    eventually("table tags and billing mode applied", || async {
        let tags = table_tags(&ddb, &table_arn).await;
        let described = ddb
            .describe_table()
            .table_name(&table)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let billing = described
            .table
            .and_then(|t| t.billing_mode_summary)
            .and_then(|b| b.billing_mode)
            .map(|m| m.as_str().to_string());
        (tags.get("team").map(String::as_str) == Some("platform")
            && billing.as_deref() == Some("PROVISIONED"))
        .then_some(())
        .ok_or(format!("{tags:?} {billing:?}"))
    })
    .await;
    for api in &crs {
        eventually("synced after the upgrade", || async {
            let obj = api
                .list(&Default::default())
                .await
                .map_err(|e| e.to_string())?
                .items
                .into_iter()
                .next()
                .ok_or("gone")?;
            synced(&obj)
                .then_some(())
                .ok_or(format!("{:?}", obj.data["status"]))
        })
        .await;
    }
    // Every system tag is still there, with its value.
    assert_eq!(system(&bucket_tags(&s3, &bucket).await), bucket_system);
    assert_eq!(system(&queue_tags(&sqs, &queue_url).await), queue_system);
    assert_eq!(system(&table_tags(&ddb, &table_arn).await), table_system);
    // And AWS never had to refuse a write.
    let ours = |r: &RecordedRequest| {
        r.resource.as_deref().is_some_and(|res| {
            res.contains(&bucket) || res.contains(&queue) || res.contains(&table)
        })
    };
    let rejected: Vec<RecordedRequest> = env
        .emulator()
        .requests()
        .unwrap()
        .into_iter()
        .filter(|r| ours(r) && r.status >= 400 && !is_read(&r.operation))
        .collect();
    assert!(rejected.is_empty(), "rejected writes: {rejected:?}");

    // d. Uninstalling the app with deletion-policy retain leaves AWS (and the stack) alone.
    run(env
        .helm()
        .args(["uninstall", "app", "-n", &namespace, "--wait"]));
    for api in &crs {
        eventually("CR deleted", || async {
            let list = api
                .list(&Default::default())
                .await
                .map_err(|e| e.to_string())?;
            list.items
                .is_empty()
                .then_some(())
                .ok_or("still there".to_string())
        })
        .await;
    }
    s3.head_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("bucket retained");
    sqs.get_queue_url()
        .queue_name(&queue)
        .send()
        .await
        .expect("queue retained");
    ddb.describe_table()
        .table_name(&table)
        .send()
        .await
        .expect("table retained");
    let stacks = cfn
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .unwrap();
    assert_eq!(stacks.stacks().len(), 1, "the stack is still there");

    // The same tag change sent the naive way — only the user's tags — is what AWS refuses.
    let naive = aws_sdk_s3::types::Tagging::builder()
        .tag_set(
            aws_sdk_s3::types::Tag::builder()
                .key("team")
                .value("naive")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let err = s3
        .put_bucket_tagging()
        .bucket(&bucket)
        .tagging(naive)
        .send()
        .await
        .expect_err("dropping system tags must be refused");
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&err),
        Some("InvalidTag"),
        "{err:?}"
    );
    drop(controllers);
}

/// Every tag key anywhere in a CR: keys of `tags` maps and `key` of `{key, value}` entries.
fn tag_keys(value: &Value) -> Vec<String> {
    let mut keys = Vec::new();
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if let (true, Value::Object(tags)) = (k == "tags", v) {
                    keys.extend(tags.keys().cloned());
                }
                if let (true, Some(key)) = (k == "key", v.as_str()) {
                    keys.push(key.to_string());
                }
                keys.extend(tag_keys(v));
            }
        }
        Value::Array(items) => items.iter().for_each(|v| keys.extend(tag_keys(v))),
        _ => {}
    }
    keys
}

fn is_read(operation: &str) -> bool {
    ["Get", "Head", "List", "Describe"]
        .iter()
        .any(|p| operation.starts_with(p))
}
