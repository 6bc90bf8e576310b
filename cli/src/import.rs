//! From a stack's resources to adoption CRs: ACK's `adopt` policy with the adoption fields each
//! kind needs, `retain` on deletion, and the stack's names as labels. Pure: the AWS reads happen
//! in `cloudformation` and in the key-schema lookup the caller passes in.

use std::collections::{BTreeMap, BTreeSet};

use ack_runtime::annotations::{ADOPTION_FIELDS, ADOPTION_POLICY, DELETION_POLICY};
use serde::Serialize;
use serde_json::{Value, json};

use crate::cloudformation::StackResource;
use crate::kinds::{self, Kind};

/// Labels naming where an imported CR came from.
pub const STACK_LABEL: &str = "cloudformation.ack-rs.dev/stack-name";
pub const LOGICAL_ID_LABEL: &str = "cloudformation.ack-rs.dev/logical-id";
/// The same, unshortened, for names longer than a label value may be.
pub const STACK_ANNOTATION: &str = "cloudformation.ack-rs.dev/stack";
pub const LOGICAL_ID_ANNOTATION: &str = "cloudformation.ack-rs.dev/logical-id";

/// What an import makes of a stack.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Import {
    pub adoptions: Vec<Adoption>,
    pub skipped: Vec<Skipped>,
}

/// One adoption CR.
#[derive(Clone, Debug, Serialize)]
pub struct Adoption {
    pub logical_id: String,
    pub stack_name: String,
    pub resource_type: String,
    pub physical_id: String,
    pub kind: String,
    pub name: String,
    pub manifest: Value,
}

/// A stack resource that gets no CR, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    pub logical_id: String,
    pub stack_name: String,
    pub resource_type: String,
    pub reason: String,
}

/// A DynamoDB table's key schema and attribute definitions, as the Table CRD spells them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeySchema {
    pub key_schema: Value,
    pub attribute_definitions: Value,
}

/// Builds the import. `key_schemas` holds, by physical ID, what kinds needing a key schema need.
pub fn plan(
    resources: &[StackResource],
    namespace: Option<&str>,
    key_schemas: &BTreeMap<String, KeySchema>,
) -> Import {
    let mut import = Import::default();
    let mut names = BTreeSet::new();
    for resource in resources {
        let skip = |reason: String| Skipped {
            logical_id: resource.logical_id.clone(),
            stack_name: resource.stack_name.clone(),
            resource_type: resource.resource_type.clone(),
            reason,
        };
        let Some(kind) = kinds::served(&resource.resource_type) else {
            import
                .skipped
                .push(skip(kinds::why_not_served(&resource.resource_type)));
            continue;
        };
        let Some(physical_id) = resource.physical_id.clone().filter(|_| resource.exists()) else {
            import.skipped.push(skip(format!(
                "it does not exist in AWS (stack status {})",
                resource.status
            )));
            continue;
        };
        let keys = key_schemas.get(&physical_id);
        if kind.needs_key_schema && keys.is_none() {
            import.skipped.push(skip(format!(
                "its key schema could not be read from {}",
                kind.service
            )));
            continue;
        }
        let name = unique_name(&mut names, kind, resource);
        let manifest = manifest(kind, resource, &physical_id, &name, namespace, keys);
        import.adoptions.push(Adoption {
            logical_id: resource.logical_id.clone(),
            stack_name: resource.stack_name.clone(),
            resource_type: resource.resource_type.clone(),
            physical_id,
            kind: kind.kind.to_string(),
            name,
            manifest,
        });
    }
    import
}

fn manifest(
    kind: &Kind,
    resource: &StackResource,
    physical_id: &str,
    name: &str,
    namespace: Option<&str>,
    keys: Option<&KeySchema>,
) -> Value {
    let adoption_fields = json!({ kind.adoption_field: physical_id });
    let (name_field, aws_name) = kind.identity.spec_name(physical_id);
    let mut spec = json!({ name_field: aws_name });
    if let Some(keys) = keys.filter(|_| kind.needs_key_schema) {
        spec["keySchema"] = keys.key_schema.clone();
        spec["attributeDefinitions"] = keys.attribute_definitions.clone();
    }
    let mut labels = serde_json::Map::new();
    for (key, value) in [
        (STACK_LABEL, &resource.stack_name),
        (LOGICAL_ID_LABEL, &resource.logical_id),
    ] {
        if let Some(value) = label_value(value) {
            labels.insert(key.into(), value.into());
        }
    }
    let mut metadata = json!({
        "name": name,
        "labels": labels,
        "annotations": {
            ADOPTION_POLICY: "adopt",
            ADOPTION_FIELDS: adoption_fields.to_string(),
            DELETION_POLICY: "retain",
            STACK_ANNOTATION: resource.stack_name,
            LOGICAL_ID_ANNOTATION: logical_path(resource),
        },
    });
    if let Some(namespace) = namespace {
        metadata["namespace"] = namespace.into();
    }
    json!({
        "apiVersion": format!("{}/v1alpha1", kind.group),
        "kind": kind.kind,
        "metadata": metadata,
        "spec": spec,
    })
}

/// `Outer.Inner.Queue` for a resource in nested stacks.
fn logical_path(resource: &StackResource) -> String {
    let mut parts = resource.nesting.clone();
    parts.push(resource.logical_id.clone());
    parts.join(".")
}

/// A label value Kubernetes accepts (≤ 63 of `[A-Za-z0-9_.-]`, alphanumeric at both ends), or
/// none: the annotations always carry the full value.
fn label_value(value: &str) -> Option<&str> {
    let ok = value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value.ends_with(|c: char| c.is_ascii_alphanumeric());
    ok.then_some(value)
}

/// The CR's name: the logical ID (with its nesting) in Kubernetes' lower-case dashed form, made
/// unique among this kind's names in the import.
fn unique_name(taken: &mut BTreeSet<(String, String)>, kind: &Kind, r: &StackResource) -> String {
    let mut parts: Vec<String> = r.nesting.iter().map(|p| dns_label(p)).collect();
    parts.push(dns_label(&r.logical_id));
    let base: String = parts.join("-").chars().take(240).collect();
    let base = base.trim_end_matches('-').to_string();
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert((kind.kind.to_string(), name.clone())) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

/// `MyQueue` → `my-queue`, `S3Bucket` → `s3-bucket`, `DLQ` → `dlq`.
fn dns_label(logical_id: &str) -> String {
    let chars: Vec<char> = logical_id.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            out.push('-');
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1);
        let boundary = c.is_ascii_uppercase()
            && prev.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
            });
        if boundary {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    let collapsed = out
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if collapsed.is_empty() {
        "resource".into()
    } else {
        collapsed
    }
}

/// The CRs as one multi-document YAML stream.
pub fn to_yaml(adoptions: &[Adoption]) -> String {
    let mut out = String::new();
    for adoption in adoptions {
        out.push_str("---\n");
        out.push_str(&crate::output::yaml(&adoption.manifest));
    }
    out
}

/// The file name of one CR under `-o DIR`.
pub fn file_name(adoption: &Adoption) -> String {
    format!("{}-{}.yaml", adoption.kind.to_lowercase(), adoption.name)
}

/// Values for `examples/app-chart` (one bucket, one queue, one table) in adopt mode.
pub fn app_chart_values(import: &Import) -> anyhow::Result<Value> {
    let one = |kind: &str| -> anyhow::Result<Option<&Adoption>> {
        let found: Vec<&Adoption> = import.adoptions.iter().filter(|a| a.kind == kind).collect();
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            many => anyhow::bail!(
                "examples/app-chart holds one {kind}; the stack has {}: {} — write CRs with -o DIR instead",
                many.len(),
                many.iter()
                    .map(|a| a.logical_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    };
    let mut values = json!({
        "adoptExistingResources": true,
        "deletionPolicy": "retain",
    });
    if let Some(bucket) = one("Bucket")? {
        values["bucket"] = json!({ "name": bucket.manifest["spec"]["name"] });
    }
    if let Some(queue) = one("Queue")? {
        values["queue"] = json!({
            "name": queue.manifest["spec"]["queueName"],
            "url": queue.physical_id,
        });
    }
    if let Some(table) = one("Table")? {
        values["table"] = app_chart_table(&table.manifest["spec"])?;
    }
    Ok(values)
}

/// The app chart's table values: name, partition key and optional sort key with their types.
fn app_chart_table(spec: &Value) -> anyhow::Result<Value> {
    let attribute_type = |name: &str| {
        spec["attributeDefinitions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["attributeName"] == name)
            .map(|d| d["attributeType"].clone())
            .unwrap_or(Value::Null)
    };
    let key = |key_type: &str| {
        spec["keySchema"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|k| k["keyType"] == key_type)
            .and_then(|k| k["attributeName"].as_str())
            .map(|name| json!({ "name": name, "type": attribute_type(name) }))
    };
    let partition = key("HASH").ok_or_else(|| {
        anyhow::anyhow!("table {} has no partition (HASH) key", spec["tableName"])
    })?;
    let mut table = json!({ "name": spec["tableName"], "partitionKey": partition });
    if let Some(sort) = key("RANGE") {
        table["sortKey"] = sort;
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(logical_id: &str, resource_type: &str, physical_id: &str) -> StackResource {
        StackResource {
            stack_name: "app".into(),
            nesting: vec![],
            logical_id: logical_id.into(),
            physical_id: Some(physical_id.into()),
            resource_type: resource_type.into(),
            status: "CREATE_COMPLETE".into(),
        }
    }

    fn keys() -> KeySchema {
        KeySchema {
            key_schema: json!([{"attributeName": "id", "keyType": "HASH"}]),
            attribute_definitions: json!([{"attributeName": "id", "attributeType": "S"}]),
        }
    }

    #[test]
    fn names_follow_kubernetes_rules() {
        assert_eq!(dns_label("MyQueue"), "my-queue");
        assert_eq!(dns_label("S3Bucket"), "s3-bucket");
        assert_eq!(dns_label("DLQ"), "dlq");
        assert_eq!(dns_label("AssetsBucketV2"), "assets-bucket-v2");
        assert_eq!(dns_label("HTTPQueue"), "http-queue");
        assert_eq!(dns_label("__"), "resource");
    }

    #[test]
    fn each_served_kind_gets_its_adoption_fields() {
        let resources = [
            resource("Assets", "AWS::S3::Bucket", "assets-1"),
            resource(
                "Jobs",
                "AWS::SQS::Queue",
                "https://sqs.us-east-1.amazonaws.com/123456789012/jobs-1",
            ),
            resource("Items", "AWS::DynamoDB::Table", "items-1"),
        ];
        let schemas = BTreeMap::from([("items-1".to_string(), keys())]);
        let import = plan(&resources, Some("team-a"), &schemas);
        assert!(import.skipped.is_empty(), "{:?}", import.skipped);
        let by_kind = |k: &str| import.adoptions.iter().find(|a| a.kind == k).unwrap();

        let bucket = &by_kind("Bucket").manifest;
        assert_eq!(bucket["apiVersion"], "s3.services.k8s.aws/v1alpha1");
        assert_eq!(bucket["metadata"]["name"], "assets");
        assert_eq!(bucket["metadata"]["namespace"], "team-a");
        let annotations = &bucket["metadata"]["annotations"];
        assert_eq!(annotations[ADOPTION_POLICY], "adopt");
        assert_eq!(annotations[DELETION_POLICY], "retain");
        assert_eq!(annotations[ADOPTION_FIELDS], r#"{"name":"assets-1"}"#);
        assert_eq!(bucket["metadata"]["labels"][STACK_LABEL], "app");
        assert_eq!(bucket["metadata"]["labels"][LOGICAL_ID_LABEL], "Assets");
        assert_eq!(bucket["spec"], json!({"name": "assets-1"}));

        let queue = &by_kind("Queue").manifest;
        assert_eq!(
            queue["metadata"]["annotations"][ADOPTION_FIELDS],
            r#"{"queueURL":"https://sqs.us-east-1.amazonaws.com/123456789012/jobs-1"}"#
        );
        assert_eq!(queue["spec"], json!({"queueName": "jobs-1"}));

        let table = &by_kind("Table").manifest;
        assert_eq!(
            table["metadata"]["annotations"][ADOPTION_FIELDS],
            r#"{"tableName":"items-1"}"#
        );
        assert_eq!(table["spec"]["keySchema"], keys().key_schema);
    }

    #[test]
    fn what_is_not_adopted_says_why() {
        let mut gone = resource("Old", "AWS::S3::Bucket", "old-1");
        gone.status = "DELETE_COMPLETE".into();
        let resources = [
            resource("Topic", "AWS::SNS::Topic", "arn:aws:sns:us-east-1:1:t"),
            resource("Policy", "AWS::SQS::QueuePolicy", "p"),
            gone,
            resource("Items", "AWS::DynamoDB::Table", "items-1"),
        ];
        let import = plan(&resources, None, &BTreeMap::new());
        assert!(import.adoptions.is_empty());
        let reasons: Vec<&str> = import.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert!(reasons[0].contains("sns.services.k8s.aws"), "{reasons:?}");
        assert!(reasons[1].contains("spec.policy"), "{reasons:?}");
        assert!(reasons[2].contains("DELETE_COMPLETE"), "{reasons:?}");
        assert!(reasons[3].contains("key schema"), "{reasons:?}");
    }

    #[test]
    fn nested_and_repeated_logical_ids_get_distinct_names() {
        let mut inner = resource("Jobs", "AWS::SQS::Queue", "https://q/1/jobs-inner");
        inner.nesting = vec!["Workers".into()];
        inner.stack_name = "app-Workers-ABC".into();
        let resources = [
            resource("Jobs", "AWS::SQS::Queue", "https://q/1/jobs-outer"),
            inner.clone(),
            inner,
        ];
        let import = plan(&resources, None, &BTreeMap::new());
        let names: Vec<&str> = import.adoptions.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["jobs", "workers-jobs", "workers-jobs-2"]);
        assert_eq!(
            import.adoptions[1].manifest["metadata"]["annotations"][LOGICAL_ID_ANNOTATION],
            "Workers.Jobs"
        );
        assert!(
            import.adoptions[0].manifest["metadata"]
                .get("namespace")
                .is_none()
        );
    }

    #[test]
    fn long_stack_names_stay_in_annotations_only() {
        let mut long = resource("Assets", "AWS::S3::Bucket", "b");
        long.stack_name = "s".repeat(100);
        let import = plan(&[long], None, &BTreeMap::new());
        let metadata = &import.adoptions[0].manifest["metadata"];
        assert!(metadata["labels"].get(STACK_LABEL).is_none());
        assert_eq!(metadata["annotations"][STACK_ANNOTATION], "s".repeat(100));
    }

    #[test]
    fn app_chart_values_need_one_of_each() {
        let schemas = BTreeMap::from([("items-1".to_string(), keys())]);
        let resources = [
            resource("Assets", "AWS::S3::Bucket", "assets-1"),
            resource("Jobs", "AWS::SQS::Queue", "https://q/1/jobs-1"),
            resource("Items", "AWS::DynamoDB::Table", "items-1"),
        ];
        let values = app_chart_values(&plan(&resources, None, &schemas)).unwrap();
        assert_eq!(values["adoptExistingResources"], true);
        assert_eq!(values["bucket"]["name"], "assets-1");
        assert_eq!(values["queue"]["url"], "https://q/1/jobs-1");
        assert_eq!(
            values["table"],
            json!({"name": "items-1", "partitionKey": {"name": "id", "type": "S"}})
        );
        let two = [
            resource("A", "AWS::S3::Bucket", "a"),
            resource("B", "AWS::S3::Bucket", "b"),
        ];
        let err = app_chart_values(&plan(&two, None, &schemas)).unwrap_err();
        assert!(err.to_string().contains("A, B"), "{err}");
    }
}
