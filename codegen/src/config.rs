//! The per-service generator config, `services/<svc>/generator.toml`.
//!
//! Two kinds of names appear in it:
//! - operations, shapes and members are botocore's, as spelled in the model
//!   (`CreateQueue`, `CreateBucketRequest.Bucket`);
//! - fields of the custom resource are named as in the CRD (`queueURL`, `tagging.tagSet`),
//!   except where a config entry *introduces* a field (`setters`, `custom_fields`, attribute
//!   names): those take a botocore-style name and the naming rules make the CRD name from it.
//!
//! Every table rejects unknown keys, so a typo fails generation instead of being ignored.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Error;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    pub service: Service,
    pub sdk: Sdk,
    /// `"Shape.Member" = "crdName"`: a CRD field name other than the naming rules give.
    #[serde(default)]
    pub renames: BTreeMap<String, String>,
    /// `"Shape.Member"`: members left out of the CRD wherever the shape appears.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// `"Shape" = "RustName"` where the derived Rust type name would clash.
    #[serde(default)]
    pub rust_type_names: BTreeMap<String, String>,
    /// Keyed by kind (`Bucket`).
    pub resources: BTreeMap<String, Resource>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The model directory under `codegen/models/` (botocore's service name).
    pub model: String,
    /// The model's API version: botocore keeps it at `botocore/data/<model>/<api_version>/`.
    pub api_version: String,
    /// ACK's service alias: the API group is `<alias>.services.k8s.aws`.
    pub alias: String,
    #[serde(default = "default_version")]
    pub version: String,
}

fn default_version() -> String {
    "v1alpha1".into()
}

/// Where botocore and the AWS SDK for Rust disagree.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sdk {
    /// The SDK crate, e.g. `aws_sdk_s3`.
    #[serde(rename = "crate")]
    pub crate_name: String,
    /// Model error code → further codes the SDK reports for it (e.g. S3's `HeadBucket` answers a
    /// missing bucket with a bare 404 that the SDK calls `NotFound`, not `NoSuchBucket`).
    #[serde(default)]
    pub error_aliases: BTreeMap<String, Vec<String>>,
    /// `"Shape.Member" = "sdk_name"` where the SDK's field name is not the snake_case one.
    #[serde(default)]
    pub member_names: BTreeMap<String, String>,
    /// `"Shape" = "SdkType"` where the SDK's type name is not the UpperCamelCase one.
    #[serde(default)]
    pub type_names: BTreeMap<String, String>,
    /// Structures the SDK models as unions (a Rust enum with one variant per member) although
    /// botocore does not mark them `union` (S3's `AnalyticsFilter`).
    #[serde(default)]
    pub unions: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// Defaults to the lower-cased kind plus `s`.
    pub plural: Option<String>,
    #[serde(default)]
    pub short_names: Vec<String>,
    /// Its input's members are the spec; its output's members (unwrapped) join the status.
    pub create: OperationRef,
    /// Its output's members (unwrapped) join the status.
    pub read_one: OperationRef,
    /// Absent when every mutable field has its own setter.
    pub update: Option<OperationRef>,
    pub delete: OperationRef,
    /// The CRD field (spec or status) that names the resource in AWS calls.
    pub identifier: String,
    /// Keys of the `services.k8s.aws/adoption-fields` annotation (ACK's names).
    pub adoption_fields: Vec<String>,
    pub arn: Arn,
    pub attributes: Option<Attributes>,
    /// Listed in the order AWS needs them written: a create and an update put them in this
    /// order, and an update first undoes the ones the spec dropped in the reverse order (so a
    /// setter that needs an earlier one, like S3 replication needing versioning, is undone
    /// before the one it needs is changed).
    #[serde(default)]
    pub setters: Vec<Setter>,
    #[serde(default)]
    pub custom_fields: Vec<CustomField>,
    #[serde(default)]
    pub status_fields: Vec<StatusField>,
    #[serde(default)]
    pub references: Vec<Reference>,
    /// Top-level spec fields required beyond what the create input requires.
    #[serde(default)]
    pub required: Vec<String>,
    /// Top-level spec fields that cannot change once set.
    #[serde(default)]
    pub immutable: Vec<String>,
    pub tags: Option<Tags>,
    pub errors: Errors,
    #[serde(default)]
    pub print_columns: Vec<PrintColumn>,
    /// Where hand-written code in the service crate takes part in reconciling.
    #[serde(default)]
    pub hooks: Vec<HookPoint>,
    /// The operation that finds the identifier from spec fields while the status does not hold
    /// it yet (SQS's `GetQueueUrl`): its required inputs are create-input members, its output
    /// holds the identifier's member.
    pub lookup: Option<String>,
    /// The identifier (a status field) is only ever known from the create call's output, and no
    /// operation finds it from spec fields: a CR without it counts as not existing in AWS and is
    /// created. Only for create calls that answer an existing resource instead of failing (SNS's
    /// `CreateTopic` and `Subscribe`), as ACK's controllers for them also do.
    #[serde(default)]
    pub identifier_from_create: bool,
    /// Emit a resource manager (`<kind>_manager.rs`) for this kind.
    #[serde(default)]
    pub manager: bool,
}

/// An operation, optionally with the output member that wraps the resource
/// (`DescribeTable` → `Table`). Written as a string or a table.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OperationRef {
    Name(String),
    Full(Operation),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    pub operation: String,
    pub output_wrapper: Option<String>,
}

impl OperationRef {
    pub fn name(&self) -> &str {
        match self {
            Self::Name(name) => name,
            Self::Full(op) => &op.operation,
        }
    }

    pub fn output_wrapper(&self) -> Option<&str> {
        match self {
            Self::Name(_) => None,
            Self::Full(op) => op.output_wrapper.as_deref(),
        }
    }
}

/// Where the resource's ARN comes from.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Arn {
    /// A member of the create / read-one output (it is then not a status field).
    Member(String),
    /// A key of the attribute map.
    Attribute(String),
    /// Built from fields: `arn:{partition}:s3:::{name}`.
    Template(String),
}

/// A string-to-string attribute map (SQS's `Attributes`) that ACK flattens into top-level string
/// fields, one per attribute.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attributes {
    /// The map member in the create, read-one and update shapes.
    pub member: String,
    /// Attributes the user sets (botocore names, e.g. `KmsMasterKeyId`).
    pub spec: Vec<String>,
    /// Attributes AWS reports.
    #[serde(default)]
    pub status: Vec<String>,
    /// Spec attributes only the create call accepts (SQS's `FifoQueue`). The manager refuses a
    /// change before any AWS call; unlike `immutable`, the CRD carries no rule for them.
    #[serde(default)]
    pub create_only: Vec<String>,
    /// The update call sets one attribute per call, named and valued by these two input members
    /// (SNS's `SetTopicAttributes`: `AttributeName`, `AttributeValue`), instead of taking the map.
    pub single: Option<SingleAttribute>,
    /// Create-input members (botocore names) the read call also reports as attributes (SNS's
    /// Subscription: `Protocol`, `Endpoint`, `TopicArn`): read back into their spec fields, so
    /// adopting fills them and a change shows as a delta.
    #[serde(default)]
    pub read_members: Vec<String>,
}

/// The members of an update call that sets one attribute.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SingleAttribute {
    pub name: String,
    pub value: String,
}

/// A spec field with its own write call (S3's `PutBucket*`, DynamoDB's `UpdateTimeToLive`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setter {
    /// The field, botocore-style (`Accelerate` → `accelerate`).
    pub field: String,
    pub put: String,
    /// The `put` input member holding the value; defaults to the input's payload.
    pub member: Option<String>,
    pub get: String,
    /// The `get` output member holding the value, when the generator cannot tell: by default
    /// the output's payload, else the member of the value's shape, else the whole output.
    pub get_member: Option<String>,
    pub delete: Option<String>,
    /// The field is a list and each element is put / deleted on its own (keyed by its `Id`).
    #[serde(default)]
    pub list: bool,
    /// Error codes of `get` that mean "not configured" rather than failure.
    #[serde(default)]
    pub absent_codes: Vec<String>,
    /// For a setter without `delete`: the field's value (JSON, as in the CR) that `put` sends
    /// to undo it once the spec no longer sets it, e.g. S3 versioning `{"status": "Suspended"}`.
    /// Without either, a field the spec drops is left as AWS has it.
    pub reset: Option<String>,
    /// AWS's own value (JSON, as in the CR) for a resource nobody configured, e.g. S3's default
    /// SSE-S3 encryption: like a `reset` value it counts as not configured when adopting.
    pub aws_default: Option<String>,
    /// An empty value (`""`, `{}`, `[]`, objects of those) counts as not set: it is neither
    /// put nor read, and declaring it after a real value undoes that value (S3's `policy: ""`).
    #[serde(default)]
    pub empty_means_absent: bool,
    /// Top-level members (JSON, as in the CR) that `put` sends when the spec leaves them out,
    /// e.g. S3 object lock `{"objectLockEnabled": "Enabled"}`, which the call requires. Not
    /// compared: a spec without them still matches what AWS reads back.
    pub put_defaults: Option<String>,
    /// The put sends what the `<field>_to_aws` hook makes of the value, for fields whose CRD
    /// takes other spellings than the put (ACK's DynamoDB `contributorInsights: ENABLED` is the
    /// action `ENABLE`); the hook refuses a value no spelling matches. Output-wrapper style only.
    #[serde(default)]
    pub to_aws: bool,
    /// Existing top-level spec fields (CRD names) this setter writes, instead of introducing
    /// `field` (which then only names the setter, in `status.declaredSubresources`): for values
    /// whose shape is not the put call's, such as S3's `acl` and `grant*` headers, which
    /// PutBucketAcl takes but GetBucketAcl answers as a list of grants. The setter's value is
    /// the object of those fields, so `reset` and `aws_default` are objects keyed by them.
    /// Needs `put_hook` and `get_hook`. Fields the create call takes are not put again after it.
    #[serde(default)]
    pub fields: Vec<String>,
    /// With `fields`: the hand-written function (in the kind's hooks module) that makes the put
    /// call from the desired spec: `async fn(client, id: &str, desired: &Spec) ->
    /// Result<(), ReconcileError>`.
    pub put_hook: Option<String>,
    /// With `fields`: the hand-written function that reads AWS into the spec's fields (`None`
    /// when not configured): `async fn(client, id: &str, spec: &mut Spec) -> Result<(),
    /// ReconcileError>`; on entry `spec` holds the desired values, so AWS's answer can be
    /// written in the spec's own terms (one of several equivalent spellings).
    pub get_hook: Option<String>,
    /// `false`: adoption does not fill this setter in from AWS (it duplicates another setter
    /// that does, as S3's `objectOwnership` does `ownershipControls`, which ACK adopts).
    pub adopt: Option<bool>,
}

/// A field that no operation shape provides directly; hooks fill it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomField {
    /// The field, botocore-style (`TableReplicas` → `tableReplicas`).
    pub field: String,
    pub shape: String,
    #[serde(default)]
    pub list: bool,
    /// A status (read-only) field rather than a spec field.
    #[serde(default)]
    pub status: bool,
}

/// A status field taken from an output member under another name, for members whose name a spec
/// field already uses (`TableDescription.GlobalSecondaryIndexes` →
/// `globalSecondaryIndexesDescriptions`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusField {
    /// The field, botocore-style.
    pub field: String,
    /// The output member it comes from.
    pub member: String,
}

/// A field holding another resource's identifier; ACK adds a sibling `<field>Ref` that names a
/// Kubernetes object to take it from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// CRD path of the field, relative to spec (`kmsMasterKeyID`, `replication.role`).
    pub field: String,
    /// The referenced kind's service alias and kind (`kms`, `Key`).
    pub service: String,
    pub resource: String,
    /// Where the referenced object carries the value (`status.ackResourceMetadata.arn`).
    pub path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tags {
    /// CRD path of the tag field, relative to spec (`tags`, `tagging.tagSet`).
    pub field: String,
    pub format: TagFormat,
    /// CRD names of the key and value members of a `key_value_list` element.
    pub key: Option<String>,
    pub value: Option<String>,
    pub api: TagApi,
    /// Operations that read, write and remove tags.
    pub read: String,
    pub write: String,
    pub remove: Option<String>,
    /// The create call takes the tag field (a member of its input): a new resource gets every
    /// tag, defaults included, with it and no tag call follows.
    #[serde(default)]
    pub with_create: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagFormat {
    /// `{key: value}`.
    Map,
    /// `[{key, value}]`.
    KeyValueList,
}

/// The runtime's `TagApiStyle`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagApi {
    FullReplacement,
    AddRemove,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Errors {
    /// Codes that need the user to change something.
    #[serde(default)]
    pub terminal: Vec<String>,
    /// Codes that are transient although AWS sends them as client errors (HTTP 4xx), such as
    /// "the table is being updated".
    #[serde(default)]
    pub recoverable: Vec<String>,
    /// Codes meaning the resource does not exist (model exception names).
    pub not_found: Vec<String>,
    /// Operations the SDK makes by itself before a call, whose failure fails that call with no
    /// code of its own (S3's `CreateSession`, the S3 Express One Zone session opened before any
    /// call on a directory bucket): their error code classifies the call, so a session refused
    /// with `NoSuchBucket` means the bucket is not found rather than a dispatch failure.
    #[serde(default)]
    pub inner_calls: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintColumn {
    pub name: String,
    pub json_path: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub priority: u32,
}

/// Points in reconciling where a service's hand-written hooks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookPoint {
    BeforeCreate,
    AfterCreate,
    AfterReadOne,
    BeforeUpdate,
    AfterUpdate,
    BeforeDelete,
    Delta,
    LateInitialize,
    IsSynced,
    /// After the `adoption-fields` annotation is written into the CR, to derive other fields.
    AfterAdoptionFields,
}

impl HookPoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BeforeCreate => "before_create",
            Self::AfterCreate => "after_create",
            Self::AfterReadOne => "after_read_one",
            Self::BeforeUpdate => "before_update",
            Self::AfterUpdate => "after_update",
            Self::BeforeDelete => "before_delete",
            Self::Delta => "delta",
            Self::LateInitialize => "late_initialize",
            Self::IsSynced => "is_synced",
            Self::AfterAdoptionFields => "after_adoption_fields",
        }
    }
}

impl ServiceConfig {
    pub fn parse(origin: &str, text: &str) -> Result<Self, Error> {
        toml::from_str(text).map_err(|source| Error::ConfigSyntax {
            origin: origin.to_string(),
            source: Box::new(source),
        })
    }
}
