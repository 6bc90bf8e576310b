//! `sns-controller`: the ACK-compatible SNS controller process (Topic and Subscription).

use ack_runtime::aws::CallCounter;
use ack_runtime::process::{self, ManagerContext, ServiceInfo};
use ack_sns::{SubscriptionManager, TopicManager};

/// An SNS client for one region (and identity), counting its calls.
fn client(ctx: &ManagerContext) -> aws_sdk_sns::Client {
    let config = aws_sdk_sns::config::Builder::from(&ctx.sdk)
        .interceptor(CallCounter {
            service: "sns",
            metrics: ctx.metrics.clone(),
        })
        .build();
    aws_sdk_sns::Client::from_conf(config)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    process::run_service(
        ServiceInfo {
            alias: "sns",
            version: env!("CARGO_PKG_VERSION"),
            // ACK's sns-controller also has these; ack-rs serves Topic and Subscription.
            ack_kinds: &["PlatformApplication", "PlatformEndpoint"],
        },
        (
            |ctx: ManagerContext| async move { Ok(TopicManager::new(client(&ctx))) },
            |ctx: ManagerContext| async move { Ok(SubscriptionManager::new(client(&ctx))) },
        ),
    )
    .await
}
