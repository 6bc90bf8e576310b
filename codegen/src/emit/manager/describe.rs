//! The **output-wrapper style** (DynamoDB's Table): a create call taking the spec's members and
//! answering with the resource wrapped in one output member (`CreateTable` → `TableDescription`),
//! a read call answering likewise (`DescribeTable` → `Table`), an update call taking the changed
//! members, a delete call, setters (fields with their own put / get calls), and tags as a list or
//! map changed with add/remove calls addressed by the identifier or the ARN.
//!
//! What the generated code does, all driven by the IR:
//! - every call names the resource by the identifier, a spec field;
//! - spec and status fields are read from the read output's members of the same shape (values
//!   converted with the CR ↔ SDK conversions, [`super::super::convert`]); spec fields whose output
//!   member has another shape (a `…Description`, a `…Summary`) are the `after_read_one` hook's;
//! - the ARN is an output member, kept in `status.ackResourceMetadata.arn`;
//! - update sends the changed fields the update input takes; the `before_update` hook may split
//!   the delta into groups, one call each (for APIs that take one kind of change per call). After
//!   each call the delta is worked out again from the call's output; while `is_synced` says AWS
//!   is converging, the rest waits for a following reconcile (the runtime reads again after an
//!   update and stays unsynced, requeued soon, while anything differs), and a call whose output
//!   shows no change ends the update;
//! - setters are read and written only when the spec declares them; their get output is turned
//!   into the field's value by a `<field>_from_aws` hook, as its shape differs from the put's;
//! - error codes the config calls recoverable are recoverable whatever their HTTP status;
//! - custom spec fields are neither sent nor read: hooks handle (or refuse) them; nothing is late
//!   initialised but what the `late_initialize` hook fills.
//!
//! Hooks, as `crate::hooks::<kind module>::<hook>`:
//!
//! | hook               | signature                                                             |
//! |--------------------|-----------------------------------------------------------------------|
//! | `before_create`    | `fn(desired: &K) -> Result<(), ReconcileError>` (before the call)     |
//! | `after_read_one`   | `fn(desired: &K, latest: &mut K, output: &sdk::types::<Wrapped>)`     |
//! | `before_update`    | `fn(desired: &K, latest: &K, delta: &Delta) -> Vec<Delta>` (one per call) |
//! | `update_input`     | with `before_update`, for every call: `fn(desired, latest, group: &Delta, rest: &Delta, input: <Update>FluentBuilder) -> Result<<Update>FluentBuilder, ReconcileError>`; `rest` holds the group's paths no update member carries, and the hook may also adjust what the generated members set |
//! | `before_delete`    | `async fn(client: &sdk::Client, latest: &K) -> Result<(), ReconcileError>` |
//! | `delta`, `late_initialize`, `is_synced`, `after_adoption_fields` | as the attribute-map style |
//! | `<field>_from_aws` | per setter: `fn(value: Option<&sdk::types::<GetMember>>) -> Option<FieldType>` |
//! | `<field>_to_aws`   | per setter with `to_aws`: `fn(value: &FieldType) -> Result<FieldType, ReconcileError>`, what the put sends |

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::super::convert;
use super::super::rust::{self, field_ident};
use crate::Error;
use crate::ir::{
    ArnSource, Field, HookPoint, Operation, Resource, SdkShape, Service, Setter, Source, TagFormat,
    Type,
};
use crate::model::ShapeKind;
use crate::naming;

const SUPPORTED_HOOKS: &[HookPoint] = &[
    HookPoint::BeforeCreate,
    HookPoint::AfterReadOne,
    HookPoint::BeforeUpdate,
    HookPoint::BeforeDelete,
    HookPoint::Delta,
    HookPoint::LateInitialize,
    HookPoint::IsSynced,
    HookPoint::AfterAdoptionFields,
];

/// Whether a kind is of this style.
pub(super) fn applies(resource: &Resource) -> bool {
    resource.attributes.is_none() && resource.operations.read_one.output_wrapper.is_some()
}

fn unsupported(resource: &Resource, message: String) -> Error {
    Error::UnsupportedManager {
        kind: resource.kind.clone(),
        message,
    }
}

/// A spec or status field read from the wrapped output member of the same shape.
struct Read<'a> {
    field: &'a Field,
    /// The output member's model name.
    member: String,
}

pub(super) struct Describe<'a> {
    service: &'a Service,
    resource: &'a Resource,
    /// The shape the read call wraps the resource in (`TableDescription`).
    read_shape: &'a str,
    update: &'a Operation,
    identifier: &'a Field,
    identifier_member: &'a str,
    /// Spec fields the create call takes (the tag field included).
    create_inputs: Vec<&'a Field>,
    spec_reads: Vec<Read<'a>>,
    status_reads: Vec<Read<'a>>,
    /// Spec fields the update call takes, with its member.
    updatable: Vec<&'a Field>,
    arn_member: &'a str,
    tag_field: &'a Field,
    /// The tag element struct (key/value list) by Rust name.
    tag_struct: Option<&'a str>,
    declared_field: Option<&'a Field>,
    immutable: Vec<String>,
}

impl<'a> Describe<'a> {
    pub(super) fn new(service: &'a Service, resource: &'a Resource) -> Result<Self, Error> {
        let unsupported = |message: String| unsupported(resource, message);
        let ops = &resource.operations;
        let Some(update) = &ops.update else {
            return Err(unsupported("an update operation is required".into()));
        };
        if let Some(hook) = resource.hooks.iter().find(|h| !SUPPORTED_HOOKS.contains(h)) {
            return Err(unsupported(format!(
                "the {} hook is not called by output-wrapper managers",
                hook.as_str()
            )));
        }
        if ops.create.output_wrapper.is_none() {
            return Err(unsupported(format!(
                "{} needs an output_wrapper too",
                ops.create.name
            )));
        }
        // The shape the read wraps: where the status's model members come from.
        let read_shape = resource
            .status
            .iter()
            .find_map(|f| match &f.source {
                Source::Member { shape, .. } => Some(shape.as_str()),
                _ => None,
            })
            .ok_or_else(|| unsupported("no status field comes from the read output".into()))?;
        let read = shape(service, resource, read_shape)?;
        let id = &resource.identifier;
        if id.in_status {
            return Err(unsupported(
                "the identifier must be a spec field in this style".into(),
            ));
        }
        let identifier = resource
            .spec
            .iter()
            .find(|f| f.name == id.name)
            .expect("lowering checked the identifier");
        let (Source::Member { member, .. }, Type::String, true) =
            (&identifier.source, &identifier.ty, identifier.required)
        else {
            return Err(unsupported(format!(
                "the identifier {} must be a required string spec member",
                id.name
            )));
        };
        let identifier_member = member.as_str();
        if let Some(s) = resource.setters.iter().find(|s| s.hooked()) {
            return Err(unsupported(format!(
                "setter {} writes other fields through hooks, which only the setter style supports",
                s.field
            )));
        }
        let mut named = vec![&ops.read_one, &ops.delete, update];
        named.extend(resource.setters.iter().map(|s| &s.put));
        named.extend(resource.setters.iter().map(|s| &s.get));
        for op in named {
            if !op.input_members.contains_key(identifier_member) {
                return Err(unsupported(format!(
                    "{} does not take the identifier's member {identifier_member}",
                    op.name
                )));
            }
        }
        let ArnSource::Member(arn_member) = &resource.arn else {
            return Err(unsupported(format!(
                "the ARN must be an output member in this style, not {:?}",
                resource.arn
            )));
        };
        let Some(tags) = &resource.tags else {
            return Err(unsupported(
                "kinds without tags are not supported yet".into(),
            ));
        };
        let supported_tags = tags.path.len() == 1
            && tags.api == crate::ir::TagApi::AddRemove
            && tags.remove.is_some()
            && tags.read_member.is_some()
            && tags.write_member.is_some()
            && tags.remove_member.is_some();
        if !supported_tags {
            return Err(unsupported(format!(
                "only a top-level tag field with add/remove tag calls is supported, not spec.{}",
                tags.path.join(".")
            )));
        }
        let tag_field = resource
            .spec
            .iter()
            .find(|f| f.name == tags.path[0])
            .expect("lowering checked the tag field");
        let tag_struct = match (&tags.format, &tag_field.ty) {
            (TagFormat::KeyValueList, Type::List(element)) => match &**element {
                Type::Struct(name) => Some(name.as_str()),
                _ => None,
            },
            _ => None,
        };
        if tags.format == TagFormat::KeyValueList && tag_struct.is_none() {
            return Err(unsupported(
                "the key/value tag list holds no structure".into(),
            ));
        }

        let create_input = ops.create.input.as_deref().unwrap_or_default();
        let mut create_inputs = Vec::new();
        let mut spec_reads = Vec::new();
        let mut updatable = Vec::new();
        let mut immutable = Vec::new();
        for field in &resource.spec {
            let path = format!("spec.{}", field.name);
            if field.immutable {
                immutable.push(path.clone());
            }
            match &field.source {
                Source::Member {
                    shape: s, member, ..
                } if s == create_input => {
                    create_inputs.push(field);
                    if field.name == tag_field.name {
                        continue;
                    }
                    let input_shape = member_shape(service, resource, create_input, member)?;
                    if let Some(out) = read.members.get(member)
                        && compatible(service, input_shape, &out.shape)
                    {
                        spec_reads.push(Read {
                            field,
                            member: member.clone(),
                        });
                    }
                    if member != identifier_member && update.input_members.contains_key(member) {
                        updatable.push(field);
                    }
                }
                Source::Setter | Source::Custom | Source::Reference { .. } => {}
                _ => {
                    return Err(unsupported(format!(
                        "{path} has no source the manager can read and write"
                    )));
                }
            }
        }
        let mut status_reads = Vec::new();
        let mut declared_field = None;
        for field in &resource.status {
            match &field.source {
                Source::Runtime => {}
                Source::Member {
                    shape: s, member, ..
                } if s == read_shape => {
                    status_reads.push(Read {
                        field,
                        member: member.clone(),
                    });
                }
                Source::DeclaredSetters => declared_field = Some(field),
                Source::Custom => {}
                _ => {
                    return Err(unsupported(format!(
                        "status.{} is not filled by the read call",
                        field.name
                    )));
                }
            }
        }
        for key in &resource.adoption_fields {
            if *key != identifier.name {
                return Err(unsupported(format!(
                    "adoption field {key} is not the identifier"
                )));
            }
        }
        Ok(Self {
            service,
            resource,
            read_shape,
            update,
            identifier,
            identifier_member,
            create_inputs,
            spec_reads,
            status_reads,
            updatable,
            arn_member,
            tag_field,
            tag_struct,
            declared_field,
            immutable,
        })
    }

    fn sdk(&self) -> TokenStream {
        let sdk = format_ident!("{}", self.service.sdk_crate);
        quote!(#sdk)
    }

    fn kind(&self) -> Ident {
        format_ident!("{}", self.resource.kind)
    }

    fn has_hook(&self, hook: HookPoint) -> bool {
        self.resource.hooks.contains(&hook)
    }

    fn hook_named(&self, name: &str) -> TokenStream {
        let module = format_ident!("{}", rust::module_name(self.resource));
        let name = format_ident!("{}", name);
        quote!(crate::hooks::#module::#name)
    }

    fn hook(&self, hook: HookPoint) -> TokenStream {
        self.hook_named(hook.as_str())
    }

    fn call(&self, op: &Operation) -> TokenStream {
        let method = format_ident!("{}", op.sdk_method);
        quote!(self.client.#method())
    }

    /// `.table_name(id)` for an operation.
    fn with_identifier(&self, op: &Operation, id: TokenStream) -> TokenStream {
        let setter = format_ident!("{}", op.input_members[self.identifier_member]);
        quote!(.#setter(#id))
    }

    fn shape(&self, name: &str) -> &'a SdkShape {
        &self.service.sdk_shapes[name]
    }

    /// `Option<SdkType>` for a create-input spec field of `desired`. May use `?`.
    fn spec_value(&self, field: &Field) -> TokenStream {
        convert::to_sdk_field(
            self.service,
            self.resource,
            field,
            quote!(desired.spec),
            quote!("spec"),
        )
        .expect("a model member")
    }

    /// The SDK value a setter's put takes for `value` (the field's value, a reference).
    fn setter_value(&self, field: &Field, path: &str) -> TokenStream {
        let shape = match &field.ty {
            Type::Struct(name) => self
                .service
                .find_struct(self.resource, name)
                .and_then(|s| s.shape.clone()),
            Type::Enum { shape, .. } => Some(shape.clone()),
            _ => None,
        };
        match shape {
            Some(shape) if self.service.sdk_shapes.contains_key(&shape) => convert::to_sdk_expr(
                self.service,
                self.resource,
                &field.ty,
                &shape,
                quote!(value),
                quote!(#path),
            ),
            Some(shape) if matches!(field.ty, Type::Enum { .. }) => {
                let sdk = self.sdk();
                let ty = format_ident!("{}", naming::sdk_type(&shape));
                quote!(#sdk::types::#ty::from(value.as_str()))
            }
            _ => quote!(value.clone()),
        }
    }

    pub(super) fn tokens(&self) -> TokenStream {
        let sdk = self.sdk();
        let kind = self.kind();
        let module = format_ident!("{}", rust::module_name(self.resource));
        let manager = format_ident!("{}", super::type_name(self.resource));
        let error_codes = super::error_codes(self.resource);
        let aws_error = super::aws_error_fn(self.service, self.resource);
        let module_doc = format!(
            " The {} resource manager: translates between the custom resource and {} calls.",
            self.resource.kind, self.service.service_id
        );
        let manager_doc = format!(
            " Implements the runtime's `ResourceManager` for {} with the {} SDK client.",
            self.resource.kind, self.service.service_id
        );
        let wrapped = format_ident!("{}", self.shape(self.read_shape).sdk_type);
        let latest_from = self.latest_from();
        let read_setters = self.read_setters();
        let write_setters = self.write_setters();
        let trait_impl = self.trait_impl();
        let identifier = field_ident(self.identifier);
        quote! {
            #![doc = #module_doc]

            use ack_runtime::annotations::AdoptionFields;
            use ack_runtime::manager::{Delta, ResourceManager};
            use ack_runtime::tags::{TagApiStyle, TagPlan, Tags};
            use ack_runtime::ReconcileError;
            use #sdk::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

            use super::#module::{#kind};

            #error_codes

            #[doc = #manager_doc]
            pub struct #manager {
                client: #sdk::Client,
            }

            impl #manager {
                pub fn new(client: #sdk::Client) -> Self {
                    Self { client }
                }

                #[doc = " The identifier every call after create names the resource by."]
                fn identifier(resource: &#kind) -> &str {
                    resource.spec.#identifier.as_str()
                }

                #[doc = " `desired` with what AWS reports in the read (or create / update) output."]
                fn latest_from(desired: &#kind, output: &#sdk::types::#wrapped) -> #kind {
                    #latest_from
                }

                #read_setters

                #write_setters
            }

            #trait_impl

            #aws_error
        }
    }

    fn latest_from(&self) -> TokenStream {
        let read = self.read_shape;
        // The field as a member of the read shape, for the conversions' `from_sdk_field`.
        let read_value = |r: &Read<'_>| {
            let mut field = r.field.clone();
            field.source = Source::Member {
                shape: read.to_string(),
                member: r.member.clone(),
                sdk_name: self.shape(read).members[&r.member].sdk_name.clone(),
            };
            convert::from_sdk_field(self.service, self.resource, &field, quote!(output))
                .expect("a model member")
        };
        let spec = self.spec_reads.iter().map(|r| {
            let field = field_ident(r.field);
            let value = read_value(r);
            if r.field.required {
                quote!(if let Some(v) = #value { latest.spec.#field = v; })
            } else {
                quote!(latest.spec.#field = #value;)
            }
        });
        let status = self.status_reads.iter().map(|r| {
            let field = field_ident(r.field);
            let value = read_value(r);
            quote!(status.#field = #value;)
        });
        let arn = format_ident!("{}", self.shape(read).members[self.arn_member].sdk_name);
        let hook = self.has_hook(HookPoint::AfterReadOne).then(|| {
            let hook = self.hook(HookPoint::AfterReadOne);
            quote!(#hook(desired, &mut latest, output);)
        });
        quote! {
            let mut latest = desired.clone();
            #(#spec)*
            let status = latest.status.get_or_insert_with(Default::default);
            #(#status)*
            status.ack_resource_metadata.get_or_insert_with(Default::default).arn = output.#arn.clone();
            #hook
            latest
        }
    }

    /// `read_setters`: each setter field the spec declares, as AWS has it.
    fn read_setters(&self) -> TokenStream {
        let kind = self.kind();
        let reads = self.resource.setters.iter().map(|s| {
            let field = setter_field(self.resource, s);
            let ident = field_ident(field);
            let call = self.call(&s.get);
            let id = self.with_identifier(&s.get, quote!(Self::identifier(desired)));
            let hook = self.hook_named(&format!("{}_from_aws", field.rust_name));
            let value = match &s.get_member {
                Some(m) => {
                    let m = format_ident!("{}", s.get.output_members[m]);
                    quote!(output.#m.as_ref())
                }
                None => quote!(Some(&output)),
            };
            let absent = &s.absent_codes;
            // Codes that mean "not configured" read as unset.
            let absent = (!absent.is_empty()).then(
                || quote!(Err(e) if e.code().is_some_and(|c| [#(#absent),*].contains(&c)) => None,),
            );
            quote! {
                if desired.spec.#ident.is_some() {
                    let result = #call #id .send().await;
                    latest.spec.#ident = match result {
                        Ok(output) => #hook(#value),
                        #absent
                        Err(e) => return Err(aws_error(e)),
                    };
                }
            }
        });
        quote! {
            #[doc = " Reads the setter fields `desired` declares into `latest`."]
            #[allow(unused_variables)]
            async fn read_setters(&self, desired: &#kind, latest: &mut #kind) -> Result<(), ReconcileError> {
                #(#reads)*
                Ok(())
            }
        }
    }

    /// `write_setters`: puts each setter field the spec declares that `delta` names (all
    /// declared ones without a delta).
    fn write_setters(&self) -> TokenStream {
        let kind = self.kind();
        let writes = self.resource.setters.iter().map(|s| {
            let field = setter_field(self.resource, s);
            let ident = field_ident(field);
            let path = format!("spec.{}", field.name);
            let call = self.call(&s.put);
            let id = self.with_identifier(&s.put, quote!(Self::identifier(desired)));
            let value = self.setter_value(field, &path);
            let setter = format_ident!("set_{}", s.put.input_members[&s.put_member]);
            let to_aws = s.to_aws.then(|| {
                let hook = self.hook_named(&format!("{}_to_aws", field.rust_name));
                quote! {
                    let value = &#hook(value)?;
                }
            });
            quote! {
                if let Some(value) = desired.spec.#ident.as_ref()
                    && delta.is_none_or(|d| d.contains(#path))
                {
                    #to_aws
                    #call #id .#setter(Some(#value)).send().await.map_err(aws_error)?;
                }
            }
        });
        let declared = self.declared_field.map(|f| {
            let ident = field_ident(f);
            let names = self.resource.setters.iter().map(|s| {
                let field = setter_field(self.resource, s);
                let ident = field_ident(field);
                let name = &field.name;
                quote!((#name, desired.spec.#ident.is_some()))
            });
            quote! {
                let declared: Vec<String> = [#(#names),*]
                    .into_iter()
                    .filter(|(_, set)| *set)
                    .map(|(name, _)| name.to_string())
                    .collect();
                latest.status.get_or_insert_with(Default::default).#ident =
                    Some(declared).filter(|d| !d.is_empty());
            }
        });
        quote! {
            #[doc = " Puts the setter fields `desired` declares (those in `delta`, when given)."]
            #[allow(unused_variables)]
            async fn write_setters(&self, desired: &#kind, latest: &mut #kind, delta: Option<&Delta>) -> Result<(), ReconcileError> {
                #(#writes)*
                #declared
                Ok(())
            }
        }
    }

    fn trait_impl(&self) -> TokenStream {
        let kind = self.kind();
        let manager = format_ident!("{}", super::type_name(self.resource));
        let alias = &self.service.alias;
        let adoption_keys = &self.resource.adoption_fields;
        let immutable = &self.immutable;
        let methods = [
            self.apply_adoption_fields(),
            self.read_one(),
            self.create(),
            self.update(),
            self.delete(),
            self.delta(),
            self.late_initialize(),
            self.is_synced(),
            quote! {
                fn arn(&self, latest: &#kind) -> Option<String> {
                    latest.status.as_ref()?.ack_resource_metadata.as_ref()?.arn.clone()
                }
            },
            self.tags_methods(),
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
        let ident = field_ident(self.identifier);
        let key = &self.identifier.name;
        let hook = self.has_hook(HookPoint::AfterAdoptionFields).then(|| {
            let hook = self.hook(HookPoint::AfterAdoptionFields);
            quote!(#hook(resource)?;)
        });
        quote! {
            fn apply_adoption_fields(&self, resource: &mut #kind, fields: &AdoptionFields) -> Result<(), ReconcileError> {
                if let Some(value) = fields.get(#key) {
                    resource.spec.#ident = value.to_string();
                }
                #hook
                Ok(())
            }
        }
    }

    fn read_one(&self) -> TokenStream {
        let kind = self.kind();
        let read = &self.resource.operations.read_one;
        let call = self.call(read);
        let id = self.with_identifier(read, quote!(Self::identifier(desired)));
        let wrapper = format_ident!(
            "{}",
            read.output_members[read.output_wrapper.as_deref().expect("checked")]
        );
        quote! {
            async fn read_one(&self, desired: &#kind) -> Result<Option<#kind>, ReconcileError> {
                let output = match #call #id .send().await.map_err(aws_error) {
                    Ok(output) => output,
                    Err(ReconcileError::NotFound) => return Ok(None),
                    Err(e) => return Err(e),
                };
                let Some(wrapped) = output.#wrapper.as_ref() else {
                    return Ok(None);
                };
                let mut latest = Self::latest_from(desired, wrapped);
                self.read_setters(desired, &mut latest).await?;
                Ok(Some(latest))
            }
        }
    }

    fn create(&self) -> TokenStream {
        let kind = self.kind();
        let create = &self.resource.operations.create;
        let call = self.call(create);
        let inputs = self.create_inputs.iter().map(|field| {
            let Source::Member { member, .. } = &field.source else {
                unreachable!("create inputs are members")
            };
            let setter = format_ident!("set_{}", create.input_members[member]);
            let value = self.spec_value(field);
            quote!(.#setter(#value))
        });
        let wrapper = format_ident!(
            "{}",
            create.output_members[create.output_wrapper.as_deref().expect("checked")]
        );
        let synced = self.synced_call(quote!(&latest));
        let hook = self.has_hook(HookPoint::BeforeCreate).then(|| {
            let hook = self.hook(HookPoint::BeforeCreate);
            quote!(#hook(desired)?;)
        });
        quote! {
            async fn create(&self, desired: &#kind) -> Result<#kind, ReconcileError> {
                #hook
                let output = #call
                    #(#inputs)*
                    .send()
                    .await
                    .map_err(aws_error)?;
                let mut latest = match output.#wrapper.as_ref() {
                    Some(wrapped) => Self::latest_from(desired, wrapped),
                    None => desired.clone(),
                };
                // Setters wait until the resource is ready; the next reconcile's delta puts them.
                if #synced {
                    self.write_setters(desired, &mut latest, None).await?;
                }
                Ok(latest)
            }
        }
    }

    fn synced_call(&self, latest: TokenStream) -> TokenStream {
        if self.has_hook(HookPoint::IsSynced) {
            let hook = self.hook(HookPoint::IsSynced);
            quote!(#hook(#latest))
        } else {
            quote!(true)
        }
    }

    fn update(&self) -> TokenStream {
        let kind = self.kind();
        let update = self.update;
        let call = self.call(update);
        let id = self.with_identifier(update, quote!(Self::identifier(desired)));
        let fields = self.updatable.iter().map(|field| {
            let Source::Member { member, .. } = &field.source else {
                unreachable!("updatable fields are members")
            };
            let path = format!("spec.{}", field.name);
            let setter = format_ident!("set_{}", update.input_members[member]);
            // The update input's member is the create input's (same name, same shape).
            let value = self.spec_value(field);
            let set = quote!(input = input.#setter(#value););
            quote! {
                if group.contains(#path) {
                    #set
                    handled.push(#path);
                }
            }
        });
        let setter_paths: Vec<String> = self
            .resource
            .setters
            .iter()
            .map(|s| format!("spec.{}", setter_field(self.resource, s).name))
            .collect();
        let groups = if self.has_hook(HookPoint::BeforeUpdate) {
            let hook = self.hook(HookPoint::BeforeUpdate);
            quote!(#hook(desired, &updated, &pending))
        } else {
            quote!(vec![pending.clone()])
        };
        let custom = if self.has_hook(HookPoint::BeforeUpdate) {
            let hook = self.hook_named("update_input");
            quote! {
                let rest = Delta {
                    paths: group.paths.iter().filter(|p| !handled.contains(&p.as_str())).cloned().collect(),
                };
                input = #hook(desired, &updated, &group, &rest, input)?;
            }
        } else {
            quote! {
                if let Some(path) = group.paths.iter().find(|p| !handled.contains(&p.as_str())) {
                    return Err(ReconcileError::terminal(
                        "UnsupportedUpdate",
                        format!("{path} cannot be changed by this controller"),
                    ));
                }
            }
        };
        let wrapper = update
            .output_wrapper
            .as_deref()
            .map(|w| format_ident!("{}", update.output_members[w]));
        let read_back = match &wrapper {
            Some(w) => quote! {
                if let Some(wrapped) = output.#w.as_ref() {
                    updated = Self::latest_from(desired, wrapped);
                }
            },
            None => quote!(let _ = output;),
        };
        // Without an is_synced hook every answer counts as applied. While AWS is converging
        // (before the first call too) the rest, setters included, waits: the runtime reads again
        // after every update and stays unsynced, requeued soon, until nothing differs.
        let wait_for_aws = self.has_hook(HookPoint::IsSynced).then(|| {
            let synced = self.synced_call(quote!(&updated));
            quote! {
                if !(#synced) {
                    return Ok(updated);
                }
            }
        });
        let setter_idents: Vec<_> = self
            .resource
            .setters
            .iter()
            .map(|s| field_ident(setter_field(self.resource, s)))
            .collect();
        let comparable = if setter_idents.is_empty() {
            quote!(let comparable = |resource: &#kind| resource.spec.clone();)
        } else {
            quote! {
                let comparable = |resource: &#kind| {
                    let mut spec = resource.spec.clone();
                    #(spec.#setter_idents = None;)*
                    spec
                };
            }
        };
        quote! {
            async fn update(&self, desired: &#kind, latest: &#kind, delta: &Delta) -> Result<#kind, ReconcileError> {
                #[doc = " At most this many update calls per reconcile."]
                const MAX_CALLS: usize = 16;
                const SETTER_PATHS: &[&str] = &[#(#setter_paths),*];
                let without_setters = |delta: &Delta| Delta {
                    paths: delta.paths.iter().filter(|p| !SETTER_PATHS.contains(&p.as_str())).cloned().collect(),
                };
                // What the update calls report, setter fields aside (they are read separately).
                #comparable
                let mut updated = latest.clone();
                let mut pending = without_setters(delta);
                // One call per group of changes; what follows a call is worked out again from
                // what AWS answered.
                for _ in 0..MAX_CALLS {
                    if pending.is_empty() {
                        break;
                    }
                    #wait_for_aws
                    let Some(group) = #groups.into_iter().next() else {
                        break;
                    };
                    let mut handled: Vec<&str> = Vec::new();
                    let mut input = #call #id;
                    #(#fields)*
                    #custom
                    let output = input.send().await.map_err(aws_error)?;
                    let before = comparable(&updated);
                    #read_back
                    pending = without_setters(&self.delta(desired, &updated));
                    // AWS shows no change (or none yet): the rest waits for a later reconcile.
                    if pending.is_empty() || comparable(&updated) == before {
                        break;
                    }
                }
                self.write_setters(desired, &mut updated, Some(delta)).await?;
                Ok(updated)
            }
        }
    }

    fn delete(&self) -> TokenStream {
        let kind = self.kind();
        let delete = &self.resource.operations.delete;
        let call = self.call(delete);
        let id = self.with_identifier(delete, quote!(Self::identifier(latest)));
        let hook = self.has_hook(HookPoint::BeforeDelete).then(|| {
            let hook = self.hook(HookPoint::BeforeDelete);
            quote!(#hook(&self.client, latest).await?;)
        });
        quote! {
            async fn delete(&self, latest: &#kind) -> Result<(), ReconcileError> {
                #hook
                #call #id .send().await.map_err(aws_error)?;
                Ok(())
            }
        }
    }

    fn delta(&self) -> TokenStream {
        let kind = self.kind();
        let compared: Vec<&Field> = self
            .resource
            .spec
            .iter()
            .filter(|f| f.name != self.tag_field.name)
            .filter(|f| matches!(f.source, Source::Member { .. } | Source::Setter))
            .collect();
        let required = compared.iter().filter(|f| f.required).map(|f| {
            let path = format!("spec.{}", f.name);
            let field = field_ident(f);
            quote! {
                if desired.spec.#field != latest.spec.#field {
                    paths.push(#path.to_string());
                }
            }
        });
        let optional = compared.iter().filter(|f| !f.required).map(|f| {
            let path = format!("spec.{}", f.name);
            let field = field_ident(f);
            quote! {
                if desired.spec.#field.is_some() && desired.spec.#field != latest.spec.#field {
                    paths.push(#path.to_string());
                }
            }
        });
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
                let mut paths = Vec::new();
                #(#required)*
                // Unset fields are AWS's to choose.
                #(#optional)*
                #finish
            }
        }
    }

    fn late_initialize(&self) -> TokenStream {
        if !self.has_hook(HookPoint::LateInitialize) {
            return TokenStream::new();
        }
        let kind = self.kind();
        let hook = self.hook(HookPoint::LateInitialize);
        quote! {
            fn late_initialize(&self, desired: &mut #kind, latest: &#kind) -> bool {
                #hook(desired, latest)
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

    /// The value of the tag-call member that addresses the resource: the identifier, else the
    /// ARN.
    fn tags_methods(&self) -> TokenStream {
        super::tag_calls::TagCalls {
            service: self.service,
            resource: self.resource,
            tag_field: self.tag_field,
            tag_struct: self.tag_struct,
            identifier_member: self.identifier_member,
            identifier: quote!(Self::identifier(latest).to_string()),
        }
        .methods()
    }
}

fn setter_field<'a>(resource: &'a Resource, setter: &Setter) -> &'a Field {
    resource
        .spec
        .iter()
        .find(|f| f.name == setter.field)
        .expect("lowering adds a field per setter")
}

fn shape<'a>(service: &'a Service, resource: &Resource, name: &str) -> Result<&'a SdkShape, Error> {
    service
        .sdk_shapes
        .get(name)
        .ok_or_else(|| unsupported(resource, format!("shape {name} is not in the IR")))
}

fn member_shape<'a>(
    service: &'a Service,
    resource: &Resource,
    shape_name: &str,
    member: &str,
) -> Result<&'a str, Error> {
    shape(service, resource, shape_name)?
        .members
        .get(member)
        .map(|m| m.shape.as_str())
        .ok_or_else(|| unsupported(resource, format!("{shape_name} has no member {member}")))
}

/// Two shapes hold the same value: the same shape, or scalars of one kind (`TableArn` and
/// `TableName` are both strings).
fn compatible(service: &Service, a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (Some(x), Some(y)) = (service.sdk_shapes.get(a), service.sdk_shapes.get(b)) else {
        return false;
    };
    let scalar = |s: &SdkShape| {
        !matches!(
            s.kind,
            ShapeKind::Structure | ShapeKind::List | ShapeKind::Map
        )
    };
    scalar(x) && scalar(y) && x.kind == y.kind && x.is_enum == y.is_enum
}
