//! The emitted CRDs and the ones `kube` derives from the generated Rust types agree on names,
//! print columns and every field's path, type and format, so the two emitters cannot drift.

use kube::CustomResourceExt;

fn agree(yaml: &str, derived: serde_json::Value) {
    let emitted = ack_codegen::schema::parse_crd(yaml).expect("emitted CRD parses");
    let differences = ack_codegen::schema::crd_differences(&emitted, &derived);
    assert!(
        differences.is_empty(),
        "emitted YAML vs derived CRD:\n{}",
        differences.join("\n")
    );
}

#[test]
fn topics_crd_matches_the_rust_types() {
    agree(
        include_str!("../../../crds/sns.services.k8s.aws_topics.yaml"),
        serde_json::to_value(ack_sns::Topic::crd()).unwrap(),
    );
}

#[test]
fn subscriptions_crd_matches_the_rust_types() {
    agree(
        include_str!("../../../crds/sns.services.k8s.aws_subscriptions.yaml"),
        serde_json::to_value(ack_sns::Subscription::crd()).unwrap(),
    );
}
