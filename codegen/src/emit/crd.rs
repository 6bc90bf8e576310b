//! IR → CustomResourceDefinition YAML (`apiextensions.k8s.io/v1`), shaped like ACK's: same
//! group, names, print columns and field names, a structural schema a real kube-apiserver
//! accepts (every node typed, no `$ref`), keys sorted as controller-gen sorts them.

use serde_json::{Map, Value, json};

use crate::Error;
use crate::ir::{Field, Resource, Service, Type};

use super::GENERATED_HEADER;

/// The file name ACK uses: `<group>_<plural>.yaml`.
pub fn file_name(service: &Service, resource: &Resource) -> String {
    format!("{}_{}.yaml", service.group, resource.plural)
}

pub fn emit(service: &Service, resource: &Resource) -> Result<String, Error> {
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": { "name": format!("{}.{}", resource.plural, service.group) },
        "spec": {
            "group": service.group,
            "names": names(resource),
            "scope": "Namespaced",
            "versions": [{
                "additionalPrinterColumns": print_columns(resource),
                "name": service.version,
                "schema": { "openAPIV3Schema": root_schema(service, resource) },
                "served": true,
                "storage": true,
                "subresources": { "status": {} },
            }],
        },
    });
    let yaml = serde_yaml::to_string(&sorted(crd)).map_err(|source| Error::Yaml {
        file: file_name(service, resource),
        source,
    })?;
    Ok(format!("# {GENERATED_HEADER}\n{yaml}"))
}

fn names(resource: &Resource) -> Value {
    let mut names = json!({
        "categories": resource.categories,
        "kind": resource.kind,
        "listKind": format!("{}List", resource.kind),
        "plural": resource.plural,
        "singular": resource.singular,
    });
    if !resource.short_names.is_empty() {
        names["shortNames"] = json!(resource.short_names);
    }
    names
}

fn print_columns(resource: &Resource) -> Value {
    resource
        .print_columns
        .iter()
        .map(|c| {
            let mut column = json!({ "jsonPath": c.json_path, "name": c.name, "type": c.kind });
            if c.priority > 0 {
                column["priority"] = json!(c.priority);
            }
            column
        })
        .collect()
}

fn root_schema(service: &Service, resource: &Resource) -> Value {
    let kind = &resource.kind;
    let plural_kind = format!("{kind}s");
    json!({
        "description": format!("{kind} is the Schema for the {plural_kind} API"),
        "properties": {
            "apiVersion": {
                "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.",
                "type": "string",
            },
            "kind": {
                "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase.",
                "type": "string",
            },
            "metadata": { "type": "object" },
            "spec": object_schema(
                service,
                resource,
                &format!("{kind}Spec defines the desired state of {kind}."),
                &resource.spec,
            ),
            "status": object_schema(
                service,
                resource,
                &format!("{kind}Status defines the observed state of {kind}"),
                &resource.status,
            ),
        },
        "type": "object",
    })
}

fn object_schema(service: &Service, resource: &Resource, doc: &str, fields: &[Field]) -> Value {
    let mut schema = Map::new();
    if !doc.is_empty() {
        schema.insert("description".into(), json!(doc));
    }
    let properties: Map<String, Value> = fields
        .iter()
        .map(|f| (f.name.clone(), field_schema(service, resource, f)))
        .collect();
    schema.insert("properties".into(), Value::Object(properties));
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name.as_str())
        .collect();
    if !required.is_empty() {
        schema.insert("required".into(), json!(required));
    }
    schema.insert("type".into(), json!("object"));
    Value::Object(schema)
}

fn field_schema(service: &Service, resource: &Resource, field: &Field) -> Value {
    let mut schema = type_schema(service, resource, &field.ty);
    if !field.doc.is_empty() {
        schema["description"] = json!(field.doc);
    }
    if field.immutable {
        schema["x-kubernetes-validations"] = json!([{
            "message": "Value is immutable once set",
            "rule": "self == oldSelf",
        }]);
    }
    schema
}

fn type_schema(service: &Service, resource: &Resource, ty: &Type) -> Value {
    match ty {
        Type::String | Type::Enum { .. } => json!({ "type": "string" }),
        Type::Integer => json!({ "type": "integer", "format": "int64" }),
        Type::Float => json!({ "type": "number", "format": "double" }),
        Type::Boolean => json!({ "type": "boolean" }),
        Type::Timestamp => json!({ "type": "string", "format": "date-time" }),
        Type::Blob => json!({ "type": "string", "format": "byte" }),
        Type::List(element) => json!({
            "type": "array",
            "items": type_schema(service, resource, element),
        }),
        Type::Map(value) => json!({
            "type": "object",
            "additionalProperties": type_schema(service, resource, value),
        }),
        Type::Struct(name) => {
            let s = service
                .find_struct(resource, name)
                .expect("lowering resolves every struct");
            object_schema(service, resource, &s.doc, &s.fields)
        }
        Type::Opaque { .. } => json!({
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": true,
        }),
    }
}

/// `value` as YAML with every mapping's keys sorted, whatever order `serde_json` keeps.
fn sorted(value: Value) -> serde_yaml::Value {
    match value {
        Value::Null => serde_yaml::Value::Null,
        Value::Bool(b) => serde_yaml::Value::Bool(b),
        Value::Number(n) => serde_yaml::to_value(n).expect("numbers convert"),
        Value::String(s) => serde_yaml::Value::String(s),
        Value::Array(items) => serde_yaml::Value::Sequence(items.into_iter().map(sorted).collect()),
        Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_yaml::Value::Mapping(
                entries
                    .into_iter()
                    .map(|(k, v)| (serde_yaml::Value::String(k), sorted(v)))
                    .collect(),
            )
        }
    }
}
