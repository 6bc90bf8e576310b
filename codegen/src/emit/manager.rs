//! IR → a resource manager for `services/<svc>/src/generated/<kind>_manager.rs`: `<Kind>Manager`,
//! which implements the runtime's `ResourceManager` with the service's SDK client. The generated
//! code only translates between the CR and AWS calls; adoption, tags, conditions and requeueing
//! stay in the runtime, and service quirks in hand-written hooks.
//!
//! Supported today: the **attribute-map style** (SQS) — a create call taking identifying spec
//! fields, the attribute map and the tags; a read call returning the attribute map; an update
//! call taking changed attributes; a delete call; add/remove tag calls on a `map` tag field; an
//! ARN that is an attribute. Every call after create names the resource by the identifier, taken
//! from the status and, while it is not there yet, found with the `lookup` call. Anything else
//! (setters, output wrappers, list-shaped tags, ARN templates, …) is refused with an error that
//! names it, so a manager never silently ignores part of a spec.
//!
//! The **setter style** (S3's Bucket: no update call, every sub-configuration a setter with its
//! own put / get / delete calls, declared-field semantics, full-replacement tags, an ARN
//! template) is [`setters`], with its own hook table.
//!
//! The **output-wrapper style** (DynamoDB's Table: create / read outputs that wrap the resource,
//! setters, key/value tag lists addressed by ARN) is [`describe`], with its own hook table.
//!
//! Hooks the config lists are called as `crate::hooks::<kind module>::<hook>`:
//!
//! | hook                    | signature                                                        |
//! |-------------------------|------------------------------------------------------------------|
//! | `after_read_one`        | `fn(desired: &K, latest: &mut K)`                                |
//! | `delta`                 | `fn(desired: &K, latest: &K, delta: &mut Delta)`                 |
//! | `late_initialize`       | `fn(desired: &mut K, latest: &K) -> bool` (after the generated)  |
//! | `is_synced`             | `fn(latest: &K) -> bool`                                         |
//! | `after_adoption_fields` | `fn(resource: &mut K) -> Result<(), ReconcileError>`             |

pub mod describe;
mod plan;
mod setters;
mod tag_calls;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::rust::{self, field_ident};
use crate::Error;
use crate::ir::{HookPoint, Operation, Resource, Service, Source, Type};
use plan::Plan;

/// `create_takes_tags` for a kind whose create call carries its tags (else the default).
fn create_takes_tags(tags: &crate::ir::Tags) -> TokenStream {
    if tags.with_create {
        quote! {
            fn create_takes_tags(&self) -> bool {
                true
            }
        }
    } else {
        TokenStream::new()
    }
}

/// The module (and file stem) of a kind's manager: `Queue` → `queue_manager`.
pub fn module_name(resource: &Resource) -> String {
    format!("{}_manager", rust::module_name(resource))
}

/// The manager's type name: `Queue` → `QueueManager`.
pub fn type_name(resource: &Resource) -> String {
    format!("{}Manager", resource.kind)
}

/// `generated/<kind>_manager.rs`.
pub fn emit(service: &Service, resource: &Resource) -> Result<String, Error> {
    if describe::applies(resource) {
        let tokens = describe::Describe::new(service, resource)?.tokens();
        return rust::render(&format!("{}.rs", module_name(resource)), tokens);
    }
    if setters::applies(resource) {
        return setters::emit(service, resource);
    }
    let plan = Plan::new(service, resource)?;
    let tokens = plan.tokens();
    rust::render(&format!("{}.rs", module_name(resource)), tokens)
}

/// Token building, one method per generated item.
impl Plan<'_> {
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

    /// `crate::hooks::<kind module>::<hook>`.
    fn hook(&self, hook: HookPoint) -> TokenStream {
        let module = format_ident!("{}", rust::module_name(self.resource));
        let name = format_ident!("{}", hook.as_str());
        quote!(crate::hooks::#module::#name)
    }

    /// `client.<method>()` for an operation.
    fn call(&self, op: &Operation) -> TokenStream {
        let method = format_ident!("{}", op.sdk_method);
        quote!(self.client.#method())
    }

    /// The builder method that gives `op` the identifier.
    fn identifier_setter(&self, op: &Operation) -> Ident {
        format_ident!("{}", op.input_members[self.identifier_member])
    }

    fn attribute_key_type(&self) -> TokenStream {
        match &self.attributes.key_sdk_type {
            Some(ty) => {
                let sdk = self.sdk();
                let ty = format_ident!("{ty}");
                quote!(#sdk::types::#ty)
            }
            None => quote!(String),
        }
    }

    /// The identifier of `resource` as an `Option<&str>`.
    fn identifier_of(&self, resource: TokenStream) -> TokenStream {
        let field = field_ident(self.identifier);
        if self.identifier_in_status && self.identifier_is_arn {
            // ACK keeps an ARN identifier only in the shared metadata.
            quote!(#resource.status.as_ref().and_then(|s| {
                s.#field
                    .as_deref()
                    .or_else(|| s.ack_resource_metadata.as_ref().and_then(|m| m.arn.as_deref()))
            }))
        } else if self.identifier_in_status {
            quote!(#resource.status.as_ref().and_then(|s| s.#field.as_deref()))
        } else if self.identifier.required {
            quote!(Some(#resource.spec.#field.as_str()))
        } else {
            quote!(#resource.spec.#field.as_deref())
        }
    }

    fn tokens(&self) -> TokenStream {
        let sdk = self.sdk();
        let kind = self.kind();
        let spec = format_ident!("{}Spec", self.resource.kind);
        let module = format_ident!("{}", rust::module_name(self.resource));
        let manager = format_ident!("{}", type_name(self.resource));
        let error_codes = error_codes(self.resource);
        let aws_error = aws_error_fn(self.service, self.resource);
        let module_doc = format!(
            " The {} resource manager: translates between the custom resource and {} calls.",
            self.resource.kind, self.service.service_id
        );
        let manager_doc = format!(
            " Implements the runtime's `ResourceManager` for {} with the {} SDK client.",
            self.resource.kind, self.service.service_id
        );
        let identifier_path = self.identifier_path();
        let missing_identifier = format!("the resource has no {identifier_path} yet");
        let identifier_of = self.identifier_of(quote!(resource));
        let find_identifier = self.find_identifier();
        let trait_impl = self.trait_impl();
        let key_type = self.attribute_key_type();
        // Without an "all" key, the read asks for each attribute the resource maps.
        let attribute_keys = (self.attributes.names_member.is_some()
            && self.attributes.all_key.is_none())
        .then(|| {
            let keys = self
                .spec_attributes
                .iter()
                .chain(&self.status_attributes)
                .map(|a| a.key);
            quote! {
                #[doc = " The attributes read back from AWS."]
                const ATTRIBUTE_KEYS: &[&str] = &[#(#keys),*];
            }
        });
        let create_attributes = self.create_attributes();
        quote! {
            #![doc = #module_doc]

            use std::collections::HashMap;

            use ack_runtime::annotations::AdoptionFields;
            use ack_runtime::manager::{Delta, ResourceManager};
            use ack_runtime::tags::{TagApiStyle, TagPlan, Tags};
            use ack_runtime::ReconcileError;
            use #sdk::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

            use super::#module::{#kind, #spec};

            #error_codes
            #attribute_keys

            #[doc = #manager_doc]
            pub struct #manager {
                client: #sdk::Client,
            }

            impl #manager {
                pub fn new(client: #sdk::Client) -> Self {
                    Self { client }
                }

                #[doc = " The identifier of a resource that exists."]
                fn identifier(resource: &#kind) -> Result<&str, ReconcileError> {
                    #identifier_of.ok_or_else(|| {
                        ReconcileError::recoverable("MissingIdentifier", #missing_identifier)
                    })
                }

                #find_identifier
            }

            #trait_impl

            #create_attributes

            #[doc = " The value AWS reports for one attribute."]
            fn attribute(attributes: &HashMap<#key_type, String>, key: &str) -> Option<String> {
                attributes.get(&#key_type::from(key)).cloned()
            }

            #aws_error
        }
    }

    fn identifier_path(&self) -> String {
        let part = if self.identifier_in_status {
            "status"
        } else {
            "spec"
        };
        format!("{part}.{}", self.identifier.name)
    }

    /// `find_identifier`: from the resource, else with the lookup call.
    fn find_identifier(&self) -> TokenStream {
        let kind = self.kind();
        let identifier_of = self.identifier_of(quote!(resource));
        let Some(lookup) = &self.resource.lookup else {
            return quote! {
                #[doc = " The identifier, when the resource names one."]
                async fn find_identifier(&self, resource: &#kind) -> Result<Option<String>, ReconcileError> {
                    Ok(#identifier_of.map(str::to_string))
                }
            };
        };
        let call = self.call(lookup);
        let inputs = lookup.input_members.iter().filter_map(|(member, setter)| {
            let field = self
                .create_inputs
                .iter()
                .find(|f| matches!(&f.source, Source::Member { member: m, .. } if m == member))?;
            let ident = field_ident(field);
            Some(if field.required {
                let setter = format_ident!("{setter}");
                quote!(.#setter(&resource.spec.#ident))
            } else {
                let setter = format_ident!("set_{setter}");
                quote!(.#setter(resource.spec.#ident.clone()))
            })
        });
        let output = format_ident!("{}", lookup.output_members[self.identifier_member]);
        let doc = format!(
            " The identifier from the resource, else found with {}; `None` when AWS has no such \
             resource.",
            lookup.name
        );
        quote! {
            #[doc = #doc]
            async fn find_identifier(&self, resource: &#kind) -> Result<Option<String>, ReconcileError> {
                if let Some(id) = #identifier_of {
                    return Ok(Some(id.to_string()));
                }
                match #call #(#inputs)* .send().await.map_err(aws_error) {
                    Ok(output) => Ok(output.#output),
                    Err(ReconcileError::NotFound) => Ok(None),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// `create_attributes`: the attribute map of a spec, for the create call.
    fn create_attributes(&self) -> TokenStream {
        let spec = format_ident!("{}Spec", self.resource.kind);
        let key_type = self.attribute_key_type();
        let pairs = self.spec_attributes.iter().map(|a| {
            let key = a.key;
            let field = field_ident(a.field);
            quote!((#key, &spec.#field))
        });
        quote! {
            #[doc = " The attributes a spec sets."]
            fn create_attributes(spec: &#spec) -> HashMap<#key_type, String> {
                [#(#pairs),*]
                    .into_iter()
                    .filter_map(|(key, value)| Some((#key_type::from(key), value.clone()?)))
                    .collect()
            }
        }
    }

    fn trait_impl(&self) -> TokenStream {
        let manager = format_ident!("{}", type_name(self.resource));
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
            self.arn(),
            self.tags_methods(),
        ];
        resource_manager_impl(
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
            let key = if key == crate::lower::ARN_ADOPTION_KEY && self.identifier_is_arn {
                // ACK's `arn` key names a kind whose identifier is its ARN.
                let ident = field_ident(self.identifier);
                return quote! {
                    if let Some(value) = fields.get(#key) {
                        resource.status.get_or_insert_with(Default::default).#ident = Some(value.to_string());
                    }
                };
            } else {
                key
            };
            let in_status = self.resource.status.iter().find(|f| f.name == *key);
            let field = in_status
                .or_else(|| self.resource.spec.iter().find(|f| f.name == *key))
                .expect("checked in Plan::new");
            let ident = field_ident(field);
            let write = match (in_status.is_some(), field.required) {
                (true, _) => quote! {
                    resource.status.get_or_insert_with(Default::default).#ident = Some(value.to_string());
                },
                (false, true) => quote!(resource.spec.#ident = value.to_string();),
                (false, false) => quote!(resource.spec.#ident = Some(value.to_string());),
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
        let read = &self.resource.operations.read_one;
        let call = self.call(read);
        let id_setter = self.identifier_setter(read);
        let output_member = format_ident!("{}", read.output_members[&self.attributes.member]);
        let names = self.attributes.names_member.as_ref().map(|member| {
            let setter = format_ident!("set_{}", read.input_members[member]);
            let key_type = self.attribute_key_type();
            match &self.attributes.all_key {
                Some(all) => quote!(.#setter(Some(vec![#key_type::from(#all)]))),
                None => quote!(.#setter(Some(ATTRIBUTE_KEYS.iter().map(|key| #key_type::from(*key)).collect()))),
            }
        });
        let spec_fills = self.spec_attributes.iter().map(|a| {
            let field = field_ident(a.field);
            let key = a.key;
            quote!(latest.spec.#field = attribute(&attributes, #key);)
        });
        let member_fills = self.attributes.read_members.iter().map(|member| {
            let field = self
                .create_inputs
                .iter()
                .find(|f| matches!(&f.source, Source::Member { member: m, .. } if m == member))
                .expect("Plan::new checked the read members");
            let ident = field_ident(field);
            if field.required {
                quote! {
                    if let Some(value) = attribute(&attributes, #member) {
                        latest.spec.#ident = value;
                    }
                }
            } else {
                quote!(latest.spec.#ident = attribute(&attributes, #member).or(latest.spec.#ident);)
            }
        });
        let status_fills = self.status_attributes.iter().map(|a| {
            let field = field_ident(a.field);
            let key = a.key;
            quote!(status.#field = attribute(&attributes, #key);)
        });
        let identifier_fill = self.identifier_in_status.then(|| {
            let field = field_ident(self.identifier);
            quote!(status.#field = Some(id);)
        });
        let hook = self.has_hook(HookPoint::AfterReadOne).then(|| {
            let hook = self.hook(HookPoint::AfterReadOne);
            quote!(#hook(desired, &mut latest);)
        });
        quote! {
            async fn read_one(&self, desired: &#kind) -> Result<Option<#kind>, ReconcileError> {
                let Some(id) = self.find_identifier(desired).await? else {
                    return Ok(None);
                };
                let output = match #call.#id_setter(&id) #names .send().await.map_err(aws_error) {
                    Ok(output) => output,
                    Err(ReconcileError::NotFound) => return Ok(None),
                    Err(e) => return Err(e),
                };
                let attributes = output.#output_member.unwrap_or_default();
                let mut latest = desired.clone();
                #(#spec_fills)*
                #(#member_fills)*
                let status = latest.status.get_or_insert_with(Default::default);
                #(#status_fills)*
                #identifier_fill
                #hook
                Ok(Some(latest))
            }
        }
    }

    fn create(&self) -> TokenStream {
        let kind = self.kind();
        let create = &self.resource.operations.create;
        let call = self.call(create);
        let attributes_setter =
            format_ident!("set_{}", create.input_members[&self.attributes.member]);
        let inputs = self.create_inputs.iter().map(|field| {
            let Source::Member { sdk_name, .. } = &field.source else {
                unreachable!("create inputs are members")
            };
            let ident = field_ident(field);
            match (&field.ty, field.required) {
                (Type::List(_), _) => {
                    let setter = format_ident!("set_{sdk_name}");
                    let value = super::convert::to_sdk_field(
                        self.service,
                        self.resource,
                        field,
                        quote!(desired.spec),
                        quote!("spec"),
                    )
                    .expect("a model member");
                    quote!(.#setter(#value))
                }
                (Type::Map(_), _) => {
                    let setter = format_ident!("set_{sdk_name}");
                    quote!(.#setter(desired.spec.#ident.clone().map(|m| m.into_iter().collect())))
                }
                (_, true) => {
                    let setter = format_ident!("{sdk_name}");
                    quote!(.#setter(&desired.spec.#ident))
                }
                (_, false) => {
                    let setter = format_ident!("set_{sdk_name}");
                    quote!(.#setter(desired.spec.#ident.clone()))
                }
            }
        });
        let outputs = self.create_outputs.iter().map(|field| {
            let Source::Member { sdk_name, .. } = &field.source else {
                unreachable!("create outputs are members")
            };
            let ident = field_ident(field);
            let sdk_name = format_ident!("{sdk_name}");
            quote!(status.#ident = output.#sdk_name;)
        });
        quote! {
            async fn create(&self, desired: &#kind) -> Result<#kind, ReconcileError> {
                let attributes = create_attributes(&desired.spec);
                let output = #call
                    #(#inputs)*
                    .#attributes_setter(Some(attributes).filter(|a| !a.is_empty()))
                    .send()
                    .await
                    .map_err(aws_error)?;
                let mut created = desired.clone();
                let status = created.status.get_or_insert_with(Default::default);
                #(#outputs)*
                // The create output lacks most attributes (the ARN among them).
                Ok(self.read_one(&created).await?.unwrap_or(created))
            }
        }
    }

    fn update(&self) -> TokenStream {
        let kind = self.kind();
        let call = self.call(self.update);
        let id_setter = self.identifier_setter(self.update);
        let key_type = self.attribute_key_type();
        let updatable = self
            .spec_attributes
            .iter()
            .filter(|a| !self.attributes.create_only.iter().any(|k| k == a.key))
            .map(|a| {
                let key = a.key;
                let path = format!("spec.{}", a.field.name);
                let field = field_ident(a.field);
                quote!((#key, #path, &desired.spec.#field, &mut updated.spec.#field))
            });
        let send = match &self.attributes.single {
            // One call per changed attribute, in a fixed order (the map's keys are sorted).
            Some((name, value)) => {
                let name = format_ident!("{}", self.update.input_members[name]);
                let value = format_ident!("{}", self.update.input_members[value]);
                quote! {
                    let id = Self::identifier(latest)?;
                    let mut attributes: Vec<_> = attributes.into_iter().collect();
                    attributes.sort();
                    for (key, value) in attributes {
                        #call.#id_setter(id).#name(key).#value(value).send().await.map_err(aws_error)?;
                    }
                }
            }
            None => {
                let attributes_setter =
                    format_ident!("set_{}", self.update.input_members[&self.attributes.member]);
                quote! {
                    if !attributes.is_empty() {
                        #call
                            .#id_setter(Self::identifier(latest)?)
                            .#attributes_setter(Some(attributes))
                            .send()
                            .await
                            .map_err(aws_error)?;
                    }
                }
            }
        };
        quote! {
            async fn update(&self, desired: &#kind, latest: &#kind, delta: &Delta) -> Result<#kind, ReconcileError> {
                let mut attributes: HashMap<#key_type, String> = HashMap::new();
                let mut updated = latest.clone();
                for (key, path, wanted, applied) in [#(#updatable),*] {
                    if let Some(value) = wanted.as_ref().filter(|_| delta.contains(path)) {
                        attributes.insert(#key_type::from(key), value.clone());
                        *applied = Some(value.clone());
                    }
                }
                #send
                // Not read back: AWS may take a while to show new attribute values.
                Ok(updated)
            }
        }
    }

    fn delete(&self) -> TokenStream {
        let kind = self.kind();
        let delete = &self.resource.operations.delete;
        let call = self.call(delete);
        let id_setter = self.identifier_setter(delete);
        quote! {
            async fn delete(&self, latest: &#kind) -> Result<(), ReconcileError> {
                #call.#id_setter(Self::identifier(latest)?).send().await.map_err(aws_error)?;
                Ok(())
            }
        }
    }

    fn delta(&self) -> TokenStream {
        let kind = self.kind();
        let required = self.create_inputs.iter().filter(|f| f.required).map(|f| {
            let path = format!("spec.{}", f.name);
            let field = field_ident(f);
            quote! {
                if desired.spec.#field != latest.spec.#field {
                    paths.push(#path.to_string());
                }
            }
        });
        let optional = self
            .create_inputs
            .iter()
            .copied()
            .filter(|f| !f.required && self.tag_field.is_none_or(|t| t.name != f.name))
            .chain(self.spec_attributes.iter().map(|a| a.field))
            .map(|f| {
                let path = format!("spec.{}", f.name);
                let field = field_ident(f);
                quote!((#path, &desired.spec.#field, &latest.spec.#field))
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
                for (path, wanted, actual) in [#(#optional),*] {
                    if wanted.is_some() && wanted != actual {
                        paths.push(path.to_string());
                    }
                }
                #finish
            }
        }
    }

    fn late_initialize(&self) -> TokenStream {
        let kind = self.kind();
        let pairs = self.spec_attributes.iter().map(|a| {
            let field = field_ident(a.field);
            quote!((&mut desired.spec.#field, &latest.spec.#field))
        });
        let hook = self.has_hook(HookPoint::LateInitialize).then(|| {
            let hook = self.hook(HookPoint::LateInitialize);
            quote!(changed |= #hook(desired, latest);)
        });
        quote! {
            fn late_initialize(&self, desired: &mut #kind, latest: &#kind) -> bool {
                let mut changed = false;
                // Attributes left unset take the values AWS chose, so they show in the spec.
                for (wanted, actual) in [#(#pairs),*] {
                    if wanted.is_none() && actual.is_some() {
                        wanted.clone_from(actual);
                        changed = true;
                    }
                }
                #hook
                changed
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
        let field = field_ident(self.arn);
        let in_status = self
            .status_attributes
            .iter()
            .any(|a| a.field.name == self.arn.name)
            || (self.identifier_is_arn && self.identifier_in_status);
        let value = if in_status {
            quote!(latest.status.as_ref().and_then(|s| s.#field.clone()))
        } else {
            quote!(latest.spec.#field.clone())
        };
        quote! {
            fn arn(&self, latest: &#kind) -> Option<String> {
                #value
            }
        }
    }

    fn tags_methods(&self) -> TokenStream {
        let Some(tag_field) = self.tag_field else {
            return no_tags(&self.kind());
        };
        tag_calls::TagCalls {
            service: self.service,
            resource: self.resource,
            tag_field,
            tag_struct: self.tag_struct,
            identifier_member: self.identifier_member,
            identifier: quote!(Self::identifier(latest)?.to_string()),
        }
        .methods()
    }
}

/// The tag methods of a kind AWS keeps no tags for (SNS's Subscription): the runtime sends
/// and expects none.
fn no_tags(kind: &Ident) -> TokenStream {
    quote! {
        fn has_tags(&self) -> bool {
            false
        }

        fn tag_api_style(&self) -> TagApiStyle {
            TagApiStyle::AddRemove
        }

        fn spec_tags(&self, _resource: &#kind) -> Option<Tags> {
            None
        }

        fn set_spec_tags(&self, _resource: &mut #kind, _tags: Tags) {}

        async fn read_tags(&self, _latest: &#kind) -> Result<Tags, ReconcileError> {
            Ok(Tags::new())
        }

        async fn sync_tags(&self, _latest: &#kind, _plan: &TagPlan) -> Result<(), ReconcileError> {
            Ok(())
        }
    }
}

/// The error-code constants every manager style classifies SDK errors with.
fn error_codes(resource: &Resource) -> TokenStream {
    let errors = &resource.errors;
    let (terminal, recoverable, not_found) =
        (&errors.terminal, &errors.recoverable, &errors.not_found);
    quote! {
        #[doc = " AWS error codes that need the user to change something."]
        const TERMINAL_CODES: &[&str] = &[#(#terminal),*];
        #[doc = " AWS error codes that are transient although sent as client errors."]
        const RECOVERABLE_CODES: &[&str] = &[#(#recoverable),*];
        #[doc = " AWS error codes meaning the resource does not exist."]
        const NOT_FOUND_CODES: &[&str] = &[#(#not_found),*];
    }
}

/// `aws_error`: an SDK error classified with the constants of [`error_codes`]; codes the config
/// calls recoverable are recoverable whatever their HTTP status.
fn aws_error_fn(service: &Service, resource: &Resource) -> TokenStream {
    let inner = &resource.errors.inner_calls;
    if inner.is_empty() {
        return aws_error_body(TokenStream::new(), TokenStream::new());
    }
    // The SDK boxes an inner call's `SdkError` into the failed call's error: found by walking
    // the error's sources.
    let sdk = format_ident!("{}", service.sdk_crate);
    let checks = inner.iter().map(|op| {
        let module = format_ident!("{}", op.sdk_method);
        let error = format_ident!("{}Error", op.name);
        let name = &op.name;
        quote! {
            if let Some(e) = s.downcast_ref::<SdkError<#sdk::operation::#module::#error>>()
                && let Some(code) = e.code()
            {
                let message = format!("{} (called by the SDK first): {}", #name, e.message().unwrap_or(code));
                return Some((code.to_string(), message, e.raw_response().map(|r| r.status().as_u16())));
            }
        }
    });
    let prelude = quote! {
        if error.code().is_none()
            && let Some((code, message, status)) = inner_call_error(&error)
        {
            return match code.as_str() {
                c if RECOVERABLE_CODES.contains(&c) => ReconcileError::recoverable(c, message),
                c => ReconcileError::from_aws(Some(c), message, status, TERMINAL_CODES, NOT_FOUND_CODES),
            };
        }
    };
    let helper = quote! {
        #[doc = " The code, message and status of a call the SDK made by itself inside the failed one"]
        #[doc = " (the config's `errors.inner_calls`)."]
        fn inner_call_error(error: &(dyn std::error::Error + 'static)) -> Option<(String, String, Option<u16>)> {
            let mut source = error.source();
            while let Some(s) = source {
                #(#checks)*
                source = s.source();
            }
            None
        }
    };
    aws_error_body(prelude, helper)
}

fn aws_error_body(prelude: TokenStream, helper: TokenStream) -> TokenStream {
    quote! {
        #[doc = " Classifies an SDK error with this resource's error codes."]
        fn aws_error<E>(error: SdkError<E>) -> ReconcileError
        where
            E: ProvideErrorMetadata + std::error::Error + 'static,
        {
            #prelude
            let status = error.raw_response().map(|r| r.status().as_u16());
            let code = error.code().map(str::to_string);
            let message = error
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| DisplayErrorContext(&error).to_string());
            match code.as_deref() {
                Some(c) if RECOVERABLE_CODES.contains(&c) => ReconcileError::recoverable(c, message),
                c => ReconcileError::from_aws(c, message, status, TERMINAL_CODES, NOT_FOUND_CODES),
            }
        }

        #helper
    }
}

/// The `impl ResourceManager` every manager style fills with its own methods.
fn resource_manager_impl<A, I>(
    resource: &Resource,
    manager: &proc_macro2::Ident,
    alias: &str,
    adoption_keys: A,
    immutable: I,
    methods: &[TokenStream],
) -> TokenStream
where
    A: IntoIterator,
    A::Item: quote::ToTokens,
    I: IntoIterator,
    I::Item: quote::ToTokens,
{
    let kind = format_ident!("{}", resource.kind);
    let adoption_keys = adoption_keys.into_iter();
    let immutable = immutable.into_iter();
    let references = references_method(&resource.references);
    quote! {
        impl ResourceManager for #manager {
            type Resource = #kind;

            fn service(&self) -> &'static str {
                #alias
            }

            fn adoption_keys(&self) -> &'static [&'static str] {
                &[#(#adoption_keys),*]
            }

            fn immutable_fields(&self) -> &'static [&'static str] {
                &[#(#immutable),*]
            }

            #references

            #(#methods)*
        }
    }
}

/// `references()`: the kind's reference fields, when it has any.
fn references_method(references: &[crate::ir::ReferenceField]) -> TokenStream {
    if references.is_empty() {
        return TokenStream::new();
    }
    let entries = references.iter().map(|r| {
        let (field, reference, group, version, kind, plural, path) = (
            &r.field,
            &r.reference,
            &r.group,
            &r.version,
            &r.kind,
            &r.plural,
            &r.path,
        );
        quote! {
            ack_runtime::references::Reference {
                field: #field,
                reference: #reference,
                group: #group,
                version: #version,
                kind: #kind,
                plural: #plural,
                path: #path,
            }
        }
    });
    quote! {
        fn references(&self) -> &'static [ack_runtime::references::Reference] {
            &[#(#entries),*]
        }
    }
}
