//! Queue quirks: SQS names a queue by the last segment of its URL, rewrites the JSON of policies
//! it stores, and reports `FifoQueue` only for FIFO queues.

use ack_runtime::{Delta, ReconcileError};
use serde_json::Value;

use crate::Queue;

/// The queue's name is the last segment of the URL the read used, so a changed `queueName`
/// shows as a delta (and is refused as immutable) instead of being silently ignored.
pub fn after_read_one(_desired: &Queue, latest: &mut Queue) {
    if let Some(name) = queue_url(latest).and_then(queue_name) {
        latest.spec.queue_name = name.to_string();
    }
}

/// Adopting by `queueURL` names the queue too, so adopt-or-create creates the queue the URL
/// names when it does not exist.
pub fn after_adoption_fields(resource: &mut Queue) -> Result<(), ReconcileError> {
    let url = queue_url(resource).unwrap_or_default();
    let name = queue_name(url).ok_or_else(|| {
        ReconcileError::terminal(
            "InvalidAdoptionFields",
            format!("queueURL {url:?} does not end in a queue name"),
        )
    })?;
    resource.spec.queue_name = name.to_string();
    Ok(())
}

/// Drops differences SQS makes itself: reformatted JSON documents, and no `FifoQueue` for a
/// standard queue the spec calls `fifoQueue: "false"`.
pub fn delta(desired: &Queue, latest: &Queue, delta: &mut Delta) {
    let (wanted, actual) = (&desired.spec, &latest.spec);
    let same = |path: &str| match path {
        "spec.policy" => same_json(&wanted.policy, &actual.policy),
        "spec.redrivePolicy" => same_json(&wanted.redrive_policy, &actual.redrive_policy),
        "spec.redriveAllowPolicy" => {
            same_json(&wanted.redrive_allow_policy, &actual.redrive_allow_policy)
        }
        "spec.fifoQueue" => {
            wanted.fifo_queue.as_deref() == Some("false") && actual.fifo_queue.is_none()
        }
        _ => false,
    };
    delta.paths.retain(|path| !same(path));
}

fn queue_url(queue: &Queue) -> Option<&str> {
    queue.status.as_ref()?.queue_url.as_deref()
}

/// `https://sqs.us-west-2.amazonaws.com/123456789012/orders` → `orders`.
fn queue_name(url: &str) -> Option<&str> {
    let (_, name) = url.trim_end_matches('/').rsplit_once('/')?;
    (!name.is_empty()).then_some(name)
}

/// Both are JSON documents that mean the same.
fn same_json(a: &Option<String>, b: &Option<String>) -> bool {
    match (
        a.as_deref().and_then(canonical),
        b.as_deref().and_then(canonical),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// A JSON document with its numbers as strings: SQS answers `"maxReceiveCount": "5"` with `5`.
fn canonical(text: &str) -> Option<Value> {
    fn numbers_as_strings(value: Value) -> Value {
        match value {
            Value::Number(n) => Value::String(n.to_string()),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(numbers_as_strings).collect())
            }
            Value::Object(fields) => Value::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (k, numbers_as_strings(v)))
                    .collect(),
            ),
            other => other,
        }
    }
    serde_json::from_str(text).ok().map(numbers_as_strings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{QueueSpec, QueueStatus};

    fn queue(url: Option<&str>, spec: QueueSpec) -> Queue {
        let mut queue = Queue::new("q", spec);
        queue.status = Some(QueueStatus {
            queue_url: url.map(str::to_string),
            ..Default::default()
        });
        queue
    }

    #[test]
    fn names_come_from_urls() {
        assert_eq!(
            queue_name("https://sqs.us-west-2.amazonaws.com/123456789012/orders"),
            Some("orders")
        );
        assert_eq!(
            queue_name("http://127.0.0.1:4566/123456789012/a.fifo/"),
            Some("a.fifo")
        );
        assert_eq!(queue_name("orders"), None);

        let mut adopted = queue(Some("https://h/1/orders"), QueueSpec::default());
        after_adoption_fields(&mut adopted).unwrap();
        assert_eq!(adopted.spec.queue_name, "orders");
        let error =
            after_adoption_fields(&mut queue(Some("nonsense"), QueueSpec::default())).unwrap_err();
        assert!(error.is_terminal() && error.to_string().contains("\"nonsense\""));
    }

    #[test]
    fn reformatted_json_and_implicit_fifo_false_are_no_delta() {
        let desired = queue(
            None,
            QueueSpec {
                policy: Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into()),
                redrive_policy: Some(
                    r#"{"deadLetterTargetArn":"arn:d","maxReceiveCount":"5"}"#.into(),
                ),
                redrive_allow_policy: Some(r#"{"redrivePermission":"allowAll"}"#.into()),
                fifo_queue: Some("false".into()),
                ..Default::default()
            },
        );
        let latest = queue(
            None,
            QueueSpec {
                policy: Some(r#"{"Statement": [], "Version": "2012-10-17"}"#.into()),
                redrive_policy: Some(
                    r#"{"deadLetterTargetArn": "arn:d", "maxReceiveCount": 5}"#.into(),
                ),
                redrive_allow_policy: Some(r#"{"redrivePermission":"denyAll"}"#.into()),
                ..Default::default()
            },
        );
        let mut d = Delta {
            paths: [
                "spec.policy",
                "spec.redrivePolicy",
                "spec.redriveAllowPolicy",
                "spec.fifoQueue",
                "spec.delaySeconds",
            ]
            .map(String::from)
            .to_vec(),
        };
        delta(&desired, &latest, &mut d);
        assert_eq!(d.paths, ["spec.redriveAllowPolicy", "spec.delaySeconds"]);
    }

    #[test]
    fn invalid_json_stays_a_delta() {
        assert!(!same_json(
            &Some("not json".into()),
            &Some("not json".into())
        ));
        assert!(!same_json(&Some("{}".into()), &None));
    }
}
