//! ACK's types shared by every resource: `status.ackResourceMetadata`, `status.conditions` and
//! the reference wrapper. Defined once here so the CRD and the Rust types agree on them; names
//! and descriptions are ACK's, so `kubectl explain` reads the same.

use crate::ir::{Field, Source, Struct, Type};

pub const RESOURCE_METADATA: &str = "AckResourceMetadata";
pub const CONDITION: &str = "AckCondition";
pub const REFERENCE_WRAPPER: &str = "AwsResourceReferenceWrapper";
pub const REFERENCE: &str = "AwsResourceReference";

pub fn structs() -> Vec<Struct> {
    vec![
        shared(
            CONDITION,
            "Condition is the common struct used by all CRDs managed by ACK service controllers \
             to indicate terminal states of the CR and its backend AWS service API resource",
            vec![
                field(
                    "lastTransitionTime",
                    "last_transition_time",
                    Type::Timestamp,
                    false,
                    "Last time the condition transitioned from one status to another.",
                ),
                field(
                    "message",
                    "message",
                    Type::String,
                    false,
                    "A human readable message indicating details about the transition.",
                ),
                field(
                    "reason",
                    "reason",
                    Type::String,
                    false,
                    "The reason for the condition's last transition.",
                ),
                field(
                    "status",
                    "status",
                    Type::String,
                    true,
                    "Status of the condition, one of True, False, Unknown.",
                ),
                field(
                    "type",
                    "type_",
                    Type::String,
                    true,
                    "Type is the type of the Condition",
                ),
            ],
        ),
        shared(
            RESOURCE_METADATA,
            "All CRs managed by ACK have a common `Status.ACKResourceMetadata` member that is \
             used to contain resource sync state, account ownership, constructed ARN for the \
             resource",
            vec![
                field(
                    "arn",
                    "arn",
                    Type::String,
                    false,
                    "ARN is the Amazon Resource Name for the resource. This is a globally-unique \
                     identifier and is set only by the ACK service controller once the \
                     controller has orchestrated the creation of the resource OR when it has \
                     verified that an \"adopted\" resource exists and matches the supplied CR's \
                     Spec field values.",
                ),
                field(
                    "ownerAccountID",
                    "owner_account_id",
                    Type::String,
                    true,
                    "OwnerAccountID is the AWS Account ID of the account that owns the backend \
                     AWS service API resource.",
                ),
                field(
                    "partition",
                    "partition",
                    Type::String,
                    false,
                    "Partition is the AWS partition in which the resource exists or will exist",
                ),
                field(
                    "region",
                    "region",
                    Type::String,
                    true,
                    "Region is the AWS region in which the resource exists or will exist.",
                ),
            ],
        ),
        shared(
            REFERENCE,
            "AWSResourceReference provides all the values necessary to reference another k8s \
             resource for finding the identifier(Id/ARN/Name)",
            vec![
                field("name", "name", Type::String, false, ""),
                field("namespace", "namespace", Type::String, false, ""),
            ],
        ),
        shared(
            REFERENCE_WRAPPER,
            "AWSResourceReferenceWrapper provides a wrapper around *AWSResourceReference type to \
             provide more user friendly syntax for references using 'from' field",
            vec![field(
                "from",
                "from",
                Type::Struct(REFERENCE.into()),
                false,
                "AWSResourceReference provides all the values necessary to reference another \
                 k8s resource for finding the identifier(Id/ARN/Name)",
            )],
        ),
    ]
}

/// `status.ackResourceMetadata` and `status.conditions`, which every resource's status has.
pub fn status_fields() -> Vec<Field> {
    vec![
        field(
            "ackResourceMetadata",
            "ack_resource_metadata",
            Type::Struct(RESOURCE_METADATA.into()),
            false,
            "All CRs managed by ACK have a common `Status.ACKResourceMetadata` member that is \
             used to contain resource sync state, account ownership, constructed ARN for the \
             resource",
        ),
        field(
            "conditions",
            "conditions",
            Type::List(Box::new(Type::Struct(CONDITION.into()))),
            false,
            "All CRs managed by ACK have a common `Status.Conditions` member that contains a \
             collection of `ackv1alpha1.Condition` objects that describe the various terminal \
             states of the CR and its backend AWS service API resource",
        ),
    ]
}

fn shared(rust_name: &str, doc: &str, fields: Vec<Field>) -> Struct {
    Struct {
        rust_name: rust_name.into(),
        shape: None,
        sdk_type: None,
        doc: doc.into(),
        fields,
    }
}

fn field(name: &str, rust_name: &str, ty: Type, required: bool, doc: &str) -> Field {
    Field {
        name: name.into(),
        rust_name: rust_name.into(),
        doc: doc.into(),
        ty,
        required,
        immutable: false,
        source: Source::Runtime,
    }
}
