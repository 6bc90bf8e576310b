//! `cargo xtask <task>`: the project's automation, in Rust instead of Makefiles and shell.

mod test;
mod testenv_cmd;

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "ack-rs project tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build, start, stop or inspect the test world (kube-apiserver, etcd, AWS emulator).
    Testenv {
        #[command(subcommand)]
        action: testenv_cmd::Action,
    },
    /// The project's test command: starts one test world, runs every test suite against it.
    Test {
        /// Extra arguments for `cargo test` (after `--`).
        #[arg(last = true)]
        cargo_args: Vec<String>,
    },
}

fn main() -> Result<()> {
    match Cli::parse().task {
        Task::Testenv { action } => testenv_cmd::run(action),
        Task::Test { cargo_args } => test::run(&cargo_args),
    }
}

/// The workspace root (xtask lives one level below it).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}
