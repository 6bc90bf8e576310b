//! Builds the control-plane binaries from the Go module proxy, pinned, into the cache.
//!
//! Each tool is built the way any Go program is installed: a throwaway module that requires the
//! tool's module at a pinned version, `go get -tool`, then `go build`. Kubernetes needs one extra
//! step: `k8s.io/kubernetes` points its `k8s.io/*` staging modules at `./staging/...` paths that do
//! not exist outside its repository, so we `replace` each with its published `v0.x` twin, reading
//! the staging list from that version's own go.mod.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::{cache, toolchain};

pub const KUBERNETES_VERSION: &str = "v1.36.3";
pub const ETCD_VERSION: &str = "v3.6.16";
pub const HELM_VERSION: &str = "v3.22.0";

/// One pinned Go tool: a module version and the main packages to build from it.
pub struct GoTool {
    pub name: &'static str,
    pub module: &'static str,
    pub version: &'static str,
    /// (main package, binary name)
    pub binaries: &'static [(&'static str, &'static str)],
    /// `-X` flags stamping the version, so `/version` and `--version` report it.
    pub ldflags: fn(&str) -> String,
    /// Replace `k8s.io/*` staging modules with their published twins.
    pub kubernetes_staging: bool,
}

pub const KUBERNETES: GoTool = GoTool {
    name: "kubernetes",
    module: "k8s.io/kubernetes",
    version: KUBERNETES_VERSION,
    binaries: &[
        ("k8s.io/kubernetes/cmd/kube-apiserver", "kube-apiserver"),
        ("k8s.io/kubernetes/cmd/kubectl", "kubectl"),
    ],
    ldflags: kubernetes_ldflags,
    kubernetes_staging: true,
};

/// The node's binaries, a separate tool so worlds without a node never wait for them.
pub const KUBERNETES_NODE: GoTool = GoTool {
    name: "kubernetes-node",
    module: "k8s.io/kubernetes",
    version: KUBERNETES_VERSION,
    binaries: &[
        ("k8s.io/kubernetes/cmd/kubelet", "kubelet"),
        (
            "k8s.io/kubernetes/cmd/kube-controller-manager",
            "kube-controller-manager",
        ),
        ("k8s.io/kubernetes/cmd/kube-scheduler", "kube-scheduler"),
    ],
    ldflags: kubernetes_ldflags,
    kubernetes_staging: true,
};

fn kubernetes_ldflags(v: &str) -> String {
    let minor = v.split('.').nth(1).unwrap_or("0");
    format!(
        "-X k8s.io/component-base/version.gitVersion={v} \
         -X k8s.io/component-base/version.gitMajor=1 \
         -X k8s.io/component-base/version.gitMinor={minor} \
         -X k8s.io/component-base/version.gitTreeState=clean"
    )
}

pub const ETCD: GoTool = GoTool {
    name: "etcd",
    module: "go.etcd.io/etcd/server/v3",
    version: ETCD_VERSION,
    binaries: &[("go.etcd.io/etcd/server/v3", "etcd")],
    ldflags: |_| String::new(),
    kubernetes_staging: false,
};

pub const HELM: GoTool = GoTool {
    name: "helm",
    module: "helm.sh/helm/v3",
    version: HELM_VERSION,
    binaries: &[("helm.sh/helm/v3/cmd/helm", "helm")],
    ldflags: |v| format!("-X helm.sh/helm/v3/internal/version.version={v}"),
    kubernetes_staging: false,
};

pub const ALL: [&GoTool; 4] = [&KUBERNETES, &ETCD, &HELM, &KUBERNETES_NODE];

impl GoTool {
    /// `<cache>/bin/<name>-<version>/`
    pub fn dir(&self) -> PathBuf {
        cache::root()
            .join("bin")
            .join(format!("{}-{}", self.name, self.version))
    }

    pub fn binary(&self, bin: &str) -> PathBuf {
        self.dir().join(bin)
    }

    pub fn is_built(&self) -> bool {
        self.binaries
            .iter()
            .all(|(_, bin)| self.binary(bin).is_file())
    }

    /// Returns the directory holding the tool's binaries, building them first when missing.
    pub fn ensure(&self) -> Result<PathBuf> {
        if self.is_built() {
            return Ok(self.dir());
        }
        let _lock = cache::lock(&format!("build-{}-{}", self.name, self.version))?;
        if self.is_built() {
            return Ok(self.dir()); // another process built it while we waited
        }
        let go = toolchain::go()?;
        let started = Instant::now();
        eprintln!(
            "[testenv] building {} {} from the Go module proxy (first use; this takes minutes)",
            self.name, self.version
        );
        self.build(&go)
            .with_context(|| format!("building {} {}", self.name, self.version))?;
        eprintln!(
            "[testenv] built {} {} in {:.0?} into {}",
            self.name,
            self.version,
            started.elapsed(),
            self.dir().display()
        );
        Ok(self.dir())
    }

    fn build(&self, go: &Path) -> Result<()> {
        let work = cache::root()
            .join("gobuild")
            .join(format!("{}-{}", self.name, self.version));
        fs::create_dir_all(&work)?;
        let mut gomod = format!(
            "module ackrs.local/build/{}\n\ngo 1.26.0\n\nrequire {} {}\n",
            self.name, self.module, self.version
        );
        if self.kubernetes_staging {
            gomod.push_str(&staging_replaces(go, &work, self.version)?);
        }
        fs::write(work.join("go.mod"), gomod)?;
        let _ = fs::remove_file(work.join("go.sum"));

        let mut get = Command::new(go);
        get.current_dir(&work).args(["get", "-tool"]);
        for (pkg, _) in self.binaries {
            get.arg(format!("{pkg}@{}", self.version));
        }
        run_with_progress(&mut get, "resolving modules")?;

        // Build into a staging dir and rename, so a half-built tool is never mistaken for a built one.
        let staging = work.join("out");
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(&staging)?;
        // One build per binary, so each gets the name we want (Go would name
        // `go.etcd.io/etcd/server/v3`'s binary `server`).
        for (pkg, bin) in self.binaries {
            let mut build = Command::new(go);
            build
                .current_dir(&work)
                .env("CGO_ENABLED", "0")
                .args(["build", "-v", "-trimpath", "-ldflags"])
                .arg((self.ldflags)(self.version))
                .arg("-o")
                .arg(staging.join(bin))
                .arg(pkg);
            run_with_progress(&mut build, &format!("compiling {bin}"))?;
        }
        let dir = self.dir();
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.parent().expect("bin dir has a parent"))?;
        fs::rename(&staging, &dir)?;
        Ok(())
    }
}

/// `replace` lines for every `k8s.io/<staging>` module that `k8s.io/kubernetes@version` maps to a
/// local `./staging/` path, pointing each at its published `v0.<minor>.<patch>`.
fn staging_replaces(go: &Path, work: &Path, version: &str) -> Result<String> {
    let out = Command::new(go)
        .current_dir(work)
        .args([
            "mod",
            "download",
            "-json",
            &format!("k8s.io/kubernetes@{version}"),
        ])
        .env("GOFLAGS", "-mod=mod")
        .output()?;
    if !out.status.success() {
        bail!(
            "go mod download k8s.io/kubernetes@{version} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let info: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let gomod_path = info["GoMod"]
        .as_str()
        .context("go mod download -json gave no GoMod path")?;
    let upstream = fs::read_to_string(gomod_path)?;
    let staging_version = format!("v0.{}", version.trim_start_matches("v1."));
    let modules = staging_modules(&upstream);
    if modules.is_empty() {
        bail!("found no ./staging replace directives in k8s.io/kubernetes@{version}'s go.mod");
    }
    let mut block = String::from("\nreplace (\n");
    for module in modules {
        block.push_str(&format!("\t{module} => {module} {staging_version}\n"));
    }
    block.push_str(")\n");
    Ok(block)
}

fn staging_modules(gomod: &str) -> Vec<&str> {
    gomod
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once("=>")?;
            right.trim().starts_with("./staging/").then(|| left.trim())
        })
        .collect()
}

/// Runs a go command, printing a progress line every so often instead of thousands of package
/// names, and the tail of its output when it fails.
fn run_with_progress(cmd: &mut Command, what: &str) -> Result<()> {
    let started = Instant::now();
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn()?;
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut tail: Vec<String> = Vec::new();
    let mut lines = 0usize;
    for line in BufReader::new(stderr).lines() {
        let line = line?;
        lines += 1;
        if lines.is_multiple_of(200) {
            eprintln!(
                "[testenv]   {what}: {lines} steps, {:.0?} elapsed",
                started.elapsed()
            );
        }
        tail.push(line);
        if tail.len() > 40 {
            tail.remove(0);
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("{cmd:?} failed ({status}):\n{}", tail.join("\n"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::staging_modules;

    #[test]
    fn reads_staging_replaces_from_kubernetes_go_mod() {
        let gomod = "module k8s.io/kubernetes\n\nreplace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\
                     \tk8s.io/client-go => ./staging/src/k8s.io/client-go\n\
                     \tgithub.com/x/y => github.com/x/y v1.0.0\n)\n";
        assert_eq!(staging_modules(gomod), ["k8s.io/api", "k8s.io/client-go"]);
    }
}
