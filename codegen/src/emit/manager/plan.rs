//! What a manager needs from the IR, checked against what the emitter supports: each field's
//! part (identifier, create input, attribute, status from create), the calls that name the
//! resource, the tag calls, the ARN. Anything unsupported is an error naming it.

use crate::Error;
use crate::ir::{
    ArnSource, AttributeMap, Field, HookPoint, Operation, Resource, Service, Source, TagApi,
    TagFormat, Type,
};

/// Hooks the emitted code knows how to call.
const SUPPORTED_HOOKS: &[HookPoint] = &[
    HookPoint::AfterReadOne,
    HookPoint::Delta,
    HookPoint::LateInitialize,
    HookPoint::IsSynced,
    HookPoint::AfterAdoptionFields,
];

/// A spec or status field backed by a key of the attribute map.
pub(super) struct Attribute<'a> {
    pub key: &'a str,
    pub field: &'a Field,
}

pub(super) struct Plan<'a> {
    pub service: &'a Service,
    pub resource: &'a Resource,
    pub attributes: &'a AttributeMap,
    pub update: &'a Operation,
    /// Spec fields the create call takes besides the attribute map (the tag field included).
    pub create_inputs: Vec<&'a Field>,
    pub spec_attributes: Vec<Attribute<'a>>,
    pub status_attributes: Vec<Attribute<'a>>,
    /// Status fields the create call's output fills.
    pub create_outputs: Vec<&'a Field>,
    pub identifier: &'a Field,
    pub identifier_in_status: bool,
    /// The identifier's model member, which every call after create takes.
    pub identifier_member: &'a str,
    /// `None` for a kind without tags (SNS's Subscription).
    pub tag_field: Option<&'a Field>,
    /// The element structure of a `key_value_list` tag field.
    pub tag_struct: Option<&'a str>,
    pub arn: &'a Field,
    /// The identifier is the resource's ARN (its member is the ARN attribute): the `arn`
    /// adoption key and `status.ackResourceMetadata.arn` (as ACK stores it) give it too.
    pub identifier_is_arn: bool,
    /// Delta paths refused after creation: `immutable` fields and create-only attributes.
    pub immutable: Vec<String>,
}

/// The spec split by what the manager does with each field.
struct Spec<'a> {
    create_inputs: Vec<&'a Field>,
    attributes: Vec<Attribute<'a>>,
    immutable: Vec<String>,
}

/// The kind-specific status fields, by where their values come from.
struct Status<'a> {
    attributes: Vec<Attribute<'a>>,
    create_outputs: Vec<&'a Field>,
}

impl<'a> Plan<'a> {
    pub fn new(service: &'a Service, resource: &'a Resource) -> Result<Self, Error> {
        let unsupported = |message: String| unsupported(resource, message);
        let Some(attributes) = &resource.attributes else {
            return Err(unsupported(
                "only the attribute-map style (an `attributes` table, as SQS has) is supported \
                 so far"
                    .into(),
            ));
        };
        let update = check_operations(resource, attributes)?;
        let (tag_field, tag_struct) = match tag_field(service, resource)? {
            Some((field, tag_struct)) => (Some(field), tag_struct),
            None => (None, None),
        };
        let spec = spec(resource, attributes, tag_field)?;
        let status = status(resource)?;
        for member in &attributes.read_members {
            let sendable = spec.create_inputs.iter().any(|f| {
                matches!(&f.source, Source::Member { member: m, .. } if m == member)
                    && f.ty == Type::String
            });
            if !sendable {
                return Err(unsupported(format!(
                    "attributes.read_members: {member} is not a string field of the create call"
                )));
            }
        }
        let (identifier, identifier_member) = identifier(resource)?;
        for op in named_calls(resource) {
            if !op.input_members.contains_key(identifier_member) {
                return Err(unsupported(format!(
                    "{} does not take the identifier's member {identifier_member}",
                    op.name
                )));
            }
        }
        let ArnSource::Attribute(arn_key) = &resource.arn else {
            return Err(unsupported(format!(
                "only an ARN from an attribute is supported yet, not {:?}",
                resource.arn
            )));
        };
        let identifier_is_arn = arn_key == identifier_member;
        for key in &resource.adoption_fields {
            if key == crate::lower::ARN_ADOPTION_KEY && identifier_is_arn {
                continue;
            }
            let field = all_fields(resource).find(|f| f.name == *key);
            if !field.is_some_and(|f| f.ty == Type::String) {
                return Err(unsupported(format!(
                    "adoption field {key} is not a string field"
                )));
            }
        }
        let arn = spec
            .attributes
            .iter()
            .chain(&status.attributes)
            .find(|a| a.key == arn_key)
            .map(|a| a.field)
            // An attribute an output member also gives is that member's field (the identifier).
            .or(identifier_is_arn.then_some(identifier))
            .expect("lowering checked the ARN attribute");
        Ok(Plan {
            service,
            resource,
            attributes,
            update,
            create_inputs: spec.create_inputs,
            spec_attributes: spec.attributes,
            status_attributes: status.attributes,
            create_outputs: status.create_outputs,
            identifier,
            identifier_in_status: resource.identifier.in_status,
            identifier_member,
            tag_field,
            tag_struct,
            arn,
            identifier_is_arn,
            immutable: spec.immutable,
        })
    }
}

fn unsupported(resource: &Resource, message: String) -> Error {
    Error::UnsupportedManager {
        kind: resource.kind.clone(),
        message,
    }
}

fn all_fields(resource: &Resource) -> impl Iterator<Item = &Field> {
    resource.spec.iter().chain(&resource.status)
}

/// The operations and hooks are of the supported style; returns the update operation.
fn check_operations<'a>(
    resource: &'a Resource,
    attributes: &AttributeMap,
) -> Result<&'a Operation, Error> {
    let unsupported = |message: String| unsupported(resource, message);
    if let Some(setter) = resource.setters.first() {
        return Err(unsupported(format!(
            "setters ({} and others with their own put/get calls) are not supported yet",
            setter.field
        )));
    }
    let ops = &resource.operations;
    if let Some(wrapper) = &ops.read_one.output_wrapper {
        return Err(unsupported(format!(
            "read-one output wrappers ({wrapper}) are not supported yet"
        )));
    }
    let Some(update) = &ops.update else {
        return Err(unsupported("an update operation is required".into()));
    };
    let mut map_carriers = vec![
        (&ops.create, &ops.create.input_members),
        (&ops.read_one, &ops.read_one.output_members),
    ];
    // An update call setting one attribute per call takes a name and a value instead.
    if attributes.single.is_none() {
        map_carriers.push((update, &update.input_members));
    }
    for (op, members) in map_carriers {
        if !members.contains_key(&attributes.member) {
            return Err(unsupported(format!(
                "{} does not carry the attribute map {}{}",
                op.name,
                attributes.member,
                if std::ptr::eq(op, update) {
                    "; if it sets one attribute per call, name its members in \
                     `attributes.single`"
                } else {
                    ""
                }
            )));
        }
    }
    if let Some(hook) = resource.hooks.iter().find(|h| !SUPPORTED_HOOKS.contains(h)) {
        return Err(unsupported(format!(
            "the {} hook is not called by generated managers yet",
            hook.as_str()
        )));
    }
    Ok(update)
}

/// A top-level `map` or `key_value_list` tag field with add/remove calls whose members the
/// lowering found, and the list's element structure; `None` for a kind without tags.
fn tag_field<'a>(
    service: &'a Service,
    resource: &'a Resource,
) -> Result<Option<(&'a Field, Option<&'a str>)>, Error> {
    let Some(tags) = &resource.tags else {
        return Ok(None);
    };
    let supported = tags.path.len() == 1
        && tags.api == TagApi::AddRemove
        && tags.remove.is_some()
        && tags.read_member.is_some()
        && tags.write_member.is_some()
        && tags.remove_member.is_some();
    if !supported {
        return Err(unsupported(
            resource,
            format!(
                "only a top-level tag field with add/remove tag calls is supported yet, not \
                 spec.{} ({:?}, {:?})",
                tags.path.join("."),
                tags.format,
                tags.api
            ),
        ));
    }
    let field = resource
        .spec
        .iter()
        .find(|f| f.name == tags.path[0])
        .expect("lowering checked the tag field");
    let tag_struct = match (&tags.format, &field.ty) {
        (TagFormat::KeyValueList, Type::List(element)) => match &**element {
            Type::Struct(name) if service.find_struct(resource, name).is_some() => {
                Some(name.as_str())
            }
            _ => {
                return Err(unsupported(
                    resource,
                    "the key/value tag list holds no structure".into(),
                ));
            }
        },
        _ => None,
    };
    Ok(Some((field, tag_struct)))
}

fn spec<'a>(
    resource: &'a Resource,
    attributes: &AttributeMap,
    tag_field: Option<&Field>,
) -> Result<Spec<'a>, Error> {
    let unsupported = |message: String| unsupported(resource, message);
    let create = &resource.operations.create;
    let mut spec = Spec {
        create_inputs: Vec::new(),
        attributes: Vec::new(),
        immutable: Vec::new(),
    };
    for field in &resource.spec {
        let path = format!("spec.{}", field.name);
        if field.immutable {
            spec.immutable.push(path.clone());
        }
        match &field.source {
            Source::Attribute { key } => {
                if attributes.create_only.contains(key) {
                    spec.immutable.push(path);
                }
                spec.attributes.push(Attribute { key, field });
            }
            Source::Member { shape, .. } if create.input.as_ref() == Some(shape) => {
                let is_tags = tag_field.is_some_and(|t| t.name == field.name);
                if !is_tags && !field.immutable {
                    return Err(unsupported(format!(
                        "{path} is only sent with {}; list it in `immutable`",
                        create.name
                    )));
                }
                let sendable = match &field.ty {
                    Type::String | Type::Enum { .. } => !is_tags,
                    Type::Map(value) => is_tags && **value == Type::String && !field.required,
                    Type::List(_) => is_tags && !field.required,
                    _ => false,
                };
                if !sendable {
                    return Err(unsupported(format!(
                        "{path} is {}, which the create call cannot be given yet",
                        field.ty.describe()
                    )));
                }
                spec.create_inputs.push(field);
            }
            // Resolving references to other Kubernetes objects is not implemented; the
            // referring field itself still works.
            Source::Reference { .. } => {}
            _ => {
                return Err(unsupported(format!(
                    "{path} has no source the manager can read and write"
                )));
            }
        }
    }
    Ok(spec)
}

fn status(resource: &Resource) -> Result<Status<'_>, Error> {
    let create_output = resource.operations.create.output.as_ref();
    let mut status = Status {
        attributes: Vec::new(),
        create_outputs: Vec::new(),
    };
    for field in &resource.status {
        match &field.source {
            Source::Runtime => {}
            Source::Attribute { key } => status.attributes.push(Attribute { key, field }),
            Source::Member { shape, .. }
                if create_output == Some(shape) && field.ty == Type::String =>
            {
                status.create_outputs.push(field)
            }
            _ => {
                return Err(unsupported(
                    resource,
                    format!(
                        "status.{} is not filled by the create call or an attribute",
                        field.name
                    ),
                ));
            }
        }
    }
    Ok(status)
}

/// The identifier field and its model member; in the status it needs a lookup call.
fn identifier(resource: &Resource) -> Result<(&Field, &str), Error> {
    let id = &resource.identifier;
    let fields = if id.in_status {
        &resource.status
    } else {
        &resource.spec
    };
    let field = fields
        .iter()
        .find(|f| f.name == id.name)
        .expect("lowering checked the identifier");
    let (Source::Member { member, .. }, Type::String) = (&field.source, &field.ty) else {
        return Err(unsupported(
            resource,
            format!(
                "the identifier {} must be a string from an operation member",
                id.name
            ),
        ));
    };
    if id.in_status && resource.lookup.is_none() && !resource.identifier_from_create {
        return Err(unsupported(
            resource,
            format!(
                "the identifier status.{} is unknown until the resource is found; name a \
                 `lookup` operation (or set `identifier_from_create` when the create call \
                 answers an existing resource)",
                id.name
            ),
        ));
    }
    Ok((field, member))
}

/// The calls that name an existing resource by its identifier.
fn named_calls(resource: &Resource) -> Vec<&Operation> {
    let ops = &resource.operations;
    // Tag calls name the resource by the identifier or by its ARN (see `tag_calls`).
    let mut calls = vec![&ops.read_one, &ops.delete];
    calls.extend(&ops.update);
    calls
}
