//! A real kube-apiserver accepts the generated CRDs (structural schemas, CEL rules), and with
//! them every Bucket, Queue and Table manifest of ACK's own end-to-end tests, with strict field
//! validation: no field a user of ACK's controllers writes is unknown to ours.

use std::fs;
use std::path::{Path, PathBuf};

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use testenv::TestEnv;

/// Our kinds, by ACK manifest directory; manifests of other kinds (Backup, GlobalTable) are
/// outside this generator's resources so far.
const KINDS: &[(&str, &str, &str)] = &[
    ("s3", "Bucket", "buckets"),
    ("sqs", "Queue", "queues"),
    ("dynamodb", "Table", "tables"),
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("codegen is inside the repository")
        .to_path_buf()
}

/// ACK's `$NAME` placeholders, filled with a value valid wherever they stand (object names,
/// strings).
fn fill_placeholders(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(after.len());
        out.push_str(&after[..len].to_lowercase().replace('_', "-"));
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

#[test]
fn apiserver_accepts_the_crds_and_every_ack_manifest_of_our_kinds() {
    // Outside any runtime: starting a world (when none is running) blocks on one of its own.
    let env = TestEnv::get();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(accepts_crds_and_manifests(env));
}

async fn accepts_crds_and_manifests(env: &TestEnv) {
    let crds: Vec<PathBuf> = KINDS
        .iter()
        .map(|(service, _, plural)| {
            repo_root().join(format!("crds/{service}.services.k8s.aws_{plural}.yaml"))
        })
        .collect();
    let crd_refs: Vec<&Path> = crds.iter().map(PathBuf::as_path).collect();
    env.install_crds(&crd_refs)
        .await
        .expect("the apiserver accepts the generated CRDs");

    let client = env.client().await;
    let namespace = env.namespace("ack-compat").await;
    let params = PatchParams::apply("ack-codegen-compat")
        .dry_run()
        .validation_strict();
    let manifests_dir = repo_root().join("../shared/ack-compat/manifests");
    let mut checked = 0;
    let mut rejected = Vec::new();
    for (service, kind, plural) in KINDS {
        let gvk = GroupVersionKind::gvk(&format!("{service}.services.k8s.aws"), "v1alpha1", kind);
        let api: Api<DynamicObject> = Api::namespaced_with(
            client.clone(),
            &namespace,
            &ApiResource::from_gvk_with_plural(&gvk, plural),
        );
        let mut files: Vec<PathBuf> = fs::read_dir(manifests_dir.join(service))
            .expect("ACK's manifests are next to the repository")
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let text = fill_placeholders(&fs::read_to_string(&file).unwrap());
            let mut object: DynamicObject = serde_yaml::from_str(&text).unwrap();
            if object.types.as_ref().map(|t| t.kind.as_str()) != Some(*kind) {
                continue;
            }
            object.metadata.namespace = Some(namespace.clone());
            let name = object.metadata.name.clone().expect("manifests are named");
            match api.patch(&name, &params, &Patch::Apply(&object)).await {
                Ok(_) => checked += 1,
                Err(e) => rejected.push(format!("{}: {e}", file.display())),
            }
        }
    }
    // The check has teeth: a field our Queue lacks is refused.
    let queue = GroupVersionKind::gvk("sqs.services.k8s.aws", "v1alpha1", "Queue");
    let queues: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &namespace,
        &ApiResource::from_gvk_with_plural(&queue, "queues"),
    );
    let unknown_field: DynamicObject = serde_yaml::from_str(
        "apiVersion: sqs.services.k8s.aws/v1alpha1\nkind: Queue\nmetadata: {name: q}\n\
         spec: {queueName: q, delaySecondz: '1'}",
    )
    .unwrap();
    let refused = queues
        .patch("q", &params, &Patch::Apply(&unknown_field))
        .await;
    assert!(refused.is_err(), "an unknown spec field was accepted");

    println!("{checked} ACK manifests accepted");
    assert!(rejected.is_empty(), "rejected:\n{}", rejected.join("\n"));
    assert!(checked >= 40, "only {checked} manifests checked");
}

#[test]
fn placeholders_become_names() {
    assert_eq!(
        fill_placeholders("name: $BUCKET_NAME\nregion: '$REPLICA_REGION_1'"),
        "name: bucket-name\nregion: 'replica-region-1'"
    );
}
