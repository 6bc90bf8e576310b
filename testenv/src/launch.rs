//! Starting a world process with the lifetime the caller asked for, and waiting for it to be ready.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::process::{self, OwnedChild};

/// Who the started processes belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifetime {
    /// They die with this process (tests, `cargo xtask test`).
    Owned,
    /// They outlive this process until `cargo xtask testenv down`.
    Detached,
}

pub enum Proc {
    Owned(OwnedChild),
    Detached { name: String, pid: u32 },
}

impl Proc {
    pub fn pid(&self) -> u32 {
        match self {
            Proc::Owned(child) => child.pid(),
            Proc::Detached { pid, .. } => *pid,
        }
    }

    fn exited(&mut self) -> bool {
        match self {
            Proc::Owned(child) => child.exited().is_some(),
            Proc::Detached { pid, .. } => !process::is_alive(*pid),
        }
    }
}

/// Starts `cmd` with stdout and stderr appended to `log`, in the directory that holds `log`.
///
/// A world's processes run in its run directory on purpose: that is how the stale-world sweep
/// tells a live world from an orphaned one (see [`crate::world::fresh_dir`]).
pub fn start(lifetime: Lifetime, name: &str, mut cmd: Command, log: &Path) -> Result<Proc> {
    let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    if let Some(dir) = log.parent().filter(|d| !d.as_os_str().is_empty()) {
        cmd.current_dir(dir);
    }
    cmd.stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    let program = format!("{:?}", cmd.get_program());
    Ok(match lifetime {
        Lifetime::Owned => Proc::Owned(
            process::spawn_owned(name, cmd).with_context(|| format!("starting {program}"))?,
        ),
        Lifetime::Detached => Proc::Detached {
            name: name.to_string(),
            pid: process::spawn_detached(cmd).with_context(|| format!("starting {program}"))?,
        },
    })
}

/// Polls `ready` until it returns true, failing early (with the log's tail) if the process exits.
pub fn wait_until(
    proc: &mut Proc,
    name: &str,
    log: &Path,
    timeout: Duration,
    mut ready: impl FnMut() -> bool,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if ready() {
            return Ok(());
        }
        if proc.exited() {
            bail!(
                "{name} exited during start-up; its log ends:\n{}",
                log_tail(log)
            );
        }
        if Instant::now() > deadline {
            bail!(
                "{name} was not ready after {timeout:?}; its log ends:\n{}",
                log_tail(log)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> Result<u16> {
    free_port_on(Ipv4Addr::LOCALHOST)
}

/// A port on `host` that was free a moment ago.
pub fn free_port_on(host: Ipv4Addr) -> Result<u16> {
    Ok(TcpListener::bind((host, 0))?.local_addr()?.port())
}

/// Whether a plain-HTTP GET of `url` answers 200.
pub fn http_ok(url: &str) -> bool {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(2)))
        .build()
        .into();
    matches!(agent.get(url).call(), Ok(resp) if resp.status() == 200)
}
