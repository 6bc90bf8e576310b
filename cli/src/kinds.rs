//! Which CloudFormation resource types an ack-rs controller serves, and how each is adopted.
//!
//! One row per type: the kind, and how a stack's physical ID becomes ACK's adoption fields and
//! the minimal spec the kind's CRD requires. The adoption field names are those of each service's
//! `generator.toml` (`adoption_fields`); a test keeps the two in step.

/// A kind an ack-rs controller serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    pub cloudformation_type: &'static str,
    /// The controller's service alias (`services/<alias>/`).
    pub service: &'static str,
    pub group: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    /// The single adoption field: its name, and the spec field carrying the same identity.
    pub adoption_field: &'static str,
    pub identity: Identity,
    /// The CRD also requires the key schema, which only the service can tell (DescribeTable).
    pub needs_key_schema: bool,
}

/// How the stack's physical ID names the resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identity {
    /// The physical ID is the name, and the spec field `name_field` holds it.
    Name { name_field: &'static str },
    /// The physical ID is an SQS queue URL; the spec's `name_field` holds its last path segment.
    QueueUrl { name_field: &'static str },
}

pub const SERVED: &[Kind] = &[
    Kind {
        cloudformation_type: "AWS::S3::Bucket",
        service: "s3",
        group: "s3.services.k8s.aws",
        kind: "Bucket",
        plural: "buckets",
        adoption_field: "name",
        identity: Identity::Name { name_field: "name" },
        needs_key_schema: false,
    },
    Kind {
        cloudformation_type: "AWS::SQS::Queue",
        service: "sqs",
        group: "sqs.services.k8s.aws",
        kind: "Queue",
        plural: "queues",
        adoption_field: "queueURL",
        identity: Identity::QueueUrl {
            name_field: "queueName",
        },
        needs_key_schema: false,
    },
    Kind {
        cloudformation_type: "AWS::DynamoDB::Table",
        service: "dynamodb",
        group: "dynamodb.services.k8s.aws",
        kind: "Table",
        plural: "tables",
        adoption_field: "tableName",
        identity: Identity::Name {
            name_field: "tableName",
        },
        needs_key_schema: true,
    },
];

/// Types that are part of a served kind's spec rather than resources of their own.
const FOLDED: &[(&str, &str)] = &[
    (
        "AWS::S3::BucketPolicy",
        "its policy is the Bucket's spec.policy, adopted with the bucket",
    ),
    (
        "AWS::SQS::QueuePolicy",
        "its policy is the Queue's spec.policy, adopted with each queue it names",
    ),
    (
        "AWS::CloudFormation::Stack",
        "a nested stack: its resources are imported in its place",
    ),
];

/// Types ACK serves with controllers ack-rs does not have yet: (type prefix, ACK's group).
const NOT_YET: &[(&str, &str)] = &[
    ("AWS::SNS::", "sns.services.k8s.aws"),
    ("AWS::KMS::", "kms.services.k8s.aws"),
    ("AWS::IAM::", "iam.services.k8s.aws"),
];

/// The served kind of a CloudFormation type.
pub fn served(cloudformation_type: &str) -> Option<&'static Kind> {
    SERVED
        .iter()
        .find(|k| k.cloudformation_type == cloudformation_type)
}

/// Why a type is not imported as a CR of its own.
pub fn why_not_served(cloudformation_type: &str) -> String {
    if let Some((_, why)) = FOLDED.iter().find(|(t, _)| *t == cloudformation_type) {
        return (*why).to_string();
    }
    if let Some((_, group)) = NOT_YET
        .iter()
        .find(|(prefix, _)| cloudformation_type.starts_with(prefix))
    {
        return format!("ACK serves it in {group}; ack-rs has no controller for that service yet");
    }
    "no ack-rs controller serves this type".to_string()
}

impl Identity {
    /// The spec field and its value for a physical ID.
    pub fn spec_name(self, physical_id: &str) -> (&'static str, String) {
        match self {
            Identity::Name { name_field } => (name_field, physical_id.to_string()),
            Identity::QueueUrl { name_field } => (
                name_field,
                physical_id
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or(physical_id)
                    .to_string(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_come_from_urls() {
        let (field, name) = served("AWS::SQS::Queue")
            .unwrap()
            .identity
            .spec_name("https://sqs.us-east-1.amazonaws.com/123456789012/jobs");
        assert_eq!((field, name.as_str()), ("queueName", "jobs"));
    }

    #[test]
    fn unserved_types_say_why() {
        assert!(served("AWS::SNS::Topic").is_none());
        assert!(why_not_served("AWS::SNS::Topic").contains("sns.services.k8s.aws"));
        assert!(why_not_served("AWS::SQS::QueuePolicy").contains("spec.policy"));
        assert!(why_not_served("AWS::EC2::VPC").contains("no ack-rs controller"));
    }

    /// The adoption field of each kind is the one its generator config declares.
    #[test]
    fn adoption_fields_match_the_generator_configs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for kind in SERVED {
            let path = root.join(format!("services/{}/generator.toml", kind.service));
            let config: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
            let fields = &config["resources"][kind.kind]["adoption_fields"];
            assert_eq!(
                fields.as_array().unwrap(),
                &vec![toml::Value::from(kind.adoption_field)],
                "{path:?}"
            );
        }
    }
}
