//! Topic quirks: a topic's name is the last part of its ARN (no call returns the name), and SNS
//! rewrites the JSON documents it stores.

use ack_runtime::{Delta, ReconcileError};

use super::json::drop_same_documents;
use crate::Topic;

/// The name is the ARN's last part, so a changed `name` shows as a delta (and is refused as
/// immutable) instead of being silently ignored.
pub fn after_read_one(_desired: &Topic, latest: &mut Topic) {
    if let Some(name) = topic_arn(latest).and_then(topic_name) {
        latest.spec.name = name.to_string();
    }
}

/// Adopting by `arn` names the topic too, so adopt-or-create makes the topic the ARN names.
pub fn after_adoption_fields(resource: &mut Topic) -> Result<(), ReconcileError> {
    let arn = topic_arn(resource).unwrap_or_default();
    let name = topic_name(arn).ok_or_else(|| {
        ReconcileError::terminal(
            "InvalidAdoptionFields",
            format!(
                "arn {arn:?} is not a topic ARN (arn:<partition>:sns:<region>:<account>:<name>)"
            ),
        )
    })?;
    resource.spec.name = name.to_string();
    Ok(())
}

/// Reformatted JSON documents are no change.
pub fn delta(desired: &Topic, latest: &Topic, delta: &mut Delta) {
    let (w, a) = (&desired.spec, &latest.spec);
    drop_same_documents(
        delta,
        &[
            ("spec.policy", &w.policy, &a.policy),
            (
                "spec.deliveryPolicy",
                &w.delivery_policy,
                &a.delivery_policy,
            ),
        ],
    );
}

fn topic_arn(topic: &Topic) -> Option<&str> {
    topic.status.as_ref()?.topic_arn.as_deref()
}

/// `arn:aws:sns:us-east-1:123456789012:orders` → `orders`.
fn topic_name(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "sns", _, _, name] if !name.is_empty() => Some(name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TopicSpec, TopicStatus};

    #[test]
    fn names_come_from_arns() {
        assert_eq!(
            topic_name("arn:aws:sns:us-east-1:123456789012:orders"),
            Some("orders")
        );
        assert_eq!(topic_name("arn:aws:sns:us-east-1:123456789012:a:b"), None);
        assert_eq!(topic_name("orders"), None);
        let mut topic = Topic::new("t", TopicSpec::default());
        topic.status = Some(TopicStatus {
            topic_arn: Some("arn:aws:sns:us-east-1:1:x.fifo".into()),
            ..Default::default()
        });
        after_adoption_fields(&mut topic).unwrap();
        assert_eq!(topic.spec.name, "x.fifo");
        topic.status.as_mut().unwrap().topic_arn = Some("nonsense".into());
        let error = after_adoption_fields(&mut topic).unwrap_err();
        assert!(error.is_terminal() && error.to_string().contains("\"nonsense\""));
    }
}
