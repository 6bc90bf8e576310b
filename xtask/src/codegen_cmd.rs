//! `cargo xtask codegen [--check]` and `cargo xtask models --botocore <version>`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ack_codegen::Layout;
use anyhow::{Context, Result, bail};

use crate::repo_root;

/// How many stale files `--check` shows a diff for; the rest are only named.
const DIFFS_SHOWN: usize = 3;

/// Regenerates CRDs and Rust types, or with `check` fails if the checked-in ones are stale.
pub fn codegen(check: bool) -> Result<()> {
    let layout = Layout::new(repo_root());
    let started = Instant::now();
    if check {
        let drift = ack_codegen::check(&layout)?;
        if drift.is_empty() {
            eprintln!(
                "[xtask] generated code is up to date ({:.2?})",
                started.elapsed()
            );
            return Ok(());
        }
        for (i, d) in drift.iter().enumerate() {
            match d {
                ack_codegen::Drift::Changed { path, .. } if i >= DIFFS_SHOWN => {
                    eprintln!("{path}: differs")
                }
                d => eprintln!("{d}"),
            }
        }
        bail!(
            "{} generated file(s) are stale; run `cargo xtask codegen`",
            drift.len()
        );
    }
    let touched = ack_codegen::write(&layout)?;
    for change in &touched {
        eprintln!("[xtask] {change}");
    }
    eprintln!(
        "[xtask] codegen done: {} file(s) changed ({:.2?})",
        touched.len(),
        started.elapsed()
    );
    Ok(())
}

/// Replaces the models the service configs name with those of one botocore release from PyPI.
pub fn models(botocore: &str) -> Result<()> {
    let layout = Layout::new(repo_root());
    let download = std::env::temp_dir().join(format!("ack-rs-botocore-{}", std::process::id()));
    fs::create_dir_all(&download)?;
    let result = fetch_models(&layout, botocore, &download);
    let _ = fs::remove_dir_all(&download);
    result?;
    fs::write(layout.botocore_version_file(), format!("{botocore}\n"))?;
    eprintln!("[xtask] models are botocore {botocore}; now run `cargo xtask codegen`");
    Ok(())
}

fn fetch_models(layout: &Layout, botocore: &str, download: &Path) -> Result<()> {
    let wheel = download_botocore(botocore, download)?;
    for (_, config) in ack_codegen::service_configs(layout)? {
        let service = &config.service;
        let target = layout.model_file(&service.model);
        fs::create_dir_all(target.parent().expect("model file has a directory"))?;
        let dir = format!("{}/{}", service.model, service.api_version);
        extract_model(&wheel, &dir, &target)
            .with_context(|| format!("extracting the {} model", service.model))?;
        eprintln!("[xtask] {}", target.display());
    }
    Ok(())
}

/// Downloads the botocore wheel of one release into `download` (with pip); returns its path.
pub fn download_botocore(botocore: &str, download: &Path) -> Result<PathBuf> {
    let status = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "--quiet", "--dest"])
        .arg(download)
        .arg(format!("botocore=={botocore}"))
        .status()
        .context("running python3 -m pip")?;
    if !status.success() {
        bail!("pip could not download botocore {botocore}");
    }
    fs::read_dir(download)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .context("pip left no wheel")
}

/// The API versions the wheel holds a `service-2.json(.gz)` of `model` for, oldest first
/// (botocore's directories `botocore/data/<model>/<api version>/`); empty for an unknown model.
pub fn model_api_versions(wheel: &Path, model: &str) -> Result<Vec<String>> {
    const SCRIPT: &str = r#"
import sys, zipfile
wheel, model = sys.argv[1:]
prefix = "botocore/data/" + model + "/"
versions = set()
for name in zipfile.ZipFile(wheel).namelist():
    if name.startswith(prefix) and name.endswith(("/service-2.json", "/service-2.json.gz")):
        rest = name[len(prefix):].split("/")
        if len(rest) == 2:
            versions.add(rest[0])
print("\n".join(sorted(versions)))
"#;
    let out = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(wheel)
        .arg(model)
        .output()
        .context("running python3")?;
    if !out.status.success() {
        bail!(
            "python3 could not list the wheel: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

/// Copies `botocore/data/<dir>/service-2.json` out of the wheel (a zip), un-gzipping the
/// `.json.gz` newer releases ship. Python's standard library reads both, and pip needs Python
/// anyway.
pub fn extract_model(wheel: &Path, dir: &str, target: &Path) -> Result<()> {
    const SCRIPT: &str = r#"
import gzip, sys, zipfile
wheel, base, target = sys.argv[1:]
names = set(zipfile.ZipFile(wheel).namelist())
with zipfile.ZipFile(wheel) as z:
    if base + ".json" in names:
        data = z.read(base + ".json")
    elif base + ".json.gz" in names:
        data = gzip.decompress(z.read(base + ".json.gz"))
    else:
        sys.exit("no " + base + ".json(.gz) in the wheel")
open(target, "wb").write(data)
"#;
    let status = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(wheel)
        .arg(format!("botocore/data/{dir}/service-2"))
        .arg(target)
        .status()?;
    if !status.success() {
        bail!("python3 could not extract the model");
    }
    Ok(())
}
