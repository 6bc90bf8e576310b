//! etcd + kube-apiserver on 127.0.0.1, configured like envtest plus what our tests need: RBAC, a
//! static admin token in `system:masters`, and service-account signing keys (so tests can mint
//! tokens for a chart's ServiceAccount and really exercise its RBAC).
//!
//! With a node, kube-apiserver listens on the node bridge's gateway instead (so pods reach it),
//! authorizes kubelet with the Node authorizer, mounts service-account tokens into pods (the
//! ServiceAccount admission plugin) and gives the node's components tokens and kubeconfigs.

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::gobuild::{ETCD, KUBERNETES};
use crate::launch::{self, Lifetime, Proc};
use crate::node::{self, Network};

pub struct ControlPlane {
    pub url: String,
    pub port: u16,
    pub kubeconfig: PathBuf,
    /// kube-apiserver's self-signed serving certificate and its CA (`apiserver.crt`).
    pub cert_dir: PathBuf,
    /// etcd, then kube-apiserver.
    pub procs: Vec<Proc>,
    lifetime: Lifetime,
    etcd: Relaunch,
    apiserver: Relaunch,
    etcd_health: String,
}

/// How to start one control-plane process again, exactly as the first time (same ports, data).
struct Relaunch {
    name: &'static str,
    program: OsString,
    args: Vec<OsString>,
    log: PathBuf,
}

impl Relaunch {
    fn of(name: &'static str, cmd: &Command, log: &Path) -> Self {
        Self {
            name,
            program: cmd.get_program().to_owned(),
            args: cmd.get_args().map(ToOwned::to_owned).collect(),
            log: log.to_path_buf(),
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        cmd
    }
}

/// A control-plane process to restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Etcd,
    ApiServer,
}

impl ControlPlane {
    /// Stops one process (SIGTERM, then SIGKILL after a grace period) and starts it again with
    /// the same flags, ports and data, waiting until it is ready. Clients see a real outage.
    ///
    /// Blocks on a runtime of its own: call it from a plain thread, not from async code.
    pub fn restart(&mut self, part: Part) -> Result<()> {
        let (index, relaunch) = match part {
            Part::Etcd => (0, &self.etcd),
            Part::ApiServer => (1, &self.apiserver),
        };
        drop(self.procs.remove(index));
        let mut proc = launch::start(
            self.lifetime,
            relaunch.name,
            relaunch.command(),
            &relaunch.log,
        )?;
        match part {
            Part::Etcd => {
                let health = self.etcd_health.clone();
                launch::wait_until(
                    &mut proc,
                    "etcd",
                    &relaunch.log,
                    Duration::from_secs(30),
                    || launch::http_ok(&health),
                )?
            }
            Part::ApiServer => {
                let probe = KubeProbe::new(&self.kubeconfig)?;
                launch::wait_until(
                    &mut proc,
                    "kube-apiserver",
                    &relaunch.log,
                    Duration::from_secs(90),
                    || probe.get("/readyz").is_ok_and(|body| body.trim() == "ok"),
                )?
            }
        }
        self.procs.insert(index, proc);
        Ok(())
    }
}

/// The node's components, each with its own identity: (component, user, group).
fn components() -> [(&'static str, String, &'static str); 3] {
    [
        (
            "kube-controller-manager",
            "system:kube-controller-manager".into(),
            "",
        ),
        ("kube-scheduler", "system:kube-scheduler".into(), ""),
        (
            "kubelet",
            format!("system:node:{}", node::NAME),
            "system:nodes",
        ),
    ]
}

impl ControlPlane {
    /// The kubeconfig of one of the node's components (see [`components`]).
    pub fn component_kubeconfig(&self, component: &str) -> PathBuf {
        self.kubeconfig
            .with_file_name(format!("kubeconfig-{component}"))
    }
}

/// Starts etcd and kube-apiserver with their data, keys and logs under `dir`; with `network`,
/// ready for a node on that network.
pub fn start(dir: &Path, lifetime: Lifetime, network: Option<&Network>) -> Result<ControlPlane> {
    let kubernetes = KUBERNETES.ensure()?;
    let etcd_bin = ETCD.ensure()?.join("etcd");
    fs::create_dir_all(dir)?;

    let client_port = launch::free_port()?;
    let peer_port = launch::free_port()?;
    let etcd_url = format!("http://127.0.0.1:{client_port}");
    let peer_url = format!("http://127.0.0.1:{peer_port}");
    let etcd_log = dir.join("etcd.log");
    let mut etcd = Command::new(&etcd_bin);
    etcd.arg("--name=default")
        .arg(format!("--data-dir={}", dir.join("etcd").display()))
        .arg(format!("--listen-client-urls={etcd_url}"))
        .arg(format!("--advertise-client-urls={etcd_url}"))
        .arg(format!("--listen-peer-urls={peer_url}"))
        .arg(format!("--initial-advertise-peer-urls={peer_url}"))
        .arg(format!("--initial-cluster=default={peer_url}"))
        .arg("--unsafe-no-fsync")
        .arg("--log-level=warn");
    let etcd_relaunch = Relaunch::of("etcd", &etcd, &etcd_log);
    let mut etcd = launch::start(lifetime, "etcd", etcd, &etcd_log)?;
    let health = format!("{etcd_url}/health");
    launch::wait_until(
        &mut etcd,
        "etcd",
        &etcd_log,
        Duration::from_secs(30),
        || launch::http_ok(&health),
    )?;

    let token = random_hex(16)?;
    let mut token_lines = format!("{token},admin,admin,\"system:masters\"\n");
    let mut component_tokens = Vec::new();
    if network.is_some() {
        for (component, user, group) in components() {
            let secret = random_hex(16)?;
            token_lines.push_str(&format!("{secret},{user},{user},\"{group}\"\n"));
            component_tokens.push((component, secret));
        }
    }
    let tokens = dir.join("tokens.csv");
    fs::write(&tokens, token_lines)?;
    let (sa_key, sa_pub) = write_service_account_keys(dir)?;
    let host = network.map_or(std::net::Ipv4Addr::LOCALHOST, |n| n.gateway);
    let port = launch::free_port_on(host)?;
    let url = format!("https://{host}:{port}");
    let apiserver_log = dir.join("kube-apiserver.log");
    let mut apiserver = Command::new(kubernetes.join("kube-apiserver"));
    apiserver
        .arg(format!("--etcd-servers={etcd_url}"))
        .arg(format!("--cert-dir={}", dir.join("certs").display()))
        .arg(format!("--secure-port={port}"))
        .arg(format!("--bind-address={host}"))
        .arg(format!("--advertise-address={host}"))
        .arg("--endpoint-reconciler-type=none")
        .arg(format!("--token-auth-file={}", tokens.display()))
        .arg("--service-account-issuer=https://kubernetes.default.svc.cluster.local")
        .arg(format!("--service-account-key-file={}", sa_pub.display()))
        .arg(format!(
            "--service-account-signing-key-file={}",
            sa_key.display()
        ))
        .arg("--service-cluster-ip-range=10.0.0.0/24")
        .arg("--allow-privileged=true")
        .arg("--v=0");
    if network.is_some() {
        apiserver
            .arg("--authorization-mode=Node,RBAC")
            // The node's name resolves nowhere; its InternalIP is the bridge gateway.
            .arg("--kubelet-preferred-address-types=InternalIP")
            .arg("--enable-admission-plugins=NodeRestriction");
    } else {
        // No controller manager creates service accounts, so pods could not be admitted anyway.
        apiserver
            .arg("--authorization-mode=RBAC")
            .arg("--disable-admission-plugins=ServiceAccount");
    }
    let apiserver_relaunch = Relaunch::of("kube-apiserver", &apiserver, &apiserver_log);
    let mut apiserver = launch::start(lifetime, "kube-apiserver", apiserver, &apiserver_log)?;

    let kubeconfig = dir.join("kubeconfig");
    fs::write(&kubeconfig, kubeconfig_yaml(&url, &token))?;
    for (component, secret) in &component_tokens {
        fs::write(
            dir.join(format!("kubeconfig-{component}")),
            kubeconfig_yaml(&url, secret),
        )?;
    }
    let probe = KubeProbe::new(&kubeconfig)?;
    launch::wait_until(
        &mut apiserver,
        "kube-apiserver",
        &apiserver_log,
        Duration::from_secs(90),
        || probe.get("/readyz").is_ok_and(|body| body.trim() == "ok"),
    )?;
    Ok(ControlPlane {
        url,
        port,
        kubeconfig,
        cert_dir: dir.join("certs"),
        procs: vec![etcd, apiserver],
        lifetime,
        etcd: etcd_relaunch,
        apiserver: apiserver_relaunch,
        etcd_health: health,
    })
}

fn kubeconfig_yaml(url: &str, token: &str) -> String {
    // The serving certificate is the apiserver's own self-signed one; the world is loopback-only.
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: ack-rs-testenv\n  cluster:\n    server: {url}\n    \
         insecure-skip-tls-verify: true\nusers:\n- name: admin\n  user:\n    token: {token}\n\
         contexts:\n- name: ack-rs-testenv\n  context:\n    cluster: ack-rs-testenv\n    user: admin\n\
         current-context: ack-rs-testenv\n"
    )
}

/// Service-account signing keys: the private key signs tokens, the public key verifies them.
fn write_service_account_keys(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let key = rcgen::KeyPair::generate().context("generating the service-account signing key")?;
    let private = dir.join("sa.key");
    let public = dir.join("sa.pub");
    fs::write(&private, key.serialize_pem())?;
    fs::write(&public, key.public_key_pem())?;
    Ok((private, public))
}

pub(crate) fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// A blocking GET against the apiserver through kube's client, on a private runtime so it can be
/// used from synchronous start-up code.
pub struct KubeProbe {
    runtime: tokio::runtime::Runtime,
    client: kube::Client,
}

impl KubeProbe {
    pub fn new(kubeconfig: &Path) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let client = runtime.block_on(crate::kube_client(kubeconfig))?;
        Ok(Self { runtime, client })
    }

    pub fn get(&self, path: &str) -> Result<String> {
        let request = http::Request::get(path).body(Vec::new())?;
        let fut = self.client.request_text(request);
        match self
            .runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(3), fut).await })
        {
            Ok(result) => Ok(result?),
            Err(_) => bail!("GET {path} timed out"),
        }
    }
}
