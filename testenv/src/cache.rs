//! Where the test world keeps what it builds (outside the repo), and the lock that makes concurrent
//! callers build once.

use std::fs::{self, File};
use std::path::PathBuf;

use anyhow::{Context, Result};

/// `$ACK_RS_CACHE`, else `$XDG_CACHE_HOME/ack-rs`, else `~/.cache/ack-rs`.
pub fn root() -> PathBuf {
    if let Some(dir) = std::env::var_os("ACK_RS_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("ack-rs");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
    PathBuf::from(home).join(".cache").join("ack-rs")
}

/// An exclusive advisory lock on `<cache>/locks/<name>.lock`, held until dropped. Other processes
/// (parallel test binaries, `cargo xtask`) block here instead of building the same thing twice.
pub struct Lock {
    _file: File,
}

pub fn lock(name: &str) -> Result<Lock> {
    let dir = root().join("locks");
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{name}.lock"));
    let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    if file.try_lock().is_err() {
        eprintln!(
            "[testenv] waiting for another process holding {}",
            path.display()
        );
        file.lock()
            .with_context(|| format!("locking {}", path.display()))?;
    }
    Ok(Lock { _file: file })
}
