//! The generator's intermediate representation: one service's resources, their fields and types,
//! and the AWS operations behind them, with every name already resolved.
//!
//! Emitters read only this. It carries what the CRD and the Rust types need, and also what a
//! resource manager needs (operations with their input and output shapes, where each field comes
//! from in the model, identifiers, tags, error codes, hooks), so manager emission can be added
//! without going back to the model.

use std::collections::BTreeMap;
use std::fmt::Write;

pub use crate::config::{HookPoint, PrintColumn, TagApi, TagFormat};

#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    /// ACK's alias (`s3`).
    pub alias: String,
    /// `s3.services.k8s.aws`.
    pub group: String,
    pub version: String,
    /// botocore's `serviceId` and `apiVersion`.
    pub service_id: String,
    pub api_version: String,
    /// The AWS SDK for Rust crate (`aws_sdk_s3`).
    pub sdk_crate: String,
    /// ACK's shared types (resource metadata, conditions, references), used by every resource.
    pub common: Vec<Struct>,
    pub resources: Vec<Resource>,
    /// The model shapes behind the resources' fields (every shape reachable from a structure
    /// that a [`Source::Member`] field belongs to, or from an operation's input or output), as
    /// the SDK types them: conversions between
    /// CR and SDK values read widths, required members and SDK names from here.
    pub sdk_shapes: BTreeMap<String, SdkShape>,
}

/// A model shape as the AWS SDK for Rust represents it.
#[derive(Clone, Debug, PartialEq)]
pub struct SdkShape {
    pub kind: crate::model::ShapeKind,
    /// The SDK's type name (structures and enums).
    pub sdk_type: String,
    /// An enumerated string: an SDK enum with `From<&str>` and `as_str()`.
    pub is_enum: bool,
    /// A union: an SDK Rust enum, not a struct with a builder.
    pub is_union: bool,
    /// Structure members: model name → (target shape, SDK field / setter name).
    pub members: BTreeMap<String, SdkMember>,
    /// Structure members the model requires.
    pub required: Vec<String>,
    /// The required members the SDK holds without `Option` (whose absence fails `build()`): all
    /// but those targeting a structure or union, which smithy-rs keeps optional, and none of an
    /// operation input's.
    pub non_optional: Vec<String>,
    /// List element or map value shape; map key shape.
    pub element: Option<String>,
    pub key: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SdkMember {
    pub shape: String,
    pub sdk_name: String,
    pub deprecated: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    /// Top-level spec fields, sorted by CRD name.
    pub spec: Vec<Field>,
    /// Status fields, sorted: ACK's `ackResourceMetadata` and `conditions` and this kind's own.
    pub status: Vec<Field>,
    /// Every structure the fields use, sorted by Rust name.
    pub structs: Vec<Struct>,
    pub operations: Operations,
    pub setters: Vec<Setter>,
    /// The field that names the resource in AWS calls.
    pub identifier: FieldRef,
    pub adoption_fields: Vec<String>,
    pub arn: ArnSource,
    pub tags: Option<Tags>,
    pub errors: Errors,
    /// Resource-specific columns followed by ACK's `Synced` and `Age`.
    pub print_columns: Vec<PrintColumn>,
    pub hooks: Vec<HookPoint>,
    /// The attribute map ACK flattens into string fields, when the kind has one.
    pub attributes: Option<AttributeMap>,
    /// Finds the identifier from spec fields while the status does not hold it yet.
    pub lookup: Option<Operation>,
    /// The identifier is known only from the create call (config `identifier_from_create`).
    pub identifier_from_create: bool,
    /// The `…Ref` fields, for the runtime to resolve.
    pub references: Vec<ReferenceField>,
    /// Whether a resource manager is emitted for this kind.
    pub manager: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Operations {
    pub create: Operation,
    pub read_one: Operation,
    pub update: Option<Operation>,
    pub delete: Operation,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    /// botocore's name (`CreateBucket`).
    pub name: String,
    /// The SDK client method (`create_bucket`).
    pub sdk_method: String,
    pub input: Option<String>,
    pub output: Option<String>,
    /// The output member that holds the resource (`Table` for `DescribeTable`).
    pub output_wrapper: Option<String>,
    /// The input's members: model name → the SDK's builder method name.
    pub input_members: BTreeMap<String, String>,
    /// The output's members (before unwrapping): model name → the SDK's field name.
    pub output_members: BTreeMap<String, String>,
}

/// A string-to-string map member (SQS's `Attributes`) whose keys are top-level string fields
/// ([`Source::Attribute`]).
#[derive(Clone, Debug, PartialEq)]
pub struct AttributeMap {
    /// The model member, named alike in the create and update inputs and the read-one output.
    pub member: String,
    /// The SDK type of the keys (`QueueAttributeName`) when the model enumerates them.
    pub key_sdk_type: Option<String>,
    /// The read-one input member that lists the attributes to return (`AttributeNames`).
    pub names_member: Option<String>,
    /// The key that asks for every attribute (SQS's `All`), when the model has one.
    pub all_key: Option<String>,
    /// Spec attribute keys only the create call accepts.
    pub create_only: Vec<String>,
    /// The update call's (name, value) input members when it sets one attribute per call.
    pub single: Option<(String, String)>,
    /// Create-input members the read call reports as attributes of the same name.
    pub read_members: Vec<String>,
}

/// A spec field written by its own operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Setter {
    /// The spec field's CRD name.
    pub field: String,
    pub put: Operation,
    /// The `put` input member that carries the value.
    pub put_member: String,
    pub get: Operation,
    /// Where the value is in `get`'s output: one member, or (when absent) the output's members
    /// are the value's members.
    pub get_member: Option<String>,
    pub delete: Option<Operation>,
    pub list: bool,
    pub absent_codes: Vec<String>,
    /// The value (JSON, as in the CR) `put` sends to undo the field when there is no `delete`.
    pub reset: Option<String>,
    /// AWS's value when nothing is configured (see the config key).
    pub aws_default: Option<String>,
    /// An empty value counts as not set (see the config key).
    pub empty_means_absent: bool,
    /// A JSON object of top-level members `put` sends when the spec leaves them out.
    pub put_defaults: Option<String>,
    /// The put sends the `<field>_to_aws` hook's answer (see the config key).
    pub to_aws: bool,
    /// Existing top-level spec fields (CRD names) the setter writes through its hooks; empty
    /// when the setter has its own spec field `field`.
    pub fields: Vec<String>,
    /// Hand-written put and get functions (with `fields`).
    pub put_hook: Option<String>,
    pub get_hook: Option<String>,
    /// Adoption fills it in from AWS (see the config key).
    pub adopt: bool,
}

impl Setter {
    /// Whether hand-written hooks make its calls (it writes existing fields).
    pub fn hooked(&self) -> bool {
        !self.fields.is_empty()
    }
}

/// The status field where a kind with setters records which setter fields its spec declared
/// when they were last applied ([`Source::DeclaredSetters`]).
pub const DECLARED_SETTERS_FIELD: &str = "declaredSubresources";

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The CRD (JSON) name.
    pub name: String,
    /// The Rust field identifier (a keyword is emitted raw).
    pub rust_name: String,
    pub doc: String,
    pub ty: Type,
    /// Required in the schema. Of the model's fields only top-level spec fields ever are:
    /// ACK leaves nested members optional and lets AWS validate them.
    pub required: bool,
    pub immutable: bool,
    pub source: Source,
}

/// Where a field's value comes from and goes to in AWS.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A member of a model structure: the create input (spec), an output (status) or a nested
    /// structure. `sdk_name` is the SDK's field / builder method name.
    Member {
        shape: String,
        member: String,
        sdk_name: String,
    },
    /// A key of the resource's attribute map; the value is a string.
    Attribute { key: String },
    /// The value of [`Resource::setters`] entry for this field.
    Setter,
    /// Filled by hooks.
    Custom,
    /// The setter fields (CRD names) the spec declared when they were last applied, so a field
    /// the spec stops declaring is undone in AWS once ([`DECLARED_SETTERS_FIELD`]).
    DeclaredSetters,
    /// ACK's shared status and reference fields, maintained by the runtime.
    Runtime,
    /// A reference to another Kubernetes object that supplies the sibling field `target`.
    Reference {
        target: String,
        service: String,
        resource: String,
        path: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    String,
    /// A string with the model's allowed values (emitted as a plain string, as ACK does).
    Enum {
        shape: String,
        values: Vec<String>,
    },
    /// Any model integer or long (ACK uses int64 throughout).
    Integer,
    Float,
    Boolean,
    /// RFC 3339 date-time.
    Timestamp,
    /// Base64 bytes.
    Blob,
    List(Box<Type>),
    /// String keys.
    Map(Box<Type>),
    /// A structure in [`Resource::structs`] or [`Service::common`], by Rust name.
    Struct(String),
    /// Free-form JSON object: a structure that contains itself (recursion cut here) or a
    /// document shape.
    Opaque {
        shape: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Struct {
    pub rust_name: String,
    /// The model shape and the SDK's type for it; `None` for ACK's shared types.
    pub shape: Option<String>,
    pub sdk_type: Option<String>,
    pub doc: String,
    /// Sorted by CRD name.
    pub fields: Vec<Field>,
}

/// A reference field and what it points at.
#[derive(Clone, Debug, PartialEq)]
pub struct ReferenceField {
    /// The field taking the value, dotted, relative to spec (`topicARN`, `replication.role`).
    pub field: String,
    /// The reference field beside it, dotted, relative to spec (`topicRef`).
    pub reference: String,
    /// The referenced kind's API group, version, kind and plural.
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    /// Where the referenced object keeps the value (`status.ackResourceMetadata.arn`).
    pub path: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldRef {
    pub name: String,
    pub in_status: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ArnSource {
    /// An output member (of create or read-one, after unwrapping).
    Member(String),
    Attribute(String),
    /// `{field}` placeholders name spec fields; `{partition}` is the AWS partition.
    Template(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tags {
    /// CRD path relative to spec (`tagging.tagSet`).
    pub path: Vec<String>,
    pub format: TagFormat,
    /// CRD names of a list element's key and value members.
    pub key: String,
    pub value: String,
    pub api: TagApi,
    pub read: Operation,
    pub write: Operation,
    pub remove: Option<Operation>,
    /// The model members holding the tags in `read`'s output and `write`'s input, and the keys
    /// in `remove`'s input, where they are a map or a list.
    pub read_member: Option<String>,
    pub write_member: Option<String>,
    pub remove_member: Option<String>,
    /// The create call carries the tag field (checked: a member of the create input).
    pub with_create: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Errors {
    /// As configured plus the SDK's aliases, sorted.
    pub terminal: Vec<String>,
    pub recoverable: Vec<String>,
    pub not_found: Vec<String>,
    /// Calls the SDK makes inside any call, whose error codes classify it (see the config key).
    pub inner_calls: Vec<Operation>,
}

impl Service {
    /// A structure by Rust name: the resource's own, else a shared one.
    pub fn find_struct<'a>(
        &'a self,
        resource: &'a Resource,
        rust_name: &str,
    ) -> Option<&'a Struct> {
        resource
            .structs
            .iter()
            .chain(&self.common)
            .find(|s| s.rust_name == rust_name)
    }

    pub fn is_common(&self, rust_name: &str) -> bool {
        self.common.iter().any(|s| s.rust_name == rust_name)
    }
}

impl Resource {
    /// A compact, stable text form for golden tests and review.
    pub fn dump(&self) -> String {
        let mut out = String::new();
        let w = &mut out;
        let _ = writeln!(w, "resource {} ({})", self.kind, self.plural);
        let ops = &self.operations;
        for (what, op) in [
            ("create", Some(&ops.create)),
            ("read_one", Some(&ops.read_one)),
            ("update", ops.update.as_ref()),
            ("delete", Some(&ops.delete)),
        ] {
            if let Some(op) = op {
                let _ = writeln!(w, "  {what}: {}", dump_op(op));
            }
        }
        for s in &self.setters {
            let _ = writeln!(
                w,
                "  setter {}: put {}.{} get {}{}{}{}",
                s.field,
                s.put.name,
                s.put_member,
                s.get.name,
                s.get_member
                    .as_deref()
                    .map(|m| format!(".{m}"))
                    .unwrap_or_default(),
                s.delete
                    .as_ref()
                    .map(|d| format!(" delete {}", d.name))
                    .unwrap_or_default(),
                if s.list { " (list)" } else { "" },
            );
            if let Some(reset) = &s.reset {
                let _ = writeln!(w, "    reset {reset}");
            }
            if s.hooked() {
                let _ = writeln!(w, "    fields {} (hooks)", s.fields.join(", "));
            }
        }
        let _ = writeln!(
            w,
            "  identifier: {}{}",
            if self.identifier.in_status {
                "status."
            } else {
                "spec."
            },
            self.identifier.name
        );
        let _ = writeln!(w, "  adoption fields: {}", self.adoption_fields.join(", "));
        let _ = writeln!(w, "  arn: {:?}", self.arn);
        if let Some(lookup) = &self.lookup {
            let _ = writeln!(w, "  lookup: {}", dump_op(lookup));
        }
        if let Some(a) = &self.attributes {
            let _ = writeln!(
                w,
                "  attributes: {} keys {} names {}{} create-only [{}]",
                a.member,
                a.key_sdk_type.as_deref().unwrap_or("String"),
                a.names_member.as_deref().unwrap_or("-"),
                a.all_key
                    .as_deref()
                    .map(|k| format!(" ({k})"))
                    .unwrap_or_default(),
                a.create_only.join(", ")
            );
        }
        if self.manager {
            let _ = writeln!(w, "  manager");
        }
        if let Some(t) = &self.tags {
            let _ = writeln!(
                w,
                "  tags: spec.{} {:?} {:?} read {} write {}{}",
                t.path.join("."),
                t.format,
                t.api,
                t.read.name,
                t.write.name,
                t.remove
                    .as_ref()
                    .map(|r| format!(" remove {}", r.name))
                    .unwrap_or_default()
            );
        }
        let _ = writeln!(
            w,
            "  errors: terminal [{}] recoverable [{}] not_found [{}]",
            self.errors.terminal.join(", "),
            self.errors.recoverable.join(", "),
            self.errors.not_found.join(", ")
        );
        let hooks: Vec<_> = self.hooks.iter().map(|h| h.as_str()).collect();
        let _ = writeln!(w, "  hooks: [{}]", hooks.join(", "));
        for c in &self.print_columns {
            let _ = writeln!(
                w,
                "  column {} {} {} p{}",
                c.name, c.kind, c.json_path, c.priority
            );
        }
        let _ = writeln!(w, "  spec");
        dump_fields(w, &self.spec);
        let _ = writeln!(w, "  status");
        dump_fields(w, &self.status);
        for s in &self.structs {
            let _ = writeln!(
                w,
                "  struct {} (shape {}, sdk {})",
                s.rust_name,
                s.shape.as_deref().unwrap_or("-"),
                s.sdk_type.as_deref().unwrap_or("-")
            );
            dump_fields(w, &s.fields);
        }
        out
    }
}

fn dump_op(op: &Operation) -> String {
    format!(
        "{} ({}) in {} out {}{}",
        op.name,
        op.sdk_method,
        op.input.as_deref().unwrap_or("-"),
        op.output.as_deref().unwrap_or("-"),
        op.output_wrapper
            .as_deref()
            .map(|m| format!(".{m}"))
            .unwrap_or_default()
    )
}

fn dump_fields(w: &mut String, fields: &[Field]) {
    for f in fields {
        let mut flags = String::new();
        if f.required {
            flags.push_str(" required");
        }
        if f.immutable {
            flags.push_str(" immutable");
        }
        let source = match &f.source {
            Source::Member {
                shape,
                member,
                sdk_name,
            } => format!("{shape}.{member} ({sdk_name})"),
            Source::Attribute { key } => format!("attribute {key}"),
            Source::Setter => "setter".into(),
            Source::Custom => "custom".into(),
            Source::DeclaredSetters => "declared setters".into(),
            Source::Runtime => "runtime".into(),
            Source::Reference {
                target,
                service,
                resource,
                path,
            } => {
                format!("reference to {target}: {service}/{resource} {path}")
            }
        };
        let _ = writeln!(
            w,
            "    {} ({}): {}{} <- {}",
            f.name,
            f.rust_name,
            f.ty.describe(),
            flags,
            source
        );
    }
}

impl Type {
    /// `list<map<string>>`, `struct Tag`, …
    pub fn describe(&self) -> String {
        match self {
            Type::String => "string".into(),
            Type::Enum { shape, .. } => format!("enum {shape}"),
            Type::Integer => "integer".into(),
            Type::Float => "float".into(),
            Type::Boolean => "boolean".into(),
            Type::Timestamp => "timestamp".into(),
            Type::Blob => "blob".into(),
            Type::List(t) => format!("list<{}>", t.describe()),
            Type::Map(t) => format!("map<{}>", t.describe()),
            Type::Struct(name) => format!("struct {name}"),
            Type::Opaque { shape } => format!("opaque {shape}"),
        }
    }
}
