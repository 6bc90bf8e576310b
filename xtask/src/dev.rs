//! `cargo xtask dev`: a running playground in one command — the test world, the CRDs, every
//! controller, the example app chart and one adopted resource — until Ctrl-C.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use testenv::launch::{self, Lifetime, Proc};
use testenv::{emulator, world};

use crate::repo_root;

/// A service whose crate has a controller binary (`services/<svc>/src/main.rs`).
struct Controller {
    service: String,
}

impl Controller {
    fn binary_name(&self) -> String {
        format!("{}-controller", self.service)
    }

    fn package(&self) -> String {
        format!("ack-{}", self.service)
    }
}

fn controllers() -> Result<Vec<Controller>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(repo_root().join("services"))? {
        let dir = entry?.path();
        if dir.join("src/main.rs").is_file() {
            let service = dir.file_name().unwrap().to_string_lossy().to_string();
            found.push(Controller { service });
        }
    }
    found.sort_by(|a, b| a.service.cmp(&b.service));
    Ok(found)
}

pub fn run() -> Result<()> {
    let started = Instant::now();
    let controllers = controllers()?;
    if controllers.is_empty() {
        bail!("no controller binaries yet (services/<svc>/src/main.rs)");
    }
    eprintln!("[dev] building controllers: {}", names(&controllers));
    let mut build = cargo();
    build.current_dir(repo_root()).args(["build", "--bins"]);
    for c in &controllers {
        build.args(["-p", &c.package()]);
    }
    if !build.status()?.success() {
        bail!("building the controllers failed");
    }
    let bin_dir = target_dir()?.join("debug");

    eprintln!("[dev] starting the test world (builds the Go binaries and venv on first use)");
    let world = world::start(&world::fresh_dir()?, Lifetime::Owned)?;
    let endpoints = &world.endpoints;
    let kubectl = |args: &[&str]| -> Result<String> {
        let out = Command::new(&endpoints.kubectl)
            .env("KUBECONFIG", &endpoints.kubeconfig)
            .args(args)
            .output()?;
        if !out.status.success() {
            bail!(
                "kubectl {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    kubectl(&[
        "apply",
        "--server-side",
        "-f",
        &path(&repo_root().join("crds")),
    ])?;
    kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd",
        "--all",
        "--timeout=60s",
    ])?;

    let mut procs: Vec<Proc> = Vec::new();
    for c in &controllers {
        let log = endpoints.dir.join(format!("{}.log", c.binary_name()));
        let mut cmd = Command::new(bin_dir.join(c.binary_name()));
        cmd.envs(endpoints.env())
            .arg(format!("--aws-region={}", endpoints.region))
            .arg(format!("--aws-endpoint-url={}", endpoints.aws_endpoint_url))
            // The emulator speaks plain HTTP and serves buckets by path.
            .args([
                "--allow-unsafe-aws-endpoint-urls",
                "--aws-endpoint-use-path-style",
            ])
            .arg(format!("--metrics-addr=127.0.0.1:{}", launch::free_port()?))
            .arg(format!("--healthz-addr=127.0.0.1:{}", launch::free_port()?))
            .arg("--reconcile-default-max-concurrent-syncs=4");
        procs.push(launch::start(Lifetime::Owned, &c.binary_name(), cmd, &log)?);
        eprintln!("[dev] {} running, log: {}", c.binary_name(), log.display());
    }

    adopt_example_queue(endpoints, &kubectl)?;
    let mut helm = Command::new(&endpoints.helm);
    helm.env("KUBECONFIG", &endpoints.kubeconfig)
        .env("HELM_CACHE_HOME", endpoints.dir.join("helm/cache"))
        .env("HELM_CONFIG_HOME", endpoints.dir.join("helm/config"))
        .env("HELM_DATA_HOME", endpoints.dir.join("helm/data"))
        .args(["install", "my-app"])
        .arg(repo_root().join("examples/app-chart"))
        .args(["--namespace", "default"])
        .arg(format!(
            "--set=bucket.name=dev-assets-{}",
            std::process::id()
        ));
    if !helm.status()?.success() {
        bail!("helm install of examples/app-chart failed");
    }

    let kinds = kinds(&controllers)?;
    wait_synced(&kubectl, &kinds, Duration::from_secs(120))?;
    println!("{}", kubectl(&["get", &kinds, "-A"])?);
    eprintln!(
        "[dev] ready in {:.0?}. In another shell:\n{}\n[dev] Ctrl-C stops everything.",
        started.elapsed(),
        endpoints.exports()
    );
    wait_for_ctrl_c();
    eprintln!("[dev] stopping");
    drop(procs);
    drop(world);
    Ok(())
}

/// A queue made outside Kubernetes, with a system tag, then adopted by a CR.
fn adopt_example_queue(
    endpoints: &world::Endpoints,
    kubectl: &dyn Fn(&[&str]) -> Result<String>,
) -> Result<()> {
    let venv = emulator::ensure_venv()?;
    let script = "import boto3, json, sys, urllib.request\n\
        sqs = boto3.client('sqs', region_name=sys.argv[2])\n\
        url = sqs.create_queue(QueueName='dev-adopted')['QueueUrl']\n\
        body = json.dumps({'service': 'sqs', 'resource': url, 'tags': {'aws:cloudformation:stack-name': 'legacy'}}).encode()\n\
        urllib.request.urlopen(urllib.request.Request(sys.argv[1] + '/_ackrs/system-tags', body, {'Content-Type': 'application/json'}))\n\
        print(url)\n";
    let out = Command::new(emulator::python(&venv))
        .envs(endpoints.env())
        .args(["-c", script, &endpoints.aws_endpoint_url, &endpoints.region])
        .output()?;
    if !out.status.success() {
        bail!(
            "creating the queue to adopt: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let manifest = std::fs::read_to_string(repo_root().join("examples/dev/adopted-queue.yaml"))?
        .replace("$QUEUE_URL", &url);
    let file = endpoints.dir.join("adopted-queue.yaml");
    std::fs::write(&file, manifest)?;
    kubectl(&["apply", "-f", &path(&file)])?;
    Ok(())
}

fn wait_synced(
    kubectl: &dyn Fn(&[&str]) -> Result<String>,
    kinds: &str,
    timeout: Duration,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let list: serde_json::Value =
            serde_json::from_str(&kubectl(&["get", kinds, "-A", "-o", "json"])?)?;
        let items = list["items"].as_array().cloned().unwrap_or_default();
        let pending: Vec<String> = items
            .iter()
            .filter(|o| {
                !o["status"]["conditions"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "ACK.ResourceSynced" && c["status"] == "True")
                })
            })
            .map(|o| {
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap_or("?"),
                    o["metadata"]["name"].as_str().unwrap_or("?")
                )
            })
            .collect();
        if !items.is_empty() && pending.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("not synced after {timeout:?}: {}", pending.join(", "));
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// `plural.group` of every CRD a running controller owns, from `crds/<group>_<plural>.yaml`.
fn kinds(controllers: &[Controller]) -> Result<String> {
    let mut kinds = Vec::new();
    for entry in std::fs::read_dir(repo_root().join("crds"))? {
        let name = entry?.file_name().to_string_lossy().to_string();
        let Some((group, plural)) = name.trim_end_matches(".yaml").split_once('_') else {
            continue;
        };
        let service = group.split('.').next().unwrap_or_default();
        if controllers.iter().any(|c| c.service == service) {
            kinds.push(format!("{plural}.{group}"));
        }
    }
    kinds.sort();
    Ok(kinds.join(","))
}

fn names(controllers: &[Controller]) -> String {
    controllers
        .iter()
        .map(Controller::binary_name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn wait_for_ctrl_c() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the signal handler");
    runtime.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

pub(crate) fn target_dir() -> Result<PathBuf> {
    let out = cargo()
        .current_dir(repo_root())
        .args(["metadata", "--format-version=1", "--no-deps"])
        .output()?;
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).context("cargo metadata")?;
    Ok(PathBuf::from(
        meta["target_directory"]
            .as_str()
            .context("cargo metadata gave no target_directory")?,
    ))
}

fn path(p: &Path) -> String {
    p.display().to_string()
}
