//! The **setter style** (S3's Bucket): a create call, a read call that only tells whether the
//! resource exists, a delete call, and no update call — every changeable part of the spec is a
//! setter field with its own put / get (/ delete) calls. Tags use the service's tag calls on a
//! `map` or `key_value_list` tag field (the setter that owns the tag field is left to the
//! runtime's tag plans); the ARN comes from a template.
//!
//! Setters follow **declared-field semantics** (unlike ACK, which reads and writes every
//! sub-configuration):
//!
//! - a setter field the spec sets is read (get) and enforced (put) on every resync (the
//!   first time, when it is newly declared, it is put without reading, unless the resource is
//!   read-only);
//! - one the spec has never set is neither read nor touched, so settings made outside Kubernetes
//!   survive and a resync of a resource without setters costs only the read and the tag read;
//! - one the spec set before and no longer sets is undone in AWS once — with its delete call,
//!   else by putting the configured `reset` value, else (neither) simply forgotten — then left
//!   alone.
//!
//! What was declared is recorded in the status field [`DECLARED_SETTERS_FIELD`], which the
//! generator adds to every kind with setters. Adoption with the `adopt` policy reads every setter
//! once and fills the spec with those configured in AWS (empty values, `reset` and `aws_default`
//! values count as not configured); a setter whose read fails is not adopted — safe, since what the spec does
//! not declare is never touched.
//!
//! **Order.** Setters are written in the order of the config's `setters` list, which says what
//! AWS needs first (S3: ownership controls before an ACL, the ACL before logging that needs it,
//! versioning before replication, the public access block before the policy). An update first
//! undoes the setters the spec dropped, in reverse order, then puts the changed ones in order:
//! so a replication configuration is deleted before versioning is suspended.
//!
//! A setter value matches AWS when every field the spec sets equals AWS's (fields the spec
//! leaves out are AWS's to choose); the `delta` hook can drop further differences AWS makes
//! itself (reformatted JSON documents).
//!
//! Per-setter config: with `empty_means_absent` an empty value (`""`, `{}`, ...) counts as not
//! set, so it is never put and declaring it undoes an earlier value; `put_defaults` are members
//! the put call always sends unless the spec sets them (not compared, so reading them back is no
//! delta).
//!
//! **Hooked setters** (`fields` in the config) write existing top-level spec fields — S3's
//! `acl` and `grant*` headers, which PutBucketAcl takes but GetBucketAcl answers as grants —
//! through two hand-written functions the config names, `put_hook` and `get_hook`; the rest
//! (declared-field semantics, order, delta, delete or reset, adoption) is the same as for any
//! setter. The setter's value is the object of its fields the spec sets; the delta names the
//! fields that differ. Fields the create call takes are not put again right after it. The
//! generated `classify` turns an SDK error into the resource's `ReconcileError` for them.
//!
//! Extra hooks of this style:
//!
//! | hook            | signature                                                                |
//! |-----------------|--------------------------------------------------------------------------|
//! | `before_create` | `fn(client: &Client, desired: &mut K) -> Result<(), ReconcileError>`     |
//! | a `put_hook`    | `async fn(client: &Client, id: &str, desired: &Spec) -> Result<(), ReconcileError>` |
//! | a `get_hook`    | `async fn(client: &Client, id: &str, spec: &mut Spec) -> Result<(), ReconcileError>` (`spec` holds the desired values on entry) |

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::super::rust::{self, field_ident};
use super::type_name;
use crate::Error;
use crate::emit::convert;
use crate::ir::{
    ArnSource, DECLARED_SETTERS_FIELD, Field, HookPoint, Operation, Resource, Service, Setter,
    Source, TagApi, TagFormat, Tags, Type,
};

/// Hooks the emitted code knows how to call.
const SUPPORTED_HOOKS: &[HookPoint] = &[
    HookPoint::BeforeCreate,
    HookPoint::AfterReadOne,
    HookPoint::Delta,
    HookPoint::IsSynced,
    HookPoint::AfterAdoptionFields,
];

/// Whether `resource` is of the setter style: no update call and no attribute map.
pub(super) fn applies(resource: &Resource) -> bool {
    resource.operations.update.is_none() && resource.attributes.is_none()
}

/// `generated/<kind>_manager.rs` for a setter-style kind.
pub(super) fn emit(service: &Service, resource: &Resource) -> Result<String, Error> {
    let plan = SetterPlan::new(service, resource)?;
    rust::render(
        &format!("{}.rs", super::module_name(resource)),
        plan.tokens()?,
    )
}

fn unsupported(resource: &Resource, message: String) -> Error {
    Error::UnsupportedManager {
        kind: resource.kind.clone(),
        message,
    }
}

/// A setter with its spec field.
struct SetterField<'a> {
    setter: &'a Setter,
    field: &'a Field,
}

/// A setter over existing top-level spec fields, whose put and get are hand-written hooks.
struct HookedSetter<'a> {
    setter: &'a Setter,
    fields: Vec<&'a Field>,
    /// The create call takes every one of its fields: a new resource needs no put.
    with_create: bool,
}

struct SetterPlan<'a> {
    service: &'a Service,
    resource: &'a Resource,
    identifier: &'a Field,
    /// The identifier's model member, which every call after create takes.
    identifier_member: &'a str,
    /// Spec fields only the create call takes.
    create_inputs: Vec<&'a Field>,
    /// Status fields the create call's output fills.
    create_outputs: Vec<&'a Field>,
    setters: Vec<SetterField<'a>>,
    hooked: Vec<HookedSetter<'a>>,
    /// Every setter's name but the tag setter's, in the config's order (the write order).
    order: Vec<&'a str>,
    /// The setter that owns the tag field, when one does (its get error codes mean "no tags").
    tag_setter: Option<&'a Setter>,
    tags: &'a Tags,
    /// The tag field's path from the spec.
    tag_path: Vec<&'a Field>,
    arn_template: &'a str,
    declared: &'a Field,
}

impl<'a> SetterPlan<'a> {
    fn new(service: &'a Service, resource: &'a Resource) -> Result<Self, Error> {
        let unsupported = |message: String| unsupported(resource, message);
        if let Some(wrapper) = &resource.operations.read_one.output_wrapper {
            return Err(unsupported(format!(
                "read-one output wrappers ({wrapper}) are not supported by the setter style"
            )));
        }
        if let Some(hook) = resource.hooks.iter().find(|h| !SUPPORTED_HOOKS.contains(h)) {
            return Err(unsupported(format!(
                "the {} hook is not called by setter-style managers yet",
                hook.as_str()
            )));
        }
        let Some(tags) = &resource.tags else {
            return Err(unsupported(
                "kinds without tags are not supported yet".into(),
            ));
        };
        let tag_path = tag_path(service, resource, tags)?;
        if tags.api != TagApi::FullReplacement || tags.read_member.is_none() {
            return Err(unsupported(format!(
                "the setter style supports full-replacement tag calls whose read output holds \
                 the tags, not {:?}",
                tags.api
            )));
        }
        let tag_root = &tags.path[0];
        let owns_tags = resource
            .setters
            .iter()
            .any(|s| s.field == *tag_root && s.put.name == tags.write.name);
        if !owns_tags {
            return Err(unsupported(format!(
                "the tag field's top-level field {tag_root} must be a setter whose put is {}",
                tags.write.name
            )));
        }
        let id = &resource.identifier;
        let identifier = resource
            .spec
            .iter()
            .find(|f| f.name == id.name && !id.in_status)
            .ok_or_else(|| {
                unsupported(format!(
                    "the identifier {} must be a spec field in the setter style",
                    id.name
                ))
            })?;
        let (Source::Member { member, .. }, Type::String, true) =
            (&identifier.source, &identifier.ty, identifier.required)
        else {
            return Err(unsupported(format!(
                "the identifier {} must be a required string from a create-input member",
                id.name
            )));
        };
        let ArnSource::Template(arn_template) = &resource.arn else {
            return Err(unsupported(format!(
                "the setter style builds the ARN from a template, not {:?}",
                resource.arn
            )));
        };
        for placeholder in placeholders(arn_template) {
            let known = ["partition", "region"].contains(&placeholder)
                || resource
                    .spec
                    .iter()
                    .any(|f| f.name == placeholder && f.required && f.ty == Type::String);
            if !known {
                return Err(unsupported(format!(
                    "ARN placeholder {{{placeholder}}} is not the partition, the region or a \
                     required string spec field"
                )));
            }
        }
        for key in &resource.adoption_fields {
            if !resource
                .spec
                .iter()
                .any(|f| f.name == *key && f.ty == Type::String)
            {
                return Err(unsupported(format!(
                    "adoption field {key} is not a string spec field"
                )));
            }
        }
        let mut create_inputs = Vec::new();
        let mut setters = Vec::new();
        let mut tag_setter = None;
        let create = &resource.operations.create;
        for field in &resource.spec {
            match &field.source {
                Source::Member { shape, .. } if create.input.as_ref() == Some(shape) => {
                    create_inputs.push(field);
                }
                Source::Setter => {
                    let setter = resource
                        .setters
                        .iter()
                        .find(|s| s.field == field.name)
                        .expect("lowering pairs setters with fields");
                    if field.name == *tag_root {
                        tag_setter = Some(setter);
                        continue;
                    }
                    check_setter(service, resource, setter, field)?;
                    setters.push(SetterField { setter, field });
                }
                Source::Reference { .. } => {}
                _ => {
                    return Err(unsupported(format!(
                        "spec.{} has no source the manager can read and write",
                        field.name
                    )));
                }
            }
        }
        let mut create_outputs = Vec::new();
        let mut declared = None;
        for field in &resource.status {
            match &field.source {
                Source::Runtime => {}
                Source::DeclaredSetters => declared = Some(field),
                Source::Member { shape, .. }
                    if create.output.as_ref() == Some(shape) && field.ty == Type::String =>
                {
                    create_outputs.push(field)
                }
                _ => {
                    return Err(unsupported(format!(
                        "status.{} is not filled by the create call",
                        field.name
                    )));
                }
            }
        }
        // Applied in the config's order, which says what AWS needs first.
        setters.sort_by_key(|s| {
            resource
                .setters
                .iter()
                .position(|c| c.field == s.field.name)
        });
        let mut hooked = Vec::new();
        for setter in resource.setters.iter().filter(|s| s.hooked()) {
            let fields: Vec<&Field> = setter
                .fields
                .iter()
                .map(|name| {
                    resource
                        .spec
                        .iter()
                        .find(|f| f.name == *name)
                        .expect("lowering checked hooked setter fields")
                })
                .collect();
            let with_create = fields.iter().all(|f| create_inputs.contains(f));
            hooked.push(HookedSetter {
                setter,
                fields,
                with_create,
            });
        }
        let order = resource
            .setters
            .iter()
            .filter(|s| s.field != *tag_root)
            .map(|s| s.field.as_str())
            .collect();
        let declared = declared.ok_or_else(|| {
            unsupported(format!("the status has no {DECLARED_SETTERS_FIELD} field"))
        })?;
        let plan = SetterPlan {
            service,
            resource,
            identifier,
            identifier_member: member,
            create_inputs,
            create_outputs,
            setters,
            hooked,
            order,
            tag_setter,
            tags,
            tag_path,
            arn_template,
            declared,
        };
        for op in plan.named_calls() {
            if !op.input_members.contains_key(plan.identifier_member) {
                return Err(unsupported(format!(
                    "{} does not take the identifier's member {}",
                    op.name, plan.identifier_member
                )));
            }
        }
        Ok(plan)
    }

    /// The calls that name an existing resource by its identifier.
    fn named_calls(&self) -> Vec<&'a Operation> {
        let ops = &self.resource.operations;
        let mut calls = vec![
            &ops.read_one,
            &ops.delete,
            &self.tags.read,
            &self.tags.write,
        ];
        calls.extend(&self.tags.remove);
        let all = self
            .setters
            .iter()
            .map(|s| s.setter)
            .chain(self.hooked.iter().map(|h| h.setter));
        for s in all {
            calls.extend([&s.put, &s.get]);
            calls.extend(&s.delete);
        }
        calls
    }
}

/// `{name}` placeholders of a template.
fn placeholders(template: &str) -> impl Iterator<Item = &str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|s| s.split('}').next())
}

/// The tag field's path of optional struct fields, ending in a map or list of key/value structs.
fn tag_path<'a>(
    service: &'a Service,
    resource: &'a Resource,
    tags: &Tags,
) -> Result<Vec<&'a Field>, Error> {
    let mut fields = &resource.spec;
    let mut path = Vec::new();
    for (i, segment) in tags.path.iter().enumerate() {
        let field = fields
            .iter()
            .find(|f| f.name == *segment)
            .expect("lowering checked the tag path");
        if field.required {
            return Err(unsupported(
                resource,
                format!("tag path segment {segment} is required; optional fields only"),
            ));
        }
        path.push(field);
        if i + 1 < tags.path.len() {
            let Type::Struct(name) = &field.ty else {
                unreachable!("lowering checked the tag path")
            };
            fields = &service
                .find_struct(resource, name)
                .expect("resolved struct")
                .fields;
        }
    }
    if tags.format == TagFormat::Map && path.len() != 1 {
        return Err(unsupported(
            resource,
            "a map tag field must be top-level".into(),
        ));
    }
    Ok(path)
}

fn check_setter(
    service: &Service,
    resource: &Resource,
    setter: &Setter,
    field: &Field,
) -> Result<(), Error> {
    let unsupported = |message: String| unsupported(resource, message);
    if setter.to_aws {
        return Err(unsupported(format!(
            "setter {}: to_aws is for the output-wrapper style",
            field.name
        )));
    }
    if let Some(defaults) = &setter.put_defaults {
        let Type::Struct(name) = &field.ty else {
            unreachable!("lowering checked put_defaults")
        };
        let st = service
            .find_struct(resource, name)
            .expect("resolved struct");
        let defaults: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(defaults).expect("lowering checked put_defaults");
        if let Some(key) = defaults
            .keys()
            .find(|k| !st.fields.iter().any(|f| f.name == **k))
        {
            return Err(unsupported(format!(
                "put_defaults of setter {}: {name} has no field {key}",
                field.name
            )));
        }
    }
    if !setter.put.input_members.contains_key(&setter.put_member) {
        return Err(unsupported(format!(
            "{} has no member {}",
            setter.put.name, setter.put_member
        )));
    }
    if setter.list {
        let Type::List(element) = &field.ty else {
            return Err(unsupported(format!(
                "list setter {} is not a list",
                field.name
            )));
        };
        if !matches!(**element, Type::Struct(_)) {
            return Err(unsupported(format!(
                "list setter {} is not a list of structures",
                field.name
            )));
        }
        for op in std::iter::once(&setter.put).chain(&setter.delete) {
            if !op.input_members.contains_key("Id") {
                return Err(unsupported(format!(
                    "{} (list setter {}) takes no Id",
                    op.name, field.name
                )));
            }
        }
        if setter.get_member.is_none() {
            return Err(unsupported(format!(
                "list setter {} needs the get output's list member",
                field.name
            )));
        }
    }
    if setter.get_member.is_none() && !matches!(field.ty, Type::Struct(_)) {
        return Err(unsupported(format!(
            "setter {} is read from the members of {}'s output, so it must be a structure",
            field.name, setter.get.name
        )));
    }
    Ok(())
}

/// Token building.
impl SetterPlan<'_> {
    fn sdk(&self) -> TokenStream {
        let sdk = format_ident!("{}", self.service.sdk_crate);
        quote!(#sdk)
    }

    fn kind(&self) -> Ident {
        format_ident!("{}", self.resource.kind)
    }

    fn spec_type(&self) -> Ident {
        format_ident!("{}Spec", self.resource.kind)
    }

    fn has_hook(&self, hook: HookPoint) -> bool {
        self.resource.hooks.contains(&hook)
    }

    /// `crate::hooks::<kind module>::<hook>`.
    fn hook(&self, hook: HookPoint) -> TokenStream {
        let module = format_ident!("{}", rust::module_name(self.resource));
        let name = format_ident!("{}", hook.as_str());
        quote!(crate::hooks::#module::#name)
    }

    /// `self.client.<method>().<identifier>(id)`.
    fn call(&self, op: &Operation) -> TokenStream {
        let method = format_ident!("{}", op.sdk_method);
        let id = format_ident!("{}", op.input_members[self.identifier_member]);
        quote!(self.client.#method().#id(id))
    }

    /// A CR struct type by Rust name, from the kind's module.
    fn struct_path(&self, name: &str) -> TokenStream {
        let ident = format_ident!("{name}");
        if self.service.is_common(name) {
            quote!(super::common::#ident)
        } else {
            let module = format_ident!("{}", rust::module_name(self.resource));
            quote!(super::#module::#ident)
        }
    }

    fn tokens(&self) -> Result<TokenStream, Error> {
        let sdk = self.sdk();
        let kind = self.kind();
        let spec = self.spec_type();
        let module = format_ident!("{}", rust::module_name(self.resource));
        let manager = format_ident!("{}", type_name(self.resource));
        let error_codes = super::error_codes(self.resource);
        let aws_error = super::aws_error_fn(self.service, self.resource);
        let module_doc = format!(
            " The {} resource manager: translates between the custom resource and {} calls.",
            self.resource.kind, self.service.service_id
        );
        let manager_doc = format!(
            " Implements the runtime's `ResourceManager` for {} with the {} SDK client; setter \
             fields follow declared-field semantics (see `ack_codegen::emit::manager::setters`).",
            self.resource.kind, self.service.service_id
        );
        let names = &self.order;
        let mut get_arms = self
            .setters
            .iter()
            .map(|s| self.get_arm(s))
            .collect::<Result<Vec<_>, _>>()?;
        get_arms.extend(self.hooked.iter().map(|h| self.hooked_get_arm(h)));
        let put_arms = self
            .setters
            .iter()
            .map(|s| self.put_arm(s))
            .chain(self.hooked.iter().map(|h| self.hooked_put_arm(h)));
        let remove_arms = self
            .setters
            .iter()
            .filter_map(|s| self.remove_arm(s))
            .chain(self.hooked.iter().filter_map(|h| self.hooked_remove_arm(h)))
            .collect::<Vec<_>>();
        let hooked_is_set = self.hooked.iter().map(|h| {
            let name = &h.setter.field;
            let fs = h.fields.iter().map(|f| field_ident(f));
            quote!(#name => #(spec.#fs.is_some())||*,)
        });
        let is_set = self.setters.iter().map(|s| {
            let name = &s.field.name;
            let f = field_ident(s.field);
            if s.setter.empty_means_absent {
                quote!(#name => configured(spec.#f.as_ref()).is_some(),)
            } else {
                quote!(#name => spec.#f.is_some(),)
            }
        });
        let with_defaults = self
            .setters
            .iter()
            .any(|s| s.setter.put_defaults.is_some())
            .then(|| {
                quote! {
                    #[doc = " `value` with the top-level members of `defaults` (JSON) it leaves out."]
                    fn with_defaults<T>(value: &T, defaults: &str) -> Result<T, serde_json::Error>
                    where
                        T: serde::Serialize + serde::de::DeserializeOwned,
                    {
                        let mut merged = serde_json::to_value(value)?;
                        if let (Value::Object(merged), Value::Object(defaults)) =
                            (&mut merged, serde_json::from_str::<Value>(defaults)?)
                        {
                            for (key, default) in defaults {
                                let slot = merged.entry(key).or_insert(Value::Null);
                                if slot.is_null() {
                                    *slot = default;
                                }
                            }
                        }
                        serde_json::from_value(merged)
                    }
                }
            });
        let copy = self.setters.iter().map(|s| {
            let name = &s.field.name;
            let f = field_ident(s.field);
            quote!(#name => to.#f.clone_from(&from.#f),)
        });
        let hooked_copy = self.hooked.iter().map(|h| {
            let name = &h.setter.field;
            let fs = h.fields.iter().map(|f| field_ident(f));
            quote!(#name => { #(to.#fs.clone_from(&from.#fs);)* })
        });
        let values = self.setters.iter().map(|s| {
            let name = &s.field.name;
            let f = field_ident(s.field);
            quote!(#name => serde_json::to_value(&spec.#f).unwrap_or_default(),)
        });
        // A hooked setter's value is the object of the fields the spec sets.
        let hooked_values = self.hooked.iter().map(|h| {
            let name = &h.setter.field;
            let fs = h.fields.iter().map(|f| field_ident(f));
            let keys = h.fields.iter().map(|f| &f.name);
            quote! {
                #name => {
                    let mut value = serde_json::Map::new();
                    #(
                        if let Some(v) = &spec.#fs {
                            value.insert(#keys.into(), serde_json::to_value(v).unwrap_or_default());
                        }
                    )*
                    Value::Object(value)
                }
            }
        });
        let paths = self
            .setters
            .iter()
            .map(|s| (&s.field.name, vec![format!("spec.{}", s.field.name)]))
            .chain(self.hooked.iter().map(|h| {
                let paths = h.fields.iter().map(|f| format!("spec.{}", f.name));
                (&h.setter.field, paths.collect())
            }))
            .map(|(name, paths)| quote!(#name => &[#(#paths),*],));
        let not_adopted = self
            .resource
            .setters
            .iter()
            .filter(|s| !s.adopt)
            .map(|s| &s.field);
        let with_create = self
            .hooked
            .iter()
            .filter(|h| h.with_create)
            .map(|h| &h.setter.field);
        // AWS's own value for an unconfigured resource counts as not configured, like a reset.
        let all_setters = self
            .setters
            .iter()
            .map(|s| (&s.field.name, s.setter))
            .chain(self.hooked.iter().map(|h| (&h.setter.field, h.setter)));
        let resets = all_setters.filter_map(|(name, setter)| {
            let reset = setter.reset.as_ref().or(setter.aws_default.as_ref())?;
            Some(quote! {
                #name => serde_json::from_str::<Value>(#reset).ok().as_ref() == Some(&setter_value(spec, name)),
            })
        });
        let spec_with = self
            .hooked
            .iter()
            .any(|h| h.setter.reset.is_some())
            .then(|| {
                quote! {
                    #[doc = " A spec with the top-level fields of `fields` (JSON), for a hooked setter's reset."]
                    fn spec_with(fields: &str) -> Result<#spec, serde_json::Error> {
                        let mut spec = serde_json::to_value(#spec::default())?;
                        if let (Value::Object(spec), Value::Object(fields)) =
                            (&mut spec, serde_json::from_str::<Value>(fields)?)
                        {
                            spec.extend(fields);
                        }
                        serde_json::from_value(spec)
                    }
                }
            });
        let classify = (!self.hooked.is_empty()).then(|| {
            quote! {
                #[doc = " Classifies an SDK error with this resource's error codes, for the hooks that make a"]
                #[doc = " hooked setter's calls."]
                pub(crate) fn classify<E>(error: SdkError<E>) -> ReconcileError
                where
                    E: ProvideErrorMetadata + std::error::Error + 'static,
                {
                    aws_error(error)
                }
            }
        });
        let declared = field_ident(self.declared);
        let trait_impl = self.trait_impl();
        let tags_helper = self.tags_methods().1;
        let tag_absent = self
            .tag_setter
            .filter(|s| s.get.name == self.tags.read.name)
            .map(|s| s.absent_codes.clone())
            .unwrap_or_default();
        Ok(quote! {
            #![doc = #module_doc]

            use ack_runtime::annotations::{self, AdoptionFields, AdoptionPolicy};
            use ack_runtime::manager::{Delta, ResourceManager};
            use ack_runtime::tags::{TagApiStyle, TagPlan, Tags};
            use ack_runtime::ReconcileError;
            use #sdk::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
            use serde_json::Value;

            use super::#module::{#kind, #spec};

            #error_codes
            #[doc = " Error codes of the tag read meaning the resource has no tags."]
            const NO_TAGS_CODES: &[&str] = &[#(#tag_absent),*];
            #[doc = " The setter fields in the order they are put (`generator.toml`'s order); removals"]
            #[doc = " go first, in reverse order."]
            const SETTERS: &[&str] = &[#(#names),*];

            #[doc = #manager_doc]
            pub struct #manager {
                client: #sdk::Client,
            }

            impl #manager {
                pub fn new(client: #sdk::Client) -> Self {
                    Self { client }
                }

                #[doc = " Reads setter `name` from AWS into `spec` (`None` when not configured). Callers box"]
                #[doc = " this and the other setter calls: their futures hold every setter's SDK future and"]
                #[doc = " would otherwise sit on the reconcile's stack."]
                async fn get_setter(&self, id: &str, name: &str, spec: &mut #spec) -> Result<(), ReconcileError> {
                    match name {
                        #(#get_arms)*
                        _ => {}
                    }
                    Ok(())
                }

                #[doc = " Writes setter `name` of `desired` to AWS; `latest` is what AWS has (list setters"]
                #[doc = " delete the elements it has and `desired` does not)."]
                async fn put_setter(&self, id: &str, name: &str, desired: &#spec, latest: &#spec) -> Result<(), ReconcileError> {
                    let _ = latest;
                    match name {
                        #(#put_arms)*
                        _ => {}
                    }
                    Ok(())
                }

                #[doc = " Undoes setter `name` in AWS: its delete call, else a put of its reset value."]
                async fn remove_setter(&self, id: &str, name: &str) -> Result<(), ReconcileError> {
                    match name {
                        #(#remove_arms)*
                        _ => {}
                    }
                    Ok(())
                }
            }

            #trait_impl

            #tags_helper

            #[doc = " Whether the spec sets setter `name`."]
            fn is_set(spec: &#spec, name: &str) -> bool {
                match name {
                    #(#is_set)*
                    #(#hooked_is_set)*
                    _ => false,
                }
            }

            #[doc = " The spec paths setter `name` writes."]
            fn setter_paths(name: &str) -> &'static [&'static str] {
                match name {
                    #(#paths)*
                    _ => &[],
                }
            }

            #[doc = " Whether `delta` names a path of setter `name`."]
            fn in_delta(delta: &Delta, name: &str) -> bool {
                setter_paths(name).iter().any(|p| delta.contains(p))
            }

            #[doc = " The paths of setter `name` to report as different between `wanted` and AWS's `actual`"]
            #[doc = " value: of a setter over several fields, those that differ."]
            fn changed_paths(name: &str, wanted: &Value, actual: &Value) -> Vec<String> {
                let all = setter_paths(name);
                let changed: Vec<String> = all
                    .iter()
                    .filter(|p| {
                        let key = p.trim_start_matches("spec.");
                        let w = wanted.get(key).unwrap_or(&Value::Null);
                        let a = actual.get(key).unwrap_or(&Value::Null);
                        !covers(w, a) || (w.is_null() && !a.is_null())
                    })
                    .map(|p| p.to_string())
                    .collect();
                if all.len() == 1 || changed.is_empty() {
                    all.iter().take(1).map(|p| p.to_string()).collect()
                } else {
                    changed
                }
            }

            #[doc = " Setters adoption does not fill in from AWS."]
            const NOT_ADOPTED: &[&str] = &[#(#not_adopted),*];

            #[doc = " Setters whose fields the create call takes: a new resource needs no put."]
            const SENT_WITH_CREATE: &[&str] = &[#(#with_create),*];

            #[doc = " Copies setter `name` between specs."]
            fn copy_setter(name: &str, from: &#spec, to: &mut #spec) {
                match name {
                    #(#copy)*
                    #(#hooked_copy)*
                    _ => {}
                }
            }

            #[doc = " Setter `name` of a spec as JSON."]
            fn setter_value(spec: &#spec, name: &str) -> Value {
                match name {
                    #(#values)*
                    #(#hooked_values)*
                    _ => Value::Null,
                }
            }

            #[doc = " Whether setter `name` holds its reset value (what undoing it puts) or AWS's default."]
            fn is_reset(spec: &#spec, name: &str) -> bool {
                match name {
                    #(#resets)*
                    _ => false,
                }
            }

            #[doc = " The setters the spec declares, sorted (as `read_one` records them)."]
            fn declared_in(spec: &#spec) -> Vec<String> {
                let mut declared: Vec<String> = SETTERS.iter().filter(|name| is_set(spec, name)).map(|name| name.to_string()).collect();
                declared.sort();
                declared
            }

            #[doc = " The setters the status records as declared when last applied."]
            fn declared_before(resource: &#kind) -> Vec<String> {
                resource.status.as_ref().and_then(|s| s.#declared.clone()).unwrap_or_default()
            }

            #[doc = " Records the declared setters in the status; an empty list is written too, so a"]
            #[doc = " status patch replaces the previous list."]
            fn record_declared(resource: &mut #kind, declared: Vec<String>) {
                let status = resource.status.get_or_insert_with(Default::default);
                status.#declared = Some(declared);
            }

            #[doc = " A value with nothing in it (`{}`, `[]`, `\"\"`, objects of those) is not configured."]
            fn is_empty_value(value: &Value) -> bool {
                match value {
                    Value::Null => true,
                    Value::String(s) => s.is_empty(),
                    Value::Array(items) => items.is_empty(),
                    Value::Object(fields) => fields.values().all(is_empty_value),
                    _ => false,
                }
            }

            #with_defaults

            #spec_with

            #classify

            #[doc = " Keeps a value read from AWS only when it configures something."]
            fn configured<T: serde::Serialize>(value: Option<T>) -> Option<T> {
                value.filter(|v| !is_empty_value(&serde_json::to_value(v).unwrap_or_default()))
            }

            #[doc = " Whether AWS's `actual` has every field `wanted` sets, with the same value."]
            fn covers(wanted: &Value, actual: &Value) -> bool {
                match (wanted, actual) {
                    (Value::Null, _) => true,
                    (Value::Object(w), Value::Object(a)) => {
                        w.iter().all(|(k, v)| covers(v, a.get(k).unwrap_or(&Value::Null)))
                    }
                    (Value::Object(w), Value::Null) => w.values().all(|v| covers(v, &Value::Null)),
                    (Value::Array(w), Value::Array(a)) => {
                        w.len() == a.len() && w.iter().zip(a).all(|(w, a)| covers(w, a))
                    }
                    (Value::Array(w), Value::Null) => w.is_empty(),
                    (w, a) => w == a,
                }
            }

            #[doc = " Whether reading is for an adoption that fills the spec from AWS."]
            fn adopting(resource: &#kind) -> bool {
                let annotations = kube::Resource::meta(resource).annotations.as_ref();
                matches!(AdoptionPolicy::from_annotations(annotations), Ok(Some(AdoptionPolicy::Adopt)))
                    && !annotations::is_adopted(annotations)
            }

            #[doc = " Whether the resource is read-only: it only reports drift, so what it declares is read."]
            fn observing(resource: &#kind) -> bool {
                annotations::read_only(kube::Resource::meta(resource).annotations.as_ref()).unwrap_or(false)
            }

            #[doc = " The AWS partition of a region."]
            fn partition(region: &str) -> &'static str {
                if region.starts_with("cn-") {
                    "aws-cn"
                } else if region.starts_with("us-gov-") {
                    "aws-us-gov"
                } else {
                    "aws"
                }
            }

            #[doc = " An SDK value the conversion could not build (a required member missing)."]
            fn invalid(field: &str, error: impl std::fmt::Display) -> ReconcileError {
                ReconcileError::terminal("InvalidSpec", format!("spec.{field}: {error}"))
            }

            #[doc = " A tag key or value as an owned string, whether the SDK calls it required or not."]
            trait TagText {
                fn text(self) -> String;
            }

            impl TagText for &str {
                fn text(self) -> String {
                    self.to_string()
                }
            }

            impl TagText for Option<&str> {
                fn text(self) -> String {
                    self.unwrap_or_default().to_string()
                }
            }

            #[doc = " Whether an SDK error carries one of `codes`."]
            fn has_code<E: ProvideErrorMetadata>(error: &SdkError<E>, codes: &[&str]) -> bool {
                error.code().is_some_and(|c| codes.contains(&c))
            }

            #aws_error
        })
    }
}

/// The `ResourceManager` implementation.
impl SetterPlan<'_> {
    fn trait_impl(&self) -> TokenStream {
        let manager = format_ident!("{}", type_name(self.resource));
        let alias = &self.service.alias;
        let adoption_keys = &self.resource.adoption_fields;
        let immutable = self
            .resource
            .spec
            .iter()
            .filter(|f| f.immutable)
            .map(|f| format!("spec.{}", f.name));
        let methods = [
            self.apply_adoption_fields(),
            self.read_one(),
            self.create(),
            self.update(),
            self.delete(),
            self.delta(),
            self.is_synced(),
            self.arn(),
            self.tags_methods().0,
        ];
        super::resource_manager_impl(
            self.resource,
            &manager,
            alias,
            adoption_keys,
            immutable,
            &methods,
        )
    }

    fn apply_adoption_fields(&self) -> TokenStream {
        let kind = self.kind();
        let writes = self.resource.adoption_fields.iter().map(|key| {
            let field = self
                .resource
                .spec
                .iter()
                .find(|f| f.name == *key)
                .expect("checked in SetterPlan::new");
            let ident = field_ident(field);
            let write = if field.required {
                quote!(resource.spec.#ident = value.to_string();)
            } else {
                quote!(resource.spec.#ident = Some(value.to_string());)
            };
            quote! {
                if let Some(value) = fields.get(#key) {
                    #write
                }
            }
        });
        let hook = self.has_hook(HookPoint::AfterAdoptionFields).then(|| {
            let hook = self.hook(HookPoint::AfterAdoptionFields);
            quote!(#hook(resource)?;)
        });
        quote! {
            fn apply_adoption_fields(&self, resource: &mut #kind, fields: &AdoptionFields) -> Result<(), ReconcileError> {
                #(#writes)*
                #hook
                Ok(())
            }
        }
    }

    fn read_one(&self) -> TokenStream {
        let kind = self.kind();
        let spec = self.spec_type();
        let call = self.call(&self.resource.operations.read_one);
        let identifier = field_ident(self.identifier);
        let hook = self.has_hook(HookPoint::AfterReadOne).then(|| {
            let hook = self.hook(HookPoint::AfterReadOne);
            quote!(#hook(desired, &mut latest);)
        });
        quote! {
            async fn read_one(&self, desired: &#kind) -> Result<Option<#kind>, ReconcileError> {
                let id = desired.spec.#identifier.as_str();
                match #call.send().await.map_err(aws_error) {
                    Ok(_) => {}
                    Err(ReconcileError::NotFound) => return Ok(None),
                    Err(e) => return Err(e),
                }
                let mut latest = desired.clone();
                // Adopting fills the spec with every setter AWS has; otherwise only the setters the
                // spec declares are read.
                let adopting = adopting(desired);
                let mut declared = declared_before(desired);
                for name in SETTERS {
                    let newly_declared = is_set(&desired.spec, name) && !declared.iter().any(|d| d == name);
                    if newly_declared && !adopting && !observing(desired) {
                        // Applied without reading first: declaring a setter means enforcing it.
                        copy_setter(name, &#spec::default(), &mut latest.spec);
                    } else if is_set(&desired.spec, name) {
                        Box::pin(self.get_setter(id, name, &mut latest.spec)).await?;
                    } else if adopting && !NOT_ADOPTED.contains(name) {
                        // Discovery is best effort: a sub-configuration that cannot be read (no
                        // permission, a call the endpoint lacks) is not adopted, so never touched.
                        if Box::pin(self.get_setter(id, name, &mut latest.spec)).await.is_err() {
                            copy_setter(name, &#spec::default(), &mut latest.spec);
                            continue;
                        }
                    } else {
                        continue;
                    }
                    if adopting && is_reset(&latest.spec, name) {
                        copy_setter(name, &#spec::default(), &mut latest.spec);
                    }
                    let keep = is_set(&desired.spec, name) || (adopting && is_set(&latest.spec, name));
                    if keep && !declared.iter().any(|d| d == name) {
                        declared.push(name.to_string());
                    }
                }
                declared.sort();
                record_declared(&mut latest, declared);
                #hook
                Ok(Some(latest))
            }
        }
    }

    fn create(&self) -> TokenStream {
        let kind = self.kind();
        let spec = self.spec_type();
        let create = &self.resource.operations.create;
        let method = format_ident!("{}", create.sdk_method);
        let create_name = &create.name;
        let detail = if self.resource.errors.inner_calls.is_empty() {
            quote!(e.message().unwrap_or("no detail").to_string())
        } else {
            quote! {
                match inner_call_error(&e) {
                    Some((code, message, _)) => format!("{code}: {message}"),
                    None => e.message().unwrap_or("no detail").to_string(),
                }
            }
        };
        let identifier = field_ident(self.identifier);
        let inputs = self.create_inputs.iter().filter_map(|field| {
            let Source::Member { sdk_name, .. } = &field.source else {
                unreachable!("create inputs are members")
            };
            let setter = format_ident!("set_{sdk_name}");
            let value = convert::to_sdk_field(
                self.service,
                self.resource,
                field,
                quote!(input.spec),
                quote!("spec"),
            )?;
            Some(quote!(.#setter(#value)))
        });
        let outputs = self.create_outputs.iter().filter_map(|field| {
            let ident = field_ident(field);
            let value =
                convert::from_sdk_field(self.service, self.resource, field, quote!(output))?;
            Some(quote!(status.#ident = #value;))
        });
        let hook = self.has_hook(HookPoint::BeforeCreate).then(|| {
            let hook = self.hook(HookPoint::BeforeCreate);
            quote!(#hook(&self.client, &mut input)?;)
        });
        quote! {
            async fn create(&self, desired: &#kind) -> Result<#kind, ReconcileError> {
                #[allow(unused_mut)]
                let mut input = desired.clone();
                #hook
                let output = self.client.#method()
                    #(#inputs)*
                    .send()
                    .await
                    .map_err(|e| {
                        let detail = #detail;
                        match aws_error(e) {
                            // Not "the resource is gone" (which would be created again): the
                            // create failed, for instance because an inner call the SDK made
                            // first found nothing (`errors.inner_calls`).
                            ReconcileError::NotFound => ReconcileError::recoverable(
                                "NotFound",
                                format!("{} answered that something it needs does not exist: {detail}", #create_name),
                            ),
                            other => other,
                        }
                    })?;
                let mut created = desired.clone();
                let status = created.status.get_or_insert_with(Default::default);
                #(#outputs)*
                let _ = output;
                let id = desired.spec.#identifier.as_str();
                let nothing = #spec::default();
                for name in SETTERS {
                    if is_set(&desired.spec, name) && !SENT_WITH_CREATE.contains(name) {
                        Box::pin(self.put_setter(id, name, &desired.spec, &nothing)).await?;
                    }
                }
                record_declared(&mut created, declared_in(&desired.spec));
                Ok(created)
            }
        }
    }

    fn update(&self) -> TokenStream {
        let kind = self.kind();
        let identifier = field_ident(self.identifier);
        quote! {
            async fn update(&self, desired: &#kind, latest: &#kind, delta: &Delta) -> Result<#kind, ReconcileError> {
                let id = desired.spec.#identifier.as_str();
                let mut updated = latest.clone();
                let changed: Vec<&str> = SETTERS.iter().copied().filter(|name| in_delta(delta, name)).collect();
                // Undone first, in reverse order, then put in order (see SETTERS): a replication
                // configuration goes before versioning is suspended, a policy before the public
                // access block that allowed it.
                for name in changed.iter().rev().filter(|name| !is_set(&desired.spec, name)) {
                    // Declared before, no longer: undone once, then left alone.
                    Box::pin(self.remove_setter(id, name)).await?;
                    copy_setter(name, &desired.spec, &mut updated.spec);
                }
                for name in changed.iter().filter(|name| is_set(&desired.spec, name)) {
                    Box::pin(self.put_setter(id, name, &desired.spec, &latest.spec)).await?;
                    copy_setter(name, &desired.spec, &mut updated.spec);
                }
                record_declared(&mut updated, declared_in(&desired.spec));
                Ok(updated)
            }
        }
    }

    fn delete(&self) -> TokenStream {
        let kind = self.kind();
        let call = self.call(&self.resource.operations.delete);
        let identifier = field_ident(self.identifier);
        quote! {
            async fn delete(&self, latest: &#kind) -> Result<(), ReconcileError> {
                let id = latest.spec.#identifier.as_str();
                #call.send().await.map_err(aws_error)?;
                Ok(())
            }
        }
    }

    fn delta(&self) -> TokenStream {
        let kind = self.kind();
        let finish = if self.has_hook(HookPoint::Delta) {
            let hook = self.hook(HookPoint::Delta);
            quote! {
                let mut delta = Delta { paths };
                #hook(desired, latest, &mut delta);
                delta
            }
        } else {
            quote!(Delta { paths })
        };
        quote! {
            fn delta(&self, desired: &#kind, latest: &#kind) -> Delta {
                // Fields only the create call takes cannot be read back, so they are not compared.
                let before = declared_before(latest);
                let mut paths = Vec::new();
                for name in SETTERS {
                    let (wanted, actual) = (setter_value(&desired.spec, name), setter_value(&latest.spec, name));
                    let differs = if is_set(&desired.spec, name) {
                        !covers(&wanted, &actual)
                    } else {
                        before.iter().any(|d| d == name)
                    };
                    if differs {
                        paths.extend(changed_paths(name, &wanted, &actual));
                    }
                }
                #finish
            }
        }
    }

    fn is_synced(&self) -> TokenStream {
        if !self.has_hook(HookPoint::IsSynced) {
            return TokenStream::new();
        }
        let kind = self.kind();
        let hook = self.hook(HookPoint::IsSynced);
        quote! {
            fn is_synced(&self, latest: &#kind) -> bool {
                #hook(latest)
            }
        }
    }

    fn arn(&self) -> TokenStream {
        let kind = self.kind();
        let mut format = String::new();
        let mut args = Vec::new();
        let mut rest = self.arn_template;
        while let Some(open) = rest.find('{') {
            format.push_str(&rest[..open]);
            let close = open + rest[open..].find('}').expect("checked placeholders");
            let name = &rest[open + 1..close];
            format.push_str("{}");
            args.push(match name {
                "partition" => quote!(partition(&region)),
                "region" => quote!(region),
                field => {
                    let f = self
                        .resource
                        .spec
                        .iter()
                        .find(|f| f.name == field)
                        .expect("checked placeholders");
                    let ident = field_ident(f);
                    quote!(latest.spec.#ident)
                }
            });
            rest = &rest[close + 1..];
        }
        format.push_str(rest);
        quote! {
            fn arn(&self, latest: &#kind) -> Option<String> {
                let region = self.client.config().region().map(|r| r.to_string()).unwrap_or_default();
                Some(format!(#format, #(#args),*))
            }
        }
    }
}

/// Tags: the runtime's full-replacement plans on a `map` or `key_value_list` tag field.
impl SetterPlan<'_> {
    /// The tag element structure's key and value fields (`key_value_list` only).
    fn tag_element(&self) -> Option<(&Field, &Field)> {
        let last = self.tag_path.last().expect("a tag path has a field");
        let Type::List(element) = &last.ty else {
            return None;
        };
        let Type::Struct(name) = &**element else {
            return None;
        };
        let s = self
            .service
            .find_struct(self.resource, name)
            .expect("resolved struct");
        let find = |n: &str| {
            s.fields
                .iter()
                .find(|f| f.name == n)
                .expect("lowering checked")
        };
        Some((find(&self.tags.key), find(&self.tags.value)))
    }

    /// How many fields the tag element structure has.
    fn tag_element_fields(&self) -> usize {
        match &self.tag_path.last().expect("a tag path has a field").ty {
            Type::List(el) => match &**el {
                Type::Struct(name) => self
                    .service
                    .find_struct(self.resource, name)
                    .map_or(0, |s| s.fields.len()),
                _ => 0,
            },
            _ => 0,
        }
    }

    /// The tag methods of the trait, and the module-level helper they use.
    fn tags_methods(&self) -> (TokenStream, TokenStream) {
        let kind = self.kind();
        let spec = self.spec_type();
        let idents: Vec<Ident> = self.tag_path.iter().map(|f| field_ident(f)).collect();
        let (first, rest) = idents.split_first().expect("a tag path has a field");
        let (read_tags, write_tags) = match self.tag_element() {
            None => (
                quote!(resource.spec.#first.clone()),
                quote!(spec.#first = Some(tags);),
            ),
            Some((key, value)) => {
                let (k, v) = (field_ident(key), field_ident(value));
                let text = |f: &Field, ident: &Ident| {
                    if f.required {
                        quote!(t.#ident.clone())
                    } else {
                        quote!(t.#ident.clone().unwrap_or_default())
                    }
                };
                let (kt, vt) = (text(key, &k), text(value, &v));
                let wrap = |f: &Field, x: TokenStream| {
                    if f.required { x } else { quote!(Some(#x)) }
                };
                let (kw, vw) = (wrap(key, quote!(k)), wrap(value, quote!(v)));
                let element = match &self.tag_path.last().expect("path").ty {
                    Type::List(el) => match &**el {
                        Type::Struct(name) => self.struct_path(name),
                        _ => unreachable!("checked in tag_element"),
                    },
                    _ => unreachable!("checked in tag_element"),
                };
                let others =
                    (self.tag_element_fields() > 2).then(|| quote!(, ..Default::default()));
                let last = idents.last().expect("path");
                let parents = &idents[..idents.len() - 1];
                let descend = parents
                    .iter()
                    .map(|p| quote!(.#p.get_or_insert_with(Default::default)));
                (
                    quote! {
                        let list = resource.spec.#first.as_ref() #(?.#rest.as_ref())* ?;
                        Some(list.iter().map(|t| (#kt, #vt)).collect())
                    },
                    quote! {
                        let list = tags
                            .into_iter()
                            .map(|(k, v)| #element { #k: #kw, #v: #vw #others })
                            .collect();
                        spec #(#descend)* .#last = Some(list);
                    },
                )
            }
        };
        let clear_last = match idents.split_last() {
            Some((last, [])) => quote! {
                if empty {
                    resource.spec.#last = None;
                }
            },
            Some((last, [parent, parents @ ..])) => quote! {
                if empty && let Some(parent) = resource.spec.#parent.as_mut() #(.and_then(|p| p.#parents.as_mut()))* {
                    parent.#last = None;
                }
            },
            None => unreachable!("a tag path has a field"),
        };
        let read_call = self.call(&self.tags.read);
        let read_member = self
            .tags
            .read_member
            .as_deref()
            .map(|m| format_ident!("{}", self.tags.read.output_members[m]))
            .expect("checked in SetterPlan::new");
        let read_each = match self.tag_element() {
            None => quote!(output.#read_member.unwrap_or_default().into_iter().collect()),
            Some((key, value)) => {
                let sdk = |f: &Field| match &f.source {
                    Source::Member { sdk_name, .. } => format_ident!("{sdk_name}"),
                    _ => unreachable!("tag members are model members"),
                };
                let (k, v) = (sdk(key), sdk(value));
                quote!(output.#read_member().iter().map(|t| (t.#k().text(), t.#v().text())).collect())
            }
        };
        let write = self.tags_write();
        let identifier = field_ident(self.identifier);
        let with_create = super::create_takes_tags(self.tags);
        let methods = quote! {
            fn tag_api_style(&self) -> TagApiStyle {
                TagApiStyle::FullReplacement
            }

            #with_create

            fn spec_tags(&self, resource: &#kind) -> Option<Tags> {
                #read_tags
            }

            fn set_spec_tags(&self, resource: &mut #kind, tags: Tags) {
                let empty = tags.is_empty();
                tags_into_spec(&mut resource.spec, tags);
                // No tags: no list or map, as ACK leaves it out (the structure holding it stays).
                #clear_last
            }

            fn clear_spec_tags(&self, resource: &mut #kind) {
                resource.spec.#first = None;
            }

            async fn read_tags(&self, latest: &#kind) -> Result<Tags, ReconcileError> {
                let id = latest.spec.#identifier.as_str();
                let output = match #read_call.send().await {
                    Ok(output) => output,
                    Err(e) if has_code(&e, NO_TAGS_CODES) => return Ok(Tags::new()),
                    Err(e) => return Err(aws_error(e)),
                };
                Ok(#read_each)
            }

            async fn sync_tags(&self, latest: &#kind, plan: &TagPlan) -> Result<(), ReconcileError> {
                let TagPlan::Replace(tags) = plan else {
                    return Err(ReconcileError::terminal(
                        "UnexpectedTagPlan",
                        "this kind's tags change with one call that replaces them all",
                    ));
                };
                let id = latest.spec.#identifier.as_str();
                #write
                Ok(())
            }
        };
        let helper = quote! {
            #[doc = " Writes tags into the spec's tag field."]
            fn tags_into_spec(spec: &mut #spec, tags: Tags) {
                #write_tags
            }
        };
        (methods, helper)
    }
}

/// Setter calls.
impl SetterPlan<'_> {
    /// `sync_tags`' body: `tags` (a `&Tags`) replaces every tag, or the remove call when empty.
    fn tags_write(&self) -> TokenStream {
        let spec = self.spec_type();
        let setter = self.tag_setter.expect("checked in SetterPlan::new");
        let root = self.tag_path[0];
        let f = field_ident(root);
        let put = &setter.put;
        let call = self.call(put);
        let set = format_ident!("set_{}", put.input_members[&setter.put_member]);
        let shape = self.input_member_shape(put, &setter.put_member);
        let path = format!("spec.{}", root.name);
        let value = convert::to_sdk_expr(
            self.service,
            self.resource,
            &root.ty,
            shape,
            quote!(value),
            quote!(#path),
        );
        let empty = self.tags.remove.as_ref().map(|remove| {
            let call = self.call(remove);
            quote! {
                // Some replacing calls refuse an empty set.
                if tags.is_empty() {
                    #call.send().await.map_err(aws_error)?;
                    return Ok(());
                }
            }
        });
        quote! {
            #empty
            let mut spec = #spec::default();
            tags_into_spec(&mut spec, tags.clone());
            if let Some(value) = &spec.#f {
                let value = #value;
                #call.#set(Some(value)).send().await.map_err(aws_error)?;
            }
        }
    }

    /// `field` as if it were member `member` of model structure `shape` (an operation's input or
    /// output), for the conversion emitter.
    fn as_member(&self, field: &Field, ty: &Type, shape: &str, member: &str) -> Field {
        let sdk_name = self.service.sdk_shapes[shape].members[member]
            .sdk_name
            .clone();
        Field {
            ty: ty.clone(),
            source: Source::Member {
                shape: shape.to_string(),
                member: member.to_string(),
                sdk_name,
            },
            ..field.clone()
        }
    }

    /// The model shape `op`'s input member `member` holds.
    fn input_member_shape(&self, op: &Operation, member: &str) -> &str {
        let input = op.input.as_deref().expect("put calls have inputs");
        &self.service.sdk_shapes[input].members[member].shape
    }

    /// The setter's value in its get output `output`: `Option<CrType>` from a member, else
    /// `CrType` built from the output's members.
    fn get_value(&self, s: &SetterField<'_>) -> Result<TokenStream, Error> {
        let output = s
            .setter
            .get
            .output
            .as_deref()
            .expect("checked: get has output");
        let missing = |what: String| unsupported(self.resource, what);
        if let Some(member) = &s.setter.get_member {
            let field = self.as_member(s.field, &s.field.ty, output, member);
            return convert::from_sdk_field(self.service, self.resource, &field, quote!(output))
                .ok_or_else(|| {
                    missing(format!(
                        "setter {} has no conversion from {output}.{member}",
                        s.field.name
                    ))
                });
        }
        let Type::Struct(name) = &s.field.ty else {
            unreachable!("checked in check_setter")
        };
        let st = self
            .service
            .find_struct(self.resource, name)
            .expect("resolved struct");
        let path = self.struct_path(name);
        let members = &self.service.sdk_shapes[output].members;
        let mut skipped = false;
        let mut fills = Vec::new();
        for f in &st.fields {
            let Source::Member { member, .. } = &f.source else {
                skipped = true;
                continue;
            };
            if !members.contains_key(member) {
                skipped = true;
                continue;
            }
            let synthetic = self.as_member(f, &f.ty, output, member);
            let Some(value) =
                convert::from_sdk_field(self.service, self.resource, &synthetic, quote!(output))
            else {
                skipped = true;
                continue;
            };
            let ident = field_ident(f);
            fills.push(if f.required {
                quote!(#ident: (#value).unwrap_or_default(),)
            } else {
                quote!(#ident: #value,)
            });
        }
        let rest = skipped.then(|| quote!(..Default::default()));
        Ok(quote!(#path { #(#fills)* #rest }))
    }

    fn get_arm(&self, s: &SetterField<'_>) -> Result<TokenStream, Error> {
        let name = &s.field.name;
        let f = field_ident(s.field);
        let call = self.call(&s.setter.get);
        let absent = &s.setter.absent_codes;
        let value = self.get_value(s)?;
        // A value from one output member is optional; one built from the output's members is not.
        let value = if s.setter.get_member.is_some() {
            quote!(output.and_then(|output| #value))
        } else {
            quote!(output.map(|output| #value))
        };
        Ok(quote! {
            #name => {
                let output = match #call.send().await {
                    Ok(output) => Some(output),
                    Err(e) if has_code(&e, &[#(#absent),*]) => None,
                    Err(e) => return Err(aws_error(e)),
                };
                spec.#f = configured(#value);
            }
        })
    }

    /// Puts `desired.<field>` (with `latest` in scope for list setters).
    fn put_body(&self, s: &SetterField<'_>) -> TokenStream {
        let name = &s.field.name;
        let f = field_ident(s.field);
        let put = &s.setter.put;
        let call = self.call(put);
        let set = format_ident!("set_{}", put.input_members[&s.setter.put_member]);
        let shape = self.input_member_shape(put, &s.setter.put_member);
        let path = format!("spec.{name}");
        if !s.setter.list {
            let value = convert::to_sdk_expr(
                self.service,
                self.resource,
                &s.field.ty,
                shape,
                quote!(value),
                quote!(#path),
            );
            let defaults = s.setter.put_defaults.as_ref().map(|defaults| {
                quote!(let value = &with_defaults(value, #defaults).map_err(|e| invalid(#name, e))?;)
            });
            return quote! {
                if let Some(value) = &desired.#f {
                    #defaults
                    let value = #value;
                    #call.#set(Some(value)).send().await.map_err(aws_error)?;
                }
            };
        }
        let Type::List(element) = &s.field.ty else {
            unreachable!("checked in check_setter")
        };
        let Type::Struct(element_name) = &**element else {
            unreachable!("checked in check_setter")
        };
        let id_field = self
            .service
            .find_struct(self.resource, element_name)
            .and_then(|st| st.fields.iter().find(|f| f.name == "id"))
            .map(field_ident)
            .unwrap_or_else(|| format_ident!("id"));
        let set_id = format_ident!("set_{}", put.input_members["Id"]);
        let value = convert::to_sdk_expr(
            self.service,
            self.resource,
            element,
            shape,
            quote!(element),
            quote!(&path),
        );
        let delete = s.setter.delete.as_ref().map(|d| {
            let call = self.call(d);
            let set_id = format_ident!("set_{}", d.input_members["Id"]);
            quote! {
                for element in latest.#f.as_deref().unwrap_or_default() {
                    let gone = !wanted.iter().any(|w| w.#id_field == element.#id_field);
                    if gone && element.#id_field.is_some() {
                        #call.#set_id(element.#id_field.clone()).send().await.map_err(aws_error)?;
                    }
                }
            }
        });
        quote! {
            let wanted = desired.#f.as_deref().unwrap_or_default();
            for (i, element) in wanted.iter().enumerate() {
                let path = format!("{}[{i}]", #path);
                let value = #value;
                #call.#set_id(element.#id_field.clone()).#set(Some(value)).send().await.map_err(aws_error)?;
            }
            #delete
        }
    }

    /// `crate::hooks::<kind module>::<name>`, a hooked setter's hand-written call.
    fn named_hook(&self, name: &str) -> TokenStream {
        let module = format_ident!("{}", rust::module_name(self.resource));
        let name = format_ident!("{name}");
        quote!(crate::hooks::#module::#name)
    }

    fn hooked_get_arm(&self, h: &HookedSetter<'_>) -> TokenStream {
        let name = &h.setter.field;
        let hook = self.named_hook(h.setter.get_hook.as_deref().expect("lowering checked"));
        quote!(#name => #hook(&self.client, id, spec).await?,)
    }

    fn hooked_put_arm(&self, h: &HookedSetter<'_>) -> TokenStream {
        let name = &h.setter.field;
        let hook = self.named_hook(h.setter.put_hook.as_deref().expect("lowering checked"));
        quote!(#name => #hook(&self.client, id, desired).await?,)
    }

    fn hooked_remove_arm(&self, h: &HookedSetter<'_>) -> Option<TokenStream> {
        let name = &h.setter.field;
        let absent = &h.setter.absent_codes;
        if let Some(delete) = &h.setter.delete {
            let call = self.call(delete);
            return Some(quote! {
                #name => match #call.send().await {
                    Ok(_) => {}
                    Err(e) if has_code(&e, &[#(#absent),*]) => {}
                    Err(e) => return Err(aws_error(e)),
                },
            });
        }
        let reset = h.setter.reset.as_ref()?;
        let hook = self.named_hook(h.setter.put_hook.as_deref().expect("lowering checked"));
        Some(quote! {
            #name => {
                let desired = &spec_with(#reset).map_err(|e| invalid(#name, e))?;
                #hook(&self.client, id, desired).await?;
            }
        })
    }

    fn put_arm(&self, s: &SetterField<'_>) -> TokenStream {
        let name = &s.field.name;
        let body = self.put_body(s);
        quote!(#name => { #body })
    }

    fn remove_arm(&self, s: &SetterField<'_>) -> Option<TokenStream> {
        let name = &s.field.name;
        let f = field_ident(s.field);
        let spec = self.spec_type();
        let absent = &s.setter.absent_codes;
        if let Some(delete) = &s.setter.delete {
            let call = self.call(delete);
            if s.setter.list {
                // Every element AWS has goes.
                let body = self.put_body(s);
                return Some(quote! {
                    #name => {
                        let mut latest = #spec::default();
                        Box::pin(self.get_setter(id, #name, &mut latest)).await?;
                        let latest = &latest;
                        let desired = &#spec::default();
                        #body
                    }
                });
            }
            return Some(quote! {
                #name => match #call.send().await {
                    Ok(_) => {}
                    Err(e) if has_code(&e, &[#(#absent),*]) => {}
                    Err(e) => return Err(aws_error(e)),
                },
            });
        }
        let reset = s.setter.reset.as_ref()?;
        let body = self.put_body(s);
        Some(quote! {
            #name => {
                let desired = &#spec {
                    #f: Some(serde_json::from_str(#reset).map_err(|e| invalid(#name, e))?),
                    ..Default::default()
                };
                #body
            }
        })
    }
}
