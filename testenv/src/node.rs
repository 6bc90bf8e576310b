//! A real node for the test world, so the controllers run as pods from their Helm charts:
//! containerd and runc (Debian's packages) with their own root, state and socket under the world's
//! directory, a CNI bridge, kube-controller-manager, kube-scheduler and kubelet.
//!
//! Networking without kube-proxy or DNS: the world gets its own bridge and /24; the control plane
//! and the emulator listen on the bridge's gateway address, which the host and every pod reach
//! directly. The one Service pods need, `default/kubernetes` (whose address kubelet puts in
//! `KUBERNETES_SERVICE_HOST`), is made reachable by a single DNAT rule on the bridge, which is what
//! kube-proxy would install for it.
//!
//! Everything the node creates outside its directory (bridge, DNAT rule, cgroups, the pods'
//! network namespaces, containerd's shims and their containers) is listed in `node.json` before
//! it is created, so [`cleanup`] can undo it for a world that stopped, crashed or was swept.

use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::controlplane::{self, ControlPlane, KubeProbe};
use crate::gobuild::KUBERNETES_NODE;
use crate::launch::{self, Lifetime, Proc};
use crate::pause;

/// The node's name (one node per world).
pub const NAME: &str = "ack-rs-node";
/// containerd's namespace for everything the CRI plugin (kubelet) does; `ctr -n k8s.io`.
pub const CONTAINERD_NAMESPACE: &str = "k8s.io";
/// The `kubernetes` Service's ClusterIP: the first address of the apiserver's service range.
pub const KUBERNETES_SERVICE_IP: &str = "10.0.0.1";
const CNI_BIN_DIR: &str = "/usr/lib/cni";
const CNI_PLUGINS: [&str; 4] = ["bridge", "host-local", "loopback", "portmap"];
const APT_PACKAGES: [&str; 5] = [
    "containerd",
    "runc",
    "containernetworking-plugins",
    "iptables",
    "iproute2",
];

/// How tests reach a world's node.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeEndpoints {
    pub name: String,
    /// containerd's socket (`ctr --address`, or `CONTAINERD_ADDRESS`).
    pub containerd_address: PathBuf,
}

/// The world's own bridge network, chosen and created before the control plane starts (which
/// binds to its gateway).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Network {
    pub bridge: String,
    pub gateway: Ipv4Addr,
    pub prefix: u8,
}

impl Network {
    fn subnet(&self) -> String {
        let [a, b, c, _] = self.gateway.octets();
        format!("{a}.{b}.{c}.0/{}", self.prefix)
    }
}

/// What [`cleanup`] undoes; written to `<dir>/node.json` before each thing is created.
#[derive(Default, Serialize, Deserialize)]
struct Record {
    network: Option<Network>,
    cgroup_root: Option<String>,
    containerd_socket: Option<PathBuf>,
    /// `iptables -t nat` arguments after `-A`/`-D`.
    dnat: Option<Vec<String>>,
}

impl Record {
    fn path(dir: &Path) -> PathBuf {
        dir.join("node.json")
    }

    fn load(dir: &Path) -> Option<Record> {
        serde_json::from_slice(&fs::read(Self::path(dir)).ok()?).ok()
    }

    fn save(&self, dir: &Path) -> Result<()> {
        fs::write(Self::path(dir), serde_json::to_vec_pretty(self)?)?;
        Ok(())
    }
}

/// Checks that this process may run a node and that its packages are installed, installing them
/// with apt-get when they are missing (as root).
pub fn preflight() -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!(
            "a test world with a node must run as root (containerd, kubelet, a network bridge, \
             cgroups); run as root, or start the world without its node"
        );
    }
    if missing_tools().is_empty() {
        return Ok(());
    }
    let _lock = crate::cache::lock("apt-node-packages")?;
    let missing = missing_tools();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!(
        "[testenv] the node needs {} (missing: {}); installing with apt-get",
        APT_PACKAGES.join(", "),
        missing.join(", ")
    );
    let status = Command::new("apt-get")
        .args([
            "-o",
            "DPkg::Lock::Timeout=600",
            "install",
            "-y",
            "--no-install-recommends",
        ])
        .args(APT_PACKAGES)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("running apt-get (the node needs Debian's packages)")?;
    let missing = missing_tools();
    if !status.success() || !missing.is_empty() {
        bail!(
            "installing {} failed ({status}); still missing: {}",
            APT_PACKAGES.join(" "),
            missing.join(", ")
        );
    }
    Ok(())
}

fn missing_tools() -> Vec<String> {
    let on_path = |tool: &str| {
        std::env::var_os("PATH").is_some_and(|path| {
            std::env::split_paths(&path)
                .chain(["/usr/sbin".into(), "/sbin".into()])
                .any(|dir| dir.join(tool).is_file())
        })
    };
    let mut missing: Vec<String> = ["containerd", "ctr", "runc", "iptables", "ip"]
        .into_iter()
        .filter(|t| !on_path(t))
        .map(String::from)
        .collect();
    missing.extend(
        CNI_PLUGINS
            .iter()
            .filter(|p| !Path::new(CNI_BIN_DIR).join(p).is_file())
            .map(|p| format!("{CNI_BIN_DIR}/{p}")),
    );
    missing
}

/// Picks a free /24 and creates the world's bridge with its gateway address.
pub fn create_network(dir: &Path) -> Result<Network> {
    let id = controlplane::random_hex(4)?;
    let bytes = u32::from_str_radix(&id, 16)?.to_be_bytes();
    let taken = run_output(Command::new("ip").args(["-4", "-o", "addr", "show"]))?;
    let mut candidate = None;
    for attempt in 0..64u8 {
        // 10.200.0.0 – 10.249.255.0: far from the service range (10.0.0.0/24).
        let b = 200 + (bytes[0].wrapping_add(attempt)) % 50;
        let c = bytes[1].wrapping_add(attempt.wrapping_mul(7));
        let prefix = format!(" 10.{b}.{c}.");
        if !taken.contains(&prefix) {
            candidate = Some(Ipv4Addr::new(10, b, c, 1));
            break;
        }
    }
    let gateway = candidate.context("no free 10.2xx.x.0/24 for the node's bridge")?;
    let network = Network {
        bridge: format!("ackrs{}", &id[..8]),
        gateway,
        prefix: 24,
    };
    let mut record = Record::load(dir).unwrap_or_default();
    record.network = Some(network.clone());
    record.save(dir)?;
    run(Command::new("ip").args(["link", "add", "name", &network.bridge, "type", "bridge"]))?;
    run(Command::new("ip").args([
        "addr",
        "add",
        &format!("{}/{}", network.gateway, network.prefix),
        "dev",
        &network.bridge,
    ]))?;
    run(Command::new("ip").args(["link", "set", &network.bridge, "up"]))?;
    Ok(network)
}

/// Builds (or finds in the cache) the node's Go binaries and its pause image.
pub fn build() -> Result<()> {
    KUBERNETES_NODE.ensure()?;
    pause::ensure_archive()?;
    Ok(())
}

pub struct Node {
    pub endpoints: NodeEndpoints,
    pub procs: Vec<Proc>,
}

/// Starts containerd, kube-controller-manager, kube-scheduler and kubelet, and waits until the
/// node is Ready.
pub fn start(
    dir: &Path,
    lifetime: Lifetime,
    network: &Network,
    control_plane: &ControlPlane,
) -> Result<Node> {
    let bins = KUBERNETES_NODE.ensure()?;
    let pause_archive = pause::ensure_archive()?;
    let started = Instant::now();
    let mut record = Record::load(dir).unwrap_or_default();
    let mut procs = Vec::new();

    // containerd, with everything of its own under the world's directory.
    let ctrd = dir.join("containerd");
    fs::create_dir_all(&ctrd)?;
    let socket = ctrd.join("containerd.sock");
    record.containerd_socket = Some(socket.clone());
    record.save(dir)?;
    let cni_conf = dir.join("cni/net.d");
    fs::create_dir_all(&cni_conf)?;
    fs::write(
        cni_conf.join("10-ack-rs.conflist"),
        cni_config(dir, network),
    )?;
    let config = ctrd.join("config.toml");
    fs::write(&config, containerd_config(&ctrd, &socket, &cni_conf))?;
    let log = dir.join("containerd.log");
    let mut cmd = Command::new("containerd");
    cmd.arg("--config").arg(&config);
    let mut containerd = launch::start(lifetime, "containerd", cmd, &log)?;
    launch::wait_until(
        &mut containerd,
        "containerd",
        &log,
        Duration::from_secs(30),
        || {
            ctr(&socket)
                .arg("version")
                .output()
                .is_ok_and(|o| o.status.success())
        },
    )?;
    procs.push(containerd);
    run(ctr(&socket)
        .args(["-n", CONTAINERD_NAMESPACE, "images", "import"])
        .arg(&pause_archive))
    .context("importing the pause image")?;

    // kube-controller-manager: service accounts and their tokens' CA, deployments, replica sets.
    let ca = control_plane.cert_dir.join("apiserver.crt");
    let log = dir.join("kube-controller-manager.log");
    let mut cmd = Command::new(bins.join("kube-controller-manager"));
    cmd.arg(format!(
        "--kubeconfig={}",
        control_plane
            .component_kubeconfig("kube-controller-manager")
            .display()
    ))
    .arg("--use-service-account-credentials=true")
    .arg(format!("--root-ca-file={}", ca.display()))
    .arg(format!(
        "--service-account-private-key-file={}",
        dir.join("sa.key").display()
    ))
    .arg("--leader-elect=false")
    .arg("--bind-address=127.0.0.1")
    .arg(format!("--secure-port={}", launch::free_port()?))
    .arg(format!("--cert-dir={}", dir.join("kcm-certs").display()))
    .arg("--v=1");
    procs.push(launch::start(
        lifetime,
        "kube-controller-manager",
        cmd,
        &log,
    )?);

    let log = dir.join("kube-scheduler.log");
    let mut cmd = Command::new(bins.join("kube-scheduler"));
    cmd.arg(format!(
        "--kubeconfig={}",
        control_plane
            .component_kubeconfig("kube-scheduler")
            .display()
    ))
    .arg("--leader-elect=false")
    .arg("--bind-address=127.0.0.1")
    .arg(format!("--secure-port={}", launch::free_port()?))
    .arg(format!(
        "--cert-dir={}",
        dir.join("scheduler-certs").display()
    ))
    .arg("--v=1");
    procs.push(launch::start(lifetime, "kube-scheduler", cmd, &log)?);

    // What kube-proxy would do for the one Service pods use.
    let dnat = vec![
        "PREROUTING".to_string(),
        "-i".into(),
        network.bridge.clone(),
        "-d".into(),
        format!("{KUBERNETES_SERVICE_IP}/32"),
        "-p".into(),
        "tcp".into(),
        "--dport".into(),
        "443".into(),
        "-j".into(),
        "DNAT".into(),
        "--to-destination".into(),
        format!("{}:{}", network.gateway, control_plane.port),
    ];
    record.dnat = Some(dnat.clone());
    record.save(dir)?;
    run(Command::new("iptables")
        .args(["-w", "-t", "nat", "-A"])
        .args(&dnat))?;

    // kubelet, in its own cgroup subtree so worlds never share pods' cgroups.
    let cgroup_root = format!(
        "/{}",
        dir.file_name()
            .and_then(|n| n.to_str())
            .context("world directory without a name")?
    );
    record.cgroup_root = Some(cgroup_root.clone());
    record.save(dir)?;
    create_cgroup(&cgroup_root)?;
    let kubelet_dir = dir.join("kubelet");
    fs::create_dir_all(&kubelet_dir)?;
    let kubelet_config = dir.join("kubelet-config.yaml");
    fs::write(
        &kubelet_config,
        kubelet_config_yaml(
            dir,
            network,
            &socket,
            &cgroup_root,
            launch::free_port_on(network.gateway)?,
        )?,
    )?;
    let log = dir.join("kubelet.log");
    let mut cmd = Command::new(bins.join("kubelet"));
    cmd.arg(format!("--config={}", kubelet_config.display()))
        .arg(format!(
            "--kubeconfig={}",
            control_plane.component_kubeconfig("kubelet").display()
        ))
        .arg(format!("--root-dir={}", kubelet_dir.display()))
        .arg(format!("--hostname-override={NAME}"))
        .arg(format!("--node-ip={}", network.gateway))
        .arg("--v=1");
    let mut kubelet = launch::start(lifetime, "kubelet", cmd, &log)?;
    let probe = KubeProbe::new(&control_plane.kubeconfig)?;
    let ready_path = format!("/api/v1/nodes/{NAME}");
    launch::wait_until(
        &mut kubelet,
        "kubelet",
        &log,
        Duration::from_secs(120),
        || probe.get(&ready_path).is_ok_and(|body| node_ready(&body)),
    )
    .with_context(|| {
        format!(
            "node {NAME} did not turn Ready (containerd: {}, kube-controller-manager: {})",
            dir.join("containerd.log").display(),
            dir.join("kube-controller-manager.log").display()
        )
    })?;
    procs.push(kubelet);
    eprintln!("[testenv] node {NAME} Ready in {:.1?}", started.elapsed());
    Ok(Node {
        endpoints: NodeEndpoints {
            name: NAME.to_string(),
            containerd_address: socket,
        },
        procs,
    })
}

/// Whether a Node object (JSON) has condition Ready=True.
pub fn node_ready(body: &str) -> bool {
    let Ok(node) = serde_json::from_str::<serde_json::Value>(body) else {
        return false;
    };
    node["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

/// `ctr` pointed at a world's containerd.
pub fn ctr(socket: &Path) -> Command {
    let mut cmd = Command::new("ctr");
    cmd.arg("--address").arg(socket);
    cmd
}

fn containerd_config(ctrd: &Path, socket: &Path, cni_conf: &Path) -> String {
    let root = ctrd.join("root");
    let state = ctrd.join("state");
    format!(
        r#"version = 2
root = "{root}"
state = "{state}"
# Snapshotters this machine cannot use only add noise to the log.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "{socket}"

[ttrpc]
  address = "{socket}.ttrpc"

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # This machine kind's processes lack CAP_SYS_RESOURCE, so runc cannot lower a container's
  # oom_score_adj (kubelet asks -998 for sandboxes): "failed to update /proc/self/oom_score_adj:
  # Permission denied". Keep every container at containerd's own score or above.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # kubelet's cgroup driver is cgroupfs: systemd is not PID 1 here.
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "{cni_conf}"

[plugins."io.containerd.internal.v1.opt"]
  path = "{opt}"
"#,
        root = root.display(),
        state = state.display(),
        socket = socket.display(),
        pause = pause::IMAGE,
        cni_conf = cni_conf.display(),
        opt = ctrd.join("opt").display(),
    )
}

fn cni_config(dir: &Path, network: &Network) -> String {
    serde_json::json!({
        "cniVersion": "0.4.0",
        "name": network.bridge,
        "plugins": [
            {
                "type": "bridge",
                "bridge": network.bridge,
                "isGateway": true,
                "ipMasq": false,
                "hairpinMode": true,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{
                        "subnet": network.subnet(),
                        "gateway": network.gateway.to_string(),
                    }]],
                    "routes": [{ "dst": "0.0.0.0/0" }],
                    "dataDir": dir.join("cni/ipam").display().to_string(),
                },
            },
            { "type": "portmap", "capabilities": { "portMappings": true } },
        ],
    })
    .to_string()
}

fn kubelet_config_yaml(
    dir: &Path,
    network: &Network,
    socket: &Path,
    cgroup_root: &str,
    port: u16,
) -> Result<String> {
    let config = serde_json::json!({
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": network.gateway.to_string(),
        "port": port,
        "readOnlyPort": 0,
        "healthzPort": 0,
        // The apiserver reaches kubelet (logs, exec) without a client certificate.
        "authentication": { "anonymous": { "enabled": true }, "webhook": { "enabled": false } },
        "authorization": { "mode": "AlwaysAllow" },
        "containerRuntimeEndpoint": format!("unix://{}", socket.display()),
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": cgroup_root,
        // Hosts of this kind run cgroup v1 (hybrid) and no swap accounting.
        "failCgroupV1": false,
        "failSwapOn": false,
        "podLogsDir": dir.join("pod-logs").display().to_string(),
        "volumePluginDir": dir.join("kubelet/volume-plugins").display().to_string(),
        "resolvConf": "/etc/resolv.conf",
        "clusterDomain": "cluster.local",
        // A shared, busy build machine: never evict or garbage-collect the test's images.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
            "memory.available": "50Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
            "nodefs.inodesFree": "1%",
        },
        "serializeImagePulls": false,
        "maxPods": 50,
    });
    Ok(serde_yaml::to_string(&config)?)
}

/// Creates `root` in every cgroup hierarchy (kubelet refuses a cgroup root that does not exist).
fn create_cgroup(root: &str) -> Result<()> {
    for mount in cgroup_mounts() {
        let path = Path::new(&mount).join(root.trim_start_matches('/'));
        fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        // A v1 cpuset cgroup starts with no CPUs and no memory nodes: copy its parent's.
        for file in ["cpuset.cpus", "cpuset.mems"] {
            if let Ok(value) = fs::read_to_string(Path::new(&mount).join(file)) {
                fs::write(path.join(file), value.trim())
                    .with_context(|| format!("writing {}", path.join(file).display()))?;
            }
        }
    }
    Ok(())
}

/// Mount points of every cgroup (v1) and cgroup2 hierarchy.
fn cgroup_mounts() -> Vec<String> {
    mountinfo()
        .into_iter()
        .filter(|(_, fstype)| fstype == "cgroup" || fstype == "cgroup2")
        .map(|(point, _)| point)
        .collect()
}

/// (mount point, filesystem type) of every mount this process sees.
fn mountinfo() -> Vec<(String, String)> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let point = fields.get(4)?.replace("\\040", " ");
            let sep = fields.iter().position(|f| *f == "-")?;
            Some((point, fields.get(sep + 1)?.to_string()))
        })
        .collect()
}

/// Undoes everything a node created outside (and mounted inside) `dir`. Safe to call for a world
/// without a node, more than once, and after its processes are gone.
pub fn cleanup(dir: &Path) {
    let Some(record) = Record::load(dir) else {
        return;
    };
    // Pods' containers and sandboxes first: they live in the node's cgroups.
    if let Some(root) = &record.cgroup_root {
        kill_cgroup(root);
    }
    // containerd's shims outlive containerd by design.
    if let Some(socket) = &record.containerd_socket {
        kill_shims(socket);
    }
    if let Some(network) = &record.network {
        delete_pod_netns(&network.bridge);
        let _ = Command::new("ip")
            .args(["link", "delete", &network.bridge])
            .output();
    }
    if let Some(dnat) = &record.dnat {
        let _ = Command::new("iptables")
            .args(["-w", "-t", "nat", "-D"])
            .args(dnat)
            .output();
    }
    unmount_under(dir);
    if let Some(root) = &record.cgroup_root {
        remove_cgroup(root);
    }
    let _ = fs::remove_file(Record::path(dir));
}

fn cgroup_dirs(root: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    walk(&entry.path(), out);
                }
            }
        }
        out.push(dir.to_path_buf()); // children before parents
    }
    let mut out = Vec::new();
    for mount in cgroup_mounts() {
        let path = Path::new(&mount).join(root.trim_start_matches('/'));
        if path.is_dir() {
            walk(&path, &mut out);
        }
    }
    out
}

fn kill_cgroup(root: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut found = false;
        for dir in cgroup_dirs(root) {
            let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.lines().filter_map(|p| p.trim().parse::<i32>().ok()) {
                found = true;
                // SAFETY: plain signal delivery.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
        if !found || Instant::now() > deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn remove_cgroup(root: &str) {
    for dir in cgroup_dirs(root) {
        let _ = fs::remove_dir(dir);
    }
}

fn kill_shims(socket: &Path) {
    let socket = socket.display().to_string();
    let Ok(entries) = fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let is_shim = args
            .first()
            .is_some_and(|a| String::from_utf8_lossy(a).contains("containerd-shim"));
        if is_shim && args.contains(&socket.as_bytes()) {
            // SAFETY: plain signal delivery.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// Deletes the network namespaces of the pods attached to `bridge` (their veths go with them).
fn delete_pod_netns(bridge: &str) {
    let Ok(links) = run_output(Command::new("ip").args(["-j", "link", "show", "master", bridge]))
    else {
        return;
    };
    let Ok(namespaces) = run_output(Command::new("ip").args(["-j", "netns", "list"])) else {
        return;
    };
    let links: serde_json::Value = serde_json::from_str(&links).unwrap_or_default();
    let namespaces: serde_json::Value = serde_json::from_str(&namespaces).unwrap_or_default();
    for link in links.as_array().into_iter().flatten() {
        let Some(id) = link["link_netnsid"].as_i64() else {
            continue;
        };
        let name = namespaces
            .as_array()
            .into_iter()
            .flatten()
            .find(|ns| ns["id"].as_i64() == Some(id))
            .and_then(|ns| ns["name"].as_str());
        if let Some(name) = name {
            let _ = Command::new("ip").args(["netns", "delete", name]).output();
        }
        if let Some(ifname) = link["ifname"].as_str() {
            let _ = Command::new("ip").args(["link", "delete", ifname]).output();
        }
    }
}

fn unmount_under(dir: &Path) {
    let prefix = dir.display().to_string();
    let mut points: Vec<String> = mountinfo()
        .into_iter()
        .map(|(point, _)| point)
        .filter(|p| p == &prefix || p.starts_with(&format!("{prefix}/")))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for point in points {
        if let Ok(c) = std::ffi::CString::new(point) {
            // SAFETY: a valid C string; MNT_DETACH never blocks.
            unsafe {
                libc::umount2(c.as_ptr(), libc::MNT_DETACH);
            }
        }
    }
}

fn run(cmd: &mut Command) -> Result<()> {
    run_output(cmd).map(drop)
}

fn run_output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("running {:?}", cmd.get_program()))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_is_ready_only_with_ready_true() {
        let ready = r#"{"status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}]}}"#;
        let not_ready = r#"{"status":{"conditions":[{"type":"Ready","status":"False"}]}}"#;
        assert!(node_ready(ready));
        assert!(!node_ready(not_ready));
        assert!(!node_ready("not json"));
    }

    #[test]
    fn cni_config_puts_pods_on_the_worlds_bridge_and_subnet() {
        let network = Network {
            bridge: "ackrs0123abcd".into(),
            gateway: Ipv4Addr::new(10, 201, 7, 1),
            prefix: 24,
        };
        let config: serde_json::Value =
            serde_json::from_str(&cni_config(Path::new("/w"), &network)).unwrap();
        let bridge = &config["plugins"][0];
        assert_eq!(bridge["bridge"], "ackrs0123abcd");
        assert_eq!(bridge["ipam"]["ranges"][0][0]["subnet"], "10.201.7.0/24");
        assert_eq!(bridge["ipam"]["ranges"][0][0]["gateway"], "10.201.7.1");
        assert_eq!(bridge["ipam"]["dataDir"], "/w/cni/ipam");
    }
}
