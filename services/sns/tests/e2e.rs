//! End to end: the generated Topic and Subscription managers in the runtime's controller,
//! against a real kube-apiserver and the AWS emulator over HTTP with the real SDK. Each test
//! runs its own controllers watching its own namespace; the emulator is shared, so names are
//! unique. AWS state is always checked by reading AWS.

use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ack_runtime::metrics::Metrics;
use ack_sns::{Subscription, SubscriptionManager, Topic, TopicManager};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use testenv::TestEnv;
use testenv::controllers::ACCOUNT;

const TIMEOUT: Duration = Duration::from_secs(30);
const SYNCED: &str = "ACK.ResourceSynced";

/// One test's namespace, its two controllers and SDK clients for checking AWS.
struct World {
    topics: Api<Topic>,
    subscriptions: Api<Subscription>,
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    namespace: String,
    controllers: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for World {
    fn drop(&mut self) {
        self.controllers.iter().for_each(|c| c.abort());
    }
}

async fn world(prefix: &str) -> World {
    let env = TestEnv::get();
    let crds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crds");
    env.install_crds(&[
        &crds.join("sns.services.k8s.aws_topics.yaml"),
        &crds.join("sns.services.k8s.aws_subscriptions.yaml"),
    ])
    .await
    .expect("installing the SNS CRDs");
    let client = env.client().await;
    let namespace = env.namespace(prefix).await;
    let sdk = env.aws().await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let controllers = vec![
        testenv::spawn_controller(
            env,
            TopicManager::new(sns.clone()),
            client.clone(),
            &namespace,
            2,
            Metrics::default(),
        ),
        testenv::spawn_controller(
            env,
            SubscriptionManager::new(sns.clone()),
            client.clone(),
            &namespace,
            2,
            Metrics::default(),
        ),
    ];
    World {
        topics: Api::namespaced(client.clone(), &namespace),
        subscriptions: Api::namespaced(client, &namespace),
        namespace,
        sns,
        sqs: aws_sdk_sqs::Client::new(&sdk),
        controllers,
    }
}

/// A name no other test or run uses.
fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}-{nanos}", std::process::id())
}

fn cr<K: DeserializeOwned>(kind: &str, name: &str, spec: Value, annotations: Value) -> K {
    serde_json::from_value(json!({
        "apiVersion": "sns.services.k8s.aws/v1alpha1",
        "kind": kind,
        "metadata": { "name": name, "annotations": annotations },
        "spec": spec,
    }))
    .expect("a valid CR")
}

/// Polls `check` until it returns `Some`, failing with `what` after [`TIMEOUT`].
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn arn_of(status: Option<&ack_sns::generated::common::AckResourceMetadata>) -> String {
    status
        .and_then(|m| m.arn.clone())
        .expect("status.ackResourceMetadata.arn")
}

impl World {
    async fn synced_topic(&self, name: &str) -> Topic {
        testenv::wait_for_condition(&self.topics, name, SYNCED, "True", TIMEOUT)
            .await
            .unwrap()
    }

    async fn synced_subscription(&self, name: &str) -> Subscription {
        testenv::wait_for_condition(&self.subscriptions, name, SYNCED, "True", TIMEOUT)
            .await
            .unwrap()
    }

    async fn topic_attribute(&self, arn: &str, key: &str) -> Option<String> {
        let out = self
            .sns
            .get_topic_attributes()
            .topic_arn(arn)
            .send()
            .await
            .ok()?;
        out.attributes?.get(key).cloned()
    }

    async fn topic_tags(&self, arn: &str) -> Vec<(String, String)> {
        let out = self
            .sns
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .expect("ListTagsForResource");
        let mut tags: Vec<_> = out
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect();
        tags.sort();
        tags
    }

    async fn topic_exists(&self, arn: &str) -> bool {
        match self.sns.get_topic_attributes().topic_arn(arn).send().await {
            Ok(_) => true,
            Err(e) => {
                let code = aws_sdk_sns::error::ProvideErrorMetadata::code(&e).map(str::to_string);
                assert_eq!(code.as_deref(), Some("NotFound"), "{e:?}");
                false
            }
        }
    }
}

fn user_tags(tags: &[(String, String)]) -> Vec<(&str, &str)> {
    tags.iter()
        .filter(|(k, _)| {
            !k.starts_with("services.k8s.aws/") && !k.starts_with("aws:") && k != "ack-rs.dev/owner"
        })
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// Create with tags and attributes; change one attribute (one SetTopicAttributes call) and the
/// tags (TagResource / UntagResource); delete.
#[tokio::test(flavor = "multi_thread")]
async fn topic_create_update_tags_delete() {
    let w = world("sns-topic").await;
    let name = unique("topic");
    let topic: Topic = cr(
        "Topic",
        &name,
        json!({
            "name": name,
            "displayName": "first",
            "deliveryPolicy": r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":3}}}"#,
            "tags": [{"key": "team", "value": "a"}, {"key": "gone", "value": "soon"}],
        }),
        json!({}),
    );
    w.topics
        .create(&PostParams::default(), &topic)
        .await
        .unwrap();
    let synced = w.synced_topic(&name).await;
    let status = synced.status.as_ref().unwrap();
    let arn = arn_of(status.ack_resource_metadata.as_ref());
    assert_eq!(
        arn,
        format!(
            "arn:aws:sns:{}:{ACCOUNT}:{name}",
            TestEnv::get().endpoints.region
        )
    );
    assert_eq!(status.topic_arn.as_deref(), Some(arn.as_str()));
    assert_eq!(
        w.topic_attribute(&arn, "DisplayName").await.as_deref(),
        Some("first")
    );
    let tags = w.topic_tags(&arn).await;
    assert_eq!(user_tags(&tags), [("gone", "soon"), ("team", "a")]);
    assert!(
        tags.iter().any(|(k, _)| k == "services.k8s.aws/namespace"),
        "{tags:?}"
    );
    let (owner_key, owner) = TestEnv::get().owner_tag(&w.namespace, "Topic", &name).await;
    assert!(
        tags.contains(&(owner_key, owner)),
        "the ownership stamp went with the create: {tags:?}"
    );

    let patch = json!({"spec": {
        "displayName": "second",
        "tags": [{"key": "team", "value": "b"}],
    }});
    w.topics
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    eventually("the new display name and tags in AWS", || async {
        let shown = w.topic_attribute(&arn, "DisplayName").await;
        let tags = w.topic_tags(&arn).await;
        (shown.as_deref() == Some("second") && user_tags(&tags) == [("team", "b")]).then_some(())
    })
    .await;
    // The delivery policy SNS stores reformatted is no change: the topic settles as Synced.
    let synced = w.synced_topic(&name).await;
    assert_eq!(synced.spec.display_name.as_deref(), Some("second"));

    w.topics
        .delete(&name, &DeleteParams::default())
        .await
        .unwrap();
    eventually("the topic gone from AWS", || async {
        (!w.topic_exists(&arn).await).then_some(())
    })
    .await;
}

/// A topic made outside Kubernetes is adopted by its ARN (ACK's `arn` adoption field): its
/// name, attributes and tags come into the spec; a changed attribute is then managed.
#[tokio::test(flavor = "multi_thread")]
async fn topic_adopted_by_arn() {
    let w = world("sns-adopt").await;
    let name = unique("adopted");
    let made = w
        .sns
        .create_topic()
        .name(&name)
        .attributes("DisplayName", "outside")
        .tags(
            aws_sdk_sns::types::Tag::builder()
                .key("owner")
                .value("cfn")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let arn = made.topic_arn.unwrap();
    // As CloudFormation leaves them: the controller never puts them in the CR nor removes them.
    let system = std::collections::BTreeMap::from([(
        "aws:cloudformation:stack-name".to_string(),
        "stack-1".to_string(),
    )]);
    let a = arn.clone();
    tokio::task::spawn_blocking(move || {
        TestEnv::get()
            .emulator()
            .set_system_tags("sns", &a, &system)
    })
    .await
    .unwrap()
    .expect("giving the topic system tags");
    let topic: Topic = cr(
        "Topic",
        &name,
        json!({"name": name}),
        json!({
            "services.k8s.aws/adoption-policy": "adopt",
            "services.k8s.aws/adoption-fields": json!({"arn": arn}).to_string(),
        }),
    );
    w.topics
        .create(&PostParams::default(), &topic)
        .await
        .unwrap();
    let adopted = w.synced_topic(&name).await;
    assert_eq!(adopted.spec.name, name);
    assert_eq!(adopted.spec.display_name.as_deref(), Some("outside"));
    let tags = adopted.spec.tags.clone().unwrap_or_default();
    assert!(
        tags.iter()
            .any(|t| t.key.as_deref() == Some("owner") && t.value.as_deref() == Some("cfn")),
        "{tags:?}"
    );

    assert!(
        !tags
            .iter()
            .any(|t| t.key.as_deref().is_some_and(|k| k.starts_with("aws:")))
    );

    // A tag change on the adopted topic keeps AWS's system tag.
    let patch =
        json!({"spec": {"displayName": "managed", "tags": [{"key": "team", "value": "x"}]}});
    w.topics
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    eventually("the managed display name in AWS", || async {
        (w.topic_attribute(&arn, "DisplayName").await.as_deref() == Some("managed")
            && user_tags(&w.topic_tags(&arn).await) == [("team", "x")])
        .then_some(())
    })
    .await;
    let tags = w.topic_tags(&arn).await;
    assert!(
        tags.contains(&("aws:cloudformation:stack-name".into(), "stack-1".into())),
        "{tags:?}"
    );
    w.topics
        .delete(&name, &DeleteParams::default())
        .await
        .unwrap();
    eventually("the adopted topic deleted", || async {
        (!w.topic_exists(&arn).await).then_some(())
    })
    .await;
}

/// A queue subscribed to a topic: created with an attribute, the attribute changed (one
/// SetSubscriptionAttributes call), unsubscribed on delete.
#[tokio::test(flavor = "multi_thread")]
async fn subscription_to_a_queue() {
    let w = world("sns-sub").await;
    let name = unique("subscribed");
    let queue_url = w
        .sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = w
        .sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    let topic: Topic = cr("Topic", &name, json!({"name": name}), json!({}));
    w.topics
        .create(&PostParams::default(), &topic)
        .await
        .unwrap();
    let topic_arn = arn_of(
        w.synced_topic(&name)
            .await
            .status
            .unwrap()
            .ack_resource_metadata
            .as_ref(),
    );

    let subscription: Subscription = cr(
        "Subscription",
        &name,
        json!({
            "topicARN": topic_arn,
            "protocol": "sqs",
            "endpoint": queue_arn,
            "rawMessageDelivery": "true",
        }),
        json!({}),
    );
    w.subscriptions
        .create(&PostParams::default(), &subscription)
        .await
        .unwrap();
    let synced = w.synced_subscription(&name).await;
    let arn = arn_of(synced.status.unwrap().ack_resource_metadata.as_ref());
    assert!(arn.starts_with(&format!("{topic_arn}:")), "{arn}");
    let attribute = |key: &'static str| {
        let (sns, arn) = (w.sns.clone(), arn.clone());
        async move {
            let out = sns
                .get_subscription_attributes()
                .subscription_arn(arn)
                .send()
                .await
                .ok()?;
            out.attributes?.get(key).cloned()
        }
    };
    assert_eq!(
        attribute("RawMessageDelivery").await.as_deref(),
        Some("true")
    );
    assert_eq!(
        attribute("Endpoint").await.as_deref(),
        Some(queue_arn.as_str())
    );

    let patch = json!({"spec": {"rawMessageDelivery": "false"}});
    w.subscriptions
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    eventually("rawMessageDelivery false in AWS", || async {
        (attribute("RawMessageDelivery").await.as_deref() == Some("false")).then_some(())
    })
    .await;

    w.subscriptions
        .delete(&name, &DeleteParams::default())
        .await
        .unwrap();
    eventually("the subscription gone from AWS", || async {
        attribute("Protocol").await.is_none().then_some(())
    })
    .await;
    w.topics
        .delete(&name, &DeleteParams::default())
        .await
        .unwrap();
    w.sqs
        .delete_queue()
        .queue_url(&queue_url)
        .send()
        .await
        .unwrap();
}

/// A subscription naming its topic by `topicRef`: while the Topic CR does not exist, nothing is
/// sent to AWS and `ACK.ReferencesResolved=False` says why; once the topic is Synced the
/// subscription is made on its ARN, and the resolved ARN is not written into the spec.
#[tokio::test(flavor = "multi_thread")]
async fn subscription_resolves_its_topic_ref() {
    let w = world("sns-ref").await;
    let name = unique("referenced");
    let queue_url = w
        .sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = format!(
        "arn:aws:sqs:{}:{ACCOUNT}:{name}",
        TestEnv::get().endpoints.region
    );
    let subscription: Subscription = cr(
        "Subscription",
        &name,
        json!({
            "topicRef": {"from": {"name": name}},
            "protocol": "sqs",
            "endpoint": queue_arn,
        }),
        json!({}),
    );
    w.subscriptions
        .create(&PostParams::default(), &subscription)
        .await
        .unwrap();
    let waiting = testenv::wait_for_condition(
        &w.subscriptions,
        &name,
        "ACK.ReferencesResolved",
        "False",
        TIMEOUT,
    )
    .await
    .unwrap();
    let message = waiting
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "ACK.ReferencesResolved"))
        .and_then(|c| c.message.clone())
        .unwrap_or_default();
    assert!(message.contains("does not exist"), "{message}");
    assert!(
        waiting
            .status
            .as_ref()
            .unwrap()
            .ack_resource_metadata
            .as_ref()
            .and_then(|m| m.arn.as_ref())
            .is_none()
    );

    let topic: Topic = cr("Topic", &name, json!({"name": name}), json!({}));
    w.topics
        .create(&PostParams::default(), &topic)
        .await
        .unwrap();
    let topic_arn = arn_of(
        w.synced_topic(&name)
            .await
            .status
            .unwrap()
            .ack_resource_metadata
            .as_ref(),
    );
    let synced = w.synced_subscription(&name).await;
    assert_eq!(
        synced.spec.topic_arn, None,
        "the resolved ARN stays out of the spec"
    );
    let arn = arn_of(synced.status.unwrap().ack_resource_metadata.as_ref());
    let attributes = w
        .sns
        .get_subscription_attributes()
        .subscription_arn(&arn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(attributes.get("TopicArn"), Some(&topic_arn));
    assert_eq!(attributes.get("Endpoint"), Some(&queue_arn));

    w.subscriptions
        .delete(&name, &DeleteParams::default())
        .await
        .unwrap();
    eventually("the subscription gone from AWS", || async {
        w.sns
            .get_subscription_attributes()
            .subscription_arn(&arn)
            .send()
            .await
            .is_err()
            .then_some(())
    })
    .await;
    w.topics
        .delete(&name, &DeleteParams::default())
        .await
        .unwrap();
    w.sqs
        .delete_queue()
        .queue_url(&queue_url)
        .send()
        .await
        .unwrap();
}
