//! The generated Table manager's pure parts (no AWS call): delta, immutable fields, tags, ARN,
//! late initialisation and adoption fields.

use ack_dynamodb::table::{KeySchemaElement, Tag};
use ack_dynamodb::{Table, TableManager, TableSpec, TableStatus};
use ack_runtime::{AdoptionFields, ResourceManager};

fn manager() -> TableManager {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-west-2"))
        .build();
    TableManager::new(aws_sdk_dynamodb::Client::from_conf(config))
}

fn key(name: &str) -> Vec<KeySchemaElement> {
    vec![KeySchemaElement {
        attribute_name: Some(name.into()),
        key_type: Some("HASH".into()),
    }]
}

fn table(spec: TableSpec) -> Table {
    Table::new("t", spec)
}

#[test]
fn delta_compares_set_fields_and_leaves_tags_to_the_runtime() {
    let m = manager();
    let desired = table(TableSpec {
        table_name: "orders".into(),
        key_schema: key("id"),
        billing_mode: Some("PROVISIONED".into()),
        tags: Some(vec![Tag {
            key: Some("a".into()),
            value: Some("1".into()),
        }]),
        ..Default::default()
    });
    let latest = table(TableSpec {
        table_name: "orders".into(),
        key_schema: key("id"),
        billing_mode: Some("PAY_PER_REQUEST".into()),
        table_class: Some("STANDARD".into()),
        ..Default::default()
    });
    // tableClass is unset (AWS's to choose); tags are compared by the runtime.
    assert_eq!(m.delta(&desired, &latest).paths, ["spec.billingMode"]);
    let rekeyed = table(TableSpec {
        key_schema: key("other"),
        ..latest.spec.clone()
    });
    assert_eq!(m.delta(&rekeyed, &latest).paths, ["spec.keySchema"]);
    assert_eq!(
        m.immutable_fields(),
        [
            "spec.keySchema",
            "spec.localSecondaryIndexes",
            "spec.tableName"
        ]
    );
}

#[test]
fn tags_are_a_key_value_list() {
    let m = manager();
    let mut t = table(TableSpec::default());
    assert_eq!(m.spec_tags(&t), None);
    m.set_spec_tags(&mut t, [("team".to_string(), "a".to_string())].into());
    assert_eq!(
        t.spec.tags,
        Some(vec![Tag {
            key: Some("team".into()),
            value: Some("a".into()),
        }])
    );
    assert_eq!(
        m.spec_tags(&t),
        Some([("team".to_string(), "a".to_string())].into())
    );
}

#[test]
fn arn_late_initialisation_and_adoption_fields() {
    let m = manager();
    let mut latest = table(TableSpec {
        billing_mode: Some("PAY_PER_REQUEST".into()),
        table_class: Some("STANDARD".into()),
        ..Default::default()
    });
    assert_eq!(m.arn(&latest), None);
    latest.status = Some(TableStatus {
        ack_resource_metadata: Some(ack_dynamodb::common::AckResourceMetadata {
            arn: Some("arn:aws:dynamodb:us-west-2:1:table/t".into()),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(
        m.arn(&latest).as_deref(),
        Some("arn:aws:dynamodb:us-west-2:1:table/t")
    );

    let mut desired = table(TableSpec {
        billing_mode: Some("PROVISIONED".into()),
        ..Default::default()
    });
    assert!(m.late_initialize(&mut desired, &latest));
    assert_eq!(desired.spec.billing_mode.as_deref(), Some("PROVISIONED"));
    assert_eq!(desired.spec.table_class.as_deref(), Some("STANDARD"));
    assert!(!m.late_initialize(&mut desired, &latest));

    let fields = AdoptionFields::from_annotations(
        Some(
            &[(
                "services.k8s.aws/adoption-fields".to_string(),
                r#"{"tableName": "orders"}"#.to_string(),
            )]
            .into(),
        ),
        m.adoption_keys(),
    )
    .unwrap()
    .unwrap();
    let mut adopted = table(TableSpec::default());
    m.apply_adoption_fields(&mut adopted, &fields).unwrap();
    assert_eq!(adopted.spec.table_name, "orders");
}
