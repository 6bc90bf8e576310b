//! ACK's resource references (`topicRef: {from: {name, namespace}}` beside `topicARN`): the
//! value of a field taken from another custom resource, resolved before any AWS call. Which
//! field points at which kind, and where that kind keeps the value, is generated from each
//! service's `generator.toml`; nothing here names a service.
//!
//! The referenced object must exist (in the CR's namespace, or the one `from.namespace` names)
//! and be `ACK.ResourceSynced=True`; then the value at its `path` is used for this reconcile
//! only (as ACK does, the resolved value is not written into the CR's spec). Otherwise nothing
//! is sent to AWS: the CR gets `ACK.ReferencesResolved=False` with the reason and is requeued.

use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use serde_json::Value;

use crate::conditions;

/// One reference field of a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The field that takes the value, dotted, relative to `spec` (`topicARN`).
    pub field: &'static str,
    /// The reference field beside it, dotted, relative to `spec` (`topicRef`).
    pub reference: &'static str,
    /// The referenced kind: `group`, `version`, `kind`, `plural`.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    /// Where the referenced object keeps the value, dotted (`status.ackResourceMetadata.arn`).
    pub path: &'static str,
}

/// What resolving a CR's references found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum References {
    /// The kind has no references, or the CR sets none.
    #[default]
    None,
    /// `(field, value)` for every reference the CR sets.
    Resolved(Vec<(&'static str, String)>),
    /// Why a reference cannot be resolved (yet).
    Unresolved(String),
}

/// The value at a dotted path of a JSON object.
fn get<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

/// Sets (or, with `None`, removes) the value at a dotted path, making objects on the way.
fn set(value: &mut Value, path: &str, new: Option<Value>) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().expect("a path has a part");
    let mut here = value;
    for key in parts {
        if !here.get(key).is_some_and(Value::is_object) {
            if new.is_none() {
                return;
            }
            here[key] = Value::Object(Default::default());
        }
        here = &mut here[key];
    }
    match (here.as_object_mut(), new) {
        (Some(object), Some(new)) => {
            object.insert(last.to_string(), new);
        }
        (Some(object), None) => {
            object.remove(last);
        }
        (None, _) => {}
    }
}

/// Resolves the references `spec` sets, reading the referenced objects. `namespace` is the CR's.
pub async fn resolve(
    client: &Client,
    namespace: &str,
    spec: &Value,
    references: &[Reference],
) -> References {
    let mut resolved = Vec::new();
    for r in references {
        let Some(from) = get(spec, r.reference).and_then(|w| w.get("from")) else {
            continue;
        };
        let Some(name) = from
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        else {
            return References::Unresolved(format!("spec.{}.from.name is not set", r.reference));
        };
        let ns = from
            .get("namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or(namespace);
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(r.group, r.version, r.kind),
            r.plural,
        );
        let what = format!("{} {ns}/{name} (spec.{})", r.kind, r.reference);
        let object = match Api::<DynamicObject>::namespaced_with(client.clone(), ns, &resource)
            .get_opt(name)
            .await
        {
            Ok(Some(object)) => object,
            Ok(None) => return References::Unresolved(format!("{what} does not exist")),
            Err(e) => return References::Unresolved(format!("reading {what}: {e}")),
        };
        let synced = object.data["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == conditions::RESOURCE_SYNCED && c["status"] == "True");
        if !synced {
            return References::Unresolved(format!(
                "{what} is not {}=True yet",
                conditions::RESOURCE_SYNCED
            ));
        }
        match get(&object.data, r.path).and_then(Value::as_str) {
            Some(value) if !value.is_empty() => resolved.push((r.field, value.to_string())),
            _ => return References::Unresolved(format!("{what} has no {}", r.path)),
        }
    }
    if resolved.is_empty() {
        References::None
    } else {
        References::Resolved(resolved)
    }
}

/// `spec` with the resolved values in their fields.
pub fn apply(spec: &mut Value, resolved: &[(&'static str, String)]) {
    for (field, value) in resolved {
        set(spec, field, Some(Value::String(value.clone())));
    }
}

/// Puts back into `spec` (about to be written to Kubernetes) what the CR itself had in the
/// resolved fields, so a resolved value is never stored.
pub fn restore(spec: &mut Value, original: &Value, resolved: &[(&'static str, String)]) {
    for (field, _) in resolved {
        set(spec, field, get(original, field).cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_applied_and_restored_by_dotted_path() {
        let original = json!({"topicRef": {"from": {"name": "t"}}, "protocol": "sqs"});
        let mut spec = original.clone();
        let resolved = vec![("topicARN", "arn:t".to_string()), ("a.b", "v".to_string())];
        apply(&mut spec, &resolved);
        assert_eq!(spec["topicARN"], "arn:t");
        assert_eq!(spec["a"]["b"], "v");
        restore(&mut spec, &original, &resolved);
        assert_eq!(spec["topicARN"], Value::Null);
        assert_eq!(spec["a"], json!({}));
        assert_eq!(spec["protocol"], "sqs");
    }
}
