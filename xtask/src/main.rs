//! `cargo xtask <task>`: the project's automation, in Rust instead of Makefiles and shell.

mod bench;
mod chaos;
mod charts;
mod codegen_cmd;
mod dev;
mod image_cmd;
mod new_service;
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
    /// Build, start, stop or inspect the test world (kube-apiserver, etcd, AWS emulator, node).
    Testenv {
        #[command(subcommand)]
        action: testenv_cmd::Action,
    },
    /// The project's test command: starts one test world, runs every test suite against it.
    Test {
        /// Start the world without its node (needs no root; tests that run pods then fail).
        #[arg(long)]
        no_node: bool,
        /// Extra arguments for `cargo test` (after `--`).
        #[arg(last = true)]
        cargo_args: Vec<String>,
    },
    /// The chaos suite at full size (200 CRs per case, a 60 s AWS outage…) on its own test
    /// world; prints each case's figures. `cargo xtask test` runs the same cases small.
    Chaos {
        /// Only the cases whose name contains this.
        filter: Option<String>,
    },
    /// Measure a controller on the test world (memory, convergence, AWS calls per resync).
    Bench(bench::Args),
    /// A playground: test world, CRDs, every controller, the example app chart and an adopted
    /// queue, until Ctrl-C.
    Dev,
    /// Regenerate CRDs and Rust types from the AWS models and services/*/generator.toml.
    Codegen {
        /// Fail (with a diff) if the checked-in generated files are stale; write nothing.
        #[arg(long)]
        check: bool,
    },
    /// Replace codegen/models with the models of one botocore release (downloaded with pip).
    Models {
        /// The botocore version, e.g. 1.44.5.
        #[arg(long)]
        botocore: String,
    },
    /// Scaffold services/<alias>/ from the service's AWS model (pinned botocore release):
    /// crate, generator.toml guessed from the model (TODOs where a human decides), codegen.
    NewService(new_service::Args),
    /// Render charts/<svc>-controller/ from xtask/templates/chart/ and crds/ (`--check`: fail if stale).
    Charts(charts::Args),
    /// Build the controller images (static binary + CA bundle, reproducible) into the target
    /// dir as OCI layouts and archives; `--push` sends them to a registry.
    Image(image_cmd::Args),
}

fn main() -> Result<()> {
    match Cli::parse().task {
        Task::Testenv { action } => testenv_cmd::run(action),
        Task::Test {
            cargo_args,
            no_node,
        } => test::run(&cargo_args, no_node),
        Task::Dev => dev::run(),
        Task::Chaos { filter } => chaos::run(filter.as_deref()),
        Task::Bench(args) => bench::run(args),
        // Charts carry copies of the CRDs, so they are regenerated (or checked) with them.
        Task::Codegen { check } => codegen_cmd::codegen(check)
            .and_then(|()| charts::run(charts::Args { check, root: None })),
        Task::Models { botocore } => codegen_cmd::models(&botocore),
        Task::Charts(args) => charts::run(args),
        Task::NewService(args) => new_service::run(args),
        Task::Image(args) => image_cmd::run(args),
    }
}

/// The workspace root (xtask lives one level below it).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}
