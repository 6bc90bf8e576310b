//! Debian packages the project's tools need (musl-tools for static images, skopeo, containerd,
//! docker-registry for the image tests): installed with apt-get when missing and this process is
//! root, as the test world builds everything else it lacks; otherwise an error naming them.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// A command and the Debian package that provides it.
pub type Need = (&'static str, &'static str);

/// True if `command` is an executable file on `PATH` (or in the sbin directories root has).
pub fn on_path(command: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .any(|dir| dir.join(command).is_file())
}

fn missing(needs: &[Need]) -> Vec<Need> {
    needs
        .iter()
        .copied()
        .filter(|(cmd, _)| !on_path(cmd))
        .collect()
}

/// Makes sure every command of `needs` is there, installing the packages of the missing ones
/// with apt-get when running as root. `why` says what needs them, for the messages.
pub fn ensure(needs: &[Need], why: &str) -> Result<()> {
    if missing(needs).is_empty() {
        return Ok(());
    }
    let _lock = crate::cache::lock("apt-get")?;
    let lacking = missing(needs);
    if lacking.is_empty() {
        return Ok(());
    }
    let packages: Vec<&str> = lacking.iter().map(|(_, pkg)| *pkg).collect();
    let commands: Vec<&str> = lacking.iter().map(|(cmd, _)| *cmd).collect();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || !Path::new("/usr/bin/apt-get").is_file() {
        bail!(
            "{why} needs {} (Debian: apt-get install {})",
            commands.join(", "),
            packages.join(" ")
        );
    }
    eprintln!(
        "[testenv] {why} needs {}: apt-get install {}",
        commands.join(", "),
        packages.join(" ")
    );
    let install = || {
        Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=600", "install", "-y", "-q"])
            .args(["--no-install-recommends"])
            .args(&packages)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("running apt-get install")
    };
    if !install()?.success() {
        // A fresh machine may have no package lists yet.
        let updated = Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=600", "update", "-q"])
            .status()
            .context("running apt-get update")?;
        if !updated.success() || !install()?.success() {
            bail!("apt-get install {} failed", packages.join(" "));
        }
    }
    let still: Vec<&str> = missing(needs).iter().map(|(cmd, _)| *cmd).collect();
    if !still.is_empty() {
        bail!(
            "after apt-get install {}, still missing: {}",
            packages.join(" "),
            still.join(", ")
        );
    }
    Ok(())
}
