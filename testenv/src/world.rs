//! The whole test world — control plane, emulator, helm — started together, and the endpoints a
//! client needs to reach it (as `export` lines or environment variables).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::gobuild::{HELM, KUBERNETES};
use crate::launch::{Lifetime, Proc};
use crate::{cache, controlplane, emulator, process};

pub const REGION: &str = "us-west-2";
/// moto accepts any credentials; these name themselves so nobody mistakes them for real ones.
pub const ACCESS_KEY_ID: &str = "testing";
pub const SECRET_ACCESS_KEY: &str = "testing";
/// Set in the environment of everything that should attach to an already running world.
pub const ATTACH_VAR: &str = "ACK_RS_TESTENV";

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
        vec![
            (ATTACH_VAR, self.dir.display().to_string()),
            ("KUBECONFIG", self.kubeconfig.display().to_string()),
            ("AWS_ENDPOINT_URL", self.aws_endpoint_url.clone()),
            ("AWS_REGION", self.region.clone()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_string()),
            ("KUBECTL", self.kubectl.display().to_string()),
            ("HELM", self.helm.display().to_string()),
            ("PATH", path),
        ]
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
        })
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

pub struct World {
    pub endpoints: Endpoints,
    pub procs: Vec<Proc>,
}

/// Builds whatever is missing, then starts etcd, kube-apiserver and the emulator under `dir`.
pub fn start(dir: &Path, lifetime: Lifetime) -> Result<World> {
    fs::create_dir_all(dir)?;
    let helm = HELM.ensure()?.join("helm");
    let control_plane = controlplane::start(dir, lifetime).context("starting the control plane")?;
    let emulator = emulator::start(dir, lifetime).context("starting the AWS emulator")?;
    let mut procs = control_plane.procs;
    procs.push(emulator.proc);
    Ok(World {
        endpoints: Endpoints {
            dir: dir.to_path_buf(),
            kubeconfig: control_plane.kubeconfig,
            apiserver_url: control_plane.url,
            aws_endpoint_url: emulator.url,
            region: REGION.to_string(),
            kubectl: KUBERNETES.binary("kubectl"),
            helm,
        },
        procs,
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
        if in_use.iter().any(|cwd| cwd.starts_with(&path)) {
            continue;
        }
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
        let _ = fs::remove_dir_all(&self.endpoints.dir);
        let _ = fs::remove_file(Self::path());
        Ok(())
    }
}
