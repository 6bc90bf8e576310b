//! `cargo xtask new-service`: SNS's Topic scaffolded into a temporary root (a copy of the parts of
//! the repository the command and a build need), never into the repository's workspace. The
//! scaffold's files are checked, its CRD is judged by the real kube-apiserver (server-side dry
//! run) and the new crate passes clippy with warnings denied, built in the shared target dir.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use ack_codegen::Layout;
use testenv::TestEnv;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}

/// A temporary root, removed on drop: the root manifest (without SNS) and lock file, the pinned
/// botocore version, `runtime/` (the new crate's one path dependency) and an empty `services/`.
struct Root(PathBuf);

impl Root {
    fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ack-rs-new-service-test-{}-{name}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("codegen/models")).unwrap();
        fs::create_dir_all(dir.join("services")).unwrap();
        let repo = repo();
        for file in [
            "Cargo.toml",
            "Cargo.lock",
            "codegen/models/BOTOCORE_VERSION",
        ] {
            fs::copy(repo.join(file), dir.join(file)).unwrap();
        }
        // SNS is served now; the scaffold is checked on it as if it were not yet.
        let manifest = fs::read_to_string(dir.join("Cargo.toml"))
            .unwrap()
            .replace(", \"services/sns\"", "");
        let without_sns: Vec<&str> = manifest
            .lines()
            .filter(|l| !l.starts_with("aws-sdk-sns ="))
            .collect();
        fs::write(dir.join("Cargo.toml"), without_sns.join("\n") + "\n").unwrap();
        copy_dir(&repo.join("runtime"), &dir.join("runtime"));
        Self(dir)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    /// `cargo xtask new-service <args> --root <this root>`.
    fn new_service(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("new-service")
            .args(args)
            .arg("--root")
            .arg(&self.0)
            .output()
            .expect("running xtask")
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else {
            fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Scaffolds `sns --resource Topic` into `root`; returns stdout (the next steps).
fn scaffold_sns(root: &Root) -> String {
    let out = root.new_service(&["sns", "--resource", "Topic"]);
    assert!(
        out.status.success(),
        "new-service sns failed:\n{}{}",
        text(&out.stderr),
        text(&out.stdout)
    );
    text(&out.stdout)
}

#[test]
fn sns_topic_scaffold_has_every_part_and_its_crd_is_accepted() {
    let root = Root::new("files");
    let next_steps = scaffold_sns(&root);

    // The model, at the pinned release.
    let model = root.read("codegen/models/sns/service-2.json");
    assert!(model.contains("\"CreateTopic\""), "not SNS's model");

    // The crate.
    let cargo = root.read("services/sns/Cargo.toml");
    assert!(cargo.contains("name = \"ack-sns\""), "{cargo}");
    assert!(cargo.contains("aws-sdk-sns.workspace = true"), "{cargo}");
    let lib = root.read("services/sns/src/lib.rs");
    assert!(lib.contains("pub mod generated;") && lib.contains("pub mod hooks;"));
    let hooks = root.read("services/sns/src/hooks.rs");
    assert!(
        !hooks.lines().any(|l| l.starts_with("pub mod")),
        "hooks start empty, got:\n{hooks}"
    );
    let main = root.read("services/sns/src/main.rs");
    assert!(main.contains("process::run("), "{main}");

    // The workspace: the member and the SDK crate.
    let manifest = root.read("Cargo.toml");
    assert!(manifest.contains("\"services/sns\""), "{manifest}");
    assert!(
        manifest.contains("\naws-sdk-sns = { version = \"1\""),
        "{manifest}"
    );

    // The config: what the model says about a Topic, with TODOs for a human.
    let config = root.read("services/sns/generator.toml");
    for line in [
        "model = \"sns\"",
        "api_version = \"2010-03-31\"",
        "alias = \"sns\"",
        "crate = \"aws_sdk_sns\"",
        "NotFoundException = [\"NotFound\"]",
        "[resources.Topic]",
        "create = \"CreateTopic\"",
        "read_one = \"GetTopicAttributes\"",
        "update = \"SetTopicAttributes\"",
        "delete = \"DeleteTopic\"",
        "identifier = \"topicARN\"",
        "adoption_fields = [\"topicARN\"]",
        "arn = { template = \"arn:{partition}:sns:{region}:{account}:{name}\" }",
        "immutable = [\"dataProtectionPolicy\", \"name\"]",
        "[resources.Topic.attributes]",
        "member = \"Attributes\"",
        "[resources.Topic.tags]",
        "format = \"key_value_list\"",
        "api = \"add_remove\"",
        "read = \"ListTagsForResource\"",
        "write = \"TagResource\"",
        "remove = \"UntagResource\"",
        "with_create = true",
        "[resources.Topic.errors]",
        "not_found = [\"NotFoundException\"]",
        "hooks = []",
        // SetTopicAttributes sets one attribute per call: not a style the emitter knows yet.
        "manager = false",
    ] {
        assert!(
            config.lines().any(|l| l == line),
            "generator.toml lacks `{line}`:\n{config}"
        );
    }
    let spec_attributes = config
        .lines()
        .find(|l| l.starts_with("spec = ["))
        .expect("spec attributes");
    for attribute in ["\"DisplayName\"", "\"Policy\"", "\"KmsMasterKeyId\""] {
        assert!(spec_attributes.contains(attribute), "{spec_attributes}");
    }
    assert!(
        !spec_attributes.contains("\"MessageGroup\""),
        "an attribute's documented value is not an attribute: {spec_attributes}"
    );
    assert!(config.contains("# TODO"), "no TODOs for a human");
    assert!(
        next_steps.contains("manager = false") && next_steps.contains("Next steps"),
        "{next_steps}"
    );

    // Generated and fresh: codegen over the temporary root finds nothing stale.
    let layout = Layout::new(&root.0);
    let drift = ack_codegen::check(&layout).expect("codegen runs on the scaffold");
    assert!(drift.is_empty(), "stale after new-service: {drift:?}");
    for file in ["mod.rs", "common.rs", "topic.rs"] {
        assert!(
            root.path(&format!("services/sns/src/generated/{file}"))
                .is_file()
        );
    }
    assert!(
        !root
            .path("services/sns/src/generated/topic_manager.rs")
            .exists(),
        "no manager is generated with manager = false"
    );

    // The real apiserver accepts the CRD.
    let crd = root.read("crds/sns.services.k8s.aws_topics.yaml");
    assert!(crd.contains("group: sns.services.k8s.aws"), "{crd}");
    let mut kubectl = TestEnv::get().kubectl();
    kubectl
        .args([
            "apply",
            "--server-side",
            "--dry-run=server",
            "--validate=strict",
            "--field-manager=new-service-test",
            // The served Topic CRD may be installed already (by the SNS tests): a dry run only.
            "--force-conflicts",
            "--filename",
        ])
        .arg(root.path("crds/sns.services.k8s.aws_topics.yaml"));
    let out = kubectl.output().expect("running kubectl");
    assert!(
        out.status.success(),
        "kube-apiserver refused the scaffolded CRD:\n{}{}",
        text(&out.stderr),
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).contains("topics.sns.services.k8s.aws"),
        "{}",
        text(&out.stdout)
    );

    // The repository's own SNS service is untouched: the scaffold went to the temporary root.
    let ours = fs::read_to_string(repo().join("services/sns/generator.toml")).unwrap();
    assert!(
        ours.contains("[resources.Subscription]"),
        "the repository's SNS config was overwritten"
    );
    assert_ne!(ours, root.read("services/sns/generator.toml"));
}

#[test]
fn sns_topic_scaffold_passes_clippy() {
    let root = Root::new("build");
    scaffold_sns(&root);
    // Only the crates the new one needs: the others are not in the temporary root.
    let manifest = root.read("Cargo.toml");
    let members = manifest
        .lines()
        .find(|l| l.starts_with("members = ["))
        .expect("members line");
    fs::write(
        root.path("Cargo.toml"),
        manifest.replace(members, "members = [\"runtime\", \"services/sns\"]"),
    )
    .unwrap();
    // The shared target dir: dependencies are built once for every workspace.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["clippy", "--quiet", "--manifest-path"])
        .arg(root.path("Cargo.toml"))
        .args(["-p", "ack-sns", "--all-targets", "--", "-D", "warnings"])
        .env("CARGO_TARGET_DIR", target)
        .stdin(Stdio::null())
        .output()
        .expect("running cargo clippy");
    assert!(
        out.status.success(),
        "the scaffolded crate does not pass clippy:\n{}",
        text(&out.stderr)
    );
}

#[test]
fn refuses_a_service_that_exists() {
    let root = Root::new("exists");
    fs::create_dir_all(root.path("services/sqs")).unwrap();
    let before = root.read("Cargo.toml");
    let out = root.new_service(&["sqs", "--resource", "Queue"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("services/sqs exists already"), "{stderr}");
    assert_eq!(root.read("Cargo.toml"), before);
    assert!(!root.path("codegen/models/sqs").exists());
}

#[test]
fn refuses_an_unknown_model_or_resource() {
    let root = Root::new("unknown");
    let before = root.read("Cargo.toml");

    let out = root.new_service(&["nosuchservice"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("has no model named \"nosuchservice\""),
        "{stderr}"
    );

    let out = root.new_service(&["sns", "--resource", "Nope"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("no CreateNope operation"), "{stderr}");
    assert!(
        stderr.contains("Topic"),
        "the kinds it has are named: {stderr}"
    );

    // Nothing was written.
    assert_eq!(root.read("Cargo.toml"), before);
    assert!(!root.path("services/nosuchservice").exists());
    assert!(!root.path("services/sns").exists());
    assert!(!root.path("codegen/models/sns").exists());
}
