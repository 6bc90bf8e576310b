//! CRD schemas flattened to field paths, for comparing two of them: the emitted YAML with the
//! one `kube` derives from the Rust types (so the two emitters cannot drift), or ours with ACK's.

use std::collections::BTreeMap;

use serde_json::Value;

/// What a comparison looks at in one schema node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Node {
    pub ty: Option<String>,
    pub format: Option<String>,
    /// Required property names of an object, sorted.
    pub required: Vec<String>,
    pub preserves_unknown_fields: bool,
    /// Has ACK's `self == oldSelf` rule.
    pub immutable: bool,
}

/// A CRD document (YAML or JSON text) as JSON.
pub fn parse_crd(text: &str) -> Result<Value, serde_yaml::Error> {
    serde_yaml::from_str(text)
}

/// The first version's `openAPIV3Schema`.
pub fn openapi_schema(crd: &Value) -> Option<&Value> {
    crd.pointer("/spec/versions/0/schema/openAPIV3Schema")
}

/// Every node under `schema` by path: `spec.tags[].key`; map values are `{}`, list items `[]`.
/// `root` names the node itself.
pub fn flatten(schema: &Value, root: &str) -> BTreeMap<String, Node> {
    let mut nodes = BTreeMap::new();
    walk(schema, root.to_string(), &mut nodes);
    nodes
}

fn walk(schema: &Value, path: String, nodes: &mut BTreeMap<String, Node>) {
    let text = |key: &str| schema.get(key).and_then(Value::as_str).map(str::to_string);
    let mut required: Vec<String> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    required.sort();
    let immutable = schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .is_some_and(|rules| {
            rules
                .iter()
                .any(|r| r.get("rule").and_then(Value::as_str) == Some("self == oldSelf"))
        });
    nodes.insert(
        path.clone(),
        Node {
            ty: text("type"),
            format: text("format"),
            required,
            preserves_unknown_fields: schema
                .get("x-kubernetes-preserve-unknown-fields")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            immutable,
        },
    );
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, child) in properties {
            walk(child, format!("{path}.{name}"), nodes);
        }
    }
    if let Some(items) = schema.get("items") {
        walk(items, format!("{path}[]"), nodes);
    }
    if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        walk(values, format!("{path}{{}}"), nodes);
    }
}

/// Where two CRDs differ in group, names, scope, print columns or schema (see
/// [`differences`]): what a service's test asserts of its emitted YAML and the CRD `kube`
/// derives from its Rust types.
pub fn crd_differences(ours: &Value, theirs: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for pointer in [
        "/spec/group",
        "/spec/names",
        "/spec/scope",
        "/spec/versions/0/name",
        "/spec/versions/0/additionalPrinterColumns",
        "/spec/versions/0/subresources",
    ] {
        // The apiserver defaults `listKind` to `<kind>List`; kube leaves it out.
        let without_list_kind = |v: Option<&Value>| {
            v.cloned().map(|mut v| {
                if let Some(names) = v.as_object_mut() {
                    names.remove("listKind");
                }
                v
            })
        };
        let (a, b) = (
            without_list_kind(ours.pointer(pointer)),
            without_list_kind(theirs.pointer(pointer)),
        );
        if a != b {
            out.push(format!("{pointer}: {a:?} vs {b:?}"));
        }
    }
    out.extend(differences(ours, theirs));
    out
}

/// Where the `spec` and `status` of two CRDs differ in paths, types, formats, required
/// properties or unknown-field preservation (not descriptions or validations).
pub fn differences(ours: &Value, theirs: &Value) -> Vec<String> {
    let (Some(ours), Some(theirs)) = (openapi_schema(ours), openapi_schema(theirs)) else {
        return vec!["a CRD has no openAPIV3Schema".into()];
    };
    let mut out = Vec::new();
    for part in ["spec", "status"] {
        let a = ours
            .pointer(&format!("/properties/{part}"))
            .map(|s| flatten(s, part));
        let b = theirs
            .pointer(&format!("/properties/{part}"))
            .map(|s| flatten(s, part));
        let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
        for (path, node) in &a {
            match b.get(path) {
                None => out.push(format!("{path}: only in the first")),
                Some(other) => {
                    let (mut x, mut y) = (node.clone(), other.clone());
                    x.immutable = false;
                    y.immutable = false;
                    if x != y {
                        out.push(format!("{path}: {x:?} vs {y:?}"));
                    }
                }
            }
        }
        out.extend(
            b.keys()
                .filter(|p| !a.contains_key(*p))
                .map(|p| format!("{p}: only in the second")),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd(spec: Value) -> Value {
        json!({"spec": {"versions": [{"schema": {"openAPIV3Schema": {"properties": {"spec": spec}}}}]}})
    }

    #[test]
    fn paths_cover_lists_and_maps() {
        let schema = json!({"type": "object", "properties": {
            "tags": {"type": "array", "items": {"type": "object", "properties": {"key": {"type": "string"}}}},
            "attrs": {"type": "object", "additionalProperties": {"type": "string"}},
        }});
        let paths: Vec<_> = flatten(&schema, "spec").into_keys().collect();
        assert_eq!(
            paths,
            [
                "spec",
                "spec.attrs",
                "spec.attrs{}",
                "spec.tags",
                "spec.tags[]",
                "spec.tags[].key"
            ]
        );
    }

    #[test]
    fn differences_in_type_and_presence() {
        let a = crd(
            json!({"type": "object", "properties": {"x": {"type": "string"}, "y": {"type": "string"}}}),
        );
        let b = crd(
            json!({"type": "object", "properties": {"x": {"type": "integer"}, "z": {"type": "string"}}}),
        );
        let d = differences(&a, &b);
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d[0].starts_with("spec.x:"));
        assert_eq!(d[1], "spec.y: only in the first");
        assert_eq!(d[2], "spec.z: only in the second");
        assert!(differences(&a, &a).is_empty());
    }
}
