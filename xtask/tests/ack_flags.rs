//! ACK's controller flags, for real: each controller binary started with exactly what ACK's own
//! Helm chart gives it (a platform team swapping our image into its ACK release), and the flags
//! that filter what is reconciled (`--watch-selectors`, `--reconcile-resources`,
//! `--watch-namespace` with several namespaces, `--enable-carm`) doing so against the real
//! apiserver and emulator.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use serde_json::{Value, json};
use testenv::TestEnv;
use testenv::ack_chart::{self, Wiring};

const TIMEOUT: Duration = Duration::from_secs(90);
const SERVICES: [&str; 3] = ["s3", "sqs", "dynamodb"];

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

/// The three controller binaries, built (debug) if stale.
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

/// Controller processes, killed when the test ends however it ends.
#[derive(Default)]
struct Controllers(Vec<Child>);

impl Drop for Controllers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A controller process with `args` and exactly `env` plus the test world's wiring: a kubeconfig
/// (in a Pod: the ServiceAccount token) and the emulator's keys (in a Pod: IRSA or a credentials
/// Secret). Its logs go to `log`.
fn controller(
    env: &TestEnv,
    bin: &Path,
    service: &str,
    args: &[String],
    vars: &[(String, String)],
    log: &Path,
) -> Command {
    let mut cmd = Command::new(bin.join(format!("{service}-controller")));
    cmd.env_clear()
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .env("KUBECONFIG", &env.endpoints.kubeconfig)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(log).unwrap())
        .stderr(std::fs::File::create(log.with_extension("stderr")).unwrap());
    cmd
}

/// In a Pod each controller has its own network namespace; three processes on one host need
/// ports of their own for `/metrics` and `/healthz`.
fn own_ports() -> Vec<String> {
    vec![
        "--metrics-addr=127.0.0.1:0".into(),
        "--healthz-addr=127.0.0.1:0".into(),
    ]
}

fn api(client: &kube::Client, namespace: &str, service: &str, kind: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk(&format!("{service}.services.k8s.aws"), "v1alpha1", kind);
    let plural = format!("{}s", kind.to_lowercase());
    Api::namespaced_with(
        client.clone(),
        namespace,
        &ApiResource::from_gvk_with_plural(&gvk, &plural),
    )
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{nanos:x}")
}

fn crd(service: &str, plural: &str) -> PathBuf {
    repo().join(format!("crds/{service}.services.k8s.aws_{plural}.yaml"))
}

/// A CR of `kind` named `name` with `labels`; the spec names the AWS resource `name` too.
fn resource(service: &str, kind: &str, name: &str, labels: Value) -> DynamicObject {
    let spec = match kind {
        "Queue" => json!({"queueName": name}),
        "Bucket" => json!({"name": name}),
        "Table" => json!({
            "tableName": name,
            "billingMode": "PAY_PER_REQUEST",
            "attributeDefinitions": [{"attributeName": "id", "attributeType": "S"}],
            "keySchema": [{"attributeName": "id", "keyType": "HASH"}],
        }),
        other => panic!("no spec for {other}"),
    };
    serde_json::from_value(json!({
        "apiVersion": format!("{service}.services.k8s.aws/v1alpha1"),
        "kind": kind,
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
    }))
    .unwrap()
}

async fn create(api: &Api<DynamicObject>, obj: &DynamicObject) {
    api.create(&PostParams::default(), obj)
        .await
        .unwrap_or_else(|e| panic!("creating {:?}: {e}", obj.metadata.name));
}

fn condition(obj: &DynamicObject, type_: &str) -> Option<String> {
    testenv::condition_status(obj, type_)
}

/// Polls `name` until `done` holds for it; fails with the controllers' `logs` otherwise.
async fn wait_until(
    api: &Api<DynamicObject>,
    name: &str,
    what: &str,
    logs: &[&Path],
    done: impl Fn(&DynamicObject) -> bool,
) -> DynamicObject {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let obj = api.get(name).await.unwrap();
        if done(&obj) {
            return obj;
        }
        if Instant::now() > deadline {
            let logs: String = logs
                .iter()
                .flat_map(|l| [l.to_path_buf(), l.with_extension("stderr")])
                .map(|l| {
                    format!(
                        "--- {}:\n{}\n",
                        l.display(),
                        std::fs::read_to_string(&l).unwrap_or_default()
                    )
                })
                .collect();
            panic!("{name}: {what} never happened; last seen {obj:?}\n{logs}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn wait_synced(api: &Api<DynamicObject>, name: &str, logs: &[&Path]) -> DynamicObject {
    wait_until(api, name, "ACK.ResourceSynced=True", logs, |o| {
        condition(o, "ACK.ResourceSynced").as_deref() == Some("True")
    })
    .await
}

/// No controller ever wrote to it: no finalizer, no status.
fn untouched(obj: &DynamicObject) -> bool {
    obj.metadata.finalizers.as_ref().is_none_or(Vec::is_empty) && obj.data.get("status").is_none()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_chart_default_arguments_start_every_controller_and_it_reconciles() {
    let bin = controller_binaries();
    // ACK's defaults watch every namespace: a world of its own keeps other tests' resources out.
    let env = TestEnv::private();
    let crds = [
        crd("s3", "buckets"),
        crd("sqs", "queues"),
        crd("dynamodb", "tables"),
    ];
    env.install_crds(&crds.iter().map(PathBuf::as_path).collect::<Vec<_>>())
        .await
        .unwrap();
    let namespace = env.namespace("ack-chart").await;
    let dir = env.endpoints.dir.join(&namespace);
    std::fs::create_dir_all(&dir).unwrap();
    let wiring = Wiring {
        region: env.endpoints.region.clone(),
        endpoint_url: env.endpoints.aws_endpoint_url.clone(),
        allow_unsafe_endpoint_urls: true,
        endpoint_use_path_style: true,
        pod_namespace: namespace.clone(),
    };

    let mut controllers = Controllers::default();
    let mut logs = Vec::new();
    for svc in SERVICES {
        let vars = ack_chart::env(svc, &wiring);
        let mut args = ack_chart::expanded_args(svc, &wiring);
        args.extend(own_ports());
        let log = dir.join(format!("{svc}-controller.log"));
        let child = controller(&env, &bin, svc, &args, &vars, &log)
            .spawn()
            .unwrap();
        controllers.0.push(child);
        logs.push(log);
    }
    let logs: Vec<&Path> = logs.iter().map(PathBuf::as_path).collect();

    let client = env.client().await;
    let name = unique("ack-chart");
    let cases = [("s3", "Bucket"), ("sqs", "Queue"), ("dynamodb", "Table")];
    for (svc, kind) in cases {
        // The label feeds ACK's default %MANAGED_BY% tag; %KRO_VERSION% stays empty.
        let labels = json!({"app.kubernetes.io/managed-by": "Helm"});
        create(
            &api(&client, &namespace, svc, kind),
            &resource(svc, kind, &name, labels),
        )
        .await;
    }
    for (svc, kind) in cases {
        wait_synced(&api(&client, &namespace, svc, kind), &name, &logs).await;
    }

    // In AWS, with ACK's default tags: empty ones left out, as ACK does.
    let sdk = env.aws().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = sqs
        .get_queue_url()
        .queue_name(&name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let tags = sqs.list_queue_tags().queue_url(&url).send().await.unwrap();
    let tags = tags.tags().cloned().unwrap_or_default();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        tags.get("services.k8s.aws/controller-version")
            .map(String::as_str),
        Some(format!("sqs-{version}").as_str()),
        "{tags:?}"
    );
    assert_eq!(
        tags.get("services.k8s.aws/namespace"),
        Some(&namespace),
        "{tags:?}"
    );
    assert_eq!(
        tags.get("app.kubernetes.io/managed-by").map(String::as_str),
        Some("Helm"),
        "{tags:?}"
    );
    assert!(!tags.contains_key("kro.run/kro-version"), "{tags:?}");
    aws_sdk_dynamodb::Client::new(&sdk)
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .expect("the table exists");
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    s3.head_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("the bucket exists");
    for child in &mut controllers.0 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "a controller exited; logs in {}",
            dir.display()
        );
    }
}

/// The wiring every filter test passes: region, emulator, ports, one namespace list.
fn wiring_args(env: &TestEnv, namespaces: &str) -> Vec<String> {
    let mut args = vec![
        format!("--aws-region={}", env.endpoints.region),
        format!("--aws-endpoint-url={}", env.endpoints.aws_endpoint_url),
        "--allow-unsafe-aws-endpoint-urls".into(),
        format!("--watch-namespace={namespaces}"),
    ];
    args.extend(own_ports());
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_selectors_namespaces_and_carm_decide_what_is_reconciled() {
    let env = TestEnv::get();
    let bin = controller_binaries();
    env.install_crds(&[&crd("sqs", "queues")]).await.unwrap();
    let client = env.client().await;
    let ns = env.namespace("selectors").await;
    let other_account = env.namespace("carm").await;
    let dir = env.endpoints.dir.join(&ns);
    std::fs::create_dir_all(&dir).unwrap();
    // CARM's namespace annotation: this namespace's resources belong to another account.
    let namespaces = ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "Namespace"));
    Api::<DynamicObject>::all_with(client.clone(), &namespaces)
        .patch(
            &other_account,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {
                "services.k8s.aws/owner-account-id": "999999999999"
            }}})),
        )
        .await
        .unwrap();

    let queues = api(&client, &ns, "sqs", "Queue");
    let foreign = api(&client, &other_account, "sqs", "Queue");
    let b = unique("sel-b");
    let a = unique("sel-a");
    let c = unique("sel-c");
    let x = unique("sel-x");
    // b (not matching) is created before a, so an ignored selector would reach it first.
    create(&queues, &resource("sqs", "Queue", &b, json!({"team": "b"}))).await;
    create(&queues, &resource("sqs", "Queue", &a, json!({"team": "a"}))).await;
    create(
        &foreign,
        &resource("sqs", "Queue", &x, json!({"team": "a"})),
    )
    .await;

    let log = dir.join("sqs-controller.log");
    let mut args = wiring_args(env, &format!("{ns},{other_account}"));
    args.extend([
        "--watch-selectors".to_string(),
        "team=a".to_string(),
        "--reconcile-default-max-concurrent-syncs".to_string(),
        "1".to_string(),
        "--enable-carm=true".to_string(),
    ]);
    let _controllers = Controllers(vec![
        controller(env, &bin, "sqs", &args, &[], &log)
            .spawn()
            .unwrap(),
    ]);
    wait_synced(&queues, &a, &[&log]).await;
    // c is created after a synced: by the time c syncs, anything queued before it ran.
    create(&queues, &resource("sqs", "Queue", &c, json!({"team": "a"}))).await;
    wait_synced(&queues, &c, &[&log]).await;

    let sqs = aws_sdk_sqs::Client::new(&env.aws().await);
    let exists = |name: String| {
        let sqs = sqs.clone();
        async move { sqs.get_queue_url().queue_name(name).send().await.is_ok() }
    };
    let obj = queues.get(&b).await.unwrap();
    assert!(
        untouched(&obj),
        "a CR the selector does not match is left alone: {obj:?}"
    );
    assert!(!exists(b.clone()).await, "no queue for the unmatched CR");

    // The second watched namespace asks for another account, for which the controller has no
    // role (no ack-role-account-map): a condition naming both, nothing made in AWS.
    let obj = wait_until(&foreign, &x, "ACK.Recoverable=True", &[&log], |o| {
        condition(o, "ACK.Recoverable").as_deref() == Some("True")
    })
    .await;
    let message = obj.data["status"]["conditions"].to_string();
    assert!(
        message.contains("ack-role-account-map") && message.contains("999999999999"),
        "{message}"
    );
    assert!(!exists(x.clone()).await, "nothing made for another account");

    // Once it matches, it is reconciled: the selector was what kept it out.
    queues
        .patch(
            &b,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"team": "a"}}})),
        )
        .await
        .unwrap();
    wait_synced(&queues, &b, &[&log]).await;
    assert!(exists(b).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_resources_leaves_out_the_kinds_it_does_not_name() {
    let env = TestEnv::get();
    let bin = controller_binaries();
    env.install_crds(&[&crd("dynamodb", "tables")])
        .await
        .unwrap();
    let client = env.client().await;
    let ns = env.namespace("kinds").await;
    let dir = env.endpoints.dir.join(&ns);
    std::fs::create_dir_all(&dir).unwrap();
    let tables = api(&client, &ns, "dynamodb", "Table");
    let name = unique("kinds");
    create(&tables, &resource("dynamodb", "Table", &name, json!({}))).await;

    // Backup is a kind of ACK's dynamodb controller that ack-rs does not serve yet: accepted,
    // and Table is then not reconciled.
    let log = dir.join("dynamodb-backup-only.log");
    let mut args = wiring_args(env, &ns);
    args.extend(["--reconcile-resources".to_string(), "Backup".to_string()]);
    let mut only_backup = Controllers(vec![
        controller(env, &bin, "dynamodb", &args, &[], &log)
            .spawn()
            .unwrap(),
    ]);
    let deadline = Instant::now() + TIMEOUT;
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("nothing to reconcile")
    {
        assert!(
            only_backup.0[0].try_wait().unwrap().is_none(),
            "the controller exited: {}",
            std::fs::read_to_string(log.with_extension("stderr")).unwrap_or_default()
        );
        assert!(
            Instant::now() < deadline,
            "no decision logged in {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let obj = tables.get(&name).await.unwrap();
    assert!(untouched(&obj), "{obj:?}");
    let ddb = aws_sdk_dynamodb::Client::new(&env.aws().await);
    assert!(
        ddb.describe_table().table_name(&name).send().await.is_err(),
        "no table made"
    );
    assert!(
        only_backup.0[0].try_wait().unwrap().is_none(),
        "it keeps running"
    );
    drop(only_backup);

    // Naming Table reconciles the same CR.
    let log = dir.join("dynamodb-table.log");
    let mut args = wiring_args(env, &ns);
    args.extend([
        "--reconcile-resources".to_string(),
        "Backup,Table".to_string(),
    ]);
    let _controllers = Controllers(vec![
        controller(env, &bin, "dynamodb", &args, &[], &log)
            .spawn()
            .unwrap(),
    ]);
    wait_synced(&tables, &name, &[&log]).await;
}

#[tokio::test]
async fn refused_flags_stop_the_start_up_naming_the_flag() {
    let env = TestEnv::get();
    let bin = controller_binaries();
    // The apiserver judges the selector, against a kind it serves.
    env.install_crds(&[&crd("s3", "buckets")]).await.unwrap();
    let dir = env.endpoints.dir.join(unique("refusals"));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "sqs",
            &["--reconcile-resources", "Widget"],
            &["--reconcile-resources", "Widget", "Queue"],
        ),
        (
            "dynamodb",
            &["--reconcile-resource-max-concurrent-syncs", "Queue=2"],
            &["--reconcile-resource-max-concurrent-syncs", "Queue"],
        ),
        (
            "s3",
            &["--watch-selectors", "team in (a"],
            &["--watch-selectors", "team in (a"],
        ),
        (
            "sqs",
            &["--enable-webhook-server"],
            &["--enable-webhook-server"],
        ),
        ("sqs", &["--enable-carm=yes"], &["--enable-carm", "yes"]),
    ];
    for (i, (svc, extra, named)) in cases.iter().enumerate() {
        let mut args = vec![
            format!("--aws-region={}", env.endpoints.region),
            "--aws-endpoint-url=https://aws.invalid".to_string(),
        ];
        args.extend(own_ports());
        args.extend(extra.iter().map(|s| s.to_string()));
        let log = dir.join(format!("{i}.log"));
        let status = controller(env, &bin, svc, &args, &[], &log)
            .status()
            .unwrap();
        let stderr = std::fs::read_to_string(log.with_extension("stderr")).unwrap();
        assert!(
            !status.success(),
            "{svc} {extra:?} must not start: {stderr}"
        );
        for word in *named {
            assert!(
                stderr.contains(word),
                "{svc} {extra:?}: {word:?} in {stderr}"
            );
        }
    }
    // The plain-HTTP rule, as ACK has it.
    let log = dir.join("unsafe.log");
    let args = [
        format!("--aws-region={}", env.endpoints.region),
        format!("--aws-endpoint-url={}", env.endpoints.aws_endpoint_url),
    ];
    let status = controller(env, &bin, "sqs", &args, &[], &log)
        .status()
        .unwrap();
    let stderr = std::fs::read_to_string(log.with_extension("stderr")).unwrap();
    assert!(!status.success());
    assert!(
        stderr.contains("--allow-unsafe-aws-endpoint-urls"),
        "{stderr}"
    );
}
