//! `cargo xtask chaos`: the chaos suite (`chaos/tests/chaos.rs`) at the sizes — 200
//! custom resources per case, a 60 s outage — on a test world of its own, then one line of
//! figures per case (the `CHAOS {json}` lines the cases print). Inside `cargo xtask test` the
//! same cases run small, except the control-plane restart case (ignored there: it starts a
//! control plane of its own).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use testenv::launch::Lifetime;
use testenv::world;

use crate::repo_root;

pub fn run(filter: Option<&str>) -> Result<()> {
    let started = Instant::now();
    // The kill case kills real controller processes (SIGKILL).
    let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    build.current_dir(repo_root()).args([
        "build",
        "--bins",
        "-p",
        "ack-s3",
        "-p",
        "ack-sqs",
        "-p",
        "ack-dynamodb",
    ]);
    if !build.status()?.success() {
        bail!("building the controller binaries failed");
    }
    let bins = crate::dev::target_dir()?.join("debug");
    let world = world::start(&world::fresh_dir()?, Lifetime::Owned)
        .context("the test world could not start")?;
    eprintln!("[xtask] chaos: test world up in {:.1?}", started.elapsed());
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .current_dir(repo_root())
        .args(["test", "-p", "chaos", "--test", "chaos", "--"])
        .args(filter)
        .args(["--include-ignored", "--nocapture", "--test-threads=1"])
        .envs(world.endpoints.env())
        .env("ACK_RS_CHAOS", "full")
        .env("ACK_RS_CONTROLLER_BINS", &bins)
        .stderr(Stdio::piped());
    let mut child = cargo.spawn().context("running cargo test -p chaos")?;
    let mut figures = Vec::new();
    for line in BufReader::new(child.stderr.take().expect("stderr is piped")).lines() {
        let line = line?;
        eprintln!("{line}");
        if let Some(json) = line.strip_prefix("CHAOS ") {
            figures.push(json.to_string());
        }
    }
    let status = child.wait()?;
    drop(world);
    eprintln!(
        "\n[xtask] chaos figures ({:.0?} in all):",
        started.elapsed()
    );
    for line in &figures {
        println!("{line}");
    }
    if !status.success() {
        bail!("the chaos suite failed");
    }
    Ok(())
}
