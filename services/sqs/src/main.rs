//! `sqs-controller`: the ACK-compatible SQS controller process.

use ack_runtime::aws::CallCounter;
use ack_runtime::process::{self, ManagerContext};
use ack_sqs::QueueManager;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    process::run(
        "sqs",
        env!("CARGO_PKG_VERSION"),
        |ctx: ManagerContext| async move {
            let config = aws_sdk_sqs::config::Builder::from(&ctx.sdk)
                .interceptor(CallCounter {
                    service: "sqs",
                    metrics: ctx.metrics,
                })
                .build();
            Ok(QueueManager::new(aws_sdk_sqs::Client::from_conf(config)))
        },
    )
    .await
}
