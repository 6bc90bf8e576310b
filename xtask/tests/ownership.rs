//! The ownership guard across clusters: two controller processes per service, each with its own
//! `--cluster-id` and namespace (two "clusters" sharing one AWS account), adopt the same bucket
//! and queue. The first stamps `ack-rs.dev/owner`; the second is refused (Terminal, naming the
//! owner, nothing changed in AWS) until its CR carries `ack-rs.dev/take-ownership: "true"`;
//! after the take-over the first cluster's CR is refused in turn, and deleting it deletes
//! nothing; deleting the owner's CR deletes the resources.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration, Tag, Tagging};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::{Value, json};
use testenv::TestEnv;

const TIMEOUT: Duration = Duration::from_secs(90);
const OWNER: &str = "ack-rs.dev/owner";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("running a command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

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

/// Builds the S3 and SQS controllers and the `ack-rs` tool; returns their directory.
fn binaries() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(&cargo).current_dir(repo()).args([
        "build",
        "--bins",
        "-p",
        "ack-s3",
        "-p",
        "ack-sqs",
        "-p",
        "ack-rs-cli",
    ]));
    let meta: Value = serde_json::from_str(&run(Command::new(&cargo).current_dir(repo()).args([
        "metadata",
        "--format-version=1",
        "--no-deps",
    ])))
    .unwrap();
    PathBuf::from(meta["target_directory"].as_str().unwrap()).join("debug")
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
            Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}

/// One "cluster": an S3 and an SQS controller with `--cluster-id=id`, watching `namespace`.
fn start_cluster(env: &TestEnv, bin: &Path, id: &str, namespace: &str, procs: &mut Processes) {
    let dir = env.endpoints.dir.join(namespace);
    std::fs::create_dir_all(&dir).unwrap();
    for svc in ["s3", "sqs"] {
        let log = std::fs::File::create(dir.join(format!("{svc}-controller.log"))).unwrap();
        let child = Command::new(bin.join(format!("{svc}-controller")))
            .env("KUBECONFIG", &env.endpoints.kubeconfig)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .arg(format!("--aws-region={}", env.endpoints.region))
            .arg(format!(
                "--aws-endpoint-url={}",
                env.endpoints.aws_endpoint_url
            ))
            .args([
                "--allow-unsafe-aws-endpoint-urls",
                "--aws-endpoint-use-path-style",
            ])
            .arg(format!(
                "--aws-account-id={}",
                testenv::controllers::ACCOUNT
            ))
            .arg(format!("--watch-namespace={namespace}"))
            .arg(format!("--cluster-id={id}"))
            .args(["--metrics-addr=127.0.0.1:0", "--healthz-addr=127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        procs.0.push(child);
    }
}

struct Kinds {
    buckets: Api<DynamicObject>,
    queues: Api<DynamicObject>,
}

fn kinds(client: &kube::Client, namespace: &str) -> Kinds {
    let api = |group: &str, kind: &str, plural: &str| {
        Api::namespaced_with(
            client.clone(),
            namespace,
            &ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk(group, "v1alpha1", kind),
                plural,
            ),
        )
    };
    Kinds {
        buckets: api("s3.services.k8s.aws", "Bucket", "buckets"),
        queues: api("sqs.services.k8s.aws", "Queue", "queues"),
    }
}

/// The adoption CRs `assets` (Bucket) and `jobs` (Queue) in `namespace`.
async fn adopt(k: &Kinds, namespace: &str, bucket: &str, queue_url: &str) {
    let cr = |api_version: &str, kind: &str, name: &str, fields: Value| -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"name": name, "namespace": namespace, "annotations": {
                "services.k8s.aws/adoption-policy": "adopt",
                "services.k8s.aws/adoption-fields": fields.to_string(),
            }},
        }))
        .unwrap()
    };
    let pp = Default::default();
    k.buckets
        .create(
            &pp,
            &cr(
                "s3.services.k8s.aws/v1alpha1",
                "Bucket",
                "assets",
                json!({"name": bucket}),
            ),
        )
        .await
        .unwrap();
    k.queues
        .create(
            &pp,
            &cr(
                "sqs.services.k8s.aws/v1alpha1",
                "Queue",
                "jobs",
                json!({"queueURL": queue_url}),
            ),
        )
        .await
        .unwrap();
}

async fn annotate(api: &Api<DynamicObject>, name: &str, key: &str, value: &str) {
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {key: value}}})),
    )
    .await
    .unwrap();
}

/// Waits for `type_` = `status` on the CR; returns its (reason, message).
async fn condition(
    api: &Api<DynamicObject>,
    name: &str,
    type_: &str,
    status: &str,
) -> (String, String) {
    let obj = testenv::wait_for_condition(api, name, type_, status, TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let c = obj.data["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == type_)
        .unwrap()
        .clone();
    (
        c["reason"].as_str().unwrap_or_default().to_string(),
        c["message"].as_str().unwrap_or_default().to_string(),
    )
}

struct Aws {
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
}

impl Aws {
    async fn bucket_tags(&self, bucket: &str) -> BTreeMap<String, String> {
        self.s3
            .get_bucket_tagging()
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

    async fn queue_tags(&self, url: &str) -> BTreeMap<String, String> {
        let out = self
            .sqs
            .list_queue_tags()
            .queue_url(url)
            .send()
            .await
            .unwrap();
        out.tags()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect()
    }

    async fn bucket_exists(&self, bucket: &str) -> bool {
        self.s3.head_bucket().bucket(bucket).send().await.is_ok()
    }

    async fn queue_exists(&self, url: &str) -> bool {
        self.sqs
            .get_queue_attributes()
            .queue_url(url)
            .send()
            .await
            .is_ok()
    }

    /// Both resources' tags, once they carry `owners` and the default tags of the owners'
    /// namespace `namespace` (the follow-up reconcile after an adoption adds them).
    async fn owned_by(
        &self,
        bucket: &str,
        url: &str,
        owners: [&str; 2],
        namespace: &str,
    ) -> [BTreeMap<String, String>; 2] {
        eventually(&format!("owners {owners:?}"), || async {
            let tags = [self.bucket_tags(bucket).await, self.queue_tags(url).await];
            let done = tags.iter().zip(owners).all(|(t, owner)| {
                t.get(OWNER).map(String::as_str) == Some(owner)
                    && t.get("services.k8s.aws/namespace").map(String::as_str) == Some(namespace)
            });
            done.then_some(tags.clone()).ok_or(format!("{tags:?}"))
        })
        .await
    }
}

async fn gone(api: &Api<DynamicObject>, name: &str) {
    eventually(&format!("{name} deleted"), || async {
        match api.get_opt(name).await {
            Ok(None) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await
}

#[tokio::test]
async fn a_resource_held_by_one_cluster_is_refused_to_another_until_taken_over() {
    let env = TestEnv::get();
    let bin = binaries();
    let crds = repo().join("crds");
    env.install_crds(&[
        &crds.join("s3.services.k8s.aws_buckets.yaml"),
        &crds.join("sqs.services.k8s.aws_queues.yaml"),
    ])
    .await
    .unwrap();
    let sdk = env.aws().await;
    let aws = Aws {
        s3: aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        ),
        sqs: aws_sdk_sqs::Client::new(&sdk),
    };

    // A bucket and a queue made outside Kubernetes, with a user tag each.
    let (bucket, queue) = (unique("own-assets"), unique("own-jobs"));
    aws.s3
        .create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(
                    env.endpoints.region.as_str(),
                ))
                .build(),
        )
        .send()
        .await
        .unwrap();
    aws.s3
        .put_bucket_tagging()
        .bucket(&bucket)
        .tagging(
            Tagging::builder()
                .tag_set(Tag::builder().key("team").value("a").build().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let url = aws
        .sqs
        .create_queue()
        .queue_name(&queue)
        .tags("team", "a")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();

    let client = env.client().await;
    let (ns_a, ns_b) = (env.namespace("own-a").await, env.namespace("own-b").await);
    let mut procs = Processes(Vec::new());
    start_cluster(env, &bin, "cluster-a", &ns_a, &mut procs);
    start_cluster(env, &bin, "cluster-b", &ns_b, &mut procs);
    let (a, b) = (kinds(&client, &ns_a), kinds(&client, &ns_b));

    // Cluster A adopts both: synced, and stamped with cluster A and its CRs.
    adopt(&a, &ns_a, &bucket, &url).await;
    condition(&a.buckets, "assets", "ACK.ResourceSynced", "True").await;
    condition(&a.queues, "jobs", "ACK.ResourceSynced", "True").await;
    let a_owners = [
        format!("cluster-a/{ns_a}/Bucket/assets"),
        format!("cluster-a/{ns_a}/Queue/jobs"),
    ];
    let held_by_a = aws
        .owned_by(&bucket, &url, [&a_owners[0], &a_owners[1]], &ns_a)
        .await;
    assert_eq!(held_by_a[0]["team"], "a");

    // Cluster B adopting the same two is refused, naming the owner, and changes nothing.
    adopt(&b, &ns_b, &bucket, &url).await;
    for (api, name, owner) in [
        (&b.buckets, "assets", &a_owners[0]),
        (&b.queues, "jobs", &a_owners[1]),
    ] {
        let (reason, message) = condition(api, name, "ACK.Terminal", "True").await;
        assert_eq!(reason, "ResourceOwnedElsewhere", "{name}");
        assert!(
            message.contains("in cluster cluster-a") && message.contains(owner.as_str()),
            "{name}: {message}"
        );
        let cr = api.get(name).await.unwrap();
        assert!(
            !cr.metadata
                .annotations
                .unwrap_or_default()
                .contains_key("services.k8s.aws/adopted"),
            "{name} is not adopted"
        );
    }
    // A's own resync or B's retries may run meanwhile; neither changes a tag.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        [aws.bucket_tags(&bucket).await, aws.queue_tags(&url).await],
        held_by_a,
        "the refused adoption changed nothing in AWS"
    );

    // `ack-rs plan` says so too, for cluster B, and exits 2.
    let out = Command::new(bin.join("ack-rs"))
        .envs(env.endpoints.env())
        .args([
            "plan",
            "bucket/assets",
            "-n",
            &ns_b,
            "--cluster-id",
            "cluster-b",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let plans: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plans[0]["action"], "refused", "{plans:?}");
    assert_eq!(plans[0]["owner"], a_owners[0].as_str());

    // The take-over annotation moves both to cluster B.
    annotate(&b.buckets, "assets", "ack-rs.dev/take-ownership", "true").await;
    annotate(&b.queues, "jobs", "ack-rs.dev/take-ownership", "true").await;
    condition(&b.buckets, "assets", "ACK.ResourceSynced", "True").await;
    condition(&b.queues, "jobs", "ACK.ResourceSynced", "True").await;
    let b_owners = [
        format!("cluster-b/{ns_b}/Bucket/assets"),
        format!("cluster-b/{ns_b}/Queue/jobs"),
    ];
    let held_by_b = aws
        .owned_by(&bucket, &url, [&b_owners[0], &b_owners[1]], &ns_b)
        .await;
    assert_eq!(held_by_b[0]["team"], "a", "user tags kept");
    assert_eq!(held_by_b[1]["team"], "a", "user tags kept");

    // Cluster A's CRs now stand for resources someone else holds: refused at their next
    // reconcile, and deleting them (deletion policy delete) deletes nothing in AWS.
    for (api, name) in [(&a.buckets, "assets"), (&a.queues, "jobs")] {
        annotate(api, name, "services.k8s.aws/refresh-requested-at", "1").await;
        let (reason, message) = condition(api, name, "ACK.Terminal", "True").await;
        assert_eq!(reason, "ResourceOwnedElsewhere", "{name}");
        assert!(
            message.contains("in cluster cluster-b"),
            "{name}: {message}"
        );
        api.delete(name, &Default::default()).await.unwrap();
        gone(api, name).await;
    }
    assert!(
        aws.bucket_exists(&bucket).await,
        "A's delete kept B's bucket"
    );
    assert!(aws.queue_exists(&url).await, "A's delete kept B's queue");
    assert_eq!(
        aws.owned_by(&bucket, &url, [&b_owners[0], &b_owners[1]], &ns_b)
            .await,
        held_by_b
    );

    // The owner's delete still deletes.
    for (api, name) in [(&b.buckets, "assets"), (&b.queues, "jobs")] {
        api.delete(name, &Default::default()).await.unwrap();
        gone(api, name).await;
    }
    assert!(!aws.bucket_exists(&bucket).await, "B deleted its bucket");
    assert!(!aws.queue_exists(&url).await, "B deleted its queue");
}
