//! `cargo xtask testenv up|down|status|build`.

use std::time::Instant;

use anyhow::{Result, bail};
use clap::Subcommand;
use testenv::gobuild;
use testenv::launch::Lifetime;
use testenv::world::{self, DetachedState};

#[derive(Subcommand)]
pub enum Action {
    /// Build what is missing, start the world in the background, print `export` lines.
    /// Use as `eval "$(cargo xtask testenv up)"`.
    Up {
        /// Also start a node (containerd, kubelet, kube-controller-manager, kube-scheduler) that
        /// runs pods; needs root.
        #[arg(long)]
        node: bool,
    },
    /// Stop everything `up` started.
    Down,
    /// Say whether a world is up and how to reach it.
    Status,
    /// Only build the pinned Go binaries (the node's too) and the emulator venv.
    Build,
}

pub fn run(action: Action) -> Result<()> {
    match action {
        Action::Up { node } => up(node),
        Action::Down => {
            match DetachedState::load() {
                Some(state) => {
                    state.stop()?;
                    eprintln!("testenv stopped");
                }
                None => eprintln!("no testenv is up"),
            }
            Ok(())
        }
        Action::Status => {
            match DetachedState::load() {
                Some(state) if state.all_alive() => {
                    eprintln!("testenv is up (pids {:?})", state.pids);
                    if let Some(node) = &state.endpoints.node {
                        eprintln!(
                            "node {}: {}",
                            node.name,
                            node_status(&state.endpoints, &node.name)
                        );
                    }
                    print!("{}", state.endpoints.exports());
                }
                Some(_) => bail!(
                    "testenv was started but some of its processes died; run `cargo xtask testenv down`"
                ),
                None => eprintln!("no testenv is up"),
            }
            Ok(())
        }
        Action::Build => {
            for tool in gobuild::ALL {
                tool.ensure()?;
            }
            testenv::emulator::ensure_venv()?;
            Ok(())
        }
    }
}

/// "Ready" or what keeps the node from it, read from the apiserver.
fn node_status(endpoints: &world::Endpoints, name: &str) -> String {
    let probe = match testenv::controlplane::KubeProbe::new(&endpoints.kubeconfig) {
        Ok(probe) => probe,
        Err(e) => return format!("unknown ({e:#})"),
    };
    match probe.get(&format!("/api/v1/nodes/{name}")) {
        Ok(body) if testenv::node::node_ready(&body) => "Ready".into(),
        Ok(_) => "NotReady".into(),
        Err(e) => format!("unknown ({e:#})"),
    }
}

fn up(node: bool) -> Result<()> {
    if let Some(state) = DetachedState::load() {
        if state.all_alive() && state.endpoints.node.is_some() >= node {
            eprintln!("testenv already up");
            print!("{}", state.endpoints.exports());
            return Ok(());
        }
        eprintln!("testenv record found but processes died (or it has no node); restarting");
        state.stop()?;
    }
    let started = Instant::now();
    let world = world::start_with(
        &world::fresh_dir()?,
        Lifetime::Detached,
        world::Options { node },
    )?;
    let state = DetachedState {
        pids: world.procs.iter().map(|p| p.pid()).collect(),
        endpoints: world.endpoints,
    };
    state.save()?;
    eprintln!("testenv up in {:.1?}", started.elapsed());
    print!("{}", state.endpoints.exports());
    Ok(())
}
