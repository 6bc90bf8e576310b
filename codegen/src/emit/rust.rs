//! IR → Rust custom resource types for `services/<svc>/src/generated/`: a `kube::CustomResource`
//! spec struct per kind, its status struct, one struct per model structure, and ACK's shared
//! types in `common.rs`. Field names serialise to exactly the CRD's names.
//!
//! Code is built with `quote`, parsed with `syn` and printed with `prettyplease`; the crate marks
//! the module `#[rustfmt::skip]` so `cargo fmt` leaves prettyplease's layout alone.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::Error;
use crate::ir::{Field, Resource, Service, Struct, Type};
use crate::naming;

use super::GENERATED_HEADER;

/// The module (and file stem) of a kind: `Bucket` → `bucket`.
pub fn module_name(resource: &Resource) -> String {
    naming::rust_field(&resource.kind)
}

/// `generated/mod.rs`.
pub fn emit_mod(service: &Service) -> Result<String, Error> {
    let mut modules: Vec<Ident> = Vec::new();
    let mut exports: Vec<TokenStream> = Vec::new();
    for r in &service.resources {
        let module = format_ident!("{}", module_name(r));
        let kind = format_ident!("{}", r.kind);
        let spec = format_ident!("{}Spec", r.kind);
        let status = format_ident!("{}Status", r.kind);
        exports.push(quote!(pub use #module::{#kind, #spec, #status};));
        modules.push(module);
        if super::convert::has_conversions(service, r) {
            modules.push(format_ident!("{}", super::convert::module_name(r)));
        }
        if r.manager {
            let module = format_ident!("{}", super::manager::module_name(r));
            let manager = format_ident!("{}", super::manager::type_name(r));
            exports.push(quote!(pub use #module::#manager;));
            modules.push(module);
        }
    }
    let what = if service.resources.iter().any(|r| r.manager) {
        "Custom resource types and resource managers"
    } else {
        "Custom resource types"
    };
    let doc = format!(
        " {what} of the {} controller ({}/{}).",
        service.service_id, service.group, service.version
    );
    let tokens = quote! {
        #![doc = #doc]
        pub mod common;
        #(pub mod #modules;)*
        #(#exports)*
    };
    render("mod.rs", tokens)
}

/// `generated/common.rs`: ACK's shared types and the schema newtypes.
pub fn emit_common(service: &Service) -> Result<String, Error> {
    let structs: Vec<TokenStream> = service
        .common
        .iter()
        .map(|s| struct_tokens(service, None, s))
        .collect();
    let tokens = quote! {
        #![doc = " ACK's types shared by every resource, and string and JSON newtypes that carry the schema ACK gives them."]

        #(#structs)*

        #[doc = " An RFC 3339 date-time (`format: date-time`)."]
        #[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct DateTime(pub String);

        impl schemars::JsonSchema for DateTime {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                "DateTime".into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string", "format": "date-time" })
            }
        }

        #[doc = " Base64-encoded bytes (`format: byte`)."]
        #[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct Blob(pub String);

        impl schemars::JsonSchema for Blob {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                "Blob".into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string", "format": "byte" })
            }
        }

        #[doc = " Any JSON object: where a model structure contains itself, the schema stops and keeps"]
        #[doc = " whatever is there (`x-kubernetes-preserve-unknown-fields`)."]
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct FreeFormObject(pub serde_json::Map<String, serde_json::Value>);

        impl schemars::JsonSchema for FreeFormObject {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                "FreeFormObject".into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "object", "x-kubernetes-preserve-unknown-fields": true })
            }
        }
    };
    render("common.rs", tokens)
}

/// `generated/<kind>.rs`.
pub fn emit_resource(service: &Service, resource: &Resource) -> Result<String, Error> {
    let kind = &resource.kind;
    let spec_ident = format_ident!("{kind}Spec");
    let status_ident = format_ident!("{kind}Status");
    let status_name = status_ident.to_string();
    let group = &service.group;
    let version = &service.version;
    let plural = &resource.plural;
    let root_doc = format!("{kind} is the Schema for the {kind}s API");
    let short_names = resource.short_names.iter().map(|s| quote!(shortname = #s,));
    let categories = resource.categories.iter().map(|c| quote!(category = #c,));
    // The JSON form: the list form repeats `name = …` per column, which clippy flags as
    // duplicated attributes.
    // The JSON form: the list form repeats `name = …` per column, which clippy flags as
    // duplicated attributes. Written by hand so the key order never depends on serde_json's
    // features.
    let columns = resource.print_columns.iter().map(|c| {
        let text = |s: &str| serde_json::Value::from(s).to_string();
        let priority = if c.priority > 0 {
            format!(r#","priority":{}"#, c.priority)
        } else {
            String::new()
        };
        let column = format!(
            r#"{{"name":{},"type":{},"jsonPath":{}{priority}}}"#,
            text(&c.name),
            text(&c.kind),
            text(&c.json_path)
        );
        let raw: TokenStream = format!("r#\"{column}\"#")
            .parse()
            .expect("a raw string literal");
        quote!(printcolumn = #raw,)
    });
    let spec_fields = resource
        .spec
        .iter()
        .map(|f| field_tokens(service, Some(resource), f));
    let status_fields = resource
        .status
        .iter()
        .map(|f| field_tokens(service, Some(resource), f));
    let structs = resource
        .structs
        .iter()
        .map(|s| struct_tokens(service, Some(resource), s));
    let spec_doc = format!(" {kind}Spec defines the desired state of {kind}.");
    let status_doc = format!(" {kind}Status defines the observed state of {kind}.");
    let module_doc = format!(
        " The {kind} custom resource ({plural}.{group}/{version}): spec, status and the structures they use."
    );
    let tokens = quote! {
        #![doc = #module_doc]

        #[doc = #spec_doc]
        #[derive(kube::CustomResource, Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
        #[kube(
            group = #group,
            version = #version,
            kind = #kind,
            plural = #plural,
            namespaced,
            status = #status_name,
            doc = #root_doc,
            derive = "Default",
            derive = "PartialEq",
            #(#short_names)*
            #(#categories)*
            #(#columns)*
        )]
        #[serde(rename_all = "camelCase")]
        pub struct #spec_ident {
            #(#spec_fields)*
        }

        #[doc = #status_doc]
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct #status_ident {
            #(#status_fields)*
        }

        #(#structs)*
    };
    render(&format!("{}.rs", module_name(resource)), tokens)
}

fn struct_tokens(service: &Service, resource: Option<&Resource>, s: &Struct) -> TokenStream {
    let ident = format_ident!("{}", s.rust_name);
    let docs = doc_attrs(&s.doc);
    let fields = s.fields.iter().map(|f| field_tokens(service, resource, f));
    quote! {
        #(#docs)*
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct #ident {
            #(#fields)*
        }
    }
}

/// A field's Rust identifier, raw when it is a keyword.
pub(crate) fn field_ident(field: &Field) -> Ident {
    if naming::is_rust_keyword(&field.rust_name) {
        Ident::new_raw(&field.rust_name, Span::call_site())
    } else {
        format_ident!("{}", field.rust_name)
    }
}

fn field_tokens(service: &Service, resource: Option<&Resource>, field: &Field) -> TokenStream {
    let ident = field_ident(field);
    let ty = type_tokens(service, resource, &field.ty);
    let docs = doc_attrs(&field.doc);
    let rename = (naming::serde_camel_case(&field.rust_name) != field.name).then(|| {
        let name = &field.name;
        quote!(rename = #name)
    });
    if field.required {
        let serde = rename.map(|r| quote!(#[serde(#r)]));
        quote! {
            #(#docs)*
            #serde
            pub #ident: #ty,
        }
    } else {
        let args = rename.into_iter().chain([
            quote!(default),
            quote!(skip_serializing_if = "Option::is_none"),
        ]);
        quote! {
            #(#docs)*
            #[serde(#(#args),*)]
            pub #ident: Option<#ty>,
        }
    }
}

fn type_tokens(service: &Service, resource: Option<&Resource>, ty: &Type) -> TokenStream {
    match ty {
        Type::String | Type::Enum { .. } => quote!(String),
        Type::Integer => quote!(i64),
        Type::Float => quote!(f64),
        Type::Boolean => quote!(bool),
        Type::Timestamp => common_path(resource, "DateTime"),
        Type::Blob => common_path(resource, "Blob"),
        Type::List(element) => {
            let element = type_tokens(service, resource, element);
            quote!(Vec<#element>)
        }
        Type::Map(value) => {
            let value = type_tokens(service, resource, value);
            quote!(std::collections::BTreeMap<String, #value>)
        }
        Type::Struct(name) if service.is_common(name) => common_path(resource, name),
        Type::Struct(name) => {
            let ident = format_ident!("{name}");
            quote!(#ident)
        }
        Type::Opaque { .. } => common_path(resource, "FreeFormObject"),
    }
}

/// A type of `common.rs`, seen from a resource module (or from `common.rs` itself).
fn common_path(resource: Option<&Resource>, name: &str) -> TokenStream {
    let ident = format_ident!("{name}");
    match resource {
        Some(_) => quote!(super::common::#ident),
        None => quote!(#ident),
    }
}

/// One `#[doc]` per line, each starting with a space as `///` comments do.
fn doc_attrs(doc: &str) -> Vec<TokenStream> {
    doc.lines()
        .map(|line| {
            let line = format!(" {line}");
            quote!(#[doc = #line])
        })
        .collect()
}

pub(crate) fn render(file: &str, tokens: TokenStream) -> Result<String, Error> {
    let parsed: syn::File = syn::parse2(tokens).map_err(|source| Error::RustSyntax {
        file: file.to_string(),
        source,
    })?;
    let code = separate_items(&prettyplease::unparse(&parsed));
    Ok(format!("// {GENERATED_HEADER}\n{code}"))
}

/// Blank lines prettyplease leaves out: after the module docs, between top-level items (a run of
/// one-line `mod` or `use` items stays together, `use`s grouped std / other crates / this crate),
/// and between the members of an impl.
fn separate_items(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + code.len() / 20);
    let mut previous = "";
    for line in code.lines() {
        if needs_blank_line(previous, line) {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
        previous = line;
    }
    out
}

fn needs_blank_line(previous: &str, line: &str) -> bool {
    if previous.starts_with("//!") {
        return !line.starts_with("//!");
    }
    if let Some(member) = line.strip_prefix("    ") {
        let member_start = ["fn ", "async fn ", "pub ", "///", "#[", "type ", "const "]
            .iter()
            .any(|p| member.starts_with(p));
        let previous_member_end = previous == "    }"
            || (previous.starts_with("    ")
                && !previous.starts_with("     ")
                && previous.ends_with(';'));
        return member_start && previous_member_end;
    }
    let item_start = !line.starts_with([' ', '}', ')', ']']) && !line.is_empty();
    if !item_start {
        return false;
    }
    if previous == "}" {
        return true;
    }
    let one_line_item = !previous.starts_with(' ') && previous.ends_with(';');
    let same_run = run_kind(previous).is_some() && run_kind(previous) == run_kind(line);
    one_line_item && !same_run
}

/// Which run of one-line items a line belongs to: `use std::…`, `pub mod`, … (`None`: no run).
fn run_kind(line: &str) -> Option<(&str, &str)> {
    let (keyword, rest) = match line.strip_prefix("pub ") {
        Some(rest) => (&line[..4 + rest.find(' ')?], rest),
        None => (&line[..line.find(' ')?], line),
    };
    let path = rest.split_once(' ')?.1;
    match keyword {
        "use" | "pub use" => {
            let root = path.split("::").next().unwrap_or_default();
            let group = match root {
                "std" | "core" | "alloc" => "std",
                "crate" | "super" | "self" => "local",
                _ => "crates",
            };
            Some((keyword, group))
        }
        "mod" | "pub mod" => Some((keyword, "")),
        _ => None,
    }
}
