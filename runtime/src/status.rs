//! The parts of `status` every ACK resource shares, handled on the CR's JSON so the runtime needs
//! no knowledge of a kind's own status fields.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::conditions::Condition;

/// `status.ackResourceMetadata`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(
        rename = "ownerAccountID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub owner_account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// The account in an ARN (`arn:partition:service:region:account:resource`), when it carries one.
pub fn account_from_arn(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    (!account.is_empty()).then(|| account.to_string())
}

/// `status` of any serialisable CR as a JSON object (empty when absent).
pub fn status_object(resource: &impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(resource) {
        Ok(Value::Object(mut obj)) => match obj.remove("status") {
            Some(Value::Object(status)) => status,
            _ => Map::new(),
        },
        _ => Map::new(),
    }
}

/// `spec` of any serialisable CR (`null` when absent).
pub fn spec_value(resource: &impl Serialize) -> Value {
    serde_json::to_value(resource)
        .ok()
        .and_then(|mut v| v.get_mut("spec").map(Value::take))
        .unwrap_or(Value::Null)
}

/// `spec_from` with the `status` of `status_from`: what a manager reads AWS with after an update
/// (the spec says what to read, the status carries what the manager recorded, e.g. an id).
/// `spec_from` unchanged if the kind's JSON cannot take the swap.
pub fn with_status_of<R: Serialize + DeserializeOwned + Clone>(
    spec_from: &R,
    status_from: &R,
) -> R {
    let swapped = serde_json::to_value(spec_from).ok().and_then(|mut value| {
        let status = serde_json::to_value(status_from)
            .ok()?
            .get_mut("status")?
            .take();
        value.as_object_mut()?.insert("status".into(), status);
        serde_json::from_value(value).ok()
    });
    swapped.unwrap_or_else(|| spec_from.clone())
}

pub fn conditions(status: &Map<String, Value>) -> Vec<Condition> {
    status
        .get("conditions")
        .and_then(|c| serde_json::from_value(c.clone()).ok())
        .unwrap_or_default()
}

pub fn set_conditions(status: &mut Map<String, Value>, conditions: &[Condition]) {
    status.insert(
        "conditions".into(),
        serde_json::to_value(conditions).expect("conditions serialise"),
    );
}

pub fn set_metadata(status: &mut Map<String, Value>, metadata: &ResourceMetadata) {
    status.insert(
        "ackResourceMetadata".into(),
        serde_json::to_value(metadata).expect("metadata serialises"),
    );
}

pub fn metadata(status: &Map<String, Value>) -> ResourceMetadata {
    status
        .get("ackResourceMetadata")
        .and_then(|m| serde_json::from_value(m.clone()).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn account_comes_from_arns_that_carry_one() {
        assert_eq!(
            account_from_arn("arn:aws:sqs:us-west-2:123456789012:q").as_deref(),
            Some("123456789012")
        );
        assert_eq!(account_from_arn("arn:aws:s3:::bucket"), None);
        assert_eq!(account_from_arn("nonsense"), None);
    }

    #[test]
    fn reads_and_writes_shared_status_fields() {
        let cr = json!({"spec": {"a": 1}, "status": {"queueURL": "u",
            "ackResourceMetadata": {"arn": "arn:x", "ownerAccountID": "1"}}});
        let mut status = status_object(&cr);
        assert_eq!(metadata(&status).arn.as_deref(), Some("arn:x"));
        assert_eq!(spec_value(&cr), json!({"a": 1}));
        set_conditions(&mut status, &[]);
        assert_eq!(status["conditions"], json!([]));
        assert_eq!(status["queueURL"], "u", "kind-specific fields are kept");
    }

    #[test]
    fn swaps_in_another_status() {
        let desired = json!({"spec": {"a": 2}, "status": {"x": "old"}});
        let updated = json!({"spec": {"a": 1}, "status": {"x": "new"}});
        assert_eq!(
            with_status_of(&desired, &updated),
            json!({"spec": {"a": 2}, "status": {"x": "new"}})
        );
    }
}
