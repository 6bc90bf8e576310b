//! The whole test world — control plane, emulator, helm and, when asked for, a node — started
//! together, and the endpoints a client needs to reach it (as `export` lines or environment
//! variables).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::gobuild::{HELM, KUBERNETES};
use crate::launch::{Lifetime, Proc};
use crate::node::{self, NodeEndpoints};
use crate::{cache, controlplane, emulator, process};

pub const REGION: &str = "us-west-2";
/// moto accepts any credentials; these name themselves so nobody mistakes them for real ones.
pub const ACCESS_KEY_ID: &str = "testing";
pub const SECRET_ACCESS_KEY: &str = "testing";
/// Set in the environment of everything that should attach to an already running world.
pub const ATTACH_VAR: &str = "ACK_RS_TESTENV";
/// The node's name, set when the world has a node.
pub const NODE_VAR: &str = "ACK_RS_TESTENV_NODE";

/// How to reach a running world.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Endpoints {
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
    pub apiserver_url: String,
    pub aws_endpoint_url: String,
    pub region: String,
    pub kubectl: PathBuf,
    pub helm: PathBuf,
    /// Present when the world has a node that runs pods.
    #[serde(default)]
    pub node: Option<NodeEndpoints>,
}

impl Endpoints {
    /// The environment a client process needs; `eval "$(cargo xtask testenv up)"` exports these.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let bins = [self.kubectl.parent(), self.helm.parent()]
            .into_iter()
            .flatten()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        let path = match std::env::var("PATH") {
            Ok(old) => format!("{bins}:{old}"),
            Err(_) => bins,
        };
        let mut env = vec![
            (ATTACH_VAR, self.dir.display().to_string()),
            ("KUBECONFIG", self.kubeconfig.display().to_string()),
            ("AWS_ENDPOINT_URL", self.aws_endpoint_url.clone()),
            ("AWS_REGION", self.region.clone()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_string()),
            ("KUBECTL", self.kubectl.display().to_string()),
            ("HELM", self.helm.display().to_string()),
            ("PATH", path),
        ];
        if let Some(node) = &self.node {
            env.push((NODE_VAR, node.name.clone()));
            // What `ctr` reads, so it talks to the node's containerd by default.
            env.push((
                "CONTAINERD_ADDRESS",
                node.containerd_address.display().to_string(),
            ));
            env.push(("CONTAINERD_NAMESPACE", node::CONTAINERD_NAMESPACE.into()));
        }
        env
    }

    pub fn exports(&self) -> String {
        self.env()
            .into_iter()
            .map(|(k, v)| format!("export {k}={}\n", shell_quote(&v)))
            .collect()
    }

    /// The world named by [`ATTACH_VAR`] and its companions, if this process was started inside one.
    pub fn from_env() -> Option<Endpoints> {
        let dir = std::env::var_os(ATTACH_VAR)?;
        let var = |k: &str| std::env::var(k).ok();
        Some(Endpoints {
            dir: dir.into(),
            kubeconfig: var("KUBECONFIG")?.into(),
            apiserver_url: String::new(),
            aws_endpoint_url: var("AWS_ENDPOINT_URL")?,
            region: var("AWS_REGION").unwrap_or_else(|| REGION.into()),
            kubectl: var("KUBECTL")
                .map(PathBuf::from)
                .unwrap_or_else(|| KUBERNETES.binary("kubectl")),
            helm: var("HELM")
                .map(PathBuf::from)
                .unwrap_or_else(|| HELM.binary("helm")),
            node: var(NODE_VAR).and_then(|name| {
                Some(NodeEndpoints {
                    name,
                    containerd_address: var("CONTAINERD_ADDRESS")?.into(),
                })
            }),
        })
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

pub struct World {
    pub endpoints: Endpoints,
    pub procs: Vec<Proc>,
    /// Undoes the node's bridge, rules, cgroups and pods once `procs` are stopped (owned worlds).
    _node_cleanup: Option<NodeCleanup>,
}

/// What to start.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// A node (containerd, kubelet, kube-controller-manager, kube-scheduler) that runs pods.
    pub node: bool,
}

struct NodeCleanup(PathBuf);

impl Drop for NodeCleanup {
    fn drop(&mut self) {
        node::cleanup(&self.0);
    }
}

/// What has been started so far; a start-up that fails stops it all again, detached or not.
struct Starting {
    dir: PathBuf,
    procs: Vec<Proc>,
    node: bool,
}

impl Drop for Starting {
    fn drop(&mut self) {
        for proc in self.procs.drain(..).rev() {
            if let Proc::Detached { pid, .. } = proc {
                process::stop_detached(pid);
            } // an owned one stops when dropped
        }
        if self.node {
            node::cleanup(&self.dir);
        }
    }
}

/// Builds whatever is missing, then starts etcd, kube-apiserver and the emulator under `dir`.
pub fn start(dir: &Path, lifetime: Lifetime) -> Result<World> {
    start_with(dir, lifetime, Options::default())
}

/// [`start`], and the node too when `options` ask for it.
pub fn start_with(dir: &Path, lifetime: Lifetime, options: Options) -> Result<World> {
    fs::create_dir_all(dir)?;
    let helm = HELM.ensure()?.join("helm");
    let mut starting = Starting {
        dir: dir.to_path_buf(),
        procs: Vec::new(),
        node: options.node,
    };
    let network = if options.node {
        node::preflight()?;
        node::build()?; // before anything runs: a cold build takes many minutes
        Some(node::create_network(dir).context("creating the node's network")?)
    } else {
        None
    };
    let mut control_plane = controlplane::start(dir, lifetime, network.as_ref())
        .context("starting the control plane")?;
    starting.procs.append(&mut control_plane.procs);
    let host = network
        .as_ref()
        .map_or(std::net::Ipv4Addr::LOCALHOST, |n| n.gateway);
    let emulator = emulator::start(dir, lifetime, host).context("starting the AWS emulator")?;
    starting.procs.push(emulator.proc);
    let node = match &network {
        Some(network) => {
            let node =
                node::start(dir, lifetime, network, &control_plane).context("starting the node")?;
            starting.procs.extend(node.procs);
            Some(node.endpoints)
        }
        None => None,
    };
    let procs = std::mem::take(&mut starting.procs);
    starting.node = false;
    Ok(World {
        endpoints: Endpoints {
            dir: dir.to_path_buf(),
            kubeconfig: control_plane.kubeconfig,
            apiserver_url: control_plane.url,
            aws_endpoint_url: emulator.url,
            region: REGION.to_string(),
            kubectl: KUBERNETES.binary("kubectl"),
            helm,
            node,
        },
        procs,
        _node_cleanup: (options.node && lifetime == Lifetime::Owned)
            .then(|| NodeCleanup(dir.to_path_buf())),
    })
}

/// Run directories are `<temp>/ack-rs-testenv-<creator pid>-<random>`.
pub const RUN_DIR_PREFIX: &str = "ack-rs-testenv-";

/// A fresh run directory under the system temp dir. Directories of worlds that are gone are
/// removed first (a world owned by a test process cannot clean up after itself: statics are never
/// dropped).
pub fn fresh_dir() -> Result<PathBuf> {
    sweep_stale_dirs();
    let dir = std::env::temp_dir().join(format!(
        "{RUN_DIR_PREFIX}{}-{}",
        std::process::id(),
        controlplane::random_hex(4)?
    ));
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Removes the run directories of worlds that are gone, and only those.
///
/// A world is live while any of its own processes (etcd, kube-apiserver, the emulator, `dev`'s
/// controllers) runs — they run with the run directory as their working directory — or while the
/// process that created the directory still runs (it may be starting the world). The creator
/// alone is not enough: `eval "$(cargo xtask testenv up)"` exits at once and leaves its world
/// running, and an earlier sweep deleted such a world's etcd data under it.
pub fn sweep_stale_dirs() {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    let detached = DetachedState::load().map(|s| s.endpoints.dir);
    let mut in_use: Option<Vec<PathBuf>> = None;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(RUN_DIR_PREFIX)) else {
            continue;
        };
        let Some(creator) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let path = entry.path();
        if process::is_alive(creator) || detached.as_ref() == Some(&path) {
            continue;
        }
        let in_use = in_use.get_or_insert_with(process::working_dirs);
        // containerd's shims (working in their bundles) outlive a node by design; they are
        // leftovers for `node::cleanup`, not signs of life.
        let shims = path.join("containerd");
        if in_use
            .iter()
            .any(|cwd| cwd.starts_with(&path) && !cwd.starts_with(&shims))
        {
            continue;
        }
        node::cleanup(&path);
        let _ = fs::remove_dir_all(path);
    }
}

/// The record `testenv up` leaves behind so `status` and `down` can find a detached world.
#[derive(Serialize, Deserialize)]
pub struct DetachedState {
    pub endpoints: Endpoints,
    pub pids: Vec<u32>,
}

impl DetachedState {
    fn path() -> PathBuf {
        cache::root().join("testenv").join("state.json")
    }

    pub fn load() -> Option<DetachedState> {
        serde_json::from_slice(&fs::read(Self::path()).ok()?).ok()
    }

    pub fn save(&self) -> Result<()> {
        let path = Self::path();
        fs::create_dir_all(path.parent().expect("state file has a parent"))?;
        fs::write(&path, serde_json::to_vec_pretty(self)?)?;
        Ok(())
    }

    pub fn all_alive(&self) -> bool {
        self.pids.iter().all(|&pid| process::is_alive(pid))
    }

    /// Stops every process and removes the run directory and the record.
    pub fn stop(self) -> Result<()> {
        for pid in self.pids.iter().rev() {
            process::stop_detached(*pid);
        }
        node::cleanup(&self.endpoints.dir);
        let _ = fs::remove_dir_all(&self.endpoints.dir);
        let _ = fs::remove_file(Self::path());
        Ok(())
    }
}
