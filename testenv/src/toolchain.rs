//! The external toolchains the test world needs, checked up front so a missing one is named clearly
//! instead of surfacing as an obscure build failure.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Result, bail};

pub const MIN_GO: (u32, u32) = (1, 26);
pub const MIN_PYTHON: (u32, u32) = (3, 11);

/// The `go` binary, verified to be at least [`MIN_GO`].
pub fn go() -> Result<PathBuf> {
    let out = Command::new("go").args(["env", "GOVERSION"]).output();
    let found = match out {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        _ => bail!(
            "Go >= {}.{} is required to build kube-apiserver, etcd and helm, but `go` was not found on PATH",
            MIN_GO.0,
            MIN_GO.1
        ),
    };
    match parse_version(found.trim_start_matches("go")) {
        Some(v) if v >= MIN_GO => Ok(PathBuf::from("go")),
        _ => bail!(
            "Go >= {}.{} is required to build kube-apiserver, etcd and helm, found {found}",
            MIN_GO.0,
            MIN_GO.1
        ),
    }
}

/// A `python3` of at least [`MIN_PYTHON`] that can create virtual environments.
pub fn python() -> Result<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, venv, ensurepip; print('%d.%d' % sys.version_info[:2])",
        ])
        .output();
    let found = match out {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        Ok(out) => bail!(
            "Python >= {}.{} with the venv and ensurepip modules is required for the AWS emulator: {}",
            MIN_PYTHON.0,
            MIN_PYTHON.1,
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(_) => bail!(
            "Python >= {}.{} is required for the AWS emulator, but `python3` was not found on PATH",
            MIN_PYTHON.0,
            MIN_PYTHON.1
        ),
    };
    match parse_version(&found) {
        Some(v) if v >= MIN_PYTHON => Ok(PathBuf::from("python3")),
        _ => bail!(
            "Python >= {}.{} is required for the AWS emulator, found {found}",
            MIN_PYTHON.0,
            MIN_PYTHON.1
        ),
    }
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split(['.', '-', ' ']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::parse_version;

    #[test]
    fn parses_go_and_python_versions() {
        assert_eq!(parse_version("1.26.8"), Some((1, 26)));
        assert_eq!(parse_version("1.27rc1"), None);
        assert_eq!(parse_version("3.11"), Some((3, 11)));
        assert_eq!(parse_version("garbage"), None);
    }
}
