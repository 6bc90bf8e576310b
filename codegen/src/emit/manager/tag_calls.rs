//! Add/remove tag calls (`TagResource` / `UntagResource`-like, with a read call that may be
//! paginated) on a top-level `map` or `key_value_list` tag field, shared by the manager styles
//! that use them. Each call names the resource by the identifier when it takes the identifier's
//! member, else by the ARN (`ResourceArn`).

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::emit::rust::{self, field_ident};
use crate::ir::{Field, Operation, Resource, SdkShape, Service, Source};

pub(super) struct TagCalls<'a> {
    pub service: &'a Service,
    pub resource: &'a Resource,
    pub tag_field: &'a Field,
    /// The element structure of a `key_value_list` tag field.
    pub tag_struct: Option<&'a str>,
    pub identifier_member: &'a str,
    /// The identifier of `latest` as a `String` (may use `?`).
    pub identifier: TokenStream,
}

impl<'a> TagCalls<'a> {
    fn kind(&self) -> Ident {
        format_ident!("{}", self.resource.kind)
    }

    fn sdk(&self) -> TokenStream {
        let sdk = format_ident!("{}", self.service.sdk_crate);
        quote!(#sdk)
    }

    fn call(&self, op: &Operation) -> TokenStream {
        let method = format_ident!("{}", op.sdk_method);
        quote!(self.client.#method())
    }

    fn shape(&self, name: &str) -> &'a SdkShape {
        &self.service.sdk_shapes[name]
    }

    fn tag_address(&self, op: &Operation) -> (Ident, TokenStream) {
        if let Some(setter) = op.input_members.get(self.identifier_member) {
            return (format_ident!("{setter}"), self.identifier.clone());
        }
        let input = op.input.as_deref().unwrap_or_default();
        let arn_member = self
            .service
            .sdk_shapes
            .get(input)
            .map(|s| s.required.clone())
            .unwrap_or_default()
            .into_iter()
            .chain(op.input_members.keys().cloned())
            .find(|m| m.to_lowercase().ends_with("arn"))
            .unwrap_or_else(|| "ResourceArn".into());
        let setter = format_ident!("{}", op.input_members[&arn_member]);
        (
            setter,
            quote!(self.arn(latest).ok_or_else(|| ReconcileError::recoverable(
                "MissingArn",
                "the resource has no ARN yet"
            ))?),
        )
    }

    pub(super) fn methods(&self) -> TokenStream {
        let kind = self.kind();
        let sdk = self.sdk();
        let tags = self.resource.tags.as_ref().expect("checked");
        let field = field_ident(self.tag_field);
        let read_call = self.call(&tags.read);
        let (read_id, read_value) = self.tag_address(&tags.read);
        let read_member = format_ident!(
            "{}",
            tags.read.output_members[tags.read_member.as_deref().expect("checked")]
        );
        let paginated = tags
            .read
            .input_members
            .get("NextToken")
            .zip(tags.read.output_members.get("NextToken"));
        let read = match paginated {
            Some((input, output)) => {
                let set = format_ident!("set_{input}");
                let output = format_ident!("{output}");
                quote! {
                    let mut token = None;
                    loop {
                        let output = #read_call.#read_id(id.clone()).#set(token).send().await.map_err(aws_error)?;
                        observed.extend(output.#read_member.unwrap_or_default().into_iter().map(pair));
                        token = output.#output;
                        if token.is_none() {
                            break;
                        }
                    }
                }
            }
            None => quote! {
                let output = #read_call.#read_id(id.clone()).send().await.map_err(aws_error)?;
                observed.extend(output.#read_member.unwrap_or_default().into_iter().map(pair));
            },
        };
        let write_call = self.call(&tags.write);
        let (write_id, write_value) = self.tag_address(&tags.write);
        let write_member = format_ident!(
            "set_{}",
            tags.write.input_members[tags.write_member.as_deref().expect("checked")]
        );
        let remove = tags.remove.as_ref().expect("checked");
        let remove_call = self.call(remove);
        let (remove_id, remove_value) = self.tag_address(remove);
        let remove_member = format_ident!(
            "set_{}",
            remove.input_members[tags.remove_member.as_deref().expect("checked")]
        );
        let (spec_tags, set_spec_tags, pair, to_write) = match self.tag_struct {
            Some(name) => {
                let st = format_ident!("{name}");
                let module = format_ident!("{}", rust::module_name(self.resource));
                let strukt = self
                    .service
                    .find_struct(self.resource, name)
                    .expect("the tag struct");
                let key_field = strukt
                    .fields
                    .iter()
                    .find(|f| f.name == tags.key)
                    .expect("checked");
                let value_field = strukt
                    .fields
                    .iter()
                    .find(|f| f.name == tags.value)
                    .expect("checked");
                let (k, v) = (field_ident(key_field), field_ident(value_field));
                let sdk_tag = format_ident!("{}", strukt.sdk_type.as_deref().unwrap_or(name));
                let tag_shape = strukt.shape.as_deref().unwrap_or_default();
                let tag_sdk = self.shape(tag_shape);
                let sdk_k = |f: &Field| -> (Ident, bool) {
                    let Source::Member {
                        member, sdk_name, ..
                    } = &f.source
                    else {
                        unreachable!("tag members are model members")
                    };
                    (
                        format_ident!("{sdk_name}"),
                        tag_sdk.required.contains(member),
                    )
                };
                let ((sk, k_req), (sv, v_req)) = (sdk_k(key_field), sdk_k(value_field));
                let read_k = if k_req {
                    quote!(t.#sk)
                } else {
                    quote!(t.#sk.unwrap_or_default())
                };
                let read_v = if v_req {
                    quote!(t.#sv)
                } else {
                    quote!(t.#sv.unwrap_or_default())
                };
                (
                    quote! {
                        resource.spec.#field.as_ref().map(|list| {
                            list.iter()
                                .map(|t| (t.#k.clone().unwrap_or_default(), t.#v.clone().unwrap_or_default()))
                                .collect()
                        })
                    },
                    quote! {
                        // No tags: no list, as ACK leaves it out.
                        resource.spec.#field = (!tags.is_empty()).then(|| {
                            tags.into_iter()
                                .map(|(k, v)| super::#module::#st { #k: Some(k), #v: Some(v) })
                                .collect()
                        });
                    },
                    quote! {
                        fn pair(t: #sdk::types::#sdk_tag) -> (String, String) {
                            (#read_k, #read_v)
                        }
                    },
                    quote! {
                        plan.to_set
                            .iter()
                            .map(|(k, v)| #sdk::types::#sdk_tag::builder().#sk(k).#sv(v).build())
                            .collect::<Result<Vec<_>, _>>()
                            .map_err(|e| ReconcileError::terminal("InvalidTags", e.to_string()))?
                    },
                )
            }
            None => (
                quote!(resource.spec.#field.clone()),
                // No tags: no map, as ACK leaves it out.
                quote!(resource.spec.#field = Some(tags).filter(|t| !t.is_empty());),
                quote! {
                    fn pair(t: (String, String)) -> (String, String) {
                        t
                    }
                },
                quote!(plan.to_set.clone().into_iter().collect()),
            ),
        };
        let with_create = super::create_takes_tags(tags);
        quote! {
            fn tag_api_style(&self) -> TagApiStyle {
                TagApiStyle::AddRemove
            }

            #with_create

            fn spec_tags(&self, resource: &#kind) -> Option<Tags> {
                #spec_tags
            }

            fn set_spec_tags(&self, resource: &mut #kind, tags: Tags) {
                #set_spec_tags
            }

            async fn read_tags(&self, latest: &#kind) -> Result<Tags, ReconcileError> {
                #pair
                let id = #read_value;
                let mut observed = Tags::new();
                #read
                Ok(observed)
            }

            async fn sync_tags(&self, latest: &#kind, plan: &TagPlan) -> Result<(), ReconcileError> {
                let TagPlan::AddRemove(plan) = plan else {
                    return Err(ReconcileError::terminal(
                        "UnexpectedTagPlan",
                        "this kind's tags change with add/remove calls, not a full replacement",
                    ));
                };
                if !plan.to_remove.is_empty() {
                    #remove_call
                        .#remove_id(#remove_value)
                        .#remove_member(Some(plan.to_remove.clone()))
                        .send()
                        .await
                        .map_err(aws_error)?;
                }
                if !plan.to_set.is_empty() {
                    #write_call
                        .#write_id(#write_value)
                        .#write_member(Some(#to_write))
                        .send()
                        .await
                        .map_err(aws_error)?;
                }
                Ok(())
            }
        }
    }
}
