//! Child processes of the test world, each in its own process group.
//!
//! Two lifetimes exist:
//! - *owned* (tests, `cargo xtask test`): the children die with the parent — through `Drop` (kill
//!   the group) and, for a parent that panics or is killed, `PR_SET_PDEATHSIG`;
//! - *detached* (`cargo xtask testenv up`): the children outlive the command and are stopped later by
//!   pid with `testenv down`.

use std::io;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running child that is killed, with its whole process group, when dropped.
pub struct OwnedChild {
    pub name: String,
    child: Child,
}

impl OwnedChild {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited; `Some(status)` when it has.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for OwnedChild {
    fn drop(&mut self) {
        let child = &mut self.child;
        stop_group(child.id(), || matches!(child.try_wait(), Ok(Some(_))));
        let _ = child.wait();
    }
}

type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

/// Spawns `cmd` as an owned child in its own process group.
///
/// Warning: `PR_SET_PDEATHSIG` fires when the *thread* that forked exits, not the process. Test
/// harnesses run each test on a short-lived thread, so every owned child is forked from one
/// spawner thread that lives as long as the process.
pub fn spawn_owned(name: &str, mut cmd: Command) -> io::Result<OwnedChild> {
    static SPAWNER: OnceLock<mpsc::Sender<SpawnRequest>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("testenv-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("spawning the testenv spawner thread");
        tx
    });
    cmd.process_group(0);
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (tx, rx) = mpsc::channel();
    spawner
        .send((cmd, tx))
        .map_err(|_| io::Error::other("testenv spawner thread is gone"))?;
    let child = rx
        .recv()
        .map_err(|_| io::Error::other("testenv spawner thread is gone"))??;
    Ok(OwnedChild {
        name: name.to_string(),
        child,
    })
}

/// Spawns `cmd` in a new session so it outlives this process; returns its pid (= its group id).
pub fn spawn_detached(mut cmd: Command) -> io::Result<u32> {
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    let pid = child.id();
    // Reap it in the background if it exits while we still live; otherwise init adopts it.
    std::thread::spawn(move || {
        let mut child = child;
        let _ = child.wait();
    });
    Ok(pid)
}

pub fn is_alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(pid as i32, 0) == 0 }
}

/// The working directory of every process this user can see (`/proc/<pid>/cwd`).
pub fn working_dirs() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter_map(|e| std::fs::read_link(e.path().join("cwd")).ok())
        .collect()
}

/// Stops a detached group started by [`spawn_detached`] (init reaps it).
pub fn stop_detached(pgid: u32) {
    // SAFETY: signal 0 probes for any member left in the group.
    stop_group(pgid, || unsafe { libc::kill(-(pgid as i32), 0) } != 0);
}

/// SIGTERM to the process group, then SIGKILL if the leader is not `gone` after a grace period.
fn stop_group(pgid: u32, mut gone: impl FnMut() -> bool) {
    let pgid = pgid as i32;
    // SAFETY: plain signal delivery to a process group we created.
    unsafe {
        libc::kill(-pgid, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if gone() {
            // The leader is done; take any straggler in its group with it.
            // SAFETY: as above.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: as above.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}
