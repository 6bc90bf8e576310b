//! The emitted CRD and the one `kube` derives from the generated Rust types agree on names,
//! print columns and every field's path, type and format, so the two emitters cannot drift.

use kube::CustomResourceExt;

#[test]
fn tables_crd_matches_the_rust_types() {
    let yaml = include_str!("../../../crds/dynamodb.services.k8s.aws_tables.yaml");
    let emitted = ack_codegen::schema::parse_crd(yaml).expect("emitted CRD parses");
    let derived = serde_json::to_value(ack_dynamodb::Table::crd()).expect("CRD serialises");
    let differences = ack_codegen::schema::crd_differences(&emitted, &derived);
    assert!(
        differences.is_empty(),
        "emitted YAML vs derived CRD:\n{}",
        differences.join("\n")
    );
}
