//! `ack-rs status`: every ACK resource in the cluster with its mode, whether it is synced, and
//! the last error — the view to watch before switching adopted resources to managed.

use ack_runtime::annotations::{self, ADOPTION_POLICY, Annotations};
use ack_runtime::conditions::{RECOVERABLE, RESOURCE_SYNCED, TERMINAL};
use anyhow::Result;
use kube::api::{Api, DynamicObject, ListParams};
use kube::discovery::{Discovery, Scope};
use serde::Serialize;
use serde_json::Value;

/// ACK's service groups end so; the bare group holds FieldExport and IAMRoleSelector, which are
/// not AWS resources.
const ACK_GROUP_SUFFIX: &str = ".services.k8s.aws";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// `services.k8s.aws/read-only`: observed, never changed.
    ReadOnly,
    /// An adoption policy, and the controller has not adopted it (yet).
    Adopting,
    /// An adoption policy, and the controller has adopted it.
    Adopted,
    /// No adoption policy: the spec is the desired state.
    Managed,
}

/// One row of the status view.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub mode: Mode,
    /// `True`, `False`, `Unknown`, or empty before the controller has looked at it.
    pub synced: String,
    pub last_error: Option<String>,
}

pub fn mode(annotations: Option<&Annotations>) -> Mode {
    // A malformed read-only value counts as read-only here: the controller refuses it, and
    // nothing about it is managed.
    let read_only = annotations
        .and_then(|a| a.get(annotations::READ_ONLY))
        .is_some_and(|v| annotations::parse_read_only(v).unwrap_or(true));
    let has_policy = annotations.is_some_and(|a| a.contains_key(ADOPTION_POLICY));
    match (read_only, has_policy, annotations::is_adopted(annotations)) {
        (true, _, _) => Mode::ReadOnly,
        (false, true, true) => Mode::Adopted,
        (false, true, false) => Mode::Adopting,
        (false, false, _) => Mode::Managed,
    }
}

fn condition<'a>(obj: &'a DynamicObject, type_: &str) -> Option<&'a Value> {
    obj.data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

fn message(condition: &Value) -> Option<String> {
    let text = condition["message"]
        .as_str()
        .or(condition["reason"].as_str())?;
    Some(text.to_string())
}

pub fn row(kind: &str, obj: &DynamicObject) -> Row {
    let synced = condition(obj, RESOURCE_SYNCED);
    let failing = |type_: &str| condition(obj, type_).filter(|c| c["status"] == "True");
    let last_error = failing(TERMINAL)
        .or_else(|| failing(RECOVERABLE))
        .or(synced.filter(|c| c["status"] == "False"))
        .and_then(message);
    Row {
        kind: kind.to_string(),
        namespace: obj.metadata.namespace.clone().unwrap_or_default(),
        name: obj.metadata.name.clone().unwrap_or_default(),
        mode: mode(obj.metadata.annotations.as_ref()),
        synced: synced
            .and_then(|c| c["status"].as_str())
            .unwrap_or_default()
            .to_string(),
        last_error,
    }
}

/// Every ACK resource the cluster serves, in `namespace` or all namespaces.
pub async fn rows(client: &kube::Client, namespace: Option<&str>) -> Result<Vec<Row>> {
    let discovery = Discovery::new(client.clone()).run().await?;
    let mut rows = Vec::new();
    for group in discovery.groups() {
        if !group.name().ends_with(ACK_GROUP_SUFFIX) {
            continue;
        }
        for (resource, caps) in group.recommended_resources() {
            let api: Api<DynamicObject> = match (caps.scope, namespace) {
                (Scope::Namespaced, Some(ns)) => {
                    Api::namespaced_with(client.clone(), ns, &resource)
                }
                _ => Api::all_with(client.clone(), &resource),
            };
            for obj in api.list(&ListParams::default()).await? {
                rows.push(row(&resource.kind, &obj));
            }
        }
    }
    rows.sort_by(|a, b| (&a.namespace, &a.kind, &a.name).cmp(&(&b.namespace, &b.kind, &b.name)));
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(annotations: Value, conditions: Value) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "sqs.services.k8s.aws/v1alpha1",
            "kind": "Queue",
            "metadata": {"name": "jobs", "namespace": "app", "annotations": annotations},
            "status": {"conditions": conditions},
        }))
        .unwrap()
    }

    #[test]
    fn modes() {
        let of = |a: Value| mode(Some(&serde_json::from_value(a).unwrap()));
        assert_eq!(mode(None), Mode::Managed);
        assert_eq!(
            of(json!({"services.k8s.aws/read-only": "true"})),
            Mode::ReadOnly
        );
        assert_eq!(
            of(json!({"services.k8s.aws/read-only": "maybe"})),
            Mode::ReadOnly
        );
        assert_eq!(
            of(json!({"services.k8s.aws/read-only": "false"})),
            Mode::Managed
        );
        assert_eq!(
            of(json!({"services.k8s.aws/adoption-policy": "adopt"})),
            Mode::Adopting
        );
        assert_eq!(
            of(json!({"services.k8s.aws/adoption-policy": "adopt",
                      "services.k8s.aws/adopted": "true"})),
            Mode::Adopted
        );
        assert_eq!(
            of(json!({"services.k8s.aws/adopted": "true"})),
            Mode::Managed
        );
    }

    #[test]
    fn the_last_error_prefers_terminal() {
        let obj = object(
            json!({}),
            json!([
                {"type": "ACK.ResourceSynced", "status": "False", "message": "not yet"},
                {"type": "ACK.Recoverable", "status": "True", "message": "throttled"},
                {"type": "ACK.Terminal", "status": "True", "message": "bad name"},
            ]),
        );
        let row = row("Queue", &obj);
        assert_eq!(row.synced, "False");
        assert_eq!(row.last_error.as_deref(), Some("bad name"));
        let healthy = object(
            json!({}),
            json!([
                {"type": "ACK.ResourceSynced", "status": "True"},
                {"type": "ACK.Terminal", "status": "False", "message": "old"},
            ]),
        );
        assert_eq!(super::row("Queue", &healthy).last_error, None);
    }
}
