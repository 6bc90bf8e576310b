//! Worlds side by side on one machine: starting a world must never sweep away another that is
//! still running, even one whose creator has exited (as after `eval "$(cargo xtask testenv up)"`),
//! and a world that is gone must still be swept.

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_sqs::Client as Sqs;
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::PostParams;
use testenv::launch::Lifetime;
use testenv::world::{self, Endpoints, RUN_DIR_PREFIX};

/// The pid of a process that has exited.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().expect("running true");
    let pid = child.id();
    child.wait().unwrap();
    pid
}

/// A run directory whose creator is gone, as `testenv up` leaves one.
fn dir_of_exited_creator() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "{RUN_DIR_PREFIX}{}-{:08x}",
        dead_pid(),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn sdk(endpoints: &Endpoints) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&endpoints.aws_endpoint_url)
        .region(aws_config::Region::new(endpoints.region.clone()))
        .credentials_provider(aws_credential_types::Credentials::new(
            world::ACCESS_KEY_ID,
            world::SECRET_ACCESS_KEY,
            None,
            None,
            "worlds-test",
        ))
        .load()
        .await
}

async fn namespaces(endpoints: &Endpoints) -> Vec<String> {
    let client = testenv::kube_client(&endpoints.kubeconfig).await.unwrap();
    Api::<Namespace>::all(client)
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect()
}

async fn queues(endpoints: &Endpoints) -> Vec<String> {
    Sqs::new(&sdk(endpoints).await)
        .list_queues()
        .send()
        .await
        .unwrap()
        .queue_urls
        .unwrap_or_default()
}

fn start(dir: &Path) -> world::World {
    let dir = dir.to_path_buf();
    // World start-up blocks on its own runtime; tokio forbids that inside the test's.
    std::thread::spawn(move || world::start(&dir, Lifetime::Owned).expect("starting a world"))
        .join()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_worlds_side_by_side_and_only_gone_ones_are_swept() {
    // World A: its creator has exited, its processes run (the `testenv up` case).
    let a_dir = dir_of_exited_creator();
    let a = start(&a_dir);
    // A stray directory: creator exited, no process of its own — an orphan.
    let orphan = dir_of_exited_creator();
    std::fs::create_dir_all(orphan.join("etcd")).unwrap();

    // World B starts the ordinary way, sweeping first.
    let b = start(&world::fresh_dir().unwrap());
    assert!(!orphan.exists(), "an orphaned run directory must be swept");
    assert!(
        a_dir.join("etcd").is_dir() && a_dir.join("kubeconfig").is_file(),
        "a running world's directory must survive another world's start-up"
    );

    // Both serve, each its own state.
    let ns = format!("only-in-a-{}", std::process::id());
    let client = testenv::kube_client(&a.endpoints.kubeconfig).await.unwrap();
    let mut namespace = Namespace::default();
    namespace.metadata.name = Some(ns.clone());
    Api::<Namespace>::all(client)
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap();
    let queue = format!("only-in-b-{}", std::process::id());
    Sqs::new(&sdk(&b.endpoints).await)
        .create_queue()
        .queue_name(&queue)
        .send()
        .await
        .unwrap();
    assert!(namespaces(&a.endpoints).await.contains(&ns));
    assert!(!namespaces(&b.endpoints).await.contains(&ns));
    assert!(
        queues(&b.endpoints)
            .await
            .iter()
            .any(|q| q.ends_with(&queue))
    );
    assert!(
        !queues(&a.endpoints)
            .await
            .iter()
            .any(|q| q.ends_with(&queue))
    );

    // A third start-up (a `dev` playground does the same) still leaves both running worlds alone.
    world::sweep_stale_dirs();
    assert!(a_dir.join("etcd").is_dir() && b.endpoints.dir.join("etcd").is_dir());
    assert!(namespaces(&a.endpoints).await.contains(&ns));

    // Once A's processes are gone, A is swept.
    drop(a);
    world::sweep_stale_dirs();
    assert!(
        !a_dir.exists(),
        "a world whose processes are all gone must be swept"
    );
    assert!(b.endpoints.dir.join("etcd").is_dir());
    let b_dir = b.endpoints.dir.clone();
    drop(b);
    let _ = std::fs::remove_dir_all(b_dir);
}
