//! `dynamodb-controller`: the ACK-compatible DynamoDB controller process.

use ack_dynamodb::TableManager;
use ack_runtime::aws::CallCounter;
use ack_runtime::process::{self, ManagerContext, ServiceInfo};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    process::run_service(
        ServiceInfo {
            alias: "dynamodb",
            version: env!("CARGO_PKG_VERSION"),
            // ACK's dynamodb-controller also has these; ack-rs serves Table so far.
            ack_kinds: &["Backup", "GlobalTable", "Table"],
        },
        |ctx: ManagerContext| async move {
            let config = aws_sdk_dynamodb::config::Builder::from(&ctx.sdk)
                .interceptor(CallCounter {
                    service: "dynamodb",
                    metrics: ctx.metrics,
                })
                .build();
            Ok(TableManager::new(aws_sdk_dynamodb::Client::from_conf(
                config,
            )))
        },
    )
    .await
}
