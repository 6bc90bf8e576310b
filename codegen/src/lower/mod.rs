//! Model + generator config → IR. Every name the config uses is checked against the model here,
//! so emitters can trust the IR.

mod common;
mod types;

use std::collections::{BTreeMap, BTreeSet};

use crate::Error;
use crate::config::{self, ServiceConfig};
use crate::docs;
use crate::ir::{self, Field, FieldRef, PrintColumn, Source, Type};
use crate::model::{Member, Model, Shape, ShapeKind};
use crate::naming;

use types::Types;

/// The API group suffix every ACK controller uses.
const GROUP_SUFFIX: &str = "services.k8s.aws";

pub fn lower(origin: &str, model: &Model, config: &ServiceConfig) -> Result<ir::Service, Error> {
    let cx = Context {
        origin,
        model,
        config,
    };
    if model.metadata.api_version != config.service.api_version {
        return Err(cx.error(format!(
            "the model is API version {}, not {}",
            model.metadata.api_version, config.service.api_version
        )));
    }
    check_member_keys(&cx)?;
    let resources: Vec<ir::Resource> = config
        .resources
        .iter()
        .map(|(kind, resource)| lower_resource(&cx, kind, resource))
        .collect::<Result<_, _>>()?;
    let sdk_shapes = sdk_shapes(&cx, &resources)?;
    Ok(ir::Service {
        alias: config.service.alias.clone(),
        group: format!("{}.{GROUP_SUFFIX}", config.service.alias),
        version: config.service.version.clone(),
        service_id: model.metadata.service_id.clone(),
        api_version: model.metadata.api_version.clone(),
        sdk_crate: config.sdk.crate_name.clone(),
        common: common::structs(),
        resources,
        sdk_shapes,
    })
}

/// Every shape reachable from a structure that a model-backed field belongs to or from an
/// operation's input or output, as the SDK types it (see [`ir::SdkShape`]).
fn sdk_shapes(
    cx: &Context<'_>,
    resources: &[ir::Resource],
) -> Result<BTreeMap<String, ir::SdkShape>, Error> {
    let mut pending: Vec<String> = Vec::new();
    for r in resources {
        let ops = &r.operations;
        // A hooked setter's calls are hand-written: their shapes are not converted.
        let setter_ops = r
            .setters
            .iter()
            .filter(|s| !s.hooked())
            .flat_map(|s| [Some(&s.put), Some(&s.get), s.delete.as_ref()]);
        let tag_ops = r
            .tags
            .iter()
            .flat_map(|t| [Some(&t.read), Some(&t.write), t.remove.as_ref()]);
        let all_ops = [
            Some(&ops.create),
            Some(&ops.read_one),
            ops.update.as_ref(),
            Some(&ops.delete),
            r.lookup.as_ref(),
        ]
        .into_iter()
        .chain(setter_ops)
        .chain(tag_ops)
        .flatten();
        for op in all_ops {
            pending.extend(op.input.iter().chain(&op.output).cloned());
        }
        let fields = r
            .spec
            .iter()
            .chain(&r.status)
            .chain(r.structs.iter().flat_map(|s| &s.fields));
        for f in fields {
            if let Source::Member { shape, .. } = &f.source {
                pending.push(shape.clone());
            }
        }
        // Setter values travel in their put inputs and get outputs.
        for s in r.setters.iter().filter(|s| !s.hooked()) {
            pending.extend(s.put.input.iter().chain(&s.get.output).cloned());
        }
    }
    let mut out = BTreeMap::new();
    while let Some(name) = pending.pop() {
        if out.contains_key(&name) {
            continue;
        }
        let shape = cx.shape(&name)?;
        let members: BTreeMap<String, ir::SdkMember> = shape
            .members
            .iter()
            .map(|(m, member)| {
                (
                    m.clone(),
                    ir::SdkMember {
                        shape: member.shape.clone(),
                        sdk_name: cx.sdk_member_name(&name, m),
                        deprecated: member.deprecated,
                    },
                )
            })
            .collect();
        let element = shape
            .member
            .as_ref()
            .map(|m| m.shape.clone())
            .or_else(|| shape.value.as_ref().map(|v| v.shape.clone()));
        let key = shape.key.as_ref().map(|k| k.shape.clone());
        let mut non_optional = Vec::new();
        // smithy-rs keeps every member of an operation's input optional.
        let is_input = cx
            .model
            .operations
            .values()
            .any(|op| op.input.as_ref().is_some_and(|i| i.shape == name));
        for m in shape.required.iter().filter(|_| !is_input) {
            let target = cx.shape(&cx.member(&name, m)?.shape)?;
            if target.kind != ShapeKind::Structure {
                non_optional.push(m.clone());
            }
        }
        pending.extend(members.values().map(|m| m.shape.clone()));
        pending.extend(element.iter().cloned());
        pending.extend(key.iter().cloned());
        out.insert(
            name.clone(),
            ir::SdkShape {
                kind: shape.kind,
                sdk_type: cx.sdk_type_name(&name),
                is_enum: shape.kind == ShapeKind::String && !shape.values.is_empty(),
                is_union: shape.union || cx.config.sdk.unions.contains(&name),
                members,
                required: shape.required.clone(),
                non_optional,
                element,
                key,
            },
        );
    }
    Ok(out)
}

/// The model and config of one service, with look-ups that fail with the config's origin.
pub(crate) struct Context<'a> {
    origin: &'a str,
    model: &'a Model,
    config: &'a ServiceConfig,
}

impl<'a> Context<'a> {
    fn error(&self, message: impl Into<String>) -> Error {
        Error::Config {
            origin: self.origin.to_string(),
            message: message.into(),
        }
    }

    fn shape(&self, name: &str) -> Result<&'a Shape, Error> {
        self.model
            .shape(name)
            .ok_or_else(|| self.error(format!("the model has no shape {name}")))
    }

    fn structure(&self, name: &str) -> Result<&'a Shape, Error> {
        let shape = self.shape(name)?;
        if shape.kind != ShapeKind::Structure {
            return Err(self.error(format!("shape {name} is not a structure")));
        }
        Ok(shape)
    }

    fn member(&self, shape_name: &str, member: &str) -> Result<&'a Member, Error> {
        self.structure(shape_name)?
            .members
            .get(member)
            .ok_or_else(|| self.error(format!("shape {shape_name} has no member {member}")))
    }

    fn operation(&self, name: &str, output_wrapper: Option<&str>) -> Result<ir::Operation, Error> {
        let op = self
            .model
            .operation(name)
            .ok_or_else(|| self.error(format!("the model has no operation {name}")))?;
        let output = op.output.as_ref().map(|o| o.shape.clone());
        if let Some(wrapper) = output_wrapper {
            let Some(output) = &output else {
                return Err(self.error(format!("{name} has no output to unwrap {wrapper} from")));
            };
            self.member(output, wrapper)?;
        }
        let input = op.input.as_ref().map(|i| i.shape.clone());
        Ok(ir::Operation {
            name: name.to_string(),
            sdk_method: naming::sdk_member(name),
            input_members: self.sdk_members(input.as_deref())?,
            output_members: self.sdk_members(output.as_deref())?,
            input,
            output,
            output_wrapper: output_wrapper.map(str::to_string),
        })
    }

    /// A structure's members by model name, with the SDK's names for them.
    fn sdk_members(&self, shape: Option<&str>) -> Result<BTreeMap<String, String>, Error> {
        let Some(shape) = shape else {
            return Ok(BTreeMap::new());
        };
        Ok(self
            .structure(shape)?
            .members
            .keys()
            .map(|m| (m.clone(), self.sdk_member_name(shape, m)))
            .collect())
    }

    fn operation_ref(&self, op: &config::OperationRef) -> Result<ir::Operation, Error> {
        self.operation(op.name(), op.output_wrapper())
    }

    fn is_ignored(&self, shape: &str, member: &str) -> bool {
        self.config
            .ignore
            .iter()
            .any(|i| *i == format!("{shape}.{member}"))
    }

    fn rename(&self, shape: &str, member: &str) -> Option<String> {
        self.config
            .renames
            .get(&format!("{shape}.{member}"))
            .cloned()
    }

    fn rust_type_name(&self, shape: &str) -> String {
        self.config
            .rust_type_names
            .get(shape)
            .cloned()
            .unwrap_or_else(|| naming::rust_type(shape))
    }

    fn sdk_type_name(&self, shape: &str) -> String {
        self.config
            .sdk
            .type_names
            .get(shape)
            .cloned()
            .unwrap_or_else(|| naming::sdk_type(shape))
    }

    fn sdk_member_name(&self, shape: &str, member: &str) -> String {
        self.config
            .sdk
            .member_names
            .get(&format!("{shape}.{member}"))
            .cloned()
            .unwrap_or_else(|| naming::sdk_member(member))
    }

    /// A member's documentation, else its shape's.
    fn member_doc(&self, member: &Member) -> String {
        let own = docs::summary(member.documentation.as_deref().unwrap_or(""));
        if !own.is_empty() {
            return own;
        }
        let shape_doc = self
            .model
            .shape(&member.shape)
            .and_then(|s| s.documentation.as_deref());
        docs::summary(shape_doc.unwrap_or(""))
    }

    /// The shape an operation's output holds the resource in (after `output_wrapper`).
    fn unwrapped_output(&self, op: &ir::Operation) -> Result<Option<String>, Error> {
        let Some(output) = &op.output else {
            return Ok(None);
        };
        Ok(Some(match &op.output_wrapper {
            Some(wrapper) => self.member(output, wrapper)?.shape.clone(),
            None => output.clone(),
        }))
    }
}

/// Every `Shape.Member` key of `ignore`, `renames` and `sdk.member_names` names a real member,
/// so a typo cannot silently do nothing.
fn check_member_keys(cx: &Context<'_>) -> Result<(), Error> {
    let config = cx.config;
    let keys = config
        .ignore
        .iter()
        .chain(config.renames.keys())
        .chain(config.sdk.member_names.keys());
    for key in keys {
        let Some((shape, member)) = key.split_once('.') else {
            return Err(cx.error(format!("{key:?} is not of the form Shape.Member")));
        };
        cx.member(shape, member)?;
    }
    for shape in config
        .rust_type_names
        .keys()
        .chain(config.sdk.type_names.keys())
    {
        cx.shape(shape)?;
    }
    for shape in &config.sdk.unions {
        cx.structure(shape)?;
    }
    Ok(())
}

fn lower_resource(
    cx: &Context<'_>,
    kind: &str,
    res: &config::Resource,
) -> Result<ir::Resource, Error> {
    let operations = ir::Operations {
        create: cx.operation_ref(&res.create)?,
        read_one: cx.operation_ref(&res.read_one)?,
        update: res
            .update
            .as_ref()
            .map(|u| cx.operation_ref(u))
            .transpose()?,
        delete: cx.operation_ref(&res.delete)?,
    };
    let reserved = [
        kind.to_string(),
        format!("{kind}Spec"),
        format!("{kind}Status"),
    ];
    let mut types = Types::new(cx, &reserved);

    let mut spec = spec_fields(cx, &mut types, res, &operations)?;
    let mut status = status_fields(cx, &mut types, res, &operations, &spec)?;
    let setters = setters(cx, &mut types, res, &mut spec)?;
    if !setters.is_empty() {
        status.push(declared_setters_field());
    }
    custom_fields(cx, &mut types, res, &mut spec, &mut status)?;
    sort_and_check_unique(cx, &format!("{kind} spec"), &mut spec)?;
    sort_and_check_unique(cx, &format!("{kind} status"), &mut status)?;
    for reference in &res.references {
        add_reference(cx, &mut types, &mut spec, reference)?;
    }
    mark_top_level(cx, kind, &mut spec, &res.required, |f| f.required = true)?;
    mark_top_level(cx, kind, &mut spec, &res.immutable, |f| f.immutable = true)?;
    if spec.iter().any(|f| status.iter().any(|s| s.name == f.name)) {
        return Err(cx.error(format!("{kind}: a field name is in both spec and status")));
    }

    let identifier = field_ref(cx, kind, &spec, &status, &res.identifier)?;
    for key in &res.adoption_fields {
        // ACK's key for kinds named by their ARN: it fills the identifier, which must be the
        // ARN (checked by the manager emitter).
        if key == ARN_ADOPTION_KEY {
            continue;
        }
        field_ref(cx, kind, &spec, &status, key)?;
    }
    let arn = arn_source(cx, res, &operations, &spec)?;
    let tags = res
        .tags
        .as_ref()
        .map(|t| tags(cx, &types, &spec, t, &operations.create))
        .transpose()?;
    let errors = errors(cx, &res.errors)?;
    let attributes = res
        .attributes
        .as_ref()
        .map(|a| attribute_map(cx, a, &operations))
        .transpose()?;
    let lookup = res
        .lookup
        .as_deref()
        .map(|op| lookup(cx, op, &spec, &status, &identifier))
        .transpose()?;
    let print_columns = print_columns(cx, kind, &spec, &status, &res.print_columns)?;
    let mut hooks = res.hooks.clone();
    hooks.sort();
    hooks.dedup();

    let plural = res
        .plural
        .clone()
        .unwrap_or_else(|| format!("{}s", kind.to_lowercase()));
    Ok(ir::Resource {
        kind: kind.to_string(),
        plural,
        singular: kind.to_lowercase(),
        short_names: res.short_names.clone(),
        categories: vec!["ack".into()],
        spec,
        status,
        structs: types.into_structs(),
        operations,
        setters,
        identifier,
        adoption_fields: res.adoption_fields.clone(),
        arn,
        tags,
        errors,
        print_columns,
        hooks,
        attributes,
        lookup,
        identifier_from_create: res.identifier_from_create,
        references: res.references.iter().map(reference_field).collect(),
        manager: res.manager,
    })
}

/// The attribute map's SDK key type and the read call's attribute-name list, if it has one.
fn attribute_map(
    cx: &Context<'_>,
    attributes: &config::Attributes,
    ops: &ir::Operations,
) -> Result<ir::AttributeMap, Error> {
    for key in &attributes.create_only {
        if !attributes.spec.contains(key) {
            return Err(cx.error(format!(
                "create-only attribute {key} is not a spec attribute"
            )));
        }
    }
    let create_input = ops.create.input.as_deref().unwrap_or_default();
    let map = cx.shape(&cx.member(create_input, &attributes.member)?.shape)?;
    let key_shape = map
        .key
        .as_ref()
        .map(|k| k.shape.as_str())
        .unwrap_or_default();
    let keys = &cx.shape(key_shape)?.values;
    let key_sdk_type = (!keys.is_empty()).then(|| cx.sdk_type_name(key_shape));
    let mut names_member = None;
    if let Some(read_input) = &ops.read_one.input {
        for (name, member) in &cx.structure(read_input)?.members {
            let shape = cx.shape(&member.shape)?;
            if shape.kind == ShapeKind::List
                && shape.member.as_ref().is_some_and(|m| m.shape == key_shape)
            {
                names_member = Some(name.clone());
            }
        }
    }
    let single = match &attributes.single {
        Some(single) => {
            let Some(update) = &ops.update else {
                return Err(cx.error("attributes.single needs an update operation"));
            };
            for member in [&single.name, &single.value] {
                if !update.input_members.contains_key(member) {
                    return Err(cx.error(format!(
                        "attributes.single: {} has no input member {member}",
                        update.name
                    )));
                }
            }
            Some((single.name.clone(), single.value.clone()))
        }
        None => None,
    };
    for member in &attributes.read_members {
        cx.member(create_input, member)?;
    }
    Ok(ir::AttributeMap {
        single,
        read_members: attributes.read_members.clone(),
        member: attributes.member.clone(),
        key_sdk_type,
        names_member,
        all_key: keys.iter().find(|k| *k == "All").cloned(),
        create_only: attributes.create_only.clone(),
    })
}

/// What the runtime needs to resolve a configured reference.
fn reference_field(reference: &config::Reference) -> ir::ReferenceField {
    let (parents, last) = match reference.field.rsplit_once('.') {
        Some((parents, last)) => (format!("{parents}."), last),
        None => (String::new(), reference.field.as_str()),
    };
    ir::ReferenceField {
        field: reference.field.clone(),
        reference: format!("{parents}{}", naming::reference_field_name(last)),
        group: format!("{}.{GROUP_SUFFIX}", reference.service),
        // Every ACK kind a reference points at is served as v1alpha1.
        version: "v1alpha1".into(),
        kind: reference.resource.clone(),
        plural: naming::plural(&reference.resource),
        path: reference.path.clone(),
    }
}

/// The adoption-fields key of ACK's kinds whose primary key is their ARN.
pub const ARN_ADOPTION_KEY: &str = "arn";

/// The lookup call must be answerable from spec fields and must return the identifier.
fn lookup(
    cx: &Context<'_>,
    name: &str,
    spec: &[Field],
    status: &[Field],
    identifier: &FieldRef,
) -> Result<ir::Operation, Error> {
    let op = cx.operation(name, None)?;
    let id_field = spec
        .iter()
        .chain(status)
        .find(|f| f.name == identifier.name)
        .expect("field_ref checked the identifier");
    let Source::Member {
        member: id_member, ..
    } = &id_field.source
    else {
        return Err(cx.error(format!(
            "lookup {name}: identifier {} does not come from an operation member",
            identifier.name
        )));
    };
    if !op.output_members.contains_key(id_member) {
        return Err(cx.error(format!(
            "lookup {name}: its output has no member {id_member}"
        )));
    }
    let input = cx.structure(op.input.as_deref().unwrap_or_default())?;
    for required in &input.required {
        let from_spec = spec
            .iter()
            .any(|f| matches!(&f.source, Source::Member { member, .. } if member == required));
        if !from_spec {
            return Err(cx.error(format!(
                "lookup {name}: no spec field supplies its required member {required}"
            )));
        }
    }
    Ok(op)
}

/// The create input's members, less ignored ones and the attribute map, plus one string field
/// per spec attribute.
fn spec_fields(
    cx: &Context<'_>,
    types: &mut Types<'_>,
    res: &config::Resource,
    ops: &ir::Operations,
) -> Result<Vec<Field>, Error> {
    let Some(input_name) = &ops.create.input else {
        return Err(cx.error(format!("{} has no input", ops.create.name)));
    };
    let input = cx.structure(input_name)?;
    let attribute_member = res.attributes.as_ref().map(|a| a.member.as_str());
    let mut fields = Vec::new();
    for (name, member) in &input.members {
        if cx.is_ignored(input_name, name) || Some(name.as_str()) == attribute_member {
            continue;
        }
        let mut field = types.member_field(input_name, name, member)?;
        field.required = input.required.contains(name);
        fields.push(field);
    }
    if let Some(attributes) = &res.attributes {
        let map = cx.member(input_name, &attributes.member)?;
        let known = attribute_names(cx, &map.shape)?;
        // The create input lists settable attributes; read-only ones are documented on the
        // read call's attribute-name parameter.
        let mut doc_sources = vec![map.documentation.as_deref().unwrap_or("")];
        if let Some(read_input) = &ops.read_one.input {
            doc_sources.extend(
                cx.structure(read_input)?
                    .members
                    .values()
                    .filter_map(|m| m.documentation.as_deref()),
            );
        }
        for key in attributes.spec.iter().chain(&attributes.status) {
            if !known.is_empty() && !known.contains(key) {
                return Err(cx.error(format!("{} is not a value of {}", key, map.shape)));
            }
        }
        fields.extend(
            attributes
                .spec
                .iter()
                .map(|key| attribute_field(key, &doc_sources)),
        );
    }
    Ok(fields)
}

/// The allowed keys of an attribute map (empty when the model does not list them).
fn attribute_names(cx: &Context<'_>, map_shape: &str) -> Result<Vec<String>, Error> {
    let map = cx.shape(map_shape)?;
    let (ShapeKind::Map, Some(key), Some(value)) = (map.kind, &map.key, &map.value) else {
        return Err(cx.error(format!("attribute map {map_shape} is not a map")));
    };
    if cx.shape(&value.shape)?.kind != ShapeKind::String {
        return Err(cx.error(format!("attribute map {map_shape} has non-string values")));
    }
    Ok(cx.shape(&key.shape)?.values.clone())
}

fn attribute_field(key: &str, doc_sources: &[&str]) -> Field {
    let doc = doc_sources
        .iter()
        .find_map(|html| docs::list_item(html, key))
        .unwrap_or_default();
    Field {
        name: naming::field_name(key),
        rust_name: naming::rust_field(key),
        doc,
        ty: Type::String,
        required: false,
        immutable: false,
        source: Source::Attribute {
            key: key.to_string(),
        },
    }
}

/// ACK's shared status fields, then the members of the create and read-one outputs that are not
/// spec fields, the ARN or ignored, then renamed output members and status attributes.
fn status_fields(
    cx: &Context<'_>,
    types: &mut Types<'_>,
    res: &config::Resource,
    ops: &ir::Operations,
    spec: &[Field],
) -> Result<Vec<Field>, Error> {
    let mut fields = common::status_fields();
    let spec_members: BTreeSet<&str> = spec
        .iter()
        .filter_map(|f| match &f.source {
            Source::Member { member, .. } => Some(member.as_str()),
            _ => None,
        })
        .collect();
    let arn_member = match &res.arn {
        config::Arn::Member(m) => Some(m.as_str()),
        _ => None,
    };
    let attribute_member = res.attributes.as_ref().map(|a| a.member.as_str());
    let renamed: BTreeSet<&str> = res
        .status_fields
        .iter()
        .map(|s| s.member.as_str())
        .collect();
    let mut seen = BTreeSet::new();
    let outputs = [
        cx.unwrapped_output(&ops.create)?,
        cx.unwrapped_output(&ops.read_one)?,
    ];
    for output in outputs.iter().flatten() {
        for (name, member) in &cx.structure(output)?.members {
            let skip = cx.is_ignored(output, name)
                || spec_members.contains(name.as_str())
                || Some(name.as_str()) == arn_member
                || Some(name.as_str()) == attribute_member
                || renamed.contains(name.as_str());
            if skip || !seen.insert(name.clone()) {
                continue;
            }
            fields.push(types.member_field(output, name, member)?);
        }
    }
    for extra in &res.status_fields {
        let (output, member) = outputs
            .iter()
            .flatten()
            .find_map(|o| {
                let shape = cx.structure(o).ok()?;
                shape.members.get(&extra.member).map(|m| (o, m))
            })
            .ok_or_else(|| {
                cx.error(format!(
                    "no create or read-one output has member {}",
                    extra.member
                ))
            })?;
        let mut field = types.member_field(output, &extra.member, member)?;
        field.name = naming::field_name(&extra.field);
        field.rust_name = naming::rust_field(&extra.field);
        fields.push(field);
    }
    if let Some(attributes) = &res.attributes {
        let mut doc_sources = Vec::new();
        if let Some(read_input) = &ops.read_one.input {
            doc_sources.extend(
                cx.structure(read_input)?
                    .members
                    .values()
                    .filter_map(|m| m.documentation.as_deref()),
            );
        }
        // An attribute an output member already gives (SNS's TopicArn, also CreateTopic's
        // output) stays that member's field.
        let attribute_fields: Vec<Field> = attributes
            .status
            .iter()
            .map(|key| attribute_field(key, &doc_sources))
            .filter(|f| !fields.iter().any(|g| g.name == f.name))
            .collect();
        fields.extend(attribute_fields);
    }
    Ok(fields)
}

/// Spec fields with their own put / get / delete calls.
fn setters(
    cx: &Context<'_>,
    types: &mut Types<'_>,
    res: &config::Resource,
    spec: &mut Vec<Field>,
) -> Result<Vec<ir::Setter>, Error> {
    let mut setters = Vec::new();
    for s in &res.setters {
        if !s.fields.is_empty() || s.put_hook.is_some() || s.get_hook.is_some() {
            setters.push(hooked_setter(cx, s, spec, &setters)?);
            continue;
        }
        let put = cx.operation(&s.put, None)?;
        let Some(put_input) = &put.input else {
            return Err(cx.error(format!("{} has no input", s.put)));
        };
        let input_shape = cx.structure(put_input)?;
        let put_member = s
            .member
            .clone()
            .or_else(|| input_shape.payload.clone())
            .ok_or_else(|| {
                cx.error(format!(
                    "{} has no payload; name the setter's member",
                    s.put
                ))
            })?;
        let member = cx.member(put_input, &put_member)?;
        let element = types.resolve(&member.shape)?;
        let ty = if s.list {
            Type::List(Box::new(element))
        } else {
            element
        };
        let get = cx.operation(&s.get, None)?;
        let get_member = match &s.get_member {
            Some(m) => {
                let output = get.output.as_deref().unwrap_or_default();
                cx.member(output, m)?;
                Some(m.clone())
            }
            None => value_member(cx, &get, &member.shape, s.list)?,
        };
        let name = naming::field_name(&s.field);
        if let Some(reset) = &s.reset {
            if s.delete.is_some() {
                return Err(cx.error(format!(
                    "setter {}: `reset` is for setters without `delete`",
                    s.field
                )));
            }
            if let Err(e) = serde_json::from_str::<serde_json::Value>(reset) {
                return Err(cx.error(format!("setter {}: `reset` is not JSON: {e}", s.field)));
            }
        }
        if let Some(default) = &s.aws_default
            && let Err(e) = serde_json::from_str::<serde_json::Value>(default)
        {
            return Err(cx.error(format!(
                "setter {}: `aws_default` is not JSON: {e}",
                s.field
            )));
        }
        if let Some(defaults) = &s.put_defaults {
            let object = serde_json::from_str::<serde_json::Value>(defaults).map_err(|e| {
                cx.error(format!(
                    "setter {}: `put_defaults` is not JSON: {e}",
                    s.field
                ))
            })?;
            if s.list || !object.is_object() || !matches!(ty, Type::Struct(_)) {
                return Err(cx.error(format!(
                    "setter {}: `put_defaults` is a JSON object of members of a structure setter",
                    s.field
                )));
            }
        }
        let mut doc = cx.member_doc(member);
        if doc.is_empty() {
            doc = docs::summary(
                cx.model
                    .operation(&s.put)
                    .and_then(|o| o.documentation.as_deref())
                    .unwrap_or(""),
            );
        }
        spec.push(Field {
            name: name.clone(),
            rust_name: naming::rust_field(&s.field),
            doc,
            ty,
            required: false,
            immutable: false,
            source: Source::Setter,
        });
        setters.push(ir::Setter {
            field: name,
            put,
            put_member,
            get,
            get_member,
            delete: s
                .delete
                .as_deref()
                .map(|d| cx.operation(d, None))
                .transpose()?,
            list: s.list,
            absent_codes: s.absent_codes.clone(),
            reset: s.reset.clone(),
            aws_default: s.aws_default.clone(),
            empty_means_absent: s.empty_means_absent,
            put_defaults: s.put_defaults.clone(),
            to_aws: s.to_aws,
            fields: Vec::new(),
            put_hook: None,
            get_hook: None,
            adopt: s.adopt.unwrap_or(true),
        });
    }
    Ok(setters)
}

/// A setter over existing top-level spec fields whose calls are hand-written hooks.
fn hooked_setter(
    cx: &Context<'_>,
    s: &config::Setter,
    spec: &[Field],
    earlier: &[ir::Setter],
) -> Result<ir::Setter, Error> {
    let name = naming::field_name(&s.field);
    let (Some(put_hook), Some(get_hook), false) = (&s.put_hook, &s.get_hook, s.fields.is_empty())
    else {
        return Err(cx.error(format!(
            "setter {}: `fields`, `put_hook` and `get_hook` go together",
            s.field
        )));
    };
    let unused = [
        ("member", s.member.is_some()),
        ("get_member", s.get_member.is_some()),
        ("list", s.list),
        ("empty_means_absent", s.empty_means_absent),
        ("put_defaults", s.put_defaults.is_some()),
        ("to_aws", s.to_aws),
    ];
    if let Some((key, _)) = unused.iter().find(|(_, set)| *set) {
        return Err(cx.error(format!(
            "setter {}: `{key}` is for setters with their own field, not `fields`",
            s.field
        )));
    }
    for field in &s.fields {
        if !spec.iter().any(|f| f.name == *field) {
            return Err(cx.error(format!(
                "setter {}: {field} is not a top-level spec field",
                s.field
            )));
        }
        if let Some(other) = earlier.iter().find(|o| o.fields.contains(field)) {
            return Err(cx.error(format!(
                "setter {}: {field} is already written by setter {}",
                s.field, other.field
            )));
        }
    }
    if spec
        .iter()
        .any(|f| f.name == name && !s.fields.contains(&name))
    {
        return Err(cx.error(format!(
            "setter {}: its name {name} is another spec field",
            s.field
        )));
    }
    if s.reset.is_some() && s.delete.is_some() {
        return Err(cx.error(format!(
            "setter {}: `reset` is for setters without `delete`",
            s.field
        )));
    }
    for (key, value) in [("reset", &s.reset), ("aws_default", &s.aws_default)] {
        let Some(value) = value else { continue };
        let object = serde_json::from_str::<serde_json::Value>(value)
            .map_err(|e| cx.error(format!("setter {}: `{key}` is not JSON: {e}", s.field)))?;
        let keys_ok = object
            .as_object()
            .is_some_and(|o| o.keys().all(|k| s.fields.contains(k)));
        if !keys_ok {
            return Err(cx.error(format!(
                "setter {}: `{key}` is a JSON object of its `fields`",
                s.field
            )));
        }
    }
    let put = cx.operation(&s.put, None)?;
    let get = cx.operation(&s.get, None)?;
    Ok(ir::Setter {
        field: name,
        put,
        put_member: String::new(),
        get,
        get_member: None,
        delete: s
            .delete
            .as_deref()
            .map(|d| cx.operation(d, None))
            .transpose()?,
        list: false,
        absent_codes: s.absent_codes.clone(),
        reset: s.reset.clone(),
        aws_default: s.aws_default.clone(),
        empty_means_absent: false,
        put_defaults: None,
        to_aws: false,
        fields: s.fields.clone(),
        put_hook: Some(put_hook.clone()),
        get_hook: Some(get_hook.clone()),
        adopt: s.adopt.unwrap_or(true),
    })
}

/// The status field recording which setter fields the spec declared when last applied.
fn declared_setters_field() -> Field {
    Field {
        name: ir::DECLARED_SETTERS_FIELD.into(),
        rust_name: naming::rust_field(ir::DECLARED_SETTERS_FIELD),
        doc: "The sub-configurations (spec fields with their own AWS calls) the spec declared \
              when they were last applied. A field the spec stops declaring is removed or reset \
              in AWS once; one it never declared is neither read nor changed."
            .into(),
        ty: Type::List(Box::new(Type::String)),
        required: false,
        immutable: false,
        source: Source::DeclaredSetters,
    }
}

/// Where a setter's value is in its get output: the payload, else the member of the value's
/// shape (or a list of it), else nowhere in particular (the output's members are the value's).
fn value_member(
    cx: &Context<'_>,
    get: &ir::Operation,
    value_shape: &str,
    list: bool,
) -> Result<Option<String>, Error> {
    let Some(output) = &get.output else {
        return Err(cx.error(format!("{} has no output", get.name)));
    };
    let output = cx.structure(output)?;
    if let Some(payload) = &output.payload {
        return Ok(Some(payload.clone()));
    }
    for (name, member) in &output.members {
        if member.shape == value_shape {
            return Ok(Some(name.clone()));
        }
        let shape = cx.shape(&member.shape)?;
        if list
            && shape
                .member
                .as_ref()
                .is_some_and(|m| m.shape == value_shape)
        {
            return Ok(Some(name.clone()));
        }
    }
    Ok(None)
}

fn custom_fields(
    cx: &Context<'_>,
    types: &mut Types<'_>,
    res: &config::Resource,
    spec: &mut Vec<Field>,
    status: &mut Vec<Field>,
) -> Result<(), Error> {
    for c in &res.custom_fields {
        let element = types.resolve(&c.shape)?;
        let ty = if c.list {
            Type::List(Box::new(element))
        } else {
            element
        };
        let doc = docs::summary(cx.shape(&c.shape)?.documentation.as_deref().unwrap_or(""));
        let field = Field {
            name: naming::field_name(&c.field),
            rust_name: naming::rust_field(&c.field),
            doc,
            ty,
            required: false,
            immutable: false,
            source: Source::Custom,
        };
        if c.status {
            status.push(field);
        } else {
            spec.push(field);
        }
    }
    Ok(())
}

/// Adds `<field>Ref` next to the referring field, in the spec or in the structure holding it.
fn add_reference(
    cx: &Context<'_>,
    types: &mut Types<'_>,
    spec: &mut Vec<Field>,
    reference: &config::Reference,
) -> Result<(), Error> {
    let path: Vec<&str> = reference.field.split('.').collect();
    let (last, parents) = path.split_last().expect("split yields one part");
    let mut container: Option<String> = None;
    for parent in parents {
        let fields = match &container {
            None => spec.as_slice(),
            Some(name) => &types.struct_by_name(name).expect("resolved struct").fields,
        };
        let field = find_field(cx, fields, parent, &reference.field)?;
        container = Some(struct_of(&field.ty).ok_or_else(|| {
            cx.error(format!(
                "{parent} in reference {} is not a structure",
                reference.field
            ))
        })?);
    }
    let fields = match &container {
        None => spec,
        Some(name) => &mut types.struct_mut(name).expect("resolved struct").fields,
    };
    let target = find_field(cx, fields, last, &reference.field)?;
    let name = naming::reference_field_name(&target.name);
    let field = Field {
        rust_name: naming::rust_field(&name),
        doc: format!(
            "Takes {} from a {} ({}.{GROUP_SUFFIX}) object's {}.",
            target.name, reference.resource, reference.service, reference.path
        ),
        name,
        ty: Type::Struct(common::REFERENCE_WRAPPER.into()),
        required: false,
        immutable: false,
        source: Source::Reference {
            target: target.name.clone(),
            service: reference.service.clone(),
            resource: reference.resource.clone(),
            path: reference.path.clone(),
        },
    };
    fields.push(field);
    // The reference may give the value instead, so the field itself is optional (as in ACK's
    // CRDs); the create call still gets it, resolved.
    if let Some(target) = fields.iter_mut().find(|f| f.name == *last) {
        target.required = false;
    }
    sort_and_check_unique(cx, &reference.field, fields)
}

fn find_field<'f>(
    cx: &Context<'_>,
    fields: &'f [Field],
    name: &str,
    path: &str,
) -> Result<&'f Field, Error> {
    fields
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| cx.error(format!("no field {name} (in {path})")))
}

/// The structure a field holds, directly or as list elements.
fn struct_of(ty: &Type) -> Option<String> {
    match ty {
        Type::Struct(name) => Some(name.clone()),
        Type::List(inner) => struct_of(inner),
        _ => None,
    }
}

fn mark_top_level(
    cx: &Context<'_>,
    kind: &str,
    spec: &mut [Field],
    names: &[String],
    mark: impl Fn(&mut Field),
) -> Result<(), Error> {
    for name in names {
        let field = spec
            .iter_mut()
            .find(|f| f.name == *name)
            .ok_or_else(|| cx.error(format!("{kind} spec has no field {name}")))?;
        mark(field);
    }
    Ok(())
}

fn field_ref(
    cx: &Context<'_>,
    kind: &str,
    spec: &[Field],
    status: &[Field],
    name: &str,
) -> Result<FieldRef, Error> {
    if spec.iter().any(|f| f.name == name) {
        Ok(FieldRef {
            name: name.into(),
            in_status: false,
        })
    } else if status.iter().any(|f| f.name == name) {
        Ok(FieldRef {
            name: name.into(),
            in_status: true,
        })
    } else {
        Err(cx.error(format!("{kind} has no spec or status field {name}")))
    }
}

fn arn_source(
    cx: &Context<'_>,
    res: &config::Resource,
    ops: &ir::Operations,
    spec: &[Field],
) -> Result<ir::ArnSource, Error> {
    Ok(match &res.arn {
        config::Arn::Member(member) => {
            let mut found = false;
            for op in [&ops.create, &ops.read_one] {
                if let Some(output) = cx.unwrapped_output(op)? {
                    found |= cx.structure(&output)?.members.contains_key(member);
                }
            }
            if !found {
                return Err(cx.error(format!("no create or read-one output has member {member}")));
            }
            ir::ArnSource::Member(member.clone())
        }
        config::Arn::Attribute(key) => {
            let declared = res
                .attributes
                .as_ref()
                .is_some_and(|a| a.status.contains(key) || a.spec.contains(key));
            if !declared {
                return Err(cx.error(format!("ARN attribute {key} is not a declared attribute")));
            }
            ir::ArnSource::Attribute(key.clone())
        }
        config::Arn::Template(template) => {
            for placeholder in template
                .split('{')
                .skip(1)
                .filter_map(|s| s.split('}').next())
            {
                let known = ["partition", "region", "account"].contains(&placeholder)
                    || spec.iter().any(|f| f.name == placeholder);
                if !known {
                    return Err(cx.error(format!("ARN template names unknown field {placeholder}")));
                }
            }
            ir::ArnSource::Template(template.clone())
        }
    })
}

fn tags(
    cx: &Context<'_>,
    types: &Types<'_>,
    spec: &[Field],
    t: &config::Tags,
    create: &ir::Operation,
) -> Result<ir::Tags, Error> {
    let path: Vec<String> = t.field.split('.').map(str::to_string).collect();
    let mut fields = spec;
    let mut ty = None;
    for (i, segment) in path.iter().enumerate() {
        let field = find_field(cx, fields, segment, &t.field)?;
        if i + 1 < path.len() {
            let name = struct_of(&field.ty)
                .ok_or_else(|| cx.error(format!("{segment} in {} is not a structure", t.field)))?;
            fields = &types.struct_by_name(&name).expect("resolved struct").fields;
        }
        ty = Some(&field.ty);
    }
    let ty = ty.expect("path has a segment");
    let key = t.key.clone().unwrap_or_else(|| "key".into());
    let value = t.value.clone().unwrap_or_else(|| "value".into());
    let fits = match (t.format, ty) {
        (config::TagFormat::Map, Type::Map(v)) => **v == Type::String,
        (config::TagFormat::KeyValueList, Type::List(element)) => struct_of(element)
            .and_then(|name| types.struct_by_name(&name))
            .is_some_and(|s| {
                let has = |n: &str| s.fields.iter().any(|f| f.name == n && f.ty == Type::String);
                has(&key) && has(&value)
            }),
        _ => false,
    };
    if !fits {
        return Err(cx.error(format!(
            "tag field {} is {}, not a {:?}",
            t.field,
            ty.describe(),
            t.format
        )));
    }
    if t.with_create {
        let top = find_field(cx, spec, &path[0], &t.field)?;
        let from_create = path.len() == 1
            && matches!(&top.source, Source::Member { shape, .. }
                if create.input.as_deref() == Some(shape.as_str()));
        if !from_create {
            return Err(cx.error(format!(
                "tags.with_create: {} is not a member of {}'s input",
                t.field, create.name
            )));
        }
    }
    let read = cx.operation(&t.read, None)?;
    let write = cx.operation(&t.write, None)?;
    let remove = t
        .remove
        .as_deref()
        .map(|r| cx.operation(r, None))
        .transpose()?;
    Ok(ir::Tags {
        path,
        format: t.format,
        key,
        value,
        api: t.api,
        read_member: collection_member(cx, read.output.as_deref())?,
        write_member: collection_member(cx, write.input.as_deref())?,
        remove_member: match &remove {
            Some(op) => collection_member(cx, op.input.as_deref())?,
            None => None,
        },
        read,
        write,
        remove,
        with_create: t.with_create,
    })
}

/// The first member of a structure that is a map or a list: where tag calls carry tags or keys.
fn collection_member(cx: &Context<'_>, shape: Option<&str>) -> Result<Option<String>, Error> {
    let Some(shape) = shape else {
        return Ok(None);
    };
    for (name, member) in &cx.structure(shape)?.members {
        if matches!(
            cx.shape(&member.shape)?.kind,
            ShapeKind::Map | ShapeKind::List
        ) {
            return Ok(Some(name.clone()));
        }
    }
    Ok(None)
}

/// Configured codes plus the SDK's aliases; not-found codes must be model exceptions.
fn errors(cx: &Context<'_>, errors: &config::Errors) -> Result<ir::Errors, Error> {
    for code in &errors.not_found {
        if !cx.model.has_exception(code) {
            return Err(cx.error(format!(
                "not-found code {code} is not an exception in the model"
            )));
        }
    }
    let expand = |codes: &[String]| {
        let mut all: Vec<String> = codes
            .iter()
            .flat_map(|c| {
                let aliases = cx.config.sdk.error_aliases.get(c).into_iter().flatten();
                std::iter::once(c).chain(aliases).cloned()
            })
            .collect();
        all.sort();
        all.dedup();
        all
    };
    Ok(ir::Errors {
        terminal: expand(&errors.terminal),
        recoverable: expand(&errors.recoverable),
        not_found: expand(&errors.not_found),
        inner_calls: errors
            .inner_calls
            .iter()
            .map(|op| cx.operation(op, None))
            .collect::<Result<_, _>>()?,
    })
}

/// The configured columns (checked against the fields) and ACK's `Synced` and `Age`.
fn print_columns(
    cx: &Context<'_>,
    kind: &str,
    spec: &[Field],
    status: &[Field],
    columns: &[PrintColumn],
) -> Result<Vec<PrintColumn>, Error> {
    for column in columns {
        let path = &column.json_path;
        let (fields, rest) = if let Some(rest) = path.strip_prefix(".spec.") {
            (spec, rest)
        } else if let Some(rest) = path.strip_prefix(".status.") {
            (status, rest)
        } else {
            return Err(cx.error(format!(
                "{kind} column path {path} is not under spec or status"
            )));
        };
        let first = rest.split(['.', '[']).next().unwrap_or_default();
        if !fields.iter().any(|f| f.name == first) {
            return Err(cx.error(format!("{kind} column path {path} names no field")));
        }
    }
    let mut all = columns.to_vec();
    all.push(PrintColumn {
        name: "Synced".into(),
        json_path: ".status.conditions[?(@.type==\"ACK.ResourceSynced\")].status".into(),
        kind: "string".into(),
        priority: 0,
    });
    all.push(PrintColumn {
        name: "Age".into(),
        json_path: ".metadata.creationTimestamp".into(),
        kind: "date".into(),
        priority: 0,
    });
    Ok(all)
}

/// Sorts fields by CRD name; two fields with one name (or one Rust name) are an error.
fn sort_and_check_unique(cx: &Context<'_>, what: &str, fields: &mut [Field]) -> Result<(), Error> {
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    for pair in fields.windows(2) {
        if pair[0].name == pair[1].name {
            return Err(cx.error(format!("{what} has two fields named {}", pair[0].name)));
        }
    }
    let rust: BTreeSet<&str> = fields.iter().map(|f| f.rust_name.as_str()).collect();
    if rust.len() != fields.len() {
        return Err(cx.error(format!("{what} has two fields with one Rust name")));
    }
    Ok(())
}
