//! The controller is killed part-way through creating 50 queues and a fresh one takes over: every
//! Queue ends Synced, and AWS holds exactly the 50 queues, each the one its CR's status names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use ack_runtime::aws::CallCounter;
use ack_runtime::metrics::Metrics;
use ack_sqs::{Queue, QueueManager};
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;
use testenv::TestEnv;

const SYNCED: &str = "ACK.ResourceSynced";
const COUNT: usize = 50;
/// The first controller is stopped once at least this many queues are Synced…
const STOP_AFTER: usize = 10;
/// …and at the latest once this many are.
const STOP_LATEST: usize = 30;

/// A controller for `namespace`, running as a task of the test's runtime.
async fn start_controller(namespace: &str) -> tokio::task::JoinHandle<()> {
    let env = TestEnv::get();
    let sdk = env.aws().await;
    let metrics = Metrics::default();
    let config = aws_sdk_sqs::config::Builder::from(&sdk)
        .interceptor(CallCounter {
            service: "sqs",
            metrics: metrics.clone(),
        })
        .build();
    testenv::spawn_controller(
        env,
        QueueManager::new(aws_sdk_sqs::Client::from_conf(config)),
        env.client().await,
        namespace,
        2,
        metrics,
    )
}

fn is_synced(queue: &Queue) -> bool {
    testenv::condition_status(queue, SYNCED).as_deref() == Some("True")
}

/// The CRs' names and which of them are Synced.
async fn synced(api: &Api<Queue>) -> (Vec<Queue>, usize) {
    let queues = api.list(&ListParams::default()).await.unwrap().items;
    let n = queues.iter().filter(|q| is_synced(q)).count();
    (queues, n)
}

/// Every queue URL in AWS whose name starts with `prefix` (all pages).
async fn aws_queues(sqs: &aws_sdk_sqs::Client, prefix: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let mut token = None;
    loop {
        let out = sqs
            .list_queues()
            .queue_name_prefix(prefix)
            .max_results(1000)
            .set_next_token(token)
            .send()
            .await
            .expect("ListQueues");
        urls.extend(out.queue_urls.unwrap_or_default());
        token = out.next_token;
        if token.is_none() {
            return urls;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_way_through_fifty_creates_leaves_exactly_fifty_queues() {
    let env = TestEnv::get();
    let crd =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crds/sqs.services.k8s.aws_queues.yaml");
    env.install_crds(&[&crd])
        .await
        .expect("installing the Queue CRD");
    let namespace = env.namespace("sqs-restart").await;
    let api: Api<Queue> = Api::namespaced(env.client().await, &namespace);
    let sqs = aws_sdk_sqs::Client::new(&env.aws().await);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000;
    let prefix = format!("restart-{}-{nanos}-", std::process::id());

    let names: Vec<String> = (0..COUNT).map(|i| format!("{prefix}{i:02}")).collect();
    for name in &names {
        let queue: Queue = serde_json::from_value(json!({
            "apiVersion": "sqs.services.k8s.aws/v1alpha1",
            "kind": "Queue",
            "metadata": { "name": name },
            "spec": { "queueName": name, "delaySeconds": "1", "tags": { "run": prefix } },
        }))
        .unwrap();
        api.create(&PostParams::default(), &queue)
            .await
            .expect("creating a Queue");
    }

    // The first controller, stopped once some (not all) are Synced: preferably at a moment when
    // AWS has a queue whose CR does not yet say so (a create in flight), else at STOP_LATEST.
    let first = start_controller(&namespace).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let (at_stop, in_flight) = loop {
        let (_, n) = synced(&api).await;
        if n >= STOP_AFTER {
            let in_aws = aws_queues(&sqs, &prefix).await.len();
            if in_aws > n || n >= STOP_LATEST {
                first.abort();
                break (n, in_aws > n);
            }
        }
        assert!(Instant::now() < deadline, "only {n} Synced after 60s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert!(first.await.unwrap_err().is_cancelled());
    let (_, after_stop) = synced(&api).await;
    let in_aws_at_stop = aws_queues(&sqs, &prefix).await.len();
    eprintln!(
        "first controller stopped with {at_stop} Synced ({after_stop} after it ended), \
         a create in flight: {in_flight}; {in_aws_at_stop} queues in AWS"
    );
    assert!(
        after_stop < COUNT,
        "all {COUNT} were Synced before the controller could be stopped: nothing was restarted"
    );

    // A fresh controller finishes the job.
    let second = start_controller(&namespace).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let queues = loop {
        let (queues, n) = synced(&api).await;
        if n == COUNT {
            break queues;
        }
        assert!(
            Instant::now() < deadline,
            "only {n} of {COUNT} Synced 120s after the restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    second.abort();

    let in_aws = aws_queues(&sqs, &prefix).await;
    let unique: BTreeSet<&String> = in_aws.iter().collect();
    assert_eq!(unique.len(), in_aws.len(), "duplicate URLs: {in_aws:?}");
    assert_eq!(
        in_aws.len(),
        COUNT,
        "exactly {COUNT} queues in AWS: {in_aws:?}"
    );
    let aws_names: BTreeSet<String> = in_aws
        .iter()
        .map(|u| u.rsplit('/').next().unwrap().to_string())
        .collect();
    let expected: BTreeSet<String> = names.iter().cloned().collect();
    assert_eq!(aws_names, expected, "AWS holds exactly the 50 queues named");

    let by_name: BTreeMap<String, String> = queues
        .iter()
        .map(|q| {
            let url = q
                .status
                .as_ref()
                .and_then(|s| s.queue_url.clone())
                .unwrap_or_else(|| panic!("{:?} has no status.queueURL", q.metadata.name));
            (q.metadata.name.clone().unwrap(), url)
        })
        .collect();
    assert_eq!(by_name.len(), COUNT);
    for (name, url) in &by_name {
        assert!(
            unique.contains(url),
            "{name}: status.queueURL {url} is not a queue in AWS"
        );
        assert_eq!(
            url.rsplit('/').next(),
            Some(name.as_str()),
            "{name}: status.queueURL {url} names another queue"
        );
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::DelaySeconds)
            .send()
            .await
            .expect("GetQueueAttributes")
            .attributes
            .unwrap_or_default();
        assert_eq!(
            attributes
                .get(&aws_sdk_sqs::types::QueueAttributeName::DelaySeconds)
                .map(String::as_str),
            Some("1"),
            "{name}: the spec reached AWS"
        );
    }
}
