//! IR → conversions between a resource's generated CR structures and the AWS SDK's types, both
//! directions: `generated/<kind>_convert.rs`, one `to_sdk_<struct>` / `from_sdk_<struct>` pair per
//! model structure the resource uses.
//!
//! # API for other emitters
//!
//! Every function returns tokens for code that lives in `services/<svc>/src/generated/` (it
//! names `super::<kind>_convert::…`, `super::common::…`, `ack_runtime::ReconcileError` and the SDK
//! crate). A `shape` argument is the model shape of the value (a member's target shape, see
//! [`member_shape`]); widths (`integer` → `i32`, `long` → `i64`, `float` → `f32`), enums and
//! required members come from [`Service::sdk_shapes`].
//!
//! - [`to_sdk_field`]`(service, resource, field, cr, path)`: for a model-backed [`Field`] of the
//!   CR struct `cr` (an expression such as `resource.spec` or `v`), an expression of type
//!   `Option<SdkType>` to pass to the SDK builder's `set_<sdk_name>(…)`. It may use `?`, so it
//!   belongs in a function returning `Result<_, ReconcileError>`; `path` is a `&str` expression
//!   naming `cr` in errors (`"spec"`), and the field's CRD name is appended.
//! - [`from_sdk_field`]`(service, resource, field, sdk)`: for the same field, an expression of
//!   type `Option<CrType>` read from `sdk` (an expression of the SDK struct holding the member,
//!   e.g. `output` or `table`); handles members the SDK holds with or without `Option`.
//! - [`to_sdk_expr`] / [`from_sdk_expr`]: the same for one value (`value` is a `&CrType` /
//!   `&SdkType` expression), yielding `SdkType` / `CrType`.
//! - [`to_sdk_fn`] / [`from_sdk_fn`]: the path of a structure's conversion functions,
//!   `fn(&Cr, path: &str) -> Result<Sdk, ReconcileError>` and `fn(&Sdk) -> Cr`.
//!
//! Errors are `ReconcileError::terminal("InvalidSpec", "<path>: <what>")`: a missing required
//! member (checked before `build()`), a 64-bit integer that does not fit the SDK's `i32`, a
//! malformed timestamp or blob, or a value whose shape has no conversion (free-form objects where
//! the generator cut a recursive shape, unions).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

use crate::Error;
use crate::ir::{Field, Resource, SdkShape, Service, Source, Struct, Type};
use crate::model::ShapeKind;
use crate::naming;

use super::rust;

/// The module (and file stem) of a kind's conversions: `Table` → `table_convert`.
pub fn module_name(resource: &Resource) -> String {
    format!("{}_convert", rust::module_name(resource))
}

/// Whether a kind gets a conversion module: it uses at least one model structure.
pub fn has_conversions(service: &Service, resource: &Resource) -> bool {
    !convertible_structs(service, resource).is_empty()
}

/// The model shape of a model-backed field's value.
pub fn member_shape<'a>(service: &'a Service, field: &Field) -> Option<&'a str> {
    let Source::Member { shape, member, .. } = &field.source else {
        return None;
    };
    service
        .sdk_shapes
        .get(shape)
        .and_then(|s| s.members.get(member))
        .map(|m| m.shape.as_str())
}

/// `super::<kind>_convert::to_sdk_<struct>`.
pub fn to_sdk_fn(resource: &Resource, rust_name: &str) -> TokenStream {
    let module = format_ident!("{}", module_name(resource));
    let f = format_ident!("to_sdk_{}", naming::rust_field(rust_name));
    quote!(super::#module::#f)
}

/// `super::<kind>_convert::from_sdk_<struct>`.
pub fn from_sdk_fn(resource: &Resource, rust_name: &str) -> TokenStream {
    let module = format_ident!("{}", module_name(resource));
    let f = format_ident!("from_sdk_{}", naming::rust_field(rust_name));
    quote!(super::#module::#f)
}

/// `Option<SdkType>` for `field` of the CR struct `cr`; `None` when the field is not backed by a
/// model member.
pub fn to_sdk_field(
    service: &Service,
    resource: &Resource,
    field: &Field,
    cr: TokenStream,
    path: TokenStream,
) -> Option<TokenStream> {
    let shape = member_shape(service, field)?;
    let cx = Cx::new(service, resource);
    Some(cx.to_sdk_field(field, shape, &cr, &path))
}

/// `Option<CrType>` for `field`, read from the SDK struct `sdk`; `None` when the field is not
/// backed by a model member.
pub fn from_sdk_field(
    service: &Service,
    resource: &Resource,
    field: &Field,
    sdk: TokenStream,
) -> Option<TokenStream> {
    let Source::Member {
        shape: parent,
        member,
        ..
    } = &field.source
    else {
        return None;
    };
    let shape = member_shape(service, field)?;
    let cx = Cx::new(service, resource);
    let required = service
        .sdk_shapes
        .get(parent)
        .is_some_and(|s| s.non_optional.contains(member));
    let sdk_name = service.sdk_shapes[parent].members[member].sdk_name.clone();
    Some(cx.sdk_field_to_cr(&field.ty, shape, &sdk_name, required, &sdk))
}

/// `SdkType` from `value` (a `&CrType` expression); may use `?`.
pub fn to_sdk_expr(
    service: &Service,
    resource: &Resource,
    ty: &Type,
    shape: &str,
    value: TokenStream,
    path: TokenStream,
) -> TokenStream {
    Cx::new(service, resource)
        .to_sdk(ty, shape, &V::by_ref(value), &path)
        .value()
}

/// `CrType` from `value` (a `&SdkType` expression).
pub fn from_sdk_expr(
    service: &Service,
    resource: &Resource,
    ty: &Type,
    shape: &str,
    value: TokenStream,
) -> TokenStream {
    Cx::new(service, resource)
        .sdk_to_cr(ty, shape, &V::by_ref(value))
        .unwrap_or_else(|| quote!(Default::default()))
}

/// `generated/<kind>_convert.rs`.
pub fn emit(service: &Service, resource: &Resource) -> Result<String, Error> {
    let cx = Cx::new(service, resource);
    let structs = convertible_structs(service, resource);
    let deprecated = structs
        .iter()
        .any(|(_, shape)| shape.members.values().any(|m| m.deprecated));
    let allow = deprecated.then(
        || quote!(#![allow(deprecated, reason = "deprecated model members are converted too")]),
    );
    let functions = structs.iter().map(|(s, shape)| cx.struct_fns(s, shape));
    let doc = format!(
        " Conversions between the {} custom resource's structures and `{}`'s types.",
        resource.kind, service.sdk_crate
    );
    let tokens = quote! {
        #![doc = #doc]
        #allow

        use ack_runtime::ReconcileError;

        #(#functions)*
    };
    rust::render(&format!("{}.rs", module_name(resource)), tokens)
}

fn convertible_structs<'a>(
    service: &'a Service,
    resource: &'a Resource,
) -> Vec<(&'a Struct, &'a SdkShape)> {
    resource
        .structs
        .iter()
        .filter_map(|s| {
            let shape = service.sdk_shapes.get(s.shape.as_deref()?)?;
            (s.sdk_type.is_some() && shape.kind == ShapeKind::Structure).then_some((s, shape))
        })
        .collect()
}

/// A converted value: a plain expression, or one of type `Result<_, ReconcileError>`.
enum Conv {
    Value(TokenStream),
    Result(TokenStream),
}

impl Conv {
    fn value(self) -> TokenStream {
        match self {
            Conv::Value(v) => v,
            Conv::Result(r) => quote!(#r?),
        }
    }

    fn result(self) -> TokenStream {
        match self {
            Conv::Value(v) => quote!(Ok(#v)),
            Conv::Result(r) => r,
        }
    }

    fn is_fallible(&self) -> bool {
        matches!(self, Conv::Result(_))
    }
}

/// A value to convert: a place of the type (`v.name`) or a reference to it (`x`, `&v.name`).
struct V {
    tokens: TokenStream,
    is_ref: bool,
}

impl V {
    fn place(tokens: TokenStream) -> Self {
        Self {
            tokens,
            is_ref: false,
        }
    }

    fn by_ref(tokens: TokenStream) -> Self {
        Self {
            tokens,
            is_ref: true,
        }
    }

    /// Whether the tokens are a path or field access (`x`, `v.name`), needing no parentheses.
    fn is_simple(&self) -> bool {
        self.tokens.clone().into_iter().all(|t| match t {
            proc_macro2::TokenTree::Ident(_) => true,
            proc_macro2::TokenTree::Punct(p) => p.as_char() == '.',
            _ => false,
        })
    }

    fn receiver(&self) -> TokenStream {
        let t = &self.tokens;
        if self.is_simple() {
            quote!(#t)
        } else {
            quote!((#t))
        }
    }

    /// `recv.member` (`member` empty: the receiver itself); auto-(de)ref makes either form work.
    fn method(&self, member: TokenStream) -> TokenStream {
        let r = self.receiver();
        if member.is_empty() {
            r
        } else {
            quote!(#r.#member)
        }
    }

    /// The value of a `Copy` type.
    fn copy(&self) -> TokenStream {
        let r = self.receiver();
        if self.is_ref { quote!(*#r) } else { r }
    }

    /// A reference to the value.
    fn as_ref(&self) -> TokenStream {
        let r = self.receiver();
        if self.is_ref { r } else { quote!(&#r) }
    }
}

/// How a value converts without change.
#[derive(Clone, Copy, PartialEq)]
enum Identity {
    Copy,
    Clone,
}

struct Cx<'a> {
    service: &'a Service,
    resource: &'a Resource,
    sdk: syn::Ident,
}

impl<'a> Cx<'a> {
    fn new(service: &'a Service, resource: &'a Resource) -> Self {
        Self {
            service,
            resource,
            sdk: format_ident!("{}", service.sdk_crate),
        }
    }

    fn shape(&self, name: &str) -> Option<&'a SdkShape> {
        self.service.sdk_shapes.get(name)
    }

    fn terminal(message: TokenStream) -> TokenStream {
        quote!(ReconcileError::terminal("InvalidSpec", #message))
    }

    fn identity(&self, ty: &Type, shape: &str) -> Option<Identity> {
        let s = self.shape(shape)?;
        match ty {
            Type::String | Type::Enum { .. } if !s.is_enum => Some(Identity::Clone),
            Type::Integer if s.kind == ShapeKind::Long => Some(Identity::Copy),
            Type::Float if s.kind == ShapeKind::Double => Some(Identity::Copy),
            Type::Boolean => Some(Identity::Copy),
            Type::List(el) => self
                .identity(el, s.element.as_deref()?)
                .map(|_| Identity::Clone),
            _ => None,
        }
    }

    /// Whether a value of this type converts at all.
    fn supported(&self, ty: &Type, shape: &str) -> bool {
        let Some(s) = self.shape(shape) else {
            return false;
        };
        match ty {
            Type::Opaque { .. } => false,
            Type::Struct(_) => s.kind == ShapeKind::Structure,
            Type::List(el) | Type::Map(el) => {
                s.element.as_deref().is_some_and(|e| self.supported(el, e))
            }
            _ => true,
        }
    }

    fn sdk_type_path(&self, shape: &str) -> TokenStream {
        let sdk = &self.sdk;
        let ty = format_ident!("{}", self.service.sdk_shapes[shape].sdk_type);
        quote!(#sdk::types::#ty)
    }

    fn cr_struct_path(&self, rust_name: &str) -> TokenStream {
        let ident = format_ident!("{rust_name}");
        if self.service.is_common(rust_name) {
            quote!(super::common::#ident)
        } else {
            let module = format_ident!("{}", rust::module_name(self.resource));
            quote!(super::#module::#ident)
        }
    }

    /// `value`: `&CrType`; `path`: a `&str` expression.
    fn to_sdk(&self, ty: &Type, shape: &str, value: &V, path: &TokenStream) -> Conv {
        // `path` as a `format!` argument, which borrows anyway.
        let fpath = fmt_arg(path);
        let sdk = &self.sdk;
        if !self.supported(ty, shape) {
            let message = format!("{{}}: {} has no conversion to the AWS SDK", ty.describe());
            let err = Self::terminal(quote!(format!(#message, #fpath)));
            return Conv::Result(quote!(Err(#err)));
        }
        let s = &self.service.sdk_shapes[shape];
        if let Some(identity) = self.identity(ty, shape) {
            return Conv::Value(match identity {
                Identity::Copy => value.copy(),
                Identity::Clone => value.method(quote!(clone())),
            });
        }
        match ty {
            Type::String | Type::Enum { .. } => {
                let e = self.sdk_type_path(shape);
                let s = value.method(quote!(as_str()));
                Conv::Value(quote!(#e::from(#s)))
            }
            Type::Integer => {
                let n = value.copy();
                let err = Self::terminal(quote!(format!(
                    "{}: {} does not fit a 32-bit integer",
                    #fpath,
                    #n
                )));
                Conv::Result(quote!(i32::try_from(#n).map_err(|_| #err)))
            }
            Type::Float => {
                let n = value.copy();
                Conv::Value(quote!(#n as f32))
            }
            Type::Boolean => Conv::Value(value.copy()),
            Type::Timestamp => {
                let err = Self::terminal(quote!(format!("{}: {e}", #fpath)));
                let text = value.method(quote!(0));
                Conv::Result(quote!(
                    #sdk::primitives::DateTime::from_str(
                        &#text,
                        #sdk::primitives::DateTimeFormat::DateTime,
                    )
                    .map_err(|e| #err)
                ))
            }
            Type::Blob => {
                let err = Self::terminal(quote!(format!("{}: {e}", #fpath)));
                let text = value.method(quote!(0));
                Conv::Result(quote!(
                    aws_smithy_types::base64::decode(&#text)
                        .map(#sdk::primitives::Blob::new)
                        .map_err(|e| #err)
                ))
            }
            Type::List(el) => {
                let el_shape = s.element.as_deref().unwrap_or_default();
                let x = V::by_ref(quote!(x));
                let probe = self.to_sdk(el, el_shape, &x, &quote!(&path));
                let iter = value.method(quote!(iter()));
                if probe.is_fallible() {
                    let inner = probe.result();
                    Conv::Result(quote!(
                        #iter
                            .enumerate()
                            .map(|(i, x)| {
                                let path = format!("{}[{i}]", #fpath);
                                #inner
                            })
                            .collect::<Result<Vec<_>, ReconcileError>>()
                    ))
                } else {
                    let inner = probe.value();
                    Conv::Value(quote!(#iter.map(|x| #inner).collect::<Vec<_>>()))
                }
            }
            Type::Map(el) => {
                let el_shape = s.element.as_deref().unwrap_or_default();
                let key = match s.key.as_deref().and_then(|k| self.shape(k)) {
                    Some(k) if k.is_enum => {
                        let e = self.sdk_type_path(s.key.as_deref().unwrap_or_default());
                        quote!(#e::from(k.as_str()))
                    }
                    _ => quote!(k.clone()),
                };
                let x = V::by_ref(quote!(x));
                let probe = self.to_sdk(el, el_shape, &x, &quote!(&path));
                let iter = value.method(quote!(iter()));
                if probe.is_fallible() {
                    let inner = probe.value();
                    Conv::Result(quote!(
                        #iter
                            .map(|(k, x)| {
                                let path = format!("{}.{k}", #fpath);
                                Ok((#key, #inner))
                            })
                            .collect::<Result<std::collections::HashMap<_, _>, ReconcileError>>()
                    ))
                } else {
                    let inner = probe.value();
                    Conv::Value(quote!(
                        #iter
                            .map(|(k, x)| (#key, #inner))
                            .collect::<std::collections::HashMap<_, _>>()
                    ))
                }
            }
            Type::Struct(name) => {
                let f = to_sdk_fn(self.resource, name);
                let r = value.as_ref();
                Conv::Result(quote!(#f(#r, #path)))
            }
            Type::Opaque { .. } => unreachable!("unsupported types return early"),
        }
    }

    /// `value`: `&SdkType`; `None` when the type has no conversion.
    fn sdk_to_cr(&self, ty: &Type, shape: &str, value: &V) -> Option<TokenStream> {
        if !self.supported(ty, shape) {
            return None;
        }
        let value_recv = value.method(TokenStream::new());
        let sdk = &self.sdk;
        let s = &self.service.sdk_shapes[shape];
        if let Some(identity) = self.identity(ty, shape) {
            return Some(match identity {
                Identity::Copy => value.copy(),
                Identity::Clone => value.method(quote!(clone())),
            });
        }
        Some(match ty {
            Type::String | Type::Enum { .. } => {
                let s = value.method(quote!(as_str()));
                quote!(#s.to_string())
            }
            Type::Integer => {
                let n = value.copy();
                quote!(i64::from(#n))
            }
            Type::Float => {
                let n = value.copy();
                quote!(f64::from(#n))
            }
            Type::Boolean => value.copy(),
            Type::Timestamp => quote!(super::common::DateTime(
                #value_recv
                    .fmt(#sdk::primitives::DateTimeFormat::DateTime)
                    .unwrap_or_default()
            )),
            Type::Blob => quote!(super::common::Blob(aws_smithy_types::base64::encode(
                #value_recv.as_ref()
            ))),
            Type::List(el) => {
                let el_shape = s.element.as_deref().unwrap_or_default();
                if let Type::Struct(name) = &**el {
                    let f = from_sdk_fn(self.resource, name);
                    quote!(#value_recv.iter().map(#f).collect())
                } else {
                    let inner = self.sdk_to_cr(el, el_shape, &V::by_ref(quote!(x)))?;
                    quote!(#value_recv.iter().map(|x| #inner).collect())
                }
            }
            Type::Map(el) => {
                let el_shape = s.element.as_deref().unwrap_or_default();
                let key = match s.key.as_deref().and_then(|k| self.shape(k)) {
                    Some(k) if k.is_enum => quote!(k.as_str().to_string()),
                    _ => quote!(k.clone()),
                };
                let inner = self.sdk_to_cr(el, el_shape, &V::by_ref(quote!(x)))?;
                quote!(#value_recv.iter().map(|(k, x)| (#key, #inner)).collect())
            }
            Type::Struct(name) => {
                let f = from_sdk_fn(self.resource, name);
                let r = value.as_ref();
                quote!(#f(#r))
            }
            Type::Opaque { .. } => return None,
        })
    }

    /// `Option<SdkType>` for `field` of the CR struct `cr`.
    fn to_sdk_field(
        &self,
        field: &Field,
        shape: &str,
        cr: &TokenStream,
        path: &TokenStream,
    ) -> TokenStream {
        let ident = rust::field_ident(field);
        let fpath = fmt_arg(path);
        let field_path = format!("{{}}.{}", field.name);
        let sub_path = quote!(&path);
        let x = V::by_ref(quote!(x));
        let conv = self.to_sdk(&field.ty, shape, &x, &sub_path);
        if !self.supported(&field.ty, shape) {
            if field.required {
                // No service has a required free-form field; it is not sent.
                return quote!(None);
            }
            let message = format!(
                "{{}}.{}: {} has no conversion to the AWS SDK",
                field.name,
                field.ty.describe()
            );
            let err = Self::terminal(quote!(format!(#message, #fpath)));
            return quote!(match &#cr.#ident {
                Some(_) => return Err(#err),
                None => None,
            });
        }
        if field.required {
            let value = &V::place(quote!(#cr.#ident));
            let conv = self.to_sdk(&field.ty, shape, value, &sub_path);
            return if conv.is_fallible() {
                let r = conv.value();
                quote!({
                    let path = format!(#field_path, #fpath);
                    Some(#r)
                })
            } else {
                let v = conv.value();
                quote!(Some(#v))
            };
        }
        match self.identity(&field.ty, shape) {
            Some(Identity::Copy) => return quote!(#cr.#ident),
            Some(Identity::Clone) => return quote!(#cr.#ident.clone()),
            None => {}
        }
        if conv.is_fallible() {
            let r = conv.result();
            quote!(
                #cr.#ident
                    .as_ref()
                    .map(|x| {
                        let path = format!(#field_path, #fpath);
                        #r
                    })
                    .transpose()?
            )
        } else {
            let v = conv.value();
            quote!(#cr.#ident.as_ref().map(|x| #v))
        }
    }

    /// `Option<CrType>` for a member `sdk_name` of the SDK struct `sdk`.
    fn sdk_field_to_cr(
        &self,
        ty: &Type,
        shape: &str,
        sdk_name: &str,
        sdk_required: bool,
        sdk: &TokenStream,
    ) -> TokenStream {
        let member = sdk_ident(sdk_name);
        if !self.supported(ty, shape) {
            return quote!(None);
        }
        if sdk_required {
            let value = V::place(quote!(#sdk.#member));
            let v = self
                .sdk_to_cr(ty, shape, &value)
                .unwrap_or_else(|| quote!(None));
            return quote!(Some(#v));
        }
        match self.identity(ty, shape) {
            Some(Identity::Copy) => return quote!(#sdk.#member),
            Some(Identity::Clone) => return quote!(#sdk.#member.clone()),
            None => {}
        }
        if let Type::Struct(name) = ty {
            let f = from_sdk_fn(self.resource, name);
            return quote!(#sdk.#member.as_ref().map(#f));
        }
        let inner = self
            .sdk_to_cr(ty, shape, &V::by_ref(quote!(x)))
            .unwrap_or_else(|| quote!(Default::default()));
        quote!(#sdk.#member.as_ref().map(|x| #inner))
    }

    fn struct_fns(&self, s: &Struct, shape: &SdkShape) -> TokenStream {
        if shape.is_union {
            return self.union_fns(s, shape);
        }
        let cr_type = self.cr_struct_path(&s.rust_name);
        let sdk_type = self.sdk_type_path(s.shape.as_deref().unwrap_or_default());
        let to_fn = format_ident!("to_sdk_{}", naming::rust_field(&s.rust_name));
        let from_fn = format_ident!("from_sdk_{}", naming::rust_field(&s.rust_name));

        let mut checks = Vec::new();
        let mut setters = Vec::new();
        let mut inits = Vec::new();
        let mut uses_path = false;
        let mut all_fields = true;
        for field in &s.fields {
            let Source::Member { member, .. } = &field.source else {
                all_fields = false;
                continue;
            };
            let Some(m) = shape.members.get(member) else {
                all_fields = false;
                continue;
            };
            let ident = rust::field_ident(field);
            if shape.required.contains(member) && !field.required {
                let message = format!("{{path}}.{}: required", field.name);
                let err = Self::terminal(quote!(format!(#message)));
                checks.push(quote! {
                    if v.#ident.is_none() {
                        return Err(#err);
                    }
                });
                uses_path = true;
            }
            let value = self.to_sdk_field(field, &m.shape, &quote!(v), &quote!(path));
            if self
                .to_sdk(&field.ty, &m.shape, &V::by_ref(quote!(x)), &quote!(&path))
                .is_fallible()
            {
                uses_path = true;
            }
            let setter = format_ident!("set_{}", m.sdk_name);
            setters.push(quote!(.#setter(#value)));
            let non_optional = shape.non_optional.contains(member);
            let init =
                self.sdk_field_to_cr(&field.ty, &m.shape, &m.sdk_name, non_optional, &quote!(v));
            inits.push(quote!(#ident: #init,));
        }
        let fallible_build = !shape.non_optional.is_empty();
        if fallible_build {
            uses_path = true;
        }
        let build = if fallible_build {
            let err = Self::terminal(quote!(format!("{path}: {e}")));
            quote!(builder.build().map_err(|e| #err))
        } else {
            quote!(Ok(builder.build()))
        };
        let rest = (!all_fields).then(|| quote!(..Default::default()));
        let v_to = if setters.is_empty() {
            quote!(_v)
        } else {
            quote!(v)
        };
        let v_from = if inits.is_empty() {
            quote!(_v)
        } else {
            quote!(v)
        };
        let path_param = if uses_path {
            quote!(path)
        } else {
            quote!(_path)
        };
        let to_doc = format!(
            " `{}` → the SDK's `{}`; `path` names the value in errors.",
            s.rust_name,
            s.sdk_type.as_deref().unwrap_or_default()
        );
        let from_doc = format!(
            " The SDK's `{}` → `{}`.",
            s.sdk_type.as_deref().unwrap_or_default(),
            s.rust_name
        );
        quote! {
            #[doc = #to_doc]
            pub fn #to_fn(#v_to: &#cr_type, #path_param: &str) -> Result<#sdk_type, ReconcileError> {
                #(#checks)*
                let builder = #sdk_type::builder()#(#setters)*;
                #build
            }

            #[doc = #from_doc]
            pub fn #from_fn(#v_from: &#sdk_type) -> #cr_type {
                #cr_type {
                    #(#inits)*
                    #rest
                }
            }
        }
    }
}

impl Cx<'_> {
    /// A union is a Rust enum in the SDK, one variant per member; the CR struct sets exactly one
    /// field.
    fn union_fns(&self, s: &Struct, shape: &SdkShape) -> TokenStream {
        let cr_type = self.cr_struct_path(&s.rust_name);
        let sdk_type = self.sdk_type_path(s.shape.as_deref().unwrap_or_default());
        let to_fn = format_ident!("to_sdk_{}", naming::rust_field(&s.rust_name));
        let from_fn = format_ident!("from_sdk_{}", naming::rust_field(&s.rust_name));
        let mut pushes = Vec::new();
        let mut arms = Vec::new();
        let mut names = Vec::new();
        for field in &s.fields {
            let Source::Member { member, .. } = &field.source else {
                continue;
            };
            let Some(m) = shape.members.get(member) else {
                continue;
            };
            if !self.supported(&field.ty, &m.shape) {
                continue;
            }
            names.push(field.name.clone());
            let ident = rust::field_ident(field);
            let variant = format_ident!("{}", naming::sdk_type(member));
            let field_path = format!("{{path}}.{}", field.name);
            let conv = self.to_sdk(&field.ty, &m.shape, &V::by_ref(quote!(x)), &quote!(&path));
            let bind_path = conv
                .is_fallible()
                .then(|| quote!(let path = format!(#field_path);));
            let value = conv.value();
            pushes.push(quote! {
                if let Some(x) = &v.#ident {
                    #bind_path
                    variants.push(#sdk_type::#variant(#value));
                }
            });
            let from = self
                .sdk_to_cr(&field.ty, &m.shape, &V::by_ref(quote!(x)))
                .unwrap_or_else(|| quote!(Default::default()));
            arms.push(quote! {
                #sdk_type::#variant(x) => #cr_type {
                    #ident: Some(#from),
                    ..Default::default()
                },
            });
        }
        let message = format!("{{path}}: exactly one of {} must be set", names.join(", "));
        let err = Self::terminal(quote!(format!(#message)));
        let to_doc = format!(
            " `{}` (exactly one field set) → the SDK's union `{}`; `path` names the value in errors.",
            s.rust_name,
            s.sdk_type.as_deref().unwrap_or_default()
        );
        let from_doc = format!(
            " The SDK's union `{}` → `{}`; a variant this SDK does not know gives an empty value.",
            s.sdk_type.as_deref().unwrap_or_default(),
            s.rust_name
        );
        quote! {
            #[doc = #to_doc]
            pub fn #to_fn(v: &#cr_type, path: &str) -> Result<#sdk_type, ReconcileError> {
                let mut variants = Vec::new();
                #(#pushes)*
                let mut variants = variants.into_iter();
                match (variants.next(), variants.next()) {
                    (Some(one), None) => Ok(one),
                    _ => Err(#err),
                }
            }

            #[doc = #from_doc]
            pub fn #from_fn(v: &#sdk_type) -> #cr_type {
                match v {
                    #(#arms)*
                    _ => #cr_type::default(),
                }
            }
        }
    }
}

/// A `&str` expression as a `format!` argument: `&path` → `path`.
fn fmt_arg(path: &TokenStream) -> TokenStream {
    let tokens: Vec<_> = path.clone().into_iter().collect();
    match tokens.as_slice() {
        [proc_macro2::TokenTree::Punct(p), rest @ ..] if p.as_char() == '&' && !rest.is_empty() => {
            rest.iter().cloned().collect()
        }
        _ => path.clone(),
    }
}

/// The SDK's field identifier (smithy-rs writes keywords raw).
fn sdk_ident(name: &str) -> syn::Ident {
    if naming::is_rust_keyword(name) {
        syn::Ident::new_raw(name, Span::call_site())
    } else {
        format_ident!("{name}")
    }
}
