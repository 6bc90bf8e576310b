//! The AWS emulator: moto, pinned, in a venv under the cache, started through the repo's launcher
//! (`testenv/emulator/launcher.py`) which corrects moto where it breaks AWS's tag rules.

use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::launch::{self, Lifetime, Proc};
use crate::{cache, toolchain};

pub const MOTO_VERSION: &str = "5.2.5";
const EMULATOR_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/emulator");

pub fn launcher() -> PathBuf {
    Path::new(EMULATOR_DIR).join("launcher.py")
}

pub fn requirements() -> PathBuf {
    Path::new(EMULATOR_DIR).join("requirements.txt")
}

/// `<cache>/venv/moto-<version>/`, created (or refreshed when requirements.txt changed) on demand.
pub fn ensure_venv() -> Result<PathBuf> {
    let venv = cache::root()
        .join("venv")
        .join(format!("moto-{MOTO_VERSION}"));
    let wanted = fs::read_to_string(requirements()).context("reading emulator requirements")?;
    let stamp = venv.join(".ack-rs-requirements");
    let is_current = || fs::read_to_string(&stamp).is_ok_and(|have| have == wanted);
    if is_current() {
        return Ok(venv);
    }
    let _lock = cache::lock(&format!("venv-moto-{MOTO_VERSION}"))?;
    if is_current() {
        return Ok(venv);
    }
    let python = toolchain::python()?;
    eprintln!(
        "[testenv] creating the emulator venv (moto {MOTO_VERSION}) in {}",
        venv.display()
    );
    let _ = fs::remove_dir_all(&venv);
    run(Command::new(python).arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(requirements()))?;
    fs::write(&stamp, wanted)?;
    Ok(venv)
}

pub fn python(venv: &Path) -> PathBuf {
    venv.join("bin/python")
}

pub struct Emulator {
    pub url: String,
    pub proc: Proc,
}

/// Starts the emulator listening on `host` (loopback, or a node's gateway so pods reach it).
pub fn start(dir: &Path, lifetime: Lifetime, host: Ipv4Addr) -> Result<Emulator> {
    let venv = ensure_venv()?;
    fs::create_dir_all(dir)?;
    let port = launch::free_port_on(host)?;
    let log = dir.join("emulator.log");
    let mut cmd = Command::new(python(&venv));
    cmd.arg(launcher())
        .arg(format!("--host={host}"))
        .arg(format!("--port={port}"))
        .env("PYTHONUNBUFFERED", "1");
    let mut proc = launch::start(lifetime, "aws-emulator", cmd, &log)?;
    let url = format!("http://{host}:{port}");
    let health = format!("{url}/_ackrs/health");
    launch::wait_until(
        &mut proc,
        "aws-emulator",
        &log,
        Duration::from_secs(60),
        || launch::http_ok(&health),
    )?;
    Ok(Emulator { url, proc })
}

fn run(cmd: &mut Command) -> Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("running {:?}", cmd.get_program()))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
