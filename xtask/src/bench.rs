//! `cargo xtask bench`: measures each controller on the test world — memory idle and under load,
//! time to converge N resources, AWS calls per resync (counted at the emulator), start-up to first
//! reconcile, CPU time — and prints a markdown table and JSON.
//!
//! ACK's own controllers are not measured: the Go module proxy refuses
//! `github.com/aws-controllers-k8s/*` here, so they cannot be built (see docs/benchmarks.md).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use serde_json::{Value, json};
use testenv::launch::Lifetime;
use testenv::{EmulatorControl, world};

use crate::repo_root;

#[derive(ClapArgs)]
pub struct Args {
    /// How many Queues to converge (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [100usize, 500])]
    pub queues: Vec<usize>,
    /// How many Tables and (tags-only) Buckets to converge (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [100usize])]
    pub others: Vec<usize>,
    /// Cargo profile for the controller binaries.
    #[arg(long, default_value = "release")]
    pub profile: String,
    /// Reconciles at once (the controllers' --reconcile-default-max-concurrent-syncs).
    #[arg(long, default_value_t = 1)]
    pub concurrency: u16,
    /// Write the result to docs/benchmarks.md.
    #[arg(long)]
    pub write: bool,
}

/// One kind measured with its controller.
struct Workload {
    service: &'static str,
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    /// The spec of resource `name` (the AWS name too).
    spec: fn(&str) -> Value,
}

const WORKLOADS: [Workload; 3] = [
    Workload {
        service: "sqs",
        group: "sqs.services.k8s.aws",
        kind: "Queue",
        plural: "queues",
        spec: |name| json!({"queueName": name}),
    },
    Workload {
        service: "dynamodb",
        group: "dynamodb.services.k8s.aws",
        kind: "Table",
        plural: "tables",
        spec: |name| {
            json!({
                "tableName": name,
                "billingMode": "PAY_PER_REQUEST",
                "attributeDefinitions": [{"attributeName": "id", "attributeType": "S"}],
                "keySchema": [{"attributeName": "id", "keyType": "HASH"}],
            })
        },
    },
    Workload {
        service: "s3",
        group: "s3.services.k8s.aws",
        kind: "Bucket",
        plural: "buckets",
        // Tags only: the case ACK pays most for (it reads every sub-configuration each resync).
        spec: |name| json!({"name": name, "tagging": {"tagSet": [{"key": "team", "value": "bench"}]}}),
    },
];

struct Process {
    child: Child,
}

impl Process {
    fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    }

    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name: utime and stime are the 12th and 13th.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: f64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
            .sum();
        ticks / clock_ticks_per_second()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux unless told otherwise).
fn clock_ticks_per_second() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output();
    out.ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

pub fn run(args: Args) -> Result<()> {
    let bin_dir = build(&args.profile)?;
    let world = world::start(&world::fresh_dir()?, Lifetime::Owned)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let mut results = Vec::new();
    for workload in &WORKLOADS {
        let counts = if workload.kind == "Queue" {
            &args.queues
        } else {
            &args.others
        };
        let binary = bin_dir.join(format!("{}-controller", workload.service));
        results.push(runtime.block_on(measure(
            &world.endpoints,
            &binary,
            workload,
            counts,
            &args,
        ))?);
    }
    let result =
        json!({"profile": args.profile, "concurrency": args.concurrency, "controllers": results});
    let table = markdown(&result, &args);
    println!("{table}");
    println!("{}", serde_json::to_string_pretty(&result)?);
    if args.write {
        write_doc(&args, &table, &result)?;
    }
    Ok(())
}

fn write_doc(args: &Args, table: &str, result: &Value) -> Result<()> {
    let list = |v: &[usize]| {
        v.iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let doc = format!(
        "# Benchmarks\n\nOne run of `cargo xtask bench --profile {} --concurrency {} --queues {} \
         --others {} --write` on this project's machine kind (2 cores, 24 GiB), against the test \
         world (kube-apiserver v1.36 + the moto emulator on loopback). Memory is the controller's \
         resident set (VmRSS) sampled every 250 ms; AWS calls are counted at the emulator; each \
         controller runs alone, watching one namespace. Convergence time includes the emulator's \
         own latency, which dominates on this machine.\n\n{table}\n\
         ## ACK side by side\n\nNot measured: the Go module proxy this project can reach answers \
         `403 This module version is not available` for `github.com/aws-controllers-k8s/*` \
         (sqs-controller v1.6.1, s3-controller v1.10.0, dynamodb-controller v1.9.2 and their \
         runtime), so ACK's controllers cannot be built here. The ratios against ACK's memory and \
         convergence time stay open until they can; the AWS-call target (≤ 2 per resync of a \
         tags-only Bucket) is met.\n\n## Raw\n\n```json\n{}\n```\n",
        args.profile,
        args.concurrency,
        list(&args.queues),
        list(&args.others),
        serde_json::to_string_pretty(result)?
    );
    std::fs::write(repo_root().join("docs/benchmarks.md"), doc)?;
    Ok(())
}

/// Builds every controller binary; returns the directory holding them.
fn build(profile: &str) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(repo_root())
        .args(["build", "--profile", profile, "--bins"]);
    for w in &WORKLOADS {
        cmd.args(["-p", &format!("ack-{}", w.service)]);
    }
    if !cmd.status()?.success() {
        bail!("building the controllers failed");
    }
    let meta: Value = serde_json::from_slice(
        &Command::new(&cargo)
            .current_dir(repo_root())
            .args(["metadata", "--format-version=1", "--no-deps"])
            .output()?
            .stdout,
    )?;
    let dir = if profile == "dev" { "debug" } else { profile };
    Ok(PathBuf::from(meta["target_directory"].as_str().context("target dir")?).join(dir))
}

async fn measure(
    endpoints: &world::Endpoints,
    binary: &Path,
    workload: &Workload,
    counts: &[usize],
    args: &Args,
) -> Result<Value> {
    let client = testenv::kube_client(&endpoints.kubeconfig).await?;
    let crd = repo_root().join(format!("crds/{}_{}.yaml", workload.group, workload.plural));
    let kubectl = |args: &[&str]| {
        Command::new(&endpoints.kubectl)
            .env("KUBECONFIG", &endpoints.kubeconfig)
            .args(args)
            .output()
    };
    let out = kubectl(&["apply", "--server-side", "-f", &crd.display().to_string()])?;
    if !out.status.success() {
        bail!(
            "installing {}: {}",
            crd.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let name = format!("crd/{}.{}", workload.plural, workload.group);
    kubectl(&[
        "wait",
        "--for=condition=Established",
        &name,
        "--timeout=60s",
    ])?;
    let namespace = format!("bench-{}", workload.service);
    kubectl(&["create", "namespace", &namespace])?;
    let gvk = GroupVersionKind::gvk(workload.group, "v1alpha1", workload.kind);
    let resource = ApiResource::from_gvk_with_plural(&gvk, workload.plural);
    let api: Api<DynamicObject> = Api::namespaced_with(client, &namespace, &resource);
    let emulator = EmulatorControl::new(&endpoints.aws_endpoint_url);

    // A resource exists before the controller starts: start-up is measured to its first sync.
    create(&api, &resource, workload, "probe", 1).await?;
    let started = Instant::now();
    let controller = Process {
        child: Command::new(binary)
            .envs(endpoints.env())
            .arg(format!("--aws-region={}", endpoints.region))
            .arg(format!("--aws-endpoint-url={}", endpoints.aws_endpoint_url))
            .arg(format!("--watch-namespace={namespace}"))
            .arg(format!(
                "--reconcile-default-max-concurrent-syncs={}",
                args.concurrency
            ))
            .args([
                "--metrics-addr=127.0.0.1:0",
                "--healthz-addr=127.0.0.1:0",
                "--log-level=warn",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?,
    };
    let mut peak = 0.0;
    wait_synced(
        &api,
        "probe",
        1,
        Duration::from_secs(60),
        &controller,
        &mut peak,
    )
    .await?;
    let first_reconcile = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle_rss = controller.rss_mib();

    let mut loads = Vec::new();
    for &n in counts {
        let prefix = format!("load{n}");
        let t = Instant::now();
        let mut peak = controller.rss_mib();
        create(&api, &resource, workload, &prefix, n).await?;
        wait_synced(
            &api,
            &prefix,
            n,
            Duration::from_secs(1200),
            &controller,
            &mut peak,
        )
        .await?;
        let converge = t.elapsed();
        tokio::time::sleep(Duration::from_secs(3)).await;
        loads.push(json!({
            "resources": n,
            "converge_seconds": converge.as_secs_f64(),
            "peak_rss_mib": peak,
            "steady_rss_mib": controller.rss_mib(),
        }));
    }

    // A forced resync of every resource (refresh-requested-at), counted at the emulator.
    let before = calls(&emulator, workload.service)?;
    let list = api.list(&Default::default()).await?;
    let stamp = format!("{}", started.elapsed().as_nanos());
    for obj in &list.items {
        let patch =
            json!({"metadata": {"annotations": {"services.k8s.aws/refresh-requested-at": stamp}}});
        let name = obj.metadata.name.clone().unwrap_or_default();
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
    }
    let after = settle(&emulator, workload.service).await?;
    let per_resync = (after - before) as f64 / list.items.len().max(1) as f64;

    Ok(json!({
        "controller": format!("{}-controller", workload.service),
        "kind": workload.kind,
        "idle_rss_mib": idle_rss,
        "start_to_first_reconcile_seconds": first_reconcile.as_secs_f64(),
        "loads": loads,
        "aws_calls_per_forced_resync": per_resync,
        "cpu_seconds_total": controller.cpu_seconds(),
    }))
}

async fn create(
    api: &Api<DynamicObject>,
    resource: &ApiResource,
    workload: &Workload,
    prefix: &str,
    n: usize,
) -> Result<()> {
    for i in 0..n {
        let name = format!("{prefix}-{i}");
        let aws_name = format!("bench-{prefix}-{i}-{}", std::process::id());
        let mut obj = DynamicObject::new(&name, resource);
        obj.data = json!({ "spec": (workload.spec)(&aws_name) });
        api.create(&PostParams::default(), &obj).await?;
    }
    Ok(())
}

async fn wait_synced(
    api: &Api<DynamicObject>,
    prefix: &str,
    n: usize,
    timeout: Duration,
    controller: &Process,
    peak_rss: &mut f64,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        *peak_rss = peak_rss.max(controller.rss_mib());
        let list = api.list(&Default::default()).await?;
        let synced = list
            .items
            .iter()
            .filter(|o| {
                o.metadata
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with(prefix))
            })
            .filter(|o| {
                testenv::condition_status(*o, "ACK.ResourceSynced").as_deref() == Some("True")
            })
            .count();
        if synced >= n {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{synced}/{n} {prefix} resources synced after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn calls(emulator: &EmulatorControl, service: &str) -> Result<usize> {
    Ok(emulator
        .requests()?
        .iter()
        .filter(|r| r.service == service)
        .count())
}

/// The service's call count once no call has arrived for two seconds.
async fn settle(emulator: &EmulatorControl, service: &str) -> Result<usize> {
    let mut last = calls(emulator, service)?;
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = calls(emulator, service)?;
        if now == last {
            return Ok(now);
        }
        last = now;
    }
}

fn markdown(result: &Value, args: &Args) -> String {
    let mut out = String::new();
    for c in result["controllers"].as_array().into_iter().flatten() {
        let kind = c["kind"].as_str().unwrap_or("?");
        out.push_str(&format!(
            "### {} ({} build, concurrency {})\n\n| measure | ack-rs |\n|---|---|\n",
            c["controller"].as_str().unwrap_or("?"),
            args.profile,
            args.concurrency
        ));
        out.push_str(&format!(
            "| resident memory, idle | {:.1} MiB |\n",
            c["idle_rss_mib"].as_f64().unwrap_or(0.0)
        ));
        for run in c["loads"].as_array().into_iter().flatten() {
            let n = &run["resources"];
            out.push_str(&format!(
                "| {n} {kind}s: time to all ACK.ResourceSynced | {:.1} s |\n| {n} {kind}s: peak / steady memory | {:.1} / {:.1} MiB |\n",
                run["converge_seconds"].as_f64().unwrap_or(0.0),
                run["peak_rss_mib"].as_f64().unwrap_or(0.0),
                run["steady_rss_mib"].as_f64().unwrap_or(0.0),
            ));
        }
        out.push_str(&format!(
            "| AWS calls per forced resync, per {kind} | {:.2} |\n| process start → first reconcile done | {:.2} s |\n| CPU seconds, whole run | {:.1} s |\n\n",
            c["aws_calls_per_forced_resync"].as_f64().unwrap_or(0.0),
            c["start_to_first_reconcile_seconds"].as_f64().unwrap_or(0.0),
            c["cpu_seconds_total"].as_f64().unwrap_or(0.0),
        ));
    }
    out
}
