//! `s3-controller`: the ACK-compatible S3 controller process.

use ack_runtime::aws::CallCounter;
use ack_runtime::process::{self, ManagerContext};
use ack_s3::BucketManager;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    process::run(
        "s3",
        env!("CARGO_PKG_VERSION"),
        |ctx: ManagerContext| async move {
            let config = aws_sdk_s3::config::Builder::from(&ctx.sdk)
                // --aws-endpoint-use-path-style: emulators and some private endpoints serve
                // buckets under the path, not as host names.
                .force_path_style(ctx.use_path_style)
                .interceptor(CallCounter {
                    service: "s3",
                    metrics: ctx.metrics,
                })
                .build();
            Ok(BucketManager::new(aws_sdk_s3::Client::from_conf(config)))
        },
    )
    .await
}
