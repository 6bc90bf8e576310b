//! The setter-style manager emitter (`emit::manager::setters`) on S3's real model and config:
//! what it emits for declared-field semantics, and what it refuses. The emitted Bucket manager
//! itself is compiled and run end to end in `services/s3/tests/e2e.rs`.

use std::fs;
use std::path::Path;

use ack_codegen::emit::manager;
use ack_codegen::ir::{self, Service, Source, TagApi};
use ack_codegen::{Error, Layout};

fn s3() -> Service {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let config = fs::read_to_string(root.join("services/s3/generator.toml")).unwrap();
    let layout = Layout::new(&root);
    let model = fs::read_to_string(layout.model_file("s3")).unwrap();
    ack_codegen::lower_service("services/s3/generator.toml", &model, &config).unwrap()
}

fn refusal(service: &Service) -> String {
    match manager::emit(service, &service.resources[0]) {
        Err(e @ Error::UnsupportedManager { .. }) => e.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn kinds_with_setters_record_what_they_declared() {
    let service = s3();
    let bucket = &service.resources[0];
    let declared = bucket
        .status
        .iter()
        .find(|f| f.name == ir::DECLARED_SETTERS_FIELD)
        .expect("the generator adds the declared-setters status field");
    assert_eq!(declared.source, Source::DeclaredSetters);
    assert_eq!(declared.ty, ir::Type::List(Box::new(ir::Type::String)));
    let versioning = bucket
        .setters
        .iter()
        .find(|s| s.field == "versioning")
        .unwrap();
    assert_eq!(
        versioning.reset.as_deref(),
        Some(r#"{"status": "Suspended"}"#)
    );
}

#[test]
fn the_bucket_manager_reads_only_declared_setters_and_undoes_dropped_ones() {
    let service = s3();
    let code = manager::emit(&service, &service.resources[0]).unwrap();
    for expected in [
        "pub struct BucketManager",
        // The tag field's setter is the runtime's, not a setter the manager applies.
        "const SETTERS: &[&str] = &[",
        "TagApiStyle::FullReplacement",
        // An empty plan removes the tags instead of sending an empty set.
        ".delete_bucket_tagging()",
        // Dropped setters: a delete call where there is one, else a put of the reset value.
        ".delete_bucket_policy()",
        "\"{\\\"status\\\": \\\"Suspended\\\"}\"",
        "crate::hooks::bucket::before_create(&self.client, &mut input)?;",
        "arn:{}:s3:::{}",
    ] {
        assert!(code.contains(expected), "missing {expected:?}");
    }
    let setters = code
        .split("const SETTERS: &[&str] = &[")
        .nth(1)
        .and_then(|rest| rest.split("];").next())
        .unwrap();
    assert!(setters.contains("\"versioning\""));
    assert!(!setters.contains("\"tagging\""), "{setters}");
}

#[test]
fn empty_values_can_mean_absent_and_puts_can_have_defaults() {
    let service = s3();
    let code = manager::emit(&service, &service.resources[0]).unwrap();
    // `policy: ""` is no policy: not declared, so never put and undone if it was.
    assert!(
        code.contains("\"policy\" => configured(spec.policy.as_ref()).is_some(),"),
        "policy is not empty_means_absent"
    );
    assert!(code.contains("\"versioning\" => spec.versioning.is_some(),"));
    // Object lock is put with `ObjectLockEnabled` unless the spec sets it.
    assert!(code.contains("fn with_defaults<T>"));
    let lock = code
        .split("\"objectLockConfiguration\" => {")
        .find(|arm| arm.contains(".put_object_lock_configuration()"))
        .expect("the object lock put arm");
    assert!(lock.contains("with_defaults("), "{lock}");
    assert!(
        lock.contains(r#""{\"objectLockEnabled\": \"Enabled\"}""#),
        "{lock}"
    );

    let mut service = s3();
    let lock = service.resources[0]
        .setters
        .iter_mut()
        .find(|s| s.field == "objectLockConfiguration")
        .unwrap();
    lock.put_defaults = Some(r#"{"nope": 1}"#.into());
    assert!(refusal(&service).contains("has no field nope"));
}

#[test]
fn unsupported_shapes_are_refused_by_name() {
    let mut service = s3();
    service.resources[0].tags.as_mut().unwrap().api = TagApi::AddRemove;
    assert!(refusal(&service).contains("full-replacement"));

    let mut service = s3();
    service.resources[0]
        .status
        .retain(|f| f.name != ir::DECLARED_SETTERS_FIELD);
    assert!(refusal(&service).contains(ir::DECLARED_SETTERS_FIELD));

    let mut service = s3();
    service.resources[0].arn = ir::ArnSource::Template("arn:{partition}:s3:::{nope}".into());
    assert!(refusal(&service).contains("{nope}"));
}
