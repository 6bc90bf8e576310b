//! The generated Queue manager's pure parts (no AWS call): delta, late initialisation, adoption
//! fields, immutable fields, ARN and tags.

use ack_runtime::{AdoptionFields, Delta, ResourceManager};
use ack_sqs::{Queue, QueueManager, QueueSpec, QueueStatus};

fn manager() -> QueueManager {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-west-2"))
        .build();
    QueueManager::new(aws_sdk_sqs::Client::from_conf(config))
}

fn queue(spec: QueueSpec) -> Queue {
    Queue::new("q", spec)
}

fn paths(delta: Delta) -> Vec<String> {
    delta.paths
}

#[test]
fn delta_compares_set_fields_and_ignores_tags() {
    let m = manager();
    let desired = queue(QueueSpec {
        queue_name: "orders".into(),
        delay_seconds: Some("5".into()),
        policy: Some(r#"{"Version": "2012-10-17"}"#.into()),
        tags: Some([("a".to_string(), "1".to_string())].into()),
        ..Default::default()
    });
    let latest = queue(QueueSpec {
        queue_name: "orders".into(),
        delay_seconds: Some("0".into()),
        visibility_timeout: Some("30".into()),
        policy: Some(r#"{"Version":"2012-10-17"}"#.into()),
        ..Default::default()
    });
    // visibilityTimeout is unset (AWS's to choose); the policy differs only in spacing (hook).
    assert_eq!(paths(m.delta(&desired, &latest)), ["spec.delaySeconds"]);
    let renamed = queue(QueueSpec {
        queue_name: "other".into(),
        ..latest.spec.clone()
    });
    assert_eq!(
        paths(m.delta(&renamed, &latest)),
        ["spec.queueName"],
        "spec.queueName is compared"
    );
    assert_eq!(m.immutable_fields(), ["spec.fifoQueue", "spec.queueName"]);
}

#[test]
fn late_initialize_fills_only_unset_attributes() {
    let m = manager();
    let mut desired = queue(QueueSpec {
        queue_name: "orders".into(),
        delay_seconds: Some("5".into()),
        ..Default::default()
    });
    let latest = queue(QueueSpec {
        queue_name: "orders".into(),
        delay_seconds: Some("0".into()),
        visibility_timeout: Some("30".into()),
        ..Default::default()
    });
    assert!(m.late_initialize(&mut desired, &latest));
    assert_eq!(desired.spec.delay_seconds.as_deref(), Some("5"));
    assert_eq!(desired.spec.visibility_timeout.as_deref(), Some("30"));
    assert!(
        !m.late_initialize(&mut desired, &latest),
        "nothing left to fill"
    );
}

#[test]
fn adoption_fields_name_the_queue() {
    let m = manager();
    let mut adopted = queue(QueueSpec::default());
    let url = "https://sqs.us-west-2.amazonaws.com/123456789012/orders";
    let fields =
        AdoptionFields::parse(&format!(r#"{{"queueURL": "{url}"}}"#), m.adoption_keys()).unwrap();
    m.apply_adoption_fields(&mut adopted, &fields).unwrap();
    assert_eq!(adopted.spec.queue_name, "orders");
    assert_eq!(
        adopted.status.as_ref().unwrap().queue_url.as_deref(),
        Some(url)
    );
}

#[test]
fn arn_and_tags() {
    let m = manager();
    let mut q = queue(QueueSpec::default());
    assert_eq!(m.arn(&q), None);
    q.status = Some(QueueStatus {
        queue_arn: Some("arn:aws:sqs:us-west-2:123456789012:orders".into()),
        ..Default::default()
    });
    assert_eq!(
        m.arn(&q).as_deref(),
        Some("arn:aws:sqs:us-west-2:123456789012:orders")
    );
    assert_eq!(m.spec_tags(&q), None);
    m.set_spec_tags(&mut q, [("team".to_string(), "a".to_string())].into());
    assert_eq!(
        m.spec_tags(&q),
        Some([("team".to_string(), "a".to_string())].into())
    );
}
