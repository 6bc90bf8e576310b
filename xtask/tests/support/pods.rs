//! Controllers as pods on the test world's node: their images imported into the node's
//! containerd, their charts installed with helm.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use testenv::TestEnv;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("running a command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A controller image as the node knows it after the import.
pub struct Image {
    pub repository: String,
    pub tag: String,
}

/// Builds every controller image once (as `cargo xtask image` does), imports each into the node's
/// containerd, and returns what the charts' `image.repository` / `image.tag` must say.
pub fn image(env: &TestEnv, service: &str) -> Image {
    static BUILT: OnceLock<Vec<testenv::image::Image>> = OnceLock::new();
    let images = BUILT.get_or_init(|| {
        testenv::image::build(&repo(), &[]).unwrap_or_else(|e| panic!("building the images: {e:#}"))
    });
    let archive = &images
        .iter()
        .find(|img| img.service == service)
        .unwrap_or_else(|| panic!("no image for {service}"))
        .archive;
    let ctr = || testenv::node::ctr(&env.node().containerd_address);
    run(ctr()
        .args([
            "-n",
            testenv::node::CONTAINERD_NAMESPACE,
            "images",
            "import",
        ])
        .arg(archive));
    let names = run(ctr().args([
        "-n",
        testenv::node::CONTAINERD_NAMESPACE,
        "images",
        "ls",
        "-q",
    ]));
    let name = names
        .lines()
        .find(|n| n.contains(&format!("ack-rs/{service}-controller:")))
        .unwrap_or_else(|| panic!("no {service} image after the import: {names}"))
        .to_string();
    // kubelet asks for the normalized name (docker.io/...); `ctr import` keeps the one it read.
    let normalized = if name.contains('.') && name.split('/').next().unwrap().contains('.') {
        name.clone()
    } else {
        let normalized = format!("docker.io/{name}");
        let _ = ctr()
            .args(["-n", testenv::node::CONTAINERD_NAMESPACE, "images", "tag"])
            .args([&name, &normalized])
            .output();
        normalized
    };
    let (repository, tag) = normalized.rsplit_once(':').unwrap();
    Image {
        repository: repository.to_string(),
        tag: tag.to_string(),
    }
}

/// `helm install` of a service's chart, running the image against the emulator with credentials
/// from a Secret (the chart's own credentials wiring).
pub fn install(env: &TestEnv, service: &str, namespace: &str, extra: &[String]) {
    let image = image(env, service);
    let secret = format!("ack-{service}-aws-credentials");
    run(env.kubectl().args([
        "create",
        "secret",
        "generic",
        &secret,
        "-n",
        namespace,
        "--from-literal=credentials=[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    ]));
    run(env
        .helm()
        .args(["install", &format!("ack-{service}")])
        .arg(repo().join(format!("charts/{service}-controller")))
        .args(["-n", namespace, "--wait", "--timeout=4m"])
        .arg(format!("--set=image.repository={}", image.repository))
        .arg(format!("--set=image.tag={}", image.tag))
        .arg("--set=image.pullPolicy=Never")
        .arg(format!("--set=aws.region={}", env.endpoints.region))
        .arg(format!(
            "--set=aws.endpoint_url={}",
            env.endpoints.aws_endpoint_url
        ))
        // The emulator speaks plain HTTP and serves buckets by path.
        .args([
            "--set=aws.allow_unsafe_aws_endpoint_urls=true",
            "--set=aws.endpoint_use_path_style=true",
        ])
        .arg(format!("--set=aws.credentials.secretName={secret}"))
        .args(["--set=installScope=namespace", "--set=log.level=info"])
        .arg(format!("--set=watchNamespace={namespace}"))
        .args(extra));
}
