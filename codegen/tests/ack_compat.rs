//! Drop-in compatibility with ACK's published CRDs (`<repo>/../shared/ack-compat/crds`):
//! every field path ACK's Bucket, Queue and Table accept exists in ours with the same type,
//! format, required properties and immutability, except the differences declared below; and
//! the naming rules reproduce every field name in those CRDs.
//!
//! Run with `--nocapture` to see the coverage figures.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use ack_codegen::schema::{self, Node};
use ack_codegen::{Layout, naming};

/// Deliberate differences from ACK, by field path, each with its reason. The test fails if one
/// no longer occurs, so the list stays true.
const DECLARED_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "topics",
        "spec.dataProtectionPolicy",
        "immutable in ours: only CreateTopic takes it here, and ACK silently ignores a change",
    ),
    (
        "subscriptions",
        "spec.protocol",
        "immutable in ours: SNS cannot change a subscription's protocol, and ACK silently \
         ignores a change",
    ),
    (
        "subscriptions",
        "spec.topicARN",
        "immutable in ours: SNS cannot move a subscription to another topic, and ACK silently \
         ignores a change",
    ),
    (
        "tables",
        "spec.tableName",
        "immutable in ours: DynamoDB cannot rename a table, and ACK would instead look for (and \
     create) a table under the new name",
    ),
];

/// ACK's CRD files and ours, by plural.
const KINDS: &[(&str, &str)] = &[
    ("buckets", "s3.services.k8s.aws_buckets.yaml"),
    ("queues", "sqs.services.k8s.aws_queues.yaml"),
    ("tables", "dynamodb.services.k8s.aws_tables.yaml"),
    ("topics", "sns.services.k8s.aws_topics.yaml"),
    ("subscriptions", "sns.services.k8s.aws_subscriptions.yaml"),
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("codegen is inside the repository")
        .to_path_buf()
}

fn ack_compat_dir() -> PathBuf {
    let dir = repo_root().join("../shared/ack-compat");
    assert!(
        dir.is_dir(),
        "ACK's reference data is expected at {} (a sibling of the repository)",
        dir.display()
    );
    dir
}

fn schema_nodes(path: &Path) -> BTreeMap<String, Node> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let crd = schema::parse_crd(&text).expect("CRD parses");
    let root = schema::openapi_schema(&crd).expect("CRD has a schema");
    let mut nodes = BTreeMap::new();
    for part in ["spec", "status"] {
        if let Some(s) = root.pointer(&format!("/properties/{part}")) {
            nodes.extend(schema::flatten(s, part));
        }
    }
    nodes
}

#[test]
fn every_ack_field_path_exists_in_ours_with_the_same_type() {
    let ack_dir = ack_compat_dir().join("crds");
    let mut undeclared = Vec::new();
    let mut declared_seen = BTreeSet::new();
    for (plural, file) in KINDS {
        let ack = schema_nodes(&ack_dir.join(file));
        let ours = schema_nodes(&repo_root().join("crds").join(file));
        for part in ["spec", "status"] {
            let in_part = |p: &&String| p.split(['.', '[', '{']).next() == Some(part);
            let ack_paths: Vec<&String> = ack.keys().filter(in_part).collect();
            let (mut matching, mut declared_here, mut undeclared_here) = (0, 0, 0);
            for path in &ack_paths {
                let declared = DECLARED_DIFFERENCES
                    .iter()
                    .find(|(p, field, _)| p == plural && field == path);
                let same = ours.get(*path) == Some(&ack[*path]);
                match (same, declared) {
                    (true, _) => matching += 1,
                    (false, Some(d)) => {
                        declared_here += 1;
                        declared_seen.insert(d.1);
                    }
                    (false, None) => {
                        undeclared_here += 1;
                        undeclared.push(format!(
                            "{plural} {path}: ACK {:?}, ours {:?}",
                            ack[*path],
                            ours.get(*path)
                        ));
                    }
                }
            }
            let extra = ours
                .keys()
                .filter(in_part)
                .filter(|p| !ack.contains_key(*p))
                .count();
            println!(
                "{plural} {part}: {matching} of {} ACK field paths identical ({:.1}%), \
                 {declared_here} declared and {undeclared_here} undeclared difference(s); \
                 {extra} more paths in ours",
                ack_paths.len(),
                100.0 * matching as f64 / ack_paths.len().max(1) as f64,
            );
        }
    }
    let stale: Vec<_> = DECLARED_DIFFERENCES
        .iter()
        .filter(|(_, path, _)| !declared_seen.contains(path))
        .collect();
    assert!(
        undeclared.is_empty(),
        "differences from ACK not declared in DECLARED_DIFFERENCES:\n{}",
        undeclared.join("\n")
    );
    assert!(
        stale.is_empty(),
        "declared differences that no longer occur: {stale:?}"
    );
}

/// Every property name in ACK's CRDs: from a botocore name by [`naming::field_name`], a
/// reference field by [`naming::reference_field_name`], one of ACK's shared names, or a
/// rename in a generator config.
#[test]
fn naming_rules_reproduce_every_ack_field_name() {
    let layout = Layout::new(repo_root());
    let mut sources: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut add = |name: &str| {
        sources
            .entry(normalise(name))
            .or_default()
            .insert(name.to_string());
    };
    let mut renames = BTreeSet::new();
    let mut shared = BTreeSet::new();
    for (crate_dir, config) in ack_codegen::service_configs(&layout).expect("configs") {
        let model_text = fs::read_to_string(layout.model_file(&config.service.model)).unwrap();
        let model = ack_codegen::model::Model::parse(&config.service.model, &model_text).unwrap();
        for shape in model.shapes.values() {
            shape.members.keys().for_each(|m| add(m));
            shape.values.iter().for_each(|v| add(v));
        }
        for resource in config.resources.values() {
            resource.setters.iter().for_each(|s| add(&s.field));
            resource.custom_fields.iter().for_each(|c| add(&c.field));
            resource.status_fields.iter().for_each(|s| add(&s.field));
            if let Some(attributes) = &resource.attributes {
                attributes
                    .spec
                    .iter()
                    .chain(&attributes.status)
                    .for_each(|a| add(a));
            }
        }
        renames.extend(config.renames.values().cloned());
        let service = ack_codegen::lower::lower(&crate_dir, &model, &config).unwrap();
        for s in &service.common {
            shared.extend(s.fields.iter().map(|f| f.name.clone()));
        }
        for resource in &service.resources {
            shared.extend(
                resource
                    .status
                    .iter()
                    .filter(|f| matches!(f.source, ack_codegen::ir::Source::Runtime))
                    .map(|f| f.name.clone()),
            );
        }
    }

    let mut ack_names = BTreeSet::new();
    for (_, file) in KINDS {
        let nodes = schema_nodes(&ack_compat_dir().join("crds").join(file));
        for path in nodes.keys() {
            if let Some(last) = path.rsplit('.').next().filter(|_| path.contains('.')) {
                ack_names.insert(
                    last.trim_end_matches("[]")
                        .trim_end_matches("{}")
                        .to_string(),
                );
            }
        }
    }

    let (mut by_rule, mut references, mut by_shared, mut by_rename) = (0, 0, 0, 0);
    let mut unexplained = Vec::new();
    for name in &ack_names {
        let from_rule = sources
            .get(&normalise(name))
            .into_iter()
            .flatten()
            .any(|source| naming::field_name(source) == *name);
        if from_rule {
            by_rule += 1;
        } else if ack_names
            .iter()
            .any(|target| target != name && naming::reference_field_name(target) == *name)
        {
            references += 1;
        } else if shared.contains(name) {
            by_shared += 1;
        } else if renames.contains(name) {
            by_rename += 1;
        } else {
            unexplained.push(format!(
                "{name} (candidates: {:?})",
                sources.get(&normalise(name))
            ));
        }
    }
    println!(
        "{} distinct ACK field names: {by_rule} by the naming rules, {references} reference \
         fields, {by_shared} ACK shared names, {by_rename} config renames",
        ack_names.len()
    );
    assert!(
        unexplained.is_empty(),
        "ACK field names the naming rules do not produce:\n{}",
        unexplained.join("\n")
    );
}

/// Lower case without underscores: how a botocore name and its ACK name are paired up.
fn normalise(name: &str) -> String {
    name.replace('_', "").to_lowercase()
}

/// ACK's shared kinds the runtime serves (hand-written CRDs in `crds/`): every field path of
/// ACK's CRD exists in ours with the same type, format, required properties and immutability,
/// and ours has no field ACK's lacks.
const SHARED_KINDS: &[&str] = &[
    "services.k8s.aws_fieldexports.yaml",
    "services.k8s.aws_iamroleselectors.yaml",
];

#[test]
fn shared_kinds_have_acks_schema() {
    for file in SHARED_KINDS {
        let ack = schema_nodes(&ack_compat_dir().join("crds").join(file));
        let ours = schema_nodes(&repo_root().join("crds").join(file));
        assert!(!ack.is_empty(), "{file}: ACK's CRD has fields");
        assert_eq!(ours, ack, "{file}: ours differs from ACK's");
    }
}
