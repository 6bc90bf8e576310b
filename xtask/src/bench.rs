//! `cargo xtask bench`: measures each controller on the test world — memory idle and under load,
//! time to converge N resources, round trips per resource per step (AWS calls counted at the
//! emulator, Kubernetes writes at the apiserver), where ack-rs's reconcile time goes (its phase
//! metrics), start-up to first reconcile, CPU time — and prints markdown tables and JSON.
//!
//! `--peer-bin PATH` runs another controller binary (e.g. one of ACK's, built elsewhere) through
//! the same driver, alternating with ours, and reports ratios. No peer is ever built here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
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
    /// Only these services (comma-separated: sqs, dynamodb, s3).
    #[arg(long, value_delimiter = ',')]
    pub services: Vec<String>,
    /// Cargo profile for the controller binaries.
    #[arg(long, default_value = "release")]
    pub profile: String,
    /// Reconciles at once (the controllers' --reconcile-default-max-concurrent-syncs);
    /// comma-separated to measure several.
    #[arg(long, value_delimiter = ',', default_values_t = [1u16])]
    pub concurrency: Vec<u16>,
    /// Another controller binary to run through the same driver, e.g. ACK's sqs-controller
    /// built elsewhere: `PATH` (its service read from a file name like `sqs-controller`) or
    /// `SERVICE=PATH`. Repeatable. Never built by this command.
    #[arg(long)]
    pub peer_bin: Vec<String>,
    /// The peer's CRDs: every `.yaml` in DIR (its kind's `<group>_<plural>.yaml` and whatever
    /// else it watches, e.g. ACK's `services.k8s.aws` kinds), installed before each of its runs
    /// and ours reinstalled after; without it both run on ours (same groups, kinds and fields).
    #[arg(long)]
    pub peer_crds: Option<PathBuf>,
    /// Alternating runs per controller (ours, peer, ours, peer, …); figures are their means.
    #[arg(long, default_value_t = 1)]
    pub repeats: usize,
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

/// A controller under test.
struct Contender {
    /// `ack-rs` or `peer`.
    label: &'static str,
    binary: PathBuf,
    /// CRDs to install before its runs; `None`: ours.
    crds: Option<PathBuf>,
}

struct Process {
    child: Child,
}

impl Process {
    fn rss_mib(&self) -> f64 {
        self.status_mib("VmRSS:")
    }

    /// A `/proc/<pid>/status` size in MiB: `VmRSS:`, `RssAnon:` (heap, stacks), `RssFile:`
    /// (the binary's pages in memory).
    fn status_mib(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
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

/// The machine's 1-minute load average: times measured on a shared machine say how busy it was.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux unless told otherwise).
fn clock_ticks_per_second() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output();
    out.ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// `SERVICE=PATH` or a `PATH` whose file name names the service.
fn peer_service(spec: &str) -> Result<(String, PathBuf)> {
    if let Some((service, path)) = spec.split_once('=') {
        return Ok((service.to_string(), PathBuf::from(path)));
    }
    let path = PathBuf::from(spec);
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default();
    let service = WORKLOADS
        .iter()
        .map(|w| w.service)
        // `s3` is a prefix of nothing else here, but check the longer names first.
        .filter(|s| file.starts_with(&format!("{s}-")) || file == *s)
        .max_by_key(|s| s.len())
        .with_context(|| {
            format!("--peer-bin {spec}: name the service (SERVICE=PATH) or the file <service>-controller")
        })?;
    Ok((service.to_string(), path))
}

pub fn run(args: Args) -> Result<()> {
    let mut peers = BTreeMap::new();
    for spec in &args.peer_bin {
        let (service, path) = peer_service(spec)?;
        if !path.is_file() {
            bail!("--peer-bin {}: no such file", path.display());
        }
        peers.insert(service, path);
    }
    let workloads: Vec<&Workload> = WORKLOADS
        .iter()
        .filter(|w| args.services.is_empty() || args.services.iter().any(|s| s == w.service))
        .collect();
    let bin_dir = build(&args.profile, &workloads)?;
    let world = world::start(&world::fresh_dir()?, Lifetime::Owned)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let mut results = Vec::new();
    let mut run_id = 0;
    for workload in workloads {
        let counts = if workload.kind == "Queue" {
            &args.queues
        } else {
            &args.others
        };
        let mut contenders = vec![Contender {
            label: "ack-rs",
            binary: bin_dir.join(format!("{}-controller", workload.service)),
            crds: None,
        }];
        if let Some(peer) = peers.get(workload.service) {
            contenders.push(Contender {
                label: "peer",
                binary: peer.clone(),
                crds: args.peer_crds.clone(),
            });
        }
        for &concurrency in &args.concurrency {
            let mut runs: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
            for _ in 0..args.repeats {
                for contender in &contenders {
                    run_id += 1;
                    let result = runtime.block_on(measure(
                        &world.endpoints,
                        contender,
                        workload,
                        counts,
                        concurrency,
                        run_id,
                    ))?;
                    eprintln!("{}", serde_json::to_string(&result)?);
                    runs.entry(contender.label).or_default().push(result);
                }
            }
            let mut entry = json!({
                "controller": format!("{}-controller", workload.service),
                "kind": workload.kind,
                "concurrency": concurrency,
            });
            for (label, list) in runs {
                entry[label] = mean(&list);
            }
            results.push(entry);
        }
    }
    let result = json!({
        "profile": args.profile,
        "repeats": args.repeats,
        "peers": peers,
        "results": results,
    });
    let table = markdown(&result, &args);
    println!("{table}");
    println!("{}", serde_json::to_string_pretty(&result)?);
    if args.write {
        write_doc(&args, &table, &result)?;
    }
    Ok(())
}

/// The mean of several runs' JSON, number by number (same shape each run).
fn mean(runs: &[Value]) -> Value {
    fn avg(values: &[&Value]) -> Value {
        match values[0] {
            Value::Number(_) => {
                let sum: f64 = values.iter().filter_map(|v| v.as_f64()).sum();
                json!(sum / values.len() as f64)
            }
            Value::Object(first) => Value::Object(
                first
                    .keys()
                    .map(|k| {
                        let column: Vec<&Value> = values.iter().map(|v| &v[k]).collect();
                        (k.clone(), avg(&column))
                    })
                    .collect(),
            ),
            Value::Array(first) => Value::Array(
                (0..first.len())
                    .map(|i| {
                        let column: Vec<&Value> = values.iter().map(|v| &v[i]).collect();
                        avg(&column)
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    let refs: Vec<&Value> = runs.iter().collect();
    avg(&refs)
}

fn write_doc(args: &Args, table: &str, result: &Value) -> Result<()> {
    let list = |v: &[usize]| {
        v.iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let path = repo_root().join("docs/benchmarks.md");
    // Hand-written analysis lives below the generated part and is kept.
    let kept = std::fs::read_to_string(&path)
        .ok()
        .and_then(|doc| {
            doc.find(ANALYSIS)
                .map(|at| doc[at..].split("\n## Raw").next().unwrap_or("").to_string())
        })
        .unwrap_or_else(|| format!("{ANALYSIS}\n\n(none yet)\n"));
    let doc = format!(
        "# Benchmarks\n\nOne run of `cargo xtask bench --profile {} --concurrency {} --queues {} \
         --others {}{} --write` on this project's machine kind (2 cores, 24 GiB, shared with \
         other builds while it ran, so times are noisy; counts and memory are not), against the \
         test world (kube-apiserver v1.36 + the moto emulator on loopback). Memory is the \
         controller's resident set (VmRSS) sampled every 250 ms; AWS calls are counted at the \
         emulator and Kubernetes writes (PATCH/PUT of the CR and its status, Events) at the \
         apiserver, per resource; each controller runs alone, watching one namespace.\n\n{table}\n\
         {kept}\n## Raw\n\n```json\n{}\n```\n",
        args.profile,
        args.concurrency
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(","),
        list(&args.queues),
        list(&args.others),
        if args.peer_bin.is_empty() {
            String::new()
        } else {
            format!(" --peer-bin … --repeats {}", args.repeats)
        },
        serde_json::to_string_pretty(result)?
    );
    std::fs::write(path, doc)?;
    Ok(())
}

/// The heading of docs/benchmarks.md's hand-written part, which `--write` keeps.
const ANALYSIS: &str = "## Analysis";

/// Builds the controller binaries measured; returns the directory holding them.
fn build(profile: &str, workloads: &[&Workload]) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(repo_root())
        .args(["build", "--profile", profile, "--bins"]);
    for w in workloads {
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

/// A port nothing listens on now, for the controller's metrics.
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Counters at one moment: AWS calls (emulator), Kubernetes requests (apiserver) and, for
/// ours, the controller's phase sums.
#[derive(Clone, Default)]
struct Snapshot {
    aws: f64,
    /// PATCH/PUT of the CR or its status.
    cr_writes: f64,
    events: f64,
    /// Metric name (with labels) → value, from the controller's `/metrics`.
    controller: BTreeMap<String, f64>,
}

struct Counters<'a> {
    emulator: &'a EmulatorControl,
    client: &'a kube::Client,
    service: &'a str,
    plural: &'a str,
    metrics_port: u16,
}

impl Counters<'_> {
    async fn snapshot(&self) -> Result<Snapshot> {
        let aws = calls(self.emulator, self.service)? as f64;
        let text = self
            .client
            .request_text(http::Request::get("/metrics").body(Vec::new())?)
            .await?;
        let (mut cr_writes, mut events) = (0.0, 0.0);
        for (name, labels, value) in samples(&text) {
            if name != "apiserver_request_total" {
                continue;
            }
            let verb = labels.get("verb").map(String::as_str).unwrap_or("");
            let resource = labels.get("resource").map(String::as_str).unwrap_or("");
            if resource == self.plural && matches!(verb, "PATCH" | "PUT" | "APPLY") {
                cr_writes += value;
            } else if resource == "events" && matches!(verb, "POST" | "PATCH" | "PUT") {
                events += value;
            }
        }
        let controller = controller_metrics(self.metrics_port).unwrap_or_default();
        Ok(Snapshot {
            aws,
            cr_writes,
            events,
            controller,
        })
    }
}

/// `(name, labels, value)` of every sample in a Prometheus text exposition.
fn samples(text: &str) -> Vec<(String, BTreeMap<String, String>, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let value: f64 = value.parse().ok()?;
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split("\",")
                .filter_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    Some((k.trim().to_string(), v.trim_matches('"').to_string()))
                })
                .collect();
            Some((name.to_string(), labels, value))
        })
        .collect()
}

/// Our controller's phase sums and counts; empty for a peer (other metric names).
fn controller_metrics(port: u16) -> Result<BTreeMap<String, f64>> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut body = String::new();
    stream.read_to_string(&mut body)?;
    let mut out = BTreeMap::new();
    for (name, labels, value) in samples(&body) {
        let key = match name.as_str() {
            "ack_reconcile_phase_duration_seconds_sum" => {
                format!(
                    "{}_seconds",
                    labels.get("phase").cloned().unwrap_or_default()
                )
            }
            "ack_reconcile_duration_seconds_sum" => "reconcile_seconds".into(),
            "ack_reconcile_duration_seconds_count" => "reconciles".into(),
            _ => continue,
        };
        *out.entry(key).or_default() += value;
    }
    Ok(out)
}

/// Per resource, what happened between two snapshots.
fn per_resource(before: &Snapshot, after: &Snapshot, n: usize, driver_writes: f64) -> Value {
    let n = n.max(1) as f64;
    let mut phases = serde_json::Map::new();
    for (key, value) in &after.controller {
        let delta = value - before.controller.get(key).copied().unwrap_or(0.0);
        phases.insert(key.clone(), json!(delta / n));
    }
    json!({
        "aws_calls": (after.aws - before.aws) / n,
        "kubernetes_writes": (after.cr_writes - before.cr_writes - driver_writes).max(0.0) / n,
        "events": (after.events - before.events) / n,
        "phases": phases,
    })
}

async fn install_crd(endpoints: &world::Endpoints, file: &Path, name: &str) -> Result<()> {
    let kubectl = |args: &[&str]| {
        Command::new(&endpoints.kubectl)
            .env("KUBECONFIG", &endpoints.kubeconfig)
            .args(args)
            .output()
    };
    let out = kubectl(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        &file.display().to_string(),
    ])?;
    if !out.status.success() {
        bail!(
            "installing {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if !name.is_empty() {
        kubectl(&["wait", "--for=condition=Established", name, "--timeout=60s"])?;
    }
    Ok(())
}

async fn measure(
    endpoints: &world::Endpoints,
    contender: &Contender,
    workload: &Workload,
    counts: &[usize],
    concurrency: u16,
    run_id: usize,
) -> Result<Value> {
    let client = testenv::kube_client(&endpoints.kubeconfig).await?;
    let file = format!("{}_{}.yaml", workload.group, workload.plural);
    let crd = match &contender.crds {
        Some(dir) => dir.join(&file),
        None => repo_root().join("crds").join(&file),
    };
    let crd_name = format!("crd/{}.{}", workload.plural, workload.group);
    if let Some(dir) = &contender.crds {
        // What else the peer watches; CRDs already there are left as they are.
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "yaml") && path.file_name() != crd.file_name()
            {
                install_crd(endpoints, &path, "").await?;
            }
        }
    }
    install_crd(endpoints, &crd, &crd_name).await?;
    let namespace = format!("bench-{}-{run_id}", workload.service);
    Command::new(&endpoints.kubectl)
        .env("KUBECONFIG", &endpoints.kubeconfig)
        .args(["create", "namespace", &namespace])
        .output()?;
    let gvk = GroupVersionKind::gvk(workload.group, "v1alpha1", workload.kind);
    let resource = ApiResource::from_gvk_with_plural(&gvk, workload.plural);
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, &resource);
    let emulator = EmulatorControl::new(&endpoints.aws_endpoint_url);
    let metrics_port = free_port()?;
    let counters = Counters {
        emulator: &emulator,
        client: &client,
        service: workload.service,
        plural: workload.plural,
        metrics_port,
    };
    let tag = format!("r{run_id}");

    // A resource exists before the controller starts: start-up is measured to its first sync.
    create(&api, &resource, workload, &tag, "probe", 1).await?;
    let started = Instant::now();
    // The controller's output, to read when it does not converge.
    let log = std::env::temp_dir().join(format!("ack-bench-{run_id}-{}.log", contender.label));
    let spawn = || -> Result<Process> {
        Ok(Process {
            child: Command::new(&contender.binary)
                .envs(endpoints.env())
                .arg(format!("--aws-region={}", endpoints.region))
                .arg(format!("--aws-endpoint-url={}", endpoints.aws_endpoint_url))
                // The emulator speaks plain HTTP and serves buckets by path.
                .args([
                    "--allow-unsafe-aws-endpoint-urls",
                    "--aws-endpoint-use-path-style",
                ])
                .arg(format!("--watch-namespace={namespace}"))
                .arg(format!(
                    "--reconcile-default-max-concurrent-syncs={concurrency}"
                ))
                .arg(format!("--metrics-addr=127.0.0.1:{metrics_port}"))
                .args(["--healthz-addr=127.0.0.1:0", "--log-level=warn"])
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log)?)
                .spawn()
                .with_context(|| format!("starting {}", contender.binary.display()))?,
        })
    };
    let mut controller = spawn()?;
    let mut peak = 0.0;
    wait_synced(
        &api,
        "probe",
        1,
        Duration::from_secs(60),
        &controller,
        &mut peak,
    )
    .await
    .with_context(|| format!("{}'s output is in {}", contender.label, log.display()))?;
    let first_reconcile = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle_rss = controller.rss_mib();
    let idle_anon = controller.status_mib("RssAnon:");
    let idle_file = controller.status_mib("RssFile:");

    let mut loads = Vec::new();
    let mut total = 1;
    for &n in counts {
        let prefix = format!("load{n}");
        let before = counters.snapshot().await?;
        let t = Instant::now();
        let mut peak = controller.rss_mib();
        create(&api, &resource, workload, &tag, &prefix, n).await?;
        wait_synced(
            &api,
            &prefix,
            n,
            Duration::from_secs(1800),
            &controller,
            &mut peak,
        )
        .await?;
        let converge = t.elapsed();
        settle(&emulator, workload.service).await?;
        let after = counters.snapshot().await?;
        total += n;
        loads.push(json!({
            "resources": n,
            "converge_seconds": converge.as_secs_f64(),
            "peak_rss_mib": peak,
            "steady_rss_mib": controller.rss_mib(),
            "load_average": load_average(),
            "create": per_resource(&before, &after, n, 0.0),
        }));
    }

    // A forced resync of every resource (refresh-requested-at).
    let before = counters.snapshot().await?;
    let list = api.list(&Default::default()).await?;
    let stamp = format!("{}", started.elapsed().as_nanos());
    for obj in &list.items {
        let patch =
            json!({"metadata": {"annotations": {"services.k8s.aws/refresh-requested-at": stamp}}});
        let name = obj.metadata.name.clone().unwrap_or_default();
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
    }
    settle(&emulator, workload.service).await?;
    let after = counters.snapshot().await?;
    let resync = per_resource(&before, &after, list.items.len(), list.items.len() as f64);
    let cpu = controller.cpu_seconds();

    // A restart: every resource is reconciled once, as a periodic resync would (ACK's
    // controllers ignore refresh-requested-at, so this is the resync both can be measured on).
    drop(controller);
    let before = counters.snapshot().await?;
    controller = spawn()?;
    let deadline = Instant::now() + Duration::from_secs(600);
    // At least one call per resource, then quiet.
    while calls(&emulator, workload.service)? < before.aws as usize + list.items.len() {
        if Instant::now() > deadline {
            bail!("no resync of every {} after a restart", workload.kind);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    settle(&emulator, workload.service).await?;
    let after = counters.snapshot().await?;
    let restart = per_resource(&before, &after, list.items.len(), 0.0);

    // Delete everything; the next run starts from nothing.
    let before = counters.snapshot().await?;
    let t = Instant::now();
    api.delete_collection(&DeleteParams::default(), &Default::default())
        .await?;
    let deadline = Instant::now() + Duration::from_secs(1800);
    while !api.list(&Default::default()).await?.items.is_empty() {
        if Instant::now() > deadline {
            bail!("{} resources not deleted after 30 minutes", workload.kind);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let delete_seconds = t.elapsed().as_secs_f64();
    settle(&emulator, workload.service).await?;
    let after = counters.snapshot().await?;
    let delete = per_resource(&before, &after, total, 0.0);
    // Per resource over its whole life: the loads' creates (weighted by size) and the delete.
    let created: f64 = loads.iter().filter_map(|l| l["resources"].as_f64()).sum();
    let cycle = |key: &str| {
        let create: f64 = loads
            .iter()
            .filter_map(|l| Some(l["create"][key].as_f64()? * l["resources"].as_f64()?))
            .sum();
        create / created.max(1.0) + delete[key].as_f64().unwrap_or(0.0)
    };
    let cycle = json!({
        "aws_calls": cycle("aws_calls"),
        "kubernetes_writes": cycle("kubernetes_writes"),
    });
    drop(controller);
    let _ = std::fs::remove_file(&log);

    Ok(json!({
        "idle_rss_mib": idle_rss,
        "idle_rss_anon_mib": idle_anon,
        "idle_rss_file_mib": idle_file,
        "start_to_first_reconcile_seconds": first_reconcile.as_secs_f64(),
        "loads": loads,
        "resync": resync,
        "restart": restart,
        "delete": delete,
        "cycle": cycle,
        "delete_all_seconds": delete_seconds,
        "cpu_seconds_total": cpu,
    }))
}

async fn create(
    api: &Api<DynamicObject>,
    resource: &ApiResource,
    workload: &Workload,
    tag: &str,
    prefix: &str,
    n: usize,
) -> Result<()> {
    for i in 0..n {
        let name = format!("{prefix}-{i}");
        let aws_name = format!("bench-{tag}-{prefix}-{i}-{}", std::process::id());
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
    for r in result["results"].as_array().into_iter().flatten() {
        let kind = r["kind"].as_str().unwrap_or("?");
        let has_peer = r.get("peer").is_some();
        out.push_str(&format!(
            "### {} ({} build, concurrency {})\n\n",
            r["controller"].as_str().unwrap_or("?"),
            args.profile,
            r["concurrency"]
        ));
        out.push_str(if has_peer {
            "| measure | ack-rs | peer | ack-rs / peer |\n|---|---|---|---|\n"
        } else {
            "| measure | ack-rs |\n|---|---|\n"
        });
        let row = |out: &mut String, label: &str, path: &[&str], unit: &str, digits: usize| {
            let get = |who: &str| {
                let mut v = &r[who];
                for p in path {
                    v = match p.parse::<usize>() {
                        Ok(i) => &v[i],
                        Err(_) => &v[*p],
                    };
                }
                v.as_f64()
            };
            let ours = get("ack-rs").unwrap_or(0.0);
            let cell = |v: f64| format!("{v:.digits$}{unit}");
            if has_peer {
                let peer = get("peer").unwrap_or(0.0);
                let ratio = if peer > 0.0 {
                    format!("{:.2}", ours / peer)
                } else {
                    "–".into()
                };
                out.push_str(&format!(
                    "| {label} | {} | {} | {ratio} |\n",
                    cell(ours),
                    cell(peer)
                ));
            } else {
                out.push_str(&format!("| {label} | {} |\n", cell(ours)));
            }
        };
        row(
            &mut out,
            "resident memory, idle",
            &["idle_rss_mib"],
            " MiB",
            1,
        );
        row(
            &mut out,
            "… of it heap and stacks (RssAnon)",
            &["idle_rss_anon_mib"],
            " MiB",
            1,
        );
        row(
            &mut out,
            "… of it the binary's pages (RssFile)",
            &["idle_rss_file_mib"],
            " MiB",
            1,
        );
        let loads = r["ack-rs"]["loads"].as_array().cloned().unwrap_or_default();
        for (i, load) in loads.iter().enumerate() {
            let n = &load["resources"];
            let i = i.to_string();
            row(
                &mut out,
                &format!("{n} {kind}s: time to all ACK.ResourceSynced"),
                &["loads", &i, "converge_seconds"],
                " s",
                1,
            );
            row(
                &mut out,
                &format!("{n} {kind}s: load average (1 min) when Synced"),
                &["loads", &i, "load_average"],
                "",
                1,
            );
            row(
                &mut out,
                &format!("{n} {kind}s: peak memory"),
                &["loads", &i, "peak_rss_mib"],
                " MiB",
                1,
            );
            for (what, key) in [
                ("AWS calls", "aws_calls"),
                ("Kubernetes writes", "kubernetes_writes"),
                ("Events", "events"),
            ] {
                row(
                    &mut out,
                    &format!("{n} {kind}s: {what} per create → Synced"),
                    &["loads", &i, "create", key],
                    "",
                    2,
                );
            }
        }
        for (step, label) in [
            ("resync", "forced resync (refresh-requested-at)"),
            ("restart", "resync at a restart"),
            ("delete", "delete"),
            ("cycle", "create → delete cycle"),
        ] {
            for (what, key) in [
                ("AWS calls", "aws_calls"),
                ("Kubernetes writes", "kubernetes_writes"),
            ] {
                row(
                    &mut out,
                    &format!("{what} per {label}, per {kind}"),
                    &[step, key],
                    "",
                    2,
                );
            }
        }
        row(
            &mut out,
            "process start → first reconcile done",
            &["start_to_first_reconcile_seconds"],
            " s",
            2,
        );
        row(
            &mut out,
            "CPU seconds, whole run",
            &["cpu_seconds_total"],
            " s",
            1,
        );
        // Where ack-rs's reconcile time went, per resource (its own phase metrics).
        if let Some(first) = loads.first() {
            let phases = &first["create"]["phases"];
            if phases.as_object().is_some_and(|p| !p.is_empty()) {
                let p = |k: &str| phases[k].as_f64().unwrap_or(0.0) * 1000.0;
                out.push_str(&format!(
                    "\nack-rs, {} {kind}s, per resource: {:.2} reconciles taking {:.1} ms in all \
                     — AWS calls {:.1} ms, Kubernetes writes {:.1} ms, the rest {:.1} ms; \
                     requeue waits asked for {:.1} ms; waiting in the queue {:.1} ms.\n",
                    first["resources"],
                    phases["reconciles"].as_f64().unwrap_or(0.0),
                    p("reconcile_seconds"),
                    p("aws_seconds"),
                    p("kube_write_seconds"),
                    p("reconcile_seconds") - p("aws_seconds") - p("kube_write_seconds"),
                    p("requeue_wait_seconds"),
                    p("queue_wait_seconds"),
                ));
            }
        }
        out.push('\n');
    }
    out
}
