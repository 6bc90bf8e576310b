//! `cargo xtask test`: one test world for the whole run (with its node unless `--no-node`), then
//! every suite against it.

use std::process::Command;
use std::time::Instant;

use anyhow::{Result, bail};
use testenv::launch::Lifetime;
use testenv::{emulator, world};

use crate::repo_root;

pub fn run(cargo_args: &[String], no_node: bool) -> Result<()> {
    let started = Instant::now();
    let options = world::Options { node: !no_node };
    let world = match world::start_with(&world::fresh_dir()?, Lifetime::Owned, options) {
        Ok(world) => world,
        Err(e) => bail!("the test world could not start, so no test can run: {e:#}"),
    };
    eprintln!("[xtask] test world up in {:.1?}", started.elapsed());
    let env = world.endpoints.env();
    let mut failed = Vec::new();

    let venv = emulator::ensure_venv()?;
    let mut pytest = Command::new(emulator::python(&venv));
    pytest
        .current_dir(repo_root())
        .args(["-m", "pytest", "-q", "testenv/emulator/tests"]);
    if !pytest.status()?.success() {
        failed.push("emulator fidelity tests (pytest)");
    }

    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(repo_root()).arg("test");
    // `-p X` narrows the run to that package; cargo would run everything with `--workspace` too.
    if !cargo_args
        .iter()
        .any(|a| a == "-p" || a.starts_with("--package"))
    {
        cargo.arg("--workspace");
    }
    cargo.args(cargo_args).envs(env);
    if !cargo.status()?.success() {
        failed.push("cargo test");
    }

    drop(world); // stops the world before we report
    if !failed.is_empty() {
        bail!("failed: {}", failed.join(", "));
    }
    eprintln!("[xtask] all suites passed in {:.1?}", started.elapsed());
    Ok(())
}
