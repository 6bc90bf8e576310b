//! The generated conversions between Table's CR structures and `aws_sdk_dynamodb`'s types: CR →
//! SDK → CR gives back the original, and a missing required member is a terminal error that
//! names the field.

use ack_dynamodb::generated::common::DateTime;
use ack_dynamodb::generated::table::*;
use ack_dynamodb::generated::table_convert::*;

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn key(name: &str, key_type: &str) -> KeySchemaElement {
    KeySchemaElement {
        attribute_name: s(name),
        key_type: s(key_type),
    }
}

#[test]
fn key_schema_and_attribute_definitions_round_trip() {
    let k = key("pk", "HASH");
    let sdk = to_sdk_key_schema_element(&k, "spec.keySchema[0]").unwrap();
    assert_eq!(sdk.attribute_name(), "pk");
    assert_eq!(sdk.key_type(), &aws_sdk_dynamodb::types::KeyType::Hash);
    assert_eq!(from_sdk_key_schema_element(&sdk), k);

    let a = AttributeDefinition {
        attribute_name: s("pk"),
        attribute_type: s("S"),
    };
    let sdk = to_sdk_attribute_definition(&a, "spec.attributeDefinitions[0]").unwrap();
    assert_eq!(
        sdk.attribute_type(),
        &aws_sdk_dynamodb::types::ScalarAttributeType::S
    );
    assert_eq!(from_sdk_attribute_definition(&sdk), a);
}

#[test]
fn global_secondary_index_round_trips() {
    let gsi = GlobalSecondaryIndex {
        index_name: s("by-sk"),
        key_schema: Some(vec![key("sk", "HASH"), key("pk", "RANGE")]),
        projection: Some(Projection {
            projection_type: s("INCLUDE"),
            non_key_attributes: Some(vec!["a".into(), "b".into()]),
        }),
        provisioned_throughput: Some(ProvisionedThroughput {
            read_capacity_units: Some(5),
            write_capacity_units: Some(10),
        }),
        on_demand_throughput: None,
    };
    let sdk = to_sdk_global_secondary_index(&gsi, "spec.globalSecondaryIndexes[0]").unwrap();
    assert_eq!(sdk.key_schema().len(), 2);
    assert_eq!(
        sdk.provisioned_throughput()
            .map(|p| p.write_capacity_units()),
        Some(10)
    );
    assert_eq!(from_sdk_global_secondary_index(&sdk), gsi);
}

#[test]
fn specifications_and_tags_round_trip() {
    let stream = StreamSpecification {
        stream_enabled: Some(true),
        stream_view_type: s("NEW_AND_OLD_IMAGES"),
    };
    let sdk = to_sdk_stream_specification(&stream, "spec.streamSpecification").unwrap();
    assert_eq!(from_sdk_stream_specification(&sdk), stream);

    let sse = SseSpecification {
        enabled: Some(true),
        sse_type: s("KMS"),
        kms_master_key_id: s("alias/aws/dynamodb"),
        kms_master_key_ref: None,
    };
    let sdk = to_sdk_sse_specification(&sse, "spec.sseSpecification").unwrap();
    assert_eq!(sdk.sse_type(), Some(&aws_sdk_dynamodb::types::SseType::Kms));
    assert_eq!(from_sdk_sse_specification(&sdk), sse);

    let ttl = TimeToLiveSpecification {
        attribute_name: s("expires"),
        enabled: Some(true),
    };
    let sdk = to_sdk_time_to_live_specification(&ttl, "spec.timeToLive").unwrap();
    assert_eq!(from_sdk_time_to_live_specification(&sdk), ttl);

    let tag = Tag {
        key: s("team"),
        value: s("a"),
    };
    let sdk = to_sdk_tag(&tag, "spec.tags[0]").unwrap();
    assert_eq!(from_sdk_tag(&sdk), tag);
}

#[test]
fn status_structures_with_timestamps_round_trip() {
    let d = ProvisionedThroughputDescription {
        last_increase_date_time: Some(DateTime("2025-06-01T12:30:00Z".into())),
        number_of_decreases_today: Some(2),
        read_capacity_units: Some(1),
        write_capacity_units: Some(1),
        ..Default::default()
    };
    let sdk =
        to_sdk_provisioned_throughput_description(&d, "status.provisionedThroughput").unwrap();
    assert_eq!(
        sdk.last_increase_date_time().map(|t| t.secs()),
        Some(1_748_781_000)
    );
    assert_eq!(from_sdk_provisioned_throughput_description(&sdk), d);
}

#[test]
fn missing_required_member_is_terminal_and_names_the_path() {
    let gsi = GlobalSecondaryIndex {
        index_name: s("by-sk"),
        key_schema: Some(vec![
            key("sk", "HASH"),
            KeySchemaElement {
                attribute_name: s("pk"),
                key_type: None,
            },
        ]),
        projection: Some(Projection {
            projection_type: s("ALL"),
            ..Default::default()
        }),
        ..Default::default()
    };
    let err = to_sdk_global_secondary_index(&gsi, "spec.globalSecondaryIndexes[0]").unwrap_err();
    assert!(err.is_terminal());
    assert_eq!(
        err.to_string(),
        "InvalidSpec: spec.globalSecondaryIndexes[0].keySchema[1].keyType: required"
    );

    let pt = ProvisionedThroughput {
        read_capacity_units: Some(1),
        write_capacity_units: None,
    };
    let err = to_sdk_provisioned_throughput(&pt, "spec.provisionedThroughput").unwrap_err();
    assert_eq!(
        err.to_string(),
        "InvalidSpec: spec.provisionedThroughput.writeCapacityUnits: required"
    );
}
